//! Checkout flows over the provider: the money rules a shop relies on.

use std::sync::Arc;
use std::time::Duration;

use loyalty_core::checkout::{Checkout, CheckoutRequest, Completion, Delivery, NextAnswer, SimulatedPayment};
use loyalty_core::{ErrorKind, Offer, Provider, ProviderExt, RegisterMember};

use super::members::fresh_registration;
use super::{check, ctx, fail, hold, member_lookup, release, step};
use crate::{Environment, Outcome, Verdict};

fn request(env: &Environment) -> CheckoutRequest {
    let req = CheckoutRequest::new(env.fresh_transaction_id(), env.basket().clone());
    match env.department() {
        Some(d) => req.department(d.clone()),
        None => req,
    }
}

/// A member checkout of the seeded basket, or a skip when no lookup finds the member. The
/// customer confirms the first offer that waits for confirmation (a basket coupon, an offer
/// the vendor prices), so providers whose offers all need confirming have something to hold.
async fn member_request(p: &dyn Provider, env: &Environment) -> Result<CheckoutRequest, Verdict> {
    let lookup =
        member_lookup(p, env).ok_or_else(|| Verdict::Skip("no lookup finds the seeded member".into()))?;
    let mut req = request(env).identify(lookup);
    let caps = p.capabilities();
    if let (true, Some(o)) = (caps.list_offers, p.offers()) {
        let basket = caps.offers_with_basket.then(|| env.basket());
        let offers = step("offers.list", o.list(&ctx(env), Some(env.member_id()), basket).await)?;
        let priced = loyalty_core::pricing::price(env.basket(), &offers, &[], env.now())
            .map_err(|e| fail(format!("pricing: {e}")))?;
        let usable =
            |id: &&loyalty_core::OfferId| offers.iter().any(|o| &o.id == *id && o.uses_left != Some(0));
        if let Some(first) = priced.needs_confirmation.iter().find(usable) {
            req = req.confirm(first.clone());
        }
    }
    Ok(req)
}

fn completed(what: &str, c: Completion) -> Result<loyalty_core::checkout::CheckoutOutcome, Verdict> {
    match c {
        Completion::Completed(o) => Ok(o),
        other => Err(fail(format!("{what}: expected a completed checkout, got {other:?}"))),
    }
}

/// Cancels a committed sale so repeated runs against one store stay independent.
async fn cleanup(
    p: &dyn Provider,
    env: &Environment,
    outcome: &loyalty_core::checkout::CheckoutOutcome,
) -> Outcome {
    if let (true, Some(t), Delivery::Sent(_)) =
        (p.capabilities().cancel_transaction, p.transactions(), &outcome.delivery)
    {
        step(
            "cleanup: transactions.cancel",
            t.cancel(&ctx(env), &outcome.transaction, Some("conformance cleanup")).await,
        )?;
    }
    Ok(())
}

/// The whole flow; completing the same order again charges nothing more.
pub async fn checkout_full(p: &dyn Provider, env: &Environment) -> Outcome {
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(p), payment.clone(), Arc::new(env));
    let req = match member_lookup(p, env) {
        Some(l) => request(env).identify(l),
        None => request(env),
    };
    let out =
        completed("checkout.complete", step("checkout.complete", checkout.complete(&ctx(env), &req).await)?)?;
    check!(matches!(out.delivery, Delivery::Sent(_)), "transaction not sent: {:?}", out.delivery);
    check!(out.charged == out.priced.total, "charged {} for a total of {}", out.charged, out.priced.total);
    check!(payment.captures() == 1, "payment captured {} times", payment.captures());
    let again =
        completed("again", step("checkout.complete (again)", checkout.complete(&ctx(env), &req).await)?)?;
    check!(again == out && payment.captures() == 1, "completing twice charged twice");
    cleanup(p, env, &out).await
}

