//! `[serve]` of a `loyalty.toml`: where to listen, the API key, body limit, CORS origins.

use std::net::SocketAddr;

use axum::http::HeaderValue;
use loyalty_core::{Error, Result};
use serde_json::Value;

const OP: &str = "serve.config";
/// The variable holding the API key when `[serve]` names none.
pub const DEFAULT_KEY_ENV: &str = "LOYALTY_SERVE_API_KEY";
/// The default body limit: 256 KiB, far above any basket a shop sends.
pub const DEFAULT_MAX_BODY: usize = 256 * 1024;
/// The shortest API key accepted: a guessable key is no key.
pub const MIN_KEY_LEN: usize = 16;
/// Where the service listens when neither `--listen` nor `[serve] listen` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// How long a stopping service waits for the requests under way: 60 s from the signal, room
/// for a checkout whose vendor calls each retry for up to 30 s.
pub const DEFAULT_SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// The API key clients send as `Authorization: Bearer <key>`. Its `Debug` never shows it.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key, refused when shorter than [`MIN_KEY_LEN`] or not visible ASCII (it must travel in
    /// a header).
    ///
    /// # Errors
    /// `Invalid { field: "serve.api_key" }`, without the key in the message.
    pub fn new(key: impl Into<String>) -> Result<ApiKey> {
        let key = key.into();
        if key.len() < MIN_KEY_LEN {
            return Err(invalid("api_key", format!("too short: at least {MIN_KEY_LEN} characters")));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("api_key", "only visible ASCII characters may be used"));
        }
        Ok(ApiKey(key))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// How the service runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeSettings {
    /// The key every request but `/health` must carry.
    pub api_key: ApiKey,
    /// Bodies above this many bytes are refused with 413.
    pub max_body_bytes: usize,
    /// Origins allowed by CORS; empty = CORS off (no CORS headers at all).
    pub cors_origins: Vec<HeaderValue>,
    /// Where to listen, when the configuration says.
    pub listen: Option<SocketAddr>,
    /// How long [`crate::serve`] waits, once told to stop, for the requests under way (their
    /// clients gone or not) and the background work; what still runs then is logged and cut
    /// off. Default [`DEFAULT_SHUTDOWN_GRACE`].
    pub shutdown_grace: std::time::Duration,
}

impl ServeSettings {
    /// Settings with `api_key` and the defaults: 256 KiB bodies, CORS off, 60 s to finish the
    /// requests under way when stopping.
    pub fn new(api_key: ApiKey) -> ServeSettings {
        ServeSettings {
            api_key,
            max_body_bytes: DEFAULT_MAX_BODY,
            cors_origins: Vec::new(),
            listen: None,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }

    /// Reads `[serve]` (`None` when the file has no such section); the key comes from the
    /// environment variable `api_key_env` names (default `LOYALTY_SERVE_API_KEY`).
    ///
    /// # Errors
    /// `Invalid` naming the key of `[serve]` that is wrong, or the variable that is not set.
    pub fn from_config(serve: Option<&Value>) -> Result<ServeSettings> {
        Self::from_config_with(serve, |name| std::env::var(name).ok())
    }

    /// [`ServeSettings::from_config`] with the environment given as a function (for tests).
    ///
    /// # Errors
    /// As [`ServeSettings::from_config`].
    pub fn from_config_with(
        serve: Option<&Value>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ServeSettings> {
        let empty = serde_json::Map::new();
        let table = match serve {
            None => &empty,
            Some(Value::Object(t)) => t,
            // The section itself, so the field is `serve`, not `serve.serve`.
            Some(_) => return Err(Error::invalid("serve", OP, "serve", "expected a table")),
        };
        for key in table.keys() {
            if !["listen", "api_key_env", "max_body_bytes", "cors_origins"].contains(&key.as_str()) {
                return Err(invalid(
                    key,
                    "unknown key; [serve] takes listen, api_key_env, max_body_bytes, cors_origins",
                ));
            }
        }
        let key_env = match table.get("api_key_env") {
            None => DEFAULT_KEY_ENV,
            Some(Value::String(s)) if !s.is_empty() => s.as_str(),
            Some(_) => return Err(invalid("api_key_env", "expected the name of an environment variable")),
        };
        let key = env(key_env).ok_or_else(|| {
            invalid(
                "api_key_env",
                format!("the environment variable {key_env} holding the API key is not set"),
            )
        })?;
        let api_key = ApiKey::new(key).map_err(|e| match e.kind() {
            loyalty_core::ErrorKind::Invalid { reason, .. } => {
                invalid("api_key_env", format!("{key_env}: {reason}"))
            }
            _ => e,
        })?;
        let mut settings = ServeSettings::new(api_key);
        match table.get("max_body_bytes") {
            None => {}
            Some(v) => {
                settings.max_body_bytes =
                    v.as_u64().filter(|n| *n >= 1024).and_then(|n| usize::try_from(n).ok()).ok_or_else(
                        || invalid("max_body_bytes", "expected a number of bytes, at least 1024"),
                    )?;
            }
        }
        match table.get("listen") {
            None => {}
            Some(Value::String(s)) => {
                settings.listen = Some(s.parse().map_err(|_| {
                    invalid("listen", format!("{s:?} is not an address like {DEFAULT_LISTEN}"))
                })?)
            }
            Some(_) => return Err(invalid("listen", format!("expected an address like {DEFAULT_LISTEN}"))),
        }
        match table.get("cors_origins") {
            None => {}
            Some(Value::Array(origins)) => {
                for (i, o) in origins.iter().enumerate() {
                    let origin = o
                        .as_str()
                        .filter(|s| s.starts_with("http://") || s.starts_with("https://"))
                        .and_then(|s| HeaderValue::from_str(s.trim_end_matches('/')).ok())
                        .ok_or_else(|| {
                            invalid(
                                &format!("cors_origins[{i}]"),
                                "expected an origin like https://shop.example",
                            )
                        })?;
                    settings.cors_origins.push(origin);
                }
            }
            Some(_) => return Err(invalid("cors_origins", "expected a list of origins")),
        }
        Ok(settings)
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> Error {
    Error::invalid("serve", OP, format!("serve.{field}"), reason)
}
