//! The eManage CRM "ECOMM API" simulator, written from the eManage contract.
//!
//! # What is simulated
//!
//! Under the base path `/api` (the adapter's sales base URL ends in `/api`, §2):
//!
//! | Verb and path | Contract |
//! | --- | --- |
//! | `GET campaigns/{wk}/customers/location` | §6.1 |
//! | `GET campaigns/{wk}/products/prices` (object form) and `…/prices/{countryCode}` (array form) | §6.1, §5.3 |
//! | `GET campaigns/{wk}/upsells` | §6.1 |
//! | `GET campaigns/{wk}/taxes/{countryCode}/{stateCode}[?coupon=]`, `GET campaigns/{wk}/coupons/{couponCode}?currencyCode=` | §6.1 |
//! | `POST customers/{wk}`, `GET validation/verify-email/?email=`, `GET giftcards/balance/{code}` (plus `Authorization: iam-basic …`) | §6.2, §3 |
//! | `POST shoppingcart/{wk}/new`, `POST …/add`, `PUT …/update`, `DELETE …/remove`, `GET shoppingcart/{wk}` | §6.4 rows 1-5, §7 |
//! | `POST shoppingcart/{wk}/customers/new`, `POST shoppingcart/{wk}/checkout` | §6.4 rows 6-7 |
//! | `POST orders/{wk}` (main and upsell orders) | §6.3 |
//! | `POST /auth`, `GET /order/export/{page}/{pageSize}` (also `/api/orders/export/…`) | §12 |
//!
//! Every Web Sales call needs the `X_CID` header (any letter case of the name): missing or
//! unknown is 401 `{message}`; a web key not of that client is 404 (§3, §10). Bodies are read
//! leniently as the vendor binds them: keys in any letter case, numbers or numeric strings,
//! unknown members ignored; missing or invalid fields are 400 with a `modelState` naming them.
//!
//! # Simulator extras and decisions
//!
//! Nothing below is vendor-documented; each is a simulator decision (\[S\] in the contract, or
//! this module's own where the contract is silent), and adapters must not depend on any of it:
//!
//! * Settings: every \[S\] row of §15.2 is a field of [`EmanageSettings`] (`settings.rs`).
//! * Names the contract lists as inferred or simulator-chosen (§15.1) are constants in one
//!   module (`names.rs`), so a finding from a live account is one edit.
//! * Cart GET extras (§6.4 notes, §8, §15.1): per line `listPrice`, `discountPercent`,
//!   `lineTotal`, `lineDiscount`, `shippingMethodId`, `upgradeStatus`, `upgradedFromProductId`;
//!   at the top `subtotal`, `shippingTotal`, `discountTotal`, `total`, `currency`, `status`,
//!   `test`, `shoppingCartNumber`, `upgradeParentSessionId`, `callBackUrl`,
//!   `paymentContinueResult` (3-D Secure waiting), `upgrades[]` (`routes/cart.rs`). A discounted
//!   unit `price` that is not a whole number of minor units is rounded half-up; `lineTotal` and
//!   the totals stay exact. With [`EmanageSettings::cart_extras`] off the cart GET is
//!   `products[]` with the contract's five fields only.
//! * Prices: an open cart's plain lines follow the campaign's current price (§6.4 notes, "the
//!   server very likely re-prices"; [`EmanageSettings::reprice_open_carts`]); they are fixed
//!   once a checkout starts.
//! * Injected faults (§10): a 429 answers `{ "message" }` with `Retry-After`; a 500 / 503 plain
//!   text or nothing ([`EmanageSettings::server_fault_body`]), through the kit's fault-body
//!   hook.
//! * Redirect and 3-D Secure payments (§6.3, §15.1: the confirmation path is not shown):
//!   `callBackUrl` / `paymentContinueResult.actionUrl` point to `GET {sim}/payments/{tracking}`;
//!   `POST {sim}/payments/{tracking}/approve` confirms and `…/cancel` abandons, where `{sim}` is
//!   [`EmanageSettings::sim_prefix`] (default `/__sim`, no `X_CID` needed). The probe's
//!   [`EmanageProbe::confirm_payment`] does the same. Unconfirmed after
//!   `redirect_timeout_secs`, a cart goes back to Open and an offline-upgrade session is
//!   discarded (`state.rs`).
//! * Payment outcomes come from the test card table ([`TestPans`], `payment.rs`) for live and
//!   test carts alike; redirect processors are 5, 31, 25, 33, 34; processor 62 pays with the
//!   gift card named by `GiftCardNumber` when its balance covers the whole amount (else a
//!   decline: 200 `success:false`), and a cart paid so is upgraded in a new session like a
//!   redirect one, whose confirmation spends the card on the upgrade's amount (else a decline,
//!   `{ success: false, message }`, and the session still awaits payment); other processors
//!   are 400.
//! * Seeded reads (§6.1, §6.2; [`demo`] and settings): tax rates by state, coupons, gift cards
//!   and the `iam-basic` key. The replies of `POST customers/{wk}` (`{ success, customerId }`)
//!   and `verify-email` (`{ email, isValid }`) are not shown by the public material.
//! * Upgrades (§7.2, `upgrade.rs`, `state.rs`): a step stays a `preview` for
//!   `upgrade_capture_delay_secs` (default 10 minutes, so that checklist 12's "no capture
//!   between" holds with the defaults), then its charge is tried up to
//!   `max_upgrade_charge_attempts` times; steps within the window are charged once, last − first.
//!   A step that owes nothing is settled at once. Deltas use catalogue prices; an upgraded unit
//!   keeps the discount of the unit it replaced. `upgradePreviewQuantity` says how many units
//!   are upgraded; the line's `quantity` is compared with it only under
//!   [`EmanageSettings::upgrade_quantity_must_match`]. A discarded chain's line goes back to the
//!   original product and reports `upgradeStatus: "discarded"` (merged into the rest of a split
//!   line when there is one). When a later step of an already charged chain fails, the line goes
//!   back to the last paid product.
//! * An unknown `sessionId` is 404 whatever its shape (checklist 8); a missing one is 400.
//! * Progressive discount (§8, `pricing.rs`): computed per product group on its total in minor
//!   units, half-up once, allocated over split lines by largest remainder.
//! * Ids: session ids are GUID-shaped and deterministic (a counter through splitmix64); cart,
//!   order, customer, address and card numbers come from one counter.
//!
//! Seed data is listed in [`demo`].

