//! Baskets and priced baskets.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{LineId, OfferId, ProductId};
use crate::money::{Currency, Money};
use crate::pricing::PricingError;

/// One basket line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Line {
    /// Unique within the basket; 1 to 255 bytes, no control character.
    pub line_id: LineId,
    /// The product id offers refer to; 1 to 255 bytes, no control character.
    pub product_id: ProductId,
    /// Stock-keeping unit, when different from the product id; 1 to 255 bytes, no control
    /// character.
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

    /// The first of the line's ids (`line_id`, `product_id`, then `sku` when given) that
    /// breaks the id rule, as `(field, reason)`: empty, longer than
    /// [`crate::checkout::MAX_ID_LEN`] bytes, or holding a control character, the rule order
    /// and return ids follow. `None` when all are fine.
    ///
    /// ```
    /// use loyalty_core::{Currency, Line, Money};
    /// use rust_decimal::Decimal;
    ///
    /// let line = |id: &str, product: &str| Line::new(id, product, Decimal::ONE, Money::new(100, Currency::NOK));
    /// assert_eq!(line("1", "COF-500").id_fault(), None);
    /// assert_eq!(line("1\u{1b}[2J", "COF-500").id_fault(), Some(("line_id", "contains a control character")));
    /// assert_eq!(line("1", "").id_fault(), Some(("product_id", "must not be empty")));
    /// assert_eq!(line("1", "COF-500").with_sku("").id_fault(), Some(("sku", "must not be empty")));
    /// ```
    pub fn id_fault(&self) -> Option<(&'static str, &'static str)> {
        [("line_id", Some(self.line_id.as_str())), ("product_id", Some(self.product_id.as_str()))]
            .into_iter()
            .chain([("sku", self.sku.as_deref())])
            .find_map(|(field, text)| text.and_then(crate::checkout::id_fault).map(|reason| (field, reason)))
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

    /// Checks the lines as [`crate::pricing::price`] does before pricing, in line order: each
    /// line id used once, ids ([`Line::id_fault`]: non-empty, at most 255 bytes, no control
    /// character; `line_id`, `product_id`, `sku`), prices in the basket's currency and not
    /// negative, quantities not negative. For a caller that refuses a basket before anything
    /// else sees it (a vendor asked for offers with the basket, a sign-up made); the error's
    /// [`PricingError::field_in`] names the field (`basket.lines[0].product_id`).
    ///
    /// ```
    /// use loyalty_core::{Basket, Currency, Line, Money};
    /// use rust_decimal::Decimal;
    ///
    /// let basket = Basket::new(Currency::NOK)
    ///     .with_line(Line::new("1", "COF\u{0}500", Decimal::ONE, Money::new(100, Currency::NOK)));
    /// let e = basket.check_lines().unwrap_err();
    /// assert_eq!(e.field_in(&basket, &[]), "basket.lines[0].product_id");
    /// ```
    ///
    /// # Errors
    /// [`PricingError::InvalidLine`] naming the line and field, or
    /// [`PricingError::DuplicateLine`] for the second line of a repeated id.
    pub fn check_lines(&self) -> Result<(), PricingError> {
        let currency = self.currency;
        let mut line_ids = std::collections::HashSet::new();
        for line in &self.lines {
            let invalid = |field: &'static str, reason: String| PricingError::InvalidLine {
                line_id: line.line_id.clone(),
                field,
                reason,
            };
            // A repeated id first: the error names a line by its id, and a later line under an
            // earlier one's id would be named as the earlier one.
            if !line_ids.insert(&line.line_id) {
                return Err(PricingError::DuplicateLine { line_id: line.line_id.clone() });
            }
            if let Some((field, reason)) = line.id_fault() {
                return Err(invalid(field, reason.to_string()));
            }
            if line.unit_price.currency != currency {
                return Err(invalid(
                    "unit_price",
                    format!("priced in {} but the basket is in {currency}", line.unit_price.currency),
                ));
            }
            if line.unit_price.is_negative() {
                return Err(invalid("unit_price", format!("must not be negative, got {}", line.unit_price)));
            }
            if line.quantity.is_sign_negative() && !line.quantity.is_zero() {
                return Err(invalid("quantity", format!("must not be negative, got {}", line.quantity)));
            }
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::pricing::{price, PricingError};

    fn line(id: &str, product: &str) -> Line {
        Line::new(id, product, Decimal::ONE, Money::new(100, Currency::NOK))
    }

    /// Where pricing `basket` (no offers) puts the fault, as a request names it.
    fn refused_at(basket: &Basket) -> String {
        let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
        let err = price(basket, &[], &[], now).unwrap_err();
        assert_eq!(basket.check_lines(), Err(err.clone()), "check_lines and price agree");
        err.field_in(basket, &[])
    }

    /// Line, product and SKU ids follow the order id rule (1 to 255 bytes, no control
    /// character): they are stored, sent to vendors and shown, so the engine refuses them and
    /// the CLI, the service and the checkout with it.
    #[test]
    fn an_id_empty_too_long_or_with_a_control_character_is_refused_naming_the_field() {
        let ok = line("1", "COF-500");
        let cases = [
            (line("", "COF-500"), "basket.lines[1].line_id"),
            (line("2\u{1b}[2J", "COF-500"), "basket.lines[1].line_id"),
            (line("2", "COF\u{0}500"), "basket.lines[1].product_id"),
            (line("2", ""), "basket.lines[1].product_id"),
            (line("2", &"p".repeat(256)), "basket.lines[1].product_id"),
            (line("2", "COF-500").with_sku("SKU\u{85}"), "basket.lines[1].sku"),
            (line("2", "COF-500").with_sku(""), "basket.lines[1].sku"),
        ];
        for (bad, field) in cases {
            let basket = Basket::new(Currency::NOK).with_line(ok.clone()).with_line(bad.clone());
            assert_eq!(refused_at(&basket), field, "{bad:?}");
        }
        // 255 bytes (in multi-byte letters too), any script and a space are ids.
        let basket = Basket::new(Currency::NOK)
            .with_line(line(&"1".repeat(255), &"ø".repeat(127)))
            .with_line(line("linje 2", "Kaffe – mørk").with_sku("SKU 2"));
        assert_eq!(basket.check_lines(), Ok(()));
    }

    /// A later line under an earlier line's id is the repeat, whatever else it holds: an error
    /// on its own ids would be named by that id, so as the earlier line.
    #[test]
    fn a_repeated_line_id_is_named_before_the_repeat_s_other_ids() {
        let basket = Basket::new(Currency::NOK).with_line(line("1", "A")).with_line(line("1", ""));
        assert!(matches!(basket.check_lines(), Err(PricingError::DuplicateLine { .. })));
        assert_eq!(refused_at(&basket), "basket.lines[1].line_id");
    }
}
