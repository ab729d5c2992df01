//! Lenient reading of request bodies and query strings, the way an ASP.NET Web API binds them
//! (the eManage contract §4, §10): keys in any letter case, numbers as JSON numbers or numeric
//! strings, unknown members ignored. Problems are collected per field into a `modelState`.

use std::{collections::BTreeMap, collections::HashMap, str::FromStr};

use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// Field name → reasons, the `modelState` member of a 400 body (§10).
pub(crate) type ModelState = BTreeMap<String, Vec<String>>;

/// A JSON object (the body or a nested model).
pub(crate) type Obj = Map<String, Value>;

/// A parsed query string; see [`query`] for the case-insensitive lookup.
pub(crate) type Params = HashMap<String, String>;

/// Joins a parent path and a key: `shippingAddress` + `zipCode` = `shippingAddress.zipCode`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A present, non-null member, its key matched exactly first and then in any letter case
/// (`Product` / `product`, §6.4 row 1; PascalCase bodies, §6.3).
pub(crate) fn member<'a>(obj: &'a Obj, key: &str) -> Option<&'a Value> {
    obj.get(key)
        .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
        .filter(|v| !v.is_null())
}

/// A non-empty query value, its name matched in any letter case (ASP.NET binds query parameters
/// case-insensitively).
pub(crate) fn query<'a>(q: &'a Params, name: &str) -> Option<&'a str> {
    q.get(name)
        .or_else(|| q.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// A GUID in any of the usual text forms (`D`, `N`, `B`; any letter case), returned in the
/// lower-case hyphenated form the simulator stores (§3: web keys are seen in both cases).
pub(crate) fn guid(s: &str) -> Option<String> {
    let t = s.trim().trim_start_matches('{').trim_end_matches('}');
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    let hyphens_ok = !t.contains('-') || [8, 13, 18, 23].iter().all(|i| t.as_bytes().get(*i) == Some(&b'-'));
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) || !hyphens_ok || t.len() > 36 {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]))
}

/// Parses a decimal from its text (plain or exponent form), never through `f64`.
pub(crate) fn parse_decimal(s: &str) -> Option<Decimal> {
    Decimal::from_str(s).ok().or_else(|| Decimal::from_scientific(s).ok())
}

/// An integer from a JSON number or a numeric string; a fractional value is not an integer.
fn int_value(v: &Value) -> Option<i64> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    let d = parse_decimal(&text)?;
    if d.fract() != Decimal::ZERO {
        return None;
    }
    i64::try_from(d).ok()
}

/// Collects `modelState` entries while reading a body.
#[derive(Debug, Default)]
pub(crate) struct Check {
    pub errors: ModelState,
}

impl Check {
    pub fn err(&mut self, path: &str, msg: impl Into<String>) {
        self.errors.entry(path.to_string()).or_default().push(msg.into());
    }

    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn required(&mut self, path: &str) {
        let name = path.rsplit('.').next().unwrap_or(path);
        self.err(path, format!("The {name} field is required."));
    }

    fn not_valid(&mut self, path: &str, v: &Value) {
        let name = path.rsplit('.').next().unwrap_or(path);
        let shown = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.err(path, format!("The value '{shown}' is not valid for {name}."));
    }

    /// An optional integer member (number or numeric string).
    pub fn int(&mut self, obj: &Obj, key: &str, path: &str) -> Option<i64> {
        let v = member(obj, key)?;
        let n = int_value(v);
        if n.is_none() {
            self.not_valid(&join(path, key), v);
        }
        n
    }

    /// A required integer member.
    pub fn req_int(&mut self, obj: &Obj, key: &str, path: &str) -> Option<i64> {
        if member(obj, key).is_none() {
            self.required(&join(path, key));
            return None;
        }
        self.int(obj, key, path)
    }

    /// An optional decimal member (number or numeric string), read from its text.
    pub fn dec(&mut self, obj: &Obj, key: &str, path: &str) -> Option<Decimal> {
        let v = member(obj, key)?;
        let d = match v {
            Value::Number(n) => parse_decimal(&n.to_string()),
            Value::String(s) => parse_decimal(s.trim()),
            _ => None,
        };
        if d.is_none() {
            self.not_valid(&join(path, key), v);
        }
        d
    }

