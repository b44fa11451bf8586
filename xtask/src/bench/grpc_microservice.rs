//! The benchmark plan of grpc-microservice, next to `grpc-echo` (crates/bench-baselines):
//! the smallest unary server on poem-grpc, the app's stack, measured in the same
//! rounds by the same light client.
//!
//! - unary `GetStock` under `openload` (a prepared h2c request per SKU, 16 callers over
//!   four connections): the throughput figure, with a client lighter than the server;
//! - unary `GetStock` under k6 (`k6/net/grpc`, MIX=get), the chart's own script;
//! - the three stream shapes under ghz, over four connections: a client stream
//!   (`BulkAdjust`, ten adjustments that cancel out, so stock is unchanged), a server
//!   stream (`WatchStock` of three SKUs for 1 ms) and a bidirectional stream
//!   (`ReserveStream`, five reservations of one unit that expire after 1 ms).

use serde_json::{Value, json};

use super::baseline_server::BaselineServer;
use super::ghz::GhzWorkload;
use super::openload::{OpenloadWorkload, Target, grpc_frame_hex, string_field_1};
use super::{K6Workload, Measure, Plan};
use crate::apps::{App, Protocol};
use crate::paths;

/// Where the baseline listens.
const ECHO_PORT: u16 = 18091;

/// SKUs the unary calls cycle through (the inventory seeds SKU-00001 .. SKU-01000).
const SKUS: usize = 200;

fn script(app: &App) -> std::path::PathBuf {
    paths::root()
        .join("charts")
        .join(app.name)
        .join("k6")
        .join("main.js")
}

fn sku(n: usize) -> String {
    format!("SKU-{n:05}")
}

/// The unary call `path` with one framed message per entry of `messages`.
fn unary(name: &str, base_url: String, path: &str, messages: Vec<String>) -> Box<dyn Measure> {
    Box::new(OpenloadWorkload {
        target: Target {
            name: name.to_owned(),
            base_url,
            paths: vec![path.to_owned()],
            method: "POST",
            body: None,
            headers: Vec::new(),
            grpc_messages: messages,
        },
    })
}

/// The streaming call `call` (`package.Service.Method`) with `data` under ghz.
fn stream(app: &App, name: &str, call: &'static str, data: Value) -> Box<dyn Measure> {
    Box::new(GhzWorkload {
        name: name.to_owned(),
        proto: "apps/grpc-microservice/proto/inventory/v1/inventory.proto",
        import_path: "apps/grpc-microservice/proto",
        call,
        data,
        address: format!("127.0.0.1:{}", app.port),
    })
}

/// The plan `bench grpc-microservice` runs.
pub fn plan(app: &'static App) -> Plan {
    let adjustments: Vec<Value> = (1..=5)
        .flat_map(|n| {
            [
                json!({"sku": sku(n), "delta": 1}),
                json!({"sku": sku(n), "delta": -1}),
            ]
        })
        .collect();
    let reservations: Vec<Value> = (6..=10)
        .map(|n| json!({"sku": sku(n), "quantity": 1, "ttl_ms": 1}))
        .collect();
    Plan {
        app,
        workloads: vec![
            unary(
                "unary GetStock",
                app.base_url(),
                "/inventory.v1.Inventory/GetStock",
                (1..=SKUS)
                    .map(|n| grpc_frame_hex(&string_field_1(&sku(n))))
                    .collect(),
            ),
            Box::new(K6Workload {
                name: "unary GetStock (random SKU of 1000, k6)".into(),
                script: script(app),
                target_url: app.base_url(),
                env: vec![("MIX".into(), "get".into())],
                protocol: Protocol::Grpc,
            }),
            stream(
                app,
                "client stream BulkAdjust, 10 adjustments per call (ghz)",
                "inventory.v1.Inventory.BulkAdjust",
                Value::Array(adjustments),
            ),
            stream(
                app,
                "server stream WatchStock, 3 SKUs for 1 ms per call (ghz)",
                "inventory.v1.Inventory.WatchStock",
                json!({"skus": [sku(11), sku(12), sku(13)], "watch_ms": 1}),
            ),
            stream(
                app,
                "bidi stream ReserveStream, 5 reservations per call (ghz)",
                "inventory.v1.Inventory.ReserveStream",
                Value::Array(reservations),
            ),
        ],
        baseline: Box::new(BaselineServer::measured_by(
            "grpc-echo",
            ECHO_PORT,
            unary(
                "grpc-echo (poem-grpc, unary Echo)",
                format!("http://127.0.0.1:{ECHO_PORT}"),
                "/echo.v1.Echo/Echo",
                vec![grpc_frame_hex(&string_field_1("SKU-00001"))],
            ),
        )),
        target: "unary GetStock under openload >= 60 % of grpc-echo's calls/s; RSS <= 64 MiB",
    }
}
