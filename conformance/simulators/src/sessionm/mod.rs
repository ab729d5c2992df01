//! The SessionM (Mastercard) loyalty platform simulator, written from the SessionM contract.
//!
//! One loopback server answers all three SessionM API families, so an adapter's three base URLs
//! (POS, Connect, Core) may all point at [`crate::SimServer::base_url`]:
//!
//! | Family | Route | Contract |
//! | --- | --- | --- |
//! | POS | `POST /api/2.0/lookup` | §3.3 |
//! | POS | `POST /api/2.0/lock` | §3.5 |
//! | POS | `POST /api/2.0/unlock` | §3.6 |
//! | POS | `POST /api/2.0/redeem` | §3.7 |
//! | POS | `POST /api/2.0/reinstate` | §3.8 |
//! | POS | `POST /api/2.0/send_transaction` | §3.9 |
//! | Connect | `POST /offers/api/2.0/offers/get_user_offers` | §4.3 |
//! | Connect | `POST /incentives/api/1.0/user_points/all_balances` | §4.2 |
//! | Connect | `POST /incentives/api/1.0/user_points/balance` | §4.2 |
//! | Connect | `POST /offers/api/2.0/offers/rewardstores/purchase_offer` | §4.4, §7.10 |
//! | Core | `POST /priv/v1/apps/{api_key}/users` | §6 |
//! | Core | `GET`, `PUT /priv/v1/apps/{api_key}/users/{user_id}` | §6 |
//! | Core | `GET`, `PUT /priv/v1/apps/{api_key}/external/users/{external_id}` | §6 |
//! | simulator extra | `GET /_sim/transactions`, `GET /_sim/warnings` | §4.5 shape |
//!
//! Each family has its own HTTP Basic credentials ([`demo`]); a missing or wrong header answers
//! 401 on that family. Strict where the contract is certain (paths, verbs, field names, the POS
//! request container, required fields, enum strings); every \[S\] choice of §8.3 is a
//! [`SessionmSettings`] field. Time comes only from the [`SimClock`]: locks expire, points are
//! credited and stored `request_id`s are forgotten when the clock is moved. Ids are counters or
//! splitmix64 of a counter, never OS randomness. Faults come from the kit
//! ([`crate::SimHandle::inject`]); there are no magic values (the contract asks for none).
//!
//! # Simulator decisions where the contract is silent
//!
//! * **Names** of everything §8.2 lists as unconfirmed (error codes, discount `status` and
//!   `discount_source` values, offer types, the lookup payload key) live in one module,
//!   `names`, so a live-tenant finding is one edit.
//! * **POS responses**: success `{"status": "OK", "payload"?}` (`payload` omitted for unlock and
//!   reinstate, §3.6); failure `{"status": "error", "errors": {"code", "message", "fields"?}}`
//!   where `fields` maps a JSON path (`request_payload.transaction.items[0].quantity`) to
//!   messages. HTTP 200 by default (setting `pos_business_error_status`), 401 for credentials,
//!   400 for a missing `Content-Type: application/json` or a body that is not a JSON object.
//! * **Lookup payload** (§3.3 \[I\]): `{"user": {id, external_id, external_id_type, email,
//!   first_name, last_name, phone_numbers, opted_in, available_points, life_time_points},
//!   "user_id", "offers": [...]}`; each offer is a wallet entry (§5.6 fields: `user_offer_id`,
//!   `offer_id`, `root_offer_id`, `offer_group_id`, `offer_type`, `name`, `description`,
//!   `terms`, `is_redeemable`, `start_date`, `expiration_date`, `media`, `pos_discount_id`,
//!   `offer_config`) plus, only when a `transaction` was sent, `discount`: a Discount object
//!   (§5.5) with `status` `"available"` (or `"locked"` when the offer is locked to that
//!   transaction). Exactly one of `email`, `phone`, `user_id`, `external_customer_id` must be
//!   given; several matches answer `ambiguous_user`, none `user_not_found`. Without a basket
//!   the list is the issued, unexpired wallet; with one, only offers passing the catalog and
//!   store restrictions (§7.9), whose discount may be `0.0` when e.g. a buy-X-get-Y quantity
//!   is not reached (the full evaluation happens at lock).
//! * **Discount object** (§5.5): `reference_id` is always the `user_offer_id` with
//!   `reference_id_type` `"UserOfferId"`, also after a lock by TTL code; `status` `"locked"` /
//!   `"redeemed"`; `discount_source` `"sessionm_offer"`; `applied_time` with seven fractional
//!   digits and `Z`. Amounts are major-unit decimals computed with `rust_decimal` and rounded
//!   half-up to the store currency's minor unit (ISO 4217 exponent of `store_currency`: 2 for
//!   NOK, 3 for KWD, 0 for JPY; arithmetic rules in `offers`). The totals checks of
//!   `send_transaction` compare at that precision too.
//! * **Transactions** (§5.1): required `transaction_id`, `items` (≥ 1), `subtotal`,
//!   `tax_total`, plus `modified_time` on `send_transaction`; `is_closed`/`is_voided` default to
//!   false; amounts are JSON numbers (never strings), none negative, quantities > 0; unknown
//!   members (including any `currency`) are refused (setting `unknown_fields`); JSON `null`
//!   counts as absent. `receipt_code` and `guest_receipt_code` are both accepted. A line's
//!   `quantity × unit_price`, a sum (line subtotals, `tax_included`, discount amounts,
//!   `subtotal + tax_total`) or the points earned past rust_decimal's range (about 7.9 × 10^28)
//!   is a `validation` error naming the field, never a panic.
//! * **Idempotency** (§7.5): `request_id` is scoped to the tenant; "same body" means the same
//!   route and the same parsed JSON; every response after a valid container is stored, errors
//!   included. [`SessionmProbe::hold_processing`] keeps requests pending so "pending processing"
//!   can be tested.
//! * **Points** (§9 q. 9): `floor((Σ line subtotal − Σ discount amount) × points_per_currency_unit)`
//!   for a closed, non-voided transaction, credited to the member its discounts or payments
//!   name, `points_delay_secs` after receipt; a replacement or a void moves the balance to the new
//!   figure. One point account per user ("Spend", [`demo::POINT_ACCOUNT_ID`]).
//! * **Reward store** (§4.4, §7.10): `purchase_offer` takes `retailer_id`, `user_id`,
//!   `reward_store_id`, `reward_store_offer_id` (all required), `quantity` (default 1, 1 to 100)
//!   and `culture`; it spends the price × quantity from the available points (lifetime points
//!   stay), issues that many user offers valid 90 days, and answers the first as a wallet entry
//!   (§5.6). An unknown store or store offer answers 404 `reward_store_offer_not_found`; too few
//!   points 400 `insufficient_points`, nothing spent.
//! * **send_transaction identity**: upsert by (`store_id`, `transaction_id`) (§7.5, §8.3
//!   "store/retailer"; one retailer per simulator): the same `transaction_id` sent from another
//!   store is another transaction, and a lock or redemption belongs to the transaction of the
//!   store that made it.
//! * **send_transaction outcomes**: see the `routes::send_transaction` module docs; the payload
//!   is `{"id", "pos_transaction_id"}`.
//! * **Core**: see the `routes::core` module docs (create needs an `email` or an external id;
//!   e-mail uniqueness is checked on create and on update (§8.3, checklist 25), without regard
//!   to case; a PUT that keeps the e-mail its user has is no clash, so seeded legacy duplicates
//!   can still be updated; several users with one external id: the oldest answers).
//! * **Timestamps written**: offer dates and Core dates as `2026-01-15T12:00:00Z`; stored
//!   transaction dates as `2026-01-15T12:00:00.0000000` (seven digits, no zone), so adapters see
//!   both forms the contract mentions (§5).

