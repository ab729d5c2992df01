//! Replay tests: the fixtures in `conformance/fixtures/sessionm/` (written from the SessionM
//! contract) are served by the replay server, and the exact request the adapter sent (method,
//! path, query, headers minus secrets, body) is pinned with an insta snapshot. Request ids come
//! from a sequential source and the clock is fixed, so every byte is stable.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use loyalty_core::{
    pricing, Basket, Consents, Context, Currency, ErrorKind, Gender, Hold, HoldRequest, Line, ManualClock,
    MemberId, MemberLookup, MemberUpdate, Money, Offer, OfferKind, OfferRef, Phone, Provider, RedeemRequest,
    RegisterMember, SendOutcome, Transaction, TransactionId, VendorRule,
};
use loyalty_http::Secret;
use loyalty_sessionm::{SequentialRequestIds, SessionmAdapter, SessionmConfig};
use loyalty_sim::replay::{Fixture, ReplayServer};
use loyalty_sim::JournalEntry;
use rust_decimal::Decimal;

const USER: &str = "5d2f6c1e-8a4b-4c3d-9e2f-1a2b3c4d5e6f";
const UO_CHECK: &str = "9c1a0001-bb00-4000-8000-000000000001";
const UO_ITEM: &str = "9c1a0002-bb00-4000-8000-000000000002";
const UO_BXGY: &str = "9c1a0003-bb00-4000-8000-000000000003";
const UO_MUG: &str = "9c1a0004-bb00-4000-8000-000000000004";
const RETAILER: &str = "0A1B2C3D-0000-4000-8000-000000000001";

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/fixtures/sessionm")
}

fn fixture(name: &str) -> Fixture {
    Fixture::load(fixture_dir().join(format!("{name}.http"))).expect("fixture loads")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
}

struct Replay {
    server: ReplayServer,
    adapter: SessionmAdapter,
    fixtures: Vec<Fixture>,
}

async fn replay(names: &[&str]) -> Replay {
    let fixtures: Vec<Fixture> = names.iter().map(|n| fixture(n)).collect();
    let server = ReplayServer::start(fixtures.clone()).await.expect("replay server starts");
    let url = server.base_url();
    let config = SessionmConfig::builder()
        .with_pos(url, "replay-pos", Secret::new("replay-pos-secret"))
        .with_connect(url, "replay-connect", Secret::new("replay-connect-secret"))
        .with_core(url, Secret::new("replay-api-key"), Secret::new("replay-s2s-secret"))
        .with_tenant(RETAILER, "client-1", "store-1")
        .with_currency("NOK")
        .with_time_zone("Europe/Oslo")
        .with_attempt_timeout(Duration::from_secs(5))
        .build()
        .expect("config");
    let adapter = SessionmAdapter::with_parts(
        config,
        Arc::new(ManualClock::at(now())),
        Arc::new(SequentialRequestIds::new("req")),
    )
    .expect("adapter");
    Replay { server, adapter, fixtures }
}

impl Replay {
    /// The requests sent, as the snapshot records them.
    fn sent(&self) -> serde_json::Value {
        let entries = self.server.requests();
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

    /// The bodies sent are those the named fixtures record, in order: a fixture documents the
    /// adapter's real request, not a shorter one the contract would refuse.
    fn assert_sent_as_recorded(&self, names: &[&str]) {
        let sent = self.sent();
        let sent = sent.as_array().unwrap();
        assert_eq!(sent.len(), names.len(), "{sent:?}");
        for (e, name) in sent.iter().zip(names) {
            let f = fixture(name);
            let want: serde_json::Value = serde_json::from_str(&f.request.body).unwrap();
            assert_eq!((&e["path"], &e["body"]), (&serde_json::json!(f.request.path()), &want), "{name}");
        }
    }
}

fn recorded(e: &JournalEntry) -> serde_json::Value {
    // Only stable, secret-free headers: the journal redacts authorization; host and length vary.
    let headers: serde_json::Map<String, serde_json::Value> = e
        .headers
        .iter()
        .filter(|(k, _)| k == "content-type" || k == "authorization")
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let body = if e.body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&e.body).unwrap_or_else(|_| serde_json::Value::String(e.body.clone()))
    };
    serde_json::json!({"method": e.method, "path": e.path, "query": e.query, "headers": headers, "body": body})
}

