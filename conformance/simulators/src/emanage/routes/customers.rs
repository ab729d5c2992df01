//! Customers, e-mail validation and gift cards, §6.2 of the eManage contract: lead capture
//! (`POST customers/{wk}`), `GET validation/verify-email/` and `GET giftcards/balance/{code}`
//! with its second key type (`Authorization: iam-basic …`, §3).

use axum::http::header;
use serde_json::json;

use super::{body_obj, checkout::read_email, field_error, finish, message, num, ok, Req, Res};
use crate::emanage::{
    input::{guid, query, Check},
    names::IAM_BASIC,
    state::Inner,
};

/// `POST customers/{wk}` with `{ email, customerIdentificationTypeId,
/// customerIdentificationValue }`: lead capture (type 4 with the campaign name; type 1 a CPF).
/// Clients do not read the reply; the simulator answers `{ success, customerId }`.
pub(super) fn lead(inner: &mut Inner, rq: &Req) -> Res {
    let o = body_obj(rq)?;
    let mut c = Check::default();
    read_email(&mut c, &o, "");
    c.req_int(&o, "customerIdentificationTypeId", "");
    c.req_str(&o, "customerIdentificationValue", "");
    finish(c)?;
    let customer_id = inner.next_number();
    ok(json!({"success": true, "customerId": customer_id}))
}

/// `GET validation/verify-email/?email=`: a deliverability check. The reply is not shown by
/// the public material; the simulator answers `{ email, isValid }`, valid when the address has
/// a local part and a dotted domain.
pub(super) fn verify_email(_: &mut Inner, rq: &Req) -> Res {
    let email = query(&rq.q, "email").ok_or_else(|| field_error("email", "The email field is required."))?;
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.ends_with('.'));
    ok(json!({"email": email, "isValid": valid}))
}

/// `GET giftcards/balance/{code}` with `Authorization: iam-basic <GUID>` (§3, §6.2):
/// `{ balance, canPayShipping }`. A missing or unknown key is 401, an unknown card 404.
pub(super) fn gift_card_balance(inner: &mut Inner, rq: &Req) -> Res {
    let key = rq
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(IAM_BASIC))
        .and_then(|(_, k)| guid(k.trim()));
    if key.is_none_or(|k| guid(&inner.settings.iam_basic_key).is_none_or(|want| want != k)) {
        return Err(message(401, "Authorization has been denied for this request."));
    }
    let code = rq.param("code");
    let card =
        inner.gift_card(code).ok_or_else(|| message(404, format!("Gift card '{code}' was not found.")))?;
    ok(json!({"balance": num(card.balance), "canPayShipping": card.can_pay_shipping}))
}
