//! The engine as it was before issue 17 (commit 0d32fb3), kept as the oracle of the fast engine:
//! it walks every unit for every offer and assigns product coupons again after each drop, which
//! is slow but plainly follows the rules. `engine::tests` checks that both give the same result
//! on random baskets. Only this header, `validate` (shared with the engine) and the progressive
//! discount's `count` and `mode` (added later, walked unit by unit like the rest) differ from it.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::arith::{allocate, allocate_capped, Rate};
use super::engine::{gross_overflow, too_many_on_line, validate};
use super::{PricingError, UnitAssignment, MAX_UNITS};
use crate::basket::{Basket, LineDiscount, NotApplied, PricedBasket, PricedLine, StampOutcome};
use crate::ids::{OfferId, ProductId};
use crate::money::Money;
use crate::offer::{Discount, Offer, OfferKind, ProgressiveCount, ProgressiveMode, Scope, VendorDiscount};

const WAITING: &str = "waiting for the customer to confirm it";
const NO_MATCH: &str = "no matching products in the basket";
const NO_UNITS_LEFT: &str = "no eligible units left: every matching unit already carries a discount";
const FREE_SHIPPING: &str = "free shipping is applied by the shop, not priced";
const REWARD_NOT_PRICED: &str = "a points reward without a discount is not priced";
const ZERO_DISCOUNT: &str = "its discount is zero";
const ROUNDS_TO_ZERO: &str = "its discount rounds to zero";
const NOTHING_TO_DISCOUNT: &str = "nothing to discount: the units it covers cost nothing";
const NOTHING_LEFT: &str = "nothing left to discount: the units without a discount cost nothing";
const NOT_PRICED_BY_VENDOR: &str = "the vendor has not priced it for this basket";

/// One unit of one line and the offer (index into the id-sorted offers) that took it.
#[derive(Debug, Clone)]
struct Unit {
    line: usize,
    worth: i64,
    taken: Option<usize>,
}

/// What a coupon takes off, in exact terms.
#[derive(Debug, Clone, Copy)]
enum Amount {
    Percent(Rate),
    Fixed(i64),
}

impl Amount {
    /// The discount on units worth `eligible` in total; never more than `eligible`.
    fn on(&self, eligible: i64, offer: &Offer) -> Result<i64, PricingError> {
        match self {
            Amount::Percent(rate) => rate.apply(eligible).ok_or_else(|| overflow_at(offer, "percent")),
            Amount::Fixed(amount) => Ok((*amount).min(eligible)),
        }
    }

    fn zero_reason(&self) -> &'static str {
        match self {
            Amount::Percent(rate) if !rate.is_zero() => ROUNDS_TO_ZERO,
            Amount::Fixed(amount) if *amount > 0 => ROUNDS_TO_ZERO,
            _ => ZERO_DISCOUNT,
        }
    }
}

/// A product coupon competing for units.
struct Candidate {
    offer: usize,
    amount: Amount,
    /// Worth per unit as a share of the unit, the basis of the competition.
    rate: Rate,
    /// Units it could cover: its products', not freed by a stamp card, worth something.
    eligible: Vec<usize>,
}

/// Result of one run, with the per-unit state kept for introspection.
pub(super) struct Run {
    pub(super) priced: PricedBasket,
    pub(super) units: Vec<UnitAssignment>,
}

pub(super) fn run(
    basket: &Basket,
    offers: &[Offer],
    confirmed: &[OfferId],
    now: DateTime<Utc>,
) -> Result<Run, PricingError> {
    validate(basket, offers, confirmed)?;
    let mut sorted: Vec<&Offer> = offers.iter().collect();
    // Order independence: every pass but the basket coupons walks offers in id order.
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let (gross, units) = expand(basket)?;
    let mut engine = Engine {
        basket,
        offers: sorted,
        now,
        units,
        given: vec![Vec::new(); basket.lines.len()],
        reasons: BTreeMap::new(),
        needs_confirmation: Vec::new(),
        stamps: Vec::new(),
    };
    engine.stamp_cards()?;
    engine.product_coupons()?;
    engine.progressive()?;
    engine.basket_coupons(confirmed)?;
    engine.finish(gross)
}

