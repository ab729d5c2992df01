//! Money in integer minor units, ISO 4217 currencies and decimal quantities.
//!
//! Vendors speak decimals in major units; the core never does arithmetic on them. Conversion
//! happens once, at the adapter edge, through [`Money::from_decimal`] with an explicit
//! [`Rounding`] rule, or [`Money::from_decimal_exact`] when extra digits must be refused.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// ISO 4217 codes this crate knows, with their minor-unit exponents.
///
/// The list covers every currency a supported vendor trades in plus the usual zero- and
/// three-decimal currencies; adding one is a one-line change.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AUD", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PLN", 2),
    ("RON", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

/// An ISO 4217 currency with a known minor-unit exponent.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

impl Currency {
    /// Norwegian krone (2 decimals).
    pub const NOK: Currency = Currency { code: *b"NOK", exponent: 2 };
    /// Euro (2 decimals).
    pub const EUR: Currency = Currency { code: *b"EUR", exponent: 2 };
    /// Polish złoty (2 decimals).
    pub const PLN: Currency = Currency { code: *b"PLN", exponent: 2 };
    /// US dollar (2 decimals).
    pub const USD: Currency = Currency { code: *b"USD", exponent: 2 };
    /// Japanese yen (0 decimals).
    pub const JPY: Currency = Currency { code: *b"JPY", exponent: 0 };
    /// Kuwaiti dinar (3 decimals).
    pub const KWD: Currency = Currency { code: *b"KWD", exponent: 3 };

    /// Looks a currency up by its ISO 4217 code (upper case, exactly three letters).
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, e)| {
                let b = c.as_bytes();
                Currency { code: [b[0], b[1], b[2]], exponent: *e }
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
    }

    /// The three-letter code, e.g. `"NOK"`.
    pub fn code(&self) -> &str {
        // Codes come only from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Number of minor-unit digits: NOK 2, JPY 0, KWD 3.
    pub fn exponent(&self) -> u32 {
        u32::from(self.exponent)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::from_code(&code).map_err(serde::de::Error::custom)
    }
}

/// Under the `openapi` feature: a currency is its upper-case ISO 4217 code, one of the codes
/// this crate knows (the hand-written `Serialize` above writes exactly that string).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("ISO 4217 currency code, upper case, e.g. `NOK`."))
            .enum_values(Some(CURRENCIES.iter().map(|(code, _)| *code)))
            .examples(["NOK"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Currency {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Currency")
    }
}

/// What can go wrong with money: every case is a caller or vendor mistake, never rounded away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The code is not an ISO 4217 currency this crate knows.
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
    /// Two amounts in different currencies were combined.
    #[error("currency mismatch: {left} and {right}")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// The result does not fit in `i64` minor units.
    #[error("amount overflow")]
    Overflow,
    /// A decimal had more fractional digits than the currency has.
    #[error("{value} has more than {exponent} decimals for {currency}")]
    TooManyDecimals {
        /// The offending value as written.
        value: String,
        /// The currency it was meant for.
        currency: Currency,
        /// The currency's exponent.
        exponent: u32,
    },
    /// The text is not a decimal number.
    #[error("malformed amount {0:?}")]
    Malformed(String),
}

/// How a decimal with more digits than the currency allows becomes minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Half away from zero (commercial rounding): 0.125 -> 0.13.
    HalfUp,
    /// Half to even (banker's rounding): 0.125 -> 0.12.
    HalfEven,
    /// Towards zero.
    Truncate,
}

