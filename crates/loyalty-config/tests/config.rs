//! A `loyalty.toml` opens the provider it names: errors name the key and the file, secrets come
//! from the variables the file names, and switching provider is editing the file.

use std::sync::Arc;

use loyalty_core::checkout::{CheckoutRequest, SimulatedPayment};
use loyalty_core::{Context, ErrorKind, MemberLookup, Phone};

fn field_of(e: &loyalty_core::Error) -> String {
    match e.kind() {
        ErrorKind::Invalid { field, .. } => field.clone(),
        other => panic!("expected Invalid, got {other:?}: {e}"),
    }
}

#[test]
fn an_unknown_section_is_named_with_the_file() {
    let e = loyalty_config::parse("[provider]\nkind = \"memory\"\n[provder]\n", "shop.toml").unwrap_err();
    assert_eq!(field_of(&e), "provder");
    assert!(e.to_string().contains("shop.toml"), "{e}");
}

#[test]
fn an_unknown_provider_key_is_named_with_the_file() {
    let config =
        loyalty_config::parse("[provider]\nkind = \"memory\"\ndemo = true\ncolour = 1\n", "shop.toml")
            .unwrap();
    let e = config.provider().err().expect("refused");
    assert_eq!(field_of(&e), "provider.colour");
    assert!(e.to_string().contains("shop.toml"), "{e}");
}

#[test]
fn an_unknown_kind_lists_the_kinds_this_build_has() {
    let config = loyalty_config::parse("[provider]\nkind = \"acme\"\n", "shop.toml").unwrap();
    let e = config.provider().err().expect("refused");
    assert_eq!(field_of(&e), "provider.kind");
    assert!(e.to_string().contains("memory") && e.to_string().contains("diller"), "{e}");
}

#[test]
fn a_missing_secret_names_the_variable() {
    let text = "[provider]\nkind = \"diller\"\nbase_url = \"https://api.example\"\nclient_id = \"c\"\n\
                client_secret_env = \"LOYALTY_TEST_UNSET_SECRET_42\"\nstore_id = \"s\"\n";
    let config = loyalty_config::parse(text, "shop.toml").unwrap();
    let e = config.provider().err().expect("refused");
    assert!(e.to_string().contains("LOYALTY_TEST_UNSET_SECRET_42"), "{e}");
    assert!(e.to_string().contains("shop.toml"), "{e}");
}

#[test]
fn an_empty_secret_variable_is_named_like_an_unset_one() {
    // A name no other test uses: the variable is set for this process only.
    std::env::set_var("LOYALTY_TEST_EMPTY_SECRET_43", "");
    let text = "[provider]\nkind = \"diller\"\nbase_url = \"https://api.example\"\nclient_id = \"c\"\n\
                client_secret_env = \"LOYALTY_TEST_EMPTY_SECRET_43\"\nstore_id = \"s\"\n";
    let config = loyalty_config::parse(text, "shop.toml").unwrap();
    let e = config.provider().err().expect("refused");
    assert_eq!(field_of(&e), "provider.client_secret_env");
    let message = e.to_string();
    assert!(message.contains("LOYALTY_TEST_EMPTY_SECRET_43") && message.contains("empty"), "{message}");
    assert!(message.contains("shop.toml"), "{message}");
}

#[test]
fn a_toml_error_is_one_line_with_the_reason_the_place_and_the_file() {
    let e = loyalty_config::parse("[provider]\nkind = memory\n", "shop.toml").unwrap_err();
    assert_eq!(field_of(&e), "config");
    let message = e.to_string();
    assert!(!message.contains('\n'), "one line: {message:?}");
    assert!(message.contains("line 2, column 8"), "{message}");
    assert!(message.contains("shop.toml"), "{message}");
    // The reason, not only the place: toml says what it expected.
    let reason = message.split("column 8:").nth(1).unwrap_or_default();
    assert!(reason.trim().len() > "(in shop.toml)".len(), "{message}");
}

