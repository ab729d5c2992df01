//! Offers, user offers (wallet entries) and the discount engine for the offer families of the
//! SessionM contract §5.6 and §8.1.
//!
//! Simulator decisions (the contract names the families, not the arithmetic):
//! * modifier lines (`modifies_line_id` set) and lines with a zero price never receive an
//!   item-level or buy-X-get-Y discount; check offers count every line;
//! * "off the lowest/highest priced item" discounts one unit (a fractional quantity below one:
//!   that fraction) of the eligible line with the lowest/highest `unit_price`, the first such
//!   line on a tie; a set-price coupon does the same on the highest-priced eligible unit;
//! * buy-X-get-Y counts whole units: per application the `get_count` rewarded units are the
//!   lowest (or highest) priced eligible ones, the `buy_count` qualifying units the most
//!   expensive remaining ones; `discounted_line_ids` lists only the rewarded lines;
//! * each discount is capped at its lines' `subtotal` (check offers: the sum of line
//!   subtotals) and rounded half-up once, at the end, to the store currency's minor unit
//!   (ISO 4217 exponent: fils stay, yen have no decimals);
//! * several offers locked to one transaction are computed independently against the whole
//!   basket; `stack_order` counts them in lock order.

use chrono::{DateTime, Utc};
use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde_json::{json, Value};

use super::{
    input::{fmt_7z, fmt_z, money, num},
    model::{checked_sum, round_to, Item},
    names,
};

/// Which eligible item an item-level reward goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pick {
    Lowest,
    Highest,
}

/// What a rewarded unit (or the check) gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reward {
    Fixed(Decimal),
    Percent(Decimal),
    SetPrice(Decimal),
}

/// The discount rule of an offer (§5.6 offer types).
#[derive(Clone, Debug)]
pub(crate) enum Rule {
    /// Fixed amount or percent off the whole check.
    Check(Reward),
    /// Fixed, percent or set price on one unit of the lowest/highest priced eligible item.
    Item { reward: Reward, pick: Pick },
    /// Buy `buy_count` units of `buy_item_ids` (empty = any item), get `get_count` units of the
    /// offer's items rewarded, at most `max_applications` times per check.
    BuyGet {
        buy_count: u32,
        buy_item_ids: Vec<String>,
        get_count: u32,
        reward: Reward,
        pick: Pick,
        max_applications: u32,
    },
    /// A non-discount reward (manual fulfilment): never applies to a basket.
    Manual,
}

/// An offer definition.
#[derive(Clone, Debug)]
pub(crate) struct Offer {
    pub offer_id: String,
    pub root_offer_id: String,
    pub name: String,
    pub description: String,
    pub rule: Rule,
    /// Eligible `item_id`s; empty = every item.
    pub item_ids: Vec<String>,
    /// Stores where it is redeemable; empty = every store.
    pub store_ids: Vec<String>,
    pub pos_discount_id: Option<String>,
    pub offer_group_id: String,
    pub image_url: Option<String>,
}

/// A computed discount: amount and the (line id, quantity) pairs it touches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Computed {
    pub amount: Decimal,
    pub lines: Vec<(String, Decimal)>,
}

