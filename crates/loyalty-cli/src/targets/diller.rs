//! Diller: its simulator in-process, or a live sandbox from `LOYALTY_LIVE_DILLER_*`.

use loyalty_conformance::Target;
use loyalty_core::{Error, Provider};
use loyalty_diller::config::LIVE_ENV_PREFIX;
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
    if std::env::var_os(format!("{LIVE_ENV_PREFIX}URL")).is_none() {
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
