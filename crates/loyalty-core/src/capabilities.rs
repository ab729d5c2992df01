//! What a provider declares it can do: plain data, serialisable, read by the checkout flow,
//! the conformance suite and the generated capability matrix.

use serde::{Deserialize, Serialize};

use crate::member::LookupKind;

/// How a provider holds an offer for a pending transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "style", rename_all = "snake_case")]
pub enum HoldStyle {
    /// A lock that lapses by itself after `default_ttl_secs` (SessionM).
    Lock {
        /// Lifetime of a lock when none is requested.
        default_ttl_secs: u64,
    },
    /// A reservation that stays until released (Diller); the flow must release it after
    /// commit or abort.
    Reserve {
        /// How long the framework treats a reservation as valid before re-checking it.
        assumed_ttl_secs: u64,
    },
}

impl HoldStyle {
    /// True when a hold stays after the transaction that claims it is sent, so the flow
    /// releases it after commit (Diller's reservations).
    pub fn release_after_commit(&self) -> bool {
        matches!(self, HoldStyle::Reserve { .. })
    }

    /// Lifetime the flow uses for expiry checks.
    pub fn ttl_secs(&self) -> u64 {
        match self {
            HoldStyle::Lock { default_ttl_secs } => *default_ttl_secs,
            HoldStyle::Reserve { assumed_ttl_secs } => *assumed_ttl_secs,
        }
    }
}

/// When an open hold starts counting toward a coupon's use limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UsageCounting {
    /// A hold already blocks the use (a held single-use coupon shows no uses left).
    AtHold,
    /// Only the committed transaction counts.
    AtCommit,
}

/// How an offer used in a returned transaction comes back to the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Reinstatement {
    /// Automatically, when the transaction is cancelled.
    OnCancel,
    /// Through an explicit `Redemptions::reinstate` call.
    Explicit,
}

/// What a second `Transactions::send` with an id already sent does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Resend {
    /// Nothing: the vendor recognises the id and the send reports
    /// [`SendOutcome::AlreadyRecorded`](crate::SendOutcome::AlreadyRecorded) (Diller).
    Deduplicated,
    /// The vendor replaces the stored transaction with the new one, newest wins, and the send
    /// reports [`SendOutcome::Replaced`](crate::SendOutcome::Replaced), or
    /// [`SendOutcome::Stored`](crate::SendOutcome::Stored) when the vendor's reply does not tell
    /// a first version from a replacement (SessionM).
    Upsert,
    /// The vendor does not say: a second send may record the sale twice, so the checkout never
    /// sends again without reconciling first.
    Unrecognised,
}

/// How a provider takes a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReturnStyle {
    /// Cancel the original and send what was kept as a new transaction (Diller).
    CancelAndResend,
    /// Send a transaction with negative lines (no original id known).
    NegativeTransaction,
    /// Call the provider's partial refund.
    PartialRefund,
    /// Re-send the original transaction id without the returned lines (SessionM).
    ResendWithoutLines,
}

impl ReturnStyle {
    /// Every style.
    pub const ALL: [ReturnStyle; 4] = [
        ReturnStyle::CancelAndResend,
        ReturnStyle::NegativeTransaction,
        ReturnStyle::PartialRefund,
        ReturnStyle::ResendWithoutLines,
    ];

    /// The style as capabilities name it (`"cancel_and_resend"`).
    pub fn label(&self) -> &'static str {
        match self {
            ReturnStyle::CancelAndResend => "cancel_and_resend",
            ReturnStyle::NegativeTransaction => "negative_transaction",
            ReturnStyle::PartialRefund => "partial_refund",
            ReturnStyle::ResendWithoutLines => "resend_without_lines",
        }
    }
}

