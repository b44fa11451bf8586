//! `spawn_app`: the real application on a free port with its own topics and group
//! (deleted afterwards), plus request helpers and a reader of whole topics. Plain
//! requests (`get`, `post`, `url`, `wait_ready`, ...) come from [`HttpClient`] through
//! `Deref`.

use std::collections::HashMap;
use std::ops::Deref;
use std::time::{Duration, Instant};

use kafka_streaming::settings::{DEFAULTS, Settings};
use kafka_streaming::startup::Application;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use reqwest::Response;
use serde_json::{Value, json};
use service_kit::shutdown::Shutdown;
use test_support::http::HttpClient;
use tokio::task::JoinHandle;

/// The shared broker of `cargo xtask services up` (override with `TEST_KAFKA`).
pub fn broker() -> String {
    std::env::var("TEST_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// The admin token tests use.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// Names unique to one test: topics and group.
#[derive(Debug, Clone)]
pub struct Names {
    /// `ks-test-<random>`.
    pub prefix: String,
    /// Where the broker is.
    pub bootstrap: String,
}

impl Names {
    /// Fresh names on the shared broker.
    pub fn fresh() -> Self {
        Self::on(&broker())
    }

    /// Fresh names on `bootstrap`.
    pub fn on(bootstrap: &str) -> Self {
        Self {
            prefix: format!("ks-test-{:012x}", fastrand::u64(..) >> 16),
            bootstrap: bootstrap.to_owned(),
        }
    }

    /// Test settings using these names.
    pub fn settings(&self) -> Settings {
        let mut settings: Settings = service_kit::config::load_from(DEFAULTS, None, []).unwrap();
        settings.server.port = 0;
        settings.server.drain_timeout = Duration::from_secs(5);
        let kafka = &mut settings.kafka;
        kafka.bootstrap_servers = self.bootstrap.clone();
        kafka.group_id = format!("{}-group", self.prefix);
        kafka.input_topic = format!("{}-events", self.prefix);
        kafka.output_topic = format!("{}-processed", self.prefix);
        kafka.dead_letter_topic = format!("{}-dlq", self.prefix);
        kafka.partitions = 2;
        kafka.message_timeout = Duration::from_secs(3);
        settings.worker.commit_interval = Duration::from_millis(200);
        settings.worker.retry_backoff = Duration::from_millis(10);
        settings.admin.token = ADMIN_TOKEN.to_owned().into();
        settings
    }

    /// Deletes the topics and the group (best effort, off the async runtime).
    pub fn cleanup(&self) {
        let names = self.clone();
        test_support::http::block_on_own_thread(async move {
            let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
                .set("bootstrap.servers", &names.bootstrap)
                .create()
                .unwrap();
            let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(5)));
            let topics = [
                format!("{}-events", names.prefix),
                format!("{}-processed", names.prefix),
                format!("{}-dlq", names.prefix),
            ];
            let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
            let _ = admin.delete_topics(&topics, &options).await;
            let _ = admin
                .delete_groups(&[&format!("{}-group", names.prefix)], &options)
                .await;
        });
    }
}

/// A running app with its own topics.
pub struct TestApp {
    /// Requests to the app.
    pub http: HttpClient,
    /// Fires the app's graceful shutdown.
    pub shutdown: Shutdown,
    /// The serving task.
    pub server: Option<JoinHandle<std::io::Result<()>>>,
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
    let shutdown = Shutdown::new();
    let app = Application::build(settings.clone(), shutdown.clone())
        .await
        .unwrap();
    let http = HttpClient::new(app.port());
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        http,
        shutdown,
        server: Some(server),
        settings,
        names,
        owns_names: false,
    }
}

impl Deref for TestApp {
    type Target = HttpClient;

    fn deref(&self) -> &HttpClient {
        &self.http
    }
}

impl TestApp {
    /// Stops the app gracefully and waits for it.
    pub async fn stop(&mut self) {
        self.shutdown.trigger();
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }

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
            &self.names.bootstrap,
            &self.settings.kafka.output_topic,
            n,
            Duration::from_secs(30),
        )
    }

    /// Every record of the dead-letter topic (waiting until at least `n`).
    pub fn dead_letters(&self, n: usize) -> Vec<OwnedMessage> {
        read_topic(
            &self.names.bootstrap,
            &self.settings.kafka.dead_letter_topic,
            n,
            Duration::from_secs(30),
        )
    }

    /// Every record of the input topic (waiting until at least `n`).
    pub fn input(&self, n: usize) -> Vec<OwnedMessage> {
        read_topic(
            &self.names.bootstrap,
            &self.settings.kafka.input_topic,
            n,
            Duration::from_secs(30),
        )
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if self.owns_names {
            self.names.cleanup();
        }
    }
}

/// A valid event with `id`.
pub fn event(id: &str) -> Value {
    json!({"id": id, "type": "order.created", "source": "tests", "payload": {"order": id, "amount": 42}})
}

/// Reads `topic` from the beginning until `n` records arrived or `limit` passed,
/// then a little longer to see any extra ones. Blocking.
pub fn read_topic(bootstrap: &str, topic: &str, n: usize, limit: Duration) -> Vec<OwnedMessage> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("reader-{:x}", fastrand::u64(..)))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let started = Instant::now();
    let partitions = loop {
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .unwrap();
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if !partitions.is_empty() || started.elapsed() > limit {
            break partitions;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut list = TopicPartitionList::new();
    for partition in partitions {
        list.add_partition_offset(topic, partition, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&list).unwrap();
    let mut records = Vec::new();
    let mut quiet_since = Instant::now();
    loop {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
            records.push(message.detach());
            quiet_since = Instant::now();
        }
        let enough = records.len() >= n;
        if (enough && quiet_since.elapsed() > Duration::from_millis(500))
            || started.elapsed() > limit
        {
            return records;
        }
    }
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

pub use test_support::http::assert_problem;
