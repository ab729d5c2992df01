//! The one names table (the IdoSell contract §9.3): gate path, SOAP method name, `SOAPAction`,
//! namespace and results key per gateway G1–G9, and every inferred element name. Everything in
//! [`Names`] is \[I\] or \[S\] and can be overridden through [`super::IdosellSettings::names`],
//! so replacing a working name with the real one from the WSDL is a configuration change.
//!
//! Names the contract confirms (\[G\]/\[C\]) are constants ([`SYSTEM_KEY`], [`SESSION_KEY`],
//! [`DROPSHIPPING_KEY`], [`ERRORS`], [`FAULT_CODE`], [`FAULT_STRING`]); the ICDF product model
//! (§4, \[C\]) and the per-gateway field names (§5, working names \[S\]) are the constants of
//! [`el`].
//!
//! Request element names are matched with their exact case (a SOAP 1.1 PHP server does; §9.3:
//! the adapter spells them from the same table) and without namespace prefixes; only the method
//! element is matched without case, as PHP looks up functions. Replies spell each name as the
//! table has it, `Results` for G7 and `results` elsewhere (§6.1), for adapters to read leniently.

use serde::Deserialize;

/// `systemKey` of `Authenticate` (§3.1, \[G\]).
pub const SYSTEM_KEY: &str = "systemKey";
/// `sessionKey`, answered by `Authenticate` and sent to G2–G9 (§3.5, \[G\]).
pub const SESSION_KEY: &str = "sessionKey";
/// `dropshippingKey`, sent to G2–G9 (§3.4, \[G\]).
pub const DROPSHIPPING_KEY: &str = "dropshippingKey";
/// The error block of every reply (§6.1, \[C\]).
pub const ERRORS: &str = "errors";
/// Error code inside `errors` and inside per-item results (§6.1, \[C\]).
pub const FAULT_CODE: &str = "faultCode";
/// Error text inside `errors` and inside per-item results (§6.1, \[C\]).
pub const FAULT_STRING: &str = "faultString";

/// The SOAP 1.1 envelope namespace (§2.1).
pub const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The SOAP 1.1 encoding namespace (§2.1, rpc/encoded arrays).
pub const SOAP_ENC_NS: &str = "http://schemas.xmlsoap.org/soap/encoding/";

/// Field names below the `params` wrapper: the ICDF product model (§4, \[C\]) and the working
/// names of the gateway fields (§5, \[I\]/\[S\]), in IdoSell's camelCase habit.
pub mod el {
    /// ICDF basket root: list of `product` (§4).
    pub const PRODUCTS: &str = "products";
    /// ICDF basket line (§4).
    pub const PRODUCT: &str = "product";
    /// ICDF product code (§4).
    pub const CODE: &str = "code";
    /// ICDF code family: `internal`, `producer` or `external` (§4).
    pub const CODE_TYPE: &str = "codeType";
    /// ICDF ordered quantity (§4).
    pub const QUANTITY: &str = "quantity";
    /// ICDF end-customer note for a line (§4).
    pub const COMMENT: &str = "comment";
    /// ICDF attachments of a line (§4).
    pub const ATTACHMENTS: &str = "attachments";
    /// ICDF attachment (§4).
    pub const ATTACHMENT: &str = "attachment";
    /// ICDF attachment content, Base64 (§4).
    pub const FILE: &str = "file";
    /// ICDF attachment file name (§4).
    pub const NAME: &str = "name";