mod input;
mod model;
mod names;
mod offers;
mod routes;
mod seed;
mod settings;
mod state;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

pub use settings::{
    CodeCase, ExpiredLockDiscount, PosErrorStatus, SessionmSettings, StateMismatch, TotalsMismatch,
    UnknownFields,
};

use crate::{clock::SimClock, server::SimServer};

/// The seeded demo tenant: credentials, ids, catalogue and wallet that tests and adapters can
/// rely on. Currency NOK (setting `store_currency`); the simulator clock starts at
/// 2026-01-15T12:00:00Z.
pub mod demo {
    use rust_decimal::Decimal;

    /// Retailer GUID (upper case, as in practice, §1.1); required in every Connect call.
    pub const RETAILER_ID: &str = "8E3B2C71-4F0A-4D5E-9B6C-2A1F7D3E5C90";
    /// POS `client_id` (§3.1). A live tenant may use the retailer GUID here (§1.1 \[K\]); the
    /// simulator keeps them distinct so a mix-up shows.
    pub const CLIENT_ID: &str = "C11E0001-7A2B-4C3D-8E4F-5A6B7C8D9E0F";
    /// The Oslo store (`store_id` in the POS container); every seeded offer but one is valid here.
    pub const STORE_ID: &str = "OSL-001";
    /// The Bergen store; the only store of [`UO_OTHER_STORE_ONLY`].
    pub const OTHER_STORE_ID: &str = "BGO-001";
    /// POS Basic user (§2).
    pub const POS_KEY: &str = "pos-demo-key";
    /// POS Basic password. A test credential; it must never appear in a journal or fixture.
    pub const POS_SECRET: &str = "pos-demo-secret-4b7d91";
    /// Connect Basic user (§4).
    pub const CONNECT_KEY: &str = "connect-demo-key";
    /// Connect Basic password. A test credential; never in a journal.
    pub const CONNECT_SECRET: &str = "connect-demo-secret-8e2a55";
    /// Core API key: the Core Basic user and a path segment of every Core URL (§6), so it does
    /// appear in journal paths by the vendor's design.
    pub const API_KEY: &str = "2f6d1c9a8b7e4f30a5d2c1b0e9f8a7d6";
    /// Core S2S secret: the Core Basic password. A test credential; never in a journal.
    pub const S2S_SECRET: &str = "s2s-demo-secret-c3f1a0";
    /// The store currency (no SessionM payload carries it, §5).
    pub const CURRENCY: &str = "NOK";
    /// The one point account definition ("Spend") every user has (§4.2).
    pub const POINT_ACCOUNT_ID: &str = "9D4C3B2A-1E0F-4A5B-8C7D-6E5F4A3B2C1D";
    /// `external_id_type` of the seeded loyalty-card external ids.
    pub const EXTERNAL_ID_TYPE: &str = "loyalty_card";

