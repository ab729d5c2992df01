//! The handlers: each reads its request, calls the provider or the checkout, and answers JSON
//! or a problem.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use loyalty_core::checkout::{fingerprint, CheckoutRequest, CheckoutState, Completion, Delivery, Prepared};
use loyalty_core::form::{parse_registration, registration_form};
use loyalty_core::{
    Context, Error, ErrorKind, MemberId, MemberLookup, MemberUpdate, Phone, ProviderExt, RegisterMember,
    ReturnRequest, TransactionId,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::{
    CommitRequest, Health, OffersRequest, PrepareRequest, PriceRequest, ResendResult, ReturnRequestBody,
};
use crate::idempotency::{self, Reply};
use crate::problem::Problem;
use crate::AppState;

type Shared = State<Arc<AppState>>;

fn ok<T: Serialize>(value: &T) -> Response {
    Json(value).into_response()
}

fn answer<T: Serialize>(result: loyalty_core::Result<T>) -> Response {
    match result {
        Ok(v) => ok(&v),
        Err(e) => Problem::from(e).into_response(),
    }
}

/// Reads a JSON body into `T`; a body that does not read is `400` naming the path of the bad
/// field, an oversized one `413`.
fn body<T: DeserializeOwned>(bytes: Result<Bytes, BytesRejection>, operation: &str) -> Result<T, Response> {
    let bytes = bytes.map_err(|r| {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::invalid(status, operation, "body", "too large for this service's limit")
        } else {
            Problem::invalid(StatusCode::BAD_REQUEST, operation, "body", "could not be read")
        }
        .into_response()
    })?;
    let text = if bytes.is_empty() { &b"null"[..] } else { &bytes[..] };
    let mut de = serde_json::Deserializer::from_slice(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_string() } else { path };
        Problem::invalid(StatusCode::BAD_REQUEST, operation, &field, e.inner().to_string()).into_response()
    })
}

fn reply_of<T: Serialize>(status: StatusCode, result: loyalty_core::Result<T>) -> Reply {
    match result {
        Ok(v) => Reply::json(status, &v),
        Err(e) => Reply::problem(&Problem::from(e)),
    }
}

pub(crate) async fn health(State(state): Shared) -> Response {
    ok(&Health { status: "ok".into(), provider: state.opened.provider.name().to_string() })
}

pub(crate) async fn openapi() -> Response {
    ok(&crate::openapi_document())
}

pub(crate) async fn capabilities(State(state): Shared) -> Response {
    ok(state.opened.provider.capabilities())
}

pub(crate) async fn find_member(State(state): Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    const OP: &str = "members.find";
    let lookup = match (q.get("phone"), q.get("email"), q.get("id")) {
        (Some(p), None, None) => match Phone::parse_e164(p) {
            Some(p) => MemberLookup::Phone(p),
            None => {
                return Problem::invalid(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    OP,
                    "phone",
                    "expected an international number like +4741234567",
                )
                .into_response()
            }
        },
        (None, Some(e), None) => MemberLookup::Email(e.clone()),
        (None, None, Some(id)) => MemberLookup::ProviderId(MemberId::new(id.clone())),
        _ => {
            return Problem::invalid(
                StatusCode::BAD_REQUEST,
                OP,
                "query",
                "give exactly one of phone, email or id",
            )
            .into_response()
        }
    };
    let provider = &state.opened.provider;
    let found = async {
        provider.require_members(OP)?.find(&Context::new(), &lookup).await?.ok_or_else(|| {
            Error::not_found(
                provider.name(),
                OP,
                format!("no member for that {:?}", lookup.kind()).to_lowercase(),
            )
        })
    }
    .await;
    answer(found)
}

pub(crate) async fn get_member(State(state): Shared, Path(id): Path<String>) -> Response {
    let provider = &state.opened.provider;
    let result =
        async { provider.require_members("members.get")?.get(&Context::new(), &MemberId::new(id)).await };
    answer(result.await)
}

pub(crate) async fn register(
    State(state): Shared,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    const OP: &str = "members.register";
    let key = match idempotency::key_of(&headers, OP, None) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let request: RegisterMember = match body(bytes, OP) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let state2 = state.clone();
    state
        .once(OP, &key.clone(), fingerprint(&request), move || async move {
            let provider = &state2.opened.provider;
            let ctx = Context::new().with_idempotency_key(key.clone());
            let result = async { provider.require_members(OP)?.register(&ctx, &request).await }.await;
            reply_of(StatusCode::CREATED, result)
        })
        .await
}