/// A provider that records a sale only for a member refuses a guest at prepare, naming
/// `identify`, before anything is held or charged.
pub async fn checkout_guest_refused_before_charge(p: &dyn Provider, env: &Environment) -> Outcome {
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(p), payment.clone(), Arc::new(env));
    let err = checkout.complete(&ctx(env), &request(env)).await;
    check!(
        matches!(&err, Err(e) if matches!(e.kind(), ErrorKind::Invalid { field, .. } if field == "identify")),
        "a guest sale should be refused at prepare naming identify, got {err:?}"
    );
    check!(payment.captures() == 0, "the guest was charged ({} captures)", payment.captures());
    Ok(())
}

/// The same order id with another basket after the charge is a `Conflict` naming the order.
pub async fn checkout_same_order_other_basket(p: &dyn Provider, env: &Environment) -> Outcome {
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(p), payment.clone(), Arc::new(env));
    let req = match member_lookup(p, env) {
        Some(l) => request(env).identify(l),
        None => request(env),
    };
    let out =
        completed("checkout.complete", step("checkout.complete", checkout.complete(&ctx(env), &req).await)?)?;
    let mut other = req.clone();
    if other.basket.lines.len() > 1 {
        other.basket.lines.pop();
    } else if let Some(l) = other.basket.lines.first_mut() {
        l.quantity += rust_decimal::Decimal::ONE;
    }
    let err = checkout.complete(&ctx(env), &other).await;
    check!(
        matches!(&err, Err(e) if *e.kind() == ErrorKind::Conflict && e.message().contains(req.transaction_id.as_str())),
        "a changed basket under a charged order id should be a Conflict naming the order, got {err:?}"
    );
    check!(payment.captures() == 1, "the changed basket was charged ({} captures)", payment.captures());
    cleanup(p, env, &out).await
}

/// Offers the prepared checkout holds (skip when the seeded basket uses none), as the checkout
/// has them: a provider's list may leave out an offer while it is held (a wallet of unlocked
/// offers only).
fn held(prepared: &loyalty_core::checkout::Prepared) -> Result<Vec<Offer>, Verdict> {
    let held: Vec<Offer> = prepared
        .holds
        .iter()
        .filter_map(|h| prepared.offers.iter().find(|o| o.id == h.offer_id).cloned())
        .collect();
    if held.is_empty() {
        return Err(Verdict::Skip("no seeded offer applies to the basket, so nothing is held".into()));
    }
    Ok(held)
}

/// Every offer can be held by another order: nothing is left held.
async fn nothing_held(p: &dyn Provider, env: &Environment, offers: &[Offer]) -> Outcome {
    let other = env.fresh_transaction_id();
    for offer in offers {
        let h = hold(p, env, offer, &other).await;
        check!(h.is_ok(), "offer {} is still held: {h:?}", offer.id);
        if let Ok(h) = h {
            release(p, env, &h).await?;
        }
    }
    Ok(())
}

/// A declined payment releases every hold.
pub async fn checkout_fails_after_hold(p: &dyn Provider, env: &Environment) -> Outcome {
    let req = member_request(p, env).await?;
    let payment = Arc::new(SimulatedPayment::new());
    payment.answer_next(NextAnswer::Decline);
    let checkout = Checkout::new(Arc::new(p), payment, Arc::new(env));
    let prepared = step("checkout.prepare", checkout.prepare(&ctx(env), &req).await)?;
    let held = held(&prepared)?;
    let err = checkout.commit(&ctx(env), &prepared).await;
    check!(
        matches!(&err, Err(e) if e.kind() == &ErrorKind::Rejected),
        "a declined payment should fail the checkout: {err:?}"
    );
    nothing_held(p, env, &held).await
}

