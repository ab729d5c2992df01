//! The reporting ("public") API of the eManage contract §12: `POST /auth` with Basic
//! credentials, then a paged order export whose `link` points to a CSV (served under the
//! simulator prefix). Test carts and orders carry `test = true` (§11).

use axum::{
    body::Body,
    http::{header, HeaderValue, Response as HttpResponse, StatusCode},
};
use base64::Engine as _;
use chrono::{Duration, NaiveDate};
use serde_json::json;

use super::{field_error, finish, message, num, ok, Req, Res};
use crate::emanage::{
    demo,
    input::{query, Check},
    session::SessionStatus,
    state::Inner,
};

/// `POST /auth` with HTTP Basic `user:password` → `{ "token": ... }` (the JSON form of §12;
/// simulator decision). The token lives `reporting_token_lifetime_secs` on the simulator clock.
pub(super) fn auth(inner: &mut Inner, rq: &Req) -> Res {
    let creds = rq
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, b64)| base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    if creds.as_deref() != Some(&format!("{}:{}", demo::REPORTING_USER, demo::REPORTING_PASSWORD)) {
        return Err(message(401, "Invalid user name or password."));
    }
    let token = format!("rpt.{}", inner.new_guid().replace('-', ""));
    let lifetime = i64::try_from(inner.settings.reporting_token_lifetime_secs).unwrap_or(i64::MAX / 1000);
    inner.tokens.insert(token.clone(), rq.now + Duration::seconds(lifetime));
    ok(json!({"token": token}))
}

/// One CSV row.
struct Row {
    order_number: String,
    cart_number: String,
    web_key: String,
    date: NaiveDate,
    status: &'static str,
    total: String,
    test: bool,
}

/// `GET /order/export/{page}/{pageSize}?StartDate=&EndDate=` (also under `/api/orders/export`):
/// `{ link, hasMoreToExport, nextExport }` (§12). Rows: cart sessions that reached checkout and
/// single-offer orders created in the date range (inclusive), oldest first; `page` is 1-based.
pub(super) fn export(inner: &mut Inner, rq: &Req) -> Res {
    let mut c = Check::default();
    let page = rq.param("page").parse::<usize>().ok().filter(|p| *p >= 1);
    let size = rq.param("pageSize").parse::<usize>().ok().filter(|p| (1..=1000).contains(p));
    if page.is_none() {
        c.err("page", "The page must be a number from 1.");
    }
    if size.is_none() {
        c.err("pageSize", "The pageSize must be between 1 and 1000.");
    }
    let mut date = |name: &str| {
        let d = query(&rq.q, name).and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        if d.is_none() {
            c.err(name, format!("The {name} field is required as YYYY-MM-DD."));
        }
        d
    };
    let (start, end) = (date("StartDate"), date("EndDate"));
    finish(c)?;
    let (Some(page), Some(size), Some(start), Some(end)) = (page, size, start, end) else {
        return Err(field_error("page", "The page field is required."));
    };
    let mut rows: Vec<Row> = Vec::new();
    for sid in &inner.order {
        let Some(s) = inner.sessions.get(sid) else { continue };
        let Some(cart) = s.shopping_cart_number else { continue };
        let status = match s.status {
            SessionStatus::Paid => "paid",
            SessionStatus::AwaitingPayment => "pending",
            SessionStatus::Open | SessionStatus::Discarded => "cancelled",
        };
        let total = if s.status == SessionStatus::Paid {
            s.captured()
        } else {
            inner.priced(s).map(|p| p.total).unwrap_or_default()
        };
        rows.push(Row {
            order_number: s.order_number.clone().unwrap_or_default(),
            cart_number: cart.to_string(),
            web_key: s.web_key.clone(),
            date: s.created_at.date_naive(),
            status,
            total: num(total).to_string(),
            test: s.test,
        });
    }
    for o in &inner.orders {
        let status = if o.paid {
            "paid"
        } else if o.pending.is_some() {
            "pending"
        } else {
            "cancelled"
        };
        rows.push(Row {
            order_number: o.number.clone(),
            cart_number: String::new(),
            web_key: o.web_key.clone(),
            date: o.created_at.date_naive(),
            status,
            total: num(o.amount).to_string(),
            test: o.test,
        });
    }
    rows.retain(|r| r.date >= start && r.date <= end);
    let from = (page - 1).saturating_mul(size);
    let more = rows.len() > from.saturating_add(size);
    let mut csv =
        String::from("orderNumber,shoppingCartNumber,campaignWebKey,orderDate,status,total,currency,test\n");
    for r in rows.iter().skip(from).take(size) {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            r.order_number,
            r.cart_number,
            r.web_key,
            r.date,
            r.status,
            r.total,
            inner.settings.currency,
            r.test
        ));
    }
    let id = format!("{}.csv", inner.new_guid());
    inner.exports.insert(id.clone(), csv);
    let link = inner.export_url(&id);
    // Lazily: `page` may be usize::MAX (nothing more to export then, so no next page).
    ok(json!({"link": link, "hasMoreToExport": more, "nextExport": more.then(|| page.saturating_add(1))}))
}

/// `GET {sim}/exports/{id}`: the CSV an export `link` points to (simulator extra).
pub(super) fn csv(inner: &mut Inner, rq: &Req) -> Res {
    let body = inner.exports.get(rq.param("id")).cloned().ok_or_else(|| message(404, "Unknown export."))?;
    let mut r = HttpResponse::new(Body::from(body));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    Ok(r)
}
