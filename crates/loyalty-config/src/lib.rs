//! From a `loyalty.toml` to a provider and its checkout: switching provider is editing the file.
//!
//! ```toml
//! [provider]
//! kind = "diller"                                   # memory | diller | … (see `kinds()`)
//! base_url = "https://api.prerelease.dillerapp.com"
//! client_id = "my-store"
//! client_secret_env = "LOYALTY_DILLER_CLIENT_SECRET" # secrets by variable name, never inline
//! store_id = "my-store"
//!
//! [store]
//! url = "sqlite:loyalty-checkout.db"                # or postgres://… for several instances
//!
//! [checkout]                                        # optional timing, in seconds
//! lease_secs = 60
//! ```
//!
//! Every key of `[provider]` other than `kind` is the adapter's own configuration (its docs
//! list them). Unknown keys anywhere are an error naming the key and the file; a secret
//! variable that is not set, or set but empty, is an error naming the variable.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use loyalty_core::checkout::SimulatedPayment;
//!
//! let config = loyalty_config::parse("[provider]\nkind = \"memory\"\n[store]\nurl = \"memory:\"\n", "inline")?;
//! let opened = config.open().await?;
//! assert_eq!(opened.provider.name(), "memory");
//! let checkout = opened.checkout(Arc::new(SimulatedPayment::new()));
//! # let _ = checkout;
//! # Ok::<(), loyalty_core::Error>(()) }).unwrap();
//! ```
//!
//! Each adapter is compiled in behind the cargo feature of its name (`diller`, …); the memory
//! provider is always there. Opening never starts a simulator: simulators are for the `loyalty`
//! command's `demo`, `sim` and `conformance`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod registry;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use loyalty_core::checkout::{Checkout, CheckoutOptions, CheckoutStore, Payment};
use loyalty_core::locks::{InProcessLocks, SharedLocks};
use loyalty_core::{Checked, Clock, Error, Provider, Result, SystemClock};
use serde_json::{Map, Value};

pub use registry::kinds;

const OP: &str = "config.load";
const PROVIDER: &str = "config";
/// The checkout store when `[store]` names none: an SQLite file next to the process.
pub const DEFAULT_STORE: &str = "sqlite:loyalty-checkout.db";
const SECTIONS: &[&str] = &["provider", "store", "checkout", "serve"];

/// A parsed `loyalty.toml`. Its `Debug` shows the provider's keys but none of their values
/// (a secret written inline would otherwise be printed) and the store URL without its user,
/// password or query.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Where it was read from (for messages).
    pub source: String,
    /// `[provider] kind`.
    pub kind: String,
    /// The rest of `[provider]`: the adapter's own keys.
    pub provider: Map<String, Value>,
    /// `[store] url`.
    pub store_url: String,
    /// `[checkout]` timing.
    pub checkout: CheckoutOptions,
    /// `[serve]`, read by `loyalty serve` (kept as it is here).
    pub serve: Option<Value>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("source", &self.source)
            .field("kind", &self.kind)
            .field("provider_keys", &self.provider.keys().collect::<Vec<_>>())
            .field("store_url", &redacted_store_url(&self.store_url))
            .field("checkout", &self.checkout)
            .field("serve", &self.serve.as_ref().map(|_| "[serve]"))
            .finish()
    }
}

/// A store URL as it may be printed: `postgres://[redacted]@host/db`, no query.
fn redacted_store_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://[redacted]@{host}/{path}"),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

/// What a configuration opens: the provider (checked against its declaration), the checkout
/// store and timing.
#[derive(Clone)]
#[non_exhaustive]
pub struct Opened {
    /// The provider, every operation checked against its capabilities.
    pub provider: Arc<dyn Provider>,
    /// The checkout store.
    pub store: Arc<dyn CheckoutStore>,
    /// The leases kept beside the checkout store, shared by every instance on that store (the
    /// provider took its own from here: IdoSell's basket lease).
    pub locks: Arc<dyn SharedLocks>,
    /// Checkout timing.
    pub options: CheckoutOptions,
    /// The clock (the system's).
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened").field("provider", &self.provider.name()).field("store", &self.store).finish()
    }
}

