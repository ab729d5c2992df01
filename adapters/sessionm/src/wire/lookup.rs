//! `POST /api/2.0/lookup`: User Lookup with or without a basket (§3.3).

use serde::Serialize;
use serde_json::Value;

use super::core::User;
use super::offers::WalletEntry;
use super::transaction::Transaction;
use super::ConversionError;
use crate::names;

/// The User Lookup object: exactly one criterion, and the basket to evaluate (§3.3 \[D\]).
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct LookupRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Digits only (§3.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<Transaction>,
}

/// The lookup payload. Not public (§3.3 \[I\]): the matched user and the wallet entries, each
/// with a `discount` when a basket was sent. The offer list's key is one of
/// [`names::LOOKUP_OFFER_KEYS`].
#[derive(Debug, Clone, Default)]
pub(crate) struct LookupPayload {
    pub user: User,
    pub offers: Vec<WalletEntry>,
}

/// Decodes a lookup reply.
pub(crate) fn decode_lookup(bytes: &[u8]) -> Result<LookupPayload, ConversionError> {
    let Value::Object(mut p) = super::envelope::required_payload(bytes)? else {
        return Err(ConversionError::new("payload", "is not an object"));
    };
    let mut user: User = match p.remove("user") {
        Some(v @ Value::Object(_)) => super::from_value(v, "payload.user")?,
        _ => User::default(),
    };
    // The user's id may sit beside the user object (§3.3 [I]).
    if user.id.is_none() {
        user.id = p.get("user_id").and_then(Value::as_str).map(str::to_string);
    }
    if user.id.as_deref().is_none_or(|id| id.trim().is_empty()) {
        return Err(ConversionError::new("payload.user.id", "is missing"));
    }
    // The first spelling that carries a list: an `offers: null` beside a `user_offers` list
    // does not hide it.
    let given =
        names::LOOKUP_OFFER_KEYS.iter().find_map(|k| p.remove(*k).filter(|v| !v.is_null()).map(|v| (*k, v)));
    let offers = match given {
        Some((key, v)) => super::from_value(v, &format!("payload.{key}"))?,
        None => Vec::new(),
    };
    Ok(LookupPayload { user, offers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_reads_user_and_offers_under_either_key() {
        let a = decode_lookup(
            br#"{"status":"OK","payload":{"user":{"id":"u1"},"offers":[{"user_offer_id":"o1"}]}}"#,
        )
        .unwrap();
        assert_eq!(a.user.id.as_deref(), Some("u1"));
        assert_eq!(a.offers.len(), 1);
        let b = decode_lookup(br#"{"status":"OK","payload":{"user_id":"u2","user_offers":[]}}"#).unwrap();
        assert_eq!(b.user.id.as_deref(), Some("u2"));
    }

    #[test]
    fn a_null_offer_list_does_not_hide_the_other_spelling() {
        let p = decode_lookup(
            br#"{"status":"OK","payload":{"user":{"id":"u1"},"offers":null,"user_offers":[{"user_offer_id":"o1"}]}}"#,
        )
        .unwrap();
        assert_eq!(p.offers.len(), 1);
    }

    #[test]
    fn lookup_without_a_user_id_is_a_protocol_problem() {
        assert_eq!(
            decode_lookup(br#"{"status":"OK","payload":{"offers":[]}}"#).unwrap_err().field,
            "payload.user.id"
        );
    }
}
