//! Holds, redemptions, transactions and returns.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::basket::{Basket, PricedBasket};
use crate::ids::{DepartmentId, HoldId, LineId, MemberId, OfferId, ProductId, TransactionId};
use crate::money::{Currency, Money, MoneyError};
use crate::offer::{Offer, OfferRef, VendorDiscount};

pub use crate::capabilities::ReturnStyle;

/// A request to lock or reserve one offer for one transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HoldRequest {
    /// The member holding it.
    pub member: MemberId,
    /// The offer (its `reference` addresses it at the provider).
    pub offer: Offer,
    /// The transaction (order) it is held for.
    pub transaction: TransactionId,
    /// The basket, for providers that evaluate the offer against it.
    pub basket: Option<Basket>,
    /// Requested lifetime in seconds; the provider's default when `None`.
    pub ttl_secs: Option<u64>,
}

impl HoldRequest {
    /// Holds `offer` for `member` on `transaction`.
    pub fn new(member: MemberId, offer: Offer, transaction: TransactionId) -> HoldRequest {
        HoldRequest { member, offer, transaction, basket: None, ttl_secs: None }
    }

    /// Attaches the basket.
    pub fn with_basket(mut self, basket: Basket) -> HoldRequest {
        self.basket = Some(basket);
        self
    }

    /// Asks for a lifetime.
    pub fn with_ttl_secs(mut self, ttl: u64) -> HoldRequest {
        self.ttl_secs = Some(ttl);
        self
    }
}

/// A provider's lock or reservation of one offer for one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Hold {
    /// Id of the hold (the provider's lock id, or a derived key for reservations).
    pub id: HoldId,
    /// The held offer.
    pub offer_id: OfferId,
    /// The provider's handle on the offer.
    pub offer_ref: OfferRef,
    /// The member.
    pub member: MemberId,
    /// The transaction it is held for.
    pub transaction: TransactionId,
    /// When the hold lapses. Always explicit: a provider that never expires holds states the
    /// time it would consider the hold stale.
    pub expires_at: DateTime<Utc>,
    /// What the vendor returned for the hold, kept as it came (SessionM's Discount object, a
    /// Diller reservation's units) and handed back to the adapter at commit and release. Opaque
    /// to everyone but the adapter that made it; it survives a restart in the checkout store.
    pub vendor_data: Option<serde_json::Value>,
    /// The discount the vendor computed when it took the hold, for offers it prices itself.
    pub vendor_discount: Option<VendorDiscount>,
}

impl Hold {
    /// Makes a hold record.
    pub fn new(
        id: impl Into<HoldId>,
        offer_id: OfferId,
        offer_ref: OfferRef,
        member: MemberId,
        transaction: TransactionId,
        expires_at: DateTime<Utc>,
    ) -> Hold {
        Hold {
            id: id.into(),
            offer_id,
            offer_ref,
            member,
            transaction,
            expires_at,
            vendor_data: None,
            vendor_discount: None,
        }
    }

    /// Attaches the vendor's own data for the hold.
    pub fn with_vendor_data(mut self, data: serde_json::Value) -> Hold {
        self.vendor_data = Some(data);
        self
    }

    /// Attaches the discount the vendor computed.
    pub fn with_vendor_discount(mut self, discount: VendorDiscount) -> Hold {
        self.vendor_discount = Some(discount);
        self
    }

    /// True when the hold has lapsed at `now`.
    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
}

/// A request to use an offer now (outside a transaction send).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RedeemRequest {
    /// The member.
    pub member: MemberId,
    /// The offer.
    pub offer: Offer,
    /// The transaction it is used in, when there is one.
    pub transaction: Option<TransactionId>,
    /// The basket, for providers that price the offer against it.
    pub basket: Option<Basket>,
}

impl RedeemRequest {
    /// Redeems `offer` for `member`.
    pub fn new(member: MemberId, offer: Offer) -> RedeemRequest {
        RedeemRequest { member, offer, transaction: None, basket: None }
    }

