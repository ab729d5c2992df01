//! One function per Diller call (`docs/vendors/diller.md` lists them): build the request, send it
//! through `loyalty-http`, read the reply into `wire` types. No retry loops and no token caching here:
//! both live in the transport. Every function takes the operation label of the trait method it
//! serves, so errors and spans name what the caller was doing.

use std::fmt;
use std::sync::Arc;

use loyalty_core::{Clock, Context, Error, ErrorKind, SystemClock, WriteEffect};
use loyalty_http::{encode_segment, Call, HttpClient, HttpConfig, OAuth2ClientCredentials, Response, Retry};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::DillerConfig;
use crate::decode;
use crate::error::classify;
use crate::wire::{self, names};
use crate::PROVIDER;

/// The key of a member search (M1); exactly one is sent (§4.2: how keys combine is undocumented).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    /// `email`.
    Email(String),
    /// `phone`, E.164 (`+4741234567`); the `+` travels as `%2B` (§4.2).
    Phone(String),
    /// `identifierValue`: the store's extra identifier (SSN, licence, plate).
    IdentifierValue(String),
    /// `activationToken` of a pending sign-up.
    ActivationToken(String),
}

impl SearchKey {
    fn pair(&self) -> (&'static str, &str) {
        match self {
            SearchKey::Email(v) => ("email", v),
            SearchKey::Phone(v) => ("phone", v),
            SearchKey::IdentifierValue(v) => ("identifierValue", v),
            SearchKey::ActivationToken(v) => ("activationToken", v),
        }
    }
}

/// The Diller HTTP client of one store.
#[derive(Clone)]
pub struct DillerClient {
    http: HttpClient,
    store: String,
    /// `/api/v2.0/stores/{storeId}`, encoded once.
    store_prefix: String,
    auth: Arc<OAuth2ClientCredentials>,
}

