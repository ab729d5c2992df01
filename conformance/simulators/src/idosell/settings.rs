//! Every simulator choice the IdoSell contract marks \[S\] (§9.4), as a named setting. Each field
//! is a simulator decision; [`IdosellSettings::default`] is the contract's default column. A
//! TOML or JSON settings file may override any subset; unknown keys are refused.

use serde::Deserialize;

use super::names::Names;

/// How long a `sessionKey` lives (§3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SessionExpiry {
    /// Valid for the lifetime from issue (default).
    Absolute,
    /// Valid for the lifetime from the last accepted use.
    Sliding,
}

/// What a new `Authenticate` does to the account's older session keys (§3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reauthenticate {
    /// Older keys stay valid until their own expiry (default).
    KeepOlderKeys,
    /// Older keys of the same account stop working at once (session fault 3).
    RevokeOlderKeys,
}

/// What G3 `basketImport` does with the existing basket (§5 G3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BasketImport {
    /// The imported lines replace the basket, so importing twice is idempotent (default).
    Replace,
    /// The imported lines are added after the existing ones.
    Append,
}

/// What G4 `placeOrder` does with a shop order reference it has seen (§5 G4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DuplicateReference {
    /// Answers the existing order, flagged `duplicate`, reserving nothing (default).
    ReturnExisting,
    /// Refuses with faultCode 5 (input class; §6.3 has no dedicated code).
    Reject,
}

/// How a body over the limit is answered (§8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OversizeAnswer {
    /// HTTP 200 with faultCode 11 in the gateway's reply (default).
    Fault11,
    /// HTTP 413 with an empty body.
    Http413,
}

/// Language of `faultString` texts (§6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultLanguage {
    /// Polish, English when the request asks for it: query `lang=eng` (or `en`) on the gate
    /// URL, or an `Accept-Language` header starting with `en` (default).
    Polish,
    /// Polish whatever the request asks.
    PolishOnly,
    /// English always.
    English,
}

/// Which transports the gates serve (§2.1, §9.2 item 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Transports {
    /// SOAP on each gate path, and the JSON twin on the path ending in `json` (default).
    SoapAndJson,
    /// SOAP only; the JSON twin paths answer 404.
    SoapOnly,
}

/// Body encoding of the dispatch webhook (§7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WebhookEncoding {
    /// `application/json` (default).
    Json,
    /// `text/xml`, same fields as elements of `<notification>`.
    Xml,
}

/// Authenticity header of the dispatch webhook (§7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WebhookSignature {
    /// `X-Signature: sha1=<hex HMAC-SHA1(dropshippingKey, raw body)>` (default).
    HmacSha1,
    /// No signature header.
    None,
}

/// When the dispatch webhook is sent (§7.2; §9.2 item 3: dispatch fires the webhook).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WebhookDelivery {
    /// The simulator sends by itself (default): the first attempt right after the dispatch,
    /// whichever way the order was dispatched, and each retry once it is due on the simulator
    /// clock (looked for about every 100 ms of real time, so a test clock moved past a retry
    /// delay gets it promptly).
    Automatic,
    /// Only when asked: [`crate::idosell::IdosellProbe::deliver_due`] or `POST
    /// /_sim/webhooks/deliver` send what is due, so a test decides when each attempt happens.
    Manual,
}

/// How G6 (and G4's courier check) prices a delivery (§5 G6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CourierCost {
    /// `base + perKg × weight`, rounded half-up to 0.01 (default).
    BasePlusPerKg,
    /// `base + perKg × ceil(weight)`: every started kilogram counts.
    BasePlusPerStartedKg,
    /// `base` only.
    BaseOnly,
}

/// Where G9 `setClientAddress` puts a refusal of the address it was asked to change (§5 G9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AddressFaults {
    /// In the top-level `errors`, with no results (default; simulator decision: one address
    /// per call).
    TopLevel,
    /// As the contract's G9 response has it (§5 G9 \[I\]: "per-address result with
    /// faultCode/faultString"; §6.1 \[C\]: per-item codes while the top level says 0): the
    /// top-level `errors` 0 and the address, unchanged, carrying its own `faultCode` and
    /// `faultString`. Applies to the refusals of that address (its order dispatched or
    /// finished, 10; a field it would be left with that is malformed, 5); an unknown address
    /// (2) or a malformed call stays in the top level.
    PerAddress,
}

