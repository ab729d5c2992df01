//! Kit faults aimed at one Diller endpoint by its catalogue id (diller.md §3): paths that are
//! prefixes of others (M3 register under M4 enroll, T1 under T3 refund) no longer drag their
//! neighbours in; path-prefix rules still hit everything below them.

use loyalty_sim::{diller::demo, Fault};
use serde_json::json;

use super::{member_path, sale, sim, STORE};

fn enroll(number: &str) -> serde_json::Value {
    json!({"phone": {"country_code": "+47", "number": number}, "department_id": "web"})
}

fn register(number: &str) -> serde_json::Value {
    json!({"phone": {"country_code": "+47", "number": number}, "first_name": "Ny", "last_name": "Kunde",
           "consent": {"gdpr_accepted": true}})
}

#[tokio::test]
async fn a_route_fault_on_register_leaves_enroll_working() {
    let t = sim().await;
    let members = format!("{STORE}/members");
    t.server.handle().inject_route("M3", Fault::Status(503), None);
    assert_eq!(t.post(&members, register("49999997")).await.0, 503, "M3 gets the fault");
    let (s, v) = t.post(&format!("{members}/enroll"), enroll("49999998")).await;
    assert_eq!(s, 200, "M4 is not M3: {v}");
}

#[tokio::test]
async fn a_route_fault_on_send_transaction_leaves_refunds_working() {
    let t = sim().await;
    assert_eq!(t.t1(sale("Order-1")).await.0, 200);
    t.server.handle().inject_route("T1", Fault::Status(503), None);
    assert_eq!(t.t1(sale("Order-2")).await.0, 503, "T1 gets the fault");
    let refund = json!({"external_id": "R-1", "total": 100.0, "currency": "NOK", "department_id": "web"});
    let (s, v) = t.post(&member_path("/transactions/Order-1/refund"), refund).await;
    assert_eq!(s, 200, "T3 is not T1: {v}");
}

#[tokio::test]
async fn the_journal_names_each_request_by_its_catalogue_id() {
    let t = sim().await;
    t.get(&format!("{STORE}/members/search?phone=%2B4741234567")).await;
    t.get(&member_path("")).await;
    t.post(&format!("{STORE}/members/enroll"), enroll("49999996")).await;
    t.post(&member_path(&format!("/stamp-cards/{}/reserve", demo::STAMP_CARD_COFFEE)), json!({})).await;
    t.t1(sale("Order-1")).await;
    t.post(&format!("{STORE}/transactions/Order-1/cancel"), json!({"reason": "test"})).await;
    let routes: Vec<Option<String>> =
        t.server.handle().journal().entries().into_iter().map(|e| e.route).collect();
    let want = ["token", "M1", "M2", "M4", "K3", "T1", "T2"].map(|r| Some(r.to_string()));
    assert_eq!(routes, want);
}

#[tokio::test]
async fn a_path_prefix_fault_still_hits_every_route_below_it() {
    let t = sim().await;
    let members = format!("{STORE}/members");
    t.server.handle().inject("POST", &members, Fault::Status(503), Some(2));
    assert_eq!(t.post(&members, register("49999995")).await.0, 503);
    assert_eq!(t.post(&format!("{members}/enroll"), enroll("49999994")).await.0, 503);
    assert_eq!(t.post(&format!("{members}/enroll"), enroll("49999994")).await.0, 200, "used up");
}
