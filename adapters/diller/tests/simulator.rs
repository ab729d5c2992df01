//! The adapter-side items of diller.md's Conformance checklist, against the in-process
//! simulator with its default settings (§7.5) unless a test says otherwise.

mod common;

use std::time::{Duration, Instant};

use common::*;
use loyalty_core::{
    Consents, Context, Discount, EnrollMember, ErrorKind, HoldRequest, LookupKind, MemberId, MemberLookup,
    MemberUpdate, OfferKind, Phone, Provider, Refund, RegisterMember, Scope, SendOutcome, StampAction,
    TransactionId, WriteEffect,
};
use loyalty_sim::diller::{demo, DillerSettings};
use loyalty_sim::Fault;

const TOKEN: &str = "/connect/token";
const T1: &str = "/api/v2.0/stores/demo-client/members/m_Ao1bPoZRRV7Y/transactions";

fn ctx() -> Context {
    Context::new()
}

fn body_json(env: &Env, method: &str, path: &str) -> serde_json::Value {
    let e = env
        .journal()
        .entries()
        .into_iter()
        .rev()
        .find(|e| e.method == method && e.path == path)
        .unwrap_or_else(|| panic!("{method} {path} in the journal"));
    serde_json::from_str(&e.body).expect("JSON body")
}

// ---------------------------------------------------------------- token (checklist 1-3)

#[tokio::test]
async fn twenty_calls_share_one_token() {
    let env = start().await;
    let members = env.adapter.members().unwrap();
    for _ in 0..20 {
        members.get(&ctx(), &env.member()).await.unwrap();
    }
    assert_eq!(env.journal().count("POST", TOKEN), 1);
    assert_eq!(env.journal().count("GET", "/api/v2.0/"), 20);
}

#[tokio::test]
async fn token_request_is_a_client_credentials_form_with_the_retailer_scope() {
    let env = start().await;
    env.adapter.members().unwrap().get(&ctx(), &env.member()).await.unwrap();
    let e = env.journal().entries().into_iter().find(|e| e.path == TOKEN).unwrap();
    assert_eq!(e.method, "POST");
    assert_eq!(e.body, "grant_type=client_credentials&scope=api.retailer");
    let header = |n: &str| e.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(header("accept").as_deref(), Some("application/json"));
    // The journal redacts it; the simulator accepted Basic with the demo credentials.
    assert_eq!(header("authorization").as_deref(), Some("[redacted]"));
}

#[tokio::test]
async fn token_is_renewed_after_it_expires() {
    let env = start().await;
    let members = env.adapter.members().unwrap();
    members.get(&ctx(), &env.member()).await.unwrap();
    env.clock.advance(Duration::from_secs(3600));
    members.get(&ctx(), &env.member()).await.unwrap();
    assert_eq!(env.journal().count("POST", TOKEN), 2);
}

#[tokio::test]
async fn token_is_renewed_shortly_before_expiry_not_after_a_401() {
    // Checklist 3: one token until shortly before now + expires_in (3600 s), renewed ahead of
    // expiry, so no call ever goes out with an expired token.
    let env = start().await;
    let members = env.adapter.members().unwrap();
    members.get(&ctx(), &env.member()).await.unwrap();
    assert_eq!(env.journal().count("POST", TOKEN), 1);
    env.clock.advance(Duration::from_secs(3590));
    members.get(&ctx(), &env.member()).await.unwrap();
    assert_eq!(env.journal().count("POST", TOKEN), 2, "renewed 10 s before expiry");
    let entries = env.journal().entries();
    assert!(entries.iter().all(|e| e.status != 401), "no 401 in the journal: {entries:?}");
    // Token, GET, token, GET: the renewal came before the second call, not after a refusal.
    let order: Vec<(&str, bool)> = entries.iter().map(|e| (e.method.as_str(), e.path == TOKEN)).collect();
    assert_eq!(order, [("POST", true), ("GET", false), ("POST", true), ("GET", false)]);
    // Every business call carried a bearer token.
    for e in entries.iter().filter(|e| e.path.starts_with("/api/v2.0/")) {
        let auth = e.headers.iter().find(|(k, _)| k == "authorization").map(|(_, v)| v.as_str());
        assert!(auth.is_some(), "{} {} without authorization", e.method, e.path);
    }
}

// ---------------------------------------------------------------- search (checklist 5-7)

#[tokio::test]
async fn phone_search_sends_plus_as_percent_2b() {
    let env = start().await;
    let found = env
        .adapter
        .members()
        .unwrap()
        .find(&ctx(), &MemberLookup::Phone(Phone::new("+47", "41234567")))
        .await
        .unwrap();
    assert_eq!(member_of(found).id.as_str(), demo::MEMBER_ID);
    let e = env.journal().entries().into_iter().find(|e| e.path.ends_with("/members/search")).unwrap();
    assert_eq!(e.query.as_deref(), Some("phone=%2B4741234567"));
}

