//! ghz (`cargo xtask tools` builds it) as a bench client for what `openload` does not
//! send: gRPC streams. Calls are spread over several HTTP/2 connections, as a gRPC
//! client pool spreads them, and every status is counted: a call that does not end
//! OK fails the measurement, naming the statuses.

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{Measure, Sample, Settings};
use crate::{cmd, paths};

/// HTTP/2 connections the callers share.
const CONNECTIONS: u32 = 4;

/// `ghz --insecure --proto <proto> --call <method> -d <data> -c <vus> --connections 4
/// -z <duration>s --duration-stop wait -O json <host:port>`.
#[derive(Debug, Clone)]
pub struct GhzWorkload {
    /// Shown in the report.
    pub name: String,
    /// The service's .proto, from the repository's root.
    pub proto: &'static str,
    /// Its import root, from the repository's root.
    pub import_path: &'static str,
    /// `package.Service.Method`.
    pub call: &'static str,
    /// The request as JSON; an array is one stream's messages (client streams).
    pub data: Value,
    /// `127.0.0.1:<port>`.
    pub address: String,
}

impl GhzWorkload {
    fn command(&self, settings: &Settings) -> std::process::Command {
        let root = paths::root();
        let mut command = cmd::new("ghz");
        command
            .arg("--insecure")
            .arg("--proto")
            .arg(root.join(self.proto))
            .arg("--import-paths")
            .arg(root.join(self.import_path))
            .arg("--call")
            .arg(self.call)
            .arg("-d")
            .arg(self.data.to_string())
            .arg("-c")
            .arg(settings.vus.to_string())
            .arg("--connections")
            .arg(CONNECTIONS.min(settings.vus).to_string())
            .arg("-z")
            .arg(format!("{}s", settings.duration.as_secs().max(1)))
            // The default, `close`, cuts the calls in flight when time is up and counts
            // them as UNAVAILABLE (docs/performance.md, "the UNAVAILABLE answers").
            .arg("--duration-stop")
            .arg("wait")
            .arg("-O")
            .arg("json")
            .arg(&self.address);
        command
    }
}

impl Measure for GhzWorkload {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        let output = cmd::output(&mut self.command(settings))
            .context("ghz failed (`cargo xtask tools` builds it)")?;
        parse(&output).with_context(|| format!("unexpected ghz output:\n{output}"))
    }
}

/// Reads ghz's JSON report; fails on any call that did not end OK.
fn parse(text: &str) -> Result<Sample> {
    let json: Value = serde_json::from_str(text.trim())?;
    let statuses = json
        .get("statusCodeDistribution")
        .and_then(Value::as_object)
        .context("no `statusCodeDistribution`")?;
    let failed: Vec<String> = statuses
        .iter()
        .filter(|(status, _)| status.as_str() != "OK")
        .map(|(status, n)| format!("{status}: {n}"))
        .collect();
    if !statuses.contains_key("OK") || !failed.is_empty() {
        let errors = json
            .get("errorDistribution")
            .map_or_else(String::new, Value::to_string);
        bail!(
            "calls that did not end OK: {} {errors}",
            if failed.is_empty() {
                "no OK call".to_owned()
            } else {
                failed.join(", ")
            }
        );
    }
    let percentile_ms = |percentage: u64| {
        json.get("latencyDistribution")
            .and_then(Value::as_array)
            .and_then(|rows| {
                rows.iter()
                    .find(|row| row.get("percentage").and_then(Value::as_u64) == Some(percentage))
            })
            .and_then(|row| row.get("latency").and_then(Value::as_f64))
            .map(|nanos| nanos / 1e6)
            .with_context(|| format!("no p{percentage} in `latencyDistribution`"))
    };
    Ok(Sample {
        rate: json
            .get("rps")
            .and_then(Value::as_f64)
            .context("no `rps`")?,
        p50_ms: percentile_ms(50)?,
        p99_ms: percentile_ms(99)?,
        server_cpu_us: None,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    /// The parts of a real report (ghz 0.120.0, `BulkAdjust`, 2026-12-03) read here.
    fn report(statuses: Value) -> String {
        json!({
            "count": 31_744,
            "rps": 3_171.8,
            "latencyDistribution": [
                {"percentage": 10, "latency": 2_100_000},
                {"percentage": 50, "latency": 4_500_000},
                {"percentage": 99, "latency": 12_250_000}
            ],
            "statusCodeDistribution": statuses,
            "errorDistribution": {"rpc error: code = Unavailable desc = closed": 2}
        })
        .to_string()
    }

    #[test]
    fn a_report_of_ok_calls_is_read_into_a_sample() {
        let sample = parse(&report(json!({"OK": 31_744}))).unwrap();
        assert_eq!(sample.rate, 3_171.8);
        assert!((sample.p50_ms - 4.5).abs() < 1e-9);
        assert!((sample.p99_ms - 12.25).abs() < 1e-9);
    }

    #[test]
    fn any_call_that_did_not_end_ok_fails_the_measurement() {
        let message = parse(&report(json!({"OK": 31_742, "Unavailable": 2})))
            .unwrap_err()
            .to_string();
        assert!(message.contains("Unavailable: 2"), "{message}");
        assert!(message.contains("closed"), "{message}");
        let message = parse(&report(json!({}))).unwrap_err().to_string();
        assert!(message.contains("no OK call"), "{message}");
        let without_p99 =
            report(json!({"OK": 1})).replace("\"percentage\":99", "\"percentage\":98");
        assert!(parse(&without_p99).is_err());
    }

    #[test]
    fn the_command_spreads_the_callers_over_connections_and_waits_for_them() {
        let workload = GhzWorkload {
            name: "x".into(),
            proto: "a/b.proto",
            import_path: "a",
            call: "p.S.M",
            data: json!([{"sku": "S", "delta": 1}]),
            address: "127.0.0.1:50051".into(),
        };
        let settings = Settings {
            runs: 1,
            duration: Duration::from_secs(15),
            vus: 16,
            warmup: Duration::ZERO,
        };
        let args: Vec<String> = workload
            .command(&settings)
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let after = |flag: &str| {
            let at = args.iter().position(|a| a == flag).unwrap();
            args[at + 1].clone()
        };
        assert_eq!(after("-c"), "16");
        assert_eq!(after("--connections"), "4");
        assert_eq!(after("-z"), "15s");
        assert_eq!(after("--duration-stop"), "wait");
        assert_eq!(after("-d"), r#"[{"delta":1,"sku":"S"}]"#);
        assert_eq!(args.last().unwrap(), "127.0.0.1:50051");
    }
}
