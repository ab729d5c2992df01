//! The requests whose handlers are still running: [`crate::serve`] waits for them before it
//! returns, so a write whose client hung up is not cut off when the service stops.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// The handlers under way, each named by its request's method and path (what the request log
/// shows: never headers or query strings).
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    running: Mutex<Running>,
    idle: Notify,
}

#[derive(Debug, Default)]
struct Running {
    next: u64,
    requests: BTreeMap<u64, String>,
}

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, Running> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a handler as running until the returned guard is dropped (at its end, or as its
    /// task unwinds from a panic).
    pub(crate) fn start(self: &Arc<Self>, request: String) -> Handler {
        let mut running = self.lock();
        let id = running.next;
        running.next += 1;
        running.requests.insert(id, request);
        Handler { inflight: self.clone(), id }
    }

    /// Returns once no handler is running (at once when none is).
    pub(crate) async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            // Registered before the check, so an end between the check and the wait is seen.
            notified.as_mut().enable();
            if self.lock().requests.is_empty() {
                return;
            }
            notified.await;
        }
    }

    /// The requests still running, oldest first.
    pub(crate) fn running(&self) -> Vec<String> {
        self.lock().requests.values().cloned().collect()
    }
}

/// One running handler; dropping it ends it.
pub(crate) struct Handler {
    inflight: Arc<InFlight>,
    id: u64,
}

impl Drop for Handler {
    fn drop(&mut self) {
        let mut running = self.inflight.lock();
        running.requests.remove(&self.id);
        if running.requests.is_empty() {
            self.inflight.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_waits_for_every_handler_and_running_names_them() {
        let inflight = Arc::new(InFlight::default());
        inflight.idle().await; // none running: at once
        let a = inflight.start("POST /v1/members".into());
        let b = inflight.start("POST /v1/checkouts/o-1/commit".into());
        assert_eq!(inflight.running(), ["POST /v1/members", "POST /v1/checkouts/o-1/commit"]);
        // Polled once: ready only when nothing runs.
        let idle_now = |i: &Arc<InFlight>| {
            let i = i.clone();
            async move { tokio::time::timeout(std::time::Duration::ZERO, i.idle()).await.is_ok() }
        };
        assert!(!idle_now(&inflight).await);
        let waiting = tokio::spawn({
            let inflight = inflight.clone();
            async move { inflight.idle().await }
        });
        drop(a);
        assert!(!idle_now(&inflight).await, "one still runs");
        assert_eq!(inflight.running(), ["POST /v1/checkouts/o-1/commit"]);
        drop(b);
        waiting.await.unwrap();
        assert!(idle_now(&inflight).await);
        assert!(inflight.running().is_empty());
    }
}
