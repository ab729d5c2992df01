//! The pooled client that sends [`Call`]s with auth, timeouts, classification and retries.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use loyalty_core::{Context, Error, ErrorKind, WriteEffect};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use tokio::time::Instant;
use tracing::Instrument;
use url::{Host, Url};

use bytes::Bytes;

use crate::auth::{Auth, Credentials, ReadyCredentials};
use crate::call::{dot_segment, Body, BodyBuilder, Call, Retry};
use crate::classify::{Classifier, ClassifyInput};
use crate::config::HttpConfig;
use crate::excerpt::{body_excerpt, redact_bytes, redact_error};
use crate::response::Response;

/// Sends calls to one provider: one pooled `reqwest` client (rustls), its auth strategy and its
/// classifier. Cheap to clone (the state is shared).
///
/// # Behaviour of [`HttpClient::send`]
/// - A path with a `.` or `..` segment (percent-encoded or not) is refused with
///   `Invalid { field: "path" }` and effect `NotSent`, before any I/O: the URL would resolve
///   it and reach another resource (an id of `..` climbing out of the member it names).
/// - The body is serialised first; one bigger than `max_request_bytes` is refused with
///   `Invalid { field: "body" }` and effect `NotSent`, before any I/O. A [`Body::Built`] body
///   is built for every attempt from that attempt's [`Credentials`] and checked the same way
///   before it is sent.
/// - Each attempt (connect, send, read the whole reply) is bounded by `attempt_timeout`; the
///   call as a whole by `max_elapsed` and by the context's deadline. Obtaining credentials
///   counts against both; when it leaves nothing (under 1 ms), no attempt is made and the call
///   fails `Unavailable` with effect `NotSent` (or the earlier attempt's error).
/// - The classifier sees every reply; `None` means success. When it finds an error and the
///   reply quotes a credential of the attempt (a header value, the token inside it, the body
///   token, a sensitive header, a [`Call::secret`], a base path marked secret), in any
///   spelling [`crate::redact`] finds (JSON, XML or percent escapes, `\/` included), the reply
///   is classified again with every such credential replaced by `[redacted]`, so no error, log
///   line or problem detail built from vendor text carries it. The error the classifier
///   returns is then cleared of them as well ([`crate::redact_error`]); should the cleared
///   reply pass for a success, the first verdict is kept with a message quoting the cleared
///   reply instead of its own.
/// - Retries (exponential backoff with jitter, at most `max_attempts` attempts) happen only for
///   temporary errors, and for [`Retry::Write`] only when the error's effect is `NotSent` or
///   `RejectedBeforeActing`. A `Retry-After` is honoured even beyond `max_backoff`; when the wait
///   would pass the deadline or `max_elapsed`, the call fails at once with that error.
/// - A 401 (`Unauthorized` from the classifier: also a vendor's session fault inside a 200)
///   invalidates the credentials the attempt used ([`Auth::invalidate_used`]), so the next
///   call gets fresh ones. The call itself is repeated once with fresh credentials when its
///   retry class allows it for the 401's effect, as for a retry but whatever the temporary
///   flag: a [`Retry::Read`] or [`Retry::IdempotentWrite`] always; a [`Retry::Write`] when the
///   effect is `NotSent` or `RejectedBeforeActing` and no earlier attempt may have reached the
///   vendor (a classifier marking the 401 `Unknown` keeps the write from being sent twice); a
///   [`Retry::Unsent`] call only when the effect is `NotSent`, so a 401 answer goes to the
///   caller like any other. The repeat does not count against the backoff schedule, but is
///   counted in the attempts; a second 401 is returned. A built body is rebuilt for the
///   repeat, so it carries the fresh credentials.
/// - The final error keeps the last cause and the number of attempts.
/// - Redirects are never followed: a 3xx reaches the classifier.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    provider: String,
    config: HttpConfig,
    /// The base URL's path without its trailing `/`, computed once.
    base_path: String,
    auth: Arc<dyn Auth>,
    classify: Classifier,
    client: reqwest::Client,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("provider", &self.inner.provider)
            .field("base_url", &self.inner.config.shown_base_url())
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

