//! The JSON wire format of `docs/pricing.md`: one input object in, one priced basket out.
//!
//! Parsing is strict: an unknown field, a field that does not belong to the offer's type, a
//! malformed or too precise amount, an unknown currency, or a coupon with both (or neither of)
//! `percent` and `fixed` is an [`InputError`] that names the field (and the line or offer).
//! Amounts are converted exactly, never rounded.
//!
//! ```
//! use loyalty_core::pricing::json::{parse_input, render_output};
//!
//! let request = parse_input(r#"{
//!     "currency": "NOK",
//!     "lines": [ { "line_id": "1", "product_id": "A", "quantity": "2", "unit_price": "100.00" } ],
//!     "offers": [ { "id": "c1", "type": "coupon", "percent": "10", "products": ["A"] } ],
//!     "confirmed": []
//! }"#).unwrap();
//! let output = render_output(&request.price().unwrap());
//! assert_eq!(output["lines"][0]["discount"], "20.00");
//! assert_eq!(output["total"], "180.00");
//!
//! let err = parse_input(r#"{ "currency": "NOK", "lines": [], "colour": "red" }"#).unwrap_err();
//! assert!(err.to_string().contains("unknown field `colour`"));
//! ```

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{price, PricingError};
use crate::basket::{Basket, Line, PricedBasket};
use crate::ids::{OfferId, ProductId};
use crate::money::{Currency, Money};
use crate::offer::{Discount, Offer, OfferKind, ProgressiveCount, ProgressiveMode, Scope, StampCard, Tier};

/// A parsed pricing request: the arguments of [`price`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRequest {
    /// The basket.
    pub basket: Basket,
    /// The member's offers, in input order.
    pub offers: Vec<Offer>,
    /// Basket-wide coupons the customer accepted, in the order accepted.
    pub confirmed: Vec<OfferId>,
    /// The pricing time; `None` means the current UTC time.
    pub now: Option<DateTime<Utc>>,
}

impl PriceRequest {
    /// Prices the request, at `now` or, without it, at the current UTC time.
    ///
    /// # Errors
    /// As [`price`].
    pub fn price(&self) -> Result<PricedBasket, PricingError> {
        price(&self.basket, &self.offers, &self.confirmed, self.now.unwrap_or_else(Utc::now))
    }
}

/// Input that is not a valid pricing request. `Display` is one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Not JSON, or not the shape of the format: unknown or missing field, wrong type. The
    /// message carries serde's line and column in the JSON text.
    #[error("{0}")]
    Json(#[source] serde_json::Error),
    /// A field has the right shape but a bad value.
    #[error("{path}: {reason}")]
    Field {
        /// Where, e.g. `lines[1].unit_price` or `offers[0].percent`.
        path: String,
        /// What is wrong, with the line or offer id, e.g. `malformed amount "12,5" (line_id "2")`.
        reason: String,
    },
}

impl InputError {
    /// The line in the JSON text, where the JSON parser reported one.
    pub fn line(&self) -> Option<usize> {
        match self {
            InputError::Json(e) if e.line() > 0 => Some(e.line()),
            _ => None,
        }
    }

    fn field(path: impl Into<String>, reason: impl Into<String>) -> InputError {
        InputError::Field { path: path.into(), reason: reason.into() }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireInput {
    currency: String,
    #[serde(default)]
    now: Option<String>,
    lines: Vec<WireLine>,
    #[serde(default)]
    offers: Vec<WireOffer>,
    #[serde(default)]
    confirmed: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireLine {
    line_id: String,
    product_id: String,
    quantity: String,
    unit_price: String,
}

/// One flat struct for every offer type, so serde reports an unknown field with its position;
/// which fields each type takes is checked after.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireOffer {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    valid_from: Option<String>,
    valid_to: Option<String>,
    percent: Option<String>,
    fixed: Option<String>,
    products: Option<Vec<String>>,
    required: Option<u32>,
    collected: Option<u32>,
    restartable: Option<bool>,
    tiers: Option<Vec<WireTier>>,
    count: Option<String>,
    mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireTier {
    min_units: u32,
    percent: String,
}

/// The input's shape: a value of the wrong type or range names where it is
/// (`lines[0].quantity: invalid type: …`, an [`InputError::Field`]); text that is not JSON, a
/// missing or unknown field, is serde's own error ([`InputError::Json`]), which names the field.
fn read_json(text: &str) -> Result<WireInput, InputError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let wire = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        let names_the_field = message.starts_with("unknown field") || message.starts_with("missing field");
        if inner.classify() == serde_json::error::Category::Data && path != "." && !names_the_field {
            InputError::field(path, message)
        } else {
            InputError::Json(inner)
        }
    })?;
    de.end().map_err(InputError::Json)?;
    Ok(wire)
}

