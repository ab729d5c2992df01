//! Shared pieces of the runnable examples (`cargo run -p loyalty-examples --example checkout`).
//!
//! The examples are `checkout.rs` (one purchase end to end), `switch_provider.rs` (the same
//! shop code against whichever provider `loyalty.toml` names: memory or any vendor simulator),
//! `returns.rs` (partial and full returns in the provider's style) and `webhook.rs` (IdoSell's
//! shipment notice received on loopback from its simulator, checked against the order status
//! poll).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

/// The README's code blocks, compiled as doctests so they stay true.
#[doc = include_str!("../README.md")]
pub mod readme {}
