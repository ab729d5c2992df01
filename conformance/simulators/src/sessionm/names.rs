//! Every wire name and value the SessionM contract lists as unconfirmed (§8.2), in one place, so a
//! finding from a live tenant is a single edit. Each is \[I\] (inferred) or a simulator decision.

/// `status` of a successful POS response (§3.2 \[D\]).
pub const POS_OK: &str = "OK";
/// `status` of a successful Connect or Core response (§4.1 \[P\], §6 \[D\]).
pub const OK_LOWER: &str = "ok";
/// `status` of any failed response. Core documents `"error"` (§6 \[D\]); for POS and Connect
/// only "not OK" is known, simulator decision: the same word.
pub const ERROR: &str = "error";

/// `offer_lookup_type` values (§3.5 \[D\]); also `reference_id_type` values (§5.5 \[I\]).
pub const LOOKUP_USER_OFFER_ID: &str = "UserOfferId";
/// See [`LOOKUP_USER_OFFER_ID`].
pub const LOOKUP_TTL_CODE: &str = "TTLCode";

/// Discount `status` of a lock's Discount (§5.5 \[I\]).
pub const DISCOUNT_LOCKED: &str = "locked";
/// Discount `status` of an immediate redeem's Discount (§5.5 \[I\]).
pub const DISCOUNT_REDEEMED: &str = "redeemed";
/// Discount `status` of a lookup preview (simulator decision).
pub const DISCOUNT_AVAILABLE: &str = "available";
/// `discount_source` of discounts the simulator computes (§5.5 \[I\], simulator decision).
pub const DISCOUNT_SOURCE: &str = "sessionm_offer";

/// Top-level key of the lookup payload's offer list (§3.3 \[I\], simulator decision).
pub const LOOKUP_OFFERS: &str = "offers";

/// `offer_type` of a fixed amount off the whole check (§5.6 \[K\]).
pub const TYPE_FIXED_CHECK: &str = "fixed_amount_check_discount";
/// `offer_type` of a percent off the whole check (simulator decision, by analogy).
pub const TYPE_PERCENT_CHECK: &str = "percent_check_discount";
/// `offer_type` of a fixed amount off one eligible item (§5.6 \[K: SDK\]).
pub const TYPE_FIXED_ITEM: &str = "fixed_amount_discount";
/// `offer_type` of a percent off one eligible item (§5.6 \[K: SDK\]).
pub const TYPE_PERCENT_ITEM: &str = "percent_discount";
/// `offer_type` of a set-price coupon (simulator decision).
pub const TYPE_SET_PRICE: &str = "set_price_discount";
/// `offer_type` of buy-X-get-Y (simulator decision).
pub const TYPE_BUY_X_GET_Y: &str = "buy_x_get_y";
/// `offer_type` of a non-discount reward (§5.6 \[P\]).
pub const TYPE_MANUAL: &str = "manual_fulfillment";

/// `offer_config.type` of a fixed amount reward (simulator decision).
pub const REWARD_FIXED: &str = "fixed_amount";
/// `offer_config.type` of a percent reward (simulator decision).
pub const REWARD_PERCENT: &str = "percent";
/// `offer_config.type` of a set-price reward (simulator decision).
pub const REWARD_SET_PRICE: &str = "set_price";
/// `offer_config.apply_to` for check offers (simulator decision).
pub const APPLY_CHECK: &str = "check";
/// `offer_config.apply_to` for the lowest-priced eligible item (simulator decision).
pub const APPLY_LOWEST: &str = "lowest_priced_item";
/// `offer_config.apply_to` for the highest-priced eligible item (simulator decision).
pub const APPLY_HIGHEST: &str = "highest_priced_item";

