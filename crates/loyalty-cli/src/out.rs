//! Writing results and errors: a closed pipe (`loyalty pending | head`) ends the command
//! quietly, and error lines never carry control characters or a huge value whole.

use std::io::Write;
use std::process::ExitCode;

use loyalty_core::{Error, ErrorKind};

/// Longest value quoted in an error line; longer ones are cut with an ellipsis.
const MAX_ERROR_CHARS: usize = 300;

/// Writes `text` and a newline to stdout; a closed pipe exits the process quietly (status 0:
/// the reader has what it wanted).
pub fn line(text: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{}", text.as_ref()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// Writes `value` as pretty JSON.
pub fn json(value: &impl serde::Serialize) {
    line(serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")));
}

/// One error line on stderr, made safe for a terminal: control and other non-printing
/// characters are escaped (`\u{1b}`), and the line is cut with an ellipsis.
pub fn error_line(message: impl AsRef<str>) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {}", printable(message.as_ref()));
}

/// `text` with every control or non-printing character escaped and at most
/// `MAX_ERROR_CHARS` characters kept.
pub fn printable(text: &str) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == MAX_ERROR_CHARS {
            out.push('…');
            break;
        }
        if c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
        {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Reports an error as one line and gives the exit status: 2 for bad input (the caller can fix
/// it: a missing file, an unknown key, a malformed value), 1 for everything else.
pub fn fail(e: &Error) -> ExitCode {
    error_line(e.to_string());
    ExitCode::from(match e.kind() {
        ErrorKind::Invalid { .. } | ErrorKind::Unsupported => 2,
        _ => 1,
    })
}

/// Reports bad input given as text.
pub fn bad_input(message: impl AsRef<str>) -> ExitCode {
    error_line(message);
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_line_separators_are_escaped() {
        assert_eq!(printable("a\u{1b}[31mb\u{2028}c"), "a\\u{1b}[31mb\\u{2028}c");
        assert_eq!(printable("tab\there"), "tab\\u{9}here");
    }

    #[test]
    fn long_values_are_cut_with_an_ellipsis() {
        let cut = printable(&"x".repeat(10_000));
        assert_eq!(cut.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
