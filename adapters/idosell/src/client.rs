//! One function per IdoSell gateway (§5): build the SOAP request, send it through
//! `loyalty-http`, decode the reply into `wire` types. No retry loops and no session caching
//! here: both live in the transport ([`loyalty_http::SessionAuth`] keeps the session; a
//! [`loyalty_http::Body::Built`] body puts its current key into each attempt).

use std::fmt;
use std::sync::Arc;

use crate::wire::xml::escape;
use loyalty_core::locks::SharedLocks;
use loyalty_core::{Clock, Context, Error, WriteEffect};
use loyalty_http::{Call, Classifier, HttpClient, HttpConfig, NoAuth, Response, Retry, Secret, SessionAuth};

use crate::auth::{IdosellLogin, SESSION_LIFETIME};
use crate::basket::{lease_length, Basket};
use crate::config::IdosellConfig;
use crate::error::classify_with;
use crate::names::{Gateway, Names, DROPSHIPPING_KEY, SESSION_KEY, SOAP_CONTENT_TYPE};
use crate::wire::{self, xml::Envelope};
use crate::PROVIDER;

/// Room kept for the credentials when the body's size is checked before any I/O.
const CREDENTIALS_ROOM: usize = 256;

/// The IdoSell client of one customer account.
pub(crate) struct IdosellClient {
    http: HttpClient,
    auth: Arc<SessionAuth<IdosellLogin>>,
    names: Arc<Names>,
    dropshipping_key: Secret,
    max_body: usize,
    // One basket per customer account (§5 G3): an import and the placement that empties it
    // must not interleave with another order's, in this process or another instance.
    basket: Basket,
}

impl fmt::Debug for IdosellClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdosellClient").field("http", &self.http).finish_non_exhaustive()
    }
}

impl IdosellClient {
    /// A client for `config` whose session lifetimes follow `clock`; its basket is leased
    /// through `locks`.
    pub fn new(
        config: &IdosellConfig,
        clock: Arc<dyn Clock>,
        locks: Arc<dyn SharedLocks>,
    ) -> Result<IdosellClient, Error> {
        let names = Arc::new(config.names.clone());
        let faults = names.faults.clone();
        let classifier: Classifier = Arc::new(move |input| classify_with(&faults, input));
        // §8: 10 MiB per request, the transport's default limit.
        let http_config = HttpConfig::new(config.base_url.clone())
            .with_attempt_timeout(config.attempt_timeout)
            .with_clock(clock.clone());
        let login_http =
            HttpClient::new(PROVIDER, http_config.clone(), Arc::new(NoAuth), classifier.clone())?;
        let login = IdosellLogin::new(
            login_http,
            config.login.clone(),
            config.password_sha1.clone(),
            config.key_time_zone,
            clock.clone(),
            names.clone(),
        );
        let margin = SESSION_LIFETIME.saturating_sub(config.session_refresh_after);
        let auth = Arc::new(SessionAuth::new(PROVIDER, login, margin).with_clock(clock.clone()));
        let http = HttpClient::new(PROVIDER, http_config.clone(), auth.clone(), classifier)?;
        let host = match (config.base_url.host_str(), config.base_url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (h, None) => h.unwrap_or_default().to_string(),
            (None, Some(p)) => format!(":{p}"),
        };
        // Each call ends within the transport's `max_elapsed`, its retries, waits and a
        // re-login included.
        let basket = Basket::new(&host, &config.login, locks, lease_length(http_config.max_elapsed), clock);
        Ok(IdosellClient {
            http,
            auth,
            names,
            dropshipping_key: config.dropshipping_key.clone(),
            max_body: http_config.max_request_bytes,
            basket,
        })
    }

    /// Sessions opened so far (one `Authenticate` each, near-midnight retries aside).
    pub fn sessions_opened(&self) -> u64 {
        self.auth.opens()
    }

    /// The account's basket, entered for an import and the placement that follows it.
    pub fn basket(&self) -> &Basket {
        &self.basket
    }

    /// The same, to change its lease source or wait before the client is shared.
    pub fn basket_mut(&mut self) -> &mut Basket {
        &mut self.basket
    }

