//! Fault injection: kit faults per gateway, call-count faults, magic values, oversized bodies
//! (§8, §9.2 item 4; checklist 11).

use loyalty_sim::{
    idosell::{demo, Gateway, IdosellSettings, OversizeAnswer},
    Fault,
};

use super::support::*;

#[tokio::test]
async fn a_route_fault_hits_only_its_gateway() {
    let t = sim().await;
    let session = t.login().await;
    t.server.handle().inject_route(Gateway::PlaceOrder.id(), Fault::Status(503), Some(1));
    let couriers = t.call_as(Gateway::GetCouriers, &session, demo::DROPSHIPPING_KEY, "").await;
    assert_eq!(couriers.status, 200);
    let order = t.call_as(Gateway::PlaceOrder, &session, demo::DROPSHIPPING_KEY, "").await;
    assert_eq!(order.status, 503);
    let journal = t.server.handle().journal();
    assert_eq!(journal.entries().last().unwrap().route.as_deref(), Some("G4"));
    assert_eq!(journal.count_route("G1"), 1);
}

#[tokio::test]
async fn a_truncated_reply_is_no_longer_well_formed_xml() {
    // §9.2 item 4: truncated/invalid XML replies.
    let t = sim().await;
    t.server.handle().inject_route("G5", Fault::TruncatedBody, Some(1));
    let r = t.call(Gateway::GetCouriers, "").await;
    assert_eq!(r.status, 200);
    assert!(!r.body.trim_end().ends_with("</SOAP-ENV:Envelope>"), "{}", r.body);
}

#[tokio::test]
async fn a_malformed_reply_is_not_xml() {
    let t = sim().await;
    t.server.handle().inject_route("G1", Fault::MalformedBody, Some(1));
    let r = t.authenticate(demo::LOGIN, &t.today_key()).await;
    assert!(!r.body.starts_with("<?xml"), "{}", r.body);
}

#[tokio::test]
async fn a_dropped_connection_on_place_order_still_places_nothing() {
    let t = sim().await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1")]).await;
    let session = t.login().await;
    t.server.handle().inject_route("G4", Fault::DropConnection, Some(1));
    let request = format!(
        "<sessionKey>{session}</sessionKey><dropshippingKey>{}</dropshippingKey>{}",
        demo::DROPSHIPPING_KEY,
        order(RECIPIENT_PL, demo::COURIER_DOMESTIC, Some("SHOP-1"))
    );
    let sent = t
        .http
        .post(t.url(&t.gate_path(Gateway::PlaceOrder)))
        .header("content-type", "text/xml; charset=utf-8")
        .body(envelope("placeOrder", &request))
        .send()
        .await;
    assert!(sent.is_err());
    assert!(t.probe.orders(demo::LOGIN).is_empty());
}

#[tokio::test]
async fn a_place_order_delayed_past_the_client_timeout_is_still_placed() {
    // §9.2 item 4, checklist 19: after a transport failure on placeOrder the adapter looks the
    // order up by the shop reference (G7), because the wholesaler may have placed it. That
    // case is a reply lost past the client's timeout: the client hanging up must not cancel
    // the placement, or the lookup could never find anything.
    let t = sim().await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "2")]).await;
    let session = t.login().await;
    t.server.handle().inject_route("G4", Fault::Latency(std::time::Duration::from_millis(800)), Some(1));
    let request = format!(
        "<sessionKey>{session}</sessionKey><dropshippingKey>{}</dropshippingKey>{}",
        demo::DROPSHIPPING_KEY,
        order(RECIPIENT_PL, demo::COURIER_DOMESTIC, Some("SHOP-LATE"))
    );
    let method = t.probe.settings().names.gates.get(Gateway::PlaceOrder).method.clone();
    let impatient =
        reqwest::Client::builder().timeout(std::time::Duration::from_millis(200)).no_proxy().build().unwrap();
    let sent = impatient
        .post(t.url(&t.gate_path(Gateway::PlaceOrder)))
        .header("content-type", "text/xml; charset=utf-8")
        .header("SOAPAction", "\"\"")
        .body(envelope(&method, &request))
        .send()
        .await;
    assert!(sent.is_err_and(|e| e.is_timeout()), "the client timed out");
    assert!(t.probe.orders(demo::LOGIN).is_empty(), "not yet: the reply is still delayed");
    let mut placed = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if !t.probe.orders(demo::LOGIN).is_empty() {
            placed = true;
            break;
        }
    }
    assert!(placed, "the delayed placeOrder never ran: a G7 lookup could never find it");
    let lookup = params(
        "<shopOrderReferences SOAP-ENC:arrayType=\"xsd:string[1]\" xsi:type=\"SOAP-ENC:Array\"><item xsi:type=\"xsd:string\">SHOP-LATE</item></shopOrderReferences>",
    );
    let found = t.call(Gateway::GetOrderStatus, &lookup).await;
    assert_eq!(found.tags("orderId").len(), 1, "the lookup finds it: {}", found.body);
}

#[tokio::test]
async fn fail_call_makes_the_nth_call_answer_the_code() {
    // §9.2 item 4: per call count.
    let t = sim().await;
    t.probe.fail_call(Gateway::GetCouriers, 2, 99);
    assert_eq!(t.call(Gateway::GetCouriers, "").await.fault_code(), 0);
    assert_eq!(t.call(Gateway::GetCouriers, "").await.fault_code(), 99);
    assert_eq!(t.call(Gateway::GetCouriers, "").await.fault_code(), 0);
    assert_eq!(t.probe.calls(Gateway::GetCouriers), 3);
}

fn magic() -> IdosellSettings {
    settings(|s| s.magic_values = true)
}

