//! The client of `loyalty serve` (docs/serve.md): one function per endpoint the shop uses,
//! every reply decoded into the core type the API serialises, every refusal into a [`Problem`].

// A refusal is rare and ends in one rendered page: boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use loyalty_core::checkout::{Completion, Prepared};
use loyalty_core::form::{FieldError, FormSchema};
use loyalty_core::{Basket, Member, Money, Offer, OfferId, PricedBasket, RegisterMember};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use url::Url;

/// Problem details (RFC 9457) as `loyalty serve` sends them, or a stand-in the shop makes when
/// the API could not be reached or its reply could not be read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Problem {
    pub title: String,
    pub status: u16,
    pub detail: Option<String>,
    pub kind: Option<String>,
    pub temporary: bool,
    pub field: Option<String>,
    pub reason: Option<String>,
    pub errors: Vec<FieldError>,
}

impl Problem {
    fn local(title: &str, detail: impl Into<String>) -> Problem {
        Problem { title: title.into(), detail: Some(detail.into()), temporary: true, ..Problem::default() }
    }

    /// One sentence for the shopper: what went wrong and whether trying again may help.
    pub fn message(&self) -> String {
        let mut m =
            if self.title.is_empty() { "Something went wrong".to_string() } else { self.title.clone() };
        if let Some(d) = self.detail.as_deref().filter(|d| !d.is_empty()) {
            m.push_str(": ");
            m.push_str(d);
        }
        if let (Some(f), Some(r)) = (&self.field, &self.reason) {
            m.push_str(&format!(" ({f}: {r})"));
        }
        if self.temporary {
            m.push_str(". Please try again in a moment.");
        }
        m
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404 || self.kind.as_deref() == Some("not_found")
    }
}

pub(crate) type ApiResult<T> = Result<T, Problem>;

/// A fresh, hard-to-guess key for a write that has no natural id (a registration).
pub(crate) fn fresh_key(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos());
    let a = h.finish();
    h.write_u64(a);
    format!("{prefix}-{a:016x}{:08x}", h.finish() as u32)
}

/// The answer of `POST /v1/price`: the priced basket, with the offers it was priced with
/// when the API sends them alongside.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum PriceReply {
    Wrapped {
        priced: PricedBasket,
        #[serde(default)]
        offers: Vec<Offer>,
    },
    Bare(PricedBasket),
}

impl PriceReply {
    pub fn into_parts(self) -> (PricedBasket, Vec<Offer>) {
        match self {
            PriceReply::Wrapped { priced, offers } => (priced, offers),
            PriceReply::Bare(priced) => (priced, Vec::new()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OffersReply {
    Wrapped { offers: Vec<Offer> },
    Bare(Vec<Offer>),
}

/// The request body of `POST /v1/checkouts/{order}/prepare`.
#[derive(Debug, Serialize)]
pub(crate) struct PrepareBody<'a> {
    pub basket: &'a Basket,
    pub member: Option<Value>,
    pub sign_up: Option<&'a RegisterMember>,
    pub confirmed: &'a [OfferId],
    pub department: Option<String>,
}

/// `loyalty serve` at a base URL, with the shop's API key.
#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
    base: Url,
    key: String,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("base", &self.base.as_str()).field("key", &"[redacted]").finish()
    }
}

impl Api {
    pub fn new(base: Url, key: String) -> Api {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Api { http, base, key }
    }

    fn request(&self, method: Method, path: &str) -> ApiResult<RequestBuilder> {
        let url = self.base.join(path).map_err(|e| Problem::local("Bad API address", e.to_string()))?;
        Ok(self.http.request(method, url).bearer_auth(&self.key))
    }

    /// Sends and decodes: a success into `T`, anything else into a [`Problem`].
    async fn send<T: DeserializeOwned>(&self, rb: RequestBuilder) -> ApiResult<T> {
        let reply = rb.send().await.map_err(|e| {
            Problem::local("The loyalty service cannot be reached", without_url(e).to_string())
        })?;
        let status = reply.status();
        let bytes = reply.bytes().await.map_err(|e| {
            Problem::local("The loyalty service's answer was cut off", without_url(e).to_string())
        })?;
        if status.is_success() {
            let body: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(body).map_err(|e| {
                Problem::local("The loyalty service's answer could not be read", e.to_string())
            });
        }
        let mut p: Problem = serde_json::from_slice(&bytes).unwrap_or_default();
        p.status = status.as_u16();
        if p.title.is_empty() {
            p.title = status.canonical_reason().unwrap_or("Error").to_string();
            p.temporary = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
        }
        Err(p)
    }

