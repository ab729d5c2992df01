//! Vendor text inside error messages: cut to a bound, so a page of HTML or a 10 MB body never
//! fills a log line, and marked where it was cut; and cleared of the credentials a vendor may
//! echo back (a gate quoting the request it refused), before it is cut.

use loyalty_core::{Error, ErrorKind};

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
/// case (a gate may echo a hex key in capitals) and also finds a secret however its characters
/// are escaped, each on its own, mixed as an encoder mixes them: JSON (`\"`, `\\`, PHP's `\/`,
/// `\uXXXX` in either case), XML (`&amp;`, `&#47;`, `&#x2F;`) and percent-encoding (`%2F`).
/// Empty secrets are ignored.
///
/// ```
/// use loyalty_http::redact;
///
/// let echoed = r#"{"detail":"refused key ak\/7Qx+9\u002fZr=="}"#;
/// assert_eq!(redact(echoed, &["ak/7Qx+9/Zr=="]), r#"{"detail":"refused key [redacted]"}"#);
/// ```
pub fn redact(text: &str, secrets: &[&str]) -> String {
    match redact_bytes(text.as_bytes(), secrets) {
        None => text.to_owned(),
        // Matches start and end on whole characters (a secret's first and last, or an escape).
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// `err` with every secret replaced (as [`redact`]) in the vendor text it may carry: its
/// message, its vendor code and an `Invalid` reason. Everything else is kept.
///
/// A second net behind the redaction of the reply a classifier reads: a classifier may decode
/// a form of a secret that the reply search missed. Text already cut may still show the start
/// of a secret the cut split, so redact before cutting where the text is at hand.
///
/// ```
/// use loyalty_core::{Error, ErrorKind};
/// use loyalty_http::redact_error;
///
/// let err = Error::new(ErrorKind::Rejected, "p", "o").with_vendor_code("k-42").with_message("bad key k-42");
/// let clean = redact_error(err, &["K-42"]);
/// assert_eq!((clean.vendor_code(), clean.message()), (Some("[redacted]"), "bad key [redacted]"));
/// ```
pub fn redact_error(err: Error, secrets: &[&str]) -> Error {
    let message = redact_bytes(err.message().as_bytes(), secrets);
    let code = err.vendor_code().and_then(|c| redact_bytes(c.as_bytes(), secrets));
    let reason = match err.kind() {
        ErrorKind::Invalid { field, reason } => {
            redact_bytes(reason.as_bytes(), secrets).map(|r| (field.clone(), text(r)))
        }
        _ => None,
    };
    let mut err = match reason {
        None => err,
        // The kind cannot be changed in place: the same error is built again around it.
        Some((field, reason)) => {
            let mut again = Error::new(ErrorKind::Invalid { field, reason }, err.provider(), err.operation())
                .with_temporary(err.is_temporary())
                .with_effect(err.effect())
                .with_attempts(err.attempts())
                .with_message(err.message());
            if let Some(code) = err.vendor_code() {
                again = again.with_vendor_code(code);
            }
            again
        }
    };
    if let Some(message) = message {
        err = err.with_message(text(message));
    }
    if let Some(code) = code {
        err = err.with_vendor_code(text(code));
    }
    err
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `body` with every secret replaced (as [`redact`]); `None` when it holds none.
pub(crate) fn redact_bytes<S: AsRef<str>>(body: &[u8], secrets: &[S]) -> Option<Vec<u8>> {
    let mut patterns: Vec<Vec<Vec<Vec<u8>>>> = Vec::new();
    for secret in secrets {
        let secret = secret.as_ref();
        if secret.is_empty() {
            continue;
        }
        let pattern: Vec<Vec<Vec<u8>>> = secret.chars().map(spellings).collect();
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    if patterns.is_empty() || body.is_empty() {
        return None;
    }
    // Byte ranges to replace, merged below where they overlap (one secret inside another).
    let mut hits: Vec<(usize, usize)> = Vec::new();
    // The bytes a match may start with, per pattern: most positions are passed over on one look.
    let firsts: Vec<Vec<u8>> = patterns
        .iter()
        .map(|p| p[0].iter().filter_map(|s| s.first().map(u8::to_ascii_lowercase)).collect())
        .collect();
    for start in 0..body.len() {
        let first = body[start].to_ascii_lowercase();
        for (pattern, firsts) in patterns.iter().zip(&firsts) {
            if !firsts.contains(&first) {
                continue;
            }
            if let Some(end) = match_at(body, start, pattern) {
                hits.push((start, end));
            }
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

/// Where the longest match of `pattern` (per character, its spellings) starting at `start`
/// ends. Every end reachable after each character is kept, so a spelling that is a prefix of
/// another (`\` and `\\` for a backslash) never hides the match the other one makes.
fn match_at(body: &[u8], start: usize, pattern: &[Vec<Vec<u8>>]) -> Option<usize> {
    let mut ends = vec![start];
    for spellings in pattern {
        let mut next: Vec<usize> = Vec::new();
        for &at in &ends {
            for spelling in spellings {
                let end = at + spelling.len();
                if body.get(at..end).is_some_and(|b| b.eq_ignore_ascii_case(spelling)) && !next.contains(&end)
                {
                    next.push(end);
                }
            }
        }
        if next.is_empty() {
            return None;
        }
        ends = next;
    }
    ends.into_iter().max()
}

/// The ways an encoder may write `c`: as itself, JSON-escaped (`\uXXXX`, and the short escapes
/// including PHP's `\/`), XML-escaped (named and numeric references) and percent-encoded.
fn spellings(c: char) -> Vec<Vec<u8>> {
    let mut utf8 = [0; 4];
    let raw = c.encode_utf8(&mut utf8).as_bytes().to_vec();
    let mut units = [0; 2];
    let json: String = c.encode_utf16(&mut units).iter().map(|u| format!("\\u{u:04x}")).collect();
    let percent: String = raw.iter().map(|b| format!("%{b:02x}")).collect();
    let mut out = vec![
        raw,
        json.into_bytes(),
        format!("&#{};", u32::from(c)).into_bytes(),
        format!("&#x{:x};", u32::from(c)).into_bytes(),
        percent.into_bytes(),
    ];
    let short: &[&str] = match c {
        '"' => &["\\\"", "&quot;"],
        '\\' => &["\\\\"],
        '/' => &["\\/"],
        '\n' => &["\\n"],
        '\r' => &["\\r"],
        '\t' => &["\\t"],
        '\u{8}' => &["\\b"],
        '\u{c}' => &["\\f"],
        '&' => &["&amp;"],
        '<' => &["&lt;"],
        '>' => &["&gt;"],
        '\'' => &["&apos;"],
        // A form body writes a space as `+`.
        ' ' => &["+"],
        _ => &[],
    };
    out.extend(short.iter().map(|s| s.as_bytes().to_vec()));
    out
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
