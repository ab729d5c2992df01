//! Identifier newtypes: an id of one kind can never be passed where another is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a provider's or integrator's id.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_string())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

id_type!(
    /// A member's id at the provider.
    MemberId
);
id_type!(
    /// An offer's id (coupon, stamp card, progressive discount, reward).
    OfferId
);
id_type!(
    /// The integrator's transaction (order) id: the idempotency key everywhere.
    TransactionId
);
id_type!(
    /// A basket or transaction line id, unique within its basket.
    LineId
);
id_type!(
    /// The integrator's product id, the one offers name in their product lists.
    ProductId
);
id_type!(
    /// A segment (custom member field) id.
    SegmentId
);
id_type!(
    /// A hold (lock or reservation) id.
    HoldId
);
id_type!(
    /// A store or department id at the provider.
    DepartmentId
);
id_type!(
    /// A shopping cart (session) id.
    CartId
);
id_type!(
    /// A dropship order id at the wholesaler.
    OrderId
);
