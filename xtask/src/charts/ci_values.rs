//! Every `charts/*/ci/*-values.yaml` must be installable as written on the kind
//! cluster of `.github/workflows/e2e.yml`, where `ct install` installs each into
//! namespace [`NAMESPACE`] after applying [`FIXTURES`]. A ci/ file may only name:
//!
//! - Secrets (`existingSecret`, with `existingSecretKey`) that the fixtures create
//!   in that namespace, with that key;
//! - hosts (`host`, `bootstrapServers`, any `http(s)://` URL) that are Services of
//!   the fixtures: `name` (in the install namespace), `name.ns`, `name.ns.svc`,
//!   `name.ns.svc.cluster.local`, or `pod.name.ns.svc` for a StatefulSet pod that
//!   the fixtures' StatefulSet of that headless Service actually runs;
//! - StorageClasses (`storageClass`) that kind has (`standard`) or the fixtures add;
//! - faults (`faults.<name>.enabled: true`, or `<alias>.faults.<name>` in the
//!   umbrella) that have a telemetry-check spec, `telemetry/<app>-<name>.yaml`,
//!   since the test pod runs the spec of every enabled fault.
//!
//! Anything else cannot pass on GitHub: the pod waits for a Secret that never
//! comes, dials a name that does not resolve, or the test has no spec to run.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_yaml_ng::Value;

use super::inventory::Chart;
use crate::paths;

/// What the kind job applies before `ct install`, relative to the repository root.
pub const FIXTURES: &str = ".ci/kind/fixtures.yaml";
/// The namespace `ct install` installs every chart into (the one OBI instruments).
pub const NAMESPACE: &str = "obi-examples";
/// kind's own StorageClass (its local-path provisioner).
const KIND_STORAGE_CLASS: &str = "standard";

/// Checks every ci/ values file of every chart against the fixtures.
pub fn check(charts: &[Chart]) -> Result<Vec<String>> {
    let root = paths::root();
    let text = std::fs::read_to_string(root.join(FIXTURES))
        .with_context(|| format!("reading {FIXTURES}"))?;
    let fixtures = Fixtures::parse(&text).with_context(|| format!("parsing {FIXTURES}"))?;
    let specs = fault_specs(charts)?;
    let mut problems = Vec::new();
    for chart in charts {
        let aliases = aliases(chart);
        for file in &chart.ci_values {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let values: Value = serde_yaml_ng::from_str(&text)
                .with_context(|| format!("parsing {}", file.display()))?;
            let shown = file.strip_prefix(root).unwrap_or(file).display();
            for problem in check_values(&chart.name, &aliases, &values, &fixtures, &specs) {
                problems.push(format!("{shown}: {problem}"));
            }
        }
    }
    Ok(problems)
}

/// Chart name → the faults it has a spec for (`telemetry/<app>-<fault>.yaml`).
fn fault_specs(charts: &[Chart]) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let mut specs = BTreeMap::new();
    for chart in charts {
        let Some(app) = chart.app() else { continue };
        let mut faults = BTreeSet::new();
        let dir = chart.dir.join("telemetry");
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries {
                let name = entry?.file_name().to_string_lossy().into_owned();
                let fault = name
                    .strip_suffix(".yaml")
                    .and_then(|stem| stem.strip_prefix(app))
                    .and_then(|rest| rest.strip_prefix('-'));
                if let Some(fault) = fault {
                    faults.insert(fault.to_owned());
                }
            }
        }
        specs.insert(chart.name.clone(), faults);
    }
    Ok(specs)
}

/// The umbrella's aliases (`http` → `http-rest-api`); empty for an app chart.
fn aliases(chart: &Chart) -> BTreeMap<String, String> {
    chart
        .meta
        .dependencies
        .iter()
        .map(|dep| {
            let alias = dep.alias.clone().unwrap_or_else(|| dep.name.clone());
            (alias, dep.name.clone())
        })
        .collect()
}

