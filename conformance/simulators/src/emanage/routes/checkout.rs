//! Customer and checkout, rows 6-7 of the eManage contract §6.4, and the simulator-only
//! payment pages that stand in for redirect and 3-D Secure confirmation (§15.1: the vendor's
//! confirmation path is not shown).

use serde_json::{json, Value};

use super::{
    body_obj,
    cart::{find_session, session_id},
    field_error, finish, message, num, ok, Req, Res,
};
use crate::emanage::{
    input::{member, query, Check, Obj},
    names::{BEHAVIOR_TEST, GIFT_CARD_PROCESSOR},
    payment::{card_outcome, read_payment, Outcome, PaymentInput},
    session::{Customer, PaymentMethod, Pending, Session, SessionStatus},
    state::{Confirmation, Inner, Tracked},
};

/// Reads an address `{ firstName, lastName, address1, address2, city, zipCode, state,
/// countryCode, phoneNumber }` (§6.3).
pub(super) fn read_address(c: &mut Check, o: &Obj, key: &str, required: bool) -> Option<Value> {
    let a = if required { c.req_obj(o, key, "") } else { c.obj(o, key, "") }?;
    let mut out = serde_json::Map::new();
    for f in ["firstName", "lastName", "address1", "city", "zipCode", "countryCode"] {
        out.insert(f.into(), c.req_str(a, f, key).map(Value::String).unwrap_or(Value::Null));
    }
    for f in ["address2", "state", "phoneNumber"] {
        out.insert(f.into(), c.str(a, f, key).map(Value::String).unwrap_or(Value::Null));
    }
    if let Some(cc) = out.get("countryCode").and_then(Value::as_str) {
        if cc.len() != 2 || !cc.chars().all(|ch| ch.is_ascii_alphabetic()) {
            c.err(&format!("{key}.countryCode"), "The countryCode must be a two-letter ISO code.");
        }
    }
    Some(Value::Object(out))
}

/// A required e-mail member.
pub(super) fn read_email(c: &mut Check, o: &Obj, path: &str) -> Option<String> {
    let e = c.req_str(o, "email", path)?;
    if !e.contains('@') {
        let key = if path.is_empty() { "email".to_string() } else { format!("{path}.email") };
        c.err(&key, "The email field is not a valid e-mail address.");
    }
    Some(e)
}

/// The reply of checkout and orders (§6.3 "order response fields", §6.4 row 7).
#[derive(Debug, Default)]
pub(super) struct PaymentReply {
    pub success: bool,
    pub message: Option<String>,
    pub order_number: Option<String>,
    pub shopping_cart_number: Option<u64>,
    pub card_id: Option<u64>,
    pub processor: Option<i64>,
    pub customer: Option<(u64, u64)>,
    pub callback_url: Option<String>,
    pub action_url: Option<String>,
    pub tracking: Option<String>,
    pub descriptor: String,
    pub upsells: Vec<Value>,
}

impl PaymentReply {
    pub fn json(self) -> Value {
        json!({
            "success": self.success,
            "message": self.message,
            "orderNumber": self.order_number,
            "shoppingCartNumber": self.shopping_cart_number,
            "cardId": self.card_id,
            "paymentProcessorId": self.processor,
            "customerResult": self.customer.map(|(c, a)| json!({"customerId": c, "shippingAddressId": a})),
            "callBackUrl": self.callback_url,
            // Empty string when there is no continuation, as clients test it (§6.3).
            "paymentContinueResult": {"actionUrl": self.action_url.unwrap_or_default()},
            "trackingNumber": self.tracking,
            "descriptor": self.descriptor,
            "upsells": self.upsells,
        })
    }
}

// ---------------------------------------------------------------- row 6: customers/new

