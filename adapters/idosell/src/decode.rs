//! Reply decoders as pure functions of bytes (and the names table), public for benchmarks and
//! fuzzing: none does I/O, none panics on any input. Each answers the core's types, as the
//! adapter does; a non-zero `faultCode` is the error [`crate::error::classify`] would give.

use chrono_tz::Tz;
use loyalty_core::{
    Courier, Currency, Error, ErrorKind, Member, OrderLine, OrderStatus, PlacedOrder, StockLevel,
};
use loyalty_http::Secret;

use crate::names::{Gateway, Names};
use crate::wire;

/// Decodes a G1 `Authenticate` reply into the session key.
///
/// # Errors
/// `Unauthorized` for a refused login; `Protocol` for a reply without a key.
pub fn session_key(names: &Names, body: &[u8]) -> Result<Secret, Error> {
    wire::auth::decode_authenticate(names, crate::auth::AUTH_OPERATION, body)
        .map(|r| Secret::new(r.session_key))
}

/// Decodes a G2 `checkAvailability` reply for the `sent` lines.
///
/// # Errors
/// `Protocol` when the reply answers another number of lines or a negative quantity.
pub fn stock_levels(names: &Names, sent: &[OrderLine], body: &[u8]) -> Result<Vec<StockLevel>, Error> {
    let results = wire::products::decode_check_availability(names, "fulfilment.stock", sent.len(), body)?;
    Ok(sent.iter().zip(&results).map(|(l, r)| wire::convert::stock_level(l, r, &names.faults)).collect())
}

/// Decodes a G5 or G6 courier list; amounts without a currency are in `currency`.
///
/// # Errors
/// `Protocol` naming the field that contradicts the contract.
pub fn couriers(
    names: &Names,
    gateway: Gateway,
    currency: Currency,
    body: &[u8],
) -> Result<Vec<Courier>, Error> {
    const OP: &str = "fulfilment.couriers";
    let items = wire::couriers::decode_couriers(names, OP, gateway, body)?;
    items
        .iter()
        .enumerate()
        .map(|(i, c)| {
            wire::convert::courier(c, currency, &format!("results.couriers[{i}]")).map_err(|e| e.protocol(OP))
        })
        .collect()
}

/// Decodes a G4 `placeOrder` reply.
///
/// # Errors
/// `Protocol` naming the field that contradicts the contract.
pub fn placed_order(names: &Names, currency: Currency, body: &[u8]) -> Result<PlacedOrder, Error> {
    const OP: &str = "fulfilment.place_order";
    let order = wire::orders::decode_place_order(names, OP, body)?;
    wire::convert::placed(&order, currency).map_err(|e| e.protocol(OP))
}

/// Decodes a G7 `getOrderStatus` reply into order statuses, in one pass over the bytes (an
/// order at a time; the reply is never held as a tree). Dates are read in `zone`.
///
/// # Errors
/// `Protocol` naming the field for a reply that contradicts the contract; the classified
/// error for a non-zero `faultCode` other than the empty class.
pub fn order_statuses(names: &Names, zone: Tz, body: &[u8]) -> Result<Vec<OrderStatus>, Error> {
    const OP: &str = "fulfilment.order_status";
    wire::orders::decode_order_status_with(names, OP, body, |o| wire::convert::order_status(&o, names, zone))
}

/// Decodes a G8 `getClientAddresses` reply into members (the address id is the member id).
///
/// # Errors
/// `Protocol` naming the field that contradicts the contract.
pub fn address_members(names: &Names, body: &[u8]) -> Result<Vec<Member>, Error> {
    let page = wire::addresses::decode_get_addresses(names, "members.get", body)?;
    Ok(page.addresses.iter().map(wire::convert::member).collect())
}

