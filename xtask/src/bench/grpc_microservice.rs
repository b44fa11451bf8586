//! The benchmark plan of grpc-microservice: unary `GetStock` under k6 (`k6/net/grpc`,
//! MIX=get), next to `grpc-echo` (crates/bench-baselines): the smallest unary server
//! on poem-grpc, the app's stack, measured in the same run with the same script
//! (MIX=echo).

use std::cell::RefCell;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{K6Workload, Measure, Plan, Sample, Settings};
use crate::apps::{App, Protocol};
use crate::{ci, cmd, paths};

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
        baseline: Box::new(GrpcEcho {
            k6: K6Workload {
                name: "grpc-echo (poem-grpc, unary Echo)".into(),
                script: script(app),
                target_url: format!("http://127.0.0.1:{ECHO_PORT}"),
                env: vec![("MIX".into(), "echo".into())],
                protocol: Protocol::Grpc,
            },
            process: RefCell::new(None),
        }),
        target: "GetStock >= 60 % of grpc-echo calls/s; RSS <= 64 MiB",
    }
}

/// The echo server, built and started on first use, stopped when the plan ends.
struct GrpcEcho {
    k6: K6Workload,
    process: RefCell<Option<Child>>,
}

impl GrpcEcho {
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
            "grpc-echo",
        ]))?;
        let binary = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| paths::root().join("target"))
            .join("release")
            .join("grpc-echo");
        let child = Command::new(&binary)
            .arg(ECHO_PORT.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        *self.process.borrow_mut() = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", ECHO_PORT)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("grpc-echo does not listen on {ECHO_PORT}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Measure for GrpcEcho {
    fn name(&self) -> String {
        self.k6.name()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        self.ensure_running()?;
        self.k6.measure(settings)
    }
}

impl Drop for GrpcEcho {
    fn drop(&mut self) {
        if let Some(mut child) = self.process.borrow_mut().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
