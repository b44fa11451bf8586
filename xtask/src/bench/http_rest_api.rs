//! The benchmark plan of http-rest-api: its read path (GET by id, and a 70/30 mix of
//! GET by id and list pages of 20) under wrk, next to the same requests on its Go
//! peer (`crates/bench-baselines/echo-peer`, an idiomatic Echo server doing the same
//! work, as the seed planned the service) and on `hello-hyper` (the smallest HTTP/1.1
//! server on hyper, the stack poem runs on), all in the same interleaved rounds; and
//! the write mix (create, update with If-Match, delete, with bearer tokens) under k6.
//!
//! wrk, a C client, drives the reads: on two shared cores k6's JavaScript per
//! request would take the CPU the servers need and measure itself (it showed the read
//! mix at 87 % of hello-hyper, wrk at 24 %). Both servers are seeded with the same
//! products through their APIs, and read the same paths in the same order.

use std::cell::OnceCell;
use std::rc::Rc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::baseline_server::BaselineServer;
use super::echo_peer::EchoPeer;
use super::wrk::WrkWorkload;
use super::{K6Workload, Measure, Plan, Sample, Settings, cpu};
use crate::apps::App;
use crate::http;
use crate::services::ports;

/// The app's rate limiter would cap each client at 50 req/s: the bench measures the
/// request path, so it is off (the limiter's own cost is one mutex per request).
pub const APP_SETTINGS: &[(&str, &str)] =
    &[("APP__RATE_LIMIT__ENABLED", "false"), ("RUST_LOG", "warn")];

/// Where the baselines listen.
const HELLO_PORT: u16 = 18090;
const ECHO_PORT: u16 = 18091;

/// Products each server is seeded with, and the page size of the list requests.
const PRODUCTS: usize = 100;
const PAGE: usize = 20;

/// The plan `bench http-rest-api` runs.
pub fn plan(app: &'static App) -> Plan {
    let ours = Rc::new(Server {
        label: app.name,
        port: app.port,
        peer: None,
        paths: OnceCell::new(),
    });
    let peer = Rc::new(Server {
        label: "echo-peer (Go, Echo v4)",
        port: ECHO_PORT,
        peer: Some(EchoPeer::new(ECHO_PORT)),
        paths: OnceCell::new(),
    });
    let read = |server: &Rc<Server>, kind: Read, versus: Option<&Rc<Server>>| -> Box<dyn Measure> {
        Box::new(ReadWorkload {
            server: Rc::clone(server),
            kind,
            versus: versus.map(|other| kind.name(other)),
        })
    };
    Plan {
        app,
        workloads: vec![
            read(&ours, Read::Mix, Some(&peer)),
            read(&ours, Read::Get, Some(&peer)),
            read(&peer, Read::Mix, None),
            read(&peer, Read::Get, None),
            Box::new(K6Workload::app_mix(
                app,
                "write: POST + PUT (If-Match) + DELETE (k6)",
                "write",
            )),
        ],
        baseline: Box::new(BaselineServer::measured_by(
            "hello-hyper",
            HELLO_PORT,
            Box::new(WrkWorkload::get_each(
                "hello-hyper (hyper 1, GET /, wrk)",
                format!("http://127.0.0.1:{HELLO_PORT}"),
                ["/"],
            )),
        )),
        target: "70/30 mix and GET by id each >= 1.5x the Echo peer's req/s in the same \
                 rounds, p99 no worse; RSS <= 64 MiB",
    }
}

/// What is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// 70 % GET /products/{id}, 30 % GET /products?limit=20 (following cursors).
    Mix,
    /// GET /products/{id} alone.
    Get,
}

impl Read {
    fn name(self, server: &Server) -> String {
        match self {
            Self::Mix => format!(
                "{}: 70 % GET /products/{{id}}, 30 % GET /products (wrk)",
                server.label
            ),
            Self::Get => format!("{}: GET /products/{{id}} (wrk)", server.label),
        }
    }
}

