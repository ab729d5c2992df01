//! Turns an IdoSell reply into success or an [`Error`]: the one place that reads HTTP statuses,
//! SOAP faults and `faultCode`s.
//!
//! IdoSell reports errors inside HTTP 200 bodies, in an `errors` block (`faultCode`,
//! `faultString`, §6.1); a genuine SOAP `Fault` only for protocol problems (unparsable XML, an
//! unknown method). Codes are mapped by *class* through the names table's [`FaultCodes`]
//! (§6.3 \[S\]), never by number in code and never by the (Polish) `faultString`.
//!
//! | Reply | Kind | Temporary | Effect |
//! | --- | --- | --- | --- |
//! | 200, `faultCode` 0 or the empty class (2) | success; each gateway's decoder reads "empty" (an empty list or page, no order, nothing available; `Protocol` for G1, G3, G4, which cannot answer nothing) | | |
//! | 200, login class (1) | `Unauthorized` | no | rejected before acting |
//! | 200, session class (3) | `Unauthorized`: the transport renews the session and replays once | no | rejected before acting |
//! | 200, dropshipping-key class (4) | `Forbidden` | no | rejected before acting |
//! | 200, input class (5) | `Invalid { field: "request" }` | no | rejected before acting |
//! | 200, unknown product, stock, courier, empty basket (6–9) | `Rejected` | no | rejected before acting |
//! | 200, address locked (10) | `Conflict` | no | rejected before acting |
//! | 200, too large (11) | `Invalid { field: "body" }` | no | rejected before acting |
//! | 200, internal (99) | `Unavailable` | yes | unknown |
//! | 200, a code the table does not know | `Rejected` | no | unknown |
//! | 200 without an `errors` block, or unreadable | `Protocol` | no | unknown |
//! | SOAP `Fault` `Client`, `VersionMismatch`, or an unknown method (any status) | `Protocol` | no | rejected before acting |
//! | any other SOAP `Fault` (`Server`: a handler failed, maybe after acting) | `Protocol` | no | unknown |
//! | 413 (the oversize alternative of §9.4) | `Invalid { field: "body" }` | no | rejected before acting |
//! | 429 | `RateLimited { retry_after }` | yes | rejected before acting |
//! | 408, 5xx without a fault | `Unavailable` | yes (not 501) | unknown |
//! | 404, 405 (a gate path or method that is not there: fix the names table) | `Protocol` | no | rejected before acting |
//! | other | `Protocol` | no | unknown |
//!
//! Vendor text (a fault's `faultstring`, an `errors` block's `faultString`) is quoted through
//! [`fault_text`]: a gate may echo the `authenticate` block it refused, so every run of 40 or
//! more hex digits (the daily `systemKey`, the password digest) becomes `[redacted]` before the
//! text is cut. The session and dropshipping keys the call carried are replaced by the
//! transport before this classifier reads a refused reply; in a success (per-line and per-item
//! faults, decoding errors) the client replaces them before the adapter quotes the text.

use loyalty_core::{Error, ErrorKind, WriteEffect};
use loyalty_http::{excerpt, parse_retry_after, ClassifyInput, REDACTED};

use crate::names::{FaultClass, FaultCodes};
use crate::wire::xml::{scan_errors, Scan};

/// What a SOAP `Fault` says about the call's effect. The request itself refused (a `Client` or
/// `VersionMismatch` fault, an unknown method: PHP's "Procedure … not present") was not acted
/// on. Any other fault (`Server`: PHP turns a handler's uncaught failure into one, maybe after
/// the order was written) leaves the effect unknown, so a placement is looked up before it is
/// tried again (§3.5, §9.1).
fn fault_effect(code: &str, text: &str) -> WriteEffect {
    let local = code.rsplit(':').next().unwrap_or(code);
    let refused = ["Client", "VersionMismatch", "MustUnderstand"].iter().any(|c| local.starts_with(c))
        || (text.trim_start().starts_with("Procedure '") && text.trim_end().ends_with("not present"));
    if refused {
        WriteEffect::RejectedBeforeActing
    } else {
        WriteEffect::Unknown
    }
}

/// Classifies a reply with the working fault table ([`FaultCodes::default`]).
pub fn classify(input: &ClassifyInput<'_>) -> Option<Error> {
    classify_with(&FaultCodes::default(), input)
}

