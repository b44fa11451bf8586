//! The OBI pin: `values/obi-version.env` names the official OBI chart version and
//! image tag, once. `values/obi.yaml` is generated from it (the image tag); the docs
//! and workflows that install OBI must install that chart version and no other.
//! This module reads the pin and checks that every install of OBI agrees with it.
//!
//! An install is a `helm install|upgrade|template` command (continuation lines
//! joined) naming the OBI chart. In the docs it must say `--version <pin>`; in a
//! workflow it must say `--version "$OBI_CHART_VERSION"` and the workflow must
//! source the pin file, so that a bump is one edit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::paths;

/// The pin file, relative to the repository root.
pub const PIN_FILE: &str = "values/obi-version.env";
/// Where the docs name OBI installs.
const DOC_FILES: &[&str] = &["README.md", "docs/install.md"];
/// The workflows directory.
const WORKFLOWS: &str = ".github/workflows";
/// How a workflow names the pinned chart version (from the sourced pin file).
const WORKFLOW_VERSION: &str = "\"$OBI_CHART_VERSION\"";

/// The pinned OBI release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// `open-telemetry/opentelemetry-ebpf-instrumentation`.
    pub chart: String,
    /// The chart's repository URL.
    pub chart_repo: String,
    /// The chart version, e.g. `0.16.0`.
    pub chart_version: String,
    /// The image tag, e.g. `v1.0.0`.
    pub image_tag: String,
}

impl Pin {
    /// The chart's name without its repository alias.
    pub fn chart_name(&self) -> &str {
        self.chart.rsplit('/').next().unwrap_or(&self.chart)
    }
}

/// Reads the pin from the repository.
pub fn read() -> Result<Pin> {
    let path = paths::root().join(PIN_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {PIN_FILE}"))?;
    parse(&text).with_context(|| format!("parsing {PIN_FILE}"))
}

/// Parses `KEY=value` lines (comments and blank lines skipped, quotes optional).
pub fn parse(text: &str) -> Result<Pin> {
    let mut values = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            bail!("line {}: not KEY=value: {line}", number + 1);
        };
        let value = value.trim().trim_matches('"').trim_matches('\'');
        values.insert(key.trim().to_owned(), value.to_owned());
    }
    let mut take = |key: &str| {
        values
            .remove(key)
            .filter(|v| !v.is_empty())
            .with_context(|| format!("{key} is missing"))
    };
    let pin = Pin {
        chart: take("OBI_CHART")?,
        chart_repo: take("OBI_CHART_REPO")?,
        chart_version: take("OBI_CHART_VERSION")?,
        image_tag: take("OBI_IMAGE_TAG")?,
    };
    if let Some(unknown) = values.keys().next() {
        bail!("unknown key {unknown}");
    }
    Ok(pin)
}

/// Every place that installs OBI, checked against the pin; one message per
/// disagreement.
pub fn check() -> Result<Vec<String>> {
    let pin = read()?;
    let root = paths::root();
    let mut files: Vec<PathBuf> = DOC_FILES.iter().map(PathBuf::from).collect();
    let mut workflows: Vec<PathBuf> = std::fs::read_dir(root.join(WORKFLOWS))
        .with_context(|| format!("reading {WORKFLOWS}"))?
        .filter_map(|entry| {
            entry
                .ok()
                .map(|e| PathBuf::from(WORKFLOWS).join(e.file_name()))
        })
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    workflows.sort();
    files.extend(workflows);
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(root.join(file))
            .with_context(|| format!("reading {}", file.display()))?;
        problems.extend(check_file(&pin, file, &text));
    }
    let values = std::fs::read_to_string(root.join(super::obi_routes::VALUES_FILE))
        .with_context(|| format!("reading {}", super::obi_routes::VALUES_FILE))?;
    problems.extend(check_values(&pin, &values));
    Ok(problems)
}

/// The disagreements of one doc or workflow with the pin.
pub fn check_file(pin: &Pin, file: &Path, text: &str) -> Vec<String> {
    let workflow = file.starts_with(WORKFLOWS);
    let mut problems = Vec::new();
    let installs: Vec<String> = commands(text)
        .into_iter()
        .filter(|c| c.contains("helm ") && c.contains(pin.chart_name()))
        .filter(|c| {
            ["install", "upgrade", "template"]
                .iter()
                .any(|verb| c.contains(&format!(" {verb} ")))
        })
        .collect();
    for install in &installs {
        let version = flag(install, "--version");
        let expected = if workflow {
            WORKFLOW_VERSION.to_owned()
        } else {
            pin.chart_version.clone()
        };
        match version {
            Some(version) if version == expected => {}
            Some(version) => problems.push(format!(
                "{}: installs OBI chart version {version}, but {PIN_FILE} pins {}{}: {install}",
                file.display(),
                pin.chart_version,
                if workflow {
                    " (a workflow says --version \"$OBI_CHART_VERSION\")"
                } else {
                    ""
                }
            )),
            None => problems.push(format!(
                "{}: installs OBI without --version (the pin is {} in {PIN_FILE}): {install}",
                file.display(),
                pin.chart_version
            )),
        }
    }
    if workflow && !installs.is_empty() && !text.contains(PIN_FILE) {
        problems.push(format!(
            "{}: installs OBI with $OBI_CHART_VERSION but never sources {PIN_FILE}",
            file.display()
        ));
    }
    problems
}