struct Engine<'a> {
    basket: &'a Basket,
    offers: Vec<&'a Offer>,
    now: DateTime<Utc>,
    units: Vec<Unit>,
    /// Per line: (offer index, amount), in application order.
    given: Vec<Vec<(usize, i64)>>,
    /// Why an offer gave nothing, by offer index (so in id order).
    reasons: BTreeMap<usize, String>,
    needs_confirmation: Vec<usize>,
    stamps: Vec<StampOutcome>,
}

impl Engine<'_> {
    fn product_of(&self, unit: usize) -> &ProductId {
        &self.basket.lines[self.units[unit].line].product_id
    }

    fn refuse(&mut self, offer: usize, reason: impl Into<String>) {
        self.reasons.insert(offer, reason.into());
    }

    /// Why the offer cannot be used at all right now, if it cannot.
    fn unusable(&self, offer: usize) -> Option<String> {
        let offer = self.offers[offer];
        if offer.valid_to.is_some_and(|to| self.now > to) {
            return offer.expiry_text();
        }
        if let Some(from) = offer.valid_from.filter(|from| self.now < *from) {
            return Some(format!("not valid yet: starts on {}", from.format("%Y-%m-%d")));
        }
        if offer.uses_left == Some(0) {
            return Some("no uses left".to_string());
        }
        None
    }

    /// Units of `products` (any state) and those still free to take (worth something or not).
    fn matching(&self, products: &[ProductId]) -> (bool, Vec<usize>) {
        let mut any = false;
        let mut free = Vec::new();
        for (i, unit) in self.units.iter().enumerate() {
            if products.contains(self.product_of(i)) {
                any = true;
                if unit.taken.is_none() {
                    free.push(i);
                }
            }
        }
        (any, free)
    }

    fn worth_of(&self, units: &[usize]) -> Result<i64, PricingError> {
        units
            .iter()
            .try_fold(0i64, |sum, u| sum.checked_add(self.units[*u].worth))
            .ok_or_else(|| PricingError::Overflow { field: "lines: eligible amount".to_string() })
    }

    /// Gives `amount` for `units` to `offer`: the units are taken, and the amount is spread over
    /// their lines in proportion to the units' worth by largest remainder.
    fn give(&mut self, offer: usize, units: &[usize], amount: i64) {
        let mut per_line: BTreeMap<usize, i64> = BTreeMap::new();
        for u in units {
            let unit = &mut self.units[*u];
            debug_assert!(unit.taken.is_none(), "a unit carries one discount at most");
            unit.taken = Some(offer);
            // Worth sums were checked before, so a line's part cannot overflow.
            *per_line.entry(unit.line).or_default() += unit.worth;
        }
        let weights: Vec<i64> = per_line.values().copied().collect();
        for (line, share) in per_line.keys().zip(allocate(amount, &weights)) {
            let entries = &mut self.given[*line];
            match entries.iter_mut().find(|(o, _)| *o == offer) {
                Some((_, sum)) => *sum += share,
                None => entries.push((offer, share)),
            }
        }
    }

    /// Rule 5: stamps in line order, the completing unit free, cards in offer id order.
    fn stamp_cards(&mut self) -> Result<(), PricingError> {
        for oi in 0..self.offers.len() {
            let OfferKind::StampCard(card) = &self.offers[oi].kind else { continue };
            let mut outcome = StampOutcome {
                offer_id: self.offers[oi].id.clone(),
                earned: 0,
                free_units: 0,
                remaining: card.required - card.collected,
            };
            let spent = outcome.remaining == 0 && !card.restartable;
            if outcome.remaining == 0 && card.restartable {
                // A full restartable card has already started again.
                outcome.remaining = card.required;
            }
            if let Some(reason) = self.unusable(oi) {
                self.refuse(oi, reason);
            } else if spent {
                self.refuse(oi, format!("stamp card is spent: all {} stamps collected", card.required));
            } else {
                let (any, free) = self.matching(&card.products);
                for u in free {
                    outcome.earned += 1;
                    outcome.remaining -= 1;
                    if outcome.remaining == 0 {
                        outcome.free_units += 1;
                        let worth = self.units[u].worth;
                        self.give(oi, &[u], worth);
                        if !card.restartable {
                            break;
                        }
                        outcome.remaining = card.required;
                    }
                }
                if outcome.earned == 0 {
                    self.refuse(oi, if any { NO_UNITS_LEFT } else { NO_MATCH });
                }
            }
            self.stamps.push(outcome);
        }
        Ok(())
    }

    /// Rule 4: each unit takes the single product coupon worth most to the customer on it.
    fn product_coupons(&mut self) -> Result<(), PricingError> {
        let mut candidates: Vec<Candidate> = Vec::new();
        for oi in 0..self.offers.len() {
            let offer = self.offers[oi];
            let OfferKind::Coupon { discount, scope: Scope::Products(products) } = &offer.kind else {
                continue;
            };
            if let Some(reason) = self.unusable(oi) {
                self.refuse(oi, reason);
                continue;
            }
            let amount = match discount {
                Discount::Percent(p) => Amount::Percent(percent_rate(offer, "percent", *p)?),
                Discount::Fixed(m) => Amount::Fixed(m.minor),
                Discount::FreeShipping => {
                    self.refuse(oi, FREE_SHIPPING);
                    continue;
                }
            };
            let (any, free) = self.matching(products);
            let free_left = !free.is_empty();
            let eligible: Vec<usize> = free.into_iter().filter(|u| self.units[*u].worth > 0).collect();
            if !any {
                self.refuse(oi, NO_MATCH);
                continue;
            }
            if eligible.is_empty() {
                let taken = self
                    .units
                    .iter()
                    .enumerate()
                    .any(|(u, unit)| unit.taken.is_some() && products.contains(self.product_of(u)));
                self.refuse(oi, why_nothing(taken, free_left, NO_UNITS_LEFT));
                continue;
            }
            // A fixed coupon is worth its proportional share of its amount over every unit it
            // could cover; a percent coupon its percentage. Both are a share of the unit.
            let rate = match amount {
                Amount::Percent(rate) => rate,
                Amount::Fixed(a) => Rate::share(a, self.worth_of(&eligible)?),
            };
            if rate.is_zero() {
                self.refuse(oi, ZERO_DISCOUNT);
                continue;
            }
            candidates.push(Candidate { offer: oi, amount, rate, eligible });
        }

        // A coupon whose discount rounds to zero on the units it wins takes none of them; the
        // units go to the next best coupon, so assign again until every winner gives something.
        let mut active = vec![true; candidates.len()];
        let (best, won) = loop {
            let mut best: Vec<Option<usize>> = vec![None; self.units.len()];
            for (ci, c) in candidates.iter().enumerate().filter(|(ci, _)| active[*ci]) {
                for u in &c.eligible {
                    // Candidates come in id order, so keeping the first on a tie gives the
                    // smaller id.
                    let better = match best[*u] {
                        None => true,
                        Some(b) => c.rate.cmp_exact(&candidates[b].rate).is_gt(),
                    };
                    if better {
                        best[*u] = Some(ci);
                    }
                }
            }
            let mut won: Vec<(Vec<usize>, i64)> = vec![(Vec::new(), 0); candidates.len()];
            for (u, b) in best.iter().enumerate() {
                if let Some(ci) = b {
                    won[*ci].0.push(u);
                }
            }
            let mut dropped = false;
            for (ci, c) in candidates.iter().enumerate() {
                if !active[ci] || won[ci].0.is_empty() {
                    continue;
                }
                let worth = self.worth_of(&won[ci].0)?;
                won[ci].1 = c.amount.on(worth, self.offers[c.offer])?;
                if won[ci].1 == 0 {
                    active[ci] = false;
                    dropped = true;
                }
            }
            if !dropped {
                break (best, won);
            }
        };

        for (ci, c) in candidates.iter().enumerate() {
            if !active[ci] {
                self.refuse(c.offer, c.amount.zero_reason());
            } else if won[ci].0.is_empty() {
                let winners: BTreeSet<&str> = c
                    .eligible
                    .iter()
                    .filter_map(|u| best[*u])
                    .map(|b| self.offers[candidates[b].offer].id.as_str())
                    .collect();
                let winners = winners.into_iter().collect::<Vec<_>>().join(", ");
                self.refuse(c.offer, format!("outranked by {winners} on every unit"));
            } else {
                self.give(c.offer, &won[ci].0, won[ci].1);
            }
        }
        Ok(())
    }

    /// Rule 6: the tier reached by the count of qualifying units (or products) left applies to
    /// all of them, or, under `marginal_unit`, rank n gets the tier reached at n.
    fn progressive(&mut self) -> Result<(), PricingError> {
        for oi in 0..self.offers.len() {
            let offer = self.offers[oi];
            let OfferKind::ProgressiveDiscount { tiers, products, count: counted, mode } = &offer.kind else {
                continue;
            };
            if let Some(reason) = self.unusable(oi) {
                self.refuse(oi, reason);
                continue;
            }
            let (any, qualifying) = self.matching(products);
            if !any {
                self.refuse(oi, NO_MATCH);
                continue;
            }
            if qualifying.is_empty() {
                self.refuse(oi, NO_UNITS_LEFT);
                continue;
            }
            let distinct: BTreeSet<&ProductId> = qualifying.iter().map(|u| self.product_of(*u)).collect();
            let (count, counting) = match counted {
                ProgressiveCount::Units => (qualifying.len(), "units of its products"),
                ProgressiveCount::Lines => (distinct.len(), "of its products"),
            };
            let reached = tiers
                .iter()
                .filter(|t| usize::try_from(t.min_units).is_ok_and(|m| m <= count))
                .max_by(|a, b| a.min_units.cmp(&b.min_units).then(a.percent.cmp(&b.percent)));
            let Some(tier) = reached else {
                let reason = match tiers.iter().map(|t| t.min_units).min() {
                    Some(lowest) => {
                        format!("needs {lowest} {counting} for a tier, the basket has {count}")
                    }
                    None => "it has no tiers".to_string(),
                };
                self.refuse(oi, reason);
                continue;
            };
            if *mode == ProgressiveMode::MarginalUnit {
                self.marginal(oi, qualifying, *counted, count)?;
                continue;
            }
            let amount = Amount::Percent(percent_rate(offer, "tiers", tier.percent)?);
            let discount = amount.on(self.worth_of(&qualifying)?, offer)?;
            if discount == 0 {
                self.refuse(oi, amount.zero_reason());
                continue;
            }
            self.give(oi, &qualifying, discount);
        }
        Ok(())
    }

    /// Rule 6 under `marginal_unit`, unit by unit: the qualifying units ordered by their
    /// product's first line in the basket (a product's units in line order), unit n (or every
    /// unit of the n-th product, counting lines) at the tier reached at n; the exact sum rounded
    /// half-up once and spread over lines in proportion to their exact parts.
    fn marginal(
        &mut self,
        oi: usize,
        mut qualifying: Vec<usize>,
        counted: ProgressiveCount,
        count: usize,
    ) -> Result<(), PricingError> {
        let offer = self.offers[oi];
        let OfferKind::ProgressiveDiscount { tiers, .. } = &offer.kind else { return Ok(()) };
        let too_large = || overflow_at(offer, "tiers");
        // Every percentage as an integer number of 1/10^scale percent.
        let scale = tiers.iter().map(|t| t.percent.normalize().scale()).max().unwrap_or(0);
        let factor = 10i128.checked_pow(scale).ok_or_else(too_large)?;
        let percent_at = |n: usize| -> Option<i128> {
            let tier = tiers
                .iter()
                .filter(|t| usize::try_from(t.min_units).is_ok_and(|m| m <= n))
                .max_by(|a, b| a.min_units.cmp(&b.min_units).then(a.percent.cmp(&b.percent)));
            let Some(tier) = tier else { return Some(0) };
            let p = tier.percent.normalize();
            p.mantissa().checked_mul(10i128.checked_pow(scale - p.scale())?)
        };
        let first_line = |p: &ProductId| self.basket.lines.iter().position(|l| &l.product_id == p);
        qualifying.sort_by_key(|u| (first_line(self.product_of(*u)), *u));
        let mut exact: BTreeMap<usize, i128> = BTreeMap::new();
        let mut product_rank = 0;
        for (i, &u) in qualifying.iter().enumerate() {
            if i == 0 || self.product_of(u) != self.product_of(qualifying[i - 1]) {
                product_rank += 1;
            }
            let rank = match counted {
                ProgressiveCount::Units => i + 1,
                ProgressiveCount::Lines => product_rank,
            };
            let part = percent_at(rank).and_then(|p| p.checked_mul(i128::from(self.units[u].worth)));
            let entry = exact.entry(self.units[u].line).or_default();
            *entry = part.and_then(|p| entry.checked_add(p)).ok_or_else(too_large)?;
        }
        let total = exact.values().try_fold(0i128, |sum, e| sum.checked_add(*e)).ok_or_else(too_large)?;
        let den = factor * 100;
        // Half-up: the exact amount plus one half, truncated.
        let discount = i64::try_from((2 * total + den) / (2 * den)).map_err(|_| too_large())?;
        if discount == 0 {
            let positive = (1..=count).any(|n| percent_at(n).is_some_and(|p| p > 0));
            self.refuse(oi, if positive { ROUNDS_TO_ZERO } else { ZERO_DISCOUNT });
            return Ok(());
        }
        let mut caps: BTreeMap<usize, i64> = BTreeMap::new();
        for &u in &qualifying {
            *caps.entry(self.units[u].line).or_default() += self.units[u].worth;
        }
        let weights: Vec<i128> = exact.values().copied().collect();
        let caps: Vec<i64> = caps.values().copied().collect();
        let shares = allocate_capped(discount, &weights, &caps).ok_or_else(too_large)?;
        for &u in &qualifying {
            let unit = &mut self.units[u];
            debug_assert!(unit.taken.is_none(), "a unit carries one discount at most");
            unit.taken = Some(oi);
        }
        for (line, share) in exact.keys().zip(shares) {
            let entries = &mut self.given[*line];
            match entries.iter_mut().find(|(o, _)| *o == oi) {
                Some((_, sum)) => *sum += share,
                None => entries.push((oi, share)),
            }
        }
        Ok(())
    }

    /// Rules 2 and 4: basket-wide coupons only when confirmed, in confirmation order, over the
    /// units left. Unconfirmed ones wait for the customer.
    fn basket_coupons(&mut self, confirmed: &[OfferId]) -> Result<(), PricingError> {
        for oi in 0..self.offers.len() {
            let offer = self.offers[oi];
            if matches!(offer.kind, OfferKind::Reward { discount: None, .. }) {
                self.refuse(oi, REWARD_NOT_PRICED);
                continue;
            }
            let vendor_priced = matches!(offer.kind, OfferKind::VendorPriced { .. });
            if (basket_discount(offer).is_none() && !vendor_priced) || confirmed.contains(&offer.id) {
                continue;
            }
            if matches!(offer.kind, OfferKind::VendorPriced { discount: None, .. }) {
                self.refuse(oi, NOT_PRICED_BY_VENDOR);
                continue;
            }
            match self.unusable(oi) {
                // Outside its window it is only refused, never offered for confirmation.
                Some(reason) => self.refuse(oi, reason),
                None => {
                    self.needs_confirmation.push(oi);
                    self.refuse(oi, WAITING);
                }
            }
        }
        for id in confirmed {
            // validate() made sure every confirmed id names exactly one offer.
            let Some(oi) = self.offers.iter().position(|o| &o.id == id) else { continue };
            let offer = self.offers[oi];
            if let OfferKind::VendorPriced { discount, .. } = &offer.kind {
                match (self.unusable(oi), discount) {
                    (Some(reason), _) => self.refuse(oi, reason),
                    (None, None) => self.refuse(oi, NOT_PRICED_BY_VENDOR),
                    (None, Some(d)) => self.vendor_priced(oi, d)?,
                }
                continue;
            }
            // A product coupon named here is ignored: it applies automatically.
            let Some(discount) = basket_discount(offer) else { continue };
            if let Some(reason) = self.unusable(oi) {
                self.refuse(oi, reason);
                continue;
            }
            let amount = match discount {
                Discount::Percent(p) => Amount::Percent(percent_rate(offer, "percent", *p)?),
                Discount::Fixed(m) => Amount::Fixed(m.minor),
                Discount::FreeShipping => {
                    self.refuse(oi, FREE_SHIPPING);
                    continue;
                }
            };
            let eligible: Vec<usize> = (0..self.units.len())
                .filter(|u| self.units[*u].taken.is_none() && self.units[*u].worth > 0)
                .collect();
            if eligible.is_empty() {
                let taken = self.units.iter().any(|u| u.taken.is_some());
                let free_left = self.units.iter().any(|u| u.taken.is_none());
                let all_taken = "no eligible units left: every unit already carries a discount";
                self.refuse(oi, why_nothing(taken, free_left, all_taken));
                continue;
            }
            let discount = amount.on(self.worth_of(&eligible)?, offer)?;
            if discount == 0 {
                self.refuse(oi, amount.zero_reason());
                continue;
            }
            self.give(oi, &eligible, discount);
        }
        Ok(())
    }

    /// The vendor's computed discount, as given: over the units it names that carry no other
    /// discount yet, capped at what they are worth, spread by worth like any other amount.
    fn vendor_priced(&mut self, oi: usize, discount: &VendorDiscount) -> Result<(), PricingError> {
        let mut chosen = Vec::new();
        let (mut any_taken, mut free_left) = (false, false);
        for dl in &discount.lines {
            let Some(line) = self.basket.lines.iter().position(|l| l.line_id == dl.line_id) else {
                let reason = format!("the vendor priced line {}, which is not in the basket", dl.line_id);
                self.refuse(oi, reason);
                return Ok(());
            };
            // A partial unit counts as one: the vendor names units, the engine tracks them.
            let wanted = dl.units.ceil().to_usize().unwrap_or(0);
            let units: Vec<usize> = (0..self.units.len()).filter(|u| self.units[*u].line == line).collect();
            any_taken |= units.iter().take(wanted).any(|u| self.units[*u].taken.is_some());
            free_left |= units.iter().any(|u| self.units[*u].taken.is_none());
            chosen.extend(
                units
                    .into_iter()
                    .filter(|u| self.units[*u].taken.is_none() && self.units[*u].worth > 0)
                    .take(wanted),
            );
        }
        if chosen.is_empty() {
            self.refuse(oi, why_nothing(any_taken, free_left, NO_UNITS_LEFT));
            return Ok(());
        }
        let amount = discount.amount.minor.min(self.worth_of(&chosen)?);
        if amount <= 0 {
            self.refuse(oi, ZERO_DISCOUNT);
            return Ok(());
        }
        self.give(oi, &chosen, amount);
        Ok(())
    }

    fn finish(mut self, gross: Vec<i64>) -> Result<Run, PricingError> {
        let currency = self.basket.currency;
        let mut gave: HashSet<usize> = HashSet::new();
        let mut lines = Vec::with_capacity(self.basket.lines.len());
        for (i, line) in self.basket.lines.iter().enumerate() {
            let discounts: Vec<LineDiscount> = self.given[i]
                .iter()
                .filter(|(_, amount)| *amount > 0)
                .map(|(oi, amount)| {
                    gave.insert(*oi);
                    LineDiscount {
                        offer_id: self.offers[*oi].id.clone(),
                        amount: Money::new(*amount, currency),
                    }
                })
                .collect();
            // Each unit carries at most its own worth, so the sum stays within the line gross.
            let discount: i64 = discounts.iter().map(|d| d.amount.minor).sum();
            let gross = Money::new(gross[i], currency);
            let discount = Money::new(discount, currency);
            let net = gross.checked_sub(discount).map_err(|_| overflow_line(line))?;
            lines.push(PricedLine { line_id: line.line_id.clone(), gross, discount, net, discounts });
        }
        for (oi, offer) in self.offers.iter().enumerate() {
            let stamped = self.stamps.iter().any(|s| s.offer_id == offer.id && s.earned > 0);
            if stamped {
                gave.insert(oi);
            }
        }
        // Every offer ends up either used or explained; this catches a path that forgot to say why.
        for oi in 0..self.offers.len() {
            if !gave.contains(&oi) {
                self.reasons.entry(oi).or_insert_with(|| "it gave no discount on this basket".to_string());
            }
        }
        debug_assert!(self.reasons.keys().all(|oi| !gave.contains(oi)));

        let sum = |f: fn(&PricedLine) -> Money| {
            Money::sum(currency, lines.iter().map(f))
                .map_err(|_| PricingError::Overflow { field: "lines: total".to_string() })
        };
        let total_gross = sum(|l| l.gross)?;
        let total_discount = sum(|l| l.discount)?;
        let total = sum(|l| l.net)?;
        let units = self
            .units
            .iter()
            .map(|u| UnitAssignment {
                line_id: self.basket.lines[u.line].line_id.clone(),
                worth: Money::new(u.worth, currency),
                offer_id: u.taken.map(|oi| self.offers[oi].id.clone()),
            })
            .collect();
        let priced = PricedBasket {
            currency,
            lines,
            total_gross,
            total_discount,
            total,
            stamps: self.stamps,
            needs_confirmation: self
                .needs_confirmation
                .iter()
                .map(|oi| self.offers[*oi].id.clone())
                .collect(),
            not_applied: self
                .reasons
                .into_iter()
                .map(|(oi, reason)| NotApplied { offer_id: self.offers[oi].id.clone(), reason })
                .collect(),
            applied: Vec::new(),
        };
        let mut priced = priced;
        let offers = &self.offers;
        priced.applied = super::explain_applied(&priced, |id| offers.iter().find(|o| &o.id == id).copied()).0;
        Ok(Run { priced, units })
    }
}

