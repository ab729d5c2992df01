//! [`IdosellConfig`]: which wholesaler, the customer account's credentials, the shop's invoice
//! data and the names table.
//!
//! Keys (TOML / serde, and `LOYALTY_IDOSELL_<KEY>` upper-cased in the environment):
//!
//! | Key | Required | Default | Meaning |
//! | --- | --- | --- | --- |
//! | `base_url` | yes | – (no production default) | the wholesaler's shop domain, e.g. `https://hurtownia.example.pl` (§2.2); https unless loopback |
//! | `login` | yes | – | login of the shop's customer account in the wholesale store (§3.1) |
//! | `password` | one of¹ | – | its password; only its SHA-1 is kept |
//! | `password_sha1` | one of¹ | – | or the inner digest `sha1(password)`, 40 hex (§9.1: the daily key needs only it) |
//! | `password_env`, `password_sha1_env` | – | – | ¹ names of environment variables holding them (how TOML refers to secrets) |
//! | `dropshipping_key` | yes² | – | the account's `dropshippingKey` (§3.4) |
//! | `dropshipping_key_env` | – | – | ² name of an environment variable holding it |
//! | `code_type` | – | `internal` | which ICDF code family product ids are: `internal`, `producer` or `external` (§4) |
//! | `currency` | – | `PLN` | currency of amounts when a reply names none |
//! | `default_courier_id` | – | none | courier of orders sent as transactions; without it, or without the billing keys, the adapter declares no `send_transaction` (a checkout charges and sends nothing) |
//! | `billing_company`, `billing_tax_id`, `billing_street`, `billing_postcode`, `billing_city`, `billing_country` | – | none | the shop's invoice data for orders that carry none (all six or none) |
//! | `key_time_zone` | – | `Europe/Warsaw` | zone whose calendar date enters the daily key (§3.3) |
//! | `session_refresh_after` | – | `12m` | renew the 15-minute session this long after login (§3.5) |
//! | `attempt_timeout` | – | `10s` | per-attempt timeout: seconds, or `"500ms"`, `"10s"`, `"2m"` |
//! | `webhook_signature` | – | `if_present` | shipment notices: `required`, `if_present` (checked when sent) or `off` (§7.2) |
//! | `webhook_max_bytes` | – | `65536` | largest shipment notice body accepted |
//! | `names` | – | working names | the names table ([`crate::names::Names`]): a TOML table, or JSON text in the environment |
//!
//! Live sandbox runs read `LOYALTY_LIVE_IDOSELL_URL` (or `_BASE_URL`), `_LOGIN`, `_PASSWORD` or
//! `_PASSWORD_SHA1`, `_DROPSHIPPING_KEY` and any other key through
//! [`IdosellConfig::from_env_prefix`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono_tz::Tz;
use loyalty_core::{Address, Billing, Currency, Error};
use loyalty_http::{parse_duration, redacted_url, redacted_url_text, Secret};
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::auth::sha1_hex;
use crate::names::Names;
use crate::webhook::SignaturePolicy;
use crate::PROVIDER;

const OPERATION: &str = "config.load";
/// Prefix of everyday environment variables.
pub const ENV_PREFIX: &str = "LOYALTY_IDOSELL_";
/// Prefix of live sandbox variables.
pub const LIVE_ENV_PREFIX: &str = "LOYALTY_LIVE_IDOSELL_";

const KEYS: &[&str] = &[
    "base_url",
    "login",
    "password",
    "password_env",
    "password_sha1",
    "password_sha1_env",
    "dropshipping_key",
    "dropshipping_key_env",
    "code_type",
    "currency",
    "default_courier_id",
    "billing_company",
    "billing_tax_id",
    "billing_street",
    "billing_postcode",
    "billing_city",
    "billing_country",
    "key_time_zone",
    "session_refresh_after",
    "attempt_timeout",
    "webhook_signature",
    "webhook_max_bytes",
    "names",
];

/// Which ICDF code family a product id is (§4: `internal`, `producer`, `external`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CodeType {
    /// The wholesaler's own product code (default).
    #[default]
    Internal,
    /// The producer's code (EAN-like).
    Producer,
    /// An external code.
    External,
}

