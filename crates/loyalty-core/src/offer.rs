//! Offers: coupons, stamp cards, progressive discounts and rewards.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{OfferId, ProductId};
use crate::money::Money;

/// The provider's own handle on an offer: a coupon code, a user offer id, a stamp card id.
/// Adapters put what their vendor needs to address the offer here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OfferRef(pub String);

/// What a coupon takes off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Discount {
    /// A percentage of what it covers, e.g. `10` for 10 %.
    Percent(Decimal),
    /// A fixed amount, given once and capped at what it covers.
    Fixed(Money),
    /// Free shipping: carried to the shop, not priced by the engine.
    FreeShipping,
}

/// Which units a coupon covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "products", rename_all = "snake_case")]
pub enum Scope {
    /// The whole purchase; applied only when the customer confirms it.
    Basket,
    /// Only these products; applied automatically.
    Products(Vec<ProductId>),
}

/// A stamp card's state for one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampCard {
    /// Stamps needed for the reward.
    pub required: u32,
    /// Stamps the member has collected so far.
    pub collected: u32,
    /// The card starts again after completion.
    pub restartable: bool,
    /// Products that earn stamps (and get the reward).
    pub products: Vec<ProductId>,
}

/// One tier of a progressive discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Qualifying units needed to reach the tier.
    pub min_units: u32,
    /// Percentage taken off every qualifying unit.
    pub percent: Decimal,
}

/// What kind of offer, with its pricing parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OfferKind {
    /// A coupon.
    Coupon {
        /// What it takes off.
        discount: Discount,
        /// What it covers.
        scope: Scope,
    },
    /// A stamp card.
    StampCard(StampCard),
    /// A discount by number of qualifying units (eManage cart campaigns).
    ProgressiveDiscount {
        /// Tiers, any order.
        tiers: Vec<Tier>,
        /// Qualifying products.
        products: Vec<ProductId>,
    },
    /// A points-based reward.
    Reward {
        /// Points it costs.
        points: Decimal,
        /// What it gives, when it is a discount.
        discount: Option<Discount>,
    },
}

/// An offer available to a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Offer {
    /// Id, unique within one provider.
    pub id: OfferId,
    /// The code a customer types, when there is one.
    pub code: Option<String>,
    /// A title a cashier or shopper can read.
    pub title: String,
    /// Start of validity (inclusive).
    pub valid_from: Option<DateTime<Utc>>,
    /// End of validity (inclusive); `None` = no end.
    pub valid_to: Option<DateTime<Utc>>,
    /// Uses left for this member; `None` = unlimited or unknown.
    pub uses_left: Option<u32>,
    /// The kind and its parameters.
    pub kind: OfferKind,
    /// The provider's handle.
    pub reference: OfferRef,
}

impl Offer {
    /// An offer valid at any time, whose provider handle is its id.
    pub fn new(id: impl Into<OfferId>, title: impl Into<String>, kind: OfferKind) -> Offer {
        let id = id.into();
        Offer {
            reference: OfferRef(id.as_str().to_string()),
            id,
            code: None,
            title: title.into(),
            valid_from: None,
            valid_to: None,
            uses_left: None,
            kind,
        }
    }

    /// Sets the customer-facing code.
    pub fn with_code(mut self, code: impl Into<String>) -> Offer {
        self.code = Some(code.into());
        self
    }

    /// Sets the validity window (inclusive at both ends).
    pub fn with_validity(mut self, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Offer {
        self.valid_from = from;
        self.valid_to = to;
        self
    }

    /// Sets the uses left.
    pub fn with_uses_left(mut self, uses: Option<u32>) -> Offer {
        self.uses_left = uses;
        self
    }

    /// Sets the provider handle.
    pub fn with_reference(mut self, reference: impl Into<String>) -> Offer {
        self.reference = OfferRef(reference.into());
        self
    }

    /// True when `now` lies inside the validity window (inclusive at both ends).
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.valid_from.is_none_or(|from| from <= now) && self.valid_to.is_none_or(|to| now <= to)
    }

    /// True for a coupon covering the whole basket (it needs the customer's confirmation).
    pub fn is_basket_coupon(&self) -> bool {
        matches!(self.kind, OfferKind::Coupon { scope: Scope::Basket, .. })
    }
}

/// A provider's answer on whether an offer can be used now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Validation {
    /// The offer checked.
    pub offer_id: OfferId,
    /// It can be used.
    pub valid: bool,
    /// Why not (or the provider's remark), readable by a cashier.
    pub reason: Option<String>,
}

impl Validation {
    /// The offer can be used.
    pub fn valid(offer_id: OfferId) -> Validation {
        Validation { offer_id, valid: true, reason: None }
    }

    /// The offer cannot be used, for `reason`.
    pub fn invalid(offer_id: OfferId, reason: impl Into<String>) -> Validation {
        Validation { offer_id, valid: false, reason: Some(reason.into()) }
    }
}
