//! Diller's own request and response models (see `docs/vendors/diller.md`), named as the vendor
//! names them, and the conversions between them and the core model.
//!
//! Wire fields are snake_case (§1). Responses are parsed leniently: every field is optional,
//! unknown fields are ignored, enums keep unknown values in an `Unknown(String)` variant and
//! date-times accept an offset, `Z`, fractional seconds, no offset or a bare date (§6.3).
//! Amounts are JSON numbers in major units (§6.4), read and written through [`rust_decimal`]
//! without `f64` arithmetic.
//!
//! Conversions: domain → wire failures are [`ConversionError`]s that become `Invalid`;
//! wire → domain failures become `Protocol` (see [`ConversionError::invalid`] and
//! [`ConversionError::protocol`]).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono::format::{Item, StrftimeItems};
use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;
use loyalty_core::{
    Address as CoreAddress, Consents, Currency, Discount, EnrollMember, Error, ErrorKind,
    Gender as CoreGender, Member, MemberId, Money, Offer, OfferKind, OfferRef, Phone as CorePhone, RefKind,
    Refund, RegisterMember, Rounding, Scope, Segment as CoreSegment, SegmentAnswer, SegmentKind,
    SegmentOption as CoreSegmentOption, SegmentValue as CoreSegmentValue, StampAction,
    StampCard as CoreStampCard, Transaction, TransactionLine, WriteEffect,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Every name and value the vendor contract marks \[I\] or \[S\] (§7.4), kept in one place so a finding from
/// the test environment is a single edit.
pub mod names {
    /// OAuth2 scope for the retailer API (§2; \[SDK\], the only scope seen).
    pub const SCOPE: &str = "api.retailer";
    /// Token endpoint path, at the root of the API origin (§1).
    pub const TOKEN_PATH: &str = "/connect/token";
    /// API prefix of every business endpoint (§1).
    pub const API_PREFIX: &str = "/api/v2.0";
    /// `token_type` of a token reply (§2, \[I\]); informational only.
    pub const TOKEN_TYPE: &str = "Bearer";
    /// IdentityServer error code for a bad client (§2, \[I\]).
    pub const OAUTH_INVALID_CLIENT: &str = "invalid_client";
    /// IdentityServer error code for a bad scope (§2, \[I\]).
    pub const OAUTH_INVALID_SCOPE: &str = "invalid_scope";
    /// `Origin.channel` of a till (§5.1; empty or unknown defaults to `POS` at Diller).
    pub const CHANNEL_POS: &str = "POS";
    /// `Origin.channel` of a web shop (§5.1).
    pub const CHANNEL_ONLINE: &str = "OnlineStore";
    /// `stamp_cards[].action` for stamps earned (§5.5).
    pub const STAMP_COLLECTED: &str = "collected";
    /// `stamp_cards[].action` for stamps spent (§5.5). Whether `count` means stamps or rewards
    /// is open question 8; we send stamps \[S\].
    pub const STAMP_DEDUCTED: &str = "deducted";
    /// `card_type` of an ordinary stamp card (§5.5).
    pub const CARD_STANDARD: &str = "standard";
    /// `card_type` of a card earned by transaction amount (§5.5).
    pub const CARD_THRESHOLD: &str = "threshold";
    /// Gender when unknown (§5.2, \[I\]).
    pub const GENDER_NOT_SHARED: &str = "NotShared";
    /// `valid_to` at or after this year means "no end date" (§5.4, \[MAG\]).
    pub const NO_END_YEAR: i32 = 2100;
    /// `max_redemptions` at or above this means "unlimited" (§5.4, \[MAG\]).
    pub const UNLIMITED_REDEMPTIONS: i64 = 1000;
    /// Vendor code given to a duplicate `external_id` (§7.3 \[S\]: 400 problem "duplicate").
    pub const CODE_DUPLICATE: &str = "duplicate";
    /// Vendor code given to a coupon reserved by another transaction (§7.3 \[S\]).
    pub const CODE_RESERVED: &str = "reserved";
    /// Vendor code of a transaction cancelled twice (§7.3 \[S\]).
    pub const CODE_ALREADY_CANCELLED: &str = "already_cancelled";
    /// Vendor code of an expired coupon (§7.3 \[S\]).
    pub const CODE_EXPIRED: &str = "expired";
    /// Vendor code of a coupon used the maximum number of times (§7.3 \[S\]).
    pub const CODE_USED_UP: &str = "used_up";
    /// Vendor code of a 405: the path exists, the verb does not (an endpoint removed while a
    /// sibling verb stays, as K4 may be, §4.4).
    pub const CODE_METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// Vendor code of an unknown member, coupon, store or transaction (§6.5 \[I\]).
    pub const CODE_NOT_FOUND: &str = "not_found";
    /// Phrases of a problem `detail` meaning "unknown id" (400 instead of 404, §6.5 \[I\]).
    pub const NOT_FOUND_PHRASES: &[&str] =
        &["not found", "does not exist", "no member matches", "no such", "unknown member", "no match"];
    /// Phrases of a duplicate `external_id` (§7.3 \[S\], open question 5).
    pub const DUPLICATE_PHRASES: &[&str] = &["duplicate", "already exists", "already registered"];
    /// The T1/T3 body field whose duplicate means "already recorded" (§5.6 \[SDK\]); a problem's
    /// `errors` key for it (§5.8 \[I\]: keys are the JSON field names).
    pub const EXTERNAL_ID_FIELD: &str = "external_id";
    /// How a refusal text names that field (lower case; §7.3 \[S\], open question 5).
    pub const EXTERNAL_ID_PHRASES: &[&str] = &["external_id", "external id", "externalid"];
    /// Phrases of a reservation held by another transaction (§7.3 \[S\], open question 3).
    pub const RESERVED_PHRASES: &[&str] = &["reserved by another", "already reserved", "is reserved"];
    /// Phrases of a second cancel (§7.3 \[S\]).
    pub const CANCELLED_PHRASES: &[&str] =
        &["already cancelled", "already canceled", "is cancelled", "is canceled"];
    /// Phrases of an expired coupon (§7.3 \[S\]).
    pub const EXPIRED_PHRASES: &[&str] = &["expired"];
    /// Phrases of a used-up coupon (§7.3 \[S\]).
    pub const USED_UP_PHRASES: &[&str] = &["maximum number of times", "used up", "no uses left"];
    /// Phrases of a stamp card that cannot pay out a reward (§7.3 \[S\]).
    pub const STAMPS_PHRASES: &[&str] = &["not enough stamps", "stamp card is completed"];
    /// Phrases of a coupon this member may not use (a `CouponTarget` such as
    /// `required_points` not met, §5.4 \[SDK\]; "a code the member cannot use → 400", §7.3 \[S\]).
    pub const NOT_ELIGIBLE_PHRASES: &[&str] =
        &["not available to this member", "not available for this member", "not eligible"];
    /// Phrases of a coupon whose validity window has not begun (§5.4 `valid_from`, §7.3 \[S\]).
    pub const NOT_YET_VALID_PHRASES: &[&str] = &["not valid yet", "not yet valid"];
    /// Vendor code of a coupon this member may not use (§7.3 \[S\]).
    pub const CODE_NOT_ELIGIBLE: &str = "not_eligible";
    /// Vendor code of a coupon not valid yet (§7.3 \[S\]).
    pub const CODE_NOT_YET_VALID: &str = "not_yet_valid";
    /// The T1 fields that claim a coupon or a stamp reward, at top level or on a line (§5.6
    /// \[SDK\]), as a problem's `errors` key names them once lower-cased and without `_`
    /// (§5.8 \[I\]: keys are the JSON field names). A field error keyed by one of them is the
    /// vendor refusing that claim, not a malformed request.
    pub const CLAIM_FIELDS: &[&str] = &["couponcodes", "stampcards", "stampcardids", "stampcardid"];
    /// Assumed lifetime of a reservation; Diller documents no expiry (§6.2 \[I\]).
    pub const RESERVATION_ASSUMED_TTL_SECS: u64 = 900;
}

// ------------------------------------------------------------------------------------------
// Conversion errors

/// A value that could not cross the edge; turned into `Invalid` (requests) or `Protocol`
/// (replies) with the operation label by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionError {
    /// The offending field, as a path (`details[0].unit_price`).
    pub field: String,
    /// Why.
    pub reason: String,
}

impl ConversionError {
    /// Makes an error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> ConversionError {
        ConversionError { field: field.into(), reason: reason.into() }
    }

    /// As an `Invalid` error of `operation` (a request we could not build).
    pub fn invalid(self, operation: &str) -> Error {
        // Refused here, before any request: nothing was sent.
        Error::invalid(crate::PROVIDER, operation, self.field, self.reason).with_effect(WriteEffect::NotSent)
    }

    /// As a `Protocol` error of `operation` (a reply we could not read).
    pub fn protocol(self, operation: &str) -> Error {
        Error::new(ErrorKind::Protocol, crate::PROVIDER, operation)
            .with_message(format!("unreadable {}: {}", self.field, self.reason))
    }
}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for ConversionError {}

type Conv<T> = Result<T, ConversionError>;

// ------------------------------------------------------------------------------------------
// Objects only

/// Hands a derived struct visitor to `deserialize_map`, so a reply model must be a JSON object.
/// serde's derived `Deserialize` also reads a struct from an array of its fields in order, which
/// turned the body `[false]` into `{"is_ok": false}`: a business refusal out of garbage.
struct ObjectOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// Implements `Deserialize` (objects only, see [`ObjectOnly`]) for models derived with
/// `#[serde(remote = "Self")]`, whose derive yields inherent `deserialize` (and `serialize`)
/// functions instead of the traits. `serialize:` also forwards `Serialize`.
macro_rules! object_only {
    ($($t:ty),+ $(,)?) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$t>::deserialize(ObjectOnly(d))
            }
        }
    )+};
    (serialize: $($t:ty),+ $(,)?) => {$(
        object_only!($t);
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                <$t>::serialize(self, s)
            }
        }
    )+};
}

// ------------------------------------------------------------------------------------------
// Numbers

/// Writes a decimal as a JSON number (`349.0`, never `"349.00"` or `34900`, §6.4).
/// Every amount is a `double` (§5.6), so whole values keep a fraction: `349.0`.
/// A JSON number is a double on both sides, so a decimal with more digits than a double holds
/// (about 15 significant) is refused rather than written as a neighbouring value.
fn decimal_to_number(d: &Decimal) -> Result<serde_json::Number, String> {
    let d = d.normalize();
    let parse = |text: &str| serde_json::from_str::<serde_json::Number>(text).map_err(|e| e.to_string());
    let number = with_text(d, |text| {
        if text.contains('.') {
            parse(text)
        } else {
            with_text(format_args!("{text}.0"), parse)
        }
    })?;
    if with_text(&number, number_text_to_decimal) != Some(d) {
        return Err(format!("{d} has more digits than a JSON number (a double) holds exactly"));
    }
    Ok(number)
}

/// Hands `value`'s text to `f`, formatted on the stack: numbers and dates are short, and an
/// amount is read or written per field. Longer text is formatted on the heap.
fn with_text<R>(value: impl std::fmt::Display, f: impl FnOnce(&str) -> R) -> R {
    struct Stack {
        buf: [u8; 64],
        len: usize,
    }
    impl std::fmt::Write for Stack {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let end = self.len + s.len();
            self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
    let mut stack = Stack { buf: [0; 64], len: 0 };
    if std::fmt::write(&mut stack, format_args!("{value}")).is_ok() {
        // Whole `str` pieces only went in, so this is always UTF-8.
        if let Ok(text) = std::str::from_utf8(&stack.buf[..stack.len]) {
            return f(text);
        }
    }
    f(&value.to_string())
}

/// Reads a JSON number's text as a decimal, accepting scientific notation.
fn number_text_to_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text).ok().or_else(|| Decimal::from_scientific(text).ok())
}

/// serde helpers for `Option<Decimal>` fields holding JSON numbers.
pub mod opt_number {
    use super::*;

