//! Test routes under the reserved `/_sim` prefix (simulator decision; no IdoSell counterpart, no
//! authentication): drive the order lifecycle, register callback URLs and deliver due webhooks
//! over HTTP, for adapter tests that only hold the base URL. A dispatch (either route) queues
//! the account's webhook; with `webhook_delivery` `automatic` (default) the simulator sends it
//! at once and its retries when due, with `manual` only `POST /_sim/webhooks/deliver` does.
//!
//! | Method and path | Body / query | Answer |
//! | --- | --- | --- |
//! | `POST /_sim/orders/{orderId}/advance` | `?parcels=N` (dispatch step only, default 1, at most 20) | 200 `{"orderId","status","shipmentNumbers"}`; 404 unknown; 409 finished; the dispatch step fires the webhook (automatic delivery) |
//! | `POST /_sim/orders/{orderId}/dispatch` | `?parcels=N` (default 1, at most 20) | 200 as above; 404 unknown; 409 already dispatched; fires the webhook (automatic delivery) |
//! | `PUT /_sim/accounts/{login}/callback` | `{"url": "http://…"}` or `{"url": null}` | 204; 404 unknown login |
//! | `POST /_sim/webhooks/deliver` | — | 200 `{"attempted": N}`: the attempts due now that the automatic sender is not already sending (all of them with `manual` delivery) |

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{post, put},
    Json, Router,
};
use serde::Deserialize;
use serde_json::json;

use super::{orders, routes::Sim, webhook};

pub(crate) fn routes() -> Router<Sim> {
    Router::new()
        .route("/_sim/orders/{order_id}/advance", post(advance))
        .route("/_sim/orders/{order_id}/dispatch", post(dispatch))
        .route("/_sim/accounts/{login}/callback", put(callback))
        .route("/_sim/webhooks/deliver", post(deliver))
}

/// Parcels of a dispatch: default 1, at most 20 like the control API's `dispatch` event (a
/// huge count would allocate that many tracking numbers).
fn parcels(q: &HashMap<String, String>) -> usize {
    q.get("parcels").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).clamp(1, 20)
}

fn order_json(sim: &Sim, id: &str) -> Response {
    let inner = sim.lock();
    match inner.order_index(id).map(|i| &inner.orders[i]) {
        Some(o) => {
            Json(json!({"orderId": o.id, "status": o.status.as_str(), "shipmentNumbers": o.shipments}))
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn advance(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let now = sim.clock.now();
    let moved = {
        let mut inner = sim.lock();
        if inner.order_index(&id).is_none() {
            return StatusCode::NOT_FOUND.into_response();
        }
        orders::advance(&mut inner, &id, now, parcels(&q))
    };
    match moved {
        Some(_) => order_json(&sim, &id),
        None => StatusCode::CONFLICT.into_response(),
    }
}

async fn dispatch(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let now = sim.clock.now();
    let done = {
        let mut inner = sim.lock();
        if inner.order_index(&id).is_none() {
            return StatusCode::NOT_FOUND.into_response();
        }
        orders::dispatch(&mut inner, &id, now, parcels(&q))
    };
    match done {
        Some(_) => order_json(&sim, &id),
        None => StatusCode::CONFLICT.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    url: Option<String>,
}

async fn callback(
    State(sim): State<Sim>,
    Path(login): Path<String>,
    Json(b): Json<CallbackBody>,
) -> StatusCode {
    let mut inner = sim.lock();
    match inner.account_by_login(&login) {
        Some(a) => {
            inner.accounts[a].callback_url = b.url;
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NOT_FOUND,
    }
}

async fn deliver(State(sim): State<Sim>) -> Json<serde_json::Value> {
    let n = webhook::deliver_due(&sim).await;
    Json(json!({"attempted": n}))
}
