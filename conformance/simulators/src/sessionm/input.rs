//! Strict, hand-written validation of request bodies (parsed as `serde_json::Value`), so every
//! problem is reported under its JSON path (`request_payload.transaction.items[0].quantity`),
//! the per-field validation entries the SessionM contract §5.8 expects in POS errors.
//!
//! Simulator decisions: JSON `null` counts as absent (the observed .NET clients serialise unset
//! members as `null`, §5 \[K\]); amounts are JSON numbers only (the contract types them as
//! "number", §5), read from the number's text, never through f64 arithmetic.

use std::{collections::BTreeMap, str::FromStr};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::settings::UnknownFields;

/// Field path → messages.
pub(crate) type FieldErrors = BTreeMap<String, Vec<String>>;

/// A JSON object (a body or a nested model).
pub(crate) type Obj = Map<String, Value>;

/// Joins a parent path and a key: `request_payload` + `transaction`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `items` + 2 = `items[2]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

fn get<'a>(obj: &'a Obj, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// Collects field errors while reading a body.
#[derive(Debug)]
pub(crate) struct Check {
    pub errors: FieldErrors,
    unknown: UnknownFields,
}

impl Check {
    pub fn new(unknown: UnknownFields) -> Self {
        Self { errors: FieldErrors::new(), unknown }
    }

    pub fn err(&mut self, path: &str, msg: impl Into<String>) {
        self.errors.entry(path.to_string()).or_default().push(msg.into());
    }

    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    fn required(&mut self, path: &str) {
        self.err(path, "is required");
    }

    fn type_err(&mut self, path: &str, want: &str) {
        self.err(path, format!("must be {want}"));
    }

    /// Reports members of `obj` not in `known` (per the `unknown_fields` setting).
    pub fn known(&mut self, obj: &Obj, path: &str, known: &[&str]) {
        if self.unknown == UnknownFields::Ignore {
            return;
        }
        for k in obj.keys().filter(|k| !known.contains(&k.as_str())) {
            self.err(&join(path, k), "is not a known field");
        }
    }

