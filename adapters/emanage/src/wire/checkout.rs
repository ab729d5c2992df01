//! Customer and checkout (§6.4 rows 6-7; the payment and address shapes of §6.3).

use loyalty_core::CardSecret;
use serde_json::{json, Map, Value};

use super::lenient::{self, Obj};
use super::{Conv, ConversionError};

/// An address (§6.3): `{ firstName, lastName, address1, address2, city, zipCode, state,
/// countryCode, phoneNumber }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `firstName`.
    pub first_name: String,
    /// `lastName`.
    pub last_name: String,
    /// `address1`.
    pub address1: String,
    /// `address2`.
    pub address2: Option<String>,
    /// `city`.
    pub city: String,
    /// `zipCode`.
    pub zip_code: String,
    /// `state`.
    pub state: Option<String>,
    /// `countryCode` (ISO 3166-1 alpha-2).
    pub country_code: String,
    /// `phoneNumber`.
    pub phone_number: Option<String>,
}

impl Address {
    fn to_json(&self) -> Value {
        json!({
            "firstName": self.first_name,
            "lastName": self.last_name,
            "address1": self.address1,
            "address2": self.address2,
            "city": self.city,
            "zipCode": self.zip_code,
            "state": self.state,
            "countryCode": self.country_code,
            "phoneNumber": self.phone_number,
        })
    }
}

/// `POST shoppingcart/{wk}/customers/new?sessionId=` (§6.4 row 6): `{ email,
/// useShippingAddressForBilling, shippingAddress }`. Billing is always the shipping address
/// here: the core customer has one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRequest {
    /// `email`.
    pub email: String,
    /// `shippingAddress`.
    pub shipping_address: Address,
}

impl CustomerRequest {
    /// The JSON body.
    pub fn to_json(&self) -> Value {
        json!({
            "email": self.email,
            "useShippingAddressForBilling": true,
            "shippingAddress": self.shipping_address.to_json(),
        })
    }
}

/// `payment` (§6.3): a card, or a processor that takes the customer elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payment {
    /// `{ name, creditcard, creditCardBrand, expiration: "MM/YYYY", cvv }`.
    Card {
        /// `name`.
        name: String,
        /// `creditcard`.
        creditcard: CardSecret,
        /// `creditCardBrand`.
        credit_card_brand: Option<String>,
        /// `expiration`, `MM/YYYY`.
        expiration: String,
        /// `cvv`.
        cvv: CardSecret,
    },
    /// `{ paymentProcessorId }` (5 PayPal, 31, 25 Boleto, 33 Alipay, 34 WeChat Pay: ids \[K\],
    /// meanings \[I\]).
    Processor {
        /// `paymentProcessorId`.
        payment_processor_id: i64,
    },
}

impl Payment {
    /// The card number and CVV this payment carries (none for a processor): what no reply
    /// quoting them may pass on.
    pub fn card_secrets(&self) -> Vec<&str> {
        match self {
            Payment::Card { creditcard, cvv, .. } => vec![creditcard.expose(), cvv.expose()],
            Payment::Processor { .. } => Vec::new(),
        }
    }

    /// The JSON object; the only place card data is exposed on its way to the wire
    /// ([`Payment::card_secrets`] exposes it only so replies can be cleared of it).
    fn to_json(&self) -> Value {
        match self {
            Payment::Card { name, creditcard, credit_card_brand, expiration, cvv } => {
                let mut o = Map::new();
                o.insert("name".into(), json!(name));
                o.insert("creditcard".into(), json!(creditcard.expose()));
                if let Some(b) = credit_card_brand {
                    o.insert("creditCardBrand".into(), json!(b));
                }
                o.insert("expiration".into(), json!(expiration));
                o.insert("cvv".into(), json!(cvv.expose()));
                Value::Object(o)
            }
            Payment::Processor { payment_processor_id } => {
                json!({ "paymentProcessorId": payment_processor_id })
            }
        }
    }
}

/// `POST shoppingcart/{wk}/checkout` (§6.4 row 7): `{ behaviorId, sessionId, payment,
/// fraudSessionId }`, `sessionId` in the body. `fraudSessionId` (a Kount collector session,
/// §6.2) is left out: the core has no anti-fraud session to give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// `behaviorId`: `2` test, `1` live (§11).
    pub behavior_id: i64,
    /// `sessionId`.
    pub session_id: String,
    /// `payment`.
    pub payment: Payment,
}

impl CheckoutRequest {
    /// The JSON body.
    pub fn to_json(&self) -> Value {
        json!({
            "behaviorId": self.behavior_id,
            "sessionId": self.session_id,
            "payment": self.payment.to_json(),
        })
    }
}