    /// Attaches the basket.
    pub fn with_basket(mut self, basket: Basket) -> RedeemRequest {
        self.basket = Some(basket);
        self
    }

    /// Names the transaction.
    pub fn with_transaction(mut self, tx: TransactionId) -> RedeemRequest {
        self.transaction = Some(tx);
        self
    }
}

/// A completed redemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Redemption {
    /// The provider's id for this use of the offer.
    pub id: String,
    /// The offer.
    pub offer_id: OfferId,
    /// The provider's handle.
    pub offer_ref: OfferRef,
    /// The member.
    pub member: MemberId,
    /// When it was redeemed.
    pub at: DateTime<Utc>,
    /// What the vendor returned for the redemption (sent back with the transaction).
    pub vendor_data: Option<serde_json::Value>,
    /// The discount the vendor computed for the basket.
    pub vendor_discount: Option<VendorDiscount>,
}

impl Redemption {
    /// Makes a redemption record.
    pub fn new(
        id: impl Into<String>,
        offer_id: OfferId,
        offer_ref: OfferRef,
        member: MemberId,
        at: DateTime<Utc>,
    ) -> Self {
        Redemption {
            id: id.into(),
            offer_id,
            offer_ref,
            member,
            at,
            vendor_data: None,
            vendor_discount: None,
        }
    }

    /// Attaches the vendor's own data.
    pub fn with_vendor_data(mut self, data: serde_json::Value) -> Redemption {
        self.vendor_data = Some(data);
        self
    }

    /// Attaches the discount the vendor computed.
    pub fn with_vendor_discount(mut self, discount: VendorDiscount) -> Redemption {
        self.vendor_discount = Some(discount);
        self
    }
}

/// Stamps collected or spent on a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StampAction {
    /// Stamps earned.
    Collected,
    /// Stamps spent on a reward.
    Deducted,
}

/// One stamp movement carried by a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StampMovement {
    /// The stamp card.
    pub offer_id: OfferId,
    /// Its provider handle.
    pub offer_ref: OfferRef,
    /// Collected or deducted.
    pub action: StampAction,
    /// How many stamps (positive).
    pub count: u32,
}

/// An offer used in a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsedOffer {
    /// The offer.
    pub offer_id: OfferId,
    /// Its provider handle (coupon code, user offer id).
    pub offer_ref: OfferRef,
    /// The code, when it has one.
    pub code: Option<String>,
    /// Discount it gave in this transaction.
    pub amount: Money,
    /// What the vendor returned when the offer was held or redeemed (SessionM's Discount
    /// object), kept with the offer so every later version of the transaction (an amend after
    /// a return) can send it back; opaque to all but the adapter that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_data: Option<serde_json::Value>,
}

impl UsedOffer {
    /// Keeps the vendor's record of a redemption made before the sale (an immediate redeem),
    /// so the transaction sends it back.
    pub fn with_vendor_data(mut self, vendor_data: Option<serde_json::Value>) -> UsedOffer {
        self.vendor_data = vendor_data;
        self
    }
}

/// A payment tender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    /// Tender name ("Card", "Cash", "Vipps").
    pub method: String,
    /// Amount paid with it.
    pub amount: Money,
}

/// A transaction line with its frozen allocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct TransactionLine {
    /// The basket line.
    pub line_id: LineId,
    /// The product.
    pub product_id: ProductId,
    /// SKU.
    pub sku: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Quantity.
    pub quantity: Decimal,
    /// Unit price, tax included.
    pub unit_price: Money,
    /// Tax rate in percent.
    pub tax_rate: Option<Decimal>,
    /// Gross (quantity × unit price).
    pub gross: Money,
    /// Discount on the line.
    pub discount: Money,
    /// What the customer paid for the line.
    pub net: Money,
    /// Offers behind the discount with their shares.
    pub discounts: Vec<crate::basket::LineDiscount>,
    /// Stamps this line's units earned, per card (taken back when the units are returned).
    pub stamps: Vec<(OfferId, u32)>,
}

