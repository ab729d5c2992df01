//! [`EmanageConfig`]: where the Web Sales API lives, the client id and the campaign, the
//! campaign currency, and the campaign's progressive discount.
//!
//! Keys (TOML / serde, and `LOYALTY_EMANAGE_<KEY>` upper-cased in the environment):
//!
//! | Key | Required | Default | Meaning |
//! | --- | --- | --- | --- |
//! | `base_url` | – | `https://sales-prod.tryemanagecrm.com/api` | the sales base, ending in `/api`: the contract's default, the base of current sites (§2, §15.1 \[I\], [`crate::names::DEFAULT_SALES_BASE`]); https unless loopback; test runs give the simulator's loopback URL |
//! | `cid` | yes¹ | – | the client id sent as `X_CID` (a GUID); public in shop pages, kept secret here anyway (§3) |
//! | `cid_env` | – | – | ¹ name of an environment variable holding the client id (how TOML refers to it) |
//! | `web_key` | yes | – | the shopping-cart campaign's web key (a GUID, path segment, §3) |
//! | `currency` | yes | – | ISO 4217 code of the campaign: cart replies carry no currency (§13) |
//! | `shipping_method_id` | – | the product's first | `shippingMethodId` sent with cart lines (clients take `shippings[0]`, §5.3) |
//! | `test_mode` | – | `false` | every cart is a test cart (`behaviorId=2`, §11) |
//! | `progressive_tiers` | – | none | the campaign's progressive discount: `"1:25,2:50"` (min units : percent), or a list of `{ min_units, percent }` (§8: campaign configuration, no read API) |
//! | `progressive_product_ids` | – | every product of the campaign | qualifying products: `"918501,918502"` or a list |
//! | `progressive_count` | – | `units` | what reaches a tier: `units` (qualifying units) or `lines` (qualifying products), §8 `count` |
//! | `progressive_mode` | – | `all_units` | which units get the tier's percentage: `all_units` (every qualifying unit) or `marginal_unit` (unit *n* gets the tier reached at *n*), §8 `mode` |
//! | `upgrade_capture_policy` | – | `remainder` | how the vendor charges a step after an earlier one was captured: `remainder` (chain total = last − first) or `literal` (last − first again), §7.2 rule 5 |
//! | `attempt_timeout` | – | `10s` | per-attempt timeout: seconds as a number, or `"500ms"`, `"10s"`, `"2m"` |
//!
//! Live sandbox runs read the same keys under `LOYALTY_LIVE_EMANAGE_` (`URL` for `BASE_URL`)
//! through [`EmanageConfig::from_env_prefix`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use loyalty_core::{Currency, Error, ProductId, Tier};
use loyalty_http::{parse_duration, redacted_url, redacted_url_text, Secret};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::{names, PROVIDER};

const OPERATION: &str = "config.load";
/// Prefix of everyday environment variables.
pub const ENV_PREFIX: &str = "LOYALTY_EMANAGE_";
/// Prefix of live sandbox variables.
pub const LIVE_ENV_PREFIX: &str = "LOYALTY_LIVE_EMANAGE_";

const KEYS: &[&str] = &[
    "base_url",
    "cid",
    "cid_env",
    "web_key",
    "currency",
    "shipping_method_id",
    "test_mode",
    "progressive_tiers",
    "progressive_product_ids",
    "progressive_count",
    "progressive_mode",
    "upgrade_capture_policy",
    "attempt_timeout",
];

/// How the vendor charges an upgrade step after an earlier step of the chain was captured
/// (§7.2 rule 5, §9.2, §17 question 5): the adapter announces amounts by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapturePolicy {
    /// Only what the chain still owes: in all, last minus first (the contract's default).
    Remainder,
    /// Last minus first at every step, whatever was captured before.
    Literal,
}

