//! SessionM: its simulator in-process, or a live sandbox from `LOYALTY_LIVE_SESSIONM_*`.

use loyalty_conformance::{Environment, Target};
use loyalty_core::{Basket, Consents, Context, Error, Line, MemberLookup, Money, Provider, RegisterMember};
use loyalty_sessionm::config::LIVE_ENV_PREFIX;
use loyalty_sessionm::{simulated, SessionmAdapter, SessionmConfig};
use loyalty_sim::sessionm::{demo, SessionmSettings};
use loyalty_sim::SimClock;
use rust_decimal::Decimal;

use crate::registry::{Entry, Running};

/// The registry entry.
pub fn entry() -> Entry {
    Entry {
        name: "sessionm",
        capabilities: || match simulated::config_for("http://127.0.0.1:1").and_then(SessionmAdapter::new) {
            Ok(a) => a.capabilities().clone(),
            Err(e) => panic!("the simulator configuration is valid: {e}"),
        },
        embedded: || Box::pin(start_simulated()),
        live: || Box::pin(start_live()),
        live_vars: &[
            &["LOYALTY_LIVE_SESSIONM_POS_BASE_URL"],
            &["LOYALTY_LIVE_SESSIONM_POS_KEY"],
            &["LOYALTY_LIVE_SESSIONM_POS_SECRET"],
            &["LOYALTY_LIVE_SESSIONM_CONNECT_BASE_URL"],
            &["LOYALTY_LIVE_SESSIONM_CONNECT_KEY"],
            &["LOYALTY_LIVE_SESSIONM_CONNECT_SECRET"],
            &["LOYALTY_LIVE_SESSIONM_CORE_BASE_URL"],
            &["LOYALTY_LIVE_SESSIONM_API_KEY"],
            &["LOYALTY_LIVE_SESSIONM_S2S_SECRET"],
            &["LOYALTY_LIVE_SESSIONM_RETAILER_ID"],
            &["LOYALTY_LIVE_SESSIONM_CLIENT_ID"],
            &["LOYALTY_LIVE_SESSIONM_STORE_ID"],
            &["LOYALTY_LIVE_SESSIONM_CURRENCY"],
        ],
        // Nothing to set up: SessionM hands out ids and credentials; there is no store list.
        setup: None,
        simulator: Some(|request| Box::pin(sim(request))),
    }
}

async fn start_simulated() -> Result<Running, Error> {
    let sim = simulated::start_with(SessionmSettings::default(), SimClock::default()).await?;
    let env = simulated::environment(&sim);
    // Demo credentials of the simulator, not secrets: printing them is what `loyalty sim` is for.
    let info = vec![
        ("url", sim.server.base_url().to_string()),
        ("pos_key", demo::POS_KEY.to_string()),
        ("pos_secret", demo::POS_SECRET.to_string()),
        ("connect_key", demo::CONNECT_KEY.to_string()),
        ("connect_secret", demo::CONNECT_SECRET.to_string()),
        ("api_key", demo::API_KEY.to_string()),
        ("s2s_secret", demo::S2S_SECRET.to_string()),
        ("retailer_id", demo::RETAILER_ID.to_string()),
        ("client_id", demo::CLIENT_ID.to_string()),
        ("store_id", demo::STORE_ID.to_string()),
        ("user_id", demo::USER_ID.to_string()),
    ];
    Ok(Running {
        provider: Box::new(sim.adapter),
        env,
        target: Target::Simulator,
        info,
        _keep: vec![Box::new(sim.server)],
    })
}

