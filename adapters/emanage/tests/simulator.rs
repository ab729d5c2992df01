//! The adapter against the eManage simulator: every adapter-side item of the contract's
//! Conformance checklist (named "checklist N" in a comment) and the worked numbers of §9.

mod common;

use std::time::Duration;

use common::*;
use loyalty_core::checkout::ActionKind;
use loyalty_core::{
    CartCheckout, CartId, CartStatus, Currency, ErrorKind, LineId, Money, NewCart, OfferKind, ProductId,
    Provider, UpgradeOutcome, UpgradeRequest, UpgradeStatus, WriteEffect,
};
use loyalty_emanage::{CapturePolicy, EmanageAdapter};
use loyalty_http::Secret;
use loyalty_sim::emanage::{
    demo, CapturePolicy as SimPolicy, DiscountCount, DiscountMode, EmanageSettings, OfflineUpgradeCreation,
    SessionStatus, UpgradeStatus as SimStatus,
};
use rust_decimal::Decimal;

// ------------------------------------------------------------------ auth and sessions (§3, §6.4)

#[tokio::test]
async fn every_call_carries_x_cid_and_the_journal_keeps_it_redacted() {
    // Checklist 1: the header goes as `x_cid` (HTTP lower-cases names) and is accepted.
    let env = start().await;
    env.cart(&[(P0, 1)]).await;
    let entries = env.journal().entries();
    assert!(!entries.is_empty());
    for e in entries {
        assert_ne!(e.status, 401, "{} {}", e.method, e.path);
        let cid = e.headers.iter().find(|(k, _)| k == "x_cid").map(|(_, v)| v.as_str());
        assert_eq!(cid, Some("[redacted]"), "{} {}", e.method, e.path);
    }
}

#[tokio::test]
async fn an_unknown_client_id_is_unauthorized() {
    // Checklist 1.
    let env = start().await;
    let mut config = config(env.server.base_url(), Duration::from_secs(5), CapturePolicy::Remainder);
    config.cid = Secret::new("00000000-1111-4222-8333-444444444444");
    let adapter = EmanageAdapter::new(config).unwrap();
    let err = adapter
        .carts()
        .unwrap()
        .get(&ctx(), &CartId::new("3f6c1b2e-8a4d-4c7f-9e2b-5d1a0c8e7f63"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthorized, "{err}");
}

#[tokio::test]
async fn a_new_cart_is_the_session_the_vendor_answered() {
    // Checklists 2 and 3: `new` answers a GUID; the adapter's `product` with integer ids and a
    // string price is accepted.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let s = cart.id.as_str();
    assert_eq!(s.len(), 36, "{s}");
    assert!(s.split('-').map(str::len).eq([8, 4, 4, 4, 12]), "{s}");
    assert_eq!(env.session(&cart.id).lines, vec![(id(P0), 1)]);
}

#[tokio::test]
async fn a_test_cart_is_flagged_test_at_the_vendor() {
    // Checklist 4.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    assert!(env.session(&cart.id).test);
    let live = env.carts().create(&ctx(), &NewCart::new(Currency::USD, P0, Decimal::ONE)).await.unwrap();
    assert!(!env.session(&live.id).test);
}

#[tokio::test]
async fn a_cart_reads_its_lines_with_unit_price_quantity_and_shipping() {
    // Checklist 5, with the express shipping of 9.95 a line.
    let mut env = start().await;
    let mut c = config(env.server.base_url(), Duration::from_secs(5), CapturePolicy::Remainder);
    c.shipping_method_id = Some(demo::SHIPPING_METHOD_EXPRESS);
    env.adapter = EmanageAdapter::new(c).unwrap();
    let cart = env.cart(&[(P0, 2), ("918504", 1)]).await;
    let lines: Vec<(&str, Decimal, String)> = cart
        .lines
        .iter()
        .map(|l| (l.product_id.as_str(), l.quantity, l.unit_price.amount_string()))
        .collect();
    assert_eq!(
        lines,
        vec![(P0, Decimal::from(2), "100.00".into()), ("918504", Decimal::ONE, "60.00".into())]
    );
    assert_eq!((cart.shipping, cart.total), (usd("19.90"), usd("279.90")));
}

#[tokio::test]
async fn adding_a_product_twice_updates_its_line_and_never_posts_a_duplicate_add() {
    // Checklist 6: a second `add` of the product would be a 409; the adapter updates the line
    // to the summed quantity, as the vendor's clients do.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let cart = env.carts().add_line(&ctx(), &cart.id, &ProductId::new(P0), Decimal::from(2)).await.unwrap();
    assert_eq!(cart.lines[0].quantity, Decimal::from(3));
    assert_eq!(env.session(&cart.id).lines, vec![(id(P0), 3)]);
    assert_eq!(env.journal().count("POST", &env.cart_path("/add")), 0);
    assert_eq!(env.journal().count("PUT", &env.cart_path("/update")), 1);
}

#[tokio::test]
async fn lines_carry_the_catalogue_price_even_after_the_merchant_changes_it() {
    // Checklist 7, adapter side: the price sent is always the price list's, read fresh, so the
    // strict price check never refuses the adapter's lines.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    assert!(env.probe.set_product_price(demo::WEB_KEY, id("918504"), dec("55")));
    let cart = env.carts().add_line(&ctx(), &cart.id, &ProductId::new("918504"), Decimal::ONE).await.unwrap();
    assert_eq!(cart.line_of(&ProductId::new("918504")).unwrap().unit_price, usd("55.00"));
}

#[tokio::test]
async fn an_unknown_session_is_not_found() {
    // Checklist 8.
    let env = start().await;
    let err =
        env.carts().get(&ctx(), &CartId::new("00000000-0000-4000-8000-000000000000")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn a_paid_cart_refuses_new_lines_quantities_and_removals() {
    // Checklist 9.
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let add =
        env.carts().add_line(&ctx(), &cart.id, &ProductId::new("918504"), Decimal::ONE).await.unwrap_err();
    let update =
        env.carts().set_quantity(&ctx(), &cart.id, &LineId::new(P0), Decimal::from(2)).await.unwrap_err();
    let remove = env.carts().remove_line(&ctx(), &cart.id, &LineId::new(P0)).await.unwrap_err();
    for e in [add, update, remove] {
        assert_eq!(e.kind(), &ErrorKind::Conflict, "{e}");
    }
}

// ------------------------------------------------------------------ checkout (§6.4 rows 6-7)

#[tokio::test]
async fn a_paid_cart_reads_paid_and_a_second_checkout_charges_nothing() {
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let CartCheckout::Paid(order) =
        env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap()
    else {
        panic!("paid")
    };
    assert_eq!(order.charged, usd("100.00"));
    let view = env.session(&cart.id);
    assert_eq!(Some(order.order_id.as_str().parse::<u64>().unwrap()), view.shopping_cart_number);
    let again = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap();
    assert_eq!(
        again,
        CartCheckout::Paid(loyalty_core::CartOrder::new(
            order.order_id.clone(),
            cart.id.clone(),
            order.charged
        ))
    );
    assert_eq!(
        env.journal().count("POST", &env.cart_path("/checkout")),
        1,
        "no second checkout reaches the vendor"
    );
    assert_eq!(env.session(&cart.id).captured(), dec("100"));
}

#[tokio::test]
async fn a_declined_card_is_an_answer_and_the_cart_stays_open() {
    // Checklist 24.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let answer = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_DECLINE)).await.unwrap();
    assert!(matches!(answer, CartCheckout::Declined { ref reason } if !reason.is_empty()), "{answer:?}");
    assert_eq!(env.carts().get(&ctx(), &cart.id).await.unwrap().status, CartStatus::Open);
    assert_eq!(env.session(&cart.id).declines, 1);
}

#[tokio::test]
async fn three_d_secure_asks_the_customer_and_the_cart_waits_then_pays() {
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let answer = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_3DS)).await.unwrap();
    let CartCheckout::ActionRequired { action, .. } = answer else { panic!("{answer:?}") };
    assert_eq!(action.kind, loyalty_core::checkout::ActionKind::ThreeDSecure);
    assert!(action.url.is_some());
    assert_eq!(env.carts().get(&ctx(), &cart.id).await.unwrap().status, CartStatus::AwaitingPayment);
    assert!(env.probe.confirm_payment(cart.id.as_str()));
    assert_eq!(env.carts().get(&ctx(), &cart.id).await.unwrap().status, CartStatus::Paid);
}

#[tokio::test]
async fn a_card_on_file_is_refused_before_any_call() {
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let before = env.journal().entries().len();
    let err = env
        .carts()
        .checkout(&ctx(), &cart.id, &loyalty_core::CartPayment::CardOnFile { card_id: "1".into() })
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "payment"), "{err}");
    assert_eq!(env.journal().entries().len(), before);
}

