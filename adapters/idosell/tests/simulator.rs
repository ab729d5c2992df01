//! The adapter against the IdoSell simulator: every adapter-side item of the contract's
//! Conformance checklist (named in each test's comment), by concern.

#![cfg(feature = "simulator")]

mod common;

#[path = "simulator/auth.rs"]
mod auth;
#[path = "simulator/gateways.rs"]
mod gateways;
#[path = "simulator/orders.rs"]
mod orders;
#[path = "simulator/transport.rs"]
mod transport;
#[path = "simulator/webhooks.rs"]
mod webhooks;
