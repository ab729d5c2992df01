//! `loyalty pending` (the outbox) and `loyalty resend`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use loyalty_core::checkout::{CheckoutState, Delivery, SimulatedPayment};
use loyalty_core::Context;

use crate::out;

/// Arguments of `loyalty pending` and `loyalty resend`.
#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Lists sales charged but not yet accepted by the provider.
pub fn pending(config: &Path, args: &OutboxArgs) -> ExitCode {
    let json = args.json;
    super::with_opened(config, |opened| async move {
        match opened.store.list(&[CheckoutState::Pending]).await {
            Ok(records) if json => {
                let rows: Vec<serde_json::Value> = records
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "order": r.order,
                            "total": r.transaction.as_ref().map(|t| t.total.to_string()),
                            "attempts": r.send_attempts,
                            "next_attempt": r.due_at,
                            "reason": r.outcome.as_ref().and_then(|o| match &o.delivery {
                                Delivery::Pending { reason } => Some(reason.clone()),
                                _ => None,
                            }),
                        })
                    })
                    .collect();
                out::json(&rows);
                ExitCode::SUCCESS
            }
            Ok(records) if records.is_empty() => {
                out::line("the outbox is empty");
                ExitCode::SUCCESS
            }
            Ok(records) => {
                for r in records {
                    let total = r.transaction.as_ref().map(|t| t.total.to_string()).unwrap_or_default();
                    let next =
                        r.due_at.map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_default();
                    out::line(format!("{}  {total}  {} attempts, next {next}", r.order, r.send_attempts));
                }
                ExitCode::SUCCESS
            }
            Err(e) => out::fail(&e),
        }
    })
}

/// Sends every pending sale again now, under its own id.
pub fn resend(config: &Path, args: &OutboxArgs) -> ExitCode {
    let json = args.json;
    super::with_opened(config, |opened| async move {
        // Resending moves no money: the payment service is never called.
        let checkout = opened.checkout(Arc::new(SimulatedPayment::new()));
        let results = checkout.resend_pending(&Context::new()).await;
        let mut failed = false;
        let mut rows = Vec::new();
        for (order, result) in results {
            let (status, detail, attention) = row_of(result);
            failed |= attention;
            rows.push((order, status, detail));
        }
        if json {
            let v: Vec<_> = rows
                .iter()
                .map(|(o, s, d)| serde_json::json!({"order": o, "status": s, "detail": d}))
                .collect();
            out::json(&v);
        } else if rows.is_empty() {
            out::line("the outbox is empty");
        } else {
            for (o, s, d) in &rows {
                out::line(format!("{o}  {s}  {}", out::safe_line(d)));
            }
        }
        if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    })
}

/// A resend's line: its status, the reason, and whether someone must act (still pending, refused
/// for good, or failed), which makes `loyalty resend` exit 1 for scripts.
fn row_of(result: loyalty_core::Result<Delivery>) -> (&'static str, String, bool) {
    match result {
        Ok(Delivery::Sent(_)) | Ok(Delivery::NotSupported) => ("sent", String::new(), false),
        Ok(Delivery::Pending { reason }) => ("pending", reason, true),
        // Out of the outbox, but the vendor will never have the sale.
        Ok(Delivery::Refused { reason }) => ("refused", reason, true),
        Err(e) => ("error", e.to_string(), true),
    }
}

#[cfg(test)]
mod tests {
    use loyalty_core::{Error, ErrorKind};

    use super::*;

    #[test]
    fn a_send_refused_for_good_or_still_pending_needs_someone() {
        assert!(!row_of(Ok(Delivery::NotSupported)).2);
        assert!(row_of(Ok(Delivery::Refused { reason: "unknown member".into() })).2);
        assert!(row_of(Ok(Delivery::Pending { reason: "vendor down".into() })).2);
        let (status, _, attention) =
            row_of(Err(Error::new(ErrorKind::Unavailable, "memory", "transactions.send")));
        assert_eq!((status, attention), ("error", true));
    }
}
