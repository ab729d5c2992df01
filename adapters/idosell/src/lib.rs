//! IdoSell CustomerAPI-ICDF adapter for Loyalty Bridge: dropshipping from a wholesaler.
//!
//! IdoSell (IAI S.A., Poland) runs online stores; its CustomerAPI lets a retail shop act as a
//! logged-in customer of a wholesaler's store over SOAP 1.1: check stock, fill the basket, place
//! a dropship order shipped to the shop's customer, list couriers, follow the order, correct
//! the recipient's address, and get a notice when it ships. This crate exposes that as a
//! Loyalty Bridge [`loyalty_core::Provider`]: `Fulfilment` (stock, couriers, orders, status,
//! recipients, shipment notices), `Transactions` (a sale placed as a dropship order) and
//! `Members` (the recipient addresses the wholesaler keeps).
//!
//! ```no_run
//! use loyalty_core::{Context, CourierQuery, OrderLine, Provider};
//! use loyalty_idosell::{IdosellAdapter, IdosellConfig};
//! use rust_decimal::Decimal;
//!
//! # async fn run() -> Result<(), loyalty_core::Error> {
//! // LOYALTY_IDOSELL_BASE_URL, _LOGIN, _PASSWORD (or _PASSWORD_SHA1), _DROPSHIPPING_KEY
//! let idosell = IdosellAdapter::new(IdosellConfig::from_env()?)?;
//! let ctx = Context::new();
//! let fulfilment = idosell.fulfilment().expect("IdoSell fulfils orders");
//! let stock = fulfilment.stock(&ctx, &[OrderLine::new("COF-500", Decimal::from(2))]).await?;
//! let couriers = fulfilment.couriers(&ctx, &CourierQuery::all()).await?;
//! println!("{} in stock: {}; {} couriers", stock[0].product_id, stock[0].sufficient(), couriers.len());
//! # Ok(())
//! # }
//! ```
//!
//! With the `simulator` feature, [`simulated::start`] runs the IdoSell simulator in-process and
//! returns an adapter pointed at it; with `receiver`, [`webhook::receiver`] serves shipment
//! notices as an axum router.
//!
//! Files: [`config`] (settings, env), [`names`] (every inferred name, one table), [`auth`]
//! (daily key, login), `wire` (IdoSell's messages, private), [`error`] (classification),
//! `client` (one function per gateway), `adapter` (the trait implementations and the capability
//! declaration), [`webhook`] (shipment notices), [`decode`] (pure reply decoders).
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// `loyalty_core::Error` is the one error type (docs/architecture.md) and is large; boxing it is core's call.
#![allow(clippy::result_large_err)]

mod adapter;
pub mod auth;
pub mod basket;
mod client;
pub mod config;
pub mod decode;
pub mod error;
pub mod names;
#[cfg(feature = "simulator")]
pub mod simulated;
pub mod webhook;
mod wire;

pub use adapter::IdosellAdapter;
pub use config::{CodeType, IdosellConfig, IdosellConfigBuilder};
pub use error::classify;
pub use webhook::{NoticeParser, SignaturePolicy};

/// The provider name in errors, spans and capability reports.
pub const PROVIDER: &str = "idosell";
