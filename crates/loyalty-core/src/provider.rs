//! One async trait per concern, the call [`Context`], and the [`Provider`] facade.
//!
//! A provider implements the concerns its vendor supports and returns `None` from the
//! accessors of the others, so a caller never calls what a provider cannot do. Inside a
//! concern, an operation the capabilities do not declare returns `Unsupported` before any I/O.

use async_trait::async_trait;
use tokio::time::Instant;

use crate::basket::Basket;
use crate::capabilities::Capabilities;
use crate::commerce::{
    Cart, CartCheckout, CartPayment, Courier, CourierQuery, Customer, DropshipOrder, NewCart, OrderLine,
    OrderStatus, PlacedOrder, PushedRequest, Recipient, ShipmentNotice, StockLevel, UpgradeOutcome,
    UpgradeRequest,
};
use crate::error::{Error, Result};
use crate::ids::{CartId, DepartmentId, LineId, MemberId, OrderId, ProductId};
use crate::member::{EnrollMember, Member, MemberLookup, MemberUpdate, RegisterMember, Segment};
use crate::offer::{Offer, Validation};
use crate::transaction::{
    Hold, HoldRequest, RedeemRequest, Redemption, Refund, Transaction, TransactionReceipt,
};

/// Per-call context: idempotency key, deadline and who is calling.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Context {
    /// The idempotency key (the transaction id where there is one).
    pub idempotency_key: Option<String>,
    /// The latest instant the caller will wait for; retries stop before it.
    pub deadline: Option<Instant>,
    /// Employee operating the till.
    pub employee_id: Option<String>,
    /// Till or system id.
    pub register_id: Option<String>,
    /// Department or store the call is made for.
    pub department: Option<DepartmentId>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets the idempotency key.
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Context {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Sets the deadline.
    pub fn with_deadline(mut self, deadline: Instant) -> Context {
        self.deadline = Some(deadline);
        self
    }

    /// Sets the employee id.
    pub fn with_employee(mut self, employee: impl Into<String>) -> Context {
        self.employee_id = Some(employee.into());
        self
    }

    /// Sets the department.
    pub fn with_department(mut self, department: impl Into<DepartmentId>) -> Context {
        self.department = Some(department.into());
        self
    }
}

/// Finds, registers and maintains members.
#[async_trait]
pub trait Members: Send + Sync {
    /// Looks a member up by phone, e-mail, an identifier or an activation token.
    ///
    /// Requires capability: `lookups` contains `lookup.kind()`.
    ///
    /// # Behaviour
    /// - No match is `Ok(None)`, however the vendor says it (empty list or an error).
    /// - Several matches: the provider's first (most recent) match.
    /// - An enrolled member who has not activated is found, with `consents.membership` false.
    ///
    /// # Errors
    /// `Unsupported` for an undeclared lookup kind; `Invalid` for a malformed key.
    async fn find(&self, ctx: &Context, lookup: &MemberLookup) -> Result<Option<Member>>;

    /// Reads a member by the provider's id.
    ///
    /// Requires capability: `get_member`.
    ///
    /// # Errors
    /// `NotFound` for an unknown or deleted member; `Unsupported`.
    async fn get(&self, ctx: &Context, id: &MemberId) -> Result<Member>;

    /// Registers a member with a profile and the consents the integrator collected.
    ///
    /// Requires capability: `register`.
    ///
    /// # Behaviour
    /// - The member is active at once when `consents.membership` is given.
    ///
    /// # Errors
    /// `Invalid` naming the missing or malformed field; `Conflict` when the phone or e-mail
    /// already belongs to a member; `Unsupported`.
    async fn register(&self, ctx: &Context, request: &RegisterMember) -> Result<Member>;

    /// Enrolls a member by phone; the member completes sign-up through an activation message.
    ///
    /// Requires capability: `enroll`.
    ///
    /// # Behaviour
    /// - Enrolling a phone that belongs to a member who has not activated sends a new
    ///   activation and returns that member.
    ///
    /// # Errors
    /// `Invalid` for a malformed phone or a missing department; `Unsupported`.
    async fn enroll(&self, ctx: &Context, request: &EnrollMember) -> Result<Member>;

