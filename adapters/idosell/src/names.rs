//! The one names table (the IdoSell contract §9.3): every gate path, SOAP method, `SOAPAction`,
//! namespace, results key, inferred element name and fault number the adapter uses.
//!
//! Everything in [`Names`] is inferred (\[I\]) or a simulator choice (\[S\]) and can be replaced
//! from configuration (the `names` table of [`crate::IdosellConfig`]), so a real wholesaler's
//! WSDL changes configuration, not code (checklist 24). The names the contract confirms are
//! constants: [`SYSTEM_KEY`], [`SESSION_KEY`], [`DROPSHIPPING_KEY`] (\[G\]) and [`ERRORS`],
//! [`FAULT_CODE`], [`FAULT_STRING`] (\[C\]); the ICDF product model (§4, \[C\]) and the working
//! field names of §5 are the constants of [`el`].
//!
//! Replies are read leniently (§9.1): element names are compared without namespace prefix and
//! without case, so `Results`/`results` or `SessionKey`/`sessionKey` never matter.

use serde::{Deserialize, Serialize};

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
/// The singular spelling of the results element, `result`, as the captured admin reply writes
/// it (§2.1; §6.1: "the `result(s)` element", \[C\]): read wherever a gate's configured
/// [`Gate::results_key`] is absent, so a gate answering `result` is read, not taken for a
/// reply without results.
pub const RESULT: &str = "result";

/// The SOAP 1.1 envelope namespace (§2.1).
pub const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The SOAP 1.1 encoding namespace (§2.1, rpc/encoded arrays).
pub const SOAP_ENC_NS: &str = "http://schemas.xmlsoap.org/soap/encoding/";
/// `Content-Type` of SOAP requests (§2.2 \[I\], checklist 22).
pub const SOAP_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// Field names below the `params` wrapper and in replies: the ICDF product model (§4, \[C\]) and
/// the working names of the gateway fields (§5, \[I\]/\[S\]), in IdoSell's camelCase habit.
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
    /// ICDF product name in replies (§4).
    pub const NAME: &str = "name";

    /// G2 per-line and overall verdict (§5 G2 \[I\]).
    pub const AVAILABLE: &str = "available";
    /// G2 available quantity per line (§5 G2 \[I\]).
    pub const AVAILABLE_QUANTITY: &str = "availableQuantity";
    /// G3 basket id (§5 G3 \[I\]).
    pub const BASKET_ID: &str = "basketId";
    /// G3 lines in the basket after the import (§5 G3 \[I\]; the simulator's name): equal to
    /// the lines sent when the import replaced the basket, more when it appended (§5 G3 open
    /// question).
    pub const BASKET_LINES: &str = "basketLines";

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
    /// G4 pickup-point id.
    pub const PICKUP_POINT_ID: &str = "pickupPointId";
    /// G4 preferred delivery date, `YYYY-MM-DD` (AJAX counterpart, §5 G4).
    pub const PREFERRED_DELIVERY_DATE: &str = "preferredDeliveryDate";
    /// G4 cash-on-delivery amount.
    pub const CASH_ON_DELIVERY: &str = "cashOnDelivery";
    /// G4/G7 wholesaler order id.
    pub const ORDER_ID: &str = "orderId";
    /// G4/G7 order serial number.
    pub const ORDER_SERIAL_NUMBER: &str = "orderSerialNumber";
    /// G4/G7 status symbol (§4 vocabulary).
    pub const STATUS: &str = "status";
    /// G4 duplicate-reference flag (§5 G4 \[S\]).
    pub const DUPLICATE: &str = "duplicate";
    /// G7 courier name.
    pub const COURIER_NAME: &str = "courierName";
    /// G7 shipment (tracking) numbers.
    pub const SHIPMENT_NUMBERS: &str = "shipmentNumbers";
    /// G7 dispatch date, `YYYY-MM-DD HH:MM:SS` in the wholesaler's zone.
    pub const DISPATCH_DATE: &str = "dispatchDate";
    /// G4/G7 order total with delivery.
    pub const ORDER_TOTAL: &str = "orderTotal";
    /// Currency of amounts in a reply.
    pub const CURRENCY: &str = "currency";
    /// G7 list of orders.
    pub const ORDERS: &str = "orders";
    /// G7 filter: wholesaler order ids.
    pub const ORDER_IDS: &str = "orderIds";
    /// G7 filter: the shop's own references.
    pub const SHOP_ORDER_REFERENCES: &str = "shopOrderReferences";

    /// G5/G6 list of couriers.
    pub const COURIERS: &str = "couriers";
    /// One courier of the list, when the list repeats a named element instead of `item`.
    pub const COURIER: &str = "courier";
    /// G5/G6 courier type: `courier`, `pickup_point` (§5 G5 \[I\]).
    pub const TYPE: &str = "type";
    /// G5 countries served.
    pub const COUNTRIES: &str = "countries";
    /// G6 delivery cost for the basket.
    pub const DELIVERY_COST: &str = "deliveryCost";
    /// G6 days to delivery.
    pub const DELIVERY_DAYS: &str = "deliveryDays";
    /// G6 delivery address block (country + postcode).
    pub const ADDRESS: &str = "address";

    /// G8/G9 address id.
    pub const ADDRESS_ID: &str = "addressId";
    /// G8 list of addresses; when it repeats a named element instead of `item`, each is an
    /// [`ADDRESS`].
    pub const ADDRESSES: &str = "addresses";
    /// G8 number of addresses on every page.
    pub const RESULTS_NUMBER_ALL: &str = "resultsNumberAll";

    /// Address field: first name.
    pub const FIRST_NAME: &str = "firstName";
    /// Address field: last name.
    pub const LAST_NAME: &str = "lastName";
    /// Address / billing field: company name.
    pub const COMPANY: &str = "company";
    /// Address / billing field: street and number.
    pub const STREET: &str = "street";
    /// Address / billing field: postcode.
    pub const POSTCODE: &str = "postcode";
    /// Address / billing field: city.
    pub const CITY: &str = "city";
    /// Address / billing field: ISO 3166 alpha-2 country (§9.3 country coding, \[I\]).
    pub const COUNTRY: &str = "country";
    /// Address field: phone.
    pub const PHONE: &str = "phone";
    /// Address field: e-mail.
    pub const EMAIL: &str = "email";
    /// Billing field: tax id (NIP).
    pub const TAX_ID: &str = "taxId";

    /// G5/G6 courier type of couriers that need a pickup point (§5 G5 \[I\]).
    pub const PICKUP_POINT_TYPE: &str = "pickup_point";
}

