//! Connect: the Offers wallet call (§4.3) and the Incentives balances (§4.2).

use super::*;

const WALLET: &str = "/offers/api/2.0/offers/get_user_offers";
const ALL_BALANCES: &str = "/incentives/api/1.0/user_points/all_balances";
const BALANCE: &str = "/incentives/api/1.0/user_points/balance";

fn wallet_request(user_id: &str) -> Value {
    json!({"retailer_id": demo::RETAILER_ID, "user_id": user_id, "skip": 0, "take": 1000,
           "include_pending_extended_data": false, "culture": "en-US"})
}

// Checklist 20.
#[tokio::test]
async fn get_user_offers_answers_lower_case_ok_with_the_documented_payload() {
    let t = sim().await;
    let (s, v) = t.connect(WALLET, wallet_request(demo::USER_ID)).await;
    assert_eq!((s, &v["status"]), (200, &json!("ok")));
    let p = &v["payload"];
    for k in [
        "user",
        "user_id",
        "user_offers",
        "total_records",
        "offer_groups",
        "offer_categories",
        "total_points",
        "available_points",
    ] {
        assert!(p.get(k).is_some(), "{k} missing in {p}");
    }
    assert_eq!(
        (&p["user_id"], &p["total_records"], &p["available_points"]),
        (&json!(demo::USER_ID), &json!(13), &json!(250))
    );
    assert_eq!((&p["user"]["opted_in"], &p["user"]["activated"]), (&json!(true), &json!(true)));
    assert_eq!(p["offer_groups"][0]["sort_order"], 1);
    let o = &p["user_offers"][0];
    assert!(
        o["offer_id"].is_string() && o["root_offer_id"].is_string() && o["offer_id"] != o["root_offer_id"]
    );
    assert_eq!(o["is_redeemable"], true);
}

// Checklist 20: only ISSUED offers are listed.
#[tokio::test]
async fn get_user_offers_lists_only_issued_offers() {
    let t = sim().await;
    ok(&t.lock(demo::UO_FIXED_CHECK, basket("T1", &[(demo::ITEM_COFFEE, 1)])).await.1);
    ok(&t.redeem(demo::UO_PERCENT_CHECK, basket("T2", &[(demo::ITEM_COFFEE, 1)])).await.1);
    let ids = t.wallet().await;
    assert_eq!(ids.len(), 11);
    for gone in [demo::UO_FIXED_CHECK, demo::UO_PERCENT_CHECK, demo::UO_EXPIRED] {
        assert!(!ids.contains(&gone.to_string()), "{gone}");
    }
}

#[tokio::test]
async fn get_user_offers_pages_with_skip_and_take() {
    let t = sim().await;
    let mut r = wallet_request(demo::USER_ID);
    r["skip"] = json!(10);
    r["take"] = json!(2);
    let (_, v) = t.connect(WALLET, r).await;
    assert_eq!(
        (v["payload"]["user_offers"].as_array().unwrap().len(), &v["payload"]["total_records"]),
        (2, &json!(13))
    );
}

// §4.3: no POS container; a POS-style body is refused by the strict simulator.
#[tokio::test]
async fn get_user_offers_in_a_pos_container_is_refused() {
    let t = sim().await;
    let (s, v) = t.connect(WALLET, t.envelope(wallet_request(demo::USER_ID))).await;
    assert_eq!((s, code(&v)), (400, "validation"));
}

#[tokio::test]
async fn connect_unknown_user_is_404() {
    let t = sim().await;
    let (s, v) = t.connect(WALLET, wallet_request("00000000-0000-4000-8000-000000000000")).await;
    assert_eq!((s, code(&v)), (404, "user_not_found"));
    assert_eq!(v["errors"]["type"], "not_found");
}

#[tokio::test]
async fn connect_other_retailer_is_refused() {
    let t = sim().await;
    let mut r = wallet_request(demo::USER_ID);
    r["retailer_id"] = json!(demo::CLIENT_ID);
    let (s, v) = t.connect(WALLET, r).await;
    assert_eq!((s, code(&v)), (400, "invalid_retailer_id"));
}

