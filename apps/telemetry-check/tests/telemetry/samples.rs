//! The expected telemetry samples on each app's page (`docs/<app>.md`, section
//! "Expected telemetry"), generated from the fixture, which is what the specs are
//! tested against: a few series per metric OBI exports for the app and its largest
//! trace tree. They cannot drift from the fixture: this test fails when they
//! differ, and `UPDATE_TELEMETRY_DOCS=1` rewrites them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::fixture::{self, Attr, FSpan, Telemetry};

const BEGIN: &str = "<!-- BEGIN GENERATED samples from the telemetry-check fixture: UPDATE_TELEMETRY_DOCS=1 cargo test -p telemetry-check --test telemetry samples -->";
const END: &str = "<!-- END GENERATED -->";
/// Series shown per metric.
const PER_METRIC: usize = 3;
/// Labels every series carries that say where, not what (left out of the samples).
const PLACEMENT: &[&str] = &[
    "service_namespace",
    "k8s_namespace_name",
    "k8s_pod_name",
    "k8s_deployment_name",
    "k8s_node_name",
    "job",
    "instance",
];

fn kind(kind: u8) -> &'static str {
    match kind {
        2 => "SERVER",
        3 => "CLIENT",
        4 => "PRODUCER",
        5 => "CONSUMER",
        _ => "INTERNAL",
    }
}

fn size(span: &FSpan) -> usize {
    1 + span.children.iter().map(size).sum::<usize>()
}

fn tree(out: &mut String, span: &FSpan, depth: usize) {
    let attrs: Vec<String> = span
        .attrs
        .iter()
        .map(|(k, v)| match v {
            Attr::Str(s) => format!("{k}={s}"),
            Attr::Int(i) => format!("{k}={i}"),
        })
        .collect();
    let error = if span.error { " ERROR" } else { "" };
    let _ = writeln!(
        out,
        "{}{} {} [{}]{error} {}",
        "  ".repeat(depth),
        kind(span.kind),
        span.name,
        span.service,
        attrs.join(" ")
    );
    for child in &span.children {
        tree(out, child, depth + 1);
    }
}

/// The generated part of one app's samples.
fn render(app: &str, t: &Telemetry) -> String {
    let mut by_metric: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for series in &t.series {
        let shown = by_metric.entry(series.name.as_str()).or_default();
        if shown.len() >= PER_METRIC {
            continue;
        }
        let labels: Vec<String> = series
            .labels
            .iter()
            .filter(|(k, _)| !PLACEMENT.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        let name = if series.histogram {
            format!("{}_count", series.name)
        } else {
            series.name.clone()
        };
        let rate = if series.histogram {
            format!("  # about {:.2} per second", series.per_second)
        } else {
            String::new()
        };
        shown.push(format!("{name}{{{}}}{rate}", labels.join(", ")));
    }
    let mut out = format!(
        "\nSample series as OBI v1.0 exports them for {app} under the k6 mix (at most \
         {PER_METRIC} per metric; placement labels such as `k8s_pod_name` left out), from \
         the fixture the specs are tested against:\n\n```text\n"
    );
    for lines in by_metric.values() {
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
    out.push_str("```\n");
    // The largest trace of a successful request: what a healthy request looks like.
    let succeeded = |root: &&FSpan| {
        root.attr("http.response.status_code")
            .is_some_and(|code| code.starts_with('2'))
            || root.attr("rpc.response.status_code").as_deref() == Some("OK")
    };
    let largest = t
        .traces
        .iter()
        .filter(succeeded)
        .max_by_key(|root| size(root))
        .or_else(|| t.traces.iter().max_by_key(|root| size(root)));
    if let Some(largest) = largest {
        out.push_str("\nIts largest trace, as a tree of spans (kind, name, service, attributes):\n\n```text\n");
        tree(&mut out, largest, 0);
        out.push_str("```\n");
    }
    out.push('\n');
    out
}

#[test]
fn every_app_page_shows_the_fixtures_samples() {
    let mut stale = Vec::new();
    for app in fixture::APPS {
        let path = fixture::repo_root().join(format!("docs/{app}.md"));
        let text = std::fs::read_to_string(&path).expect("the app's page");
        let Some(start) = text.find(&format!("{BEGIN}\n")) else {
            panic!("{} lacks the line `{BEGIN}`", path.display());
        };
        let start = start + BEGIN.len() + 1;
        let end = start
            + text[start..]
                .find(&format!("{END}\n"))
                .unwrap_or_else(|| panic!("{}: no `{END}` after the samples", path.display()));
        let wanted = render(app, &fixture::app(app, None).expect("a fixture"));
        if text[start..end] == wanted {
            continue;
        }
        if std::env::var_os("UPDATE_TELEMETRY_DOCS").is_some() {
            let updated = format!("{}{wanted}{}", &text[..start], &text[end..]);
            std::fs::write(&path, updated).expect("write the page");
        } else {
            stale.push(format!("docs/{app}.md"));
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} do not show the fixture's samples: run\n  UPDATE_TELEMETRY_DOCS=1 cargo test -p telemetry-check --test telemetry samples"
    );
}

#[test]
fn a_sample_shows_series_by_metric_and_the_trace_tree() {
    let t = fixture::app("sql-application", None).unwrap();
    let text = render("sql-application", &t);
    assert!(
        text.contains("db_client_operation_duration_seconds_count{"),
        "{text}"
    );
    assert!(!text.contains("k8s_pod_name="), "{text}");
    assert!(text.contains("\nSERVER "), "{text}");
    assert!(text.contains("http.response.status_code=2"), "{text}");
    assert!(text.contains("\n  CLIENT "), "{text}");
}