/// After a declined payment the customer pays with another card: the holds are taken back
/// first and the price shown is charged, once.
pub async fn checkout_declined_then_retried(p: &dyn Provider, env: &Environment) -> Outcome {
    let req = member_request(p, env).await?;
    let payment = Arc::new(SimulatedPayment::new());
    payment.answer_next(NextAnswer::Decline);
    let checkout = Checkout::new(Arc::new(p), payment.clone(), Arc::new(env));
    let prepared = step("checkout.prepare", checkout.prepare(&ctx(env), &req).await)?;
    held(&prepared)?;
    let declined = checkout.commit(&ctx(env), &prepared).await;
    check!(declined.is_err(), "the first payment should be declined: {declined:?}");
    payment.answer_next(NextAnswer::Approve);
    let out =
        completed("retry", step("checkout.commit (retry)", checkout.commit(&ctx(env), &prepared).await)?)?;
    check!(
        out.charged == prepared.priced.total,
        "charged {} after showing {}",
        out.charged,
        prepared.priced.total
    );
    check!(payment.captures() == 1, "captured {} times", payment.captures());
    check!(
        out.transaction.holds.len() == prepared.holds.len(),
        "the sale claims {} holds, the checkout showed {}",
        out.transaction.holds.len(),
        prepared.holds.len()
    );
    cleanup(p, env, &out).await
}

/// A hold that expired before commit is taken again when the offer is still free, and the
/// customer pays what was shown.
pub async fn checkout_hold_expiry_retaken(p: &dyn Provider, env: &Environment) -> Outcome {
    let req = member_request(p, env).await?;
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(p), payment.clone(), Arc::new(env));
    let prepared = step("checkout.prepare", checkout.prepare(&ctx(env), &req).await)?;
    held(&prepared)?;
    let latest = prepared.holds.iter().map(|h| h.expires_at).max().unwrap_or_else(|| env.now());
    let wait = (latest - env.now()).to_std().unwrap_or_default() + Duration::from_secs(1);
    if !env.advance_clock(wait) {
        step("checkout.abort", checkout.abort(&ctx(env), &prepared).await)?;
        return Err(Verdict::Skip("the target's clock cannot be moved".into()));
    }
    let out = completed("commit", step("checkout.commit", checkout.commit(&ctx(env), &prepared).await)?)?;
    check!(
        out.charged == prepared.priced.total,
        "charged {} after showing {}",
        out.charged,
        prepared.priced.total
    );
    check!(
        out.transaction.holds.len() == prepared.holds.len(),
        "the sale claims {} holds, the checkout held {}",
        out.transaction.holds.len(),
        prepared.holds.len()
    );
    check!(out.transaction.holds.iter().all(|h| h.expires_at > env.now()), "the sale claims an expired hold");
    check!(payment.captures() == 1, "captured {} times", payment.captures());
    cleanup(p, env, &out).await
}

/// A payment that needs 3-D Secure keeps the holds while the customer completes it, and the
/// confirming call finishes the same checkout at the price shown.
pub async fn checkout_three_d_secure(p: &dyn Provider, env: &Environment) -> Outcome {
    let req = member_request(p, env).await?;
    let payment = Arc::new(SimulatedPayment::new());
    payment.answer_next(NextAnswer::ThreeDSecure);
    let checkout = Checkout::new(Arc::new(p), payment.clone(), Arc::new(env));
    let prepared = step("checkout.prepare", checkout.prepare(&ctx(env), &req).await)?;
    let held = held(&prepared)?;
    let waiting = step("checkout.commit", checkout.commit(&ctx(env), &prepared).await)?;
    check!(
        matches!(waiting, Completion::ActionRequired { .. }),
        "expected a 3-D Secure step, got {waiting:?}"
    );
    check!(payment.captures() == 0, "captured before the customer finished 3-D Secure");
    let record =
        step("checkout.status", checkout.status(&prepared.order).await)?.ok_or_else(|| fail("no record"))?;
    check!(
        held.iter().all(|o| record.holds.iter().any(|h| h.offer_id == o.id)),
        "the holds were dropped while the customer was at 3-D Secure"
    );
    payment.complete_action(&prepared.order);
    let out = completed(
        "confirm",
        step("checkout.confirm_payment", checkout.confirm_payment(&ctx(env), &prepared.order).await)?,
    )?;
    check!(
        out.charged == prepared.priced.total,
        "charged {} after showing {}",
        out.charged,
        prepared.priced.total
    );
    check!(payment.captures() == 1, "captured {} times", payment.captures());
    cleanup(p, env, &out).await
}

