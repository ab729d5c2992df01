//! RFC 9457 problem details carrying the core error's kind, temporary flag and write effect.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use loyalty_core::form::FieldError;
use loyalty_core::{Error, ErrorKind, WriteEffect};
use serde::{Deserialize, Serialize};

use crate::text::safe_text;

/// The media type of a problem.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem: what went wrong, in the shape of RFC 9457 plus the bridge's own members.
///
/// Its texts (`detail`, `field`, `reason`, `errors`) echo values from the request, so control
/// and other non-printing characters in them are escaped (`\u{1b}`), a value longer than 80
/// characters is cut with `…`, and each text is at most 1,000 characters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:loyalty-bridge:problem:<kind>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:loyalty-bridge:problem:not_found")]
    pub type_uri: String,
    /// A short human title of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened here, readable by a support desk (never a secret).
    pub detail: String,
    /// The core error kind (`not_found`, `invalid`, …), or `unauthorized` for a missing API key.
    pub kind: String,
    /// Whether the same request may succeed later.
    pub temporary: bool,
    /// Whether a write may have reached the vendor: `not_sent`, `rejected_before_acting`,
    /// `unknown` (reconcile before acting again).
    pub effect: String,
    /// Who answered (`diller`, `checkout`, `serve`).
    pub provider: String,
    /// The operation (`members.register`, `checkout.commit`).
    pub operation: String,
    /// For `invalid`: the offending field.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    /// For `invalid`: why.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// For a refused registration form: every refused field.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldError>,
    /// Seconds to wait, rounded up, for `rate_limited` (also sent as `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retry_after: Option<u64>,
}

fn effect_label(effect: WriteEffect) -> &'static str {
    match effect {
        WriteEffect::NotSent => "not_sent",
        WriteEffect::RejectedBeforeActing => "rejected_before_acting",
        WriteEffect::Unknown => "unknown",
    }
}

/// The HTTP status a core error kind answers with.
pub fn status_of(kind: &ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Invalid { .. } | ErrorKind::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Conflict | ErrorKind::Ambiguous | ErrorKind::Expired => StatusCode::CONFLICT,
        ErrorKind::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unsupported => StatusCode::NOT_IMPLEMENTED,
        // The vendor refused our credentials or answered nonsense: a bad gateway, not the
        // caller's fault (the caller's own key is checked before any of this).
        ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::Protocol => StatusCode::BAD_GATEWAY,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn title_of(label: &str) -> String {
    let mut t = label.replace('_', " ");
    if let Some(first) = t.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    t
}

impl Problem {
    /// A problem of the service itself (bad header, missing key), not of a provider.
    pub fn service(status: StatusCode, kind: &str, operation: &str, detail: impl Into<String>) -> Problem {
        Problem {
            type_uri: format!("urn:loyalty-bridge:problem:{kind}"),
            title: title_of(kind),
            status: status.as_u16(),
            detail: safe_text(&detail.into()),
            kind: kind.to_string(),
            temporary: false,
            effect: effect_label(WriteEffect::NotSent).to_string(),
            provider: "serve".to_string(),
            operation: operation.to_string(),
            field: None,
            reason: None,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// A request the service could not read: `invalid`, naming the field.
    pub fn invalid(status: StatusCode, operation: &str, field: &str, reason: impl Into<String>) -> Problem {
        let (field, reason) = (safe_text(field), safe_text(&reason.into()));
        let mut p = Problem::service(status, "invalid", operation, format!("{field}: {reason}"));
        p.field = Some(field);
        p.reason = Some(reason);
        p
    }

    /// The status as a code.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Adds a refused form's field errors, their texts made safe as the problem's own.
    pub(crate) fn with_errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = errors
            .into_iter()
            .map(|mut e| {
                e.field = safe_text(&e.field);
                e.reason = safe_text(&e.reason);
                e
            })
            .collect();
        self
    }
}

impl From<&Error> for Problem {
    fn from(e: &Error) -> Problem {
        let kind = e.kind();
        let status = status_of(kind);
        let label = kind.label();
        let (field, reason) = match kind {
            ErrorKind::Invalid { field, reason } => (Some(safe_text(field)), Some(safe_text(reason))),
            _ => (None, None),
        };
        Problem {
            type_uri: format!("urn:loyalty-bridge:problem:{label}"),
            title: title_of(label),
            status: status.as_u16(),
            detail: safe_text(&e.to_string()),
            kind: label.to_string(),
            temporary: e.is_temporary(),
            effect: effect_label(e.effect()).to_string(),
            provider: e.provider().to_string(),
            operation: e.operation().to_string(),
            field,
            reason,
            errors: Vec::new(),
            // Rounded up: a client told 29 for a 29.6 s wait comes back too early.
            retry_after: e
                .retry_after()
                .map(|d| d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0)).max(1)),
        }
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Problem {
        Problem::from(&e)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let retry = self.retry_after;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = retry {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
