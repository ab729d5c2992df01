//! The capability table in `docs/vendors/idosell.md` is generated from `capabilities()`; this
//! test fails when they differ. `LOYALTY_UPDATE_DOCS=1` rewrites the block.

use loyalty_core::Provider;
use loyalty_http::Secret;
use loyalty_idosell::{IdosellAdapter, IdosellConfig};

#[test]
fn docs_capability_table_matches_the_declaration() {
    // The declaration does not depend on the configuration; no I/O happens here.
    let config = IdosellConfig::builder()
        .with_base_url("https://hurtownia.example.pl")
        .with_login("docs")
        .with_password(Secret::new("docs"))
        .with_dropshipping_key(Secret::new("docs"))
        .build()
        .expect("config");
    let adapter = IdosellAdapter::new(config).expect("adapter");
    let page = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/vendors/idosell.md");
    loyalty_conformance::docs::check_capability_table(
        &page,
        "adapters/idosell/tests/docs.rs",
        adapter.capabilities(),
    );
}
