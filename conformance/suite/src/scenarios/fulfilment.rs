//! Dropship scenarios: stock, couriers, orders placed once under the shop's reference, their
//! status through to the wholesaler's shipment notice, and the clock moves a wholesaler's
//! session and key rules have to survive.

use std::time::Duration;

use chrono::{TimeZone, Timelike};
use loyalty_core::{
    CourierQuery, DropshipOrder, ErrorKind, Fulfilment, OrderId, OrderLine, ProductId, Provider,
    PushedRequest, Shortfall, WriteEffect,
};
use rust_decimal::Decimal;

use super::{check, ctx, fail, step};
use crate::{Environment, Outcome, Verdict};

/// The dropship product and courier the target names, or a skip.
fn dropship_setup(env: &Environment) -> Result<(ProductId, String), Verdict> {
    env.dropship().cloned().ok_or_else(|| Verdict::Skip("the target names no dropship product".into()))
}

fn fulfilment(p: &dyn Provider) -> Result<&dyn Fulfilment, Verdict> {
    p.fulfilment().ok_or_else(|| fail("fulfilment() is None"))
}

/// One unit of `product` to the target's recipient under a fresh shop reference.
fn one_unit(env: &Environment, product: &ProductId, courier: &str) -> DropshipOrder {
    DropshipOrder::new(env.fresh_transaction_id().to_string(), env.recipient(), courier)
        .with_line(product.clone(), Decimal::ONE)
}

async fn available(f: &dyn Fulfilment, env: &Environment, product: &ProductId) -> Result<Decimal, Verdict> {
    let levels =
        step("fulfilment.stock", f.stock(&ctx(env), &[OrderLine::new(product.clone(), Decimal::ONE)]).await)?;
    levels.first().map(|l| l.available).ok_or_else(|| fail("stock answered no line"))
}

/// Stock, couriers, a dropship order placed once per shop reference, and its status.
pub async fn dropship_order(p: &dyn Provider, env: &Environment) -> Outcome {
    let (product, courier) = dropship_setup(env)?;
    let f = fulfilment(p)?;
    let c = ctx(env);
    let stock =
        step("fulfilment.stock", f.stock(&c, &[OrderLine::new(product.clone(), Decimal::ONE)]).await)?;
    check!(stock.first().is_some_and(|s| s.sufficient()), "the dropship product is not in stock: {stock:?}");
    let couriers = step("fulfilment.couriers", f.couriers(&c, &CourierQuery::all()).await)?;
    check!(couriers.iter().any(|x| x.id == courier), "courier {courier} not listed");
    let order = one_unit(env, &product, &courier);
    let placed = step("fulfilment.place_order", f.place_order(&c, &order).await)?;
    check!(!placed.duplicate, "a fresh shop reference was reported as a duplicate");
    let again = step("fulfilment.place_order (same reference)", f.place_order(&c, &order).await)?;
    check!(again.order_id == placed.order_id, "the same shop reference placed a second order");
    check!(again.duplicate, "placing the same shop reference again did not say it was a duplicate");
    let status = step("fulfilment.order_status", f.order_status(&c, &placed.order_id).await)?;
    check!(status.order_id == placed.order_id, "status of another order");
    check!(!status.dispatched && status.shipments.is_empty(), "a new order reads as dispatched: {status:?}");
    let found = step("fulfilment.find_order", f.find_order(&c, &order.reference).await)?;
    check!(
        found.map(|s| s.order_id) == Some(placed.order_id.clone()),
        "the shop reference does not find the order"
    );
    let missing =
        step("fulfilment.find_order (unknown)", f.find_order(&c, "conformance-no-such-reference").await)?;
    check!(missing.is_none(), "an unknown shop reference found {missing:?}");
    Ok(())
}

