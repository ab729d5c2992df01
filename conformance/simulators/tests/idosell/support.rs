//! Helpers: a started simulator, SOAP envelopes written by hand (as an adapter would), and a
//! small tag reader for replies that shares nothing with the simulator's own parser.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use loyalty_sim::{
    idosell::{demo, system_key, Gateway, IdosellProbe, IdosellSettings, IdosellSim},
    SimClock, SimServer,
};

pub struct T {
    pub server: SimServer,
    pub probe: IdosellProbe,
    pub http: reqwest::Client,
    pub clock: SimClock,
}

pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Resp {
    /// Text of every element with this exact (qualified) name, in document order.
    pub fn tags(&self, name: &str) -> Vec<String> {
        tags(&self.body, name)
    }

    /// Text of the first element with this name.
    pub fn tag(&self, name: &str) -> Option<String> {
        self.tags(name).into_iter().next()
    }

    /// The top-level `faultCode` (the first one in the reply: `errors` is written first).
    pub fn fault_code(&self) -> i64 {
        self.tag("faultCode").and_then(|c| c.parse().ok()).unwrap_or(-1)
    }

    pub fn fault_string(&self) -> String {
        self.tag("faultString").unwrap_or_default()
    }

    /// Per-item fault codes (every `faultCode` after the top-level one).
    pub fn item_codes(&self) -> Vec<i64> {
        self.tags("faultCode").iter().skip(1).map(|c| c.parse().unwrap_or(-1)).collect()
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

pub fn tags(xml: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        if !matches!(after.chars().next(), Some(' ' | '>' | '/')) {
            rest = after;
            continue;
        }
        let gt = after.find('>').expect("tag end");
        if after[..gt].ends_with('/') {
            out.push(String::new());
            rest = &after[gt..];
            continue;
        }
        let content = &after[gt + 1..];
        let end = content.find(&close).expect("closing tag");
        out.push(unescape(&content[..end]));
        rest = &content[end..];
    }
    out
}

/// A SOAP 1.1 rpc/encoded envelope as §2.3 sketches it.
pub fn envelope(method: &str, request: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="{method}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:{method}><request xsi:type="ns1:requestType">{request}</request></ns1:{method}></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
    )
}

/// One ICDF line as a SOAP-ENC array item.
pub fn line(code: &str, code_type: &str, qty: &str) -> String {
    format!(
        r#"<item xsi:type="ns1:productType"><code xsi:type="xsd:string">{code}</code><codeType xsi:type="xsd:string">{code_type}</codeType><quantity xsi:type="xsd:float">{qty}</quantity></item>"#
    )
}

pub fn products(lines: &[String]) -> String {
    format!(
        r#"<products SOAP-ENC:arrayType="ns1:productType[{}]" xsi:type="SOAP-ENC:Array">{}</products>"#,
        lines.len(),
        lines.concat()
    )
}

pub fn params(inner: &str) -> String {
    format!("<params>{inner}</params>")
}

pub const RECIPIENT_PL: &str = "<recipient><firstName>Anna</firstName><lastName>Nowak</lastName><street>ul. Prosta 5</street><postcode>00-838</postcode><city>Warszawa</city><country>PL</country><phone>+48600100200</phone><email>anna@example.pl</email></recipient>";
pub const RECIPIENT_DE: &str = "<recipient><firstName>Hans</firstName><lastName>Müller</lastName><street>Hauptstraße 1</street><postcode>10115</postcode><city>Berlin</city><country>DE</country></recipient>";
pub const BILLING: &str = "<billing><company>Sklep Kawowy sp. z o.o.</company><taxId>5260250274</taxId><street>ul. Kawowa 3</street><postcode>31-001</postcode><city>Kraków</city><country>PL</country></billing>";

/// G4 params: a recipient, a courier (and pickup point for the pickup courier), the shop's
/// billing data and an optional shop reference.
pub fn order(recipient: &str, courier: i64, shop_ref: Option<&str>) -> String {
    let pickup = if courier == demo::COURIER_PICKUP {
        format!("<pickupPointId>{}</pickupPointId>", demo::PICKUP_POINT)
    } else {
        String::new()
    };
    let reference =
        shop_ref.map(|r| format!("<shopOrderReference>{r}</shopOrderReference>")).unwrap_or_default();
    params(&format!(
        "{recipient}<delivery><courierId>{courier}</courierId>{pickup}</delivery>{BILLING}{reference}"
    ))
}