/// A provider's declared capabilities. Flat on purpose: every field is one fact a scenario or
/// the checkout flow can test.
///
/// Shop code asks before it offers a feature; the `Checked` wrapper refuses an undeclared
/// call with `Unsupported` before any I/O, and the conformance suite fails a claim no
/// scenario backs.
///
/// ```
/// use loyalty_core::{Capabilities, HoldStyle, LookupKind, ReturnStyle};
///
/// let mut caps = Capabilities::none();
/// caps.lookups = vec![LookupKind::Phone, LookupKind::Email];
/// caps.hold = Some(HoldStyle::Reserve { assumed_ttl_secs: 3600 });
/// caps.return_styles = vec![ReturnStyle::CancelAndResend];
///
/// assert!(caps.supports_lookup(LookupKind::Phone));
/// assert!(!caps.supports_lookup(LookupKind::NationalId));
/// assert!(caps.hold.is_some_and(|h| h.release_after_commit()), "reservations outlive the sale until released");
/// assert!(caps.claims().contains("lookups.email"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// The doc comment's example is Rust; the API document gets prose only.
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "A provider's declared capabilities. Flat on purpose: every field is one fact a scenario \
        or the checkout flow can test. Shop code asks before it offers a feature; an undeclared \
        call is refused as `unsupported` before any I/O."
    )
)]
#[non_exhaustive]
pub struct Capabilities {
    /// Member lookups supported by `Members::find`.
    pub lookups: Vec<LookupKind>,
    /// `Members::get`.
    pub get_member: bool,
    /// `Members::register` (profile and consents supplied).
    pub register: bool,
    /// `Members::enroll` (phone-first, activation by message).
    pub enroll: bool,
    /// `Members::update`.
    pub update_member: bool,
    /// `Members::segments`.
    pub segments: bool,
    /// `Offers::list`.
    pub list_offers: bool,
    /// `Offers::list` evaluates offers against a basket.
    pub offers_with_basket: bool,
    /// `Offers::validate`.
    pub validate_offer: bool,
    /// `Offers::list` without a member (campaign offers that apply to guests too).
    pub guest_offers: bool,
    /// Offers the vendor prices itself ([`OfferKind::VendorPriced`](crate::OfferKind)): its
    /// computed discount is taken as given.
    pub vendor_pricing: bool,
    /// `Holds::hold` / `Holds::release` and their style.
    pub hold: Option<HoldStyle>,
    /// When a hold counts toward the use limit.
    pub usage_counting: UsageCounting,
    /// `Redemptions::redeem`.
    pub redeem: bool,
    /// How a used offer comes back on a return; empty when it never does.
    pub reinstate: Vec<Reinstatement>,
    /// Stamp cards are listed and moved by transactions.
    pub stamp_cards: bool,
    /// Members have a points balance.
    pub points: bool,
    /// `Transactions::send`.
    pub send_transaction: bool,
    /// What a second send of the same transaction id does.
    pub resend: Resend,
    /// `Transactions::send` refuses a sale without a member (IdoSell: the sale is an order
    /// shipped to the member's address), so a checkout refuses a guest before any charge.
    pub send_needs_member: bool,
    /// Points earned by a sent transaction show on the member at once (else the vendor
    /// computes them later).
    pub points_at_send: bool,
    /// `Transactions::cancel`.
    pub cancel_transaction: bool,
    /// Cancelling an already cancelled transaction is refused with `Conflict` (else it is a
    /// no-op).
    pub second_cancel_refused: bool,
    /// Return styles, most preferred first.
    pub return_styles: Vec<ReturnStyle>,
    /// `Carts` (create, lines, checkout).
    pub carts: bool,
    /// `Carts::upgrade` (upsell upgrades of a paid cart, charged on its payment).
    pub cart_upgrades: bool,
    /// `Carts::upgrade` of a cart paid through a redirect or offline payment: the difference
    /// is paid in a new cart naming the paid one (eManage's `upgradeParentSessionId`).
    pub offline_upgrades: bool,
    /// `Fulfilment` (stock, couriers, dropship orders, status, shipment notices).
    pub dropshipping: bool,
}

