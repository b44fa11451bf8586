//! `values/obi.yaml`: values for the official OBI chart
//! (`open-telemetry/opentelemetry-ebpf-instrumentation`), generated so that OBI's
//! `routes.patterns` list every route of every app of the registry (`apps.toml`) and the image is the pinned one
//! (`values/obi-version.env`, see [`super::obi_pin`]).
//!
//! The rest is what the specs and dashboards rely on, checked against OBI's Config
//! v1 (which v1.0 still loads): body-size histograms on (`metrics.features`,
//! opt-in since v0.14), a 15 s metric export interval (OBI's default is 60 s), and
//! OTLP as the only export path: the chart's own Prometheus exporter is switched
//! off, because with context propagation on it binds port 9090 on every node's host
//! network. `values/obi-prometheus.yaml` is the overlay for scraping OBI instead
//! (exemplars, `service_name` as labels).
//!
//! OBI has no route discovery for Rust: without patterns, `/products/42` becomes
//! `/products/*` by heuristic. Each HTTP app commits its OpenAPI document at
//! `apps/<name>/openapi.json` (an app test keeps it in sync); its `paths` keys,
//! which use `{param}` tags as OBI does, become the patterns. Health and metrics
//! paths are ignored instead. gRPC needs no patterns (the method is the route);
//! only its health checks are ignored.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::obi_pin::{self, Pin};
use crate::apps::{self, App, Protocol};
use crate::paths;

/// Path of the generated file, relative to the repository root.
pub const VALUES_FILE: &str = "values/obi.yaml";
/// Namespace OBI discovers (the one the docs install obi-examples into).
pub const NAMESPACE: &str = "obi-examples";
/// Paths probed by Kubernetes: never routes, always ignored.
const IGNORED_ALWAYS: &[&str] = &["/healthz", "/readyz", "/grpc.health.v1.Health/{method}"];
/// A route ending in one of these segments is a probe or a scrape: ignored.
const IGNORED_LAST_SEGMENTS: &[&str] = &["healthz", "readyz", "metrics"];

/// The routes of one app, from its OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRoutes {
    pub app: String,
    pub paths: Vec<String>,
}

/// Reads `apps/<name>/openapi.json` of every HTTP app of the registry whose crate
/// exists (one not written yet has no routes); an HTTP app without its document is
/// an error. gRPC apps have no patterns.
pub fn read_apps(root: &Path, apps: &[App]) -> Result<Vec<AppRoutes>> {
    let mut routes = Vec::new();
    for app in apps.iter().filter(|a| a.protocol == Protocol::Http) {
        let dir = root.join("apps").join(app.name);
        if !dir.join("Cargo.toml").is_file() {
            continue;
        }
        let file = dir.join("openapi.json");
        let text = std::fs::read_to_string(&file).with_context(|| {
            format!(
                "{} is an HTTP app, so OBI's routes need its OpenAPI document {}",
                app.name,
                file.display()
            )
        })?;
        let doc: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        let paths =
            paths_of(&doc).with_context(|| format!("reading routes of {}", file.display()))?;
        routes.push(AppRoutes {
            app: app.name.to_owned(),
            paths,
        });
    }
    routes.sort_by(|a, b| a.app.cmp(&b.app));
    Ok(routes)
}

