//! Diller: every reply body the adapter reads, through `loyalty_diller::decode` (the adapter's
//! own decode path), and the OAuth2 token reply through a real `DillerClient` call.

use std::sync::OnceLock;
use std::time::Duration;

use loyalty_core::{Context, Currency, ErrorKind};
use loyalty_diller::{
    decode, decode::is_named_protocol_error, wire::OfferContext, DillerClient, DillerConfig,
};
use loyalty_fuzz::{choose, decoder_targets, expect_error, stub::Stub};
use loyalty_http::Secret;

fn offers() -> OfferContext {
    OfferContext { time_zone: chrono_tz::Europe::Oslo, currency: Currency::NOK }
}

decoder_targets! {
    /// M2-M5: one `MemberResponse`.
    diller_member => |body: &[u8]| expect_error(decode::member("members.get", body), is_named_protocol_error);
    /// M1: a list of members, the first one converted.
    diller_member_search => |body: &[u8]| expect_error(decode::member_search("members.find", body), is_named_protocol_error);
    /// C2 (and C1): coupons into offers, uses left through checked arithmetic.
    diller_coupons => |body: &[u8]| expect_error(decode::member_coupons("offers.list", body, &offers()), is_named_protocol_error);
    /// K2 (and K1): stamp cards into offers.
    diller_stamp_cards => |body: &[u8]| expect_error(decode::member_stamp_cards("offers.list", body, &offers()), is_named_protocol_error);
    /// S5: the store's segments.
    diller_segments => |body: &[u8]| expect_error(decode::segments("members.segments", body), is_named_protocol_error);
    /// S2: the store, for its currency.
    diller_store => |body: &[u8]| expect_error(decode::store_currency("offers.list", body), is_named_protocol_error);
    /// Commands' `ActionResponse`, for validate (whose `is_ok` is the answer) and a command.
    diller_action => |input: &[u8]| {
        let (op, body) = choose(input, &["offers.validate", "holds.hold", "transactions.send"]);
        expect_error(decode::action(op, body), is_named_protocol_error);
    };
    /// Error replies (problem details, `is_ok: false`, `{"error"}`) through the classifier.
    diller_problem => |input: &[u8]| {
        let (status, body) = choose(input, &[400u16, 404, 409, 422, 403, 410, 200, 418, 401, 429, 503]);
        let (op, body) = choose(body, &["holds.hold", "offers.validate", "members.find"]);
        if let Some(e) = decode::reply_error(op, status, body) {
            assert!(e.message().chars().count() <= 600, "an error quotes too much: {e:?}");
            if (200..300).contains(&status) {
                assert!(!matches!(e.kind(), ErrorKind::Protocol), "a 2xx refusal is a business answer: {e:?}");
            }
        }
    };
    /// The OAuth2 token reply, read by the transport the adapter configures: never a panic,
    /// never the token in an error.
    diller_token => |input: &[u8]| {
        let (status, body) = choose(input, &[200u16, 200, 200, 400, 401, 403]);
        token_reply(status, body);
    };
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime"))
}

fn stub() -> &'static Stub {
    static STUB: OnceLock<Stub> = OnceLock::new();
    STUB.get_or_init(|| {
        let s = Stub::start();
        s.answer("/api/v2.0/stores/s", 200, br#"{"id":"s","currency":"NOK"}"#);
        s
    })
}

fn token_reply(status: u16, body: &[u8]) {
    let stub = stub();
    stub.answer("/connect/token", status, body);
    let config = DillerConfig::builder()
        .with_base_url(stub.base_url())
        .with_client_id("fuzz")
        .with_client_secret(Secret::new("fuzz-secret"))
        .with_store_id("s")
        .with_attempt_timeout(Duration::from_secs(2))
        .build()
        .expect("config");
    let client = DillerClient::new(&config).expect("client");
    let result = runtime().block_on(client.store(&Context::new(), "setup.store"));
    let Err(e) = result else { return };
    let token = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("access_token").and_then(|t| t.as_str()).map(str::to_owned))
        .filter(|t| t.len() >= 8);
    if let Some(token) = token {
        assert!(!format!("{e:?}").contains(&token), "an error shows the token: {e:?}");
    }
    assert!(
        matches!(
            e.kind(),
            ErrorKind::Protocol | ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::Invalid { .. }
        ),
        "unexpected token failure: {e:?}"
    );
}