/// An amount in integer minor units of one currency.
///
/// Vendors' decimal strings become `Money` at the adapter edge, exactly or with a named
/// rounding; arithmetic is checked and never mixes currencies.
///
/// ```
/// use loyalty_core::{Currency, Money, MoneyError, Rounding};
/// use rust_decimal::Decimal;
///
/// let price = Money::parse("129.00", Currency::NOK)?;
/// assert_eq!(price.minor, 12_900);
/// assert_eq!(price.checked_mul(2)?.to_string(), "258.00 NOK");
/// // More decimals than the currency has is an error unless a rounding is named.
/// assert!(matches!(Money::parse("9.999", Currency::NOK), Err(MoneyError::TooManyDecimals { .. })));
/// let rounded = Money::from_decimal("9.995".parse::<Decimal>()?, Currency::NOK, Rounding::HalfUp)?;
/// assert_eq!(rounded.amount_string(), "10.00");
/// // Yen has no minor unit; currencies never mix.
/// let yen = Money::parse("500", Currency::JPY)?;
/// assert!(matches!(price.checked_add(yen), Err(MoneyError::CurrencyMismatch { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// The doc comment's example is Rust; the API document gets prose only.
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "An amount in integer minor units of one currency (`{\"minor\": 12900, \"currency\": \
        \"NOK\"}` is 129.00 NOK). Arithmetic is checked and never mixes currencies."
    )
)]
pub struct Money {
    /// Amount in minor units (øre, cents; yen for JPY).
    pub minor: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// Makes an amount from minor units.
    pub const fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// True when the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// True when the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    fn same(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch { left: self.currency, right: other.currency })
        }
    }

    /// Adds, refusing a currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        let minor = self.minor.checked_add(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    /// Subtracts, refusing a currency mismatch or overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        let minor = self.minor.checked_sub(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    /// Multiplies by an integer count, refusing overflow.
    pub fn checked_mul(self, n: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(n).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    /// Negates, refusing overflow.
    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_neg().ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    /// Sums amounts of one currency; an empty iterator gives zero in `currency`.
    pub fn sum<I: IntoIterator<Item = Money>>(currency: Currency, items: I) -> Result<Money, MoneyError> {
        items.into_iter().try_fold(Money::zero(currency), Money::checked_add)
    }

    /// Converts a major-unit decimal (a vendor's `349.5`) to minor units with `rounding`.
    pub fn from_decimal(value: Decimal, currency: Currency, rounding: Rounding) -> Result<Money, MoneyError> {
        let strategy = match rounding {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::Truncate => RoundingStrategy::ToZero,
        };
        let scaled = value
            .round_dp_with_strategy(currency.exponent(), strategy)
            .checked_mul(Decimal::from(10i64.pow(currency.exponent())))
            .ok_or(MoneyError::Overflow)?;
        let minor = scaled.trunc().to_i64().ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency })
    }

    /// Converts a major-unit decimal, refusing one with more digits than the currency has.
    pub fn from_decimal_exact(value: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        if value.normalize().scale() > currency.exponent() {
            return Err(MoneyError::TooManyDecimals {
                value: value.to_string(),
                currency,
                exponent: currency.exponent(),
            });
        }
        Money::from_decimal(value, currency, Rounding::Truncate)
    }

    /// Parses a major-unit decimal string such as `"349.00"`, refusing extra digits.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed != text || trimmed.contains(['e', 'E', '_']) {
            return Err(MoneyError::Malformed(text.to_string()));
        }
        // Counted on the text: `Decimal` rounds past 28 significant digits, so a value read
        // first could hide extra digits ("9.99…9" becoming 10).
        let fraction = trimmed.split_once('.').map_or("", |(_, f)| f.trim_end_matches('0'));
        if fraction.len() > currency.exponent() as usize {
            return Err(MoneyError::TooManyDecimals {
                value: text.to_string(),
                currency,
                exponent: currency.exponent(),
            });
        }
        let value = parse_exact(trimmed).ok_or_else(|| MoneyError::Malformed(text.to_string()))?;
        Money::from_decimal_exact(value, currency)
    }

    /// The amount as a major-unit decimal with exactly the currency's digits.
    pub fn to_decimal(&self) -> Decimal {
        Decimal::new(self.minor, self.currency.exponent())
    }

    /// The amount as a major-unit string with exactly the currency's digits (`"349.00"`, `"300"`).
    pub fn amount_string(&self) -> String {
        self.to_decimal().to_string()
    }
}

/// A decimal read from text only when it holds exactly: `Decimal::from_str` silently rounds
/// past 28 significant digits, which would change an amount or a quantity unseen. Trailing
/// fraction zeros carry no value, so they are dropped when only they do not fit.
pub(crate) fn parse_exact(text: &str) -> Option<Decimal> {
    if let Ok(value) = Decimal::from_str_exact(text) {
        return Some(value);
    }
    let (whole, fraction) = text.split_once('.')?;
    let fraction = fraction.trim_end_matches('0');
    let shorter = if fraction.is_empty() { whole.to_owned() } else { format!("{whole}.{fraction}") };
    if shorter.len() == text.len() {
        return None;
    }
    Decimal::from_str_exact(&shorter).ok()
}

