//! Delivery methods: G5 `getCouriers` and G6 `getCouriersForOrder` (§5).

use loyalty_core::Error;
use rust_decimal::Decimal;

use super::convert::Refused;
use super::products::{write_products, IcdfLine};
use super::xml::{read_reply, Node, Writer};
use super::{
    boolean, check, check_item, integer, non_negative, optional, required, strings, unreadable, WireError,
};
use crate::names::{el, Gateway, Names};

/// A courier as G5 or G6 reports it (§5 G5/G6 \[I\]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CourierItem {
    pub id: String,
    pub name: String,
    pub kind: Option<String>,
    pub countries: Vec<String>,
    pub cash_on_delivery: Option<bool>,
    /// G6 only: the price for the basket and destination.
    pub delivery_cost: Option<Decimal>,
    pub delivery_days: Option<i64>,
    pub currency: Option<String>,
}

fn courier(node: &Node, path: &str) -> Result<CourierItem, WireError> {
    let delivery_days = integer(node, el::DELIVERY_DAYS, path)?;
    if delivery_days.is_some_and(|d| d < 0) {
        return Err(WireError::new(format!("{path}.{}", el::DELIVERY_DAYS), "negative"));
    }
    Ok(CourierItem {
        id: required(node, el::COURIER_ID, path)?.to_string(),
        name: optional(node, el::NAME).unwrap_or_default(),
        kind: optional(node, el::TYPE),
        countries: strings(node, el::COUNTRIES),
        cash_on_delivery: boolean(node, el::CASH_ON_DELIVERY, path)?,
        delivery_cost: non_negative(node, el::DELIVERY_COST, path)?,
        delivery_days,
        currency: optional(node, el::CURRENCY),
    })
}

/// G6 params: the products (never the server-side basket, so the answer depends only on the
/// request, §5 G6) and the destination's country and postcode.
pub(crate) fn couriers_for_order_params(
    lines: &[IcdfLine],
    country: &str,
    postcode: &str,
) -> Result<String, Refused> {
    let mut w = Writer::new();
    write_products(&mut w, lines);
    w.open(el::ADDRESS, "addressType");
    w.text(el::COUNTRY, country);
    w.text(el::POSTCODE, postcode);
    w.close(el::ADDRESS);
    w.into_string()
}

/// Decodes G5 or G6; faultCode 2 (no courier fits) is an empty list.
pub(crate) fn decode_couriers(
    names: &Names,
    op: &str,
    gateway: Gateway,
    bytes: &[u8],
) -> Result<Vec<CourierItem>, Error> {
    let reply = read_reply(names, bytes).map_err(|e| unreadable(op, &e))?;
    if check(names, op, &reply.errors)? {
        return Ok(Vec::new());
    }
    let results = reply
        .results(names.gates.get(gateway))
        .ok_or_else(|| WireError::new("results", "missing").protocol(op))?;
    let items = results.items_named(el::COURIERS, el::COURIER);
    let mut couriers = Vec::with_capacity(items.len());
    for (i, n) in items.into_iter().enumerate() {
        let path = format!("results.couriers[{i}]");
        // A per-courier fault (§6.1): "nothing found" leaves it out, any other is the call's
        // error.
        if check_item(names, op, n, &path)? {
            continue;
        }
        couriers.push(courier(n, &path).map_err(|e| e.protocol(op))?);
    }
    Ok(couriers)
}
