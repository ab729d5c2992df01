//! Replay tests: the fixtures in `conformance/fixtures/idosell/` (written from the IdoSell
//! contract) are served by the replay server, and the exact requests the adapter sent (method,
//! path, query, headers, body with the session key, dropshipping key and system key scrubbed)
//! are pinned with insta snapshots.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use loyalty_core::{
    Address, Billing, Clock, Context, CourierQuery, Currency, DropshipOrder, ErrorKind, ManualClock,
    MemberId, MemberUpdate, Money, OrderId, OrderLine, Provider, Recipient, Shortfall,
};
use loyalty_http::Secret;
use loyalty_idosell::{IdosellAdapter, IdosellConfig};
use loyalty_sim::replay::{Fixture, ReplayServer};
use loyalty_sim::JournalEntry;
use rust_decimal::Decimal;

const LOGIN: &str = "replay-shop";
const PASSWORD: &str = "replay-password";
const DROPSHIPPING_KEY: &str = "replay-ds-key-31337";
const SESSION_KEY: &str = "5f2b1c3d4e5f60718293a4b5c6d7e8f901234567";

fn fixture(name: &str) -> Fixture {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/fixtures/idosell");
    Fixture::load(dir.join(format!("{name}.http"))).expect("fixture loads")
}

#[derive(Debug, Clone)]
struct At(ManualClock);

impl Clock for At {
    fn now(&self) -> chrono::DateTime<Utc> {
        self.0.now()
    }
}

struct Replay {
    server: ReplayServer,
    adapter: IdosellAdapter,
    fixtures: Vec<Fixture>,
}

fn billing() -> Billing {
    Billing::new(
        "Sklep Kawowy sp. z o.o.",
        "5260250274",
        Address {
            street: Some("ul. Kawowa 3".into()),
            city: Some("Kraków".into()),
            zip_code: Some("31-001".into()),
            state: None,
            country_code: Some("PL".into()),
        },
    )
}

/// A replay of the login and `names`; the adapter's clock stands at 2024-03-15 12:00 UTC.
async fn replay(names: &[&str]) -> Replay {
    let mut fixtures = vec![fixture("g1_authenticate")];
    fixtures.extend(names.iter().map(|n| fixture(n)));
    let server = ReplayServer::start(fixtures.clone()).await.expect("replay server starts");
    let config = IdosellConfig::builder()
        .with_base_url(server.base_url())
        .with_login(LOGIN)
        .with_password(Secret::new(PASSWORD))
        .with_dropshipping_key(Secret::new(DROPSHIPPING_KEY))
        .with_billing(billing())
        .with_default_courier("10")
        .build()
        .expect("config");
    let clock = At(ManualClock::at(Utc.with_ymd_and_hms(2024, 3, 15, 12, 0, 0).unwrap()));
    let adapter = IdosellAdapter::with_clock(config, Arc::new(clock)).expect("adapter");
    Replay { server, adapter, fixtures }
}

/// The content of every element called `name` replaced by `[redacted]`.
fn scrub_element(body: &str, name: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    let open = format!("<{name}");
    let close = format!("</{name}>");
    while let Some(i) = rest.find(&open) {
        let Some(gt) = rest[i..].find('>') else { break };
        let Some(end) = rest[i + gt..].find(&close) else { break };
        out.push_str(&rest[..i + gt + 1]);
        out.push_str("[redacted]");
        rest = &rest[i + gt + end..];
    }
    out.push_str(rest);
    out
}

fn scrub(body: &str) -> String {
    ["sessionKey", "dropshippingKey", "systemKey"].iter().fold(body.to_string(), |b, n| scrub_element(&b, n))
}

impl Replay {
    fn fulfilment(&self) -> &dyn loyalty_core::Fulfilment {
        self.adapter.fulfilment().unwrap()
    }

    /// The requests after the login, as the snapshot records them.
    fn sent(&self) -> serde_json::Value {
        self.recorded(false)
    }

    fn recorded(&self, with_login: bool) -> serde_json::Value {
        let entries: Vec<JournalEntry> = self.server.requests();
        for e in &entries {
            assert_ne!(e.status, 501, "unmatched {} {} {:?}", e.method, e.path, e.query);
            for secret in [PASSWORD, DROPSHIPPING_KEY, SESSION_KEY] {
                assert!(!scrub(&e.body).contains(secret));
            }
        }
        // Each request is the one its fixture documents (keys redacted there too).
        for e in &entries {
            let f = self
                .fixtures
                .iter()
                .find(|f| f.request.path_and_query.ends_with(e.query.as_deref().unwrap_or("")))
                .expect("a fixture for the request");
            assert_eq!(
                scrub(&e.body).trim(),
                f.request.body.trim(),
                "request to {:?} differs from {}",
                e.query,
                f.name
            );
        }
        let kept = entries
            .iter()
            .filter(|e| with_login || !e.query.as_deref().unwrap_or("").contains("Authenticate"));
        serde_json::Value::Array(kept.map(recorded).collect())
    }
}