impl fmt::Debug for DillerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the transport's own `Debug`: it prints the base URL as written, credentials and all.
        f.debug_struct("DillerClient")
            .field("base_url", &crate::config::redacted_url(&self.http.config().base_url))
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl DillerClient {
    /// A client for `config`, measuring token expiry with the system clock.
    ///
    /// # Errors
    /// `Invalid` for a base URL the transport refuses.
    pub fn new(config: &DillerConfig) -> Result<DillerClient, Error> {
        DillerClient::with_clock(config, Arc::new(SystemClock))
    }

    /// A client whose token cache reads `clock` (tests move a simulator clock).
    ///
    /// # Errors
    /// `Invalid` for a base URL the transport refuses.
    pub fn with_clock(config: &DillerConfig, clock: Arc<dyn Clock>) -> Result<DillerClient, Error> {
        // `/connect/token` is resolved against the origin, dropping any path of the base URL,
        // while API paths are appended to it (§1, as the SDK does).
        let token_url = config
            .base_url
            .join(names::TOKEN_PATH)
            .map_err(|e| Error::invalid(PROVIDER, "config.load", "base_url", e.to_string()))?;
        let auth = Arc::new(
            OAuth2ClientCredentials::new(
                PROVIDER,
                token_url,
                config.client_id.clone(),
                config.client_secret.clone(),
            )
            .with_scope(names::SCOPE)
            .with_timeout(config.attempt_timeout)
            .with_clock(clock.clone()),
        );
        let http_config = HttpConfig::new(config.base_url.clone())
            .with_attempt_timeout(config.attempt_timeout)
            .with_clock(clock)
            // Every call asks for JSON; set on the pooled client once, not per call.
            .with_default_header("accept", "application/json");
        let http = HttpClient::new(PROVIDER, http_config, auth.clone(), Arc::new(classify))?;
        let store_prefix = format!("{}/stores/{}", names::API_PREFIX, encode_segment(&config.store_id));
        Ok(DillerClient { http, store: config.store_id.clone(), store_prefix, auth })
    }

    /// Token requests made so far (one per token lifetime, §2).
    pub fn token_requests(&self) -> u64 {
        self.auth.token_requests()
    }

    fn store_path(&self, rest: &str) -> String {
        let mut path = String::with_capacity(self.store_prefix.len() + rest.len());
        path.push_str(&self.store_prefix);
        path.push_str(rest);
        path
    }

    fn member_path(&self, member: &str, rest: &str) -> String {
        const MEMBERS: &str = "/members/";
        let member = encode_segment(member);
        let mut path =
            String::with_capacity(self.store_prefix.len() + MEMBERS.len() + member.len() + rest.len());
        path.push_str(&self.store_prefix);
        path.push_str(MEMBERS);
        path.push_str(&member);
        path.push_str(rest);
        path
    }

    async fn send(&self, ctx: &Context, call: Call) -> Result<Response, Error> {
        self.http.send(ctx, call).await
    }

    /// Sends a read and decodes its reply; `op` is the call's operation label.
    async fn read<T: DeserializeOwned>(&self, ctx: &Context, op: &str, call: Call) -> Result<T, Error> {
        decode::json(op, &self.send(ctx, call).await?.body)
    }

    /// Sends a command and reads its `ActionResponse` ([`decode::action`]).
    async fn action(&self, ctx: &Context, op: &str, call: Call) -> Result<wire::ActionResponse, Error> {
        decode::action(op, &self.send(ctx, call).await?.body)
    }

    /// Serialises a request straight from its wire struct (no `serde_json::Value` in between).
    fn body<T: Serialize + ?Sized>(op: &str, value: &T) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(value).map_err(|e| Error::invalid(PROVIDER, op, "body", e.to_string()))
    }

    // ---------------------------------------------------------------- stores (§4.1)

    /// S1 `GET /stores`: every store the client may access.
    pub async fn stores(&self, ctx: &Context, op: &str) -> Result<Vec<wire::StoreResponse>, Error> {
        self.read(ctx, op, Call::get(op, format!("{}/stores", names::API_PREFIX))).await
    }

    /// S2 `GET /stores/{storeId}`.
    pub async fn store(&self, ctx: &Context, op: &str) -> Result<wire::StoreResponse, Error> {
        self.read(ctx, op, Call::get(op, self.store_path(""))).await
    }

    /// S3 `GET /stores/{storeId}/departments`.
    pub async fn departments(
        &self,
        ctx: &Context,
        op: &str,
    ) -> Result<Vec<wire::StoreDepartmentResponse>, Error> {
        self.read(ctx, op, Call::get(op, self.store_path("/departments"))).await
    }

    /// S4 `POST /stores/{storeId}/departments`; answers the department list (§4.1 \[I\]).
    pub async fn create_department(
        &self,
        ctx: &Context,
        op: &str,
        request: &wire::CreateDepartmentRequest,
    ) -> Result<Vec<wire::StoreDepartmentResponse>, Error> {
        let call = Call::post(op, self.store_path("/departments"))
            .json_bytes(Self::body(op, request)?)
            .retry(Retry::Write);
        self.read(ctx, op, call).await
    }

    /// S5 `GET /stores/{storeId}/segments`.
    pub async fn segments(&self, ctx: &Context, op: &str) -> Result<Vec<wire::StoreSegmentResponse>, Error> {
        self.read(ctx, op, Call::get(op, self.store_path("/segments"))).await
    }

    /// S6 `GET /stores/{storeId}/membership-level` (singular, §3).
    pub async fn membership_levels(
        &self,
        ctx: &Context,
        op: &str,
    ) -> Result<Vec<wire::StoreMembershipLevelResponse>, Error> {
        self.read(ctx, op, Call::get(op, self.store_path("/membership-level"))).await
    }

    // ---------------------------------------------------------------- members (§4.2)

    /// M1 `GET /stores/{storeId}/members/search` with exactly one key.
    pub async fn search_members(
        &self,
        ctx: &Context,
        op: &str,
        key: &SearchKey,
    ) -> Result<Vec<wire::MemberResponse>, Error> {
        let (name, value) = key.pair();
        if value.trim().is_empty() {
            // An empty parameter counts as absent at Diller (§4.2), so it would search nothing.
            return Err(
                Error::invalid(PROVIDER, op, name, "must not be empty").with_effect(WriteEffect::NotSent)
            );
        }
        self.read(ctx, op, Call::get(op, self.store_path("/members/search")).query(name, value)).await
    }

    /// M2 `GET /stores/{storeId}/members/{memberId}`.
    pub async fn get_member(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
    ) -> Result<wire::MemberResponse, Error> {
        self.read(ctx, op, Call::get(op, self.member_path(member, ""))).await
    }

    /// M3 `POST /stores/{storeId}/members` (register; sends a welcome SMS). Never auto-retried
    /// after an unknown outcome.
    pub async fn register_member(
        &self,
        ctx: &Context,
        op: &str,
        request: &wire::RegisterMemberRequest,
    ) -> Result<wire::MemberResponse, Error> {
        let call = Call::post(op, self.store_path("/members"))
            .json_bytes(Self::body(op, request)?)
            .retry(Retry::Write);
        self.read(ctx, op, call).await
    }

    /// M4 `POST /stores/{storeId}/members/enroll` (sends an activation link).
    pub async fn enroll_member(
        &self,
        ctx: &Context,
        op: &str,
        request: &wire::EnrollMemberRequest,
    ) -> Result<wire::MemberResponse, Error> {
        let call = Call::post(op, self.store_path("/members/enroll"))
            .json_bytes(Self::body(op, request)?)
            .retry(Retry::Write);
        self.read(ctx, op, call).await
    }

    /// M5 `PUT /stores/{storeId}/members/{memberId}`: full replacement (§4.2).
    pub async fn update_member(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
        request: &wire::UpdateMemberRequest,
    ) -> Result<wire::MemberResponse, Error> {
        let call = Call::put(op, self.member_path(member, ""))
            .json_bytes(Self::body(op, request)?)
            .retry(Retry::Write);
        self.read(ctx, op, call).await
    }

    /// M6 `DELETE /stores/{storeId}/members/{memberId}`: flagged now, gone after 10 days (§4.2).
    pub async fn delete_member(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
    ) -> Result<wire::ActionResponse, Error> {
        self.action(ctx, op, Call::delete(op, self.member_path(member, "")).retry(Retry::Write)).await
    }

    /// M7 `GET …/members/{memberId}/dependents`.
    pub async fn dependents(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
    ) -> Result<Vec<wire::Dependent>, Error> {
        self.read(ctx, op, Call::get(op, self.member_path(member, "/dependents"))).await
    }

    /// M8 `POST …/members/{memberId}/dependents`: the complete list; no reply body (§4.2).
    pub async fn set_dependents(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
        dependents: &[wire::Dependent],
    ) -> Result<(), Error> {
        let call = Call::post(op, self.member_path(member, "/dependents"))
            .json_bytes(Self::body(op, dependents)?)
            // The whole list replaces the old one, so sending it twice has one effect.
            .retry(Retry::IdempotentWrite);
        self.send(ctx, call).await.map(|_| ())
    }

    // ---------------------------------------------------------------- coupons (§4.3)

    /// C1 `GET /stores/{storeId}/coupons?alsoInactive=`.
    pub async fn store_coupons(
        &self,
        ctx: &Context,
        op: &str,
        also_inactive: bool,
    ) -> Result<Vec<wire::StoreCouponResponse>, Error> {
        let call =
            Call::get(op, self.store_path("/coupons")).query("alsoInactive", also_inactive.to_string());
        self.read(ctx, op, call).await
    }

    /// C2 `GET …/members/{memberId}/coupons`.
    pub async fn member_coupons(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
    ) -> Result<Vec<wire::MemberCouponResponse>, Error> {
        self.read(ctx, op, Call::get(op, self.member_path(member, "/coupons"))).await
    }

    /// C3 `GET …/coupons/{couponCode}/validate`: the path carries the code, never the id (§4.3).
    pub async fn validate_coupon(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
        code: &str,
    ) -> Result<wire::ActionResponse, Error> {
        let path = self.member_path(member, &format!("/coupons/{}/validate", encode_segment(code)));
        self.action(ctx, op, Call::get(op, path)).await
    }

    /// C4 `POST …/coupons/{couponCode}/reserve`. Reserving again under the same
    /// `external_transaction_id` is a no-op at Diller (§7.5), so it is retried as idempotent.
    pub async fn reserve_coupon(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
        code: &str,
        request: &wire::CouponReservationRequest,
    ) -> Result<wire::ActionResponse, Error> {
        let path = self.member_path(member, &format!("/coupons/{}/reserve", encode_segment(code)));
        self.action(
            ctx,
            op,
            Call::post(op, path).json_bytes(Self::body(op, request)?).retry(Retry::IdempotentWrite),
        )
        .await
    }

    /// C5 `POST …/coupons/{couponCode}/cancel-reservation`; succeeds with nothing reserved
    /// (§7.5), so it is retried as idempotent.
    pub async fn cancel_coupon_reservation(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
        code: &str,
        request: &wire::CouponCancelReservationRequest,
    ) -> Result<wire::ActionResponse, Error> {
        let path = self.member_path(member, &format!("/coupons/{}/cancel-reservation", encode_segment(code)));
        self.action(
            ctx,
            op,
            Call::post(op, path).json_bytes(Self::body(op, request)?).retry(Retry::IdempotentWrite),
        )
        .await
    }

    // ---------------------------------------------------------------- stamp cards (§4.4)

    /// K1 `GET /stores/{storeId}/stamp-cards?alsoInactive=`.
    pub async fn store_stamp_cards(
        &self,
        ctx: &Context,
        op: &str,
        also_inactive: bool,
    ) -> Result<Vec<wire::StoreStampCardResponse>, Error> {
        let call =
            Call::get(op, self.store_path("/stamp-cards")).query("alsoInactive", also_inactive.to_string());
        self.read(ctx, op, call).await
    }

    /// K2 `GET …/members/{memberId}/stamp-cards`: the member's active cards.
    pub async fn member_stamp_cards(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
    ) -> Result<Vec<wire::MemberStampCard>, Error> {
        self.read(ctx, op, Call::get(op, self.member_path(member, "/stamp-cards"))).await
    }

    /// K3 `POST …/stamp-cards/{stampId}/reserve`, keyed by `external_transaction_id`. Each
    /// call reserves one more stamp (one per unit, §4.4), so it is not retried after an
    /// unknown outcome: the caller releases with K4 and reserves again.
    pub async fn reserve_stamp(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
        stamp_id: i64,
        request: &wire::StampReservationRequest,
    ) -> Result<wire::ActionResponse, Error> {
        let path = self.member_path(member, &format!("/stamp-cards/{stamp_id}/reserve"));
        self.action(ctx, op, Call::post(op, path).json_bytes(Self::body(op, request)?).retry(Retry::Write))
            .await
    }

    /// K4 `POST …/stamp-cards/{stampId}/cancel-reservation`: releases every stamp of the card
    /// reserved under the `external_transaction_id` (2024-02-27 text). Deprecated since
    /// 2024-02-29, yet the only release for an order that is never sent (§4.4); idempotent.
    /// Its 404/405 (the endpoint removed) reaches the caller as `NotFound` / `Protocol`
    /// (`method_not_allowed`); the adapter reads both as "nothing to release".
    pub async fn cancel_stamp_reservation(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
        stamp_id: i64,
        request: &wire::CouponCancelReservationRequest,
    ) -> Result<wire::ActionResponse, Error> {
        let path = self.member_path(member, &format!("/stamp-cards/{stamp_id}/cancel-reservation"));
        self.action(
            ctx,
            op,
            Call::post(op, path).json_bytes(Self::body(op, request)?).retry(Retry::IdempotentWrite),
        )
        .await
    }

    // ---------------------------------------------------------------- transactions (§4.5)

    /// T1 `POST …/members/{memberId}/transactions`. Never auto-retried after an unknown
    /// outcome: there is no GET to reconcile with (§6.2).
    pub async fn create_transaction(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
        request: &wire::CreateTransactionRequest<'_>,
    ) -> Result<wire::ActionResponse, Error> {
        let call = Call::post(op, self.member_path(member, "/transactions"))
            .json_bytes(Self::body(op, request)?)
            .retry(Retry::Write);
        self.action(ctx, op, call).await
    }

    /// T2 `POST /stores/{storeId}/transactions/{externalTransactionId}/cancel`: no member in the
    /// path (§4.5).
    pub async fn cancel_transaction(
        &self,
        ctx: &Context,
        op: &str,
        external_id: &str,
        request: &wire::CancelationReason,
    ) -> Result<wire::ActionResponse, Error> {
        let path = self.store_path(&format!("/transactions/{}/cancel", encode_segment(external_id)));
        self.action(ctx, op, Call::post(op, path).json_bytes(Self::body(op, request)?).retry(Retry::Write))
            .await
    }

    /// T3 `POST …/members/{memberId}/transactions/{transactionId}/refund`; `transactionId` is
    /// the original T1 `external_id` (§4.5, \[I\]).
    pub async fn refund_transaction(
        &self,
        ctx: &Context,
        op: &str,
        member: &str,
        original: &str,
        request: &wire::CreateRefundTransactionRequest<'_>,
    ) -> Result<wire::ActionResponse, Error> {
        let path = self.member_path(member, &format!("/transactions/{}/refund", encode_segment(original)));
        self.action(ctx, op, Call::post(op, path).json_bytes(Self::body(op, request)?).retry(Retry::Write))
            .await
    }
}

/// True for an error that means "no such member / coupon / transaction".
pub(crate) fn is_not_found(e: &Error) -> bool {
    *e.kind() == ErrorKind::NotFound
}
