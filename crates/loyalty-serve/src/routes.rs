//! The handlers: each reads its request, calls the provider or the checkout, and answers JSON
//! or a problem.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use loyalty_core::checkout::{fingerprint, CheckoutRequest, CheckoutState, Completion, Delivery, Prepared};
use loyalty_core::form::{parse_registration, registration_form};
use loyalty_core::{
    Basket, Context, Error, ErrorKind, MemberId, MemberLookup, MemberUpdate, OfferId, Phone, ProviderExt,
    RegisterMember, ReturnRequest, TransactionId,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::{
    CommitRequest, Health, OffersRequest, PrepareRequest, PriceRequest, ResendResult, ReturnRequestBody,
};
use crate::idempotency::{self, Reply};
use crate::objects::Objects;
use crate::payment::Announced;
use crate::problem::Problem;
use crate::responses::{
    BadRequest, BadRequestNoBody, Conflict, NotFound, Refused, TooLarge, Unsupported, Vendor,
};
use crate::AppState;
#[allow(unused_imports)] // named only by the OpenAPI annotations
use loyalty_core::checkout::CheckoutRecord;
#[allow(unused_imports)]
use loyalty_core::form::FormSchema;
#[allow(unused_imports)]
use loyalty_core::returns::ReturnOutcome;
#[allow(unused_imports)]
use loyalty_core::{Capabilities, Member, Offer, PricedBasket, Segment, Transaction};

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

/// A path parameter; one that cannot be read (percent-encoded bytes that are not UTF-8) is a
/// 400 problem naming the path, like every other refusal, not axum's plain-text answer.
pub(crate) struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParam(value)),
            Err(rejection) => {
                Err(Problem::invalid(StatusCode::BAD_REQUEST, "serve.route", "path", rejection.body_text())
                    .into_response())
            }
        }
    }
}

/// Refuses a request body declared as something other than JSON (415), so a form post is told
/// what is wrong instead of failing as bad JSON. A body without a `Content-Type` is read as
/// JSON, as many shop HTTP clients send it.
pub(crate) async fn json_bodies_only(request: Request, next: Next) -> Response {
    use axum::http::{header, Method};
    let headers = request.headers();
    let may_have_body = matches!(*request.method(), Method::POST | Method::PATCH | Method::PUT)
        && headers.get(header::CONTENT_LENGTH).is_none_or(|len| len != "0");
    if let Some(declared) = headers.get(header::CONTENT_TYPE).filter(|_| may_have_body) {
        let declared = String::from_utf8_lossy(declared.as_bytes());
        let essence = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let json = essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json"));
        if !json {
            let shown: String = declared.chars().take(80).collect();
            return Problem::invalid(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "serve.request",
                "Content-Type",
                format!("request bodies are JSON (application/json); this one is declared {shown:?}"),
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// The body as received; one over the limit is `413`, one that could not be received `400`,
/// both naming `body`.
fn received(bytes: Result<Bytes, BytesRejection>, operation: &str) -> Result<Bytes, Response> {
    bytes.map_err(|r| {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::invalid(status, operation, "body", "too large for this service's limit")
        } else {
            Problem::invalid(StatusCode::BAD_REQUEST, operation, "body", "could not be read")
        }
        .into_response()
    })
}

/// Reads a JSON body into `T` in one pass; a body that does not read is `400` naming the path
/// of the bad field (a missing one by its own path, `basket.lines`, not its parent's), an
/// oversized one `413`. A field `T` does not know is refused too, however deep, so a typo
/// (`"emial"`) is never dropped in silence; so is an array in place of an object (serde's
/// positional form of a struct, [`Objects`]). A type serde reads from buffered content (an
/// adjacently tagged value written before its tag) must refuse unknown fields itself, as the
/// phone's object form does: skipped fields there are not reported.
fn body<T: DeserializeOwned>(bytes: Result<Bytes, BytesRejection>, operation: &str) -> Result<T, Response> {
    let bytes = received(bytes, operation)?;
    let text = if bytes.is_empty() { &b"null"[..] } else { &bytes[..] };
    let mut de = serde_json::Deserializer::from_slice(text);
    // The first field the type skipped: serde asks for it as "ignored any", which this sees.
    let mut unknown: Option<String> = None;
    let mut note = |path: serde_ignored::Path<'_>| {
        unknown.get_or_insert_with(|| field_path(&path));
    };
    let value: T =
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(Objects(&mut de), &mut note))
            .map_err(|e| {
                let reason = e.inner().to_string();
                let field = error_field(&e.path().to_string(), &reason);
                Problem::invalid(StatusCode::BAD_REQUEST, operation, &field, reason).into_response()
            })?;
    // Whitespace may follow the document; anything else is not one JSON value.
    de.end().map_err(|e| {
        Problem::invalid(StatusCode::BAD_REQUEST, operation, "body", e.to_string()).into_response()
    })?;
    if let Some(path) = unknown {
        return Err(
            Problem::invalid(StatusCode::BAD_REQUEST, operation, &path, "unknown field").into_response()
        );
    }
    Ok(value)
}

/// The field a read error is about: the path serde reached (`body` for the document itself),
/// and for a missing field that field under it. serde reports a missing field once the object
/// that lacks it has been read, so its path stops at that object (`basket` for a basket
/// without `lines`); the field's name is only in the message: "missing field `lines`". A key
/// that could not be read (the text ends inside an object) is `?` in the path: the object
/// holding it is named instead.
fn error_field(path: &str, reason: &str) -> String {
    let mut path = path;
    while let Some(parent) = path.strip_suffix(".?") {
        path = parent;
    }
    let path = if path == "?" { "." } else { path };
    let missing = reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name)
        .filter(|name| !name.is_empty());
    match (path, missing) {
        (".", None) => "body".to_string(),
        (".", Some(name)) => name.to_string(),
        (at, None) => at.to_string(),
        (at, Some(name)) => format!("{at}.{name}"),
    }
}

