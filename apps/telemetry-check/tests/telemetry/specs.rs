//! Every spec file shipped under charts/*/telemetry/ (and the examples under
//! tests/specs/) passes against OBI-shaped telemetry; then, for each expectation,
//! a mutated fixture makes that expectation fail, and only it (plus expectations
//! reading the very data that was mutated).

use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::join_all;
use telemetry_check::report::Verdict;
use telemetry_check::spec::{self, Spec};

use crate::fixture::{self, repo_root};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spec_passes_on_obi_shaped_telemetry_and_each_expectation_fails_alone_when_its_data_is_mutated()
 {
    let files = spec_files();
    assert!(!files.is_empty(), "no spec files found");
    let mut problems = Vec::new();
    let mut specs = Vec::new();
    for file in &files {
        match spec::load(file) {
            Ok(spec) => specs.push(spec),
            Err(err) => problems.push(format!("{err}")),
        }
    }
    let checked: usize = specs.iter().map(|s| s.expectations.len()).sum();
    // Three specs at a time: each keeps its own Prometheus and Jaeger alive.
    let results: Vec<Vec<String>> = futures_util::stream::iter(specs.iter().map(check_spec))
        .buffer_unordered(3)
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
    let report = scenario::check(spec, &prom_url, &jaeger_url, Duration::from_secs(3)).await;
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
            let timeout = Duration::from_secs(2);
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
    problems.extend(join_all(mutations).await.into_iter().flatten());
    problems
}
