//! Every wire name and value the SessionM contract lists as unconfirmed (§8.2: inferred \[I\],
//! seen in a single client \[K\], or chosen by the simulator \[S\]), in one place: a finding
//! from a live tenant is one edit here. Paths and field names the contract documents (\[D\],
//! \[P\]) live next to the calls in `client` and `wire`.

/// `status` of a successful response: `"OK"` on POS (§3.2 \[D\]), `"ok"` on Connect and Core
/// (§4.1 \[P\], §6 \[D\]). Compared without regard to case (§3.2 \[I\], checklist 3).
pub const STATUS_OK: &str = "ok";

/// Keys of the lookup payload's offer list (§3.3 \[I\]: the payload is not public; the
/// simulator writes `offers`, the wallet call's name is `user_offers`). The first present wins.
pub const LOOKUP_OFFER_KEYS: [&str; 2] = ["offers", "user_offers"];

/// `offer_lookup_type` for a wallet instance id (§3.5 \[D\]); also the `reference_id_type` of a
/// Discount naming one (§5.5 \[I\]).
pub const LOOKUP_USER_OFFER_ID: &str = "UserOfferId";
/// `offer_lookup_type` for a short-lived redemption code (§3.5 \[D\]); also a
/// `reference_id_type` (§5.5 \[I\]).
pub const LOOKUP_TTL_CODE: &str = "TTLCode";

/// Discount `status` of an offer locked to the basket's own transaction, as a lookup with that
/// basket reports it (§5.5 \[I\]; the simulator's value).
pub const DISCOUNT_LOCKED: &str = "locked";

/// `offer_type` of a fixed amount off the whole check (§5.6 \[K\]).
pub const TYPE_FIXED_CHECK: &str = "fixed_amount_check_discount";
/// `offer_type` of a percent off the whole check (\[S\], by analogy).
pub const TYPE_PERCENT_CHECK: &str = "percent_check_discount";
/// `offer_type` of a fixed amount off one eligible item (§5.6 \[K: SDK\]).
pub const TYPE_FIXED_ITEM: &str = "fixed_amount_discount";
/// `offer_type` of a percent off one eligible item (§5.6 \[K: SDK\]).
pub const TYPE_PERCENT_ITEM: &str = "percent_discount";
/// `offer_type` of a set-price coupon (\[S\]).
pub const TYPE_SET_PRICE: &str = "set_price_discount";
/// `offer_type` of buy X get Y (\[S\]).
pub const TYPE_BUY_X_GET_Y: &str = "buy_x_get_y";

/// `offer_config.apply_to` naming the lowest-priced eligible item (\[S\]).
pub const APPLY_LOWEST: &str = "lowest_priced_item";
/// `offer_config.apply_to` naming the highest-priced eligible item (\[S\]).
pub const APPLY_HIGHEST: &str = "highest_priced_item";

/// Payment `user_id_type` of a SessionM user id (§5.3: values not documented \[I\]; our choice,
/// in the casing of `offer_lookup_type`).
pub const USER_ID_TYPE: &str = "UserId";

/// Default transaction `channel`: the only value seen (§5.1 \[K\]); web strings are unknown.
pub const DEFAULT_CHANNEL: &str = "POS";
/// Default `culture` of the POS container (§3.1 \[K\]: observed `en_US`).
pub const DEFAULT_POS_CULTURE: &str = "en_US";
/// Default `culture` of Connect calls (§4.3 \[P\]: defaults to `en-US`).
pub const DEFAULT_CONNECT_CULTURE: &str = "en-US";
/// Default `employee_id` of unlock and reinstate when the call names no employee (§3.6 requires
/// one; our choice for unattended web shops).
pub const DEFAULT_EMPLOYEE_ID: &str = "loyalty-bridge";

/// `phone_type` of the phone a member signs up with (§5.7 \[K\]).
pub const PHONE_TYPE_MOBILE: &str = "mobile";
/// `preference_flags` entry of that phone (§5.7 \[K\]).
pub const PHONE_PRIMARY: &str = "primary";

/// Core `gender` values written and read (§5.7: values not documented \[I\]); read without
/// regard to case, the long forms too.
pub const GENDER_MALE: &str = "m";
/// See [`GENDER_MALE`].
pub const GENDER_FEMALE: &str = "f";

/// Where an error body's code, message and per-field details sit (§5.8: the POS `errors`
/// shape is \[I\]; the simulator writes `{code, message, fields}`, Core `{code, message, user}`
/// \[D\]\[K\], the Incentives spend call `{error}` \[K\]). The first key present wins.
pub const ERROR_CODE_KEYS: [&str; 2] = ["code", "error_code"];
/// See [`ERROR_CODE_KEYS`].
pub const ERROR_MESSAGE_KEYS: [&str; 2] = ["message", "error"];
/// See [`ERROR_CODE_KEYS`]; every one present is read.
pub const ERROR_FIELD_KEYS: [&str; 2] = ["fields", "user"];

