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
