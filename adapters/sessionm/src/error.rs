//! Turns a SessionM reply into success or an [`Error`]: the one place that reads status codes
//! and vendor error bodies, for all three families.
//!
//! SessionM reports business errors inside HTTP 200 bodies whose `status` is not OK (§3.2,
//! §6: "an error can come back with 200"; the HTTP code of POS business errors is undocumented,
//! §8.2 \[I\]), so 2xx replies are read too. Error codes are compared without regard to case
//! (`user_not_found` = `USER_NOT_FOUND`, §5.8, checklist 23); their names live in
//! the crate's `names::code` module.
//!
//! | Reply | Kind | Temporary | Effect |
//! | --- | --- | --- | --- |
//! | 2xx with `status` OK (any case), or no readable `status` | success (the decoder judges the body) | | |
//! | 2xx or 4xx with an error code | by code, below | | |
//! | `user_not_found`, `offer_not_found`, `point_account_not_found`, `not_found` | `NotFound` | no | rejected before acting |
//! | `ambiguous_user` | `Ambiguous` (try another identifier, §3.3) | no | rejected before acting |
//! | `offer_locked`, `offer_not_available`, `offer_not_locked`, `offer_not_redeemed`, `request_id_reused`, `email_taken`, `phone_taken` | `Conflict` | no | rejected before acting |
//! | `offer_expired`, `ttl_code_expired`, `lock_expired` | `Expired` | no | rejected before acting |
//! | `offer_not_applicable`, `not_available` | `Rejected` | no | rejected before acting |
//! | `validation`, `missing_data`, `argument_error`, `totals_mismatch`, `invalid_json`, `unsupported_content_type`, `invalid_client_id`, `store_not_found`, `invalid_retailer_id`, `https_only` | `Invalid { field }` (the first field the vendor names, else the setting) | no | rejected before acting |
//! | `unauthorized`, `access_denied`, `invalid_api_key`, `invalid_auth_token` | `Unauthorized` | no | rejected before acting |
//! | `requires_registered_user` | `Forbidden` | no | rejected before acting |
//! | `pending_processing` (same `request_id` in flight, §7.5) | `Unavailable` | yes | unknown |
//! | `internal_server_error` | `Unavailable` | yes | unknown |
//! | another code, or none, in a 400/404/409/422 | by HTTP status: 404 `NotFound`, 409 `Conflict`, 400/422 `Invalid { field: "body" }` | no | rejected before acting |
//! | another code, or none, in a 2xx (POS codes are not public, §5.8, §9 q. 4) | `Protocol` (never a refused claim: the checkout keeps the sale and its locks and resends it) | no | unknown |
//! | 401 | `Unauthorized` (never retried: Basic credentials do not change) | no | rejected before acting |
//! | 403 | `Forbidden` | no | rejected before acting |
//! | 429 | `RateLimited { retry_after }` (§2: treat as possible \[I\]) | yes | rejected before acting |
//! | 408, 5xx | `Unavailable` (501: not temporary) | yes | unknown |
//! | 4xx without a code | 404 `NotFound`, 409 `Conflict`, 400/422 `Invalid { field: "body" }` | no | rejected before acting |
//! | an unreadable error body, other statuses | `Protocol` | no | unknown |

use loyalty_core::{Error, ErrorKind, WriteEffect};
use loyalty_http::{body_excerpt, excerpt, parse_retry_after, ClassifyInput};

use crate::names::code;
use crate::wire::envelope::ErrorDetails;
use crate::wire::lenient::is_ok;

