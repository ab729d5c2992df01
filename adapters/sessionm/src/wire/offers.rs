//! The offer wallet: Connect's `get_user_offers` (§4.3) and its user offer entries (§5.6), which
//! the lookup payload reuses (§3.3 \[I\]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient::{Flag, Num};
use super::ConversionError;

/// The `get_user_offers` request (§4.3 \[P\]\[K\]): not enveloped.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UserOffersRequest<'a> {
    pub retailer_id: &'a str,
    pub user_id: &'a str,
    pub skip: i64,
    pub take: i64,
    pub include_pending_extended_data: bool,
    pub culture: &'a str,
}

/// `offer_config` members the adapter reads (§5.6 \[K\]; `apply_to` is \[S\]).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct OfferConfig {
    pub apply_to: Option<String>,
}

/// One wallet entry (§5.6). Both spellings are accepted where two exist: `user_offer_id` or
/// `id`, `expiration_date` or `redemption_end_date` (§5.6 \[K\]\[S\]).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct WalletEntry {
    pub user_offer_id: Option<String>,
    pub id: Option<String>,
    pub offer_id: Option<String>,
    pub offer_type: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_redeemable: Option<Flag>,
    pub start_date: Option<String>,
    pub expiration_date: Option<String>,
    pub redemption_end_date: Option<String>,
    pub offer_config: Option<OfferConfig>,
    /// Present in a lookup with a basket: the Discount computed for it (§3.3).
    pub discount: Option<Value>,
}

impl WalletEntry {
    /// The wallet instance id, whichever spelling carried it.
    pub(crate) fn instance_id(&self) -> Option<&str> {
        first_given(&self.user_offer_id, &self.id)
    }

    /// The last moment it can be redeemed, whichever spelling carried it.
    pub(crate) fn end(&self) -> Option<&str> {
        first_given(&self.expiration_date, &self.redemption_end_date)
    }
}

/// The first of two spellings that carries text: an empty one (`""`) counts as absent, so the
/// other spelling still answers.
fn first_given<'a>(first: &'a Option<String>, second: &'a Option<String>) -> Option<&'a str> {
    let given = |s: &'a Option<String>| s.as_deref().filter(|s| !s.trim().is_empty());
    given(first).or_else(|| given(second))
}

/// The `get_user_offers` payload (§4.3 \[P\]): the ISSUED wallet and its size.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct UserOffersPayload {
    /// `null` is an empty page, as an absent list is.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub user_offers: Vec<WalletEntry>,
    pub total_records: Option<Num>,
}

/// Decodes a `get_user_offers` reply.
pub(crate) fn decode_user_offers(bytes: &[u8]) -> Result<UserOffersPayload, ConversionError> {
    super::from_value(super::envelope::required_payload(bytes)?, "payload")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_instance_id_and_end_are_accepted() {
        let p = decode_user_offers(
            br#"{"status":"ok","payload":{"user_offers":[
                {"user_offer_id":"a","expiration_date":"2026-12-31T23:59:59Z"},
                {"id":"b","redemption_end_date":"2026-06-30"}],"total_records":2}}"#,
        )
        .unwrap();
        assert_eq!(p.user_offers[0].instance_id(), Some("a"));
        assert_eq!(p.user_offers[1].instance_id(), Some("b"));
        assert_eq!(p.user_offers[1].end(), Some("2026-06-30"));
        assert_eq!(p.total_records.map(|n| n.0), Some(2.into()));
        let empty =
            decode_user_offers(br#"{"status":"ok","payload":{"user_offers":null,"total_records":0}}"#)
                .unwrap();
        assert!(empty.user_offers.is_empty());
    }

    #[test]
    fn an_empty_spelling_leaves_the_other_to_answer() {
        let entry: WalletEntry = serde_json::from_value(serde_json::json!({
            "user_offer_id": "", "id": "uo-1",
            "expiration_date": "", "redemption_end_date": "2026-12-31T23:59:59Z"
        }))
        .unwrap();
        assert_eq!(entry.instance_id(), Some("uo-1"));
        assert_eq!(entry.end(), Some("2026-12-31T23:59:59Z"));
        let entry: WalletEntry =
            serde_json::from_value(serde_json::json!({ "user_offer_id": " ", "expiration_date": "" }))
                .unwrap();
        assert_eq!((entry.instance_id(), entry.end()), (None, None));
    }
}