    /// Serialises `Some(d)` as a JSON number (`None` fields are skipped by the models).
    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => decimal_to_number(d).map_err(serde::ser::Error::custom)?.serialize(s),
            None => s.serialize_none(),
        }
    }

    /// Reads a JSON number, a numeric string (§7.1 item 8) or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        // A refusal is raised here, once the token is read, as it was when the token was first
        // read as a `serde_json::Value`: serde_json then gives it the same position.
        d.deserialize_option(Number)?.map_err(serde::de::Error::custom)
    }

    /// What [`Number`] read: the value, or why it is refused.
    pub(super) type Read<T> = Result<Option<T>, String>;

    /// Reads the token as it comes (no `serde_json::Value` first); accepts and refuses exactly
    /// what reading a `serde_json::Value` did, with the same messages.
    pub(super) struct Number;

    impl Number {
        fn other(value: serde_json::Value) -> Read<Decimal> {
            Err(format!("expected a number, got {value}"))
        }
    }

    impl<'de> serde::de::Visitor<'de> for Number {
        type Value = Read<Decimal>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number, a numeric string or null")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Read<Decimal>, E> {
            Ok(Ok(None))
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Read<Decimal>, E> {
            Ok(Ok(None))
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Read<Decimal>, D::Error> {
            d.deserialize_any(Number)
        }

        // An integer is exact as it is; only fractions go through their text.
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Read<Decimal>, E> {
            Ok(Ok(Some(Decimal::from(v))))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Read<Decimal>, E> {
            Ok(Ok(Some(Decimal::from(v))))
        }

        // A fraction arrives as a double: read through its shortest text, and refused when
        // that may not be the number Diller wrote (more than 15 significant digits).
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Read<Decimal>, E> {
            if !v.is_finite() {
                // A `serde_json::Value` holds that as null.
                return Ok(Ok(None));
            }
            Ok(loyalty_core::money::decimal_from_double(v).map(Some))
        }

        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Read<Decimal>, E> {
            if s.trim().is_empty() {
                return Ok(Ok(None));
            }
            Ok(number_text_to_decimal(s.trim()).map(Some).ok_or_else(|| format!("not a decimal: {s:?}")))
        }

        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Read<Decimal>, E> {
            Ok(Number::other(v.into()))
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Read<Decimal>, A::Error> {
            let value = serde_json::Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
            Ok(Number::other(value))
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Read<Decimal>, A::Error> {
            let value = serde_json::Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            Ok(Number::other(value))
        }
    }
}

/// Reads an integer leniently: a JSON integer, an integral float (`3.0`) or a numeric string.
mod opt_int {
    use super::opt_number::{Number, Read};
    use super::*;
    use serde::de::Visitor;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        // Refusals raised after the token is read, as in `opt_number`.
        d.deserialize_option(Int)?.map_err(serde::de::Error::custom)
    }

    /// A decimal read by [`opt_number`] as an integer.
    fn integer(read: Read<Decimal>) -> Read<i64> {
        match read? {
            None => Ok(None),
            Some(x) if x.fract().is_zero() => {
                i64::try_from(x).map(Some).map_err(|_| format!("integer out of range: {x}"))
            }
            Some(x) => Err(format!("expected an integer, got {x}")),
        }
    }

    /// A JSON integer is taken as it is; every other token goes through [`opt_number`]'s
    /// reading and the checks above, as before.
    struct Int;

    impl<'de> Visitor<'de> for Int {
        type Value = Read<i64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer, a numeric string or null")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Read<i64>, E> {
            Ok(Ok(None))
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Read<i64>, E> {
            Ok(Ok(None))
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Read<i64>, D::Error> {
            d.deserialize_any(Int)
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Read<i64>, E> {
            Ok(Ok(Some(v)))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Read<i64>, E> {
            // serde_json hands every non-negative integer here.
            Ok(match i64::try_from(v) {
                Ok(v) => Ok(Some(v)),
                Err(_) => integer(Ok(Some(Decimal::from(v)))),
            })
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Read<i64>, E> {
            Number.visit_f64(v).map(integer)
        }

        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Read<i64>, E> {
            Number.visit_str(s).map(integer)
        }

        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Read<i64>, E> {
            Number.visit_bool(v).map(integer)
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Read<i64>, A::Error> {
            Number.visit_seq(seq).map(integer)
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Read<i64>, A::Error> {
            Number.visit_map(map).map(integer)
        }
    }
}

// ------------------------------------------------------------------------------------------
// Text the adapter never reads

/// A text field of a reply that no conversion reads (a description, an image URL): checked as
/// `Option<String>` checks it (a string, `null` or absent; anything else fails the reply with
/// the same message), but never copied out of the body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct UnreadText;

impl<'de> Deserialize<'de> for UnreadText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> serde::de::Visitor<'de> for Text {
            type Value = UnreadText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<UnreadText, E> {
                Ok(UnreadText)
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<UnreadText, E> {
                Ok(UnreadText)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<UnreadText, E> {
                Ok(UnreadText)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<UnreadText, D::Error> {
                d.deserialize_string(Text)
            }
        }
        d.deserialize_option(Text)
    }
}

// ------------------------------------------------------------------------------------------
// Date-times

/// A `date-time` value as Diller sends it (§6.3): with an offset or `Z` (fractional seconds
/// allowed), without an offset, or a bare date (as `birth_date` travels, §6.3 \[MAG\]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DillerDateTime {
    /// An instant with its offset.
    Offset(DateTime<FixedOffset>),
    /// A local time without offset; read in the store's time zone.
    Local(NaiveDateTime),
    /// A bare date.
    Date(NaiveDate),
    /// Text that is no date-time; kept so an unused field never breaks a reply.
    Unparsed(String),
}

impl DillerDateTime {
    /// Parses every form §6.3 lists.
    pub fn parse(text: &str) -> DillerDateTime {
        let t = text.trim();
        if let Some(fast) = DillerDateTime::parse_usual(t) {
            return fast;
        }
        DillerDateTime::parse_any(text, t)
    }

    /// The two forms Diller sends nearly always, read without chrono's parsers:
    /// `2024-01-31T12:00:00+01:00` (or `Z`) and `2024-01-31`. `None` for anything else,
    /// including values out of range, which [`DillerDateTime::parse_any`] then reads as before.
    fn parse_usual(t: &str) -> Option<DillerDateTime> {
        let b = t.as_bytes();
        let number = |at: usize, len: usize| -> Option<u32> {
            b.get(at..at + len)?
                .iter()
                .try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
        };
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = i32::try_from(number(0, 4)?).ok()?;
        let date = NaiveDate::from_ymd_opt(year, number(5, 2)?, number(8, 2)?)?;
        if b.len() == 10 {
            return Some(DillerDateTime::Date(date));
        }
        if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let time = NaiveTime::from_hms_opt(number(11, 2)?, number(14, 2)?, number(17, 2)?)?;
        let offset = match &b[19..] {
            b"Z" => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (hours, minutes) = (number(20, 2)?, number(23, 2)?);
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
                if *sign == b'-' {
                    -seconds
                } else {
                    seconds
                }
            }
            _ => return None,
        };
        let offset = FixedOffset::east_opt(offset)?;
        offset.from_local_datetime(&date.and_time(time)).single().map(DillerDateTime::Offset)
    }

    /// Every form §6.3 lists, through chrono's parsers.
    fn parse_any(text: &str, t: &str) -> DillerDateTime {
        if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
            return DillerDateTime::Offset(dt);
        }
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
            if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
                return DillerDateTime::Offset(dt);
            }
        }
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
            if let Ok(dt) = NaiveDateTime::parse_from_str(t, fmt) {
                return DillerDateTime::Local(dt);
            }
        }
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return DillerDateTime::Date(d);
        }
        DillerDateTime::Unparsed(text.to_string())
    }

    /// The calendar date as written (a birth date keeps its day whatever the offset).
    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            DillerDateTime::Offset(dt) => Some(dt.date_naive()),
            DillerDateTime::Local(dt) => Some(dt.date()),
            DillerDateTime::Date(d) => Some(*d),
            DillerDateTime::Unparsed(_) => None,
        }
    }

    /// The year as written.
    pub fn year(&self) -> Option<i32> {
        use chrono::Datelike;
        self.date().map(|d| d.year())
    }

    /// The instant, reading offset-less values in `tz`; `end` says the value ends a window
    /// (a `valid_to`) rather than starts one.
    ///
    /// A bare date is the start of that day, or its end when `end` (date-only validity ends at
    /// the end of the day in the store's time zone). A local time the zone skips (inside a
    /// spring-forward gap) is the first instant after the gap, in the offset after the
    /// transition; a local time the zone shows twice (fall-back) is its earlier instant for a
    /// start and its later one for an end, so the window is never narrower than written.
    pub fn to_utc(&self, tz: &Tz, end: bool) -> Option<DateTime<Utc>> {
        let local = |dt: NaiveDateTime| match tz.from_local_datetime(&dt) {
            LocalResult::Single(d) => Some(d.with_timezone(&Utc)),
            LocalResult::Ambiguous(early, late) => Some(if end { late } else { early }.with_timezone(&Utc)),
            LocalResult::None => after_gap(tz, dt),
        };
        match self {
            DillerDateTime::Offset(dt) => Some(dt.with_timezone(&Utc)),
            DillerDateTime::Local(dt) => local(*dt),
            DillerDateTime::Date(d) => {
                let time = if end { NaiveTime::from_hms_milli_opt(23, 59, 59, 999)? } else { NaiveTime::MIN };
                local(d.and_time(time))
            }
            DillerDateTime::Unparsed(_) => None,
        }
    }
}

/// The first instant after the gap that skips the local time `dt` in `tz`: the transition,
/// found as the first UTC second whose local time is at or past `dt`. UTC offsets stay within a
/// day, so that second lies within a day either side of `dt` read as UTC; local time only
/// grows there unless a second transition falls within the same day, which the check at the
/// end refuses (`None`).
fn after_gap(tz: &Tz, dt: NaiveDateTime) -> Option<DateTime<Utc>> {
    let reached =
        |secs: i64| DateTime::from_timestamp(secs, 0).map(|u| u.with_timezone(tz).naive_local() >= dt);
    let at = dt.and_utc().timestamp();
    let (mut lo, mut hi) = (at.checked_sub(86_400)?, at.checked_add(86_400)?);
    if reached(lo)? || !reached(hi)? {
        return None;
    }
    // Invariant: `lo` has not reached `dt`, `hi` has.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reached(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let first = DateTime::from_timestamp(hi, 0)?;
    // Only a transition skips `dt`: the second before it shows an earlier local time in
    // another offset.
    let before = DateTime::from_timestamp(lo, 0)?.with_timezone(tz);
    let after = first.with_timezone(tz);
    (before.offset().fix() != after.offset().fix()).then_some(first)
}

impl<'de> Deserialize<'de> for DillerDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Parses the input's `str` in place; anything but a string is refused as `String`
        /// refuses it.
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = DillerDateTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DillerDateTime, E> {
                Ok(DillerDateTime::parse(v))
            }
        }
        d.deserialize_string(Text)
    }
}

/// The `strftime` formats `DillerDateTime` writes, parsed once rather than per value.
static OFFSET_FORMAT: LazyLock<Vec<Item<'static>>> = LazyLock::new(|| items("%Y-%m-%dT%H:%M:%S%:z"));
static LOCAL_FORMAT: LazyLock<Vec<Item<'static>>> = LazyLock::new(|| items("%Y-%m-%dT%H:%M:%S"));
static DATE_FORMAT: LazyLock<Vec<Item<'static>>> = LazyLock::new(|| items("%Y-%m-%d"));

fn items(format: &'static str) -> Vec<Item<'static>> {
    // A constant, valid format: `format()` with it has always written every value.
    StrftimeItems::new(format).parse_to_owned().unwrap_or_default()
}

/// `dt` as [`OFFSET_FORMAT`] writes it (`2024-01-31T12:00:00+01:00`), written by hand for the
/// usual values: a year of four digits, no leap second, an offset of whole minutes. `None`
/// otherwise, and chrono writes it.
fn usual_offset_text(dt: &DateTime<FixedOffset>) -> Option<[u8; 25]> {
    use chrono::{Datelike, Timelike};
    let offset = dt.offset().local_minus_utc();
    if !(0..=9999).contains(&dt.year()) || dt.nanosecond() >= 1_000_000_000 || offset % 60 != 0 {
        return None;
    }
    let mut out = *b"0000-00-00T00:00:00+00:00";
    let mut put = |at: usize, digits: usize, value: u32| {
        let mut v = value;
        for i in (at..at + digits).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, dt.year().unsigned_abs());
    put(5, 2, dt.month());
    put(8, 2, dt.day());
    put(11, 2, dt.hour());
    put(14, 2, dt.minute());
    put(17, 2, dt.second());
    let minutes = offset.unsigned_abs() / 60;
    put(20, 2, minutes / 60);
    put(23, 2, minutes % 60);
    if offset < 0 {
        out[19] = b'-';
    }
    Some(out)
}

impl Serialize for DillerDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            // PHP DATE_ATOM, what Diller's SDK writes (§6.3).
            DillerDateTime::Offset(dt) => match usual_offset_text(dt) {
                Some(text) => s.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?),
                None => s.collect_str(&dt.format_with_items(OFFSET_FORMAT.iter())),
            },
            DillerDateTime::Local(dt) => s.collect_str(&dt.format_with_items(LOCAL_FORMAT.iter())),
            DillerDateTime::Date(d) => s.collect_str(&d.format_with_items(DATE_FORMAT.iter())),
            DillerDateTime::Unparsed(t) => s.serialize_str(t),
        }
    }
}

/// An instant in the store's time zone with its offset, as the SDK writes `created_at`.
pub fn local_date_time(at: DateTime<Utc>, tz: &Tz) -> DillerDateTime {
    DillerDateTime::Offset(at.with_timezone(tz).fixed_offset())
}

// ------------------------------------------------------------------------------------------
// Enums

/// Reads an enum's wire text with `parse`, straight from the input's `str` (a known value costs
/// no allocation); any other JSON value becomes `unknown` of its JSON text, exactly as when the
/// value was first read as a `serde_json::Value`.
struct EnumText<T> {
    parse: fn(&str) -> T,
    unknown: fn(String) -> T,
}

impl<T> EnumText<T> {
    fn other(&self, value: serde_json::Value) -> T {
        (self.unknown)(value.to_string())
    }
}

