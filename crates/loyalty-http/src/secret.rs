//! A credential that never prints itself.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const REDACTED: &str = "[redacted]";

/// A credential (client secret, password, API key, access token, session key).
///
/// `Debug` prints `[redacted]`, there is no `Display`, serialising writes `[redacted]`, and the
/// value is read only through [`Secret::expose`], so every use is easy to find in review.
/// Deserialising reads a plain string.
///
/// ```
/// use loyalty_http::Secret;
///
/// let secret = Secret::new("s3cr3t");
/// assert_eq!(format!("{secret:?}"), "[redacted]");
/// assert_eq!(secret.expose(), "s3cr3t");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential itself; call it only where the value must go on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// A URL as it may be printed: user name and password become `[redacted]`, and so does every
/// query value and the fragment, since a base URL is a place people paste secrets into
/// (`https://user:password@host`, `?api_key=…`).
pub fn redacted_url(url: &url::Url) -> String {
    const REDACTED: &str = "[redacted]";
    let mut shown = url.clone();
    if !url.username().is_empty() || url.password().is_some() {
        // Only URLs that cannot carry credentials refuse these, and they have none.
        let _ = shown.set_username(REDACTED);
        let _ = shown.set_password(None);
    }
    if url.query().is_some() {
        let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        shown.query_pairs_mut().clear().extend_pairs(keys.iter().map(|k| (k.as_str(), REDACTED)));
    }
    if url.fragment().is_some() {
        shown.set_fragment(Some(REDACTED));
    }
    shown.to_string()
}

/// [`redacted_url`] for text that may not parse (a builder's value before it is checked);
/// text that is no URL is not shown at all, only its length.
pub fn redacted_url_text(text: &str) -> String {
    match url::Url::parse(text.trim()) {
        Ok(url) => redacted_url(&url),
        Err(_) => format!("<not a URL, {} characters>", text.chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "[redacted]");
    }

    #[test]
    fn serialises_as_redacted_and_deserialises_from_a_string() {
        let secret: Secret = serde_json::from_str("\"hunter2\"").unwrap();
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"[redacted]\"");
    }
}
