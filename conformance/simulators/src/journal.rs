//! The request journal: the requests a simulator saw, with secrets scrubbed, in a ring of fixed
//! capacity so a hostile or endless client cannot grow it.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};

/// Placeholder written instead of a secret value.
pub const REDACTED: &str = "[redacted]";

/// How many bytes of a request body the journal keeps, so one entry cannot grow with request
/// size.
pub const BODY_KEPT_BYTES: usize = 64 * 1024;

/// One request as the simulator received it, and the status it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    /// HTTP method, upper case (`POST`).
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Raw query string, if any (still percent-encoded; secret field values redacted).
    pub query: Option<String>,
    /// Headers with lower-case names; `authorization`, `cookie` and configured headers redacted.
    pub headers: Vec<(String, String)>,
    /// Request body as UTF-8 (lossy), with the configured secret fields redacted (`client_secret`
    /// for servers started with [`crate::server::start`]); at most the first
    /// [`BODY_KEPT_BYTES`] bytes, followed by a note saying where the body was cut.
    pub body: String,
    /// Logical route named by the server's `route_of` function, if any (e.g. a SOAP gateway).
    pub route: Option<String>,
    /// Status actually sent; 0 when the connection was dropped or the request hung.
    pub status: u16,
    /// Simulated time the request arrived.
    pub at: DateTime<Utc>,
}

impl JournalEntry {
    /// Bytes this entry holds, as counted against [`crate::server::SimOptions::journal_bytes`].
    fn weight(&self) -> usize {
        let headers: usize = self.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.method.len()
            + self.path.len()
            + self.query.as_ref().map_or(0, String::len)
            + headers
            + self.body.len()
            + self.route.as_ref().map_or(0, String::len)
    }
}

/// A shared ring of [`JournalEntry`], oldest first; clones share the same ring. When it holds
/// its capacity in entries or bytes, the oldest entries are dropped (and counted) to make room.
#[derive(Clone, Debug)]
pub struct Journal {
    ring: Arc<Mutex<Ring>>,
}

#[derive(Debug)]
struct Ring {
    entries: VecDeque<JournalEntry>,
    bytes: usize,
    dropped: u64,
    max_entries: usize,
    max_bytes: usize,
}

impl Default for Journal {
    fn default() -> Self {
        Journal::with_capacity(crate::server::DEFAULT_JOURNAL_ENTRIES, crate::server::DEFAULT_JOURNAL_BYTES)
    }
}

impl Journal {
    /// An empty journal keeping at most `entries` entries and `bytes` bytes (each at least 1).
    pub fn with_capacity(entries: usize, bytes: usize) -> Journal {
        Journal {
            ring: Arc::new(Mutex::new(Ring {
                entries: VecDeque::new(),
                bytes: 0,
                dropped: 0,
                max_entries: entries.max(1),
                max_bytes: bytes.max(1),
            })),
        }
    }