impl<'de, T> serde::de::Visitor<'de> for EnumText<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.parse)(v))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<T, E> {
        Ok(self.other(v.into()))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
        Ok(self.other(v.into()))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
        Ok(self.other(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<T, E> {
        Ok(self.other(v.into()))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<T, E> {
        Ok(self.other(serde_json::Value::Null))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<T, E> {
        Ok(self.other(serde_json::Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        Ok(self.other(serde_json::Value::deserialize(d)?))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        let value = serde_json::Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        Ok(self.other(value))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        let value = serde_json::Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(self.other(value))
    }
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        ///
        /// Unknown values are kept in `Unknown` rather than failing the whole reply; input is
        /// matched case-insensitively (ASP.NET's converter ignores case, §5.9 \[I\]).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value this adapter does not know.
            Unknown(String),
        }

        impl $name {
            /// The wire text.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Unknown(s) => s,
                }
            }

            /// Reads the wire text.
            pub fn parse(s: &str) -> $name {
                $(if s.eq_ignore_ascii_case($text) { return $name::$variant; })+
                $name::Unknown(s.to_string())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Numeric enum values are possible at an ASP.NET server (§5.9 [I]); kept as text.
                d.deserialize_any(EnumText { parse: $name::parse, unknown: $name::Unknown })
            }
        }
    };
}

wire_enum!(
    /// `Gender` (§5.9).
    Gender {
        /// Male.
        Male = "Male",
        /// Female.
        Female = "Female",
        /// Not shared (also what Diller answers when unknown, §5.2 \[I\]).
        NotShared = "NotShared",
        /// Non-binary.
        NonBinary = "NonBinary",
    }
);
wire_enum!(
    /// `CouponType` (§5.9).
    CouponType {
        /// A normal coupon.
        Standard = "Standard",
        /// Given to new members.
        Welcome = "Welcome",
        /// Sent by an SMS campaign.
        Campaign = "Campaign",
        /// Usable by anyone who knows the code.
        Public = "Public",
        /// Re-issued on a schedule.
        Recurring = "Recurring",
        /// Given around the member's birthday.
        Birthday = "Birthday",
        /// Given around a dependent's birthday.
        ChildBirthday = "ChildBirthday",
        /// Produced by marketing automation.
        Automation = "Automation",
    }
);
wire_enum!(
    /// `CouponDiscountType` (§5.9).
    CouponDiscountType {
        /// No discount defined.
        NotDefined = "NotDefined",
        /// `discount_value` is a percentage.
        Percentage = "Percentage",
        /// `discount_value` is an amount in the store currency, major units.
        Fixed = "Fixed",
        /// Free shipping (web shops).
        FreeShipping = "FreeShipping",
    }
);
wire_enum!(
    /// `SegmentType` (§5.9).
    SegmentType {
        /// Free text.
        Text = "Text",
        /// A date (written `YYYY-MM-DD`).
        DateTime = "DateTime",
        /// One option.
        Radio = "Radio",
        /// Any number of options.
        Checkbox = "Checkbox",
        /// One option.
        Dropdown = "Dropdown",
    }
);
wire_enum!(
    /// `GtinType` (§5.9).
    GtinType {
        /// ISBN.
        Isbn = "Isbn",
        /// UPC (GTIN-12).
        UpcGtin12 = "UpcGtin12",
        /// EAN (GTIN-13).
        EanGtin13 = "EanGtin13",
    }
);
wire_enum!(
    /// Stamp `action` (§5.5; a string, lower case).
    StampCardAction {
        /// Stamps earned.
        Collected = "collected",
        /// Stamps spent.
        Deducted = "deducted",
    }
);
wire_enum!(
    /// Stamp card `card_type` (§5.5, added 2024-06).
    CardType {
        /// Stamps per qualifying product.
        Standard = "standard",
        /// A stamp per transaction above `threshold_amount`.
        Threshold = "threshold",
    }
);

// ------------------------------------------------------------------------------------------
// Shared small models (§5.1)

/// `Phone`: dialling prefix with `+` and the national number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Phone {
    /// e.g. `"+47"`.
    #[serde(default)]
    pub country_code: Option<String>,
    /// e.g. `"41234567"`.
    #[serde(default)]
    pub number: Option<String>,
}

/// `Address`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Address {
    /// Street.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_code: Option<String>,
    /// State.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
}

/// `Origin`: where a call comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Origin {
    /// Calling system or register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_id: Option<String>,
    /// Operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<String>,
    /// Retailer's department id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<String>,
    /// `"POS"` or `"OnlineStore"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

/// `ActionResponse`: the success body of command endpoints (§5.8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ActionResponse {
    /// Whether the action succeeded.
    #[serde(default)]
    pub is_ok: Option<bool>,
    /// Free text.
    #[serde(default)]
    pub details: Option<String>,
}

/// `ApiError`: ASP.NET Core problem details (§5.8); `traceId` and other members are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
pub struct ApiError {
    /// Error type URI.
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    /// Short summary.
    #[serde(default)]
    pub title: Option<String>,
    /// The HTTP status repeated.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub status: Option<i64>,
    /// Explanation.
    #[serde(default)]
    pub detail: Option<String>,
    /// Instance.
    #[serde(default)]
    pub instance: Option<String>,
    /// Validation messages per field, in the order sent.
    #[serde(default, deserialize_with = "ordered_errors")]
    pub errors: Option<Vec<(String, serde_json::Value)>>,
}

/// Reads a JSON object keeping its member order (the first `errors` key names the field).
fn ordered_errors<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<(String, serde_json::Value)>>, D::Error> {
    struct Ordered;
    impl<'de> serde::de::Visitor<'de> for Ordered {
        type Value = Option<Vec<(String, serde_json::Value)>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of field errors or null")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(Ordered)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                out.push((k, v));
            }
            Ok(Some(out))
        }
    }
    d.deserialize_option(Ordered)
}

/// IdentityServer's token error body (§2, \[I\]): `{"error": "invalid_client"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
pub struct OAuthError {
    /// The OAuth2 error code.
    pub error: String,
    /// Optional description.
    #[serde(default)]
    pub error_description: Option<String>,
}

// ------------------------------------------------------------------------------------------
// Members (§5.2)

/// `MemberConsent` (response and update) and `Consent` (register): the four consent flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct MemberConsent {
    /// Membership (GDPR) terms accepted.
    #[serde(default)]
    pub gdpr_accepted: Option<bool>,
    /// Purchase history may be stored.
    #[serde(default)]
    pub save_order_history: Option<bool>,
    /// Marketing SMS allowed.
    #[serde(default)]
    pub receive_sms: Option<bool>,
    /// Marketing e-mail allowed.
    #[serde(default)]
    pub receive_email: Option<bool>,
}

/// `MemberMembershipDetail`: points and tier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
pub struct MemberMembershipDetail {
    /// Current points.
    #[serde(default, deserialize_with = "opt_number::deserialize")]
    pub points: Option<Decimal>,
    /// Points till the next level.
    #[serde(default, deserialize_with = "opt_number::deserialize")]
    pub remaining_points: Option<Decimal>,
    /// Current tier name.
    #[serde(default)]
    pub level_title: Option<String>,
    /// Next tier name.
    #[serde(default)]
    pub next_level_title: Option<String>,
    /// Threshold of the next tier.
    #[serde(default, deserialize_with = "opt_number::deserialize")]
    pub next_level_points: Option<Decimal>,
    /// Tier expiry.
    #[serde(default)]
    pub level_expire_date: Option<DillerDateTime>,
}

/// `MemberSegmentResponse`: one answer to a store segment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
pub struct MemberSegmentResponse {
    /// Segment id.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub id: Option<i64>,
    /// Label.
    #[serde(default)]
    pub text: UnreadText,
    /// Segment type.
    #[serde(rename = "type")]
    pub type_: Option<SegmentType>,
    /// Shown to members.
    #[serde(default)]
    pub is_visible_to_follower: Option<bool>,
    /// Required.
    #[serde(default)]
    pub is_required: Option<bool>,
    /// Text and DateTime answers.
    #[serde(default)]
    pub value: Option<String>,
    /// Choice answers (option ids).
    #[serde(default)]
    pub selected_options: Option<Vec<i64>>,
}

/// `MemberResponse` (M1-M5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
pub struct MemberResponse {
    /// Member id.
    #[serde(default)]
    pub id: Option<String>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Values of the store's extra identifier.
    #[serde(default)]
    pub additional_identifiers: Option<Vec<String>>,
    /// Free text.
    #[serde(default)]
    pub remarks: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<Phone>,
    /// Birth date.
    #[serde(default)]
    pub birth_date: Option<DillerDateTime>,
    /// Address.
    #[serde(default)]
    pub address: Option<Address>,
    /// Gender (required by the spec, tolerated missing).
    #[serde(default)]
    pub gender: Option<Gender>,
    /// Consents.
    #[serde(default)]
    pub consent: Option<MemberConsent>,
    /// Points and tier.
    #[serde(default)]
    pub membership_detail: Option<MemberMembershipDetail>,
    /// Departments.
    #[serde(default)]
    pub department_ids: Option<Vec<String>>,
    /// Segment answers.
    #[serde(default)]
    pub segments: Option<Vec<MemberSegmentResponse>>,
}

/// `SegmentValue`: a segment answer in register/update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentValue {
    /// Segment id.
    pub segment_id: i64,
    /// Text / DateTime answer (`YYYY-MM-DD` for dates, §6.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Choice answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_options: Option<Vec<i64>>,
}

/// `RegisterMemberRequest` (M3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegisterMemberRequest {
    /// Required.
    pub phone: Phone,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Extra identifiers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_identifiers: Vec<String>,
    /// Bare date `YYYY-MM-DD`, as Diller's module sends it (§6.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<DillerDateTime>,
    /// Gender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    /// Address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// `Consent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<MemberConsent>,
    /// Departments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub department_ids: Vec<String>,
    /// Origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Segment answers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<SegmentValue>,
}

/// `MemberAdditionalInfo` (enroll).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MemberAdditionalInfo {
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Extra identifiers (added 2024-06).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_identifiers: Vec<String>,
}

/// `EnrollMemberRequest` (M4): `phone` and `department_id` required since 2024-06.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnrollMemberRequest {
    /// Required.
    pub phone: Phone,
    /// Required since 2024-06 (§4.2).
    pub department_id: String,
    /// Origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Profile details the cashier asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<MemberAdditionalInfo>,
}

/// `UpdateMemberRequest` (M5): full replacement, no `phone` (§4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateMemberRequest {
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// E-mail; omitted = the member has no e-mail afterwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Bare date `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<DillerDateTime>,
    /// Extra identifiers.
    pub additional_identifiers: Vec<String>,
    /// Gender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    /// Address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// `MemberConsent`.
    pub consent: MemberConsent,
    /// Departments.
    pub department_ids: Vec<String>,
    /// Origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Segment answers.
    pub segments: Vec<SegmentValue>,
}

/// `Dependent` (M7/M8); note the spelling `birthdate` (§5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Dependent {
    /// 0 = new.
    #[serde(default)]
    pub id: i64,
    /// At most 50 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// `yyyy-MM-dd`.
    #[serde(default)]
    pub birthdate: Option<String>,
    /// Gender.
    #[serde(default)]
    pub gender: Option<Gender>,
}

// ------------------------------------------------------------------------------------------
// Store side (§5.3)

/// `PointsSystem`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct PointsSystem {
    /// Points are on.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Referral bonus.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub friend_referral_points: Option<i64>,
    /// Sign-up bonus.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub follower_signup_points: Option<i64>,
    /// Points per currency unit \[I\].
    #[serde(default, with = "opt_number")]
    pub currency_points_ratio: Option<Decimal>,
}

/// `MemberIdentifier`: the store's extra identifier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct MemberIdentifier {
    /// Kind of identifier (free text, e.g. national id or plate).
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    /// Unique within a country.
    #[serde(default)]
    pub is_unique_per_country: Option<bool>,
}

/// `StoreResponse` (S1, S2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct StoreResponse {
    /// Store id.
    #[serde(default)]
    pub id: Option<String>,
    /// VAT number.
    #[serde(default)]
    pub tax_number: Option<String>,
    /// External id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Name.
    #[serde(default)]
    pub store_name: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<Phone>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Address (its country drives national phone parsing).
    #[serde(default)]
    pub address: Option<Address>,
    /// ISO 4217 \[I\].
    #[serde(default)]
    pub currency: Option<String>,
    /// Time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Culture, e.g. `nb-NO` \[I\].
    #[serde(default)]
    pub culture: Option<String>,
    /// Stamp cards on.
    #[serde(default)]
    pub stamps_enabled: Option<bool>,
    /// Friend referral on.
    #[serde(default)]
    pub friend_referral_enabled: Option<bool>,
    /// Points settings.
    #[serde(default)]
    pub points_system: Option<PointsSystem>,
    /// Extra identifier.
    #[serde(default)]
    pub member_identifier: Option<MemberIdentifier>,
    /// Privacy policy.
    #[serde(default)]
    pub privacy_policy_url: Option<String>,
}

/// `StoreDepartmentResponse` (S3, S4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct StoreDepartmentResponse {
    /// Retailer-assigned id.
    #[serde(default)]
    pub id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// `CreateDepartmentRequest` (S4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateDepartmentRequest {
    /// Retailer-assigned id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// `StoreMembershipLevelResponse` (S6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct StoreMembershipLevelResponse {
    /// Level id.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub id: Option<i64>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Threshold.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub points: Option<i64>,
}

/// `SegmentOption`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
pub struct SegmentOption {
    /// Option id.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub id: Option<i64>,
    /// Label.
    #[serde(default)]
    pub text: Option<String>,
}