fn ctx() -> Context {
    Context::new()
}

fn nok(minor: i64) -> Money {
    Money::new(minor, Currency::NOK)
}

fn member() -> MemberId {
    MemberId::new(USER)
}

/// Two coffees at 129.00 (15 % tax) and a mug at 199.00 (25 % tax).
fn basket() -> Basket {
    Basket::new(Currency::NOK)
        .with_line(Line::new("1", "COF-500", Decimal::from(2), nok(12_900)).with_tax_rate(Decimal::from(15)))
        .with_line(Line::new("2", "MUG-1", Decimal::ONE, nok(19_900)).with_tax_rate(Decimal::from(25)))
}

fn check_offer() -> Offer {
    Offer::new(
        UO_CHECK,
        "50 kr off your purchase",
        OfferKind::VendorPriced { rule: VendorRule::Check, discount: None },
    )
    .with_reference(OfferRef::id(UO_CHECK))
}

async fn lock_check_offer(r: &Replay, order: &str) -> Hold {
    let req = HoldRequest::new(member(), check_offer(), TransactionId::new(order)).with_basket(basket());
    r.adapter.holds().unwrap().hold(&ctx(), &req).await.unwrap()
}

/// The basket sold with the check offer held: 50.00 off, 407.00 paid by card.
fn sale(hold: &Hold) -> Transaction {
    let mut offer = check_offer();
    offer.kind = OfferKind::VendorPriced { rule: VendorRule::Check, discount: hold.vendor_discount.clone() };
    let priced = pricing::price(&basket(), std::slice::from_ref(&offer), &[offer.id.clone()], now()).unwrap();
    let mut tx = Transaction::from_priced(
        TransactionId::new("order-1001"),
        now(),
        Some(member()),
        &basket(),
        &priced,
        std::slice::from_ref(&offer),
    )
    .unwrap()
    .with_payment("Card", priced.total);
    tx.holds = vec![hold.clone()];
    tx
}

// ---------------------------------------------------------------- lookup (§3.3)

// Checklist 1: POST, JSON, the §3.1 container with one criterion.
#[tokio::test]
async fn lookup_by_email_sends_one_criterion_in_the_pos_container() {
    let r = replay(&["pos_lookup_email"]).await;
    let m =
        r.adapter.members().unwrap().find(&ctx(), &MemberLookup::Email("anna.berg@example.com".into())).await;
    let m = m.unwrap().expect("found");
    assert_eq!(m.id.as_str(), USER);
    assert_eq!(m.phone, Some(Phone::new("+47", "98765432")));
    assert_eq!(m.points, Some(Decimal::from(120)));
    assert_eq!(m.identifiers, vec!["CARD-7001".to_string()]);
    assert_eq!(
        m.consents,
        Consents { membership: true, order_history: true, marketing_sms: false, marketing_email: true }
    );
    insta::assert_json_snapshot!(r.sent());
}

// §3.3: phone digits only, country code included.
#[tokio::test]
async fn lookup_by_phone_sends_digits_with_the_country_code() {
    let r = replay(&["pos_lookup_email"]).await;
    let lookup = MemberLookup::Phone(Phone::new("+47", "987 65 432"));
    r.adapter.members().unwrap().find(&ctx(), &lookup).await.unwrap().expect("found");
    insta::assert_json_snapshot!(r.sent());
}

