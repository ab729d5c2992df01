//! Offers: coupons, stamp cards, progressive discounts and rewards.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{LineId, OfferId, ProductId};
use crate::money::Money;

/// What an [`OfferRef`] holds: the vendor's id of the offer instance, or a code the customer
/// or cashier types or scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    /// The vendor's id (a user offer id, a stamp card id).
    Id,
    /// A code (a coupon code, a short-lived TTL code).
    Code,
}

/// The provider's own handle on an offer: a coupon code, a user offer id, a stamp card id, and
/// which of those it is, so an adapter never has to guess from the text.
///
/// ```
/// use loyalty_core::{OfferRef, RefKind};
///
/// let r = OfferRef::code("SUMMER10");
/// assert_eq!((r.kind, r.as_str()), (RefKind::Code, "SUMMER10"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// The doc comment's example is Rust; the API document gets prose only.
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "The provider's own handle on an offer: a coupon code, a user offer id, a stamp card id, \
        and which of those it is, so an adapter never has to guess from the text."
    )
)]
pub struct OfferRef {
    /// Id or code.
    pub kind: RefKind,
    /// The value as the vendor knows it.
    pub value: String,
}

impl OfferRef {
    /// A vendor id.
    pub fn id(value: impl Into<String>) -> OfferRef {
        OfferRef { kind: RefKind::Id, value: value.into() }
    }

    /// A code.
    pub fn code(value: impl Into<String>) -> OfferRef {
        OfferRef { kind: RefKind::Code, value: value.into() }
    }

    /// The value.
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl std::fmt::Display for OfferRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.value)
    }
}

/// A calendar date in a store's time zone. An offer that ends on a date (no time) is valid
/// until the end of that day there, whatever the time zone of the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LocalDate {
    /// The last day the offer is valid.
    pub date: NaiveDate,
    /// The IANA time zone the date is in (`"Europe/Oslo"`).
    pub zone: String,
}

/// The discount a vendor computed for an offer on a basket: the amount and the units it
/// covers. The core takes it as given and allocates it to lines and units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VendorDiscount {
    /// The amount taken off (positive).
    pub amount: Money,
    /// The lines it touches and how many units of each.
    pub lines: Vec<DiscountedLine>,
}

/// A line a vendor discount touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiscountedLine {
    /// The basket line.
    pub line_id: LineId,
    /// Units of the line the discount covers.
    pub units: Decimal,
}

impl VendorDiscount {
    /// A discount of `amount` over `lines`.
    pub fn new(amount: Money, lines: Vec<DiscountedLine>) -> VendorDiscount {
        VendorDiscount { amount, lines }
    }
}

impl DiscountedLine {
    /// `units` of line `line_id`.
    pub fn new(line_id: impl Into<LineId>, units: Decimal) -> DiscountedLine {
        DiscountedLine { line_id: line_id.into(), units }
    }
}

/// The rule behind an offer the vendor prices itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VendorRule {
    /// Buy X, get Y at a discount or a set price.
    BuyXGetY,
    /// A discount on the lowest-priced eligible item.
    LowestItem,
    /// A discount on the highest-priced eligible item.
    HighestItem,
    /// An item at a promotional price.
    SetPrice,
    /// A discount on the whole check.
    Check,
    /// Another rule, as the vendor names it.
    Other(String),
}

/// What a coupon takes off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "products", rename_all = "snake_case")]
pub enum Scope {
    /// The whole purchase; applied only when the customer confirms it.
    Basket,
    /// Only these products; applied automatically.
    Products(Vec<ProductId>),
}

/// A stamp card's state for one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tier {
    /// Qualifying units needed to reach the tier.
    pub min_units: u32,
    /// Percentage taken off every qualifying unit.
    pub percent: Decimal,
}

/// What reaches a progressive discount's tier (eManage's `progressive_count`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProgressiveCount {
    /// The qualifying units: the sum of the quantities of qualifying lines.
    #[default]
    Units,
    /// The qualifying products: how many distinct products of the offer have a qualifying unit.
    Lines,
}

