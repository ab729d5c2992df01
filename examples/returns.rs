//! Returns refund the frozen nets of the returned units, in the provider's return style. Two
//! partial returns that together cover the whole purchase refund exactly what was paid.
//!
//! Run: `cargo run -p loyalty-examples --example returns`

use std::sync::Arc;

use loyalty_core::checkout::{Checkout, CheckoutRequest, SimulatedPayment};
use loyalty_core::{Clock, Context, MemberLookup, Phone, ReturnRequest, TransactionId};
use loyalty_memory::{demo, MemoryProvider};
use rust_decimal::Decimal;

#[tokio::main(flavor = "current_thread")]
async fn main() -> loyalty_core::Result<()> {
    let (store, clock) = MemoryProvider::demo_manual();
    let checkout = Checkout::new(Arc::new(store), Arc::new(SimulatedPayment::new()), Arc::new(clock.clone()));
    let ctx = Context::new();
    let request = CheckoutRequest::new("order-2001", demo::basket())
        .identify(MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
        .confirm(demo::COUPON_SUMMER10);
    let sale = checkout.complete(&ctx, &request).await?.into_outcome()?;
    println!("paid {}", sale.charged);

    let original = Some(TransactionId::new("order-2001"));
    let first = ReturnRequest::new(original.clone(), TransactionId::new("order-2001-r1"), clock.now())
        .with_line("1", Decimal::ONE)
        .with_reason("too strong");
    let r1 = checkout.process_return(&ctx, &first, None).await?;
    println!(
        "return 1: {:?}, refunded {}, stamps taken back {}, new transaction {:?}",
        r1.style, r1.refunded, r1.stamps_taken_back, r1.new_transaction
    );

    let rest = ReturnRequest::new(original, TransactionId::new("order-2001-r2"), clock.now())
        .with_line("1", Decimal::ONE)
        .with_line("2", Decimal::ONE);
    let r2 = checkout.process_return(&ctx, &rest, None).await?;
    println!("return 2: {:?}, refunded {}", r2.style, r2.refunded);
    println!("refunded in all {} of {} paid", r1.refunded.minor + r2.refunded.minor, sale.charged.minor);
    assert_eq!(r1.refunded.minor + r2.refunded.minor, sale.charged.minor);
    Ok(())
}