    /// G4 recipient address block.
    pub const RECIPIENT: &str = "recipient";
    /// G4 delivery block.
    pub const DELIVERY: &str = "delivery";
    /// G4 payer block: the retail shop's invoice data.
    pub const BILLING: &str = "billing";
    /// G4 note for the wholesaler.
    pub const NOTE: &str = "note";
    /// G4/G5/G6/G7 courier id.
    pub const COURIER_ID: &str = "courierId";
    /// G4 pickup-point id (required for pickup-point couriers).
    pub const PICKUP_POINT_ID: &str = "pickupPointId";
    /// G4 preferred delivery date, `YYYY-MM-DD` (AJAX counterpart, §5 G4).
    pub const PREFERRED_DELIVERY_DATE: &str = "preferredDeliveryDate";
    /// G4 cash-on-delivery amount.
    pub const CASH_ON_DELIVERY: &str = "cashOnDelivery";
    /// G6 delivery address block (country + postcode).
    pub const ADDRESS: &str = "address";
    /// G7 filter: wholesaler order ids.
    pub const ORDER_IDS: &str = "orderIds";
    /// G7 filter: order serial numbers.
    pub const ORDER_SERIAL_NUMBERS: &str = "orderSerialNumbers";
    /// G7 filter: the shop's own references.
    pub const SHOP_ORDER_REFERENCES: &str = "shopOrderReferences";
    /// G8/G9 address id.
    pub const ADDRESS_ID: &str = "addressId";
    /// G8 filter: order id.
    pub const ORDER_ID: &str = "orderId";

    /// Address field: first name.
    pub const FIRST_NAME: &str = "firstName";
    /// Address field: last name.
    pub const LAST_NAME: &str = "lastName";
    /// Address / billing field: company name.
    pub const COMPANY: &str = "company";
    /// Address / billing field: street and number.
    pub const STREET: &str = "street";
    /// Address / billing field: postcode (`NN-NNN` for PL).
    pub const POSTCODE: &str = "postcode";
    /// Address / billing field: city.
    pub const CITY: &str = "city";
    /// Address / billing field: ISO 3166 alpha-2 country code (§9.3 country coding, \[I\]).
    pub const COUNTRY: &str = "country";
    /// Address field: phone.
    pub const PHONE: &str = "phone";
    /// Address field: e-mail.
    pub const EMAIL: &str = "email";
    /// Billing field: tax id (NIP).
    pub const TAX_ID: &str = "taxId";
}

/// A gateway by its stable working id (§5). The id is also the route name the simulator gives
/// its requests, so `handle.inject_route("G4", …)` targets `placeOrder` whatever its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Gateway {
    /// G1 `Authenticate` (\[G\]).
    Authenticate,
    /// G2 `checkAvailability` (working name).
    CheckAvailability,
    /// G3 `basketImport` (working name).
    BasketImport,
    /// G4 `placeOrder` (working name).
    PlaceOrder,
    /// G5 `getCouriers` (working name).
    GetCouriers,
    /// G6 `getCouriersForOrder` (working name).
    GetCouriersForOrder,
    /// G7 `getOrderStatus` (working name).
    GetOrderStatus,
    /// G8 `getClientAddresses` (working name).
    GetClientAddresses,
    /// G9 `setClientAddress` (working name).
    SetClientAddress,
}

impl Gateway {
    /// Every gateway, G1 to G9.
    pub const ALL: [Gateway; 9] = [
        Gateway::Authenticate,
        Gateway::CheckAvailability,
        Gateway::BasketImport,
        Gateway::PlaceOrder,
        Gateway::GetCouriers,
        Gateway::GetCouriersForOrder,
        Gateway::GetOrderStatus,
        Gateway::GetClientAddresses,
        Gateway::SetClientAddress,
    ];

    /// The working id, `G1` … `G9`; also the request's route name in the journal and for
    /// [`crate::SimHandle::inject_route`].
    pub fn id(self) -> &'static str {
        match self {
            Gateway::Authenticate => "G1",
            Gateway::CheckAvailability => "G2",
            Gateway::BasketImport => "G3",
            Gateway::PlaceOrder => "G4",
            Gateway::GetCouriers => "G5",
            Gateway::GetCouriersForOrder => "G6",
            Gateway::GetOrderStatus => "G7",
            Gateway::GetClientAddresses => "G8",
            Gateway::SetClientAddress => "G9",
        }
    }

    /// The working method name of §5 (`Authenticate` is the confirmed one).
    pub fn working_name(self) -> &'static str {
        match self {
            Gateway::Authenticate => "Authenticate",
            Gateway::CheckAvailability => "checkAvailability",
            Gateway::BasketImport => "basketImport",
            Gateway::PlaceOrder => "placeOrder",
            Gateway::GetCouriers => "getCouriers",
            Gateway::GetCouriersForOrder => "getCouriersForOrder",
            Gateway::GetOrderStatus => "getOrderStatus",
            Gateway::GetClientAddresses => "getClientAddresses",
            Gateway::SetClientAddress => "setClientAddress",
        }
    }

    /// The gateway whose working id is `id` (`G1` … `G9`).
    pub fn from_id(id: &str) -> Option<Gateway> {
        Gateway::ALL.into_iter().find(|g| g.id() == id)
    }
}

