//! Structured JSON logs on stdout: the only signal our apps emit themselves.
//! `RUST_LOG` selects levels (default `info`); nothing is exported anywhere.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber. Safe to call twice (tests): the second call is a no-op.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_env_filter(filter)
        .try_init();
}
