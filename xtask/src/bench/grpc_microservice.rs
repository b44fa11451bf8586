//! The benchmark plan of grpc-microservice, next to `grpc-echo` (crates/bench-baselines):
//! the smallest unary server on poem-grpc, the app's stack, measured in the same
//! rounds by the same light client, `openload` (prepared h2c requests, `--vus` callers
//! over four connections, every status counted; a call that does not end OK fails
//! the run):
//!
//! - unary `GetStock`, cycling through 200 SKUs: the throughput figure;
//! - the three stream shapes, each call's messages sent as one request body
//!   ([`grpc_wire`]): a client stream (`BulkAdjust`, ten adjustments that cancel out,
//!   so stock is unchanged), a server stream (`WatchStock` of three SKUs for 1 ms) and
//!   a bidirectional one (`ReserveStream`, five reservations of one unit that expire
//!   after 1 ms);
//! - unary `GetStock` under the chart's k6 script (`k6/net/grpc`, MIX=get), a client
//!   heavier than the server, for comparison with the chart's load Job.

use super::baseline_server::BaselineServer;
use super::grpc_wire::{frames_hex, int, string};
use super::openload::{OpenloadWorkload, Target};
use super::{K6Workload, Measure, Plan};
use crate::apps::App;

/// Where the baseline listens.
const ECHO_PORT: u16 = 18091;

/// SKUs the unary calls cycle through (the inventory seeds SKU-00001 .. SKU-01000).
const SKUS: usize = 200;

fn sku(n: usize) -> String {
    format!("SKU-{n:05}")
}

/// `GetStockRequest { sku }` bodies, one per SKU of the first 200: the unary row's
/// requests here, and the hot request of `bench tenx` and `bench all`.
pub fn get_stock_bodies() -> Vec<String> {
    (1..=SKUS)
        .map(|n| frames_hex(&[string(1, &sku(n))]))
        .collect()
}

/// `path` (`/package.Service/Method`) under openload, one request body per entry of
/// `bodies` (hex, [`frames_hex`]), cycled.
fn call(name: &str, base_url: String, path: &str, bodies: Vec<String>) -> Box<dyn Measure> {
    Box::new(OpenloadWorkload {
        target: Target {
            name: name.to_owned(),
            base_url,
            paths: vec![path.to_owned()],
            method: "POST",
            body: None,
            headers: Vec::new(),
            grpc_bodies: bodies,
        },
    })
}

/// The plan `bench grpc-microservice` runs.
pub fn plan(app: &'static App) -> Plan {
    let inventory = |name: &str, method: &str, bodies: Vec<String>| {
        call(
            name,
            app.base_url(),
            &format!("/inventory.v1.Inventory/{method}"),
            bodies,
        )
    };
    // Adjustment { sku = 1, delta = 2 }: +1 then -1 on each of five SKUs.
    let adjustments: Vec<Vec<u8>> = (1..=5)
        .flat_map(|n| [1, -1].map(|delta| [string(1, &sku(n)), int(2, delta)].concat()))
        .collect();
    // WatchStockRequest { repeated skus = 1, watch_ms = 2 }.
    let watch = [11, 12, 13]
        .map(|n| string(1, &sku(n)))
        .into_iter()
        .chain([int(2, 1)])
        .collect::<Vec<_>>()
        .concat();
    // ReserveRequest { sku = 1, quantity = 2, ttl_ms = 3 }.
    let reservations: Vec<Vec<u8>> = (6..=10)
        .map(|n| [string(1, &sku(n)), int(2, 1), int(3, 1)].concat())
        .collect();
    Plan {
        app,
        workloads: vec![
            inventory("unary GetStock", "GetStock", get_stock_bodies()),
            inventory(
                "client stream BulkAdjust, 10 adjustments per call",
                "BulkAdjust",
                vec![frames_hex(&adjustments)],
            ),
            inventory(
                "server stream WatchStock, 3 SKUs for 1 ms per call",
                "WatchStock",
                vec![frames_hex(&[watch])],
            ),
            inventory(
                "bidi stream ReserveStream, 5 reservations per call",
                "ReserveStream",
                vec![frames_hex(&reservations)],
            ),
            Box::new(K6Workload::app_mix(
                app,
                "unary GetStock (random SKU of 1000, k6)",
                "get",
            )),
        ],
        baseline: Box::new(BaselineServer::measured_by(
            "grpc-echo",
            ECHO_PORT,
            call(
                "grpc-echo (poem-grpc, unary Echo)",
                format!("http://127.0.0.1:{ECHO_PORT}"),
                "/echo.v1.Echo/Echo",
                vec![frames_hex(&[string(1, "SKU-00001")])],
            ),
        )),
        target: "unary GetStock under openload >= 60 % of grpc-echo's calls/s; RSS <= 64 MiB",
    }
}
