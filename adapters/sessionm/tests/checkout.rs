//! The checkout flow over SessionM: locks released on a declined payment, a lost reply after
//! the send, two orders racing for one offer, a lock lapsing before commit, a basket changed
//! after the lock, returns in SessionM's style, a double completion, a send refused with an
//! error code the adapter does not know, and a claim refused after the charge, whose lock goes
//! back to the wallet.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use common::*;
use loyalty_core::checkout::{Checkout, CheckoutRequest, Completion, Delivery, NextAnswer, SimulatedPayment};
use loyalty_core::{
    Basket, Capabilities, Carts, Consents, Context, ErrorKind, Fulfilment, Holds, MemberLookup, Members,
    Offers, Phone, Provider, Redemptions, Refund, RegisterMember, Result, ReturnRequest, ReturnStyle,
    SendOutcome, Transaction, TransactionReceipt, Transactions,
};
use loyalty_sessionm::SessionmAdapter;
use loyalty_sim::sessionm::{demo, OfferState};
use loyalty_sim::Fault;
use rust_decimal::Decimal;
use serde_json::Value;

fn ctx() -> Context {
    Context::new()
}

fn coffees_and_mug() -> Basket {
    basket(&[(demo::ITEM_COFFEE, "2"), (demo::ITEM_MUG, "1")])
}

/// Kari buys `basket`, confirming `offer` (SessionM prices it).
fn request(order: &str, basket: Basket, offer: &str) -> CheckoutRequest {
    CheckoutRequest::new(order, basket)
        .identify(MemberLookup::Phone(Phone::new("+47", "41234567")))
        .confirm(offer)
}

/// A checkout over the adapter, on the simulator's clock, with a payment that counts.
fn checkout_for(env: &Env) -> (Checkout<'_>, Arc<SimulatedPayment>) {
    let payment = Arc::new(SimulatedPayment::new());
    let checkout =
        Checkout::new(Arc::new(&env.adapter), payment.clone(), Arc::new(Bridge(env.clock.clone())));
    (checkout, payment)
}

fn completed(c: Completion) -> loyalty_core::checkout::CheckoutOutcome {
    match c {
        Completion::Completed(o) => o,
        other => panic!("expected a completed checkout, got {other:?}"),
    }
}

fn state(env: &Env, offer: &str) -> Option<OfferState> {
    env.probe.offer_state(offer)
}

#[tokio::test]
async fn declined_payment_releases_the_locks() {
    let env = start().await;
    let (checkout, payment) = checkout_for(&env);
    payment.answer_next(NextAnswer::Decline);
    let prepared =
        checkout.prepare(&ctx(), &request("order-1", coffees_and_mug(), demo::UO_FIXED_CHECK)).await.unwrap();
    assert_eq!(prepared.priced.total, nok("407.00"), "SessionM's 50.00 off");
    assert!(matches!(state(&env, demo::UO_FIXED_CHECK), Some(OfferState::Locked { .. })));
    let err = checkout.commit(&ctx(), &prepared).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Rejected, "{err}");
    assert_eq!(state(&env, demo::UO_FIXED_CHECK), Some(OfferState::Issued), "unlocked");
    assert_eq!(env.pos("unlock").len(), 1);
    assert_eq!(payment.captures(), 0);
}

