//! The pages, one handler each. Every value from the API or the shopper is escaped by
//! [`escape`]; every API refusal is shown as a readable message.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use loyalty_core::checkout::{CheckoutOutcome, Completion, Delivery, Prepared};
use loyalty_core::form::{FieldError, FieldKind, FormSchema};
use loyalty_core::{
    Basket, Consents, Currency, LineDiscount, Member, Money, Offer, OfferId, OfferKind, Phone, PricedBasket,
    RegisterMember, Scope,
};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::api::{fresh_key, Api, PrepareBody, Problem};
use crate::html::{escape, message, page, Nav};
use crate::shop::{cookie, form_pairs, form_value, form_values, product, set_cookie, Cart, CATALOGUE};

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct Shop {
    pub api: Api,
    /// Completed checkouts of this process, by order id, for the receipt page (the API's
    /// stored record is read when an order is not here).
    pub receipts: Mutex<HashMap<String, CheckoutOutcome>>,
}

type Shared = State<Arc<Shop>>;

const MEMBER: &str = "member";
const MEMBER_NAME: &str = "member_name";
const CART: &str = "cart";

fn html(body: String) -> Response {
    Html(body).into_response()
}

fn html_status(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    for c in cookies {
        if let Ok(v) = c.parse() {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

fn cart_of(headers: &HeaderMap) -> Cart {
    cookie(headers, CART).map(|c| Cart::from_cookie(&c)).unwrap_or_default()
}

fn nav(headers: &HeaderMap) -> Nav {
    Nav {
        member: cookie(headers, MEMBER).map(|id| cookie(headers, MEMBER_NAME).unwrap_or(id)),
        cart_units: cart_of(headers).units(),
    }
}

fn money(m: &Money) -> String {
    escape(&m.to_string())
}

fn number(d: &Decimal) -> String {
    d.normalize().to_string()
}

fn display_name(m: &Member) -> String {
    m.first_name.clone().or_else(|| m.email.clone()).unwrap_or_else(|| m.id.to_string())
}

fn member_cookies(m: &Member) -> Vec<String> {
    vec![set_cookie(MEMBER, m.id.as_str()), set_cookie(MEMBER_NAME, &display_name(m))]
}

fn problem_page(headers: &HeaderMap, title: &str, p: &Problem, back: &str) -> Response {
    let status = if p.temporary { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    let body = format!(
        r#"{}<p><a href="{}" id="back">Back</a></p>"#,
        message("error", "problem", &p.message()),
        escape(back)
    );
    html_status(status, page(title, &nav(headers), &body))
}

fn offer_title(offers: &[Offer], id: &OfferId) -> String {
    offers.iter().find(|o| &o.id == id).map(|o| o.title.clone()).unwrap_or_else(|| id.to_string())
}

// ---- catalogue and cart ----

pub(crate) async fn catalogue(headers: HeaderMap) -> Response {
    let mut body = String::from(
        r#"<p>Welcome to the demo shop. Members collect points and stamps and get coupons.</p><table id="products"><tr><th>Product</th><th class="num">Price</th><th></th></tr>"#,
    );
    for p in CATALOGUE {
        let _ = write!(
            body,
            r#"<tr><td>{name}</td><td class="num">{price}</td><td><form method="post" action="/cart/add"><input type="hidden" name="product" value="{id}"><button id="add-{id}">Add to cart</button></form></td></tr>"#,
            name = escape(p.name),
            price = money(&Money::new(p.price_minor, Currency::NOK)),
            id = escape(p.id),
        );
    }
    body.push_str("</table>");
    html(page("Shop", &nav(&headers), &body))
}

pub(crate) async fn cart_add(headers: HeaderMap, body: Bytes) -> Response {
    let pairs = form_pairs(&body);
    let mut cart = cart_of(&headers);
    if let Some(p) = form_value(&pairs, "product").and_then(product) {
        cart.add(p.id);
    }
    see_other("/cart", &[set_cookie(CART, &cart.to_cookie())])
}

pub(crate) async fn cart_remove(headers: HeaderMap, body: Bytes) -> Response {
    let pairs = form_pairs(&body);
    let mut cart = cart_of(&headers);
    if let Some(id) = form_value(&pairs, "product") {
        cart.remove(id);
    }
    see_other("/cart", &[set_cookie(CART, &cart.to_cookie())])
}

pub(crate) async fn cart_page(headers: HeaderMap) -> Response {
    let cart = cart_of(&headers);
    if cart.lines.is_empty() {
        let body = r#"<p id="empty">Your cart is empty. <a href="/">Go shopping</a>.</p>"#.to_string();
        return html(page("Cart", &nav(&headers), &body));
    }
    let mut body = String::from(
        r#"<table id="cart"><tr><th>Product</th><th class="num">Units</th><th class="num">Price</th><th></th></tr>"#,
    );
    let mut total = 0;
    for (id, n) in &cart.lines {
        let Some(p) = product(id) else { continue };
        total += p.price_minor * i64::from(*n);
        let _ = write!(
            body,
            r#"<tr><td>{name}</td><td class="num">{n}</td><td class="num">{price}</td><td><form method="post" action="/cart/remove"><input type="hidden" name="product" value="{id}"><button id="remove-{id}">Remove</button></form></td></tr>"#,
            name = escape(p.name),
            price = money(&Money::new(p.price_minor * i64::from(*n), Currency::NOK)),
            id = escape(p.id),
        );
    }
    let _ = write!(
        body,
        r#"</table><p>Before discounts: <strong>{}</strong></p><p><a href="/checkout" id="to-checkout">Go to checkout</a></p>"#,
        money(&Money::new(total, Currency::NOK))
    );
    html(page("Cart", &nav(&headers), &body))
}

// ---- registration ----

fn input_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Email => "email",
        FieldKind::Phone => "tel",
        _ => "text",
    }
}

fn placeholder(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Date => "YYYY-MM-DD",
        FieldKind::Phone => "+4741234567",
        _ => "",
    }
}

/// The registration form as the API describes it: fields in its order, the consent check
/// boxes (which it lists last) set apart at the bottom, each refused field's reason beside it.
fn registration_form_html(
    schema: &FormSchema,
    values: &[(String, String)],
    errors: &[FieldError],
    key: &str,
) -> String {
    let mut out = String::from(r#"<form method="post" action="/register" id="register-form">"#);
    let _ = write!(out, r#"<input type="hidden" name="idempotency_key" value="{}">"#, escape(key));
    let first_consent = schema
        .fields
        .iter()
        .rposition(|f| !(f.kind == FieldKind::Checkbox && f.name.starts_with("consent.")))
        .map_or(0, |i| i + 1);
    for (i, f) in schema.fields.iter().enumerate() {
        if i == first_consent {
            out.push_str(r#"<fieldset class="consents" id="consents"><legend>Consents</legend>"#);
        }
        let name = escape(&f.name);
        let label = escape(&f.label);
        let star = if f.required { " *" } else { "" };
        let _ = write!(
            out,
            r#"<div class="field" data-name="{name}" data-kind="{kind}" data-required="{req}">"#,
            kind = serde_json::to_value(f.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            req = f.required,
        );
        let chosen = form_values(values, &f.name);
        match f.kind {
            FieldKind::Checkbox => {
                let checked = if chosen.contains(&"true") { " checked" } else { "" };
                let _ = write!(
                    out,
                    r#"<label><input type="checkbox" name="{name}" value="true"{checked}> {label}{star}</label>"#
                );
            }
            FieldKind::SingleChoice | FieldKind::MultiChoice => {
                let ty = if f.kind == FieldKind::SingleChoice { "radio" } else { "checkbox" };
                let _ = write!(out, r#"<span class="main">{label}{star}</span> "#);
                for o in &f.options {
                    let checked = if chosen.contains(&o.id.as_str()) { " checked" } else { "" };
                    let _ = write!(
                        out,
                        r#"<label><input type="{ty}" name="{name}" value="{v}"{checked}> {l}</label> "#,
                        v = escape(&o.id),
                        l = escape(&o.label)
                    );
                }
            }
            kind => {
                let value = chosen.first().copied().unwrap_or("");
                let _ = write!(
                    out,
                    r#"<label class="main" for="f-{name}">{label}{star}</label><input type="{ty}" id="f-{name}" name="{name}" value="{value}" placeholder="{ph}">"#,
                    ty = input_type(kind),
                    value = escape(value),
                    ph = placeholder(kind),
                );
            }
        }
        for e in errors.iter().filter(|e| e.field == f.name) {
            let _ =
                write!(out, r#" <span class="error" data-error-for="{name}">{}</span>"#, escape(&e.reason));
        }
        out.push_str("</div>");
    }
    if first_consent < schema.fields.len() {
        out.push_str("</fieldset>");
    }
    out.push_str(r#"<p><button id="register">Become a member</button></p></form>"#);
    out
}

pub(crate) async fn register_page(State(shop): Shared, headers: HeaderMap) -> Response {
    match shop.api.registration_form().await {
        Ok(schema) => {
            let body = format!(
                "<p>Fields marked * are required.</p>{}",
                registration_form_html(&schema, &[], &[], &fresh_key("reg"))
            );
            html(page("Become a member", &nav(&headers), &body))
        }
        Err(p) => problem_page(&headers, "Become a member", &p, "/"),
    }
}

/// The submitted form as the API wants it: text as strings (blank ones left out), choices of
/// a multi-choice as a list, check boxes as booleans.
fn registration_values(schema: &FormSchema, pairs: &[(String, String)]) -> Map<String, Value> {
    let mut out = Map::new();
    for f in &schema.fields {
        let values = form_values(pairs, &f.name);
        let value = match f.kind {
            FieldKind::Checkbox => Value::Bool(values.contains(&"true")),
            FieldKind::MultiChoice if values.is_empty() => continue,
            FieldKind::MultiChoice => json!(values),
            _ => match form_value(pairs, &f.name) {
                Some(v) => Value::String(v.to_string()),
                None => continue,
            },
        };
        out.insert(f.name.clone(), value);
    }
    out
}

pub(crate) async fn register_submit(State(shop): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = form_pairs(&body);
    let schema = match shop.api.registration_form().await {
        Ok(s) => s,
        Err(p) => return problem_page(&headers, "Become a member", &p, "/register"),
    };
    // The key rendered into the form: a double submit sends the same body under it and gets
    // the first answer replayed instead of a second member.
    let key = form_value(&pairs, "idempotency_key").map(str::to_string).unwrap_or_else(|| fresh_key("reg"));
    let values = registration_values(&schema, &pairs);
    match shop.api.register(&key, &values).await {
        Ok(member) => see_other("/me", &member_cookies(&member)),
        Err(p) => {
            let mut errors = p.errors.clone();
            if let (Some(field), Some(reason)) = (&p.field, &p.reason) {
                if !errors.iter().any(|e| &e.field == field) {
                    errors.push(FieldError { field: field.clone(), reason: reason.clone() });
                }
            }
            let unplaced: Vec<&FieldError> =
                errors.iter().filter(|e| !schema.fields.iter().any(|f| f.name == e.field)).collect();
            let mut body = message("error", "problem", &p.message());
            for e in unplaced {
                body.push_str(&message("error", "problem-field", &format!("{}: {}", e.field, e.reason)));
            }
            // A refusal is stored under the old key; the corrected form goes under a new one.
            body.push_str(&registration_form_html(&schema, &pairs, &errors, &fresh_key("reg")));
            html_status(StatusCode::UNPROCESSABLE_ENTITY, page("Become a member", &nav(&headers), &body))
        }
    }
}

// ---- log in, log out ----

const DEMO_LOGIN: &str = "This is a demo: you log in with your phone number or e-mail alone. A real shop \
     proves who you are first (a one-time code, a password) before showing your page.";

fn login_form(error: Option<&str>) -> String {
    let mut body = format!(r#"<p class="demo">{}</p>"#, escape(DEMO_LOGIN));
    if let Some(e) = error {
        body.push_str(&message("error", "problem", e));
    }
    body.push_str(
        r#"<form method="post" action="/login"><div class="field"><label class="main" for="who">Phone or e-mail</label><input id="who" name="who" placeholder="+4741234567 or kari@example.com"></div><button id="login">Log in</button></form><p>Not a member? <a href="/register">Become one</a>.</p>"#,
    );
    body
}

pub(crate) async fn login_page(headers: HeaderMap) -> Response {
    html(page("Log in", &nav(&headers), &login_form(None)))
}

/// A phone as the API's lookup wants it: E.164; eight digits are taken as a Norwegian number.
fn normalise_phone(text: &str) -> String {
    let t: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
    match t.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None if t.len() == 8 && t.chars().all(|c| c.is_ascii_digit()) => format!("+47{t}"),
        None => t,
    }
}

pub(crate) async fn login_submit(State(shop): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = form_pairs(&body);
    let Some(who) = form_value(&pairs, "who") else {
        return html(page("Log in", &nav(&headers), &login_form(Some("Type your phone number or e-mail."))));
    };
    let (kind, value) =
        if who.contains('@') { ("email", who.to_string()) } else { ("phone", normalise_phone(who)) };
    match shop.api.find_member(kind, &value).await {
        Ok(Some(m)) => see_other("/me", &member_cookies(&m)),
        Ok(None) => {
            let text = format!("No member has the {kind} {value}.");
            html(page("Log in", &nav(&headers), &login_form(Some(&text))))
        }
        Err(p) => html(page("Log in", &nav(&headers), &login_form(Some(&p.message())))),
    }
}

pub(crate) async fn logout() -> Response {
    see_other("/", &[set_cookie(MEMBER, ""), set_cookie(MEMBER_NAME, "")])
}

// ---- my page ----

fn coupon_scope(kind: &OfferKind) -> Option<String> {
    match kind {
        OfferKind::Coupon { scope: Scope::Basket, .. } => Some("the whole basket".into()),
        OfferKind::Coupon { scope: Scope::Products(ids), .. } => Some(
            ids.iter()
                .map(|id| product(id.as_str()).map_or_else(|| id.to_string(), |p| p.name.to_string()))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    }
}

pub(crate) async fn my_page(State(shop): Shared, headers: HeaderMap) -> Response {
    let Some(id) = cookie(&headers, MEMBER) else { return see_other("/login", &[]) };
    let member = match shop.api.member(&id).await {
        Ok(m) => m,
        Err(p) if p.is_not_found() => {
            return see_other("/login", &[set_cookie(MEMBER, ""), set_cookie(MEMBER_NAME, "")])
        }
        Err(p) => return problem_page(&headers, "My page", &p, "/"),
    };
    let mut body =
        format!(r#"<p>Hello, <span id="member-name">{}</span>.</p>"#, escape(&display_name(&member)));
    match &member.points {
        Some(points) => {
            let _ =
                write!(body, r#"<p>Points: <strong id="points">{}</strong></p>"#, escape(&number(points)));
        }
        None => body.push_str(r#"<p id="no-points">This programme has no points.</p>"#),
    }
    if let Some(tier) = &member.tier {
        let _ = write!(body, r#"<p>Level: <strong id="tier">{}</strong></p>"#, escape(tier));
    }
    match shop.api.offers(Some(&id), None).await {
        Ok(offers) => {
            body.push_str(r#"<h2>Stamp cards</h2><ul id="stamp-cards">"#);
            for o in &offers {
                if let OfferKind::StampCard(card) = &o.kind {
                    let _ = write!(
                        body,
                        r#"<li class="stamp-card" data-offer="{oid}">{title}: <span class="stamp-progress">{c} of {r}</span> <progress max="{r}" value="{c}"></progress></li>"#,
                        oid = escape(o.id.as_str()),
                        title = escape(&o.title),
                        c = card.collected,
                        r = card.required,
                    );
                }
            }
            body.push_str(r#"</ul><h2>Coupons and offers</h2><ul id="coupons">"#);
            for o in offers.iter().filter(|o| !matches!(o.kind, OfferKind::StampCard(_))) {
                let _ = write!(
                    body,
                    r#"<li class="coupon" data-offer="{}">{}"#,
                    escape(o.id.as_str()),
                    escape(&o.title)
                );
                if let Some(code) = &o.code {
                    let _ = write!(body, r#" (code <code>{}</code>)"#, escape(code));
                }
                if let Some(scope) = coupon_scope(&o.kind) {
                    let _ = write!(body, ", on {}", escape(&scope));
                }
                match o.uses_left {
                    Some(0) => body.push_str(", used up"),
                    Some(n) => {
                        let _ = write!(body, ", {n} use{} left", if n == 1 { "" } else { "s" });
                    }
                    None => {}
                }
                if let Some(to) = o.valid_to {
                    let _ = write!(body, ", until {}", to.format("%Y-%m-%d"));
                }
                body.push_str("</li>");
            }
            body.push_str("</ul>");
        }
        Err(p) => body.push_str(&message("error", "offers-problem", &p.message())),
    }
    let c = member.consents;
    let yes = |b: bool| if b { "yes" } else { "no" };
    let _ = write!(
        body,
        "<h2>Consents</h2><ul><li>Membership terms: {}</li><li>Order history kept: {}</li><li>Offers by SMS: {}</li><li>Offers by e-mail: {}</li></ul>",
        yes(c.membership),
        yes(c.order_history),
        yes(c.marketing_sms),
        yes(c.marketing_email)
    );
    html(page("My page", &nav(&headers), &body))
}

// ---- checkout ----

/// The head of a table of lines (the review and the receipt).
const LINES_HEAD: &str = r#"<tr><th>Product</th><th class="num">Units</th><th class="num">Gross</th><th>Discounts</th><th class="num">Net</th></tr>"#;

/// One line of the review or the receipt, with each discount and the offer behind it.
struct LineRow<'a> {
    id: &'a str,
    name: &'a str,
    units: String,
    gross: &'a Money,
    discounts: &'a [LineDiscount],
    net: &'a Money,
}

fn push_line_row(out: &mut String, row: &LineRow<'_>, offers: &[Offer]) {
    let mut discounts = String::new();
    for d in row.discounts {
        let _ = write!(
            discounts,
            r#"<div class="discount" data-offer="{}">−{} {}</div>"#,
            escape(d.offer_id.as_str()),
            money(&d.amount),
            escape(&offer_title(offers, &d.offer_id))
        );
    }
    let _ = write!(
        out,
        r#"<tr class="line" data-line="{lid}"><td>{name}</td><td class="num">{units}</td><td class="num">{gross}</td><td>{discounts}</td><td class="num">{net}</td></tr>"#,
        lid = escape(row.id),
        name = escape(row.name),
        units = escape(&row.units),
        gross = money(row.gross),
        net = money(row.net),
    );
}

/// The totals row that closes a table of lines; the total carries `total_id`.
fn push_total_row(out: &mut String, gross: &Money, discount: &Money, total: &Money, total_id: &str) {
    let _ = write!(
        out,
        r#"<tr><th colspan="2">Total</th><td class="num">{}</td><td class="discount">−{}</td><td class="num"><strong id="{total_id}">{}</strong></td></tr></table>"#,
        money(gross),
        money(discount),
        money(total)
    );
}

/// The priced lines with each discount and the offer behind it.
fn priced_table(id: &str, basket: &Basket, priced: &PricedBasket, offers: &[Offer]) -> String {
    let mut out = format!(r#"<table id="{id}">{LINES_HEAD}"#);
    for pl in &priced.lines {
        let line = basket.lines.iter().find(|l| l.line_id == pl.line_id);
        let name = line.and_then(|l| l.name.clone()).unwrap_or_else(|| pl.line_id.to_string());
        let row = LineRow {
            id: pl.line_id.as_str(),
            name: &name,
            units: line.map(|l| number(&l.quantity)).unwrap_or_default(),
            gross: &pl.gross,
            discounts: &pl.discounts,
            net: &pl.net,
        };
        push_line_row(&mut out, &row, offers);
    }
    push_total_row(
        &mut out,
        &priced.total_gross,
        &priced.total_discount,
        &priced.total,
        &format!("{id}-total"),
    );
    out
}

/// Reasons offers gave nothing, leaving out the ones only waiting for a tick.
fn not_applied_html(priced: &PricedBasket, offers: &[Offer]) -> String {
    let items: Vec<String> = priced
        .not_applied
        .iter()
        .filter(|n| !priced.needs_confirmation.contains(&n.offer_id))
        .map(|n| format!("<li>{}: {}</li>", escape(&offer_title(offers, &n.offer_id)), escape(&n.reason)))
        .collect();
    if items.is_empty() {
        String::new()
    } else {
        format!(r#"<p>Not used for this basket:</p><ul id="not-applied">{}</ul>"#, items.concat())
    }
}

fn guest_fields() -> &'static str {
    r#"<section id="guest"><h2>Your details</h2>
<div class="field"><label class="main" for="email">E-mail</label><input type="email" id="email" name="email"></div>
<div class="field"><label class="main" for="phone">Mobile phone</label><input type="tel" id="phone" name="phone" placeholder="+4741234567"></div>
<fieldset class="consents" id="guest-consents"><legend>Become a member with this purchase</legend>
<p>Tick both boxes to join the programme now: this purchase already earns points.</p>
<label><input type="checkbox" name="consent.membership" value="true"> I accept the membership terms</label><br>
<label><input type="checkbox" name="consent.order_history" value="true"> Keep my purchase history</label>
</fieldset></section>"#
}

pub(crate) async fn checkout_page(State(shop): Shared, headers: HeaderMap) -> Response {
    let cart = cart_of(&headers);
    if cart.lines.is_empty() {
        return see_other("/cart", &[]);
    }
    let member = cookie(&headers, MEMBER);
    let basket = cart.basket();
    let order = fresh_key("o");
    let mut body = format!(
        r#"<form method="post" action="/checkout/review" id="checkout-form"><input type="hidden" name="order" value="{}">"#,
        escape(&order)
    );
    match shop.api.price(member.as_deref(), &basket, &[]).await {
        Ok(reply) => {
            let (priced, mut offers) = reply.into_parts();
            if offers.is_empty() && member.is_some() {
                offers = shop.api.offers(member.as_deref(), Some(&basket)).await.unwrap_or_default();
            }
            body.push_str(&priced_table("basket", &basket, &priced, &offers));
            body.push_str(r#"<section id="offers"><h2>Coupons</h2>"#);
            let mut auto: Vec<&OfferId> = Vec::new();
            for d in priced.lines.iter().flat_map(|l| &l.discounts) {
                if !auto.contains(&&d.offer_id) {
                    auto.push(&d.offer_id);
                }
            }
            for id in auto {
                let _ = write!(
                    body,
                    r#"<p class="auto" data-offer="{}">Applied automatically: {}</p>"#,
                    escape(id.as_str()),
                    escape(&offer_title(&offers, id))
                );
            }
            for id in &priced.needs_confirmation {
                let code = offers.iter().find(|o| &o.id == id).and_then(|o| o.code.clone());
                let _ = write!(
                    body,
                    r#"<div class="field"><label><input type="checkbox" name="confirmed" value="{v}" data-offer="{v}"> Use {t}{c}</label></div>"#,
                    v = escape(id.as_str()),
                    t = escape(&offer_title(&offers, id)),
                    c = code.map(|c| format!(" (code {})", escape(&c))).unwrap_or_default(),
                );
            }
            body.push_str(&not_applied_html(&priced, &offers));
            if member.is_none() {
                body.push_str(r#"<p>Members see their own coupons here: <a href="/login">log in</a>.</p>"#);
            }
            body.push_str("</section>");
        }
        Err(p) => {
            let total: i64 = cart
                .lines
                .iter()
                .filter_map(|(id, n)| product(id).map(|p| p.price_minor * i64::from(*n)))
                .sum();
            let _ = write!(
                body,
                r#"<p>Your cart: {} units, {} before discounts.</p>"#,
                cart.units(),
                money(&Money::new(total, Currency::NOK))
            );
            if member.is_some() || p.kind.as_deref() != Some("unsupported") {
                body.push_str(&message(
                    "message",
                    "price-problem",
                    &format!("Offers cannot be shown now: {}", p.message()),
                ));
            }
        }
    }
    if member.is_none() {
        body.push_str(guest_fields());
    }
    body.push_str(r#"<p><button id="review">Review order</button></p></form>"#);
    html(page("Checkout", &nav(&headers), &body))
}

/// The guest's sign-up, when both consent boxes are ticked.
fn guest_sign_up(pairs: &[(String, String)]) -> Result<Option<RegisterMember>, String> {
    let membership = form_value(pairs, "consent.membership") == Some("true");
    let history = form_value(pairs, "consent.order_history") == Some("true");
    if !membership && !history {
        return Ok(None);
    }
    if !(membership && history) {
        return Err("To become a member tick both boxes (or neither, to buy as a guest).".into());
    }
    let email = form_value(pairs, "email");
    let phone = match form_value(pairs, "phone") {
        Some(p) => Some(
            Phone::parse_e164(&normalise_phone(p))
                .ok_or_else(|| "The phone number must be international, like +4741234567.".to_string())?,
        ),
        None => None,
    };
    if email.is_none() && phone.is_none() {
        return Err("A member needs a phone number or an e-mail.".into());
    }
    let mut sign_up = RegisterMember::new();
    sign_up.email = email.map(str::to_string);
    sign_up.phone = phone;
    sign_up.consents = Consents { membership: true, order_history: true, ..Consents::default() };
    Ok(Some(sign_up))
}

fn buy_form(order: &str, total: &Money, label: &str) -> String {
    format!(
        r#"<form method="post" action="/checkout/buy" id="buy-form"><input type="hidden" name="order" value="{o}"><input type="hidden" name="amount" value="{a}"><input type="hidden" name="currency" value="{c}"><button id="buy">{l} {t}</button></form>"#,
        o = escape(order),
        a = total.minor,
        c = escape(&total.currency.to_string()),
        l = escape(label),
        t = money(total),
    )
}

fn prepared_html(prepared: &Prepared, basket: &Basket) -> String {
    let mut body = priced_table("review", basket, &prepared.priced, &prepared.offers);
    body.push_str(&not_applied_html(&prepared.priced, &prepared.offers));
    if !prepared.notes.is_empty() {
        body.push_str(r#"<ul id="notes">"#);
        for n in &prepared.notes {
            let _ = write!(body, "<li>{}</li>", escape(n));
        }
        body.push_str("</ul>");
    }
    if prepared.signed_up {
        body.push_str(&message("ok", "joining", "You join the programme with this purchase."));
    }
    body
}

pub(crate) async fn review(State(shop): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = form_pairs(&body);
    let cart = cart_of(&headers);
    let Some(order) = form_value(&pairs, "order").map(str::to_string) else {
        return see_other("/checkout", &[]);
    };
    if cart.lines.is_empty() {
        return see_other("/cart", &[]);
    }
    let basket = cart.basket();
    let member = cookie(&headers, MEMBER);
    let sign_up = if member.is_some() {
        None
    } else {
        match guest_sign_up(&pairs) {
            Ok(s) => s,
            Err(text) => {
                let p =
                    Problem { title: "Check your details".into(), detail: Some(text), ..Problem::default() };
                return problem_page(&headers, "Review", &p, "/checkout");
            }
        }
    };
    let confirmed: Vec<OfferId> = form_values(&pairs, "confirmed").into_iter().map(OfferId::from).collect();
    let request = PrepareBody {
        basket: &basket,
        member: member.as_ref().map(|id| json!({"kind": "provider_id", "value": id})),
        sign_up: sign_up.as_ref(),
        confirmed: &confirmed,
        department: None,
    };
    let prepared = match shop.api.prepare(&order, &request).await {
        Ok(p) => p,
        Err(p) => return problem_page(&headers, "Review", &p, "/checkout"),
    };
    let mut body = String::from("<p>Your coupons are checked and held for this order.</p>");
    body.push_str(&prepared_html(&prepared, &basket));
    body.push_str(&buy_form(&order, &prepared.priced.total, "Buy and pay"));
    let _ = write!(
        body,
        r#"<form method="post" action="/checkout/abort"><input type="hidden" name="order" value="{}"><button id="change">Change the order</button></form>"#,
        escape(&order)
    );
    html(page("Review", &nav(&headers), &body))
}

pub(crate) async fn abort(State(shop): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = form_pairs(&body);
    if let Some(order) = form_value(&pairs, "order") {
        if let Err(p) = shop.api.abort(order).await {
            return problem_page(&headers, "Change the order", &p, "/checkout");
        }
    }
    see_other("/checkout", &[])
}

pub(crate) async fn buy(State(shop): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = form_pairs(&body);
    let order = form_value(&pairs, "order").unwrap_or_default().to_string();
    let amount = form_value(&pairs, "amount").and_then(|a| a.parse::<i64>().ok());
    let currency = form_value(&pairs, "currency").and_then(|c| Currency::from_code(c).ok());
    let (Some(minor), Some(currency), false) = (amount, currency, order.is_empty()) else {
        return see_other("/checkout", &[]);
    };
    let amount = Money::new(minor, currency);
    match shop.api.commit(&order, amount).await {
        Ok(Completion::Completed(outcome)) => {
            let mut cookies = vec![set_cookie(CART, "")];
            if cookie(&headers, MEMBER).is_none() {
                if let Some(id) = &outcome.member {
                    match shop.api.member(id.as_str()).await {
                        Ok(m) => cookies.extend(member_cookies(&m)),
                        Err(_) => cookies.push(set_cookie(MEMBER, id.as_str())),
                    }
                }
            }
            shop.receipts.lock().unwrap_or_else(|e| e.into_inner()).insert(order.clone(), outcome);
            let to = format!(
                "/receipt/{}",
                url::form_urlencoded::byte_serialize(order.as_bytes()).collect::<String>()
            );
            see_other(&to, &cookies)
        }
        Ok(Completion::PriceChanged(change)) => {
            let mut body = message(
                "message",
                "price-changed",
                &format!(
                    "The price changed before you paid: it was {}, it is now {}. Nothing was charged.",
                    change.old_total, change.new_total
                ),
            );
            body.push_str(r#"<ul id="changes">"#);
            for c in &change.changes {
                let _ = write!(body, "<li>{}</li>", escape(c));
            }
            body.push_str("</ul>");
            body.push_str(&prepared_html(&change.prepared, &cart_of(&headers).basket()));
            body.push_str(&buy_form(&order, &change.new_total, "Confirm and pay"));
            html(page("The price changed", &nav(&headers), &body))
        }
        Ok(Completion::ActionRequired { .. }) => {
            let p = Problem {
                title: "Your payment waits for you".into(),
                detail: Some("finish it with your bank, then try again".into()),
                ..Problem::default()
            };
            problem_page(&headers, "Payment", &p, "/checkout")
        }
        Err(p) => {
            let mut body = message("error", "problem", &p.message());
            if p.temporary {
                // The same order and amount again: the API replays or finishes the first try.
                body.push_str(&buy_form(&order, &amount, "Try again:"));
            }
            body.push_str(r#"<p><a href="/checkout" id="back">Back to checkout</a></p>"#);
            html(page("Payment", &nav(&headers), &body))
        }
    }
}

// ---- receipt ----

pub(crate) async fn receipt(State(shop): Shared, headers: HeaderMap, Path(order): Path<String>) -> Response {
    let cached = shop.receipts.lock().unwrap_or_else(|e| e.into_inner()).get(&order).cloned();
    let outcome = match cached {
        Some(o) => o,
        None => match shop.api.checkout_record(&order).await {
            Ok(record) => match record.get("outcome").cloned().map(serde_json::from_value::<CheckoutOutcome>)
            {
                Some(Ok(o)) => o,
                _ => {
                    let p = Problem {
                        title: "No receipt".into(),
                        detail: Some(format!("order {order} is not completed")),
                        ..Problem::default()
                    };
                    return problem_page(&headers, "Receipt", &p, "/");
                }
            },
            Err(p) => return problem_page(&headers, "Receipt", &p, "/"),
        },
    };
    html(page(&format!("Receipt for order {order}"), &nav(&headers), &receipt_html(&outcome)))
}

fn receipt_html(outcome: &CheckoutOutcome) -> String {
    let tx = &outcome.transaction;
    let offers = &outcome.applied_offers;
    let mut body = String::new();
    if outcome.signed_up {
        body.push_str(&message("ok", "signed-up", "Welcome: you are now a member."));
    }
    let _ = write!(body, r#"<table id="receipt">{LINES_HEAD}"#);
    for l in &tx.lines {
        let row = LineRow {
            id: l.line_id.as_str(),
            name: l.name.as_deref().unwrap_or(l.product_id.as_str()),
            units: number(&l.quantity),
            gross: &l.gross,
            discounts: &l.discounts,
            net: &l.net,
        };
        push_line_row(&mut body, &row, offers);
    }
    push_total_row(&mut body, &tx.total_gross, &tx.total_discount, &tx.total, "total");
    let _ = write!(body, r#"<p>Paid: <span id="charged">{}</span></p>"#, money(&outcome.charged));
    for s in &tx.stamps {
        let verb = match serde_json::to_value(s.action).ok().and_then(|v| v.as_str().map(str::to_string)) {
            Some(a) if a == "deducted" => "used",
            _ => "collected",
        };
        let _ = write!(
            body,
            r#"<p class="stamps">{}: {} stamp{} {verb}</p>"#,
            escape(&offer_title(offers, &s.offer_id)),
            s.count,
            if s.count == 1 { "" } else { "s" }
        );
    }
    match &outcome.delivery {
        // A guest's sale earns nobody points, whatever the provider counted.
        Delivery::Sent(_) if outcome.member.is_none() => {}
        Delivery::Sent(r) => match &r.points_earned {
            Some(p) => {
                let _ = write!(
                    body,
                    r#"<p id="points-earned">You earned <strong id="points-earned-value">{}</strong> points.</p>"#,
                    escape(&number(p))
                );
            }
            None => body.push_str(
                r#"<p id="points-later">Your points show on your page once the programme has counted them.</p>"#,
            ),
        },
        Delivery::Pending { .. } => body.push_str(
            r#"<p id="points-pending">The loyalty programme is not reachable right now: your purchase is recorded and your points follow shortly.</p>"#,
        ),
        Delivery::Refused { reason } => {
            body.push_str(&message("message", "delivery-refused", &format!("No points for this purchase: {reason}")))
        }
        Delivery::NotSupported => {}
    }
    let dropped: Vec<String> = outcome.dropped_claims.iter().map(|id| offer_title(offers, id)).collect();
    if !dropped.is_empty() {
        body.push_str(&message(
            "message",
            "dropped",
            &format!("Not counted by the programme after payment: {}", dropped.join(", ")),
        ));
    }
    if !outcome.notes.is_empty() {
        body.push_str(r#"<ul id="notes">"#);
        for n in &outcome.notes {
            let _ = write!(body, "<li>{}</li>", escape(n));
        }
        body.push_str("</ul>");
    }
    if outcome.member.is_some() {
        body.push_str(r#"<p><a href="/me" id="to-me">See your points and stamps</a></p>"#);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use loyalty_core::form::registration_form;
    use loyalty_core::{Segment, SegmentKind, SegmentOption};

    fn schema() -> FormSchema {
        let opts = vec![
            SegmentOption { id: "31".into(), label: "Oslo".into() },
            SegmentOption { id: "32".into(), label: "<Bergen>".into() },
        ];
        registration_form(&[
            Segment::new("3", "Preferred shop", SegmentKind::SingleChoice { options: opts.clone() })
                .required(true),
            Segment::new("4", "Interests", SegmentKind::MultiChoice { options: opts }),
        ])
    }

    #[test]
    fn registration_form_keeps_the_api_order_with_consents_last_and_escapes_labels() {
        let html = registration_form_html(&schema(), &[], &[], "reg-1");
        let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
        assert!(at(r#"name="email""#) < at(r#"name="segment.3""#));
        assert!(at(r#"id="consents""#) < at(r#"name="consent.membership""#));
        assert!(at(r#"name="consent.membership""#) < at(r#"name="consent.order_history""#));
        assert!(at(r#"name="segment.4""#) < at(r#"id="consents""#));
        assert!(html.contains("&lt;Bergen&gt;") && !html.contains("<Bergen>"));
        assert!(html.contains(r#"name="idempotency_key" value="reg-1""#));
    }

    #[test]
    fn refused_fields_show_their_reason_beside_them_and_keep_the_values() {
        let errors = vec![FieldError { field: "email".into(), reason: "is not an e-mail address".into() }];
        let values = vec![("email".to_string(), "kari\"@".to_string())];
        let html = registration_form_html(&schema(), &values, &errors, "reg-2");
        assert!(
            html.contains(r#"<span class="error" data-error-for="email">is not an e-mail address</span>"#)
        );
        assert!(html.contains(r#"value="kari&quot;@""#));
    }

    #[test]
    fn submitted_form_becomes_the_flat_registration_body() {
        let pairs = form_pairs(
            b"idempotency_key=k&email=kari%40example.com&phone=&segment.3=31&segment.4=31&segment.4=32&consent.membership=true",
        );
        let v = Value::Object(registration_values(&schema(), &pairs));
        assert_eq!(v["email"], "kari@example.com");
        assert!(v.get("phone").is_none() && v.get("idempotency_key").is_none());
        assert_eq!(v["segment.3"], "31");
        assert_eq!(v["segment.4"], json!(["31", "32"]));
        assert_eq!(
            (v["consent.membership"].clone(), v["consent.order_history"].clone()),
            (json!(true), json!(false))
        );
    }

    #[test]
    fn guest_joins_only_with_both_boxes() {
        let both = form_pairs(b"phone=%2B4798765433&consent.membership=true&consent.order_history=true");
        let s = guest_sign_up(&both).unwrap().unwrap();
        assert_eq!(s.phone, Some(Phone::new("+47", "98765433")));
        assert!(s.consents.allow_sign_up());
        assert_eq!(guest_sign_up(&form_pairs(b"email=a%40b.no")).unwrap(), None);
        assert!(guest_sign_up(&form_pairs(b"email=a%40b.no&consent.membership=true")).is_err());
    }

    #[test]
    fn phones_typed_at_login_become_e164() {
        assert_eq!(normalise_phone("412 34 567"), "+4741234567");
        assert_eq!(normalise_phone("004741234567"), "+4741234567");
        assert_eq!(normalise_phone("+46 70 123 45 67"), "+46701234567");
    }
}