impl TransactionLine {
    /// A line without discount.
    pub fn new(
        line_id: impl Into<LineId>,
        product_id: impl Into<ProductId>,
        quantity: Decimal,
        unit_price: Money,
        gross: Money,
    ) -> Self {
        TransactionLine {
            line_id: line_id.into(),
            product_id: product_id.into(),
            sku: None,
            name: None,
            quantity,
            unit_price,
            tax_rate: None,
            gross,
            discount: Money::zero(gross.currency),
            net: gross,
            discounts: Vec::new(),
            stamps: Vec::new(),
        }
    }
}

/// A completed purchase (or a negative one for a return) sent to the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Transaction {
    /// The integrator's order id: the idempotency key everywhere.
    pub id: TransactionId,
    /// When the sale happened.
    pub at: DateTime<Utc>,
    /// The member, when identified.
    pub member: Option<MemberId>,
    /// The department or store.
    pub department: Option<DepartmentId>,
    /// Currency of every amount.
    pub currency: Currency,
    /// Lines with frozen allocation.
    pub lines: Vec<TransactionLine>,
    /// Payments.
    pub payments: Vec<Payment>,
    /// Offers used.
    pub offers_used: Vec<UsedOffer>,
    /// Stamp movements.
    pub stamps: Vec<StampMovement>,
    /// The holds the transaction claims, with the vendor's data for each (SessionM sends the
    /// Discount objects of its locks back with the transaction).
    pub holds: Vec<Hold>,
    /// Sum of line grosses.
    pub total_gross: Money,
    /// Sum of line discounts.
    pub total_discount: Money,
    /// What the customer paid.
    pub total: Money,
    /// Versions of this id sent before this one: 0 for the sale; each amend or cancel of it
    /// is the next (the returns flow counts them). Vendors that keep the newest version of a
    /// sale by a timestamp order the versions by it, whatever the clock does.
    #[serde(default)]
    pub revision: u32,
}

