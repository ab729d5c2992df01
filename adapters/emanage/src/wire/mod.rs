//! eManage's own request and reply shapes, split by the contract's sections: campaign reads
//! (§5.3, §6.1), the cart session API with upgrade lines (§6.4 rows 1-5, §7), customer and
//! checkout (§6.4 rows 6-7), and the conversions to and from the core (`convert`).
//!
//! Replies are read leniently (`lenient`): member names in any letter case, numbers or
//! numeric strings, unknown members ignored (§4, §10). Each decoder is a pure function of the
//! body's bytes. Requests are written as client code sends them: camelCase keys, ids and
//! quantities as integers, prices as decimal strings.

mod campaign;
mod cart;
mod checkout;
pub(crate) mod convert;
mod lenient;

use std::fmt;

use loyalty_core::{Error, ErrorKind};

pub use campaign::{decode_price_list, PriceListReply, ProductPrice};
pub use cart::{
    decode_add_reply, decode_cart, decode_session_id, AddReply, AddRequest, CartResponse, LineRequest,
    NewSessionRequest, SessionStatus, UpgradeChain, UpgradeFields, UpgradeStatus,
};
pub use checkout::{decode_checkout, Address, CheckoutRequest, CheckoutResponse, CustomerRequest, Payment};

/// A value that cannot cross the edge: a request the core asked for that eManage cannot carry
/// (`Invalid`), or a reply eManage should never send (`Protocol`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionError {
    /// The offending field, as a path (`products[1].price`).
    pub field: String,
    /// Why.
    pub reason: String,
}

impl ConversionError {
    /// Makes an error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> ConversionError {
        ConversionError { field: field.into(), reason: reason.into() }
    }

    /// As an `Invalid` error of `operation` (a request that cannot be built).
    pub fn invalid(self, operation: &str) -> Error {
        Error::invalid(crate::PROVIDER, operation, self.field, self.reason)
    }

    /// As a `Protocol` error of `operation` (a reply that cannot be read or explained).
    pub fn protocol(self, operation: &str) -> Error {
        Error::new(ErrorKind::Protocol, crate::PROVIDER, operation)
            .with_message(format!("{}: {}", self.field, self.reason))
    }
}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for ConversionError {}

pub(crate) type Conv<T> = Result<T, ConversionError>;

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        // Every decoder is a pure function of the body: whatever the vendor sends, it answers a
        // value or a conversion error, never a panic.
        #[test]
        fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_cart(&bytes);
            let _ = decode_price_list(&bytes);
            let _ = decode_checkout(&bytes);
            let _ = decode_session_id(&bytes);
            let _ = decode_add_reply(&bytes, "s");
        }

        #[test]
        fn cart_decoder_never_panics_on_cart_shaped_json(
            product in any::<i64>(),
            price in "[-]?[0-9]{0,20}(\\.[0-9]{0,20})?",
            quantity in any::<i64>(),
            status in "[A-Za-z]{0,12}",
        ) {
            let body = format!(
                r#"{{"products":[{{"productId":{product},"price":"{price}","quantity":{quantity},"upgradeStatus":"{status}"}}],"status":"{status}"}}"#
            );
            let _ = decode_cart(body.as_bytes());
        }
    }
}