/// A skipped field's path as the other field errors name it: `basket.lines[1].discount_code`.
fn field_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => match field_path(parent) {
            at if at.is_empty() => key.clone(),
            at => format!("{at}.{key}"),
        },
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            field_path(parent)
        }
    }
}

/// Refuses a body sent to a write that takes none (an abort, a resend): `400` naming `body`,
/// as an unknown field in any other body is, so options a shop means to pass (an abort's
/// reason, a resend's order) are never dropped in silence. Whitespace alone is no body, and
/// nor is JSON's `null` (what a JSON client sends for "nothing").
fn no_body(bytes: Result<Bytes, BytesRejection>, operation: &str) -> Result<(), Response> {
    let bytes = received(bytes, operation)?;
    let text = bytes.trim_ascii();
    if text.is_empty() || text == b"null" {
        Ok(())
    } else {
        Err(Problem::invalid(StatusCode::BAD_REQUEST, operation, "body", "this endpoint takes no body")
            .into_response())
    }
}

fn reply_of<T: Serialize>(status: StatusCode, result: loyalty_core::Result<T>) -> Reply {
    match result {
        Ok(v) => Reply::json(status, &v),
        Err(e) => Reply::problem(&Problem::from(e)),
    }
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "service",
    summary = "The service answers (the only open endpoint)",
    responses((status = 200, description = "Up", body = Health)),
    security(())
)]
pub(crate) async fn health(State(state): Shared) -> Response {
    ok(&Health { status: "ok".into(), provider: state.opened.provider.name().to_string() })
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "service",
    summary = "This document",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object), Vendor)
)]
pub(crate) async fn openapi() -> Response {
    ok(&crate::openapi_document())
}

#[utoipa::path(
    get,
    path = "/v1/capabilities",
    tag = "service",
    summary = "What the provider can do",
    responses((status = 200, description = "The provider's declared capabilities", body = Capabilities), Vendor)
)]
pub(crate) async fn capabilities(State(state): Shared) -> Response {
    ok(state.opened.provider.capabilities())
}