fn recorded(e: &JournalEntry) -> serde_json::Value {
    // Stable, secret-free headers only: no host (ephemeral port) or length.
    let headers: serde_json::Map<String, serde_json::Value> = e
        .headers
        .iter()
        .filter(|(k, _)| k == "content-type" || k == "soapaction")
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::json!({
        "method": e.method,
        "path": e.path,
        "query": e.query,
        "headers": headers,
        "body": scrub(&e.body),
    })
}

fn ctx() -> Context {
    Context::new()
}

/// SHA-1 from the hashing crate directly, so the key check does not go through the adapter.
fn sha1_hex(b: &[u8]) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

fn warsaw_recipient() -> Recipient {
    Recipient::new(
        "Anna Nowak",
        Address {
            street: Some("ul. Prosta 5".into()),
            city: Some("Warszawa".into()),
            zip_code: Some("00-838".into()),
            state: None,
            country_code: Some("PL".into()),
        },
    )
    .with_email("anna@example.pl")
}

#[tokio::test]
async fn g1_authenticate_sends_the_login_and_the_daily_key() {
    let r = replay(&["g5_get_couriers"]).await;
    r.fulfilment().couriers(&ctx(), &CourierQuery::all()).await.unwrap();
    let login = &r.server.requests()[0];
    // The key of 2024-03-15 for this password, computed apart from the adapter (§3.1).
    let expected = sha1_hex(format!("20240315{}", sha1_hex(PASSWORD.as_bytes())).as_bytes());
    assert!(login.body.contains(&format!(">{expected}</systemKey>")), "{}", login.body);
    assert_eq!(sha1_hex(b"Hurt0wnia!2024"), "cd82db52defea4e7b81f4bbea799dbd0243dd5fb", "the checker itself");
    insta::assert_json_snapshot!(r.recorded(true));
}

#[tokio::test]
async fn g1_a_failed_login_is_unauthorized_and_sends_nothing_else() {
    let server = ReplayServer::start(vec![fixture("g1_authenticate_failed"), fixture("g5_get_couriers")])
        .await
        .unwrap();
    let config = IdosellConfig::builder()
        .with_base_url(server.base_url())
        .with_login(LOGIN)
        .with_password(Secret::new(PASSWORD))
        .with_dropshipping_key(Secret::new(DROPSHIPPING_KEY))
        .build()
        .unwrap();
    let clock = At(ManualClock::at(Utc.with_ymd_and_hms(2024, 3, 15, 12, 0, 0).unwrap()));
    let adapter = IdosellAdapter::with_clock(config, Arc::new(clock)).unwrap();
    let err = adapter.fulfilment().unwrap().couriers(&ctx(), &CourierQuery::all()).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Unauthorized, Some("1")));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn g2_check_availability() {
    let r = replay(&["g2_check_availability"]).await;
    let levels = r
        .fulfilment()
        .stock(&ctx(), &[OrderLine::new("COF-500", Decimal::from(2)), OrderLine::new("NOPE-1", Decimal::ONE)])
        .await
        .unwrap();
    assert!(levels[0].sufficient());
    assert_eq!(levels[0].available, Decimal::from(118));
    assert_eq!(levels[1].shortfall, Some(Shortfall::UnknownProduct));
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn g3_g4_place_order() {
    let r = replay(&["g3_basket_import", "g4_place_order"]).await;
    let order =
        DropshipOrder::new("SHOP-8812", warsaw_recipient(), "10").with_line("COF-500", Decimal::from(2));
    let placed = r.fulfilment().place_order(&ctx(), &order).await.unwrap();
    assert_eq!(placed.order_id, OrderId::new("W-2024-000123"));
    assert!(!placed.duplicate);
    assert_eq!(placed.total, Some(Money::new(8553, Currency::PLN)));
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn g4_a_known_reference_is_a_duplicate() {
    let r = replay(&["g3_basket_import", "g4_place_order_duplicate"]).await;
    let order =
        DropshipOrder::new("SHOP-8812", warsaw_recipient(), "10").with_line("COF-500", Decimal::from(2));
    let placed = r.fulfilment().place_order(&ctx(), &order).await.unwrap();
    assert!(placed.duplicate);
    assert_eq!(r.server.requests().len(), 3, "login, import, placement: nothing more");
}

#[tokio::test]
async fn g3_nothing_found_for_a_line_refuses_the_order() {
    // §6.2 per line: faultCode 2 leaves the line out of the basket, so the order is refused
    // naming the line (after G7 finds no earlier order under the reference), never placed.
    let r = replay(&["g3_basket_import_nothing_found", "g7_get_order_status_empty"]).await;
    let order =
        DropshipOrder::new("SHOP-8812", warsaw_recipient(), "10").with_line("COF-500", Decimal::from(2));
    let err = r.fulfilment().place_order(&ctx(), &order).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Rejected, Some("2")), "{err}");
    assert!(err.message().starts_with("lines[0]: faultCode 2"), "{err}");
    let gates: Vec<String> = r.server.requests().iter().filter_map(|e| e.query.clone()).collect();
    assert_eq!(gates.len(), 3, "{gates:?}");
    assert!(gates[1].contains("basketImport") && gates[2].contains("getOrderStatus"), "{gates:?}");
}

