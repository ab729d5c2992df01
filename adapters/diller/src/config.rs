//! [`DillerConfig`]: where the Diller API lives, the client credentials, the store and
//! department, and how lookups and times are read.
//!
//! Keys (TOML / serde, and `LOYALTY_DILLER_<KEY>` upper-cased in the environment):
//!
//! | Key | Required | Default | Meaning |
//! | --- | --- | --- | --- |
//! | `base_url` | yes | – (no production default) | API root, e.g. `https://api.prerelease.dillerapp.com` (test) or `https://api.diller.app` (production); https unless loopback |
//! | `client_id` | yes | – | OAuth2 client id ("store UID") |
//! | `client_secret` | yes¹ | – | OAuth2 client secret ("API key") |
//! | `client_secret_env` | – | – | ¹ name of an environment variable holding the secret (how TOML refers to it) |
//! | `store_id` | yes | – | the store id (often equal to the client id, §1 \[MAG\]) |
//! | `department_id` | – | none | the register's department, sent with members and transactions; enroll needs one |
//! | `identifier_kind` | – | `national_id` | which lookup the store's `member_identifier` is: `national_id`, `drivers_license` or `external_id` |
//! | `attempt_timeout` | – | `10s` | per-attempt timeout: seconds as a number, or `"500ms"`, `"10s"`, `"2m"` |
//! | `time_zone` | – | `Europe/Oslo` | IANA zone for offset-less date-times and `created_at` |
//!
//! Live sandbox runs read `LOYALTY_LIVE_DILLER_URL`, `_CLIENT_ID`, `_CLIENT_SECRET`, `_STORE_ID`
//! and `_DEPARTMENT_ID` through [`DillerConfig::from_env_prefix`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono_tz::Tz;
use loyalty_core::{Error, LookupKind};
use loyalty_http::{parse_duration, Secret};
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::PROVIDER;

const OPERATION: &str = "config.load";
/// Prefix of everyday environment variables.
pub const ENV_PREFIX: &str = "LOYALTY_DILLER_";
/// Prefix of live sandbox variables.
pub const LIVE_ENV_PREFIX: &str = "LOYALTY_LIVE_DILLER_";

const KEYS: &[&str] = &[
    "base_url",
    "client_id",
    "client_secret",
    "client_secret_env",
    "store_id",
    "department_id",
    "identifier_kind",
    "attempt_timeout",
    "time_zone",
];

/// Configuration of one Diller store connection.
///
/// `Debug` is safe: the secret prints `[redacted]`, and so do credentials and query values
/// written into the base URL ([`redacted_url`]).
#[derive(Clone)]
#[non_exhaustive]
pub struct DillerConfig {
    /// API root; `/connect/token` and `/api/v2.0/…` are resolved against its origin.
    pub base_url: Url,
    /// OAuth2 client id.
    pub client_id: String,
    /// OAuth2 client secret.
    pub client_secret: Secret,
    /// Store id.
    pub store_id: String,
    /// Default department.
    pub department_id: Option<String>,
    /// The lookup kind the store's `member_identifier` answers (`identifierValue` search).
    pub identifier_kind: LookupKind,
    /// Per-attempt timeout.
    pub attempt_timeout: Duration,
    /// Store time zone.
    pub time_zone: Tz,
}

impl fmt::Debug for DillerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DillerConfig")
            .field("base_url", &redacted_url(&self.base_url))
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("store_id", &self.store_id)
            .field("department_id", &self.department_id)
            .field("identifier_kind", &self.identifier_kind)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("time_zone", &self.time_zone)
            .finish()
    }
}

pub use loyalty_http::redacted_url;

use loyalty_http::redacted_url_text;

impl DillerConfig {
    /// A builder with the defaults.
    pub fn builder() -> DillerConfigBuilder {
        DillerConfigBuilder::default()
    }

    /// Reads `LOYALTY_DILLER_<KEY>` variables, refusing unknown ones under the prefix.
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_env() -> Result<DillerConfig, Error> {
        DillerConfig::from_env_prefix(ENV_PREFIX)
    }

    /// Reads `<prefix><KEY>` variables (`LOYALTY_LIVE_DILLER_` for live runs). `URL` is accepted
    /// for `BASE_URL`.
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_env_prefix(prefix: &str) -> Result<DillerConfig, Error> {
        DillerConfig::from_vars(prefix, vars_from_env(prefix)?)
    }

