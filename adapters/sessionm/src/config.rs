//! [`SessionmConfig`]: the three SessionM API families (POS, Connect, Core) with their own base
//! URL and Basic credentials each (sessionm.md §1, §2), the tenant's ids, the store currency
//! and time zone.
//!
//! Keys (TOML / serde, and `LOYALTY_SESSIONM_<KEY>` upper-cased in the environment):
//!
//! | Key | Required | Default | Meaning |
//! | --- | --- | --- | --- |
//! | `pos_base_url` | yes | – (no production default) | POS/ECom host, e.g. `https://cloudpos-{tenant}.{tier}-sessionm.com`; https unless loopback |
//! | `pos_key` | yes | – | POS Basic user |
//! | `pos_secret` | yes¹ | – | POS Basic password |
//! | `connect_base_url` | yes | – | Connect host, e.g. `https://domains-{tenant}.{tier}-sessionm.com` |
//! | `connect_key` | yes | – | Connect Basic user |
//! | `connect_secret` | yes¹ | – | Connect Basic password |
//! | `core_base_url` | yes | – | Core host, e.g. `https://api-{tenant}.{tier}-sessionm.com` |
//! | `api_key` | yes¹ | – | Core API key: Basic user and a path segment (§6) |
//! | `s2s_secret` | yes¹ | – | Core server-to-server secret: Basic password |
//! | `retailer_id` | yes | – | retailer GUID, sent in every Connect call |
//! | `client_id` | yes | – | POS `client_id` |
//! | `store_id` | yes | – | POS `store_id` of the location (a call's department overrides it) |
//! | `currency` | yes | – | ISO 4217 code of the store: no SessionM payload carries one (§5) |
//! | `time_zone` | – | `UTC` | IANA zone for offset-less times and date-only validity |
//! | `pos_culture` | – | `en_US` | `culture` of POS calls |
//! | `connect_culture` | – | `en-US` | `culture` of Connect calls |
//! | `employee_id` | – | `loyalty-bridge` | `employee_id` of unlock/reinstate when the call names none |
//! | `channel` | – | `POS` | transaction `channel` |
//! | `external_id_type` | – | none | `external_id_type` sent with a registration's external id |
//! | `attempt_timeout` | – | `10s` | per-attempt timeout: seconds, or `"500ms"`, `"10s"`, `"2m"` |
//! | `lock_ttl` | – | `900` (15 minutes) | how long the tenant keeps a lock (§7.2 \[G\] default; §8.3, §9 q. 2: a tenant setting): whole seconds above zero, or `"900s"`, `"15m"`; a hold's `expires_at` and the declared `Lock { default_ttl_secs }` |
//!
//! ¹ Or `<key>_env` in TOML: the name of an environment variable holding it (never in the
//! environment form).
//!
//! Live sandbox runs read only `LOYALTY_LIVE_SESSIONM_<KEY>` through
//! [`SessionmConfig::from_env_prefix`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono_tz::Tz;
use loyalty_core::{Currency, Error};
use loyalty_http::{parse_duration, redacted_url, redacted_url_text, Secret};
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::{names, PROVIDER};

const OPERATION: &str = "config.load";
/// Prefix of everyday environment variables.
pub const ENV_PREFIX: &str = "LOYALTY_SESSIONM_";
/// Prefix of live sandbox variables (the only ones live runs read).
pub const LIVE_ENV_PREFIX: &str = "LOYALTY_LIVE_SESSIONM_";

/// Keys that take a duration: a string (`"10s"`) or a bare number of seconds.
const DURATION_KEYS: &[&str] = &["attempt_timeout", "lock_ttl"];

