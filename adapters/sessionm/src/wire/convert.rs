//! Conversions across the edge, both ways: domain → `wire` for requests (failure: `Invalid`,
//! nothing sent), `wire` → domain for replies (failure: `Protocol`).
//!
//! Money rules:
//! * Amounts leave as major-unit decimals of the store currency, written exactly
//!   ([`lenient::number`]); no currency field exists (§5, checklist 18).
//! * Amounts arrive as decimals and become [`Money`] rounded half away from zero to the
//!   currency's minor unit ([`ROUNDING`]); a negative amount is a `Protocol` error naming it.
//! * A line's tax (`tax_included`, §5.2) is the tax contained in what the customer pays for it
//!   (its net; for a basket, its gross): `amount × rate / (100 + rate)`, rounded half away from
//!   zero once per line; the header `tax_total` is the sum of the lines' taxes, so the two
//!   always agree (§7.6). A line without a tax rate carries no `tax_included`.
//! * No negative amount and no quantity ≤ 0 is ever sent (§5.2, §7.6 \[G\]): such a line is
//!   refused with `Invalid` naming it.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use loyalty_core::{
    Address, Basket, Consents, Currency, DiscountedLine, Gender, Member, MemberUpdate, Money, Offer,
    OfferKind, OfferRef, Phone, RefKind, RegisterMember, Rounding, Transaction, VendorDiscount, VendorRule,
};
use rust_decimal::Decimal;
use serde_json::{json, Number, Value};

use super::core::{PhoneNumber, User, UserWrite};
use super::discounting::{Discount, DiscountReply, HeldLock};
use super::lenient::{self, format_time, parse_time, Moment};
use super::offers::WalletEntry;
use super::points::Balances;
use super::transaction::{Item, Payment, Transaction as WireTransaction};
use super::ConversionError;
use crate::names;

/// How vendor decimals become minor units.
pub(crate) const ROUNDING: Rounding = Rounding::HalfUp;

fn number(field: &str, d: Decimal) -> Result<Number, ConversionError> {
    lenient::number(d).ok_or_else(|| ConversionError::new(field, format!("{d} cannot be written exactly")))
}

fn money(field: &str, m: Money) -> Result<Number, ConversionError> {
    number(field, m.to_decimal())
}

fn not_negative(field: &str, m: Money) -> Result<Money, ConversionError> {
    if m.is_negative() {
        // §5.2, §7.6 [G]: SessionM takes no negative amounts; returns resend the sale instead.
        return Err(ConversionError::new(
            field,
            format!("negative amount {m}: SessionM takes no negative lines"),
        ));
    }
    Ok(m)
}

fn add(field: &str, a: Money, b: Money) -> Result<Money, ConversionError> {
    a.checked_add(b).map_err(|e| ConversionError::new(field, e.to_string()))
}

/// Tax contained in `amount` at `rate` percent, rounded half away from zero to minor units.
fn tax_in(field: &str, amount: Money, rate: Option<Decimal>) -> Result<Option<Money>, ConversionError> {
    let Some(rate) = rate else { return Ok(None) };
    if rate.is_sign_negative() || rate > Decimal::ONE_HUNDRED {
        return Err(ConversionError::new(field, format!("tax rate {rate} is not between 0 and 100")));
    }
    let tax = amount
        .to_decimal()
        .checked_mul(rate)
        .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED + rate))
        .ok_or_else(|| ConversionError::new(field, "tax overflows"))?;
    Money::from_decimal(tax, amount.currency, ROUNDING)
        .map(Some)
        .map_err(|e| ConversionError::new(field, e.to_string()))
}

/// What every outgoing transaction or basket shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header<'a> {
    /// The POS `transaction_id`.
    pub transaction_id: &'a str,
    /// The sales channel.
    pub channel: &'a str,
    /// `pos_employee_id`, when the call names an employee.
    pub employee: Option<&'a str>,
}

/// A basket for lookup, lock or redeem (§3.3, §3.5).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BasketInput<'a> {
    pub basket: &'a Basket,
    pub header: Header<'a>,
    pub currency: Currency,
}

impl TryFrom<BasketInput<'_>> for WireTransaction {
    type Error = ConversionError;

    fn try_from(input: BasketInput<'_>) -> Result<Self, ConversionError> {
        let basket = input.basket;
        if basket.currency != input.currency {
            return Err(ConversionError::new(
                "basket.currency",
                format!("is {} but the store trades in {}", basket.currency, input.currency),
            ));
        }
        if basket.lines.is_empty() {
            return Err(ConversionError::new(
                "basket.lines",
                "a SessionM transaction needs at least one item",
            ));
        }
        let mut items = Vec::with_capacity(basket.lines.len());
        let (mut subtotal, mut tax_total) = (Money::zero(input.currency), Money::zero(input.currency));
        for (i, line) in basket.lines.iter().enumerate() {
            let at = |f: &str| format!("basket.lines[{i}].{f}");
            if line.quantity <= Decimal::ZERO {
                return Err(ConversionError::new(at("quantity"), "must be above zero (§7.6)"));
            }
            not_negative(&at("unit_price"), line.unit_price)?;
            // The engine's gross: quantity × unit price, rounded half-up to minor units.
            let gross = line
                .unit_price
                .to_decimal()
                .checked_mul(line.quantity)
                .ok_or_else(|| ConversionError::new(at("quantity"), "amount overflows"))
                .and_then(|g| {
                    Money::from_decimal(g, input.currency, ROUNDING)
                        .map_err(|e| ConversionError::new(at("quantity"), e.to_string()))
                })?;
            let tax = tax_in(&at("tax_rate"), gross, line.tax_rate)?;
            subtotal = add("basket", subtotal, gross)?;
            if let Some(t) = tax {
                tax_total = add("basket", tax_total, t)?;
            }
            items.push(Item {
                line_id: line.line_id.as_str().to_string(),
                item_id: line.product_id.as_str().to_string(),
                quantity: number(&at("quantity"), line.quantity)?,
                unit_price: money(&at("unit_price"), line.unit_price)?,
                subtotal: money(&at("quantity"), gross)?,
                tax_included: tax.map(|t| money(&at("tax_rate"), t)).transpose()?,
            });
        }
        Ok(WireTransaction {
            transaction_id: input.header.transaction_id.to_string(),
            pos_employee_id: input.header.employee.map(str::to_string),
            is_closed: false,
            is_voided: false,
            subtotal: money("basket", subtotal)?,
            tax_total: money("basket", tax_total)?,
            modified_time: None,
            channel: input.header.channel.to_string(),
            items,
            payments: Vec::new(),
            discounts: Vec::new(),
        })
    }
}

