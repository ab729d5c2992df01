//! One request to a vendor, described as data.

use std::fmt;
use std::sync::Arc;

use loyalty_core::Error;
use reqwest::Method;

use crate::auth::Credentials;
use crate::secret::Secret;

/// How a call may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A read (GET-like): retried on any temporary error, within the caps, and repeated once
    /// with fresh credentials after a 401.
    Read,
    /// A write: retried only when the error says it was not sent or was refused before the
    /// vendor acted ([`loyalty_core::WriteEffect::NotSent`],
    /// [`loyalty_core::WriteEffect::RejectedBeforeActing`]). A 401 is repeated once with fresh
    /// credentials on the same condition, never when the classifier marks it
    /// [`loyalty_core::WriteEffect::Unknown`].
    Write,
    /// A write carrying an idempotency key the vendor honours: retried (and repeated after a
    /// 401) like a read.
    IdempotentWrite,
    /// A write the vendor may act on even when it answers a refusal the transport would
    /// otherwise take as "try again" (a charge behind a rate limiter, as eManage's checkout):
    /// retried only when it was never sent ([`loyalty_core::WriteEffect::NotSent`], a connect
    /// error or missing credentials). A 429, a 401 or any other answer goes to the caller, who
    /// decides when to repeat it (after a 401 the credentials it used are forgotten, so the
    /// caller's repeat carries fresh ones).
    Unsent,
}

/// Builds a request body from the credentials of one attempt (see [`Body::Built`]).
///
/// The closure must be pure: it is called once per attempt, and again after a
/// re-authentication, with that attempt's [`Credentials`].
#[derive(Clone)]
pub struct BodyBuilder(Arc<BuildFn>);

type BuildFn = dyn Fn(&Credentials) -> Result<Vec<u8>, Error> + Send + Sync;

impl BodyBuilder {
    /// Wraps a builder.
    pub fn new(build: impl Fn(&Credentials) -> Result<Vec<u8>, Error> + Send + Sync + 'static) -> Self {
        BodyBuilder(Arc::new(build))
    }

    /// Builds the body for `credentials`.
    ///
    /// # Errors
    /// Whatever the closure refuses (say, no session key to put in the body).
    pub fn build(&self, credentials: &Credentials) -> Result<Vec<u8>, Error> {
        (self.0)(credentials)
    }
}

impl fmt::Debug for BodyBuilder {
    // The closure may capture secrets (a vendor key it writes into the body): never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BodyBuilder(..)")
    }
}

impl PartialEq for BodyBuilder {
    /// Two builders are equal when they are the same closure.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The request body. Its `Debug` shows the kind and size, never the content (a form or a raw
/// body may carry a secret: a client secret, IdoSell's system key).
#[derive(Clone, PartialEq)]
pub enum Body {
    /// No body.
    Empty,
    /// A JSON document (`Content-Type: application/json`).
    Json(serde_json::Value),
    /// A JSON document already serialised, sent as it is (`Content-Type: application/json`):
    /// for bodies serialised straight from typed wire structs, with no `serde_json::Value` in
    /// between (see [`Call::json_bytes`]).
    JsonBytes(Vec<u8>),
    /// Form fields (`Content-Type: application/x-www-form-urlencoded`).
    Form(Vec<(String, String)>),
    /// Bytes sent as they are, with their content type.
    Raw {
        /// The `Content-Type` header value.
        content_type: String,
        /// The body.
        bytes: Vec<u8>,
    },
    /// Bytes built anew for every attempt from that attempt's [`Credentials`], for vendors
    /// that carry a credential inside the body (IdoSell's `sessionKey` in the SOAP request):
    /// after a re-authentication the replay carries the fresh credential, never the stale one.
    /// The size limit is checked on every built body, before it is sent.
    Built {
        /// The `Content-Type` header value.
        content_type: String,
        /// Writes the body.
        build: BodyBuilder,
    },
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Json(_) => f.write_str("Json(..)"),
            Body::JsonBytes(b) => write!(f, "JsonBytes({} bytes)", b.len()),
            Body::Form(fields) => f
                .debug_tuple("Form")
                .field(&fields.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>())
                .finish(),
            Body::Raw { content_type, bytes } => {
                write!(f, "Raw {{ content_type: {content_type:?}, {} bytes }}", bytes.len())
            }
            Body::Built { content_type, .. } => write!(f, "Built {{ content_type: {content_type:?} }}"),
        }
    }
}