#[tokio::test]
async fn email_identifier_and_provider_id_lookups_find_the_member() {
    let env = start().await;
    let members = env.adapter.members().unwrap();
    for lookup in [
        MemberLookup::Email(demo::MEMBER_EMAIL.into()),
        MemberLookup::ExternalId(demo::MEMBER_IDENTIFIER.into()),
        MemberLookup::ProviderId(env.member()),
    ] {
        let m = members.find(&ctx(), &lookup).await.unwrap();
        assert_eq!(member_of(m).id.as_str(), demo::MEMBER_ID, "{lookup:?}");
    }
    let queries: Vec<String> = env.journal().entries().into_iter().filter_map(|e| e.query).collect();
    assert!(queries.contains(&"identifierValue=EL12345".to_string()), "{queries:?}");
}

#[tokio::test]
async fn no_match_as_empty_list_is_none() {
    let env = start().await;
    let found =
        env.adapter.members().unwrap().find(&ctx(), &MemberLookup::Email("nobody@example.com".into())).await;
    assert_eq!(found.unwrap(), None);
}

#[tokio::test]
async fn no_match_as_400_problem_is_none() {
    let mut settings = DillerSettings::default();
    settings.search_no_match_is_error = true;
    let env = start_with(settings, Duration::from_secs(5)).await;
    let found = env
        .adapter
        .members()
        .unwrap()
        .find(&ctx(), &MemberLookup::Phone(Phone::new("+47", "99999999")))
        .await;
    assert_eq!(found.unwrap(), None);
}

#[tokio::test]
async fn unknown_provider_id_is_none_with_400_and_with_404() {
    for strict in [false, true] {
        let mut settings = DillerSettings::default();
        settings.strict_404 = strict;
        let env = start_with(settings, Duration::from_secs(5)).await;
        let found = env
            .adapter
            .members()
            .unwrap()
            .find(&ctx(), &MemberLookup::ProviderId(MemberId::new("m_unknown00000")))
            .await;
        assert_eq!(found.unwrap(), None, "strict_404 = {strict}");
    }
}

#[tokio::test]
async fn get_of_unknown_member_is_not_found() {
    let env = start().await;
    let err = env.adapter.members().unwrap().get(&ctx(), &MemberId::new("m_unknown00000")).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    assert_eq!(err.operation(), "members.get");
}

#[tokio::test]
async fn undeclared_lookup_is_unsupported_before_any_request() {
    let env = start().await;
    // The declaration is enforced once, by the core's check every registry hands out.
    let checked = loyalty_core::Checked::new(&env.adapter);
    let err = checked.members().unwrap().find(&ctx(), &MemberLookup::NationalId("01019012345".into())).await;
    assert!(err.unwrap_err().is_unsupported());
    assert!(env.journal().entries().is_empty());
}

// ---------------------------------------------------------------- members (checklist 8-10)

#[tokio::test]
async fn enroll_sends_phone_and_the_configured_department() {
    let env = start().await;
    let m = env
        .adapter
        .members()
        .unwrap()
        .enroll(&ctx(), &EnrollMember::new(Phone::new("+47", "90000001")))
        .await;
    let m = m.unwrap();
    assert!(!m.consents.membership, "an enrolled member has not accepted the terms yet");
    let body = body_json(&env, "POST", "/api/v2.0/stores/demo-client/members/enroll");
    assert_eq!(body["phone"], serde_json::json!({"country_code": "+47", "number": "90000001"}));
    assert_eq!(body["department_id"], "web");
}

#[tokio::test]
async fn enrolling_a_pending_phone_again_returns_that_member() {
    let env = start().await;
    let members = env.adapter.members().unwrap();
    let first = members.enroll(&ctx(), &EnrollMember::new(Phone::new("+47", "90000002"))).await.unwrap();
    let again = members.enroll(&ctx(), &EnrollMember::new(Phone::new("+47", "90000002"))).await.unwrap();
    assert_eq!(first.id, again.id);
}

#[tokio::test]
async fn register_maps_the_four_consents() {
    let env = start().await;
    let consents =
        Consents { membership: true, order_history: true, marketing_sms: false, marketing_email: true };
    let request = RegisterMember::new()
        .with_phone(Phone::new("+47", "90000003"))
        .with_email("ny@example.com")
        .with_name("Ny", "Kunde")
        .with_consents(consents);
    let m = env.adapter.members().unwrap().register(&ctx(), &request).await.unwrap();
    assert_eq!(m.consents, consents);
    let body = body_json(&env, "POST", "/api/v2.0/stores/demo-client/members");
    assert_eq!(
        body["consent"],
        serde_json::json!({"gdpr_accepted": true, "save_order_history": true, "receive_sms": false, "receive_email": true})
    );
    assert_eq!(body["department_ids"], serde_json::json!(["web"]));
}

