//! The Diller Retailer API v2.0 simulator, written from the Diller contract (summarised in `docs/vendors/diller.md`).
//!
//! Strict where the document is certain (paths, verbs, query and field names, enums, required
//! fields, envelopes, auth); every \[S\] choice is a [`DillerSettings`] field. Seed data is listed
//! in [`demo`].
//!
//! Kit faults can aim at one endpoint: each request is named by its catalogue id (§3: `S1`..,
//! `M1`.., `C1`.., `K1`.., `T1`..`T3`, `N1`..; `token` for `/connect/token`), so
//! `server.handle().inject_route("M3", Fault::…, times)` hits register alone, where a path
//! prefix would also hit enroll and everything else under `…/members`.

mod input;
mod route_ids;
mod routes;
mod settings;
mod state;

use std::sync::{Arc, Mutex};

use rust_decimal::Decimal;

pub use settings::{
    DeductedCount, DillerSettings, DuplicateTransaction, EnrollExisting, RestartOn, SearchKeys, StampLock,
};

use crate::{
    clock::SimClock,
    server::{SimOptions, SimServer},
};

/// The seeded demo store: credentials, ids and codes tests and adapters can rely on.
pub mod demo {
    /// OAuth client id (also the "store UID" in Diller's own tooling).
    pub const CLIENT_ID: &str = "demo-client";
    /// OAuth client secret. A test credential; it must never appear in a journal or fixture.
    pub const CLIENT_SECRET: &str = "demo-secret-9f8e7d";
    /// The only scope (§2).
    pub const SCOPE: &str = "api.retailer";
    /// Store id: the client id, as the single-store rule of the contract has it (currency NOK,
    /// time zone Europe/Oslo, culture nb-NO, country NO), so `loyalty setup diller` finds it
    /// from the client id alone.
    pub const STORE_ID: &str = "demo-client";
    /// Web-shop department.
    pub const DEPARTMENT_ID: &str = "web";
    /// POS department.
    pub const DEPARTMENT_POS: &str = "pos-1";
    /// The seeded, activated member (Kari Nordmann, 250 points, all consents given).
    pub const MEMBER_ID: &str = "m_Ao1bPoZRRV7Y";
    /// The member's phone in E.164.
    pub const MEMBER_PHONE: &str = "+4741234567";
    /// The member's e-mail.
    pub const MEMBER_EMAIL: &str = "kari.nordmann@example.com";
    /// The member's store-level identifier (searchable as `identifierValue`).
    pub const MEMBER_IDENTIFIER: &str = "EL12345";
    /// The store's `member_identifier.type`.
    pub const IDENTIFIER_TYPE: &str = "LicensePlate";
    /// Id of the member's seeded dependent ("Ola", 2018-04-01, Male).
    pub const DEPENDENT_ID: i64 = 1;
    /// Token of the member's seeded invitation (M15).
    pub const INVITATION_TOKEN: &str = "inv-7Hq2Xw";
    /// The code every OTP "sent" by M9/M11 carries (simulator decision).
    pub const OTP_CODE: i64 = 123_456;

    /// Percentage 10, whole basket, `max_redemptions` 1, valid until 2100.
    pub const COUPON_SUMMER10: &str = "SUMMER10";
    /// Numeric id of SUMMER10.
    pub const COUPON_SUMMER10_ID: i64 = 5521;
    /// Percentage 20 on product `COF-500` only, `max_redemptions` 3.
    pub const COUPON_COFFEE20: &str = "COFFEE20";
    /// Numeric id of COFFEE20.
    pub const COUPON_COFFEE20_ID: i64 = 5522;
    /// Fixed 50.00 NOK, whole basket, `max_redemptions` 1.
    pub const COUPON_FIXED50: &str = "FIXED50";
    /// Numeric id of FIXED50.
    pub const COUPON_FIXED50_ID: i64 = 5523;
    /// Expired 2025-03-01 (percentage 15).
    pub const COUPON_EXPIRED: &str = "WINTER15";
    /// Numeric id of WINTER15.
    pub const COUPON_EXPIRED_ID: i64 = 5524;
    /// Fixed 100, only for members with 1000 points (Gold); not available to the demo member.
    pub const COUPON_GOLD100: &str = "GOLD100";
    /// Numeric id of GOLD100.
    pub const COUPON_GOLD100_ID: i64 = 5525;

    /// Restartable coffee card: 6 stamps, product `COF-500`.
    pub const STAMP_CARD_COFFEE: i64 = 17;
    /// One-time tea card: 4 stamps, product `TEA-100`, not restartable.
    pub const STAMP_CARD_LAUNCH: i64 = 18;

    /// Coffee product (`ProductDetail.external_id`).
    pub const PRODUCT_COFFEE: &str = "COF-500";
    /// Tea product.
    pub const PRODUCT_TEA: &str = "TEA-100";
    /// A product on the non-eligible list (earns no points).
    pub const PRODUCT_GIFT_CARD: &str = "GIFT-CARD";

