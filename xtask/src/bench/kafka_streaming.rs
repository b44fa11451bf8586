//! The benchmark plan of kafka-streaming: events per second through the events API
//! (one event per `POST /api/v1/events`, and batches of [`BATCH`]), each answered
//! only once the broker acknowledged with `acks=all`, and the worker's consumer
//! throughput (a backlog built while the worker is held back by its `slow_consumer`
//! fault, then drained), next to Kafka's own `ProducerPerformance` (the
//! `kafka-producer-perf-test` tool, from the jars of the broker) writing records of
//! the app's size with `acks=all` to a fresh topic of the same broker, in the same run.
//!
//! The app runs both roles in one process, as by default: while the API rows run,
//! its worker processes what they write on the same two cores. The rows are wrk's
//! (a C client); ProducerPerformance pipelines without bound (`--throughput -1`), so
//! its latencies are queueing in its own producer and not comparable with the
//! HTTP round trips of the app's rows.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::wrk::WrkWorkload;
use super::{Measure, Plan, Sample, Settings};
use crate::apps::App;
use crate::http::{post_json, send_json};
use crate::{cmd, paths};

/// Events per batch request (the app's `events.max_batch` is 100).
const BATCH: usize = 100;

/// The admin token the bench gives the app, to switch `slow_consumer` on and off.
const ADMIN_TOKEN: &str = "bench";

/// Settings of the app under bench: its own topics and group on the shared broker,
/// and the admin endpoint on.
pub const APP_SETTINGS: &[(&str, &str)] = &[
    ("APP__ADMIN__TOKEN", ADMIN_TOKEN),
    ("APP__KAFKA__INPUT_TOPIC", "bench-events"),
    ("APP__KAFKA__OUTPUT_TOPIC", "bench-events-processed"),
    ("APP__KAFKA__DEAD_LETTER_TOPIC", "bench-events-dlq"),
    ("APP__KAFKA__GROUP_ID", "bench-kafka-streaming"),
];

/// Partitions of the app's topics (its `kafka.partitions` default), and so of the
/// baseline's.
const PARTITIONS: u32 = 3;

/// One event as a client sends it: no id (the app generates one per event, so every
/// event is new to the worker's de-duplication).
pub(super) fn event() -> Value {
    json!({
        "type": "order.created",
        "source": "bench",
        "payload": {"order": 1, "amount_cents": 4200, "items": 3}
    })
}

/// Size of the record value the app writes for [`event`]: the event with its
/// 32-hex-digit id and its acceptance time in milliseconds.
fn record_size() -> usize {
    let mut record = event();
    record["id"] = json!("0".repeat(32));
    record["time"] = json!(1_764_000_000_000_u64);
    record.to_string().len()
}

fn batch() -> Value {
    json!({ "events": vec![event(); BATCH] })
}

/// The plan `bench kafka-streaming` runs.
pub fn plan(app: &'static App) -> Plan {
    let script = paths::root()
        .join("xtask")
        .join("bench")
        .join("post-json.lua");
    Plan {
        app,
        workloads: vec![
            Box::new(WrkWorkload {
                name: "POST /api/v1/events, 1 event (wrk; events/s)".into(),
                script: script.clone(),
                target_url: app.base_url(),
                env: vec![
                    ("WRK_PATH".into(), "/api/v1/events".into()),
                    ("WRK_BODY".into(), event().to_string()),
                ],
            }),
            Box::new(Batches(WrkWorkload {
                name: format!("POST /api/v1/events/batch, {BATCH} events (wrk; events/s)"),
                script,
                target_url: app.base_url(),
                env: vec![
                    ("WRK_PATH".into(), "/api/v1/events/batch".into()),
                    ("WRK_BODY".into(), batch().to_string()),
                ],
            })),
            Box::new(ConsumerDrain {
                base_url: app.base_url(),
            }),
        ],
        baseline: Box::new(ProducerPerformance {
            record_size: record_size(),
        }),
        target: "no throughput ratio set (the issue asks for the numbers); RSS <= 96 MiB",
    }
}