/// `StoreSegmentResponse` (S5).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
pub struct StoreSegmentResponse {
    /// Segment id.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub id: Option<i64>,
    /// Label.
    #[serde(default)]
    pub text: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub type_: Option<SegmentType>,
    /// Shown to members.
    #[serde(default)]
    pub is_visible_to_follower: Option<bool>,
    /// Required.
    #[serde(default)]
    pub is_required: Option<bool>,
    /// Options of choice segments.
    #[serde(default)]
    pub options: Option<Vec<SegmentOption>>,
}

// ------------------------------------------------------------------------------------------
// Coupons (§5.4)

/// `ExternalCouponIdentifier`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
pub struct ExternalCouponIdentifier {
    /// Platform (plain text since 2024-02).
    #[serde(default)]
    pub platform: UnreadText,
    /// The coupon's id there.
    #[serde(default)]
    pub external_id: UnreadText,
}

/// `CouponTarget`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
pub struct CouponTarget {
    /// Points needed.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub required_points: Option<i64>,
    /// Tier needed.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub membership_level: Option<i64>,
    /// Member list.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub list_id: Option<i64>,
}

/// `MemberCouponResponse` (C2) and `StoreCouponResponse` (C1): one model with the fields of
/// both (`times_redeemed` only in C2, `target` / `usage_extension_in_days` only in C1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
pub struct MemberCouponResponse {
    /// Numeric id.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub id: Option<i64>,
    /// Ids in shop platforms.
    #[serde(default)]
    pub external_ids: Option<Vec<ExternalCouponIdentifier>>,
    /// The code (required; the key of C3-C5 and `coupon_codes`).
    #[serde(default)]
    pub code: Option<String>,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: UnreadText,
    /// POS article number \[I\].
    #[serde(default)]
    pub article_number: UnreadText,
    /// Start.
    #[serde(default)]
    pub valid_from: Option<DillerDateTime>,
    /// End; year 2100 = never (§5.4).
    #[serde(default)]
    pub valid_to: Option<DillerDateTime>,
    /// Coupon type.
    #[serde(default, rename = "type")]
    pub type_: Option<CouponType>,
    /// Discount type.
    #[serde(default)]
    pub discount_type: Option<CouponDiscountType>,
    /// Percentage or major-unit amount.
    #[serde(default, deserialize_with = "opt_number::deserialize")]
    pub discount_value: Option<Decimal>,
    /// Use limit; ≥ 1000 = unlimited (§5.4).
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub max_redemptions: Option<i64>,
    /// Image.
    #[serde(default)]
    pub image_url: UnreadText,
    /// Product scope; empty = whole basket.
    #[serde(default)]
    pub product_ids: Option<Vec<String>>,
    /// Who may get it (C1 only).
    #[serde(default)]
    pub target: Option<CouponTarget>,
    /// Extra validity days (C1 only) \[I\].
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub usage_extension_in_days: Option<i64>,
    /// Uses by this member (C2 only).
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub times_redeemed: Option<i64>,
}

/// `StoreCouponResponse` (C1) has the same shape as the member model minus `times_redeemed`.
pub type StoreCouponResponse = MemberCouponResponse;

/// `CouponReservationRequest` (C4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CouponReservationRequest {
    /// Free text (Magento sends `"Magento"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Product the coupon is used on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_product_id: Option<String>,
    /// The order id: the key of the reservation.
    pub external_transaction_id: String,
}

/// `CouponCancelReservationRequest` (C5, K4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CouponCancelReservationRequest {
    /// The order id the reservation was made under.
    pub external_transaction_id: String,
}

// ------------------------------------------------------------------------------------------
// Stamp cards (§5.5)

/// `MemberStampCard` (K2) and `StoreStampCardResponse` (K1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(remote = "Self")]
pub struct MemberStampCard {
    /// `stampId` / `stamp_card_id`.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub id: Option<i64>,
    /// Shop platform id.
    #[serde(default)]
    pub external_id: UnreadText,
    /// Article number.
    #[serde(default)]
    pub article_number: UnreadText,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: UnreadText,
    /// Points per stamp (Magento's reading).
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub required_points: Option<i64>,
    /// Starts over after completion.
    #[serde(default)]
    pub is_restartable: Option<bool>,
    /// Stamps needed.
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub required_stamps: Option<i64>,
    /// Image.
    #[serde(default)]
    pub image_url: UnreadText,
    /// Text of the last stamp.
    #[serde(default)]
    pub last_stamp_text: UnreadText,
    /// Products that earn stamps.
    #[serde(default)]
    pub product_ids: Option<Vec<String>>,
    /// `standard` or `threshold`.
    #[serde(default)]
    pub card_type: Option<CardType>,
    /// Threshold amount.
    #[serde(default, deserialize_with = "opt_number::deserialize")]
    pub threshold_amount: Option<Decimal>,
    /// Start.
    #[serde(default)]
    pub valid_from: Option<DillerDateTime>,
    /// End.
    #[serde(default)]
    pub valid_to: Option<DillerDateTime>,
    /// The member's progress (K2 only).
    #[serde(default, deserialize_with = "opt_int::deserialize")]
    pub stamps_collected: Option<i64>,
}

/// `StoreStampCardResponse` (K1): the member model without `stamps_collected`.
pub type StoreStampCardResponse = MemberStampCard;

/// `StampReservationRequest` (K3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StampReservationRequest {
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_product_id: Option<String>,
    /// The order id.
    pub external_transaction_id: String,
}

/// `StampCard`: a stamp movement inside a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StampCard {
    /// Card id.
    pub stamp_card_id: i64,
    /// `collected` or `deducted`.
    pub action: StampCardAction,
    /// Positive.
    pub count: i64,
}

// ------------------------------------------------------------------------------------------
// Transactions (§5.6)

/// `PaymentDetails`. Request models borrow their text from the domain value they are written
/// from, so a request is serialised without copying it first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentDetails<'a> {
    /// Tender.
    pub payment_method: &'a str,
    /// Amount, major units.
    #[serde(with = "opt_number")]
    pub sub_total: Option<Decimal>,
}

/// `ProductCategory`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductCategory {
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// `GlobalProductIdentifier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlobalProductIdentifier {
    /// Kind.
    #[serde(rename = "type")]
    pub type_: GtinType,
    /// Code.
    pub code: String,
}

/// `ProductDetail`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProductDetail<'a> {
    /// The store's product id: what `product_ids` refer to \[I\].
    pub external_id: &'a str,
    /// SKU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<&'a str>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    /// Brand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<&'a str>,
    /// Category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<ProductCategory>,
    /// GTIN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gtin: Option<GlobalProductIdentifier>,
}

/// `TransactionDetailRequest` (T1 line) and `RefundDetailRequest` (T3 line, without the
/// usage fields, which are then empty and skipped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionDetailRequest<'a> {
    /// Product.
    pub product: ProductDetail<'a>,
    /// Quantity (fractional for weights).
    #[serde(with = "opt_number")]
    pub quantity: Option<Decimal>,
    /// Unit price with tax.
    #[serde(with = "opt_number")]
    pub unit_price: Option<Decimal>,
    /// Unit (`""` like the Magento module).
    pub unit_measure: &'a str,
    /// 0-100.
    #[serde(with = "opt_number", skip_serializing_if = "Option::is_none")]
    pub tax_percentage: Option<Decimal>,
    /// Line discount.
    #[serde(with = "opt_number")]
    pub discount: Option<Decimal>,
    /// `quantity × unit_price − discount`, taxes included (§5.6).
    #[serde(with = "opt_number")]
    pub total_price: Option<Decimal>,
    /// Stamp movements on this line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stamp_cards: Vec<StampCard>,
    /// Coupons on this line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coupon_codes: Vec<&'a str>,
}

/// `RefundDetailRequest` (T3 line).
pub type RefundDetailRequest<'a> = TransactionDetailRequest<'a>;

/// `CreateTransactionRequest` (T1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateTransactionRequest<'a> {
    /// The store's unique id: the idempotency key and the key of T2.
    pub external_id: &'a str,
    /// Receipt number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_receipt_id: Option<&'a str>,
    /// Sale time, with offset.
    pub created_at: DillerDateTime,
    /// Tenders.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub payment_details: Vec<PaymentDetails<'a>>,
    /// EFT-POS reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eft_pos: Option<&'a str>,
    /// Send a receipt e-mail.
    pub send_email_receipt: bool,
    /// Paid, after discounts, tax included.
    #[serde(with = "opt_number")]
    pub total: Option<Decimal>,
    /// Tax.
    #[serde(with = "opt_number", skip_serializing_if = "Option::is_none")]
    pub total_tax: Option<Decimal>,
    /// Discount.
    #[serde(with = "opt_number")]
    pub total_discount: Option<Decimal>,
    /// ISO 4217.
    pub currency: &'a str,
    /// Cash rounding.
    #[serde(with = "opt_number", skip_serializing_if = "Option::is_none")]
    pub round_off_amount: Option<Decimal>,
    /// Origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Coupons used on the whole transaction.
    pub coupon_codes: Vec<&'a str>,
    /// Stamp movements at transaction level.
    pub stamp_cards: Vec<StampCard>,
    /// Lines.
    pub details: Vec<TransactionDetailRequest<'a>>,
    /// Department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_id: Option<&'a str>,
}

/// `CancelationReason` (T2; the model's spelling, not on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CancelationReason {
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

/// `CreateRefundTransactionRequest` (T3): no coupon or stamp fields (§5.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateRefundTransactionRequest<'a> {
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    /// The refund's own id.
    pub external_id: &'a str,
    /// Receipt number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_receipt_id: Option<&'a str>,
    /// When.
    pub created_at: DillerDateTime,
    /// Tenders.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub payment_details: Vec<PaymentDetails<'a>>,
    /// Refunded, positive \[I\].
    #[serde(with = "opt_number")]
    pub total: Option<Decimal>,
    /// Discount share of the returned lines.
    #[serde(with = "opt_number")]
    pub total_discount: Option<Decimal>,
    /// ISO 4217.
    pub currency: &'a str,
    /// Origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Returned lines.
    pub details: Vec<RefundDetailRequest<'a>>,
    /// Department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_id: Option<&'a str>,
}

// Every reply model is read from a JSON object only (see `ObjectOnly`).
object_only!(serialize: Phone, Address, Origin, ActionResponse, MemberConsent, Dependent, PointsSystem, MemberIdentifier, StoreResponse, StoreDepartmentResponse, StoreMembershipLevelResponse);
object_only!(
    ApiError,
    OAuthError,
    MemberMembershipDetail,
    MemberSegmentResponse,
    MemberResponse,
    SegmentOption,
    StoreSegmentResponse,
    ExternalCouponIdentifier,
    CouponTarget,
    MemberCouponResponse,
    MemberStampCard
);

// ------------------------------------------------------------------------------------------
// Conversions: wire → domain (failures are Protocol)

impl From<Gender> for Option<CoreGender> {
    fn from(g: Gender) -> Option<CoreGender> {
        match g {
            Gender::Male => Some(CoreGender::Male),
            Gender::Female => Some(CoreGender::Female),
            Gender::NotShared => Some(CoreGender::NotShared),
            Gender::NonBinary => Some(CoreGender::NonBinary),
            Gender::Unknown(_) => None,
        }
    }
}

impl From<CoreGender> for Gender {
    fn from(g: CoreGender) -> Gender {
        match g {
            CoreGender::Male => Gender::Male,
            CoreGender::Female => Gender::Female,
            CoreGender::NotShared => Gender::NotShared,
            CoreGender::NonBinary => Gender::NonBinary,
        }
    }
}

impl From<&MemberConsent> for Consents {
    fn from(c: &MemberConsent) -> Consents {
        Consents {
            membership: c.gdpr_accepted.unwrap_or(false),
            order_history: c.save_order_history.unwrap_or(false),
            marketing_sms: c.receive_sms.unwrap_or(false),
            marketing_email: c.receive_email.unwrap_or(false),
        }
    }
}

impl From<&Consents> for MemberConsent {
    fn from(c: &Consents) -> MemberConsent {
        MemberConsent {
            gdpr_accepted: Some(c.membership),
            save_order_history: Some(c.order_history),
            receive_sms: Some(c.marketing_sms),
            receive_email: Some(c.marketing_email),
        }
    }
}

impl From<&Address> for CoreAddress {
    fn from(a: &Address) -> CoreAddress {
        CoreAddress::from(a.clone())
    }
}

impl From<Address> for CoreAddress {
    fn from(a: Address) -> CoreAddress {
        CoreAddress {
            street: a.street,
            city: a.city,
            zip_code: a.zip_code,
            state: a.state,
            country_code: a.country_code,
        }
    }
}

impl From<&CoreAddress> for Address {
    fn from(a: &CoreAddress) -> Address {
        Address {
            street: a.street.clone(),
            city: a.city.clone(),
            zip_code: a.zip_code.clone(),
            state: a.state.clone(),
            country_code: a.country_code.clone(),
        }
    }
}

impl From<&CorePhone> for Phone {
    fn from(p: &CorePhone) -> Phone {
        Phone { country_code: Some(p.country_code.clone()), number: Some(p.number.clone()) }
    }
}