#[tokio::test]
async fn register_without_phone_is_invalid_before_any_request() {
    let env = start().await;
    let err = env
        .adapter
        .members()
        .unwrap()
        .register(&ctx(), &RegisterMember::new().with_email("x@example.com"))
        .await;
    let err = err.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "phone"), "{err}");
    assert!(env.journal().entries().is_empty());
}

#[tokio::test]
async fn update_sends_the_whole_profile_so_unchanged_fields_survive() {
    let env = start().await;
    let updated = env
        .adapter
        .members()
        .unwrap()
        .update(&ctx(), &env.member(), &MemberUpdate::new().with_name("Kari", "Hansen"))
        .await
        .unwrap();
    assert_eq!(updated.last_name.as_deref(), Some("Hansen"));
    // Full replacement (§4.2): the e-mail was sent back, so it is still there.
    assert_eq!(updated.email.as_deref(), Some(demo::MEMBER_EMAIL));
    let body = body_json(&env, "PUT", "/api/v2.0/stores/demo-client/members/m_Ao1bPoZRRV7Y");
    assert!(body.get("phone").is_none(), "UpdateMemberRequest has no phone");
    assert_eq!(body["email"], demo::MEMBER_EMAIL);
    assert_eq!(body["segments"], serde_json::json!([{"segment_id": 4, "selected_options": [41]}]));
}

#[tokio::test]
async fn segments_map_to_form_kinds() {
    let env = start().await;
    let segments = env.adapter.members().unwrap().segments(&ctx()).await.unwrap();
    let kinds: Vec<&str> = segments
        .iter()
        .map(|s| match &s.kind {
            loyalty_core::SegmentKind::Text => "text",
            loyalty_core::SegmentKind::Date => "date",
            loyalty_core::SegmentKind::SingleChoice { .. } => "single",
            loyalty_core::SegmentKind::MultiChoice { .. } => "multi",
        })
        .collect();
    assert_eq!(kinds, ["text", "date", "single", "multi", "single"]);
}

// ---------------------------------------------------------------- offers (checklist 13, 25)

#[tokio::test]
async fn offers_list_coupons_and_stamp_cards() {
    let env = start().await;
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    let summer = offer(&offers, "coupon:SUMMER10");
    // valid_to in 2100 means no end date (§5.4).
    assert_eq!(summer.valid_to, None);
    assert_eq!(summer.uses_left, Some(1));
    assert_eq!(summer.reference.value, "SUMMER10");
    assert_eq!(
        summer.kind,
        OfferKind::Coupon { discount: Discount::Percent(dec("10")), scope: Scope::Basket }
    );
    let fixed = offer(&offers, "coupon:FIXED50");
    assert_eq!(
        fixed.kind,
        OfferKind::Coupon { discount: Discount::Fixed(nok("50.00")), scope: Scope::Basket }
    );
    let coffee = offer(&offers, "coupon:COFFEE20");
    assert!(coffee.valid_to.is_some());
    assert_eq!(
        coffee.kind,
        OfferKind::Coupon {
            discount: Discount::Percent(dec("20")),
            scope: Scope::Products(vec!["COF-500".into()])
        }
    );
    let card = offer(&offers, "stamp:17");
    assert!(matches!(&card.kind, OfferKind::StampCard(c) if c.required == 6 && c.restartable));
}

#[tokio::test]
async fn coupon_paths_carry_the_code_not_the_id() {
    let env = start().await;
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    let v = env
        .adapter
        .offers()
        .unwrap()
        .validate(&ctx(), &env.member(), offer(&offers, "coupon:SUMMER10"))
        .await;
    assert!(v.unwrap().valid);
    let paths: Vec<String> = env.journal().entries().into_iter().map(|e| e.path).collect();
    assert!(paths
        .contains(&"/api/v2.0/stores/demo-client/members/m_Ao1bPoZRRV7Y/coupons/SUMMER10/validate".into()));
    assert!(!paths.iter().any(|p| p.contains("5521")));
}

// ---------------------------------------------------------------- holds (checklist 14, 15)

