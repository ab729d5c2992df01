//! Authentication strategies: none, HTTP Basic, OAuth2 client credentials with a single-flight
//! token cache, and a pluggable single-flight session cache.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use loyalty_core::{Clock, Context, Error, ErrorKind, SystemClock, WriteEffect};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use url::Url;

use crate::classify::parse_retry_after;
use crate::secret::Secret;

/// The operation label of token and session requests, in errors and logs.
const TOKEN_OPERATION: &str = "auth.token";

/// The longest token or session key a strategy caches (characters).
pub const MAX_TOKEN_CHARS: usize = 4096;

/// What an auth strategy supplies to one attempt of a business call: headers, and a token the
/// vendor wants inside the body ([`crate::Body::Built`] writes it there).
///
/// `Debug` shows header names only.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credentials {
    /// Headers to add (the client marks them sensitive).
    pub headers: Vec<(String, String)>,
    /// A credential carried in the body (IdoSell's `sessionKey`), if the strategy has one.
    pub body_token: Option<Secret>,
}

impl Credentials {
    /// Credentials made of headers only.
    pub fn from_headers(headers: Vec<(String, String)>) -> Credentials {
        Credentials { headers, body_token: None }
    }

    /// Credentials made of a body token only.
    pub fn body_token(token: Secret) -> Credentials {
        Credentials { headers: Vec::new(), body_token: Some(token) }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Credentials")
            .field("headers", &names)
            .field("body_token", &self.body_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// [`Credentials`] whose headers are already converted to header values (marked sensitive), so
/// every attempt that uses them shares one conversion: a cached token's `Authorization` value
/// is built once per token, not once per call. Strategies hand them out through
/// [`Auth::ready`].
///
/// `Debug` shows header names only.
pub struct ReadyCredentials {
    credentials: Credentials,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// A credential header that cannot be sent: its name and why.
pub(crate) type BadHeader = (String, &'static str);

impl ReadyCredentials {
    /// Converts the headers of `credentials`; the first that cannot be sent is the error.
    pub(crate) fn new(credentials: Credentials) -> Result<ReadyCredentials, BadHeader> {
        let mut headers = Vec::with_capacity(credentials.headers.len());
        for (name, value) in &credentials.headers {
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| (name.clone(), "not a valid header name"))?;
            let mut header_value =
                HeaderValue::from_str(value).map_err(|_| (name.clone(), "not a valid header value"))?;
            header_value.set_sensitive(true);
            headers.push((header_name, header_value));
        }
        Ok(ReadyCredentials { credentials, headers })
    }

    /// The credentials as the strategy gave them.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The converted headers, each marked sensitive.
    pub(crate) fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }
}

impl fmt::Debug for ReadyCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadyCredentials").field(&self.credentials).finish()
    }
}

/// Checks a token that travels in a header before it is cached: 1 to [`MAX_TOKEN_CHARS`]
/// characters of RFC 6750 `b64token` (`A-Z a-z 0-9 - . _ ~ + /`, then `=` padding only at the
/// end). Anything else is a `Protocol` error that never quotes the value, so a garbage reply is
/// never cached and never reaches a header or a log.
///
/// A key carried in the body is opaque text instead: see [`check_body_token`].
///
/// # Errors
/// `Protocol` naming `what` (`"access_token"`).
pub fn check_token(provider: &str, operation: &str, what: &str, token: &str) -> Result<(), Error> {
    let bad = |reason: &str| unusable(provider, operation, what, reason);
    if token.is_empty() {
        return bad("empty");
    }
    if token.chars().count() > MAX_TOKEN_CHARS {
        return bad(&format!("longer than {MAX_TOKEN_CHARS} characters"));
    }
    let body = token.trim_end_matches('=');
    if body.is_empty() {
        return bad("padding only");
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
    if !body.bytes().all(allowed) {
        return bad("characters outside the b64token set");
    }
    Ok(())
}

/// Checks a key carried in the request body (a [`SessionAuth`] session key, such as IdoSell's
/// `sessionKey`) before it is cached. Such a key is opaque: the vendor may issue any text (a
/// PHP session id holds `,` and `-`), the key is never parsed, and the body's own encoding
/// (XML escaping) carries it; so only what no body can carry as a key is refused: an empty or
/// blank key, one longer than [`MAX_TOKEN_CHARS`] characters, and one holding a control
/// character (U+0000–U+001F, U+007F–U+009F: line breaks and tabs included, which an HTML or
/// text page instead of a key holds) or U+FFFE / U+FFFF (XML 1.0 allows neither). The error is
/// `Protocol` and never quotes the value.
///
/// # Errors
/// `Protocol` naming `what` (`"session key"`).
pub fn check_body_token(provider: &str, operation: &str, what: &str, token: &str) -> Result<(), Error> {
    let bad = |reason: &str| unusable(provider, operation, what, reason);
    if token.trim().is_empty() {
        return bad("empty");
    }
    if token.chars().count() > MAX_TOKEN_CHARS {
        return bad(&format!("longer than {MAX_TOKEN_CHARS} characters"));
    }
    if let Some(c) = token.chars().find(|&c| c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}')) {
        return bad(&format!("holds U+{:04X}, which no body carries as a key", u32::from(c)));
    }
    Ok(())
}

/// The `Protocol` error of a token or key the checks refuse; it never quotes the value.
fn unusable(provider: &str, operation: &str, what: &str, reason: &str) -> Result<(), Error> {
    Err(Error::new(ErrorKind::Protocol, provider, operation)
        .with_message(format!("the {what} in the reply is unusable: {reason}")))
}

/// Supplies credentials to business calls.
///
/// Implementations cache what they fetch and fetch it once for many concurrent callers.
#[async_trait]
pub trait Auth: Send + Sync + fmt::Debug {
    /// Headers to add to a business call (e.g. `("authorization", "Bearer …")`); the client marks
    /// them sensitive.
    ///
    /// # Errors
    /// Whatever obtaining the credentials failed with (a token request refused or unavailable).
    async fn headers(&self, client: &reqwest::Client, ctx: &Context) -> Result<Vec<(String, String)>, Error>;