/// `POST shoppingcart/{wk}/customers/new?sessionId=`: the customer and shipping address; checkout
/// requires it first (§6.4 row 6). Answers `{ success, customerId, shippingAddressId }`
/// (simulator decision: clients do not read it).
pub(super) fn customer(inner: &mut Inner, rq: &Req) -> Res {
    let raw = query(&rq.q, "sessionId")
        .ok_or_else(|| field_error("sessionId", "The sessionId field is required."))?
        .to_string();
    let o = body_obj(rq)?;
    let mut c = Check::default();
    let email = read_email(&mut c, &o, "");
    let same = c.bool(&o, "useShippingAddressForBilling", "").unwrap_or(true);
    let shipping = read_address(&mut c, &o, "shippingAddress", true);
    read_address(&mut c, &o, "billingAddress", !same);
    finish(c)?;
    let (Some(email), Some(shipping)) = (email, shipping) else {
        return Err(field_error("email", "The email field is required."));
    };
    let sid = session_id(&raw)?;
    let s = find_session(inner, rq, &sid)?;
    if s.status != SessionStatus::Open {
        return Err(message(
            409,
            format!("Session '{sid}' is {}; the customer can no longer change.", s.status.wire()),
        ));
    }
    let ids = s.customer.as_ref().map(|c| (c.customer_id, c.shipping_address_id));
    let (customer_id, address_id) = match ids {
        Some(ids) => ids,
        None => (inner.next_number(), inner.next_number()),
    };
    if let Some(s) = inner.sessions.get_mut(&sid) {
        s.customer = Some(Customer {
            email,
            shipping_address: shipping,
            customer_id,
            shipping_address_id: address_id,
        });
    }
    ok(json!({"success": true, "customerId": customer_id, "shippingAddressId": address_id}))
}

// ---------------------------------------------------------------- row 7: checkout

fn refuse_checkout(s: &Session) -> Option<String> {
    match s.status {
        SessionStatus::Open if s.lines.is_empty() => Some("The cart is empty.".into()),
        // Clients say checkout requires customers/new first (§6.4 row 6); an upgrade session
        // inherits its parent's customer.
        SessionStatus::Open if s.customer.is_none() && s.parent.is_none() => {
            Some("Customer information is required before checkout; call customers/new first.".into())
        }
        SessionStatus::Open => None,
        SessionStatus::Paid => Some(format!("Session '{}' is already paid.", s.id)),
        SessionStatus::AwaitingPayment => {
            Some(format!("Session '{}' has a payment awaiting confirmation.", s.id))
        }
        SessionStatus::Discarded => Some(format!("Session '{}' was discarded.", s.id)),
    }
}

