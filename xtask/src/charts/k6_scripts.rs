//! The k6 scripts each app chart ships in its load ConfigMap: `k6/main.js` (the
//! app's traffic mix) and `k6/obi-examples.js` (the shared library). The ConfigMap
//! holds exactly these two files, so every relative import must name one of them;
//! both must parse as ES modules (`node --check`). Type-checking against
//! `@types/k6` and real runs are the protocol slices' part of the gate.

use anyhow::{Context, Result};

use super::inventory::Chart;
use super::{shown, toolchain};
use crate::paths;

/// Files a script may import relatively (the keys of the k6 ConfigMap).
const SHIPPED: &[&str] = &["./main.js", "./obi-examples.js"];

/// Relative module specifiers imported by `source` (`import ... from './x.js'`).
pub fn relative_imports(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            if !line.starts_with("import ") {
                return None;
            }
            let quoted = line.rsplit(" from ").next()?.trim().trim_end_matches(';');
            let spec = quoted.trim_matches(|c| c == '\'' || c == '"');
            spec.starts_with('.').then(|| spec.to_owned())
        })
        .collect()
}

/// Problems of every app chart's scripts.
pub fn check(charts: &[Chart]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let work = paths::target().join("charts-gate/k6");
    std::fs::create_dir_all(&work)?;
    for chart in charts.iter().filter(|c| c.app().is_some()) {
        for file in ["main.js", "obi-examples.js"] {
            let path = chart.dir.join("k6").join(file);
            let Ok(source) = std::fs::read_to_string(&path) else {
                problems.push(format!("{}/k6/{file} is missing", shown(chart)));
                continue;
            };
            for spec in relative_imports(&source) {
                if !SHIPPED.contains(&spec.as_str()) {
                    problems.push(format!(
                        "{}/k6/{file} imports {spec}, which the k6 ConfigMap does not carry (only main.js and obi-examples.js)",
                        shown(chart)
                    ));
                }
            }
            // node decides ES-module syntax by extension: check a .mjs copy.
            let copy = work
                .join(format!("{}-{file}", chart.name))
                .with_extension("mjs");
            std::fs::write(&copy, &source)?;
            let out = toolchain::command("node")
                .arg("--check")
                .arg(&copy)
                .output()
                .context("cannot start node (run `cargo xtask tools`)")?;
            if !out.status.success() {
                problems.push(format!(
                    "{}/k6/{file} does not parse: {}",
                    shown(chart),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports_are_found_and_modules_are_not() {
        let source = "import http from 'k6/http';\nimport { a, b } from \"./obi-examples.js\";\n  import x from './helpers.js';\nconst s = 'import y from ./z';\n";
        assert_eq!(
            relative_imports(source),
            ["./obi-examples.js", "./helpers.js"]
        );
    }
}
