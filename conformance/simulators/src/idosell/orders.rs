//! Orders: G4 `placeOrder`, G7 `getOrderStatus` (the IdoSell contract §5) and the order
//! lifecycle the probe and the `/_sim` routes drive (§9.2 item 3).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::{
    couriers::{destination, eligible},
    demo,
    messages::{Fault, BASKET_EMPTY, COURIER, EMPTY, INPUT},
    names::el,
    products::{check_stock, decimal, quantity_fault, requirements, totals},
    routes::Ctx,
    settings::DuplicateReference,
    soap::{Node, Out},
    state::{Address, AddressData, Billing, CourierKind, Delivery, Inner, Line, Order, Status},
    webhook,
};

fn field(node: &Node, name: &str) -> String {
    node.text(name).unwrap_or("").to_string()
}

fn required(node: &Node, name: &str, path: &str) -> Result<String, Fault> {
    node.text(name).map(str::to_string).ok_or_else(|| Fault::with(INPUT, format!("{path}.{name}")))
}

/// Address fields a recipient block may carry.
pub(crate) const ADDRESS_FIELDS: [&str; 9] = [
    el::FIRST_NAME,
    el::LAST_NAME,
    el::COMPANY,
    el::STREET,
    el::POSTCODE,
    el::CITY,
    el::COUNTRY,
    el::PHONE,
    el::EMAIL,
];

/// Validates a complete recipient: a name (first + last, or company), street, postcode, city,
/// country; an e-mail, when given, must hold an `@`.
pub(crate) fn recipient(cx: &Ctx<'_>, node: &Node, path: &str) -> Result<AddressData, Fault> {
    cx.check_unknown(node, &ADDRESS_FIELDS, path)?;
    let a = AddressData {
        first_name: field(node, el::FIRST_NAME),
        last_name: field(node, el::LAST_NAME),
        company: field(node, el::COMPANY),
        street: required(node, el::STREET, path)?,
        postcode: required(node, el::POSTCODE, path)?,
        city: required(node, el::CITY, path)?,
        country: required(node, el::COUNTRY, path)?,
        phone: field(node, el::PHONE),
        email: field(node, el::EMAIL),
    };
    if a.company.is_empty() && (a.first_name.is_empty() || a.last_name.is_empty()) {
        return Err(Fault::with(INPUT, format!("{path}.{}", el::LAST_NAME)));
    }
    check_address(&a, path)
}

/// Country/postcode and e-mail shape of a (possibly edited) address.
pub(crate) fn check_address(a: &AddressData, path: &str) -> Result<AddressData, Fault> {
    let to = destination(Some(&a.country), Some(&a.postcode), path)?;
    if !a.email.is_empty() && !a.email.contains('@') {
        return Err(Fault::with(INPUT, format!("{path}.{}", el::EMAIL)));
    }
    Ok(AddressData { country: to.country, ..a.clone() })
}

fn billing(cx: &Ctx<'_>, node: &Node) -> Result<Billing, Fault> {
    let path = el::BILLING;
    let known = [el::COMPANY, el::TAX_ID, el::STREET, el::POSTCODE, el::CITY, el::COUNTRY];
    cx.check_unknown(node, &known, path)?;
    let b = Billing {
        company: required(node, el::COMPANY, path)?,
        tax_id: required(node, el::TAX_ID, path)?,
        street: required(node, el::STREET, path)?,
        postcode: required(node, el::POSTCODE, path)?,
        city: required(node, el::CITY, path)?,
        country: required(node, el::COUNTRY, path)?,
    };
    let to = destination(Some(&b.country), Some(&b.postcode), path)?;
    Ok(Billing { country: to.country, ..b })
}

/// The parsed `delivery` block.
struct DeliveryChoice {
    courier_id: i64,
    pickup_point: Option<String>,
    preferred_date: Option<NaiveDate>,
    cash_on_delivery: Option<Decimal>,
}