/// A server whose read path is measured: the app (started by `bench`), or the Echo
/// peer (started here on first use); seeded on first use.
struct Server {
    label: &'static str,
    /// Where it listens, on loopback.
    port: u16,
    peer: Option<EchoPeer>,
    paths: OnceCell<ReadPaths>,
}

/// Microseconds of CPU per operation, from the CPU seconds a server used during a
/// run of `duration` at `rate` operations per second; `None` for an empty run.
fn cpu_per_operation(cpu_seconds: f64, rate: f64, duration: Duration) -> Option<f64> {
    let operations = rate * duration.as_secs_f64();
    (operations >= 1.0).then(|| cpu_seconds * 1e6 / operations)
}

/// The paths each read workload cycles through.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ReadPaths {
    get: Vec<String>,
    mix: Vec<String>,
}

impl Server {
    /// The process listening on the server's port (the app or the peer), whose CPU
    /// time each read workload reads.
    fn pid(&self) -> Result<u32> {
        match ports::listener(self.port) {
            ports::Listener::Taken(Some(owner)) => Ok(owner.pid),
            _ => bail!(
                "cannot tell which process of this machine serves {}",
                self.base_url()
            ),
        }
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn paths(&self) -> Result<&ReadPaths> {
        if let Some(paths) = self.paths.get() {
            return Ok(paths);
        }
        if let Some(peer) = &self.peer {
            peer.ensure_running()?;
        }
        let paths = self
            .seed()
            .with_context(|| format!("cannot seed the products {} serves", self.label))?;
        Ok(self.paths.get_or_init(|| paths))
    }

    /// Creates the products through the API (with an editor's token where the server
    /// asks for one), then walks the list's pages for their cursors.
    fn seed(&self) -> Result<ReadPaths> {
        let token = if self.peer.is_some() {
            None
        } else {
            let answer = http::post_json(
                &self.base_url(),
                "/api/v1/auth/token",
                &[],
                &json!({"username": "editor", "password": "editor-password"}),
                200,
            )?;
            Some(format!(
                "Bearer {}",
                answer["access_token"]
                    .as_str()
                    .context("no access_token in the token answer")?
            ))
        };
        let headers: Vec<(&str, &str)> = token
            .iter()
            .map(|t| ("Authorization", t.as_str()))
            .collect();
        let mut ids = Vec::with_capacity(PRODUCTS);
        for i in 0..PRODUCTS {
            let created = http::post_json(
                &self.base_url(),
                "/api/v1/products",
                &headers,
                &product(i),
                201,
            )?;
            ids.push(
                created["id"]
                    .as_u64()
                    .context("no id in a created product")?,
            );
        }
        let first = format!("/api/v1/products?limit={PAGE}");
        let mut pages = vec![first.clone()];
        let mut next = first;
        loop {
            let url = format!("{}{next}", self.base_url());
            let (status, body) = http::get(&url, Duration::from_secs(5))?;
            if status != 200 {
                bail!("GET {url} answered {status}: {body}");
            }
            let page: Value = serde_json::from_str(&body).context("a page is not JSON")?;
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    next = format!("/api/v1/products?limit={PAGE}&cursor={cursor}");
                    pages.push(next.clone());
                }
                None => break,
            }
        }
        Ok(read_paths(&ids, &pages))
    }
}

/// A seeded product: the same on every server.
fn product(i: usize) -> Value {
    const CATEGORIES: [&str; 4] = ["kitchen", "office", "garden", "toys"];
    json!({
        "sku": format!("BENCH-{i:04}"),
        "name": format!("Bench product {i}"),
        "description": "Seeded by cargo xtask bench: the same products on every server.",
        "category": CATEGORIES[i % 4],
        "price_cents": 100 + (i * 37) % 10_000,
        "stock": i % 7,
    })
}