#[tokio::test]
async fn lost_reply_after_the_send_stays_pending_and_the_resend_is_an_upsert_with_one_effect() {
    let env = start().await;
    let (checkout, payment) = checkout_for(&env);
    // SessionM records the sale, then the reply is garbled on the way back.
    env.handle().inject("POST", "/api/2.0/send_transaction", Fault::MalformedBody, Some(1));
    let out = completed(
        checkout
            .complete(&ctx(), &request("order-lost", coffees_and_mug(), demo::UO_FIXED_CHECK))
            .await
            .unwrap(),
    );
    assert!(matches!(out.delivery, Delivery::Pending { .. }), "{:?}", out.delivery);
    assert_eq!(payment.captures(), 1, "the sale stands");
    assert!(payment.voided().is_empty(), "nothing is refunded because the vendor misbehaved");
    assert!(env.probe.transaction("order-lost").is_some(), "SessionM did record it");
    let redeemed = Some(OfferState::Redeemed { transaction_id: "order-lost".into() });
    assert_eq!(state(&env, demo::UO_FIXED_CHECK), redeemed);
    let points_after_sale = env.probe.points(demo::USER_ID);
    assert_eq!(points_after_sale, Some(Decimal::from(250 + 407)));

    let results = checkout.resend_pending(&ctx()).await;
    let Ok(Delivery::Sent(receipt)) = &results[0].1 else { panic!("resend succeeds: {:?}", results[0].1) };
    assert_eq!(receipt.outcome, SendOutcome::Stored);
    assert!(checkout.pending().await.unwrap().is_empty());
    // The resend carried the same modified_time: SessionM kept its copy, nothing happened twice.
    assert_eq!(env.pos("send_transaction").len(), 2);
    assert_eq!(env.probe.points(demo::USER_ID), points_after_sale, "points credited once");
    assert_eq!(state(&env, demo::UO_FIXED_CHECK), redeemed);
    assert!(env
        .probe
        .warnings()
        .iter()
        .any(|w| w.transaction_id == "order-lost" && w.message.contains("not newer")));
}

#[tokio::test]
async fn two_orders_racing_for_one_offer_one_gets_it_and_the_other_stops_before_the_charge() {
    let env = start().await;
    let (checkout, payment) = checkout_for(&env);
    let a =
        checkout.prepare(&ctx(), &request("order-A", coffees_and_mug(), demo::UO_FIXED_CHECK)).await.unwrap();
    assert_eq!(a.priced.total, nok("407.00"));
    // A's customer dawdles past the lock's 15 minutes; B takes the offer meanwhile.
    env.advance(15 * 60 + 1);
    let b =
        checkout.prepare(&ctx(), &request("order-B", coffees_and_mug(), demo::UO_FIXED_CHECK)).await.unwrap();
    assert_eq!(b.priced.total, nok("407.00"));
    let Completion::PriceChanged(change) = checkout.commit(&ctx(), &a).await.unwrap() else {
        panic!("A's commit must stop: its offer is locked by B")
    };
    assert_eq!((change.old_total, change.new_total), (nok("407.00"), nok("457.00")));
    assert_eq!(payment.captures(), 0, "nothing charged for A");
    let out = completed(checkout.commit(&ctx(), &b).await.unwrap());
    assert_eq!(out.charged, nok("407.00"));
    assert_eq!(
        state(&env, demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "order-B".into() })
    );
    assert_eq!(payment.captures(), 1);
}

#[tokio::test]
async fn a_lock_lapsed_before_commit_is_taken_again_silently_when_the_offer_is_free() {
    let env = start().await;
    let (checkout, payment) = checkout_for(&env);
    let prepared = checkout
        .prepare(&ctx(), &request("order-slow", coffees_and_mug(), demo::UO_FIXED_CHECK))
        .await
        .unwrap();
    env.advance(16 * 60);
    assert_eq!(state(&env, demo::UO_FIXED_CHECK), Some(OfferState::Issued), "the lock lapsed");
    let out = completed(checkout.commit(&ctx(), &prepared).await.unwrap());
    assert_eq!(out.charged, prepared.priced.total);
    assert_eq!(payment.captures(), 1);
    let ids: Vec<_> = env
        .pos_bodies("lock")
        .iter()
        .map(|b| b["request_payload"]["transaction"]["transaction_id"].clone())
        .collect();
    assert_eq!(ids, [serde_json::json!("order-slow"), serde_json::json!("order-slow")]);
    assert_eq!(
        state(&env, demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "order-slow".into() })
    );
    assert!(env.probe.warnings().is_empty(), "{:?}", env.probe.warnings());
}

