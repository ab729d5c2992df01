//! Lenient reading of what SessionM sends (sessionm.md "How to use this document": status
//! strings in any case, unknown fields ignored, both spellings where two exist), and exact
//! writing of what we send. Pure functions; no I/O, no clock.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::names;

/// True for a successful `status`, in any case (§3.2: `"OK"` on POS, `"ok"` elsewhere).
pub(crate) fn is_ok(status: &str) -> bool {
    status.trim().eq_ignore_ascii_case(names::STATUS_OK)
}

/// A number SessionM sends: a JSON number, read from its text into a decimal (never through
/// arithmetic on floats), or a numeric string (\[I\] tolerance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Num(pub Decimal);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(Decimal::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                // The double's shortest text is the digits the vendor wrote for any amount of
                // up to 15 significant digits; one with more may have been changed, so it is
                // refused rather than read as a neighbouring amount.
                loyalty_core::money::decimal_from_double(v).map(Num).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                parse_decimal(v.trim()).map(Num).ok_or_else(|| E::custom(format!("{v:?} is not a number")))
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_decimal(s: &str) -> Option<Decimal> {
    Decimal::from_str(s).ok().or_else(|| Decimal::from_scientific(s).ok())
}

/// A flag: a JSON boolean or the strings `"true"` / `"false"` (one client sends `opted_in` as
/// a string, §5.7 \[K\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                match v.trim() {
                    t if t.eq_ignore_ascii_case("true") => Ok(Flag(true)),
                    t if t.eq_ignore_ascii_case("false") => Ok(Flag(false)),
                    _ => Err(E::custom(format!("{v:?} is not a boolean"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A point in time SessionM wrote: an instant, or a calendar day without a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Moment {
    /// A date-time; offset-less ones are read in the store's zone.
    At(DateTime<Utc>),
    /// A date only (valid until the end of that day in the store's zone).
    Day(NaiveDate),
}

/// Reads an ISO-8601 timestamp with or without `Z` or an offset, with up to 7 (any) fractional
/// digits (§5 \[K\], checklist 26), or a bare `YYYY-MM-DD`. An offset-less date-time is read in
/// `zone`; `None` for anything else.
pub(crate) fn parse_time(text: &str, zone: Tz) -> Option<Moment> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(Moment::At(d.with_timezone(&Utc)));
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f") {
        // A local time that does not exist (a DST gap) is refused rather than guessed.
        return zone.from_local_datetime(&naive).earliest().map(|d| Moment::At(d.with_timezone(&Utc)));
    }
    if t.len() == 10 {
        return NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().map(Moment::Day);
    }
    None
}

/// `2026-01-15T12:00:00.0000000Z`: seven fractional digits and `Z`, as SessionM's .NET stack
/// writes them (§5 \[K\]), so 100 ns steps between versions survive the wire.
pub(crate) fn format_time(t: DateTime<Utc>) -> String {
    format!("{}{:07}Z", t.format("%Y-%m-%dT%H:%M:%S."), t.timestamp_subsec_nanos() / 100)
}

/// A decimal as a JSON number for the wire (§5: amounts are JSON numbers in major units,
/// `1.0`, `0.7`). `None` when the value would not read back exactly (more than about 15
/// significant digits), so no amount is ever sent rounded.
pub(crate) fn number(d: Decimal) -> Option<serde_json::Number> {
    let f = d.to_f64()?;
    let n = serde_json::Number::from_f64(f)?;
    (parse_decimal(&f.to_string())? == d).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(json: &str) -> Decimal {
        serde_json::from_str::<Num>(json).unwrap().0
    }

    #[test]
    fn numbers_read_from_their_text() {
        assert_eq!(num("0.7"), Decimal::new(7, 1));
        assert_eq!(num("33.65"), Decimal::new(3365, 2));
        assert_eq!(num("129"), Decimal::from(129));
        assert_eq!(num("\"50.0\""), Decimal::new(500, 1));
        assert!(serde_json::from_str::<Num>("\"fifty\"").is_err());
        assert!(serde_json::from_str::<Num>("true").is_err());
    }

    #[test]
    fn a_number_a_double_may_have_changed_is_refused() {
        // Arrive as the doubles 12345678901234568 and 0.30000000000000004.
        for json in ["12345678901234567.89", "0.30000000000000004"] {
            let err = serde_json::from_str::<Num>(json).unwrap_err().to_string();
            assert!(err.contains("JSON number"), "{json}: {err}");
        }
        assert_eq!(num("123456789012.345"), Decimal::new(123_456_789_012_345, 3));
    }

    #[test]
    fn status_is_ok_in_any_case() {
        for s in ["OK", "ok", "Ok", " ok "] {
            assert!(is_ok(s), "{s}");
        }
        assert!(!is_ok("error"));
        assert!(!is_ok("okay"));
    }

    // Checklist 26: timestamps with and without `Z`, up to 7 fractional digits.
    #[test]
    fn timestamps_parse_with_and_without_zone_and_seven_digits() {
        let utc = |s| match parse_time(s, Tz::UTC) {
            Some(Moment::At(t)) => t,
            other => panic!("{s}: {other:?}"),
        };
        let z = utc("2026-01-15T12:00:00Z");
        assert_eq!(utc("2026-01-15T12:00:00"), z);
        assert_eq!(utc("2026-01-15T12:00:00.0000000"), z);
        assert_eq!(utc("2026-01-15T13:00:00+01:00"), z);
        assert_eq!(utc("2026-01-15T12:00:00.1234567Z").timestamp_subsec_nanos(), 123_456_700);
        assert_eq!(parse_time("2026-12-31", Tz::UTC), NaiveDate::from_ymd_opt(2026, 12, 31).map(Moment::Day));
        assert_eq!(parse_time("15.01.2026", Tz::UTC), None);
    }

    #[test]
    fn offset_less_times_are_read_in_the_store_zone() {
        let oslo = parse_time("2026-01-15T13:00:00", chrono_tz::Europe::Oslo);
        assert_eq!(oslo, Some(Moment::At(Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap())));
    }

    #[test]
    fn times_are_written_with_seven_digits_and_z() {
        let t = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap() + chrono::Duration::nanoseconds(100);
        assert_eq!(format_time(t), "2026-01-15T12:00:00.0000001Z");
    }

    #[test]
    fn numbers_are_written_exactly_or_not_at_all() {
        assert_eq!(serde_json::to_string(&number(Decimal::new(12900, 2)).unwrap()).unwrap(), "129.0");
        assert_eq!(serde_json::to_string(&number(Decimal::new(3365, 2)).unwrap()).unwrap(), "33.65");
        assert!(number(Decimal::from_str("1234567890.1234567890123").unwrap()).is_none());
    }
}
