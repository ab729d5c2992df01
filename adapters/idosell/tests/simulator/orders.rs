//! G3, G4, G7, G9 around orders, and sales sent as orders (§5; checklist 14-19).

use chrono::Duration as Days;
use loyalty_core::{
    checkout::{Checkout, CheckoutRequest, Delivery, SimulatedPayment},
    Basket, Currency, ErrorKind, Line, MemberId, MemberLookup, Money, OrderId, Provider, SendOutcome,
    Transaction, TransactionId, TransactionLine, WriteEffect,
};
use loyalty_idosell::simulated;
use loyalty_sim::idosell::demo;
use loyalty_sim::Fault;
use rust_decimal::Decimal;

use crate::common::*;

#[tokio::test]
async fn the_same_reference_twice_is_one_order_said_to_be_a_duplicate_reserving_once() {
    // Checklist 16.
    let env = start().await;
    let f = env.fulfilment();
    let first = f.place_order(&ctx(), &coffee_order("SHOP-8812")).await.unwrap();
    let again = f.place_order(&ctx(), &coffee_order("SHOP-8812")).await.unwrap();
    assert_eq!(again.order_id, first.order_id);
    assert!(!first.duplicate && again.duplicate);
    assert_eq!(env.sim.probe.reserved(demo::COFFEE_INTERNAL), Some(dec("2")));
    // 2 × 34.99 + 15.00 + 0.50 × 1.1 kg = 85.53.
    assert_eq!(first.total, Some(Money::new(8553, Currency::PLN)));
}

/// `quantity` mugs to Anna Nowak in Warsaw with the domestic courier under `reference`.
fn mug_order(reference: &str, quantity: &str) -> loyalty_core::DropshipOrder {
    loyalty_core::DropshipOrder::new(
        reference,
        simulated::demo_recipient(),
        demo::COURIER_DOMESTIC.to_string(),
    )
    .with_line(demo::MUG_INTERNAL, dec(quantity))
}

#[tokio::test]
async fn a_repeat_whose_stock_the_first_placement_took_is_still_the_duplicate() {
    // Checklist 16 and the trait: placing the same reference again answers the earlier order.
    // 21 of 40 mugs are reserved by the first placement, so G3 finds the repeat's 21 short
    // (per-line fault 7) before G4 could recognise the reference; G7 finds the earlier order.
    let env = start().await;
    let f = env.fulfilment();
    let first = f.place_order(&ctx(), &mug_order("SHOP-MUGS", "21")).await.unwrap();
    assert_eq!(env.sim.probe.stock(demo::MUG_INTERNAL), Some(dec("19")));
    let again = f.place_order(&ctx(), &mug_order("SHOP-MUGS", "21")).await.unwrap();
    assert_eq!(again.order_id, first.order_id);
    assert!(!first.duplicate && again.duplicate);
    assert_eq!(again.total, first.total, "the earlier order as G7 reports it");
    assert_eq!(env.sim.probe.reserved(demo::MUG_INTERNAL), Some(dec("21")), "reserved once");
    assert_eq!(env.sim.probe.orders(demo::LOGIN).len(), 2, "the seeded order and one placement");
    assert_eq!(env.routes(), ["G1", "G3", "G4", "G3", "G7"], "the repeat never reaches G4");

    // A product withdrawn since (no stock at all) is the same: the earlier order is answered.
    env.sim.probe.set_stock(demo::MUG_INTERNAL, Decimal::ZERO);
    let third = f.place_order(&ctx(), &mug_order("SHOP-MUGS", "21")).await.unwrap();
    assert_eq!((third.order_id, third.duplicate), (first.order_id, true));
}

#[tokio::test]
async fn a_refused_line_of_a_new_reference_is_still_refused_after_the_lookup() {
    // The lookup of a refused placement finds nothing (G7 faultCode 2): the refusal stands.
    let env = start().await;
    let err = env.fulfilment().place_order(&ctx(), &mug_order("SHOP-TOO-MANY", "41")).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Rejected, Some("7")), "{err}");
    assert_eq!(err.effect(), WriteEffect::RejectedBeforeActing);
    assert!(err.message().starts_with("lines[0]"), "{err}");
    assert_eq!(env.routes(), ["G1", "G3", "G7"]);
}

