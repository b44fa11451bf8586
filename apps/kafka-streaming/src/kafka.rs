//! The Kafka clients: their common settings (plaintext, client id, metadata refresh),
//! the idempotent producer, topic creation, the readiness probe and lag per partition.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::FutureProducer;
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::settings::KafkaSettings;

/// Settings every client shares (obi-telemetry.md: plaintext, a client id, metadata
/// refreshed about every 30 s so OBI can resolve topic ids to names).
pub fn base_config(settings: &KafkaSettings, role: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &settings.bootstrap_servers)
        .set("security.protocol", "plaintext")
        .set("client.id", format!("{}-{role}", settings.client_id))
        .set(
            "topic.metadata.refresh.interval.ms",
            millis(settings.metadata_refresh_interval),
        )
        .set("socket.keepalive.enable", "true")
        .set("reconnect.backoff.max.ms", "1000");
    config
}

/// Milliseconds as librdkafka wants them.
pub fn millis(duration: Duration) -> String {
    duration.as_millis().max(1).to_string()
}

/// The idempotent producer: `acks=all`, bounded delivery wait, `kafka.linger`.
pub fn producer(settings: &KafkaSettings, role: &str) -> Result<FutureProducer, KafkaError> {
    base_config(settings, role)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", millis(settings.message_timeout))
        .set("linger.ms", settings.linger.as_millis().to_string())
        .create()
}

/// A consumer that never subscribes: metadata, committed offsets and watermarks.
pub fn inspector(settings: &KafkaSettings) -> Result<BaseConsumer, KafkaError> {
    base_config(settings, "inspector")
        .set("group.id", &settings.group_id)
        .set("enable.auto.commit", "false")
        .create()
}

/// Creates the app's missing topics, retrying while the broker is away, until done
/// or `stop` fires. An existing topic is fine.
pub async fn create_topics(settings: KafkaSettings, stop: CancellationToken) {
    let admin: AdminClient<DefaultClientContext> = match base_config(&settings, "admin").create() {
        Ok(admin) => admin,
        Err(err) => {
            tracing::error!(error = %err, "cannot create the admin client");
            return;
        }
    };
    let options = AdminOptions::new().operation_timeout(Some(settings.request_timeout));
    loop {
        let topics: Vec<NewTopic<'_>> = settings
            .topics()
            .iter()
            .map(|name| {
                NewTopic::new(
                    name,
                    settings.partitions,
                    TopicReplication::Fixed(settings.replication_factor),
                )
            })
            .collect();
        let outcome = tokio::select! {
            () = stop.cancelled() => return,
            outcome = admin.create_topics(&topics, &options) => outcome,
        };
        let failed: Vec<String> = match outcome {
            Ok(results) => results
                .into_iter()
                .filter_map(|result| match result {
                    Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => None,
                    Err((topic, code)) => Some(format!("{topic}: {code}")),
                })
                .collect(),
            Err(err) => vec![err.to_string()],
        };
        if failed.is_empty() {
            tracing::info!(topics = ?settings.topics(), "topics ready");
            return;
        }
        tracing::warn!(errors = ?failed, "cannot create topics yet; retrying");
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Readiness: a bounded metadata fetch of the input topic, which must have partitions.
pub fn check(consumer: &BaseConsumer, topic: &str, timeout: Duration) -> Result<(), String> {
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(|err| format!("metadata: {err}"))?;
    match metadata.topics().first() {
        Some(found) if found.error().is_none() && !found.partitions().is_empty() => Ok(()),
        _ => Err(format!("topic {topic} does not exist yet")),
    }
}

/// Lag of one partition of the group.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
pub struct PartitionLag {
    /// Partition number.
    pub partition: i32,
    /// Next offset the group will process (absent before its first commit).
    pub committed: Option<i64>,
    /// Next offset the broker will write.
    pub high_watermark: i64,
    /// Messages written but not yet processed.
    pub lag: i64,
}

/// The group's lag on `topic`, partition by partition (blocking: call off the runtime).
pub fn lag(
    consumer: &BaseConsumer,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<PartitionLag>, KafkaError> {
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let mut list = TopicPartitionList::new();
    let mut partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    partitions.sort_unstable();
    for partition in &partitions {
        list.add_partition(topic, *partition);
    }
    let committed = consumer.committed_offsets(list, timeout)?;
    partitions
        .into_iter()
        .map(|partition| {
            let (low, high) = consumer.fetch_watermarks(topic, partition, timeout)?;
            let committed =
                committed
                    .find_partition(topic, partition)
                    .and_then(|p| match p.offset() {
                        Offset::Offset(offset) => Some(offset),
                        _ => None,
                    });
            let lag = (high - committed.unwrap_or(low)).max(0);
            Ok(PartitionLag {
                partition,
                committed,
                high_watermark: high,
                lag,
            })
        })
        .collect()
}
