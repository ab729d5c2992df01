//! Cart scenarios.
//!
//! The cart scenarios follow one paid cart through what a shop does with it: checkout (paid,
//! declined, waiting for the customer), upgrades of the paid cart (same payment, last minus
//! first, split lines, failed charges, an offline payment's new cart) and the progressive
//! discount a campaign gives guests and members alike.

use loyalty_core::{
    Cart, CartCheckout, CartId, CartLine, CartOrder, CartPayment, CartStatus, Carts, ErrorKind, LineId,
    Money, NewCart, Offer, OfferKind, ProductId, Provider, UpgradeOutcome, UpgradeRequest, UpgradeStatus,
};
use rust_decimal::Decimal;

use super::{check, ctx, fail, step};
use crate::{CartSetup, Environment, Outcome, Verdict};

fn setup(env: &Environment) -> Result<&CartSetup, Verdict> {
    let s = env.carts().ok_or_else(|| Verdict::Skip("the target names no cart products".into()))?;
    check!(!s.chain.is_empty(), "the target's cart setup names no product (its chain is empty)");
    Ok(s)
}

/// The setup of a scenario that upgrades: its chain must name a product and its upgrade, as
/// a target declaring `cart_upgrades` has to.
fn upgrade_setup(env: &Environment) -> Result<&CartSetup, Verdict> {
    let s = setup(env)?;
    check!(
        s.chain.len() >= 2,
        "cart_upgrades is declared but the target's cart setup names no upgrade: its chain has {} product(s), at least 2 are needed",
        s.chain.len()
    );
    Ok(s)
}

fn carts(p: &dyn Provider) -> Result<&dyn Carts, Verdict> {
    p.carts().ok_or_else(|| fail("carts() is None"))
}

fn line_of<'a>(cart: &'a Cart, product: &ProductId) -> Result<&'a CartLine, Verdict> {
    cart.line_of(product).ok_or_else(|| fail(format!("cart {} has no line of {product}", cart.id)))
}

fn units(n: u32) -> Decimal {
    Decimal::from(n)
}

/// Opens a cart of `quantity` × `product` with the setup's customer attached.
async fn open_cart(
    p: &dyn Provider,
    env: &Environment,
    product: &ProductId,
    quantity: u32,
) -> Result<Cart, Verdict> {
    let s = setup(env)?;
    let c = carts(p)?;
    let mut req = NewCart::new(s.currency, product.clone(), units(quantity)).test(s.test);
    if let Some(ip) = &s.customer_ip {
        req = req.from_ip(ip.clone());
    }
    let cart = step("carts.create", c.create(&ctx(env), &req).await)?;
    check!(cart.status == CartStatus::Open, "a new cart is {:?}", cart.status);
    step("carts.set_customer", c.set_customer(&ctx(env), &cart.id, &s.customer).await)
}

fn paid(what: &str, answer: CartCheckout) -> Result<CartOrder, Verdict> {
    match answer {
        CartCheckout::Paid(order) => Ok(order),
        other => Err(fail(format!("{what}: expected a paid cart, got {other:?}"))),
    }
}

/// A cart of `quantity` × the chain's first product, paid by the setup's card.
async fn card_paid_cart(p: &dyn Provider, env: &Environment, quantity: u32) -> Result<Cart, Verdict> {
    let s = setup(env)?;
    let cart = open_cart(p, env, &s.chain[0], quantity).await?;
    paid("carts.checkout", step("carts.checkout", carts(p)?.checkout(&ctx(env), &cart.id, &s.card).await)?)?;
    step("carts.get", carts(p)?.get(&ctx(env), &cart.id).await)
}

/// A cart of one unit of the chain's first product, paid through the setup's redirect payment
/// and completed by the customer; skipped where the target has no such payment.
async fn redirect_paid_cart(p: &dyn Provider, env: &Environment) -> Result<Cart, Verdict> {
    let s = setup(env)?;
    let redirect =
        s.redirect.clone().ok_or_else(|| Verdict::Skip("the target names no redirect payment".into()))?;
    let cart = open_cart(p, env, &s.chain[0], 1).await?;
    pay_by_redirect(p, env, &cart.id, &redirect).await?;
    step("carts.get", carts(p)?.get(&ctx(env), &cart.id).await)
}

