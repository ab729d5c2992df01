//! The provider's state, behind one mutex.

use std::collections::{BTreeMap, HashMap};

use loyalty_core::{
    Cart, Courier, Hold, HoldId, Member, MemberId, Money, Offer, OfferId, OrderId, OrderStatus, ProductId,
    Recipient, Redemption, Segment, Transaction, TransactionId,
};
use rust_decimal::Decimal;

/// A member and what only the provider knows about them.
#[derive(Debug, Clone)]
pub(crate) struct MemberRec {
    pub member: Member,
    pub activation_token: Option<String>,
    pub national_id: Option<String>,
    pub drivers_license: Option<String>,
    pub external_id: Option<String>,
}

/// An offer in the catalogue: the template and its use limit per member.
#[derive(Debug, Clone)]
pub(crate) struct OfferDef {
    pub offer: Offer,
    /// Uses per member; `None` = unlimited.
    pub max_uses: Option<u32>,
    /// Listed to guests too (a campaign offer).
    pub guests: bool,
    /// For a vendor-priced offer: the products it covers and the percentage it takes off the
    /// cheapest of them (the rule the memory provider prices itself).
    pub lowest_item: Option<(Vec<ProductId>, Decimal)>,
}

#[derive(Debug, Clone)]
pub(crate) struct HoldRec {
    pub hold: Hold,
    pub open: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct TxRec {
    pub tx: Transaction,
    pub cancelled: bool,
    pub refunded: Money,
    /// Coupon uses this transaction consumed (offer id, count).
    pub uses: Vec<OfferId>,
    /// Net stamp change per card.
    pub stamps: Vec<(OfferId, i64)>,
    pub points: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct RedemptionRec {
    pub redemption: Redemption,
    pub reinstated: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct CartRec {
    pub cart: Cart,
    pub test: bool,
    pub customer: bool,
    /// Per line: the product first put in the cart (upgrades charge last minus first).
    pub first_product: HashMap<String, ProductId>,
    pub order: Option<OrderId>,
    pub charge_total: Money,
}

#[derive(Debug, Clone)]
pub(crate) struct OrderRec {
    pub status: OrderStatus,
    pub recipient: Recipient,
    pub courier_id: String,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub members: BTreeMap<MemberId, MemberRec>,
    pub segments: Vec<Segment>,
    pub offers: Vec<OfferDef>,
    pub uses: HashMap<(MemberId, OfferId), u32>,
    pub stamps: HashMap<(MemberId, OfferId), u32>,
    pub spent_cards: Vec<(MemberId, OfferId)>,
    pub holds: BTreeMap<HoldId, HoldRec>,
    pub transactions: HashMap<TransactionId, TxRec>,
    /// Refund id → (original, amount).
    pub refunds: HashMap<TransactionId, (TransactionId, Money)>,
    pub redemptions: HashMap<String, RedemptionRec>,
    /// Uses consumed by transactions and given back by an explicit reinstate, by redemption id.
    pub reinstated_uses: std::collections::HashSet<String>,
    pub carts: BTreeMap<String, CartRec>,
    pub prices: BTreeMap<ProductId, Money>,
    pub upgrades: BTreeMap<ProductId, Vec<ProductId>>,
    pub cart_campaign: Vec<Offer>,
    pub stock: BTreeMap<ProductId, Decimal>,
    pub couriers: Vec<Courier>,
    pub orders: BTreeMap<String, OrderRec>,
    pub order_refs: HashMap<String, OrderId>,
    pub failures: HashMap<String, Vec<loyalty_core::Error>>,
    /// Operations whose next call takes effect and then loses its reply.
    pub lost_replies: HashMap<String, u32>,
    pub seq: u64,
}

impl State {
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}-{}", self.seq)
    }
}
