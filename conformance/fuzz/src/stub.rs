//! A loopback HTTP/1 stub for decoders that sit behind a transport the adapter does not own
//! (the OAuth2 token reply is read inside `loyalty-http`): the target points the adapter at
//! the stub, sets the raw reply, and makes a real call.
//!
//! One thread, one connection at a time, `Connection: close` on every reply; only loopback.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex},
    time::Duration,
};

/// What the stub answers on each path prefix: `(prefix, status, body)`; the first match wins,
/// anything else is a 404.
type Routes = Vec<(String, u16, Vec<u8>)>;

/// A running stub; the thread lives as long as the process (fuzz runs are one process).
#[derive(Debug, Clone)]
pub struct Stub {
    base_url: String,
    routes: Arc<Mutex<Routes>>,
}

impl Stub {
    /// Starts a stub on 127.0.0.1 (ephemeral port).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start() -> Stub {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let shared = routes.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let routes = shared.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let _ = answer(stream, &routes);
            }
        });
        Stub { base_url, routes }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Answers requests whose path starts with `prefix` with `status` and `body` (replacing an
    /// earlier answer for the same prefix).
    pub fn answer(&self, prefix: &str, status: u16, body: &[u8]) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes.retain(|(p, _, _)| p != prefix);
        routes.push((prefix.to_string(), status, body.to_vec()));
    }
}

fn answer(stream: TcpStream, routes: &Routes) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    reader.read_exact(&mut body)?;
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = routes
        .iter()
        .find(|(prefix, _, _)| path.starts_with(prefix.as_str()))
        .map_or((404, &[][..]), |(_, s, b)| (*s, b.as_slice()));
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} Stub\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(body)?;
    out.flush()
}
