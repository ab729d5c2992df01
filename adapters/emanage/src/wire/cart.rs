//! The shopping-cart session API (§6.4 rows 1-5) and its upgrade lines (§7): request bodies and
//! the replies of `new`, `add` and the cart GET.

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::lenient::{self, Obj};
use super::{Conv, ConversionError};
use crate::names;

/// A cart line as `new` (inside `product`) and `add` (flat) send it (§6.4 rows 1-2).
///
/// Ids and quantities go as JSON integers, as client code sends them (§4 \[K\]); `price` goes
/// as a decimal string, as the addendum's own example does (§7.1 \[G\]), so no amount ever
/// passes through a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRequest {
    /// `productId`.
    pub product_id: i64,
    /// `quantity`.
    pub quantity: u32,
    /// `price`: the catalogue price the client copies from the price list (§6.4 notes).
    pub price: Decimal,
    /// `shippingMethodId`.
    pub shipping_method_id: i64,
}

impl LineRequest {
    fn write(&self, out: &mut Map<String, Value>) {
        out.insert("productId".into(), json!(self.product_id));
        out.insert("quantity".into(), json!(self.quantity));
        out.insert("price".into(), Value::String(self.price.normalize().to_string()));
        out.insert("shippingMethodId".into(), json!(self.shipping_method_id));
    }
}

/// The upgrade fields of §7.1: the product upgraded from (the chain's current head), how many
/// units, and the paid session of an offline upgrade (`null` in the same session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeFields {
    /// `upgradePreviewProductId`.
    pub preview_product_id: i64,
    /// `upgradePreviewQuantity`.
    pub preview_quantity: u32,
    /// `upgradeParentSessionId`.
    pub parent_session_id: Option<String>,
}

impl UpgradeFields {
    fn write(&self, out: &mut Map<String, Value>) {
        out.insert(names::UPGRADE_PREVIEW_PRODUCT_ID.into(), json!(self.preview_product_id));
        out.insert(names::UPGRADE_PREVIEW_QUANTITY.into(), json!(self.preview_quantity));
        // The addendum sends an explicit `null` for the same session (§7.1).
        out.insert(
            names::UPGRADE_PARENT_SESSION_ID.into(),
            self.parent_session_id.clone().map(Value::String).unwrap_or(Value::Null),
        );
    }
}

/// `POST shoppingcart/{wk}/new` (§6.4 row 1): the first line, the customer's IP, the test flag;
/// for the client-created offline upgrade, the upgrade fields at the top level (§7.2 rule 7,
/// placement \[S\]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSessionRequest {
    /// `product` (lower case, as the client writes it; the addendum capitalises it, §6.4).
    pub product: LineRequest,
    /// `customerIP`.
    pub customer_ip: Option<String>,
    /// `behaviorId` (`2` for a test cart, in the query too, §7.1).
    pub behavior_id: Option<i64>,
    /// The upgrade fields of an offline upgrade session.
    pub upgrade: Option<UpgradeFields>,
}

impl NewSessionRequest {
    /// The JSON body.
    pub fn to_json(&self) -> Value {
        let mut product = Map::new();
        self.product.write(&mut product);
        let mut out = Map::new();
        out.insert("product".into(), Value::Object(product));
        if let Some(ip) = &self.customer_ip {
            out.insert("customerIP".into(), Value::String(ip.clone()));
        }
        if let Some(b) = self.behavior_id {
            out.insert("behaviorId".into(), json!(b));
        }
        if let Some(u) = &self.upgrade {
            u.write(&mut out);
        }
        Value::Object(out)
    }
}

/// `POST shoppingcart/{wk}/add?sessionId=` (§6.4 row 2): a flat line, with the upgrade fields
/// for an upgrade (§7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddRequest {
    /// The line.
    pub line: LineRequest,
    /// The upgrade fields, for an upgrade line.
    pub upgrade: Option<UpgradeFields>,
}

impl AddRequest {
    /// The JSON body.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        self.line.write(&mut out);
        if let Some(u) = &self.upgrade {
            u.write(&mut out);
        }
        Value::Object(out)
    }
}