/// A decimal as the bridge's own JSON writes one: a string of digits with an optional sign and
/// point (`"2"`, `"0.350"`, `"-1.5"`), held exactly. No exponent (`"1e3"`), no separators
/// (`"2_0"`), no surrounding space, and no more digits than a `Decimal` holds exactly (it would
/// round them unseen).
pub fn parse_decimal_text(text: &str) -> Option<Decimal> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let plain = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
        && digits.bytes().any(|b| b.is_ascii_digit());
    if !plain {
        return None;
    }
    parse_exact(text)
}

/// serde reading of a decimal field written as [`parse_decimal_text`] reads it (a basket
/// line's `quantity`), so a quantity such as `"1e3"` or `"2_0"` is refused naming the field
/// rather than read as 1000 or 20. Use with `#[serde(deserialize_with = "…")]`; writing is
/// `Decimal`'s own (a string).
pub mod decimal_text {
    use super::{parse_decimal_text, Decimal};
    use serde::de::{Deserializer, Error, Visitor};
    use std::fmt;

    struct Text;

    impl Visitor<'_> for Text {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal string such as \"2\" or \"0.350\"")
        }

        fn visit_str<E: Error>(self, text: &str) -> Result<Decimal, E> {
            parse_decimal_text(text).ok_or_else(|| {
                E::custom(format!(
                    "{text:?} is not a decimal string (digits, an optional sign and point; no exponent, separators or spaces)"
                ))
            })
        }
    }

    /// Reads a required decimal string.
    ///
    /// # Errors
    /// The deserializer's error for anything but a plain decimal string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_str(Text)
    }

    /// Reads an optional decimal string (`null` or absent is `None`; pair with
    /// `#[serde(default)]`).
    ///
    /// # Errors
    /// As [`deserialize`].
    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        struct Optional;
        impl<'de> Visitor<'de> for Optional {
            type Value = Option<Decimal>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string or null")
            }
            fn visit_none<E: Error>(self) -> Result<Option<Decimal>, E> {
                Ok(None)
            }
            fn visit_unit<E: Error>(self) -> Result<Option<Decimal>, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<Decimal>, D::Error> {
                deserialize(d).map(Some)
            }
        }
        d.deserialize_option(Optional)
    }
}

/// Significant digits every decimal keeps through a double (`f64::DIGITS`): a number written
/// with at most this many reads back, through the double's shortest text, as written.
pub const DOUBLE_EXACT_DIGITS: u32 = f64::DIGITS;

/// The decimal a JSON number stands for when the parser could only hand over a double (as
/// serde_json does for a number with a fraction or an exponent): the double's shortest text.
///
/// That text is the number the vendor wrote whenever it wrote at most
/// [`DOUBLE_EXACT_DIGITS`] significant digits. A double whose shortest text has more, or whose
/// magnitude is 2⁵³ or more (where not every integer is a double), may stand for some other
/// number than the one written, so it is refused rather than read as a neighbouring amount.
///
/// ```
/// use loyalty_core::money::decimal_from_double;
/// use rust_decimal::Decimal;
///
/// assert_eq!(decimal_from_double(349.9).unwrap(), Decimal::new(3499, 1));
/// assert_eq!(decimal_from_double(1e-7).unwrap(), Decimal::new(1, 7));
/// // 12345678901234567.89 arrives as the double 12345678901234568.
/// assert!(decimal_from_double(12345678901234567.89).is_err());
/// assert!(decimal_from_double(0.1 + 0.2).is_err());
/// ```
///
/// # Errors
/// A message quoting the double's text: not finite, too large to be exact, or more
/// significant digits than a double keeps.
pub fn decimal_from_double(value: f64) -> Result<Decimal, String> {
    const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0; // 2^53
    let Some(number) = serde_json::Number::from_f64(value) else {
        return Err(format!("{value} is not a finite number"));
    };
    let text = stack_text(&number);
    let text = text.as_str();
    if value.abs() >= EXACT_INTEGERS {
        return Err(format!("{text} is too large for a JSON number (a double) to hold exactly"));
    }
    let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
    // From the first non-zero digit to the last: `100.0` has one, `0.00012` two.
    let (mut significant, mut zeros, mut started) = (0usize, 0usize, false);
    for digit in mantissa.bytes().filter(u8::is_ascii_digit) {
        if digit == b'0' {
            zeros += usize::from(started);
        } else {
            significant += zeros + 1;
            zeros = 0;
            started = true;
        }
    }
    if significant > DOUBLE_EXACT_DIGITS as usize {
        return Err(format!(
            "{text} has more significant digits than a JSON number (a double) keeps exactly"
        ));
    }
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| format!("{text} is not a decimal number"))
}

