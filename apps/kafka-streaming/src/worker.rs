//! The consumer group worker: reads the input topic, processes each event once (by
//! id, [`dedupe`]), writes results to the output topic and poison to the dead-letter
//! topic, and commits offsets only after processing (at-least-once), in offset order
//! ([`offsets`]), while many messages are in flight at once. This module is the loop;
//! the state it keeps is pure and tested without a broker, and the records' format is
//! `crate::record`'s.

pub mod dedupe;
pub mod offsets;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use service_kit::faults::Faults;
use tokio_util::sync::CancellationToken;

use crate::record::{self, Partition, Record};
use crate::scenarios::SLOW_CONSUMER;
use crate::settings::Settings;
use crate::store::StoreError;
use crate::store::consumer::Consumer;
use crate::store::producer::Producer;
use dedupe::Seen;
use offsets::Offsets;

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

/// How one message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Processed or dead-lettered (or a duplicate): its offset may be committed.
    Done,
    /// Shutdown came first: leave it uncommitted, the next owner processes it.
    Stopped,
}

/// What every message's processing shares.
struct Shared {
    producer: Producer,
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
    consumer: Consumer,
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
        producer: Producer,
        faults: Faults,
        stats: Arc<Stats>,
    ) -> Result<Self, StoreError> {
        let consumer = Consumer::subscribe(&settings.kafka)?;
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
                    let record = match received {
                        Ok(record) => record,
                        Err(err) => {
                            tracing::warn!(error = %err, "consumer error");
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            continue;
                        }
                    };
                    if self.faults.roll(SLOW_CONSUMER) {
                        tokio::time::sleep(settings.scenarios.slow_consumer_delay).await;
                    }
                    self.offsets.start(record.partition.clone(), record.offset);
                    let shared = self.shared.clone();
                    let abandon = abandon.clone();
                    jobs.push(Box::pin(async move {
                        let outcome = handle(&shared, &record, &abandon).await;
                        (record.partition, record.offset, outcome)
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
        match self.consumer.commit(&offsets) {
            Ok(()) => {
                Stats::bump(&self.shared.stats.commits);
                self.offsets.committed(&offsets);
            }
            Err(err) => tracing::warn!(error = %err, "commit failed; will retry"),
        }
    }

    /// The final commit and leaving the group, bounded by `limit`.
    async fn close(self, limit: Duration) {
        let offsets = self.offsets.to_commit(true);
        let abandoned = self.offsets.in_flight();
        match self.consumer.close(offsets, limit).await {
            Ok(committed) => {
                if committed {
                    Stats::bump(&self.shared.stats.commits);
                }
                tracing::info!(abandoned, "worker stopped");
            }
            Err(reason) => tracing::warn!(
                %reason,
                "the next owner reprocesses from the last commit"
            ),
        }
    }
}

/// Processes one message with retries; poison goes to the dead-letter topic.
async fn handle(shared: &Shared, message: &Record, stop: &CancellationToken) -> Outcome {
    let settings = &shared.settings;
    let max_attempts = settings.worker.max_attempts.max(1);
    let mut backoff = settings.worker.retry_backoff;
    let mut attempt = 1;
    let error = loop {
        match record::decode(message.key.as_deref(), message.payload.as_deref()) {
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
        topic = message.partition.0,
        partition = message.partition.1,
        offset = message.offset,
        "poison message; dead-lettering"
    );
    let headers = record::dead_letter_headers(message, &error, attempt);
    let outcome = publish(
        shared,
        &settings.kafka.dead_letter_topic,
        message.key.as_deref(),
        message.payload.as_deref(),
        &headers,
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
    event: crate::event::Event,
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
    let result = record::result_value(&event, attempts);
    let outcome = publish(
        shared,
        &shared.settings.kafka.output_topic,
        Some(event.id.as_bytes()),
        Some(result.as_bytes()),
        &record::RESULT_HEADERS,
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
async fn publish<V: AsRef<str>>(
    shared: &Shared,
    topic: &str,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
    headers: &[(&str, V)],
    stop: &CancellationToken,
) -> Outcome {
    let mut backoff = shared.settings.worker.retry_backoff;
    loop {
        let sent = tokio::select! {
            () = stop.cancelled() => return Outcome::Stopped,
            sent = shared.producer.send(topic, key, payload, headers) => sent,
        };
        match sent {
            Ok(_) => return Outcome::Done,
            Err(err) => {
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
