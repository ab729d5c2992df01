//! eManage: its simulator in-process, or a live campaign from `LOYALTY_LIVE_EMANAGE_*`.

use loyalty_conformance::{Environment, Target};
use loyalty_core::{Basket, Error, Provider};
use loyalty_emanage::config::LIVE_ENV_PREFIX;
use loyalty_emanage::{simulated, EmanageAdapter, EmanageConfig};
use loyalty_sim::emanage::{demo, EmanageSettings};
use loyalty_sim::SimClock;

use crate::registry::{Entry, Running};

/// The registry entry.
pub fn entry() -> Entry {
    Entry {
        name: "emanage",
        capabilities: || match simulated::config_for("http://127.0.0.1:1").and_then(EmanageAdapter::new) {
            Ok(a) => a.capabilities().clone(),
            Err(e) => panic!("the simulator configuration is valid: {e}"),
        },
        embedded: || Box::pin(start_simulated()),
        live: || Box::pin(start_live()),
        // What `EmanageConfig::build` requires, and the URL (under either name the config
        // reads): the config defaults to the production sales API, but a conformance run writes
        // carts and checkouts, so it runs live only against a URL someone named.
        live_vars: &[
            &["LOYALTY_LIVE_EMANAGE_URL", "LOYALTY_LIVE_EMANAGE_BASE_URL"],
            &["LOYALTY_LIVE_EMANAGE_CID"],
            &["LOYALTY_LIVE_EMANAGE_WEB_KEY"],
            &["LOYALTY_LIVE_EMANAGE_CURRENCY"],
        ],
        // Nothing to set up: a campaign's web key and its products are chosen in the CRM.
        setup: None,
        simulator: Some(|request| Box::pin(sim(request))),
    }
}

async fn start_simulated() -> Result<Running, Error> {
    let sim = simulated::start_with(EmanageSettings::default(), SimClock::default()).await?;
    let env = simulated::environment(&sim);
    // Demo values of the simulator, not secrets: printing them is what `loyalty sim` is for.
    let info = vec![
        ("url", format!("{}/api", sim.server.base_url())),
        ("x_cid", demo::CID.to_string()),
        ("web_key", demo::WEB_KEY.to_string()),
        ("card_approve", demo::PAN_APPROVE.to_string()),
        ("card_decline", demo::PAN_DECLINE.to_string()),
        ("paypal_processor", demo::PROCESSOR_PAYPAL.to_string()),
    ];
    Ok(Running {
        provider: Box::new(sim.adapter),
        env,
        target: Target::Simulator,
        info,
        _keep: vec![Box::new(sim.server)],
    })
}

/// A live campaign: offers and honesty run; the cart scenarios need products the suite cannot
/// guess on a live campaign and are reported skipped.
async fn start_live() -> Result<Option<Running>, Error> {
    if ["URL", "BASE_URL"].iter().all(|k| std::env::var_os(format!("{LIVE_ENV_PREFIX}{k}")).is_none()) {
        return Ok(None);
    }
    let config = EmanageConfig::from_env_prefix(LIVE_ENV_PREFIX)?;
    let env = Environment::new("guest", Basket::new(config.currency));
    let adapter = EmanageAdapter::new(config)?;
    Ok(Some(Running {
        provider: Box::new(adapter),
        env,
        target: Target::Live,
        info: Vec::new(),
        _keep: Vec::new(),
    }))
}

/// The simulator alone, for `loyalty sim emanage`.
async fn sim(request: crate::registry::SimRequest) -> Result<crate::registry::SimRunning, Error> {
    let settings: EmanageSettings = request.settings("emanage")?;
    let s = |v: &str| v.to_string();
    let server = loyalty_sim::emanage::EmanageSim::start_on_port(
        settings,
        request.clock.clone(),
        request.port,
        request.control,
    )
    .await
    .map_err(crate::registry::sim_failed("emanage"))?
    .0;
    let url = format!("{}/api", server.base_url());
    let products =
        [demo::PRODUCT_TIER_100, demo::PRODUCT_TIER_60, demo::PRODUCT_TIER_33_33].map(|p| p.to_string());
    Ok(crate::registry::SimRunning {
        credentials: vec![
            ("x_cid", demo::CID.into()),
            ("web_key", demo::WEB_KEY.into()),
            ("card_approve", demo::PAN_APPROVE.into()),
            ("card_decline", demo::PAN_DECLINE.into()),
        ],
        provider: vec![
            ("kind", s("emanage")),
            ("base_url", url.clone()),
            ("cid_env", s("LOYALTY_EMANAGE_CID")),
            ("web_key", s(demo::WEB_KEY)),
            ("currency", s("USD")),
            ("progressive_tiers", s("1:25,2:50")),
            ("progressive_product_ids", products.join(",")),
        ],
        secrets: vec![("LOYALTY_EMANAGE_CID", demo::CID.into())],
        setup_vars: Vec::new(),
        url,
        _keep: Box::new(server),
    })
}