/// A gateway by its stable working id (§5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
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

    /// The working id, `G1` … `G9`.
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
}

/// Where one gateway lives and how its messages are named (§9.3, all \[I\]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Gate {
    /// Path and query below the base URL: by analogy with the admin gate grammar (§2.1),
    /// `/api/?gate=customerapi/{method}/1/soap` \[S\].
    pub path: String,
    /// SOAP method: the element inside `Body`; the reply's is `{method}Response`.
    pub method: String,
    /// `SOAPAction` header value (PHP SOAP servers accept any, §2.2).
    pub soap_action: String,
    /// Namespace bound to `ns1` (the captured admin reply binds it to the method name, §2.1).
    pub namespace: String,
    /// The results element of the reply: `Results` or `results` varies per gate (§6.1); read
    /// without case, written nowhere. A reply without it is also read under [`RESULT`], the
    /// singular spelling of the captured admin reply.
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
            results_key: if g == Gateway::GetOrderStatus { "Results" } else { "results" }.to_string(),
        }
    }

    /// The path without its query, and the query pairs (decoded), as the transport sends them.
    pub fn split_path(&self) -> (String, Vec<(String, String)>) {
        match self.path.split_once('?') {
            None => (self.path.clone(), Vec::new()),
            Some((path, query)) => (
                path.to_string(),
                url::form_urlencoded::parse(query.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            ),
        }
    }
}

/// A partial [`Gate`] in configuration: absent fields keep the gateway's defaults.
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
        for (slot, v) in [
            (&mut g.path, self.path),
            (&mut g.method, self.method),
            (&mut g.soap_action, self.soap_action),
            (&mut g.namespace, self.namespace),
            (&mut g.results_key, self.results_key),
        ] {
            if let Some(v) = v {
                *slot = v;
            }
        }
    }
}