/// Stock answers per line with quantities: enough, too little, and an unknown product.
pub async fn stock_with_quantities(p: &dyn Provider, env: &Environment) -> Outcome {
    let (product, _) = dropship_setup(env)?;
    let f = fulfilment(p)?;
    let huge = Decimal::from(1_000_000);
    let lines = [
        OrderLine::new(product.clone(), Decimal::ONE),
        OrderLine::new(product.clone(), huge),
        OrderLine::new("conformance-no-such-product", Decimal::ONE),
    ];
    let levels = step("fulfilment.stock", f.stock(&ctx(env), &lines).await)?;
    check!(levels.len() == 3, "{} levels for 3 lines", levels.len());
    check!(
        levels[0].sufficient() && levels[0].requested == Decimal::ONE && levels[0].available >= Decimal::ONE,
        "one unit of the dropship product is not available: {:?}",
        levels[0]
    );
    check!(
        levels[1].shortfall == Some(Shortfall::Insufficient) && levels[1].available < huge,
        "a million units read as available: {:?}",
        levels[1]
    );
    check!(
        levels[2].shortfall == Some(Shortfall::UnknownProduct),
        "an unknown product is not reported as such: {:?}",
        levels[2]
    );
    let none = f.stock(&ctx(env), &[OrderLine::new(product, Decimal::ZERO)]).await;
    check!(
        matches!(&none, Err(e) if matches!(e.kind(), ErrorKind::Invalid { .. }))
            || none.as_ref().is_ok_and(|l| l.first().is_some_and(|l| !l.sufficient())),
        "a zero quantity was accepted: {none:?}"
    );
    Ok(())
}

/// Couriers for a basket and destination, priced, before any order exists.
pub async fn couriers_for_basket(p: &dyn Provider, env: &Environment) -> Outcome {
    let (product, courier) = dropship_setup(env)?;
    let f = fulfilment(p)?;
    let all = step("fulfilment.couriers (all)", f.couriers(&ctx(env), &CourierQuery::all()).await)?;
    let query =
        CourierQuery::for_basket(vec![OrderLine::new(product, Decimal::ONE)], env.recipient().address);
    let fit = step("fulfilment.couriers (basket)", f.couriers(&ctx(env), &query).await)?;
    check!(fit.iter().any(|c| c.id == courier), "courier {courier} not offered for the basket: {fit:?}");
    for c in &fit {
        check!(c.cost.is_some(), "courier {} has no price for the basket", c.id);
        check!(all.iter().any(|a| a.id == c.id), "courier {} is not among all couriers", c.id);
    }
    Ok(())
}

/// A placed order whose reply was lost is placed once: the reference finds it, placing it
/// again is a duplicate, and stock is taken once.
pub async fn order_placed_once_despite_lost_reply(p: &dyn Provider, env: &Environment) -> Outcome {
    let (product, courier) = dropship_setup(env)?;
    let f = fulfilment(p)?;
    let c = ctx(env);
    let before = available(f, env, &product).await?;
    if !env.lose_next_reply("fulfilment.place_order") {
        return Err(Verdict::Skip("the target cannot lose a reply".into()));
    }
    let order = one_unit(env, &product, &courier);
    let id = match f.place_order(&c, &order).await {
        Ok(placed) => placed.order_id,
        Err(e) if e.effect() == WriteEffect::Unknown => {
            let found = step("fulfilment.find_order", f.find_order(&c, &order.reference).await)?;
            found
                .ok_or_else(|| fail("the order whose reply was lost is not found by its reference"))?
                .order_id
        }
        Err(e) => {
            return Err(fail(format!(
                "fulfilment.place_order: {e} (a lost reply must leave the effect unknown)"
            )))
        }
    };
    let again = step("fulfilment.place_order (again)", f.place_order(&c, &order).await)?;
    check!(
        again.order_id == id && again.duplicate,
        "placing again after a lost reply gave {again:?}, not {id}"
    );
    let after = available(f, env, &product).await?;
    check!(before - after == Decimal::ONE, "stock went from {before} to {after} for one unit ordered");
    Ok(())
}

/// An order goes from new to dispatched; the status and the shipment notice carry the same
/// tracking numbers.
pub async fn status_through_to_shipment_notice(p: &dyn Provider, env: &Environment) -> Outcome {
    let (product, courier) = dropship_setup(env)?;
    let f = fulfilment(p)?;
    let c = ctx(env);
    let placed = step("fulfilment.place_order", f.place_order(&c, &one_unit(env, &product, &courier)).await)?;
    let new = step("fulfilment.order_status", f.order_status(&c, &placed.order_id).await)?;
    check!(!new.dispatched, "a new order reads as dispatched");
    let pushed = match env.dispatch(&placed.order_id).await {
        None => return Err(Verdict::Skip("the target cannot dispatch orders for the suite".into())),
        Some(r) => r.map_err(|e| fail(format!("dispatch: {e}")))?,
    };
    // The polling fallback: the status alone says the order left, with its tracking numbers.
    let sent = step("fulfilment.order_status (dispatched)", f.order_status(&c, &placed.order_id).await)?;
    check!(sent.dispatched && !sent.shipments.is_empty(), "after dispatch the status reads {sent:?}");
    if let Some(push) = pushed {
        let notice = step(
            "fulfilment.parse_shipment_notice",
            f.parse_shipment_notice(PushedRequest::new(&push.headers, &push.body)),
        )?;
        check!(notice.order_id == placed.order_id, "the notice names order {}", notice.order_id);
        let mut got = notice.tracking_numbers.clone();
        let mut want = sent.shipments.clone();
        got.sort();
        want.sort();
        check!(got == want, "the notice carries {got:?}, the status {want:?}");
    }
    Ok(())
}

