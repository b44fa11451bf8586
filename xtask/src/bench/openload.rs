//! `openload` (crates/bench-baselines) as a bench client: one app's hot request,
//! HTTP/1.1 or gRPC unary, closed model (saturation) or open model (a fixed rate,
//! latency from each request's due time). Built in release once per session.

use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{Measure, Sample, Settings};
use crate::{ci, cmd, process};

/// One app's hot request, as openload sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Shown in reports, e.g. `GET /api/v1/orders/{id}`.
    pub name: String,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// Paths cycled through (ids seeded before the run).
    pub paths: Vec<String>,
    /// `GET` unless set (`POST` with `body`).
    pub method: &'static str,
    /// The body of every request (HTTP), e.g. an event.
    pub body: Option<String>,
    /// Extra headers, `name: value`.
    pub headers: Vec<String>,
    /// gRPC: one request body per entry, cycled, as hex (`grpc_wire::frames_hex`:
    /// one framed message for a unary call, several for a stream).
    pub grpc_bodies: Vec<String>,
}

impl Target {
    fn grpc(&self) -> bool {
        !self.grpc_bodies.is_empty()
    }
}

/// How a run is driven.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drive {
    /// Callers (requests in flight at most).
    pub concurrency: u32,
    /// Requests per second; `None` for the closed model.
    pub rate: Option<f64>,
    /// Seconds.
    pub seconds: u64,
}

/// What a run measured (openload's JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Answered requests per second (failed ones included).
    pub rate: f64,
    /// Requests sent in all.
    pub requests: u64,
    /// Requests that did not end 2xx (and gRPC OK).
    pub errors: u64,
    /// How the failed ones ended: `http 503: 2, grpc 14: 1`.
    pub error_kinds: String,
    /// Median latency, ms (from the due time in the open model).
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
}

impl From<&Outcome> for Sample {
    fn from(outcome: &Outcome) -> Self {
        Self {
            rate: outcome.rate,
            p50_ms: outcome.p50_ms,
            p99_ms: outcome.p99_ms,
            server_cpu_us: None,
        }
    }
}

/// A bench row: `target` under openload, closed model, `--vus` callers as fast as
/// they are answered (gRPC: over four connections). A failed request fails it.
#[derive(Debug, Clone)]
pub struct OpenloadWorkload {
    /// What is sent.
    pub target: Target,
}

impl Measure for OpenloadWorkload {
    fn name(&self) -> String {
        format!("{} (openload)", self.target.name)
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        let drive = Drive {
            concurrency: settings.vus,
            rate: None,
            seconds: settings.duration.as_secs().max(1),
        };
        without_errors(&run(&self.target, &drive)?, &self.target.name)
    }
}

/// The sample of a run in which every request succeeded; else which failed, and how.
fn without_errors(outcome: &Outcome, name: &str) -> Result<Sample> {
    if outcome.errors > 0 {
        bail!(
            "{} of {} requests to {name} failed ({})",
            outcome.errors,
            outcome.requests,
            outcome.error_kinds
        );
    }
    Ok(Sample::from(outcome))
}

/// Builds openload in release, once per xtask process.
fn binary() -> Result<std::path::PathBuf> {
    static BUILT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            cmd::run(ci::cargo().args([
                "build",
                "--locked",
                "--release",
                "-p",
                "bench-baselines",
                "--bin",
                "openload",
            ]))
            .map_err(|err| format!("{err:#}"))
        })
        .clone()
        .map_err(anyhow::Error::msg)?;
    Ok(process::binary_named("openload", process::Profile::Release))
}

/// The arguments of one run.
fn arguments(target: &Target, drive: &Drive) -> Vec<String> {
    let mut args = vec![
        "--url".to_owned(),
        target.base_url.clone(),
        "--paths".to_owned(),
        target.paths.join(","),
        "--concurrency".to_owned(),
        drive.concurrency.to_string(),
        "--duration".to_owned(),
        drive.seconds.to_string(),
        "--rate".to_owned(),
        drive.rate.map_or("0".to_owned(), |r| format!("{r:.0}")),
    ];
    if target.grpc() {
        // Several callers share a connection, as gRPC clients do: four of them.
        args.extend(["--grpc", "--connections", "4", "--bodies"].map(str::to_owned));
        args.push(target.grpc_bodies.join(","));
    } else {
        args.extend(["--method".to_owned(), target.method.to_owned()]);
        if let Some(body) = &target.body {
            args.extend(["--body".to_owned(), body.clone()]);
        }
    }
    for header in &target.headers {
        args.extend(["--header".to_owned(), header.clone()]);
    }
    args
}

