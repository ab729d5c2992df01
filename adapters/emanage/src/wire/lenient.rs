//! Reading eManage bodies leniently, as the vendor writes them (§4, §10): member names in
//! camelCase or PascalCase (any letter case), numbers as JSON numbers or numeric strings,
//! `null` as absent, unknown members ignored. Every failure names the field.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::{Conv, ConversionError};

/// Parses a whole body as JSON.
pub(crate) fn parse(bytes: &[u8], what: &str) -> Conv<Value> {
    serde_json::from_slice(bytes).map_err(|e| ConversionError::new(what, format!("not JSON: {e}")))
}

/// A decimal from a JSON number or a numeric string (§4: the addendum sends `"100"`).
///
/// JSON numbers with a fraction or an exponent arrive as doubles and are read through their
/// shortest decimal text, which is exact up to 15 significant digits; a number with more, or
/// 2⁵³ and above, is refused rather than rounded ([`loyalty_core::money::decimal_from_double`]).
pub(crate) fn decimal(v: &Value, field: &str) -> Conv<Decimal> {
    let text = match v {
        Value::Number(n) => match n.as_f64() {
            Some(double) if n.is_f64() => {
                return loyalty_core::money::decimal_from_double(double)
                    .map_err(|reason| ConversionError::new(field, reason));
            }
            _ => n.to_string(),
        },
        Value::String(s) => s.trim().to_string(),
        other => return Err(ConversionError::new(field, format!("expected a number, got {other}"))),
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| ConversionError::new(field, format!("{text:?} is not a number")))
}

/// An integer from a JSON number or a numeric string; `3.0` counts, `3.5` does not.
pub(crate) fn integer(v: &Value, field: &str) -> Conv<i64> {
    let d = decimal(v, field)?;
    if !d.fract().is_zero() {
        return Err(ConversionError::new(field, format!("expected a whole number, got {d}")));
    }
    i64::try_from(d).map_err(|_| ConversionError::new(field, format!("{d} is out of range")))
}

/// An id that may come as a string or a number (`orderNumber`, `shoppingCartNumber`, §4).
pub(crate) fn id_text(v: &Value, field: &str) -> Conv<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(ConversionError::new(field, format!("expected an id, got {other}"))),
    }
}

/// A JSON object seen through the vendor's loose member names, with its path for errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Obj<'a> {
    /// `v` as an object, or a conversion error naming `path`.
    pub(crate) fn of(v: &'a Value, path: &'a str) -> Conv<Obj<'a>> {
        match v {
            Value::Object(map) => Ok(Obj { map, path }),
            other => Err(ConversionError::new(
                if path.is_empty() { "body" } else { path },
                format!("expected an object, got {}", kind(other)),
            )),
        }
    }

    /// The field path of member `name`.
    pub(crate) fn field(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// Member `name` in any letter case; `null` counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        let v = self
            .map
            .get(name)
            .or_else(|| self.map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))?;
        (!v.is_null()).then_some(v)
    }

    /// A required decimal.
    pub(crate) fn req_decimal(&self, name: &str) -> Conv<Decimal> {
        let field = self.field(name);
        decimal(self.get(name).ok_or_else(|| ConversionError::new(&field, "missing"))?, &field)
    }

    /// An optional decimal.
    pub(crate) fn decimal(&self, name: &str) -> Conv<Option<Decimal>> {
        self.get(name).map(|v| decimal(v, &self.field(name))).transpose()
    }

    /// A required integer.
    pub(crate) fn req_int(&self, name: &str) -> Conv<i64> {
        let field = self.field(name);
        integer(self.get(name).ok_or_else(|| ConversionError::new(&field, "missing"))?, &field)
    }

    /// A required product or line id: an integer above zero (§4: ids are positive integers).
    pub(crate) fn req_id(&self, name: &str) -> Conv<i64> {
        let id = self.req_int(name)?;
        if id <= 0 {
            return Err(ConversionError::new(
                self.field(name),
                format!("{id} is no id (ids are above zero)"),
            ));
        }
        Ok(id)
    }

    /// An optional integer.
    pub(crate) fn int(&self, name: &str) -> Conv<Option<i64>> {
        self.get(name).map(|v| integer(v, &self.field(name))).transpose()
    }

    /// An optional id (string or number).
    pub(crate) fn id(&self, name: &str) -> Conv<Option<String>> {
        self.get(name).map(|v| id_text(v, &self.field(name))).transpose()
    }

    /// An optional string; an empty string counts as absent (clients test `actionUrl` so, §6.3).
    pub(crate) fn text(&self, name: &str) -> Conv<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => {
                Err(ConversionError::new(self.field(name), format!("expected text, got {}", kind(other))))
            }
        }
    }

    /// An optional boolean (`true`, `false`, or their text).
    pub(crate) fn boolean(&self, name: &str) -> Conv<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => {
                Err(ConversionError::new(self.field(name), format!("expected true or false, got {other}")))
            }
        }
    }

    /// An optional array.
    pub(crate) fn array(&self, name: &str) -> Conv<Option<&'a Vec<Value>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => {
                Err(ConversionError::new(self.field(name), format!("expected a list, got {}", kind(other))))
            }
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_and_numeric_strings_read_alike() {
        assert_eq!(decimal(&json!(100), "p").unwrap(), Decimal::from(100));
        assert_eq!(decimal(&json!("100"), "p").unwrap(), Decimal::from(100));
        assert_eq!(decimal(&json!(33.33), "p").unwrap(), Decimal::new(3333, 2));
        assert_eq!(decimal(&json!(" 16.66 "), "p").unwrap(), Decimal::new(1666, 2));
        assert_eq!(integer(&json!("918325"), "p").unwrap(), 918_325);
        assert_eq!(integer(&json!(3.0), "p").unwrap(), 3);
        assert_eq!(integer(&json!(3.5), "p").unwrap_err().field, "p");
    }

    #[test]
    fn a_number_too_long_to_be_exact_is_refused() {
        let v: Value = serde_json::from_str("0.12345678901234567").unwrap();
        assert!(decimal(&v, "price").is_err());
        // 2^53 and above: not every integer there is a double.
        let v: Value = serde_json::from_str("12345678901234567.0").unwrap();
        assert!(decimal(&v, "price").unwrap_err().reason.contains("too large"));
    }

    #[test]
    fn member_names_match_in_any_letter_case_and_null_is_absent() {
        let v = json!({"ProductId": 1, "price": null, "Value": "2"});
        let o = Obj::of(&v, "products[0]").unwrap();
        assert_eq!(o.req_int("productId").unwrap(), 1);
        assert_eq!(o.decimal("price").unwrap(), None);
        assert_eq!(o.req_decimal("value").unwrap(), Decimal::from(2));
        assert_eq!(o.req_decimal("missing").unwrap_err().field, "products[0].missing");
    }
}
