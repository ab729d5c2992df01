//! Conversions between the core and eManage's shapes, both ways: core requests into wire
//! requests (failures are `Invalid`), wire replies into core values (failures are `Protocol`).
//!
//! Money: eManage speaks decimal major units (§4, §13). Vendor amounts become `Money`
//! exactly: an amount with more digits than the campaign currency has is refused, never
//! rounded. The one rounding is the vendor's own, compared here: a discounted unit price is the
//! line's net divided by its quantity, rounded half-up to the minor unit (§9.5: 3 × 33.33 at
//! 50 % nets 49.99 and shows 16.66 a unit). A vendor price the price list does not explain is
//! taken as the vendor's (see [`cart`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use loyalty_core::{
    pricing, Basket, CardSecret, Cart, CartId, CartLine, CartPayment, CartStatus, Currency, Customer, Line,
    LineUpgrade, Money, Offer, OfferKind, OfferRef, OrderId, ProductId, Rounding, UpgradeStatus,
};
use rust_decimal::{Decimal, RoundingStrategy};

use super::{Conv, ConversionError};
use crate::config::{DiscountCount, DiscountMode, ProgressiveConfig};
use crate::{names, wire};

/// The campaign's price list by product id (§5.3), and the entries of it that did not read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalogue {
    products: BTreeMap<i64, wire::ProductPrice>,
    /// Why a listed product's entry did not read, by product id.
    unreadable: BTreeMap<i64, ConversionError>,
}

impl Catalogue {
    pub(crate) fn new(list: Vec<wire::ProductPrice>) -> Catalogue {
        Catalogue {
            products: list.into_iter().map(|p| (p.product_id, p)).collect(),
            unreadable: BTreeMap::new(),
        }
    }

    /// The decoded list, remembering which listed products did not read.
    pub(crate) fn from_reply(reply: wire::PriceListReply) -> Catalogue {
        let mut c = Catalogue::new(reply.products);
        for s in reply.skipped {
            if let Some(id) = s.product_id {
                c.unreadable.entry(id).or_insert(s.error);
            }
        }
        c
    }

    pub(crate) fn product(&self, id: i64) -> Option<&wire::ProductPrice> {
        self.products.get(&id)
    }

    /// Why `id`'s entry in the price list did not read, when the list has one that did not.
    pub(crate) fn unreadable(&self, id: i64) -> Option<ConversionError> {
        self.unreadable.get(&id).map(|e| {
            ConversionError::new(
                e.field.clone(),
                format!("{} (product {id} cannot be priced from the campaign's price list)", e.reason),
            )
        })
    }

    /// Every product id, as core ids.
    pub(crate) fn ids(&self) -> Vec<ProductId> {
        self.products.keys().map(|id| ProductId::new(id.to_string())).collect()
    }

    /// The selling price of `id`, or a `Protocol`-side error naming `field` (the entry's own
    /// field when the list has an entry for `id` that did not read).
    pub(crate) fn price(&self, id: i64, currency: Currency, field: &str) -> Conv<Money> {
        let p = self.product(id).ok_or_else(|| {
            self.unreadable(id).unwrap_or_else(|| {
                ConversionError::new(field, format!("product {id} is not in the campaign's price list"))
            })
        })?;
        money(p.discounted_price, currency, field)
    }
}

/// A core product id as eManage's integer (§4: the core id is the eManage id as text).
pub(crate) fn product_id(p: &ProductId, field: &str) -> Conv<i64> {
    p.as_str()
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ConversionError::new(field, format!("{p:?} is no eManage product id")))
}

/// A core quantity as eManage's whole units (§4: `quantity` is an integer).
pub(crate) fn units(q: Decimal, field: &str) -> Conv<u32> {
    if q < Decimal::ONE || !q.fract().is_zero() {
        return Err(ConversionError::new(field, format!("eManage sells whole units, at least one; got {q}")));
    }
    u32::try_from(q).map_err(|_| ConversionError::new(field, format!("{q} units is too many")))
}

/// A vendor amount as money, exactly.
pub(crate) fn money(d: Decimal, currency: Currency, field: &str) -> Conv<Money> {
    Money::from_decimal_exact(d, currency).map_err(|e| ConversionError::new(field, e.to_string()))
}

fn money_op(field: &str, e: loyalty_core::MoneyError) -> ConversionError {
    ConversionError::new(field, e.to_string())
}

