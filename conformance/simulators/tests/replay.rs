//! Replay server: serving fixtures and recording requests.

use loyalty_sim::replay::{Fixture, ReplayServer};

fn fixture(name: &str, text: &str) -> Fixture {
    Fixture::parse(name, text).unwrap()
}

#[tokio::test]
async fn replay_serves_first_matching_fixture_ignoring_query() {
    let f = fixture(
        "search",
        "### request\nGET /api/v2.0/stores/demo-store/members/search?phone=%2B4741234567\n\n### response\n200\ncontent-type: application/json\n\n[]\n",
    );
    let s = ReplayServer::start(vec![f]).await.unwrap();
    let url = format!("{}/api/v2.0/stores/demo-store/members/search?email=x", s.base_url());
    for _ in 0..2 {
        let r = reqwest::get(&url).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.text().await.unwrap(), "[]");
    }
    assert_eq!(s.requests().len(), 2);
    assert_eq!(s.requests()[0].query.as_deref(), Some("email=x"));
}

#[tokio::test]
async fn replay_without_match_answers_501_naming_request() {
    let s = ReplayServer::start(vec![]).await.unwrap();
    let r = reqwest::Client::new().delete(format!("{}/nope", s.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 501);
    let t = r.text().await.unwrap();
    assert!(t.contains("DELETE") && t.contains("/nope"), "{t}");
}

#[tokio::test]
async fn replay_records_requests_with_secrets_redacted() {
    let f = fixture(
        "token",
        "### request\nPOST /connect/token\n\n### response\n400\n\n{\"error\":\"invalid_client\"}\n",
    );
    let s = ReplayServer::start(vec![f]).await.unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/connect/token", s.base_url()))
        .basic_auth("demo-client", Some("demo-secret-9f8e7d"))
        .body("grant_type=client_credentials&client_secret=demo-secret-9f8e7d")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let dump = format!("{:?}", s.requests());
    assert!(!dump.contains("demo-secret-9f8e7d"), "{dump}");
    assert!(!dump.contains("ZGVtby1jbGllbnQ6"), "{dump}");
}

#[test]
fn load_dir_reads_http_files_sorted() {
    let scratch = tempfile::Builder::new().prefix("loyalty-sim-fixtures-").tempdir().unwrap();
    let dir = scratch.path();
    std::fs::write(dir.join("b.http"), "### request\nGET /b\n\n### response\n200\n").unwrap();
    std::fs::write(dir.join("a.http"), "### request\nGET /a\n\n### response\n204\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
    let all = Fixture::load_dir(dir).unwrap();
    assert_eq!(all.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), vec!["a", "b"]);
}

#[tokio::test]
async fn replay_prefers_the_fixture_whose_query_matches() {
    // IdoSell routes every gate through one path and tells them apart by `?gate=…`.
    let auth = fixture(
        "auth",
        "### request\nPOST /api/?gate=customerapi%2FAuthenticate%2F1%2Fsoap\n\n### response\n200\n\nauth\n",
    );
    let order = fixture(
        "order",
        "### request\nPOST /api/?gate=customerapi/placeOrder/1/soap\n\n### response\n200\n\norder\n",
    );
    let s = ReplayServer::start(vec![auth, order]).await.unwrap();
    let http = reqwest::Client::new();
    let post = |q: &str| http.post(format!("{}/api/?{q}", s.base_url())).send();
    assert_eq!(
        post("gate=customerapi%2FplaceOrder%2F1%2Fsoap").await.unwrap().text().await.unwrap(),
        "order"
    );
    assert_eq!(post("gate=customerapi/Authenticate/1/soap").await.unwrap().text().await.unwrap(), "auth");
    // No query match: the first fixture of that method and path, as before.
    assert_eq!(post("gate=other").await.unwrap().text().await.unwrap(), "auth");
}
