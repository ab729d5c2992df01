//! Every wire name, path and value the eManage contract marks inferred (\[I\]), simulator-chosen
//! (\[S\]) or unknown (§15.1), plus the cart fields only the simulator shows so far (§17
//! question 2), in one place: a finding from a live account is one edit here.
//!
//! Names the contract confirms (\[G\]/\[K\]: `productId`, `sessionId`, `shoppingcart/{wk}/new`,
//! `X_CID`…) are written where they are used, in `wire/`.
//!
//! The adapter never depends on a simulator-chosen field: each one is read when present, and
//! the docs of the field say what the adapter does without it.

/// The sales base the contract names as the default, that of current sites (§2, §15.1 \[I\]):
/// the configuration's `base_url` when none is given.
pub const DEFAULT_SALES_BASE: &str = "https://sales-prod.tryemanagecrm.com/api";

/// `behaviorId` of a test cart or order (§4 \[G\]).
pub const BEHAVIOR_TEST: i64 = 2;
/// `behaviorId` a production cart checkout sends (§11: `1` = live is \[I\]).
pub const BEHAVIOR_LIVE: i64 = 1;

/// The client-created offline upgrade puts these three at the top level of the `new` body,
/// next to `product` (§7.2 rule 7, §9.4 step 2a: placement \[S\]); in `add` they are the
/// addendum's own fields (§7.1 \[G\]).
pub const UPGRADE_PARENT_SESSION_ID: &str = "upgradeParentSessionId";
/// See [`UPGRADE_PARENT_SESSION_ID`].
pub const UPGRADE_PREVIEW_PRODUCT_ID: &str = "upgradePreviewProductId";
/// See [`UPGRADE_PARENT_SESSION_ID`].
pub const UPGRADE_PREVIEW_QUANTITY: &str = "upgradePreviewQuantity";

/// The server-created offline-upgrade reply of `add` is `{ sessionId, upgradeParentSessionId,
/// callBackUrl }` (§7.2 rule 7, §15.1 \[S\]): the new session's id.
pub const REPLY_SESSION_ID: &str = "sessionId";
/// The redirect a payment continues at (§6.3 \[K\]; in the offline-upgrade reply and in the
/// simulator's cart GET \[S\]).
pub const CALL_BACK_URL: &str = "callBackUrl";

/// Error body keys (§10, §15.1 \[S\], ASP.NET-like \[I\]).
pub const MESSAGE: &str = "message";
/// See [`MESSAGE`]: field → reasons.
pub const MODEL_STATE: &str = "modelState";

