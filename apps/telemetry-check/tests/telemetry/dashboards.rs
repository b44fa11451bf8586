//! Every panel query of every dashboard in dashboards/ runs against a Prometheus
//! holding every app's OBI-shaped metrics, and must return data.

use serde_json::Value;
use telemetry_check::backend;
use telemetry_check::prometheus::Prometheus;

use crate::fixture::{self, NAMESPACE, repo_root};
use crate::scenario::{self, slots};

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
        regex::Regex::new(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::[a-z]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*")
            .unwrap();
    var.replace_all(&fixed, ".+").into_owned()
}

/// `(panel title, expr)` of every target, rows' nested panels included.
pub fn queries(dashboard: &Value) -> Vec<(String, String)> {
    fn walk(panels: &Value, out: &mut Vec<(String, String)>) {
        for panel in panels.as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap_or("(untitled)").to_owned();
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str().filter(|e| !e.trim().is_empty()) {
                    out.push((title.clone(), expr.to_owned()));
                }
            }
            walk(&panel["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_panel_query_returns_data_from_obi_shaped_metrics() {
    let prometheus = {
        let _slot = slots().acquire().await.expect("semaphore");
        scenario::prometheus_with(&fixture::everything()).await
    };
    let client = Prometheus::new(
        backend::client(std::time::Duration::from_secs(10)),
        prometheus.process.url(),
    );
    let mut files: Vec<_> = std::fs::read_dir(repo_root().join("dashboards"))
        .expect("dashboards/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no dashboards found");
    let (mut problems, mut count) = (Vec::new(), 0);
    for file in &files {
        let dashboard: Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
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

#[test]
fn grafana_variables_become_concrete_values() {
    assert_eq!(
        substitute(
            r#"rate(x{service_namespace=~"$namespace", route=~"${route}"}[$__rate_interval])"#
        ),
        r#"rate(x{service_namespace=~"obi-examples", route=~".+"}[1m])"#
    );
}