impl Offer {
    pub fn offer_type(&self) -> &'static str {
        match &self.rule {
            Rule::Check(Reward::Percent(_)) => names::TYPE_PERCENT_CHECK,
            Rule::Check(_) => names::TYPE_FIXED_CHECK,
            Rule::Item { reward: Reward::Fixed(_), .. } => names::TYPE_FIXED_ITEM,
            Rule::Item { reward: Reward::Percent(_), .. } => names::TYPE_PERCENT_ITEM,
            Rule::Item { reward: Reward::SetPrice(_), .. } => names::TYPE_SET_PRICE,
            Rule::BuyGet { .. } => names::TYPE_BUY_X_GET_Y,
            Rule::Manual => names::TYPE_MANUAL,
        }
    }

    /// `offer_config`: `type`, `amount`, `buy_count` and `recurrence` are the snake-case names
    /// seen (§5.6 \[K\]); the rest is simulator decision.
    pub fn config_json(&self) -> Value {
        fn reward(r: &Reward) -> (&'static str, Value) {
            match r {
                Reward::Fixed(a) => (names::REWARD_FIXED, money(*a)),
                Reward::Percent(p) => (names::REWARD_PERCENT, num(*p)),
                Reward::SetPrice(p) => (names::REWARD_SET_PRICE, money(*p)),
            }
        }
        let apply = |p: &Pick| if *p == Pick::Lowest { names::APPLY_LOWEST } else { names::APPLY_HIGHEST };
        let mut v = json!({"item_ids": self.item_ids, "store_ids": self.store_ids});
        let extra = match &self.rule {
            Rule::Check(r) => {
                let (t, a) = reward(r);
                json!({"type": t, "amount": a, "apply_to": names::APPLY_CHECK, "recurrence": 1})
            }
            Rule::Item { reward: r, pick } => {
                let (t, a) = reward(r);
                json!({"type": t, "amount": a, "apply_to": apply(pick), "recurrence": 1})
            }
            Rule::BuyGet { buy_count, buy_item_ids, get_count, reward: r, pick, max_applications } => {
                let (t, a) = reward(r);
                json!({"type": t, "amount": a, "apply_to": apply(pick), "buy_count": buy_count,
                       "buy_item_ids": buy_item_ids, "get_count": get_count, "recurrence": max_applications})
            }
            Rule::Manual => json!({"type": Value::Null}),
        };
        if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        v
    }

    /// Store restriction (§3.3 rules, §8.1).
    pub fn store_ok(&self, store_id: &str) -> bool {
        self.store_ids.is_empty() || self.store_ids.iter().any(|s| s == store_id)
    }

    fn eligible(&self, item_id: &str) -> bool {
        self.item_ids.is_empty() || self.item_ids.iter().any(|i| i == item_id)
    }

    /// Catalog restriction (§3.3 rules): the basket holds an item the offer names.
    pub fn catalog_ok(&self, items: &[Item]) -> bool {
        match &self.rule {
            Rule::Manual => false,
            Rule::BuyGet { buy_item_ids, .. } => items.iter().any(|i| {
                self.eligible(&i.item_id) || buy_item_ids.is_empty() || buy_item_ids.contains(&i.item_id)
            }),
            _ => items.iter().any(|i| self.eligible(&i.item_id)),
        }
    }

    /// The discount this offer gives on `items` (store restriction not included), rounded to
    /// `dp` decimals (the store currency's, `model::exponent`).
    pub fn compute(&self, items: &[Item], dp: u32) -> Computed {
        let none = Computed { amount: Decimal::ZERO, lines: Vec::new() };
        if !self.catalog_ok(items) {
            return none;
        }
        match &self.rule {
            Rule::Manual => none,
            Rule::Check(r) => {
                // In range for an accepted basket (model::transaction checks the sum).
                let base = checked_sum(items.iter().map(|i| i.subtotal)).unwrap_or(Decimal::MAX);
                let raw = match r {
                    Reward::Fixed(a) => (*a).min(base),
                    Reward::Percent(p) => percent_of(base, *p),
                    Reward::SetPrice(s) => (base - s).max(Decimal::ZERO),
                };
                let lines = items
                    .iter()
                    .filter(|i| i.subtotal > Decimal::ZERO)
                    .map(|i| (i.line_id.clone(), i.quantity))
                    .collect();
                finish(round_to(raw, dp).min(base), lines)
            }
            Rule::Item { reward, pick } => {
                let pick = if matches!(reward, Reward::SetPrice(_)) { Pick::Highest } else { *pick };
                let mut best: Option<&Item> = None;
                for i in items.iter().filter(|i| unit_line(i) && self.eligible(&i.item_id)) {
                    let better = match (best, pick) {
                        (None, _) => true,
                        (Some(b), Pick::Lowest) => i.unit_price < b.unit_price,
                        (Some(b), Pick::Highest) => i.unit_price > b.unit_price,
                    };
                    if better {
                        best = Some(i);
                    }
                }
                let Some(line) = best else { return none };
                // dq ≤ 1, so these products never exceed unit_price.
                let dq = line.quantity.min(Decimal::ONE);
                let base = (line.unit_price * dq).min(line.subtotal);
                let raw = match reward {
                    Reward::Fixed(a) => (*a).min(base),
                    Reward::Percent(p) => percent_of(base, *p),
                    Reward::SetPrice(s) => ((line.unit_price - s).max(Decimal::ZERO) * dq).min(base),
                };
                finish(round_to(raw, dp).min(base), vec![(line.line_id.clone(), dq)])
            }
            Rule::BuyGet { buy_count, buy_item_ids, get_count, reward, pick, max_applications } => {
                let buys = |id: &str| buy_item_ids.is_empty() || buy_item_ids.iter().any(|b| b == id);
                // One entry per whole unit: (line index, price). No application uses more than
                // buy_count + get_count units, and units of one line are alike (the stable sorts
                // below take a line's first units first), so a line contributes at most that many
                // units per application: a quantity of 10^15 does not allocate 10^15 entries.
                let per_application = u64::from(*buy_count) + u64::from(*get_count);
                let cap = per_application.saturating_mul(u64::from(*max_applications));
                let cap = Decimal::from(cap);
                let mut units: Vec<(usize, Decimal)> = Vec::new();
                for (n, i) in items.iter().enumerate().filter(|(_, i)| unit_line(i)) {
                    if self.eligible(&i.item_id) || buys(&i.item_id) {
                        let whole = i.quantity.floor().min(cap).to_usize().unwrap_or(0);
                        units.extend(std::iter::repeat_n((n, i.unit_price), whole));
                    }
                }
                let mut used = vec![false; units.len()];
                let mut per_line: Vec<(usize, Decimal, Decimal)> = Vec::new(); // (line, units, raw)
                for _ in 0..*max_applications {
                    let mut rewards: Vec<usize> = (0..units.len())
                        .filter(|&u| !used[u] && self.eligible(&items[units[u].0].item_id))
                        .collect();
                    rewards.sort_by(|&a, &b| match pick {
                        Pick::Lowest => units[a].1.cmp(&units[b].1),
                        Pick::Highest => units[b].1.cmp(&units[a].1),
                    });
                    rewards.truncate(*get_count as usize);
                    let mut qualifiers: Vec<usize> = (0..units.len())
                        .filter(|&u| !used[u] && !rewards.contains(&u) && buys(&items[units[u].0].item_id))
                        .collect();
                    qualifiers.sort_by(|&a, &b| units[b].1.cmp(&units[a].1));
                    qualifiers.truncate(*buy_count as usize);
                    if rewards.len() < *get_count as usize || qualifiers.len() < *buy_count as usize {
                        break;
                    }
                    for &u in rewards.iter().chain(qualifiers.iter()) {
                        used[u] = true;
                    }
                    for &u in &rewards {
                        let (line, price) = units[u];
                        let off = match reward {
                            Reward::Fixed(a) => (*a).min(price),
                            Reward::Percent(p) => percent_of(price, *p),
                            Reward::SetPrice(s) => (price - s).max(Decimal::ZERO),
                        };
                        // Saturating: each line's share is capped at its subtotal below.
                        match per_line.iter_mut().find(|(l, _, _)| *l == line) {
                            Some(e) => {
                                e.1 += Decimal::ONE;
                                e.2 = e.2.saturating_add(off);
                            }
                            None => per_line.push((line, Decimal::ONE, off)),
                        }
                    }
                }
                per_line.sort_by_key(|(l, _, _)| *l);
                // At most the sum of the lines' subtotals, which an accepted basket keeps in range.
                let raw = checked_sum(per_line.iter().map(|(l, _, off)| (*off).min(items[*l].subtotal)))
                    .unwrap_or(Decimal::MAX);
                let lines = per_line.iter().map(|(l, q, _)| (items[*l].line_id.clone(), *q)).collect();
                finish(round_to(raw, dp), lines)
            }
        }
    }
}

