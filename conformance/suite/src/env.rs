//! What a target supplies to the suite: the seeded member, a basket, fresh ids and a clock.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use loyalty_core::{
    Address, Basket, CartId, CartPayment, Currency, Customer, DepartmentId, LookupKind, MemberId,
    MemberLookup, OrderId, Phone, ProductId, Recipient, TransactionId,
};

/// A shipment notice as the target pushed it: what a webhook receiver got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedNotice {
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

/// What a dispatch hook answers: the notice the target pushed (`None` when it pushes none), or
/// why it could not dispatch.
pub type DispatchFuture = Pin<Box<dyn Future<Output = Result<Option<PushedNotice>, String>> + Send>>;

type Dispatch = Arc<dyn Fn(OrderId) -> DispatchFuture + Send + Sync>;
type LoseReply = Arc<dyn Fn(&str) -> bool + Send + Sync>;
type Advance = Arc<dyn Fn(Duration) + Send + Sync>;
type CartHook = Arc<dyn Fn(&CartId) -> bool + Send + Sync>;
type Hook = Arc<dyn Fn() + Send + Sync>;
type Activation = Arc<dyn Fn(&MemberId) -> Option<String> + Send + Sync>;
type Now = Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

/// The data a target is seeded with, and control over its clock.
///
/// Built once per target by whoever starts it (the memory provider, a simulator, or live
/// variables). Fresh phones, e-mails and transaction ids carry a run tag so repeated runs
/// against a live sandbox never collide.
pub struct Environment {
    member_id: MemberId,
    lookups: Vec<MemberLookup>,
    basket: Basket,
    department: Option<DepartmentId>,
    country_code: String,
    advance: Option<Advance>,
    now: Option<Now>,
    activation: Option<Activation>,
    carts: Option<CartSetup>,
    complete_payment: Option<CartHook>,
    abandon_payment: Option<CartHook>,
    fail_upgrade_charge: Option<Hook>,
    settle_upgrades: Option<Hook>,
    dropship: Option<(ProductId, String)>,
    recipient: Option<Recipient>,
    dispatch: Option<Dispatch>,
    lose_reply: Option<LoseReply>,
    counter: AtomicU64,
    run_tag: u64,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("member_id", &self.member_id)
            .field("lookups", &self.lookups)
            .field("department", &self.department)
            .field("clock_control", &self.advance.is_some())
            .finish()
    }
}

impl Environment {
    /// A target whose seeded member is `member_id`, with a basket the seeded offers cover.
    pub fn new(member_id: impl Into<MemberId>, basket: Basket) -> Environment {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let run_tag = run_tag(nanos, std::process::id(), ENVIRONMENTS.fetch_add(1, Ordering::Relaxed));
        Environment {
            member_id: member_id.into(),
            lookups: Vec::new(),
            basket,
            department: None,
            country_code: "+47".into(),
            advance: None,
            now: None,
            activation: None,
            carts: None,
            complete_payment: None,
            abandon_payment: None,
            fail_upgrade_charge: None,
            settle_upgrades: None,
            dropship: None,
            recipient: None,
            dispatch: None,
            lose_reply: None,
            counter: AtomicU64::new(0),
            run_tag,
        }
    }

    /// Adds a lookup that finds the seeded member.
    pub fn with_lookup(mut self, lookup: MemberLookup) -> Environment {
        self.lookups.push(lookup);
        self
    }

    /// Sets the department calls are made for.
    pub fn with_department(mut self, department: impl Into<DepartmentId>) -> Environment {
        self.department = Some(department.into());
        self
    }

    /// Sets the dialling prefix of fresh phones (default `+47`).
    pub fn with_country_code(mut self, cc: impl Into<String>) -> Environment {
        self.country_code = cc.into();
        self
    }

    /// Gives the suite control of the target's clock (memory provider, simulators).
    pub fn with_clock(mut self, advance: impl Fn(Duration) + Send + Sync + 'static) -> Environment {
        self.advance = Some(Arc::new(advance));
        self
    }