const KEYS: &[&str] = &[
    "pos_base_url",
    "pos_key",
    "pos_secret",
    "pos_secret_env",
    "connect_base_url",
    "connect_key",
    "connect_secret",
    "connect_secret_env",
    "core_base_url",
    "api_key",
    "api_key_env",
    "s2s_secret",
    "s2s_secret_env",
    "retailer_id",
    "client_id",
    "store_id",
    "currency",
    "time_zone",
    "pos_culture",
    "connect_culture",
    "employee_id",
    "channel",
    "external_id_type",
    "attempt_timeout",
    "lock_ttl",
];

/// Configuration of one SessionM tenant and store.
///
/// `Debug` is safe: the secrets (the Core API key included) print `[redacted]`.
#[derive(Clone)]
#[non_exhaustive]
pub struct SessionmConfig {
    /// POS/ECom host; `/api/2.0/…` is appended to its path.
    pub pos_base_url: Url,
    /// POS Basic user.
    pub pos_key: String,
    /// POS Basic password.
    pub pos_secret: Secret,
    /// Connect (domain services) host; `/offers/…` and `/incentives/…` are appended.
    pub connect_base_url: Url,
    /// Connect Basic user.
    pub connect_key: String,
    /// Connect Basic password.
    pub connect_secret: Secret,
    /// Core host; `/priv/v1/apps/{api_key}/…` is appended.
    pub core_base_url: Url,
    /// Core API key (Basic user and path segment).
    pub api_key: Secret,
    /// Core server-to-server secret (Basic password).
    pub s2s_secret: Secret,
    /// Retailer GUID.
    pub retailer_id: String,
    /// POS `client_id`.
    pub client_id: String,
    /// POS `store_id`.
    pub store_id: String,
    /// The store currency every SessionM amount is in.
    pub currency: Currency,
    /// Store time zone.
    pub time_zone: Tz,
    /// `culture` of POS calls.
    pub pos_culture: String,
    /// `culture` of Connect calls.
    pub connect_culture: String,
    /// Employee named by unlock and reinstate when the call's context names none.
    pub employee_id: String,
    /// Transaction `channel`.
    pub channel: String,
    /// `external_id_type` sent with a registration's external id.
    pub external_id_type: Option<String>,
    /// Per-attempt timeout.
    pub attempt_timeout: Duration,
    /// How long the tenant keeps a lock before it lapses (§7.2: 15 minutes by default \[G\];
    /// §9 q. 2: whether a tenant changes it is open, so it is a setting). Whole seconds above
    /// zero. A hold's `expires_at` is the lock's start plus this, and the declared
    /// `HoldStyle::Lock { default_ttl_secs }` is this.
    pub lock_ttl: Duration,
}

// By hand: a password or token pasted into a base URL must not be printed.
impl fmt::Debug for SessionmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionmConfig")
            .field("pos_base_url", &redacted_url(&self.pos_base_url))
            .field("pos_key", &self.pos_key)
            .field("pos_secret", &self.pos_secret)
            .field("connect_base_url", &redacted_url(&self.connect_base_url))
            .field("connect_key", &self.connect_key)
            .field("connect_secret", &self.connect_secret)
            .field("core_base_url", &redacted_url(&self.core_base_url))
            .field("api_key", &self.api_key)
            .field("s2s_secret", &self.s2s_secret)
            .field("retailer_id", &self.retailer_id)
            .field("client_id", &self.client_id)
            .field("store_id", &self.store_id)
            .field("currency", &self.currency)
            .field("time_zone", &self.time_zone)
            .field("pos_culture", &self.pos_culture)
            .field("connect_culture", &self.connect_culture)
            .field("employee_id", &self.employee_id)
            .field("channel", &self.channel)
            .field("external_id_type", &self.external_id_type)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("lock_ttl", &self.lock_ttl)
            .finish()
    }
}

impl SessionmConfig {
    /// A builder with the defaults.
    pub fn builder() -> SessionmConfigBuilder {
        SessionmConfigBuilder::default()
    }

    /// Reads `LOYALTY_SESSIONM_<KEY>` variables, refusing unknown ones under the prefix.
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_env() -> Result<SessionmConfig, Error> {
        SessionmConfig::from_env_prefix(ENV_PREFIX)
    }