mod catalog;
mod input;
mod names;
mod payment;
mod pricing;
mod routes;
mod session;
mod settings;
mod state;
mod upgrade;

use std::sync::{Arc, Mutex};

use rust_decimal::Decimal;

pub use session::{Capture, CaptureKind, SessionStatus, UpgradeStatus};
pub use settings::{
    CapturePolicy, Coupon, DiscountCount, DiscountMode, DuplicateAdd, EmanageSettings, GiftCard, Location,
    OfflineUpgradeCreation, PriceCheck, ProgressiveDiscount, ServerFaultBody, TaxRate, TestPans, Tier,
};

use crate::{clock::SimClock, server::SimServer};

/// The seeded demo tenant: client ids, campaign web keys, products, prices, test cards.
pub mod demo {
    use rust_decimal::Decimal;

    /// The demo merchant's client id, sent as `X_CID` (a GUID, §3). Public in real pages, but
    /// treated as a secret: it never reaches the journal.
    pub const CID: &str = "5b1c3a52-8f0e-4c7e-9d2a-6f41e2b7c9d0";
    /// Web key of the shopping-cart campaign "Demo Cart Shop": the addendum's products, the
    /// progressive-discount products, sells to US and CA.
    pub const WEB_KEY: &str = "a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    /// Web key of a second shopping-cart campaign of the same client ("Demo Cart Shop (second
    /// campaign)", [`PRODUCT_BASIC`] only, no discount): its sessions are 404 on [`WEB_KEY`].
    pub const WEB_KEY_SECOND: &str = "b4e2d3c5-6f70-4b8c-9dae-1f203b4c5d6e";
    /// Web key of the single-offer campaign "Demo Single Offer" ([`PRODUCT_OFFER`]), whose
    /// funnel has one upsell step on [`WEB_KEY_UPSELL`].
    pub const WEB_KEY_OFFER: &str = "c5f3e4d6-7081-4c9d-aebf-20314c5d6e7f";
    /// Web key of the upsell campaign of [`WEB_KEY_OFFER`] ([`PRODUCT_UPSELL`]).
    pub const WEB_KEY_UPSELL: &str = "d6a4f5e7-8192-4dae-bfc0-31425d6e7f80";
    /// Another merchant's client id.
    pub const OTHER_CID: &str = "e7b5a6f8-92a3-4ebf-a0d1-42536e7f8091";
    /// That merchant's shopping-cart campaign: 404 when called with [`CID`].
    pub const OTHER_WEB_KEY: &str = "f8c6b7a9-a3b4-4fc0-91e2-53647f8091a2";

    /// Addendum product `918325` "Glow Serum - 1 bottle", 100.00 (§7.1); not discounted.
    pub const PRODUCT_BASIC: i64 = 918_325;
    /// Price of [`PRODUCT_BASIC`].
    pub const PRICE_BASIC: Decimal = Decimal::from_parts(100, 0, 0, false, 0);
    /// Addendum product `918446` "Glow Serum - 2 bottles", 120.00: the first upgrade.
    pub const PRODUCT_UPGRADE: i64 = 918_446;
    /// Price of [`PRODUCT_UPGRADE`].
    pub const PRICE_UPGRADE: Decimal = Decimal::from_parts(120, 0, 0, false, 0);
    /// Addendum product `918447` "Glow Serum - 3 bottles", 140.00: the upgrade of the upgrade.
    pub const PRODUCT_PREMIUM: i64 = 918_447;
    /// Price of [`PRODUCT_PREMIUM`].
    pub const PRICE_PREMIUM: Decimal = Decimal::from_parts(140, 0, 0, false, 0);

    /// "Bamboo Towel Set", 100.00, qualifies for the progressive discount (§9.5 rows with
    /// 100.00).
    pub const PRODUCT_TIER_100: i64 = 918_501;
    /// Price of [`PRODUCT_TIER_100`].
    pub const PRICE_TIER_100: Decimal = Decimal::from_parts(100, 0, 0, false, 0);
    /// "Bamboo Bath Mat", 60.00, qualifies for the progressive discount.
    pub const PRODUCT_TIER_60: i64 = 918_502;
    /// Price of [`PRODUCT_TIER_60`].
    pub const PRICE_TIER_60: Decimal = Decimal::from_parts(60, 0, 0, false, 0);
    /// "Bamboo Face Cloth", 33.33, qualifies for the progressive discount (§9.5 rounding row).
    pub const PRODUCT_TIER_33_33: i64 = 918_503;
    /// Price of [`PRODUCT_TIER_33_33`].
    pub const PRICE_TIER_33_33: Decimal = Decimal::from_parts(3333, 0, 0, false, 2);
    /// "Shower Caddy", 60.00, does not qualify for the progressive discount.
    pub const PRODUCT_NOT_QUALIFYING: i64 = 918_504;
    /// Price of [`PRODUCT_NOT_QUALIFYING`].
    pub const PRICE_NOT_QUALIFYING: Decimal = Decimal::from_parts(60, 0, 0, false, 0);

    /// Shipping method `145` (§7.1), free; offered for every demo product.
    pub const SHIPPING_METHOD: i64 = 145;
    /// Shipping method `146` "express", 9.95 per line; offered for every demo product.
    pub const SHIPPING_METHOD_EXPRESS: i64 = 146;
    /// Price of [`SHIPPING_METHOD_EXPRESS`].
    pub const SHIPPING_EXPRESS_PRICE: Decimal = Decimal::from_parts(995, 0, 0, false, 2);

    /// "Pocket Blender", 49.95, the main product of [`WEB_KEY_OFFER`].
    pub const PRODUCT_OFFER: i64 = 918_900;
    /// Price of [`PRODUCT_OFFER`].
    pub const PRICE_OFFER: Decimal = Decimal::from_parts(4995, 0, 0, false, 2);
    /// "Blender Travel Lid", 19.95, the product of [`WEB_KEY_UPSELL`].
    pub const PRODUCT_UPSELL: i64 = 918_901;
    /// Price of [`PRODUCT_UPSELL`].
    pub const PRICE_UPSELL: Decimal = Decimal::from_parts(1995, 0, 0, false, 2);

    /// Card approved (§11 test table).
    pub const PAN_APPROVE: &str = "4111111111111111";
    /// Card declined: 200 `success:false`, `orderNumber:null`.
    pub const PAN_DECLINE: &str = "4000000000000002";
    /// Card that needs a 3-D Secure step: `paymentContinueResult.actionUrl` is set.
    pub const PAN_3DS: &str = "4000000000003220";
    /// Card approved at checkout whose later upgrade charges (and charges on file) all fail.
    pub const PAN_UPGRADE_CHARGE_FAILS: &str = "4000000000000341";
    /// An expiration that is valid for the demo clock (`MM/YYYY`).
    pub const CARD_EXPIRATION: &str = "12/2030";
    /// A CVV for the demo cards.
    pub const CARD_CVV: &str = "123";

    /// PayPal, a redirect processor (§6.3); the other redirect ids are 31, 25, 33 and 34.
    pub const PROCESSOR_PAYPAL: i64 = 5;
    /// Billing descriptor answered by checkout and orders.
    pub const DESCRIPTOR: &str = "DEMOSHOP*GLOW";

    /// The `iam-basic` key of the gift-card balance call (`Authorization: iam-basic <GUID>`,
    /// §3). A test credential; it never reaches the journal.
    pub const IAM_BASIC_KEY: &str = "0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f";
    /// Gift card with 100.00 that may pay shipping (§6.2, processor 62).
    pub const GIFT_CARD_100: &str = "GIFT-100-DEMO";
    /// Gift card with 25.00 that may not pay shipping.
    pub const GIFT_CARD_25: &str = "GIFT-25-DEMO";
    /// Campaign coupon: 10 % off from a purchase of 50.00 (§6.1).
    pub const COUPON: &str = "SAVE10";
    /// Gift-card payments (§6.3: `62`, a gift card covering the whole amount).
    pub const PROCESSOR_GIFT_CARD: i64 = 62;

    /// Reporting API user (§12, HTTP Basic on `POST /auth`).
    pub const REPORTING_USER: &str = "demo-reporter";
    /// Reporting API password. A test credential; it never reaches the journal.
    pub const REPORTING_PASSWORD: &str = "demo-report-pass-7c1e";
}

/// Starts eManage simulators.
#[derive(Debug)]
pub struct EmanageSim;

impl EmanageSim {
    /// Starts a seeded simulator on 127.0.0.1 (ephemeral port); point the adapter's sales base
    /// URL at `{base_url}/api`.
    pub async fn start(settings: EmanageSettings, clock: SimClock) -> std::io::Result<SimServer> {
        Ok(Self::start_with_probe(settings, clock).await?.0)
    }