/// Parses one pricing request in the input format of `docs/pricing.md`.
///
/// # Errors
/// [`InputError::Json`] for text that is not JSON, or a missing or unknown field;
/// [`InputError::Field`] for a value of the wrong JSON type or range (named by its path,
/// `lines[0].quantity`) and for a bad value: unknown currency, malformed amount or
/// quantity, an amount with more decimals than the currency has, a coupon with both or neither
/// of `percent` and `fixed`, a field that does not belong to the offer's type, a bad time,
/// a progressive `count` or `mode` this format does not know.
/// Business rules (negative prices, percent range, duplicate ids) are checked by
/// [`price`].
pub fn parse_input(text: &str) -> Result<PriceRequest, InputError> {
    let wire: WireInput = read_json(text)?;
    let currency =
        Currency::from_code(&wire.currency).map_err(|e| InputError::field("currency", e.to_string()))?;
    let now = wire.now.as_deref().map(|t| parse_time("now", t, "")).transpose()?;

    let mut basket = Basket::new(currency);
    for (i, line) in wire.lines.into_iter().enumerate() {
        let at = |field: &str| format!("lines[{i}].{field}");
        let ctx = format!(" (line_id {:?})", line.line_id);
        if line.line_id.is_empty() {
            return Err(InputError::field(at("line_id"), "must not be empty"));
        }
        let quantity = crate::money::parse_decimal_text(&line.quantity).ok_or_else(|| {
            InputError::field(at("quantity"), format!("malformed quantity {:?}{ctx}", line.quantity))
        })?;
        let unit_price = Money::parse(&line.unit_price, currency)
            .map_err(|e| InputError::field(at("unit_price"), format!("{e}{ctx}")))?;
        basket = basket.with_line(Line::new(line.line_id, line.product_id, quantity, unit_price));
    }

    let offers = wire
        .offers
        .into_iter()
        .enumerate()
        .map(|(i, offer)| convert_offer(i, offer, currency))
        .collect::<Result<Vec<_>, _>>()?;
    let confirmed = wire.confirmed.into_iter().map(OfferId::from).collect();
    Ok(PriceRequest { basket, offers, confirmed, now })
}