#[tokio::test]
async fn reserved_coupon_is_conflict_for_another_order_until_released() {
    let env = start().await;
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    let summer = offer(&offers, "coupon:SUMMER10").clone();
    let holds = env.adapter.holds().unwrap();
    let a = holds
        .hold(&ctx(), &HoldRequest::new(env.member(), summer.clone(), TransactionId::new("Order-A")))
        .await
        .unwrap();
    assert_eq!(a.expires_at, env.clock.now() + chrono::Duration::seconds(900));
    // Holding again for the same order is a no-op success (§7.5).
    holds
        .hold(&ctx(), &HoldRequest::new(env.member(), summer.clone(), TransactionId::new("Order-A")))
        .await
        .unwrap();
    let b = holds
        .hold(&ctx(), &HoldRequest::new(env.member(), summer.clone(), TransactionId::new("Order-B")))
        .await;
    assert_eq!(b.unwrap_err().kind(), &ErrorKind::Conflict);
    let v = env.adapter.offers().unwrap().validate(&ctx(), &env.member(), &summer).await.unwrap();
    assert!(!v.valid, "validate refuses while A holds it");
    holds.release(&ctx(), &a).await.unwrap();
    holds.hold(&ctx(), &HoldRequest::new(env.member(), summer, TransactionId::new("Order-B"))).await.unwrap();
    assert_eq!(env.probe.reservations("SUMMER10"), ["Order-B"]);
}

#[tokio::test]
async fn stamp_reservation_is_released_by_the_transaction() {
    let env = start().await;
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    let card = offer(&offers, "stamp:17").clone();
    let hold = env
        .adapter
        .holds()
        .unwrap()
        .hold(&ctx(), &HoldRequest::new(env.member(), card.clone(), TransactionId::new("Order-S")))
        .await
        .unwrap();
    assert_eq!(env.probe.stamp_reservations(demo::MEMBER_ID, 17), ["Order-S"]);
    let tx = transaction(&env, "Order-S", &[("COF-500", "1", "49.00")], std::slice::from_ref(&card));
    env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap();
    // K4 is deprecated; T1 with the same external id released it (§4.4 [I]/[S]).
    env.adapter.holds().unwrap().release(&ctx(), &hold).await.unwrap();
    assert!(env.probe.stamp_reservations(demo::MEMBER_ID, 17).is_empty());
}

/// SUMMER10 as an offer known only by its id (`coupon:SUMMER10`), without a code.
async fn summer_by_id(env: &Env) -> loyalty_core::Offer {
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    let mut summer = offer(&offers, "coupon:SUMMER10").clone();
    summer.reference = loyalty_core::OfferRef::id("coupon:SUMMER10");
    summer.code = None;
    summer
}

#[tokio::test]
async fn a_coupon_held_by_id_is_released_with_its_coupon_reservation() {
    let env = start().await;
    let summer = summer_by_id(&env).await;
    let holds = env.adapter.holds().unwrap();
    let a = holds
        .hold(&ctx(), &HoldRequest::new(env.member(), summer.clone(), TransactionId::new("Order-A")))
        .await
        .unwrap();
    assert_eq!(env.probe.reservations("SUMMER10"), ["Order-A"]);
    holds.release(&ctx(), &a).await.unwrap();
    assert!(env.probe.reservations("SUMMER10").is_empty());
    // Released even when the hold comes back without its vendor data (an older record).
    let b = holds
        .hold(&ctx(), &HoldRequest::new(env.member(), summer.clone(), TransactionId::new("Order-B")))
        .await
        .unwrap();
    let mut bare = b.clone();
    bare.vendor_data = None;
    holds.release(&ctx(), &bare).await.unwrap();
    holds.hold(&ctx(), &HoldRequest::new(env.member(), summer, TransactionId::new("Order-C"))).await.unwrap();
    assert_eq!(env.probe.reservations("SUMMER10"), ["Order-C"]);
}

#[tokio::test]
async fn a_coupon_used_by_id_is_sent_as_its_plain_code() {
    let env = start().await;
    let summer = summer_by_id(&env).await;
    let tx = transaction(&env, "Order-ID", &[("COF-500", "2", "199.50")], std::slice::from_ref(&summer));
    env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap();
    assert_eq!(body_json(&env, "POST", T1)["coupon_codes"], serde_json::json!(["SUMMER10"]));
    assert_eq!(env.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "SUMMER10"), Some(1));
}

const K3: &str = "/api/v2.0/stores/demo-client/members/m_Ao1bPoZRRV7Y/stamp-cards/17/reserve";
const K4: &str = "/api/v2.0/stores/demo-client/members/m_Ao1bPoZRRV7Y/stamp-cards/17/cancel-reservation";

async fn hold_two_coffees(env: &Env) -> loyalty_core::Result<loyalty_core::Hold> {
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    let card = offer(&offers, "stamp:17").clone();
    let basket = loyalty_core::Basket::new(loyalty_core::Currency::NOK).with_line(loyalty_core::Line::new(
        "l1",
        "COF-500",
        dec("2"),
        nok("49.00"),
    ));
    let request = HoldRequest::new(env.member(), card, TransactionId::new("Order-S")).with_basket(basket);
    env.adapter.holds().unwrap().hold(&ctx(), &request).await
}

