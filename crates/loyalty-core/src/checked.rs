//! The one place that enforces a provider's declaration: [`Checked`] wraps any provider and
//! answers every operation its [`Capabilities`] do not declare with `Unsupported`, before the
//! adapter is called, so no adapter repeats the check and none can forget it.
//!
//! Registries, the checkout and the conformance suite hand callers a checked provider.
//!
//! ```
//! use loyalty_core::{Capabilities, Checked, Context, MemberLookup, Provider};
//! # use loyalty_core::{Carts, Fulfilment, Holds, Members, Offers, Redemptions, Transactions};
//! # struct Nothing(Capabilities);
//! # impl Provider for Nothing {
//! #     fn name(&self) -> &str { "nothing" }
//! #     fn capabilities(&self) -> &Capabilities { &self.0 }
//! #     fn members(&self) -> Option<&dyn Members> { None }
//! #     fn offers(&self) -> Option<&dyn Offers> { None }
//! #     fn holds(&self) -> Option<&dyn Holds> { None }
//! #     fn redemptions(&self) -> Option<&dyn Redemptions> { None }
//! #     fn transactions(&self) -> Option<&dyn Transactions> { None }
//! #     fn carts(&self) -> Option<&dyn Carts> { None }
//! #     fn fulfilment(&self) -> Option<&dyn Fulfilment> { None }
//! # }
//! let provider = Checked::new(Nothing(Capabilities::none()));
//! // A provider that implements no concern has no accessor either.
//! assert!(provider.members().is_none());
//! ```

use async_trait::async_trait;
use rust_decimal::Decimal;

use crate::basket::Basket;
use crate::capabilities::{Capabilities, Reinstatement, ReturnStyle};
use crate::commerce::{
    Cart, CartCheckout, CartPayment, Courier, CourierQuery, Customer, DropshipOrder, NewCart, OrderLine,
    OrderStatus, PlacedOrder, PushedRequest, Recipient, ShipmentNotice, StockLevel, UpgradeOutcome,
    UpgradeRequest,
};
use crate::error::{Error, Result};
use crate::ids::{CartId, LineId, MemberId, OrderId, ProductId};
use crate::member::{EnrollMember, Member, MemberLookup, MemberUpdate, RegisterMember, Segment};
use crate::offer::{Offer, Validation};
use crate::provider::{
    Carts, Context, Fulfilment, Holds, Members, Offers, Provider, Redemptions, Transactions,
};
use crate::transaction::{
    Hold, HoldRequest, RedeemRequest, Redemption, Refund, Transaction, TransactionReceipt,
};

/// A provider whose every operation is checked against its declared capabilities first.
///
/// An accessor returns `Some` only when the wrapped provider implements the concern; inside it,
/// an operation the capabilities do not declare (a lookup kind, a hold, a return style) fails
/// with `Unsupported` naming the operation and the missing capability, with effect `NotSent`.
/// An offer list asked with a basket from a provider without `offers_with_basket` is sent
/// without the basket, as the trait promises. Wrapping twice is harmless.
#[derive(Debug, Clone)]
pub struct Checked<P> {
    inner: P,
}

