//! The consumer group worker: reads the input topic, processes each event once (by
//! id), writes results to the output topic and poison to the dead-letter topic, and
//! commits offsets only after processing (at-least-once), between messages.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;
use service_kit::faults::Faults;
use tokio_util::sync::CancellationToken;

use crate::event::{Event, now_ms};
use crate::scenarios::SLOW_CONSUMER;
use crate::settings::Settings;

/// Longest pause between attempts to publish a result while the broker is away.
const MAX_PUBLISH_BACKOFF: Duration = Duration::from_secs(2);

/// What the worker has done since start, for `/api/v1/consumer/stats` and tests.
#[derive(Debug, Default)]
pub struct Stats {
    /// Events processed (a result written).
    pub processed: AtomicU64,
    /// Messages skipped because their event id was already processed.
    pub duplicates: AtomicU64,
    /// Failed processing attempts that were retried.
    pub retries: AtomicU64,
    /// Messages written to the dead-letter topic.
    pub dead_lettered: AtomicU64,
    /// Offset commits sent.
    pub commits: AtomicU64,
}

impl Stats {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The event ids processed recently, oldest forgotten first.
#[derive(Debug)]
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

impl Seen {
    fn new(capacity: usize) -> Self {
        Self {
            ids: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    fn insert(&mut self, id: String) {
        if self.ids.insert(id.clone()) {
            self.order.push_back(id);
            while self.order.len() > self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.ids.remove(&old);
                }
            }
        }
    }
}

/// How one message ended.
enum Outcome {
    /// Processed or dead-lettered (or a duplicate): its offset may be committed.
    Done,
    /// Shutdown came first: leave it uncommitted, the next owner processes it.
    Stopped,
}

/// The consumer group worker.
pub struct Worker {
    consumer: StreamConsumer,
    producer: FutureProducer,
    settings: Arc<Settings>,
    faults: Faults,
    stats: Arc<Stats>,
    seen: Seen,
    pending: BTreeMap<(String, i32), i64>,
    last_commit: Instant,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker subscribed to the input topic (the broker need not be up yet).
    pub fn new(
        settings: Arc<Settings>,
        producer: FutureProducer,
        faults: Faults,
        stats: Arc<Stats>,
    ) -> Result<Self, KafkaError> {
        let kafka = &settings.kafka;
        let consumer: StreamConsumer = crate::kafka::base_config(kafka, "worker")
            .set("group.id", &kafka.group_id)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            .create()?;
        consumer.subscribe(&[&kafka.input_topic])?;
        Ok(Self {
            consumer,
            producer,
            seen: Seen::new(settings.worker.dedupe_capacity),
            settings,
            faults,
            stats,
            pending: BTreeMap::new(),
            last_commit: Instant::now(),
        })
    }

