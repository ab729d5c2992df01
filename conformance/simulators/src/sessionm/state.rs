//! The simulator's state: the seeded tenant plus everything clients change, and the clock-driven
//! transitions of the SessionM contract (lock expiry §7.2, delayed points §3.9, the `request_id`
//! replay window §7.5).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{
    demo,
    input::{num, plus_secs, Obj},
    model::{checked_sum, stored_json, StoreFacts, StoredDates, Txn},
    offers::{Offer, TxnKey, UoState, UserOffer},
    settings::SessionmSettings,
};

/// A store of the retailer (§1.1 `store_id`).
#[derive(Clone, Debug)]
pub(crate) struct Store {
    pub id: String,
    pub time_zone: String,
    /// Store prices include tax (§4.5 `include_tax`).
    pub include_tax: bool,
}

/// A catalogue item; matched by `item_id` to give `master_item_id` (§5.2).
#[derive(Clone, Debug)]
pub(crate) struct CatalogItem {
    pub item_id: String,
    pub master_item_id: String,
}

/// A Core phone number entry (§5.7).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Phone {
    pub phone_number: String,
    pub phone_type: Option<String>,
    pub preference_flags: Vec<String>,
    pub verified_ownership: Option<bool>,
}

impl Phone {
    /// The number's digits, the form POS lookup compares (§3.3: phone is digits only).
    pub fn digits(&self) -> String {
        self.phone_number.chars().filter(char::is_ascii_digit).collect()
    }
}

/// A SessionM user (Core profile, §5.7) with its one point account (§4.2).
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: String,
    pub external_id: Option<String>,
    pub external_id_type: Option<String>,
    /// Every (`external_id`, `external_id_type`) mapping, oldest first (§1.1).
    pub identifiers: Vec<(String, Option<String>)>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub gender: Option<String>,
    pub dob: Option<NaiveDate>,
    pub opted_in: bool,
    /// `None` after a PUT with `phone_numbers: []` (reads back as `null`, §6 \[K\]).
    pub phone_numbers: Option<Vec<Phone>>,
    /// Plain string members stored as sent (`locale`, `address`, `city`...).
    pub attrs: BTreeMap<String, Value>,
    pub user_profile: Option<Obj>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub points: Decimal,
    pub life_time_points: Decimal,
}

impl User {
    pub fn has_phone(&self, digits: &str) -> bool {
        self.phone_numbers.iter().flatten().any(|p| p.digits() == digits)
    }

    pub fn has_external_id(&self, id: &str) -> bool {
        self.external_id.as_deref() == Some(id) || self.identifiers.iter().any(|(e, _)| e == id)
    }

    /// `phone_numbers` as Core writes it: `null` when the list was emptied (§6 \[K\]).
    pub fn phones_json(&self) -> Value {
        match &self.phone_numbers {
            None => Value::Null,
            Some(list) => Value::Array(
                list.iter()
                    .map(|p| {
                        json!({
                            "phone_number": p.phone_number,
                            "phone_type": p.phone_type,
                            "preference_flags": p.preference_flags,
                            "verified_ownership": p.verified_ownership,
                        })
                    })
                    .collect(),
            ),
        }
    }

    pub fn user_point_account_id(&self) -> String {
        format!("{}-spend", self.id)
    }

    /// One `details[]` entry of the balance calls (§4.2).
    pub fn point_detail(&self) -> Value {
        json!({
            "account_name": "Spend",
            "user_point_account_id": self.user_point_account_id(),
            "point_account_id": demo::POINT_ACCOUNT_ID,
            "grouping_label": "Spend",
            "available_balance": num(self.points),
            "life_time_value": num(self.life_time_points),
        })
    }
}

/// An offer a reward store sells for points (§4.4, §7.10 \[K\]\[D\]): a purchase issues the
/// user a new user offer of `offer`, valid `valid_days` from the purchase (simulator decision).
#[derive(Clone, Debug)]
pub(crate) struct StoreOffer {
    pub reward_store_id: String,
    pub reward_store_offer_id: String,
    /// Index into the offer list.
    pub offer: usize,
    /// Points per unit; zero-point store offers exist (§7.10 \[D\]).
    pub price: Decimal,
    pub valid_days: i64,
}

