//! What a provider declares it can do: plain data, serialisable, read by the checkout flow,
//! the conformance suite and the generated capability matrix.

use serde::{Deserialize, Serialize};

use crate::member::LookupKind;

/// How a provider holds an offer for a pending transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "style", rename_all = "snake_case")]
pub enum HoldStyle {
    /// A lock that lapses by itself after `default_ttl_secs` (SessionM).
    Lock {
        /// Lifetime of a lock when none is requested.
        default_ttl_secs: u64,
    },
    /// A reservation that stays until released (Diller); the flow must release it after
    /// commit or abort.
    Reserve {
        /// How long the framework treats a reservation as valid before re-checking it.
        assumed_ttl_secs: u64,
    },
}

impl HoldStyle {
    /// Lifetime the flow uses for expiry checks.
    pub fn ttl_secs(&self) -> u64 {
        match self {
            HoldStyle::Lock { default_ttl_secs } => *default_ttl_secs,
            HoldStyle::Reserve { assumed_ttl_secs } => *assumed_ttl_secs,
        }
    }
}

/// When an open hold starts counting toward a coupon's use limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageCounting {
    /// A hold already blocks the use (a held single-use coupon shows no uses left).
    AtHold,
    /// Only the committed transaction counts.
    AtCommit,
}

/// Whether an offer used in a returned transaction comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reinstatement {
    /// Never.
    Never,
    /// Automatically, when the transaction is cancelled.
    OnCancel,
    /// Only through an explicit `Redemptions::reinstate` call.
    Explicit,
}

/// How a provider takes a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStyle {
    /// Cancel the original and send what was kept as a new transaction (Diller).
    CancelAndResend,
    /// Send a transaction with negative lines (no original id known).
    NegativeTransaction,
    /// Call the provider's partial refund.
    PartialRefund,
    /// Re-send the original transaction id without the returned lines (SessionM).
    ResendWithoutLines,
}

/// A provider's declared capabilities. Flat on purpose: every field is one fact a scenario or
/// the checkout flow can test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Member lookups supported by `Members::find`.
    pub lookups: Vec<LookupKind>,
    /// `Members::get`.
    pub get_member: bool,
    /// `Members::register` (profile and consents supplied).
    pub register: bool,
    /// `Members::enroll` (phone-first, activation by message).
    pub enroll: bool,
    /// `Members::update`.
    pub update_member: bool,
    /// `Members::segments`.
    pub segments: bool,
    /// `Offers::list`.
    pub list_offers: bool,
    /// `Offers::list` evaluates offers against a basket.
    pub offers_with_basket: bool,
    /// `Offers::validate`.
    pub validate_offer: bool,
    /// `Holds::hold` / `Holds::release` and their style.
    pub hold: Option<HoldStyle>,
    /// When a hold counts toward the use limit.
    pub usage_counting: UsageCounting,
    /// Holds must be released after the transaction is committed (Diller's reservations).
    pub release_after_commit: bool,
    /// `Redemptions::redeem`.
    pub redeem: bool,
    /// Whether and how a used offer comes back on a return.
    pub reinstate: Reinstatement,
    /// Stamp cards are listed and moved by transactions.
    pub stamp_cards: bool,
    /// Members have a points balance.
    pub points: bool,
    /// `Transactions::send`.
    pub send_transaction: bool,
    /// A second send with the same transaction id is recognised (one effect).
    pub idempotent_send: bool,
    /// `Transactions::cancel`.
    pub cancel_transaction: bool,
    /// Return styles, most preferred first.
    pub return_styles: Vec<ReturnStyle>,
    /// `Carts` (create, lines, checkout).
    pub carts: bool,
    /// `Carts::upgrade` (upsell upgrades).
    pub cart_upgrades: bool,
    /// `Fulfilment` (stock, couriers, dropship orders, status, shipment notices).
    pub dropshipping: bool,
}

impl Capabilities {
    /// Nothing declared; adapters switch on what they implement.
    pub fn none() -> Capabilities {
        Capabilities {
            lookups: Vec::new(),
            get_member: false,
            register: false,
            enroll: false,
            update_member: false,
            segments: false,
            list_offers: false,
            offers_with_basket: false,
            validate_offer: false,
            hold: None,
            usage_counting: UsageCounting::AtCommit,
            release_after_commit: false,
            redeem: false,
            reinstate: Reinstatement::Never,
            stamp_cards: false,
            points: false,
            send_transaction: false,
            idempotent_send: false,
            cancel_transaction: false,
            return_styles: Vec::new(),
            carts: false,
            cart_upgrades: false,
            dropshipping: false,
        }
    }

    /// True when `Members::find` accepts `kind`.
    pub fn supports_lookup(&self, kind: LookupKind) -> bool {
        self.lookups.contains(&kind)
    }

    /// True when any member operation is declared.
    pub fn members(&self) -> bool {
        !self.lookups.is_empty()
            || self.get_member
            || self.register
            || self.enroll
            || self.update_member
            || self.segments
    }

    /// True when any offer operation is declared.
    pub fn offers(&self) -> bool {
        self.list_offers || self.validate_offer
    }

    /// True when any transaction operation is declared.
    pub fn transactions(&self) -> bool {
        self.send_transaction || self.cancel_transaction || !self.return_styles.is_empty()
    }

    /// True when returns can use `style`.
    pub fn supports_return(&self, style: ReturnStyle) -> bool {
        self.return_styles.contains(&style)
    }
}