// ------------------------------------------------------------------ upgrades (§7, §9.1-§9.4)

#[tokio::test]
async fn upgrade_of_an_unpaid_cart_is_a_conflict() {
    // Checklist 10.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let err = env.upgrade(&cart.id, P0, P1, 1).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
}

#[tokio::test]
async fn same_session_upgrade_charges_twenty_and_the_line_becomes_918446() {
    // Checklist 11, §9.1.
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    let UpgradeOutcome::Charged { cart: after, amount } = outcome else { panic!("{outcome:?}") };
    assert_eq!(amount, usd("20.00"));
    assert_eq!(after.lines.iter().map(|l| l.product_id.as_str()).collect::<Vec<_>>(), vec![P1]);
    assert_eq!(after.id, cart.id, "the session id stays A");
    let view = env.session(&cart.id);
    assert_eq!(upgrade_captures(&view), [dec("20")]);
    assert_eq!(view.shipments, [(id(P1), 1)]);
}

#[tokio::test]
async fn within_the_funnel_an_upgrade_is_pending_until_the_vendor_charges_it() {
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    assert!(
        matches!(outcome, UpgradeOutcome::Pending { amount, .. } if amount == usd("20.00")),
        "{outcome:?}"
    );
    let head = env.carts().get(&ctx(), &cart.id).await.unwrap().lines[0].clone();
    assert_eq!(head.upgrade.unwrap().status, UpgradeStatus::Pending);
    env.advance(600);
    let head = env.carts().get(&ctx(), &cart.id).await.unwrap().lines[0].clone();
    assert_eq!(head.upgrade.unwrap().status, UpgradeStatus::Charged);
}

#[tokio::test]
async fn upgrade_of_an_upgrade_without_capture_between_captures_forty_once() {
    // Checklist 12, §9.2 first row.
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let first = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    assert!(matches!(first, UpgradeOutcome::Pending { amount, .. } if amount == usd("20.00")), "{first:?}");
    let second = env.upgrade(&cart.id, P1, P2, 1).await.unwrap();
    assert!(matches!(second, UpgradeOutcome::Pending { amount, .. } if amount == usd("40.00")), "{second:?}");
    env.probe.capture_upgrades_now();
    let view = env.session(&cart.id);
    assert_eq!(upgrade_captures(&view), [dec("40")]);
    assert_eq!(view.shipments, [(id(P2), 1)], "918446 never ships");
    assert_eq!(view.upgrades[0].discarded_product_ids, [id(P1)]);
}

#[tokio::test]
async fn after_a_captured_step_the_next_captures_the_remainder() {
    // Checklist 13, §9.2 second row (the default policy).
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let first = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    assert!(matches!(first, UpgradeOutcome::Charged { amount, .. } if amount == usd("20.00")), "{first:?}");
    let second = env.upgrade(&cart.id, P1, P2, 1).await.unwrap();
    assert!(matches!(second, UpgradeOutcome::Charged { amount, .. } if amount == usd("20.00")), "{second:?}");
    let view = env.session(&cart.id);
    assert_eq!(upgrade_captures(&view), [dec("20"), dec("20")]);
    assert_eq!(view.upgrades[0].captured, dec("40"), "chain total = last − first");
}

#[tokio::test]
async fn under_the_literal_policy_the_next_step_captures_last_minus_first_again() {
    // Checklist 13, §9.2 third row: the simulator switch and the adapter's setting together.
    let mut settings = immediate();
    settings.upgrade_capture_policy = SimPolicy::Literal;
    let env = start_full(settings, Duration::from_secs(5), CapturePolicy::Literal).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    let second = env.upgrade(&cart.id, P1, P2, 1).await.unwrap();
    assert!(matches!(second, UpgradeOutcome::Charged { amount, .. } if amount == usd("40.00")), "{second:?}");
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20"), dec("40")]);
}

#[tokio::test]
async fn an_upgrade_to_a_cheaper_product_captures_nothing_and_refunds_nothing() {
    // Checklist 14, §9.1 clamp.
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P1, 1)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade(&cart.id, P1, P0, 1).await.unwrap();
    let UpgradeOutcome::Charged { cart: after, amount } = outcome else { panic!("{outcome:?}") };
    assert_eq!(amount, usd("0.00"));
    assert_eq!(after.total, usd("120.00"), "the price paid stays");
    let view = env.session(&cart.id);
    assert_eq!((upgrade_captures(&view), view.captured()), (vec![], dec("120")));
}

#[tokio::test]
async fn upgrade_quantity_of_zero_or_above_the_line_is_invalid() {
    // Checklist 15: zero never leaves the adapter, refused under the vendor's own field name;
    // above the head line the vendor names `upgradePreviewQuantity`.
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let zero =
        env.carts().upgrade(&ctx(), &cart.id, &UpgradeRequest::new(P0, P1, Decimal::ZERO)).await.unwrap_err();
    assert!(
        matches!(zero.kind(), ErrorKind::Invalid { field, .. } if field == "upgradePreviewQuantity"),
        "{zero}"
    );
    assert_eq!(env.journal().count("POST", &env.cart_path("/add")), 0);
    let two = env.upgrade(&cart.id, P0, P1, 2).await.unwrap_err();
    assert!(
        matches!(two.kind(), ErrorKind::Invalid { field, .. } if field == "upgradePreviewQuantity"),
        "{two}"
    );
}