/// Loyalty outcome of one stored transaction: who is credited how many points, and when.
#[derive(Clone, Debug, Default)]
pub(crate) struct PointsOutcome {
    /// (user, points) the current version earns.
    pub target: Option<(String, Decimal)>,
    /// (user, points) already on a balance.
    pub credited: Option<(String, Decimal)>,
    /// When `target` reaches the balance (`points_delay_secs` after receipt).
    pub due_at: Option<DateTime<Utc>>,
}

/// A transaction as stored by `send_transaction` (newest `modified_time` wins, §7.5).
#[derive(Clone, Debug)]
pub(crate) struct StoredTxn {
    pub id: String,
    pub store_id: String,
    pub txn: Txn,
    pub modified: DateTime<Utc>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub points: PointsOutcome,
}

/// One `request_id` seen by a POS call (§7.5): the request and, once done, the response.
#[derive(Clone, Debug)]
pub(crate) struct Replay {
    pub path: String,
    pub body: Value,
    pub at: DateTime<Utc>,
    /// `None` while the first request is still being processed.
    pub response: Option<(u16, String)>,
}

/// Everything behind the simulator's mutex.
#[derive(Debug)]
pub(crate) struct Inner {
    pub settings: SessionmSettings,
    pub stores: Vec<Store>,
    pub catalog: Vec<CatalogItem>,
    pub offers: Vec<Offer>,
    pub offer_groups: Vec<(String, String)>,
    pub offer_categories: Vec<(String, String)>,
    pub user_offers: Vec<UserOffer>,
    /// What the reward stores sell (§7.10).
    pub store_offers: Vec<StoreOffer>,
    pub users: Vec<User>,
    /// By (`store_id`, POS `transaction_id`) (§7.5, §8.3; one retailer per simulator).
    pub transactions: BTreeMap<TxnKey, StoredTxn>,
    pub replays: HashMap<String, Replay>,
    /// (transaction id, message), oldest first.
    pub warnings: Vec<(String, String)>,
    pub seq: u64,
}