    /// Changes a member's profile; fields left `None` keep their value.
    ///
    /// Requires capability: `update_member`.
    ///
    /// # Errors
    /// `NotFound`; `Invalid`; `Unsupported`.
    async fn update(&self, ctx: &Context, id: &MemberId, update: &MemberUpdate) -> Result<Member>;

    /// Lists the store's segments (custom member fields), for a registration form.
    ///
    /// Requires capability: `segments`.
    ///
    /// # Errors
    /// `Unsupported`.
    async fn segments(&self, ctx: &Context) -> Result<Vec<Segment>>;
}

/// Lists and checks offers.
#[async_trait]
pub trait Offers: Send + Sync {
    /// Lists the offers available to a member (or, with `None`, to any guest), optionally
    /// evaluated against a basket.
    ///
    /// Requires capability: `list_offers` (`guest_offers` for `None`, `offers_with_basket` to
    /// use the basket).
    ///
    /// # Behaviour
    /// - Only offers the member can use now; a used-up coupon is left out or has
    ///   `uses_left == Some(0)`.
    /// - Without `offers_with_basket` the basket is ignored, never an error.
    /// - With `offers_with_basket` and a basket, only offers that apply to it; an offer the
    ///   vendor prices carries the vendor's discount for that basket.
    ///
    /// # Errors
    /// `NotFound` for an unknown member; `Unsupported`.
    async fn list(
        &self,
        ctx: &Context,
        member: Option<&MemberId>,
        basket: Option<&Basket>,
    ) -> Result<Vec<Offer>>;

    /// Checks that an offer can be used now (called just before "buy").
    ///
    /// Requires capability: `validate_offer`.
    ///
    /// # Behaviour
    /// - A business refusal (used up, expired, held for another order) is `Ok` with
    ///   `valid == false` and a reason, not an error.
    ///
    /// # Errors
    /// `NotFound` for an unknown member; `Unsupported`.
    async fn validate(&self, ctx: &Context, member: &MemberId, offer: &Offer) -> Result<Validation>;
}

/// Locks or reserves offers for a pending transaction.
#[async_trait]
pub trait Holds: Send + Sync {
    /// Holds an offer for one transaction so no other transaction can use it.
    ///
    /// Requires capability: `hold`.
    ///
    /// # Behaviour
    /// - Holding the same offer again for the same transaction returns the existing hold; a
    ///   provider whose locks are renewed by a repeat (SessionM, memory) returns it with its
    ///   new `expires_at`.
    /// - The hold always carries an explicit `expires_at`.
    ///
    /// # Errors
    /// `Conflict` when another transaction holds it; `Rejected` when it cannot be used
    /// (used up, expired); `NotFound`; `Unsupported`.
    async fn hold(&self, ctx: &Context, request: &HoldRequest) -> Result<Hold>;

    /// Releases a hold so the offer can be used again.
    ///
    /// Requires capability: `hold`.
    ///
    /// # Behaviour
    /// - Releasing a hold that is already released or expired succeeds (idempotent).
    ///
    /// # Errors
    /// `Unsupported`.
    async fn release(&self, ctx: &Context, hold: &Hold) -> Result<()>;
}

/// Uses offers immediately and gives them back.
#[async_trait]
pub trait Redemptions: Send + Sync {
    /// Redeems an offer now.
    ///
    /// Requires capability: `redeem`.
    ///
    /// # Errors
    /// `Conflict` when already redeemed (no uses left); `Rejected`; `NotFound`; `Unsupported`.
    async fn redeem(&self, ctx: &Context, request: &RedeemRequest) -> Result<Redemption>;

