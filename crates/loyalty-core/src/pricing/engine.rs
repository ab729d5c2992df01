//! The passes of the engine over per-unit state: stamp cards, product coupons, progressive
//! discounts, basket coupons. See the module docs of [`super`] for the rules.
//!
//! # Cost
//! The engine still decides unit by unit, but no pass walks the basket per offer. Indexes built
//! once per call answer what the passes ask:
//! - units of a line are one range; lines are grouped by product, and an offer's product list
//!   is turned into product numbers once, through a hash map;
//! - free units and their worth are counted per line, per product and for the basket, and kept
//!   up to date as units are taken;
//! - a Fenwick tree over the units, laid out product by product, finds the k-th free unit of a
//!   product or of a line in O(log units), for stamp cards and vendor-priced offers; it is built
//!   only for them, in O(units).
//!
//! A pass that takes every free unit of a line or product (product coupons, progressive
//! discounts, basket coupons) leaves nothing free there, so each line is walked a bounded number
//! of times in all. Product coupons compete per product (every unit of a product has the same
//! competitors), and a winner whose discount rounds to zero hands only its products on to the
//! next best coupon. A call costs O((units + lines + offers + listed products) log units), except
//! a stamp card over several products, which costs the lesser of its products' lines and
//! (units it frees x its products x log² lines). The engine counts its steps ([`Run::work`]) so
//! tests can check this without a clock.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::arith::{allocate, allocate_capped, Rate};
use super::fenwick::FreeSet;
use super::{PricingError, UnitAssignment, MAX_UNITS};
use crate::basket::{Basket, LineDiscount, NotApplied, PricedBasket, PricedLine, StampOutcome};
use crate::ids::{LineId, OfferId, ProductId};
use crate::money::Money;
use crate::offer::{
    Discount, Offer, OfferKind, ProgressiveCount, ProgressiveMode, Scope, Tier, VendorDiscount,
};

const WAITING: &str = "waiting for the customer to confirm it";
const NO_MATCH: &str = "no matching products in the basket";
const NO_UNITS_LEFT: &str = "no eligible units left: every matching unit already carries a discount";
const FREE_SHIPPING: &str = "free shipping is applied by the shop, not priced";
const REWARD_NOT_PRICED: &str = "a points reward without a discount is not priced";
const ZERO_DISCOUNT: &str = "its discount is zero";
const ROUNDS_TO_ZERO: &str = "its discount rounds to zero";
const NOTHING_TO_DISCOUNT: &str = "nothing to discount: the units it covers cost nothing";
const NOTHING_LEFT: &str = "nothing left to discount: the units without a discount cost nothing";
const NO_BASKET_UNITS_LEFT: &str = "no eligible units left: every unit already carries a discount";
const NOT_PRICED_BY_VENDOR: &str = "the vendor has not priced it for this basket";

/// One unit of one line and the offer (index into the id-sorted offers) that took it.
#[derive(Debug, Clone)]
struct Unit {
    line: usize,
    worth: i64,
    taken: Option<usize>,
}

/// A progressive discount's percentage by rank, in exact integers: rank n (from 1) gets the tier
/// with the highest `min_units` at most n (equal `min_units`: the higher percentage), nothing
/// below every tier. `den` stands for 100 %.
struct Schedule {
    /// Distinct `min_units`, ascending, and the percentage from each on.
    starts: Vec<u64>,
    percents: Vec<i128>,
    den: i128,
}

impl Schedule {
    /// `None` when a percentage is too precise to represent.
    fn new(tiers: &[Tier]) -> Option<Schedule> {
        let scale = tiers.iter().map(|t| t.percent.normalize().scale()).max().unwrap_or(0);
        let mut by_start: BTreeMap<u64, i128> = BTreeMap::new();
        for tier in tiers {
            let p = tier.percent.normalize();
            let scaled = p.mantissa().checked_mul(10i128.checked_pow(scale - p.scale())?)?;
            let percent = by_start.entry(u64::from(tier.min_units)).or_insert(scaled);
            *percent = (*percent).max(scaled);
        }
        let den = 10i128.checked_pow(scale)?.checked_mul(100)?;
        let (starts, percents) = by_start.into_iter().unzip();
        Some(Schedule { starts, percents, den })
    }

    /// The percentage of rank `n`.
    fn at(&self, n: u64) -> i128 {
        match self.starts.partition_point(|s| *s <= n) {
            0 => 0,
            k => self.percents[k - 1],
        }
    }

    /// The sum of the percentages of ranks `first..=last`, one tier range at a time; `None` on
    /// overflow.
    fn sum(&self, first: u64, last: u64) -> Option<i128> {
        let mut sum = 0i128;
        let mut lo = first;
        let mut k = self.starts.partition_point(|s| *s <= first);
        if k == 0 {
            // Ranks below every tier get nothing.
            match self.starts.first() {
                Some(&start) => (lo, k) = (start, 1),
                None => return Some(0),
            }
        }
        while lo <= last {
            let end = self.starts.get(k).map_or(last, |next| (next - 1).min(last));
            sum = sum.checked_add(self.percents[k - 1].checked_mul(i128::from(end - lo + 1))?)?;
            (lo, k) = (end + 1, k + 1);
        }
        Some(sum)
    }

    /// True when some rank in `1..=count` gets a positive percentage.
    fn any_positive(&self, count: u64) -> bool {
        (0..self.starts.len()).any(|k| {
            let from = self.starts[k].max(1);
            let to = self.starts.get(k + 1).map_or(count, |next| (next - 1).min(count));
            self.percents[k] > 0 && from <= to
        })
    }
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
    /// Products with units it could cover: free of any discount and worth something.
    products: Vec<usize>,
}

/// How a stamp card over several products finds the units it makes free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Tests choose each way; the engine itself always takes the cheaper.
#[cfg_attr(not(test), allow(dead_code))]
pub(super) enum StampSearch {
    /// The cheaper of the two below, by an estimate of their cost.
    Auto,
    /// Walk the lines of its products in order, counting free units.
    Walk,
    /// Binary search over lines for each unit, counting free units per product.
    Search,
}

/// Result of one run, with the per-unit state kept for introspection.
pub(super) struct Run {
    pub(super) priced: PricedBasket,
    /// Which offer took each unit; empty unless asked for.
    pub(super) units: Vec<UnitAssignment>,
    /// Steps taken: units, lines, products and offers visited, and Fenwick tree nodes.
    pub(super) work: u64,
}

pub(super) fn run(
    basket: &Basket,
    offers: &[Offer],
    confirmed: &[OfferId],
    now: DateTime<Utc>,
    with_units: bool,
) -> Result<Run, PricingError> {
    run_with(basket, offers, confirmed, now, with_units, StampSearch::Auto)
}