fn delivery(cx: &Ctx<'_>, node: &Node) -> Result<DeliveryChoice, Fault> {
    let path = el::DELIVERY;
    let known = [el::COURIER_ID, el::PICKUP_POINT_ID, el::PREFERRED_DELIVERY_DATE, el::CASH_ON_DELIVERY];
    cx.check_unknown(node, &known, path)?;
    let bad = |name: &str| Fault::with(INPUT, format!("{path}.{name}"));
    let courier_id =
        node.text(el::COURIER_ID).and_then(|t| t.parse().ok()).ok_or_else(|| bad(el::COURIER_ID))?;
    let preferred_date = match node.text(el::PREFERRED_DELIVERY_DATE) {
        None => None,
        Some(t) => {
            let d = NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| bad(el::PREFERRED_DELIVERY_DATE))?;
            // Simulator decision: a date in the past (wholesaler's zone) is refused.
            if d < cx.today() {
                return Err(bad(el::PREFERRED_DELIVERY_DATE));
            }
            Some(d)
        }
    };
    let cash_on_delivery = match node.text(el::CASH_ON_DELIVERY) {
        None => None,
        Some(t) => Some(decimal(t).filter(|v| *v >= Decimal::ZERO).ok_or_else(|| bad(el::CASH_ON_DELIVERY))?),
    }
    .filter(|v| *v > Decimal::ZERO);
    Ok(DeliveryChoice {
        courier_id,
        pickup_point: node.text(el::PICKUP_POINT_ID).map(str::to_string),
        preferred_date,
        cash_on_delivery,
    })
}

fn order_out(inner: &Inner, cx: &Ctx<'_>, o: &Order, duplicate: Option<bool>) -> Out {
    let courier_name = inner.courier(o.courier_id).map(|c| c.name.clone()).unwrap_or_default();
    let mut f = vec![
        (el::ORDER_ID.to_string(), Out::s(&o.id)),
        ("orderSerialNumber".to_string(), Out::Int(o.serial)),
        (cx.s.names.shop_order_reference.clone(), Out::s(o.shop_ref.clone().unwrap_or_default())),
        ("status".to_string(), Out::s(o.status.as_str())),
    ];
    if let Some(dup) = duplicate {
        f.push(("duplicate".into(), Out::Bool(dup)));
    }
    f.extend([
        (el::COURIER_ID.to_string(), Out::Int(o.courier_id)),
        ("courierName".to_string(), Out::s(courier_name)),
        ("shipmentNumbers".to_string(), Out::List("xsd:string", o.shipments.iter().map(Out::s).collect())),
        ("dispatchDate".to_string(), Out::s(o.dispatched_at.map(|t| cx.local_time(t)).unwrap_or_default())),
        ("orderDate".to_string(), Out::s(cx.local_time(o.placed_at))),
        (el::ADDRESS_ID.to_string(), Out::Int(o.address_id)),
        (
            el::PRODUCTS.to_string(),
            Out::List("orderProductType", o.lines.iter().map(|l| line_out(inner, l)).collect()),
        ),
        ("productsGross".to_string(), Out::Dec(o.products_gross)),
        ("deliveryCost".to_string(), Out::Dec(o.delivery_cost)),
        // place_order refuses a total past the decimal range; saturating all the same.
        ("orderTotal".to_string(), Out::Dec(o.products_gross.saturating_add(o.delivery_cost))),
        ("currency".to_string(), Out::s(demo::CURRENCY)),
    ]);
    Out::Obj(f)
}

/// An order line as G7 reports it: the code as sent, the product name, quantity, comment and
/// attachment names.
fn line_out(inner: &Inner, l: &Line) -> Out {
    Out::obj([
        (el::CODE, Out::s(&l.code)),
        (el::CODE_TYPE, Out::s(l.code_type.as_str())),
        (el::NAME, Out::s(&inner.products[l.product].name)),
        (el::QUANTITY, Out::Dec(l.quantity)),
        (el::COMMENT, Out::s(l.comment.clone().unwrap_or_default())),
        (el::ATTACHMENTS, Out::List("xsd:string", l.attachments.iter().map(|(n, _)| Out::s(n)).collect())),
    ])
}