/// What the fixtures create, as far as a ci/ file can refer to it.
#[derive(Debug, Default)]
pub struct Fixtures {
    /// (namespace, name) → keys.
    secrets: BTreeMap<(String, String), BTreeSet<String>>,
    /// (namespace, name).
    services: BTreeSet<(String, String)>,
    /// (namespace, governing Service) → (StatefulSet name, replicas).
    statefulsets: BTreeMap<(String, String), (String, u64)>,
    /// StorageClass names.
    storage_classes: BTreeSet<String>,
}

#[derive(Debug, Deserialize)]
struct Object {
    kind: String,
    metadata: Metadata,
    #[serde(default, rename = "stringData")]
    string_data: BTreeMap<String, Value>,
    #[serde(default)]
    data: BTreeMap<String, Value>,
    #[serde(default)]
    spec: Value,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

impl Fixtures {
    /// Reads a multi-document manifest.
    pub fn parse(text: &str) -> Result<Self> {
        let mut fixtures = Self::default();
        for document in serde_yaml_ng::Deserializer::from_str(text) {
            let value = Value::deserialize(document)?;
            if value.is_null() {
                continue;
            }
            let object: Object = serde_yaml_ng::from_value(value)?;
            let namespace = object
                .metadata
                .namespace
                .unwrap_or_else(|| "default".into());
            let name = object.metadata.name;
            match object.kind.as_str() {
                "Secret" => {
                    let keys = object
                        .string_data
                        .into_keys()
                        .chain(object.data.into_keys());
                    fixtures
                        .secrets
                        .entry((namespace, name))
                        .or_default()
                        .extend(keys);
                }
                "Service" => {
                    fixtures.services.insert((namespace, name));
                }
                "StorageClass" => {
                    fixtures.storage_classes.insert(name);
                }
                "StatefulSet" => {
                    let service = object.spec["serviceName"].as_str().unwrap_or_default();
                    let replicas = object.spec["replicas"].as_u64().unwrap_or(1);
                    fixtures
                        .statefulsets
                        .insert((namespace, service.to_owned()), (name, replicas));
                }
                _ => {}
            }
        }
        Ok(fixtures)
    }

    /// Why `host` (as a pod in [`NAMESPACE`] resolves it) does not resolve, if not.
    fn unresolved(&self, host: &str) -> Option<String> {
        let trimmed = host.strip_suffix(".cluster.local").unwrap_or(host);
        let trimmed = trimmed.strip_suffix(".svc").unwrap_or(trimmed);
        let labels: Vec<&str> = trimmed.split('.').collect();
        let service = |namespace: &str, name: &str| {
            self.services
                .contains(&(namespace.to_owned(), name.to_owned()))
        };
        match labels.as_slice() {
            [name] if service(NAMESPACE, name) => None,
            [name, namespace] if service(namespace, name) => None,
            [pod, name, namespace] if service(namespace, name) => {
                let key = (namespace.to_string(), name.to_string());
                match self.statefulsets.get(&key) {
                    Some((set, replicas))
                        if pod
                            .strip_prefix(set.as_str())
                            .and_then(|rest| rest.strip_prefix('-'))
                            .and_then(|ordinal| ordinal.parse::<u64>().ok())
                            .is_some_and(|ordinal| ordinal < *replicas) =>
                    {
                        None
                    }
                    _ => Some(format!(
                        "host {host}: no pod {pod} of a StatefulSet behind Service {namespace}/{name} in {FIXTURES}"
                    )),
                }
            }
            [name] => Some(format!(
                "host {host}: no Service {NAMESPACE}/{name} in {FIXTURES} (a ci/ file cannot know its release's name)"
            )),
            [name, namespace] => Some(format!(
                "host {host}: no Service {namespace}/{name} in {FIXTURES}"
            )),
            _ => Some(format!(
                "host {host}: not a cluster Service name that {FIXTURES} provides"
            )),
        }
    }
}

/// The problems of one ci/ file of chart `chart`.
pub fn check_values(
    chart: &str,
    aliases: &BTreeMap<String, String>,
    values: &Value,
    fixtures: &Fixtures,
    specs: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    walk(values, "", &mut |path, mapping| {
        refs(path, mapping, fixtures, &mut problems);
    });
    // Faults: the chart's own, or each alias's in the umbrella.
    let mut scopes = vec![(chart.to_owned(), values.clone(), String::new())];
    for (alias, dependency) in aliases {
        scopes.push((
            dependency.clone(),
            values[alias.as_str()].clone(),
            format!("{alias}."),
        ));
    }
    for (scope, values, prefix) in scopes {
        let Some(faults) = values["faults"].as_mapping() else {
            continue;
        };
        for (fault, settings) in faults {
            let fault = fault.as_str().unwrap_or_default();
            if settings["enabled"].as_bool() != Some(true) {
                continue;
            }
            let known = specs.get(&scope).is_some_and(|set| set.contains(fault));
            if !known {
                problems.push(format!(
                    "{prefix}faults.{fault} is enabled but charts/{scope}/telemetry has no spec for it (its helm test would have nothing to check)"
                ));
            }
        }
    }
    problems
}

/// Calls `visit` with every mapping and its dotted path.
fn walk(value: &Value, path: &str, visit: &mut dyn FnMut(&str, &serde_yaml_ng::Mapping)) {
    match value {
        Value::Mapping(mapping) => {
            visit(path, mapping);
            for (key, child) in mapping {
                let key = key.as_str().unwrap_or_default();
                let child_path = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                };
                walk(child, &child_path, visit);
            }
        }
        Value::Sequence(items) => {
            for (index, child) in items.iter().enumerate() {
                walk(child, &format!("{path}[{index}]"), visit);
            }
        }
        _ => {}
    }
}

