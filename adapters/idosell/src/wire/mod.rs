//! IdoSell's own messages, split by the contract's sections: `auth` (G1, §3), `products` (G2,
//! G3 and the ICDF lines, §4), `orders` (G4, G7), `couriers` (G5, G6), `addresses` (G8, G9),
//! `notice` (the shipment webhook, §7.2), with the SOAP layer in `xml` and the conversions to
//! and from the core's types in `convert`. Named as the vendor names them and always written
//! `wire::X` outside this module.
//!
//! Every decoder is a pure function of the reply's bytes (and the names table), so it can be
//! fuzzed; none panics on any input.

pub(crate) mod addresses;
pub(crate) mod auth;
pub(crate) mod convert;
pub(crate) mod couriers;
pub(crate) mod notice;
pub(crate) mod orders;
pub(crate) mod products;
pub(crate) mod xml;

use loyalty_core::{Error, ErrorKind};
use rust_decimal::Decimal;

use crate::error::fault_error;
use crate::names::{FaultClass, Names, FAULT_CODE, FAULT_STRING};
use crate::PROVIDER;

pub(crate) use addresses::{AddressChange, AddressFilter, AddressPage, AddressRecord};
pub(crate) use auth::AuthenticateReply;
pub(crate) use couriers::CourierItem;
pub(crate) use orders::{Order, OrderFilter, PlaceOrderRequest};
pub(crate) use products::{IcdfLine, ImportReply, LineResult};
pub(crate) use xml::{Errors, Node, ReadError};

/// A reply field that contradicts what the contract says: a `Protocol` error naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError {
    pub field: String,
    pub reason: String,
}

impl WireError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> WireError {
        WireError { field: field.into(), reason: reason.into() }
    }

    /// The `Protocol` error of operation `op` (effect `Unknown`: the vendor may have acted).
    pub fn protocol(&self, op: &str) -> Error {
        Error::new(ErrorKind::Protocol, PROVIDER, op).with_message(format!("{}: {}", self.field, self.reason))
    }
}

/// A reply that could not be read: `Protocol`, quoting no vendor text beyond a SOAP fault's.
pub(crate) fn unreadable(op: &str, err: &ReadError) -> Error {
    Error::new(ErrorKind::Protocol, PROVIDER, op).with_message(crate::error::fault_text(&err.to_string()))
}

/// Checks a reply's `errors` block: `Ok(false)` for success, `Ok(true)` for the empty-result
/// class (§6.2: "nothing found" is no failure, checklist 10), the classified error otherwise.
pub(crate) fn check(names: &Names, op: &str, errors: &Errors) -> Result<bool, Error> {
    match names.faults.class(errors.code) {
        FaultClass::Ok => Ok(false),
        FaultClass::Empty => Ok(true),
        _ => Err(fault_error(&names.faults, PROVIDER, op, errors.code, &errors.text)),
    }
}

/// Checks the `faultCode` / `faultString` pair inside one result item (§6.1 \[C\]: batch-style
/// gates answer per item while the top-level `errors` says 0; §5 G9 \[I\]: a per-address
/// result) as [`check`] does the top level: `Ok(false)` when the item has no code or 0,
/// `Ok(true)` for the empty class (nothing found for that item), the classified error (the
/// same fault table) otherwise, its message naming the item at `path`.
pub(crate) fn check_item(names: &Names, op: &str, node: &Node, path: &str) -> Result<bool, Error> {
    let code = integer(node, FAULT_CODE, path).map_err(|e| e.protocol(op))?.unwrap_or(0);
    let text = node.text(FAULT_STRING).unwrap_or_default().to_string();
    check(names, op, &Errors { code, text }).map_err(|e| {
        let message = format!("{path}: {}", e.message());
        e.with_message(message)
    })
}

/// A required, non-empty text field.
pub(crate) fn required<'a>(node: &'a Node, field: &str, path: &str) -> Result<&'a str, WireError> {
    node.non_empty(field).ok_or_else(|| WireError::new(format!("{path}.{field}"), "missing"))
}

/// An optional text field; an empty element counts as absent.
pub(crate) fn optional(node: &Node, field: &str) -> Option<String> {
    node.non_empty(field).map(str::to_string)
}

/// An optional decimal field, read from its own digits. A SOAP number may come in exponent
/// form (`1.0E3`, how a server writes a large `xsd:double`); `INF` and `NaN` are refused.
pub(crate) fn decimal(node: &Node, field: &str, path: &str) -> Result<Option<Decimal>, WireError> {
    node.non_empty(field)
        .map(|t| {
            t.parse::<Decimal>()
                .or_else(|_| Decimal::from_scientific(t))
                .map_err(|_| WireError::new(format!("{path}.{field}"), "not a number"))
        })
        .transpose()
}

/// An optional decimal field that may not be negative (counts, quantities, amounts).
pub(crate) fn non_negative(node: &Node, field: &str, path: &str) -> Result<Option<Decimal>, WireError> {
    match decimal(node, field, path)? {
        Some(d) if d.is_sign_negative() && !d.is_zero() => {
            Err(WireError::new(format!("{path}.{field}"), format!("negative value {d}")))
        }
        other => Ok(other),
    }
}

/// An optional integer field.
pub(crate) fn integer(node: &Node, field: &str, path: &str) -> Result<Option<i64>, WireError> {
    node.non_empty(field)
        .map(|t| t.parse::<i64>().map_err(|_| WireError::new(format!("{path}.{field}"), "not an integer")))
        .transpose()
}

/// An optional boolean field: `true`/`false`/`1`/`0` (PHP's SOAP server writes either).
pub(crate) fn boolean(node: &Node, field: &str, path: &str) -> Result<Option<bool>, WireError> {
    match node.non_empty(field) {
        None => Ok(None),
        Some(t) if t.eq_ignore_ascii_case("true") || t == "1" => Ok(Some(true)),
        Some(t) if t.eq_ignore_ascii_case("false") || t == "0" => Ok(Some(false)),
        Some(_) => Err(WireError::new(format!("{path}.{field}"), "not a boolean")),
    }
}

/// The texts of a list field: a `SOAP-ENC:Array` of `item`s, a JSON array, or an element of
/// repeated children (`<shipmentNumbers><shipmentNumber>…`, the XML webhook, §7.2).
pub(crate) fn strings(node: &Node, field: &str) -> Vec<String> {
    let texts: Vec<&str> = match node.get(field) {
        None => Vec::new(),
        Some(Node::Obj(children)) => children.iter().filter_map(|(_, v)| v.as_text()).collect(),
        Some(n) => n.items().into_iter().filter_map(Node::as_text).collect(),
    };
    texts.into_iter().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Option<Decimal>, WireError> {
        let (_, node) = xml::parse(format!("<r><v>{text}</v></r>").as_bytes()).unwrap();
        decimal(&node, "v", "r")
    }

    #[test]
    fn decimals_are_read_in_plain_and_exponent_form_but_not_as_infinity() {
        assert_eq!(read("24.99").unwrap(), Some(Decimal::new(2499, 2)));
        assert_eq!(read("1.0E3").unwrap(), Some(Decimal::from(1000)));
        assert_eq!(read("2.5e-1").unwrap(), Some(Decimal::new(25, 2)));
        for bad in ["INF", "NaN", "12,50", "1E"] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