#[tokio::test]
async fn a_failed_multi_unit_stamp_hold_releases_what_it_reserved() {
    let env = start().await;
    // The first K3 answers normally, the second is refused.
    env.handle().inject("POST", K3, Fault::Latency(Duration::ZERO), Some(1));
    env.handle().inject("POST", K3, Fault::Status(400), Some(1));
    let err = hold_two_coffees(&env).await.unwrap_err();
    assert_eq!(env.journal().count("POST", K3), 2);
    assert!(env.probe.stamp_reservations(demo::MEMBER_ID, 17).is_empty(), "{err}");
    // Nothing lingers: the next attempt reserves both units.
    env.handle().clear_faults();
    hold_two_coffees(&env).await.unwrap();
    assert_eq!(env.probe.stamp_reservations(demo::MEMBER_ID, 17), ["Order-S", "Order-S"]);
}

#[tokio::test]
async fn a_failed_stamp_hold_whose_release_fails_keeps_the_reserve_error_and_names_both() {
    let env = start().await;
    let plain = {
        env.handle().inject("POST", K3, Fault::Status(400), Some(1));
        let e = hold_two_coffees(&env).await.unwrap_err();
        env.handle().clear_faults();
        e
    };
    env.handle().inject("POST", K3, Fault::Latency(Duration::ZERO), Some(1));
    env.handle().inject("POST", K3, Fault::Status(400), Some(1));
    // The K4 before the hold answers; the release after the failure is refused.
    env.handle().inject("POST", K4, Fault::Latency(Duration::ZERO), Some(1));
    env.handle().inject("POST", K4, Fault::Status(400), Some(1));
    let err = hold_two_coffees(&env).await.unwrap_err();
    assert_eq!(err.kind(), plain.kind(), "{err}");
    assert!(err.message().starts_with(plain.message()), "{err}");
    assert!(err.message().contains("releasing the stamps already reserved failed too"), "{err}");
}

#[tokio::test]
async fn a_stamp_hold_again_drops_the_old_units_first() {
    let env = start().await;
    hold_two_coffees(&env).await.unwrap();
    assert_eq!(env.probe.stamp_reservations(demo::MEMBER_ID, 17).len(), 2);
    // The same order held again (its basket changed; maybe by another instance, or after a
    // restart): Diller is asked to drop the old units first, nothing is remembered in process.
    hold_two_coffees(&env).await.unwrap();
    assert_eq!(env.probe.stamp_reservations(demo::MEMBER_ID, 17).len(), 2);
    assert_eq!(env.journal().count("POST", K4), 2, "one K4 before each hold");
}

#[tokio::test]
async fn stamp_holds_and_releases_still_succeed_once_k4_is_removed() {
    let mut settings = DillerSettings::default();
    settings.k4_removed = true;
    let env = start_with(settings, Duration::from_secs(5)).await;
    let hold = hold_two_coffees(&env).await.unwrap();
    // K4 answers 404: nothing to release here; the units stay until the sale's T1/T2.
    env.adapter.holds().unwrap().release(&ctx(), &hold).await.unwrap();
    assert_eq!(env.journal().count("POST", K4), 2, "before the hold and for the release");
    assert_eq!(env.probe.stamp_reservations(demo::MEMBER_ID, 17), ["Order-S", "Order-S"]);
    let hold = hold_two_coffees(&env).await.unwrap();
    hold_two_coffees(&env).await.unwrap();
    // A multi-unit hold that fails part-way still reports the reserve error alone.
    env.handle().inject("POST", K3, Fault::Status(400), Some(1));
    let err = hold_two_coffees(&env).await.unwrap_err();
    assert!(!err.message().contains("releasing the stamps"), "{err}");
    env.handle().clear_faults();
    env.adapter.holds().unwrap().release(&ctx(), &hold).await.unwrap();
    let tx = transaction(&env, "Order-S", &[("COF-500", "2", "49.00")], &[]);
    env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap();
    assert!(env.probe.stamp_reservations(demo::MEMBER_ID, 17).is_empty());
}

#[tokio::test]
async fn a_k4_answering_405_counts_as_nothing_to_release() {
    let env = start().await;
    let hold = hold_two_coffees(&env).await.unwrap();
    env.handle().inject("POST", K4, Fault::Status(405), Some(1));
    env.adapter.holds().unwrap().release(&ctx(), &hold).await.unwrap();
    // Any other refusal of K4 is still an error.
    env.handle().inject("POST", K4, Fault::Status(403), Some(1));
    let err = env.adapter.holds().unwrap().release(&ctx(), &hold).await.unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::Forbidden, "{err}");
}