impl CodeType {
    /// The ICDF value.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeType::Internal => "internal",
            CodeType::Producer => "producer",
            CodeType::External => "external",
        }
    }

    fn parse(s: &str) -> Option<CodeType> {
        match s.trim() {
            "internal" => Some(CodeType::Internal),
            "producer" => Some(CodeType::Producer),
            "external" => Some(CodeType::External),
            _ => None,
        }
    }
}

/// Configuration of one wholesaler connection.
///
/// `Debug` is safe: the password digest and the dropshipping key print `[redacted]`.
#[derive(Clone)]
#[non_exhaustive]
pub struct IdosellConfig {
    /// The wholesaler's shop domain; gate paths are appended to it.
    pub base_url: Url,
    /// Login of the shop's customer account.
    pub login: String,
    /// `sha1(password)` as 40 lowercase hex: all the daily key needs (§3.1).
    pub password_sha1: Secret,
    /// The account's `dropshippingKey` (§3.4).
    pub dropshipping_key: Secret,
    /// The ICDF code family of product ids.
    pub code_type: CodeType,
    /// Currency of amounts when a reply names none.
    pub currency: Currency,
    /// Courier of orders sent as transactions.
    pub default_courier_id: Option<String>,
    /// The shop's invoice data for orders that carry none.
    pub billing: Option<Billing>,
    /// Zone of the daily key's date (§3.3).
    pub key_time_zone: Tz,
    /// Renew the session this long after login.
    pub session_refresh_after: Duration,
    /// Per-attempt timeout.
    pub attempt_timeout: Duration,
    /// How shipment notices' signatures are checked.
    pub webhook_signature: SignaturePolicy,
    /// Largest shipment notice body accepted.
    pub webhook_max_bytes: usize,
    /// The names table (§9.3).
    pub names: Names,
}

// By hand: a password or token pasted into a base URL must not be printed.
impl fmt::Debug for IdosellConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdosellConfig")
            .field("base_url", &redacted_url(&self.base_url))
            .field("login", &self.login)
            .field("password_sha1", &self.password_sha1)
            .field("dropshipping_key", &self.dropshipping_key)
            .field("code_type", &self.code_type)
            .field("currency", &self.currency)
            .field("default_courier_id", &self.default_courier_id)
            .field("billing", &self.billing)
            .field("key_time_zone", &self.key_time_zone)
            .field("session_refresh_after", &self.session_refresh_after)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("webhook_signature", &self.webhook_signature)
            .field("webhook_max_bytes", &self.webhook_max_bytes)
            .field("names", &self.names)
            .finish()
    }
}

impl IdosellConfig {
    /// A builder with the defaults.
    pub fn builder() -> IdosellConfigBuilder {
        IdosellConfigBuilder::default()
    }

    /// Reads `LOYALTY_IDOSELL_<KEY>` variables, refusing unknown ones under the prefix.
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_env() -> Result<IdosellConfig, Error> {
        IdosellConfig::from_env_prefix(ENV_PREFIX)
    }

    /// Reads `<prefix><KEY>` variables (`LOYALTY_LIVE_IDOSELL_` for live runs); `URL` is
    /// accepted for `BASE_URL`.
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_env_prefix(prefix: &str) -> Result<IdosellConfig, Error> {
        IdosellConfig::from_vars(prefix, vars_from_env(prefix)?)
    }

