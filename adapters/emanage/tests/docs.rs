//! The capability table in `docs/vendors/emanage.md` is generated from `capabilities()`; this
//! test fails when they differ. `LOYALTY_UPDATE_DOCS=1` rewrites the block.

use loyalty_core::Provider;
use loyalty_emanage::{EmanageAdapter, EmanageConfig};
use loyalty_http::Secret;

#[test]
fn docs_capability_table_matches_the_declaration() {
    // The declaration depends on nothing in the configuration.
    let config = EmanageConfig::builder()
        .with_base_url("https://sales.example/api")
        .with_cid(Secret::new("11111111-2222-4333-8444-555555555555"))
        .with_web_key("a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
        .with_currency("USD")
        .build()
        .unwrap();
    let adapter = EmanageAdapter::new(config).unwrap();
    let page = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/vendors/emanage.md");
    loyalty_conformance::docs::check_capability_table(
        &page,
        "adapters/emanage/tests/docs.rs",
        adapter.capabilities(),
    );
}