/// The discount of an offer priced over the whole basket on confirmation: a basket coupon, or a
/// points reward that gives a discount (spending points is the customer's choice too).
fn basket_discount(offer: &Offer) -> Option<&Discount> {
    match &offer.kind {
        OfferKind::Coupon { discount, scope: Scope::Basket } => Some(discount),
        OfferKind::Reward { discount: Some(discount), .. } => Some(discount),
        _ => None,
    }
}

fn overflow_at(offer: &Offer, field: &str) -> PricingError {
    PricingError::Overflow { field: format!("offer \"{}\": {field}", offer.id) }
}

fn overflow_line(line: &crate::basket::Line) -> PricingError {
    PricingError::Overflow { field: format!("line \"{}\": gross", line.line_id) }
}

fn percent_rate(offer: &Offer, field: &'static str, percent: Decimal) -> Result<Rate, PricingError> {
    Rate::from_percent(percent).ok_or_else(|| overflow_at(offer, field))
}

/// Splits lines into units: floor(q) whole units at the unit price, plus one partial unit worth
/// the rest of the line when q is fractional. Line gross = q x unit price, rounded half-up.
fn expand(basket: &Basket) -> Result<(Vec<i64>, Vec<Unit>), PricingError> {
    let mut gross = Vec::with_capacity(basket.lines.len());
    let mut units = Vec::new();
    for (i, line) in basket.lines.iter().enumerate() {
        let price = line.unit_price.minor;
        // One line over the unit limit (a weight typed as grams): its quantity is at fault.
        let partial = usize::from(!line.quantity.fract().is_zero());
        let whole = match line.quantity.trunc().to_usize() {
            Some(whole) if whole.saturating_add(partial) <= MAX_UNITS => whole,
            _ => return Err(too_many_on_line(line)),
        };
        // Within the unit limit, a gross too large for minor units is the unit price's fault.
        let line_gross = line
            .quantity
            .checked_mul(Decimal::from(price))
            .and_then(|exact| {
                exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero).to_i64()
            })
            .ok_or_else(|| gross_overflow(line))?;
        // Only units spread over several lines are over the basket's limit.
        if whole + partial > MAX_UNITS - units.len() {
            return Err(PricingError::TooManyUnits { limit: MAX_UNITS });
        }
        units.extend(std::iter::repeat_n(Unit { line: i, worth: price, taken: None }, whole));
        if partial == 1 {
            // whole <= MAX_UNITS, so this product cannot overflow unless gross already did.
            let whole_worth = price.checked_mul(whole as i64).ok_or_else(|| gross_overflow(line))?;
            units.push(Unit { line: i, worth: line_gross - whole_worth, taken: None });
        }
        gross.push(line_gross);
    }
    Money::sum(basket.currency, gross.iter().map(|g| Money::new(*g, basket.currency)))
        .map_err(|_| PricingError::Overflow { field: "lines: total_gross".to_string() })?;
    Ok((gross, units))
}

/// Why an offer whose free units are all worth nothing gives nothing: none taken, they cost
/// nothing; some taken and some free left, the free ones cost nothing; all taken, `all_taken`.
fn why_nothing(taken: bool, free_left: bool, all_taken: &'static str) -> &'static str {
    match (taken, free_left) {
        (false, _) => NOTHING_TO_DISCOUNT,
        (true, true) => NOTHING_LEFT,
        (true, false) => all_taken,
    }
}
