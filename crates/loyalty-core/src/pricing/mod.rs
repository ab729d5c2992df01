//! The provider-independent pricing engine (the rules of `docs/pricing.md`).
//!
//! [`price`] takes a basket, the member's offers and the customer's confirmations, and returns a
//! [`PricedBasket`]: per-line discounts with the offer behind each, totals, stamps, offers that
//! wait for confirmation and offers that gave nothing, each with a reason a cashier can read.
//!
//! ```
//! use chrono::Utc;
//! use loyalty_core::pricing::price;
//! use loyalty_core::{Basket, Currency, Discount, Line, LineId, Money, Offer, OfferKind, ProductId, Scope};
//! use rust_decimal::Decimal;
//!
//! let basket = Basket::new(Currency::NOK)
//!     .with_line(Line::new("1", "A", Decimal::from(2), Money::new(100_00, Currency::NOK)))
//!     .with_line(Line::new("2", "B", Decimal::from(1), Money::new(50_00, Currency::NOK)));
//! let offers = [
//!     // Bound to product A: applied automatically.
//!     Offer::new("c1", "10 % off A", OfferKind::Coupon {
//!         discount: Discount::Percent(Decimal::from(10)),
//!         scope: Scope::Products(vec![ProductId::new("A")]),
//!     }),
//!     // Whole basket: waits until the customer confirms it.
//!     Offer::new("c2", "20 kr off", OfferKind::Coupon {
//!         discount: Discount::Fixed(Money::new(20_00, Currency::NOK)),
//!         scope: Scope::Basket,
//!     }),
//! ];
//!
//! let priced = price(&basket, &offers, &[], Utc::now()).unwrap();
//! assert_eq!(priced.line(&LineId::new("1")).unwrap().discount, Money::new(20_00, Currency::NOK));
//! assert_eq!(priced.total, Money::new(230_00, Currency::NOK));
//! assert_eq!(priced.needs_confirmation, vec!["c2".into()]);
//!
//! // Once confirmed, c2 covers what c1 left: line 2 only (one discount per unit).
//! let priced = price(&basket, &offers, &["c2".into()], Utc::now()).unwrap();
//! assert_eq!(priced.line(&LineId::new("2")).unwrap().discount, Money::new(20_00, Currency::NOK));
//! assert_eq!(priced.total_discount, Money::new(40_00, Currency::NOK));
//! ```
//!
//! # Rules
//! - **Units.** Discounts are tracked per unit. A line of integer quantity n is n units of its
//!   unit price; a fractional quantity q is floor(q) whole units plus one partial unit worth the
//!   rest of the line. Line gross = q x unit price, rounded half-up to minor units.
//! - **One discount per unit**, taken in this order:
//!   1. stamp cards, in offer id order: every matching unit (line order) earns a stamp while the
//!      card needs stamps; the completing unit is free; a restartable card starts again, a
//!      non-restartable one is spent. A unit made free by one card earns nothing on later cards.
//!   2. product coupons (bound to product ids, applied automatically): each unit left takes the
//!      coupon worth most on it (percent: its percentage; fixed: its share of the amount over
//!      every unit it could cover, in proportion to worth, capped at the unit); ties go to the
//!      smaller offer id. A fixed coupon then gives its amount once, capped at the units it won.
//!   3. progressive discounts, in offer id order: the highest tier reached by the count of
//!      qualifying units left (`count = lines`: of the offer's products with such a unit)
//!      applies to all of them; under `mode = marginal_unit`, rank n gets the tier reached at
//!      n instead, units (or products) ranked by their product's first line in the basket, a
//!      product's units in line order, its exact discount rounded once for the offer and
//!      spread over lines in proportion to their exact parts.
//!   4. basket coupons, only when confirmed, in confirmation order, over every unit left.
//! - **Rounding.** A percentage over several units is computed on their total, rounded half-up
//!   once, and spread over lines in proportion to their eligible amounts by largest remainder
//!   (equal remainders to the earlier line), so line discounts sum exactly to the total.
//! - An offer whose discount rounds to zero takes no unit. Validity windows are inclusive.
//!
//! # Decisions where the rules are silent
//! - Free shipping is carried, not priced: such a coupon is listed in `not_applied` with the
//!   reason "free shipping is applied by the shop, not priced" (a whole-basket one that is not
//!   confirmed waits for confirmation like any other basket coupon).
//! - A points [`Reward`](crate::OfferKind::Reward) with a discount is priced like a basket
//!   coupon (it spends the member's points, so it needs confirmation); one without a discount
//!   is listed in `not_applied`.
//! - An offer with `uses_left == Some(0)` is refused ("no uses left").
//! - `Scope::Products(vec![])` covers no product; the JSON format maps an empty `products` list
//!   to [`Scope::Basket`](crate::Scope::Basket) before it gets here.
//! - A unit worth nothing (price 0) is never taken by a coupon; it still earns stamps and counts
//!   for progressive tiers.
//! - Output order is fixed: `stamps`, `needs_confirmation` and `not_applied` in offer id order.
//!
//! # Cost
//! A call takes time in proportion to units + lines + offers + the product ids offers list, times
//! a log factor: no offer walks the whole basket, a coupon whose discount rounds to zero hands
//! on only its own units, and the `applied` reasons are summed for all offers used in one pass
//! over the priced lines. The one exception is a stamp card over several products, which
//! costs the lesser of its products' lines and the units it frees times its products (times a
//! log factor). `docs/pricing-scaling.svg` plots the time against basket size; the bench
//! `cargo bench -p loyalty-core --bench pricing` measures it.

