//! Every simulator choice the eManage contract marks \[S\] (§15.2), as a named setting.
//!
//! Each field is a simulator decision. `Default` is the contract's default column; a TOML or
//! JSON settings file may override any subset (unknown keys are refused):
//!
//! ```
//! use loyalty_sim::emanage::{CapturePolicy, EmanageSettings};
//!
//! let s: EmanageSettings =
//!     serde_json::from_str(r#"{"upgrade_capture_policy": "literal", "max_upgrade_charge_attempts": 5}"#)
//!         .unwrap();
//! assert_eq!(s.upgrade_capture_policy, CapturePolicy::Literal);
//! assert_eq!(s.redirect_timeout_secs, 30 * 60);
//! ```

use std::{fmt, str::FromStr};

use rust_decimal::Decimal;
use serde::{de, Deserialize, Deserializer};

use super::demo;

/// How much a later upgrade step captures when an earlier step was already captured (§7.2
/// rule 5, §9.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CapturePolicy {
    /// Only the remainder, so the chain's total capture is last − first (default).
    Remainder,
    /// Always last − first, whatever was captured before (the literal reading).
    Literal,
}

/// What `add` does with a `productId` already in the cart (§6.4 notes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DuplicateAdd {
    /// 409 `{message}`; callers use `update` (default).
    Conflict,
    /// The quantities are summed into the existing line.
    Merge,
}

/// Whether the client's line `price` must equal the catalogue price (§6.4 notes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PriceCheck {
    /// A missing or different price is 400 with `modelState` naming `price` (default).
    Strict,
    /// The client's price is ignored; the catalogue price is used.
    Off,
}

/// Which forms of offline upgrade (§7.2 rule 7, §9.4) are accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OfflineUpgradeCreation {
    /// Both the client-created (`new` with `upgradeParentSessionId`) and the server-created
    /// (`add` on the paid session) forms (default).
    Both,
    /// Only `new` with `upgradeParentSessionId`; an upgrade `add` on a session paid offline is 409.
    ClientCreated,
    /// Only the upgrade `add`; `new` with upgrade fields is 400 naming `upgradeParentSessionId`.
    ServerCreated,
}

/// What the progressive discount counts to find its tier (§8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiscountCount {
    /// The sum of quantities of qualifying lines (default).
    Units,
    /// The number of qualifying lines (distinct qualifying products).
    Lines,
}

/// Which units the reached tier's percentage applies to (§8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiscountMode {
    /// Every qualifying unit gets the tier reached by the whole cart (default).
    AllUnits,
    /// Unit *n* gets the tier reached at *n* ("50% only on the second unit").
    MarginalUnit,
}

/// The body of an injected server fault (500 / 503, §10: "plain text or empty").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ServerFaultBody {
    /// A short `text/plain` reason (default).
    Text,
    /// No body at all.
    Empty,
}

/// One progressive-discount tier: `percent` off from `min_units` qualifying units on.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Qualifying units (or lines) needed to reach the tier.
    pub min_units: u32,
    /// Percentage off, 0-100; an integer or a decimal string (`"12.5"`).
    #[serde(deserialize_with = "percent")]
    pub percent: Decimal,
}

impl Tier {
    /// A tier of `percent` % from `min_units` on.
    pub fn new(min_units: u32, percent: u32) -> Self {
        Self { min_units, percent: Decimal::from(percent) }
    }
}

/// The progressive-discount configuration of the demo shopping-cart campaign
/// ([`demo::WEB_KEY`]), the simulator's shape of the contract's §8 table. The other demo
/// campaigns have none.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProgressiveDiscount {
    /// Tiers in any order; none = no discount (default `[{1,25},{2,50}]`, §9.5).
    pub tiers: Vec<Tier>,
    /// Qualifying products; empty = every product of the campaign (default: the four
    /// `demo::PRODUCT_TIER_*` products).
    pub product_ids: Vec<i64>,
    /// What is counted (default units).
    pub count: DiscountCount,
    /// Which units get the percentage (default all units).
    pub mode: DiscountMode,
}