    /// Consumes until `stop` fires (checked between messages), then commits what was
    /// processed and leaves the group.
    pub async fn run(mut self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.settings.worker.commit_interval);
        loop {
            let received = tokio::select! {
                biased;
                () = stop.cancelled() => break,
                _ = tick.tick() => { self.commit(CommitMode::Async); continue; }
                received = self.consumer.recv() => received.map(|m| m.detach()),
            };
            let message = match received {
                Ok(message) => message,
                Err(err) => {
                    tracing::warn!(error = %err, "consumer error");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            if self.faults.roll(SLOW_CONSUMER) {
                tokio::time::sleep(self.settings.scenarios.slow_consumer_delay).await;
            }
            match self.handle(&message, &stop).await {
                Outcome::Done => {
                    self.pending.insert(
                        (message.topic().to_owned(), message.partition()),
                        message.offset() + 1,
                    );
                    if self.last_commit.elapsed() >= self.settings.worker.commit_interval {
                        self.commit(CommitMode::Async);
                    }
                }
                Outcome::Stopped => break,
            }
        }
        self.commit(CommitMode::Sync);
        tracing::info!("worker stopped");
    }

    fn commit(&mut self, mode: CommitMode) {
        self.last_commit = Instant::now();
        if self.pending.is_empty() {
            return;
        }
        let mut list = TopicPartitionList::new();
        for ((topic, partition), offset) in &self.pending {
            if let Err(err) = list.add_partition_offset(topic, *partition, Offset::Offset(*offset))
            {
                tracing::warn!(error = %err, "bad offset");
            }
        }
        match self.consumer.commit(&list, mode) {
            Ok(()) => {
                Stats::bump(&self.stats.commits);
                self.pending.clear();
            }
            Err(err) => tracing::warn!(error = %err, "commit failed; will retry"),
        }
    }

    /// Processes one message with retries; poison goes to the dead-letter topic.
    async fn handle(&mut self, message: &OwnedMessage, stop: &CancellationToken) -> Outcome {
        let max_attempts = self.settings.worker.max_attempts.max(1);
        let mut backoff = self.settings.worker.retry_backoff;
        let mut attempt = 1;
        let error = loop {
            match decode(message) {
                Ok(event) => return self.process(event, attempt, stop).await,
                Err(error) if attempt < max_attempts => {
                    Stats::bump(&self.stats.retries);
                    tracing::debug!(%error, attempt, "processing failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = backoff.saturating_mul(2);
                    attempt += 1;
                }
                Err(error) => break error,
            }
        };
        tracing::warn!(
            %error,
            topic = message.topic(),
            partition = message.partition(),
            offset = message.offset(),
            "poison message; dead-lettering"
        );
        let headers = OwnedHeaders::new()
            .insert(header("x-error", &error))
            .insert(header("x-origin-topic", message.topic()))
            .insert(header(
                "x-origin-partition",
                &message.partition().to_string(),
            ))
            .insert(header("x-origin-offset", &message.offset().to_string()))
            .insert(header("x-attempts", &attempt.to_string()));
        let topic = self.settings.kafka.dead_letter_topic.clone();
        let outcome = self
            .publish(&topic, message.key(), message.payload(), headers, stop)
            .await;
        if matches!(outcome, Outcome::Done) {
            Stats::bump(&self.stats.dead_lettered);
        }
        outcome
    }

    async fn process(&mut self, event: Event, attempts: u32, stop: &CancellationToken) -> Outcome {
        if self.seen.contains(&event.id) {
            Stats::bump(&self.stats.duplicates);
            return Outcome::Done;
        }
        let result = json!({
            "id": event.id,
            "type": event.kind,
            "source": event.source,
            "time": event.time,
            "processed_at": now_ms(),
            "fields": event.payload.len(),
            "attempts": attempts,
        })
        .to_string();
        let topic = self.settings.kafka.output_topic.clone();
        let headers = OwnedHeaders::new().insert(header("content-type", "application/json"));
        let outcome = self
            .publish(
                &topic,
                Some(event.id.as_bytes()),
                Some(result.as_bytes()),
                headers,
                stop,
            )
            .await;
        if matches!(outcome, Outcome::Done) {
            Stats::bump(&self.stats.processed);
            self.seen.insert(event.id);
        }
        outcome
    }

    /// Publishes until the broker acknowledges (a broker outage is not the message's
    /// fault: it is retried, never dead-lettered) or shutdown comes.
    async fn publish(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        headers: OwnedHeaders,
        stop: &CancellationToken,
    ) -> Outcome {
        let mut backoff = self.settings.worker.retry_backoff;
        loop {
            let mut record = FutureRecord::<[u8], [u8]>::to(topic).headers(headers.clone());
            if let Some(key) = key {
                record = record.key(key);
            }
            if let Some(payload) = payload {
                record = record.payload(payload);
            }
            let sent = tokio::select! {
                () = stop.cancelled() => return Outcome::Stopped,
                sent = self.producer.send(record, Timeout::After(self.settings.kafka.message_timeout)) => sent,
            };
            match sent {
                Ok(_) => return Outcome::Done,
                Err((err, _)) => {
                    tracing::warn!(error = %err, topic, "publish failed; retrying");
                    tokio::select! {
                        () = stop.cancelled() => return Outcome::Stopped,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = backoff.saturating_mul(2).min(MAX_PUBLISH_BACKOFF);
                }
            }
        }
    }
}

fn header<'a>(key: &'a str, value: &'a str) -> Header<'a, &'a str> {
    Header {
        key,
        value: Some(value),
    }
}

/// The event in a record, or why it is poison.
pub fn decode(message: &OwnedMessage) -> Result<Event, String> {
    let payload = message.payload().ok_or("the record has no value")?;
    let event: Event =
        serde_json::from_slice(payload).map_err(|err| format!("undecodable event: {err}"))?;
    if let Some(key) = message.key()
        && key != event.id.as_bytes()
    {
        return Err("the record key is not the event id".into());
    }
    Ok(event)
}

/// Reads a header of a record as text (tests and tools use it).
pub fn header_value(message: &OwnedMessage, name: &str) -> Option<String> {
    message.headers().and_then(|headers| {
        headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::Timestamp;

    fn record(key: Option<&[u8]>, value: Option<&[u8]>) -> OwnedMessage {
        OwnedMessage::new(
            value.map(<[u8]>::to_vec),
            key.map(<[u8]>::to_vec),
            "t".into(),
            Timestamp::NotAvailable,
            0,
            7,
            Some(OwnedHeaders::new().insert(header("x-error", "e"))),
        )
    }

    #[test]
    fn decoding_names_the_poison() {
        let good = br#"{"id":"a","type":"t","source":"s","time":1,"payload":{}}"#;
        assert_eq!(decode(&record(Some(b"a"), Some(good))).unwrap().id, "a");
        assert!(decode(&record(Some(b"b"), Some(good))).is_err());
        assert!(decode(&record(None, None)).is_err());
        assert!(
            decode(&record(None, Some(b"\0junk")))
                .unwrap_err()
                .contains("undecodable")
        );
        assert_eq!(
            header_value(&record(None, None), "x-error").as_deref(),
            Some("e")
        );
    }

    #[test]
    fn seen_ids_are_bounded() {
        let mut seen = Seen::new(2);
        for id in ["a", "b", "c"] {
            seen.insert(id.into());
        }
        assert!(!seen.contains("a"));
        assert!(seen.contains("b") && seen.contains("c"));
    }
}