/// Decodes the reply of `new`: the session id as a bare JSON string (§6.4 row 1 \[K\]). A pure
/// function of the body.
pub fn decode_session_id(bytes: &[u8]) -> Conv<String> {
    match lenient::parse(bytes, "body")? {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        other => {
            Err(ConversionError::new("body", format!("expected the new sessionId as a string, got {other}")))
        }
    }
}

/// What `add` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddReply {
    /// Accepted in the session (clients do not read the reply, §6.4 row 2; the simulator
    /// answers the session id).
    SameSession,
    /// The server created an offline-upgrade session (§7.2 rule 7, reply shape \[S\]).
    NewSession {
        /// The new session.
        session_id: String,
        /// Where its payment continues.
        call_back_url: Option<String>,
    },
}

/// Decodes the reply of `add` to session `sent`: anything but an object naming a session
/// other than `sent` is the same session. Clients never read the reply (§6.4 row 2) and the
/// server-created reply's shape is only a simulator guess (§15.1), so a reply echoing the
/// session it was sent to (`{ "sessionId": "<sent>" }`) never reads as a new cart: that
/// would turn an upgrade charged on the card into one still to be paid. Session ids compare
/// without regard to letter case (GUIDs, §4). A pure function of the body.
pub fn decode_add_reply(bytes: &[u8], sent: &str) -> Conv<AddReply> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(AddReply::SameSession);
    }
    let v = lenient::parse(bytes, "body")?;
    let Value::Object(_) = &v else { return Ok(AddReply::SameSession) };
    let o = Obj::of(&v, "")?;
    match o.text(names::REPLY_SESSION_ID)? {
        Some(session_id) if !session_id.trim().eq_ignore_ascii_case(sent.trim()) => {
            Ok(AddReply::NewSession { session_id, call_back_url: o.text(names::CALL_BACK_URL)? })
        }
        _ => Ok(AddReply::SameSession),
    }
}

/// A session's state (§14 names, \[S\]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStatus {
    /// `Open`.
    Open,
    /// `AwaitingPayment`.
    AwaitingPayment,
    /// `Paid`.
    Paid,
    /// `Discarded`.
    Discarded,
    /// Anything else, as sent.
    Unknown(String),
}

impl SessionStatus {
    fn read(s: &str) -> SessionStatus {
        use names::session_status as n;
        match s {
            _ if s.eq_ignore_ascii_case(n::OPEN) => SessionStatus::Open,
            _ if s.eq_ignore_ascii_case(n::AWAITING_PAYMENT) => SessionStatus::AwaitingPayment,
            _ if s.eq_ignore_ascii_case(n::PAID) => SessionStatus::Paid,
            _ if s.eq_ignore_ascii_case(n::DISCARDED) => SessionStatus::Discarded,
            other => SessionStatus::Unknown(other.to_string()),
        }
    }
}

/// An upgrade line's status (§7.2 rule 6, values \[S\]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeStatus {
    /// `preview`: not charged yet.
    Preview,
    /// `charged`.
    Charged,
    /// `discarded`.
    Discarded,
    /// Anything else, as sent.
    Unknown(String),
}

impl UpgradeStatus {
    fn read(s: &str) -> UpgradeStatus {
        use names::upgrade_status as n;
        match s {
            _ if s.eq_ignore_ascii_case(n::PREVIEW) => UpgradeStatus::Preview,
            _ if s.eq_ignore_ascii_case(n::CHARGED) => UpgradeStatus::Charged,
            _ if s.eq_ignore_ascii_case(n::DISCARDED) => UpgradeStatus::Discarded,
            other => UpgradeStatus::Unknown(other.to_string()),
        }
    }
}

/// One line of the cart GET (§6.4 row 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartProduct {
    /// `productId`.
    pub product_id: i64,
    /// `productName`.
    pub product_name: Option<String>,
    /// `price`: the **unit** price the vendor charges, after discount (§6.4 row 5, §8).
    pub price: Decimal,
    /// `quantity`.
    pub quantity: u32,
    /// `shippingPrice` (absent: none).
    pub shipping_price: Decimal,
    /// The upgrade status of an upgrade head (simulator-chosen name, see [`names::cart`]).
    pub upgrade_status: Option<UpgradeStatus>,
    /// The product first paid for, on an upgrade head (simulator-chosen name).
    pub upgraded_from_product_id: Option<i64>,
    /// What the line costs after discount, exact (simulator-chosen name, see
    /// [`names::cart::LINE_TOTAL`]).
    pub line_total: Option<Decimal>,
    /// The unit price before discount (simulator-chosen name, see [`names::cart::LIST_PRICE`]);
    /// `None` when absent or unreadable: it only ever prices an upgrade, never fails the cart.
    pub list_price: Option<Decimal>,
}

