//! Returns in the provider's style, refunding the frozen nets of the returned units.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::basket::LineDiscount;
use crate::capabilities::{Capabilities, Reinstatement, ReturnStyle};
use crate::checkout::{share, Authorization};
use crate::error::{Error, Result};
use crate::ids::{LineId, OfferId, TransactionId};
use crate::money::Money;
use crate::offer::OfferKind;
use crate::provider::{Context, Provider, Transactions};
use crate::transaction::{
    Redemption, Refund, ReturnRequest, StampAction, StampMovement, Transaction, TransactionLine, UsedOffer,
};

const FLOW: &str = "returns";

/// What has been returned of one committed transaction so far; the checkout store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReturnLedger {
    /// The transaction as committed (frozen allocation).
    pub original: Transaction,
    /// The live version at the provider (the remainder sent by `CancelAndResend`, the
    /// transaction resent by `ResendWithoutLines`).
    pub current: Transaction,
    /// Quantity returned per line.
    pub returned: BTreeMap<LineId, Decimal>,
    /// Total refunded so far.
    pub refunded: Money,
    /// Returns processed, by return id (a repeated return id is answered from here).
    pub processed: BTreeMap<TransactionId, ReturnOutcome>,
    /// The sale's payment authorization, refunds are paid against it.
    pub authorization: Option<Authorization>,
    /// Returns whose money went back to the customer.
    pub refunds_paid: BTreeSet<TransactionId>,
    /// Refunds the payment service refused for good, by return id, with what it said: the
    /// background work no longer pays them (each is owed until a person settles it; asking for
    /// that return again under its id tries once more). Ledgers written before it was kept
    /// have none.
    #[serde(default)]
    pub refunds_refused: BTreeMap<TransactionId, String>,
    /// A return started and not finished (no other may start meanwhile).
    pub in_progress: Option<TransactionId>,
    /// The return under way (`in_progress`) as it was asked, under its lease, so the checkout's
    /// background work can finish it when the instance that started it stops.
    #[serde(default)]
    pub under_way: Option<ReturnUnderWay>,
    /// False when the provider never got the sale (refused, or no transactions): returns
    /// then only refund, nothing is sent.
    pub delivered: bool,
    /// The fingerprint of each processed return's request (its lines and quantities), by
    /// return id: a used return id asked again for other goods is a `Conflict`, not answered
    /// with the first return's outcome. Ledgers written before it was kept have none.
    #[serde(default)]
    pub requests: BTreeMap<TransactionId, String>,
    /// The live version (`current`) was cancelled at the provider by the return under way,
    /// which stopped before sending what is kept: a retry of that return sends it without
    /// cancelling twice.
    #[serde(default)]
    pub current_cancelled: bool,
}

/// A return started and not finished: as it was asked, in which style, and until when the
/// instance working on it owns it (a lease; after it, another request or the background work
/// takes it over).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReturnUnderWay {
    /// The return as it was asked.
    pub request: ReturnRequest,
    /// The style it was asked in (`None`: the provider's own).
    pub style: Option<ReturnStyle>,
    /// The end of the lease.
    pub until: chrono::DateTime<chrono::Utc>,
}

impl ReturnUnderWay {
    /// `request` in `style`, owned until `until`.
    pub fn new(
        request: ReturnRequest,
        style: Option<ReturnStyle>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> ReturnUnderWay {
        ReturnUnderWay { request, style, until }
    }
}

impl ReturnLedger {
    /// A ledger for a freshly committed transaction the provider has.
    pub fn new(original: Transaction) -> ReturnLedger {
        ReturnLedger {
            current: original.clone(),
            refunded: Money::zero(original.currency),
            original,
            returned: BTreeMap::new(),
            processed: BTreeMap::new(),
            authorization: None,
            refunds_paid: BTreeSet::new(),
            refunds_refused: BTreeMap::new(),
            in_progress: None,
            under_way: None,
            delivered: true,
            current_cancelled: false,
            requests: BTreeMap::new(),
        }
    }

    fn returned_of(&self, line: &LineId) -> Decimal {
        self.returned.get(line).copied().unwrap_or_default()
    }