    /// Gives a redeemed offer back to the member (after a return).
    ///
    /// Requires capability: `reinstate == Explicit`.
    ///
    /// # Behaviour
    /// - Reinstating twice gives one use back, not two.
    ///
    /// # Errors
    /// `NotFound` for an unknown redemption; `Conflict` where the provider refuses to give
    /// back an offer that is not redeemed (SessionM: never redeemed, or given back already by
    /// a void of its sale); `Unsupported`.
    async fn reinstate(&self, ctx: &Context, redemption: &Redemption) -> Result<()>;
}

/// Sends, cancels and refunds transactions.
#[async_trait]
pub trait Transactions: Send + Sync {
    /// Sends a completed transaction, carrying the offers and stamps it used.
    ///
    /// Requires capability: `send_transaction`.
    ///
    /// # Behaviour
    /// - The transaction id is the idempotency key: sending the same id again has one effect
    ///   and reports `SendOutcome::AlreadyRecorded` (where `resend` is `Deduplicated`), or
    ///   replaces the stored transaction and reports `SendOutcome::Replaced` (`Upsert`;
    ///   `SendOutcome::Stored` for every send when the vendor's reply does not tell which).
    /// - The same id with a different body is `Conflict` where the provider can tell.
    /// - The holds the transaction carries are claimed by it.
    /// - Never sent twice by a retry: a timeout after sending is `Unavailable` with effect
    ///   `Unknown`, and the caller resends the same id later.
    ///
    /// # Errors
    /// `Invalid` for a malformed transaction; `Rejected` for an offer the vendor refuses;
    /// `Conflict` for a duplicate id where the vendor refuses duplicates without saying it
    /// already has it; `Unsupported`.
    async fn send(&self, ctx: &Context, transaction: &Transaction) -> Result<TransactionReceipt>;

    /// Replaces a sent transaction by id (the `ResendWithoutLines` return style).
    ///
    /// Requires capability: `return_styles` contains `ResendWithoutLines`.
    ///
    /// # Errors
    /// `NotFound`; `Invalid`; `Unsupported`.
    async fn amend(&self, ctx: &Context, transaction: &Transaction) -> Result<TransactionReceipt>;

    /// Cancels (fully reverses) a sent transaction, offers and stamps included. The
    /// transaction is the one sent (vendors that void by sending the body again need it; the
    /// others use its id).
    ///
    /// Requires capability: `cancel_transaction`.
    ///
    /// # Behaviour
    /// - A second cancel is `Conflict` where `second_cancel_refused`, else a no-op.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` when already cancelled (see above); `Unsupported`.
    async fn cancel(&self, ctx: &Context, transaction: &Transaction, reason: Option<&str>) -> Result<()>;

    /// Records a partial refund of a transaction (offers are not given back).
    ///
    /// Requires capability: `return_styles` contains `PartialRefund`.
    ///
    /// # Errors
    /// `NotFound` for an unknown original; `Rejected` when it exceeds what is left of the
    /// original; `Unsupported`.
    async fn refund(&self, ctx: &Context, refund: &Refund) -> Result<TransactionReceipt>;
}

/// Shopping carts: a cart opened with its first line, changed while open, checked out with a
/// payment, and upgraded after it is paid (upsell upgrades).
///
/// Prices are the provider's: every reply carries each line's unit price, discount (the
/// campaign's progressive discount, say) and net, and the cart's shipping and total.
#[async_trait]
pub trait Carts: Send + Sync {
    /// Opens a cart holding its first line.
    ///
    /// Requires capability: `carts`.
    ///
    /// # Behaviour
    /// - The cart is [`CartStatus::Open`](crate::CartStatus) and priced.
    /// - A test cart is kept apart by the vendor and never fulfilled.
    ///
    /// # Errors
    /// `NotFound` for an unknown product; `Invalid` for a quantity below one or a product in
    /// another currency; `Unsupported`.
    async fn create(&self, ctx: &Context, request: &NewCart) -> Result<Cart>;