/// The nine gates. In configuration each gate is a table whose keys (`path`, `method`,
/// `soap_action`, `namespace`, `results_key`) override that gate's defaults one by one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
        for (g, patch) in [
            (Gateway::Authenticate, p.authenticate),
            (Gateway::CheckAvailability, p.check_availability),
            (Gateway::BasketImport, p.basket_import),
            (Gateway::PlaceOrder, p.place_order),
            (Gateway::GetCouriers, p.get_couriers),
            (Gateway::GetCouriersForOrder, p.get_couriers_for_order),
            (Gateway::GetOrderStatus, p.get_order_status),
            (Gateway::GetClientAddresses, p.get_client_addresses),
            (Gateway::SetClientAddress, p.set_client_address),
        ] {
            if let Some(patch) = patch {
                patch.apply(gates.get_mut(g));
            }
        }
        Ok(gates)
    }
}

/// What a `faultCode` means, by class (§6.3): the adapter maps classes, never numbers or texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultClass {
    /// 0: success.
    Ok,
    /// Unknown login or wrong `systemKey` (§6.2 \[C\]).
    Login,
    /// Nothing matched: an empty result, not a failure (§6.2 \[C\], checklist 10).
    Empty,
    /// `sessionKey` missing, unknown or expired.
    Session,
    /// `dropshippingKey` missing or wrong, or dropshipping off for the account.
    Dropshipping,
    /// Malformed or missing parameter.
    Input,
    /// Product unknown for (`code`, `codeType`).
    UnknownProduct,
    /// Insufficient stock, or a product not sold to this customer.
    Stock,
    /// Courier not allowed for this order or address.
    Courier,
    /// Basket empty when placing an order.
    BasketEmpty,
    /// Address not modifiable: its order was dispatched.
    AddressLocked,
    /// Request body over the limit.
    TooLarge,
    /// Internal error.
    Internal,
    /// A number the table does not know.
    Unknown,
}

/// Which `faultCode` numbers belong to which class. Only 0, 1 and 2 are known from IdoSell's
/// admin gates (§6.2); the rest is the simulator's table (§6.3 \[S\]), to be replaced from a
/// real account's WSDL or documentation by configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultCodes {
    /// Login failed: `[1]`.
    pub login: Vec<i64>,
    /// Empty result: `[2]`.
    pub empty: Vec<i64>,
    /// Session: `[3]`.
    pub session: Vec<i64>,
    /// Dropshipping key: `[4]`.
    pub dropshipping: Vec<i64>,
    /// Input: `[5]`.
    pub input: Vec<i64>,
    /// Unknown product: `[6]`.
    pub unknown_product: Vec<i64>,
    /// Stock: `[7]`.
    pub stock: Vec<i64>,
    /// Courier: `[8]`.
    pub courier: Vec<i64>,
    /// Empty basket: `[9]`.
    pub basket_empty: Vec<i64>,
    /// Address locked: `[10]`.
    pub address_locked: Vec<i64>,
    /// Too large: `[11]`.
    pub too_large: Vec<i64>,
    /// Internal: `[99]`.
    pub internal: Vec<i64>,
}

impl Default for FaultCodes {
    fn default() -> Self {
        FaultCodes {
            login: vec![1],
            empty: vec![2],
            session: vec![3],
            dropshipping: vec![4],
            input: vec![5],
            unknown_product: vec![6],
            stock: vec![7],
            courier: vec![8],
            basket_empty: vec![9],
            address_locked: vec![10],
            too_large: vec![11],
            internal: vec![99],
        }
    }
}

impl FaultCodes {
    /// The class of a `faultCode`; 0 is always success.
    pub fn class(&self, code: i64) -> FaultClass {
        if code == 0 {
            return FaultClass::Ok;
        }
        let table = [
            (&self.login, FaultClass::Login),
            (&self.empty, FaultClass::Empty),
            (&self.session, FaultClass::Session),
            (&self.dropshipping, FaultClass::Dropshipping),
            (&self.input, FaultClass::Input),
            (&self.unknown_product, FaultClass::UnknownProduct),
            (&self.stock, FaultClass::Stock),
            (&self.courier, FaultClass::Courier),
            (&self.basket_empty, FaultClass::BasketEmpty),
            (&self.address_locked, FaultClass::AddressLocked),
            (&self.too_large, FaultClass::TooLarge),
            (&self.internal, FaultClass::Internal),
        ];
        table.into_iter().find(|(codes, _)| codes.contains(&code)).map_or(FaultClass::Unknown, |(_, c)| c)
    }
}

/// The shipment webhook's names (§7.2, all \[S\]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookNames {
    /// Header with the event id, the same for every retry of one event: `eventId`.
    pub event_id_header: String,
    /// Header with the signature: `X-Signature`.
    pub signature_header: String,
    /// Prefix of the signature value before the hex HMAC-SHA1: `sha1=`.
    pub signature_prefix: String,
    /// The event name of a dispatch: `orderDispatched`.
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