/// Cart GET fields beyond `products[]` that only the simulator shows (§6.4 notes, §8, §15.1;
/// §17 question 2 asks whether the live cart GET has any of them). Read when present:
///
/// | Field | Without it |
/// | --- | --- |
/// | [`cart::STATUS`] | the cart reads as open; a second checkout of a paid cart reaches the vendor, which refuses it (`Conflict`), and a checkout refused for missing customer details stays that `Conflict` (with the status, a 409 on a cart read back open is `Invalid` naming `customer`). After a checkout of unknown outcome the cart read back cannot show whether it was paid: the error keeps effect `Unknown` and says to check the order in eManage before charging again (only a status the vendor sent, `Open`, says nothing was charged so far; the effect stays `Unknown` then too, since the request may still be running) |
/// | [`cart::SHOPPING_CART_NUMBER`] | a paid cart read back has no order number |
/// | [`cart::UPGRADE_PARENT_SESSION_ID`] | an upgrade cart's difference line is reported at the vendor's price (the catalogue does not explain it); the adapter names the parent itself on the cart `upgrade` answers |
/// | [`cart::CALL_BACK_URL`], [`cart::PAYMENT_CONTINUE_RESULT`] | a cart read back waiting for its payment answers `ActionRequired` without the URL (the checkout that started it answered the URL) |
/// | [`cart::TEST`] | `add` and checkout send `behaviorId` from the configuration (`test_mode`) only |
/// | [`cart::UPGRADE_STATUS`] | an upgrade line reads as pending; `discarded` reads as the original product again, without an upgrade |
/// | [`cart::LINE_TOTAL`] | a line whose vendor `price` the price list does not explain is reported at the contract's reading, `price` (the unit price, §6.4 row 5) × `quantity`, as the vendor's own clients total a cart (§6.4 notes); the vendor rounds that unit price from the line's amount (§9.5: 49.99 shows as 16.66), so the line may be off by up to half a minor unit per unit; a debug log names it |
/// | [`cart::LIST_PRICE`] | the price a plain line was paid at before discount (`a0` of an upgrade of it, §7.2 rule 3) is the price list's while the list explains the line, or the line's own price for a product the configured discount cannot reach; a discounted line whose price moved since the checkout cannot be upgraded on the same payment (refused unsent, `Unsupported`): the vendor charges from a price the cart does not show |
/// | [`cart::TOTAL`] | a checkout's `charged` (and a paid cart's order, less its upgrade heads' differences) is the cart's total as the adapter reads it: the lines' nets plus shipping |
/// | [`cart::UPGRADES`], [`cart::UPGRADE_SESSION_ID`] | after an offline upgrade's `new` whose reply was lost, the cart read back can show the upgrade taken but not the session opened for the difference, whose id only that reply carried (the contract shows no other way to learn it): the error keeps effect `Unknown` and says an upgrade session may exist, unpaid lapsing after the vendor's redirect timeout (the original ships); a retry of that upgrade answers the same error instead of a second session. A same-session `add` whose lost reply named a session the vendor opened itself (§9.4 step 2b) answers `Pending` (with the list, that session: `PaymentRequired`). A card upgrade asked again (a lost answer) is answered from its chain, still a preview, only when the list shows it: without it the repeat is sent again and charged again, so the shop reads the cart before repeating one (more units of the new product than before: taken) |
/// | [`cart::UPGRADE_CAPTURED`] | a step from a charged upgrade head is refused unsent (`Unsupported`): after a charged step down the head's price is below what the chain was paid up to (§7.2 rule 5), so the charge cannot be told; a step from a head still a preview counts the whole chain |
/// | [`cart::UPGRADED_FROM_PRODUCT_ID`] | an upgrade line is priced as a plain line (a price that pricing does not explain, say a discounted origin, is reported as the vendor's). The chain's first product comes from the request (`UpgradeRequest::first_product`, what the shop sold) where the cart GET marks no upgrades at all (no status, no upgrade fields); without it a same-payment upgrade is refused unsent (`Invalid` naming `first_product`): its charge cannot be told. An upgrade `add` the vendor accepted answers `Pending` when the new product grew on the cart (taken, charge not shown) and `Discarded` when it did not (a plain line of the new product is no sign of the upgrade). After an `add` of unknown outcome the adapter compares the units of the new product on all lines before and after (§7.1: the upgraded line becomes the new product): grown is taken; unchanged with the head's units all still there says nothing was charged so far (effect `Unknown`: the request may still run); anything else keeps effect `Unknown` too |
///
/// The vendor's own amounts win over any the adapter works out: a line's `lineTotal` is what
/// that line costs (a pricing that does not reach it explains nothing), and the cart's `total`
/// is what a checkout charges. The other totals (`subtotal`, `shippingTotal`,
/// `discountTotal`) and line extras (`discountPercent`, `lineDiscount`) are never read, and
/// `listPrice` only for an upgrade's `a0`: the adapter prices the cart itself from the price
/// list and keeps the discount it explains; a line whose vendor price it cannot explain is
/// reported at the vendor's amount, never refused.
pub mod cart {
    /// Session status; values in [`super::session_status`].
    pub const STATUS: &str = "status";
    /// The cart number once checked out (a checkout reply field, §6.4 row 7 \[K\]).
    pub const SHOPPING_CART_NUMBER: &str = "shoppingCartNumber";
    /// For an offline-upgrade session: the session it upgrades.
    pub const UPGRADE_PARENT_SESSION_ID: &str = super::UPGRADE_PARENT_SESSION_ID;
    /// A redirect payment waiting for the customer.
    pub const CALL_BACK_URL: &str = super::CALL_BACK_URL;
    /// A 3-D Secure continuation waiting for the customer: `{ actionUrl }` as in the checkout
    /// reply (§6.3 \[K\] names, repeated in the cart GET by the simulator).
    pub const PAYMENT_CONTINUE_RESULT: &str = "paymentContinueResult";
    /// See [`PAYMENT_CONTINUE_RESULT`].
    pub const ACTION_URL: &str = "actionUrl";
    /// Test cart flag (§11 `test: true`).
    pub const TEST: &str = "test";
    /// Per line: the upgrade status of an upgrade head; values in [`super::upgrade_status`].
    pub const UPGRADE_STATUS: &str = "upgradeStatus";
    /// Per line: the product first paid for, on an upgrade head.
    pub const UPGRADED_FROM_PRODUCT_ID: &str = "upgradedFromProductId";
    /// Per line: what the line costs after discount, exact (the unit `price` is this divided
    /// by the quantity and rounded, §9.5).
    pub const LINE_TOTAL: &str = "lineTotal";
    /// Per line: the unit price before discount (§8, §9.5: `listPrice`, a simulator extra).
    /// Read for one thing only: the price a plain line was paid at before its discount, `a0`
    /// of an upgrade of it (§7.2 rule 3), when the price list no longer explains the line.
    pub const LIST_PRICE: &str = "listPrice";
    /// What the cart costs: lines after discount plus shipping.
    pub const TOTAL: &str = "total";
    /// The session's upgrade chains: per entry `productId` (the head), [`UPGRADED_FROM_PRODUCT_ID`],
    /// `quantity`, [`STATUS`] (an upgrade status), [`UPGRADE_SESSION_ID`] and
    /// [`UPGRADE_CAPTURED`]. Not in the
    /// contract's list (§15.1): the simulator's own extra.
    pub const UPGRADES: &str = "upgrades";
    /// In [`UPGRADES`]: the offline-upgrade session of the chain's latest step (§7.2 rule 7).
    pub const UPGRADE_SESSION_ID: &str = "upgradeSessionId";
    /// In [`UPGRADES`]: what the chain has captured so far, all its units (major units). By
    /// the invariant "total captured for the chain = last − first" (§7.2 rule 5) the chain is
    /// paid up to its first product's price plus this over its units, a unit: what a next step
    /// under the `remainder` policy is charged from.
    pub const UPGRADE_CAPTURED: &str = "captured";
}

/// Upgrade line status values (§7.2 rule 6, §15.1 \[S\]).
pub mod upgrade_status {
    /// Accepted, not charged yet.
    pub const PREVIEW: &str = "preview";
    /// Charged (or nothing to charge).
    pub const CHARGED: &str = "charged";
    /// Given up; the original ships.
    pub const DISCARDED: &str = "discarded";
}

/// Session status values (§14 state names, \[S\]).
pub mod session_status {
    /// Lines may change; checkout possible.
    pub const OPEN: &str = "Open";
    /// A redirect or 3-D Secure payment waits for the customer.
    pub const AWAITING_PAYMENT: &str = "AwaitingPayment";
    /// Paid.
    pub const PAID: &str = "Paid";
    /// An offline-upgrade session never paid.
    pub const DISCARDED: &str = "Discarded";
}