/// `p` percent of `base`, as `base × (p / 100)` so a percentage up to 100 never leaves the
/// decimal range. Every use caps the result at `base`, so an overflow (only possible above 100
/// percent) is `base` itself.
fn percent_of(base: Decimal, p: Decimal) -> Decimal {
    base.checked_mul(p / Decimal::ONE_HUNDRED).unwrap_or(base)
}

/// A line that can carry an item-level discount: not a modifier, positive quantity and price.
fn unit_line(i: &Item) -> bool {
    i.modifies_line_id.is_none() && i.quantity > Decimal::ZERO && i.unit_price > Decimal::ZERO
}

fn finish(amount: Decimal, lines: Vec<(String, Decimal)>) -> Computed {
    if amount <= Decimal::ZERO {
        return Computed { amount: Decimal::ZERO, lines: Vec::new() };
    }
    Computed { amount, lines }
}

/// A POS transaction's identity: (`store_id`, `transaction_id`). `send_transaction` upserts
/// by (store/retailer, `transaction_id`) (§7.5, §8.3); the simulator has one retailer, so the
/// same `transaction_id` sent from two stores is two transactions (simulator decision: POS
/// systems number their checks per store).
pub(crate) type TxnKey = (String, String);

/// State of one user offer (§8.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UoState {
    Issued,
    Locked { transaction_id: String, store_id: String, expires_at: DateTime<Utc>, stack_order: i64 },
    Redeemed { transaction_id: String, store_id: String },
}

impl UoState {
    /// True when this is a lock taken by the transaction `transaction_id` of `store`.
    pub fn locked_by(&self, store: &str, transaction: &str) -> bool {
        matches!(self, UoState::Locked { transaction_id, store_id, .. }
            if transaction_id == transaction && store_id == store)
    }

