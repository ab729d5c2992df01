//! The POS Transaction object (§5.1) with its items (§5.2) and payments (§5.3), sent by
//! `send_transaction` and embedded as the basket of lookup, lock and redeem; and the
//! `send_transaction` reply.

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use super::ConversionError;

/// A transaction or basket (§5.1). Amounts are JSON numbers in major units of the store
/// currency; no currency field exists (§5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Transaction {
    pub transaction_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pos_employee_id: Option<String>,
    pub is_closed: bool,
    pub is_voided: bool,
    pub subtotal: Number,
    pub tax_total: Number,
    /// The re-send ordering key (§7.5): newest wins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_time: Option<String>,
    pub channel: String,
    pub items: Vec<Item>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<Payment>,
    /// The Discount objects of lock and redeem, echoed as they came (§3.5), or rebuilt for a
    /// later version of the sale.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<Value>,
}

/// One line (§5.2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Item {
    pub line_id: String,
    /// The POS item key matched against the SessionM catalogue (§5.2 \[K\]).
    pub item_id: String,
    pub quantity: Number,
    pub unit_price: Number,
    /// `quantity × unit_price` before discounts (§5.2 \[I\]).
    pub subtotal: Number,
    /// Tax contained in the line, an amount (§5.2 \[K\]\[G\]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_included: Option<Number>,
}

/// One tender (§5.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Payment {
    pub payment_id: String,
    pub amount: Number,
    #[serde(rename = "type")]
    pub kind: String,
    pub payment_time: String,
    /// The member who paid: attributes the sale (§5.1: no header user field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id_type: Option<String>,
}

/// What `send_transaction` answers. The payload is not public and clients treat it as opaque
/// (§3.9 \[K\]); its `id` is kept as the receipt's reference when it is there.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SendReply {
    pub id: Option<String>,
}

/// Decodes a `send_transaction` reply: OK status required, payload optional and opaque.
pub(crate) fn decode_send(bytes: &[u8]) -> Result<SendReply, ConversionError> {
    match super::envelope::payload(bytes)? {
        Some(p @ Value::Object(_)) => Ok(serde_json::from_value(p).unwrap_or_default()),
        _ => Ok(SendReply::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_reply_payload_is_opaque() {
        assert_eq!(
            decode_send(br#"{"status":"OK","payload":{"id":"x1"}}"#).unwrap().id.as_deref(),
            Some("x1")
        );
        assert_eq!(decode_send(br#"{"status":"OK","payload":{"id":7}}"#).unwrap().id, None);
        assert_eq!(decode_send(br#"{"status":"OK"}"#).unwrap().id, None);
        assert!(decode_send(b"not json").is_err());
    }
}
