//! The consumer group worker: reads the input topic, processes each event once (by
//! id), writes results to the output topic and poison to the dead-letter topic, and
//! commits offsets only after processing (at-least-once), in offset order, while
//! many messages are in flight at once.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
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

    /// Remembers `id`; false when it was already remembered (a duplicate).
    fn insert(&mut self, id: &str) -> bool {
        if self.ids.contains(id) {
            return false;
        }
        self.ids.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }
}

/// How one message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Processed or dead-lettered (or a duplicate): its offset may be committed.
    Done,
    /// Shutdown came first: leave it uncommitted, the next owner processes it.
    Stopped,
}

/// A partition of the input topic.
type Partition = (String, i32);

/// One partition's messages in flight, for commits in offset order: the committable
/// offset is the lowest one still in flight (every earlier message is done), or one
/// past the highest done when nothing is in flight.
#[derive(Debug, Default)]
struct Progress {
    in_flight: BTreeSet<i64>,
    done_upto: Option<i64>,
    committed: Option<i64>,
}

impl Progress {
    fn committable(&self) -> Option<i64> {
        self.in_flight.first().copied().or(self.done_upto)
    }
}

/// Offsets in flight and done, per partition.
#[derive(Debug, Default)]
struct Offsets {
    partitions: BTreeMap<Partition, Progress>,
}

impl Offsets {
    /// A message was handed to processing.
    fn start(&mut self, partition: Partition, offset: i64) {
        self.partitions
            .entry(partition)
            .or_default()
            .in_flight
            .insert(offset);
    }

    /// A message's processing is done: it may be committed once every earlier one is.
    fn finish(&mut self, partition: &Partition, offset: i64) {
        if let Some(progress) = self.partitions.get_mut(partition) {
            progress.in_flight.remove(&offset);
            progress.done_upto = progress.done_upto.max(Some(offset + 1));
        }
    }

    /// Offsets to commit: every partition whose committable offset moved past its last
    /// commit (or every partition with one, when `all`).
    fn to_commit(&self, all: bool) -> Vec<(Partition, i64)> {
        self.partitions
            .iter()
            .filter_map(|(partition, progress)| {
                let offset = progress.committable()?;
                (all || progress.committed < Some(offset)).then(|| (partition.clone(), offset))
            })
            .collect()
    }

    /// Records a commit of `offsets`.
    fn committed(&mut self, offsets: &[(Partition, i64)]) {
        for (partition, offset) in offsets {
            if let Some(progress) = self.partitions.get_mut(partition) {
                progress.committed = progress.committed.max(Some(*offset));
            }
        }
    }