    /// Reads a cart: its lines and prices, its status, and its order once paid.
    ///
    /// Requires capability: `carts`.
    ///
    /// # Behaviour
    /// - A paid cart reads back as `Paid` with its order; an upgrade line shows where its
    ///   upgrade stands ([`UpgradeStatus`](crate::UpgradeStatus)).
    ///
    /// # Errors
    /// `NotFound`; `Protocol` when the vendor's prices cannot be explained (a line charged
    /// something else than the campaign's discount gives); `Unsupported`.
    async fn get(&self, ctx: &Context, cart: &CartId) -> Result<Cart>;

    /// Adds a product to an open cart.
    ///
    /// Requires capability: `carts`.
    ///
    /// # Errors
    /// `NotFound` (cart or product); `Conflict` for a cart that is no longer open, or a product
    /// already in it where the vendor wants [`Carts::set_quantity`] instead; `Invalid` for a
    /// quantity below one; `Unsupported`.
    async fn add_line(
        &self,
        ctx: &Context,
        cart: &CartId,
        product: &ProductId,
        quantity: rust_decimal::Decimal,
    ) -> Result<Cart>;

    /// Sets the quantity of a line of an open cart.
    ///
    /// Requires capability: `carts`.
    ///
    /// # Behaviour
    /// - Setting the quantity a line already has changes nothing (idempotent).
    ///
    /// # Errors
    /// `NotFound` (cart or line); `Conflict` for a cart that is no longer open; `Invalid` for a
    /// quantity below one; `Unsupported`.
    async fn set_quantity(
        &self,
        ctx: &Context,
        cart: &CartId,
        line: &LineId,
        quantity: rust_decimal::Decimal,
    ) -> Result<Cart>;

    /// Removes a line from an open cart.
    ///
    /// Requires capability: `carts`.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` for a cart that is no longer open; `Unsupported`.
    async fn remove_line(&self, ctx: &Context, cart: &CartId, line: &LineId) -> Result<Cart>;

    /// Attaches the customer's details (e-mail and shipping address) to an open cart.
    ///
    /// Requires capability: `carts`.
    ///
    /// # Errors
    /// `Invalid` naming the missing detail; `NotFound`; `Conflict` for a cart that is no
    /// longer open; `Unsupported`.
    async fn set_customer(&self, ctx: &Context, cart: &CartId, customer: &Customer) -> Result<Cart>;

    /// Pays the cart: the provider charges `payment` for the cart's total.
    ///
    /// Requires capability: `carts`.
    ///
    /// # Behaviour
    /// - Answers [`CartCheckout::Paid`] with the order, [`CartCheckout::Declined`] (the cart
    ///   stays open and may be checked out again), or [`CartCheckout::ActionRequired`] with
    ///   what the shop must show (a redirect, 3-D Secure, an offline payment link); the cart
    ///   then waits for the payment and is paid once the customer completes it.
    /// - Checking out a paid cart again returns the same order and charges nothing.
    /// - A charge is never sent twice by a retry: after an ambiguous failure the provider reads
    ///   the cart back before answering.
    ///
    /// # Errors
    /// `Invalid` for missing customer details or a payment the provider does not take;
    /// `NotFound`; `Conflict` for a discarded cart; `Unavailable` with effect `Unknown` when the
    /// outcome cannot be told (read the cart, then check out again); `Unsupported`.
    async fn checkout(&self, ctx: &Context, cart: &CartId, payment: &CartPayment) -> Result<CartCheckout>;

