//! One function per SessionM call (sessionm.md §3, §4, §6): build the request, send it through
//! `loyalty-http` with the right family's transport, read the reply into `wire` types. No retry
//! loops here: retries live in the transport, and POS writes are safe to retry because each
//! logical call's `request_id` is made once, before the call, so every attempt repeats it
//! (§7.5: SessionM answers a repeated `request_id` with the stored response).

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use loyalty_core::{Context, Error, ErrorKind};
use loyalty_http::{encode_segment, BasicAuth, Call, HttpClient, HttpConfig, Response, Retry};
use serde::Serialize;
use url::Url;

use crate::config::SessionmConfig;
use crate::error::classify;
use crate::wire::core::{User, UserBody, UserWrite};
use crate::wire::discounting::{DiscountReply, OfferLookup, Release};
use crate::wire::envelope::PosRequest;
use crate::wire::lookup::{LookupPayload, LookupRequest};
use crate::wire::offers::{UserOffersRequest, WalletEntry};
use crate::wire::points::{Balances, BalancesRequest};
use crate::wire::transaction::{SendReply, Transaction};
use crate::wire::{self, ConversionError};
use crate::{names, PROVIDER};

/// POS/ECom paths (§3 \[D\]).
const POS: &str = "/api/2.0";
/// Connect wallet path (§4.3 \[P\]\[K\]).
const USER_OFFERS: &str = "/offers/api/2.0/offers/get_user_offers";
/// Connect points balances path (§4.2 \[K\]).
const ALL_BALANCES: &str = "/incentives/api/1.0/user_points/all_balances";

/// Makes the `request_id` of each logical POS call (§3.1: unique per request).
pub trait RequestIds: Send + Sync + fmt::Debug {
    /// A new id.
    fn next_id(&self) -> String;
}

/// Random UUID-shaped ids (version 4 layout), seeded from the standard library's per-process
/// random hash keys: unique across calls, processes and restarts.
#[derive(Debug, Default)]
pub struct RandomRequestIds {
    keys: RandomState,
    counter: AtomicU64,
}

impl RequestIds for RandomRequestIds {
    fn next_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let word = |salt: u64| {
            let mut h = self.keys.build_hasher();
            h.write_u64(n);
            h.write_u64(salt);
            h.finish()
        };
        let (a, b) = (word(0x5e55_10a0), word(0x9e37_79b9));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

/// Ids `<prefix>-1`, `<prefix>-2`, …: deterministic, for tests and fixtures.
#[derive(Debug)]
pub struct SequentialRequestIds {
    prefix: String,
    counter: AtomicU64,
}

impl SequentialRequestIds {
    /// Ids starting at `<prefix>-1`.
    pub fn new(prefix: impl Into<String>) -> SequentialRequestIds {
        SequentialRequestIds { prefix: prefix.into(), counter: AtomicU64::new(0) }
    }
}

impl RequestIds for SequentialRequestIds {
    fn next_id(&self) -> String {
        format!("{}-{}", self.prefix, self.counter.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// A `request_id` that is the same for the same `parts`: 128-bit FNV-1a over the parts (each
/// ended by a NUL, so `["ab", "c"]` and `["a", "bc"]` differ), laid out like a UUID with the
/// version nibble 8 (RFC 9562: custom) and the RFC variant bits. Stable across processes,
/// machines and releases: no random keys.
pub(crate) fn derived_request_id(parts: &[&str]) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut h = OFFSET;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u128::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    let h = (h & !(0xf << 76) | (0x8 << 76)) & !(0x3 << 62) | (0x2 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        h >> 96,
        (h >> 80) & 0xffff,
        (h >> 64) & 0xffff,
        (h >> 48) & 0xffff,
        h & 0xffff_ffff_ffff
    )
}

/// The SessionM HTTP client of one tenant and store: one transport per family, each with its
/// own Basic credentials (§2).
#[derive(Clone)]
pub(crate) struct SessionmClient {
    pos: HttpClient,
    connect: HttpClient,
    core: HttpClient,
    client_id: String,
    retailer_id: String,
    pos_culture: String,
    connect_culture: String,
    ids: Arc<dyn RequestIds>,
}

impl fmt::Debug for SessionmClient {
    // The Core transport's base URL holds the API key (§6): never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionmClient")
            .field("client_id", &self.client_id)
            .field("retailer_id", &self.retailer_id)
            .finish_non_exhaustive()
    }
}

fn transport(config: HttpConfig, key: &str, secret: &loyalty_http::Secret) -> Result<HttpClient, Error> {
    HttpClient::new(PROVIDER, config, Arc::new(BasicAuth::new(key, secret.clone())), Arc::new(classify))
}

fn decoded<T>(op: &str, r: Result<T, ConversionError>) -> Result<T, Error> {
    r.map_err(|e| e.protocol(op))
}

impl SessionmClient {
    /// Clients for the three families of `config`.
    ///
    /// # Errors
    /// `Invalid` for a base URL the transport refuses.
    pub(crate) fn new(config: &SessionmConfig, ids: Arc<dyn RequestIds>) -> Result<SessionmClient, Error> {
        let timeout = config.attempt_timeout;
        // Core paths sit under /priv/v1/apps/{api_key} (§6): the key goes into the transport's
        // base URL, so call paths, spans and errors never carry it.
        let mut core_base = config.core_base_url.clone();
        let prefix = core_base.path().trim_end_matches('/').to_string();
        core_base.set_path(&format!("{prefix}/priv/v1/apps/{}", encode_segment(config.api_key.expose())));
        let http = |base: &Url| HttpConfig::new(base.clone()).with_attempt_timeout(timeout);
        Ok(SessionmClient {
            pos: transport(http(&config.pos_base_url), &config.pos_key, &config.pos_secret)?,
            connect: transport(http(&config.connect_base_url), &config.connect_key, &config.connect_secret)?,
            // Its path holds the API key: printed as `[redacted]`.
            core: transport(
                http(&core_base).with_secret_base_path(),
                config.api_key.expose(),
                &config.s2s_secret,
            )?,
            client_id: config.client_id.clone(),
            retailer_id: config.retailer_id.clone(),
            pos_culture: config.pos_culture.clone(),
            connect_culture: config.connect_culture.clone(),
            ids,
        })
    }

