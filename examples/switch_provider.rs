//! The same shop code against two providers, chosen by configuration: the in-memory store, or
//! Diller (here its simulator, started in-process; a real deployment builds `DillerConfig`
//! from `LOYALTY_DILLER_*` variables instead).
//!
//! Run: `cargo run -p loyalty-examples --example switch_provider -- diller` (or `memory`)

use std::sync::Arc;

use loyalty_core::checkout::{Checkout, CheckoutRequest, SimulatedPayment};
use loyalty_core::{
    Basket, Clock, Context, Currency, Line, LookupKind, MemberLookup, Money, Phone, Provider, SystemClock,
};
use rust_decimal::Decimal;

/// The shop's code: knows nothing of the vendor behind `provider`.
async fn sell(provider: Arc<dyn Provider>, clock: Arc<dyn Clock>, order: &str) -> loyalty_core::Result<()> {
    let caps = provider.capabilities().clone();
    println!("provider {} supports lookups {:?}, holds {:?}", provider.name(), caps.lookups, caps.hold);
    let basket = Basket::new(Currency::NOK).with_line(
        Line::new("1", "COF-500", Decimal::from(2), Money::new(12_900, Currency::NOK))
            .with_name("Coffee 500 g"),
    );
    let mut request = CheckoutRequest::new(order, basket);
    if caps.supports_lookup(LookupKind::Phone) {
        request = request.identify(MemberLookup::Phone(Phone::new("+47", "41234567")));
    }
    let checkout = Checkout::new(provider, Arc::new(SimulatedPayment::new()), clock);
    let ctx = Context::new().with_department("web");
    let outcome = checkout.complete(&ctx, &request).await?.into_outcome()?;
    println!(
        "paid {} (discount {}), delivery {:?}",
        outcome.charged, outcome.priced.total_discount, outcome.delivery
    );
    for note in &outcome.notes {
        println!("note: {note}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> loyalty_core::Result<()> {
    let choice = std::env::args().nth(1).unwrap_or_else(|| "memory".into());
    match choice.as_str() {
        "memory" => {
            sell(Arc::new(loyalty_memory::MemoryProvider::demo()), Arc::new(SystemClock), "switch-1").await
        }
        "diller" => {
            // Keep the server alive while the adapter talks to it. The simulator runs on its
            // own clock (a fixed demo date), so the checkout reads the same clock.
            let (adapter, server) = loyalty_diller::simulated::start().await?;
            let clock = Arc::new(loyalty_diller::simulated::SimulatedClock(server.handle().clock()));
            sell(Arc::new(adapter), clock, "switch-2").await
        }
        other => {
            eprintln!("unknown provider {other:?}: use memory or diller");
            std::process::exit(2);
        }
    }
}