#[tokio::test]
async fn a_resent_sale_whose_stock_is_gone_is_already_recorded() {
    // `send` of the same transaction id again: `AlreadyRecorded`, not "insufficient stock".
    let env = start().await;
    let t = env.adapter().transactions().unwrap();
    let tx = sale_of("Order-MUGS", &env.sim.member_id, demo::MUG_INTERNAL, 21, 2499);
    let first = t.send(&ctx(), &tx).await.unwrap();
    assert_eq!(first.outcome, SendOutcome::Recorded);
    let again = t.send(&ctx(), &tx).await.unwrap();
    assert_eq!(again.outcome, SendOutcome::AlreadyRecorded);
    assert_eq!(again.provider_ref, first.provider_ref);
    assert_eq!(env.count("G4"), 1);
    assert_eq!(env.sim.probe.reserved(demo::MUG_INTERNAL), Some(dec("21")));
}

#[tokio::test]
async fn a_wholesaler_that_refuses_a_known_reference_still_answers_the_earlier_order() {
    // §9.4 alternative `reject`: G4 answers faultCode 5 for a known reference; the adapter
    // finds the earlier order with G7 and answers it as the duplicate.
    let env = start_with(settings(serde_json::json!({"duplicate_order_reference": "reject"}))).await;
    let f = env.fulfilment();
    let first = f.place_order(&ctx(), &coffee_order("SHOP-REJ")).await.unwrap();
    let again = f.place_order(&ctx(), &coffee_order("SHOP-REJ")).await.unwrap();
    assert_eq!((&again.order_id, again.duplicate), (&first.order_id, true));
    assert_eq!(env.routes(), ["G1", "G3", "G4", "G3", "G4", "G7"]);
    assert_eq!(env.sim.probe.reserved(demo::COFFEE_INTERNAL), Some(dec("2")));
    // A courier refusal of a new reference is looked up, found nowhere, and stays a refusal.
    let abroad_only = loyalty_core::DropshipOrder::new(
        "SHOP-REJ-DHL",
        simulated::demo_recipient(),
        demo::COURIER_INTERNATIONAL.to_string(),
    )
    .with_line(demo::COFFEE_INTERNAL, dec("1"));
    let err = f.place_order(&ctx(), &abroad_only).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Rejected, Some("8")), "{err}");
}

#[tokio::test]
async fn a_refusal_whose_lookup_fails_is_not_final() {
    // G3 refuses the repeat's line and G7 fails (faultCode 4): whether an earlier order holds
    // the reference is unknown, so the refusal is not reported as final; the lookup's error
    // comes back, effect `NotSent` (nothing was placed by this call), naming both causes.
    let env = start().await;
    let f = env.fulfilment();
    f.place_order(&ctx(), &mug_order("SHOP-MUGS-2", "21")).await.unwrap();
    env.sim.probe.fail_call(loyalty_sim::idosell::Gateway::GetOrderStatus, 1, 4);
    let err = f.place_order(&ctx(), &mug_order("SHOP-MUGS-2", "21")).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Forbidden, Some("4")), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert!(err.message().contains("rejected [7]"), "{err}");
    assert!(err.message().contains("SHOP-MUGS-2"), "{err}");
    // Asked again once G7 answers, the earlier order comes back.
    let again = f.place_order(&ctx(), &mug_order("SHOP-MUGS-2", "21")).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(env.count("G4"), 1);
}

#[tokio::test]
async fn a_repeated_import_leaves_one_copy_of_each_line() {
    // Checklist 14: the import replaces the basket; the duplicate placement leaves it as sent.
    let env = start().await;
    let f = env.fulfilment();
    f.place_order(&ctx(), &coffee_order("SHOP-1")).await.unwrap();
    f.place_order(&ctx(), &coffee_order("SHOP-1")).await.unwrap();
    f.place_order(&ctx(), &coffee_order("SHOP-1")).await.unwrap();
    let basket = env.sim.probe.basket(demo::LOGIN).unwrap();
    assert_eq!(basket, vec![(demo::COFFEE_INTERNAL.to_string(), dec("2"))]);
}