fn segment_answer(s: &MemberSegmentResponse, at: usize) -> Conv<Option<SegmentAnswer>> {
    let field = |f: &str| format!("segments[{at}].{f}");
    let id = s.id.ok_or_else(|| ConversionError::new(field("id"), "missing"))?;
    let text = s.value.as_deref().map(str::trim).filter(|v| !v.is_empty());
    let choices =
        || s.selected_options.clone().unwrap_or_default().iter().map(i64::to_string).collect::<Vec<_>>();
    let value = match &s.type_ {
        Some(SegmentType::Text) => text.map(|t| CoreSegmentValue::Text(t.to_string())),
        // The value is plain text at Diller (§6.3): an answer typed elsewhere in another form
        // ("17.05.2024") is kept as text, not made a reason to refuse the whole member.
        Some(SegmentType::DateTime) => text.map(|t| match DillerDateTime::parse(t).date() {
            Some(date) => CoreSegmentValue::Date(date),
            None => CoreSegmentValue::Text(t.to_string()),
        }),
        Some(SegmentType::Radio | SegmentType::Dropdown | SegmentType::Checkbox) => {
            let c = choices();
            (!c.is_empty()).then_some(CoreSegmentValue::Choices(c))
        }
        // An unknown segment type: keep whatever answer it carries.
        Some(SegmentType::Unknown(_)) | None => match text {
            Some(t) => Some(CoreSegmentValue::Text(t.to_string())),
            None => {
                let c = choices();
                (!c.is_empty()).then_some(CoreSegmentValue::Choices(c))
            }
        },
    };
    Ok(value.map(|value| SegmentAnswer { segment_id: id.to_string().into(), value }))
}

impl TryFrom<&MemberResponse> for Member {
    type Error = ConversionError;

    fn try_from(w: &MemberResponse) -> Conv<Member> {
        Member::try_from(w.clone())
    }
}

impl TryFrom<MemberResponse> for Member {
    type Error = ConversionError;

    /// Moves the reply's strings into the member (no copies).
    fn try_from(w: MemberResponse) -> Conv<Member> {
        let id = w.id.filter(|s| !s.is_empty()).ok_or_else(|| ConversionError::new("id", "missing"))?;
        let mut m = Member::new(MemberId::from(id));
        m.first_name = w.first_name.filter(|s| !s.is_empty());
        m.last_name = w.last_name.filter(|s| !s.is_empty());
        m.email = w.email.filter(|s| !s.is_empty());
        m.phone = match &w.phone {
            Some(Phone { country_code: Some(cc), number: Some(n) }) if !n.is_empty() => {
                Some(CorePhone::new(cc, n))
            }
            _ => None,
        };
        m.birth_date = match &w.birth_date {
            None => None,
            Some(d) => Some(d.date().ok_or_else(|| ConversionError::new("birth_date", "not a date"))?),
        };
        m.address = w.address.map(CoreAddress::from);
        m.gender = w.gender.and_then(Option::<CoreGender>::from);
        m.consents = w.consent.as_ref().map(Consents::from).unwrap_or_default();
        m.identifiers = w.additional_identifiers.unwrap_or_default();
        m.departments = w.department_ids.unwrap_or_default().into_iter().map(Into::into).collect();
        for (i, s) in w.segments.iter().flatten().enumerate() {
            if let Some(a) = segment_answer(s, i)? {
                m.segments.push(a);
            }
        }
        if let Some(d) = w.membership_detail {
            m.points = d.points;
            m.tier = d.level_title;
            let mut put = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    m.extras.insert(k.to_string(), v);
                }
            };
            put("next_level_title", d.next_level_title);
            put("remaining_points", d.remaining_points.map(|x| x.normalize().to_string()));
            put("next_level_points", d.next_level_points.map(|x| x.normalize().to_string()));
            put(
                "level_expire_date",
                d.level_expire_date.as_ref().and_then(|x| x.date()).map(|x| x.to_string()),
            );
        }
        if let Some(r) = w.remarks.filter(|s| !s.is_empty()) {
            m.extras.insert("remarks".into(), r);
        }
        Ok(m)
    }
}

impl TryFrom<&StoreSegmentResponse> for CoreSegment {
    type Error = ConversionError;

    fn try_from(w: &StoreSegmentResponse) -> Conv<CoreSegment> {
        let id = w.id.ok_or_else(|| ConversionError::new("id", "missing"))?;
        let options = || {
            w.options
                .iter()
                .flatten()
                .filter_map(|o| {
                    Some(CoreSegmentOption {
                        id: o.id?.to_string(),
                        label: o.text.clone().unwrap_or_default(),
                    })
                })
                .collect::<Vec<_>>()
        };
        let kind = match &w.type_ {
            Some(SegmentType::Text) => SegmentKind::Text,
            Some(SegmentType::DateTime) => SegmentKind::Date,
            Some(SegmentType::Radio | SegmentType::Dropdown) => {
                SegmentKind::SingleChoice { options: options() }
            }
            Some(SegmentType::Checkbox) => SegmentKind::MultiChoice { options: options() },
            Some(SegmentType::Unknown(t)) => {
                return Err(ConversionError::new("type", format!("unknown segment type {t:?}")));
            }
            None => return Err(ConversionError::new("type", "missing")),
        };
        Ok(CoreSegment::new(id.to_string(), w.text.clone().unwrap_or_default(), kind)
            .required(w.is_required.unwrap_or(false))
            .visible(w.is_visible_to_follower.unwrap_or(true)))
    }
}

/// What converting offers needs besides the wire value: the store's time zone (offset-less
/// date-times) and currency (fixed-amount coupons).
#[derive(Debug, Clone, Copy)]
pub struct OfferContext {
    /// The store's time zone.
    pub time_zone: Tz,
    /// The store's currency.
    pub currency: Currency,
}

/// The prefix of coupon offer ids (`coupon:SUMMER10`).
pub const COUPON_PREFIX: &str = "coupon:";
/// The prefix of stamp card offer ids (`stamp:17`).
pub const STAMP_PREFIX: &str = "stamp:";

/// A validity window: start and end, `None` = open.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn validity(from: &Option<DillerDateTime>, to: &Option<DillerDateTime>, tz: &Tz) -> Conv<Window> {
    let from = match from {
        None => None,
        Some(v) => {
            Some(v.to_utc(tz, false).ok_or_else(|| ConversionError::new("valid_from", "not a date-time"))?)
        }
    };
    let to = match to {
        None => None,
        // A valid_to in year 2100 (or later) means "never expires" (§5.4, [MAG]).
        Some(v) if v.year().is_some_and(|y| y >= names::NO_END_YEAR) => None,
        Some(v) => {
            Some(v.to_utc(tz, true).ok_or_else(|| ConversionError::new("valid_to", "not a date-time"))?)
        }
    };
    Ok((from, to))
}

/// A `valid_to` given as a bare date ends at the end of that day in the store's time zone, and
/// a refusal names that local date.
fn ends_on(offer: Offer, to: &Option<DillerDateTime>, tz: &Tz) -> Offer {
    match to {
        Some(DillerDateTime::Date(d)) if offer.valid_to.is_some() => offer.ending_on(*d, *tz),
        _ => offer,
    }
}

/// A count Diller sends as an int (§5.4, §5.5), as a `u32`; negative or oversized counts are
/// impossible values.
fn count(field: &str, value: i64) -> Conv<u32> {
    if value < 0 {
        return Err(ConversionError::new(field, format!("{value} is negative")));
    }
    u32::try_from(value).map_err(|_| ConversionError::new(field, format!("{value} is out of range")))
}

/// Uses left = `max_redemptions − times_redeemed` (§5.4, [MAG]); a `max_redemptions` of 1000 or
/// more means unlimited, as does none. Negative counts and more uses than the maximum are
/// impossible values.
fn uses_left(max: Option<i64>, redeemed: Option<i64>) -> Conv<Option<u32>> {
    let used = match redeemed {
        Some(n) => count("times_redeemed", n)?,
        None => 0,
    };
    let Some(max) = max else { return Ok(None) };
    if max >= names::UNLIMITED_REDEMPTIONS {
        return Ok(None);
    }
    let max = count("max_redemptions", max)?;
    let left = max.checked_sub(used).ok_or_else(|| {
        ConversionError::new("times_redeemed", format!("{used} is above max_redemptions {max}"))
    })?;
    Ok(Some(left))
}

/// A card's `required_stamps` (at least one: a card that needs none has no reward to earn) and
/// the member's `stamps_collected` (none in K1), which never exceeds what the card needs (§5.5;
/// a full card is reset when its reward is taken, §7.3).
fn stamp_counts(required: Option<i64>, collected: Option<i64>) -> Conv<(u32, u32)> {
    let required = count(
        "required_stamps",
        required.ok_or_else(|| ConversionError::new("required_stamps", "missing"))?,
    )?;
    if required == 0 {
        return Err(ConversionError::new("required_stamps", "a stamp card needs at least one stamp"));
    }
    let collected = match collected {
        Some(n) => count("stamps_collected", n)?,
        None => 0,
    };
    if collected > required {
        return Err(ConversionError::new(
            "stamps_collected",
            format!("{collected} is above required_stamps {required}"),
        ));
    }
    Ok((required, collected))
}

/// A wire value with the [`OfferContext`] its conversion needs.
#[derive(Debug, Clone, Copy)]
pub struct InContext<'a, T>(pub &'a T, pub &'a OfferContext);

impl TryFrom<InContext<'_, MemberCouponResponse>> for Offer {
    type Error = ConversionError;

    fn try_from(InContext(w, ctx): InContext<'_, MemberCouponResponse>) -> Conv<Offer> {
        coupon_offer(w.clone(), ctx)
    }
}

/// Converts a coupon, moving its strings into the offer.
///
/// # Errors
/// The field that cannot cross the edge.
pub fn coupon_offer(w: MemberCouponResponse, ctx: &OfferContext) -> Conv<Offer> {
    let code = w.code.filter(|c| !c.is_empty()).ok_or_else(|| ConversionError::new("code", "missing"))?;
    let value = || {
        let v = w.discount_value.ok_or_else(|| ConversionError::new("discount_value", "missing"))?;
        if v.is_sign_negative() && !v.is_zero() {
            return Err(ConversionError::new("discount_value", format!("{v} is negative")));
        }
        Ok(v)
    };
    let discount = match &w.discount_type {
        Some(CouponDiscountType::Percentage) => {
            let percent = value()?;
            if percent > Decimal::ONE_HUNDRED {
                return Err(ConversionError::new("discount_value", format!("{percent} % is above 100 %")));
            }
            Discount::Percent(percent)
        }
        Some(CouponDiscountType::Fixed) => Discount::Fixed(
            // Major units in the store currency (§5.4); half-up for stray extra digits.
            Money::from_decimal(value()?, ctx.currency, Rounding::HalfUp)
                .map_err(|e| ConversionError::new("discount_value", e.to_string()))?,
        ),
        Some(CouponDiscountType::FreeShipping) => Discount::FreeShipping,
        Some(CouponDiscountType::NotDefined) | None => {
            return Err(ConversionError::new("discount_type", "no discount defined"));
        }
        Some(CouponDiscountType::Unknown(t)) => {
            return Err(ConversionError::new("discount_type", format!("unknown discount type {t:?}")));
        }
    };
    let products = w.product_ids.unwrap_or_default();
    // An empty product list means the whole basket (§5.4, [KB; I]).
    let scope = if products.is_empty() {
        Scope::Basket
    } else {
        Scope::Products(products.into_iter().map(Into::into).collect())
    };
    let (from, to) = validity(&w.valid_from, &w.valid_to, &ctx.time_zone)?;
    let uses_left = uses_left(w.max_redemptions, w.times_redeemed)?;
    let offer = Offer::new(
        [COUPON_PREFIX, &code].concat(),
        w.title.unwrap_or_else(|| code.clone()),
        OfferKind::Coupon { discount, scope },
    )
    .with_code(code.clone())
    .with_validity(from, to)
    .with_uses_left(uses_left)
    .with_reference(OfferRef::code(code));
    Ok(ends_on(offer, &w.valid_to, &ctx.time_zone))
}

impl TryFrom<InContext<'_, MemberStampCard>> for Offer {
    type Error = ConversionError;

    fn try_from(InContext(w, ctx): InContext<'_, MemberStampCard>) -> Conv<Offer> {
        stamp_card_offer(w.clone(), ctx)
    }
}

/// Converts a stamp card, moving its strings into the offer.
///
/// # Errors
/// The field that cannot cross the edge.
pub fn stamp_card_offer(w: MemberStampCard, ctx: &OfferContext) -> Conv<Offer> {
    let id = w.id.ok_or_else(|| ConversionError::new("id", "missing"))?;
    let (required, collected) = stamp_counts(w.required_stamps, w.stamps_collected)?;
    let card = CoreStampCard {
        required,
        collected,
        restartable: w.is_restartable.unwrap_or(false),
        products: w.product_ids.unwrap_or_default().into_iter().map(Into::into).collect(),
    };
    let (from, to) = validity(&w.valid_from, &w.valid_to, &ctx.time_zone)?;
    let id = id.to_string();
    let offer = Offer::new(
        [STAMP_PREFIX, &id].concat(),
        w.title.unwrap_or_else(|| format!("Stamp card {id}")),
        OfferKind::StampCard(card),
    )
    .with_validity(from, to)
    .with_reference(OfferRef::id(id));
    Ok(ends_on(offer, &w.valid_to, &ctx.time_zone))
}

// ------------------------------------------------------------------------------------------
// Conversions: domain → wire (failures are Invalid)

fn phone_checked(p: &CorePhone, field: &str) -> Conv<Phone> {
    if !p.is_well_formed() {
        return Err(ConversionError::new(
            field,
            "expected a dialling prefix and a national number, digits only",
        ));
    }
    Ok(Phone::from(p))
}