/// A new guest's sign-up: fresh contacts, both consents, the target's department.
fn guest_sign_up(env: &Environment) -> RegisterMember {
    fresh_registration(env, "Guest", "Buyer")
}

/// A guest who signs up at checkout and comes back with the same sign-up data (and no
/// lookup) is the member created the first time.
pub async fn checkout_guest_sign_up_retried(p: &dyn Provider, env: &Environment) -> Outcome {
    let sign_up = guest_sign_up(env);
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(p), payment, Arc::new(env));
    let first = request(env).sign_up(sign_up.clone());
    let a = completed("first", step("checkout.complete", checkout.complete(&ctx(env), &first).await)?)?;
    check!(a.signed_up && a.member.is_some(), "the guest was not signed up: {:?}", a.notes);
    let second = request(env).sign_up(sign_up);
    let b = completed(
        "second",
        step("checkout.complete (same guest)", checkout.complete(&ctx(env), &second).await)?,
    )?;
    check!(b.member == a.member, "the returning guest became {:?} instead of {:?}", b.member, a.member);
    cleanup(p, env, &a).await?;
    cleanup(p, env, &b).await
}

/// A guest's sign-up whose register reply was lost (the provider made the member) is still that
/// order's sign-up when the order is prepared again: the member its phone or e-mail finds is
/// reported as signed up, not as an existing member. Skipped where the target cannot lose a
/// register reply.
pub async fn checkout_guest_sign_up_reply_lost(p: &dyn Provider, env: &Environment) -> Outcome {
    let sign_up = guest_sign_up(env);
    if !env.lose_next_reply("members.register") {
        return Err(Verdict::Skip("the target cannot lose a register reply".into()));
    }
    let payment = Arc::new(SimulatedPayment::new());
    let checkout = Checkout::new(Arc::new(p), payment, Arc::new(env));
    let req = request(env).sign_up(sign_up);
    // Fails on the lost reply (an adapter that learns the member otherwise may succeed).
    let _ = checkout.prepare(&ctx(env), &req).await;
    let prepared = step("checkout.prepare (again)", checkout.prepare(&ctx(env), &req).await)?;
    check!(prepared.member.is_some(), "no member after the retry: {:?}", prepared.notes);
    check!(
        prepared.signed_up,
        "the member this order registered is reported as an existing one: {:?}",
        prepared.notes
    );
    step("checkout.abort", checkout.abort(&ctx(env), &prepared).await)?;
    Ok(())
}

/// The provider as one shop instance sees it while another instance takes its order over:
/// the first hold call, once the provider has answered it, lets the clock run past the
/// checkout's lease and has the other instance prepare the same order, before the answer
/// reaches this instance. Releases are counted.
struct TakenOverDuringHold<'a> {
    inner: &'a dyn Provider,
    env: &'a Environment,
    other: &'a Checkout<'a>,
    request: &'a CheckoutRequest,
    armed: std::sync::atomic::AtomicBool,
    other_prepared: std::sync::Mutex<Option<loyalty_core::Result<loyalty_core::checkout::Prepared>>>,
    releases: std::sync::atomic::AtomicUsize,
}

impl Provider for TakenOverDuringHold<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> &loyalty_core::Capabilities {
        self.inner.capabilities()
    }
    fn members(&self) -> Option<&dyn loyalty_core::Members> {
        self.inner.members()
    }
    fn offers(&self) -> Option<&dyn loyalty_core::Offers> {
        self.inner.offers()
    }
    fn holds(&self) -> Option<&dyn loyalty_core::Holds> {
        self.inner.holds().map(|_| self as &dyn loyalty_core::Holds)
    }
    fn redemptions(&self) -> Option<&dyn loyalty_core::Redemptions> {
        self.inner.redemptions()
    }
    fn transactions(&self) -> Option<&dyn loyalty_core::Transactions> {
        self.inner.transactions()
    }
    fn carts(&self) -> Option<&dyn loyalty_core::Carts> {
        self.inner.carts()
    }
    fn fulfilment(&self) -> Option<&dyn loyalty_core::Fulfilment> {
        self.inner.fulfilment()
    }
}