/// The campaign's progressive discount as a core offer, attributed to the campaign: its id
/// and reference are the web key (§8 \[I\]), and it carries the campaign's `count` and `mode`
/// so the core engine prices what the vendor charges. Without configured products every
/// product of the price list qualifies.
pub(crate) fn progressive_offer(
    web_key: &str,
    cfg: &ProgressiveConfig,
    catalogue: Option<&Catalogue>,
) -> Offer {
    let products = if cfg.product_ids.is_empty() {
        catalogue.map(Catalogue::ids).unwrap_or_default()
    } else {
        cfg.product_ids.clone()
    };
    let title = cfg
        .tiers
        .iter()
        .map(|t| {
            format!(
                "{} % off from {} unit{}",
                t.percent.normalize(),
                t.min_units,
                if t.min_units == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    Offer::new(
        web_key,
        format!("Progressive discount: {title}"),
        OfferKind::ProgressiveDiscount {
            tiers: cfg.tiers.clone(),
            products,
            count: cfg.count,
            mode: cfg.mode,
        },
    )
    .with_reference(OfferRef::id(web_key))
}

/// The core payment as eManage's `payment` (§6.3).
pub(crate) fn payment(p: &CartPayment) -> Conv<wire::Payment> {
    match p {
        CartPayment::Card(card) => {
            if card.holder.trim().is_empty() {
                return Err(ConversionError::new("payment.holder", "the name on the card is required"));
            }
            if !(1..=12).contains(&card.expiry_month) || !(1000..=9999).contains(&card.expiry_year) {
                return Err(ConversionError::new(
                    "payment.expiry",
                    "expected a month 1-12 and a four-digit year",
                ));
            }
            let number: String = card.number.expose().chars().filter(|c| !matches!(c, ' ' | '-')).collect();
            Ok(wire::Payment::Card {
                name: card.holder.trim().to_string(),
                creditcard: CardSecret::new(number),
                credit_card_brand: card.brand.clone(),
                // `expiration: "MM/YYYY"` (§6.3).
                expiration: format!("{:02}/{:04}", card.expiry_month, card.expiry_year),
                cvv: card.cvv.clone(),
            })
        }
        CartPayment::Processor { id } => {
            let id = id.trim().parse::<i64>().map_err(|_| {
                ConversionError::new("payment.id", format!("{id:?} is no eManage paymentProcessorId"))
            })?;
            Ok(wire::Payment::Processor { payment_processor_id: id })
        }
        // A card on file pays upsell *orders* (`payment.cardId`, §6.3); the cart checkout body
        // takes a card or a processor only (§6.4 row 7).
        CartPayment::CardOnFile { .. } => Err(ConversionError::new(
            "payment",
            "eManage cart checkout takes a card or a processor; a card on file pays upsell orders only",
        )),
        _ => Err(ConversionError::new("payment", "a payment kind eManage does not take")),
    }
}

/// The core customer as `customers/new` (§6.4 row 6): e-mail and a full shipping address.
pub(crate) fn customer(c: &Customer) -> Conv<wire::CustomerRequest> {
    let need = |v: Option<&String>, field: &str| -> Conv<String> {
        v.map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ConversionError::new(field, "required"))
    };
    let email = need(c.email.as_ref(), "customer.email")?;
    let address = c.address.as_ref().ok_or_else(|| ConversionError::new("customer.address", "required"))?;
    let country_code = need(address.country_code.as_ref(), "customer.address.country_code")?;
    if country_code.len() != 2 || !country_code.chars().all(|ch| ch.is_ascii_alphabetic()) {
        return Err(ConversionError::new(
            "customer.address.country_code",
            "expected an ISO 3166-1 alpha-2 code",
        ));
    }
    Ok(wire::CustomerRequest {
        email,
        shipping_address: wire::Address {
            first_name: need(c.first_name.as_ref(), "customer.first_name")?,
            last_name: need(c.last_name.as_ref(), "customer.last_name")?,
            address1: need(address.street.as_ref(), "customer.address.street")?,
            address2: None,
            city: need(address.city.as_ref(), "customer.address.city")?,
            zip_code: need(address.zip_code.as_ref(), "customer.address.zip_code")?,
            state: address.state.clone().filter(|s| !s.trim().is_empty()),
            country_code: country_code.to_ascii_uppercase(),
            phone_number: c.phone.as_ref().map(|p| format!("{}{}", p.country_code, p.number)),
        },
    })
}

/// What the cart conversion prices with.
pub(crate) struct Pricing<'a> {
    pub catalogue: &'a Catalogue,
    /// The campaign's progressive discount, when it has one.
    pub offer: Option<&'a Offer>,
    /// How the campaign's progressive discount counts and applies (§8 `count`, `mode`).
    pub rule: DiscountRule,
    pub currency: Currency,
    pub now: DateTime<Utc>,
}

/// How the vendor applies the progressive discount (§8, §15.2): what reaches a tier and which
/// units get its percentage. The default is the contract's (`units`, `all_units`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DiscountRule {
    pub count: DiscountCount,
    pub mode: DiscountMode,
}

/// An upgrade line's status, when the vendor shows one. `None`: the upgrade was discarded
/// (§7.2 rule 6: the line is the original product again, and leaves no upgrade on the line).
/// A status this adapter does not know reads as pending: taken, its charge not shown.
fn upgrade_status(s: &wire::UpgradeStatus) -> Option<UpgradeStatus> {
    match s {
        wire::UpgradeStatus::Preview | wire::UpgradeStatus::Unknown(_) => Some(UpgradeStatus::Pending),
        wire::UpgradeStatus::Charged => Some(UpgradeStatus::Charged),
        wire::UpgradeStatus::Discarded => None,
    }
}

fn cart_status(s: Option<&wire::SessionStatus>) -> Conv<CartStatus> {
    match s {
        // Without a status the cart reads as open (see `names::cart`).
        None | Some(wire::SessionStatus::Open) => Ok(CartStatus::Open),
        Some(wire::SessionStatus::AwaitingPayment) => Ok(CartStatus::AwaitingPayment),
        Some(wire::SessionStatus::Paid) => Ok(CartStatus::Paid),
        Some(wire::SessionStatus::Discarded) => Ok(CartStatus::Discarded),
        Some(wire::SessionStatus::Unknown(other)) => {
            Err(ConversionError::new(crate::names::cart::STATUS, format!("unknown session status {other:?}")))
        }
    }
}

/// One line before the discount: what it is, what it costs a unit, and what it counts as for
/// the progressive discount.
struct Priced {
    product: i64,
    quantity: u32,
    /// The vendor's exact amount for the line, when it sends one (`names::cart::LINE_TOTAL`).
    vendor_net: Option<Money>,
    /// The unit price the price list gives; `None` when it cannot price the line (a product
    /// no longer listed, a price that does not fit the currency).
    unit: Option<Money>,
    vendor_unit: Money,
    /// Product and unit price the discount sees; `None` for a line it does not see.
    basis: Option<(i64, Money)>,
    upgrade: Option<LineUpgrade>,
    /// The vendor's unit price before discount, when it shows one that reads
    /// (`names::cart::LIST_PRICE`).
    list_price: Option<Money>,
    role: Role,
}

/// What a cart line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A product as bought (or back to it after a discarded upgrade).
    Plain,
    /// The head of an upgrade chain, standing for the units of the product first paid for.
    Head,
    /// An upgrade cart's difference line (§7.2 rule 7).
    Difference,
}