/// G4: turns the basket into an order (§5 G4): duplicate reference first (checklist 16), then
/// input, empty basket (9), courier rule of G6 (8), stock (7); reserves stock, empties the
/// basket, stores the recipient as an address, status `new`.
pub(crate) fn place_order(
    inner: &mut Inner,
    cx: &Ctx<'_>,
    account: usize,
    params: &Node,
) -> Result<Out, Fault> {
    let names = &cx.s.names;
    let known = [el::RECIPIENT, el::DELIVERY, el::BILLING, names.shop_order_reference.as_str(), el::NOTE];
    cx.check_unknown(params, &known, "params")?;
    let shop_ref = params.text(&names.shop_order_reference).map(str::to_string);
    if let Some(r) = &shop_ref {
        if let Some(o) = inner.orders.iter().find(|o| o.account == account && o.shop_ref.as_ref() == Some(r))
        {
            return match cx.s.duplicate_order_reference {
                DuplicateReference::ReturnExisting => Ok(order_out(inner, cx, o, Some(true))),
                DuplicateReference::Reject => {
                    Err(Fault::with(INPUT, format!("{} {r}", names.shop_order_reference)))
                }
            };
        }
    }
    let to = recipient(
        cx,
        params.get(el::RECIPIENT).ok_or_else(|| Fault::with(INPUT, el::RECIPIENT))?,
        el::RECIPIENT,
    )?;
    let choice = delivery(cx, params.get(el::DELIVERY).ok_or_else(|| Fault::with(INPUT, el::DELIVERY))?)?;
    let bill = billing(cx, params.get(el::BILLING).ok_or_else(|| Fault::with(INPUT, el::BILLING))?)?;
    let lines = inner.accounts[account].basket.clone();
    if lines.is_empty() {
        return Err(Fault::new(BASKET_EMPTY));
    }
    let dest = destination(Some(&to.country), Some(&to.postcode), el::RECIPIENT)?;
    let courier = inner
        .courier(choice.courier_id)
        .cloned()
        .ok_or_else(|| Fault::with(COURIER, format!("{} {}", el::COURIER_ID, choice.courier_id)))?;
    let cost = eligible(inner, cx, &lines, &dest)?
        .into_iter()
        .find(|(i, _)| inner.couriers[*i].id == courier.id)
        .map(|(_, c)| c)
        .ok_or_else(|| Fault::with(COURIER, format!("{} {}", el::COURIER_ID, courier.id)))?;
    if choice.cash_on_delivery.is_some() && !courier.cash_on_delivery {
        return Err(Fault::with(COURIER, el::CASH_ON_DELIVERY.to_string()));
    }
    let pickup_point = match courier.kind {
        CourierKind::PickupPoint => Some(
            choice
                .pickup_point
                .ok_or_else(|| Fault::with(INPUT, format!("{}.{}", el::DELIVERY, el::PICKUP_POINT_ID)))?,
        ),
        // Simulator decision: a pickup point given for a door-to-door courier is ignored.
        CourierKind::Courier => None,
    };
    check_stock(inner, &lines)?;

    // Everything computed before anything changes: a sum past the decimal range is fault 5 and
    // leaves stock and basket as they were.
    let reserved: Vec<(usize, Decimal)> = requirements(&lines)?.into_iter().collect();
    let (_, gross) = totals(inner, &lines)?;
    gross.checked_add(cost).ok_or_else(quantity_fault)?;
    let mut moved = Vec::with_capacity(reserved.len());
    for (p, q) in &reserved {
        // check_stock saw stock ≥ q, so the subtraction stays in range.
        let product = &inner.products[*p];
        moved.push((*p, product.stock - *q, product.reserved.checked_add(*q).ok_or_else(quantity_fault)?));
    }
    for (p, stock, held) in moved {
        inner.products[p].stock = stock;
        inner.products[p].reserved = held;
    }
    let idx = new_order(inner, cx.now, cx.today(), account, to, shop_ref, courier.id);
    let o = &mut inner.orders[idx];
    o.lines = lines;
    o.pickup_point = pickup_point;
    o.preferred_date = choice.preferred_date;
    o.cash_on_delivery = choice.cash_on_delivery;
    o.billing = bill;
    o.note = params.text(el::NOTE).map(str::to_string);
    o.products_gross = gross;
    o.delivery_cost = cost;
    o.reserved = reserved;
    inner.accounts[account].basket.clear();
    Ok(order_out(inner, cx, &inner.orders[idx], Some(false)))
}

/// Creates an order in `new` with its recipient address; returns its index. Simulator
/// decision: ids are `W-{year}-{serial:06}` from a counter (the §7.2 example `W-2024-000123`),
/// and every order stores its recipient as a new address (G8/G9).
pub(crate) fn new_order(
    inner: &mut Inner,
    now: DateTime<Utc>,
    today: NaiveDate,
    account: usize,
    to: AddressData,
    shop_ref: Option<String>,
    courier_id: i64,
) -> usize {
    let serial = inner.next_serial;
    inner.next_serial += 1;
    let id = format!("W-{}-{serial:06}", today.year());
    let address_id = inner.next_address;
    inner.next_address += 1;
    inner.addresses.push(Address { id: address_id, account, order_id: id.clone(), data: to });
    inner.orders.push(Order {
        id,
        serial,
        account,
        shop_ref,
        status: Status::New,
        lines: Vec::new(),
        courier_id,
        pickup_point: None,
        preferred_date: None,
        cash_on_delivery: None,
        billing: Billing::default(),
        note: None,
        address_id,
        products_gross: Decimal::ZERO,
        delivery_cost: Decimal::ZERO,
        placed_at: now,
        shipments: Vec::new(),
        dispatched_at: None,
        reserved: Vec::new(),
    });
    inner.orders.len() - 1
}