    /// Starts a seeded simulator and returns a probe for reading its state and driving
    /// vendor-side events.
    pub async fn start_with_probe(
        settings: EmanageSettings,
        clock: SimClock,
    ) -> std::io::Result<(SimServer, EmanageProbe)> {
        Self::start_on_port(settings, clock, 0, false).await
    }

    /// [`Self::start_with_probe`] on `port` of 127.0.0.1 (0 takes a free one), with the
    /// control API ([`crate::control`]) when `control` is set: `loyalty sim --port --control`.
    pub async fn start_on_port(
        settings: EmanageSettings,
        clock: SimClock,
        port: u16,
        control: bool,
    ) -> std::io::Result<(SimServer, EmanageProbe)> {
        let fault_body = settings.server_fault_body;
        let inner = state::Inner::new(settings);
        let prefix = inner.sim_prefix.clone();
        let inner = Arc::new(Mutex::new(inner));
        let sim = routes::Sim { inner: inner.clone(), clock: clock.clone() };
        // `X_CID` and card data never reach the journal (§3, §13).
        let options = crate::server::SimOptions::default()
            .redact_headers(["x_cid"])
            .redact_fields(["creditcard", "cvv"])
            // Injected faults in the contract's shapes (§10), not the kit's problem details.
            .fault_body(move |status| routes::fault(status, fault_body))
            .port(port);
        let options = if control {
            options.control(Arc::new(Events(EmanageProbe { inner: inner.clone(), clock: clock.clone() })))
        } else {
            options
        };
        let server = crate::server::start_with(routes::router(sim, &prefix), clock.clone(), options).await?;
        inner.lock().unwrap_or_else(|e| e.into_inner()).base_url = server.base_url().to_string();
        Ok((server, EmanageProbe { inner, clock }))
    }
}

/// One upgrade chain of a session (§7.2), as the probe reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpgradeView {
    /// The originally paid product (`p0`).
    pub from_product_id: i64,
    /// The chain's head (the latest step).
    pub product_id: i64,
    /// Units in the chain.
    pub quantity: u32,
    /// `preview`, `charged` or `discarded`.
    pub status: UpgradeStatus,
    /// What fulfilment ships for these units now.
    pub ships_product_id: i64,
    /// Steps that never ship (superseded previews, failed steps).
    pub discarded_product_ids: Vec<i64>,
    /// Total captured for the chain so far, on the session or its upgrade sessions.
    pub captured: Decimal,
    /// Charge attempts made for the current step.
    pub attempts: u32,
    /// The amount each of those attempts tried to capture, in order (major units, all the
    /// chain's units): `[40, 40, 40]` for three failed tries of a 100 → 140 chain (§9.3).
    pub tried: Vec<Decimal>,
    /// The offline-upgrade session of the latest step, if any.
    pub upgrade_session_id: Option<String>,
}

