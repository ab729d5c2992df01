//! `loyalty checkout` and `loyalty return`, through the checkout store the configuration names.
//!
//! The command does not move money: the shop's till or payment service took it. The bridge
//! records the sale (or the return) and its loyalty effects, once per order id.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use clap::Args;
use loyalty_core::checkout::{
    check_id, Authorization, Authorized, CheckoutRequest, Completion, Payment, PaymentKey,
};
use loyalty_core::money::parse_decimal_text;
use loyalty_core::pricing::json::parse_input;
use loyalty_core::{Basket, Context, MemberId, MemberLookup, Money, OfferId, ReturnRequest, TransactionId};

use super::member::phone;
use crate::out;

/// Payment taken outside the bridge (at the till): authorizing and capturing only record it.
struct PaidOutside;

#[async_trait]
impl Payment for PaidOutside {
    async fn authorize(&self, key: &PaymentKey, amount: Money) -> loyalty_core::Result<Authorized> {
        Ok(Authorized::Approved(Authorization { id: format!("outside-{key}"), amount }))
    }
    async fn resume(&self, authorization: &Authorization) -> loyalty_core::Result<Authorized> {
        Ok(Authorized::Approved(authorization.clone()))
    }
    async fn capture(&self, _authorization: &Authorization) -> loyalty_core::Result<()> {
        Ok(())
    }
    async fn void(&self, _authorization: &Authorization) -> loyalty_core::Result<()> {
        Ok(())
    }
    async fn refund(
        &self,
        _a: &Authorization,
        _id: &TransactionId,
        _amount: Money,
    ) -> loyalty_core::Result<()> {
        Ok(())
    }
}

/// Arguments of `loyalty checkout`.
#[derive(Debug, Args)]
pub struct CheckoutArgs {
    /// The basket: the JSON of docs/pricing.md (currency, lines; confirmed offers allowed,
    /// offers come from the provider).
    #[arg(long)]
    basket: PathBuf,
    /// The order id (the idempotency key); a new one when absent.
    #[arg(long)]
    order: Option<String>,
    /// The member's provider id.
    #[arg(long, group = "who")]
    member: Option<String>,
    /// The member's phone, international form.
    #[arg(long, group = "who")]
    phone: Option<String>,
    /// The member's e-mail.
    #[arg(long, group = "who")]
    email: Option<String>,
    /// An offer the customer confirmed (a basket coupon, an offer the provider prices); repeat
    /// for several, in order.
    #[arg(long)]
    confirm: Vec<String>,
    /// Department or store.
    #[arg(long)]
    department: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Reads a basket file (and the offers it confirms); a missing or malformed file is one line
/// and exit 2.
pub fn read_basket(path: &Path) -> Result<(Basket, Vec<OfferId>), ExitCode> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| out::bad_input(format!("cannot read {}: {e}", path.display())))?;
    let request = parse_input(&text).map_err(|e| out::bad_input(format!("{}: {e}", path.display())))?;
    if !request.offers.is_empty() {
        return Err(out::bad_input(format!(
            "{}: offers come from the provider; remove \"offers\" from the basket file",
            path.display()
        )));
    }
    Ok((request.basket, request.confirmed))
}

