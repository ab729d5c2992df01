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
    /// Points the transaction stands at now: what it earned less what refunds took back.
    pub points: Decimal,
    /// Points the live version earned when it was sent (or amended); refunds take back shares
    /// of it.
    pub earned: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct RedemptionRec {
    pub redemption: Redemption,
    pub reinstated: bool,
}

/// An upgrade chain on one cart line: the product first paid for, the last product paid for,
/// and what was captured for each unit so far (upgrades charge last minus first in all).
#[derive(Debug, Clone)]
pub(crate) struct ChainRec {
    pub origin: ProductId,
    pub origin_price: Money,
    pub paid_product: ProductId,
    pub paid_price: Money,
    /// Minor units captured per unit of the chain so far.
    pub captured_per_unit: i64,
    /// The upgrade cart whose payment the chain's latest step waits for.
    pub child: Option<String>,
}

/// How a cart was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PaidWith {
    /// A card (or the card on file): upgrades charge it again.
    Card,
    /// A processor that took the customer elsewhere: upgrades are paid in a new cart.
    Processor,
}

#[derive(Debug, Clone)]
pub(crate) struct CartRec {
    pub cart: Cart,
    pub test: bool,
    pub customer: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub paid_with: Option<PaidWith>,
    /// A payment waiting for the customer: since when, and what was asked.
    pub pending: Option<(chrono::DateTime<chrono::Utc>, loyalty_core::checkout::PaymentAction, PaidWith)>,
    /// Upgrade chains by line id.
    pub chains: HashMap<String, ChainRec>,
    /// For an upgrade cart: the parent cart, the parent's line and the difference per unit.
    pub parent: Option<(String, String, Money)>,
    pub card_on_file: Option<String>,
    /// What the checkout charged, kept when the cart was paid: a later upgrade changes the
    /// cart's total, not what the checkout took (a repeated checkout answers this).
    pub charged: Option<Money>,
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
    /// Card ids issued at checkout, usable as a card on file.
    pub cards: Vec<String>,
    /// The next upgrade charge fails on every attempt.
    pub fail_upgrade_charge: bool,
    /// Upgrade charge attempts made (each tries up to three times).
    pub upgrade_charge_attempts: u32,
    pub stock: BTreeMap<ProductId, Decimal>,
    pub couriers: Vec<Courier>,
    pub orders: BTreeMap<String, OrderRec>,
    pub order_refs: HashMap<String, OrderId>,
    pub failures: HashMap<String, Vec<loyalty_core::Error>>,
    /// Operations whose next call takes effect and then loses its reply.
    pub lost_replies: HashMap<String, u32>,
    /// Operations whose next calls stop before acting until their pause is released.
    pub pauses: HashMap<String, Vec<crate::Pause>>,
    pub seq: u64,
}

impl State {
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}-{}", self.seq)
    }
}