pub(super) fn run_with(
    basket: &Basket,
    offers: &[Offer],
    confirmed: &[OfferId],
    now: DateTime<Utc>,
    with_units: bool,
    stamp_search: StampSearch,
) -> Result<Run, PricingError> {
    validate(basket, offers, confirmed)?;
    let mut sorted: Vec<&Offer> = offers.iter().collect();
    // Order independence: every pass but the basket coupons walks offers in id order.
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let (gross, units) = expand(basket)?;
    let mut engine = Engine::new(basket, sorted, now, units, &gross, stamp_search);
    engine.work += (basket.lines.len() + offers.len() + confirmed.len()) as u64;
    engine.stamp_cards()?;
    engine.drop_layout();
    engine.product_coupons()?;
    engine.progressive()?;
    engine.basket_coupons(confirmed)?;
    engine.finish(gross, with_units)
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
    /// Per offer: a stamp card that earned stamps.
    stamped: Vec<bool>,
    stamp_search: StampSearch,
    work: u64,

    lines: Vec<LineState>,
    products: Vec<ProductState>,
    /// The lines of each product, product after product (see [`ProductState::lines`]).
    product_lines: Vec<usize>,
    /// Product numbers, in order of first appearance in the basket.
    product_number: HashMap<&'a ProductId, usize>,
    /// Free units and their worth in the basket.
    free_units: usize,
    free_worth: i64,
    /// Built when a stamp card or vendor-priced offer first needs it; dropped after the stamp
    /// cards, so the passes that take whole lines do not pay for keeping it up to date.
    layout: Option<Layout>,
    /// Counts calls of `products`, to drop repeats within one list.
    listing: usize,
    /// Line numbers by id, built for the first vendor-priced offer.
    line_number: Option<HashMap<&'a LineId, usize>>,
}

/// A basket line: its units and what of them is still free.
struct LineState {
    /// Its units are `units[start..end]`.
    start: usize,
    end: usize,
    product: usize,
    free: usize,
    free_worth: i64,
}

/// A product of the basket: its lines, and what of its units is still free.
struct ProductState {
    /// Its lines, in line order, are `product_lines[lines.0..lines.1]`.
    lines: (usize, usize),
    units: usize,
    free: usize,
    free_worth: i64,
    /// The last call of `products` that listed it.
    listed: usize,
}

/// The units laid out product by product (each product's lines in line order) with a Fenwick
/// tree of the free ones, so the k-th free unit of a product or of a line is one query.
struct Layout {
    /// First position of each product, and one past the last.
    product_pos: Vec<usize>,
    /// First position of each line.
    line_pos: Vec<usize>,
    /// The unit at each position.
    unit_at: Vec<usize>,
    free: FreeSet,
}

impl Layout {
    /// The free unit of rank `k` (0-based) in `line`; the line must have more than `k`.
    fn nth_free_in_line(&self, line: usize, k: usize) -> usize {
        self.unit_at[self.free.select(self.free.prefix(self.line_pos[line]) + k)]
    }

    /// Free units among the first `n` of `line`.
    fn free_among_first(&self, line: usize, n: usize) -> usize {
        let start = self.line_pos[line];
        self.free.prefix(start + n) - self.free.prefix(start)
    }
}

impl<'a> Engine<'a> {
    fn new(
        basket: &'a Basket,
        offers: Vec<&'a Offer>,
        now: DateTime<Utc>,
        units: Vec<Unit>,
        gross: &[i64],
        stamp_search: StampSearch,
    ) -> Engine<'a> {
        let mut lines: Vec<LineState> = gross
            .iter()
            .map(|worth| LineState { start: 0, end: 0, product: 0, free: 0, free_worth: *worth })
            .collect();
        // Units come line by line (expand), so each line's units are one range.
        for unit in &units {
            lines[unit.line].end += 1;
        }
        let mut start = 0;
        for line in &mut lines {
            line.free = line.end;
            line.start = start;
            line.end += start;
            start = line.end;
        }
        let mut product_number: HashMap<&ProductId, usize> = HashMap::new();
        let mut products: Vec<ProductState> = Vec::new();
        for (line, state) in basket.lines.iter().zip(&mut lines) {
            let next = product_number.len();
            let p = *product_number.entry(&line.product_id).or_insert(next);
            if p == next {
                products.push(ProductState { lines: (0, 0), units: 0, free: 0, free_worth: 0, listed: 0 });
            }
            state.product = p;
            let product = &mut products[p];
            product.units += state.free;
            product.free += state.free;
            // expand() checked that the gross total fits, so every partial sum does.
            product.free_worth += state.free_worth;
        }
        // Lines grouped by product: each product's range, then the lines in line order.
        let mut counts: Vec<usize> = vec![0; products.len()];
        for state in &lines {
            counts[state.product] += 1;
        }
        let mut start = 0;
        for (product, count) in products.iter_mut().zip(&counts) {
            product.lines = (start, start);
            start += count;
        }
        let mut product_lines = vec![0; lines.len()];
        for (l, state) in lines.iter().enumerate() {
            let range = &mut products[state.product].lines;
            product_lines[range.1] = l;
            range.1 += 1;
        }
        let free_units = units.len();
        Engine {
            basket,
            now,
            given: vec![Vec::new(); basket.lines.len()],
            reasons: BTreeMap::new(),
            needs_confirmation: Vec::new(),
            stamps: Vec::new(),
            stamped: vec![false; offers.len()],
            offers,
            stamp_search,
            work: (units.len() + 2 * lines.len()) as u64,
            units,
            lines,
            products,
            product_lines,
            product_number,
            free_units,
            free_worth: gross.iter().sum(),
            layout: None,
            listing: 0,
            line_number: None,
        }
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

    /// The offer with id `id` (offers are sorted by id).
    fn offer_number(&self, id: &OfferId) -> Option<usize> {
        self.offers.binary_search_by(|o| o.id.cmp(id)).ok()
    }

    /// The numbers of the products in `ids` that the basket holds, each once.
    fn products(&mut self, ids: &[ProductId]) -> Vec<usize> {
        self.listing += 1;
        self.work += ids.len() as u64;
        let mut numbers = Vec::new();
        for id in ids {
            if let Some(&p) = self.product_number.get(id) {
                if self.products[p].listed != self.listing {
                    self.products[p].listed = self.listing;
                    numbers.push(p);
                }
            }
        }
        numbers
    }

    /// True when any of `products` has a unit in the basket, whatever its state.
    fn any_units(&self, products: &[usize]) -> bool {
        products.iter().any(|p| self.products[*p].units > 0)
    }

    fn free_worth_of(&self, products: &[usize]) -> Result<i64, PricingError> {
        products
            .iter()
            .try_fold(0i64, |sum, p| sum.checked_add(self.products[*p].free_worth))
            .ok_or_else(|| PricingError::Overflow { field: "lines: eligible amount".to_string() })
    }