impl Default for ProgressiveDiscount {
    fn default() -> Self {
        Self {
            tiers: vec![Tier::new(1, 25), Tier::new(2, 50)],
            product_ids: vec![demo::PRODUCT_TIER_100, demo::PRODUCT_TIER_60, demo::PRODUCT_TIER_33_33],
            count: DiscountCount::Units,
            mode: DiscountMode::AllUnits,
        }
    }
}

/// The test card numbers that select a payment outcome (§11). Any other card number that
/// passes the Luhn check is approved; one that fails it is declined.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestPans {
    /// Approved (default [`demo::PAN_APPROVE`]).
    pub approve: String,
    /// Declined: 200 `success:false`, `orderNumber:null` (default [`demo::PAN_DECLINE`]).
    pub decline: String,
    /// Approved after a 3-D Secure step: `paymentContinueResult.actionUrl` is set and the
    /// session awaits confirmation (default [`demo::PAN_3DS`]).
    pub three_d_secure: String,
    /// Approved, but every later upgrade charge on the card fails (default
    /// [`demo::PAN_UPGRADE_CHARGE_FAILS`]).
    pub upgrade_charge_failure: String,
}

impl Default for TestPans {
    fn default() -> Self {
        Self {
            approve: demo::PAN_APPROVE.into(),
            decline: demo::PAN_DECLINE.into(),
            three_d_secure: demo::PAN_3DS.into(),
            upgrade_charge_failure: demo::PAN_UPGRADE_CHARGE_FAILS.into(),
        }
    }
}

/// A seeded gift card: `GET giftcards/balance/{code}` (§6.2) and processor 62 (§6.3, a gift
/// card covering the whole amount).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GiftCard {
    /// The card code, matched case-insensitively.
    pub code: String,
    /// Balance in major units of the campaign currency; an integer or a decimal string.
    #[serde(deserialize_with = "amount")]
    pub balance: Decimal,
    /// `canPayShipping`.
    pub can_pay_shipping: bool,
}

/// A seeded tax rate: `GET campaigns/{wk}/taxes/{countryCode}/{stateCode}` (§6.1).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxRate {
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    /// State or region code.
    pub state_code: String,
    /// Percentage of the (coupon-discounted) price; an integer or a decimal string.
    #[serde(deserialize_with = "percent")]
    pub percent: Decimal,
}

/// A seeded campaign coupon: `GET campaigns/{wk}/coupons/{couponCode}` (§6.1).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coupon {
    /// The code, matched case-insensitively.
    pub code: String,
    /// Percentage off (`discount`).
    #[serde(deserialize_with = "percent")]
    pub percent: Decimal,
    /// Smallest purchase it applies to, in major units (`formattedMinimalPurchase`).
    #[serde(deserialize_with = "amount")]
    pub minimal_purchase: Decimal,
}

/// The caller's geo-IP answer of `GET campaigns/{wk}/customers/location` and the `location` of
/// the price list (simulator decision: one fixed location).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Location {
    /// ISO 3166-1 alpha-2 (default `US`).
    pub country_code: String,
    /// Region or state code (default `CA`).
    pub region_code: String,
}

impl Default for Location {
    fn default() -> Self {
        Self { country_code: "US".into(), region_code: "CA".into() }
    }
}