#[utoipa::path(
    get,
    path = "/v1/members",
    tag = "members",
    summary = "Find a member by exactly one of phone, e-mail or id",
    params(("phone" = Option<String>, Query, description = "International form, +4741234567"), ("email" = Option<String>, Query, description = "E-mail address"), ("id" = Option<String>, Query, description = "Provider id")),
    responses((status = 200, description = "The member", body = Member), Vendor, BadRequest, NotFound, Conflict, Refused, Unsupported)
)]
pub(crate) async fn find_member(State(state): Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    const OP: &str = "members.find";
    let lookup = match (q.get("phone"), q.get("email"), q.get("id")) {
        // A `+` sent unescaped in a query string arrives as a space.
        (Some(p), None, None) => {
            match Phone::parse_e164(&p.strip_prefix(' ').map_or_else(|| p.clone(), |rest| format!("+{rest}")))
            {
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
            }
        }
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

#[utoipa::path(
    get,
    path = "/v1/members/{id}",
    tag = "members",
    summary = "A member by provider id (points, tier, consents)",
    params(("id" = String, Path, description = "The member's provider id")),
    responses((status = 200, description = "The member", body = Member), Vendor, BadRequest, NotFound, Refused, Unsupported)
)]
pub(crate) async fn get_member(State(state): Shared, PathParam(id): PathParam) -> Response {
    let provider = &state.opened.provider;
    let result =
        async { provider.require_members("members.get")?.get(&Context::new(), &MemberId::new(id)).await };
    answer(result.await)
}

#[utoipa::path(
    post,
    path = "/v1/members",
    tag = "members",
    summary = "Register a member with profile and consents",
    params(("Idempotency-Key" = String, Header, description = "Any new key per write; a repeat with the same key and body gets the stored answer")),
    request_body = RegisterMember,
    responses((status = 201, description = "Registered", body = Member), Vendor, BadRequest, Conflict, TooLarge, Refused, Unsupported)
)]
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
    state
        .once(OP, key, fingerprint(&request), move |state, ctx, resumed| async move {
            let provider = &*state.opened.provider;
            let result = async {
                register_once(provider, provider.require_members(OP)?, &ctx, &request, resumed).await
            };
            reply_of(StatusCode::CREATED, result.await)
        })
        .await
}

/// Registers `request`; after an attempt under the same key that ended without an answer (the
/// vendor may have created the member before its reply was lost), the member is first looked
/// up by the phone and e-mail registered ([`RegisterMember::lookups`], as the checkout's
/// sign-up does), so a repeat never creates a second member or answers the first attempt's
/// member with a conflict.
async fn register_once(
    provider: &dyn loyalty_core::Provider,
    members: &dyn loyalty_core::Members,
    ctx: &Context,
    request: &RegisterMember,
    resumed: bool,
) -> loyalty_core::Result<loyalty_core::Member> {
    if resumed {
        for lookup in request.lookups(provider.capabilities()) {
            // Only the member this registration would have made: one found by the phone alone
            // whose e-mail differs is someone else, and answering it would hand a stranger's
            // record to whoever typed their phone (the vendor then refuses the duplicate).
            match members.find(ctx, &lookup).await? {
                Some(member) if registered_as(request, &member) => return Ok(member),
                _ => {}
            }
        }
    }
    members.register(ctx, request).await
}

/// Whether `member` states every contact `request` registers (e-mail without regard to case,
/// phone): what a member made from this registration shows.
fn registered_as(request: &RegisterMember, member: &loyalty_core::Member) -> bool {
    let email = request
        .email
        .as_deref()
        .is_none_or(|e| member.email.as_deref().is_some_and(|m| m.trim().eq_ignore_ascii_case(e.trim())));
    let phone = request.phone.as_ref().is_none_or(|p| member.phone.as_ref() == Some(p));
    email && phone
}

#[utoipa::path(
    post,
    path = "/v1/members/registration",
    tag = "members",
    summary = "Register from the registration form's fields (flat: email, segment.<id>, consent.<name>)",
    params(("Idempotency-Key" = String, Header, description = "Any new key per write; a repeat with the same key and body gets the stored answer")),
    request_body = Object,
    responses((status = 201, description = "Registered", body = Member), Vendor, BadRequest, Conflict, TooLarge, Refused, Unsupported)
)]
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
    state
        .once(OP, key, fingerprint(&values), move |state, ctx, resumed| async move {
            let provider = &state.opened.provider;
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
                Ok(request) => {
                    let registered = register_once(&**provider, members, &ctx, &request, resumed).await;
                    reply_of(StatusCode::CREATED, registered)
                }
                Err(errors) => {
                    let first =
                        errors.first().map(|e| format!("{}: {}", e.field, e.reason)).unwrap_or_default();
                    let p = Problem::invalid(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        OP,
                        errors.first().map_or("form", |e| e.field.as_str()),
                        format!("{} field(s) refused; first: {first}", errors.len()),
                    )
                    .with_errors(errors);
                    Reply::problem(&p)
                }
            }
        })
        .await
}