#[tokio::test]
async fn g5_get_couriers_reads_other_casings() {
    let r = replay(&["g5_get_couriers"]).await;
    let all = r.fulfilment().couriers(&ctx(), &CourierQuery::all()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all[1].pickup_point && all[1].cash_on_delivery);
    assert_eq!(all[2].countries, ["DE", "CZ"]);
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn g5_a_soap_fault_is_a_protocol_error() {
    let server =
        ReplayServer::start(vec![fixture("g1_authenticate"), fixture("g5_soap_fault")]).await.unwrap();
    let config = IdosellConfig::builder()
        .with_base_url(server.base_url())
        .with_login(LOGIN)
        .with_password(Secret::new(PASSWORD))
        .with_dropshipping_key(Secret::new(DROPSHIPPING_KEY))
        .build()
        .unwrap();
    let adapter = IdosellAdapter::new(config).unwrap();
    let err = adapter.fulfilment().unwrap().couriers(&ctx(), &CourierQuery::all()).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Protocol, Some("SOAP-ENV:Client")));
    assert_eq!(server.requests().len(), 2, "a protocol fault is not retried");
}

#[tokio::test]
async fn g6_couriers_for_a_basket() {
    let r = replay(&["g6_get_couriers_for_order"]).await;
    let q =
        CourierQuery::for_basket(vec![OrderLine::new("COF-500", Decimal::ONE)], warsaw_recipient().address);
    let fit = r.fulfilment().couriers(&ctx(), &q).await.unwrap();
    assert_eq!(fit[0].cost, Some(Money::new(1528, Currency::PLN)));
    assert_eq!(fit[1].cost, Some(Money::new(1250, Currency::PLN)));
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn g7_order_status() {
    let r = replay(&["g7_get_order_status"]).await;
    let s = r.fulfilment().order_status(&ctx(), &OrderId::new("W-2024-000123")).await.unwrap();
    assert_eq!(s.status, "wait_for_receive");
    assert!(s.dispatched);
    assert_eq!(s.shipments, ["00340434161234567890", "00340434161234567891"]);
    assert_eq!(s.dispatched_at.unwrap().to_rfc3339(), "2024-03-16T13:05:00+00:00");
    assert_eq!(s.reference.as_deref(), Some("SHOP-8812"));
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn g7_nothing_found_is_none() {
    let r = replay(&["g7_get_order_status_empty"]).await;
    assert!(r.fulfilment().find_order(&ctx(), "SHOP-UNKNOWN").await.unwrap().is_none());
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn g8_get_client_address_as_member() {
    let r = replay(&["g8_get_client_addresses"]).await;
    let m = r.adapter.members().unwrap().get(&ctx(), &MemberId::new("7")).await.unwrap();
    assert_eq!((m.first_name.as_deref(), m.last_name.as_deref()), (Some("Anna"), Some("Nowak")));
    assert_eq!(m.phone.map(|p| p.e164()).as_deref(), Some("+48600100200"));
    assert_eq!(m.extras.get("order_id").map(String::as_str), Some("W-2024-000123"));
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn g9_set_client_address() {
    let r = replay(&["g9_set_client_address"]).await;
    let update = MemberUpdate::new().with_email("anna.nowak@example.pl");
    let m = r.adapter.members().unwrap().update(&ctx(), &MemberId::new("7"), &update).await.unwrap();
    assert_eq!(m.email.as_deref(), Some("anna.nowak@example.pl"));
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn g9_after_dispatch_is_conflict() {
    let r = replay(&["g9_set_client_address_locked"]).await;
    let update = MemberUpdate::new().with_email("anna.nowak@example.pl");
    let err = r.adapter.members().unwrap().update(&ctx(), &MemberId::new("7"), &update).await.unwrap_err();
    assert_eq!((err.kind(), err.vendor_code()), (&ErrorKind::Conflict, Some("10")));
}
