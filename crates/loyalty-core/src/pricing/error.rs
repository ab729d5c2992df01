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
    /// A basket line breaks a rule (negative quantity or price, wrong currency).
    #[error("line \"{line_id}\": {field}: {reason}")]
    InvalidLine {
        /// The line.
        line_id: LineId,
        /// The field at fault (`quantity`, `unit_price`).
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
    /// The basket holds more units than the engine tracks one by one.
    #[error("lines: the basket has more than {limit} units")]
    TooManyUnits {
        /// The limit, [`MAX_UNITS`](super::MAX_UNITS).
        limit: usize,
    },
    /// An amount does not fit in `i64` minor units, or a percentage is too precise to compute
    /// exactly.
    #[error("{field}: amount overflow")]
    Overflow {
        /// Where it happened (`line "2": gross`, `offer "c1": percent`).
        field: String,
    },
}
