//! The Go peer of http-rest-api (`crates/bench-baselines/echo-peer`): an idiomatic
//! Echo v4 server doing the same read path, as the seed planned the service. Built
//! with `go build` from its own module (dependencies from the Go module proxy,
//! checked against its `go.sum`) into the cache, keyed by a fingerprint of its
//! sources and the Go version, so an unchanged peer is never rebuilt; started on
//! first use and stopped when the plan ends.

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result};

use super::baseline_server::wait_listening;
use crate::tools::stamp::fingerprint;
use crate::{cmd, paths};

/// The peer's files whose contents decide the binary.
const SOURCES: &[&str] = &["go.mod", "go.sum", "main.go"];

/// The Echo peer on a fixed port.
pub struct EchoPeer {
    port: u16,
    process: RefCell<Option<Child>>,
}

impl EchoPeer {
    /// The peer, to listen on `port` once started.
    pub fn new(port: u16) -> Self {
        Self {
            port,
            process: RefCell::new(None),
        }
    }

    /// Builds (unless cached) and starts the peer, once.
    pub fn ensure_running(&self) -> Result<()> {
        if self.process.borrow().is_some() {
            return Ok(());
        }
        let binary = build()?;
        // GOMAXPROCS is left to Go (every core), as the Rust app's runtime uses every core.
        let child = Command::new(&binary)
            .arg(self.port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        *self.process.borrow_mut() = Some(child);
        wait_listening("echo-peer", self.port)
    }
}

impl Drop for EchoPeer {
    fn drop(&mut self) {
        if let Some(mut child) = self.process.borrow_mut().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn source_dir() -> PathBuf {
    paths::root()
        .join("crates")
        .join("bench-baselines")
        .join("echo-peer")
}

/// The cached binary for the current sources and Go version, built if missing.
fn build() -> Result<PathBuf> {
    let dir = source_dir();
    let mut recipe = cmd::output(cmd::new("go").arg("version"))
        .context("the Echo peer needs Go (`go version` failed)")?;
    for file in SOURCES {
        let path = dir.join(file);
        recipe.push_str(
            &std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        );
    }
    let cache = paths::cache().join("bench-baselines");
    let binary = cache.join(format!("echo-peer-{}", fingerprint(&recipe)));
    if binary.is_file() {
        return Ok(binary);
    }
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create {}", cache.display()))?;
    eprintln!("bench: building the Echo peer (go build, cached)");
    // Build next to the target and rename: an interrupted build is never taken as done.
    let partial = binary.with_extension("partial");
    cmd::run(
        crate::tools::go::go(&dir)
            .args(["build", "-trimpath", "-mod=readonly", "-o"])
            .arg(&partial)
            .arg("."),
    )?;
    std::fs::rename(&partial, &binary)
        .with_context(|| format!("cannot move the build to {}", binary.display()))?;
    Ok(binary)
}