/// Classifies a SessionM reply: `None` for a success, the error otherwise. Pure: no I/O, no
/// clock (`now` comes in the input, for `Retry-After` dates).
pub fn classify(input: &ClassifyInput<'_>) -> Option<Error> {
    let status = input.status;
    let new = |kind: ErrorKind| Error::new(kind, input.provider, input.operation);
    let details = ErrorDetails::read(input.body);
    match status {
        200..=299 => {
            // A body without a readable status is left to the decoder, which says Protocol.
            let d = details?;
            if is_ok(d.status.as_deref()?) {
                return None;
            }
            return Some(by_code(input, &d));
        }
        401 => {
            let e = new(ErrorKind::Unauthorized).with_message("HTTP 401: credentials missing or refused");
            return Some(with_code(e, details.as_ref()));
        }
        403 => {
            let e = new(ErrorKind::Forbidden).with_message(text(details.as_ref(), "HTTP 403"));
            return Some(with_code(e, details.as_ref()));
        }
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
        _ => {}
    }
    let err = match details {
        None => new(ErrorKind::Protocol)
            .with_effect(WriteEffect::Unknown)
            .with_message(format!("HTTP {status} with an unreadable body: {}", body_excerpt(input.body))),
        Some(d) if d.code.is_some() => by_code(input, &d),
        Some(d) => match status {
            404 | 410 => new(ErrorKind::NotFound).with_message(text(Some(&d), "HTTP 404")),
            409 => new(ErrorKind::Conflict).with_message(text(Some(&d), "HTTP 409")),
            400 | 422 => {
                let (field, reason) = field_of(&d, "body");
                new(ErrorKind::Invalid { field, reason: reason.clone() }).with_message(reason)
            }
            _ => new(ErrorKind::Protocol)
                .with_effect(WriteEffect::Unknown)
                .with_message(format!("unexpected HTTP {status}")),
        },
    };
    Some(err)
}

/// A code as the table below spells it: lower case with words joined by `_`. The contract
/// names one code only in prose ("pending processing", §7.5), and Core codes come in upper
/// case (checklist 23), so `pending processing`, `Pending-Processing`, `PendingProcessing`
/// and `PENDING_PROCESSING` are one code.
fn code_key(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 4);
    let mut prev_lower = false;
    for ch in raw.trim().chars() {
        if ch == ' ' || ch == '-' || ch == '_' {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        } else if ch.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
            prev_lower = false;
        } else {
            out.push(ch);
            prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        }
    }
    out
}

