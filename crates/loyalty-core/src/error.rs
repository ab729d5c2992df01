//! The one error type every operation returns.
//!
//! An [`Error`] says what went wrong ([`ErrorKind`]), where (provider and operation), whether
//! trying again may help ([`Error::is_temporary`]) and whether a write may already have taken
//! effect ([`Error::effect`]). Retry logic reads those facts, never message text.

use std::fmt;
use std::time::Duration;

use crate::money::MoneyError;

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The member, offer, transaction or hold does not exist.
    NotFound,
    /// Credentials are missing, wrong or expired.
    Unauthorized,
    /// The credentials may not do this.
    Forbidden,
    /// The request is malformed: `field` names what, `reason` says why.
    Invalid {
        /// The offending field, as a path (`lines[1].unit_price`, `phone.number`).
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// A business refusal: coupon used up, offer not valid for this basket.
    Rejected,
    /// The state forbids it: already redeemed, duplicate transaction, held elsewhere.
    Conflict,
    /// The lookup matched several members and the vendor will not pick one: try another
    /// identifier.
    Ambiguous,
    /// The offer, hold or session has expired.
    Expired,
    /// Too many requests; try again after `retry_after` when given.
    RateLimited {
        /// How long the vendor asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The vendor is down, answered 5xx, or the call timed out.
    Unavailable,
    /// The vendor sent something it never should (a body we cannot read).
    Protocol,
    /// The provider cannot do this operation.
    Unsupported,
}

impl ErrorKind {
    /// A short stable label (`"not_found"`, `"rate_limited"`), for logs and reports.
    pub fn label(&self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Invalid { .. } => "invalid",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Ambiguous => "ambiguous",
            ErrorKind::Expired => "expired",
            ErrorKind::RateLimited { .. } => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

/// Whether a write may already have taken effect at the vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteEffect {
    /// The request never left this process (or the connection was never made).
    NotSent,
    /// The vendor refused the request before acting on it.
    RejectedBeforeActing,
    /// The vendor may or may not have acted (timeout after sending, broken reply, 5xx on a
    /// write). Reconcile before sending again.
    Unknown,
}

const MAX_MESSAGE: usize = 500;

/// The error of every Loyalty Bridge operation.
///
/// Messages are redacted by whoever builds the error (adapters scrub vendor bodies); the
/// constructor also truncates them so a huge vendor body never ends up in a log line.
///
/// Callers branch on [`Error::kind`], never on message text:
///
/// ```
/// use loyalty_core::{Error, ErrorKind};
///
/// let e = Error::invalid("diller", "members.register", "phone", "expected an international number");
/// assert!(matches!(e.kind(), ErrorKind::Invalid { field, .. } if field == "phone"));
/// assert_eq!(e.provider(), "diller");
/// assert!(!e.is_temporary(), "bad input is not worth a retry");
/// assert!(e.to_string().contains("phone"));
///
/// let busy = Error::new(ErrorKind::Unavailable, "diller", "transactions.send");
/// assert!(busy.is_temporary());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

// Boxed so `Result<T, Error>` stays one pointer wide on the happy path.
#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    provider: String,
    operation: String,
    vendor_code: Option<String>,
    message: String,
    temporary: bool,
    effect: WriteEffect,
    attempts: u32,
}

impl Error {
    /// An error of `kind` from `provider` in `operation` (`"holds.release"`), with the default
    /// temporary flag and effect for that kind.
    pub fn new(kind: ErrorKind, provider: impl Into<String>, operation: impl Into<String>) -> Error {
        let (temporary, effect) = match kind {
            ErrorKind::RateLimited { .. } => (true, WriteEffect::RejectedBeforeActing),
            ErrorKind::Unavailable | ErrorKind::Protocol => {
                (matches!(kind, ErrorKind::Unavailable), WriteEffect::Unknown)
            }
            ErrorKind::Unsupported => (false, WriteEffect::NotSent),
            _ => (false, WriteEffect::RejectedBeforeActing),
        };
        Error(Box::new(Inner {
            kind,
            provider: provider.into(),
            operation: operation.into(),
            vendor_code: None,
            message: String::new(),
            temporary,
            effect,
            attempts: 1,
        }))
    }

    /// `Unsupported`: the provider cannot do `operation`.
    pub fn unsupported(provider: impl Into<String>, operation: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unsupported, provider, operation).with_message("not supported by this provider")
    }

    /// `Invalid`: `field` was refused for `reason`.
    pub fn invalid(
        provider: impl Into<String>,
        operation: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Error {
        Error::new(ErrorKind::Invalid { field: field.into(), reason: reason.into() }, provider, operation)
    }

    /// `NotFound` with a message.
    pub fn not_found(
        provider: impl Into<String>,
        operation: impl Into<String>,
        what: impl Into<String>,
    ) -> Error {
        Error::new(ErrorKind::NotFound, provider, operation).with_message(what)
    }

    /// Sets the (already redacted) message; it is truncated to a few hundred characters.
    pub fn with_message(mut self, message: impl Into<String>) -> Error {
        let mut message = message.into();
        if message.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        self.0.message = message;
        self
    }

    /// Sets the vendor's own error code.
    pub fn with_vendor_code(mut self, code: impl Into<String>) -> Error {
        self.0.vendor_code = Some(code.into());
        self
    }

    /// Overrides whether trying again may help.
    pub fn with_temporary(mut self, temporary: bool) -> Error {
        self.0.temporary = temporary;
        self
    }

    /// Overrides the write effect.
    pub fn with_effect(mut self, effect: WriteEffect) -> Error {
        self.0.effect = effect;
        self
    }

    /// Records how many attempts were made before giving up.
    pub fn with_attempts(mut self, attempts: u32) -> Error {
        self.0.attempts = attempts;
        self
    }

    /// Re-labels the operation (an adapter wrapping a shared call).
    pub fn with_operation(mut self, operation: impl Into<String>) -> Error {
        self.0.operation = operation.into();
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The provider's name.
    pub fn provider(&self) -> &str {
        &self.0.provider
    }

    /// The operation, `<trait>.<method>` in snake case.
    pub fn operation(&self) -> &str {
        &self.0.operation
    }

    /// The vendor's own code, when it gave one.
    pub fn vendor_code(&self) -> Option<&str> {
        self.0.vendor_code.as_deref()
    }

    /// The redacted message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// True when trying again later may succeed.
    pub fn is_temporary(&self) -> bool {
        self.0.temporary
    }

    /// Whether a write may already have taken effect.
    pub fn effect(&self) -> WriteEffect {
        self.0.effect
    }

    /// How long the vendor asked us to wait, for `RateLimited`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.0.kind {
            ErrorKind::RateLimited { retry_after } => retry_after,
            _ => None,
        }
    }

    /// Attempts made before this error was returned.
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// True for `Unsupported`.
    pub fn is_unsupported(&self) -> bool {
        self.0.kind == ErrorKind::Unsupported
    }

    /// True for `NotFound`.
    pub fn is_not_found(&self) -> bool {
        self.0.kind == ErrorKind::NotFound
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.0.provider, self.0.operation)?;
        match &self.0.kind {
            ErrorKind::Invalid { field, reason } => write!(f, "invalid {field}: {reason}")?,
            ErrorKind::RateLimited { retry_after: Some(d) } => {
                write!(f, "rate limited, retry after {}s", d.as_secs())?
            }
            kind => f.write_str(&kind.label().replace('_', " "))?,
        }
        if let Some(code) = &self.0.vendor_code {
            write!(f, " [{code}]")?;
        }
        if !self.0.message.is_empty() {
            write!(f, ": {}", self.0.message)?;
        }
        if self.0.attempts > 1 {
            write!(f, " (after {} attempts)", self.0.attempts)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("provider", &self.0.provider)
            .field("operation", &self.0.operation)
            .field("vendor_code", &self.0.vendor_code)
            .field("message", &self.0.message)
            .field("temporary", &self.0.temporary)
            .field("effect", &self.0.effect)
            .field("attempts", &self.0.attempts)
            .finish()
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Turns a money error into `Invalid` naming `field`.
    pub fn from_money(
        provider: impl Into<String>,
        operation: impl Into<String>,
        field: impl Into<String>,
        err: MoneyError,
    ) -> Error {
        Error::invalid(provider, operation, field, err.to_string())
    }
}

/// Shorthand for results of Loyalty Bridge operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_is_temporary_with_unknown_effect() {
        let e = Error::new(ErrorKind::Unavailable, "diller", "transactions.send");
        assert!(e.is_temporary());
        assert_eq!(e.effect(), WriteEffect::Unknown);
    }

    #[test]
    fn business_refusal_is_permanent_and_rejected_before_acting() {
        let e = Error::new(ErrorKind::Rejected, "diller", "holds.hold");
        assert!(!e.is_temporary());
        assert_eq!(e.effect(), WriteEffect::RejectedBeforeActing);
    }

    #[test]
    fn display_names_provider_operation_and_field() {
        let e = Error::invalid("memory", "members.register", "phone.number", "must be digits");
        assert_eq!(e.to_string(), "memory members.register: invalid phone.number: must be digits");
    }

    #[test]
    fn long_messages_are_truncated() {
        let e = Error::new(ErrorKind::Protocol, "x", "y").with_message("a".repeat(5000));
        assert!(e.message().len() < 600);
    }

    #[test]
    fn retry_after_comes_from_the_kind() {
        let e = Error::new(ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(3)) }, "x", "y");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert!(e.is_temporary());
    }
}