/// The Secret and host references of one mapping.
fn refs(
    path: &str,
    mapping: &serde_yaml_ng::Mapping,
    fixtures: &Fixtures,
    problems: &mut Vec<String>,
) {
    let at = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    let string = |key: &str| {
        mapping
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(secret) = string("existingSecret") {
        let id = (NAMESPACE.to_owned(), secret.to_owned());
        match (fixtures.secrets.get(&id), string("existingSecretKey")) {
            (None, _) => problems.push(format!(
                "{}: Secret {NAMESPACE}/{secret} is not created by {FIXTURES}",
                at("existingSecret")
            )),
            (Some(keys), Some(key)) if !keys.contains(key) => problems.push(format!(
                "{}: Secret {NAMESPACE}/{secret} in {FIXTURES} has no key {key}",
                at("existingSecretKey")
            )),
            _ => {}
        }
    }
    if let Some(class) = string("storageClass")
        && class != KIND_STORAGE_CLASS
        && !fixtures.storage_classes.contains(class)
    {
        problems.push(format!(
            "{}: StorageClass {class} is neither kind's `{KIND_STORAGE_CLASS}` nor in {FIXTURES} (the claim would stay Pending)",
            at("storageClass")
        ));
    }
    let mut hosts = Vec::new();
    if let Some(host) = string("host") {
        hosts.push(("host", host.to_owned()));
    }
    if let Some(servers) = string("bootstrapServers") {
        for server in servers.split(',') {
            let host = server
                .trim()
                .rsplit_once(':')
                .map_or(server.trim(), |(h, _)| h);
            hosts.push(("bootstrapServers", host.to_owned()));
        }
    }
    for (key, value) in mapping {
        let (Some(key), Some(url)) = (key.as_str(), value.as_str()) else {
            continue;
        };
        if let Some(rest) = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
        {
            let authority = rest.split('/').next().unwrap_or_default();
            let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
            hosts.push((key, host.to_owned()));
        }
    }
    for (key, host) in hosts {
        if let Some(why) = fixtures.unresolved(&host) {
            problems.push(format!("{}: {why}", at(key)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::inventory;

    fn repository_fixtures() -> Result<Fixtures> {
        Fixtures::parse(&std::fs::read_to_string(paths::root().join(FIXTURES))?)
    }

    fn values(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    fn specs() -> BTreeMap<String, BTreeSet<String>> {
        fault_specs(&inventory::charts().unwrap()).unwrap()
    }

    fn problems_of(chart: &str, text: &str) -> Vec<String> {
        let charts = inventory::charts().unwrap();
        let aliases = charts
            .iter()
            .find(|c| c.name == chart)
            .map(aliases)
            .unwrap_or_default();
        check_values(
            chart,
            &aliases,
            &values(text),
            &repository_fixtures().unwrap(),
            &specs(),
        )
    }

    #[test]
    fn every_ci_file_of_the_repository_is_installable() {
        let problems = check(&inventory::charts().unwrap()).unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn the_external_files_as_written_pass() {
        let sql = "external:\n  host: postgres.databases.svc.cluster.local\n  existingSecret: shop-postgres\n  existingSecretKey: app-password\n";
        assert_eq!(problems_of("sql-application", sql), Vec::<String>::new());
    }

    #[test]
    fn a_secret_the_workflow_does_not_create_fails() {
        let text = "external:\n  existingSecret: shop-mysql\n  existingSecretKey: app-password\n";
        let problems = problems_of("sql-application", text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("external.existingSecret: Secret obi-examples/shop-mysql"));
    }

    #[test]
    fn a_secret_key_the_fixture_lacks_fails() {
        let text = "external:\n  existingSecret: shop-redis\n  existingSecretKey: password\n";
        let problems = problems_of("redis-cache", text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("has no key password"), "{problems:?}");
    }

    #[test]
    fn hosts_the_fixtures_do_not_serve_fail() {
        // The second broker the old file named; the fixtures run one.
        let kafka = "external:\n  bootstrapServers: kafka-0.kafka.streaming.svc:9092,kafka-1.kafka.streaming.svc:9092\n";
        let problems = problems_of("kafka-streaming", kafka);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("kafka-1.kafka.streaming.svc"),
            "{problems:?}"
        );
        // A backend in a namespace the workflow never fills.
        let jaeger = "global:\n  telemetry:\n    tracesUrl: http://jaeger-query.monitoring.svc.cluster.local:16686\n";
        let problems = problems_of("obi-examples", jaeger);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("global.telemetry.tracesUrl: host jaeger-query"));
        // A release-relative short name (the release name is ct's random one).
        let origin = "config:\n  origin:\n    url: http://sql-application:8081\n";
        let problems = problems_of("redis-cache", origin);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("cannot know its release's name"));
    }

    #[test]
    fn a_storage_class_kind_lacks_fails() {
        let text = "redis:\n  persistence:\n    enabled: true\n    storageClass: standard\n";
        assert_eq!(problems_of("redis-cache", text), Vec::<String>::new());
        let text = "redis:\n  persistence:\n    enabled: true\n    storageClass: gp3\n";
        let problems = problems_of("redis-cache", text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("redis.persistence.storageClass: StorageClass gp3"));
    }

    #[test]
    fn a_fault_without_a_spec_fails_in_an_app_chart_and_through_an_alias() {
        let app = "faults:\n  latency:\n    enabled: true\n  made_up:\n    enabled: true\n  errors:\n    enabled: false\n";
        let problems = problems_of("http-rest-api", app);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("faults.made_up is enabled"));
        let umbrella = "http:\n  faults:\n    latency:\n      enabled: true\nsql:\n  faults:\n    hot_key:\n      enabled: true\n";
        let problems = problems_of("obi-examples", umbrella);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("sql.faults.hot_key"), "{problems:?}");
        assert!(problems[0].contains("charts/sql-application/telemetry"));
    }

    #[test]
    fn the_fixtures_parse_into_what_the_files_need() {
        let fixtures = repository_fixtures().unwrap();
        assert!(
            fixtures
                .unresolved("redis.caches.svc.cluster.local")
                .is_none()
        );
        assert!(fixtures.unresolved("kafka-0.kafka.streaming.svc").is_none());
        assert!(fixtures.unresolved("kafka-0.kafka.nowhere.svc").is_some());
        assert!(fixtures.unresolved("example.com").is_some());
    }
}