    /// Reads `<prefix><KEY>` variables (`LOYALTY_LIVE_SESSIONM_` for live runs).
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_env_prefix(prefix: &str) -> Result<SessionmConfig, Error> {
        SessionmConfig::from_vars(prefix, vars_from_env(prefix)?)
    }

    /// [`SessionmConfig::from_env_prefix`] over given variables (testable without the process
    /// environment).
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_vars(
        prefix: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<SessionmConfig, Error> {
        let mut map = BTreeMap::new();
        for (name, value) in vars {
            let Some(key) = name.strip_prefix(prefix) else { continue };
            let key = key.to_ascii_lowercase();
            // `<secret>_env` names a variable; in the environment the value itself is given.
            if !KEYS.contains(&key.as_str()) || key.ends_with("_env") {
                return Err(invalid(name.clone(), format!("unknown {PROVIDER} variable")));
            }
            map.insert(key, serde_json::Value::String(value));
        }
        SessionmConfig::from_map(map).map_err(|e| match e.kind() {
            loyalty_core::ErrorKind::Invalid { field, reason } => {
                invalid(format!("{prefix}{}", field.to_ascii_uppercase()), reason.clone())
            }
            _ => e,
        })
    }

    /// Reads a config from a JSON value (a parsed TOML table converts to one).
    ///
    /// # Errors
    /// `Invalid` naming the key that is missing, malformed or unknown.
    pub fn from_value(value: serde_json::Value) -> Result<SessionmConfig, Error> {
        match value {
            serde_json::Value::Object(map) => SessionmConfig::from_map(map.into_iter().collect()),
            _ => Err(invalid("config", "expected a table of keys")),
        }
    }

    fn from_map(map: BTreeMap<String, serde_json::Value>) -> Result<SessionmConfig, Error> {
        if let Some(unknown) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(invalid(unknown.clone(), format!("unknown key in {PROVIDER} config")));
        }
        let text = |key: &str| -> Result<Option<String>, Error> {
            match map.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) if DURATION_KEYS.contains(&key) && other.is_number() => {
                    Ok(Some(other.to_string()))
                }
                Some(_) => Err(invalid(key, "expected a string")),
            }
        };
        let secret = |key: &str| -> Result<Option<Secret>, Error> {
            let direct = text(key)?.map(Secret::new);
            let env_key = format!("{key}_env");
            match (direct, text(&env_key)?) {
                (Some(_), Some(_)) => Err(invalid(env_key, format!("give {key} or {key}_env, not both"))),
                (Some(s), None) => Ok(Some(s)),
                (None, Some(var)) => std::env::var(&var)
                    .map(|v| Some(Secret::new(v)))
                    .map_err(|_| invalid(env_key, format!("environment variable {var} is not set"))),
                (None, None) => Ok(None),
            }
        };
        let mut b = SessionmConfig::builder();
        b.pos_base_url = text("pos_base_url")?;
        b.pos_key = text("pos_key")?;
        b.pos_secret = secret("pos_secret")?;
        b.connect_base_url = text("connect_base_url")?;
        b.connect_key = text("connect_key")?;
        b.connect_secret = secret("connect_secret")?;
        b.core_base_url = text("core_base_url")?;
        b.api_key = secret("api_key")?;
        b.s2s_secret = secret("s2s_secret")?;
        b.retailer_id = text("retailer_id")?;
        b.client_id = text("client_id")?;
        b.store_id = text("store_id")?;
        b.currency = text("currency")?;
        b.time_zone = text("time_zone")?;
        if let Some(v) = text("pos_culture")? {
            b.pos_culture = v;
        }
        if let Some(v) = text("connect_culture")? {
            b.connect_culture = v;
        }
        if let Some(v) = text("employee_id")? {
            b.employee_id = v;
        }
        if let Some(v) = text("channel")? {
            b.channel = v;
        }
        b.external_id_type = text("external_id_type")?;
        if let Some(t) = text("attempt_timeout")? {
            b.attempt_timeout = parse_duration(&t)
                .ok_or_else(|| invalid("attempt_timeout", "expected e.g. 10, \"10s\" or \"500ms\""))?;
        }
        if let Some(t) = text("lock_ttl")? {
            b.lock_ttl = parse_duration(&t).ok_or_else(|| {
                invalid("lock_ttl", "expected whole seconds, e.g. 900, \"900s\" or \"15m\"")
            })?;
        }
        b.build()
    }
}

