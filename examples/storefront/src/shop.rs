//! The shop's own data: the catalogue, the cart (kept in a cookie) and the cookies themselves.

use axum::http::HeaderMap;
use loyalty_core::{Basket, Currency, Line, Money};
use rust_decimal::Decimal;

/// A product the shop sells.
#[derive(Debug, Clone, Copy)]
pub struct Product {
    /// The id loyalty providers know it by (the demo stores' product ids).
    pub id: &'static str,
    /// The name shown and sent on basket lines.
    pub name: &'static str,
    /// Unit price in øre (NOK).
    pub price_minor: i64,
    /// VAT in percent.
    pub tax_rate: u32,
}

/// The catalogue. Ids match both demo stores: coffee is covered by the `COFFEE20` coupon and
/// the coffee stamp card of the memory provider and of the Diller simulator, tea by the Diller
/// tea card; every product is covered by the basket coupon `SUMMER10`.
pub const CATALOGUE: [Product; 3] = [
    Product { id: "COF-500", name: "Coffee 500 g", price_minor: 12_900, tax_rate: 15 },
    Product { id: "TEA-100", name: "Tea 100 g", price_minor: 5_900, tax_rate: 15 },
    Product { id: "MUG-1", name: "Mug", price_minor: 19_900, tax_rate: 25 },
];

/// The catalogue entry for `id`.
pub fn product(id: &str) -> Option<&'static Product> {
    CATALOGUE.iter().find(|p| p.id == id)
}

/// Cart lines in the order first added: product id and units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cart {
    pub lines: Vec<(&'static str, u32)>,
}

impl Cart {
    /// Reads the `cart` cookie (`COF-500:2.MUG-1:1`); unknown products are dropped.
    pub fn from_cookie(value: &str) -> Cart {
        let lines = value
            .split('.')
            .filter_map(|part| {
                let (id, n) = part.split_once(':')?;
                let n: u32 = n.parse().ok().filter(|n| (1..=99).contains(n))?;
                Some((product(id)?.id, n))
            })
            .collect();
        Cart { lines }
    }

    pub fn to_cookie(&self) -> String {
        self.lines.iter().map(|(id, n)| format!("{id}:{n}")).collect::<Vec<_>>().join(".")
    }

    pub fn units(&self) -> u32 {
        self.lines.iter().map(|(_, n)| n).sum()
    }

    pub fn add(&mut self, id: &'static str) {
        match self.lines.iter_mut().find(|(p, _)| *p == id) {
            Some((_, n)) => *n = (*n + 1).min(99),
            None => self.lines.push((id, 1)),
        }
    }

    pub fn remove(&mut self, id: &str) {
        self.lines.retain(|(p, _)| *p != id);
    }

    /// The basket sent to the API: line ids `1`, `2`, … in cart order.
    pub fn basket(&self) -> Basket {
        self.lines.iter().enumerate().fold(Basket::new(Currency::NOK), |b, (i, (id, n))| {
            let p = product(id).copied().unwrap_or(CATALOGUE[0]);
            b.with_line(
                Line::new(
                    (i + 1).to_string(),
                    p.id,
                    Decimal::from(*n),
                    Money::new(p.price_minor, Currency::NOK),
                )
                .with_name(p.name)
                .with_tax_rate(Decimal::from(p.tax_rate)),
            )
        })
    }
}

/// The value of cookie `name`, percent-decoded.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        // Values are written by `set_cookie`, form-encoded, so `=` and `&` never appear raw.
        .and_then(|(_, v)| url::form_urlencoded::parse(v.as_bytes()).next().map(|(k, _)| k.into_owned()))
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value for the whole site; an empty value deletes the cookie.
pub(crate) fn set_cookie(name: &str, value: &str) -> String {
    let v: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let age = if value.is_empty() { "; Max-Age=0" } else { "" };
    format!("{name}={v}; Path=/; HttpOnly; SameSite=Lax{age}")
}

/// A submitted `application/x-www-form-urlencoded` body as name/value pairs, repeats kept.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// The first value of `name`, trimmed; `None` when absent or blank.
pub(crate) fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// Every value of `name` (ticked check boxes).
pub(crate) fn form_values<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cart_cookie_round_trips_and_drops_unknown_products() {
        let mut cart = Cart::default();
        cart.add("COF-500");
        cart.add("COF-500");
        cart.add("MUG-1");
        assert_eq!(cart.to_cookie(), "COF-500:2.MUG-1:1");
        assert_eq!(Cart::from_cookie("COF-500:2.MUG-1:1.EVIL:3.TEA-100:0"), {
            let mut c = cart.clone();
            c.lines.truncate(2);
            c
        });
        assert_eq!(cart.units(), 3);
    }

    #[test]
    fn basket_numbers_lines_in_cart_order_with_catalogue_prices() {
        let cart = Cart::from_cookie("MUG-1:1.COF-500:2");
        let basket = cart.basket();
        let json = serde_json::to_value(&basket).unwrap();
        assert_eq!(json["lines"][1]["line_id"], "2");
        assert_eq!(json["lines"][1]["product_id"], "COF-500");
        assert_eq!(json["lines"][1]["quantity"], "2");
        assert_eq!(json["lines"][1]["unit_price"], serde_json::json!({"minor": 12_900, "currency": "NOK"}));
    }

    #[test]
    fn cookie_reads_one_name_among_several() {
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::COOKIE, HeaderValue::from_static("a=1; member=m%2D1; cart="));
        assert_eq!(cookie(&h, "member").as_deref(), Some("m-1"));
        assert_eq!(cookie(&h, "cart"), None);
        assert_eq!(cookie(&h, "nope"), None);
    }
}
