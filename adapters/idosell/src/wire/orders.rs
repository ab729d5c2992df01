//! Orders: G4 `placeOrder` and G7 `getOrderStatus` (§5).

use chrono::NaiveDate;
use loyalty_core::Error;
use rust_decimal::Decimal;

use super::addresses::AddressFields;
use super::convert::Refused;
use super::xml::{read_reply, stream_items, Node, Writer};
use super::{
    boolean, check, check_item, integer, non_negative, optional, required, strings, unreadable, WireError,
};
use crate::names::{el, Gateway, Names, RESULT};

/// The shop's invoice data on G4 (§5 G4, names \[S\]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BillingFields {
    pub company: String,
    pub tax_id: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
}

/// G4: the recipient, the delivery, the payer and the shop's reference (§5 G4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlaceOrderRequest {
    pub recipient: AddressFields,
    pub courier_id: String,
    pub pickup_point: Option<String>,
    pub preferred_date: Option<NaiveDate>,
    pub cash_on_delivery: Option<Decimal>,
    pub billing: BillingFields,
    pub reference: String,
    pub note: Option<String>,
}

impl PlaceOrderRequest {
    /// G4 params.
    pub fn params(&self, names: &Names) -> Result<String, Refused> {
        let mut w = Writer::new();
        self.recipient.write(&mut w, el::RECIPIENT, "recipientType");
        w.open(el::DELIVERY, "deliveryType");
        // Courier ids are integers in IdoSell's replies (§5 G5 [I]), but an id is text: only
        // one an integer writes back the same (`10`, not `007` or `+5`) goes as `xsd:int`.
        match self.courier_id.parse::<i64>() {
            Ok(id) if id.to_string() == self.courier_id => w.int(el::COURIER_ID, id),
            _ => w.text(el::COURIER_ID, &self.courier_id),
        }
        w.opt_text(el::PICKUP_POINT_ID, self.pickup_point.as_deref());
        if let Some(d) = self.preferred_date {
            w.text(el::PREFERRED_DELIVERY_DATE, &d.format("%Y-%m-%d").to_string());
        }
        if let Some(c) = self.cash_on_delivery {
            w.decimal(el::CASH_ON_DELIVERY, c);
        }
        w.close(el::DELIVERY);
        let b = &self.billing;
        w.open(el::BILLING, "billingType");
        for (k, v) in [
            (el::COMPANY, &b.company),
            (el::TAX_ID, &b.tax_id),
            (el::STREET, &b.street),
            (el::POSTCODE, &b.postcode),
            (el::CITY, &b.city),
            (el::COUNTRY, &b.country),
        ] {
            w.text(k, v);
        }
        w.close(el::BILLING);
        w.text(&names.shop_order_reference, &self.reference);
        w.opt_text(el::NOTE, self.note.as_deref());
        w.into_string()
    }
}

/// An order as G4 and G7 report it (§5 G4, G7 \[I\]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Order {
    pub id: String,
    pub serial: Option<i64>,
    pub reference: Option<String>,
    pub status: String,
    pub duplicate: Option<bool>,
    pub courier_id: Option<String>,
    pub courier_name: Option<String>,
    pub shipment_numbers: Vec<String>,
    pub dispatch_date: Option<String>,
    pub address_id: Option<i64>,
    pub order_total: Option<Decimal>,
    pub currency: Option<String>,
}

pub(crate) fn order(names: &Names, node: &Node, path: &str) -> Result<Order, WireError> {
    let id = required(node, el::ORDER_ID, path)?.to_string();
    let serial = integer(node, el::ORDER_SERIAL_NUMBER, path)?;
    if serial.is_some_and(|s| s < 0) {
        return Err(WireError::new(format!("{path}.{}", el::ORDER_SERIAL_NUMBER), "negative"));
    }
    let address_id = integer(node, el::ADDRESS_ID, path)?;
    if address_id.is_some_and(|a| a < 0) {
        return Err(WireError::new(format!("{path}.{}", el::ADDRESS_ID), "negative"));
    }
    Ok(Order {
        id,
        serial,
        reference: optional(node, &names.shop_order_reference),
        status: required(node, el::STATUS, path)?.to_string(),
        duplicate: boolean(node, el::DUPLICATE, path)?,
        courier_id: optional(node, el::COURIER_ID),
        courier_name: optional(node, el::COURIER_NAME),
        shipment_numbers: strings(node, el::SHIPMENT_NUMBERS).into_iter().filter(|s| !s.is_empty()).collect(),
        dispatch_date: optional(node, el::DISPATCH_DATE),
        address_id,
        order_total: non_negative(node, el::ORDER_TOTAL, path)?,
        currency: optional(node, el::CURRENCY),
    })
}