    /// Kari Nordmann: the member, with 250 points (1 250 lifetime) and the whole demo wallet.
    pub const USER_ID: &str = "3f1e2d4c-5b6a-4798-8a7b-6c5d4e3f2a10";
    /// Kari's e-mail (unique).
    pub const USER_EMAIL: &str = "kari.nordmann@example.com";
    /// Kari's mobile phone, digits only (unique).
    pub const USER_PHONE: &str = "4741234567";
    /// Kari's loyalty card number (`external_id`, `external_customer_id` in lookup).
    pub const USER_EXTERNAL_ID: &str = "CARD-0001";
    /// Kari's available points.
    pub const USER_POINTS: i64 = 250;
    /// Kari's lifetime points.
    pub const USER_LIFE_TIME_POINTS: i64 = 1250;
    /// Ola Nordmann (`CARD-0002`, `ola.nordmann@example.com`): shares [`SHARED_PHONE`] with Per.
    pub const OLA_USER_ID: &str = "0a1b2c3d-4e5f-4061-8273-849506172839";
    /// Per Hansen (`CARD-0003`, 40 points): shares [`SHARED_PHONE`] with Ola and
    /// [`SHARED_EMAIL`] with Lise.
    pub const PER_USER_ID: &str = "1b2c3d4e-5f60-4172-8384-95a6b7c8d9e0";
    /// Lise Hansen (`CARD-0004`, phone `4790000003`): shares [`SHARED_EMAIL`] with Per (legacy
    /// data seeded as is: a create or an update cannot give another user an e-mail in use).
    pub const LISE_USER_ID: &str = "2c3d4e5f-6071-4283-9495-a6b7c8d9e0f1";
    /// A phone two users share: a POS lookup by it is ambiguous.
    pub const SHARED_PHONE: &str = "4790000001";
    /// An e-mail two users share: a POS lookup by it is ambiguous.
    pub const SHARED_EMAIL: &str = "hansen.family@example.com";

    /// Coffee 500 g, 129.00 NOK, tax 15 % (included).
    pub const ITEM_COFFEE: &str = "COF-500";
    /// Mug, 199.00 NOK, tax 25 % (included).
    pub const ITEM_MUG: &str = "MUG-1";
    /// Extra catalogue item (simulator decision): Tea 100 g, 59.00 NOK, tax 15 % (included).
    pub const ITEM_TEA: &str = "TEA-100";
    /// Price of [`ITEM_COFFEE`].
    pub const COFFEE_PRICE: Decimal = Decimal::from_parts(12900, 0, 0, false, 2);
    /// Price of [`ITEM_MUG`].
    pub const MUG_PRICE: Decimal = Decimal::from_parts(19900, 0, 0, false, 2);
    /// Price of [`ITEM_TEA`].
    pub const TEA_PRICE: Decimal = Decimal::from_parts(5900, 0, 0, false, 2);