/// A session as the probe reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionView {
    /// The session id (lower-case GUID).
    pub id: String,
    /// Its campaign's web key (lower case).
    pub web_key: String,
    /// Where it is in the §14 state machine.
    pub status: SessionStatus,
    /// A test cart (`behaviorId=2`, §11).
    pub test: bool,
    /// For an offline-upgrade session, the session it upgrades.
    pub upgrade_parent_session_id: Option<String>,
    /// Assigned at the first checkout that did not decline.
    pub shopping_cart_number: Option<u64>,
    /// Assigned with the cart number.
    pub order_number: Option<String>,
    /// Current lines: (product id, quantity), upgrade heads included.
    pub lines: Vec<(i64, u32)>,
    /// Every capture on this session.
    pub captures: Vec<Capture>,
    /// What ships (paid sessions only; an upgrade session ships nothing itself).
    pub shipments: Vec<(i64, u32)>,
    /// The session's upgrade chains.
    pub upgrades: Vec<UpgradeView>,
    /// Declined checkout attempts.
    pub declines: u32,
}

impl SessionView {
    /// Sum of every capture.
    pub fn captured(&self) -> Decimal {
        self.captures.iter().map(|c| c.amount).sum()
    }
}

/// A single-offer or upsell order as the probe reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrderView {
    /// `orderNumber`.
    pub number: String,
    /// The campaign it was posted to.
    pub web_key: String,
    /// `?behaviorId=2` test order.
    pub test: bool,
    /// The product ordered.
    pub product_id: i64,
    /// Product plus shipping.
    pub amount: Decimal,
    /// The customer's e-mail.
    pub email: String,
    /// Paid (approved, or redirect confirmed).
    pub paid: bool,
    /// For an upsell, the main order it belongs to.
    pub related_order: Option<String>,
}