fn segment_value(a: &SegmentAnswer, at: usize) -> Conv<SegmentValue> {
    let id: i64 = a.segment_id.as_str().parse().map_err(|_| {
        ConversionError::new(format!("segments[{at}].segment_id"), "Diller segment ids are integers")
    })?;
    Ok(match &a.value {
        CoreSegmentValue::Text(t) => {
            SegmentValue { segment_id: id, value: Some(t.clone()), selected_options: None }
        }
        // Dates travel as YYYY-MM-DD, as Diller's module writes them (§5.2 SegmentValue, [MAG]).
        CoreSegmentValue::Date(d) => SegmentValue {
            segment_id: id,
            value: Some(d.format("%Y-%m-%d").to_string()),
            selected_options: None,
        },
        CoreSegmentValue::Choices(c) => SegmentValue {
            segment_id: id,
            value: None,
            selected_options: Some(
                c.iter()
                    .map(|o| {
                        o.parse::<i64>().map_err(|_| {
                            ConversionError::new(
                                format!("segments[{at}].value"),
                                "Diller option ids are integers",
                            )
                        })
                    })
                    .collect::<Conv<Vec<_>>>()?,
            ),
        },
    })
}

fn segment_values(answers: &[SegmentAnswer]) -> Conv<Vec<SegmentValue>> {
    answers.iter().enumerate().map(|(i, a)| segment_value(a, i)).collect()
}

/// Register input plus what the adapter adds (department default, origin).
#[derive(Debug, Clone)]
pub struct RegisterInput<'a> {
    /// The integrator's request.
    pub request: &'a RegisterMember,
    /// Department from the request or the config.
    pub department: Option<&'a str>,
    /// Origin to send.
    pub origin: Option<Origin>,
}

impl TryFrom<RegisterInput<'_>> for RegisterMemberRequest {
    type Error = ConversionError;

    fn try_from(input: RegisterInput<'_>) -> Conv<RegisterMemberRequest> {
        let r = input.request;
        // `phone` is the one required field of RegisterMemberRequest (§5.2).
        let phone = r
            .phone
            .as_ref()
            .ok_or_else(|| ConversionError::new("phone", "Diller requires a phone number"))?;
        Ok(RegisterMemberRequest {
            phone: phone_checked(phone, "phone")?,
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            email: r.email.clone(),
            additional_identifiers: r.identifiers.clone(),
            birth_date: r.birth_date.map(DillerDateTime::Date),
            gender: r.gender.map(Gender::from),
            address: r.address.as_ref().map(Address::from),
            consent: Some(MemberConsent::from(&r.consents)),
            department_ids: input.department.map(|d| vec![d.to_string()]).unwrap_or_default(),
            origin: input.origin,
            segments: segment_values(&r.segments)?,
        })
    }
}

/// Enroll input plus the department and origin the adapter adds.
#[derive(Debug, Clone)]
pub struct EnrollInput<'a> {
    /// The integrator's request.
    pub request: &'a EnrollMember,
    /// Department from the request or the config (required since 2024-06).
    pub department: Option<&'a str>,
    /// Origin to send.
    pub origin: Option<Origin>,
}

impl TryFrom<EnrollInput<'_>> for EnrollMemberRequest {
    type Error = ConversionError;

    fn try_from(input: EnrollInput<'_>) -> Conv<EnrollMemberRequest> {
        let r = input.request;
        let department = input.department.filter(|d| !d.is_empty()).ok_or_else(|| {
            ConversionError::new("department_id", "Diller requires a department to enroll (§4.2)")
        })?;
        let info = MemberAdditionalInfo {
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            email: r.email.clone(),
            address: None,
            additional_identifiers: Vec::new(),
        };
        let has_info = info != MemberAdditionalInfo::default();
        Ok(EnrollMemberRequest {
            phone: phone_checked(&r.phone, "phone")?,
            department_id: department.to_string(),
            origin: input.origin,
            additional_info: has_info.then_some(info),
        })
    }
}

impl TryFrom<&Member> for UpdateMemberRequest {
    type Error = ConversionError;

    /// The whole profile: M5 is a full replacement (§4.2), so every field is sent.
    fn try_from(m: &Member) -> Conv<UpdateMemberRequest> {
        Ok(UpdateMemberRequest {
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            email: m.email.clone(),
            birth_date: m.birth_date.map(DillerDateTime::Date),
            additional_identifiers: m.identifiers.clone(),
            gender: m.gender.map(Gender::from),
            address: m.address.as_ref().map(Address::from),
            consent: MemberConsent::from(&m.consents),
            department_ids: m.departments.iter().map(|d| d.as_str().to_string()).collect(),
            origin: None,
            segments: segment_values(&m.segments)?,
        })
    }
}

/// What a transaction needs besides the domain value.
#[derive(Debug, Clone)]
pub struct TransactionInput<'a> {
    /// The transaction.
    pub transaction: &'a Transaction,
    /// Department from the transaction or the config.
    pub department: Option<&'a str>,
    /// Origin.
    pub origin: Option<Origin>,
    /// The store's time zone, for `created_at`.
    pub time_zone: Tz,
}

fn amount(m: &Money) -> Option<Decimal> {
    Some(m.to_decimal())
}

fn stamp_id(reference: &str, field: &str) -> Conv<i64> {
    reference
        .strip_prefix(STAMP_PREFIX)
        .unwrap_or(reference)
        .parse()
        .map_err(|_| ConversionError::new(field, format!("{reference:?} is no Diller stamp card id")))
}

/// How far, in minor units, a line's net may be from `quantity × unit_price − discount` by
/// rounding alone: half a minor unit from rounding the sale's own line gross, and half from
/// each of the two rounded cumulative shares whose difference is a returned step's gross
/// (`loyalty_core` gives each step's amounts as differences of rounded shares, so the steps
/// add up exactly to what was paid). Anything further off is a mistake, refused.
const ROUNDING_MINOR_UNITS: Decimal = Decimal::from_parts(15, 0, 0, false, 1);

/// A line's `discount` and `total_price` on the wire (§5.6): what Diller checks,
/// `total_price = quantity × unit_price − discount`, must hold.
///
/// - Within less than a minor unit (weighed goods carry more digits than the currency), the
///   exact `quantity × unit_price − discount` is sent with the line's discount.
/// - One minor unit or more off, but within [`ROUNDING_MINOR_UNITS`] (a weighed line returned
///   in steps: `0.100 kg × 129.90 = 12.99` while the step refunds `13.00`), the net is sent
///   as `total_price`, so the amount booked is the one refunded, and the discount is rebuilt
///   as `quantity × unit_price − total_price` (here `-0.01`), so the line holds exactly.
///   The contract does not restrict the discount's sign; `unit_price` stays the price paid.
/// - Further off: the field at fault (`net`) and why.
fn line_amounts(
    l: &TransactionLine,
    currency: Currency,
) -> Result<(Decimal, Decimal), (&'static str, String)> {
    let gross = l
        .quantity
        .checked_mul(l.unit_price.to_decimal())
        .ok_or(("quantity", "quantity × unit_price is too large".to_string()))?;
    let discount = l.discount.to_decimal();
    let net = l.net.to_decimal();
    let exact = gross
        .checked_sub(discount)
        .ok_or(("quantity", "quantity × unit_price − discount is too large".to_string()))?;
    let minor_unit = Decimal::new(1, currency.exponent());
    let off = (exact - net).abs();
    if off < minor_unit {
        return Ok((discount, exact));
    }
    if off <= ROUNDING_MINOR_UNITS * minor_unit {
        let rebuilt = gross
            .checked_sub(net)
            .ok_or(("discount", "quantity × unit_price − net is too large".to_string()))?;
        return Ok((rebuilt, net));
    }
    Err(("net", format!("net {net} is not quantity × unit_price − discount = {exact}")))
}

fn line(l: &TransactionLine, at: usize, currency: Currency) -> Conv<TransactionDetailRequest<'_>> {
    let field = |f: &str| format!("lines[{at}].{f}");
    for (m, f) in [(&l.unit_price, "unit_price"), (&l.discount, "discount"), (&l.net, "net")] {
        if m.currency != currency {
            return Err(ConversionError::new(
                field(f),
                format!("currency {} differs from {currency}", m.currency),
            ));
        }
    }
    // total_price = quantity × unit_price − discount, exactly (§5.6, §6.4, checklist 21). A line
    // whose frozen net disagrees beyond rounding would be booked wrong at Diller, so it is
    // refused here.
    let (discount, total_price) =
        line_amounts(l, currency).map_err(|(f, reason)| ConversionError::new(field(f), reason))?;
    Ok(TransactionDetailRequest {
        product: ProductDetail {
            external_id: l.product_id.as_str(),
            sku: l.sku.as_deref(),
            name: l.name.as_deref(),
            ..ProductDetail::default()
        },
        quantity: Some(l.quantity),
        unit_price: amount(&l.unit_price),
        unit_measure: "",
        tax_percentage: l.tax_rate,
        discount: Some(discount),
        total_price: Some(total_price),
        stamp_cards: Vec::new(),
        coupon_codes: Vec::new(),
    })
}

impl<'a> TryFrom<TransactionInput<'a>> for CreateTransactionRequest<'a> {
    type Error = ConversionError;

    fn try_from(input: TransactionInput<'a>) -> Conv<CreateTransactionRequest<'a>> {
        let t = input.transaction;
        if t.id.as_str().is_empty() {
            return Err(ConversionError::new(
                "id",
                "the transaction id is required (it is Diller's external_id)",
            ));
        }
        // A negative transaction (a return without its original, NegativeTransaction style) is
        // sent as is: negative quantities keep total_price = quantity × unit_price − discount.
        let details =
            t.lines.iter().enumerate().map(|(i, l)| line(l, i, t.currency)).collect::<Conv<Vec<_>>>()?;
        let mut coupon_codes = Vec::new();
        for (i, u) in t.offers_used.iter().enumerate() {
            // A coupon is "used" by naming its code in coupon_codes (§4.3); stamp cards travel
            // as stamp movements instead.
            if u.offer_id.as_str().starts_with(STAMP_PREFIX) {
                continue;
            }
            // A coupon known only by its id (`coupon:<code>`) is used by its plain code.
            let code = u.code.as_deref().unwrap_or_else(|| match u.offer_ref.kind {
                RefKind::Id => u.offer_ref.value.strip_prefix(COUPON_PREFIX).unwrap_or(&u.offer_ref.value),
                RefKind::Code => &u.offer_ref.value,
            });
            if code.is_empty() {
                return Err(ConversionError::new(format!("offers_used[{i}].code"), "missing coupon code"));
            }
            if !coupon_codes.contains(&code) {
                coupon_codes.push(code);
            }
        }
        let stamp_cards = t
            .stamps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.count > 0)
            .map(|(i, s)| {
                Ok(StampCard {
                    stamp_card_id: stamp_id(&s.offer_ref.value, &format!("stamps[{i}].offer_ref"))?,
                    action: match s.action {
                        StampAction::Collected => StampCardAction::Collected,
                        StampAction::Deducted => StampCardAction::Deducted,
                    },
                    count: i64::from(s.count),
                })
            })
            .collect::<Conv<Vec<_>>>()?;
        Ok(CreateTransactionRequest {
            external_id: t.id.as_str(),
            external_receipt_id: None,
            created_at: local_date_time(t.at, &input.time_zone),
            payment_details: t
                .payments
                .iter()
                .map(|p| PaymentDetails { payment_method: &p.method, sub_total: amount(&p.amount) })
                .collect(),
            eft_pos: None,
            send_email_receipt: false,
            total: amount(&t.total),
            total_tax: None,
            total_discount: amount(&t.total_discount),
            currency: t.currency.code(),
            round_off_amount: None,
            origin: input.origin,
            coupon_codes,
            stamp_cards,
            details,
            department_id: input.department,
        })
    }
}

/// What a refund needs besides the domain value.
#[derive(Debug, Clone)]
pub struct RefundInput<'a> {
    /// The refund.
    pub refund: &'a Refund,
    /// Department.
    pub department: Option<&'a str>,
    /// Origin.
    pub origin: Option<Origin>,
    /// The store's time zone.
    pub time_zone: Tz,
}

impl<'a> TryFrom<RefundInput<'a>> for CreateRefundTransactionRequest<'a> {
    type Error = ConversionError;

    fn try_from(input: RefundInput<'a>) -> Conv<CreateRefundTransactionRequest<'a>> {
        let r = input.refund;
        let currency = r.total.currency;
        // Refund amounts are positive numbers describing what is returned (§5.6, [I]).
        if r.total.is_negative() || r.total.is_zero() {
            return Err(ConversionError::new("total", "a refund total is positive"));
        }
        let details =
            r.lines.iter().enumerate().map(|(i, l)| line(l, i, currency)).collect::<Conv<Vec<_>>>()?;
        let discount = Money::sum(currency, r.lines.iter().map(|l| l.discount))
            .map_err(|e| ConversionError::new("lines", e.to_string()))?;
        Ok(CreateRefundTransactionRequest {
            reason: r.reason.as_deref(),
            external_id: r.refund_id.as_str(),
            external_receipt_id: None,
            created_at: local_date_time(r.at, &input.time_zone),
            payment_details: Vec::new(),
            total: amount(&r.total),
            total_discount: amount(&discount),
            currency: r.total.currency.code(),
            origin: input.origin,
            details,
            department_id: input.department,
        })
    }
}

