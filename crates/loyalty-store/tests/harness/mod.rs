//! What the durability tests share: a world (memory provider, manual clock, simulated payment,
//! a store) and wrappers that make the N-th outside call never return, as a process killed
//! mid-call looks from outside.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use loyalty_core::checkout::{
    Authorization, Authorized, Checkout, CheckoutRequest, CheckoutStore, Payment, PaymentKey,
    SimulatedPayment,
};
use loyalty_core::{
    Basket, Capabilities, Carts, Context, EnrollMember, Fulfilment, Hold, HoldRequest, Holds, ManualClock,
    Member, MemberId, MemberLookup, MemberUpdate, Members, Money, Offer, Offers, Phone, Provider,
    Redemptions, Refund, RegisterMember, Result, Segment, Transaction, TransactionId, TransactionReceipt,
    Transactions, Validation,
};
use loyalty_memory::{demo, MemoryProvider};

/// A fresh SQLite file in a folder of its own, removed when this is dropped.
pub struct SqliteFile {
    _dir: tempfile::TempDir,
    url: String,
}

impl SqliteFile {
    /// The store URL (`sqlite:/tmp/.../checkout.db`).
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A fresh SQLite file; keep it alive while the store is in use.
pub fn sqlite_file() -> SqliteFile {
    let dir = tempfile::Builder::new().prefix("loyalty-durability-").tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("checkout.db").display());
    SqliteFile { _dir: dir, url }
}

/// Kari's order of the demo basket with the basket coupon confirmed.
pub fn kari_order(id: &str) -> CheckoutRequest {
    CheckoutRequest::new(id, demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
        .confirm(demo::COUPON_SUMMER10)
}

pub struct World {
    pub provider: MemoryProvider,
    pub clock: ManualClock,
    pub payment: Arc<SimulatedPayment>,
    pub store: Arc<dyn CheckoutStore>,
    pub counter: Arc<AtomicUsize>,
}

impl World {
    pub async fn new(store_url: &str) -> World {
        let (provider, clock) = MemoryProvider::demo_manual();
        World {
            provider,
            clock,
            payment: Arc::new(SimulatedPayment::new()),
            store: loyalty_store::open(store_url).await.expect("store opens"),
            counter: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A checkout of this world: another "process" each time it is called.
    pub fn checkout(&self) -> Checkout<'static> {
        Checkout::with_store(
            Arc::new(self.provider.clone()),
            self.payment.clone(),
            Arc::new(self.clock.clone()),
            self.store.clone(),
        )
    }
}

/// Whether the stuck call takes effect first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hang {
    /// The call never reaches the other side.
    Before,
    /// The call takes effect; its reply never comes back.
    After,
}

struct Trap {
    counter: Arc<AtomicUsize>,
    at: usize,
    hang: Hang,
}

impl Trap {
    async fn around<T>(&self, call: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        if n == self.at && self.hang == Hang::Before {
            std::future::pending::<()>().await;
        }
        let r = call.await;
        if n == self.at && self.hang == Hang::After {
            std::future::pending::<()>().await;
        }
        r
    }
}

/// A provider whose `at`-th call (counted with the payment's) never returns.
pub struct Hanging {
    inner: MemoryProvider,
    trap: Trap,
    caps: Capabilities,
}

impl Hanging {
    pub fn new(inner: MemoryProvider, counter: Arc<AtomicUsize>, at: usize, hang: Hang) -> Hanging {
        let caps = inner.capabilities().clone();
        Hanging { inner, trap: Trap { counter, at, hang }, caps }
    }

    /// Declares what a second send of one id does (the memory provider dedupes).
    pub fn with_resend(mut self, resend: loyalty_core::Resend) -> Hanging {
        self.caps.resend = resend;
        self
    }
}

impl Provider for Hanging {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }
    fn members(&self) -> Option<&dyn Members> {
        Some(self)
    }
    fn offers(&self) -> Option<&dyn Offers> {
        Some(self)
    }
    fn holds(&self) -> Option<&dyn Holds> {
        Some(self)
    }
    fn redemptions(&self) -> Option<&dyn Redemptions> {
        self.inner.redemptions()
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        Some(self)
    }
    fn carts(&self) -> Option<&dyn Carts> {
        self.inner.carts()
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        self.inner.fulfilment()
    }
}

fn m(p: &MemoryProvider) -> &dyn Members {
    p.members().expect("memory has members")
}