/// Checks `cart` out through `redirect`: the cart waits for the customer, who completes it.
async fn pay_by_redirect(
    p: &dyn Provider,
    env: &Environment,
    cart: &CartId,
    redirect: &CartPayment,
) -> Outcome {
    let c = carts(p)?;
    match step("carts.checkout", c.checkout(&ctx(env), cart, redirect).await)? {
        CartCheckout::ActionRequired { action, .. } => {
            check!(action.url.is_some(), "a redirect payment names no page for the customer")
        }
        other => return Err(fail(format!("a redirect payment answered {other:?}"))),
    }
    let waiting = step("carts.get", c.get(&ctx(env), cart).await)?;
    check!(
        waiting.status == CartStatus::AwaitingPayment,
        "a cart waiting for its payment is {:?}",
        waiting.status
    );
    match env.complete_payment(cart) {
        None => Err(Verdict::Skip("the target cannot complete a payment".into())),
        Some(false) => Err(fail(format!("cart {cart} had no payment to complete"))),
        Some(true) => Ok(()),
    }
}

/// Every line costs its units at the unit price less its discount; the cart costs its lines
/// plus shipping.
fn arithmetic(cart: &Cart) -> Outcome {
    for l in &cart.lines {
        let n = i64::try_from(l.quantity.trunc()).map_err(|_| fail("line quantity too large"))?;
        let gross = l.unit_price.checked_mul(n).map_err(|e| fail(e.to_string()))?;
        check!(
            gross.checked_sub(l.discount).ok() == Some(l.net),
            "line {}: {} × {} − {} is not its net {}",
            l.line_id,
            l.quantity,
            l.unit_price,
            l.discount,
            l.net
        );
    }
    let lines =
        Money::sum(cart.total.currency, cart.lines.iter().map(|l| l.net)).map_err(|e| fail(e.to_string()))?;
    check!(
        lines.checked_add(cart.shipping).ok() == Some(cart.total),
        "cart total {} is not its lines {} plus shipping {}",
        cart.total,
        lines,
        cart.shipping
    );
    Ok(())
}

/// What an upgrade outcome charges now or later, and the cart it carries; settles a pending
/// one so the cart shows the end state.
async fn settled(
    p: &dyn Provider,
    env: &Environment,
    cart: &CartId,
    outcome: &UpgradeOutcome,
) -> Result<Cart, Verdict> {
    if matches!(outcome, UpgradeOutcome::Pending { .. }) {
        check!(env.settle_upgrades(), "an upgrade is pending and the target cannot settle it");
    }
    step("carts.get", carts(p)?.get(&ctx(env), cart).await)
}

async fn upgrade(
    p: &dyn Provider,
    env: &Environment,
    cart: &Cart,
    from: &ProductId,
    to: &ProductId,
    quantity: u32,
) -> Result<UpgradeOutcome, Verdict> {
    let line = line_of(cart, from)?.line_id.clone();
    step(
        "carts.upgrade",
        carts(p)?.upgrade(&ctx(env), &cart.id, &UpgradeRequest::new(line, to.clone(), units(quantity))).await,
    )
}

fn chain_delta(from: &CartLine, to: &CartLine, quantity: u32) -> Result<Money, Verdict> {
    let diff = to.unit_price.checked_sub(from.unit_price).map_err(|e| fail(e.to_string()))?;
    let diff = if diff.is_negative() { Money::zero(diff.currency) } else { diff };
    diff.checked_mul(i64::from(quantity)).map_err(|e| fail(e.to_string()))
}

/// A paid cart reads back paid with its order; checking it out again returns that order and
/// charges nothing more.
pub async fn cart_checkout_twice(p: &dyn Provider, env: &Environment) -> Outcome {
    let s = setup(env)?;
    let c = carts(p)?;
    let cart = open_cart(p, env, &s.chain[0], 1).await?;
    let order =
        paid("carts.checkout", step("carts.checkout", c.checkout(&ctx(env), &cart.id, &s.card).await)?)?;
    check!(order.charged == cart.total, "charged {} for a cart of {}", order.charged, cart.total);
    let read = step("carts.get", c.get(&ctx(env), &cart.id).await)?;
    check!(read.status == CartStatus::Paid, "a paid cart reads back {:?}", read.status);
    check!(read.order.as_ref() == Some(&order.order_id), "a paid cart reads back order {:?}", read.order);
    let again = paid(
        "carts.checkout (again)",
        step("carts.checkout (again)", c.checkout(&ctx(env), &cart.id, &s.card).await)?,
    )?;
    check!(again.order_id == order.order_id, "checking out a paid cart again made order {}", again.order_id);
    Ok(())
}

