//! The request bodies and small answers of the service that are not core types.

use loyalty_core::{Basket, DepartmentId, MemberId, MemberLookup, Money, OfferId, RegisterMember};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `GET /health`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the service answers.
    pub status: String,
    /// The configured provider's name.
    pub provider: String,
}

/// `POST /v1/offers`: the offers a member (or a guest) can use, for a basket when given.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OffersRequest {
    /// The member; absent for a guest.
    #[serde(default)]
    pub member: Option<MemberId>,
    /// The basket, for providers that tailor offers to it.
    #[serde(default)]
    pub basket: Option<Basket>,
}

/// `POST /v1/price`: price a basket with the provider's offers, holding nothing.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceRequest {
    /// The member; absent for a guest.
    #[serde(default)]
    pub member: Option<MemberId>,
    /// The basket.
    pub basket: Basket,
    /// Offers the customer confirmed (basket coupons), in order.
    #[serde(default)]
    pub confirmed: Vec<OfferId>,
}

/// `POST /v1/checkouts/{order}/prepare`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrepareRequest {
    /// The basket.
    pub basket: Basket,
    /// How to find the member, when the customer gave something.
    #[serde(default)]
    pub member: Option<MemberLookup>,
    /// A guest's sign-up, used when no member is found and both consents are given.
    #[serde(default)]
    pub sign_up: Option<RegisterMember>,
    /// Offers the customer confirmed, in order.
    #[serde(default)]
    pub confirmed: Vec<OfferId>,
    /// Department or store.
    #[serde(default)]
    pub department: Option<DepartmentId>,
}

/// The payment the shop took for an order (its PSP's or till's reference and amount).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopPayment {
    /// The payment's reference at the shop's payment service: 1 to 255 characters, not blank,
    /// no control character (anything else is 400 naming `payment.reference`, nothing
    /// recorded). The sale is recorded as paid by it.
    pub reference: String,
    /// The amount paid: must equal the prepared total.
    pub amount: Money,
}

/// `POST /v1/checkouts/{order}/commit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    /// The payment taken.
    pub payment: ShopPayment,
    /// The revision of the prepared checkout the customer confirmed (the prepare answer's
    /// `revision`): an order prepared again since (another tab, an edited cart) is refused
    /// with 409 instead of recording goods the customer did not see. Optional; without it the
    /// order is committed as last prepared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
}

/// One returned line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnedLine {
    /// The line of the original sale.
    pub line_id: String,
    /// The quantity returned (a decimal string: no exponent or separators).
    #[schema(value_type = String, example = "1")]
    #[serde(deserialize_with = "loyalty_core::money::decimal_text::deserialize")]
    pub quantity: Decimal,
}

/// `POST /v1/returns`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequestBody {
    /// The order the goods were bought in.
    pub order: String,
    /// The return's own id (its idempotency key).
    pub return_id: String,
    /// What comes back.
    pub lines: Vec<ReturnedLine>,
    /// Why, for the provider.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What one resend did.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResendResult {
    /// The order.
    pub order: String,
    /// `sent`, `pending`, `refused`, `not_supported`, or `failed`.
    pub status: String,
    /// The reason when not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