#[tokio::test]
async fn an_order_needs_lines_and_a_courier_allowed_for_basket_and_address() {
    // Checklist 15: no lines is refused before sending (G4 would answer 9); a courier not
    // offered for the address answers 8.
    let env = start().await;
    let f = env.fulfilment();
    let empty = loyalty_core::DropshipOrder::new("SHOP-EMPTY", simulated::demo_recipient(), "10");
    let err = f.place_order(&ctx(), &empty).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "lines"), "{err}");
    assert!(env.routes().is_empty());
    let abroad_only = loyalty_core::DropshipOrder::new(
        "SHOP-DHL",
        simulated::demo_recipient(),
        demo::COURIER_INTERNATIONAL.to_string(),
    )
    .with_line(demo::COFFEE_INTERNAL, dec("1"));
    let err = f.place_order(&ctx(), &abroad_only).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Rejected, Some("8")));
}

#[tokio::test]
async fn a_line_the_basket_refuses_stops_the_order() {
    // §6.1: G3 answers a per-line fault with a top-level 0; placing the rest would ship
    // another order than the one asked for.
    let env = start().await;
    let order = coffee_order("SHOP-PART").with_line("NO-SUCH-CODE", dec("1"));
    let err = env.fulfilment().place_order(&ctx(), &order).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Rejected, Some("6")));
    assert!(err.message().starts_with("lines[1]"), "{err}");
    assert_eq!(env.count("G4"), 0);
}

#[tokio::test]
async fn an_order_to_a_pickup_point_with_cash_on_delivery_and_a_date() {
    // §5 G4: delivery with pickup point, COD and a preferred date; billing from configuration.
    let env = start().await;
    let tomorrow = env.clock.now().date_naive() + Days::days(1);
    let order = loyalty_core::DropshipOrder::new(
        "SHOP-PICKUP",
        simulated::demo_recipient(),
        demo::COURIER_PICKUP.to_string(),
    )
    .with_line(demo::COFFEE_INTERNAL, dec("1"))
    .with_pickup_point(demo::PICKUP_POINT)
    .with_cash_on_delivery(Money::new(5000, Currency::PLN))
    .with_preferred_date(tomorrow)
    .with_note("Proszę o fakturę");
    env.fulfilment().place_order(&ctx(), &order).await.unwrap();
    let body = &env.entries("G4")[0].body;
    for part in [
        "<pickupPointId xsi:type=\"xsd:string\">WAW01M</pickupPointId>",
        "<cashOnDelivery xsi:type=\"xsd:float\">50</cashOnDelivery>",
        "<taxId xsi:type=\"xsd:string\">5260250274</taxId>",
    ] {
        assert!(body.contains(part), "{part} missing in {body}");
    }
    let err = env
        .fulfilment()
        .place_order(
            &ctx(),
            &coffee_order("SHOP-COD-EUR").with_cash_on_delivery(Money::new(5000, Currency::EUR)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "cash_on_delivery"));
}

#[tokio::test]
async fn a_new_order_is_new_and_after_dispatch_carries_its_shipments() {
    // Checklist 17.
    let env = start().await;
    let f = env.fulfilment();
    let placed = f.place_order(&ctx(), &coffee_order("SHOP-17")).await.unwrap();
    let new = f.order_status(&ctx(), &placed.order_id).await.unwrap();
    assert_eq!((new.status.as_str(), new.dispatched), ("new", false));
    assert_eq!(new.reference.as_deref(), Some("SHOP-17"));
    env.sim.probe.dispatch_order(placed.order_id.as_str(), 2).unwrap();
    let sent = f.order_status(&ctx(), &placed.order_id).await.unwrap();
    assert_eq!(sent.status, "wait_for_receive");
    assert!(sent.dispatched);
    assert_eq!(sent.shipments, env.sim.probe.shipment_numbers(placed.order_id.as_str()).unwrap());
    assert_eq!(sent.shipments.len(), 2);
    assert_eq!(sent.dispatched_at, Some(env.clock.now()));
    let err = f.order_status(&ctx(), &OrderId::new("W-1999-000001")).await.unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test]
