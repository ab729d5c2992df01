//! Core customer profiles (§5.7, §6): the `user` object read from Core and from the POS lookup
//! payload (§3.3 \[I\]: the lookup's user carries the Core user's identity fields), and the
//! `{"user": {...}}` body written on create and update.

use serde::{Deserialize, Serialize};

use super::lenient::{Flag, Num};
use super::ConversionError;

/// A phone number entry (§5.7 \[K\]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PhoneNumber {
    /// Empty when Core sends `null` or leaves it out: one bad entry does not fail the user
    /// ("How to use this document": parse leniently).
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub phone_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_type: Option<String>,
    #[serde(default, deserialize_with = "super::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub preference_flags: Vec<String>,
}

/// One `external_id` mapping of a user (§1.1 \[K\]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Identifier {
    pub external_id: Option<String>,
}

/// A user as Core (and the lookup payload) sends it. Every field optional: unknown and absent
/// fields are tolerated (\[I\]).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct User {
    pub id: Option<String>,
    pub external_id: Option<String>,
    pub identifiers: Option<Vec<Identifier>>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub gender: Option<String>,
    pub dob: Option<String>,
    /// `null` after a PUT emptied the list (§6 \[K\]).
    pub phone_numbers: Option<Vec<PhoneNumber>>,
    pub opted_in: Option<Flag>,
    pub activated: Option<Flag>,
    pub available_points: Option<Num>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
    pub tier: Option<serde_json::Value>,
}

/// Decodes a Core reply's user (`GET`, `POST`, `PUT` of §6).
pub(crate) fn decode_user(bytes: &[u8]) -> Result<User, ConversionError> {
    let v = super::envelope::core_user(bytes)?;
    super::from_value(v, "user")
}

/// The body of a create or update: only the members given are sent, so an update changes what
/// it names and nothing else (§6: a PUT with identical data is harmless \[K\]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct UserWrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opted_in: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dob: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Replaced wholesale by a PUT (§6 \[K\]); `None` leaves the numbers alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_numbers: Option<Vec<PhoneNumber>>,
}

/// `{"user": {...}}` (§5.7 \[D\]\[K\]).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UserBody<'a> {
    pub user: &'a UserWrite,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_reads_leniently() {
        let u = decode_user(
            br#"{"status":"ok","user":{"id":"u1","opted_in":"true","phone_numbers":null,"available_points":250,"unknown":{"x":1}}}"#,
        )
        .unwrap();
        assert_eq!(u.id.as_deref(), Some("u1"));
        assert_eq!(u.opted_in, Some(Flag(true)));
        assert!(u.phone_numbers.is_none());
        assert_eq!(u.available_points.map(|n| n.0), Some(250.into()));
    }

    #[test]
    fn a_null_phone_entry_field_does_not_fail_the_user() {
        let u = decode_user(
            br#"{"status":"ok","user":{"id":"u1","phone_numbers":[{"phone_number":null,"preference_flags":null},{"phone_number":"4741234567","preference_flags":null}]}}"#,
        )
        .unwrap();
        let phones = u.phone_numbers.unwrap();
        assert_eq!(phones[0].phone_number, "");
        assert!(phones[1].preference_flags.is_empty());
    }

    #[test]
    fn write_body_sends_only_what_is_set() {
        let w = UserWrite { first_name: Some("Kari".into()), ..UserWrite::default() };
        assert_eq!(
            serde_json::to_value(UserBody { user: &w }).unwrap(),
            serde_json::json!({"user": {"first_name": "Kari"}})
        );
    }
}
