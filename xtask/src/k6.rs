//! Running k6 (the load generator of `demo` and `bench`) and reading its summary.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::apps::{self, Protocol};
use crate::process::{self, AppProcess, Profile};
use crate::{cmd, paths};

/// The trend statistics k6 keeps, so that p99 is in the summary.
pub(crate) const TREND_STATS: &str = "avg,min,med,max,p(90),p(95),p(99)";

/// One k6 run: a script, its `-e` variables, and where the summary goes.
#[derive(Debug, Clone)]
pub struct Run {
    /// The script.
    pub script: PathBuf,
    /// `-e KEY=VALUE` variables (`TARGET_URL`, `K6_PROFILE`, ...; see the k6 library).
    pub env: Vec<(String, String)>,
    /// Where the JSON summary is written.
    pub summary: PathBuf,
    /// The app's protocol, which names the metrics to read.
    pub protocol: Protocol,
}

/// What a run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Requests (HTTP) or iterations (gRPC) per second.
    pub rate: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Share of failed requests (HTTP), 0.0 to 1.0; 0 where k6 does not count failures.
    pub error_rate: f64,
    /// Whether every threshold of the script held.
    pub thresholds_ok: bool,
}

impl Run {
    /// Runs k6 to the end and reads its summary. A run whose thresholds failed still
    /// returns its summary (`thresholds_ok: false`); a run that could not start fails.
    pub fn execute(&self) -> Result<Summary> {
        if let Some(dir) = self.summary.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut command = run_command();
        command.arg("--summary-export").arg(&self.summary);
        for (key, value) in &self.env {
            command.arg("-e").arg(format!("{key}={value}"));
        }
        command.arg(&self.script);
        let shown = format!("k6 run {}", self.script.display());
        let status = command
            .status()
            .with_context(|| format!("cannot start `{shown}` (run `cargo xtask tools`)"))?;
        // k6 exits 99 when thresholds fail: the summary is still written.
        if !status.success() && status.code() != Some(99) {
            anyhow::bail!("`{shown}` failed with {status}");
        }
        let mut summary = read_summary(&self.summary, self.protocol)?;
        summary.thresholds_ok &= status.success();
        Ok(summary)
    }
}

/// `k6 run` with what every run here shares: quiet, no colours, the trend statistics
/// the summaries are read with, and no REST API server (nothing uses it, and k6
/// processes side by side in `bench all` and the demo each warned that
/// 127.0.0.1:6565 was taken).
pub fn run_command() -> std::process::Command {
    let mut command = cmd::new("k6");
    command
        .args(["run", "--quiet", "--no-color", "--address", ""])
        .args(["--summary-trend-stats", TREND_STATS]);
    command
}

/// The gate's k6 step: type-checks every script against `@types/k6`, then runs the
/// smoke profile of every existing app for real (debug build, 20 s) and fails when
/// a run's thresholds do not hold.
pub fn check() -> Result<()> {
    let tsc = paths::root().join("node_modules/.bin/tsc");
    if !tsc.is_file() {
        anyhow::bail!("{} is missing: run `cargo xtask tools`", tsc.display());
    }
    cmd::run(cmd::new(tsc).args(["-p", "tsconfig.json"]))?;
    let existing = apps::existing();
    if existing.is_empty() {
        eprintln!("k6: no app exists yet; scripts type-checked, nothing to run");
        return Ok(());
    }
    process::build(&existing, Profile::Debug)?;
    let dir = paths::target().join("k6-smoke");
    let mut failed = Vec::new();
    for app in existing {
        // An app that calls others (checkout) runs with them, each on its own port.
        let mut called = Vec::new();
        for name in app.calls {
            called.push(AppProcess::start_built(
                apps::App::named(name)?,
                Profile::Debug,
                &dir,
            )?);
        }
        let mut running = AppProcess::start_built(app, Profile::Debug, &dir)?;
        let run = Run {
            script: app.k6_script(),
            env: vec![
                ("TARGET_URL".into(), app.base_url()),
                ("FAULT_TOKEN".into(), process::LOCAL_ADMIN_TOKEN.into()),
                ("K6_PROFILE".into(), "smoke".into()),
                ("LOAD_DURATION".into(), "20s".into()),
            ],
            summary: dir.join(format!("{}.json", app.name)),
            protocol: app.protocol,
        };
        let outcome = run.execute();
        running.stop();
        called.iter_mut().for_each(AppProcess::stop);
        match outcome {
            Ok(summary) if summary.thresholds_ok => eprintln!(
                "k6: {} smoke ok: {:.1} req/s, p99 {:.1} ms, {:.2} % failed",
                app.name,
                summary.rate,
                summary.p99_ms,
                summary.error_rate * 100.0
            ),
            Ok(_) => failed.push(format!(
                "{}: thresholds crossed (see the k6 output above)",
                app.name
            )),
            Err(err) => failed.push(format!("{}: {err:#}", app.name)),
        }
    }
    if !failed.is_empty() {
        anyhow::bail!("smoke runs failed:\n  {}", failed.join("\n  "));
    }
    Ok(())
}

