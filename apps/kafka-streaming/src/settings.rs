//! The app's configuration: the kit's `server`, `faults` and `admin` sections plus
//! `kafka`, `roles`, `events`, `worker` and `scenarios`, with built-in defaults in
//! `config/default.yaml`.

use std::num::NonZeroUsize;
use std::time::Duration;

use serde::Deserialize;
use service_kit::config::{Check, ServerSettings, Validate};
use service_kit::faults::FaultSettings;
use service_kit::faults::admin::AdminSettings;

/// Every key with its default value, embedded in the binary.
pub const DEFAULTS: &str = include_str!("../config/default.yaml");

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Listener and drain.
    pub server: ServerSettings,
    /// Broker, topics and client tuning.
    pub kafka: KafkaSettings,
    /// Which roles this process plays.
    pub roles: RoleSettings,
    /// Limits of the events API.
    pub events: EventSettings,
    /// The consumer worker.
    pub worker: WorkerSettings,
    /// Tuning of the app's fault scenarios.
    pub scenarios: ScenarioSettings,
    /// Fault switches (the kit's model).
    pub faults: FaultSettings,
    /// The admin endpoint.
    pub admin: AdminSettings,
}

/// `kafka.*`: where the broker is, the topics, and the client's timeouts.
#[derive(Debug, Clone, Deserialize)]
pub struct KafkaSettings {
    /// `host:port[,host:port...]`.
    pub bootstrap_servers: String,
    /// `client.id` of every client (the broker logs and quotas see it).
    pub client_id: String,
    /// The worker's consumer group.
    pub group_id: String,
    /// Where the API publishes events.
    pub input_topic: String,
    /// Where the worker writes results.
    pub output_topic: String,
    /// Where poison messages go.
    pub dead_letter_topic: String,
    /// Create missing topics at start-up.
    pub create_topics: bool,
    /// Partitions of created topics.
    pub partitions: i32,
    /// Replicas of created topics.
    pub replication_factor: i32,
    /// Longest wait for a publish's acknowledgement.
    #[serde(with = "humantime_serde")]
    pub message_timeout: Duration,
    /// How long the producer waits to fill a batch (`linger.ms`): every single-event
    /// request waits it before its acknowledgement can come.
    #[serde(with = "humantime_serde")]
    pub linger: Duration,
    /// `topic.metadata.refresh.interval.ms`.
    #[serde(with = "humantime_serde")]
    pub metadata_refresh_interval: Duration,
    /// Longest wait for metadata, offsets and watermarks.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

impl KafkaSettings {
    /// The three topics.
    pub fn topics(&self) -> [&str; 3] {
        [
            &self.input_topic,
            &self.output_topic,
            &self.dead_letter_topic,
        ]
    }
}

/// `roles.*`: the chart can run the API and the worker apart.
#[derive(Debug, Clone, Deserialize)]
pub struct RoleSettings {
    /// Serve the events API (the producer).
    pub api: bool,
    /// Run the consumer group worker.
    pub worker: bool,
}

/// `events.*`: request limits.
#[derive(Debug, Clone, Deserialize)]
pub struct EventSettings {
    /// Most events in one batch.
    pub max_batch: usize,
    /// Largest serialized payload.
    pub max_payload_bytes: usize,
}

/// `worker.*`: retries, commits, de-duplication.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkerSettings {
    /// Attempts before dead-lettering.
    pub max_attempts: u32,
    /// First pause between attempts.
    #[serde(with = "humantime_serde")]
    pub retry_backoff: Duration,
    /// Longest time processed offsets stay uncommitted.
    #[serde(with = "humantime_serde")]
    pub commit_interval: Duration,
    /// Event ids remembered.
    pub dedupe_capacity: usize,
    /// Messages processed at once (their results' publishes pipelined); at least 1.
    pub max_in_flight: NonZeroUsize,
    /// On stop: longest wait for the messages in flight, and again for the final
    /// commit (a broker already gone must not hang the drain).
    #[serde(with = "humantime_serde")]
    pub stop_timeout: Duration,
}

/// `scenarios.*`: how strong the app's faults are.
#[derive(Debug, Clone, Deserialize)]
pub struct ScenarioSettings {
    /// `slow_consumer`: pause per affected message.
    #[serde(with = "humantime_serde")]
    pub slow_consumer_delay: Duration,
    /// `producer_burst`: copies per affected request.
    pub burst_copies: u32,
}