    /// A fresh id from the request id source (also used for transaction ids of calls that name
    /// none).
    pub(crate) fn fresh_id(&self) -> String {
        self.ids.next_id()
    }

    fn body<T: Serialize>(op: &str, value: &T) -> Result<serde_json::Value, Error> {
        serde_json::to_value(value).map_err(|e| Error::invalid(PROVIDER, op, "body", e.to_string()))
    }

    /// One POS call: the §3.1 container around `payload`, with a `request_id` made once here.
    /// Every POS call is retried by the transport like a read: the repeated `request_id` makes
    /// a repeat harmless (§7.5 \[D\], checklist 14).
    async fn pos<P: Serialize>(
        &self,
        ctx: &Context,
        op: &str,
        store_id: &str,
        name: &str,
        payload: P,
    ) -> Result<Response, Error> {
        let request_id = self.ids.next_id();
        self.pos_as(ctx, op, store_id, name, payload, request_id).await
    }

    /// [`SessionmClient::pos`] with a `request_id` the caller chose.
    async fn pos_as<P: Serialize>(
        &self,
        ctx: &Context,
        op: &str,
        store_id: &str,
        name: &str,
        payload: P,
        request_id: String,
    ) -> Result<Response, Error> {
        let envelope = PosRequest {
            store_id,
            client_id: &self.client_id,
            request_id: &request_id,
            culture: Some(&self.pos_culture),
            request_payload: payload,
        };
        let call = Call::post(op, format!("{POS}/{name}"))
            .json(Self::body(op, &envelope)?)
            .retry(Retry::IdempotentWrite);
        self.pos.send(ctx, call).await
    }

    // ---------------------------------------------------------------- POS (§3)

    /// `POST /api/2.0/lookup` (§3.3).
    pub(crate) async fn lookup(
        &self,
        ctx: &Context,
        op: &str,
        store_id: &str,
        request: &LookupRequest,
    ) -> Result<LookupPayload, Error> {
        let r = self.pos(ctx, op, store_id, "lookup", request).await?;
        decoded(op, wire::lookup::decode_lookup(&r.body))
    }

    /// `POST /api/2.0/lock` (§3.5): the Discount object, under `request_id` (a fresh one from
    /// [`SessionmClient::fresh_id`]).
    pub(crate) async fn lock(
        &self,
        ctx: &Context,
        op: &str,
        store_id: &str,
        request: &OfferLookup<'_>,
        request_id: String,
    ) -> Result<DiscountReply, Error> {
        let r = self.pos_as(ctx, op, store_id, "lock", request, request_id).await?;
        decoded(op, wire::discounting::decode_discount(&r.body))
    }

