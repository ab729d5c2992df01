//! An example web shop on `loyalty serve` (docs/serve.md): a catalogue, a registration page
//! built from the provider's segments, a "my page" with points, tier, stamp cards and coupons,
//! a checkout that offers coupons and validates them just before "buy" (prepare), a guest
//! checkout whose two consent boxes enrol the customer, and a receipt with the discounts per
//! line.
//!
//! The shop talks to the bridge over HTTP only, as a shop in another language would: bearer
//! key on every call, an `Idempotency-Key` on every write (the order id for checkout writes, a
//! key rendered into the registration form so a double submit replays). Pages are rendered on
//! the server with `format!`; every value from the API or the shopper is HTML-escaped.
//!
//! ```no_run
//! use loyalty_storefront::{app, StorefrontConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = StorefrontConfig {
//!     api: "http://127.0.0.1:8080/".parse()?,
//!     api_key: std::env::var("LOYALTY_SERVE_API_KEY")?,
//! };
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app(config)).await?;
//! # Ok(())
//! # }
//! ```
//!
//! The cart and the logged-in member live in cookies; logging in by phone or e-mail alone is
//! a demo shortcut the login page says so.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod api;
mod html;
mod pages;
mod shop;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::Router;
use url::Url;

pub use html::escape;
pub use shop::{product, Product, CATALOGUE};

/// Where the shop finds `loyalty serve`.
#[derive(Clone)]
pub struct StorefrontConfig {
    /// Base URL of the API (`http://127.0.0.1:8080`); paths are joined below it.
    pub api: Url,
    /// The key sent as `Authorization: Bearer`.
    pub api_key: String,
}

impl std::fmt::Debug for StorefrontConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorefrontConfig")
            .field("api", &self.api.as_str())
            .field("api_key", &"[redacted]")
            .finish()
    }
}

/// The shop's routes: `/`, `/cart`, `/register`, `/login`, `/me`, `/checkout`,
/// `/receipt/{order}` and the form targets behind them.
pub fn app(config: StorefrontConfig) -> Router {
    let mut base = config.api;
    // `join` replaces the last path segment unless the base ends with a slash.
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    let shop = Arc::new(pages::Shop {
        api: api::Api::new(base, config.api_key),
        receipts: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/", get(pages::catalogue))
        .route("/cart", get(pages::cart_page))
        .route("/cart/add", post(pages::cart_add))
        .route("/cart/remove", post(pages::cart_remove))
        .route("/register", get(pages::register_page).post(pages::register_submit))
        .route("/login", get(pages::login_page).post(pages::login_submit))
        .route("/logout", post(pages::logout))
        .route("/me", get(pages::my_page))
        .route("/checkout", get(pages::checkout_page))
        .route("/checkout/review", post(pages::review))
        .route("/checkout/abort", post(pages::abort))
        .route("/checkout/buy", post(pages::buy))
        .route("/receipt/{order}", get(pages::receipt))
        .with_state(shop)
}
