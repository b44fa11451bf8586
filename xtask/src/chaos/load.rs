//! The bounded write load of a chaos scenario: [`CONCURRENCY`] threads, each at most
//! [`PER_WORKER_RATE`] writes per second, recording how every write ended and when;
//! and a prober that asks `/readyz` every [`PROBE_INTERVAL`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use ureq::Agent;

use super::ledger::{Outcome, Probe, Readiness, Write};

/// Writers in parallel.
pub const CONCURRENCY: usize = 8;
/// Writes per second per writer, at most: 8 × 25 = 200 writes per second in all.
const PER_WORKER_RATE: f64 = 25.0;
/// Pause after a write that was not acknowledged, so that an outage is not a hot loop.
const BACKOFF: Duration = Duration::from_millis(100);
/// How often readiness is asked.
const PROBE_INTERVAL: Duration = Duration::from_millis(200);
/// How long a probe waits: longer than any app's own readiness check takes, so
/// that the table shows what the app answers. (The kubelet's default is 1 s.)
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// The longest a write may take before it counts as unanswered: above every app's
/// own limit (kafka-streaming answers 503 after `kafka.message_timeout`, 5 s).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// One write of the load: numbered `n` (unique within the run), answered as an
/// [`Outcome`]. Implementations call [`post_json`].
pub type WriteFn = dyn Fn(&Agent, u64) -> Outcome + Send + Sync;

/// A running load; [`Load::finish`] stops it and hands back what it recorded.
pub struct Load {
    stop: Arc<AtomicBool>,
    /// Milliseconds since the epoch of the latest acknowledgement (0: none yet).
    last_ack: Arc<AtomicU64>,
    writers: Vec<JoinHandle<Vec<Write>>>,
    prober: JoinHandle<Vec<Probe>>,
}

/// An agent for loopback HTTP that answers every status as a value.
pub fn agent(timeout: Duration) -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

impl Load {
    /// Starts the writers and the prober; times are seconds since `epoch`. Write
    /// numbers start after `first`, so that loads of one run never reuse one.
    pub fn start(write: Arc<WriteFn>, readyz: String, epoch: Instant, first: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let last_ack = Arc::new(AtomicU64::new(0));
        let next = Arc::new(AtomicU64::new(first));
        let writers = (0..CONCURRENCY)
            .map(|_| {
                let shared = Shared {
                    stop: Arc::clone(&stop),
                    last_ack: Arc::clone(&last_ack),
                    next: Arc::clone(&next),
                    epoch,
                };
                let write = Arc::clone(&write);
                std::thread::spawn(move || writer(&*write, &shared))
            })
            .collect();
        let prober = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || prober(&readyz, &stop, epoch))
        };
        Self {
            stop,
            last_ack,
            writers,
            prober,
        }
    }

    /// Seconds since the epoch of the latest acknowledgement so far.
    pub fn last_ack(&self) -> Option<f64> {
        match self.last_ack.load(Ordering::Relaxed) {
            0 => None,
            millis => Some(millis as f64 / 1000.0),
        }
    }

    /// Stops and joins every thread (writes in flight finish); returns the writes in
    /// no particular order and the probes in order.
    pub fn finish(self) -> (Vec<Write>, Vec<Probe>) {
        self.stop.store(true, Ordering::Relaxed);
        let writes = self
            .writers
            .into_iter()
            .flat_map(|writer| writer.join().unwrap_or_default())
            .collect();
        let probes = self.prober.join().unwrap_or_default();
        (writes, probes)
    }
}

/// What the writers share.
struct Shared {
    stop: Arc<AtomicBool>,
    last_ack: Arc<AtomicU64>,
    next: Arc<AtomicU64>,
    epoch: Instant,
}

fn writer(write: &WriteFn, shared: &Shared) -> Vec<Write> {
    let agent = agent(WRITE_TIMEOUT);
    let interval = Duration::from_secs_f64(1.0 / PER_WORKER_RATE);
    let mut writes = Vec::new();
    while !shared.stop.load(Ordering::Relaxed) {
        let began = Instant::now();
        let n = shared.next.fetch_add(1, Ordering::Relaxed) + 1;
        let outcome = write(&agent, n);
        let answered = shared.epoch.elapsed();
        let acked = matches!(outcome, Outcome::Acked { .. });
        if acked {
            let millis = u64::try_from(answered.as_millis())
                .unwrap_or(u64::MAX)
                .max(1);
            shared.last_ack.fetch_max(millis, Ordering::Relaxed);
        }
        writes.push(Write {
            answered: answered.as_secs_f64(),
            outcome,
        });
        let pause = if acked { interval } else { BACKOFF };
        std::thread::sleep(pause.saturating_sub(began.elapsed()));
    }
    writes
}