/// Simulator settings with the defaults of the eManage contract §15.2, plus a few knobs the
/// contract does not list (marked below). Every field is a simulator decision.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct EmanageSettings {
    /// Tries per upgrade charge before the upgrade is discarded (default 3; 0 counts as 1).
    pub max_upgrade_charge_attempts: u32,
    /// Capture after a step when an earlier step was captured (default remainder).
    pub upgrade_capture_policy: CapturePolicy,
    /// `add` of a product already in the cart (default 409).
    pub duplicate_add: DuplicateAdd,
    /// Price check on `new`/`add` (default strict).
    pub price_check: PriceCheck,
    /// Accepted offline-upgrade forms (default both).
    pub offline_upgrade_creation: OfflineUpgradeCreation,
    /// The demo cart campaign's progressive discount (default 25% for 1, 50% for 2).
    pub progressive_discount: ProgressiveDiscount,
    /// How long a redirect or 3-D Secure payment may stay unconfirmed before the session goes
    /// back to Open (an offline-upgrade session: to Discarded), in seconds (default 1800).
    pub redirect_timeout_secs: u64,
    /// Lifetime of reporting-API bearer tokens, in seconds (default 3600).
    pub reporting_token_lifetime_secs: u64,
    /// Delay before a campaign change made through the probe is served, in seconds (default 0;
    /// the real service may take up to 1800, §1).
    pub campaign_cache_staleness_secs: u64,
    /// Card numbers that select payment outcomes.
    pub test_pans: TestPans,
    /// ISO 4217 currency of every demo campaign (default `USD`); sets the minor unit used for
    /// rounding (§9.5) and the `FormattedValue` symbol.
    pub currency: String,
    /// Not in §15.2: how long an upgrade step stays a preview before its charge is attempted, in
    /// seconds (default 600). Steps made within the window are charged once, last − first
    /// (§9.2 "no capture between the steps"); 0 = charge at once, during the `add`. A step that
    /// has nothing to capture (a downgrade, §7.2 rule 3) is settled at once whatever the window.
    ///
    /// Why a window by default: the checklist holds with the default settings, and its item 12
    /// ("100 → 120 → 140, no capture between: one capture of 40") needs a step that is not
    /// captured before the next one arrives, while item 13 names the earlier capture as its own
    /// precondition. Items 11 and 16 (captures of 20 and 40) hold once the window has passed.
    pub upgrade_capture_delay_secs: u64,
    /// Not in §15.2: whether an upgrade line's `quantity` must equal `upgradePreviewQuantity`
    /// (default false: §7.1 defines only `upgradePreviewQuantity` as how many units are
    /// upgraded; the line's `quantity` is read but not compared).
    pub upgrade_quantity_must_match: bool,
    /// Not in §15.2: whether the cart GET carries the simulator extras (§6.4 notes, §8, §15.1:
    /// totals, `listPrice`, `discountPercent`, `status`, `test`, `shoppingCartNumber`,
    /// `upgradeParentSessionId`, `callBackUrl`, `upgradeStatus`, `upgradedFromProductId`…).
    /// Default true, as the contract's simulator does; false serves `products[]` with the
    /// contract's five fields only, as the live API may.
    pub cart_extras: bool,
    /// Not in §15.2: whether an open cart's plain lines are priced from the campaign's current
    /// price (default true: "the server very likely re-prices from the campaign", §6.4 notes;
    /// price changes reach it as the campaign cache serves them, §1). False keeps the price a
    /// line had when it was added. Prices are fixed once a checkout starts.
    pub reprice_open_carts: bool,
    /// Not in §15.2: every upgrade charge attempt fails (default false). The probe's
    /// `fail_next_upgrade_charges` and the upgrade-charge-failure card are the finer hooks.
    pub upgrade_charges_fail: bool,
    /// Not in §15.2: the body of an injected 500 / 503 (§10 "plain text or empty"; default
    /// text). Injected 429s answer `{ "message": … }` with `Retry-After`. Read once at start.
    pub server_fault_body: ServerFaultBody,
    /// Not in §15.2: the fixed geo-IP location (default US / CA).
    pub location: Location,
    /// Not in §15.2: the `iam-basic` key the gift-card balance call needs (§3; default
    /// [`demo::IAM_BASIC_KEY`]). A test credential, never journaled.
    pub iam_basic_key: String,
    /// Not in §15.2: gift cards (default [`demo::GIFT_CARD_100`] with 100.00 that pays shipping
    /// and [`demo::GIFT_CARD_25`] with 25.00 that does not). Balances are read at start and
    /// spent by processor 62.
    pub gift_cards: Vec<GiftCard>,
    /// Not in §15.2: tax rates by country and state (default US-CA 7.25 %, US-NY 8.875 %;
    /// anywhere else 0).
    pub tax_rates: Vec<TaxRate>,
    /// Not in §15.2: the campaigns' coupons (default [`demo::COUPON`]: 10 % from 50.00).
    pub coupons: Vec<Coupon>,
    /// Not in §15.2: path prefix of the simulator-only routes (redirect payment pages and their
    /// confirmation, the reporting CSV). Read once at start (default `/__sim`).
    pub sim_prefix: String,
}

