//! Simulator extras under the reserved `/_sim` prefix (not part of SessionM): read-only views
//! for tests, without authentication.
//!
//! * `GET /_sim/transactions[?pos_transaction_id=...][&store_id=...]`: stored transactions in the shape of the
//!   Transactions service's `get_store_transactions` payload (the SessionM contract §4.5):
//!   `{"status": "ok", "payload": {"total_records", "results": [...], "pagination_token"}}`.
//! * `GET /_sim/warnings`: `{"status": "ok", "payload": {"warnings": [{"transaction_id",
//!   "message"}]}}`, what `send_transaction` accepted but noted (older `modified_time`,
//!   mismatched totals, discounts that redeemed nothing).

use std::collections::HashMap;

use axum::extract::{Query, State};
use serde_json::{json, Value};

use super::{json_resp, Response, Sim};
use crate::sessionm::names;

/// `GET /_sim/transactions`.
pub(crate) async fn transactions(
    State(sim): State<Sim>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let g = sim.state();
    let payload = g.transactions_payload(
        q.get("pos_transaction_id").map(String::as_str),
        q.get("store_id").map(String::as_str),
    );
    json_resp(200, &json!({"status": names::OK_LOWER, "payload": payload}).to_string())
}

/// `GET /_sim/warnings`.
pub(crate) async fn warnings(State(sim): State<Sim>) -> Response {
    let g = sim.state();
    let list: Vec<Value> =
        g.warnings.iter().map(|(t, m)| json!({"transaction_id": t, "message": m})).collect();
    json_resp(200, &json!({"status": names::OK_LOWER, "payload": {"warnings": list}}).to_string())
}