#[tokio::test]
async fn connect_retailer_guid_matches_in_any_case() {
    let t = sim().await;
    let mut r = wallet_request(demo::USER_ID);
    r["retailer_id"] = json!(demo::RETAILER_ID.to_ascii_lowercase());
    assert_eq!(t.connect(WALLET, r).await.0, 200);
}

// §4: Connect has its own credentials.
#[tokio::test]
async fn connect_call_with_pos_credentials_is_401() {
    let t = sim().await;
    let (s, v) = t.send(Method::POST, WALLET, Some(POS), Some(wallet_request(demo::USER_ID))).await;
    assert_eq!((s, code(&v)), (401, "unauthorized"));
}

// Checklist 21.
#[tokio::test]
async fn all_balances_reports_summary_and_details_per_point_account() {
    let t = sim().await;
    let (s, v) = t
        .connect(
            ALL_BALANCES,
            json!({"retailer_id": demo::RETAILER_ID, "user_id": demo::USER_ID, "culture": "en-US"}),
        )
        .await;
    assert_eq!((s, &v["status"]), (200, &json!("ok")));
    let p = &v["payload"];
    assert_eq!(
        (&p["summary"]["total_points"], &p["summary"]["life_time_points"]),
        (&json!(250), &json!(1250))
    );
    let d = &p["details"][0];
    assert_eq!(
        (&d["available_balance"], &d["point_account_id"]),
        (&json!(250), &json!(demo::POINT_ACCOUNT_ID))
    );
    for k in ["account_name", "user_point_account_id", "grouping_label", "life_time_value"] {
        assert!(!d[k].is_null(), "{k}");
    }
}

#[tokio::test]
async fn balance_lists_the_requested_point_accounts() {
    let t = sim().await;
    let (_, v) = t
        .connect(
            BALANCE,
            json!({"retailer_id": demo::RETAILER_ID, "user_id": demo::USER_ID, "point_account_ids": [demo::POINT_ACCOUNT_ID]}),
        )
        .await;
    assert_eq!(v["payload"]["details"][0]["available_balance"], 250);
    let (s, v) = t
        .connect(
            BALANCE,
            json!({"retailer_id": demo::RETAILER_ID, "user_id": demo::USER_ID, "point_account_ids": ["X"]}),
        )
        .await;
    assert_eq!((s, code(&v)), (400, "point_account_not_found"));
}

#[tokio::test]
async fn balance_follows_points_earned_by_transactions() {
    let t = sim().await;
    let mut b = closed(basket("T1", &[(demo::ITEM_TEA, 1)]), "2026-01-15T12:00:00Z", vec![]);
    b["payments"] = json!([{"payment_id": "P1", "amount": 59.0, "user_id": demo::USER_ID}]);
    ok(&t.send_transaction(b).await.1);
    let (_, v) =
        t.connect(ALL_BALANCES, json!({"retailer_id": demo::RETAILER_ID, "user_id": demo::USER_ID})).await;
    assert_eq!(v["payload"]["summary"]["total_points"], 309);
}

// ---------------------------------------------------------------- reward store (§4.4, §7.10)

const PURCHASE: &str = "/offers/api/2.0/offers/rewardstores/purchase_offer";

fn purchase(user_id: &str, store_offer: &str, quantity: Option<i64>) -> Value {
    let mut b = json!({"retailer_id": demo::RETAILER_ID, "user_id": user_id,
                       "reward_store_id": demo::REWARD_STORE_ID, "reward_store_offer_id": store_offer,
                       "culture": "en-US"});
    if let Some(q) = quantity {
        b["quantity"] = json!(q);
    }
    b
}