    /// Sends `params` to `gateway`. The body is written per attempt with the session key the
    /// transport holds for it, and the `dropshippingKey` (§3.4: G2–G9 take both).
    async fn call(
        &self,
        ctx: &Context,
        op: &str,
        gateway: Gateway,
        retry: Retry,
        params: &str,
    ) -> Result<(Response, Sent), Error> {
        let gate = self.names.gates.get(gateway);
        let envelope = Arc::new(Envelope::new(&self.names, gate, params));
        // §8 (checklist 11): a body that cannot fit is refused before any I/O, login included.
        let size =
            envelope.len_without_credentials() + self.dropshipping_key.expose().len() + CREDENTIALS_ROOM;
        if size > self.max_body {
            return Err(Error::invalid(
                PROVIDER,
                op,
                "body",
                format!(
                    "about {size} bytes; the wholesaler takes at most {} per request (§8)",
                    self.max_body
                ),
            )
            .with_effect(WriteEffect::NotSent));
        }
        let ds = self.dropshipping_key.clone();
        let label = op.to_string();
        // The session key each attempt wrote, so the reply the last one got can be cleared of it.
        let used = Arc::new(std::sync::Mutex::new(None::<Secret>));
        let written = used.clone();
        let (path, query) = gate.split_path();
        let mut call = Call::post(op, path)
            .header("SOAPAction", format!("\"{}\"", gate.soap_action))
            .built(SOAP_CONTENT_TYPE, move |credentials| {
                let key = credentials.body_token.as_ref().ok_or_else(|| {
                    Error::invalid(PROVIDER, label.as_str(), SESSION_KEY, "no session to send")
                })?;
                let fields = format!(
                    "<{SESSION_KEY} xsi:type=\"xsd:string\">{}</{SESSION_KEY}><{DROPSHIPPING_KEY} xsi:type=\"xsd:string\">{}</{DROPSHIPPING_KEY}>",
                    escape(key.expose()),
                    escape(ds.expose())
                );
                *written.lock().unwrap_or_else(|p| p.into_inner()) = Some(key.clone());
                Ok(envelope.with(&fields))
            })
            // The session key is redacted by the transport (it is the body token); the
            // dropshipping key it cannot see.
            .secret(&self.dropshipping_key)
            .retry(retry);
        for (k, v) in query {
            call = call.query(k, v);
        }
        let reply = self.http.send(ctx, call).await?;
        let key = used.lock().unwrap_or_else(|p| p.into_inner()).take();
        let secrets = key.into_iter().chain([self.dropshipping_key.clone()]).collect();
        Ok((reply, Sent { secrets }))
    }

    /// G2: availability per line (a pure read).
    pub async fn check_availability(
        &self,
        ctx: &Context,
        op: &str,
        lines: &[wire::IcdfLine],
    ) -> Result<Vec<wire::LineResult>, Error> {
        let params = wire::products::products_params(lines).map_err(|r| r.invalid(op))?;
        let (reply, sent) = self.call(ctx, op, Gateway::CheckAvailability, Retry::Read, &params).await?;
        let mut results =
            wire::products::decode_check_availability(&self.names, op, lines.len(), &reply.body)
                .map_err(|e| sent.error(e))?;
        sent.lines(&mut results);
        Ok(results)
    }

    /// G3: replaces the account's basket with `lines` (§5 G3: replaces, so a repeat is
    /// harmless).
    pub async fn basket_import(
        &self,
        ctx: &Context,
        op: &str,
        lines: &[wire::IcdfLine],
    ) -> Result<wire::ImportReply, Error> {
        let params = wire::products::products_params(lines).map_err(|r| r.invalid(op))?;
        let (reply, sent) =
            self.call(ctx, op, Gateway::BasketImport, Retry::IdempotentWrite, &params).await?;
        let mut imported = wire::products::decode_basket_import(&self.names, op, lines.len(), &reply.body)
            .map_err(|e| sent.error(e))?;
        sent.lines(&mut imported.lines);
        Ok(imported)
    }

    /// G4: turns the basket into an order. Never retried by the transport after sending: the
    /// caller reconciles through G7 (§3.5).
    pub async fn place_order(
        &self,
        ctx: &Context,
        op: &str,
        request: &wire::PlaceOrderRequest,
    ) -> Result<wire::Order, Error> {
        let params = request.params(&self.names).map_err(|r| r.invalid(op))?;
        let (reply, sent) = self.call(ctx, op, Gateway::PlaceOrder, Retry::Write, &params).await?;
        wire::orders::decode_place_order(&self.names, op, &reply.body).map_err(|e| sent.error(e))
    }