impl<P: Provider> Checked<P> {
    /// Wraps `provider`.
    pub fn new(provider: P) -> Checked<P> {
        Checked { inner: provider }
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// Unwraps.
    pub fn into_inner(self) -> P {
        self.inner
    }

    fn caps(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    /// Refuses contact details with a control character (`Invalid` naming the field, effect
    /// `NotSent`) before the provider sees them, however the request was built.
    fn contact_text(&self, operation: &str, fault: Option<(String, String)>) -> Result<()> {
        match fault {
            Some((field, reason)) => Err(Error::invalid(self.inner.name(), operation, field, reason)
                .with_effect(crate::error::WriteEffect::NotSent)),
            None => Ok(()),
        }
    }

    fn require(&self, declared: bool, operation: &str, capability: &str) -> Result<()> {
        if declared {
            Ok(())
        } else {
            Err(Error::unsupported(self.inner.name(), operation)
                .with_message(format!("not declared: needs capability {capability}")))
        }
    }

    fn unimplemented(&self, operation: &str) -> Error {
        Error::unsupported(self.inner.name(), operation)
            .with_message("declared, but the provider implements no such concern")
    }
}

impl<P: Provider> Provider for Checked<P> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
    fn members(&self) -> Option<&dyn Members> {
        self.inner.members().map(|_| self as &dyn Members)
    }
    fn offers(&self) -> Option<&dyn Offers> {
        self.inner.offers().map(|_| self as &dyn Offers)
    }
    fn holds(&self) -> Option<&dyn Holds> {
        self.inner.holds().map(|_| self as &dyn Holds)
    }
    fn redemptions(&self) -> Option<&dyn Redemptions> {
        self.inner.redemptions().map(|_| self as &dyn Redemptions)
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        self.inner.transactions().map(|_| self as &dyn Transactions)
    }
    fn carts(&self) -> Option<&dyn Carts> {
        self.inner.carts().map(|_| self as &dyn Carts)
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        self.inner.fulfilment().map(|_| self as &dyn Fulfilment)
    }
}

impl<P: Provider> Checked<P> {
    fn members_api(&self, op: &str) -> Result<&dyn Members> {
        self.inner.members().ok_or_else(|| self.unimplemented(op))
    }
    fn offers_api(&self, op: &str) -> Result<&dyn Offers> {
        self.inner.offers().ok_or_else(|| self.unimplemented(op))
    }
    fn holds_api(&self, op: &str) -> Result<&dyn Holds> {
        self.inner.holds().ok_or_else(|| self.unimplemented(op))
    }
    fn redemptions_api(&self, op: &str) -> Result<&dyn Redemptions> {
        self.inner.redemptions().ok_or_else(|| self.unimplemented(op))
    }
    fn transactions_api(&self, op: &str) -> Result<&dyn Transactions> {
        self.inner.transactions().ok_or_else(|| self.unimplemented(op))
    }
    fn carts_api(&self, op: &str) -> Result<&dyn Carts> {
        self.inner.carts().ok_or_else(|| self.unimplemented(op))
    }
    fn fulfilment_api(&self, op: &str) -> Result<&dyn Fulfilment> {
        self.inner.fulfilment().ok_or_else(|| self.unimplemented(op))
    }
}

#[async_trait]
impl<P: Provider> Members for Checked<P> {
    async fn find(&self, ctx: &Context, lookup: &MemberLookup) -> Result<Option<Member>> {
        const OP: &str = "members.find";
        let kind = lookup.kind();
        self.require(self.caps().supports_lookup(kind), OP, &format!("lookups.{}", kind.label()))?;
        self.members_api(OP)?.find(ctx, lookup).await
    }

    async fn get(&self, ctx: &Context, id: &MemberId) -> Result<Member> {
        const OP: &str = "members.get";
        self.require(self.caps().get_member, OP, "get_member")?;
        self.members_api(OP)?.get(ctx, id).await
    }

    async fn register(&self, ctx: &Context, request: &RegisterMember) -> Result<Member> {
        const OP: &str = "members.register";
        self.require(self.caps().register, OP, "register")?;
        self.contact_text(OP, request.contact_fault())?;
        self.members_api(OP)?.register(ctx, request).await
    }

    async fn enroll(&self, ctx: &Context, request: &EnrollMember) -> Result<Member> {
        const OP: &str = "members.enroll";
        self.require(self.caps().enroll, OP, "enroll")?;
        self.contact_text(OP, request.contact_fault())?;
        self.members_api(OP)?.enroll(ctx, request).await
    }

    async fn update(&self, ctx: &Context, id: &MemberId, update: &MemberUpdate) -> Result<Member> {
        const OP: &str = "members.update";
        self.require(self.caps().update_member, OP, "update_member")?;
        self.contact_text(OP, update.contact_fault())?;
        self.members_api(OP)?.update(ctx, id, update).await
    }

    async fn segments(&self, ctx: &Context) -> Result<Vec<Segment>> {
        const OP: &str = "members.segments";
        self.require(self.caps().segments, OP, "segments")?;
        self.members_api(OP)?.segments(ctx).await
    }
}

#[async_trait]
impl<P: Provider> Offers for Checked<P> {
    async fn list(
        &self,
        ctx: &Context,
        member: Option<&MemberId>,
        basket: Option<&Basket>,
    ) -> Result<Vec<Offer>> {
        const OP: &str = "offers.list";
        self.require(self.caps().list_offers, OP, "list_offers")?;
        if member.is_none() {
            self.require(self.caps().guest_offers, OP, "guest_offers")?;
        }
        let basket = basket.filter(|_| self.caps().offers_with_basket);
        self.offers_api(OP)?.list(ctx, member, basket).await
    }

