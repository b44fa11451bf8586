//! A consumer that never subscribes, for what the API and the probe ask the broker:
//! whether the input topic exists, and the group's committed offsets and watermarks
//! (its lag per partition). librdkafka blocks on these: each call runs on a blocking
//! thread, bounded by `kafka.request_timeout`.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Offset, TopicPartitionList};

use super::StoreError;
use super::client::base_config;
use crate::settings::KafkaSettings;

/// Lag of one partition of the group.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The inspector. Cheap to clone.
#[derive(Clone)]
pub struct Inspector {
    consumer: Arc<BaseConsumer>,
    topic: Arc<str>,
    timeout: Duration,
}

impl std::fmt::Debug for Inspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspector")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl Inspector {
    /// An inspector of the input topic for the worker's group.
    pub fn new(settings: &KafkaSettings) -> Result<Self, StoreError> {
        let consumer = base_config(settings, "inspector")
            .set("group.id", &settings.group_id)
            .set("enable.auto.commit", "false")
            .create()?;
        Ok(Self {
            consumer: Arc::new(consumer),
            topic: settings.input_topic.as_str().into(),
            timeout: settings.request_timeout,
        })
    }

    /// Readiness: a bounded metadata fetch of the input topic, which must have
    /// partitions.
    pub async fn check(&self) -> Result<(), String> {
        let (consumer, topic, timeout) = (self.consumer.clone(), self.topic.clone(), self.timeout);
        tokio::task::spawn_blocking(move || {
            let metadata = consumer
                .fetch_metadata(Some(&topic), timeout)
                .map_err(|err| format!("metadata: {err}"))?;
            match metadata.topics().first() {
                Some(found) if found.error().is_none() && !found.partitions().is_empty() => Ok(()),
                _ => Err(format!("topic {topic} does not exist yet")),
            }
        })
        .await
        .map_err(|err| err.to_string())?
    }

    /// The group's lag on the input topic, partition by partition.
    pub async fn lag(&self) -> Result<Vec<PartitionLag>, StoreError> {
        let (consumer, topic, timeout) = (self.consumer.clone(), self.topic.clone(), self.timeout);
        tokio::task::spawn_blocking(move || lag(&consumer, &topic, timeout))
            .await
            .map_err(|err| StoreError::from_message(err.to_string()))?
            .map_err(StoreError::from)
    }
}

fn lag(
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
