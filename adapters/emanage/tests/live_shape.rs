//! The adapter against the eManage simulator seen through a relay that rewrites a reply into
//! a shape the live API may send. Mostly it strips every simulator extra from the cart GET:
//! what the live API is known to send (§6.4 row 5 \[K\]: `products[]` with `productId`,
//! `productName`, `price`, `quantity`, `shippingPrice`) and nothing else, so no session
//! `status`, `shoppingCartNumber`, `test`, `upgradeStatus` or `upgradedFromProductId` (the
//! `names::cart` table). The contract's rule: adapters never depend on those fields (§ "How to
//! use this document"), least of all to say that nothing was charged after an ambiguous
//! failure (§10). A few tests rewrite another reply the contract allows but the simulator never
//! sends (an `add` reply echoing its session, a price list with an unpriced product).
//!
//! Every other call passes through unchanged, faults injected at the simulator included.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use loyalty_core::{
    CartCheckout, CartStatus, Currency, ErrorKind, NewCart, ProductId, UpgradeOutcome, WriteEffect,
};
use loyalty_emanage::{CapturePolicy, EmanageAdapter};
use loyalty_sim::emanage::{demo, EmanageSettings, EmanageSim, SessionStatus};
use loyalty_sim::{Fault, SimClock};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the relay rewrites a successful reply: method, path (without query), body.
type Rewrite = fn(&reqwest::Method, &str, &[u8]) -> Vec<u8>;

/// The simulator behind the live-shaped relay, with the adapter pointed at the relay.
async fn start_live(settings: EmanageSettings) -> Env {
    start_relayed(settings, live_cart_reply).await
}

/// The simulator behind a relay rewriting replies by `rewrite`, with the adapter pointed at
/// the relay.
async fn start_relayed(settings: EmanageSettings, rewrite: Rewrite) -> Env {
    let clock = SimClock::default();
    let (server, probe) =
        EmanageSim::start_with_probe(settings, clock.clone()).await.expect("simulator starts");
    let relay = relay(server.base_url().to_string(), rewrite).await;
    // The live GET does not say a cart is a test cart: test runs set test mode (§11).
    let mut config = config(&relay, Duration::from_secs(5), CapturePolicy::Remainder);
    config.test_mode = true;
    let adapter =
        EmanageAdapter::with_clock(config, Arc::new(Bridge(clock.clone()))).expect("adapter builds");
    Env { adapter, server, probe, clock }
}

/// Starts the relay to `upstream`; answers its base URL.
async fn relay(upstream: String, rewrite: Rewrite) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("relay binds");
    let base = format!("http://{}", listener.local_addr().expect("relay address"));
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        while let Ok((socket, _)) = listener.accept().await {
            let (client, upstream) = (client.clone(), upstream.clone());
            tokio::spawn(async move {
                // A failure upstream (a dropped connection, a cut body) closes this connection
                // without an answer, as the vendor's would.
                let _ = relay_one(socket, &client, &upstream, rewrite).await;
            });
        }
    });
    base
}

/// Relays one request and closes the connection.
async fn relay_one(
    mut socket: TcpStream,
    client: &reqwest::Client,
    upstream: &str,
    rewrite: Rewrite,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut start = lines.next().unwrap_or_default().split(' ');
    let (method, target) =
        (start.next().unwrap_or_default().to_string(), start.next().unwrap_or("/").to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(std::io::Error::other)?;
    let mut request = client.request(method.clone(), format!("{upstream}{target}"));
    for (k, v) in &headers {
        if !matches!(k.as_str(), "host" | "content-length" | "connection" | "transfer-encoding") {
            request = request.header(k.as_str(), v.as_str());
        }
    }
    let Ok(response) = request.body(body).send().await else { return Ok(()) };
    let status = response.status();
    let kept: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "content-type" | "retry-after"))
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let Ok(bytes) = response.bytes().await else { return Ok(()) };
    let path = target.split('?').next().unwrap_or_default();
    let body = if status.is_success() { rewrite(&method, path, &bytes) } else { bytes.to_vec() };
    let mut out =
        format!("HTTP/1.1 {} {}\r\n", status.as_u16(), status.canonical_reason().unwrap_or("Status"));
    for (k, v) in kept {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    socket.write_all(out.as_bytes()).await?;
    socket.write_all(&body).await?;
    socket.shutdown().await
}

/// The cart GET reply with only the fields the live API is known to send; every other reply
/// as it is.
fn live_cart_reply(method: &reqwest::Method, path: &str, bytes: &[u8]) -> Vec<u8> {
    let cart_get = method == reqwest::Method::GET && path == format!("/api/shoppingcart/{}", demo::WEB_KEY);
    if cart_get {
        live_cart(bytes)
    } else {
        bytes.to_vec()
    }
}