impl Capabilities {
    /// Nothing declared; adapters switch on what they implement.
    pub fn none() -> Capabilities {
        Capabilities {
            lookups: Vec::new(),
            get_member: false,
            register: false,
            enroll: false,
            update_member: false,
            segments: false,
            list_offers: false,
            offers_with_basket: false,
            validate_offer: false,
            guest_offers: false,
            vendor_pricing: false,
            hold: None,
            usage_counting: UsageCounting::AtCommit,
            redeem: false,
            reinstate: Vec::new(),
            stamp_cards: false,
            points: false,
            send_transaction: false,
            resend: Resend::Unrecognised,
            send_needs_member: false,
            points_at_send: false,
            cancel_transaction: false,
            second_cancel_refused: false,
            return_styles: Vec::new(),
            carts: false,
            cart_upgrades: false,
            offline_upgrades: false,
            dropshipping: false,
        }
    }

    /// True when `Members::find` accepts `kind`.
    pub fn supports_lookup(&self, kind: LookupKind) -> bool {
        self.lookups.contains(&kind)
    }

    /// Whether offers are listed for this customer: a member's wherever offers are listed, a
    /// guest's only where the provider lists offers for guests (`guest_offers`).
    pub fn lists_offers_for(&self, member_known: bool) -> bool {
        self.list_offers && (member_known || self.guest_offers)
    }

    /// True when any member operation is declared.
    pub fn members(&self) -> bool {
        !self.lookups.is_empty()
            || self.get_member
            || self.register
            || self.enroll
            || self.update_member
            || self.segments
    }

    /// True when any offer operation is declared.
    pub fn offers(&self) -> bool {
        self.list_offers || self.validate_offer
    }

    /// True when any transaction operation is declared.
    pub fn transactions(&self) -> bool {
        self.send_transaction || self.cancel_transaction || !self.return_styles.is_empty()
    }

    /// True when used offers come back `how`.
    pub fn reinstates(&self, how: Reinstatement) -> bool {
        self.reinstate.contains(&how)
    }

    /// True when returns can use `style`.
    pub fn supports_return(&self, style: ReturnStyle) -> bool {
        self.return_styles.contains(&style)
    }

    /// Every fact this declaration states, as dotted labels derived from the serialised form,
    /// so a new field is a new label with no list to keep: a true flag is its name
    /// (`"redeem"`), a list item or an enum value is `name.value` (`"lookups.phone"`,
    /// `"reinstate.explicit"`), a set option is its name plus its style (`"hold"`,
    /// `"hold.lock"`). Numbers inside a value (a lock's lifetime) are not facts of their own.
    ///
    /// ```
    /// use loyalty_core::{Capabilities, HoldStyle};
    ///
    /// let mut c = Capabilities::none();
    /// c.hold = Some(HoldStyle::Lock { default_ttl_secs: 900 });
    /// assert!(c.labels().contains("hold.lock"));
    /// assert!(c.claims().contains("hold"));
    /// // What declaring nothing also says is a label but not a claim.
    /// assert!(c.labels().contains("resend.unrecognised") && !c.claims().contains("resend.unrecognised"));
    /// ```
    pub fn labels(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(self) else { return out };
        for (name, value) in fields {
            label_value(&name, &value, &mut out);
        }
        out
    }

    /// The labels that say more than [`Capabilities::none`]: what a provider claims it can do.
    /// The conformance suite requires a passing scenario for each.
    pub fn claims(&self) -> std::collections::BTreeSet<String> {
        let baseline = Capabilities::none().labels();
        self.labels().into_iter().filter(|l| !baseline.contains(l)).collect()
    }
}

fn label_value(name: &str, value: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
    use serde_json::Value;
    match value {
        Value::Bool(true) => {
            out.insert(name.to_string());
        }
        Value::String(s) => {
            out.insert(format!("{name}.{s}"));
        }
        Value::Array(items) => {
            for item in items {
                label_value(name, item, out);
            }
        }
        Value::Object(map) => {
            out.insert(name.to_string());
            if let Some(Value::String(style)) = map.get("style") {
                out.insert(format!("{name}.{style}"));
            }
        }
        Value::Bool(false) | Value::Null | Value::Number(_) => {}
    }
}
