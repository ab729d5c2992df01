//! eManage CRM "ECOMM API" adapter for Loyalty Bridge.
//!
//! eManage CRM (DFO Global) runs direct-response web shops. This crate speaks its Web Sales API
//! for **shopping-cart campaigns** (the `X_CID` client id header and the campaign web key in
//! the path) and exposes it as a Loyalty Bridge [`loyalty_core::Provider`]:
//!
//! - [`loyalty_core::Carts`]: cart sessions opened with their first line, lines changed while
//!   open, the customer, checkout by card or by a redirect processor (paid, declined, or waiting
//!   for the customer), and upsell **upgrades** of a paid cart: charged on the card on file,
//!   last minus first along a chain, or paid in a new cart when the cart was paid offline.
//! - [`loyalty_core::Offers`]: the campaign's **progressive discount** (configured: the vendor
//!   shows no read for it), for guests and members alike; the adapter prices carts with it by
//!   the vendor's rule (rounded once per product, not once per cart as the core engine does;
//!   `units` or `lines`, `all_units` or `marginal_unit`), and reports a vendor unit price that
//!   pricing does not explain as the vendor's, without a discount.
//!
//! Product ids are eManage's integer product ids as text; a cart line's id is its product id.
//! eManage keeps no members, no holds and takes no transactions from elsewhere: those concerns
//! are `None`.
//!
//! ```no_run
//! use loyalty_core::{Context, Currency, NewCart, Provider};
//! use loyalty_emanage::{EmanageAdapter, EmanageConfig};
//! use rust_decimal::Decimal;
//!
//! # async fn run() -> Result<(), loyalty_core::Error> {
//! // LOYALTY_EMANAGE_CID, _WEB_KEY, _CURRENCY (and optionally _PROGRESSIVE_TIERS; _BASE_URL
//! // defaults to the contract's https://sales-prod.tryemanagecrm.com/api)
//! let emanage = EmanageAdapter::new(EmanageConfig::from_env()?)?;
//! let carts = emanage.carts().expect("eManage has carts");
//! let cart = carts
//!     .create(&Context::new(), &NewCart::new(Currency::USD, "918325", Decimal::ONE).from_ip("203.0.113.7"))
//!     .await?;
//! println!("cart {} costs {}", cart.id, cart.total);
//! # Ok(())
//! # }
//! ```
//!
//! With the `simulator` feature, [`simulated::start`] runs the eManage simulator in-process and
//! returns an adapter pointed at it.
//!
//! Files: [`config`] (settings, env), `names` (every inferred or simulator-chosen name),
//! `wire` (eManage's shapes and the conversions), [`error`] (classification), `client` (one
//! function per eManage call), `auth` (the `X_CID` header), `adapter` (the trait
//! implementations and the capability declaration).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod adapter;
mod auth;
mod client;
pub mod config;
pub mod decode;
pub mod error;
pub mod names;
#[cfg(feature = "simulator")]
pub mod simulated;
mod wire;

pub use adapter::EmanageAdapter;
pub use config::{
    CapturePolicy, DiscountCount, DiscountMode, EmanageConfig, EmanageConfigBuilder, ProgressiveConfig,
};
pub use error::classify;

/// The provider name in errors, spans and capability reports.
pub const PROVIDER: &str = "emanage";
