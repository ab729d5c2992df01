//! Text shown to people (problem details, the command line's error lines) that echoes values
//! from the input: one line a terminal or a log viewer shows as plain text, of bounded size.

/// Longest value shown whole; a longer one is cut to this many characters and `…`.
pub const MAX_VALUE_CHARS: usize = 80;
/// Longest text, whatever it holds.
pub const MAX_LINE_CHARS: usize = 1_000;

/// A message as one line a terminal shows as plain text. Messages echo values from the
/// input (ids, amounts, unknown field names), so:
/// - control and other non-printing characters (terminal escapes, newlines, U+2028, bidi
///   overrides) are escaped as Rust does, e.g. `\u{1b}`;
/// - a long value, quoted (`"..."` or `` `...` ``) or a run without spaces, is cut to
///   [`MAX_VALUE_CHARS`] characters and `…`, never inside an escape the message already holds;
/// - the whole line is cut at [`MAX_LINE_CHARS`] characters.
pub fn safe_text(message: &str) -> String {
    let chars: Vec<char> = message.chars().collect();
    let mut line = String::with_capacity(message.len().min(4 * MAX_LINE_CHARS));
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '`' {
            // A quoted value, to its closing quote (or the end of the message).
            let close = (i + 1..chars.len())
                .scan(false, |escaped, j| {
                    let at = (!*escaped && chars[j] == c).then_some(j);
                    *escaped = !*escaped && c == '"' && chars[j] == '\\';
                    Some(at)
                })
                .flatten()
                .next();
            let end = close.unwrap_or(chars.len());
            line.push(c);
            push_value(&mut line, &chars[i + 1..end]);
            if close.is_some() {
                line.push(c);
            }
            i = end + 1;
        } else if c.is_whitespace() {
            push_escaped(&mut line, c);
            i += 1;
        } else {
            let end = (i..chars.len()).find(|j| matches!(chars[*j], '"' | '`') || chars[*j].is_whitespace());
            let end = end.unwrap_or(chars.len());
            push_value(&mut line, &chars[i..end]);
            i = end;
        }
        if line.chars().count() > MAX_LINE_CHARS {
            let cut: String = line.chars().take(MAX_LINE_CHARS).collect();
            return cut + "…";
        }
    }
    line
}

/// Appends `value`, cut after [`MAX_VALUE_CHARS`] characters (an escape such as `\u{1b}` counts
/// as one and is never split) with `…`, its characters escaped.
fn push_value(line: &mut String, value: &[char]) {
    let mut shown = 0;
    let mut i = 0;
    while i < value.len() {
        if shown == MAX_VALUE_CHARS {
            line.push('…');
            return;
        }
        let len = match (value[i], value.get(i + 1), value.get(i + 2)) {
            // At most `\u{10ffff}`: a brace further on is not the end of an escape.
            ('\\', Some('u'), Some('{')) => {
                value[i..].iter().take(10).position(|c| *c == '}').map_or(1, |p| p + 1)
            }
            ('\\', Some(_), _) => 2,
            _ => 1,
        };
        for c in &value[i..i + len] {
            push_escaped(line, *c);
        }
        shown += 1;
        i += len;
    }
}

/// Appends `c`, escaped as Rust's `Debug` does when it is a control or non-printing character.
/// Quotes and backslashes stay as they are: they belong to the message.
fn push_escaped(line: &mut String, c: char) {
    if c == ' ' || matches!(c, '"' | '\'' | '\\') {
        line.push(c);
        return;
    }
    // `str::escape_debug` leaves a combining mark alone when it follows another character, so
    // only what a terminal would not print as text is escaped.
    let mut pair = String::from('a');
    pair.push(c);
    line.extend(pair.escape_debug().skip(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_and_line_breaks_are_shown_escaped() {
        assert_eq!(
            safe_text("unknown field `\u{1b}[31mred\u{7}`, expected `now`"),
            "unknown field `\\u{1b}[31mred\\u{7}`, expected `now`"
        );
        assert_eq!(safe_text("a\nb\r\u{2028}c\u{202e}d\u{9b}"), "a\\nb\\r\\u{2028}c\\u{202e}d\\u{9b}");
    }

    #[test]
    fn quotes_backslashes_and_printable_text_are_kept() {
        let message = "lines[0].unit_price: malformed amount \"12,5\" (line_id \"é\\\"x\")";
        assert_eq!(safe_text(message), message);
        // A combining accent after a letter is text, not a control.
        assert_eq!(safe_text("line \"e\u{301}\""), "line \"e\u{301}\"");
    }

    #[test]
    fn long_quoted_value_is_cut_with_an_ellipsis_and_the_message_goes_on() {
        let value = "9".repeat(10_000);
        let line = safe_text(&format!("lines[0].unit_price: malformed amount \"{value}\" (line_id \"1\")"));
        let shown = "9".repeat(MAX_VALUE_CHARS);
        assert_eq!(line, format!("lines[0].unit_price: malformed amount \"{shown}…\" (line_id \"1\")"));
    }

    #[test]
    fn long_unquoted_value_is_cut_with_an_ellipsis() {
        let line = safe_text(&format!("1.{} has more than 2 decimals for NOK", "0".repeat(5_000)));
        assert_eq!(line, format!("1.{}… has more than 2 decimals for NOK", "0".repeat(MAX_VALUE_CHARS - 2)));
    }

    #[test]
    fn a_cut_never_splits_an_escape() {
        let value = format!("{}\\u{{1b}}tail", "x".repeat(MAX_VALUE_CHARS - 1));
        assert_eq!(
            safe_text(&format!("\"{value}\"")),
            format!("\"{}\\u{{1b}}…\"", "x".repeat(MAX_VALUE_CHARS - 1))
        );
    }

    #[test]
    fn what_only_looks_like_an_escape_is_cut_like_any_value() {
        let value = format!("\\u{{{}}}", "x".repeat(10_000));
        assert_eq!(safe_text(&value).chars().count(), MAX_VALUE_CHARS + 1);
    }

    #[test]
    fn a_line_of_many_values_is_cut_at_its_maximum() {
        let line = safe_text(&"word ".repeat(10_000));
        assert_eq!(line.chars().count(), MAX_LINE_CHARS + 1);
        assert!(line.ends_with('…'));
    }
}
