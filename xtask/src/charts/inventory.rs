//! What is under `charts/`: each chart's metadata, its `ci/*-values.yaml` files, and
//! an order in which `file://` dependencies come before the charts that use them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::paths;

/// Annotation naming the app a chart installs (see obi-examples-lib `_names.tpl`).
pub const APP_ANNOTATION: &str = "obi-examples.io/app";
/// Annotation marking an app chart (one with a protocol, probes and a load Job).
pub const PROTOCOL_ANNOTATION: &str = "obi-examples.io/protocol";

/// One chart directory.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Directory name, which is also the chart name.
    pub name: String,
    /// Absolute directory.
    pub dir: PathBuf,
    /// Parsed `Chart.yaml`.
    pub meta: ChartYaml,
    /// `ci/*-values.yaml`, sorted; empty for a library chart.
    pub ci_values: Vec<PathBuf>,
}

impl Chart {
    /// A library chart: linted, never rendered.
    pub fn is_library(&self) -> bool {
        self.meta.kind.as_deref() == Some("library")
    }

    /// An app chart built on the library (has a protocol, a k6 Job and a dashboard).
    pub fn app(&self) -> Option<&str> {
        self.meta
            .annotations
            .get(PROTOCOL_ANNOTATION)
            .and(self.meta.annotations.get(APP_ANNOTATION))
            .map(String::as_str)
    }

    /// Charts this one depends on through `file://../<name>`.
    pub fn local_dependencies(&self) -> Vec<String> {
        self.meta
            .dependencies
            .iter()
            .filter_map(|dep| dep.repository.strip_prefix("file://../"))
            .map(|name| name.trim_end_matches('/').to_owned())
            .collect()
    }
}

/// The fields of `Chart.yaml` the gate uses.
#[derive(Debug, Clone, Deserialize)]
pub struct ChartYaml {
    pub name: String,
    #[serde(default)]
    pub version: String,
    /// `appVersion`: for our charts, the default tag of our images.
    #[serde(default, rename = "appVersion")]
    pub app_version: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
}

/// One entry of `dependencies:`.
#[derive(Debug, Clone, Deserialize)]
pub struct Dependency {
    pub name: String,
    #[serde(default)]
    pub repository: String,
    pub alias: Option<String>,
}

/// Every chart under `charts/`, dependencies first.
pub fn charts() -> Result<Vec<Chart>> {
    let root = paths::root().join("charts");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&root).with_context(|| format!("reading {}", root.display()))? {
        let dir = entry?.path();
        if dir.join("Chart.yaml").is_file() {
            found.push(load(&dir)?);
        }
    }
    dependency_order(found)
}

fn load(dir: &Path) -> Result<Chart> {
    let file = dir.join("Chart.yaml");
    let text = std::fs::read_to_string(&file)?;
    let meta: ChartYaml =
        serde_yaml_ng::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("chart directory name is not UTF-8")?
        .to_owned();
    if meta.name != name {
        bail!(
            "{}: chart name `{}` differs from its directory `{name}`",
            file.display(),
            meta.name
        );
    }
    let mut ci_values = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("ci")) {
        for entry in entries {
            let path = entry?.path();
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if file_name.ends_with("-values.yaml") {
                ci_values.push(path);
            }
        }
    }
    ci_values.sort();
    Ok(Chart {
        name,
        dir: dir.to_owned(),
        meta,
        ci_values,
    })
}

/// Sorts charts so that every `file://` dependency precedes its users (name order
/// otherwise); fails on a cycle or a dependency that is not under `charts/`.
fn dependency_order(mut pending: Vec<Chart>) -> Result<Vec<Chart>> {
    pending.sort_by(|a, b| a.name.cmp(&b.name));
    let known: Vec<String> = pending.iter().map(|c| c.name.clone()).collect();
    for chart in &pending {
        for dep in chart.local_dependencies() {
            if !known.contains(&dep) {
                bail!(
                    "charts/{}: dependency file://../{dep} is not a chart under charts/",
                    chart.name
                );
            }
        }
    }
    let mut ordered: Vec<Chart> = Vec::new();
    while !pending.is_empty() {
        let ready = pending.iter().position(|chart| {
            chart
                .local_dependencies()
                .iter()
                .all(|dep| ordered.iter().any(|done| &done.name == dep))
        });
        match ready {
            Some(index) => ordered.push(pending.remove(index)),
            None => bail!(
                "dependency cycle among charts: {}",
                pending
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(name: &str, deps: &[&str]) -> Chart {
        Chart {
            name: name.into(),
            dir: PathBuf::from(name),
            meta: ChartYaml {
                name: name.into(),
                version: "0.1.0".into(),
                app_version: None,
                kind: None,
                annotations: BTreeMap::new(),
                dependencies: deps
                    .iter()
                    .map(|d| Dependency {
                        name: (*d).into(),
                        repository: format!("file://../{d}"),
                        alias: None,
                    })
                    .collect(),
            },
            ci_values: Vec::new(),
        }
    }

    #[test]
    fn dependencies_come_before_the_charts_that_use_them() {
        let charts = vec![
            chart("umbrella", &["app", "lib"]),
            chart("app", &["lib"]),
            chart("lib", &[]),
        ];
        let names: Vec<_> = dependency_order(charts)
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["lib", "app", "umbrella"]);
    }

    #[test]
    fn a_cycle_is_reported() {
        let err = dependency_order(vec![chart("a", &["b"]), chart("b", &["a"])]).unwrap_err();
        assert!(err.to_string().contains("cycle"), "{err}");
    }

    #[test]
    fn a_dependency_outside_charts_is_reported() {
        let err = dependency_order(vec![chart("a", &["missing"])]).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