    /// Gives the cart scenarios their products, payments and customer.
    pub fn with_carts(mut self, setup: CartSetup) -> Environment {
        self.carts = Some(setup);
        self
    }

    /// Lets the suite complete a payment a cart waits for, as the customer would after a
    /// redirect (the memory provider and simulators can; a live vendor cannot).
    pub fn with_payment_completion(
        mut self,
        complete: impl Fn(&CartId) -> bool + Send + Sync + 'static,
        abandon: impl Fn(&CartId) -> bool + Send + Sync + 'static,
    ) -> Environment {
        self.complete_payment = Some(Arc::new(complete));
        self.abandon_payment = Some(Arc::new(abandon));
        self
    }

    /// Lets the suite make the next upgrade charge fail on every attempt.
    pub fn with_failing_upgrade_charge(mut self, fail: impl Fn() + Send + Sync + 'static) -> Environment {
        self.fail_upgrade_charge = Some(Arc::new(fail));
        self
    }

    /// Lets the suite make the vendor charge pending upgrades now (what happens by itself
    /// when a funnel ends).
    pub fn with_upgrade_settlement(mut self, settle: impl Fn() + Send + Sync + 'static) -> Environment {
        self.settle_upgrades = Some(Arc::new(settle));
        self
    }

    /// What the cart scenarios use.
    pub fn carts(&self) -> Option<&CartSetup> {
        self.carts.as_ref()
    }

    /// Completes the payment `cart` waits for; `None` when the target cannot.
    pub fn complete_payment(&self, cart: &CartId) -> Option<bool> {
        self.complete_payment.as_ref().map(|f| f(cart))
    }

    /// Gives up the payment `cart` waits for, as a customer who never comes back; `None` when
    /// the target cannot.
    pub fn abandon_payment(&self, cart: &CartId) -> Option<bool> {
        self.abandon_payment.as_ref().map(|f| f(cart))
    }

    /// Makes the next upgrade charge fail on every attempt; false when the target cannot.
    pub fn fail_next_upgrade_charge(&self) -> bool {
        self.fail_upgrade_charge.as_ref().map(|f| f()).is_some()
    }

    /// Makes the vendor charge pending upgrades now; false when the target cannot.
    pub fn settle_upgrades(&self) -> bool {
        self.settle_upgrades.as_ref().map(|f| f()).is_some()
    }

    /// Names a product in stock and a courier (dropship scenarios).
    pub fn with_dropship(mut self, product: impl Into<ProductId>, courier: impl Into<String>) -> Environment {
        self.dropship = Some((product.into(), courier.into()));
        self
    }

    /// Names the recipient dropship scenarios ship to (default: an address in Oslo); the
    /// dropship courier must serve it.
    pub fn with_recipient(mut self, recipient: Recipient) -> Environment {
        self.recipient = Some(recipient);
        self
    }

    /// Lets the suite dispatch an order as the wholesaler would, and see the shipment notice
    /// the target pushes for it (memory provider, simulators).
    pub fn with_dispatch(
        mut self,
        dispatch: impl Fn(OrderId) -> DispatchFuture + Send + Sync + 'static,
    ) -> Environment {
        self.dispatch = Some(Arc::new(dispatch));
        self
    }

    /// Lets the suite make the target act on the next call of an operation
    /// (`"fulfilment.place_order"`) and lose its reply; the hook answers false when it cannot
    /// for that operation.
    pub fn with_lost_replies(mut self, lose: impl Fn(&str) -> bool + Send + Sync + 'static) -> Environment {
        self.lose_reply = Some(Arc::new(lose));
        self
    }

    /// The dropship recipient.
    pub fn recipient(&self) -> Recipient {
        self.recipient.clone().unwrap_or_else(|| {
            let address = Address {
                street: Some("Storgata 1".into()),
                city: Some("Oslo".into()),
                zip_code: Some("0155".into()),
                state: None,
                country_code: Some("NO".into()),
            };
            Recipient::new("Kari Nordmann", address)
        })
    }

    /// Dispatches `order` at the target: `None` when the target gives the suite no such
    /// control.
    pub async fn dispatch(&self, order: &OrderId) -> Option<Result<Option<PushedNotice>, String>> {
        let dispatch = self.dispatch.clone()?;
        Some(dispatch(order.clone()).await)
    }

