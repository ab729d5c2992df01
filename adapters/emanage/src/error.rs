//! Turns an eManage reply into success or an [`Error`]: the one place that reads status codes
//! and vendor error bodies.
//!
//! The public material shows no error envelope (§10, §17 question 1); clients read only the
//! HTTP status. The adapter reads the ASP.NET-like body the contract proposes, `{ message,
//! modelState: { field: [reasons] } }` (names \[S\], in `names`), when there is one, and falls
//! back to the status alone. eManage has no error codes, so errors carry none.
//!
//! A declined card is not an error: checkout answers 200 with `success: false` (§10), which
//! the checkout decoder turns into a decline.
//!
//! | Reply | Kind | Temporary | Effect |
//! | --- | --- | --- | --- |
//! | 2xx | success | | |
//! | 400 with `modelState` | `Invalid { field: first key }` (`body` for the empty key) | no | rejected before acting |
//! | 400 without | `Invalid { field: "body" }` | no | rejected before acting |
//! | 401 | `Unauthorized` (missing or unknown `X_CID`, §3) | no | rejected before acting |
//! | 403 | `Forbidden` | no | rejected before acting |
//! | 404 | `NotFound` (unknown session, product, campaign of another client) | no | rejected before acting |
//! | 409 | `Conflict` (paid cart, duplicate add, upgrade of an unpaid cart) | no | rejected before acting |
//! | 413 | `Invalid { field: "body" }` | no | rejected before acting |
//! | 415 | `Invalid { field: "headers.content-type" }` | no | rejected before acting |
//! | 429 | `RateLimited { retry_after }` | yes | rejected before acting |
//! | 408, 500, 502, 503, 504 | `Unavailable` | yes | unknown |
//! | other 5xx | `Unavailable` | no | unknown |
//! | anything else | `Protocol` | no | unknown |

use std::fmt;

use loyalty_core::{Error, ErrorKind, WriteEffect};
use loyalty_http::{excerpt, parse_retry_after, ClassifyInput};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::names;

/// Classifies an eManage reply: `None` for a success, the error otherwise. Pure: no I/O, no
/// clock (`now` comes in the input, for `Retry-After` dates).
pub fn classify(input: &ClassifyInput<'_>) -> Option<Error> {
    let status = input.status;
    let new = |kind: ErrorKind| Error::new(kind, input.provider, input.operation);
    let body = Envelope::read(input.body);
    let text = body.message.clone().unwrap_or_else(|| format!("HTTP {status}"));
    let err = match status {
        200..=299 => return None,
        400 => match body.first_field() {
            Some((field, reason)) => {
                new(ErrorKind::Invalid { field, reason: reason.clone() }).with_message(reason)
            }
            None => new(ErrorKind::Invalid { field: "body".into(), reason: text.clone() }).with_message(text),
        },
        401 => new(ErrorKind::Unauthorized)
            .with_message(format!("HTTP 401: the client id (X_CID) is missing or unknown: {text}")),
        403 => new(ErrorKind::Forbidden).with_message(text),
        404 => new(ErrorKind::NotFound).with_message(text),
        409 => new(ErrorKind::Conflict).with_message(text),
        413 => new(ErrorKind::Invalid { field: "body".into(), reason: text.clone() }).with_message(text),
        // Our own request was wrong; nothing was done with it.
        415 => new(ErrorKind::Invalid { field: "headers.content-type".into(), reason: text.clone() })
            .with_message(text),
        429 => {
            let retry_after = parse_retry_after(input.headers, input.now);
            new(ErrorKind::RateLimited { retry_after }).with_message(format!("HTTP 429: {text}"))
        }
        // A 5xx on a write may have been applied: the caller reads the cart back (§10).
        408 | 500 | 502 | 503 | 504 => new(ErrorKind::Unavailable)
            .with_temporary(true)
            .with_effect(WriteEffect::Unknown)
            .with_message(format!("HTTP {status}")),
        500..=599 => new(ErrorKind::Unavailable)
            .with_temporary(false)
            .with_effect(WriteEffect::Unknown)
            .with_message(format!("HTTP {status}")),
        _ => new(ErrorKind::Protocol)
            .with_effect(WriteEffect::Unknown)
            .with_message(format!("unexpected HTTP {status}: {text}")),
    };
    Some(err)
}