    /// Returns a snapshot of every entry kept, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.lock().entries.iter().cloned().collect()
    }

    /// Forgets every entry (the dropped count stays).
    pub fn clear(&self) {
        let mut ring = self.lock();
        ring.entries.clear();
        ring.bytes = 0;
    }

    /// Entries dropped so far to keep the journal within its capacity.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Bytes the kept entries hold (at most the configured capacity).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Counts entries with this method (case-insensitive) whose path starts with `path_prefix`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.lock()
            .entries
            .iter()
            .filter(|e| e.method.eq_ignore_ascii_case(method) && e.path.starts_with(path_prefix))
            .count()
    }

    /// Counts entries whose logical route is `route`.
    pub fn count_route(&self, route: &str) -> usize {
        self.lock().entries.iter().filter(|e| e.route.as_deref() == Some(route)).count()
    }

    pub(crate) fn push(&self, entry: JournalEntry) {
        let mut ring = self.lock();
        let weight = entry.weight();
        while !ring.entries.is_empty()
            && (ring.entries.len() >= ring.max_entries || ring.bytes + weight > ring.max_bytes)
        {
            if let Some(old) = ring.entries.pop_front() {
                ring.bytes -= old.weight();
                ring.dropped += 1;
            }
        }
        ring.bytes += weight;
        ring.entries.push_back(entry);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The journal text of a body: at most [`BODY_KEPT_BYTES`] bytes, a note where it was cut, and
/// every value of a secret field redacted. `total` is the number of bytes received; `complete`
/// is false when the server stopped reading early (an oversized body).
pub(crate) fn journal_body(bytes: &[u8], total: usize, complete: bool, fields: &[String]) -> String {
    let kept = &bytes[..bytes.len().min(BODY_KEPT_BYTES)];
    // Cut first, then redact: the redactors treat an unterminated value as running to the end,
    // so a secret straddling the cut is still hidden.
    let mut text = redact_fields(&String::from_utf8_lossy(kept), fields);
    if kept.len() < total || !complete {
        let of = if complete {
            format!("{total} bytes")
        } else {
            format!("at least {total} bytes, reading stopped")
        };
        text.push_str(&format!("\n[journal: body cut after {} of {of}]", kept.len()));
    }
    text
}

/// Redacts the values of `fields` in a body, choosing the notation by its first character: XML
/// (`<`), JSON (`{` or `[`), otherwise form encoding.
pub(crate) fn redact_fields(s: &str, fields: &[String]) -> String {
    if fields.is_empty() {
        return s.to_string();
    }
    match s.trim_start().as_bytes().first() {
        Some(b'<') => redact_xml(s, fields),
        Some(b'{' | b'[') => redact_json(s, fields),
        _ => redact_form(s, fields),
    }
}

fn is_secret(name: &str, fields: &[String]) -> bool {
    fields.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Form or query notation: `key=value` pairs split on `&`. Keys are compared percent-decoded
/// (`client%5Fsecret`), and a bracketed key counts by its last part (`auth[systemKey]`).
pub(crate) fn redact_form(s: &str, fields: &[String]) -> String {
    s.split('&')
        .map(|pair| {
            let Some((k, _)) = pair.split_once('=') else {
                return pair.to_string();
            };
            let key = percent_decode(k);
            let last = key.trim_end_matches(']').rsplit('[').next().unwrap_or(&key);
            if is_secret(&key, fields) || is_secret(last, fields) {
                format!("{k}={REDACTED}")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// JSON notation at any depth: the value after a matching `"key":` is replaced by
/// `"[redacted]"` whatever its type. A textual scan, so a body cut short is handled too.
pub(crate) fn redact_json(s: &str, fields: &[String]) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut i, mut last) = (0, 0);
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let end = json_string_end(b, i);
        let key = &s[i + 1..end.saturating_sub(1).max(i + 1)];
        let mut j = skip_ws(b, end);
        if j < b.len() && b[j] == b':' && is_secret(&json_unescape(key), fields) {
            j = skip_ws(b, j + 1);
            let value_end = json_value_end(b, j);
            out.push_str(&s[last..j]);
            out.push('"');
            out.push_str(REDACTED);
            out.push('"');
            last = value_end;
            i = value_end;
        } else {
            i = end;
        }
    }
    out.push_str(&s[last..]);
    out
}

/// The text of a JSON string's contents, escapes decoded (`client\u005fsecret` is
/// `client_secret`); an escape it cannot read is kept as written.
fn json_unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_string())
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Index just past the string starting with the quote at `i` (or the end of an unterminated one).
fn json_string_end(b: &[u8], i: usize) -> usize {
    let mut k = i + 1;
    while k < b.len() {
        match b[k] {
            b'\\' => k += 2,
            b'"' => return k + 1,
            _ => k += 1,
        }
    }
    b.len()
}

/// Index just past the JSON value starting at `i` (string, object, array or scalar).
fn json_value_end(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => json_string_end(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut k = i;
            while k < b.len() {
                match b[k] {
                    b'"' => {
                        k = json_string_end(b, k);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return k + 1;
                        }
                    }
                    _ => {}
                }
                k += 1;
            }
            b.len()
        }
        _ => {
            let mut k = i;
            while k < b.len() && !matches!(b[k], b',' | b'}' | b']') && !b[k].is_ascii_whitespace() {
                k += 1;
            }
            k
        }
    }
}

