//! The OBI config the demo writes for the user (`target/demo/obi.yaml`): the
//! chart's settings from `values/obi.yaml` where they apply off Kubernetes (route
//! patterns, eBPF options), discovery by the apps' ports, traces over OTLP to the
//! local Jaeger, metrics on OBI's Prometheus endpoint for the local Prometheus.

use anyhow::{Context, Result};
use serde_yaml_ng::{Mapping, Value};

use super::backends::{JAEGER_OTLP_HTTP, OBI_METRICS_PORT};
use crate::apps::App;
use crate::paths;

/// Keys of the chart's `config.data` that only make sense in a cluster or that the
/// demo replaces: namespace discovery, Kubernetes metadata, the cluster's OTLP
/// endpoints, and the Prometheus exporter the chart switches off (`null`: on a
/// node's host network it would bind port 9090) and the demo scrapes on its own port.
const CLUSTER_ONLY: &[&str] = &[
    "discovery",
    "attributes",
    "otel_metrics_export",
    "otel_traces_export",
    "prometheus_export",
];

/// The config for these apps, from the text of `values/obi.yaml`.
pub fn config(values_text: &str, apps: &[&App]) -> Result<String> {
    let values: Value =
        serde_yaml_ng::from_str(values_text).context("values/obi.yaml is not YAML")?;
    let chart = values
        .get("config")
        .and_then(|c| c.get("data"))
        .and_then(Value::as_mapping)
        .context("values/obi.yaml has no `config.data` mapping")?;
    let mut config = Mapping::new();
    let ports: Vec<String> = apps.iter().map(|app| app.port.to_string()).collect();
    let local = format!(
        "discovery:\n  instrument:\n    - open_ports: \"{ports}\"\n\
         prometheus_export:\n  port: {OBI_METRICS_PORT}\n  path: /metrics\n\
         otel_traces_export:\n  endpoint: http://127.0.0.1:{JAEGER_OTLP_HTTP}\n  protocol: http/protobuf\n",
        ports = ports.join(","),
    );
    let local: Mapping = serde_yaml_ng::from_str(&local)?;
    config.extend(local);
    for (key, value) in chart {
        if !key.as_str().is_some_and(|k| CLUSTER_ONLY.contains(&k)) {
            config.insert(key.clone(), value.clone());
        }
    }
    let body = serde_yaml_ng::to_string(&config)?;
    Ok(format!(
        "# OBI config for the apps of `cargo xtask demo` (generated on each run; not committed).\n\
         # From values/obi.yaml: everything but {}; the rest is local.\n{body}",
        CLUSTER_ONLY.join(", ")
    ))
}

/// Writes the config for `apps` to `target/demo/obi.yaml` and returns its path.
pub fn write(apps: &[&App]) -> Result<std::path::PathBuf> {
    let values = paths::root().join("values/obi.yaml");
    let text = std::fs::read_to_string(&values)
        .with_context(|| format!("cannot read {}", values.display()))?;
    let path = paths::target().join("demo/obi.yaml");
    std::fs::write(&path, config(&text, apps)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::ALL;

    fn written() -> Value {
        let text = std::fs::read_to_string(paths::root().join("values/obi.yaml")).unwrap();
        let apps: Vec<&App> = ALL.iter().collect();
        serde_yaml_ng::from_str(&config(&text, &apps).unwrap()).unwrap()
    }

    #[test]
    fn the_apps_are_found_by_their_ports() {
        let config = written();
        let ports = config["discovery"]["instrument"][0]["open_ports"]
            .as_str()
            .unwrap();
        assert_eq!(ports, "8080,50051,8081,8082,8083,8084");
        assert!(
            config["discovery"]["instrument"][0]
                .get("k8s_namespace")
                .is_none()
        );
    }

    #[test]
    fn traces_go_to_the_local_jaeger_and_metrics_to_a_scrape_endpoint() {
        let config = written();
        assert_eq!(
            config["otel_traces_export"]["endpoint"].as_str(),
            Some("http://127.0.0.1:4318")
        );
        assert_eq!(config["prometheus_export"]["port"].as_u64(), Some(9400));
        assert!(
            config.get("otel_metrics_export").is_none(),
            "no cluster collector"
        );
        assert!(config.get("attributes").is_none(), "no Kubernetes metadata");
    }

    #[test]
    fn the_charts_routes_and_ebpf_settings_are_kept() {
        let config = written();
        let patterns = config["routes"]["patterns"].as_sequence().unwrap();
        assert!(patterns.contains(&Value::from("/api/v1/products/{id}")));
        assert_eq!(config["routes"]["unmatched"].as_str(), Some("heuristic"));
        assert_eq!(config["ebpf"]["context_propagation"].as_str(), Some("all"));
        assert_eq!(
            config["ebpf"]["buffer_sizes"]["postgres"].as_u64(),
            Some(8192)
        );
    }

    #[test]
    fn values_without_config_data_are_refused_by_name() {
        let message = format!("{:#}", config("config: {}\n", &[]).unwrap_err());
        assert!(message.contains("config.data"), "{message}");
    }
}