/// Where one gateway lives and how its messages are named (§9.3, all \[I\]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Gate {
    /// Path (and optional query) below the base URL. Simulator decision: by analogy with the
    /// admin gate grammar (§2.1), `/api/?gate=customerapi/{method}/1/soap`. The request matches
    /// when its path is equal and every query pair of the gate is present (other pairs, such as
    /// `lang`, are allowed). A path ending in `soap` has a JSON twin ending in `json` (§2.1).
    pub path: String,
    /// SOAP method: the element inside `Body`, and `{method}Response` in the reply (matched
    /// case-insensitively, as PHP function names are).
    pub method: String,
    /// `SOAPAction` the WSDL would advertise; only used to name a request's route when the path
    /// is shared (PHP SOAP servers accept any value, §2.2).
    pub soap_action: String,
    /// Namespace bound to `ns1` in replies; the captured admin reply binds `ns1` to the method
    /// name (§2.1), so that is the default.
    pub namespace: String,
    /// The results element of the reply: `Results` or `results` varies per gate (§6.1).
    pub results_key: String,
}

impl Gate {
    /// The working defaults for a gateway.
    pub fn working(g: Gateway) -> Gate {
        let m = g.working_name();
        Gate {
            path: format!("/api/?gate=customerapi/{m}/1/soap"),
            method: m.to_string(),
            soap_action: format!("{m}#{m}"),
            namespace: m.to_string(),
            // Simulator decision: the orders gate answers `Results`, the others `results`, so
            // adapters meet both casings (§6.1).
            results_key: if g == Gateway::GetOrderStatus { "Results" } else { "results" }.to_string(),
        }
    }
}

/// A partial [`Gate`] in a settings file: absent fields keep the gateway's defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GatePatch {
    path: Option<String>,
    method: Option<String>,
    soap_action: Option<String>,
    namespace: Option<String>,
    results_key: Option<String>,
}

impl GatePatch {
    fn apply(self, g: &mut Gate) {
        let set = |slot: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut g.path, self.path);
        set(&mut g.method, self.method);
        set(&mut g.soap_action, self.soap_action);
        set(&mut g.namespace, self.namespace);
        set(&mut g.results_key, self.results_key);
    }
}

/// The nine gates. In a settings file each gate is a table whose keys (`path`, `method`,
/// `soap_action`, `namespace`, `results_key`) override that gate's defaults one by one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Gates {
    /// G1 `Authenticate`.
    pub authenticate: Gate,
    /// G2 `checkAvailability`.
    pub check_availability: Gate,
    /// G3 `basketImport`.
    pub basket_import: Gate,
    /// G4 `placeOrder`.
    pub place_order: Gate,
    /// G5 `getCouriers`.
    pub get_couriers: Gate,
    /// G6 `getCouriersForOrder`.
    pub get_couriers_for_order: Gate,
    /// G7 `getOrderStatus`.
    pub get_order_status: Gate,
    /// G8 `getClientAddresses`.
    pub get_client_addresses: Gate,
    /// G9 `setClientAddress`.
    pub set_client_address: Gate,
}

impl Default for Gates {
    fn default() -> Self {
        Gates {
            authenticate: Gate::working(Gateway::Authenticate),
            check_availability: Gate::working(Gateway::CheckAvailability),
            basket_import: Gate::working(Gateway::BasketImport),
            place_order: Gate::working(Gateway::PlaceOrder),
            get_couriers: Gate::working(Gateway::GetCouriers),
            get_couriers_for_order: Gate::working(Gateway::GetCouriersForOrder),
            get_order_status: Gate::working(Gateway::GetOrderStatus),
            get_client_addresses: Gate::working(Gateway::GetClientAddresses),
            set_client_address: Gate::working(Gateway::SetClientAddress),
        }
    }
}

