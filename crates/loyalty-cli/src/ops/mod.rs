//! Single operations a shop's support desk needs, against the provider a `loyalty.toml` names:
//! `member find|register`, `offers`, `checkout`, `return`, `pending`, `resend`. Each prints a
//! readable summary, or JSON with `--json`.

pub mod checkout;
pub mod member;
pub mod offers;
pub mod outbox;

use std::path::Path;
use std::process::ExitCode;

use loyalty_config::Opened;

/// Runs `f` on a runtime with the configuration at `path` opened; one error line otherwise.
pub fn with_opened<F, Fut>(path: &Path, f: F) -> ExitCode
where
    F: FnOnce(Opened) -> Fut,
    Fut: std::future::Future<Output = ExitCode>,
{
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        match loyalty_config::open(path).await {
            Ok(opened) => f(opened).await,
            Err(e) => crate::out::fail(&e),
        }
    })
}

/// The async runtime every command that talks to a provider runs on; failing to start it is
/// one error line and exit 1 (nothing the caller typed was wrong).
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| {
        crate::out::error_line(format!("cannot start the async runtime: {e}"));
        ExitCode::from(1)
    })
}
