//! No install a chart offers may hand telemetry-check specs it cannot load: every
//! chart is rendered with each of its `ci/*-values.yaml` and, for an app chart,
//! with every fault it offers switched on at once; each rendered test pod's spec
//! ConfigMap and environment then go through telemetry-check's own loader
//! (`Args::load_specs`: lint, fault placeholders, a spec for every active fault).

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser as _;
use regex::Regex;
use serde::Deserialize as _;
use serde_yaml_ng::Value;
use telemetry_check::cli::Args;

use crate::fixture::repo_root;

/// Release name and namespace of every render.
const RELEASE: &str = "obi-examples";
/// The Kubernetes version renders assume (xtask's charts gate uses the same).
const KUBE_VERSION: &str = "1.33.0";

/// Helm from the tool cache (`cargo xtask tools`), or `HELM` when set.
fn helm() -> PathBuf {
    crate::backends::cached_tool("helm", "HELM")
}

fn run_helm(args: &[&str], dir: &Path) -> String {
    let out = Command::new(helm())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("helm runs");
    assert!(
        out.status.success(),
        "helm {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A copy of charts/ (without dependency archives) with every `file://`
/// dependency packaged, so that renders never touch the working tree.
fn charts_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&repo_root().join("charts"), dir.path());
    let mut with_dependencies: Vec<(usize, PathBuf)> = chart_dirs(dir.path())
        .into_iter()
        .filter_map(|chart| {
            let meta = chart_yaml(&chart);
            let deps = meta["dependencies"].as_sequence().map_or(0, Vec::len);
            (deps > 0).then(|| (umbrella_last(&meta), chart))
        })
        .collect();
    with_dependencies.sort();
    for (_, chart) in with_dependencies {
        run_helm(&["dependency", "update", "--skip-refresh"], &chart);
    }
    dir
}

/// Apps before the umbrella, whose dependencies are app charts.
fn umbrella_last(meta: &Value) -> usize {
    let on_apps = meta["dependencies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .any(|d| d["name"].as_str() != Some("obi-examples-lib"));
    usize::from(on_apps)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let target = to.join(&name);
        if path.is_dir() {
            // Packaged dependencies are rebuilt in the copy.
            if name == "charts" && from.join("Chart.yaml").is_file() {
                continue;
            }
            copy_tree(&path, &target);
        } else if name != "Chart.lock" {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn chart_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Chart.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn chart_yaml(chart: &Path) -> Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(chart.join("Chart.yaml")).unwrap()).unwrap()
}

/// The faults an app chart offers (`faults.<name>.enabled`).
fn offered_faults(chart: &Path) -> Vec<String> {
    let values: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(chart.join("values.yaml")).unwrap())
            .unwrap();
    values["faults"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.get("enabled").is_some())
        .filter_map(|(k, _)| k.as_str().map(str::to_owned))
        .collect()
}

