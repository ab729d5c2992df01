//! Local vendor simulators for Loyalty Bridge: axum servers on loopback with an injectable
//! clock, a request journal, fault injection and fixture replay.
//!
//! Simulators are written from the vendor documents (summarised in `docs/vendors/`), never from an
//! adapter's wire types; this crate depends on no adapter.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use loyalty_sim::{diller::{DillerSettings, DillerSim}, Fault, SimClock};
//!
//! let server = DillerSim::start(DillerSettings::default(), SimClock::default()).await?;
//! let handle = server.handle();
//! handle.inject("POST", "/connect/token", Fault::Status(503), Some(1));
//! // point an adapter at server.base_url() ...
//! assert_eq!(handle.journal().count("POST", "/connect/token"), 0);
//! server.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod clock;
pub mod control;
mod currency;
pub mod diller;
pub mod emanage;
pub mod fault;
pub mod idosell;
pub mod journal;
pub mod replay;
pub mod server;
pub mod sessionm;
pub mod stub;

pub use clock::SimClock;
pub use fault::Fault;
pub use journal::{Journal, JournalEntry};
pub use server::{FaultBody, Oversized, SimHandle, SimOptions, SimServer};
