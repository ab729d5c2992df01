//! `loyalty demo`: a checkout, a return and a guest sign-up on every provider, each against
//! its embedded default (the memory store, simulators started in-process). No credentials.

use std::process::ExitCode;
use std::sync::Arc;

use loyalty_core::checkout::{Checkout, CheckoutRequest, Delivery, SimulatedPayment};
use loyalty_core::{Consents, Context, Error, LookupKind, Offer, Provider, RegisterMember, ReturnRequest};

use crate::registry::{self, Running};

async fn demo_one(name: &str, running: &Running) -> Result<(), Error> {
    let provider: &dyn Provider = running.provider.as_ref();
    let env = &running.env;
    let caps = provider.capabilities();
    let checkout = Checkout::new(Arc::new(provider), Arc::new(SimulatedPayment::new()), Arc::new(env));
    let ctx = match env.department() {
        Some(d) => Context::new().with_department(d.clone()),
        None => Context::new(),
    };
    println!("== {name} ({})", running.target.label());

    // 1. A member's checkout.
    let lookup = LookupKind::ALL.into_iter().filter(|k| caps.supports_lookup(*k)).find_map(|k| env.lookup(k));
    let offers: Vec<Offer> = match (provider.offers(), caps.list_offers) {
        (Some(o), true) => o.list(&ctx, Some(env.member_id()), None).await?,
        _ => Vec::new(),
    };
    let order_id = env.fresh_transaction_id();
    let mut req = CheckoutRequest::new(order_id.clone(), env.basket().clone());
    if let Some(l) = lookup {
        println!("   identify   {l:?}");
        req = req.identify(l);
    }
    if let Some(c) = offers.iter().find(|o| o.is_basket_coupon() && o.uses_left != Some(0)) {
        println!("   confirm    {} ({})", c.id, c.title);
        req = req.confirm(c.id.clone());
    }
    if let Some(d) = env.department() {
        req = req.department(d.clone());
    }
    let out = checkout.complete(&ctx, &req).await?.into_outcome()?;
    println!(
        "   checkout   {}: gross {} - discount {} = paid {}",
        order_id, out.priced.total_gross, out.priced.total_discount, out.charged
    );
    for line in &out.transaction.lines {
        let by: Vec<String> = line.discounts.iter().map(|d| format!("{} {}", d.offer_id, d.amount)).collect();
        println!(
            "              line {} {} x {}: net {} {}",
            line.line_id,
            line.quantity,
            line.product_id,
            line.net,
            by.join(", ")
        );
    }
    for note in &out.notes {
        println!("              note: {note}");
    }
    match &out.delivery {
        Delivery::Sent(r) => println!("   sent       {:?}", r.outcome),
        Delivery::Pending { reason } => println!("   pending    {reason}"),
        Delivery::Refused { reason } => println!("   refused    {reason}"),
        Delivery::NotSupported => println!("   not sent   (provider takes no transactions)"),
    }

    // 2. A return of one unit of the first line, in the provider's style.
    if caps.send_transaction && !caps.return_styles.is_empty() {
        if let Some(line) = out.transaction.lines.first() {
            let ret = ReturnRequest::new(Some(order_id.clone()), env.fresh_transaction_id(), env.now())
                .with_line(line.line_id.clone(), rust_decimal::Decimal::ONE.min(line.quantity));
            let r = checkout.process_return(&ctx, &ret, None).await?;
            println!(
                "   return     1 x {} as {:?}: refunded {}, stamps taken back {}",
                line.product_id, r.style, r.refunded, r.stamps_taken_back
            );
        }
    }

    // 3. A guest who ticks both consents becomes a member at checkout.
    if caps.register {
        let consents = Consents { membership: true, order_history: true, ..Consents::default() };
        let email = env.fresh_email();
        let mut sign_up = RegisterMember::new()
            .with_phone(env.fresh_phone())
            .with_email(email.clone())
            .with_consents(consents);
        if let Some(d) = env.department() {
            sign_up = sign_up.with_department(d.clone());
        }
        let guest = CheckoutRequest::new(env.fresh_transaction_id(), env.basket().clone()).sign_up(sign_up);
        let guest = match env.department() {
            Some(d) => guest.department(d.clone()),
            None => guest,
        };
        let g = checkout.complete(&ctx, &guest).await?.into_outcome()?;
        println!(
            "   guest      {email} signed up as {:?}, paid {}",
            g.member.map(|m| m.to_string()),
            g.charged
        );
    }
    Ok(())
}

/// Runs the demo on every registered provider; exit 1 if any step failed.
pub fn execute() -> ExitCode {
    let runtime = match registry::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let mut failed = false;
        for entry in registry::adapters() {
            let result = match (entry.embedded)().await {
                Ok(running) => demo_one(entry.name, &running).await,
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                eprintln!("error: {}: {e}", entry.name);
                failed = true;
            }
        }
        if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    })
}
