//! The OpenAPI document: generated from the code, equal to the committed `docs/openapi.json`
//! (so an API change shows in review), valid against the OpenAPI 3.1 schema, and served at
//! `/openapi.json` behind the key.

use std::sync::Arc;

use loyalty_config::Opened;
use loyalty_core::checkout::MemoryCheckoutStore;
use loyalty_serve::{openapi_json, router, ApiKey, ServeSettings};
use serde_json::Value;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
/// The OpenAPI Initiative's JSON Schema for 3.1 documents (spec.openapis.org/oas/3.1/schema/2022-10-07).
const OAS_31_SCHEMA: &str = include_str!("data/oas-3.1-schema-2022-10-07.json");

fn generated() -> Value {
    serde_json::from_str(&openapi_json()).unwrap()
}

#[test]
fn the_committed_document_is_the_generated_one() {
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == openapi_json(),
        "docs/openapi.json differs from the code's document; regenerate it with\n  \
         cargo run -p loyalty-cli -- serve --print-openapi > docs/openapi.json\nand review the change"
    );
}

#[test]
fn the_document_validates_against_the_openapi_3_1_schema() {
    let schema: Value = serde_json::from_str(OAS_31_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let doc = generated();
    let errors: Vec<String> =
        validator.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(doc["openapi"], "3.1.0");
    // The validator can fail: a document missing `info` is refused.
    let mut broken = doc.clone();
    broken.as_object_mut().unwrap().remove("info");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn every_reference_resolves_and_every_write_names_its_key() {
    let doc = generated();
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = &r[..r.find('"').unwrap()];
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("odd ref {target}"));
        assert!(schemas.contains_key(name), "{target} does not resolve");
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let params: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| ps.iter().map(|p| p["name"].as_str().unwrap()).collect())
                .unwrap_or_default();
            let is_write = (method == "post" || method == "patch")
                && !["/v1/offers", "/v1/price"].contains(&path.as_str());
            assert_eq!(params.contains(&"Idempotency-Key"), is_write, "{method} {path}");
            let open = op.get("security").is_some_and(|s| s == &serde_json::json!([{}]));
            assert_eq!(open, path == "/health", "{method} {path}: only /health is open");
        }
    }
    assert!(doc["components"]["securitySchemes"]["api_key"]["scheme"] == "bearer");
    for name in ["Problem", "Member", "Prepared", "Completion", "PricedBasket", "Offer", "Money"] {
        assert!(schemas.contains_key(name), "schema {name}");
    }
}

#[tokio::test]
async fn the_document_is_served_behind_the_key() {
    let key = "openapi-test-key-0123456789";
    let opened =
        Opened::new(Arc::new(loyalty_memory::MemoryProvider::demo()), Arc::new(MemoryCheckoutStore::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(opened, ServeSettings::new(ApiKey::new(key).unwrap()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{base}/openapi.json")).send().await.unwrap().status(), 401);
    let served: Value =
        http.get(format!("{base}/openapi.json")).bearer_auth(key).send().await.unwrap().json().await.unwrap();
    assert_eq!(served, generated());
}

/// The problem answers a path lists include every status its handler can give: a prepare or a
/// commit on a provider without the lookup it needs (an eManage-backed serve asked for a
/// phone) is 501, a member or offer the vendor does not know 404; a body-less write still
/// refuses a body declared as something other than JSON (415); a path parameter that does not
/// read is 400.
#[test]
fn each_path_lists_the_problem_statuses_its_handler_can_answer() {
    let doc = generated();
    let listed = |path: &str, method: &str, statuses: &[&str]| {
        let responses = doc["paths"][path][method]["responses"].as_object().unwrap();
        for status in statuses {
            assert!(responses.contains_key(*status), "{method} {path} does not list {status}");
        }
    };
    for path in ["/v1/checkouts/{order}/prepare", "/v1/checkouts/{order}/commit"] {
        listed(path, "post", &["400", "404", "409", "413", "415", "422", "501"]);
    }
    // A write that takes no body still reads one to refuse it: 400 naming `body`, 413, 415.
    listed("/v1/checkouts/{order}/abort", "post", &["400", "404", "409", "413", "415", "422"]);
    // A resend under a key first used on another endpoint is 422, as on every write.
    listed("/v1/pending/resend", "post", &["400", "409", "413", "415", "422"]);
    listed("/v1/returns", "post", &["400", "404", "409", "413", "415", "422", "501"]);
    listed("/v1/members/{id}", "get", &["400", "404", "422", "501"]);
    listed("/v1/checkouts/{order}", "get", &["400", "404"]);
    listed("/v1/offers", "post", &["400", "404", "409", "422", "501"]);
}