/// Read access into a running simulator's state, and hooks for vendor-side events. Every call
/// first applies what the simulator clock has made due (timeouts, upgrade charges).
#[derive(Clone, Debug)]
pub struct EmanageProbe {
    inner: Arc<Mutex<state::Inner>>,
    clock: SimClock,
}

impl EmanageProbe {
    fn lock(&self) -> std::sync::MutexGuard<'_, state::Inner> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.sweep(self.clock.now());
        g
    }

    /// The session, or `None` when unknown (ids in any GUID form and letter case).
    pub fn session(&self, id: &str) -> Option<SessionView> {
        let g = self.lock();
        let s = g.sessions.get(&input::guid(id)?)?;
        let upgrades = s
            .chains
            .iter()
            .map(|c| UpgradeView {
                from_product_id: c.origin_product,
                product_id: c.head().0,
                quantity: c.quantity,
                status: c.status,
                ships_product_id: c.ships(),
                discarded_product_ids: c.discarded_products(),
                captured: (c.captured_per_unit * Decimal::from(c.quantity)).normalize(),
                attempts: c.attempts,
                tried: c.tried.clone(),
                upgrade_session_id: c.child.clone(),
            })
            .collect();
        Some(SessionView {
            id: s.id.clone(),
            web_key: s.web_key.clone(),
            status: s.status,
            test: s.test,
            upgrade_parent_session_id: s.parent.as_ref().map(|p| p.0.clone()),
            shopping_cart_number: s.shopping_cart_number,
            order_number: s.order_number.clone(),
            lines: s.lines.iter().map(|l| (l.product_id, l.quantity)).collect(),
            captures: s.captures.clone(),
            shipments: s.shipments(),
            upgrades,
            declines: s.declines,
        })
    }

    /// Every session id, oldest first.
    pub fn session_ids(&self) -> Vec<String> {
        self.lock().order.clone()
    }

    /// Offline-upgrade sessions created for `parent_id`, oldest first.
    pub fn upgrade_sessions(&self, parent_id: &str) -> Vec<String> {
        let Some(parent) = input::guid(parent_id) else {
            return Vec::new();
        };
        let g = self.lock();
        g.order
            .iter()
            .filter(|id| g.sessions.get(*id).and_then(|s| s.parent.as_ref()).is_some_and(|p| p.0 == parent))
            .cloned()
            .collect()
    }

    /// The tracking number of the session's payment awaiting confirmation.
    pub fn tracking_number(&self, session_id: &str) -> Option<String> {
        let g = self.lock();
        g.sessions.get(&input::guid(session_id)?)?.pending.as_ref().map(|p| p.tracking.clone())
    }

    /// The payer confirms the session's redirect or 3-D Secure payment (what
    /// `POST {sim}/payments/{tracking}/approve` does). False when nothing awaits confirmation
    /// or the payment was declined (a gift card whose balance falls short).
    pub fn confirm_payment(&self, session_id: &str) -> bool {
        let Some(tracking) = self.tracking_number(session_id) else {
            return false;
        };
        let now = self.clock.now();
        self.lock().confirm(&tracking, now) == Ok(state::Confirmation::Paid)
    }

    /// The payer abandons the session's redirect payment (what `…/cancel` does). False when
    /// nothing awaits confirmation.
    pub fn cancel_payment(&self, session_id: &str) -> bool {
        let Some(tracking) = self.tracking_number(session_id) else {
            return false;
        };
        self.lock().cancel(&tracking) == Ok(true)
    }

    /// Makes the next `n` upgrade charge attempts fail (each attempt consumes one).
    pub fn fail_next_upgrade_charges(&self, n: u32) {
        self.lock().fail_next_upgrade_charges = n;
    }

    /// Tries every pending online upgrade charge now, without waiting for
    /// `upgrade_capture_delay_secs` (the funnel ended).
    pub fn capture_upgrades_now(&self) {
        let now = self.clock.now();
        self.lock().settle_all(now);
    }

    /// The single-offer or upsell order with this number.
    pub fn order(&self, number: &str) -> Option<OrderView> {
        let g = self.lock();
        let o = g.orders.iter().find(|o| o.number == number)?;
        Some(OrderView {
            number: o.number.clone(),
            web_key: o.web_key.clone(),
            test: o.test,
            product_id: o.product_id,
            amount: o.amount,
            email: o.email.clone(),
            paid: o.paid,
            related_order: o.related_order.clone(),
        })
    }

    /// Changes a product's price in a campaign, as a merchant would in the CRM; served after
    /// `campaign_cache_staleness_secs` (§1). False for an unknown campaign or product.
    pub fn set_product_price(&self, web_key: &str, product_id: i64, price: Decimal) -> bool {
        let now = self.clock.now();
        let mut g = self.lock();
        let delay = i64::try_from(g.settings.campaign_cache_staleness_secs).unwrap_or(i64::MAX / 1000);
        let Some(wk) = input::guid(web_key) else {
            return false;
        };
        let Some(p) = g
            .campaigns
            .iter_mut()
            .find(|c| c.web_key == wk)
            .and_then(|c| c.products.iter_mut().find(|p| p.id == product_id))
        else {
            return false;
        };
        p.pending_price = Some((price, now + chrono::Duration::seconds(delay)));
        g.sweep(now);
        true
    }

    /// The current settings.
    pub fn settings(&self) -> EmanageSettings {
        self.lock().settings.clone()
    }

    /// Replaces the settings; later requests see the new values (`sim_prefix` keeps its value
    /// from start).
    pub fn set_settings(&self, settings: EmanageSettings) {
        self.lock().settings = settings;
    }
}

/// eManage's vendor-side events for the control API: the payer confirms or abandons a
/// redirect payment.
struct Events(EmanageProbe);

impl crate::control::VendorEvents for Events {
    fn names(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "confirm_payment",
                "{\"session\": id}: the payer completes the session's redirect or 3-D Secure payment",
            ),
            ("cancel_payment", "{\"session\": id}: the payer abandons it"),
        ]
    }

    fn fire(&self, name: &str, args: serde_json::Value) -> Option<crate::control::EventFuture> {
        let session = args.get("session").and_then(serde_json::Value::as_str).map(str::to_string);
        let done = match (name, session) {
            (_, None) if matches!(name, "confirm_payment" | "cancel_payment") => {
                Err("missing \"session\"".to_string())
            }
            ("confirm_payment", Some(s)) => Ok(self.0.confirm_payment(&s)),
            ("cancel_payment", Some(s)) => Ok(self.0.cancel_payment(&s)),
            _ => return None,
        };
        Some(Box::pin(async move { done.map(|ok| serde_json::json!({"done": ok})) }))
    }
}
