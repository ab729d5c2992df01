//! The POS Transaction object and its parts (the SessionM contract §5.1-§5.5), read strictly from
//! JSON, and the stored-transaction view of §4.5.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::input::{fmt_7, join, money, num, Check, Obj};

/// Members of a Transaction (§5.1). `receipt_code` is the documentation's spelling of
/// `guest_receipt_code`; both are accepted (§5.1 \[S\]).
const TXN_FIELDS: &[&str] = &[
    "transaction_id",
    "from_transaction_id",
    "pos_employee_id",
    "sm_employee_id",
    "table_id",
    "guest_count",
    "is_closed",
    "is_voided",
    "subtotal",
    "tax_total",
    "open_time",
    "modified_time",
    "guest_receipt_code",
    "receipt_code",
    "channel",
    "items",
    "payments",
    "discounts",
    "custom_data",
    "business_def_collection",
];
/// Members of an Item (§5.2).
const ITEM_FIELDS: &[&str] = &[
    "line_id",
    "item_id",
    "quantity",
    "unit_price",
    "subtotal",
    "tax_included",
    "modifies_line_id",
    "custom_data",
];
/// Members of a Payment (§5.3).
const PAYMENT_FIELDS: &[&str] = &[
    "payment_id",
    "amount",
    "type",
    "payment_time",
    "user_id",
    "user_id_type",
    "additional_user_id",
    "additional_user_id_type",
    "receipt_code",
    "custom_data",
];
/// Members of a Discount (§5.5).
pub(crate) const DISCOUNT_FIELDS: &[&str] = &[
    "reference_id",
    "reference_id_type",
    "pos_discount_id",
    "status",
    "display_name",
    "image_url",
    "discounted_line_ids",
    "discounted_line_id_quantities",
    "discount_source",
    "amount",
    "stack_order",
    "applied_time",
    "user_id",
];

/// What a field error says when a value, a product or a running sum passes the largest amount
/// the simulator computes with (rust_decimal's range, about 7.9 × 10^28).
pub(crate) const TOO_LARGE: &str = "exceeds the largest supported amount";

/// The sum of `values`, `None` when it passes the decimal range (never a panic).
pub(crate) fn checked_sum(values: impl IntoIterator<Item = Decimal>) -> Option<Decimal> {
    values.into_iter().try_fold(Decimal::ZERO, Decimal::checked_add)
}

/// Adds `v` to a running sum; the first overflow is reported at `path` and ends the sum.
fn add_checked(c: &mut Check, sum: &mut Option<Decimal>, v: Decimal, path: &str, what: &str) {
    if let Some(s) = *sum {
        *sum = s.checked_add(v);
        if sum.is_none() {
            c.err(path, format!("makes the sum of {what} exceed the largest supported amount"));
        }
    }
}

// No payload carries a currency (§5), so amounts are in the store currency (setting
// `store_currency`). Every computed amount is rounded half-up to its minor unit: a simulator
// decision (the contract names no rounding rule), since rounding to cents would lose a
// 3-decimal currency's last digit and invent cents in a currency without decimals.
pub(crate) use crate::currency::{exponent, half_up as round_to};

/// One basket line (§5.2).
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub line_id: String,
    pub item_id: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub subtotal: Decimal,
    pub tax_included: Option<Decimal>,
    pub modifies_line_id: Option<String>,
    pub custom_data: Option<Value>,
}

/// A Discount as sent in `discounts[]` (§5.5); the raw object is kept for the stored view.
#[derive(Clone, Debug)]
pub(crate) struct Discount {
    pub reference_id: Option<String>,
    pub reference_id_type: Option<String>,
    pub user_id: Option<String>,
    pub amount: Decimal,
    pub raw: Obj,
}

/// A Payment as sent (§5.3); the raw object is kept for the stored view.
#[derive(Clone, Debug)]
pub(crate) struct Payment {
    pub user_id: Option<String>,
    pub raw: Obj,
}

/// A Transaction (§5.1).
#[derive(Clone, Debug)]
pub(crate) struct Txn {
    pub transaction_id: String,
    pub from_transaction_id: Option<String>,
    pub pos_employee_id: Option<String>,
    pub table_id: Option<String>,
    pub guest_count: Option<i64>,
    pub is_closed: bool,
    pub is_voided: bool,
    pub subtotal: Decimal,
    pub tax_total: Decimal,
    pub open_time: Option<String>,
    /// As sent, and the instant it names (the ordering key for re-sends, §7.5).
    pub modified_time: Option<(String, DateTime<Utc>)>,
    pub guest_receipt_code: Option<String>,
    pub channel: Option<String>,
    pub items: Vec<Item>,
    pub payments: Vec<Payment>,
    pub discounts: Vec<Discount>,
    pub business_def_collection: Option<Value>,
}