/// The full request paths of an OpenAPI 3 document: `paths` keys, prefixed with the
/// path of its first server URL when that has one (an API nested under `/api`).
pub fn paths_of(doc: &Value) -> Result<Vec<String>> {
    let Some(paths) = doc["paths"].as_object() else {
        bail!("no `paths` object: is this an OpenAPI document?");
    };
    let prefix = server_path(doc);
    let mut out = Vec::new();
    for path in paths.keys() {
        if !path.starts_with('/') {
            bail!("path `{path}` does not start with /");
        }
        let full = format!("{prefix}{path}");
        out.push(if full.len() > 1 {
            full.trim_end_matches('/').to_owned()
        } else {
            full
        });
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The path part of the first server URL, without a trailing slash (`""` if none).
fn server_path(doc: &Value) -> String {
    let Some(url) = doc["servers"][0]["url"].as_str() else {
        return String::new();
    };
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    };
    path.trim_end_matches('/').to_owned()
}

/// The patterns and ignored patterns over all apps.
fn route_lists(apps: &[AppRoutes]) -> (Vec<String>, Vec<String>) {
    let all: BTreeSet<&str> = apps
        .iter()
        .flat_map(|a| a.paths.iter().map(String::as_str))
        .collect();
    let is_probe = |path: &str| {
        let last = path.rsplit('/').next().unwrap_or_default();
        IGNORED_LAST_SEGMENTS.contains(&last)
    };
    let mut ignored: BTreeSet<String> = IGNORED_ALWAYS.iter().map(|p| (*p).to_owned()).collect();
    ignored.extend(all.iter().filter(|p| is_probe(p)).map(|p| (*p).to_owned()));
    let patterns = all
        .into_iter()
        .filter(|p| !is_probe(p))
        .map(str::to_owned)
        .collect();
    (patterns, ignored.into_iter().collect())
}

fn yaml_list(items: &[String], indent: &str) -> String {
    if items.is_empty() {
        return " []\n".into();
    }
    let mut out = String::from("\n");
    for item in items {
        // JSON strings are valid YAML double-quoted scalars.
        out.push_str(&format!("{indent}- {}\n", Value::String(item.clone())));
    }
    out
}

/// OBI's metric export interval here: four of them fit in a one-minute window,
/// and telemetry-check's windows (5m, linted for OBI's default 60 s) hold too.
pub const EXPORT_INTERVAL: &str = "15s";

/// The whole values file.
pub fn render(apps: &[AppRoutes], pin: &Pin) -> String {
    let (patterns, ignored) = route_lists(apps);
    let sources = if apps.is_empty() {
        "no app has an OpenAPI document yet".to_owned()
    } else {
        apps.iter()
            .map(|a| format!("apps/{}/openapi.json", a.app))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let backend = format!("http://obi-examples-otel-lgtm.{NAMESPACE}.svc.cluster.local:4318");
    format!(
        "\
# GENERATED by `cargo xtask charts generate` from the apps' OpenAPI documents and
# {pin_file}: do not edit (the gate fails on drift). Routes from: {sources}.
#
# Values for the official OBI chart at the pinned version, installed BEFORE
# obi-examples (docs/install.md):
#   helm install obi {chart} --version {chart_version} \\
#     -n obi --create-namespace -f values/obi.yaml
# Written for OBI {image_tag} in Config v1, which v1.0 still loads (docs/install.md
# says what Config v2 changes). The OTLP endpoints point at the bundled otel-lgtm
# backend of a release named obi-examples in namespace {NAMESPACE}; override them for
# your own collector.
image:
  # The pinned OBI release ({pin_file}): this chart version's appVersion, set
  # explicitly because it is what the specs are written against.
  tag: {image_tag}
config:
  data:
    # Instrument only the demo namespace.
    discovery:
      instrument:
        - k8s_namespace: {NAMESPACE}
    # OBI has no route discovery for Rust: every app route is listed here, so that
    # http_route is `/api/v1/products/{{id}}` and not a heuristic `/api/v1/products/*`.
    # (ignored_patterns and ignore_mode are deprecated in v1.0 but still honoured.)
    routes:
      unmatched: heuristic
      ignore_mode: all
      ignored_patterns:{ignored}      patterns:{patterns}    ebpf:
      # Link client spans to the server span they serve (HTTP/1.1 and gRPC carry
      # traceparent); off by default.
      context_propagation: all
      # Larger payload captures so that Kafka topics and Postgres statements parse.
      buffer_sizes:
        postgres: 8192
        kafka: 8192
      redis_db_cache:
        enabled: true
    attributes:
      kubernetes:
        enable: true
    # application = application_red + application_sizes: the body-size histograms
    # are opt-in since v0.14 (OBI PR #3268), and http-rest-api's spec reads them.
    metrics:
      features: [application]
    otel_metrics_export:
      endpoint: {backend}
      protocol: http/protobuf
      # OBI's default is 60s. The specs' windows (5m) span four intervals either
      # way; 15s puts data in the backend within a minute of the first request.
      interval: {EXPORT_INTERVAL}
    otel_traces_export:
      endpoint: {backend}
      protocol: http/protobuf
    # Off: OTLP is this path. The chart's default exporter listens on port 9090 of
    # every node's host network once context propagation is on (hostNetwork). To
    # scrape OBI instead (its exemplars, service_name as labels), add
    # values/obi-prometheus.yaml after this file.
    prometheus_export: null
",
        pin_file = obi_pin::PIN_FILE,
        chart = pin.chart,
        chart_version = pin.chart_version,
        image_tag = pin.image_tag,
        ignored = yaml_list(&ignored, "        "),
        patterns = yaml_list(&patterns, "        "),
    )
}

/// The generated file's expected contents, from the apps and the pin.
pub fn expected() -> Result<String> {
    Ok(render(
        &read_apps(paths::root(), &apps::ALL)?,
        &obi_pin::read()?,
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pin() -> Pin {
        Pin {
            chart: "open-telemetry/opentelemetry-ebpf-instrumentation".into(),
            chart_repo: "https://example.org/charts".into(),
            chart_version: "0.16.0".into(),
            image_tag: "v1.0.0".into(),
        }
    }

    fn sample() -> Value {
        json!({
            "openapi": "3.0.0",
            "info": {"title": "catalog", "version": "0.1.0"},
            "servers": [{"url": "http://localhost:8080/api"}],
            "paths": {
                "/v1/products": {"get": {}, "post": {}},
                "/v1/products/{id}": {"get": {}, "put": {}, "delete": {}},
                "/v1/products/{id}/image": {"post": {}},
                "/healthz": {"get": {}}
            }
        })
    }

    #[test]
    fn openapi_paths_become_full_request_paths() {
        let paths = paths_of(&sample()).unwrap();
        assert_eq!(
            paths,
            [
                "/api/healthz",
                "/api/v1/products",
                "/api/v1/products/{id}",
                "/api/v1/products/{id}/image"
            ]
        );
    }

    #[test]
    fn a_document_without_servers_keeps_its_paths() {
        let mut doc = sample();
        doc.as_object_mut().unwrap().remove("servers");
        assert!(
            paths_of(&doc)
                .unwrap()
                .contains(&"/v1/products/{id}".to_owned())
        );
        doc["servers"] = json!([{"url": "/"}]);
        assert!(paths_of(&doc).unwrap().contains(&"/healthz".to_owned()));
    }

    #[test]
    fn a_document_without_paths_is_an_error() {
        assert!(paths_of(&json!({"openapi": "3.0.0"})).is_err());
    }

    #[test]
    fn health_paths_are_ignored_not_patterns_and_routes_merge_across_apps() {
        let apps = [
            AppRoutes {
                app: "a".into(),
                paths: vec!["/healthz".into(), "/orders/{id}".into(), "/metrics".into()],
            },
            AppRoutes {
                app: "b".into(),
                paths: vec!["/orders/{id}".into(), "/events".into()],
            },
        ];
        let (patterns, ignored) = route_lists(&apps);
        assert_eq!(patterns, ["/events", "/orders/{id}"]);
        assert!(ignored.contains(&"/healthz".to_owned()));
        assert!(ignored.contains(&"/readyz".to_owned()));
        assert!(ignored.contains(&"/metrics".to_owned()));
    }

    #[test]
    fn with_zero_apps_the_values_are_valid_and_list_no_pattern() {
        let text = render(&[], &pin());
        let values: Value = serde_yaml_ng::from_str(&text).unwrap();
        let routes = &values["config"]["data"]["routes"];
        assert_eq!(routes["patterns"], json!([]));
        assert_eq!(routes["unmatched"], "heuristic");
        assert_eq!(routes["ignored_patterns"][1], "/healthz");
    }

    #[test]
    fn the_values_carry_routes_discovery_propagation_and_endpoints() {
        let apps = [AppRoutes {
            app: "catalog".into(),
            paths: paths_of(&sample()).unwrap(),
        }];
        let values: Value = serde_yaml_ng::from_str(&render(&apps, &pin())).unwrap();
        let data = &values["config"]["data"];
        assert_eq!(data["routes"]["patterns"][1], "/api/v1/products/{id}");
        assert!(
            data["routes"]["ignored_patterns"]
                .as_array()
                .unwrap()
                .contains(&json!("/api/healthz"))
        );
        assert_eq!(
            data["discovery"]["instrument"][0]["k8s_namespace"],
            NAMESPACE
        );
        assert_eq!(data["ebpf"]["context_propagation"], "all");
        assert_eq!(data["ebpf"]["buffer_sizes"]["kafka"], 8192);
        assert!(
            data["otel_traces_export"]["endpoint"]
                .as_str()
                .unwrap()
                .ends_with(":4318")
        );
        assert_eq!(data["attributes"]["kubernetes"]["enable"], true);
    }

    #[test]
    fn the_values_pin_the_image_and_configure_what_the_specs_rely_on() {
        let values: Value = serde_yaml_ng::from_str(&render(&[], &pin())).unwrap();
        assert_eq!(values["image"]["tag"], "v1.0.0");
        let data = &values["config"]["data"];
        assert_eq!(data["metrics"]["features"], json!(["application"]));
        assert_eq!(data["otel_metrics_export"]["interval"], EXPORT_INTERVAL);
        // null deletes the chart's default exporter (Helm's rule for null values).
        assert!(data.as_object().unwrap().contains_key("prometheus_export"));
        assert!(data["prometheus_export"].is_null());
        let text = render(&[], &pin());
        assert!(text.contains("--version 0.16.0"), "{text}");
    }
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    #[test]
    fn an_http_app_without_its_openapi_document_is_an_error_and_grpc_needs_none() {
        let root = paths::target().join("obi-routes-test");
        let _ = std::fs::remove_dir_all(&root);
        for name in ["web", "rpc"] {
            std::fs::create_dir_all(root.join("apps").join(name)).unwrap();
            std::fs::write(root.join("apps").join(name).join("Cargo.toml"), "").unwrap();
        }
        let mut web = *App::named("http-rest-api").unwrap();
        web.name = "web";
        let mut rpc = *App::named("grpc-microservice").unwrap();
        rpc.name = "rpc";
        assert!(read_apps(&root, &[rpc]).unwrap().is_empty());
        let err = read_apps(&root, &[web, rpc]).unwrap_err().to_string();
        assert!(err.contains("web is an HTTP app"), "{err}");
        std::fs::write(
            root.join("apps/web/openapi.json"),
            r#"{"paths": {"/a/{id}": {}}}"#,
        )
        .unwrap();
        let routes = read_apps(&root, &[web, rpc]).unwrap();
        assert_eq!(routes[0].paths, ["/a/{id}"]);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
