//! Replay tests: the fixtures in `conformance/fixtures/diller/` (written from diller.md) are
//! served by the replay server, and the exact request the adapter sent (method, path, query,
//! headers minus secrets, body) is pinned with an insta snapshot.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use loyalty_core::{
    pricing, Basket, Consents, Context, Currency, Discount, EnrollMember, ErrorKind, HoldRequest, Line,
    MemberId, MemberLookup, MemberUpdate, Money, Offer, OfferKind, OfferRef, Phone, Provider, Refund,
    RegisterMember, Scope, SegmentAnswer, SegmentValue, SendOutcome, StampCard, Transaction, TransactionId,
    TransactionLine,
};
use loyalty_diller::{DillerAdapter, DillerConfig};
use loyalty_http::Secret;
use loyalty_sim::replay::{Fixture, ReplayServer};
use loyalty_sim::JournalEntry;
use rust_decimal::Decimal;

const MEMBER: &str = "m_Ao1bPoZRRV7Y";

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/fixtures/diller")
}

fn fixture(name: &str) -> Fixture {
    Fixture::load(fixture_dir().join(format!("{name}.http"))).expect("fixture loads")
}

struct Replay {
    server: ReplayServer,
    adapter: DillerAdapter,
    fixtures: Vec<Fixture>,
}

async fn replay(names: &[&str]) -> Replay {
    let mut fixtures = vec![fixture("token")];
    fixtures.extend(names.iter().map(|n| fixture(n)));
    let server = ReplayServer::start(fixtures.clone()).await.expect("replay server starts");
    let config = DillerConfig::builder()
        .with_base_url(server.base_url())
        .with_client_id("replay-client")
        .with_client_secret(Secret::new("replay-secret"))
        .with_store_id("demo-store")
        .with_department_id("web")
        .with_attempt_timeout(Duration::from_secs(5))
        .build()
        .expect("config");
    let adapter = DillerAdapter::new(config).expect("adapter");
    Replay { server, adapter, fixtures }
}

impl Replay {
    /// The API requests (token exchange left out), as the snapshot records them.
    fn sent(&self) -> serde_json::Value {
        let entries: Vec<JournalEntry> =
            self.server.requests().into_iter().filter(|e| e.path != "/connect/token").collect();
        // Every request matched a fixture by method and path.
        for e in &entries {
            assert!(
                self.fixtures.iter().any(|f| f.request.method == e.method && f.request.path() == e.path),
                "no fixture for {} {}",
                e.method,
                e.path
            );
            assert_ne!(e.status, 501, "unmatched {} {}", e.method, e.path);
        }
        serde_json::Value::Array(entries.iter().map(recorded).collect())
    }
}

fn recorded(e: &JournalEntry) -> serde_json::Value {
    // Only stable, secret-free headers: no authorization, host (ephemeral port) or length.
    let headers: serde_json::Map<String, serde_json::Value> = e
        .headers
        .iter()
        .filter(|(k, _)| k == "accept" || k == "content-type")
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let body = if e.body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&e.body).unwrap_or_else(|_| serde_json::Value::String(e.body.clone()))
    };
    serde_json::json!({
        "method": e.method,
        "path": e.path,
        "query": e.query,
        "headers": headers,
        "body": body,
    })
}

fn ctx() -> Context {
    Context::new()
}

fn member() -> MemberId {
    MemberId::new(MEMBER)
}