/// A sale for `send_transaction` (§3.9, §5.1): closed, voided when cancelling.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SaleInput<'a> {
    pub transaction: &'a Transaction,
    pub header: Header<'a>,
    pub currency: Currency,
    /// The version's `modified_time` (§7.5: newest wins).
    pub modified_time: DateTime<Utc>,
    /// `is_voided` (a cancel resends the sale voided, §7.7 \[I\]).
    pub voided: bool,
}

/// `reference_id_type` for a reference of `kind` (§5.5 \[I\]: mirrors `offer_lookup_type`).
pub(crate) fn lookup_type(kind: RefKind) -> &'static str {
    match kind {
        RefKind::Id => names::LOOKUP_USER_OFFER_ID,
        RefKind::Code => names::LOOKUP_TTL_CODE,
    }
}

impl TryFrom<SaleInput<'_>> for WireTransaction {
    type Error = ConversionError;

    fn try_from(input: SaleInput<'_>) -> Result<Self, ConversionError> {
        let tx = input.transaction;
        let cur = input.currency;
        if tx.currency != cur {
            return Err(ConversionError::new(
                "currency",
                format!(
                    "is {} but the store trades in {cur} (no SessionM payload carries a currency, §5)",
                    tx.currency
                ),
            ));
        }
        if tx.lines.is_empty() {
            return Err(ConversionError::new(
                "lines",
                "a SessionM transaction needs at least one item (void it instead)",
            ));
        }
        let when = format_time(input.modified_time);
        let mut items = Vec::with_capacity(tx.lines.len());
        let (mut subtotal, mut tax_total) = (Money::zero(cur), Money::zero(cur));
        for (i, line) in tx.lines.iter().enumerate() {
            let at = |f: &str| format!("lines[{i}].{f}");
            if line.quantity <= Decimal::ZERO {
                return Err(ConversionError::new(
                    at("quantity"),
                    format!("{} is not above zero: SessionM takes no negative lines (§7.6)", line.quantity),
                ));
            }
            not_negative(&at("unit_price"), line.unit_price)?;
            not_negative(&at("gross"), line.gross)?;
            not_negative(&at("discount"), line.discount)?;
            let net = not_negative(&at("net"), line.net)?;
            let tax = tax_in(&at("tax_rate"), net, line.tax_rate)?;
            subtotal = add(&at("gross"), subtotal, line.gross)?;
            if let Some(t) = tax {
                tax_total = add(&at("tax_rate"), tax_total, t)?;
            }
            items.push(Item {
                line_id: line.line_id.as_str().to_string(),
                item_id: line.product_id.as_str().to_string(),
                quantity: number(&at("quantity"), line.quantity)?,
                unit_price: money(&at("unit_price"), line.unit_price)?,
                subtotal: money(&at("gross"), line.gross)?,
                tax_included: tax.map(|t| money(&at("tax_rate"), t)).transpose()?,
            });
        }
        let member = tx.member.as_ref().map(|m| m.as_str().to_string());
        let mut payments = Vec::with_capacity(tx.payments.len());
        for (i, p) in tx.payments.iter().enumerate() {
            let field = format!("payments[{i}].amount");
            let amount = not_negative(&field, p.amount)?;
            payments.push(Payment {
                payment_id: (i + 1).to_string(),
                amount: money(&field, amount)?,
                kind: p.method.clone(),
                payment_time: when.clone(),
                user_id: member.clone(),
                user_id_type: member.as_ref().map(|_| names::USER_ID_TYPE.to_string()),
            });
        }
        let discounts = discounts(tx, member.as_deref())?;
        // No header-level user field exists (§5.1): a sale reaches its member only through a
        // payment's or a discount's `user_id`. Without either, SessionM would book it to
        // nobody and the member would earn nothing, while the send reports success. A
        // zero-amount payment would carry the member, but it is a tender nobody paid, of a
        // `type` no source names (§5.3: the enum is undocumented), so the sale is refused
        // instead: the caller adds the payment it took.
        let attributed =
            |d: &Value| d.get("user_id").and_then(Value::as_str).is_some_and(|u| !u.trim().is_empty());
        if member.is_some() && payments.is_empty() && !discounts.iter().any(attributed) {
            return Err(ConversionError::new(
                "payments",
                "a member's sale needs a payment: SessionM attributes a sale to its member through a \
                 payment's user_id (§5.1, §5.3), and this one has no payment and no discount naming the member",
            ));
        }
        Ok(WireTransaction {
            transaction_id: tx.id.as_str().to_string(),
            pos_employee_id: input.header.employee.map(str::to_string),
            is_closed: true,
            is_voided: input.voided,
            subtotal: money("total_gross", subtotal)?,
            tax_total: money("lines", tax_total)?,
            modified_time: Some(when),
            channel: input.header.channel.to_string(),
            items,
            payments,
            discounts,
        })
    }
}