    fn lines_of(&self, product: usize) -> &[usize] {
        let (start, end) = self.products[product].lines;
        &self.product_lines[start..end]
    }

    /// The lines of `products` with a free unit (worth something, with `positive`), sorted.
    fn lines_with_free(&mut self, products: &[usize], positive: bool) -> Vec<usize> {
        let mut lines = Vec::new();
        for p in products {
            self.work += self.lines_of(*p).len() as u64;
            let of_product = self.lines_of(*p);
            lines.extend(of_product.iter().copied().filter(|l| {
                let line = &self.lines[*l];
                if positive {
                    line.free_worth > 0
                } else {
                    line.free > 0
                }
            }));
        }
        lines.sort_unstable();
        lines
    }

    /// The free units of `lines`, in unit order (`lines` must be sorted); with `positive`, only
    /// those worth something.
    fn free_units_of(&mut self, lines: &[usize], positive: bool) -> Vec<usize> {
        let mut found = Vec::new();
        for &l in lines {
            let range = self.lines[l].start..self.lines[l].end;
            self.work += 1 + range.len() as u64;
            found.extend(range.filter(|u| {
                let unit = &self.units[*u];
                unit.taken.is_none() && (!positive || unit.worth > 0)
            }));
        }
        found
    }

    /// Builds the layout from the units' current state, unless it is built.
    fn ensure_layout(&mut self) {
        if self.layout.is_some() {
            return;
        }
        let mut product_pos = Vec::with_capacity(self.products.len() + 1);
        let mut line_pos = vec![0; self.lines.len()];
        let mut unit_at = Vec::with_capacity(self.units.len());
        for p in 0..self.products.len() {
            product_pos.push(unit_at.len());
            for &l in self.lines_of(p) {
                line_pos[l] = unit_at.len();
                unit_at.extend(self.lines[l].start..self.lines[l].end);
            }
        }
        product_pos.push(unit_at.len());
        let free = FreeSet::new(unit_at.iter().map(|u| self.units[*u].taken.is_none()));
        self.work += self.lines.len() as u64;
        self.layout = Some(Layout { product_pos, line_pos, unit_at, free });
    }

    fn drop_layout(&mut self) {
        if let Some(layout) = self.layout.take() {
            self.work += layout.free.steps();
        }
    }

    /// Free units of `products` in lines up to and including `last`; `before[i]` holds the free
    /// positions before the first of `products[i]`.
    fn free_through(&self, layout: &Layout, products: &[usize], before: &[usize], last: usize) -> usize {
        let mut count = 0;
        for (p, before) in products.iter().zip(before) {
            let lines = self.lines_of(*p);
            let k = lines.partition_point(|l| *l <= last);
            if let Some(&through) = lines[..k].last() {
                let line = &self.lines[through];
                count += layout.free.prefix(layout.line_pos[through] + line.end - line.start) - before;
            }
        }
        count
    }

    /// The free units of `products` at `ranks` (ascending, 0-based), counted in line order.
    fn free_units_at(&mut self, products: &[usize], ranks: &[usize]) -> Vec<usize> {
        if ranks.is_empty() {
            return Vec::new();
        }
        self.work += ranks.len() as u64;
        self.ensure_layout();
        let layout = self.layout.as_ref().expect("built above");
        let live: Vec<usize> = products.iter().copied().filter(|p| self.products[*p].free > 0).collect();
        if let [p] = live[..] {
            // One product: its units are one stretch of the layout.
            let before = layout.free.prefix(layout.product_pos[p]);
            return ranks.iter().map(|r| layout.unit_at[layout.free.select(before + r)]).collect();
        }
        let lines = self.lines.len();
        let walk_cost: usize = live.iter().map(|p| self.lines_of(*p).len()).sum();
        let log = (usize::BITS - lines.leading_zeros()) as usize;
        let search_cost = ranks.len().saturating_mul(live.len()).saturating_mul(3 * log * log);
        let search = match self.stamp_search {
            StampSearch::Auto => search_cost < walk_cost,
            StampSearch::Walk => false,
            StampSearch::Search => true,
        };
        if search {
            let before: Vec<usize> =
                live.iter().map(|p| layout.free.prefix(layout.product_pos[*p])).collect();
            let mut from = 0;
            let found = ranks
                .iter()
                .map(|r| {
                    // The first line through which more than `r` units are free.
                    let (mut lo, mut hi) = (from, lines - 1);
                    while lo < hi {
                        let mid = lo + (hi - lo) / 2;
                        if self.free_through(layout, &live, &before, mid) > *r {
                            hi = mid;
                        } else {
                            lo = mid + 1;
                        }
                    }
                    from = lo;
                    let earlier = if lo == 0 { 0 } else { self.free_through(layout, &live, &before, lo - 1) };
                    layout.nth_free_in_line(lo, r - earlier)
                })
                .collect();
            self.work += (ranks.len() * live.len() * log * log) as u64;
            found
        } else {
            let mut merged: Vec<usize> =
                live.iter().flat_map(|p| self.lines_of(*p).iter().copied()).collect();
            merged.sort_unstable();
            let mut found = Vec::with_capacity(ranks.len());
            let mut earlier = 0;
            for &l in &merged {
                let free = self.lines[l].free;
                while let Some(r) = ranks.get(found.len()).filter(|r| **r < earlier + free) {
                    found.push(layout.nth_free_in_line(l, r - earlier));
                }
                if found.len() == ranks.len() {
                    break;
                }
                earlier += free;
            }
            self.work += merged.len() as u64;
            found
        }
    }

    /// Marks unit `u` as taken by `offer` and updates the free counts.
    fn take(&mut self, u: usize, offer: usize) {
        let unit = &mut self.units[u];
        debug_assert!(unit.taken.is_none(), "a unit carries one discount at most");
        unit.taken = Some(offer);
        let worth = unit.worth;
        let l = unit.line;
        let line = &mut self.lines[l];
        line.free -= 1;
        line.free_worth -= worth;
        let product = &mut self.products[line.product];
        product.free -= 1;
        product.free_worth -= worth;
        self.free_units -= 1;
        self.free_worth -= worth;
        if let Some(layout) = &mut self.layout {
            layout.free.take(layout.line_pos[l] + (u - line.start));
        }
        self.work += 1;
    }

    /// Adds `share` of `offer` to a line. An offer gives all it gives while it is processed, so
    /// its entry, if any, is the line's last.
    fn credit(&mut self, line: usize, offer: usize, share: i64) {
        let entries = &mut self.given[line];
        match entries.last_mut() {
            Some((o, sum)) if *o == offer => *sum += share,
            _ => entries.push((offer, share)),
        }
    }

