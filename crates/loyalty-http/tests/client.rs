//! Request construction: base URL rules, path joining, query encoding, Basic auth, headers.
#![allow(clippy::result_large_err)] // loyalty_core::Error is large by design

mod common;

use std::sync::Arc;

use axum::http::{header, HeaderMap, Uri};
use axum::Router;
use common::{client, client_with, fast_config, serve};
use loyalty_core::{Context, ErrorKind};
use loyalty_http::{
    default_classify, encode_segment, BasicAuth, Call, HttpClient, HttpConfig, NoAuth, Secret,
};
use url::Url;

/// A server answering every request with its path and query, and echoing selected headers.
async fn echo() -> Url {
    let router = Router::new().fallback(|uri: Uri, headers: HeaderMap| async move {
        let authorization =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let content_type =
            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        axum::Json(serde_json::json!({
            "path_and_query": uri.path_and_query().map(|p| p.as_str()).unwrap_or(""),
            "authorization": authorization,
            "content_type": content_type,
        }))
    });
    serve(router).await
}

async fn echoed(http: &HttpClient, call: Call) -> serde_json::Value {
    http.send(&Context::new(), call).await.unwrap().json("test", "echo").unwrap()
}

#[tokio::test]
async fn basic_auth_sends_base64_of_user_colon_password() {
    let base = echo().await;
    let http = client_with(fast_config(base), Arc::new(BasicAuth::new("user", Secret::new("pass"))));

    let reply = echoed(&http, Call::get("members.get", "/m")).await;
    // RFC 7617 example encoding of "user:pass".
    assert_eq!(reply["authorization"], "Basic dXNlcjpwYXNz");
}

#[test]
fn http_base_url_is_refused_unless_loopback() {
    let new = |url: &str| {
        HttpClient::new(
            "test",
            HttpConfig::new(url.parse().unwrap()),
            Arc::new(NoAuth),
            Arc::new(default_classify),
        )
    };
    let err = new("http://api.example.com/v1").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "base_url"), "{err}");
    assert!(new("https://api.example.com/v1").is_ok());
    assert!(new("http://127.0.0.1:9000/v1").is_ok());
    assert!(new("http://localhost:9000/").is_ok());
    assert!(new("http://[::1]:9000/").is_ok());
}

#[test]
fn a_user_agent_that_is_not_a_header_value_is_invalid_naming_it() {
    let config = HttpConfig::new("https://api.example.com/".parse().unwrap()).with_user_agent("shop\nagent");
    let err = HttpClient::new("test", config, Arc::new(NoAuth), Arc::new(default_classify)).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "user_agent"), "{err}");
}

#[tokio::test]
async fn path_joining_keeps_the_base_path() {
    let base = echo().await;
    let path = format!("/stores/{}/members/search", encode_segment("s/1"));
    for base_path in ["api/v2.0", "api/v2.0/"] {
        let http = client(fast_config(base.join(base_path).unwrap()));
        let reply = echoed(&http, Call::get("members.find", path.clone())).await;
        assert_eq!(reply["path_and_query"], "/api/v2.0/stores/s%2F1/members/search", "base {base_path}");
    }
    let http = client(fast_config(base.join("api").unwrap()));
    let reply = echoed(&http, Call::get("members.find", "members")).await;
    assert_eq!(reply["path_and_query"], "/api/members");
}

#[tokio::test]
async fn query_plus_is_encoded_as_percent_2b_and_space_as_plus() {
    let base = echo().await;
    let http = client(fast_config(base));

    let call = Call::get("members.find", "/members").query("phone", "+47 912").query("email", "a&b=c@x.no");
    let reply = echoed(&http, call).await;
    assert_eq!(reply["path_and_query"], "/members?phone=%2B47+912&email=a%26b%3Dc%40x.no");
}

#[tokio::test]
async fn bodies_carry_their_content_type() {
    let base = echo().await;
    let http = client(fast_config(base));

    let json = echoed(&http, Call::post("a.b", "/x").json(serde_json::json!({}))).await;
    assert_eq!(json["content_type"], "application/json");
    let form = echoed(&http, Call::post("a.b", "/x").form([("k", "v")])).await;
    assert_eq!(form["content_type"], "application/x-www-form-urlencoded");
    let raw = echoed(&http, Call::post("a.b", "/x").raw("text/xml", b"<a/>".to_vec())).await;
    assert_eq!(raw["content_type"], "text/xml");
}

#[test]
fn client_debug_shows_no_secret() {
    let http = client_with(
        fast_config("https://api.example/".parse().unwrap()),
        Arc::new(BasicAuth::new("user", Secret::new("pw-do-not-print"))),
    );
    let debug = format!("{http:?}");
    assert!(debug.contains("api.example"), "{debug}");
    assert!(!debug.contains("pw-do-not-print"), "{debug}");
}

/// A server echoing the `Accept` and `Content-Type` headers and the body of every request.
async fn echo_body() -> Url {
    let router = Router::new().fallback(|headers: HeaderMap, body: String| async move {
        let get = |name: header::HeaderName| {
            headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(", ")
        };
        axum::Json(serde_json::json!({
            "accept": get(header::ACCEPT),
            "content_type": get(header::CONTENT_TYPE),
            "body": body,
        }))
    });
    serve(router).await
}

#[tokio::test]
async fn default_header_is_sent_unless_the_call_sets_its_own() {
    let base = echo_body().await;
    let http = client(fast_config(base).with_default_header("accept", "application/json"));

    let reply = echoed(&http, Call::get("members.get", "/m")).await;
    assert_eq!(reply["accept"], "application/json");
    let reply = echoed(&http, Call::get("members.get", "/m").header("accept", "text/plain")).await;
    assert_eq!(reply["accept"], "text/plain", "the call's own header wins, alone");
}

#[test]
fn default_header_that_cannot_be_sent_is_refused_when_the_client_is_built() {
    let config =
        HttpConfig::new("https://api.example.com/".parse().unwrap()).with_default_header("accept", "a\nb");
    let err = HttpClient::new("test", config, Arc::new(NoAuth), Arc::new(default_classify)).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Invalid { field, .. } if field == "default_headers.accept"),
        "{err}"
    );
}

#[tokio::test]
async fn json_bytes_are_sent_as_they_are_with_the_json_content_type() {
    let base = echo_body().await;
    let http = client(fast_config(base));

    let body = br#"{"z":1,"a":[true]}"#.to_vec();
    let reply = echoed(&http, Call::post("members.find", "/m").json_bytes(body)).await;
    assert_eq!(reply["content_type"], "application/json");
    assert_eq!(reply["body"], r#"{"z":1,"a":[true]}"#, "key order and bytes kept");
}