/// The sale's Discount objects: each hold's object exactly as lock or redeem returned it
/// (§3.5: "the exact Discount object returned by lock must be sent back"; §5.1: `discounts[]`
/// "must contain the Discount objects returned by lock/redeem" \[D\]). A later version of the
/// sale (an amend after a return: the returns flow drops the holds) finds the same object kept
/// with the offer used (`UsedOffer::vendor_data`) and sends it back with this version's amount
/// and discounted lines (fewer after a return), so SessionM sees the same discount
/// (`reference_id`, `pos_discount_id`, …) shrink rather than a new one. Each line the object
/// named keeps the units it named (§5.5: `discounted_line_id_quantities`), at most the units
/// the line still has: a discount on one unit of a two-unit line stays on one unit. Only an
/// offer whose
/// object never reached the transaction gets a Discount rebuilt from the sale's line
/// discounts, naming the offer by its reference.
fn discounts(tx: &Transaction, member: Option<&str>) -> Result<Vec<Value>, ConversionError> {
    let mut out = Vec::new();
    let mut covered = Vec::new();
    for (i, h) in tx.holds.iter().enumerate() {
        match &h.vendor_data {
            Some(v @ Value::Object(_)) => {
                out.push(HeldLock::read(v).discount);
                covered.push(&h.offer_id);
            }
            Some(_) => {
                return Err(ConversionError::new(
                    format!("holds[{i}].vendor_data"),
                    "is not a Discount object",
                ))
            }
            None => {}
        }
    }
    for (i, used) in tx.offers_used.iter().enumerate().filter(|(_, u)| !covered.contains(&&u.offer_id)) {
        let field = format!("offers_used[{i}].amount");
        let amount = not_negative(&field, used.amount)?;
        if amount.is_zero() {
            continue;
        }
        let lines: Vec<_> =
            tx.lines.iter().filter(|l| l.discounts.iter().any(|d| d.offer_id == used.offer_id)).collect();
        let mut d = match &used.vendor_data {
            Some(v @ Value::Object(_)) => HeldLock::read(v).discount,
            Some(_) => {
                return Err(ConversionError::new(
                    format!("offers_used[{i}].vendor_data"),
                    "is not a Discount object",
                ))
            }
            None => json!({
                "reference_id": used.offer_ref.value,
                "reference_id_type": lookup_type(used.offer_ref.kind),
            }),
        };
        // The units the kept object named per line, where it named them.
        let named: Vec<(&str, Decimal)> = match (
            d.get("discounted_line_ids").and_then(Value::as_array),
            d.get("discounted_line_id_quantities").and_then(Value::as_array),
        ) {
            (Some(ids), Some(qs)) => ids
                .iter()
                .zip(qs)
                .filter_map(|(id, q)| {
                    let units = serde_json::from_value::<lenient::Num>(q.clone()).ok()?.0;
                    Some((id.as_str()?, units))
                })
                .collect(),
            _ => Vec::new(),
        };
        let quantities = lines
            .iter()
            .map(|l| {
                let units = named
                    .iter()
                    .find(|(id, _)| *id == l.line_id.as_str())
                    .map_or(l.quantity, |(_, units)| (*units).min(l.quantity));
                number(&format!("offers_used[{i}]"), units).map(Value::Number)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(o) = d.as_object_mut() {
            o.insert("amount".into(), Value::Number(money(&field, amount)?));
            o.insert(
                "discounted_line_ids".into(),
                Value::Array(lines.iter().map(|l| Value::String(l.line_id.as_str().to_string())).collect()),
            );
            o.insert("discounted_line_id_quantities".into(), Value::Array(quantities));
            if let Some(m) = member {
                o.entry("user_id").or_insert_with(|| Value::String(m.to_string()));
            }
        }
        out.push(d);
    }
    Ok(out)
}

/// The `user_offer_id` a hold or redemption addresses: the one its lock recorded (see
/// [`HeldLock`]), else the Discount's `reference_id` when it names a user offer (§5.5 \[I\]),
/// else the offer's own reference when it is an id. A TTL code alone cannot be unlocked or
/// reinstated (§3.6, §3.8 take a `user_offer_id`).
pub(crate) fn user_offer_id(vendor_data: Option<&Value>, offer_ref: &OfferRef) -> Option<String> {
    let from_vendor = vendor_data
        .map(HeldLock::read)
        .and_then(|held| held.user_offer_id.clone().or_else(|| discount_user_offer_id(&held.discount)));
    from_vendor
        .or_else(|| (offer_ref.kind == RefKind::Id).then(|| offer_ref.value.clone()))
        .filter(|s| !s.trim().is_empty())
}

/// The user offer a Discount object names: its `reference_id` when `reference_id_type` says
/// `UserOfferId` (any case) or says nothing (§5.5 \[I\]).
pub(crate) fn discount_user_offer_id(d: &Value) -> Option<String> {
    let kind = d.get("reference_id_type").and_then(Value::as_str);
    let id = d.get("reference_id").and_then(Value::as_str)?;
    kind.is_none_or(|k| k.trim().eq_ignore_ascii_case(names::LOOKUP_USER_OFFER_ID))
        .then(|| id.to_string())
        .filter(|s| !s.trim().is_empty())
}

/// The discount a Discount object gives: its amount in the store currency and the basket lines
/// with the units it covers (§5.5). `field` names where the object sat.
pub(crate) fn vendor_discount(
    d: &Discount,
    currency: Currency,
    basket: Option<&Basket>,
    field: &str,
) -> Result<VendorDiscount, ConversionError> {
    let at = |f: &str| format!("{field}.{f}");
    let amount = d.amount.ok_or_else(|| ConversionError::new(at("amount"), "is missing"))?.0;
    if amount.is_sign_negative() && !amount.is_zero() {
        // §7.6 [I]: discount amounts are positive numbers subtracted from the check.
        return Err(ConversionError::new(at("amount"), format!("{amount} is negative")));
    }
    let amount = Money::from_decimal(amount, currency, ROUNDING)
        .map_err(|e| ConversionError::new(at("amount"), e.to_string()))?;
    let ids = d.discounted_line_ids.clone().unwrap_or_default();
    let quantities = d.discounted_line_id_quantities.as_ref();
    if let Some(q) = quantities {
        if q.len() != ids.len() {
            return Err(ConversionError::new(
                at("discounted_line_id_quantities"),
                format!("has {} entries for {} discounted_line_ids", q.len(), ids.len()),
            ));
        }
    }
    let mut lines = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let line = basket.and_then(|b| b.lines.iter().find(|l| l.line_id.as_str() == id));
        if basket.is_some() && line.is_none() {
            return Err(ConversionError::new(
                format!("{}[{i}]", at("discounted_line_ids")),
                format!("{id:?} names no basket line"),
            ));
        }
        // Without quantities the discount covers the whole line (§5.5 [I]).
        let units = match (quantities, line) {
            (Some(q), _) => q[i].0,
            (None, Some(l)) => l.quantity,
            (None, None) => {
                return Err(ConversionError::new(
                    at("discounted_line_id_quantities"),
                    "is missing and no basket tells the units",
                ))
            }
        };
        if units <= Decimal::ZERO {
            return Err(ConversionError::new(
                format!("{}[{i}]", at("discounted_line_id_quantities")),
                format!("{units} is not above zero"),
            ));
        }
        if let Some(l) = line.filter(|l| units > l.quantity) {
            return Err(ConversionError::new(
                format!("{}[{i}]", at("discounted_line_id_quantities")),
                format!("{units} units of line {id:?}, which holds {}", l.quantity),
            ));
        }
        lines.push(DiscountedLine::new(id.as_str(), units));
    }
    Ok(VendorDiscount::new(amount, lines))
}

/// What an offer conversion needs besides the entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OfferContext<'a> {
    pub currency: Currency,
    pub zone: Tz,
    /// The basket a lookup evaluated, when there was one.
    pub basket: Option<&'a Basket>,
}