impl Gates {
    /// The gate of a gateway.
    pub fn get(&self, g: Gateway) -> &Gate {
        match g {
            Gateway::Authenticate => &self.authenticate,
            Gateway::CheckAvailability => &self.check_availability,
            Gateway::BasketImport => &self.basket_import,
            Gateway::PlaceOrder => &self.place_order,
            Gateway::GetCouriers => &self.get_couriers,
            Gateway::GetCouriersForOrder => &self.get_couriers_for_order,
            Gateway::GetOrderStatus => &self.get_order_status,
            Gateway::GetClientAddresses => &self.get_client_addresses,
            Gateway::SetClientAddress => &self.set_client_address,
        }
    }

    /// The gate of a gateway, for changing it in code.
    pub fn get_mut(&mut self, g: Gateway) -> &mut Gate {
        match g {
            Gateway::Authenticate => &mut self.authenticate,
            Gateway::CheckAvailability => &mut self.check_availability,
            Gateway::BasketImport => &mut self.basket_import,
            Gateway::PlaceOrder => &mut self.place_order,
            Gateway::GetCouriers => &mut self.get_couriers,
            Gateway::GetCouriersForOrder => &mut self.get_couriers_for_order,
            Gateway::GetOrderStatus => &mut self.get_order_status,
            Gateway::GetClientAddresses => &mut self.get_client_addresses,
            Gateway::SetClientAddress => &mut self.set_client_address,
        }
    }
}

impl<'de> Deserialize<'de> for Gates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Default, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        struct Patches {
            authenticate: Option<GatePatch>,
            check_availability: Option<GatePatch>,
            basket_import: Option<GatePatch>,
            place_order: Option<GatePatch>,
            get_couriers: Option<GatePatch>,
            get_couriers_for_order: Option<GatePatch>,
            get_order_status: Option<GatePatch>,
            get_client_addresses: Option<GatePatch>,
            set_client_address: Option<GatePatch>,
        }
        let p = Patches::deserialize(d)?;
        let mut gates = Gates::default();
        let patches = [
            (Gateway::Authenticate, p.authenticate),
            (Gateway::CheckAvailability, p.check_availability),
            (Gateway::BasketImport, p.basket_import),
            (Gateway::PlaceOrder, p.place_order),
            (Gateway::GetCouriers, p.get_couriers),
            (Gateway::GetCouriersForOrder, p.get_couriers_for_order),
            (Gateway::GetOrderStatus, p.get_order_status),
            (Gateway::GetClientAddresses, p.get_client_addresses),
            (Gateway::SetClientAddress, p.set_client_address),
        ];
        for (g, patch) in patches {
            if let Some(patch) = patch {
                patch.apply(gates.get_mut(g));
            }
        }
        Ok(gates)
    }
}

/// The `faultCode` numbers answered for each class of the simulator's table (§6.3). Every
/// number but login (1) and empty (2), which keep the admin gates' confirmed meaning (§6.2), is
/// a simulator choice (§9.3 "faultCode numbers 3–11, 99 and their classes": \[S\]); the
/// defaults are §6.3's. In a settings file, `[names.faults]` overrides any subset.
///
/// Magic values (`FAIL-SESSION`, …) raise their class, so they answer the number set here;
/// [`super::IdosellProbe::fail_call`] answers its number as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultNumbers {
    /// Unknown login or wrong `systemKey`: 1.
    pub login: u32,
    /// Nothing matched the query: 2.
    pub empty: u32,
    /// `sessionKey` missing, unknown, expired or revoked: 3.
    pub session: u32,
    /// `dropshippingKey` missing or wrong, or dropshipping off for the account: 4.
    pub dropshipping: u32,
    /// Malformed, missing or unknown parameter: 5.
    pub input: u32,
    /// Product unknown for (`code`, `codeType`): 6.
    pub unknown_product: u32,
    /// Insufficient stock: 7.
    pub stock: u32,
    /// Courier not allowed for the order or address: 8.
    pub courier: u32,
    /// Basket empty on `placeOrder`: 9.
    pub basket_empty: u32,
    /// Address not modifiable, its order was dispatched: 10.
    pub address_locked: u32,
    /// Request body over the limit: 11.
    pub too_large: u32,
    /// Internal error: 99.
    pub internal: u32,
}

