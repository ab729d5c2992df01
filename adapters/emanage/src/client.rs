//! One function per eManage call (§6.1, §6.4, §7): build the request, send it through
//! `loyalty-http`, decode the reply into `wire` types. No retry loops here: retries live in the
//! transport, and calls that charge money (`checkout`, an upgrade `add`, an offline upgrade's
//! `new`) are [`Retry::Unsent`]: re-sent only after a connect error before the request went
//! out, as the contract's retry safety says (§10), so neither a reply that may have been acted
//! on nor a 429 is repeated by the transport: a throttled charge is the caller's to repeat
//! (`RateLimited` with its `retry_after`). Every function takes the operation label of the
//! trait method it serves.

use std::sync::Arc;

use loyalty_core::{Context, Error};
use loyalty_http::{encode_segment, Call, HttpClient, HttpConfig, Response, Retry, Secret};

use crate::auth::ClientIdAuth;
use crate::config::EmanageConfig;
use crate::error::classify;
use crate::names;
use crate::wire::{self, ConversionError};
use crate::PROVIDER;

/// The eManage Web Sales client of one campaign.
#[derive(Clone, Debug)]
pub(crate) struct EmanageClient {
    http: HttpClient,
    web_key: String,
    /// The client id, also sent as the `X_CID` header: a checkout reply quoting it is redacted.
    cid: Secret,
}

impl EmanageClient {
    /// A client for `config`.
    ///
    /// # Errors
    /// `Invalid` for a base URL the transport refuses.
    pub(crate) fn new(config: &EmanageConfig) -> Result<EmanageClient, Error> {
        let http_config =
            HttpConfig::new(config.base_url.clone()).with_attempt_timeout(config.attempt_timeout);
        let auth = Arc::new(ClientIdAuth::new(config.cid.clone()));
        let http = HttpClient::new(PROVIDER, http_config, auth, Arc::new(classify))?;
        Ok(EmanageClient { http, web_key: config.web_key.clone(), cid: config.cid.clone() })
    }

    fn campaign(&self, rest: &str) -> String {
        format!("campaigns/{}{rest}", encode_segment(&self.web_key))
    }

    fn cart_path(&self, rest: &str) -> String {
        format!("shoppingcart/{}{rest}", encode_segment(&self.web_key))
    }

    async fn send(&self, ctx: &Context, call: Call) -> Result<Response, Error> {
        self.http.send(ctx, call.header("accept", "application/json")).await
    }

    /// How a cart write may be retried: one that opens or changes a payable upgrade charges
    /// money, so only a request never sent is repeated (§10).
    fn write_retry(charges: bool) -> Retry {
        if charges {
            Retry::Unsent
        } else {
            Retry::Write
        }
    }

    fn decoded<T>(op: &str, r: Result<T, ConversionError>) -> Result<T, Error> {
        r.map_err(|e| e.protocol(op))
    }

    fn test_query(call: Call, test: bool) -> Call {
        if test {
            call.query("behaviorId", names::BEHAVIOR_TEST.to_string())
        } else {
            call
        }
    }

    // ---------------------------------------------------------------- campaign (§6.1)

    /// `GET campaigns/{wk}/products/prices`: the campaign's price list (§5.3, object form).
    /// An entry that does not read is left out with a warning naming it; an operation that
    /// needs that product fails naming it (see `convert::Catalogue`).
    pub(crate) async fn price_list(&self, ctx: &Context, op: &str) -> Result<wire::PriceListReply, Error> {
        let r = self.send(ctx, Call::get(op, self.campaign("/products/prices"))).await?;
        let list = Self::decoded(op, wire::decode_price_list(&r.body))?;
        for s in &list.skipped {
            tracing::warn!(
                operation = op,
                product = ?s.product_id,
                entry = %s.error.field,
                reason = %s.error.reason,
                "eManage price list entry does not read; left out"
            );
        }
        Ok(list)
    }

    // ---------------------------------------------------------------- cart (§6.4 rows 1-5, §7)

    /// `POST shoppingcart/{wk}/new[?behaviorId=2]` (row 1): the new session id. A second send
    /// would open a second session, so it is not retried after an unknown outcome; an
    /// offline-upgrade `new` may open a payable session, which is worse.
    pub(crate) async fn new_session(
        &self,
        ctx: &Context,
        op: &str,
        request: &wire::NewSessionRequest,
        test: bool,
    ) -> Result<String, Error> {
        let call = Call::post(op, self.cart_path("/new"))
            .json(request.to_json())
            .retry(Self::write_retry(request.upgrade.is_some()));
        let r = self.send(ctx, Self::test_query(call, test)).await?;
        Self::decoded(op, wire::decode_session_id(&r.body))
    }