    /// Makes the target lose the reply of the next `operation` after acting; false when it
    /// cannot.
    pub fn lose_next_reply(&self, operation: &str) -> bool {
        self.lose_reply.as_ref().is_some_and(|f| f(operation))
    }

    /// Tells the suite the target's time (offers' validity is judged by it).
    pub fn with_now(
        mut self,
        now: impl Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync + 'static,
    ) -> Environment {
        self.now = Some(Arc::new(now));
        self
    }

    /// Lets the suite read the activation token an enrolment sent (what the member would
    /// receive by SMS): the memory provider and simulators expose it.
    pub fn with_activation_tokens(
        mut self,
        f: impl Fn(&MemberId) -> Option<String> + Send + Sync + 'static,
    ) -> Environment {
        self.activation = Some(Arc::new(f));
        self
    }

    /// The activation token sent to `member`, when the target lets the suite see it.
    pub fn activation_token(&self, member: &MemberId) -> Option<String> {
        self.activation.as_ref().and_then(|f| f(member))
    }

    /// The target's time: its clock where known, else the system's.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.now.as_ref().map(|f| f()).unwrap_or_else(chrono::Utc::now)
    }

    /// The dropship product and courier.
    pub fn dropship(&self) -> Option<&(ProductId, String)> {
        self.dropship.as_ref()
    }

    /// The seeded member.
    pub fn member_id(&self) -> &MemberId {
        &self.member_id
    }

    /// A lookup of `kind` that finds the seeded member; a `ProviderId` lookup is derived.
    pub fn lookup(&self, kind: LookupKind) -> Option<MemberLookup> {
        if kind == LookupKind::ProviderId {
            return Some(MemberLookup::ProviderId(self.member_id.clone()));
        }
        self.lookups.iter().find(|l| l.kind() == kind).cloned()
    }

    /// The basket.
    pub fn basket(&self) -> &Basket {
        &self.basket
    }

    /// The department, when the target needs one.
    pub fn department(&self) -> Option<&DepartmentId> {
        self.department.as_ref()
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// A phone no member has yet: a `9` and seven digits, all of them from the run tag and the
    /// counter (eight digits is what every vendor accepts for the suite's dialling prefixes).
    pub fn fresh_phone(&self) -> Phone {
        Phone::new(&self.country_code, phone_number(self.run_tag, self.next()))
    }

    /// An e-mail address no member has yet.
    pub fn fresh_email(&self) -> String {
        format!("conformance+{}-{}@example.com", self.run_tag, self.next())
    }

    /// A transaction id never used before.
    pub fn fresh_transaction_id(&self) -> TransactionId {
        TransactionId::new(format!("conf-{}-{}", self.run_tag, self.next()))
    }

    /// Moves the target's clock forward; false when the target's clock cannot be moved.
    pub fn advance_clock(&self, by: Duration) -> bool {
        match &self.advance {
            Some(f) => {
                f(by);
                true
            }
            None => false,
        }
    }
}

/// Environments made by this process so far: two made in the same nanosecond still differ.
static ENVIRONMENTS: AtomicU64 = AtomicU64::new(0);

/// Digits of a fresh phone after its leading `9`.
const PHONE_DIGITS: u32 = 7;

/// A run tag from the time (nanoseconds since the epoch), the process id and the number of
/// environments this process made before, mixed so that any change of input changes about
/// half the tag's bits; kept to twelve decimal digits for ids and e-mails.
fn run_tag(nanos: u128, pid: u32, sequence: u64) -> u64 {
    // The nanoseconds fill the low bits; pid and sequence change the high ones, where a clock
    // read a few minutes apart does not reach.
    let time = (nanos as u64) ^ ((nanos >> 64) as u64);
    let seed = time ^ (u64::from(pid) << 40) ^ sequence.rotate_right(8);
    mix(seed) % 1_000_000_000_000
}

