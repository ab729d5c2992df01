//! SessionM: every reply body the adapter reads, through `loyalty_sessionm::decode` (the
//! private `wire` decoders and the conversions into the core's types): POS/ECom envelopes
//! (lookup with offers and discounts, lock, redeem, unlock/reinstate, send_transaction), the
//! Connect wallet and balances, Core users and the error envelopes through the classifier.

use loyalty_core::{Basket, Currency, Line, Money};
use loyalty_fuzz::{choose, decoder_targets, expect_error};
use loyalty_sessionm::decode::{self, is_named_protocol_error};
use rust_decimal::Decimal;

const ZONE: chrono_tz::Tz = chrono_tz::Europe::Oslo;

fn basket() -> Basket {
    Basket::new(Currency::NOK)
        .with_line(Line::new("1", "COFFEE", Decimal::TWO, Money::new(4_900, Currency::NOK)))
        .with_line(Line::new("2", "BUN", Decimal::ONE, Money::new(3_500, Currency::NOK)))
}

decoder_targets! {
    /// Core users (get, get by external id, create, update) into a member.
    sessionm_member => |body: &[u8]| expect_error(decode::member("members.get", body), is_named_protocol_error);
    /// Connect `all_balances` into points.
    sessionm_points => |body: &[u8]| expect_error(decode::points("members.points", body), is_named_protocol_error);
    /// Connect `get_user_offers`: the wallet into offers.
    sessionm_wallet => |body: &[u8]| expect_error(decode::wallet("offers.list", body, Currency::NOK, ZONE), is_named_protocol_error);
    /// POS/ECom lookup: the member and its offers, with a basket or without (the first byte).
    sessionm_lookup => |input: &[u8]| {
        let (with_basket, body) = choose(input, &[true, false]);
        let b = basket();
        let result = decode::lookup("offers.list", body, Currency::NOK, ZONE, with_basket.then_some(&b));
        expect_error(result, is_named_protocol_error);
    };
    /// Lock and redeem: the Discount object as payload, fitted to the basket.
    sessionm_discount => |body: &[u8]| {
        let b = basket();
        match decode::discount("offers.redeem", body, Currency::NOK, &b) {
            Ok(d) => {
                assert!(!d.amount.is_negative(), "a negative discount passed: {d:?}");
                for l in &d.lines {
                    let line = b.lines.iter().find(|x| x.line_id == l.line_id);
                    let line = line.unwrap_or_else(|| panic!("a discount on a line not in the basket: {d:?}"));
                    assert!(l.units <= line.quantity && l.units >= Decimal::ZERO, "impossible units: {d:?}");
                }
            }
            Err(e) => assert!(is_named_protocol_error(&e), "{e:?}"),
        }
    };
    /// Unlock and reinstate: OK, nothing else needed.
    sessionm_done => |body: &[u8]| expect_error(decode::done("offers.release", body), is_named_protocol_error);
    /// `send_transaction`: OK and an opaque payload.
    sessionm_send => |body: &[u8]| expect_error(decode::sent_transaction("transactions.send", body), is_named_protocol_error);
    /// Error envelopes (and success envelopes) through the classifier; the first byte picks
    /// the status.
    sessionm_error => |input: &[u8]| {
        let (status, body) = choose(input, &[200u16, 400, 404, 409, 422, 401, 403, 429, 500, 503]);
        if let Some(e) = decode::reply_error("offers.redeem", status, body) {
            assert!(e.message().chars().count() <= 600, "an error quotes too much: {e:?}");
        }
    };
}
