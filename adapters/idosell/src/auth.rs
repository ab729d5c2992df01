//! IdoSell's authentication (§3): the daily `systemKey`, and the session source that logs in
//! through G1 `Authenticate` for the transport's single-flight session cache.
//!
//! `systemKey = lowercase_hex(sha1(YYYYMMDD + lowercase_hex(sha1(password))))`, strings hashed
//! as UTF-8, the inner digest concatenated as its 40 hex characters, the date zero-padded and
//! taken in Europe/Warsaw (§3.1–§3.3). The 15-minute session (§3.5) is renewed ~12 minutes after
//! login by [`loyalty_http::SessionAuth`]; near Warsaw midnight a refused login is tried once
//! more with the other day's key (§3.3).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use loyalty_core::{Clock, Context, Error};
use loyalty_http::{Call, HttpClient, Retry, Secret, Session, SessionSource};
use sha1::{Digest, Sha1};

use crate::error::class_of;
use crate::names::{FaultClass, Gateway, Names, SOAP_CONTENT_TYPE};
use crate::wire;

/// The operation label of `Authenticate` calls.
pub const AUTH_OPERATION: &str = "auth.authenticate";

/// How long a session lives after login (§3.5 \[G\]).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// How close to local midnight a refused login is tried again with the other day's key
/// (§3.3: ±2 minutes).
pub const MIDNIGHT_WINDOW: Duration = Duration::from_secs(120);

/// Lowercase hex SHA-1 of `bytes` (two hex digits per byte, §3.1).
pub fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The daily key from the inner digest and a calendar date: `sha1(YYYYMMDD + inner)` (§3.1).
/// The inner digest must already be lowercase hex (configuration lower-cases it).
pub fn system_key(inner_sha1_hex: &str, date: NaiveDate) -> String {
    sha1_hex(format!("{}{inner_sha1_hex}", date.format("%Y%m%d")).as_bytes())
}

/// The calendar date whose key the server expects at `now`: the date in `zone` (§3.3).
pub fn key_date(now: DateTime<Utc>, zone: Tz) -> NaiveDate {
    now.with_timezone(&zone).date_naive()
}

/// The other day's date when `now` is within [`MIDNIGHT_WINDOW`] of midnight in `zone`:
/// tomorrow just before midnight, yesterday just after (§3.3).
pub fn other_day_near_midnight(now: DateTime<Utc>, zone: Tz) -> Option<NaiveDate> {
    let local = now.with_timezone(&zone);
    let since = local.time().signed_duration_since(NaiveTime::MIN);
    let window = chrono::Duration::from_std(MIDNIGHT_WINDOW).unwrap_or(chrono::Duration::zero());
    let day = chrono::Duration::days(1);
    if since <= window {
        local.date_naive().pred_opt()
    } else if day - since <= window {
        local.date_naive().succ_opt()
    } else {
        None
    }
}

/// Logs the shop's customer account in through G1 (§5 G1).
pub struct IdosellLogin {
    http: HttpClient,
    login: String,
    password_sha1: Secret,
    zone: Tz,
    clock: Arc<dyn Clock>,
    names: Arc<Names>,
}

impl fmt::Debug for IdosellLogin {
    // Identity only: the digest never prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdosellLogin")
            .field("login", &self.login)
            .field("zone", &self.zone)
            .finish_non_exhaustive()
    }
}

impl IdosellLogin {
    /// A login for `login` with its inner digest, over `http` (a client without auth whose
    /// classifier reads IdoSell replies).
    pub fn new(
        http: HttpClient,
        login: impl Into<String>,
        password_sha1: Secret,
        zone: Tz,
        clock: Arc<dyn Clock>,
        names: Arc<Names>,
    ) -> IdosellLogin {
        IdosellLogin { http, login: login.into(), password_sha1, zone, clock, names }
    }