impl<'de> Deserialize<'de> for SessionmConfig {
    /// Deserialises from any self-describing format; unknown keys fail naming the vendor and
    /// the key.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        SessionmConfig::from_map(map).map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

/// The process environment's variables whose names start with `prefix`, as text. They are
/// read with `std::env::vars_os`, so a variable outside the prefix that is not Unicode is
/// passed over (`std::env::vars` would panic on it).
///
/// # Errors
/// `Invalid` naming the variable when a name or value under the prefix is not Unicode (the
/// value itself is never shown: it may be a secret).
pub fn vars_from_env(prefix: &str) -> Result<Vec<(String, String)>, Error> {
    loyalty_http::env_vars(PROVIDER, OPERATION, prefix)
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::invalid(PROVIDER, OPERATION, field, reason)
}

/// A base URL that is https, or http on a loopback host.
fn base_url(raw: Option<String>, key: &str) -> Result<Url, Error> {
    // Core refuses plain http with HTTPS_ONLY (§2); the other families are https too.
    loyalty_http::vendor_base_url(&required(raw, key)?).map_err(|reason| invalid(key, reason))
}

fn required(v: Option<String>, key: &str) -> Result<String, Error> {
    v.filter(|s| !s.trim().is_empty()).ok_or_else(|| invalid(key, "required"))
}

fn required_secret(v: Option<Secret>, key: &str) -> Result<Secret, Error> {
    v.filter(|s| !s.expose().trim().is_empty()).ok_or_else(|| invalid(key, "required"))
}

/// Builds a [`SessionmConfig`]; `build()` validates.
#[derive(Clone)]
pub struct SessionmConfigBuilder {
    pos_base_url: Option<String>,
    pos_key: Option<String>,
    pos_secret: Option<Secret>,
    connect_base_url: Option<String>,
    connect_key: Option<String>,
    connect_secret: Option<Secret>,
    core_base_url: Option<String>,
    api_key: Option<Secret>,
    s2s_secret: Option<Secret>,
    retailer_id: Option<String>,
    client_id: Option<String>,
    store_id: Option<String>,
    currency: Option<String>,
    time_zone: Option<String>,
    pos_culture: String,
    connect_culture: String,
    employee_id: String,
    channel: String,
    external_id_type: Option<String>,
    attempt_timeout: Duration,
    lock_ttl: Duration,
}

// By hand: a password or token pasted into a base URL must not be printed.
impl fmt::Debug for SessionmConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionmConfigBuilder")
            .field("pos_base_url", &self.pos_base_url.as_deref().map(redacted_url_text))
            .field("pos_key", &self.pos_key)
            .field("pos_secret", &self.pos_secret)
            .field("connect_base_url", &self.connect_base_url.as_deref().map(redacted_url_text))
            .field("connect_key", &self.connect_key)
            .field("connect_secret", &self.connect_secret)
            .field("core_base_url", &self.core_base_url.as_deref().map(redacted_url_text))
            .field("api_key", &self.api_key)
            .field("s2s_secret", &self.s2s_secret)
            .field("retailer_id", &self.retailer_id)
            .field("client_id", &self.client_id)
            .field("store_id", &self.store_id)
            .field("currency", &self.currency)
            .field("time_zone", &self.time_zone)
            .field("pos_culture", &self.pos_culture)
            .field("connect_culture", &self.connect_culture)
            .field("employee_id", &self.employee_id)
            .field("channel", &self.channel)
            .field("external_id_type", &self.external_id_type)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("lock_ttl", &self.lock_ttl)
            .finish()
    }
}

