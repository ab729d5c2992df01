//! Diller Retailer API v2.0 adapter for Loyalty Bridge.
//!
//! Diller (Diller AS, Norway) is a loyalty and membership-club platform for retailers. This
//! crate speaks its `/api/v2.0` API (OAuth2 client credentials at `/connect/token`) and exposes
//! it as a Loyalty Bridge [`loyalty_core::Provider`]: members (find, get, register, enroll,
//! update, segments), offers (member coupons and stamp cards, coupon validation), holds (coupon
//! and stamp reservations) and transactions (send, cancel, partial refund).
//!
//! ```no_run
//! use loyalty_core::{Context, MemberLookup, Phone, Provider};
//! use loyalty_diller::{DillerAdapter, DillerConfig};
//!
//! # async fn run() -> Result<(), loyalty_core::Error> {
//! // LOYALTY_DILLER_BASE_URL, _CLIENT_ID, _CLIENT_SECRET, _STORE_ID, _DEPARTMENT_ID
//! let diller = DillerAdapter::new(DillerConfig::from_env()?)?;
//! let ctx = Context::new();
//! let members = diller.members().expect("Diller has members");
//! if let Some(member) = members.find(&ctx, &MemberLookup::Phone(Phone::new("+47", "41234567"))).await? {
//!     let offers = diller.offers().expect("Diller has offers").list(&ctx, Some(&member.id), None).await?;
//!     println!("{} has {} offers", member.id, offers.len());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! With the `simulator` feature, [`simulated::start`] runs the Diller simulator in-process and
//! returns an adapter pointed at it.
//!
//! Files: [`config`] (settings, env), [`wire`] (Diller's models), [`decode`] (every reply body,
//! bytes to domain, as the fuzz targets run it), [`error`] (classification),
//! [`client`] (one function per Diller call), `adapter` (the trait implementations and the
//! capability declaration), `setup` (calls for `loyalty setup`).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod adapter;
pub mod client;
pub mod config;
pub mod decode;
pub mod error;
mod setup;
#[cfg(feature = "simulator")]
pub mod simulated;
pub mod wire;

pub use adapter::DillerAdapter;
pub use client::{DillerClient, SearchKey};
pub use config::{DillerConfig, DillerConfigBuilder};
pub use error::classify;
pub use setup::{MembershipLevel, StoreSummary};

/// The provider name in errors, spans and capability reports.
pub const PROVIDER: &str = "diller";