// ---------------------------------------------------------------- transactions (checklist 16-21)

#[tokio::test]
async fn sending_a_coupon_raises_times_redeemed() {
    let env = start().await;
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    let summer = offer(&offers, "coupon:SUMMER10").clone();
    let tx = transaction(&env, "Order-C1", &[("BOOK-1", "1", "349.00")], std::slice::from_ref(&summer));
    let receipt = env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap();
    assert_eq!(receipt.outcome, SendOutcome::Recorded);
    assert_eq!(env.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "SUMMER10"), Some(1));
    let body = body_json(&env, "POST", T1);
    assert_eq!(body["coupon_codes"], serde_json::json!(["SUMMER10"]));
    let after = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    assert_eq!(offer(&after, "coupon:SUMMER10").uses_left, Some(0));
}

#[tokio::test]
async fn amounts_are_decimal_major_units_and_lines_follow_the_total_price_rule() {
    let env = start().await;
    let tx = transaction(&env, "Order-349", &[("BOOK-1", "1", "349.00")], &[]);
    env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap();
    let raw = env.journal().entries().into_iter().find(|e| e.path == T1).unwrap().body;
    assert!(raw.contains("\"total\":349.0"), "{raw}");
    assert!(!raw.contains("34900"), "{raw}");
    let body: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body["external_id"], "Order-349");
    assert_eq!(body["currency"], "NOK");
    assert_eq!(body["created_at"], "2026-01-15T13:00:00+01:00");
    let line = &body["details"][0];
    assert_eq!(line["total_price"], serde_json::json!(349.0));
    assert_eq!(line["product"]["external_id"], "BOOK-1");
}

#[tokio::test]
async fn discounted_weighed_line_keeps_quantity_times_price_minus_discount() {
    let env = start().await;
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    let coffee20 = offer(&offers, "coupon:COFFEE20").clone();
    let tx = transaction(&env, "Order-W", &[("COF-500", "2", "199.50")], std::slice::from_ref(&coffee20));
    env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap();
    let line = body_json(&env, "POST", T1)["details"][0].clone();
    let q = dec(&line["quantity"].to_string());
    let p = dec(&line["unit_price"].to_string());
    let d = dec(&line["discount"].to_string());
    let t = dec(&line["total_price"].to_string());
    assert_eq!(q * p - d, t, "{line}");
    assert_eq!(d, dec("79.8"));
}

#[tokio::test]
async fn collected_stamps_are_sent_and_counted() {
    let env = start().await;
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    let card = offer(&offers, "stamp:17").clone();
    let tx = transaction(&env, "Order-K", &[("COF-500", "2", "49.00")], std::slice::from_ref(&card));
    assert_eq!(tx.stamps[0].action, StampAction::Collected);
    env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap();
    assert_eq!(
        body_json(&env, "POST", T1)["stamp_cards"],
        serde_json::json!([{"stamp_card_id": 17, "action": "collected", "count": 2}])
    );
    assert_eq!(env.probe.stamps_collected(demo::MEMBER_ID, 17), Some(2));
}

#[tokio::test]
async fn cancel_reverses_coupons_and_stamps_and_a_second_cancel_is_conflict() {
    let env = start().await;
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    let used = [offer(&offers, "coupon:SUMMER10").clone(), offer(&offers, "stamp:17").clone()];
    let tx = transaction(&env, "Order-1234", &[("COF-500", "1", "49.00")], &used);
    let txs = env.adapter.transactions().unwrap();
    txs.send(&ctx(), &tx).await.unwrap();
    assert_eq!(env.probe.stamps_collected(demo::MEMBER_ID, 17), Some(1));
    txs.cancel(&ctx(), &tx, Some("customer changed mind")).await.unwrap();
    assert_eq!(env.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "SUMMER10"), Some(0));
    assert_eq!(env.probe.stamps_collected(demo::MEMBER_ID, 17), Some(0));
    assert!(env.journal().count("POST", "/api/v2.0/stores/demo-client/transactions/Order-1234/cancel") == 1);
    let again = txs.cancel(&ctx(), &tx, None).await.unwrap_err();
    assert_eq!(again.kind(), &ErrorKind::Conflict);
}