/// What reaches a progressive-discount tier (§8 `progressive_discount.count`): the core's rule,
/// so the offer this adapter lists carries it and the checkout prices as the vendor does.
/// `Units` (the contract's default): the sum of the quantities of qualifying lines; `Lines`:
/// the number of qualifying products in the cart.
pub use loyalty_core::offer::ProgressiveCount as DiscountCount;
/// Which units get the reached tier's percentage (§8 `progressive_discount.mode`): the core's
/// rule. `AllUnits` (the contract's default): every qualifying unit gets the tier the whole
/// cart reaches; `MarginalUnit`: unit (or product, when counting lines) number n gets the tier
/// reached at n, "50 % only on the second unit".
pub use loyalty_core::offer::ProgressiveMode as DiscountMode;

/// The campaign's progressive discount, as configured (§8: the vendor shows no read for it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgressiveConfig {
    /// Tiers: from `min_units` qualifying units on, `percent` off every qualifying unit.
    pub tiers: Vec<Tier>,
    /// Qualifying products; empty = every product of the campaign's price list.
    pub product_ids: Vec<ProductId>,
    /// What reaches a tier.
    pub count: DiscountCount,
    /// Which units get the tier's percentage.
    pub mode: DiscountMode,
}

/// Configuration of one eManage shopping-cart campaign.
///
/// `Debug` is safe: the client id prints `[redacted]`.
#[derive(Clone)]
#[non_exhaustive]
pub struct EmanageConfig {
    /// The sales base (`…/api`); resource paths are appended to it. Defaults to
    /// [`crate::names::DEFAULT_SALES_BASE`].
    pub base_url: Url,
    /// The client id, sent as `X_CID`.
    pub cid: Secret,
    /// The campaign's web key (lower case).
    pub web_key: String,
    /// The campaign currency.
    pub currency: Currency,
    /// `shippingMethodId` for cart lines; `None` takes each product's first method.
    pub shipping_method_id: Option<i64>,
    /// Every cart is a test cart.
    pub test_mode: bool,
    /// The campaign's progressive discount, when it has one.
    pub progressive: Option<ProgressiveConfig>,
    /// How upgrade steps are charged after an earlier capture.
    pub upgrade_capture_policy: CapturePolicy,
    /// Per-attempt timeout.
    pub attempt_timeout: Duration,
}

// By hand: a password or token pasted into a base URL must not be printed.
impl fmt::Debug for EmanageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmanageConfig")
            .field("base_url", &redacted_url(&self.base_url))
            .field("cid", &self.cid)
            .field("web_key", &self.web_key)
            .field("currency", &self.currency)
            .field("shipping_method_id", &self.shipping_method_id)
            .field("test_mode", &self.test_mode)
            .field("progressive", &self.progressive)
            .field("upgrade_capture_policy", &self.upgrade_capture_policy)
            .field("attempt_timeout", &self.attempt_timeout)
            .finish()
    }
}

impl EmanageConfig {
    /// A builder with the defaults.
    pub fn builder() -> EmanageConfigBuilder {
        EmanageConfigBuilder::default()
    }

    /// Reads `LOYALTY_EMANAGE_<KEY>` variables, refusing unknown ones under the prefix.
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_env() -> Result<EmanageConfig, Error> {
        EmanageConfig::from_env_prefix(ENV_PREFIX)
    }

    /// Reads `<prefix><KEY>` variables (`LOYALTY_LIVE_EMANAGE_` for live runs). `URL` is accepted
    /// for `BASE_URL`.
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_env_prefix(prefix: &str) -> Result<EmanageConfig, Error> {
        EmanageConfig::from_vars(prefix, vars_from_env(prefix)?)
    }

