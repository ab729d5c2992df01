//! IdoSell CustomerAPI simulator behaviour, one rule per test, over real HTTP (the IdoSell
//! contract §2–§9 and its Conformance checklist; each test names the checklist item it covers).

#[path = "idosell/auth.rs"]
mod auth;
#[path = "idosell/faults.rs"]
mod faults;
#[path = "idosell/gateways.rs"]
mod gateways;
#[path = "idosell/orders.rs"]
mod orders;
#[path = "idosell/overflow.rs"]
mod overflow;
#[path = "idosell/support.rs"]
mod support;
#[path = "idosell/transport.rs"]
mod transport;
#[path = "idosell/webhooks.rs"]
mod webhooks;
