//! The shopping-cart session API, rows 1-5 of the eManage contract §6.4; upgrade lines (§7)
//! are handed to `upgrades.rs`.

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{body_obj, field_error, finish, message, num, ok, upgrades, Req, Res, Response};
use crate::emanage::{
    input::{guid, query, Check, Obj},
    names::{extra, BEHAVIOR_TEST, CALL_BACK_URL, UPGRADE_PARENT_SESSION_ID},
    session::{Line, Session, SessionStatus},
    settings::{DuplicateAdd, PriceCheck},
    state::Inner,
};

/// Largest quantity of one line (simulator decision; the contract names no limit).
pub(super) const MAX_QUANTITY: i64 = 999;

/// A line as `new` (inside `product`) and `add` (flat) send it (§6.4 rows 1-2).
#[derive(Clone, Debug)]
pub(super) struct LineInput {
    pub product_id: i64,
    pub quantity: u32,
    pub price: Option<Decimal>,
    pub shipping_method_id: i64,
}

/// Line fields are reported under their own names (`price`, `quantity`), as the contract's
/// `Invalid{field}` does, in `new` as in `add` (simulator decision).
fn read_line(c: &mut Check, o: &Obj) -> Option<LineInput> {
    let product_id = c.req_int(o, "productId", "");
    let quantity = c.req_int(o, "quantity", "");
    let price = c.dec(o, "price", "");
    let shipping = c.req_int(o, "shippingMethodId", "");
    if let Some(q) = quantity {
        if !(1..=MAX_QUANTITY).contains(&q) {
            c.err("quantity", format!("The quantity must be between 1 and {MAX_QUANTITY}."));
        }
    }
    Some(LineInput {
        product_id: product_id?,
        quantity: u32::try_from(quantity?).ok()?,
        price,
        shipping_method_id: shipping?,
    })
}

/// `behaviorId` from the query or the body; `2` flags a test cart (§11, in both places in the
/// addendum).
fn read_behavior(c: &mut Check, rq: &Req, o: Option<&Obj>) -> bool {
    let mut test = false;
    if let Some(b) = query(&rq.q, "behaviorId") {
        match b.parse::<i64>() {
            Ok(n) => test |= n == BEHAVIOR_TEST,
            Err(_) => c.err("behaviorId", format!("The value '{b}' is not valid for behaviorId.")),
        }
    }
    if let Some(o) = o {
        test |= c.int(o, "behaviorId", "") == Some(BEHAVIOR_TEST);
    }
    test
}