    /// [`EmanageConfig::from_env_prefix`] over given variables (testable without the process
    /// environment).
    ///
    /// # Errors
    /// `Invalid` naming the variable that is missing, malformed or unknown.
    pub fn from_vars(
        prefix: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<EmanageConfig, Error> {
        let mut map = BTreeMap::new();
        for (name, value) in vars {
            let Some(key) = name.strip_prefix(prefix) else { continue };
            let key = match key {
                "URL" => "base_url".to_string(),
                other => other.to_ascii_lowercase(),
            };
            // A variable naming another variable is a TOML habit, not an environment one.
            if !KEYS.contains(&key.as_str()) || key == "cid_env" {
                return Err(invalid(name.clone(), format!("unknown {PROVIDER} variable")));
            }
            map.insert(key, serde_json::Value::String(value));
        }
        EmanageConfig::from_map(map).map_err(|e| match e.kind() {
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
    pub fn from_value(value: serde_json::Value) -> Result<EmanageConfig, Error> {
        match value {
            serde_json::Value::Object(map) => EmanageConfig::from_map(map.into_iter().collect()),
            _ => Err(invalid("config", "expected a table of keys")),
        }
    }

    fn from_map(map: BTreeMap<String, serde_json::Value>) -> Result<EmanageConfig, Error> {
        use serde_json::Value;
        if let Some(unknown) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(invalid(unknown.clone(), format!("unknown key in {PROVIDER} config")));
        }
        let text = |key: &str| -> Result<Option<String>, Error> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) if matches!(key, "attempt_timeout" | "shipping_method_id") => {
                    Ok(Some(n.to_string()))
                }
                Some(Value::Bool(b)) if key == "test_mode" => Ok(Some(b.to_string())),
                Some(_) => Err(invalid(key, "expected a string")),
            }
        };
        let mut b = EmanageConfig::builder();
        b.base_url = text("base_url")?;
        b.cid = text("cid")?.map(Secret::new);
        if let Some(var) = text("cid_env")? {
            if b.cid.is_some() {
                return Err(invalid("cid_env", "give cid or cid_env, not both"));
            }
            let value = std::env::var(&var)
                .map_err(|_| invalid("cid_env", format!("environment variable {var} is not set")))?;
            b.cid = Some(Secret::new(value));
        }
        b.web_key = text("web_key")?;
        b.currency = text("currency")?;
        if let Some(m) = text("shipping_method_id")? {
            let id =
                m.trim().parse::<i64>().map_err(|_| invalid("shipping_method_id", "expected an integer"))?;
            b.shipping_method_id = Some(id);
        }
        if let Some(t) = text("test_mode")? {
            b.test_mode = match t.trim() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(invalid("test_mode", "expected true or false")),
            };
        }
        match map.get("progressive_tiers") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => b.progressive_tiers = parse_tiers_text(s)?,
            Some(Value::Array(items)) => b.progressive_tiers = parse_tiers_list(items)?,
            Some(_) => return Err(invalid("progressive_tiers", "expected \"1:25,2:50\" or a list of tiers")),
        }
        match map.get("progressive_product_ids") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                b.progressive_product_ids = s
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| product_id("progressive_product_ids", p))
                    .collect::<Result<_, _>>()?;
            }
            Some(Value::Array(items)) => {
                b.progressive_product_ids = items
                    .iter()
                    .map(|v| match v {
                        Value::Number(n) => product_id("progressive_product_ids", &n.to_string()),
                        Value::String(s) => product_id("progressive_product_ids", s.trim()),
                        _ => Err(invalid("progressive_product_ids", "expected product ids")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            Some(_) => return Err(invalid("progressive_product_ids", "expected a list of product ids")),
        }
        if let Some(c) = text("progressive_count")? {
            b.progressive_count = Some(match c.trim() {
                "units" => DiscountCount::Units,
                "lines" => DiscountCount::Lines,
                _ => return Err(invalid("progressive_count", "expected units or lines")),
            });
        }
        if let Some(m) = text("progressive_mode")? {
            b.progressive_mode = Some(match m.trim() {
                "all_units" => DiscountMode::AllUnits,
                "marginal_unit" => DiscountMode::MarginalUnit,
                _ => return Err(invalid("progressive_mode", "expected all_units or marginal_unit")),
            });
        }
        if let Some(p) = text("upgrade_capture_policy")? {
            b.upgrade_capture_policy = match p.trim() {
                "remainder" => CapturePolicy::Remainder,
                "literal" => CapturePolicy::Literal,
                _ => return Err(invalid("upgrade_capture_policy", "expected remainder or literal")),
            };
        }
        if let Some(t) = text("attempt_timeout")? {
            b.attempt_timeout = parse_duration(&t)
                .ok_or_else(|| invalid("attempt_timeout", "expected e.g. 10, \"10s\" or \"500ms\""))?;
        }
        b.build()
    }
}

impl<'de> Deserialize<'de> for EmanageConfig {
    /// Deserialises from any self-describing format; unknown keys fail naming the vendor and
    /// the key.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        EmanageConfig::from_map(map).map_err(|e| serde::de::Error::custom(e.to_string()))
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

/// An eManage product id: an integer (§4), kept as its text in the core.
fn product_id(key: &str, text: &str) -> Result<ProductId, Error> {
    text.parse::<i64>().map_err(|_| invalid(key, format!("{text:?} is no product id")))?;
    Ok(ProductId::new(text))
}

fn tier(key: &str, min_units: &str, percent: &str) -> Result<Tier, Error> {
    let min_units =
        min_units.trim().parse::<u32>().map_err(|_| invalid(key, "min units must be a whole number"))?;
    let percent = Decimal::from_str(percent.trim()).map_err(|_| invalid(key, "percent must be a number"))?;
    if min_units == 0 || percent <= Decimal::ZERO || percent > Decimal::ONE_HUNDRED {
        return Err(invalid(key, "a tier needs at least one unit and a percentage in (0, 100]"));
    }
    Ok(Tier { min_units, percent })
}

/// `"1:25,2:50"`.
fn parse_tiers_text(text: &str) -> Result<Vec<Tier>, Error> {
    const KEY: &str = "progressive_tiers";
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            let (m, p) = t.split_once(':').ok_or_else(|| invalid(KEY, "expected min_units:percent pairs"))?;
            tier(KEY, m, p)
        })
        .collect()
}