/// The cart GET as a core cart, priced here from the price list and checked against what the
/// vendor charges.
///
/// Only the contract's fields (`productId`, `price`, `quantity`, `shippingPrice`, §6.4 row 5)
/// are needed; the simulator's extras are read when present (`names::cart`). Each line's unit
/// price is the catalogue price (an upgrade head: the higher of its own and the product first
/// paid for, since nothing is refunded, §7.2 rule 3); its discount is the campaign's
/// progressive discount by the vendor's rule (see `discounts`), an upgrade head counting as
/// the unit it replaced (§8).
///
/// The vendor prices the cart itself (§6.4 notes, §8), so its amounts are what is charged. A
/// line whose vendor unit price is `net / quantity` (half-up) of that pricing, and whose
/// vendor line total (when sent) is that `net`, keeps the discount it explains. Any other line
/// (a campaign price changed since the price list was read, §1; an upgrade cart's difference
/// line; a discount rule the configuration does not describe) is reported without the
/// campaign's discount at the vendor's amount, never refused: its line total when the reply
/// carries one (`names::cart::LINE_TOTAL`, see `vendor_line`), else the contract's reading of
/// `price` as the unit price (§6.4 row 5), times the quantity, as the vendor's own clients
/// total a cart (§6.4 notes). That product is not exact: the vendor rounds a discounted unit
/// price from the line's amount (§9.5: 49.99 for three shows as 16.66), so without a line
/// total such a line can be off by up to half a minor unit per unit, and a debug log says so.
pub(crate) fn cart(id: &CartId, w: &wire::CartResponse, pricing: &Pricing<'_>) -> Conv<Cart> {
    priced_cart(id, w, pricing).map(|p| p.cart)
}

/// What a cart line shows of its payment beyond the core line, for an upgrade's amount and a
/// paid cart's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineFacts {
    /// For a plain line: the unit price before discount it was priced at, `a0` of an upgrade
    /// of it (§7.2 rule 3). The vendor's `listPrice` when the cart shows it
    /// ([`names::cart::LIST_PRICE`]); else the price list's when it explains the line; else,
    /// for a product the configured discount cannot reach, the vendor's unit price (nothing
    /// discounted it). `None` otherwise (a discounted line the price list no longer explains:
    /// its unit price is after a discount the cart does not show) and for any other line.
    pub list_unit: Option<Money>,
    /// What the line adds over the units it stands for as paid at checkout: for an upgrade
    /// head the price list explains, `q × (unit − a0)` (the chain's difference, charged by the
    /// upgrade, never by the checkout); zero for any other line; `None` for a head the price
    /// list does not explain.
    pub upgrade_surcharge: Option<Money>,
}

/// A cart as read and priced, with the facts of each line (same order as `cart.lines`).
#[derive(Debug, Clone)]
pub(crate) struct PricedCart {
    pub cart: Cart,
    pub lines: Vec<LineFacts>,
}