    /// Segment "Favourite drink", type Text.
    pub const SEGMENT_TEXT: i64 = 1;
    /// Segment "Wedding day", type DateTime.
    pub const SEGMENT_DATETIME: i64 = 2;
    /// Segment "Preferred shop", type Radio, options 31 Oslo, 32 Bergen.
    pub const SEGMENT_RADIO: i64 = 3;
    /// Segment "Interests", type Checkbox, options 41 Coffee, 42 Tea, 43 Pastry.
    pub const SEGMENT_CHECKBOX: i64 = 4;
    /// Segment "Shirt size", type Dropdown, options 51 S, 52 M, 53 L.
    pub const SEGMENT_DROPDOWN: i64 = 5;

    /// Level "Member" (0 points).
    pub const LEVEL_BASIC_ID: i64 = 1;
    /// Level "Gold" (1000 points).
    pub const LEVEL_GOLD_ID: i64 = 2;
}

/// Largest request body the Diller simulator reads (simulator decision); a longer one is
/// answered `413` problem details after the auth check.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Starts Diller simulators.
#[derive(Debug)]
pub struct DillerSim;

impl DillerSim {
    /// Starts a seeded simulator on 127.0.0.1 (ephemeral port).
    pub async fn start(settings: DillerSettings, clock: SimClock) -> std::io::Result<SimServer> {
        Ok(Self::start_with_probe(settings, clock).await?.0)
    }

    /// Starts a seeded simulator and returns a probe for reading its state.
    pub async fn start_with_probe(
        settings: DillerSettings,
        clock: SimClock,
    ) -> std::io::Result<(SimServer, DillerProbe)> {
        Self::start_on_port(settings, clock, 0, false).await
    }

    /// [`Self::start_with_probe`] on `port` of 127.0.0.1 (0 takes a free one), with the
    /// control API ([`crate::control`]) when `control` is set: `loyalty sim --port --control`.
    pub async fn start_on_port(
        settings: DillerSettings,
        clock: SimClock,
        port: u16,
        control: bool,
    ) -> std::io::Result<(SimServer, DillerProbe)> {
        let inner = Arc::new(Mutex::new(state::seed(settings)));
        let sim = routes::Sim { inner: inner.clone(), clock: clock.clone() };
        // Secrets never reach the journal however they are spelled (`client%5Fsecret`, a JSON
        // key with escapes); bodies above 256 KiB are refused in Diller's shape after the auth
        // check (simulator decision: a T1 of 200 lines is about 100 KiB, and it bounds memory).
        let options = SimOptions::default()
            .redact_fields(["client_secret", "password", "access_token"])
            .max_body_bytes(MAX_BODY_BYTES)
            .route_of(|parts, _| {
                route_ids::route_id(parts.method.as_str(), parts.uri.path()).map(String::from)
            })
            .port(port);
        let options = if control { options.control(Arc::new(crate::control::NoEvents)) } else { options };
        let server = crate::server::start_with(routes::router(sim), clock, options).await?;
        Ok((server, DillerProbe { inner }))
    }
}

/// Read access (and a few test hooks) into a running simulator's state.
#[derive(Clone, Debug)]
pub struct DillerProbe {
    inner: Arc<Mutex<state::Inner>>,
}

impl DillerProbe {
    fn lock(&self) -> std::sync::MutexGuard<'_, state::Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Test hook for date-only validity: adds a percentage coupon for every member, usable
    /// `max_redemptions` times, valid from the store's opening until the end of `last_day` in
    /// the store's time zone (Europe/Oslo). Returns its id.
    ///
    /// Deliberately outside the contract: C1/C2 answer this coupon's `valid_to` as the bare
    /// date (`"2026-03-29"`), while the simulator otherwise always writes dates with an offset
    /// (§7.2). It exists to test a client's tolerance of a date-only value (adapters parse
    /// leniently, §6.3 \[I\]); seeded coupons and every other route keep the offset form.
    pub fn add_coupon_ending_on(
        &self,
        code: &str,
        percent: Decimal,
        max_redemptions: u32,
        last_day: chrono::NaiveDate,
    ) -> i64 {
        use chrono::TimeZone;
        let zone = chrono_tz::Europe::Oslo;
        let next = last_day.succ_opt().unwrap_or(last_day);
        let end = (0..24)
            .find_map(|h| zone.from_local_datetime(&next.and_hms_opt(h, 0, 0)?).earliest())
            .map(|d| d.fixed_offset() - chrono::Duration::seconds(1))
            .unwrap_or_default();
        let mut g = self.lock();
        let id = g.coupons.iter().map(|c| c.id).max().unwrap_or(0) + 1;
        g.coupons.push(state::Coupon {
            id,
            code: code.to_string(),
            title: format!("{percent} % off"),
            description: "added by the probe".into(),
            kind: "Standard",
            discount_type: "Percentage",
            discount_value: percent,
            max_redemptions,
            product_ids: Vec::new(),
            valid_from: chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00+01:00").unwrap_or_default(),
            valid_to: end,
            ends_on: Some(last_day),
            required_points: None,
            membership_level: None,
        });
        id
    }

