//! `spawn_app`: the real application on a free port (test-support's harness) with
//! topics and a group of its own (deleted afterwards), plus request helpers. Plain
//! requests (`get`, `post`, `url`, `wait_ready`, ...) come from test-support through
//! `Deref`.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_streaming::settings::{DEFAULTS, Settings};
use kafka_streaming::startup;
use kafka_streaming::worker::Stats;
use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use reqwest::Response;
use serde_json::{Value, json};
use test_support::kafka::FreshNames;

pub use test_support::app::ADMIN_TOKEN;
pub use test_support::http::assert_problem;
pub use test_support::kafka::{header, read_topic};

/// The app's topics and group, named `<prefix>-<what>`.
const TOPICS: [&str; 3] = ["events", "processed", "dlq"];
const GROUP: &str = "group";

/// Names unique to one test: topics and group.
#[derive(Debug, Clone)]
pub struct Names(pub FreshNames);

impl Names {
    /// Fresh names on the shared broker.
    pub fn fresh() -> Self {
        Self(FreshNames::fresh())
    }

    /// Fresh names on `bootstrap`.
    pub fn on(bootstrap: &str) -> Self {
        Self(FreshNames::on(bootstrap))
    }

    /// Test settings using these names.
    pub fn settings(&self) -> Settings {
        let mut settings: Settings = test_support::app::settings(DEFAULTS, &[]);
        let names = &self.0;
        let kafka = &mut settings.kafka;
        kafka.bootstrap_servers = names.bootstrap.clone();
        kafka.group_id = names.name(GROUP);
        kafka.input_topic = names.name(TOPICS[0]);
        kafka.output_topic = names.name(TOPICS[1]);
        kafka.dead_letter_topic = names.name(TOPICS[2]);
        kafka.partitions = 2;
        kafka.message_timeout = Duration::from_secs(3);
        settings.worker.commit_interval = Duration::from_millis(200);
        settings.worker.retry_backoff = Duration::from_millis(10);
        settings
    }

    /// Deletes the topics and the group (best effort, off the async runtime).
    pub fn cleanup(&self) {
        self.0.cleanup(&TOPICS, GROUP);
    }
}

/// A running app with its own topics; its worker's counters are `state`.
pub struct TestApp {
    /// The app (requests through `Deref`).
    pub app: test_support::app::TestApp<Arc<Stats>>,
    /// The settings it runs with.
    pub settings: Settings,
    names: Names,
    owns_names: bool,
}

/// Starts the app with default test settings on fresh topics.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app on fresh topics after `configure` adjusted its settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut app = start(Names::fresh(), configure).await;
    app.owns_names = true;
    app.wait_ready(Duration::from_secs(30)).await;
    app
}

/// Starts the app on `names` (owned by the caller, who cleans them up), not waiting
/// for readiness.
pub async fn start(names: Names, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = names.settings();
    configure(&mut settings);
    let app = test_support::app::TestApp::start(settings.clone(), startup::build).await;
    TestApp {
        app,
        settings,
        names,
        owns_names: false,
    }
}

impl Deref for TestApp {
    type Target = test_support::app::TestApp<Arc<Stats>>;

    fn deref(&self) -> &Self::Target {
        &self.app
    }
}

impl DerefMut for TestApp {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.app
    }
}

impl TestApp {
    /// Publishes one valid event with `id`, returning the response.
    pub async fn publish(&self, id: &str) -> Response {
        self.post("/api/v1/events", &event(id)).await
    }

    /// The worker's counters.
    pub async fn stats(&self) -> Value {
        self.get("/api/v1/consumer/stats")
            .await
            .json()
            .await
            .unwrap()
    }

    /// Waits until `counter` in the stats reaches `n`.
    pub async fn wait_stat(&self, counter: &str, n: u64, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let stats = self.stats().await;
            if stats[counter].as_u64().unwrap_or_default() >= n {
                return stats;
            }
            assert!(
                started.elapsed() < limit,
                "{counter} < {n} after {limit:?}: {stats}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the group's committed offsets reach the end of the input topic
    /// (`/consumer/lag` total 0); fails the test after `limit`, with the lag and the
    /// worker's counters.
    pub async fn wait_no_lag(&self, limit: Duration) {
        let started = Instant::now();
        loop {
            let lag: Value = self.get("/api/v1/consumer/lag").await.json().await.unwrap();
            if lag["total"] == 0 {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "lag stays {lag} after {limit:?}; worker: {}",
                self.stats().await
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every record of the output topic (waiting until at least `n`).
    pub fn output(&self, n: usize) -> Vec<OwnedMessage> {
        read_topic(
            &self.names.0.bootstrap,
            &self.settings.kafka.output_topic,
            n,
            Duration::from_secs(30),
        )
    }

    /// Every record of the dead-letter topic (waiting until at least `n`).
    pub fn dead_letters(&self, n: usize) -> Vec<OwnedMessage> {
        read_topic(
            &self.names.0.bootstrap,
            &self.settings.kafka.dead_letter_topic,
            n,
            Duration::from_secs(30),
        )
    }

    /// Every record of the input topic (waiting until at least `n`).
    pub fn input(&self, n: usize) -> Vec<OwnedMessage> {
        read_topic(
            &self.names.0.bootstrap,
            &self.settings.kafka.input_topic,
            n,
            Duration::from_secs(30),
        )
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if self.owns_names {
            self.names.cleanup();
        }
    }
}

/// A valid event with `id`.
pub fn event(id: &str) -> Value {
    json!({"id": id, "type": "order.created", "source": "tests", "payload": {"order": id, "amount": 42}})
}

/// The distinct event ids in records keyed by id.
pub fn ids(records: &[OwnedMessage]) -> HashMap<String, usize> {
    let mut ids = HashMap::new();
    for record in records {
        let key = String::from_utf8_lossy(record.key().unwrap_or_default()).into_owned();
        *ids.entry(key).or_default() += 1;
    }
    ids
}