    fn in_flight(&self) -> usize {
        self.partitions.values().map(|p| p.in_flight.len()).sum()
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

/// What every message's processing shares.
struct Shared {
    producer: FutureProducer,
    settings: Arc<Settings>,
    stats: Arc<Stats>,
    seen: Mutex<Seen>,
}

/// A message's processing: its partition, offset and how it ended.
type Job = Pin<Box<dyn Future<Output = (Partition, i64, Outcome)> + Send>>;

/// The consumer group worker.
///
/// Messages are processed concurrently (at most `worker.max_in_flight` at a time, so
/// result publishes are pipelined instead of each awaiting its acknowledgement), and
/// offsets are committed in order: a partition's offset advances only past messages
/// that are done, every earlier one included.
pub struct Worker {
    consumer: StreamConsumer,
    shared: Arc<Shared>,
    faults: Faults,
    offsets: Offsets,
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
            // Prefetch at most 4 MiB of values and 10 000 messages per partition
            // (librdkafka's defaults: 64 MiB, 100 000): a backlog must not grow the
            // process past its memory limit (each queued message costs several
            // hundred bytes beyond its value). Fetching again 10 ms after the queue
            // was full, not librdkafka's 1 s, keeps the worker fed all the same.
            .set("queued.max.messages.kbytes", "4096")
            .set("queued.min.messages", "10000")
            .set("fetch.queue.backoff.ms", "10")
            .create()?;
        consumer.subscribe(&[&kafka.input_topic])?;
        Ok(Self {
            consumer,
            shared: Arc::new(Shared {
                producer,
                seen: Mutex::new(Seen::new(settings.worker.dedupe_capacity)),
                settings,
                stats,
            }),
            faults,
            offsets: Offsets::default(),
            last_commit: Instant::now(),
        })
    }

    /// Consumes until `stop` fires, then waits (at most `worker.stop_timeout`) for
    /// the messages in flight, commits what is done (bounded by `worker.stop_timeout`
    /// too, so a broker already gone cannot hang the drain) and leaves the group.
    pub async fn run(mut self, stop: CancellationToken) {
        let settings = self.shared.settings.clone();
        let max_in_flight = settings.worker.max_in_flight.get();
        let abandon = CancellationToken::new();
        let mut jobs: FuturesUnordered<Job> = FuturesUnordered::new();
        let mut tick = tokio::time::interval(settings.worker.commit_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                _ = tick.tick() => self.commit(),
                Some((partition, offset, outcome)) = jobs.next(), if !jobs.is_empty() => {
                    if outcome == Outcome::Done {
                        self.offsets.finish(&partition, offset);
                    }
                    if self.last_commit.elapsed() >= settings.worker.commit_interval {
                        self.commit();
                    }
                }
                received = self.consumer.recv(), if jobs.len() < max_in_flight => {
                    let message = match received {
                        Ok(message) => message.detach(),
                        Err(err) => {
                            tracing::warn!(error = %err, "consumer error");
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            continue;
                        }
                    };
                    if self.faults.roll(SLOW_CONSUMER) {
                        tokio::time::sleep(settings.scenarios.slow_consumer_delay).await;
                    }
                    let partition = (message.topic().to_owned(), message.partition());
                    let offset = message.offset();
                    self.offsets.start(partition.clone(), offset);
                    let shared = self.shared.clone();
                    let abandon = abandon.clone();
                    jobs.push(Box::pin(async move {
                        let outcome = handle(&shared, &message, &abandon).await;
                        (partition, offset, outcome)
                    }));
                }
            }
        }
        self.finish_in_flight(jobs, &abandon, settings.worker.stop_timeout)
            .await;
        self.close(settings.worker.stop_timeout).await;
    }

    /// Waits up to `limit` for the messages in flight, then abandons the rest (left
    /// uncommitted: the next owner of their partitions processes them again).
    async fn finish_in_flight(
        &mut self,
        mut jobs: FuturesUnordered<Job>,
        abandon: &CancellationToken,
        limit: Duration,
    ) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let next = tokio::select! {
                next = jobs.next() => next,
                () = tokio::time::sleep_until(deadline), if !abandon.is_cancelled() => {
                    tracing::warn!(
                        in_flight = jobs.len(),
                        ?limit,
                        "messages still in flight at stop; abandoning them uncommitted"
                    );
                    abandon.cancel();
                    continue;
                }
            };
            let Some((partition, offset, outcome)) = next else {
                break;
            };
            if outcome == Outcome::Done {
                self.offsets.finish(&partition, offset);
            }
        }
    }

    /// Commits what advanced since the last commit, without waiting for the broker.
    fn commit(&mut self) {
        self.last_commit = Instant::now();
        let offsets = self.offsets.to_commit(false);
        if offsets.is_empty() {
            return;
        }
        match self
            .consumer
            .commit(&commit_list(&offsets), CommitMode::Async)
        {
            Ok(()) => {
                Stats::bump(&self.shared.stats.commits);
                self.offsets.committed(&offsets);
            }
            Err(err) => tracing::warn!(error = %err, "commit failed; will retry"),
        }
    }

    /// The final synchronous commit and leaving the group, on a thread of its own and
    /// waited for at most `limit`: with the broker gone, librdkafka may block far
    /// longer, and the drain must not.
    async fn close(self, limit: Duration) {
        let offsets = self.offsets.to_commit(true);
        let in_flight = self.offsets.in_flight();
        let stats = self.shared.stats.clone();
        let consumer = self.consumer;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
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
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "cannot start the final commit");
            return;
        }
        match tokio::time::timeout(limit, receiver).await {
            Ok(Ok(Ok(committed))) => {
                if committed {
                    Stats::bump(&stats.commits);
                }
                tracing::info!(abandoned = in_flight, "worker stopped");
            }
            Ok(Ok(Err(err))) => tracing::warn!(
                error = %err,
                "final commit failed; the next owner reprocesses from the last commit"
            ),
            Ok(Err(_)) => tracing::warn!("the final commit's thread ended without an answer"),
            Err(_) => tracing::warn!(
                ?limit,
                "final commit not done in time (is the broker gone?); the next owner reprocesses from the last commit"
            ),
        }
    }
}