/// SplitMix64's finaliser: every bit of the input moves about half the output bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The national number of the `n`-th fresh phone of a run: the run tag picks where in the
/// seven free digits the run starts, the counter walks on from there.
fn phone_number(run_tag: u64, n: u64) -> String {
    let span = 10u64.pow(PHONE_DIGITS);
    format!("9{:07}", (run_tag % span + n % span) % span)
}

/// The target's clock as flows see it (the checkout scenarios price and hold on it).
impl loyalty_core::Clock for Environment {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        Environment::now(self)
    }
}

/// What the cart scenarios need from a target: products with an upgrade chain, payments, and a
/// customer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CartSetup {
    /// Currency of the target's carts.
    pub currency: Currency,
    /// A product, then a product it can be upgraded to, then (optionally) an upgrade of that.
    pub chain: Vec<ProductId>,
    /// Another product to put in a cart.
    pub other_product: ProductId,
    /// A payment the target approves at once.
    pub card: CartPayment,
    /// A payment the target declines.
    pub declined_card: Option<CartPayment>,
    /// A payment that takes the customer elsewhere (a redirect or offline payment).
    pub redirect: Option<CartPayment>,
    /// Who buys.
    pub customer: Customer,
    /// The customer's IP address.
    pub customer_ip: Option<String>,
    /// Open test carts.
    pub test: bool,
}

impl CartSetup {
    /// Carts in `currency` of the `chain` products (at least a product and its upgrade) and
    /// `other_product`, paid by `card`, bought by `customer`.
    pub fn new(
        currency: Currency,
        chain: Vec<ProductId>,
        other_product: impl Into<ProductId>,
        card: CartPayment,
        customer: Customer,
    ) -> CartSetup {
        CartSetup {
            currency,
            chain,
            other_product: other_product.into(),
            card,
            declined_card: None,
            redirect: None,
            customer,
            customer_ip: None,
            test: true,
        }
    }

    /// Sets a payment the target declines.
    pub fn with_declined_card(mut self, payment: CartPayment) -> CartSetup {
        self.declined_card = Some(payment);
        self
    }

    /// Sets a payment that needs a redirect.
    pub fn with_redirect(mut self, payment: CartPayment) -> CartSetup {
        self.redirect = Some(payment);
        self
    }

    /// Sets the customer's IP address.
    pub fn with_customer_ip(mut self, ip: impl Into<String>) -> CartSetup {
        self.customer_ip = Some(ip.into());
        self
    }

    /// Opens live carts instead of test carts.
    pub fn live(mut self) -> CartSetup {
        self.test = false;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_tags_of_other_nanos_or_pids_differ() {
        let nanos = 1_764_517_496_123_456_789u128;
        let base = run_tag(nanos, 4242, 0);
        let others = [
            run_tag(nanos + 1, 4242, 0),
            run_tag(nanos + 1_000_000_000, 4242, 0),
            run_tag(nanos, 4243, 0),
            run_tag(nanos, 4242, 1),
        ];
        for other in others {
            assert_ne!(base, other);
            // The phones of the two runs differ too, in the digits the tag owns.
            assert_ne!(phone_number(base, 0), phone_number(other, 0));
        }
        // The old tag (seconds % 10000) made runs 10000 s apart, or in the same second, equal.
        assert_ne!(run_tag(nanos, 1, 0), run_tag(nanos + 10_000_000_000_000, 1, 0));
        assert!(base < 1_000_000_000_000);
    }

    #[test]
    fn phones_have_eight_digits_and_follow_the_counter() {
        assert_eq!(phone_number(12_345_678_901, 0), "95678901");
        assert_eq!(phone_number(12_345_678_901, 1), "95678902");
        assert_eq!(phone_number(9_999_999, 1), "90000000");
        let env = Environment::new("m", Basket::new(Currency::NOK));
        let other = Environment::new("m", Basket::new(Currency::NOK));
        let (a, b) = (env.fresh_phone(), other.fresh_phone());
        assert_eq!(a.number.len(), 8);
        assert_ne!(a, b, "two environments of one process gave the same first phone");
        assert_ne!(env.fresh_transaction_id(), other.fresh_transaction_id());
    }
}