/// An error named by its code (any case).
fn by_code(input: &ClassifyInput<'_>, d: &ErrorDetails) -> Error {
    let new = |kind: ErrorKind| Error::new(kind, input.provider, input.operation);
    let raw = d.code.clone().unwrap_or_default();
    let c = code_key(&raw);
    let msg = text(Some(d), &format!("HTTP {}", input.status));
    let invalid = |default_field: &str| {
        let (field, reason) = field_of(d, default_field);
        new(ErrorKind::Invalid { field, reason }).with_message(msg.clone())
    };
    let err = match c.as_str() {
        code::USER_NOT_FOUND | code::OFFER_NOT_FOUND | code::POINT_ACCOUNT_NOT_FOUND | code::NOT_FOUND => {
            new(ErrorKind::NotFound).with_message(msg)
        }
        // §3.3: several accounts match; the cashier must try another identifier (checklist 4).
        code::AMBIGUOUS_USER => new(ErrorKind::Ambiguous).with_message(msg),
        code::OFFER_LOCKED
        | code::OFFER_NOT_AVAILABLE
        | code::OFFER_NOT_LOCKED
        | code::OFFER_NOT_REDEEMED
        | code::REQUEST_ID_REUSED
        | code::EMAIL_TAKEN
        | code::PHONE_TAKEN => new(ErrorKind::Conflict).with_message(msg),
        // `lock_expired`: a sale carrying a lapsed lock's Discount (§8.3 alternative), an
        // expired hold; the checkout sends the sale without that claim.
        code::OFFER_EXPIRED | code::TTL_CODE_EXPIRED | code::LOCK_EXPIRED => {
            new(ErrorKind::Expired).with_message(msg)
        }
        // A claim the vendor refuses: the checkout sends the sale without it.
        code::OFFER_NOT_APPLICABLE | code::NOT_AVAILABLE => new(ErrorKind::Rejected).with_message(msg),
        // §7.5: the first request with this request_id is still running; the same request
        // again is answered from its stored response once it is done.
        code::PENDING_PROCESSING | code::INTERNAL_SERVER_ERROR => new(ErrorKind::Unavailable)
            .with_temporary(true)
            .with_effect(WriteEffect::Unknown)
            .with_message(msg),
        code::UNAUTHORIZED | code::ACCESS_DENIED | code::INVALID_API_KEY | code::INVALID_AUTH_TOKEN => {
            new(ErrorKind::Unauthorized).with_message(msg)
        }
        code::REQUIRES_REGISTERED_USER => new(ErrorKind::Forbidden).with_message(msg),
        code::TOTALS_MISMATCH => invalid("subtotal"),
        code::INVALID_CLIENT => invalid("client_id"),
        code::STORE_NOT_FOUND => invalid("store_id"),
        code::INVALID_RETAILER => invalid("retailer_id"),
        code::CONTENT_TYPE => invalid("headers.content-type"),
        code::HTTPS_ONLY => invalid("base_url"),
        code::VALIDATION | code::MISSING_DATA | code::ARGUMENT_ERROR | code::INVALID_JSON => invalid("body"),
        // A code this table does not know (POS codes are not public, §5.8, §9 q. 4), or an
        // error without one: what the vendor refused, and whether it acted, is unknown. Not a
        // refused claim (`Rejected`/`Expired` make the checkout send the sale again without its
        // offers, giving their discount away, §7.1), nor a refusal for good: `Protocol`, effect
        // unknown, so a sale stays in the outbox and is resent under the same id (an upsert,
        // §7.5) with its locks kept, and an operator sees why.
        _ => match input.status {
            404 | 410 => new(ErrorKind::NotFound).with_message(msg),
            409 => new(ErrorKind::Conflict).with_message(msg),
            400 | 422 => invalid("body"),
            _ => new(ErrorKind::Protocol).with_effect(WriteEffect::Unknown).with_message(msg),
        },
    };
    if raw.trim().is_empty() {
        err
    } else {
        err.with_vendor_code(raw)
    }
}

/// The first field the vendor names and its message, else `default` with the error's text.
fn field_of(d: &ErrorDetails, default: &str) -> (String, String) {
    match d.fields.first() {
        Some((field, reason)) => (field.clone(), excerpt(reason)),
        None => (default.to_string(), text(Some(d), "refused")),
    }
}

fn with_code(err: Error, d: Option<&ErrorDetails>) -> Error {
    match d.and_then(|d| d.code.clone()) {
        Some(c) => err.with_vendor_code(c),
        None => err,
    }
}

