//! Every spec file shipped under charts/*/telemetry/ (and the examples under
//! tests/specs/) loads and passes the lint, passes against OBI-shaped telemetry,
//! and, for each expectation, a mutated fixture makes that expectation fail, and
//! only it (plus expectations reading the very data that was mutated). Each main
//! spec holds, or skips what the fault invalidates, under every fault its chart
//! offers; and "no data" fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use telemetry_check::report::Verdict;
use telemetry_check::spec::{self, Check, LoadOptions, Spec};

use crate::fixture::{self, Obi, repo_root};
use crate::mutate::{self, Touched};
use crate::scenario::{self, slots};

/// Spec files in name order: the charts' first, then this crate's examples.
pub fn spec_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let charts = repo_root().join("charts");
    for chart in std::fs::read_dir(&charts).expect("charts/").flatten() {
        let dir = chart.path().join("telemetry");
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if spec::is_spec_file(&entry.path()) {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    let mut examples: Vec<PathBuf> =
        std::fs::read_dir(repo_root().join("apps/telemetry-check/tests/specs"))
            .expect("tests/specs/")
            .flatten()
            .map(|e| e.path())
            .filter(|p| spec::is_spec_file(p))
            .collect();
    examples.sort();
    files.extend(examples);
    files
}

/// How long one backend answer may take (one attempt per expectation: the data
/// is loaded before a run); generous, as the backends share two cores.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// A spec as the chart's test pod loads it: linted for OBI's default export
/// interval, `${faults.*}` filled from the chart's default fault settings.
pub fn load_resolved(file: &Path) -> Result<Spec, String> {
    let raw = spec::load(file).map_err(|err| err.to_string())?;
    let options = LoadOptions {
        fault_settings: Some(fixture::fault_settings(&raw.app)),
        ..LoadOptions::default()
    };
    spec::load_with(file, &options).map_err(|err| err.to_string())
}

/// The faults a chart offers: every `faults.<name>` with an `enabled` switch.
pub fn offered_faults(app: &str) -> Vec<String> {
    let settings = fixture::fault_settings(app);
    let mut faults: Vec<String> = settings
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, value)| value.get("enabled").is_some())
        .map(|(name, _)| name.clone())
        .collect();
    faults.sort();
    faults
}