    async fn validate(&self, ctx: &Context, member: &MemberId, offer: &Offer) -> Result<Validation> {
        const OP: &str = "offers.validate";
        self.require(self.caps().validate_offer, OP, "validate_offer")?;
        self.offers_api(OP)?.validate(ctx, member, offer).await
    }
}

#[async_trait]
impl<P: Provider> Holds for Checked<P> {
    async fn hold(&self, ctx: &Context, request: &HoldRequest) -> Result<Hold> {
        const OP: &str = "holds.hold";
        self.require(self.caps().hold.is_some(), OP, "hold")?;
        self.holds_api(OP)?.hold(ctx, request).await
    }

    async fn release(&self, ctx: &Context, hold: &Hold) -> Result<()> {
        const OP: &str = "holds.release";
        self.require(self.caps().hold.is_some(), OP, "hold")?;
        self.holds_api(OP)?.release(ctx, hold).await
    }
}

#[async_trait]
impl<P: Provider> Redemptions for Checked<P> {
    async fn redeem(&self, ctx: &Context, request: &RedeemRequest) -> Result<Redemption> {
        const OP: &str = "redemptions.redeem";
        self.require(self.caps().redeem, OP, "redeem")?;
        self.redemptions_api(OP)?.redeem(ctx, request).await
    }

    async fn reinstate(&self, ctx: &Context, redemption: &Redemption) -> Result<()> {
        const OP: &str = "redemptions.reinstate";
        self.require(self.caps().reinstates(Reinstatement::Explicit), OP, "reinstate.explicit")?;
        self.redemptions_api(OP)?.reinstate(ctx, redemption).await
    }
}

#[async_trait]
impl<P: Provider> Transactions for Checked<P> {
    async fn send(&self, ctx: &Context, transaction: &Transaction) -> Result<TransactionReceipt> {
        const OP: &str = "transactions.send";
        self.require(self.caps().send_transaction, OP, "send_transaction")?;
        self.transactions_api(OP)?.send(ctx, transaction).await
    }

    async fn amend(&self, ctx: &Context, transaction: &Transaction) -> Result<TransactionReceipt> {
        const OP: &str = "transactions.amend";
        let declared = self.caps().supports_return(ReturnStyle::ResendWithoutLines);
        self.require(declared, OP, "return_styles.resend_without_lines")?;
        self.transactions_api(OP)?.amend(ctx, transaction).await
    }

    async fn cancel(&self, ctx: &Context, transaction: &Transaction, reason: Option<&str>) -> Result<()> {
        const OP: &str = "transactions.cancel";
        self.require(self.caps().cancel_transaction, OP, "cancel_transaction")?;
        self.transactions_api(OP)?.cancel(ctx, transaction, reason).await
    }

    async fn refund(&self, ctx: &Context, refund: &Refund) -> Result<TransactionReceipt> {
        const OP: &str = "transactions.refund";
        let declared = self.caps().supports_return(ReturnStyle::PartialRefund);
        self.require(declared, OP, "return_styles.partial_refund")?;
        self.transactions_api(OP)?.refund(ctx, refund).await
    }
}

#[async_trait]
impl<P: Provider> Carts for Checked<P> {
    async fn create(&self, ctx: &Context, request: &NewCart) -> Result<Cart> {
        const OP: &str = "carts.create";
        self.require(self.caps().carts, OP, "carts")?;
        self.carts_api(OP)?.create(ctx, request).await
    }

    async fn get(&self, ctx: &Context, cart: &CartId) -> Result<Cart> {
        const OP: &str = "carts.get";
        self.require(self.caps().carts, OP, "carts")?;
        self.carts_api(OP)?.get(ctx, cart).await
    }

    async fn add_line(
        &self,
        ctx: &Context,
        cart: &CartId,
        product: &ProductId,
        quantity: Decimal,
    ) -> Result<Cart> {
        const OP: &str = "carts.add_line";
        self.require(self.caps().carts, OP, "carts")?;
        self.carts_api(OP)?.add_line(ctx, cart, product, quantity).await
    }

