//! Delivery methods: G5 `getCouriers` and G6 `getCouriersForOrder` (the IdoSell contract §5),
//! and the courier rule G4 shares with G6.

use std::collections::BTreeSet;

use rust_decimal::{Decimal, RoundingStrategy};

use super::{
    demo,
    messages::{Fault, BASKET_EMPTY, EMPTY, INPUT},
    names::el,
    products::{parse_line, product_nodes, quantity_fault, requirements},
    routes::Ctx,
    settings::CourierCost,
    soap::{Node, Out},
    state::{Courier, Inner, Line},
};

/// A destination: the ISO alpha-2 country, upper case (the postcode is only validated).
#[derive(Clone, Debug)]
pub(crate) struct Destination {
    pub country: String,
}

/// Checks a country and postcode pair. Simulator decision: countries are ISO 3166 alpha-2
/// (§9.3 country coding, \[I\]); a Polish postcode must read `NN-NNN`; the postcode filters
/// nothing.
pub(crate) fn destination(
    country: Option<&str>,
    postcode: Option<&str>,
    path: &str,
) -> Result<Destination, Fault> {
    let country = country
        .filter(|c| c.len() == 2 && c.chars().all(|c| c.is_ascii_alphabetic()))
        .ok_or_else(|| Fault::with(INPUT, format!("{path}.{}", el::COUNTRY)))?
        .to_ascii_uppercase();
    let postcode = postcode.ok_or_else(|| Fault::with(INPUT, format!("{path}.{}", el::POSTCODE)))?;
    if country == "PL" && !valid_pl_postcode(postcode) {
        return Err(Fault::with(INPUT, format!("{path}.{}", el::POSTCODE)));
    }
    Ok(Destination { country })
}

/// `NN-NNN`.
pub(crate) fn valid_pl_postcode(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() == 6 && b[2] == b'-' && b.iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit())
}

/// Parcel weight of lines (sets weigh what their components weigh); fault 5 naming the
/// quantity when the weight passes the decimal range.
pub(crate) fn weight(inner: &Inner, lines: &[Line]) -> Result<Decimal, Fault> {
    requirements(lines)?.iter().try_fold(Decimal::ZERO, |w, (p, q)| {
        inner.products[*p].weight_kg.checked_mul(*q).and_then(|v| w.checked_add(v)).ok_or_else(quantity_fault)
    })
}

/// The courier's price for a weight, per the `courier_cost` setting; `None` past the decimal
/// range.
fn cost(rule: CourierCost, c: &Courier, weight: Decimal) -> Option<Decimal> {
    let per_kg = |w: Decimal| c.cost_per_kg.checked_mul(w).and_then(|v| c.base_cost.checked_add(v));
    let v = match rule {
        CourierCost::BasePlusPerKg => per_kg(weight)?,
        CourierCost::BasePlusPerStartedKg => per_kg(weight.ceil())?,
        CourierCost::BaseOnly => c.base_cost,
    };
    Some(v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
}

/// Couriers that may carry `lines` to `to`, with their cost: destination country served, total
/// weight within the courier's maximum, no excluded product (sets expanded) (§5 G6). Fault 5
/// naming the quantity when the weight or a cost passes the decimal range.
pub(crate) fn eligible(
    inner: &Inner,
    cx: &Ctx<'_>,
    lines: &[Line],
    to: &Destination,
) -> Result<Vec<(usize, Decimal)>, Fault> {
    let w = weight(inner, lines)?;
    let mut codes: BTreeSet<&str> = BTreeSet::new();
    for l in lines {
        codes.insert(&inner.products[l.product].internal);
        for (c, _) in &l.components {
            codes.insert(&inner.products[*c].internal);
        }
    }
    inner
        .couriers
        .iter()
        .enumerate()
        .filter(|(_, c)| c.countries.contains(&to.country))
        .filter(|(_, c)| w <= c.max_weight_kg)
        .filter(|(_, c)| !c.excluded.iter().any(|x| codes.contains(x.as_str())))
        .map(|(i, c)| cost(cx.s.courier_cost, c, w).map(|v| (i, v)).ok_or_else(quantity_fault))
        .collect()
}

/// G5: every courier the wholesaler offers (§5 G5).
pub(crate) fn get_couriers(inner: &mut Inner, cx: &Ctx<'_>, params: &Node) -> Result<Out, Fault> {
    cx.check_unknown(params, &[], "params")?;
    let items = inner
        .couriers
        .iter()
        .map(|c| {
            Out::obj([
                (el::COURIER_ID, Out::Int(c.id)),
                ("name", Out::s(&c.name)),
                ("type", Out::s(c.kind.as_str())),
                ("countries", Out::List("xsd:string", c.countries.iter().map(Out::s).collect())),
                (el::CASH_ON_DELIVERY, Out::Bool(c.cash_on_delivery)),
                ("maxWeight", Out::Dec(c.max_weight_kg)),
                ("baseCost", Out::Dec(c.base_cost)),
                ("costPerKg", Out::Dec(c.cost_per_kg)),
                ("currency", Out::s(demo::CURRENCY)),
            ])
        })
        .collect();
    Ok(Out::obj([("couriers", Out::List("courierType", items))]))
}

/// G6: couriers for the given products (or, without `products`, the current basket) and
/// destination, with the computed cost (§5 G6). Simulator decision: no products at all → 9, no
/// courier left → 2.
pub(crate) fn get_couriers_for_order(
    inner: &mut Inner,
    cx: &Ctx<'_>,
    account: usize,
    params: &Node,
) -> Result<Out, Fault> {
    cx.check_unknown(params, &[el::PRODUCTS, el::ADDRESS], "params")?;
    let addr = params.get(el::ADDRESS).ok_or_else(|| Fault::with(INPUT, el::ADDRESS))?;
    cx.check_unknown(addr, &[el::COUNTRY, el::POSTCODE], el::ADDRESS)?;
    let to = destination(addr.text(el::COUNTRY), addr.text(el::POSTCODE), el::ADDRESS)?;
    let nodes = product_nodes(params);
    let lines = if nodes.is_empty() {
        inner.accounts[account].basket.clone()
    } else {
        nodes.into_iter().map(|n| parse_line(inner, cx, n)).collect::<Result<Vec<_>, _>>()?
    };
    if lines.is_empty() {
        return Err(Fault::new(BASKET_EMPTY));
    }
    let found = eligible(inner, cx, &lines, &to)?;
    if found.is_empty() {
        return Err(Fault::new(EMPTY));
    }
    let items = found
        .into_iter()
        .map(|(i, cost)| {
            let c = &inner.couriers[i];
            Out::obj([
                (el::COURIER_ID, Out::Int(c.id)),
                ("name", Out::s(&c.name)),
                ("type", Out::s(c.kind.as_str())),
                ("deliveryCost", Out::Dec(cost)),
                ("currency", Out::s(demo::CURRENCY)),
                ("deliveryDays", Out::Int(c.delivery_days)),
            ])
        })
        .collect();
    Ok(Out::obj([
        ("weight", Out::Dec(weight(inner, &lines)?)),
        ("couriers", Out::List("courierType", items)),
    ]))
}
