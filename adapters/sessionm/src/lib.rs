//! SessionM (Mastercard) loyalty platform adapter for Loyalty Bridge.
//!
//! SessionM exposes three separately hosted HTTP families, each with its own HTTP Basic
//! credentials: the **POS/ECom** API (`/api/2.0/lookup`, `lock`, `unlock`, `redeem`,
//! `reinstate`, `send_transaction`, in a `{store_id, client_id, request_id, culture,
//! request_payload}` container), the **Connect** domain services (the offer wallet and points
//! balances) and **Core** (customer profiles). This crate speaks all three and exposes them as
//! one [`loyalty_core::Provider`]: members (find by e-mail, phone, user id or external id;
//! get, register, update), offers (the wallet, or offers SessionM prices against a basket),
//! holds (locks that lapse after 15 minutes), redemptions (immediate redeem, reinstate) and
//! transactions (sent as upserts; a cancel is a void; returns resend the sale without the
//! returned lines).
//!
//! ```no_run
//! use loyalty_core::{Context, MemberLookup, Provider};
//! use loyalty_sessionm::{SessionmAdapter, SessionmConfig};
//!
//! # async fn run() -> Result<(), loyalty_core::Error> {
//! // LOYALTY_SESSIONM_POS_BASE_URL, _POS_KEY, _POS_SECRET, _CONNECT_…, _CORE_…, _RETAILER_ID, …
//! let sessionm = SessionmAdapter::new(SessionmConfig::from_env()?)?;
//! let ctx = Context::new();
//! let members = sessionm.members().expect("SessionM has members");
//! if let Some(member) = members.find(&ctx, &MemberLookup::Email("kari@example.com".into())).await? {
//!     let wallet = sessionm.offers().expect("SessionM has offers").list(&ctx, Some(&member.id), None).await?;
//!     println!("{} has {} offers", member.id, wallet.len());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! With the `simulator` feature, [`simulated::start`] runs the SessionM simulator in-process
//! and returns an adapter pointed at it.
//!
//! Files: [`config`] (settings, env), `wire` (SessionM's models by contract section, and the
//! conversions), [`error`] (classification), `client` (one function per SessionM call),
//! `adapter` (the trait implementations and the capability declaration), `names` (every
//! inferred or simulator-chosen name, in one place).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod adapter;
mod client;
pub mod config;
pub mod decode;
pub mod error;
mod names;
#[cfg(feature = "simulator")]
pub mod simulated;
mod wire;

pub use adapter::{SessionmAdapter, LOCK_TTL_SECS};
pub use client::{RandomRequestIds, RequestIds, SequentialRequestIds};
pub use config::{SessionmConfig, SessionmConfigBuilder};
pub use error::classify;

/// The provider name in errors, spans and capability reports.
pub const PROVIDER: &str = "sessionm";
