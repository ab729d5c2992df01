//! A bare vendor on loopback that answers every request with a function of it: for tests of
//! what an adapter does with replies no simulator gives (a gateway that quotes the refused
//! request back, credentials included). One request per connection, `connection: close`.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The reply to one request: status, content type and body.
pub type Reply = (u16, &'static str, String);

/// Starts the stub and returns its base URL (`http://127.0.0.1:port/`). `answer` gets the
/// request line, the header block and the body (read as far as `content-length` says).
///
/// # Errors
/// When no loopback port can be bound.
pub async fn serve<F>(answer: F) -> std::io::Result<String>
where
    F: Fn(&str, &str, &str) -> Reply + Send + Sync + Copy + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
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
                            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
                             connection: close\r\n\r\n{reply}",
                            reply.len()
                        );
                        let _ = socket.write_all(resp.as_bytes()).await;
                        return;
                    }
                }
            });
        }
    });
    Ok(format!("http://{addr}/"))
}