/// A new order or return id: `{prefix}-` and 128 random bits in hex. Not from the clock: two
/// tills in one millisecond, or a clock set back, would reuse an id, and the checkout store
/// would answer the earlier sale's receipt for the new one (never recording it).
fn new_id(prefix: &str) -> String {
    let mut bits = [0u8; 16];
    // No randomness from the operating system is a broken machine, not an input error.
    getrandom::fill(&mut bits).expect("the operating system gives random bytes");
    let mut id = String::with_capacity(prefix.len() + 33);
    id.push_str(prefix);
    id.push('-');
    for b in bits {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// An order or return id typed as `option`, held to the rule the HTTP service holds it to (it
/// travels there as the `Idempotency-Key`): 1 to 255 visible ASCII characters, so the command
/// line never records an order (`" "`, a tab) the service could not name; exit 2 otherwise.
fn key_id(option: &str, id: &str) -> Result<String, ExitCode> {
    if loyalty_serve::is_valid_idempotency_key(id) {
        return Ok(id.to_string());
    }
    Err(out::bad_input(format!(
        "{option} {id:?}: expected 1 to {} visible ASCII characters",
        loyalty_serve::MAX_IDEMPOTENCY_KEY_LEN
    )))
}

/// Checks a basket out.
pub fn execute(config: &Path, args: &CheckoutArgs) -> ExitCode {
    let order = match args.order.as_deref().map(|o| key_id("--order", o)).transpose() {
        Ok(order) => order.unwrap_or_else(|| new_id("cli")),
        Err(code) => return code,
    };
    let (basket, mut confirmed) = match read_basket(&args.basket) {
        Ok(b) => b,
        Err(code) => return code,
    };
    confirmed.extend(args.confirm.iter().cloned().map(OfferId::new));
    let mut req = CheckoutRequest::new(order, basket);
    for c in confirmed {
        req = req.confirm(c);
    }
    if let Some(id) = &args.member {
        req = req.identify(MemberLookup::ProviderId(MemberId::new(id.clone())));
    } else if let Some(p) = &args.phone {
        match phone(p) {
            Ok(p) => req = req.identify(MemberLookup::Phone(p)),
            Err(e) => return out::bad_input(e),
        }
    } else if let Some(e) = &args.email {
        req = req.identify(MemberLookup::Email(e.clone()));
    }
    if let Some(d) = &args.department {
        req = req.department(d.clone());
    }
    let json = args.json;
    super::with_opened(config, |opened| async move {
        let checkout = opened.checkout(Arc::new(PaidOutside));
        match checkout.complete(&Context::new(), &req).await {
            Ok(c) if json => {
                out::json(&c);
                exit_of(&c)
            }
            Ok(Completion::Completed(o)) => {
                crate::receipt::receipt(opened.provider.name(), &o).iter().for_each(out::line);
                ExitCode::SUCCESS
            }
            Ok(Completion::PriceChanged(c)) => {
                out::line(format!("price changed from {} to {}; nothing recorded", c.old_total, c.new_total));
                c.changes.iter().for_each(|n| out::shown(format!("  {n}")));
                ExitCode::from(1)
            }
            Ok(Completion::ActionRequired { order, .. }) => {
                out::line(format!("order {order}: the payment waits for the customer"));
                ExitCode::from(1)
            }
            Err(e) => out::fail(&e),
        }
    })
}

fn exit_of(c: &Completion) -> ExitCode {
    match c {
        Completion::Completed(_) => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}

/// Arguments of `loyalty return`.
#[derive(Debug, Args)]
pub struct ReturnArgs {
    /// The order the goods were bought in.
    #[arg(long)]
    order: String,
    /// A returned line and quantity, `LINE:QTY` (repeat for several).
    #[arg(long, required = true)]
    line: Vec<String>,
    /// The return's own id (its idempotency key); a new one when absent.
    #[arg(long)]
    return_id: Option<String>,
    /// Why, for the provider.
    #[arg(long)]
    reason: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Processes a return in the provider's style.
pub fn execute_return(config: &Path, args: &ReturnArgs) -> ExitCode {
    // The original order as the HTTP return's `order` is checked; the return id as its key.
    let original = TransactionId::new(args.order.clone());
    if let Err(e) = check_id(&original, "checkout.return", "--order") {
        let reason = match e.kind() {
            loyalty_core::ErrorKind::Invalid { reason, .. } => reason.clone(),
            _ => e.to_string(),
        };
        return out::bad_input(format!("--order {:?}: {reason}", args.order));
    }
    let return_id = match args.return_id.as_deref().map(|r| key_id("--return-id", r)).transpose() {
        Ok(id) => id.unwrap_or_else(|| new_id(&format!("{}-r", args.order))),
        Err(code) => return code,
    };
    let mut req = ReturnRequest::new(Some(original), TransactionId::new(return_id), chrono::Utc::now());
    for spec in &args.line {
        let Some((line, qty)) = spec.split_once(':') else {
            return out::bad_input(format!("--line {spec:?}: expected LINE:QTY, e.g. 1:2"));
        };
        // Read as a quantity in a JSON body is (no exponent, separators or spaces inside).
        let Some(qty) = parse_decimal_text(qty.trim()) else {
            return out::bad_input(format!(
                "--line {spec:?}: {qty:?} is not a quantity (digits, an optional sign and point; no exponent or separators)"
            ));
        };
        req = req.with_line(line.trim(), qty);
    }
    if let Some(r) = &args.reason {
        req = req.with_reason(r.clone());
    }
    let json = args.json;
    super::with_opened(config, |opened| async move {
        let checkout = opened.checkout(Arc::new(PaidOutside));
        match checkout.process_return(&Context::new(), &req, None).await {
            Ok(r) if json => {
                out::json(&r);
                ExitCode::SUCCESS
            }
            Ok(r) => {
                out::line(format!("return    {}", req.return_id));
                out::line(format!(
                    "style     {}",
                    r.style
                        .map(|s| s.label().to_string())
                        .unwrap_or_else(|| "none (the provider never had the sale)".into())
                ));
                out::line(format!("refunded  {}", r.refunded));
                if let Some(t) = &r.new_transaction {
                    out::shown(format!("sent      {t}"));
                }
                for o in &r.reinstated {
                    out::shown(format!("given back {o}"));
                }
                if r.stamps_taken_back > 0 {
                    out::line(format!("stamps    {} taken back", r.stamps_taken_back));
                }
                ExitCode::SUCCESS
            }
            Err(e) => out::fail(&e),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::new_id;

    #[test]
    fn ids_made_at_once_never_repeat_and_never_read_the_clock() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| new_id("cli")).collect();
        assert_eq!(ids.len(), 10_000);
        let one = new_id("o-1-r");
        assert!(one.starts_with("o-1-r-") && one.len() == "o-1-r-".len() + 32, "{one}");
        assert!(one["o-1-r-".len()..].bytes().all(|b| b.is_ascii_hexdigit()), "{one}");
    }
}
