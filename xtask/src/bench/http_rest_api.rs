//! The benchmark plan of http-rest-api: a read-heavy mix (GET by id and list pages)
//! and a write-heavy mix (create, update with If-Match, delete, with bearer tokens),
//! both under k6, next to `hello-hyper` (crates/bench-baselines): the smallest
//! HTTP/1.1 server on hyper, the stack poem runs on, measured in the same run.

use std::cell::RefCell;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{K6Workload, Measure, Plan, Sample, Settings};
use crate::apps::{App, Protocol};
use crate::{ci, cmd, paths};

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
        baseline: Box::new(HelloHyper {
            k6: K6Workload {
                name: "hello-hyper (hyper 1, GET /)".into(),
                script: script(app),
                target_url: format!("http://127.0.0.1:{HELLO_PORT}"),
                env: vec![("MIX".into(), "hello".into())],
                protocol: Protocol::Http,
            },
            process: RefCell::new(None),
        }),
        target: "read >= 60 % of hello-hyper req/s; RSS <= 64 MiB",
    }
}

/// The hello server, built and started on first use, stopped when the plan ends.
struct HelloHyper {
    k6: K6Workload,
    process: RefCell<Option<Child>>,
}

impl HelloHyper {
    fn ensure_running(&self) -> Result<()> {
        if self.process.borrow().is_some() {
            return Ok(());
        }
        cmd::run(ci::cargo().args([
            "build",
            "--locked",
            "--release",
            "-p",
            "bench-baselines",
            "--bin",
            "hello-hyper",
        ]))?;
        let binary = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| paths::root().join("target"))
            .join("release")
            .join("hello-hyper");
        let child = Command::new(&binary)
            .arg(HELLO_PORT.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        *self.process.borrow_mut() = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", HELLO_PORT)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("hello-hyper does not listen on {HELLO_PORT}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Measure for HelloHyper {
    fn name(&self) -> String {
        self.k6.name()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        self.ensure_running()?;
        self.k6.measure(settings)
    }
}

impl Drop for HelloHyper {
    fn drop(&mut self) {
        if let Some(mut child) = self.process.borrow_mut().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
