//! HTTP transport shared by Loyalty Bridge adapters: one pooled client per provider, auth
//! strategies with single-flight credential caches, per-attempt timeouts, retries with
//! exponential backoff and jitter that respect write safety and `Retry-After`, request size
//! limits, and redaction of secrets in logs and errors.
//!
//! An adapter builds one [`HttpClient`] with its [`HttpConfig`], an [`Auth`] strategy and its
//! [`Classifier`], then describes each vendor request as a [`Call`]:
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use loyalty_core::Context;
//! use loyalty_http::{
//!     default_classify, encode_segment, Call, HttpClient, HttpConfig, OAuth2ClientCredentials, Retry, Secret,
//! };
//!
//! # async fn run() -> Result<(), loyalty_core::Error> {
//! let auth = OAuth2ClientCredentials::new(
//!     "diller",
//!     "https://auth.example/oauth/token".parse().unwrap(),
//!     "client-id",
//!     Secret::new(std::env::var("CLIENT_SECRET").unwrap_or_default()),
//! );
//! let config = HttpConfig::new("https://api.example/api/v2.0".parse().unwrap());
//! let http = HttpClient::new("diller", config, Arc::new(auth), Arc::new(default_classify))?;
//!
//! let call = Call::post("members.find", format!("/stores/{}/members/search", encode_segment("s1")))
//!     .json(serde_json::json!({ "phone": "+4791234567" }))
//!     // A search changes nothing: retry it like a read.
//!     .retry(Retry::IdempotentWrite);
//! let reply = http.send(&Context::new(), call).await?;
//! let members: serde_json::Value = reply.json("diller", "members.find")?;
//! # let _ = members;
//! # Ok(())
//! # }
//! ```
//!
//! Retry rules live here and only here: adapters never loop, sleep or re-send.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// `loyalty_core::Error` is the one error type (docs/architecture.md) and is large; boxing it is core's call.
#![allow(clippy::result_large_err)]

mod auth;
mod call;
mod classify;
mod client;
mod config;
mod excerpt;
mod response;
mod secret;

pub use auth::{
    check_body_token, check_token, Auth, BasicAuth, Credentials, NoAuth, OAuth2ClientCredentials,
    ReadyCredentials, Session, SessionAuth, SessionSource, MAX_TOKEN_CHARS,
};
pub use call::{encode_segment, Body, BodyBuilder, Call, Retry};
pub use classify::{default_classify, parse_retry_after, Classifier, ClassifyInput};
pub use client::HttpClient;
pub use config::{env_vars, parse_duration, vars_with_prefix, vendor_base_url, HttpConfig};
pub use excerpt::{body_excerpt, excerpt, excerpt_redacted, redact, redact_error, EXCERPT_CHARS, REDACTED};
pub use response::Response;
pub use secret::{redacted_url, redacted_url_text, Secret};