/// An entry read in its context.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InContext<'a, T>(pub &'a T, pub &'a OfferContext<'a>);

/// The rule behind an offer, from `offer_type` and `offer_config.apply_to` (§5.6 \[K\]\[S\]).
fn rule(e: &WalletEntry) -> VendorRule {
    let kind = e.offer_type.clone().unwrap_or_default();
    let apply = e.offer_config.as_ref().and_then(|c| c.apply_to.as_deref());
    match kind.as_str() {
        names::TYPE_FIXED_CHECK | names::TYPE_PERCENT_CHECK => VendorRule::Check,
        names::TYPE_FIXED_ITEM | names::TYPE_PERCENT_ITEM => match apply {
            Some(names::APPLY_LOWEST) => VendorRule::LowestItem,
            Some(names::APPLY_HIGHEST) => VendorRule::HighestItem,
            _ => VendorRule::Other(kind),
        },
        names::TYPE_SET_PRICE => VendorRule::SetPrice,
        names::TYPE_BUY_X_GET_Y => VendorRule::BuyXGetY,
        // Manual fulfilment and types not seen yet: shown as the vendor names them.
        _ => VendorRule::Other(kind),
    }
}

fn moment(field: &str, text: Option<&str>, zone: Tz) -> Result<Option<Moment>, ConversionError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => parse_time(t, zone)
            .map(Some)
            .ok_or_else(|| ConversionError::new(field, format!("{t:?} is not a timestamp"))),
    }
}

impl TryFrom<InContext<'_, WalletEntry>> for Offer {
    type Error = ConversionError;

    /// A wallet entry as an offer SessionM prices itself: id and reference are the
    /// `user_offer_id` (the handle lock, unlock and reinstate take, §3.5-§3.8); with a basket,
    /// the lookup's computed discount is its vendor discount (§3.3).
    fn try_from(InContext(e, ctx): InContext<'_, WalletEntry>) -> Result<Offer, ConversionError> {
        let id =
            e.instance_id().ok_or_else(|| ConversionError::new("user_offer_id", "is missing"))?.to_string();
        let title = [&e.name, &e.description, &e.offer_id]
            .into_iter()
            .flatten()
            .find(|t| !t.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| id.clone());
        let from = match moment("start_date", e.start_date.as_deref(), ctx.zone)? {
            Some(Moment::At(t)) => Some(t),
            Some(Moment::Day(d)) => day_start(d, ctx.zone),
            None => None,
        };
        let end = moment(
            if e.expiration_date.is_some() { "expiration_date" } else { "redemption_end_date" },
            e.end(),
            ctx.zone,
        )?;
        let (discount, locked_here) = match &e.discount {
            Some(v) if !v.is_null() => {
                let reply = DiscountReply::from_value(v.clone(), "discount")?;
                let locked = reply
                    .discount
                    .status
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(names::DISCOUNT_LOCKED));
                let vd = vendor_discount(&reply.discount, ctx.currency, ctx.basket, "discount")?;
                // Nothing to take off yet (a buy-X-get-Y quantity not reached): the lookup only
                // checks catalogue and store restrictions (§3.3, §7.9), so the offer stays
                // listed, unpriced.
                (Some(vd).filter(|d| !d.amount.is_zero()), locked)
            }
            _ => (None, false),
        };
        // A lookup shows an offer locked to the basket's own transaction as not redeemable
        // now; it is this order's to use (§3.5: re-lock with the same transaction id).
        let usable = locked_here || e.is_redeemable.is_none_or(|f| f.0);
        let mut offer = Offer::new(id.as_str(), title, OfferKind::VendorPriced { rule: rule(e), discount })
            .with_reference(OfferRef::id(id.as_str()))
            // A user offer is one issued instance: one use (§1.1, §8.1).
            .with_uses_left(Some(u32::from(usable)));
        offer = match end {
            Some(Moment::At(t)) => offer.with_validity(from, Some(t)),
            Some(Moment::Day(d)) => offer.with_validity(from, None).ending_on(d, ctx.zone),
            None => offer.with_validity(from, None),
        };
        Ok(offer)
    }
}