    /// Everything one attempt carries: the headers and, for strategies whose vendor wants it in
    /// the body, a body token. The transport calls this once per attempt.
    ///
    /// The default wraps [`Auth::headers`], so header-only strategies need not implement it
    /// (an extension point added after the first strategies, kept additive on purpose).
    ///
    /// # Errors
    /// As [`Auth::headers`].
    async fn credentials(&self, client: &reqwest::Client, ctx: &Context) -> Result<Credentials, Error> {
        Ok(Credentials::from_headers(self.headers(client, ctx).await?))
    }

    /// The credentials of the next attempt when they are at hand without waiting (a cached,
    /// unexpired token), converted once and shared. The transport asks this first, on every
    /// attempt, and goes through [`Auth::credentials`] only on `None`, so a cached token costs
    /// no future and no allocation per call. Whatever it returns must be what
    /// [`Auth::credentials`] would return at that moment.
    ///
    /// The default is `None`: every attempt goes through [`Auth::credentials`].
    fn ready(&self) -> Option<Arc<ReadyCredentials>> {
        None
    }

    /// Forgets cached credentials after a 401; returns true when a retry with fresh credentials
    /// makes sense.
    async fn invalidate(&self) -> bool;

    /// Forgets the cached credentials an attempt used and was refused with; returns true when a
    /// retry with fresh credentials makes sense. Strategies that can tell which credentials were
    /// used keep newer ones another caller already fetched (so many callers refused at once
    /// share one renewal); the default forgets whatever is cached.
    async fn invalidate_used(&self, used: &Credentials) -> bool {
        let _ = used;
        self.invalidate().await
    }
}

/// No credentials.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

#[async_trait]
impl Auth for NoAuth {
    async fn headers(
        &self,
        _client: &reqwest::Client,
        _ctx: &Context,
    ) -> Result<Vec<(String, String)>, Error> {
        Ok(Vec::new())
    }

    async fn invalidate(&self) -> bool {
        false
    }

