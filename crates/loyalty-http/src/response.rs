//! A vendor's reply, read in full.

use bytes::Bytes;
use loyalty_core::{Error, ErrorKind};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

/// A reply the classifier accepted as a success.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The reply headers.
    pub headers: HeaderMap,
    /// The whole body, as the transport read it (not copied).
    pub body: Bytes,
}

impl Response {
    /// Parses the body as JSON.
    ///
    /// # Errors
    /// `Protocol` naming the serde error; the message quotes at most the first 200 characters of
    /// the body.
    pub fn json<T: DeserializeOwned>(&self, provider: &str, operation: &str) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|err| {
            Error::new(ErrorKind::Protocol, provider, operation)
                .with_message(format!("unreadable reply body: {err}; body starts: {}", quote(&self.body)))
        })
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The first characters of a body, for an error message (not trimmed: the body starts here).
pub(crate) fn quote(body: &[u8]) -> String {
    crate::excerpt::cut(&String::from_utf8_lossy(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &[u8]) -> Response {
        Response { status: 200, headers: HeaderMap::new(), body: Bytes::copy_from_slice(body) }
    }

    #[test]
    fn json_parses_the_body() {
        let value: serde_json::Value = response(br#"{"a":1}"#).json("p", "o").unwrap();
        assert_eq!(value["a"], 1);
    }

    #[test]
    fn unreadable_json_is_protocol_error_quoting_at_most_200_chars() {
        let body = format!("<html>{}</html>", "x".repeat(1000));
        let err = response(body.as_bytes()).json::<serde_json::Value>("p", "members.find").unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Protocol);
        assert!(err.message().contains("expected value"), "{}", err.message());
        assert!(!err.message().contains(&"x".repeat(200)));
    }
}