/// Where a Transaction is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TxnUse {
    /// A basket for lookup / lock / redeem: `modified_time` optional.
    Basket,
    /// `send_transaction`: `modified_time` required (the re-send ordering key, §7.5).
    Send,
}

/// Reads a Transaction at `path`. Required (simulator decision where the contract says "yes?"):
/// `transaction_id`, `items` (at least one), `subtotal`, `tax_total`, and for
/// `send_transaction` also `modified_time`; `is_closed`/`is_voided` default to false.
pub(crate) fn transaction(c: &mut Check, o: &Obj, path: &str, usage: TxnUse) -> Option<Txn> {
    c.known(o, path, TXN_FIELDS);
    let transaction_id = c.req_str(o, "transaction_id", path);
    let from_transaction_id = c.str(o, "from_transaction_id", path);
    let pos_employee_id = c.str(o, "pos_employee_id", path);
    let _ = c.str(o, "sm_employee_id", path);
    let table_id = c.str(o, "table_id", path);
    let guest_count = c.int(o, "guest_count", path);
    let is_closed = c.bool(o, "is_closed", path).unwrap_or(false);
    let is_voided = c.bool(o, "is_voided", path).unwrap_or(false);
    let subtotal = c.req_amount(o, "subtotal", path);
    let tax_total = c.req_amount(o, "tax_total", path);
    let open_time = c.time(o, "open_time", path).map(|(s, _)| s);
    let modified_time = match usage {
        TxnUse::Send => c.req_time(o, "modified_time", path),
        TxnUse::Basket => c.time(o, "modified_time", path),
    };
    let guest = c.str(o, "guest_receipt_code", path);
    let receipt = c.str(o, "receipt_code", path);
    // Both spellings are accepted (§5.1 [S]); both at once must agree.
    if let (Some(g), Some(r)) = (&guest, &receipt) {
        if g != r {
            c.err(&join(path, "receipt_code"), "differs from guest_receipt_code");
        }
    }
    let guest_receipt_code = guest.or(receipt);
    let channel = c.str(o, "channel", path);
    let _ = c.obj(o, "custom_data", path);
    let business_def_collection = c.arr(o, "business_def_collection", path).map(|a| Value::Array(a.clone()));

    let items_path = join(path, "items");
    let item_objs = c.objects(o, "items", path);
    match o.get("items").filter(|v| !v.is_null()) {
        None => c.err(&items_path, "is required"),
        Some(Value::Array(a)) if a.is_empty() => c.err(&items_path, "needs at least one item"),
        _ => {}
    }
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    // Everything the simulator later computes from the basket (totals checks, discounts,
    // points, the stored view's check amount) must stay in the decimal range: a product or a
    // running sum past it is a validation error naming the field, never a panic.
    let (mut line_sum, mut tax_sum) = (Some(Decimal::ZERO), Some(Decimal::ZERO));
    for (p, io) in &item_objs {
        if let Some(item) = self::item(c, io, p) {
            if !seen.insert(item.line_id.clone()) {
                c.err(&join(p, "line_id"), "is not unique in the transaction");
            }
            if item.quantity.checked_mul(item.unit_price).is_none() {
                c.err(&join(p, "quantity"), format!("quantity × unit_price {TOO_LARGE}"));
            }
            add_checked(c, &mut line_sum, item.subtotal, &join(p, "subtotal"), "line subtotals");
            if let Some(t) = item.tax_included {
                add_checked(c, &mut tax_sum, t, &join(p, "tax_included"), "tax_included");
            }
            items.push(item);
        }
    }
    if let (Some(s), Some(t)) = (subtotal, tax_total) {
        if s.checked_add(t).is_none() {
            c.err(&join(path, "tax_total"), format!("subtotal + tax_total {TOO_LARGE}"));
        }
    }
    for (p, io) in &item_objs {
        if let Some(m) = io.get("modifies_line_id").and_then(Value::as_str) {
            if !seen.contains(m) {
                c.err(&join(p, "modifies_line_id"), "names no line of the transaction");
            }
        }
    }

    let payments = c
        .objects(o, "payments", path)
        .into_iter()
        .filter_map(|(p, po)| {
            c.known(po, &p, PAYMENT_FIELDS);
            let amount = c.req_amount(po, "amount", &p);
            let user_id = c.str(po, "user_id", &p);
            for k in [
                "payment_id",
                "type",
                "user_id_type",
                "additional_user_id",
                "additional_user_id_type",
                "receipt_code",
            ] {
                let _ = c.str(po, k, &p);
            }
            let _ = c.time(po, "payment_time", &p);
            let _ = c.obj(po, "custom_data", &p);
            amount.map(|_| Payment { user_id, raw: po.clone() })
        })
        .collect();

    let mut discounts = Vec::new();
    let mut off = Some(Decimal::ZERO);
    for (p, d) in c.objects(o, "discounts", path) {
        if let Some(d) = discount(c, d, &p, &seen) {
            add_checked(c, &mut off, d.amount, &join(&p, "amount"), "discount amounts");
            discounts.push(d);
        }
    }

    Some(Txn {
        transaction_id: transaction_id?,
        from_transaction_id,
        pos_employee_id,
        table_id,
        guest_count,
        is_closed,
        is_voided,
        subtotal: subtotal?,
        tax_total: tax_total?,
        open_time,
        modified_time,
        guest_receipt_code,
        channel,
        items,
        payments,
        discounts,
        business_def_collection,
    })
}

