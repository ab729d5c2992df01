//! The dispatch webhook (the IdoSell contract §7.2, all \[S\]): a POST to the account's callback
//! URL with the order's shipment data, signed with the account's `dropshippingKey`, retried on
//! the simulator clock.
//!
//! Who sends is [`IdosellSettings::webhook_delivery`]. With `automatic` (the default, §9.2 item
//! 3: dispatch fires the webhook) a sender task started with the simulator ([`run`]) is woken by
//! every dispatch (HTTP test route, probe, control-API event: all go through
//! `orders::dispatch_at`) and sends the first attempt at once; it also looks for due retries
//! about every [`TICK`] of real time, so a retry goes out once the simulator clock passes its
//! delay (a test clock moved by 60 s gets its retry within a tick). The task ends when the
//! server stops (dropped or shut down). With `manual`, nothing is sent until [`deliver_due`]
//! (the probe's, or `POST /_sim/webhooks/deliver`) sends what is due now. Both may run at once:
//! an attempt is marked in flight under the lock when it is taken, so no attempt is sent twice.
//!
//! One `eventId` is one event: its fields are taken when the order is dispatched, its body (with
//! `sentAt`, the time of the first attempt) and signature when it is first sent, and every retry
//! resends those bytes and that signature, whatever happened to the order since (§7.2: the
//! `eventId` is what the shop de-duplicates by, so a redelivery must be the same event). A later
//! state change would be a new event with a new `eventId`.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use tokio::sync::watch;

use super::{
    routes::Sim,
    settings::{IdosellSettings, WebhookDelivery, WebhookEncoding, WebhookSignature},
    soap::{escape, Out},
    state::{Inner, Sent},
    WebhookAttempt,
};

/// How often (real time) the automatic sender looks for due retries.
pub(crate) const TICK: std::time::Duration = std::time::Duration::from_millis(100);

/// One delivery attempt, prepared under the lock and sent without it.
struct Job {
    delivery: usize,
    url: Option<String>,
    sent: Sent,
    event_id: String,
    order_id: String,
    /// The header names as configured when the attempt was taken (§9.3).
    event_id_header: String,
    signature_header: String,
}