pub fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Default settings changed by `f`.
pub fn settings(f: impl FnOnce(&mut IdosellSettings)) -> IdosellSettings {
    let mut s = IdosellSettings::default();
    f(&mut s);
    s
}

pub async fn sim_with(settings: IdosellSettings) -> T {
    sim_at(settings, SimClock::default()).await
}

pub async fn sim() -> T {
    sim_with(IdosellSettings::default()).await
}

pub async fn sim_at(settings: IdosellSettings, clock: SimClock) -> T {
    let (server, probe) = IdosellSim::start_with_probe(settings, clock.clone()).await.unwrap();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build().unwrap();
    T { server, probe, http, clock }
}

/// The demo password's key for a Warsaw calendar date.
pub fn demo_key(date: NaiveDate) -> String {
    system_key(demo::PASSWORD_SHA1, date)
}

impl T {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    pub fn gate_path(&self, g: Gateway) -> String {
        self.probe.settings().names.gates.get(g).path.clone()
    }

    /// POSTs a SOAP body with `text/xml; charset=utf-8` (a `content-type` in `headers` replaces
    /// it) and the `headers`.
    pub async fn post(&self, path: &str, body: impl Into<reqwest::Body>, headers: &[(&str, &str)]) -> Resp {
        let mut rb = self.http.post(self.url(path)).header("SOAPAction", "\"\"").body(body);
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            rb = rb.header("content-type", "text/xml; charset=utf-8");
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let content_type =
            r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        Resp { status, content_type, body: r.text().await.unwrap() }
    }

    /// Posts `request` content in an envelope for the gateway's method to its gate.
    pub async fn raw(&self, g: Gateway, request: &str) -> Resp {
        let method = self.probe.settings().names.gates.get(g).method.clone();
        self.post(&self.gate_path(g), envelope(&method, request), &[]).await
    }

    pub async fn authenticate(&self, login: &str, key: &str) -> Resp {
        self.raw(Gateway::Authenticate, &format!("<login>{login}</login><systemKey>{key}</systemKey>")).await
    }

    /// The demo shop's key for the simulator's current Warsaw date.
    pub fn today_key(&self) -> String {
        let date = self.clock.now().with_timezone(&chrono_tz::Europe::Warsaw).date_naive();
        demo_key(date)
    }

    /// Logs the demo shop in and returns its session key.
    pub async fn login(&self) -> String {
        let r = self.authenticate(demo::LOGIN, &self.today_key()).await;
        assert_eq!(r.fault_code(), 0, "{}", r.body);
        r.tag("sessionKey").unwrap()
    }

    /// Calls G2–G9 for the demo shop with a fresh session and the right dropshipping key.
    pub async fn call(&self, g: Gateway, params: &str) -> Resp {
        let session = self.login().await;
        self.call_as(g, &session, demo::DROPSHIPPING_KEY, params).await
    }

    pub async fn call_as(&self, g: Gateway, session: &str, ds_key: &str, params: &str) -> Resp {
        let request =
            format!("<sessionKey>{session}</sessionKey><dropshippingKey>{ds_key}</dropshippingKey>{params}");
        self.raw(g, &request).await
    }

    /// Imports lines into the demo basket (expects success).
    pub async fn import(&self, lines: &[String]) -> Resp {
        let r = self.call(Gateway::BasketImport, &params(&products(lines))).await;
        assert_eq!(r.fault_code(), 0, "{}", r.body);
        r
    }

    /// Imports two coffees and places an order with the domestic courier.
    pub async fn place_coffee_order(&self, shop_ref: &str) -> Resp {
        self.import(&[line(demo::COFFEE_INTERNAL, "internal", "2")]).await;
        let r = self
            .call(Gateway::PlaceOrder, &order(RECIPIENT_PL, demo::COURIER_DOMESTIC, Some(shop_ref)))
            .await;
        assert_eq!(r.fault_code(), 0, "{}", r.body);
        r
    }
}