    fn ready(&self) -> Option<Arc<ReadyCredentials>> {
        static NONE: OnceLock<Arc<ReadyCredentials>> = OnceLock::new();
        let none = NONE.get_or_init(|| {
            Arc::new(ReadyCredentials { credentials: Credentials::default(), headers: Vec::new() })
        });
        Some(none.clone())
    }
}

/// HTTP Basic: `Authorization: Basic base64(user:password)`.
///
/// `Debug` shows neither half: the user name may be a key too (SessionM Core's API key).
#[derive(Clone)]
pub struct BasicAuth {
    user: String,
    password: Secret,
    // Built once: the credentials never change. `None` when the header cannot be sent, so
    // every attempt takes the slow path and fails there as it always did.
    ready: Option<Arc<ReadyCredentials>>,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &"[redacted]")
            .field("password", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl BasicAuth {
    /// Basic credentials for `user`.
    pub fn new(user: impl Into<String>, password: Secret) -> BasicAuth {
        let mut auth = BasicAuth { user: user.into(), password, ready: None };
        let credentials =
            Credentials::from_headers(vec![(AUTHORIZATION.as_str().to_owned(), auth.header_value())]);
        auth.ready = ReadyCredentials::new(credentials).ok().map(Arc::new);
        auth
    }

    fn header_value(&self) -> String {
        format!("Basic {}", BASE64.encode(format!("{}:{}", self.user, self.password.expose())))
    }
}

#[async_trait]
impl Auth for BasicAuth {
    async fn headers(
        &self,
        _client: &reqwest::Client,
        _ctx: &Context,
    ) -> Result<Vec<(String, String)>, Error> {
        Ok(vec![(AUTHORIZATION.as_str().to_owned(), self.header_value())])
    }

    /// Basic credentials do not change: a second try would be refused the same way.
    async fn invalidate(&self) -> bool {
        false
    }

    fn ready(&self) -> Option<Arc<ReadyCredentials>> {
        self.ready.clone()
    }
}

/// A cached access token, the instant (by the injected clock) it is renewed at, and its
/// `Authorization` header built once (`None` only if it could not be, which
/// [`check_token`] rules out; the slow path then reports it).
struct CachedToken {
    token: Secret,
    renew_at: DateTime<Utc>,
    /// When the token stops being valid (`renew_at` plus the margin): until then a failed
    /// renewal falls back to it instead of failing the call.
    expires_at: DateTime<Utc>,
    ready: Option<Arc<ReadyCredentials>>,
}

/// The largest token reply read.
const TOKEN_REPLY_LIMIT: usize = 64 * 1024;

/// How long after a failed early renewal the token in hand is used without asking again.
const RENEWAL_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The longest an early renewal (the token in hand still valid) holds the caller.
const EARLY_RENEWAL_WAIT: Duration = Duration::from_secs(1);

/// How long an early renewal may hold a call made with `ctx`: [`EARLY_RENEWAL_WAIT`], and at
/// most a quarter of what is left before the call's deadline, so the call keeps the rest.
fn early_renewal_limit(ctx: &Context) -> Duration {
    match ctx.deadline {
        Some(deadline) => {
            EARLY_RENEWAL_WAIT.min(deadline.saturating_duration_since(tokio::time::Instant::now()) / 4)
        }
        None => EARLY_RENEWAL_WAIT,
    }
}

/// What the single token fetch keeps: the pooled client, and the last failure with the moment
/// it ended, so callers that waited for that fetch share its answer instead of each asking the
/// token endpoint again.
#[derive(Default)]
struct Fetch {
    client: Option<reqwest::Client>,
    failed: Option<(std::time::Instant, Error)>,
}

/// OAuth2 client credentials grant with a cached, single-flight token.
///
/// - The token request is `POST token_url` with `Authorization: Basic base64(client_id:secret)`
///   (id and secret are not form-encoded first), `Accept: application/json` and the form body
///   `grant_type=client_credentials[&scope=…]`.
/// - It goes through a dedicated client that never follows redirects (a redirect is an error),
///   so the credentials are never sent to another host. The `client` passed to
///   [`Auth::headers`] is not used for it.
/// - The reply must carry `access_token` and `expires_in`; the token is renewed once the clock
///   reaches `expiry − margin` (the margin is capped at half the token's lifetime).
/// - An early renewal (the token in hand still valid) holds its caller at most 1 s and a
///   quarter of the time left before the call's deadline; when it fails or takes longer, the
///   token in hand is used until it expires, and renewal is tried again 5 s later. Callers
///   arriving while it runs use the token in hand without waiting.
/// - Expiry is measured with the injected [`Clock`] (default [`SystemClock`]), not with
///   `tokio::time`, so tests move time with a [`loyalty_core::ManualClock`].
/// - Single flight: check the cache, take the lock, check again, fetch. Any number of
///   concurrent callers on a cold cache make one token request.
/// - `Debug` shows the client id and token URL only.
pub struct OAuth2ClientCredentials {
    provider: String,
    token_url: Url,
    client_id: String,
    client_secret: Secret,
    scope: Option<String>,
    margin: Duration,
    timeout: Duration,
    clock: Arc<dyn Clock>,
    cache: RwLock<Option<CachedToken>>,
    // The fetch lock also holds the dedicated token client, built on first use.
    fetch: tokio::sync::Mutex<Fetch>,
    requests: AtomicU64,
}

impl fmt::Debug for OAuth2ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2ClientCredentials")
            .field("client_id", &self.client_id)
            .field("token_url", &crate::redacted_url(&self.token_url))
            .finish_non_exhaustive()
    }
}

impl OAuth2ClientCredentials {
    /// Client credentials for `provider` (named in errors) at `token_url`.
    pub fn new(
        provider: &str,
        token_url: Url,
        client_id: impl Into<String>,
        client_secret: Secret,
    ) -> OAuth2ClientCredentials {
        OAuth2ClientCredentials {
            provider: provider.to_owned(),
            token_url,
            client_id: client_id.into(),
            client_secret,
            scope: None,
            margin: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            clock: Arc::new(SystemClock),
            cache: RwLock::new(None),
            fetch: tokio::sync::Mutex::new(Fetch::default()),
            requests: AtomicU64::new(0),
        }
    }

