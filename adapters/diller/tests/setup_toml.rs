//! `loyalty setup diller` writes vendor text (store, department and segment names) into the
//! TOML it prints: that text stays inside its value or comment, so a vendor name with line
//! breaks can never add settings.
#![cfg(feature = "simulator")]

use loyalty_core::{Context, DepartmentId};

#[tokio::test]
async fn a_department_name_with_line_breaks_stays_in_its_comment() {
    let (adapter, _server) = loyalty_diller::simulated::start().await.unwrap();
    let ctx = Context::new();
    let evil = "Shop\n[serve]\nlisten = \"0.0.0.0:80\"\ncors_origins = [\"*\"]\u{1}";
    adapter.create_department(&ctx, &DepartmentId::new("evil"), evil).await.unwrap();
    let text = adapter.setup_toml(&ctx, "LOYALTY_DILLER_CLIENT_SECRET").await.unwrap();
    let parsed: toml::Table = text.parse().unwrap_or_else(|e| panic!("not TOML: {e}\n{text}"));
    let tables: Vec<&String> = parsed.keys().collect();
    assert_eq!(tables, ["provider", "store"], "vendor text became configuration:\n{text}");
    let line = text.lines().find(|l| l.starts_with("#   evil = ")).expect("the department is listed");
    assert!(line.starts_with('#') && line.contains(r#"Shop\n[serve]"#), "{line}");
}