/// XML notation: the text of an element whose local name matches (any namespace prefix, any
/// attributes such as `xsi:type`), and attribute values whose local name matches. A textual
/// scan, so an element left open by a cut body is redacted to the end.
pub(crate) fn redact_xml(s: &str, fields: &[String]) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut i, mut last) = (0, 0);
    while let Some(off) = s[i..].find('<') {
        let start = i + off;
        i = start + 1;
        if matches!(b.get(i), Some(b'/' | b'?' | b'!') | None) {
            continue;
        }
        let name_end =
            s[i..].find(|c: char| c.is_whitespace() || c == '>' || c == '/').map_or(b.len(), |n| i + n);
        let qname = &s[i..name_end];
        let local = qname.rsplit(':').next().unwrap_or(qname);
        // Find the end of the start tag, skipping quoted attribute values.
        let mut k = name_end;
        let mut quote = None;
        while k < b.len() {
            match (quote, b[k]) {
                (None, b'"' | b'\'') => quote = Some(b[k]),
                (Some(q), c) if c == q => quote = None,
                (None, b'>') => break,
                _ => {}
            }
            k += 1;
        }
        let tag_end = k.min(b.len());
        out.push_str(&s[last..name_end]);
        out.push_str(&redact_xml_attributes(&s[name_end..tag_end], fields));
        last = tag_end;
        i = tag_end;
        let self_closing = tag_end > 0 && b.get(tag_end.wrapping_sub(1)) == Some(&b'/');
        if tag_end >= b.len() || self_closing || !is_secret(local, fields) {
            continue;
        }
        let close = format!("</{qname}");
        let value_end = s[tag_end + 1..].find(&close).map_or(b.len(), |n| tag_end + 1 + n);
        out.push_str(&s[tag_end..=tag_end]);
        out.push_str(REDACTED);
        last = value_end;
        i = value_end;
    }
    out.push_str(&s[last..]);
    out
}