#[tokio::test]
async fn refund_leaves_coupons_and_stamps_alone() {
    let env = start().await;
    let offers = env.adapter.offers().unwrap().list(&ctx(), Some(&env.member()), None).await.unwrap();
    let used = [offer(&offers, "coupon:SUMMER10").clone(), offer(&offers, "stamp:17").clone()];
    let tx = transaction(&env, "Order-R", &[("COF-500", "2", "49.00"), ("BOOK-1", "1", "100.00")], &used);
    let txs = env.adapter.transactions().unwrap();
    txs.send(&ctx(), &tx).await.unwrap();
    let returned = tx.lines[1].clone();
    let refund = Refund::new(
        tx.id.clone(),
        TransactionId::new("Order-R-ret1"),
        Some(env.member()),
        vec![returned.clone()],
        returned.net,
        env.clock.now(),
    );
    let r = txs.refund(&ctx(), &refund).await.unwrap();
    assert_eq!(r.outcome, SendOutcome::Recorded);
    assert_eq!(env.probe.member_coupon_times_redeemed(demo::MEMBER_ID, "SUMMER10"), Some(1));
    assert_eq!(env.probe.stamps_collected(demo::MEMBER_ID, 17), Some(2));
    assert_eq!(env.probe.transaction_refunded("Order-R"), Some(returned.net.to_decimal()));
    let body = body_json(
        &env,
        "POST",
        "/api/v2.0/stores/demo-client/members/m_Ao1bPoZRRV7Y/transactions/Order-R/refund",
    );
    assert!(body.get("coupon_codes").is_none() && body.get("stamp_cards").is_none(), "{body}");
    assert!(dec(&body["total"].to_string()) > dec("0"), "refund amounts are positive");
}

#[tokio::test]
async fn duplicate_send_is_already_recorded_and_sent_only_once_more() {
    let env = start().await;
    let tx = transaction(&env, "Order-D", &[("BOOK-1", "1", "349.00")], &[]);
    let txs = env.adapter.transactions().unwrap();
    assert_eq!(txs.send(&ctx(), &tx).await.unwrap().outcome, SendOutcome::Recorded);
    assert_eq!(txs.send(&ctx(), &tx).await.unwrap().outcome, SendOutcome::AlreadyRecorded);
    assert_eq!(env.journal().count("POST", T1), 2, "no third T1");
}

#[tokio::test]
async fn amend_is_unsupported_and_redemptions_are_absent() {
    let env = start().await;
    let tx = transaction(&env, "Order-X", &[("BOOK-1", "1", "10.00")], &[]);
    assert!(env.adapter.transactions().unwrap().amend(&ctx(), &tx).await.unwrap_err().is_unsupported());
    assert!(env.adapter.redemptions().is_none());
    assert!(env.adapter.carts().is_none() && env.adapter.fulfilment().is_none());
    assert!(env.adapter.capabilities().supports_lookup(LookupKind::ExternalId));
    assert!(env.journal().entries().is_empty());
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn a_503_on_a_read_is_retried() {
    let env = start().await;
    env.handle().inject("GET", "/api/v2.0/stores/demo-client/members/", Fault::Status(503), Some(1));
    let m = env.adapter.members().unwrap().get(&ctx(), &env.member()).await.unwrap();
    assert_eq!(m.id.as_str(), demo::MEMBER_ID);
    assert_eq!(env.journal().count("GET", "/api/v2.0/stores/demo-client/members/"), 2);
}

#[tokio::test]
async fn a_hanging_transaction_is_unknown_and_never_resent() {
    let env = start_with(DillerSettings::default(), Duration::from_millis(400)).await;
    env.handle().inject("POST", T1, Fault::Hang, Some(1));
    let tx = transaction(&env, "Order-H", &[("BOOK-1", "1", "349.00")], &[]);
    let err = env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert_eq!(err.effect(), WriteEffect::Unknown);
    assert_eq!(env.journal().count("POST", T1), 1);
}

#[tokio::test]
async fn a_503_on_a_transaction_is_not_resent() {
    let env = start().await;
    env.handle().inject("POST", T1, Fault::Status(503), Some(1));
    let tx = transaction(&env, "Order-503", &[("BOOK-1", "1", "349.00")], &[]);
    let err = env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::Unknown);
    assert_eq!(env.journal().count("POST", T1), 1);
    // Resending later with the same id is safe.
    let r = env.adapter.transactions().unwrap().send(&ctx(), &tx).await.unwrap();
    assert_eq!(r.outcome, SendOutcome::Recorded);
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let env = start().await;
    env.handle().inject(
        "GET",
        "/api/v2.0/stores/demo-client/segments",
        Fault::TooManyRequests { retry_after_secs: 1 },
        Some(1),
    );
    let started = Instant::now();
    env.adapter.members().unwrap().segments(&ctx()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "waited {:?}", started.elapsed());
    assert_eq!(env.journal().count("GET", "/api/v2.0/stores/demo-client/segments"), 2);
}