/// One request to a vendor: operation label, method, path, query, headers, body and retry class.
///
/// ```
/// use loyalty_http::{encode_segment, Call, Retry};
///
/// let call = Call::post("members.find", format!("/stores/{}/members/search", encode_segment("s 1")))
///     .query("phone", "+4791234567")
///     .json(serde_json::json!({ "phone": "91234567" }))
///     .retry(Retry::IdempotentWrite);
/// assert_eq!(call.path, "/stores/s%201/members/search");
/// ```
#[non_exhaustive]
#[derive(Clone)]
pub struct Call {
    /// The operation label, `<trait>.<method>` (`"members.find"`), used in errors and spans.
    pub operation: String,
    /// The HTTP method.
    pub method: Method,
    /// Appended to the base URL's path. Segments must already be encoded with
    /// [`encode_segment`]; existing `%XX` escapes are kept as they are. A segment that is `.`
    /// or `..` (also spelled `%2E`, any case) is refused before sending: URL resolution would
    /// drop it and send the call to another resource (an id `..` turning
    /// `/stores/S/members/../coupons` into the store's catalogue).
    pub path: String,
    /// Query pairs, percent-encoded when sent (`+` becomes `%2B`, a space `+`).
    pub query: Vec<(String, String)>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// How the call may be retried.
    pub retry: Retry,
    /// Names of headers (among [`Call::headers`]) whose values are secret: marked sensitive so
    /// neither tracing nor `Debug` of the request prints them.
    pub sensitive_headers: Vec<String>,
    /// Credentials this call carries where the transport cannot see them (a key written into a
    /// raw body): replaced by `[redacted]` in a reply before the classifier reads it, with the
    /// attempt's own credentials and sensitive headers, so a vendor echoing the request never
    /// puts them into an error.
    pub secrets: Vec<Secret>,
}

impl fmt::Debug for Call {
    /// Sensitive header values are shown as `[redacted]`; the body as its kind and size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let secret = self.sensitive_headers.iter().any(|s| s.eq_ignore_ascii_case(k));
                (k.as_str(), if secret { "[redacted]" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("Call")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body", &self.body)
            .field("retry", &self.retry)
            .finish()
    }
}

impl Call {
    /// A call with `method`; reads (GET, HEAD) default to [`Retry::Read`], everything else to
    /// [`Retry::Write`].
    pub fn new(method: Method, operation: impl Into<String>, path: impl Into<String>) -> Call {
        let retry = if method == Method::GET || method == Method::HEAD { Retry::Read } else { Retry::Write };
        Call {
            operation: operation.into(),
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::Empty,
            retry,
            sensitive_headers: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// A GET, retried as a read.
    pub fn get(operation: impl Into<String>, path: impl Into<String>) -> Call {
        Call::new(Method::GET, operation, path)
    }

    /// A POST, retried as a write unless [`Call::retry`] says otherwise.
    pub fn post(operation: impl Into<String>, path: impl Into<String>) -> Call {
        Call::new(Method::POST, operation, path)
    }

    /// A PUT, retried as a write unless [`Call::retry`] says otherwise.
    pub fn put(operation: impl Into<String>, path: impl Into<String>) -> Call {
        Call::new(Method::PUT, operation, path)
    }

    /// A DELETE, retried as a write unless [`Call::retry`] says otherwise.
    pub fn delete(operation: impl Into<String>, path: impl Into<String>) -> Call {
        Call::new(Method::DELETE, operation, path)
    }

    /// Adds a query pair (given unencoded).
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a header whose value is secret (an API key): it is marked sensitive when sent.
    pub fn sensitive_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.sensitive_headers.push(name.clone());
        self.headers.push((name, value.into()));
        self
    }

    /// Names a credential the call carries in its body or path ([`Call::secrets`]), so a
    /// reply echoing it is redacted before it is classified.
    pub fn secret(mut self, secret: &Secret) -> Self {
        self.secrets.push(secret.clone());
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, value: serde_json::Value) -> Self {
        self.body = Body::Json(value);
        self
    }

    /// Sets a JSON body already serialised (`serde_json::to_vec` of a wire struct), sent as it
    /// is with `Content-Type: application/json`.
    pub fn json_bytes(mut self, bytes: Vec<u8>) -> Self {
        self.body = Body::JsonBytes(bytes);
        self
    }

    /// Sets a form body.
    pub fn form<K: Into<String>, V: Into<String>>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        self.body = Body::Form(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
        self
    }

    /// Sets a raw body with its content type.
    pub fn raw(mut self, content_type: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Raw { content_type: content_type.into(), bytes: bytes.into() };
        self
    }

    /// Sets a body written per attempt from the attempt's credentials ([`Body::Built`]).
    pub fn built(
        mut self,
        content_type: impl Into<String>,
        build: impl Fn(&Credentials) -> Result<Vec<u8>, Error> + Send + Sync + 'static,
    ) -> Self {
        self.body = Body::Built { content_type: content_type.into(), build: BodyBuilder::new(build) };
        self
    }

    /// Sets how the call may be retried.
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }
}

/// The first segment of `path` that URL resolution would remove or climb with: `.` or `..`
/// after percent-decoding (`%2e`, `.%2E`, `%2E%2e`…). A backslash separates segments too, as
/// it does in http URLs.
pub(crate) fn dot_segment(path: &str) -> Option<&'static str> {
    path.split(['/', '\\']).find_map(|segment| {
        if segment.len() > 6 || !segment.starts_with(['.', '%']) {
            return None;
        }
        match segment.to_ascii_lowercase().replace("%2e", ".").as_str() {
            "." => Some("."),
            ".." => Some(".."),
            _ => None,
        }
    })
}

