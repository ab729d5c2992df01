//! The seeded tenants, campaigns and products (the eManage contract §5) and campaign changes
//! made through the probe, served after the configured cache staleness (§1).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::demo;

/// Campaign type (§5.1): exactly one of the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CampaignKind {
    ShoppingCart,
    SingleOffer,
}

#[derive(Clone, Debug)]
pub(crate) struct Shipping {
    pub method_id: i64,
    pub price: Decimal,
}

#[derive(Clone, Debug)]
pub(crate) struct Product {
    pub id: i64,
    pub name: String,
    pub sku: String,
    /// Units in the package (§5.3 `quantity`).
    pub units: u32,
    /// The selling price, `DiscountedPrice.Value`.
    pub price: Decimal,
    /// The "was" price, `FullRetailPrice.Value`.
    pub full_retail: Decimal,
    pub shippings: Vec<Shipping>,
    /// A price change made through the probe, served from the instant given (§1 staleness).
    pub pending_price: Option<(Decimal, DateTime<Utc>)>,
}

impl Product {
    pub fn shipping(&self, method_id: i64) -> Option<&Shipping> {
        self.shippings.iter().find(|s| s.method_id == method_id)
    }
}

/// One step of a single-offer funnel (`GET campaigns/{wk}/upsells`, §6.1).
#[derive(Clone, Debug)]
pub(crate) struct UpsellStep {
    pub web_key: String,
    pub url: String,
    pub product_id: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Campaign {
    /// Lower-case GUID.
    pub web_key: String,
    /// Lower-case GUID of the owning client.
    pub cid: String,
    pub name: String,
    pub kind: CampaignKind,
    /// Billing descriptor answered by checkout and orders.
    pub descriptor: String,
    /// Countries the campaign sells to (§5.1 "Country Settings").
    pub countries: Vec<String>,
    pub products: Vec<Product>,
    pub upsells: Vec<UpsellStep>,
    /// Whether the settings' progressive discount applies (the demo cart campaign only).
    pub progressive: bool,
}

impl Campaign {
    pub fn product(&self, id: i64) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }

    /// Serves every price change whose staleness delay has passed.
    pub fn apply_due_changes(&mut self, now: DateTime<Utc>) {
        for p in &mut self.products {
            if let Some((price, at)) = p.pending_price {
                if at <= now {
                    p.price = price;
                    p.pending_price = None;
                }
            }
        }
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

fn product(id: i64, name: &str, units: u32, price: &str, full: &str, shippings: &[(i64, &str)]) -> Product {
    Product {
        id,
        name: name.into(),
        sku: format!("SKU-{id}"),
        units,
        price: dec(price),
        full_retail: dec(full),
        shippings: shippings.iter().map(|(m, p)| Shipping { method_id: *m, price: dec(p) }).collect(),
        pending_price: None,
    }
}

/// The seeded campaigns (values documented in [`demo`]).
pub(crate) fn seed() -> Vec<Campaign> {
    let std_ship: &[(i64, &str)] = &[(demo::SHIPPING_METHOD, "0"), (demo::SHIPPING_METHOD_EXPRESS, "9.95")];
    let cart = Campaign {
        web_key: demo::WEB_KEY.into(),
        cid: demo::CID.into(),
        name: "Demo Cart Shop".into(),
        kind: CampaignKind::ShoppingCart,
        descriptor: demo::DESCRIPTOR.into(),
        countries: vec!["US".into(), "CA".into()],
        products: vec![
            product(demo::PRODUCT_BASIC, "Glow Serum - 1 bottle", 1, "100", "150", std_ship),
            product(demo::PRODUCT_UPGRADE, "Glow Serum - 2 bottles", 2, "120", "300", std_ship),
            product(demo::PRODUCT_PREMIUM, "Glow Serum - 3 bottles", 3, "140", "450", std_ship),
            product(demo::PRODUCT_TIER_100, "Bamboo Towel Set", 1, "100", "130", std_ship),
            product(demo::PRODUCT_TIER_60, "Bamboo Bath Mat", 1, "60", "80", std_ship),
            product(demo::PRODUCT_TIER_33_33, "Bamboo Face Cloth", 1, "33.33", "45", std_ship),
            product(demo::PRODUCT_NOT_QUALIFYING, "Shower Caddy", 1, "60", "75", std_ship),
        ],
        upsells: Vec::new(),
        progressive: true,
    };
    let second = Campaign {
        web_key: demo::WEB_KEY_SECOND.into(),
        cid: demo::CID.into(),
        name: "Demo Cart Shop (second campaign)".into(),
        kind: CampaignKind::ShoppingCart,
        descriptor: demo::DESCRIPTOR.into(),
        countries: vec!["US".into()],
        products: vec![product(demo::PRODUCT_BASIC, "Glow Serum - 1 bottle", 1, "100", "150", std_ship)],
        upsells: Vec::new(),
        progressive: false,
    };
    let offer = Campaign {
        web_key: demo::WEB_KEY_OFFER.into(),
        cid: demo::CID.into(),
        name: "Demo Single Offer".into(),
        kind: CampaignKind::SingleOffer,
        descriptor: demo::DESCRIPTOR.into(),
        countries: vec!["US".into(), "CA".into()],
        products: vec![product(demo::PRODUCT_OFFER, "Pocket Blender", 1, "49.95", "79.95", std_ship)],
        upsells: vec![UpsellStep {
            web_key: demo::WEB_KEY_UPSELL.into(),
            url: "https://shop.example/upsell-1".into(),
            product_id: demo::PRODUCT_UPSELL,
        }],
        progressive: false,
    };
    let upsell = Campaign {
        web_key: demo::WEB_KEY_UPSELL.into(),
        cid: demo::CID.into(),
        name: "Demo Single Offer - upsell".into(),
        kind: CampaignKind::SingleOffer,
        descriptor: demo::DESCRIPTOR.into(),
        countries: vec!["US".into(), "CA".into()],
        products: vec![product(demo::PRODUCT_UPSELL, "Blender Travel Lid", 1, "19.95", "29.95", std_ship)],
        upsells: Vec::new(),
        progressive: false,
    };
    let foreign = Campaign {
        web_key: demo::OTHER_WEB_KEY.into(),
        cid: demo::OTHER_CID.into(),
        name: "Another merchant's cart".into(),
        kind: CampaignKind::ShoppingCart,
        descriptor: "OTHERSHOP".into(),
        countries: vec!["US".into()],
        products: vec![product(demo::PRODUCT_BASIC, "Glow Serum - 1 bottle", 1, "100", "150", std_ship)],
        upsells: Vec::new(),
        progressive: false,
    };
    vec![cart, second, offer, upsell, foreign]
}
