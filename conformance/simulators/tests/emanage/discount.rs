//! Progressive discount (the eManage contract §8, every row of §9.5, checklist 21-23). The demo
//! cart campaign's tiers are 25% for 1 and 50% for 2 on the `PRODUCT_TIER_*` products.

use loyalty_sim::emanage::{DiscountCount, DiscountMode};

use super::*;

const Q100: i64 = demo::PRODUCT_TIER_100;
const Q60: i64 = demo::PRODUCT_TIER_60;
const Q33: i64 = demo::PRODUCT_TIER_33_33;
const N60: i64 = demo::PRODUCT_NOT_QUALIFYING;

async fn total(t: &T, lines: &[(i64, u32)]) -> (Value, Value) {
    let sid = t.cart_with(lines).await;
    let v = t.cart(&sid).await;
    (v["discountTotal"].clone(), v["total"].clone())
}

#[tokio::test]
async fn one_qualifying_unit_at_100_costs_75() {
    // checklist 21, §9.5 row 1
    let t = sim().await;
    let sid = t.cart_with(&[(Q100, 1)]).await;
    let v = t.cart(&sid).await;
    assert_eq!((&v["products"][0]["price"], &v["products"][0]["discountPercent"]), (&json!(75), &json!(25)));
    assert_eq!((&v["discountTotal"], &v["total"]), (&json!(25), &json!(75)));
}

#[tokio::test]
async fn two_qualifying_units_cost_50_each() {
    // checklist 21, §9.5 row 2 and its cart GET line
    let t = sim().await;
    let sid = t.cart_with(&[(Q100, 2)]).await;
    let v = t.cart(&sid).await;
    let p = &v["products"][0];
    assert_eq!(
        (&p["price"], &p["quantity"], &p["listPrice"], &p["discountPercent"]),
        (&json!(50), &json!(2), &json!(100), &json!(50))
    );
    assert_eq!((&v["discountTotal"], &v["total"]), (&json!(100), &json!(100)));
}

#[tokio::test]
async fn two_qualifying_products_both_get_fifty_percent() {
    // §9.5 row 3: 50.00 + 30.00 off, pays 80.00
    let t = sim().await;
    assert_eq!(total(&t, &[(Q100, 1), (Q60, 1)]).await, (json!(80), json!(80)));
}

#[tokio::test]
async fn three_units_stay_on_the_highest_tier_reached() {
    // §9.5 row 4
    let t = sim().await;
    assert_eq!(total(&t, &[(Q100, 3)]).await, (json!(150), json!(150)));
}

#[tokio::test]
async fn three_units_at_33_33_get_exactly_50_off_and_pay_49_99() {
    // checklist 22, §9.5 row 5: 9999 × 50% = 4999.5 → half-up once → 5000 minor.
    let t = sim().await;
    let sid = t.cart_with(&[(Q33, 3)]).await;
    let v = t.cart(&sid).await;
    assert_eq!((&v["discountTotal"], &v["total"]), (&json!(50), &n("49.99")));
    let p = &v["products"][0];
    // The unit price is not a whole number of cents: reported rounded half-up, the line exact.
    assert_eq!((&p["price"], &p["lineTotal"], &p["lineDiscount"]), (&n("16.66"), &n("49.99"), &json!(50)));
    assert_eq!(p["discountPercent"], 50);
}

#[tokio::test]
async fn non_qualifying_product_keeps_its_price_and_does_not_count() {
    // §9.5 row 6: pays 135.00
    let t = sim().await;
    let sid = t.cart_with(&[(Q100, 1), (N60, 1)]).await;
    let v = t.cart(&sid).await;
    assert_eq!((&v["discountTotal"], &v["total"]), (&json!(25), &json!(135)));
    assert_eq!((&v["products"][1]["price"], &v["products"][1]["discountPercent"]), (&json!(60), &json!(0)));
}

#[tokio::test]
async fn marginal_unit_mode_gives_25_then_50_percent() {
    // §9.5 row 7, §15.2 alternative mode = marginal_unit: pays 125.00
    let mut settings = EmanageSettings::default();
    settings.progressive_discount.mode = DiscountMode::MarginalUnit;
    let t = sim_with(settings).await;
    assert_eq!(total(&t, &[(Q100, 2)]).await, (json!(75), json!(125)));
}

#[tokio::test]
async fn line_count_mode_counts_one_line_of_two_units_as_one() {
    // §9.5 row 8, §15.2 alternative count = lines: pays 150.00
    let mut settings = EmanageSettings::default();
    settings.progressive_discount.count = DiscountCount::Lines;
    let t = sim_with(settings).await;
    assert_eq!(total(&t, &[(Q100, 2)]).await, (json!(50), json!(150)));
}

#[tokio::test]
async fn other_tiers_and_products_come_from_the_settings() {
    // §15.2 alternative: other tiers and products.
    let mut settings = EmanageSettings::default();
    settings.progressive_discount.tiers = vec![loyalty_sim::emanage::Tier::new(3, 10)];
    settings.progressive_discount.product_ids = vec![];
    let t = sim_with(settings).await;
    assert_eq!(total(&t, &[(Q100, 1), (N60, 1)]).await, (json!(0), json!(160)));
    assert_eq!(total(&t, &[(Q100, 2), (N60, 1)]).await, (json!(26), json!(234)));
}

#[tokio::test]
async fn addendum_products_are_not_discounted() {
    let t = sim().await;
    assert_eq!(total(&t, &[(demo::PRODUCT_BASIC, 2)]).await, (json!(0), json!(200)));
}

#[tokio::test]
async fn second_campaign_has_no_progressive_discount() {
    let t = sim().await;
    let (_, v) = t
        .post(
            &format!("/api/shoppingcart/{}/new", demo::WEB_KEY_SECOND),
            json!({"product": line(demo::PRODUCT_BASIC, 1)}),
        )
        .await;
    let (_, cart) =
        t.get(&format!("/api/shoppingcart/{}?sessionId={}", demo::WEB_KEY_SECOND, v.as_str().unwrap())).await;
    assert_eq!(cart["total"], 100);
}

#[tokio::test]
async fn checkout_captures_the_discounted_total() {
    let t = sim().await;
    let sid = t.paid_cart(&[(Q100, 2)], demo::PAN_APPROVE).await;
    assert_eq!(t.session(&sid).captured(), d("100"));
}

#[tokio::test]
async fn upgrading_one_unit_of_a_discounted_cart_keeps_the_tier() {
    // checklist 23: the upgrade counts as the unit it replaces, so the remaining unit keeps 50%.
    let t = sim().await;
    let sid = t.paid_cart(&[(Q100, 2)], demo::PAN_APPROVE).await;
    let (s, v) = t.upgrade(&sid, Q100, demo::PRODUCT_UPGRADE, 1).await;
    assert_eq!(s, 200, "{v}");
    t.probe.capture_upgrades_now();
    let v = t.cart(&sid).await;
    let kept = &v["products"][0];
    assert_eq!(
        (&kept["productId"], &kept["price"], &kept["discountPercent"]),
        (&json!(Q100), &json!(50), &json!(50))
    );
    // The upgraded unit keeps the discount it was paid with and adds the 120 − 100 delta.
    let up = &v["products"][1];
    assert_eq!(
        (&up["productId"], &up["price"], &up["listPrice"]),
        (&json!(demo::PRODUCT_UPGRADE), &json!(70), &json!(120))
    );
    assert_eq!(v["total"], 120);
    assert_eq!(t.session(&sid).captured(), d("120"));
}
