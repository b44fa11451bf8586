//! OBI-shaped telemetry for the six apps, as /work/shared/obi-telemetry.md (kept
//! in the repo as docs/telemetry-checks.md's reference) lists it: metric and label
//! names, span names, kinds and attributes. Label values come from the apps' own
//! sources where they exist (OpenAPI routes, proto RPCs, migration tables), so a
//! new spec that names a real route finds it. Faults reshape the data the way
//! their documented OBI symptom says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod checkout;
mod kafka;

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
pub const COPIES: usize = 3;
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

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn port(app: &str) -> u16 {
    match app {
        "http-rest-api" => 8080,
        "sql-application" => 8081,
        "redis-cache" => 8082,
        "kafka-streaming" => 8083,
        "checkout" => 8084,
        _ => 50051,
    }
}

/// The normal traffic of `app`, then reshaped by `fault` (a spec's fault name).
pub fn app(app: &str, fault: Option<&str>) -> Result<Telemetry, String> {
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
    if app == "grpc-microservice" {
        grpc(&mut t, app);
    } else {
        for (method, route, statuses) in http_routes(app) {
            http_route(&mut t, app, &method, &route, &statuses);
        }
    }
    if app == "kafka-streaming" {
        kafka::traffic(&mut t, app);
    }
    if let Some(fault) = fault {
        apply_fault(&mut t, app, fault)?;
    }
    Ok(t)
}

/// Every app's normal traffic with the `errors` fault on: what a dashboard shows.
pub fn everything() -> Telemetry {
    let mut all = Telemetry::default();
    for name in APPS {
        all.extend(app(name, Some("errors")).expect("every app has a fixture"));
    }
    all
}

