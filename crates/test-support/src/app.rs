//! The app under test: its settings (the app's defaults, what every test needs, then
//! the test's own overrides) and [`TestApp`], the real app serving on a free loopback
//! port until the test ends.

use std::future::Future;
use std::ops::Deref;
use std::time::Duration;

use serde::de::DeserializeOwned;
use service_kit::app::Application;
use service_kit::config::{Check, Validate};
use service_kit::shutdown::Shutdown;
use tokio::task::JoinHandle;

use crate::http::HttpClient;

/// The admin token every test app is configured with.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// What every test app runs with: loopback, a free port, a short drain, the admin
/// token, and fault headers on (the test client sends the token with every request:
/// see [`HttpClient`]).
const TEST_SETTINGS: &[(&str, &str)] = &[
    ("APP__SERVER__HOST", "127.0.0.1"),
    ("APP__SERVER__PORT", "0"),
    ("APP__SERVER__DRAIN_TIMEOUT", "5s"),
    ("APP__ADMIN__TOKEN", ADMIN_TOKEN),
    ("APP__FAULTS__HEADERS", "true"),
];

/// The app's settings from its built-in `defaults`, the test settings, then
/// `overrides` (`APP__SECTION__KEY`, value), range-checked as the app's `main` checks
/// them. A bad override fails the test, naming it.
pub fn settings<S: DeserializeOwned + Validate>(defaults: &str, overrides: &[(&str, &str)]) -> S {
    let env = TEST_SETTINGS
        .iter()
        .chain(overrides)
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()));
    service_kit::config::load_from(defaults, None, env)
        .and_then(|settings: S| Check::run(&settings).map(|()| settings))
        .unwrap_or_else(|err| panic!("test settings do not load: {err}"))
}

/// A running app, with what it hands its tests (`state`). Dropping it fires the
/// app's shutdown and stops serving; [`TestApp::stop`] waits for a clean drain.
pub struct TestApp<S = ()> {
    /// Requests to the app.
    pub http: HttpClient,
    /// Fires the app's graceful shutdown.
    pub shutdown: Shutdown,
    /// What the app hands its tests (its store, ...).
    pub state: S,
    port: u16,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl<S> std::fmt::Debug for TestApp<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl<S: Clone + Send + 'static> TestApp<S> {
    /// Builds the app with `build` (the app's own `startup::build`) from `settings`
    /// and serves it; does not wait for readiness.
    pub async fn start<Settings, F, Fut>(settings: Settings, build: F) -> Self
    where
        F: FnOnce(Settings, Shutdown) -> Fut,
        Fut: Future<Output = anyhow::Result<Application<S>>>,
    {
        let shutdown = Shutdown::new();
        let app = build(settings, shutdown.clone())
            .await
            .unwrap_or_else(|err| panic!("the app does not start: {err:#}"));
        let port = app.port();
        let state = app.state().clone();
        let server = tokio::spawn(app.run_until_stopped());
        Self {
            http: HttpClient::new(port),
            shutdown,
            state,
            port,
            server: Some(server),
        }
    }
}

impl<S> TestApp<S> {
    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Fires the shutdown and waits until the app has drained and stopped; fails the
    /// test if serving failed or the drain took longer than `limit`.
    pub async fn stop_within(&mut self, limit: Duration) {
        self.shutdown.trigger();
        if let Some(server) = self.server.take() {
            tokio::time::timeout(limit, server)
                .await
                .unwrap_or_else(|_| panic!("the app did not stop within {limit:?}"))
                .expect("the server task panicked")
                .expect("the server failed");
        }
    }

    /// Like [`TestApp::stop_within`], with a minute to drain.
    pub async fn stop(&mut self) {
        self.stop_within(Duration::from_secs(60)).await;
    }
}

impl<S> Deref for TestApp<S> {
    type Target = HttpClient;

    fn deref(&self) -> &HttpClient {
        &self.http
    }
}

impl<S> Drop for TestApp<S> {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use service_kit::config::ServerSettings;
    use service_kit::faults::FaultSettings;
    use service_kit::faults::admin::AdminSettings;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Settings {
        server: ServerSettings,
        admin: AdminSettings,
        faults: FaultSettings,
        greeting: String,
    }

    impl Validate for Settings {
        fn validate(&self, check: &mut Check) {
            self.server.validate(check);
            self.faults.validate(check);
        }
    }

    const DEFAULTS: &str = "server: {host: 0.0.0.0, port: 8080, drain_timeout: 20s, max_body_bytes: 65536}\nadmin: {token: ''}\nfaults: {headers: false}\ngreeting: hello\n";

    #[test]
    fn tests_run_on_loopback_port_0_with_the_admin_token_and_their_overrides() {
        let settings: Settings = settings(DEFAULTS, &[("APP__GREETING", "hi")]);
        assert_eq!(settings.server.address(), "127.0.0.1:0");
        assert_eq!(settings.server.drain_timeout, Duration::from_secs(5));
        assert_eq!(settings.greeting, "hi");
        assert!(settings.faults.headers);
        use secrecy::ExposeSecret;
        assert_eq!(settings.admin.token.expose_secret(), ADMIN_TOKEN);
    }

    #[test]
    #[should_panic(expected = "server.max_body_bytes")]
    fn an_override_out_of_its_range_fails_the_test_naming_it() {
        let _: Settings = settings(DEFAULTS, &[("APP__SERVER__MAX_BODY_BYTES", "1")]);
    }

    #[test]
    #[should_panic(expected = "greting")]
    fn a_mistyped_override_fails_the_test_naming_it() {
        let _: Settings = settings(DEFAULTS, &[("APP__GRETING", "hi")]);
    }
}