    pub fn str(&mut self, obj: &Obj, key: &str, path: &str) -> Option<String> {
        match get(obj, key)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.type_err(&join(path, key), "a string");
                None
            }
        }
    }

    /// A required, non-blank string.
    pub fn req_str(&mut self, obj: &Obj, key: &str, path: &str) -> Option<String> {
        let present = get(obj, key).is_some();
        match self.str(obj, key, path) {
            Some(s) if !s.trim().is_empty() => Some(s),
            Some(_) => {
                self.required(&join(path, key));
                None
            }
            None => {
                if !present {
                    self.required(&join(path, key));
                }
                None
            }
        }
    }

    pub fn bool(&mut self, obj: &Obj, key: &str, path: &str) -> Option<bool> {
        match get(obj, key)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.type_err(&join(path, key), "a boolean");
                None
            }
        }
    }

    /// A boolean, or the strings `"true"`/`"false"` (one Core client sends `opted_in` as a
    /// string, §5.7 \[K\]).
    pub fn loose_bool(&mut self, obj: &Obj, key: &str, path: &str) -> Option<bool> {
        match get(obj, key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => {
                self.type_err(&join(path, key), "a boolean");
                None
            }
        }
    }

    pub fn int(&mut self, obj: &Obj, key: &str, path: &str) -> Option<i64> {
        let v = get(obj, key)?;
        let n = v.as_i64();
        if n.is_none() {
            self.type_err(&join(path, key), "an integer");
        }
        n
    }

    /// An optional decimal: a JSON number, read from its text.
    pub fn dec(&mut self, obj: &Obj, key: &str, path: &str) -> Option<Decimal> {
        let v = get(obj, key)?;
        let d = v.as_number().and_then(|n| parse_decimal(&n.to_string()));
        if d.is_none() {
            self.type_err(&join(path, key), "a number");
        }
        d
    }

    /// An optional decimal that must not be negative (§7.6 \[G\]: no negative amounts).
    pub fn amount(&mut self, obj: &Obj, key: &str, path: &str) -> Option<Decimal> {
        let d = self.dec(obj, key, path)?;
        if d.is_sign_negative() && !d.is_zero() {
            self.err(&join(path, key), "must not be negative");
            return None;
        }
        Some(d)
    }

    /// A required, non-negative decimal.
    pub fn req_amount(&mut self, obj: &Obj, key: &str, path: &str) -> Option<Decimal> {
        if get(obj, key).is_none() {
            self.required(&join(path, key));
            return None;
        }
        self.amount(obj, key, path)
    }

    pub fn obj<'a>(&mut self, obj: &'a Obj, key: &str, path: &str) -> Option<&'a Obj> {
        match get(obj, key)? {
            Value::Object(o) => Some(o),
            _ => {
                self.type_err(&join(path, key), "an object");
                None
            }
        }
    }

    pub fn req_obj<'a>(&mut self, obj: &'a Obj, key: &str, path: &str) -> Option<&'a Obj> {
        if get(obj, key).is_none() {
            self.required(&join(path, key));
            return None;
        }
        self.obj(obj, key, path)
    }

    pub fn arr<'a>(&mut self, obj: &'a Obj, key: &str, path: &str) -> Option<&'a Vec<Value>> {
        match get(obj, key)? {
            Value::Array(a) => Some(a),
            _ => {
                self.type_err(&join(path, key), "an array");
                None
            }
        }
    }

    /// Each element of an array member that must hold objects, with its path.
    pub fn objects<'a>(&mut self, obj: &'a Obj, key: &str, path: &str) -> Vec<(String, &'a Obj)> {
        let p = join(path, key);
        let mut out = Vec::new();
        for (i, v) in self.arr(obj, key, path).into_iter().flatten().enumerate() {
            match v {
                Value::Object(o) => out.push((index(&p, i), o)),
                _ => self.type_err(&index(&p, i), "an object"),
            }
        }
        out
    }

    pub fn str_list(&mut self, obj: &Obj, key: &str, path: &str) -> Option<Vec<String>> {
        let a = self.arr(obj, key, path)?;
        let p = join(path, key);
        let mut out = Vec::new();
        for (i, v) in a.iter().enumerate() {
            match v.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.type_err(&index(&p, i), "a string"),
            }
        }
        Some(out)
    }

    pub fn dec_list(&mut self, obj: &Obj, key: &str, path: &str) -> Option<Vec<Decimal>> {
        let a = self.arr(obj, key, path)?;
        let p = join(path, key);
        let mut out = Vec::new();
        for (i, v) in a.iter().enumerate() {
            match v.as_number().and_then(|n| parse_decimal(&n.to_string())) {
                Some(d) => out.push(d),
                None => self.type_err(&index(&p, i), "a number"),
            }
        }
        Some(out)
    }

    /// An optional ISO-8601 timestamp; returns the text as sent and the instant.
    pub fn time(&mut self, obj: &Obj, key: &str, path: &str) -> Option<(String, DateTime<Utc>)> {
        let s = self.str(obj, key, path)?;
        match parse_time(&s) {
            Some(t) => Some((s, t)),
            None => {
                self.err(&join(path, key), "must be an ISO-8601 timestamp");
                None
            }
        }
    }

    pub fn req_time(&mut self, obj: &Obj, key: &str, path: &str) -> Option<(String, DateTime<Utc>)> {
        if get(obj, key).is_none() {
            self.required(&join(path, key));
            return None;
        }
        self.time(obj, key, path)
    }

    /// An optional `YYYY-MM-DD` date.
    pub fn date(&mut self, obj: &Obj, key: &str, path: &str) -> Option<NaiveDate> {
        let s = self.str(obj, key, path)?;
        let d = (s.len() == 10).then(|| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()).flatten();
        if d.is_none() {
            self.err(&join(path, key), "must be a date in YYYY-MM-DD format");
        }
        d
    }
}

/// Parses a decimal from its text (plain or exponent form).
pub(crate) fn parse_decimal(s: &str) -> Option<Decimal> {
    Decimal::from_str(s).ok().or_else(|| Decimal::from_scientific(s).ok())
}

/// Accepts RFC 3339 (offset or `Z`) and a date-time without offset (read as UTC, a simulator
/// decision), with any number of fractional digits up to 9 (the contract shows up to 7, §5).
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|d| d.and_utc())
}

pub(crate) use crate::clock::plus_secs;