fn labels(app: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
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

fn hist(name: &str, labels: BTreeMap<String, String>, per_second: f64, typical: f64) -> Series {
    Series {
        name: name.into(),
        labels,
        per_second,
        typical,
        histogram: true,
    }
}

// --- HTTP -------------------------------------------------------------------------

/// `(METHOD, route, statuses)` from `apps/<app>/openapi.json` (every documented
/// status but 5xx, which belong to the `errors` fault), else the design's routes.
pub fn http_routes(app: &str) -> Vec<(String, String, Vec<String>)> {
    let path = repo_root().join("apps").join(app).join("openapi.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let doc: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut routes = Vec::new();
        for (route, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in ["get", "post", "put", "patch", "delete"] {
                let Some(operation) = item.get(method) else {
                    continue;
                };
                if matches!(route.as_str(), "/healthz" | "/readyz") {
                    continue;
                }
                let mut statuses: Vec<String> = operation["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(code, _)| code.clone())
                    .filter(|code| {
                        code.len() == 3
                            && !code.starts_with('5')
                            && code.chars().all(|c| c.is_ascii_digit())
                    })
                    .collect();
                statuses.sort();
                routes.push((method.to_uppercase(), route.clone(), statuses));
            }
        }
        if !routes.is_empty() {
            return routes;
        }
    }
    let defaults: &[(&str, &str)] = match app {
        "http-rest-api" => &[
            ("GET", "/api/v1/products"),
            ("POST", "/api/v1/products"),
            ("GET", "/api/v1/products/{id}"),
            ("PUT", "/api/v1/products/{id}"),
            ("DELETE", "/api/v1/products/{id}"),
            ("POST", "/api/v1/products/{id}/image"),
        ],
        "sql-application" => &[
            ("GET", "/api/v1/orders"),
            ("POST", "/api/v1/orders"),
            ("GET", "/api/v1/orders/{id}"),
            ("GET", "/api/v1/reports/sales"),
        ],
        "redis-cache" => &[
            ("GET", "/api/v1/products/{id}"),
            ("POST", "/api/v1/sessions"),
            ("GET", "/api/v1/sessions/{id}"),
            ("POST", "/api/v1/notifications"),
            ("GET", "/api/v1/stats"),
        ],
        "kafka-streaming" => &[
            ("POST", "/api/v1/events"),
            ("POST", "/api/v1/events/batch"),
            ("GET", "/api/v1/consumer/lag"),
        ],
        _ => &[],
    };
    defaults
        .iter()
        .map(|(m, r)| ((*m).to_owned(), (*r).to_owned(), Vec::new()))
        .collect()
}

fn http_route(t: &mut Telemetry, app: &str, method: &str, route: &str, documented: &[String]) {
    let default_ok = match method {
        "POST" => "201",
        "DELETE" => "204",
        _ => "200",
    };
    let ok = documented
        .iter()
        .find(|c| c.starts_with('2'))
        .map_or(default_ok, String::as_str);
    let mut statuses: Vec<(&str, f64)> = vec![(ok, 5.0)];
    if documented.iter().any(|c| !c.starts_with('2')) {
        statuses.extend(
            documented
                .iter()
                .filter(|c| !c.starts_with('2'))
                .map(|c| (c.as_str(), 0.2)),
        );
    } else {
        statuses.push((
            if method == "GET" || method == "DELETE" {
                "404"
            } else {
                "400"
            },
            0.2,
        ));
    }
    let port = port(app).to_string();
    // What the server does for this route, as client calls OBI sees.
    let calls = backend_calls(t, app, method, route);
    for (status, rate) in statuses {
        let l = labels(
            app,
            &[
                ("http_request_method", method),
                ("http_response_status_code", status),
                ("http_route", route),
                ("url_scheme", "http"),
                ("server_address", app),
                ("server_port", &port),
                ("error_type", ""),
            ],
        );
        t.series.push(hist(
            "http_server_request_duration_seconds",
            l.clone(),
            rate,
            0.01,
        ));
        t.series.push(hist(
            "http_server_request_body_size_bytes",
            l.clone(),
            rate,
            200.0,
        ));
        t.series
            .push(hist("http_server_response_body_size_bytes", l, rate, 900.0));
        let code: i64 = status.parse().unwrap();
        let mut span = server_span(app, method, route, code);
        // Validation errors answer before any backend call; the rest make them.
        if !matches!(code, 400 | 413 | 415 | 422) {
            span.children = calls.clone();
        }
        // Most traffic succeeds: five success traces for each error trace.
        let templates = if status == ok { 5 } else { 1 };
        for _ in 0..templates {
            t.traces.push(span.clone());
        }
    }
}

fn server_span(app: &str, method: &str, route: &str, status: i64) -> FSpan {
    FSpan {
        service: app.into(),
        name: format!("{method} {route}"),
        kind: 2,
        attrs: vec![
            ("http.request.method".into(), Attr::Str(method.into())),
            ("http.response.status_code".into(), Attr::Int(status)),
            ("http.route".into(), Attr::Str(route.into())),
            ("url.path".into(), Attr::Str(route.replace("{id}", "42"))),
            ("url.scheme".into(), Attr::Str("http".into())),
            ("server.port".into(), Attr::Int(port(app).into())),
            ("network.protocol.version".into(), Attr::Str("1.1".into())),
        ],
        error: status >= 500,
        children: Vec::new(),
    }
}

fn client(app: &str, name: &str, kind: u8, attrs: &[(&str, &str)]) -> FSpan {
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

/// Client spans under a successful request, plus the matching client metrics.
fn backend_calls(t: &mut Telemetry, app: &str, method: &str, route: &str) -> Vec<FSpan> {
    match app {
        "sql-application" => {
            let table = table_for(route);
            let ops: &[&str] = match method {
                "GET" => &["SELECT"],
                "POST" => &["BEGIN", "INSERT", "COMMIT"],
                "PUT" | "PATCH" => &["UPDATE"],
                _ => &["DELETE"],
            };
            ops.iter()
                .map(|op| {
                    sql_metric(t, app, op);
                    let name = if matches!(*op, "BEGIN" | "COMMIT") {
                        (*op).to_owned()
                    } else {
                        format!("{op} {table}")
                    };
                    client(
                        app,
                        &name,
                        3,
                        &[
                            ("db.system.name", "postgresql"),
                            ("db.operation.name", op),
                            ("db.collection.name", &table),
                            ("db.namespace", "postgres"),
                            ("server.address", "postgres"),
                        ],
                    )
                })
                .collect()
        }
        "redis-cache" => {
            // Hit-heavy: GETs for every product read, SETs for fills and logins.
            for (cmd, rate) in [
                ("GET", 6.0),
                ("SET", 1.5),
                ("GETEX", 5.0),
                ("DEL", 2.0),
                ("PUBLISH", 1.0),
            ] {
                redis_metric(t, app, cmd, rate);
            }
            let commands: &[&str] = match (method, route) {
                ("GET", "/api/v1/products/{id}") => &["GET"],
                ("GET", "/api/v1/sessions/me") => &["GETEX"],
                ("POST", "/api/v1/sessions") => &["SET"],
                ("PUT", _) => &["DEL", "PUBLISH"],
                ("DELETE", _) => &["DEL"],
                _ => &[],
            };
            commands.iter().map(|cmd| redis_span(app, cmd)).collect()
        }
        // One produce request per POST; the topic series come from kafka::traffic.
        "kafka-streaming" if method == "POST" => kafka::api_calls(app),
        "checkout" => checkout::calls(t, app),
        _ => Vec::new(),
    }
}

fn sql_metric(t: &mut Telemetry, app: &str, op: &str) {
    if !t
        .series
        .iter()
        .any(|s| s.labels.get("db_operation_name").map(String::as_str) == Some(op))
    {
        let l = labels(
            app,
            &[
                ("db_system_name", "postgresql"),
                ("db_operation_name", op),
                ("error_type", ""),
                ("server_address", "postgres"),
            ],
        );
        t.series
            .push(hist("db_client_operation_duration_seconds", l, 5.0, 0.002));
    }
}

fn redis_metric(t: &mut Telemetry, app: &str, cmd: &str, per_second: f64) {
    if !t
        .series
        .iter()
        .any(|s| s.labels.get("db_operation_name").map(String::as_str) == Some(cmd))
    {
        let l = labels(
            app,
            &[
                ("db_system_name", "redis"),
                ("db_operation_name", cmd),
                ("error_type", ""),
                ("server_address", "redis"),
            ],
        );
        t.series.push(hist(
            "db_client_operation_duration_seconds",
            l,
            per_second,
            0.0005,
        ));
    }
}

fn redis_span(app: &str, cmd: &str) -> FSpan {
    client(
        app,
        cmd,
        3,
        &[
            ("db.system.name", "redis"),
            ("db.operation.name", cmd),
            ("server.address", "redis"),
        ],
    )
}

/// redis-cache: Redis SETs per second become `per_second`; with `fills`, every
/// successful product read also carries a SET span (a cache fill).
fn redis_fills(t: &mut Telemetry, per_second: f64, fills: bool) {
    for s in t
        .series
        .iter_mut()
        .filter(|s| s.labels.get("db_operation_name").map(String::as_str) == Some("SET"))
    {
        s.per_second = per_second;
    }
    if fills {
        for root in t.traces.iter_mut().filter(|s| {
            s.name == "GET /api/v1/products/{id}"
                && s.attr("http.response.status_code").as_deref() == Some("200")
        }) {
            root.children.push(redis_span("redis-cache", "SET"));
        }
    }
}

/// Tables from the sql-application migrations; the route's resource picks one.
fn table_for(route: &str) -> String {
    let dir = repo_root().join("apps/sql-application/migrations");
    let mut tables = Vec::new();
    let re = regex::Regex::new(r"(?i)create\s+table\s+(?:if\s+not\s+exists\s+)?([a-z_][a-z0-9_]*)")
        .unwrap();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        tables.extend(re.captures_iter(&text).map(|c| c[1].to_lowercase()));
    }
    if tables.is_empty() {
        tables = vec![
            "orders".into(),
            "customers".into(),
            "order_items".into(),
            "products".into(),
        ];
    }
    let resource = route
        .split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .nth(2)
        .unwrap_or("orders");
    tables
        .iter()
        .find(|t| *t == resource)
        .cloned()
        .unwrap_or_else(|| tables[0].clone())
}

// --- gRPC -------------------------------------------------------------------------

/// `/package.Service/Method` of every RPC in the app's protos, else the design's.
pub fn grpc_methods() -> Vec<String> {
    let mut methods = Vec::new();
    let dir = repo_root().join("apps/grpc-microservice/proto");
    let mut stack = vec![dir];
    let package_re = regex::Regex::new(r"(?m)^\s*package\s+([\w.]+)\s*;").unwrap();
    let service_re = regex::Regex::new(r"(?s)service\s+(\w+)\s*\{(.*?)\n\}").unwrap();
    let rpc_re = regex::Regex::new(r"rpc\s+(\w+)").unwrap();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "proto") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let package = package_re.captures(&text).map(|c| c[1].to_owned());
                for service in service_re.captures_iter(&text) {
                    for rpc in rpc_re.captures_iter(&service[2]) {
                        let prefix = package
                            .as_ref()
                            .map(|p| format!("{p}."))
                            .unwrap_or_default();
                        methods.push(format!("/{prefix}{}/{}", &service[1], &rpc[1]));
                    }
                }
            }
        }
    }
    if methods.is_empty() {
        methods = [
            "GetStock",
            "Reserve",
            "Release",
            "WatchStock",
            "BulkAdjust",
            "ReserveStream",
        ]
        .iter()
        .map(|m| format!("/inventory.v1.Inventory/{m}"))
        .collect();
    }
    methods
}

