//! Loyalty Bridge core: the domain model, one async trait per concern, capabilities, the one
//! [`Error`] type, the provider-independent pricing engine and the checkout flow.
//!
//! Money is integer minor units of an ISO 4217 currency; the pricing engine works per unit
//! and allocates every amount exactly:
//!
//! ```
//! use chrono::Utc;
//! use loyalty_core::{pricing, Basket, Currency, Discount, Line, Money, Offer, OfferKind, Scope};
//! use rust_decimal::Decimal;
//!
//! let basket = Basket::new(Currency::NOK)
//!     .with_line(Line::new("1", "COF-500", Decimal::from(2), Money::parse("129.00", Currency::NOK)?))
//!     .with_line(Line::new("2", "MUG-1", Decimal::ONE, Money::parse("199.00", Currency::NOK)?));
//! let coffee = Offer::new(
//!     "c-coffee20",
//!     "20 % off coffee",
//!     OfferKind::Coupon { discount: Discount::Percent(Decimal::from(20)), scope: Scope::Products(vec!["COF-500".into()]) },
//! );
//! let priced = pricing::price(&basket, &[coffee], &[], Utc::now())?;
//! assert_eq!(priced.total_discount.amount_string(), "51.60");
//! assert_eq!(priced.total.to_string(), "405.40 NOK");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The traits ([`Members`], [`Offers`], [`Holds`], [`Redemptions`], [`Transactions`],
//! [`Carts`], [`Fulfilment`]) are reached through a [`Provider`], whose [`Capabilities`] say
//! what it can do; [`checkout::Checkout`] drives a purchase through any of them.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod basket;
pub mod capabilities;
pub mod checked;
pub mod checkout;
pub mod clock;
pub mod commerce;
pub mod error;
pub mod form;
pub mod ids;
pub mod locks;
pub mod member;
pub mod money;
pub mod offer;
pub mod pricing;
pub mod provider;
pub mod returns;
pub mod transaction;

pub use basket::{Applied, Basket, Line, LineDiscount, NotApplied, PricedBasket, PricedLine, StampOutcome};
pub use capabilities::{Capabilities, HoldStyle, Reinstatement, Resend, ReturnStyle, UsageCounting};
pub use checked::Checked;
pub use clock::{Clock, ManualClock, SystemClock};
pub use commerce::{
    Billing, CardDetails, CardSecret, Cart, CartCheckout, CartLine, CartOrder, CartPayment, CartStatus,
    Courier, CourierQuery, Customer, DropshipOrder, LineUpgrade, NewCart, OrderLine, OrderStatus,
    PlacedOrder, PushedRequest, Recipient, ShipmentNotice, Shortfall, StockLevel, UpgradeOutcome,
    UpgradeRequest, UpgradeStatus,
};
pub use error::{Error, ErrorKind, Result, WriteEffect};
pub use ids::{
    CartId, DepartmentId, HoldId, LineId, MemberId, OfferId, OrderId, ProductId, SegmentId, TransactionId,
};
pub use member::{
    Address, Consents, EnrollMember, Gender, LookupKind, Member, MemberLookup, MemberUpdate, Phone,
    RegisterMember, Segment, SegmentAnswer, SegmentKind, SegmentOption, SegmentValue,
};
pub use money::{Currency, Money, MoneyError, Quantity, Rounding};
pub use offer::{
    Discount, DiscountedLine, LocalDate, Offer, OfferKind, OfferRef, ProgressiveCount, ProgressiveMode,
    RefKind, Scope, StampCard, Tier, Validation, VendorDiscount, VendorRule,
};
pub use provider::{
    Carts, Context, Fulfilment, Holds, Members, Offers, Provider, ProviderExt, Redemptions, Transactions,
};
pub use transaction::{
    Hold, HoldRequest, Payment, RedeemRequest, Redemption, Refund, ReturnLine, ReturnRequest, SendOutcome,
    StampAction, StampMovement, Transaction, TransactionLine, TransactionReceipt, UsedOffer,
};