/// Less than this left of the call's budget once credentials are in hand: no attempt is made.
const MIN_ATTEMPT_BUDGET: Duration = Duration::from_millis(1);

/// A call's body as the attempts send it: fixed bytes (shared by the attempts, never copied),
/// or built per attempt.
enum Prepared {
    None,
    Bytes(Bytes),
    Built(BodyBuilder),
}

/// Where an attempt failed: getting credentials (nothing sent) or the exchange itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Credentials,
    Exchange,
}

impl HttpClient {
    /// A client for `provider` (named in errors and spans).
    ///
    /// # Errors
    /// `Invalid { field: "base_url" }` when the base URL is not https (plain http is allowed for
    /// loopback hosts only) or cannot take a path; `Invalid { field: "default_headers.<name>" }`
    /// for a default header that cannot be sent; `Invalid` naming the setting for a zero
    /// timeout, zero attempts or a minimum backoff above the maximum; `Unavailable` when the TLS
    /// client cannot be built.
    pub fn new(
        provider: impl Into<String>,
        config: HttpConfig,
        auth: Arc<dyn Auth>,
        classify: Classifier,
    ) -> Result<HttpClient, Error> {
        let provider = provider.into();
        let invalid =
            |field: &str, reason: &str| Error::invalid(provider.as_str(), "http.new", field, reason);
        check_base_url(&config.base_url).map_err(|reason| invalid("base_url", reason))?;
        if config.attempt_timeout.is_zero() {
            return Err(invalid("attempt_timeout", "must be above zero"));
        }
        if config.max_elapsed.is_zero() {
            return Err(invalid("max_elapsed", "must be above zero"));
        }
        if config.max_attempts == 0 {
            return Err(invalid("max_attempts", "must be at least 1"));
        }
        if config.min_backoff > config.max_backoff {
            return Err(invalid("min_backoff", "must not exceed max_backoff"));
        }
        if HeaderValue::from_str(&config.user_agent).is_err() {
            return Err(invalid("user_agent", "not a valid header value (visible ASCII only)"));
        }
        let mut defaults = HeaderMap::with_capacity(config.default_headers.len());
        for (name, value) in &config.default_headers {
            let field = format!("default_headers.{name}");
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(&field, "not a valid header name"))?;
            let value =
                HeaderValue::from_str(value).map_err(|_| invalid(&field, "not a valid header value"))?;
            defaults.append(name, value);
        }
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            // Added to a request only where it has no header of that name.
            .default_headers(defaults)
            // Never follow redirects: a redirected POST may be replayed as a GET elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            // A connect that fails within this bound is known not to have sent anything.
            .connect_timeout(config.attempt_timeout / 2)
            .build()
            .map_err(|err| {
                Error::new(ErrorKind::Unavailable, provider.as_str(), "http.new")
                    .with_temporary(false)
                    .with_effect(WriteEffect::NotSent)
                    .with_message(format!("cannot build the HTTP client: {}", error_chain(&err)))
            })?;
        let base_path = config.base_url.path().trim_end_matches('/').to_owned();
        Ok(HttpClient { inner: Arc::new(Inner { provider, config, base_path, auth, classify, client }) })
    }

    /// The pooled `reqwest` client (for auth strategies and session sources).
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// The transport settings.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// The provider's name.
    pub fn provider(&self) -> &str {
        &self.inner.provider
    }

    /// Sends `call`, retrying as its [`Retry`] class allows, and returns the reply the
    /// classifier accepted. A 401 is repeated once with fresh credentials only where the class
    /// allows it for the 401's effect (see [`HttpClient`]): never for a [`Retry::Unsent`] call
    /// the vendor answered, nor for a write whose 401 may have come after the vendor acted.
    ///
    /// # Errors
    /// The classifier's error for the last reply, or: `Invalid { field: "body" }` (`NotSent`) for
    /// an oversized body; `Unavailable` for a transport failure (`NotSent` when the connection
    /// was never made, `Unknown` for a timeout or broken reply); the auth strategy's error
    /// (effect `NotSent`) when credentials cannot be obtained. When an earlier attempt's outcome
    /// is unknown, the error's effect is `Unknown` whatever the last attempt's. The error carries
    /// the number of attempts made.
    pub async fn send(&self, ctx: &Context, call: Call) -> Result<Response, Error> {
        // DEBUG, as the per-attempt events inside it: a production subscriber (INFO or WARN)
        // does not pay for recording its fields on every call. Where it is recorded, the span
        // ends with the reply's status (or the attempts a failure took) and the latency. The
        // warnings below carry the provider and operation themselves, so they read alone.
        let span = tracing::debug_span!(
            "loyalty_http.call",
            provider = %self.inner.provider,
            operation = %call.operation,
            method = %call.method,
            path = %call.path,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        if span.is_disabled() {
            return self.send_in_span(ctx, call).await;
        }
        let started = Instant::now();
        let result = self.send_in_span(ctx, call).instrument(span.clone()).await;
        span.record("latency_ms", started.elapsed().as_millis() as u64);
        match &result {
            Ok(reply) => span.record("status", reply.status),
            Err(err) => span.record("attempts", err.attempts()),
        };
        result
    }

    async fn send_in_span(&self, ctx: &Context, mut call: Call) -> Result<Response, Error> {
        let config = &self.inner.config;
        if let Some(segment) = dot_segment(&call.path) {
            let reason = format!(
                "a path segment (an id) of \"{segment}\" would be resolved away and reach another resource"
            );
            return Err(self
                .error(&call, ErrorKind::Invalid { field: "path".into(), reason })
                .with_effect(WriteEffect::NotSent));
        }
        let (body, content_type) = self.serialise_body(&mut call)?;
        // The first attempt takes the URL and headers built here; a later one builds its own,
        // so a call answered at once never copies them.
        let mut first = Some((self.url(&call), self.call_headers(&call, content_type.clone())?));

        let started = Instant::now();
        // A max_elapsed too large to add means no bound of its own (the deadline may set one).
        let far = started + Duration::from_secs(100 * 365 * 24 * 3600);
        let mut end = started.checked_add(config.max_elapsed).map_or(far, |e| e.min(far));
        if let Some(deadline) = ctx.deadline {
            end = end.min(deadline);
        }
        let mut backoff = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(config.min_backoff)
            .with_max_delay(config.max_backoff)
            .with_max_times(config.max_attempts.saturating_sub(1) as usize)
            .build();
        let mut attempt = 0u32;
        let mut refreshed = false;
        let mut last: Option<Error> = None;
        // An earlier attempt that may have reached the vendor: a later failure that sent
        // nothing (credentials, a refused connection) must not report the call as unsent.
        let mut maybe_arrived = false;
        loop {
            let now = Instant::now();
            if now >= end {
                let err = self.out_of_time(&call, last.take(), "deadline passed before sending");
                return Err(may_have_arrived(err, maybe_arrived).with_attempts(attempt));
            }
            attempt += 1;
            // Obtaining credentials (a token or session another call may be fetching) counts
            // against the deadline too; the attempt gets what is left after it.
            let credentials = match self.inner.auth.ready() {
                Some(ready) => Ok(ready),
                None => {
                    match tokio::time::timeout(end - now, self.fetch_credentials(&call, ctx, end)).await {
                        Ok(c) => c,
                        Err(_) => Err(self
                            .error(&call, ErrorKind::Unavailable)
                            .with_effect(WriteEffect::NotSent)
                            .with_message("no credentials within the deadline; nothing was sent")),
                    }
                }
            };
            let (err, stage, used, asked_wait) = match credentials {
                Err(err) => (err, Stage::Credentials, None, None),
                Ok(ready) => {
                    let left = end.saturating_duration_since(Instant::now());
                    if left < MIN_ATTEMPT_BUDGET {
                        // Obtaining the credentials took the whole budget: an attempt now would
                        // time out at once, a write then reporting Unknown for a request that
                        // barely left. Nothing is sent instead.
                        let err = self.out_of_time(
                            &call,
                            last.take(),
                            "the deadline passed while obtaining credentials; nothing was sent",
                        );
                        return Err(may_have_arrived(err, maybe_arrived).with_attempts(attempt));
                    }
                    let budget = config.attempt_timeout.min(left);
                    let (url, headers) = match first.take() {
                        Some(built) => built,
                        None => match self.call_headers(&call, content_type.clone()) {
                            Ok(headers) => (self.url(&call), headers),
                            // Built once already, so this cannot fail; kept total all the same.
                            Err(err) => return Err(err.with_attempts(attempt)),
                        },
                    };
                    match self.attempt(&call, url, headers, &body, &ready, attempt, budget).await {
                        Ok(response) => return Ok(response),
                        Err((err, stage, wait)) => (err, stage, Some(ready), wait),
                    }
                }
            };
            maybe_arrived |= err.effect() == WriteEffect::Unknown;
            if stage == Stage::Exchange && *err.kind() == ErrorKind::Unauthorized && !refreshed {
                refreshed = true;
                let none = Credentials::default();
                let used = used.as_deref().map_or(&none, ReadyCredentials::credentials);
                // Forgotten either way, so the caller's own repeat gets fresh credentials; the
                // transport repeats the call only where its class allows it for this 401's effect.
                let fresh = self.inner.auth.invalidate_used(used).await;
                if fresh && may_replay(&err, call.retry, maybe_arrived) {
                    tracing::warn!(provider = %self.inner.provider, operation = %call.operation, attempt, cause = %err, "unauthorized; repeating once with fresh credentials");
                    last = Some(err);
                    continue;
                }
            }
            if !may_retry(&err, call.retry) {
                return Err(may_have_arrived(err, maybe_arrived).with_attempts(attempt));
            }
            let Some(delay) = backoff.next() else {
                return Err(may_have_arrived(err, maybe_arrived).with_attempts(attempt));
            };
            // Jitter may push backon's delay past its maximum; the vendor's Retry-After may not be cut.
            let asked = err.retry_after().max(asked_wait).unwrap_or_default();
            let wait = delay.min(config.max_backoff).max(asked);
            if Instant::now().checked_add(wait).is_none_or(|at| at >= end) {
                tracing::warn!(provider = %self.inner.provider, operation = %call.operation, attempt, wait_ms = wait.as_millis() as u64, cause = %err, "giving up: waiting would pass the deadline");
                return Err(may_have_arrived(err, maybe_arrived).with_attempts(attempt));
            }
            tracing::warn!(provider = %self.inner.provider, operation = %call.operation, attempt, wait_ms = wait.as_millis() as u64, cause = %err, "retrying");
            // Kept, so a wake-up past the deadline reports this attempt's outcome (it may have
            // been sent), not "nothing sent".
            last = Some(err);
            tokio::time::sleep(wait).await;
        }
    }

    /// The credentials of one attempt when the strategy has none ready (the caller asked
    /// `Auth::ready` first): fetched and converted. A failure means nothing was sent. The
    /// strategy sees the call's whole budget as its deadline (`end`: the context's deadline or
    /// `max_elapsed`, whichever comes first), so it can bound a token request or a login by it.
    async fn fetch_credentials(
        &self,
        call: &Call,
        ctx: &Context,
        end: Instant,
    ) -> Result<Arc<ReadyCredentials>, Error> {
        let bounded;
        let ctx = if ctx.deadline == Some(end) {
            ctx
        } else {
            bounded = ctx.clone().with_deadline(end);
            &bounded
        };
        let credentials = self
            .inner
            .auth
            .credentials(&self.inner.client, ctx)
            .await
            .map_err(|err| self.credentials_error(call, err))?;
        ReadyCredentials::new(credentials)
            .map(Arc::new)
            .map_err(|(name, reason)| self.invalid_header(call, &name, reason))
    }

    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        call: &Call,
        url: Url,
        mut headers: HeaderMap,
        body: &Prepared,
        credentials: &ReadyCredentials,
        attempt: u32,
        budget: Duration,
    ) -> Result<Response, (Error, Stage, Option<Duration>)> {
        for (name, value) in credentials.headers() {
            headers.insert(name.clone(), value.clone());
        }
        let mut request = self.inner.client.request(call.method.clone(), url).headers(headers);
        match body {
            Prepared::None => {}
            Prepared::Bytes(bytes) => request = request.body(bytes.clone()),
            Prepared::Built(build) => {
                // Built for this attempt's credentials; nothing is sent when it cannot be.
                let bytes = build.build(credentials.credentials()).map_err(|err| {
                    (
                        err.with_operation(call.operation.as_str()).with_effect(WriteEffect::NotSent),
                        Stage::Credentials,
                        None,
                    )
                })?;
                self.check_size(call, bytes.len()).map_err(|err| (err, Stage::Credentials, None))?;
                request = request.body(bytes);
            }
        }

        let started = Instant::now();
        let limit = self.inner.config.max_reply_bytes;
        let outcome = tokio::time::timeout(budget, async {
            let mut response = request.send().await.map_err(Read::Transport)?;
            let status = response.status().as_u16();
            // Taken, not cloned: reading the body does not need them.
            let headers = std::mem::take(response.headers_mut());
            let body = read_limited(response, limit).await?;
            Ok::<_, Read>((status, headers, body))
        })
        .await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let (status, headers, body) = match outcome {
            Err(_) => {
                tracing::debug!(attempt, latency_ms, "attempt timed out");
                let err = self
                    .error(call, ErrorKind::Unavailable)
                    .with_effect(WriteEffect::Unknown)
                    .with_message(format!("no complete reply within {} ms", budget.as_millis()));
                return Err((err, Stage::Exchange, None));
            }
            Ok(Err(Read::Transport(err))) => {
                let err = transport_error(&self.inner.provider, &call.operation, err);
                tracing::debug!(attempt, latency_ms, cause = %err, "attempt failed");
                return Err((err, Stage::Exchange, None));
            }
            Ok(Err(Read::TooLarge)) => {
                let err = self
                    .error(call, ErrorKind::Protocol)
                    .with_effect(WriteEffect::Unknown)
                    .with_message(format!("the reply is larger than {limit} bytes; it was not read"));
                tracing::debug!(attempt, latency_ms, cause = %err, "attempt failed");
                return Err((err, Stage::Exchange, None));
            }
            Ok(Ok(reply)) => reply,
        };
        tracing::debug!(attempt, status, latency_ms, "attempt answered");
        let input = ClassifyInput {
            provider: &self.inner.provider,
            operation: &call.operation,
            method: &call.method,
            status,
            headers: &headers,
            body: &body,
            now: self.inner.config.clock.now(),
        };
        match (self.inner.classify)(&input) {
            // Moved, not copied: a large reply is held once.
            None => Ok(Response { status, headers, body }),
            // A vendor's Retry-After is honoured on any refusal it comes with (a 503 during
            // maintenance too), not only on a 429.
            Some(err) => {
                let wait = crate::classify::parse_retry_after(&headers, input.now);
                let err = self.redacted(call, credentials.credentials(), &input, err);
                Err((err, Stage::Exchange, wait))
            }
        }
    }

    /// `err`, or when the reply quotes a credential of the attempt, the error of the same reply
    /// with every credential replaced, so vendor text quoted into the error never carries one.
    /// Either way the error's own text (message, vendor code, an `Invalid` reason) is cleared
    /// of them too, for a classifier that decodes a spelling the reply search missed. Only
    /// refusals pay for the search; success is always judged on the reply as sent.
    fn redacted(
        &self,
        call: &Call,
        credentials: &Credentials,
        input: &ClassifyInput<'_>,
        err: Error,
    ) -> Error {
        let mut secrets = attempt_secrets(call, credentials);
        if self.inner.config.secret_base_path {
            // A request line quoted back shows the base path, key and all.
            secrets.push(self.inner.base_path.clone());
        }
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let Some(body) = redact_bytes(input.body, &secrets) else {
            return redact_error(err, &secrets);
        };
        let again = ClassifyInput { body: &body, ..*input };
        match (self.inner.classify)(&again) {
            Some(clean) => redact_error(clean, &secrets),
            // Judged a success once cleared (a secret spelling part of the envelope): keep the
            // first verdict, its message rebuilt from the cleared reply. The first message was
            // cut already, and a secret the cut split would show its start.
            None => {
                let message = format!("HTTP {}: {}", input.status, body_excerpt(&body));
                redact_error(err.with_message(message), &secrets)
            }
        }
    }

    /// The error of a call whose time ran out before an attempt was sent: the last attempt's
    /// error when there was one (it may have been sent), else `Unavailable`, nothing sent.
    fn out_of_time(&self, call: &Call, last: Option<Error>, why: &str) -> Error {
        last.unwrap_or_else(|| {
            self.error(call, ErrorKind::Unavailable).with_effect(WriteEffect::NotSent).with_message(why)
        })
    }

    fn error(&self, call: &Call, kind: ErrorKind) -> Error {
        Error::new(kind, self.inner.provider.as_str(), call.operation.as_str())
    }

    /// The auth strategy's failure, as seen by the business call: nothing was sent.
    fn credentials_error(&self, call: &Call, err: Error) -> Error {
        let message = format!("obtaining credentials ({}) failed: {}", err.operation(), err.message());
        err.with_operation(call.operation.as_str()).with_effect(WriteEffect::NotSent).with_message(message)
    }

    /// The body as the attempts send it (moved out of the call, never copied) and its content
    /// type.
    fn serialise_body(&self, call: &mut Call) -> Result<(Prepared, Option<HeaderValue>), Error> {
        const JSON: HeaderValue = HeaderValue::from_static("application/json");
        let (bytes, content_type) = match std::mem::replace(&mut call.body, Body::Empty) {
            Body::Empty => return Ok((Prepared::None, None)),
            Body::Built { content_type, build } => {
                let content_type = self.header_value(call, CONTENT_TYPE.as_str(), &content_type)?;
                return Ok((Prepared::Built(build), Some(content_type)));
            }
            Body::Json(value) => {
                let bytes = serde_json::to_vec(&value).map_err(|err| {
                    self.error(call, ErrorKind::Invalid { field: "body".into(), reason: err.to_string() })
                        .with_effect(WriteEffect::NotSent)
                });
                (bytes?, JSON)
            }
            Body::JsonBytes(bytes) => (bytes, JSON),
            Body::Form(pairs) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.extend_pairs(&pairs);
                (form.finish().into_bytes(), HeaderValue::from_static("application/x-www-form-urlencoded"))
            }
            Body::Raw { content_type, bytes } => {
                // Size first, then the content type, as the checks have always run.
                self.check_size(call, bytes.len())?;
                let content_type = self.header_value(call, CONTENT_TYPE.as_str(), &content_type)?;
                return Ok((Prepared::Bytes(Bytes::from(bytes)), Some(content_type)));
            }
        };
        self.check_size(call, bytes.len())?;
        Ok((Prepared::Bytes(Bytes::from(bytes)), Some(content_type)))
    }

    /// Refuses a body over `max_request_bytes` (effect `NotSent`).
    fn check_size(&self, call: &Call, len: usize) -> Result<(), Error> {
        let limit = self.inner.config.max_request_bytes;
        if len > limit {
            return Err(self
                .error(
                    call,
                    ErrorKind::Invalid {
                        field: "body".into(),
                        reason: format!("request body is {len} bytes; the limit is {limit}"),
                    },
                )
                .with_effect(WriteEffect::NotSent));
        }
        Ok(())
    }

    /// The base URL with the call's path appended to its path (never replacing it) and the
    /// call's query pairs appended to its query.
    fn url(&self, call: &Call) -> Url {
        let mut url = self.inner.config.base_url.clone();
        let base = self.inner.base_path.as_str();
        let path = call.path.trim_start_matches('/');
        let mut joined = String::with_capacity(base.len() + 1 + path.len());
        joined.push_str(base);
        joined.push('/');
        joined.push_str(path);
        url.set_path(&joined);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        url
    }

    fn call_headers(&self, call: &Call, content_type: Option<HeaderValue>) -> Result<HeaderMap, Error> {
        // Room for the content type, the credentials and the client's defaults (user agent,
        // accept) that reqwest adds, so the map never grows on the way out.
        let mut headers = HeaderMap::with_capacity(call.headers.len() + 6);
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, content_type);
        }
        for (name, value) in &call.headers {
            let (name, mut value) = self.header(call, name, value)?;
            if call.sensitive_headers.iter().any(|s| s.eq_ignore_ascii_case(name.as_str())) {
                value.set_sensitive(true);
            }
            headers.append(name, value);
        }
        Ok(headers)
    }

    fn header(&self, call: &Call, name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| self.invalid_header(call, name, "not a valid header name"))?;
        Ok((header_name, self.header_value(call, name, value)?))
    }

    fn header_value(&self, call: &Call, name: &str, value: &str) -> Result<HeaderValue, Error> {
        // The value is not quoted: it may be a credential.
        HeaderValue::from_str(value).map_err(|_| self.invalid_header(call, name, "not a valid header value"))
    }

    fn invalid_header(&self, call: &Call, name: &str, reason: &str) -> Error {
        self.error(call, ErrorKind::Invalid { field: format!("headers.{name}"), reason: reason.into() })
            .with_effect(WriteEffect::NotSent)
    }
}