/// What the k6 mix makes each method answer: `(status, calls per second, typical
/// seconds)`. Expected errors (unknown SKUs, invalid quantities, out of stock, tight
/// deadlines, `x-fault-error: 503`) are part of normal traffic; watches last `watch_ms`.
fn grpc_statuses(method: &str) -> Vec<(&'static str, f64, f64)> {
    let name = method.rsplit('/').next().unwrap_or_default();
    match name {
        "GetStock" => vec![
            ("OK", 20.0, 0.0005),
            ("NOT_FOUND", 0.3, 0.0005),
            ("DEADLINE_EXCEEDED", 0.1, 0.1),
            ("UNAVAILABLE", 0.1, 0.0005),
        ],
        "Reserve" => vec![
            ("OK", 8.0, 0.0008),
            ("FAILED_PRECONDITION", 0.3, 0.0008),
            ("INVALID_ARGUMENT", 0.2, 0.0005),
        ],
        "WatchStock" => vec![("OK", 0.5, 0.5)],
        _ => vec![("OK", 1.0, 0.002)],
    }
}

fn grpc(t: &mut Telemetry, app: &str) {
    let port = port(app).to_string();
    for method in grpc_methods() {
        for (status, rate, typical) in grpc_statuses(&method) {
            let l = labels(
                app,
                &[
                    ("rpc_method", &method),
                    ("rpc_system_name", "grpc"),
                    ("rpc_response_status_code", status),
                    ("server_address", app),
                    ("server_port", &port),
                ],
            );
            t.series
                .push(hist("rpc_server_call_duration_seconds", l, rate, typical));
            t.traces.push(grpc_span(app, &method, status));
        }
    }
}