/// Decodes G4: the order placed (or, flagged `duplicate`, the one placed earlier under the
/// same reference).
///
/// faultCode 2 ("nothing found") stays an error here: a placement answers an order (or a
/// refusal, such as 9 for an empty basket), and an empty result names none, so whether an
/// order was placed is unknown. A `Protocol` error with effect `Unknown`, so the adapter looks
/// the shop's reference up with G7 before anything is sent again (§3.5).
pub(crate) fn decode_place_order(names: &Names, op: &str, bytes: &[u8]) -> Result<Order, Error> {
    let reply = read_reply(names, bytes).map_err(|e| unreadable(op, &e))?;
    if check(names, op, &reply.errors)? {
        return Err(WireError::new(
            "errors.faultCode",
            "an empty result to placeOrder, which names no order",
        )
        .protocol(op)
        .with_vendor_code(reply.errors.code.to_string())
        .with_effect(loyalty_core::WriteEffect::Unknown));
    }
    let results = reply
        .results(names.gates.get(Gateway::PlaceOrder))
        .ok_or_else(|| WireError::new("results", "missing").protocol(op))?;
    // The order's own fault pair (§6.1, per item under a top-level 0) refuses it like the
    // top level; its empty class names no order either.
    if check_item(names, op, results, "results")? {
        return Err(WireError::new(
            "results.faultCode",
            "an empty result to placeOrder, which names no order",
        )
        .protocol(op)
        .with_effect(loyalty_core::WriteEffect::Unknown));
    }
    order(names, results, "results").map_err(|e| e.protocol(op))
}

/// Which orders G7 reads: by the wholesaler's ids or the shop's references (§5 G7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OrderFilter {
    Ids(Vec<String>),
    References(Vec<String>),
}

/// G7 params.
pub(crate) fn order_status_params(filter: &OrderFilter) -> Result<String, Refused> {
    let mut w = Writer::new();
    match filter {
        OrderFilter::Ids(ids) => w.strings(el::ORDER_IDS, ids),
        OrderFilter::References(refs) => w.strings(el::SHOP_ORDER_REFERENCES, refs),
    }
    w.into_string()
}

/// Decodes G7 in one pass over the reply: each order is read, handed to `each` and its tree
/// dropped before the next (a reply of thousands of orders is never held as a tree, nor as a
/// second list). faultCode 2 is no orders; an order's own faultCode 2 leaves that order out,
/// and any other per-order code is the call's error (§6.1).
///
/// A success (faultCode 0) without a results element (the gate's results key, or the singular
/// [`RESULT`]) is a `Protocol` error with effect `Unknown`, as G4, G5, G6 and G8 refuse one: it
/// says nothing about the orders, and reading it as "none" would have a placement whose reply
/// was lost placed a second time (§3.5, checklist 19) and `order_status` answer `NotFound`. A
/// results element without orders (`<Results/>`) is none.
pub(crate) fn decode_order_status_with<T>(
    names: &Names,
    op: &str,
    bytes: &[u8],
    mut each: impl FnMut(Order) -> Result<T, WireError>,
) -> Result<Vec<T>, Error> {
    let gate = names.gates.get(Gateway::GetOrderStatus);
    let mut out = Vec::new();
    let mut bad: Option<Error> = None;
    let mut i = 0usize;
    let read = stream_items(bytes, &[gate.results_key.as_str(), RESULT], el::ORDERS, |node| {
        let path = format!("Results.orders[{i}]");
        i += 1;
        // A per-order fault (§6.1 [C]: per-item codes under a top-level 0): "nothing found"
        // for that order leaves it out; any other is the call's error, through the same table.
        let read = match check_item(names, op, &node, &path) {
            Ok(true) => return Ok(()),
            Ok(false) => order(names, &node, &path).and_then(&mut each).map_err(|e| e.protocol(op)),
            Err(e) => Err(e),
        };
        match read {
            Ok(t) => out.push(t),
            Err(e) => {
                bad = Some(e);
                return Err("bad order".into());
            }
        }
        Ok(())
    });
    if let Some(e) = bad {
        return Err(e);
    }
    let read = read.map_err(|e| unreadable(op, &e))?;
    if check(names, op, &read.errors)? {
        return Ok(Vec::new());
    }
    if !read.results {
        return Err(WireError::new(
            gate.results_key.as_str(),
            "missing from a successful reply, so which orders exist is unknown",
        )
        .protocol(op)
        .with_effect(loyalty_core::WriteEffect::Unknown));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_courier_id_goes_as_an_integer_only_when_that_keeps_its_text() {
        let request = |courier: &str| PlaceOrderRequest {
            recipient: AddressFields::default(),
            courier_id: courier.to_string(),
            pickup_point: None,
            preferred_date: None,
            cash_on_delivery: None,
            billing: BillingFields::default(),
            reference: "R-1".into(),
            note: None,
        };
        let names = Names::default();
        let written = |courier: &str| request(courier).params(&names).unwrap();
        assert!(written("10").contains("<courierId xsi:type=\"xsd:int\">10</courierId>"));
        assert!(written("-3").contains("<courierId xsi:type=\"xsd:int\">-3</courierId>"));
        for text in ["007", "+5", "0x1F", "DPD"] {
            let body = written(text);
            assert!(
                body.contains(&format!("<courierId xsi:type=\"xsd:string\">{text}</courierId>")),
                "{body}"
            );
        }
    }
}