/// GET by id over every product; the mix takes, of every ten requests, seven gets by
/// id and three list pages, cycling through the ids and the pages.
fn read_paths(ids: &[u64], pages: &[String]) -> ReadPaths {
    let get: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/products/{id}"))
        .collect();
    let (mut next_get, mut next_page) = (0, 0);
    let mix = (0..ids.len().max(10))
        .map(|k| {
            if k % 10 < 7 {
                next_get += 1;
                get[(next_get - 1) % get.len()].clone()
            } else {
                next_page += 1;
                pages[(next_page - 1) % pages.len()].clone()
            }
        })
        .collect();
    ReadPaths { get, mix }
}

/// One read workload of one server, under wrk.
struct ReadWorkload {
    server: Rc<Server>,
    kind: Read,
    /// The peer's same workload, compared round by round.
    versus: Option<String>,
}

impl Measure for ReadWorkload {
    fn name(&self) -> String {
        self.kind.name(&self.server)
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        let paths = self.server.paths()?;
        let list = match self.kind {
            Read::Mix => &paths.mix,
            Read::Get => &paths.get,
        };
        let pid = self.server.pid()?;
        let before = cpu::process_seconds(pid);
        let sample =
            WrkWorkload::get_each(self.name(), self.server.base_url(), list).measure(settings)?;
        let used = cpu::process_seconds(pid) - before;
        Ok(Sample {
            server_cpu_us: cpu_per_operation(used, sample.rate, settings.duration),
            ..sample
        })
    }

    fn versus(&self) -> Option<String> {
        self.versus.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_per_operation_divides_the_cpu_by_the_operations_of_the_run() {
        // 3 CPU seconds over 10 s at 20,000 req/s: 15 µs per request.
        let us = cpu_per_operation(3.0, 20_000.0, Duration::from_secs(10)).unwrap();
        assert!((us - 15.0).abs() < 1e-9, "{us}");
        assert_eq!(cpu_per_operation(3.0, 0.0, Duration::from_secs(10)), None);
    }

    #[test]
    fn a_servers_pid_is_the_process_listening_on_its_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = Server {
            label: "test",
            port,
            peer: None,
            paths: OnceCell::new(),
        };
        assert_eq!(server.pid().unwrap(), std::process::id());
        drop(listener);
        let err = server.pid().unwrap_err().to_string();
        assert!(err.contains("cannot tell which process"), "{err}");
    }

    #[test]
    fn the_mix_is_seven_gets_and_three_pages_in_ten() {
        let ids: Vec<u64> = (1..=100).collect();
        let pages: Vec<String> = (0..5).map(|p| format!("/page/{p}")).collect();
        let paths = read_paths(&ids, &pages);
        assert_eq!(paths.get.len(), 100);
        assert_eq!(paths.get[0], "/api/v1/products/1");
        assert_eq!(paths.mix.len(), 100);
        let lists = paths.mix.iter().filter(|p| p.starts_with("/page/")).count();
        assert_eq!(lists, 30);
        assert_eq!(paths.mix[7], "/page/0");
        assert_eq!(paths.mix[17], "/page/3");
        // Every page is read, each as often.
        for page in &pages {
            assert_eq!(paths.mix.iter().filter(|p| *p == page).count(), 6);
        }
    }

    #[test]
    fn the_app_is_compared_with_the_peer_doing_the_same() {
        let plan = plan(App::named("http-rest-api").unwrap());
        let names: Vec<String> = plan.workloads.iter().map(|w| w.name()).collect();
        for workload in &plan.workloads {
            if let Some(other) = workload.versus() {
                assert!(names.contains(&other), "{other} is not in {names:?}");
                assert!(other.starts_with("echo-peer"), "{other}");
            }
        }
        assert_eq!(
            plan.workloads
                .iter()
                .filter(|w| w.versus().is_some())
                .count(),
            2
        );
    }
}
