//! Shared pieces of the runnable examples (`cargo run -p loyalty-examples --example checkout`).
//!
//! The examples are `checkout.rs` (one purchase end to end), `switch_provider.rs` (the same
//! shop code against the memory store or the Diller simulator, chosen by configuration) and
//! `returns.rs` (partial and full returns in the provider's style).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

/// The README's code blocks, compiled as doctests so they stay true.
#[doc = include_str!("../README.md")]
pub mod readme {}

use async_trait::async_trait;
use loyalty_core::checkout::{Authorization, Payment};
use loyalty_core::{Money, TransactionId};

/// A payment service that approves every charge: the examples' stand-in for a real PSP.
#[derive(Debug, Default)]
pub struct ApprovingPayment;

#[async_trait]
impl Payment for ApprovingPayment {
    async fn authorize(
        &self,
        transaction: &TransactionId,
        amount: Money,
    ) -> loyalty_core::Result<Authorization> {
        Ok(Authorization { id: format!("psp-{transaction}"), amount })
    }

    async fn capture(&self, _authorization: &Authorization) -> loyalty_core::Result<()> {
        Ok(())
    }

    async fn void(&self, _authorization: &Authorization) -> loyalty_core::Result<()> {
        Ok(())
    }
}