/// `2026-01-15T12:00:00Z`: the form the simulator writes for offer dates.
pub(crate) fn fmt_z(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2026-01-15T12:00:00.0000000Z`: seven fractional digits, as .NET writes them (§5 \[K\]).
pub(crate) fn fmt_7z(t: DateTime<Utc>) -> String {
    format!("{}{:07}Z", t.format("%Y-%m-%dT%H:%M:%S."), t.timestamp_subsec_nanos() / 100)
}

/// `2026-01-15T12:00:00.0000000`: seven fractional digits and no zone, as the stored
/// transaction model's dates appear (§4.5; the contract shows timestamps without `Z`, §5).
pub(crate) fn fmt_7(t: DateTime<Utc>) -> String {
    format!("{}{:07}", t.format("%Y-%m-%dT%H:%M:%S."), t.timestamp_subsec_nanos() / 100)
}

/// A decimal as a JSON number (major units, §5). Output only, never arithmetic.
pub(crate) fn num(d: Decimal) -> Value {
    let s = d.normalize().to_string();
    serde_json::from_str::<Value>(&s).unwrap_or(Value::Null)
}

/// A money amount as a JSON number with at least one decimal (`1.0`, `0.7`, §5 \[K\]).
pub(crate) fn money(d: Decimal) -> Value {
    let s = d.normalize().to_string();
    let s = if s.contains('.') { s } else { format!("{s}.0") };
    serde_json::from_str::<Value>(&s).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Obj {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn null_counts_as_absent() {
        let mut c = Check::new(UnknownFields::Reject);
        assert_eq!(c.str(&obj(json!({"a": null})), "a", ""), None);
        assert!(c.ok());
        assert_eq!(c.req_str(&obj(json!({"a": null})), "a", "x"), None);
        assert!(c.errors.contains_key("x.a"));
    }

    #[test]
    fn amounts_are_numbers_read_from_text() {
        let mut c = Check::new(UnknownFields::Reject);
        let o = obj(json!({"a": 0.7, "b": 129, "c": "1.0", "d": -1.5}));
        assert_eq!(c.amount(&o, "a", ""), Some(Decimal::new(7, 1)));
        assert_eq!(c.amount(&o, "b", ""), Some(Decimal::new(129, 0)));
        assert_eq!(c.amount(&o, "c", ""), None);
        assert_eq!(c.amount(&o, "d", ""), None);
        assert_eq!(c.errors.len(), 2);
    }

    #[test]
    fn timestamps_with_and_without_zone_and_seven_digits_parse() {
        for s in ["2026-01-15T12:00:00Z", "2026-01-15T12:00:00.1234567", "2026-01-15T13:00:00+01:00"] {
            assert!(parse_time(s).is_some(), "{s}");
        }
        assert!(parse_time("15.01.2026").is_none());
    }

    #[test]
    fn seven_digit_formats() {
        let t = parse_time("2026-01-15T12:00:00.1234567Z").unwrap();
        assert_eq!(fmt_7z(t), "2026-01-15T12:00:00.1234567Z");
        assert_eq!(fmt_7(t), "2026-01-15T12:00:00.1234567");
    }

    #[test]
    fn unknown_members_follow_setting() {
        let o = obj(json!({"known": 1, "cuurency": "NOK"}));
        let mut strict = Check::new(UnknownFields::Reject);
        strict.known(&o, "p", &["known"]);
        assert!(strict.errors.contains_key("p.cuurency"));
        let mut lenient = Check::new(UnknownFields::Ignore);
        lenient.known(&o, "p", &["known"]);
        assert!(lenient.ok());
    }

    #[test]
    fn plus_secs_saturates_instead_of_panicking() {
        let t = parse_time("2026-01-15T12:00:00Z").unwrap();
        assert_eq!(plus_secs(t, 900), parse_time("2026-01-15T12:15:00Z").unwrap());
        assert_eq!(plus_secs(t, u64::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(plus_secs(t, i64::MAX as u64 / 1000), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn money_keeps_a_decimal_point() {
        assert_eq!(money(Decimal::new(5000, 2)).to_string(), "50.0");
        assert_eq!(money(Decimal::new(7, 1)).to_string(), "0.7");
        assert_eq!(num(Decimal::new(250, 0)).to_string(), "250");
    }
}
