//! Shipment notices the wholesaler pushes when it dispatches an order (§7): a parser that
//! needs no web framework ([`NoticeParser`]), and with the `receiver` feature an axum router
//! ([`receiver::ShipmentReceiver`]) that checks the size, the signature and duplicates before
//! handing a notice on.
//!
//! Everything about the webhook is a simulator choice (§7.2 \[S\]): JSON (or XML) with
//! `orderId`, `shopOrderReference`, `status`, `courierId`, `shipmentNumbers[]`, `dispatchDate`; an
//! `eventId` header the same for every retry of one event; `X-Signature: sha1=<hex
//! HMAC-SHA1(dropshippingKey, raw body)>`. The real mechanism is unknown, so verification is
//! pluggable ([`SignaturePolicy`]) and the webhook is only an optimisation: order status polling
//! (G7) stays the source of truth (§7.2 adapter rule).

use chrono_tz::Tz;
use hmac::{Hmac, Mac};
use loyalty_core::{Error, ErrorKind, PushedRequest, ShipmentNotice};
use loyalty_http::Secret;
use sha1::Sha1;

use crate::names::Names;
use crate::wire;
use crate::PROVIDER;

const OPERATION: &str = "fulfilment.parse_shipment_notice";

/// How a notice's signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignaturePolicy {
    /// A notice must carry a valid signature.
    Required,
    /// A signature, when present, must be valid; an unsigned notice is accepted (default:
    /// checklist 21, "with or without a signature").
    IfPresent,
    /// Signatures are not looked at.
    Off,
}

impl SignaturePolicy {
    /// Reads `required`, `if_present` or `off`.
    pub fn parse(text: &str) -> Option<SignaturePolicy> {
        match text.trim() {
            "required" => Some(SignaturePolicy::Required),
            "if_present" => Some(SignaturePolicy::IfPresent),
            "off" => Some(SignaturePolicy::Off),
            _ => None,
        }
    }
}

