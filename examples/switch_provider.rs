//! The same shop code whatever provider `loyalty.toml` names: switching provider is editing
//! that file, not this program.
//!
//! Run on the in-memory demo store (the file `examples/loyalty.toml`):
//!
//! ```sh
//! cargo run -p loyalty-examples --example switch_provider
//! ```
//!
//! Then against a simulator: start one (`cargo run -p loyalty-cli -- sim diller` prints a
//! ready `loyalty.toml`), save what it prints, and pass that file instead:
//!
//! ```sh
//! cargo run -p loyalty-examples --example switch_provider -- path/to/loyalty.toml
//! ```
//!
//! Every provider (`memory`, `diller`, `sessionm`, `emanage`, `idosell`) is compiled in. The
//! basket (2 x COF-500 in NOK, the demo stores' coffee) is priced and charged on each; what
//! happens to the sale differs: memory and Diller apply the member's offers and record it;
//! SessionM records it at full price (its offers wait for the customer to pick one,
//! `CheckoutRequest::confirm`); eManage gives no discount on it and keeps no sales made
//! elsewhere (its carts are the order, as `loyalty demo` shows), so nothing is sent; IdoSell
//! has no offers and no member lookup, and its sale is a dropship order that needs a
//! recipient, so this guest sale is refused there (the shop sees it in the delivery line).

use std::sync::Arc;

use loyalty_core::checkout::{CheckoutRequest, SimulatedPayment};
use loyalty_core::{Basket, Context, Currency, Line, LookupKind, MemberLookup, Money, Phone};
use rust_decimal::Decimal;

/// The shop's code: knows nothing of the vendor behind the configuration.
async fn sell(opened: &loyalty_config::Opened, order: &str) -> loyalty_core::Result<()> {
    let provider = &opened.provider;
    let caps = provider.capabilities().clone();
    println!("provider {}: {} capabilities claimed", provider.name(), caps.claims().len());
    let basket = Basket::new(Currency::NOK).with_line(
        Line::new("1", "COF-500", Decimal::from(2), Money::new(12_900, Currency::NOK))
            .with_name("Coffee 500 g"),
    );
    let mut request = CheckoutRequest::new(order, basket);
    if caps.supports_lookup(LookupKind::Phone) {
        request = request.identify(MemberLookup::Phone(Phone::new("+47", "41234567")));
    }
    // A real shop passes its payment service here; the simulated one approves everything.
    let checkout = opened.checkout(Arc::new(SimulatedPayment::new()));
    let outcome = checkout.complete(&Context::new(), &request).await?.into_outcome()?;
    println!("order {}: paid {} (discount {})", order, outcome.charged, outcome.priced.total_discount);
    // Sent, waiting in the outbox (resent by the background work), or refused by the provider.
    println!("  the sale: {:?}", outcome.delivery);
    for offer in &outcome.applied_offers {
        println!("  applied: {}", offer.title);
    }
    for note in &outcome.notes {
        println!("  note: {note}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> loyalty_core::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/loyalty.toml").to_string());
    let opened = loyalty_config::open(&path).await?;
    let order = format!("switch-{}", chrono::Utc::now().format("%Y%m%d%H%M%S"));
    sell(&opened, &order).await
}
