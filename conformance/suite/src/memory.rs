//! The memory provider's demo store as the suite sees it: the oracle every scenario passes
//! against, used by the suite's own test and by `loyalty conformance`.

use loyalty_core::{Clock, Currency, ManualClock};
use loyalty_memory::{demo, MemoryProvider};

use crate::{CartSetup, Environment, PushedNotice};

/// The suite's view of `provider` (a demo store, as [`MemoryProvider::demo_manual`] makes it)
/// on `clock`: its members, basket, carts, dropship product, dispatch, lost replies and time.
pub fn environment(provider: &MemoryProvider, clock: ManualClock) -> Environment {
    let now = clock.clone();
    let tokens = provider.clone();
    let (completes, abandons, fails) = (provider.clone(), provider.clone(), provider.clone());
    let (shipper, losing) = (provider.clone(), provider.clone());
    demo::member_lookups()
        .into_iter()
        .fold(Environment::new(demo::MEMBER_ID, demo::basket()), Environment::with_lookup)
        .with_carts(
            CartSetup::new(
                Currency::NOK,
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
        .with_clock(move |d| clock.advance(d))
}
