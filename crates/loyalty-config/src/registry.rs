//! The registry: one entry per adapter compiled in. Adding an adapter is one cargo feature and
//! one line in [`entries`].

use std::sync::Arc;

use loyalty_core::locks::SharedLocks;
use loyalty_core::{Error, Provider, Result};
use serde_json::Value;

/// What a provider is built with besides its own table.
pub(crate) struct Built {
    /// The leases every instance on the same checkout store shares (for a vendor resource
    /// that exists once per account, such as IdoSell's basket). Adapters without one ignore it.
    #[cfg_attr(not(feature = "idosell"), allow(dead_code))]
    pub locks: Arc<dyn SharedLocks>,
}

struct Entry {
    kind: &'static str,
    build: fn(Value, &Built) -> Result<Arc<dyn Provider>>,
}

/// Kinds that exist as adapters, with the feature that compiles each in.
const KNOWN: &[&str] = &["memory", "diller", "sessionm", "emanage", "idosell"];

fn entries() -> Vec<Entry> {
    vec![
        Entry { kind: "memory", build: memory },
        #[cfg(feature = "diller")]
        Entry { kind: "diller", build: diller },
        #[cfg(feature = "sessionm")]
        Entry { kind: "sessionm", build: sessionm },
        #[cfg(feature = "emanage")]
        Entry { kind: "emanage", build: emanage },
        #[cfg(feature = "idosell")]
        Entry { kind: "idosell", build: idosell },
    ]
}

/// The provider kinds this build can open.
pub fn kinds() -> Vec<&'static str> {
    entries().iter().map(|e| e.kind).collect()
}

pub(crate) fn build(kind: &str, table: Value, with: &Built) -> Result<Arc<dyn Provider>> {
    match entries().into_iter().find(|e| e.kind == kind) {
        Some(e) => (e.build)(table, with),
        None if KNOWN.contains(&kind) => Err(Error::invalid(
            "config",
            "config.load",
            "provider.kind",
            format!("{kind:?} is not compiled into this build: enable the cargo feature `{kind}`"),
        )),
        None => Err(Error::invalid(
            "config",
            "config.load",
            "provider.kind",
            format!("unknown provider {kind:?}; this build knows {}", kinds().join(", ")),
        )),
    }
}

/// `kind = "memory"`: the in-memory provider; `demo = true` (the default) seeds the demo store.
fn memory(table: Value, _: &Built) -> Result<Arc<dyn Provider>> {
    let Value::Object(map) = table else {
        return Err(Error::invalid("memory", "config.load", "provider", "expected a table"));
    };
    let mut demo = true;
    for (key, value) in map {
        match (key.as_str(), value) {
            ("demo", Value::Bool(b)) => demo = b,
            ("demo", _) => {
                return Err(Error::invalid("memory", "config.load", "demo", "expected true or false"))
            }
            (other, _) => {
                return Err(Error::invalid(
                    "memory",
                    "config.load",
                    other,
                    "unknown key in memory config; it takes demo",
                ))
            }
        }
    }
    Ok(if demo {
        Arc::new(loyalty_memory::MemoryProvider::demo())
    } else {
        Arc::new(loyalty_memory::MemoryProvider::default())
    })
}

#[cfg(feature = "diller")]
fn diller(table: Value, _: &Built) -> Result<Arc<dyn Provider>> {
    let config = loyalty_diller::DillerConfig::from_value(table)?;
    Ok(Arc::new(loyalty_diller::DillerAdapter::new(config)?))
}

#[cfg(feature = "sessionm")]
fn sessionm(table: Value, _: &Built) -> Result<Arc<dyn Provider>> {
    let config = loyalty_sessionm::SessionmConfig::from_value(table)?;
    Ok(Arc::new(loyalty_sessionm::SessionmAdapter::new(config)?))
}

#[cfg(feature = "emanage")]
fn emanage(table: Value, _: &Built) -> Result<Arc<dyn Provider>> {
    let config = loyalty_emanage::EmanageConfig::from_value(table)?;
    Ok(Arc::new(loyalty_emanage::EmanageAdapter::new(config)?))
}

#[cfg(feature = "idosell")]
fn idosell(table: Value, with: &Built) -> Result<Arc<dyn Provider>> {
    let config = loyalty_idosell::IdosellConfig::from_value(table)?;
    // One basket per wholesaler account: every instance on this store takes turns on it.
    Ok(Arc::new(loyalty_idosell::IdosellAdapter::new(config)?.with_shared_locks(with.locks.clone())))
}
