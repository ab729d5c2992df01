//! Upgrade lines on a paid session (the eManage contract §7): same-session steps through `add`,
//! offline upgrades in a new session, client-created (`new` with `upgradeParentSessionId`) or
//! server-created (`add` on a session paid offline).

use chrono::Duration;
use rust_decimal::Decimal;
use serde_json::json;

use super::{
    cart::{session_mut, sid_reply, LineInput},
    field_error, message, ok, Req, Res, Response,
};
use crate::emanage::{
    input::{guid, Check, Obj},
    names::{
        CALL_BACK_URL, SESSION_ID, UPGRADE_PARENT_SESSION_ID, UPGRADE_PREVIEW_PRODUCT_ID,
        UPGRADE_PREVIEW_QUANTITY,
    },
    session::{Line, Pending, Session, SessionStatus},
    settings::OfflineUpgradeCreation,
    state::{Inner, Tracked},
    upgrade::{self, TargetError},
};

/// The upgrade fields of §7.1 (top level of `add`, and of `new` for the client-created offline
/// form, §7.2 rule 7).
#[derive(Clone, Debug, Default)]
pub(super) struct UpgradeInput {
    preview_product: Option<i64>,
    preview_quantity: Option<i64>,
    parent: Option<String>,
}

impl UpgradeInput {
    /// Whether the body carries an upgrade step (the parent alone does not make one in `add`).
    pub(super) fn is_step(&self) -> bool {
        self.preview_product.is_some() || self.preview_quantity.is_some()
    }

    /// Whether any upgrade field is set (in `new`, the parent alone asks for an offline upgrade).
    pub(super) fn any(&self) -> bool {
        self.preview_product.is_some() || self.preview_quantity.is_some() || self.parent.is_some()
    }
}

/// Reads the upgrade fields of a body.
pub(super) fn read_upgrade(c: &mut Check, o: &Obj) -> UpgradeInput {
    let u = UpgradeInput {
        preview_product: c.int(o, UPGRADE_PREVIEW_PRODUCT_ID, ""),
        preview_quantity: c.int(o, UPGRADE_PREVIEW_QUANTITY, ""),
        parent: c.str(o, UPGRADE_PARENT_SESSION_ID, "").filter(|s| !s.trim().is_empty()),
    };
    // A range rule any binder checks before looking at state (§7.2 rule 2).
    if u.preview_quantity.is_some_and(|q| q < 1) {
        c.err(UPGRADE_PREVIEW_QUANTITY, "The upgradePreviewQuantity must be at least 1.");
    }
    u
}

/// The client-created offline upgrade: `new` naming a parent session paid offline (§7.2
/// rule 7, §9.4 step 2a).
pub(super) fn offline_from_new(
    inner: &mut Inner,
    rq: &Req,
    line: &LineInput,
    price: Decimal,
    up: &UpgradeInput,
    test: bool,
) -> Res {
    if inner.settings.offline_upgrade_creation == OfflineUpgradeCreation::ServerCreated {
        return Err(field_error(
            UPGRADE_PARENT_SESSION_ID,
            "Offline upgrades are created by add on the paid session (simulator setting).",
        ));
    }
    // An upgrade line without a parent would upgrade the new, unpaid session itself (§7.2 rule 8).
    let Some(raw) = up.parent.as_deref() else {
        return Err(message(
            409,
            "Upgrades are only accepted on a paid session; name it in upgradeParentSessionId.",
        ));
    };
    let parent = guid(raw)
        .filter(|p| inner.sessions.get(p).is_some_and(|s| s.web_key == rq.web_key))
        .ok_or_else(|| message(404, format!("Upgrade parent session '{raw}' was not found.")))?;
    let (li, q) = prepare_upgrade(inner, &parent, line, up)?;
    if !inner.sessions.get(&parent).is_some_and(Session::paid_offline) {
        return Err(message(
            409,
            format!("Session '{parent}' was paid online; add the upgrade to it directly."),
        ));
    }
    let child = create_child(inner, rq, &parent, li, q, line, price, test, false);
    sid_reply(&child)
}

/// Validates an upgrade step against the session it upgrades: paid (409, rule 8), the preview
/// product present (404), `upgradePreviewQuantity` within the head line (400, rule 2), its
/// product different (400, simulator decision) and, with `upgrade_quantity_must_match`, the
/// line's `quantity` equal to it (400).
/// Returns the target line and the quantity.
fn prepare_upgrade(
    inner: &Inner,
    sid: &str,
    line: &LineInput,
    up: &UpgradeInput,
) -> Result<(usize, u32), Response> {
    let s = inner.sessions.get(sid).ok_or_else(|| message(404, format!("Session '{sid}' was not found.")))?;
    if s.status != SessionStatus::Paid || s.parent.is_some() {
        return Err(message(409, format!("Upgrades are only accepted on a paid session; '{sid}' is not.")));
    }
    let preview = up.preview_product.ok_or_else(|| {
        field_error(UPGRADE_PREVIEW_PRODUCT_ID, "The upgradePreviewProductId field is required.")
    })?;
    let li = upgrade::find_target(s, preview).map_err(|e| match e {
        TargetError::NotInCart => message(404, format!("Product {preview} is not in session '{sid}'.")),
        TargetError::OfflinePending => {
            message(409, format!("The upgrade of product {preview} awaits payment in its own session."))
        }
    })?;
    let held = s.lines[li].quantity;
    let q = up.preview_quantity.ok_or_else(|| {
        field_error(UPGRADE_PREVIEW_QUANTITY, "The upgradePreviewQuantity field is required.")
    })?;
    if q < 1 || q > i64::from(held) {
        return Err(field_error(
            UPGRADE_PREVIEW_QUANTITY,
            format!("The upgradePreviewQuantity must be between 1 and {held}."),
        ));
    }
    // §7.1 defines only `upgradePreviewQuantity` as how many units are upgraded; comparing the
    // line's `quantity` with it is a setting, off by default.
    if inner.settings.upgrade_quantity_must_match && i64::from(line.quantity) != q {
        return Err(field_error(
            "quantity",
            "The quantity of an upgrade line must equal upgradePreviewQuantity.",
        ));
    }
    if line.product_id == preview {
        return Err(field_error("productId", "An upgrade must change the product."));
    }
    Ok((li, q as u32))
}