/// The cart GET `GET shoppingcart/{wk}?sessionId=` (§6.4 row 5): `products[]` \[K\], and the
/// session fields only the simulator shows so far, read when present ([`names::cart`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartResponse {
    /// `products[]`.
    pub products: Vec<CartProduct>,
    /// The session status.
    pub status: Option<SessionStatus>,
    /// The cart number once checked out.
    pub shopping_cart_number: Option<String>,
    /// For an offline-upgrade session, the session it upgrades.
    pub upgrade_parent_session_id: Option<String>,
    /// A redirect payment waiting for the customer.
    pub call_back_url: Option<String>,
    /// A 3-D Secure (or other) continuation waiting for the customer: the
    /// `paymentContinueResult.actionUrl` of the checkout reply (§6.3), repeated in the cart.
    pub action_url: Option<String>,
    /// A test cart.
    pub test: Option<bool>,
    /// What the cart costs (simulator-chosen name, see [`names::cart::TOTAL`]).
    pub total: Option<Decimal>,
    /// The session's upgrade chains, where the cart shows them (simulator-chosen names, see
    /// [`names::cart::UPGRADES`]); entries that do not read are left out.
    pub upgrades: Vec<UpgradeChain>,
}

/// One upgrade chain of a paid session, as the simulator's cart GET lists it
/// ([`names::cart::UPGRADES`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeChain {
    /// `productId`: the chain's head.
    pub head: i64,
    /// The product first paid for.
    pub first: Option<i64>,
    /// Units upgraded.
    pub quantity: Option<u32>,
    /// The chain's status.
    pub status: Option<UpgradeStatus>,
    /// The offline-upgrade session of the latest step, when it has one.
    pub session_id: Option<String>,
    /// What the chain has captured so far, all its units ([`names::cart::UPGRADE_CAPTURED`]).
    pub captured: Option<Decimal>,
}

/// An entry of `upgrades[]`, or `None` when it does not read: a field only the simulator
/// shows never fails the cart.
fn upgrade_chain(v: &Value, path: &str) -> Option<UpgradeChain> {
    use names::cart as n;
    let o = Obj::of(v, path).ok()?;
    Some(UpgradeChain {
        head: o.req_id("productId").ok()?,
        first: o.int(n::UPGRADED_FROM_PRODUCT_ID).ok()?,
        quantity: o.int("quantity").ok()?.and_then(|q| u32::try_from(q).ok()),
        status: o.text(n::STATUS).ok()?.as_deref().map(UpgradeStatus::read),
        session_id: o.id(n::UPGRADE_SESSION_ID).ok()?,
        captured: amount(&o, n::UPGRADE_CAPTURED).ok()?,
    })
}

/// An optional amount the vendor sends, never negative.
fn amount(o: &Obj<'_>, name: &str) -> Conv<Option<Decimal>> {
    let v = o.decimal(name)?;
    if v.is_some_and(|d| d.is_sign_negative() && !d.is_zero()) {
        return Err(ConversionError::new(o.field(name), "an amount is never negative"));
    }
    Ok(v)
}

fn cart_product(v: &Value, path: &str) -> Conv<CartProduct> {
    use names::cart as n;
    let o = Obj::of(v, path)?;
    let price = o.req_decimal("price")?;
    if price.is_sign_negative() {
        return Err(ConversionError::new(o.field("price"), "a price is never negative"));
    }
    let quantity = o.req_int("quantity")?;
    let quantity = u32::try_from(quantity).ok().filter(|q| *q > 0).ok_or_else(|| {
        ConversionError::new(o.field("quantity"), format!("{quantity} is no quantity of a line"))
    })?;
    let shipping_price = o.decimal("shippingPrice")?.unwrap_or_default();
    if shipping_price.is_sign_negative() {
        return Err(ConversionError::new(o.field("shippingPrice"), "a shipping price is never negative"));
    }
    Ok(CartProduct {
        product_id: o.req_id("productId")?,
        product_name: o.text("productName")?,
        price,
        quantity,
        shipping_price,
        upgrade_status: o.text(n::UPGRADE_STATUS)?.as_deref().map(UpgradeStatus::read),
        upgraded_from_product_id: o.int(n::UPGRADED_FROM_PRODUCT_ID)?,
        line_total: amount(&o, n::LINE_TOTAL)?,
        list_price: o.decimal(n::LIST_PRICE).ok().flatten().filter(|d| !d.is_sign_negative()),
    })
}