    /// Kari's offer: 50.00 off the whole check (`fixed_amount_check_discount`). Every `UO_*`
    /// offer was issued 2026-01-01 and is valid until 2026-12-31T23:59:59Z unless noted.
    pub const UO_FIXED_CHECK: &str = "7b0e0001-aa00-4000-8000-000000000001";
    /// 10 % off the whole check.
    pub const UO_PERCENT_CHECK: &str = "7b0e0002-aa00-4000-8000-000000000002";
    /// 20.00 off one unit of the lowest-priced coffee or tea.
    pub const UO_FIXED_LOWEST: &str = "7b0e0003-aa00-4000-8000-000000000003";
    /// 30.00 off one unit of the highest-priced item (any item).
    pub const UO_FIXED_HIGHEST: &str = "7b0e0004-aa00-4000-8000-000000000004";
    /// 50 % off one unit of the lowest-priced coffee or tea.
    pub const UO_PERCENT_LOWEST: &str = "7b0e0005-aa00-4000-8000-000000000005";
    /// 25 % off one unit of the highest-priced coffee or mug.
    pub const UO_PERCENT_HIGHEST: &str = "7b0e0006-aa00-4000-8000-000000000006";
    /// Buy 2 coffees, get 30.00 off a third (buy-X-get-Y, Y fixed off).
    pub const UO_BXGY_FIXED: &str = "7b0e0007-aa00-4000-8000-000000000007";
    /// Buy a mug, get a second mug 50 % off (buy-X-get-Y, Y percent off).
    pub const UO_BXGY_PERCENT: &str = "7b0e0008-aa00-4000-8000-000000000008";
    /// Buy a coffee, get a mug for 99.00 (buy-X-get-Y, Y at a set price).
    pub const UO_BXGY_SET_PRICE: &str = "7b0e0009-aa00-4000-8000-000000000009";
    /// One coffee for 99.00 (set-price coupon).
    pub const UO_SET_PRICE: &str = "7b0e000a-aa00-4000-8000-00000000000a";
    /// 15 % off the check, only at [`OTHER_STORE_ID`] (store restriction).
    pub const UO_OTHER_STORE_ONLY: &str = "7b0e000b-aa00-4000-8000-00000000000b";
    /// 40.00 off one mug; also reachable by [`TTL_CODE`].
    pub const UO_TTL: &str = "7b0e000c-aa00-4000-8000-00000000000c";
    /// The TTL code of [`UO_TTL`].
    pub const TTL_CODE: &str = "TTL-7Q2K9X";
    /// When [`TTL_CODE`] stops working (24 hours after the clock's start).
    pub const TTL_CODE_EXPIRES_AT: &str = "2026-01-16T12:00:00Z";
    /// 100.00 off the check, expired 2025-12-31T23:59:59Z: never listed, cannot be locked.
    pub const UO_EXPIRED: &str = "7b0e000d-aa00-4000-8000-00000000000d";
    /// "Free coffee tasting" (`manual_fulfillment`): in the wallet, never applies to a basket.
    pub const UO_MANUAL: &str = "7b0e000e-aa00-4000-8000-00000000000e";

    /// The demo reward store (§7.10): points buy its offers, which land in the wallet.
    pub const REWARD_STORE_ID: &str = "5A7E0001-9C3B-4D2A-8E1F-0B6C5D4E3F21";
    /// Store offer: the "Coffee 500 g for 99" coupon (as [`UO_SET_PRICE`]) for
    /// [`STORE_OFFER_COFFEE_POINTS`] points; the purchased user offer is valid 90 days.
    pub const STORE_OFFER_COFFEE: &str = "5A7E0101-9C3B-4D2A-8E1F-0B6C5D4E3F21";
    /// Points [`STORE_OFFER_COFFEE`] costs.
    pub const STORE_OFFER_COFFEE_POINTS: i64 = 100;
    /// Store offer: "Coffee tasting for two" (`manual_fulfillment`) for zero points; its
    /// `offer_id` equals its `root_offer_id` (§4.3 \[D\]).
    pub const STORE_OFFER_TASTING: &str = "5A7E0102-9C3B-4D2A-8E1F-0B6C5D4E3F21";
}

/// Starts SessionM simulators.
#[derive(Debug)]
pub struct SessionmSim;

