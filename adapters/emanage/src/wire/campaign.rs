//! Campaign reads (§6.1): the price list of `GET campaigns/{wk}/products/prices` (§5.3).

use rust_decimal::Decimal;
use serde_json::Value;

use super::lenient::{self, Obj};
use super::{Conv, ConversionError};

/// One shipping method of a product (`shippings[]`, §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipping {
    /// `shippingMethodId`.
    pub shipping_method_id: i64,
    /// `price`, per line.
    pub price: Decimal,
}

/// One sellable product of the campaign (§5.3). Only `Value` of the price objects is read;
/// `FormattedValue` is display text (§5.3 \[I\]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPrice {
    /// `productId`.
    pub product_id: i64,
    /// `productName`.
    pub product_name: Option<String>,
    /// `sku`.
    pub sku: Option<String>,
    /// `quantity`: units in the package.
    pub quantity: Option<i64>,
    /// `productPrices.DiscountedPrice.Value`: the selling price.
    pub discounted_price: Decimal,
    /// `productPrices.FullRetailPrice.Value`: the "was" price.
    pub full_retail_price: Option<Decimal>,
    /// `shippings[]`; clients take the first (§5.3).
    pub shippings: Vec<Shipping>,
}

fn price_value(prices: &Obj<'_>, name: &str) -> Conv<Option<Decimal>> {
    let Some(v) = prices.get(name) else { return Ok(None) };
    let field = prices.field(name);
    let o = Obj::of(v, &field)?;
    o.decimal("Value")
}

fn product(v: &Value, path: &str) -> Conv<ProductPrice> {
    let o = Obj::of(v, path)?;
    let prices_field = o.field("productPrices");
    let prices_value =
        o.get("productPrices").ok_or_else(|| ConversionError::new(&prices_field, "missing"))?;
    let prices = Obj::of(prices_value, &prices_field)?;
    let discounted = price_value(&prices, "DiscountedPrice")?
        .ok_or_else(|| ConversionError::new(prices.field("DiscountedPrice.Value"), "missing"))?;
    if discounted.is_sign_negative() {
        return Err(ConversionError::new(prices.field("DiscountedPrice.Value"), "a price is never negative"));
    }
    let quantity = o.int("quantity")?;
    if quantity.is_some_and(|q| q < 0) {
        return Err(ConversionError::new(o.field("quantity"), "a package holds no negative units"));
    }
    let mut shippings = Vec::new();
    for (i, s) in o.array("shippings")?.into_iter().flatten().enumerate() {
        let field = format!("{}[{i}]", o.field("shippings"));
        let so = Obj::of(s, &field)?;
        let price = so.decimal("price")?.unwrap_or_default();
        if price.is_sign_negative() {
            return Err(ConversionError::new(so.field("price"), "a shipping price is never negative"));
        }
        shippings.push(Shipping { shipping_method_id: so.req_int("shippingMethodId")?, price });
    }
    Ok(ProductPrice {
        product_id: o.req_id("productId")?,
        product_name: o.text("productName")?,
        sku: o.text("sku")?,
        quantity,
        discounted_price: discounted,
        full_retail_price: price_value(&prices, "FullRetailPrice")?,
        shippings,
    })
}

/// An entry of the price list that does not read, left out of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedProduct {
    /// Its `productId`, when that much reads.
    pub product_id: Option<i64>,
    /// The field that does not read, and why.
    pub error: ConversionError,
}

/// The price list as decoded: the entries that read, and each one that did not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceListReply {
    /// The products that read.
    pub products: Vec<ProductPrice>,
    /// The entries left out (a product without a selling price, a malformed number).
    pub skipped: Vec<SkippedProduct>,
}