#[test]
fn an_unknown_checkout_or_store_key_is_named() {
    let e = loyalty_config::parse("[provider]\nkind = \"memory\"\n[store]\npath = \"x\"\n", "a.toml")
        .unwrap_err();
    assert_eq!(field_of(&e), "store.path");
    let e = loyalty_config::parse("[provider]\nkind = \"memory\"\n[checkout]\nlease = 5\n", "a.toml")
        .unwrap_err();
    assert_eq!(field_of(&e), "checkout.lease");
}

#[test]
fn a_missing_file_is_one_clear_error() {
    let e = loyalty_config::load("/nonexistent/loyalty.toml").unwrap_err();
    assert_eq!(field_of(&e), "config");
    assert!(e.to_string().contains("/nonexistent/loyalty.toml"), "{e}");
}

/// The shop's code: the same whatever the file names.
async fn member_checkout(
    opened: &loyalty_config::Opened,
    phone: Phone,
    order: &str,
) -> loyalty_core::checkout::CheckoutOutcome {
    let checkout = opened.checkout(Arc::new(SimulatedPayment::new()));
    let basket = loyalty_core::Basket::new(loyalty_core::Currency::NOK).with_line(loyalty_core::Line::new(
        "1",
        "COF-500",
        rust_decimal::Decimal::ONE,
        loyalty_core::Money::new(12_900, loyalty_core::Currency::NOK),
    ));
    let req = CheckoutRequest::new(order, basket).identify(MemberLookup::Phone(phone));
    checkout.complete(&Context::new(), &req).await.unwrap().into_outcome().unwrap()
}

#[tokio::test]
async fn switching_provider_is_editing_the_file() {
    let scratch = tempfile::Builder::new().prefix("loyalty-config-").tempdir().unwrap();
    let dir = scratch.path();
    let sim = loyalty_diller::simulated::start_with(Default::default(), loyalty_sim::SimClock::real())
        .await
        .unwrap();
    std::env::set_var("LOYALTY_TEST_DILLER_SECRET", loyalty_sim::diller::demo::CLIENT_SECRET);
    let store = |name: &str| format!("[store]\nurl = \"sqlite:{}\"\n", dir.join(name).display());
    let memory = format!("[provider]\nkind = \"memory\"\n{}", store("memory.db"));
    let diller = format!(
        "[provider]\nkind = \"diller\"\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"LOYALTY_TEST_DILLER_SECRET\"\n\
         store_id = \"{}\"\ndepartment_id = \"{}\"\n{}",
        sim.server.base_url(),
        loyalty_sim::diller::demo::CLIENT_ID,
        loyalty_sim::diller::demo::STORE_ID,
        loyalty_sim::diller::demo::DEPARTMENT_ID,
        store("diller.db"),
    );
    let path = dir.join("loyalty.toml");
    std::fs::write(&path, &memory).unwrap();
    let opened = loyalty_config::open(&path).await.unwrap();
    assert_eq!(opened.provider.name(), "memory");
    let out = member_checkout(&opened, Phone::new("+47", loyalty_memory::demo::MEMBER_PHONE), "sw-1").await;
    assert!(out.member.is_some());
    std::fs::write(&path, &diller).unwrap();
    let opened = loyalty_config::open(&path).await.unwrap();
    assert_eq!(opened.provider.name(), "diller");
    let out = member_checkout(&opened, Phone::new("+47", "41234567"), "sw-2").await;
    assert_eq!(out.member.as_ref().map(|m| m.as_str()), Some(loyalty_sim::diller::demo::MEMBER_ID));
    assert!(sim.probe.transaction_exists("sw-2"));
}

#[test]
fn debug_shows_no_inline_secret_and_no_store_password() {
    let text = "[provider]\nkind = \"diller\"\nclient_secret = \"hunter2-inline\"\n\n[store]\nurl = \"postgres://shop:pg-pass-9@db.internal/loyalty?sslmode=require&password=q-pass\"\n";
    let config = loyalty_config::parse(text, "loyalty.toml").unwrap();
    let shown = format!("{config:?}");
    for secret in ["hunter2-inline", "pg-pass-9", "q-pass", "shop:"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("client_secret") && shown.contains("db.internal/loyalty"), "{shown}");
}