/// Reads one Item; a quantity ≤ 0 or a negative amount is refused (§7.6 \[G\], §8.3).
fn item(c: &mut Check, o: &Obj, path: &str) -> Option<Item> {
    c.known(o, path, ITEM_FIELDS);
    let line_id = c.req_str(o, "line_id", path);
    let item_id = c.req_str(o, "item_id", path);
    let quantity = match (o.get("quantity").filter(|v| !v.is_null()), c.dec(o, "quantity", path)) {
        (None, _) => {
            c.err(&join(path, "quantity"), "is required");
            None
        }
        (Some(_), Some(q)) if q <= Decimal::ZERO => {
            c.err(&join(path, "quantity"), "must be greater than 0");
            None
        }
        (_, q) => q,
    };
    let unit_price = c.req_amount(o, "unit_price", path);
    let subtotal = c.req_amount(o, "subtotal", path);
    let tax_included = c.amount(o, "tax_included", path);
    let modifies_line_id = c.str(o, "modifies_line_id", path);
    let custom_data = c.obj(o, "custom_data", path).map(|m| Value::Object(m.clone()));
    Some(Item {
        line_id: line_id?,
        item_id: item_id?,
        quantity: quantity?,
        unit_price: unit_price?,
        subtotal: subtotal?,
        tax_included,
        modifies_line_id,
        custom_data,
    })
}

/// Reads one Discount of `discounts[]`; its line ids must name lines of the transaction.
fn discount(c: &mut Check, o: &Obj, path: &str, lines: &HashSet<String>) -> Option<Discount> {
    c.known(o, path, DISCOUNT_FIELDS);
    let reference_id = c.str(o, "reference_id", path);
    let reference_id_type = c.str(o, "reference_id_type", path);
    for k in ["pos_discount_id", "status", "display_name", "image_url", "discount_source"] {
        let _ = c.str(o, k, path);
    }
    let user_id = c.str(o, "user_id", path);
    let amount = c.req_amount(o, "amount", path);
    let _ = c.int(o, "stack_order", path);
    let _ = c.time(o, "applied_time", path);
    let ids = c.str_list(o, "discounted_line_ids", path).unwrap_or_default();
    for (i, id) in ids.iter().enumerate() {
        if !lines.contains(id) {
            c.err(&format!("{}[{i}]", join(path, "discounted_line_ids")), "names no line of the transaction");
        }
    }
    if let Some(q) = c.dec_list(o, "discounted_line_id_quantities", path) {
        if q.len() != ids.len() {
            c.err(&join(path, "discounted_line_id_quantities"), "must be parallel to discounted_line_ids");
        }
    }
    Some(Discount { reference_id, reference_id_type, user_id, amount: amount?, raw: o.clone() })
}