/// The recipient can be corrected before dispatch and not after.
pub async fn address_edit_before_and_after_dispatch(p: &dyn Provider, env: &Environment) -> Outcome {
    let (product, courier) = dropship_setup(env)?;
    let f = fulfilment(p)?;
    let c = ctx(env);
    let placed = step("fulfilment.place_order", f.place_order(&c, &one_unit(env, &product, &courier)).await)?;
    let id: &OrderId = &placed.order_id;
    let mut fixed = env.recipient();
    fixed.address.street = Some("Conformance Street 2".into());
    step("fulfilment.update_recipient", f.update_recipient(&c, id, &fixed).await)?;
    let read = step("fulfilment.recipient", f.recipient(&c, id).await)?;
    check!(
        read.address.street == fixed.address.street,
        "the corrected street reads {:?}",
        read.address.street
    );
    match env.dispatch(id).await {
        None => return Err(Verdict::Skip("the target cannot dispatch orders for the suite".into())),
        Some(r) => {
            r.map_err(|e| fail(format!("dispatch: {e}")))?;
        }
    }
    let mut late = fixed.clone();
    late.address.street = Some("Too Late Street 3".into());
    let refused = f.update_recipient(&c, id, &late).await;
    check!(
        matches!(&refused, Err(e) if *e.kind() == ErrorKind::Conflict),
        "a correction after dispatch should be a Conflict, got {refused:?}"
    );
    let read = step("fulfilment.recipient (after dispatch)", f.recipient(&c, id).await)?;
    check!(read.address.street == fixed.address.street, "a refused correction changed the street");
    Ok(())
}

/// Calls keep working when the vendor's session runs out between them.
pub async fn session_expiry_mid_flow(p: &dyn Provider, env: &Environment) -> Outcome {
    let (product, courier) = dropship_setup(env)?;
    let f = fulfilment(p)?;
    let c = ctx(env);
    step("fulfilment.stock", f.stock(&c, &[OrderLine::new(product.clone(), Decimal::ONE)]).await)?;
    if !env.advance_clock(Duration::from_secs(16 * 60)) {
        return Err(Verdict::Skip("the target's clock cannot be moved".into()));
    }
    let placed = step("fulfilment.place_order", f.place_order(&c, &one_unit(env, &product, &courier)).await)?;
    env.advance_clock(Duration::from_secs(16 * 60));
    let status = step("fulfilment.order_status", f.order_status(&c, &placed.order_id).await)?;
    check!(status.order_id == placed.order_id, "status of another order");
    Ok(())
}

/// Calls keep working across midnight in Warsaw (where IdoSell's daily keys change): one just
/// before, one after, with a fresh login needed after.
pub async fn calls_across_warsaw_midnight(p: &dyn Provider, env: &Environment) -> Outcome {
    let (product, _) = dropship_setup(env)?;
    let f = fulfilment(p)?;
    let c = ctx(env);
    let warsaw = chrono_tz::Europe::Warsaw;
    let now = env.now().with_timezone(&warsaw);
    let next_day = now.date_naive().succ_opt().ok_or_else(|| fail("no next day"))?;
    let midnight = warsaw
        .from_local_datetime(&next_day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .ok_or_else(|| fail("no Warsaw midnight"))?;
    let until = (midnight.with_timezone(&chrono::Utc) - env.now() - chrono::Duration::seconds(60))
        .to_std()
        .unwrap_or_default();
    if !env.advance_clock(until) {
        return Err(Verdict::Skip("the target's clock cannot be moved".into()));
    }
    let before = env.now().with_timezone(&warsaw);
    check!(
        before.hour() == 23 && before.minute() == 59,
        "the clock stands at {before}, not a minute to midnight"
    );
    let line = [OrderLine::new(product, Decimal::ONE)];
    step("fulfilment.stock (23:59 Warsaw)", f.stock(&c, &line).await)?;
    env.advance_clock(Duration::from_secs(16 * 60));
    step("fulfilment.stock (00:15 Warsaw)", f.stock(&c, &line).await)?;
    Ok(())
}
