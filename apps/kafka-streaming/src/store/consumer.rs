//! The worker's consumer: a member of `kafka.group_id` on the input topic, with manual
//! commits (at-least-once) and a bounded prefetch.

use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::StoreError;
use super::client::base_config;
use crate::record::{Partition, Record};
use crate::settings::KafkaSettings;

/// The consumer.
pub struct Consumer(StreamConsumer);

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer").finish_non_exhaustive()
    }
}

impl Consumer {
    /// A consumer subscribed to the input topic (the broker need not be up yet).
    pub fn subscribe(settings: &KafkaSettings) -> Result<Self, StoreError> {
        let consumer: StreamConsumer = base_config(settings, "worker")
            .set("group.id", &settings.group_id)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            // Prefetch at most 4 MiB of values and 10 000 messages per partition
            // (librdkafka's defaults: 64 MiB, 100 000): a backlog must not grow the
            // process past its memory limit (each queued message costs several
            // hundred bytes beyond its value). Fetching again 10 ms after the queue
            // was full, not librdkafka's 1 s, keeps the worker fed all the same.
            .set("queued.max.messages.kbytes", "4096")
            .set("queued.min.messages", "10000")
            .set("fetch.queue.backoff.ms", "10")
            .create()?;
        consumer.subscribe(&[&settings.input_topic])?;
        Ok(Self(consumer))
    }

    /// The next record.
    pub async fn recv(&self) -> Result<Record, StoreError> {
        let message = self.0.recv().await?;
        Ok(Record {
            partition: (message.topic().to_owned(), message.partition()),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec),
        })
    }

    /// Commits `offsets` without waiting for the broker.
    pub fn commit(&self, offsets: &[(Partition, i64)]) -> Result<(), StoreError> {
        self.0.commit(&commit_list(offsets), CommitMode::Async)?;
        Ok(())
    }

    /// The final synchronous commit of `offsets` and leaving the group, on a thread of
    /// its own and waited for at most `limit`: with the broker gone, librdkafka may
    /// block far longer, and the drain must not. Whether a commit was made.
    pub async fn close(
        self,
        offsets: Vec<(Partition, i64)>,
        limit: Duration,
    ) -> Result<bool, String> {
        let consumer = self.0;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("worker-close".into())
            .spawn(move || {
                let committed = if offsets.is_empty() {
                    Ok(false)
                } else {
                    consumer
                        .commit(&commit_list(&offsets), CommitMode::Sync)
                        .map(|()| true)
                };
                drop(consumer);
                let _ = sender.send(committed);
            })
            .map_err(|err| format!("cannot start the final commit: {err}"))?;
        match tokio::time::timeout(limit, receiver).await {
            Ok(Ok(Ok(committed))) => Ok(committed),
            Ok(Ok(Err(err))) => Err(format!("final commit failed: {err}")),
            Ok(Err(_)) => Err("the final commit's thread ended without an answer".into()),
            Err(_) => Err(format!(
                "final commit not done within {limit:?} (is the broker gone?)"
            )),
        }
    }
}

fn commit_list(offsets: &[(Partition, i64)]) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for ((topic, partition), offset) in offsets {
        if let Err(err) = list.add_partition_offset(topic, *partition, Offset::Offset(*offset)) {
            tracing::warn!(error = %err, "bad offset");
        }
    }
    list
}