impl Default for SessionmConfigBuilder {
    fn default() -> Self {
        SessionmConfigBuilder {
            pos_base_url: None,
            pos_key: None,
            pos_secret: None,
            connect_base_url: None,
            connect_key: None,
            connect_secret: None,
            core_base_url: None,
            api_key: None,
            s2s_secret: None,
            retailer_id: None,
            client_id: None,
            store_id: None,
            currency: None,
            time_zone: None,
            pos_culture: names::DEFAULT_POS_CULTURE.into(),
            connect_culture: names::DEFAULT_CONNECT_CULTURE.into(),
            employee_id: names::DEFAULT_EMPLOYEE_ID.into(),
            channel: names::DEFAULT_CHANNEL.into(),
            external_id_type: None,
            attempt_timeout: Duration::from_secs(10),
            lock_ttl: Duration::from_secs(crate::adapter::LOCK_TTL_SECS),
        }
    }
}

impl SessionmConfigBuilder {
    /// Sets the POS host and its Basic credentials.
    pub fn with_pos(mut self, base_url: impl Into<String>, key: impl Into<String>, secret: Secret) -> Self {
        self.pos_base_url = Some(base_url.into());
        self.pos_key = Some(key.into());
        self.pos_secret = Some(secret);
        self
    }

    /// Sets the Connect host and its Basic credentials.
    pub fn with_connect(
        mut self,
        base_url: impl Into<String>,
        key: impl Into<String>,
        secret: Secret,
    ) -> Self {
        self.connect_base_url = Some(base_url.into());
        self.connect_key = Some(key.into());
        self.connect_secret = Some(secret);
        self
    }

    /// Sets the Core host, the API key and the server-to-server secret.
    pub fn with_core(mut self, base_url: impl Into<String>, api_key: Secret, s2s_secret: Secret) -> Self {
        self.core_base_url = Some(base_url.into());
        self.api_key = Some(api_key);
        self.s2s_secret = Some(s2s_secret);
        self
    }

    /// Sets the retailer GUID, the POS client id and the store id.
    pub fn with_tenant(
        mut self,
        retailer_id: impl Into<String>,
        client_id: impl Into<String>,
        store_id: impl Into<String>,
    ) -> Self {
        self.retailer_id = Some(retailer_id.into());
        self.client_id = Some(client_id.into());
        self.store_id = Some(store_id.into());
        self
    }

    /// Sets the store currency (ISO 4217 code).
    pub fn with_currency(mut self, code: impl Into<String>) -> Self {
        self.currency = Some(code.into());
        self
    }

    /// Sets the store time zone (IANA name).
    pub fn with_time_zone(mut self, tz: impl Into<String>) -> Self {
        self.time_zone = Some(tz.into());
        self
    }

    /// Sets the `culture` of POS and of Connect calls.
    pub fn with_cultures(mut self, pos: impl Into<String>, connect: impl Into<String>) -> Self {
        self.pos_culture = pos.into();
        self.connect_culture = connect.into();
        self
    }

    /// Sets the default employee of unlock and reinstate.
    pub fn with_employee_id(mut self, id: impl Into<String>) -> Self {
        self.employee_id = id.into();
        self
    }

    /// Sets the transaction channel.
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    /// Sets the `external_id_type` of registrations.
    pub fn with_external_id_type(mut self, kind: impl Into<String>) -> Self {
        self.external_id_type = Some(kind.into());
        self
    }