/// Decodes a G3 `basketImport` reply for `sent` lines: the `faultCode` of each line (0 for a
/// line in the basket) and the basket's size when the reply gives it.
///
/// # Errors
/// `Protocol` naming the field for another number of lines or a negative count; the
/// classified error for a non-zero top-level `faultCode`.
pub fn basket_import(names: &Names, sent: usize, body: &[u8]) -> Result<BasketImport, Error> {
    let reply = wire::products::decode_basket_import(names, "fulfilment.place_order", sent, body)?;
    Ok(BasketImport {
        line_faults: reply.lines.iter().map(|l| l.fault_code).collect(),
        basket_lines: reply.basket_lines,
    })
}

/// What G3 answers: one `faultCode` per line sent, and the basket's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasketImport {
    /// The `faultCode` of each line sent, in order (0: in the basket).
    pub line_faults: Vec<i64>,
    /// Lines now in the basket, when the reply says.
    pub basket_lines: Option<i64>,
}

/// Decodes a G9 `setClientAddress` reply into the member it now describes.
///
/// # Errors
/// `Protocol` naming the field that contradicts the contract; the classified error for a
/// non-zero `faultCode` (a locked address is `Conflict`).
pub fn updated_member(names: &Names, body: &[u8]) -> Result<Member, Error> {
    let record = wire::addresses::decode_set_address(names, "members.update", body)?;
    Ok(wire::convert::member(&record))
}

/// Classifies a reply of `status` as the transport does (SOAP faults, `faultCode`s, HTTP
/// statuses): `None` for a success.
pub fn reply_error(names: &Names, operation: &str, status: u16, body: &[u8]) -> Option<Error> {
    let headers = reqwest::header::HeaderMap::new();
    let input = loyalty_http::ClassifyInput {
        provider: crate::PROVIDER,
        operation,
        method: &reqwest::Method::POST,
        status,
        headers: &headers,
        body,
        now: chrono::DateTime::UNIX_EPOCH,
    };
    crate::error::classify_with(&names.faults, &input)
}