    /// True when this is a lock of, or a redemption by, the transaction `transaction_id` of
    /// `store`.
    pub fn held_by(&self, store: &str, transaction: &str) -> bool {
        self.locked_by(store, transaction)
            || matches!(self, UoState::Redeemed { transaction_id, store_id }
                if transaction_id == transaction && store_id == store)
    }
}

/// One issued instance of an offer in a user's wallet.
#[derive(Clone, Debug)]
pub(crate) struct UserOffer {
    pub user_offer_id: String,
    pub user_id: String,
    /// Index into the offer list.
    pub offer: usize,
    pub issued_at: DateTime<Utc>,
    pub expiration_date: DateTime<Utc>,
    /// A short-lived redemption code and the end of its life (§1.1 TTL code).
    pub ttl_code: Option<(String, DateTime<Utc>)>,
    pub state: UoState,
    /// Transactions whose lock on this offer lapsed (the expired-lock rule, §7.2, §8.3): a
    /// closed transaction carrying such a lock's Discount redeems the offer if it is still
    /// available. A transaction leaves the list when it locks the offer again (its lock is
    /// live, and an unlock after that releases it for good) or when the offer is reinstated.
    pub lapsed_locks: Vec<TxnKey>,
}

impl UserOffer {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now > self.expiration_date
    }

    /// A wallet entry (§5.6 fields).
    pub fn json(&self, offer: &Offer, now: DateTime<Utc>) -> Value {
        let media: Vec<Value> =
            offer.image_url.iter().map(|u| json!({"uri": u, "category_name": "image"})).collect();
        json!({
            "user_offer_id": self.user_offer_id,
            "offer_id": offer.offer_id,
            "root_offer_id": offer.root_offer_id,
            "offer_group_id": offer.offer_group_id,
            "offer_type": offer.offer_type(),
            "name": offer.name,
            "description": offer.description,
            "terms": format!("Valid until {}. One use per member.", self.expiration_date.format("%Y-%m-%d")),
            "is_redeemable": self.state == UoState::Issued && !self.expired(now),
            "start_date": fmt_z(self.issued_at),
            "expiration_date": fmt_z(self.expiration_date),
            "media": media,
            "pending_extended_data": Value::Null,
            "custom_data": Value::Null,
            "pos_discount_id": offer.pos_discount_id,
            "offer_config": offer.config_json(),
        })
    }

    /// The Discount object (§5.5) for `computed`. `reference_id` is always the
    /// `user_offer_id`, also when the offer was found by TTL code (simulator decision: it is what
    /// unlock and reinstate need, §3.6).
    pub fn discount_json(
        &self,
        offer: &Offer,
        c: &Computed,
        status: &str,
        stack_order: Option<i64>,
        now: DateTime<Utc>,
    ) -> Value {
        json!({
            "reference_id": self.user_offer_id,
            "reference_id_type": names::LOOKUP_USER_OFFER_ID,
            "pos_discount_id": offer.pos_discount_id,
            "status": status,
            "display_name": offer.name,
            "image_url": offer.image_url,
            "discounted_line_ids": c.lines.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>(),
            "discounted_line_id_quantities": c.lines.iter().map(|(_, q)| num(*q)).collect::<Vec<_>>(),
            "discount_source": names::DISCOUNT_SOURCE,
            "amount": money(c.amount),
            "stack_order": stack_order,
            "applied_time": fmt_7z(now),
            "user_id": self.user_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(line: &str, id: &str, q: i64, price: i64) -> Item {
        Item {
            line_id: line.into(),
            item_id: id.into(),
            quantity: Decimal::from(q),
            unit_price: Decimal::from(price),
            subtotal: Decimal::from(q * price),
            tax_included: None,
            modifies_line_id: None,
            custom_data: None,
        }
    }

    fn offer(rule: Rule, items: &[&str]) -> Offer {
        Offer {
            offer_id: "O".into(),
            root_offer_id: "R".into(),
            name: "n".into(),
            description: "d".into(),
            rule,
            item_ids: items.iter().map(|s| s.to_string()).collect(),
            store_ids: vec![],
            pos_discount_id: None,
            offer_group_id: "G".into(),
            image_url: None,
        }
    }

    fn d(n: i64) -> Decimal {
        Decimal::from(n)
    }

    #[test]
    fn fixed_check_is_capped_at_the_check() {
        let o = offer(Rule::Check(Reward::Fixed(d(500))), &[]);
        let c = o.compute(&[item("1", "A", 1, 100), item("2", "B", 2, 10)], 2);
        assert_eq!(c.amount, d(120));
        assert_eq!(c.lines.len(), 2);
    }

    #[test]
    fn percent_off_lowest_takes_one_unit_of_the_cheapest_line() {
        let o = offer(Rule::Item { reward: Reward::Percent(d(50)), pick: Pick::Lowest }, &["A", "B"]);
        let c = o.compute(&[item("1", "A", 3, 129), item("2", "B", 2, 59), item("3", "C", 1, 5)], 2);
        assert_eq!(c, Computed { amount: Decimal::new(2950, 2), lines: vec![("2".into(), d(1))] });
    }

    #[test]
    fn set_price_goes_to_the_highest_priced_unit() {
        let o = offer(Rule::Item { reward: Reward::SetPrice(d(99)), pick: Pick::Lowest }, &[]);
        let c = o.compute(&[item("1", "A", 1, 129), item("2", "B", 1, 199)], 2);
        assert_eq!(c, Computed { amount: d(100), lines: vec![("2".into(), d(1))] });
    }

    #[test]
    fn buy_two_get_one_rewards_the_cheapest_and_needs_three_units() {
        let rule = |n| Rule::BuyGet {
            buy_count: 2,
            buy_item_ids: vec![],
            get_count: 1,
            reward: Reward::Fixed(d(30)),
            pick: Pick::Lowest,
            max_applications: n,
        };
        let o = offer(rule(1), &["A"]);
        assert_eq!(o.compute(&[item("1", "A", 2, 129)], 2).amount, d(0));
        assert_eq!(
            o.compute(&[item("1", "A", 3, 129)], 2),
            Computed { amount: d(30), lines: vec![("1".into(), d(1))] }
        );
        let twice = offer(rule(2), &["A"]);
        assert_eq!(twice.compute(&[item("1", "A", 6, 129)], 2).amount, d(60));
    }

    #[test]
    fn buy_x_get_y_with_separate_lists() {
        let o = offer(
            Rule::BuyGet {
                buy_count: 1,
                buy_item_ids: vec!["A".into()],
                get_count: 1,
                reward: Reward::SetPrice(d(99)),
                pick: Pick::Lowest,
                max_applications: 1,
            },
            &["B"],
        );
        assert_eq!(o.compute(&[item("2", "B", 1, 199)], 2).amount, d(0));
        let c = o.compute(&[item("1", "A", 1, 129), item("2", "B", 1, 199)], 2);
        assert_eq!(c, Computed { amount: d(100), lines: vec![("2".into(), d(1))] });
    }

    #[test]
    fn modifier_lines_get_no_item_discount() {
        let o = offer(Rule::Item { reward: Reward::Fixed(d(20)), pick: Pick::Lowest }, &[]);
        let mut extra = item("2", "X", 1, 5);
        extra.modifies_line_id = Some("1".into());
        let c = o.compute(&[item("1", "A", 1, 129), extra], 2);
        assert_eq!(c.lines, vec![("1".into(), d(1))]);
    }

    #[test]
    fn discounts_round_to_the_given_currency_decimals() {
        let mut line = item("1", "A", 1, 0);
        line.unit_price = Decimal::new(60125, 3);
        line.subtotal = line.unit_price;
        // 10 % of 60.125 = 6.0125: 6.013 in fils (KWD), 6.01 in cents, 6 in whole yen.
        let o = offer(Rule::Check(Reward::Percent(d(10))), &[]);
        let amounts: Vec<Decimal> =
            [3, 2, 0].iter().map(|dp| o.compute(&[line.clone()], *dp).amount).collect();
        assert_eq!(amounts, vec![Decimal::new(6013, 3), Decimal::new(601, 2), d(6)]);
        let item_level = offer(Rule::Item { reward: Reward::Percent(d(10)), pick: Pick::Lowest }, &[]);
        assert_eq!(item_level.compute(&[line.clone()], 3).amount, Decimal::new(6013, 3));
        let bxgy = Rule::BuyGet {
            buy_count: 0,
            buy_item_ids: vec![],
            get_count: 1,
            reward: Reward::Percent(d(10)),
            pick: Pick::Lowest,
            max_applications: 1,
        };
        assert_eq!(offer(bxgy, &[]).compute(&[line], 3).amount, Decimal::new(6013, 3));
    }

    #[test]
    fn catalog_restriction_excludes_baskets_without_eligible_items() {
        let o = offer(Rule::Item { reward: Reward::Fixed(d(20)), pick: Pick::Lowest }, &["A"]);
        assert!(!o.catalog_ok(&[item("1", "B", 1, 10)]));
        assert_eq!(o.compute(&[item("1", "B", 1, 10)], 2).amount, d(0));
    }
}