    /// [`IdosellConfig::from_env_prefix`] over given variables.
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_vars(
        prefix: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<IdosellConfig, Error> {
        let mut map = BTreeMap::new();
        for (name, value) in vars {
            let Some(key) = name.strip_prefix(prefix) else { continue };
            let key = match key {
                "URL" => "base_url".to_string(),
                other => other.to_ascii_lowercase(),
            };
            // `*_env` keys name variables; in the environment the value itself is given.
            if !KEYS.contains(&key.as_str()) || key.ends_with("_env") {
                return Err(invalid(name.clone(), format!("unknown {PROVIDER} variable")));
            }
            let value = if key == "names" {
                serde_json::from_str(&value).map_err(|e| invalid(name.clone(), format!("not JSON: {e}")))?
            } else {
                serde_json::Value::String(value)
            };
            map.insert(key, value);
        }
        IdosellConfig::from_map(map).map_err(|e| match e.kind() {
            loyalty_core::ErrorKind::Invalid { field, reason } => {
                let key = field.split('.').next().unwrap_or(field);
                invalid(format!("{prefix}{}", key.to_ascii_uppercase()), reason.clone())
            }
            _ => e,
        })
    }

    /// Reads a config from a JSON value (a parsed TOML table converts to one).
    ///
    /// # Errors
    /// `Invalid` naming the key that is missing, malformed or unknown.
    pub fn from_value(value: serde_json::Value) -> Result<IdosellConfig, Error> {
        match value {
            serde_json::Value::Object(map) => IdosellConfig::from_map(map.into_iter().collect()),
            _ => Err(invalid("config", "expected a table of keys")),
        }
    }

    fn from_map(map: BTreeMap<String, serde_json::Value>) -> Result<IdosellConfig, Error> {
        if let Some(unknown) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(invalid(unknown.clone(), format!("unknown key in {PROVIDER} config")));
        }
        let text = |key: &str| -> Result<Option<String>, Error> {
            match map.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(v @ serde_json::Value::Number(_))
                    if matches!(
                        key,
                        "attempt_timeout"
                            | "session_refresh_after"
                            | "webhook_max_bytes"
                            | "default_courier_id"
                    ) =>
                {
                    Ok(Some(v.to_string()))
                }
                Some(_) => Err(invalid(key, "expected a string")),
            }
        };
        let secret = |key: &str| -> Result<Option<Secret>, Error> {
            let direct = text(key)?;
            let env_key = format!("{key}_env");
            match (direct, text(&env_key)?) {
                (Some(_), Some(_)) => Err(invalid(env_key, format!("give {key} or {key}_env, not both"))),
                (Some(v), None) => Ok(Some(Secret::new(v))),
                (None, Some(var)) => std::env::var(&var)
                    .map(|v| Some(Secret::new(v)))
                    .map_err(|_| invalid(env_key, format!("environment variable {var} is not set"))),
                (None, None) => Ok(None),
            }
        };
        let mut b = IdosellConfig::builder();
        b.base_url = text("base_url")?;
        b.login = text("login")?;
        b.password = secret("password")?;
        b.password_sha1 = secret("password_sha1")?;
        b.dropshipping_key = secret("dropshipping_key")?;
        if let Some(c) = text("code_type")? {
            b.code_type = CodeType::parse(&c)
                .ok_or_else(|| invalid("code_type", "expected internal, producer or external"))?;
        }
        if let Some(c) = text("currency")? {
            b.currency = Currency::from_code(c.trim()).map_err(|e| invalid("currency", e.to_string()))?;
        }
        b.default_courier_id = text("default_courier_id")?;
        let billing: Vec<Option<String>> = ["company", "tax_id", "street", "postcode", "city", "country"]
            .iter()
            .map(|k| text(&format!("billing_{k}")))
            .collect::<Result<_, _>>()?;
        if billing.iter().any(Option::is_some) {
            let missing = ["company", "tax_id", "street", "postcode", "city", "country"]
                .iter()
                .zip(&billing)
                .find(|(_, v)| v.is_none())
                .map(|(k, _)| *k);
            if let Some(k) = missing {
                return Err(invalid(format!("billing_{k}"), "give all six billing keys or none"));
            }
            let v: Vec<String> = billing.into_iter().flatten().collect();
            b.billing = Some(Billing::new(
                v[0].clone(),
                v[1].clone(),
                Address {
                    street: Some(v[2].clone()),
                    zip_code: Some(v[3].clone()),
                    city: Some(v[4].clone()),
                    state: None,
                    country_code: Some(v[5].clone()),
                },
            ));
        }
        b.key_time_zone = text("key_time_zone")?;
        for (key, slot) in [
            ("session_refresh_after", &mut b.session_refresh_after),
            ("attempt_timeout", &mut b.attempt_timeout),
        ] {
            if let Some(t) = text(key)? {
                *slot = parse_duration(&t)
                    .ok_or_else(|| invalid(key, "expected e.g. 10, \"10s\" or \"500ms\""))?;
            }
        }
        if let Some(p) = text("webhook_signature")? {
            b.webhook_signature = SignaturePolicy::parse(&p)
                .ok_or_else(|| invalid("webhook_signature", "expected required, if_present or off"))?;
        }
        if let Some(n) = text("webhook_max_bytes")? {
            b.webhook_max_bytes =
                n.trim().parse().map_err(|_| invalid("webhook_max_bytes", "expected a number of bytes"))?;
        }
        if let Some(names) = map.get("names") {
            b.names = serde_json::from_value(names.clone()).map_err(|e| invalid("names", e.to_string()))?;
        }
        b.build()
    }
}