/// True for an error a decoder here promises: `Protocol` with a message (naming the field or
/// the unreadable part), or the classified error of a vendor `faultCode` (with its code).
pub fn is_decode_error(e: &Error) -> bool {
    match e.kind() {
        ErrorKind::Protocol => !e.message().trim().is_empty(),
        _ => e.vendor_code().is_some_and(|c| c.parse::<i64>().is_ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every decoder survives arbitrary bytes: an error, never a panic.
    #[test]
    fn decoders_never_panic_on_garbage() {
        let names = Names::default();
        let mut inputs: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"<".to_vec(),
            b"<a>".to_vec(),
            vec![0xff; 10],
            b"<SOAP-ENV:Envelope><SOAP-ENV:Body><x><response><errors><faultCode>abc</faultCode></errors></response></x></SOAP-ENV:Body></SOAP-ENV:Envelope>".to_vec(),
            b"<Envelope><Body><r><errors><faultCode>0</faultCode></errors><results><orders><item/></orders><products><item><availableQuantity>-1</availableQuantity></item></products></results></r></Body></Envelope>".to_vec(),
        ];
        // A cheap deterministic spread of cut and mangled replies.
        let good = include_bytes!("../../../conformance/fixtures/idosell/g7_get_order_status.http");
        for cut in (0..good.len()).step_by(97) {
            inputs.push(good[..cut].to_vec());
            let mut m = good.to_vec();
            m[cut] = b'<';
            inputs.push(m);
        }
        let line = [OrderLine::new("A", rust_decimal::Decimal::ONE)];
        for input in &inputs {
            let _ = session_key(&names, input);
            let _ = stock_levels(&names, &line, input);
            let _ = couriers(&names, Gateway::GetCouriers, Currency::PLN, input);
            let _ = placed_order(&names, Currency::PLN, input);
            let _ = order_statuses(&names, chrono_tz::Europe::Warsaw, input);
            let _ = address_members(&names, input);
            let _ = crate::wire::xml::scan_errors(input);
        }
    }

    const G4: &str = include_str!("../../../conformance/fixtures/idosell/g4_place_order.http");
    const G5: &str = include_str!("../../../conformance/fixtures/idosell/g5_get_couriers.http");
    const G7: &str = include_str!("../../../conformance/fixtures/idosell/g7_get_order_status.http");
    const G9: &str = include_str!("../../../conformance/fixtures/idosell/g9_set_client_address.http");

    /// The response body of a fixture.
    fn reply(fixture: &str) -> String {
        let response = &fixture[fixture.find("### response").unwrap()..];
        let body = response.find("\n\n").map(|i| &response[i + 2..]).unwrap_or_default();
        body.trim().to_string()
    }

    /// A per-item `faultCode`/`faultString` pair (§6.1).
    fn pair(code: i64) -> String {
        format!(
            "<faultCode xsi:type=\"xsd:int\">{code}</faultCode><faultString \
             xsi:type=\"xsd:string\">Odmowa</faultString>"
        )
    }

    #[test]
    fn a_per_address_fault_in_g9_under_a_top_level_0_maps_through_the_fault_table() {
        let names = Names::default();
        let ok = reply(G9);
        assert!(updated_member(&names, ok.as_bytes()).is_ok());
        let with = |code: i64| ok.replacen("<addressId", &format!("{}<addressId", pair(code)), 1);
        assert!(updated_member(&names, with(0).as_bytes()).is_ok(), "0 is success");
        // In the address (10: its order left, §6.3).
        let e = updated_member(&names, with(10).as_bytes()).unwrap_err();
        assert_eq!((e.kind(), e.vendor_code()), (&ErrorKind::Conflict, Some("10")), "{e}");
        assert!(e.message().contains("results.address"), "{e}");
        // In the results element, the address left out.
        let (start, end) =
            (ok.find("<address ").unwrap(), ok.find("</address>").unwrap() + "</address>".len());
        let in_results = format!("{}{}{}", &ok[..start], pair(10), &ok[end..]);
        let e = updated_member(&names, in_results.as_bytes()).unwrap_err();
        assert_eq!((e.kind(), e.vendor_code()), (&ErrorKind::Conflict, Some("10")), "{e}");
        // Nothing found for the address: not found; an input fault: invalid.
        assert!(updated_member(&names, with(2).as_bytes()).unwrap_err().is_not_found());
        let e = updated_member(&names, with(5).as_bytes()).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Invalid { .. }), "{e}");
    }

    #[test]
    fn a_per_order_fault_in_g7_is_the_calls_error_and_nothing_found_leaves_the_order_out() {
        let (names, zone) = (Names::default(), chrono_tz::Europe::Warsaw);
        let ok = reply(G7);
        assert_eq!(order_statuses(&names, zone, ok.as_bytes()).unwrap().len(), 1);
        let refused = ok.replacen("<orderId", &format!("{}<orderId", pair(99)), 1);
        let e = order_statuses(&names, zone, refused.as_bytes()).unwrap_err();
        assert_eq!((e.kind(), e.vendor_code()), (&ErrorKind::Unavailable, Some("99")), "{e}");
        assert!(e.message().contains("Results.orders[0]"), "{e}");
        // A second order the wholesaler found nothing for (2) names no status: left out.
        let missing = format!(
            "<item xsi:type=\"ns1:orderType\">{}<shopOrderReference>SHOP-0</shopOrderReference></item></orders>",
            pair(2)
        );
        let partly = ok.replace("</orders>", &missing);
        let found = order_statuses(&names, zone, partly.as_bytes()).unwrap();
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn a_fault_in_the_g4_result_refuses_the_order_as_the_top_level_would() {
        let names = Names::default();
        let ok = reply(G4);
        assert!(placed_order(&names, Currency::PLN, ok.as_bytes()).is_ok());
        let refused = ok.replacen("<orderId", &format!("{}<orderId", pair(8)), 1);
        let e = placed_order(&names, Currency::PLN, refused.as_bytes()).unwrap_err();
        assert_eq!((e.kind(), e.vendor_code()), (&ErrorKind::Rejected, Some("8")), "{e}");
    }

    const ENV_OPEN: &str = r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body>"#;
    const ENV_CLOSE: &str = "</SOAP-ENV:Body></SOAP-ENV:Envelope>";
    const OK: &str = "<errors><faultCode>0</faultCode><faultString></faultString></errors>";

    /// A reply of `method` whose `response` holds `inner` after an OK `errors` block, and
    /// `after` behind the method element in the `Body` (where a `multiRef` goes).
    fn wrap(method: &str, inner: &str, after: &str) -> String {
        format!("{ENV_OPEN}<ns1:{method}Response xmlns:ns1=\"{method}\"><response>{OK}{inner}</response></ns1:{method}Response>{after}{ENV_CLOSE}")
    }

    fn order_ids(body: &str) -> Result<Vec<String>, String> {
        order_statuses(&Names::default(), chrono_tz::Europe::Warsaw, body.as_bytes())
            .map(|v| v.iter().map(|s| s.order_id.to_string()).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn an_icdf_products_product_list_is_read_line_by_line_even_with_one_line() {
        // §4: the ICDF list is `products.product`; one `product` is a list of one, not the line.
        let names = Names::default();
        let one = "<results><products><product><code>A</code><availableQuantity>5</availableQuantity><available>true</available><faultCode>0</faultCode></product></products></results>";
        let sent = [OrderLine::new("A", rust_decimal::Decimal::TWO)];
        let levels = stock_levels(&names, &sent, wrap("checkAvailability", one, "").as_bytes()).unwrap();
        assert_eq!(levels[0].available, rust_decimal::Decimal::from(5), "{levels:?}");
        assert!(levels[0].shortfall.is_none(), "{levels:?}");
        let two = "<results><products><product><code>A</code><availableQuantity>5</availableQuantity></product><product code=\"B\" availableQuantity=\"1\"/></products></results>";
        let sent = [
            OrderLine::new("A", rust_decimal::Decimal::TWO),
            OrderLine::new("B", rust_decimal::Decimal::TWO),
        ];
        let levels = stock_levels(&names, &sent, wrap("checkAvailability", two, "").as_bytes()).unwrap();
        assert_eq!(levels.iter().map(|l| l.available).collect::<Vec<_>>(), [5.into(), 1.into()]);
        // Addresses and couriers the same way.
        let address = "<results><addresses><address><addressId>7</addressId><city>Łódź</city></address></addresses></results>";
        let members = address_members(&names, wrap("getClientAddresses", address, "").as_bytes()).unwrap();
        assert_eq!(members.iter().map(|m| m.id.to_string()).collect::<Vec<_>>(), ["7"]);
        let courier = "<results><couriers><courier><courierId>10</courierId><name>Kurier</name></courier></couriers></results>";
        let found = couriers(
            &names,
            Gateway::GetCouriers,
            Currency::PLN,
            wrap("getCouriers", courier, "").as_bytes(),
        )
        .unwrap();
        assert_eq!(found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["10"]);
    }

    #[test]
    fn soap_encoding_id_and_href_are_read_as_soap_1_1_section_5_says() {
        // An `id` on a simple value is no field: the element keeps its text.
        let inner = "<Results><orders SOAP-ENC:arrayType=\"ns1:o[1]\" xsi:type=\"SOAP-ENC:Array\"><item><orderId id=\"ref1\" xsi:type=\"xsd:string\">W-1</orderId><status>new</status></item></orders></Results>";
        assert_eq!(order_ids(&wrap("getOrderStatus", inner, "")), Ok(vec!["W-1".to_string()]));
        // An item `href` to a `multiRef` after the reply element (as Axis writes it).
        let inner = "<Results><orders SOAP-ENC:arrayType=\"ns1:o[2]\" xsi:type=\"SOAP-ENC:Array\"><item href=\"#ref1\"/><item><orderId>W-2</orderId><status>new</status></item></orders></Results>";
        let multi =
            "<multiRef id=\"ref1\" SOAP-ENC:root=\"0\"><orderId>W-1</orderId><status>new</status></multiRef>";
        assert_eq!(order_ids(&wrap("getOrderStatus", inner, multi)), Ok(vec!["W-1".into(), "W-2".into()]));
        // A value met twice, the first carrying the `id` (as PHP's SoapServer writes it).
        let inner = "<Results><orders><item><orderId>W-1</orderId><status id=\"s\">new</status></item><item><orderId>W-2</orderId><status href=\"#s\"/></item></orders></Results>";
        let statuses = order_statuses(
            &Names::default(),
            chrono_tz::Europe::Warsaw,
            wrap("getOrderStatus", inner, "").as_bytes(),
        )
        .unwrap();
        assert_eq!(statuses[1].status, statuses[0].status);
        // A reference to no element, to itself, or to a repeated id is an error naming the field.
        let inner = "<Results><orders><item href=\"#nowhere\"/></orders></Results>";
        let e = order_ids(&wrap("getOrderStatus", inner, "")).unwrap_err();
        assert!(e.contains("orders[0]") && e.contains("names no element"), "{e}");
        let inner = "<Results><orders><item id=\"loop\"><orderId href=\"#loop\"/></item></orders></Results>";
        let e = order_ids(&wrap("getOrderStatus", inner, "")).unwrap_err();
        assert!(e.contains("orderId") && e.contains("refers back to itself"), "{e}");
        let twice = "<multiRef id=\"ref1\"><orderId>W-1</orderId></multiRef><multiRef id=\"ref1\"><orderId>W-9</orderId></multiRef>";
        let inner = "<Results><orders><item href=\"#ref1\"/></orders></Results>";
        let e = order_ids(&wrap("getOrderStatus", inner, twice)).unwrap_err();
        assert!(e.contains("more than one element"), "{e}");
        // The `errors` block itself may be referenced, for the transport's classifier too.
        let body = wrap("getOrderStatus", "", "<multiRef id=\"c\">99</multiRef>")
            .replace("<faultCode>0</faultCode>", "<faultCode href=\"#c\"/>");
        let e = reply_error(&Names::default(), "fulfilment.order_status", 200, body.as_bytes()).unwrap();
        assert_eq!(e.vendor_code(), Some("99"), "{e}");
    }

    #[test]
    fn references_that_multiply_a_small_reply_are_refused() {
        // Ten references to an element of ten references to … : a few hundred bytes that would
        // copy 10^6 elements.
        let mut multi =
            String::from("<multiRef id=\"l0\"><orderId>W</orderId><status>new</status></multiRef>");
        for level in 1..=6 {
            let refs = format!("<x href=\"#l{}\"/>", level - 1).repeat(10);
            multi.push_str(&format!("<multiRef id=\"l{level}\">{refs}</multiRef>"));
        }
        let inner = "<Results><orders><item href=\"#l6\"/></orders></Results>";
        let e = order_ids(&wrap("getOrderStatus", inner, &multi)).unwrap_err();
        assert!(e.contains("more than 100000 elements"), "{e}");
    }

    #[test]
    fn a_per_courier_fault_is_the_calls_error_and_nothing_found_leaves_the_courier_out() {
        let names = Names::default();
        let ok = reply(G5);
        let all = couriers(&names, Gateway::GetCouriers, Currency::PLN, ok.as_bytes()).unwrap();
        let with = |code: i64| ok.replacen("<courierId", &format!("{}<courierId", pair(code)), 1);
        let fewer = couriers(&names, Gateway::GetCouriers, Currency::PLN, with(2).as_bytes()).unwrap();
        assert_eq!(fewer.len() + 1, all.len());
        let e = couriers(&names, Gateway::GetCouriers, Currency::PLN, with(4).as_bytes()).unwrap_err();
        assert_eq!((e.kind(), e.vendor_code()), (&ErrorKind::Forbidden, Some("4")), "{e}");
    }
}