/// A short value's text without a heap allocation (numbers are read per field).
fn stack_text(value: &impl fmt::Display) -> StackText {
    let mut text = StackText { buf: [0; 40], len: 0 };
    if fmt::write(&mut text, format_args!("{value}")).is_err() {
        text.len = 0;
    }
    text
}

/// Up to 40 bytes of text on the stack; a double's shortest text is at most 24.
struct StackText {
    buf: [u8; 40],
    len: usize,
}

impl StackText {
    fn as_str(&self) -> &str {
        // Whole `str` pieces only went in.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

/// A quantity: integer for most goods, fractional for goods sold by weight.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Quantity(pub Decimal);

impl Quantity {
    /// A whole number of units.
    pub fn units(n: u32) -> Quantity {
        Quantity(Decimal::from(n))
    }

    /// The decimal value.
    pub fn value(&self) -> Decimal {
        self.0
    }

    /// True for an integer quantity.
    pub fn is_whole(&self) -> bool {
        self.0.fract().is_zero()
    }
}

impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_reads_plain_decimals_exactly_and_nothing_else() {
        for (text, want) in [("2", "2"), ("0.350", "0.350"), ("-1.5", "-1.5"), ("+3", "3"), (".5", "0.5")] {
            assert_eq!(parse_decimal_text(text), Some(Decimal::from_str(want).unwrap()), "{text}");
        }
        for text in [
            "1e3",
            "2_0",
            " 2",
            "2 ",
            "",
            "-",
            ".",
            "1.2.3",
            "0x10",
            "1,5",
            "NaN",
            "99999999999999999999999999999.5",
        ] {
            assert_eq!(parse_decimal_text(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_basket_line_quantity_in_json_is_a_plain_decimal_string() {
        let line = |quantity: &str, tax: &str| {
            serde_json::from_str::<crate::Line>(&format!(
                r#"{{"line_id":"l1","product_id":"p","sku":null,"name":null,"quantity":{quantity},
                    "unit_price":{{"minor":100,"currency":"NOK"}}{tax}}}"#
            ))
        };
        let read = line(r#""0.350""#, r#","tax_rate":"25""#).unwrap();
        assert_eq!(read.quantity, Decimal::new(350, 3));
        assert_eq!(read.tax_rate, Some(Decimal::from(25)));
        assert_eq!(line(r#""2""#, "").unwrap().tax_rate, None);
        assert_eq!(line(r#""2""#, r#","tax_rate":null"#).unwrap().tax_rate, None);
        for bad in [r#""1e3""#, r#""2_0""#, "2"] {
            let err = line(bad, "").unwrap_err().to_string();
            assert!(err.contains("decimal string"), "{bad}: {err}");
        }
        assert!(line(r#""2""#, r#","tax_rate":"2.5e1""#).is_err());
        // What the bridge writes reads back.
        let again: crate::Line = serde_json::from_str(&serde_json::to_string(&read).unwrap()).unwrap();
        assert_eq!(again, read);
    }

    #[test]
    fn a_double_reads_as_the_decimal_written_up_to_fifteen_digits() {
        for text in ["0.7", "33.65", "349.0", "-12.5", "0.000123", "123456789012.345", "1e-7", "9e15"] {
            let double: f64 = text.parse().unwrap();
            let read = decimal_from_double(double).unwrap();
            let written = Decimal::from_str(text).or_else(|_| Decimal::from_scientific(text)).unwrap();
            assert_eq!(read, written, "{text}");
        }
        // Fifteen significant digits: the most every double keeps.
        assert_eq!(
            decimal_from_double(999_999_999_999.999).unwrap(),
            Decimal::from_str("999999999999.999").unwrap()
        );
    }

    #[test]
    fn a_double_that_may_not_be_what_was_written_is_refused() {
        for (double, reason) in [
            (12_345_678_901_234_567.0, "too large"),
            (9_007_199_254_740_992.0, "too large"),
            (-1e300, "too large"),
            (0.1 + 0.2, "significant digits"),
            (1234567890.1234567, "significant digits"),
            (f64::NAN, "not a finite number"),
            (f64::INFINITY, "not a finite number"),
        ] {
            let err = decimal_from_double(double).unwrap_err();
            assert!(err.contains(reason), "{double}: {err}");
        }
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(Currency::from_code("NOK").unwrap().exponent(), 2);
        assert_eq!(Currency::from_code("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::from_code("KWD").unwrap().exponent(), 3);
    }

    #[test]
    fn unknown_currency_is_refused() {
        assert_eq!(Currency::from_code("XXQ"), Err(MoneyError::UnknownCurrency("XXQ".into())));
        assert!(Currency::from_code("nok").is_err());
    }

    #[test]
    fn mixing_currencies_is_an_error() {
        let a = Money::new(100, Currency::NOK);
        let b = Money::new(100, Currency::EUR);
        assert!(matches!(a.checked_add(b), Err(MoneyError::CurrencyMismatch { .. })));
    }

    #[test]
    fn overflow_is_an_error() {
        let a = Money::new(i64::MAX, Currency::NOK);
        assert_eq!(a.checked_add(Money::new(1, Currency::NOK)), Err(MoneyError::Overflow));
    }

    #[test]
    fn parse_keeps_exact_minor_units() {
        assert_eq!(Money::parse("349.00", Currency::NOK).unwrap().minor, 34900);
        assert_eq!(Money::parse("333", Currency::JPY).unwrap().minor, 333);
        assert_eq!(Money::parse("1.234", Currency::KWD).unwrap().minor, 1234);
        assert_eq!(Money::parse("-0.5", Currency::NOK).unwrap().minor, -50);
    }

    #[test]
    fn parse_refuses_extra_digits_and_junk() {
        assert!(matches!(Money::parse("1.005", Currency::NOK), Err(MoneyError::TooManyDecimals { .. })));
        assert!(matches!(Money::parse("1.5", Currency::JPY), Err(MoneyError::TooManyDecimals { .. })));
        assert!(matches!(Money::parse("12,50", Currency::NOK), Err(MoneyError::Malformed(_))));
        assert!(matches!(Money::parse("1e3", Currency::NOK), Err(MoneyError::Malformed(_))));
        assert!(matches!(Money::parse("", Currency::NOK), Err(MoneyError::Malformed(_))));
    }

    #[test]
    fn parse_never_rounds_past_28_digits() {
        // `Decimal::from_str` would round these to 10.00, 0.00 and 100.00.
        for text in [
            "9.9999999999999999999999999999",
            "0.00000000000000000000000000001",
            "100.00000000000000000000000000001",
        ] {
            assert!(
                matches!(Money::parse(text, Currency::NOK), Err(MoneyError::TooManyDecimals { .. })),
                "{text}"
            );
        }
        // Zeros past 28 digits carry no value.
        assert_eq!(Money::parse("12.500000000000000000000000000000", Currency::NOK).unwrap().minor, 1250);
        assert_eq!(parse_exact("1.00000000000000000000000000000000"), Some(Decimal::ONE));
        assert_eq!(parse_exact("0.0000000000000000000000000001"), Some(Decimal::new(1, 28)));
        assert_eq!(parse_exact("0.00000000000000000000000000001"), None);
        assert_eq!(parse_exact("99999999999999999999999999999"), None, "above Decimal::MAX");
    }

    #[test]
    fn rounding_rules_are_explicit() {
        let v = Decimal::from_str("0.125").unwrap();
        assert_eq!(Money::from_decimal(v, Currency::NOK, Rounding::HalfUp).unwrap().minor, 13);
        assert_eq!(Money::from_decimal(v, Currency::NOK, Rounding::HalfEven).unwrap().minor, 12);
        assert_eq!(Money::from_decimal(v, Currency::NOK, Rounding::Truncate).unwrap().minor, 12);
    }

    #[test]
    fn amount_string_has_currency_digits() {
        assert_eq!(Money::new(34900, Currency::NOK).amount_string(), "349.00");
        assert_eq!(Money::new(5, Currency::NOK).amount_string(), "0.05");
        assert_eq!(Money::new(300, Currency::JPY).amount_string(), "300");
        assert_eq!(Money::new(-1234, Currency::KWD).amount_string(), "-1.234");
    }
}
