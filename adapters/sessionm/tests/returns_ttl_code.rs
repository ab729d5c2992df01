//! Checklist 17 with 7: a sale whose offer was locked by its TTL code is returned in SessionM's
//! style (resend without the line, or void), and the offer is reinstated by the user offer id
//! the lock learnt (the code reference alone does not name it).
mod common;

use common::*;
use loyalty_core::returns::{self, ReturnLedger};
use loyalty_core::{
    Context, Offer, OfferKind, OfferRef, Provider, ReturnRequest, Transaction, TransactionId, VendorRule,
};
use loyalty_sim::sessionm::{demo, OfferState};
use rust_decimal::Decimal;

/// A mug and a coffee bought with the TTL offer locked by its code, sent; the ledger of it.
async fn sold_with_ttl_code(env: &Env) -> ReturnLedger {
    let ctx = Context::new();
    let b = basket(&[(demo::ITEM_MUG, "1"), (demo::ITEM_COFFEE, "1")]);
    let by_code = wallet_offer("ttl").with_reference(OfferRef::code(demo::TTL_CODE));
    let hold = lock(env, &by_code, "order-ttl", &b).await.expect("lock by TTL code");
    assert_eq!(lock_discount(&hold)["reference_id"], demo::UO_TTL);
    // As the checkout freezes it: the used offer keeps the lock's Discount object.
    let mut o: Offer = by_code.clone();
    o.kind = OfferKind::VendorPriced { rule: VendorRule::Check, discount: hold.vendor_discount.clone() };
    let now = env.clock.now();
    let priced = loyalty_core::pricing::price(&b, &[o.clone()], &[o.id.clone()], now).expect("prices");
    let mut tx =
        Transaction::from_priced(TransactionId::new("order-ttl"), now, Some(env.kari()), &b, &priced, &[o])
            .expect("freezes")
            .with_payment("Card", priced.total);
    tx.holds = vec![hold.clone()];
    for u in tx.offers_used.iter_mut() {
        u.vendor_data = hold.vendor_data.clone();
    }
    env.adapter.transactions().unwrap().send(&ctx, &tx).await.expect("sale sent");
    assert_eq!(
        env.probe.offer_state(demo::UO_TTL),
        Some(OfferState::Redeemed { transaction_id: "order-ttl".into() })
    );
    env.advance(60);
    let mut ledger = ReturnLedger::new(tx);
    ledger.delivered = true;
    ledger
}

#[tokio::test]
async fn returning_the_discounted_line_reinstates_an_offer_locked_by_its_ttl_code() {
    let env = start().await;
    let mut ledger = sold_with_ttl_code(&env).await;
    let ret = ReturnRequest::new(Some("order-ttl".into()), "ret-ttl".into(), env.clock.now())
        .with_line("l1", Decimal::ONE);
    returns::process(&env.adapter, &Context::new(), Some(&mut ledger), &ret, None).await.expect("return");
    assert_eq!(env.probe.offer_state(demo::UO_TTL), Some(OfferState::Issued));
}

#[tokio::test]
async fn a_full_return_of_a_sale_with_an_offer_locked_by_its_ttl_code_completes() {
    let env = start().await;
    let mut ledger = sold_with_ttl_code(&env).await;
    let ret = ReturnRequest::new(Some("order-ttl".into()), "ret-ttl-all".into(), env.clock.now())
        .with_line("l1", Decimal::ONE)
        .with_line("l2", Decimal::ONE);
    let out =
        returns::process(&env.adapter, &Context::new(), Some(&mut ledger), &ret, None).await.expect("return");
    let again = returns::process(&env.adapter, &Context::new(), Some(&mut ledger), &ret, None).await.unwrap();
    assert_eq!(again, out);
    assert_eq!(env.probe.offer_state(demo::UO_TTL), Some(OfferState::Issued));
}
