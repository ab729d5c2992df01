//! The in-memory reference provider: every capability, with real state.
//!
//! It is the oracle the conformance suite runs first and the embedded default for examples:
//! members and consents, segments, coupons with use limits, stamp progress, locks that expire
//! on an injectable clock, transactions by id (the same id twice is one effect, reported as
//! such), cancel, partial refund, carts with upgrades and dropship orders.
//!
//! ```
//! use loyalty_core::{Context, MemberLookup, Phone, Provider};
//! use loyalty_memory::{demo, MemoryProvider};
//!
//! # tokio_test_block(async {
//! let provider = MemoryProvider::demo();
//! let members = provider.members().expect("memory supports members");
//! let found = members
//!     .find(&Context::new(), &MemberLookup::Phone(Phone::new("+47", demo::MEMBER_PHONE)))
//!     .await
//!     .unwrap();
//! assert_eq!(found.unwrap().id.as_str(), demo::MEMBER_ID);
//! # });
//! # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod commerce;
pub mod demo;
mod provider;
mod redeclared;
mod state;

pub use commerce::PushedNotice;
pub use provider::{MemoryProvider, Pause, PROVIDER};
pub use redeclared::Redeclared;
