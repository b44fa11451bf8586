//! OBI-shaped telemetry for the six apps, as OBI v1.0 produces it (the names each
//! protocol's doc, docs/<app>.md, lists; docs/telemetry-checks.md says which OBI
//! versions they hold for):
//! metric and label names, span names, kinds, attributes and parents. Label
//! values come from the apps' own sources where they exist (OpenAPI routes, proto
//! RPCs, migration tables, topic names), so a spec that names a real route finds
//! it; fault settings come from the charts' values. The model is OBI's, not an
//! idealised one: no spans for `BEGIN`/`COMMIT` or for statements prepared before
//! OBI started, Kafka's `send` and producer spans as roots, Redis commands
//! parented by whichever request the writing thread served, stream spans that end
//! at the first response HEADERS, body sizes only with `application_sizes` on.
//!
//! This file holds the model and puts an app together; each protocol's traffic and
//! the OBI symptoms of its faults live in a module of their own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod chart;
mod checkout;
mod grpc;
mod http;
mod kafka;
mod redis;
mod sql;

pub use chart::fault_settings;

/// A histogram (OBI's metrics are all histograms) or a gauge (`target_info`).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Observations per second (histogram) or the value (gauge).
    pub per_second: f64,
    /// Typical observed value: seconds, or bytes for size histograms.
    pub typical: f64,
    pub histogram: bool,
}

impl Series {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Str(String),
    Int(i64),
}

/// A span and its children; one root is one trace.
#[derive(Debug, Clone)]
pub struct FSpan {
    pub service: String,
    pub name: String,
    /// OTLP kind: 2 server, 3 client, 4 producer, 5 consumer.
    pub kind: u8,
    pub attrs: Vec<(String, Attr)>,
    pub error: bool,
    pub children: Vec<FSpan>,
}

impl FSpan {
    pub fn attr(&self, key: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| match v {
                Attr::Str(s) => s.clone(),
                Attr::Int(i) => i.to_string(),
            })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Telemetry {
    pub series: Vec<Series>,
    /// Trace roots; each is sent `COPIES` times with fresh ids.
    pub traces: Vec<FSpan>,
}

/// How many traces each template becomes.
pub const COPIES: usize = 2;
pub const NAMESPACE: &str = "obi-examples";
pub const APPS: [&str; 6] = [
    "http-rest-api",
    "grpc-microservice",
    "sql-application",
    "redis-cache",
    "kafka-streaming",
    "checkout",
];

impl Telemetry {
    pub fn extend(&mut self, other: Telemetry) {
        self.series.extend(other.series);
        self.traces.extend(other.traces);
    }

