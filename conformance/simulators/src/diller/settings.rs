//! Every simulator choice, as a named setting: those diller.md marks \[S\] (§7.5) and those the
//! contract is silent on (a stricter reading of an optional field included). Settings read
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

/// What a member search (M1) does with its query keys (open question 2: how keys combine is
/// not documented).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SearchKeys {
    /// Exactly one non-empty key; none or several answer a 400 problem (default).
    ExactlyOne,
    /// One key or more; a member must match every key given. None is still a 400.
    AllMustMatch,
}

/// What a stamp reservation (K3) keeps from other transactions (§4.4 K3: "no other transaction
/// can use it"; the granularity is not documented).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StampLock {
    /// The whole card: K3 of another transaction answers `is_ok:false`, and a T1 of another
    /// transaction may not deduct from it (default).
    Card,
    /// Only the reserved stamps: other transactions may reserve too, and may deduct the stamps
    /// no other transaction holds.
    Stamps,
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
    /// A T1 with a negative `total` (a return booked as a negative sale) takes back
    /// `floor(|net| × currency_points_ratio)` points, never leaving the balance below zero
    /// (default true); false = a negative sale moves no points.
    pub negative_totals_take_points_back: bool,
    /// C4, C5, K3 and K4 answer a 400 problem when `external_transaction_id` is missing
    /// (default false: the swagger marks every field of these bodies optional, §5.4, §5.5; a
    /// reservation without one is kept under "no id", and only a release without one frees it).
    pub reservations_require_transaction_id: bool,
    /// S4 answers a 400 problem when `id` or `name` is missing (default false: neither is marked
    /// required, §5.3; a department sent without an id gets a generated one).
    pub departments_require_id_and_name: bool,
    /// M10 without `otp_code`, and M12 without `phone` or `otp_code`, answer a 400 problem
    /// (default false: neither is marked required, §5.2; a missing one matches nothing,
    /// `is_ok:false`).
    pub otp_verification_fields_required: bool,
    /// K4 is gone, as its deprecation note announces (§4.4): its route answers 404 like any
    /// unknown path (default false: K4 still answers).
    pub k4_removed: bool,
    /// What a K3 reservation keeps from other transactions (default: the whole card).
    pub stamp_reservation_locks: StampLock,
    /// How M1 combines its query keys (default: exactly one).
    pub search_keys: SearchKeys,
    /// T1 and T3 whose `currency` differs from the store's answer a 400 problem (default true);
    /// false = any currency is booked as if it were the store's.
    pub reject_foreign_currency: bool,
    /// Department ids the store does not have (T1/T3 `department_id`, M3/M5 `department_ids`,
    /// M4 `department_id`) answer a 400 problem (default true); false = stored as given.
    pub reject_unknown_departments: bool,
    /// T3 with a `total` of zero or below answers a 400 problem (default true; §5.6 reads refund
    /// amounts as positive \[I\]); false = a zero total is accepted and moves nothing (a negative
    /// one is still refused).
    pub refund_total_must_be_positive: bool,
    /// An `email` without `@` answers a 400 problem (default true); false = stored as given.
    pub email_requires_at: bool,
    /// The store's `member_identifier.is_unique_per_country` (default true): false lets two
    /// members share an identifier, so an identifier search can find both (§5.3, §7.3).
    pub unique_identifiers: bool,
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
            negative_totals_take_points_back: true,
            reservations_require_transaction_id: false,
            departments_require_id_and_name: false,
            otp_verification_fields_required: false,
            k4_removed: false,
            stamp_reservation_locks: StampLock::Card,
            search_keys: SearchKeys::ExactlyOne,
            reject_foreign_currency: true,
            reject_unknown_departments: true,
            refund_total_must_be_positive: true,
            email_requires_at: true,
            unique_identifiers: true,
        }
    }
}