fn render(chart: &Path, values: Option<&Path>, set: &[String]) -> String {
    let dir = chart.to_str().unwrap().to_owned();
    let mut args: Vec<String> = [
        "template",
        RELEASE,
        &dir,
        "--namespace",
        RELEASE,
        "--kube-version",
        KUBE_VERSION,
    ]
    .map(str::to_owned)
    .to_vec();
    if let Some(values) = values {
        args.extend(["-f".to_owned(), values.to_str().unwrap().to_owned()]);
    }
    for item in set {
        args.extend(["--set".to_owned(), item.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_helm(&args, chart)
}

/// Every test pod of a render, loaded as the pod would load its specs; one
/// message per pod whose specs telemetry-check refuses (or with no specs).
pub fn load_problems(manifest: &str) -> Vec<String> {
    let docs: Vec<Value> = serde_yaml_ng::Deserializer::from_str(manifest)
        .filter_map(|doc| Value::deserialize(doc).ok())
        .filter(|doc| !doc.is_null())
        .collect();
    let mut problems = Vec::new();
    // Test pods running telemetry-check (otel-lgtm has a readiness test of its own).
    let pods = docs.iter().filter(|d| {
        d["kind"] == "Pod"
            && d["metadata"]["annotations"]["helm.sh/hook"].as_str() == Some("test")
            && d["spec"]["containers"][0]["name"].as_str() == Some("telemetry-check")
    });
    for pod in pods {
        let name = pod["metadata"]["name"].as_str().unwrap_or("?").to_owned();
        let container = &pod["spec"]["containers"][0];
        let env = |key: &str| -> Option<String> {
            container["env"]
                .as_sequence()
                .into_iter()
                .flatten()
                .find(|e| e["name"].as_str() == Some(key))
                .and_then(|e| e["value"].as_str().map(str::to_owned))
        };
        let Some(configmap) = pod["spec"]["volumes"]
            .as_sequence()
            .into_iter()
            .flatten()
            .find_map(|v| v["configMap"]["name"].as_str())
        else {
            problems.push(format!("test pod {name}: mounts no spec ConfigMap"));
            continue;
        };
        let Some(specs) = docs.iter().find(|d| {
            d["kind"] == "ConfigMap" && d["metadata"]["name"].as_str() == Some(configmap)
        }) else {
            problems.push(format!(
                "test pod {name}: ConfigMap {configmap} is not rendered"
            ));
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in specs["data"].as_mapping().into_iter().flatten() {
            let (Some(file), Some(text)) = (file.as_str(), text.as_str()) else {
                continue;
            };
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        let mut argv = vec![
            "telemetry-check".to_owned(),
            dir.path().display().to_string(),
        ];
        for (flag, key) in [
            ("--app", "TELEMETRY_CHECK_APP"),
            ("--namespace", "TELEMETRY_CHECK_NAMESPACE"),
            ("--faults", "TELEMETRY_CHECK_FAULTS"),
            ("--fault-settings", "TELEMETRY_CHECK_FAULT_SETTINGS"),
            ("--export-interval", "TELEMETRY_CHECK_EXPORT_INTERVAL"),
        ] {
            if let Some(value) = env(key).filter(|v| !v.is_empty()) {
                argv.push(format!("{flag}={value}"));
            }
        }
        let loaded = Args::try_parse_from(&argv)
            .map_err(|err| err.to_string())
            .and_then(|args| args.load_specs().map_err(|err| err.to_string()));
        if let Err(err) = loaded {
            problems.push(format!(
                "test pod {name} (faults {:?}): {}",
                env("TELEMETRY_CHECK_FAULTS").unwrap_or_default(),
                err.replace(&dir.path().display().to_string(), "/etc/telemetry-check")
            ));
        }
    }
    problems
}

#[test]
fn every_chart_install_offered_loads_its_telemetry_specs() {
    let copy = charts_copy();
    let mut problems = Vec::new();
    let mut renders = 0;
    for chart in chart_dirs(copy.path()) {
        let meta = chart_yaml(&chart);
        if meta["type"].as_str() == Some("library") {
            continue;
        }
        let name = chart.file_name().unwrap().to_string_lossy().into_owned();
        let mut variants: Vec<(String, Option<PathBuf>, Vec<String>)> = Vec::new();
        let mut ci: Vec<PathBuf> = std::fs::read_dir(chart.join("ci"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        ci.sort();
        for file in ci {
            let shown = file.file_name().unwrap().to_string_lossy().into_owned();
            variants.push((format!("ci/{shown}"), Some(file), Vec::new()));
        }
        let faults = offered_faults(&chart);
        if !faults.is_empty() {
            let set = faults
                .iter()
                .map(|f| format!("faults.{f}.enabled=true"))
                .collect();
            variants.push((format!("every fault on ({})", faults.join(", ")), None, set));
        }
        for (what, values, set) in variants {
            renders += 1;
            let manifest = render(&chart, values.as_deref(), &set);
            problems.extend(
                load_problems(&manifest)
                    .into_iter()
                    .map(|p| format!("charts/{name} with {what}: {p}")),
            );
        }
    }
    eprintln!("loaded the specs of {renders} renders");
    assert!(renders > 0, "no chart rendered");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_fault_without_its_spec_or_with_unresolvable_settings_is_reported() {
    let copy = charts_copy();
    let chart = copy.path().join("sql-application");
    let manifest = render(&chart, None, &["faults.latency.enabled=true".to_owned()]);
    assert!(
        load_problems(&manifest).is_empty(),
        "{:?}",
        load_problems(&manifest)
    );

    // The chart offered a fault whose spec is missing from the ConfigMap.
    let without_spec = manifest.replace(
        "sql-application-latency.yaml:",
        "sql-application-latency.txt:",
    );
    let problems = load_problems(&without_spec);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("fault \"latency\" has no spec file"),
        "{problems:?}"
    );

    // The pod lost the settings the latency spec's placeholders need.
    let without_settings =
        Regex::new(r#"(?m)^(\s*)- name: TELEMETRY_CHECK_FAULT_SETTINGS\n\s*value: .*\n"#)
            .unwrap()
            .replace(&manifest, "")
            .into_owned();
    assert_ne!(
        without_settings, manifest,
        "the render passes fault settings"
    );
    let problems = load_problems(&without_settings);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("TELEMETRY_CHECK_FAULT_SETTINGS"),
        "{problems:?}"
    );
}