#[tokio::test]
async fn upgrading_one_of_two_units_splits_the_line_and_charges_twenty() {
    // Checklist 16, §9.1 quantity rows.
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    let UpgradeOutcome::Charged { cart: after, amount } = outcome else { panic!("{outcome:?}") };
    assert_eq!(amount, usd("20.00"));
    let lines: Vec<(&str, Decimal)> =
        after.lines.iter().map(|l| (l.product_id.as_str(), l.quantity)).collect();
    assert_eq!(lines, vec![(P0, Decimal::ONE), (P1, Decimal::ONE)]);
}

#[tokio::test]
async fn upgrading_both_units_charges_forty() {
    // Checklist 16: 2 × (120 − 100).
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade(&cart.id, P0, P1, 2).await.unwrap();
    assert!(
        matches!(outcome, UpgradeOutcome::Charged { amount, .. } if amount == usd("40.00")),
        "{outcome:?}"
    );
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("40")]);
}

#[tokio::test]
async fn three_failed_charges_discard_the_upgrade_and_918325_ships() {
    // Checklist 17, §9.3.
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    env.probe.fail_next_upgrade_charges(3);
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    let UpgradeOutcome::Discarded { cart: after } = outcome else { panic!("{outcome:?}") };
    assert_eq!(
        after.lines.iter().map(|l| (l.product_id.as_str(), l.upgrade.is_none())).collect::<Vec<_>>(),
        vec![(P0, true)]
    );
    let view = env.session(&cart.id);
    assert_eq!(
        (view.upgrades[0].attempts, view.upgrades[0].status),
        (3, SimStatus::Discarded),
        "no fourth try"
    );
    assert_eq!((upgrade_captures(&view), view.shipments), (vec![], vec![(id(P0), 1)]));
}

#[tokio::test]
async fn a_card_whose_upgrade_charges_fail_gets_its_upgrade_discarded() {
    // Checklist 17, with the test card of §11 instead of the probe.
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_UPGRADE_CHARGE_FAILS).await;
    assert!(matches!(env.upgrade(&cart.id, P0, P1, 1).await.unwrap(), UpgradeOutcome::Discarded { .. }));
}