/// The error body, when it is the `{ message, modelState }` envelope; anything else reads as
/// empty (clients never read error bodies, §10).
#[derive(Debug, Default)]
struct Envelope {
    message: Option<String>,
    /// Field → reasons, in the order the vendor wrote them.
    model_state: Vec<(String, Vec<String>)>,
}

impl Envelope {
    fn read(bytes: &[u8]) -> Envelope {
        let Ok(raw) = serde_json::from_slice::<RawEnvelope>(bytes) else { return Envelope::default() };
        Envelope {
            message: raw.message.map(|m| excerpt(&m)).filter(|m| !m.is_empty()),
            model_state: raw
                .model_state
                .map(|m| m.0)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, reasons)| (k, reasons.iter().map(|r| excerpt(r)).collect()))
                .collect(),
        }
    }

    /// The first field and its first reason; the empty key means the body itself.
    fn first_field(&self) -> Option<(String, String)> {
        let (key, reasons) = self.model_state.first()?;
        let field = if key.trim().is_empty() { "body".to_string() } else { key.clone() };
        let reason = reasons.first().cloned().unwrap_or_else(|| "invalid".into());
        Some((field, reason))
    }
}

/// The envelope as sent; member names in any letter case (§10), so `Message` and
/// `ModelState` read too.
struct RawEnvelope {
    message: Option<String>,
    model_state: Option<OrderedModelState>,
}