/// Reads a `--summary-export` file.
pub fn read_summary(path: &Path, protocol: Protocol) -> Result<Summary> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let json: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    parse_summary(&json, protocol)
        .with_context(|| format!("unexpected k6 summary in {}", path.display()))
}

/// Reads a summary already parsed (`bench all` reads more of it).
pub(crate) fn parse_summary(json: &Value, protocol: Protocol) -> Result<Summary> {
    let metrics = json.get("metrics").context("no `metrics`")?;
    let (duration, count) = match protocol {
        Protocol::Http => ("http_req_duration", "http_reqs"),
        Protocol::Grpc => ("grpc_req_duration", "iterations"),
    };
    let number = |metric: &str, field: &str| -> Result<f64> {
        metrics
            .get(metric)
            .and_then(|m| m.get(field))
            .and_then(Value::as_f64)
            .with_context(|| format!("no `{metric}.{field}`"))
    };
    let thresholds_ok = metrics
        .as_object()
        .into_iter()
        .flat_map(|all| all.values())
        .filter_map(|metric| metric.get("thresholds").and_then(Value::as_object))
        .flat_map(|thresholds| thresholds.values())
        // In the export a threshold maps to `true` when it was crossed.
        .all(|crossed| crossed.as_bool() == Some(false));
    Ok(Summary {
        rate: number(count, "rate")?,
        p50_ms: number(duration, "med")?,
        p99_ms: number(duration, "p(99)")?,
        error_rate: number("http_req_failed", "value").unwrap_or(0.0),
        thresholds_ok,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn export(crossed: bool) -> Value {
        json!({"metrics": {
            "http_reqs": {"count": 3000, "rate": 1000.5},
            "http_req_duration": {"avg": 2.0, "med": 1.5, "p(90)": 3.0, "p(99)": 7.25,
                                   "thresholds": {"p(99)<500": crossed}},
            "http_req_failed": {"passes": 30, "fails": 2970, "value": 0.01},
            "iterations": {"count": 1500, "rate": 500.0},
        }})
    }

    /// Two k6 at once must not both want the REST API's port.
    #[test]
    fn a_run_starts_no_rest_api_server() {
        let command = run_command();
        let args: Vec<_> = command.get_args().map(|a| a.to_string_lossy()).collect();
        let at = args
            .iter()
            .position(|a| a == "--address")
            .expect("--address");
        assert_eq!(args[at + 1], "");
    }

    #[test]
    fn an_http_summary_reads_rate_latency_and_errors() {
        let summary = parse_summary(&export(false), Protocol::Http).unwrap();
        assert_eq!(
            summary,
            Summary {
                rate: 1000.5,
                p50_ms: 1.5,
                p99_ms: 7.25,
                error_rate: 0.01,
                thresholds_ok: true
            }
        );
    }

    #[test]
    fn a_crossed_threshold_is_reported() {
        assert!(
            !parse_summary(&export(true), Protocol::Http)
                .unwrap()
                .thresholds_ok
        );
    }

    #[test]
    fn a_summary_without_the_protocols_metrics_is_an_error_naming_them() {
        let message = format!(
            "{:#}",
            parse_summary(&export(false), Protocol::Grpc).unwrap_err()
        );
        assert!(message.contains("grpc_req_duration"), "{message}");
    }
}