    /// Sets the per-attempt timeout.
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Sets how long the tenant keeps a lock (default 15 minutes, §7.2 \[G\]).
    pub fn with_lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// `Invalid` naming the key: a missing required key, a non-https URL off loopback, an
    /// unknown currency or time zone, a zero timeout, a lock lifetime that is not whole seconds
    /// above zero, an empty culture, employee or channel.
    pub fn build(self) -> Result<SessionmConfig, Error> {
        let pos_base_url = base_url(self.pos_base_url, "pos_base_url")?;
        let pos_key = required(self.pos_key, "pos_key")?;
        let pos_secret = required_secret(self.pos_secret, "pos_secret")?;
        let connect_base_url = base_url(self.connect_base_url, "connect_base_url")?;
        let connect_key = required(self.connect_key, "connect_key")?;
        let connect_secret = required_secret(self.connect_secret, "connect_secret")?;
        let core_base_url = base_url(self.core_base_url, "core_base_url")?;
        let api_key = required_secret(self.api_key, "api_key")?;
        let s2s_secret = required_secret(self.s2s_secret, "s2s_secret")?;
        let retailer_id = required(self.retailer_id, "retailer_id")?;
        let client_id = required(self.client_id, "client_id")?;
        let store_id = required(self.store_id, "store_id")?;
        let code = required(self.currency, "currency")?;
        let currency = Currency::from_code(code.trim()).map_err(|e| invalid("currency", e.to_string()))?;
        let time_zone = match self.time_zone {
            None => Tz::UTC,
            Some(name) => name
                .trim()
                .parse::<Tz>()
                .map_err(|_| invalid("time_zone", format!("unknown time zone {name:?}")))?,
        };
        if self.attempt_timeout.is_zero() {
            return Err(invalid("attempt_timeout", "must be above zero"));
        }
        // Whole seconds: the capability declares seconds, and a lock that lapses mid-second is
        // no lifetime any source describes (§7.2).
        if self.lock_ttl.is_zero() || self.lock_ttl.subsec_nanos() != 0 {
            return Err(invalid("lock_ttl", "must be whole seconds above zero"));
        }
        if i64::try_from(self.lock_ttl.as_secs()).ok().and_then(chrono::Duration::try_seconds).is_none() {
            return Err(invalid("lock_ttl", "is too long"));
        }
        for (key, value) in [
            ("pos_culture", &self.pos_culture),
            ("connect_culture", &self.connect_culture),
            ("employee_id", &self.employee_id),
            ("channel", &self.channel),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(key, "must not be empty"));
            }
        }
        Ok(SessionmConfig {
            pos_base_url,
            pos_key,
            pos_secret,
            connect_base_url,
            connect_key,
            connect_secret,
            core_base_url,
            api_key,
            s2s_secret,
            retailer_id,
            client_id,
            store_id,
            currency,
            time_zone,
            pos_culture: self.pos_culture,
            connect_culture: self.connect_culture,
            employee_id: self.employee_id,
            channel: self.channel,
            external_id_type: self.external_id_type.filter(|t| !t.trim().is_empty()),
            attempt_timeout: self.attempt_timeout,
            lock_ttl: self.lock_ttl,
        })
    }
}

#[cfg(test)]
mod tests {
    use loyalty_core::ErrorKind;

    use super::*;