impl<'de> Deserialize<'de> for IdosellConfig {
    /// Deserialises from any self-describing format; unknown keys fail naming the vendor and
    /// the key.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        IdosellConfig::from_map(map).map_err(|e| serde::de::Error::custom(e.to_string()))
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

/// Builds an [`IdosellConfig`]; `build()` validates.
#[derive(Clone)]
pub struct IdosellConfigBuilder {
    base_url: Option<String>,
    login: Option<String>,
    password: Option<Secret>,
    password_sha1: Option<Secret>,
    dropshipping_key: Option<Secret>,
    code_type: CodeType,
    currency: Currency,
    default_courier_id: Option<String>,
    billing: Option<Billing>,
    key_time_zone: Option<String>,
    session_refresh_after: Duration,
    attempt_timeout: Duration,
    webhook_signature: SignaturePolicy,
    webhook_max_bytes: usize,
    names: Names,
}

// By hand: a password or token pasted into a base URL must not be printed.
impl fmt::Debug for IdosellConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdosellConfigBuilder")
            .field("base_url", &self.base_url.as_deref().map(redacted_url_text))
            .field("login", &self.login)
            .field("password", &self.password)
            .field("password_sha1", &self.password_sha1)
            .field("dropshipping_key", &self.dropshipping_key)
            .field("code_type", &self.code_type)
            .field("currency", &self.currency)
            .field("default_courier_id", &self.default_courier_id)
            .field("billing", &self.billing)
            .field("key_time_zone", &self.key_time_zone)
            .field("session_refresh_after", &self.session_refresh_after)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("webhook_signature", &self.webhook_signature)
            .field("webhook_max_bytes", &self.webhook_max_bytes)
            .field("names", &self.names)
            .finish()
    }
}

impl Default for IdosellConfigBuilder {
    fn default() -> Self {
        IdosellConfigBuilder {
            base_url: None,
            login: None,
            password: None,
            password_sha1: None,
            dropshipping_key: None,
            code_type: CodeType::Internal,
            currency: Currency::PLN,
            default_courier_id: None,
            billing: None,
            key_time_zone: None,
            // §3.5: renew at ~12 minutes of the 15, a margin that also absorbs clock skew.
            session_refresh_after: Duration::from_secs(12 * 60),
            attempt_timeout: Duration::from_secs(10),
            webhook_signature: SignaturePolicy::IfPresent,
            webhook_max_bytes: 64 * 1024,
            names: Names::default(),
        }
    }
}

impl IdosellConfigBuilder {
    /// Sets the wholesaler's shop domain (no default: production must be chosen explicitly).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets the customer account's login.
    pub fn with_login(mut self, login: impl Into<String>) -> Self {
        self.login = Some(login.into());
        self
    }

    /// Sets the password (only its SHA-1 is kept).
    pub fn with_password(mut self, password: Secret) -> Self {
        self.password = Some(password);
        self
    }

    /// Sets the inner digest `sha1(password)` instead of the password (§9.1).
    pub fn with_password_sha1(mut self, digest: Secret) -> Self {
        self.password_sha1 = Some(digest);
        self
    }

    /// Sets the `dropshippingKey`.
    pub fn with_dropshipping_key(mut self, key: Secret) -> Self {
        self.dropshipping_key = Some(key);
        self
    }

    /// Sets the ICDF code family of product ids.
    pub fn with_code_type(mut self, code_type: CodeType) -> Self {
        self.code_type = code_type;
        self
    }

