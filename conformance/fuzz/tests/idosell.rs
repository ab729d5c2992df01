//! IdoSell: every gateway's SOAP reply through `loyalty_idosell::decode` (the decoders the
//! adapter's own client and webhook use), the transport's fault classification, and the
//! shipment notice webhook body with its headers.

use loyalty_core::{Currency, ErrorKind, OrderLine, PushedRequest};
use loyalty_fuzz::{choose, decoder_targets, expect_error};
use loyalty_http::Secret;
use loyalty_idosell::decode::{self, is_decode_error};
use loyalty_idosell::names::{Gateway, Names};
use loyalty_idosell::{NoticeParser, SignaturePolicy};
use rust_decimal::Decimal;

const ZONE: chrono_tz::Tz = chrono_tz::Europe::Warsaw;

fn lines(n: usize) -> Vec<OrderLine> {
    (0..n).map(|i| OrderLine::new(format!("SKU-{i}"), Decimal::ONE)).collect()
}

decoder_targets! {
    /// G1 `Authenticate`: the session key.
    idosell_auth => |body: &[u8]| expect_error(decode::session_key(&Names::default(), body), is_decode_error);
    /// G2 `checkAvailability` for one to three lines sent (the first byte picks how many).
    idosell_stock => |input: &[u8]| {
        let (n, body) = choose(input, &[2usize, 1, 3]);
        expect_error(decode::stock_levels(&Names::default(), &lines(n), body), is_decode_error);
    };
    /// G3 `basketImport` for one to three lines sent.
    idosell_basket_import => |input: &[u8]| {
        let (n, body) = choose(input, &[2usize, 1, 3]);
        match decode::basket_import(&Names::default(), n, body) {
            Ok(r) => {
                assert_eq!(r.line_faults.len(), n, "one verdict per line sent");
                assert!(r.basket_lines.is_none_or(|b| b >= 0), "a negative basket size passed: {r:?}");
            }
            Err(e) => assert!(is_decode_error(&e), "{e:?}"),
        }
    };
    /// G4 `placeOrder`.
    idosell_place_order => |body: &[u8]| expect_error(decode::placed_order(&Names::default(), Currency::PLN, body), is_decode_error);
    /// G5 `getCouriers` and G6 `getCouriersForOrder` (the first byte picks the gateway).
    idosell_couriers => |input: &[u8]| {
        let (gateway, body) = choose(input, &[Gateway::GetCouriers, Gateway::GetCouriersForOrder]);
        expect_error(decode::couriers(&Names::default(), gateway, Currency::PLN, body), is_decode_error);
    };
    /// G7 `getOrderStatus` (the large one, read in one streaming pass).
    idosell_order_status => |body: &[u8]| expect_error(decode::order_statuses(&Names::default(), ZONE, body), is_decode_error);
    /// G8 `getClientAddresses`: addresses as members.
    idosell_addresses => |body: &[u8]| expect_error(decode::address_members(&Names::default(), body), is_decode_error);
    /// G9 `setClientAddress`: the updated address as a member.
    idosell_set_address => |body: &[u8]| expect_error(decode::updated_member(&Names::default(), body), is_decode_error);
    /// Any gateway reply through the transport's classifier (SOAP faults, `faultCode`s, HTTP
    /// statuses; the first byte picks the status).
    idosell_fault => |input: &[u8]| {
        let (status, body) = choose(input, &[200u16, 500, 200, 413, 429, 404, 503, 400]);
        if let Some(e) = decode::reply_error(&Names::default(), "fulfilment.stock", status, body) {
            assert!(e.message().chars().count() <= 600, "an error quotes too much: {e:?}");
        }
    };
    /// The shipment notice webhook: body and headers (the first byte picks the signature
    /// policy and which headers come with it).
    idosell_notice => |input: &[u8]| {
        let (setup, body) = choose(input, &[0u8, 1, 2, 3]);
        notice(setup, body);
    };
}

fn notice(setup: u8, body: &[u8]) {
    const KEY: &str = "fuzz-dropshipping-key";
    let policy = match setup {
        0 => SignaturePolicy::Off,
        1 => SignaturePolicy::IfPresent,
        _ => SignaturePolicy::Required,
    };
    let parser = NoticeParser::new(Secret::new(KEY), policy, 64 * 1024, Names::default(), ZONE);
    let mut headers = vec![("eventId".to_string(), "ev-1".to_string())];
    if setup == 3 {
        headers
            .push(("X-Signature".into(), loyalty_idosell::webhook::signature("sha1=", KEY.as_bytes(), body)));
    } else if setup == 1 {
        headers.push(("X-Signature".into(), "sha1=00".into()));
    }
    match parser.parse(PushedRequest::new(&headers, body)) {
        Ok(n) => assert_eq!(n.verified, setup == 3, "verified only with a good signature: {n:?}"),
        Err(e) => {
            let fine = match e.kind() {
                ErrorKind::Protocol => !e.message().trim().is_empty(),
                ErrorKind::Unauthorized => setup == 1 || setup == 2,
                ErrorKind::Invalid { field, .. } => field == "body" && body.len() > 64 * 1024,
                _ => false,
            };
            assert!(fine, "the notice failed in a way it does not promise: {e:?}");
            assert!(!format!("{e:?}").contains(KEY), "an error shows the key: {e:?}");
        }
    }
}