    fn field_of(e: &Error) -> String {
        match e.kind() {
            ErrorKind::Invalid { field, .. } => field.clone(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn good() -> SessionmConfigBuilder {
        SessionmConfig::builder()
            .with_pos("https://cloudpos-acme.stg-sessionm.com", "pos-user", Secret::new("pos-pass-91"))
            .with_connect(
                "https://domains-acme.stg-sessionm.com",
                "connect-user",
                Secret::new("conn-pass-17"),
            )
            .with_core(
                "https://api-acme.stg-sessionm.com",
                Secret::new("core-key-55"),
                Secret::new("s2s-pass-08"),
            )
            .with_tenant("0A1B2C3D-0000-4000-8000-000000000001", "client-1", "store-1")
            .with_currency("USD")
    }

    fn all_vars(prefix: &str) -> Vec<(String, String)> {
        [
            ("POS_BASE_URL", "https://cloudpos-acme.stg-sessionm.com"),
            ("POS_KEY", "pos-user"),
            ("POS_SECRET", "pos-pass-91"),
            ("CONNECT_BASE_URL", "https://domains-acme.stg-sessionm.com"),
            ("CONNECT_KEY", "connect-user"),
            ("CONNECT_SECRET", "conn-pass-17"),
            ("CORE_BASE_URL", "https://api-acme.stg-sessionm.com"),
            ("API_KEY", "core-key-55"),
            ("S2S_SECRET", "s2s-pass-08"),
            ("RETAILER_ID", "0A1B2C3D-0000-4000-8000-000000000001"),
            ("CLIENT_ID", "client-1"),
            ("STORE_ID", "store-1"),
            ("CURRENCY", "USD"),
        ]
        .iter()
        .map(|(k, v)| (format!("{prefix}{k}"), v.to_string()))
        .collect()
    }

    #[test]
    fn defaults_are_utc_ten_seconds_and_the_observed_cultures() {
        let c = good().build().unwrap();
        assert_eq!(c.time_zone, Tz::UTC);
        assert_eq!(c.attempt_timeout, Duration::from_secs(10));
        assert_eq!((c.pos_culture.as_str(), c.connect_culture.as_str()), ("en_US", "en-US"));
        assert_eq!(c.channel, "POS");
        assert_eq!(c.currency, Currency::USD);
    }

    #[test]
    fn plain_http_is_refused_off_loopback_for_every_family() {
        let e = good().with_pos("http://cloudpos-acme.stg-sessionm.com", "u", Secret::new("p")).build();
        assert_eq!(field_of(&e.unwrap_err()), "pos_base_url");
        let e = good().with_core("http://api.example", Secret::new("k"), Secret::new("s")).build();
        assert_eq!(field_of(&e.unwrap_err()), "core_base_url");
        assert!(good().with_connect("http://127.0.0.1:9000", "u", Secret::new("p")).build().is_ok());
    }

    #[test]
    fn missing_currency_is_named_because_no_payload_carries_one() {
        let mut b = good();
        b.currency = None;
        assert_eq!(field_of(&b.build().unwrap_err()), "currency");
        assert_eq!(field_of(&good().with_currency("XXQ").build().unwrap_err()), "currency");
    }

    #[test]
    fn unknown_key_names_vendor_and_key() {
        let e = SessionmConfig::from_value(
            serde_json::json!({"pos_base_url": "https://x.example", "stor_id": "s"}),
        )
        .unwrap_err();
        assert_eq!(field_of(&e), "stor_id");
        assert!(e.to_string().contains("sessionm"), "{e}");
    }

    #[test]
    fn serde_reads_durations_zones_and_optional_keys() {
        let mut v = serde_json::Map::new();
        for (k, val) in all_vars("") {
            v.insert(k.to_ascii_lowercase(), serde_json::Value::String(val));
        }
        v.insert("attempt_timeout".into(), serde_json::json!("500ms"));
        v.insert("time_zone".into(), serde_json::json!("Europe/Oslo"));
        v.insert("external_id_type".into(), serde_json::json!("loyalty_card"));
        let c: SessionmConfig = serde_json::from_value(serde_json::Value::Object(v)).unwrap();
        assert_eq!(c.attempt_timeout, Duration::from_millis(500));
        assert_eq!(c.time_zone, chrono_tz::Europe::Oslo);
        assert_eq!(c.external_id_type.as_deref(), Some("loyalty_card"));
    }

    #[test]
    fn secret_and_its_env_form_together_are_refused() {
        let mut v = serde_json::Map::new();
        for (k, val) in all_vars("") {
            v.insert(k.to_ascii_lowercase(), serde_json::Value::String(val));
        }
        v.insert("pos_secret_env".into(), serde_json::json!("SOME_VAR"));
        let e = SessionmConfig::from_value(serde_json::Value::Object(v)).unwrap_err();
        assert_eq!(field_of(&e), "pos_secret_env");
    }

    #[test]
    fn env_reads_prefixed_keys_and_refuses_unknown_ones() {
        let c = SessionmConfig::from_vars(ENV_PREFIX, all_vars(ENV_PREFIX)).unwrap();
        assert_eq!(c.store_id, "store-1");
        let mut vars = all_vars(ENV_PREFIX);
        vars.push(("LOYALTY_SESSIONM_SECRET".into(), "x".into()));
        let e = SessionmConfig::from_vars(ENV_PREFIX, vars).unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_SESSIONM_SECRET");
        let mut vars = all_vars(ENV_PREFIX);
        vars.push(("LOYALTY_SESSIONM_POS_SECRET_ENV".into(), "OTHER".into()));
        let e = SessionmConfig::from_vars(ENV_PREFIX, vars).unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_SESSIONM_POS_SECRET_ENV");
        let mut vars = all_vars(ENV_PREFIX);
        vars.retain(|(k, _)| !k.ends_with("STORE_ID"));
        let e = SessionmConfig::from_vars(ENV_PREFIX, vars).unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_SESSIONM_STORE_ID");
    }

    #[test]
    fn live_prefix_reads_only_live_variables() {
        let mut vars = all_vars(LIVE_ENV_PREFIX);
        vars.push(("LOYALTY_SESSIONM_POS_SECRET".into(), "everyday secret never read by live runs".into()));
        let c = SessionmConfig::from_vars(LIVE_ENV_PREFIX, vars).unwrap();
        assert_eq!(c.pos_secret.expose(), "pos-pass-91");
    }

    #[test]
    fn lock_ttl_defaults_to_fifteen_minutes_and_reads_every_form() {
        assert_eq!(good().build().unwrap().lock_ttl, Duration::from_secs(900));
        let mut v = serde_json::Map::new();
        for (k, val) in all_vars("") {
            v.insert(k.to_ascii_lowercase(), serde_json::Value::String(val));
        }
        for (given, secs) in
            [(serde_json::json!(60), 60), (serde_json::json!("90s"), 90), (serde_json::json!("30m"), 1800)]
        {
            v.insert("lock_ttl".into(), given);
            let c = SessionmConfig::from_value(serde_json::Value::Object(v.clone())).unwrap();
            assert_eq!(c.lock_ttl, Duration::from_secs(secs));
        }
        let mut vars = all_vars(ENV_PREFIX);
        vars.push(("LOYALTY_SESSIONM_LOCK_TTL".into(), "120".into()));
        assert_eq!(SessionmConfig::from_vars(ENV_PREFIX, vars).unwrap().lock_ttl, Duration::from_secs(120));
    }

    #[test]
    fn lock_ttl_must_be_whole_seconds_above_zero() {
        for bad in [Duration::ZERO, Duration::from_millis(1500), Duration::from_secs(u64::MAX)] {
            assert_eq!(field_of(&good().with_lock_ttl(bad).build().unwrap_err()), "lock_ttl", "{bad:?}");
        }
        let mut vars = all_vars(ENV_PREFIX);
        vars.push(("LOYALTY_SESSIONM_LOCK_TTL".into(), "0".into()));
        let e = SessionmConfig::from_vars(ENV_PREFIX, vars).unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_SESSIONM_LOCK_TTL");
        let mut vars = all_vars(ENV_PREFIX);
        vars.push(("LOYALTY_SESSIONM_LOCK_TTL".into(), "a while".into()));
        let e = SessionmConfig::from_vars(ENV_PREFIX, vars).unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_SESSIONM_LOCK_TTL");
    }

    #[test]
    fn debug_never_shows_a_secret_or_the_api_key() {
        let text = format!("{:?}", good().build().unwrap());
        for s in ["pos-pass-91", "conn-pass-17", "core-key-55", "s2s-pass-08"] {
            assert!(!text.contains(s), "{s} in {text}");
        }
    }
}