    /// Requests `scope` (space-separated scopes).
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Renews the token this long before it expires (default 60 s).
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Measures token expiry with `clock` (default [`SystemClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Bounds one token request (default 10 s; the call's deadline also applies).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Token requests made so far.
    pub fn token_requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn cached(&self) -> Option<Secret> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        cache.as_ref().filter(|t| self.clock.now() < t.renew_at).map(|t| t.token.clone())
    }

    fn error(&self, kind: ErrorKind) -> Error {
        Error::new(kind, self.provider.as_str(), TOKEN_OPERATION)
    }

    /// The cached token while it is still valid, past its renewal time included.
    fn still_valid(&self) -> Option<Secret> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        cache.as_ref().filter(|t| self.clock.now() < t.expires_at).map(|t| t.token.clone())
    }

    async fn token(&self, ctx: &Context) -> Result<Secret, Error> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let asked = std::time::Instant::now();
        let mut fetch = match self.fetch.try_lock() {
            Ok(fetch) => fetch,
            // Another call is renewing: the token in hand serves meanwhile, while it is valid.
            Err(_) => match self.still_valid() {
                Some(token) => return Ok(token),
                None => self.fetch.lock().await,
            },
        };
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        // The fetch this call waited for failed: its answer is this call's too (fifty callers
        // waiting on a failing token endpoint make one request, not fifty in a row).
        if let Some((at, err)) = &fetch.failed {
            if *at >= asked {
                return self.still_valid().ok_or_else(|| err.clone());
            }
            // A renewal failed moments ago and the token still works: no new request per call.
            if at.elapsed() < RENEWAL_RETRY_AFTER {
                if let Some(token) = self.still_valid() {
                    return Ok(token);
                }
            }
        }
        let client = match &fetch.client {
            Some(c) => c.clone(),
            None => fetch.client.insert(self.build_client()?).clone(),
        };
        // While the token in hand is still valid this renewal is early: it may not hold the
        // caller past a short bound (a hung token endpoint would take the whole call's budget,
        // and a write sent with nothing left of it would report Unknown). Cut short, it fails
        // like any renewal: the token in hand serves, and the next try waits a few seconds.
        let limit = if self.still_valid().is_some() { early_renewal_limit(ctx) } else { self.timeout };
        let (token, lifetime) = match self.request_token(&client, ctx, limit).await {
            Ok(answer) => answer,
            Err(err) => {
                // Shared with the callers waiting for this request, unless this caller's own
                // deadline cut it short (theirs may be longer).
                if !cut_by_deadline(ctx) {
                    fetch.failed = Some((std::time::Instant::now(), err.clone()));
                }
                // Renewing early failed; the token in hand still works until it expires.
                if let Some(token) = self.still_valid() {
                    tracing::warn!(provider = %self.provider, cause = %err, "token renewal failed; using the current token until it expires");
                    return Ok(token);
                }
                return Err(err);
            }
        };
        fetch.failed = None;
        let margin = self.margin.min(lifetime / 2);
        let now = self.clock.now();
        let renew_in = chrono::Duration::from_std(lifetime - margin).unwrap_or(chrono::Duration::MAX);
        let renew_at = now.checked_add_signed(renew_in).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let valid_for = chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::MAX);
        let expires_at = now.checked_add_signed(valid_for).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let ready = ReadyCredentials::new(bearer(&token)).ok().map(Arc::new);
        *self.cache.write().unwrap_or_else(|p| p.into_inner()) =
            Some(CachedToken { token: token.clone(), renew_at, expires_at, ready });
        Ok(token)
    }

    fn build_client(&self) -> Result<reqwest::Client, Error> {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|err| {
            self.error(ErrorKind::Unavailable)
                .with_temporary(false)
                .with_effect(WriteEffect::NotSent)
                .with_message(format!("cannot build the token client: {err}"))
        })
    }

    /// One token request, bounded by the strategy's timeout, `limit` and the call's deadline.
    async fn request_token(
        &self,
        client: &reqwest::Client,
        ctx: &Context,
        limit: Duration,
    ) -> Result<(Secret, Duration), Error> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let credentials = BASE64.encode(format!("{}:{}", self.client_id, self.client_secret.expose()));
        let mut authorization = HeaderValue::from_str(&format!("Basic {credentials}")).map_err(|_| {
            self.error(ErrorKind::Invalid {
                field: "client_id".into(),
                reason: "not a valid header value".into(),
            })
            .with_effect(WriteEffect::NotSent)
        })?;
        authorization.set_sensitive(true);
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "client_credentials");
            if let Some(scope) = &self.scope {
                form.append_pair("scope", scope);
            }
            form.finish()
        };
        let request = client
            .post(self.token_url.clone())
            .header(AUTHORIZATION, authorization)
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form);

        let mut timeout = self.timeout.min(limit);
        if let Some(deadline) = ctx.deadline {
            timeout = timeout.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        }
        let started = tokio::time::Instant::now();
        let reply = tokio::time::timeout(timeout, async {
            let response = request.send().await.map_err(crate::client::Read::Transport)?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            // A token reply is a few hundred bytes; one that is not is not read into memory.
            let body = crate::client::read_limited(response, TOKEN_REPLY_LIMIT).await?;
            Ok::<_, crate::client::Read>((status, headers, body))
        })
        .await;
        let (status, headers, body) = match reply {
            Err(_) => {
                return Err(self
                    .error(ErrorKind::Unavailable)
                    .with_effect(WriteEffect::Unknown)
                    .with_message(format!("token request timed out after {} ms", timeout.as_millis())))
            }
            Ok(Err(crate::client::Read::Transport(err))) => {
                return Err(crate::client::transport_error(&self.provider, TOKEN_OPERATION, err))
            }
            Ok(Err(crate::client::Read::TooLarge)) => {
                return Err(self
                    .error(ErrorKind::Protocol)
                    .with_effect(WriteEffect::Unknown)
                    .with_message(format!("the token reply is larger than {TOKEN_REPLY_LIMIT} bytes")))
            }
            Ok(Ok(reply)) => reply,
        };
        // Status and timing only: a token reply's body and headers are never logged.
        tracing::debug!(
            provider = %self.provider,
            token_url = %self.token_url.path(),
            status,
            latency_ms = started.elapsed().as_millis() as u64,
            "oauth2 token request"
        );
        classify_token_reply(&self.provider, status, &headers, &body, self.clock.now())
    }
}

/// Turns a token endpoint reply into a token and its lifetime, or an error that never quotes the
/// body (it may hold the token).
fn classify_token_reply(
    provider: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(Secret, Duration), Error> {
    let error = |kind| Error::new(kind, provider, TOKEN_OPERATION);
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if !(200..300).contains(&status) {
        // RFC 6749 §5.2: the error code is in `error`.
        let code = json.as_ref().and_then(|j| j.get("error")).and_then(|c| c.as_str()).map(str::to_owned);
        let err = match (status, code.as_deref()) {
            (300..=399, _) => error(ErrorKind::Protocol).with_message(format!(
                "token endpoint answered a redirect (HTTP {status}); redirects are not followed"
            )),
            (_, Some("invalid_client" | "unauthorized_client" | "invalid_grant")) | (401, _) => {
                error(ErrorKind::Unauthorized).with_message(format!("token request refused (HTTP {status})"))
            }
            (_, Some("invalid_scope")) | (403, _) => {
                error(ErrorKind::Forbidden).with_message(format!("token request refused (HTTP {status})"))
            }
            (429, _) => error(ErrorKind::RateLimited { retry_after: parse_retry_after(headers, now) })
                .with_message("token endpoint rate limited"),
            (500..=599, _) => error(ErrorKind::Unavailable)
                .with_effect(WriteEffect::Unknown)
                .with_message(format!("token endpoint unavailable (HTTP {status})")),
            (400..=499, _) => error(ErrorKind::Invalid {
                field: "token_request".into(),
                reason: format!("refused with HTTP {status}"),
            }),
            _ => error(ErrorKind::Protocol).with_message(format!("unexpected token reply (HTTP {status})")),
        };
        return Err(match code {
            Some(code) => err.with_vendor_code(code),
            None => err,
        });
    }
    let Some(json) = json else {
        return Err(error(ErrorKind::Protocol).with_message("token reply is not JSON"));
    };
    let token = json
        .get("access_token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| error(ErrorKind::Protocol).with_message("token reply lacks access_token"))?;
    // A token that could not travel in a header is refused here, before it is cached.
    check_token(provider, TOKEN_OPERATION, "access_token", token)?;
    // Some servers send `expires_in` as a string of digits.
    let expires_in = match json.get("expires_in") {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| error(ErrorKind::Protocol).with_message("token reply lacks a valid expires_in"))?;
    Ok((Secret::new(token), Duration::from_secs(expires_in)))
}

#[async_trait]
impl Auth for OAuth2ClientCredentials {
    async fn headers(
        &self,
        _client: &reqwest::Client,
        ctx: &Context,
    ) -> Result<Vec<(String, String)>, Error> {
        let token = self.token(ctx).await?;
        Ok(bearer(&token).headers)
    }

    async fn invalidate(&self) -> bool {
        *self.cache.write().unwrap_or_else(|p| p.into_inner()) = None;
        true
    }

    /// Forgets the cached token only when it is the one the attempt was refused with: callers
    /// refused at once with the same token share one renewal, and a late refusal of an old
    /// token keeps the new one another caller already fetched.
    async fn invalidate_used(&self, used: &Credentials) -> bool {
        let refused = used
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(AUTHORIZATION.as_str()))
            .and_then(|(_, value)| value.strip_prefix("Bearer "));
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        let stale = match (cache.as_ref(), refused) {
            (Some(current), Some(token)) => current.token.expose() == token,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if stale {
            *cache = None;
        }
        true
    }

    /// The cached token's header, built once per token, while the token would be answered from
    /// the cache (the clock is before the renewal instant).
    fn ready(&self) -> Option<Arc<ReadyCredentials>> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        cache.as_ref().filter(|t| self.clock.now() < t.renew_at).and_then(|t| t.ready.clone())
    }
}

/// Whether a token or session fetch that just failed may have been cut by the caller's own
/// deadline (it has passed): such a failure is this caller's alone, since the callers waiting
/// behind it may have longer. Any other failure (a refusal, an unavailable endpoint, a fetch
/// bounded by its own timeout) is shared with them, deadline or not.
fn cut_by_deadline(ctx: &Context) -> bool {
    ctx.deadline.is_some_and(|deadline| tokio::time::Instant::now() >= deadline)
}

/// `Authorization: Bearer <token>`.
fn bearer(token: &Secret) -> Credentials {
    Credentials::from_headers(vec![(AUTHORIZATION.as_str().to_owned(), format!("Bearer {}", token.expose()))])
}

/// An open session: its key and when it ends.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session key.
    pub key: Secret,
    /// When the vendor forgets the session, by the [`SessionAuth`]'s clock.
    pub expires_at: DateTime<Utc>,
}

/// Opens sessions for a [`SessionAuth`] (IdoSell: a daily SHA-1 system key, then a 15-minute
/// session).
#[async_trait]
pub trait SessionSource: Send + Sync + fmt::Debug {
    /// Opens a new session for a call made with `ctx` (its deadline bounds the login).
    ///
    /// # Errors
    /// Whatever the vendor refused or failed with.
    async fn open(&self, client: &reqwest::Client, ctx: &Context) -> Result<Session, Error>;
}

/// A single-flight session cache over a [`SessionSource`].
///
/// - The session is renewed once the clock (default [`SystemClock`]; tests inject a
///   simulator's) reaches `expires_at − margin`.
/// - Single flight: check the cache, take the lock, check again, open. Concurrent callers share
///   one `open`.
/// - A key is checked with [`check_body_token`] before it is cached (it is opaque, carried in
///   the body, never in a header): a garbage key is a `Protocol` error and the next call opens
///   again.
/// - As an [`Auth`] it adds no headers: [`Auth::credentials`] hands the key over as the body
///   token, and a [`crate::Body::Built`] body writes it where the vendor wants it, fresh on
///   every attempt. [`Auth::invalidate_used`] drops the session only if it is the one the
///   refused attempt used.
pub struct SessionAuth<S: SessionSource> {
    provider: String,
    source: S,
    margin: Duration,
    clock: Arc<dyn Clock>,
    cache: RwLock<Option<Session>>,
    /// The last failed open and when it ended: callers that waited for it share its answer.
    fetch: tokio::sync::Mutex<Option<(std::time::Instant, Error)>>,
    opens: AtomicU64,
}

impl<S: SessionSource> fmt::Debug for SessionAuth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionAuth")
            .field("provider", &self.provider)
            .field("source", &self.source)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl<S: SessionSource> SessionAuth<S> {
    /// A cache for `provider` (named in errors) renewing sessions `margin` before they end, on
    /// the system clock.
    pub fn new(provider: &str, source: S, margin: Duration) -> Self {
        SessionAuth {
            provider: provider.to_owned(),
            source,
            margin,
            clock: Arc::new(SystemClock),
            cache: RwLock::new(None),
            fetch: tokio::sync::Mutex::new(None),
            opens: AtomicU64::new(0),
        }
    }

    /// Measures session lifetimes with `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The session source.
    pub fn source(&self) -> &S {
        &self.source
    }

    fn cached(&self) -> Option<Secret> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        let margin = chrono::Duration::from_std(self.margin).unwrap_or(chrono::Duration::MAX);
        let now = self.clock.now();
        cache
            .as_ref()
            .filter(|s| s.expires_at.checked_sub_signed(margin).is_some_and(|renew_at| now < renew_at))
            .map(|s| s.key.clone())
    }

    /// The current session key, opening a session when there is none or it is about to end.
    /// Concurrent callers share one `open`.
    ///
    /// # Errors
    /// Whatever [`SessionSource::open`] returned; `Protocol` for a key that fails
    /// [`check_body_token`] (it is not cached).
    pub async fn key(&self, client: &reqwest::Client, ctx: &Context) -> Result<Secret, Error> {
        if let Some(key) = self.cached() {
            return Ok(key);
        }
        let asked = std::time::Instant::now();
        let mut failed = self.fetch.lock().await;
        if let Some(key) = self.cached() {
            return Ok(key);
        }
        // The open this call waited for failed (a wrong password, the gate down): its answer is
        // this call's too, so waiting callers never log in one after another.
        if let Some((at, err)) = &*failed {
            if *at >= asked {
                return Err(err.clone());
            }
        }
        self.opens.fetch_add(1, Ordering::Relaxed);
        let opened = match self.source.open(client, ctx).await {
            Ok(session) => {
                check_body_token(&self.provider, TOKEN_OPERATION, "session key", session.key.expose())
                    .map(|()| session)
            }
            Err(err) => Err(err),
        };
        let session = match opened {
            Ok(session) => session,
            Err(err) => {
                // Shared with the callers waiting for this open, unless this caller's own
                // deadline cut it short (theirs may be longer).
                if !cut_by_deadline(ctx) {
                    *failed = Some((std::time::Instant::now(), err.clone()));
                }
                return Err(err);
            }
        };
        *failed = None;
        let key = session.key.clone();
        *self.cache.write().unwrap_or_else(|p| p.into_inner()) = Some(session);
        Ok(key)
    }

    /// Sessions opened so far (garbage keys included).
    pub fn opens(&self) -> u64 {
        self.opens.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl<S: SessionSource> Auth for SessionAuth<S> {
    async fn headers(
        &self,
        _client: &reqwest::Client,
        _ctx: &Context,
    ) -> Result<Vec<(String, String)>, Error> {
        Ok(Vec::new())
    }

    async fn credentials(&self, client: &reqwest::Client, ctx: &Context) -> Result<Credentials, Error> {
        Ok(Credentials::body_token(self.key(client, ctx).await?))
    }

    async fn invalidate(&self) -> bool {
        *self.cache.write().unwrap_or_else(|p| p.into_inner()) = None;
        true
    }

    async fn invalidate_used(&self, used: &Credentials) -> bool {
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        // Another caller may already have replaced the refused session: keep the newer one.
        let stale = match (cache.as_ref(), used.body_token.as_ref()) {
            (Some(current), Some(used)) => current.key == *used,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if stale {
            *cache = None;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, body: &str) -> Result<(Secret, Duration), Error> {
        classify_token_reply("p", status, &HeaderMap::new(), body.as_bytes(), Utc::now())
    }

    #[test]
    fn token_reply_table() {
        let (token, lifetime) = classify(200, r#"{"access_token":"tok","expires_in":3600}"#).unwrap();
        assert_eq!((token.expose(), lifetime), ("tok", Duration::from_secs(3600)));
        let (_, lifetime) = classify(200, r#"{"access_token":"tok","expires_in":"60"}"#).unwrap();
        assert_eq!(lifetime, Duration::from_secs(60));

        let rows: &[(u16, &str, &str, bool)] = &[
            (200, r#"{"expires_in":3600}"#, "protocol", false),
            (200, r#"{"access_token":"tok"}"#, "protocol", false),
            (200, "not json tok", "protocol", false),
            // A token that could not travel in a header is never cached.
            (200, r#"{"access_token":"tok en","expires_in":60}"#, "protocol", false),
            (400, r#"{"error":"invalid_client"}"#, "unauthorized", false),
            (400, r#"{"error":"invalid_scope"}"#, "forbidden", false),
            (400, r#"{"error":"invalid_request"}"#, "invalid", false),
            (401, "", "unauthorized", false),
            (302, "", "protocol", false),
            (429, "", "rate_limited", true),
            (503, "", "unavailable", true),
        ];
        for (status, body, label, temporary) in rows {
            let err = classify(*status, body).unwrap_err();
            assert_eq!(err.kind().label(), *label, "{status} {body}");
            assert_eq!(err.is_temporary(), *temporary, "{status} {body}");
            assert!(!err.to_string().contains("tok\""), "{err}");
        }
    }

    #[derive(Debug)]
    struct CountingSource;

    #[async_trait]
    impl SessionSource for CountingSource {
        async fn open(&self, _client: &reqwest::Client, _ctx: &Context) -> Result<Session, Error> {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(Session {
                key: Secret::new("session-key"),
                expires_at: Utc::now() + chrono::Duration::minutes(15),
            })
        }
    }

    #[tokio::test]
    async fn concurrent_session_callers_share_one_open() {
        let auth = Arc::new(SessionAuth::new("p", CountingSource, Duration::from_secs(60)));
        let client = reqwest::Client::new();
        let keys = futures_join_all((0..50).map(|_| {
            let auth = auth.clone();
            let client = client.clone();
            tokio::spawn(async move { auth.key(&client, &Context::new()).await.unwrap() })
        }))
        .await;
        assert!(keys.iter().all(|k| k.expose() == "session-key"));
        assert_eq!(auth.opens(), 1);
    }

    #[tokio::test]
    async fn session_within_margin_of_its_end_is_renewed_and_invalidate_drops_it() {
        #[derive(Debug)]
        struct ShortSource;
        #[async_trait]
        impl SessionSource for ShortSource {
            async fn open(&self, _client: &reqwest::Client, _ctx: &Context) -> Result<Session, Error> {
                // Ends in 30 s, inside the 60 s margin: never good enough to reuse.
                Ok(Session { key: Secret::new("k"), expires_at: Utc::now() + chrono::Duration::seconds(30) })
            }
        }
        let (client, ctx) = (reqwest::Client::new(), Context::new());
        let short = SessionAuth::new("p", ShortSource, Duration::from_secs(60));
        short.key(&client, &ctx).await.unwrap();
        short.key(&client, &ctx).await.unwrap();
        assert_eq!(short.opens(), 2);

        let long = SessionAuth::new("p", CountingSource, Duration::from_secs(60));
        long.key(&client, &ctx).await.unwrap();
        long.key(&client, &ctx).await.unwrap();
        assert_eq!(long.opens(), 1);
        assert!(long.invalidate().await);
        long.key(&client, &ctx).await.unwrap();
        assert_eq!(long.opens(), 2);
    }

    #[tokio::test]
    async fn session_renewal_follows_the_injected_clock() {
        #[derive(Debug)]
        struct ClockSource(loyalty_core::ManualClock);
        #[async_trait]
        impl SessionSource for ClockSource {
            async fn open(&self, _client: &reqwest::Client, _ctx: &Context) -> Result<Session, Error> {
                Ok(Session {
                    key: Secret::new("k"),
                    expires_at: self.0.now() + chrono::Duration::minutes(15),
                })
            }
        }
        let clock = loyalty_core::ManualClock::at(Utc::now());
        let auth = SessionAuth::new("p", ClockSource(clock.clone()), Duration::from_secs(180))
            .with_clock(Arc::new(clock.clone()));
        let (client, ctx) = (reqwest::Client::new(), Context::new());
        auth.key(&client, &ctx).await.unwrap();
        // 11 minutes into a 15-minute session with a 3-minute margin: still cached.
        clock.advance(Duration::from_secs(11 * 60));
        auth.key(&client, &ctx).await.unwrap();
        assert_eq!(auth.opens(), 1);
        // 12 minutes: renewed.
        clock.advance(Duration::from_secs(60));
        auth.key(&client, &ctx).await.unwrap();
        assert_eq!(auth.opens(), 2);
    }

    #[tokio::test]
    async fn invalidate_used_keeps_a_session_newer_than_the_refused_one() {
        let auth = SessionAuth::new("p", CountingSource, Duration::from_secs(60));
        let (client, ctx) = (reqwest::Client::new(), Context::new());
        auth.key(&client, &ctx).await.unwrap();
        let stale = Credentials::body_token(Secret::new("an-older-key"));
        assert!(auth.invalidate_used(&stale).await);
        auth.key(&client, &ctx).await.unwrap();
        assert_eq!(auth.opens(), 1, "a refusal of an older key must not drop the current session");
        let current = Credentials::body_token(Secret::new("session-key"));
        assert!(auth.invalidate_used(&current).await);
        auth.key(&client, &ctx).await.unwrap();
        assert_eq!(auth.opens(), 2);
    }

    #[tokio::test]
    async fn garbage_session_key_is_a_protocol_error_and_never_cached() {
        #[derive(Debug)]
        struct Garbage;
        #[async_trait]
        impl SessionSource for Garbage {
            async fn open(&self, _client: &reqwest::Client, _ctx: &Context) -> Result<Session, Error> {
                Ok(Session {
                    // A text page where the key should be: its line breaks are no key's.
                    key: Secret::new("<html>\n<body>oops</body>\n</html>"),
                    expires_at: Utc::now() + chrono::Duration::minutes(15),
                })
            }
        }
        let auth = SessionAuth::new("p", Garbage, Duration::from_secs(60));
        let (client, ctx) = (reqwest::Client::new(), Context::new());
        let err = auth.key(&client, &ctx).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Protocol);
        assert!(!err.to_string().contains("oops"), "{err}");
        auth.key(&client, &ctx).await.unwrap_err();
        assert_eq!(auth.opens(), 2, "a refused key is not cached");
    }

    #[test]
    fn token_check_accepts_b64token_and_refuses_the_rest() {
        for good in
            ["abc", "tok-1", "sim.ABCdef012", "a+b/c==", "0123456789abcdef0123456789abcdef01234567_iai"]
        {
            assert!(check_token("p", "o", "t", good).is_ok(), "{good}");
        }
        let long = "a".repeat(MAX_TOKEN_CHARS + 1);
        for bad in ["", "==", "a b", "a\nb", "a=b", "ä", "<x>", "a\"b", long.as_str()] {
            let err = check_token("p", "o", "t", bad).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Protocol, "{bad:?}");
        }
    }

    #[test]
    fn body_token_check_takes_opaque_keys_and_refuses_what_no_body_carries() {
        // A session key goes into the body, never a header, and is never parsed (IdoSell
        // contract §3.5): a PHP session id (`,` and `-`, `sid_bits_per_character = 6`), XML's
        // own special characters (the body escapes them) and non-ASCII text are keys.
        let longest = "k".repeat(MAX_TOKEN_CHARS);
        for good in [
            "Kq3,vZ-9a,Tm1xQ,7b-Lp2",
            "5f2b1c3d4e5f60718293a4b5c6d7e8f901234567",
            "dad6017229881610c4d8e1c0954f3d58d5fda92d_iai",
            "a b",
            "a=b<&>\"'",
            "zażółć",
            longest.as_str(),
        ] {
            assert!(check_body_token("p", "o", "session key", good).is_ok(), "{good}");
        }
        let long = "k".repeat(MAX_TOKEN_CHARS + 1);
        for bad in
            ["", "  ", "a\nb", "a\tb", "a\rb", "\u{0}", "a\u{7f}", "a\u{85}", "a\u{FFFE}", long.as_str()]
        {
            let err = check_body_token("p", "o", "session key", bad).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Protocol, "{bad:?}");
            assert!(err.message().starts_with("the session key in the reply is unusable"), "{err}");
        }
        // Header tokens keep the b64token rule.
        assert!(check_token("p", "o", "access_token", "Kq3,vZ-9a").is_err());
    }

    #[test]
    fn credentials_debug_shows_header_names_only() {
        let c = Credentials {
            headers: vec![("authorization".into(), "Bearer sekrit".into())],
            body_token: Some(Secret::new("sess-sekrit")),
        };
        let d = format!("{c:?}");
        assert!(d.contains("authorization") && !d.contains("sekrit"), "{d}");
    }

    async fn futures_join_all<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
        let mut out = Vec::new();
        for handle in handles.collect::<Vec<_>>() {
            out.push(handle.await.unwrap());
        }
        out
    }

    #[test]
    fn debug_shows_identity_only() {
        let auth = OAuth2ClientCredentials::new(
            "p",
            Url::parse("https://auth.example/token").unwrap(),
            "client-1",
            Secret::new("very-secret"),
        );
        let debug = format!("{auth:?}");
        assert!(debug.contains("client-1") && debug.contains("https://auth.example/token"), "{debug}");
        assert!(!debug.contains("very-secret"), "{debug}");
        // SessionM Core's user name is its API key: neither half shows.
        let basic = format!("{:?}", BasicAuth::new("core-key-7f3a", Secret::new("pw-secret")));
        assert!(!basic.contains("pw-secret") && !basic.contains("core-key-7f3a"), "{basic}");
    }
}