// Every duration, rate and size, range-checked at start-up (exit 2 naming the key):
// a zero interval or rate would panic or stop work later.
impl Validate for Settings {
    fn validate(&self, check: &mut Check) {
        self.server.validate(check);
        self.faults.validate(check);
        let kafka = &self.kafka;
        check.not_empty("kafka.bootstrap_servers", &kafka.bootstrap_servers);
        check.not_empty("kafka.client_id", &kafka.client_id);
        check.not_empty("kafka.group_id", &kafka.group_id);
        for (key, topic) in [
            ("kafka.input_topic", &kafka.input_topic),
            ("kafka.output_topic", &kafka.output_topic),
            ("kafka.dead_letter_topic", &kafka.dead_letter_topic),
        ] {
            let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
            if topic.is_empty() || topic.len() > 249 || !topic.chars().all(legal) {
                check.fail(
                    key,
                    format!("`{topic}` is not a topic name (1-249 of a-z A-Z 0-9 . _ -)"),
                );
            }
        }
        check.range("kafka.partitions", kafka.partitions, 1, 10_000);
        check.range("kafka.replication_factor", kafka.replication_factor, 1, 100);
        // librdkafka: linger.ms up to 900 000; message.timeout.ms 0 means forever and
        // must exceed linger.ms.
        check.duration("kafka.linger", kafka.linger, Duration::ZERO, 900 * SECOND);
        check.duration(
            "kafka.message_timeout",
            kafka.message_timeout,
            kafka.linger + MILLISECOND,
            HOUR,
        );
        check.duration(
            "kafka.metadata_refresh_interval",
            kafka.metadata_refresh_interval,
            10 * MILLISECOND,
            HOUR,
        );
        check.duration(
            "kafka.request_timeout",
            kafka.request_timeout,
            MILLISECOND,
            HOUR,
        );
        let events = &self.events;
        check.range(
            "events.max_batch",
            events.max_batch,
            1,
            crate::event::MAX_BATCH,
        );
        let body = usize::try_from(self.server.max_body_bytes).unwrap_or(usize::MAX);
        check.range(
            "events.max_payload_bytes",
            events.max_payload_bytes,
            1,
            body,
        );
        let worker = &self.worker;
        check.range("worker.max_attempts", worker.max_attempts, 1, 100);
        check.duration(
            "worker.retry_backoff",
            worker.retry_backoff,
            Duration::ZERO,
            HOUR,
        );
        check.duration(
            "worker.commit_interval",
            worker.commit_interval,
            MILLISECOND,
            HOUR,
        );
        check.range(
            "worker.dedupe_capacity",
            worker.dedupe_capacity,
            1,
            10_000_000,
        );
        check.range(
            "worker.max_in_flight",
            worker.max_in_flight.get(),
            1,
            100_000,
        );
        check.duration(
            "worker.stop_timeout",
            worker.stop_timeout,
            MILLISECOND,
            HOUR,
        );
        let scenarios = &self.scenarios;
        check.duration(
            "scenarios.slow_consumer_delay",
            scenarios.slow_consumer_delay,
            Duration::ZERO,
            HOUR,
        );
        check.range("scenarios.burst_copies", scenarios.burst_copies, 1, 1000);
    }
}

const MILLISECOND: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_load() {
        let settings: Settings = service_kit::config::load_from(DEFAULTS, None, []).unwrap();
        assert_eq!(settings.server.port, 8083);
        assert!(settings.roles.api && settings.roles.worker);
        assert_eq!(
            settings.kafka.metadata_refresh_interval,
            Duration::from_secs(30)
        );
        assert!(settings.faults.scenarios.contains_key("poison_rate"));
    }

    #[test]
    fn a_mistyped_kafka_key_is_named() {
        let err = service_kit::config::load_from::<Settings>(
            DEFAULTS,
            None,
            [("APP__KAFKA__GROPU_ID".to_owned(), "x".to_owned())],
        )
        .unwrap_err();
        assert!(err.to_string().contains("kafka.gropu_id"), "{err}");
    }

    #[test]
    fn a_bad_worker_value_is_named() {
        for (key, value) in [
            ("APP__WORKER__MAX_IN_FLIGHT", "0"),
            ("APP__WORKER__STOP_TIMEOUT", "soon"),
        ] {
            let err = service_kit::config::load_from::<Settings>(
                DEFAULTS,
                None,
                [(key.to_owned(), value.to_owned())],
            )
            .unwrap_err();
            let name = key
                .trim_start_matches("APP__")
                .replace("__", ".")
                .to_lowercase();
            assert!(err.to_string().contains(&name), "{key}: {err}");
        }
    }

    #[test]
    fn every_setting_out_of_its_range_is_named() {
        let defaults: Settings =
            service_kit::config::load_from(DEFAULTS, None, Vec::new()).unwrap();
        Check::run(&defaults).unwrap();
        for (env, value, key) in [
            (
                "APP__WORKER__COMMIT_INTERVAL",
                "0s",
                "worker.commit_interval",
            ),
            ("APP__KAFKA__MESSAGE_TIMEOUT", "0s", "kafka.message_timeout"),
            ("APP__KAFKA__INPUT_TOPIC", "no topic", "kafka.input_topic"),
            ("APP__EVENTS__MAX_BATCH", "0", "events.max_batch"),
            (
                "APP__WORKER__DEDUPE_CAPACITY",
                "0",
                "worker.dedupe_capacity",
            ),
        ] {
            let settings: Settings = service_kit::config::load_from(
                DEFAULTS,
                None,
                vec![(env.to_owned(), value.to_owned())],
            )
            .unwrap();
            let err = Check::run(&settings).unwrap_err().to_string();
            assert!(err.contains(&format!("`{key}`")), "{env}={value}: {err}");
        }
    }
}