fn prober(readyz: &str, stop: &AtomicBool, epoch: Instant) -> Vec<Probe> {
    let agent = agent(PROBE_TIMEOUT);
    let mut probes = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let began = Instant::now();
        let readiness = match agent.get(readyz).call() {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let body = response.body_mut().read_to_string().unwrap_or_default();
                readiness(status, &body)
            }
            Err(_) => Readiness::NoAnswer,
        };
        probes.push(Probe {
            sent: began.duration_since(epoch).as_secs_f64(),
            answered: epoch.elapsed().as_secs_f64(),
            readiness,
        });
        std::thread::sleep(PROBE_INTERVAL.saturating_sub(began.elapsed()));
    }
    probes
}

/// What a `/readyz` answer says: 503, or a 2xx whose report's `status` is
/// `degraded` or not.
fn readiness(status: u16, body: &str) -> Readiness {
    match status {
        503 => Readiness::NotReady,
        200..=299 => {
            let report: Option<Value> = serde_json::from_str(body).ok();
            let state = report
                .as_ref()
                .and_then(|r| r.get("status"))
                .and_then(Value::as_str);
            if state == Some("degraded") {
                Readiness::Degraded
            } else {
                Readiness::Ready
            }
        }
        _ => Readiness::NoAnswer,
    }
}

/// `POST url` with a JSON body; acknowledged when the status is `expected`, with
/// the id `id_of` finds in the answer.
pub fn post_json(
    agent: &Agent,
    url: &str,
    headers: &[(&str, &str)],
    body: &Value,
    expected: u16,
    id_of: fn(&Value) -> Option<String>,
) -> Outcome {
    let mut request = agent.post(url).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let Ok(mut response) = request.send(body.to_string()) else {
        return Outcome::NoAnswer;
    };
    let status = response.status().as_u16();
    let Ok(text) = response.body_mut().read_to_string() else {
        return Outcome::NoAnswer;
    };
    classify(status, expected, &text, id_of)
}

/// The outcome of an answer: acknowledged (with the id from the body), 503, or
/// refused. An acknowledgement without an id is a refusal: it cannot be verified.
fn classify(
    status: u16,
    expected: u16,
    text: &str,
    id_of: fn(&Value) -> Option<String>,
) -> Outcome {
    match status {
        503 => Outcome::Unavailable,
        _ if status == expected => serde_json::from_str(text)
            .ok()
            .as_ref()
            .and_then(id_of)
            .map_or(Outcome::Refused(status), |id| Outcome::Acked {
                id,
                receipt: text.chars().take(200).collect(),
            }),
        _ => Outcome::Refused(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_field(value: &Value) -> Option<String> {
        value
            .get("id")
            .map(|id| id.to_string().trim_matches('"').to_owned())
    }

    #[test]
    fn an_expected_status_with_an_id_is_an_acknowledgement() {
        assert_eq!(
            classify(201, 201, r#"{"id": 42}"#, id_field),
            Outcome::Acked {
                id: "42".into(),
                receipt: r#"{"id": 42}"#.into()
            }
        );
        assert_eq!(
            classify(202, 202, r#"{"id": "e-1"}"#, id_field),
            Outcome::Acked {
                id: "e-1".into(),
                receipt: r#"{"id": "e-1"}"#.into()
            }
        );
    }

    #[test]
    fn an_acknowledgement_without_an_id_or_another_status_is_no_acknowledgement() {
        assert_eq!(classify(201, 201, "{}", id_field), Outcome::Refused(201));
        assert_eq!(
            classify(201, 201, "not json", id_field),
            Outcome::Refused(201)
        );
        assert_eq!(
            classify(200, 201, r#"{"id": 1}"#, id_field),
            Outcome::Refused(200)
        );
        assert_eq!(classify(503, 201, "", id_field), Outcome::Unavailable);
        assert_eq!(classify(500, 201, "", id_field), Outcome::Refused(500));
    }

    #[test]
    fn a_load_against_nothing_records_unanswered_writes_and_probes() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let target = format!("{url}/write");
        let write: Arc<WriteFn> = Arc::new(move |agent: &Agent, n: u64| {
            post_json(
                agent,
                &target,
                &[],
                &serde_json::json!({"n": n}),
                201,
                id_field,
            )
        });
        let load = Load::start(write, format!("{url}/readyz"), Instant::now(), 0);
        std::thread::sleep(Duration::from_millis(300));
        let (writes, probes) = load.finish();
        assert!(writes.len() >= CONCURRENCY, "{writes:?}");
        assert!(writes.iter().all(|w| w.outcome == Outcome::NoAnswer));
        assert!(!probes.is_empty());
        assert!(probes.iter().all(|p| p.readiness == Readiness::NoAnswer));
    }

    #[test]
    fn readiness_is_read_from_the_status_and_the_reports_state() {
        let report = |state: &str| format!(r#"{{"status": "{state}", "checks": {{}}}}"#);
        assert_eq!(readiness(200, &report("ready")), Readiness::Ready);
        assert_eq!(readiness(200, &report("degraded")), Readiness::Degraded);
        assert_eq!(readiness(503, &report("not_ready")), Readiness::NotReady);
        assert_eq!(readiness(503, "not json"), Readiness::NotReady);
        assert_eq!(readiness(500, ""), Readiness::NoAnswer);
    }
}