    /// Upgrades units of a paid line to a better product (an upsell upgrade after checkout).
    ///
    /// Requires capability: `cart_upgrades` (`offline_upgrades` when `request.paid_offline`).
    ///
    /// # Behaviour
    /// - Only a paid cart can be upgraded.
    /// - The chain `p0 → … → pk` costs `quantity × (ak − a0)`, never negative; each step
    ///   captures only what the chain has not captured yet, so an upgrade of an upgrade charges
    ///   last minus first in all. Intermediate products never ship: only the chain's head
    ///   does, once charged.
    /// - Upgrading fewer units than the line holds splits it; the rest stays as it was.
    /// - The answer is [`UpgradeOutcome::Charged`], [`UpgradeOutcome::Pending`] (the vendor
    ///   charges later), [`UpgradeOutcome::Discarded`] (every charge attempt failed: the
    ///   product paid before ships) or, for a cart paid offline,
    ///   [`UpgradeOutcome::PaymentRequired`] with a new cart naming this one as its parent.
    /// - A charge is never sent twice by a retry: after an ambiguous failure the provider reads
    ///   the cart back before answering.
    ///
    /// # Errors
    /// `Conflict` for a cart that is not paid, or a line whose previous upgrade still waits
    /// for its own payment; `NotFound` (cart, line or product); `Invalid` for no units or
    /// more units than the line holds (naming the quantity field, the vendor's where it checks);
    /// `Rejected` when the product is no upgrade of the line; `Unsupported`.
    async fn upgrade(&self, ctx: &Context, cart: &CartId, request: &UpgradeRequest)
        -> Result<UpgradeOutcome>;
}

/// Dropship fulfilment through a wholesaler: stock, couriers, orders the wholesaler ships to
/// the shop's customer, their status and the shipment notices it pushes.
#[async_trait]
pub trait Fulfilment: Send + Sync {
    /// Checks whether the wholesaler can supply each line now.
    ///
    /// Requires capability: `dropshipping`.
    ///
    /// # Behaviour
    /// - One [`StockLevel`] per line, in order; a line the wholesaler cannot supply (too little
    ///   stock, an unknown product) has a `shortfall`, which is not an error.
    /// - A pure read: nothing is reserved.
    ///
    /// # Errors
    /// `Invalid` for a quantity that is not positive or no lines; `Unsupported`.
    async fn stock(&self, ctx: &Context, lines: &[OrderLine]) -> Result<Vec<StockLevel>>;

    /// Lists couriers: every one the wholesaler offers, or those that can carry a basket to a
    /// destination, priced for it, before any order exists.
    ///
    /// Requires capability: `dropshipping`.
    ///
    /// # Behaviour
    /// - [`CourierQuery::all`] lists every courier (`cost` may be `None`).
    /// - [`CourierQuery::for_basket`] lists only couriers allowed for those products and that
    ///   destination, each with its `cost`; none allowed is an empty list.
    ///
    /// # Errors
    /// `Invalid` for a basket without a destination or a malformed destination; `Rejected`
    /// for an unknown product; `Unsupported`.
    async fn couriers(&self, ctx: &Context, query: &CourierQuery) -> Result<Vec<Courier>>;

    /// Places a dropship order; the shop's reference is the idempotency key.
    ///
    /// Requires capability: `dropshipping`.
    ///
    /// # Behaviour
    /// - Placing the same reference again places nothing and answers the earlier order with
    ///   `duplicate` set.
    /// - Never placed twice by a retry: after a reply that may have been lost, the provider
    ///   looks the reference up before sending again; a caller that still gets an error with
    ///   effect `Unknown` calls [`Fulfilment::find_order`] before placing again.
    ///
    /// # Errors
    /// `Rejected` (out of stock, courier not allowed for the basket or address, unknown
    /// product); `Invalid` (no lines, a malformed recipient or billing); `Unavailable`;
    /// `Unsupported`.
    async fn place_order(&self, ctx: &Context, order: &DropshipOrder) -> Result<PlacedOrder>;

    /// Finds an order by the shop's reference (reconciliation after a transport failure).
    ///
    /// Requires capability: `dropshipping`.
    ///
    /// # Behaviour
    /// - No order under that reference is `Ok(None)`.
    ///
    /// # Errors
    /// `Unsupported`.
    async fn find_order(&self, ctx: &Context, reference: &str) -> Result<Option<OrderStatus>>;

    /// Reads an order's status and shipment numbers (the polling fallback of shipment notices).
    ///
    /// Requires capability: `dropshipping`.
    ///
    /// # Errors
    /// `NotFound`; `Unsupported`.
    async fn order_status(&self, ctx: &Context, order: &OrderId) -> Result<OrderStatus>;

