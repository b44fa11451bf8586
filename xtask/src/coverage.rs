//! `cargo xtask coverage [crate ...]`: line coverage of the apps and the kit, by
//! cargo-llvm-cov over the same tests the gate runs (real services included).
//! Installs what it needs on first use: the `llvm-tools-preview` rustup component
//! and a pinned cargo-llvm-cov in the tool cache. Not part of the gate: an
//! instrumented build doubles the test time; run it when a slice is done.

use anyhow::{Context, Result};
use serde_json::Value;

use crate::{apps, ci, cmd, paths, services};

const LLVM_COV_VERSION: &str = "0.9.1";

/// Measures and prints line coverage per crate; the default is every app and the kit.
pub fn run(crates: &[&str]) -> Result<()> {
    ensure_tools()?;
    services::up()?;
    let mut packages: Vec<String> = crates.iter().map(|c| (*c).to_owned()).collect();
    if packages.is_empty() {
        packages.push("service-kit".into());
        packages.extend(apps::existing().iter().map(|app| app.name.to_owned()));
    }
    let json = paths::target().join("coverage.json");
    let mut command = ci::cargo();
    command.args([
        "llvm-cov",
        "--locked",
        "--json",
        "--summary-only",
        "--output-path",
    ]);
    command.arg(&json);
    for package in &packages {
        command.args(["--package", package]);
    }
    cmd::run(&mut command)?;
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json)?)
        .context("cargo llvm-cov wrote no JSON report")?;
    println!("{}", per_crate(&report, &packages).join("\n"));
    Ok(())
}

fn ensure_tools() -> Result<()> {
    cmd::run(cmd::new("rustup").args(["component", "add", "llvm-tools-preview"]))?;
    let installed =
        cmd::output(cmd::new("cargo-llvm-cov").args(["llvm-cov", "--version"])).unwrap_or_default();
    if !installed.contains(LLVM_COV_VERSION) {
        let root = paths::tools_bin()
            .parent()
            .map(ToOwned::to_owned)
            .context("tool cache has no parent")?;
        cmd::run(
            cmd::new("cargo")
                .args([
                    "install",
                    "--locked",
                    "cargo-llvm-cov",
                    "--version",
                    LLVM_COV_VERSION,
                    "--root",
                ])
                .arg(root),
        )?;
    }
    Ok(())
}

/// One line per crate: covered / total lines of the files under its directory.
fn per_crate(report: &Value, packages: &[String]) -> Vec<String> {
    let files = report["data"][0]["files"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    packages
        .iter()
        .map(|package| {
            let dir = if package == "service-kit" {
                "/crates/service-kit/".to_owned()
            } else {
                format!("/apps/{package}/")
            };
            let (covered, total) = files
                .iter()
                .filter(|file| {
                    file["filename"]
                        .as_str()
                        .is_some_and(|name| name.contains(&dir))
                })
                .fold((0, 0), |(covered, total), file| {
                    let lines = &file["summary"]["lines"];
                    (
                        covered + lines["covered"].as_u64().unwrap_or(0),
                        total + lines["count"].as_u64().unwrap_or(0),
                    )
                });
            let percent = if total == 0 {
                0.0
            } else {
                100.0 * covered as f64 / total as f64
            };
            format!("{package:<20} {percent:>5.1} % of {total} lines")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lines_are_summed_per_crate_directory() {
        let report = json!({"data": [{"files": [
            {"filename": "/r/apps/sql-application/src/a.rs", "summary": {"lines": {"covered": 8, "count": 10}}},
            {"filename": "/r/apps/sql-application/src/b.rs", "summary": {"lines": {"covered": 1, "count": 10}}},
            {"filename": "/r/crates/service-kit/src/c.rs", "summary": {"lines": {"covered": 5, "count": 5}}},
        ]}]});
        let lines = per_crate(&report, &["sql-application".into(), "service-kit".into()]);
        assert_eq!(lines[0], "sql-application       45.0 % of 20 lines");
        assert_eq!(lines[1], "service-kit          100.0 % of 5 lines");
    }
}
