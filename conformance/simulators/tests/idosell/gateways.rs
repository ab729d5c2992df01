//! Product, courier and address gateways: G2, G3, G5, G6, G8, G9 (§4, §5; checklist 12–14, 18).

use loyalty_sim::idosell::{demo, BasketImport, CourierCost, Gateway};
use rust_decimal::Decimal;

use super::support::*;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

async fn availability(t: &T, lines: &[String]) -> Resp {
    t.call(Gateway::CheckAvailability, &params(&products(lines))).await
}

#[tokio::test]
async fn lines_match_by_code_type_over_the_three_code_families() {
    // Checklist 12.
    let t = sim().await;
    let r = availability(
        &t,
        &[
            line(demo::COFFEE_INTERNAL, "internal", "1"),
            line(demo::COFFEE_PRODUCER, "producer", "1"),
            line(demo::COFFEE_EXTERNAL, "external", "1"),
        ],
    )
    .await;
    assert_eq!(r.fault_code(), 0);
    assert_eq!(r.item_codes(), vec![0, 0, 0], "{}", r.body);
    assert_eq!(r.tag("available").as_deref(), Some("true"));
}

#[tokio::test]
async fn unknown_code_is_a_per_line_6_with_top_level_0() {
    // Checklist 12.
    let t = sim().await;
    let r =
        availability(&t, &[line(demo::COFFEE_INTERNAL, "internal", "1"), line("NOPE-1", "internal", "1")])
            .await;
    assert_eq!((r.fault_code(), r.item_codes()), (0, vec![0, 6]), "{}", r.body);
    assert_eq!(r.tag("available").as_deref(), Some("false"));
}

#[tokio::test]
async fn a_code_under_the_wrong_code_type_is_unknown() {
    // Checklist 12: (codeType, code) is the key, not the code alone.
    let t = sim().await;
    let r = availability(&t, &[line(demo::COFFEE_INTERNAL, "producer", "1")]).await;
    assert_eq!(r.item_codes(), vec![6]);
}

#[tokio::test]
async fn an_unknown_code_type_is_a_per_line_5() {
    let t = sim().await;
    let r = availability(&t, &[line(demo::COFFEE_INTERNAL, "ean", "1")]).await;
    assert_eq!((r.fault_code(), r.item_codes()), (0, vec![5]));
}

#[tokio::test]
async fn quantity_zero_negative_or_not_a_number_is_refused_per_line() {
    // Checklist 13.
    let t = sim().await;
    let c = demo::COFFEE_INTERNAL;
    let r =
        availability(&t, &[line(c, "internal", "0"), line(c, "internal", "-2"), line(c, "internal", "dwa")])
            .await;
    assert_eq!((r.fault_code(), r.item_codes()), (0, vec![5, 5, 5]), "{}", r.body);
}

#[tokio::test]
async fn out_of_stock_product_is_a_per_line_7() {
    let t = sim().await;
    let r = availability(&t, &[line(demo::TEA_INTERNAL, "internal", "1")]).await;
    assert_eq!(r.item_codes(), vec![7]);
    assert_eq!(r.tag("availableQuantity").as_deref(), Some("0"));
}

#[tokio::test]
async fn more_than_the_stock_is_a_per_line_7_reporting_what_is_available() {
    let t = sim().await;
    let r = availability(&t, &[line(demo::MUG_INTERNAL, "internal", "41")]).await;
    assert_eq!(r.item_codes(), vec![7]);
    assert_eq!(r.tag("availableQuantity").as_deref(), Some("40"));
}

#[tokio::test]
async fn a_set_line_is_checked_against_its_components_stock() {
    // Checklist 13.
    let t = sim().await;
    let set = line(demo::SET_INTERNAL, "internal", "3");
    assert_eq!(availability(&t, std::slice::from_ref(&set)).await.item_codes(), vec![0]);
    t.probe.set_stock(demo::MUG_INTERNAL, dec("2"));
    let r = availability(&t, &[set]).await;
    assert_eq!(r.item_codes(), vec![7]);
    assert_eq!(r.tag("availableQuantity").as_deref(), Some("2"));
}