/// Line-sum checks SessionM may run (§7.6 \[I\]); each finding is one message. Amounts are
/// compared rounded to `dp` decimals (the store currency's, [`exponent`]): a weighed line's
/// `quantity × unit_price` is compared as the POS rounds it to its currency. The sums and
/// products stay in range for a transaction [`transaction`] accepted; they are checked anyway.
pub(crate) fn totals_findings(t: &Txn, dp: u32) -> Vec<String> {
    let round = |d: Decimal| round_to(d, dp);
    let mut out = Vec::new();
    match checked_sum(t.items.iter().map(|i| i.subtotal)) {
        Some(lines) if round(lines) == round(t.subtotal) => {}
        Some(lines) => out.push(format!("line subtotals sum to {lines} but subtotal is {}", t.subtotal)),
        None => out.push(format!("the sum of line subtotals {TOO_LARGE}")),
    }
    if t.items.iter().any(|i| i.tax_included.is_some()) {
        match checked_sum(t.items.iter().filter_map(|i| i.tax_included)) {
            Some(tax) if round(tax) == round(t.tax_total) => {}
            Some(tax) => out.push(format!("tax_included sums to {tax} but tax_total is {}", t.tax_total)),
            None => out.push(format!("the sum of tax_included {TOO_LARGE}")),
        }
    }
    for i in &t.items {
        match i.quantity.checked_mul(i.unit_price).map(round) {
            Some(expect) if round(i.subtotal) == expect => {}
            Some(expect) => out.push(format!(
                "line {}: subtotal {} is not quantity × unit_price = {expect}",
                i.line_id, i.subtotal
            )),
            None => out.push(format!("line {}: quantity × unit_price {TOO_LARGE}", i.line_id)),
        }
    }
    out
}

/// Store-level facts the stored view adds (§4.5).
pub(crate) struct StoreFacts<'a> {
    pub retailer_id: &'a str,
    pub store_id: &'a str,
    pub time_zone: &'a str,
    pub include_tax: bool,
}