/// A batch row: wrk's requests/s times the events per request; latencies per request.
struct Batches(WrkWorkload);

impl Measure for Batches {
    fn name(&self) -> String {
        self.0.name()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        let sample = self.0.measure(settings)?;
        Ok(Sample {
            rate: sample.rate * BATCH as f64,
            ..sample
        })
    }
}

/// The worker's throughput: hold it back with `slow_consumer` (one message per
/// `scenarios.slow_consumer_delay`), fill the input topic through the batch API for
/// about `duration`, then release it and time how fast the processed counter of
/// `/api/v1/consumer/stats` covers the backlog (the lag the group had at release).
struct ConsumerDrain {
    base_url: String,
}

/// Clients filling the backlog.
const FILLERS: usize = 4;

impl ConsumerDrain {
    fn get(&self, path: &str) -> Result<Value> {
        send_json("GET", &self.base_url, path, &[], None, 200)
    }

    fn processed(&self) -> Result<u64> {
        let stats = self.get("/api/v1/consumer/stats")?;
        stats["processed"]
            .as_u64()
            .with_context(|| format!("no processed counter in {stats}"))
    }

    fn lag(&self) -> Result<u64> {
        let lag = self.get("/api/v1/consumer/lag")?;
        lag["total"]
            .as_u64()
            .with_context(|| format!("no total lag in {lag}"))
    }

    fn slow_consumer(&self, on: bool) -> Result<()> {
        let bearer = format!("Bearer {ADMIN_TOKEN}");
        let auth = [("Authorization", bearer.as_str())];
        if on {
            send_json(
                "PUT",
                &self.base_url,
                "/admin/faults/slow_consumer",
                &auth,
                Some(&json!({"enabled": true, "rate": 1.0})),
                200,
            )?;
        } else {
            send_json("DELETE", &self.base_url, "/admin/faults", &auth, None, 200)?;
        }
        Ok(())
    }

    /// Posts batches from [`FILLERS`] threads for `duration`; returns the events written.
    fn fill(&self, duration: Duration) -> Result<u64> {
        let body = batch();
        let until = Instant::now() + duration;
        std::thread::scope(|scope| {
            let fillers: Vec<_> = (0..FILLERS)
                .map(|_| {
                    scope.spawn(|| -> Result<u64> {
                        let mut events = 0;
                        while Instant::now() < until {
                            post_json(&self.base_url, "/api/v1/events/batch", &[], &body, 202)?;
                            events += BATCH as u64;
                        }
                        Ok(events)
                    })
                })
                .collect();
            fillers
                .into_iter()
                .map(|filler| filler.join().expect("a filler panicked"))
                .sum()
        })
    }
}