#[tokio::test]
async fn magic_values_are_off_by_default() {
    // §9.4: fault injection off.
    let t = sim().await;
    let r =
        t.call(Gateway::CheckAvailability, &params(&products(&[line("FAIL-STOCK", "internal", "1")]))).await;
    assert_eq!(r.item_codes(), vec![6]);
}

#[tokio::test]
async fn fail_stock_is_a_per_line_7() {
    let t = sim_with(magic()).await;
    let lines = [line(demo::COFFEE_INTERNAL, "internal", "1"), line("FAIL-STOCK", "internal", "1")];
    let r = t.call(Gateway::CheckAvailability, &params(&products(&lines))).await;
    assert_eq!((r.fault_code(), r.item_codes()), (0, vec![0, 7]));
}

#[tokio::test]
async fn each_magic_value_answers_its_code() {
    let t = sim_with(magic()).await;
    for (value, code) in [
        ("FAIL-EMPTY", 2),
        ("FAIL-SESSION", 3),
        ("FAIL-DROPSHIPPING", 4),
        ("FAIL-INPUT", 5),
        ("FAIL-UNKNOWN", 6),
        ("FAIL-STOCK", 7),
        ("FAIL-COURIER", 8),
        ("FAIL-BASKET", 9),
        ("FAIL-ADDRESS", 10),
        ("FAIL-SIZE", 11),
        ("FAIL-INTERNAL", 99),
    ] {
        t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1")]).await;
        let r = t.call(Gateway::PlaceOrder, &order(RECIPIENT_PL, demo::COURIER_DOMESTIC, Some(value))).await;
        assert_eq!(r.fault_code(), code, "{value}");
    }
    assert_eq!(t.authenticate("FAIL-LOGIN", &t.today_key()).await.fault_code(), 1);
    assert!(t.probe.orders(demo::LOGIN).is_empty());
}

#[tokio::test]
async fn magic_values_do_not_bypass_the_session_check() {
    let t = sim_with(magic()).await;
    let r = t
        .call_as(
            Gateway::PlaceOrder,
            "bad",
            demo::DROPSHIPPING_KEY,
            &order(RECIPIENT_PL, 10, Some("FAIL-INTERNAL")),
        )
        .await;
    assert_eq!(r.fault_code(), 3);
}

const OVER: usize = 10 * 1024 * 1024 + 1;

#[tokio::test]
async fn a_body_over_10_mib_answers_http_200_with_fault_11() {
    // Checklist 11.
    let t = sim().await;
    let mut body = envelope("placeOrder", "<sessionKey>x</sessionKey>").into_bytes();
    body.resize(OVER, b' ');
    let r = t.post(&t.gate_path(Gateway::PlaceOrder), body, &[]).await;
    assert_eq!((r.status, r.fault_code()), (200, 11), "{}", r.body);
    assert!(r.body.contains("placeOrderResponse"));
}

#[tokio::test]
async fn a_body_of_exactly_10_mib_is_read() {
    let t = sim().await;
    let mut body = envelope("getCouriers", "<sessionKey>x</sessionKey>").into_bytes();
    body.resize(OVER - 1, b' ');
    let r = t.post(&t.gate_path(Gateway::GetCouriers), body, &[]).await;
    assert_eq!(r.fault_code(), 3);
}

#[tokio::test]
async fn oversize_413_setting_answers_http_413() {
    // §8 [S] alternative.
    let t = sim_with(settings(|s| s.oversize_answer = OversizeAnswer::Http413)).await;
    let r = t.post(&t.gate_path(Gateway::GetCouriers), vec![b' '; OVER], &[]).await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn the_journal_of_an_oversized_body_stays_small() {
    let t = sim().await;
    t.post(&t.gate_path(Gateway::GetCouriers), vec![b' '; OVER], &[]).await;
    let e = t.server.handle().journal().entries().pop().unwrap();
    assert!(e.body.len() < 70 * 1024);
    assert_eq!(e.route.as_deref(), Some("G5"));
}

#[tokio::test]
async fn fault_numbers_come_from_the_names_table() {
    // §9.3: faultCode numbers 3–11 and 99 are [S], so they are a setting (`[names.faults]`)
    // with §6.3's defaults; the classes stay.
    let s: IdosellSettings = toml::from_str(
        "magic_values = true\n[names.faults]\nsession = 17\ndropshipping = 40\nunknown_product = 66\ninternal = 500\n",
    )
    .unwrap();
    assert_eq!((s.names.faults.login, s.names.faults.input), (1, 5), "the others keep their defaults");
    assert!(toml::from_str::<IdosellSettings>("[names.faults]\nsesion = 17\n").is_err());
    let t = sim_with(s).await;
    let session = t.login().await;
    assert_eq!(t.call_as(Gateway::GetCouriers, "nope", demo::DROPSHIPPING_KEY, "").await.fault_code(), 17);
    assert_eq!(t.call_as(Gateway::GetCouriers, &session, "nope", "").await.fault_code(), 40);
    let r = t.call(Gateway::CheckAvailability, &params(&products(&[line("NOPE", "internal", "1")]))).await;
    assert_eq!((r.fault_code(), r.item_codes()), (0, vec![66]));
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1")]).await;
    let r = t
        .call(Gateway::PlaceOrder, &order(RECIPIENT_PL, demo::COURIER_DOMESTIC, Some("FAIL-INTERNAL")))
        .await;
    assert_eq!(r.fault_code(), 500, "a magic value raises its class");
    assert_eq!(t.authenticate(demo::LOGIN, "bad").await.fault_code(), 1);
    // A number asked for by a test is answered as given.
    t.probe.fail_call(Gateway::GetCouriers, 1, 3);
    assert_eq!(t.call_as(Gateway::GetCouriers, &session, demo::DROPSHIPPING_KEY, "").await.fault_code(), 3);
}