    /// The live version is cancelled while goods are still kept: the vendor has neither the
    /// sale nor its remainder until the return under way sends what is kept.
    pub(crate) fn left_half_way(&self) -> bool {
        self.current_cancelled
            && self.original.lines.iter().any(|l| self.returned_of(&l.line_id) < l.quantity)
    }
}

/// The fingerprint of what `request` returns: its quantities summed per line, so the same
/// goods listed in another order or split over two entries are the same request.
///
/// # Errors
/// `Invalid` naming the quantity whose sum does not fit a decimal (no line holds that much).
pub(crate) fn request_fingerprint(request: &ReturnRequest) -> Result<String> {
    let mut lines: BTreeMap<&LineId, Decimal> = BTreeMap::new();
    for (i, l) in request.lines.iter().enumerate() {
        let sum = lines.entry(&l.line_id).or_default();
        *sum = sum.checked_add(l.quantity).ok_or_else(|| too_much(i, l.quantity))?;
    }
    let lines: Vec<(&LineId, String)> =
        lines.into_iter().map(|(id, q)| (id, q.normalize().to_string())).collect();
    Ok(crate::checkout::fingerprint(&lines))
}

/// `Invalid` for the quantity of `lines[i]`, too large for any line.
fn too_much(i: usize, quantity: Decimal) -> Error {
    Error::invalid(
        FLOW,
        "transactions.return",
        format!("lines[{i}].quantity"),
        format!("{quantity} is more than any line holds"),
    )
}

/// The fingerprint of the goods a return without a receipt lists (each line as given, its
/// decimals by value: `2.0` is `2`), so a retry of the same return is told from a return id
/// used again for other goods. The time and the reason do not count: a retry may be
/// written anew.
pub(crate) fn unreceipted_fingerprint(request: &ReturnRequest) -> String {
    let lines: Vec<TransactionLine> = request
        .lines_without_receipt
        .iter()
        .map(|l| {
            let mut l = l.clone();
            l.quantity = l.quantity.normalize();
            l.tax_rate = l.tax_rate.map(|r| r.normalize());
            l
        })
        .collect();
    crate::checkout::fingerprint(&lines)
}

/// A return without a receipt as the checkout store keeps it under its return id: the goods it
/// was asked for, and its outcome once done. A retry of the same goods is answered from here
/// (nothing is sent twice); the same id asked for other goods is a `Conflict`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReturnWithoutReceipt {
    /// The return id.
    pub return_id: TransactionId,
    /// The fingerprint of the goods the id was used for; `None` when the last attempt was
    /// refused before anything reached the provider (the id is free for any goods then).
    pub goods: Option<String>,
    /// The outcome, once the provider has the return.
    pub outcome: Option<ReturnOutcome>,
    /// The end of the lease of the attempt under way (no other attempt starts before it ends,
    /// unless it is past); `None` when no attempt is under way.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

impl ReturnWithoutReceipt {
    /// An attempt of return `return_id` for the goods fingerprinted `goods`, under way until
    /// `until`.
    pub fn under_way(
        return_id: TransactionId,
        goods: String,
        until: chrono::DateTime<chrono::Utc>,
    ) -> ReturnWithoutReceipt {
        ReturnWithoutReceipt { return_id, goods: Some(goods), outcome: None, until: Some(until) }
    }
}

/// `Conflict` when `request` reuses the id of a return of this ledger (processed, or the one
/// under way) for other goods: answering it with that return's outcome would leave its goods
/// neither returned nor refunded.
pub(crate) fn check_same_request(ledger: &ReturnLedger, request: &ReturnRequest) -> Result<()> {
    let id = &request.return_id;
    let asked = request_fingerprint(request)?;
    let known = match ledger.processed.contains_key(id) {
        true => ledger.requests.get(id).cloned(),
        false => ledger
            .under_way
            .as_ref()
            .filter(|u| ledger.in_progress.as_ref() == Some(id) && &u.request.return_id == id)
            .and_then(|u| request_fingerprint(&u.request).ok()),
    };
    match known {
        Some(first) if first != asked => {
            Err(Error::new(crate::error::ErrorKind::Conflict, FLOW, "transactions.return").with_message(
                format!(
                    "return {id} of order {} was asked for other goods; other goods need a return id \
                     of their own",
                    ledger.original.id
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// Checks goods returned without a receipt before anything is sent: each a positive quantity
/// with `0 <= net <= gross`, all in one currency. A negative line would be negated into a sale
/// and a negative refund.
fn check_unreceipted(lines: &[TransactionLine], op: &str) -> Result<()> {
    let Some(first) = lines.first() else {
        return Err(Error::invalid(
            FLOW,
            op,
            "lines_without_receipt",
            "a return without a receipt must list its goods",
        ));
    };
    let cur = first.net.currency;
    for (i, l) in lines.iter().enumerate() {
        let field = |f: &str| format!("lines_without_receipt[{i}].{f}");
        if l.quantity <= Decimal::ZERO {
            return Err(Error::invalid(
                FLOW,
                op,
                field("quantity"),
                format!("{} is not a quantity to return: it must be more than 0", l.quantity),
            ));
        }
        for (name, m) in
            [("net", l.net), ("gross", l.gross), ("discount", l.discount), ("unit_price", l.unit_price)]
        {
            if m.currency != cur {
                return Err(Error::invalid(
                    FLOW,
                    op,
                    field(name),
                    format!("{} is not {}: a return is in one currency", m.currency.code(), cur.code()),
                ));
            }
        }
        if l.net.is_negative() {
            return Err(Error::invalid(FLOW, op, field("net"), "the amount refunded cannot be negative"));
        }
        if l.net.minor > l.gross.minor {
            return Err(Error::invalid(
                FLOW,
                op,
                field("net"),
                "the amount refunded cannot be more than the gross",
            ));
        }
    }
    Ok(())
}

/// The result of one return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct ReturnOutcome {
    /// The style used; `None` when nothing went to the provider (it never had the sale).
    pub style: Option<ReturnStyle>,
    /// Amount refunded by this return.
    pub refunded: Money,
    /// A transaction the return sent (the remainder, or the negative transaction).
    pub new_transaction: Option<TransactionId>,
    /// Offers the provider gave back to the member by this return: by the cancel itself where
    /// it reinstates on cancel, or by explicit reinstate calls.
    pub reinstated: Vec<OfferId>,
    /// Stamps the returned units had earned. `CancelAndResend`, `NegativeTransaction` and
    /// `ResendWithoutLines` take them back at the provider; with `PartialRefund` it depends on
    /// the provider (Diller's refund leaves stamps alone, diller.md §4.5).
    pub stamps_taken_back: u32,
}

/// The part of `line` still kept after `returned` of its units went back.
fn remaining_line(line: &TransactionLine, returned: Decimal) -> TransactionLine {
    let q = line.quantity;
    let keep = |m: Money| Money::new(m.minor - share(m.minor, returned, q), m.currency);
    let mut l = line.clone();
    l.quantity = q - returned;
    l.gross = keep(line.gross);
    // The net kept is the net's own share, so it only falls as units go back: each step
    // refunds what it returned, never a negative amount, and the steps add up to the net paid
    // (shares of gross and of each discount, rounded apart, could cross over by a minor unit).
    let net = keep(line.net).minor.clamp(0, l.gross.minor);
    let discount = l.gross.minor - net;
    let mut discounts: Vec<LineDiscount> = line
        .discounts
        .iter()
        .map(|d| LineDiscount { offer_id: d.offer_id.clone(), amount: keep(d.amount) })
        .collect();
    // The offers' amounts follow that discount, the rounding difference on the largest ones.
    let mut diff = discount - discounts.iter().map(|d| d.amount.minor).sum::<i64>();
    let mut order: Vec<usize> = (0..discounts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(line.discounts[i].amount.minor));
    for i in order {
        if diff == 0 {
            break;
        }
        let d = &mut discounts[i];
        let room = line.discounts[i].amount.minor - d.amount.minor;
        let step = if diff > 0 { diff.min(room.max(0)) } else { diff.max(-d.amount.minor) };
        d.amount = Money::new(d.amount.minor + step, d.amount.currency);
        diff -= step;
    }
    l.discounts = discounts.into_iter().filter(|d| !d.amount.is_zero()).collect();
    l.discount = Money::new(discount, line.gross.currency);
    l.net = Money::new(net, line.gross.currency);
    l.stamps = line
        .stamps
        .iter()
        .map(|(o, n)| (o.clone(), (i64::from(*n) - share(i64::from(*n), returned, q)).max(0) as u32))
        .filter(|(_, n)| *n > 0)
        .collect();
    l
}

/// Builds a transaction of `lines` carrying the offers and stamps they used.
fn transaction_of(
    original: &Transaction,
    id: TransactionId,
    lines: Vec<TransactionLine>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Transaction> {
    let cur = original.currency;
    let sum = |f: fn(&TransactionLine) -> Money| {
        Money::sum(cur, lines.iter().map(f))
            .map_err(|e| Error::from_money(FLOW, "returns.process", "lines", e))
    };
    let total_gross = sum(|l| l.gross)?;
    let total_discount = sum(|l| l.discount)?;
    let total = sum(|l| l.net)?;
    let mut offers_used: Vec<UsedOffer> = Vec::new();
    for d in lines.iter().flat_map(|l| &l.discounts) {
        match offers_used.iter_mut().find(|u| u.offer_id == d.offer_id) {
            Some(u) => u.amount = Money::new(u.amount.minor + d.amount.minor, cur),
            None => {
                if let Some(orig) = original.offers_used.iter().find(|u| u.offer_id == d.offer_id) {
                    offers_used.push(UsedOffer { amount: d.amount, ..orig.clone() });
                }
            }
        }
    }
    let mut stamps: Vec<StampMovement> = Vec::new();
    for (offer, n) in lines.iter().flat_map(|l| &l.stamps) {
        if let Some(orig) =
            original.stamps.iter().find(|s| &s.offer_id == offer && s.action == StampAction::Collected)
        {
            match stamps.iter_mut().find(|s| &s.offer_id == offer) {
                Some(s) => s.count += n,
                None => stamps.push(StampMovement { count: *n, ..orig.clone() }),
            }
        }
    }
    // A stamp reward stays spent while the free unit is kept.
    for m in original.stamps.iter().filter(|s| s.action == StampAction::Deducted) {
        if lines.iter().any(|l| l.discounts.iter().any(|d| d.offer_id == m.offer_id)) {
            stamps.push(m.clone());
        }
    }
    let mut tx = original.clone();
    tx.id = id;
    tx.at = at;
    tx.lines = lines;
    tx.offers_used = offers_used;
    tx.stamps = stamps;
    tx.total_gross = total_gross;
    tx.total_discount = total_discount;
    tx.total = total;
    // A later version of the sale is paid as the sale was (SessionM resends the original with
    // only its items and time changed, §7.7): its tenders, scaled to what is kept.
    tx.payments = scaled_payments(&original.payments, total);
    // The holds were claimed by the original sale; a later version claims nothing anew.
    tx.holds = Vec::new();
    Ok(tx)
}

/// `payments` scaled to `total`, split by largest remainder so the parts sum to it exactly.
fn scaled_payments(
    payments: &[crate::transaction::Payment],
    total: Money,
) -> Vec<crate::transaction::Payment> {
    let weights: Vec<i64> = payments.iter().map(|p| p.amount.minor.max(0)).collect();
    if weights.iter().all(|w| *w == 0) {
        return payments
            .first()
            .map(|p| vec![crate::transaction::Payment { method: p.method.clone(), amount: total }])
            .unwrap_or_default();
    }
    payments
        .iter()
        .zip(crate::pricing::allocate(total.minor, &weights))
        .map(|(p, minor)| crate::transaction::Payment {
            method: p.method.clone(),
            amount: Money::new(minor, total.currency),
        })
        .collect()
}

fn choose(provider: &dyn Provider, has_original: bool, forced: Option<ReturnStyle>) -> Result<ReturnStyle> {
    choose_avoiding(provider, has_original, forced, None)
}

/// As [`choose`]; with no style forced, `avoid` is passed over for the next declared style
/// that fits, when there is one.
fn choose_avoiding(
    provider: &dyn Provider,
    has_original: bool,
    forced: Option<ReturnStyle>,
    avoid: Option<ReturnStyle>,
) -> Result<ReturnStyle> {
    let caps = provider.capabilities();
    let usable = |s: &ReturnStyle| has_original || *s == ReturnStyle::NegativeTransaction;
    match forced {
        Some(s) if caps.supports_return(s) && usable(&s) => Ok(s),
        Some(s) => Err(Error::unsupported(provider.name(), "transactions.return")
            .with_message(format!("return style {s:?} is not declared or needs the original"))),
        None => {
            let mut fitting = caps.return_styles.iter().copied().filter(usable);
            let first = fitting.next().ok_or_else(|| {
                Error::unsupported(provider.name(), "transactions.return")
                    .with_message("no return style fits this return")
            })?;
            Ok(if Some(first) == avoid { fitting.next().unwrap_or(first) } else { first })
        }
    }
}

/// Processes a return through `provider`.
///
/// With a ledger (the original is known): refunds the frozen nets of the returned units and
/// takes back the stamps they earned, in the chosen style. Without one: sends the
/// integrator's unreceipted lines as a negative transaction.
///
/// # Errors
/// `Invalid` for an unknown line, a quantity beyond what is left, or an unreceipted line
/// that is not a positive quantity with `0 <= net <= gross` in the return's one currency
/// (naming the field, such as `lines_without_receipt[0].quantity`); `Conflict` for a used
/// return id asked for other goods; `Unsupported` when no declared style fits (never for a
/// sale the provider did not get, which is only refunded); provider errors. The ledger takes
/// the return only on success; a cancel done before a later step failed is recorded in it
/// ([`ReturnLedger::current_cancelled`]) so the retry does not cancel twice.
pub async fn process(
    provider: &dyn Provider,
    ctx: &Context,
    ledger: Option<&mut ReturnLedger>,
    request: &ReturnRequest,
    style: Option<ReturnStyle>,
) -> Result<ReturnOutcome> {
    process_resumed(provider, ctx, ledger, request, style, false).await
}

/// The returned quantity of each line once `request` is taken, checked against what is left
/// of the original: `Invalid` naming the line for an unknown line, a quantity of 0 or less, or
/// more than is left.
fn returned_after(
    ledger: &ReturnLedger,
    request: &ReturnRequest,
    op: &str,
) -> Result<BTreeMap<LineId, Decimal>> {
    if request.lines.is_empty() {
        return Err(Error::invalid(FLOW, op, "lines", "a return must name at least one line"));
    }
    let mut after = ledger.returned.clone();
    for (i, r) in request.lines.iter().enumerate() {
        let line = ledger.original.lines.iter().find(|l| l.line_id == r.line_id).ok_or_else(|| {
            Error::invalid(
                FLOW,
                op,
                format!("lines[{i}].line_id"),
                format!("{} is not in the original", r.line_id),
            )
        })?;
        if r.quantity <= Decimal::ZERO {
            return Err(Error::invalid(
                FLOW,
                op,
                format!("lines[{i}].quantity"),
                format!("{} is not a quantity to return: it must be more than 0", r.quantity),
            ));
        }
        // A quantity above the line's is refused before it is added (it could overflow).
        let total = Some(r.quantity)
            .filter(|q| *q <= line.quantity)
            .and_then(|q| after.get(&r.line_id).copied().unwrap_or_default().checked_add(q));
        let Some(total) = total.filter(|t| *t <= line.quantity) else {
            return Err(Error::invalid(
                FLOW,
                op,
                format!("lines[{i}].quantity"),
                format!(
                    "{} left to return of line {}",
                    line.quantity - ledger.returned_of(&r.line_id),
                    r.line_id
                ),
            ));
        };
        after.insert(r.line_id.clone(), total);
    }
    Ok(after)
}

/// Everything [`process`] refuses before it reaches the provider (the request's own faults,
/// no usable style), checked without acting: a return refused here changes nothing, so the
/// checkout reserves a return id only for a request that passes.
///
/// # Errors
/// As [`process`], for those refusals.
pub(crate) fn check_request(
    provider: &dyn Provider,
    ledger: Option<&ReturnLedger>,
    request: &ReturnRequest,
    style: Option<ReturnStyle>,
) -> Result<()> {
    let op = "transactions.return";
    let transactions =
        || provider.transactions().map(|_| ()).ok_or_else(|| Error::unsupported(provider.name(), op));
    let Some(ledger) = ledger else {
        check_unreceipted(&request.lines_without_receipt, op)?;
        transactions()?;
        return choose(provider, false, style).map(|_| ());
    };
    check_same_request(ledger, request)?;
    if ledger.processed.contains_key(&request.return_id) {
        return Ok(());
    }
    if ledger.delivered {
        transactions()?;
        choose(provider, true, style)?;
    }
    returned_after(ledger, request, op).map(|_| ())
}

/// The style a return of `ledger`'s order runs in: `None` for a sale the provider never got
/// (refunded only); else `style` when forced, or the provider's first declared style that fits.
/// A cancel then a resend of the kept goods collects their stamps again, and the cancel cannot
/// take back stamps a card has spent since (it completed and restarted), so the member would
/// gain them: a style that touches only the returned goods is preferred then. Judged before
/// anything acts; the checkout records the answer with the return under way, so every attempt
/// of the return runs in the same style.
///
/// # Errors
/// As [`process`] for its refusals; the provider's error when its cards cannot be read.
pub(crate) async fn chosen_style(
    provider: &dyn Provider,
    ctx: &Context,
    ledger: &ReturnLedger,
    request: &ReturnRequest,
    style: Option<ReturnStyle>,
    resumed: bool,
) -> Result<Option<ReturnStyle>> {
    if !ledger.delivered {
        return Ok(None);
    }
    let after = returned_after(ledger, request, "transactions.return")?;
    let recollects = ledger.original.lines.iter().any(|line| {
        let now = remaining_line(line, after.get(&line.line_id).copied().unwrap_or_default());
        !now.quantity.is_zero() && now.stamps.iter().any(|(_, n)| *n > 0)
    });
    let cancels_first = style.is_none()
        && !resumed
        && !ledger.current_cancelled
        && provider.capabilities().return_styles.first() == Some(&ReturnStyle::CancelAndResend);
    let avoid = if recollects && cancels_first && cancel_leaves_stamps(provider, ctx, ledger).await? {
        Some(ReturnStyle::CancelAndResend)
    } else {
        None
    };
    choose_avoiding(provider, true, style, avoid).map(Some)
}

/// True when cancelling the live version could not take back every stamp it collected: a card
/// holds fewer stamps now than that version collected on it, or is gone (it completed since).
/// Without a way to look, the answer is yes.
async fn cancel_leaves_stamps(provider: &dyn Provider, ctx: &Context, ledger: &ReturnLedger) -> Result<bool> {
    let collected: Vec<&StampMovement> =
        ledger.current.stamps.iter().filter(|s| s.action == StampAction::Collected).collect();
    if collected.is_empty() {
        return Ok(false);
    }
    let member = ledger.original.member.as_ref();
    let (Some(offers), Some(member)) =
        (provider.offers().filter(|_| provider.capabilities().list_offers), member)
    else {
        return Ok(true);
    };
    let listed = offers.list(ctx, Some(member), None).await?;
    Ok(collected.iter().any(|movement| {
        let card = listed.iter().find(|o| o.id == movement.offer_id).map(|o| &o.kind);
        !matches!(card, Some(OfferKind::StampCard(c)) if c.collected >= movement.count)
    }))
}

/// Cancels the live version once. `resumed`: an earlier attempt of this return stopped at an
/// unknown step (its instance died), so a provider that refuses a second cancel may answer
/// `Conflict` because that attempt's cancel went through; that counts as cancelled.
async fn cancel_current(
    tx_api: &dyn Transactions,
    caps: &Capabilities,
    ctx: &Context,
    ledger: &mut ReturnLedger,
    reason: Option<&str>,
    resumed: bool,
) -> Result<()> {
    if ledger.current_cancelled {
        return Ok(());
    }
    // The void is the live version's next version.
    let mut void = ledger.current.clone();
    void.revision += 1;
    match tx_api.cancel(ctx, &void, reason).await {
        Ok(_) => {}
        Err(e) if resumed && caps.second_cancel_refused && *e.kind() == crate::error::ErrorKind::Conflict => {
        }
        Err(e) => return Err(e),
    }
    ledger.current_cancelled = true;
    ledger.current.revision = void.revision;
    Ok(())
}

/// [`process`], for a return an earlier attempt may have started (see [`cancel_current`]).
pub(crate) async fn process_resumed(
    provider: &dyn Provider,
    ctx: &Context,
    ledger: Option<&mut ReturnLedger>,
    request: &ReturnRequest,
    style: Option<ReturnStyle>,
    resumed: bool,
) -> Result<ReturnOutcome> {
    let op = "transactions.return";
    let transactions = || provider.transactions().ok_or_else(|| Error::unsupported(provider.name(), op));
    let Some(ledger) = ledger else {
        check_unreceipted(&request.lines_without_receipt, op)?;
        let tx_api = transactions()?;
        let style = choose(provider, false, style)?;
        let lines: Vec<TransactionLine> = request.lines_without_receipt.iter().map(negate).collect();
        let cur = lines[0].net.currency;
        let total = Money::sum(cur, lines.iter().map(|l| l.net))
            .map_err(|e| Error::from_money(FLOW, op, "lines", e))?;
        let mut tx = Transaction {
            holds: Vec::new(),
            id: request.return_id.clone(),
            at: request.at,
            member: None,
            department: ctx.department.clone(),
            currency: cur,
            total_gross: Money::sum(cur, lines.iter().map(|l| l.gross))
                .map_err(|e| Error::from_money(FLOW, op, "lines", e))?,
            total_discount: Money::sum(cur, lines.iter().map(|l| l.discount))
                .map_err(|e| Error::from_money(FLOW, op, "lines", e))?,
            total,
            lines,
            payments: Vec::new(),
            offers_used: Vec::new(),
            stamps: Vec::new(),
            revision: 0,
        };
        tx.payments.push(crate::transaction::Payment { method: "Return".into(), amount: total });
        tx_api.send(ctx, &tx).await?;
        return Ok(ReturnOutcome {
            style: Some(style),
            refunded: Money::new(-total.minor, cur),
            new_transaction: Some(tx.id),
            reinstated: Vec::new(),
            stamps_taken_back: 0,
        });
    };
    check_same_request(ledger, request)?;
    if let Some(done) = ledger.processed.get(&request.return_id) {
        return Ok(done.clone());
    }
    let fingerprint = request_fingerprint(request)?;
    // New returned quantity per line, checked against what is left.
    let after = returned_after(ledger, request, op)?;
    // A sale the provider never got has nothing there to return: only the refund is paid, so
    // no transactions API is needed for it.
    let (style, tx_api) = if ledger.delivered {
        let tx_api = transactions()?;
        (chosen_style(provider, ctx, ledger, request, style, resumed).await?, Some(tx_api))
    } else {
        (None, None)
    };
    let cur = ledger.original.currency;
    let mut refunded_lines = Vec::new();
    let mut kept = Vec::new();
    let mut refunded = 0i64;
    let mut stamps_back = 0u32;
    for line in &ledger.original.lines {
        let before = remaining_line(line, ledger.returned_of(&line.line_id));
        let now = remaining_line(line, after.get(&line.line_id).copied().unwrap_or_default());
        if before.quantity != now.quantity {
            let mut r = line.clone();
            r.quantity = before.quantity - now.quantity;
            r.gross = Money::new(before.gross.minor - now.gross.minor, cur);
            r.discount = Money::new(before.discount.minor - now.discount.minor, cur);
            r.net = Money::new(before.net.minor - now.net.minor, cur);
            r.discounts = Vec::new();
            // The returned units carry the stamps they earned, so a refund can take them back.
            r.stamps = before
                .stamps
                .iter()
                .map(|(o, n)| {
                    let left = now.stamps.iter().find(|(x, _)| x == o).map_or(0, |(_, k)| *k);
                    (o.clone(), n.saturating_sub(left))
                })
                .filter(|(_, n)| *n > 0)
                .collect();
            stamps_back += r.stamps.iter().map(|(_, n)| *n).sum::<u32>();
            refunded += r.net.minor;
            refunded_lines.push(r);
        }
        if !now.quantity.is_zero() {
            kept.push(now);
        }
    }
    let refunded = Money::new(refunded, cur);
    let member = ledger.original.member.clone();
    let caps = provider.capabilities();
    // Coupons (not stamp cards: stamps are settled by movements) a transaction claims.
    let coupons = |tx: &Transaction| -> Vec<crate::transaction::UsedOffer> {
        let cards: Vec<&OfferId> = tx.stamps.iter().map(|s| &s.offer_id).collect();
        tx.offers_used.iter().filter(|u| !cards.contains(&&u.offer_id)).cloned().collect()
    };
    let mut new_transaction = None;
    let mut reinstated = Vec::new();
    match (style, tx_api) {
        (None, _) | (_, None) => {}
        (Some(ReturnStyle::CancelAndResend), Some(tx_api)) => {
            cancel_current(tx_api, caps, ctx, ledger, request.reason.as_deref(), resumed).await?;
            let before = coupons(&ledger.current);
            let mut kept_coupons = Vec::new();
            if !kept.is_empty() {
                let mut tx = transaction_of(&ledger.original, request.return_id.clone(), kept, request.at)?;
                match tx_api.send(ctx, &tx).await {
                    Ok(_) => {}
                    // The original is cancelled already; a coupon it used that the vendor no
                    // longer takes (expired, used up since the sale) must not leave the kept
                    // goods unbooked and the refund unpaid for ever: the remainder is booked at
                    // the nets paid without claiming those coupons, which stay with the member
                    // (the outcome lists them as given back).
                    Err(e) if crate::checkout::refuses_a_claim(&e) && !coupons(&tx).is_empty() => {
                        let claimed: Vec<OfferId> = coupons(&tx).into_iter().map(|u| u.offer_id).collect();
                        tx.offers_used.retain(|u| !claimed.contains(&u.offer_id));
                        tx.holds.retain(|h| !claimed.contains(&h.offer_id));
                        tx_api.send(ctx, &tx).await?;
                    }
                    Err(e) => return Err(e),
                }
                kept_coupons = coupons(&tx).into_iter().map(|u| u.offer_id).collect();
                new_transaction = Some(tx.id.clone());
                ledger.current = tx;
                ledger.current_cancelled = false;
            }
            // The cancel gave every coupon back; the remainder claimed the kept ones again.
            if caps.reinstates(Reinstatement::OnCancel) {
                reinstated =
                    before.into_iter().map(|u| u.offer_id).filter(|o| !kept_coupons.contains(o)).collect();
            }
        }
        (Some(ReturnStyle::PartialRefund), Some(tx_api)) => {
            let refund = Refund::new(
                ledger.current.id.clone(),
                request.return_id.clone(),
                member,
                refunded_lines,
                refunded,
                request.at,
            );
            tx_api.refund(ctx, &refund).await?;
        }
        (Some(ReturnStyle::ResendWithoutLines), Some(tx_api)) => {
            let before = coupons(&ledger.current);
            let voided = kept.is_empty();
            // The amended sale becomes the live version only once the offers it gave up are
            // back with the member: a retry after a failed reinstate computes them again from
            // the version before (amending again is harmless, the same version twice).
            let mut amended = None;
            // Offers whose every discounted unit went back are due to the member again.
            let gone: Vec<crate::transaction::UsedOffer> = if voided {
                // A full return is a void of the whole transaction.
                cancel_current(tx_api, caps, ctx, ledger, request.reason.as_deref(), resumed).await?;
                if caps.reinstates(Reinstatement::OnCancel) {
                    reinstated = before.iter().map(|u| u.offer_id.clone()).collect();
                    Vec::new()
                } else {
                    before
                }
            } else {
                // The same sale, amended: its own time, and the version after the live one.
                let mut tx =
                    transaction_of(&ledger.original, ledger.current.id.clone(), kept, ledger.original.at)?;
                tx.revision = ledger.current.revision + 1;
                tx_api.amend(ctx, &tx).await?;
                // The vendor has this version now: a later amend must be newer than it, even if
                // this return stops before recording the amended sale.
                ledger.current.revision = tx.revision;
                let still: Vec<OfferId> = coupons(&tx).into_iter().map(|u| u.offer_id).collect();
                amended = Some(tx);
                before.into_iter().filter(|u| !still.contains(&u.offer_id)).collect()
            };
            if let (true, Some(red), Some(member)) =
                (caps.reinstates(Reinstatement::Explicit), provider.redemptions(), &member)
            {
                for used in gone {
                    let mut r = Redemption::new(
                        format!("{}:{}", ledger.original.id, used.offer_id),
                        used.offer_id.clone(),
                        used.offer_ref.clone(),
                        member.clone(),
                        request.at,
                    );
                    // What the hold learnt (SessionM's user offer id of an offer locked by a TTL
                    // code lives only there).
                    if let Some(data) = used.vendor_data.clone() {
                        r = r.with_vendor_data(data);
                    }
                    match red.reinstate(ctx, &r).await {
                        Ok(()) => {}
                        // After this return's own void: a provider whose void gives the offers
                        // back without declaring it (SessionM reverses the whole sale, §7.5)
                        // refuses to reinstate an offer that is no longer redeemed. It is back
                        // with the member all the same, so the return goes on.
                        // A resumed return may have given it back before it stopped.
                        Err(e) if (voided || resumed) && *e.kind() == crate::error::ErrorKind::Conflict => {}
                        Err(e) => return Err(e),
                    }
                    reinstated.push(used.offer_id);
                }
            }
            if let Some(tx) = amended {
                ledger.current = tx;
            }
        }
        (Some(ReturnStyle::NegativeTransaction), Some(tx_api)) => {
            let lines: Vec<TransactionLine> = refunded_lines.iter().map(negate).collect();
            let mut tx = transaction_of(&ledger.original, request.return_id.clone(), lines, request.at)?;
            // Money going back to the customer: a return tender, not the sale's.
            tx.payments = vec![crate::transaction::Payment { method: "Return".into(), amount: tx.total }];
            tx.offers_used.clear();
            tx.holds.clear();
            tx.stamps = stamp_reversal(&ledger.original, &refunded_lines, &after, ledger);
            let mut sent = tx_api.send(ctx, &tx).await;
            if resumed
                && !tx.stamps.is_empty()
                && matches!(&sent, Err(e) if *e.kind() == crate::error::ErrorKind::Conflict)
            {
                // An earlier attempt may have sent it without the stamps (refused then): the
                // same id under another body is that send, recognised by sending it again.
                let mut bare = tx.clone();
                bare.stamps.clear();
                let again = tx_api.send(ctx, &bare).await;
                if again.is_ok() {
                    tx = bare;
                    stamps_back = 0;
                    sent = again;
                }
            }
            match sent {
                Ok(_) => {}
                // The card has fewer stamps than the returned goods earned (it completed since):
                // the refund must not fail on them, so the return goes without taking them back.
                Err(e) if crate::checkout::refuses_a_claim(&e) && !tx.stamps.is_empty() => {
                    tx.stamps.clear();
                    tx_api.send(ctx, &tx).await?;
                    stamps_back = 0;
                }
                Err(e) => return Err(e),
            }
            new_transaction = Some(tx.id);
        }
    }
    let outcome =
        ReturnOutcome { style, refunded, new_transaction, reinstated, stamps_taken_back: stamps_back };
    ledger.returned = after;
    ledger.refunded = Money::new(ledger.refunded.minor + refunded.minor, cur);
    ledger.processed.insert(request.return_id.clone(), outcome.clone());
    ledger.requests.insert(request.return_id.clone(), fingerprint);
    Ok(outcome)
}

fn stamp_reversal(
    original: &Transaction,
    _returned: &[TransactionLine],
    after: &BTreeMap<LineId, Decimal>,
    ledger: &ReturnLedger,
) -> Vec<StampMovement> {
    let mut out: Vec<StampMovement> = Vec::new();
    for line in &original.lines {
        let before = remaining_line(line, ledger.returned_of(&line.line_id));
        let now = remaining_line(line, after.get(&line.line_id).copied().unwrap_or_default());
        for (offer, n) in &before.stamps {
            let left = now.stamps.iter().find(|(o, _)| o == offer).map(|(_, k)| *k).unwrap_or(0);
            let back = n.saturating_sub(left);
            if back == 0 {
                continue;
            }
            if let Some(orig) = original.stamps.iter().find(|s| &s.offer_id == offer) {
                match out.iter_mut().find(|s| &s.offer_id == offer) {
                    Some(s) => s.count += back,
                    None => {
                        out.push(StampMovement { action: StampAction::Deducted, count: back, ..orig.clone() })
                    }
                }
            }
        }
    }
    out
}

fn negate(line: &TransactionLine) -> TransactionLine {
    let neg = |m: Money| Money::new(-m.minor, m.currency);
    let mut l = line.clone();
    l.quantity = -line.quantity;
    l.gross = neg(line.gross);
    l.discount = neg(line.discount);
    l.net = neg(line.net);
    l.discounts = Vec::new();
    l.stamps = Vec::new();
    l
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::basket::LineDiscount;
    use crate::capabilities::Capabilities;
    use crate::error::ErrorKind;
    use crate::money::Currency;
    use crate::offer::OfferRef;
    use crate::provider::{Carts, Fulfilment, Holds, Members, Offers, Redemptions};
    use crate::transaction::{RedeemRequest, TransactionReceipt};
    use crate::{SendOutcome, TransactionLine};

    fn discounted_line(qty: i64, unit: i64, discounts: &[(&str, i64)]) -> TransactionLine {
        let nok = |m: i64| Money::new(m, Currency::NOK);
        let mut l = TransactionLine::new("1", "C", Decimal::from(qty), nok(unit), nok(qty * unit));
        l.discounts = discounts
            .iter()
            .map(|(o, m)| LineDiscount { offer_id: OfferId::new(*o), amount: nok(*m) })
            .collect();
        l.discount = nok(discounts.iter().map(|(_, m)| m).sum());
        l.net = nok(qty * unit - l.discount.minor);
        l
    }

    #[test]
    fn returning_units_one_by_one_never_refunds_a_negative_step() {
        // C x2 at 1.01: one unit free by a stamp card, the other by a 100 % coupon; nothing paid.
        // Shares of gross and of each discount, rounded apart, kept 0.01 of net after one unit.
        let line = discounted_line(2, 101, &[("stamp", 101), ("coupon", 101)]);
        let one = remaining_line(&line, Decimal::ONE);
        assert_eq!(one.net.minor, 0);
        assert_eq!(one.discount.minor, one.discounts.iter().map(|d| d.amount.minor).sum::<i64>());
        assert_eq!(remaining_line(&line, Decimal::TWO).net.minor, 0);
    }

    #[test]
    fn kept_nets_fall_step_by_step_to_zero_and_discounts_add_up() {
        let lines = [
            discounted_line(3, 3333, &[("a", 1111), ("b", 7)]),
            discounted_line(7, 101, &[("stamp", 101), ("pct", 35), ("fixed", 1)]),
            discounted_line(5, 999, &[("x", 4995)]),
            discounted_line(4, 250, &[]),
        ];
        for line in lines {
            let mut last = line.net.minor;
            let q = line.quantity.mantissa() as i64;
            for k in 0..=q {
                let kept = remaining_line(&line, Decimal::from(k));
                assert!(kept.net.minor <= last, "{line:?} step {k}: {} after {last}", kept.net.minor);
                assert!(kept.net.minor >= 0 && kept.discount.minor >= 0);
                assert_eq!(kept.gross.minor - kept.discount.minor, kept.net.minor);
                assert_eq!(kept.discount.minor, kept.discounts.iter().map(|d| d.amount.minor).sum::<i64>());
                for d in &kept.discounts {
                    let orig = line.discounts.iter().find(|o| o.offer_id == d.offer_id).unwrap();
                    assert!(d.amount.minor <= orig.amount.minor);
                }
                last = kept.net.minor;
            }
            assert_eq!(last, 0);
        }
    }

    /// A provider that returns by resending the sale without the returned lines and reinstates
    /// explicitly, whose void gives every offer of the sale back without declaring it (as
    /// SessionM's does), and whose reinstate refuses an offer that is not redeemed.
    struct VoidGivesBack {
        caps: Capabilities,
        redeemed: Mutex<BTreeSet<String>>,
        calls: Mutex<Vec<String>>,
    }

    impl VoidGivesBack {
        fn new() -> VoidGivesBack {
            let mut caps = Capabilities::none();
            caps.send_transaction = true;
            caps.cancel_transaction = true;
            caps.return_styles = vec![ReturnStyle::ResendWithoutLines];
            caps.reinstate = vec![Reinstatement::Explicit];
            VoidGivesBack {
                caps,
                redeemed: Mutex::new(["uo-1".to_string()].into_iter().collect()),
                calls: Mutex::new(Vec::new()),
            }
        }

        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl Provider for VoidGivesBack {
        fn name(&self) -> &str {
            "void-gives-back"
        }
        fn capabilities(&self) -> &Capabilities {
            &self.caps
        }
        fn members(&self) -> Option<&dyn Members> {
            None
        }
        fn offers(&self) -> Option<&dyn Offers> {
            None
        }
        fn holds(&self) -> Option<&dyn Holds> {
            None
        }
        fn redemptions(&self) -> Option<&dyn Redemptions> {
            Some(self)
        }
        fn transactions(&self) -> Option<&dyn Transactions> {
            Some(self)
        }
        fn carts(&self) -> Option<&dyn Carts> {
            None
        }
        fn fulfilment(&self) -> Option<&dyn Fulfilment> {
            None
        }
    }

    #[async_trait]
    impl Transactions for VoidGivesBack {
        async fn send(&self, _: &Context, t: &Transaction) -> Result<TransactionReceipt> {
            Ok(TransactionReceipt::new(t.id.clone(), SendOutcome::Stored))
        }
        async fn amend(&self, _: &Context, t: &Transaction) -> Result<TransactionReceipt> {
            self.calls.lock().unwrap().push(format!("amend {}", t.revision));
            Ok(TransactionReceipt::new(t.id.clone(), SendOutcome::Replaced))
        }
        async fn cancel(&self, _: &Context, t: &Transaction, _: Option<&str>) -> Result<()> {
            self.calls.lock().unwrap().push(format!("cancel {}", t.revision));
            self.redeemed.lock().unwrap().clear();
            Ok(())
        }
        async fn refund(&self, _: &Context, _: &Refund) -> Result<TransactionReceipt> {
            Err(Error::unsupported("void-gives-back", "transactions.refund"))
        }
    }

    #[async_trait]
    impl Redemptions for VoidGivesBack {
        async fn redeem(&self, _: &Context, _: &RedeemRequest) -> Result<Redemption> {
            Err(Error::unsupported("void-gives-back", "redemptions.redeem"))
        }
        async fn reinstate(&self, _: &Context, r: &Redemption) -> Result<()> {
            self.calls.lock().unwrap().push(format!("reinstate {}", r.offer_ref.value));
            if self.redeemed.lock().unwrap().remove(&r.offer_ref.value) {
                Ok(())
            } else {
                Err(Error::new(ErrorKind::Conflict, "void-gives-back", "redemptions.reinstate")
                    .with_vendor_code("offer_not_redeemed"))
            }
        }
    }

    fn nok(minor: i64) -> Money {
        Money::new(minor, Currency::NOK)
    }

    /// A coffee with 20.00 off by offer `o-1` (user offer `uo-1`) and an undiscounted mug.
    fn sale() -> Transaction {
        let at = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
        let mut coffee = TransactionLine::new("l1", "COF", Decimal::ONE, nok(12_900), nok(12_900));
        coffee.discount = nok(2_000);
        coffee.net = nok(10_900);
        coffee.discounts = vec![LineDiscount { offer_id: OfferId::new("o-1"), amount: nok(2_000) }];
        let mug = TransactionLine::new("l2", "MUG", Decimal::ONE, nok(19_900), nok(19_900));
        Transaction {
            id: TransactionId::new("T-1"),
            at,
            member: Some(crate::ids::MemberId::new("m-1")),
            department: None,
            currency: Currency::NOK,
            lines: vec![coffee, mug],
            payments: Vec::new(),
            offers_used: vec![UsedOffer {
                offer_id: OfferId::new("o-1"),
                offer_ref: OfferRef::id("uo-1"),
                code: None,
                amount: nok(2_000),
                vendor_data: None,
            }],
            stamps: Vec::new(),
            holds: Vec::new(),
            total_gross: nok(32_800),
            total_discount: nok(2_000),
            total: nok(30_800),
            revision: 0,
        }
        .with_payment("Card", nok(30_800))
    }

    fn request(id: &str, lines: &[&str]) -> ReturnRequest {
        let at = Utc.with_ymd_and_hms(2026, 1, 16, 9, 0, 0).unwrap();
        lines
            .iter()
            .fold(ReturnRequest::new(Some(TransactionId::new("T-1")), TransactionId::new(id), at), |r, l| {
                r.with_line(*l, Decimal::ONE)
            })
    }

    #[tokio::test]
    async fn a_full_return_takes_a_refused_reinstate_after_its_void_as_given_back() {
        let p = VoidGivesBack::new();
        let mut ledger = ReturnLedger::new(sale());
        let out = process(&p, &Context::new(), Some(&mut ledger), &request("R-1", &["l1", "l2"]), None)
            .await
            .expect("the void gave the offer back; the refused reinstate does not fail the return");
        assert_eq!(p.calls(), ["cancel 1", "reinstate uo-1"]);
        assert_eq!(out.reinstated, [OfferId::new("o-1")]);
        assert!(ledger.processed.contains_key(&TransactionId::new("R-1")));
    }

    #[tokio::test]
    async fn a_partial_return_still_fails_on_a_refused_reinstate() {
        let p = VoidGivesBack::new();
        // Another caller gave the offer back already; nothing voided the sale.
        p.redeemed.lock().unwrap().clear();
        let mut ledger = ReturnLedger::new(sale());
        let e = process(&p, &Context::new(), Some(&mut ledger), &request("R-1", &["l1"]), None)
            .await
            .expect_err("a conflict this return did not cause is the caller's to see");
        assert_eq!(e.kind(), &ErrorKind::Conflict);
        assert_eq!(p.calls(), ["amend 1", "reinstate uo-1"]);
        assert!(ledger.processed.is_empty(), "the ledger takes the return only on success");
    }

    #[tokio::test]
    async fn a_partial_return_reinstates_the_offer_whose_units_all_came_back() {
        let p = VoidGivesBack::new();
        let mut ledger = ReturnLedger::new(sale());
        let out =
            process(&p, &Context::new(), Some(&mut ledger), &request("R-1", &["l1"]), None).await.unwrap();
        assert_eq!(p.calls(), ["amend 1", "reinstate uo-1"]);
        assert_eq!(out.reinstated, [OfferId::new("o-1")]);
    }
}