// Checklist 4: two accounts match; surfaced as "ambiguous, try another identifier".
#[tokio::test]
async fn ambiguous_lookup_is_ambiguous_not_the_first_match() {
    let r = replay(&["pos_lookup_ambiguous"]).await;
    let err = r
        .adapter
        .members()
        .unwrap()
        .find(&ctx(), &MemberLookup::Email("family@example.com".into()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Ambiguous, "{err}");
    assert_eq!(err.vendor_code(), Some("ambiguous_user"));
}

#[tokio::test]
async fn lookup_without_a_match_is_none() {
    let r = replay(&["pos_lookup_no_match"]).await;
    let m =
        r.adapter.members().unwrap().find(&ctx(), &MemberLookup::Email("nobody@example.com".into())).await;
    assert_eq!(m.unwrap(), None);
}

// Checklist 5 and 18: the basket travels as a transaction in major units with per-item tax and
// no currency; each applicable offer carries SessionM's discount.
#[tokio::test]
async fn offers_with_a_basket_carry_the_vendor_discount() {
    let r = replay(&["pos_lookup_basket"]).await;
    let c = ctx().with_idempotency_key("order-1001");
    let offers = r.adapter.offers().unwrap().list(&c, Some(&member()), Some(&basket())).await.unwrap();
    assert_eq!(offers.len(), 2);
    let OfferKind::VendorPriced { rule, discount: Some(d) } = &offers[0].kind else {
        panic!("{:?}", offers[0].kind)
    };
    assert_eq!(*rule, VendorRule::Check);
    assert_eq!(d.amount, nok(5_000));
    assert_eq!(
        d.lines.iter().map(|l| (l.line_id.as_str(), l.units)).collect::<Vec<_>>(),
        [("1", 2.into()), ("2", 1.into())]
    );
    // A zero discount is not a price yet: listed, unpriced.
    assert_eq!(offers[1].id.as_str(), UO_BXGY);
    assert!(matches!(offers[1].kind, OfferKind::VendorPriced { rule: VendorRule::BuyXGetY, discount: None }));
    r.assert_sent_as_recorded(&["pos_lookup_basket"]);
    insta::assert_json_snapshot!(r.sent());
}

// ---------------------------------------------------------------- wallet, points (§4)

// Checklist 20, 26: no container; both spellings; a date-only end lasts to the end of the day.
#[tokio::test]
async fn wallet_reads_both_spellings_and_date_only_ends() {
    let r = replay(&["connect_get_user_offers"]).await;
    let offers = r.adapter.offers().unwrap().list(&ctx(), Some(&member()), None).await.unwrap();
    let ids: Vec<&str> = offers.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, [UO_CHECK, UO_ITEM, "9c1a0005-bb00-4000-8000-000000000005"]);
    assert_eq!(offers[0].valid_to, Some(Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap()));
    assert!(matches!(
        offers[1].kind,
        OfferKind::VendorPriced { rule: VendorRule::LowestItem, discount: None }
    ));
    assert_eq!(offers[1].expiry_text().as_deref(), Some("expired on 2026-03-29"));
    // Offset-less start read in the store's zone (Oslo, UTC+1 in January).
    assert_eq!(offers[1].valid_from, Some(Utc.with_ymd_and_hms(2025, 12, 31, 23, 0, 0).unwrap()));
    assert!(
        matches!(&offers[2].kind, OfferKind::VendorPriced { rule: VendorRule::Other(t), .. } if t == "manual_fulfillment")
    );
    assert!(offers.iter().all(|o| o.uses_left == Some(1) && o.reference == OfferRef::id(o.id.as_str())));
    insta::assert_json_snapshot!(r.sent());
}