    /// An optional string member; numbers and booleans are taken as their text, as Json.NET
    /// does when binding a string property.
    pub fn str(&mut self, obj: &Obj, key: &str, path: &str) -> Option<String> {
        match member(obj, key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                self.not_valid(&join(path, key), other);
                None
            }
        }
    }

    /// A required, non-blank string member.
    pub fn req_str(&mut self, obj: &Obj, key: &str, path: &str) -> Option<String> {
        match self.str(obj, key, path) {
            Some(s) if !s.trim().is_empty() => Some(s),
            Some(_) => {
                self.required(&join(path, key));
                None
            }
            None => {
                if member(obj, key).is_none() {
                    self.required(&join(path, key));
                }
                None
            }
        }
    }

    /// An optional boolean member (`true`/`false`, also as strings).
    pub fn bool(&mut self, obj: &Obj, key: &str, path: &str) -> Option<bool> {
        let v = member(obj, key)?;
        let b = match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        };
        if b.is_none() {
            self.not_valid(&join(path, key), v);
        }
        b
    }

    /// An optional object member.
    pub fn obj<'a>(&mut self, obj: &'a Obj, key: &str, path: &str) -> Option<&'a Obj> {
        match member(obj, key)? {
            Value::Object(o) => Some(o),
            other => {
                self.not_valid(&join(path, key), other);
                None
            }
        }
    }

    /// A required object member.
    pub fn req_obj<'a>(&mut self, obj: &'a Obj, key: &str, path: &str) -> Option<&'a Obj> {
        if member(obj, key).is_none() {
            self.required(&join(path, key));
            return None;
        }
        self.obj(obj, key, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Obj {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn keys_match_in_any_case() {
        let o = obj(json!({"ProductId": "918325", "QUANTITY": 2}));
        let mut c = Check::default();
        assert_eq!(c.req_int(&o, "productId", ""), Some(918_325));
        assert_eq!(c.req_int(&o, "quantity", ""), Some(2));
        assert!(c.ok());
    }

    #[test]
    fn numbers_come_as_numbers_or_strings_never_fractions_for_integers() {
        let o = obj(json!({"a": "100", "b": 33.33, "c": "1.5", "d": "x", "e": 2.0}));
        let mut c = Check::default();
        assert_eq!(c.dec(&o, "a", ""), Some(Decimal::new(100, 0)));
        assert_eq!(c.dec(&o, "b", ""), Some(Decimal::new(3333, 2)));
        assert_eq!(c.int(&o, "c", ""), None);
        assert_eq!(c.dec(&o, "d", ""), None);
        assert_eq!(c.int(&o, "e", ""), Some(2));
        assert_eq!(c.errors.keys().collect::<Vec<_>>(), ["c", "d"]);
    }

    #[test]
    fn missing_required_member_is_named() {
        let mut c = Check::default();
        c.req_int(&obj(json!({"productId": null})), "productId", "product");
        assert_eq!(c.errors["product.productId"], ["The productId field is required."]);
    }

    #[test]
    fn guid_forms_normalise_to_lower_hyphenated() {
        let want = Some("0f8fad5b-d9cb-469f-a165-70867728950e".to_string());
        assert_eq!(guid("0F8FAD5B-D9CB-469F-A165-70867728950E"), want);
        assert_eq!(guid("{0f8fad5b-d9cb-469f-a165-70867728950e}"), want);
        assert_eq!(guid("0f8fad5bd9cb469fa16570867728950e"), want);
        assert_eq!(guid("0f8fad5b-d9cb-469f-a165-70867728950"), None);
        assert_eq!(guid("not-a-guid"), None);
    }

    #[test]
    fn query_names_match_in_any_case_and_blank_is_absent() {
        let q: Params = [("SessionId".to_string(), "x".to_string()), ("productId".into(), " ".into())].into();
        assert_eq!(query(&q, "sessionId"), Some("x"));
        assert_eq!(query(&q, "productId"), None);
    }
}
