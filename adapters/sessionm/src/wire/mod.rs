//! SessionM's own types, named as SessionM names them and split by the contract's sections:
//! [`envelope`] (the POS container and the response containers, §3.1, §3.2, §4.1, §5.8),
//! [`lookup`] (§3.3), [`discounting`] (§3.5-§3.8 and the Discount object, §5.5), [`transaction`]
//! (§5.1-§5.3), [`offers`] (the wallet, §4.3, §5.6), [`points`] (§4.2), [`core`] (§5.7, §6),
//! [`lenient`] (reading leniently, writing exactly) and `convert` (the conversions both ways).
//!
//! Every reply decoder is a pure function of the body bytes. Private to the crate: nothing
//! outside needs SessionM's shapes.

pub(crate) mod convert;
pub(crate) mod core;
pub(crate) mod discounting;
pub(crate) mod envelope;
pub(crate) mod lenient;
pub(crate) mod lookup;
pub(crate) mod offers;
pub(crate) mod points;
pub(crate) mod transaction;

use loyalty_core::{Error, ErrorKind, WriteEffect};

use crate::PROVIDER;

/// A value that cannot cross the edge: `field` names where (a JSON path on replies, a domain
/// path on requests), `reason` says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConversionError {
    pub field: String,
    pub reason: String,
}

impl ConversionError {
    pub(crate) fn new(field: impl Into<String>, reason: impl Into<String>) -> ConversionError {
        ConversionError { field: field.into(), reason: reason.into() }
    }

    /// Prefixes the field with `parent` (`items[2]` + `amount` = `items[2].amount`).
    pub(crate) fn within(self, parent: &str) -> ConversionError {
        let field =
            if self.field.is_empty() { parent.to_string() } else { format!("{parent}.{}", self.field) };
        ConversionError { field, ..self }
    }

    /// A reply the vendor should never send: `Protocol`, effect unknown (a write may have been
    /// applied before the reply went wrong).
    pub(crate) fn protocol(self, operation: &str) -> Error {
        Error::new(ErrorKind::Protocol, PROVIDER, operation)
            .with_effect(WriteEffect::Unknown)
            .with_message(format!("{}: {}", self.field, self.reason))
    }

    /// A request we refuse to send: `Invalid` naming the field, nothing sent.
    pub(crate) fn invalid(self, operation: &str) -> Error {
        Error::invalid(PROVIDER, operation, self.field, self.reason).with_effect(WriteEffect::NotSent)
    }
}

/// A field whose `null` reads as its default (an empty text or list): one `null` does not
/// fail a whole reply ("How to use this document": parse leniently).
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    Ok(<Option<T> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// Reads JSON into `T`, naming the serde path on failure.
pub(crate) fn from_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    what: &str,
) -> Result<T, ConversionError> {
    serde_json::from_value(value).map_err(|e| ConversionError::new(what, e.to_string()))
}
