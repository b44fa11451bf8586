//! The scenario library of docs/troubleshooting.md, generated from the registry
//! between two marker lines (the prose around it is hand-written): an index from
//! the user's question to the scenario, then per scenario the first panel, the
//! spec's PromQL and TraceQL, root cause, fix and how to replay it.

use std::fmt::Write as _;

use anyhow::{Context, Result};

use super::Scenario;
use crate::paths;

/// The guide the library is spliced into.
pub const TROUBLESHOOTING: &str = "docs/troubleshooting.md";
const BEGIN: &str = "<!-- BEGIN GENERATED from the scenario registry by `cargo xtask charts generate`: edit docs/scenarios/*.toml, the catalogs or the specs -->";
const END: &str = "<!-- END GENERATED -->";

/// docs/troubleshooting.md as it should be.
pub fn expected(scenarios: &[Scenario]) -> Result<String> {
    let text = std::fs::read_to_string(paths::root().join(TROUBLESHOOTING))
        .with_context(|| format!("reading {TROUBLESHOOTING}"))?;
    splice(&text, &render(scenarios)).with_context(|| format!("in {TROUBLESHOOTING}"))
}

fn splice(text: &str, body: &str) -> Result<String> {
    let begin = text
        .find(&format!("{BEGIN}\n"))
        .with_context(|| format!("no line `{BEGIN}`"))?
        + BEGIN.len()
        + 1;
    let end = text[begin..]
        .find(&format!("{END}\n"))
        .map(|at| begin + at)
        .with_context(|| format!("no line `{END}` after the BEGIN line"))?;
    Ok(format!("{}{body}{}", &text[..begin], &text[end..]))
}

/// The anchor of a scenario's section.
pub fn anchor(scenario: &Scenario) -> String {
    format!("{}-{}", scenario.app, scenario.name.replace('_', "-"))
}

/// The generated part: the index, then one section per app and scenario.
pub fn render(scenarios: &[Scenario]) -> String {
    let mut out = String::new();
    out.push_str("\n### Index: from a symptom to its scenario\n\n");
    out.push_str("| You see | App | Scenario | Look first at |\n|---|---|---|---|\n");
    for s in scenarios {
        let _ = writeln!(
            out,
            "| {} | {} | [`{}`](#{}) | {} |",
            s.question,
            s.app,
            s.name,
            anchor(s),
            s.panels
                .first()
                .map(|p| format!("*{p}*"))
                .unwrap_or_default()
        );
    }
    out.push_str(
        "\n### The registry at a glance\n\n\
         | App | Scenario | Chart value | One request | k6 mix plays it | Symptom spec |\n\
         |---|---|---|---|---|---|\n",
    );
    for s in scenarios {
        let spec = s
            .spec
            .as_ref()
            .map(|spec| {
                format!(
                    "[`{}`](../{})",
                    spec.path.rsplit('/').next().unwrap_or_default(),
                    spec.path
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | [`{}`](#{}) | `{}` | `{}: {}` | {} | {spec} |",
            s.app,
            s.name,
            anchor(s),
            s.values_key(),
            s.header.0,
            s.header.1,
            if s.k6.is_some() { "yes" } else { "no" },
        );
    }
    let mut app = "";
    for s in scenarios {
        if s.app != app {
            app = &s.app;
            let _ = writeln!(
                out,
                "\n### {app}\n\nDashboard `{app}` (`dashboards/{app}.json`); faults under \
                 `faults.*` of `charts/{app}/values.yaml` (`{alias}.faults.*` in the umbrella).",
                alias = s.alias
            );
        }
        section(&mut out, s);
    }
    out.push('\n');
    out
}

fn section(out: &mut String, s: &Scenario) {
    let origin = if s.kit {
        "the kit's fault"
    } else {
        "the app's catalog"
    };
    let _ = write!(
        out,
        "\n<a id=\"{}\"></a>\n\n#### `{}`: {}\n\n**What the app does** ({origin}, [`{}`](../{})): {}.\n\n",
        anchor(s),
        s.name,
        s.question,
        s.catalog,
        s.catalog,
        s.description.trim_end_matches('.')
    );
    let mut panels = s.panels.iter().map(|p| format!("*{p}*"));
    if let Some(first) = panels.next() {
        let rest: Vec<String> = panels.collect();
        let _ = write!(out, "**Look first** at the {first} panel");
        if !rest.is_empty() {
            let _ = write!(out, ", then {}", rest.join(", "));
        }
        out.push_str(".\n\n");
    }
    if let Some(spec) = &s.spec {
        let placeholders = spec.checks.iter().any(|c| c.query.contains("${faults."));
        let _ = writeln!(
            out,
            "**Confirm** with the queries `helm test` runs ([`{}`](../{})){}:\n",
            spec.path,
            spec.path,
            if placeholders {
                "; telemetry-check fills each `${faults.<key>}` from the chart's `faults` \
                 values (`:seconds` as seconds, `:grpc_code` as the status's gRPC code)"
            } else {
                ""
            }
        );
        for check in &spec.checks {
            out.push_str(&check.markdown());
        }
    }
    let _ = write!(
        out,
        "**Root cause**: {}\n\n**Fix**: {}\n\n**Replay it**:\n\n",
        s.cause.trim(),
        s.fix.trim()
    );
    let body = match (s.kit, s.name.as_str()) {
        (true, "latency") => r#"{"enabled": true, "delay": "500ms", "rate": 0.5}"#,
        (true, "errors") => r#"{"enabled": true, "rate": 0.1, "status": 500}"#,
        _ => r#"{"enabled": true, "rate": 1.0}"#,
    };
    let _ = writeln!(
        out,
        "- one request: send `{}: {}` with `x-fault-token: <admin token>` (the app honours them \
         only with `faults.headers` or `load.enabled` on);\n\
         - the whole app: `helm upgrade <release> charts/{app} --reuse-values --set {key}=true` \
         (umbrella: `--set {alias}.{key}=true`); `helm test <release>` then runs the spec above too (the chart passes every enabled fault to telemetry-check);\n\
         - at run time: `PUT /admin/faults/{name}` with `Authorization: Bearer <admin token>` \
         and `{body}`, `DELETE /admin/faults` to go back;",
        s.header.0,
        s.header.1,
        app = s.app,
        key = s.values_key(),
        alias = s.alias,
        name = s.name,
    );
    match &s.k6 {
        Some(line) => {
            let _ = writeln!(
                out,
                "- the k6 mix plays it on a share of its requests: `{line}`."
            );
        }
        None => out.push_str(
            "- the k6 mix does not play it (it would change every run's results): switch it \
             on with the values or the admin endpoint while k6 runs.\n",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splicing_replaces_only_the_generated_part() {
        let text = format!("intro\n{BEGIN}\nold\n{END}\noutro\n");
        assert_eq!(
            splice(&text, "new\n").unwrap(),
            format!("intro\n{BEGIN}\nnew\n{END}\noutro\n")
        );
        assert!(splice("no markers\n", "x").is_err());
    }
}