/// The cart GET body with only the fields the live API is known to send.
fn live_cart(bytes: &[u8]) -> Vec<u8> {
    let Ok(Value::Object(cart)) = serde_json::from_slice::<Value>(bytes) else { return bytes.to_vec() };
    let keep = |o: &Map<String, Value>, names: &[&str]| -> Map<String, Value> {
        o.iter().filter(|(k, _)| names.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    let mut out = keep(&cart, &["sessionId"]);
    let products = cart
        .get("products")
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .filter_map(Value::as_object)
                .map(|l| {
                    Value::Object(keep(
                        l,
                        &["productId", "productName", "price", "quantity", "shippingPrice"],
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    out.insert("products".into(), Value::Array(products));
    serde_json::to_vec(&Value::Object(out)).expect("json")
}

#[tokio::test]
async fn the_relay_leaves_a_cart_without_any_simulator_extra() {
    let env = start_live(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    assert_eq!(env.session(&cart.id).status, SessionStatus::Paid);
    // Paid at the vendor, yet the cart GET shows neither status nor order number.
    assert_eq!((cart.status, cart.order), (CartStatus::Open, None));
}

#[tokio::test]
async fn a_charged_checkout_whose_reply_is_lost_never_reads_as_nothing_charged_without_a_status() {
    // §10, checklist 25 on the live shape: the vendor charged, the reply broke, and the cart
    // read back carries no status; "open" there is no proof that nothing was charged.
    let env = start_live(EmanageSettings::default()).await;
    let cart = env.cart(&[(P0, 1)]).await;
    env.handle().inject("POST", &env.cart_path("/checkout"), Fault::TruncatedBody, Some(1));
    let err = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert!(err.message().contains("does not show whether it was paid"), "{err}");
    assert!(!err.message().contains("nothing was charged"), "{err}");
    assert_eq!(env.journal().count("POST", &env.cart_path("/checkout")), 1, "no blind re-send");
    assert_eq!(env.session(&cart.id).captured(), dec("100"), "the vendor did charge");
}

#[tokio::test]
async fn a_checkout_refused_before_acting_still_stays_unknown_without_a_status() {
    // The cost of not knowing: a 503 that charged nothing cannot be told apart from a charge
    // either, so it is not called safe to repeat.
    let env = start_live(EmanageSettings::default()).await;
    let cart = env.cart(&[(P0, 1)]).await;
    env.handle().inject("POST", &env.cart_path("/checkout"), Fault::Status(503), Some(1));
    let err = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert_eq!(env.session(&cart.id).status, SessionStatus::Open);
}

#[tokio::test]
async fn a_charged_upgrade_whose_reply_is_lost_is_taken_without_upgrade_fields() {
    // §10 for an upgrade `add` on the live shape: the line became 918446 (§7.1 [G]) with no
    // upgradedFromProductId; the adapter sees the new product grow and never says "nothing
    // was charged". The charge itself is not shown, so the upgrade is pending.
    let env = start_live(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    env.handle().inject("POST", &env.cart_path("/add"), Fault::TruncatedBody, Some(1));
    let outcome = env.upgrade_sold_as(&cart.id, P0, P0, P1, 1).await.unwrap();
    assert!(
        matches!(&outcome, UpgradeOutcome::Pending { amount, .. } if *amount == usd("20.00")),
        "{outcome:?}"
    );
    assert_eq!(env.journal().count("POST", &env.cart_path("/add")), 1);
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")]);
}

#[tokio::test]
async fn an_upgrade_that_never_reached_the_vendor_says_nothing_was_charged_so_far_without_upgrade_fields() {
    // The cart reads back as it was: 918446 did not grow and 918325 is all still there. The
    // request may still run at a live vendor, so the effect stays unknown.
    let env = start_live(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    env.handle().inject("POST", &env.cart_path("/add"), Fault::DropConnection, Some(1));
    let err = env.upgrade_sold_as(&cart.id, P0, P0, P1, 1).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown, "{err}");
    assert!(err.message().contains("nothing was charged so far"), "{err}");
    assert!(upgrade_captures(&env.session(&cart.id)).is_empty());
}

#[tokio::test]
async fn an_accepted_upgrade_without_upgrade_fields_is_pending_not_discarded() {
    let env = start_live(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade_sold_as(&cart.id, P0, P0, P1, 1).await.unwrap();
    let UpgradeOutcome::Pending { cart: after, amount } = outcome else { panic!("{outcome:?}") };
    assert_eq!(amount, usd("20.00"));
    assert_eq!(after.lines.iter().map(|l| l.product_id.as_str()).collect::<Vec<_>>(), vec![P1]);
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")], "charged at the vendor");
}

#[tokio::test]
async fn an_upgrade_whose_charges_all_fail_is_discarded_without_upgrade_fields() {
    // §7.2 rule 6: the line is back to 918325, so 918446 is not on the cart.
    let env = start_live(immediate()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    env.probe.fail_next_upgrade_charges(3);
    let outcome = env.upgrade_sold_as(&cart.id, P0, P0, P1, 1).await.unwrap();
    assert!(matches!(outcome, UpgradeOutcome::Discarded { .. }), "{outcome:?}");
    assert!(upgrade_captures(&env.session(&cart.id)).is_empty());
}

#[tokio::test]
async fn a_second_checkout_of_a_paid_cart_without_a_status_reaches_the_vendor_and_is_refused() {
    // The pre-checkout read as `names::cart` documents it: without a status a paid cart reads
    // open, the checkout is sent and the vendor refuses it; nothing is charged twice.
    let env = start_live(EmanageSettings::default()).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let err = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err}");
    assert_eq!(env.journal().count("POST", &env.cart_path("/checkout")), 2);
    assert_eq!(env.session(&cart.id).captured(), dec("100"));
}

/// The `add` reply `"<sid>"` as `{ "success": true, "sessionId": "<sid>" }`: the session it
/// was sent to, echoed in an object.
fn add_reply_echoing_the_session(method: &reqwest::Method, path: &str, bytes: &[u8]) -> Vec<u8> {
    if method == reqwest::Method::POST && path.ends_with("/add") {
        if let Ok(Value::String(sid)) = serde_json::from_slice::<Value>(bytes) {
            return serde_json::to_vec(&serde_json::json!({"success": true, "sessionId": sid}))
                .expect("json");
        }
    }
    bytes.to_vec()
}

/// §6.4 row 2: clients never read the `add` reply, and the server-created upgrade reply
/// `{ sessionId, upgradeParentSessionId, callBackUrl }` is a simulator guess (§15.1). A reply
/// naming the session it was sent to is that session: the card upgrade charged 20 on the card
/// on file (§7.1) is never reported as a new cart still to be paid.
#[tokio::test]
async fn an_add_reply_echoing_its_own_session_is_no_new_upgrade_cart() {
    let env = start_relayed(immediate(), add_reply_echoing_the_session).await;
    let cart = env.paid_cart(&[(P0, 1)], demo::PAN_APPROVE).await;
    let outcome = env.upgrade(&cart.id, P0, P1, 1).await.expect("upgrade answers");
    assert_eq!(upgrade_captures(&env.session(&cart.id)), [dec("20")], "the card was charged 20");
    match &outcome {
        UpgradeOutcome::Charged { cart: c, amount } => assert_eq!((&c.id, *amount), (&cart.id, usd("20.00"))),
        other => panic!("a card upgrade charged 20.00 answered {other:?}"),
    }
    assert!(env.probe.upgrade_sessions(cart.id.as_str()).is_empty(), "no upgrade cart was opened");
}

/// The campaign's price list with one more product that has no selling price
/// (`DiscountedPrice.Value: null`, e.g. a product not priced for this country).
fn price_list_with_an_unpriced_product(method: &reqwest::Method, path: &str, bytes: &[u8]) -> Vec<u8> {
    if method == reqwest::Method::GET && path.ends_with("/products/prices") {
        if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
            if let Some(list) = v.get_mut("prices").and_then(Value::as_array_mut) {
                list.push(serde_json::json!({"productId": 918999, "productName": "Gift wrap", "sku": "GW",
                    "quantity": 1, "productPrices": {"DiscountedPrice": {"Value": null, "FormattedValue": ""}},
                    "shippings": [{"shippingMethodId": 145, "price": 0}]}));
                return serde_json::to_vec(&v).expect("json");
            }
        }
    }
    bytes.to_vec()
}

/// The adapter reads the whole price list on every cart operation: one entry that does not
/// read is left out, so carts of every other product work; an operation that needs the
/// unpriced product fails `Protocol` naming its entry, with nothing sent.
#[tokio::test]
async fn one_unpriced_product_in_the_price_list_breaks_only_what_needs_it() {
    let env = start_relayed(EmanageSettings::default(), price_list_with_an_unpriced_product).await;
    let opened = env.carts().create(&ctx(), &NewCart::new(Currency::USD, P0, Decimal::ONE).test(true)).await;
    let cart = opened.expect("a cart of 918325 (priced) opens");
    assert_eq!(cart.total, usd("100.00"));
    let before = env.journal().entries().len();
    let err = env
        .carts()
        .add_line(&ctx(), &cart.id, &ProductId::new("918999"), Decimal::ONE)
        .await
        .expect_err("918999 has no price");
    assert_eq!((err.kind(), err.effect()), (&ErrorKind::Protocol, WriteEffect::NotSent), "{err}");
    assert!(err.message().starts_with("prices[") && err.message().contains("918999"), "{err}");
    let sent: Vec<String> =
        env.journal().entries()[before..].iter().map(|e| format!("{} {}", e.method, e.path)).collect();
    assert!(sent.iter().all(|r| r.starts_with("GET ")), "only reads reached the vendor: {sent:?}");
}

/// A price list that does not read at all fails a cart operation before anything is written,
/// so the error says nothing was sent.
#[tokio::test]
async fn a_price_list_that_does_not_read_fails_before_anything_is_sent() {
    fn broken(method: &reqwest::Method, path: &str, bytes: &[u8]) -> Vec<u8> {
        if method == reqwest::Method::GET && path.ends_with("/products/prices") {
            return br#"{"location":{"countryCode":"US"}}"#.to_vec();
        }
        bytes.to_vec()
    }
    let env = start_relayed(EmanageSettings::default(), broken).await;
    let err = env
        .carts()
        .create(&ctx(), &NewCart::new(Currency::USD, P0, Decimal::ONE).test(true))
        .await
        .expect_err("no price list");
    assert_eq!((err.kind(), err.effect()), (&ErrorKind::Protocol, WriteEffect::NotSent), "{err}");
    assert!(env.probe.session_ids().is_empty(), "no session was opened");
}

/// The cart GET as the live API sends it, an open cart's 918325 one campaign change behind
/// (the Web Sales API's cache serves campaign changes up to 30 minutes late, §1): 100 where
/// the vendor now charges 150. A paid cart reads as the vendor charged it.
fn open_cart_a_price_change_behind(method: &reqwest::Method, path: &str, bytes: &[u8]) -> Vec<u8> {
    let cart_get = method == reqwest::Method::GET && path == format!("/api/shoppingcart/{}", demo::WEB_KEY);
    let Ok(mut cart) = serde_json::from_slice::<Value>(bytes) else { return bytes.to_vec() };
    if !cart_get {
        return bytes.to_vec();
    }
    if cart.get("status").and_then(Value::as_str) == Some("Open") {
        for line in cart.get_mut("products").and_then(Value::as_array_mut).into_iter().flatten() {
            if line.get("productId").and_then(Value::as_i64) == Some(id(P0)) {
                line["price"] = serde_json::json!(100);
            }
        }
    }
    live_cart(&serde_json::to_vec(&cart).expect("json"))
}

/// The price shown is the price charged (docs/architecture.md), and the vendor re-prices open
/// carts (docs/vendors/emanage.md): the cart read before the checkout says 100, the vendor charges 150. The order
/// reports the 150 captured, and that the cart read 100 before, never the 100 alone.
#[tokio::test]
async fn a_checkout_reports_what_the_vendor_captured_and_the_price_it_replaced() {
    let env = start_relayed(EmanageSettings::default(), open_cart_a_price_change_behind).await;
    let cart = env.cart(&[(P0, 1)]).await;
    assert!(env.probe.set_product_price(demo::WEB_KEY, id(P0), dec("150")));
    assert_eq!(env.carts().get(&ctx(), &cart.id).await.unwrap().total, usd("100.00"));
    let answer = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.expect("checkout");
    assert_eq!(env.session(&cart.id).captured(), dec("150"), "the vendor charged today's price");
    let CartCheckout::Paid(order) = answer else { panic!("paid: {answer:?}") };
    assert_eq!((order.charged, order.repriced_from), (usd("150.00"), Some(usd("100.00"))));
}

/// Where the vendor charges what the cart read said, the order says only that.
#[tokio::test]
async fn a_checkout_charged_as_read_reports_no_other_price() {
    let env = start_live(EmanageSettings::default()).await;
    let cart = env.cart(&[(P0, 1)]).await;
    let answer = env.carts().checkout(&ctx(), &cart.id, &card(demo::PAN_APPROVE)).await.expect("checkout");
    let CartCheckout::Paid(order) = answer else { panic!("paid: {answer:?}") };
    assert_eq!((order.charged, order.repriced_from), (usd("100.00"), None));
}