    /// Times the member redeemed the coupon; `None` for an unknown member or code.
    pub fn member_coupon_times_redeemed(&self, member_id: &str, code: &str) -> Option<u32> {
        let g = self.lock();
        g.coupon(code)?;
        Some(g.members.get(member_id)?.redeemed.get(code).copied().unwrap_or(0))
    }

    /// Stamps collected on the card; `None` for an unknown member or card.
    pub fn stamps_collected(&self, member_id: &str, card_id: i64) -> Option<u32> {
        let g = self.lock();
        g.card(card_id)?;
        Some(g.members.get(member_id)?.stamps.get(&card_id).copied().unwrap_or(0))
    }

    /// `external_transaction_id`s holding a reservation of this coupon code (any member).
    pub fn reservations(&self, code: &str) -> Vec<String> {
        self.lock()
            .members
            .values()
            .flat_map(|m| m.coupon_reservations.iter())
            .filter(|(c, _)| c == code)
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// `external_transaction_id`s of the member's stamp reservations on a card (one per stamp).
    pub fn stamp_reservations(&self, member_id: &str, card_id: i64) -> Vec<String> {
        self.lock()
            .members
            .get(member_id)
            .map(|m| {
                m.stamp_reservations.iter().filter(|(c, _)| *c == card_id).map(|(_, t)| t.clone()).collect()
            })
            .unwrap_or_default()
    }

    /// Whether a T1 with this `external_id` was booked.
    pub fn transaction_exists(&self, external_id: &str) -> bool {
        self.lock().transactions.get(external_id).is_some_and(|b| !b.is_empty())
    }

    /// How many T1s were booked under this `external_id` (more than one only with
    /// `duplicate_transaction = accept`).
    pub fn transaction_bookings(&self, external_id: &str) -> usize {
        self.lock().transactions.get(external_id).map_or(0, Vec::len)
    }

    /// Whether every booking under the id is cancelled; `None` when unknown.
    pub fn transaction_cancelled(&self, external_id: &str) -> Option<bool> {
        let g = self.lock();
        let bookings = g.transactions.get(external_id).filter(|b| !b.is_empty())?;
        Some(bookings.iter().all(|t| t.cancelled))
    }

    /// Sum refunded against the transaction (all its bookings); `None` when unknown.
    pub fn transaction_refunded(&self, external_id: &str) -> Option<Decimal> {
        let g = self.lock();
        let bookings = g.transactions.get(external_id).filter(|b| !b.is_empty())?;
        Some(bookings.iter().map(|t| t.refunded).sum())
    }

    /// The member's current points; `None` when unknown.
    pub fn member_points(&self, member_id: &str) -> Option<Decimal> {
        self.lock().members.get(member_id).map(|m| m.points)
    }

    /// Whether the member is flagged as deleted; `None` when unknown.
    pub fn member_deleted(&self, member_id: &str) -> Option<bool> {
        self.lock().members.get(member_id).map(|m| m.deleted)
    }

    /// The pending activation token of an enrolled member (what the SMS link would carry).
    pub fn activation_token(&self, member_id: &str) -> Option<String> {
        self.lock().members.get(member_id)?.activation_token.clone()
    }

    /// Test hook (§7.3): the member completes activation (`gdpr_accepted` becomes true and the
    /// activation token is consumed). Returns false for an unknown member.
    pub fn activate(&self, member_id: &str) -> bool {
        let mut g = self.lock();
        let Some(m) = g.members.get_mut(member_id) else {
            return false;
        };
        m.profile.consent.gdpr_accepted = true;
        m.activation_token = None;
        true
    }

    /// Number of `POST /connect/token` requests received (successful or not).
    pub fn token_requests(&self) -> usize {
        self.lock().token_requests
    }

    /// Number of tokens held: those issued and not yet pruned (expired tokens are dropped when
    /// the next token is issued).
    pub fn tokens_issued(&self) -> usize {
        self.lock().tokens.len()
    }

    /// Changes `expires_in` for tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.lock().settings.token_expires_in_secs = secs;
    }

    /// Revokes every issued token (the next API call answers 401).
    pub fn revoke_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// The current settings.
    pub fn settings(&self) -> DillerSettings {
        self.lock().settings.clone()
    }

    /// Replaces the settings; later requests see the new values.
    pub fn set_settings(&self, settings: DillerSettings) {
        self.lock().settings = settings;
    }
}