/// `sha1=<hex HMAC-SHA1(key, body)>` as §7.2 writes it (with the configured prefix).
pub fn signature(prefix: &str, key: &[u8], body: &[u8]) -> String {
    let hex: String = mac(key, body).into_iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

fn mac(key: &[u8], body: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length: the error branch cannot happen.
    let Ok(mut m) = <Hmac<Sha1> as Mac>::new_from_slice(key) else { return Vec::new() };
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// Parses and authenticates shipment notices; pure (no I/O, no state), so any web framework
/// can call it with the request's headers and raw body.
#[derive(Clone)]
pub struct NoticeParser {
    key: Secret,
    policy: SignaturePolicy,
    max_bytes: usize,
    names: Names,
    zone: Tz,
}

impl std::fmt::Debug for NoticeParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoticeParser")
            .field("policy", &self.policy)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl NoticeParser {
    /// A parser signing with the account's `dropshippingKey` (§7.2), reading dates in `zone`.
    pub fn new(
        key: Secret,
        policy: SignaturePolicy,
        max_bytes: usize,
        names: Names,
        zone: Tz,
    ) -> NoticeParser {
        NoticeParser { key, policy, max_bytes, names, zone }
    }

    /// The largest body accepted.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Checks the signature, then reads the body.
    ///
    /// # Errors
    /// `Invalid { field: "body" }` over the size limit; `Unauthorized` for a wrong signature, or
    /// a missing one under [`SignaturePolicy::Required`] (a signature header that is present
    /// is checked under every policy but `Off`, also when empty or unreadable); `Protocol` for a
    /// body that is no dispatch notice, for an order id or tracking number with a control
    /// character, and for a JSON number too large to read exactly. No error quotes the key or
    /// the signature.
    pub fn parse(&self, request: PushedRequest<'_>) -> Result<ShipmentNotice, Error> {
        if request.body.len() > self.max_bytes {
            return Err(Error::invalid(
                PROVIDER,
                OPERATION,
                "body",
                format!("{} bytes; the limit is {}", request.body.len(), self.max_bytes),
            ));
        }
        let w = &self.names.webhook;
        let verified = match (self.policy, request.header(&w.signature_header)) {
            (SignaturePolicy::Off, _) | (SignaturePolicy::IfPresent, None) => false,
            (SignaturePolicy::Required, None) => {
                return Err(Error::new(ErrorKind::Unauthorized, PROVIDER, OPERATION)
                    .with_message("the notice carries no signature"))
            }
            (_, Some(sig)) => {
                let given = sig.trim().strip_prefix(w.signature_prefix.as_str()).and_then(hex_bytes);
                let good = given.is_some_and(|g| {
                    // Compared through the MAC's own constant-time check.
                    let Ok(mut m) = <Hmac<Sha1> as Mac>::new_from_slice(self.key.expose().as_bytes()) else {
                        return false;
                    };
                    m.update(request.body);
                    m.verify_slice(&g).is_ok()
                });
                if !good {
                    return Err(Error::new(ErrorKind::Unauthorized, PROVIDER, OPERATION)
                        .with_message("the notice's signature does not match its body"));
                }
                true
            }
        };
        let n = wire::notice::decode_notice(&self.names, request.body).map_err(|e| e.protocol(OPERATION))?;
        if let Some(field) = std::iter::once(("orderId", n.order_id.as_str()))
            .chain(n.shipment_numbers.iter().map(|t| ("shipmentNumbers", t.as_str())))
            .find_map(|(f, v)| v.chars().any(char::is_control).then_some(f))
        {
            // An id or tracking number is handed on and logged: a control character there is
            // no real value, and XML 1.0 (which the adapter writes) could not carry it either.
            return Err(Error::new(ErrorKind::Protocol, PROVIDER, OPERATION)
                .with_message(format!("{field} holds a control character")));
        }
        if n.event.as_deref().is_some_and(|e| !e.eq_ignore_ascii_case(&w.dispatched_event)) {
            return Err(Error::new(ErrorKind::Protocol, PROVIDER, OPERATION).with_message(format!(
                "event is {:?}, not {}",
                loyalty_http::excerpt(n.event.as_deref().unwrap_or("")),
                w.dispatched_event
            )));
        }
        let mut notice = wire::convert::notice(&n, self.zone).map_err(|e| e.protocol(OPERATION))?;
        notice.event_id =
            request.header(&w.event_id_header).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        notice.verified = verified;
        Ok(notice)
    }
}

/// The receiver: an axum router for the notices, with de-duplication.
#[cfg(feature = "receiver")]
pub mod receiver {
    use std::collections::{HashSet, VecDeque};
    use std::sync::{Arc, Mutex};

    use axum::body::Bytes;
    use axum::extract::{DefaultBodyLimit, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use axum::Router;
    use loyalty_core::{ErrorKind, PushedRequest, ShipmentNotice};
    use tokio::sync::mpsc;

    use super::NoticeParser;

    /// Remembers which notices were handed on, so a retried delivery is not handed on twice.
    ///
    /// Duplicates are decided by (order, tracking number) pairs (contract checklist 21): a
    /// notice is a duplicate when every pair it reports was seen. The event id decides only for
    /// a notice without tracking numbers (the order id when it has no event id either): it is
    /// outside the signature, so it must not hide a notice that brings a new tracking number.
    /// Verified and unverified notices are kept apart: an unsigned notice (which anyone can send
    /// under [`super::SignaturePolicy::IfPresent`]) never makes a signed one a duplicate, while a
    /// signed notice does make its unsigned copy one.
    pub trait NoticeLog: Send + Sync {
        /// Records `notice`: whether it is new, and the keys this call added.
        fn record(&self, notice: &ShipmentNotice) -> Recorded;

        /// Forgets a notice recorded but not handed on, so its retry is not taken for a
        /// duplicate: removes only the keys its [`NoticeLog::record`] added, never one an
        /// earlier notice recorded and handed on (that notice's retry must stay a duplicate).
        fn forget(&self, recorded: &Recorded);
    }

    /// What [`NoticeLog::record`] did with one notice: whether it is new, and the keys it added
    /// (those [`NoticeLog::forget`] removes again).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct Recorded {
        new: bool,
        added: Vec<String>,
    }

    impl Recorded {
        /// A record that found the notice `new` and added the keys `added`.
        pub fn new(new: bool, added: Vec<String>) -> Recorded {
            Recorded { new, added }
        }

        /// True when the notice is new (to be handed on).
        pub fn is_new(&self) -> bool {
            self.new
        }

        /// The keys the record added, in the log's own spelling.
        pub fn added(&self) -> &[String] {
            &self.added
        }
    }

    /// A [`NoticeLog`] in memory, forgetting the oldest entries past `capacity` (a process
    /// restart forgets everything: back it with a database where that matters; the order status
    /// poll stays the source of truth either way).
    #[derive(Debug)]
    pub struct MemoryNoticeLog {
        capacity: usize,
        seen: Mutex<(HashSet<String>, VecDeque<String>)>,
    }

    impl MemoryNoticeLog {
        /// A log of at most `capacity` keys.
        pub fn new(capacity: usize) -> MemoryNoticeLog {
            MemoryNoticeLog { capacity: capacity.max(1), seen: Mutex::new((HashSet::new(), VecDeque::new())) }
        }
    }

    impl Default for MemoryNoticeLog {
        fn default() -> Self {
            MemoryNoticeLog::new(100_000)
        }
    }

    /// The keys a notice is de-duplicated by, without their trust prefix. Each part is length
    /// prefixed, so no order id or tracking number can forge another pair's key.
    fn keys(notice: &ShipmentNotice) -> Vec<String> {
        let order = notice.order_id.as_str();
        let shipments: Vec<String> = notice
            .shipment_keys()
            .iter()
            .map(|(o, t)| format!("shipment:{}:{}{t}", o.as_str().len(), o.as_str()))
            .collect();
        if !shipments.is_empty() {
            return shipments;
        }
        match &notice.event_id {
            Some(e) => vec![format!("event:{e}")],
            None => vec![format!("order:{order}")],
        }
    }

    fn trusted(key: &str, verified: bool) -> String {
        format!("{}{key}", if verified { "verified/" } else { "unverified/" })
    }

    impl NoticeLog for MemoryNoticeLog {
        fn record(&self, notice: &ShipmentNotice) -> Recorded {
            let mut guard = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            let (set, order) = &mut *guard;
            let keys = keys(notice);
            // A verified key covers an unverified notice; never the other way round.
            let seen = |k: &String| {
                set.contains(&trusted(k, true)) || (!notice.verified && set.contains(&trusted(k, false)))
            };
            let new = !keys.iter().all(seen);
            let mut added = Vec::new();
            for key in keys {
                let key = trusted(&key, notice.verified);
                if set.insert(key.clone()) {
                    order.push_back(key.clone());
                    added.push(key);
                }
            }
            while order.len() > self.capacity {
                if let Some(old) = order.pop_front() {
                    set.remove(&old);
                }
            }
            Recorded::new(new, added)
        }

        fn forget(&self, recorded: &Recorded) {
            if recorded.added().is_empty() {
                return;
            }
            let mut guard = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            let (set, order) = &mut *guard;
            for key in recorded.added() {
                set.remove(key);
            }
            let added: HashSet<&String> = recorded.added().iter().collect();
            order.retain(|k| !added.contains(k));
        }
    }

    #[derive(Clone)]
    struct Shared {
        parser: Arc<NoticeParser>,
        log: Arc<dyn NoticeLog>,
        out: mpsc::Sender<ShipmentNotice>,
    }

    /// Receives shipment notices over HTTP.
    ///
    /// | Request | Answer |
    /// | --- | --- |
    /// | a new, valid notice | 200; handed on to the channel |
    /// | a duplicate (only (order, tracking number) pairs already seen; see [`NoticeLog`]) | 200 (so the wholesaler stops retrying); not handed on |
    /// | a bad or missing (when required) signature, or one that is not UTF-8 | 401 |
    /// | a body over the limit | 413 |
    /// | a body that is no notice | 400 |
    /// | the channel is full or closed | 503 (the wholesaler retries later; the notice is not taken for a duplicate then) |
    #[derive(Debug)]
    pub struct ShipmentReceiver;

    impl ShipmentReceiver {
        /// A router serving `POST {path}` with `parser` and `log`; notices come out of the
        /// returned channel (capacity `buffer`).
        pub fn router(
            path: &str,
            parser: NoticeParser,
            log: Arc<dyn NoticeLog>,
            buffer: usize,
        ) -> (Router, mpsc::Receiver<ShipmentNotice>) {
            let (tx, rx) = mpsc::channel(buffer.max(1));
            let limit = parser.max_bytes();
            let shared = Shared { parser: Arc::new(parser), log, out: tx };
            let router = Router::new()
                .route(path, post(receive))
                .layer(DefaultBodyLimit::max(limit))
                .with_state(shared);
            (router, rx)
        }
    }

    async fn receive(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
        // A value that is not UTF-8 is passed on lossily, not dropped: a signature header must
        // reach the parser to be refused, never pass for an absent one.
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let notice = match s.parser.parse(PushedRequest::new(&headers, &body)) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(cause = %e, "shipment notice refused");
                return match e.kind() {
                    ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
                    ErrorKind::Invalid { field, .. } if field == "body" => StatusCode::PAYLOAD_TOO_LARGE,
                    _ => StatusCode::BAD_REQUEST,
                };
            }
        };
        let recorded = s.log.record(&notice);
        if !recorded.is_new() {
            tracing::debug!(order = %notice.order_id, "duplicate shipment notice acknowledged");
            return StatusCode::OK;
        }
        // Never waits on a slow consumer: the wholesaler's retry comes back later (§7.2).
        match s.out.try_send(notice) {
            Ok(()) => StatusCode::OK,
            Err(mpsc::error::TrySendError::Full(_) | mpsc::error::TrySendError::Closed(_)) => {
                // Only what this notice added: pairs an earlier notice handed on stay seen.
                s.log.forget(&recorded);
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser(policy: SignaturePolicy) -> NoticeParser {
        NoticeParser::new(Secret::new("ds-key"), policy, 4096, Names::default(), chrono_tz::Europe::Warsaw)
    }

    const BODY: &str = r#"{"event":"orderDispatched","orderId":"W-2024-000123","orderSerialNumber":123,"shopOrderReference":"SHOP-8812","status":"wait_for_receive","courierId":17,"courierName":"Kurier X","shipmentNumbers":["00340434161234567890","00340434161234567891"],"dispatchDate":"2024-03-16 14:05:00","sentAt":"2024-03-16 14:05:03"}"#;

    fn headers(sig: Option<String>) -> Vec<(String, String)> {
        let mut h = vec![("eventId".to_string(), "evt-1".to_string())];
        if let Some(s) = sig {
            h.push(("x-signature".to_string(), s));
        }
        h
    }

    #[test]
    fn rfc_2202_hmac_sha1_vector() {
        assert_eq!(
            signature("sha1=", b"Jefe", b"what do ya want for nothing?"),
            "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn a_signed_notice_parses_with_every_tracking_number() {
        let h = headers(Some(signature("sha1=", b"ds-key", BODY.as_bytes())));
        let n = parser(SignaturePolicy::IfPresent).parse(PushedRequest::new(&h, BODY.as_bytes())).unwrap();
        assert_eq!(n.order_id.as_str(), "W-2024-000123");
        assert_eq!(n.tracking_numbers.len(), 2);
        assert_eq!(n.reference.as_deref(), Some("SHOP-8812"));
        assert_eq!(n.event_id.as_deref(), Some("evt-1"));
        assert!(n.verified);
        assert_eq!(n.at.unwrap().to_rfc3339(), "2024-03-16T13:05:00+00:00");
    }

    #[test]
    fn an_unsigned_notice_passes_unless_signatures_are_required() {
        let h = headers(None);
        let n = parser(SignaturePolicy::IfPresent).parse(PushedRequest::new(&h, BODY.as_bytes())).unwrap();
        assert!(!n.verified);
        let e = parser(SignaturePolicy::Required).parse(PushedRequest::new(&h, BODY.as_bytes())).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Unauthorized);
    }

    #[test]
    fn a_wrong_signature_is_refused_without_quoting_it() {
        let sig = signature("sha1=", b"another-key", BODY.as_bytes());
        let h = headers(Some(sig.clone()));
        let e =
            parser(SignaturePolicy::IfPresent).parse(PushedRequest::new(&h, BODY.as_bytes())).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Unauthorized);
        assert!(!e.to_string().contains(&sig[5..]) && !e.to_string().contains("ds-key"));
        // Off: not looked at.
        assert!(parser(SignaturePolicy::Off).parse(PushedRequest::new(&h, BODY.as_bytes())).is_ok());
    }

    #[test]
    fn the_xml_form_reads_the_same() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<notification><event>orderDispatched</event><orderId>W-1</orderId><shopOrderReference>S-1</shopOrderReference><status>wait_for_receive</status><courierId>10</courierId><shipmentNumbers><shipmentNumber>A1</shipmentNumber><shipmentNumber>A2</shipmentNumber></shipmentNumbers><dispatchDate>2024-03-16 14:05:00</dispatchDate></notification>\n";
        let h = headers(None);
        let n = parser(SignaturePolicy::IfPresent).parse(PushedRequest::new(&h, xml.as_bytes())).unwrap();
        assert_eq!(n.tracking_numbers, ["A1", "A2"]);
    }

    #[test]
    fn oversized_and_garbage_bodies_are_refused() {
        let h = headers(None);
        let big = vec![b' '; 5000];
        let e = parser(SignaturePolicy::Off).parse(PushedRequest::new(&h, &big)).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Invalid { field, .. } if field == "body"));
        for bad in ["", "[]", "{}", "not json", "<x>", r#"{"event":"orderCancelled","orderId":"W-1"}"#] {
            let e = parser(SignaturePolicy::Off).parse(PushedRequest::new(&h, bad.as_bytes())).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::Protocol, "{bad}");
        }
    }

    #[test]
    fn a_number_too_large_to_read_exactly_is_refused_not_rounded() {
        let h = headers(None);
        for bad in [
            r#"{"orderId":123456789012345678901234567890,"shipmentNumbers":["A"]}"#,
            r#"{"orderId":"W-1","shipmentNumbers":[1.23e29]}"#,
        ] {
            let e = parser(SignaturePolicy::Off).parse(PushedRequest::new(&h, bad.as_bytes())).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::Protocol, "{bad}");
        }
        // Integers that fit 64 bits stay exact.
        let ok = r#"{"orderId":18446744073709551615,"shipmentNumbers":[9007199254740993]}"#;
        let n = parser(SignaturePolicy::Off).parse(PushedRequest::new(&h, ok.as_bytes())).unwrap();
        assert_eq!(n.order_id.as_str(), "18446744073709551615");
        assert_eq!(n.tracking_numbers, ["9007199254740993"]);
    }

    #[test]
    fn a_whole_number_sent_as_a_double_reads_as_the_integer_id() {
        // A JSON writer that keeps every number as a double sends order 17 as `17.0`.
        let h = headers(None);
        let body = r#"{"orderId":17.0,"shipmentNumbers":[1.7e1,-0.0,2.5]}"#;
        let n = parser(SignaturePolicy::Off).parse(PushedRequest::new(&h, body.as_bytes())).unwrap();
        assert_eq!(n.order_id.as_str(), "17");
        assert_eq!(n.tracking_numbers, ["17", "0", "2.5"]);
    }

    #[test]
    fn control_characters_in_ids_and_tracking_numbers_are_refused() {
        let h = headers(None);
        for bad in [
            r#"{"orderId":"W-1\n\u001b[31mFAKE","shipmentNumbers":["A"]}"#,
            r#"{"orderId":"W-1","shipmentNumbers":["A\u0000"]}"#,
            "<notification><orderId>W-1</orderId><shipmentNumbers><shipmentNumber>A\u{86}B</shipmentNumber></shipmentNumbers></notification>",
        ] {
            let e = parser(SignaturePolicy::Off).parse(PushedRequest::new(&h, bad.as_bytes())).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::Protocol, "{bad}");
        }
    }
}