// §3.5: after a basket change, lock again with the same transaction id and apply the new
// discount. The order's own lock stays listed because the lookup carries the order id.
#[tokio::test]
async fn a_basket_changed_after_the_lock_is_locked_again_under_the_same_transaction() {
    let env = start().await;
    let (checkout, _payment) = checkout_for(&env);
    let small = request("order-grow", basket(&[(demo::ITEM_COFFEE, "1")]), demo::UO_PERCENT_CHECK);
    let first = checkout.prepare(&ctx(), &small).await.unwrap();
    assert_eq!(first.priced.total_discount, nok("12.90"));
    let bigger = request("order-grow", coffees_and_mug(), demo::UO_PERCENT_CHECK);
    let second = checkout.prepare(&ctx(), &bigger).await.unwrap();
    assert_eq!(second.priced.total_discount, nok("45.70"), "notes: {:?}", second.notes);
    assert_eq!(env.pos("lock").len(), 2);
    assert!(env.pos("unlock").is_empty(), "the offer was kept, not released");
    let out = completed(checkout.commit(&ctx(), &second).await.unwrap());
    assert_eq!(out.charged, nok("411.30"));
    assert_eq!(
        state(&env, demo::UO_PERCENT_CHECK),
        Some(OfferState::Redeemed { transaction_id: "order-grow".into() })
    );
}

// §3.3 [I]: a lookup answered by a 404 that is not SessionM's `user_not_found` (here a wrong
// POS base path) is no "guest": the checkout stops before signing the customer up again.
#[tokio::test]
async fn a_lookup_lost_to_a_wrong_base_path_stops_the_checkout_before_any_sign_up() {
    let env = start().await;
    let mut c = config(env.server.base_url(), std::time::Duration::from_secs(5));
    c.pos_base_url.set_path("/not-sessionm");
    let lost = SessionmAdapter::with_clock(c, Arc::new(Bridge(env.clock.clone()))).unwrap();
    let checkout = Checkout::new(
        Arc::new(&lost),
        Arc::new(SimulatedPayment::new()),
        Arc::new(Bridge(env.clock.clone())),
    );
    let consents =
        Consents { membership: true, order_history: true, marketing_sms: false, marketing_email: false };
    let sign_up = RegisterMember::new()
        .with_phone(Phone::new("+47", "41234567"))
        .with_email("kari.again@example.com")
        .with_consents(consents);
    let req = CheckoutRequest::new("order-lost-route", coffees_and_mug()).sign_up(sign_up);
    let err = checkout.prepare(&ctx(), &req).await.unwrap_err();
    assert!(err.is_not_found() && err.vendor_code() == Some("not_found"), "{err}");
    assert_eq!(env.journal().count("POST", "/priv/"), 0, "no profile was created");
    assert!(env.probe.users_by_email("kari.again@example.com").is_empty());
}

// §3.5, §5.1 [D]: the sale carries the Discount object the lock returned, exactly (every field
// SessionM sent, `pos_discount_id`, `status`, `discount_source`, `stack_order`, `applied_time`
// and `display_name` included), and so does its void when the whole purchase comes back.
#[tokio::test]
async fn the_sale_and_its_void_carry_the_lock_discount_object_exactly() {
    let env = start().await;
    let (checkout, _payment) = checkout_for(&env);
    let out = completed(
        checkout
            .complete(&ctx(), &request("order-echo", coffees_and_mug(), demo::UO_FIXED_CHECK))
            .await
            .unwrap(),
    );
    let object = lock_discount(&out.transaction.holds[0]);
    for field in
        ["pos_discount_id", "status", "discount_source", "stack_order", "applied_time", "display_name"]
    {
        assert!(!object[field].is_null(), "{field} in {object}");
    }
    assert_eq!(object["reference_id"], demo::UO_FIXED_CHECK);
    env.advance(60);
    let ret = ReturnRequest::new(Some("order-echo".into()), "return-echo".into(), env.clock.now())
        .with_line("l1", Decimal::from(2))
        .with_line("l2", Decimal::ONE);
    checkout.process_return(&ctx(), &ret, None).await.unwrap();
    let sends = env.pos_bodies("send_transaction");
    assert_eq!(sends.len(), 2, "the sale, then its void");
    assert_eq!(sends[1]["request_payload"]["is_voided"], true);
    for body in &sends {
        assert_eq!(body["request_payload"]["discounts"], serde_json::json!([object.clone()]));
    }
    assert!(env.probe.warnings().is_empty(), "{:?}", env.probe.warnings());
}