#[tokio::test]
async fn upgrade_of_a_cart_paid_by_paypal_asks_for_twenty_in_a_new_cart_with_its_own_redirect() {
    // Checklist 18, §9.4 steps 1-3.
    let env = start().await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    let req = UpgradeRequest::new(P0, P1, Decimal::ONE).paid_offline(true);
    let outcome = env.carts().upgrade(&ctx(), &cart.id, &req).await.unwrap();
    let UpgradeOutcome::PaymentRequired { cart: child, amount, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!(amount, usd("20.00"));
    assert_eq!(child.upgrade_parent, Some(cart.id.clone()));
    assert_eq!(
        child.lines.iter().map(|l| (l.product_id.as_str(), l.net)).collect::<Vec<_>>(),
        vec![(P1, usd("20.00"))]
    );
    let view = env.session(&child.id);
    assert_eq!(view.upgrade_parent_session_id.as_deref(), Some(cart.id.as_str()));
    let answer = env.carts().checkout(&ctx(), &child.id, &paypal()).await.unwrap();
    let CartCheckout::ActionRequired { action, .. } = answer else { panic!("{answer:?}") };
    assert!(action.url.is_some(), "the new cart has its own callBackUrl");
}

#[tokio::test]
async fn a_server_created_upgrade_session_is_answered_as_payment_required() {
    // §9.4 step 2b: a shop that did not say the cart was paid offline gets the vendor's own
    // new session, already waiting for its payment.
    let env = start().await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    let UpgradeOutcome::PaymentRequired { cart: child, amount, action } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!((child.status, amount), (CartStatus::AwaitingPayment, usd("20.00")));
    let answer = env.carts().checkout(&ctx(), &child.id, &paypal()).await.unwrap();
    let CartCheckout::ActionRequired { action: again, .. } = answer else { panic!("{answer:?}") };
    assert_eq!(action, Some(again), "the answer carries the page a checkout of the new cart shows");
}

#[tokio::test]
async fn a_server_created_upgrade_session_answers_its_payment_page_on_the_contract_s_cart_get() {
    // §7.2 rule 7, §9.4 step 2b, checklist 18: the session the vendor opens for the difference
    // comes with its own payment step, the `add` reply's `callBackUrl`. The contract's cart GET
    // shows neither that URL nor the session's status, and the vendor refuses a checkout of a
    // session waiting for its payment: the answer is the one place the page reaches the shop.
    let mut settings = bare(EmanageSettings::default());
    settings.offline_upgrade_creation = OfflineUpgradeCreation::ServerCreated;
    let env = start_with(settings).await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    let outcome = env.upgrade_sold_as(&cart.id, P0, P0, P1, 1).await.expect("upgrade answers");
    let UpgradeOutcome::PaymentRequired { cart: child, amount, action } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(env.probe.upgrade_sessions(cart.id.as_str()), [child.id.as_str().to_string()]);
    assert_eq!((child.status, amount), (CartStatus::AwaitingPayment, usd("20.00")));
    let action = action.expect("the upgrade session's payment page");
    let tracking = env.probe.tracking_number(child.id.as_str()).expect("the session waits for its payment");
    assert_eq!(action.kind, ActionKind::Redirect);
    assert!(action.url.as_deref().is_some_and(|u| u.ends_with(&format!("/{tracking}"))), "{action:?}");
    // Paid on that page, the difference is captured on the new session.
    assert!(env.probe.confirm_payment(child.id.as_str()));
    assert_eq!(
        (env.session(&child.id).status, env.session(&child.id).captured()),
        (SessionStatus::Paid, dec("20"))
    );
}

#[tokio::test]
async fn a_client_created_upgrade_cart_is_open_and_answers_no_payment_page() {
    // §9.4 step 2a: the adapter's own `new` opens the session; its payment starts with its
    // checkout, like any cart.
    let env = start().await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    let req = UpgradeRequest::new(P0, P1, Decimal::ONE).paid_offline(true);
    let outcome = env.carts().upgrade(&ctx(), &cart.id, &req).await.unwrap();
    let UpgradeOutcome::PaymentRequired { cart: child, action, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!((child.status, action), (CartStatus::Open, None));
}

#[tokio::test]
async fn an_upgrade_cart_unpaid_after_thirty_minutes_is_discarded_and_the_original_ships() {
    // Checklist 19, §9.4 step 5.
    let env = start().await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    let req = UpgradeRequest::new(P0, P1, Decimal::ONE).paid_offline(true);
    let child = env.carts().upgrade(&ctx(), &cart.id, &req).await.unwrap().cart().clone();
    env.advance(30 * 60 + 1);
    assert_eq!(env.carts().get(&ctx(), &child.id).await.unwrap().status, CartStatus::Discarded);
    let parent = env.carts().get(&ctx(), &cart.id).await.unwrap();
    assert_eq!(parent.lines.iter().map(|l| l.product_id.as_str()).collect::<Vec<_>>(), vec![P0]);
    assert_eq!(env.session(&cart.id).shipments, [(id(P0), 1)]);
}

#[tokio::test]
async fn a_paid_upgrade_cart_ships_the_upgrade_and_the_parent_is_never_charged_again() {
    // Checklist 19, §9.4 step 4: 100 on A plus 20 on B.
    let env = start().await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    let req = UpgradeRequest::new(P0, P1, Decimal::ONE).paid_offline(true);
    let child = env.carts().upgrade(&ctx(), &cart.id, &req).await.unwrap().cart().clone();
    env.carts().checkout(&ctx(), &child.id, &paypal()).await.unwrap();
    assert!(env.probe.confirm_payment(child.id.as_str()));
    let parent = env.carts().get(&ctx(), &cart.id).await.unwrap();
    assert_eq!(parent.lines[0].upgrade.as_ref().map(|u| u.status), Some(UpgradeStatus::Charged));
    assert_eq!(
        (env.session(&cart.id).captured(), env.session(&child.id).captured()),
        (dec("100"), dec("20"))
    );
    assert_eq!(env.session(&cart.id).shipments, [(id(P1), 1)]);
}

#[tokio::test]
async fn an_upgrade_of_an_unknown_or_foreign_session_is_not_found() {
    // Checklist 20, adapter side: the adapter reads the parent first, and the vendor does not
    // know it under this campaign.
    let env = start().await;
    let unknown = CartId::new("00000000-0000-4000-8000-000000000001");
    let req = UpgradeRequest::new(P0, P1, Decimal::ONE).paid_offline(true);
    let err = env.carts().upgrade(&ctx(), &unknown, &req).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    // A session of the client's second campaign.
    let mut other = config(env.server.base_url(), Duration::from_secs(5), CapturePolicy::Remainder);
    other.web_key = demo::WEB_KEY_SECOND.to_string();
    other.progressive = None;
    let second = EmanageAdapter::new(other).unwrap();
    let foreign =
        second.carts().unwrap().create(&ctx(), &NewCart::new(Currency::USD, P0, Decimal::ONE)).await.unwrap();
    let err = env.carts().upgrade(&ctx(), &foreign.id, &req).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
}

// ------------------------------------------------------------------ progressive discount (§8, §9.5)

async fn priced(env: &Env, lines: &[(&str, u32)]) -> loyalty_core::Cart {
    env.cart(lines).await
}

#[tokio::test]
async fn one_qualifying_unit_at_100_costs_75_and_two_cost_50_each() {
    // Checklist 21, §9.5 rows 1-2.
    let env = start().await;
    let one = priced(&env, &[("918501", 1)]).await;
    assert_eq!((one.lines[0].discount, one.total), (usd("25.00"), usd("75.00")));
    let two =
        env.carts().set_quantity(&ctx(), &one.id, &LineId::new("918501"), Decimal::from(2)).await.unwrap();
    assert_eq!((two.lines[0].discount, two.total), (usd("100.00"), usd("100.00")));
}

#[tokio::test]
async fn two_qualifying_products_reach_the_second_tier_together() {
    // §9.5 row 3: 50 + 30 off.
    let env = start().await;
    let c = priced(&env, &[("918501", 1), ("918502", 1)]).await;
    let off: Vec<Money> = c.lines.iter().map(|l| l.discount).collect();
    assert_eq!((off, c.total), (vec![usd("50.00"), usd("30.00")], usd("80.00")));
}

#[tokio::test]
async fn three_units_stay_on_the_highest_tier_reached() {
    // §9.5 row 4.
    let env = start().await;
    let c = priced(&env, &[("918501", 3)]).await;
    assert_eq!((c.lines[0].discount, c.total), (usd("150.00"), usd("150.00")));
}

#[tokio::test]
async fn three_at_33_33_get_exactly_50_off_and_pay_49_99() {
    // Checklist 22, §9.5 row 5: half-up once on the line total.
    let env = start().await;
    let c = priced(&env, &[("918503", 3)]).await;
    assert_eq!((c.lines[0].discount, c.total), (usd("50.00"), usd("49.99")));
}

#[tokio::test]
async fn a_product_outside_the_discount_is_neither_discounted_nor_counted() {
    // §9.5 row 6: 25 % on the one qualifying unit.
    let env = start().await;
    let c = priced(&env, &[("918501", 1), ("918504", 1)]).await;
    assert_eq!((c.lines[1].discount, c.total), (usd("0.00"), usd("135.00")));
}

#[tokio::test]
async fn upgrading_one_discounted_unit_keeps_the_tier() {
    // Checklist 23: the upgraded unit counts as the unit it replaced.
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[("918501", 2)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade(&cart.id, "918501", P1, 1).await.unwrap();
    let UpgradeOutcome::Charged { cart: after, amount } = outcome else { panic!("{outcome:?}") };
    assert_eq!(amount, usd("20.00"));
    let rest = after.line_of(&ProductId::new("918501")).unwrap();
    let head = after.line_of(&ProductId::new(P1)).unwrap();
    assert_eq!((rest.discount, head.discount), (usd("50.00"), usd("50.00")), "still 50 % on both units");
    assert_eq!(head.net, usd("70.00"), "120 less the 50 % of the replaced unit");
}

#[tokio::test]
async fn each_product_s_discount_is_rounded_half_up_on_its_own_as_the_vendor_charges() {
    // §8, §9.5: 50 % of 33.33 is 16.665 → 16.67 and of 60.01 is 30.005 → 30.01, each rounded
    // once; one rounding over both lines (46.67) would be a cent short of what is charged.
    let env = start().await;
    assert!(env.probe.set_product_price(demo::WEB_KEY, id("918502"), dec("60.01")));
    let c = priced(&env, &[("918503", 1), ("918502", 1)]).await;
    let lines: Vec<(Money, Money)> = c.lines.iter().map(|l| (l.discount, l.net)).collect();
    assert_eq!(lines, vec![(usd("16.67"), usd("16.66")), (usd("30.01"), usd("30.00"))]);
    assert_eq!(c.total, usd("46.66"));
    let CartCheckout::Paid(order) =
        env.carts().checkout(&ctx(), &c.id, &card(demo::PAN_APPROVE)).await.unwrap()
    else {
        panic!("paid")
    };
    assert_eq!(order.charged, c.total);
    assert_eq!(env.session(&c.id).captured(), dec("46.66"), "the price shown is the price charged");
}

#[tokio::test]
async fn an_upgraded_unit_keeps_its_product_s_rounding_and_the_total_is_what_was_charged() {
    // 3 × 33.33 (5000 off, rounded once for the product) + 1 × 60.01 (30.01 off) pays 79.99.
    // Upgrading one 33.33 unit to 120 leaves it in its product's group: the 5000 splits
    // 33.33 + 16.67, the head nets 120 − 16.67 and the upgrade charges 120 − 33.33.
    let env = start_with(immediate()).await;
    assert!(env.probe.set_product_price(demo::WEB_KEY, id("918502"), dec("60.01")));
    let cart = env.paid_cart(&[("918503", 3), ("918502", 1)], demo::PAN_APPROVE).await;
    assert_eq!(cart.total, usd("79.99"));
    assert_eq!(env.session(&cart.id).captured(), dec("79.99"));
    let outcome = env.upgrade(&cart.id, "918503", P1, 1).await.unwrap();
    let UpgradeOutcome::Charged { cart: after, amount } = outcome else { panic!("{outcome:?}") };
    assert_eq!(amount, usd("86.67"));
    let lines: Vec<(&str, Money, Money)> =
        after.lines.iter().map(|l| (l.product_id.as_str(), l.discount, l.net)).collect();
    assert_eq!(
        lines,
        vec![
            ("918503", usd("33.33"), usd("33.33")),
            (P1, usd("16.67"), usd("103.33")),
            ("918502", usd("30.01"), usd("30.00")),
        ]
    );
    assert_eq!(after.total, usd("166.66"));
    assert_eq!(env.session(&cart.id).captured(), dec("166.66"), "79.99 + 86.67");
}

#[tokio::test]
async fn the_progressive_discount_is_listed_for_guests_and_members_alike() {
    let env = start().await;
    let offers = env.adapter.offers().unwrap();
    let guest = offers.list(&ctx(), None, None).await.unwrap();
    let member = offers.list(&ctx(), Some(&"any-customer".into()), None).await.unwrap();
    assert_eq!(guest, member);
    let OfferKind::ProgressiveDiscount { tiers, products, .. } = &guest[0].kind else { panic!("{guest:?}") };
    assert_eq!(tiers.len(), 2);
    assert_eq!(products.len(), 3);
    assert_eq!(guest[0].reference.as_str(), demo::WEB_KEY, "the offer is the campaign's (§8)");
}

/// An adapter on `env`'s simulator whose progressive discount counts and applies as given.
fn with_rule(env: &mut Env, count: loyalty_emanage::DiscountCount, mode: loyalty_emanage::DiscountMode) {
    let base = config(env.server.base_url(), Duration::from_secs(5), CapturePolicy::Remainder);
    let c = loyalty_emanage::EmanageConfig::builder()
        .with_base_url(base.base_url.as_str())
        .with_cid(base.cid.clone())
        .with_web_key(demo::WEB_KEY)
        .with_currency("USD")
        .with_progressive_tier(1, Decimal::from(25))
        .with_progressive_tier(2, Decimal::from(50))
        .with_progressive_products(["918501", "918502", "918503"])
        .with_progressive_count(count)
        .with_progressive_mode(mode)
        .build()
        .expect("valid config");
    env.adapter = EmanageAdapter::new(c).expect("adapter builds");
}

#[tokio::test]
async fn a_marginal_unit_discount_is_priced_when_configured_and_read_at_the_vendor_s_price_when_not() {
    // §9.5 row 7 (`mode = marginal_unit`, 25 % then 50 %: 125 for two).
    let mut settings = EmanageSettings::default();
    settings.progressive_discount.mode = DiscountMode::MarginalUnit;
    let mut env = start_with(settings).await;
    // Configured as all units, the adapter cannot explain 62.50 a unit: it reads it as sent.
    let cart = priced(&env, &[("918501", 1)]).await;
    let cart =
        env.carts().set_quantity(&ctx(), &cart.id, &LineId::new("918501"), Decimal::from(2)).await.unwrap();
    assert_eq!((cart.lines[0].unit_price, cart.total), (usd("62.50"), usd("125.00")));
    // Configured like the campaign, the discount is explained and attributed.
    with_rule(&mut env, loyalty_emanage::DiscountCount::Units, loyalty_emanage::DiscountMode::MarginalUnit);
    let cart = env.carts().get(&ctx(), &cart.id).await.unwrap();
    let l = &cart.lines[0];
    assert_eq!((l.unit_price, l.discount, cart.total), (usd("100.00"), usd("75.00"), usd("125.00")));
}

#[tokio::test]
async fn a_line_count_discount_is_priced_when_configured() {
    // §9.5 row 8 (`count = lines`: 25 % on a line of two, 150 to pay).
    let mut settings = EmanageSettings::default();
    settings.progressive_discount.count = DiscountCount::Lines;
    let mut env = start_with(settings).await;
    with_rule(&mut env, loyalty_emanage::DiscountCount::Lines, loyalty_emanage::DiscountMode::AllUnits);
    let cart =
        env.carts().create(&ctx(), &NewCart::new(Currency::USD, "918501", Decimal::from(2))).await.unwrap();
    let l = &cart.lines[0];
    assert_eq!((l.unit_price, l.discount, cart.total), (usd("100.00"), usd("50.00"), usd("150.00")));
}

// ------------------------------------------------------------------ never a blind re-send (§10)

#[tokio::test]
async fn a_checkout_whose_reply_is_lost_is_read_back_and_answers_the_order() {
    // Checklist 25: the vendor charged, the reply broke; the adapter reads the cart back and
    // never posts the checkout again.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    env.handle().inject("POST", &env.cart_path("/checkout"), loyalty_sim::Fault::TruncatedBody, Some(1));
    let answer = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap();
    assert!(matches!(answer, CartCheckout::Paid(_)), "{answer:?}");
    assert_eq!(env.journal().count("POST", &env.cart_path("/checkout")), 1);
    assert_eq!(env.session(&cart.id).captured(), dec("100"));
}

#[tokio::test]
async fn a_checkout_that_never_reached_the_vendor_reads_back_open_and_says_nothing_was_charged_so_far() {
    // Checklist 25: after a 503 the cart is read back before anything else. Open says nothing
    // was charged so far; a gateway's 503 or a timeout does not say the request stopped at a
    // live vendor, so the effect stays unknown and nothing is re-sent by the adapter.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    env.handle().inject("POST", &env.cart_path("/checkout"), loyalty_sim::Fault::Status(503), Some(1));
    let err = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap_err();
    assert_eq!((err.kind(), err.effect()), (&ErrorKind::Unavailable, WriteEffect::Unknown), "{err}");
    assert!(err.message().contains("nothing was charged so far"), "{err}");
    assert_eq!(env.journal().count("POST", &env.cart_path("/checkout")), 1, "no blind re-send");
    assert_eq!(env.session(&cart.id).status, SessionStatus::Open);
    // Checking out again is safe and pays once.
    assert!(matches!(
        env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap(),
        CartCheckout::Paid(_)
    ));
    assert_eq!(env.session(&cart.id).captured(), dec("100"));
}

#[tokio::test]
async fn a_checkout_that_times_out_is_never_sent_twice() {
    // Checklist 25 with a vendor that never answers: the attempt times out and the write is
    // not retried.
    let env =
        start_full(EmanageSettings::default(), Duration::from_millis(300), CapturePolicy::Remainder).await;
    let cart = env.cart(&[(P0, 1)]).await;
    env.handle().inject("POST", &env.cart_path("/checkout"), loyalty_sim::Fault::Hang, Some(1));
    let err = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
    assert_eq!(env.journal().count("POST", &env.cart_path("/checkout")), 1);
}

#[tokio::test]
async fn a_checkout_the_vendor_makes_after_the_timeout_is_answered_when_asked_again_and_charged_once() {
    // Checklist 25, §10 with the vendor acting after the adapter gave up: the reply is delayed
    // past the 300 ms attempt timeout and the charge happens after it. The adapter cannot know:
    // the effect is unknown and nothing is re-sent. Once the vendor has charged, the caller's
    // checkout again answers that order (the cart reads Paid) and nothing is charged twice.
    let env =
        start_full(EmanageSettings::default(), Duration::from_millis(300), CapturePolicy::Remainder).await;
    let cart = env.cart(&[(P0, 1)]).await;
    let late = loyalty_sim::Fault::Latency(Duration::from_millis(900));
    env.handle().inject("POST", &env.cart_path("/checkout"), late, Some(1));
    let err = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap_err();
    assert_eq!((err.kind(), err.effect()), (&ErrorKind::Unavailable, WriteEffect::Unknown), "{err}");
    let mut charged = false;
    for _ in 0..100 {
        if env.session(&cart.id).status == SessionStatus::Paid {
            charged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(charged, "the vendor carried the checkout out");
    assert_eq!(env.journal().count("POST", &env.cart_path("/checkout")), 1, "sent once");
    let again = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap();
    assert!(matches!(again, CartCheckout::Paid(_)), "{again:?}");
    assert_eq!(env.session(&cart.id).captured(), dec("100"), "charged once");
}

#[tokio::test]
async fn an_upgrade_whose_reply_is_lost_is_read_back_and_never_added_twice() {
    // Checklist 25 for an upgrade `add`.
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    env.handle().inject("POST", &env.cart_path("/add"), loyalty_sim::Fault::TruncatedBody, Some(1));
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    assert!(
        matches!(outcome, UpgradeOutcome::Charged { amount, .. } if amount == usd("20.00")),
        "{outcome:?}"
    );
    assert_eq!(env.journal().count("POST", &env.cart_path("/add")), 1);
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")]);
}

#[tokio::test]
async fn an_upgrade_that_never_reached_the_vendor_says_nothing_was_charged() {
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    env.handle().inject("POST", &env.cart_path("/add"), loyalty_sim::Fault::DropConnection, Some(1));
    let err = env.upgrade(&cart.id, P0, P1, 1).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert!(err.message().contains("nothing was charged so far"), "{err}");
    assert_eq!(env.journal().count("POST", &env.cart_path("/add")), 1);
    assert!(upgrade_captures(&env.session(&cart.id)).is_empty());
}

#[tokio::test]
async fn each_operation_makes_only_the_calls_it_needs() {
    // A read is the cart and the price list (the cart shows discounted unit prices only);
    // a change is the change plus a read, reusing the price list the operation already has.
    let env = start_with(immediate()).await;
    let calls = |env: &Env| env.journal().entries().len();
    let before = calls(&env);
    let cart = env.carts().create(&ctx(), &NewCart::new(Currency::USD, P0, Decimal::ONE)).await.unwrap();
    assert_eq!(calls(&env) - before, 3, "price list, new, cart");
    let before = calls(&env);
    env.carts().get(&ctx(), &cart.id).await.unwrap();
    assert_eq!(calls(&env) - before, 2, "cart, price list");
    let before = calls(&env);
    env.carts().add_line(&ctx(), &cart.id, &ProductId::new("918504"), Decimal::ONE).await.unwrap();
    assert_eq!(calls(&env) - before, 4, "cart, price list, add, cart");
    env.carts().set_customer(&ctx(), &cart.id, &customer()).await.unwrap();
    let before = calls(&env);
    env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap();
    // The cart read back after the charge says what was charged (the reply carries no amount).
    assert_eq!(calls(&env) - before, 4, "cart, price list, checkout, cart");
    let before = calls(&env);
    env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    assert_eq!(calls(&env) - before, 4, "cart, price list, add, cart");
}

// ------------------------------------------------------------------ audit findings

/// Settings whose cart GET carries the contract's five line fields only (`cart_extras` off).
fn bare(mut settings: EmanageSettings) -> EmanageSettings {
    settings.cart_extras = false;
    settings
}

#[tokio::test]
async fn an_offline_upgrade_without_cart_extras_answers_the_new_cart_naming_the_paid_one() {
    // §7.2 rule 7, §9.4 step 2a on the contract's fields only: the difference line (918446 at
    // 20) is read at the vendor's price and the new cart's id reaches the caller.
    let env = start_with(bare(EmanageSettings::default())).await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    let req = UpgradeRequest::new(P0, P1, Decimal::ONE).paid_offline(true);
    let outcome = env.carts().upgrade(&ctx(), &cart.id, &req).await.unwrap();
    let UpgradeOutcome::PaymentRequired { cart: child, amount, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!((amount, child.upgrade_parent.clone()), (usd("20.00"), Some(cart.id.clone())));
    assert_eq!(env.session(&child.id).upgrade_parent_session_id.as_deref(), Some(cart.id.as_str()));
    assert_eq!(
        child.lines.iter().map(|l| (l.product_id.as_str(), l.net)).collect::<Vec<_>>(),
        vec![(P1, usd("20.00"))]
    );
    // The customer can pay it.
    let answer = env.carts().checkout(&ctx(), &child.id, &paypal()).await.unwrap();
    assert!(matches!(answer, CartCheckout::ActionRequired { .. }), "{answer:?}");
}

#[tokio::test]
async fn a_same_session_upgrade_without_cart_extras_is_taken_and_pending() {
    // Only `products[]`: the line became 918446 at the vendor's price; the charge is not shown.
    let env = start_with(bare(immediate())).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade_sold_as(&cart.id, P0, P0, P1, 1).await.unwrap();
    let UpgradeOutcome::Pending { cart: after, amount } = outcome else { panic!("{outcome:?}") };
    assert_eq!((amount, after.total), (usd("20.00"), usd("120.00")));
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")]);
}

#[tokio::test]
async fn an_open_cart_follows_a_campaign_price_change_and_checks_out_at_it() {
    // §1 and §6.4 notes: the vendor re-prices an open cart from the campaign; the adapter
    // reads the new price and the checkout charges it.
    let env = start().await;
    let cart = env.cart(&[(P0, 1), ("918501", 1)]).await;
    assert_eq!(cart.total, usd("175.00"));
    assert!(env.probe.set_product_price(demo::WEB_KEY, id(P0), dec("90")));
    assert!(env.probe.set_product_price(demo::WEB_KEY, 918_501, dec("80")));
    let cart = env.carts().get(&ctx(), &cart.id).await.unwrap();
    assert_eq!(cart.total, usd("150.00"), "90 + 80 less 25 %");
    let answer = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap();
    let CartCheckout::Paid(order) = answer else { panic!("{answer:?}") };
    assert_eq!(order.charged, usd("150.00"));
    assert_eq!(env.session(&cart.id).captured(), dec("150"));
}

#[tokio::test]
async fn a_throttled_checkout_is_not_sent_again_and_answers_rate_limited() {
    // §10: a charging call is retried only after a connect error before it was sent.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let fault = loyalty_sim::Fault::TooManyRequests { retry_after_secs: 1 };
    env.handle().inject("POST", &env.cart_path("/checkout"), fault, Some(1));
    let err = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert!(err.is_temporary(), "the caller may repeat it later");
    assert_eq!(env.journal().count("POST", &env.cart_path("/checkout")), 1);
    assert_eq!(env.session(&cart.id).status, SessionStatus::Open);
}

#[tokio::test]
async fn a_throttled_upgrade_is_not_sent_again_nor_an_offline_upgrade_cart() {
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let fault = loyalty_sim::Fault::TooManyRequests { retry_after_secs: 1 };
    env.handle().inject("POST", &env.cart_path("/add"), fault.clone(), Some(1));
    let err = env.upgrade(&cart.id, P0, P1, 1).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }), "{err}");
    assert_eq!(env.journal().count("POST", &env.cart_path("/add")), 1);
    let offline = env.paid_offline(&[(P0, 1)]).await;
    let news = env.journal().count("POST", &env.cart_path("/new"));
    env.handle().inject("POST", &env.cart_path("/new"), fault, Some(1));
    let req = UpgradeRequest::new(P0, P1, Decimal::ONE).paid_offline(true);
    let err = env.carts().upgrade(&ctx(), &offline.id, &req).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }), "{err}");
    assert_eq!(env.journal().count("POST", &env.cart_path("/new")), news + 1);
}