#[test]
fn every_shipped_spec_loads_passes_the_lint_and_names_only_offered_faults() {
    let mut problems = Vec::new();
    for file in spec_files() {
        let spec = match load_resolved(&file) {
            Ok(spec) => spec,
            Err(err) => {
                problems.push(err);
                continue;
            }
        };
        let offered = offered_faults(&spec.app);
        for expectation in &spec.expectations {
            for fault in &expectation.unless_faults {
                if !offered.contains(fault) {
                    problems.push(format!(
                        "{}: {:?}: unless_faults names {fault:?}, which charts/{}/values.yaml does not offer ({})",
                        file.display(),
                        expectation.name,
                        spec.app,
                        offered.join(", ")
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_fault_a_chart_offers_has_a_symptom_spec() {
    let mut problems = Vec::new();
    for app in fixture::APPS {
        for fault in offered_faults(app) {
            let file = repo_root()
                .join("charts")
                .join(app)
                .join("telemetry")
                .join(format!("{app}-{fault}.yaml"));
            if !file.is_file() {
                problems.push(format!(
                    "charts/{app} offers faults.{fault} but has no {}",
                    file.strip_prefix(repo_root()).unwrap_or(&file).display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spec_passes_on_obi_shaped_telemetry_and_each_expectation_fails_alone_when_its_data_is_mutated()
 {
    let files = spec_files();
    assert!(!files.is_empty(), "no spec files found");
    let mut problems = Vec::new();
    let mut specs = Vec::new();
    for file in &files {
        match load_resolved(file) {
            Ok(spec) => specs.push(spec),
            Err(err) => problems.push(err),
        }
    }
    let checked: usize = specs.iter().map(|s| s.expectations.len()).sum();
    // Two specs at a time, each with two mutations at a time: every scenario keeps
    // its own Prometheus and Jaeger alive, on two cores shared with other work.
    let results: Vec<Vec<String>> = futures_util::stream::iter(specs.iter().map(check_spec))
        .buffer_unordered(2)
        .collect()
        .await;
    problems.extend(results.into_iter().flatten());
    eprintln!(
        "checked {checked} expectations from {} spec files",
        files.len()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

async fn check_spec(spec: &Spec) -> Vec<String> {
    let name = spec
        .file
        .strip_prefix(repo_root())
        .unwrap_or(&spec.file)
        .display()
        .to_string();
    let fixture = match fixture::app(&spec.app, spec.fault.as_deref()) {
        Ok(fixture) => fixture,
        Err(err) => return vec![format!("{name}: {err}")],
    };
    let (prometheus, jaeger) = {
        let _slot = slots().acquire().await.expect("semaphore");
        tokio::join!(
            scenario::prometheus_with(&fixture),
            scenario::jaeger_with(&fixture)
        )
    };
    let (prom_url, jaeger_url) = (prometheus.process.url(), jaeger.url());
    let mut problems = Vec::new();
    let report = scenario::check(spec, &prom_url, &jaeger_url, ANSWER_WITHIN).await;
    for outcome in report
        .outcomes
        .iter()
        .filter(|o| o.verdict != Verdict::Pass)
    {
        problems.push(format!(
            "{name}: {:?} on the unmutated fixture: {} | {}",
            outcome.name, outcome.observed, outcome.query
        ));
    }
    if !problems.is_empty() {
        return problems;
    }
    let mutations = spec.expectations.iter().map(|expectation| {
        let (fixture, name, prom_url, jaeger_url) = (&fixture, &name, &prom_url, &jaeger_url);
        async move {
            let (mutated, touched, how) = match mutate::mutate(fixture, expectation) {
                Ok(m) => m,
                Err(err) => {
                    return vec![format!(
                        "{name}: {:?}: cannot mutate the fixture to fail it: {err}",
                        expectation.name
                    )];
                }
            };
            let _slot = slots().acquire().await.expect("semaphore");
            let timeout = ANSWER_WITHIN;
            let report = match &touched {
                Touched::Series(_) => {
                    let p = scenario::prometheus_with(&mutated).await;
                    scenario::check(spec, &p.process.url(), jaeger_url, timeout).await
                }
                Touched::Spans(_) => {
                    let j = scenario::jaeger_with(&mutated).await;
                    scenario::check(spec, prom_url, &j.url(), timeout).await
                }
            };
            let mut problems = Vec::new();
            for other in &spec.expectations {
                let outcome = report
                    .outcome(&other.name)
                    .expect("one outcome per expectation");
                let target = other.name == expectation.name;
                if target && outcome.verdict != Verdict::Fail {
                    problems.push(format!(
                        "{name}: {:?} still {:?} after mutation ({how}): {}",
                        other.name, outcome.verdict, outcome.observed
                    ));
                }
                if !target
                    && outcome.verdict != Verdict::Pass
                    && !mutate::depends_on(other, &touched)
                {
                    problems.push(format!(
                        "{name}: mutating for {:?} ({how}) also failed unrelated {:?}: {}",
                        expectation.name, other.name, outcome.observed
                    ));
                }
            }
            problems
        }
    });
    let results: Vec<Vec<String>> = futures_util::stream::iter(mutations)
        .buffer_unordered(2)
        .collect()
        .await;
    problems.extend(results.into_iter().flatten());
    problems
}

/// The main spec of every app, run with each fault its chart offers switched on
/// (and the fixture playing that fault): every expectation passes or is skipped
/// because its `unless_faults` names the fault. A main-spec expectation that a
/// fault breaks without saying so fails here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_specs_hold_under_every_offered_fault_or_skip_what_it_invalidates() {
    let mut runs = Vec::new();
    for app in fixture::APPS {
        let file = repo_root()
            .join("charts")
            .join(app)
            .join("telemetry")
            .join(format!("{app}.yaml"));
        let spec = load_resolved(&file).unwrap_or_else(|err| panic!("{err}"));
        for fault in offered_faults(app) {
            runs.push((spec.clone(), fault));
        }
    }
    let results: Vec<Vec<String>> = futures_util::stream::iter(runs.iter().map(|(spec, fault)| {
        async move {
            let telemetry = match fixture::app(&spec.app, Some(fault)) {
                Ok(telemetry) => telemetry,
                Err(err) => return vec![err],
            };
            let (prometheus, jaeger) = {
                let _slot = slots().acquire().await.expect("semaphore");
                tokio::join!(
                    scenario::prometheus_with(&telemetry),
                    scenario::jaeger_with(&telemetry)
                )
            };
            let report = scenario::check_with_faults(
                spec,
                vec![fault.clone()],
                &prometheus.process.url(),
                &jaeger.url(),
                ANSWER_WITHIN,
            )
            .await;
            report
                .outcomes
                .iter()
                .filter(|o| !matches!(o.verdict, Verdict::Pass | Verdict::Skip))
                .map(|o| {
                    format!(
                        "charts/{app}/telemetry/{app}.yaml under {fault}: {:?} {:?} (add `unless_faults: [{fault}]` if the fault invalidates it): {} | {}",
                        o.name, o.verdict, o.observed, o.query,
                        app = spec.app
                    )
                })
                .collect()
        }
    }))
    .buffer_unordered(2)
    .collect()
    .await;
    let problems: Vec<String> = results.into_iter().flatten().collect();
    eprintln!("ran {} main specs under a fault", runs.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Without `application_sizes` (off by default since OBI v0.14, PR #3268) the
/// body-size histograms do not exist: the expectation on them fails as "no data",
/// naming the query, instead of passing on nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_size_expectations_fail_as_no_data_when_obi_has_the_feature_off() {
    let file = repo_root().join("charts/http-rest-api/telemetry/http-rest-api.yaml");
    let spec = load_resolved(&file).unwrap();
    let telemetry = fixture::app_with("http-rest-api", None, Obi { body_sizes: false }).unwrap();
    let prometheus = {
        let _slot = slots().acquire().await.expect("semaphore");
        scenario::prometheus_with(&telemetry).await
    };
    let metrics_only = Spec {
        expectations: spec
            .expectations
            .iter()
            .filter(|e| matches!(e.check, Check::Metric(_)))
            .cloned()
            .collect(),
        ..spec
    };
    let report = scenario::check(
        &metrics_only,
        &prometheus.process.url(),
        "http://127.0.0.1:9",
        ANSWER_WITHIN,
    )
    .await;
    let body = report
        .outcomes
        .iter()
        .find(|o| o.observed.contains("_body_size_bytes"))
        .expect("the spec has a body-size expectation");
    assert_eq!(body.verdict, Verdict::Fail, "{}", body.observed);
    assert!(
        body.observed
            .starts_with("no data: query returned no series: "),
        "{}",
        body.observed
    );
    assert!(
        report
            .outcomes
            .iter()
            .filter(|o| !o.observed.contains("_body_size_bytes"))
            .all(|o| o.verdict == Verdict::Pass),
        "{}",
        report.render()
    );
}

/// `${faults.errors.status:grpc_code}` must name the code grpc-microservice
/// answers: its `grpc_code` table, read from its source, against
/// telemetry-check's, for every status the fault model accepts.
#[test]
fn the_grpc_code_conversion_matches_grpc_microservices_table() {
    let source = walk_rs(&repo_root().join("apps/grpc-microservice/src"))
        .into_iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .find(|text| text.contains("fn grpc_code("))
        .expect("grpc-microservice has a fn grpc_code");
    let body = &source[source.find("fn grpc_code(").unwrap()..];
    let body = &body[..body.find("\n}").unwrap()];
    let arm = regex::Regex::new(r"(?m)^\s*(\d+)(?:\.\.=(\d+))?\s*=>\s*Code::(\w+)").unwrap();
    let mut arms = Vec::new();
    for c in arm.captures_iter(body) {
        let low: u16 = c[1].parse().unwrap();
        let high: u16 = c.get(2).map_or(low, |m| m.as_str().parse().unwrap());
        arms.push((low, high, screaming(&c[3])));
    }
    assert!(arms.len() >= 8, "could not read the table: {body}");
    let client_error = screaming(
        &regex::Regex::new(r"is_client_error\(\)\s*=>\s*Code::(\w+)")
            .unwrap()
            .captures(body)
            .expect("a client-error arm")[1],
    );
    let fallback = screaming(
        &regex::Regex::new(r"_\s*=>\s*Code::(\w+)")
            .unwrap()
            .captures(body)
            .expect("a fallback arm")[1],
    );
    for status in 400..=599u16 {
        let theirs = arms
            .iter()
            .find(|(low, high, _)| (*low..=*high).contains(&status))
            .map(|(_, _, code)| code.clone())
            .unwrap_or_else(|| {
                if status < 500 {
                    client_error.clone()
                } else {
                    fallback.clone()
                }
            });
        assert_eq!(
            telemetry_check::placeholders::grpc_code(status),
            theirs,
            "status {status}"
        );
    }
}

/// `InvalidArgument` → `INVALID_ARGUMENT`.
fn screaming(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn walk_rs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_rs(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}
