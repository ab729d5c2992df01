//! Cart and dropship scenarios.

use loyalty_core::{Customer, DropshipOrder, NewCart, Provider, Recipient, UpgradeRequest};
use rust_decimal::Decimal;

use super::{check, ctx, fail, step};
use crate::{Environment, Outcome, Verdict};

/// A paid cart upgraded to a better product charges the new price minus the old.
pub async fn cart_upgrade(p: &dyn Provider, env: &Environment) -> Outcome {
    let Some((base, upgrade)) = env.cart_products().cloned() else {
        return Err(Verdict::Skip("the target names no cart products".into()));
    };
    let carts = p.carts().ok_or_else(|| fail("carts() is None"))?;
    let c = ctx(env);
    let cart = step("carts.create", carts.create(&c, &NewCart::new(env.basket().currency).test(true)).await)?;
    let cart = step("carts.add_line", carts.add_line(&c, &cart.id, &base, Decimal::ONE).await)?;
    let line = cart.lines.first().ok_or_else(|| fail("added line missing"))?.clone();
    let preview = step(
        "carts.upgrade",
        carts
            .upgrade(&c, &cart.id, &UpgradeRequest::new(line.line_id.clone(), upgrade.clone(), Decimal::ONE))
            .await,
    )?;
    let new_line = preview
        .cart
        .lines
        .iter()
        .find(|l| l.line_id == line.line_id)
        .ok_or_else(|| fail("upgraded line missing"))?;
    let expected = (new_line.unit_price.minor - line.unit_price.minor).max(0);
    check!(
        preview.charge.minor == expected,
        "upgrade charges {} instead of new minus previous price",
        preview.charge
    );
    step(
        "carts.set_customer",
        carts.set_customer(&c, &cart.id, &Customer::with_email(env.fresh_email())).await,
    )?;
    let order = step("carts.checkout", carts.checkout(&c, &cart.id).await)?;
    let again = step("carts.checkout (again)", carts.checkout(&c, &cart.id).await)?;
    check!(again.order_id == order.order_id, "checking out a paid cart again made a second order");
    Ok(())
}

/// Stock, couriers, a dropship order placed once per shop reference, and its status.
pub async fn dropship_order(p: &dyn Provider, env: &Environment) -> Outcome {
    let Some((product, courier)) = env.dropship().cloned() else {
        return Err(Verdict::Skip("the target names no dropship product".into()));
    };
    let f = p.fulfilment().ok_or_else(|| fail("fulfilment() is None"))?;
    let c = ctx(env);
    let stock = step("fulfilment.stock", f.stock(&c, std::slice::from_ref(&product)).await)?;
    check!(
        stock.first().is_some_and(|s| s.available >= Decimal::ONE),
        "the dropship product is not in stock"
    );
    let couriers = step("fulfilment.couriers", f.couriers(&c, None).await)?;
    check!(couriers.iter().any(|x| x.id == courier), "courier {courier} not listed");
    let address = loyalty_core::Address {
        street: Some("Storgata 1".into()),
        city: Some("Oslo".into()),
        zip_code: Some("0155".into()),
        state: None,
        country_code: Some("NO".into()),
    };
    let reference = env.fresh_transaction_id().to_string();
    let order = DropshipOrder::new(reference, Recipient::new("Kari Nordmann", address), courier.clone())
        .with_line(product.clone(), Decimal::ONE);
    let id = step("fulfilment.place_order", f.place_order(&c, &order).await)?;
    let again = step("fulfilment.place_order (same reference)", f.place_order(&c, &order).await)?;
    check!(again == id, "the same shop reference placed a second order");
    let status = step("fulfilment.order_status", f.order_status(&c, &id).await)?;
    check!(status.order_id == id, "status of another order");
    Ok(())
}