// §7.10, §8.3 wallet seeding: points buy a reward-store offer, which lands in the wallet.
#[tokio::test]
async fn purchase_offer_spends_points_and_issues_a_user_offer() {
    let t = sim().await;
    let (s, v) = t.connect(PURCHASE, purchase(demo::USER_ID, demo::STORE_OFFER_COFFEE, Some(1))).await;
    assert_eq!((s, &v["status"]), (200, &json!("ok")), "{v}");
    let uo = &v["payload"];
    let id = uo["user_offer_id"].as_str().unwrap().to_string();
    assert_eq!(uo["name"], "Coffee 500 g for 99");
    assert_eq!(uo["is_redeemable"], true);
    assert_eq!(uo["expiration_date"], "2026-04-15T12:00:00Z", "90 days from the purchase");
    assert_eq!(t.probe.points(demo::USER_ID), Some(Decimal::from(250 - demo::STORE_OFFER_COFFEE_POINTS)));
    assert_eq!(t.probe.life_time_points(demo::USER_ID), Some(Decimal::from(1250)), "lifetime stays");
    assert!(t.wallet().await.contains(&id));
    // The purchased offer is redeemable like any other.
    ok(&t.redeem(&id, basket("T1", &[(demo::ITEM_COFFEE, 1)])).await.1);
}

// §4.3 [D]: a zero-point store offer costs nothing and its offer_id is its root_offer_id.
#[tokio::test]
async fn a_zero_point_store_offer_is_free_and_keeps_offer_id_equal_to_root() {
    let t = sim().await;
    let (s, v) = t.connect(PURCHASE, purchase(demo::PER_USER_ID, demo::STORE_OFFER_TASTING, None)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["payload"]["offer_id"], v["payload"]["root_offer_id"]);
    assert_eq!(v["payload"]["offer_type"], "manual_fulfillment");
    assert_eq!(t.probe.points(demo::PER_USER_ID), Some(Decimal::from(40)));
}

#[tokio::test]
async fn purchase_quantity_issues_that_many_and_spends_for_each() {
    let t = sim().await;
    let before = t.wallet().await.len();
    let (s, v) = t.connect(PURCHASE, purchase(demo::USER_ID, demo::STORE_OFFER_COFFEE, Some(2))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(t.wallet().await.len(), before + 2);
    assert_eq!(t.probe.points(demo::USER_ID), Some(Decimal::from(50)));
}

#[tokio::test]
async fn purchase_beyond_the_points_is_refused_and_spends_nothing() {
    let t = sim().await;
    let before = t.wallet().await.len();
    let (s, v) = t.connect(PURCHASE, purchase(demo::USER_ID, demo::STORE_OFFER_COFFEE, Some(3))).await;
    assert_eq!((s, code(&v)), (400, "insufficient_points"));
    assert_eq!(t.probe.points(demo::USER_ID), Some(Decimal::from(250)));
    assert_eq!(t.wallet().await.len(), before);
}

#[tokio::test]
async fn purchase_is_strict_about_its_request() {
    let t = sim().await;
    // Unknown store offer.
    let (s, v) = t.connect(PURCHASE, purchase(demo::USER_ID, "NOPE", None)).await;
    assert_eq!((s, code(&v)), (404, "reward_store_offer_not_found"));
    // Missing store id, a quantity below one, an unknown member.
    let mut b = purchase(demo::USER_ID, demo::STORE_OFFER_COFFEE, Some(0));
    b.as_object_mut().unwrap().remove("reward_store_id");
    let (s, v) = t.connect(PURCHASE, b).await;
    assert_eq!((s, code(&v)), (400, "validation"));
    assert!(v["errors"]["fields"]["reward_store_id"].is_array(), "{v}");
    assert!(v["errors"]["fields"]["quantity"].is_array(), "{v}");
    let mut b = purchase(demo::USER_ID, demo::STORE_OFFER_COFFEE, None);
    b["points"] = json!(0);
    let (s, v) = t.connect(PURCHASE, b).await;
    assert_eq!((s, code(&v)), (400, "validation"), "unknown members are refused");
    let (s, v) = t.connect(PURCHASE, purchase("no-such-user", demo::STORE_OFFER_COFFEE, None)).await;
    assert_eq!((s, code(&v)), (404, "user_not_found"));
    // Connect credentials.
    let (s, _) = t
        .send(Method::POST, PURCHASE, None, Some(purchase(demo::USER_ID, demo::STORE_OFFER_COFFEE, None)))
        .await;
    assert_eq!(s, 401);
    assert_eq!(t.probe.points(demo::USER_ID), Some(Decimal::from(250)));
}