/// The checkout reply fields clients read (§6.3, §6.4 row 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutResponse {
    /// `success`; `false` is a decline (200 with `success: false`, §10). Always sent: a
    /// reply without it is not decoded (see [`decode_checkout`]).
    pub success: bool,
    /// `message` (simulator's decline reason; \[S\]).
    pub message: Option<String>,
    /// `orderNumber`.
    pub order_number: Option<String>,
    /// `shoppingCartNumber`.
    pub shopping_cart_number: Option<String>,
    /// `cardId`: the card on file.
    pub card_id: Option<String>,
    /// `callBackUrl`: a redirect.
    pub call_back_url: Option<String>,
    /// `paymentContinueResult.actionUrl`: 3-D Secure or another continuation (empty = none).
    pub action_url: Option<String>,
}

/// Decodes the checkout reply. A pure function of the body.
///
/// A decline is a 200 with `success: false` (§10: clients go to the decline page on it \[K\];
/// the simulator adds `orderNumber: null` \[S\]). A reply without `success` (or with `null`)
/// is no decline: it contradicts the contract (a proxy's body, a renamed field) and may come
/// from a checkout that charged, so it is a conversion error naming `success`, which the
/// adapter reports as `Protocol` with effect `Unknown` and reconciles by reading the cart back.
/// Reading it as a decline would invite a second payment.
pub fn decode_checkout(bytes: &[u8]) -> Conv<CheckoutResponse> {
    let v = lenient::parse(bytes, "body")?;
    let o = Obj::of(&v, "")?;
    let action_url = match o.get("paymentContinueResult") {
        None => None,
        // "Empty string when none" (§6.3): text in the object's place is no continuation when
        // blank, and the continuation's address otherwise (so never read as paid).
        Some(Value::String(_)) => o.text("paymentContinueResult")?,
        Some(p) => Obj::of(p, "paymentContinueResult")?.text("actionUrl")?,
    };
    Ok(CheckoutResponse {
        success: o.boolean("success")?.ok_or_else(|| {
            ConversionError::new("success", "missing: the reply says neither paid nor declined")
        })?,
        message: o.text(crate::names::MESSAGE)?,
        order_number: o.id("orderNumber")?,
        shopping_cart_number: o.id("shoppingCartNumber")?,
        card_id: o.id("cardId")?,
        call_back_url: o.text("callBackUrl")?,
        action_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_continuation_given_as_text_is_none_when_blank_and_its_address_otherwise() {
        let read = |pcr: &str| {
            let body = format!(r#"{{"success":true,"orderNumber":"1","paymentContinueResult":{pcr}}}"#);
            decode_checkout(body.as_bytes()).map(|r| r.action_url)
        };
        assert_eq!(read(r#""""#).unwrap(), None, "the contract's empty string: paid");
        assert_eq!(read("null").unwrap(), None);
        assert_eq!(read(r#"{"actionUrl":""}"#).unwrap(), None);
        let url = read(r#"{"actionUrl":"https://3ds.example/a"}"#).unwrap();
        assert_eq!(url.as_deref(), Some("https://3ds.example/a"));
        let url = read(r#""https://3ds.example/b""#).unwrap();
        assert_eq!(url.as_deref(), Some("https://3ds.example/b"));
        let err = read("7").unwrap_err();
        assert!(err.to_string().contains("paymentContinueResult"), "{err}");
    }

    #[test]
    fn decline_is_success_false_with_null_order() {
        let r =
            decode_checkout(br#"{"success":false,"message":"The card was declined.","orderNumber":null}"#)
                .unwrap();
        assert!(!r.success);
        assert_eq!(r.order_number, None);
        assert_eq!(r.message.as_deref(), Some("The card was declined."));
    }

    #[test]
    fn a_reply_without_success_is_an_error_naming_it_not_a_decline() {
        for body in [
            &br#"{"orderNumber":"10000002","shoppingCartNumber":20000001,"cardId":3}"#[..],
            br#"{"success":null,"message":"The card was declined.","orderNumber":null}"#,
            br#"{}"#,
        ] {
            let e = decode_checkout(body).unwrap_err();
            assert_eq!(e.field, "success", "{e}");
        }
    }

    #[test]
    fn empty_action_url_means_no_continuation() {
        let r = decode_checkout(
            br#"{"success":true,"shoppingCartNumber":20000001,"orderNumber":"10000002","cardId":3,"paymentContinueResult":{"actionUrl":""}}"#,
        )
        .unwrap();
        assert_eq!(r.action_url, None);
        assert_eq!(r.shopping_cart_number.as_deref(), Some("20000001"));
        assert_eq!(r.card_id.as_deref(), Some("3"));
    }

    #[test]
    fn card_payment_exposes_card_data_only_in_the_body() {
        let p = Payment::Card {
            name: "Ada".into(),
            creditcard: CardSecret::new("4111111111111111"),
            credit_card_brand: None,
            expiration: "12/2030".into(),
            cvv: CardSecret::new("123"),
        };
        assert!(!format!("{p:?}").contains("4111111111111111"));
        assert_eq!(p.to_json()["creditcard"], "4111111111111111");
    }
}
