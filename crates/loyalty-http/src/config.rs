//! Transport settings for one provider.

use std::sync::Arc;
use std::time::Duration;

use loyalty_core::{Clock, Error, SystemClock};
use url::Url;

/// Transport settings for one provider: where it lives, how long to wait, how often to retry.
///
/// Built with [`HttpConfig::new`] and the `with_*` setters; [`crate::HttpClient::new`] validates it
/// (https except loopback, non-zero timeouts, at least one attempt).
#[non_exhaustive]
#[derive(Clone)]
pub struct HttpConfig {
    /// The vendor's base URL; a call's path is appended to its path.
    pub base_url: Url,
    /// Upper bound for one attempt: connect, send, and read the whole reply (default 10 s).
    pub attempt_timeout: Duration,
    /// Attempts per call, the first included (default 4).
    pub max_attempts: u32,
    /// Upper bound for a call with all its retries and waits (default 30 s).
    pub max_elapsed: Duration,
    /// First backoff delay (default 100 ms).
    pub min_backoff: Duration,
    /// Largest backoff delay (default 5 s); a longer `Retry-After` is still honoured.
    pub max_backoff: Duration,
    /// Largest request body sent (default 10 MiB); bigger bodies are refused before sending.
    pub max_request_bytes: usize,
    /// Largest reply body read (default 32 MiB); a bigger one (a broken proxy streaming without
    /// end) stops the attempt with a `Protocol` error instead of filling memory.
    pub max_reply_bytes: usize,
    /// The `User-Agent` header (default `loyalty-bridge/0.1`).
    pub user_agent: String,
    /// Headers every call carries unless it sets its own (say `Accept: application/json`),
    /// checked and converted once, when the client is built, instead of once per call. Not for
    /// secrets: auth strategies supply those.
    pub default_headers: Vec<(String, String)>,
    /// What "now" is when a reply is classified, so a `Retry-After` date is measured on the
    /// same clock as everything else (default: the system clock; tests and simulators move
    /// their own).
    pub clock: Arc<dyn Clock>,
    /// The base URL's path carries a secret (SessionM's Core API key): `Debug` of this config
    /// and of its client shows it as `[redacted]` (default false).
    pub secret_base_path: bool,
}

// A base URL is where people paste credentials (`https://user:pass@host`, `?key=…`).
impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("base_url", &self.shown_base_url())
            .field("attempt_timeout", &self.attempt_timeout)
            .field("max_attempts", &self.max_attempts)
            .field("max_elapsed", &self.max_elapsed)
            .field("min_backoff", &self.min_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("max_reply_bytes", &self.max_reply_bytes)
            .field("user_agent", &self.user_agent)
            .field(
                "default_headers",
                &self.default_headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl HttpConfig {
    /// Settings with the defaults for `base_url`.
    pub fn new(base_url: Url) -> HttpConfig {
        HttpConfig {
            base_url,
            attempt_timeout: Duration::from_secs(10),
            max_attempts: 4,
            max_elapsed: Duration::from_secs(30),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_request_bytes: 10 * 1024 * 1024,
            max_reply_bytes: 32 * 1024 * 1024,
            user_agent: "loyalty-bridge/0.1".to_owned(),
            default_headers: Vec::new(),
            clock: Arc::new(SystemClock),
            secret_base_path: false,
        }
    }

    /// Marks the base URL's path as secret ([`HttpConfig::secret_base_path`]).
    pub fn with_secret_base_path(mut self) -> Self {
        self.secret_base_path = true;
        self
    }

    /// The base URL as it may be printed ([`crate::redacted_url`], and the path hidden when
    /// it carries a secret).
    pub fn shown_base_url(&self) -> String {
        if self.secret_base_path {
            let mut url = self.base_url.clone();
            url.set_path("/[redacted]");
            crate::redacted_url(&url)
        } else {
            crate::redacted_url(&self.base_url)
        }
    }

    /// Sets the clock replies are classified on (a `Retry-After` date is measured on it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the per-attempt timeout.
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Sets the number of attempts per call (1 disables retries).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets the cap on a call's total time, retries and waits included.
    pub fn with_max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// Sets the smallest and largest backoff delay.
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max;
        self
    }

    /// Sets the largest request body sent.
    pub fn with_max_request_bytes(mut self, bytes: usize) -> Self {
        self.max_request_bytes = bytes;
        self
    }

    /// Sets the largest reply body read.
    pub fn with_max_reply_bytes(mut self, bytes: usize) -> Self {
        self.max_reply_bytes = bytes;
        self
    }

    /// Sets the `User-Agent` header.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Adds a header every call carries unless it sets its own ([`HttpConfig::default_headers`]).
    pub fn with_default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.default_headers.push((name.into(), value.into()));
        self
    }
}