/// What the gates do with request elements they do not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnknownElements {
    /// faultCode 5 naming the element (default). Simulator decision: a misspelled optional
    /// element (say `shopOrderRefernce`) would otherwise vanish silently, so the simulator is
    /// stricter than a PHP SOAP server to surface adapter/names-table disagreements.
    Refuse,
    /// Ignored, as PHP's SOAP server does with elements outside the WSDL.
    Ignore,
}

/// Simulator settings with the defaults of the IdoSell contract §9.4.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct IdosellSettings {
    /// IANA zone whose calendar date enters the system key (§3.3): `Europe/Warsaw`.
    pub system_key_time_zone: String,
    /// Seconds after local midnight during which yesterday's key is still accepted; 0 = off
    /// (default, strict).
    pub previous_day_key_grace_secs: u64,
    /// Session key lifetime in seconds (§3.5): 900.
    pub session_lifetime_secs: u64,
    /// Absolute (default) or sliding session lifetime.
    pub session_expiry: SessionExpiry,
    /// Whether re-`Authenticate` revokes older keys (default: keep them).
    pub reauthenticate: Reauthenticate,
    /// G3 replaces (default) or appends.
    pub basket_import: BasketImport,
    /// G4 with a known shop order reference (default: return the existing order).
    pub duplicate_order_reference: DuplicateReference,
    /// Largest request body in bytes (§8): 10 × 1024 × 1024.
    pub max_body_bytes: usize,
    /// How an oversized body is answered (default: HTTP 200 + faultCode 11).
    pub oversize_answer: OversizeAnswer,
    /// Language of fault texts (default: Polish, English on request).
    pub fault_language: FaultLanguage,
    /// SOAP and the JSON twin (default), or SOAP only.
    pub transports: Transports,
    /// Webhook body encoding (default: JSON).
    pub webhook_encoding: WebhookEncoding,
    /// Webhook signature (default: HMAC-SHA1 with the account's `dropshippingKey`).
    pub webhook_signature: WebhookSignature,
    /// Who sends the webhook: the simulator itself at dispatch and when retries are due
    /// (default), or the test through `deliver_due` (manual).
    pub webhook_delivery: WebhookDelivery,
    /// Delays in seconds between a failed webhook delivery and the next attempt, measured on the
    /// simulator clock: 60, 300, 1800, 7200, 43200; after the last, the simulator gives up.
    pub webhook_retry_secs: Vec<u64>,
    /// Courier cost rule (default: base + per-kg).
    pub courier_cost: CourierCost,
    /// Magic request values (`FAIL-STOCK`, …; table in the module docs) trigger their fault
    /// (default: off, the contract's "fault injection off").
    pub magic_values: bool,
    /// Unknown request elements (default: refused with faultCode 5).
    pub unknown_elements: UnknownElements,
    /// Where G9 answers a refusal of the address (default: the top-level `errors`).
    pub address_faults: AddressFaults,
    /// The names table (§9.3).
    pub names: Names,
}

impl Default for IdosellSettings {
    fn default() -> Self {
        Self {
            system_key_time_zone: "Europe/Warsaw".into(),
            previous_day_key_grace_secs: 0,
            session_lifetime_secs: 15 * 60,
            session_expiry: SessionExpiry::Absolute,
            reauthenticate: Reauthenticate::KeepOlderKeys,
            basket_import: BasketImport::Replace,
            duplicate_order_reference: DuplicateReference::ReturnExisting,
            max_body_bytes: 10 * 1024 * 1024,
            oversize_answer: OversizeAnswer::Fault11,
            fault_language: FaultLanguage::Polish,
            transports: Transports::SoapAndJson,
            webhook_encoding: WebhookEncoding::Json,
            webhook_signature: WebhookSignature::HmacSha1,
            webhook_delivery: WebhookDelivery::Automatic,
            webhook_retry_secs: vec![60, 300, 1800, 7200, 43200],
            courier_cost: CourierCost::BasePlusPerKg,
            magic_values: false,
            unknown_elements: UnknownElements::Refuse,
            address_faults: AddressFaults::TopLevel,
            names: Names::default(),
        }
    }
}

impl IdosellSettings {
    /// The system-key zone, parsed.
    pub(crate) fn zone(&self) -> Option<chrono_tz::Tz> {
        self.system_key_time_zone.parse().ok()
    }
}
