//! IdoSell's shipment notice (contract §7.2) received by the shop: the simulator plays the
//! wholesaler, the adapter's receiver listens on loopback, and the order status poll confirms
//! what the notice said, since polling, not the webhook, is the source of truth.
//!
//! Run: `cargo run -p loyalty-examples --example webhook`
//!
//! The flow: start the IdoSell simulator in-process (its demo shop account, nothing to
//! configure), serve `ShipmentReceiver` on a free loopback port, register that URL as the
//! account's callback (`PUT /_sim/accounts/{login}/callback`), place a dropship order through
//! `Fulfilment`, dispatch it in two parcels (`POST /_sim/orders/{id}/dispatch`), wait for the
//! notice, then read the order status. The receiver's first answer is dropped on the way back,
//! so the simulator retries the same event a minute later (on its clock); the receiver answers
//! the retry but does not hand it on again. Last, a notice signed with the wrong key is refused.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use loyalty_core::{Context, DropshipOrder, OrderStatus, Provider, ShipmentNotice};
use loyalty_idosell::simulated::{self, NOTICE_PATH};
use loyalty_idosell::webhook::receiver::{MemoryNoticeLog, ShipmentReceiver};
use loyalty_idosell::IdosellAdapter;
use loyalty_sim::idosell::{demo, IdosellProbe, IdosellSettings, IdosellSim, WebhookAttempt};
use loyalty_sim::{SimClock, SimServer};
use rust_decimal::Decimal;
use tokio::sync::mpsc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long the shop waits for something the wholesaler does in the background.
const WAIT: Duration = Duration::from_secs(5);

/// The wholesaler's side (simulator) and the shop's side (adapter, receiver) in one process.
struct Shop {
    /// Dropping it stops the simulator and its webhook sender.
    server: SimServer,
    /// Only for the example's narration: the simulator's log of webhook attempts.
    probe: IdosellProbe,
    adapter: IdosellAdapter,
    receiver_url: String,
    /// New notices only: duplicates are answered by the receiver and never come out here.
    notices: mpsc::Receiver<ShipmentNotice>,
    /// Stands in for a proxy that loses the receiver's next answer, to make the wholesaler retry.
    lose_next_answer: Arc<AtomicBool>,
    http: reqwest::Client,
    _receiver: AbortOnDrop,
}

