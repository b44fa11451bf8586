//! Helm itself: dependency archives, `helm lint --strict`, `helm template`.

use std::path::Path;
use std::process::Output;

use anyhow::{Context, Result};

use super::inventory::Chart;
use super::shown;
use super::toolchain::{self, KUBERNETES_VERSION};

/// Release name and namespace of every render: the names the docs use.
pub const RELEASE: &str = "obi-examples";

/// `helm dependency update` of every chart, dependencies first (all `file://`, so
/// offline). Writes only the gitignored `Chart.lock` and `charts/*/charts/`
/// archives; `update` rather than `build`, so that a chart version bumped since the
/// last run never leaves a stale lock behind that fails the gate.
pub fn build_dependencies(charts: &[Chart]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for chart in charts.iter().filter(|c| !c.meta.dependencies.is_empty()) {
        let out = run(&["dependency", "update", "--skip-refresh"], &chart.dir)?;
        if !out.status.success() {
            problems.push(format!(
                "{}: helm dependency update failed:\n{}",
                shown(chart),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(problems)
}

/// `helm lint --strict` of every chart with each of its `ci/*-values.yaml` (a
/// library chart, or one without ci files, with its defaults).
pub fn lint_all(charts: &[Chart]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for chart in charts {
        let mut variants: Vec<Option<&Path>> =
            chart.ci_values.iter().map(|p| Some(p.as_path())).collect();
        if variants.is_empty() {
            variants.push(None);
        }
        for values in variants {
            let mut args = vec!["lint", "--strict"];
            let dir = chart.dir.to_str().context("chart path is not UTF-8")?;
            args.push(dir);
            let values_arg;
            if let Some(values) = values {
                values_arg = values
                    .to_str()
                    .context("values path is not UTF-8")?
                    .to_owned();
                args.extend(["-f", values_arg.as_str()]);
            }
            let out = run(&args, &chart.dir)?;
            if !out.status.success() {
                problems.push(format!(
                    "{} with {}: helm lint --strict failed:\n{}",
                    shown(chart),
                    values.map_or("its defaults".into(), |v| v.display().to_string()),
                    String::from_utf8_lossy(&out.stdout).trim()
                ));
            }
        }
    }
    Ok(problems)
}

/// `helm template` of `chart` as release `obi-examples` in namespace `obi-examples`,
/// with an optional values file and `--set` overrides. Returns the process output.
pub fn template(chart: &Chart, values: Option<&Path>, set: &[&str]) -> Result<Output> {
    let dir = chart.dir.to_str().context("chart path is not UTF-8")?;
    let mut args = vec![
        "template",
        RELEASE,
        dir,
        "--namespace",
        RELEASE,
        "--kube-version",
        KUBERNETES_VERSION,
    ];
    let values_arg;
    if let Some(values) = values {
        values_arg = values
            .to_str()
            .context("values path is not UTF-8")?
            .to_owned();
        args.extend(["-f", values_arg.as_str()]);
    }
    for item in set {
        args.extend(["--set", item]);
    }
    run(&args, &chart.dir)
}

fn run(args: &[&str], dir: &Path) -> Result<Output> {
    toolchain::command("helm")
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot start `helm {}`", args.join(" ")))
}
