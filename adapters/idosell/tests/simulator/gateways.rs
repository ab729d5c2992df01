//! G2, G5, G6, G8, G9 and how replies are read (§4-§6; checklist 9, 10, 12, 13, 22, 23, 24).

use std::sync::Arc;

use loyalty_core::{
    Address, Courier, CourierQuery, Currency, ErrorKind, LookupKind, MemberId, MemberLookup, MemberUpdate,
    Money, Provider, Shortfall, WriteEffect,
};
use loyalty_idosell::names::Gateway;
use loyalty_idosell::simulated::{self, SimulatedClock};
use loyalty_idosell::CodeType;
use loyalty_sim::idosell::demo;

use crate::common::*;

fn warsaw() -> Address {
    simulated::demo_recipient().address
}

#[tokio::test]
async fn stock_reports_available_quantities_per_line() {
    // Checklist 12 (top level 0, per-line fault 6) and 13 (a set counts its components).
    let env = start().await;
    let levels = env
        .fulfilment()
        .stock(
            &ctx(),
            &[
                line(demo::COFFEE_INTERNAL, "2"),
                line(demo::TEA_INTERNAL, "1"),
                line("NO-SUCH-CODE", "1"),
                line(demo::SET_INTERNAL, "40"),
                line(demo::SET_INTERNAL, "41"),
            ],
        )
        .await
        .unwrap();
    assert!(levels[0].sufficient());
    assert_eq!(levels[0].available, dec(&demo::COFFEE_STOCK.to_string()));
    assert_eq!(
        (levels[1].shortfall, levels[1].vendor_code.as_deref()),
        (Some(Shortfall::Insufficient), Some("7"))
    );
    assert_eq!(
        (levels[2].shortfall, levels[2].vendor_code.as_deref()),
        (Some(Shortfall::UnknownProduct), Some("6"))
    );
    // 40 mugs limit the set.
    assert!(levels[3].sufficient(), "{:?}", levels[3]);
    assert_eq!(levels[4].shortfall, Some(Shortfall::Insufficient));
}

#[tokio::test]
async fn product_ids_are_read_in_the_configured_code_family() {
    // Checklist 12: lines match by (codeType, code).
    let env = start().await;
    let mut config = env.config();
    config.code_type = CodeType::Producer;
    let adapter = env.other_adapter(config, Arc::new(SimulatedClock(env.clock.clone())));
    let f = adapter.fulfilment().unwrap();
    let levels =
        f.stock(&ctx(), &[line(demo::COFFEE_PRODUCER, "1"), line(demo::COFFEE_INTERNAL, "1")]).await.unwrap();
    assert!(levels[0].sufficient());
    assert_eq!(levels[1].shortfall, Some(Shortfall::UnknownProduct), "an internal code is no producer code");
    assert!(env.entries("G2")[0].body.contains("producer"));
}

#[tokio::test]
async fn a_quantity_that_is_not_positive_is_refused_before_sending() {
    // Checklist 13.
    let env = start().await;
    let err = env.fulfilment().stock(&ctx(), &[line(demo::COFFEE_INTERNAL, "0")]).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "lines[0].quantity"), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert!(env.routes().is_empty());
}

#[tokio::test]
async fn every_courier_is_listed_with_what_it_offers() {
    let env = start().await;
    let all = env.fulfilment().couriers(&ctx(), &CourierQuery::all()).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["10", "11", "12"]);
    let pickup: &Courier = &all[1];
    assert!(pickup.pickup_point && pickup.cash_on_delivery);
    assert!(all[2].countries.contains(&"DE".to_string()) && !all[2].cash_on_delivery);
    assert!(all.iter().all(|c| c.cost.is_none()), "G5 prices nothing for a basket");
}