async fn a_per_address_refusal_under_a_top_level_0_is_a_conflict_and_nothing_changes() {
    // §5 G9 [I]: "per-address result with faultCode/faultString"; §6.1 [C]: per-item codes
    // while the top-level errors say 0. The simulator answers so with `address_faults`.
    let env = start_with(settings(serde_json::json!({"address_faults": "per_address"}))).await;
    let f = env.fulfilment();
    let placed = f.place_order(&ctx(), &coffee_order("SHOP-18-ITEM")).await.unwrap();
    env.sim.probe.dispatch_order(placed.order_id.as_str(), 1).unwrap();
    let mut moved = simulated::demo_recipient();
    moved.address.street = Some("ul. Prosta 7".into());
    let err = f.update_recipient(&ctx(), &placed.order_id, &moved).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Conflict, Some("10")), "{err}");
    assert_eq!(
        f.recipient(&ctx(), &placed.order_id).await.unwrap().address.street.as_deref(),
        simulated::demo_recipient().address.street.as_deref()
    );
    // A refused field the change would leave malformed is the address's own fault too (5).
    let fresh = f.place_order(&ctx(), &coffee_order("SHOP-18-BAD")).await.unwrap();
    let mut bad = simulated::demo_recipient();
    bad.email = Some("no-at-sign".into());
    let err = f.update_recipient(&ctx(), &fresh.order_id, &bad).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { .. }), "{err}");
    assert_eq!(err.vendor_code(), Some("5"));
}

#[tokio::test]
async fn text_with_a_character_xml_1_0_forbids_is_refused_before_anything_is_sent() {
    let env = start().await;
    let f = env.fulfilment();
    let mut order = coffee_order("SHOP-CTRL");
    order.note = Some("leave at door\u{B}ring twice".into());
    let err = f.place_order(&ctx(), &order).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Invalid { field: "note".into(), reason: err_reason(&err) });
    assert!(err_reason(&err).contains("U+000B"), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    // Not even the basket import went out.
    assert_eq!((env.count("G3"), env.count("G4")), (0, 0));
    let mut order = coffee_order("SHOP-CTRL");
    order.recipient.address.street = Some("ul. Prosta\u{1}5".into());
    let err = f.place_order(&ctx(), &order).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "recipient.street"), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    // An address correction is refused the same way.
    let placed = f.place_order(&ctx(), &coffee_order("SHOP-CTRL-OK")).await.unwrap();
    let mut fixed = simulated::demo_recipient();
    fixed.address.city = Some("Warszawa\u{1F}".into());
    let err = f.update_recipient(&ctx(), &placed.order_id, &fixed).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "address.city"), "{err}");
    assert_eq!((err.effect(), env.count("G9")), (WriteEffect::NotSent, 0));
    // Tab, line breaks and U+007F–U+009F are allowed in XML 1.0 and go as they are.
    let mut order = coffee_order("SHOP-CTRL-TAB");
    order.note = Some("ring\ttwice\r\nthen wait\u{85}".into());
    f.place_order(&ctx(), &order).await.unwrap();
}

#[tokio::test]
async fn a_carriage_return_in_an_address_reaches_the_wholesaler_and_comes_back_unchanged() {
    // XML 1.0 §2.11: a parser turns a raw CR (alone or before LF) into LF, so the adapter writes
    // it as `&#13;`; the simulator stores the CR, and its G8 reply carries it back the same way.
    let env = start().await;
    let f = env.fulfilment();
    let mut order = coffee_order("SHOP-CR");
    let street = "ul. Długa 5\rlok. 2\r\nklatka B";
    order.recipient.address.street = Some(street.into());
    order.note = Some("ring\rtwice".into());
    let placed = f.place_order(&ctx(), &order).await.unwrap();
    let g4 = env.entries("G4")[0].body.clone();
    assert!(g4.contains("ul. Długa 5&#13;lok. 2&#13;\nklatka B"), "{g4}");
    assert!(g4.contains("ring&#13;twice"), "{g4}");
    assert!(!g4.contains('\r'), "no raw CR in the body: {g4}");
    let back = f.recipient(&ctx(), &placed.order_id).await.unwrap();
    assert_eq!(back.address.street.as_deref(), Some(street));
}

fn err_reason(e: &loyalty_core::Error) -> String {
    match e.kind() {
        ErrorKind::Invalid { reason, .. } => reason.clone(),
        other => panic!("not Invalid: {other:?}"),
    }
}

