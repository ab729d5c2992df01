//! Recipient addresses: G8 `getClientAddresses` and G9 `setClientAddress` (§5), and the address
//! fields G4 sends for a recipient.

use loyalty_core::Error;

use super::convert::Refused;
use super::xml::{read_reply, Node, Writer};
use super::{check, check_item, integer, optional, required, unreadable, WireError};
use crate::names::{el, Gateway, Names, FAULT_CODE};

/// Address fields as G4, G8 and G9 name them (§5, working names \[S\]); `None` is not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AddressFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl AddressFields {
    fn pairs(&self) -> [(&'static str, Option<&str>); 9] {
        [
            (el::FIRST_NAME, self.first_name.as_deref()),
            (el::LAST_NAME, self.last_name.as_deref()),
            (el::COMPANY, self.company.as_deref()),
            (el::STREET, self.street.as_deref()),
            (el::POSTCODE, self.postcode.as_deref()),
            (el::CITY, self.city.as_deref()),
            (el::COUNTRY, self.country.as_deref()),
            (el::PHONE, self.phone.as_deref()),
            (el::EMAIL, self.email.as_deref()),
        ]
    }

    /// Writes the given fields inside element `name` of type `ns1:{ty}`.
    pub fn write(&self, w: &mut Writer, name: &str, ty: &str) {
        w.open(name, ty);
        for (k, v) in self.pairs() {
            w.opt_text(k, v);
        }
        w.close(name);
    }

    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        self.pairs().iter().all(|(_, v)| v.is_none())
    }
}

/// One address record of G8/G9.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddressRecord {
    pub id: i64,
    pub order_id: Option<String>,
    pub fields: AddressFields,
}

fn record(node: &Node, path: &str) -> Result<AddressRecord, WireError> {
    let id = integer(node, el::ADDRESS_ID, path)?
        .ok_or_else(|| WireError::new(format!("{path}.{}", el::ADDRESS_ID), "missing"))?;
    if id < 0 {
        return Err(WireError::new(format!("{path}.{}", el::ADDRESS_ID), "negative id"));
    }
    let f = |name| optional(node, name);
    Ok(AddressRecord {
        id,
        order_id: f(el::ORDER_ID),
        fields: AddressFields {
            first_name: f(el::FIRST_NAME),
            last_name: f(el::LAST_NAME),
            company: f(el::COMPANY),
            street: f(el::STREET),
            postcode: f(el::POSTCODE),
            city: f(el::CITY),
            country: f(el::COUNTRY),
            phone: f(el::PHONE),
            email: f(el::EMAIL),
        },
    })
}

/// Which addresses G8 reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AddressFilter {
    /// One address by id.
    Id(i64),
    /// The address of one order.
    Order(String),
}

/// G8 params: the filter and a page (`resultsPage` from 0, `resultsLimit`; admin names \[C\]).
pub(crate) fn get_addresses_params(
    names: &Names,
    filter: &AddressFilter,
    page: i64,
    limit: i64,
) -> Result<String, Refused> {
    let mut w = Writer::new();
    match filter {
        AddressFilter::Id(id) => w.int(el::ADDRESS_ID, *id),
        AddressFilter::Order(order) => w.text(el::ORDER_ID, order),
    }
    w.int(&names.results_page, page);
    w.int(&names.results_limit, limit);
    w.into_string()
}

/// One page of G8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddressPage {
    pub addresses: Vec<AddressRecord>,
    pub total: Option<i64>,
}

/// Decodes G8; faultCode 2 ("nothing found", §6.2) is an empty page. A per-address fault
/// (§6.1) is the call's error, except the empty class, which leaves that address out.
pub(crate) fn decode_get_addresses(names: &Names, op: &str, bytes: &[u8]) -> Result<AddressPage, Error> {
    let reply = read_reply(names, bytes).map_err(|e| unreadable(op, &e))?;
    if check(names, op, &reply.errors)? {
        return Ok(AddressPage { addresses: Vec::new(), total: Some(0) });
    }
    let results = reply
        .results(names.gates.get(Gateway::GetClientAddresses))
        .ok_or_else(|| WireError::new("results", "missing").protocol(op))?;
    let items = results.items_named(el::ADDRESSES, el::ADDRESS);
    let mut addresses = Vec::with_capacity(items.len());
    for (i, n) in items.into_iter().enumerate() {
        let path = format!("results.addresses[{i}]");
        // A per-address fault (§6.1): "nothing found" leaves that address out, any other is
        // the call's error.
        if check_item(names, op, n, &path)? {
            continue;
        }
        addresses.push(record(n, &path).map_err(|e| e.protocol(op))?);
    }
    let total = integer(results, el::RESULTS_NUMBER_ALL, "results").map_err(|e| e.protocol(op))?;
    if total.is_some_and(|t| t < 0) {
        return Err(WireError::new("results.resultsNumberAll", "negative count").protocol(op));
    }
    Ok(AddressPage { addresses, total })
}

/// The fields G9 changes (only those given are sent).
pub(crate) type AddressChange = AddressFields;

/// G9 params: the address id and the changed fields.
pub(crate) fn set_address_params(id: i64, change: &AddressChange) -> Result<String, Refused> {
    let mut w = Writer::new();
    w.int(el::ADDRESS_ID, id);
    change.write(&mut w, el::ADDRESS, "addressType");
    w.into_string()
}

/// Decodes G9: the address as it is now.
///
/// The refusal may come in the top-level `errors` or, with the top level 0, as the
/// per-address `faultCode`/`faultString` (§5 G9 \[I\], §6.1 \[C\]): in the results element or
/// in the address it names. Either maps through the same fault table (10, address locked:
/// `Conflict`); the empty class is `NotFound`.
pub(crate) fn decode_set_address(names: &Names, op: &str, bytes: &[u8]) -> Result<AddressRecord, Error> {
    let reply = read_reply(names, bytes).map_err(|e| unreadable(op, &e))?;
    let not_found = |code: i64| {
        // An empty result names no address: not found, with the vendor's fault number.
        Error::not_found(crate::PROVIDER, op, "no such address").with_vendor_code(code.to_string())
    };
    if check(names, op, &reply.errors)? {
        return Err(not_found(reply.errors.code));
    }
    let results = reply
        .results(names.gates.get(Gateway::SetClientAddress))
        .ok_or_else(|| WireError::new("results", "missing").protocol(op))?;
    // A per-address result in the results element itself (the address may then be absent).
    if check_item(names, op, results, "results")? {
        return Err(not_found(integer(results, FAULT_CODE, "results").ok().flatten().unwrap_or(0)));
    }
    let address =
        results.get(el::ADDRESS).ok_or_else(|| WireError::new("results.address", "missing").protocol(op))?;
    if check_item(names, op, address, "results.address")? {
        return Err(not_found(integer(address, FAULT_CODE, "results.address").ok().flatten().unwrap_or(0)));
    }
    let _ = required(address, el::ADDRESS_ID, "results.address").map_err(|e| e.protocol(op))?;
    record(address, "results.address").map_err(|e| e.protocol(op))
}
