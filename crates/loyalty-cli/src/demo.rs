//! `loyalty demo`: every provider against its embedded default (the memory store, simulators
//! started in-process), printed as a shop would see it: the member found, the offers, a
//! receipt, a return, a guest who joins at the till, and the steps only some providers have.
//! No credentials. Exits 1 when any step fails.

use std::process::ExitCode;
use std::sync::Arc;

use loyalty_core::checkout::{Checkout, CheckoutOutcome, CheckoutRequest, SimulatedPayment};
use loyalty_core::{
    Basket, Capabilities, Cart, CartCheckout, Consents, Context, CourierQuery, DropshipOrder, Error, Line,
    LookupKind, Member, MemberLookup, Money, NewCart, Offer, OfferKind, OrderLine, Provider, PushedRequest,
    RegisterMember, ReturnRequest, ReturnStyle, UpgradeOutcome, UpgradeRequest, UpgradeStatus,
};
use rust_decimal::Decimal;

use crate::receipt;
use crate::registry::{self, Running};

/// The demo catalogue: what every provider is asked to sell, in its own currency.
fn catalogue(currency: loyalty_core::Currency) -> Basket {
    let at = |major: i64| Money::new(major * 100, currency);
    Basket::new(currency)
        .with_line(Line::new("1", "COF-500", Decimal::from(2), at(129)).with_name("Coffee 500 g"))
        .with_line(Line::new("2", "MUG-1", Decimal::ONE, at(199)).with_name("Mug"))
}

fn lookup_text(l: &MemberLookup) -> String {
    match l {
        MemberLookup::Phone(p) => format!("phone {}", p.e164()),
        MemberLookup::Email(e) => format!("e-mail {e}"),
        MemberLookup::ProviderId(id) => format!("member id {id}"),
        MemberLookup::ExternalId(id) => format!("the shop's customer id {id}"),
        other => other.kind().label().replace('_', " "),
    }
}

fn member_text(m: &Member) -> String {
    let name = [m.first_name.as_deref(), m.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>();
    let mut text = if name.is_empty() { m.id.to_string() } else { format!("{} ({})", name.join(" "), m.id) };
    if let Some(p) = m.points {
        text.push_str(&format!(", {} points", p.normalize()));
    }
    if let Some(t) = &m.tier {
        text.push_str(&format!(", tier {t}"));
    }
    text
}

fn style_text(s: ReturnStyle) -> &'static str {
    match s {
        ReturnStyle::CancelAndResend => "the sale was cancelled and what was kept sent again",
        ReturnStyle::NegativeTransaction => "a negative transaction was sent",
        ReturnStyle::PartialRefund => "the provider's partial refund was called",
        ReturnStyle::ResendWithoutLines => "the sale was sent again without the returned goods",
    }
}

/// One provider's walk-through. Prints as it goes, so a failing step shows after the last
/// one that worked.
struct Walk<'a> {
    name: &'static str,
    running: &'a Running,
    ctx: Context,
    step: std::cell::Cell<u32>,
}

