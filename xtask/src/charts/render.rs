//! Renders every chart × every `ci/*-values.yaml` once; the validators
//! (kubeconform, PSS, golden) share these renders.

use anyhow::Result;

use super::helm;
use super::inventory::Chart;
use super::shown;
use crate::paths;

/// The umbrella chart, which the `values/` profiles are written for.
pub const UMBRELLA: &str = "obi-examples";

/// One successful `helm template` output.
#[derive(Debug, Clone)]
pub struct Render {
    /// Chart name.
    pub chart: String,
    /// Variant name: the ci file name without `-values.yaml`, e.g. `01-default`.
    pub variant: String,
    /// The command line, for golden headers and messages.
    pub command: String,
    /// The rendered manifests.
    pub manifests: String,
    /// Committed under `charts/<chart>/tests/golden/` (ci variants) or only validated (`values/` profiles).
    pub golden: bool,
}

impl Render {
    /// `<chart>/<variant>`, for messages.
    pub fn label(&self) -> String {
        format!("{}/{}", self.chart, self.variant)
    }
}

/// Renders every non-library chart with each of its ci values files. Returns the
/// renders and, separately, one problem per failed render.
pub fn render_all(charts: &[Chart]) -> Result<(Vec<Render>, Vec<String>)> {
    let mut renders = Vec::new();
    let mut problems = Vec::new();
    for chart in charts.iter().filter(|c| !c.is_library()) {
        if chart.ci_values.is_empty() {
            problems.push(format!(
                "{}: no ci/*-values.yaml; add at least ci/01-default-values.yaml",
                shown(chart)
            ));
        }
        for values in &chart.ci_values {
            let file = values
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let variant = file.trim_end_matches("-values.yaml").to_owned();
            let out = helm::template(chart, Some(values), &[])?;
            let command = format!(
                "helm template {0} charts/{1} -n {0} -f charts/{1}/ci/{file}",
                helm::RELEASE,
                chart.name
            );
            if out.status.success() {
                renders.push(Render {
                    chart: chart.name.clone(),
                    variant,
                    command,
                    manifests: String::from_utf8_lossy(&out.stdout).into_owned(),
                    golden: true,
                });
            } else {
                problems.push(format!(
                    "`{command}` failed:\n{}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    render_profiles(charts, &mut renders, &mut problems)?;
    Ok((renders, problems))
}

/// Renders the umbrella with each user-facing profile in `values/` (all but
/// `obi*.yaml`, which are for the OBI chart), so that they stay valid.
fn render_profiles(
    charts: &[Chart],
    renders: &mut Vec<Render>,
    problems: &mut Vec<String>,
) -> Result<()> {
    let Some(umbrella) = charts.iter().find(|c| c.name == UMBRELLA) else {
        problems.push(format!("no umbrella chart charts/{UMBRELLA}"));
        return Ok(());
    };
    let dir = paths::root().join("values");
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with("obi"))
        })
        .collect();
    files.sort();
    for values in files {
        let file = values
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let command = format!(
            "helm template {0} charts/{UMBRELLA} -n {0} -f values/{file}",
            helm::RELEASE
        );
        let out = helm::template(umbrella, Some(&values), &[])?;
        if out.status.success() {
            renders.push(Render {
                chart: UMBRELLA.into(),
                variant: format!("values-{}", file.trim_end_matches(".yaml")),
                command,
                manifests: String::from_utf8_lossy(&out.stdout).into_owned(),
                golden: false,
            });
        } else {
            problems.push(format!(
                "`{command}` failed:\n{}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(())
}

/// Splits a multi-document render into parsed documents (empty ones skipped).
pub fn documents(manifests: &str) -> Result<Vec<serde_json::Value>> {
    use serde::Deserialize;
    let mut docs = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(manifests) {
        let value = serde_json::Value::deserialize(doc)?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_skips_empty_ones_and_keeps_order() {
        let docs = documents("---\n# only a comment\n---\nkind: A\n---\nkind: B\n").unwrap();
        let kinds: Vec<_> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["A", "B"]);
    }
}