/// `[{ min_units = 1, percent = 25 }, …]` or `[[1, 25], …]`.
fn parse_tiers_list(items: &[serde_json::Value]) -> Result<Vec<Tier>, Error> {
    use serde_json::Value;
    const KEY: &str = "progressive_tiers";
    let scalar = |v: Option<&Value>| match v {
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(invalid(KEY, "expected min_units and percent")),
    };
    items
        .iter()
        .map(|item| match item {
            Value::Object(o) => tier(KEY, &scalar(o.get("min_units"))?, &scalar(o.get("percent"))?),
            Value::Array(a) if a.len() == 2 => tier(KEY, &scalar(a.first())?, &scalar(a.get(1))?),
            _ => Err(invalid(KEY, "expected { min_units, percent }")),
        })
        .collect()
}

/// A GUID in its usual 8-4-4-4-12 hex form, any letter case (§3, §4).
fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Builds an [`EmanageConfig`]; `build()` validates.
#[derive(Clone)]
pub struct EmanageConfigBuilder {
    base_url: Option<String>,
    cid: Option<Secret>,
    web_key: Option<String>,
    currency: Option<String>,
    shipping_method_id: Option<i64>,
    test_mode: bool,
    progressive_tiers: Vec<Tier>,
    progressive_product_ids: Vec<ProductId>,
    progressive_count: Option<DiscountCount>,
    progressive_mode: Option<DiscountMode>,
    upgrade_capture_policy: CapturePolicy,
    attempt_timeout: Duration,
}