/// The credentials an attempt carries: each credential header's value and the token after its
/// scheme (`Bearer t`, and for `Basic` the decoded `user:password` and both halves: a user
/// name may be a key too, as SessionM's Core API key), the body token, the call's sensitive header values and its [`Call::secrets`].
fn attempt_secrets(call: &Call, credentials: &Credentials) -> Vec<String> {
    use base64::Engine as _;
    let mut secrets = Vec::new();
    for (_, value) in &credentials.headers {
        secrets.push(value.clone());
        if let Some((scheme, token)) = value.trim().split_once(' ') {
            let token = token.trim();
            secrets.push(token.to_owned());
            if scheme.eq_ignore_ascii_case("basic") {
                let decoded = base64::engine::general_purpose::STANDARD.decode(token).ok();
                if let Some(pair) = decoded.and_then(|d| String::from_utf8(d).ok()) {
                    if let Some((user, password)) = pair.split_once(':') {
                        secrets.push(user.to_owned());
                        secrets.push(password.to_owned());
                    }
                    secrets.push(pair);
                }
            }
        }
    }
    secrets.extend(credentials.body_token.iter().map(|t| t.expose().to_owned()));
    for (name, value) in &call.headers {
        if call.sensitive_headers.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            secrets.push(value.clone());
        }
    }
    secrets.extend(call.secrets.iter().map(|s| s.expose().to_owned()));
    secrets
}