/// Which qualifying units get a progressive discount's percentage (eManage's
/// `progressive_mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProgressiveMode {
    /// Every qualifying unit gets the tier reached by the whole count.
    #[default]
    AllUnits,
    /// Unit n (or, counting lines, every unit of product n) gets the tier reached at n, units
    /// and products taken in order of their product's first line in the basket: with tiers 25 %
    /// from 1 and 50 % from 2, two units pay 75 % and 50 %.
    MarginalUnit,
}

/// What kind of offer, with its pricing parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        /// What reaches a tier; absent in older JSON, read as units.
        #[serde(default)]
        count: ProgressiveCount,
        /// Which units get a tier's percentage; absent in older JSON, read as all units.
        #[serde(default)]
        mode: ProgressiveMode,
    },
    /// An offer the vendor prices for each basket (buy X get Y, lowest or highest item, set
    /// price). The engine applies the vendor's discount as given, when the customer confirms
    /// the offer, and allocates it to the units it names.
    VendorPriced {
        /// The vendor's rule, for display.
        rule: VendorRule,
        /// The discount the vendor computed for the current basket; `None` until it has.
        discount: Option<VendorDiscount>,
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The local date the offer ends on, when the vendor gives a date without a time;
    /// `valid_to` is then the last instant of that day in its zone.
    pub ends_on: Option<LocalDate>,
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
            reference: OfferRef::id(id.as_str()),
            id,
            code: None,
            title: title.into(),
            valid_from: None,
            valid_to: None,
            ends_on: None,
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
    pub fn with_reference(mut self, reference: OfferRef) -> Offer {
        self.reference = reference;
        self
    }

    /// Ends the offer at the end of `date` in `zone` (DST-aware): `valid_to` becomes the last
    /// instant of that local day, and refusals name the local date.
    ///
    /// ```
    /// use chrono::{NaiveDate, TimeZone, Utc};
    /// use loyalty_core::{Discount, Offer, OfferKind, Scope};
    ///
    /// let offer = Offer::new("c1", "10 %", OfferKind::Coupon {
    ///     discount: Discount::Percent(10.into()),
    ///     scope: Scope::Basket,
    /// })
    /// .ending_on(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(), chrono_tz::Europe::Oslo);
    /// // Oslo switches to summer time on 29 March 2026: the day ends at 21:59:59 UTC.
    /// assert!(offer.is_valid_at(Utc.with_ymd_and_hms(2026, 3, 29, 21, 59, 59).unwrap()));
    /// assert!(!offer.is_valid_at(Utc.with_ymd_and_hms(2026, 3, 29, 22, 0, 0).unwrap()));
    /// assert_eq!(offer.expiry_text(), Some("expired on 2026-03-29".to_string()));
    /// ```
    pub fn ending_on(mut self, date: NaiveDate, zone: chrono_tz::Tz) -> Offer {
        self.valid_to = end_of_day(date, zone);
        self.ends_on = Some(LocalDate { date, zone: zone.name().to_string() });
        self
    }

    /// "expired on `<date>`", naming the local end date when the vendor gave one and the UTC
    /// date of `valid_to` otherwise; `None` for an offer without an end.
    pub fn expiry_text(&self) -> Option<String> {
        match (&self.ends_on, self.valid_to) {
            (Some(local), _) => Some(format!("expired on {}", local.date.format("%Y-%m-%d"))),
            (None, Some(to)) => Some(format!("expired on {}", to.format("%Y-%m-%d"))),
            (None, None) => None,
        }
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

/// The last instant of `date` in `zone`: one nanosecond before the next local day starts.
/// A day whose midnight does not exist (a DST gap at midnight) starts at its first valid time.
fn end_of_day(date: NaiveDate, zone: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let next = date.succ_opt()?;
    let start = (0..24).find_map(|h| zone.from_local_datetime(&next.and_hms_opt(h, 0, 0)?).earliest())?;
    Some(start.with_timezone(&Utc) - chrono::Duration::nanoseconds(1))
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