/// Collects the non-empty strings of an optional list (lenient reading helper).
pub fn strings(v: &Option<Vec<String>>) -> Vec<String> {
    v.iter().flatten().filter(|s| !s.is_empty()).cloned().collect()
}

/// Maps the store's segments, skipping none: an unreadable segment fails the reply.
pub fn segments(list: &[StoreSegmentResponse]) -> Conv<Vec<CoreSegment>> {
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            CoreSegment::try_from(s).map_err(|e| ConversionError::new(format!("[{i}].{}", e.field), e.reason))
        })
        .collect()
}

/// Department ids and names, for `loyalty setup`.
pub fn departments(list: &[StoreDepartmentResponse]) -> BTreeMap<String, String> {
    list.iter().filter_map(|d| Some((d.id.clone()?, d.name.clone().unwrap_or_default()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    /// A line of `quantity` at `unit_price` whose gross is `gross` and whose net is `net` (all
    /// in øre; the discount is the difference), as the core's returned steps give them.
    fn nok_line(quantity: &str, unit_price: i64, gross: i64, net: i64) -> TransactionLine {
        let mut l = TransactionLine::new(
            "l1",
            "CHEESE-1",
            quantity.parse().unwrap(),
            Money::new(unit_price, Currency::NOK),
            Money::new(gross, Currency::NOK),
        );
        l.discount = Money::new(gross - net, Currency::NOK);
        l.net = Money::new(net, Currency::NOK);
        l
    }

    #[test]
    fn a_line_total_is_quantity_times_unit_price_less_discount_within_rounding_only() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        // Weighed goods: 0.350 kg × 129.90 = 45.465, paid 45.47; sent exact, as before.
        let (discount, total) = line_amounts(&nok_line("0.350", 12990, 4547, 4547), Currency::NOK).unwrap();
        assert_eq!((discount, total), (d("0"), d("45.465")));
        // A returned step: 0.100 kg × 129.90 = 12.99 but the step refunds 13.00 (differences of
        // rounded shares). The refund is sent as is, the discount rebuilt: 12.99 − (−0.01) = 13.00.
        let (discount, total) = line_amounts(&nok_line("0.100", 12990, 1300, 1300), Currency::NOK).unwrap();
        assert_eq!((discount, total), (d("-0.01"), d("13.00")));
        // As a negative transaction: −0.100 × 129.90 − 0.01 = −13.00.
        let (discount, total) =
            line_amounts(&nok_line("-0.100", 12990, -1300, -1300), Currency::NOK).unwrap();
        assert_eq!((discount, total), (d("0.01"), d("-13.00")));
        // With a discount: 0.100 × 129.90 − 1.00 = 11.99 against a net of 12.00.
        let (discount, total) = line_amounts(&nok_line("0.100", 12990, 1300, 1200), Currency::NOK).unwrap();
        assert_eq!(d("0.100") * d("129.90") - discount, total);
        assert_eq!(total, d("12.00"));
        // Further off than rounding can take a line: a mistake, refused naming the net.
        for net in [1302, 1297, 2000] {
            let (field, reason) =
                line_amounts(&nok_line("0.100", 12990, net, net), Currency::NOK).unwrap_err();
            assert_eq!(field, "net", "{net}: {reason}");
        }
    }

    #[derive(Serialize, Deserialize)]
    struct Amount {
        #[serde(with = "opt_number")]
        v: Option<Decimal>,
    }

    fn read(json: &str) -> Option<Decimal> {
        serde_json::from_str::<Amount>(json).unwrap().v
    }

    #[test]
    fn decimal_is_written_as_a_json_number_in_major_units() {
        let v = Amount { v: Some(Money::new(34900, Currency::NOK).to_decimal()) };
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"v":349.0}"#);
        let v = Amount { v: Some(Decimal::from_str("199.50").unwrap()) };
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"v":199.5}"#);
        let v = Amount { v: Some(Decimal::from(2)) };
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"v":2.0}"#);
    }

    #[test]
    fn a_decimal_a_double_cannot_hold_is_refused_not_rounded() {
        // Written through a double these would be 1.2345678901234568e16 and 6.865533333333333.
        for text in ["12345678901234567.89", "6.86553333333333333"] {
            let v = Amount { v: Some(Decimal::from_str(text).unwrap()) };
            let err = serde_json::to_string(&v).unwrap_err().to_string();
            assert!(err.contains("more digits than a JSON number"), "{text}: {err}");
        }
        let v = Amount { v: Some(Decimal::from_str("123456789012.34").unwrap()) };
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"v":123456789012.34}"#);
    }

    #[test]
    fn numbers_are_read_without_float_arithmetic() {
        assert_eq!(read(r#"{"v":0.1}"#), Some(Decimal::from_str("0.1").unwrap()));
        assert_eq!(read(r#"{"v":349}"#), Some(Decimal::from(349)));
        assert_eq!(read(r#"{"v":"349.0000"}"#), Some(Decimal::from_str("349.0000").unwrap()));
        assert_eq!(read(r#"{"v":1e3}"#), Some(Decimal::from(1000)));
        assert_eq!(read(r#"{"v":null}"#), None);
    }

    #[test]
    fn a_number_a_double_may_have_changed_is_refused_not_read_as_a_neighbour() {
        // Arrive as the doubles 12345678901234568 and 0.30000000000000004.
        for body in [r#"{"v":12345678901234567.89}"#, r#"{"v":0.30000000000000004}"#, r#"{"v":1e400}"#] {
            let err = serde_json::from_str::<Amount>(body).map(|a| a.v).unwrap_err().to_string();
            assert!(err.contains("JSON number") || err.contains("out of range"), "{body}: {err}");
        }
        assert_eq!(read(r#"{"v":123456789012.345}"#), Some(Decimal::from_str("123456789012.345").unwrap()));
    }

    #[test]
    fn date_times_parse_in_every_documented_form() {
        let tz = chrono_tz::Europe::Oslo;
        let want = Utc.with_ymd_and_hms(2024, 2, 20, 13, 3, 11).unwrap();
        for text in [
            "2024-02-20T14:03:11+01:00",
            "2024-02-20T13:03:11Z",
            "2024-02-20T14:03:11",
            "2024-02-20T14:03:11+0100",
        ] {
            assert_eq!(DillerDateTime::parse(text).to_utc(&tz, false), Some(want), "{text}");
        }
        let frac = DillerDateTime::parse("2024-02-20T13:03:11.1234567Z").to_utc(&tz, false).unwrap();
        assert_eq!(frac.timestamp(), want.timestamp());
        assert_eq!(DillerDateTime::parse("1990-05-17").date(), NaiveDate::from_ymd_opt(1990, 5, 17));
        assert!(matches!(DillerDateTime::parse("yesterday"), DillerDateTime::Unparsed(_)));
    }

    #[test]
    fn date_only_valid_to_ends_at_the_end_of_the_day_in_the_store_zone() {
        let tz = chrono_tz::Europe::Oslo;
        let end = DillerDateTime::parse("2026-06-30").to_utc(&tz, true).unwrap();
        assert_eq!(end.with_timezone(&tz).day(), 30);
        assert_eq!(
            end,
            Utc.with_ymd_and_hms(2026, 6, 30, 21, 59, 59).unwrap() + chrono::Duration::milliseconds(999)
        );
        // Winter time: Oslo is UTC+1, so the day ends an hour later in UTC (DST-aware).
        let winter = DillerDateTime::parse("2026-01-15").to_utc(&tz, true).unwrap();
        assert_eq!(
            winter,
            Utc.with_ymd_and_hms(2026, 1, 15, 22, 59, 59).unwrap() + chrono::Duration::milliseconds(999)
        );
    }

    #[test]
    fn a_skipped_local_time_is_the_first_instant_after_the_gap_however_long() {
        // Santiago springs forward at midnight (2024-09-08 00:00 -04 → 01:00 -03): the day, and
        // a validity starting on it, begins at 01:00 local.
        let santiago = chrono_tz::America::Santiago;
        let start = DillerDateTime::parse("2024-09-08").to_utc(&santiago, false);
        assert_eq!(start, Some(Utc.with_ymd_and_hms(2024, 9, 8, 4, 0, 0).unwrap()));
        // Samoa skipped 2011-12-30 entirely (23:59:59 -10 → 00:00 +14 on the 31st).
        let apia = chrono_tz::Pacific::Apia;
        let noon = DillerDateTime::parse("2011-12-30T12:00:00").to_utc(&apia, true);
        assert_eq!(noon, Some(Utc.with_ymd_and_hms(2011, 12, 30, 10, 0, 0).unwrap()));
    }

    #[test]
    fn unknown_enum_values_are_kept() {
        let g: Gender = serde_json::from_str("\"Robot\"").unwrap();
        assert_eq!(g, Gender::Unknown("Robot".into()));
        let d: CouponDiscountType = serde_json::from_str("\"percentage\"").unwrap();
        assert_eq!(d, CouponDiscountType::Percentage);
        assert_eq!(serde_json::to_string(&StampCardAction::Collected).unwrap(), "\"collected\"");
    }

    #[test]
    fn numbers_read_as_their_json_text_reads() {
        // Integers skip the text; the decimal must be the same, scale included.
        for json in
            ["0", "42", "-7", "18446744073709551615", "-9223372036854775808", "1.50", "1e3", "-0", "0.1"]
        {
            let read = opt_number::deserialize(&mut serde_json::Deserializer::from_str(json)).unwrap();
            let number: serde_json::Number = serde_json::from_str(json).unwrap();
            let by_text = number_text_to_decimal(&number.to_string());
            assert_eq!(read, by_text, "{json}");
            assert_eq!(read.map(|d| d.to_string()), by_text.map(|d| d.to_string()), "{json}");
        }
    }

    #[test]
    fn date_times_are_read_from_strings_only() {
        let d: DillerDateTime = serde_json::from_str(r#""2024-02-20T14:03:11+01:00""#).unwrap();
        assert_eq!(d.date(), NaiveDate::from_ymd_opt(2024, 2, 20));
        let d: DillerDateTime = serde_json::from_str(r#""2024-02-20\u0054""#).unwrap();
        assert!(matches!(d, DillerDateTime::Unparsed(t) if t == "2024-02-20T"));
        let err = serde_json::from_str::<DillerDateTime>("20240220").unwrap_err();
        let string_err = serde_json::from_str::<String>("20240220").unwrap_err();
        assert_eq!(err.to_string(), string_err.to_string());
    }

    #[test]
    fn date_times_are_written_as_the_sdk_writes_them() {
        // PHP DATE_ATOM for instants (§6.3); bare dates and local times as they came.
        let write = |d: DillerDateTime| serde_json::to_string(&d).unwrap();
        let at = DateTime::parse_from_rfc3339("2024-02-20T14:03:11.250+01:00").unwrap();
        assert_eq!(write(DillerDateTime::Offset(at)), r#""2024-02-20T14:03:11+01:00""#);
        let utc = DateTime::parse_from_rfc3339("2024-02-20T13:03:11Z").unwrap();
        assert_eq!(write(DillerDateTime::Offset(utc)), r#""2024-02-20T13:03:11+00:00""#);
        assert_eq!(write(DillerDateTime::Local(at.naive_local())), r#""2024-02-20T14:03:11""#);
        assert_eq!(write(DillerDateTime::Date(at.date_naive())), r#""2024-02-20""#);
        assert_eq!(write(DillerDateTime::Unparsed("soon".into())), r#""soon""#);
    }

    #[test]
    fn enum_values_that_are_not_text_are_kept_as_their_json() {
        // Numeric values are possible at an ASP.NET server (§5.9 [I]); anything else is kept too.
        for (json, kept) in [("2", "2"), ("-1", "-1"), ("1.5", "1.5"), ("true", "true"), ("null", "null")] {
            let g: Gender = serde_json::from_str(json).unwrap();
            assert_eq!(g, Gender::Unknown(kept.into()), "{json}");
        }
        let g: Gender = serde_json::from_str(r#"{"b": [1, "x"], "a": null}"#).unwrap();
        assert_eq!(g, Gender::Unknown(r#"{"a":null,"b":[1,"x"]}"#.into()));
        let g: Gender = serde_json::from_str(r#""Fe\u006dale""#).unwrap();
        assert_eq!(g, Gender::Female, "escaped text is read like plain text");
        let g: Gender = serde_json::from_value(serde_json::json!("male")).unwrap();
        assert_eq!(g, Gender::Male);
    }

    fn ctx() -> OfferContext {
        OfferContext { time_zone: chrono_tz::Europe::Oslo, currency: Currency::NOK }
    }

    #[test]
    fn year_2100_valid_to_means_no_end_date() {
        let w: MemberCouponResponse = serde_json::from_str(
            r#"{"id":5521,"code":"SUMMER10","title":"10 %","valid_from":"2024-06-01T00:00:00+02:00",
                "valid_to":"2100-01-01T00:00:00+01:00","type":"Standard","discount_type":"Percentage",
                "discount_value":10.0,"max_redemptions":1,"product_ids":[],"times_redeemed":0}"#,
        )
        .unwrap();
        let o = Offer::try_from(InContext(&w, &ctx())).unwrap();
        assert_eq!(o.valid_to, None);
        assert_eq!(o.id.as_str(), "coupon:SUMMER10");
        assert_eq!(o.uses_left, Some(1));
        assert_eq!(
            o.kind,
            OfferKind::Coupon { discount: Discount::Percent(Decimal::from(10)), scope: Scope::Basket }
        );
    }

    #[test]
    fn fixed_coupon_is_money_in_the_store_currency_and_1000_uses_is_unlimited() {
        let w: MemberCouponResponse = serde_json::from_str(
            r#"{"code":"FIXED50","title":"50 kr","valid_from":"2025-01-01T00:00:00+01:00",
                "valid_to":"2026-01-01T00:00:00+01:00","type":"Welcome","discount_type":"Fixed",
                "discount_value":50,"max_redemptions":1000,"product_ids":["coffee-500"],"times_redeemed":3}"#,
        )
        .unwrap();
        let o = Offer::try_from(InContext(&w, &ctx())).unwrap();
        assert_eq!(o.uses_left, None);
        assert_eq!(
            o.kind,
            OfferKind::Coupon {
                discount: Discount::Fixed(Money::new(5000, Currency::NOK)),
                scope: Scope::Products(vec!["coffee-500".into()]),
            }
        );
        assert!(o.valid_to.is_some());
    }

    #[test]
    fn free_shipping_coupon_decodes_to_the_free_shipping_discount() {
        // Checklist 24: `discount_type` travels as the exact string "FreeShipping"; no
        // `discount_value` is needed for it.
        let w: MemberCouponResponse = serde_json::from_str(
            r#"{"id":5530,"code":"FREESHIP","title":"Free shipping","valid_from":"2024-06-01T00:00:00+02:00",
                "valid_to":"2100-01-01T00:00:00+01:00","type":"Public","discount_type":"FreeShipping",
                "max_redemptions":1,"product_ids":[],"times_redeemed":0}"#,
        )
        .unwrap();
        assert_eq!(w.discount_type, Some(CouponDiscountType::FreeShipping));
        let o = Offer::try_from(InContext(&w, &ctx())).unwrap();
        assert_eq!(o.kind, OfferKind::Coupon { discount: Discount::FreeShipping, scope: Scope::Basket });
        assert_eq!(o.code.as_deref(), Some("FREESHIP"));
        // The other three values keep their exact wire strings both ways.
        for (text, want) in [
            ("NotDefined", CouponDiscountType::NotDefined),
            ("Percentage", CouponDiscountType::Percentage),
            ("Fixed", CouponDiscountType::Fixed),
            ("FreeShipping", CouponDiscountType::FreeShipping),
        ] {
            let json = format!("\"{text}\"");
            assert_eq!(serde_json::from_str::<CouponDiscountType>(&json).unwrap(), want);
            assert_eq!(serde_json::to_string(&want).unwrap(), json);
        }
    }

    #[test]
    fn coupon_without_code_is_a_conversion_error() {
        let w: MemberCouponResponse =
            serde_json::from_str(r#"{"id":1,"discount_type":"Percentage"}"#).unwrap();
        assert_eq!(Offer::try_from(InContext(&w, &ctx())).unwrap_err().field, "code");
    }

    #[test]
    fn member_maps_consents_segments_and_points() {
        let w: MemberResponse = serde_json::from_str(
            r#"{"id":"m_Ao1bPoZRRV7Y","first_name":"Kari","phone":{"country_code":"+47","number":"41234567"},
                "birth_date":"1990-05-17T00:00:00+02:00","gender":"Female",
                "consent":{"gdpr_accepted":true,"save_order_history":false,"receive_sms":true,"receive_email":false},
                "membership_detail":{"points":250.0,"level_title":"Member"},
                "segments":[{"id":4,"type":"Checkbox","selected_options":[41,42]},
                            {"id":2,"type":"DateTime","value":"2020-06-01"}],
                "traceId":"ignored"}"#,
        )
        .unwrap();
        let m = Member::try_from(&w).unwrap();
        assert_eq!(
            m.consents,
            Consents { membership: true, order_history: false, marketing_sms: true, marketing_email: false }
        );
        assert_eq!(m.birth_date, NaiveDate::from_ymd_opt(1990, 5, 17));
        assert_eq!(m.points, Some(Decimal::from(250)));
        assert_eq!(m.tier.as_deref(), Some("Member"));
        assert_eq!(m.segments[0].value, CoreSegmentValue::Choices(vec!["41".into(), "42".into()]));
        assert_eq!(m.segments[1].value, CoreSegmentValue::Date(NaiveDate::from_ymd_opt(2020, 6, 1).unwrap()));
        assert_eq!(m.phone.unwrap().e164(), "+4741234567");
    }

    #[test]
    fn member_without_id_is_a_conversion_error() {
        let w: MemberResponse = serde_json::from_str(r#"{"gender":"Male"}"#).unwrap();
        assert_eq!(Member::try_from(&w).unwrap_err().field, "id");
    }

    /// The number helpers as they read before they had their own visitors: through a
    /// `serde_json::Value`. The visitors must accept, refuse and word errors the same.
    mod through_value {
        use super::*;

        pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
            let v = Option::<serde_json::Value>::deserialize(d)?;
            match v {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::Number(n)) if n.is_i64() => Ok(n.as_i64().map(Decimal::from)),
                Some(serde_json::Value::Number(n)) if n.is_u64() => Ok(n.as_u64().map(Decimal::from)),
                Some(serde_json::Value::Number(n)) => n
                    .as_f64()
                    .map(loyalty_core::money::decimal_from_double)
                    .transpose()
                    .map_err(serde::de::Error::custom),
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
                    number_text_to_decimal(s.trim())
                        .map(Some)
                        .ok_or_else(|| serde::de::Error::custom(format!("not a decimal: {s:?}")))
                }
                Some(serde_json::Value::String(_)) => Ok(None),
                Some(other) => Err(serde::de::Error::custom(format!("expected a number, got {other}"))),
            }
        }

        pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
            match number(d)? {
                None => Ok(None),
                Some(x) if x.fract().is_zero() => i64::try_from(x)
                    .map(Some)
                    .map_err(|_| serde::de::Error::custom(format!("integer out of range: {x}"))),
                Some(x) => Err(serde::de::Error::custom(format!("expected an integer, got {x}"))),
            }
        }
    }

    #[test]
    fn number_visitors_read_as_a_value_did() {
        #[derive(Debug, Deserialize)]
        struct Now {
            #[serde(default, deserialize_with = "opt_number::deserialize")]
            n: Option<Decimal>,
            #[serde(default, deserialize_with = "opt_int::deserialize")]
            i: Option<i64>,
        }
        #[derive(Debug, Deserialize)]
        struct Before {
            #[serde(default, deserialize_with = "through_value::number")]
            n: Option<Decimal>,
            #[serde(default, deserialize_with = "through_value::int")]
            i: Option<i64>,
        }
        let values = [
            "0",
            "-0",
            "7",
            "-7",
            "3.0",
            "3.5",
            "-2.25",
            "349.0",
            "1e3",
            "1.5E-2",
            "-1e400",
            "1e400",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "-9223372036854775808",
            "-9223372036854775809",
            "0.1",
            "123456789012345678901234567890",
            "1e-30",
            "null",
            "true",
            "false",
            r#""""#,
            r#""  ""#,
            r#"" 12.50 ""#,
            r#""1e2""#,
            r#""x""#,
            r#""3.0""#,
            r#""-4""#,
            "[]",
            "[1,2]",
            r#"{"a":1}"#,
            "{}",
            r#""\u0031""#,
        ];
        for v in values {
            for field in ["n", "i"] {
                let json = format!(r#"{{"{field}":{v}}}"#);
                let now = serde_json::from_str::<Now>(&json).map(|x| (x.n, x.i)).map_err(|e| e.to_string());
                let before =
                    serde_json::from_str::<Before>(&json).map(|x| (x.n, x.i)).map_err(|e| e.to_string());
                assert_eq!(now, before, "{json}");
                let tracked = |json: &str, now: bool| {
                    let mut de = serde_json::Deserializer::from_str(json);
                    if now {
                        serde_path_to_error::deserialize::<_, Now>(&mut de).map(|x| (x.n, x.i))
                    } else {
                        serde_path_to_error::deserialize::<_, Before>(&mut de).map(|x| (x.n, x.i))
                    }
                    .map_err(|e| format!("{}: {}", e.path(), e.inner()))
                };
                assert_eq!(tracked(&json, true), tracked(&json, false), "{json}");
                if let (Ok((Some(a), _)), Ok((Some(b), _))) = (&now, &before) {
                    assert_eq!(a.scale(), b.scale(), "{json}");
                }
            }
        }
    }

    #[test]
    fn unread_text_accepts_and_refuses_as_a_string_field() {
        #[derive(Debug, Deserialize)]
        struct Now {
            #[allow(dead_code)]
            #[serde(default)]
            t: UnreadText,
        }
        #[derive(Debug, Deserialize)]
        struct Before {
            #[allow(dead_code)]
            #[serde(default)]
            t: Option<String>,
        }
        let values = [
            r#""""#,
            r#""x""#,
            r#""a\"b\u00e9""#,
            "null",
            "0",
            "-1",
            "1.5",
            "true",
            "[]",
            r#"["x"]"#,
            "{}",
            r#"{"a":"b"}"#,
            r#""\ud800""#,
            "nul",
        ];
        for v in values {
            let json = format!(r#"{{"t":{v}}}"#);
            let now = serde_json::from_str::<Now>(&json).map(drop);
            let before = serde_json::from_str::<Before>(&json).map(drop);
            assert_eq!(now.map_err(|e| e.to_string()), before.map_err(|e| e.to_string()), "{json}");
        }
        assert!(serde_json::from_str::<Now>("{}").is_ok());
    }

    #[test]
    fn usual_dates_read_as_chrono_reads_them() {
        let mut inputs: Vec<String> = [
            "2024-01-31T12:00:00+01:00",
            "2024-01-31T12:00:00Z",
            "2024-01-31T12:00:00z",
            "2024-01-31t12:00:00Z",
            "2024-01-31T12:00:00-00:00",
            "2024-01-31T12:00:00+23:59",
            "2024-01-31T12:00:00+24:00",
            "2024-01-31T12:00:00+05:60",
            "2024-01-31T23:59:60+01:00",
            "2024-01-31T24:00:00+01:00",
            "2024-02-30T12:00:00+01:00",
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "0000-01-01",
            "9999-12-31T23:59:59-23:59",
            "2024-01-31",
            "2024-1-31",
            "2024-01-31T12:00:00.5+01:00",
            "2024-01-31T12:00+01:00",
            "2024-01-31 12:00:00+01:00",
            "2024-01-31T12:00:00+0100",
            "2024-01-31T12:00:00",
            "2024-01-31T12:00:00+01",
            "+2024-01-31",
            "2024-01-3a",
            "２０２４-01-31",
            "2024-01-31T12:00:00+01:00x",
            "",
            "2100-01-01T00:00:00+01:00",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // A spread of valid and invalid calendar values in both usual forms.
        for (y, m, d, h, mi, s, oh, om) in
            [(1970, 1, 1, 0, 0, 0, 0, 0), (2024, 2, 29, 23, 59, 59, 14, 0), (2023, 4, 31, 7, 5, 9, 3, 30)]
        {
            for sign in ['+', '-'] {
                inputs.push(format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}{sign}{oh:02}:{om:02}"));
            }
            inputs.push(format!("{y:04}-{m:02}-{d:02}"));
        }
        for t in &inputs {
            let any = format!("{:?}", DillerDateTime::parse_any(t, t.trim()));
            if let Some(usual) = DillerDateTime::parse_usual(t) {
                assert_eq!(format!("{usual:?}"), any, "{t}");
            }
            assert_eq!(format!("{:?}", DillerDateTime::parse(t)), any, "{t}");
        }
        assert!(DillerDateTime::parse_usual("2024-01-31T12:00:00+01:00").is_some());
        assert!(DillerDateTime::parse_usual("2024-01-31T12:00:00Z").is_some());
        assert!(DillerDateTime::parse_usual("2024-01-31").is_some());
    }

    #[test]
    fn usual_offset_text_is_what_chrono_writes() {
        let mut checked = 0;
        for text in [
            "2024-01-31T12:00:00+01:00",
            "2024-01-31T12:00:00.123456789-05:30",
            "0000-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59-23:59",
            "1970-01-01T00:00:00Z",
            "2024-06-30T23:59:60+00:00",
            "2024-02-29T07:08:09+14:00",
            "2024-02-29T07:08:09-00:45",
        ] {
            let dt = DateTime::parse_from_rfc3339(text).unwrap();
            let chrono = dt.format_with_items(OFFSET_FORMAT.iter()).to_string();
            if let Some(usual) = usual_offset_text(&dt) {
                assert_eq!(std::str::from_utf8(&usual).unwrap(), chrono, "{text}");
                checked += 1;
            }
            let json = serde_json::to_string(&DillerDateTime::Offset(dt)).unwrap();
            assert_eq!(json, format!("{chrono:?}"), "{text}");
        }
        assert_eq!(checked, 7);
        for (offset, year) in [(3661, 2024), (0, 10_000), (0, -1)] {
            let dt = FixedOffset::east_opt(offset)
                .unwrap()
                .from_local_datetime(
                    &NaiveDate::from_ymd_opt(year, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap(),
                )
                .unwrap();
            assert!(usual_offset_text(&dt).is_none());
            let chrono = dt.format_with_items(OFFSET_FORMAT.iter()).to_string();
            assert_eq!(serde_json::to_string(&DillerDateTime::Offset(dt)).unwrap(), format!("{chrono:?}"));
        }
    }
}