mod arith;
mod engine;
mod error;
mod fenwick;
pub mod json;
#[cfg(test)]
mod reference;

use chrono::{DateTime, Utc};

pub use error::PricingError;

use crate::basket::{Applied, Basket, NotApplied, PricedBasket};
use crate::ids::{LineId, OfferId};
use crate::money::Money;
use crate::offer::Offer;

/// Most units one basket may hold; the engine tracks every unit, so this bounds its memory.
pub const MAX_UNITS: usize = 100_000;

/// Prices `basket` with `offers`, applying the basket-wide coupons named in `confirmed` in that
/// order, with validity windows checked against `now`.
///
/// # Errors
/// [`PricingError`] for input that cannot be priced: duplicate line or offer ids, a line,
/// product or SKU id that is empty, longer than 255 bytes or holds a control character
/// ([`Basket::check_lines`]), a negative quantity or price, a line or fixed coupon in another currency than the basket, a percentage
/// outside 0..=100, a stamp card with `collected > required` (or `required == 0`), a confirmed
/// id that names no offer (or is listed twice), more than [`MAX_UNITS`] units, or overflow.
pub fn price(
    basket: &Basket,
    offers: &[Offer],
    confirmed: &[OfferId],
    now: DateTime<Utc>,
) -> Result<PricedBasket, PricingError> {
    engine::run(basket, offers, confirmed, now, false).map(|run| run.priced)
}

/// Checks one offer's pricing parameters as [`price`] does, for a basket in `currency`: a
/// percentage outside 0..=100, a fixed amount in another currency or negative, a stamp card
/// with `collected > required` (or `required == 0`). A caller holding offers from a vendor
/// sets aside the ones that fail, instead of refusing the whole basket.
///
/// ```
/// use loyalty_core::pricing::check_offer;
/// use loyalty_core::{Currency, Discount, Money, Offer, OfferKind, Scope};
///
/// let euro_coupon = Offer::new("c1", "5 EUR off", OfferKind::Coupon {
///     discount: Discount::Fixed(Money::new(500, Currency::EUR)),
///     scope: Scope::Basket,
/// });
/// assert!(check_offer(&euro_coupon, Currency::EUR).is_ok());
/// assert!(check_offer(&euro_coupon, Currency::NOK).is_err());
/// ```
///
/// # Errors
/// [`PricingError::InvalidOffer`] naming the offer and the field.
pub fn check_offer(offer: &Offer, currency: crate::money::Currency) -> Result<(), PricingError> {
    engine::check_offer(offer, currency)
}

