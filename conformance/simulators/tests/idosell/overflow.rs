//! Hostile but well-formed quantities (products and sums past rust_decimal's range, about
//! 7.9 × 10^28) answer the input fault 5 naming the quantity (§6.3, §9.3), in the gateway's
//! usual place (top level, or per line where the gateway handles lines), never a dropped
//! connection.

use loyalty_sim::idosell::{demo, Gateway};

use super::support::*;

/// 10^28: in range itself; times a 25 kg product, or ten per set, it is not.
const HUGE: &str = "10000000000000000000000000000";

/// A set line whose one component (coffee) is given with `per_set` units.
fn set_with_component(quantity: &str, per_set: &str) -> String {
    format!(
        "<item><code>{}</code><codeType>internal</codeType><quantity>{quantity}</quantity><products><product code=\"{}\" codeType=\"internal\" quantity=\"{per_set}\"/></products></item>",
        demo::SET_INTERNAL,
        demo::COFFEE_INTERNAL
    )
}

fn couriers_for(lines: &[String]) -> String {
    params(&format!("{}<address><country>PL</country><postcode>00-838</postcode></address>", products(lines)))
}

#[tokio::test]
async fn g6_weight_past_the_range_is_fault_5_naming_the_quantity() {
    // 10^28 × 25 kg of green coffee.
    let t = sim().await;
    let r = t
        .call(Gateway::GetCouriersForOrder, &couriers_for(&[line(demo::GREEN_INTERNAL, "internal", HUGE)]))
        .await;
    assert_eq!((r.status, r.fault_code()), (200, 5), "{}", r.body);
    assert!(r.fault_string().contains("product.quantity"), "{}", r.body);
}

#[tokio::test]
async fn g6_lines_summing_past_the_range_are_fault_5() {
    let t = sim().await;
    let big = line(demo::COFFEE_INTERNAL, "internal", "50000000000000000000000000000");
    let r = t.call(Gateway::GetCouriersForOrder, &couriers_for(&[big.clone(), big])).await;
    assert_eq!((r.status, r.fault_code()), (200, 5), "{}", r.body);
}

#[tokio::test]
async fn g2_set_components_past_the_range_are_a_per_line_5() {
    let t = sim().await;
    let lines = [
        // 10^28 sets × 10 coffees each.
        set_with_component(HUGE, "10"),
        // 120 coffees in stock ÷ 10^-28 coffee per set.
        set_with_component("1", "0.0000000000000000000000000001"),
        line(demo::COFFEE_INTERNAL, "internal", "1"),
    ];
    let r = t.call(Gateway::CheckAvailability, &params(&products(&lines))).await;
    assert_eq!((r.status, r.fault_code(), r.item_codes()), (200, 0, vec![5, 5, 0]), "{}", r.body);
}

#[tokio::test]
async fn g3_set_components_past_the_range_stay_out_of_the_basket() {
    let t = sim().await;
    let lines = [set_with_component(HUGE, "10"), line(demo::COFFEE_INTERNAL, "internal", "1")];
    let r = t.call(Gateway::BasketImport, &params(&products(&lines))).await;
    assert_eq!((r.status, r.fault_code(), r.item_codes()), (200, 0, vec![5, 0]), "{}", r.body);
    assert_eq!(r.tag("basketLines").as_deref(), Some("1"), "{}", r.body);
}
