//! The memory provider under another declaration of its capabilities.

use loyalty_core::{
    Capabilities, Carts, Fulfilment, Holds, Members, Offers, Provider, Redemptions, Transactions,
};

use crate::MemoryProvider;

/// The memory provider declaring other capabilities than its own (and, on request, hiding its
/// holds or answering to another name): what a partial or mistaken adapter, or the provider a
/// shop switched to, looks like to the checkout and the conformance suite, for tests of how
/// they read a declaration.
///
/// ```
/// use loyalty_core::{Provider, Resend};
/// use loyalty_memory::MemoryProvider;
///
/// let p = MemoryProvider::demo().redeclared(|c| c.resend = Resend::Unrecognised);
/// assert_eq!(p.capabilities().resend, Resend::Unrecognised);
/// assert!(p.holds().is_some());
/// assert!(p.clone().hiding_holds().holds().is_none());
/// assert_eq!(p.named("other").name(), "other");
/// ```
#[derive(Clone)]
pub struct Redeclared {
    inner: MemoryProvider,
    caps: Capabilities,
    hide_holds: bool,
    name: Option<&'static str>,
}

impl MemoryProvider {
    /// This provider (sharing its state) declaring its capabilities as `change` leaves them.
    pub fn redeclared(&self, change: impl FnOnce(&mut Capabilities)) -> Redeclared {
        let mut caps = self.capabilities().clone();
        change(&mut caps);
        Redeclared { inner: self.clone(), caps, hide_holds: false, name: None }
    }
}

impl Redeclared {
    /// Also answers `holds()` with `None`.
    pub fn hiding_holds(mut self) -> Redeclared {
        self.hide_holds = true;
        self
    }

    /// Also answers `name()` with `name` (another provider, to the checkout's records).
    pub fn named(mut self, name: &'static str) -> Redeclared {
        self.name = Some(name);
        self
    }
}

impl Provider for Redeclared {
    fn name(&self) -> &str {
        self.name.unwrap_or_else(|| self.inner.name())
    }
    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }
    fn members(&self) -> Option<&dyn Members> {
        self.inner.members()
    }
    fn offers(&self) -> Option<&dyn Offers> {
        self.inner.offers()
    }
    fn holds(&self) -> Option<&dyn Holds> {
        if self.hide_holds {
            None
        } else {
            self.inner.holds()
        }
    }
    fn redemptions(&self) -> Option<&dyn Redemptions> {
        self.inner.redemptions()
    }
    fn transactions(&self) -> Option<&dyn Transactions> {
        self.inner.transactions()
    }
    fn carts(&self) -> Option<&dyn Carts> {
        self.inner.carts()
    }
    fn fulfilment(&self) -> Option<&dyn Fulfilment> {
        self.inner.fulfilment()
    }
}
