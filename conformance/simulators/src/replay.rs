//! Vendor-neutral fixture replay: serve recorded responses and record what the client sent.
//!
//! A fixture file (`conformance/fixtures/<vendor>/NAME.http`) looks like this:
//!
//! ```text
//! ### request
//! POST /api/v2.0/stores/demo-store/members?x=1
//! content-type: application/json
//!
//! {"phone":{"country_code":"+47","number":"41234567"}}
//! ### response
//! 200
//! content-type: application/json
//!
//! {"id":"m_Ao1bPoZRRV7Y"}
//! ```
//!
//! Header lines run until the first blank line; the body (possibly empty) runs until the next
//! section marker or the end of the file, without its trailing line breaks.

use std::{path::Path, sync::Arc};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderName, HeaderValue, Response, StatusCode},
    Router,
};

use crate::{
    clock::SimClock,
    journal::JournalEntry,
    server::{self, SimHandle, SimServer},
};

const REQUEST_MARK: &str = "### request";
const RESPONSE_MARK: &str = "### response";

/// What the client is expected to send (documentation for replay assertions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Path with the query string, as written in the fixture.
    pub path_and_query: String,
    /// Header lines as written (names lower-cased).
    pub headers: Vec<(String, String)>,
    /// Body text; may be empty.
    pub body: String,
}

/// What the replay server answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// Header lines as written (names lower-cased).
    pub headers: Vec<(String, String)>,
    /// Body text; may be empty.
    pub body: String,
}

/// A recorded request/response pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fixture {
    /// Fixture name (the file stem when loaded from disk).
    pub name: String,
    /// The request part.
    pub request: RecordedRequest,
    /// The response part.
    pub response: RecordedResponse,
}

impl RecordedRequest {
    /// The path without its query string.
    pub fn path(&self) -> &str {
        self.path_and_query.split('?').next().unwrap_or(&self.path_and_query)
    }
}

impl Fixture {
    /// Parses fixture text; an error names the fixture and the offending line (1-based).
    pub fn parse(name: &str, text: &str) -> Result<Fixture, String> {
        let lines: Vec<&str> = text.lines().collect();
        let err = |line: usize, msg: &str| format!("fixture {name}: line {line}: {msg}");
        let req_at = lines
            .iter()
            .position(|l| l.trim_end() == REQUEST_MARK)
            .ok_or_else(|| format!("fixture {name}: missing '{REQUEST_MARK}' section"))?;
        let resp_at = lines
            .iter()
            .position(|l| l.trim_end() == RESPONSE_MARK)
            .ok_or_else(|| format!("fixture {name}: missing '{RESPONSE_MARK}' section"))?;
        if resp_at < req_at {
            return Err(err(resp_at + 1, "'### response' comes before '### request'"));
        }
        let (req_first, req_headers, req_body) = section(&lines, req_at + 1, resp_at, &err)?;
        let (resp_first, resp_headers, resp_body) = section(&lines, resp_at + 1, lines.len(), &err)?;

        let (line_no, start) = req_first;
        let mut parts = start.split_whitespace();
        let (Some(method), Some(target), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err(line_no, "expected 'METHOD /path'"));
        };
        if !target.starts_with('/') {
            return Err(err(line_no, "request path must start with '/'"));
        }
        let (line_no, status_line) = resp_first;
        let status: u16 = status_line
            .trim()
            .parse()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| err(line_no, &format!("bad status '{}'", status_line.trim())))?;
        Ok(Fixture {
            name: name.to_string(),
            request: RecordedRequest {
                method: method.to_ascii_uppercase(),
                path_and_query: target.to_string(),
                headers: req_headers,
                body: req_body,
            },
            response: RecordedResponse { status, headers: resp_headers, body: resp_body },
        })
    }

    /// Reads and parses one fixture file; the name is the file stem.
    pub fn load(path: impl AsRef<Path>) -> Result<Fixture, String> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| format!("fixture {}: {e}", path.display()))?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        Fixture::parse(&name, &text)
    }

    /// Loads every `*.http` file in `dir`, sorted by name.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<Fixture>, String> {
        let dir = dir.as_ref();
        let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut out = Vec::new();
        for entry in rd {
            let p = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
            if p.extension().is_some_and(|x| x == "http") {
                out.push(Fixture::load(&p)?);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

type Line<'a> = (usize, &'a str);
type Section<'a> = (Line<'a>, Vec<(String, String)>, String);

/// Splits lines `[from, to)` into first line, headers and body.
fn section<'a>(
    lines: &[&'a str],
    from: usize,
    to: usize,
    err: &dyn Fn(usize, &str) -> String,
) -> Result<Section<'a>, String> {
    let mut i = from;
    // Blank lines right after the marker are tolerated.
    while i < to && lines[i].trim().is_empty() {
        i += 1;
    }
    if i >= to {
        return Err(err(from, "section is empty"));
    }
    let first = (i + 1, lines[i]);
    i += 1;
    let mut headers = Vec::new();
    while i < to && !lines[i].trim().is_empty() {
        let (k, v) =
            lines[i].split_once(':').ok_or_else(|| err(i + 1, "expected 'name: value' header line"))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        i += 1;
    }
    let body_start = (i + 1).min(to);
    let body = lines[body_start..to].join("\n");
    Ok((first, headers, body.trim_end_matches(['\n', '\r']).to_string()))
}