#[tokio::test]
async fn nested_set_components_are_resolved_and_checked() {
    // §4: `product.products.product` lists the components of a set line.
    let t = sim().await;
    let nested = |code: &str| {
        format!(
            "<item><code>{}</code><codeType>internal</codeType><quantity>1</quantity><products><product code=\"{code}\" codeType=\"internal\" quantity=\"1\"/></products></item>",
            demo::SET_INTERNAL
        )
    };
    assert_eq!(availability(&t, &[nested(demo::COFFEE_INTERNAL)]).await.item_codes(), vec![0]);
    assert_eq!(availability(&t, &[nested("NOPE")]).await.item_codes(), vec![6]);
}

#[tokio::test]
async fn icdf_attribute_notation_is_accepted() {
    // §4: `<products><product code=".." codeType=".." quantity=".."/></products>`.
    let t = sim().await;
    let p = params(&format!(
        "<products><product code=\"{}\" codeType=\"external\" quantity=\"2\"><comment>bez cukru</comment></product></products>",
        demo::MUG_EXTERNAL
    ));
    let r = t.call(Gateway::CheckAvailability, &p).await;
    assert_eq!((r.fault_code(), r.item_codes()), (0, vec![0]), "{}", r.body);
}

#[tokio::test]
async fn check_availability_changes_nothing() {
    let t = sim().await;
    availability(&t, &[line(demo::COFFEE_INTERNAL, "internal", "5")]).await;
    assert_eq!(t.probe.stock(demo::COFFEE_INTERNAL), Some(dec("120")));
    assert_eq!(t.probe.basket(demo::LOGIN), Some(vec![]));
}

#[tokio::test]
async fn importing_the_same_basket_twice_leaves_one_copy() {
    // Checklist 14.
    let t = sim().await;
    let lines = [line(demo::COFFEE_INTERNAL, "internal", "2"), line(demo::MUG_PRODUCER, "producer", "1")];
    t.import(&lines).await;
    let r = t.import(&lines).await;
    assert_eq!(
        t.probe.basket(demo::LOGIN).unwrap(),
        vec![(demo::COFFEE_INTERNAL.to_string(), dec("2")), (demo::MUG_INTERNAL.to_string(), dec("1"))]
    );
    assert_eq!(r.tag("basketLines").as_deref(), Some("2"));
    assert_eq!(r.tag("productsGross").as_deref(), Some("94.97"));
    assert_eq!(r.tag("currency").as_deref(), Some("PLN"));
}

#[tokio::test]
async fn append_setting_adds_imported_lines() {
    // §5 G3 [S] alternative.
    let t = sim_with(settings(|s| s.basket_import = BasketImport::Append)).await;
    let lines = [line(demo::COFFEE_INTERNAL, "internal", "2")];
    t.import(&lines).await;
    t.import(&lines).await;
    assert_eq!(t.probe.basket(demo::LOGIN).unwrap().len(), 2);
}

#[tokio::test]
async fn import_keeps_good_lines_and_reports_bad_ones() {
    let t = sim().await;
    let r = t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1"), line("NOPE", "internal", "1")]).await;
    assert_eq!(r.item_codes(), vec![0, 6]);
    assert_eq!(t.probe.basket(demo::LOGIN).unwrap(), vec![(demo::COFFEE_INTERNAL.to_string(), dec("1"))]);
}

#[tokio::test]
async fn attachments_must_be_base64() {
    let t = sim().await;
    let item = |file: &str| {
        format!(
            "<item><code>{}</code><codeType>internal</codeType><quantity>1</quantity><attachments><attachment><file>{file}</file><name>grawer.txt</name></attachment></attachments></item>",
            demo::MUG_INTERNAL
        )
    };
    let r = t.call(Gateway::BasketImport, &params(&products(&[item("QW5uYQ=="), item("***")]))).await;
    assert_eq!(r.item_codes(), vec![0, 5], "{}", r.body);
}

#[tokio::test]
async fn get_couriers_lists_every_courier() {
    // §5 G5.
    let t = sim().await;
    let r = t.call(Gateway::GetCouriers, "").await;
    assert_eq!(r.fault_code(), 0);
    assert_eq!(r.tags("courierId"), vec!["10", "11", "12"]);
    assert_eq!(r.tags("type"), vec!["courier", "pickup_point", "courier"]);
}

