//! Lock, unlock, immediate redeem and reinstate (§3.5-§3.8), and the Discount object lock and
//! redeem answer with (§5.5).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient::Num;
use super::transaction::Transaction;
use super::ConversionError;

/// The Lock Offer object, also Immediate Redeem's (§3.5, §3.7 \[D\]).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct OfferLookup<'a> {
    pub offer_lookup_code: &'a str,
    /// `"UserOfferId"` or `"TTLCode"`.
    pub offer_lookup_type: &'a str,
    pub transaction: &'a Transaction,
}

/// Unlock and reinstate take the same two fields, both required (§3.6, §3.8 \[D\]).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Release<'a> {
    pub user_offer_id: &'a str,
    pub employee_id: &'a str,
}

/// The fields of a Discount the adapter reads (§5.5, from a production client's DTO \[K\]\[I\]).
/// The object itself is kept as it came, to be sent back unchanged (§3.5); its `reference_id`
/// is read from there.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Discount {
    pub status: Option<String>,
    pub amount: Option<Num>,
    #[serde(default)]
    pub discounted_line_ids: Option<Vec<String>>,
    /// Parallel to `discounted_line_ids` (§5.5 \[I\]).
    #[serde(default)]
    pub discounted_line_id_quantities: Option<Vec<Num>>,
}

/// A Discount and the object it was read from.
#[derive(Debug, Clone)]
pub(crate) struct DiscountReply {
    pub discount: Discount,
    pub raw: Value,
}

impl DiscountReply {
    /// Reads a Discount object (the `payload` of lock and redeem, or `discount` of a lookup
    /// offer); `field` names where it sat.
    pub(crate) fn from_value(raw: Value, field: &str) -> Result<DiscountReply, ConversionError> {
        if !raw.is_object() {
            return Err(ConversionError::new(field, "is not an object"));
        }
        let discount = super::from_value(raw.clone(), field)?;
        Ok(DiscountReply { discount, raw })
    }
}

/// Decodes the reply of lock or redeem: the Discount object as `payload`.
pub(crate) fn decode_discount(bytes: &[u8]) -> Result<DiscountReply, ConversionError> {
    DiscountReply::from_value(super::envelope::required_payload(bytes)?, "payload")
}

/// Decodes the reply of unlock or reinstate: OK, no payload expected (§3.6, §3.8); one that
/// comes anyway is ignored.
pub(crate) fn decode_done(bytes: &[u8]) -> Result<(), ConversionError> {
    super::envelope::payload(bytes).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discount_keeps_the_object_as_it_came() {
        let body = br#"{"status":"OK","payload":{"reference_id":"uo1","reference_id_type":"UserOfferId","amount":50.0,
            "discounted_line_ids":["1","2"],"discounted_line_id_quantities":[2,1],"pos_discount_id":"SM-50","stack_order":1}}"#;
        let d = decode_discount(body).unwrap();
        assert_eq!(d.raw["reference_id"], "uo1");
        assert_eq!(d.discount.amount.map(|a| a.0), Some(rust_decimal::Decimal::new(500, 1)));
        assert_eq!(d.raw["pos_discount_id"], "SM-50");
        assert_eq!(d.raw["stack_order"], 1);
    }

    #[test]
    fn lock_reply_without_payload_is_a_protocol_problem() {
        assert_eq!(decode_discount(br#"{"status":"OK"}"#).unwrap_err().field, "payload");
        assert!(decode_discount(br#"{"status":"OK","payload":[1]}"#).is_err());
    }

    #[test]
    fn unlock_reply_needs_only_an_ok_status() {
        assert!(decode_done(br#"{"status":"OK"}"#).is_ok());
        assert!(decode_done(br#"{"status":"Ok","payload":{}}"#).is_ok());
        assert!(decode_done(br#"{"status":"error"}"#).is_err());
    }
}