/// Redacts `name="value"` attribute values whose local name is a secret field.
fn redact_xml_attributes(attrs: &str, fields: &[String]) -> String {
    let mut out = String::with_capacity(attrs.len());
    let mut rest = attrs;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().rsplit(|c: char| c.is_whitespace()).next().unwrap_or("");
        let local = name.rsplit(':').next().unwrap_or(name);
        let after = &rest[eq + 1..];
        let trimmed = after.trim_start();
        let Some(q) = trimmed.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            out.push_str(&rest[..=eq]);
            rest = after;
            continue;
        };
        let lead = after.len() - trimmed.len();
        let value_len = trimmed[1..].find(q).unwrap_or(trimmed.len() - 1);
        out.push_str(&rest[..=eq]);
        out.push_str(&after[..lead + 1]);
        if is_secret(local, fields) {
            out.push_str(REDACTED);
        } else {
            out.push_str(&trimmed[1..1 + value_len]);
        }
        rest = &trimmed[(1 + value_len + 1).min(trimmed.len())..];
        if 1 + value_len < trimmed.len() {
            out.push(q);
        }
    }
    out.push_str(rest);
    out
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

    fn client_secret() -> Vec<String> {
        vec!["client_secret".into()]
    }

    #[test]
    fn form_secret_value_is_redacted() {
        assert_eq!(
            redact_form("grant_type=client_credentials&client_secret=abc%2B1&scope=x", &client_secret()),
            "grant_type=client_credentials&client_secret=[redacted]&scope=x"
        );
    }

    #[test]
    fn form_secret_at_end_is_redacted() {
        assert_eq!(
            redact_form("client_id=a&client_secret=zzz", &client_secret()),
            "client_id=a&client_secret=[redacted]"
        );
    }

    #[test]
    fn lookalike_key_is_left_alone() {
        assert_eq!(redact_form("my_client_secret=x", &client_secret()), "my_client_secret=x");
    }

    #[test]
    fn percent_encoded_and_plus_spelled_keys_are_redacted() {
        assert_eq!(
            redact_form("client%5Fsecret=a&CLIENT_SECRET=b&client%5fsecret=c", &client_secret()),
            "client%5Fsecret=[redacted]&CLIENT_SECRET=[redacted]&client%5fsecret=[redacted]"
        );
    }

    #[test]
    fn json_key_with_escapes_is_redacted() {
        assert_eq!(
            redact_json(r#"{"client\u005fsecret":"s3"}"#, &client_secret()),
            r#"{"client\u005fsecret":"[redacted]"}"#
        );
    }

    fn entry(body: &str) -> JournalEntry {
        JournalEntry {
            method: "GET".into(),
            path: "/".into(),
            query: None,
            headers: Vec::new(),
            body: body.into(),
            route: None,
            status: 200,
            at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn ring_drops_and_counts_the_oldest_entries() {
        let j = Journal::with_capacity(3, 1 << 20);
        for i in 0..5 {
            j.push(entry(&i.to_string()));
        }
        let bodies: Vec<_> = j.entries().into_iter().map(|e| e.body).collect();
        assert_eq!(bodies, vec!["2", "3", "4"]);
        assert_eq!(j.dropped(), 2);
    }

    #[test]
    fn ring_keeps_within_its_byte_capacity() {
        let j = Journal::with_capacity(100, 100);
        for _ in 0..10 {
            j.push(entry(&"x".repeat(40)));
        }
        assert!(j.bytes() <= 100, "{}", j.bytes());
        assert_eq!(j.entries().len(), 2);
        assert_eq!(j.dropped(), 8);
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

    fn fields() -> Vec<String> {
        vec!["systemKey".into(), "dropshippingKey".into()]
    }

    #[test]
    fn unterminated_xml_secret_is_redacted_to_the_end() {
        assert_eq!(redact_xml("<a><systemKey>abc", &fields()), "<a><systemKey>[redacted]");
    }

    #[test]
    fn self_closing_and_lookalike_xml_elements_are_left_alone() {
        let s = "<a><systemKey/><mysystemKey>v</mysystemKey></a>";
        assert_eq!(redact_xml(s, &fields()), s);
    }

    #[test]
    fn xml_element_match_ignores_case_and_prefix() {
        assert_eq!(
            redact_xml("<x:DropshippingKey a='1'>k</x:DropshippingKey>", &fields()),
            "<x:DropshippingKey a='1'>[redacted]</x:DropshippingKey>"
        );
    }

    #[test]
    fn unterminated_json_secret_is_redacted_to_the_end() {
        assert_eq!(redact_json(r#"{"systemKey": "abc"#, &fields()), r#"{"systemKey": "[redacted]""#);
    }

    #[test]
    fn json_string_values_equal_to_a_field_name_are_not_keys() {
        let s = r#"{"name":"systemKey","v":1}"#;
        assert_eq!(redact_json(s, &fields()), s);
    }

    #[test]
    fn bracketed_form_key_counts_by_its_last_part() {
        assert_eq!(redact_form("a[b][systemKey]=1&c=2", &fields()), "a[b][systemKey]=[redacted]&c=2");
    }

    #[test]
    fn journal_body_notes_nothing_for_a_short_body() {
        assert_eq!(journal_body(b"systemKey=1", 11, true, &fields()), "systemKey=[redacted]");
    }
}
