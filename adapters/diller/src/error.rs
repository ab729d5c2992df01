//! Turns a Diller reply into success or an [`Error`]: the one place that reads status codes and
//! vendor texts.
//!
//! Diller answers errors in three shapes (`docs/vendors/diller.md`, "Reading replies"): ASP.NET
//! problem details (`{type, title, status, detail, instance, errors, traceId}`), an `ActionResponse`
//! (`{is_ok: false, details}`, also inside a 200 for command refusals, §6.5 \[I\]), and
//! IdentityServer's `{"error": "invalid_client"}` on the token endpoint (§2 \[I\]). Unknown ids
//! come as 400 or 404 (§6.5 \[I\]).
//!
//! | Reply | Kind | Temporary | Effect |
//! | --- | --- | --- | --- |
//! | 2xx, no `is_ok: false` | success | | |
//! | 200 `is_ok: false` (commands; not `offers.validate`) | as a 400 with that text | no | rejected before acting |
//! | 400/404 "not found"-ish, 404, 410 | `NotFound` | no | rejected before acting |
//! | 400 "duplicate" (T1/T3: only about `external_id`) | `Conflict` (`duplicate`) | no | rejected before acting |
//! | 400 "reserved by another" / "already cancelled" | `Conflict` | no | rejected before acting |
//! | 400 with `errors` all keyed by claim fields (`coupon_codes`, `stamp_cards`, on a line too) | as a refused claim below | no | rejected before acting |
//! | 400 "expired" | `Expired` (`expired`) | no | rejected before acting |
//! | 400 "used up" / "not enough stamps" / "not available to this member" / "not valid yet" | `Rejected` (`used_up` / `not_eligible` / `not_yet_valid`) | no | rejected before acting |
//! | 400 with `errors` | `Invalid { field: first key }` | no | rejected before acting |
//! | 400 other text | `Rejected` | no | rejected before acting |
//! | 400 `{"error": …}` | `Unauthorized` / `Forbidden` | no | rejected before acting |
//! | 401 | `Unauthorized` | no | rejected before acting |
//! | 403 | `Forbidden` | no | rejected before acting |
//! | 409 | `Conflict` | no | rejected before acting |
//! | 429 | `RateLimited { retry_after }` | yes | rejected before acting |
//! | 5xx, 408 | `Unavailable` | yes | unknown |
//! | 413, 414, 415 (not read: too large, URI too long, media type) | `Invalid { field: "body" }` | no | rejected before acting |
//! | 405 | `Protocol` (`method_not_allowed`) | no | unknown |
//! | unreadable error body, other statuses | `Protocol` | no | unknown |

use std::sync::LazyLock;

use loyalty_core::{Error, ErrorKind, WriteEffect};
use loyalty_http::{body_excerpt, excerpt, parse_retry_after, ClassifyInput};

use crate::wire::{self, names};

/// The operation whose `is_ok: false` is an answer, not an error (C3, §4.3).
pub const VALIDATE_OPERATION: &str = "offers.validate";

/// T1's operation label: a duplicate there means "already recorded", so only a duplicate of
/// its `external_id` counts as one.
pub const SEND_OPERATION: &str = "transactions.send";

/// T3's operation label; a duplicate refund `external_id` is read as for [`SEND_OPERATION`].
pub const REFUND_OPERATION: &str = "transactions.refund";

