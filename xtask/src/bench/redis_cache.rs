//! The benchmark plan of redis-cache: a cached `GET /api/v1/products/{id}` (one Redis
//! `GET` per request through the connection manager, every key warm) next to
//! `redis-benchmark -t get` — Redis' own benchmark, the same number of clients, on
//! the same server, in the same run.
//!
//! As for sql-application, the target refers to the wrk row: a C client as light per
//! request as redis-benchmark. The k6 row stays for continuity with the other apps.

use anyhow::{Context, Result};

use super::wrk::WrkWorkload;
use super::{K6Workload, Measure, Plan, Sample, Settings};
use crate::apps::App;
use crate::cmd;

/// Products the cached reads cycle through (the k6 mix's hot set).
const HOT: usize = 200;

/// The plan `bench redis-cache` runs.
pub fn plan(app: &'static App) -> Plan {
    Plan {
        app,
        workloads: vec![
            Box::new(K6Workload::app_mix(
                app,
                "cached GET /api/v1/products/{id} (k6)",
                "cached-get",
            )),
            Box::new(WrkWorkload::get_each(
                "cached GET /api/v1/products/{id} (wrk)",
                app.base_url(),
                (1..=HOT).map(|id| format!("/api/v1/products/{id}")),
            )),
        ],
        baseline: Box::new(RedisBenchmarkGet),
        target: "cached GET under wrk >= 25 % of redis-benchmark -t get; RSS <= 64 MiB",
    }
}

/// `redis-benchmark -t get` against 127.0.0.1:6379 over [`HOT`] random keys holding
/// 100-byte values (set first), no pipelining, plaintext like the app.
struct RedisBenchmarkGet;

impl RedisBenchmarkGet {
    fn command(settings: &Settings, test: &str, requests: u64) -> std::process::Command {
        let mut command = cmd::new("redis-benchmark");
        command.args([
            "-h",
            "127.0.0.1",
            "-p",
            "6379",
            "-t",
            test,
            "-d",
            "100",
            "--csv",
        ]);
        command
            .arg("-c")
            .arg(settings.vus.to_string())
            .arg("-n")
            .arg(requests.to_string())
            .arg("-r")
            .arg(HOT.to_string());
        command
    }
}

impl Measure for RedisBenchmarkGet {
    fn name(&self) -> String {
        "redis-benchmark -t get (no pipelining)".into()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        // The keys GET reads exist, so replies carry a value like the app's.
        cmd::output(&mut Self::command(settings, "set", 10 * HOT as u64))
            .context("redis-benchmark failed (it comes with Debian's redis-tools)")?;
        // redis-benchmark runs a request count, not a duration: about as many as
        // Redis answers in `duration` on this machine.
        let requests = 60_000 * settings.duration.as_secs().max(1);
        let output = cmd::output(&mut Self::command(settings, "get", requests))?;
        parse_csv(&output).with_context(|| format!("unexpected redis-benchmark output:\n{output}"))
    }
}

/// The `"GET","rps",...,"p50",...,"p99",...` line of `--csv`.
fn parse_csv(output: &str) -> Option<Sample> {
    let header: Vec<&str> = output
        .lines()
        .find(|line| line.starts_with("\"test\""))?
        .split(',')
        .map(|f| f.trim_matches('"'))
        .collect();
    let row: Vec<&str> = output
        .lines()
        .find(|line| line.starts_with("\"GET\""))?
        .split(',')
        .map(|f| f.trim_matches('"'))
        .collect();
    let field = |name: &str| -> Option<f64> {
        let index = header.iter().position(|h| *h == name)?;
        row.get(index)?.parse().ok()
    };
    Some(Sample {
        rate: field("rps")?,
        p50_ms: field("p50_latency_ms")?,
        p99_ms: field("p99_latency_ms")?,
        server_cpu_us: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_benchmark_csv_is_read() {
        let output = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\"GET\",\"74074.07\",\"0.035\",\"0.008\",\"0.039\",\"0.063\",\"0.095\",\"1.607\"\n";
        let sample = parse_csv(output).unwrap();
        assert_eq!(sample.rate, 74074.07);
        assert_eq!(sample.p50_ms, 0.039);
        assert_eq!(sample.p99_ms, 0.095);
        assert!(parse_csv("nothing").is_none());
    }
}