// By hand: a password or token pasted into a base URL must not be printed.
impl fmt::Debug for EmanageConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmanageConfigBuilder")
            .field("base_url", &self.base_url.as_deref().map(redacted_url_text))
            .field("cid", &self.cid)
            .field("web_key", &self.web_key)
            .field("currency", &self.currency)
            .field("shipping_method_id", &self.shipping_method_id)
            .field("test_mode", &self.test_mode)
            .field("progressive_tiers", &self.progressive_tiers)
            .field("progressive_product_ids", &self.progressive_product_ids)
            .field("progressive_count", &self.progressive_count)
            .field("progressive_mode", &self.progressive_mode)
            .field("upgrade_capture_policy", &self.upgrade_capture_policy)
            .field("attempt_timeout", &self.attempt_timeout)
            .finish()
    }
}

impl Default for EmanageConfigBuilder {
    fn default() -> Self {
        EmanageConfigBuilder {
            base_url: None,
            cid: None,
            web_key: None,
            currency: None,
            shipping_method_id: None,
            test_mode: false,
            progressive_tiers: Vec::new(),
            progressive_product_ids: Vec::new(),
            progressive_count: None,
            progressive_mode: None,
            upgrade_capture_policy: CapturePolicy::Remainder,
            attempt_timeout: Duration::from_secs(10),
        }
    }
}

impl EmanageConfigBuilder {
    /// Sets the sales base; without it the contract's default,
    /// [`crate::names::DEFAULT_SALES_BASE`] (§2).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets the client id sent as `X_CID`.
    pub fn with_cid(mut self, cid: Secret) -> Self {
        self.cid = Some(cid);
        self
    }

    /// Sets the campaign's web key.
    pub fn with_web_key(mut self, web_key: impl Into<String>) -> Self {
        self.web_key = Some(web_key.into());
        self
    }

    /// Sets the campaign currency (ISO 4217).
    pub fn with_currency(mut self, code: impl Into<String>) -> Self {
        self.currency = Some(code.into());
        self
    }

    /// Sets the shipping method of cart lines.
    pub fn with_shipping_method_id(mut self, id: i64) -> Self {
        self.shipping_method_id = Some(id);
        self
    }

    /// Makes every cart a test cart.
    pub fn with_test_mode(mut self, test: bool) -> Self {
        self.test_mode = test;
        self
    }

    /// Adds a progressive-discount tier: `percent` off every qualifying unit from `min_units` on.
    pub fn with_progressive_tier(mut self, min_units: u32, percent: Decimal) -> Self {
        self.progressive_tiers.push(Tier { min_units, percent });
        self
    }