#[utoipa::path(
    patch,
    path = "/v1/members/{id}",
    tag = "members",
    summary = "Change a member's profile or consents",
    params(("id" = String, Path, description = "The member's provider id"), ("Idempotency-Key" = String, Header, description = "Any new key per write; a repeat with the same key and body gets the stored answer")),
    request_body = MemberUpdate,
    responses((status = 200, description = "The member as changed", body = Member), Vendor, BadRequest, NotFound, Conflict, TooLarge, Refused, Unsupported)
)]
pub(crate) async fn update_member(
    State(state): Shared,
    PathParam(id): PathParam,
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
    state
        .once(OP, key, fingerprint(&(&id, &update)), move |state, ctx, _| async move {
            let provider = &state.opened.provider;
            let result =
                async { provider.require_members(OP)?.update(&ctx, &MemberId::new(id), &update).await }.await;
            reply_of(StatusCode::OK, result)
        })
        .await
}

#[utoipa::path(
    get,
    path = "/v1/segments",
    tag = "members",
    summary = "The store's segments",
    responses((status = 200, description = "Segments", body = [Segment]), Vendor, Unsupported)
)]
pub(crate) async fn segments(State(state): Shared) -> Response {
    let provider = &state.opened.provider;
    answer(async { provider.require_members("members.segments")?.segments(&Context::new()).await }.await)
}

#[utoipa::path(
    get,
    path = "/v1/registration-form",
    tag = "members",
    summary = "The registration form: profile fields, segments, then consents (the two a sign-up needs last)",
    responses((status = 200, description = "The form", body = FormSchema), Vendor)
)]
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

#[utoipa::path(
    post,
    path = "/v1/offers",
    tag = "offers",
    summary = "The offers a member (or a guest) can use, for a basket when given",
    request_body = OffersRequest,
    responses((status = 200, description = "Offers: coupons, stamp cards with progress, rewards", body = [Offer]), Vendor, BadRequest, NotFound, Conflict, TooLarge, Refused, Unsupported)
)]
pub(crate) async fn offers(State(state): Shared, bytes: Result<Bytes, BytesRejection>) -> Response {
    const OP: &str = "offers.list";
    let request: OffersRequest = match body(bytes, OP) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if let Some(Err(r)) = request.basket.as_ref().map(|b| check_basket(b, &[], OP)) {
        return r;
    }
    let provider = &state.opened.provider;
    let result = async {
        provider
            .require_offers(OP)?
            .list(&Context::new(), request.member.as_ref(), request.basket.as_ref())
            .await
    };
    answer(result.await)
}

#[utoipa::path(
    post,
    path = "/v1/price",
    tag = "offers",
    summary = "Price a basket with the provider's offers, holding nothing",
    request_body = PriceRequest,
    responses((status = 200, description = "The priced basket", body = PricedBasket), Vendor, BadRequest, NotFound, Conflict, TooLarge, Refused)
)]
pub(crate) async fn price(State(state): Shared, bytes: Result<Bytes, BytesRejection>) -> Response {
    const OP: &str = "price";
    let request: PriceRequest = match body(bytes, OP) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if let Err(r) = check_basket(&request.basket, &request.confirmed, OP) {
        return r;
    }
    let provider = &state.opened.provider;
    let result = async {
        // The offers the checkout would price with, by its rules: a guest's only where the
        // provider lists offers for guests; one the engine cannot apply (a fixed coupon in
        // another currency) is reported as not applied instead of failing the whole price.
        let caps = provider.capabilities();
        let offers = match provider.offers() {
            Some(o) if caps.lists_offers_for(request.member.is_some()) => {
                let basket = caps.offers_with_basket.then_some(&request.basket);
                o.list(&Context::new(), request.member.as_ref(), basket).await?
            }
            _ => Vec::new(),
        };
        // A confirmed offer the provider does not list now is left out and reported, as the
        // checkout's prepare does, not a refusal of the whole price.
        let unlisted = loyalty_core::pricing::unlisted_confirmations(&offers, &request.confirmed);
        let (offers, set_aside) =
            loyalty_core::pricing::set_aside_unpriceable(offers, request.basket.currency);
        let listed = loyalty_core::pricing::listed_confirmations(&offers, &request.confirmed);
        let mut priced =
            loyalty_core::pricing::price(&request.basket, &offers, &listed, state.opened.clock.now())
                .map_err(|e| e.invalid_in("pricing", OP, &request.basket, &request.confirmed))?;
        priced.not_applied.extend(set_aside);
        priced.not_applied.extend(unlisted);
        Ok(priced)
    };
    answer(result.await)
}

