//! Campaign reads (the eManage contract §6.1, price object §5.3).

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{field_error, message, num, ok, Req, Res};
use crate::emanage::{
    catalog::{Campaign, Product},
    input::query,
    pricing::{format_money, half_up},
    settings::Coupon,
    state::Inner,
};

fn country_name(code: &str) -> &'static str {
    match code {
        "US" => "United States",
        "CA" => "Canada",
        "GB" => "United Kingdom",
        "DE" => "Germany",
        "BR" => "Brazil",
        _ => "",
    }
}

/// `{ Value, FormattedValue }` with PascalCase keys, as inside `productPrices` (§5.3).
fn price_value(d: Decimal, currency: &str) -> Value {
    json!({"Value": num(d), "FormattedValue": format_money(d, currency)})
}

/// One sellable product (§5.3).
fn price_object(inner: &Inner, p: &Product) -> Value {
    let currency = &inner.settings.currency;
    let per_unit = half_up(p.price / Decimal::from(p.units.max(1)), inner.exp());
    json!({
        "productId": p.id,
        "productName": p.name,
        "sku": p.sku,
        "quantity": p.units,
        "productPrices": {
            "DiscountedPrice": price_value(p.price, currency),
            "FullRetailPrice": price_value(p.full_retail, currency),
            "UnitDiscountRate": price_value(per_unit, currency),
        },
        "shippings": p.shippings.iter().map(|s| json!({
            "shippingMethodId": s.method_id,
            "price": num(s.price),
            "formattedPrice": format_money(s.price, currency),
        })).collect::<Vec<_>>(),
    })
}

fn campaign<'a>(inner: &'a Inner, rq: &Req) -> &'a Campaign {
    // The guard already resolved the web key; the seed never removes a campaign.
    inner.campaign(&rq.web_key).unwrap_or(&inner.campaigns[0])
}

fn location_json(inner: &Inner) -> Value {
    let l = &inner.settings.location;
    json!({"countryCode": l.country_code, "regionCode": l.region_code})
}

/// `GET campaigns/{wk}/customers/location`: the caller's geo-IP (a fixed setting here).
pub(super) fn location(inner: &mut Inner, _: &Req) -> Res {
    let mut v = location_json(inner);
    let name = country_name(&inner.settings.location.country_code);
    v["countryName"] = json!(name);
    ok(v)
}

/// `GET campaigns/{wk}/products/prices`: the object form `{ prices, location, campaignName }`.
pub(super) fn prices(inner: &mut Inner, rq: &Req) -> Res {
    let c = campaign(inner, rq);
    let prices: Vec<Value> = c.products.iter().map(|p| price_object(inner, p)).collect();
    ok(json!({"prices": prices, "location": location_json(inner), "campaignName": c.name}))
}

/// `GET campaigns/{wk}/products/prices/{countryCode}`: the older bare-array form. Simulator
/// decision: a country the campaign does not sell to gets `[]`.
pub(super) fn prices_for_country(inner: &mut Inner, rq: &Req) -> Res {
    let c = campaign(inner, rq);
    let cc = rq.param("countryCode").to_ascii_uppercase();
    if !c.countries.contains(&cc) {
        return ok(json!([]));
    }
    ok(Value::Array(c.products.iter().map(|p| price_object(inner, p)).collect()))
}

/// `GET campaigns/{wk}/upsells`: the funnel's upsell steps (`upsellUrl`, §6.1).
pub(super) fn upsells(inner: &mut Inner, rq: &Req) -> Res {
    let c = campaign(inner, rq);
    ok(Value::Array(
        c.upsells
            .iter()
            .enumerate()
            .map(|(i, u)| json!({"index": i + 1, "upsellUrl": u.url, "webKey": u.web_key, "productId": u.product_id}))
            .collect(),
    ))
}

/// The campaign coupon of `code` (any letter case), or 404 `{message}`.
fn coupon<'a>(inner: &'a Inner, code: &str) -> Result<&'a Coupon, super::Response> {
    inner
        .settings
        .coupons
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(code.trim()))
        .ok_or_else(|| message(404, format!("Coupon '{code}' was not found.")))
}

/// `GET campaigns/{wk}/taxes/{countryCode}/{stateCode}[?coupon=CODE]`: `{ productsTaxes: [ {
/// productId, tax: { taxValue } } ] }`, the tax of one package of each product at the seeded
/// rate of that state (0 elsewhere), on its price after the coupon when one is given.
pub(super) fn taxes(inner: &mut Inner, rq: &Req) -> Res {
    let (country, state) =
        (rq.param("countryCode").to_ascii_uppercase(), rq.param("stateCode").to_ascii_uppercase());
    let off = match query(&rq.q, "coupon").filter(|c| !c.trim().is_empty()) {
        Some(code) => coupon(inner, code)?.percent,
        None => Decimal::ZERO,
    };
    let rate = inner
        .settings
        .tax_rates
        .iter()
        .find(|t| t.country_code.eq_ignore_ascii_case(&country) && t.state_code.eq_ignore_ascii_case(&state))
        .map_or(Decimal::ZERO, |t| t.percent);
    let exp = inner.exp();
    let hundred = Decimal::ONE_HUNDRED;
    let taxes: Vec<Value> = campaign(inner, rq)
        .products
        .iter()
        .map(|p| {
            let net = half_up(p.price * (hundred - off) / hundred, exp);
            json!({"productId": p.id, "tax": {"taxValue": num(half_up(net * rate / hundred, exp))}})
        })
        .collect();
    ok(json!({"productsTaxes": taxes}))
}

/// `GET campaigns/{wk}/coupons/{couponCode}?currencyCode=XXX`: `{ discount,
/// formattedMinimalPurchase, … }` (simulator: `discount` is the percentage off, plus
/// `couponCode` and `minimalPurchase`). `currencyCode` is required and must be the campaign's
/// (400 naming it); an unknown coupon is 404.
pub(super) fn coupon_info(inner: &mut Inner, rq: &Req) -> Res {
    let currency = query(&rq.q, "currencyCode")
        .ok_or_else(|| field_error("currencyCode", "The currencyCode field is required."))?;
    if !currency.eq_ignore_ascii_case(&inner.settings.currency) {
        return Err(field_error(
            "currencyCode",
            format!("The campaign sells in {}, not {currency}.", inner.settings.currency),
        ));
    }
    let c = coupon(inner, rq.param("couponCode"))?;
    ok(json!({
        "couponCode": c.code,
        "discount": num(c.percent),
        "minimalPurchase": num(c.minimal_purchase),
        "formattedMinimalPurchase": format_money(c.minimal_purchase, &inner.settings.currency),
    }))
}
