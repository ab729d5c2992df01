//! A provider opened from a `loyalty.toml` takes turns through its checkout store's leases:
//! two instances on one store (and one IdoSell account) share the wholesaler's one basket.

use chrono::TimeDelta;

#[tokio::test]
async fn the_configured_provider_uses_the_stores_leases() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("checkout.db").display());
    let text = format!("[provider]\nkind = \"memory\"\n[store]\nurl = \"{url}\"\n");
    let opened = loyalty_config::parse(&text, "inline").unwrap().open().await.unwrap();
    // Another instance's handle on the same store sees the leases taken through `opened`.
    let other = loyalty_store::open_shared(&url).await.unwrap();
    let (now, later) = (chrono::Utc::now(), chrono::Utc::now() + TimeDelta::hours(1));
    assert!(opened.locks.take("n", "a/1", later, now).await.unwrap());
    assert!(!other.locks.take("n", "b/1", later, now).await.unwrap());
}

/// IdoSell's basket lease, held by another instance on the same store, keeps a configured
/// IdoSell provider from touching the basket (nothing is sent: the wholesaler at port 9 is
/// never reached).
#[cfg(feature = "idosell")]
#[tokio::test]
async fn a_configured_idosell_provider_waits_for_the_basket_another_instance_holds() {
    use loyalty_core::{Address, Context, DropshipOrder, Recipient, WriteEffect};
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("checkout.db").display());
    let text = format!(
        "[provider]\nkind = \"idosell\"\nbase_url = \"http://127.0.0.1:9\"\nlogin = \"shop-a\"\n\
         password_sha1 = \"{}\"\ndropshipping_key = \"k\"\n\
         billing_company = \"Shop\"\nbilling_tax_id = \"PL1234567890\"\nbilling_street = \"Prosta 1\"\n\
         billing_postcode = \"00-001\"\nbilling_city = \"Warszawa\"\nbilling_country = \"PL\"\n\
         [store]\nurl = \"{url}\"\n",
        "a".repeat(40)
    );
    let opened = loyalty_config::parse(&text, "inline").unwrap().open().await.unwrap();
    let other = loyalty_store::open_shared(&url).await.unwrap();
    let now = chrono::Utc::now();
    assert!(other
        .locks
        .take("idosell:basket:127.0.0.1:9:shop-a", "other-instance/1", now + TimeDelta::hours(1), now)
        .await
        .unwrap());

    let recipient = Recipient::new(
        "Anna Nowak",
        Address {
            street: Some("ul. Prosta 5".into()),
            city: Some("Warszawa".into()),
            zip_code: Some("00-838".into()),
            state: None,
            country_code: Some("PL".into()),
        },
    );
    let order = DropshipOrder::new("CFG-1", recipient, "1".to_string()).with_line("COF-500", 1.into());
    let ctx = Context::new().with_deadline(tokio::time::Instant::now() + Duration::from_millis(300));
    let fulfilment = opened.provider.fulfilment().expect("IdoSell fulfils");
    let err = fulfilment.place_order(&ctx, &order).await.unwrap_err();
    assert_eq!(err.effect(), WriteEffect::NotSent, "{err}");
    assert!(err.message().contains("basket is busy"), "{err}");
}
