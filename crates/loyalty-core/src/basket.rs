//! Baskets and priced baskets.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{LineId, OfferId, ProductId};
use crate::money::{Currency, Money};

/// One basket line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Line {
    /// Unique within the basket.
    pub line_id: LineId,
    /// The product id offers refer to.
    pub product_id: ProductId,
    /// Stock-keeping unit, when different from the product id.
    pub sku: Option<String>,
    /// Product name for receipts.
    pub name: Option<String>,
    /// Quantity: whole units, or a fraction for goods sold by weight; a decimal string in JSON
    /// (`"2"`, `"0.350"`: no exponent or separators, [`crate::money::parse_decimal_text`]).
    #[serde(deserialize_with = "crate::money::decimal_text::deserialize")]
    pub quantity: Decimal,
    /// Price of one unit, tax included.
    pub unit_price: Money,
    /// Tax rate in percent (25 for 25 %), when known; a decimal string in JSON, as `quantity`.
    #[serde(default, deserialize_with = "crate::money::decimal_text::option")]
    pub tax_rate: Option<Decimal>,
}

impl Line {
    /// A line of `quantity` units of `product_id` at `unit_price` (tax included).
    pub fn new(
        line_id: impl Into<LineId>,
        product_id: impl Into<ProductId>,
        quantity: Decimal,
        unit_price: Money,
    ) -> Line {
        Line {
            line_id: line_id.into(),
            product_id: product_id.into(),
            sku: None,
            name: None,
            quantity,
            unit_price,
            tax_rate: None,
        }
    }

    /// Sets the product name.
    pub fn with_name(mut self, name: impl Into<String>) -> Line {
        self.name = Some(name.into());
        self
    }

    /// Sets the SKU.
    pub fn with_sku(mut self, sku: impl Into<String>) -> Line {
        self.sku = Some(sku.into());
        self
    }

    /// Sets the tax rate in percent.
    pub fn with_tax_rate(mut self, rate: Decimal) -> Line {
        self.tax_rate = Some(rate);
        self
    }
}

/// A basket: lines in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Basket {
    /// The currency every line is priced in.
    pub currency: Currency,
    /// The lines, in the order they were scanned or added.
    pub lines: Vec<Line>,
}

impl Basket {
    /// An empty basket.
    pub fn new(currency: Currency) -> Basket {
        Basket { currency, lines: Vec::new() }
    }

    /// Adds a line.
    pub fn with_line(mut self, line: Line) -> Basket {
        self.lines.push(line);
        self
    }
}

/// A discount one offer gave one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineDiscount {
    /// The offer behind it.
    pub offer_id: OfferId,
    /// The amount taken off the line.
    pub amount: Money,
}

/// One priced line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct PricedLine {
    /// The basket line.
    pub line_id: LineId,
    /// Quantity times unit price, rounded half-up to minor units.
    pub gross: Money,
    /// Sum of `discounts`.
    pub discount: Money,
    /// `gross - discount`; never negative.
    pub net: Money,
    /// Each offer's share of the discount, in the order the offers were applied.
    pub discounts: Vec<LineDiscount>,
}

impl PricedLine {
    /// A line with no discount.
    pub fn undiscounted(line_id: LineId, gross: Money) -> PricedLine {
        PricedLine {
            line_id,
            gross,
            discount: Money::zero(gross.currency),
            net: gross,
            discounts: Vec::new(),
        }
    }
}

/// Stamp-card movement in one basket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StampOutcome {
    /// The stamp card.
    pub offer_id: OfferId,
    /// Stamps earned (the completing stamp included).
    pub earned: u32,
    /// Units made free.
    pub free_units: u32,
    /// Stamps still needed after this basket (0 for a spent card).
    pub remaining: u32,
}

/// An offer that gave nothing, with a reason a cashier can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotApplied {
    /// The offer.
    pub offer_id: OfferId,
    /// Why it gave nothing.
    pub reason: String,
}

/// An offer that gave a discount or stamps, with a reason a cashier can read (rule 9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Applied {
    /// The offer.
    pub offer_id: OfferId,
    /// What it gave and why: `10 % off on the products it covers: 9.80 NOK on 1 line`.
    pub reason: String,
}

/// The pricing engine's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct PricedBasket {
    /// The currency.
    pub currency: Currency,
    /// One entry per basket line, in basket order.
    pub lines: Vec<PricedLine>,
    /// Sum of line grosses.
    pub total_gross: Money,
    /// Sum of line discounts (always exactly).
    pub total_discount: Money,
    /// `total_gross - total_discount`.
    pub total: Money,
    /// One entry per stamp card offered, spent ones included, in offer id order.
    pub stamps: Vec<StampOutcome>,
    /// Basket-wide coupons offered but not confirmed by the customer.
    pub needs_confirmation: Vec<OfferId>,
    /// Every offer that gave nothing, with the reason.
    pub not_applied: Vec<NotApplied>,
    /// Every offer that gave a discount or stamps, with the reason, in the order first applied
    /// (as [`PricedBasket::offers_used`]). Empty in prices stored before it existed.
    #[serde(default)]
    pub applied: Vec<Applied>,
}

impl PricedBasket {
    /// The priced line for `line_id`.
    pub fn line(&self, line_id: &LineId) -> Option<&PricedLine> {
        self.lines.iter().find(|l| &l.line_id == line_id)
    }

    /// Offers that gave a discount or stamps, each once, in the order first applied (line
    /// discounts in line order, then stamp cards that earned stamps). Linear in the lines'
    /// discounts and the stamps.
    pub fn offers_used(&self) -> Vec<OfferId> {
        let mut seen: std::collections::HashSet<&OfferId> = std::collections::HashSet::new();
        let discounts = self.lines.iter().flat_map(|l| &l.discounts).map(|d| &d.offer_id);
        let stamped = self.stamps.iter().filter(|s| s.earned > 0).map(|s| &s.offer_id);
        discounts.chain(stamped).filter(|id| seen.insert(*id)).cloned().collect()
    }
}