/// Classifies a reply: `None` for a success, the error otherwise. Pure: no I/O, no clock.
pub fn classify_with(faults: &FaultCodes, input: &ClassifyInput<'_>) -> Option<Error> {
    let status = input.status;
    let new = |kind: ErrorKind| Error::new(kind, input.provider, input.operation);
    // A SOAP fault may come with 200 or 500 (SOAP 1.1 §6.2); look before judging the status.
    let scan = scan_errors(input.body);
    if let Ok(Scan::Fault { code, text }) = &scan {
        return Some(
            new(ErrorKind::Protocol)
                .with_effect(fault_effect(code, text))
                .with_vendor_code(fault_text(code))
                .with_message(format!("SOAP Fault (HTTP {status}): {}", fault_text(text))),
        );
    }
    match status {
        200..=299 => {}
        413 => {
            return Some(new(ErrorKind::Invalid {
                field: "body".into(),
                reason: "the wholesaler refused the body as too large (HTTP 413)".into(),
            }))
        }
        429 => {
            return Some(
                new(ErrorKind::RateLimited { retry_after: parse_retry_after(input.headers, input.now) })
                    .with_message("HTTP 429"),
            )
        }
        408 | 500..=599 => {
            return Some(
                new(ErrorKind::Unavailable)
                    .with_temporary(status != 501)
                    .with_effect(WriteEffect::Unknown)
                    .with_message(format!("HTTP {status}")),
            )
        }
        404 | 405 => {
            return Some(
                new(ErrorKind::Protocol)
                    .with_effect(WriteEffect::RejectedBeforeActing)
                    .with_message(format!("HTTP {status}: no such gate here; check the names table (§9.3)")),
            )
        }
        _ => {
            return Some(
                new(ErrorKind::Protocol)
                    .with_effect(WriteEffect::Unknown)
                    .with_message(format!("unexpected HTTP {status}")),
            )
        }
    }
    match scan {
        Ok(Scan::Errors(e)) => match faults.class(e.code) {
            FaultClass::Ok | FaultClass::Empty => None,
            _ => Some(fault_error(faults, input.provider, input.operation, e.code, &e.text)),
        },
        Ok(Scan::Fault { .. }) => None,
        Err(reason) => Some(
            new(ErrorKind::Protocol)
                .with_effect(WriteEffect::Unknown)
                .with_message(format!("unreadable reply: {}", fault_text(&reason))),
        ),
    }
}

/// Vendor text as an error quotes it: every run of 40 or more hex digits (a `systemKey`, the
/// password digest, the date and digest the key is hashed from) replaced by `[redacted]`, then
/// cut by [`excerpt`].
pub fn fault_text(text: &str) -> String {
    const KEY_DIGITS: usize = 40;
    let mut out = String::with_capacity(text.len());
    let mut run = 0..0;
    let flush = |out: &mut String, run: &std::ops::Range<usize>| {
        out.push_str(if run.len() >= KEY_DIGITS { REDACTED } else { &text[run.clone()] });
    };
    for (at, c) in text.char_indices() {
        if c.is_ascii_hexdigit() {
            if run.is_empty() {
                run = at..at;
            }
            run.end = at + 1;
        } else {
            flush(&mut out, &run);
            run = 0..0;
            out.push(c);
        }
    }
    flush(&mut out, &run);
    excerpt(&out)
}

/// The error of a non-zero `faultCode` by its class (top-level or per item); the vendor code
/// is the number, the message the `faultString` as [`fault_text`] quotes it.
pub fn fault_error(faults: &FaultCodes, provider: &str, operation: &str, code: i64, text: &str) -> Error {
    let new = |kind: ErrorKind| Error::new(kind, provider, operation);
    let text = fault_text(text);
    let err = match faults.class(code) {
        // The session class stays `Unauthorized`, not `Expired` (session): the kind
        // is what makes the transport drop the session and replay once with a fresh login,
        // which is how an expired session is handled. A caller sees it only when the fault
        // outlived that fresh login, and a key refused right after it was issued has not
        // expired: it points at the account or its configuration (sessions revoked, clock or
        // names table wrong), which `Unauthorized` (not temporary, rejected before acting)
        // says; `Expired` would invite the caller to renew and retry again.
        FaultClass::Login | FaultClass::Session => new(ErrorKind::Unauthorized),
        FaultClass::Dropshipping => new(ErrorKind::Forbidden),
        FaultClass::Input => new(ErrorKind::Invalid { field: "request".into(), reason: text.clone() }),
        FaultClass::UnknownProduct | FaultClass::Stock | FaultClass::Courier | FaultClass::BasketEmpty => {
            new(ErrorKind::Rejected)
        }
        FaultClass::AddressLocked => new(ErrorKind::Conflict),
        FaultClass::TooLarge => new(ErrorKind::Invalid { field: "body".into(), reason: text.clone() }),
        FaultClass::Internal => {
            new(ErrorKind::Unavailable).with_temporary(true).with_effect(WriteEffect::Unknown)
        }
        // Not in the table: a refusal of unknown meaning; whether it acted is unknown.
        FaultClass::Unknown => new(ErrorKind::Rejected).with_effect(WriteEffect::Unknown),
        // Never reached for 0 and 2 (success); kept total for a table that maps them oddly.
        FaultClass::Ok | FaultClass::Empty => new(ErrorKind::Protocol),
    };
    err.with_vendor_code(code.to_string()).with_message(format!("faultCode {code}: {text}"))
}