fn convert_offer(i: usize, o: WireOffer, currency: Currency) -> Result<Offer, InputError> {
    let at = |field: &str| format!("offers[{i}].{field}");
    let ctx = format!(" (offer {:?})", o.id);
    if o.id.is_empty() {
        return Err(InputError::field(at("id"), "must not be empty"));
    }
    let present = [
        ("percent", o.percent.is_some()),
        ("fixed", o.fixed.is_some()),
        ("required", o.required.is_some()),
        ("collected", o.collected.is_some()),
        ("restartable", o.restartable.is_some()),
        ("tiers", o.tiers.is_some()),
        ("count", o.count.is_some()),
        ("mode", o.mode.is_some()),
    ];
    let allowed: &[&str] = match o.kind.as_str() {
        "coupon" => &["percent", "fixed"],
        "stamp_card" => &["required", "collected", "restartable"],
        "progressive" => &["tiers", "count", "mode"],
        other => {
            return Err(InputError::field(
                at("type"),
                format!("unknown offer type {other:?}, expected coupon, stamp_card or progressive{ctx}"),
            ))
        }
    };
    if let Some((name, _)) = present.iter().find(|(name, set)| *set && !allowed.contains(name)) {
        return Err(InputError::field(at(name), format!("not a field of a {}{ctx}", o.kind)));
    }
    let missing = |field: &str| InputError::field(at(field), format!("missing for a {}{ctx}", o.kind));
    let products = |list: Option<Vec<String>>| -> Vec<ProductId> {
        list.unwrap_or_default().into_iter().map(ProductId::from).collect()
    };
    let percent = |field: String, text: &str| {
        crate::money::parse_decimal_text(text)
            .ok_or_else(|| InputError::field(field, format!("malformed percent {text:?}{ctx}")))
    };

    let kind = match o.kind.as_str() {
        "coupon" => {
            let discount = match (&o.percent, &o.fixed) {
                (Some(p), None) => Discount::Percent(percent(at("percent"), p)?),
                (None, Some(f)) => Discount::Fixed(
                    Money::parse(f, currency)
                        .map_err(|e| InputError::field(at("fixed"), format!("{e}{ctx}")))?,
                ),
                (Some(_), Some(_)) => {
                    return Err(InputError::field(
                        format!("offers[{i}]"),
                        format!("a coupon has exactly one of percent or fixed, found both{ctx}"),
                    ))
                }
                (None, None) => {
                    return Err(InputError::field(
                        format!("offers[{i}]"),
                        format!("a coupon needs one of percent or fixed, found neither{ctx}"),
                    ))
                }
            };
            let products = products(o.products);
            // pricing.md: `products` absent or empty means the whole basket.
            let scope = if products.is_empty() { Scope::Basket } else { Scope::Products(products) };
            OfferKind::Coupon { discount, scope }
        }
        "stamp_card" => OfferKind::StampCard(StampCard {
            required: o.required.ok_or_else(|| missing("required"))?,
            collected: o.collected.ok_or_else(|| missing("collected"))?,
            restartable: o.restartable.ok_or_else(|| missing("restartable"))?,
            products: products(Some(o.products.ok_or_else(|| missing("products"))?)),
        }),
        _ => {
            let tiers = o.tiers.ok_or_else(|| missing("tiers"))?;
            let tiers = tiers
                .into_iter()
                .enumerate()
                .map(|(t, tier)| {
                    Ok(Tier {
                        min_units: tier.min_units,
                        percent: percent(at(&format!("tiers[{t}].percent")), &tier.percent)?,
                    })
                })
                .collect::<Result<Vec<_>, InputError>>()?;
            let count = match o.count.as_deref() {
                None | Some("units") => ProgressiveCount::Units,
                Some("lines") => ProgressiveCount::Lines,
                Some(other) => {
                    return Err(InputError::field(
                        at("count"),
                        format!("unknown count {other:?}, expected units or lines{ctx}"),
                    ))
                }
            };
            let mode = match o.mode.as_deref() {
                None | Some("all_units") => ProgressiveMode::AllUnits,
                Some("marginal_unit") => ProgressiveMode::MarginalUnit,
                Some(other) => {
                    return Err(InputError::field(
                        at("mode"),
                        format!("unknown mode {other:?}, expected all_units or marginal_unit{ctx}"),
                    ))
                }
            };
            OfferKind::ProgressiveDiscount {
                tiers,
                products: products(Some(o.products.ok_or_else(|| missing("products"))?)),
                count,
                mode,
            }
        }
    };
    let from = o.valid_from.as_deref().map(|t| parse_time(&at("valid_from"), t, &ctx)).transpose()?;
    let to = o.valid_to.as_deref().map(|t| parse_time(&at("valid_to"), t, &ctx)).transpose()?;
    Ok(Offer::new(o.id.as_str(), o.id.as_str(), kind).with_validity(from, to))
}

/// A decimal string as `Money::parse` accepts them: no spaces, exponents or separators.
fn parse_time(path: &str, text: &str, ctx: &str) -> Result<DateTime<Utc>, InputError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| InputError::field(path, format!("not an RFC 3339 time {text:?}{ctx}")))
}

/// Renders a priced basket in the output format of `docs/pricing.md`: amounts as strings with
/// exactly the currency's digits, `lines[].offers` the ids of the offers that discounted the line.
pub fn render_output(priced: &PricedBasket) -> Value {
    let amount = |m: Money| Value::String(m.amount_string());
    let lines: Vec<Value> = priced
        .lines
        .iter()
        .map(|line| {
            json!({
                "line_id": line.line_id.as_str(),
                "gross": amount(line.gross),
                "discount": amount(line.discount),
                "net": amount(line.net),
                "offers": line.discounts.iter().map(|d| d.offer_id.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let stamps: Vec<Value> = priced
        .stamps
        .iter()
        .map(|s| {
            json!({
                "offer_id": s.offer_id.as_str(),
                "earned": s.earned,
                "free_units": s.free_units,
                "remaining": s.remaining,
            })
        })
        .collect();
    let not_applied: Vec<Value> = priced
        .not_applied
        .iter()
        .map(|n| json!({ "offer_id": n.offer_id.as_str(), "reason": n.reason }))
        .collect();
    let applied: Vec<Value> = priced
        .applied
        .iter()
        .map(|a| json!({ "offer_id": a.offer_id.as_str(), "reason": a.reason }))
        .collect();
    json!({
        "currency": priced.currency.code(),
        "lines": lines,
        "total_gross": amount(priced.total_gross),
        "total_discount": amount(priced.total_discount),
        "total": amount(priced.total),
        "stamps": stamps,
        "needs_confirmation": priced.needs_confirmation.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        "not_applied": not_applied,
        "applied": applied,
    })
}