    /// `POST shoppingcart/{wk}/add?sessionId=[&behaviorId=2]` (row 2): a plain line, or an
    /// upgrade line that charges the card on file (§7.1). Never re-sent after an unknown
    /// outcome: the caller reads the cart back (§10, checklist 25).
    pub(crate) async fn add(
        &self,
        ctx: &Context,
        op: &str,
        session: &str,
        request: &wire::AddRequest,
        test: bool,
    ) -> Result<wire::AddReply, Error> {
        let call = Call::post(op, self.cart_path("/add"))
            .query("sessionId", session)
            .json(request.to_json())
            .retry(Self::write_retry(request.upgrade.is_some()));
        let r = self.send(ctx, Self::test_query(call, test)).await?;
        Self::decoded(op, wire::decode_add_reply(&r.body, session))
    }

    /// `PUT shoppingcart/{wk}/update?sessionId=&productId=&quantity=` (row 3): sets a line's
    /// quantity; the same quantity twice has one effect, so it is retried like a read.
    pub(crate) async fn update(
        &self,
        ctx: &Context,
        op: &str,
        session: &str,
        product: i64,
        quantity: u32,
    ) -> Result<(), Error> {
        let call = Call::put(op, self.cart_path("/update"))
            .query("sessionId", session)
            .query("productId", product.to_string())
            .query("quantity", quantity.to_string())
            .retry(Retry::IdempotentWrite);
        self.send(ctx, call).await.map(|_| ())
    }

    /// `DELETE shoppingcart/{wk}/remove?sessionId=&productId=` (row 4). A second remove is a 404,
    /// so it is not retried after an unknown outcome.
    pub(crate) async fn remove(
        &self,
        ctx: &Context,
        op: &str,
        session: &str,
        product: i64,
    ) -> Result<(), Error> {
        let call = Call::delete(op, self.cart_path("/remove"))
            .query("sessionId", session)
            .query("productId", product.to_string())
            .retry(Retry::Write);
        self.send(ctx, call).await.map(|_| ())
    }

    /// `GET shoppingcart/{wk}?sessionId=` (row 5).
    pub(crate) async fn cart(
        &self,
        ctx: &Context,
        op: &str,
        session: &str,
    ) -> Result<wire::CartResponse, Error> {
        let r = self.send(ctx, Call::get(op, self.cart_path("")).query("sessionId", session)).await?;
        Self::decoded(op, wire::decode_cart(&r.body))
    }

    // ---------------------------------------------------------------- checkout (§6.4 rows 6-7)

    /// `POST shoppingcart/{wk}/customers/new?sessionId=` (row 6): the customer replaces any
    /// earlier one, so it is retried like a read.
    pub(crate) async fn customer(
        &self,
        ctx: &Context,
        op: &str,
        session: &str,
        request: &wire::CustomerRequest,
    ) -> Result<(), Error> {
        let call = Call::post(op, self.cart_path("/customers/new"))
            .query("sessionId", session)
            .json(request.to_json())
            .retry(Retry::IdempotentWrite);
        self.send(ctx, call).await.map(|_| ())
    }

    /// What a reply to the checkout `request` must never quote: the card number and CVV it
    /// carries and the client id. A vendor echoing the request (a decline naming the card)
    /// would otherwise hand them to the caller and its logs.
    pub(crate) fn checkout_secrets<'a>(&'a self, request: &'a wire::CheckoutRequest) -> Vec<&'a str> {
        let mut secrets = request.payment.card_secrets();
        secrets.push(self.cid.expose());
        secrets
    }

    /// `POST shoppingcart/{wk}/checkout` (row 7), `sessionId` in the body. It charges money:
    /// never re-sent after an unknown outcome; the caller reads the cart back (§10, checklist
    /// 25). The card and the client id are the call's secrets, so an error reply quoting them
    /// is redacted by the transport; a decline (a 200) is redacted by the caller with
    /// [`EmanageClient::checkout_secrets`], and so is a 200 that does not read: a decoder's
    /// message may quote the value it refused (`success: expected true or false, got
    /// "4111…"`), and a vendor echoing the request could put the card there.
    pub(crate) async fn checkout(
        &self,
        ctx: &Context,
        op: &str,
        request: &wire::CheckoutRequest,
    ) -> Result<wire::CheckoutResponse, Error> {
        let secrets = self.checkout_secrets(request);
        let call = secrets
            .iter()
            .fold(Call::post(op, self.cart_path("/checkout")), |call, s| call.secret(&Secret::new(*s)))
            .json(request.to_json())
            .retry(Retry::Unsent);
        let r = self.send(ctx, call).await?;
        Self::decoded(op, wire::decode_checkout(&r.body)).map_err(|e| loyalty_http::redact_error(e, &secrets))
    }
}
