//! Test helpers: a loopback axum server and client shortcuts.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use loyalty_http::{default_classify, Auth, HttpClient, HttpConfig, NoAuth};
use url::Url;

/// Serves `router` on 127.0.0.1:0 and returns its base URL (`http://127.0.0.1:port/`).
pub async fn serve(router: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

/// Settings with short backoff so retry tests run fast.
pub fn fast_config(base: Url) -> HttpConfig {
    HttpConfig::new(base).with_backoff(Duration::from_millis(5), Duration::from_millis(20))
}

/// A client without auth using the default classifier.
pub fn client(config: HttpConfig) -> HttpClient {
    client_with(config, Arc::new(NoAuth))
}

/// A client with `auth` using the default classifier.
pub fn client_with(config: HttpConfig, auth: Arc<dyn Auth>) -> HttpClient {
    HttpClient::new("test", config, auth, Arc::new(default_classify)).unwrap()
}

/// A shared hit counter.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Adds one and returns the new count.
    pub fn hit(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Every log line at TRACE written on this thread while it lives (a thread-local subscriber),
/// for checking that no secret reaches one. A test using it runs in a binary of its own: other
/// tests registering the same callsites at the same moment can leave the call span off.
pub struct TraceLog {
    lines: Arc<std::sync::Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

/// Starts capturing this thread's log lines (see [`TraceLog`]).
pub fn capture_trace() -> TraceLog {
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let writer = LogWriter(lines.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    TraceLog { lines, _guard: tracing::subscriber::set_default(subscriber) }
}

impl TraceLog {
    /// The lines captured so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.lines.lock().unwrap().clone()).unwrap()
    }
}

#[derive(Clone)]
struct LogWriter(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
