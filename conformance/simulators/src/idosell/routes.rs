//! Request handling shared by every gateway (the IdoSell contract §2, §6): find the gateway from
//! the gate path, read the SOAP envelope (or JSON twin), check the call, run the gateway and
//! write the reply with its `errors` block in an HTTP 200 body.

use std::sync::{Arc, Mutex};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode},
    Router,
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{
    addresses, admin, auth, couriers,
    messages::{self, Fault, Lang, INPUT},
    names::{self, Gateway, ERRORS, FAULT_CODE, FAULT_STRING},
    orders, products,
    settings::{FaultLanguage, IdosellSettings, OversizeAnswer, Transports, UnknownElements},
    soap::{self, Node, Out},
    state::Inner,
};
use crate::{clock::SimClock, server::Oversized};

/// What a gateway answers on success: the fields written after `errors` in the reply.
pub(crate) type Reply = Result<Vec<(String, Out)>, Fault>;

/// Shared simulator state handed to every handler.
#[derive(Clone, Debug)]
pub(crate) struct Sim {
    pub inner: Arc<Mutex<Inner>>,
    pub clock: SimClock,
    pub http: reqwest::Client,
}

impl Sim {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Per-request context: settings, time, zone, language.
pub(crate) struct Ctx<'a> {
    pub s: &'a IdosellSettings,
    pub now: DateTime<Utc>,
    pub zone: Tz,
    pub lang: Lang,
}

impl Ctx<'_> {
    /// Refuses fields outside `known` with fault 5 naming `path.field`, unless the settings say
    /// to ignore them.
    pub fn check_unknown(&self, node: &Node, known: &[&str], path: &str) -> Result<(), Fault> {
        if self.s.unknown_elements == UnknownElements::Ignore {
            return Ok(());
        }
        match node.unknown_fields(known).first() {
            Some(f) => Err(Fault::with(INPUT, format!("{path}.{f}"))),
            None => Ok(()),
        }
    }

    /// With magic values on, the first text equal to a magic value triggers its fault.
    pub fn check_magic(&self, texts: &[&str]) -> Result<(), Fault> {
        self.check_magic_except(texts, &[])
    }

    /// As [`Ctx::check_magic`], skipping codes the gateway raises per line itself.
    pub fn check_magic_except(&self, texts: &[&str], skip: &[u32]) -> Result<(), Fault> {
        if !self.s.magic_values {
            return Ok(());
        }
        for t in texts {
            if let Some(code) = magic(t).filter(|c| !skip.contains(c)) {
                return Err(Fault::with(code, *t));
            }
        }
        Ok(())
    }

    /// `YYYY-MM-DD HH:MM:SS` in the configured zone (the §7.2 webhook date style).
    pub fn local_time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.zone).format("%Y-%m-%d %H:%M:%S").to_string()
    }

    /// Today's date in the configured zone.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now.with_timezone(&self.zone).date_naive()
    }

    /// A per-item `faultCode` / `faultString` pair.
    pub fn item_fault(&self, f: Option<&Fault>) -> [(&'static str, Out); 2] {
        match f {
            None => [(FAULT_CODE, Out::Int(0)), (FAULT_STRING, Out::s(""))],
            Some(f) => [
                (FAULT_CODE, Out::Int(i64::from(f.number(&self.s.names.faults)))),
                (FAULT_STRING, Out::s(f.text(self.lang))),
            ],
        }
    }
}

/// The magic values (settings `magic_values`; simulator decision, §9.2 item 4): a request text
/// equal to one of these answers its faultCode. Tabled in the module docs.
pub(crate) fn magic(v: &str) -> Option<u32> {
    Some(match v {
        "FAIL-LOGIN" => 1,
        "FAIL-EMPTY" => 2,
        "FAIL-SESSION" => 3,
        "FAIL-DROPSHIPPING" => 4,
        "FAIL-INPUT" => 5,
        "FAIL-UNKNOWN" => 6,
        "FAIL-STOCK" => 7,
        "FAIL-COURIER" => 8,
        "FAIL-BASKET" => 9,
        "FAIL-ADDRESS" => 10,
        "FAIL-SIZE" => 11,
        "FAIL-INTERNAL" => 99,
        _ => return None,
    })
}

