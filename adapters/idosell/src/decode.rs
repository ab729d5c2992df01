//! Reply decoders as pure functions of bytes (and the names table), public for benchmarks and
//! fuzzing: none does I/O, none panics on any input.

use chrono_tz::Tz;
use loyalty_core::{Error, OrderStatus};

use crate::names::Names;
use crate::wire;

/// Decodes a G7 `getOrderStatus` reply into order statuses, in one pass over the bytes (an
/// order at a time; the reply is never held as a tree). Dates are read in `zone`.
///
/// # Errors
/// `Protocol` naming the field for a reply that contradicts the contract; the classified
/// error for a non-zero `faultCode` other than the empty class.
pub fn order_statuses(names: &Names, zone: Tz, body: &[u8]) -> Result<Vec<OrderStatus>, Error> {
    const OP: &str = "fulfilment.order_status";
    wire::orders::decode_order_status_with(names, OP, body, |o| wire::convert::order_status(&o, names, zone))
}
