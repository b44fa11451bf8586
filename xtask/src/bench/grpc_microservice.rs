//! The benchmark plan of grpc-microservice: unary `GetStock` under k6 (`k6/net/grpc`,
//! MIX=get), next to `grpc-echo` (crates/bench-baselines): the smallest unary server
//! on poem-grpc, the app's stack, measured in the same run with the same script
//! (MIX=echo).

use super::baseline_server::BaselineServer;
use super::{K6Workload, Plan};
use crate::apps::{App, Protocol};
use crate::paths;

/// Where the baseline listens.
const ECHO_PORT: u16 = 18091;

fn script(app: &App) -> std::path::PathBuf {
    paths::root()
        .join("charts")
        .join(app.name)
        .join("k6")
        .join("main.js")
}

/// The plan `bench grpc-microservice` runs.
pub fn plan(app: &'static App) -> Plan {
    Plan {
        app,
        workloads: vec![Box::new(K6Workload {
            name: "unary GetStock (random SKU of 1000)".into(),
            script: script(app),
            target_url: app.base_url(),
            env: vec![("MIX".into(), "get".into())],
            protocol: Protocol::Grpc,
        })],
        baseline: Box::new(BaselineServer::new(
            "grpc-echo",
            ECHO_PORT,
            K6Workload {
                name: "grpc-echo (poem-grpc, unary Echo)".into(),
                script: script(app),
                target_url: format!("http://127.0.0.1:{ECHO_PORT}"),
                env: vec![("MIX".into(), "echo".into())],
                protocol: Protocol::Grpc,
            },
        )),
        target: "GetStock >= 60 % of grpc-echo calls/s; RSS <= 64 MiB",
    }
}