/// The process environment's variables whose names start with `prefix`, as text, for
/// `from_env` configuration. They are read with `std::env::vars_os`, so a variable outside the
/// prefix that is not Unicode is passed over (`std::env::vars` would panic on it).
///
/// # Errors
/// `Invalid` of `provider`'s `operation`, naming the variable, when a name or value under the
/// prefix is not Unicode (the value itself is never shown: it may be a secret).
pub fn env_vars(provider: &str, operation: &str, prefix: &str) -> Result<Vec<(String, String)>, Error> {
    vars_with_prefix(provider, operation, prefix, std::env::vars_os())
}

/// [`env_vars`] over given variables.
///
/// # Errors
/// As [`env_vars`].
pub fn vars_with_prefix(
    provider: &str,
    operation: &str,
    prefix: &str,
    vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for (name, value) in vars {
        // The prefix is ASCII: a lossy name starts with it exactly when the name does.
        let shown = name.to_string_lossy().into_owned();
        if !shown.starts_with(prefix) {
            continue;
        }
        let Ok(name) = name.into_string() else {
            return Err(Error::invalid(
                provider,
                operation,
                shown,
                "the variable's name is not valid Unicode",
            ));
        };
        match value.into_string() {
            Ok(value) => out.push((name, value)),
            Err(_) => {
                let reason = format!("{name} is not valid Unicode");
                return Err(Error::invalid(provider, operation, name, reason));
            }
        }
    }
    Ok(out)
}

/// A duration as configuration files write it: whole seconds (`10`), or a number with `ms`, `s`
/// or `m` (`"500ms"`, `"10s"`, `"2m"`); `None` for anything else or an overflow.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(loyalty_http::parse_duration("500ms"), Some(Duration::from_millis(500)));
/// assert_eq!(loyalty_http::parse_duration("10"), Some(Duration::from_secs(10)));
/// assert_eq!(loyalty_http::parse_duration("ten"), None);
/// ```
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = num.parse().ok()?;
    match unit.trim() {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        _ => None,
    }
}

/// A vendor's base URL as configuration gives it: parsed, hierarchical, and https unless it
/// points at this machine (`localhost`, 127.0.0.0/8, `::1`), where simulators run. The error is
/// the reason, for the adapter to name its own key.
///
/// ```
/// assert!(loyalty_http::vendor_base_url("https://api.example/v2").is_ok());
/// assert!(loyalty_http::vendor_base_url("http://127.0.0.1:8080").is_ok());
/// assert!(loyalty_http::vendor_base_url("http://api.example").is_err());
/// ```
pub fn vendor_base_url(raw: &str) -> Result<url::Url, String> {
    use url::Host;
    let url = url::Url::parse(raw.trim()).map_err(|e| e.to_string())?;
    if url.cannot_be_a_base() {
        return Err("must be a hierarchical http(s) URL".into());
    }
    let loopback = match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err("must be https (http only on loopback)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_variable_that_is_not_unicode_is_invalid_under_the_prefix_and_ignored_elsewhere() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let os = |s: &str| OsString::from(s);
        let bad = || OsString::from_vec(vec![b's', 0xff, 0xfe]);
        let prefix = "LOYALTY_TEST_PREFIX_";
        let read = |vars: Vec<(OsString, OsString)>| vars_with_prefix("vendor", "config.load", prefix, vars);
        let ok = read(vec![
            (os("OTHER"), bad()),
            (os("LOYALTY_TEST_PREFIX_A"), os("1")),
            (os("PATH"), os("/bin")),
        ])
        .unwrap();
        assert_eq!(ok, vec![("LOYALTY_TEST_PREFIX_A".to_string(), "1".to_string())]);
        let err = read(vec![(os("LOYALTY_TEST_PREFIX_B"), bad())]).unwrap_err();
        match err.kind() {
            loyalty_core::ErrorKind::Invalid { field, reason } => {
                assert_eq!(field, "LOYALTY_TEST_PREFIX_B");
                assert_eq!(reason, "LOYALTY_TEST_PREFIX_B is not valid Unicode");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        assert_eq!(err.provider(), "vendor");
        let mut name = b"LOYALTY_TEST_PREFIX_".to_vec();
        name.push(0xff);
        let err = read(vec![(OsString::from_vec(name), os("1"))]).unwrap_err();
        assert!(
            matches!(err.kind(), loyalty_core::ErrorKind::Invalid { field, .. } if field == "LOYALTY_TEST_PREFIX_\u{fffd}"),
            "{err:?}"
        );
    }
}