fn day_start(d: NaiveDate, zone: Tz) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    (0..24)
        .find_map(|h| zone.from_local_datetime(&d.and_hms_opt(h, 0, 0)?).earliest())
        .map(|t| t.with_timezone(&Utc))
}

/// The member a SessionM user is (§5.7). Consents: a profile is a membership and SessionM keeps
/// its purchases, so `membership` follows `activated` (true when absent) and `order_history`
/// follows `membership`; `opted_in`, the one marketing flag, is the e-mail consent; SessionM
/// keeps no SMS consent, so `marketing_sms` is false.
impl TryFrom<&User> for Member {
    type Error = ConversionError;

    fn try_from(u: &User) -> Result<Member, ConversionError> {
        let id =
            u.id.clone()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| ConversionError::new("user.id", "is missing"))?;
        let mut m = Member::new(id);
        m.first_name = u.first_name.clone();
        m.last_name = u.last_name.clone();
        m.email = u.email.clone();
        let phones: Vec<_> = u
            .phone_numbers
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter(|p| p.phone_number.chars().any(|c| c.is_ascii_digit()))
            .collect();
        let primary = phones
            .iter()
            .copied()
            .find(|p| p.preference_flags.iter().any(|f| f.eq_ignore_ascii_case(names::PHONE_PRIMARY)))
            .or(phones.first().copied());
        m.phone = primary.and_then(|p| {
            let digits: String = p.phone_number.chars().filter(char::is_ascii_digit).collect();
            // Stored with the country code (§3.3: lookups compare digits only).
            Phone::parse_e164(&format!("+{digits}"))
        });
        m.birth_date = match u.dob.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(d) => Some(
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| ConversionError::new("user.dob", format!("{d:?} is not YYYY-MM-DD")))?,
            ),
        };
        m.gender = u.gender.as_deref().and_then(|g| match g.trim().to_ascii_lowercase().as_str() {
            names::GENDER_MALE | "male" => Some(Gender::Male),
            names::GENDER_FEMALE | "female" => Some(Gender::Female),
            _ => None,
        });
        let address = Address {
            street: u.address.clone(),
            city: u.city.clone(),
            zip_code: u.zip.clone(),
            state: u.state.clone(),
            country_code: u.country.clone(),
        };
        m.address = (address != Address::default()).then_some(address);
        let membership = u.activated.is_none_or(|f| f.0);
        m.consents = Consents {
            membership,
            order_history: membership,
            marketing_sms: false,
            marketing_email: u.opted_in.is_some_and(|f| f.0),
        };
        let mut ids: Vec<String> = u.external_id.iter().cloned().collect();
        for x in u.identifiers.iter().flatten().filter_map(|i| i.external_id.clone()) {
            if !ids.contains(&x) {
                ids.push(x);
            }
        }
        m.identifiers = ids;
        m.points = u.available_points.map(|n| n.0);
        m.tier = match &u.tier {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Object(o)) => o.get("name").and_then(Value::as_str).map(str::to_string),
            _ => None,
        };
        Ok(m)
    }
}

/// The points a member has: `summary.total_points` (§4.2), else the sum of the accounts'
/// available balances (`None` when the reply gives neither).
///
/// # Errors
/// A sum of balances that overflows is no balance at all: the error names the account whose
/// balance does not fit.
pub(crate) fn total_points(b: &Balances) -> Result<Option<Decimal>, ConversionError> {
    if let Some(total) = b.summary.as_ref().and_then(|s| s.total_points) {
        return Ok(Some(total.0));
    }
    let mut sum: Option<Decimal> = None;
    for (i, d) in b.details.iter().enumerate() {
        let Some(balance) = d.available_balance else { continue };
        sum = Some(sum.unwrap_or(Decimal::ZERO).checked_add(balance.0).ok_or_else(|| {
            ConversionError::new(
                format!("details[{i}].available_balance"),
                "the sum of the balances overflows",
            )
        })?);
    }
    Ok(sum)
}

/// A phone as SessionM stores and looks it up: country code and number, digits only (§3.3).
pub(crate) fn phone_digits(p: &Phone) -> String {
    p.e164().chars().filter(char::is_ascii_digit).collect()
}

fn gender(field: &str, g: Option<Gender>) -> Result<Option<String>, ConversionError> {
    match g {
        None | Some(Gender::NotShared) => Ok(None),
        Some(Gender::Male) => Ok(Some(names::GENDER_MALE.into())),
        Some(Gender::Female) => Ok(Some(names::GENDER_FEMALE.into())),
        Some(Gender::NonBinary) => {
            Err(ConversionError::new(field, "SessionM's value for non-binary is not known (§5.7)"))
        }
    }
}

