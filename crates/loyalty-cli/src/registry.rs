//! The provider registry: one entry per adapter. Adding an adapter is one cargo feature and
//! one line in [`adapters`].

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use loyalty_conformance::{Environment, Target};
use loyalty_core::{Capabilities, Error, Provider};

/// A provider ready to use, with what keeps it alive (an in-process simulator).
pub struct Running {
    /// The provider.
    pub provider: Box<dyn Provider>,
    /// What the conformance suite needs to know about its data.
    pub env: Environment,
    /// Memory, simulator or live.
    pub target: Target,
    /// How to reach it by hand (simulator URL, demo credentials), for `loyalty sim`.
    pub info: Vec<(&'static str, String)>,
    /// Simulator servers and the like; dropped with the provider.
    pub _keep: Vec<Box<dyn Any + Send>>,
}

type Start = fn() -> Pin<Box<dyn Future<Output = Result<Running, Error>>>>;
type StartLive = fn() -> Pin<Box<dyn Future<Output = Result<Option<Running>, Error>>>>;
type Setup = fn(bool) -> Pin<Box<dyn Future<Output = Result<String, Error>>>>;
/// How `loyalty sim` asks for a simulator: port, clock, control API, and the vendor's settings
/// (the JSON form of its settings type; `None` for the defaults).
pub struct SimRequest {
    /// Port on 127.0.0.1 (0 = any free one).
    pub port: u16,
    /// The simulator's clock.
    pub clock: loyalty_sim::SimClock,
    /// Serve the control API.
    pub control: bool,
    /// The vendor's settings.
    pub settings: Option<serde_json::Value>,
}

impl SimRequest {
    /// The settings as the vendor's type, defaults where none were given.
    pub fn settings<T: serde::de::DeserializeOwned + Default>(&self, vendor: &str) -> Result<T, Error> {
        match &self.settings {
            None => Ok(T::default()),
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| Error::invalid(vendor, "sim.settings", "settings", e.to_string())),
        }
    }
}

type StartSim = fn(SimRequest) -> Pin<Box<dyn Future<Output = Result<SimRunning, Error>>>>;