#[tokio::test]
async fn a_throttled_plain_line_is_still_retried() {
    // Adding a line charges nothing: a 429 refused it before acting, so it is sent again.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let fault = loyalty_sim::Fault::TooManyRequests { retry_after_secs: 0 };
    env.handle().inject("POST", &env.cart_path("/add"), fault, Some(1));
    env.carts().add_line(&ctx(), &cart.id, &ProductId::new("918504"), Decimal::ONE).await.unwrap();
    assert_eq!(env.journal().count("POST", &env.cart_path("/add")), 2);
}

#[tokio::test]
async fn a_downgrade_within_the_funnel_window_is_charged_nothing_at_once() {
    // Checklist 14 with the default settings: the result of the upgrade is the capture of 0.
    let env = start().await;
    let cart = env.paid_cart(&[(P1, 1)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade(&cart.id, P1, P0, 1).await.unwrap();
    assert!(
        matches!(outcome, UpgradeOutcome::Charged { amount, .. } if amount == usd("0.00")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn upgrades_within_the_funnel_window_are_charged_when_it_ends() {
    // Checklists 11 and 16 with the default settings: 20 and 40 are captured once the window
    // (`upgrade_capture_delay_secs`, 600 s) has passed; the cart then shows them charged.
    let env = start().await;
    let one = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let two = env.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    env.upgrade(&one.id, P0, P1, 1).await.unwrap();
    env.upgrade(&two.id, P0, P1, 2).await.unwrap();
    env.advance(600);
    assert_eq!(upgrade_captures(&env.session(&one.id)), [dec("20")]);
    assert_eq!(upgrade_captures(&env.session(&two.id)), [dec("40")]);
    let head = env.carts().get(&ctx(), &one.id).await.unwrap().lines[0].clone();
    assert_eq!(
        (head.product_id.as_str(), head.upgrade.map(|u| u.status)),
        (P1, Some(UpgradeStatus::Charged))
    );
}

#[tokio::test]
async fn a_concurrent_second_checkout_answers_the_first_one_s_order() {
    // docs/architecture.md: the same checkout twice at once gives one charge; the loser's 409 is read
    // back and answered with the order the cart shows.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    // Whichever checkout reaches the vendor first waits there a moment; the other pays.
    let hold = loyalty_sim::Fault::Latency(Duration::from_millis(300));
    env.handle().inject("POST", &env.cart_path("/checkout"), hold, Some(1));
    let (pay, first, second) = (card(demo::PAN_APPROVE), ctx(), ctx());
    let (a, b) = tokio::join!(
        env.carts().checkout(&first, &cart.id, &pay),
        env.carts().checkout(&second, &cart.id, &pay)
    );
    let (CartCheckout::Paid(a), CartCheckout::Paid(b)) = (a.unwrap(), b.unwrap()) else {
        panic!("both paid")
    };
    assert_eq!(a.order_id, b.order_id);
    assert_eq!(env.journal().count("POST", &env.cart_path("/checkout")), 2, "both reached the vendor");
    assert_eq!(env.session(&cart.id).captured(), dec("100"));
}

#[tokio::test]
async fn a_cart_waiting_on_3_d_secure_answers_its_continuation_again() {
    // A second checkout (the customer's return, a double click) answers the same page.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    let first = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_3DS)).await.unwrap();
    let CartCheckout::ActionRequired { action: a, .. } = first else { panic!("{first:?}") };
    let again = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_3DS)).await.unwrap();
    let CartCheckout::ActionRequired { action: b, .. } = again else { panic!("{again:?}") };
    assert!(a.url.is_some(), "{a:?}");
    assert_eq!((b.kind, b.url), (a.kind, a.url));
    assert_eq!(env.journal().count("POST", &env.cart_path("/checkout")), 1);
}

#[tokio::test]
async fn a_line_added_to_a_test_cart_is_a_test_line() {
    // §11: `behaviorId=2` on `new` and `add` for a test cart, whatever the configuration says.
    let env = start().await;
    let cart = env.cart(&[(P0, 1)]).await;
    assert!(!env.adapter.config().test_mode);
    env.carts().add_line(&ctx(), &cart.id, &ProductId::new("918504"), Decimal::ONE).await.unwrap();
    let add = env.journal().entries().into_iter().find(|e| e.method == "POST" && e.path.ends_with("/add"));
    let query = add.and_then(|e| e.query).unwrap_or_default();
    assert!(query.contains("behaviorId=2"), "{query}");
}

// ------------------------------------------------------------------ upgrades at default settings

/// The cart's lines as (product, quantity, upgrade status).
fn upgrade_lines(cart: &loyalty_core::Cart) -> Vec<(&str, Decimal, Option<UpgradeStatus>)> {
    cart.lines
        .iter()
        .map(|l| (l.product_id.as_str(), l.quantity, l.upgrade.as_ref().map(|u| u.status)))
        .collect()
}

#[tokio::test]
async fn at_default_settings_the_upgrade_answers_pending_twenty_and_the_window_captures_twenty() {
    // Checklist 11, §9.1, default settings (600 s window): the answer is `Pending` naming the
    // 20 the vendor will capture, the line is 918446 already; nothing is captured and
    // 918325 still ships until the window ends; then exactly 20 is captured and 918446 ships.
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    let UpgradeOutcome::Pending { cart: after, amount } = outcome else { panic!("{outcome:?}") };
    assert_eq!(amount, usd("20.00"), "the answer names the 20 to be charged");
    assert_eq!(after.id, cart.id, "the session id stays A");
    assert_eq!(upgrade_lines(&after), vec![(P1, Decimal::ONE, Some(UpgradeStatus::Pending))]);
    assert_eq!(after.lines[0].upgrade.as_ref().map(|u| u.from.as_str()), Some(P0));
    let view = env.session(&cart.id);
    assert_eq!((upgrade_captures(&view), view.captured()), (vec![], dec("100")));
    assert_eq!(view.shipments, [(id(P0), 1)], "an uncharged preview does not ship");
    env.advance(600);
    let view = env.session(&cart.id);
    assert_eq!(upgrade_captures(&view), [dec("20")]);
    assert_eq!(view.captured(), dec("120"));
    assert_eq!(view.shipments, [(id(P1), 1)]);
    let now = env.carts().get(&ctx(), &cart.id).await.unwrap();
    assert_eq!(upgrade_lines(&now), vec![(P1, Decimal::ONE, Some(UpgradeStatus::Charged))]);
    assert_eq!(now.total, usd("120.00"));
}

#[tokio::test]
async fn at_default_settings_a_step_after_a_charged_step_captures_the_remainder() {
    // Checklist 13, §9.2 second row, default settings: P0 → P1, 600 s (20 captured), P1 → P2,
    // 600 s: captures [20, 20], chain total 40; each answer names the 20 it will capture.
    let env = start().await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let first = env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    assert!(matches!(first, UpgradeOutcome::Pending { amount, .. } if amount == usd("20.00")), "{first:?}");
    env.advance(600);
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")]);
    let second = env.upgrade(&cart.id, P1, P2, 1).await.unwrap();
    let UpgradeOutcome::Pending { cart: after, amount } = second else { panic!("{second:?}") };
    assert_eq!(amount, usd("20.00"), "only the remainder 140 − 120");
    assert_eq!(upgrade_lines(&after), vec![(P2, Decimal::ONE, Some(UpgradeStatus::Pending))]);
    assert_eq!(after.lines[0].upgrade.as_ref().map(|u| u.from.as_str()), Some(P0), "the chain's origin");
    env.advance(600);
    let view = env.session(&cart.id);
    assert_eq!(upgrade_captures(&view), [dec("20"), dec("20")]);
    assert_eq!(view.upgrades[0].captured, dec("40"), "chain total = last − first");
    assert_eq!(view.captured(), dec("140"));
    assert_eq!(view.shipments, [(id(P2), 1)], "918446 never ships once superseded");
    let now = env.carts().get(&ctx(), &cart.id).await.unwrap();
    assert_eq!(upgrade_lines(&now), vec![(P2, Decimal::ONE, Some(UpgradeStatus::Charged))]);
}

#[tokio::test]
async fn an_upgrade_of_the_upgraded_unit_above_its_quantity_names_upgrade_preview_quantity() {
    // Checklist 15: 918325 × 2 paid, one unit upgraded to 918446; upgrading 2 units of the
    // 918446 line (it holds 1) is `Invalid` naming `upgradePreviewQuantity`, and nothing moves.
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    let err = env.upgrade(&cart.id, P1, P2, 2).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "upgradePreviewQuantity"),
        "{err}"
    );
    let view = env.session(&cart.id);
    assert_eq!(view.lines, [(id(P0), 1), (id(P1), 1)]);
    assert_eq!(upgrade_captures(&view), [dec("20")]);
}

#[tokio::test]
async fn an_upgrade_add_that_times_out_is_read_back_once_and_says_nothing_was_charged_so_far() {
    // Checklist 25: the vendor never answers the upgrade `add` (300 ms attempt timeout). The
    // adapter sends it once, reads the cart back after it, and says nothing was charged so far
    // with effect `Unknown` (the request may still run).
    let env = start_full(immediate(), Duration::from_millis(300), CapturePolicy::Remainder).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let before = env.journal().entries().len();
    env.handle().inject("POST", &env.cart_path("/add"), loyalty_sim::Fault::Hang, Some(1));
    let err = env.upgrade(&cart.id, P0, P1, 1).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
    assert!(err.message().contains("nothing was charged so far"), "{err}");
    let calls: Vec<(String, String, Option<String>)> = env.journal().entries()[before..]
        .iter()
        .map(|e| (e.method.clone(), e.path.clone(), e.query.clone()))
        .collect();
    let adds: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, (m, p, _))| m == "POST" && p == &env.cart_path("/add"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(adds.len(), 1, "one POST /add: {calls:?}");
    let read_back = calls[adds[0] + 1..].iter().any(|(m, p, q)| {
        m == "GET"
            && p == &env.cart_path("")
            && q.as_deref().is_some_and(|q| q.contains(&format!("sessionId={}", cart.id.as_str())))
    });
    assert!(read_back, "the cart is read back after the add: {calls:?}");
    let view = env.session(&cart.id);
    assert_eq!((view.lines.clone(), upgrade_captures(&view).len()), (vec![(id(P0), 1)], 0));
}

#[tokio::test]
async fn test_carts_opened_or_added_to_by_the_adapter_are_test_rows_in_the_export() {
    // Checklist 4: a test cart is opened with `behaviorId: 2` in body and query (§7.1); a live
    // cart gets `add?…&behaviorId=2` from an adapter in test mode. Both, paid, are `test` in
    // the reporting export (§11, §12); a live cart is not.
    let env = start().await;
    let opened = env.cart(&[(P0, 1)]).await;
    let new =
        env.journal().entries().into_iter().find(|e| e.method == "POST" && e.path == env.cart_path("/new"));
    let new = new.expect("the cart was opened by `new`");
    assert!(new.query.as_deref().is_some_and(|q| q.contains("behaviorId=2")), "{new:?}");
    let body: serde_json::Value = serde_json::from_str(&new.body).expect("a JSON body");
    assert_eq!(body["behaviorId"], 2, "{body}");
    let live = env.carts().create(&ctx(), &NewCart::new(Currency::USD, P0, Decimal::ONE)).await.unwrap();
    let plain = env.carts().create(&ctx(), &NewCart::new(Currency::USD, P0, Decimal::ONE)).await.unwrap();
    assert!(!env.session(&live.id).test);
    let mut c = config(env.server.base_url(), Duration::from_secs(5), CapturePolicy::Remainder);
    c.test_mode = true;
    let tester = EmanageAdapter::new(c).unwrap();
    tester
        .carts()
        .unwrap()
        .add_line(&ctx(), &live.id, &ProductId::new("918504"), Decimal::ONE)
        .await
        .unwrap();
    assert!(env.session(&live.id).test);
    for cart in [&opened.id, &live.id, &plain.id] {
        env.carts().set_customer(&ctx(), cart, &customer()).await.unwrap();
        let answer = env.carts().checkout(&ctx(), cart, &card(demo::PAN_APPROVE)).await.unwrap();
        assert!(matches!(answer, CartCheckout::Paid(_)), "{answer:?}");
    }
    let http = reqwest::Client::new();
    let base = env.server.base_url();
    let auth = http
        .post(format!("{base}/auth"))
        .basic_auth(demo::REPORTING_USER, Some(demo::REPORTING_PASSWORD))
        .send()
        .await
        .unwrap();
    let token: serde_json::Value = auth.json().await.unwrap();
    let token = token["token"].as_str().expect("a token").to_string();
    let day = env.clock.now().date_naive();
    let export: serde_json::Value = http
        .get(format!("{base}/order/export/1/10?StartDate={day}&EndDate={day}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csv = http.get(export["link"].as_str().expect("a link")).send().await.unwrap().text().await.unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (cart_col, test_col) = (col("shoppingCartNumber"), col("test"));
    let flag = |cart: &CartId| {
        let number = env.session(cart).shopping_cart_number.expect("numbered").to_string();
        let row =
            csv.lines().skip(1).map(|r| r.split(',').collect::<Vec<_>>()).find(|r| r[cart_col] == number);
        row.unwrap_or_else(|| panic!("{cart}: {csv}"))[test_col].to_string()
    };
    assert_eq!(
        (flag(&opened.id), flag(&live.id), flag(&plain.id)),
        ("true".into(), "true".into(), "false".into()),
        "{csv}"
    );
}