impl Default for FaultNumbers {
    fn default() -> Self {
        use super::messages as m;
        FaultNumbers {
            login: m::LOGIN,
            empty: m::EMPTY,
            session: m::SESSION,
            dropshipping: m::DROPSHIPPING,
            input: m::INPUT,
            unknown_product: m::UNKNOWN_PRODUCT,
            stock: m::STOCK,
            courier: m::COURIER,
            basket_empty: m::BASKET_EMPTY,
            address_locked: m::ADDRESS_LOCKED,
            too_large: m::TOO_LARGE,
            internal: m::INTERNAL,
        }
    }
}

impl FaultNumbers {
    /// The number answered for a class, given as its default (§6.3) number; a number outside
    /// the table is answered as it is.
    pub(crate) fn number(&self, class: u32) -> u32 {
        use super::messages as m;
        match class {
            m::LOGIN => self.login,
            m::EMPTY => self.empty,
            m::SESSION => self.session,
            m::DROPSHIPPING => self.dropshipping,
            m::INPUT => self.input,
            m::UNKNOWN_PRODUCT => self.unknown_product,
            m::STOCK => self.stock,
            m::COURIER => self.courier,
            m::BASKET_EMPTY => self.basket_empty,
            m::ADDRESS_LOCKED => self.address_locked,
            m::TOO_LARGE => self.too_large,
            m::INTERNAL => self.internal,
            other => other,
        }
    }
}

/// The dispatch webhook's names (§7.2, all \[S\]). In a settings file, `[names.webhook]`
/// overrides any subset; the adapter's table takes the same values (`simulated::names_of`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookNames {
    /// Header with the event id, the same for every retry of one event: `eventId`.
    pub event_id_header: String,
    /// Header with the signature: `X-Signature`.
    pub signature_header: String,
    /// Prefix of the signature value before the hex HMAC-SHA1: `sha1=`.
    pub signature_prefix: String,
    /// The body's `event` of a dispatch: `orderDispatched`.
    pub dispatched_event: String,
}

impl Default for WebhookNames {
    fn default() -> Self {
        WebhookNames {
            event_id_header: "eventId".into(),
            signature_header: "X-Signature".into(),
            signature_prefix: "sha1=".into(),
            dispatched_event: "orderDispatched".into(),
        }
    }
}

/// The table of §9.3: gates plus the inferred element names. Defaults are the working names.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Names {
    /// Gate path, method, `SOAPAction`, namespace and results key per gateway.
    pub gates: Gates,
    /// G1 login element: `login` (most plausible of `login`, `userLogin`, `clientLogin`, §3.1).
    pub login: String,
    /// G1 reply element carrying the session expiry; `None` (default) = not sent (§5 G1: an
    /// expiry is only "possibly present").
    pub session_expiry: Option<String>,
    /// Request wrapper inside the method element (§2.3): `request`.
    pub request: String,
    /// Gateway parameters wrapper inside `request` (§2.3): `params`.
    pub params: String,
    /// Reply wrapper inside `{method}Response`: `response`, mirroring the captured admin reply
    /// (§2.1).
    pub response: String,
    /// G4 shop order reference, also the G7 filter per reference (§5 G4): `shopOrderReference`.
    pub shop_order_reference: String,
    /// G8 paging: page number, from 0 (§5 G8, admin name \[C\]): `resultsPage`.
    pub results_page: String,
    /// G8 paging: page size (§5 G8, admin name \[C\]): `resultsLimit`.
    pub results_limit: String,
    /// The `faultCode` number of each class (§6.3).
    pub faults: FaultNumbers,
    /// The dispatch webhook's headers, signature prefix and event name (§7.2).
    pub webhook: WebhookNames,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            gates: Gates::default(),
            login: "login".into(),
            session_expiry: None,
            request: "request".into(),
            params: "params".into(),
            response: "response".into(),
            shop_order_reference: "shopOrderReference".into(),
            results_page: "resultsPage".into(),
            results_limit: "resultsLimit".into(),
            faults: FaultNumbers::default(),
            webhook: WebhookNames::default(),
        }
    }
}