/// A server answering from fixtures; every request is journaled (secrets redacted).
#[derive(Debug)]
pub struct ReplayServer {
    server: SimServer,
}

impl ReplayServer {
    /// Starts serving `fixtures`: each request gets the response of the first fixture whose
    /// method, path and query match (query pairs compared decoded, in any order), else of the
    /// first whose method and path (without query) match, so vendors that route by query
    /// (IdoSell's `?gate=…`) replay too; no match answers 501 naming method and path.
    pub async fn start(fixtures: Vec<Fixture>) -> std::io::Result<ReplayServer> {
        let router = Router::new().fallback(replay).with_state(Arc::new(fixtures));
        let server = server::start(router, SimClock::default(), &[]).await?;
        Ok(ReplayServer { server })
    }

    /// Base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<JournalEntry> {
        self.server.handle().journal().entries()
    }

    /// A handle for faults and the clock.
    pub fn handle(&self) -> SimHandle {
        self.server.handle()
    }
}

async fn replay(State(fixtures): State<Arc<Vec<Fixture>>>, req: Request) -> Response<Body> {
    let method = req.method().as_str();
    let path = req.uri().path();
    let query = query_pairs(req.uri().query());
    let same_path = |f: &&Fixture| f.request.method == method && f.request.path() == path;
    let exact = fixtures.iter().filter(same_path).find(|f| {
        let fixture_query = f.request.path_and_query.split_once('?').map(|(_, q)| q);
        fixture_query.is_some() && query_pairs(fixture_query) == query
    });
    let Some(f) = exact.or_else(|| fixtures.iter().find(same_path)) else {
        let mut r = Response::new(Body::from(format!("no fixture for {method} {path}")));
        *r.status_mut() = StatusCode::NOT_IMPLEMENTED;
        return r;
    };
    let mut r = Response::new(Body::from(f.response.body.clone()));
    *r.status_mut() = StatusCode::from_u16(f.response.status).unwrap_or(StatusCode::OK);
    for (k, v) in &f.response.headers {
        // Length is recomputed from the body; a recorded one might not match after editing.
        if k == "content-length" {
            continue;
        }
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v)) {
            r.headers_mut().append(k, v);
        }
    }
    r
}

/// Decoded query pairs, sorted.
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_compare_decoded_and_unordered() {
        assert_eq!(query_pairs(Some("gate=a%2Fb&lang=pol")), query_pairs(Some("lang=pol&gate=a/b")));
        assert_ne!(query_pairs(Some("gate=a/b")), query_pairs(Some("gate=a/c")));
    }

    const GOOD: &str = "### request\nPOST /api/v2.0/stores/demo-store/members?x=1\ncontent-type: application/json\n\n{\"phone\":{\"country_code\":\"+47\",\"number\":\"41234567\"}}\n### response\n200\ncontent-type: application/json\n\n{\"id\":\"m_Ao1bPoZRRV7Y\"}\n";

    #[test]
    fn parse_reads_both_sections() {
        let f = Fixture::parse("register", GOOD).unwrap();
        assert_eq!(f.request.method, "POST");
        assert_eq!(f.request.path_and_query, "/api/v2.0/stores/demo-store/members?x=1");
        assert_eq!(f.request.path(), "/api/v2.0/stores/demo-store/members");
        assert_eq!(f.request.headers, vec![("content-type".to_string(), "application/json".to_string())]);
        assert!(f.request.body.starts_with("{\"phone\""));
        assert_eq!(f.response.status, 200);
        assert_eq!(f.response.body, "{\"id\":\"m_Ao1bPoZRRV7Y\"}");
    }

    #[test]
    fn parse_allows_empty_bodies() {
        let f = Fixture::parse("get", "### request\nGET /x\n\n### response\n204\n").unwrap();
        assert_eq!(f.request.body, "");
        assert_eq!(f.response.status, 204);
        assert_eq!(f.response.body, "");
    }

    #[test]
    fn parse_rejects_missing_response_section() {
        let e = Fixture::parse("x", "### request\nGET /x\n\n").unwrap_err();
        assert!(e.contains("### response"), "{e}");
    }

    #[test]
    fn parse_rejects_bad_status_naming_the_line() {
        let e = Fixture::parse("x", "### request\nGET /x\n\n### response\nOK\n").unwrap_err();
        assert!(e.contains("line 5") && e.contains("bad status"), "{e}");
    }

    #[test]
    fn parse_rejects_request_line_without_path() {
        let e = Fixture::parse("x", "### request\nGET\n\n### response\n200\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }
}