#[tokio::test]
async fn couriers_for_a_basket_and_destination_are_priced_before_any_order() {
    // G6 (§5): one coffee (0.55 kg) to Warsaw: 15.00 + 0.50/kg = 15.275 → 15.28 half-up.
    let env = start().await;
    let q = CourierQuery::for_basket(vec![line(demo::COFFEE_INTERNAL, "1")], warsaw());
    let fit = env.fulfilment().couriers(&ctx(), &q).await.unwrap();
    let ids: Vec<&str> = fit.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["10", "11"]);
    assert_eq!(fit[0].cost, Some(Money::new(1528, Currency::PLN)));
    assert_eq!(fit[1].cost, Some(Money::new(1250, Currency::PLN)));
    assert_eq!(fit[0].delivery_days, Some(1));
    // The mug is not carried by the pickup courier.
    let q = CourierQuery::for_basket(vec![line(demo::MUG_INTERNAL, "1")], warsaw());
    let ids: Vec<String> =
        env.fulfilment().couriers(&ctx(), &q).await.unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(ids, ["10"]);
    assert_eq!(env.sim.probe.orders(demo::LOGIN).len(), 1, "no order was needed (only the seeded one)");
}

#[tokio::test]
async fn no_courier_for_a_destination_is_an_empty_list_not_an_error() {
    // Checklist 10: faultCode 2 is an empty result.
    let env = start().await;
    let mut far = warsaw();
    far.country_code = Some("US".into());
    far.zip_code = Some("10001".into());
    let q = CourierQuery::for_basket(vec![line(demo::COFFEE_INTERNAL, "1")], far);
    assert!(env.fulfilment().couriers(&ctx(), &q).await.unwrap().is_empty());
    assert!(env.fulfilment().find_order(&ctx(), "NO-SUCH-REFERENCE").await.unwrap().is_none());
    let members = env.adapter().members().unwrap();
    assert!(members.find(&ctx(), &MemberLookup::ProviderId(MemberId::new("999"))).await.unwrap().is_none());
}

#[tokio::test]
async fn an_empty_stock_check_is_nothing_available_not_a_failure() {
    // Checklist 10, G2: faultCode 2 at the top level is an empty result: every line is
    // answered, none available, with the vendor's code.
    let env = start().await;
    env.sim.probe.fail_call(loyalty_sim::idosell::Gateway::CheckAvailability, 1, 2);
    let asked = [line(demo::COFFEE_INTERNAL, "2"), line(demo::MUG_INTERNAL, "1")];
    let levels = env.fulfilment().stock(&ctx(), &asked).await.unwrap();
    assert_eq!(levels.len(), 2);
    for (l, a) in levels.iter().zip(&asked) {
        assert_eq!((&l.product_id, l.requested, l.available), (&a.product_id, a.quantity, dec("0")));
        assert_eq!(l.shortfall, Some(Shortfall::Insufficient));
        assert_eq!(l.vendor_code.as_deref(), Some("2"));
    }
    // The next check is answered from the stock again.
    let levels = env.fulfilment().stock(&ctx(), &asked).await.unwrap();
    assert!(levels.iter().all(|l| l.sufficient()), "{levels:?}");
}

#[tokio::test]
async fn an_empty_result_where_none_can_be_meant_stays_an_error() {
    // Checklist 10, decided per gateway: G1, G3 and G4 answer something an empty result
    // cannot stand for (a session key, every line imported, an order).
    use loyalty_sim::idosell::Gateway as Sim;
    let env = start().await;
    let f = env.fulfilment();

    // G1: no sessionKey to call with; `Protocol`, nothing sent, the next call logs in.
    env.sim.probe.fail_call(Sim::Authenticate, 1, 2);
    let err = f.couriers(&ctx(), &CourierQuery::all()).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Protocol, Some("2")), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert_eq!(f.couriers(&ctx(), &CourierQuery::all()).await.unwrap().len(), 3);

    // G3: which lines went in is unknown; `Protocol`, no order placed, G4 never sent.
    env.sim.probe.fail_call(Sim::BasketImport, 1, 2);
    let err = f.place_order(&ctx(), &coffee_order("SHOP-EMPTY-G3")).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Protocol, Some("2")), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert_eq!(env.count("G4"), 0);

    // G4: whether an order was placed is unknown; looked up by reference (none), then placed
    // once more under the same reference.
    env.sim.probe.fail_call(Sim::PlaceOrder, 1, 2);
    let placed = f.place_order(&ctx(), &coffee_order("SHOP-EMPTY-G4")).await.unwrap();
    let routes = env.routes();
    assert_eq!(&routes[routes.len() - 5..], ["G3", "G4", "G7", "G3", "G4"]);
    assert!(!placed.duplicate);
    assert_eq!(env.sim.probe.orders(demo::LOGIN).len(), 2, "the seeded order and one placement");
}