/// `POST shoppingcart/{wk}/checkout` with `{ behaviorId, sessionId, payment, fraudSessionId }`,
/// `sessionId` in the body (§6.4 row 7). Outcomes: approve (paid), decline (200
/// `success:false`, `orderNumber:null`, §10), 3-D Secure (`paymentContinueResult.actionUrl`), a
/// redirect processor (`callBackUrl`); the last two leave the session AwaitingPayment (§14).
pub(super) fn checkout(inner: &mut Inner, rq: &Req) -> Res {
    let o = body_obj(rq)?;
    let mut c = Check::default();
    let raw = c.req_str(&o, "sessionId", "");
    let test = c.int(&o, "behaviorId", "") == Some(BEHAVIOR_TEST);
    c.str(&o, "fraudSessionId", "");
    let payment = read_payment(&mut c, &o, false);
    finish(c)?;
    let (Some(raw), Some(payment)) = (raw, payment) else {
        return Err(field_error("payment", "The payment field is required."));
    };
    // A sessionId that is no GUID names no session: 404 like any unknown one (checklist 8).
    let sid = session_id(&raw)?;
    let s = find_session(inner, rq, &sid)?;
    if let Some(why) = refuse_checkout(s) {
        return Err(message(409, why));
    }
    // What this checkout charges is the campaign's price now; it no longer moves.
    inner.freeze_prices(&sid);
    let Some(s) = inner.sessions.get(&sid) else {
        return Err(message(404, format!("Session '{sid}' was not found.")));
    };
    let customer = s.customer.as_ref().map(|c| (c.customer_id, c.shipping_address_id));
    let email = s.customer.as_ref().map(|c| c.email.clone()).unwrap_or_default();
    let descriptor = inner.campaign(&rq.web_key).map(|c| c.descriptor.clone()).unwrap_or_default();
    if test {
        if let Some(s) = inner.sessions.get_mut(&sid) {
            s.test = true;
        }
    }
    let mut reply = PaymentReply { customer, descriptor, ..PaymentReply::default() };
    let (method, three_ds) = match payment {
        PaymentInput::Redirect { processor } => {
            reply.processor = Some(processor);
            (PaymentMethod::Redirect { processor }, false)
        }
        PaymentInput::Card { pan, expiry } => {
            match card_outcome(&inner.settings.test_pans, &pan, expiry, rq.now) {
                Outcome::Decline(why) => {
                    if let Some(s) = inner.sessions.get_mut(&sid) {
                        s.declines += 1;
                    }
                    reply.message = Some(why.into());
                    return ok(reply.json());
                }
                Outcome::ThreeDs => {
                    let card_id = inner.next_number();
                    inner.cards.insert(card_id, (false, email));
                    reply.card_id = Some(card_id);
                    (PaymentMethod::Card { card_id, upgrade_charges_fail: false }, true)
                }
                Outcome::Approve { upgrade_charges_fail } => {
                    let card_id = inner.next_number();
                    inner.cards.insert(card_id, (upgrade_charges_fail, email));
                    inner.mark_paid(&sid, PaymentMethod::Card { card_id, upgrade_charges_fail }, rq.now);
                    reply.card_id = Some(card_id);
                    reply.success = true;
                    return ok(numbered(inner, &sid, reply).json());
                }
            }
        }
        PaymentInput::CardOnFile { .. } => {
            return Err(field_error("payment.cardId", "Not accepted on a cart."))
        }
        PaymentInput::GiftCard { number } => {
            reply.processor = Some(GIFT_CARD_PROCESSOR);
            let total =
                inner.sessions.get(&sid).and_then(|s| inner.priced(s)).map(|p| p.total).unwrap_or_default();
            if let Err(why) = inner.spend_gift_card(&number, total) {
                if let Some(s) = inner.sessions.get_mut(&sid) {
                    s.declines += 1;
                }
                reply.message = Some(why.into());
                return ok(reply.json());
            }
            inner.mark_paid(&sid, PaymentMethod::GiftCard { code: number }, rq.now);
            reply.success = true;
            return ok(numbered(inner, &sid, reply).json());
        }
    };
    let tracking = inner.new_tracking(Tracked::Session(sid.clone()));
    inner.number_session(&sid);
    let url = inner.payment_url(&tracking);
    if let Some(s) = inner.sessions.get_mut(&sid) {
        s.status = SessionStatus::AwaitingPayment;
        s.pending = Some(Pending { tracking: tracking.clone(), since: rq.now, method, three_ds });
    }
    reply.success = true;
    reply.tracking = Some(tracking);
    if three_ds {
        reply.action_url = Some(url);
    } else {
        reply.callback_url = Some(url);
    }
    ok(numbered(inner, &sid, reply).json())
}

fn numbered(inner: &Inner, sid: &str, mut reply: PaymentReply) -> PaymentReply {
    if let Some(s) = inner.sessions.get(sid) {
        reply.shopping_cart_number = s.shopping_cart_number;
        reply.order_number = s.order_number.clone();
    }
    reply
}

// ---------------------------------------------------------------- simulator payment pages