impl Names {
    /// The statuses the simulator reports for a dispatched order (the parcel has left; §4),
    /// in lifecycle order: `wait_for_receive`, `finished`.
    pub fn dispatched_statuses(&self) -> Vec<&'static str> {
        std::iter::successors(Some(super::state::Status::New), |s| s.next())
            .filter(|s| s.dispatched())
            .map(super::state::Status::as_str)
            .collect()
    }
}

/// The path of a gate's JSON twin: the trailing `soap` becomes `json` (§2.1). `None` when the
/// gate path does not end in `soap`.
pub(crate) fn json_twin(path: &str) -> Option<String> {
    path.strip_suffix("soap").map(|p| format!("{p}json"))
}

/// Whether a request (`path`, raw `query`) is addressed to `gate_path`: equal paths, and every
/// query pair of the gate present in the request (both sides percent-decoded).
pub(crate) fn path_matches(gate_path: &str, path: &str, query: Option<&str>) -> bool {
    let (gp, gq) = gate_path.split_once('?').unwrap_or((gate_path, ""));
    if gp != path {
        return false;
    }
    let have = pairs(query.unwrap_or(""));
    pairs(gq).iter().all(|p| have.contains(p))
}

/// Percent-decoded `key=value` pairs of a query string.
pub(crate) fn pairs(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_matches_with_extra_query_pairs() {
        let g = "/api/?gate=customerapi/placeOrder/1/soap";
        assert!(path_matches(g, "/api/", Some("gate=customerapi/placeOrder/1/soap")));
        assert!(path_matches(g, "/api/", Some("lang=eng&gate=customerapi%2FplaceOrder%2F1%2Fsoap")));
        assert!(!path_matches(g, "/api/", Some("gate=customerapi/placeOrder/1/json")));
        assert!(!path_matches(g, "/api", Some("gate=customerapi/placeOrder/1/soap")));
    }

    #[test]
    fn json_twin_swaps_the_suffix() {
        assert_eq!(json_twin("/api/?gate=a/b/1/soap").as_deref(), Some("/api/?gate=a/b/1/json"));
        assert_eq!(json_twin("/customer/ws"), None);
    }

    #[test]
    fn gate_patch_keeps_other_defaults() {
        let n: Names = serde_json::from_str(r#"{"gates":{"place_order":{"path":"/x/soap"}}}"#).unwrap();
        assert_eq!(n.gates.place_order.path, "/x/soap");
        assert_eq!(n.gates.place_order.method, "placeOrder");
        assert_eq!(n.gates.authenticate, Gate::working(Gateway::Authenticate));
    }

    #[test]
    fn webhook_names_patch_keeps_other_defaults() {
        let n: Names = serde_json::from_str(r#"{"webhook":{"event_id_header":"X-Event"}}"#).unwrap();
        assert_eq!(n.webhook.event_id_header, "X-Event");
        assert_eq!(n.webhook.signature_prefix, "sha1=");
        assert!(serde_json::from_str::<Names>(r#"{"webhook":{"event":"x"}}"#).is_err());
        assert_eq!(n.dispatched_statuses(), ["wait_for_receive", "finished"]);
    }

    #[test]
    fn unknown_gate_key_is_refused() {
        assert!(serde_json::from_str::<Names>(r#"{"gates":{"place_order":{"pth":"/x"}}}"#).is_err());
        assert!(serde_json::from_str::<Names>(r#"{"gates":{"g4":{}}}"#).is_err());
    }
}