#[tokio::test]
async fn fault_texts_in_english_change_nothing() {
    // Checklist 10: the adapter never branches on faultString (Polish by default).
    for language in ["polish", "english"] {
        let env = start_with(settings(serde_json::json!({"fault_language": language}))).await;
        let levels = env.fulfilment().stock(&ctx(), &[line("NO-SUCH-CODE", "1")]).await.unwrap();
        assert_eq!(levels[0].shortfall, Some(Shortfall::UnknownProduct), "{language}");
        let q = CourierQuery::for_basket(vec![line(demo::MUG_INTERNAL, "1")], warsaw());
        let order = loyalty_core::DropshipOrder::new("SHOP-LANG", simulated::demo_recipient(), "11")
            .with_line(demo::MUG_INTERNAL, dec("1"))
            .with_pickup_point(demo::PICKUP_POINT);
        let err = env.fulfilment().place_order(&ctx(), &order).await.unwrap_err();
        assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Rejected, Some("8")), "{language}: {err}");
        assert_eq!(env.fulfilment().couriers(&ctx(), &q).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_soap_fault_is_a_protocol_error() {
    // Checklist 9: a method the wholesaler does not have answers a SOAP Server fault.
    let env = start().await;
    let mut config = env.config();
    config.names.gates.get_mut(Gateway::GetCouriers).method = "getCourierz".into();
    let adapter = env.other_adapter(config, Arc::new(SimulatedClock(env.clock.clone())));
    let err = adapter.fulfilment().unwrap().couriers(&ctx(), &CourierQuery::all()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Protocol, "{err}");
    assert_eq!(err.vendor_code(), Some("SOAP-ENV:Server"));
    assert!(!err.is_temporary());
    assert_eq!(env.entries("G5").last().map(|e| e.status), Some(500));
}

#[tokio::test]
async fn business_refusals_arrive_in_http_200() {
    // Checklist 9.
    let env = start().await;
    let err = env
        .fulfilment()
        .place_order(&ctx(), &coffee_order("SHOP-TEA").with_line(demo::TEA_INTERNAL, dec("1")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Rejected);
    assert!(env.journal().entries().iter().all(|e| e.status == 200));
}

#[tokio::test]
async fn requests_are_soap_posts_with_text_xml() {
    // Checklist 22: POST, `Content-Type: text/xml; charset=utf-8`, a SOAPAction, gate path.
    let env = start().await;
    env.fulfilment().couriers(&ctx(), &CourierQuery::all()).await.unwrap();
    for e in env.journal().entries() {
        assert_eq!(e.method, "POST");
        assert_eq!(e.path, "/api/");
        let header = |n: &str| e.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(header("content-type").as_deref(), Some("text/xml; charset=utf-8"));
        assert!(header("soapaction").is_some_and(|a| a.starts_with('"')));
        assert!(e.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope"));
    }
}

#[tokio::test]
async fn product_lines_travel_as_icdf_xml_never_as_csv() {
    // Checklist 23: the CSV notation `SKU;quantity;comments` is only an alternative; the adapter
    // always sends the XML model (a SOAP-ENC array of ICDF products; it covers notes and sets
    // too). The note holds an ampersand, escaped as `&amp;`: a semicolon in the body is no sign
    // of CSV, a `SKU;quantity;` run is.
    let env = start().await;
    env.fulfilment()
        .place_order(
            &ctx(),
            &coffee_order("SHOP-XML")
                .with_order_line(line(demo::MUG_INTERNAL, "1").with_comment("z kokardą & wstążką")),
        )
        .await
        .unwrap();
    let g3 = env.entries("G3");
    assert_eq!(g3.len(), 1);
    assert_eq!(g3[0].status, 200);
    let body = &g3[0].body;
    let item = |code: &str, qty: &str| {
        format!(
            "<item xsi:type=\"ns1:productType\"><code xsi:type=\"xsd:string\">{code}</code>\
             <codeType xsi:type=\"xsd:string\">internal</codeType><quantity xsi:type=\"xsd:float\">{qty}</quantity>"
        )
    };
    let array = format!(
        "<products SOAP-ENC:arrayType=\"ns1:productType[2]\" xsi:type=\"SOAP-ENC:Array\">{}</item>{}",
        item(demo::COFFEE_INTERNAL, "2"),
        item(demo::MUG_INTERNAL, "1"),
    );
    assert!(body.contains(&array), "{array} missing in {body}");
    assert!(
        body.contains("<comment xsi:type=\"xsd:string\">z kokardą &amp; wstążką</comment></item></products>"),
        "{body}"
    );
    assert_eq!(body.matches("<item xsi:type=\"ns1:productType\">").count(), 2);
    for csv in [
        format!("{};", demo::COFFEE_INTERNAL),
        format!("{};", demo::MUG_INTERNAL),
        ";2;".to_string(),
        ";1;".to_string(),
        "z kokardą & wstążką".to_string(),
    ] {
        assert!(!body.contains(&csv), "CSV text {csv:?} in {body}");
    }
    // The wholesaler read both lines with the note: the order holds them.
    assert_eq!(env.routes(), ["G1", "G3", "G4"]);
}

#[tokio::test]
async fn an_adapter_on_external_codes_finds_the_coffee_by_its_external_code() {
    // Checklist 12: lines match by (codeType, code); with `codeType` external the demo coffee's
    // external code is found and its whole stock is available.
    let env = start().await;
    let mut config = env.config();
    config.code_type = CodeType::External;
    let adapter = env.other_adapter(config, Arc::new(SimulatedClock(env.clock.clone())));
    let f = adapter.fulfilment().unwrap();
    let levels =
        f.stock(&ctx(), &[line(demo::COFFEE_EXTERNAL, "2"), line(demo::COFFEE_INTERNAL, "1")]).await.unwrap();
    assert!(levels[0].sufficient(), "{:?}", levels[0]);
    assert_eq!(levels[0].product_id.as_str(), demo::COFFEE_EXTERNAL);
    assert_eq!((levels[0].requested, levels[0].available), (dec("2"), dec(&demo::COFFEE_STOCK.to_string())));
    assert_eq!(levels[0].vendor_code, None);
    assert_eq!(
        (levels[1].shortfall, levels[1].vendor_code.as_deref()),
        (Some(Shortfall::UnknownProduct), Some("6")),
        "an internal code is no external code"
    );
    let body = &env.entries("G2")[0].body;
    let wanted = format!(
        "<code xsi:type=\"xsd:string\">{}</code><codeType xsi:type=\"xsd:string\">external</codeType>",
        demo::COFFEE_EXTERNAL
    );
    assert!(body.contains(&wanted), "{wanted} missing in {body}");
    assert!(!body.contains(">internal<"), "{body}");
}

#[tokio::test]
async fn method_names_set_in_the_settings_are_what_the_adapter_sends_and_the_simulator_serves() {
    // Checklist 24: the place-order method, the login method and the login element come from
    // the one table; renamed in the simulator's settings, the adapter that `simulated` builds
    // from them sends `<ns1:placeDropshippingOrder>` and the simulator answers it (200).
    let s = settings(serde_json::json!({
        "names": {
            "login": "userLogin",
            "gates": {
                "authenticate": {"method": "authenticateCustomer"},
                "place_order": {"method": "placeDropshippingOrder"}
            }
        }
    }));
    let env = start_with(s).await;
    let placed = env.fulfilment().place_order(&ctx(), &coffee_order("SHOP-NAMES")).await.unwrap();
    assert_eq!(env.sim.probe.order_status(placed.order_id.as_str()).as_deref(), Some("new"));
    assert_eq!(env.routes(), ["G1", "G3", "G4"]);
    let g1 = &env.entries("G1")[0];
    assert_eq!(g1.status, 200);
    assert!(g1.body.contains("<ns1:authenticateCustomer>"), "{}", g1.body);
    assert!(g1.body.contains(&format!(">{}</userLogin>", demo::LOGIN)), "{}", g1.body);
    assert!(!g1.body.contains("<ns1:Authenticate>"), "{}", g1.body);
    let g4 = &env.entries("G4")[0];
    assert_eq!(g4.status, 200);
    assert!(g4.body.contains("<ns1:placeDropshippingOrder>"), "{}", g4.body);
    assert!(g4.body.contains("</ns1:placeDropshippingOrder>"), "{}", g4.body);
    assert!(!g4.body.contains("<ns1:placeOrder>"), "{}", g4.body);

    // The working names are no longer served: an adapter keeping its own default table is
    // refused at its first call (a SOAP fault for the unknown method, a protocol error).
    let mut config = env.config();
    config.names = loyalty_idosell::names::Names::default();
    let stale = env.other_adapter(config, Arc::new(SimulatedClock(env.clock.clone())));
    let err = stale.fulfilment().unwrap().place_order(&ctx(), &coffee_order("SHOP-STALE")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Protocol, "{err}");
    assert_eq!(env.count("G4"), 1, "the stale adapter never placed an order");
}

#[tokio::test]
async fn a_gate_path_changed_in_one_table_moves_both_sides() {
    // Checklist 24: the simulator serves and the adapter calls the configured path.
    let s = settings(serde_json::json!({
        "names": {"gates": {"place_order": {"path": "/customer-api/dropshipping/placeOrder/2/soap"}}}
    }));
    let env = start_with(s).await;
    env.fulfilment().place_order(&ctx(), &coffee_order("SHOP-PATH")).await.unwrap();
    let g4 = env.entries("G4");
    assert_eq!(g4.len(), 1);
    assert_eq!(g4[0].path, "/customer-api/dropshipping/placeOrder/2/soap");
    assert_eq!(g4[0].status, 200);
}

#[tokio::test]
async fn the_seeded_recipient_reads_as_a_member_and_its_name_can_change() {
    // Members over G8/G9.
    let env = start().await;
    let members = env.adapter().members().unwrap();
    let id = MemberId::new(env.sim.member_id.clone());
    let m = members.get(&ctx(), &id).await.unwrap();
    assert_eq!(m.first_name.as_deref(), Some("Jan"));
    assert_eq!(m.address.as_ref().and_then(|a| a.city.as_deref()), Some("Warszawa"));
    let updated =
        members.update(&ctx(), &id, &MemberUpdate::new().with_email("jan@example.pl")).await.unwrap();
    assert_eq!(updated.email.as_deref(), Some("jan@example.pl"));
    assert_eq!(updated.first_name.as_deref(), Some("Jan"));
    let address = env.sim.probe.address(env.sim.member_id.parse().unwrap()).unwrap();
    assert_eq!(address["email"], "jan@example.pl");
    assert!(env.adapter().capabilities().supports_lookup(LookupKind::ProviderId));
}

#[tokio::test]
async fn member_ids_that_are_no_address_ids_are_not_found_without_asking() {
    let env = start().await;
    let members = env.adapter().members().unwrap();
    let err = members.get(&ctx(), &MemberId::new("no-such-member-0")).await.unwrap_err();
    assert!(err.is_not_found());
    assert!(env.routes().is_empty());
}

#[tokio::test]
async fn an_update_of_what_an_address_does_not_keep_is_refused() {
    let env = start().await;
    let members = env.adapter().members().unwrap();
    let update = MemberUpdate::new().with_consents(loyalty_core::Consents::default());
    let err = members.update(&ctx(), &MemberId::new(env.sim.member_id.clone()), &update).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "consents"));
}
