//! Loyalty Bridge core: the domain model, one async trait per concern, capabilities, the one
//! [`Error`] type, the provider-independent pricing engine and the checkout flow.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod basket;
pub mod capabilities;
pub mod checkout;
pub mod clock;
pub mod commerce;
pub mod error;
pub mod form;
pub mod ids;
pub mod member;
pub mod money;
pub mod offer;
pub mod pricing;
pub mod provider;
pub mod returns;
pub mod transaction;

pub use basket::{Basket, Line, LineDiscount, NotApplied, PricedBasket, PricedLine, StampOutcome};
pub use capabilities::{Capabilities, HoldStyle, Reinstatement, ReturnStyle, UsageCounting};
pub use clock::{Clock, ManualClock, SystemClock};
pub use commerce::{
    Cart, CartLine, CartOrder, CartStatus, Courier, Customer, DropshipOrder, NewCart, OrderStatus, Recipient,
    ShipmentNotice, StockLevel, UpgradePreview, UpgradeRequest,
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
pub use offer::{Discount, Offer, OfferKind, OfferRef, Scope, StampCard, Tier, Validation};
pub use provider::{
    Carts, Context, Fulfilment, Holds, Members, Offers, Provider, ProviderExt, Redemptions, Transactions,
};
pub use transaction::{
    Hold, HoldRequest, Payment, RedeemRequest, Redemption, Refund, ReturnLine, ReturnRequest, SendOutcome,
    StampAction, StampMovement, Transaction, TransactionLine, TransactionReceipt, UsedOffer,
};