#[async_trait]
impl Members for Hanging {
    async fn find(&self, ctx: &Context, lookup: &MemberLookup) -> Result<Option<Member>> {
        self.trap.around(m(&self.inner).find(ctx, lookup)).await
    }
    async fn get(&self, ctx: &Context, id: &MemberId) -> Result<Member> {
        self.trap.around(m(&self.inner).get(ctx, id)).await
    }
    async fn register(&self, ctx: &Context, request: &RegisterMember) -> Result<Member> {
        self.trap.around(m(&self.inner).register(ctx, request)).await
    }
    async fn enroll(&self, ctx: &Context, request: &EnrollMember) -> Result<Member> {
        self.trap.around(m(&self.inner).enroll(ctx, request)).await
    }
    async fn update(&self, ctx: &Context, id: &MemberId, update: &MemberUpdate) -> Result<Member> {
        self.trap.around(m(&self.inner).update(ctx, id, update)).await
    }
    async fn segments(&self, ctx: &Context) -> Result<Vec<Segment>> {
        self.trap.around(m(&self.inner).segments(ctx)).await
    }
}

#[async_trait]
impl Offers for Hanging {
    async fn list(
        &self,
        ctx: &Context,
        member: Option<&MemberId>,
        basket: Option<&Basket>,
    ) -> Result<Vec<Offer>> {
        self.trap.around(self.inner.offers().expect("offers").list(ctx, member, basket)).await
    }
    async fn validate(&self, ctx: &Context, member: &MemberId, offer: &Offer) -> Result<Validation> {
        self.trap.around(self.inner.offers().expect("offers").validate(ctx, member, offer)).await
    }
}

#[async_trait]
impl Holds for Hanging {
    async fn hold(&self, ctx: &Context, request: &HoldRequest) -> Result<Hold> {
        self.trap.around(self.inner.holds().expect("holds").hold(ctx, request)).await
    }
    async fn release(&self, ctx: &Context, hold: &Hold) -> Result<()> {
        self.trap.around(self.inner.holds().expect("holds").release(ctx, hold)).await
    }
}

#[async_trait]
impl Transactions for Hanging {
    async fn send(&self, ctx: &Context, transaction: &Transaction) -> Result<TransactionReceipt> {
        self.trap.around(self.inner.transactions().expect("tx").send(ctx, transaction)).await
    }
    async fn amend(&self, ctx: &Context, transaction: &Transaction) -> Result<TransactionReceipt> {
        self.trap.around(self.inner.transactions().expect("tx").amend(ctx, transaction)).await
    }
    async fn cancel(&self, ctx: &Context, transaction: &Transaction, reason: Option<&str>) -> Result<()> {
        self.trap.around(self.inner.transactions().expect("tx").cancel(ctx, transaction, reason)).await
    }
    async fn refund(&self, ctx: &Context, refund: &Refund) -> Result<TransactionReceipt> {
        self.trap.around(self.inner.transactions().expect("tx").refund(ctx, refund)).await
    }
}

/// A payment service whose `at`-th call (counted with the provider's) never returns.
pub struct HangingPayment {
    inner: Arc<SimulatedPayment>,
    trap: Trap,
}

impl HangingPayment {
    pub fn new(
        inner: Arc<SimulatedPayment>,
        counter: Arc<AtomicUsize>,
        at: usize,
        hang: Hang,
    ) -> HangingPayment {
        HangingPayment { inner, trap: Trap { counter, at, hang } }
    }
}

#[async_trait]
impl Payment for HangingPayment {
    async fn authorize(&self, key: &PaymentKey, amount: Money) -> Result<Authorized> {
        self.trap.around(self.inner.authorize(key, amount)).await
    }
    async fn resume(&self, authorization: &Authorization) -> Result<Authorized> {
        self.trap.around(self.inner.resume(authorization)).await
    }
    async fn capture(&self, authorization: &Authorization) -> Result<()> {
        self.trap.around(self.inner.capture(authorization)).await
    }
    async fn void(&self, authorization: &Authorization) -> Result<()> {
        self.trap.around(self.inner.void(authorization)).await
    }
    async fn refund(
        &self,
        authorization: &Authorization,
        refund_id: &TransactionId,
        amount: Money,
    ) -> Result<()> {
        self.trap.around(self.inner.refund(authorization, refund_id, amount)).await
    }
}

