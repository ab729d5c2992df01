//! Why a basket cannot be priced.

use crate::ids::{LineId, OfferId};

/// Bad input to [`price`](super::price): the basket, an offer or the confirmations break a rule
/// the engine cannot price around. Each variant names the line or offer, the field and the reason.
///
/// An offer that merely does not apply (expired, no matching products, outranked) is never an
/// error: it is reported in [`PricedBasket::not_applied`](crate::PricedBasket::not_applied).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PricingError {
    /// A basket line breaks a rule: an id that is empty, longer than 255 bytes or holds a
    /// control character (field `line_id`, `product_id` or `sku`,
    /// [`Line::id_fault`](crate::Line::id_fault)), a negative quantity or price, a price in
    /// another currency, more units on the line than a basket may hold
    /// ([`MAX_UNITS`](super::MAX_UNITS), field `quantity`), or a gross (quantity x unit price)
    /// too large for minor units (field `unit_price`).
    #[error("line \"{line_id}\": {field}: {reason}")]
    InvalidLine {
        /// The line.
        line_id: LineId,
        /// The field at fault (`line_id`, `product_id`, `sku`, `quantity`, `unit_price`).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Two basket lines share one id.
    #[error("line \"{line_id}\": line_id: used by more than one line")]
    DuplicateLine {
        /// The repeated id.
        line_id: LineId,
    },
    /// An offer breaks a rule (percent outside 0..=100, wrong currency, `collected > required`).
    #[error("offer \"{offer_id}\": {field}: {reason}")]
    InvalidOffer {
        /// The offer.
        offer_id: OfferId,
        /// The field at fault (`percent`, `fixed`, `collected`, `required`, `tiers`).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Two offers share one id.
    #[error("offer \"{offer_id}\": id: used by more than one offer")]
    DuplicateOffer {
        /// The repeated id.
        offer_id: OfferId,
    },
    /// `confirmed` names an offer that is not in the offer list.
    #[error("confirmed: \"{offer_id}\" names no offer")]
    UnknownConfirmed {
        /// The id as given.
        offer_id: OfferId,
    },
    /// `confirmed` names one offer twice; the confirmation order would be ambiguous.
    #[error("confirmed: \"{offer_id}\" is listed more than once")]
    DuplicateConfirmed {
        /// The repeated id.
        offer_id: OfferId,
    },
    /// The basket's lines together hold more units than the engine tracks one by one (a single
    /// line over the limit is [`InvalidLine`](Self::InvalidLine) on its `quantity`).
    #[error("lines: the basket has more than {limit} units")]
    TooManyUnits {
        /// The limit, [`MAX_UNITS`](super::MAX_UNITS).
        limit: usize,
    },
    /// An amount does not fit in `i64` minor units, or a percentage is too precise to compute
    /// exactly.
    #[error("{field}: amount overflow")]
    Overflow {
        /// Where it happened (`lines: total_gross`, `offer "c1": percent`).
        field: String,
    },
}

impl PricingError {
    /// This refusal as the core's one error: `Invalid` for `operation`, naming the field as
    /// [`PricingError::field_in`] does and saying why. What the checkout, the HTTP service and
    /// anyone else who priced a caller's basket answers.
    pub fn invalid_in(
        &self,
        provider: &str,
        operation: &str,
        basket: &crate::basket::Basket,
        confirmed: &[OfferId],
    ) -> crate::Error {
        crate::Error::invalid(provider, operation, self.field_in(basket, confirmed), self.to_string())
    }

    /// Where the fault is in a request made of `basket` and `confirmed` (a checkout request,
    /// a price request): `basket.lines[2].quantity`, `basket.lines[1].line_id` (the second
    /// line with a repeated id), `confirmed[0]`; `offers` for a fault in the provider's offers
    /// (the caller cannot fix those), `basket` when no single part is to blame.
    ///
    /// ```
    /// use loyalty_core::pricing::PricingError;
    /// use loyalty_core::{Basket, Currency, Line, Money};
    /// use rust_decimal::Decimal;
    ///
    /// let basket = Basket::new(Currency::NOK)
    ///     .with_line(Line::new("1", "P-1", Decimal::ONE, Money::new(100, Currency::NOK)));
    /// let e = PricingError::InvalidLine { line_id: "1".into(), field: "quantity", reason: "negative".into() };
    /// assert_eq!(e.field_in(&basket, &[]), "basket.lines[0].quantity");
    /// ```
    pub fn field_in(&self, basket: &crate::basket::Basket, confirmed: &[OfferId]) -> String {
        let nth_line = |id: &LineId, n: usize| {
            basket.lines.iter().enumerate().filter(|(_, l)| &l.line_id == id).nth(n).map(|(i, _)| i)
        };
        let nth_confirmed = |id: &OfferId, n: usize| {
            confirmed.iter().enumerate().filter(|(_, c)| *c == id).nth(n).map(|(i, _)| i)
        };
        let or =
            |i: Option<usize>, at: &dyn Fn(usize) -> String, whole: &str| i.map_or(whole.to_string(), at);
        match self {
            PricingError::InvalidLine { line_id, field, .. } => {
                or(nth_line(line_id, 0), &|i| format!("basket.lines[{i}].{field}"), "basket.lines")
            }
            PricingError::DuplicateLine { line_id } => {
                or(nth_line(line_id, 1), &|i| format!("basket.lines[{i}].line_id"), "basket.lines")
            }
            PricingError::InvalidOffer { .. } | PricingError::DuplicateOffer { .. } => "offers".to_string(),
            PricingError::UnknownConfirmed { offer_id } => {
                or(nth_confirmed(offer_id, 0), &|i| format!("confirmed[{i}]"), "confirmed")
            }
            PricingError::DuplicateConfirmed { offer_id } => {
                or(nth_confirmed(offer_id, 1), &|i| format!("confirmed[{i}]"), "confirmed")
            }
            PricingError::TooManyUnits { .. } => "basket.lines".to_string(),
            PricingError::Overflow { .. } => "basket".to_string(),
        }
    }
}