/// Classifies a Diller reply: `None` for a success, the error otherwise. Pure: no I/O, no
/// clock (`now` comes in the input, for `Retry-After` dates).
pub fn classify(input: &ClassifyInput<'_>) -> Option<Error> {
    let status = input.status;
    let new = |kind: ErrorKind| Error::new(kind, input.provider, input.operation);
    match status {
        200..=299 => return refusal_in_success(input),
        401 => {
            return Some(
                new(ErrorKind::Unauthorized).with_message("HTTP 401: bearer token missing or refused"),
            )
        }
        403 => return Some(with_text(new(ErrorKind::Forbidden), input.body).with_message_prefix("HTTP 403")),
        429 => {
            let retry_after = parse_retry_after(input.headers, input.now);
            return Some(new(ErrorKind::RateLimited { retry_after }).with_message("HTTP 429"));
        }
        408 | 500..=599 => {
            // A 5xx on a write may have been applied: the caller reconciles.
            return Some(
                new(ErrorKind::Unavailable)
                    .with_temporary(status != 501)
                    .with_effect(WriteEffect::Unknown)
                    .with_message(format!("HTTP {status}")),
            );
        }
        413..=415 => {
            // The server (or a proxy before it) would not read the request at all: too large,
            // a path or query too long, a content type it does not take. Nothing was acted on
            // and the same request will never be taken, so it is refused for good, whatever the
            // body (a proxy's HTML page included).
            let what = match status {
                413 => "request body too large",
                414 => "request URI too long",
                _ => "unsupported media type",
            };
            let reason = match Body::read(input.body).text() {
                Some(t) => format!("{what}: {t}"),
                None => what.to_string(),
            };
            return Some(
                new(ErrorKind::Invalid { field: "body".into(), reason: reason.clone() })
                    .with_effect(WriteEffect::RejectedBeforeActing)
                    .with_message(format!("HTTP {status}: {reason}")),
            );
        }
        _ => {}
    }
    let body = Body::read(input.body);
    let err = match (status, &body) {
        (_, Body::Garbage) => new(ErrorKind::Protocol)
            .with_effect(WriteEffect::Unknown)
            .with_message(format!("HTTP {status} with an unreadable body: {}", body_excerpt(input.body))),
        (_, Body::OAuth(e)) => {
            let kind = if e.error == names::OAUTH_INVALID_SCOPE {
                ErrorKind::Forbidden
            } else {
                ErrorKind::Unauthorized
            };
            new(kind)
                .with_vendor_code(e.error.clone())
                .with_message(format!("HTTP {status}: token request refused"))
        }
        (404 | 410, _) => new(ErrorKind::NotFound)
            .with_vendor_code(names::CODE_NOT_FOUND)
            .with_message(body.text().unwrap_or_else(|| format!("HTTP {status}"))),
        (400 | 409 | 422, _) => refusal(input, status, &body),
        // Still a protocol surprise, but named: a release may read it as "endpoint gone".
        (405, _) => new(ErrorKind::Protocol)
            .with_effect(WriteEffect::Unknown)
            .with_vendor_code(names::CODE_METHOD_NOT_ALLOWED)
            .with_message(format!("unexpected HTTP {status}")),
        _ => new(ErrorKind::Protocol)
            .with_effect(WriteEffect::Unknown)
            .with_message(format!("unexpected HTTP {status}")),
    };
    Some(err)
}

/// Whether a 2xx body can hold `"is_ok": false`: some `is_ok` key is followed by anything but
/// `true`, or a `\u` escape could spell the key. Only then is the body parsed here; a command's
/// usual `{"is_ok": true, …}` is left to the adapter's one decode.
fn may_refuse(body: &[u8]) -> bool {
    // The searchers are built once, not per reply.
    static ESCAPE: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"\\u"));
    static KEY: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(IS_OK_KEY));
    if ESCAPE.find(body).is_some() {
        return true;
    }
    KEY.find_iter(body).any(|at| {
        let rest = &body[at + IS_OK_KEY.len()..];
        let rest = rest.trim_ascii_start();
        match rest.strip_prefix(b":") {
            Some(value) => !value.trim_ascii_start().starts_with(b"true"),
            // `"is_ok"` as a value, not a key: nothing to refuse, but parse to be sure.
            None => true,
        }
    })
}

/// A command answered 200 with `is_ok: false` (§6.5 \[I\]); validate's answer is not an error.
/// The key a refusal inside a 2xx reply needs (`{"is_ok": false, ...}`).
const IS_OK_KEY: &[u8] = b"\"is_ok\"";

fn refusal_in_success(input: &ClassifyInput<'_>) -> Option<Error> {
    if input.operation == VALIDATE_OPERATION {
        return None;
    }
    // Only command replies carry `is_ok`; a read's body (members, coupon lists) is not parsed a
    // second time here, the adapter decodes it once.
    // A key spelled with escapes (`"is\u005fok"`) is still read: bodies with `\u` are parsed.
    if !may_refuse(input.body) {
        return None;
    }
    let reply: wire::ActionResponse = serde_json::from_slice(input.body).ok()?;
    if reply.is_ok != Some(false) {
        return None;
    }
    Some(refusal(input, input.status, &Body::Action(reply)))
}