/// Refuses a basket whose lines the engine refuses (an id that is empty, too long or holds a
/// control character, a repeated line id, a price in another currency or negative) before any
/// vendor sees it or anything is recorded: `422` naming the field (`basket.lines[0].product_id`),
/// as the engine's own refusal would later.
fn check_basket(basket: &Basket, confirmed: &[OfferId], operation: &str) -> Result<(), Response> {
    basket
        .check_lines()
        .map_err(|e| Problem::from(e.invalid_in("pricing", operation, basket, confirmed)).into_response())
}

fn order_key(headers: &HeaderMap, operation: &str, order: &str) -> Result<TransactionId, Response> {
    idempotency::key_of(headers, operation, Some(order))?;
    Ok(TransactionId::new(order.to_string()))
}

#[utoipa::path(
    post,
    path = "/v1/checkouts/{order}/prepare",
    tag = "checkout",
    summary = "Price, validate and hold the offers: what the customer confirms before buying",
    params(("order" = String, Path, description = "The shop's order id"), ("Idempotency-Key" = String, Header, description = "The order id (must equal the path's order)")),
    request_body = PrepareRequest,
    responses((status = 200, description = "The prepared checkout (with Idempotent-Replayed: true when it is the same basket again)", body = Prepared), Vendor, BadRequest, NotFound, Conflict, TooLarge, Refused, Unsupported)
)]
pub(crate) async fn prepare(
    State(state): Shared,
    PathParam(order): PathParam,
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
    // Before the checkout signs anyone up or asks the vendor for offers with the basket.
    if let Err(r) = check_basket(&body.basket, &body.confirmed, OP) {
        return r;
    }
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
    // The order id is the key: the same request again gets the prepared checkout as it stands
    // (holds kept) while its holds last; another request (basket, customer, sign-up,
    // department) or a hold about to lapse prepares the order again, so what the shop shows
    // just before "buy" is what the commit will charge.
    match state.checkout.status(&order).await {
        Ok(Some(rec))
            if rec.state == CheckoutState::Prepared
                && rec.request == request
                && state.checkout.owns(&rec)
                && state.checkout.holds_outlast_margin(&rec.holds) =>
        {
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
    // Decided again under the order's lock: a prepare of the same request that arrived while
    // another was under way (a double click) answers the first one's revision as it stands.
    let ctx = Context::new().with_idempotency_key(order.as_str());
    replayed_if(state.checkout.prepare_reporting_replay(&ctx, &request).await)
}

/// The answer of a core call that says whether it was already there: a replay carries
/// `Idempotent-Replayed: true`.
fn replayed_if<T: Serialize>(result: loyalty_core::Result<(T, bool)>) -> Response {
    match result {
        Ok((value, replayed)) => {
            let mut response = ok(&value);
            if replayed {
                response
                    .headers_mut()
                    .insert(idempotency::REPLAYED, axum::http::HeaderValue::from_static("true"));
            }
            response
        }
        Err(e) => Problem::from(e).into_response(),
    }
}

/// Longest payment reference a commit takes, in characters.
const MAX_REFERENCE_CHARS: usize = 255;

/// Why a payment reference cannot be recorded: the sale is recorded as paid by it, the order is
/// then tied to it (a repeat naming another payment is refused), and it goes to the vendor and
/// the logs. A blank one names no payment, so the shop's real reference could never commit the
/// order afterwards; a control character is no PSP's and breaks logs.
fn reference_fault(reference: &str) -> Option<String> {
    if reference.trim().is_empty() {
        Some("must name the payment (the PSP's or till's reference), not be blank".to_string())
    } else if reference.chars().count() > MAX_REFERENCE_CHARS {
        Some(format!("longer than {MAX_REFERENCE_CHARS} characters"))
    } else if reference.chars().any(char::is_control) {
        Some("contains a control character".to_string())
    } else {
        None
    }
}

#[utoipa::path(
    post,
    path = "/v1/checkouts/{order}/commit",
    tag = "checkout",
    summary = "Record the sale the shop was paid for; a repeat gets the first result",
    params(("order" = String, Path, description = "The shop's order id"), ("Idempotency-Key" = String, Header, description = "The order id (must equal the path's order)")),
    request_body = CommitRequest,
    responses((status = 200, description = "completed, price_changed (nothing recorded) or action_required", body = Completion), Vendor, BadRequest, NotFound, Conflict, TooLarge, Refused, Unsupported)
)]
pub(crate) async fn commit(
    State(state): Shared,
    PathParam(order): PathParam,
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
    if let Some(reason) = reference_fault(&body.payment.reference) {
        return Problem::invalid(StatusCode::BAD_REQUEST, OP, "payment.reference", reason).into_response();
    }
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
    // A committed order answers its first result, whatever this repeat says it paid; an order
    // left charging before its payment was taken (an instance stopped, a store write failed)
    // takes the payment this repeat names, or it could never finish.
    let awaits_payment = !record.state.is_committed()
        || (record.state == CheckoutState::Charging && record.authorization.is_none());
    if awaits_payment {
        if let Some(r) = body.revision.filter(|r| *r != record.revision) {
            return Problem::from(Error::new(ErrorKind::Conflict, "checkout", OP).with_message(format!(
                "order {order} was priced again (revision {} is not {r}): show the new price; nothing was recorded",
                record.revision
            )))
            .into_response();
        }
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
        if let Err(e) =
            state.payments.announce(&order, body.payment.reference.clone(), body.payment.amount).await
        {
            return Problem::from(e).into_response();
        }
    } else {
        // A repeat of a commit already made must be the same request: another payment under
        // the order's key is refused, as any write's key used for a different request is. The
        // payment the sale recorded decides (an announcement may have been replaced since by a
        // commit that lost the race for the order).
        let recorded =
            record.authorization.as_ref().map(|a| Announced { reference: a.id.clone(), amount: a.amount });
        let first = match recorded {
            Some(a) => Ok(Some(a)),
            None => state.payments.announced(&order).await,
        };
        match first {
            Ok(Some(first))
                if first.reference != body.payment.reference || first.amount != body.payment.amount =>
            {
                return Problem::invalid(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    OP,
                    "Idempotency-Key",
                    format!(
                        "order {order} was committed with another payment ({}, {}); use a new order for a new payment",
                        first.reference, first.amount
                    ),
                )
                .into_response();
            }
            Ok(_) => {}
            Err(e) => return Problem::from(e).into_response(),
        }
    }
    let ctx = Context::new().with_idempotency_key(order.as_str());
    // A payment of exactly the prepared total confirms that revision's price (after a price
    // change too: the shop shows the new total and pays it).
    let revision = body.revision.or(awaits_payment.then_some(record.revision));
    // An order that was already finished gets its first result again: a replay, as the core
    // tells it when it answers (a repeat that waited for the first commit to finish is one).
    let result = state.checkout.commit_order_reporting_replay(&ctx, &order, revision).await;
    // Two commits naming different payments at once (two tabs, a double submit that made two
    // authorizations) both reach the order; it records one. The other is told so, never
    // "completed", or the shop would capture both payments.
    if matches!(result, Ok((Completion::Completed(_), _))) {
        if let Ok(Some(done)) = state.checkout.status(&order).await {
            if let Some(used) = done.authorization.filter(|a| a.id != body.payment.reference) {
                return Problem::invalid(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    OP,
                    "Idempotency-Key",
                    format!(
                        "order {order} was committed with another payment ({}, {}); this payment ({}) was not used: do not capture it",
                        used.id, used.amount, body.payment.reference
                    ),
                )
                .into_response();
            }
        }
    }
    replayed_if(result)
}