impl<'de> Deserialize<'de> for RawEnvelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawEnvelope;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an error envelope")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawEnvelope, A::Error> {
                let mut out = RawEnvelope { message: None, model_state: None };
                while let Some(key) = map.next_key::<String>()? {
                    if key.eq_ignore_ascii_case(names::MESSAGE) {
                        out.message = map.next_value::<Option<String>>().unwrap_or(None);
                    } else if key.eq_ignore_ascii_case(names::MODEL_STATE) {
                        out.model_state = map.next_value::<Option<OrderedModelState>>()?;
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

/// `modelState` in document order (a JSON map would sort the fields).
struct OrderedModelState(Vec<(String, Vec<String>)>);

impl<'de> Deserialize<'de> for OrderedModelState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedModelState;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("field → reasons")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedModelState, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let reasons = match map.next_value::<serde_json::Value>()? {
                        serde_json::Value::Array(a) => {
                            a.iter().filter_map(|r| r.as_str().map(str::to_string)).collect()
                        }
                        serde_json::Value::String(s) => vec![s],
                        _ => Vec::new(),
                    };
                    out.push((key, reasons));
                }
                Ok(OrderedModelState(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone, Utc};
    use reqwest::header::HeaderMap;
    use reqwest::Method;

    use super::*;

    struct Row {
        why: &'static str,
        status: u16,
        operation: &'static str,
        body: &'static str,
        retry_after: Option<&'static str>,
        kind: Option<&'static str>,
        field: Option<&'static str>,
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
            temporary: false,
            effect: WriteEffect::RejectedBeforeActing,
            retry_secs: None,
        }
    }

    fn run(r: &Row) -> Option<Error> {
        let mut headers = HeaderMap::new();
        if let Some(v) = r.retry_after {
            headers.insert("retry-after", v.parse().unwrap());
        }
        let input = ClassifyInput {
            provider: "emanage",
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
        let rows = [
            row("a cart GET", 200, "carts.get", r#"{"products":[]}"#),
            // A decline is a 200 with success:false (§10): an answer, decoded by checkout.
            row(
                "declined card",
                200,
                "carts.checkout",
                r#"{"success":false,"message":"The card was declined.","orderNumber":null}"#,
            ),
            Row {
                kind: Some("invalid"),
                field: Some("price"),
                // Checklist 7: a forged price names `price`.
                ..row(
                    "price differs from the catalogue",
                    400,
                    "carts.add_line",
                    r#"{"message":"The request is invalid.","modelState":{"price":["The price 90 does not match the campaign price 100."]}}"#,
                )
            },
            Row {
                kind: Some("invalid"),
                field: Some("upgradePreviewQuantity"),
                // Checklist 15, with the envelope's keys in PascalCase (§10: any letter case).
                ..row(
                    "upgrade of more units than the line holds",
                    400,
                    "carts.upgrade",
                    r#"{"Message":"The request is invalid.","ModelState":{"upgradePreviewQuantity":["The upgradePreviewQuantity must be between 1 and 1."],"quantity":["x"]}}"#,
                )
            },
            Row {
                kind: Some("invalid"),
                field: Some("body"),
                ..row(
                    "malformed body",
                    400,
                    "carts.create",
                    r#"{"message":"The request is invalid.","modelState":{"":["A non-empty request body is required."]}}"#,
                )
            },
            Row {
                kind: Some("invalid"),
                field: Some("body"),
                ..row("400 with no envelope", 400, "carts.create", "Bad Request")
            },
            // Checklist 1: no or unknown X_CID.
            Row {
                kind: Some("unauthorized"),
                ..row(
                    "unknown client id",
                    401,
                    "carts.get",
                    r#"{"message":"Authorization has been denied for this request."}"#,
                )
            },
            Row { kind: Some("forbidden"), ..row("forbidden", 403, "carts.get", "") },
            // Checklist 8: an unknown session.
            Row {
                kind: Some("not_found"),
                ..row("unknown session", 404, "carts.get", r#"{"message":"Session 'x' was not found."}"#)
            },
            // Checklists 6, 9, 10: state conflicts.
            Row {
                kind: Some("conflict"),
                ..row("paid cart", 409, "carts.add_line", r#"{"message":"Session 'x' is already paid."}"#)
            },
            Row {
                kind: Some("invalid"),
                field: Some("headers.content-type"),
                ..row("wrong content type", 415, "carts.create", "")
            },
            Row {
                kind: Some("rate_limited"),
                temporary: true,
                retry_after: Some("7"),
                retry_secs: Some(7),
                ..row("throttled", 429, "carts.get", r#"{"message":"Too many requests."}"#)
            },
            Row {
                kind: Some("unavailable"),
                temporary: true,
                effect: WriteEffect::Unknown,
                // A 5xx on checkout may have charged: read the cart back (§10).
                ..row("5xx on checkout", 503, "carts.checkout", "")
            },
            Row {
                kind: Some("unavailable"),
                temporary: true,
                effect: WriteEffect::Unknown,
                ..row("timeout status", 408, "carts.get", "")
            },
            Row {
                kind: Some("unavailable"),
                effect: WriteEffect::Unknown,
                ..row("not implemented", 501, "carts.get", "oops")
            },
            Row {
                kind: Some("protocol"),
                effect: WriteEffect::Unknown,
                ..row("a redirect", 302, "carts.get", "")
            },
        ];
        for r in &rows {
            match (run(r), r.kind) {
                (None, None) => {}
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
                    if let Some(field) = r.field {
                        assert!(
                            matches!(e.kind(), ErrorKind::Invalid { field: f, .. } if f == field),
                            "{}: {e}",
                            r.why
                        );
                    }
                    assert_eq!((e.provider(), e.operation()), ("emanage", r.operation), "{}", r.why);
                }
                (got, want) => panic!("{}: got {got:?}, want {want:?}", r.why),
            }
        }
    }

    #[test]
    fn long_vendor_text_is_truncated() {
        let body = format!(r#"{{"message":"{}"}}"#, "x".repeat(5000));
        let leaked: &'static str = Box::leak(body.into_boxed_str());
        let e = run(&row("long", 409, "carts.get", leaked)).unwrap();
        assert!(e.message().chars().count() <= loyalty_http::EXCERPT_CHARS + 1);
    }
}
