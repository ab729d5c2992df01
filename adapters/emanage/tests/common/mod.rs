//! Shared set-up: an in-process eManage simulator and an adapter pointed at it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use loyalty_core::{
    Address, CardDetails, CardSecret, Cart, CartCheckout, CartId, CartPayment, Carts, Clock, Context,
    Currency, Customer, LineId, Money, NewCart, ProductId, Provider, UpgradeOutcome, UpgradeRequest,
};
use loyalty_emanage::{CapturePolicy, EmanageAdapter, EmanageConfig};
use loyalty_http::Secret;
use loyalty_sim::emanage::{demo, EmanageProbe, EmanageSettings, EmanageSim, SessionView};
use loyalty_sim::{Journal, SimClock, SimHandle, SimServer};
use rust_decimal::Decimal;

/// The simulator clock as a core clock.
#[derive(Debug, Clone)]
pub struct Bridge(pub SimClock);

impl Clock for Bridge {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

pub const P0: &str = "918325";
pub const P1: &str = "918446";
pub const P2: &str = "918447";

pub struct Env {
    pub adapter: EmanageAdapter,
    pub server: SimServer,
    pub probe: EmanageProbe,
    pub clock: SimClock,
}

pub fn config(base_url: &str, timeout: Duration, policy: CapturePolicy) -> EmanageConfig {
    EmanageConfig::builder()
        .with_base_url(format!("{base_url}/api"))
        .with_cid(Secret::new(demo::CID))
        .with_web_key(demo::WEB_KEY)
        .with_currency("USD")
        .with_progressive_tier(1, Decimal::from(25))
        .with_progressive_tier(2, Decimal::from(50))
        .with_progressive_products(["918501", "918502", "918503"])
        .with_upgrade_capture_policy(policy)
        .with_attempt_timeout(timeout)
        .build()
        .expect("valid config")
}

pub async fn start_full(settings: EmanageSettings, timeout: Duration, policy: CapturePolicy) -> Env {
    let clock = SimClock::default();
    // A cart GET without the simulator's extras does not say a cart is a test cart, so the
    // tests' test carts need test mode, as test runs against the live API do (§11).
    let test_mode = !settings.cart_extras;
    let (server, probe) =
        EmanageSim::start_with_probe(settings, clock.clone()).await.expect("simulator starts");
    let mut config = config(server.base_url(), timeout, policy);
    config.test_mode = test_mode;
    let adapter =
        EmanageAdapter::with_clock(config, Arc::new(Bridge(clock.clone()))).expect("adapter builds");
    Env { adapter, server, probe, clock }
}

pub async fn start_with(settings: EmanageSettings) -> Env {
    start_full(settings, Duration::from_secs(5), CapturePolicy::Remainder).await
}

pub async fn start() -> Env {
    start_with(EmanageSettings::default()).await
}

/// Settings whose upgrade steps are charged during the `add` (no funnel window).
pub fn immediate() -> EmanageSettings {
    let mut s = EmanageSettings::default();
    s.upgrade_capture_delay_secs = 0;
    s
}

pub fn ctx() -> Context {
    Context::new()
}

pub fn usd(text: &str) -> Money {
    Money::parse(text, Currency::USD).expect("amount")
}

pub fn card(pan: &str) -> CartPayment {
    CartPayment::Card(
        CardDetails::new("Ada Lovelace", CardSecret::new(pan), 12, 2030, CardSecret::new(demo::CARD_CVV))
            .with_brand("visa"),
    )
}

pub fn paypal() -> CartPayment {
    CartPayment::Processor { id: demo::PROCESSOR_PAYPAL.to_string() }
}

pub fn customer() -> Customer {
    Customer::with_email("ada@example.com").named("Ada", "Lovelace").at(Address {
        street: Some("1 Main St".into()),
        city: Some("Springfield".into()),
        zip_code: Some("90210".into()),
        state: Some("CA".into()),
        country_code: Some("US".into()),
    })
}

impl Env {
    pub fn handle(&self) -> SimHandle {
        self.server.handle()
    }

    pub fn journal(&self) -> Journal {
        self.server.handle().journal()
    }

    pub fn carts(&self) -> &dyn Carts {
        self.adapter.carts().expect("eManage has carts")
    }

    pub fn session(&self, cart: &CartId) -> SessionView {
        self.probe.session(cart.as_str()).expect("the simulator knows the session")
    }

    pub fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    pub fn cart_path(&self, rest: &str) -> String {
        format!("/api/shoppingcart/{}{rest}", demo::WEB_KEY)
    }

    /// An open cart of these lines with the customer attached.
    pub async fn cart(&self, lines: &[(&str, u32)]) -> Cart {
        let (first, q) = lines[0];
        let mut cart = self
            .carts()
            .create(
                &ctx(),
                &NewCart::new(Currency::USD, first, Decimal::from(q)).test(true).from_ip("203.0.113.7"),
            )
            .await
            .expect("cart opens");
        for (p, q) in &lines[1..] {
            cart = self
                .carts()
                .add_line(&ctx(), &cart.id, &ProductId::new(*p), Decimal::from(*q))
                .await
                .expect("line added");
        }
        self.carts().set_customer(&ctx(), &cart.id, &customer()).await.expect("customer set")
    }

    /// A cart of these lines paid by card `pan`.
    pub async fn paid_cart(&self, lines: &[(&str, u32)], pan: &str) -> Cart {
        let cart = self.cart(lines).await;
        let answer = self.carts().checkout(&ctx(), &cart.id, &card(pan)).await.expect("checkout answers");
        assert!(matches!(answer, CartCheckout::Paid(_)), "{answer:?}");
        self.carts().get(&ctx(), &cart.id).await.expect("cart reads")
    }

    /// A cart of these lines paid by PayPal and confirmed by the customer.
    pub async fn paid_offline(&self, lines: &[(&str, u32)]) -> Cart {
        let cart = self.cart(lines).await;
        let answer = self.carts().checkout(&ctx(), &cart.id, &paypal()).await.expect("checkout answers");
        assert!(matches!(answer, CartCheckout::ActionRequired { .. }), "{answer:?}");
        assert!(self.probe.confirm_payment(cart.id.as_str()));
        self.carts().get(&ctx(), &cart.id).await.expect("cart reads")
    }

    pub async fn upgrade(
        &self,
        cart: &CartId,
        from: &str,
        to: &str,
        quantity: u32,
    ) -> loyalty_core::Result<UpgradeOutcome> {
        self.carts()
            .upgrade(&ctx(), cart, &UpgradeRequest::new(LineId::new(from), to, Decimal::from(quantity)))
            .await
    }

    /// [`Env::upgrade`] of a line the shop sold as `first` (`UpgradeRequest::with_first_product`):
    /// what a cart GET without upgrade fields needs to price the step.
    pub async fn upgrade_sold_as(
        &self,
        cart: &CartId,
        first: &str,
        from: &str,
        to: &str,
        quantity: u32,
    ) -> loyalty_core::Result<UpgradeOutcome> {
        let request =
            UpgradeRequest::new(LineId::new(from), to, Decimal::from(quantity)).with_first_product(first);
        self.carts().upgrade(&ctx(), cart, &request).await
    }
}

/// Upgrade captures the simulator made, in major units.
pub fn upgrade_captures(v: &SessionView) -> Vec<Decimal> {
    use loyalty_sim::emanage::CaptureKind;
    v.captures.iter().filter(|c| c.kind == CaptureKind::Upgrade).map(|c| c.amount).collect()
}

pub fn dec(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

pub fn id(p: &str) -> i64 {
    p.parse().expect("product id")
}