impl Opened {
    /// Opens what a test or an embedding program built itself (a provider over a simulator,
    /// say), checked against its declaration as a configured one is: the store, default
    /// timing, the system clock and the process's leases ([`InProcessLocks::process`]).
    pub fn new(provider: Arc<dyn Provider>, store: Arc<dyn CheckoutStore>) -> Opened {
        let provider: Arc<dyn Provider> = Arc::new(Checked::new(provider));
        Opened {
            provider,
            store,
            locks: InProcessLocks::process(),
            options: CheckoutOptions::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same, on another clock (a test's manual clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Opened {
        self.clock = clock;
        self
    }

    /// A checkout over the provider and store, charging through `payment`.
    pub fn checkout(&self, payment: Arc<dyn Payment>) -> Checkout<'static> {
        Checkout::with_store(self.provider.clone(), payment, self.clock.clone(), self.store.clone())
            .with_options(self.options.clone())
    }
}

fn invalid(source: &str, field: impl Into<String>, reason: impl std::fmt::Display) -> Error {
    Error::invalid(PROVIDER, OP, field, format!("{reason} (in {source})"))
}

/// Reads and checks the configuration file at `path`.
///
/// # Errors
/// `Invalid { field: "config" }` for a file that cannot be read or is not TOML; `Invalid`
/// naming the key (and the file) for an unknown or malformed key.
pub fn load(path: impl AsRef<Path>) -> Result<Config> {
    let path = path.as_ref();
    let source = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(&source, "config", format!("cannot read the file: {e}")))?;
    parse(&text, &source)
}

/// Parses a configuration given as text; `source` names it in messages.
///
/// # Errors
/// As [`load`].
pub fn parse(text: &str, source: &str) -> Result<Config> {
    let root: Value = toml::from_str(text).map_err(|e| invalid(source, "config", toml_error(text, &e)))?;
    let Value::Object(mut root) = root else { return Err(invalid(source, "config", "expected a table")) };
    if let Some(unknown) = root.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
        return Err(invalid(
            source,
            unknown.clone(),
            format!("unknown section; expected one of {}", SECTIONS.join(", ")),
        ));
    }
    let mut provider = match root.remove("provider") {
        Some(Value::Object(p)) => p,
        Some(_) => return Err(invalid(source, "provider", "expected a table")),
        None => {
            return Err(invalid(source, "provider", "missing: say which provider, e.g. kind = \"memory\""))
        }
    };
    let kind = match provider.remove("kind") {
        Some(Value::String(k)) => k,
        _ => {
            return Err(invalid(
                source,
                "provider.kind",
                format!("missing or not a string; one of {}", kinds().join(", ")),
            ))
        }
    };
    let store_url = match root.remove("store") {
        None => DEFAULT_STORE.to_string(),
        Some(Value::Object(mut s)) => {
            let url = match s.remove("url") {
                None => DEFAULT_STORE.to_string(),
                Some(Value::String(u)) => u,
                Some(_) => return Err(invalid(source, "store.url", "expected a string")),
            };
            if let Some(unknown) = s.keys().next() {
                return Err(invalid(source, format!("store.{unknown}"), "unknown key; [store] takes url"));
            }
            url
        }
        Some(_) => return Err(invalid(source, "store", "expected a table")),
    };
    let checkout = match root.remove("checkout") {
        None => CheckoutOptions::default(),
        Some(Value::Object(c)) => checkout_options(source, c)?,
        Some(_) => return Err(invalid(source, "checkout", "expected a table")),
    };
    Ok(Config {
        source: source.to_string(),
        kind,
        provider,
        store_url,
        checkout,
        serve: root.remove("serve"),
    })
}

/// A TOML error as one line: where (line and column, counted from 1) and why.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let reason = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    match e.span() {
        Some(span) => {
            let mut start = span.start.min(text.len());
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
            format!("not valid TOML at line {line}, column {column}: {reason}")
        }
        None => format!("not valid TOML: {reason}"),
    }
}

fn checkout_options(source: &str, table: Map<String, Value>) -> Result<CheckoutOptions> {
    let mut o = CheckoutOptions::default();
    for (key, value) in table {
        let secs = || {
            value.as_u64().filter(|s| *s > 0).map(Duration::from_secs).ok_or_else(|| {
                invalid(source, format!("checkout.{key}"), "expected a positive number of seconds")
            })
        };
        match key.as_str() {
            "lease_secs" => o.lease = secs()?,
            "wait_secs" => o.wait = secs()?,
            "resend_backoff_secs" => o.resend_backoff = secs()?,
            "resend_backoff_max_secs" => o.resend_backoff_max = secs()?,
            "action_timeout_secs" => o.action_timeout = secs()?,
            "owner" => {
                o.owner = value
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(source, "checkout.owner", "expected a string"))?
            }
            other => {
                return Err(invalid(
                    source,
                    format!("checkout.{other}"),
                    "unknown key; [checkout] takes lease_secs, wait_secs, resend_backoff_secs, resend_backoff_max_secs, action_timeout_secs, owner",
                ))
            }
        }
    }
    Ok(o)
}