    /// G5: every courier.
    pub async fn get_couriers(&self, ctx: &Context, op: &str) -> Result<Vec<wire::CourierItem>, Error> {
        let (reply, sent) = self.call(ctx, op, Gateway::GetCouriers, Retry::Read, "").await?;
        wire::couriers::decode_couriers(&self.names, op, Gateway::GetCouriers, &reply.body)
            .map_err(|e| sent.error(e))
    }

    /// G6: couriers for these products to this country and postcode.
    pub async fn get_couriers_for_order(
        &self,
        ctx: &Context,
        op: &str,
        lines: &[wire::IcdfLine],
        country: &str,
        postcode: &str,
    ) -> Result<Vec<wire::CourierItem>, Error> {
        let params =
            wire::couriers::couriers_for_order_params(lines, country, postcode).map_err(|r| r.invalid(op))?;
        let (reply, sent) = self.call(ctx, op, Gateway::GetCouriersForOrder, Retry::Read, &params).await?;
        wire::couriers::decode_couriers(&self.names, op, Gateway::GetCouriersForOrder, &reply.body)
            .map_err(|e| sent.error(e))
    }

    /// G7: orders by id or shop reference; none found is an empty list.
    pub async fn get_order_status(
        &self,
        ctx: &Context,
        op: &str,
        filter: &wire::OrderFilter,
    ) -> Result<Vec<wire::Order>, Error> {
        self.get_order_status_with(ctx, op, filter, Ok).await
    }

    /// G7, each order converted as it is read (a large reply is never held twice).
    pub async fn get_order_status_with<T>(
        &self,
        ctx: &Context,
        op: &str,
        filter: &wire::OrderFilter,
        each: impl FnMut(wire::Order) -> Result<T, wire::WireError>,
    ) -> Result<Vec<T>, Error> {
        let params = wire::orders::order_status_params(filter).map_err(|r| r.invalid(op))?;
        let (reply, sent) = self.call(ctx, op, Gateway::GetOrderStatus, Retry::Read, &params).await?;
        wire::orders::decode_order_status_with(&self.names, op, &reply.body, each).map_err(|e| sent.error(e))
    }

    /// G8: one page of addresses.
    pub async fn get_client_addresses(
        &self,
        ctx: &Context,
        op: &str,
        filter: &wire::AddressFilter,
        page: i64,
        limit: i64,
    ) -> Result<wire::AddressPage, Error> {
        let params = wire::addresses::get_addresses_params(&self.names, filter, page, limit)
            .map_err(|r| r.invalid(op))?;
        let (reply, sent) = self.call(ctx, op, Gateway::GetClientAddresses, Retry::Read, &params).await?;
        wire::addresses::decode_get_addresses(&self.names, op, &reply.body).map_err(|e| sent.error(e))
    }

    /// G9: changes the given fields of one address (setting the same values again is the same
    /// result, so it may be repeated).
    pub async fn set_client_address(
        &self,
        ctx: &Context,
        op: &str,
        id: i64,
        change: &wire::AddressChange,
    ) -> Result<wire::AddressRecord, Error> {
        let params = wire::addresses::set_address_params(id, change).map_err(|r| r.invalid(op))?;
        let (reply, sent) =
            self.call(ctx, op, Gateway::SetClientAddress, Retry::IdempotentWrite, &params).await?;
        wire::addresses::decode_set_address(&self.names, op, &reply.body).map_err(|e| sent.error(e))
    }
}

/// The credentials one call carried (its last attempt's session key and the dropshipping key).
///
/// The transport clears them from a refused reply only; IdoSell answers per-line and per-item
/// faults inside a success (§6.1), whose vendor text the adapter quotes itself, so that text
/// is cleared here: a line's `faultString` before anything cuts it, a decoding error as a
/// second net.
pub(crate) struct Sent {
    secrets: Vec<Secret>,
}

impl Sent {
    fn keys(&self) -> Vec<&str> {
        self.secrets.iter().map(Secret::expose).collect()
    }

    /// `err` with the call's credentials replaced in its text.
    pub fn error(&self, err: Error) -> Error {
        loyalty_http::redact_error(err, &self.keys())
    }

    /// Clears each line's `faultString` of the call's credentials.
    pub fn lines(&self, lines: &mut [wire::LineResult]) {
        let keys = self.keys();
        for line in lines.iter_mut().filter(|l| !l.fault_string.is_empty()) {
            line.fault_string = loyalty_http::redact(&line.fault_string, &keys);
        }
    }
}