/// Creates the offline-upgrade session for a step on `parent` (§7.2 rule 7, §9.4): it holds only
/// the delta line and inherits the parent's customer. Server-created: it awaits payment at
/// once, through the parent's processor; client-created: it is checked out like any cart.
#[allow(clippy::too_many_arguments)]
fn create_child(
    inner: &mut Inner,
    rq: &Req,
    parent: &str,
    li: usize,
    q: u32,
    line: &LineInput,
    price: Decimal,
    test: bool,
    server_created: bool,
) -> String {
    let policy = inner.settings.upgrade_capture_policy;
    let child_id = inner.new_guid();
    let tracking = server_created.then(|| inner.new_tracking(Tracked::Session(child_id.clone())));
    let Some(p) = inner.sessions.get_mut(parent) else {
        return child_id;
    };
    let ci = upgrade::add_step(p, li, q, (line.product_id, price), line.shipping_method_id);
    let per_unit = p.chains[ci].next_capture_per_unit(policy);
    p.chains[ci].child = Some(child_id.clone());
    p.chains[ci].child_pending = true;
    let mut child = Session::new(child_id.clone(), rq.web_key.clone(), rq.now, test || p.test);
    child.parent = Some((parent.to_string(), ci));
    child.customer = p.customer.clone();
    child.lines.push(Line {
        product_id: line.product_id,
        quantity: q,
        shipping_method_id: line.shipping_method_id,
        unit_price: price,
        chain: None,
        delta: Some(per_unit),
    });
    if let (Some(t), Some(method)) = (tracking, p.paid_with.clone()) {
        child.status = SessionStatus::AwaitingPayment;
        child.pending = Some(Pending { tracking: t, since: rq.now, method, three_ds: false });
    }
    inner.add_session(child);
    child_id
}

/// The upgrade branch of `add?sessionId=` (§7.1 "add upgrade"): a same-session step on a card-paid
/// session, charged after `upgrade_capture_delay_secs` (at once when it owes nothing); on a session paid offline, the
/// server-created upgrade session answered as `{ sessionId, upgradeParentSessionId,
/// callBackUrl }` (§9.4 step 2b).
pub(super) fn add_upgrade(
    inner: &mut Inner,
    rq: &Req,
    sid: &str,
    line: &LineInput,
    price: Decimal,
    up: &UpgradeInput,
    test: bool,
) -> Res {
    let sid = sid.to_string();
    if let Some(raw) = up.parent.as_deref() {
        // Simulator decision: in `add` the field may only repeat the session being upgraded.
        let parent = guid(raw)
            .filter(|p| inner.sessions.get(p).is_some_and(|s| s.web_key == rq.web_key))
            .ok_or_else(|| message(404, format!("Upgrade parent session '{raw}' was not found.")))?;
        if parent != sid {
            return Err(field_error(
                UPGRADE_PARENT_SESSION_ID,
                "Must be null or the session being upgraded.",
            ));
        }
    }
    let (li, q) = prepare_upgrade(inner, &sid, line, up)?;
    if inner.sessions.get(&sid).is_some_and(Session::paid_offline) {
        if inner.settings.offline_upgrade_creation == OfflineUpgradeCreation::ClientCreated {
            return Err(message(
                409,
                format!("Session '{sid}' was paid offline; create the upgrade with new and upgradeParentSessionId."),
            ));
        }
        let child = create_child(inner, rq, &sid, li, q, line, price, test, true);
        let url = inner
            .sessions
            .get(&child)
            .and_then(|s| s.pending.as_ref())
            .map(|p| inner.payment_url(&p.tracking));
        return ok(json!({SESSION_ID: child, UPGRADE_PARENT_SESSION_ID: sid, CALL_BACK_URL: url}));
    }
    let delay = Duration::seconds(
        i64::try_from(inner.settings.upgrade_capture_delay_secs).unwrap_or(i64::MAX / 1000),
    );
    let policy = inner.settings.upgrade_capture_policy;
    let s = session_mut(inner, &sid)?;
    let ci = upgrade::add_step(s, li, q, (line.product_id, price), line.shipping_method_id);
    s.chains[ci].due_at = Some(rq.now + delay);
    // Nothing to capture (a downgrade, §7.2 rule 3): nothing can fail either, so the step is
    // settled now (checklist 14: it captures 0).
    let nothing_owed = s.chains[ci].next_capture_per_unit(policy).is_zero();
    if delay.is_zero() || nothing_owed {
        inner.settle_chain(&sid, ci, rq.now);
    }
    sid_reply(&sid)
}
