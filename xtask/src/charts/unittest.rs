//! Values behaviour, proven by rendering: each chart's helm-unittest suites
//! (`charts/<chart>/tests/*_test.yaml`: a mistyped key fails naming it, switches add
//! and remove what they switch, global image settings reach our images only), run
//! with the pinned `helm-unittest` binary of `cargo xtask tools`. The suites are
//! YAML next to the chart they test, in the format chart authors already know;
//! `.helmignore` keeps them out of the package.

use std::path::Path;

use anyhow::{Context, Result};

use super::inventory::Chart;
use super::{shown, toolchain};

/// Suites of a chart, as helm-unittest finds them by default.
fn has_suites(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("tests")).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with("_test.yaml"))
    })
}

/// Runs one chart's suites; `None` when they pass, else helm-unittest's report.
fn run_chart(dir: &Path) -> Result<Option<String>> {
    let out = toolchain::command("helm-unittest")
        // Subcharts' suites run in their own chart; strict: a misspelled
        // assertion field fails instead of being ignored.
        .args(["--with-subchart=false", "--strict", "--color=false"])
        .arg(dir)
        .output()
        .context("cannot start helm-unittest (run `cargo xtask tools`)")?;
    if out.status.success() {
        return Ok(None);
    }
    Ok(Some(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// Every chart's suites; one problem per failing chart, with the report.
pub fn run(charts: &[Chart]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for chart in charts.iter().filter(|c| has_suites(&c.dir)) {
        if let Some(report) = run_chart(&chart.dir)? {
            problems.push(format!("{} suites failed:\n{report}", shown(chart)));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::copy_chart;
    use crate::paths;

    #[test]
    fn a_suite_fails_when_the_chart_stops_doing_what_it_says() {
        let dir = paths::target().join("unittest-mutation");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        copy_chart("obi-examples-lib", &dir);
        copy_chart("otel-lgtm", &dir);
        let chart = dir.join("otel-lgtm");
        let built = toolchain::command("helm")
            .args(["dependency", "build"])
            .arg(&chart)
            .output()
            .expect("helm runs (cargo xtask tools)");
        assert!(built.status.success(), "{built:?}");
        assert_eq!(run_chart(&chart).unwrap(), None, "the copy passes as is");

        // The mutation: the schema no longer refuses `latest`.
        let schema = chart.join("values.schema.json");
        let text = std::fs::read_to_string(&schema).unwrap();
        let mutated = text.replace("\"const\": \"latest\"", "\"const\": \"nothing\"");
        assert_ne!(text, mutated, "the schema refuses latest as expected");
        std::fs::write(&schema, mutated).unwrap();
        let report = run_chart(&chart).unwrap().expect("the suite fails");
        assert!(report.contains("rejects the latest tag"), "{report}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
