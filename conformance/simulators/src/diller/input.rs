//! Strict, hand-written validation of request bodies (parsed as `serde_json::Value`), so every
//! error can be reported under its JSON field path the way ASP.NET model binding does (§5.8).

use std::{collections::BTreeMap, str::FromStr};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// Field path → messages, the `errors` member of problem details.
pub(crate) type FieldErrors = BTreeMap<String, Vec<String>>;

/// A JSON object (the body or a nested model).
pub(crate) type Obj = Map<String, Value>;

/// Collects field errors while reading a body.
#[derive(Debug, Default)]
pub(crate) struct Check {
    pub errors: FieldErrors,
    /// Enum input in any casing (§7.5 setting).
    pub any_casing: bool,
}

/// Joins a parent path and a key: `phone` + `number` = `phone.number`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A present, non-null member of `obj`.
fn get<'a>(obj: &'a Obj, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

impl Check {
    pub fn new(any_casing: bool) -> Self {
        Self { errors: FieldErrors::new(), any_casing }
    }

    pub fn err(&mut self, path: &str, msg: impl Into<String>) {
        self.errors.entry(path.to_string()).or_default().push(msg.into());
    }

    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    fn type_err(&mut self, path: &str, want: &str) {
        self.err(path, format!("The JSON value could not be converted to {want}."));
    }

    pub fn required(&mut self, path: &str) {
        let name = path.rsplit('.').next().unwrap_or(path);
        self.err(path, format!("The {name} field is required."));
    }

    /// An optional string member.
    pub fn str(&mut self, obj: &Obj, key: &str, path: &str) -> Option<String> {
        match get(obj, key)? {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.type_err(&join(path, key), "System.String");
                None
            }
        }
    }

    /// A required, non-empty string member.
    pub fn req_str(&mut self, obj: &Obj, key: &str, path: &str) -> Option<String> {
        match self.str(obj, key, path) {
            Some(s) if !s.trim().is_empty() => Some(s),
            Some(_) => {
                self.required(&join(path, key));
                None
            }
            None => {
                if get(obj, key).is_none() {
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
                self.type_err(&join(path, key), "System.Boolean");
                None
            }
        }
    }

    /// An optional int32 member.
    pub fn int(&mut self, obj: &Obj, key: &str, path: &str) -> Option<i64> {
        let v = get(obj, key)?;
        match v.as_i64().filter(|n| i32::try_from(*n).is_ok()) {
            Some(n) => Some(n),
            None => {
                self.type_err(&join(path, key), "System.Int32");
                None
            }
        }
    }

    /// An optional decimal member: a JSON number, or a numeric string (ASP.NET web defaults read
    /// numbers from strings, §7.1 item 8). Parsed from the number's text, never through f64.
    pub fn dec(&mut self, obj: &Obj, key: &str, path: &str) -> Option<Decimal> {
        let v = get(obj, key)?;
        let parsed = match v {
            Value::Number(n) => parse_decimal(&n.to_string()),
            Value::String(s) => parse_decimal(s.trim()),
            _ => None,
        };
        if parsed.is_none() {
            self.type_err(&join(path, key), "System.Double");
        }
        parsed
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

    pub fn arr<'a>(&mut self, obj: &'a Obj, key: &str, path: &str) -> Option<&'a Vec<Value>> {
        match get(obj, key)? {
            Value::Array(a) => Some(a),
            _ => {
                self.type_err(&join(path, key), "an array");
                None
            }
        }
    }

    pub fn str_list(&mut self, obj: &Obj, key: &str, path: &str) -> Option<Vec<String>> {
        let a = self.arr(obj, key, path)?;
        let mut out = Vec::new();
        for (i, v) in a.iter().enumerate() {
            match v.as_str() {
                Some(s) => out.push(s.to_string()),
                None => self.type_err(&format!("{}[{i}]", join(path, key)), "System.String"),
            }
        }
        Some(out)
    }

    pub fn int_list(&mut self, obj: &Obj, key: &str, path: &str) -> Option<Vec<i64>> {
        let a = self.arr(obj, key, path)?;
        let mut out = Vec::new();
        for (i, v) in a.iter().enumerate() {
            match v.as_i64() {
                Some(n) => out.push(n),
                None => self.type_err(&format!("{}[{i}]", join(path, key)), "System.Int32"),
            }
        }
        Some(out)
    }

    /// An optional enum member, returned in its canonical spelling.
    pub fn enumeration(
        &mut self,
        obj: &Obj,
        key: &str,
        path: &str,
        allowed: &[&'static str],
    ) -> Option<&'static str> {
        let s = self.str(obj, key, path)?;
        let found =
            allowed.iter().copied().find(|a| *a == s || (self.any_casing && a.eq_ignore_ascii_case(&s)));
        if found.is_none() {
            self.err(&join(path, key), format!("The JSON value '{s}' is not one of {}.", allowed.join(", ")));
        }
        found
    }

    /// A required `Phone` member (§5.1): both parts required, `+` and digits only.
    pub fn phone(&mut self, obj: &Obj, key: &str, path: &str) -> Option<(String, String)> {
        let p = join(path, key);
        let Some(o) = self.obj(obj, key, path) else {
            if get(obj, key).is_none() {
                self.required(&p);
            }
            return None;
        };
        self.phone_obj(o, &p)
    }

    /// Validates a `Phone` object found at `p`.
    pub fn phone_obj(&mut self, o: &Obj, p: &str) -> Option<(String, String)> {
        let cc = self.req_str(o, "country_code", p);
        let num = self.req_str(o, "number", p);
        let (cc, num) = (cc?, num?);
        let cc_ok = cc.len() >= 2 && cc.starts_with('+') && cc[1..].chars().all(|c| c.is_ascii_digit());
        if !cc_ok {
            self.err(&join(p, "country_code"), "Expected '+' followed by digits, e.g. '+47'.");
        }
        if !num.chars().all(|c| c.is_ascii_digit()) {
            self.err(&join(p, "number"), "Expected digits only.");
        }
        (cc_ok && num.chars().all(|c| c.is_ascii_digit())).then_some((cc, num))
    }

    /// An optional `date-time` member; accepts a bare date too (§6.3). Returns it normalised
    /// to RFC 3339 with an offset.
    pub fn date_time(&mut self, obj: &Obj, key: &str, path: &str) -> Option<String> {
        let s = self.str(obj, key, path)?;
        let out = normalise_date_time(&s);
        if out.is_none() {
            self.err(&join(path, key), format!("The JSON value '{s}' is not a valid date-time."));
        }
        out
    }

    /// An optional `yyyy-MM-dd` member that must be a real date.
    pub fn date(&mut self, obj: &Obj, key: &str, path: &str) -> Option<NaiveDate> {
        let s = self.str(obj, key, path)?;
        let d = (s.len() == 10).then(|| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()).flatten();
        if d.is_none() {
            self.err(&join(path, key), format!("'{s}' is not a date in yyyy-MM-dd format."));
        }
        d
    }
}