/// An open cart takes another product, a new quantity and a removal, priced every time.
pub async fn cart_lines_change_while_open(p: &dyn Provider, env: &Environment) -> Outcome {
    let s = setup(env)?;
    let c = carts(p)?;
    let cart = open_cart(p, env, &s.chain[0], 1).await?;
    arithmetic(&cart)?;
    let cart = step("carts.add_line", c.add_line(&ctx(env), &cart.id, &s.other_product, units(1)).await)?;
    check!(cart.lines.len() == 2, "two products make {} lines", cart.lines.len());
    arithmetic(&cart)?;
    let first = line_of(&cart, &s.chain[0])?.line_id.clone();
    let cart = step("carts.set_quantity", c.set_quantity(&ctx(env), &cart.id, &first, units(2)).await)?;
    check!(line_of(&cart, &s.chain[0])?.quantity == units(2), "the quantity did not change");
    arithmetic(&cart)?;
    let other = line_of(&cart, &s.other_product)?.line_id.clone();
    let cart = step("carts.remove_line", c.remove_line(&ctx(env), &cart.id, &other).await)?;
    check!(cart.lines.len() == 1 && cart.line_of(&s.other_product).is_none(), "the removed line stayed");
    arithmetic(&cart)?;
    let read = step("carts.get", c.get(&ctx(env), &cart.id).await)?;
    check!(
        read.lines == cart.lines && read.total == cart.total,
        "the cart reads back otherwise than it was answered"
    );
    Ok(())
}

/// A declined payment is an answer, not an error: the cart stays open and is paid with another
/// card.
pub async fn cart_declined_payment(p: &dyn Provider, env: &Environment) -> Outcome {
    let s = setup(env)?;
    let declined =
        s.declined_card.clone().ok_or_else(|| Verdict::Skip("the target names no declined card".into()))?;
    let c = carts(p)?;
    let cart = open_cart(p, env, &s.chain[0], 1).await?;
    let answer = step("carts.checkout (declined card)", c.checkout(&ctx(env), &cart.id, &declined).await)?;
    check!(matches!(answer, CartCheckout::Declined { .. }), "a declined card answered {answer:?}");
    let read = step("carts.get", c.get(&ctx(env), &cart.id).await)?;
    check!(read.status == CartStatus::Open, "a declined cart is {:?}", read.status);
    paid("carts.checkout", step("carts.checkout", c.checkout(&ctx(env), &cart.id, &s.card).await)?)?;
    Ok(())
}

/// A payment that takes the customer elsewhere leaves the cart waiting until it is completed;
/// then the cart is paid, once.
pub async fn cart_redirect_payment(p: &dyn Provider, env: &Environment) -> Outcome {
    let cart = redirect_paid_cart(p, env).await?;
    check!(cart.status == CartStatus::Paid, "a completed redirect payment left the cart {:?}", cart.status);
    let order = cart.order.clone().ok_or_else(|| fail("a paid cart has no order"))?;
    let s = setup(env)?;
    let again = paid(
        "carts.checkout (again)",
        step("carts.checkout (again)", carts(p)?.checkout(&ctx(env), &cart.id, &s.card).await)?,
    )?;
    check!(again.order_id == order, "checking out a paid cart again made order {}", again.order_id);
    Ok(())
}

/// An upgrade of a cart that is not paid yet is refused (`Conflict`).
pub async fn cart_upgrade_unpaid_refused(p: &dyn Provider, env: &Environment) -> Outcome {
    let s = upgrade_setup(env)?;
    let cart = open_cart(p, env, &s.chain[0], 1).await?;
    let line: LineId = line_of(&cart, &s.chain[0])?.line_id.clone();
    let req = UpgradeRequest::new(line, s.chain[1].clone(), units(1));
    let r = carts(p)?.upgrade(&ctx(env), &cart.id, &req).await;
    check!(
        matches!(&r, Err(e) if *e.kind() == ErrorKind::Conflict),
        "an upgrade of an unpaid cart answered {r:?}"
    );
    Ok(())
}