fn nok(minor: i64) -> Money {
    Money::new(minor, Currency::NOK)
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn summer10() -> Offer {
    Offer::new(
        "coupon:SUMMER10",
        "50 kr off",
        OfferKind::Coupon { discount: Discount::Fixed(nok(5000)), scope: Scope::Basket },
    )
    .with_code("SUMMER10")
    .with_reference(OfferRef::code("SUMMER10"))
}

fn coffee_card() -> Offer {
    Offer::new(
        "stamp:17",
        "Coffee card",
        OfferKind::StampCard(StampCard {
            required: 6,
            collected: 0,
            restartable: true,
            products: vec!["COF-500".into()],
        }),
    )
    .with_reference(OfferRef::id("17"))
}

/// The T1 example of diller.md §4.5: 2 × 199.50 coffee, 50 off, 349.0 paid, 2 stamps.
fn order_1234() -> Transaction {
    let basket = Basket::new(Currency::NOK).with_line(
        Line::new("l1", "COF-500", Decimal::from(2), nok(19950))
            .with_sku("COF-500")
            .with_name("Coffee 500 g")
            .with_tax_rate(Decimal::from(25)),
    );
    let offers = [summer10(), coffee_card()];
    let now = at(2024, 2, 20, 13, 3, 11);
    let priced = pricing::price(&basket, &offers, &[summer10().id], now).unwrap();
    Transaction::from_priced(TransactionId::new("Order-1234"), now, Some(member()), &basket, &priced, &offers)
        .unwrap()
        .with_payment("Card", nok(34900))
}

// ---------------------------------------------------------------- token

#[tokio::test]
async fn token_reply_without_expires_in_is_a_protocol_error() {
    let server = ReplayServer::start(vec![fixture("token_without_expires_in"), fixture("m2_get_member")])
        .await
        .unwrap();
    let config = DillerConfig::builder()
        .with_base_url(server.base_url())
        .with_client_id("replay-client")
        .with_client_secret(Secret::new("replay-secret"))
        .with_store_id("demo-store")
        .build()
        .unwrap();
    let adapter = DillerAdapter::new(config).unwrap();
    let err = adapter.members().unwrap().get(&ctx(), &member()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Protocol, "{err}");
    assert_eq!(server.requests().iter().filter(|e| e.path.starts_with("/api/")).count(), 0);
}

// ---------------------------------------------------------------- stores

#[tokio::test]
async fn s1_s3_s4_s6_setup_calls() {
    let r = replay(&["s1_stores", "s3_departments", "s4_create_department", "s6_membership_levels"]).await;
    let stores = r.adapter.stores(&ctx()).await.unwrap();
    assert_eq!(stores[0].identifier_type.as_deref(), Some("LicensePlate"));
    r.adapter.departments(&ctx()).await.unwrap();
    r.adapter.create_department(&ctx(), &"pos-2".into(), "Register 2").await.unwrap();
    let levels = r.adapter.membership_levels(&ctx()).await.unwrap();
    assert_eq!(levels[0].name, "Member");
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn s5_segments() {
    let r = replay(&["s5_segments"]).await;
    let segments = r.adapter.members().unwrap().segments(&ctx()).await.unwrap();
    assert_eq!(segments.len(), 4);
    assert!(segments[2].required && !segments[3].visible);
    insta::assert_json_snapshot!(r.sent());
}

// ---------------------------------------------------------------- members

#[tokio::test]
async fn m1_search_by_phone() {
    let r = replay(&["m1_search_phone"]).await;
    let m =
        r.adapter.members().unwrap().find(&ctx(), &MemberLookup::Phone(Phone::new("+47", "41234567"))).await;
    let m = m.unwrap().expect("found");
    assert_eq!(
        m.consents,
        Consents { membership: true, order_history: true, marketing_sms: true, marketing_email: false }
    );
    assert_eq!(m.points, Some(Decimal::from(250)));
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn m1_no_match_problem_is_none() {
    let r = replay(&["m1_search_no_match_problem"]).await;
    let m =
        r.adapter.members().unwrap().find(&ctx(), &MemberLookup::Email("nobody@example.com".into())).await;
    assert_eq!(m.unwrap(), None);
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn m3_register() {
    let r = replay(&["m3_register"]).await;
    let mut request = RegisterMember::new()
        .with_phone(Phone::new("+47", "90000003"))
        .with_email("ny@example.com")
        .with_name("Ny", "Kunde")
        .with_consents(Consents {
            membership: true,
            order_history: true,
            marketing_sms: false,
            marketing_email: true,
        })
        .with_segment(SegmentAnswer {
            segment_id: "3".into(),
            value: SegmentValue::Choices(vec!["31".into()]),
        })
        .with_segment(SegmentAnswer {
            segment_id: "2".into(),
            value: SegmentValue::Date(chrono::NaiveDate::from_ymd_opt(2020, 6, 1).unwrap()),
        });
    request.birth_date = chrono::NaiveDate::from_ymd_opt(1990, 5, 17);
    let m = r.adapter.members().unwrap().register(&ctx(), &request).await.unwrap();
    assert!(m.is_active());
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn m4_enroll() {
    let r = replay(&["m4_enroll"]).await;
    let m =
        r.adapter.members().unwrap().enroll(&ctx(), &EnrollMember::new(Phone::new("+47", "90000001"))).await;
    assert!(!m.unwrap().is_active());
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn m5_update_reads_then_replaces() {
    let r = replay(&["m2_get_member", "m5_update"]).await;
    let m = r
        .adapter
        .members()
        .unwrap()
        .update(&ctx(), &member(), &MemberUpdate::new().with_name("Kari", "Hansen"))
        .await
        .unwrap();
    assert_eq!(m.last_name.as_deref(), Some("Hansen"));
    insta::assert_json_snapshot!(r.sent());
}

// ---------------------------------------------------------------- offers

#[tokio::test]
async fn c2_k2_offers_list() {
    let r = replay(&["c2_member_coupons", "k2_member_stamp_cards", "s2_store"]).await;
    let offers = r.adapter.offers().unwrap().list(&ctx(), Some(&member()), None).await.unwrap();
    assert_eq!(offers[0].valid_to, None, "year 2100 = no end");
    assert_eq!(
        offers[1].kind,
        OfferKind::Coupon { discount: Discount::Fixed(nok(5000)), scope: Scope::Basket }
    );
    // 2026-12-31T23:59:59.1234567Z: fractional seconds with Z.
    assert_eq!(offers[1].valid_to.unwrap().timestamp(), at(2026, 12, 31, 23, 59, 59).timestamp());
    // 2025-01-01T00:00:00 without offset: Oslo local time.
    assert_eq!(offers[2].valid_from, Some(at(2024, 12, 31, 23, 0, 0)));
    assert!(matches!(&offers[2].kind, OfferKind::StampCard(c) if c.collected == 2));
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn c3_validate_ok_and_refused() {
    let r = replay(&["c3_validate"]).await;
    assert!(r.adapter.offers().unwrap().validate(&ctx(), &member(), &summer10()).await.unwrap().valid);
    insta::assert_json_snapshot!(r.sent());
    // On a refusal the adapter reads the store's coupon list to say when an expired one ended.
    let r = replay(&["c3_validate_refused", "c1_store_coupons", "s2_store"]).await;
    let v = r.adapter.offers().unwrap().validate(&ctx(), &member(), &summer10()).await.unwrap();
    assert!(!v.valid);
    assert_eq!(v.reason.as_deref(), Some("The coupon has been used the maximum number of times."));
}

// ---------------------------------------------------------------- holds

#[tokio::test]
async fn c4_k3_c5_reserve_and_release() {
    let r =
        replay(&["c4_reserve", "k3_reserve_stamp", "k4_cancel_stamp_reservation", "c5_cancel_reservation"])
            .await;
    let holds = r.adapter.holds().unwrap();
    let tx = TransactionId::new("Order-1234");
    let coupon = holds.hold(&ctx(), &HoldRequest::new(member(), summer10(), tx.clone())).await.unwrap();
    let stamp = holds.hold(&ctx(), &HoldRequest::new(member(), coffee_card(), tx.clone())).await.unwrap();
    holds.release(&ctx(), &coupon).await.unwrap();
    // K4 is deprecated but the only release for an order never sent: the hold starts with it
    // (a basket edit drops old reservations) and the release ends with it.
    holds.release(&ctx(), &stamp).await.unwrap();
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn c4_refusal_held_elsewhere_is_conflict() {
    let r = replay(&["c4_reserve_refused"]).await;
    let err = r
        .adapter
        .holds()
        .unwrap()
        .hold(&ctx(), &HoldRequest::new(member(), summer10(), TransactionId::new("Order-B")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict);
}

// ---------------------------------------------------------------- transactions

#[tokio::test]
async fn t1_transaction() {
    let r = replay(&["t1_transaction"]).await;
    let receipt = r.adapter.transactions().unwrap().send(&ctx(), &order_1234()).await.unwrap();
    assert_eq!(receipt.outcome, SendOutcome::Recorded);
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn t1_duplicate_is_already_recorded() {
    let r = replay(&["t1_transaction_duplicate"]).await;
    let receipt = r.adapter.transactions().unwrap().send(&ctx(), &order_1234()).await.unwrap();
    assert_eq!(receipt.outcome, SendOutcome::AlreadyRecorded);
}

#[tokio::test]
async fn t2_cancel() {
    let r = replay(&["t2_cancel"]).await;
    r.adapter.transactions().unwrap().cancel(&ctx(), &order_1234(), Some("Returned in full")).await.unwrap();
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn t3_refund() {
    let r = replay(&["t3_refund"]).await;
    let mut line = TransactionLine::new("l1", "COF-500", Decimal::from(1), nok(19950), nok(19950));
    line.sku = Some("COF-500".into());
    line.name = Some("Coffee 500 g".into());
    line.tax_rate = Some(Decimal::from(25));
    line.discount = nok(2500);
    line.net = nok(17450);
    let mut refund = Refund::new(
        TransactionId::new("Order-1234"),
        TransactionId::new("Order-1234-R1"),
        Some(member()),
        vec![line],
        nok(17450),
        at(2024, 2, 21, 9, 0, 0),
    );
    refund.reason = Some("One bag returned".into());
    let receipt = r.adapter.transactions().unwrap().refund(&ctx(), &refund).await.unwrap();
    assert_eq!(receipt.outcome, SendOutcome::Recorded);
    insta::assert_json_snapshot!(r.sent());
}

#[tokio::test]
async fn c1_store_coupons() {
    let r = replay(&["c1_store_coupons"]).await;
    let list = r.adapter.client().store_coupons(&ctx(), "setup.coupons", false).await.unwrap();
    assert_eq!(list[0].code.as_deref(), Some("SUMMER10"));
    insta::assert_json_snapshot!(r.sent());
}
