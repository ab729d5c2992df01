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
use loyalty_core::Money;

/// Runs `f` on a runtime with the configuration at `path` opened; one error line otherwise.
pub fn with_opened<F, Fut>(path: &Path, f: F) -> ExitCode
where
    F: FnOnce(Opened) -> Fut,
    Fut: std::future::Future<Output = ExitCode>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return crate::out::bad_input(format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async {
        match loyalty_config::open(path).await {
            Ok(opened) => f(opened).await,
            Err(e) => crate::out::fail(&e),
        }
    })
}

/// An amount as a receipt shows it: `129.00 NOK`.
pub fn money(m: Money) -> String {
    m.to_string()
}