#[tokio::test]
async fn the_recipient_can_be_corrected_until_the_order_leaves() {
    // Checklist 18: after `wait_for_receive` (and `finished`) G9 answers 10 → Conflict.
    let env = start().await;
    let f = env.fulfilment();
    let placed = f.place_order(&ctx(), &coffee_order("SHOP-18")).await.unwrap();
    let mut fixed = simulated::demo_recipient();
    fixed.address.street = Some("ul. Prosta 7".into());
    f.update_recipient(&ctx(), &placed.order_id, &fixed).await.unwrap();
    assert_eq!(
        f.recipient(&ctx(), &placed.order_id).await.unwrap().address.street.as_deref(),
        Some("ul. Prosta 7")
    );
    env.sim.probe.dispatch_order(placed.order_id.as_str(), 1).unwrap();
    let err = f.update_recipient(&ctx(), &placed.order_id, &simulated::demo_recipient()).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Conflict, Some("10")));
    env.sim.probe.advance_order(placed.order_id.as_str());
    assert_eq!(env.sim.probe.order_status(placed.order_id.as_str()).as_deref(), Some("finished"));
    let err = f.update_recipient(&ctx(), &placed.order_id, &simulated::demo_recipient()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict);
}

#[tokio::test]
async fn a_lost_place_order_reply_is_looked_up_by_reference_never_replayed() {
    // Checklist 19: the order was placed but its reply cut; G7 by the shop's reference finds it
    // and G4 is not sent again.
    let env = start().await;
    env.handle().inject_route("G4", Fault::TruncatedBody, Some(1));
    let placed = env.fulfilment().place_order(&ctx(), &coffee_order("SHOP-LOST")).await.unwrap();
    assert_eq!(env.routes(), ["G1", "G3", "G4", "G7"]);
    assert!(env.entries("G7")[0].body.contains("SHOP-LOST"));
    let orders = env.sim.probe.orders(demo::LOGIN);
    assert_eq!(orders.len(), 2, "the seeded order and one placement");
    assert_eq!(placed.order_id.as_str(), orders[1]);
}

#[tokio::test]
async fn a_connection_lost_before_the_order_is_placed_is_looked_up_then_placed_once() {
    // Checklist 19: the connection dropped before the wholesaler saw G4; G7 finds nothing, and
    // only then the order is placed (under the same reference).
    let env = start().await;
    env.handle().inject_route("G4", Fault::DropConnection, Some(1));
    let placed = env.fulfilment().place_order(&ctx(), &coffee_order("SHOP-DROP")).await.unwrap();
    assert_eq!(env.routes(), ["G1", "G3", "G4", "G7", "G3", "G4"]);
    assert!(!placed.duplicate);
    assert_eq!(env.sim.probe.orders(demo::LOGIN).len(), 2);
}

#[tokio::test]
async fn a_reference_with_spaces_whose_reply_is_lost_is_found_again_never_placed_twice() {
    // Checklist 19: G4 carries the trimmed reference, so G7 must look up the same text; an
    // untrimmed lookup finds nothing and places the order again.
    let env = start().await;
    env.handle().inject_route("G4", Fault::TruncatedBody, Some(1));
    let placed = env.fulfilment().place_order(&ctx(), &coffee_order(" R-1 ")).await.unwrap();
    assert_eq!(env.routes(), ["G1", "G3", "G4", "G7"], "no second placement");
    let reference = "<shopOrderReference xsi:type=\"xsd:string\">R-1</shopOrderReference>";
    assert!(env.entries("G4")[0].body.contains(reference), "{}", env.entries("G4")[0].body);
    assert!(env.entries("G7")[0].body.contains(">R-1<"), "{}", env.entries("G7")[0].body);
    assert!(!placed.duplicate);
    let orders = env.sim.probe.orders(demo::LOGIN);
    assert_eq!(orders.len(), 2, "the seeded order and one placement");
    assert_eq!(placed.order_id.as_str(), orders[1]);
    let found = env.fulfilment().find_order(&ctx(), " R-1 ").await.unwrap().expect("found by reference");
    assert_eq!(found.order_id, placed.order_id);
}

#[tokio::test]
async fn a_basket_import_that_appends_is_never_placed() {
    // §5 G3 open question, simulator switch `append`: after a placement that never reached the
    // wholesaler the basket still holds the lines; importing again doubles them, which G3's
    // basketLines shows, and placing would order twice the coffee.
    let env = start_with(settings(serde_json::json!({"basket_import": "append"}))).await;
    let f = env.fulfilment();
    f.place_order(&ctx(), &coffee_order("SHOP-A1")).await.expect("an empty basket appended to is the order");
    env.handle().inject_route("G4", Fault::DropConnection, Some(1));
    let err = f.place_order(&ctx(), &coffee_order("SHOP-A2")).await.unwrap_err();
    assert_eq!((err.kind(), err.effect()), (&ErrorKind::Protocol, WriteEffect::NotSent), "{err}");
    assert!(err.message().contains("basketLines"), "{err}");
    assert_eq!(
        env.routes(),
        ["G1", "G3", "G4", "G3", "G4", "G7", "G3"],
        "no placement of the doubled basket"
    );
    assert_eq!(env.sim.probe.orders(demo::LOGIN).len(), 2, "the seeded order and SHOP-A1 only");
}

