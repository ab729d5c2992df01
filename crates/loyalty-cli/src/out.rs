//! Writing results and errors: a closed pipe (`loyalty pending | head`) ends the command
//! quietly, and error lines never carry control characters or a huge value whole.

use std::io::Write;
use std::process::ExitCode;

use loyalty_core::{Error, ErrorKind};

/// Writes `text` and a newline to stdout; a closed pipe exits the process quietly (status 0:
/// the reader has what it wanted), any other write error (a full disk) with one line and 1.
pub fn line(text: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{}", text.as_ref()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        error_line(format!("cannot write the output: {e}"));
        std::process::exit(1);
    }
}

/// Writes a line that holds text from the provider (offer titles, names, a refusal's reason)
/// as [`line()`] does, made safe by [`safe_line`] as error lines are: a vendor's terminal
/// escape or line break is shown escaped, never acted on by the terminal.
pub fn shown(text: impl AsRef<str>) {
    line(safe_line(text.as_ref()));
}

/// Writes `value` as pretty JSON.
pub fn json(value: &impl serde::Serialize) {
    line(serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")));
}

/// One `error:` line on stderr, made safe by [`safe_line`].
pub fn error_line(message: impl AsRef<str>) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {}", safe_line(message.as_ref()));
}

/// An error message as one line a terminal shows as plain text: control and other
/// non-printing characters escaped, long values cut with `…` ([`loyalty_serve::safe_text`],
/// the rule problem details follow too).
pub fn safe_line(message: &str) -> String {
    loyalty_serve::safe_text(message)
}

/// Reports an error as one line and gives the exit status: 2 for bad input (the caller can fix
/// it: a missing file, an unknown key, a malformed value) and for an operation the provider
/// does not support (`loyalty offers` without `--member` on Diller), 1 for everything else.
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