/// The confirmations of `confirmed` that name one of `offers`, in their order: what a checkout
/// prices with. A confirmed offer the provider no longer lists (used up elsewhere, expired, a
/// guest's coupon where guests get no offers) is left out rather than failing the price; see
/// [`unlisted_confirmations`] for telling the caller.
pub fn listed_confirmations(offers: &[Offer], confirmed: &[OfferId]) -> Vec<OfferId> {
    confirmed.iter().filter(|c| offers.iter().any(|o| &o.id == *c)).cloned().collect()
}

/// The confirmations [`listed_confirmations`] leaves out, each as not applied with the reason.
pub fn unlisted_confirmations(offers: &[Offer], confirmed: &[OfferId]) -> Vec<NotApplied> {
    confirmed
        .iter()
        .filter(|c| !offers.iter().any(|o| &o.id == *c))
        .map(|c| NotApplied { offer_id: c.clone(), reason: "not offered to this customer now".to_string() })
        .collect()
}

/// Sets aside the offers [`check_offer`] refuses for a basket in `currency`: returns the
/// others, in order, and for each one set aside why (`cannot be applied: …`), so the rest of
/// the basket is still priced. The checkout turns the reasons into notes; a price answer lists
/// them with the offers that gave nothing.
pub fn set_aside_unpriceable(
    offers: Vec<Offer>,
    currency: crate::money::Currency,
) -> (Vec<Offer>, Vec<NotApplied>) {
    let mut kept = Vec::with_capacity(offers.len());
    let mut set_aside = Vec::new();
    for offer in offers {
        match check_offer(&offer, currency) {
            Ok(()) => kept.push(offer),
            Err(e) => {
                set_aside.push(NotApplied { offer_id: offer.id, reason: format!("cannot be applied: {e}") })
            }
        }
    }
    (kept, set_aside)
}

/// Splits `total` minor units over `weights` in proportion, by largest remainder, as the engine
/// spreads a discount over lines (rule 8): every share is the floor of its exact proportion, and
/// the units left over go one each to the largest remainders, equal remainders to the earlier
/// entry. The shares sum exactly to `total`; with `total <= sum(weights)` none exceeds its
/// weight. A zero weight sum gives all zeros. For adapters whose vendor spreads an amount the
/// same way.
///
/// ```
/// use loyalty_core::pricing::allocate;
///
/// assert_eq!(allocate(5000, &[2, 1]), vec![3333, 1667]);
/// assert_eq!(allocate(5, &[1, 1]), vec![3, 2]);
/// assert_eq!(allocate(7, &[0, 0]), vec![0, 0]);
/// ```
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    arith::allocate(total, weights)
}