/// Whether `err` may be retried for a call of class `retry`.
fn may_retry(err: &Error, retry: Retry) -> bool {
    err.is_temporary() && class_allows(err, retry)
}

/// Whether a call of class `retry` may be sent again after `err`, by its effect alone: a read
/// or an idempotent write always, a write only when the vendor did not act
/// (`NotSent`, `RejectedBeforeActing`), a [`Retry::Unsent`] call only when it was never sent.
fn class_allows(err: &Error, retry: Retry) -> bool {
    match retry {
        Retry::Read | Retry::IdempotentWrite => true,
        Retry::Write => matches!(err.effect(), WriteEffect::NotSent | WriteEffect::RejectedBeforeActing),
        Retry::Unsent => err.effect() == WriteEffect::NotSent,
    }
}

/// Whether a 401 (`Unauthorized`, not temporary) may be repeated once with fresh credentials:
/// as a retry would be, whatever the temporary flag, and for a write only when no earlier
/// attempt may have reached the vendor. A write whose 401 the classifier marks `Unknown` (a
/// vendor that may refuse after acting) is not repeated; nor is a [`Retry::Unsent`] call
/// answered 401, since any answer to it goes to the caller.
fn may_replay(err: &Error, retry: Retry, maybe_arrived: bool) -> bool {
    let idempotent = matches!(retry, Retry::Read | Retry::IdempotentWrite);
    (idempotent || !maybe_arrived) && class_allows(err, retry)
}