    /// `POST /api/2.0/redeem` (§3.7): the Discount object, under `request_id` (a fresh one
    /// from [`SessionmClient::fresh_id`]; the adapter keeps it to name this one redemption).
    pub(crate) async fn redeem(
        &self,
        ctx: &Context,
        op: &str,
        store_id: &str,
        request: &OfferLookup<'_>,
        request_id: String,
    ) -> Result<DiscountReply, Error> {
        let r = self.pos_as(ctx, op, store_id, "redeem", request, request_id).await?;
        decoded(op, wire::discounting::decode_discount(&r.body))
    }

    /// `POST /api/2.0/unlock` (§3.6): no payload.
    pub(crate) async fn unlock(
        &self,
        ctx: &Context,
        op: &str,
        store_id: &str,
        request: &Release<'_>,
    ) -> Result<(), Error> {
        let r = self.pos(ctx, op, store_id, "unlock", request).await?;
        decoded(op, wire::discounting::decode_done(&r.body))
    }

    /// `POST /api/2.0/reinstate` (§3.8): no payload.
    ///
    /// The `request_id` is not drawn fresh: it is derived from `key` (what names the one
    /// redemption being given back) and the whole container, so reinstating the same
    /// redemption again repeats the same request, which SessionM answers from the stored
    /// response without a second effect (§7.5 \[D\]). One use comes back, not two, while a
    /// reinstate of an offer that is not redeemed still fails (§7.4, checklist 13). The
    /// container must therefore be the same on every repeat: the caller passes the store and
    /// employee recorded with the redemption, not the repeating call's (SessionM refuses a
    /// reused `request_id` with another body, and a new `request_id` acts again).
    pub(crate) async fn reinstate(
        &self,
        ctx: &Context,
        op: &str,
        store_id: &str,
        request: &Release<'_>,
        key: &str,
    ) -> Result<(), Error> {
        let payload = Self::body(op, request)?;
        let request_id = derived_request_id(&[
            "reinstate",
            key,
            store_id,
            &self.client_id,
            &self.pos_culture,
            &payload.to_string(),
        ]);
        let r = self.pos_as(ctx, op, store_id, "reinstate", request, request_id).await?;
        decoded(op, wire::discounting::decode_done(&r.body))
    }

    /// `POST /api/2.0/send_transaction` (§3.9): the payload is opaque.
    pub(crate) async fn send_transaction(
        &self,
        ctx: &Context,
        op: &str,
        store_id: &str,
        transaction: &Transaction,
    ) -> Result<SendReply, Error> {
        let r = self.pos(ctx, op, store_id, "send_transaction", transaction).await?;
        decoded(op, wire::transaction::decode_send(&r.body))
    }

    // ---------------------------------------------------------------- Connect (§4)

    /// `POST {connect}/offers/api/2.0/offers/get_user_offers` (§4.3): the whole ISSUED wallet,
    /// page by page. A search that changes nothing: retried like a read.
    pub(crate) async fn user_offers(
        &self,
        ctx: &Context,
        op: &str,
        user_id: &str,
    ) -> Result<Vec<WalletEntry>, Error> {
        let mut all = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut skip = 0i64;
        for _ in 0..names::WALLET_MAX_PAGES {
            let request = UserOffersRequest {
                retailer_id: &self.retailer_id,
                user_id,
                skip,
                take: names::WALLET_PAGE,
                include_pending_extended_data: false,
                culture: &self.connect_culture,
            };
            let call =
                Call::post(op, USER_OFFERS).json(Self::body(op, &request)?).retry(Retry::IdempotentWrite);
            let r = self.connect.send(ctx, call).await?;
            let page = decoded(op, wire::offers::decode_user_offers(&r.body))?;
            let got = page.user_offers.len();
            let before = all.len();
            for entry in page.user_offers {
                // An offer issued or used between two pages shifts the next one: an entry
                // already read comes again and is kept once.
                if entry.instance_id().is_none_or(|id| seen.insert(id.to_owned())) {
                    all.push(entry);
                }
            }
            let total = page.total_records.map(|n| n.0);
            // The end: an empty page, or the stated total reached. A tenant may serve fewer
            // entries than asked (§4.3 promises no page size), so a short page ends the wallet
            // only when no total is stated; a full page without a total (a field to tolerate
            // missing) may have more behind it.
            let reached = total.is_some_and(|t| rust_decimal::Decimal::from(all.len()) >= t);
            if got == 0 || reached || (total.is_none() && (got as i64) < names::WALLET_PAGE) {
                return Ok(all);
            }
            if all.len() == before {
                return Err(Error::new(ErrorKind::Protocol, PROVIDER, op).with_message(format!(
                    "user_offers: the page at skip {skip} held only offers already read (is `skip` ignored?)"
                )));
            }
            skip += got as i64;
        }
        Err(Error::new(ErrorKind::Protocol, PROVIDER, op).with_message(format!(
            "user_offers: the wallet did not end within {} pages",
            names::WALLET_MAX_PAGES
        )))
    }