async fn start_live() -> Result<Option<Running>, Error> {
    if std::env::var_os(format!("{LIVE_ENV_PREFIX}POS_BASE_URL")).is_none() {
        return Ok(None);
    }
    let config = SessionmConfig::from_env_prefix(LIVE_ENV_PREFIX)?;
    let currency = config.currency;
    let adapter = SessionmAdapter::new(config)?;
    // A live tenant's members are not ours to change: the suite runs with a fresh one, and a
    // basket in the store's currency (SessionM payloads carry none).
    let scratch = Environment::new("unknown", Basket::new(currency));
    let (phone, email) = (scratch.fresh_phone(), scratch.fresh_email());
    let members = adapter.members().ok_or_else(|| Error::unsupported("sessionm", "members.register"))?;
    let req = RegisterMember::new()
        .with_phone(phone.clone())
        .with_email(email.clone())
        .with_name("Loyalty Bridge", "Conformance")
        .with_consents(Consents { membership: true, order_history: true, ..Consents::default() });
    let member = members.register(&Context::new(), &req).await?;
    let unit = Money::new(10i64.pow(currency.exponent()) * 100, currency);
    let basket = Basket::new(currency).with_line(Line::new("1", "LB-CONFORMANCE", Decimal::from(2), unit));
    let env = Environment::new(member.id, basket)
        .with_lookup(MemberLookup::Phone(phone))
        .with_lookup(MemberLookup::Email(email));
    Ok(Some(Running {
        provider: Box::new(adapter),
        env,
        target: Target::Live,
        info: Vec::new(),
        _keep: Vec::new(),
    }))
}

/// The simulator alone, for `loyalty sim sessionm`: one server answers the POS, Connect and
/// Core families.
async fn sim(request: crate::registry::SimRequest) -> Result<crate::registry::SimRunning, Error> {
    let settings: SessionmSettings = request.settings("sessionm")?;
    // The adapter's hold expiry must match the locks this simulator keeps.
    let lock_ttl = format!("{}s", settings.lock_ttl_secs);
    let s = |v: &str| v.to_string();
    let server = loyalty_sim::sessionm::SessionmSim::start_on_port(
        settings,
        request.clock.clone(),
        request.port,
        request.control,
    )
    .await
    .map_err(crate::registry::sim_failed("sessionm"))?
    .0;
    let url = server.base_url().to_string();
    Ok(crate::registry::SimRunning {
        credentials: vec![
            ("pos_key", demo::POS_KEY.into()),
            ("pos_secret", demo::POS_SECRET.into()),
            ("connect_key", demo::CONNECT_KEY.into()),
            ("connect_secret", demo::CONNECT_SECRET.into()),
            ("api_key", demo::API_KEY.into()),
            ("s2s_secret", demo::S2S_SECRET.into()),
        ],
        provider: vec![
            ("kind", s("sessionm")),
            ("pos_base_url", url.clone()),
            ("pos_key", s(demo::POS_KEY)),
            ("pos_secret_env", s("LOYALTY_SESSIONM_POS_SECRET")),
            ("connect_base_url", url.clone()),
            ("connect_key", s(demo::CONNECT_KEY)),
            ("connect_secret_env", s("LOYALTY_SESSIONM_CONNECT_SECRET")),
            ("core_base_url", url.clone()),
            ("api_key_env", s("LOYALTY_SESSIONM_API_KEY")),
            ("s2s_secret_env", s("LOYALTY_SESSIONM_S2S_SECRET")),
            ("retailer_id", s(demo::RETAILER_ID)),
            ("client_id", s(demo::CLIENT_ID)),
            ("store_id", s(demo::STORE_ID)),
            ("currency", s(demo::CURRENCY)),
            ("external_id_type", s(demo::EXTERNAL_ID_TYPE)),
            ("lock_ttl", lock_ttl),
        ],
        secrets: vec![
            ("LOYALTY_SESSIONM_POS_SECRET", demo::POS_SECRET.into()),
            ("LOYALTY_SESSIONM_CONNECT_SECRET", demo::CONNECT_SECRET.into()),
            ("LOYALTY_SESSIONM_API_KEY", demo::API_KEY.into()),
            ("LOYALTY_SESSIONM_S2S_SECRET", demo::S2S_SECRET.into()),
        ],
        setup_vars: Vec::new(),
        url,
        _keep: Box::new(server),
    })
}