/// Processes one message with retries; poison goes to the dead-letter topic.
async fn handle(shared: &Shared, message: &OwnedMessage, stop: &CancellationToken) -> Outcome {
    let settings = &shared.settings;
    let max_attempts = settings.worker.max_attempts.max(1);
    let mut backoff = settings.worker.retry_backoff;
    let mut attempt = 1;
    let error = loop {
        match decode(message) {
            Ok(event) => return process(shared, event, attempt, stop).await,
            Err(error) if attempt < max_attempts => {
                Stats::bump(&shared.stats.retries);
                tracing::debug!(%error, attempt, "processing failed; retrying");
                tokio::select! {
                    () = stop.cancelled() => return Outcome::Stopped,
                    () = tokio::time::sleep(backoff) => {}
                }
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
    let outcome = publish(
        shared,
        &settings.kafka.dead_letter_topic,
        message.key(),
        message.payload(),
        headers,
        stop,
    )
    .await;
    if outcome == Outcome::Done {
        Stats::bump(&shared.stats.dead_lettered);
    }
    outcome
}

/// Writes the event's result, unless its id was seen already (checked and remembered
/// at once, so two copies in flight together are still processed once).
async fn process(
    shared: &Shared,
    event: Event,
    attempts: u32,
    stop: &CancellationToken,
) -> Outcome {
    let fresh = shared
        .seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(&event.id);
    if !fresh {
        Stats::bump(&shared.stats.duplicates);
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
    let headers = OwnedHeaders::new().insert(header("content-type", "application/json"));
    let outcome = publish(
        shared,
        &shared.settings.kafka.output_topic,
        Some(event.id.as_bytes()),
        Some(result.as_bytes()),
        headers,
        stop,
    )
    .await;
    if outcome == Outcome::Done {
        Stats::bump(&shared.stats.processed);
    }
    outcome
}

/// Publishes until the broker acknowledges (a broker outage is not the message's
/// fault: it is retried, never dead-lettered) or shutdown comes.
async fn publish(
    shared: &Shared,
    topic: &str,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
    headers: OwnedHeaders,
    stop: &CancellationToken,
) -> Outcome {
    let mut backoff = shared.settings.worker.retry_backoff;
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
            sent = shared.producer.send(record, Timeout::After(shared.settings.kafka.message_timeout)) => sent,
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
            assert!(seen.insert(id));
        }
        assert!(!seen.insert("c"), "a duplicate");
        assert!(seen.insert("a"), "forgotten");
        assert!(!seen.insert("c"));
    }

    fn p(n: i32) -> Partition {
        ("t".to_owned(), n)
    }

    #[test]
    fn offsets_are_committed_in_order() {
        let mut offsets = Offsets::default();
        assert!(offsets.to_commit(true).is_empty());
        for offset in 10..13 {
            offsets.start(p(0), offset);
        }
        offsets.start(p(1), 5);
        // Nothing done: the committable offset is where processing stands.
        assert_eq!(offsets.to_commit(false), [(p(0), 10), (p(1), 5)]);
        offsets.committed(&offsets.to_commit(false));
        assert!(offsets.to_commit(false).is_empty());
        // 11 and 12 done before 10: the commit may not pass 10.
        offsets.finish(&p(0), 12);
        offsets.finish(&p(0), 11);
        assert!(offsets.to_commit(false).is_empty());
        assert_eq!(offsets.in_flight(), 2);
        offsets.finish(&p(0), 10);
        assert_eq!(offsets.to_commit(false), [(p(0), 13)]);
        offsets.committed(&[(p(0), 13)]);
        // Partition 1 still holds 5; `all` repeats every partition's offset.
        assert_eq!(offsets.to_commit(true), [(p(0), 13), (p(1), 5)]);
        offsets.finish(&p(1), 5);
        offsets.finish(&p(2), 1);
        assert_eq!(offsets.to_commit(false), [(p(1), 6)]);
        assert_eq!(offsets.in_flight(), 0);
    }
}