    /// `POST {connect}/incentives/api/1.0/user_points/all_balances` (§4.2).
    pub(crate) async fn all_balances(
        &self,
        ctx: &Context,
        op: &str,
        user_id: &str,
    ) -> Result<Balances, Error> {
        let request =
            BalancesRequest { retailer_id: &self.retailer_id, user_id, culture: &self.connect_culture };
        let call = Call::post(op, ALL_BALANCES).json(Self::body(op, &request)?).retry(Retry::IdempotentWrite);
        let r = self.connect.send(ctx, call).await?;
        decoded(op, wire::points::decode_balances(&r.body))
    }

    // ---------------------------------------------------------------- Core (§6)

    /// `POST /users` (§6): creates a profile. Not retried after an unknown outcome: there is no
    /// idempotency key, and a second profile could be made.
    pub(crate) async fn create_user(&self, ctx: &Context, op: &str, user: &UserWrite) -> Result<User, Error> {
        let call = Call::post(op, "/users").json(Self::body(op, &UserBody { user })?).retry(Retry::Write);
        let r = self.core.send(ctx, call).await?;
        decoded(op, wire::core::decode_user(&r.body))
    }

    /// `GET /users/{user_id}` (§6).
    pub(crate) async fn get_user(&self, ctx: &Context, op: &str, user_id: &str) -> Result<User, Error> {
        let r = self.core.send(ctx, Call::get(op, format!("/users/{}", encode_segment(user_id)))).await?;
        decoded(op, wire::core::decode_user(&r.body))
    }

    /// `GET /external/users/{external_id}` (§6; the oldest of several users with the id answers
    /// \[K\]).
    pub(crate) async fn get_external_user(
        &self,
        ctx: &Context,
        op: &str,
        external_id: &str,
    ) -> Result<User, Error> {
        let path = format!("/external/users/{}", encode_segment(external_id));
        let r = self.core.send(ctx, Call::get(op, path)).await?;
        decoded(op, wire::core::decode_user(&r.body))
    }

    /// `PUT /users/{user_id}` (§6): re-sending identical data is harmless (\[K\]), so it is
    /// retried like a read.
    pub(crate) async fn update_user(
        &self,
        ctx: &Context,
        op: &str,
        user_id: &str,
        user: &UserWrite,
    ) -> Result<User, Error> {
        let path = format!("/users/{}", encode_segment(user_id));
        let call =
            Call::put(op, path).json(Self::body(op, &UserBody { user })?).retry(Retry::IdempotentWrite);
        let r = self.core.send(ctx, call).await?;
        decoded(op, wire::core::decode_user(&r.body))
    }

    /// `PUT /external/users/{external_id}` (§6).
    pub(crate) async fn update_external_user(
        &self,
        ctx: &Context,
        op: &str,
        external_id: &str,
        user: &UserWrite,
    ) -> Result<User, Error> {
        let path = format!("/external/users/{}", encode_segment(external_id));
        let call =
            Call::put(op, path).json(Self::body(op, &UserBody { user })?).retry(Retry::IdempotentWrite);
        let r = self.core.send(ctx, call).await?;
        decoded(op, wire::core::decode_user(&r.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_uuid_shaped_and_distinct() {
        let ids = RandomRequestIds::default();
        let a = ids.next_id();
        let b = ids.next_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(RandomRequestIds::default().next_id(), a, "another source draws other keys");
    }

    #[test]
    fn derived_ids_are_stable_uuid_shaped_and_tell_their_parts_apart() {
        let a = derived_request_id(&["reinstate", "order-1/uo-1"]);
        assert_eq!(a, derived_request_id(&["reinstate", "order-1/uo-1"]));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8", "{a}");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert_ne!(a, derived_request_id(&["reinstate", "order-1/uo-2"]));
        assert_ne!(derived_request_id(&["ab", "c"]), derived_request_id(&["a", "bc"]));
    }

    #[test]
    fn sequential_ids_count_from_one() {
        let ids = SequentialRequestIds::new("req");
        assert_eq!((ids.next_id(), ids.next_id()), ("req-1".to_string(), "req-2".to_string()));
    }
}