    async fn authenticate(&self, ctx: &Context, date: NaiveDate) -> Result<wire::AuthenticateReply, Error> {
        let key = system_key(self.password_sha1.expose(), date);
        let gate = self.names.gates.get(Gateway::Authenticate);
        let (path, query) = gate.split_path();
        let mut call = Call::post(AUTH_OPERATION, path)
            .header("SOAPAction", format!("\"{}\"", gate.soap_action))
            .raw(SOAP_CONTENT_TYPE, wire::auth::authenticate_body(&self.names, &self.login, &key))
            // A gate may quote the block it refused: the key and digest stay out of the error.
            .secret(&Secret::new(key))
            .secret(&self.password_sha1)
            // A login changes nothing but the session table: safe to repeat.
            .retry(Retry::Read);
        for (k, v) in query {
            call = call.query(k, v);
        }
        let reply = self.http.send(ctx, call).await?;
        wire::auth::decode_authenticate(&self.names, AUTH_OPERATION, &reply.body)
    }
}

#[async_trait]
impl SessionSource for IdosellLogin {
    async fn open(&self, _client: &reqwest::Client, ctx: &Context) -> Result<Session, Error> {
        let now = self.clock.now();
        let reply = match self.authenticate(ctx, key_date(now, self.zone)).await {
            Ok(r) => r,
            // §3.3: a key computed a few seconds on the wrong side of midnight fails; the
            // other day's key is tried once, only inside the window.
            Err(e) if class_of(&self.names.faults, &e) == Some(FaultClass::Login) => {
                match other_day_near_midnight(now, self.zone) {
                    Some(other) => {
                        tracing::warn!(login = %self.login, "login refused near Warsaw midnight; trying the other day's key");
                        self.authenticate(ctx, other).await?
                    }
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let lifetime = chrono::Duration::from_std(SESSION_LIFETIME).unwrap_or(chrono::Duration::zero());
        // The reply's own expiry, where the names table reads one, only when it is plausible:
        // one already past or beyond the 15 minutes (a time written in another zone) would make
        // every call log in again, or keep a session the wholesaler has dropped.
        let expires_at = reply
            .expires
            .as_deref()
            .and_then(|t| wire::convert::local_time(t, self.zone, "expires").ok())
            .filter(|at| *at > now && *at <= now + lifetime)
            .unwrap_or(now + lifetime);
        Ok(Session { key: Secret::new(reply.session_key), expires_at })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const HURTOWNIA: &str = "Hurt0wnia!2024";

    #[test]
    fn checklist_1_worked_example_and_the_next_day() {
        let inner = sha1_hex(HURTOWNIA.as_bytes());
        assert_eq!(inner, "cd82db52defea4e7b81f4bbea799dbd0243dd5fb");
        assert_eq!(
            format!("20240315{inner}"),
            "20240315cd82db52defea4e7b81f4bbea799dbd0243dd5fb",
            "the string hashed in step 2"
        );
        assert_eq!(system_key(&inner, day(2024, 3, 15)), "c191b89132502577a63cfa7517dfa5380f6441c4");
        assert_eq!(system_key(&inner, day(2024, 3, 16)), "2d90c00cb9aa8651ef72025eb042ba806bee8751");
    }

    #[test]
    fn checklist_2_extra_vectors_of_new_years_day() {
        let d = day(2024, 1, 1);
        assert_eq!(sha1_hex(b"test"), "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3");
        assert_eq!(sha1_hex(b"secret"), "e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4");
        assert_eq!(system_key(&sha1_hex(b"test"), d), "22b53c7b1168a3cb57cd8de0dea4cc4e34634cc8");
        assert_eq!(system_key(&sha1_hex(b"secret"), d), "f4024f4cb97cd005284e7dec4789082aed00c706");
    }

    #[test]
    fn checklist_3_non_ascii_password_is_hashed_as_utf8() {
        let inner = sha1_hex("zażółć-gęślą".as_bytes());
        assert_eq!(inner, "c28370f02cd4f8661e2f6e5a70ce2f316464882f");
        assert_eq!(system_key(&inner, day(2024, 3, 15)), "14a8b3e2822c6cf15a8f9264ad26ad9e01fe57bf");
        // ISO-8859-2 bytes of the same password give the wrong key of §3.2.
        let latin2: Vec<u8> = "zażółć-gęślą"
            .chars()
            .map(|c| match c {
                'ż' => 0xbf,
                'ó' => 0xf3,
                'ł' => 0xb3,
                'ć' => 0xe6,
                'ę' => 0xea,
                'ś' => 0xb6,
                'ą' => 0xb1,
                c => c as u8,
            })
            .collect();
        let wrong = system_key(&sha1_hex(&latin2), day(2024, 3, 15));
        assert_eq!(wrong, "84e54e2e66adf812f1ab018e2e9680c12813fc60");
        assert_ne!(wrong, system_key(&inner, day(2024, 3, 15)));
    }

    #[test]
    fn checklist_4_never_the_unpadded_day_or_the_upper_case_digest() {
        let inner = sha1_hex(HURTOWNIA.as_bytes());
        // 5 March 2024 is zero-padded: 20240305.
        let right = system_key(&inner, day(2024, 3, 5));
        assert_eq!(right, "72fe7b602393f583d6abd87eb5f81df6d0aa90e9");
        assert_ne!(right, "8b6d361279c598003a1c88d571fc1c8e7658a167");
        // What the buggy client sent, reproduced to show the key above is not it.
        assert_eq!(
            sha1_hex(format!("2024035{inner}").as_bytes()),
            "8b6d361279c598003a1c88d571fc1c8e7658a167"
        );
        // The inner digest enters as lowercase text.
        let upper = sha1_hex(format!("20240315{}", inner.to_uppercase()).as_bytes());
        assert_eq!(upper, "f0ae167018503a2bb5fbcb110386b45c4cb1196d");
        assert_ne!(system_key(&inner, day(2024, 3, 15)), upper);
    }

    #[test]
    fn checklist_5_the_date_is_taken_in_warsaw() {
        let warsaw = chrono_tz::Europe::Warsaw;
        let late = Utc.with_ymd_and_hms(2024, 3, 15, 23, 30, 0).unwrap();
        assert_eq!(key_date(late, warsaw), day(2024, 3, 16));
        let inner = sha1_hex(HURTOWNIA.as_bytes());
        assert_eq!(system_key(&inner, key_date(late, warsaw)), "2d90c00cb9aa8651ef72025eb042ba806bee8751");
        // Summer time: 22:30 UTC on 15 July is already 16 July in Warsaw (CEST).
        assert_eq!(key_date(Utc.with_ymd_and_hms(2024, 7, 15, 22, 30, 0).unwrap(), warsaw), day(2024, 7, 16));
    }

    #[test]
    fn the_other_day_is_offered_only_within_two_minutes_of_midnight() {
        let warsaw = chrono_tz::Europe::Warsaw;
        // 23:59:00 CET = 22:59:00 UTC.
        let before = Utc.with_ymd_and_hms(2024, 3, 15, 22, 59, 0).unwrap();
        assert_eq!(other_day_near_midnight(before, warsaw), Some(day(2024, 3, 16)));
        let after = Utc.with_ymd_and_hms(2024, 3, 15, 23, 1, 30).unwrap();
        assert_eq!(other_day_near_midnight(after, warsaw), Some(day(2024, 3, 15)));
        let noon = Utc.with_ymd_and_hms(2024, 3, 15, 11, 0, 0).unwrap();
        assert_eq!(other_day_near_midnight(noon, warsaw), None);
        let outside = Utc.with_ymd_and_hms(2024, 3, 15, 22, 57, 0).unwrap();
        assert_eq!(other_day_near_midnight(outside, warsaw), None);
    }
}