    /// `GET /v1/registration-form`.
    pub async fn registration_form(&self) -> ApiResult<FormSchema> {
        self.send(self.request(Method::GET, "v1/registration-form")?).await
    }

    /// `POST /v1/members/registration` under `key`; 422 carries `errors` per field.
    pub async fn register(&self, key: &str, fields: &Map<String, Value>) -> ApiResult<Member> {
        let rb = self.request(Method::POST, "v1/members/registration")?;
        self.send(rb.header("Idempotency-Key", key).json(fields)).await
    }

    /// `GET /v1/members?{kind}={value}`; `None` when nobody matches.
    pub async fn find_member(&self, kind: &str, value: &str) -> ApiResult<Option<Member>> {
        let rb = self.request(Method::GET, "v1/members")?.query(&[(kind, value)]);
        match self.send(rb).await {
            Ok(m) => Ok(Some(m)),
            Err(p) if p.is_not_found() => Ok(None),
            Err(p) => Err(p),
        }
    }

    /// `GET /v1/members/{id}`.
    pub async fn member(&self, id: &str) -> ApiResult<Member> {
        self.send(self.request(Method::GET, &format!("v1/members/{}", segment(id)))?).await
    }

    /// `POST /v1/offers`.
    pub async fn offers(&self, member: Option<&str>, basket: Option<&Basket>) -> ApiResult<Vec<Offer>> {
        let rb = self.request(Method::POST, "v1/offers")?.json(&json!({"member": member, "basket": basket}));
        Ok(match self.send::<OffersReply>(rb).await? {
            OffersReply::Wrapped { offers } | OffersReply::Bare(offers) => offers,
        })
    }

    /// `POST /v1/price` (nothing held).
    pub async fn price(
        &self,
        member: Option<&str>,
        basket: &Basket,
        confirmed: &[OfferId],
    ) -> ApiResult<PriceReply> {
        let body = json!({"member": member, "basket": basket, "confirmed": confirmed});
        self.send(self.request(Method::POST, "v1/price")?.json(&body)).await
    }

    /// `POST /v1/checkouts/{order}/prepare`, keyed by the order id.
    pub async fn prepare(&self, order: &str, body: &PrepareBody<'_>) -> ApiResult<Prepared> {
        let rb = self.request(Method::POST, &format!("v1/checkouts/{}/prepare", segment(order)))?;
        self.send(rb.header("Idempotency-Key", order).json(body)).await
    }

    /// `POST /v1/checkouts/{order}/commit` with the payment the shop took outside.
    pub async fn commit(&self, order: &str, amount: Money) -> ApiResult<Completion> {
        let rb = self.request(Method::POST, &format!("v1/checkouts/{}/commit", segment(order)))?;
        let body = json!({"payment": {"reference": format!("demo-{order}"), "amount": amount}});
        self.send(rb.header("Idempotency-Key", order).json(&body)).await
    }

    /// `POST /v1/checkouts/{order}/abort`, keyed by the order id.
    pub async fn abort(&self, order: &str) -> ApiResult<()> {
        let rb = self.request(Method::POST, &format!("v1/checkouts/{}/abort", segment(order)))?;
        let _: Value = self.send(rb.header("Idempotency-Key", order)).await?;
        Ok(())
    }

    /// `GET /v1/checkouts/{order}`: the stored record.
    pub async fn checkout_record(&self, order: &str) -> ApiResult<Value> {
        self.send(self.request(Method::GET, &format!("v1/checkouts/{}", segment(order)))?).await
    }
}

/// Transport errors print their URL; ours holds no secret, but the shopper needs none of it.
fn without_url(e: reqwest::Error) -> reqwest::Error {
    e.without_url()
}

/// Percent-encodes one path segment.
fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_message_names_title_detail_and_retry() {
        let p: Problem = serde_json::from_value(json!({
            "type": "urn:loyalty-bridge:problem:conflict", "title": "Conflict", "status": 409,
            "detail": "order o-1 is already committed", "kind": "conflict", "temporary": false
        }))
        .unwrap();
        assert_eq!(p.message(), "Conflict: order o-1 is already committed");
        let p = Problem { title: "Service Unavailable".into(), temporary: true, ..Problem::default() };
        assert_eq!(p.message(), "Service Unavailable. Please try again in a moment.");
    }

    #[test]
    fn fresh_keys_differ() {
        assert_ne!(fresh_key("reg"), fresh_key("reg"));
        assert!(fresh_key("reg").starts_with("reg-"));
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(segment("m 1/2"), "m%201%2F2");
    }
}
