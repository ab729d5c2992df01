//! Vendor text inside error messages: cut to a bound, so a page of HTML or a 10 MB body never
//! fills a log line, and marked where it was cut; and cleared of the credentials a vendor may
//! echo back (a gate quoting the request it refused), before it is cut.

/// The most characters of vendor text an error message quotes.
pub const EXCERPT_CHARS: usize = 200;

/// `text` trimmed and cut to [`EXCERPT_CHARS`] characters, with `…` where it was cut.
///
/// ```
/// use loyalty_http::{excerpt, EXCERPT_CHARS};
///
/// assert_eq!(excerpt("  card declined \n"), "card declined");
/// let long = excerpt(&"x".repeat(1_000));
/// assert_eq!(long.chars().count(), EXCERPT_CHARS + 1);
/// assert!(long.ends_with('…'));
/// ```
pub fn excerpt(text: &str) -> String {
    cut(text.trim())
}

/// A reply body as [`excerpt`] quotes it (invalid UTF-8 replaced).
pub fn body_excerpt(body: &[u8]) -> String {
    excerpt(&String::from_utf8_lossy(body))
}

/// What a credential found in vendor text is replaced with.
pub const REDACTED: &str = "[redacted]";

/// [`excerpt`] of `text` after [`redact`]: the secrets are replaced before the text is cut, so
/// a cut never leaves part of one showing.
///
/// ```
/// use loyalty_http::excerpt_redacted;
///
/// assert_eq!(excerpt_redacted(" refused key AB12cd34 ", &["ab12CD34"]), "refused key [redacted]");
/// ```
pub fn excerpt_redacted(text: &str, secrets: &[&str]) -> String {
    excerpt(&redact(text, secrets))
}

/// `text` with every occurrence of each secret replaced by [`REDACTED`]. Matching ignores ASCII
/// case (a gate may echo a hex key in capitals) and also finds a secret in its XML-escaped and
/// JSON-escaped forms; empty secrets are ignored.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    match redact_bytes(text.as_bytes(), secrets) {
        None => text.to_owned(),
        // Matches start and end on the same bytes as the secret, so they are whole characters.
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// `body` with every secret replaced (as [`redact`]); `None` when it holds none.
pub(crate) fn redact_bytes<S: AsRef<str>>(body: &[u8], secrets: &[S]) -> Option<Vec<u8>> {
    let mut needles: Vec<Vec<u8>> = Vec::new();
    for secret in secrets {
        let secret = secret.as_ref();
        if secret.is_empty() {
            continue;
        }
        for form in [secret.to_owned(), xml_escaped(secret), json_escaped(secret)] {
            let form = form.to_ascii_lowercase().into_bytes();
            if !needles.contains(&form) {
                needles.push(form);
            }
        }
    }
    if needles.is_empty() || body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    // Byte ranges to replace, merged where they overlap (one secret inside another).
    let mut hits: Vec<(usize, usize)> = Vec::new();
    for needle in &needles {
        let mut from = 0;
        while let Some(at) = find(&lower[from..], needle) {
            hits.push((from + at, from + at + needle.len()));
            from += at + needle.len();
        }
    }
    if hits.is_empty() {
        return None;
    }
    hits.sort_unstable();
    let mut out = Vec::with_capacity(body.len());
    let mut done = 0;
    for (start, end) in hits {
        if end <= done {
            continue;
        }
        if start >= done {
            out.extend_from_slice(&body[done..start]);
            out.extend_from_slice(REDACTED.as_bytes());
        }
        done = end;
    }
    out.extend_from_slice(&body[done..]);
    Some(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn xml_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted.trim_start_matches('"').trim_end_matches('"').to_owned()
}

/// At most [`EXCERPT_CHARS`] characters of `text`, with `…` where it was cut.
pub(crate) fn cut(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_at_the_bound_is_kept_whole_and_one_more_character_is_cut() {
        let at = "é".repeat(EXCERPT_CHARS);
        assert_eq!(cut(&at), at);
        let over = format!("{at}z");
        assert_eq!(cut(&over), format!("{at}…"));
    }

    #[test]
    fn every_form_of_a_secret_is_replaced_and_overlaps_are_merged() {
        assert_eq!(redact("k=ABCdef, again abcdef.", &["abcDEF"]), "k=[redacted], again [redacted].");
        assert_eq!(
            redact("<s>a&amp;b</s> {\"s\":\"a\\\"b\"}", &["a&b", "a\"b"]),
            "<s>[redacted]</s> {\"s\":\"[redacted]\"}"
        );
        assert_eq!(redact("xx-token-longer-yy", &["token", "token-longer"]), "xx-[redacted]-yy");
        assert_eq!(redact("nothing here", &["", "absent"]), "nothing here");
        assert_eq!(redact("zażółć KEY", &["key"]), "zażółć [redacted]");
    }

    #[test]
    fn a_secret_is_replaced_before_the_text_is_cut() {
        let key = "0123456789abcdef0123456789abcdef01234567";
        let text = format!("{}{key}", "x".repeat(EXCERPT_CHARS - 10));
        let shown = excerpt_redacted(&text, &[key]);
        assert!(!shown.contains("0123456789"), "{shown}");
    }

    #[test]
    fn a_body_that_is_not_utf8_is_quoted_with_replacements() {
        assert_eq!(body_excerpt(b" ok\xff "), "ok\u{fffd}");
    }
}
