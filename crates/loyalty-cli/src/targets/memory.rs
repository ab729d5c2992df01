//! The in-memory reference provider on its demo store.

use loyalty_conformance::Target;
use loyalty_core::Provider;
use loyalty_memory::MemoryProvider;

use crate::registry::{Entry, Running};

/// The registry entry.
pub fn entry() -> Entry {
    Entry {
        name: "memory",
        capabilities: || MemoryProvider::default().capabilities().clone(),
        embedded: || Box::pin(async { Ok(start()) }),
        live: || Box::pin(async { Ok(None) }),
        live_vars: &[],
        setup: None,
        simulator: None,
    }
}

/// The demo store on a manual clock, with the suite's view of its data.
pub fn start() -> Running {
    let (provider, clock) = MemoryProvider::demo_manual();
    let env = loyalty_conformance::memory::environment(&provider, clock);
    Running { provider: Box::new(provider), env, target: Target::Memory, info: Vec::new(), _keep: Vec::new() }
}