impl Measure for ConsumerDrain {
    fn name(&self) -> String {
        "worker: backlog drained (events processed/s)".into()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        self.slow_consumer(true)?;
        let filled = self.fill(settings.duration);
        let backlog = self.lag();
        let before = self.processed();
        // Release the worker whatever happened, then report.
        self.slow_consumer(false)?;
        let started = Instant::now();
        let (filled, backlog, before) = (filled?, backlog?, before?);
        // A few messages processed since the last commit count in the lag but not
        // any more in the counter: stop at 99 % of the backlog.
        let target = before + backlog * 99 / 100;
        let limit = Duration::from_secs(120);
        let processed = loop {
            let processed = self.processed()?;
            if processed >= target {
                break processed - before;
            }
            if started.elapsed() > limit {
                bail!(
                    "the worker processed {} of a backlog of {backlog} in {limit:?}",
                    processed - before
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = started.elapsed().as_secs_f64();
        eprintln!(
            "bench: {filled} events written, backlog {backlog}, {processed} processed in {elapsed:.2}s"
        );
        Ok(Sample {
            rate: processed as f64 / elapsed,
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
            server_cpu_us: None,
        })
    }
}

/// `org.apache.kafka.tools.ProducerPerformance` (`kafka-producer-perf-test`) from the
/// broker's jars: about 100 000 records per second of `duration`, `record_size` bytes
/// each, `acks=all` and `linger.ms=5` like the app's producer, to a fresh topic of
/// [`PARTITIONS`] partitions (deleted afterwards).
struct ProducerPerformance {
    record_size: usize,
}

fn java() -> std::process::Command {
    let libs = crate::tools::kafka::libs();
    let mut java = cmd::new("java");
    java.arg("-Djava.awt.headless=true")
        .arg("-cp")
        .arg(format!("{}/*", libs.display()));
    java
}

fn topics(action: &str, topic: &str) -> Result<()> {
    let mut command = java();
    command.args([
        "org.apache.kafka.tools.TopicCommand",
        "--bootstrap-server",
        "127.0.0.1:9092",
        action,
        "--topic",
        topic,
    ]);
    if action == "--create" {
        command.args([
            "--partitions",
            &PARTITIONS.to_string(),
            "--replication-factor",
            "1",
        ]);
    }
    cmd::output(&mut command).map(drop)
}

impl Measure for ProducerPerformance {
    fn name(&self) -> String {
        format!(
            "ProducerPerformance, {} B records, acks=all (records/s)",
            self.record_size
        )
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        let libs = crate::tools::kafka::libs();
        if !libs.is_dir() {
            bail!("{} is missing: run `cargo xtask tools`", libs.display());
        }
        let topic = format!(
            "bench-perf-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis()
        );
        topics("--create", &topic)?;
        let records = 100_000 * settings.duration.as_secs().max(1);
        let output = cmd::output(java().args([
            "org.apache.kafka.tools.ProducerPerformance",
            "--topic",
            &topic,
            "--num-records",
            &records.to_string(),
            "--record-size",
            &self.record_size.to_string(),
            "--throughput",
            "-1",
            "--producer-props",
            "bootstrap.servers=127.0.0.1:9092",
            "acks=all",
            "linger.ms=5",
            "client.id=bench-producer-perf",
        ]));
        let deleted = topics("--delete", &topic);
        let output = output?;
        if let Err(err) = deleted {
            eprintln!("bench: cannot delete {topic}: {err:#}");
        }
        parse_producer_performance(&output)
            .with_context(|| format!("unexpected ProducerPerformance output:\n{output}"))
    }
}

/// The summary line: `N records sent, R records/sec (M MB/sec), A ms avg latency,
/// X ms max latency, P ms 50th, Q ms 95th, S ms 99th, T ms 99.9th.`
fn parse_producer_performance(output: &str) -> Option<Sample> {
    let line = output
        .lines()
        .rev()
        .find(|line| line.contains("records sent,"))?;
    let number_before = |suffix: &str| -> Option<f64> {
        line.split(',')
            .map(str::trim)
            .find_map(|part| part.strip_suffix(suffix))
            .and_then(|n| n.trim().parse().ok())
    };
    let rate = line
        .split(',')
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(Sample {
        rate,
        p50_ms: number_before("ms 50th")?,
        p99_ms: number_before("ms 99th")?,
        server_cpu_us: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_producer_performance_summary_is_read() {
        let output = "300 records sent, 60.0 records/sec (0.01 MB/sec), 3.0 ms avg latency, 9.0 ms max latency.\n\
            500000 records sent, 120279.0 records/sec (14.91 MB/sec), 679.20 ms avg latency, \
            1594.00 ms max latency, 777 ms 50th, 1549 ms 95th, 1582 ms 99th, 1592 ms 99.9th.\n";
        let sample = parse_producer_performance(output).unwrap();
        assert_eq!(sample.rate, 120_279.0);
        assert_eq!(sample.p50_ms, 777.0);
        assert_eq!(sample.p99_ms, 1582.0);
        assert!(parse_producer_performance("nothing").is_none());
    }

    #[test]
    fn the_baseline_writes_records_of_the_apps_size() {
        let size = record_size();
        assert!((120..200).contains(&size), "{size}");
        let body = batch();
        assert_eq!(body["events"].as_array().unwrap().len(), BATCH);
        assert!(event().get("id").is_none(), "the app generates the ids");
    }
}