#[tokio::test]
async fn an_internal_error_on_place_order_is_reconciled_not_retried() {
    // §6.3 99 may have acted: the effect is unknown, so G7 is asked before anything else.
    let env = start().await;
    env.sim.probe.fail_call(loyalty_sim::idosell::Gateway::PlaceOrder, 1, 99);
    let placed = env.fulfilment().place_order(&ctx(), &coffee_order("SHOP-99")).await.unwrap();
    assert_eq!(env.routes(), ["G1", "G3", "G4", "G7", "G3", "G4"]);
    assert_eq!(env.sim.probe.order_status(placed.order_id.as_str()).as_deref(), Some("new"));
}

#[tokio::test]
async fn a_lost_reply_whose_lookup_fails_stays_unknown() {
    // G4's connection drops after sending (outcome unknown) and G7 then fails with a fault that
    // is itself a refusal before acting (4, dropshipping key). That says nothing about G4: the
    // error keeps effect `Unknown` and names both, and nothing is placed again.
    let env = start().await;
    env.handle().inject_route("G4", Fault::DropConnection, Some(1));
    env.sim.probe.fail_call(loyalty_sim::idosell::Gateway::GetOrderStatus, 1, 4);
    let err = env.fulfilment().place_order(&ctx(), &coffee_order("SHOP-LOOKUP")).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert_ne!(err.kind(), &ErrorKind::Forbidden, "the G4 cause is the error: {err}");
    assert!(err.message().contains("looking reference \"SHOP-LOOKUP\" up failed: forbidden [4]"), "{err}");
    assert_eq!(env.routes(), ["G1", "G3", "G4", "G7"], "no replay without a lookup");
    // The caller's find_order (as the trait asks) tells what happened.
    assert!(env.fulfilment().find_order(&ctx(), "SHOP-LOOKUP").await.unwrap().is_none());
}

#[tokio::test]
async fn a_timed_out_placement_whose_lookup_is_rate_limited_stays_unknown() {
    // Same with a 429 on G7 (rate limited: refused before acting) after G4 timed out: the
    // error must not say "nothing placed".
    let env = start().await;
    let mut config = env.config();
    config.attempt_timeout = std::time::Duration::from_millis(300);
    let adapter =
        env.other_adapter(config, std::sync::Arc::new(simulated::SimulatedClock(env.clock.clone())));
    let before = env.sim.probe.orders(demo::LOGIN).len();
    env.handle().inject_route("G4", Fault::Latency(std::time::Duration::from_millis(800)), Some(1));
    env.handle().inject_route("G7", Fault::TooManyRequests { retry_after_secs: 3600 }, None);
    let err =
        adapter.fulfilment().unwrap().place_order(&ctx(), &coffee_order("SHOP-SLOW")).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert!(err.message().contains("rate limited"), "{err}");
    assert_eq!((env.count("G3"), env.count("G7")), (1, 1), "looked up, never imported and placed again");
    // The wholesaler does place the order once its delay is over, though nobody hears the
    // reply: exactly why the error may not say "nothing placed".
    let mut placed = false;
    for _ in 0..100 {
        if env.sim.probe.orders(demo::LOGIN).len() == before + 1 {
            placed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(placed, "the timed-out placement went through at the wholesaler");
}

#[tokio::test]
async fn an_order_body_over_ten_mib_is_refused_before_sending() {
    // Checklist 11: the adapter never sends a body over 10 × 1024 × 1024 bytes.
    let env = start().await;
    let note = "x".repeat(10 * 1024 * 1024);
    let order = coffee_order("SHOP-BIG").with_order_line(line(demo::MUG_INTERNAL, "1").with_comment(note));
    let err = env.fulfilment().place_order(&ctx(), &order).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "body"), "{err}");
    assert_eq!(err.effect(), WriteEffect::NotSent);
    assert!(env.routes().is_empty(), "not even a login was sent: {:?}", env.routes());
}

