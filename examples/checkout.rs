//! One purchase end to end on the in-memory demo store: identify the member by phone, let the
//! engine price the basket with the member's offers, confirm the basket coupon, hold, pay and
//! send the transaction.
//!
//! Run: `cargo run -p loyalty-examples --example checkout`

use std::sync::Arc;

use loyalty_core::checkout::{Checkout, CheckoutRequest, Delivery, SimulatedPayment};
use loyalty_core::{Context, MemberLookup, Phone};
use loyalty_memory::{demo, MemoryProvider};

#[tokio::main(flavor = "current_thread")]
async fn main() -> loyalty_core::Result<()> {
    let (store, clock) = MemoryProvider::demo_manual();
    let checkout = Checkout::new(Arc::new(store), Arc::new(SimulatedPayment::new()), Arc::new(clock));

    let request = CheckoutRequest::new("order-1001", demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
        // The customer ticked "use my 10 % coupon" at checkout.
        .confirm(demo::COUPON_SUMMER10);
    let outcome = checkout.complete(&Context::new(), &request).await?.into_outcome()?;

    println!("member   {:?}", outcome.member.map(|m| m.to_string()));
    for line in &outcome.transaction.lines {
        println!(
            "line {}  {} x {}  gross {}  net {}",
            line.line_id, line.quantity, line.product_id, line.gross, line.net
        );
        for d in &line.discounts {
            println!("         - {} {}", d.offer_id, d.amount);
        }
    }
    for stamp in &outcome.priced.stamps {
        println!(
            "stamps   {}: +{} (free units {}), {} to go",
            stamp.offer_id, stamp.earned, stamp.free_units, stamp.remaining
        );
    }
    println!("paid     {}", outcome.charged);
    match outcome.delivery {
        Delivery::Sent(receipt) => println!("sent     {:?}", receipt.outcome),
        Delivery::Pending { reason } => println!("pending  {reason} (kept for resend under the same id)"),
        Delivery::Refused { reason } => {
            println!("refused  {reason} (the sale stands; resending would not help)")
        }
        Delivery::NotSupported => println!("the provider takes no transactions"),
    }
    Ok(())
}