impl Default for EmanageSettings {
    fn default() -> Self {
        Self {
            max_upgrade_charge_attempts: 3,
            upgrade_capture_policy: CapturePolicy::Remainder,
            duplicate_add: DuplicateAdd::Conflict,
            price_check: PriceCheck::Strict,
            offline_upgrade_creation: OfflineUpgradeCreation::Both,
            progressive_discount: ProgressiveDiscount::default(),
            redirect_timeout_secs: 30 * 60,
            reporting_token_lifetime_secs: 60 * 60,
            campaign_cache_staleness_secs: 0,
            test_pans: TestPans::default(),
            currency: "USD".into(),
            upgrade_capture_delay_secs: 10 * 60,
            upgrade_quantity_must_match: false,
            cart_extras: true,
            reprice_open_carts: true,
            upgrade_charges_fail: false,
            server_fault_body: ServerFaultBody::Text,
            location: Location::default(),
            iam_basic_key: demo::IAM_BASIC_KEY.into(),
            gift_cards: vec![
                GiftCard {
                    code: demo::GIFT_CARD_100.into(),
                    balance: Decimal::from(100),
                    can_pay_shipping: true,
                },
                GiftCard {
                    code: demo::GIFT_CARD_25.into(),
                    balance: Decimal::from(25),
                    can_pay_shipping: false,
                },
            ],
            tax_rates: vec![
                TaxRate { country_code: "US".into(), state_code: "CA".into(), percent: Decimal::new(725, 2) },
                TaxRate {
                    country_code: "US".into(),
                    state_code: "NY".into(),
                    percent: Decimal::new(8875, 3),
                },
            ],
            coupons: vec![Coupon {
                code: demo::COUPON.into(),
                percent: Decimal::from(10),
                minimal_purchase: Decimal::from(50),
            }],
            sim_prefix: "/__sim".into(),
        }
    }
}

/// Reads a percentage from an integer or a decimal string, never through `f64`.
fn percent<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let p = decimal(d, "a percentage as an integer or a decimal string")?;
    if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED {
        return Err(de::Error::custom("percent must be between 0 and 100"));
    }
    Ok(p)
}

/// Reads a non-negative amount from an integer or a decimal string, never through `f64`.
fn amount<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let a = decimal(d, "an amount as an integer or a decimal string")?;
    if a < Decimal::ZERO {
        return Err(de::Error::custom("an amount is never negative"));
    }
    Ok(a)
}

/// A decimal from an integer or a decimal string (never through `f64`); `expecting` names it.
fn decimal<'de, D: Deserializer<'de>>(d: D, expecting: &'static str) -> Result<Decimal, D::Error> {
    struct V(&'static str);
    impl de::Visitor<'_> for V {
        type Value = Decimal;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            Decimal::from_str(v.trim()).map_err(E::custom)
        }
    }
    d.deserialize_any(V(expecting))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_document_is_the_contract_default() {
        let s: EmanageSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(s, EmanageSettings::default());
    }

    #[test]
    fn unknown_key_is_refused() {
        let e = serde_json::from_str::<EmanageSettings>(r#"{"max_upgrade_charge_attemps": 2}"#).unwrap_err();
        assert!(e.to_string().contains("max_upgrade_charge_attemps"), "{e}");
    }

    #[test]
    fn nested_subset_keeps_other_defaults() {
        let s: EmanageSettings =
            serde_json::from_str(r#"{"progressive_discount": {"mode": "marginal_unit"}}"#).unwrap();
        assert_eq!(s.progressive_discount.mode, DiscountMode::MarginalUnit);
        assert_eq!(s.progressive_discount.tiers, ProgressiveDiscount::default().tiers);
    }

    #[test]
    fn percent_reads_integer_or_decimal_string() {
        let d: ProgressiveDiscount = serde_json::from_str(
            r#"{"tiers": [{"min_units": 1, "percent": 10}, {"min_units": 3, "percent": "12.5"}]}"#,
        )
        .unwrap();
        assert_eq!(d.tiers[1].percent, Decimal::new(125, 1));
        assert!(serde_json::from_str::<Tier>(r#"{"min_units": 1, "percent": 101}"#).is_err());
    }
}