#[tokio::test]
async fn a_partial_return_sends_the_lock_discount_object_back_with_what_is_kept() {
    let env = start().await;
    let (checkout, _payment) = checkout_for(&env);
    let out = completed(
        checkout
            .complete(&ctx(), &request("order-keep", coffees_and_mug(), demo::UO_FIXED_CHECK))
            .await
            .unwrap(),
    );
    let object = lock_discount(&out.transaction.holds[0]);
    env.advance(60);
    let ret = ReturnRequest::new(Some("order-keep".into()), "return-keep".into(), env.clock.now())
        .with_line("l2", Decimal::ONE);
    checkout.process_return(&ctx(), &ret, None).await.unwrap();
    let sends = env.pos_bodies("send_transaction");
    assert_eq!(sends.len(), 2, "the sale, then the sale without the mug");
    let amended = &sends[1]["request_payload"]["discounts"][0];
    // The same discount as SessionM made it, not a rebuilt one naming the offer otherwise.
    for field in
        ["reference_id", "reference_id_type", "pos_discount_id", "status", "discount_source", "display_name"]
    {
        assert_eq!(amended[field], object[field], "{field} in {amended}");
    }
    assert_eq!(amended["discounted_line_ids"], serde_json::json!(["l1"]), "{amended}");
    let (before, after) = (object["amount"].as_f64().unwrap(), amended["amount"].as_f64().unwrap());
    assert!(0.0 < after && after < before, "the kept coffees keep their share: {after} of {before}");
    assert!(env.probe.warnings().is_empty(), "{:?}", env.probe.warnings());
}

#[tokio::test]
async fn completing_the_same_order_twice_at_once_charges_once_and_sends_once() {
    let env = start().await;
    let (checkout, payment) = checkout_for(&env);
    let req = request("order-twice", coffees_and_mug(), demo::UO_FIXED_CHECK);
    let c = ctx();
    let (a, b) = tokio::join!(checkout.complete(&c, &req), checkout.complete(&c, &req));
    let (a, b) = (completed(a.unwrap()), completed(b.unwrap()));
    assert_eq!(a, b);
    assert_eq!(payment.captures(), 1);
    assert_eq!(env.pos("send_transaction").len(), 1);
    assert_eq!(env.pos("lock").len(), 1);
}