    /// Reads an order's recipient.
    ///
    /// Requires capability: `dropshipping`.
    ///
    /// # Errors
    /// `NotFound`; `Unsupported`.
    async fn recipient(&self, ctx: &Context, order: &OrderId) -> Result<Recipient>;

    /// Corrects an order's recipient before dispatch.
    ///
    /// Requires capability: `dropshipping`.
    ///
    /// # Behaviour
    /// - After dispatch the recipient stays as it was.
    ///
    /// # Errors
    /// `Conflict` after dispatch; `NotFound`; `Invalid`; `Unsupported`.
    async fn update_recipient(&self, ctx: &Context, order: &OrderId, recipient: &Recipient) -> Result<()>;

    /// Parses a shipment notice the wholesaler pushed (webhook headers and body), checking its
    /// signature as the provider is configured to.
    ///
    /// Requires capability: `dropshipping`.
    ///
    /// # Behaviour
    /// - Pure: no I/O, no de-duplication (a receiver de-duplicates by
    ///   [`ShipmentNotice::shipment_keys`], by `event_id` only for a notice without tracking
    ///   numbers, and never lets an unverified notice hide a verified one).
    /// - Carries every tracking number of the shipment.
    ///
    /// # Errors
    /// `Unauthorized` for a signature that does not check out (or a missing one the provider
    /// requires); `Protocol` for a body that is not a notice; `Invalid` for a body over the
    /// provider's size limit; `Unsupported`.
    fn parse_shipment_notice(&self, request: PushedRequest<'_>) -> Result<ShipmentNotice>;
}

/// A configured provider: its capabilities and the concerns it implements.
///
/// A concern the provider does not implement is `None`; its [`Capabilities`] say which
/// variants of the ones it does implement it supports. Shop code holds an
/// `Arc<dyn Provider>` (from `loyalty-config`, say) and never names the vendor.
///
/// ```
/// use loyalty_core::{Capabilities, Carts, Fulfilment, Holds, Members, Offers, Provider, Redemptions, Transactions};
///
/// /// A provider that can do nothing yet: the start of an adapter.
/// struct Skeleton(Capabilities);
///
/// impl Provider for Skeleton {
///     fn name(&self) -> &str { "skeleton" }
///     fn capabilities(&self) -> &Capabilities { &self.0 }
///     fn members(&self) -> Option<&dyn Members> { None }
///     fn offers(&self) -> Option<&dyn Offers> { None }
///     fn holds(&self) -> Option<&dyn Holds> { None }
///     fn redemptions(&self) -> Option<&dyn Redemptions> { None }
///     fn transactions(&self) -> Option<&dyn Transactions> { None }
///     fn carts(&self) -> Option<&dyn Carts> { None }
///     fn fulfilment(&self) -> Option<&dyn Fulfilment> { None }
/// }
///
/// let provider: std::sync::Arc<dyn Provider> = std::sync::Arc::new(Skeleton(Capabilities::none()));
/// assert!(provider.members().is_none());
/// assert!(provider.capabilities().claims().is_empty());
/// ```
pub trait Provider: Send + Sync {
    /// The provider's name (`"memory"`, `"diller"`).
    fn name(&self) -> &str;
    /// What it declares it can do.
    fn capabilities(&self) -> &Capabilities;
    /// Members, when supported.
    fn members(&self) -> Option<&dyn Members>;
    /// Offers, when supported.
    fn offers(&self) -> Option<&dyn Offers>;
    /// Holds, when supported.
    fn holds(&self) -> Option<&dyn Holds>;
    /// Redemptions, when supported.
    fn redemptions(&self) -> Option<&dyn Redemptions>;
    /// Transactions, when supported.
    fn transactions(&self) -> Option<&dyn Transactions>;
    /// Carts, when supported.
    fn carts(&self) -> Option<&dyn Carts>;
    /// Fulfilment, when supported.
    fn fulfilment(&self) -> Option<&dyn Fulfilment>;
}

// A shared provider is a provider, so the capability check can wrap what a registry hands out.
impl<P: Provider + ?Sized> Provider for std::sync::Arc<P> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn capabilities(&self) -> &Capabilities {
        (**self).capabilities()
    }
    fn members(&self) -> Option<&dyn Members> {
        (**self).members()
    }
    fn offers(&self) -> Option<&dyn Offers> {
        (**self).offers()
    }
    fn holds(&self) -> Option<&dyn Holds> {
        (**self).holds()
    }
    fn redemptions(&self) -> Option<&dyn Redemptions> {
        (**self).redemptions()
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        (**self).transactions()
    }
    fn carts(&self) -> Option<&dyn Carts> {
        (**self).carts()
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        (**self).fulfilment()
    }
}