fn for_order(lines: &[String], country: &str, postcode: &str) -> String {
    params(&format!(
        "{}<address><country>{country}</country><postcode>{postcode}</postcode></address>",
        products(lines)
    ))
}

#[tokio::test]
async fn couriers_for_order_filter_by_country() {
    // §5 G6.
    let t = sim().await;
    let coffee = [line(demo::COFFEE_INTERNAL, "internal", "2")];
    let pl = t.call(Gateway::GetCouriersForOrder, &for_order(&coffee, "PL", "00-838")).await;
    assert_eq!(pl.tags("courierId"), vec!["10", "11"]);
    let de = t.call(Gateway::GetCouriersForOrder, &for_order(&coffee, "de", "10115")).await;
    assert_eq!(de.tags("courierId"), vec!["12"]);
}

#[tokio::test]
async fn couriers_for_order_exclude_products_also_inside_sets() {
    // §5 G6: product exclusions (the pickup courier does not carry the mug).
    let t = sim().await;
    let set = [line(demo::SET_INTERNAL, "internal", "1")];
    let r = t.call(Gateway::GetCouriersForOrder, &for_order(&set, "PL", "00-838")).await;
    assert_eq!(r.tags("courierId"), vec!["10"]);
}

#[tokio::test]
async fn couriers_for_order_filter_by_weight_and_answer_2_when_none_fits() {
    // §5 G6: max parcel weight; nothing left → 2 (§6.3).
    let t = sim().await;
    let one = [line(demo::GREEN_INTERNAL, "internal", "1")];
    assert_eq!(
        t.call(Gateway::GetCouriersForOrder, &for_order(&one, "PL", "00-838")).await.tags("courierId"),
        vec!["10", "11"]
    );
    let two = [line(demo::GREEN_INTERNAL, "internal", "2")];
    assert_eq!(t.call(Gateway::GetCouriersForOrder, &for_order(&two, "PL", "00-838")).await.fault_code(), 2);
}

#[tokio::test]
async fn courier_cost_is_base_plus_per_kg() {
    // §5 G6 [S]: 15.00 + 0.50 × 1.10 kg; DHL 59.00 + 4.00 × 1.10.
    let t = sim().await;
    let coffee = [line(demo::COFFEE_INTERNAL, "internal", "2")];
    let r = t.call(Gateway::GetCouriersForOrder, &for_order(&coffee, "PL", "00-838")).await;
    assert_eq!(r.tag("weight").as_deref(), Some("1.10"));
    assert_eq!(r.tags("deliveryCost"), vec!["15.55", "12.50"]);
    let de = t.call(Gateway::GetCouriersForOrder, &for_order(&coffee, "DE", "10115")).await;
    assert_eq!(de.tags("deliveryCost"), vec!["63.40"]);
}

#[tokio::test]
async fn per_started_kg_cost_setting_rounds_weight_up() {
    // §9.4 courier cost: any rule.
    let t = sim_with(settings(|s| s.courier_cost = CourierCost::BasePlusPerStartedKg)).await;
    let coffee = [line(demo::COFFEE_INTERNAL, "internal", "2")];
    let r = t.call(Gateway::GetCouriersForOrder, &for_order(&coffee, "PL", "00-838")).await;
    assert_eq!(r.tags("deliveryCost"), vec!["16.00", "12.50"]);
    t.probe.set_settings(settings(|s| s.courier_cost = CourierCost::BaseOnly));
    let r = t.call(Gateway::GetCouriersForOrder, &for_order(&coffee, "PL", "00-838")).await;
    assert_eq!(r.tags("deliveryCost"), vec!["15.00", "12.50"]);
}

#[tokio::test]
async fn couriers_for_order_without_products_use_the_basket() {
    // §5 G6: products or implicitly the current basket.
    let t = sim().await;
    let address = params("<address><country>PL</country><postcode>00-838</postcode></address>");
    assert_eq!(t.call(Gateway::GetCouriersForOrder, &address).await.fault_code(), 9);
    t.import(&[line(demo::MUG_INTERNAL, "internal", "1")]).await;
    assert_eq!(t.call(Gateway::GetCouriersForOrder, &address).await.tags("courierId"), vec!["10"]);
}