/// splitmix64: deterministic, well-spread ids without a random source.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Inner {
    /// A fresh lower-case UUID-style id (§1.1: user ids are lower-case, hyphenated).
    pub fn next_uuid(&mut self) -> String {
        self.seq += 1;
        let (a, b) = (mix(self.seq), mix(self.seq ^ 0x5E55_10A0));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFF,
            0x8000 | (b >> 48 & 0x3FFF),
            b & 0xFFFF_FFFF_FFFF
        )
    }

    pub fn store(&self, id: &str) -> Option<&Store> {
        self.stores.iter().find(|s| s.id == id)
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn user_mut(&mut self, id: &str) -> Option<&mut User> {
        self.users.iter_mut().find(|u| u.id == id)
    }

    pub fn user_offer(&self, id: &str) -> Option<&UserOffer> {
        self.user_offers.iter().find(|u| u.user_offer_id == id)
    }

    pub fn user_offer_mut(&mut self, id: &str) -> Option<&mut UserOffer> {
        self.user_offers.iter_mut().find(|u| u.user_offer_id == id)
    }

    pub fn warn(&mut self, transaction_id: &str, message: impl Into<String>) {
        self.warnings.push((transaction_id.to_string(), message.into()));
    }

    /// Applies every clock-driven transition due at `now`: locks past `expires_at` go back to
    /// issued (§7.2), points due reach balances, stored `request_id`s past the window are
    /// forgotten (§7.5). Every request and every probe read calls it first.
    pub fn settle(&mut self, now: DateTime<Utc>) {
        for uo in &mut self.user_offers {
            if let UoState::Locked { transaction_id, store_id, expires_at, .. } = &uo.state {
                if *expires_at <= now {
                    let key = (store_id.clone(), transaction_id.clone());
                    if !uo.lapsed_locks.contains(&key) {
                        uo.lapsed_locks.push(key);
                    }
                    uo.state = UoState::Issued;
                }
            }
        }
        let window = self.settings.replay_window_secs;
        self.replays.retain(|_, r| r.response.is_none() || plus_secs(r.at, window) > now);
        let due: Vec<TxnKey> = self
            .transactions
            .iter()
            .filter(|(_, t)| t.points.due_at.is_some_and(|d| d <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            self.credit_points(&k);
        }
    }

    /// Moves a transaction's points from what was credited to its current target.
    fn credit_points(&mut self, key: &TxnKey) {
        let Some(t) = self.transactions.get_mut(key) else { return };
        let (old, new) = (t.points.credited.take(), t.points.target.clone());
        t.points.due_at = None;
        t.points.credited = new.clone().filter(|(_, p)| !p.is_zero());
        // `send_transaction` refuses a version whose points would overflow the balance; a
        // balance still pushed past the decimal range by several pending versions saturates
        // (simulator decision) rather than panicking in the middle of a request.
        for (user, delta) in old.map(|(u, p)| (u, -p)).into_iter().chain(new) {
            if let Some(u) = self.user_mut(&user) {
                u.points = u.points.saturating_add(delta);
                u.life_time_points = u.life_time_points.saturating_add(delta).max(Decimal::ZERO);
            }
        }
    }

    /// Catalogue match of a POS `item_id` (§4.5 `master_item_id`).
    pub fn master_item_id(&self, item_id: &str) -> Option<String> {
        self.catalog.iter().find(|c| c.item_id == item_id).map(|c| c.master_item_id.clone())
    }

    /// The §4.5 view of one stored transaction.
    pub fn stored_view(&self, t: &StoredTxn) -> Value {
        let store = self.store(&t.store_id);
        let facts = StoreFacts {
            retailer_id: demo::RETAILER_ID,
            store_id: &t.store_id,
            time_zone: store.map(|s| s.time_zone.as_str()).unwrap_or("UTC"),
            include_tax: store.is_none_or(|s| s.include_tax),
        };
        let dates = StoredDates { id: t.id.clone(), created: t.created, updated: t.updated };
        stored_json(&t.txn, &facts, &dates, |i| self.master_item_id(i))
    }

    /// `get_store_transactions`-style payload (§4.5) of every stored transaction, or of those
    /// with a POS `transaction_id` and/or of a store.
    pub fn transactions_payload(&self, pos_transaction_id: Option<&str>, store_id: Option<&str>) -> Value {
        let results: Vec<Value> = self
            .transactions
            .values()
            .filter(|t| pos_transaction_id.is_none_or(|id| t.txn.transaction_id == id))
            .filter(|t| store_id.is_none_or(|s| t.store_id == s))
            .map(|t| self.stored_view(t))
            .collect();
        json!({"total_records": results.len(), "results": results, "pagination_token": Value::Null})
    }

    /// Points a version of a transaction earns: `floor(net × points_per_currency_unit)` where
    /// net = line subtotals − discount amounts, for a closed, non-voided transaction
    /// (simulator decision; the contract gives no formula). `None` when a sum or the product
    /// passes the decimal range.
    pub fn points_for(&self, t: &Txn) -> Option<Decimal> {
        if !t.is_closed || t.is_voided {
            return Some(Decimal::ZERO);
        }
        let lines = checked_sum(t.items.iter().map(|i| i.subtotal))?;
        let off = checked_sum(t.discounts.iter().map(|d| d.amount))?;
        let net = lines.checked_sub(off)?.max(Decimal::ZERO);
        Some(net.checked_mul(self.settings.points_per_currency_unit)?.floor())
    }

    /// The member a transaction is attributed to (§5.1: no header user field): a discount's
    /// `user_id`, else the owner of a referenced user offer, else a payment's `user_id` (a
    /// SessionM id or an external id). Simulator decision on the order.
    pub fn attributed_user(&self, t: &Txn) -> Option<String> {
        let known = |id: &str| self.user(id).map(|u| u.id.clone());
        t.discounts
            .iter()
            .filter_map(|d| d.user_id.as_deref().and_then(known))
            .chain(t.discounts.iter().filter_map(|d| {
                d.reference_id.as_deref().and_then(|r| self.user_offer(r)).map(|uo| uo.user_id.clone())
            }))
            .chain(t.payments.iter().filter_map(|p| {
                let id = p.user_id.as_deref()?;
                known(id).or_else(|| self.users.iter().find(|u| u.has_external_id(id)).map(|u| u.id.clone()))
            }))
            .next()
    }
}
