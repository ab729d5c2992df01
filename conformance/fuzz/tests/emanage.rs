//! eManage: every reply body the adapter reads, through `loyalty_emanage::decode` (the private
//! `wire` decoders and the conversions into the core's types): the campaign's price list, new
//! session, add (with the offline-upgrade session), the cart read priced against the price
//! list, checkout, and error replies through the classifier.

use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use loyalty_core::{CartCheckout, CartId, Currency, Money, Offer, OfferKind, Tier};
use loyalty_emanage::decode::{self, is_named_protocol_error, PriceList};
use loyalty_fuzz::{choose, decoder_targets, expect_error};
use rust_decimal::Decimal;

/// The price list of the conformance fixtures, as the cart read's context.
fn prices() -> &'static PriceList {
    static PRICES: OnceLock<PriceList> = OnceLock::new();
    PRICES.get_or_init(|| {
        let fixture = include_str!("../../fixtures/emanage/prices.http");
        let response = fixture.split("### response\n").nth(1).expect("a response");
        let body = response.split_once("\n\n").expect("a body").1;
        decode::price_list("carts.get", body.as_bytes()).expect("the fixture's price list")
    })
}

fn progressive() -> Offer {
    let tiers = vec![
        Tier { min_units: 2, percent: Decimal::new(10, 0) },
        Tier { min_units: 3, percent: Decimal::new(15, 0) },
    ];
    Offer::new(
        "wk",
        "Progressive discount",
        OfferKind::ProgressiveDiscount {
            tiers,
            products: prices().product_ids(),
            count: Default::default(),
            mode: Default::default(),
        },
    )
}

decoder_targets! {
    /// The campaign's price list (object or bare-array form).
    emanage_price_list => |body: &[u8]| {
        match decode::price_list("carts.get", body) {
            Ok(list) => {
                for p in list.product_ids() {
                    expect_error(list.price("carts.get", &p, Currency::USD), is_named_protocol_error);
                }
            }
            Err(e) => assert!(is_named_protocol_error(&e), "{e:?}"),
        }
    };
    /// `new`: the session id.
    emanage_session => |body: &[u8]| expect_error(decode::session_id("carts.new", body), is_named_protocol_error);
    /// `add`: the same session, or a new offline-upgrade session.
    emanage_add => |body: &[u8]| expect_error(decode::added("carts.add", &CartId::new("s-1"), body), is_named_protocol_error);
    /// The cart read, priced with the fixtures' price list, with the progressive offer or
    /// without (the first byte picks).
    emanage_cart => |input: &[u8]| {
        let (with_offer, body) = choose(input, &[true, false]);
        let offer = with_offer.then(progressive);
        let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).single().expect("a time");
        let id = CartId::new("s-1");
        match decode::cart("carts.get", &id, body, prices(), offer.as_ref(), Currency::USD, now) {
            Ok(cart) => assert!(!cart.total.is_negative(), "a negative total passed: {cart:?}"),
            Err(e) => assert!(is_named_protocol_error(&e), "{e:?}"),
        }
    };
    /// Checkout: declined, an action, or paid.
    emanage_checkout => |body: &[u8]| {
        let total = Money::new(10_000, Currency::USD);
        match decode::checkout("carts.checkout", &CartId::new("s-1"), total, body) {
            Ok(CartCheckout::Paid(order)) => assert_eq!(order.cart.as_str(), "s-1"),
            Ok(_) => {}
            Err(e) => assert!(is_named_protocol_error(&e), "{e:?}"),
        }
    };
    /// Error replies (and successes) through the classifier; the first byte picks the status.
    emanage_error => |input: &[u8]| {
        let (status, body) = choose(input, &[200u16, 400, 401, 403, 404, 409, 422, 429, 500, 503]);
        if let Some(e) = decode::reply_error("carts.checkout", status, body) {
            assert!(e.message().chars().count() <= 600, "an error quotes too much: {e:?}");
        }
    };
}
