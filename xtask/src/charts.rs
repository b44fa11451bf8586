//! The offline chart gate (`charts check`) and the generator of everything it
//! checks for drift (`charts generate`).
//!
//! `check` is read-only for tracked files (it builds the gitignored `charts/*/charts/`
//! dependency archives) and runs every step even after a failure, so one run lists
//! every problem; it fails at the end if any step found one. Steps:
//!
//! 1. generated files (k6 library and dashboard copies, app-chart schemas,
//!    `values/obi.yaml`, what `apps.toml` generates) match their sources
//!    ([`generated`]), each app's own files agree with `apps.toml` ([`registry`]),
//!    and every install of OBI in the docs and workflows uses the pinned version
//!    ([`obi_pin`]); every `ci/*-values.yaml` names only Secrets, hosts and fault
//!    specs that the kind job provides ([`ci_values`]); every chart running our
//!    images has the Cargo version as appVersion ([`versions`]); every fault of
//!    every catalog has its values key, symptom spec, dashboard panel and guide
//!    entry ([`scenarios`]); every app page has the template's sections and every
//!    relative link in the docs resolves ([`app_docs`]);
//! 2. dashboards use a `${datasource}` variable, never a hard-coded UID ([`dashboards`]);
//!    k6 scripts parse and import only what their ConfigMap carries ([`k6_scripts`]);
//! 3. `helm lint --strict` of every chart × every `ci/*-values.yaml` ([`helm`]);
//! 4. `helm template` of the same (and of the umbrella with each `values/` profile),
//!    then kubeconform `-strict` against pinned
//!    Kubernetes schemas ([`kubeconform`]), the pod rules beyond restricted PSS ([`pss`]) and the
//!    golden renders under `charts/<chart>/tests/golden/` ([`golden`]);
//! 5. values behaviour, each chart's helm-unittest suites under `tests/`: a
//!    mistyped key fails naming it, global image overrides reach our images only
//!    ([`unittest`]);
//! 6. chart READMEs match helm-docs and every value is documented ([`docs`]);
//! 7. `ct lint` with `ct.yaml` and `.ct/` ([`ct`]).

mod app_docs;
mod ci_values;
mod ct;
mod dashboards;
mod docs;
mod generated;
mod golden;
mod helm;
mod inventory;
mod k6_scripts;
mod kubeconform;
mod load_guide;
mod obi_pin;
mod obi_routes;

mod pss;
mod registry;
mod render;
mod scenarios;
mod schema;
mod toolchain;
mod unittest;

/// Copies `charts/<name>` into `to` without what `helm dependency` built in it (its
/// `charts/` and `Chart.lock`, both ignored), for tests that build or mutate a chart.
#[cfg(test)]
pub(crate) fn copy_chart(name: &str, to: &std::path::Path) {
    let from = paths::root().join("charts").join(name);
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
    let _ = std::fs::remove_dir_all(to.join(name).join("charts"));
    let _ = std::fs::remove_file(to.join(name).join("Chart.lock"));
}
pub mod versions;

use std::time::Instant;

use anyhow::{Result, bail};

use crate::paths;
use inventory::Chart;

/// Collects the problems of all steps so that one run reports all of them.
#[derive(Debug, Default)]
struct Report {
    problems: Vec<String>,
}

impl Report {
    /// Runs one step, recording its problems (or its error) under its name.
    fn step(&mut self, name: &str, step: impl FnOnce() -> Result<Vec<String>>) {
        let started = Instant::now();
        eprintln!("charts: {name} ...");
        let problems = match step() {
            Ok(problems) => problems,
            Err(err) => vec![format!("{err:#}")],
        };
        let took = started.elapsed().as_secs_f32();
        if problems.is_empty() {
            eprintln!("charts: {name} ok ({took:.1}s)");
        } else {
            eprintln!("charts: {name} FAILED ({took:.1}s)");
            self.problems
                .extend(problems.into_iter().map(|p| format!("[{name}] {p}")));
        }
    }
}

/// The whole offline chart gate. Fails if any step found a problem.
pub fn check() -> Result<()> {
    let started = Instant::now();
    let charts = inventory::charts()?;
    let mut report = Report::default();

    report.step("generated files", || generated::check(&charts));
    report.step("apps registry", || {
        registry::check(&crate::apps::ALL, &charts)
    });
    report.step("OBI pin", obi_pin::check);
    report.step("ci values on kind", || ci_values::check(&charts));
    report.step("release versions", || versions::check(&charts));
    report.step("scenario registry", scenarios::check);
    report.step("docs template and links", app_docs::check);
    report.step("dashboards", dashboards::check);
    report.step("k6 scripts", || k6_scripts::check(&charts));
    let tools_ready = match toolchain::require_all() {
        Ok(()) => true,
        Err(err) => {
            report.problems.push(format!("[tools] {err:#}"));
            false
        }
    };
    if tools_ready {
        report.step("helm dependency build", || {
            helm::build_dependencies(&charts)
        });
        report.step("helm lint --strict", || helm::lint_all(&charts));
        let mut renders = Vec::new();
        report.step("helm template", || {
            let (ok, problems) = render::render_all(&charts)?;
            renders = ok;
            Ok(problems)
        });
        report.step("kubeconform -strict", || kubeconform::validate(&renders));
        report.step("pod rules beyond restricted PSS", || {
            Ok(pss::check_renders(&renders))
        });
        report.step("golden renders", || golden::check(&renders, &charts));
        report.step("helm-unittest suites", || unittest::run(&charts));
        report.step("helm-docs", || docs::check(&charts));
        report.step("ct lint", ct::lint);
    }

    let took = started.elapsed().as_secs_f32();
    if report.problems.is_empty() {
        eprintln!("charts: all checks passed in {took:.1}s");
        return Ok(());
    }
    for problem in &report.problems {
        eprintln!("  - {problem}");
    }
    bail!(
        "{} chart problem(s) in {took:.1}s; generated files and READMEs are fixed by \
         `cargo xtask charts generate`, the rest by editing the named chart",
        report.problems.len()
    )
}

/// Rewrites everything the gate checks for drift: generated copies, schemas,
/// `values/obi.yaml`, golden renders and chart READMEs.
pub fn generate() -> Result<()> {
    let charts = inventory::charts()?;
    generated::write(&charts)?;
    toolchain::require_all()?;
    helm::build_dependencies(&charts).and_then(fail_on_problems)?;
    let (renders, problems) = render::render_all(&charts)?;
    fail_on_problems(problems)?;
    golden::write(&renders, &charts)?;
    docs::write(&charts)?;
    eprintln!(
        "charts: generated files are up to date under {}",
        paths::root().display()
    );
    Ok(())
}

fn fail_on_problems(problems: Vec<String>) -> Result<()> {
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("\n"))
    }
}

/// The charts a step iterates over, for messages: `charts/<name>`.
fn shown(chart: &Chart) -> String {
    format!("charts/{}", chart.name)
}