// Checklist 17: a return resends the original transaction id without the returned line (never a
// negative line), then reinstates the offer whose every discounted unit came back.
#[tokio::test]
async fn returning_the_discounted_line_resends_the_sale_without_it_and_reinstates_the_offer() {
    let env = start().await;
    let (checkout, payment) = checkout_for(&env);
    let b = basket(&[(demo::ITEM_COFFEE, "1"), (demo::ITEM_TEA, "1")]);
    let out =
        completed(checkout.complete(&ctx(), &request("order-tea", b, demo::UO_FIXED_LOWEST)).await.unwrap());
    assert_eq!(out.charged, nok("168.00"), "20.00 off the tea");
    env.advance(60);
    let ret = ReturnRequest::new(Some("order-tea".into()), "return-1".into(), env.clock.now())
        .with_line("l2", Decimal::ONE);
    let r = checkout.process_return(&ctx(), &ret, None).await.unwrap();
    assert_eq!(r.style, Some(ReturnStyle::ResendWithoutLines));
    assert_eq!(r.refunded, nok("39.00"), "the tea's net as paid");
    assert_eq!(r.reinstated.iter().map(|o| o.as_str()).collect::<Vec<_>>(), [demo::UO_FIXED_LOWEST]);
    assert_eq!(state(&env, demo::UO_FIXED_LOWEST), Some(OfferState::Issued));
    let stored = env.probe.transaction("order-tea").unwrap();
    assert_eq!(stored["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(stored["discounts"].as_array().map(Vec::len), Some(0));
    for body in env.pos_bodies("send_transaction") {
        for item in body["request_payload"]["items"].as_array().unwrap() {
            assert!(
                item["quantity"].as_f64().unwrap() > 0.0 && item["subtotal"].as_f64().unwrap() >= 0.0,
                "{item}"
            );
        }
    }
    assert_eq!(payment.refunds().get("return-1"), Some(&nok("39.00")));
    // The literal flow of checklist 17: the original transaction id is sent again without the
    // returned line, then exactly one reinstate names the offer redeemed on that purchase.
    let paths: Vec<String> = env
        .journal()
        .entries()
        .into_iter()
        .map(|e| e.path)
        .filter(|p| p == "/api/2.0/send_transaction" || p == "/api/2.0/reinstate")
        .collect();
    assert_eq!(
        paths,
        ["/api/2.0/send_transaction", "/api/2.0/send_transaction", "/api/2.0/reinstate"],
        "sale, resend, then one reinstate"
    );
    let sends = env.pos_bodies("send_transaction");
    let resent = &sends[1]["request_payload"];
    assert_eq!(resent["transaction_id"], sends[0]["request_payload"]["transaction_id"]);
    let items: Vec<&Value> = resent["items"].as_array().unwrap().iter().collect();
    assert_eq!(items.len(), 1, "{resent}");
    assert_eq!(items[0]["item_id"], demo::ITEM_COFFEE, "the tea went back");
    let reinstates = env.pos_bodies("reinstate");
    assert_eq!(reinstates.len(), 1);
    assert_eq!(reinstates[0]["request_payload"]["user_offer_id"], demo::UO_FIXED_LOWEST);
    // Back in the wallet as get_user_offers lists it.
    let wallet = env.adapter.offers().unwrap().list(&ctx(), Some(&env.kari()), None).await.unwrap();
    assert!(wallet.iter().any(|o| o.id.as_str() == demo::UO_FIXED_LOWEST), "{wallet:?}");
    assert!(env.journal().entries().iter().any(|e| e.path == "/offers/api/2.0/offers/get_user_offers"));
}

#[tokio::test]
async fn returning_an_undiscounted_line_keeps_the_offer_redeemed_on_the_resent_sale() {
    let env = start().await;
    let (checkout, _payment) = checkout_for(&env);
    let b = basket(&[(demo::ITEM_COFFEE, "1"), (demo::ITEM_TEA, "1"), (demo::ITEM_MUG, "1")]);
    completed(checkout.complete(&ctx(), &request("order-mug", b, demo::UO_FIXED_LOWEST)).await.unwrap());
    env.advance(60);
    let ret = ReturnRequest::new(Some("order-mug".into()), "return-2".into(), env.clock.now())
        .with_line("l3", Decimal::ONE);
    let r = checkout.process_return(&ctx(), &ret, None).await.unwrap();
    assert_eq!(r.refunded, nok("199.00"));
    assert!(r.reinstated.is_empty());
    assert_eq!(
        state(&env, demo::UO_FIXED_LOWEST),
        Some(OfferState::Redeemed { transaction_id: "order-mug".into() })
    );
    let stored = env.probe.transaction("order-mug").unwrap();
    assert_eq!(
        stored["discounts"][0]["reference_id"],
        demo::UO_FIXED_LOWEST,
        "the kept lines still carry it"
    );
    assert!(env.pos("reinstate").is_empty());
    assert!(env.probe.warnings().is_empty(), "{:?}", env.probe.warnings());
}

#[tokio::test]
async fn a_full_return_voids_the_sale_and_reports_the_offers_given_back() {
    let env = start().await;
    let (checkout, payment) = checkout_for(&env);
    let out = completed(
        checkout
            .complete(&ctx(), &request("order-all", coffees_and_mug(), demo::UO_FIXED_CHECK))
            .await
            .unwrap(),
    );
    assert_eq!(env.probe.points(demo::USER_ID), Some(Decimal::from(250 + 407)));
    env.advance(60);
    let ret = ReturnRequest::new(Some("order-all".into()), "return-3".into(), env.clock.now())
        .with_line("l1", Decimal::from(2))
        .with_line("l2", Decimal::ONE);
    let r = checkout.process_return(&ctx(), &ret, None).await.unwrap();
    assert_eq!(r.refunded, out.charged);
    assert_eq!(r.reinstated.iter().map(|o| o.as_str()).collect::<Vec<_>>(), [demo::UO_FIXED_CHECK]);
    assert_eq!(env.probe.transaction("order-all").unwrap()["is_voided"], true);
    assert_eq!(state(&env, demo::UO_FIXED_CHECK), Some(OfferState::Issued));
    assert_eq!(env.probe.points(demo::USER_ID), Some(Decimal::from(250)), "the void took the points back");
    assert_eq!(payment.refunds().get("return-3"), Some(&nok("407.00")));
    // The same return again is answered from the ledger: nothing more is sent.
    let sends = env.pos("send_transaction").len();
    assert_eq!(checkout.process_return(&ctx(), &ret, None).await.unwrap(), r);
    assert_eq!(env.pos("send_transaction").len(), sends);
}

#[tokio::test]
async fn an_order_for_another_store_locks_and_sells_there_so_the_lock_is_redeemed() {
    let env = start().await;
    let (checkout, _payment) = checkout_for(&env);
    // The shop names the store on the order, not in the context: the lock must be taken at the
    // store the sale is recorded at, or the sale cannot redeem it (§8.1).
    let order =
        request("order-bgo", coffees_and_mug(), demo::UO_FIXED_CHECK).department(demo::OTHER_STORE_ID);
    let out = completed(checkout.complete(&ctx(), &order).await.unwrap());
    assert!(out.charged.minor > 0);
    assert!(
        matches!(state(&env, demo::UO_FIXED_CHECK), Some(OfferState::Redeemed { .. })),
        "{:?}",
        state(&env, demo::UO_FIXED_CHECK)
    );
}

/// The adapter, whose first send meets the 200 `status: "error"` reply `reply`, read by the
/// adapter's own classifier.
struct FirstSendRefused<'a> {
    inner: &'a SessionmAdapter,
    armed: AtomicBool,
    reply: &'static [u8],
}

/// A code no source names (POS codes are not public, §5.8, §9 q. 4).
const UNKNOWN_CODE: &[u8] =
    br#"{"status":"error","errors":{"code":"transaction_processing_failed","message":"Try again later."}}"#;

impl Provider for FirstSendRefused<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
    fn members(&self) -> Option<&dyn Members> {
        self.inner.members()
    }
    fn offers(&self) -> Option<&dyn Offers> {
        self.inner.offers()
    }
    fn holds(&self) -> Option<&dyn Holds> {
        self.inner.holds()
    }
    fn redemptions(&self) -> Option<&dyn Redemptions> {
        self.inner.redemptions()
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        Some(self)
    }
    fn carts(&self) -> Option<&dyn Carts> {
        None
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        None
    }
}