/// Dates the simulator keeps for a stored transaction.
pub(crate) struct StoredDates {
    pub id: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// The §4.5 stored-transaction view ("get_store_transactions" result entry) of `t`.
/// Simulator decision: `check_amount` = `subtotal` − discounts, plus `tax_total` when the store
/// prices exclude tax; `master_item_id` comes from `catalog`.
pub(crate) fn stored_json(
    t: &Txn,
    facts: &StoreFacts<'_>,
    dates: &StoredDates,
    master_item_id: impl Fn(&str) -> Option<String>,
) -> Value {
    let (created, updated) = (fmt_7(dates.created), fmt_7(dates.updated));
    let common = |mut o: Obj, n: usize, kind: &str| {
        o.insert("id".into(), json!(format!("{}-{kind}{n}", dates.id)));
        o.insert("transaction_id".into(), json!(dates.id));
        o
    };
    let items: Vec<Value> = t
        .items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            json!({
                "id": format!("{}-i{n}", dates.id),
                "transaction_id": dates.id,
                "master_item_id": master_item_id(&i.item_id),
                "pos_item_key": i.item_id,
                "quantity": num(i.quantity),
                "unit_price": money(i.unit_price),
                "subtotal": money(i.subtotal),
                "tax_included": i.tax_included.map(money),
                "retailer_id": facts.retailer_id,
                "store_id": facts.store_id,
                "line_id": i.line_id,
                "modifies_line_id": i.modifies_line_id,
                "custom_data": i.custom_data,
                "create_date": created,
                "last_updated": updated,
            })
        })
        .collect();
    let payments: Vec<Value> = t
        .payments
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let mut o = common(p.raw.clone(), n, "p");
            o.insert("retailer_id".into(), json!(facts.retailer_id));
            o.insert("store_id".into(), json!(facts.store_id));
            o.insert("create_date".into(), json!(created));
            o.insert("last_updated".into(), json!(updated));
            Value::Object(o)
        })
        .collect();
    let discounts: Vec<Value> =
        t.discounts.iter().enumerate().map(|(n, d)| Value::Object(common(d.raw.clone(), n, "d"))).collect();
    // In range for an accepted transaction; saturating all the same (output only).
    let off = checked_sum(t.discounts.iter().map(|d| d.amount)).unwrap_or(Decimal::MAX);
    let mut check = t.subtotal.saturating_sub(off);
    if !facts.include_tax {
        check = check.saturating_add(t.tax_total);
    }
    json!({
        "id": dates.id,
        "retailer_id": facts.retailer_id,
        "store_id": facts.store_id,
        "pos_transaction_id": t.transaction_id,
        "from_transaction_id": t.from_transaction_id,
        "pos_employee_id": t.pos_employee_id,
        "table_id": t.table_id,
        "guest_count": t.guest_count,
        "is_voided": t.is_voided,
        "is_closed": t.is_closed,
        "subtotal": money(t.subtotal),
        "taxtotal": money(t.tax_total),
        "check_amount": money(check.max(Decimal::ZERO)),
        "guest_receipt_code": t.guest_receipt_code,
        "channel": t.channel,
        "store_time_zone": facts.time_zone,
        "include_tax": facts.include_tax,
        "sm_transaction_process_date": updated,
        "open_time": t.open_time,
        "modified_time": t.modified_time.as_ref().map(|(s, _)| s.clone()),
        "create_date": created,
        "last_updated": updated,
        "items": items,
        "payments": payments,
        "discounts": discounts,
        "business_def_collection": t.business_def_collection,
        // §4.5 [K]: opaque to clients; the simulator keeps no catalog or location hierarchy.
        "catalog_lineages": Value::Null,
        "location_lineages": Value::Null,
        "location_lineages_core": Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessionm::settings::UnknownFields;

    fn read(v: Value, usage: TxnUse) -> (Option<Txn>, Check) {
        let mut c = Check::new(UnknownFields::Reject);
        let t = transaction(&mut c, v.as_object().unwrap(), "t", usage);
        (t, c)
    }

    fn basket() -> Value {
        json!({
            "transaction_id": "T1", "subtotal": 258.0, "tax_total": 33.65,
            "items": [{"line_id": "1", "item_id": "COF-500", "quantity": 2, "unit_price": 129.0,
                       "subtotal": 258.0, "tax_included": 33.65}]
        })
    }

    #[test]
    fn basket_without_modified_time_is_fine_but_send_needs_it() {
        let (t, c) = read(basket(), TxnUse::Basket);
        assert!(t.is_some() && c.ok(), "{:?}", c.errors);
        let (_, c) = read(basket(), TxnUse::Send);
        assert!(c.errors.contains_key("t.modified_time"));
    }

    #[test]
    fn zero_quantity_and_negative_price_are_refused() {
        let mut b = basket();
        b["items"][0]["quantity"] = json!(0);
        b["items"][0]["unit_price"] = json!(-1.0);
        let (_, c) = read(b, TxnUse::Basket);
        assert!(c.errors.contains_key("t.items[0].quantity"));
        assert!(c.errors.contains_key("t.items[0].unit_price"));
    }

    #[test]
    fn receipt_code_is_read_as_guest_receipt_code() {
        let mut b = basket();
        b["receipt_code"] = json!("QR-1");
        let (t, _) = read(b, TxnUse::Basket);
        assert_eq!(t.unwrap().guest_receipt_code.as_deref(), Some("QR-1"));
    }

    #[test]
    fn totals_findings_name_each_mismatch() {
        let mut b = basket();
        b["subtotal"] = json!(250.0);
        b["tax_total"] = json!(30.0);
        let (t, _) = read(b, TxnUse::Basket);
        assert_eq!(totals_findings(&t.unwrap(), 2).len(), 2);
    }

    #[test]
    fn rounding_is_half_up_to_the_given_decimals() {
        assert_eq!(round_to(Decimal::new(12345, 3), 2), Decimal::new(1235, 2));
        assert_eq!(round_to(Decimal::new(12344, 3), 2), Decimal::new(1234, 2));
        assert_eq!(round_to(Decimal::new(60125, 4), 3), Decimal::new(6013, 3));
        assert_eq!(round_to(Decimal::new(68655, 3), 0), Decimal::from(69));
    }

    #[test]
    fn weighed_line_is_compared_in_the_store_currency_digits() {
        // 0.345 × 199 = 68.655: 69 in whole yen, 68.66 in cents.
        let mut b = basket();
        b["items"] = json!([{"line_id": "1", "item_id": "COF-500", "quantity": 0.345,
                             "unit_price": 199, "subtotal": 69}]);
        b["subtotal"] = json!(69);
        b["tax_total"] = json!(0);
        let (t, _) = read(b, TxnUse::Basket);
        let t = t.unwrap();
        assert!(totals_findings(&t, 0).is_empty(), "{:?}", totals_findings(&t, 0));
        assert_eq!(totals_findings(&t, 2).len(), 1);
    }
}