/// Why reading a reply stopped.
pub(crate) enum Read {
    Transport(reqwest::Error),
    TooLarge,
}

/// The reply body, refused once it passes `limit` bytes (by its declared length first). A body
/// that arrives in one piece (the usual small reply) is kept as read, never copied.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<bytes::Bytes, Read> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(Read::TooLarge);
    }
    let Some(first) = response.chunk().await.map_err(Read::Transport)? else {
        return Ok(bytes::Bytes::new());
    };
    if first.len() > limit {
        return Err(Read::TooLarge);
    }
    let Some(second) = response.chunk().await.map_err(Read::Transport)? else {
        return Ok(first);
    };
    let mut body = bytes::BytesMut::with_capacity(first.len() + second.len());
    body.extend_from_slice(&first);
    body.extend_from_slice(&second);
    while let Some(chunk) = response.chunk().await.map_err(Read::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(Read::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    if body.len() > limit {
        return Err(Read::TooLarge);
    }
    Ok(body.freeze())
}

fn check_base_url(url: &Url) -> Result<(), &'static str> {
    if url.cannot_be_a_base() {
        return Err("must be a hierarchical http(s) URL");
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match url.host() {
                Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
                Some(Host::Ipv4(ip)) => ip.is_loopback(),
                Some(Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err("must use https (plain http is allowed for loopback only)")
            }
        }
        _ => Err("must use https"),
    }
}