#[async_trait::async_trait]
impl loyalty_core::Holds for TakenOverDuringHold<'_> {
    async fn hold(
        &self,
        ctx: &loyalty_core::Context,
        request: &loyalty_core::HoldRequest,
    ) -> loyalty_core::Result<loyalty_core::Hold> {
        let held = self.inner.require_holds("holds.hold")?.hold(ctx, request).await;
        if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            let lease = loyalty_core::checkout::CheckoutOptions::default().lease;
            self.env.advance_clock(lease + Duration::from_secs(1));
            let other = self.other.prepare(&ctx.clone(), self.request).await;
            *self.other_prepared.lock().unwrap_or_else(|p| p.into_inner()) = Some(other);
        }
        held
    }

    async fn release(
        &self,
        ctx: &loyalty_core::Context,
        hold: &loyalty_core::Hold,
    ) -> loyalty_core::Result<()> {
        self.releases.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.require_holds("holds.release")?.release(ctx, hold).await
    }
}

/// Two shop instances share one checkout store. The first prepares an order and its hold call
/// outlives the lease; the customer's retry reaches the second, which takes the order over and
/// holds the offer again under the same order id (at some vendors the very same hold: a lock is
/// keyed by order and offer, and unlocking names no order). The first instance's late failure
/// must release nothing, and the second's sale charges the price it showed.
pub async fn checkout_prepare_taken_over_keeps_the_other_instance_holds(
    p: &dyn Provider,
    env: &Environment,
) -> Outcome {
    let req = member_request(p, env).await?;
    if !env.advance_clock(Duration::ZERO) {
        return Err(Verdict::Skip("the target's clock cannot be moved".into()));
    }
    let payment = Arc::new(SimulatedPayment::new());
    let store: Arc<dyn loyalty_core::checkout::CheckoutStore> =
        Arc::new(loyalty_core::checkout::MemoryCheckoutStore::new());
    let other = Checkout::with_store(Arc::new(p), payment.clone(), Arc::new(env), store.clone());
    let slow = TakenOverDuringHold {
        inner: p,
        env,
        other: &other,
        request: &req,
        armed: std::sync::atomic::AtomicBool::new(true),
        other_prepared: std::sync::Mutex::new(None),
        releases: std::sync::atomic::AtomicUsize::new(0),
    };
    let first = Checkout::with_store(Arc::new(&slow), payment.clone(), Arc::new(env), store);
    let lost = first.prepare(&ctx(env), &req).await;
    let taken = slow.other_prepared.lock().unwrap_or_else(|p| p.into_inner()).take();
    let Some(taken) = taken else {
        return Err(Verdict::Skip("nothing to hold in the seeded basket".into()));
    };
    let prepared = step("checkout.prepare (the other instance)", taken)?;
    held(&prepared)?;
    check!(
        lost.as_ref().is_err_and(|e| *e.kind() == ErrorKind::Conflict),
        "the instance that lost the order answered {:?}, not a conflict",
        lost.map(|p| p.order)
    );
    let releases = slow.releases.load(std::sync::atomic::Ordering::SeqCst);
    check!(
        releases == 0,
        "the instance that lost the order made {releases} release call(s) for holds the other one counts on"
    );
    let out = completed("commit", step("checkout.commit", other.commit(&ctx(env), &prepared).await)?)?;
    check!(
        out.charged == prepared.priced.total,
        "charged {} after showing {}",
        out.charged,
        prepared.priced.total
    );
    check!(payment.captures() == 1, "captured {} times", payment.captures());
    cleanup(p, env, &out).await
}