/// An upgrade of a paid line charges the new price minus the price paid; the upgrade ships.
pub async fn cart_upgrade_charges_difference(p: &dyn Provider, env: &Environment) -> Outcome {
    let s = upgrade_setup(env)?;
    let cart = card_paid_cart(p, env, 1).await?;
    let outcome = upgrade(p, env, &cart, &s.chain[0], &s.chain[1], 1).await?;
    let amount = match &outcome {
        UpgradeOutcome::Charged { amount, .. } | UpgradeOutcome::Pending { amount, .. } => *amount,
        other => return Err(fail(format!("an upgrade on a card answered {other:?}"))),
    };
    let expected = chain_delta(line_of(&cart, &s.chain[0])?, line_of(outcome.cart(), &s.chain[1])?, 1)?;
    check!(amount == expected, "the upgrade charges {amount} instead of new minus paid {expected}");
    let after = settled(p, env, &cart.id, &outcome).await?;
    let head = line_of(&after, &s.chain[1])?;
    check!(
        head.upgrade.as_ref().is_some_and(|u| u.status == UpgradeStatus::Charged && u.from == s.chain[0]),
        "the upgraded line reads {:?}",
        head.upgrade
    );
    check!(after.line_of(&s.chain[0]).is_none(), "the product paid before still ships");
    // The upgrade is its own charge: checking the cart out again charges nothing and reports
    // what the checkout took, not the cart's total with the upgrade in it.
    let again = paid(
        "carts.checkout (again)",
        step("carts.checkout (again)", carts(p)?.checkout(&ctx(env), &cart.id, &s.card).await)?,
    )?;
    check!(
        again.charged == cart.total,
        "checking the upgraded cart out again reports {} charged; the checkout took {}",
        again.charged,
        cart.total
    );
    Ok(())
}

/// An upgrade of an upgrade charges last minus first in all; the intermediate product never
/// ships.
pub async fn cart_upgrade_of_upgrade(p: &dyn Provider, env: &Environment) -> Outcome {
    let s = upgrade_setup(env)?;
    let Some(last) = s.chain.get(2) else {
        return Err(Verdict::Skip("the target names no upgrade of an upgrade".into()));
    };
    let cart = card_paid_cart(p, env, 1).await?;
    let first = upgrade(p, env, &cart, &s.chain[0], &s.chain[1], 1).await?;
    let captured_first = match &first {
        UpgradeOutcome::Charged { amount, .. } => *amount,
        UpgradeOutcome::Pending { amount, .. } => Money::zero(amount.currency),
        other => return Err(fail(format!("the first upgrade answered {other:?}"))),
    };
    let second = upgrade(p, env, first.cart(), &s.chain[1], last, 1).await?;
    let amount = match &second {
        UpgradeOutcome::Charged { amount, .. } | UpgradeOutcome::Pending { amount, .. } => *amount,
        other => return Err(fail(format!("the upgrade of the upgrade answered {other:?}"))),
    };
    let chain = chain_delta(line_of(&cart, &s.chain[0])?, line_of(second.cart(), last)?, 1)?;
    let total = captured_first.checked_add(amount).map_err(|e| fail(e.to_string()))?;
    check!(total == chain, "the chain captures {total} in all instead of last minus first {chain}");
    let after = settled(p, env, &cart.id, &second).await?;
    let head = line_of(&after, last)?;
    check!(
        head.upgrade.as_ref().is_some_and(|u| u.status == UpgradeStatus::Charged && u.from == s.chain[0]),
        "the head reads {:?}",
        head.upgrade
    );
    check!(
        after.line_of(&s.chain[1]).is_none() && after.line_of(&s.chain[0]).is_none(),
        "an intermediate or the original product still ships: {:?}",
        after.lines.iter().map(|l| &l.product_id).collect::<Vec<_>>()
    );
    Ok(())
}

/// Upgrading one of two units splits the line and charges one unit's difference.
pub async fn cart_partial_upgrade(p: &dyn Provider, env: &Environment) -> Outcome {
    let s = upgrade_setup(env)?;
    let cart = card_paid_cart(p, env, 2).await?;
    let outcome = upgrade(p, env, &cart, &s.chain[0], &s.chain[1], 1).await?;
    let amount = match &outcome {
        UpgradeOutcome::Charged { amount, .. } | UpgradeOutcome::Pending { amount, .. } => *amount,
        other => return Err(fail(format!("a partial upgrade answered {other:?}"))),
    };
    let expected = chain_delta(line_of(&cart, &s.chain[0])?, line_of(outcome.cart(), &s.chain[1])?, 1)?;
    check!(amount == expected, "one unit's upgrade charges {amount} instead of {expected}");
    let after = settled(p, env, &cart.id, &outcome).await?;
    check!(line_of(&after, &s.chain[0])?.quantity == units(1), "the rest of the line did not stay");
    check!(line_of(&after, &s.chain[1])?.quantity == units(1), "the upgraded unit is not its own line");
    Ok(())
}