#[tokio::test]
async fn polish_postcode_must_read_nn_nnn() {
    let t = sim().await;
    let coffee = [line(demo::COFFEE_INTERNAL, "internal", "1")];
    let r = t.call(Gateway::GetCouriersForOrder, &for_order(&coffee, "PL", "00838")).await;
    assert_eq!(r.fault_code(), 5);
}

#[tokio::test]
async fn client_addresses_are_paged_and_a_page_past_the_end_answers_2() {
    // §5 G8: resultsPage / resultsLimit; 2 = no more pages (§6.2).
    let t = sim().await;
    for i in 0..3 {
        t.place_coffee_order(&format!("SHOP-{i}")).await;
    }
    let page = |p: u32| params(&format!("<resultsPage>{p}</resultsPage><resultsLimit>2</resultsLimit>"));
    let first = t.call(Gateway::GetClientAddresses, &page(0)).await;
    assert_eq!(first.tags("addressId"), vec!["1", "2"]);
    assert_eq!(first.tag("resultsNumberAll").as_deref(), Some("3"));
    assert_eq!(first.tag("resultsNumberPage").as_deref(), Some("2"));
    assert_eq!(t.call(Gateway::GetClientAddresses, &page(1)).await.tags("addressId"), vec!["3"]);
    assert_eq!(t.call(Gateway::GetClientAddresses, &page(2)).await.fault_code(), 2);
}

#[tokio::test]
async fn client_addresses_of_another_shop_are_not_visible() {
    let t = sim().await;
    t.place_coffee_order("SHOP-1").await;
    let date = t.clock.now().with_timezone(&chrono_tz::Europe::Warsaw).date_naive();
    let inner = loyalty_sim::idosell::sha1_hex(demo::OTHER_PASSWORD.as_bytes());
    let r = t.authenticate(demo::OTHER_LOGIN, &loyalty_sim::idosell::system_key(&inner, date)).await;
    let s = r.tag("sessionKey").unwrap();
    let other = t.call_as(Gateway::GetClientAddresses, &s, demo::OTHER_DROPSHIPPING_KEY, "").await;
    assert_eq!(other.fault_code(), 2);
    let status = t.call_as(Gateway::GetOrderStatus, &s, demo::OTHER_DROPSHIPPING_KEY, "").await;
    assert_eq!(status.fault_code(), 2);
}

#[tokio::test]
async fn set_client_address_changes_the_given_fields_before_dispatch() {
    // §5 G9.
    let t = sim().await;
    let placed = t.place_coffee_order("SHOP-1").await;
    let id = placed.tag("addressId").unwrap();
    let r = t
        .call(
            Gateway::SetClientAddress,
            &params(&format!(
                "<addressId>{id}</addressId><address><city>Łódź</city><postcode>90-001</postcode></address>"
            )),
        )
        .await;
    assert_eq!(r.fault_code(), 0, "{}", r.body);
    let a = t.probe.address(id.parse().unwrap()).unwrap();
    assert_eq!(
        (a["city"].as_str(), a["postcode"].as_str(), a["street"].as_str()),
        ("Łódź", "90-001", "ul. Prosta 5")
    );
}

#[tokio::test]
async fn set_client_address_after_dispatch_or_finish_answers_10() {
    // Checklist 18.
    let t = sim().await;
    let placed = t.place_coffee_order("SHOP-1").await;
    let (order, id) = (placed.tag("orderId").unwrap(), placed.tag("addressId").unwrap());
    let change = params(&format!("<addressId>{id}</addressId><address><city>Łódź</city></address>"));
    t.probe.dispatch_order(&order, 1).unwrap();
    assert_eq!(t.call(Gateway::SetClientAddress, &change).await.fault_code(), 10);
    assert_eq!(t.probe.advance_order(&order).as_deref(), Some("finished"));
    assert_eq!(t.call(Gateway::SetClientAddress, &change).await.fault_code(), 10);
    assert_eq!(t.probe.address(id.parse().unwrap()).unwrap()["city"], "Warszawa");
}

#[tokio::test]
async fn set_client_address_of_an_unknown_address_answers_2() {
    let t = sim().await;
    let r = t
        .call(
            Gateway::SetClientAddress,
            &params("<addressId>999</addressId><address><city>Łódź</city></address>"),
        )
        .await;
    assert_eq!(r.fault_code(), 2);
}