impl SessionmSim {
    /// Starts a seeded simulator on 127.0.0.1 (ephemeral port).
    pub async fn start(settings: SessionmSettings, clock: SimClock) -> std::io::Result<SimServer> {
        Ok(Self::start_with_probe(settings, clock).await?.0)
    }

    /// Starts a seeded simulator and returns a probe for reading its state.
    pub async fn start_with_probe(
        settings: SessionmSettings,
        clock: SimClock,
    ) -> std::io::Result<(SimServer, SessionmProbe)> {
        Self::start_on_port(settings, clock, 0, false).await
    }

    /// [`Self::start_with_probe`] on `port` of 127.0.0.1 (0 takes a free one), with the
    /// control API ([`crate::control`]) when `control` is set: `loyalty sim --port --control`.
    pub async fn start_on_port(
        settings: SessionmSettings,
        clock: SimClock,
        port: u16,
        control: bool,
    ) -> std::io::Result<(SimServer, SessionmProbe)> {
        let inner = Arc::new(Mutex::new(seed::seed(settings)));
        let hold = Arc::new(routes::Hold::default());
        let sim = routes::Sim { inner: inner.clone(), clock: clock.clone(), hold: hold.clone() };
        let events: Option<Arc<dyn crate::control::VendorEvents>> =
            control.then(|| Arc::new(crate::control::NoEvents) as Arc<dyn crate::control::VendorEvents>);
        let server =
            crate::server::start_on_port(routes::router(sim), clock.clone(), &[], port, events).await?;
        Ok((server, SessionmProbe { inner, clock, hold }))
    }
}

/// Where a user offer stands (the SessionM contract §8.1 state machine).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfferState {
    /// In the wallet (it may still be past its expiration date).
    Issued,
    /// Locked to a transaction until `expires_at` on the simulator clock.
    Locked {
        /// The POS `transaction_id` holding the lock.
        transaction_id: String,
        /// The store the lock was taken in.
        store_id: String,
        /// When the lock lapses.
        expires_at: DateTime<Utc>,
    },
    /// Consumed by a transaction (immediate redeem or a finalized lock).
    Redeemed {
        /// The POS `transaction_id` that consumed it.
        transaction_id: String,
    },
}

/// Something `send_transaction` accepted but noted (an ignored older version, mismatched
/// totals, a discount that redeemed nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionWarning {
    /// The POS `transaction_id`.
    pub transaction_id: String,
    /// What was noted.
    pub message: String,
}

/// Read access and vendor-side hooks into a running simulator.
#[derive(Clone, Debug)]
pub struct SessionmProbe {
    inner: Arc<Mutex<state::Inner>>,
    clock: SimClock,
    hold: Arc<routes::Hold>,
}