fn sale(id: &str, member: &str) -> Transaction {
    sale_of(id, member, demo::COFFEE_INTERNAL, 2, 3499)
}

/// A sale of `quantity` × `product` at `unit` grosze to the recipient address `member`.
fn sale_of(id: &str, member: &str, product: &str, quantity: i64, unit: i64) -> Transaction {
    let pln = |m| Money::new(m, Currency::PLN);
    let basket =
        Basket::new(Currency::PLN).with_line(Line::new("l1", product, Decimal::from(quantity), pln(unit)));
    let priced = loyalty_core::pricing::price(&basket, &[], &[], at(2026, 1, 15, 12, 0, 0)).unwrap();
    Transaction::from_priced(
        TransactionId::new(id),
        at(2026, 1, 15, 12, 0, 0),
        Some(MemberId::new(member)),
        &basket,
        &priced,
        &[],
    )
    .unwrap()
}

#[tokio::test]
async fn a_sale_is_placed_as_an_order_under_its_id_and_a_resend_places_nothing() {
    let env = start().await;
    let t = env.adapter().transactions().unwrap();
    let tx = sale("Order-1234", &env.sim.member_id);
    let first = t.send(&ctx(), &tx).await.unwrap();
    assert_eq!(first.outcome, SendOutcome::Recorded);
    let again = t.send(&ctx(), &tx).await.unwrap();
    assert_eq!(again.outcome, SendOutcome::AlreadyRecorded);
    assert_eq!(again.provider_ref, first.provider_ref);
    let order = first.provider_ref.unwrap();
    assert_eq!(env.sim.probe.order_status(&order).as_deref(), Some("new"));
    // Shipped to the member's address with the configured courier.
    let g4 = &env.entries("G4")[0].body;
    assert!(
        g4.contains("<shopOrderReference xsi:type=\"xsd:string\">Order-1234</shopOrderReference>"),
        "{g4}"
    );
    assert!(g4.contains("<courierId xsi:type=\"xsd:int\">10</courierId>"));
    assert!(g4.contains("ul. Długa 1"));
    // The address record's own names, not a full name split again.
    assert!(g4.contains("<firstName xsi:type=\"xsd:string\">Jan</firstName><lastName xsi:type=\"xsd:string\">Kowalski 0</lastName>"), "{g4}");
}

#[tokio::test]
async fn a_sale_without_a_recipient_is_refused_and_a_return_is_unsupported() {
    let env = start().await;
    let t = env.adapter().transactions().unwrap();
    let mut guest = sale("Order-guest", "1");
    guest.member = None;
    let err = t.send(&ctx(), &guest).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "member"));
    let mut returned = sale("Order-return", &env.sim.member_id);
    returned.lines = vec![TransactionLine::new(
        "l1",
        demo::COFFEE_INTERNAL,
        Decimal::NEGATIVE_ONE,
        Money::new(3499, Currency::PLN),
        Money::new(-3499, Currency::PLN),
    )];
    let err = t.send(&ctx(), &returned).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { .. }));
    let checked = loyalty_core::Checked::new(env.adapter());
    let err = checked.transactions().unwrap().cancel(&ctx(), &guest, None).await.unwrap_err();
    assert!(err.is_unsupported());
    assert!(env.routes().is_empty());
}

#[tokio::test]
async fn a_checkout_sends_the_sale_to_the_wholesaler_once() {
    let env = start().await;
    let checkout = Checkout::new(
        std::sync::Arc::new(env.adapter()),
        std::sync::Arc::new(SimulatedPayment::new()),
        std::sync::Arc::new(loyalty_idosell::simulated::SimulatedClock(env.clock.clone())),
    );
    let basket = Basket::new(Currency::PLN).with_line(Line::new(
        "l1",
        demo::MUG_INTERNAL,
        Decimal::ONE,
        Money::new(2499, Currency::PLN),
    ));
    let req = CheckoutRequest::new(TransactionId::new("Order-CO-1"), basket)
        .identify(MemberLookup::ProviderId(MemberId::new(env.sim.member_id.clone())));
    let out = checkout.complete(&ctx(), &req).await.unwrap().into_outcome().unwrap();
    assert!(matches!(out.delivery, Delivery::Sent(_)), "{:?}", out.delivery);
    checkout.complete(&ctx(), &req).await.unwrap();
    assert_eq!(env.count("G4"), 1);
}
