//! Reply decoders as pure functions of bytes (and the context they need: the store currency,
//! the time zone, the basket a lookup or lock evaluated), public for fuzzing and benchmarks.
//! None does I/O, none panics on any input. Each is the path the adapter itself takes: the
//! private `wire` decoder, then the conversion into the core's types. A reply that contradicts
//! the contract is `Protocol`, its message naming the field (`payload.amount: -1 is negative`).

use chrono_tz::Tz;
use loyalty_core::{Basket, Currency, Error, ErrorKind, Member, Offer, VendorDiscount};
use rust_decimal::Decimal;

use crate::wire::convert::{self, InContext, OfferContext};
use crate::wire::{self, ConversionError};

fn decoded<T>(op: &str, r: Result<T, ConversionError>) -> Result<T, Error> {
    r.map_err(|e| e.protocol(op))
}

/// Decodes a Core user reply (get, get by external id, create, update) into a member.
///
/// # Errors
/// `Protocol` naming the field that contradicts the contract.
pub fn member(op: &str, body: &[u8]) -> Result<Member, Error> {
    let user = decoded(op, wire::core::decode_user(body))?;
    decoded(op, Member::try_from(&user))
}

/// Decodes a Connect `all_balances` reply into the member's points (`None` when it gives none).
///
/// # Errors
/// `Protocol` naming the field that contradicts the contract, or the account whose balance
/// makes the sum overflow.
pub fn points(op: &str, body: &[u8]) -> Result<Option<Decimal>, Error> {
    let balances = decoded(op, wire::points::decode_balances(body))?;
    decoded(op, convert::total_points(&balances))
}

/// Decodes one Connect `get_user_offers` page (the wallet) into offers.
///
/// # Errors
/// `Protocol` naming the entry and field that contradict the contract.
pub fn wallet(op: &str, body: &[u8], currency: Currency, zone: Tz) -> Result<Vec<Offer>, Error> {
    let page = decoded(op, wire::offers::decode_user_offers(body))?;
    let oc = OfferContext { currency, zone, basket: None };
    offers(op, "user_offers", &page.user_offers, &oc)
}

/// Decodes a POS/ECom lookup reply: the matched member and the offers of the wallet (each
/// with its discount when `basket` was sent).
///
/// # Errors
/// `Protocol` naming the field that contradicts the contract; the classified error of an
/// error envelope is the transport's (see [`reply_error`]).
pub fn lookup(
    op: &str,
    body: &[u8],
    currency: Currency,
    zone: Tz,
    basket: Option<&Basket>,
) -> Result<(Member, Vec<Offer>), Error> {
    let payload = decoded(op, wire::lookup::decode_lookup(body))?;
    let member = decoded(op, Member::try_from(&payload.user))?;
    let oc = OfferContext { currency, zone, basket };
    Ok((member, offers(op, "offers", &payload.offers, &oc)?))
}

fn offers(
    op: &str,
    field: &str,
    entries: &[wire::offers::WalletEntry],
    oc: &OfferContext<'_>,
) -> Result<Vec<Offer>, Error> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            Offer::try_from(InContext(e, oc)).map_err(|x| x.within(&format!("{field}[{i}]")).protocol(op))
        })
        .collect()
}

/// Decodes a lock or redeem reply (a Discount object as `payload`) into the discount it gives
/// on `basket`.
///
/// # Errors
/// `Protocol` naming the field: a negative or missing amount, quantities that do not fit the
/// basket, a currency other than the store's.
pub fn discount(op: &str, body: &[u8], currency: Currency, basket: &Basket) -> Result<VendorDiscount, Error> {
    let reply = decoded(op, wire::discounting::decode_discount(body))?;
    decoded(op, convert::vendor_discount(&reply.discount, currency, Some(basket), "payload"))
}

/// Decodes an unlock or reinstate reply (OK, no payload needed).
///
/// # Errors
/// `Protocol` for a reply without an OK status.
pub fn done(op: &str, body: &[u8]) -> Result<(), Error> {
    decoded(op, wire::discounting::decode_done(body))
}

/// Decodes a `send_transaction` reply into the vendor's reference, when it gives one.
///
/// # Errors
/// `Protocol` for a reply without an OK status.
pub fn sent_transaction(op: &str, body: &[u8]) -> Result<Option<String>, Error> {
    let reply = decoded(op, wire::transaction::decode_send(body))?;
    Ok(reply.id.filter(|id| !id.is_empty()))
}

/// Classifies a reply of `status` as the transport does (error envelopes, HTTP statuses):
/// `None` for a success.
pub fn reply_error(op: &str, status: u16, body: &[u8]) -> Option<Error> {
    let headers = reqwest::header::HeaderMap::new();
    let input = loyalty_http::ClassifyInput {
        provider: crate::PROVIDER,
        operation: op,
        method: &reqwest::Method::POST,
        status,
        headers: &headers,
        body,
        now: chrono::DateTime::UNIX_EPOCH,
    };
    crate::error::classify(&input)
}

/// True for an error the decoders here promise: `Protocol` with a message naming a field
/// (`field: reason`).
pub fn is_named_protocol_error(e: &Error) -> bool {
    *e.kind() == ErrorKind::Protocol
        && e.message().split_once(": ").is_some_and(|(field, _)| !field.trim().is_empty())
}