/// [`cart`], with what each line shows of its payment ([`LineFacts`]).
pub(crate) fn priced_cart(id: &CartId, w: &wire::CartResponse, pricing: &Pricing<'_>) -> Conv<PricedCart> {
    let currency = pricing.currency;
    let upgrade_cart = w.upgrade_parent_session_id.is_some();
    let listed = |product: i64| pricing.catalogue.price(product, currency, "productId").ok();
    // Whether the configured discount may have reached `product`: a product the offer does not
    // name, or no offer at all, was sold at its price; a product the price list no longer
    // holds may have been one of "every product of the campaign".
    let discountable = |product: i64| match pricing.offer.map(|o| &o.kind) {
        None => false,
        Some(OfferKind::ProgressiveDiscount { products, .. }) => {
            pricing.catalogue.product(product).is_none()
                || products.contains(&ProductId::new(product.to_string()))
        }
        Some(_) => true,
    };
    let mut lines = Vec::with_capacity(w.products.len());
    let mut shipping = Money::zero(currency);
    for (i, p) in w.products.iter().enumerate() {
        let field = |name: &str| format!("products[{i}].{name}");
        let vendor_unit = money(p.price, currency, &field("price"))?;
        let vendor_net =
            p.line_total.map(|t| money(t, currency, &field(names::cart::LINE_TOTAL))).transpose()?;
        let ship = money(p.shipping_price, currency, &field("shippingPrice"))?;
        let list_price = p.list_price.and_then(|d| money(d, currency, &field(names::cart::LIST_PRICE)).ok());
        shipping = shipping.checked_add(ship).map_err(|e| money_op(&field("shippingPrice"), e))?;
        let status = p.upgrade_status.as_ref().map_or(Some(UpgradeStatus::Pending), upgrade_status);
        let origin = p.upgraded_from_product_id.filter(|_| status.is_some());
        let line = match (upgrade_cart, origin) {
            // The difference line of an upgrade cart is priced by the vendor alone (§7.2 rule 7).
            (true, _) => Priced {
                product: p.product_id,
                quantity: p.quantity,
                vendor_net,
                unit: Some(vendor_unit),
                vendor_unit,
                basis: None,
                upgrade: None,
                list_price,
                role: Role::Difference,
            },
            (false, Some(origin)) => {
                let prices = listed(origin).zip(listed(p.product_id));
                Priced {
                    product: p.product_id,
                    quantity: p.quantity,
                    vendor_net,
                    unit: prices.map(|(a0, ak)| if ak.minor >= a0.minor { ak } else { a0 }),
                    vendor_unit,
                    basis: prices.map(|(a0, _)| (origin, a0)),
                    upgrade: status.map(|s| LineUpgrade::new(origin.to_string(), s)),
                    list_price,
                    role: Role::Head,
                }
            }
            (false, None) => {
                let unit = listed(p.product_id);
                Priced {
                    product: p.product_id,
                    quantity: p.quantity,
                    vendor_net,
                    unit,
                    vendor_unit,
                    basis: unit.map(|u| (p.product_id, u)),
                    upgrade: None,
                    list_price,
                    role: Role::Plain,
                }
            }
        };
        lines.push(line);
    }
    let discounts = discounts(&lines, pricing)?;
    let mut out = Vec::with_capacity(lines.len());
    let mut facts = Vec::with_capacity(lines.len());
    for (i, (l, discount)) in lines.iter().zip(discounts).enumerate() {
        let field = format!("products[{i}].price");
        let quantity = i64::from(l.quantity);
        let explained = match l.unit {
            Some(unit) => {
                let gross = unit.checked_mul(quantity).map_err(|e| money_op(&field, e))?;
                let net = gross.checked_sub(discount).map_err(|e| money_op(&field, e))?;
                let shown = Money::from_decimal(
                    net.to_decimal() / Decimal::from(l.quantity),
                    currency,
                    Rounding::HalfUp,
                )
                .map_err(|e| money_op(&field, e))?;
                let same_net = l.vendor_net.is_none_or(|v| v == net);
                (shown == l.vendor_unit && same_net).then_some((unit, discount, net))
            }
            None => None,
        };
        let was_explained = explained.is_some();
        let (unit, discount, net) = match explained {
            Some(priced) => priced,
            None => {
                // The vendor's amount is the one charged; its reason is not shown.
                match l.vendor_net {
                    Some(net) => vendor_line(l.vendor_unit, l.quantity, net, &field)?,
                    None => {
                        tracing::debug!(
                            product = l.product,
                            vendor_unit = %l.vendor_unit.amount_string(),
                            quantity = l.quantity,
                            "eManage line price not explained by the price list and no line total sent; \
                             reported as unit price × quantity, which may differ from the vendor's \
                             rounded line amount"
                        );
                        let net = l.vendor_unit.checked_mul(quantity).map_err(|e| money_op(&field, e))?;
                        (l.vendor_unit, Money::zero(currency), net)
                    }
                }
            }
        };
        let mut line =
            CartLine::new(l.product.to_string(), l.product.to_string(), Decimal::from(l.quantity), unit, net)
                .with_discount(discount);
        if let Some(u) = &l.upgrade {
            line = line.with_upgrade(u.clone());
        }
        let zero = Money::zero(currency);
        facts.push(match l.role {
            Role::Difference => LineFacts { list_unit: None, upgrade_surcharge: Some(zero) },
            Role::Plain => {
                let undiscounted = was_explained || !discountable(l.product);
                LineFacts {
                    list_unit: l.list_price.or(undiscounted.then_some(unit)),
                    upgrade_surcharge: Some(zero),
                }
            }
            Role::Head => {
                // Explained, the head's unit is `max(a0, ak)` on the unit it replaced (`basis`).
                let surcharge = match (was_explained, l.basis) {
                    (true, Some((_, a0))) => Some(
                        unit.checked_sub(a0)
                            .and_then(|d| d.checked_mul(quantity))
                            .map_err(|e| money_op(&field, e))?,
                    ),
                    _ => None,
                };
                LineFacts { list_unit: None, upgrade_surcharge: surcharge }
            }
        });
        out.push(line);
    }
    let nets = Money::sum(currency, out.iter().map(|l| l.net)).map_err(|e| money_op("products", e))?;
    let total = nets.checked_add(shipping).map_err(|e| money_op("products", e))?;
    let mut cart = Cart::new(id.clone(), cart_status(w.status.as_ref())?, out, total).with_shipping(shipping);
    if let Some(parent) = &w.upgrade_parent_session_id {
        cart = cart.with_upgrade_parent(CartId::new(parent.clone()));
    }
    if let Some(n) = &w.shopping_cart_number {
        cart = cart.with_order(OrderId::new(n.clone()));
    }
    Ok(PricedCart { cart, lines: facts })
}

/// A line the price list does not explain, at the vendor's exact amount `net`: unit price,
/// discount and net.
///
/// The vendor's unit price is `net / quantity` rounded half-up (§9.5: 49.99 for three shows as
/// 16.66), so it can fall short of `net`. The unit price reported is the smallest that covers
/// `net` (the vendor's own when it does) and the rounding shows as a discount below one minor
/// unit per unit, so that unit price × quantity − discount = net and no discount is negative
/// (49.99 for three: 16.67 a unit, 0.02 off).
fn vendor_line(vendor_unit: Money, quantity: u32, net: Money, field: &str) -> Conv<(Money, Money, Money)> {
    let q = i64::from(quantity);
    let covering = net
        .minor
        .checked_add(q - 1)
        .map(|m| m / q)
        .ok_or_else(|| ConversionError::new(field, "amounts too large"))?;
    let unit = if vendor_unit.minor >= covering { vendor_unit } else { Money::new(covering, net.currency) };
    let gross = unit.checked_mul(q).map_err(|e| money_op(field, e))?;
    let discount = gross.checked_sub(net).map_err(|e| money_op(field, e))?;
    Ok((unit, discount, net))
}

/// What the vendor says the cart costs (`names::cart::TOTAL`), when it says it: the amount a
/// checkout of the cart charges.
pub(crate) fn vendor_total(w: &wire::CartResponse, currency: Currency) -> Conv<Option<Money>> {
    w.total.map(|t| money(t, currency, names::cart::TOTAL)).transpose()
}

