//! Every simulator choice the SessionM contract marks \[S\] (§8.3), as a named setting.
//!
//! Rows of the §8.3 table with no alternative are fixed behaviour, not settings; they live in:
//!
//! | §8.3 row | Fixed behaviour | Where |
//! | --- | --- | --- |
//! | lock attempt on an offer locked by another transaction | `offer_locked` error | `routes::discounting` |
//! | re-lock with the same `transaction_id` | refreshes the lock, recomputes the discount | `routes::discounting` |
//! | reused `request_id` with a different body | `request_id_reused` error | `routes::pos` |
//! | `send_transaction` identity | upsert by (`store_id`, `transaction_id`) within the retailer | `routes::send_transaction` |
//! | out-of-order delivery | accepted, newest `modified_time` wins | `routes::send_transaction` |
//! | negative amounts, quantities ≤ 0 | `validation` error | `model` |
//! | Core e-mail uniqueness | enforced on create and update (keeping one's own e-mail is no clash) | `routes::core` |
//! | Core DOB making the user 13 or younger | `validation` error | `routes::core` |
//! | wallet seeding | fixtures, plus reward-store purchases (`rewardstores/purchase_offer`) | `seed`, `routes::connect` |

use rust_decimal::Decimal;
use serde::Deserialize;

/// What `send_transaction` does with a discount whose offer is not under a live lock for that
/// transaction, typically because the lock expired (§7.2, §8.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExpiredLockDiscount {
    /// A lock of this transaction that expired: redeems the offer if it is still issued and
    /// unexpired, else records a warning and accepts the transaction. An offer the transaction
    /// never locked, or released with unlock, is not redeemed (a warning, §8.1) (default).
    RedeemIfAvailable,
    /// Refuses the whole transaction with `lock_expired`.
    Reject,
}

/// How `unlock` of a non-locked offer, or `reinstate` of a never-redeemed one, is answered
/// (§7.3, §7.4, §8.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StateMismatch {
    /// An error envelope (`offer_not_locked` / `offer_not_redeemed`) (default).
    Error,
    /// `status: "OK"` without payload and without any change.
    NoOp,
}

/// What `send_transaction` does when line sums and header totals disagree (§7.6, §8.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TotalsMismatch {
    /// Accepts the transaction and records a warning (default).
    Warn,
    /// Refuses it with `totals_mismatch`.
    Reject,
}

/// HTTP status of a POS response whose `status` is not `"OK"` (§8.2, §8.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PosErrorStatus {
    /// HTTP 200 with the error envelope (default).
    Http200,
    /// HTTP 400 with the error envelope.
    Http400,
}

/// What the simulator does with JSON members it does not know in a request body. The contract
/// lists every field it knows; a live tenant's tolerance of unknown members is not public.
/// Simulator decision: strict by default, so a misspelled optional field (`guest_reciept_code`)
/// or a field the vendor does not have (`currency`) fails loudly instead of being ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnknownFields {
    /// A `validation` error naming the member (default).
    Reject,
    /// Ignored.
    Ignore,
}

/// Casing of Core error codes on the wire (§5.8: lower case observed, upper case in the docs'
/// table; checklist 23).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CodeCase {
    /// `user_not_found` (default, as observed).
    Lower,
    /// `USER_NOT_FOUND` (as the documentation's table lists them).
    Upper,
}

/// Simulator settings with the defaults of the SessionM contract §8.3. Every field is a
/// simulator decision. Deserialises from TOML or JSON; any subset may be given, unknown keys are
/// refused.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionmSettings {
    /// Lock lifetime in seconds on the simulator clock (default 900 = 15 minutes, §7.2 \[G\]).
    pub lock_ttl_secs: u64,
    /// A closed transaction carrying an expired lock's discount (default: redeem if available).
    pub expired_lock_discount: ExpiredLockDiscount,
    /// `unlock` of an offer that is not locked (default: error).
    pub unlock_not_locked: StateMismatch,
    /// `reinstate` of an offer that was never redeemed (default: error).
    pub reinstate_not_redeemed: StateMismatch,
    /// How long a `request_id` and its stored response are kept, in seconds (default 86 400 =
    /// 24 hours, §7.5).
    pub replay_window_secs: u64,
    /// Line sums vs header `subtotal` / `tax_total` disagree (default: warning only).
    pub mismatched_totals: TotalsMismatch,
    /// HTTP status of POS business errors (default 200).
    pub pos_business_error_status: PosErrorStatus,
    /// Core refuses a phone number another profile already has (default false, as observed
    /// \[K\], §6).
    pub core_phone_unique: bool,
    /// Casing of Core error codes (default lower case).
    pub core_error_code_case: CodeCase,
    /// Unknown JSON members in request bodies (default: rejected).
    pub unknown_fields: UnknownFields,
    /// The store currency. No SessionM payload carries a currency (§5); amounts are major units
    /// of this currency, and computed discounts and totals checks are rounded to its minor unit
    /// (ISO 4217 exponent; default `NOK`).
    pub store_currency: String,
    /// Points earned per whole currency unit of a closed transaction's net amount (line
    /// subtotals minus discounts), floored to a whole point (default 1). The contract gives no
    /// formula (§9 q. 9). Written as a string in TOML/JSON (`"0.1"`).
    pub points_per_currency_unit: Decimal,
    /// Delay in seconds on the simulator clock before a transaction's points reach the balance
    /// (default 0 = at once). Models "processed shortly afterwards" (§3.9).
    pub points_delay_secs: u64,
}

impl Default for SessionmSettings {
    fn default() -> Self {
        Self {
            lock_ttl_secs: 15 * 60,
            expired_lock_discount: ExpiredLockDiscount::RedeemIfAvailable,
            unlock_not_locked: StateMismatch::Error,
            reinstate_not_redeemed: StateMismatch::Error,
            replay_window_secs: 24 * 60 * 60,
            mismatched_totals: TotalsMismatch::Warn,
            pos_business_error_status: PosErrorStatus::Http200,
            core_phone_unique: false,
            core_error_code_case: CodeCase::Lower,
            unknown_fields: UnknownFields::Reject,
            store_currency: "NOK".to_string(),
            points_per_currency_unit: Decimal::ONE,
            points_delay_secs: 0,
        }
    }
}
