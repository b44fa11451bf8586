//! `ct lint` (chart-testing) with the repository's `ct.yaml`, `.ct/chart_schema.yaml`
//! and `.ct/lintconf.yaml`: yamllint of Chart.yaml and values files, yamale
//! validation of Chart.yaml, `helm lint` with every ci values file.
//!
//! Locally every chart is linted (`--all`) without the version-increment check,
//! which needs the target branch; the e2e workflow lints the changed charts with
//! it and `ct install`s every chart on kind (docs/ci.md).

use anyhow::{Context, Result};

use super::toolchain;

/// Runs `ct lint`; its output is shown only when it fails.
pub fn lint() -> Result<Vec<String>> {
    let out = toolchain::command("ct")
        .args([
            "lint",
            "--config",
            "ct.yaml",
            "--all",
            "--check-version-increment=false",
        ])
        .output()
        .context("cannot start ct")?;
    if out.status.success() {
        return Ok(Vec::new());
    }
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    let failures: Vec<String> = text
        .lines()
        .filter(|l| l.contains("Error") || l.contains("error") || l.contains("✖"))
        .map(|l| l.trim().to_owned())
        .collect();
    Ok(vec![format!(
        "ct lint failed (run `ct lint --config ct.yaml --all --check-version-increment=false` for details):\n{}",
        if failures.is_empty() {
            text.trim().to_owned()
        } else {
            failures.join("\n")
        }
    )])
}
