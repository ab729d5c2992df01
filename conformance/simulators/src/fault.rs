//! Fault injection: make a route misbehave for the next requests.

use std::time::Duration;

/// A way a simulated route can fail. Set through [`crate::SimHandle::inject`] (by path) or
/// [`crate::SimHandle::inject_route`] (by logical route).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Waits this long, then runs the handler and answers normally. The request is carried
    /// out even when the client gives up first (a delay past its timeout): the handler still
    /// runs after the wait and its state changes stick, so the client faces the ambiguous
    /// timeout of a write the vendor did make.
    Latency(Duration),
    /// Answers this status with the simulator's fault body (by default a small problem-details
    /// body, see [`crate::SimOptions::fault_body`]); the handler does not run.
    Status(u16),
    /// Answers 429 with a `Retry-After` header in seconds and the simulator's fault body; the
    /// handler does not run.
    TooManyRequests {
        /// Value of the `Retry-After` header.
        retry_after_secs: u64,
    },
    /// Runs the handler (its state changes stick), then replaces the body with text that is
    /// neither JSON nor XML; status and headers are kept.
    MalformedBody,
    /// Runs the handler, then sends only the first half of its body (a complete HTTP message
    /// whose body no longer parses).
    TruncatedBody,
    /// Closes the connection without a response; the handler does not run. The client sees the
    /// connection closed before a complete message arrived (reqwest: an error from `send()`).
    DropConnection,
    /// Never answers; the client's own timeout must fire. Released when the server shuts down.
    Hang,
}

/// A fault bound to a route, for a number of requests: either method (or `*`) and path prefix
/// (or whole path, see `exact_path`), or a logical route name given by the server's `route_of`
/// function.
#[derive(Clone, Debug)]
pub struct FaultRule {
    /// HTTP method to match, case-insensitive; `*` matches any method. Ignored for route rules.
    pub method: String,
    /// Path prefix to match (the query string is not considered). Ignored for route rules.
    pub path_prefix: String,
    /// When set, `path_prefix` must be the whole path: a rule for `…/products/prices` then
    /// leaves `…/products/prices/{countryCode}` alone. Ignored for route rules.
    pub exact_path: bool,
    /// When set, the rule matches requests whose logical route has exactly this name, whatever
    /// their method and path.
    pub route: Option<String>,
    /// What happens to a matching request.
    pub fault: Fault,
    /// How many more matching requests get the fault; `None` = until cleared.
    pub remaining: Option<u32>,
}

impl FaultRule {
    pub(crate) fn matches(&self, method: &str, path: &str, route: Option<&str>) -> bool {
        let target = match &self.route {
            Some(name) => route == Some(name.as_str()),
            None => {
                (self.method == "*" || self.method.eq_ignore_ascii_case(method))
                    && if self.exact_path {
                        path == self.path_prefix
                    } else {
                        path.starts_with(&self.path_prefix)
                    }
            }
        };
        target && self.remaining != Some(0)
    }
}

/// Takes the first matching fault from `rules`, counting down its remaining uses.
pub(crate) fn take(
    rules: &mut Vec<FaultRule>,
    method: &str,
    path: &str,
    route: Option<&str>,
) -> Option<Fault> {
    let i = rules.iter().position(|r| r.matches(method, path, route))?;
    let fault = rules[i].fault.clone();
    if let Some(n) = rules[i].remaining.as_mut() {
        *n -= 1;
        if *n == 0 {
            rules.remove(i);
        }
    }
    Some(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(times: Option<u32>) -> FaultRule {
        FaultRule {
            method: "POST".into(),
            path_prefix: "/api/v2.0/stores/s1".into(),
            exact_path: false,
            route: None,
            fault: Fault::Status(503),
            remaining: times,
        }
    }

    #[test]
    fn rule_is_used_up_after_times() {
        let mut rules = vec![rule(Some(2))];
        assert!(take(&mut rules, "POST", "/api/v2.0/stores/s1/members", None).is_some());
        assert!(take(&mut rules, "post", "/api/v2.0/stores/s1/members", None).is_some());
        assert!(take(&mut rules, "POST", "/api/v2.0/stores/s1/members", None).is_none());
    }

    #[test]
    fn other_method_or_path_is_untouched() {
        let mut rules = vec![rule(None)];
        assert!(take(&mut rules, "GET", "/api/v2.0/stores/s1", None).is_none());
        assert!(take(&mut rules, "POST", "/connect/token", None).is_none());
        assert!(take(&mut rules, "POST", "/api/v2.0/stores/s1", None).is_some());
    }

    #[test]
    fn route_rule_matches_route_name_only() {
        let mut rules = vec![FaultRule { route: Some("G4".into()), ..rule(Some(1)) }];
        assert!(take(&mut rules, "POST", "/api/v2.0/stores/s1", None).is_none());
        assert!(take(&mut rules, "POST", "/api/v2.0/stores/s1", Some("G5")).is_none());
        assert!(take(&mut rules, "GET", "/elsewhere", Some("G4")).is_some());
        assert!(rules.is_empty());
    }

    #[test]
    fn exact_path_rule_leaves_longer_paths_alone() {
        let mut rules = vec![FaultRule { exact_path: true, ..rule(None) }];
        assert!(take(&mut rules, "POST", "/api/v2.0/stores/s1/members", None).is_none());
        assert!(take(&mut rules, "POST", "/api/v2.0/stores/s1", None).is_some());
    }
}
