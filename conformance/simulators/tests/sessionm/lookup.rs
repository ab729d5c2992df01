//! `POST /api/2.0/lookup` (§3.3, §7.9).

use super::*;

fn offer_ids(payload: &Value) -> Vec<String> {
    payload["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["user_offer_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn lookup_by_email_finds_the_member_with_points() {
    let t = sim().await;
    let (_, v) = t.pos("lookup", json!({"email": demo::USER_EMAIL})).await;
    let p = ok(&v);
    assert_eq!(p["user_id"], demo::USER_ID);
    assert_eq!(
        (&p["user"]["id"], &p["user"]["first_name"], &p["user"]["available_points"]),
        (&json!(demo::USER_ID), &json!("Kari"), &json!(demo::USER_POINTS))
    );
}

#[tokio::test]
async fn lookup_by_phone_user_id_or_external_id_finds_the_member() {
    let t = sim().await;
    for crit in [
        json!({"phone": demo::USER_PHONE}),
        json!({"user_id": demo::USER_ID}),
        json!({"external_customer_id": demo::USER_EXTERNAL_ID}),
    ] {
        let (_, v) = t.pos("lookup", crit.clone()).await;
        assert_eq!(ok(&v)["user_id"], demo::USER_ID, "{crit}");
    }
}

// Checklist 4: an e-mail matching two accounts is an error, not the first match.
#[tokio::test]
async fn lookup_by_email_shared_by_two_users_is_ambiguous() {
    let t = sim().await;
    assert_eq!(t.probe.users_by_email(demo::SHARED_EMAIL).len(), 2);
    let (s, v) = t.pos("lookup", json!({"email": demo::SHARED_EMAIL})).await;
    assert_eq!((s, code(&v)), (200, "ambiguous_user"));
    assert!(v.get("payload").is_none());
}

// Checklist 4 (phone variant).
#[tokio::test]
async fn lookup_by_phone_shared_by_two_users_is_ambiguous() {
    let t = sim().await;
    let (_, v) = t.pos("lookup", json!({"phone": demo::SHARED_PHONE})).await;
    assert_eq!(code(&v), "ambiguous_user");
}

#[tokio::test]
async fn lookup_without_match_is_user_not_found() {
    let t = sim().await;
    let (_, v) = t.pos("lookup", json!({"external_customer_id": "CARD-9999"})).await;
    assert_eq!(code(&v), "user_not_found");
}

// §3.3: phone is digits only.
#[tokio::test]
async fn lookup_phone_with_plus_sign_is_refused() {
    let t = sim().await;
    let (_, v) = t.pos("lookup", json!({"phone": "+4741234567"})).await;
    assert_eq!(code(&v), "validation");
    assert!(v["errors"]["fields"]["request_payload.phone"].is_array());
}

#[tokio::test]
async fn lookup_needs_exactly_one_criterion() {
    let t = sim().await;
    for crit in [json!({}), json!({"email": demo::USER_EMAIL, "phone": demo::USER_PHONE})] {
        let (_, v) = t.pos("lookup", crit).await;
        assert_eq!(code(&v), "validation");
    }
}

// Checklist 5: without a transaction, every wallet offer, no discount details.
#[tokio::test]
async fn lookup_without_transaction_lists_whole_wallet_without_discounts() {
    let t = sim().await;
    let (_, v) = t.pos("lookup", json!({"user_id": demo::USER_ID})).await;
    let p = ok(&v);
    let ids = offer_ids(p);
    assert_eq!(ids.len(), 13, "14 seeded, one expired: {ids:?}");
    assert!(!ids.contains(&demo::UO_EXPIRED.to_string()));
    assert!(
        ids.contains(&demo::UO_MANUAL.to_string()) && ids.contains(&demo::UO_OTHER_STORE_ONLY.to_string())
    );
    assert!(p["offers"].as_array().unwrap().iter().all(|o| o.get("discount").is_none()));
    let first = &p["offers"][0];
    for k in [
        "user_offer_id",
        "offer_id",
        "root_offer_id",
        "name",
        "expiration_date",
        "offer_type",
        "offer_config",
    ] {
        assert!(!first[k].is_null(), "{k} in {first}");
    }
}

// Checklist 5: with a transaction, only offers passing catalog and store restrictions, each
// with discount details.
#[tokio::test]
async fn lookup_with_transaction_lists_only_applicable_offers_with_discounts() {
    let t = sim().await;
    let (_, v) = t
        .pos(
            "lookup",
            json!({"user_id": demo::USER_ID, "transaction": basket("T-LK", &[(demo::ITEM_MUG, 1)])}),
        )
        .await;
    let p = ok(&v);
    let mut ids = offer_ids(p);
    ids.sort();
    let mut want: Vec<String> = [
        demo::UO_FIXED_CHECK,
        demo::UO_PERCENT_CHECK,
        demo::UO_FIXED_HIGHEST,
        demo::UO_PERCENT_HIGHEST,
        demo::UO_BXGY_PERCENT,
        demo::UO_BXGY_SET_PRICE,
        demo::UO_TTL,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want.sort();
    assert_eq!(ids, want, "coffee/tea-only, Bergen-only, manual and expired offers are left out");
    for o in p["offers"].as_array().unwrap() {
        let d = &o["discount"];
        assert_eq!((&d["reference_id"], &d["status"]), (&o["user_offer_id"], &json!("available")), "{o}");
    }
    let fixed =
        p["offers"].as_array().unwrap().iter().find(|o| o["user_offer_id"] == demo::UO_FIXED_CHECK).unwrap();
    assert_eq!(fixed["discount"]["amount"], json!(50.0));
    assert_eq!(fixed["discount"]["discounted_line_ids"], json!(["1"]));
}

// §7.9: only catalog and store restrictions decide the list; the amount may be zero.
#[tokio::test]
async fn lookup_lists_buy_x_get_y_offer_even_when_quantity_is_not_reached() {
    let t = sim().await;
    let (_, v) = t
        .pos(
            "lookup",
            json!({"user_id": demo::USER_ID, "transaction": basket("T-LK2", &[(demo::ITEM_MUG, 1)])}),
        )
        .await;
    let o = ok(&v)["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["user_offer_id"] == demo::UO_BXGY_PERCENT)
        .cloned();
    assert_eq!(o.unwrap()["discount"]["amount"], json!(0.0));
}

// Checklist 5: store restrictions use the container's store_id.
#[tokio::test]
async fn lookup_at_the_other_store_includes_its_store_restricted_offer() {
    let t = sim().await;
    let payload = json!({"user_id": demo::USER_ID, "transaction": basket("T-BGO", &[(demo::ITEM_MUG, 1)])});
    let (_, v) = t.pos_body("lookup", t.envelope_at(demo::OTHER_STORE_ID, payload)).await;
    let o = ok(&v)["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["user_offer_id"] == demo::UO_OTHER_STORE_ONLY)
        .cloned();
    assert_eq!(o.expect("listed in Bergen")["discount"]["amount"], json!(29.85));
}

#[tokio::test]
async fn lookup_hides_an_offer_locked_to_another_transaction_and_shows_it_to_its_own() {
    let t = sim().await;
    ok(&t.lock(demo::UO_FIXED_CHECK, basket("T-OWN", &[(demo::ITEM_MUG, 1)])).await.1);
    let (_, other) = t
        .pos(
            "lookup",
            json!({"user_id": demo::USER_ID, "transaction": basket("T-OTHER", &[(demo::ITEM_MUG, 1)])}),
        )
        .await;
    assert!(!offer_ids(ok(&other)).contains(&demo::UO_FIXED_CHECK.to_string()));
    let (_, own) = t
        .pos(
            "lookup",
            json!({"user_id": demo::USER_ID, "transaction": basket("T-OWN", &[(demo::ITEM_MUG, 1)])}),
        )
        .await;
    let o = ok(&own)["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["user_offer_id"] == demo::UO_FIXED_CHECK)
        .cloned();
    assert_eq!(o.unwrap()["discount"]["status"], "locked");
}