/// Parses a decimal from its text (plain or exponent form).
pub(crate) fn parse_decimal(s: &str) -> Option<Decimal> {
    Decimal::from_str(s).ok().or_else(|| Decimal::from_scientific(s).ok())
}

/// Accepts `yyyy-MM-dd`, RFC 3339 (offset or `Z`, optional fraction) and a date-time without an
/// offset (read as UTC, a simulator decision); returns RFC 3339.
pub(crate) fn normalise_date_time(s: &str) -> Option<String> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.to_rfc3339());
    }
    if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(d.and_utc().fixed_offset().to_rfc3339());
    }
    if s.len() == 10 {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().fixed_offset().to_rfc3339());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Obj {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn phone_without_number_is_reported_under_its_path() {
        let mut c = Check::new(true);
        let o = obj(json!({"phone": {"country_code": "+47"}}));
        assert!(c.phone(&o, "phone", "").is_none());
        assert!(c.errors.contains_key("phone.number"));
    }

    #[test]
    fn decimal_is_read_from_number_text() {
        let mut c = Check::new(true);
        let o = obj(json!({"a": 349.1, "b": 349, "c": "349.0000", "d": true}));
        assert_eq!(c.dec(&o, "a", ""), Some(Decimal::new(3491, 1)));
        assert_eq!(c.dec(&o, "b", ""), Some(Decimal::new(349, 0)));
        assert_eq!(c.dec(&o, "c", ""), Some(Decimal::new(349, 0)));
        assert_eq!(c.dec(&o, "d", ""), None);
        assert!(c.errors.contains_key("d"));
    }

    #[test]
    fn enum_casing_follows_setting() {
        let o = obj(json!({"gender": "male"}));
        let mut lenient = Check::new(true);
        assert_eq!(lenient.enumeration(&o, "gender", "", &["Male"]), Some("Male"));
        let mut strict = Check::new(false);
        assert_eq!(strict.enumeration(&o, "gender", "", &["Male"]), None);
    }

    #[test]
    fn date_time_accepts_every_iso_form() {
        for s in [
            "1990-05-17",
            "2024-02-20T14:03:11+01:00",
            "2024-02-20T14:03:11Z",
            "2024-02-20T14:03:11.123Z",
            "2024-02-20T14:03:11",
        ] {
            assert!(normalise_date_time(s).is_some(), "{s}");
        }
        assert!(normalise_date_time("17.05.1990").is_none());
    }
}
