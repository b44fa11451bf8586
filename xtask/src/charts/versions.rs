//! One version for what a release ships: the Cargo workspace version is the apps'
//! version, the tag of their images, and the `appVersion` of every chart that runs
//! them (each app chart and the umbrella; a chart's image tag defaults to its
//! appVersion). A release tag `vX.Y.Z` must name that same version. Chart versions
//! are the charts' own (SemVer of the chart, bumped with every chart change).
//!
//! The gate checks the first rule on every run; the release workflow runs
//! `cargo xtask release check vX.Y.Z` before it builds anything, so a tag that does
//! not match fails before an image is pushed.

use anyhow::{Context, Result, bail};

use super::inventory::{self, Chart};
use crate::paths;

/// The workspace version from the root Cargo.toml (`[workspace.package] version`).
pub fn workspace_version() -> Result<String> {
    let path = paths::root().join("Cargo.toml");
    let text = std::fs::read_to_string(&path).context("reading Cargo.toml")?;
    parse_workspace_version(&text).context("Cargo.toml: no [workspace.package] version")
}

fn parse_workspace_version(text: &str) -> Option<String> {
    let mut in_section = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[workspace.package]";
            continue;
        }
        if in_section
            && let Some(value) = line.strip_prefix("version")
            && let Some(value) = value.trim_start().strip_prefix('=')
        {
            return Some(value.trim().trim_matches('"').to_owned());
        }
    }
    None
}

/// Charts whose appVersion is our image tag: the app charts, and the charts that
/// depend on one (the umbrella). Not the library (no appVersion) nor otel-lgtm
/// (its appVersion is the upstream image's).
fn ours(charts: &[Chart]) -> Vec<&Chart> {
    let apps: Vec<&str> = charts
        .iter()
        .filter(|c| c.app().is_some())
        .map(|c| c.name.as_str())
        .collect();
    charts
        .iter()
        .filter(|c| {
            c.app().is_some()
                || c.local_dependencies()
                    .iter()
                    .any(|dep| apps.contains(&dep.as_str()))
        })
        .collect()
}

/// Every chart that runs our images has appVersion == the Cargo version.
pub fn check(charts: &[Chart]) -> Result<Vec<String>> {
    Ok(problems(&workspace_version()?, charts))
}

fn problems(cargo_version: &str, charts: &[Chart]) -> Vec<String> {
    ours(charts)
        .into_iter()
        .filter_map(|chart| match chart.meta.app_version.as_deref() {
            Some(v) if v == cargo_version => None,
            Some(v) => Some(format!(
                "charts/{}/Chart.yaml: appVersion {v} is not the Cargo workspace version {cargo_version} (the image tag it defaults to)",
                chart.name
            )),
            None => Some(format!(
                "charts/{}/Chart.yaml: no appVersion (it must be the Cargo workspace version {cargo_version})",
                chart.name
            )),
        })
        .collect()
}

/// `cargo xtask release check vX.Y.Z`: the tag names the Cargo version, and every
/// chart agrees with it. Prints the image tag (`X.Y.Z`) on success.
pub fn release_check(tag: &str) -> Result<()> {
    let cargo_version = workspace_version()?;
    let mut found = tag_problems(tag, &cargo_version);
    found.extend(problems(&cargo_version, &inventory::charts()?));
    if !found.is_empty() {
        bail!("release {tag} is inconsistent:\n  {}", found.join("\n  "));
    }
    println!("{cargo_version}");
    Ok(())
}

fn tag_problems(tag: &str, cargo_version: &str) -> Vec<String> {
    match tag.strip_prefix('v') {
        Some(version) if version == cargo_version => Vec::new(),
        Some(version) => vec![format!(
            "tag {tag} names version {version}, the Cargo workspace version is {cargo_version} (bump [workspace.package] version and every appVersion first)"
        )],
        None => vec![format!("tag {tag} is not of the form v<version>")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository_charts() -> Vec<Chart> {
        inventory::charts().unwrap()
    }

    #[test]
    fn the_repository_agrees_with_itself() {
        let version = workspace_version().unwrap();
        assert_eq!(
            problems(&version, &repository_charts()),
            Vec::<String>::new()
        );
        assert!(tag_problems(&format!("v{version}"), &version).is_empty());
    }

    #[test]
    fn the_charts_checked_are_the_apps_and_the_umbrella_only() {
        let charts = repository_charts();
        let mut names: Vec<&str> = ours(&charts).iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "checkout",
                "grpc-microservice",
                "http-rest-api",
                "kafka-streaming",
                "obi-examples",
                "redis-cache",
                "sql-application"
            ]
        );
    }

    #[test]
    fn a_chart_with_another_app_version_fails() {
        let mut charts = repository_charts();
        let chart = charts.iter_mut().find(|c| c.name == "redis-cache").unwrap();
        chart.meta.app_version = Some("0.0.9".into());
        let version = workspace_version().unwrap();
        let found = problems(&version, &charts);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("charts/redis-cache/Chart.yaml: appVersion 0.0.9"));
        // A Cargo bump without the charts fails on every chart that runs our images.
        assert_eq!(problems("9.9.9", &repository_charts()).len(), 7);
    }

    #[test]
    fn a_tag_must_name_the_cargo_version() {
        assert!(tag_problems("v0.1.0", "0.1.0").is_empty());
        assert!(tag_problems("v0.2.0", "0.1.0")[0].contains("names version 0.2.0"));
        assert!(tag_problems("0.1.0", "0.1.0")[0].contains("not of the form"));
    }

    #[test]
    fn the_workspace_version_is_read_from_its_section_only() {
        let text = "[package]\nversion = \"9.0.0\"\n[workspace.package]\nedition = \"2024\"\nversion = \"1.2.3\"\n";
        assert_eq!(parse_workspace_version(text).as_deref(), Some("1.2.3"));
        assert_eq!(
            parse_workspace_version("[package]\nversion = \"1\"\n"),
            None
        );
    }
}