    /// Sets the products that qualify for the progressive discount.
    pub fn with_progressive_products<I, P>(mut self, products: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<ProductId>,
    {
        self.progressive_product_ids = products.into_iter().map(Into::into).collect();
        self
    }

    /// Sets what reaches a progressive-discount tier (default units).
    pub fn with_progressive_count(mut self, count: DiscountCount) -> Self {
        self.progressive_count = Some(count);
        self
    }

    /// Sets which units get the progressive tier's percentage (default all units).
    pub fn with_progressive_mode(mut self, mode: DiscountMode) -> Self {
        self.progressive_mode = Some(mode);
        self
    }

    /// Sets how the vendor charges an upgrade step after an earlier capture.
    pub fn with_upgrade_capture_policy(mut self, policy: CapturePolicy) -> Self {
        self.upgrade_capture_policy = policy;
        self
    }

    /// Sets the per-attempt timeout.
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// `Invalid` naming the key: a missing required key, a base URL given empty or non-https off
    /// loopback, a client
    /// id or web key that is no GUID, an unknown currency, a zero timeout, a tier out of range,
    /// product ids, a count or a mode without tiers.
    pub fn build(self) -> Result<EmanageConfig, Error> {
        let required = |v: Option<String>, key: &str| -> Result<String, Error> {
            v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).ok_or_else(|| invalid(key, "required"))
        };
        // The contract's default sales base when none is given (§2, §15.1); one given empty is a
        // mistake (a blank variable), not a request for production.
        let raw_url = match self.base_url {
            None => names::DEFAULT_SALES_BASE.to_string(),
            given => required(given, "base_url")?,
        };
        let base_url =
            loyalty_http::vendor_base_url(&raw_url).map_err(|reason| invalid("base_url", reason))?;
        let cid =
            self.cid.filter(|s| !s.expose().trim().is_empty()).ok_or_else(|| invalid("cid", "required"))?;
        if !is_guid(cid.expose().trim()) {
            // The value is not quoted: it is kept secret.
            return Err(invalid("cid", "must be a GUID"));
        }
        let cid = Secret::new(cid.expose().trim());
        let web_key = required(self.web_key, "web_key")?;
        if !is_guid(&web_key) {
            return Err(invalid("web_key", "must be a GUID"));
        }
        let currency = required(self.currency, "currency")?;
        let currency = Currency::from_code(&currency.to_ascii_uppercase())
            .map_err(|e| invalid("currency", e.to_string()))?;
        if self.attempt_timeout.is_zero() {
            return Err(invalid("attempt_timeout", "must be above zero"));
        }
        for t in &self.progressive_tiers {
            if t.min_units == 0 || t.percent <= Decimal::ZERO || t.percent > Decimal::ONE_HUNDRED {
                return Err(invalid(
                    "progressive_tiers",
                    "a tier needs at least one unit and a percentage in (0, 100]",
                ));
            }
        }
        if self.progressive_tiers.is_empty() && !self.progressive_product_ids.is_empty() {
            return Err(invalid("progressive_product_ids", "given without progressive_tiers"));
        }
        // Like the products, the rule means nothing without tiers.
        if self.progressive_tiers.is_empty() && self.progressive_count.is_some() {
            return Err(invalid("progressive_count", "given without progressive_tiers"));
        }
        if self.progressive_tiers.is_empty() && self.progressive_mode.is_some() {
            return Err(invalid("progressive_mode", "given without progressive_tiers"));
        }
        let progressive = (!self.progressive_tiers.is_empty()).then(|| {
            let mut tiers = self.progressive_tiers;
            tiers.sort_by_key(|t| t.min_units);
            ProgressiveConfig {
                tiers,
                product_ids: self.progressive_product_ids,
                count: self.progressive_count.unwrap_or_default(),
                mode: self.progressive_mode.unwrap_or_default(),
            }
        });
        Ok(EmanageConfig {
            base_url,
            cid,
            web_key: web_key.to_ascii_lowercase(),
            currency,
            shipping_method_id: self.shipping_method_id,
            test_mode: self.test_mode,
            progressive,
            upgrade_capture_policy: self.upgrade_capture_policy,
            attempt_timeout: self.attempt_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use loyalty_core::ErrorKind;

    use super::*;

    const CID: &str = "11111111-2222-4333-8444-555555555555";
    const WK: &str = "A3F1C2D4-5E6F-4A7B-8C9D-0E1F2A3B4C5D";

    fn field_of(e: &Error) -> String {
        match e.kind() {
            ErrorKind::Invalid { field, .. } => field.clone(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn good() -> EmanageConfigBuilder {
        EmanageConfig::builder()
            .with_base_url("https://sales.example/api")
            .with_cid(Secret::new(CID))
            .with_web_key(WK)
            .with_currency("USD")
    }

    #[test]
    fn defaults_are_remainder_live_carts_and_ten_seconds() {
        let c = good().build().unwrap();
        assert_eq!(c.upgrade_capture_policy, CapturePolicy::Remainder);
        assert!(!c.test_mode);
        assert_eq!(c.attempt_timeout, Duration::from_secs(10));
        assert_eq!(c.progressive, None);
        assert_eq!(c.web_key, WK.to_ascii_lowercase(), "web keys are case-insensitive GUIDs (§3)");
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let e = good().with_base_url("http://sales.example/api").build().unwrap_err();
        assert_eq!(field_of(&e), "base_url");
        assert!(good().with_base_url("http://127.0.0.1:9000/api").build().is_ok());
    }

    #[test]
    fn the_sales_base_defaults_to_the_contract_s_and_a_blank_one_is_refused() {
        // §2: "The default is https://sales-prod.tryemanagecrm.com/api" (§15.1 [I]).
        let c = EmanageConfig::builder()
            .with_cid(Secret::new(CID))
            .with_web_key(WK)
            .with_currency("USD")
            .build()
            .unwrap();
        assert_eq!(c.base_url.as_str().trim_end_matches('/'), names::DEFAULT_SALES_BASE);
        // A blank value (an empty variable) is a mistake, never a silent switch to production.
        assert_eq!(field_of(&good().with_base_url("  ").build().unwrap_err()), "base_url");
    }

    #[test]
    fn a_cid_that_is_no_guid_is_refused_without_quoting_it() {
        let e = good().with_cid(Secret::new("not-a-guid-secret")).build().unwrap_err();
        assert_eq!(field_of(&e), "cid");
        assert!(!e.to_string().contains("not-a-guid-secret"), "{e}");
    }

    #[test]
    fn currency_is_required_and_known() {
        assert_eq!(field_of(&good().with_currency("XXX").build().unwrap_err()), "currency");
        let no_currency = EmanageConfig::builder()
            .with_base_url("https://sales.example/api")
            .with_cid(Secret::new(CID))
            .with_web_key(WK)
            .build();
        assert_eq!(field_of(&no_currency.unwrap_err()), "currency");
    }

    #[test]
    fn unknown_key_names_vendor_and_key() {
        let e = EmanageConfig::from_value(serde_json::json!({
            "base_url": "https://x.example/api", "cid": CID, "web_key": WK, "currency": "USD", "webkey": "x"
        }))
        .unwrap_err();
        assert_eq!(field_of(&e), "webkey");
        assert!(e.to_string().contains("emanage"), "{e}");
    }

    #[test]
    fn serde_reads_tiers_as_text_or_list_and_sorts_them() {
        let c: EmanageConfig = serde_json::from_value(serde_json::json!({
            "base_url": "https://x.example/api", "cid": CID, "web_key": WK, "currency": "usd",
            "progressive_tiers": [{"min_units": 2, "percent": 50}, [1, "25"]],
            "progressive_product_ids": [918501, "918502"],
            "attempt_timeout": "500ms", "test_mode": true, "upgrade_capture_policy": "literal",
            "shipping_method_id": 145
        }))
        .unwrap();
        let p = c.progressive.unwrap();
        assert_eq!(
            p.tiers,
            vec![Tier { min_units: 1, percent: 25.into() }, Tier { min_units: 2, percent: 50.into() }]
        );
        assert_eq!(p.product_ids, vec![ProductId::new("918501"), ProductId::new("918502")]);
        assert_eq!(c.attempt_timeout, Duration::from_millis(500));
        assert!(c.test_mode);
        assert_eq!(c.upgrade_capture_policy, CapturePolicy::Literal);
        assert_eq!(c.shipping_method_id, Some(145));
    }

    #[test]
    fn the_discount_rule_defaults_to_units_on_all_units_and_reads_the_alternatives() {
        let base = serde_json::json!({
            "base_url": "https://x.example/api", "cid": CID, "web_key": WK, "currency": "USD",
            "progressive_tiers": "1:25,2:50"
        });
        let p = EmanageConfig::from_value(base.clone()).unwrap().progressive.unwrap();
        assert_eq!((p.count, p.mode), (DiscountCount::Units, DiscountMode::AllUnits));
        let mut other = base.clone();
        other["progressive_count"] = "lines".into();
        other["progressive_mode"] = "marginal_unit".into();
        let p = EmanageConfig::from_value(other).unwrap().progressive.unwrap();
        assert_eq!((p.count, p.mode), (DiscountCount::Lines, DiscountMode::MarginalUnit));
        for (key, bad) in [("progressive_count", "items"), ("progressive_mode", "marginal")] {
            let mut wrong = base.clone();
            wrong[key] = bad.into();
            assert_eq!(field_of(&EmanageConfig::from_value(wrong).unwrap_err()), key);
        }
        let e = EmanageConfig::from_vars(
            ENV_PREFIX,
            [
                ("LOYALTY_EMANAGE_BASE_URL", "https://x.example/api"),
                ("LOYALTY_EMANAGE_CID", CID),
                ("LOYALTY_EMANAGE_WEB_KEY", WK),
                ("LOYALTY_EMANAGE_CURRENCY", "USD"),
                ("LOYALTY_EMANAGE_PROGRESSIVE_MODE", "marginal_unit"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_EMANAGE_PROGRESSIVE_MODE", "a mode without tiers");
    }

    #[test]
    fn a_tier_out_of_range_is_refused() {
        for bad in ["0:25", "1:0", "1:101", "1", "a:b"] {
            let e = EmanageConfig::from_value(serde_json::json!({
                "base_url": "https://x.example/api", "cid": CID, "web_key": WK, "currency": "USD",
                "progressive_tiers": bad
            }))
            .unwrap_err();
            assert_eq!(field_of(&e), "progressive_tiers", "{bad}");
        }
    }

    #[test]
    fn env_reads_prefixed_keys_and_refuses_unknown_ones() {
        let vars = |extra: &[(&str, &str)]| {
            let mut v: Vec<(String, String)> = [
                ("LOYALTY_EMANAGE_BASE_URL", "https://x.example/api"),
                ("LOYALTY_EMANAGE_CID", CID),
                ("LOYALTY_EMANAGE_WEB_KEY", WK),
                ("LOYALTY_EMANAGE_CURRENCY", "USD"),
                ("OTHER", "ignored"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            v.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            v
        };
        let c =
            EmanageConfig::from_vars(ENV_PREFIX, vars(&[("LOYALTY_EMANAGE_PROGRESSIVE_TIERS", "1:25,2:50")]))
                .unwrap();
        assert_eq!(c.progressive.unwrap().tiers.len(), 2);
        let e = EmanageConfig::from_vars(ENV_PREFIX, vars(&[("LOYALTY_EMANAGE_WEBKEY", "x")])).unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_EMANAGE_WEBKEY");
        let e = EmanageConfig::from_vars(ENV_PREFIX, vars(&[("LOYALTY_EMANAGE_CID_ENV", "X")])).unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_EMANAGE_CID_ENV");
        let e = EmanageConfig::from_vars(ENV_PREFIX, vars(&[("LOYALTY_EMANAGE_TEST_MODE", "maybe")]))
            .unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_EMANAGE_TEST_MODE");
    }

    #[test]
    fn live_prefix_reads_url_and_never_the_everyday_variables() {
        let vars = [
            ("LOYALTY_LIVE_EMANAGE_URL", "https://sales.example/api"),
            ("LOYALTY_LIVE_EMANAGE_CID", CID),
            ("LOYALTY_LIVE_EMANAGE_WEB_KEY", WK),
            ("LOYALTY_LIVE_EMANAGE_CURRENCY", "USD"),
            ("LOYALTY_EMANAGE_CID", "99999999-2222-4333-8444-555555555555"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let c = EmanageConfig::from_vars(LIVE_ENV_PREFIX, vars).unwrap();
        assert_eq!(c.cid.expose(), CID);
        assert_eq!(c.base_url.host_str(), Some("sales.example"));
        let e = EmanageConfig::from_vars(
            LIVE_ENV_PREFIX,
            [
                ("LOYALTY_LIVE_EMANAGE_CID".to_string(), CID.to_string()),
                ("LOYALTY_LIVE_EMANAGE_URL".to_string(), " ".to_string()),
            ],
        )
        .unwrap_err();
        assert_eq!(field_of(&e), "LOYALTY_LIVE_EMANAGE_URL", "a blank URL is named as the live variable");
    }

    #[test]
    fn debug_never_shows_the_cid() {
        let c = good().build().unwrap();
        assert!(!format!("{c:?}").contains(CID));
    }
}