/// A 400-style refusal: sorted by what the vendor's text says (§7.4 phrases).
fn refusal(input: &ClassifyInput<'_>, status: u16, body: &Body) -> Error {
    let new = |kind: ErrorKind| Error::new(kind, input.provider, input.operation);
    let text = body.text().unwrap_or_else(|| format!("HTTP {status}"));
    // A problem's field errors say what was refused even when its detail is generic.
    let field_reason = match body {
        Body::Problem(p) => first_field_error(p).map(|(_, r)| r).unwrap_or_default(),
        _ => String::new(),
    };
    let lower = format!("{text} {field_reason}").to_lowercase();
    let has = |phrases: &[&str]| phrases.iter().any(|p| lower.contains(p));
    // Duplicates come as a field error on `external_id` (§7.3 [S]), so they are checked first.
    // For T1/T3 a duplicate means "already recorded", so a loose match ("duplicate coupon
    // code") would turn a refused sale into a recorded one: there it must be about the
    // external id (open question 5).
    let about_external_id = || duplicate_of_external_id(body);
    let strict = input.operation == SEND_OPERATION || input.operation == REFUND_OPERATION;
    if has(names::DUPLICATE_PHRASES) && (!strict || about_external_id()) {
        return new(ErrorKind::Conflict).with_vendor_code(names::CODE_DUPLICATE).with_message(text);
    }
    if has(names::NOT_FOUND_PHRASES) {
        return new(ErrorKind::NotFound).with_vendor_code(names::CODE_NOT_FOUND).with_message(text);
    }
    if has(names::RESERVED_PHRASES) {
        return new(ErrorKind::Conflict).with_vendor_code(names::CODE_RESERVED).with_message(text);
    }
    if has(names::CANCELLED_PHRASES) {
        return new(ErrorKind::Conflict).with_vendor_code(names::CODE_ALREADY_CANCELLED).with_message(text);
    }
    // A coupon or a stamp reward the vendor will not grant is a business refusal of the claim,
    // even when it comes as a field error on `coupon_codes` / `stamp_cards` (§7.3 [S]): by the
    // field the refusal is keyed on (every `errors` key a claim field, top level or on a line),
    // or by a phrase the contract uses for a claim refused. The checkout drops such a claim and
    // sends the paid sale without it; `Invalid` would refuse the whole sale for good.
    let claim_fields = match body {
        Body::Problem(p) => claim_field_errors(p),
        _ => None,
    };
    let claim_refused = claim_fields.is_some()
        || has(names::EXPIRED_PHRASES)
        || has(names::USED_UP_PHRASES)
        || has(names::STAMPS_PHRASES)
        || has(names::NOT_ELIGIBLE_PHRASES)
        || has(names::NOT_YET_VALID_PHRASES);
    if let Body::Problem(p) = body {
        if let Some((field, reason)) = first_field_error(p).filter(|_| !claim_refused) {
            return new(ErrorKind::Invalid { field, reason: reason.clone() }).with_message(reason);
        }
    }
    // The claim fields' messages name the coupon or card (`Coupon 'GOLD100': …`), which is how
    // the checkout finds the claim to drop: they are kept in the message whatever the detail.
    let text = match claim_fields {
        Some(fields) if !text.contains(&fields) => excerpt(&format!("{text}: {fields}")),
        _ => text,
    };
    if status == 409 {
        return new(ErrorKind::Conflict).with_message(text);
    }
    if status == 422 {
        return new(ErrorKind::Invalid { field: "body".into(), reason: text.clone() }).with_message(text);
    }
    // An expired offer is the core's `Expired` (as SessionM's `offer_expired`); used up or
    // short of stamps stays `Rejected`.
    if has(names::EXPIRED_PHRASES) {
        return new(ErrorKind::Expired).with_message(text).with_vendor_code(names::CODE_EXPIRED);
    }
    let code = if has(names::USED_UP_PHRASES) || has(names::STAMPS_PHRASES) {
        Some(names::CODE_USED_UP)
    } else if has(names::NOT_ELIGIBLE_PHRASES) {
        Some(names::CODE_NOT_ELIGIBLE)
    } else if has(names::NOT_YET_VALID_PHRASES) {
        Some(names::CODE_NOT_YET_VALID)
    } else {
        None
    };
    let err = new(ErrorKind::Rejected).with_message(text);
    match code {
        Some(c) => err.with_vendor_code(c),
        None => err,
    }
}

