//! Every simulator choice that diller.md marks \[S\] (§7.5), as a named setting. Settings read
//! from JSON or TOML (`loyalty sim diller --settings FILE`) name fields and values in snake
//! case; a field left out keeps its default, an unknown one is an error.

use serde::Deserialize;

/// What `enroll` does with a phone that belongs to an already activated member (§7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EnrollExisting {
    /// 200 with the existing member (default).
    ReturnExisting,
    /// 400 problem details.
    Reject,
}

/// What a second T1 with an already used `external_id` does (§7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DuplicateTransaction {
    /// 400 problem "duplicate" (default).
    Reject,
    /// Books it again (double booking).
    Accept,
    /// Answers success without booking anything.
    Ignore,
}

/// What `count` of a `deducted` stamp-card line means (open question 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeductedCount {
    /// Number of stamps removed (default).
    Stamps,
    /// Number of rewards taken; each removes `required_stamps` stamps.
    Rewards,
}

/// When a restartable stamp card starts over (§7.3; §5.5 `is_restartable` \[KB\]: "starts over
/// after completion").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RestartOn {
    /// When the full card is redeemed (a `deducted` move), as §7.3 reads it (default). A full
    /// card keeps its stamps until then; stamps past full within one sale carry over to the
    /// next card when that sale redeems it, otherwise the card stays at full.
    Redemption,
    /// As soon as it fills, at the end of the sale: stamps past full carry over.
    Fill,
}

/// Simulator settings with the defaults of diller.md §7.5. Each field is a simulator decision.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DillerSettings {
    /// `expires_in` of issued tokens, in seconds (default 3600).
    pub token_expires_in_secs: u64,
    /// Accept `client_id`/`client_secret` form fields and a missing `scope` (default true);
    /// false = Basic authentication and `scope=api.retailer` only.
    pub accept_client_secret_post: bool,
    /// M1 with no match answers a 400 problem instead of `200 []` (default false).
    pub search_no_match_is_error: bool,
    /// Unknown store/member/coupon/transaction ids answer 404 instead of 400 (default false).
    pub strict_404: bool,
    /// Enroll of an existing, activated phone (default: return the existing member).
    pub enroll_existing_activated: EnrollExisting,
    /// Coupon refusals on validate/reserve answer a 400 problem instead of `200 is_ok:false`
    /// (default false).
    pub coupon_refusal_is_error: bool,
    /// Duplicate T1 `external_id` (default: 400 "duplicate").
    pub duplicate_transaction: DuplicateTransaction,
    /// Meaning of a `deducted` `count` (default: stamps).
    pub deducted_count_means: DeductedCount,
    /// When a restartable stamp card starts over (default: when redeemed).
    pub restartable_card_restarts_on: RestartOn,
    /// T1/T2 release stamp reservations made under the same `external_transaction_id`
    /// (default true).
    pub transactions_release_stamp_reservations: bool,
    /// `alsoInactive` accepts `1`/`0` and any casing (default true); false = `true`/`false` only.
    pub lenient_also_inactive: bool,
    /// Enum input in any casing (default true); false = exact names only.
    pub enum_any_casing: bool,
    /// Points earned on T1: `floor(total × currency_points_ratio)` minus non-eligible lines
    /// (default true); false = no points movements.
    pub points_formula: bool,
}

impl Default for DillerSettings {
    fn default() -> Self {
        Self {
            token_expires_in_secs: 3600,
            accept_client_secret_post: true,
            search_no_match_is_error: false,
            strict_404: false,
            enroll_existing_activated: EnrollExisting::ReturnExisting,
            coupon_refusal_is_error: false,
            duplicate_transaction: DuplicateTransaction::Reject,
            deducted_count_means: DeductedCount::Stamps,
            restartable_card_restarts_on: RestartOn::Redemption,
            transactions_release_stamp_reservations: true,
            lenient_also_inactive: true,
            enum_any_casing: true,
            points_formula: true,
        }
    }
}
