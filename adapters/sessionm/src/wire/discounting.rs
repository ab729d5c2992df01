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

/// What a SessionM hold or redemption keeps as its `vendor_data`: the Discount object lock or
/// redeem answered with, exactly as it came (sent back with the sale, §3.5, §5.1), the store
/// that took the lock (a lock belongs to one store's transaction, §7.5, §8.3: only a sale of
/// that store redeems it, and unlock and reinstate go there too), the user offer it locks
/// (unlock and reinstate take a `user_offer_id`, §3.6, §3.8; a lock taken by TTL code may name
/// only the code, §5.5 \[I\]), and, for an immediate redeem, the store it ran at.
///
/// It also keeps the employee the lock or redeem ran under: a reinstate sends that employee and
/// that store rather than its own call's, so every reinstate of one use is the same request
/// (same `request_id`, same body), which SessionM answers from its stored response without a
/// second effect (§7.5, checklist 14). A retried return run by another cashier, or by a worker
/// whose context names no employee, must not become a new request that gives back a later use.
///
/// Stored as `{"discount": {...}, "store_id": "...", "user_offer_id": "...", "employee_id":
/// "...", "redeem_store_id": "..."}`, each but `discount` only when known. A redeem's store is
/// not `store_id`: that one marks a lock, which a sale of another store is refused for. Data
/// recorded before this shape (a hold's or a redemption's bare Discount object) reads as that
/// object with nothing else known; a hold recorded before `employee_id` reads without it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeldLock {
    pub discount: Value,
    /// The store that took the lock (a hold only).
    pub store_id: Option<String>,
    pub user_offer_id: Option<String>,
    /// The employee the lock or redeem ran under (`employee_id` of the reinstate, §3.8).
    pub employee_id: Option<String>,
    /// The store an immediate redeem ran at (where its reinstate goes, §3.8).
    pub redeem_store_id: Option<String>,
}

impl HeldLock {
    const DISCOUNT: &'static str = "discount";
    const STORE: &'static str = "store_id";
    const USER_OFFER: &'static str = "user_offer_id";
    const EMPLOYEE: &'static str = "employee_id";
    const REDEEM_STORE: &'static str = "redeem_store_id";

    /// A bare Discount object, nothing else known.
    pub(crate) fn bare(discount: Value) -> HeldLock {
        HeldLock { discount, store_id: None, user_offer_id: None, employee_id: None, redeem_store_id: None }
    }

    /// The shape kept in `vendor_data`.
    pub(crate) fn to_value(&self) -> Value {
        let mut o = serde_json::Map::new();
        o.insert(Self::DISCOUNT.into(), self.discount.clone());
        for (key, value) in [
            (Self::STORE, &self.store_id),
            (Self::USER_OFFER, &self.user_offer_id),
            (Self::EMPLOYEE, &self.employee_id),
            (Self::REDEEM_STORE, &self.redeem_store_id),
        ] {
            if let Some(v) = value {
                o.insert(key.into(), Value::String(v.clone()));
            }
        }
        Value::Object(o)
    }

    /// Reads kept vendor data: this shape (its `discount` an object), else the value itself as
    /// the Discount object (a hold or a redemption recorded before this shape).
    pub(crate) fn read(v: &Value) -> HeldLock {
        let text =
            |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.trim().is_empty()).map(str::to_string);
        match v.get(Self::DISCOUNT) {
            Some(d @ Value::Object(_)) => HeldLock {
                discount: d.clone(),
                store_id: text(Self::STORE),
                user_offer_id: text(Self::USER_OFFER),
                employee_id: text(Self::EMPLOYEE),
                redeem_store_id: text(Self::REDEEM_STORE),
            },
            _ => HeldLock::bare(v.clone()),
        }
    }
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

#[cfg(test)]
mod held_lock_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_held_lock_keeps_the_discount_its_store_and_its_user_offer() {
        let lock = HeldLock {
            discount: json!({"reference_id": "TTL-1", "reference_id_type": "TTLCode", "amount": 5.0}),
            store_id: Some("OSL-001".into()),
            user_offer_id: Some("uo-1".into()),
            employee_id: Some("cashier-1".into()),
            redeem_store_id: None,
        };
        assert_eq!(HeldLock::read(&lock.to_value()), lock);
    }

    #[test]
    fn a_redemption_keeps_its_store_apart_from_a_locks() {
        let kept = HeldLock {
            redeem_store_id: Some("OSL-002".into()),
            employee_id: Some("cashier-1".into()),
            ..HeldLock::bare(json!({"reference_id": "uo-1", "reference_id_type": "UserOfferId"}))
        };
        let v = kept.to_value();
        assert_eq!(v["redeem_store_id"], "OSL-002");
        assert!(v.get("store_id").is_none(), "not a lock: a sale of another store is not refused");
        assert_eq!(HeldLock::read(&v), kept);
    }

    #[test]
    fn a_hold_recorded_before_the_employee_reads_without_one() {
        let v = json!({"discount": {"reference_id": "uo-1"}, "store_id": "OSL-001"});
        let read = HeldLock::read(&v);
        assert_eq!((read.store_id.as_deref(), read.employee_id), (Some("OSL-001"), None));
    }

    #[test]
    fn a_bare_discount_object_reads_as_a_lock_of_unknown_store() {
        let d = json!({"reference_id": "uo-1", "reference_id_type": "UserOfferId", "amount": 5.0});
        assert_eq!(HeldLock::read(&d), HeldLock::bare(d.clone()));
    }
}
