//! Route names for the kit's faults and the journal: each request is named by its id in the
//! contract's endpoint catalogue (§3: S1..S6, M1..M15, C1..C5, K1..K4, T1..T3, N1..N4), so
//! `handle.inject_route("M3", …)` hits register alone, not enroll or anything else under
//! `…/members`. `POST /connect/token` (§2, outside the catalogue) is named `token`.

/// The catalogue id of `method` on `path` (no query), or `None` for a path or method the
/// catalogue does not list.
pub(crate) fn route_id(method: &str, path: &str) -> Option<&'static str> {
    let m = method.to_ascii_uppercase();
    if path == "/connect/token" {
        return (m == "POST").then_some("token");
    }
    let rest = path.strip_prefix("/api/v2.0/stores")?;
    let segs: Vec<&str> = if rest.is_empty() {
        Vec::new()
    } else {
        let rest = rest.strip_prefix('/')?;
        rest.split('/').collect()
    };
    if segs.iter().any(|s| s.is_empty()) {
        return None;
    }
    let id = match (m.as_str(), segs.as_slice()) {
        ("GET", []) => "S1",
        ("GET", [_]) => "S2",
        ("GET", [_, "departments"]) => "S3",
        ("POST", [_, "departments"]) => "S4",
        ("GET", [_, "segments"]) => "S5",
        ("GET", [_, "membership-level"]) => "S6",
        ("GET", [_, "members", "search"]) => "M1",
        ("POST", [_, "members"]) => "M3",
        ("POST", [_, "members", "enroll"]) => "M4",
        ("GET", [_, "members", _]) => "M2",
        ("PUT", [_, "members", _]) => "M5",
        ("DELETE", [_, "members", _]) => "M6",
        ("GET", [_, "members", _, "dependents"]) => "M7",
        ("POST", [_, "members", _, "dependents"]) => "M8",
        ("POST", [_, "members", _, "login-otp"]) => "M9",
        ("POST", [_, "members", _, "login-otp-verification"]) => "M10",
        ("POST", [_, "members", _, "reset-phone"]) => "M11",
        ("POST", [_, "members", _, "reset-phone-verification"]) => "M12",
        ("GET", [_, "members", _, "widgets", "profile"]) => "M13",
        ("GET", [_, "members", _, "invited-friends"]) => "M14",
        ("GET", [_, "members", _, "invited-friend"]) => "M15",
        ("GET", [_, "coupons"]) => "C1",
        ("GET", [_, "members", _, "coupons"]) => "C2",
        ("GET", [_, "members", _, "coupons", _, "validate"]) => "C3",
        ("POST", [_, "members", _, "coupons", _, "reserve"]) => "C4",
        ("POST", [_, "members", _, "coupons", _, "cancel-reservation"]) => "C5",
        ("GET", [_, "stamp-cards"]) => "K1",
        ("GET", [_, "members", _, "stamp-cards"]) => "K2",
        ("POST", [_, "members", _, "stamp-cards", _, "reserve"]) => "K3",
        ("POST", [_, "members", _, "stamp-cards", _, "cancel-reservation"]) => "K4",
        ("POST", [_, "members", _, "transactions"]) => "T1",
        ("POST", [_, "transactions", _, "cancel"]) => "T2",
        ("POST", [_, "members", _, "transactions", _, "refund"]) => "T3",
        ("GET", [_, "non-eligible-products"]) => "N1",
        ("POST", [_, "non-eligible-products"]) => "N2",
        ("PUT", [_, "non-eligible-products"]) => "N3",
        ("DELETE", [_, "non-eligible-products", _]) => "N4",
        _ => return None,
    };
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::route_id;

    const S: &str = "/api/v2.0/stores/s1";
    const M: &str = "/api/v2.0/stores/s1/members/m1";

    #[test]
    fn paths_that_prefix_each_other_get_their_own_ids() {
        assert_eq!(route_id("POST", &format!("{S}/members")), Some("M3"));
        assert_eq!(route_id("POST", &format!("{S}/members/enroll")), Some("M4"));
        assert_eq!(route_id("GET", &format!("{S}/members/search")), Some("M1"));
        assert_eq!(route_id("GET", M), Some("M2"));
        assert_eq!(route_id("POST", &format!("{M}/transactions")), Some("T1"));
        assert_eq!(route_id("POST", &format!("{M}/transactions/Order-1/refund")), Some("T3"));
        assert_eq!(route_id("POST", &format!("{S}/transactions/Order-1/cancel")), Some("T2"));
        assert_eq!(route_id("POST", &format!("{M}/stamp-cards/7/reserve")), Some("K3"));
        assert_eq!(route_id("GET", &format!("{M}/stamp-cards")), Some("K2"));
        assert_eq!(route_id("GET", &format!("{S}/stamp-cards")), Some("K1"));
        assert_eq!(route_id("DELETE", &format!("{S}/non-eligible-products/3")), Some("N4"));
        assert_eq!(route_id("GET", "/api/v2.0/stores"), Some("S1"));
        assert_eq!(route_id("post", "/connect/token"), Some("token"));
    }

    #[test]
    fn unlisted_methods_and_paths_have_no_id() {
        assert_eq!(route_id("GET", &format!("{M}/transactions")), None);
        assert_eq!(route_id("POST", &format!("{S}/members/")), None);
        assert_eq!(route_id("POST", &format!("{M}/transactions/x/y")), None);
        assert_eq!(route_id("GET", "/api/v2.0/storesX"), None);
        assert_eq!(route_id("GET", "/connect/token"), None);
    }
}
