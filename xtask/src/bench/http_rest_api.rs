//! The benchmark plan of http-rest-api: a read-heavy mix (GET by id and list pages)
//! and a write-heavy mix (create, update with If-Match, delete, with bearer tokens),
//! both under k6, next to `hello-hyper` (crates/bench-baselines): the smallest
//! HTTP/1.1 server on hyper, the stack poem runs on, measured in the same run.

use super::baseline_server::BaselineServer;
use super::{K6Workload, Measure, Plan};
use crate::apps::{App, Protocol};
use crate::paths;

/// The app's rate limiter would cap each client at 50 req/s: the bench measures the
/// request path, so it is off (the limiter's own cost is one mutex per request).
pub const APP_SETTINGS: &[(&str, &str)] =
    &[("APP__RATE_LIMIT__ENABLED", "false"), ("RUST_LOG", "warn")];

/// Where the baseline listens.
const HELLO_PORT: u16 = 18090;

fn script(app: &App) -> std::path::PathBuf {
    paths::root()
        .join("charts")
        .join(app.name)
        .join("k6")
        .join("main.js")
}

fn mix(app: &App, name: &str, mix: &str) -> Box<dyn Measure> {
    Box::new(K6Workload {
        name: name.into(),
        script: script(app),
        target_url: app.base_url(),
        env: vec![("MIX".into(), mix.into())],
        protocol: Protocol::Http,
    })
}

/// The plan `bench http-rest-api` runs.
pub fn plan(app: &'static App) -> Plan {
    Plan {
        app,
        workloads: vec![
            mix(
                app,
                "read: 70 % GET /products/{id}, 30 % GET /products",
                "read",
            ),
            mix(app, "write: POST + PUT (If-Match) + DELETE", "write"),
        ],
        baseline: Box::new(BaselineServer::new(
            "hello-hyper",
            HELLO_PORT,
            K6Workload {
                name: "hello-hyper (hyper 1, GET /)".into(),
                script: script(app),
                target_url: format!("http://127.0.0.1:{HELLO_PORT}"),
                env: vec![("MIX".into(), "hello".into())],
                protocol: Protocol::Http,
            },
        )),
        target: "read >= 60 % of hello-hyper req/s; RSS <= 64 MiB",
    }
}