fn grpc_span(app: &str, method: &str, status: &str) -> FSpan {
    FSpan {
        service: app.into(),
        name: method.into(),
        kind: 2,
        attrs: vec![
            ("rpc.method".into(), Attr::Str(method.into())),
            ("rpc.system.name".into(), Attr::Str("grpc".into())),
            ("rpc.response.status_code".into(), Attr::Str(status.into())),
            ("server.port".into(), Attr::Int(port(app).into())),
        ],
        // OBI marks server spans as errors for the server-side failure codes only.
        error: matches!(
            status,
            "UNKNOWN"
                | "DEADLINE_EXCEEDED"
                | "UNIMPLEMENTED"
                | "INTERNAL"
                | "UNAVAILABLE"
                | "DATA_LOSS"
        ),
        children: Vec::new(),
    }
}

// --- faults -------------------------------------------------------------------------

fn apply_fault(t: &mut Telemetry, app: &str, fault: &str) -> Result<(), String> {
    match fault {
        // Every request slower: the added delay dominates the latency.
        "latency" => {
            for s in t
                .series
                .iter_mut()
                .filter(|s| s.histogram && s.name.ends_with("duration_seconds"))
            {
                if s.name.starts_with("http_server") || s.name.starts_with("rpc_server") {
                    s.typical += 0.5;
                }
            }
            Ok(())
        }
        // A share of requests answered with a server error.
        "errors" => {
            let mut extra = Vec::new();
            for s in t.series.iter().filter(|s| {
                s.name == "http_server_request_duration_seconds"
                    || s.name == "rpc_server_call_duration_seconds"
            }) {
                let ok = s
                    .labels
                    .get("http_response_status_code")
                    .is_some_and(|c| c.starts_with('2'))
                    || s.labels
                        .get("rpc_response_status_code")
                        .is_some_and(|c| c == "OK");
                if !ok {
                    continue;
                }
                let mut failed = s.clone();
                failed.per_second = s.per_second * 0.3;
                if failed.labels.contains_key("http_response_status_code") {
                    failed
                        .labels
                        .insert("http_response_status_code".into(), "500".into());
                    failed.labels.insert("error_type".into(), "500".into());
                    let route = failed.labels["http_route"].clone();
                    let method = failed.labels["http_request_method"].clone();
                    t.traces.push(server_span(app, &method, &route, 500));
                } else {
                    // The chart's errors.status is 503, which the app answers as UNAVAILABLE.
                    failed
                        .labels
                        .insert("rpc_response_status_code".into(), "UNAVAILABLE".into());
                    t.traces.push(grpc_span(
                        app,
                        &failed.labels["rpc_method"].clone(),
                        "UNAVAILABLE",
                    ));
                }
                extra.push(failed);
            }
            // Backend calls fail too: OBI sets error_type (SQLSTATE, Redis error prefix).
            for s in t
                .series
                .iter()
                .filter(|s| s.name == "db_client_operation_duration_seconds")
            {
                let mut failed = s.clone();
                failed.per_second = s.per_second * 0.05;
                let code = if s.labels.get("db_system_name").map(String::as_str) == Some("redis") {
                    "ERR"
                } else {
                    "40001"
                };
                failed.labels.insert("error_type".into(), code.into());
                extra.push(failed);
            }
            t.series.extend(extra);
            Ok(())
        }
        // http-rest-api: one route (the inventory report) seconds slower, the rest fast.
        "slow_endpoint" if app == "http-rest-api" => {
            for s in t.series.iter_mut().filter(|s| {
                s.labels.get("http_route").map(String::as_str) == Some("/api/v1/reports/inventory")
                    && s.name.ends_with("duration_seconds")
            }) {
                s.typical = 2.0;
            }
            Ok(())
        }
        // sql-application: each order of a listing loads its items with its own SELECT.
        "n_plus_one" if app == "sql-application" => {
            let listing = |s: &FSpan| {
                s.name == "GET /api/v1/orders"
                    && s.attr("http.response.status_code").as_deref() == Some("200")
            };
            for root in t.traces.iter_mut().filter(|s| listing(s)) {
                for _ in 0..20 {
                    root.children.push(client(
                        app,
                        "SELECT order_items",
                        3,
                        &[
                            ("db.system.name", "postgresql"),
                            ("db.operation.name", "SELECT"),
                            ("db.collection.name", "order_items"),
                            ("db.namespace", "postgres"),
                            ("server.address", "postgres"),
                        ],
                    ));
                }
            }
            let listings: f64 = t
                .series
                .iter()
                .filter(|s| {
                    s.name == "http_server_request_duration_seconds"
                        && s.labels.get("http_route").map(String::as_str) == Some("/api/v1/orders")
                        && s.labels.get("http_request_method").map(String::as_str) == Some("GET")
                })
                .map(|s| s.per_second)
                .sum();
            for s in t
                .series
                .iter_mut()
                .filter(|s| s.labels.get("db_operation_name").map(String::as_str) == Some("SELECT"))
            {
                s.per_second += 20.0 * listings;
            }
            Ok(())
        }
        // sql-application: requests wait for a pooled connection, some give up with 503.
        "pool_exhaustion" if app == "sql-application" => {
            slow_selects(t, 2.0);
            let mut extra = Vec::new();
            for s in t.series.iter().filter(|s| {
                s.name == "http_server_request_duration_seconds"
                    && s.labels["http_response_status_code"].starts_with('2')
            }) {
                let mut failed = s.clone();
                failed.per_second = 1.0;
                failed.typical = 5.0;
                failed
                    .labels
                    .insert("http_response_status_code".into(), "503".into());
                failed.labels.insert("error_type".into(), "503".into());
                t.traces.push(server_span(
                    app,
                    &failed.labels["http_request_method"].clone(),
                    &failed.labels["http_route"].clone(),
                    503,
                ));
                extra.push(failed);
            }
            t.series.extend(extra);
            Ok(())
        }
        // sql-application: the sales report's query runs for seconds inside PostgreSQL.
        "slow_query" if app == "sql-application" => {
            slow_selects(t, 1.5);
            for s in t.series.iter_mut().filter(|s| {
                s.labels.get("http_route").map(String::as_str) == Some("/api/v1/reports/sales")
                    && s.name.ends_with("duration_seconds")
            }) {
                s.typical = 1.6;
            }
            Ok(())
        }
        // grpc-microservice: unary calls take storm_delay (2 s) longer than the callers'
        // 1 s deadline: most end in DEADLINE_EXCEEDED at the deadline.
        "deadline_storm" if app == "grpc-microservice" => {
            let mut extra = Vec::new();
            for s in t.series.iter_mut().filter(|s| {
                s.name == "rpc_server_call_duration_seconds"
                    && s.labels.get("rpc_response_status_code").map(String::as_str) == Some("OK")
                    && ["/GetStock", "/Reserve", "/Release"]
                        .iter()
                        .any(|m| s.labels["rpc_method"].ends_with(m))
            }) {
                let mut late = s.clone();
                late.per_second = s.per_second * 0.9;
                late.typical = 1.0;
                late.labels.insert(
                    "rpc_response_status_code".into(),
                    "DEADLINE_EXCEEDED".into(),
                );
                s.per_second *= 0.1;
                s.typical = 1.0;
                t.traces.push(grpc_span(
                    app,
                    &late.labels["rpc_method"].clone(),
                    "DEADLINE_EXCEEDED",
                ));
                extra.push(late);
            }
            t.series.extend(extra);
            Ok(())
        }
        // grpc-microservice: streams send one message, then stall until the client's
        // 5 s deadline; WatchStock no longer ends with OK after watch_ms.
        "stalled_stream" if app == "grpc-microservice" => {
            for s in t.series.iter_mut().filter(|s| {
                s.name == "rpc_server_call_duration_seconds"
                    && (s.labels["rpc_method"].ends_with("/WatchStock")
                        || s.labels["rpc_method"].ends_with("/ReserveStream"))
            }) {
                s.typical = 5.0;
                s.labels.insert(
                    "rpc_response_status_code".into(),
                    "DEADLINE_EXCEEDED".into(),
                );
            }
            for method in ["WatchStock", "ReserveStream"] {
                t.traces.push(grpc_span(
                    app,
                    &format!("/inventory.v1.Inventory/{method}"),
                    "DEADLINE_EXCEEDED",
                ));
            }
            Ok(())
        }
        // redis-cache: single flight off, every concurrent miss fills the key again.
        "cache_stampede" if app == "redis-cache" => {
            redis_fills(t, 5.0, true);
            Ok(())
        }
        // redis-cache: entries expire at once, nearly every product read fills.
        "ttl_too_short" if app == "redis-cache" => {
            redis_fills(t, 5.2, true);
            Ok(())
        }
        // redis-cache: reads go to one key that stays cached, fills nearly stop.
        "hot_key" if app == "redis-cache" => {
            redis_fills(t, 0.5, false);
            Ok(())
        }
        // kafka-streaming: slow_consumer, poison_rate, producer_burst.
        "slow_consumer" | "poison_rate" | "producer_burst" if app == "kafka-streaming" => {
            kafka::apply_fault(t, app, fault)
        }
        other => Err(format!(
            "no fixture for fault {other:?} of {app}: describe its OBI symptom in apply_fault (tests/telemetry/fixture.rs)"
        )),
    }
}

/// SELECTs take `seconds` (most of them: p99 and p90 land there).
fn slow_selects(t: &mut Telemetry, seconds: f64) {
    for s in t
        .series
        .iter_mut()
        .filter(|s| s.labels.get("db_operation_name").map(String::as_str) == Some("SELECT"))
    {
        s.typical = seconds;
    }
}
