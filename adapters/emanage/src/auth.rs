//! The `X_CID` header (§3): the merchant's client id on every Web Sales call. The shared
//! strategies (OAuth2, Basic, sessions) do not fit a static header, so this small one does.
//!
//! The value is public in shop pages (§3), yet it is kept as a [`Secret`]: the transport marks
//! the header sensitive, and it never reaches `Debug`, logs or errors.

use async_trait::async_trait;
use loyalty_core::{Context, Error};
use loyalty_http::{Auth, Secret};

/// The header name, with its underscore (§3 \[K\]); HTTP lower-cases it on the wire (`x_cid`),
/// which the vendor matches case-insensitively (checklist 1).
pub const X_CID: &str = "X_CID";

/// Sends `X_CID: <client id>` with every call.
#[derive(Clone)]
pub struct ClientIdAuth {
    cid: Secret,
}

impl ClientIdAuth {
    /// Auth with the client id `cid`.
    pub fn new(cid: Secret) -> ClientIdAuth {
        ClientIdAuth { cid }
    }
}

impl std::fmt::Debug for ClientIdAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdAuth").field("cid", &self.cid).finish()
    }
}

#[async_trait]
impl Auth for ClientIdAuth {
    async fn headers(
        &self,
        _client: &reqwest::Client,
        _ctx: &Context,
    ) -> Result<Vec<(String, String)>, Error> {
        Ok(vec![(X_CID.to_string(), self.cid.expose().to_string())])
    }

    /// A refused client id stays refused: there is nothing to refresh.
    async fn invalidate(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_client_id() {
        let a = ClientIdAuth::new(Secret::new("5b1c3a52-8f0e-4c7e-9d2a-6f41e2b7c9d0"));
        assert!(!format!("{a:?}").contains("5b1c3a52"));
    }
}