fn consents(field: &str, c: &Consents) -> Result<bool, ConversionError> {
    if !c.membership {
        return Err(ConversionError::new(
            format!("{field}.membership"),
            "a SessionM profile is a membership: the terms must be accepted",
        ));
    }
    if !c.order_history {
        return Err(ConversionError::new(
            format!("{field}.order_history"),
            "SessionM keeps every member's purchases: order history must be accepted",
        ));
    }
    if c.marketing_sms {
        return Err(ConversionError::new(
            format!("{field}.marketing_sms"),
            "SessionM keeps no SMS consent; opted_in is its e-mail opt-in",
        ));
    }
    Ok(c.marketing_email)
}

fn address(w: &mut UserWrite, a: &Address) {
    w.address = a.street.clone();
    w.city = a.city.clone();
    w.zip = a.zip_code.clone();
    w.state = a.state.clone();
    w.country = a.country_code.clone();
}

/// A registration and the `external_id_type` configured for its external id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RegisterInput<'a> {
    pub request: &'a RegisterMember,
    pub external_id_type: Option<&'a str>,
}

impl TryFrom<RegisterInput<'_>> for UserWrite {
    type Error = ConversionError;

    fn try_from(input: RegisterInput<'_>) -> Result<UserWrite, ConversionError> {
        let r = input.request;
        if !r.segments.is_empty() {
            return Err(ConversionError::new(
                "segments",
                "SessionM has no segments (custom attributes live in user_profile)",
            ));
        }
        if !r.identifiers.is_empty() {
            return Err(ConversionError::new("identifiers", "only external_id is sent to SessionM"));
        }
        let mut w = UserWrite {
            opted_in: Some(consents("consents", &r.consents)?),
            email: r.email.clone().map(|e| e.trim().to_string()),
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            gender: gender("gender", r.gender)?,
            dob: r.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
            external_id: r.external_id.clone(),
            external_id_type: r.external_id.as_ref().and(input.external_id_type.map(str::to_string)),
            ..UserWrite::default()
        };
        if let Some(a) = &r.address {
            address(&mut w, a);
        }
        if let Some(p) = &r.phone {
            if !p.is_well_formed() {
                return Err(ConversionError::new("phone", "expected +country code and digits"));
            }
            w.phone_numbers = Some(vec![PhoneNumber {
                phone_number: phone_digits(p),
                phone_type: Some(names::PHONE_TYPE_MOBILE.into()),
                preference_flags: vec![names::PHONE_PRIMARY.into()],
            }]);
        }
        Ok(w)
    }
}

impl TryFrom<&MemberUpdate> for UserWrite {
    type Error = ConversionError;

    /// Only what the update names (§6: members absent from a PUT keep their value \[K\]).
    fn try_from(u: &MemberUpdate) -> Result<UserWrite, ConversionError> {
        if !u.segments.is_empty() {
            return Err(ConversionError::new("segments", "SessionM has no segments"));
        }
        let mut w = UserWrite {
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            email: u.email.clone().map(|e| e.trim().to_string()),
            dob: u.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
            gender: gender("gender", u.gender)?,
            opted_in: u.consents.as_ref().map(|c| consents("consents", c)).transpose()?,
            ..UserWrite::default()
        };
        if let Some(a) = &u.address {
            address(&mut w, a);
        }
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use loyalty_core::{Line, MemberId, TransactionId};

    use super::*;

    fn nok(minor: i64) -> Money {
        Money::new(minor, Currency::NOK)
    }

    fn header() -> Header<'static> {
        Header { transaction_id: "T1", channel: "POS", employee: None }
    }

    fn basket() -> Basket {
        Basket::new(Currency::NOK)
            .with_line(
                Line::new("1", "COF-500", Decimal::from(2), nok(12900)).with_tax_rate(Decimal::from(15)),
            )
            .with_line(Line::new("2", "MUG-1", Decimal::ONE, nok(19900)).with_tax_rate(Decimal::from(25)))
    }

    #[test]
    fn basket_tax_is_contained_tax_rounded_half_up_per_line_and_summed() {
        let t = WireTransaction::try_from(BasketInput {
            basket: &basket(),
            header: header(),
            currency: Currency::NOK,
        })
        .unwrap();
        let v = serde_json::to_value(&t).unwrap();
        // 258.00 × 15/115 = 33.652… → 33.65; 199.00 × 25/125 = 39.80.
        assert_eq!(v["items"][0]["tax_included"], json!(33.65));
        assert_eq!(v["items"][1]["tax_included"], json!(39.8));
        assert_eq!(v["tax_total"], json!(73.45));
        assert_eq!(v["subtotal"], json!(457.0));
    }

    #[test]
    fn basket_in_another_currency_is_refused() {
        let b = Basket::new(Currency::EUR).with_line(Line::new(
            "1",
            "X",
            Decimal::ONE,
            Money::new(100, Currency::EUR),
        ));
        let e =
            WireTransaction::try_from(BasketInput { basket: &b, header: header(), currency: Currency::NOK })
                .unwrap_err();
        assert_eq!(e.field, "basket.currency");
    }

    fn sale() -> Transaction {
        let b = basket();
        let priced = loyalty_core::pricing::price(&b, &[], &[], Utc::now()).unwrap();
        Transaction::from_priced(
            TransactionId::new("T1"),
            Utc::now(),
            Some(MemberId::new("u1")),
            &b,
            &priced,
            &[],
        )
        .unwrap()
        .with_payment("Card", priced.total)
    }

