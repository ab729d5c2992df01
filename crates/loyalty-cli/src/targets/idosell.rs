//! IdoSell: its simulator in-process (with the adapter's shipment-notice receiver), or a live
//! wholesaler account from `LOYALTY_LIVE_IDOSELL_*`.

use loyalty_conformance::{Environment, Target};
use loyalty_core::{Basket, Currency, Error, Line, Money, Provider};
use loyalty_idosell::config::LIVE_ENV_PREFIX;
use loyalty_idosell::{simulated, IdosellAdapter, IdosellConfig};
use loyalty_sim::idosell::demo;
use rust_decimal::Decimal;

use crate::registry::{Entry, Running};

/// Live-run variables that describe the wholesaler's data for the suite, not the adapter's
/// configuration: a product in stock, a courier serving the recipient, and a recipient address
/// id of the shop's (the seeded member).
const SUITE_PRODUCT: &str = "SUITE_PRODUCT";
const SUITE_COURIER: &str = "SUITE_COURIER";
const SUITE_ADDRESS_ID: &str = "SUITE_ADDRESS_ID";

/// The registry entry.
pub fn entry() -> Entry {
    Entry {
        name: "idosell",
        capabilities: || {
            let config =
                simulated::config_for("http://127.0.0.1:1", loyalty_idosell::names::Names::default());
            match config.and_then(IdosellAdapter::new) {
                Ok(a) => a.capabilities().clone(),
                Err(e) => panic!("the simulator configuration is valid: {e}"),
            }
        },
        embedded: || Box::pin(start_simulated()),
        live: || Box::pin(start_live()),
        // What `IdosellConfig::build` requires (the URL and the password under either name it
        // reads), then the suite's data.
        live_vars: &[
            &["LOYALTY_LIVE_IDOSELL_URL", "LOYALTY_LIVE_IDOSELL_BASE_URL"],
            &["LOYALTY_LIVE_IDOSELL_LOGIN"],
            &["LOYALTY_LIVE_IDOSELL_PASSWORD", "LOYALTY_LIVE_IDOSELL_PASSWORD_SHA1"],
            &["LOYALTY_LIVE_IDOSELL_DROPSHIPPING_KEY"],
            &["LOYALTY_LIVE_IDOSELL_SUITE_PRODUCT"],
            &["LOYALTY_LIVE_IDOSELL_SUITE_COURIER"],
            &["LOYALTY_LIVE_IDOSELL_SUITE_ADDRESS_ID"],
        ],
        setup: None,
        simulator: Some(|request| Box::pin(sim(request))),
    }
}

async fn start_simulated() -> Result<Running, Error> {
    let sim = simulated::start().await?;
    let env = simulated::environment(&sim);
    // Demo credentials of the simulator, not secrets: printing them is what `loyalty sim` is for.
    let info = vec![
        ("url", sim.server.base_url().to_string()),
        ("login", demo::LOGIN.to_string()),
        ("password", demo::PASSWORD.to_string()),
        ("dropshipping_key", demo::DROPSHIPPING_KEY.to_string()),
        ("member_id", sim.member_id.clone()),
        ("notice_receiver", sim.receiver_url.clone()),
    ];
    let (adapter, keep) = sim.into_parts();
    Ok(Running {
        provider: Box::new(adapter),
        env,
        target: Target::Simulator,
        info,
        _keep: vec![Box::new(keep)],
    })
}

async fn start_live() -> Result<Option<Running>, Error> {
    let vars: Vec<(String, String)> = loyalty_idosell::config::vars_from_env(LIVE_ENV_PREFIX)?;
    if !vars
        .iter()
        .any(|(k, _)| k == &format!("{LIVE_ENV_PREFIX}URL") || k == &format!("{LIVE_ENV_PREFIX}BASE_URL"))
    {
        return Ok(None);
    }
    let suite = |key: &str| {
        vars.iter().find(|(k, _)| k == &format!("{LIVE_ENV_PREFIX}{key}")).map(|(_, v)| v.clone())
    };
    let (product, courier, address) = (suite(SUITE_PRODUCT), suite(SUITE_COURIER), suite(SUITE_ADDRESS_ID));
    let config_vars = vars.iter().filter(|(k, _)| {
        ![SUITE_PRODUCT, SUITE_COURIER, SUITE_ADDRESS_ID]
            .iter()
            .any(|s| k == &format!("{LIVE_ENV_PREFIX}{s}"))
    });
    let config = IdosellConfig::from_vars(LIVE_ENV_PREFIX, config_vars.cloned())?;
    let currency = config.currency;
    let adapter = IdosellAdapter::new(config)?;
    // A wholesaler's account holds no members to create: the suite reads the address it names
    // and leaves the rest skipped.
    let basket = match &product {
        Some(p) => Basket::new(currency).with_line(Line::new(
            "1",
            p.as_str(),
            Decimal::ONE,
            Money::new(100, currency),
        )),
        None => Basket::new(Currency::PLN),
    };
    let mut env =
        Environment::new(address.unwrap_or_else(|| "unknown".into()), basket).with_country_code("+48");
    if let (Some(p), Some(c)) = (product, courier) {
        env = env.with_dropship(p, c);
    }
    Ok(Some(Running {
        provider: Box::new(adapter),
        env,
        target: Target::Live,
        info: Vec::new(),
        _keep: Vec::new(),
    }))
}

/// The simulator alone, for `loyalty sim idosell`.
async fn sim(request: crate::registry::SimRequest) -> Result<crate::registry::SimRunning, Error> {
    let settings: loyalty_sim::idosell::IdosellSettings = request.settings("idosell")?;
    let s = |v: &str| v.to_string();
    let (server, probe) = loyalty_sim::idosell::IdosellSim::start_on_port(
        settings,
        request.clock.clone(),
        request.port,
        request.control,
    )
    .await
    .map_err(crate::registry::sim_failed("idosell"))?;
    // One order of the shop's already at the wholesaler: its recipient is the demo member.
    let member = probe.seed_orders(demo::LOGIN, 1).first().and_then(|o| probe.order_address_id(o));
    let url = server.base_url().to_string();
    let billing = simulated::demo_billing();
    let address = billing.address.clone();
    Ok(crate::registry::SimRunning {
        credentials: vec![
            ("login", demo::LOGIN.into()),
            ("password", demo::PASSWORD.into()),
            ("dropshipping_key", demo::DROPSHIPPING_KEY.into()),
            ("member_id", member.map(|m| m.to_string()).unwrap_or_default()),
        ],
        provider: vec![
            ("kind", s("idosell")),
            ("base_url", url.clone()),
            ("login", s(demo::LOGIN)),
            ("password_env", s("LOYALTY_IDOSELL_PASSWORD")),
            ("dropshipping_key_env", s("LOYALTY_IDOSELL_DROPSHIPPING_KEY")),
            ("default_courier_id", demo::COURIER_DOMESTIC.to_string()),
            ("billing_company", billing.company.clone()),
            ("billing_tax_id", billing.tax_id.clone()),
            ("billing_street", address.street.unwrap_or_default()),
            ("billing_postcode", address.zip_code.unwrap_or_default()),
            ("billing_city", address.city.unwrap_or_default()),
            ("billing_country", address.country_code.unwrap_or_default()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect(),
        secrets: vec![
            ("LOYALTY_IDOSELL_PASSWORD", demo::PASSWORD.into()),
            ("LOYALTY_IDOSELL_DROPSHIPPING_KEY", demo::DROPSHIPPING_KEY.into()),
        ],
        setup_vars: Vec::new(),
        url,
        _keep: Box::new(server),
    })
}