// Checklist 21: points from the balances' summary; Core gives the profile.
#[tokio::test]
async fn get_reads_the_core_profile_and_the_connect_balance() {
    let r = replay(&["core_get_user", "connect_all_balances"]).await;
    let m = r.adapter.members().unwrap().get(&ctx(), &member()).await.unwrap();
    assert_eq!(m.points, Some(Decimal::from(120)), "Connect's total, not Core's stale field");
    assert_eq!(m.birth_date, NaiveDate::from_ymd_opt(1988, 3, 4));
    assert_eq!(m.gender, Some(Gender::Female));
    assert_eq!(m.address.as_ref().and_then(|a| a.city.as_deref()), Some("Oslo"));
    assert!(!m.consents.marketing_email, "opted_in as the string \"false\"");
    let sent = r.sent();
    assert_eq!(sent.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn external_id_reads_core_by_external_id() {
    let r = replay(&["core_get_external_user"]).await;
    let m = r.adapter.member_by_external_id(&ctx(), "CARD-7001").await.unwrap();
    assert_eq!(m.id.as_str(), USER);
    assert_eq!(m.phone, None, "phone_numbers read back as null");
    insta::assert_json_snapshot!(r.sent());
}

// Checklist 23: a Core code in upper case is the same code.
#[tokio::test]
async fn unknown_user_in_upper_case_is_not_found() {
    let r = replay(&["core_get_user_not_found", "connect_all_balances"]).await;
    let err = r.adapter.members().unwrap().get(&ctx(), &MemberId::new("no-such-user")).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.vendor_code(), Some("USER_NOT_FOUND"));
}

// ---------------------------------------------------------------- Core profiles (§6)

#[tokio::test]
async fn register_sends_the_user_object() {
    let r = replay(&["core_create_user"]).await;
    let mut request = RegisterMember::new()
        .with_phone(Phone::new("+47", "90000003"))
        .with_email("ny.kunde@example.com")
        .with_name("Ny", "Kunde")
        .with_external_id("CARD-9001")
        .with_consents(Consents {
            membership: true,
            order_history: true,
            marketing_sms: false,
            marketing_email: true,
        });
    request.birth_date = NaiveDate::from_ymd_opt(1990, 5, 17);
    let m = r.adapter.members().unwrap().register(&ctx(), &request).await.unwrap();
    assert!(m.is_active());
    assert_eq!(m.phone, Some(Phone::new("+47", "90000003")));
    insta::assert_json_snapshot!(r.sent());
}

// Checklist 22: a dob making the user 13 or younger is refused naming the field.
#[tokio::test]
async fn register_too_young_names_dob() {
    let r = replay(&["core_create_user_too_young"]).await;
    let mut request = RegisterMember::new().with_email("young@example.com").with_consents(Consents {
        membership: true,
        order_history: true,
        ..Consents::default()
    });
    request.birth_date = NaiveDate::from_ymd_opt(2016, 1, 1);
    let err = r.adapter.members().unwrap().register(&ctx(), &request).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "dob"), "{err}");
}

#[tokio::test]
async fn update_sends_only_what_changes() {
    let r = replay(&["core_update_user"]).await;
    let mut update = MemberUpdate::new();
    update.first_name = Some("Anne".into());
    let m = r.adapter.members().unwrap().update(&ctx(), &member(), &update).await.unwrap();
    assert_eq!(m.first_name.as_deref(), Some("Anne"));
    assert_eq!(m.email.as_deref(), Some("anna.berg@example.com"));
    insta::assert_json_snapshot!(r.sent());
}

// ---------------------------------------------------------------- discounting (§3.5-§3.8)

// Checklist 6: lock by UserOfferId with the basket; the Discount object is kept as it came.
#[tokio::test]
async fn lock_by_user_offer_id_keeps_the_discount_object() {
    let r = replay(&["pos_lock"]).await;
    let hold = lock_check_offer(&r, "order-1001").await;
    assert_eq!(hold.expires_at, now() + chrono::Duration::minutes(15));
    assert_eq!(hold.vendor_discount.as_ref().map(|d| d.amount), Some(nok(5_000)));
    let fixture_payload: serde_json::Value =
        serde_json::from_str(&fixture("pos_lock").response.body).unwrap();
    assert_eq!(hold.vendor_data.as_ref().map(|v| &v["discount"]), Some(&fixture_payload["payload"]));
    r.assert_sent_as_recorded(&["pos_lock"]);
    insta::assert_json_snapshot!(r.sent());
}

