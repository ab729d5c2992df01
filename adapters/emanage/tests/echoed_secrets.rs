//! An eManage gateway that quotes the request it refused (its headers, the `X_CID` client id
//! among them) never puts the client id into the error.
#![cfg(feature = "simulator")]

mod common;

use std::time::Duration;

use loyalty_core::{CartId, Context, Provider};
use loyalty_emanage::{CapturePolicy, EmanageAdapter};
use loyalty_sim::emanage::demo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the stub answers: status, content type and body, from the request line, the header
/// block and the body.
type Answer = fn(&str, &str, &str) -> (u16, &'static str, String);

/// A vendor on loopback that answers every request with `answer`.
async fn stub(answer: Answer) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let Some(at) = text.find("\r\n\r\n") else { continue };
                    let head = &text[..at];
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if buf.len() >= at + 4 + len {
                        let body = String::from_utf8_lossy(&buf[at + 4..at + 4 + len]).to_string();
                        let (line, headers) = head.split_once("\r\n").unwrap_or((head, ""));
                        let (status, content_type, reply) = answer(line, headers, &body);
                        let resp = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                            reply.len()
                        );
                        let _ = socket.write_all(resp.as_bytes()).await;
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}/")
}

/// The `{ message }` envelope quoting the request's headers.
fn message(_line: &str, headers: &str, _body: &str) -> (u16, &'static str, String) {
    (
        404,
        "application/json",
        serde_json::json!({ "message": format!("no cart; you sent {headers}") }).to_string(),
    )
}

/// A `modelState` field error quoting the headers.
fn field_error(_line: &str, headers: &str, _body: &str) -> (u16, &'static str, String) {
    let reply =
        serde_json::json!({ "message": "invalid", "modelState": { "cart": [format!("bad {headers}")] } });
    (400, "application/json", reply.to_string())
}

#[tokio::test]
async fn a_client_id_the_vendor_echoes_never_reaches_the_error() {
    for (label, answer) in [("message", message as Answer), ("field error", field_error)] {
        let base = stub(answer).await;
        let config =
            common::config(base.trim_end_matches('/'), Duration::from_secs(5), CapturePolicy::Remainder);
        let adapter = EmanageAdapter::new(config).unwrap();
        let err = adapter.carts().unwrap().get(&Context::new(), &CartId::new("12345")).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("[redacted]"), "{label}: the vendor text is still quoted: {shown}");
        assert!(!shown.contains(demo::CID), "{label}: the client id in {shown}");
    }
}