impl Transaction {
    /// Freezes a priced basket into a transaction. Offer handles come from `offers`; a
    /// completed stamp card also records the stamps spent on its reward.
    pub fn from_priced(
        id: TransactionId,
        at: DateTime<Utc>,
        member: Option<MemberId>,
        basket: &Basket,
        priced: &PricedBasket,
        offers: &[Offer],
    ) -> Result<Transaction, MoneyError> {
        // Indexes, so freezing a large basket is linear (the first of equal ids wins, as a
        // search in order would find it).
        let mut by_offer: HashMap<&OfferId, &Offer> = HashMap::with_capacity(offers.len());
        for o in offers {
            by_offer.entry(&o.id).or_insert(o);
        }
        let find = |id: &OfferId| by_offer.get(id).copied();
        let mut by_line: HashMap<&LineId, &crate::basket::PricedLine> =
            HashMap::with_capacity(priced.lines.len());
        for pl in &priced.lines {
            by_line.entry(&pl.line_id).or_insert(pl);
        }
        let mut lines = Vec::with_capacity(basket.lines.len());
        for line in &basket.lines {
            let pl = by_line.get(&line.line_id).copied();
            let mut tl = TransactionLine::new(
                line.line_id.clone(),
                line.product_id.clone(),
                line.quantity,
                line.unit_price,
                pl.map(|p| p.gross).unwrap_or(line.unit_price),
            );
            tl.sku = line.sku.clone();
            tl.name = line.name.clone();
            tl.tax_rate = line.tax_rate;
            if let Some(p) = pl {
                tl.discount = p.discount;
                tl.net = p.net;
                tl.discounts = p.discounts.clone();
            }
            lines.push(tl);
        }
        // The engine stamps matching units in line order, card after card (`priced.stamps` is in
        // its order), and a unit an earlier card made free earns nothing on a later one: so
        // handing each card's earned stamps to the units of matching lines no earlier card
        // freed, in line order, reproduces which line earned what.
        let mut freed = vec![0u32; lines.len()];
        // The lines of each product, and each offer's discount per line, in line order.
        let mut lines_of: HashMap<&ProductId, Vec<usize>> = HashMap::new();
        let mut worth_of: HashMap<&OfferId, Vec<(usize, i64)>> = HashMap::new();
        for (i, tl) in lines.iter().enumerate() {
            lines_of.entry(&tl.product_id).or_default().push(i);
            for d in &tl.discounts {
                let at = worth_of.entry(&d.offer_id).or_default();
                match at.last_mut() {
                    Some((j, worth)) if *j == i => *worth = worth.saturating_add(d.amount.minor),
                    _ => at.push((i, d.amount.minor)),
                }
            }
        }
        let mut earned: Vec<(usize, OfferId, u32)> = Vec::new();
        for s in &priced.stamps {
            let Some(crate::offer::OfferKind::StampCard(card)) = find(&s.offer_id).map(|o| &o.kind) else {
                continue;
            };
            let mut matching: Vec<usize> =
                card.products.iter().filter_map(|p| lines_of.get(p)).flatten().copied().collect();
            matching.sort_unstable();
            matching.dedup();
            let mut left = s.earned;
            for i in matching {
                let units: u32 = lines[i].quantity.ceil().try_into().unwrap_or(0u32);
                let n = units.saturating_sub(freed[i]).min(left);
                if n > 0 {
                    earned.push((i, s.offer_id.clone(), n));
                    left -= n;
                }
            }
            // Units this card made free: its discount on a line over the unit price, a partial
            // (weighed) last unit counting as one.
            for &(i, worth) in worth_of.get(&s.offer_id).map_or(&[][..], Vec::as_slice) {
                let unit = lines[i].unit_price.minor;
                if worth > 0 && unit > 0 {
                    let units = (worth + unit - 1) / unit;
                    freed[i] = freed[i].saturating_add(u32::try_from(units).unwrap_or(u32::MAX));
                }
            }
        }
        for (i, offer, n) in earned {
            lines[i].stamps.push((offer, n));
        }
        let mut offers_used: Vec<UsedOffer> = Vec::new();
        let mut used_at: HashMap<OfferId, usize> = HashMap::new();
        for d in lines.iter().flat_map(|l| &l.discounts) {
            if let Some(&at) = used_at.get(&d.offer_id) {
                offers_used[at].amount = offers_used[at].amount.checked_add(d.amount)?;
            } else if let Some(o) = find(&d.offer_id) {
                used_at.insert(d.offer_id.clone(), offers_used.len());
                offers_used.push(UsedOffer {
                    offer_id: o.id.clone(),
                    offer_ref: o.reference.clone(),
                    code: o.code.clone(),
                    amount: d.amount,
                    vendor_data: None,
                });
            }
        }
        let mut stamps = Vec::new();
        for s in &priced.stamps {
            let Some(o) = find(&s.offer_id) else { continue };
            if s.earned > 0 {
                stamps.push(StampMovement {
                    offer_id: o.id.clone(),
                    offer_ref: o.reference.clone(),
                    action: StampAction::Collected,
                    count: s.earned,
                });
            }
            if s.free_units > 0 {
                if let crate::offer::OfferKind::StampCard(card) = &o.kind {
                    stamps.push(StampMovement {
                        offer_id: o.id.clone(),
                        offer_ref: o.reference.clone(),
                        action: StampAction::Deducted,
                        count: card.required * s.free_units,
                    });
                }
            }
        }
        Ok(Transaction {
            id,
            at,
            member,
            department: None,
            currency: basket.currency,
            lines,
            payments: Vec::new(),
            offers_used,
            stamps,
            holds: Vec::new(),
            total_gross: priced.total_gross,
            total_discount: priced.total_discount,
            total: priced.total,
            revision: 0,
        })
    }

    /// Sets the department.
    pub fn with_department(mut self, department: impl Into<DepartmentId>) -> Transaction {
        self.department = Some(department.into());
        self
    }