/// SOAP (primary) or the JSON twin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Soap,
    Json,
}

/// Gateways whose gate (or JSON twin) path matches the request.
fn candidates(s: &IdosellSettings, path: &str, query: Option<&str>) -> Vec<(Gateway, Transport)> {
    let mut out = Vec::new();
    for g in Gateway::ALL {
        let gate = s.names.gates.get(g);
        if names::path_matches(&gate.path, path, query) {
            out.push((g, Transport::Soap));
        } else if s.transports == Transports::SoapAndJson
            && names::json_twin(&gate.path).is_some_and(|p| names::path_matches(&p, path, query))
        {
            out.push((g, Transport::Json));
        }
    }
    out
}

fn soap_action(headers: &HeaderMap) -> Option<String> {
    headers.get("soapaction").and_then(|v| v.to_str().ok()).map(|v| v.trim().trim_matches('"').to_string())
}

/// Narrows several gateways sharing one path by the body's method element, then `SOAPAction`.
fn pick(
    s: &IdosellSettings,
    found: &[(Gateway, Transport)],
    method: Option<&str>,
    action: Option<&str>,
) -> Option<(Gateway, Transport)> {
    if let [one] = found {
        return Some(*one);
    }
    let gate = |g: Gateway| s.names.gates.get(g);
    found
        .iter()
        .find(|(g, _)| method.is_some_and(|m| gate(*g).method.eq_ignore_ascii_case(m)))
        .or_else(|| found.iter().find(|(g, _)| action.is_some_and(|a| gate(*g).soap_action == a)))
        .copied()
}

