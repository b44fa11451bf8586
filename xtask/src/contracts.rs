//! `cargo xtask contracts`: the contract gate. Each HTTP app, started on a free
//! loopback port against the real services, is fuzzed by schemathesis from its own
//! `/openapi.json` with every check, its stateful links (inferred from its response
//! schemas and `Location` headers), and its credentials where the API takes them.
//! Bounded in examples and time; 0 failures allowed, and the operations whose work
//! matters most must have been answered 2xx at least once (an API whose schema never
//! yields an accepted request gets no coverage of its real work: kafka-streaming's
//! publish path was such a case).
//!
//! What schemathesis is told per app lives next to the app, in
//! `apps/<name>/schemathesis.toml` (auth, and the few answers that depend on state
//! rather than on the request, each with its reason).
//!
//! An app that calls others (checkout) is fuzzed with them running ([`shop`]).

mod shop;

use std::fs::File;
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::apps::{self, App, Protocol};
use crate::process::{self, AppProcess, Profile};
use crate::{cmd, paths};

/// Test cases per operation and phase: enough to reach every documented rule, small
/// enough that the four apps take under three minutes on two cores.
const MAX_EXAMPLES: u32 = 25;

/// Each app's hard stop, in seconds (schemathesis ends the run when it is spent).
const MAX_SECONDS: u32 = 35;

/// The seed: a run is reproducible; `CONTRACTS_SEED` explores others.
const SEED: &str = "20261203";

/// `cargo xtask contracts [app ...]`: every HTTP app, or the ones named.
pub fn run(names: &[&str]) -> Result<()> {
    let apps: Vec<&'static App> = if names.is_empty() {
        http_apps()
    } else {
        names
            .iter()
            .map(|name| App::named(name))
            .collect::<Result<_>>()?
    };
    check_apps(&apps)
}

/// The gate's step: every HTTP app whose crate exists.
pub fn check() -> Result<()> {
    check_apps(&http_apps())
}

/// The HTTP apps the gate fuzzes; one that calls others (checkout: `calls` in
/// apps.toml) with those running.
fn http_apps() -> Vec<&'static App> {
    apps::existing()
        .into_iter()
        .filter(|app| app.protocol == Protocol::Http)
        .collect()
}