#[tokio::test]
async fn a_garbage_reply_is_a_protocol_error() {
    let env = start().await;
    env.handle().inject("GET", "/api/v2.0/stores/demo-client/members/", Fault::MalformedBody, Some(1));
    let err = env.adapter.members().unwrap().get(&ctx(), &env.member()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Protocol);
}

// ---------------------------------------------------------------- setup

#[tokio::test]
async fn setup_lists_stores_departments_and_levels() {
    let env = start().await;
    let stores = env.adapter.stores(&ctx()).await.unwrap();
    assert_eq!(stores[0].id, demo::STORE_ID);
    assert_eq!(stores[0].currency.as_deref(), Some("NOK"));
    let deps = env.adapter.departments(&ctx()).await.unwrap();
    assert!(deps.contains_key(&loyalty_core::DepartmentId::new("web")));
    let levels = env.adapter.membership_levels(&ctx()).await.unwrap();
    assert_eq!(levels.iter().map(|l| l.points).collect::<Vec<_>>(), [0, 1000]);
    let after = env.adapter.create_department(&ctx(), &"pos-2".into(), "Register 2").await.unwrap();
    assert!(after.contains_key(&loyalty_core::DepartmentId::new("pos-2")));
}

#[tokio::test]
async fn deleted_member_is_no_longer_found_and_get_is_not_found() {
    let env = start().await;
    let members = env.adapter.members().unwrap();
    let registered = members
        .register(
            &ctx(),
            &loyalty_core::RegisterMember::new()
                .with_phone(loyalty_core::Phone::new("+47", "90077001"))
                .with_email("leaving@example.com")
                .with_consents(loyalty_core::Consents { membership: true, ..Default::default() }),
        )
        .await
        .unwrap();
    let answer =
        env.adapter.client().delete_member(&ctx(), "members.delete", registered.id.as_str()).await.unwrap();
    assert_eq!(answer.is_ok, Some(true));
    let found = members.find(&ctx(), &MemberLookup::Email("leaving@example.com".into())).await.unwrap();
    assert!(found.is_none(), "a deleted member is not found by search");
    let err = members.get(&ctx(), &registered.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn store_coupon_list_hides_inactive_unless_asked() {
    let env = start().await;
    let client = env.adapter.client();
    let codes = |list: Vec<loyalty_diller::wire::StoreCouponResponse>| -> Vec<String> {
        list.into_iter().filter_map(|c| c.code).collect()
    };
    let active = codes(client.store_coupons(&ctx(), "setup.coupons", false).await.unwrap());
    assert!(active.contains(&demo::COUPON_SUMMER10.to_string()));
    assert!(
        !active.contains(&demo::COUPON_EXPIRED.to_string()),
        "C1 lists only valid coupons by default (§4.3)"
    );
    let all = codes(client.store_coupons(&ctx(), "setup.coupons", true).await.unwrap());
    assert!(all.contains(&demo::COUPON_EXPIRED.to_string()), "alsoInactive=true adds the expired one");
    let q = env.journal().entries().into_iter().rev().find(|e| e.path.ends_with("/coupons")).unwrap().query;
    assert_eq!(q.as_deref(), Some("alsoInactive=true"), "camelCase query name (§1)");
}

#[tokio::test]
async fn store_stamp_card_list_names_both_cards() {
    let env = start().await;
    let cards = env.adapter.client().store_stamp_cards(&ctx(), "setup.stamp_cards", false).await.unwrap();
    let ids: Vec<i64> = cards.iter().filter_map(|c| c.id).collect();
    assert!(ids.contains(&demo::STAMP_CARD_COFFEE) && ids.contains(&demo::STAMP_CARD_LAUNCH), "{ids:?}");
    let coffee = cards.iter().find(|c| c.id == Some(demo::STAMP_CARD_COFFEE)).unwrap();
    assert_eq!((coffee.required_stamps, coffee.is_restartable), (Some(6), Some(true)));
}

#[tokio::test]
async fn dependents_are_replaced_as_a_whole_list() {
    use loyalty_diller::wire::Dependent;
    let env = start().await;
    let client = env.adapter.client();
    let member = demo::MEMBER_ID;
    let before = client.dependents(&ctx(), "members.dependents", member).await.unwrap();
    assert_eq!(before.len(), 1, "the demo member has one dependent");
    // Keep nobody from before, add one new (id 0): the old one is deleted (§4.2 M8).
    let new =
        Dependent { id: 0, name: Some("Emma".into()), birthdate: Some("2021-02-03".into()), gender: None };
    client.set_dependents(&ctx(), "members.dependents", member, &[new]).await.unwrap();
    let after = client.dependents(&ctx(), "members.dependents", member).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].name.as_deref(), Some("Emma"));
    assert_ne!(after[0].id, 0, "the new dependent got an id");
}