/// Checks a line against the campaign catalogue: product (404), shipping method and price
/// (400). Returns the catalogue price.
fn check_line(inner: &Inner, rq: &Req, l: &LineInput) -> Result<Decimal, Response> {
    let campaign = inner.campaign(&rq.web_key).ok_or_else(|| message(404, "Campaign not found."))?;
    let product = campaign
        .product(l.product_id)
        .ok_or_else(|| message(404, format!("Product {} was not found in this campaign.", l.product_id)))?;
    if product.shipping(l.shipping_method_id).is_none() {
        return Err(field_error(
            "shippingMethodId",
            format!(
                "Shipping method {} is not available for product {}.",
                l.shipping_method_id, l.product_id
            ),
        ));
    }
    // The server re-prices from the campaign; a forged or stale price is refused (§6.4 notes,
    // simulator decision).
    if inner.settings.price_check == PriceCheck::Strict {
        match l.price {
            None => return Err(field_error("price", "The price field is required.")),
            Some(p) if p != product.price => {
                return Err(field_error(
                    "price",
                    format!(
                        "The price {} does not match the campaign price {}.",
                        p.normalize(),
                        product.price
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(product.price)
}

/// The `sessionId` query parameter: required (400 naming it when missing). A value that is no
/// GUID names no session, so it is 404 like any unknown one (§10, checklist 8).
pub(super) fn session_param(rq: &Req) -> Result<String, Response> {
    let raw = query(&rq.q, "sessionId")
        .ok_or_else(|| field_error("sessionId", "The sessionId field is required."))?;
    session_id(raw)
}

/// A session id as sent: GUID-shaped, or 404 `{message}` as an unknown session.
pub(super) fn session_id(raw: &str) -> Result<String, Response> {
    guid(raw).ok_or_else(|| message(404, format!("Session '{raw}' was not found.")))
}

/// A session of the path's campaign; unknown ones and other campaigns' are 404 (§10).
pub(super) fn find_session<'a>(inner: &'a Inner, rq: &Req, sid: &str) -> Result<&'a Session, Response> {
    inner
        .sessions
        .get(sid)
        .filter(|s| s.web_key == rq.web_key)
        .ok_or_else(|| message(404, format!("Session '{sid}' was not found.")))
}

pub(super) fn session_mut<'a>(inner: &'a mut Inner, sid: &str) -> Result<&'a mut Session, Response> {
    inner.sessions.get_mut(sid).ok_or_else(|| message(404, format!("Session '{sid}' was not found.")))
}

/// Plain `add`, `update` and `remove` need an open, ordinary cart (§6.4 notes: a paid cart is 409).
fn require_open(s: &Session) -> Result<(), Response> {
    match s.status {
        SessionStatus::Open if s.parent.is_some() => {
            Err(message(409, "An upgrade session holds only its upgrade line and cannot be changed."))
        }
        SessionStatus::Open => Ok(()),
        SessionStatus::Paid => Err(message(409, format!("Session '{}' is already paid.", s.id))),
        SessionStatus::AwaitingPayment => {
            Err(message(409, format!("Session '{}' has a payment awaiting confirmation.", s.id)))
        }
        SessionStatus::Discarded => Err(message(409, format!("Session '{}' was discarded.", s.id))),
    }
}

pub(super) fn sid_reply(sid: &str) -> Res {
    ok(Value::String(sid.to_string()))
}

// ---------------------------------------------------------------- row 1: new

/// `POST shoppingcart/{wk}/new`: a session with one line; answers the session id as a bare JSON
/// string (§6.4 row 1). With `upgradeParentSessionId` at the top level it creates an offline
/// upgrade session instead (§7.2 rule 7, client-created form).
pub(super) fn new_session(inner: &mut Inner, rq: &Req) -> Res {
    let o = body_obj(rq)?;
    let mut c = Check::default();
    let line = c.req_obj(&o, "product", "").and_then(|p| read_line(&mut c, p));
    let test = read_behavior(&mut c, rq, Some(&o));
    let ip = c.str(&o, "customerIP", "");
    let up = upgrades::read_upgrade(&mut c, &o);
    finish(c)?;
    let line = line.ok_or_else(|| field_error("product", "The product field is required."))?;
    let price = check_line(inner, rq, &line)?;
    if up.any() {
        return upgrades::offline_from_new(inner, rq, &line, price, &up, test);
    }
    let id = inner.new_guid();
    let mut s = Session::new(id.clone(), rq.web_key.clone(), rq.now, test);
    s.customer_ip = ip;
    s.lines.push(Line {
        product_id: line.product_id,
        quantity: line.quantity,
        shipping_method_id: line.shipping_method_id,
        unit_price: price,
        chain: None,
        delta: None,
    });
    inner.add_session(s);
    sid_reply(&id)
}

// ---------------------------------------------------------------- row 2: add

/// `POST shoppingcart/{wk}/add?sessionId=`: a plain line on an open cart, or an upgrade line on
/// a paid one (§6.4 row 2, §7).
pub(super) fn add(inner: &mut Inner, rq: &Req) -> Res {
    let sid = session_param(rq)?;
    let o = body_obj(rq)?;
    let mut c = Check::default();
    let line = read_line(&mut c, &o);
    let test = read_behavior(&mut c, rq, Some(&o));
    let up = upgrades::read_upgrade(&mut c, &o);
    finish(c)?;
    let line = line.ok_or_else(|| field_error("productId", "The productId field is required."))?;
    find_session(inner, rq, &sid)?;
    let price = check_line(inner, rq, &line)?;
    let reply = if up.is_step() {
        upgrades::add_upgrade(inner, rq, &sid, &line, price, &up, test)?
    } else {
        plain_add(inner, &sid, &line, price)?
    };
    // `behaviorId=2` flags the cart only once the add is taken: a refused add (409, 404, 400)
    // changes nothing, its test flag included (§11, checklist 4).
    if test {
        session_mut(inner, &sid)?.test = true;
    }
    Ok(reply)
}

fn plain_add(inner: &mut Inner, sid: &str, line: &LineInput, price: Decimal) -> Res {
    let merge = inner.settings.duplicate_add == DuplicateAdd::Merge;
    let s = session_mut(inner, sid)?;
    require_open(s)?;
    match s.plain_line(line.product_id) {
        // The vendor's own clients add a product again through `update` (§6.4 notes).
        Some(_) if !merge => {
            return Err(message(
                409,
                format!(
                    "Product {} is already in the cart; use update to change its quantity.",
                    line.product_id
                ),
            ))
        }
        Some(i) => {
            let total = i64::from(s.lines[i].quantity) + i64::from(line.quantity);
            if total > MAX_QUANTITY {
                return Err(field_error(
                    "quantity",
                    format!("The quantity must be between 1 and {MAX_QUANTITY}."),
                ));
            }
            s.lines[i].quantity = total as u32;
        }
        None => s.lines.push(Line {
            product_id: line.product_id,
            quantity: line.quantity,
            shipping_method_id: line.shipping_method_id,
            unit_price: price,
            chain: None,
            delta: None,
        }),
    }
    sid_reply(sid)
}

// ---------------------------------------------------------------- rows 3-4: update, remove

/// A required integer query parameter.
fn int_param(c: &mut Check, rq: &Req, name: &str) -> Option<i64> {
    let Some(raw) = query(&rq.q, name) else {
        c.required(name);
        return None;
    };
    let n = raw.parse::<i64>().ok();
    if n.is_none() {
        c.err(name, format!("The value '{raw}' is not valid for {name}."));
    }
    n
}

/// `PUT shoppingcart/{wk}/update?sessionId=&productId=&quantity=`: sets a line's quantity
/// (§6.4 row 3).
pub(super) fn update(inner: &mut Inner, rq: &Req) -> Res {
    let sid = session_param(rq)?;
    let mut c = Check::default();
    let pid = int_param(&mut c, rq, "productId");
    let quantity = int_param(&mut c, rq, "quantity");
    if quantity.is_some_and(|q| !(1..=MAX_QUANTITY).contains(&q)) {
        c.err("quantity", format!("The quantity must be between 1 and {MAX_QUANTITY}."));
    }
    finish(c)?;
    let (Some(pid), Some(quantity)) = (pid, quantity) else {
        return Err(field_error("productId", "The productId field is required."));
    };
    find_session(inner, rq, &sid)?;
    let s = session_mut(inner, &sid)?;
    require_open(s)?;
    let i =
        s.plain_line(pid).ok_or_else(|| message(404, format!("Product {pid} is not in session '{sid}'.")))?;
    s.lines[i].quantity = quantity as u32;
    sid_reply(&sid)
}

/// `DELETE shoppingcart/{wk}/remove?sessionId=&productId=`: removes a line (§6.4 row 4).
pub(super) fn remove(inner: &mut Inner, rq: &Req) -> Res {
    let sid = session_param(rq)?;
    let mut c = Check::default();
    let pid = int_param(&mut c, rq, "productId");
    finish(c)?;
    let pid = pid.ok_or_else(|| field_error("productId", "The productId field is required."))?;
    find_session(inner, rq, &sid)?;
    let s = session_mut(inner, &sid)?;
    require_open(s)?;
    let i =
        s.plain_line(pid).ok_or_else(|| message(404, format!("Product {pid} is not in session '{sid}'.")))?;
    s.lines.remove(i);
    sid_reply(&sid)
}

// ---------------------------------------------------------------- row 5: get

/// `GET shoppingcart/{wk}?sessionId=`: `products[]` with `productId`, `productName`, `price`
/// (unit), `quantity`, `shippingPrice` (§6.4 row 5), plus simulator extras (§6.4 notes, §8,
/// §15.1): per line `listPrice`, `discountPercent`, `lineTotal`, `lineDiscount`,
/// `shippingMethodId`, and on upgrade heads `upgradeStatus` and `upgradedFromProductId`; at the
/// top `subtotal`, `shippingTotal`, `discountTotal`, `total`, `currency`, `status`, `test`,
/// `shoppingCartNumber`, `upgradeParentSessionId`, `callBackUrl`, `paymentContinueResult`
/// (a 3-D Secure payment waiting) and `upgrades[]` (per chain also what it captured so far).
///
/// `price` is the line's exact amount divided by its quantity, rounded half-up to the minor
/// unit; when that is not exact (3 × 33.33 at 50 % = 49.99 → 16.66), `lineTotal` and the
/// totals stay exact (simulator decision).
///
/// With `cart_extras` off only `products[]` with the contract's five fields is served.
pub(super) fn get_cart(inner: &mut Inner, rq: &Req) -> Res {
    let sid = session_param(rq)?;
    let s = find_session(inner, rq, &sid)?;
    let priced = inner.priced(s).ok_or_else(|| message(404, "Campaign not found."))?;
    if !inner.settings.cart_extras {
        let products: Vec<Value> = priced
            .lines
            .iter()
            .map(|l| {
                json!({
                    "productId": l.product_id,
                    "productName": l.product_name,
                    "price": num(l.price),
                    "quantity": l.quantity,
                    "shippingPrice": num(l.shipping_price),
                })
            })
            .collect();
        return ok(json!({ "products": products }));
    }
    let products: Vec<Value> = priced
        .lines
        .iter()
        .map(|l| {
            let mut v = json!({
                "productId": l.product_id,
                "productName": l.product_name,
                "price": num(l.price),
                "quantity": l.quantity,
                "shippingPrice": num(l.shipping_price),
                "shippingMethodId": l.shipping_method_id,
                extra::LIST_PRICE: num(l.list_price),
                extra::DISCOUNT_PERCENT: num(l.discount_percent),
                extra::LINE_TOTAL: num(l.line_total),
                extra::LINE_DISCOUNT: num(l.line_discount),
            });
            if let Some((status, origin)) = l.upgrade {
                v[extra::UPGRADE_STATUS] = json!(status.wire());
                v[extra::UPGRADED_FROM_PRODUCT_ID] = json!(origin);
            }
            v
        })
        .collect();
    let upgrades: Vec<Value> = s
        .chains
        .iter()
        .map(|c| {
            json!({
                extra::UPGRADED_FROM_PRODUCT_ID: c.origin_product,
                "productId": c.head().0,
                "quantity": c.quantity,
                extra::STATUS: c.status.wire(),
                extra::SHIPS_PRODUCT_ID: c.ships(),
                extra::DISCARDED_PRODUCT_IDS: c.discarded_products(),
                extra::UPGRADE_SESSION_ID: c.child,
                extra::CAPTURED: num(c.captured_per_unit * Decimal::from(c.quantity)),
            })
        })
        .collect();
    ok(json!({
        "sessionId": s.id,
        "products": products,
        extra::SUBTOTAL: num(priced.subtotal),
        extra::SHIPPING_TOTAL: num(priced.shipping_total),
        extra::DISCOUNT_TOTAL: num(priced.discount_total),
        extra::TOTAL: num(priced.total),
        extra::CURRENCY: inner.settings.currency,
        extra::STATUS: s.status.wire(),
        extra::TEST: s.test,
        extra::SHOPPING_CART_NUMBER: s.shopping_cart_number,
        UPGRADE_PARENT_SESSION_ID: s.parent.as_ref().map(|p| p.0.clone()),
        CALL_BACK_URL: s.pending.as_ref().filter(|p| !p.three_ds).map(|p| inner.payment_url(&p.tracking)),
        // The 3-D Secure continuation, shaped as in the checkout reply (§6.3).
        extra::PAYMENT_CONTINUE_RESULT: s.pending.as_ref().filter(|p| p.three_ds)
            .map(|p| json!({ extra::ACTION_URL: inner.payment_url(&p.tracking) })),
        extra::UPGRADES: upgrades,
    }))
}