    /// Sets the currency of amounts when a reply names none.
    pub fn with_currency(mut self, currency: Currency) -> Self {
        self.currency = currency;
        self
    }

    /// Sets the courier of orders sent as transactions.
    pub fn with_default_courier(mut self, courier_id: impl Into<String>) -> Self {
        self.default_courier_id = Some(courier_id.into());
        self
    }

    /// Sets the shop's invoice data.
    pub fn with_billing(mut self, billing: Billing) -> Self {
        self.billing = Some(billing);
        self
    }

    /// Sets the zone of the daily key's date (IANA name).
    pub fn with_key_time_zone(mut self, zone: impl Into<String>) -> Self {
        self.key_time_zone = Some(zone.into());
        self
    }

    /// Sets how long after login the session is renewed.
    pub fn with_session_refresh_after(mut self, after: Duration) -> Self {
        self.session_refresh_after = after;
        self
    }

    /// Sets the per-attempt timeout.
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Sets how shipment notices' signatures are checked.
    pub fn with_webhook_signature(mut self, policy: SignaturePolicy) -> Self {
        self.webhook_signature = policy;
        self
    }

    /// Sets the largest shipment notice body accepted.
    pub fn with_webhook_max_bytes(mut self, bytes: usize) -> Self {
        self.webhook_max_bytes = bytes;
        self
    }