/// Percent-encodes one path segment: RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) are
/// kept, every other byte of the UTF-8 form becomes `%XX`, `/` and `%` included. A segment
/// of `.` or `..` stays as it is, and the client refuses to send a path holding it (see
/// [`Call::path`]).
///
/// ```
/// assert_eq!(loyalty_http::encode_segment("a/b c%+"), "a%2Fb%20c%25%2B");
/// ```
pub fn encode_segment(segment: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(segment.len());
    for &byte in segment.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0x0f)] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_sensitive_header_or_a_body() {
        let call = Call::post("session.open", "/x")
            .sensitive_header("X-Api-Key", "s3cr3t-key")
            .header("Accept", "text/xml")
            .form(vec![("client_secret".to_string(), "s3cr3t-form".to_string())]);
        let shown = format!("{call:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(
            shown.contains("[redacted]") && shown.contains("text/xml") && shown.contains("client_secret")
        );
        let raw =
            Body::Raw { content_type: "text/xml".into(), bytes: b"<systemKey>s3cr3t</systemKey>".to_vec() };
        assert_eq!(format!("{raw:?}"), "Raw { content_type: \"text/xml\", 29 bytes }");
    }

    #[test]
    fn encode_segment_keeps_unreserved_and_encodes_utf8_bytes() {
        assert_eq!(encode_segment("Az09-._~"), "Az09-._~");
        assert_eq!(encode_segment("ø"), "%C3%B8");
        assert_eq!(encode_segment("?#"), "%3F%23");
    }

    #[test]
    fn dot_segments_are_found_in_any_spelling() {
        for path in
            ["/a/../b", "/a/./b", "/a/..", "..", "/m/%2E%2E/c", "/m/%2e./c", "/m/.%2E", "/m/%2E", "/a\\..\\b"]
        {
            assert!(dot_segment(path).is_some(), "{path}");
        }
        for path in ["/a/b", "/a/.../b", "/a/..b/c", "/a/%2E%2E%2E", "/a/.hidden", "/a/%2F..", "", "/"] {
            assert_eq!(dot_segment(path), None, "{path}");
        }
    }

    #[test]
    fn reads_default_to_read_retry_and_writes_to_write_retry() {
        assert_eq!(Call::get("a.b", "/x").retry, Retry::Read);
        assert_eq!(Call::post("a.b", "/x").retry, Retry::Write);
        assert_eq!(Call::put("a.b", "/x").retry, Retry::Write);
        assert_eq!(Call::delete("a.b", "/x").retry, Retry::Write);
    }
}