#[utoipa::path(
    post,
    path = "/v1/checkouts/{order}/abort",
    tag = "checkout",
    summary = "Release the holds of a prepared checkout",
    params(("order" = String, Path, description = "The shop's order id"), ("Idempotency-Key" = String, Header, description = "The order id (must equal the path's order)")),
    responses((status = 204, description = "Aborted"), Vendor, BadRequestNoBody, NotFound, Conflict, TooLarge, Refused)
)]
pub(crate) async fn abort(
    State(state): Shared,
    PathParam(order): PathParam,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    const OP: &str = "checkout.abort";
    let order = match order_key(&headers, OP, &order) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if let Err(r) = no_body(bytes, OP) {
        return r;
    }
    match state.checkout.abort_order(&Context::new().with_idempotency_key(order.as_str()), &order).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

#[utoipa::path(
    get,
    path = "/v1/checkouts/{order}",
    tag = "checkout",
    summary = "The stored checkout record of an order",
    params(("order" = String, Path, description = "The shop's order id")),
    responses((status = 200, description = "The record", body = CheckoutRecord), Vendor, BadRequest, NotFound)
)]
pub(crate) async fn checkout_status(State(state): Shared, PathParam(order): PathParam) -> Response {
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

#[utoipa::path(
    post,
    path = "/v1/returns",
    tag = "checkout",
    summary = "Return lines of a committed order in the provider's return style",
    params(("Idempotency-Key" = String, Header, description = "The return id (must equal the body's return_id)")),
    request_body = ReturnRequestBody,
    responses((status = 200, description = "What was returned and refunded, and the offers given back (a repeat of a finished return gets its outcome again, with Idempotent-Replayed: true)", body = ReturnOutcome), Vendor, BadRequest, NotFound, Conflict, TooLarge, Refused, Unsupported)
)]
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
    if let Err(r) = idempotency::key_of(&headers, OP, Some(&body.return_id)) {
        return r;
    }
    let original = TransactionId::new(body.order.clone());
    if let Err(e) = loyalty_core::checkout::check_id(&original, OP, "order") {
        return Problem::from(e).into_response();
    }
    let id = TransactionId::new(body.return_id.clone());
    let mut request = ReturnRequest::new(Some(original.clone()), id.clone(), state.opened.clock.now());
    for line in &body.lines {
        request = request.with_line(line.line_id.as_str(), line.quantity);
    }
    if let Some(r) = &body.reason {
        request = request.with_reason(r.clone());
    }
    // No stored answer in front of the checkout: its return ledger is durable and answers a
    // repeat itself (the same outcome, acted once; other goods under the id are a conflict
    // naming the order; a return under way elsewhere is temporary). A stored refusal would
    // outlive what caused it: a sale still in the outbox is resent, a mistyped line put right,
    // and neither reserved the id. Whether the outcome was already there (a replay) is told by
    // the checkout as it answers, under the order's lock: a repeat that waited for the first
    // attempt gets its outcome marked as a replay, so the shop pays it back once.
    let ctx = Context::new().with_idempotency_key(id.as_str());
    replayed_if(state.checkout.process_return_reporting_replay(&ctx, &request, None).await)
}

