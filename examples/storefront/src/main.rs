//! `storefront --api http://127.0.0.1:8080 --listen 127.0.0.1:3000`: the example shop on a
//! running `loyalty serve`, its key read from `LOYALTY_SERVE_API_KEY`.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use loyalty_storefront::{app, StorefrontConfig};
use url::Url;

/// The example web shop on `loyalty serve`.
#[derive(Parser)]
#[command(name = "storefront", version, after_help = "The API key is read from LOYALTY_SERVE_API_KEY.")]
struct Args {
    /// Base URL of `loyalty serve`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    api: Url,
    /// Address the shop listens on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
}

/// The variable holding the key `loyalty serve` expects (never a flag: it would show in `ps`).
const KEY_ENV: &str = "LOYALTY_SERVE_API_KEY";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let Some(api_key) = std::env::var(KEY_ENV).ok().filter(|k| !k.is_empty()) else {
        eprintln!("storefront: set {KEY_ENV} to the key `loyalty serve` was started with");
        return ExitCode::from(2);
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("storefront: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(listen = %args.listen, api = %args.api, "storefront ready: http://{}/", args.listen);
    let config = StorefrontConfig { api: args.api, api_key };
    match axum::serve(listener, app(config)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("storefront: {e}");
            ExitCode::FAILURE
        }
    }
}