/// Decodes the price list: the object form `{ prices: [..], location, campaignName }` of the
/// path without a country, or the bare array of the `/{countryCode}` form (§5.3). A pure
/// function of the body.
///
/// Entries are read one by one: the campaign's whole list comes with every cart operation, so
/// one entry that does not read (a product not priced for this country, `Value: null`) is left
/// out and reported in [`PriceListReply::skipped`], never failing the carts of every other
/// product. Only a body or envelope that does not read is an error.
pub fn decode_price_list(bytes: &[u8]) -> Conv<PriceListReply> {
    let v = lenient::parse(bytes, "body")?;
    let (items, path) = match &v {
        Value::Array(items) => (items, ""),
        Value::Object(_) => {
            let o = Obj::of(&v, "")?;
            (o.array("prices")?.ok_or_else(|| ConversionError::new("prices", "missing"))?, "prices")
        }
        _ => return Err(ConversionError::new("body", "expected the price list")),
    };
    let mut out = PriceListReply::default();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{path}[{i}]");
        match product(item, &path) {
            Ok(p) => out.products.push(p),
            Err(error) => {
                let product_id = Obj::of(item, &path).ok().and_then(|o| o.req_id("productId").ok());
                out.skipped.push(SkippedProduct { product_id, error });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJECT_FORM: &str = r#"{"prices":[{"productId":918325,"productName":"Glow Serum - 1 bottle","sku":"SKU-918325","quantity":1,
        "productPrices":{"DiscountedPrice":{"Value":100,"FormattedValue":"$100.00"},"FullRetailPrice":{"Value":150,"FormattedValue":"$150.00"}},
        "shippings":[{"shippingMethodId":145,"price":0},{"shippingMethodId":146,"price":9.95}]}],
        "location":{"countryCode":"US","regionCode":"CA"},"campaignName":"Demo"}"#;

    #[test]
    fn object_form_reads_value_and_first_shipping() {
        let list = decode_price_list(OBJECT_FORM.as_bytes()).unwrap().products;
        assert_eq!(list[0].product_id, 918_325);
        assert_eq!(list[0].discounted_price, Decimal::from(100));
        assert_eq!(list[0].shippings[0], Shipping { shipping_method_id: 145, price: Decimal::ZERO });
        assert_eq!(list[0].shippings[1].price, Decimal::new(995, 2));
    }

    #[test]
    fn array_form_and_string_numbers_read_alike() {
        let body =
            r#"[{"ProductId":"918446","productPrices":{"discountedPrice":{"value":"120"}},"shippings":[]}]"#;
        let list = decode_price_list(body.as_bytes()).unwrap().products;
        assert_eq!((list[0].product_id, list[0].discounted_price), (918_446, Decimal::from(120)));
    }

    #[test]
    fn a_negative_price_is_left_out_naming_its_field() {
        let body = r#"[{"productId":1,"productPrices":{"DiscountedPrice":{"Value":-1}}}]"#;
        let list = decode_price_list(body.as_bytes()).unwrap();
        assert!(list.products.is_empty());
        assert_eq!(list.skipped[0].product_id, Some(1));
        assert_eq!(list.skipped[0].error.field, "[0].productPrices.DiscountedPrice.Value");
    }

    #[test]
    fn an_unpriced_entry_is_left_out_and_the_others_read() {
        let body = r#"{"prices":[
            {"productId":918999,"productPrices":{"DiscountedPrice":{"Value":null,"FormattedValue":""}}},
            {"productId":918325,"productPrices":{"DiscountedPrice":{"Value":100}}},
            {"productId":"x"}, 7]}"#;
        let list = decode_price_list(body.as_bytes()).unwrap();
        let ids: Vec<i64> = list.products.iter().map(|p| p.product_id).collect();
        assert_eq!(ids, [918_325]);
        let skipped: Vec<(Option<i64>, &str)> =
            list.skipped.iter().map(|s| (s.product_id, s.error.field.as_str())).collect();
        assert_eq!(
            skipped,
            [
                (Some(918_999), "prices[0].productPrices.DiscountedPrice.Value"),
                (None, "prices[2].productPrices"),
                (None, "prices[3]"),
            ]
        );
    }

    #[test]
    fn only_an_unreadable_envelope_fails_the_list() {
        for body in ["7", r#"{"location":{}}"#, "{"] {
            assert!(decode_price_list(body.as_bytes()).is_err(), "{body}");
        }
    }
}
