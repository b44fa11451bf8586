//! The dashboards in dashboards/, checked the way a user meets them: every panel
//! query runs against a Prometheus holding every app's OBI-shaped metrics and
//! returns data; every duration histogram a dashboard shows has p50/p90/p95/p99;
//! every latency panel asks for exemplars and links to its traces; and every link
//! template, filled with the labels of the series its panel returns, is a TraceQL
//! query that finds spans in a Jaeger holding the same apps' OBI-shaped spans.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;
use serde_json::Value;
use telemetry_check::backend;
use telemetry_check::jaeger::Jaeger;
use telemetry_check::prometheus::Prometheus;
use telemetry_check::traces::{Traces, Window};

use crate::fixture::{self, NAMESPACE, repo_root};
use crate::scenario::{self, slots};
use crate::traceql;

mod links;

use links::{explore_queries, explore_state, fill, trace_link};

/// The percentiles every duration histogram gets, in one panel.
const PERCENTILES: [&str; 4] = ["0.5", "0.9", "0.95", "0.99"];

/// Grafana's variables replaced by values a panel would get from Grafana.
pub fn substitute(expr: &str) -> String {
    let fixed = expr
        .replace("$__rate_interval", "1m")
        .replace("${__rate_interval}", "1m")
        .replace("$__interval", "15s")
        .replace("${__interval}", "15s")
        .replace("$__range", "5m")
        .replace("${__range}", "5m")
        .replace("${namespace}", NAMESPACE)
        .replace("$namespace", NAMESPACE);
    // Any other template variable (`$route`, `${method:regex}`) stands for "all".
    let var =
        Regex::new(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::[a-z]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*").unwrap();
    var.replace_all(&fixed, ".+").into_owned()
}

/// Every non-row panel, rows' nested panels included.
pub fn panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(panels: &'a Value, out: &mut Vec<&'a Value>) {
        for panel in panels.as_array().into_iter().flatten() {
            if panel["type"] != "row" {
                out.push(panel);
            }
            walk(&panel["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

fn title(panel: &Value) -> String {
    panel["title"].as_str().unwrap_or("(untitled)").to_owned()
}

fn exprs(panel: &Value) -> Vec<&str> {
    panel["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["expr"].as_str())
        .filter(|e| !e.trim().is_empty())
        .collect()
}

/// `(panel title, expr)` of every target.
pub fn queries(dashboard: &Value) -> Vec<(String, String)> {
    panels(dashboard)
        .into_iter()
        .flat_map(|p| {
            exprs(p)
                .into_iter()
                .map(|e| (title(p), e.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The `histogram_quantile(q, ... <metric>_bucket ...)` of an expression.
fn quantile_of(expr: &str) -> Option<(String, String)> {
    let re = Regex::new(r"histogram_quantile\(\s*([0-9.]+)\s*,.*?(\w+_duration_seconds)_bucket")
        .unwrap();
    re.captures(expr)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
}

/// Whether a panel shows a latency: a quantile of a duration histogram.
fn is_latency_panel(panel: &Value) -> bool {
    exprs(panel).iter().any(|e| quantile_of(e).is_some())
}

/// Each duration histogram the dashboard reads (`*_duration_seconds_*`) must have
/// one panel with p50, p90, p95 and p99 of it.
pub fn percentile_problems(dashboard: &Value) -> Vec<String> {
    let metric = Regex::new(r"(\w+_duration_seconds)_(?:bucket|count|sum)\b").unwrap();
    let shown: BTreeSet<String> = queries(dashboard)
        .iter()
        .flat_map(|(_, e)| {
            metric
                .captures_iter(e)
                .map(|c| c[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut problems = Vec::new();
    for histogram in shown {
        let complete = panels(dashboard).into_iter().any(|panel| {
            let have: BTreeSet<String> = exprs(panel)
                .iter()
                .filter_map(|e| quantile_of(e))
                .filter(|(_, m)| *m == histogram)
                .map(|(q, _)| q)
                .collect();
            PERCENTILES.iter().all(|q| have.contains(*q))
        });
        if !complete {
            problems.push(format!(
                "no panel shows p50, p90, p95 and p99 of {histogram} (histogram_quantile of {histogram}_bucket)"
            ));
        }
    }
    problems
}

/// A latency panel asks for exemplars on its quantile queries and links to
/// Explore with a TraceQL query on the `${traces}` datasource; the dashboard has
/// that variable.
pub fn link_problems(dashboard: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let has_traces = dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|v| v["name"] == "traces" && v["type"] == "datasource");
    if !has_traces {
        problems
            .push("needs a datasource variable named `traces` (the links' trace backend)".into());
    }
    for panel in panels(dashboard)
        .into_iter()
        .filter(|p| is_latency_panel(p))
    {
        let name = title(panel);
        if panel["type"] != "table" {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().unwrap_or_default();
                if quantile_of(expr).is_some() && target["exemplar"] != true {
                    problems.push(format!(
                        "panel {name:?}: quantile query without exemplar: true"
                    ));
                }
            }
        }
        let Some(url) = trace_link(panel) else {
            problems.push(format!(
                "panel {name:?}: no data link to Explore (its traces)"
            ));
            continue;
        };
        match explore_state(url) {
            Err(err) => problems.push(format!("panel {name:?}: {err}")),
            Ok(state) => {
                let queries = explore_queries(&state);
                if queries.is_empty() {
                    problems.push(format!("panel {name:?}: its Explore link has no query"));
                }
                for (datasource, kind, query) in queries {
                    if datasource != "${traces}" {
                        problems.push(format!(
                            "panel {name:?}: the link's datasource is {datasource:?}, not ${{traces}}"
                        ));
                    }
                    if kind != "traceql" || !query.trim_start().starts_with('{') {
                        problems.push(format!(
                            "panel {name:?}: the link's query is not TraceQL: {query}"
                        ));
                    }
                }
            }
        }
    }
    problems
}

fn dashboard_files() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(repo_root().join("dashboards"))
        .expect("dashboards/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no dashboards found");
    files
}

fn load(file: &PathBuf) -> (String, Value) {
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    (
        file.file_name().unwrap().to_string_lossy().into_owned(),
        dashboard,
    )
}

#[test]
fn every_duration_histogram_gets_four_percentiles_and_every_latency_panel_links_to_traces() {
    let mut problems = Vec::new();
    for file in dashboard_files() {
        let (name, dashboard) = load(&file);
        problems.extend(
            percentile_problems(&dashboard)
                .into_iter()
                .chain(link_problems(&dashboard))
                .map(|p| format!("{name}: {p}")),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_missing_percentile_a_missing_link_or_a_hard_coded_trace_datasource_is_reported() {
    let (_, dashboard) = load(&repo_root().join("dashboards/sql-application.json"));
    assert!(percentile_problems(&dashboard).is_empty());
    assert!(link_problems(&dashboard).is_empty());

    let mut no_p90 = dashboard.clone();
    for panel in no_p90["panels"].as_array_mut().unwrap() {
        if let Some(targets) = panel["targets"].as_array_mut() {
            targets.retain(|t| {
                !t["expr"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("histogram_quantile(0.9,")
            });
        }
    }
    let problems = percentile_problems(&no_p90);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("db_client_operation_duration_seconds")),
        "{problems:?}"
    );

    let mut unlinked = dashboard.clone();
    for panel in unlinked["panels"].as_array_mut().unwrap() {
        panel["fieldConfig"]["defaults"]["links"] = Value::Array(Vec::new());
    }
    assert!(
        link_problems(&unlinked)
            .iter()
            .any(|p| p.contains("no data link"))
    );

    let hard_coded = dashboard.to_string().replace(
        "%22datasource%22%3A%22${traces}%22",
        "%22datasource%22%3A%22P214B5B846CF3925F%22",
    );
    let hard_coded: Value = serde_json::from_str(&hard_coded).unwrap();
    assert!(
        link_problems(&hard_coded)
            .iter()
            .any(|p| p.contains("not ${traces}"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_panel_query_returns_data_from_obi_shaped_metrics() {
    let prometheus = {
        let _slot = slots().acquire().await.expect("semaphore");
        scenario::prometheus_with(&fixture::everything()).await
    };
    let client = Prometheus::new(
        backend::client(Duration::from_secs(10)),
        prometheus.process.url(),
    );
    let files = dashboard_files();
    let (mut problems, mut count) = (Vec::new(), 0);
    for file in &files {
        let (name, dashboard) = load(file);
        let queries = queries(&dashboard);
        if queries.is_empty() {
            problems.push(format!("{name}: no panel has a query"));
        }
        for (title, expr) in queries {
            count += 1;
            let query = substitute(&expr);
            match client.query_sum(&query).await {
                Ok(sample) if sample.series > 0 => {}
                Ok(_) => problems.push(format!("{name}: panel {title:?} returns nothing: {query}")),
                Err(err) => {
                    problems.push(format!("{name}: panel {title:?} errors: {err} ({query})"))
                }
            }
        }
    }
    eprintln!("ran {count} panel queries from {} dashboards", files.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The label sets of an instant query's series.
async fn series_labels(
    prometheus: &str,
    query: &str,
) -> Result<Vec<BTreeMap<String, String>>, String> {
    let answer: Value = reqwest::Client::new()
        .get(format!("{prometheus}/api/v1/query"))
        .query(&[("query", query)])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    Ok(answer["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            item["metric"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_trace_link_filled_from_its_panels_series_finds_spans() {
    let everything = fixture::everything();
    let (prometheus, jaeger) = {
        let _slot = slots().acquire().await.expect("semaphore");
        tokio::join!(
            scenario::prometheus_with(&everything),
            scenario::jaeger_with(&everything)
        )
    };
    let traces = Traces::Jaeger(Jaeger::new(
        backend::client(Duration::from_secs(10)),
        jaeger.url(),
    ));
    let (mut problems, mut links) = (Vec::new(), 0);
    for file in dashboard_files() {
        let (name, dashboard) = load(&file);
        for panel in panels(&dashboard) {
            let Some(url) = trace_link(panel) else {
                continue;
            };
            let panel_title = title(panel);
            let mut filled_any = false;
            for expr in exprs(panel) {
                let query = substitute(expr);
                let series = match series_labels(&prometheus.process.url(), &query).await {
                    Ok(series) => series,
                    Err(err) => {
                        problems.push(format!("{name}: panel {panel_title:?}: {err}"));
                        continue;
                    }
                };
                for labels in series {
                    filled_any = true;
                    links += 1;
                    let outcome = async {
                        let filled = fill(url, &labels)?;
                        let state = explore_state(&filled)?;
                        for (_, _, traceql) in explore_queries(&state) {
                            let selector = traceql::selector(&traceql)?;
                            let (count, how) = traces
                                .count_spans(&selector, Window::last(Duration::from_secs(3600)))
                                .await
                                .map_err(|e| e.to_string())?;
                            if count == 0 {
                                return Err(format!("no spans for {traceql} ({how})"));
                            }
                        }
                        Ok::<(), String>(())
                    }
                    .await;
                    if let Err(problem) = outcome {
                        problems.push(format!(
                            "{name}: panel {panel_title:?}, series {labels:?}: {problem}"
                        ));
                    }
                }
            }
            if !filled_any {
                problems.push(format!(
                    "{name}: panel {panel_title:?}: no series to fill its link from"
                ));
            }
        }
    }
    eprintln!("followed {links} trace links");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn grafana_variables_become_concrete_values() {
    assert_eq!(
        substitute(
            r#"rate(x{service_namespace=~"$namespace", route=~"${route}"}[$__rate_interval])"#
        ),
        r#"rate(x{service_namespace=~"obi-examples", route=~".+"}[1m])"#
    );
}