/// Whether a refusal says the `external_id` is a duplicate: an `errors` entry keyed by that
/// field with a duplicate message, or a text naming the field next to a duplicate phrase.
fn duplicate_of_external_id(body: &Body) -> bool {
    let has = |text: &str, phrases: &[&str]| {
        let lower = text.to_lowercase();
        phrases.iter().any(|p| lower.contains(p))
    };
    let names_it = |text: &str| has(text, names::DUPLICATE_PHRASES) && has(text, names::EXTERNAL_ID_PHRASES);
    match body {
        Body::Problem(p) => {
            let keyed = p.errors.iter().flatten().any(|(key, messages)| {
                field_key(key).eq_ignore_ascii_case(names::EXTERNAL_ID_FIELD)
                    && messages_of(messages)
                        .is_some_and(|m| m.iter().any(|m| has(m, names::DUPLICATE_PHRASES)))
            });
            keyed || p.detail.as_deref().is_some_and(names_it)
        }
        Body::Action(a) => a.details.as_deref().is_some_and(names_it),
        Body::Empty | Body::OAuth(_) | Body::Garbage => false,
    }
}

/// The `errors` of a problem whose every key is a claim field (`coupon_codes`,
/// `details[0].coupon_codes`, `stamp_cards[1]`, `stamp_cards[0].stamp_card_id`, …;
/// [`names::CLAIM_FIELDS`]), as `key: message` texts joined; `None` when there are none or
/// one key is any other field. A shape error inside a stamp movement (`stamp_cards[0].count`)
/// is not a claim field: that request is malformed, and stays `Invalid`.
fn claim_field_errors(p: &wire::ApiError) -> Option<String> {
    let errors = p.errors.as_ref().filter(|e| !e.is_empty())?;
    let is_claim = |key: &str| {
        let last = key.rsplit('.').next().unwrap_or(key);
        let name = last.split('[').next().unwrap_or(last);
        let name: String = name.chars().filter(|c| *c != '_').collect::<String>().to_ascii_lowercase();
        names::CLAIM_FIELDS.contains(&name.as_str())
    };
    let mut texts = Vec::new();
    for (key, messages) in errors.iter() {
        if !is_claim(key) {
            return None;
        }
        let key = field_key(key);
        match messages_of(messages) {
            Some(m) => texts.extend(m.iter().map(|m| format!("{key}: {m}"))),
            None => texts.push(key.to_string()),
        }
    }
    Some(texts.join("; "))
}

/// The first `errors` entry: keys are JSON field paths (`phone.number`, §5.8 \[I\]).
fn first_field_error(p: &wire::ApiError) -> Option<(String, String)> {
    let (key, messages) = p.errors.as_ref()?.first()?;
    let reason = messages_of(messages).and_then(|m| m.first().copied()).unwrap_or("invalid");
    let field = if key.is_empty() || key == "$" { "body" } else { field_key(key) };
    Some((field.to_string(), excerpt(reason)))
}

/// An `errors` key as a field path: without the `$.` a JSON-path spelling puts before it.
fn field_key(key: &str) -> &str {
    key.trim_start_matches("$.")
}

/// The texts of one `errors` entry: a list of messages (its text items) or a single message;
/// `None` for any other shape.
fn messages_of(messages: &serde_json::Value) -> Option<Vec<&str>> {
    match messages {
        serde_json::Value::Array(a) => Some(a.iter().filter_map(|m| m.as_str()).collect()),
        serde_json::Value::String(m) => Some(vec![m.as_str()]),
        _ => None,
    }
}

/// The error body, read in the shapes Diller uses.
enum Body {
    Empty,
    Problem(wire::ApiError),
    Action(wire::ActionResponse),
    OAuth(wire::OAuthError),
    Garbage,
}

impl Body {
    fn read(bytes: &[u8]) -> Body {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Body::Empty;
        }
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            return Body::Garbage;
        };
        let Some(obj) = value.as_object() else {
            return Body::Garbage;
        };
        if obj.contains_key("error") && obj.get("error").is_some_and(|e| e.is_string()) {
            if let Ok(e) = serde_json::from_value(value.clone()) {
                return Body::OAuth(e);
            }
        }
        if obj.contains_key("is_ok") {
            if let Ok(a) = serde_json::from_value(value.clone()) {
                return Body::Action(a);
            }
        }
        // From the bytes, not the Value: `errors` keeps its member order only this way.
        match serde_json::from_slice::<wire::ApiError>(bytes) {
            Ok(p) if p.title.is_some() || p.detail.is_some() || p.errors.is_some() || p.status.is_some() => {
                Body::Problem(p)
            }
            _ => Body::Garbage,
        }
    }

    /// The most specific human text: `detail`, else the first field message, else `title`.
    fn text(&self) -> Option<String> {
        let t = match self {
            Body::Problem(p) => p
                .detail
                .clone()
                .filter(|d| !d.trim().is_empty())
                .or_else(|| first_field_error(p).map(|(f, r)| format!("{f}: {r}")))
                .or_else(|| p.title.clone()),
            Body::Action(a) => a.details.clone(),
            Body::OAuth(e) => Some(e.error.clone()),
            Body::Empty | Body::Garbage => None,
        }?;
        Some(excerpt(&t))
    }
}