/// Each line's discount, by the basis it counts as.
///
/// The progressive discount follows the vendor's rule (§8, §9.5), not the engine's: lines
/// counting as the same product (a plain line and the upgrade heads that replaced its units)
/// form a group, in the order the cart lists them. The tier is reached by the qualifying units
/// of the whole cart (`count = units`) or by its qualifying products (`count = lines`). Under
/// `mode = all_units` its percentage applies to each group's total in minor units; under
/// `marginal_unit` unit (or product) *n* gets the tier reached at *n*. Either way one half-up
/// rounding per group, then a split over the group's lines by largest remainder (ties: the
/// earlier line). The engine, pricing the listed offer by the same `count` and `mode` (the
/// checkout's price), rounds once over the whole cart, which can differ from what the
/// vendor charges by a cent a group (33.33 + 60.01 at 50 %: the vendor takes 16.67 + 30.01,
/// one rounding over both would take 46.67).
fn discounts(lines: &[Priced], pricing: &Pricing<'_>) -> Conv<Vec<Money>> {
    let zero = Money::zero(pricing.currency);
    let mut out = vec![zero; lines.len()];
    let Some(offer) = pricing.offer else { return Ok(out) };
    let OfferKind::ProgressiveDiscount { tiers, products, .. } = &offer.kind else {
        return engine_discounts(lines, offer, pricing);
    };
    if !offer.is_valid_at(pricing.now) || offer.uses_left == Some(0) {
        return Ok(out);
    }
    // By the product each line counts as, first appearance first: (product, unit, lines).
    let mut groups: Vec<(i64, Money, Vec<usize>)> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some((product, unit)) = l.basis else { continue };
        if !products.contains(&ProductId::new(product.to_string())) {
            continue;
        }
        match groups.iter_mut().find(|g| g.0 == product) {
            Some(g) => g.2.push(i),
            None => groups.push((product, unit, vec![i])),
        }
    }
    let units_of = |members: &[usize]| -> u64 { members.iter().map(|i| u64::from(lines[*i].quantity)).sum() };
    let reached = match pricing.rule.count {
        DiscountCount::Units => groups.iter().map(|g| units_of(&g.2)).sum::<u64>(),
        DiscountCount::Lines => groups.len() as u64,
    };
    let cannot = |why: String| ConversionError::new("products", format!("cannot price the cart: {why}"));
    let percent_at = |n: u64| -> Conv<Decimal> {
        let tier = tiers
            .iter()
            .filter(|t| u64::from(t.min_units) <= n)
            .max_by(|a, b| a.min_units.cmp(&b.min_units).then(a.percent.cmp(&b.percent)));
        let p = tier.map_or(Decimal::ZERO, |t| t.percent);
        if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED {
            return Err(cannot(format!("a tier of {p} %")));
        }
        Ok(p)
    };
    // Where each tier starts: `percent_at` is the same from one start to the next.
    let mut starts: Vec<u64> = tiers.iter().map(|t| u64::from(t.min_units)).collect();
    starts.sort_unstable();
    starts.dedup();
    // The sum of `percent_at(n)` over units `first..=last`, tier by tier rather than unit by
    // unit, so a line of a billion units prices as fast as one of ten.
    let percent_sum = |first: u64, last: u64| -> Conv<Decimal> {
        let mut sum = Decimal::ZERO;
        for (k, &start) in starts.iter().enumerate() {
            let end = starts.get(k + 1).map_or(u64::MAX, |next| next - 1);
            let (lo, hi) = (start.max(first), end.min(last));
            if lo <= hi {
                let part = percent_at(lo)?.checked_mul(Decimal::from(hi - lo + 1));
                sum = part
                    .and_then(|p| sum.checked_add(p))
                    .ok_or_else(|| cannot("amounts too large".into()))?;
            }
        }
        Ok(sum)
    };
    let mut units_before = 0u64;
    for (gi, (_, unit, members)) in groups.iter().enumerate() {
        let weights: Vec<i64> = members.iter().map(|i| i64::from(lines[*i].quantity)).collect();
        let units = units_of(members);
        // The group's discount in minor units times 100, before its one rounding.
        let unit_minor = Decimal::from(unit.minor);
        let percents = match (pricing.rule.mode, pricing.rule.count) {
            (DiscountMode::AllUnits, _) => percent_at(reached)?.checked_mul(Decimal::from(units)),
            (DiscountMode::MarginalUnit, DiscountCount::Lines) => {
                percent_at(gi as u64 + 1)?.checked_mul(Decimal::from(units))
            }
            (DiscountMode::MarginalUnit, DiscountCount::Units) => {
                Some(percent_sum(units_before + 1, units_before + units)?)
            }
        };
        let raw = percents
            .and_then(|p| p.checked_mul(unit_minor))
            .ok_or_else(|| cannot("amounts too large".into()))?;
        units_before += units;
        let off =
            (raw / Decimal::ONE_HUNDRED).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        let off = i64::try_from(off).map_err(|e| cannot(e.to_string()))?;
        for (i, minor) in members.iter().zip(pricing::allocate(off, &weights)) {
            out[*i] = Money::new(minor, pricing.currency);
        }
    }
    Ok(out)
}

/// Any other offer: the core engine's discount of each line.
fn engine_discounts(lines: &[Priced], offer: &Offer, pricing: &Pricing<'_>) -> Conv<Vec<Money>> {
    let zero = Money::zero(pricing.currency);
    let mut basket = Basket::new(pricing.currency);
    for (i, l) in lines.iter().enumerate() {
        if let Some((product, unit)) = l.basis {
            basket = basket.with_line(Line::new(
                i.to_string(),
                product.to_string(),
                Decimal::from(l.quantity),
                unit,
            ));
        }
    }
    if basket.lines.is_empty() {
        return Ok(vec![zero; lines.len()]);
    }
    let priced = pricing::price(&basket, std::slice::from_ref(offer), &[], pricing.now)
        .map_err(|e| ConversionError::new("products", format!("cannot price the cart: {e}")))?;
    Ok((0..lines.len())
        .map(|i| priced.line(&i.to_string().into()).map(|p| p.discount).unwrap_or(zero))
        .collect())
}

#[cfg(test)]
mod tests {
    use loyalty_core::{Address, CardDetails, Tier};