/// Rule 9 for the offers that gave something: each used offer with what it gave, in words a
/// cashier can read (`10 % off on the products it covers: 9.80 NOK on 1 line`), in the order of
/// [`PricedBasket::offers_used`]. `find` looks an offer up by id; an offer it cannot find is
/// still listed, with its amount. Also returns the steps taken (lines, line discounts and stamp
/// outcomes visited), for [`price_work`]: one pass over the lines sums every offer's amount and
/// lines at once, so the cost is linear in the priced basket, not lines x offers used.
pub(crate) fn explain_applied<'a>(
    priced: &PricedBasket,
    find: impl Fn(&OfferId) -> Option<&'a Offer>,
) -> (Vec<Applied>, u64) {
    use std::collections::HashMap;

    use crate::offer::{Discount, OfferKind, Scope};

    /// What one offer gave so far: its amount and lines, and its sum on the line being read.
    struct Gave {
        amount: i64,
        lines: usize,
        line: usize,
        on_line: i64,
    }
    impl Gave {
        /// Counts the line being read, when the offer gave something on it.
        fn close_line(&mut self) {
            if self.on_line > 0 {
                self.amount += self.on_line;
                self.lines += 1;
            }
            self.on_line = 0;
        }
    }

    let lines_word = |n: usize| if n == 1 { "1 line".to_string() } else { format!("{n} lines") };
    let mut steps = 0u64;
    // The offers used, first seen first (as `offers_used`), and what each gave.
    let mut order: Vec<&OfferId> = Vec::new();
    let mut gave: HashMap<&OfferId, Gave> = HashMap::new();
    for (li, l) in priced.lines.iter().enumerate() {
        steps += 1 + l.discounts.len() as u64;
        for d in &l.discounts {
            let g = gave.entry(&d.offer_id).or_insert_with(|| {
                order.push(&d.offer_id);
                Gave { amount: 0, lines: 0, line: li, on_line: 0 }
            });
            if g.line != li {
                g.close_line();
                g.line = li;
            }
            g.on_line += d.amount.minor;
        }
    }
    for g in gave.values_mut() {
        g.close_line();
    }
    steps += gave.len() as u64 + priced.stamps.len() as u64;
    // A card's outcome (the first, as listed), and the cards that earned stamps but gave no
    // discount, after the offers that did.
    let mut stamps: HashMap<&OfferId, &crate::basket::StampOutcome> = HashMap::new();
    for s in &priced.stamps {
        stamps.entry(&s.offer_id).or_insert(s);
        if s.earned > 0 && !gave.contains_key(&s.offer_id) {
            gave.insert(&s.offer_id, Gave { amount: 0, lines: 0, line: 0, on_line: 0 });
            order.push(&s.offer_id);
        }
    }
    steps += order.len() as u64;
    let applied = order
        .into_iter()
        .map(|id| {
            let (amount, lines) = gave.get(id).map_or((0, 0), |g| (g.amount, g.lines));
            let total = Money::new(amount, priced.currency);
            let gave = format!("{total} on {}", lines_word(lines));
            let fixed = |m: &Money| {
                if m.minor > amount {
                    format!("{m} off (capped at what it covers)")
                } else {
                    format!("{m} off")
                }
            };
            let reason = match find(id).map(|o| &o.kind) {
                Some(OfferKind::Coupon { discount, scope }) => {
                    let what = match discount {
                        Discount::Percent(p) => format!("{} % off", p.normalize()),
                        Discount::Fixed(m) => fixed(m),
                        Discount::FreeShipping => "free shipping".to_string(),
                    };
                    match scope {
                        Scope::Basket => format!("confirmed by the customer: {what} on the basket: {gave}"),
                        Scope::Products(_) => format!("{what} on the products it covers: {gave}"),
                    }
                }
                Some(OfferKind::StampCard(_)) => {
                    let s = stamps.get(id);
                    let earned = s.map_or(0, |s| s.earned);
                    let stamps = if earned == 1 { "1 stamp".to_string() } else { format!("{earned} stamps") };
                    match s.map_or(0, |s| s.free_units) {
                        0 => format!("stamp card: {stamps} earned"),
                        1 => format!("stamp card: {stamps} earned, 1 unit free: {gave}"),
                        n => format!("stamp card: {stamps} earned, {n} units free: {gave}"),
                    }
                }
                Some(OfferKind::ProgressiveDiscount { .. }) => {
                    format!("progressive discount for the qualifying units: {gave}")
                }
                Some(OfferKind::VendorPriced { .. }) => {
                    format!("confirmed by the customer, priced by the provider: {gave}")
                }
                Some(OfferKind::Reward { discount, .. }) => {
                    let what = match discount {
                        Some(Discount::Percent(p)) => format!("{} % off", p.normalize()),
                        Some(Discount::Fixed(m)) => fixed(m),
                        _ => "a reward".to_string(),
                    };
                    format!("reward confirmed by the customer: {what} on the basket: {gave}")
                }
                None => format!("gave {gave}"),
            };
            Applied { offer_id: id.clone(), reason }
        })
        .collect();
    (applied, steps)
}

/// Like [`price`], and also returns which offer took each unit, in basket line order. For tests
/// that check the one-discount-per-unit rule from outside.
#[doc(hidden)]
pub fn price_with_units(
    basket: &Basket,
    offers: &[Offer],
    confirmed: &[OfferId],
    now: DateTime<Utc>,
) -> Result<(PricedBasket, Vec<UnitAssignment>), PricingError> {
    engine::run(basket, offers, confirmed, now, true).map(|run| (run.priced, run.units))
}

/// Like [`price`], and returns the steps the engine took (units, lines, products and offers
/// visited), for tests that check the cost grows linearly without timing anything.
#[doc(hidden)]
pub fn price_work(
    basket: &Basket,
    offers: &[Offer],
    confirmed: &[OfferId],
    now: DateTime<Utc>,
) -> Result<(PricedBasket, u64), PricingError> {
    engine::run(basket, offers, confirmed, now, false).map(|run| (run.priced, run.work))
}

