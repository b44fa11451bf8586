//! A baseline server from `crates/bench-baselines` (hello-hyper, grpc-echo): built in
//! release and started on first use, stopped when the plan ends, measured with the
//! same client as the app it is compared with (k6, or wrk where k6 would measure
//! itself).

use std::cell::RefCell;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{Measure, Sample, Settings};
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
    /// The baseline `bin` on `port`, measured by `client` (wrk, openload, ...) aimed at that port.
    pub fn measured_by(bin: &'static str, port: u16, client: Box<dyn Measure>) -> Self {
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
        wait_listening(self.bin, self.port)
    }
}

/// Waits up to 10 s for a server started as `name` to accept connections on `port`.
pub fn wait_listening(name: &str, port: u16) -> Result<()> {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            bail!("{name} does not listen on {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
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