/// When the vendor cannot charge the difference after its attempts, the upgrade is discarded
/// and the product paid for ships.
pub async fn cart_failed_upgrade_charge(p: &dyn Provider, env: &Environment) -> Outcome {
    let s = upgrade_setup(env)?;
    let cart = card_paid_cart(p, env, 1).await?;
    if !env.fail_next_upgrade_charge() {
        return Err(Verdict::Skip("the target cannot fail an upgrade charge".into()));
    }
    let outcome = upgrade(p, env, &cart, &s.chain[0], &s.chain[1], 1).await?;
    check!(
        matches!(outcome, UpgradeOutcome::Discarded { .. } | UpgradeOutcome::Pending { .. }),
        "a failing upgrade charge answered {outcome:?}"
    );
    let after = settled(p, env, &cart.id, &outcome).await?;
    let line = line_of(&after, &s.chain[0])?;
    check!(line.quantity == units(1) && line.upgrade.is_none(), "the original line reads {line:?}");
    check!(after.line_of(&s.chain[1]).is_none(), "a discarded upgrade still ships");
    Ok(())
}

async fn offline_upgrade_cart(
    p: &dyn Provider,
    env: &Environment,
) -> Result<(Cart, Cart, CartPayment), Verdict> {
    let s = upgrade_setup(env)?;
    let cart = redirect_paid_cart(p, env).await?;
    let redirect = s.redirect.clone().ok_or_else(|| fail("no redirect payment"))?;
    let line = line_of(&cart, &s.chain[0])?.line_id.clone();
    let req = UpgradeRequest::new(line, s.chain[1].clone(), units(1)).paid_offline(true);
    let outcome = step("carts.upgrade", carts(p)?.upgrade(&ctx(env), &cart.id, &req).await)?;
    let UpgradeOutcome::PaymentRequired { cart: child, amount, .. } = outcome else {
        return Err(fail(format!("an upgrade of a cart paid offline answered {outcome:?}")));
    };
    check!(
        child.upgrade_parent.as_ref() == Some(&cart.id),
        "the new cart names parent {:?}",
        child.upgrade_parent
    );
    check!(child.id != cart.id, "the upgrade was not given a new cart");
    let base = line_of(&cart, &s.chain[0])?.unit_price;
    let read = step("carts.get", carts(p)?.get(&ctx(env), &cart.id).await)?;
    let new = line_of(&read, &s.chain[1])?.unit_price;
    let diff = new.checked_sub(base).map_err(|e| fail(e.to_string()))?;
    check!(amount == diff, "the new cart asks {amount} instead of the difference {diff}");
    check!(
        child.lines.len() == 1 && child.total == amount,
        "the new cart holds {:?} for {} instead of only the difference",
        child.lines.iter().map(|l| (&l.product_id, l.net)).collect::<Vec<_>>(),
        child.total
    );
    Ok((cart, child, redirect))
}

/// An upgrade of a cart paid offline is paid in a new cart naming it; once that cart is paid,
/// the upgrade ships.
pub async fn cart_offline_upgrade_paid(p: &dyn Provider, env: &Environment) -> Outcome {
    let s = upgrade_setup(env)?;
    let (cart, child, redirect) = offline_upgrade_cart(p, env).await?;
    pay_by_redirect(p, env, &child.id, &redirect).await?;
    let c = carts(p)?;
    let child = step("carts.get (upgrade cart)", c.get(&ctx(env), &child.id).await)?;
    check!(child.status == CartStatus::Paid, "the paid upgrade cart is {:?}", child.status);
    let parent = step("carts.get", c.get(&ctx(env), &cart.id).await)?;
    let head = line_of(&parent, &s.chain[1])?;
    check!(
        head.upgrade.as_ref().is_some_and(|u| u.status == UpgradeStatus::Charged),
        "the paid upgrade reads {:?}",
        head.upgrade
    );
    check!(parent.line_of(&s.chain[0]).is_none(), "the original still ships after the upgrade was paid");
    Ok(())
}