    use super::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::USD)
    }

    fn catalogue() -> Catalogue {
        let p = |id: i64, price: &str| wire::ProductPrice {
            product_id: id,
            product_name: None,
            sku: None,
            quantity: Some(1),
            discounted_price: price.parse().unwrap(),
            full_retail_price: None,
            shippings: vec![super::super::campaign::Shipping {
                shipping_method_id: 145,
                price: Decimal::ZERO,
            }],
        };
        Catalogue::new(vec![
            p(918_325, "100"),
            p(918_446, "120"),
            p(918_447, "140"),
            p(918_501, "100"),
            p(918_502, "60"),
            p(918_503, "33.33"),
            p(918_504, "60"),
            p(918_505, "60.01"),
        ])
    }

    fn offer_config() -> ProgressiveConfig {
        ProgressiveConfig {
            tiers: vec![Tier { min_units: 1, percent: 25.into() }, Tier { min_units: 2, percent: 50.into() }],
            product_ids: vec!["918501".into(), "918502".into(), "918503".into(), "918505".into()],
            count: DiscountCount::Units,
            mode: DiscountMode::AllUnits,
        }
    }

    fn offer() -> Offer {
        progressive_offer("wk", &offer_config(), None)
    }

    fn line(product: i64, price: &str, quantity: u32) -> super::super::cart::CartProduct {
        super::super::cart::CartProduct {
            product_id: product,
            product_name: None,
            price: price.parse().unwrap(),
            quantity,
            shipping_price: Decimal::ZERO,
            upgrade_status: None,
            upgraded_from_product_id: None,
            line_total: None,
            list_price: None,
        }
    }

    /// A cart reply holding `products` and nothing else.
    fn response(products: Vec<super::super::cart::CartProduct>) -> wire::CartResponse {
        wire::CartResponse {
            products,
            status: None,
            shopping_cart_number: None,
            upgrade_parent_session_id: None,
            call_back_url: None,
            action_url: None,
            test: None,
            total: None,
            upgrades: Vec::new(),
        }
    }

    fn convert(products: Vec<super::super::cart::CartProduct>) -> Conv<Cart> {
        convert_by(products, DiscountRule::default())
    }

    /// As [`convert`], with 918503 listed at `price` (a campaign change since the cart was
    /// priced).
    fn convert_at(products: Vec<super::super::cart::CartProduct>, price: &str) -> Conv<Cart> {
        let w = response(products);
        let mut list: Vec<wire::ProductPrice> = catalogue().products.into_values().collect();
        for p in &mut list {
            if p.product_id == 918_503 {
                p.discounted_price = price.parse().unwrap();
            }
        }
        let cat = Catalogue::new(list);
        let o = offer();
        let pricing = Pricing {
            catalogue: &cat,
            offer: Some(&o),
            rule: DiscountRule::default(),
            currency: Currency::USD,
            now: Utc::now(),
        };
        cart(&CartId::new("s"), &w, &pricing)
    }

    fn convert_by(products: Vec<super::super::cart::CartProduct>, rule: DiscountRule) -> Conv<Cart> {
        let w = response(products);
        let cat = catalogue();
        let o = offer();
        let pricing =
            Pricing { catalogue: &cat, offer: Some(&o), rule, currency: Currency::USD, now: Utc::now() };
        cart(&CartId::new("s"), &w, &pricing)
    }

    // §9.5, the worked rows, each through the check against the vendor's unit price.
    #[test]
    fn one_qualifying_unit_at_100_costs_75() {
        let c = convert(vec![line(918_501, "75", 1)]).unwrap();
        assert_eq!((c.lines[0].discount, c.total), (usd(2500), usd(7500)));
    }

    #[test]
    fn two_units_of_one_line_cost_50_each() {
        let c = convert(vec![line(918_501, "50", 2)]).unwrap();
        assert_eq!((c.lines[0].discount, c.total), (usd(10_000), usd(10_000)));
    }

    #[test]
    fn two_products_reach_the_second_tier_together() {
        let c = convert(vec![line(918_501, "50", 1), line(918_502, "30", 1)]).unwrap();
        assert_eq!((c.lines[0].discount, c.lines[1].discount, c.total), (usd(5000), usd(3000), usd(8000)));
    }

    #[test]
    fn three_units_stay_on_the_highest_tier_reached() {
        let c = convert(vec![line(918_501, "50", 3)]).unwrap();
        assert_eq!((c.lines[0].discount, c.total), (usd(15_000), usd(15_000)));
    }

    #[test]
    fn three_at_33_33_take_exactly_50_off_rounded_half_up_once() {
        // 9999 × 50 % = 4999.5 → 5000 off; 49.99 to pay, shown as 16.66 a unit.
        let c = convert(vec![line(918_503, "16.66", 3)]).unwrap();
        assert_eq!((c.lines[0].discount, c.total), (usd(5000), usd(4999)));
    }

    #[test]
    fn each_product_s_discount_is_rounded_half_up_once_on_its_own() {
        // 50 % of 33.33 → 16.67 and of 60.01 → 30.01 (§8: per line total), not 46.67 over both.
        let c = convert(vec![line(918_503, "16.66", 1), line(918_505, "30", 1)]).unwrap();
        assert_eq!((c.lines[0].discount, c.lines[1].discount, c.total), (usd(1667), usd(3001), usd(4666)));
    }

    #[test]
    fn a_product_that_does_not_qualify_is_not_discounted_nor_counted() {
        let c = convert(vec![line(918_501, "75", 1), line(918_504, "60", 1)]).unwrap();
        assert_eq!((c.lines[0].discount, c.lines[1].discount, c.total), (usd(2500), usd(0), usd(13_500)));
    }

    #[test]
    fn a_vendor_price_the_discount_does_not_explain_is_reported_as_the_vendor_s() {
        // 918501 at 100 with 25 % off would be 75; the vendor charges 80 (say, a campaign
        // price changed since the price list was read, §1): 80 it is, with no discount claimed.
        let c = convert(vec![line(918_504, "60", 1), line(918_501, "80", 1)]).unwrap();
        let l = &c.lines[1];
        assert_eq!((l.unit_price, l.discount, l.net), (usd(8000), usd(0), usd(8000)));
        assert_eq!((c.lines[0].net, c.total), (usd(6000), usd(14_000)));
    }

    #[test]
    fn an_unexplained_line_costs_the_vendor_s_line_total_not_its_rounded_unit_price_times_quantity() {
        // Priced by the vendor before a campaign change (§1): 3 × 33.33 at 50 % = 49.99, shown
        // as 16.66 a unit; the price list now says 40, which explains nothing.
        let mut l = line(918_503, "16.66", 3);
        l.line_total = Some("49.99".parse().unwrap());
        let c = convert_at(vec![l], "40").unwrap();
        let l = &c.lines[0];
        assert_eq!((l.net, c.total), (usd(4999), usd(4999)));
        // The smallest unit price covering it, the rounding as a discount: 3 × 16.67 − 0.02.
        assert_eq!((l.unit_price, l.discount), (usd(1667), usd(2)));
        // A unit price rounded up already covers the line: 2 × 8.34 − 0.01 = 16.67.
        let mut l = line(918_503, "8.34", 2);
        l.line_total = Some("16.67".parse().unwrap());
        let l = &convert_at(vec![l], "40").unwrap().lines[0];
        assert_eq!((l.unit_price, l.discount, l.net), (usd(834), usd(1), usd(1667)));
    }

    #[test]
    fn a_line_total_the_price_list_does_not_reach_is_not_explained_by_it() {
        // The unit price matches the price list's pricing (16.66) but the vendor says the line
        // costs 50.01: its amount wins and no campaign discount is claimed.
        let mut l = line(918_503, "16.66", 3);
        l.line_total = Some("50.01".parse().unwrap());
        let c = convert(vec![l]).unwrap();
        assert_eq!(
            (c.lines[0].net, c.lines[0].unit_price, c.lines[0].discount),
            (usd(5001), usd(1667), usd(0))
        );
    }

    /// What `products` show of their price before discount, with `moved` listed at its new
    /// price (a campaign change since the checkout).
    fn list_units(products: Vec<super::super::cart::CartProduct>, moved: (i64, &str)) -> Vec<Option<Money>> {
        let w = response(products);
        let mut list: Vec<wire::ProductPrice> = catalogue().products.into_values().collect();
        for p in list.iter_mut().filter(|p| p.product_id == moved.0) {
            p.discounted_price = moved.1.parse().unwrap();
        }
        let (cat, o) = (Catalogue::new(list), offer());
        let pricing = Pricing {
            catalogue: &cat,
            offer: Some(&o),
            rule: DiscountRule::default(),
            currency: Currency::USD,
            now: Utc::now(),
        };
        priced_cart(&CartId::new("s"), &w, &pricing).unwrap().lines.iter().map(|f| f.list_unit).collect()
    }

    #[test]
    fn a_line_s_price_before_discount_is_shown_by_the_vendor_or_by_a_price_list_explaining_it() {
        // 918501 at 75 is 100 less 25 %: explained, paid at 100 before discount.
        assert_eq!(list_units(vec![line(918_501, "75", 1)], (0, "0")), [Some(usd(10_000))]);
        // Its price moved to 110 since: 75 is some discount of a price the cart does not show.
        assert_eq!(list_units(vec![line(918_501, "75", 1)], (918_501, "110")), [None]);
        // Unless the vendor shows it.
        let mut shown = line(918_501, "75", 1);
        shown.list_price = Some(Decimal::from(100));
        assert_eq!(list_units(vec![shown], (918_501, "110")), [Some(usd(10_000))]);
        // A product the discount cannot reach was sold at the price the cart shows.
        assert_eq!(list_units(vec![line(918_504, "60", 1)], (918_504, "70")), [Some(usd(6000))]);
    }

    #[test]
    fn a_product_the_price_list_no_longer_lists_is_reported_at_the_vendor_s_price() {
        let c = convert(vec![line(918_999, "12.5", 2)]).unwrap();
        assert_eq!((c.lines[0].unit_price, c.total), (usd(1250), usd(2500)));
    }

    #[test]
    fn an_upgrade_cart_without_the_simulator_s_parent_field_is_read_from_the_vendor_s_prices() {
        // §6.4 row 5 fields only: the offline upgrade's difference line, 918446 at 20.
        let c = convert(vec![line(918_446, "20", 1)]).unwrap();
        assert_eq!((c.lines[0].net, c.total, c.upgrade_parent.clone()), (usd(2000), usd(2000), None));
    }

    #[test]
    fn a_discarded_upgrade_line_is_the_original_product_again() {
        let mut back = line(918_325, "100", 1);
        back.upgraded_from_product_id = Some(918_325);
        back.upgrade_status = Some(wire::UpgradeStatus::Discarded);
        let c = convert(vec![back]).unwrap();
        assert_eq!((c.lines[0].upgrade.clone(), c.total), (None, usd(10_000)));
    }

    #[test]
    fn a_marginal_unit_rule_gives_each_unit_the_tier_it_reaches() {
        // §9.5: 2 × 100 under `marginal_unit`: 25 % + 50 % = 75 off, 125 to pay (62.50 a unit).
        let rule = DiscountRule { count: DiscountCount::Units, mode: DiscountMode::MarginalUnit };
        let c = convert_by(vec![line(918_501, "62.5", 2)], rule).unwrap();
        assert_eq!((c.lines[0].discount, c.total), (usd(7500), usd(12_500)));
        // Units run on across products in cart order: 100 (unit 1, 25 %), 60 (unit 2, 50 %).
        let c = convert_by(vec![line(918_501, "75", 1), line(918_502, "30", 1)], rule).unwrap();
        assert_eq!((c.lines[0].discount, c.lines[1].discount), (usd(2500), usd(3000)));
    }

    #[test]
    fn a_marginal_unit_rule_prices_a_huge_line_by_tiers_not_unit_by_unit() {
        // A billion units (was a loop over each unit): unit 1 at 25 %, the rest at 50 %.
        let rule = DiscountRule { count: DiscountCount::Units, mode: DiscountMode::MarginalUnit };
        let c = convert_by(vec![line(918_501, "50", 1_000_000_000)], rule).unwrap();
        assert_eq!(c.lines[0].discount, usd(100 * (25 + 999_999_999 * 50)));
        // The same sum as unit by unit on a small cart: 25 + 50 + 50.
        let c = convert_by(vec![line(918_501, "58.33", 3)], rule).unwrap();
        assert_eq!(c.lines[0].discount, usd(12_500));
    }

    #[test]
    fn a_line_count_rule_reaches_the_tier_by_products() {
        // §9.5: 2 × 100 on one line under `count = lines`: one line, 25 %: 50 off, 150 to pay.
        let rule = DiscountRule { count: DiscountCount::Lines, mode: DiscountMode::AllUnits };
        let c = convert_by(vec![line(918_501, "75", 2)], rule).unwrap();
        assert_eq!((c.lines[0].discount, c.total), (usd(5000), usd(15_000)));
        // Two products reach the second tier: 50 % on each.
        let c = convert_by(vec![line(918_501, "50", 1), line(918_502, "30", 1)], rule).unwrap();
        assert_eq!(c.total, usd(8000));
        // `marginal_unit` with `lines`: product n gets the tier reached at n.
        let rule = DiscountRule { count: DiscountCount::Lines, mode: DiscountMode::MarginalUnit };
        let c = convert_by(vec![line(918_501, "75", 1), line(918_502, "30", 1)], rule).unwrap();
        assert_eq!((c.lines[0].discount, c.lines[1].discount), (usd(2500), usd(3000)));
    }

    #[test]
    fn the_listed_offer_carries_the_campaign_rule_so_the_engine_prices_it_alike() {
        // 918501 × 1 at 100 and 918502 × 2 at 60, tiers 25 % from 1 and 50 % from 2.
        let basket = Basket::new(Currency::USD)
            .with_line(Line::new("a", "918501", Decimal::ONE, usd(10_000)))
            .with_line(Line::new("b", "918502", Decimal::from(2), usd(6_000)));
        for (count, mode, off) in [
            (DiscountCount::Units, DiscountMode::AllUnits, 11_000),
            // Unit 1 at 25 %, units 2 and 3 at 50 %.
            (DiscountCount::Units, DiscountMode::MarginalUnit, 8_500),
            (DiscountCount::Lines, DiscountMode::AllUnits, 11_000),
            // Product 1 at 25 %, product 2 at 50 %.
            (DiscountCount::Lines, DiscountMode::MarginalUnit, 8_500),
        ] {
            let cfg = ProgressiveConfig { count, mode, ..offer_config() };
            let offer = progressive_offer("wk", &cfg, None);
            let OfferKind::ProgressiveDiscount { count: c, mode: m, .. } = &offer.kind else {
                panic!("{offer:?}")
            };
            assert_eq!((*c, *m), (count, mode));
            let priced = pricing::price(&basket, &[offer], &[], Utc::now()).unwrap();
            assert_eq!(priced.total_discount, usd(off), "{count:?} {mode:?}");
        }
    }

    #[test]
    fn an_upgrade_head_keeps_the_discount_of_the_unit_it_replaced() {
        // 918501 (100, 25 % off) upgraded to 918447 (140): 140 − 25 = 115; the tier stays.
        let mut head = line(918_447, "115", 1);
        head.upgraded_from_product_id = Some(918_501);
        head.upgrade_status = Some(wire::UpgradeStatus::Charged);
        let c = convert(vec![head]).unwrap();
        assert_eq!((c.lines[0].unit_price, c.lines[0].discount), (usd(14_000), usd(2500)));
        assert_eq!(c.lines[0].upgrade, Some(LineUpgrade::new("918501", UpgradeStatus::Charged)));
        // What it adds over the unit paid at checkout: 140 − 100, the upgrade's own charge.
        let mut head = line(918_447, "115", 1);
        head.upgraded_from_product_id = Some(918_501);
        let (cat, o) = (catalogue(), offer());
        let pricing = Pricing {
            catalogue: &cat,
            offer: Some(&o),
            rule: DiscountRule::default(),
            currency: Currency::USD,
            now: Utc::now(),
        };
        let facts = priced_cart(&CartId::new("s"), &response(vec![head]), &pricing).unwrap().lines;
        assert_eq!(facts[0].upgrade_surcharge, Some(usd(4000)));
    }

    #[test]
    fn a_downgrade_keeps_the_price_paid() {
        let mut head = line(918_325, "120", 1);
        head.upgraded_from_product_id = Some(918_446);
        let c = convert(vec![head]).unwrap();
        assert_eq!(c.total, usd(12_000));
    }

    #[test]
    fn card_on_file_is_refused_before_any_call() {
        let e = payment(&CartPayment::CardOnFile { card_id: "7".into() }).unwrap_err();
        assert_eq!(e.field, "payment");
    }

    #[test]
    fn card_expiry_is_month_slash_four_digit_year() {
        let card =
            CardDetails::new("Ada", CardSecret::new("4111 1111 1111 1111"), 3, 2030, CardSecret::new("123"));
        let wire::Payment::Card { expiration, creditcard, .. } = payment(&CartPayment::Card(card)).unwrap()
        else {
            panic!("a card")
        };
        assert_eq!((expiration.as_str(), creditcard.expose()), ("03/2030", "4111111111111111"));
    }

    #[test]
    fn a_customer_without_a_street_is_invalid_naming_it() {
        let c = Customer::with_email("a@example.com").named("A", "B").at(Address {
            street: None,
            city: Some("x".into()),
            zip_code: Some("1".into()),
            state: None,
            country_code: Some("US".into()),
        });
        assert_eq!(customer(&c).unwrap_err().field, "customer.address.street");
    }

    #[test]
    fn quantities_are_whole_units() {
        assert_eq!(units(Decimal::new(15, 1), "quantity").unwrap_err().field, "quantity");
        assert!(units(Decimal::ZERO, "quantity").is_err());
        assert_eq!(units(Decimal::from(2), "quantity").unwrap(), 2);
    }
}
