//! Turning a vendor reply into success or an [`Error`]: the input, the adapter-supplied
//! [`Classifier`], a [`default_classify`] for plain REST vendors and [`parse_retry_after`].

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use loyalty_core::{Error, ErrorKind, WriteEffect};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::Method;

/// Classifies a reply: `None` for a success, the error otherwise.
///
/// Each adapter supplies one, a pure function (no I/O, no clock: `now` is in the input). It is
/// called for every reply, 2xx included, so vendors that report errors inside a 200 envelope are
/// classified in the same place. It alone decides kind, temporary flag, write effect and
/// `retry_after`.
pub type Classifier = Arc<dyn Fn(&ClassifyInput<'_>) -> Option<Error> + Send + Sync>;

/// What a [`Classifier`] sees of one reply.
#[derive(Debug, Clone, Copy)]
pub struct ClassifyInput<'a> {
    /// The provider's name, for the error.
    pub provider: &'a str,
    /// The operation label, for the error.
    pub operation: &'a str,
    /// The request method.
    pub method: &'a Method,
    /// The HTTP status.
    pub status: u16,
    /// The reply headers.
    pub headers: &'a HeaderMap,
    /// The reply body.
    pub body: &'a [u8],
    /// The current time, for `Retry-After` dates.
    pub now: DateTime<Utc>,
}