/// Decodes the cart GET. A pure function of the body.
pub fn decode_cart(bytes: &[u8]) -> Conv<CartResponse> {
    use names::cart as n;
    let v = lenient::parse(bytes, "body")?;
    let o = Obj::of(&v, "")?;
    let items = o.array("products")?.ok_or_else(|| ConversionError::new("products", "missing"))?;
    let products = items
        .iter()
        .enumerate()
        .map(|(i, p)| cart_product(p, &format!("products[{i}]")))
        .collect::<Conv<_>>()?;
    Ok(CartResponse {
        products,
        status: o.text(n::STATUS)?.as_deref().map(SessionStatus::read),
        shopping_cart_number: o.id(n::SHOPPING_CART_NUMBER)?,
        upgrade_parent_session_id: o.text(n::UPGRADE_PARENT_SESSION_ID)?,
        call_back_url: o.text(n::CALL_BACK_URL)?,
        // A simulator extra: read when it has the checkout reply's shape, ignored otherwise.
        action_url: o
            .get(n::PAYMENT_CONTINUE_RESULT)
            .and_then(|p| Obj::of(p, n::PAYMENT_CONTINUE_RESULT).ok())
            .and_then(|p| p.text(n::ACTION_URL).ok().flatten())
            .filter(|u| !u.trim().is_empty()),
        test: o.boolean(n::TEST)?,
        total: amount(&o, n::TOTAL)?,
        upgrades: match o.get(n::UPGRADES) {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, u)| upgrade_chain(u, &format!("{}[{i}]", n::UPGRADES)))
                .collect(),
            _ => Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_id_of_zero_or_below_is_protocol_naming_the_field() {
        for id in ["0", "-3"] {
            let body = format!(r#"{{"products":[{{"productId":{id},"price":"1.5","quantity":2}}]}}"#);
            let e = decode_cart(body.as_bytes()).unwrap_err();
            assert_eq!(e.field, "products[0].productId", "{e}");
        }
        let list = crate::wire::decode_price_list(
            br#"[{"productId":-1,"productPrices":{"DiscountedPrice":{"Value":1}}}]"#,
        )
        .unwrap();
        let e = &list.skipped[0].error;
        assert_eq!((e.field.as_str(), list.skipped[0].product_id), ("[0].productId", None), "{e}");
    }

    #[test]
    fn upgrade_line_carries_the_addendum_fields_with_an_explicit_null_parent() {
        let r = AddRequest {
            line: LineRequest {
                product_id: 918_446,
                quantity: 1,
                price: Decimal::from(120),
                shipping_method_id: 145,
            },
            upgrade: Some(UpgradeFields {
                preview_product_id: 918_325,
                preview_quantity: 1,
                parent_session_id: None,
            }),
        };
        assert_eq!(
            r.to_json(),
            json!({"productId": 918446, "quantity": 1, "price": "120", "shippingMethodId": 145,
                   "upgradePreviewProductId": 918325, "upgradePreviewQuantity": 1, "upgradeParentSessionId": null})
        );
    }

    #[test]
    fn plain_add_carries_no_upgrade_field() {
        let r = AddRequest {
            line: LineRequest {
                product_id: 918_504,
                quantity: 2,
                price: Decimal::new(6000, 2),
                shipping_method_id: 145,
            },
            upgrade: None,
        };
        assert_eq!(
            r.to_json(),
            json!({"productId": 918504, "quantity": 2, "price": "60", "shippingMethodId": 145})
        );
    }

    #[test]
    fn session_id_is_a_bare_string() {
        assert_eq!(decode_session_id(br#""0f0e-1""#).unwrap(), "0f0e-1");
        assert!(decode_session_id(br#"{"sessionId":"x"}"#).is_err());
    }

    #[test]
    fn add_reply_object_names_a_server_created_session() {
        let r = decode_add_reply(
            br#"{"sessionId":"b","upgradeParentSessionId":"a","callBackUrl":"https://pay"}"#,
            "a",
        )
        .unwrap();
        assert_eq!(
            r,
            AddReply::NewSession { session_id: "b".into(), call_back_url: Some("https://pay".into()) }
        );
        assert_eq!(decode_add_reply(br#""a""#, "a").unwrap(), AddReply::SameSession);
        assert_eq!(decode_add_reply(b"", "a").unwrap(), AddReply::SameSession);
    }

    #[test]
    fn an_add_reply_echoing_the_session_sent_is_the_same_session() {
        for body in
            [r#"{"success":true,"sessionId":"a"}"#, r#"{"SessionId":" A ","callBackUrl":"https://x"}"#]
        {
            assert_eq!(decode_add_reply(body.as_bytes(), "a").unwrap(), AddReply::SameSession, "{body}");
        }
    }

    #[test]
    fn cart_reads_k_fields_and_optional_session_fields() {
        let body = br#"{"products":[{"productId":"918446","productName":"x","price":120,"quantity":"1","shippingPrice":0,
            "upgradeStatus":"preview","upgradedFromProductId":918325}],"status":"Paid","shoppingCartNumber":20000003,"test":true}"#;
        let c = decode_cart(body).unwrap();
        assert_eq!(c.products[0].product_id, 918_446);
        assert_eq!(c.products[0].upgrade_status, Some(UpgradeStatus::Preview));
        assert_eq!(c.status, Some(SessionStatus::Paid));
        assert_eq!(c.shopping_cart_number.as_deref(), Some("20000003"));
        let bare = decode_cart(br#"{"products":[{"productId":1,"price":"1.5","quantity":2}]}"#).unwrap();
        assert_eq!((bare.status, bare.products[0].shipping_price), (None, Decimal::ZERO));
    }

    #[test]
    fn a_waiting_3_d_secure_page_is_read_when_shown_and_never_fails_the_cart() {
        let c =
            decode_cart(br#"{"products":[],"paymentContinueResult":{"actionUrl":"https://3ds"}}"#).unwrap();
        assert_eq!(c.action_url.as_deref(), Some("https://3ds"));
        for odd in [r#""x""#, r#"{"actionUrl":""}"#, r#"{"actionUrl":7}"#, "null"] {
            let body = format!(r#"{{"products":[],"paymentContinueResult":{odd}}}"#);
            assert_eq!(decode_cart(body.as_bytes()).unwrap().action_url, None, "{odd}");
        }
    }

    #[test]
    fn an_upgrade_list_is_read_when_shown_and_an_odd_entry_never_fails_the_cart() {
        let body = br#"{"products":[],"upgrades":[
            {"upgradedFromProductId":918325,"productId":918446,"quantity":1,"status":"preview","upgradeSessionId":"b","captured":"20.00"},
            {"productId":"x"}, 7,
            {"productId":918447,"upgradeSessionId":null}]}"#;
        let c = decode_cart(body).unwrap();
        assert_eq!(
            c.upgrades,
            vec![
                UpgradeChain {
                    head: 918_446,
                    first: Some(918_325),
                    quantity: Some(1),
                    status: Some(UpgradeStatus::Preview),
                    session_id: Some("b".into()),
                    captured: Some(Decimal::new(2000, 2)),
                },
                UpgradeChain {
                    head: 918_447,
                    first: None,
                    quantity: None,
                    status: None,
                    session_id: None,
                    captured: None
                },
            ]
        );
        let odd = decode_cart(br#"{"products":[],"upgrades":{"a":1}}"#).unwrap();
        assert!(odd.upgrades.is_empty());
    }

    #[test]
    fn impossible_numbers_name_their_field() {
        let e = decode_cart(br#"{"products":[{"productId":1,"price":1,"quantity":-2}]}"#).unwrap_err();
        assert_eq!(e.field, "products[0].quantity");
        let e = decode_cart(br#"{"products":[{"productId":1,"price":-1,"quantity":2}]}"#).unwrap_err();
        assert_eq!(e.field, "products[0].price");
    }
}