#[utoipa::path(
    get,
    path = "/v1/pending",
    tag = "checkout",
    summary = "Sales charged but not yet accepted by the provider (the outbox)",
    responses((status = 200, description = "Pending transactions", body = [Transaction]), Vendor)
)]
pub(crate) async fn pending(State(state): Shared) -> Response {
    answer(state.checkout.pending_transactions().await)
}

#[utoipa::path(
    post,
    path = "/v1/pending/resend",
    tag = "checkout",
    summary = "Resend the pending sales now",
    params(("Idempotency-Key" = String, Header, description = "Any new key per write; a repeat with the same key and body gets the stored answer")),
    responses((status = 200, description = "What each resend did", body = [ResendResult]), Vendor, BadRequestNoBody, Conflict, Refused, TooLarge)
)]
pub(crate) async fn resend(
    State(state): Shared,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Response {
    const OP: &str = "checkout.resend";
    let key = match idempotency::key_of(&headers, OP, None) {
        Ok(k) => k,
        Err(r) => return r,
    };
    // Refused before the key stores anything: the same key with no body still resends.
    if let Err(r) = no_body(bytes, OP) {
        return r;
    }
    state
        // Each resend carries its own order id as the key, as the checkout sets it.
        .once(OP, key, String::new(), move |state, _, _| async move {
            let results = state.checkout.resend_pending(&Context::new()).await;
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

pub(crate) async fn method_not_allowed() -> Response {
    Problem::service(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid",
        "serve.route",
        "this endpoint does not take that method; see /openapi.json",
    )
    .into_response()
}

pub(crate) async fn not_found() -> Response {
    Problem::service(StatusCode::NOT_FOUND, "not_found", "serve.route", "no such endpoint; see /openapi.json")
        .into_response()
}
