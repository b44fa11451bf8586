//! What the registry reads from a telemetry-check spec: each expectation as the query `helm test` sends, PromQL for `metric`, TraceQL
//! (as telemetry-check writes it for Tempo, `apps/telemetry-check/src/tempo.rs`)
//! for `span` and `trace_shape`. telemetry-check itself validates the format; this
//! reads only what the guides show.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use serde::Deserialize;

/// A symptom spec, as the guides show it.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Repository path.
    pub path: String,
    pub checks: Vec<Check>,
}

/// One expectation.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    /// `promql` or `traceql` (the code fence's language).
    pub language: &'static str,
    pub query: String,
    /// What the result must satisfy, in words.
    pub passes_when: String,
    /// The metric families of the measured query (a ratio's numerator only: the
    /// denominator is usually the request rate every panel shows).
    pub measures: BTreeSet<String>,
}

#[derive(Debug, Deserialize)]
struct File {
    expectations: Vec<Expectation>,
}

#[derive(Debug, Deserialize)]
struct Expectation {
    name: String,
    kind: String,
    query: Option<String>,
    ratio_to: Option<String>,
    compare: Option<String>,
    service: Option<String>,
    span_name: Option<String>,
    span_name_regex: Option<String>,
    span_kind: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, serde_yaml_ng::Value>,
    min_count: Option<u64>,
    #[serde(default)]
    root: bool,
    server: Option<Selector>,
    client: Option<Selector>,
    min_children: Option<u64>,
    min_share: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Selector {
    service: Option<String>,
    span_name: Option<String>,
    span_name_regex: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, serde_yaml_ng::Value>,
}

/// Parses a spec file (`path` is for messages).
pub fn parse(path: &str, text: &str) -> Result<Spec> {
    let file: File = serde_yaml_ng::from_str(text).with_context(|| format!("parsing {path}"))?;
    let checks = file
        .expectations
        .into_iter()
        .map(|e| check(e).with_context(|| format!("{path}: an expectation the guides cannot show")))
        .collect::<Result<_>>()?;
    Ok(Spec {
        path: path.to_owned(),
        checks,
    })
}

fn check(e: Expectation) -> Result<Check> {
    let scalar = |v: &serde_yaml_ng::Value| match v {
        serde_yaml_ng::Value::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    };
    let attrs = |a: &BTreeMap<String, serde_yaml_ng::Value>| -> Vec<(String, String)> {
        a.iter().map(|(k, v)| (k.clone(), scalar(v))).collect()
    };
    Ok(match e.kind.as_str() {
        "metric" => {
            let query = e.query.context("a metric without `query`")?;
            let compare = e.compare.unwrap_or_default();
            let measures = metric_names(&query);
            match e.ratio_to {
                Some(ratio) => Check {
                    name: e.name,
                    language: "promql",
                    query: format!("  {query}\n/\n  {ratio}"),
                    passes_when: format!("the ratio is {compare}"),
                    measures,
                },
                None => Check {
                    name: e.name,
                    language: "promql",
                    query,
                    passes_when: format!("the value is {compare}"),
                    measures,
                },
            }
        }
        "span" => {
            let query = traceql(
                e.service.as_deref().unwrap_or_default(),
                e.span_name.as_deref(),
                e.span_name_regex.as_deref(),
                e.span_kind.as_deref(),
                &attrs(&e.attributes),
            );
            let root = if e.root { " without a parent" } else { "" };
            Check {
                name: e.name,
                language: "traceql",
                query,
                passes_when: format!("at least {} such span(s){root}", e.min_count.unwrap_or(1)),
                measures: BTreeSet::new(),
            }
        }
        "trace_shape" => {
            let server = e.server.context("a trace_shape without `server`")?;
            let client = e.client.context("a trace_shape without `client`")?;
            let query = traceql(
                server.service.as_deref().unwrap_or_default(),
                server.span_name.as_deref(),
                server.span_name_regex.as_deref(),
                Some("server"),
                &attrs(&server.attributes),
            );
            let child = client
                .span_name
                .or(client.span_name_regex)
                .unwrap_or_else(|| "any".into());
            Check {
                name: e.name,
                language: "traceql",
                query,
                passes_when: format!(
                    "in at least {:.0} % of these traces the server span has {}+ client children `{child}`",
                    e.min_share.unwrap_or(1.0) * 100.0,
                    e.min_children.unwrap_or(1)
                ),
                measures: BTreeSet::new(),
            }
        }
        other => anyhow::bail!("unknown kind `{other}`"),
    })
}

/// TraceQL as telemetry-check's `tempo::traceql` writes it.
fn traceql(
    service: &str,
    name: Option<&str>,
    regex: Option<&str>,
    kind: Option<&str>,
    attributes: &[(String, String)],
) -> String {
    let quote = |t: &str| format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""));
    let mut terms = vec![format!("resource.service.name = {}", quote(service))];
    if let Some(name) = name {
        terms.push(format!("name = {}", quote(name)));
    } else if let Some(regex) = regex {
        terms.push(format!("name =~ {}", quote(regex)));
    }
    if let Some(kind) = kind {
        terms.push(format!("kind = {kind}"));
    }
    for (key, value) in attributes {
        let typed = value.parse::<f64>().is_ok() || value == "true" || value == "false";
        if typed {
            terms.push(format!("(.{key} = {value} || .{key} = {})", quote(value)));
        } else {
            terms.push(format!(".{key} = {}", quote(value)));
        }
    }
    format!("{{ {} }}", terms.join(" && "))
}

impl Check {
    /// A Markdown list item: the name, when it passes, and the query in a fenced
    /// block (indented under the item).
    pub fn markdown(&self) -> String {
        let query: Vec<String> = self.query.lines().map(|l| format!("  {l}")).collect();
        format!(
            "- {} ({}):\n\n  ```{}\n{}\n  ```\n\n",
            self.name,
            self.passes_when,
            self.language,
            query.join("\n")
        )
    }
}

impl Spec {
    /// The metric families its PromQL checks measure.
    pub fn metrics(&self) -> BTreeSet<String> {
        self.checks
            .iter()
            .flat_map(|c| c.measures.iter().cloned())
            .collect()
    }
}

/// Metric families named in PromQL text: identifiers right before a `{` selector,
/// without a histogram's `_count`, `_bucket` or `_sum`.
pub fn metric_names(promql: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in promql.match_indices('{') {
        let before = &promql[..at];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |i| i + 1);
        let name = &before[start..];
        if name.contains('_') && !before[..start].ends_with('$') {
            let family = ["_count", "_bucket", "_sum"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(name);
            names.insert(family.to_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_families_come_from_selectors_not_placeholders() {
        let names = metric_names(
            "histogram_quantile(0.5, sum by (le) (rate(http_server_request_duration_seconds_bucket{a=\"b\"}[5m]))) / ${faults.latency.delay:seconds} + rate(x_total{})",
        );
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["http_server_request_duration_seconds", "x_total"]
        );
    }

    #[test]
    fn span_expectations_become_the_traceql_telemetry_check_sends() {
        let spec = parse(
            "x.yaml",
            "# why\napp: a\nexpectations:\n  - name: n\n    kind: span\n    service: a\n    span_name: \"GET /x\"\n    span_kind: server\n    attributes: { http.response.status_code: \"200\" }\n",
        )
        .unwrap();
        assert_eq!(
            spec.checks[0].query,
            r#"{ resource.service.name = "a" && name = "GET /x" && kind = server && (.http.response.status_code = 200 || .http.response.status_code = "200") }"#
        );
    }
}