    pub fn services(&self) -> Vec<String> {
        let mut services = Vec::new();
        fn walk(span: &FSpan, out: &mut Vec<String>) {
            if !out.contains(&span.service) {
                out.push(span.service.clone());
            }
            span.children.iter().for_each(|c| walk(c, out));
        }
        self.traces.iter().for_each(|t| walk(t, &mut services));
        services
    }
}

/// The OBI configuration being modelled: what `values/obi.yaml` switches on.
#[derive(Debug, Clone, Copy)]
pub struct Obi {
    /// `metrics.features` holds `application` or `application_sizes`: the body-size
    /// histograms exist (opt-in since v0.14, OBI PR #3268).
    pub body_sizes: bool,
}

impl Obi {
    /// As `values/obi.yaml` configures OBI.
    pub fn configured() -> Obi {
        let path = repo_root().join("values/obi.yaml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let values: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let features = &values["config"]["data"]["metrics"]["features"];
        let body_sizes = features.as_sequence().into_iter().flatten().any(|f| {
            matches!(
                f.as_str(),
                Some("application" | "application_sizes" | "all")
            )
        });
        Obi { body_sizes }
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn port(app: &str) -> u16 {
    match app {
        "http-rest-api" => 8080,
        "sql-application" => 8081,
        "redis-cache" => 8082,
        "kafka-streaming" => 8083,
        "checkout" => 8084,
        _ => 50051,
    }
}

/// The normal traffic of `app` as the configured OBI shows it, then reshaped by
/// `fault` (a spec's fault name) with the chart's default fault settings.
pub fn app(app: &str, fault: Option<&str>) -> Result<Telemetry, String> {
    app_with(app, fault, Obi::configured())
}

/// [`app`] under another OBI configuration.
pub fn app_with(app: &str, fault: Option<&str>, obi: Obi) -> Result<Telemetry, String> {
    if !APPS.contains(&app) {
        return Err(format!(
            "no fixture for app {app:?} (tests/telemetry/fixture.rs)"
        ));
    }
    let mut t = Telemetry::default();
    t.series.push(Series {
        name: "target_info".into(),
        labels: labels(
            app,
            &[
                ("telemetry_sdk_language", "rust"),
                ("source", "obi"),
                ("host_name", "node-1"),
            ],
        ),
        per_second: 1.0,
        typical: 0.0,
        histogram: false,
    });
    match app {
        "grpc-microservice" => grpc::traffic(&mut t, app),
        "sql-application" => {
            sql::traffic(&mut t, app);
            http::traffic(&mut t, app, obi, &sql::calls);
        }
        "redis-cache" => {
            redis::traffic(&mut t, app);
            http::traffic(&mut t, app, obi, &redis::calls);
        }
        "kafka-streaming" => {
            kafka::traffic(&mut t, app);
            http::traffic(&mut t, app, obi, &kafka::calls);
        }
        "checkout" => {
            checkout::traffic(&mut t, app);
            http::traffic(&mut t, app, obi, &checkout::calls);
        }
        _ => http::traffic(&mut t, app, obi, &http::no_calls),
    }
    if let Some(fault) = fault {
        apply_fault(&mut t, app, fault)?;
    }
    Ok(t)
}

/// A bad day for every app, what a dashboard must be able to show: normal
/// traffic with the `errors` fault on, and backend operations failing.
pub fn everything() -> Telemetry {
    let mut all = Telemetry::default();
    for name in APPS {
        all.extend(app(name, Some("errors")).expect("every app has a fixture"));
    }
    sql::failures(&mut all, "sql-application");
    redis::failures(&mut all, "redis-cache");
    all
}

/// The OBI symptom of `fault`: the kit's `latency` and `errors` belong to the
/// protocol the app serves, the rest to its backend.
fn apply_fault(t: &mut Telemetry, app: &str, fault: &str) -> Result<(), String> {
    let settings = fault_settings(app);
    let front = match app {
        "grpc-microservice" => grpc::apply_fault(t, app, fault, &settings),
        _ => http::apply_fault(t, app, fault, &settings),
    };
    let handled = front
        || match app {
            "sql-application" => sql::apply_fault(t, app, fault),
            "redis-cache" => redis::apply_fault(t, app, fault),
            "kafka-streaming" => kafka::apply_fault(t, app, fault),
            "checkout" => checkout::apply_fault(t, app, fault, &settings),
            _ => false,
        };
    if handled {
        Ok(())
    } else {
        Err(format!(
            "no fixture for fault {fault:?} of {app}: describe its OBI symptom in the \
             fixture module of its protocol (tests/telemetry/fixture/)"
        ))
    }
}

/// OBI's labels on every metric of `app` (service name and namespace promoted from
/// the resource, as the bundled backend does), plus `extra`.
pub fn labels(app: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = [
        ("service_name", app.to_owned()),
        ("service_namespace", NAMESPACE.to_owned()),
        ("k8s_namespace_name", NAMESPACE.to_owned()),
        ("k8s_pod_name", format!("obi-examples-{app}-5d9c7-abcde")),
        ("k8s_deployment_name", format!("obi-examples-{app}")),
        ("k8s_node_name", "node-1".to_owned()),
        ("job", format!("{NAMESPACE}/{app}")),
        ("instance", format!("obi-examples-{app}-5d9c7-abcde")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        labels.insert((*k).to_owned(), (*v).to_owned());
    }
    labels
}

pub fn hist(name: &str, labels: BTreeMap<String, String>, per_second: f64, typical: f64) -> Series {
    Series {
        name: name.into(),
        labels,
        per_second,
        typical,
        histogram: true,
    }
}

/// A leaf span of `app` with string attributes (client, producer, consumer).
pub fn span(app: &str, name: &str, kind: u8, attrs: &[(&str, &str)]) -> FSpan {
    FSpan {
        service: app.into(),
        name: name.into(),
        kind,
        attrs: attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Attr::Str((*v).to_owned())))
            .collect(),
        error: false,
        children: Vec::new(),
    }
}

/// The kit's `latency` fault on the series `delayed` picks: a share (`rate`) of
/// their observations moves `delay` (plus half the jitter) later, as the chart's
/// fault settings say.
pub fn delay_share(
    t: &mut Telemetry,
    settings: &serde_json::Value,
    delayed: &dyn Fn(&Series) -> bool,
) {
    let delay = chart::seconds(settings, "latency", "delay", 0.2)
        + chart::seconds(settings, "latency", "jitter", 0.0) / 2.0;
    let rate = chart::number(settings, "latency", "rate", 1.0);
    let mut slow = Vec::new();
    for s in t.series.iter_mut().filter(|s| delayed(s)) {
        let mut later = s.clone();
        later.per_second = s.per_second * rate;
        later.typical += delay;
        s.per_second *= 1.0 - rate;
        slow.push(later);
    }
    t.series.extend(slow);
    t.series.retain(|s| s.per_second > 0.0);
}

/// Where a request's backend spans go: under its server span, or into traces of
/// their own (OBI linked them to another request, or to none).
#[derive(Debug, Clone, Default)]
pub struct Calls {
    pub children: Vec<FSpan>,
    pub roots: Vec<FSpan>,
}