    // Checklist 16 and 17, adapter side: a negative line is refused before sending, naming it.
    #[test]
    fn negative_line_is_refused_naming_the_line() {
        let mut tx = sale();
        tx.lines[1].net = nok(-100);
        let input = SaleInput {
            transaction: &tx,
            header: header(),
            currency: Currency::NOK,
            modified_time: Utc::now(),
            voided: false,
        };
        let e = WireTransaction::try_from(input).unwrap_err();
        assert_eq!(e.field, "lines[1].net");
        let mut tx = sale();
        tx.lines[0].quantity = Decimal::from(-1);
        let input = SaleInput {
            transaction: &tx,
            header: header(),
            currency: Currency::NOK,
            modified_time: Utc::now(),
            voided: false,
        };
        assert_eq!(WireTransaction::try_from(input).unwrap_err().field, "lines[0].quantity");
    }

    #[test]
    fn a_phone_entry_without_a_number_is_skipped_for_the_next() {
        let u: User = serde_json::from_value(json!({"id": "u1", "phone_numbers": [
            {"phone_number": null, "preference_flags": ["primary"]},
            {"phone_number": "4741234567", "preference_flags": null}]}))
        .unwrap();
        let m = Member::try_from(&u).unwrap();
        assert_eq!(m.phone, Phone::parse_e164("+4741234567"));
    }

    #[test]
    fn sale_attributes_the_member_through_the_payment() {
        let tx = sale();
        let input = SaleInput {
            transaction: &tx,
            header: header(),
            currency: Currency::NOK,
            modified_time: Utc::now(),
            voided: true,
        };
        let v = serde_json::to_value(WireTransaction::try_from(input).unwrap()).unwrap();
        assert_eq!(v["payments"][0]["user_id"], "u1");
        assert_eq!(v["payments"][0]["user_id_type"], names::USER_ID_TYPE);
        assert_eq!(v["is_voided"], true);
        assert_eq!(v["is_closed"], true);
        assert!(v.get("currency").is_none());
    }

