//! Every wire name and path the simulator uses that the eManage contract lists as inferred,
//! simulator-chosen or unknown (§15.1), in one place: a finding from a live account is one edit
//! here. Confirmed names (\[G\]/\[K\]) are written where they are used.

/// `POST orders/{upsellWebKey}`: the path behind the SDK's `Order.placeUpsellOrder` \[I\]; the
/// main order uses the same route.
pub(crate) const ORDERS_PATH: &str = "/api/orders/{wk}";

/// Simulator extra route (the vendor's redirect-confirmation path is not shown): the page a
/// `callBackUrl` / `actionUrl` points to, under the simulator prefix.
pub(crate) const PAYMENTS: &str = "payments";
/// Simulator extra route: reporting CSV downloads, under the simulator prefix.
pub(crate) const EXPORTS: &str = "exports";

/// Top-level `new` field naming the paid session of an offline upgrade (§7.2 rule 7, \[S\]
/// placement); in `add` it is the addendum's field (\[G\]).
pub(crate) const UPGRADE_PARENT_SESSION_ID: &str = "upgradeParentSessionId";
/// The product being upgraded from (§7.1 \[G\]; top level of `new` \[S\]).
pub(crate) const UPGRADE_PREVIEW_PRODUCT_ID: &str = "upgradePreviewProductId";
/// How many units are upgraded (§7.1 \[G\]; top level of `new` \[S\]).
pub(crate) const UPGRADE_PREVIEW_QUANTITY: &str = "upgradePreviewQuantity";

/// Server-created offline-upgrade reply `{ sessionId, upgradeParentSessionId, callBackUrl }`
/// \[S\]: the new session.
pub(crate) const SESSION_ID: &str = "sessionId";
/// The redirect a payment continues at (§6.3 \[K\]; in the offline-upgrade reply \[S\]).
pub(crate) const CALL_BACK_URL: &str = "callBackUrl";

/// `behaviorId` value of a test cart or order (§4 \[G\]); `1` = live is \[I\] and not checked.
pub(crate) const BEHAVIOR_TEST: i64 = 2;

/// Redirect processor ids (§6.3: ids \[K\], meanings \[I\]): PayPal, PayPal variant, Boleto,
/// Alipay, WeChat Pay.
pub(crate) const REDIRECT_PROCESSORS: [i64; 5] = [5, 31, 25, 33, 34];

/// The gift-card processor id (§6.3: id \[K\], meaning \[I\]): a gift card covering the whole
/// amount.
pub(crate) const GIFT_CARD_PROCESSOR: i64 = 62;
/// The gift card a processor-62 payment uses (§6.3 \[K\]; next to `payment` in §6.4 row 9).
pub(crate) const GIFT_CARD_NUMBER: &str = "GiftCardNumber";
/// The scheme of the gift-card balance call's `Authorization` header (§3 \[K\]).
pub(crate) const IAM_BASIC: &str = "iam-basic";

/// Error body keys (§10 \[S\], ASP.NET-like \[I\]).
pub(crate) const MESSAGE: &str = "message";
/// See [`MESSAGE`].
pub(crate) const MODEL_STATE: &str = "modelState";

/// Cart GET simulator extras (§6.4 notes, §8, §15.1 \[S\]); adapters must not depend on them.
pub(crate) mod extra {
    /// Sum of list prices × quantities.
    pub(crate) const SUBTOTAL: &str = "subtotal";
    /// Sum of line shipping prices.
    pub(crate) const SHIPPING_TOTAL: &str = "shippingTotal";
    /// Sum of line discounts.
    pub(crate) const DISCOUNT_TOTAL: &str = "discountTotal";
    /// `subtotal − discountTotal + shippingTotal`.
    pub(crate) const TOTAL: &str = "total";
    /// A line's undiscounted unit price.
    pub(crate) const LIST_PRICE: &str = "listPrice";
    /// The progressive-discount percentage applied to a line.
    pub(crate) const DISCOUNT_PERCENT: &str = "discountPercent";
    /// A line's exact amount after discount (this simulator's own extra).
    pub(crate) const LINE_TOTAL: &str = "lineTotal";
    /// A line's exact discount (this simulator's own extra).
    pub(crate) const LINE_DISCOUNT: &str = "lineDiscount";
    /// Upgrade status of an upgrade head line (values in [`super::upgrade_status`]).
    pub(crate) const UPGRADE_STATUS: &str = "upgradeStatus";
    /// The originally paid product of an upgrade head line.
    pub(crate) const UPGRADED_FROM_PRODUCT_ID: &str = "upgradedFromProductId";
    /// Session status (values in [`super::session_status`]).
    pub(crate) const STATUS: &str = "status";
    /// Test cart flag (§11 `test: true`).
    pub(crate) const TEST: &str = "test";
    /// The session's upgrade chains.
    pub(crate) const UPGRADES: &str = "upgrades";
    /// In `upgrades[]`: what ships for the chain now.
    pub(crate) const SHIPS_PRODUCT_ID: &str = "shipsProductId";
    /// In `upgrades[]`: steps that never ship.
    pub(crate) const DISCARDED_PRODUCT_IDS: &str = "discardedProductIds";
    /// In `upgrades[]`: the offline-upgrade session of the latest step.
    pub(crate) const UPGRADE_SESSION_ID: &str = "upgradeSessionId";
    /// In `upgrades[]`: what the chain has captured so far, all its units (major units). By
    /// the contract's invariant "total captured for the chain = last − first" (§7.2 rule 5)
    /// the chain is paid up to `upgradedFromProductId`'s price plus this over `quantity` a
    /// unit, whatever its head's price is now (a charged step down captures nothing).
    pub(crate) const CAPTURED: &str = "captured";
    /// The campaign currency (totals are in it).
    pub(crate) const CURRENCY: &str = "currency";
    /// The cart number once checked out (a checkout reply field, \[K\], repeated here).
    pub(crate) const SHOPPING_CART_NUMBER: &str = "shoppingCartNumber";
    /// A 3-D Secure payment waiting: `{ actionUrl }`, the checkout reply's field (§6.3 \[K\]),
    /// repeated here.
    pub(crate) const PAYMENT_CONTINUE_RESULT: &str = "paymentContinueResult";
    /// See [`PAYMENT_CONTINUE_RESULT`].
    pub(crate) const ACTION_URL: &str = "actionUrl";
}

/// Upgrade line status values (§15.1 \[S\]).
pub(crate) mod upgrade_status {
    /// Accepted, not charged yet.
    pub(crate) const PREVIEW: &str = "preview";
    /// Charged (or nothing to charge).
    pub(crate) const CHARGED: &str = "charged";
    /// Given up; the original ships.
    pub(crate) const DISCARDED: &str = "discarded";
}

/// Session status values (§14 state names, \[S\]).
pub(crate) mod session_status {
    /// Lines may change; checkout possible.
    pub(crate) const OPEN: &str = "Open";
    /// A redirect or 3-D Secure payment awaits confirmation.
    pub(crate) const AWAITING_PAYMENT: &str = "AwaitingPayment";
    /// Paid.
    pub(crate) const PAID: &str = "Paid";
    /// An offline-upgrade session never paid.
    pub(crate) const DISCARDED: &str = "Discarded";
}