/// POS and Connect error codes. All are simulator decisions (§5.8: the POS `errors` shape and
/// codes are unknown); only "pending processing" is named in the documentation's prose.
pub mod code {
    /// Missing or wrong Basic credentials (HTTP 401).
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// Body is not JSON, or not a JSON object (HTTP 400).
    pub const INVALID_JSON: &str = "invalid_json";
    /// `Content-Type` is not `application/json` (HTTP 400; mandatory per §2 \[D\]).
    pub const CONTENT_TYPE: &str = "unsupported_content_type";
    /// Field validation failed; `errors.fields` names each path.
    pub const VALIDATION: &str = "validation";
    /// Envelope `client_id` is not the tenant's.
    pub const INVALID_CLIENT: &str = "invalid_client_id";
    /// Envelope `store_id` is not one of the tenant's stores.
    pub const STORE_NOT_FOUND: &str = "store_not_found";
    /// Connect `retailer_id` is not the tenant's.
    pub const INVALID_RETAILER: &str = "invalid_retailer_id";
    /// Same `request_id` still being processed (§7.5 \[D\] prose: "pending processing").
    pub const PENDING_PROCESSING: &str = "pending_processing";
    /// Same `request_id` with a different body (§7.5 \[S\]).
    pub const REQUEST_ID_REUSED: &str = "request_id_reused";
    /// No user matches the lookup criterion (§3.3 \[I\]: Core's `user_not_found`).
    pub const USER_NOT_FOUND: &str = "user_not_found";
    /// Several users match the lookup criterion (§3.3 \[D\] rule, code chosen by the simulator).
    pub const AMBIGUOUS_USER: &str = "ambiguous_user";
    /// Unknown `user_offer_id` or TTL code.
    pub const OFFER_NOT_FOUND: &str = "offer_not_found";
    /// The TTL code exists but its own short lifetime is over.
    pub const TTL_CODE_EXPIRED: &str = "ttl_code_expired";
    /// The user offer is past its `expiration_date`.
    pub const OFFER_EXPIRED: &str = "offer_expired";
    /// Locked by another transaction (§7.2 \[I\]: "already locked / not available").
    pub const OFFER_LOCKED: &str = "offer_locked";
    /// Already redeemed.
    pub const OFFER_NOT_AVAILABLE: &str = "offer_not_available";
    /// The offer gives nothing for this basket or store.
    pub const OFFER_NOT_APPLICABLE: &str = "offer_not_applicable";
    /// `unlock` of an offer that holds no lock (§7.3 \[S\]).
    pub const OFFER_NOT_LOCKED: &str = "offer_not_locked";
    /// `reinstate` of an offer that is not redeemed (§7.4 \[S\]).
    pub const OFFER_NOT_REDEEMED: &str = "offer_not_redeemed";
    /// A closed transaction carries a discount whose lock is gone (§8.3 alternative).
    pub const LOCK_EXPIRED: &str = "lock_expired";
    /// Line sums disagree with header totals (§8.3 alternative).
    pub const TOTALS_MISMATCH: &str = "totals_mismatch";
    /// Unknown route.
    pub const NOT_FOUND: &str = "not_found";
    /// Known route, other method.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// Unknown Connect point account id.
    pub const POINT_ACCOUNT_NOT_FOUND: &str = "point_account_not_found";
    /// No such reward store, or it does not sell that offer (§4.4 \[S\]).
    pub const STORE_OFFER_NOT_FOUND: &str = "reward_store_offer_not_found";
    /// The user's available points do not cover a reward-store purchase (§7.10 \[S\]).
    pub const INSUFFICIENT_POINTS: &str = "insufficient_points";
}

/// Core error codes (§6 generic list \[D\], written lower case as observed, §5.8); the setting
/// `core_error_code_case` can upper-case them.
pub mod core_code {
    /// Unknown user id or external id.
    pub const USER_NOT_FOUND: &str = "user_not_found";
    /// Missing or wrong Basic credentials.
    pub const ACCESS_DENIED: &str = "access_denied";
    /// Path `api_key` is not the tenant's.
    pub const INVALID_API_KEY: &str = "invalid_api_key";
    /// Field validation failed (e.g. `dob` making the user 13 or younger).
    pub const VALIDATION: &str = "validation";
    /// A required member is missing (`user`, or both `email` and `external_id`).
    pub const MISSING_DATA: &str = "missing_data";
    /// Body is not JSON.
    pub const ARGUMENT_ERROR: &str = "argument_error";
    /// E-mail already used by another profile (method-specific; simulator decision).
    pub const EMAIL_TAKEN: &str = "email_taken";
    /// Phone already used by another profile (only with `core_phone_unique`).
    pub const PHONE_TAKEN: &str = "phone_taken";
}