/// Stops the receiver's server task with the shop.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Shop {
    async fn start() -> Result<Shop, BoxError> {
        let settings = IdosellSettings::default();
        let names = simulated::names_of(&settings);
        let clock = SimClock::default();
        let (server, probe) = IdosellSim::start_with_probe(settings, clock.clone()).await?;
        let adapter = simulated::adapter_for(server.base_url(), names, clock)?;

        // The parser checks signatures with the dropshipping key from the adapter's config.
        let (router, notices) = ShipmentReceiver::router(
            NOTICE_PATH,
            adapter.notice_parser().clone(),
            Arc::new(MemoryNoticeLog::default()),
            16,
        );
        let lose_next_answer = Arc::new(AtomicBool::new(false));
        let lose = lose_next_answer.clone();
        // The simulator redelivers only after a non-2xx answer, so a lost 200 is how it
        // redelivers an event the receiver already took.
        let router = router.layer(axum::middleware::map_response(move |answer: Response| {
            let lose = lose.clone();
            async move {
                if lose.swap(false, Ordering::SeqCst) {
                    StatusCode::BAD_GATEWAY.into_response()
                } else {
                    answer
                }
            }
        }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let receiver_url = format!("http://{}{NOTICE_PATH}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        // Loopback only: a proxy from the environment must not get in the way.
        let http = reqwest::Client::builder().no_proxy().build()?;
        Ok(Shop {
            server,
            probe,
            adapter,
            receiver_url,
            notices,
            lose_next_answer,
            http,
            _receiver: AbortOnDrop(task),
        })
    }

    /// The simulator's admin endpoint (§7.2: the shop registers its callback URL there).
    async fn register_callback(&self) -> Result<(), BoxError> {
        let url = format!("{}/_sim/accounts/{}/callback", self.server.base_url(), demo::LOGIN);
        let body = HashMap::from([("url", self.receiver_url.as_str())]);
        self.http.put(url).json(&body).send().await?.error_for_status()?;
        Ok(())
    }

    /// The wholesaler ships the order; the simulator posts the notice by itself.
    async fn dispatch(&self, order: &str, parcels: usize) -> Result<(), BoxError> {
        let url = format!("{}/_sim/orders/{order}/dispatch?parcels={parcels}", self.server.base_url());
        self.http.post(url).send().await?.error_for_status()?;
        Ok(())
    }

    /// The simulator's first `n` webhook attempts, once it has made them.
    async fn attempts(&self, n: usize) -> Result<Vec<WebhookAttempt>, BoxError> {
        let end = tokio::time::Instant::now() + WAIT;
        loop {
            let attempts = self.probe.webhook_attempts();
            if attempts.len() >= n {
                return Ok(attempts);
            }
            if tokio::time::Instant::now() >= end {
                return Err(format!("{} webhook attempts within {WAIT:?}, not {n}", attempts.len()).into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The next notice the receiver hands on, waiting at most [`WAIT`].
async fn next_notice(notices: &mut mpsc::Receiver<ShipmentNotice>) -> Result<ShipmentNotice, BoxError> {
    match tokio::time::timeout(WAIT, notices.recv()).await {
        Ok(Some(notice)) => Ok(notice),
        Ok(None) => Err("the receiver stopped".into()),
        Err(_) => Err(format!("no notice within {WAIT:?}").into()),
    }
}

/// What the flow saw, checked by `main` and by the test.
struct Seen {
    notice: ShipmentNotice,
    polled: OrderStatus,
    attempts: Vec<WebhookAttempt>,
    handed_on_again: bool,
}

impl Seen {
    /// The contract's rules, checked so that a broken run does not end like a good one.
    fn check(&self) -> Result<(), BoxError> {
        if !agree(&self.polled, &self.notice) {
            return Err("the order status poll disagrees with the notice".into());
        }
        if self.attempts.iter().any(|a| Some(a.event_id.as_str()) != self.notice.event_id.as_deref()) {
            return Err("the retry was not the same event".into());
        }
        if self.handed_on_again {
            return Err("a repeated delivery was handed on twice".into());
        }
        Ok(())
    }
}

/// Same order, status and shipment numbers (the notice names the courier, the poll its id).
fn agree(polled: &OrderStatus, notice: &ShipmentNotice) -> bool {
    polled.order_id == notice.order_id
        && polled.shipments == notice.tracking_numbers
        && notice.status.as_deref().is_none_or(|s| s == polled.status)
}

async fn flow(shop: &mut Shop) -> Result<Seen, BoxError> {
    shop.register_callback().await?;
    println!("receiver listening at {} (registered as the callback)", shop.receiver_url);

    let ctx = Context::new();
    let fulfilment = shop.adapter.fulfilment().ok_or("IdoSell fulfils orders")?;
    let order =
        DropshipOrder::new("SHOP-WEBHOOK-1", simulated::demo_recipient(), demo::COURIER_DOMESTIC.to_string())
            .with_line(demo::COFFEE_INTERNAL, Decimal::from(2));
    let placed = fulfilment.place_order(&ctx, &order).await?;
    println!("placed   {} (shop reference {})", placed.order_id, order.reference);

    shop.lose_next_answer.store(true, Ordering::SeqCst);
    shop.dispatch(placed.order_id.as_str(), 2).await?;
    let notice = next_notice(&mut shop.notices).await?;
    println!(
        "notice   order {}, status {}, courier {}, shipments {:?} (event {}, signature checked: {})",
        notice.order_id,
        notice.status.as_deref().unwrap_or("-"),
        notice.courier.as_deref().unwrap_or("-"),
        notice.tracking_numbers,
        notice.event_id.as_deref().unwrap_or("-"),
        notice.verified
    );

    // The notice only says "look now"; the order status is what the shop records.
    let polled = fulfilment.order_status(&ctx, &placed.order_id).await?;
    println!(
        "polled   order {}, status {}, courier {}, shipments {:?}",
        polled.order_id,
        polled.status,
        polled.courier_id.as_deref().unwrap_or("-"),
        polled.shipments
    );
    println!(
        "the poll {} the notice",
        if agree(&polled, &notice) { "agrees with" } else { "DISAGREES with" }
    );

    // The receiver's 200 was lost, so the wholesaler sends the same event again after 1 min.
    shop.attempts(1).await?;
    shop.server.handle().clock().advance(Duration::from_secs(60));
    let attempts = shop.attempts(2).await?;
    println!("the receiver's 200 was lost on the way back, so the wholesaler sent the event again:");
    for a in &attempts {
        let status = a.status.map_or_else(|| "no answer".to_string(), |s| s.to_string());
        println!("attempt  {} of event {} at {}: answered {status}", a.attempt, a.event_id, a.at);
    }
    // The receiver hands a notice on before it answers, so after the answer this is final.
    let handed_on_again = shop.notices.try_recv().is_ok();
    println!("handed on again: {}", if handed_on_again { "yes" } else { "no (a duplicate)" });
    Ok(Seen { notice, polled, attempts, handed_on_again })
}

/// Posts a notice signed with another key than the account's; returns the receiver's answer
/// and whether anything was handed on.
async fn forged(shop: &mut Shop) -> Result<(u16, bool), BoxError> {
    let body = r#"{"event":"orderDispatched","orderId":"W-2026-999999","shipmentNumbers":["FORGED-1"]}"#;
    let sig = loyalty_idosell::webhook::signature("sha1=", b"not-the-dropshipping-key", body.as_bytes());
    let answer = shop
        .http
        .post(&shop.receiver_url)
        .header("content-type", "application/json")
        .header("eventId", "evt-forged")
        .header("X-Signature", sig)
        .body(body)
        .send()
        .await?
        .status()
        .as_u16();
    let handed_on = shop.notices.try_recv().is_ok();
    println!("forged   notice answered {answer}, handed on: {handed_on}");
    Ok((answer, handed_on))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut shop = Shop::start().await?;
    flow(&mut shop).await?.check()?;
    if forged(&mut shop).await? != (401, false) {
        return Err("a forged notice got through".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_notice_agrees_with_the_status_poll_and_is_handed_on_once() {
        let mut shop = Shop::start().await.unwrap();
        let seen = flow(&mut shop).await.unwrap();
        seen.check().unwrap();
        assert_eq!(seen.notice.order_id, seen.polled.order_id);
        assert_eq!(seen.notice.tracking_numbers, seen.polled.shipments);
        assert_eq!(seen.notice.tracking_numbers.len(), 2);
        assert!(seen.polled.dispatched && seen.notice.verified);
        // Two attempts of one event: the first answer lost, the retry a duplicate.
        assert_eq!(seen.attempts.len(), 2);
        assert_eq!(seen.attempts[0].event_id, seen.attempts[1].event_id);
        assert_eq!(seen.notice.event_id.as_deref(), Some(seen.attempts[0].event_id.as_str()));
        assert_eq!((seen.attempts[0].status, seen.attempts[1].status), (Some(502), Some(200)));
        assert!(!seen.handed_on_again);
    }

    #[tokio::test]
    async fn a_notice_with_a_bad_signature_is_refused_and_not_handed_on() {
        let mut shop = Shop::start().await.unwrap();
        assert_eq!(forged(&mut shop).await.unwrap(), (401, false));
    }
}