/// The route name of a request (a gateway id), for the journal and route faults.
pub(crate) fn route_of(
    inner: &Mutex<Inner>,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Option<String> {
    let s = inner.lock().unwrap_or_else(|e| e.into_inner()).settings.clone();
    let found = candidates(&s, parts.uri.path(), parts.uri.query());
    let method = if found.len() > 1 { soap::method_of(body) } else { None };
    let action = soap_action(&parts.headers);
    pick(&s, &found, method.as_deref(), action.as_deref()).map(|(g, _)| g.id().to_string())
}

/// The language asked for. Simulator decision: query `lang` (`eng`/`en`, `pol`/`pl`, as the
/// admin gates' `lang=pol`, §6.1) wins over an `Accept-Language` header starting with `en`.
fn language(s: &IdosellSettings, query: Option<&str>, headers: &HeaderMap) -> Lang {
    match s.fault_language {
        FaultLanguage::PolishOnly => return Lang::Pl,
        FaultLanguage::English => return Lang::En,
        FaultLanguage::Polish => {}
    }
    if let Some((_, v)) = names::pairs(query.unwrap_or("")).into_iter().find(|(k, _)| k == "lang") {
        return if matches!(v.to_ascii_lowercase().as_str(), "eng" | "en") { Lang::En } else { Lang::Pl };
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.trim_start().to_ascii_lowercase().starts_with("en") {
        Lang::En
    } else {
        Lang::Pl
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

const XML: &str = "text/xml; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// A protocol-level fault: a SOAP 1.1 `Fault` (HTTP 500, as SOAP 1.1 §6.2 and PHP's SOAP server
/// answer faults), or its JSON-twin equivalent (simulator decision).
fn protocol_fault(t: Transport, code: &str, text: &str) -> Response<Body> {
    match t {
        Transport::Soap => respond(StatusCode::INTERNAL_SERVER_ERROR, XML, soap::fault(code, text)),
        Transport::Json => {
            let v = serde_json::json!({"fault": {"faultcode": code, "faultstring": text}});
            respond(StatusCode::INTERNAL_SERVER_ERROR, JSON, v.to_string())
        }
    }
}

/// Checks the `Content-Type` of a SOAP request: SOAP 1.1 over HTTP is `text/xml` (SOAP 1.1
/// §6.1.1), and the contract's requests carry `text/xml; charset=utf-8` (§2.2, checklist 22).
/// A `charset` other than UTF-8, another media type or none at all is refused before the body is
/// read. Simulator decision (the contract does not say how such a request is answered; PHP's
/// SOAP server does not look at the header): the closest documented answer, the SOAP 1.1
/// `Fault` of a malformed request (`SOAP-ENV:Client`, HTTP 500, §6.1); the SOAP 1.2 media type
/// `application/soap+xml` is answered like a SOAP 1.2 envelope, `SOAP-ENV:VersionMismatch`.
/// A `text/xml` without `charset` is taken (the body must be UTF-8 all the same).
fn refuse_content_type(headers: &HeaderMap) -> Option<Response<Body>> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Some(protocol_fault(
            Transport::Soap,
            "Client",
            "Bad Request: no Content-Type; SOAP 1.1 requests are text/xml; charset=utf-8",
        ));
    };
    let text = value.to_str().unwrap_or("");
    let mut parts = text.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase());
    if media == "application/soap+xml" {
        return Some(protocol_fault(
            Transport::Soap,
            "VersionMismatch",
            "Wrong Version: application/soap+xml is SOAP 1.2; this server speaks SOAP 1.1 only",
        ));
    }
    if media != "text/xml" || charset.as_deref().is_some_and(|c| c != "utf-8") {
        return Some(protocol_fault(
            Transport::Soap,
            "Client",
            &format!("Bad Request: Content-Type {text:?}; SOAP 1.1 requests are text/xml; charset=utf-8"),
        ));
    }
    None
}

/// The gateway reply: `errors` first, then the gateway's fields, always HTTP 200 (§6.1).
fn reply(s: &IdosellSettings, g: Gateway, t: Transport, lang: Lang, result: Reply) -> Response<Body> {
    let (errors, fields) = match result {
        Ok(fields) => ((0, String::new()), fields),
        Err(f) => ((f.number(&s.names.faults), f.text(lang)), Vec::new()),
    };
    let mut all = vec![(
        ERRORS.to_string(),
        Out::obj([(FAULT_CODE, Out::Int(i64::from(errors.0))), (FAULT_STRING, Out::Str(errors.1))]),
    )];
    all.extend(fields);
    let gate = s.names.gates.get(g);
    match t {
        Transport::Soap => respond(
            StatusCode::OK,
            XML,
            soap::envelope(&gate.namespace, &gate.method, &s.names.response, &all),
        ),
        Transport::Json => {
            let mut text = String::new();
            Out::Obj(all).write_json(&mut text);
            respond(StatusCode::OK, JSON, text)
        }
    }
}

/// The router: the `/_sim` test routes, and every gate through the fallback.
pub(crate) fn router(sim: Sim) -> Router {
    admin::routes().fallback(gate).with_state(sim)
}

async fn gate(State(sim): State<Sim>, req: Request) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let s = sim.lock().settings.clone();
    let (path, query) = (parts.uri.path(), parts.uri.query());
    let found = candidates(&s, path, query);
    // Simulator decision: a path that is no gate answers 404, a gate used without POST 405.
    if found.is_empty() {
        return respond(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "Not Found".into());
    }
    if parts.method != Method::POST {
        let mut r =
            respond(StatusCode::METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "Method Not Allowed".into());
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let lang = language(&s, query, &parts.headers);
    let action = soap_action(&parts.headers);
    let zone = s.zone().unwrap_or(chrono_tz::Europe::Warsaw);
    let cx = Ctx { s: &s, now: sim.clock.now(), zone, lang };

    // §8: a body over the limit is answered without reading it; credentials sit in that body,
    // so no session check is possible first.
    if parts.extensions.get::<Oversized>().is_some() {
        let (g, t) = pick(&s, &found, None, action.as_deref()).unwrap_or(found[0]);
        count_call(&sim, g);
        return match s.oversize_answer {
            OversizeAnswer::Http413 => {
                respond(StatusCode::PAYLOAD_TOO_LARGE, "text/plain; charset=utf-8", String::new())
            }
            OversizeAnswer::Fault11 => reply(&s, g, t, lang, Err(Fault::new(messages::TOO_LARGE))),
        };
    }
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();

    let json_found = found.iter().any(|(_, t)| *t == Transport::Json);
    let (g, t, content) = if json_found {
        let (g, t) = found[0];
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(v) if v.is_object() => {
                let node = Node::from_json(&v);
                // The twin takes the `request` content at the top level; a wrapper is accepted.
                let node = match &node {
                    Node::Obj(f) if f.len() == 1 && f[0].0 == s.names.request => f[0].1.clone(),
                    _ => node,
                };
                (g, t, node)
            }
            Ok(_) => return protocol_fault(t, "Client", "request body is not a JSON object"),
            Err(e) => return protocol_fault(t, "Client", &format!("Bad Request: {e}")),
        }
    } else {
        if let Some(refused) = refuse_content_type(&parts.headers) {
            return refused;
        }
        let call = match soap::parse_envelope(&bytes) {
            Ok(c) => c,
            Err(r) => return protocol_fault(Transport::Soap, r.code(), r.text()),
        };
        // PHP's SOAP server answers an unknown function with this Server fault (§6.1). Its
        // function lookup ignores case (PHP function names do), so the method element is the
        // one name matched without case; every element below it is matched exactly.
        let Some((g, t)) = pick(&s, &found, Some(&call.method), None)
            .filter(|(g, _)| s.names.gates.get(*g).method.eq_ignore_ascii_case(&call.method))
        else {
            return protocol_fault(
                Transport::Soap,
                "Server",
                &format!("Procedure '{}' not present", call.method),
            );
        };
        if let Err(f) = cx.check_unknown(&call.body, &[&s.names.request], &s.names.gates.get(g).method) {
            return reply(&s, g, t, lang, Err(f));
        }
        match call.body.get(&s.names.request) {
            Some(r) => (g, t, r.clone()),
            None => return reply(&s, g, t, lang, Err(Fault::with(INPUT, s.names.request.clone()))),
        }
    };

    let n = count_call(&sim, g);
    let scheduled = {
        let mut inner = sim.lock();
        let i = inner.call_faults.iter().position(|(fg, at, _)| *fg == g && *at == n);
        i.map(|i| inner.call_faults.remove(i).2)
    };
    if let Some(code) = scheduled {
        return reply(&s, g, t, lang, Err(Fault::verbatim(code, format!("call {n}"))));
    }
    let result = {
        let mut inner = sim.lock();
        run(&mut inner, &cx, g, &content)
    };
    reply(&s, g, t, lang, result)
}