/// The apps to build: `apps` and every app they call.
fn with_called(apps: &[&'static App]) -> Result<Vec<&'static App>> {
    let mut all: Vec<&'static App> = apps.to_vec();
    for app in apps {
        for name in app.calls {
            let called = App::named(name)?;
            if !all.iter().any(|known| known.name == called.name) {
                all.push(called);
            }
        }
    }
    Ok(all)
}

fn check_apps(apps: &[&'static App]) -> Result<()> {
    let schemathesis = paths::tools_bin().join("schemathesis");
    if !schemathesis.is_file() {
        bail!(
            "{} is missing: run `cargo xtask tools`",
            schemathesis.display()
        );
    }
    if let Some(app) = apps.iter().find(|app| app.protocol != Protocol::Http) {
        bail!(
            "{} speaks gRPC: its contract is its own tests' sweep",
            app.name
        );
    }
    process::build(&with_called(apps)?, Profile::Debug)?;
    let dir = paths::target().join("contracts");
    let seed = std::env::var("CONTRACTS_SEED").unwrap_or_else(|_| SEED.to_owned());
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for &app in apps {
        match fuzz(app, &schemathesis, &dir, &seed) {
            Ok(outcome) => {
                if !outcome.problems.is_empty() {
                    failed.push(format!("{}: {}", app.name, outcome.problems.join("; ")));
                }
                rows.push((app.name, outcome));
            }
            Err(err) => failed.push(format!("{}: {err:#}", app.name)),
        }
    }
    eprintln!("\napp                test cases  failures  seconds");
    for (name, outcome) in &rows {
        eprintln!(
            "{name:<18} {:>10}  {:>8}  {:>7.1}",
            outcome.cases, outcome.failures, outcome.seconds
        );
    }
    eprintln!(
        "contracts: {} apps in {:.1}s (seed {seed}; reports in {})",
        rows.len(),
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    if !failed.is_empty() {
        bail!("contract violations:\n  {}", failed.join("\n  "));
    }
    Ok(())
}

/// One app's run, read from its JSON report.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    cases: u64,
    failures: u64,
    seconds: f64,
    /// Why the run fails the gate; empty when it passes.
    problems: Vec<String>,
}

/// Settings of an app for the run. The fuzzer is one client sending as fast as it
/// can: http-rest-api's per-client rate limit would answer it 429 before checking
/// anything else, so the limit is off here (its own tests: tests/api/rate_limit.rs).
fn run_env(app: &App) -> &'static [(&'static str, &'static str)] {
    match app.name {
        "http-rest-api" => &[("APP__RATE_LIMIT__ENABLED", "false")],
        _ => &[],
    }
}

fn fuzz(app: &'static App, schemathesis: &Path, dir: &Path, seed: &str) -> Result<Outcome> {
    let config = app.dir().join("schemathesis.toml");
    if !config.is_file() {
        bail!("{} is missing", config.display());
    }
    let mut shop = if app.calls.is_empty() {
        None
    } else {
        Some(shop::Shop::start(app, dir)?)
    };
    let mut env: Vec<(&str, &str)> = run_env(app).to_vec();
    let mut headers = Vec::new();
    if let Some(shop) = &shop {
        env.extend(shop.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        headers = vec![
            "--header".to_owned(),
            format!("Authorization: {}", shop.authorization),
        ];
    }
    let port = free_port()?;
    let mut running = AppProcess::start_on(app, Profile::Debug, dir, &env, port)?;
    let report = dir.join(format!("{}.report.json", app.name));
    let output = dir.join(format!("{}.schemathesis.txt", app.name));
    let _ = std::fs::remove_file(&report);
    let log =
        File::create(&output).with_context(|| format!("cannot create {}", output.display()))?;
    eprintln!(
        "contracts: fuzzing {} at {} (output: {})",
        app.name,
        running.base_url(),
        output.display()
    );
    let status = cmd::new(schemathesis)
        // Its cache (`.schemathesis/`) lands in the working directory.
        .current_dir(dir)
        .arg("--no-color")
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/openapi.json", running.base_url()))
        .args(["--checks", "all"])
        // One worker: the machine has two cores and the app needs one.
        .args(["--workers", "1"])
        .args(["--max-examples", &MAX_EXAMPLES.to_string()])
        .args(["--max-time", &MAX_SECONDS.to_string()])
        .args(["--seed", seed])
        .args(&headers)
        .args(["--report", "json", "--report-json-path"])
        .arg(&report)
        .stdout(log.try_clone()?)
        .stderr(log)
        .stdin(Stdio::null())
        .status()
        .context("cannot start schemathesis (run `cargo xtask tools`)");
    let exited = running.exited();
    running.stop();
    if let Some(shop) = &mut shop {
        shop.stop();
    }
    let status = status?;
    let text = std::fs::read_to_string(&report).with_context(|| {
        format!(
            "schemathesis ({status}) wrote no report; see {}",
            output.display()
        )
    })?;
    let json: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", report.display()))?;
    let mut outcome = read_report(&json, must_accept(app))?;
    if let Some(exit) = exited {
        outcome
            .problems
            .push(format!("the app exited during the run ({exit})"));
    }
    if outcome.problems.is_empty() && !status.success() {
        outcome
            .problems
            .push(format!("schemathesis exited with {status}"));
    }
    if !outcome.problems.is_empty() {
        eprint!("{}", failures_section(&output));
    }
    Ok(outcome)
}

/// Operations whose real work the fuzzer must reach: at least one generated request
/// accepted (2xx). kafka-streaming's publish path once got none (its schema did not
/// say what a valid event is), so nothing behind it was fuzzed.
fn must_accept(app: &App) -> &'static [&'static str] {
    match app.name {
        "kafka-streaming" => &["POST /api/v1/events", "POST /api/v1/events/batch"],
        // The whole journey, across the five apps it calls, at least once.
        "checkout" => &["POST /api/v1/checkout"],
        _ => &[],
    }
}

/// A port nobody listens on now (the kernel's pick).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Counts and verdict of a schemathesis JSON report (`--report json`).
fn read_report(json: &Value, must_accept: &[&str]) -> Result<Outcome> {
    let number = |pointer: &str| -> Result<u64> {
        json.pointer(pointer)
            .and_then(Value::as_u64)
            .with_context(|| format!("the report has no `{pointer}`"))
    };
    let cases = number("/test_cases/generated")?;
    let failures = number("/test_cases/unique_failures")?;
    let errored = number("/test_cases/errored")?;
    let errors = json
        .get("errors")
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as u64;
    let mut problems = Vec::new();
    for failure in json
        .get("failures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        problems.push(format!(
            "{} {} ({}×, {})",
            failure["code"].as_str().unwrap_or("?"),
            failure["title"].as_str().unwrap_or("?"),
            failure["count"].as_u64().unwrap_or(0),
            failure["operations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if failures > 0 && problems.is_empty() {
        problems.push(format!("{failures} failures"));
    }
    if errored + errors > 0 {
        problems.push(format!(
            "{} errors (schemathesis could not test; see its output)",
            errored.max(errors)
        ));
    }
    for operation in must_accept {
        let accepted: u64 = json
            .pointer("/valid_rates")
            .and_then(|rates| rates.get(*operation))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(_, phase)| phase.get("accepted").and_then(Value::as_u64))
            .sum();
        if accepted == 0 {
            problems.push(format!(
                "{operation} never accepted a generated request: its schema does not say what a valid one is"
            ));
        }
    }
    let tested = number("/operations/tested")?;
    let selected = number("/operations/selected")?;
    if tested < selected {
        problems.push(format!("{tested} of {selected} operations tested"));
    }
    Ok(Outcome {
        cases,
        failures: failures + errored.max(errors),
        seconds: json["running_time"].as_f64().unwrap_or(0.0),
        problems,
    })
}

/// The FAILURES and ERRORS sections of schemathesis's output, for the gate's log.
fn failures_section(output: &Path) -> String {
    let text = std::fs::read_to_string(output).unwrap_or_default();
    match text
        .find("=== ERRORS ===")
        .or_else(|| text.find("=== FAILURES ==="))
    {
        Some(start) => {
            let start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            text[start..].to_owned()
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const EVENTS: &[&str] = &["POST /api/v1/events"];

    fn report(failures: Value, accepted: u64) -> Value {
        json!({
            "running_time": 12.5,
            "operations": {"total": 2, "selected": 2, "tested": 2},
            "test_cases": {"generated": 400, "with_failures": 1, "unique_failures": failures.as_array().unwrap().len(), "errored": 0},
            "failures": failures,
            "errors": [],
            "valid_rates": {
                "POST /api/v1/events": {"coverage": {"accepted": accepted, "rejected": 3}, "fuzzing": {"accepted": 0, "rejected": 9}},
                "GET /api/v1/stats": {"fuzzing": {"accepted": 5, "rejected": 0}}
            }
        })
    }

    #[test]
    fn a_clean_report_passes_with_its_counts() {
        let outcome = read_report(&report(json!([]), 4), EVENTS).unwrap();
        assert_eq!(
            outcome,
            Outcome {
                cases: 400,
                failures: 0,
                seconds: 12.5,
                problems: vec![]
            }
        );
    }

    /// The mutation the gate exists for: an app whose answer violates its schema.
    #[test]
    fn a_schema_violation_fails_and_is_named() {
        let violation = json!([{
            "type": "ResponseSchemaConformance", "code": "ST101",
            "title": "Response violates schema", "count": 3,
            "operations": ["GET /api/v1/products"]
        }]);
        let outcome = read_report(&report(violation, 4), EVENTS).unwrap();
        assert_eq!(outcome.failures, 1);
        assert_eq!(
            outcome.problems,
            ["ST101 Response violates schema (3×, GET /api/v1/products)"]
        );
    }

    #[test]
    fn an_operation_never_accepted_fails() {
        let outcome = read_report(&report(json!([]), 0), EVENTS).unwrap();
        assert_eq!(outcome.problems.len(), 1);
        assert!(
            outcome.problems[0].starts_with("POST /api/v1/events never accepted"),
            "{:?}",
            outcome.problems
        );
    }

    #[test]
    fn errors_and_untested_operations_fail() {
        let mut json = report(json!([]), 4);
        json["errors"] = json!([{"title": "Runtime Error"}]);
        json["operations"]["tested"] = json!(1);
        let outcome = read_report(&json, EVENTS).unwrap();
        assert_eq!(outcome.failures, 1);
        assert_eq!(outcome.problems.len(), 2, "{:?}", outcome.problems);
    }

    #[test]
    fn a_report_without_counts_is_an_error() {
        let message = format!("{:#}", read_report(&json!({}), EVENTS).unwrap_err());
        assert!(message.contains("/test_cases/generated"), "{message}");
    }

    #[test]
    fn every_http_app_has_its_schemathesis_config() {
        assert!(
            http_apps().iter().any(|app| app.name == "checkout"),
            "checkout is fuzzed, with the apps it calls"
        );
        for app in http_apps() {
            let config = app.dir().join("schemathesis.toml");
            assert!(config.is_file(), "{} is missing", config.display());
        }
    }
}