fn with_text(err: Error, body: &[u8]) -> Error {
    match Body::read(body).text() {
        Some(t) => err.with_message(t),
        None => err,
    }
}

trait MessagePrefix {
    fn with_message_prefix(self, prefix: &str) -> Self;
}

impl MessagePrefix for Error {
    fn with_message_prefix(self, prefix: &str) -> Error {
        let msg = if self.message().is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}: {}", self.message())
        };
        self.with_message(msg)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_success_body_is_parsed_only_when_it_can_hold_a_refusal() {
        assert!(!may_refuse(br#"{"id": 1, "name": "x"}"#));
        assert!(!may_refuse(br#"{"is_ok": true, "details": "saved"}"#));
        assert!(!may_refuse(br#"{"is_ok"  :  true}"#));
        assert!(may_refuse(br#"{"is_ok":false}"#));
        assert!(may_refuse(br#"{"is_ok" : false, "details": "no"}"#));
        assert!(may_refuse(br#"{"is_ok": null}"#));
        assert!(may_refuse(br#"{"is_ok": true, "is_ok": false}"#));
        assert!(may_refuse(br#"{"is\u005fok": false}"#));
        assert!(may_refuse(br#"["is_ok"]"#));
    }
    use std::time::Duration;

    use chrono::{TimeZone, Utc};
    use loyalty_http::ClassifyInput;
    use reqwest::header::HeaderMap;
    use reqwest::Method;

    use super::*;

    struct Row {
        why: &'static str,
        status: u16,
        method: &'static str,
        operation: &'static str,
        body: &'static str,
        retry_after: Option<&'static str>,
        kind: Option<&'static str>,
        field: Option<&'static str>,
        code: Option<&'static str>,
        temporary: bool,
        effect: Option<WriteEffect>,
        retry_secs: Option<u64>,
    }

    const fn row(why: &'static str, status: u16, operation: &'static str, body: &'static str) -> Row {
        Row {
            why,
            status,
            method: "POST",
            operation,
            body,
            retry_after: None,
            kind: None,
            field: None,
            code: None,
            temporary: false,
            effect: Some(WriteEffect::RejectedBeforeActing),
            retry_secs: None,
        }
    }

    fn run(r: &Row) -> Option<Error> {
        let mut headers = HeaderMap::new();
        if let Some(v) = r.retry_after {
            headers.insert("retry-after", v.parse().unwrap());
        }
        let method: Method = r.method.parse().unwrap();
        let input = ClassifyInput {
            provider: "diller",
            operation: r.operation,
            method: &method,
            status: r.status,
            headers: &headers,
            body: r.body.as_bytes(),
            now: Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap(),
        };
        classify(&input)
    }

    #[test]
    fn a_refusal_in_a_success_reply_is_found_however_its_key_is_spelled() {
        for body in [
            r#"{"is_ok": false, "message": "Coupon expired"}"#,
            r#"{"is\u005fok": false, "message": "Coupon expired"}"#,
        ] {
            let r = row("refusal", 200, "offers.redeem", body);
            assert!(run(&r).is_some(), "{body}");
        }
        let read = row("member read", 200, "members.get", r#"{"id": "m_1", "first_name": "Kari"}"#);
        assert!(run(&read).is_none());
    }

    #[test]
    fn classification_table() {
        const PROBLEM_NOT_FOUND: &str = r#"{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1","title":"Bad Request","status":400,"detail":"Member not found.","instance":null,"traceId":"00-1-2-00"}"#;
        let rows = [
            Row { kind: None, effect: None, ..row("plain success", 200, "members.get", r#"{"id":"m_1"}"#) },
            Row { kind: None, effect: None, ..row("list success", 200, "members.find", "[]") },
            Row {
                kind: None,
                effect: None,
                // validate's is_ok:false is the answer, turned into Validation::invalid (§4.3).
                ..row(
                    "validate refusal is an answer",
                    200,
                    VALIDATE_OPERATION,
                    r#"{"is_ok":false,"details":"The coupon has expired."}"#,
                )
            },
            Row {
                kind: Some("conflict"),
                code: Some("reserved"),
                // C4 refusal inside a 200 (§7.2 [S] default); another order holds the coupon.
                ..row(
                    "reserve refused, held elsewhere",
                    200,
                    "holds.hold",
                    r#"{"is_ok":false,"details":"The coupon is reserved by another transaction."}"#,
                )
            },
            Row {
                kind: Some("rejected"),
                code: Some("used_up"),
                ..row(
                    "reserve refused, used up",
                    200,
                    "holds.hold",
                    r#"{"is_ok":false,"details":"The coupon has been used the maximum number of times."}"#,
                )
            },
            Row {
                kind: Some("not_found"),
                code: Some("not_found"),
                // Unknown ids are a declared 400, not a 404 (§6.5 [I]).
                ..row("400 problem saying not found", 400, "members.get", PROBLEM_NOT_FOUND)
            },
            Row {
                kind: Some("not_found"),
                code: Some("not_found"),
                ..row(
                    "strict-404 problem",
                    404,
                    "members.get",
                    r#"{"title":"Not Found","status":404,"detail":"Member not found."}"#,
                )
            },
            Row {
                kind: Some("not_found"),
                code: Some("not_found"),
                ..row("404 without body", 404, "members.get", "")
            },
            Row {
                kind: Some("not_found"),
                // The search's "no match" error form (§4.2 M1, [I]).
                ..row(
                    "search without match as 400",
                    400,
                    "members.find",
                    r#"{"title":"Bad Request","status":400,"detail":"No member matches the search."}"#,
                )
            },
            Row {
                kind: Some("conflict"),
                code: Some("duplicate"),
                // The duplicate external_id comes as a field error (§7.3 [S]); it must not become Invalid.
                ..row(
                    "duplicate external_id",
                    400,
                    "transactions.send",
                    r#"{"title":"One or more validation errors occurred.","status":400,"errors":{"external_id":["duplicate: a transaction with this external_id already exists."]}}"#,
                )
            },
            Row {
                kind: Some("conflict"),
                code: Some("duplicate"),
                // The refund's own external_id seen before, as the simulator answers it.
                ..row(
                    "duplicate refund external_id",
                    400,
                    REFUND_OPERATION,
                    r#"{"title":"One or more validation errors occurred.","status":400,"errors":{"external_id":["duplicate: a refund with this external_id already exists."]}}"#,
                )
            },
            Row {
                kind: Some("conflict"),
                code: Some("duplicate"),
                // A text naming the external id is as good as the field key.
                ..row(
                    "duplicate named in the detail",
                    400,
                    SEND_OPERATION,
                    r#"{"title":"Bad Request","status":400,"detail":"A transaction with this external id already exists."}"#,
                )
            },
            Row {
                kind: Some("conflict"),
                code: Some("duplicate"),
                ..row(
                    "duplicate in a refusal inside a 200",
                    200,
                    SEND_OPERATION,
                    r#"{"is_ok":false,"details":"Duplicate external_id Order-1."}"#,
                )
            },
            Row {
                kind: Some("invalid"),
                field: Some("coupon_codes"),
                // Not about the external id: the sale was refused, never "already recorded".
                ..row(
                    "duplicate coupon code as a field error on T1",
                    400,
                    SEND_OPERATION,
                    r#"{"title":"One or more validation errors occurred.","status":400,"errors":{"coupon_codes":["Duplicate coupon code SUMMER10."],"external_id":["The external_id field is too long."]}}"#,
                )
            },
            Row {
                kind: Some("rejected"),
                code: Some("not_eligible"),
                // A coupon the member lost the points for while the sale waited (§7.3 [S]): the
                // claim is refused, so the checkout drops it and sends the paid sale.
                ..row(
                    "coupon not available to this member on T1",
                    400,
                    SEND_OPERATION,
                    r#"{"title":"One or more validation errors occurred.","status":400,"detail":null,"errors":{"coupon_codes":["Coupon 'GOLD100': The coupon is not available to this member."]}}"#,
                )
            },
            Row {
                kind: Some("rejected"),
                code: Some("not_yet_valid"),
                ..row(
                    "coupon not valid yet on a line of T1",
                    400,
                    SEND_OPERATION,
                    r#"{"title":"One or more validation errors occurred.","status":400,"errors":{"details[0].coupon_codes":["Coupon 'SPRING': The coupon is not valid yet."]}}"#,
                )
            },
            Row {
                kind: Some("rejected"),
                code: None,
                // Keyed by the claim field: whatever the text, the claim is what was refused.
                ..row(
                    "unknown coupon on T1",
                    400,
                    SEND_OPERATION,
                    r#"{"title":"One or more validation errors occurred.","status":400,"errors":{"coupon_codes":["Unknown coupon 'NOPE'."]}}"#,
                )
            },
            Row {
                kind: Some("rejected"),
                ..row(
                    "inactive stamp card on T1",
                    400,
                    SEND_OPERATION,
                    r#"{"title":"One or more validation errors occurred.","status":400,"errors":{"stamp_cards[0]":["The stamp card is not active."]}}"#,
                )
            },
            Row {
                kind: Some("invalid"),
                field: Some("stamp_cards[0].count"),
                // A malformed stamp movement is our mistake, not a claim refused.
                ..row(
                    "stamp count not positive on T1",
                    400,
                    SEND_OPERATION,
                    r#"{"title":"One or more validation errors occurred.","status":400,"errors":{"stamp_cards[0].count":["The count must be positive."]}}"#,
                )
            },
            Row {
                kind: Some("rejected"),
                code: None,
                ..row(
                    "duplicate coupon code in the detail of T1",
                    400,
                    SEND_OPERATION,
                    r#"{"title":"Bad Request","status":400,"detail":"Duplicate coupon code SUMMER10 in the basket."}"#,
                )
            },
            Row {
                kind: Some("rejected"),
                ..row(
                    "already registered card on a refund",
                    400,
                    REFUND_OPERATION,
                    r#"{"is_ok":false,"details":"This gift card is already registered."}"#,
                )
            },
            Row {
                kind: Some("conflict"),
                code: Some("duplicate"),
                // Outside T1/T3 the loose reading stays (no "already recorded" hangs on it).
                ..row(
                    "existing phone on register",
                    400,
                    "members.register",
                    r#"{"title":"One or more validation errors occurred.","status":400,"errors":{"phone":["A member with this phone number already exists."]}}"#,
                )
            },
            Row {
                kind: Some("protocol"),
                code: Some("method_not_allowed"),
                effect: Some(WriteEffect::Unknown),
                ..row("405", 405, "holds.release", "")
            },
            Row {
                kind: Some("invalid"),
                field: Some("phone.number"),
                ..row(
                    "field validation names the first key",
                    400,
                    "members.register",
                    r#"{"title":"One or more validation errors occurred.","status":400,"detail":null,"errors":{"phone.number":["The number field is required."],"email":["bad"]}}"#,
                )
            },
            Row {
                kind: Some("conflict"),
                code: Some("already_cancelled"),
                ..row(
                    "second cancel",
                    400,
                    "transactions.cancel",
                    r#"{"title":"Bad Request","status":400,"detail":"Transaction Order-1234 is already cancelled."}"#,
                )
            },
            Row {
                kind: Some("rejected"),
                ..row(
                    "refund over the total",
                    400,
                    "transactions.refund",
                    r#"{"title":"Bad Request","status":400,"detail":"Refunds would exceed the original total of 349.0."}"#,
                )
            },
            Row {
                kind: Some("expired"),
                code: Some("expired"),
                // coupon_refusal_is_error setting: the refusal arrives as a 400 problem (§7.5).
                ..row(
                    "coupon refusal as 400",
                    400,
                    "holds.hold",
                    r#"{"title":"Bad Request","status":400,"detail":"The coupon has expired."}"#,
                )
            },
            Row {
                kind: Some("not_found"),
                // N4's 400 is an ActionResponse (§3), read like a problem.
                ..row(
                    "action response error body",
                    400,
                    "setup.non_eligible",
                    r#"{"is_ok":false,"details":"Non-eligible product not found."}"#,
                )
            },
            Row {
                kind: Some("unauthorized"),
                code: Some("invalid_client"),
                // IdentityServer's token error (§2 [I]).
                ..row("token endpoint bad client", 400, "auth.token", r#"{"error":"invalid_client"}"#)
            },
            Row {
                kind: Some("forbidden"),
                code: Some("invalid_scope"),
                ..row("token endpoint bad scope", 400, "auth.token", r#"{"error":"invalid_scope"}"#)
            },
            Row {
                kind: Some("unauthorized"),
                // JwtBearer answers an empty 401 with WWW-Authenticate (§2 [I]).
                ..row("missing bearer", 401, "members.get", "")
            },
            Row {
                kind: Some("forbidden"),
                ..row("store not accessible", 403, "setup.stores", r#"{"title":"Forbidden","status":403}"#)
            },
            Row {
                kind: Some("rate_limited"),
                temporary: true,
                retry_after: Some("7"),
                retry_secs: Some(7),
                // No documented limits; 429 + Retry-After assumed (§6.2 [I]).
                ..row("rate limited", 429, "members.get", "")
            },
            Row {
                kind: Some("unavailable"),
                temporary: true,
                effect: Some(WriteEffect::Unknown),
                // A 5xx on a write may have been applied.
                ..row("5xx on a write", 503, "transactions.send", r#"{"title":"Service Unavailable"}"#)
            },
            Row {
                kind: Some("unavailable"),
                temporary: true,
                effect: Some(WriteEffect::Unknown),
                method: "GET",
                ..row("5xx on a read", 500, "members.get", "oops")
            },
            Row {
                kind: Some("protocol"),
                effect: Some(WriteEffect::Unknown),
                ..row("garbage error body", 400, "members.get", "<html>proxy error</html>")
            },
            Row {
                kind: Some("protocol"),
                effect: Some(WriteEffect::Unknown),
                // A JSON body that is none of Diller's envelopes.
                ..row("foreign JSON error body", 400, "members.get", r#"{"foo":1}"#)
            },
            Row { kind: Some("rejected"), ..row("400 without body", 400, "holds.release", "") },
            Row {
                kind: Some("invalid"),
                field: Some("body"),
                // The simulator's 413 above 256 KiB: never read, so never booked, and never
                // taken however often it is resent.
                ..row(
                    "413 payload too large",
                    413,
                    SEND_OPERATION,
                    r#"{"title":"Payload Too Large","status":413,"detail":"The request body is larger than the 262144 bytes this server accepts."}"#,
                )
            },
            Row {
                kind: Some("invalid"),
                field: Some("body"),
                // A proxy's page is as good: the status alone says the request was not read.
                ..row("414 from a proxy", 414, SEND_OPERATION, "<html>URI too long</html>")
            },
            Row {
                kind: Some("invalid"),
                field: Some("body"),
                ..row(
                    "415 unsupported media type",
                    415,
                    REFUND_OPERATION,
                    r#"{"title":"Unsupported Media Type","status":415,"detail":null,"instance":null}"#,
                )
            },
            Row {
                kind: Some("conflict"),
                ..row("409", 409, "transactions.send", r#"{"title":"Conflict","status":409}"#)
            },
        ];
        for r in &rows {
            let got = run(r);
            match (&got, r.kind) {
                (None, None) => continue,
                (Some(e), Some(kind)) => {
                    assert_eq!(e.kind().label(), kind, "{}: {e}", r.why);
                    assert_eq!(e.is_temporary(), r.temporary, "{}: temporary", r.why);
                    if let Some(effect) = r.effect {
                        assert_eq!(e.effect(), effect, "{}: effect", r.why);
                    }
                    assert_eq!(
                        e.retry_after(),
                        r.retry_secs.map(Duration::from_secs),
                        "{}: retry_after",
                        r.why
                    );
                    if let Some(code) = r.code {
                        assert_eq!(e.vendor_code(), Some(code), "{}: vendor code", r.why);
                    }
                    if let Some(field) = r.field {
                        assert!(
                            matches!(e.kind(), ErrorKind::Invalid { field: f, .. } if f == field),
                            "{}: {e}",
                            r.why
                        );
                    }
                    assert_eq!(e.operation(), r.operation, "{}", r.why);
                }
                (got, want) => panic!("{}: got {got:?}, want {want:?}", r.why),
            }
        }
    }

    #[test]
    fn long_vendor_text_is_truncated() {
        let body = format!(r#"{{"title":"Bad Request","status":400,"detail":"{}"}}"#, "x".repeat(5000));
        let leaked: &'static str = Box::leak(body.into_boxed_str());
        let e = run(&row("long", 400, "members.get", leaked)).unwrap();
        assert!(e.message().chars().count() <= loyalty_http::EXCERPT_CHARS + 1);
    }
}