impl SessionmProbe {
    /// Locks the state after applying every transition due on the simulator clock.
    fn lock(&self) -> std::sync::MutexGuard<'_, state::Inner> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.settle(self.clock.now());
        g
    }

    /// State of a user offer; `None` when unknown.
    pub fn offer_state(&self, user_offer_id: &str) -> Option<OfferState> {
        let g = self.lock();
        Some(match &g.user_offer(user_offer_id)?.state {
            offers::UoState::Issued => OfferState::Issued,
            offers::UoState::Locked { transaction_id, store_id, expires_at, .. } => OfferState::Locked {
                transaction_id: transaction_id.clone(),
                store_id: store_id.clone(),
                expires_at: *expires_at,
            },
            offers::UoState::Redeemed { transaction_id, .. } => {
                OfferState::Redeemed { transaction_id: transaction_id.clone() }
            }
        })
    }

    /// `user_offer_id`s the wallet call would list for the user (issued and unexpired).
    pub fn wallet(&self, user_id: &str) -> Vec<String> {
        let g = self.lock();
        let now = self.clock.now();
        g.user_offers
            .iter()
            .filter(|u| u.user_id == user_id && u.state == offers::UoState::Issued && !u.expired(now))
            .map(|u| u.user_offer_id.clone())
            .collect()
    }

    /// Available points; `None` for an unknown user.
    pub fn points(&self, user_id: &str) -> Option<Decimal> {
        self.lock().user(user_id).map(|u| u.points)
    }

    /// Lifetime points; `None` for an unknown user.
    pub fn life_time_points(&self, user_id: &str) -> Option<Decimal> {
        self.lock().user(user_id).map(|u| u.life_time_points)
    }

    /// Vendor-side event: adds `delta` (may be negative) to the user's available and lifetime
    /// points. Returns false (and changes nothing) for an unknown user or a balance the delta
    /// would push past the decimal range.
    pub fn adjust_points(&self, user_id: &str, delta: Decimal) -> bool {
        let mut g = self.lock();
        let Some(u) = g.user_mut(user_id) else { return false };
        let (Some(points), Some(life)) = (u.points.checked_add(delta), u.life_time_points.checked_add(delta))
        else {
            return false;
        };
        u.points = points;
        u.life_time_points = life.max(Decimal::ZERO);
        true
    }

    /// Vendor-side event: issues the user a new instance of the offer behind
    /// `template_user_offer_id`, valid until `expires_at`. Returns the new `user_offer_id`, or
    /// `None` for an unknown user or template.
    pub fn issue_offer(
        &self,
        user_id: &str,
        template_user_offer_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Option<String> {
        let mut g = self.lock();
        g.user(user_id)?;
        let offer = g.user_offer(template_user_offer_id)?.offer;
        let id = g.next_uuid();
        let now = self.clock.now();
        g.user_offers.push(offers::UserOffer {
            user_offer_id: id.clone(),
            user_id: user_id.to_string(),
            offer,
            issued_at: now,
            expiration_date: expires_at,
            ttl_code: None,
            state: offers::UoState::Issued,
            lapsed_locks: Vec::new(),
        });
        Some(id)
    }

    /// Stored transactions in the §4.5 shape (`pos_transaction_id`, `taxtotal`,
    /// `guest_receipt_code`, `items`, `payments`, `discounts`, `is_voided`, `modified_time`...).
    pub fn transactions(&self) -> Vec<Value> {
        let g = self.lock();
        g.transactions.values().map(|t| g.stored_view(t)).collect()
    }

    /// One stored transaction in the §4.5 shape, by POS `transaction_id`; when several stores
    /// sent that id (each is its own transaction, §7.5), the one of the first store in id order
    /// (see [`Self::transaction_at`]).
    pub fn transaction(&self, pos_transaction_id: &str) -> Option<Value> {
        let g = self.lock();
        g.transactions.values().find(|t| t.txn.transaction_id == pos_transaction_id).map(|t| g.stored_view(t))
    }

    /// One stored transaction in the §4.5 shape, by `store_id` and POS `transaction_id`: the
    /// key `send_transaction` upserts by (§7.5, §8.3).
    pub fn transaction_at(&self, store_id: &str, pos_transaction_id: &str) -> Option<Value> {
        let g = self.lock();
        g.transactions.get(&(store_id.to_string(), pos_transaction_id.to_string())).map(|t| g.stored_view(t))
    }

    /// Everything `send_transaction` noted, oldest first.
    pub fn warnings(&self) -> Vec<TransactionWarning> {
        self.lock()
            .warnings
            .iter()
            .map(|(t, m)| TransactionWarning { transaction_id: t.clone(), message: m.clone() })
            .collect()
    }

    /// Ids of users whose e-mail is `email` (case-insensitive), oldest first.
    pub fn users_by_email(&self, email: &str) -> Vec<String> {
        self.lock()
            .users
            .iter()
            .filter(|u| u.email.as_ref().is_some_and(|e| e.eq_ignore_ascii_case(email)))
            .map(|u| u.id.clone())
            .collect()
    }

    /// `request_id`s currently remembered (pending or answered), sorted.
    pub fn request_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lock().replays.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Makes POS requests wait after their `request_id` is registered, until
    /// [`Self::release_processing`]: a second request with the same id then meets "pending
    /// processing" (§7.5).
    pub fn hold_processing(&self) {
        self.hold.on.send_replace(true);
    }

    /// Lets held POS requests run.
    pub fn release_processing(&self) {
        self.hold.on.send_replace(false);
    }

    /// Waits until at least `n` POS requests are held.
    pub async fn wait_until_held(&self, n: usize) {
        let mut rx = self.hold.held.subscribe();
        let _ = rx.wait_for(|held| *held >= n).await;
    }

    /// The store currency amounts are in (setting `store_currency`; never on the wire).
    pub fn currency(&self) -> String {
        self.lock().settings.store_currency.clone()
    }

    /// The current settings.
    pub fn settings(&self) -> SessionmSettings {
        self.lock().settings.clone()
    }

    /// Replaces the settings; later requests see the new values.
    pub fn set_settings(&self, settings: SessionmSettings) {
        self.lock().settings = settings;
    }
}
