//! G1 `Authenticate` (§3, §5 G1): the login and the daily `systemKey` in, a `sessionKey` out.

use loyalty_core::Error;

use super::xml::{escape, read_reply, Envelope};
use super::{optional, required, unreadable, WireError};
use crate::names::{Gateway, Names, SESSION_KEY, SYSTEM_KEY};

/// The G1 request body: `request` holds the login (element name from the table, §3.1 \[I\])
/// and the `systemKey` \[G\]; G1 has no `params`.
pub(crate) fn authenticate_body(names: &Names, login: &str, system_key: &str) -> Vec<u8> {
    let gate = names.gates.get(Gateway::Authenticate);
    let fields = format!(
        "<{l} xsi:type=\"xsd:string\">{}</{l}><{SYSTEM_KEY} xsi:type=\"xsd:string\">{}</{SYSTEM_KEY}>",
        escape(login),
        escape(system_key),
        l = names.login,
    );
    Envelope::bare(names, gate).with(&fields)
}

/// What G1 answers on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthenticateReply {
    /// The session key (a secret: wrapped at once by the caller).
    pub session_key: String,
    /// The expiry, when the names table says where the vendor puts it (§5 G1 \[I\]).
    pub expires: Option<String>,
}

/// Decodes a G1 reply; a non-zero `faultCode` is classified (login failures included).
pub(crate) fn decode_authenticate(names: &Names, op: &str, bytes: &[u8]) -> Result<AuthenticateReply, Error> {
    let reply = read_reply(names, bytes).map_err(|e| unreadable(op, &e))?;
    if super::check(names, op, &reply.errors)? {
        // faultCode 2 ("nothing found", §6.2) is an empty result elsewhere (checklist 10), but
        // a login is no query: it answers a `sessionKey` or a login fault (1, §5 G1), and an
        // empty result carries no key to call anything with. Reading it as a wrong password
        // would guess at a meaning the contract does not give, so it is a reply the contract
        // does not allow. (The transport reports it to the call as not sent.)
        return Err(WireError::new("errors.faultCode", "an empty result (no sessionKey) to a login")
            .protocol(op)
            .with_vendor_code(reply.errors.code.to_string()));
    }
    // The key sits next to `errors` (or inside the results element, read leniently).
    let gate = names.gates.get(Gateway::Authenticate);
    let holder = reply.results(gate).filter(|r| r.get(SESSION_KEY).is_some()).unwrap_or(&reply.content);
    let session_key = required(holder, SESSION_KEY, "response").map_err(|e| e.protocol(op))?.to_string();
    let expires = names.session_expiry.as_deref().and_then(|f| optional(holder, f));
    Ok(AuthenticateReply { session_key, expires })
}
