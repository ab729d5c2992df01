//! The POS request container (§3.1), the `{status, payload, errors}` response container of POS
//! and Connect (§3.2, §4.1), Core's `{status, user, errors}` (§6), and the error objects inside
//! them (§5.8).

use serde::Serialize;
use serde_json::Value;

use super::lenient::is_ok;
use super::ConversionError;
use crate::names;

/// The container every POS call sends (§3.1 \[D\]).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PosRequest<'a, P: Serialize> {
    pub store_id: &'a str,
    pub client_id: &'a str,
    /// Built once per logical call, so the transport's retries repeat it (§7.5).
    pub request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culture: Option<&'a str>,
    pub request_payload: P,
}

/// The body as a JSON object, or why not.
fn object(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, ConversionError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(ConversionError::new("body", "is not a JSON object")),
        Err(e) => Err(ConversionError::new("body", format!("is not JSON: {e}"))),
    }
}

/// Checks `status` (required, OK in any case, §3.2) and returns the rest of the reply.
fn succeeded(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, ConversionError> {
    let o = object(bytes)?;
    match o.get("status") {
        Some(Value::String(s)) if is_ok(s) => Ok(o),
        Some(Value::String(s)) => Err(ConversionError::new("status", format!("is {s:?}, not OK"))),
        Some(_) => Err(ConversionError::new("status", "is not a string")),
        None => Err(ConversionError::new("status", "is missing")),
    }
}

/// A successful POS or Connect reply's `payload`; `None` when absent (unlock and reinstate
/// answer without one, §3.6, §3.8). JSON `null` counts as absent.
pub(crate) fn payload(bytes: &[u8]) -> Result<Option<Value>, ConversionError> {
    let mut o = succeeded(bytes)?;
    Ok(o.remove("payload").filter(|v| !v.is_null()))
}

/// A successful reply's `payload`, which must be there.
pub(crate) fn required_payload(bytes: &[u8]) -> Result<Value, ConversionError> {
    payload(bytes)?.ok_or_else(|| ConversionError::new("payload", "is missing"))
}

/// A successful Core reply's `user` (§5.7: `{"status": "ok", "user": {...}}`).
pub(crate) fn core_user(bytes: &[u8]) -> Result<Value, ConversionError> {
    let mut o = succeeded(bytes)?;
    o.remove("user").filter(|v| v.is_object()).ok_or_else(|| ConversionError::new("user", "is missing"))
}

/// What an error reply says, read from any of the shapes SessionM uses (§5.8, §4.1): POS
/// `errors: {code, message, fields?}` \[I\], Connect `errors: {code, type, message}` or
/// `errors: {error}` \[K\], Core `errors: {code, message, user?}` \[D\]\[K\], or `errors` as a
/// bare string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ErrorDetails {
    /// `status` as sent.
    pub status: Option<String>,
    /// The vendor code, as sent.
    pub code: Option<String>,
    /// The vendor's text.
    pub message: Option<String>,
    /// Field path and first message, in the order sent.
    pub fields: Vec<(String, String)>,
}

impl ErrorDetails {
    /// Reads an error body; `None` when it is not a JSON object (the classifier then says
    /// `Protocol`).
    pub(crate) fn read(bytes: &[u8]) -> Option<ErrorDetails> {
        let o = object(bytes).ok()?;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let first =
            |m: &serde_json::Map<String, Value>, keys: &[&str]| keys.iter().find_map(|k| text(m.get(*k)));
        let mut d = ErrorDetails { status: text(o.get("status")), ..ErrorDetails::default() };
        match o.get("errors") {
            Some(Value::Object(e)) => {
                d.code = first(e, &names::ERROR_CODE_KEYS);
                d.message = first(e, &names::ERROR_MESSAGE_KEYS);
                for key in names::ERROR_FIELD_KEYS {
                    if let Some(Value::Object(f)) = e.get(key) {
                        d.fields.extend(f.iter().map(|(k, v)| (k.clone(), first_message(v))));
                    }
                }
            }
            Some(Value::String(s)) => d.message = Some(s.clone()),
            _ => {}
        }
        // A 401 or 404 from a gateway may carry a plain `{"message"}` or `{"error"}`.
        if d.message.is_none() {
            d.message = first(&o, &names::ERROR_MESSAGE_KEYS);
        }
        Some(d)
    }
}

fn first_message(v: &Value) -> String {
    match v {
        Value::Array(a) => a.iter().find_map(Value::as_str).unwrap_or("invalid").to_string(),
        Value::String(s) => s.clone(),
        _ => "invalid".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_serialises_in_the_documented_shape() {
        let r = PosRequest {
            store_id: "S",
            client_id: "C",
            request_id: "R",
            culture: None,
            request_payload: serde_json::json!({"email": "a@b"}),
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"store_id": "S", "client_id": "C", "request_id": "R", "request_payload": {"email": "a@b"}})
        );
    }

    // Checklist 3: OK, ok and Ok are success; anything else is not.
    #[test]
    fn status_ok_in_any_case_is_success() {
        for s in ["OK", "ok", "Ok"] {
            let body = format!(r#"{{"status":"{s}","payload":{{"a":1}}}}"#);
            assert_eq!(payload(body.as_bytes()).unwrap(), Some(serde_json::json!({"a": 1})));
        }
        assert!(payload(br#"{"status":"error","errors":{"code":"x"}}"#).is_err());
        assert_eq!(payload(br#"{"payload":{}}"#).unwrap_err().field, "status");
    }

    #[test]
    fn missing_payload_is_none_and_required_payload_says_so() {
        assert_eq!(payload(br#"{"status":"OK"}"#).unwrap(), None);
        assert_eq!(payload(br#"{"status":"OK","payload":null}"#).unwrap(), None);
        assert_eq!(required_payload(br#"{"status":"OK"}"#).unwrap_err().field, "payload");
    }

    #[test]
    fn error_details_read_every_known_shape() {
        let pos = ErrorDetails::read(
            br#"{"status":"error","errors":{"code":"validation","message":"bad","fields":{"request_payload.phone":["must be digits only"]}}}"#,
        )
        .unwrap();
        assert_eq!(pos.code.as_deref(), Some("validation"));
        assert_eq!(pos.fields, vec![("request_payload.phone".into(), "must be digits only".into())]);
        let core = ErrorDetails::read(br#"{"status":"error","errors":{"code":"USER_NOT_FOUND","message":"x","user":{"dob":["too young"]}}}"#)
            .unwrap();
        assert_eq!(core.fields, vec![("dob".into(), "too young".into())]);
        let spend = ErrorDetails::read(br#"{"errors":{"error":"insufficient points"}}"#).unwrap();
        assert_eq!(spend.message.as_deref(), Some("insufficient points"));
        assert!(ErrorDetails::read(b"<html>").is_none());
    }
}