impl Walk<'_> {
    fn say(&self, what: &str, text: impl AsRef<str>) {
        self.step.set(self.step.get() + 1);
        crate::out::shown(format!(" {:>2}. {what:<9} {}", self.step.get(), text.as_ref()));
    }

    fn more(&self, text: impl AsRef<str>) {
        crate::out::shown(format!("     {:<9} {}", "", text.as_ref()));
    }

    fn provider(&self) -> &dyn Provider {
        self.running.provider.as_ref()
    }

    async fn run(&self) -> Result<(), Error> {
        let env = &self.running.env;
        let provider = self.provider();
        let caps = provider.capabilities().clone();
        let checkout = Checkout::new(Arc::new(provider), Arc::new(SimulatedPayment::new()), Arc::new(env));
        let basket = catalogue(env.basket().currency);

        // 1. The member at the till.
        let lookup =
            LookupKind::ALL.into_iter().filter(|k| caps.supports_lookup(*k)).find_map(|k| env.lookup(k));
        if let (Some(l), Some(members)) = (&lookup, provider.members()) {
            let found = members.find(&self.ctx, l).await?;
            let m = found.ok_or_else(|| {
                Error::new(loyalty_core::ErrorKind::NotFound, self.name, "members.find")
                    .with_message(format!("the demo member is not there ({})", lookup_text(l)))
            })?;
            self.say("member", format!("found {} by {}", member_text(&m), lookup_text(l)));
        }

        // 2. What the member can use on this basket.
        let offers: Vec<Offer> = match (provider.offers(), caps.list_offers) {
            (Some(o), true) => o.list(&self.ctx, Some(env.member_id()), Some(&basket)).await?,
            _ => Vec::new(),
        };
        if caps.list_offers {
            let titles: Vec<&str> = offers.iter().map(|o| o.title.as_str()).collect();
            self.say(
                "offers",
                if titles.is_empty() { "none for this basket".to_string() } else { titles.join("; ") },
            );
        }

        if !caps.send_transaction && caps.carts {
            self.say(
                "basket",
                format!("{} records no sales made elsewhere: it sells its own catalogue in carts", self.name),
            );
            return self.carts(&caps).await;
        }

        // 3. The checkout, confirming the first offer that waits for the customer's yes (a
        //    basket coupon, or an offer the provider priced for this basket).
        let mut req = CheckoutRequest::new(format!("DEMO-{}-1", self.name.to_uppercase()), basket.clone());
        if let Some(l) = lookup {
            req = req.identify(l);
        }
        let asks = |o: &&Offer| {
            o.uses_left != Some(0)
                && (o.is_basket_coupon()
                    || matches!(o.kind, OfferKind::VendorPriced { discount: Some(_), .. }))
        };
        if let Some(c) = offers.iter().find(asks) {
            req = req.confirm(c.id.clone());
        }
        if let Some(d) = env.department() {
            req = req.department(d.clone());
        }
        let sale = checkout.complete(&self.ctx, &req).await?.into_outcome()?;
        self.say("checkout", "the receipt:");
        receipt::receipt(self.name, &sale).iter().for_each(|l| self.more(l));

        // 4. One coffee comes back.
        if caps.send_transaction && !caps.return_styles.is_empty() {
            self.give_back(&checkout, &sale).await?;
        }

        // 5. A guest who ticks both consents joins at the till.
        if caps.register {
            let email = format!("ada.lovelace.{}@example.com", self.name);
            let consents = Consents { membership: true, order_history: true, ..Consents::default() };
            let mut sign_up = RegisterMember::new()
                .with_phone(env.fresh_phone())
                .with_email(email.clone())
                .with_consents(consents);
            let mut guest = CheckoutRequest::new(format!("DEMO-{}-2", self.name.to_uppercase()), basket);
            if let Some(d) = env.department() {
                sign_up = sign_up.with_department(d.clone());
                guest = guest.department(d.clone());
            }
            let g = checkout.complete(&self.ctx, &guest.sign_up(sign_up)).await?.into_outcome()?;
            let member = g.member.map_or_else(|| "no member".to_string(), |m| m.to_string());
            self.say("guest", format!("{email} joined as {member} and paid {}", g.charged));
        }
        if caps.carts {
            self.carts(&caps).await?;
        }
        if caps.dropshipping {
            self.dropship().await?;
        }
        Ok(())
    }

    /// A dropship order through to the wholesaler's shipment notice: stock, the couriers that
    /// serve the basket and address, the order placed once under the shop's reference, then
    /// dispatched and announced.
    async fn dropship(&self) -> Result<(), Error> {
        let env = &self.running.env;
        let (Some((product, courier)), Some(f)) = (env.dropship(), self.provider().fulfilment()) else {
            return Ok(());
        };
        let line = OrderLine::new(product.clone(), Decimal::from(2));
        let stock = f.stock(&self.ctx, std::slice::from_ref(&line)).await?;
        let available =
            stock.first().map_or_else(|| "unknown".to_string(), |s| s.available.normalize().to_string());
        self.say("stock", format!("product {product}: {available} available, 2 wanted"));
        let recipient = env.recipient();
        let query = CourierQuery::for_basket(vec![line.clone()], recipient.address.clone());
        let couriers = f.couriers(&self.ctx, &query).await?;
        let listed: Vec<String> = couriers
            .iter()
            .map(|c| match c.cost {
                Some(cost) => format!("{} ({cost})", c.name),
                None => c.name.clone(),
            })
            .collect();
        self.say("couriers", listed.join("; "));
        let reference = format!("DEMO-{}-SHIP", self.name.to_uppercase());
        let order = DropshipOrder::new(reference.clone(), recipient, courier.clone())
            .with_line(product.clone(), Decimal::from(2));
        let placed = f.place_order(&self.ctx, &order).await?;
        let again = f.place_order(&self.ctx, &order).await?;
        self.say(
            "order",
            format!("placed as wholesaler order {} for the shop's order {reference}", placed.order_id),
        );
        if again.order_id == placed.order_id && again.duplicate {
            self.more("placed again under the same reference: the same order, reported as a duplicate");
        }
        let Some(dispatched) = env.dispatch(&placed.order_id).await else { return Ok(()) };
        let pushed = dispatched.map_err(|e| {
            Error::new(loyalty_core::ErrorKind::Unavailable, self.name, "dispatch").with_message(e)
        })?;
        let status = f.order_status(&self.ctx, &placed.order_id).await?;
        self.say("shipped", format!("status {}, tracking {}", status.status, status.shipments.join(", ")));
        if let Some(push) = pushed {
            let notice = f.parse_shipment_notice(PushedRequest::new(&push.headers, &push.body))?;
            self.more(format!(
                "shipment notice for order {}: tracking {}{}",
                notice.order_id,
                notice.tracking_numbers.join(", "),
                if notice.verified { " (signature checked)" } else { "" }
            ));
        }
        Ok(())
    }

    /// A cart of the provider's own products: opened, paid, and (where it can) upgraded.
    async fn carts(&self, caps: &Capabilities) -> Result<(), Error> {
        let (Some(setup), Some(carts)) = (self.running.env.carts(), self.provider().carts()) else {
            return Ok(());
        };
        let mut request =
            NewCart::new(setup.currency, setup.chain[0].clone(), Decimal::from(2)).test(setup.test);
        if let Some(ip) = &setup.customer_ip {
            request = request.from_ip(ip.clone());
        }
        let cart = carts.create(&self.ctx, &request).await?;
        let cart = carts.set_customer(&self.ctx, &cart.id, &setup.customer).await?;
        self.say("cart", format!("cart {} opened:", cart.id));
        cart_lines(&cart).iter().for_each(|l| self.more(l));
        match carts.checkout(&self.ctx, &cart.id, &setup.card).await? {
            CartCheckout::Paid(order) => {
                self.more(format!("paid {} by card: order {}", order.charged, order.order_id))
            }
            CartCheckout::Declined { reason } => {
                return Err(Error::new(loyalty_core::ErrorKind::Rejected, self.name, "carts.checkout")
                    .with_message(format!("the demo card was declined: {reason}")))
            }
            _ => {
                self.more("the payment waits for the customer");
                return Ok(());
            }
        }
        let (Some(line), Some(to)) = (cart.line_of(&setup.chain[0]), setup.chain.get(1)) else {
            return Ok(());
        };
        if !caps.cart_upgrades {
            return Ok(());
        }
        // The shop says what it sold: a vendor whose cart GET does not mark upgrades needs it.
        let upgrade = UpgradeRequest::new(line.line_id.clone(), to.clone(), Decimal::ONE)
            .with_first_product(setup.chain[0].clone());
        let text = match carts.upgrade(&self.ctx, &cart.id, &upgrade).await? {
            UpgradeOutcome::Charged { amount, .. } => format!("charged {amount} on the card used"),
            UpgradeOutcome::Pending { amount, .. } => {
                format!("{amount} to be charged on the card used once the vendor settles it")
            }
            UpgradeOutcome::Discarded { .. } => "the charge failed: the original product ships".to_string(),
            UpgradeOutcome::PaymentRequired { cart, amount, .. } => {
                format!("{amount} to pay in a new cart {}", cart.id)
            }
            _ => "accepted".to_string(),
        };
        self.say("upgrade", format!("one unit of {} upgraded to {to}: {text}", setup.chain[0]));
        let after = carts.get(&self.ctx, &cart.id).await?;
        cart_lines(&after).iter().for_each(|l| self.more(l));
        Ok(())
    }

    async fn give_back(&self, checkout: &Checkout<'_>, sale: &CheckoutOutcome) -> Result<(), Error> {
        let Some(line) = sale.transaction.lines.first() else { return Ok(()) };
        let env = &self.running.env;
        let ret = ReturnRequest::new(
            Some(sale.transaction.id.clone()),
            format!("{}-R1", sale.transaction.id).into(),
            env.now(),
        )
        .with_line(line.line_id.clone(), Decimal::ONE.min(line.quantity));
        let r = checkout.process_return(&self.ctx, &ret, None).await?;
        let name = line.name.clone().unwrap_or_else(|| line.product_id.to_string());
        self.say("return", format!("1 x {name} came back: {} refunded", r.refunded));
        if let Some(style) = r.style {
            self.more(style_text(style));
        }
        for o in &r.reinstated {
            self.more(format!("{} can be used again", receipt::title(&sale.applied_offers, o)));
        }
        if r.stamps_taken_back > 0 {
            let n = r.stamps_taken_back;
            self.more(format!("{n} stamp{} taken back", if n == 1 { "" } else { "s" }));
        }
        Ok(())
    }
}

