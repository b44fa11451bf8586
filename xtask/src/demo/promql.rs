//! The dashboards' PromQL, ready to paste into the local Prometheus: each panel's
//! queries with Grafana's variables filled in (`$__rate_interval` → `1m`, the
//! namespace → any, text boxes → their default), written to
//! `target/demo/promql.md`, and the key ones (rate, errors, p99) per app printed.

use std::fmt::Write;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::apps::App;
use crate::paths;

/// One panel query of a dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The panel's title.
    pub panel: String,
    /// The PromQL, variables filled in.
    pub expr: String,
}

/// Every panel query of a dashboard, in the order of its panels (rows included).
pub fn queries(dashboard: &Value) -> Vec<Query> {
    let mut variables: Vec<(String, String)> = vec![
        ("__rate_interval".into(), "1m".into()),
        ("__interval".into(), "1m".into()),
    ];
    for variable in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = variable["name"].as_str().unwrap_or_default().to_owned();
        let value = match variable["type"].as_str() {
            Some("textbox" | "custom" | "constant") => variable["current"]["value"]
                .as_str()
                .or_else(|| variable["query"].as_str())
                .unwrap_or(".*")
                .to_owned(),
            _ => ".*".to_owned(),
        };
        variables.push((name, value));
    }
    // `$input_topic` before `$input`: longer names first.
    variables.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    let mut found = Vec::new();
    collect(dashboard["panels"].as_array(), &variables, &mut found);
    found
}

fn collect(panels: Option<&Vec<Value>>, variables: &[(String, String)], found: &mut Vec<Query>) {
    for panel in panels.into_iter().flatten() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                found.push(Query {
                    panel: panel["title"].as_str().unwrap_or_default().to_owned(),
                    expr: fill(expr, variables),
                });
            }
        }
        collect(panel["panels"].as_array(), variables, found);
    }
}

fn fill(expr: &str, variables: &[(String, String)]) -> String {
    let mut expr = expr.to_owned();
    for (name, value) in variables {
        expr = expr
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    expr
}

/// The queries to print for an app: its first two (request rate, error ratio)
/// and the first p99 one.
pub fn key(all: &[Query]) -> Vec<&Query> {
    let mut chosen: Vec<&Query> = all.iter().take(2).collect();
    if let Some(p99) = all
        .iter()
        .skip(2)
        .find(|q| q.panel.contains("p99") || q.expr.starts_with("histogram_quantile(0.99"))
    {
        chosen.push(p99);
    }
    chosen
}

/// Writes `target/demo/promql.md` for `apps` and returns the key queries per app.
pub fn write(apps: &[&App]) -> Result<Vec<(&'static str, Vec<Query>)>> {
    let mut text = String::from(
        "# The dashboards' queries for the local Prometheus (written by `cargo xtask demo`)\n",
    );
    let mut keys = Vec::new();
    for app in apps {
        let path = paths::root()
            .join("dashboards")
            .join(format!("{}.json", app.name));
        let json: Value = serde_json::from_str(
            &std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )
        .with_context(|| format!("{} is not JSON", path.display()))?;
        let all = queries(&json);
        let _ = writeln!(text, "\n## {}\n", app.name);
        for query in &all {
            let _ = writeln!(
                text,
                "- {}\n\n  ```promql\n  {}\n  ```",
                query.panel, query.expr
            );
        }
        keys.push((app.name, key(&all).into_iter().cloned().collect()));
    }
    std::fs::write(paths::target().join("demo/promql.md"), text)?;
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dashboard() -> Value {
        json!({
            "templating": {"list": [
                {"name": "datasource", "type": "datasource"},
                {"name": "namespace", "type": "query"},
                {"name": "input_topic", "type": "textbox", "query": "events",
                 "current": {"value": "events"}},
                {"name": "input", "type": "textbox", "current": {"value": "WRONG"}},
            ]},
            "panels": [
                {"title": "RED", "type": "row", "panels": [
                    {"title": "Request rate", "targets": [{"expr":
                        "sum(rate(x_count{service_namespace=~\"$namespace\", t=~\"$input_topic\"}[$__rate_interval]))"}]},
                ]},
                {"title": "Error ratio", "targets": [{"expr": "a / b"}]},
                {"title": "Latency", "targets": [{"expr": "histogram_quantile(0.5, y)"},
                                                  {"expr": "histogram_quantile(0.99, y)"}]},
                {"title": "Text", "type": "text"},
            ]
        })
    }

    #[test]
    fn variables_are_filled_with_local_values() {
        let all = queries(&dashboard());
        assert_eq!(
            all[0].expr,
            "sum(rate(x_count{service_namespace=~\".*\", t=~\"events\"}[1m]))"
        );
        assert!(all.iter().all(|q| !q.expr.contains('$')), "{all:?}");
    }

    #[test]
    fn nested_panels_count_and_the_key_queries_are_rate_errors_and_p99() {
        let all = queries(&dashboard());
        assert_eq!(all.len(), 4);
        let chosen: Vec<&str> = key(&all).iter().map(|q| q.expr.as_str()).collect();
        assert_eq!(chosen[1..], ["a / b", "histogram_quantile(0.99, y)"]);
    }

    #[test]
    fn every_shipped_dashboard_yields_queries_without_variables() {
        for app in crate::apps::ALL.iter() {
            let path = paths::root()
                .join("dashboards")
                .join(format!("{}.json", app.name));
            let json: Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let all = queries(&json);
            assert!(key(&all).len() == 3, "{}: {all:?}", app.name);
            for query in all {
                assert!(!query.expr.contains('$'), "{}: {}", app.name, query.expr);
            }
        }
    }
}