/// `GET {sim}/payments/{tracking}`: the page a `callBackUrl` or `actionUrl` points to
/// (simulator extra): what is being paid and whether it still awaits confirmation.
pub(super) fn payment_page(inner: &mut Inner, rq: &Req) -> Res {
    let tracking = rq.param("tracking");
    let target =
        inner.tracking.get(tracking).cloned().ok_or_else(|| message(404, "Unknown tracking number."))?;
    let base = inner.payment_url(tracking);
    let mut v = match target {
        Tracked::Session(sid) => {
            let s = inner.sessions.get(&sid).ok_or_else(|| message(404, "Unknown tracking number."))?;
            let pending = s.pending.as_ref().filter(|p| p.tracking == tracking);
            let status = match (pending, s.status) {
                (Some(_), _) => "AwaitingPayment",
                (None, SessionStatus::Paid) => "Paid",
                _ => "Expired",
            };
            let amount = inner.priced(s).map(|p| p.total).unwrap_or_default();
            json!({"sessionId": sid, "status": status, "amount": num(amount),
                   "threeDSecure": pending.is_some_and(|p| p.three_ds),
                   "paymentProcessorId": pending.and_then(|p| p.method.processor())})
        }
        Tracked::Order(number) => {
            let o = inner
                .orders
                .iter()
                .find(|o| o.number == number)
                .ok_or_else(|| message(404, "Unknown tracking number."))?;
            let status = if o.pending.is_some() {
                "AwaitingPayment"
            } else if o.paid {
                "Paid"
            } else {
                "Expired"
            };
            json!({"orderNumber": number, "status": status, "amount": num(o.amount),
                   "threeDSecure": o.pending.as_ref().is_some_and(|p| p.three_ds),
                   "paymentProcessorId": o.pending.as_ref().and_then(|p| p.method.processor())})
        }
    };
    v["trackingNumber"] = json!(tracking);
    v["currency"] = json!(inner.settings.currency);
    v["approveUrl"] = json!(format!("{base}/approve"));
    v["cancelUrl"] = json!(format!("{base}/cancel"));
    ok(v)
}

/// The address part of a confirmation reply, shaped like the SDK's `checkPaypalApprove` answer
/// (§6.3).
fn confirm_address(inner: &Inner, tracking: &str) -> Value {
    let customer = match inner.tracking.get(tracking) {
        Some(Tracked::Session(sid)) => inner.sessions.get(sid).and_then(|s| s.customer.clone()),
        _ => None,
    };
    let Some(c) = customer else {
        return Value::Null;
    };
    let a = &c.shipping_address;
    let f = |k: &str| a.get(k).cloned().unwrap_or(Value::Null);
    json!({"firstName": f("firstName"), "lastName": f("lastName"), "email": c.email, "city": f("city"),
           "state": f("state"), "country": f("countryCode"), "zipCode": f("zipCode")})
}

/// `POST {sim}/payments/{tracking}/approve`: the payer approves (simulator extra standing in
/// for the vendor's redirect confirmation, whose path is not shown, §15.1). Answers `{ success,
/// address }`; a declined payment (a gift card short of the amount) `{ success: false,
/// message }` like a checkout decline (§10); 409 when the payment no longer awaits
/// confirmation, 404 for an unknown number.
pub(super) fn approve(inner: &mut Inner, rq: &Req) -> Res {
    let tracking = rq.param("tracking").to_string();
    match inner.confirm(&tracking, rq.now) {
        Err(()) => Err(message(404, "Unknown tracking number.")),
        Ok(Confirmation::NotAwaiting) => Err(message(409, "The payment is not awaiting confirmation.")),
        Ok(Confirmation::Declined(why)) => ok(json!({"success": false, "message": why})),
        Ok(Confirmation::Paid) => ok(json!({"success": true, "address": confirm_address(inner, &tracking)})),
    }
}

/// `POST {sim}/payments/{tracking}/cancel`: the payer abandons the redirect; the session goes
/// back to Open (an upgrade session is discarded). Simulator extra.
pub(super) fn cancel(inner: &mut Inner, rq: &Req) -> Res {
    match inner.cancel(rq.param("tracking")) {
        Err(()) => Err(message(404, "Unknown tracking number.")),
        Ok(false) => Err(message(409, "The payment is not awaiting confirmation.")),
        Ok(true) => ok(json!({"success": true})),
    }
}

/// Whether a body names a member (any letter case).
pub(super) fn has(o: &Obj, key: &str) -> bool {
    member(o, key).is_some()
}