    fn send_input(tx: &Transaction) -> SaleInput<'_> {
        SaleInput {
            transaction: tx,
            header: header(),
            currency: Currency::NOK,
            modified_time: Utc::now(),
            voided: false,
        }
    }

    // §5.1: no header user field; a member's sale with nothing carrying the member would go out
    // unattributed, so it is refused naming `payments`.
    #[test]
    fn a_member_s_sale_without_a_payment_or_a_discount_naming_the_member_is_refused() {
        let mut tx = sale();
        tx.payments.clear();
        let e = WireTransaction::try_from(send_input(&tx)).unwrap_err();
        assert_eq!(e.field, "payments");
        // A guest's sale needs no attribution.
        tx.member = None;
        assert!(WireTransaction::try_from(send_input(&tx)).is_ok());
    }

    #[test]
    fn a_discount_naming_the_member_attributes_a_sale_without_payments() {
        let mut tx = sale();
        tx.payments.clear();
        tx.lines[1].discount = nok(4000);
        tx.lines[1].net = nok(15900);
        tx.lines[1].discounts = vec![loyalty_core::LineDiscount { offer_id: "o1".into(), amount: nok(4000) }];
        tx.offers_used.push(loyalty_core::UsedOffer {
            offer_id: "o1".into(),
            offer_ref: OfferRef::id("uo-1"),
            code: None,
            amount: nok(4000),
            vendor_data: None,
        });
        let v = serde_json::to_value(WireTransaction::try_from(send_input(&tx)).unwrap()).unwrap();
        assert_eq!(v["discounts"][0]["user_id"], "u1");
        assert!(v.get("payments").is_none());
    }

    // §5.5, §3.5: a later version keeps the units the lock's object named per line, capped at
    // what the line still holds, instead of the whole line.
    #[test]
    fn an_amended_discount_keeps_the_units_it_named_capped_at_the_line() {
        let mut tx = sale();
        // The lock discounted one of the two coffees (line 1) and the mug (line 2).
        let object = json!({
            "reference_id": "uo-1", "reference_id_type": "UserOfferId", "status": "redeemed",
            "discounted_line_ids": ["1", "2"], "discounted_line_id_quantities": [1.0, 1.0],
            "amount": 60.0, "user_id": "u1"
        });
        for l in &mut tx.lines {
            l.discount = nok(3000);
            l.net = Money::new(l.gross.minor - 3000, Currency::NOK);
            l.discounts = vec![loyalty_core::LineDiscount { offer_id: "o1".into(), amount: nok(3000) }];
        }
        tx.offers_used.push(
            loyalty_core::UsedOffer {
                offer_id: "o1".into(),
                offer_ref: OfferRef::id("uo-1"),
                code: None,
                amount: nok(6000),
                vendor_data: None,
            }
            .with_vendor_data(Some(object)),
        );
        let v = serde_json::to_value(WireTransaction::try_from(send_input(&tx)).unwrap()).unwrap();
        assert_eq!(v["discounts"][0]["discounted_line_ids"], json!(["1", "2"]));
        let units = |v: &Value| -> Vec<f64> {
            v["discounts"][0]["discounted_line_id_quantities"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q.as_f64().unwrap())
                .collect()
        };
        assert_eq!(units(&v), [1.0, 1.0], "one coffee, not the two");
        // A later version where line 1 kept one coffee and the mug went back: the mug is gone,
        // and line 1 keeps its one unit.
        tx.lines.truncate(1);
        tx.lines[0].quantity = Decimal::ONE;
        tx.lines[0].gross = nok(12900);
        tx.lines[0].net = nok(9900);
        tx.offers_used[0].amount = nok(3000);
        tx.payments[0].amount = nok(9900);
        let v = serde_json::to_value(WireTransaction::try_from(send_input(&tx)).unwrap()).unwrap();
        assert_eq!(v["discounts"][0]["discounted_line_ids"], json!(["1"]));
        assert_eq!(units(&v), [1.0]);
        assert_eq!(v["discounts"][0]["amount"], json!(30.0));
        // A units figure above what the line holds now is capped at the line.
        if let Some(d) = tx.offers_used[0].vendor_data.as_mut() {
            d["discounted_line_id_quantities"] = json!([2.0, 1.0]);
        }
        let v = serde_json::to_value(WireTransaction::try_from(send_input(&tx)).unwrap()).unwrap();
        assert_eq!(units(&v), [1.0]);
    }

    #[test]
    fn discount_quantities_must_be_parallel_and_lines_known() {
        let b = basket();
        let d = |v: Value| serde_json::from_value::<Discount>(v).unwrap();
        let ok = vendor_discount(
            &d(json!({"amount": 20.0, "discounted_line_ids": ["1"], "discounted_line_id_quantities": [1]})),
            Currency::NOK,
            Some(&b),
            "payload",
        )
        .unwrap();
        assert_eq!(ok.amount, nok(2000));
        let whole = vendor_discount(
            &d(json!({"amount": 50.0, "discounted_line_ids": ["1", "2"]})),
            Currency::NOK,
            Some(&b),
            "payload",
        )
        .unwrap();
        assert_eq!(whole.lines[0].units, Decimal::from(2));
        let e = vendor_discount(
            &d(json!({"amount": 1.0, "discounted_line_ids": ["9"]})),
            Currency::NOK,
            Some(&b),
            "payload",
        )
        .unwrap_err();
        assert_eq!(e.field, "payload.discounted_line_ids[0]");
        let e = vendor_discount(
            &d(json!({"amount": 1.0, "discounted_line_ids": ["1"], "discounted_line_id_quantities": [1, 2]})),
            Currency::NOK,
            Some(&b),
            "payload",
        )
        .unwrap_err();
        assert_eq!(e.field, "payload.discounted_line_id_quantities");
        let e = vendor_discount(&d(json!({"amount": -1.0})), Currency::NOK, Some(&b), "payload").unwrap_err();
        assert_eq!(e.field, "payload.amount");
    }

    #[test]
    fn discounted_units_above_the_line_quantity_are_protocol_naming_the_entry() {
        let d = serde_json::from_value::<Discount>(
            json!({"amount": 5.0, "discounted_line_ids": ["2", "1"], "discounted_line_id_quantities": [1, 3]}),
        )
        .unwrap();
        let e = vendor_discount(&d, Currency::NOK, Some(&basket()), "payload").unwrap_err();
        assert_eq!(e.field, "payload.discounted_line_id_quantities[1]");
        assert!(e.reason.contains("holds 2"), "{}", e.reason);
    }

    #[test]
    fn vendor_amounts_round_half_away_from_zero() {
        let d = serde_json::from_value::<Discount>(json!({"amount": 0.125})).unwrap();
        assert_eq!(vendor_discount(&d, Currency::NOK, None, "p").unwrap().amount, nok(13));
        // Checklist 18: a vendor decimal between two yen (10 % of 1295).
        let d = serde_json::from_value::<Discount>(json!({"amount": 129.5})).unwrap();
        assert_eq!(
            vendor_discount(&d, Currency::JPY, None, "p").unwrap().amount,
            Money::new(130, Currency::JPY)
        );
    }

    #[test]
    fn register_refuses_what_sessionm_cannot_keep() {
        let c =
            Consents { membership: true, order_history: true, marketing_sms: true, marketing_email: false };
        let r = RegisterMember::new().with_email("a@example.com").with_consents(c);
        let e = UserWrite::try_from(RegisterInput { request: &r, external_id_type: None }).unwrap_err();
        assert_eq!(e.field, "consents.marketing_sms");
        let r = RegisterMember::new().with_email("a@example.com");
        let e = UserWrite::try_from(RegisterInput { request: &r, external_id_type: None }).unwrap_err();
        assert_eq!(e.field, "consents.membership");
    }

    #[test]
    fn points_are_the_summary_else_the_checked_sum_of_the_accounts_and_an_overflow_names_the_account() {
        let b = |v: Value| serde_json::from_value::<Balances>(v).unwrap();
        assert_eq!(
            total_points(&b(json!({"summary": {"total_points": 5}, "details": [{"available_balance": 9}]}))),
            Ok(Some(5.into()))
        );
        assert_eq!(
            total_points(&b(json!({"details": [{"available_balance": 2}, {"available_balance": 3}]}))),
            Ok(Some(5.into()))
        );
        assert_eq!(total_points(&b(json!({"details": []}))), Ok(None));
        let huge = "79228162514264337593543950335";
        let e =
            total_points(&b(json!({"details": [{"available_balance": huge}, {"available_balance": huge}]})))
                .unwrap_err();
        assert_eq!(e.field, "details[1].available_balance");
    }

    #[test]
    fn user_offer_id_comes_from_the_discount_before_the_reference() {
        let d = json!({"reference_id": "uo-9", "reference_id_type": "UserOfferId"});
        assert_eq!(user_offer_id(Some(&d), &OfferRef::code("TTL-1")).as_deref(), Some("uo-9"));
        assert_eq!(user_offer_id(None, &OfferRef::id("uo-1")).as_deref(), Some("uo-1"));
        assert_eq!(user_offer_id(None, &OfferRef::code("TTL-1")), None);
        let ttl = json!({"reference_id": "TTL-1", "reference_id_type": "TTLCode"});
        assert_eq!(user_offer_id(Some(&ttl), &OfferRef::code("TTL-1")), None);
    }
}
