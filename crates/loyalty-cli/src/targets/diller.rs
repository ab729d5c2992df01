//! Diller: its simulator in-process, or a live sandbox from `LOYALTY_LIVE_DILLER_*`.

use loyalty_conformance::Target;
use loyalty_core::{Error, Provider};
use loyalty_diller::config::{ENV_PREFIX, LIVE_ENV_PREFIX};
use loyalty_diller::{simulated, DillerAdapter, DillerConfig};
use loyalty_sim::diller::{demo, DillerSettings};
use loyalty_sim::SimClock;

use crate::registry::{Entry, Running};

/// The registry entry.
pub fn entry() -> Entry {
    Entry {
        name: "diller",
        capabilities: || match simulated::config_for("http://127.0.0.1:1").and_then(DillerAdapter::new) {
            Ok(a) => a.capabilities().clone(),
            Err(e) => panic!("the simulator configuration is valid: {e}"),
        },
        embedded: || Box::pin(start_simulated()),
        live: || Box::pin(start_live()),
        // What `DillerConfig::build` requires; the URL under either name the config reads.
        live_vars: &[
            &["LOYALTY_LIVE_DILLER_URL", "LOYALTY_LIVE_DILLER_BASE_URL"],
            &["LOYALTY_LIVE_DILLER_CLIENT_ID"],
            &["LOYALTY_LIVE_DILLER_CLIENT_SECRET"],
            &["LOYALTY_LIVE_DILLER_STORE_ID"],
        ],
        setup: Some(|simulator| Box::pin(setup(simulator))),
        simulator: Some(|request| Box::pin(sim(request))),
    }
}

async fn start_simulated() -> Result<Running, Error> {
    let sim = simulated::start_with(DillerSettings::default(), SimClock::default()).await?;
    let env = simulated::environment(&sim);
    // Demo credentials of the simulator, not secrets: printing them is what `loyalty sim` is for.
    let info = vec![
        ("url", sim.server.base_url().to_string()),
        ("client_id", demo::CLIENT_ID.to_string()),
        ("client_secret", demo::CLIENT_SECRET.to_string()),
        ("store_id", demo::STORE_ID.to_string()),
        ("department_id", demo::DEPARTMENT_ID.to_string()),
        ("member_id", demo::MEMBER_ID.to_string()),
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
    if ["URL", "BASE_URL"].iter().all(|k| std::env::var_os(format!("{LIVE_ENV_PREFIX}{k}")).is_none()) {
        return Ok(None);
    }
    let config = DillerConfig::from_env_prefix(LIVE_ENV_PREFIX)?;
    let department = config.department_id.clone();
    let adapter = DillerAdapter::new(config)?;
    let env = super::live_environment(&adapter, department).await?;
    Ok(Some(Running {
        provider: Box::new(adapter),
        env,
        target: Target::Live,
        info: Vec::new(),
        _keep: Vec::new(),
    }))
}

/// The TOML configuration for the store `LOYALTY_DILLER_*` names (or the simulator's demo
/// store). Without `LOYALTY_DILLER_STORE_ID` the client id is taken as the store id, as
/// Diller's own Magento module does (`docs/vendors/diller.md`).
async fn setup(simulator: bool) -> Result<String, Error> {
    const SECRET_ENV: &str = "LOYALTY_DILLER_CLIENT_SECRET";
    let ctx = loyalty_core::Context::new();
    if simulator {
        let sim = simulated::start_with(DillerSettings::default(), SimClock::default()).await?;
        return sim.adapter.setup_toml(&ctx, SECRET_ENV).await;
    }
    let mut vars: Vec<(String, String)> = loyalty_diller::config::vars_from_env(ENV_PREFIX)?;
    let has =
        |vars: &[(String, String)], key: &str| vars.iter().any(|(k, _)| k == &format!("{ENV_PREFIX}{key}"));
    if !has(&vars, "STORE_ID") {
        if let Some((_, id)) = vars.iter().find(|(k, _)| k == &format!("{ENV_PREFIX}CLIENT_ID")).cloned() {
            vars.push((format!("{ENV_PREFIX}STORE_ID"), id));
        }
    }
    let adapter = DillerAdapter::new(DillerConfig::from_vars(ENV_PREFIX, vars)?)?;
    adapter.setup_toml(&ctx, SECRET_ENV).await
}

/// The simulator alone, for `loyalty sim diller`.
async fn sim(request: crate::registry::SimRequest) -> Result<crate::registry::SimRunning, Error> {
    let settings: DillerSettings = request.settings("diller")?;
    let s = |v: &str| v.to_string();
    let server = loyalty_sim::diller::DillerSim::start_on_port(
        settings,
        request.clock.clone(),
        request.port,
        request.control,
    )
    .await
    .map_err(crate::registry::sim_failed("diller"))?
    .0;
    let url = server.base_url().to_string();
    Ok(crate::registry::SimRunning {
        credentials: vec![
            ("client_id", demo::CLIENT_ID.into()),
            ("client_secret", demo::CLIENT_SECRET.into()),
            ("store_id", demo::STORE_ID.into()),
            ("department_id", demo::DEPARTMENT_ID.into()),
            ("member phone", demo::MEMBER_PHONE.into()),
        ],
        provider: vec![
            ("kind", s("diller")),
            ("base_url", url.clone()),
            ("client_id", s(demo::CLIENT_ID)),
            ("client_secret_env", s("LOYALTY_DILLER_CLIENT_SECRET")),
            ("store_id", s(demo::STORE_ID)),
            ("department_id", s(demo::DEPARTMENT_ID)),
        ],
        secrets: vec![("LOYALTY_DILLER_CLIENT_SECRET", demo::CLIENT_SECRET.into())],
        setup_vars: vec![
            ("LOYALTY_DILLER_BASE_URL", url.clone()),
            ("LOYALTY_DILLER_CLIENT_ID", s(demo::CLIENT_ID)),
        ],
        url,
        _keep: Box::new(server),
    })
}