fn text(d: Option<&ErrorDetails>, fallback: &str) -> String {
    d.and_then(|d| d.message.as_deref())
        .map(excerpt)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| fallback.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone, Utc};
    use loyalty_http::ClassifyInput;
    use reqwest::header::HeaderMap;
    use reqwest::Method;

    #[test]
    fn a_code_reads_the_same_in_prose_camel_kebab_or_upper_case() {
        for raw in ["pending processing", "Pending-Processing", "PendingProcessing", " PENDING_PROCESSING "] {
            assert_eq!(super::code_key(raw), "pending_processing", "{raw:?}");
        }
        assert_eq!(super::code_key("ttl_code_expired"), "ttl_code_expired");
        assert_eq!(super::code_key("USER_NOT_FOUND"), "user_not_found");
        assert_eq!(super::code_key("  "), "");
    }

    use super::*;

    struct Row {
        why: &'static str,
        status: u16,
        operation: &'static str,
        body: &'static str,
        retry_after: Option<&'static str>,
        kind: Option<&'static str>,
        field: Option<&'static str>,
        code: Option<&'static str>,
        temporary: bool,
        effect: WriteEffect,
        retry_secs: Option<u64>,
    }

    const fn row(why: &'static str, status: u16, operation: &'static str, body: &'static str) -> Row {
        Row {
            why,
            status,
            operation,
            body,
            retry_after: None,
            kind: None,
            field: None,
            code: None,
            temporary: false,
            effect: WriteEffect::RejectedBeforeActing,
            retry_secs: None,
        }
    }

    fn pos_error(code: &str) -> String {
        format!(r#"{{"status":"error","errors":{{"code":"{code}","message":"refused: {code}"}}}}"#)
    }

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    fn run(r: &Row) -> Option<Error> {
        let mut headers = HeaderMap::new();
        if let Some(v) = r.retry_after {
            headers.insert("retry-after", v.parse().unwrap());
        }
        let input = ClassifyInput {
            provider: "sessionm",
            operation: r.operation,
            method: &Method::POST,
            status: r.status,
            headers: &headers,
            body: r.body.as_bytes(),
            now: Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap(),
        };
        classify(&input)
    }

    #[test]
    fn classification_table() {
        let e = |c: &str| leak(pos_error(c));
        let rows = [
            // Checklist 3: OK in any case is success.
            row("POS OK", 200, "members.find", r#"{"status":"OK","payload":{}}"#),
            row("Connect ok", 200, "offers.list", r#"{"status":"ok","payload":{}}"#),
            row("mixed case Ok", 200, "holds.release", r#"{"status":"Ok"}"#),
            // The decoder reports an unreadable or status-less success body as Protocol.
            row("garbled 200 left to the decoder", 200, "transactions.send", "<html>"),
            // Checklist 3: a 200 whose status is not OK is a failure.
            // §5.8, §9 q. 4: POS codes are not public. One this table does not know is no
            // refused claim (the checkout would resend the sale without its offers): unknown.
            Row {
                kind: Some("protocol"),
                code: Some("something_new"),
                effect: WriteEffect::Unknown,
                ..row("unknown code in a 200", 200, "holds.hold", e("something_new"))
            },
            Row {
                kind: Some("protocol"),
                code: Some("transaction_processing_failed"),
                effect: WriteEffect::Unknown,
                ..row(
                    "a tenant's own code on a send",
                    200,
                    "transactions.send",
                    e("transaction_processing_failed"),
                )
            },
            Row {
                kind: Some("protocol"),
                effect: WriteEffect::Unknown,
                ..row("error without a code in a 200", 200, "transactions.send", r#"{"status":"error"}"#)
            },
            Row {
                kind: Some("protocol"),
                effect: WriteEffect::Unknown,
                ..row(
                    "error with an empty code in a 200",
                    200,
                    "transactions.send",
                    r#"{"status":"error","errors":{"code":" ","message":"x"}}"#,
                )
            },
            // A 400 refuses the request as sent, whatever its code says.
            Row {
                kind: Some("invalid"),
                field: Some("body"),
                code: Some("something_new"),
                ..row("unknown code in a 400", 400, "transactions.send", e("something_new"))
            },
            Row {
                kind: Some("not_found"),
                code: Some("user_not_found"),
                ..row("POS lookup without match", 200, "members.find", e("user_not_found"))
            },
            // Checklist 23: Core codes in upper case are the same codes.
            Row {
                kind: Some("not_found"),
                code: Some("USER_NOT_FOUND"),
                ..row("Core code upper case", 200, "members.get", e("USER_NOT_FOUND"))
            },
            // Checklist 4: ambiguous lookup is its own kind, not the first match.
            Row {
                kind: Some("ambiguous"),
                code: Some("ambiguous_user"),
                ..row("two accounts match", 200, "members.find", e("ambiguous_user"))
            },
            Row {
                kind: Some("conflict"),
                code: Some("offer_locked"),
                ..row("locked by another transaction (checklist 8)", 200, "holds.hold", e("offer_locked"))
            },
            Row {
                kind: Some("conflict"),
                code: Some("offer_not_available"),
                ..row("already redeemed", 200, "redemptions.redeem", e("offer_not_available"))
            },
            Row {
                kind: Some("conflict"),
                code: Some("offer_not_locked"),
                ..row("unlock of a free offer (§7.3 [S])", 200, "holds.release", e("offer_not_locked"))
            },
            Row {
                kind: Some("conflict"),
                code: Some("offer_not_redeemed"),
                ..row(
                    "reinstate of an issued offer (checklist 13)",
                    200,
                    "redemptions.reinstate",
                    e("offer_not_redeemed"),
                )
            },
            Row {
                kind: Some("conflict"),
                code: Some("request_id_reused"),
                ..row(
                    "request_id with another body (checklist 14)",
                    200,
                    "holds.hold",
                    e("request_id_reused"),
                )
            },
            Row {
                kind: Some("expired"),
                code: Some("offer_expired"),
                ..row("offer past its date", 200, "holds.hold", e("offer_expired"))
            },
            Row {
                kind: Some("expired"),
                code: Some("ttl_code_expired"),
                ..row("TTL code past its life", 200, "holds.hold", e("ttl_code_expired"))
            },
            Row {
                kind: Some("rejected"),
                code: Some("offer_not_applicable"),
                ..row("nothing to discount", 200, "holds.hold", e("offer_not_applicable"))
            },
            // §8.3 alternative: the lapsed lock's claim is refused, so the checkout sends the
            // sale without it.
            Row {
                kind: Some("expired"),
                code: Some("lock_expired"),
                ..row("expired lock's discount refused", 200, "transactions.send", e("lock_expired"))
            },
            Row {
                kind: Some("unavailable"),
                code: Some("pending_processing"),
                temporary: true,
                effect: WriteEffect::Unknown,
                // §7.5: the same request_id is still running; retrying it is safe.
                ..row("pending processing", 200, "transactions.send", e("pending_processing"))
            },
            // The contract spells this code only in prose (§7.5).
            Row {
                kind: Some("unavailable"),
                code: Some("pending processing"),
                temporary: true,
                effect: WriteEffect::Unknown,
                ..row(
                    "pending processing, as the prose spells it",
                    200,
                    "transactions.send",
                    e("pending processing"),
                )
            },
            Row {
                kind: Some("unavailable"),
                code: Some("PendingProcessing"),
                temporary: true,
                effect: WriteEffect::Unknown,
                ..row("pending processing, camel case", 200, "transactions.send", e("PendingProcessing"))
            },
            Row {
                kind: Some("invalid"),
                field: Some("request_payload.transaction.items[0].quantity"),
                code: Some("validation"),
                ..row(
                    "validation names the first field",
                    200,
                    "holds.hold",
                    r#"{"status":"error","errors":{"code":"validation","message":"One or more fields are invalid.","fields":{"request_payload.transaction.items[0].quantity":["must be greater than 0"]}}}"#,
                )
            },
            Row {
                kind: Some("invalid"),
                field: Some("dob"),
                code: Some("validation"),
                // Checklist 22: Core validation details sit under errors.user.
                ..row(
                    "Core dob validation",
                    200,
                    "members.register",
                    r#"{"status":"error","errors":{"code":"validation","message":"Validation failed.","user":{"dob":["must make the user older than 13"]}}}"#,
                )
            },
            Row {
                kind: Some("invalid"),
                field: Some("store_id"),
                code: Some("store_not_found"),
                ..row("unknown store", 200, "members.find", e("store_not_found"))
            },
            Row {
                kind: Some("invalid"),
                field: Some("client_id"),
                code: Some("invalid_client_id"),
                ..row("unknown client", 200, "members.find", e("invalid_client_id"))
            },
            Row {
                kind: Some("invalid"),
                field: Some("subtotal"),
                code: Some("totals_mismatch"),
                ..row("totals refused (§8.3 alternative)", 200, "transactions.send", e("totals_mismatch"))
            },
            Row {
                kind: Some("conflict"),
                code: Some("email_taken"),
                ..row("Core e-mail in use (checklist 25)", 200, "members.register", e("email_taken"))
            },
            Row {
                kind: Some("forbidden"),
                code: Some("requires_registered_user"),
                ..row("Core needs a registered user", 200, "members.get", e("requires_registered_user"))
            },
            Row {
                kind: Some("invalid"),
                field: Some("retailer_id"),
                code: Some("invalid_retailer_id"),
                ..row("Connect retailer refused (400)", 400, "offers.list", e("invalid_retailer_id"))
            },
            // §8.3 setting: POS business errors as HTTP 400 read the same.
            Row {
                kind: Some("conflict"),
                code: Some("offer_locked"),
                ..row("business error as 400", 400, "holds.hold", e("offer_locked"))
            },
            Row {
                kind: Some("not_found"),
                code: Some("user_not_found"),
                ..row("Core unknown id (404)", 404, "members.get", e("user_not_found"))
            },
            Row {
                kind: Some("not_found"),
                ..row("404 without code", 404, "members.get", r#"{"message":"Not Found"}"#)
            },
            Row {
                kind: Some("invalid"),
                field: Some("body"),
                ..row("400 without code", 400, "members.find", r#"{"status":"error"}"#)
            },
            // Checklist 2: 401 is Unauthorized and never retried.
            Row {
                kind: Some("unauthorized"),
                code: Some("unauthorized"),
                ..row("POS bad Basic", 401, "members.find", e("unauthorized"))
            },
            Row { kind: Some("unauthorized"), ..row("401 without body", 401, "members.get", "") },
            Row {
                kind: Some("forbidden"), ..row("403 source IP not allowed (§2)", 403, "members.find", "")
            },
            Row {
                kind: Some("rate_limited"),
                temporary: true,
                retry_after: Some("7"),
                retry_secs: Some(7),
                // §2: no documented limits; 429 treated as possible [I].
                ..row("rate limited", 429, "offers.list", "")
            },
            Row {
                kind: Some("unavailable"),
                temporary: true,
                effect: WriteEffect::Unknown,
                ..row("5xx on a write", 503, "transactions.send", "oops")
            },
            Row {
                kind: Some("unavailable"),
                temporary: false,
                effect: WriteEffect::Unknown,
                ..row("501 does not heal", 501, "transactions.send", "")
            },
            Row {
                kind: Some("protocol"),
                effect: WriteEffect::Unknown,
                ..row("garbage error body", 400, "members.find", "<html>proxy</html>")
            },
            Row {
                kind: Some("protocol"),
                effect: WriteEffect::Unknown,
                ..row("redirect not followed", 302, "members.find", "")
            },
        ];
        for r in &rows {
            let got = run(r);
            match (&got, r.kind) {
                (None, None) => continue,
                (Some(e), Some(kind)) => {
                    assert_eq!(e.kind().label(), kind, "{}: {e}", r.why);
                    assert_eq!(e.is_temporary(), r.temporary, "{}: temporary", r.why);
                    assert_eq!(e.effect(), r.effect, "{}: effect", r.why);
                    assert_eq!(
                        e.retry_after(),
                        r.retry_secs.map(Duration::from_secs),
                        "{}: retry_after",
                        r.why
                    );
                    assert_eq!(e.vendor_code(), r.code, "{}: vendor code", r.why);
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
        let body =
            leak(format!(r#"{{"status":"error","errors":{{"code":"x","message":"{}"}}}}"#, "y".repeat(5000)));
        let e = run(&row("long", 200, "members.find", body)).unwrap();
        assert!(e.message().chars().count() <= loyalty_http::EXCERPT_CHARS + 1);
    }
}