// Checklist 11: unlock names the user offer and the employee; no payload expected.
#[tokio::test]
async fn unlock_names_the_user_offer_and_the_employee() {
    let r = replay(&["pos_lock", "pos_unlock"]).await;
    let hold = lock_check_offer(&r, "order-1001").await;
    r.adapter.holds().unwrap().release(&ctx().with_employee("emp-7"), &hold).await.unwrap();
    insta::assert_json_snapshot!(r.sent());
}

// Checklist 7: redeem by TTLCode; reinstate by the user offer the Discount names, with the
// default employee; a mixed-case status is success (checklist 3).
#[tokio::test]
async fn redeem_by_ttl_code_then_reinstate_by_user_offer() {
    let r = replay(&["pos_redeem_ttl", "pos_reinstate_mixed_case"]).await;
    let mug = Offer::new(
        "ttl",
        "40 kr off a mug",
        OfferKind::VendorPriced { rule: VendorRule::LowestItem, discount: None },
    )
    .with_reference(OfferRef::code("TTL-4M8P2Z"));
    let req = RedeemRequest::new(member(), mug)
        .with_basket(basket())
        .with_transaction(TransactionId::new("order-1002"));
    let red = r.adapter.redemptions().unwrap().redeem(&ctx(), &req).await.unwrap();
    // One id per use: the transaction, the user offer, the redeem's request_id.
    assert_eq!(red.id, format!("order-1002/{UO_MUG}/req-1"));
    assert_eq!(red.vendor_discount.as_ref().map(|d| d.amount), Some(nok(4_000)));
    r.adapter.redemptions().unwrap().reinstate(&ctx(), &red).await.unwrap();
    r.assert_sent_as_recorded(&["pos_redeem_ttl", "pos_reinstate_mixed_case"]);
    insta::assert_json_snapshot!(r.sent());
}

// ---------------------------------------------------------------- transactions (§3.9, §5.1)

// Checklist 12, 18: closed, the lock's Discount object as it came, amounts in major units,
// no currency, the member on the payment.
#[tokio::test]
async fn send_carries_the_lock_discount_and_attributes_the_member() {
    let r = replay(&["pos_lock", "pos_send_transaction"]).await;
    let hold = lock_check_offer(&r, "order-1001").await;
    let receipt = r.adapter.transactions().unwrap().send(&ctx(), &sale(&hold)).await.unwrap();
    assert_eq!(receipt.outcome, SendOutcome::Stored);
    assert_eq!(receipt.provider_ref.as_deref(), Some("4e7d9b20-6c1f-4a8e-9d3b-2f5a6c7e8d90"));
    r.assert_sent_as_recorded(&["pos_lock", "pos_send_transaction"]);
    insta::assert_json_snapshot!(r.sent());
}

// Checklist 15, 17: a return resends the original id without the returned line, two steps
// newer (revision 1), carrying the discount of the kept lines; a cancel resends it voided one
// step later.
#[tokio::test]
async fn amend_and_cancel_resend_the_sale_with_a_newer_modified_time() {
    let r = replay(&["pos_lock", "pos_send_transaction"]).await;
    let hold = lock_check_offer(&r, "order-1001").await;
    let tx = sale(&hold);
    let mut kept = tx.clone();
    kept.lines.truncate(1);
    kept.holds.clear();
    kept.offers_used[0].amount = kept.lines[0].discount;
    kept.total = kept.lines[0].net;
    kept.payments[0].amount = kept.lines[0].net;
    // The first version after the sale; the cancel passes the version it sent last.
    kept.revision = 1;
    let t = r.adapter.transactions().unwrap();
    assert_eq!(t.amend(&ctx(), &kept).await.unwrap().outcome, SendOutcome::Replaced);
    t.cancel(&ctx(), &kept, Some("full return")).await.unwrap();
    insta::assert_json_snapshot!(r.sent());
}