    /// [`DillerConfig::from_env_prefix`] over given variables (testable without the process
    /// environment).
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_vars(
        prefix: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<DillerConfig, Error> {
        let mut map = BTreeMap::new();
        for (name, value) in vars {
            let Some(key) = name.strip_prefix(prefix) else { continue };
            let key = match key {
                "URL" => "base_url".to_string(),
                other => other.to_ascii_lowercase(),
            };
            if !KEYS.contains(&key.as_str()) || key == "client_secret_env" {
                return Err(invalid(name.clone(), format!("unknown {PROVIDER} variable")));
            }
            map.insert(key, serde_json::Value::String(value));
        }
        DillerConfig::from_map(map).map_err(|e| match e.kind() {
            loyalty_core::ErrorKind::Invalid { field, reason } => {
                let var = if field == "base_url" && prefix == LIVE_ENV_PREFIX {
                    format!("{prefix}URL")
                } else {
                    format!("{prefix}{}", field.to_ascii_uppercase())
                };
                invalid(var, reason.clone())
            }
            _ => e,
        })
    }

    /// Reads a config from a JSON value (a parsed TOML table converts to one).
    ///
    /// # Errors
    /// `Invalid` naming the key that is missing, malformed or unknown.
    pub fn from_value(value: serde_json::Value) -> Result<DillerConfig, Error> {
        match value {
            serde_json::Value::Object(map) => DillerConfig::from_map(map.into_iter().collect()),
            _ => Err(invalid("config", "expected a table of keys")),
        }
    }

    fn from_map(map: BTreeMap<String, serde_json::Value>) -> Result<DillerConfig, Error> {
        if let Some(unknown) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(invalid(unknown.clone(), format!("unknown key in {PROVIDER} config")));
        }
        let text = |key: &str| -> Result<Option<String>, Error> {
            match map.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) if key == "attempt_timeout" => Ok(Some(other.to_string())),
                Some(_) => Err(invalid(key, "expected a string")),
            }
        };
        let mut b = DillerConfig::builder();
        b.base_url = text("base_url")?;
        b.client_id = text("client_id")?;
        b.client_secret = text("client_secret")?.map(Secret::new);
        if let Some(var) = text("client_secret_env")? {
            if b.client_secret.is_some() {
                return Err(invalid(
                    "client_secret_env",
                    "give client_secret or client_secret_env, not both",
                ));
            }
            let value = std::env::var(&var).map_err(|_| {
                invalid("client_secret_env", format!("environment variable {var} is not set"))
            })?;
            b.client_secret = Some(Secret::new(value));
        }
        b.store_id = text("store_id")?;
        b.department_id = text("department_id")?;
        if let Some(kind) = text("identifier_kind")? {
            b.identifier_kind = match kind.as_str() {
                "national_id" => LookupKind::NationalId,
                "drivers_license" => LookupKind::DriversLicense,
                "external_id" => LookupKind::ExternalId,
                _ => {
                    return Err(invalid(
                        "identifier_kind",
                        "expected national_id, drivers_license or external_id",
                    ))
                }
            };
        }
        if let Some(t) = text("attempt_timeout")? {
            b.attempt_timeout = parse_duration(&t)
                .ok_or_else(|| invalid("attempt_timeout", "expected e.g. 10, \"10s\" or \"500ms\""))?;
        }
        b.time_zone = text("time_zone")?;
        b.build()
    }
}

impl<'de> Deserialize<'de> for DillerConfig {
    /// Deserialises from any self-describing format; unknown keys fail naming the vendor and
    /// the key.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        DillerConfig::from_map(map).map_err(|e| serde::de::Error::custom(e.to_string()))
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

/// Builds a [`DillerConfig`]; `build()` validates. `Debug` redacts as [`DillerConfig`]'s does.
#[derive(Clone)]
pub struct DillerConfigBuilder {
    base_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    store_id: Option<String>,
    department_id: Option<String>,
    identifier_kind: LookupKind,
    attempt_timeout: Duration,
    time_zone: Option<String>,
}

impl fmt::Debug for DillerConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DillerConfigBuilder")
            .field("base_url", &self.base_url.as_deref().map(redacted_url_text))
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("store_id", &self.store_id)
            .field("department_id", &self.department_id)
            .field("identifier_kind", &self.identifier_kind)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("time_zone", &self.time_zone)
            .finish()
    }
}