/// One unit of a basket line and the offer that took it, if any.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitAssignment {
    /// The line the unit belongs to.
    pub line_id: LineId,
    /// What the unit is worth: the unit price, or the rest of the line for a partial unit.
    pub worth: Money,
    /// The offer that took the unit (a stamp card that made it free, or the coupon or
    /// progressive discount that discounted it).
    pub offer_id: Option<OfferId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::basket::{LineDiscount, PricedLine, StampOutcome};
    use crate::money::Currency;

    /// What `explain_applied` said before it summed in one pass: each used offer's amount and
    /// lines, found by walking every line once per offer used (lines x offers, issue 17).
    fn walked(priced: &PricedBasket) -> Vec<(OfferId, i64, usize)> {
        priced
            .offers_used()
            .into_iter()
            .map(|id| {
                let (mut amount, mut lines) = (0i64, 0usize);
                for l in &priced.lines {
                    let on_line: i64 =
                        l.discounts.iter().filter(|d| d.offer_id == id).map(|d| d.amount.minor).sum();
                    if on_line > 0 {
                        amount += on_line;
                        lines += 1;
                    }
                }
                (id, amount, lines)
            })
            .collect()
    }

    #[test]
    fn applied_reasons_match_the_per_offer_walk_they_replaced() {
        // Same order, same amounts and line counts: an offer on lines apart, one named twice on
        // a line, a discount of 0 (used, on no line), stamp cards that earned without a
        // discount (one listed twice, one that earned nothing) after the offers that gave one.
        let nok = |minor| Money::new(minor, Currency::NOK);
        let line = |id: &str, discounts: &[(&str, i64)]| PricedLine {
            line_id: id.into(),
            gross: nok(10_000),
            discount: nok(discounts.iter().map(|d| d.1).sum()),
            net: nok(10_000 - discounts.iter().map(|d| d.1).sum::<i64>()),
            discounts: discounts
                .iter()
                .map(|(o, a)| LineDiscount { offer_id: OfferId::new(*o), amount: nok(*a) })
                .collect(),
        };
        let stamp =
            |id: &str, earned| StampOutcome { offer_id: id.into(), earned, free_units: 0, remaining: 3 };
        let priced = PricedBasket {
            currency: Currency::NOK,
            lines: vec![
                line("1", &[("c2", 500), ("c1", 100)]),
                line("2", &[("z0", 0)]),
                line("3", &[("c1", 200), ("c1", 300)]),
                line("4", &[]),
                line("5", &[("c2", 1), ("s1", 10_000)]),
            ],
            total_gross: nok(50_000),
            total_discount: nok(0),
            total: nok(0),
            stamps: vec![stamp("s9", 2), stamp("s1", 1), stamp("s0", 0), stamp("s9", 1)],
            needs_confirmation: Vec::new(),
            not_applied: Vec::new(),
            applied: Vec::new(),
        };
        let (applied, steps) = explain_applied(&priced, |_| None);
        let said: Vec<(OfferId, String)> = applied.into_iter().map(|a| (a.offer_id, a.reason)).collect();
        let expected: Vec<(OfferId, String)> = walked(&priced)
            .into_iter()
            .map(|(id, amount, lines)| {
                let lines = if lines == 1 { "1 line".to_string() } else { format!("{lines} lines") };
                (id, format!("gave {} on {lines}", nok(amount)))
            })
            .collect();
        assert_eq!(said, expected);
        let order: Vec<&str> = said.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(order, ["c2", "c1", "z0", "s1", "s9"]);
        assert_eq!(said[0].1, "gave 5.01 NOK on 2 lines");
        assert_eq!(said[1].1, "gave 6.00 NOK on 2 lines");
        assert_eq!(said[2].1, "gave 0.00 NOK on 0 lines");
        // Every line, discount and stamp outcome once, and each offer used a few times more.
        assert!(steps <= 5 + 7 + 4 + 3 * 5, "{steps} steps");
    }
}
