//! The per-app part of docs/load-testing.md, generated from each app's k6 script
//! (`charts/<app>/k6/main.js`): what its mix does (the script's opening comment),
//! its business metrics (`new Counter|Rate|Trend|Gauge('name')`), the thresholds it
//! adds to the library's, and the faults the mix plays (from the scenario registry).
//! A new app's script flows in with `cargo xtask charts generate`.

use std::fmt::Write as _;

use anyhow::{Context, Result};

use super::scenarios::Scenario;
use crate::apps;
use crate::paths;

/// The guide the section is spliced into.
pub const LOAD_TESTING: &str = "docs/load-testing.md";
const BEGIN: &str = "<!-- BEGIN GENERATED from charts/*/k6/main.js and the scenario registry by `cargo xtask charts generate` -->";
const END: &str = "<!-- END GENERATED -->";

/// docs/load-testing.md as it should be.
pub fn expected(scenarios: &[Scenario]) -> Result<String> {
    let root = paths::root();
    let text = std::fs::read_to_string(root.join(LOAD_TESTING))
        .with_context(|| format!("reading {LOAD_TESTING}"))?;
    let mut body = String::from("\n");
    for app in apps::existing() {
        let path = format!("charts/{}/k6/main.js", app.name);
        let Ok(script) = std::fs::read_to_string(root.join(&path)) else {
            continue;
        };
        let played: Vec<&Scenario> = scenarios
            .iter()
            .filter(|s| s.app == app.name && s.k6.is_some())
            .collect();
        body.push_str(&section(app.name, &path, &script, &played));
    }
    let begin = text
        .find(&format!("{BEGIN}\n"))
        .with_context(|| format!("{LOAD_TESTING}: no line `{BEGIN}`"))?
        + BEGIN.len()
        + 1;
    let end = begin
        + text[begin..]
            .find(&format!("{END}\n"))
            .with_context(|| format!("{LOAD_TESTING}: no `{END}` after the BEGIN line"))?;
    Ok(format!("{}{body}{}", &text[..begin], &text[end..]))
}

/// One app's section.
fn section(app: &str, path: &str, script: &str, played: &[&Scenario]) -> String {
    let mut out = format!("### {app}\n\n");
    let comment: Vec<&str> = script
        .lines()
        .take_while(|l| l.starts_with("//"))
        .map(|l| l.trim_start_matches('/').trim())
        .collect();
    // Paragraphs of the opening comment, without the boilerplate one every script
    // starts with ("Load script of <app>: its traffic mix only; ...").
    let about: Vec<String> = comment
        .split(|l| l.is_empty())
        .map(|p| p.join(" "))
        .filter(|p| !p.is_empty() && !p.starts_with("Load script of"))
        .collect();
    let _ = writeln!(out, "From [`{path}`](../{path}):\n");
    for paragraph in about {
        let _ = writeln!(
            out,
            "> {}\n>",
            paragraph.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    if out.ends_with(">\n") {
        out.truncate(out.len() - 2);
        out.push('\n');
    }
    let metrics = business_metrics(script);
    if !metrics.is_empty() {
        let _ = writeln!(
            out,
            "Business metrics: {}.\n",
            metrics
                .iter()
                .map(|(kind, name)| format!("`{name}` ({kind})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let thresholds = own_thresholds(script);
    if !thresholds.is_empty() {
        let _ = writeln!(
            out,
            "Thresholds it adds to the library's: {}.\n",
            thresholds.join(", ")
        );
    }
    if !played.is_empty() {
        let _ = writeln!(
            out,
            "Faults the mix plays on a share of its requests: {}.\n",
            played
                .iter()
                .map(|s| format!(
                    "[`{}`](troubleshooting.md#{})",
                    s.name,
                    super::scenarios::guide::anchor(s)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}

/// `(kind, name)` of every `new Counter|Rate|Trend|Gauge('name')`.
fn business_metrics(script: &str) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    for kind in ["Counter", "Rate", "Trend", "Gauge"] {
        for (at, _) in script.match_indices(&format!("new {kind}(")) {
            let rest = &script[at + kind.len() + 5..];
            let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"');
            if let Some(quote) = quote
                && let Some(end) = rest[1..].find(quote)
            {
                found.push((kind, rest[1..=end].to_owned()));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    found
}

/// The keys and expressions of the object given to `buildOptions({ ... })`, as
/// written (one per line).
fn own_thresholds(script: &str) -> Vec<String> {
    let Some(start) = script.find("buildOptions({") else {
        return Vec::new();
    };
    let body = &script[start + "buildOptions({".len()..];
    let end = body.find("})").unwrap_or(body.len());
    body[..end]
        .lines()
        .map(|l| l.trim().trim_end_matches(','))
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .map(|l| format!("`{l}`"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_and_thresholds_come_from_the_script() {
        let script = "// Load script of x: its mix only;\n// and so on.\n//\n// Mix: reads.\nimport a from 'b';\n\
                      const placed = new Counter('orders_placed');\nconst ok = new Rate(\"replays\");\n\
                      export const options = buildOptions({\n  orders_placed: ['count>0'],\n});\n";
        assert_eq!(
            business_metrics(script),
            [
                ("Counter", "orders_placed".to_owned()),
                ("Rate", "replays".to_owned())
            ]
        );
        assert_eq!(own_thresholds(script), ["`orders_placed: ['count>0']`"]);
        let section = section("x", "charts/x/k6/main.js", script, &[]);
        assert!(section.contains("> Mix: reads.\n"), "{section}");
        assert!(!section.contains("Load script"), "{section}");
        assert!(section.contains("`orders_placed` (Counter)"), "{section}");
    }
}