/// The class of an error's vendor code, for callers that act on a class (the login's
/// midnight retry).
pub(crate) fn class_of(faults: &FaultCodes, err: &Error) -> Option<FaultClass> {
    err.vendor_code().and_then(|c| c.parse::<i64>().ok()).map(|c| faults.class(c))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{TimeZone, Utc};
    use reqwest::header::HeaderMap;
    use reqwest::Method;

    use super::*;

    fn reply(code: i64, text: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><ns1:placeOrderResponse><response><errors><faultCode xsi:type="xsd:int">{code}</faultCode><faultString>{text}</faultString></errors><results/></response></ns1:placeOrderResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
        )
    }

    const FAULT: &str = r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>Bad Request</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;

    struct Row {
        why: &'static str,
        status: u16,
        body: String,
        retry_after: Option<&'static str>,
        kind: Option<&'static str>,
        code: Option<&'static str>,
        temporary: bool,
        effect: WriteEffect,
        retry_secs: Option<u64>,
    }

    fn row(why: &'static str, status: u16, body: String, kind: Option<&'static str>) -> Row {
        Row {
            why,
            status,
            body,
            retry_after: None,
            kind,
            code: None,
            temporary: false,
            effect: WriteEffect::RejectedBeforeActing,
            retry_secs: None,
        }
    }

    fn run(faults: &FaultCodes, r: &Row) -> Option<Error> {
        let mut headers = HeaderMap::new();
        if let Some(v) = r.retry_after {
            headers.insert("retry-after", v.parse().unwrap());
        }
        let input = ClassifyInput {
            provider: "idosell",
            operation: "fulfilment.place_order",
            method: &Method::POST,
            status: r.status,
            headers: &headers,
            body: r.body.as_bytes(),
            now: Utc.with_ymd_and_hms(2024, 3, 15, 12, 0, 0).unwrap(),
        };
        classify_with(faults, &input)
    }

    #[test]
    fn classification_table() {
        use WriteEffect::*;
        let polish = "Logowanie nie powiodło się";
        let rows = [
            row("success", 200, reply(0, ""), None),
            // §6.2, checklist 10: "nothing found" is an empty result, not a failure.
            row("empty result", 200, reply(2, "Brak wyników"), None),
            Row { code: Some("1"), ..row("login failed", 200, reply(1, polish), Some("unauthorized")) },
            // The transport renews the session and replays once on Unauthorized (§3.5).
            Row {
                code: Some("3"),
                ..row("session expired", 200, reply(3, "Sesja wygasła"), Some("unauthorized"))
            },
            Row { code: Some("4"), ..row("dropshipping key", 200, reply(4, "x"), Some("forbidden")) },
            Row { code: Some("5"), ..row("input", 200, reply(5, "params.x"), Some("invalid")) },
            Row { code: Some("6"), ..row("unknown product", 200, reply(6, "x"), Some("rejected")) },
            Row { code: Some("7"), ..row("stock", 200, reply(7, "x"), Some("rejected")) },
            Row { code: Some("8"), ..row("courier", 200, reply(8, "x"), Some("rejected")) },
            Row { code: Some("9"), ..row("empty basket", 200, reply(9, "x"), Some("rejected")) },
            // The trait's "after dispatch" refusal.
            Row { code: Some("10"), ..row("address locked", 200, reply(10, "x"), Some("conflict")) },
            Row { code: Some("11"), ..row("too large", 200, reply(11, "x"), Some("invalid")) },
            Row {
                code: Some("99"),
                temporary: true,
                effect: Unknown,
                ..row("internal: may have acted", 200, reply(99, "x"), Some("unavailable"))
            },
            Row {
                code: Some("42"),
                effect: Unknown,
                ..row("a code the table does not know", 200, reply(42, "x"), Some("rejected"))
            },
            // Checklist 9: a SOAP Fault is a protocol error, whatever the status.
            Row {
                code: Some("SOAP-ENV:Client"),
                ..row("SOAP fault 500", 500, FAULT.into(), Some("protocol"))
            },
            Row {
                code: Some("SOAP-ENV:Client"),
                ..row("SOAP fault 200", 200, FAULT.into(), Some("protocol"))
            },
            // A Server fault: PHP's answer to a handler that failed, maybe after writing the
            // order. Unknown, so a placement is looked up before it is tried again.
            Row {
                code: Some("SOAP-ENV:Server"),
                effect: Unknown,
                ..row("SOAP Server fault", 500, FAULT.replace("Client", "Server"), Some("protocol"))
            },
            // Other words that happen to say "not present" are no unknown method.
            Row {
                code: Some("SOAP-ENV:Server"),
                effect: Unknown,
                ..row(
                    "Server fault naming something not present",
                    500,
                    FAULT.replace("Client", "Server").replace("Bad Request", "delivery address not present"),
                    Some("protocol"),
                )
            },
            // The unknown-method fault is a Server fault too, but nothing ran.
            Row {
                code: Some("SOAP-ENV:Server"),
                ..row(
                    "unknown method",
                    500,
                    FAULT
                        .replace("Client", "Server")
                        .replace("Bad Request", "Procedure 'placeOrdr' not present"),
                    Some("protocol"),
                )
            },
            Row {
                effect: Unknown,
                ..row("truncated reply", 200, reply(0, "")[..40].to_string(), Some("protocol"))
            },
            Row { effect: Unknown, ..row("no errors block", 200, "<a><b/></a>".into(), Some("protocol")) },
            Row { effect: Unknown, ..row("not XML", 200, "{\"ok\":true}".into(), Some("protocol")) },
            row("413 alternative of §9.4", 413, String::new(), Some("invalid")),
            Row {
                retry_after: Some("7"),
                temporary: true,
                retry_secs: Some(7),
                ..row("rate limited", 429, String::new(), Some("rate_limited"))
            },
            Row {
                temporary: true,
                effect: Unknown,
                ..row("gateway down", 503, String::new(), Some("unavailable"))
            },
            Row { effect: Unknown, ..row("501 will not heal", 501, String::new(), Some("unavailable")) },
            row("gate path wrong", 404, "Not Found".into(), Some("protocol")),
            Row { effect: Unknown, ..row("odd status", 302, String::new(), Some("protocol")) },
        ];
        for r in &rows {
            let got = run(&FaultCodes::default(), r);
            match (r.kind, &got) {
                (None, None) => continue,
                (None, Some(e)) => panic!("{}: expected success, got {e}", r.why),
                (Some(k), None) => panic!("{}: expected {k}, got success", r.why),
                (Some(k), Some(e)) => {
                    assert_eq!(e.kind().label(), k, "{}", r.why);
                    assert_eq!(e.vendor_code(), r.code, "{}", r.why);
                    assert_eq!(e.is_temporary(), r.temporary, "{}", r.why);
                    assert_eq!(e.effect(), r.effect, "{}", r.why);
                    assert_eq!(e.retry_after(), r.retry_secs.map(Duration::from_secs), "{}", r.why);
                }
            }
        }
    }

    #[test]
    fn classes_not_numbers_decide_so_a_new_table_is_a_config_change() {
        let real: FaultCodes = serde_json::from_str(r#"{"session":[31],"internal":[3]}"#).unwrap();
        let err = run(&real, &row("", 200, reply(31, "x"), None)).unwrap();
        assert_eq!(err.kind(), &ErrorKind::Unauthorized);
        let err = run(&real, &row("", 200, reply(3, "x"), None)).unwrap();
        assert_eq!(err.kind(), &ErrorKind::Unavailable);
    }

    #[test]
    fn the_fault_text_never_decides_only_the_code() {
        // The same Polish text under two codes gives two kinds; two texts under one code, one.
        let a = run(&FaultCodes::default(), &row("", 200, reply(7, "Koszyk jest pusty"), None)).unwrap();
        let b = run(&FaultCodes::default(), &row("", 200, reply(9, "Koszyk jest pusty"), None)).unwrap();
        let c = run(&FaultCodes::default(), &row("", 200, reply(10, "Insufficient stock"), None)).unwrap();
        assert_eq!((a.kind(), b.kind()), (&ErrorKind::Rejected, &ErrorKind::Rejected));
        assert_eq!(a.vendor_code(), Some("7"));
        assert_eq!(c.kind(), &ErrorKind::Conflict);
    }

    #[test]
    fn long_vendor_text_is_truncated() {
        let long = "x".repeat(1000);
        let err = run(&FaultCodes::default(), &row("", 200, reply(7, &long), None)).unwrap();
        assert!(err.message().len() < 300, "{}", err.message().len());
    }

    #[test]
    fn a_quoted_key_or_digest_in_fault_text_is_redacted() {
        let key = "c191b89132502577a63cfa7517dfa5380f6441c4";
        let text =
            format!("bad <systemKey>{}</systemKey> from 20240315{key}; order 12345 ok", key.to_uppercase());
        assert_eq!(
            fault_text(&text),
            "bad <systemKey>[redacted]</systemKey> from [redacted]; order 12345 ok"
        );
        let fault = format!("<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>cannot handle {key}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>");
        for body in [fault, reply(1, &format!("login refused for {key}"))] {
            let err = run(&FaultCodes::default(), &row("", 200, body, None)).unwrap();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(key) && shown.contains("[redacted]"), "{shown}");
        }
    }
}