fn count_call(sim: &Sim, g: Gateway) -> u64 {
    let mut inner = sim.lock();
    let n = inner.calls.entry(g).or_insert(0);
    *n += 1;
    *n
}

/// Runs a gateway on the request content (the `request` wrapper's fields).
fn run(inner: &mut Inner, cx: &Ctx<'_>, g: Gateway, req: &Node) -> Reply {
    if g == Gateway::Authenticate {
        return auth::authenticate(inner, cx, req);
    }
    let account = auth::authorize(inner, cx, req)?;
    let names = &cx.s.names;
    cx.check_unknown(req, &[names::SESSION_KEY, names::DROPSHIPPING_KEY, &names.params], &names.request)?;
    let empty = Node::Obj(Vec::new());
    let params = match req.get(&names.params) {
        Some(Node::Text(t)) if t.trim().is_empty() => &empty,
        Some(p @ Node::Obj(_)) => p,
        Some(_) => return Err(Fault::with(INPUT, names.params.clone())),
        None => &empty,
    };
    let skip: &[u32] = match g {
        Gateway::CheckAvailability | Gateway::BasketImport => {
            &[messages::INPUT, messages::UNKNOWN_PRODUCT, messages::STOCK]
        }
        _ => &[],
    };
    cx.check_magic_except(&params.texts(), skip)?;
    let results = match g {
        Gateway::Authenticate => return auth::authenticate(inner, cx, req),
        Gateway::CheckAvailability => products::check_availability(inner, cx, params)?,
        Gateway::BasketImport => products::basket_import(inner, cx, account, params)?,
        Gateway::PlaceOrder => orders::place_order(inner, cx, account, params)?,
        Gateway::GetCouriers => couriers::get_couriers(inner, cx, params)?,
        Gateway::GetCouriersForOrder => couriers::get_couriers_for_order(inner, cx, account, params)?,
        Gateway::GetOrderStatus => orders::get_order_status(inner, cx, account, params)?,
        Gateway::GetClientAddresses => addresses::get_client_addresses(inner, cx, account, params)?,
        Gateway::SetClientAddress => addresses::set_client_address(inner, cx, account, params)?,
    };
    Ok(vec![(cx.s.names.gates.get(g).results_key.clone(), results)])
}
