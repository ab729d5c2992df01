//! The in-memory reference provider on its demo store.

use loyalty_conformance::{CartSetup, Environment, PushedNotice, Target};
use loyalty_core::{Clock, Provider};
use loyalty_memory::{demo, MemoryProvider};

use crate::registry::{Entry, Running};

/// The registry entry.
pub fn entry() -> Entry {
    Entry {
        name: "memory",
        capabilities: || MemoryProvider::default().capabilities().clone(),
        embedded: || Box::pin(async { Ok(start()) }),
        live: || Box::pin(async { Ok(None) }),
        live_vars: &[],
        setup: None,
        simulator: None,
    }
}

/// The demo store on a manual clock, with the suite's view of its data.
pub fn start() -> Running {
    let (provider, clock) = MemoryProvider::demo_manual();
    let now = clock.clone();
    let tokens = provider.clone();
    let (completes, abandons, fails) = (provider.clone(), provider.clone(), provider.clone());
    let (shipper, losing) = (provider.clone(), provider.clone());
    let env = demo::member_lookups()
        .into_iter()
        .fold(Environment::new(demo::MEMBER_ID, demo::basket()), Environment::with_lookup)
        .with_carts(
            CartSetup::new(
                loyalty_core::Currency::NOK,
                vec![
                    demo::PRODUCT_SOCKS.into(),
                    demo::PRODUCT_SOCKS_PREMIUM.into(),
                    demo::PRODUCT_SOCKS_DELUXE.into(),
                ],
                demo::PRODUCT_COFFEE,
                demo::card_approved(),
                demo::cart_customer(),
            )
            .with_declined_card(demo::card_declined())
            .with_redirect(demo::redirect_payment()),
        )
        .with_payment_completion(
            move |c| completes.complete_cart_payment(c),
            move |c| abandons.abandon_cart_payment(c),
        )
        .with_failing_upgrade_charge(move || fails.fail_next_upgrade_charge())
        .with_dropship(demo::PRODUCT_COFFEE, demo::COURIER)
        .with_dispatch(move |order| {
            // The memory wholesaler ships in two parcels and hands back the notice it pushes.
            let pushed = shipper
                .dispatch(&order, &["MEM-PARCEL-1", "MEM-PARCEL-2"])
                .map(|(headers, body)| Some(PushedNotice { headers, body }))
                .map_err(|e| e.to_string());
            Box::pin(async move { pushed })
        })
        .with_lost_replies(move |operation| {
            losing.lose_reply_next(operation);
            true
        })
        .with_now(move || now.now())
        .with_activation_tokens(move |id| tokens.activation_token(id))
        .with_clock(move |d| clock.advance(d));
    Running { provider: Box::new(provider), env, target: Target::Memory, info: Vec::new(), _keep: Vec::new() }
}