/// A record in `state` due at `due`, last written at `written`, as the checkout would write it
/// (records are the core's to make: a test gets one from the JSON form of a fresh request's).
pub fn record(
    order: &str,
    state: loyalty_core::checkout::CheckoutState,
    due: Option<chrono::DateTime<chrono::Utc>>,
    written: chrono::DateTime<chrono::Utc>,
) -> loyalty_core::checkout::CheckoutRecord {
    let basket = Basket::new(loyalty_core::Currency::NOK).with_line(loyalty_core::Line::new(
        "1",
        "COF-500",
        rust_decimal::Decimal::ONE,
        Money::new(12_900, loyalty_core::Currency::NOK),
    ));
    let request = CheckoutRequest::new(order, basket);
    let json = serde_json::json!({
        "order": order,
        "state": serde_json::to_value(state).unwrap(),
        "fingerprint": request.fingerprint(),
        "revision": 1,
        "request": request,
        "member": null,
        "signed_up": false,
        "offers": [],
        "priced": null,
        "holds": [],
        "hold_intents": [],
        "held_basket": null,
        "notes": [],
        "authorization": null,
        "action": null,
        "transaction": null,
        "outcome": null,
        "dropped_claims": [],
        "send_attempts": 0,
        "due_at": due,
        "updated_at": written,
    });
    serde_json::from_value(json).expect("a record")
}

#[cfg(feature = "postgres")]
static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A name no other test run uses (PostgreSQL schemas outlive the process).
#[cfg(feature = "postgres")]
fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let t =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{t}_{n}", std::process::id())
}

/// A URL on `LOYALTY_TEST_POSTGRES_URL` scoped to a new schema of its own (PostgreSQL schemas
/// outlive the run, so every test gets fresh tables).
#[cfg(feature = "postgres")]
pub async fn postgres_scoped_url() -> String {
    let url = std::env::var("LOYALTY_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "the PostgreSQL store tests need a database: set LOYALTY_TEST_POSTGRES_URL \
             (e.g. postgres://loyalty:loyalty@127.0.0.1/loyalty_test); .ci/run installs and starts one"
        )
    });
    let schema = unique("t").to_lowercase();
    let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL reachable");
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("schema created");
    admin.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

#[cfg(feature = "postgres")]
pub async fn postgres_store() -> Arc<dyn loyalty_core::checkout::CheckoutStore> {
    let scoped = postgres_scoped_url().await;
    Arc::new(loyalty_store::PostgresCheckoutStore::connect(&scoped).await.expect("store opens"))
}

/// Two handles on one database of every store, as two instances sharing it hold them, and the
/// folder holding the SQLite file (keep it while the stores are used).
#[allow(dead_code)] // not every test file that shares the harness uses it
pub async fn every_store_twice(
) -> (Vec<(&'static str, [Arc<dyn loyalty_core::checkout::CheckoutStore>; 2])>, tempfile::TempDir) {
    use loyalty_core::checkout::CheckoutStore;
    let dir = tempfile::Builder::new().prefix("loyalty-store-").tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let memory: Arc<dyn CheckoutStore> = Arc::new(loyalty_core::checkout::MemoryCheckoutStore::new());
    let sqlite = || async {
        Arc::new(loyalty_store::SqliteCheckoutStore::open(&path).await.unwrap()) as Arc<dyn CheckoutStore>
    };
    #[cfg(feature = "postgres")]
    let scoped = postgres_scoped_url().await;
    #[cfg(feature = "postgres")]
    let postgres = || async {
        Arc::new(loyalty_store::PostgresCheckoutStore::connect(&scoped).await.unwrap())
            as Arc<dyn CheckoutStore>
    };
    let pairs = vec![
        ("memory", [memory.clone(), memory]),
        ("sqlite", [sqlite().await, sqlite().await]),
        #[cfg(feature = "postgres")]
        ("postgres", [postgres().await, postgres().await]),
    ];
    (pairs, dir)
}

/// Every store, and the folder holding the SQLite file (keep it while the stores are used).
pub async fn every_store(
) -> (Vec<(&'static str, Arc<dyn loyalty_core::checkout::CheckoutStore>)>, tempfile::TempDir) {
    let dir = tempfile::Builder::new().prefix("loyalty-store-").tempdir().unwrap();
    let sqlite =
        loyalty_store::SqliteCheckoutStore::open(dir.path().join("checkout.db")).await.expect("store opens");
    let stores = vec![
        (
            "memory",
            Arc::new(loyalty_core::checkout::MemoryCheckoutStore::new())
                as Arc<dyn loyalty_core::checkout::CheckoutStore>,
        ),
        ("sqlite", Arc::new(sqlite) as Arc<dyn loyalty_core::checkout::CheckoutStore>),
        #[cfg(feature = "postgres")]
        ("postgres", postgres_store().await),
    ];
    (stores, dir)
}
