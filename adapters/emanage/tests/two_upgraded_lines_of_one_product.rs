//! Two upgraded lines (chains) of one product: the units of one line upgraded at two times,
//! one step charged, the other still a preview. An upgrade naming that product is applied by
//! the vendor to one of them, and which one the contract does not say (the simulator takes
//! the last; the core's `Cart::line_of` the first). Their charges differ, so the adapter refuses
//! such a step before sending (`Conflict` naming the product, effect `NotSent`) rather than
//! announce another chain's amount; once both are charged alike the step is sent and announced
//! as captured.

mod common;

use common::*;
use loyalty_core::{ErrorKind, UpgradeOutcome, WriteEffect};
use loyalty_sim::emanage::demo;

fn adds(env: &Env) -> usize {
    env.journal().count("POST", &env.cart_path("/add"))
}

#[tokio::test]
async fn a_step_of_one_of_two_differently_charged_lines_is_refused_unsent() {
    let env = start().await; // funnel window: 600 s
    let cart = env.paid_cart(&[(P0, 2)], demo::PAN_APPROVE).await;
    env.upgrade(&cart.id, P0, P1, 1).await.unwrap();
    env.advance(600); // the first unit's 20 is captured
    let second = env.upgrade(&cart.id, P0, P1, 1).await.unwrap(); // the second unit: a preview
    assert!(
        matches!(&second, UpgradeOutcome::Pending { amount, .. } if *amount == usd("20.00")),
        "{second:?}"
    );
    let sent = adds(&env);
    let err = env.upgrade(&cart.id, P1, P2, 1).await.unwrap_err();
    assert_eq!((err.kind(), err.effect()), (&ErrorKind::Conflict, WriteEffect::NotSent), "{err}");
    assert!(err.message().contains(P1) && err.message().contains("one request"), "{err}");
    assert_eq!(adds(&env), sent, "nothing was sent");
    // Once the second step is charged too, both lines owe alike: the step is sent, and what it
    // announces is what the vendor captures.
    env.advance(600);
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20"), dec("20")]);
    let step = env.upgrade(&cart.id, P1, P2, 1).await.unwrap();
    let UpgradeOutcome::Pending { amount, .. } = step else { panic!("{step:?}") };
    env.advance(600);
    let captures = upgrade_captures(&env.session(&cart.id));
    assert_eq!(captures.len(), 3, "{captures:?}");
    assert_eq!(amount.to_decimal(), captures[2]);
}