impl Default for DillerConfigBuilder {
    fn default() -> Self {
        DillerConfigBuilder {
            base_url: None,
            client_id: None,
            client_secret: None,
            store_id: None,
            department_id: None,
            identifier_kind: LookupKind::NationalId,
            attempt_timeout: Duration::from_secs(10),
            time_zone: None,
        }
    }
}

impl DillerConfigBuilder {
    /// Sets the API root (no default: production must be chosen explicitly).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets the OAuth2 client id.
    pub fn with_client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Sets the OAuth2 client secret.
    pub fn with_client_secret(mut self, secret: Secret) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// Sets the store id.
    pub fn with_store_id(mut self, id: impl Into<String>) -> Self {
        self.store_id = Some(id.into());
        self
    }

    /// Sets the default department.
    pub fn with_department_id(mut self, id: impl Into<String>) -> Self {
        self.department_id = Some(id.into());
        self
    }

    /// Sets which lookup the store's extra identifier answers.
    pub fn with_identifier_kind(mut self, kind: LookupKind) -> Self {
        self.identifier_kind = kind;
        self
    }

    /// Sets the per-attempt timeout.
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Sets the store time zone (IANA name).
    pub fn with_time_zone(mut self, tz: impl Into<String>) -> Self {
        self.time_zone = Some(tz.into());
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// `Invalid` naming the key: a missing required key, a non-https URL off loopback, a zero
    /// timeout, an unknown time zone, an identifier kind that is no extra identifier.
    pub fn build(self) -> Result<DillerConfig, Error> {
        let required = |v: Option<String>, key: &str| -> Result<String, Error> {
            v.filter(|s| !s.trim().is_empty()).ok_or_else(|| invalid(key, "required"))
        };
        let raw_url = required(self.base_url, "base_url")?;
        let base_url =
            loyalty_http::vendor_base_url(&raw_url).map_err(|reason| invalid("base_url", reason))?;
        let client_id = required(self.client_id, "client_id")?;
        let client_secret = self
            .client_secret
            .filter(|s| !s.expose().is_empty())
            .ok_or_else(|| invalid("client_secret", "required"))?;
        let store_id = required(self.store_id, "store_id")?;
        if self.attempt_timeout.is_zero() {
            return Err(invalid("attempt_timeout", "must be above zero"));
        }
        if !matches!(
            self.identifier_kind,
            LookupKind::NationalId | LookupKind::DriversLicense | LookupKind::ExternalId
        ) {
            return Err(invalid("identifier_kind", "expected national_id, drivers_license or external_id"));
        }
        let time_zone = match self.time_zone {
            None => chrono_tz::Europe::Oslo,
            Some(name) => name
                .trim()
                .parse::<Tz>()
                .map_err(|_| invalid("time_zone", format!("unknown time zone {name:?}")))?,
        };
        Ok(DillerConfig {
            base_url,
            client_id,
            client_secret,
            store_id,
            department_id: self.department_id.filter(|d| !d.trim().is_empty()),
            identifier_kind: self.identifier_kind,
            attempt_timeout: self.attempt_timeout,
            time_zone,
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

    fn good() -> DillerConfigBuilder {
        DillerConfig::builder()
            .with_base_url("https://api.prerelease.dillerapp.com")
            .with_client_id("client")
            .with_client_secret(Secret::new("s3cr3t-value"))
            .with_store_id("store")
    }

    #[test]
    fn defaults_are_national_id_oslo_and_ten_seconds() {
        let c = good().build().unwrap();
        assert_eq!(c.identifier_kind, LookupKind::NationalId);
        assert_eq!(c.time_zone, chrono_tz::Europe::Oslo);
        assert_eq!(c.attempt_timeout, Duration::from_secs(10));
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let e = good().with_base_url("http://api.diller.app").build().unwrap_err();
        assert_eq!(field_of(&e), "base_url");
        assert!(good().with_base_url("http://127.0.0.1:9000").build().is_ok());
    }

    #[test]
    fn missing_base_url_is_named() {
        let e = DillerConfig::builder().with_client_id("a").build().unwrap_err();
        assert_eq!(field_of(&e), "base_url");
    }

    #[test]
    fn unknown_key_names_vendor_and_key() {
        let e = DillerConfig::from_value(serde_json::json!({
            "base_url": "https://x.example", "client_id": "a", "client_secret": "b", "store_id": "s", "stor_id": "t"
        }))
        .unwrap_err();
        assert_eq!(field_of(&e), "stor_id");
        assert!(e.to_string().contains("diller"), "{e}");
    }

    #[test]
    fn serde_reads_durations_and_zones() {
        let c: DillerConfig = serde_json::from_value(serde_json::json!({
            "base_url": "https://x.example", "client_id": "a", "client_secret": "b", "store_id": "s",
            "attempt_timeout": "500ms", "time_zone": "Europe/Stockholm", "identifier_kind": "drivers_license"
        }))
        .unwrap();
        assert_eq!(c.attempt_timeout, Duration::from_millis(500));
        assert_eq!(c.time_zone, chrono_tz::Europe::Stockholm);
        assert_eq!(c.identifier_kind, LookupKind::DriversLicense);
    }

    #[test]
    fn env_reads_prefixed_keys_and_refuses_unknown_ones() {
        let vars = |extra: &[(&str, &str)]| {
            let mut v: Vec<(String, String)> = [
                ("LOYALTY_DILLER_BASE_URL", "https://x.example"),
                ("LOYALTY_DILLER_CLIENT_ID", "a"),
                ("LOYALTY_DILLER_CLIENT_SECRET", "b"),
                ("LOYALTY_DILLER_STORE_ID", "s"),
                ("OTHER", "ignored"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            v.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            v
        };
        let c =
            DillerConfig::from_vars(ENV_PREFIX, vars(&[("LOYALTY_DILLER_DEPARTMENT_ID", "web")])).unwrap();
        assert_eq!(c.department_id.as_deref(), Some("web"));
        let e = DillerConfig::from_vars(ENV_PREFIX, vars(&[("LOYALTY_DILLER_SECRET", "x")])).unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_DILLER_SECRET");
        let e = DillerConfig::from_vars(ENV_PREFIX, vars(&[("LOYALTY_DILLER_TIME_ZONE", "Mars/Base")]))
            .unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_DILLER_TIME_ZONE");
    }

    #[test]
    fn live_prefix_reads_url() {
        let vars = [
            ("LOYALTY_LIVE_DILLER_URL", "https://api.prerelease.dillerapp.com"),
            ("LOYALTY_LIVE_DILLER_CLIENT_ID", "a"),
            ("LOYALTY_LIVE_DILLER_CLIENT_SECRET", "b"),
            ("LOYALTY_LIVE_DILLER_STORE_ID", "s"),
            ("LOYALTY_DILLER_CLIENT_SECRET", "everyday secret never read by live runs"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let c = DillerConfig::from_vars(LIVE_ENV_PREFIX, vars).unwrap();
        assert_eq!(c.client_secret.expose(), "b");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = good().build().unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn debug_redacts_credentials_and_query_values_in_the_base_url() {
        let url = "https://admin:hunter2-pw@api.prerelease.dillerapp.com/root?api_key=k-9981&x=1#tok-77";
        let b = good().with_base_url(url);
        let c = b.clone().build().unwrap();
        for dump in
            [format!("{c:?}"), format!("{b:?}"), format!("{:?}", crate::DillerClient::new(&c).unwrap())]
        {
            for secret in ["hunter2-pw", "admin", "k-9981", "tok-77", "s3cr3t-value"] {
                assert!(!dump.contains(secret), "{secret} in {dump}");
            }
            assert!(dump.contains("api.prerelease.dillerapp.com/root"), "{dump}");
        }
        assert_eq!(
            redacted_url(&c.base_url),
            "https://%5Bredacted%5D@api.prerelease.dillerapp.com/root?api_key=%5Bredacted%5D&x=%5Bredacted%5D#[redacted]"
        );
    }

    #[test]
    fn builder_debug_hides_a_base_url_that_does_not_parse() {
        let b = good().with_base_url("https://user:pa ss@[bad");
        assert!(!format!("{b:?}").contains("pa ss"));
    }
}