#[async_trait]
impl Transactions for FirstSendRefused<'_> {
    async fn send(&self, ctx: &Context, t: &Transaction) -> Result<TransactionReceipt> {
        if self.armed.swap(false, Ordering::SeqCst) {
            return Err(loyalty_sessionm::decode::reply_error("transactions.send", 200, self.reply)
                .expect("an error reply"));
        }
        self.inner.transactions().unwrap().send(ctx, t).await
    }
    async fn amend(&self, ctx: &Context, t: &Transaction) -> Result<TransactionReceipt> {
        self.inner.transactions().unwrap().amend(ctx, t).await
    }
    async fn cancel(&self, ctx: &Context, t: &Transaction, r: Option<&str>) -> Result<()> {
        self.inner.transactions().unwrap().cancel(ctx, t, r).await
    }
    async fn refund(&self, ctx: &Context, r: &Refund) -> Result<TransactionReceipt> {
        self.inner.transactions().unwrap().refund(ctx, r).await
    }
}

#[tokio::test]
async fn a_send_refused_with_an_unknown_code_keeps_its_claim_and_the_resend_redeems_the_offer() {
    let env = start().await;
    let provider =
        FirstSendRefused { inner: &env.adapter, armed: AtomicBool::new(true), reply: UNKNOWN_CODE };
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(&provider), payment.clone(), Arc::new(Bridge(env.clock.clone())));
    let out = completed(
        checkout
            .complete(&ctx(), &request("order-unknown", coffees_and_mug(), demo::UO_FIXED_CHECK))
            .await
            .unwrap(),
    );
    // Not a refused claim: the sale was not sent again without its offer.
    assert!(out.dropped_claims.is_empty(), "{:?}", out.dropped_claims);
    assert_eq!(out.priced.total, nok("407.00"), "charged with SessionM's 50.00 off");
    assert_eq!(payment.captures(), 1);
    // Nor a refusal for good: the sale waits in the outbox with its lock kept.
    assert!(matches!(out.delivery, Delivery::Pending { .. }), "{:?}", out.delivery);
    assert_eq!(env.pos("send_transaction").len(), 0, "nothing reached SessionM");
    assert!(matches!(state(&env, demo::UO_FIXED_CHECK), Some(OfferState::Locked { .. })));

    let results = checkout.resend_pending(&ctx()).await;
    assert!(matches!(&results[0].1, Ok(Delivery::Sent(_))), "{:?}", results[0].1);
    let sent = env.pos_bodies("send_transaction");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["request_payload"]["discounts"][0]["reference_id"], demo::UO_FIXED_CHECK);
    assert_eq!(
        state(&env, demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "order-unknown".into() }),
        "the discount given is the offer used; warnings: {:?}",
        env.probe.warnings()
    );
}