pub(crate) async fn register_form(
    State(state): Shared,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    const OP: &str = "members.registration";
    let key = match idempotency::key_of(&headers, OP, None) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let values: serde_json::Map<String, serde_json::Value> = match body(bytes, OP) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let state2 = state.clone();
    state
        .once(OP, &key.clone(), fingerprint(&values), move || async move {
            let provider = &state2.opened.provider;
            let ctx = Context::new().with_idempotency_key(key.clone());
            let members = match provider.require_members(OP) {
                Ok(m) => m,
                Err(e) => return Reply::problem(&Problem::from(e)),
            };
            let segments = match members.segments(&ctx).await {
                Ok(s) => s,
                Err(e) if e.is_unsupported() => Vec::new(),
                Err(e) => return Reply::problem(&Problem::from(e)),
            };
            match parse_registration(&segments, &values) {
                Ok(request) => reply_of(StatusCode::CREATED, members.register(&ctx, &request).await),
                Err(errors) => {
                    let first =
                        errors.first().map(|e| format!("{}: {}", e.field, e.reason)).unwrap_or_default();
                    let mut p = Problem::invalid(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        OP,
                        errors.first().map_or("form", |e| e.field.as_str()),
                        format!("{} field(s) refused; first: {first}", errors.len()),
                    );
                    p.errors = errors;
                    Reply::problem(&p)
                }
            }
        })
        .await
}

pub(crate) async fn update_member(
    State(state): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    const OP: &str = "members.update";
    let key = match idempotency::key_of(&headers, OP, None) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let update: MemberUpdate = match body(bytes, OP) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let state2 = state.clone();
    state
        .once(OP, &key.clone(), fingerprint(&(&id, &update)), move || async move {
            let provider = &state2.opened.provider;
            let ctx = Context::new().with_idempotency_key(key.clone());
            let result =
                async { provider.require_members(OP)?.update(&ctx, &MemberId::new(id), &update).await }.await;
            reply_of(StatusCode::OK, result)
        })
        .await
}

pub(crate) async fn segments(State(state): Shared) -> Response {
    let provider = &state.opened.provider;
    answer(async { provider.require_members("members.segments")?.segments(&Context::new()).await }.await)
}

pub(crate) async fn form(State(state): Shared) -> Response {
    let provider = &state.opened.provider;
    let segments = match provider.members() {
        Some(m) => match m.segments(&Context::new()).await {
            Ok(s) => s,
            Err(e) if e.is_unsupported() => Vec::new(),
            Err(e) => return Problem::from(e).into_response(),
        },
        None => Vec::new(),
    };
    ok(&registration_form(&segments))
}

pub(crate) async fn offers(State(state): Shared, bytes: Result<Bytes, BytesRejection>) -> Response {
    const OP: &str = "offers.list";
    let request: OffersRequest = match body(bytes, OP) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let provider = &state.opened.provider;
    let result = async {
        provider
            .require_offers(OP)?
            .list(&Context::new(), request.member.as_ref(), request.basket.as_ref())
            .await
    };
    answer(result.await)
}

pub(crate) async fn price(State(state): Shared, bytes: Result<Bytes, BytesRejection>) -> Response {
    const OP: &str = "price";
    let request: PriceRequest = match body(bytes, OP) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let provider = &state.opened.provider;
    let result = async {
        let offers = match provider.offers() {
            Some(o) => {
                let basket = provider.capabilities().offers_with_basket.then_some(&request.basket);
                o.list(&Context::new(), request.member.as_ref(), basket).await?
            }
            None => Vec::new(),
        };
        loyalty_core::pricing::price(&request.basket, &offers, &request.confirmed, state.opened.clock.now())
            .map_err(|e| Error::invalid("pricing", OP, "basket", e.to_string()))
    };
    answer(result.await)
}

fn order_key(headers: &HeaderMap, operation: &str, order: &str) -> Result<TransactionId, Response> {
    idempotency::key_of(headers, operation, Some(order))?;
    Ok(TransactionId::new(order.to_string()))
}

pub(crate) async fn prepare(
    State(state): Shared,
    Path(order): Path<String>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    const OP: &str = "checkout.prepare";
    let order = match order_key(&headers, OP, &order) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let body: PrepareRequest = match body(bytes, OP) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut request = CheckoutRequest::new(order.clone(), body.basket);
    if let Some(lookup) = body.member {
        request = request.identify(lookup);
    }
    if let Some(sign_up) = body.sign_up {
        request = request.sign_up(sign_up);
    }
    for offer in body.confirmed {
        request = request.confirm(offer);
    }
    if let Some(d) = body.department {
        request = request.department(d);
    }
    // The order id is the key: the same basket again gets the prepared checkout as it stands
    // (holds kept); another basket prices the order again, as a shop editing its cart expects.
    match state.checkout.status(&order).await {
        Ok(Some(rec)) if rec.state == CheckoutState::Prepared && rec.fingerprint == request.fingerprint() => {
            return match Prepared::from_record(&rec) {
                Ok(p) => {
                    let mut r = ok(&p);
                    r.headers_mut()
                        .insert(idempotency::REPLAYED, axum::http::HeaderValue::from_static("true"));
                    r
                }
                Err(e) => Problem::from(e).into_response(),
            }
        }
        Ok(_) => {}
        Err(e) => return Problem::from(e).into_response(),
    }
    answer(state.checkout.prepare(&Context::new().with_idempotency_key(order.as_str()), &request).await)
}

