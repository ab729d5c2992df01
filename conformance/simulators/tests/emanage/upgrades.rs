//! Upsell upgrades (the eManage contract §7, §9.1-§9.4, checklist 10-20).

use loyalty_sim::emanage::{
    CaptureKind, CapturePolicy, GiftCard, OfflineUpgradeCreation, SessionStatus, UpgradeStatus,
};

use super::*;

const P0: i64 = demo::PRODUCT_BASIC;
const P1: i64 = demo::PRODUCT_UPGRADE;
const P2: i64 = demo::PRODUCT_PREMIUM;

fn upgrade_captures(v: &SessionView) -> Vec<Decimal> {
    v.captures.iter().filter(|c| c.kind == CaptureKind::Upgrade).map(|c| c.amount).collect()
}

/// Settings that capture each step at once (so "the step-2 capture is already made").
fn immediate() -> EmanageSettings {
    let mut s = EmanageSettings::default();
    s.upgrade_capture_delay_secs = 0;
    s
}

#[tokio::test]
async fn upgrade_line_on_an_unpaid_session_is_409() {
    // checklist 10
    let t = sim().await;
    let sid = t.new_cart(P0, 1).await;
    let (s, v) = t.upgrade(&sid, P0, P1, 1).await;
    assert_eq!((s.as_u16(), v["message"].is_string()), (409, true), "{v}");
}

#[tokio::test]
async fn same_session_upgrade_captures_the_twenty_delta_and_the_line_becomes_918446() {
    // checklist 11, §9.1
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let (s, v) = t.upgrade(&sid, P0, P1, 1).await;
    assert_eq!(s, 200, "{v}");
    let cart = t.cart(&sid).await;
    assert_eq!(cart["products"][0]["productId"], P1);
    assert_eq!(cart["products"][0]["upgradeStatus"], "preview");
    t.advance(600);
    let view = t.session(&sid);
    assert_eq!(upgrade_captures(&view), [d("20")]);
    assert_eq!(view.captured(), d("120"));
    assert_eq!(view.shipments, [(P1, 1)]);
    assert_eq!(view.upgrades[0].status, UpgradeStatus::Charged);
    assert_eq!(t.cart(&sid).await["products"][0]["upgradeStatus"], "charged");
}

#[tokio::test]
async fn preview_is_charged_only_when_the_capture_delay_has_passed() {
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    t.upgrade(&sid, P0, P1, 1).await;
    t.advance(599);
    assert_eq!(t.session(&sid).upgrades[0].status, UpgradeStatus::Preview);
    assert_eq!(t.session(&sid).shipments, [(P0, 1)], "an uncharged preview does not ship");
    t.advance(1);
    assert_eq!(t.session(&sid).upgrades[0].status, UpgradeStatus::Charged);
}

#[tokio::test]
async fn upgrade_of_an_upgrade_without_capture_between_captures_forty_once() {
    // checklist 12, §9.2 first row
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    t.upgrade(&sid, P0, P1, 1).await;
    let (s, v) = t.upgrade(&sid, P1, P2, 1).await;
    assert_eq!(s, 200, "{v}");
    t.probe.capture_upgrades_now();
    let view = t.session(&sid);
    assert_eq!(upgrade_captures(&view), [d("40")]);
    assert_eq!(view.shipments, [(P2, 1)]);
    assert_eq!(view.upgrades[0].discarded_product_ids, [P1], "918446 never ships");
    assert_eq!(view.lines, [(P2, 1)]);
}

#[tokio::test]
async fn remainder_policy_captures_twenty_after_an_earlier_twenty() {
    // checklist 13, §9.2 second row (default policy)
    let t = sim_with(immediate()).await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    t.upgrade(&sid, P0, P1, 1).await;
    assert_eq!(upgrade_captures(&t.session(&sid)), [d("20")]);
    t.upgrade(&sid, P1, P2, 1).await;
    let view = t.session(&sid);
    assert_eq!(upgrade_captures(&view), [d("20"), d("20")]);
    assert_eq!(view.upgrades[0].captured, d("40"), "chain total = last - first");
    assert_eq!(view.shipments, [(P2, 1)]);
}

