//! `loyalty serve`: the configured provider and checkout store as a local JSON service
//! (docs/serve.md).

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use loyalty_serve::{ServeSettings, DEFAULT_LISTEN};

use crate::out;

/// Arguments of `loyalty serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen (overrides `[serve] listen`; default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Print the OpenAPI document and exit (no configuration needed).
    #[arg(long)]
    print_openapi: bool,
}

/// Serves until Ctrl-C or SIGTERM.
pub fn execute(config: &Path, args: &ServeArgs) -> ExitCode {
    if args.print_openapi {
        out::line(loyalty_serve::openapi_json().trim_end());
        return ExitCode::SUCCESS;
    }
    let loaded = match loyalty_config::load(config) {
        Ok(c) => c,
        Err(e) => return out::fail(&e),
    };
    let settings = match ServeSettings::from_config(loaded.serve.as_ref()) {
        Ok(s) => s,
        Err(e) => return out::fail(&loyalty_config::naming_file(e, &loaded.source)),
    };
    let listen =
        args.listen.or(settings.listen).unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a valid default"));
    let runtime = match crate::ops::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let opened = match loaded.open().await {
            Ok(o) => o,
            Err(e) => return out::fail(&e),
        };
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                out::error_line(format!("cannot listen on {listen}: {e}"));
                return ExitCode::from(1);
            }
        };
        let provider = opened.provider.name().to_string();
        // The address bound, so `--listen 127.0.0.1:0` tells the caller the port it got.
        let bound = listener.local_addr().map_or_else(|_| listen.to_string(), |a| a.to_string());
        out::line(format!("loyalty serve: {provider} on http://{bound} (GET /health is open; everything else needs the API key)"));
        match loyalty_serve::serve(listener, opened, settings, shutdown()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                out::error_line(format!("serving stopped: {e}"));
                ExitCode::from(1)
            }
        }
    })
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
