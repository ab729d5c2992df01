//! Discount computation for every offer family (§5.5, §5.6, §8.1), through `lock`.

use super::*;

/// Locks `offer` on `lines` and answers (amount, discounted_line_ids, quantities).
async fn discount(t: &T, offer: &str, b: Value) -> (Value, Value, Value) {
    let (_, v) = t.lock(offer, b).await;
    let d = ok(&v);
    (d["amount"].clone(), d["discounted_line_ids"].clone(), d["discounted_line_id_quantities"].clone())
}

#[tokio::test]
async fn fixed_amount_off_check_is_capped_at_the_check() {
    let t = sim().await;
    let cheap = basket_priced("T1", &[("GUM", 1, "10.00".parse().unwrap())]);
    assert_eq!(discount(&t, demo::UO_FIXED_CHECK, cheap).await.0, json!(10.0));
}

#[tokio::test]
async fn percent_off_check_rounds_half_up_to_two_decimals() {
    let t = sim().await;
    let b = basket_priced("T1", &[("GUM", 1, "0.45".parse().unwrap())]);
    // 10 % of 0.45 = 0.045 → 0.05 (half-up; banker's rounding would give 0.04).
    assert_eq!(discount(&t, demo::UO_PERCENT_CHECK, b).await.0, json!(0.05));
}

#[tokio::test]
async fn fixed_amount_off_lowest_priced_eligible_item() {
    let t = sim().await;
    let b = basket("T1", &[(demo::ITEM_COFFEE, 1), (demo::ITEM_TEA, 2), (demo::ITEM_MUG, 1)]);
    assert_eq!(discount(&t, demo::UO_FIXED_LOWEST, b).await, (json!(20.0), json!(["2"]), json!([1])));
}

#[tokio::test]
async fn fixed_amount_off_highest_priced_item() {
    let t = sim().await;
    let b = basket("T1", &[(demo::ITEM_COFFEE, 1), (demo::ITEM_MUG, 1)]);
    assert_eq!(discount(&t, demo::UO_FIXED_HIGHEST, b).await, (json!(30.0), json!(["2"]), json!([1])));
}

#[tokio::test]
async fn item_discount_is_capped_at_the_line_amount() {
    let t = sim().await;
    let b = basket_priced("T1", &[("GUM", 1, "10.00".parse().unwrap())]);
    assert_eq!(discount(&t, demo::UO_FIXED_HIGHEST, b).await.0, json!(10.0));
}

#[tokio::test]
async fn percent_off_lowest_priced_eligible_item() {
    let t = sim().await;
    let b = basket("T1", &[(demo::ITEM_COFFEE, 1), (demo::ITEM_TEA, 1)]);
    assert_eq!(discount(&t, demo::UO_PERCENT_LOWEST, b).await, (json!(29.5), json!(["2"]), json!([1])));
}

#[tokio::test]
async fn percent_off_highest_priced_eligible_item() {
    let t = sim().await;
    let b = basket("T1", &[(demo::ITEM_COFFEE, 1), (demo::ITEM_MUG, 1), (demo::ITEM_TEA, 1)]);
    assert_eq!(discount(&t, demo::UO_PERCENT_HIGHEST, b).await, (json!(49.75), json!(["2"]), json!([1])));
}

#[tokio::test]
async fn buy_two_get_third_fixed_amount_off() {
    let t = sim().await;
    let b = basket("T1", &[(demo::ITEM_COFFEE, 3)]);
    assert_eq!(discount(&t, demo::UO_BXGY_FIXED, b).await, (json!(30.0), json!(["1"]), json!([1])));
}

#[tokio::test]
async fn buy_x_get_y_below_the_required_quantity_is_not_applicable() {
    let t = sim().await;
    let (_, v) = t.lock(demo::UO_BXGY_FIXED, basket("T1", &[(demo::ITEM_COFFEE, 2)])).await;
    assert_eq!(code(&v), "offer_not_applicable");
}

#[tokio::test]
async fn buy_one_get_second_percent_off() {
    let t = sim().await;
    let b = basket("T1", &[(demo::ITEM_MUG, 2)]);
    assert_eq!(discount(&t, demo::UO_BXGY_PERCENT, b).await, (json!(99.5), json!(["1"]), json!([1])));
}

#[tokio::test]
async fn buy_x_get_y_at_a_set_price() {
    let t = sim().await;
    let b = basket("T1", &[(demo::ITEM_COFFEE, 1), (demo::ITEM_MUG, 1)]);
    assert_eq!(discount(&t, demo::UO_BXGY_SET_PRICE, b).await, (json!(100.0), json!(["2"]), json!([1])));
}

#[tokio::test]
async fn set_price_coupon_prices_one_item() {
    let t = sim().await;
    let b = basket("T1", &[(demo::ITEM_COFFEE, 2)]);
    assert_eq!(discount(&t, demo::UO_SET_PRICE, b).await, (json!(30.0), json!(["1"]), json!([1])));
}

#[tokio::test]
async fn wallet_offers_describe_their_type_and_config() {
    let t = sim().await;
    let (_, v) = t.pos("lookup", json!({"user_id": demo::USER_ID})).await;
    let find = |id: &str| {
        ok(&v)["offers"].as_array().unwrap().iter().find(|o| o["user_offer_id"] == id).cloned().unwrap()
    };
    let bxgy = find(demo::UO_BXGY_FIXED);
    assert_eq!(bxgy["offer_type"], "buy_x_get_y");
    assert_eq!(
        (&bxgy["offer_config"]["buy_count"], &bxgy["offer_config"]["amount"]),
        (&json!(2), &json!(30.0))
    );
    assert_eq!(find(demo::UO_FIXED_CHECK)["offer_type"], "fixed_amount_check_discount");
    assert_eq!(find(demo::UO_MANUAL)["offer_type"], "manual_fulfillment");
}
