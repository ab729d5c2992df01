//! The problem answers as the OpenAPI document lists them: one type per status, so a path names
//! the answers it can give (`responses((status = 200, …), Vendor, NotFound)`) and each status
//! is described once. Every one is `application/problem+json` with the [`Problem`] schema.
//!
//! [`Problem`]: crate::problem::Problem

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

use crate::problem::PROBLEM_JSON;

/// One problem answer: its status and description.
fn problem(status: &str, description: &str) -> (String, RefOr<Response>) {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    (
        status.to_owned(),
        ResponseBuilder::new().description(description).content(PROBLEM_JSON, content).build().into(),
    )
}

macro_rules! problem_answers {
    ($($(#[$doc:meta])* $name:ident = $status:literal, $description:literal;)+) => {$(
        $(#[$doc])*
        pub(crate) struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([problem($status, $description)])
            }
        }
    )+};
}

problem_answers! {
    /// 400: the body, a path or a query parameter does not read.
    BadRequest = "400", "The request does not read (the field is named)";
    /// 400 for a write that takes no body: the path or a header does not read, or a body was
    /// sent (field `body`).
    BadRequestNoBody = "400", "The request does not read (the field is named), or a body was sent: this endpoint takes none (field body)";
    /// 404: no such member, order or path.
    NotFound = "404", "Not found";
    /// 409: the checkout's state forbids it, or the idempotency key is in use.
    Conflict = "409", "The state forbids it, or the key is in use";
    /// 422: a bad value, a business refusal, or a key reused for another request.
    Refused = "422", "Refused: a bad value, a business refusal, or a key used for another request";
    /// 501: the configured provider has no such capability.
    Unsupported = "501", "The provider cannot do this";
}

/// 413 and 415: what every path that reads a body can answer about the body itself (over
/// `max_body_bytes`, or not `application/json`).
pub(crate) struct TooLarge;

impl IntoResponses for TooLarge {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            problem("413", "The body is over the limit"),
            problem("415", "The body is not application/json"),
        ])
    }
}

/// The answers every path behind the API key can give, whatever it does: 401 (no key or the
/// wrong one), the vendor's own trouble (429, 502 and 503), and 500 when the service itself
/// failed (a bug: the request stopped, reported as a problem).
pub(crate) struct Vendor;

impl IntoResponses for Vendor {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([
            problem("401", "No API key, or the wrong one"),
            problem("429", "The vendor limits calls; see Retry-After"),
            problem("500", "The service itself failed (a bug); repeat the request with the same key"),
            problem("502", "The vendor failed (credentials refused, nonsense answered)"),
            problem("503", "The vendor is unavailable; try again"),
        ])
    }
}
