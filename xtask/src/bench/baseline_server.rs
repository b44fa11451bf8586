//! A baseline server from `crates/bench-baselines` (hello-hyper, grpc-echo): built in
//! release and started on first use, stopped when the plan ends, measured with the
//! same client as the app it is compared with (k6, or wrk).

use std::cell::RefCell;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{K6Workload, Measure, Sample, Settings};
use crate::{ci, cmd, paths};

/// One of `crates/bench-baselines`' binaries on a fixed port, driven by a client.
pub struct BaselineServer {
    /// The binary's name in `bench-baselines`; it takes the port as its argument.
    bin: &'static str,
    /// Where it listens.
    port: u16,
    client: Box<dyn Measure>,
    process: RefCell<Option<Child>>,
}

impl BaselineServer {
    /// The baseline `bin` on `port`, measured by `k6` (whose target URL must be that port).
    pub fn new(bin: &'static str, port: u16, k6: K6Workload) -> Self {
        Self::with_client(bin, port, Box::new(k6))
    }

    /// The baseline `bin` on `port`, measured by another client (wrk), whose target
    /// must be that port.
    pub fn with_client(bin: &'static str, port: u16, client: Box<dyn Measure>) -> Self {
        Self {
            bin,
            port,
            client,
            process: RefCell::new(None),
        }
    }

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
            self.bin,
        ]))?;
        let binary = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| paths::root().join("target"))
            .join("release")
            .join(self.bin);
        let child = Command::new(&binary)
            .arg(self.port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        *self.process.borrow_mut() = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("{} does not listen on {}", self.bin, self.port);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Measure for BaselineServer {
    fn name(&self) -> String {
        self.client.name()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        self.ensure_running()?;
        self.client.measure(settings)
    }
}

impl Drop for BaselineServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.process.borrow_mut().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
