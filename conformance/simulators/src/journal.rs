//! The request journal: every request a simulator saw, with secrets scrubbed.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// Placeholder written instead of a secret value.
pub const REDACTED: &str = "[redacted]";

/// One request as the simulator received it, and the status it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    /// HTTP method, upper case (`POST`).
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Raw query string, if any (still percent-encoded; `client_secret` values redacted).
    pub query: Option<String>,
    /// Headers with lower-case names; `authorization`, `cookie` and configured headers redacted.
    pub headers: Vec<(String, String)>,
    /// Request body as UTF-8 (lossy); `client_secret=` form values and configured JSON members
    /// redacted.
    pub body: String,
    /// Status actually sent; 0 when the connection was dropped or the request hung.
    pub status: u16,
    /// Simulated time the request arrived.
    pub at: DateTime<Utc>,
}

/// A shared, append-only list of [`JournalEntry`]; clones share the same list.
#[derive(Clone, Debug, Default)]
pub struct Journal {
    entries: Arc<Mutex<Vec<JournalEntry>>>,
}

impl Journal {
    /// Returns a snapshot of every entry, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.lock().clone()
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Counts entries with this method (case-insensitive) whose path starts with `path_prefix`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.lock()
            .iter()
            .filter(|e| e.method.eq_ignore_ascii_case(method) && e.path.starts_with(path_prefix))
            .count()
    }

    pub(crate) fn push(&self, entry: JournalEntry) {
        self.lock().push(entry);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<JournalEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Replaces the value of every `client_secret=` pair in a form-encoded string.
pub(crate) fn redact_form_secrets(s: &str) -> String {
    const KEY: &str = "client_secret=";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(KEY) {
        // Only a whole key counts: at the start or right after a separator.
        let whole = i == 0 || matches!(rest.as_bytes()[i - 1], b'&' | b'?');
        out.push_str(&rest[..i + KEY.len()]);
        rest = &rest[i + KEY.len()..];
        if whole {
            let end = rest.find('&').unwrap_or(rest.len());
            out.push_str(REDACTED);
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Replaces the value of every JSON member whose key matches one of `keys` (ASCII
/// case-insensitive, at any depth). Works on the text, so a body that is not valid JSON is
/// scrubbed too and formatting is kept.
pub(crate) fn redact_json_members(s: &str, keys: &[String]) -> String {
    if keys.is_empty() {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let key_end = string_end(b, i + 1);
        let key = s.get(i + 1..key_end.saturating_sub(1).max(i + 1)).unwrap_or("");
        let mut j = key_end;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= b.len() || b[j] != b':' || !keys.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            i = key_end;
            continue;
        }
        j += 1;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let value_end = match b.get(j) {
            Some(b'"') => string_end(b, j + 1),
            // Objects and arrays are left to the recursion of the scan (their members are
            // checked key by key); scalars end at the next separator.
            Some(b'{') | Some(b'[') | None => j,
            Some(_) => {
                let scalar =
                    b[j..].iter().position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace());
                j + scalar.unwrap_or(b.len() - j)
            }
        };
        if value_end > j {
            out.push_str(&s[copied..j]);
            out.push('"');
            out.push_str(REDACTED);
            out.push('"');
            copied = value_end;
        }
        i = value_end.max(key_end);
    }
    out.push_str(&s[copied..]);
    out
}

/// Index just past the closing quote of a JSON string whose content starts at `from` (or the
/// end of the text when the string is unterminated).
fn string_end(b: &[u8], from: usize) -> usize {
    let mut k = from;
    while k < b.len() {
        match b[k] {
            b'\\' => k += 2,
            b'"' => return k + 1,
            _ => k += 1,
        }
    }
    b.len()
}

/// Lower-cases header names and redacts secret-bearing ones.
pub(crate) fn redact_headers(headers: &axum::http::HeaderMap, extra: &[String]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            let name = k.as_str().to_ascii_lowercase();
            let secret = name == "authorization"
                || name == "cookie"
                || name == "proxy-authorization"
                || extra.iter().any(|x| x.eq_ignore_ascii_case(&name));
            let value = if secret {
                REDACTED.to_string()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_secret_value_is_redacted() {
        assert_eq!(
            redact_form_secrets("grant_type=client_credentials&client_secret=abc%2B1&scope=x"),
            "grant_type=client_credentials&client_secret=[redacted]&scope=x"
        );
    }

    #[test]
    fn form_secret_at_end_is_redacted() {
        assert_eq!(
            redact_form_secrets("client_id=a&client_secret=zzz"),
            "client_id=a&client_secret=[redacted]"
        );
    }

    #[test]
    fn lookalike_key_is_left_alone() {
        assert_eq!(redact_form_secrets("my_client_secret=x"), "my_client_secret=x");
    }

    #[test]
    fn listed_json_members_are_redacted_at_any_depth_and_casing() {
        let keys = ["creditcard".to_string(), "cvv".to_string()];
        let body = r#"{"payment":{"CreditCard":"4111 1111","cvv": 123,"name":"A \"q\" B"},"creditcardBrand":"visa"}"#;
        assert_eq!(
            redact_json_members(body, &keys),
            r#"{"payment":{"CreditCard":"[redacted]","cvv": "[redacted]","name":"A \"q\" B"},"creditcardBrand":"visa"}"#
        );
    }

    #[test]
    fn json_redaction_leaves_other_text_alone() {
        let keys = ["cvv".to_string()];
        assert_eq!(redact_json_members(r#"{"note":"cvv","x":1}"#, &keys), r#"{"note":"cvv","x":1}"#);
        assert_eq!(redact_json_members("not json \"cvv\": 999", &keys), "not json \"cvv\": \"[redacted]\"");
    }

    #[test]
    fn authorization_and_listed_headers_are_redacted() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("Authorization", "Bearer t".parse().unwrap());
        h.insert("X-Api-Key", "k".parse().unwrap());
        h.insert("Accept", "application/json".parse().unwrap());
        let out = redact_headers(&h, &["x-api-key".to_string()]);
        assert!(out.contains(&("authorization".into(), REDACTED.into())));
        assert!(out.contains(&("x-api-key".into(), REDACTED.into())));
        assert!(out.contains(&("accept".into(), "application/json".into())));
    }
}
