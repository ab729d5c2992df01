//! Checklist 15 from the adapter's side, through the core returns flow: `send_transaction` is an
//! upsert where the newest `modified_time` wins and an equal or older one is silently dropped
//! (§7.5, §8.3), so every new version of a sale (a second return after a first) must carry a
//! strictly later `modified_time` than the version before it, whatever the clock does.
//! The returns flow counts the versions (`Transaction::revision`) and the adapter derives each
//! version's `modified_time` from the sale's time and that count, never from the clock.

mod common;

use chrono::Duration;
use common::*;
use loyalty_core::returns::{self, ReturnLedger};
use loyalty_core::{Context, Provider, ReturnRequest, TransactionId};
use loyalty_sim::sessionm::demo;

/// Kari buys two coffees and a mug (`l1`, `l2`) as `T-1`; the ledger the returns flow keeps.
async fn sold(env: &Env) -> ReturnLedger {
    let b = basket(&[(demo::ITEM_COFFEE, "2"), (demo::ITEM_MUG, "1")]);
    let tx = sale(env, "T-1", &b, &[]);
    env.adapter.transactions().unwrap().send(&Context::new(), &tx).await.unwrap();
    ReturnLedger::new(tx)
}

/// Returns `quantity` of `line` at the simulator clock's now, as the checkout would.
async fn give_back(env: &Env, ledger: &mut ReturnLedger, return_id: &str, line: &str, quantity: &str) {
    let at = env.clock.now();
    let request = ReturnRequest::new(Some(TransactionId::new("T-1")), TransactionId::new(return_id), at)
        .with_line(line, dec(quantity));
    returns::process(&env.adapter, &Context::new(), Some(ledger), &request, None).await.unwrap();
}

/// (line id, quantity) of the version SessionM keeps.
fn stored(env: &Env) -> Vec<(String, String)> {
    let t = env.probe.transaction("T-1").expect("stored");
    t["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["line_id"].as_str().unwrap().to_string(), i["quantity"].to_string()))
        .collect()
}

fn lines(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(l, q)| (l.to_string(), q.to_string())).collect()
}

fn dropped(env: &Env) -> Vec<String> {
    env.probe.warnings().into_iter().map(|w| w.message).filter(|m| m.contains("not newer")).collect()
}

#[tokio::test]
async fn two_returns_at_one_frozen_instant_both_replace_the_stored_sale() {
    // The simulator clock (and so the adapter's) stands still for the whole test.
    let env = start().await;
    let mut ledger = sold(&env).await;
    give_back(&env, &mut ledger, "R-1", "l1", "1").await;
    assert_eq!(stored(&env), lines(&[("l1", "1"), ("l2", "1")]));
    give_back(&env, &mut ledger, "R-2", "l2", "1").await;
    assert_eq!(stored(&env), lines(&[("l1", "1")]), "the second return must replace the first");
    assert!(dropped(&env).is_empty(), "{:?}", dropped(&env));
}

#[tokio::test]
async fn a_return_after_the_clock_stepped_back_still_replaces_the_stored_sale() {
    let env = start().await;
    let mut ledger = sold(&env).await;
    env.advance(60);
    give_back(&env, &mut ledger, "R-1", "l1", "1").await;
    // An NTP step (or a till with a wrong clock) puts now before the sale.
    env.clock.set(env.clock.now() - Duration::seconds(600));
    give_back(&env, &mut ledger, "R-2", "l2", "1").await;
    assert_eq!(stored(&env), lines(&[("l1", "1")]), "the second return must replace the first");
    assert!(dropped(&env).is_empty(), "{:?}", dropped(&env));
}
