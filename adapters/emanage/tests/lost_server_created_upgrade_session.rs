//! An upgrade `add` on a cart paid offline (PayPal) whose reply is lost after eManage opened
//! the session for the difference itself (§9.4 step 2b, §7.2 rule 7; the shop did not say the
//! cart was paid offline, so the adapter sent the same-session `add`). The cart read back
//! (§10, checklist 25) lists the chain with its `upgradeSessionId`: that session is the
//! answer, as the lost reply would have been. `Pending` would be wrong money-wise: nothing is
//! ever captured on the paid cart, the session is discarded unpaid after 30 minutes and the
//! original product ships while the shop waits for an upgrade.

mod common;

use common::*;
use loyalty_core::UpgradeOutcome;
use loyalty_sim::Fault;

fn lose_next_add_reply(env: &Env) {
    env.handle().inject("POST", &env.cart_path("/add"), Fault::TruncatedBody, Some(1));
}

#[tokio::test]
async fn a_lost_reply_of_a_server_created_upgrade_session_answers_that_session_to_pay() {
    let env = start().await;
    let cart = env.paid_offline(&[(P0, 1)]).await;
    lose_next_add_reply(&env);
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.expect("answered from the read back");
    let sessions = env.probe.upgrade_sessions(cart.id.as_str());
    assert_eq!(sessions.len(), 1, "the vendor opened one session for the difference");
    let UpgradeOutcome::PaymentRequired { cart: child, amount, action } = outcome else {
        panic!("the shop must learn the cart to pay, got {outcome:?}")
    };
    assert_eq!(child.id.as_str(), sessions[0]);
    assert_eq!(child.upgrade_parent.as_ref(), Some(&cart.id));
    assert_eq!(amount, usd("20.00"));
    assert!(action.is_some(), "the session's own payment page (the cart GET's callBackUrl)");
    assert_eq!(env.journal().count("POST", &env.cart_path("/add")), 1, "never sent twice");
    // Paid, the upgrade ships.
    assert!(env.probe.confirm_payment(child.id.as_str()));
    assert_eq!(env.session(&cart.id).shipments, [(id(P1), 1)]);
}

#[tokio::test]
async fn a_lost_card_upgrade_reply_on_a_cart_that_lists_its_chain_is_still_answered_from_the_chain() {
    // The same read back on a card cart: the chain has no session, so the answer is the
    // chain's own status (the vendor captured at once here).
    let env = start_with(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], loyalty_sim::emanage::demo::PAN_APPROVE).await;
    lose_next_add_reply(&env);
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.expect("answered from the read back");
    assert!(
        matches!(outcome, UpgradeOutcome::Charged { amount, .. } if amount == usd("20.00")),
        "{outcome:?}"
    );
    assert!(env.probe.upgrade_sessions(cart.id.as_str()).is_empty());
}