/// `{prefix}<hex HMAC-SHA1(key, body)>` (§7.2; the prefix is `sha1=` unless renamed).
pub(crate) fn signature(prefix: &str, key: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so the error branch is never taken.
    let Ok(mut mac) = <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

fn local(s: &IdosellSettings, t: DateTime<Utc>) -> String {
    let zone = s.zone().unwrap_or(chrono_tz::Europe::Warsaw);
    t.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The event's fields of §7.2, in order, as the order stands now (taken at dispatch); `sentAt`
/// is added when the body is first written.
pub(crate) fn event(inner: &Inner, order: usize) -> Vec<(&'static str, Out)> {
    let o = &inner.orders[order];
    let s = &inner.settings;
    let courier_name = inner.courier(o.courier_id).map(|c| c.name.clone()).unwrap_or_default();
    vec![
        ("event", Out::s(&s.names.webhook.dispatched_event)),
        ("orderId", Out::s(&o.id)),
        ("orderSerialNumber", Out::Int(o.serial)),
        ("shopOrderReference", Out::s(o.shop_ref.clone().unwrap_or_default())),
        ("status", Out::s(o.status.as_str())),
        ("courierId", Out::Int(o.courier_id)),
        ("courierName", Out::s(courier_name)),
        ("shipmentNumbers", Out::List("xsd:string", o.shipments.iter().map(Out::s).collect())),
        ("dispatchDate", Out::s(o.dispatched_at.map(|t| local(s, t)).unwrap_or_default())),
    ]
}

/// The body in the configured encoding: the event's fields, then `sentAt`.
fn body(s: &IdosellSettings, event: &[(&'static str, Out)], now: DateTime<Utc>) -> (String, &'static str) {
    let mut f = event.to_vec();
    f.push(("sentAt", Out::s(local(s, now))));
    match s.webhook_encoding {
        WebhookEncoding::Json => {
            let mut s = String::new();
            Out::Obj(f.into_iter().map(|(k, v)| (k.to_string(), v)).collect()).write_json(&mut s);
            (s, "application/json")
        }
        WebhookEncoding::Xml => {
            let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<notification>");
            for (k, v) in f {
                match v {
                    Out::List(_, items) => {
                        let _ = write!(s, "<{k}>");
                        for i in items {
                            if let Out::Str(t) = i {
                                let _ = write!(s, "<shipmentNumber>{}</shipmentNumber>", escape(t.as_str()));
                            }
                        }
                        let _ = write!(s, "</{k}>");
                    }
                    Out::Str(t) => {
                        let _ = write!(s, "<{k}>{}</{k}>", escape(t.as_str()));
                    }
                    Out::Int(i) => {
                        let _ = write!(s, "<{k}>{i}</{k}>");
                    }
                    _ => {}
                }
            }
            s.push_str("</notification>\n");
            (s, "text/xml; charset=utf-8")
        }
    }
}

/// Whether a delivery has an attempt due at `now` that no sender has taken.
fn ready(d: &super::state::Delivery, now: DateTime<Utc>) -> bool {
    !d.in_flight && d.due.is_some_and(|due| due <= now)
}

/// The attempts due at `now` that no other sender holds, each marked in flight. A delivery's
/// first attempt writes and signs its body and keeps it; later attempts reuse it.
fn prepare(inner: &mut Inner, now: DateTime<Utc>) -> Vec<Job> {
    let mut jobs = Vec::new();
    for i in 0..inner.deliveries.len() {
        let d = &inner.deliveries[i];
        if !ready(d, now) {
            continue;
        }
        let account = &inner.accounts[d.account];
        let sent = match &d.sent {
            Some(sent) => sent.clone(),
            None => {
                let (body, content_type) = body(&inner.settings, &d.event, now);
                let signature = match inner.settings.webhook_signature {
                    WebhookSignature::HmacSha1 => Some(signature(
                        &inner.settings.names.webhook.signature_prefix,
                        &account.dropshipping_key,
                        body.as_bytes(),
                    )),
                    WebhookSignature::None => None,
                };
                Sent { body, content_type, signature }
            }
        };
        let job = Job {
            delivery: i,
            url: account.callback_url.clone(),
            sent: sent.clone(),
            event_id: d.event_id.clone(),
            order_id: d.order_id.clone(),
            event_id_header: inner.settings.names.webhook.event_id_header.clone(),
            signature_header: inner.settings.names.webhook.signature_header.clone(),
        };
        inner.deliveries[i].sent = Some(sent);
        inner.deliveries[i].in_flight = true;
        jobs.push(job);
    }
    jobs
}

/// The deliveries a [`deliver_due`] holds in flight; released if it is dropped before their
/// outcome is recorded (a cancelled call, a stopping sender), so a later call takes them again.
struct Held<'a> {
    sim: &'a Sim,
    deliveries: Vec<usize>,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if self.deliveries.is_empty() {
            return;
        }
        let mut inner = self.sim.lock();
        for i in &self.deliveries {
            inner.deliveries[*i].in_flight = false;
        }
    }
}

/// Sends every delivery due at the simulator's current time that no other sender holds, once
/// each, and schedules the retries of those that failed (any non-2xx or transport error) on the
/// configured schedule; after the last delay the delivery is given up. Returns the number of
/// attempts made.
pub(crate) async fn deliver_due(sim: &Sim) -> usize {
    let now = sim.clock.now();
    let jobs = prepare(&mut sim.lock(), now);
    let n = jobs.len();
    let mut held = Held { sim, deliveries: jobs.iter().map(|j| j.delivery).collect() };
    for job in jobs {
        let status = match &job.url {
            Some(url) => {
                let mut rb = sim
                    .http
                    .post(url)
                    .header("content-type", job.sent.content_type)
                    .header(job.event_id_header.as_str(), &job.event_id)
                    .body(job.sent.body.clone());
                if let Some(sig) = &job.sent.signature {
                    rb = rb.header(job.signature_header.as_str(), sig);
                }
                rb.send().await.ok().map(|r| r.status().as_u16())
            }
            None => None,
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let mut inner = sim.lock();
        let schedule = inner.settings.webhook_retry_secs.clone();
        let d = &mut inner.deliveries[job.delivery];
        d.in_flight = false;
        held.deliveries.retain(|i| *i != job.delivery);
        d.attempts += 1;
        d.delivered = delivered;
        d.due = if delivered {
            None
        } else {
            schedule
                .get(d.attempts - 1)
                .map(|secs| now + Duration::seconds(i64::try_from(*secs).unwrap_or(i64::MAX)))
        };
        let attempt = WebhookAttempt {
            event_id: job.event_id,
            order_id: job.order_id,
            url: job.url.unwrap_or_default(),
            attempt: d.attempts,
            at: now,
            status,
            delivered,
            content_type: job.sent.content_type.to_string(),
            signature: job.sent.signature,
            body: job.sent.body,
        };
        inner.attempts.push(attempt);
    }
    n
}

/// The automatic sender (setting `automatic`): sends what is due whenever a dispatch wakes it
/// and every [`TICK`]; does nothing while the setting says `manual`. Returns when `stop`'s
/// sender is dropped (it lives in the server's router, so when the server stops), also in the
/// middle of an attempt.
pub(crate) async fn run(sim: Sim, mut stop: watch::Receiver<()>) {
    let wake = sim.lock().webhook_wake.clone();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(TICK) => {}
        }
        let due = {
            let inner = sim.lock();
            let now = sim.clock.now();
            inner.settings.webhook_delivery == WebhookDelivery::Automatic
                && inner.deliveries.iter().any(|d| ready(d, now))
        };
        if !due {
            continue;
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = deliver_due(&sim) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hex_hmac_sha1_with_prefix() {
        // RFC 2202 test case 2.
        assert_eq!(
            signature("sha1=", "Jefe", b"what do ya want for nothing?"),
            "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }
}