fn cart_lines(cart: &Cart) -> Vec<String> {
    let mut out: Vec<String> = cart
        .lines
        .iter()
        .map(|l| {
            let mut text =
                format!("  {} x product {} @ {}", l.quantity.normalize(), l.product_id, l.unit_price);
            if !l.discount.is_zero() {
                text.push_str(&format!(", {} off", l.discount));
            }
            text.push_str(&format!(" = {}", l.net));
            if let Some(u) = &l.upgrade {
                let status = match u.status {
                    UpgradeStatus::Pending => "not charged yet",
                    UpgradeStatus::Charged => "charged",
                };
                text.push_str(&format!(" (upgraded from {}, {status})", u.from));
            }
            text
        })
        .collect();
    if !cart.shipping.is_zero() {
        out.push(format!("  shipping {}", cart.shipping));
    }
    out.push(format!("  total {}", cart.total));
    out
}

fn heading(name: &str, running: &Running) -> String {
    let what = match running.target {
        loyalty_conformance::Target::Memory => "the in-memory reference provider".to_string(),
        _ => match running.info.iter().find(|(k, _)| *k == "url") {
            Some((_, url)) => format!("its simulator at {url}"),
            None => "its simulator".to_string(),
        },
    };
    format!("== {name}: {what}")
}

/// Runs the demo on every registered provider; exit 1 if any step failed.
pub fn execute() -> ExitCode {
    let runtime = match crate::ops::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async {
        crate::out::line("Loyalty Bridge demo: one basket, every provider, no credentials.");
        crate::out::line(
            "The basket: 2 x Coffee 500 g at 129.00 and 1 x Mug at 199.00, in each provider's currency.",
        );
        let mut failed = Vec::new();
        for entry in registry::adapters() {
            crate::out::line("");
            let result = match (entry.embedded)().await {
                Ok(running) => {
                    crate::out::line(heading(entry.name, &running));
                    let ctx = match running.env.department() {
                        Some(d) => Context::new().with_department(d.clone()),
                        None => Context::new(),
                    };
                    Walk { name: entry.name, running: &running, ctx, step: Default::default() }.run().await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                crate::out::error_line(format!("{}: {e}", entry.name));
                failed.push(entry.name);
            }
        }
        if failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            crate::out::error_line(format!("the demo failed on {}", failed.join(", ")));
            ExitCode::from(1)
        }
    })
}