    /// Gives `amount` for `units` (in unit order, so line by line) to `offer`: the units are
    /// taken, and the amount is spread over their lines in proportion to the units' worth by
    /// largest remainder.
    fn give(&mut self, offer: usize, units: &[usize], amount: i64) {
        debug_assert!(units.windows(2).all(|w| w[0] < w[1]), "units in unit order");
        let mut per_line: Vec<(usize, i64)> = Vec::new();
        for u in units {
            let (line, worth) = (self.units[*u].line, self.units[*u].worth);
            self.take(*u, offer);
            // Worth sums were checked before, so a line's part cannot overflow.
            match per_line.last_mut() {
                Some((l, sum)) if *l == line => *sum += worth,
                _ => per_line.push((line, worth)),
            }
        }
        let weights: Vec<i64> = per_line.iter().map(|(_, w)| *w).collect();
        self.work += weights.len() as u64;
        for ((line, _), share) in per_line.into_iter().zip(allocate(amount, &weights)) {
            self.credit(line, offer, share);
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
                let products = self.products(&card.products);
                let any = self.any_units(&products);
                // Every free unit of its products earns a stamp, in line order, until a
                // non-restartable card completes; the units at these ranks complete a card.
                let free: usize = products.iter().map(|p| self.products[*p].free).sum();
                let free = u32::try_from(free).expect("at most MAX_UNITS units");
                let first = outcome.remaining;
                let mut ranks: Vec<usize> = Vec::new();
                if free < first {
                    outcome.earned = free;
                    outcome.remaining = first - free;
                } else if card.restartable {
                    outcome.earned = free;
                    outcome.remaining = card.required - (free - first) % card.required;
                    ranks.extend((first as usize - 1..free as usize).step_by(card.required as usize));
                } else {
                    outcome.earned = first;
                    outcome.remaining = 0;
                    ranks.push(first as usize - 1);
                }
                outcome.free_units = ranks.len() as u32;
                for u in self.free_units_at(&products, &ranks) {
                    let (line, worth) = (self.units[u].line, self.units[u].worth);
                    self.take(u, oi);
                    self.credit(line, oi, worth);
                }
                if outcome.earned == 0 {
                    self.refuse(oi, if any { NO_UNITS_LEFT } else { NO_MATCH });
                } else {
                    self.stamped[oi] = true;
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
            let products = self.products(products);
            if !self.any_units(&products) {
                self.refuse(oi, NO_MATCH);
                continue;
            }
            // Its eligible units: free of any discount and worth something.
            if products.iter().all(|p| self.products[*p].free_worth == 0) {
                let taken = products.iter().any(|p| self.products[*p].free < self.products[*p].units);
                let free_left = products.iter().any(|p| self.products[*p].free > 0);
                self.refuse(oi, worthless_reason(taken, free_left, NO_UNITS_LEFT));
                continue;
            }
            // A fixed coupon is worth its proportional share of its amount over every unit it
            // could cover; a percent coupon its percentage. Both are a share of the unit.
            let rate = match amount {
                Amount::Percent(rate) => rate,
                Amount::Fixed(a) => Rate::share(a, self.free_worth_of(&products)?),
            };
            if rate.is_zero() {
                self.refuse(oi, ZERO_DISCOUNT);
                continue;
            }
            let products = products.into_iter().filter(|p| self.products[*p].free_worth > 0).collect();
            candidates.push(Candidate { offer: oi, amount, rate, products });
        }

        // Every unit of a product has the same competitors, so the competition is per product:
        // each product's contenders, best first (ties: the smaller offer id, which candidates
        // are already sorted by). The winner of a product is its first contender still active.
        let n = candidates.len();
        let mut best_first: Vec<usize> = (0..n).collect();
        best_first.sort_by(|a, b| candidates[*b].rate.cmp_exact(&candidates[*a].rate).then(a.cmp(b)));
        let mut contenders: Vec<Vec<usize>> = vec![Vec::new(); self.products.len()];
        for &ci in &best_first {
            self.work += 1 + candidates[ci].products.len() as u64;
            for &p in &candidates[ci].products {
                contenders[p].push(ci);
            }
        }
        let mut winner = vec![0usize; contenders.len()];
        let mut active = vec![true; n];
        let mut won: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut won_worth = vec![0i64; n];
        let mut amount = vec![0i64; n];
        for (p, list) in contenders.iter().enumerate() {
            if let Some(&ci) = list.first() {
                won[ci].push(p);
                won_worth[ci] += self.products[p].free_worth;
            }
        }
        // A coupon whose discount rounds to zero on the units it wins takes none of them; the
        // units go to the next best coupon. Rounds as in the rules: all winners that round to
        // zero drop out together, their products pass on, and only the coupons that gained
        // products can newly round to zero (a larger amount never rounds lower).
        let mut check: Vec<usize> = (0..n).collect();
        loop {
            check.sort_unstable();
            check.dedup();
            let mut dropped = Vec::new();
            for &ci in &check {
                self.work += 1;
                if !active[ci] || won[ci].is_empty() {
                    continue;
                }
                let c = &candidates[ci];
                amount[ci] = c.amount.on(won_worth[ci], self.offers[c.offer])?;
                if amount[ci] == 0 {
                    dropped.push(ci);
                }
            }
            if dropped.is_empty() {
                break;
            }
            for &ci in &dropped {
                active[ci] = false;
            }
            check.clear();
            for ci in dropped {
                for p in std::mem::take(&mut won[ci]) {
                    let list = &contenders[p];
                    while winner[p] < list.len() && !active[list[winner[p]]] {
                        winner[p] += 1;
                        self.work += 1;
                    }
                    if let Some(&next) = list.get(winner[p]) {
                        won[next].push(p);
                        won_worth[next] += self.products[p].free_worth;
                        check.push(next);
                    }
                }
            }
        }

        for (ci, c) in candidates.iter().enumerate() {
            if !active[ci] {
                self.refuse(c.offer, c.amount.zero_reason());
            } else if won[ci].is_empty() {
                self.work += c.products.len() as u64;
                let winners: BTreeSet<&str> = c
                    .products
                    .iter()
                    .map(|p| self.offers[candidates[contenders[*p][winner[*p]]].offer].id.as_str())
                    .collect();
                let winners = winners.into_iter().collect::<Vec<_>>().join(", ");
                self.refuse(c.offer, format!("outranked by {winners} on every unit"));
            } else {
                let lines = self.lines_with_free(&won[ci], true);
                let units = self.free_units_of(&lines, true);
                self.give(c.offer, &units, amount[ci]);
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
            let mut products = self.products(products);
            if !self.any_units(&products) {
                self.refuse(oi, NO_MATCH);
                continue;
            }
            // Qualifying units: free of any discount, whatever their worth.
            let units: usize = products.iter().map(|p| self.products[*p].free).sum();
            if units == 0 {
                self.refuse(oi, NO_UNITS_LEFT);
                continue;
            }
            // Products with a qualifying unit, in order of first appearance: the order of ranks.
            products.retain(|p| self.products[*p].free > 0);
            products.sort_unstable();
            let (count, counting) = match counted {
                ProgressiveCount::Units => (units, "units of its products"),
                ProgressiveCount::Lines => (products.len(), "of its products"),
            };
            self.work += tiers.len() as u64;
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
                self.marginal(oi, &products, *counted, count)?;
                continue;
            }
            let amount = Amount::Percent(percent_rate(offer, "tiers", tier.percent)?);
            let discount = amount.on(self.free_worth_of(&products)?, offer)?;
            if discount == 0 {
                self.refuse(oi, amount.zero_reason());
                continue;
            }
            let lines = self.lines_with_free(&products, false);
            let units = self.free_units_of(&lines, false);
            self.give(oi, &units, discount);
        }
        Ok(())
    }

    /// Rule 6 under `marginal_unit`, for `products` (those with a free unit, in order of first
    /// appearance) reaching `count`: rank n gets the tier reached at n. Counting units, the ranks
    /// run over each product's free units in line order, product after product; counting
    /// lines, product n is rank n for all its free units. The exact discount is summed tier
    /// range by tier range, never unit by unit, rounded half-up once, and spread over the lines
    /// in proportion to their exact parts (capped at what is free on each).
    fn marginal(
        &mut self,
        oi: usize,
        products: &[usize],
        counted: ProgressiveCount,
        count: usize,
    ) -> Result<(), PricingError> {
        let offer = self.offers[oi];
        let OfferKind::ProgressiveDiscount { tiers, .. } = &offer.kind else { return Ok(()) };
        let too_large = || overflow_at(offer, "tiers");
        let schedule = Schedule::new(tiers).ok_or_else(too_large)?;
        // (line, its exact discount in units of 1/den of a minor unit), lines in line order.
        let mut parts: Vec<(usize, i128)> = Vec::new();
        let mut before = 0u64;
        for (n, &p) in products.iter().enumerate() {
            self.work += self.lines_of(p).len() as u64;
            for &l in self.lines_of(p) {
                let line = &self.lines[l];
                if line.free == 0 {
                    continue;
                }
                let exact = match counted {
                    ProgressiveCount::Lines => {
                        schedule.at(n as u64 + 1).checked_mul(i128::from(line.free_worth))
                    }
                    ProgressiveCount::Units => {
                        // Whole units are worth the unit price; a free partial unit is the last.
                        let last = &self.units[line.end - 1];
                        let partial =
                            !self.basket.lines[l].quantity.fract().is_zero() && last.taken.is_none();
                        let free = line.free as u64;
                        let whole = free - u64::from(partial);
                        let price = i128::from(self.basket.lines[l].unit_price.minor);
                        let mut exact =
                            schedule.sum(before + 1, before + whole).and_then(|s| s.checked_mul(price));
                        if partial {
                            let tail = schedule.at(before + free).checked_mul(i128::from(last.worth));
                            exact = exact.zip(tail).and_then(|(a, b)| a.checked_add(b));
                        }
                        before += free;
                        exact
                    }
                };
                parts.push((l, exact.ok_or_else(too_large)?));
            }
        }
        parts.sort_unstable_by_key(|(l, _)| *l);
        self.work += parts.len() as u64;
        let exact = parts.iter().try_fold(0i128, |sum, (_, e)| sum.checked_add(*e)).ok_or_else(too_large)?;
        let den = schedule.den;
        let rounded =
            exact.checked_mul(2).and_then(|e| e.checked_add(den)).ok_or_else(too_large)? / (2 * den);
        let discount = i64::try_from(rounded).map_err(|_| too_large())?;
        if discount == 0 {
            let reason = if schedule.any_positive(count as u64) { ROUNDS_TO_ZERO } else { ZERO_DISCOUNT };
            self.refuse(oi, reason);
            return Ok(());
        }
        let weights: Vec<i128> = parts.iter().map(|(_, e)| *e).collect();
        let caps: Vec<i64> = parts.iter().map(|(l, _)| self.lines[*l].free_worth).collect();
        let shares = allocate_capped(discount, &weights, &caps).ok_or_else(too_large)?;
        let lines: Vec<usize> = parts.iter().map(|(l, _)| *l).collect();
        for u in self.free_units_of(&lines, false) {
            self.take(u, oi);
        }
        for (l, share) in lines.into_iter().zip(shares) {
            self.credit(l, oi, share);
        }
        Ok(())
    }

    /// Rules 2 and 4: basket-wide coupons only when confirmed, in confirmation order, over the
    /// units left. Unconfirmed ones wait for the customer.
    fn basket_coupons(&mut self, confirmed: &[OfferId]) -> Result<(), PricingError> {
        let mut is_confirmed = vec![false; self.offers.len()];
        for id in confirmed {
            if let Some(oi) = self.offer_number(id) {
                is_confirmed[oi] = true;
            }
        }
        for (oi, accepted) in is_confirmed.into_iter().enumerate() {
            let offer = self.offers[oi];
            if matches!(offer.kind, OfferKind::Reward { discount: None, .. }) {
                self.refuse(oi, REWARD_NOT_PRICED);
                continue;
            }
            let vendor_priced = matches!(offer.kind, OfferKind::VendorPriced { .. });
            if (basket_discount(offer).is_none() && !vendor_priced) || accepted {
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
            let Some(oi) = self.offer_number(id) else { continue };
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
            // Its eligible units: every unit free of any discount and worth something.
            if self.free_worth == 0 {
                let taken = self.free_units < self.units.len();
                self.refuse(oi, worthless_reason(taken, self.free_units > 0, NO_BASKET_UNITS_LEFT));
                continue;
            }
            let discount = amount.on(self.free_worth, offer)?;
            if discount == 0 {
                self.refuse(oi, amount.zero_reason());
                continue;
            }
            // This takes every unit worth something, so no later basket coupon walks the lines.
            let lines: Vec<usize> = (0..self.lines.len()).filter(|l| self.lines[*l].free_worth > 0).collect();
            self.work += self.basket.lines.len() as u64;
            let units = self.free_units_of(&lines, true);
            self.give(oi, &units, discount);
        }
        Ok(())
    }

    /// The vendor's computed discount, as given: over the units it names that carry no other
    /// discount yet, capped at what they are worth, spread by worth like any other amount. A
    /// line named twice gives the units after those of its first mention.
    fn vendor_priced(&mut self, oi: usize, discount: &VendorDiscount) -> Result<(), PricingError> {
        let basket = self.basket;
        if self.line_number.is_none() {
            self.work += basket.lines.len() as u64;
            self.line_number =
                Some(basket.lines.iter().enumerate().map(|(l, line)| (&line.line_id, l)).collect());
        }
        let line_number = self.line_number.as_ref().expect("built above");
        self.work += discount.lines.len() as u64;
        let mut named = Vec::with_capacity(discount.lines.len());
        for dl in &discount.lines {
            let Some(&line) = line_number.get(&dl.line_id) else {
                let reason = format!("the vendor priced line {}, which is not in the basket", dl.line_id);
                self.refuse(oi, reason);
                return Ok(());
            };
            // A partial unit counts as one: the vendor names units, the engine tracks them.
            named.push((line, dl.units.ceil().to_usize().unwrap_or(0)));
        }
        self.ensure_layout();
        let layout = self.layout.as_ref().expect("built above");
        let mut chosen = Vec::new();
        let mut chosen_in: HashMap<usize, usize> = HashMap::new();
        for &(line, wanted) in &named {
            // The free units worth something, in line order: a unit worth nothing is either
            // every unit of a line priced 0 or the partial unit, which comes last.
            let skip = chosen_in.entry(line).or_default();
            let mut k = 0;
            while k < wanted && *skip + k < self.lines[line].free {
                let u = layout.nth_free_in_line(line, *skip + k);
                if self.units[u].worth == 0 {
                    break;
                }
                chosen.push(u);
                k += 1;
            }
            *skip += k;
            self.work += k as u64 + 1;
        }
        if chosen.is_empty() {
            // Whether a unit among the first it named of each line already carries a discount.
            let any_taken = named.iter().any(|&(l, wanted)| {
                let first = wanted.min(self.lines[l].end - self.lines[l].start);
                layout.free_among_first(l, first) < first
            });
            // Whether a named line still has a unit free of any discount (worth nothing, then).
            let free_left = named.iter().any(|&(l, _)| self.lines[l].free > 0);
            self.refuse(oi, worthless_reason(any_taken, free_left, NO_UNITS_LEFT));
            return Ok(());
        }
        // Lines come in the vendor's order; the units are given in unit order.
        chosen.sort_unstable();
        let worth = chosen
            .iter()
            .try_fold(0i64, |sum, u| sum.checked_add(self.units[*u].worth))
            .ok_or_else(|| PricingError::Overflow { field: "lines: eligible amount".to_string() })?;
        let amount = discount.amount.minor.min(worth);
        if amount <= 0 {
            self.refuse(oi, ZERO_DISCOUNT);
            return Ok(());
        }
        self.give(oi, &chosen, amount);
        Ok(())
    }

    fn finish(mut self, gross: Vec<i64>, with_units: bool) -> Result<Run, PricingError> {
        let currency = self.basket.currency;
        let mut gave = self.stamped.clone();
        let mut lines = Vec::with_capacity(self.basket.lines.len());
        for (i, line) in self.basket.lines.iter().enumerate() {
            self.work += 1 + self.given[i].len() as u64;
            let discounts: Vec<LineDiscount> = self.given[i]
                .iter()
                .filter(|(_, amount)| *amount > 0)
                .map(|(oi, amount)| {
                    gave[*oi] = true;
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
        // Every offer ends up either used or explained; this catches a path that forgot to say why.
        for (oi, gave) in gave.iter().enumerate() {
            if !gave {
                self.reasons.entry(oi).or_insert_with(|| "it gave no discount on this basket".to_string());
            }
        }
        debug_assert!(self.reasons.keys().all(|oi| !gave[*oi]));

        let sum = |f: fn(&PricedLine) -> Money| {
            Money::sum(currency, lines.iter().map(f))
                .map_err(|_| PricingError::Overflow { field: "lines: total".to_string() })
        };
        let total_gross = sum(|l| l.gross)?;
        let total_discount = sum(|l| l.discount)?;
        let total = sum(|l| l.net)?;
        let units = if with_units {
            self.units
                .iter()
                .map(|u| UnitAssignment {
                    line_id: self.basket.lines[u.line].line_id.clone(),
                    worth: Money::new(u.worth, currency),
                    offer_id: u.taken.map(|oi| self.offers[oi].id.clone()),
                })
                .collect()
        } else {
            Vec::new()
        };
        self.drop_layout();
        let work = self.work + self.offers.len() as u64;
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
        // Rule 9's reasons for the offers used: one pass over the priced lines, counted too.
        let (applied, explained) = super::explain_applied(&priced, |id| {
            offers.binary_search_by(|o| o.id.cmp(id)).ok().map(|i| offers[i])
        });
        priced.applied = applied;
        Ok(Run { priced, units, work: work + explained })
    }
}

/// Why an offer whose units left are worth nothing gives nothing (rule 9: a reason that is
/// true). None of its units taken: they cost nothing. Some taken and some left without a
/// discount: those left cost nothing (they do not carry a discount). Every unit taken:
/// `all_taken`.
fn worthless_reason(taken: bool, free_left: bool, all_taken: &'static str) -> &'static str {
    match (taken, free_left) {
        (false, _) => NOTHING_TO_DISCOUNT,
        (true, true) => NOTHING_LEFT,
        (true, false) => all_taken,
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

/// A line whose quantity alone is more units than a basket may hold, or no count of units at all.
pub(super) fn too_many_on_line(line: &crate::basket::Line) -> PricingError {
    PricingError::InvalidLine {
        line_id: line.line_id.clone(),
        field: "quantity",
        reason: format!("more than {MAX_UNITS} units on one line, got {}", line.quantity),
    }
}

/// A line within the unit limit whose gross does not fit in minor units: its unit price is at
/// fault (at most [`MAX_UNITS`] units, so the price is beyond any real one).
pub(super) fn gross_overflow(line: &crate::basket::Line) -> PricingError {
    PricingError::InvalidLine {
        line_id: line.line_id.clone(),
        field: "unit_price",
        reason: format!("{} x {} is too large to price (amount overflow)", line.quantity, line.unit_price),
    }
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

/// Checks one offer's pricing parameters against a basket in `currency` (see
/// [`super::check_offer`]).
pub(super) fn check_offer(offer: &Offer, currency: crate::money::Currency) -> Result<(), PricingError> {
    let invalid = |field: &'static str, reason: String| PricingError::InvalidOffer {
        offer_id: offer.id.clone(),
        field,
        reason,
    };
    let check_percent = |field: &'static str, p: Decimal| {
        if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED {
            return Err(invalid(field, format!("must be between 0 and 100, got {p}")));
        }
        percent_rate(offer, field, p).map(|_| ())
    };
    // An amount off: in the basket's currency and not negative.
    let check_amount = |field: &'static str, m: &Money| {
        if m.currency != currency {
            Err(invalid(field, format!("in {} but the basket is in {currency}", m.currency)))
        } else if m.is_negative() {
            Err(invalid(field, format!("must not be negative, got {m}")))
        } else {
            Ok(())
        }
    };
    let check_discount = |discount: &Discount| match discount {
        Discount::Percent(p) => check_percent("percent", *p),
        Discount::Fixed(m) => check_amount("fixed", m),
        Discount::FreeShipping => Ok(()),
    };
    match &offer.kind {
        OfferKind::Coupon { discount, .. } => check_discount(discount)?,
        OfferKind::Reward { discount: Some(discount), .. } => check_discount(discount)?,
        OfferKind::Reward { discount: None, .. } => {}
        OfferKind::StampCard(card) => {
            if card.required == 0 {
                return Err(invalid("required", "must be at least 1".to_string()));
            }
            if card.collected > card.required {
                return Err(invalid(
                    "collected",
                    format!("{} stamps collected but the card needs only {}", card.collected, card.required),
                ));
            }
        }
        OfferKind::ProgressiveDiscount { tiers, .. } => {
            for tier in tiers {
                check_percent("tiers", tier.percent)?;
            }
        }
        OfferKind::VendorPriced { discount: None, .. } => {}
        OfferKind::VendorPriced { discount: Some(d), .. } => {
            check_amount("discount", &d.amount)?;
            if let Some(l) = d.lines.iter().find(|l| l.units <= Decimal::ZERO) {
                return Err(invalid(
                    "discount",
                    format!("line {} must have a positive number of units, got {}", l.line_id, l.units),
                ));
            }
        }
    }
    Ok(())
}

pub(super) fn validate(basket: &Basket, offers: &[Offer], confirmed: &[OfferId]) -> Result<(), PricingError> {
    let currency = basket.currency;
    // Duplicates, ids (non-empty, at most 255 bytes, no control character), currency, signs.
    basket.check_lines()?;

    let mut offer_ids = HashSet::new();
    for offer in offers {
        if !offer_ids.insert(&offer.id) {
            return Err(PricingError::DuplicateOffer { offer_id: offer.id.clone() });
        }
        check_offer(offer, currency)?;
    }

    let mut seen = HashSet::new();
    for id in confirmed {
        if !offer_ids.contains(id) {
            return Err(PricingError::UnknownConfirmed { offer_id: id.clone() });
        }
        if !seen.insert(id) {
            return Err(PricingError::DuplicateConfirmed { offer_id: id.clone() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The engine against the one it replaced (`super::super::reference`), on random baskets
    //! built to hit the rules' corners: tiny prices and percentages (discounts that round to
    //! zero, winners that drop out one after another), repeated products and product lists,
    //! stamp cards over several products, fractional and zero quantities, vendor-priced offers,
    //! and offers out of their window or out of uses.

    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;
    use crate::basket::Line;
    use crate::money::Currency;
    use crate::offer::{DiscountedLine, StampCard, Tier, VendorRule};
    use crate::pricing::reference;

    const PRODUCTS: [&str; 6] = ["P0", "P1", "P2", "P3", "P4", "absent"];

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
    }

    #[derive(Debug, Clone)]
    enum Spec {
        Percent { value: i64, scale: u32, on: Vec<usize> },
        Fixed { minor: i64, on: Vec<usize> },
        Stamp { required: u32, collected: u32, restartable: bool, on: Vec<usize> },
        Progressive { tiers: Vec<(u32, i64)>, on: Vec<usize>, lines: bool, marginal: bool },
        FreeShipping { on: Vec<usize> },
        Reward { discount: Option<(bool, i64)> },
        Vendor { discount: Option<(i64, Vec<(usize, i64)>)> },
    }

    #[derive(Debug, Clone)]
    struct Scenario {
        basket: Basket,
        offers: Vec<Offer>,
        confirmed: Vec<OfferId>,
    }

    /// Product indexes, repeats allowed, sometimes naming a product no line has.
    fn listed() -> impl Strategy<Value = Vec<usize>> {
        proptest::collection::vec(0..PRODUCTS.len(), 0..=4)
    }

    fn spec(lines: usize) -> impl Strategy<Value = Spec> {
        let vendor_lines = proptest::collection::vec((0..lines + 1, 1i64..=50), 0..=3);
        prop_oneof![
            4 => (0i64..=10_000, prop_oneof![Just(2u32), Just(5), Just(8)], listed())
                .prop_map(|(value, scale, on)| Spec::Percent { value, scale, on }),
            3 => (prop_oneof![0i64..=3, 0i64..=5_000], listed()).prop_map(|(minor, on)| Spec::Fixed { minor, on }),
            3 => (1u32..=4, 0u32..=4, any::<bool>(), listed()).prop_map(|(required, c, restartable, on)| {
                Spec::Stamp { required, collected: c.min(required), restartable, on }
            }),
            2 => (proptest::collection::vec((0u32..=5, 0i64..=10_000), 0..=3), listed(), any::<bool>(), any::<bool>())
                .prop_map(|(tiers, on, lines, marginal)| Spec::Progressive { tiers, on, lines, marginal }),
            1 => listed().prop_map(|on| Spec::FreeShipping { on }),
            1 => proptest::option::of((any::<bool>(), 0i64..=5_000)).prop_map(|discount| Spec::Reward { discount }),
            2 => proptest::option::of((0i64..=5_000, vendor_lines)).prop_map(|discount| Spec::Vendor { discount }),
        ]
    }

    fn build(id: String, spec: &Spec, window: u8, currency: Currency, lines: usize) -> Offer {
        let products = |on: &Vec<usize>| on.iter().map(|p| ProductId::new(PRODUCTS[*p])).collect::<Vec<_>>();
        let scope =
            |on: &Vec<usize>| if on.is_empty() { Scope::Basket } else { Scope::Products(products(on)) };
        let money = |minor: i64| Money::new(minor, currency);
        let kind = match spec {
            Spec::Percent { value, scale, on } => OfferKind::Coupon {
                discount: Discount::Percent(Decimal::new(*value, *scale)),
                scope: scope(on),
            },
            Spec::Fixed { minor, on } => {
                OfferKind::Coupon { discount: Discount::Fixed(money(*minor)), scope: scope(on) }
            }
            Spec::Stamp { required, collected, restartable, on } => OfferKind::StampCard(StampCard {
                required: *required,
                collected: *collected,
                restartable: *restartable,
                products: products(on),
            }),
            Spec::Progressive { tiers, on, lines, marginal } => OfferKind::ProgressiveDiscount {
                tiers: tiers
                    .iter()
                    .map(|(m, h)| Tier { min_units: *m, percent: Decimal::new(*h, 2) })
                    .collect(),
                products: products(on),
                count: if *lines { ProgressiveCount::Lines } else { ProgressiveCount::Units },
                mode: if *marginal { ProgressiveMode::MarginalUnit } else { ProgressiveMode::AllUnits },
            },
            Spec::FreeShipping { on } => {
                OfferKind::Coupon { discount: Discount::FreeShipping, scope: scope(on) }
            }
            Spec::Reward { discount } => OfferKind::Reward {
                points: Decimal::from(100),
                discount: discount.map(|(percent, v)| {
                    if percent {
                        Discount::Percent(Decimal::new(v.min(10_000), 2))
                    } else {
                        Discount::Fixed(money(v))
                    }
                }),
            },
            Spec::Vendor { discount } => OfferKind::VendorPriced {
                rule: VendorRule::LowestItem,
                discount: discount.as_ref().map(|(minor, named)| {
                    // Each line at most once; index `lines` names a line the basket lacks.
                    let mut seen = HashSet::new();
                    let named = named
                        .iter()
                        .filter(|(l, _)| seen.insert(*l))
                        .map(|(l, tenths)| {
                            let id = if *l == lines { "missing".to_string() } else { format!("L{l}") };
                            DiscountedLine::new(id, Decimal::new(*tenths, 1))
                        })
                        .collect();
                    VendorDiscount::new(money(*minor), named)
                }),
            },
        };
        let day = |d: u32| Some(Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap());
        let offer = Offer::new(id.as_str(), id.as_str(), kind);
        match window {
            0 => offer.with_validity(None, day(10)),
            1 => offer.with_validity(day(20), None),
            2 => offer.with_uses_left(Some(0)),
            _ => offer,
        }
    }

    fn price_strategy() -> impl Strategy<Value = i64> {
        prop_oneof![Just(0i64), 1i64..=9, 100i64..=50_000]
    }

    fn quantity() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            4 => (0i64..=6).prop_map(Decimal::from),
            1 => (0i64..=3, 1i64..=999).prop_map(|(whole, thousandths)| Decimal::new(whole * 1000 + thousandths, 3)),
        ]
    }

    fn scenario() -> impl Strategy<Value = Scenario> {
        (any::<bool>(), proptest::collection::vec((0..5usize, quantity(), price_strategy()), 1..=10))
            .prop_flat_map(|(yen, lines)| {
                let n = lines.len();
                let offers = proptest::collection::vec((spec(n), 0u8..=12), 0..=10);
                (Just(yen), Just(lines), offers)
            })
            .prop_flat_map(|(yen, lines, offers)| {
                let n = offers.len();
                let ids = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
                let order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
                let mask = proptest::collection::vec(any::<bool>(), n);
                (Just(yen), Just(lines), Just(offers), ids, order, mask)
            })
            .prop_map(|(yen, lines, specs, ids, order, mask)| {
                let currency = if yen { Currency::JPY } else { Currency::NOK };
                let n = lines.len();
                let basket = lines.iter().enumerate().fold(Basket::new(currency), |b, (i, (p, q, price))| {
                    b.with_line(Line::new(format!("L{i}"), PRODUCTS[*p], *q, Money::new(*price, currency)))
                });
                let offers: Vec<Offer> = specs
                    .iter()
                    .zip(&ids)
                    .map(|((spec, window), id)| build(format!("o{id}"), spec, *window, currency, n))
                    .collect();
                let confirmed = order.iter().filter(|i| mask[**i]).map(|i| offers[*i].id.clone()).collect();
                Scenario { basket, offers, confirmed }
            })
    }

    /// Both engines on `s`; the fast one with each way of finding stamp units.
    fn compare(s: &Scenario) -> Result<(), TestCaseError> {
        let old = reference::run(&s.basket, &s.offers, &s.confirmed, now()).map(|r| (r.priced, r.units));
        for search in [StampSearch::Auto, StampSearch::Walk, StampSearch::Search] {
            let new = run_with(&s.basket, &s.offers, &s.confirmed, now(), true, search)
                .map(|r| (r.priced, r.units));
            prop_assert_eq!(&new, &old, "{:?}", search);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn gives_what_the_engine_it_replaced_gave(s in scenario()) {
            compare(&s)?;
        }
    }

    /// A larger basket than the random ones: 300 lines over 4 products, 60 stamp cards over one
    /// to three products each, and product coupons, so both stamp searches cross many lines.
    #[test]
    fn stamp_cards_over_several_products_agree_on_a_large_basket() {
        let mut seed = 17u64;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % m
        };
        let basket = (0..300).fold(Basket::new(Currency::NOK), |b, i| {
            let product = format!("P{}", next(4));
            b.with_line(Line::new(
                format!("L{i}"),
                product.as_str(),
                Decimal::from(next(4)),
                Money::new(100 + next(900) as i64, Currency::NOK),
            ))
        });
        let mut offers = Vec::new();
        for i in 0..60 {
            let products = (0..=next(3)).map(|_| ProductId::new(format!("P{}", next(5)))).collect();
            offers.push(Offer::new(
                format!("s{i:02}"),
                "card",
                OfferKind::StampCard(StampCard {
                    required: 1 + next(6) as u32,
                    collected: 0,
                    restartable: next(2) == 0,
                    products,
                }),
            ));
        }
        for i in 0..10 {
            offers.push(Offer::new(
                format!("c{i}"),
                "coupon",
                OfferKind::Coupon {
                    discount: Discount::Percent(Decimal::new(next(3_000) as i64, 2)),
                    scope: Scope::Products(vec![ProductId::new(format!("P{}", next(4)))]),
                },
            ));
        }
        let s = Scenario { basket, offers, confirmed: Vec::new() };
        compare(&s).unwrap();
    }

    #[test]
    fn vendor_line_named_twice_gives_the_next_units_the_second_time() {
        let nok = |m| Money::new(m, Currency::NOK);
        let basket = Basket::new(Currency::NOK).with_line(Line::new("1", "A", Decimal::from(3), nok(10_00)));
        let named = vec![DiscountedLine::new("1", Decimal::ONE), DiscountedLine::new("1", Decimal::ONE)];
        let offer = Offer::new(
            "v1",
            "vendor",
            OfferKind::VendorPriced {
                rule: VendorRule::LowestItem,
                discount: Some(VendorDiscount::new(nok(15_00), named)),
            },
        );
        let run = run(&basket, &[offer], &["v1".into()], now(), true).unwrap();
        let takers: Vec<bool> = run.units.iter().map(|u| u.offer_id.is_some()).collect();
        assert_eq!(takers, vec![true, true, false]);
        assert_eq!(run.priced.total_discount, nok(15_00));
    }
}