// A borrowed provider is a provider, so flows that keep an `Arc<dyn Provider + 'a>` can
// run over one the caller owns.
impl<P: Provider + ?Sized> Provider for &P {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn capabilities(&self) -> &Capabilities {
        (**self).capabilities()
    }
    fn members(&self) -> Option<&dyn Members> {
        (**self).members()
    }
    fn offers(&self) -> Option<&dyn Offers> {
        (**self).offers()
    }
    fn holds(&self) -> Option<&dyn Holds> {
        (**self).holds()
    }
    fn redemptions(&self) -> Option<&dyn Redemptions> {
        (**self).redemptions()
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        (**self).transactions()
    }
    fn carts(&self) -> Option<&dyn Carts> {
        (**self).carts()
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        (**self).fulfilment()
    }
}

/// Accessors that turn a missing concern into `Unsupported`, for callers that prefer `?`.
pub trait ProviderExt {
    /// [`Provider::members`] or `Unsupported { operation }`.
    fn require_members(&self, operation: &str) -> Result<&dyn Members>;
    /// [`Provider::offers`] or `Unsupported`.
    fn require_offers(&self, operation: &str) -> Result<&dyn Offers>;
    /// [`Provider::holds`] or `Unsupported`.
    fn require_holds(&self, operation: &str) -> Result<&dyn Holds>;
    /// [`Provider::redemptions`] or `Unsupported`.
    fn require_redemptions(&self, operation: &str) -> Result<&dyn Redemptions>;
    /// [`Provider::transactions`] or `Unsupported`.
    fn require_transactions(&self, operation: &str) -> Result<&dyn Transactions>;
    /// [`Provider::carts`] or `Unsupported`.
    fn require_carts(&self, operation: &str) -> Result<&dyn Carts>;
    /// [`Provider::fulfilment`] or `Unsupported`.
    fn require_fulfilment(&self, operation: &str) -> Result<&dyn Fulfilment>;
}

impl<P: Provider + ?Sized> ProviderExt for P {
    fn require_members(&self, operation: &str) -> Result<&dyn Members> {
        self.members().ok_or_else(|| Error::unsupported(self.name(), operation))
    }
    fn require_offers(&self, operation: &str) -> Result<&dyn Offers> {
        self.offers().ok_or_else(|| Error::unsupported(self.name(), operation))
    }
    fn require_holds(&self, operation: &str) -> Result<&dyn Holds> {
        self.holds().ok_or_else(|| Error::unsupported(self.name(), operation))
    }
    fn require_redemptions(&self, operation: &str) -> Result<&dyn Redemptions> {
        self.redemptions().ok_or_else(|| Error::unsupported(self.name(), operation))
    }
    fn require_transactions(&self, operation: &str) -> Result<&dyn Transactions> {
        self.transactions().ok_or_else(|| Error::unsupported(self.name(), operation))
    }
    fn require_carts(&self, operation: &str) -> Result<&dyn Carts> {
        self.carts().ok_or_else(|| Error::unsupported(self.name(), operation))
    }
    fn require_fulfilment(&self, operation: &str) -> Result<&dyn Fulfilment> {
        self.fulfilment().ok_or_else(|| Error::unsupported(self.name(), operation))
    }
}