    /// Sets the names table.
    pub fn with_names(mut self, names: Names) -> Self {
        self.names = names;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// `Invalid` naming the key: a missing required key, a non-https URL off loopback, a
    /// password and a digest both or neither given, a digest that is not 40 hex, a zero
    /// duration, a renewal at or past the session's 15 minutes, an unknown time zone.
    pub fn build(self) -> Result<IdosellConfig, Error> {
        let required = |v: Option<String>, key: &str| -> Result<String, Error> {
            v.filter(|s| !s.trim().is_empty()).ok_or_else(|| invalid(key, "required"))
        };
        let raw_url = required(self.base_url, "base_url")?;
        let base_url =
            loyalty_http::vendor_base_url(&raw_url).map_err(|reason| invalid("base_url", reason))?;
        let login = required(self.login, "login")?;
        let password_sha1 = match (self.password, self.password_sha1) {
            (Some(_), Some(_)) => {
                return Err(invalid("password_sha1", "give password or password_sha1, not both"))
            }
            (None, None) => return Err(invalid("password", "required (or password_sha1)")),
            (Some(p), None) if p.expose().is_empty() => return Err(invalid("password", "required")),
            // §3.2: hashed as UTF-8, rendered as 40 lowercase hex; the password is not kept.
            (Some(p), None) => Secret::new(sha1_hex(p.expose().as_bytes())),
            (None, Some(d)) => {
                let d = d.expose().trim();
                if d.len() != 40 || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid("password_sha1", "expected 40 hex digits"));
                }
                // The inner digest enters the key as lowercase text (§3.2, checklist 4).
                Secret::new(d.to_ascii_lowercase())
            }
        };
        let dropshipping_key = self
            .dropshipping_key
            .filter(|s| !s.expose().trim().is_empty())
            .ok_or_else(|| invalid("dropshipping_key", "required"))?;
        // Both go into every SOAP body as text: one XML 1.0 cannot carry makes each call
        // ill-formed (the character is named, never the secret).
        for (key, value) in [("login", login.as_str()), ("dropshipping_key", dropshipping_key.expose())] {
            if let Some(c) = crate::wire::xml::forbidden_char(value) {
                return Err(invalid(
                    key,
                    format!("holds U+{:04X}, a character XML 1.0 does not allow", u32::from(c)),
                ));
            }
        }
        if self.attempt_timeout.is_zero() {
            return Err(invalid("attempt_timeout", "must be above zero"));
        }
        if self.session_refresh_after.is_zero() || self.session_refresh_after >= Duration::from_secs(15 * 60)
        {
            return Err(invalid(
                "session_refresh_after",
                "must be above zero and below the session's 15 minutes",
            ));
        }
        if self.webhook_max_bytes == 0 {
            return Err(invalid("webhook_max_bytes", "must be above zero"));
        }
        let key_time_zone = match self.key_time_zone {
            None => chrono_tz::Europe::Warsaw,
            Some(name) => name
                .trim()
                .parse::<Tz>()
                .map_err(|_| invalid("key_time_zone", format!("unknown time zone {name:?}")))?,
        };
        Ok(IdosellConfig {
            base_url,
            login,
            password_sha1,
            dropshipping_key,
            code_type: self.code_type,
            currency: self.currency,
            default_courier_id: self
                .default_courier_id
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty()),
            billing: self.billing,
            key_time_zone,
            session_refresh_after: self.session_refresh_after,
            attempt_timeout: self.attempt_timeout,
            webhook_signature: self.webhook_signature,
            webhook_max_bytes: self.webhook_max_bytes,
            names: self.names,
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

    fn good() -> IdosellConfigBuilder {
        IdosellConfig::builder()
            .with_base_url("https://hurtownia.example.pl")
            .with_login("sklep")
            .with_password(Secret::new("Hurt0wnia!2024"))
            .with_dropshipping_key(Secret::new("ds-key-value"))
    }

    #[test]
    fn defaults_are_internal_codes_pln_warsaw_and_twelve_minutes() {
        let c = good().build().unwrap();
        assert_eq!(c.code_type, CodeType::Internal);
        assert_eq!(c.currency, Currency::PLN);
        assert_eq!(c.key_time_zone, chrono_tz::Europe::Warsaw);
        assert_eq!(c.session_refresh_after, Duration::from_secs(720));
        assert_eq!(c.webhook_signature, SignaturePolicy::IfPresent);
    }

    #[test]
    fn the_password_is_kept_only_as_its_inner_digest() {
        let c = good().build().unwrap();
        assert_eq!(c.password_sha1.expose(), "cd82db52defea4e7b81f4bbea799dbd0243dd5fb");
        assert!(!format!("{c:?}").contains("Hurt0wnia"));
    }

    #[test]
    fn an_upper_case_inner_digest_is_used_lower_case() {
        // §3.2's negative vector comes from an upper-cased inner digest: never let one through.
        let c = IdosellConfig::builder()
            .with_base_url("https://h.example")
            .with_login("sklep")
            .with_password_sha1(Secret::new("CD82DB52DEFEA4E7B81F4BBEA799DBD0243DD5FB"))
            .with_dropshipping_key(Secret::new("k"))
            .build()
            .unwrap();
        assert_eq!(c.password_sha1.expose(), "cd82db52defea4e7b81f4bbea799dbd0243dd5fb");
    }

    #[test]
    fn a_login_or_dropshipping_key_xml_cannot_carry_is_refused_naming_the_key_not_the_secret() {
        let login = good().with_login("sklep\u{1}").build().unwrap_err();
        assert_eq!(field_of(&login), "login");
        let key = good().with_dropshipping_key(Secret::new("ds\u{1B}secret")).build().unwrap_err();
        assert_eq!(field_of(&key), "dropshipping_key");
        assert!(!format!("{key:?}").contains("secret"), "{key:?}");
    }

    #[test]
    fn password_and_digest_are_one_or_the_other() {
        let both = good().with_password_sha1(Secret::new("cd82db52defea4e7b81f4bbea799dbd0243dd5fb")).build();
        assert_eq!(field_of(&both.unwrap_err()), "password_sha1");
        let bad = IdosellConfig::builder()
            .with_base_url("https://h.example")
            .with_login("sklep")
            .with_password_sha1(Secret::new("xyz"))
            .with_dropshipping_key(Secret::new("k"))
            .build();
        assert_eq!(field_of(&bad.unwrap_err()), "password_sha1");
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        assert_eq!(
            field_of(&good().with_base_url("http://hurtownia.example.pl").build().unwrap_err()),
            "base_url"
        );
        assert!(good().with_base_url("http://127.0.0.1:9000").build().is_ok());
    }

    #[test]
    fn renewal_must_come_before_the_session_ends() {
        let e = good().with_session_refresh_after(Duration::from_secs(15 * 60)).build().unwrap_err();
        assert_eq!(field_of(&e), "session_refresh_after");
    }

    #[test]
    fn unknown_key_names_vendor_and_key() {
        let e = IdosellConfig::from_value(serde_json::json!({
            "base_url": "https://x.example", "login": "a", "password": "b", "dropshipping_key": "k", "logn": "t"
        }))
        .unwrap_err();
        assert_eq!(field_of(&e), "logn");
        assert!(e.to_string().contains("idosell"), "{e}");
    }

    #[test]
    fn serde_reads_billing_names_and_durations() {
        let c: IdosellConfig = serde_json::from_value(serde_json::json!({
            "base_url": "https://x.example", "login": "a", "password_sha1": "cd82db52defea4e7b81f4bbea799dbd0243dd5fb",
            "dropshipping_key": "k", "attempt_timeout": "500ms", "code_type": "producer",
            "billing_company": "Sklep", "billing_tax_id": "5260250274", "billing_street": "ul. Kawowa 3",
            "billing_postcode": "31-001", "billing_city": "Kraków", "billing_country": "PL",
            "names": {"gates": {"place_order": {"path": "/customer/placeOrder/soap"}}}
        }))
        .unwrap();
        assert_eq!(c.attempt_timeout, Duration::from_millis(500));
        assert_eq!(c.code_type, CodeType::Producer);
        assert_eq!(c.billing.unwrap().tax_id, "5260250274");
        assert_eq!(c.names.gates.place_order.path, "/customer/placeOrder/soap");
    }

    #[test]
    fn half_a_billing_is_refused() {
        let e = IdosellConfig::from_value(serde_json::json!({
            "base_url": "https://x.example", "login": "a", "password": "b", "dropshipping_key": "k",
            "billing_company": "Sklep"
        }))
        .unwrap_err();
        assert_eq!(field_of(&e), "billing_tax_id");
    }

    #[test]
    fn env_reads_prefixed_keys_and_refuses_unknown_ones() {
        let vars = |extra: &[(&str, &str)]| {
            let mut v: Vec<(String, String)> = [
                ("LOYALTY_IDOSELL_BASE_URL", "https://x.example"),
                ("LOYALTY_IDOSELL_LOGIN", "a"),
                ("LOYALTY_IDOSELL_PASSWORD", "b"),
                ("LOYALTY_IDOSELL_DROPSHIPPING_KEY", "k"),
                ("OTHER", "ignored"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            v.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            v
        };
        let c = IdosellConfig::from_vars(ENV_PREFIX, vars(&[("LOYALTY_IDOSELL_DEFAULT_COURIER_ID", "10")]))
            .unwrap();
        assert_eq!(c.default_courier_id.as_deref(), Some("10"));
        let e = IdosellConfig::from_vars(ENV_PREFIX, vars(&[("LOYALTY_IDOSELL_PASWORD", "x")])).unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_IDOSELL_PASWORD");
        let e = IdosellConfig::from_vars(ENV_PREFIX, vars(&[("LOYALTY_IDOSELL_NAMES", r#"{"logn":"x"}"#)]))
            .unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_IDOSELL_NAMES");
    }

    #[test]
    fn live_prefix_reads_url_and_never_the_everyday_variables() {
        let vars = [
            ("LOYALTY_LIVE_IDOSELL_URL", "https://hurtownia.example.pl"),
            ("LOYALTY_LIVE_IDOSELL_LOGIN", "a"),
            ("LOYALTY_LIVE_IDOSELL_PASSWORD_SHA1", "cd82db52defea4e7b81f4bbea799dbd0243dd5fb"),
            ("LOYALTY_LIVE_IDOSELL_DROPSHIPPING_KEY", "live-key"),
            ("LOYALTY_IDOSELL_DROPSHIPPING_KEY", "everyday key never read by live runs"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let c = IdosellConfig::from_vars(LIVE_ENV_PREFIX, vars).unwrap();
        assert_eq!(c.dropshipping_key.expose(), "live-key");
    }

    #[test]
    fn debug_never_shows_the_secrets() {
        let c = good().build().unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("ds-key-value") && !d.contains("cd82db52"), "{d}");
    }
}