    async fn set_quantity(
        &self,
        ctx: &Context,
        cart: &CartId,
        line: &LineId,
        quantity: Decimal,
    ) -> Result<Cart> {
        const OP: &str = "carts.set_quantity";
        self.require(self.caps().carts, OP, "carts")?;
        self.carts_api(OP)?.set_quantity(ctx, cart, line, quantity).await
    }

    async fn remove_line(&self, ctx: &Context, cart: &CartId, line: &LineId) -> Result<Cart> {
        const OP: &str = "carts.remove_line";
        self.require(self.caps().carts, OP, "carts")?;
        self.carts_api(OP)?.remove_line(ctx, cart, line).await
    }

    async fn set_customer(&self, ctx: &Context, cart: &CartId, customer: &Customer) -> Result<Cart> {
        const OP: &str = "carts.set_customer";
        self.require(self.caps().carts, OP, "carts")?;
        self.carts_api(OP)?.set_customer(ctx, cart, customer).await
    }

    async fn checkout(&self, ctx: &Context, cart: &CartId, payment: &CartPayment) -> Result<CartCheckout> {
        const OP: &str = "carts.checkout";
        self.require(self.caps().carts, OP, "carts")?;
        self.carts_api(OP)?.checkout(ctx, cart, payment).await
    }

    async fn upgrade(
        &self,
        ctx: &Context,
        cart: &CartId,
        request: &UpgradeRequest,
    ) -> Result<UpgradeOutcome> {
        const OP: &str = "carts.upgrade";
        self.require(self.caps().cart_upgrades, OP, "cart_upgrades")?;
        if request.paid_offline {
            self.require(self.caps().offline_upgrades, OP, "offline_upgrades")?;
        }
        self.carts_api(OP)?.upgrade(ctx, cart, request).await
    }
}

#[async_trait]
impl<P: Provider> Fulfilment for Checked<P> {
    async fn stock(&self, ctx: &Context, lines: &[OrderLine]) -> Result<Vec<StockLevel>> {
        const OP: &str = "fulfilment.stock";
        self.require(self.caps().dropshipping, OP, "dropshipping")?;
        self.fulfilment_api(OP)?.stock(ctx, lines).await
    }

    async fn couriers(&self, ctx: &Context, query: &CourierQuery) -> Result<Vec<Courier>> {
        const OP: &str = "fulfilment.couriers";
        self.require(self.caps().dropshipping, OP, "dropshipping")?;
        self.fulfilment_api(OP)?.couriers(ctx, query).await
    }

    async fn place_order(&self, ctx: &Context, order: &DropshipOrder) -> Result<PlacedOrder> {
        const OP: &str = "fulfilment.place_order";
        self.require(self.caps().dropshipping, OP, "dropshipping")?;
        self.fulfilment_api(OP)?.place_order(ctx, order).await
    }

    async fn find_order(&self, ctx: &Context, reference: &str) -> Result<Option<OrderStatus>> {
        const OP: &str = "fulfilment.find_order";
        self.require(self.caps().dropshipping, OP, "dropshipping")?;
        self.fulfilment_api(OP)?.find_order(ctx, reference).await
    }

    async fn order_status(&self, ctx: &Context, order: &OrderId) -> Result<OrderStatus> {
        const OP: &str = "fulfilment.order_status";
        self.require(self.caps().dropshipping, OP, "dropshipping")?;
        self.fulfilment_api(OP)?.order_status(ctx, order).await
    }

    async fn recipient(&self, ctx: &Context, order: &OrderId) -> Result<Recipient> {
        const OP: &str = "fulfilment.recipient";
        self.require(self.caps().dropshipping, OP, "dropshipping")?;
        self.fulfilment_api(OP)?.recipient(ctx, order).await
    }

    async fn update_recipient(&self, ctx: &Context, order: &OrderId, recipient: &Recipient) -> Result<()> {
        const OP: &str = "fulfilment.update_recipient";
        self.require(self.caps().dropshipping, OP, "dropshipping")?;
        self.fulfilment_api(OP)?.update_recipient(ctx, order, recipient).await
    }

    fn parse_shipment_notice(&self, request: PushedRequest<'_>) -> Result<ShipmentNotice> {
        const OP: &str = "fulfilment.parse_shipment_notice";
        self.require(self.caps().dropshipping, OP, "dropshipping")?;
        self.fulfilment_api(OP)?.parse_shipment_notice(request)
    }
}
