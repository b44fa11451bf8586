//! The fixture's metrics endpoint: serves a [`Telemetry`] in the Prometheus text
//! format, counters growing with time so that `rate()` sees traffic.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::fixture::{Series, Telemetry};

const SECONDS_BUCKETS: [f64; 14] = [
    0.0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
];
const BYTES_BUCKETS: [f64; 10] = [
    0.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0,
];

/// A running metrics endpoint; the server task stops when this drops.
#[derive(Debug)]
pub struct MetricsServer {
    pub addr: String,
    scrapes: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MetricsServer {
    pub async fn start(telemetry: Telemetry) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let scrapes = Arc::new(AtomicU64::new(0));
        let counter = scrapes.clone();
        let started = Instant::now();
        let telemetry = Arc::new(telemetry);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let telemetry = telemetry.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                    let body = render(&telemetry, started.elapsed());
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(body.as_bytes()).await;
                    counter.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        MetricsServer {
            addr,
            scrapes,
            task,
        }
    }

    /// Waits until Prometheus has scraped `n` more times (so `rate()` has samples).
    pub async fn wait_scrapes(&self, n: u64) {
        let target = self.scrapes.load(Ordering::SeqCst) + n;
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.scrapes.load(Ordering::SeqCst) < target {
            assert!(
                Instant::now() < deadline,
                "Prometheus did not scrape the fixture within 30s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The exposition text at `elapsed` since start.
pub fn render(t: &Telemetry, elapsed: Duration) -> String {
    let mut by_name: BTreeMap<&str, Vec<&Series>> = BTreeMap::new();
    for s in &t.series {
        by_name.entry(&s.name).or_default().push(s);
    }
    let seconds = elapsed.as_secs_f64() + 10.0;
    let mut out = String::new();
    for (name, series) in by_name {
        let histogram = series[0].histogram;
        let _ = writeln!(
            out,
            "# TYPE {name} {}",
            if histogram { "histogram" } else { "gauge" }
        );
        for s in series {
            if !histogram {
                let _ = writeln!(out, "{name}{} {}", labels(&s.labels, None), s.per_second);
                continue;
            }
            let count = s.per_second * seconds;
            // 60 % at half the typical value, 30 % at it, 10 % at three times it.
            let points = [
                (0.5 * s.typical, 0.6),
                (s.typical, 0.3),
                (3.0 * s.typical, 0.1),
            ];
            let buckets: &[f64] = if name.ends_with("_bytes") {
                &BYTES_BUCKETS
            } else {
                &SECONDS_BUCKETS
            };
            for le in buckets {
                let share: f64 = points.iter().filter(|(v, _)| v <= le).map(|(_, w)| w).sum();
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {}",
                    labels(&s.labels, Some(&le.to_string())),
                    count * share
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{} {count}",
                labels(&s.labels, Some("+Inf"))
            );
            let mean: f64 = points.iter().map(|(v, w)| v * w).sum();
            let _ = writeln!(
                out,
                "{name}_sum{} {}",
                labels(&s.labels, None),
                count * mean
            );
            let _ = writeln!(out, "{name}_count{} {count}", labels(&s.labels, None));
        }
    }
    out
}

fn labels(labels: &BTreeMap<String, String>, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    format!("{{{}}}", parts.join(","))
}