/// A `reqwest` error and its causes, without the URL (its query may carry personal data).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The error a call ends with, when an earlier attempt may have reached the vendor: its
/// effect is unknown whatever the last attempt's (a retry whose credentials failed, or whose
/// connection was refused, sent nothing itself), so a caller never repeats a write that may
/// have been done on the word "nothing was sent".
fn may_have_arrived(err: Error, maybe_arrived: bool) -> Error {
    if !maybe_arrived || err.effect() == WriteEffect::Unknown {
        return err;
    }
    let message = format!("{}; an earlier attempt may have reached the vendor", err.message());
    err.with_effect(WriteEffect::Unknown).with_message(message)
}

/// Classifies a transport failure: no connection means nothing was sent; anything after that
/// (timeout, broken or truncated reply) leaves the effect unknown.
pub(crate) fn transport_error(provider: &str, operation: &str, err: reqwest::Error) -> Error {
    let unavailable = Error::new(ErrorKind::Unavailable, provider, operation);
    let (connect, builder, timeout) = (err.is_connect(), err.is_builder(), err.is_timeout());
    let cause = error_chain(&err.without_url());
    if connect {
        unavailable.with_effect(WriteEffect::NotSent).with_message(format!("cannot connect: {cause}"))
    } else if builder {
        Error::new(ErrorKind::Invalid { field: "request".into(), reason: cause }, provider, operation)
            .with_effect(WriteEffect::NotSent)
    } else if timeout {
        unavailable.with_effect(WriteEffect::Unknown).with_message(format!("timed out: {cause}"))
    } else {
        unavailable.with_effect(WriteEffect::Unknown).with_message(format!("broken exchange: {cause}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn base_url_must_be_https_unless_loopback() {
        assert!(check_base_url(&url("https://api.example/v2")).is_ok());
        assert!(check_base_url(&url("http://127.0.0.1:8080/")).is_ok());
        assert!(check_base_url(&url("http://127.10.0.1/")).is_ok());
        assert!(check_base_url(&url("http://[::1]:80/")).is_ok());
        assert!(check_base_url(&url("http://localhost:3000/")).is_ok());
        assert!(check_base_url(&url("http://api.example/")).is_err());
        assert!(check_base_url(&url("http://10.0.0.1/")).is_err());
        assert!(check_base_url(&url("http://localhost.evil.example/")).is_err());
        assert!(check_base_url(&url("ftp://api.example/")).is_err());
        assert!(check_base_url(&url("mailto:a@b.example")).is_err());
    }

    #[test]
    fn retry_rules_by_class_and_effect() {
        let unknown = Error::new(ErrorKind::Unavailable, "p", "o");
        let not_sent = unknown.clone().with_effect(WriteEffect::NotSent);
        let limited = Error::new(ErrorKind::RateLimited { retry_after: None }, "p", "o");
        let permanent = Error::new(ErrorKind::Conflict, "p", "o");
        assert!(may_retry(&unknown, Retry::Read));
        assert!(may_retry(&unknown, Retry::IdempotentWrite));
        assert!(!may_retry(&unknown, Retry::Write));
        assert!(may_retry(&not_sent, Retry::Write));
        assert!(may_retry(&limited, Retry::Write));
        assert!(!may_retry(&permanent, Retry::Read));
    }
}