#[tokio::test]
async fn remainder_policy_at_default_settings_captures_twenty_after_each_window() {
    // checklist 13 with the default settings (§15.2; the upgrade capture window is 600 s):
    // the step-2 capture of 20 is made when its window ends, then step 3 captures only 20.
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let (s, v) = t.upgrade(&sid, P0, P1, 1).await;
    assert_eq!(s, 200, "{v}");
    t.advance(600);
    assert_eq!(upgrade_captures(&t.session(&sid)), [d("20")]);
    let (s, v) = t.upgrade(&sid, P1, P2, 1).await;
    assert_eq!(s, 200, "{v}");
    t.advance(599);
    let view = t.session(&sid);
    assert_eq!(upgrade_captures(&view), [d("20")], "nothing more within the second window");
    assert_eq!((view.upgrades[0].status, view.shipments.clone()), (UpgradeStatus::Preview, vec![(P1, 1)]));
    t.advance(1);
    let view = t.session(&sid);
    assert_eq!(upgrade_captures(&view), [d("20"), d("20")]);
    assert_eq!(view.upgrades[0].captured, d("40"), "chain total = last − first");
    assert_eq!(view.captured(), d("140"));
    assert_eq!(view.upgrades[0].status, UpgradeStatus::Charged);
    assert_eq!(view.shipments, [(P2, 1)]);
    assert_eq!(view.lines, [(P2, 1)]);
    assert_eq!(view.upgrades[0].discarded_product_ids, [P1], "918446 never ships");
}

#[tokio::test]
async fn literal_policy_captures_last_minus_first_again() {
    // checklist 13, §9.2 third row
    let mut settings = immediate();
    settings.upgrade_capture_policy = CapturePolicy::Literal;
    let t = sim_with(settings).await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    t.upgrade(&sid, P0, P1, 1).await;
    t.upgrade(&sid, P1, P2, 1).await;
    let view = t.session(&sid);
    assert_eq!(upgrade_captures(&view), [d("20"), d("40")]);
    assert_eq!(view.upgrades[0].captured, d("60"), "§9.2: 60 in all under the literal policy");
    // §9.2, every row: one shipment of 918447, none of 918446 or 918325.
    assert_eq!(view.shipments, [(P2, 1)]);
}

#[tokio::test]
async fn upgrade_to_a_cheaper_product_captures_nothing_and_refunds_nothing() {
    // checklist 14, §9.1 clamp
    let t = sim().await;
    let sid = t.paid_cart(&[(P1, 1)], demo::PAN_APPROVE).await;
    let (s, _) = t.upgrade(&sid, P1, P0, 1).await;
    assert_eq!(s, 200);
    t.probe.capture_upgrades_now();
    let view = t.session(&sid);
    assert_eq!(upgrade_captures(&view), Vec::<Decimal>::new());
    assert_eq!(view.captured(), d("120"));
    assert_eq!(view.upgrades[0].status, UpgradeStatus::Charged);
    assert_eq!(view.shipments, [(P0, 1)]);
    assert_eq!(t.cart(&sid).await["total"], 120, "the paid price stays");
}

#[tokio::test]
async fn preview_quantity_zero_or_above_the_line_is_400_naming_it() {
    // checklist 15
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    for q in [0, 3] {
        let mut l = upgrade_line(P0, P1, 1);
        l["upgradePreviewQuantity"] = json!(q);
        let (s, v) = t.add(&sid, l).await;
        assert_eq!(
            (s.as_u16(), v["modelState"]["upgradePreviewQuantity"].is_array()),
            (400, true),
            "{q}: {v}"
        );
    }
}

#[tokio::test]
async fn the_preview_quantity_alone_says_how_many_units_are_upgraded() {
    // §7.1 defines only `upgradePreviewQuantity` as how many units; the line's `quantity` is
    // not compared with it by default.
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    let mut l = upgrade_line(P0, P1, 1);
    l["quantity"] = json!(2);
    let (s, v) = t.add(&sid, l).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    assert_eq!(t.session(&sid).lines, vec![(P0, 1), (P1, 1)]);
}