/// G7: orders by id, serial number or shop reference. Simulator decision: no filter = every
/// order of the account (a large reply for parsing benchmarks); nothing matched → fault 2 (§5 G7).
pub(crate) fn get_order_status(
    inner: &mut Inner,
    cx: &Ctx<'_>,
    account: usize,
    params: &Node,
) -> Result<Out, Fault> {
    cx.check_unknown(
        params,
        &[el::ORDER_IDS, el::ORDER_SERIAL_NUMBERS, el::SHOP_ORDER_REFERENCES],
        "params",
    )?;
    let list = |name: &str| -> Vec<String> {
        params
            .get(name)
            .map(|n| n.items().into_iter().flat_map(Node::texts).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let (ids, serials, refs) =
        (list(el::ORDER_IDS), list(el::ORDER_SERIAL_NUMBERS), list(el::SHOP_ORDER_REFERENCES));
    let mut serial_numbers = Vec::new();
    for s in &serials {
        serial_numbers.push(s.parse::<i64>().map_err(|_| Fault::with(INPUT, el::ORDER_SERIAL_NUMBERS))?);
    }
    let unfiltered = ids.is_empty() && serial_numbers.is_empty() && refs.is_empty();
    let items: Vec<Out> = inner
        .orders
        .iter()
        .filter(|o| o.account == account)
        .filter(|o| {
            unfiltered
                || ids.contains(&o.id)
                || serial_numbers.contains(&o.serial)
                || o.shop_ref.as_ref().is_some_and(|r| refs.contains(r))
        })
        .map(|o| order_out(inner, cx, o, None))
        .collect();
    if items.is_empty() {
        return Err(Fault::new(EMPTY));
    }
    Ok(Out::obj([("orders", Out::List("orderType", items))]))
}

/// Moves an order one step along `new → on_order → packed → packed_ready → wait_for_receive →
/// finished`; the step into `wait_for_receive` is the dispatch. `None` for an unknown or
/// finished order.
pub(crate) fn advance(
    inner: &mut Inner,
    order_id: &str,
    now: DateTime<Utc>,
    parcels: usize,
) -> Option<Status> {
    let i = inner.order_index(order_id)?;
    let next = inner.orders[i].status.next()?;
    if next == Status::WaitForReceive {
        dispatch_at(inner, i, now, parcels);
    } else {
        inner.orders[i].status = next;
    }
    Some(next)
}

/// Dispatches an order not yet dispatched: status `wait_for_receive`, `parcels` (at least one)
/// shipment numbers, and a webhook queued when the account registered a callback (§7.2), its
/// first attempt due now (sent at once by the simulator's sender with automatic delivery).
pub(crate) fn dispatch(
    inner: &mut Inner,
    order_id: &str,
    now: DateTime<Utc>,
    parcels: usize,
) -> Option<Vec<String>> {
    let i = inner.order_index(order_id)?;
    if inner.orders[i].status.dispatched() {
        return None;
    }
    dispatch_at(inner, i, now, parcels);
    Some(inner.orders[i].shipments.clone())
}

fn dispatch_at(inner: &mut Inner, i: usize, now: DateTime<Utc>, parcels: usize) {
    let o = &mut inner.orders[i];
    o.status = Status::WaitForReceive;
    o.dispatched_at = Some(now);
    // Simulator decision: 20-digit tracking numbers shaped like the §7.2 example (prefix,
    // serial, parcel number).
    o.shipments = (1..=parcels.max(1)).map(|p| format!("0034043416{:06}{p:04}", o.serial)).collect();
    let (account, order_id) = (o.account, o.id.clone());
    if inner.accounts[account].callback_url.is_some() {
        let n = inner.next_event;
        inner.next_event += 1;
        let event = webhook::event(inner, i);
        inner.deliveries.push(Delivery {
            event_id: format!("evt-{n:08}"),
            account,
            order_id,
            event,
            sent: None,
            attempts: 0,
            due: Some(now),
            delivered: false,
            in_flight: false,
        });
        // Every dispatch path (HTTP test route, probe, control-API event) comes through here.
        inner.webhook_wake.notify_one();
    }
}