/// Starts one run (for several at once); [`finish`] waits for it and reads it.
pub fn spawn(target: &Target, drive: &Drive) -> Result<std::process::Child> {
    let binary = binary()?;
    std::process::Command::new(&binary)
        .args(arguments(target, drive))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))
}

/// Waits for a run [`spawn`] started and reads its report.
pub fn finish(child: std::process::Child, target: &Target) -> Result<Outcome> {
    let output = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "openload against {} ({}) failed with {}",
            target.base_url,
            target.name,
            output.status
        );
    }
    parse(&text).with_context(|| format!("unexpected openload output: {text}"))
}

/// One run to the end.
pub fn run(target: &Target, drive: &Drive) -> Result<Outcome> {
    finish(spawn(target, drive)?, target)
}

fn parse(text: &str) -> Result<Outcome> {
    let json: Value = serde_json::from_str(text.trim())?;
    let number = |field: &str| {
        json.get(field)
            .and_then(Value::as_f64)
            .with_context(|| format!("no `{field}`"))
    };
    let kinds = json
        .get("error_kinds")
        .and_then(Value::as_object)
        .map(|kinds| {
            kinds
                .iter()
                .map(|(kind, n)| format!("{kind}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Ok(Outcome {
        rate: number("rate")?,
        requests: number("requests")? as u64,
        errors: number("errors")? as u64,
        error_kinds: kinds,
        p50_ms: number("p50_ms")?,
        p99_ms: number("p99_ms")?,
        max_ms: number("max_ms")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bench_row_with_one_failed_request_fails_naming_it() {
        let outcome = Outcome {
            rate: 1000.0,
            requests: 5000,
            errors: 0,
            error_kinds: String::new(),
            p50_ms: 0.5,
            p99_ms: 2.0,
            max_ms: 9.0,
        };
        let sample = without_errors(&outcome, "unary GetStock").unwrap();
        assert_eq!((sample.rate, sample.p99_ms), (1000.0, 2.0));
        let failed = Outcome {
            errors: 1,
            error_kinds: "grpc 13: 1".into(),
            ..outcome
        };
        let message = without_errors(&failed, "unary GetStock")
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "1 of 5000 requests to unary GetStock failed (grpc 13: 1)"
        );
    }

    #[test]
    fn a_report_is_read_and_its_errors_named() {
        let outcome = parse(
            r#"{"model": "open", "intended_rate": 100, "requests": 100, "ok": 99, "errors": 1,
                "error_kinds": {"grpc 14": 1}, "seconds": 1.0, "rate": 100.0,
                "p50_ms": 0.5, "p90_ms": 0.8, "p99_ms": 2.5, "max_ms": 9.0}"#,
        )
        .unwrap();
        assert_eq!(outcome.errors, 1);
        assert_eq!(outcome.error_kinds, "grpc 14: 1");
        assert_eq!(outcome.p99_ms, 2.5);
        assert!(parse("{}").is_err());
    }

    #[test]
    fn grpc_targets_share_four_connections_and_http_posts_carry_their_body() {
        let grpc = Target {
            name: "GetStock".into(),
            base_url: "http://127.0.0.1:50051".into(),
            paths: vec!["/inventory.v1.Inventory/GetStock".into()],
            method: "POST",
            body: None,
            headers: vec![],
            grpc_bodies: vec!["00".into(), "01".into()],
        };
        let drive = Drive {
            concurrency: 16,
            rate: Some(1000.0),
            seconds: 5,
        };
        let args = arguments(&grpc, &drive).join(" ");
        assert!(
            args.ends_with("--grpc --connections 4 --bodies 00,01"),
            "{args}"
        );
        assert!(args.contains("--rate 1000"), "{args}");
        let post = Target {
            grpc_bodies: vec![],
            body: Some("{}".into()),
            headers: vec!["content-type: application/json".into()],
            ..grpc
        };
        let args = arguments(
            &post,
            &Drive {
                rate: None,
                ..drive
            },
        )
        .join(" ");
        assert!(args.contains("--rate 0 --method POST --body {}"), "{args}");
        assert!(
            args.ends_with("--header content-type: application/json"),
            "{args}"
        );
    }
}
