//! G1 `Authenticate` and the session / dropshipping-key checks of G2–G9 (the IdoSell contract
//! §3, §5 G1).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha1::{Digest, Sha1};

use super::{
    messages::{Fault, DROPSHIPPING, LOGIN, SESSION},
    names::{DROPSHIPPING_KEY, SESSION_KEY, SYSTEM_KEY},
    routes::{Ctx, Reply},
    settings::{Reauthenticate, SessionExpiry},
    soap::{Node, Out},
    state::{Inner, Session},
};

/// Lowercase hex SHA-1 of `bytes` (§3.1: two hex digits per byte, lower case).
pub fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The daily system key from the inner digest: `sha1(YYYYMMDD + inner)`, the date zero-padded,
/// the inner digest concatenated as its 40 hex characters (§3.1).
pub fn system_key(inner_sha1_hex: &str, date: NaiveDate) -> String {
    sha1_hex(format!("{}{inner_sha1_hex}", date.format("%Y%m%d")).as_bytes())
}

/// The dates whose keys are accepted at `now`: today in the configured zone (§3.3), plus
/// yesterday during the grace period after local midnight when that setting is on.
fn accepted_dates(cx: &Ctx<'_>, now: DateTime<Utc>) -> Vec<NaiveDate> {
    let local = now.with_timezone(&cx.zone);
    let today = local.date_naive();
    let mut dates = vec![today];
    let since_midnight = local.time().signed_duration_since(chrono::NaiveTime::MIN);
    let grace = cx.s.previous_day_key_grace_secs;
    if grace > 0 && since_midnight <= Duration::seconds(i64::try_from(grace).unwrap_or(i64::MAX)) {
        dates.extend(today.pred_opt());
    }
    dates
}

/// G1: login + `systemKey` → a new 40-hex `sessionKey` (§5 G1).
pub(crate) fn authenticate(inner: &mut Inner, cx: &Ctx<'_>, req: &Node) -> Reply {
    let names = &cx.s.names;
    cx.check_unknown(req, &[&names.login, SYSTEM_KEY], &names.request)?;
    let login = req.text(&names.login).unwrap_or("");
    cx.check_magic(&[login])?;
    let key = req.text(SYSTEM_KEY).unwrap_or("");
    let account = inner.account_by_login(login).ok_or_else(|| Fault::new(LOGIN))?;
    let inner_sha1 = inner.accounts[account].inner_sha1.clone();
    // Exact comparison: an upper-case or otherwise re-encoded key is a different key (§3.2).
    if key.is_empty() || !accepted_dates(cx, cx.now).iter().any(|d| system_key(&inner_sha1, *d) == key) {
        return Err(Fault::new(LOGIN));
    }
    if inner.settings.reauthenticate == Reauthenticate::RevokeOlderKeys {
        for s in inner.sessions.values_mut().filter(|s| s.account == account) {
            s.revoked = true;
        }
    }
    // Simulator decision: deterministic 40-hex keys from a counter (§3.5: IdoSell session keys
    // look like 40 hex; adapters treat them as opaque).
    let n = inner.next_session;
    inner.next_session += 1;
    let session_key = sha1_hex(format!("idosell-sim-session-{n}").as_bytes());
    inner
        .sessions
        .insert(session_key.clone(), Session { account, issued: cx.now, last_used: cx.now, revoked: false });
    let mut out = vec![(SESSION_KEY.to_string(), Out::s(session_key))];
    if let Some(name) = &names.session_expiry {
        let expires =
            cx.now + Duration::seconds(i64::try_from(cx.s.session_lifetime_secs).unwrap_or(i64::MAX));
        out.push((name.clone(), Out::s(cx.local_time(expires))));
    }
    Ok(out)
}

/// G2–G9: the session first (fault 3), then the account's `dropshippingKey` (fault 4) (§3.4,
/// checklist item 8). Returns the account index.
pub(crate) fn authorize(inner: &mut Inner, cx: &Ctx<'_>, req: &Node) -> Result<usize, Fault> {
    let key = req.text(SESSION_KEY).ok_or_else(|| Fault::new(SESSION))?;
    let lifetime = Duration::seconds(i64::try_from(cx.s.session_lifetime_secs).unwrap_or(i64::MAX));
    let sliding = cx.s.session_expiry == SessionExpiry::Sliding;
    let session = inner.sessions.get_mut(key).ok_or_else(|| Fault::new(SESSION))?;
    let from = if sliding { session.last_used } else { session.issued };
    if session.revoked || cx.now >= from + lifetime {
        return Err(Fault::new(SESSION));
    }
    session.last_used = cx.now;
    let account = &inner.accounts[session.account];
    let given = req.text(DROPSHIPPING_KEY).unwrap_or("");
    if !account.dropshipping_enabled || given != account.dropshipping_key {
        return Err(Fault::new(DROPSHIPPING));
    }
    Ok(session.account)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn worked_example_of_section_3_2() {
        let inner = sha1_hex("Hurt0wnia!2024".as_bytes());
        assert_eq!(inner, "cd82db52defea4e7b81f4bbea799dbd0243dd5fb");
        assert_eq!(system_key(&inner, day(2024, 3, 15)), "c191b89132502577a63cfa7517dfa5380f6441c4");
        assert_eq!(system_key(&inner, day(2024, 3, 16)), "2d90c00cb9aa8651ef72025eb042ba806bee8751");
        assert_eq!(system_key(&inner, day(2024, 3, 5)), "72fe7b602393f583d6abd87eb5f81df6d0aa90e9");
    }

    #[test]
    fn utf8_password_vector() {
        let inner = sha1_hex("zażółć-gęślą".as_bytes());
        assert_eq!(inner, "c28370f02cd4f8661e2f6e5a70ce2f316464882f");
        assert_eq!(system_key(&inner, day(2024, 3, 15)), "14a8b3e2822c6cf15a8f9264ad26ad9e01fe57bf");
    }
}