/// Reads `Retry-After` as delay seconds or an HTTP date (IMF-fixdate, RFC 850 or asctime).
///
/// Delay seconds have no upper bound (RFC 9110: `1*DIGIT`): more than a `u64` holds is read as
/// `u64::MAX` seconds, a wait no call outlives, never as no header (which would retry at
/// once against the vendor's word). A date in the past gives zero; a missing or unreadable
/// header gives `None`.
pub fn parse_retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: only an overflow makes the parse fail.
        return Some(Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = DateTime::parse_from_rfc2822(value).map(|d| d.with_timezone(&Utc)).ok().or_else(|| {
        ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
            .map(|naive| naive.and_utc())
    })?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// A classifier for vendors that speak plain HTTP status codes.
///
/// | status | kind | temporary | effect |
/// | --- | --- | --- | --- |
/// | 2xx | success (`None`) | | |
/// | 400, 422 | `Invalid { field: "body" }` | no | rejected before acting |
/// | 401 | `Unauthorized` | no | rejected before acting |
/// | 403 | `Forbidden` | no | rejected before acting |
/// | 404 | `NotFound` | no | rejected before acting |
/// | 409 | `Conflict` | no | rejected before acting |
/// | 429 | `RateLimited { retry_after }` | yes | rejected before acting |
/// | 408, 500, 502, 503, 504 | `Unavailable` | yes | unknown |
/// | other 5xx | `Unavailable` | no | unknown |
/// | anything else | `Protocol` | no | unknown |
///
/// The message names the status only: vendor bodies are never echoed.
pub fn default_classify(input: &ClassifyInput<'_>) -> Option<Error> {
    let status = input.status;
    let new = |kind| Error::new(kind, input.provider, input.operation).with_message(format!("HTTP {status}"));
    let err = match status {
        200..=299 => return None,
        400 | 422 => {
            new(ErrorKind::Invalid { field: "body".into(), reason: format!("refused with HTTP {status}") })
        }
        401 => new(ErrorKind::Unauthorized),
        403 => new(ErrorKind::Forbidden),
        404 => new(ErrorKind::NotFound),
        409 => new(ErrorKind::Conflict),
        429 => new(ErrorKind::RateLimited { retry_after: parse_retry_after(input.headers, input.now) }),
        408 | 500 | 502 | 503 | 504 => {
            new(ErrorKind::Unavailable).with_temporary(true).with_effect(WriteEffect::Unknown)
        }
        500..=599 => new(ErrorKind::Unavailable).with_temporary(false).with_effect(WriteEffect::Unknown),
        _ => new(ErrorKind::Protocol).with_temporary(false).with_effect(WriteEffect::Unknown),
    };
    Some(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2015, 10, 21, 7, 28, 0).unwrap()
    }

    fn retry_after(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        parse_retry_after(&headers, now())
    }

    #[test]
    fn retry_after_reads_delay_seconds() {
        assert_eq!(retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 0 "), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_beyond_u64_saturates() {
        assert_eq!(retry_after("18446744073709551615"), Some(Duration::from_secs(u64::MAX)));
        assert_eq!(retry_after("18446744073709551616"), Some(Duration::from_secs(u64::MAX)));
        assert_eq!(retry_after("100000000000000000000000000000"), Some(Duration::from_secs(u64::MAX)));
    }

    #[test]
    fn retry_after_reads_http_dates_relative_to_now() {
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:30 GMT"), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("Wednesday, 21-Oct-15 07:29:00 GMT"), Some(Duration::from_secs(60)));
        assert_eq!(retry_after("Wed Oct 21 07:28:05 2015"), Some(Duration::from_secs(5)));
    }

    #[test]
    fn retry_after_date_in_the_past_is_zero() {
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:00:00 GMT"), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_garbage_or_missing_is_none() {
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("-5"), None);
        assert_eq!(retry_after("1.5"), None);
        assert_eq!(retry_after("+5"), None);
        assert_eq!(retry_after("99999999999999999999x"), None);
        assert_eq!(parse_retry_after(&HeaderMap::new(), now()), None);
    }

    #[test]
    fn default_classify_table() {
        use WriteEffect::*;
        let mut limited = HeaderMap::new();
        limited.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        let empty = HeaderMap::new();
        // (status, headers, method, expected kind label, temporary, effect, retry_after seconds)
        type Row<'a> = (u16, &'a HeaderMap, Method, &'a str, bool, WriteEffect, Option<u64>);
        let rows: &[Row<'_>] = &[
            (400, &empty, Method::POST, "invalid", false, RejectedBeforeActing, None),
            (422, &empty, Method::POST, "invalid", false, RejectedBeforeActing, None),
            (401, &empty, Method::GET, "unauthorized", false, RejectedBeforeActing, None),
            (403, &empty, Method::GET, "forbidden", false, RejectedBeforeActing, None),
            (404, &empty, Method::GET, "not_found", false, RejectedBeforeActing, None),
            (409, &empty, Method::POST, "conflict", false, RejectedBeforeActing, None),
            (429, &limited, Method::POST, "rate_limited", true, RejectedBeforeActing, Some(7)),
            (429, &empty, Method::GET, "rate_limited", true, RejectedBeforeActing, None),
            (408, &empty, Method::GET, "unavailable", true, Unknown, None),
            (500, &empty, Method::POST, "unavailable", true, Unknown, None),
            (502, &empty, Method::GET, "unavailable", true, Unknown, None),
            (503, &empty, Method::POST, "unavailable", true, Unknown, None),
            (504, &empty, Method::GET, "unavailable", true, Unknown, None),
            // 501 Not Implemented will not start working by itself.
            (501, &empty, Method::GET, "unavailable", false, Unknown, None),
            // A redirect was not followed (redirects are off): the vendor moved, not our problem to guess.
            (302, &empty, Method::GET, "protocol", false, Unknown, None),
            (418, &empty, Method::GET, "protocol", false, Unknown, None),
        ];
        for (status, headers, method, label, temporary, effect, retry_after) in rows {
            let input = ClassifyInput {
                provider: "p",
                operation: "members.find",
                method,
                status: *status,
                headers,
                body: b"{\"secret\":\"do not echo\"}",
                now: now(),
            };
            let err = default_classify(&input).unwrap_or_else(|| panic!("{status} classified as success"));
            assert_eq!(err.kind().label(), *label, "status {status}");
            assert_eq!(err.is_temporary(), *temporary, "status {status}");
            assert_eq!(err.effect(), *effect, "status {status}");
            assert_eq!(err.retry_after(), retry_after.map(Duration::from_secs), "status {status}");
            assert!(!err.to_string().contains("do not echo"), "status {status}");
        }
        for status in [200, 201, 204] {
            let input = ClassifyInput {
                provider: "p",
                operation: "o",
                method: &Method::GET,
                status,
                headers: &empty,
                body: b"",
                now: now(),
            };
            assert!(default_classify(&input).is_none(), "status {status}");
        }
    }
}