/// `values/obi.yaml` must set the pinned image tag.
pub fn check_values(pin: &Pin, values: &str) -> Vec<String> {
    let parsed: serde_yaml_ng::Value = match serde_yaml_ng::from_str(values) {
        Ok(parsed) => parsed,
        Err(err) => {
            return vec![format!(
                "{}: not YAML: {err}",
                super::obi_routes::VALUES_FILE
            )];
        }
    };
    match parsed["image"]["tag"].as_str() {
        Some(tag) if tag == pin.image_tag => Vec::new(),
        other => vec![format!(
            "{}: image.tag is {other:?}, but {PIN_FILE} pins {}; run `cargo xtask charts generate`",
            super::obi_routes::VALUES_FILE,
            pin.image_tag
        )],
    }
}

/// Shell commands of a text with `\`-continued lines joined.
fn commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The value of `--flag value` or `--flag=value` in a command.
fn flag(command: &str, name: &str) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    words.iter().enumerate().find_map(|(i, word)| {
        if *word == name {
            words.get(i + 1).map(|v| (*v).to_owned())
        } else {
            word.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_owned)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin() -> Pin {
        parse(
            "# pin\nOBI_CHART=open-telemetry/opentelemetry-ebpf-instrumentation\n\
             OBI_CHART_REPO=https://example.org/charts\nOBI_CHART_VERSION=0.16.0\nOBI_IMAGE_TAG=v1.0.0\n",
        )
        .unwrap()
    }

    #[test]
    fn the_repository_pin_reads_and_agrees_with_every_install() {
        let pin = read().unwrap();
        assert!(pin.image_tag.starts_with('v'), "{pin:?}");
        assert_eq!(check().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_doc_installing_another_version_or_none_fails() {
        let doc = "helm install obi open-telemetry/opentelemetry-ebpf-instrumentation \\\n  --version 0.16.0 -n obi -f values/obi.yaml\n";
        assert!(check_file(&pin(), Path::new("docs/install.md"), doc).is_empty());
        let older = doc.replace("0.16.0", "0.15.2");
        let problems = check_file(&pin(), Path::new("docs/install.md"), &older);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("0.15.2") && problems[0].contains("0.16.0"),
            "{problems:?}"
        );
        let unpinned = doc.replace("--version 0.16.0 ", "");
        let problems = check_file(&pin(), Path::new("README.md"), &unpinned);
        assert!(problems[0].contains("without --version"), "{problems:?}");
    }

    #[test]
    fn a_workflow_must_take_the_version_from_the_pin_file() {
        let workflow = "run: |\n  . values/obi-version.env\n  helm install obi open-telemetry/opentelemetry-ebpf-instrumentation --version \"$OBI_CHART_VERSION\" \\\n    -f values/obi.yaml\n";
        let file = Path::new(".github/workflows/charts.yml");
        assert!(check_file(&pin(), file, workflow).is_empty());
        let literal = workflow.replace("\"$OBI_CHART_VERSION\"", "0.16.0");
        assert_eq!(check_file(&pin(), file, &literal).len(), 1);
        let unsourced = workflow.replace(". values/obi-version.env", "true");
        let problems = check_file(&pin(), file, &unsourced);
        assert!(problems[0].contains("never sources"), "{problems:?}");
    }

    #[test]
    fn values_with_another_image_tag_fail() {
        assert!(check_values(&pin(), "image:\n  tag: v1.0.0\n").is_empty());
        let problems = check_values(&pin(), "image:\n  tag: v0.15.0\n");
        assert!(
            problems[0].contains("v0.15.0") && problems[0].contains("v1.0.0"),
            "{problems:?}"
        );
        assert_eq!(check_values(&pin(), "config: {}\n").len(), 1);
    }

    #[test]
    fn a_pin_file_with_a_missing_or_unknown_key_is_refused() {
        assert!(parse("OBI_CHART=x\nOBI_CHART_REPO=y\nOBI_CHART_VERSION=1\n").is_err());
        assert!(
            parse(
                "OBI_CHART=x\nOBI_CHART_REPO=y\nOBI_CHART_VERSION=1\nOBI_IMAGE_TAG=v1\nOBI_TYPO=2\n"
            )
            .is_err()
        );
    }
}