impl Config {
    /// The provider this configuration names, checked against its declaration, on the
    /// process's own leases ([`InProcessLocks::process`]): alone, it shares nothing with other
    /// instances; [`Config::open`] gives it the checkout store's.
    ///
    /// # Errors
    /// `Invalid { field: "provider.kind" }` for a kind not compiled in (naming the cargo
    /// feature that adds it); the adapter's `Invalid` naming the key (and the file); a secret
    /// variable that is not set or empty, naming it.
    pub fn provider(&self) -> Result<Arc<dyn Provider>> {
        self.provider_with_locks(InProcessLocks::process())
    }

    /// The provider this configuration names, taking turns on a vendor resource that exists
    /// once per account (IdoSell's basket) through `locks`.
    ///
    /// # Errors
    /// As [`Config::provider`].
    pub fn provider_with_locks(&self, locks: Arc<dyn SharedLocks>) -> Result<Arc<dyn Provider>> {
        self.check_secret_vars()?;
        let built =
            registry::build(&self.kind, Value::Object(self.provider.clone()), &registry::Built { locks })
                .map_err(|e| in_file(e, &self.source))?;
        Ok(Arc::new(Checked::new(built)))
    }

    /// Every `<secret>_env` key of `[provider]` names a variable that is set and not empty: an
    /// empty one would otherwise reach the adapter as a missing secret, without its name.
    fn check_secret_vars(&self) -> Result<()> {
        for (key, value) in &self.provider {
            let (Some(_), Value::String(var)) = (key.strip_suffix("_env"), value) else { continue };
            let problem = match std::env::var_os(var) {
                None => "is not set",
                Some(v) if v.to_string_lossy().trim().is_empty() => "is set but empty",
                Some(_) => continue,
            };
            return Err(invalid(
                &self.source,
                format!("provider.{key}"),
                format!("environment variable {var} {problem}"),
            ));
        }
        Ok(())
    }

    /// Opens the checkout store and the provider, which takes turns with every other instance
    /// on the same store through the store's leases (IdoSell's one basket per account).
    ///
    /// # Errors
    /// As [`Config::provider`], and the store's errors (an unknown scheme is `Invalid
    /// { field: "store" }`; a database that cannot be reached is `Unavailable`).
    pub async fn open(&self) -> Result<Opened> {
        // The provider is built with the store's leases, so the store opens first; a secret
        // variable that is missing is still reported before the store is touched.
        self.check_secret_vars()?;
        let shared =
            loyalty_store::open_shared(&self.store_url).await.map_err(|e| in_file(e, &self.source))?;
        let provider = self.provider_with_locks(shared.locks.clone())?;
        Ok(Opened {
            provider,
            store: shared.checkout,
            locks: shared.locks,
            options: self.checkout.clone(),
            clock: Arc::new(SystemClock),
        })
    }
}

/// Adds the file to an error's message, so a support desk knows which file to fix.
fn in_file(e: Error, source: &str) -> Error {
    let e = match e.kind() {
        loyalty_core::ErrorKind::Invalid { field, reason }
            if !(field.starts_with("provider.") || field == "store") =>
        {
            Error::new(
                loyalty_core::ErrorKind::Invalid {
                    field: format!("provider.{field}"),
                    reason: reason.clone(),
                },
                e.provider(),
                e.operation(),
            )
        }
        _ => e,
    };
    naming_file(e, source)
}

/// An error about a configuration file's contents, naming the file: the reason of an
/// `Invalid`, or the message of any other error, ends with `(in FILE)`, as every configuration
/// error does (for a caller reading its own section, such as `loyalty serve`'s `[serve]`).
pub fn naming_file(e: Error, source: &str) -> Error {
    match e.kind() {
        loyalty_core::ErrorKind::Invalid { field, reason } => Error::new(
            loyalty_core::ErrorKind::Invalid {
                field: field.clone(),
                reason: format!("{reason} (in {source})"),
            },
            e.provider(),
            e.operation(),
        ),
        _ => {
            let message = if e.message().is_empty() {
                format!("in {source}")
            } else {
                format!("{} (in {source})", e.message())
            };
            e.with_message(message)
        }
    }
}

/// Loads `path` and opens what it names.
///
/// # Errors
/// As [`load`] and [`Config::open`].
pub async fn open(path: impl AsRef<Path>) -> Result<Opened> {
    load(path)?.open().await
}
