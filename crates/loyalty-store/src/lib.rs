//! Durable checkout state for Loyalty Bridge: [`CheckoutStore`]s that survive a restart.
//!
//! - [`SqliteCheckoutStore`] (feature `sqlite`, the default): one file, created and migrated on
//!   open. For one shop instance.
//! - [`PostgresCheckoutStore`] (feature `postgres`): for several shop instances sharing one
//!   store. Two instances completing the same order at once still make one charge (a versioned
//!   conditional update decides), and any instance may drain the outbox, each pending send
//!   claimed by exactly one (`FOR UPDATE SKIP LOCKED`).
//!
//! Both keep the same tables: one row per order (its state, version, due time, claim and the
//! whole record as JSON) and one per return ledger. [`open`] picks the store from a URL.
//!
//! Both are also [`SharedLocks`]: named leases in the same database (the `shared_locks`
//! table), which [`open_shared`] hands out beside the store, so every instance on one store
//! takes turns on a vendor resource that exists once per account (IdoSell's basket).
//!
//! ```no_run
//! # async fn run() -> loyalty_core::Result<()> {
//! use std::sync::Arc;
//! use loyalty_core::checkout::{Checkout, SimulatedPayment};
//! use loyalty_core::SystemClock;
//!
//! let store = loyalty_store::open("sqlite:checkout.db").await?;
//! let provider = Arc::new(loyalty_memory::MemoryProvider::demo());
//! let checkout = Checkout::with_store(provider, Arc::new(SimulatedPayment::new()), Arc::new(SystemClock), store);
//! // After a restart: settle what the last process left half-way, resend the outbox.
//! let report = checkout.tick(&loyalty_core::Context::new()).await?;
//! println!("resent {:?}", report.sent);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod common;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod locks;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::sync::Arc;

pub use loyalty_core::checkout::{CheckoutStore, MemoryCheckoutStore};
pub use loyalty_core::locks::{InProcessLocks, SharedLocks};
use loyalty_core::{Error, Result};
#[cfg(feature = "postgres")]
pub use postgres::PostgresCheckoutStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteCheckoutStore;

/// The file of a `sqlite:PATH` or `sqlite://PATH` URL (sqlx's spelling; `sqlite:///abs` is
/// `/abs`). An in-memory SQLite database is refused: each pooled connection would get a
/// database of its own, so one order could be recorded (and charged) twice.
#[cfg(feature = "sqlite")]
fn sqlite_path(url: &str) -> Result<&str> {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let path = rest.strip_prefix("//").unwrap_or(rest);
    let (path, options) = path.split_once('?').unwrap_or((path, ""));
    if path.is_empty() || path == ":memory:" || options.contains("mode=memory") {
        return Err(Error::invalid(
            "checkout-store",
            "store.open",
            "store",
            "an SQLite store needs a file (sqlite:PATH); for a store in process memory use memory:",
        ));
    }
    Ok(path)
}

/// Opens the store a URL names: `sqlite:PATH` (the file is created when missing),
/// `postgres://…` / `postgresql://…`, or `memory:` (process memory, for tests and demos).
///
/// # Errors
/// `Invalid { field: "store" }` for another scheme or one whose feature is not compiled in;
/// `Unavailable` when the database cannot be opened or migrated.
pub async fn open(url: &str) -> Result<Arc<dyn CheckoutStore>> {
    Ok(open_shared(url).await?.checkout)
}

/// A checkout store and the [`SharedLocks`] kept beside it: what several shop instances on the
/// same store share (an adapter's lease on a vendor resource that exists once per account).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SharedStore {
    /// The checkout store.
    pub checkout: Arc<dyn CheckoutStore>,
    /// Leases in the same database (the `shared_locks` table); for `memory:`, the process's
    /// own ([`InProcessLocks::process`]).
    pub locks: Arc<dyn SharedLocks>,
}

/// Opens the store a URL names, as [`open`], with its shared leases.
///
/// # Errors
/// As [`open`].
pub async fn open_shared(url: &str) -> Result<SharedStore> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "memory" => Ok(SharedStore {
            checkout: Arc::new(MemoryCheckoutStore::new()),
            locks: InProcessLocks::process(),
        }),
        #[cfg(feature = "sqlite")]
        "sqlite" => {
            let store = Arc::new(SqliteCheckoutStore::open(sqlite_path(url)?).await?);
            Ok(SharedStore { checkout: store.clone(), locks: store })
        }
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => {
            let store = Arc::new(PostgresCheckoutStore::connect(url).await?);
            Ok(SharedStore { checkout: store.clone(), locks: store })
        }
        other => Err(Error::invalid(
            "checkout-store",
            "store.open",
            "store",
            format!(
                "{other:?} is no checkout store this build knows: use sqlite:PATH{}, or memory:",
                if cfg!(feature = "postgres") {
                    ", postgres://…"
                } else {
                    " (postgres needs the `postgres` feature)"
                }
            ),
        )),
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_a_file() {
        assert_eq!(sqlite_path("sqlite:loyalty.db").unwrap(), "loyalty.db");
        assert_eq!(sqlite_path("sqlite://loyalty.db").unwrap(), "loyalty.db");
        assert_eq!(sqlite_path("sqlite:///var/lib/loyalty.db").unwrap(), "/var/lib/loyalty.db");
        assert_eq!(sqlite_path("sqlite:/tmp/x.db").unwrap(), "/tmp/x.db");
        for url in ["sqlite:", "sqlite::memory:", "sqlite://", "sqlite:x.db?mode=memory"] {
            let err = sqlite_path(url).unwrap_err();
            assert!(err.to_string().contains("use memory:"), "{url}: {err}");
        }
    }
}
