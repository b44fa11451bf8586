//! Graceful shutdown: one token that SIGTERM or Ctrl-C cancels, which servers and
//! workers watch so they stop accepting, drain, and exit.

use tokio_util::sync::CancellationToken;

/// A shutdown signal shared by everything an app runs. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    /// A signal that only [`Shutdown::trigger`] fires (tests).
    pub fn new() -> Self {
        Self::default()
    }

    /// A signal that SIGTERM (Kubernetes) or Ctrl-C (a terminal) fires.
    pub fn on_signals() -> Self {
        let shutdown = Self::new();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            let name = wait_for_signal().await;
            tracing::info!(signal = name, "shutdown requested; draining");
            trigger.trigger();
        });
        shutdown
    }

    /// Starts the shutdown.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Whether shutdown has started.
    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Completes when shutdown starts.
    pub async fn wait(&self) {
        self.token.cancelled().await;
    }

    /// A child token for a worker: cancelled with this one, or on its own.
    pub fn child(&self) -> CancellationToken {
        self.token.child_token()
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
        },
        Err(err) => {
            tracing::warn!(error = %err, "cannot listen for SIGTERM; only Ctrl-C stops the app");
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn triggering_wakes_every_clone_and_child() {
        let shutdown = Shutdown::new();
        let clone = shutdown.clone();
        let child = shutdown.child();
        assert!(!clone.is_triggered());
        shutdown.trigger();
        clone.wait().await;
        child.cancelled().await;
        assert!(clone.is_triggered());
    }
}
