//! The capability table in `docs/vendors/sessionm.md` is generated from `capabilities()`; this
//! test fails when they differ. `LOYALTY_UPDATE_DOCS=1` rewrites the block.

mod common;

use loyalty_core::Provider;

#[tokio::test]
async fn docs_capability_table_matches_the_declaration() {
    let env = common::start().await;
    let page = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/vendors/sessionm.md");
    loyalty_conformance::docs::check_capability_table(
        &page,
        "adapters/sessionm/tests/docs.rs",
        env.adapter.capabilities(),
    );
}
