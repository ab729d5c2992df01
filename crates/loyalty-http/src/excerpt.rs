//! Vendor text inside error messages: cut to a bound, so a page of HTML or a 10 MB body never
//! fills a log line, and marked where it was cut.

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
    fn a_body_that_is_not_utf8_is_quoted_with_replacements() {
        assert_eq!(body_excerpt(b" ok\xff "), "ok\u{fffd}");
    }
}