#[tokio::test]
async fn a_setting_makes_the_line_quantity_equal_the_preview_quantity() {
    let mut settings = EmanageSettings::default();
    settings.upgrade_quantity_must_match = true;
    let t = sim_with(settings).await;
    let sid = t.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    let mut l = upgrade_line(P0, P1, 1);
    l["quantity"] = json!(2);
    let (s, v) = t.add(&sid, l).await;
    assert_eq!((s.as_u16(), v["modelState"]["quantity"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn preview_quantity_above_the_upgraded_head_is_400_naming_it() {
    // checklist 15 on an upgrade of an upgrade: `918325` × 2, one unit upgraded to `918446`;
    // the head `918446` holds 1 unit, so upgrading 2 of it is refused.
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    let (s, v) = t.upgrade(&sid, P0, P1, 1).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = t.upgrade(&sid, P1, P2, 2).await;
    assert_eq!(s, 400, "{v}");
    let fields: Vec<&String> = v["modelState"].as_object().map(|m| m.keys().collect()).unwrap_or_default();
    assert_eq!(fields, ["upgradePreviewQuantity"], "{v}");
    assert!(v["modelState"]["upgradePreviewQuantity"][0].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert!(v["message"].is_string(), "{v}");
    assert_eq!(t.session(&sid).lines, [(P0, 1), (P1, 1)], "nothing changed");
    // One unit of the head is within it.
    let (s, v) = t.upgrade(&sid, P1, P2, 1).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(t.session(&sid).lines, [(P0, 1), (P2, 1)]);
}

#[tokio::test]
async fn upgrade_add_naming_an_unknown_parent_is_404_with_a_message() {
    // checklist 20 through `add`: a paid cart, the upgrade line's `upgradeParentSessionId` a
    // GUID no session has.
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let mut l = upgrade_line(P0, P1, 1);
    l["upgradeParentSessionId"] = json!("5b0e7c1d-93a4-4f2e-b8d6-2c71f0a9e3b4");
    let (s, v) = t.add(&sid, l).await;
    assert_eq!(s, 404, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    t.advance(600);
    let view = t.session(&sid);
    assert_eq!((view.lines.clone(), view.upgrades.len(), view.captured()), (vec![(P0, 1)], 0, d("100")));
}

#[tokio::test]
async fn upgrade_of_a_product_not_in_the_cart_is_404() {
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let (s, _) = t.upgrade(&sid, P1, P2, 1).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn partial_upgrade_splits_the_line_and_captures_twenty() {
    // checklist 16, §9.1 quantity
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    t.upgrade(&sid, P0, P1, 1).await;
    t.probe.capture_upgrades_now();
    let view = t.session(&sid);
    assert_eq!(view.lines, [(P0, 1), (P1, 1)]);
    assert_eq!(upgrade_captures(&view), [d("20")]);
    let cart = t.cart(&sid).await;
    assert_eq!((&cart["products"][1]["price"], &cart["total"]), (&json!(120), &json!(220)));
}

#[tokio::test]
async fn full_upgrade_of_two_units_captures_forty() {
    // checklist 16
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    t.upgrade(&sid, P0, P1, 2).await;
    t.probe.capture_upgrades_now();
    let view = t.session(&sid);
    assert_eq!(view.lines, [(P1, 2)]);
    assert_eq!(upgrade_captures(&view), [d("40")]);
}

/// A paid session of `quantity` × P0 with express shipping (9.95 for the line).
async fn paid_with_express(t: &T, quantity: u32) -> String {
    let mut l = line(P0, quantity);
    l["shippingMethodId"] = json!(demo::SHIPPING_METHOD_EXPRESS);
    let (s, v) = t.new_cart_raw(json!({"product": l})).await;
    assert_eq!(s, 200, "{v}");
    let sid = v.as_str().unwrap().to_string();
    t.customer(&sid).await;
    let (s, v) = t.checkout(&sid, card(demo::PAN_APPROVE)).await;
    assert_eq!((s.as_u16(), &v["success"]), (200, &json!(true)), "{v}");
    sid
}

/// What the vendor's clients total from the cart GET (§6.4 notes): unit price × quantity plus
/// each line's shipping.
fn client_total(cart: &Value) -> Decimal {
    let dec = |v: &Value| v.to_string().parse::<Decimal>().unwrap();
    let lines = cart["products"].as_array().unwrap();
    lines.iter().map(|l| dec(&l["price"]) * dec(&l["quantity"]) + dec(&l["shippingPrice"])).sum()
}

#[tokio::test]
async fn a_partial_upgrade_shows_the_line_s_shipping_once() {
    // §7.2 rule 2, §9.1: a partial upgrade splits the paid line; the rest stays as it was,
    // shipping included, and the upgrade charges only the difference. The shipping was paid
    // once for the line, so the split cart shows it once: 2 × 100 + 9.95 paid, then 20, and
    // the cart totals 229.95 (it showed 239.90, the head copying the line's 9.95).
    let t = sim_with(immediate()).await;
    let sid = paid_with_express(&t, 2).await;
    assert_eq!(t.session(&sid).captured(), d("209.95"));
    let (s, v) = t
        .add(&sid, {
            let mut u = upgrade_line(P0, P1, 1);
            u["shippingMethodId"] = json!(demo::SHIPPING_METHOD_EXPRESS);
            u
        })
        .await;
    assert_eq!(s, 200, "{v}");
    let cart = t.cart(&sid).await;
    let p = &cart["products"];
    assert_eq!((&p[0]["productId"], &p[0]["shippingPrice"]), (&json!(P0), &n("9.95")), "{cart}");
    assert_eq!((&p[1]["productId"], &p[1]["shippingPrice"]), (&json!(P1), &json!(0)), "{cart}");
    assert_eq!((&cart["shippingTotal"], &cart["total"]), (&n("9.95"), &n("229.95")), "{cart}");
    assert_eq!(t.session(&sid).captured(), d("229.95"));
    assert_eq!(client_total(&cart), d("229.95"), "the cart shows what was charged");
}

#[tokio::test]
async fn the_line_s_shipping_shows_once_through_splits_whole_upgrades_and_failures() {
    // The same rule through every way a chain moves, on three units: a partial upgrade whose
    // charge fails (its unit goes back into the rest), two partial upgrades (the rest keeps the
    // shipping), then the last unit upgraded whole (its head takes the shipping) and failing
    // (the discarded line, the original again, still shows it).
    let mut settings = immediate();
    settings.max_upgrade_charge_attempts = 1;
    let t = sim_with(settings).await;
    let sid = paid_with_express(&t, 3).await;
    let shipping = |cart: &Value| cart["shippingTotal"].clone();
    t.probe.fail_next_upgrade_charges(1);
    let (s, v) = t.upgrade(&sid, P0, P1, 1).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(t.session(&sid).lines, [(P0, 3)]);
    assert_eq!(shipping(&t.cart(&sid).await), n("9.95"));
    for _ in 0..2 {
        let (s, v) = t.upgrade(&sid, P0, P1, 1).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(shipping(&t.cart(&sid).await), n("9.95"));
    }
    t.probe.fail_next_upgrade_charges(1);
    let (s, v) = t.upgrade(&sid, P0, P2, 1).await;
    assert_eq!(s, 200, "{v}");
    let cart = t.cart(&sid).await;
    assert_eq!(shipping(&cart), n("9.95"), "{cart}");
    assert_eq!(t.session(&sid).captured(), d("349.95"), "300 + 9.95, then 20 twice");
    assert_eq!(client_total(&cart), d("349.95"), "{cart}");
}

#[tokio::test]
async fn three_failed_charges_discard_the_upgrade_and_the_original_ships() {
    // checklist 17, §9.3
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    t.probe.fail_next_upgrade_charges(4);
    t.upgrade(&sid, P0, P1, 1).await;
    t.probe.capture_upgrades_now();
    let view = t.session(&sid);
    assert_eq!(view.upgrades[0].attempts, 3, "no fourth try");
    assert_eq!(view.upgrades[0].status, UpgradeStatus::Discarded);
    assert_eq!(upgrade_captures(&view), Vec::<Decimal>::new());
    assert_eq!(view.shipments, [(P0, 1)]);
    assert_eq!(view.lines, [(P0, 1)]);
    assert_eq!(t.cart(&sid).await["upgrades"][0]["status"], "discarded");
    // §7.2 rule 6: the line is back to 918325 and reports the terminal status.
    let line = &t.cart(&sid).await["products"][0];
    assert_eq!((line["productId"].clone(), line["price"].clone()), (json!(P0), json!(100)), "{line}");
    assert_eq!(
        (line["upgradeStatus"].clone(), line["upgradedFromProductId"].clone()),
        (json!("discarded"), json!(P0))
    );
    // The line can be upgraded again: a new chain from the original product.
    let (s, v) = t.upgrade(&sid, P0, P1, 1).await;
    assert_eq!(s, 200, "{v}");
    t.probe.capture_upgrades_now();
    assert_eq!(upgrade_captures(&t.session(&sid)), [d("20")]);
}

#[tokio::test]
async fn a_step_that_owes_nothing_is_settled_at_once_within_the_funnel_window() {
    // Checklist 14 with the default window: a downgrade captures 0, at once.
    let t = sim().await;
    let sid = t.paid_cart(&[(P1, 1)], demo::PAN_APPROVE).await;
    let (s, v) = t.upgrade(&sid, P1, P0, 1).await;
    assert_eq!(s, 200, "{v}");
    let view = t.session(&sid);
    assert_eq!((view.upgrades[0].status, view.captured()), (UpgradeStatus::Charged, d("120")));
    assert_eq!(view.shipments, [(P0, 1)]);
}

#[tokio::test]
async fn a_charge_that_succeeds_on_the_third_try_is_captured_once() {
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    t.probe.fail_next_upgrade_charges(2);
    t.upgrade(&sid, P0, P1, 1).await;
    t.probe.capture_upgrades_now();
    let view = t.session(&sid);
    assert_eq!((view.upgrades[0].attempts, view.upgrades[0].status), (3, UpgradeStatus::Charged));
    assert_eq!(upgrade_captures(&view), [d("20")]);
}

#[tokio::test]
async fn max_attempts_setting_allows_more_tries() {
    // §15.2 alternative: any N ≥ 1.
    let mut settings = EmanageSettings::default();
    settings.max_upgrade_charge_attempts = 5;
    let t = sim_with(settings).await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    t.probe.fail_next_upgrade_charges(4);
    t.upgrade(&sid, P0, P1, 1).await;
    t.probe.capture_upgrades_now();
    let view = t.session(&sid);
    assert_eq!((view.upgrades[0].attempts, view.upgrades[0].status), (5, UpgradeStatus::Charged));
}

#[tokio::test]
async fn upgrade_charge_failure_card_fails_every_try() {
    // §11 test table: the upgrade-charge-failure card.
    let t = sim().await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_UPGRADE_CHARGE_FAILS).await;
    t.upgrade(&sid, P0, P1, 1).await;
    t.advance(600);
    let view = t.session(&sid);
    assert_eq!((view.upgrades[0].attempts, view.upgrades[0].status), (3, UpgradeStatus::Discarded));
    assert_eq!(view.captured(), d("100"));
}

#[tokio::test]
async fn failing_chain_of_two_previews_discards_both_and_ships_the_original() {
    // §9.3: 100 → 120 → 140, three failed tries of 40.
    let mut settings = EmanageSettings::default();
    settings.upgrade_charges_fail = true;
    let t = sim_with(settings).await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    t.upgrade(&sid, P0, P1, 1).await;
    t.upgrade(&sid, P1, P2, 1).await;
    t.probe.capture_upgrades_now();
    let view = t.session(&sid);
    assert_eq!(view.upgrades[0].attempts, 3, "no fourth try");
    assert_eq!(view.upgrades[0].tried, [d("40"), d("40"), d("40")], "each try is the chain's 140 − 100");
    assert_eq!(view.upgrades[0].status, UpgradeStatus::Discarded);
    assert_eq!(view.shipments, [(P0, 1)]);
    assert_eq!(view.upgrades[0].discarded_product_ids, [P1, P2]);
    assert_eq!(view.captured(), d("100"));
    assert_eq!(view.lines, [(P0, 1)]);
}

#[tokio::test]
async fn failed_step_after_a_captured_step_keeps_the_paid_upgrade() {
    // Simulator decision for §17 questions 5 and 7.
    let t = sim_with(immediate()).await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    t.upgrade(&sid, P0, P1, 1).await;
    t.probe.fail_next_upgrade_charges(3);
    t.upgrade(&sid, P1, P2, 1).await;
    let view = t.session(&sid);
    assert_eq!(view.shipments, [(P1, 1)]);
    assert_eq!(upgrade_captures(&view), [d("20")]);
    assert_eq!(view.upgrades[0].status, UpgradeStatus::Charged);
}

#[tokio::test]
async fn zero_capture_delay_charges_during_the_add() {
    // Simulator setting `upgrade_capture_delay_secs = 0`.
    let t = sim_with(immediate()).await;
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    t.upgrade(&sid, P0, P1, 1).await;
    assert_eq!(t.cart(&sid).await["products"][0]["upgradeStatus"], "charged");
}

// ------------------------------------------------------------------ offline upgrades (§9.4)

#[tokio::test]
async fn server_created_offline_upgrade_answers_a_new_session_with_its_call_back_url() {
    // checklist 18, §9.4 step 2b
    let t = sim().await;
    let a = t.paid_offline(&[(P0, 1)]).await;
    let (s, v) = t.upgrade(&a, P0, P1, 1).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["upgradeParentSessionId"], a.as_str());
    assert!(v["callBackUrl"].as_str().is_some_and(|u| !u.is_empty()));
    let b = v["sessionId"].as_str().unwrap();
    assert_ne!(b, a);
    let cart = t.cart(b).await;
    assert_eq!(cart["products"].as_array().unwrap().len(), 1);
    assert_eq!((&cart["products"][0]["productId"], &cart["products"][0]["price"]), (&json!(P1), &json!(20)));
    assert_eq!((&cart["total"], &cart["upgradeParentSessionId"]), (&json!(20), &json!(a)));
    assert_eq!(cart["status"], "AwaitingPayment");
}

#[tokio::test]
async fn client_created_offline_upgrade_holds_only_the_delta_line_and_checks_out_by_redirect() {
    // checklist 18, §9.4 step 2a
    let t = sim().await;
    let a = t.paid_offline(&[(P0, 1)]).await;
    let body = json!({"product": {"productId": P1, "price": 120, "quantity": 1, "shippingMethodId": 145},
                      "upgradePreviewProductId": P0, "upgradePreviewQuantity": 1, "upgradeParentSessionId": a});
    let (s, v) = t.new_cart_raw(body).await;
    assert_eq!(s, 200, "{v}");
    let b = v.as_str().unwrap().to_string();
    let view = t.session(&b);
    assert_eq!(view.upgrade_parent_session_id.as_deref(), Some(a.as_str()));
    assert_eq!(t.cart(&b).await["total"], 20);
    // It inherits the parent's customer and has its own payment step.
    let (_, v) = t.checkout(&b, json!({"paymentProcessorId": 5})).await;
    assert!(v["callBackUrl"].as_str().is_some_and(|u| !u.is_empty()), "{v}");
}

#[tokio::test]
async fn paid_offline_upgrade_ships_the_upgrade_and_charges_only_the_new_session() {
    // checklist 19 (paid), §9.4 step 4
    let t = sim().await;
    let a = t.paid_offline(&[(P0, 1)]).await;
    let (_, v) = t.upgrade(&a, P0, P1, 1).await;
    let b = v["sessionId"].as_str().unwrap().to_string();
    assert!(t.probe.confirm_payment(&b));
    let (pa, pb) = (t.session(&a), t.session(&b));
    assert_eq!((pa.captured(), pb.captured()), (d("100"), d("20")));
    assert_eq!(pa.shipments, [(P1, 1)]);
    assert_eq!(pb.shipments, []);
    assert_eq!(pa.upgrades[0].status, UpgradeStatus::Charged);
}

/// A gift card of `balance` for the gift-card upgrade tests.
fn with_gift_card(balance: &str) -> EmanageSettings {
    let mut s = EmanageSettings::default();
    s.gift_cards.push(GiftCard { code: GIFT.into(), balance: d(balance), can_pay_shipping: true });
    s
}

const GIFT: &str = "GIFT-UPGRADE";

/// A cart of P0 × 1 paid with gift card [`GIFT`] (processor 62), then the server-created
/// upgrade session of P0 → P1 on it: (parent, upgrade session, its `callBackUrl`).
async fn gift_card_upgrade(t: &T) -> (String, String, String) {
    let a = t.cart_with(&[(P0, 1)]).await;
    t.customer(&a).await;
    let body = json!({"behaviorId": 1, "sessionId": a, "fraudSessionId": "kount-1",
                      "payment": {"paymentProcessorId": demo::PROCESSOR_GIFT_CARD}, "GiftCardNumber": GIFT});
    let (s, v) = t.post(&cart_path("/checkout"), body).await;
    assert_eq!((s.as_u16(), &v["success"]), (200, &json!(true)), "{v}");
    let (s, v) = t.upgrade(&a, P0, P1, 1).await;
    assert_eq!(s, 200, "{v}");
    let b = v["sessionId"].as_str().unwrap().to_string();
    (a, b, v["callBackUrl"].as_str().unwrap().to_string())
}

async fn gift_balance(t: &T) -> Value {
    let r = t
        .http
        .get(t.url(&format!("/api/giftcards/balance/{GIFT}")))
        .header("X_CID", demo::CID)
        .header("Authorization", format!("iam-basic {}", demo::IAM_BASIC_KEY))
        .send()
        .await
        .unwrap();
    read(r).await.1["balance"].clone()
}

#[tokio::test]
async fn a_gift_card_paid_cart_s_upgrade_is_paid_by_spending_the_card() {
    // §6.3 processor 62, "a gift card covering the whole amount": a cart paid so is upgraded
    // in a new session (§7.2 rule 7, §9.4 step 2b), and confirming that session spends the
    // card on the 20 difference. It used to capture the 20 without touching the card.
    let t = sim_with(with_gift_card("130")).await;
    let (a, b, url) = gift_card_upgrade(&t).await;
    assert_eq!(gift_balance(&t).await, json!(30));
    let (s, v) = read(t.http.post(format!("{url}/approve")).send().await.unwrap()).await;
    assert_eq!((s.as_u16(), &v["success"]), (200, &json!(true)), "{v}");
    assert_eq!(gift_balance(&t).await, json!(10), "the card paid the difference");
    let (pa, pb) = (t.session(&a), t.session(&b));
    assert_eq!((pa.captured(), pb.status, pb.captured()), (d("100"), SessionStatus::Paid, d("20")));
    assert_eq!(pa.shipments, [(P1, 1)]);
}

#[tokio::test]
async fn a_gift_card_short_of_the_upgrade_declines_it_and_the_original_ships() {
    // The card is empty after the checkout: the upgrade session's payment is declined like a
    // checkout's (200 `success: false`, §10), nothing is captured, and the unpaid upgrade is
    // discarded after the window as any unpaid offline upgrade (§9.4 step 5).
    let t = sim_with(with_gift_card("100")).await;
    let (a, b, url) = gift_card_upgrade(&t).await;
    assert_eq!(gift_balance(&t).await, json!(0));
    let (s, v) = read(t.http.post(format!("{url}/approve")).send().await.unwrap()).await;
    assert_eq!((s.as_u16(), &v["success"], v["message"].is_string()), (200, &json!(false), true), "{v}");
    assert!(!t.probe.confirm_payment(&b), "the probe's confirmation is declined too");
    let pb = t.session(&b);
    assert_eq!((pb.status, pb.captured()), (SessionStatus::AwaitingPayment, d("0")));
    assert_eq!(gift_balance(&t).await, json!(0));
    t.advance(30 * 60);
    assert_eq!(t.session(&b).status, SessionStatus::Discarded);
    let pa = t.session(&a);
    assert_eq!((pa.captured(), pa.shipments), (d("100"), vec![(P0, 1)]));
}

#[tokio::test]
async fn unpaid_offline_upgrade_is_discarded_after_thirty_minutes_and_the_original_ships() {
    // checklist 19 (unpaid), §9.4 step 5
    let t = sim().await;
    let a = t.paid_offline(&[(P0, 1)]).await;
    let (_, v) = t.upgrade(&a, P0, P1, 1).await;
    let b = v["sessionId"].as_str().unwrap().to_string();
    t.advance(29 * 60);
    assert_eq!(t.session(&b).status, SessionStatus::AwaitingPayment);
    t.advance(60);
    assert_eq!(t.session(&b).status, SessionStatus::Discarded);
    let pa = t.session(&a);
    assert_eq!(pa.shipments, [(P0, 1)]);
    assert_eq!(pa.upgrades[0].status, UpgradeStatus::Discarded);
    assert_eq!(pa.captured(), d("100"));
    assert!(!t.probe.confirm_payment(&b));
}

#[tokio::test]
async fn client_created_upgrade_never_checked_out_is_discarded_after_thirty_minutes() {
    // checklist 19
    let t = sim().await;
    let a = t.paid_offline(&[(P0, 1)]).await;
    let body = json!({"product": line(P1, 1), "upgradePreviewProductId": P0, "upgradePreviewQuantity": 1,
                      "upgradeParentSessionId": a});
    let (_, v) = t.new_cart_raw(body).await;
    let b = v.as_str().unwrap().to_string();
    t.advance(30 * 60);
    assert_eq!(t.session(&b).status, SessionStatus::Discarded);
    assert_eq!(t.session(&a).shipments, [(P0, 1)]);
}

#[tokio::test]
async fn unknown_upgrade_parent_is_404() {
    // checklist 20
    let t = sim().await;
    let body = json!({"product": line(P1, 1), "upgradePreviewProductId": P0, "upgradePreviewQuantity": 1,
                      "upgradeParentSessionId": "0f8fad5b-d9cb-469f-a165-70867728950e"});
    let (s, v) = t.new_cart_raw(body).await;
    assert_eq!((s.as_u16(), v["message"].is_string()), (404, true), "{v}");
}

#[tokio::test]
async fn upgrade_parent_of_another_campaign_is_404() {
    // checklist 20
    let t = sim().await;
    let (_, v) = t
        .post(&format!("/api/shoppingcart/{}/new", demo::WEB_KEY_SECOND), json!({"product": line(P0, 1)}))
        .await;
    let other = v.as_str().unwrap();
    let body = json!({"product": line(P1, 1), "upgradePreviewProductId": P0, "upgradePreviewQuantity": 1,
                      "upgradeParentSessionId": other});
    let (s, _) = t.new_cart_raw(body).await;
    assert_eq!(s, 404);
    let sid = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let mut l = upgrade_line(P0, P1, 1);
    l["upgradeParentSessionId"] = json!(other);
    let (s, _) = t.add(&sid, l).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn client_created_form_for_a_card_paid_session_is_409() {
    let t = sim().await;
    let a = t.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let body = json!({"product": line(P1, 1), "upgradePreviewProductId": P0, "upgradePreviewQuantity": 1,
                      "upgradeParentSessionId": a});
    let (s, _) = t.new_cart_raw(body).await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn client_created_only_setting_refuses_the_upgrade_add_on_an_offline_session() {
    // §15.2 alternative: client-created only.
    let mut settings = EmanageSettings::default();
    settings.offline_upgrade_creation = OfflineUpgradeCreation::ClientCreated;
    let t = sim_with(settings).await;
    let a = t.paid_offline(&[(P0, 1)]).await;
    let (s, _) = t.upgrade(&a, P0, P1, 1).await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn server_created_only_setting_refuses_new_with_a_parent() {
    // §15.2 alternative: server-created only.
    let mut settings = EmanageSettings::default();
    settings.offline_upgrade_creation = OfflineUpgradeCreation::ServerCreated;
    let t = sim_with(settings).await;
    let a = t.paid_offline(&[(P0, 1)]).await;
    let body = json!({"product": line(P1, 1), "upgradePreviewProductId": P0, "upgradePreviewQuantity": 1,
                      "upgradeParentSessionId": a});
    let (s, v) = t.new_cart_raw(body).await;
    assert_eq!((s.as_u16(), v["modelState"]["upgradeParentSessionId"].is_array()), (400, true), "{v}");
}

#[tokio::test]
async fn further_upgrade_while_the_offline_step_awaits_payment_is_409() {
    let t = sim().await;
    let a = t.paid_offline(&[(P0, 1)]).await;
    t.upgrade(&a, P0, P1, 1).await;
    let (s, _) = t.upgrade(&a, P1, P2, 1).await;
    assert_eq!(s, 409);
}
