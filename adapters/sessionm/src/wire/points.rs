//! Points balances of the Incentives service (§4.2): `user_points/all_balances`.

use serde::{Deserialize, Serialize};

use super::lenient::Num;
use super::ConversionError;

/// The `all_balances` request (§4.2 \[K\]).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BalancesRequest<'a> {
    pub retailer_id: &'a str,
    pub user_id: &'a str,
    pub culture: &'a str,
}

/// `summary` of the balances (§4.2).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Summary {
    pub total_points: Option<Num>,
}

/// One point account (§4.2).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Detail {
    pub available_balance: Option<Num>,
}

/// The `all_balances` payload.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Balances {
    pub summary: Option<Summary>,
    #[serde(default)]
    pub details: Vec<Detail>,
}

/// Decodes an `all_balances` reply.
pub(crate) fn decode_balances(bytes: &[u8]) -> Result<Balances, ConversionError> {
    super::from_value(super::envelope::required_payload(bytes)?, "payload")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_read_summary_and_details() {
        let b = decode_balances(
            br#"{"status":"ok","payload":{"summary":{"total_points":250,"life_time_points":1250},
                "details":[{"account_name":"Spend","available_balance":250}]}}"#,
        )
        .unwrap();
        assert_eq!(b.summary.and_then(|s| s.total_points).map(|n| n.0), Some(250.into()));
        assert_eq!(b.details[0].available_balance.map(|n| n.0), Some(250.into()));
    }
}
