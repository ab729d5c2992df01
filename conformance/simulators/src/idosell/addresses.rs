//! Recipient addresses: G8 `getClientAddresses` and G9 `setClientAddress` (the IdoSell contract
//! §5).

use super::{
    messages::{Fault, ADDRESS_LOCKED, EMPTY, INPUT},
    names::el,
    orders::{check_address, ADDRESS_FIELDS},
    routes::Ctx,
    settings::AddressFaults,
    soap::{Node, Out},
    state::{Address, Inner},
};

/// Simulator decision: G8 pages hold 100 addresses by default, and at most 100.
const DEFAULT_LIMIT: i64 = 100;

fn address_out(a: &Address) -> Out {
    let d = &a.data;
    Out::obj([
        (el::ADDRESS_ID, Out::Int(a.id)),
        (el::ORDER_ID, Out::s(&a.order_id)),
        (el::FIRST_NAME, Out::s(&d.first_name)),
        (el::LAST_NAME, Out::s(&d.last_name)),
        (el::COMPANY, Out::s(&d.company)),
        (el::STREET, Out::s(&d.street)),
        (el::POSTCODE, Out::s(&d.postcode)),
        (el::CITY, Out::s(&d.city)),
        (el::COUNTRY, Out::s(&d.country)),
        (el::PHONE, Out::s(&d.phone)),
        (el::EMAIL, Out::s(&d.email)),
    ])
}

fn int(params: &Node, name: &str) -> Result<Option<i64>, Fault> {
    params.text(name).map(|t| t.parse::<i64>().map_err(|_| Fault::with(INPUT, name.to_string()))).transpose()
}

/// G8: the account's addresses, optionally one address or one order's, paged with
/// `resultsPage` (from 0) and `resultsLimit` (1–100). A page past the end → fault 2, which
/// clients read as "no more pages" (§6.2).
pub(crate) fn get_client_addresses(
    inner: &mut Inner,
    cx: &Ctx<'_>,
    account: usize,
    params: &Node,
) -> Result<Out, Fault> {
    let names = &cx.s.names;
    let known = [el::ADDRESS_ID, el::ORDER_ID, names.results_page.as_str(), names.results_limit.as_str()];
    cx.check_unknown(params, &known, "params")?;
    let id = int(params, el::ADDRESS_ID)?;
    let order = params.text(el::ORDER_ID);
    let page = int(params, &names.results_page)?.unwrap_or(0);
    let limit = int(params, &names.results_limit)?.unwrap_or(DEFAULT_LIMIT);
    if page < 0 {
        return Err(Fault::with(INPUT, names.results_page.clone()));
    }
    if !(1..=DEFAULT_LIMIT).contains(&limit) {
        return Err(Fault::with(INPUT, names.results_limit.clone()));
    }
    let all: Vec<&Address> = inner
        .addresses
        .iter()
        .filter(|a| a.account == account)
        .filter(|a| id.is_none_or(|i| a.id == i))
        .filter(|a| order.is_none_or(|o| a.order_id == o))
        .collect();
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    let start = page.saturating_mul(limit);
    if start >= total {
        return Err(Fault::new(EMPTY));
    }
    let items: Vec<Out> =
        all.iter().skip(start as usize).take(limit as usize).map(|a| address_out(a)).collect();
    Ok(Out::Obj(vec![
        (names.results_page.clone(), Out::Int(page)),
        (names.results_limit.clone(), Out::Int(limit)),
        ("resultsNumberAll".into(), Out::Int(total)),
        ("resultsNumberPage".into(), Out::Int((total + limit - 1) / limit)),
        ("addresses".into(), Out::List("addressType", items)),
    ]))
}

/// G9: changes the given fields of one address. Simulator decision: one address per call;
/// unknown (or another account's) address → 2 in the top-level `errors`; its order dispatched
/// or finished → 10 (§5 G9, checklist item 18), and a malformed resulting field → 5, in the
/// top-level `errors` or, with setting `address_faults` `per_address`, as the address's own
/// `faultCode`/`faultString` under a top-level 0 (§5 G9 \[I\], §6.1 \[C\]).
pub(crate) fn set_client_address(
    inner: &mut Inner,
    cx: &Ctx<'_>,
    account: usize,
    params: &Node,
) -> Result<Out, Fault> {
    match change_address(inner, cx, account, params)? {
        Ok(i) => Ok(Out::obj([(el::ADDRESS, address_out(&inner.addresses[i]))])),
        Err((_, f)) if cx.s.address_faults == AddressFaults::TopLevel => Err(f),
        Err((i, f)) => {
            let mut fields: Vec<(String, Out)> =
                cx.item_fault(Some(&f)).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            if let Out::Obj(rest) = address_out(&inner.addresses[i]) {
                fields.extend(rest);
            }
            Ok(Out::obj([(el::ADDRESS, Out::Obj(fields))]))
        }
    }
}

/// What G9 did to the address at an index: changed it, or refused it (left unchanged).
type Change = Result<usize, (usize, Fault)>;

/// G9's change; `Err` for a call that names no address.
fn change_address(inner: &mut Inner, cx: &Ctx<'_>, account: usize, params: &Node) -> Result<Change, Fault> {
    cx.check_unknown(params, &[el::ADDRESS_ID, el::ADDRESS], "params")?;
    let id = int(params, el::ADDRESS_ID)?.ok_or_else(|| Fault::with(INPUT, el::ADDRESS_ID))?;
    let changes = params.get(el::ADDRESS).ok_or_else(|| Fault::with(INPUT, el::ADDRESS))?;
    cx.check_unknown(changes, &ADDRESS_FIELDS, el::ADDRESS)?;
    let i = inner
        .addresses
        .iter()
        .position(|a| a.id == id && a.account == account)
        .ok_or_else(|| Fault::with(EMPTY, format!("{} {id}", el::ADDRESS_ID)))?;
    let order_id = inner.addresses[i].order_id.clone();
    if inner.orders.iter().any(|o| o.id == order_id && o.status.dispatched()) {
        return Ok(Err((i, Fault::with(ADDRESS_LOCKED, order_id))));
    }
    let mut data = inner.addresses[i].data.clone();
    let mut changed = false;
    for (name, slot) in [
        (el::FIRST_NAME, &mut data.first_name),
        (el::LAST_NAME, &mut data.last_name),
        (el::COMPANY, &mut data.company),
        (el::STREET, &mut data.street),
        (el::POSTCODE, &mut data.postcode),
        (el::CITY, &mut data.city),
        (el::COUNTRY, &mut data.country),
        (el::PHONE, &mut data.phone),
        (el::EMAIL, &mut data.email),
    ] {
        if let Some(v) = changes.text(name) {
            *slot = v.to_string();
            changed = true;
        }
    }
    if !changed {
        return Err(Fault::with(INPUT, el::ADDRESS));
    }
    match check_address(&data, el::ADDRESS) {
        Ok(data) => {
            inner.addresses[i].data = data;
            Ok(Ok(i))
        }
        Err(f) => Ok(Err((i, f))),
    }
}
