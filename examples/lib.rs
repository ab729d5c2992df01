//! Shared pieces of the runnable examples (`cargo run -p loyalty-examples --example checkout`).
//!
//! The examples are `checkout.rs` (one purchase end to end), `switch_provider.rs` (the same
//! shop code against whichever provider `loyalty.toml` names: memory or any vendor simulator) and
//! `returns.rs` (partial and full returns in the provider's style).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

/// The README's code blocks, compiled as doctests so they stay true.
#[doc = include_str!("../README.md")]
pub mod readme {}
