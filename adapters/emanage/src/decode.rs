//! Reply decoders as pure functions of bytes (and the context they need: the campaign's price
//! list, the store currency, the progressive offer, the clock's now), public for fuzzing and
//! benchmarks. None does I/O, none panics on any input. Each is the path the adapter itself
//! takes: the private `wire` decoder, then the conversion into the core's types. A reply that
//! contradicts the contract is `Protocol`, its message naming the field
//! (`products[0].price: -1 is negative`).

use chrono::{DateTime, Utc};
use loyalty_core::checkout::{ActionKind, PaymentAction};
use loyalty_core::{
    Cart, CartCheckout, CartId, CartOrder, Currency, Error, ErrorKind, Money, Offer, OrderId, ProductId,
};

use crate::wire::{self, convert, ConversionError};
use crate::PROVIDER;

fn decoded<T>(op: &str, r: Result<T, ConversionError>) -> Result<T, Error> {
    r.map_err(|e| e.protocol(op))
}

/// The campaign's price list (`GET campaigns/{wk}/products/prices`), by product.
#[derive(Debug, Clone, Default)]
pub struct PriceList(pub(crate) convert::Catalogue);

impl PriceList {
    /// Every product of the list.
    pub fn product_ids(&self) -> Vec<ProductId> {
        self.0.ids()
    }

    /// The selling price of `product` in `currency`.
    ///
    /// # Errors
    /// `Protocol` for a product not in the list or a price that does not fit minor units.
    pub fn price(&self, op: &str, product: &ProductId, currency: Currency) -> Result<Money, Error> {
        let id = decoded(op, convert::product_id(product, "productId"))?;
        decoded(op, self.0.price(id, currency, "prices.discountedPrice"))
    }
}

/// Decodes the campaign's price list (object or bare-array form). An entry that contradicts
/// the contract is left out; asking the list for that product's price names the entry's field.
///
/// # Errors
/// `Protocol` naming the field for a body or envelope that does not read.
pub fn price_list(op: &str, body: &[u8]) -> Result<PriceList, Error> {
    Ok(PriceList(convert::Catalogue::from_reply(decoded(op, wire::decode_price_list(body))?)))
}

/// Decodes the reply of `shoppingcart/{wk}/new`: the new cart's session id.
///
/// # Errors
/// `Protocol` for anything but a non-empty JSON string.
pub fn session_id(op: &str, body: &[u8]) -> Result<CartId, Error> {
    decoded(op, wire::decode_session_id(body)).map(CartId::new)
}

/// Decodes the reply of `add` to cart `sent`: `None` when the line went into the same session
/// (a reply naming `sent` itself included), the new session when the server opened an
/// offline-upgrade session.
///
/// # Errors
/// `Protocol` for an unreadable body.
pub fn added(op: &str, sent: &CartId, body: &[u8]) -> Result<Option<CartId>, Error> {
    Ok(match decoded(op, wire::decode_add_reply(body, sent.as_str()))? {
        wire::AddReply::SameSession => None,
        wire::AddReply::NewSession { session_id, .. } => Some(CartId::new(session_id)),
    })
}

/// Decodes a cart read (`GET shoppingcart/{wk}?sessionId=`) into a core cart, priced with
/// `prices` and the campaign's progressive `offer` (counted in units, on all units). A line
/// whose vendor price that pricing does not explain is reported at the vendor's price.
///
/// # Errors
/// `Protocol` naming the line and field: malformed or negative numbers, overflowing amounts,
/// an amount finer than the currency's minor unit, an unknown session status.
pub fn cart(
    op: &str,
    id: &CartId,
    body: &[u8],
    prices: &PriceList,
    offer: Option<&Offer>,
    currency: Currency,
    now: DateTime<Utc>,
) -> Result<Cart, Error> {
    let w = decoded(op, wire::decode_cart(body))?;
    let pricing = convert::Pricing {
        catalogue: &prices.0,
        offer,
        rule: convert::DiscountRule::default(),
        currency,
        now,
    };
    decoded(op, convert::cart(id, &w, &pricing))
}

/// Decodes a checkout reply for `cart` of `total`: declined (`success: false`), a payment
/// action, or paid. A decline's reason is the vendor's message cut to an excerpt; the adapter
/// also replaces the card number, CVV and client id in it, which this function is not given.
///
/// # Errors
/// `Protocol` (effect `Unknown`: the checkout may have charged) for an unreadable reply, a
/// reply without `success`, or a success that names no order.
pub fn checkout(op: &str, cart: &CartId, total: Money, body: &[u8]) -> Result<CartCheckout, Error> {
    outcome(op, cart, total, decoded(op, wire::decode_checkout(body))?, &[])
}

/// What a decoded checkout reply means, in the clients' order: declined, then a redirect,
/// then a continuation, then paid (§6.3). A decline's reason quotes the vendor's message cut
/// to an excerpt with every one of `secrets` replaced: a 200 decline is no error, so the
/// transport never redacts it, and a vendor may echo the card it refused.
pub(crate) fn outcome(
    op: &str,
    cart: &CartId,
    total: Money,
    reply: wire::CheckoutResponse,
    secrets: &[&str],
) -> Result<CartCheckout, Error> {
    if !reply.success {
        let reason = reply
            .message
            .map(|m| loyalty_http::excerpt_redacted(&m, secrets))
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "the payment was declined".into());
        return Ok(CartCheckout::Declined { reason });
    }
    let order = reply.shopping_cart_number.clone().or(reply.order_number.clone()).map(OrderId::new);
    if let Some(url) = reply.call_back_url {
        let action = PaymentAction::new(ActionKind::Redirect, Some(url));
        return Ok(CartCheckout::ActionRequired { cart: cart.clone(), action, order });
    }
    if let Some(url) = reply.action_url {
        let action = PaymentAction::new(ActionKind::ThreeDSecure, Some(url));
        return Ok(CartCheckout::ActionRequired { cart: cart.clone(), action, order });
    }
    let order = order.ok_or_else(|| {
        Error::new(ErrorKind::Protocol, PROVIDER, op)
            .with_message("shoppingCartNumber: a successful checkout names none")
    })?;
    let paid = CartOrder::new(order, cart.clone(), total);
    Ok(CartCheckout::Paid(match reply.card_id {
        Some(card) => paid.with_card_on_file(card),
        None => paid,
    }))
}

/// Classifies a reply of `status` as the transport does: `None` for a success.
pub fn reply_error(op: &str, status: u16, body: &[u8]) -> Option<Error> {
    let headers = reqwest::header::HeaderMap::new();
    let input = loyalty_http::ClassifyInput {
        provider: PROVIDER,
        operation: op,
        method: &reqwest::Method::POST,
        status,
        headers: &headers,
        body,
        now: DateTime::UNIX_EPOCH,
    };
    crate::error::classify(&input)
}

/// True for an error the decoders here promise: `Protocol` with a message naming a field
/// (`field: reason`).
pub fn is_named_protocol_error(e: &Error) -> bool {
    *e.kind() == ErrorKind::Protocol
        && e.message().split_once(": ").is_some_and(|(field, _)| !field.trim().is_empty())
}