    /// Adds a payment.
    pub fn with_payment(mut self, method: impl Into<String>, amount: Money) -> Transaction {
        self.payments.push(Payment { method: method.into(), amount });
        self
    }
}

/// What `Transactions::send` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SendOutcome {
    /// The provider recorded the transaction now.
    Recorded,
    /// The provider already had a transaction with this id; nothing new happened.
    AlreadyRecorded,
    /// The provider had a transaction with this id and replaced it with this one (an upsert).
    Replaced,
    /// The provider holds this version of the transaction under its id now, and its reply does
    /// not say whether it was new, replaced an earlier version or was there already: an upsert
    /// whose answer is the same in every case (SessionM's `send_transaction`).
    Stored,
}

/// The provider's receipt for a sent transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct TransactionReceipt {
    /// The transaction id sent.
    pub id: TransactionId,
    /// New or duplicate.
    pub outcome: SendOutcome,
    /// The provider's own id or remark, when it gives one.
    pub provider_ref: Option<String>,
    /// Points earned, when the provider says synchronously; `None` when it computes them
    /// later (read the member's balance afterwards).
    pub points_earned: Option<Decimal>,
}

impl TransactionReceipt {
    /// Makes a receipt.
    pub fn new(id: TransactionId, outcome: SendOutcome) -> TransactionReceipt {
        TransactionReceipt { id, outcome, provider_ref: None, points_earned: None }
    }
}

/// One returned line: which original line, and how much of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    /// The original line.
    pub line_id: LineId,
    /// The quantity returned.
    pub quantity: Decimal,
}

/// A customer's return, as the integrator states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReturnRequest {
    /// The original transaction; `None` when the receipt is lost.
    pub original: Option<TransactionId>,
    /// The return's own id (idempotency key of the return).
    pub return_id: TransactionId,
    /// Lines and quantities returned, from the original.
    pub lines: Vec<ReturnLine>,
    /// Goods returned without a receipt (no original): the integrator states product and
    /// amount refunded. Used only when `original` is `None`.
    pub lines_without_receipt: Vec<TransactionLine>,
    /// Why (shown to the vendor where it takes a reason).
    pub reason: Option<String>,
    /// When the return happened.
    pub at: DateTime<Utc>,
}

impl ReturnRequest {
    /// A return of `lines` from `original` under the return's own id.
    pub fn new(
        original: Option<TransactionId>,
        return_id: TransactionId,
        at: DateTime<Utc>,
    ) -> ReturnRequest {
        ReturnRequest {
            original,
            return_id,
            lines: Vec::new(),
            lines_without_receipt: Vec::new(),
            reason: None,
            at,
        }
    }

    /// Adds a returned line.
    pub fn with_line(mut self, line_id: impl Into<LineId>, quantity: Decimal) -> ReturnRequest {
        self.lines.push(ReturnLine { line_id: line_id.into(), quantity });
        self
    }

    /// Adds goods returned without a receipt.
    pub fn with_unreceipted_line(mut self, line: TransactionLine) -> ReturnRequest {
        self.lines_without_receipt.push(line);
        self
    }

    /// Sets the reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> ReturnRequest {
        self.reason = Some(reason.into());
        self
    }
}

/// A partial refund sent to a provider: what is given back, with frozen amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// The original transaction.
    pub original: TransactionId,
    /// The refund's own id.
    pub refund_id: TransactionId,
    /// The member of the original sale.
    pub member: Option<MemberId>,
    /// Returned lines (positive quantities and amounts).
    pub lines: Vec<TransactionLine>,
    /// Total refunded (sum of the lines' nets).
    pub total: Money,
    /// Reason.
    pub reason: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Refund {
    /// Makes a refund record.
    pub fn new(
        original: TransactionId,
        refund_id: TransactionId,
        member: Option<MemberId>,
        lines: Vec<TransactionLine>,
        total: Money,
        at: DateTime<Utc>,
    ) -> Refund {
        Refund { original, refund_id, member, lines, total, reason: None, at }
    }
}