/// An upgrade cart that is never paid is discarded, and the original product ships.
pub async fn cart_offline_upgrade_unpaid(p: &dyn Provider, env: &Environment) -> Outcome {
    let s = upgrade_setup(env)?;
    let (cart, child, redirect) = offline_upgrade_cart(p, env).await?;
    let c = carts(p)?;
    match step("carts.checkout (upgrade cart)", c.checkout(&ctx(env), &child.id, &redirect).await)? {
        CartCheckout::ActionRequired { .. } => {}
        other => return Err(fail(format!("a redirect payment answered {other:?}"))),
    }
    match env.abandon_payment(&child.id) {
        None => return Err(Verdict::Skip("the target cannot abandon a payment".into())),
        Some(false) => return Err(fail("the upgrade cart had no payment to abandon")),
        Some(true) => {}
    }
    let child = step("carts.get (upgrade cart)", c.get(&ctx(env), &child.id).await)?;
    check!(child.status == CartStatus::Discarded, "an unpaid upgrade cart is {:?}", child.status);
    let parent = step("carts.get", c.get(&ctx(env), &cart.id).await)?;
    let line = line_of(&parent, &s.chain[0])?;
    check!(line.upgrade.is_none(), "the original line reads {:?}", line.upgrade);
    check!(parent.line_of(&s.chain[1]).is_none(), "an unpaid upgrade still ships");
    Ok(())
}

fn progressive(offers: &[Offer]) -> Option<(Offer, ProductId)> {
    offers.iter().find_map(|o| match &o.kind {
        OfferKind::ProgressiveDiscount { tiers, products, .. } if !tiers.is_empty() => {
            products.first().map(|p| (o.clone(), p.clone()))
        }
        _ => None,
    })
}

/// The vendor's price of the cart's line equals the engine's price with the listed offer.
fn priced_like_the_engine(env: &Environment, cart: &Cart, offer: &Offer) -> Result<Money, Verdict> {
    let line = cart.lines.first().ok_or_else(|| fail("empty cart"))?;
    let basket = loyalty_core::Basket::new(cart.total.currency).with_line(loyalty_core::Line::new(
        line.line_id.clone(),
        line.product_id.clone(),
        line.quantity,
        line.unit_price,
    ));
    let priced = loyalty_core::pricing::price(&basket, std::slice::from_ref(offer), &[], env.now())
        .map_err(|e| fail(format!("pricing: {e}")))?;
    let expected = priced.lines.first().map(|l| l.discount).ok_or_else(|| fail("engine priced no line"))?;
    check!(
        line.discount == expected,
        "{} × {}: the cart takes {} off, the listed offer {}",
        line.quantity,
        line.product_id,
        line.discount,
        expected
    );
    Ok(expected)
}

async fn progressive_for(p: &dyn Provider, env: &Environment, guest: bool) -> Outcome {
    let o = p.offers().ok_or_else(|| fail("offers() is None"))?;
    let member = (!guest).then(|| env.member_id());
    let offers = step("offers.list", o.list(&ctx(env), member, None).await)?;
    let (offer, product) =
        progressive(&offers).ok_or_else(|| Verdict::Skip("no progressive discount is listed".into()))?;
    let OfferKind::ProgressiveDiscount { tiers, .. } = &offer.kind else {
        return Err(fail("not progressive"));
    };
    let low = tiers.iter().map(|t| t.min_units.max(1)).min().unwrap_or(1);
    let top = tiers.iter().max_by_key(|t| t.min_units).ok_or_else(|| fail("no tier"))?.clone();
    let c = carts(p)?;
    let cart = open_cart(p, env, &product, low).await?;
    priced_like_the_engine(env, &cart, &offer)?;
    let line = cart.lines[0].line_id.clone();
    let cart = step(
        "carts.set_quantity",
        c.set_quantity(&ctx(env), &cart.id, &line, units(top.min_units.max(1))).await,
    )?;
    let discount = priced_like_the_engine(env, &cart, &offer)?;
    let l = &cart.lines[0];
    let gross = Decimal::new(l.unit_price.minor, 0) * l.quantity;
    let expected = (gross * top.percent / Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    check!(
        Decimal::new(discount.minor, 0) == expected,
        "the top tier takes {} off {} units instead of {}% of every unit",
        discount,
        l.quantity,
        top.percent
    );
    arithmetic(&cart)
}

/// A campaign's progressive discount applies to guests: the cart takes each tier's percentage
/// off every qualifying unit, as the listed offer says.
pub async fn cart_progressive_for_guests(p: &dyn Provider, env: &Environment) -> Outcome {
    progressive_for(p, env, true).await
}

/// The same progressive discount is listed for members and prices their carts alike.
pub async fn cart_progressive_for_members(p: &dyn Provider, env: &Environment) -> Outcome {
    progressive_for(p, env, false).await
}