/// A vendor simulator started for `loyalty sim`: where it listens, how to reach it, and the
/// `loyalty.toml` that points the bridge at it.
pub struct SimRunning {
    /// Base URL.
    pub url: String,
    /// Demo credentials and ids, printed for people (not secrets: the simulator's own).
    pub credentials: Vec<(&'static str, String)>,
    /// `[provider]` keys of the ready `loyalty.toml`, in order; secrets go by variable.
    pub provider: Vec<(&'static str, String)>,
    /// The variables the secrets are read from, with the simulator's values.
    pub secrets: Vec<(&'static str, String)>,
    /// The other variables `loyalty setup <vendor>` reads (base URL, client id), with the
    /// simulator's values; empty for a vendor without setup.
    pub setup_vars: Vec<(&'static str, String)>,
    /// The server; dropped when the command ends.
    pub _keep: Box<dyn Any + Send>,
}

/// One adapter in the registry.
pub struct Entry {
    /// Its name on the command line.
    pub name: &'static str,
    /// Its declared capabilities (no I/O).
    pub capabilities: fn() -> Capabilities,
    /// Starts it against its embedded default (the memory store or its simulator).
    pub embedded: Start,
    /// Starts it against a live sandbox from `LOYALTY_LIVE_<VENDOR>_*`; `None` when unset.
    pub live: StartLive,
    /// The variables a live run needs, as groups: every group needs one of its names set to a
    /// value that is not blank, or the vendor is not configured (a group of one name is a
    /// plain required variable). Empty for a provider without a live mode (memory).
    pub live_vars: &'static [&'static [&'static str]],
    /// Asks the vendor (or, with `true`, its simulator) for stores, departments and segments
    /// and writes the TOML configuration; `None` for providers with nothing to set up.
    pub setup: Option<Setup>,
    /// Starts the vendor's simulator on a port and clock for `loyalty sim`; `None` for memory.
    pub simulator: Option<StartSim>,
}

/// Every adapter compiled in.
pub fn adapters() -> Vec<Entry> {
    vec![
        crate::targets::memory::entry(),
        #[cfg(feature = "diller")]
        crate::targets::diller::entry(),
        #[cfg(feature = "sessionm")]
        crate::targets::sessionm::entry(),
        #[cfg(feature = "emanage")]
        crate::targets::emanage::entry(),
        #[cfg(feature = "idosell")]
        crate::targets::idosell::entry(),
    ]
}

/// The adapter called `name`.
pub fn find(name: &str) -> Option<Entry> {
    adapters().into_iter().find(|e| e.name == name)
}

/// How a vendor simulator that would not start is reported by `loyalty sim`.
pub fn sim_failed(vendor: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::new(loyalty_core::ErrorKind::Unavailable, vendor, "sim.start").with_message(e.to_string())
}

impl Entry {
    /// The live variables that are not set (or set blank), one entry per unmet group:
    /// `"A"`, or `"A or B"` when either would do.
    pub fn missing_live_vars(&self) -> Vec<String> {
        missing_vars(self.live_vars, |name| std::env::var_os(name))
    }

    /// Every live variable group, for people: `"A, B or C, D"`.
    pub fn live_vars_text(&self) -> String {
        self.live_vars.iter().map(|g| g.join(" or ")).collect::<Vec<_>>().join(", ")
    }

    /// Starts the entry on its embedded default; a failure is reported on stderr as exit 1.
    pub async fn start_embedded(&self) -> Result<Running, std::process::ExitCode> {
        (self.embedded)().await.map_err(|e| {
            crate::out::error_line(format!("{}: {e}", self.name));
            std::process::ExitCode::from(1)
        })
    }
}

/// The groups of `groups` with no name `lookup` finds set to a value that is not blank (an
/// empty or whitespace-only value counts as missing, as the adapters' configurations read it).
fn missing_vars(groups: &[&[&str]], lookup: impl Fn(&str) -> Option<std::ffi::OsString>) -> Vec<String> {
    let set = |name: &&str| lookup(name).is_some_and(|v| !v.to_string_lossy().trim().is_empty());
    groups.iter().filter(|group| !group.iter().any(set)).map(|group| group.join(" or ")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    const GROUPS: &[&[&str]] = &[&["X_URL", "X_BASE_URL"], &["X_LOGIN"], &["X_PASSWORD", "X_PASSWORD_SHA1"]];

    fn lookup(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v))
    }

    #[test]
    fn a_group_is_met_by_any_of_its_names() {
        let vars = lookup(&[("X_BASE_URL", "https://x"), ("X_LOGIN", "me"), ("X_PASSWORD_SHA1", "ab")]);
        assert_eq!(missing_vars(GROUPS, vars), Vec::<String>::new());
        let vars = lookup(&[("X_URL", "https://x"), ("X_LOGIN", "me"), ("X_PASSWORD", "pw")]);
        assert_eq!(missing_vars(GROUPS, vars), Vec::<String>::new());
    }

    #[test]
    fn an_unmet_group_is_named_whole_and_blank_counts_as_missing() {
        let vars = lookup(&[("X_URL", ""), ("X_BASE_URL", "  "), ("X_LOGIN", "me")]);
        assert_eq!(missing_vars(GROUPS, vars), vec!["X_URL or X_BASE_URL", "X_PASSWORD or X_PASSWORD_SHA1"]);
        assert_eq!(missing_vars(GROUPS, lookup(&[])).len(), 3);
    }

    fn entry(name: &str) -> Entry {
        adapters().into_iter().find(|e| e.name == name).unwrap_or_else(|| panic!("{name} not compiled in"))
    }

    fn groups(name: &str) -> Vec<Vec<&'static str>> {
        entry(name).live_vars.iter().map(|g| g.to_vec()).collect()
    }

    #[cfg(feature = "diller")]
    #[test]
    fn diller_needs_the_store_id_its_configuration_requires() {
        assert_eq!(
            groups("diller"),
            vec![
                vec!["LOYALTY_LIVE_DILLER_URL", "LOYALTY_LIVE_DILLER_BASE_URL"],
                vec!["LOYALTY_LIVE_DILLER_CLIENT_ID"],
                vec!["LOYALTY_LIVE_DILLER_CLIENT_SECRET"],
                vec!["LOYALTY_LIVE_DILLER_STORE_ID"],
            ]
        );
        // Everything but the store id: a skip naming it, not a failing run.
        let vars = lookup(&[
            ("LOYALTY_LIVE_DILLER_URL", "https://diller.example"),
            ("LOYALTY_LIVE_DILLER_CLIENT_ID", "id"),
            ("LOYALTY_LIVE_DILLER_CLIENT_SECRET", "secret"),
        ]);
        assert_eq!(missing_vars(entry("diller").live_vars, vars), vec!["LOYALTY_LIVE_DILLER_STORE_ID"]);
    }

    #[cfg(feature = "idosell")]
    #[test]
    fn idosell_needs_a_password_and_takes_either_url_name() {
        assert_eq!(
            groups("idosell"),
            vec![
                vec!["LOYALTY_LIVE_IDOSELL_URL", "LOYALTY_LIVE_IDOSELL_BASE_URL"],
                vec!["LOYALTY_LIVE_IDOSELL_LOGIN"],
                vec!["LOYALTY_LIVE_IDOSELL_PASSWORD", "LOYALTY_LIVE_IDOSELL_PASSWORD_SHA1"],
                vec!["LOYALTY_LIVE_IDOSELL_DROPSHIPPING_KEY"],
                vec!["LOYALTY_LIVE_IDOSELL_SUITE_PRODUCT"],
                vec!["LOYALTY_LIVE_IDOSELL_SUITE_COURIER"],
                vec!["LOYALTY_LIVE_IDOSELL_SUITE_ADDRESS_ID"],
            ]
        );
        let vars = lookup(&[
            ("LOYALTY_LIVE_IDOSELL_BASE_URL", "https://idosell.example"),
            ("LOYALTY_LIVE_IDOSELL_LOGIN", "shop"),
            ("LOYALTY_LIVE_IDOSELL_PASSWORD", ""),
            ("LOYALTY_LIVE_IDOSELL_DROPSHIPPING_KEY", "k"),
            ("LOYALTY_LIVE_IDOSELL_SUITE_PRODUCT", "p"),
            ("LOYALTY_LIVE_IDOSELL_SUITE_COURIER", "c"),
            ("LOYALTY_LIVE_IDOSELL_SUITE_ADDRESS_ID", "a"),
        ]);
        assert_eq!(
            missing_vars(entry("idosell").live_vars, vars),
            vec!["LOYALTY_LIVE_IDOSELL_PASSWORD or LOYALTY_LIVE_IDOSELL_PASSWORD_SHA1"]
        );
    }

    #[cfg(feature = "emanage")]
    #[test]
    fn emanage_takes_either_url_name() {
        assert_eq!(groups("emanage")[0], vec!["LOYALTY_LIVE_EMANAGE_URL", "LOYALTY_LIVE_EMANAGE_BASE_URL"]);
    }

    #[test]
    fn memory_has_no_live_mode() {
        assert!(entry("memory").live_vars.is_empty());
    }
}