pub(crate) async fn commit(
    State(state): Shared,
    Path(order): Path<String>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    const OP: &str = "checkout.commit";
    let order = match order_key(&headers, OP, &order) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let body: CommitRequest = match body(bytes, OP) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let record = match state.checkout.status(&order).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return Problem::from(Error::not_found(
                "checkout",
                OP,
                format!("order {order} was never prepared"),
            ))
            .into_response()
        }
        Err(e) => return Problem::from(e).into_response(),
    };
    // A committed order answers its first result, whatever this repeat says it paid.
    if !record.state.is_committed() {
        let Some(total) = record.priced.as_ref().map(|p| p.total) else {
            return Problem::from(
                Error::new(ErrorKind::Conflict, "checkout", OP)
                    .with_message(format!("order {order} is not prepared ({})", record.state.label())),
            )
            .into_response();
        };
        if body.payment.amount != total {
            return Problem::from(Error::new(ErrorKind::Conflict, "checkout", OP).with_message(format!(
                "order {order}: the payment of {} does not equal the prepared total {total}; nothing was recorded",
                body.payment.amount
            )))
            .into_response();
        }
        state.payments.announce(&order, body.payment.reference.clone(), body.payment.amount);
    }
    let result =
        state.checkout.commit_order(&Context::new().with_idempotency_key(order.as_str()), &order).await;
    if !matches!(result, Ok(Completion::ActionRequired { .. })) {
        state.payments.forget(&order);
    }
    answer(result)
}

pub(crate) async fn abort(State(state): Shared, Path(order): Path<String>, headers: HeaderMap) -> Response {
    const OP: &str = "checkout.abort";
    let order = match order_key(&headers, OP, &order) {
        Ok(o) => o,
        Err(r) => return r,
    };
    match state.checkout.abort_order(&Context::new().with_idempotency_key(order.as_str()), &order).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

pub(crate) async fn checkout_status(State(state): Shared, Path(order): Path<String>) -> Response {
    let order = TransactionId::new(order);
    match state.checkout.status(&order).await {
        Ok(Some(r)) => ok(&r),
        Ok(None) => {
            Problem::from(Error::not_found("checkout", "checkout.status", format!("no order {order}")))
                .into_response()
        }
        Err(e) => Problem::from(e).into_response(),
    }
}

pub(crate) async fn returns(
    State(state): Shared,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    const OP: &str = "checkout.return";
    let body: ReturnRequestBody = match body(bytes, OP) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let key = match idempotency::key_of(&headers, OP, Some(&body.return_id)) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let mut request = ReturnRequest::new(
        Some(TransactionId::new(body.order.clone())),
        TransactionId::new(body.return_id.clone()),
        state.opened.clock.now(),
    );
    for line in &body.lines {
        request = request.with_line(line.line_id.as_str(), line.quantity);
    }
    if let Some(r) = &body.reason {
        request = request.with_reason(r.clone());
    }
    let state2 = state.clone();
    state
        .once(OP, &key.clone(), fingerprint(&body), move || async move {
            let ctx = Context::new().with_idempotency_key(key.clone());
            reply_of(StatusCode::OK, state2.checkout.process_return(&ctx, &request, None).await)
        })
        .await
}

pub(crate) async fn pending(State(state): Shared) -> Response {
    answer(state.checkout.pending_transactions().await)
}

pub(crate) async fn resend(State(state): Shared, headers: HeaderMap) -> Response {
    const OP: &str = "checkout.resend";
    let key = match idempotency::key_of(&headers, OP, None) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let state2 = state.clone();
    state
        .once(OP, &key.clone(), String::new(), move || async move {
            let results = state2.checkout.resend_pending(&Context::new()).await;
            let out: Vec<ResendResult> = results
                .into_iter()
                .map(|(order, r)| {
                    let (status, reason) = match r {
                        Ok(Delivery::Sent(_)) => ("sent", None),
                        Ok(Delivery::Pending { reason }) => ("pending", Some(reason)),
                        Ok(Delivery::Refused { reason }) => ("refused", Some(reason)),
                        Ok(Delivery::NotSupported) => ("not_supported", None),
                        Err(e) => ("failed", Some(e.to_string())),
                    };
                    ResendResult { order: order.to_string(), status: status.into(), reason }
                })
                .collect();
            Reply::json(StatusCode::OK, &out)
        })
        .await
}

pub(crate) async fn not_found() -> Response {
    Problem::service(StatusCode::NOT_FOUND, "not_found", "serve.route", "no such endpoint; see /openapi.json")
        .into_response()
}