/// The table of §9.3: gates, inferred element names, fault classes and the webhook's names.
/// Defaults are the working names; a configuration's `names` table overrides any subset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Names {
    /// Gate path, method, `SOAPAction`, namespace and results key per gateway.
    pub gates: Gates,
    /// G1 login element: `login` (most plausible of `login`, `userLogin`, `clientLogin`, §3.1).
    pub login: String,
    /// G1 reply element carrying the session expiry, when the vendor sends one (§5 G1 \[I\]);
    /// without it a session lives 15 minutes from the login (§3.5 \[G\]).
    pub session_expiry: Option<String>,
    /// Request wrapper inside the method element (§2.3): `request`.
    pub request: String,
    /// Gateway parameters wrapper inside `request` (§2.3): `params`.
    pub params: String,
    /// Reply wrapper inside `{method}Response` (the captured admin reply, §2.1): `response`.
    pub response: String,
    /// G4 shop order reference (§5 G4): `shopOrderReference`.
    pub shop_order_reference: String,
    /// G8 paging: page number from 0 (admin name \[C\]): `resultsPage`.
    pub results_page: String,
    /// G8 paging: page size (admin name \[C\]): `resultsLimit`.
    pub results_limit: String,
    /// Order statuses meaning the parcel has left (§4 vocabulary \[I\]); an order with shipment
    /// numbers counts as dispatched too.
    pub dispatched_statuses: Vec<String>,
    /// `faultCode` numbers by class (§6.3 \[S\]).
    pub faults: FaultCodes,
    /// The shipment webhook (§7.2 \[S\]).
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
            dispatched_statuses: ["wait_for_receive", "finished", "finished_ext", "returned", "complainted"]
                .map(String::from)
                .to_vec(),
            faults: FaultCodes::default(),
            webhook: WebhookNames::default(),
        }
    }
}

impl Names {
    /// True when `status` means the parcel has left.
    pub fn is_dispatched(&self, status: &str) -> bool {
        self.dispatched_statuses.iter().any(|s| s.eq_ignore_ascii_case(status))
    }
}

/// Two element names are the same when they match without namespace prefix and without case
/// (§9.1: `Results`/`results`, `ns1:faultCode`/`faultcode`). This is the field map every reader
/// goes through.
pub fn same_name(wire: &str, name: &str) -> bool {
    let local = wire.rsplit(':').next().unwrap_or(wire);
    local.eq_ignore_ascii_case(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_patch_keeps_other_defaults_and_refuses_unknown_keys() {
        let n: Names = serde_json::from_str(r#"{"gates":{"place_order":{"path":"/x?gate=y"}}}"#).unwrap();
        assert_eq!(n.gates.place_order.path, "/x?gate=y");
        assert_eq!(n.gates.place_order.method, "placeOrder");
        assert_eq!(n.gates.authenticate, Gate::working(Gateway::Authenticate));
        assert!(serde_json::from_str::<Names>(r#"{"gates":{"place_order":{"pth":"/x"}}}"#).is_err());
        assert!(serde_json::from_str::<Names>(r#"{"logn":"x"}"#).is_err());
    }

    #[test]
    fn gate_path_splits_into_path_and_decoded_query() {
        let (path, query) = Gate::working(Gateway::PlaceOrder).split_path();
        assert_eq!(path, "/api/");
        assert_eq!(query, vec![("gate".to_string(), "customerapi/placeOrder/1/soap".to_string())]);
    }

    #[test]
    fn fault_numbers_map_to_classes_and_are_configurable() {
        let f = FaultCodes::default();
        assert_eq!(f.class(0), FaultClass::Ok);
        assert_eq!(f.class(3), FaultClass::Session);
        assert_eq!(f.class(12345), FaultClass::Unknown);
        let real: FaultCodes = serde_json::from_str(r#"{"session":[17]}"#).unwrap();
        assert_eq!(real.class(17), FaultClass::Session);
        assert_eq!(real.class(3), FaultClass::Unknown);
    }

    #[test]
    fn names_compare_without_prefix_or_case() {
        assert!(same_name("Results", "results"));
        assert!(same_name("ns1:faultCode", "faultcode"));
        assert!(!same_name("resultsX", "results"));
    }
}