/// Wallet page size (`take`); the public examples use 0 / 1000 (§4.3 \[P\]).
pub const WALLET_PAGE: i64 = 1000;

/// The most wallet pages read for one listing: a tenant that never ends its wallet gets a
/// `Protocol` error, not an endless read.
pub const WALLET_MAX_PAGES: usize = 1000;

/// Error codes. The POS `errors` shape and codes are not public (§5.8 \[I\]): these are the
/// simulator's names, except the Core codes of §6 \[D\] (written lower case on the wire, §5.8)
/// and "pending processing" (§7.5 \[D\] prose). All compared without regard to case
/// (checklist 23).
pub mod code {
    /// No user matches (Core `USER_NOT_FOUND` \[D\]; POS lookup \[I\]).
    pub const USER_NOT_FOUND: &str = "user_not_found";
    /// Several users match one lookup criterion (§3.3 \[D\] rule; code \[S\]).
    pub const AMBIGUOUS_USER: &str = "ambiguous_user";
    /// The same `request_id` is still being processed (§7.5 \[D\]).
    pub const PENDING_PROCESSING: &str = "pending_processing";
    /// The same `request_id` with another body (§7.5 \[S\]).
    pub const REQUEST_ID_REUSED: &str = "request_id_reused";
    /// Field validation failed; details name each field.
    pub const VALIDATION: &str = "validation";
    /// Unknown user offer or TTL code.
    pub const OFFER_NOT_FOUND: &str = "offer_not_found";
    /// Locked by another transaction (§7.2 \[I\]).
    pub const OFFER_LOCKED: &str = "offer_locked";
    /// Already redeemed.
    pub const OFFER_NOT_AVAILABLE: &str = "offer_not_available";
    /// Past its expiration date.
    pub const OFFER_EXPIRED: &str = "offer_expired";
    /// The TTL code's own lifetime is over.
    pub const TTL_CODE_EXPIRED: &str = "ttl_code_expired";
    /// Gives nothing for this basket or store.
    pub const OFFER_NOT_APPLICABLE: &str = "offer_not_applicable";
    /// `unlock` of an offer that holds no lock (§7.3 \[S\]).
    pub const OFFER_NOT_LOCKED: &str = "offer_not_locked";
    /// `reinstate` of an offer that is not redeemed (§7.4 \[S\]).
    pub const OFFER_NOT_REDEEMED: &str = "offer_not_redeemed";
    /// A closed transaction carries a discount whose lock is gone (§8.3 alternative \[S\]).
    pub const LOCK_EXPIRED: &str = "lock_expired";
    /// Line sums disagree with header totals (§8.3 alternative \[S\]).
    pub const TOTALS_MISMATCH: &str = "totals_mismatch";
    /// The container's `client_id` is not the tenant's.
    pub const INVALID_CLIENT: &str = "invalid_client_id";
    /// The container's `store_id` is unknown.
    pub const STORE_NOT_FOUND: &str = "store_not_found";
    /// Connect `retailer_id` is not the tenant's.
    pub const INVALID_RETAILER: &str = "invalid_retailer_id";
    /// Unknown Connect point account.
    pub const POINT_ACCOUNT_NOT_FOUND: &str = "point_account_not_found";
    /// Missing or wrong credentials.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// Body not JSON.
    pub const INVALID_JSON: &str = "invalid_json";
    /// `Content-Type` is not `application/json` (§2 \[D\]).
    pub const CONTENT_TYPE: &str = "unsupported_content_type";
    /// Unknown route.
    pub const NOT_FOUND: &str = "not_found";
    /// Core: credentials refused (§6 \[D\]).
    pub const ACCESS_DENIED: &str = "access_denied";
    /// Core: the path's API key is unknown (§6 \[D\]).
    pub const INVALID_API_KEY: &str = "invalid_api_key";
    /// Core: an auth token is invalid (§6 \[D\]).
    pub const INVALID_AUTH_TOKEN: &str = "invalid_auth_token";
    /// Core: the operation needs a registered user (§6 \[D\]).
    pub const REQUIRES_REGISTERED_USER: &str = "requires_registered_user";
    /// Core: a required member is missing (§6 \[D\]).
    pub const MISSING_DATA: &str = "missing_data";
    /// Core: a malformed argument (§6 \[D\]).
    pub const ARGUMENT_ERROR: &str = "argument_error";
    /// Core: not available (§6 \[D\]).
    pub const NOT_AVAILABLE: &str = "not_available";
    /// Core: internal error (§6 \[D\]).
    pub const INTERNAL_SERVER_ERROR: &str = "internal_server_error";
    /// Core: the call was not made over https (§6 \[D\]).
    pub const HTTPS_ONLY: &str = "https_only";
    /// Core: the e-mail belongs to another profile (§6 \[D\] rule; code \[S\]).
    pub const EMAIL_TAKEN: &str = "email_taken";
    /// Core: the phone belongs to another profile (only where a tenant enforces it, \[S\]).
    pub const PHONE_TAKEN: &str = "phone_taken";
}