#[tokio::test]
async fn an_order_naming_another_store_than_its_context_locks_and_sells_at_the_order_store() {
    let env = start().await;
    let (checkout, _payment) = checkout_for(&env);
    // The till's context names its own store, the order another: the order's store is where
    // the sale is recorded, so its lock is taken there too, or the sale cannot redeem it.
    let till = Context::new().with_department(demo::STORE_ID);
    let order =
        request("order-two-stores", coffees_and_mug(), demo::UO_FIXED_CHECK).department(demo::OTHER_STORE_ID);
    let out = completed(checkout.complete(&till, &order).await.unwrap());
    assert!(matches!(out.delivery, Delivery::Sent(_)), "{:?}", out.delivery);
    assert_eq!(out.priced.total, nok("407.00"), "SessionM's 50.00 off");
    assert_eq!(env.pos_bodies("lock")[0]["store_id"], demo::OTHER_STORE_ID);
    assert_eq!(env.pos_bodies("send_transaction")[0]["store_id"], demo::OTHER_STORE_ID);
    assert_eq!(
        state(&env, demo::UO_FIXED_CHECK),
        Some(OfferState::Redeemed { transaction_id: "order-two-stores".into() }),
        "warnings: {:?}",
        env.probe.warnings()
    );
}

#[tokio::test]
async fn a_claim_refused_after_the_charge_gives_its_lock_back_to_the_wallet() {
    let env = start().await;
    const LOCK_EXPIRED: &[u8] =
        br#"{"status":"error","errors":{"code":"lock_expired","message":"The lock has expired."}}"#;
    let provider =
        FirstSendRefused { inner: &env.adapter, armed: AtomicBool::new(true), reply: LOCK_EXPIRED };
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(&provider), payment.clone(), Arc::new(Bridge(env.clock.clone())));
    let out = completed(
        checkout
            .complete(&ctx(), &request("order-refused", coffees_and_mug(), demo::UO_FIXED_CHECK))
            .await
            .unwrap(),
    );
    assert!(matches!(out.delivery, Delivery::Sent(_)), "{:?}", out.delivery);
    assert_eq!(out.dropped_claims.len(), 1, "{:?}", out.dropped_claims);
    let sent = env.pos_bodies("send_transaction");
    assert_eq!(sent.len(), 1);
    let discounts = &sent[0]["request_payload"]["discounts"];
    assert!(discounts.as_array().is_none_or(Vec::is_empty), "sent without the claim: {discounts}");
    // A closed sale that does not carry the lock's discount does not consume the lock (§7.1):
    // the checkout unlocks it, rather than leave the offer out of the wallet for 15 minutes.
    assert_eq!(state(&env, demo::UO_FIXED_CHECK), Some(OfferState::Issued), "{:?}", env.probe.warnings());
    assert_eq!(env.pos("unlock").len(), 1);
    let record = checkout.status(&loyalty_core::TransactionId::new("order-refused")).await.unwrap().unwrap();
    assert!(record.holds.is_empty(), "{:?}", record.holds);
}
