//! `storefront --api http://127.0.0.1:8080 --listen 127.0.0.1:3000`: the example shop on a
//! running `loyalty serve`, its key read from `LOYALTY_SERVE_API_KEY`.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use loyalty_storefront::{app, StorefrontConfig};
use url::Url;

/// The example web shop on `loyalty serve`.
#[derive(Parser)]
#[command(name = "storefront", version)]
struct Args {
    /// Base URL of `loyalty serve`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    api: Url,
    /// Address the shop listens on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The key `loyalty serve` expects (read from the environment so it stays out of `ps`).
    #[arg(long = "api-key-from-env", env = "LOYALTY_SERVE_API_KEY", hide_env_values = true, hide = true)]
    api_key: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("storefront: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(listen = %args.listen, api = %args.api, "storefront ready: http://{}/", args.listen);
    let config = StorefrontConfig { api: args.api, api_key: args.api_key };
    match axum::serve(listener, app(config)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("storefront: {e}");
            ExitCode::FAILURE
        }
    }
}
