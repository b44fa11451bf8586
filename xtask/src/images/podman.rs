//! podman as our machines can run it: Debian's podman with Debian's runc, as root.
//!
//! Two settings are not podman's defaults and every container here needs them:
//! `--runtime runc` (crun fails on the machines' hybrid cgroup v1/v2 layout) and
//! ulimits at or below the machine's own (podman raises `nofile` and `nproc` by
//! default, and the sandbox lacks CAP_SYS_RESOURCE: "setrlimit ... operation not
//! permitted"). Builds get them as well, since each `RUN` is a container too.

use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::cmd;

/// The OCI runtime: crun fails here, runc works.
pub const RUNTIME: &str = "runc";

/// Limits every container gets (the machine allows 4096 of each without
/// CAP_SYS_RESOURCE; the apps need far fewer).
pub const ULIMITS: [&str; 2] = ["nofile=4096:4096", "nproc=4096:4096"];

/// `podman` with the global options every subcommand needs.
pub fn podman() -> Command {
    let mut command = cmd::new("podman");
    command.args(["--runtime", RUNTIME]);
    command
}

/// The ulimit options of `podman run` and `podman build`.
pub fn ulimit_args() -> Vec<String> {
    ULIMITS
        .iter()
        .flat_map(|limit| ["--ulimit".to_owned(), (*limit).to_owned()])
        .collect()
}

/// Whether images can be built and run here; the error says what is missing.
pub fn usable() -> Result<()> {
    for program in ["podman", RUNTIME, "mmdebstrap"] {
        if !cmd::exists(program) {
            bail!("`{program}` is not installed (`cargo xtask tools` installs it)");
        }
    }
    let out = cmd::new("podman")
        .args(["info", "--format", "{{.Host.OCIRuntime.Name}}"])
        .output()
        .context("cannot run `podman info`")?;
    if !out.status.success() {
        bail!(
            "`podman info` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// `podman image inspect` of one image, or `None` when there is no such image.
pub fn inspect(image: &str) -> Result<Option<Value>> {
    let out = podman()
        .args(["image", "inspect", "--format", "json", image])
        .output()
        .context("cannot run `podman image inspect`")?;
    if !out.status.success() {
        return Ok(None);
    }
    let list: Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("`podman image inspect {image}` printed no JSON"))?;
    Ok(list.get(0).cloned())
}

/// One label of a local image, if the image exists and has it.
pub fn label(image: &str, key: &str) -> Result<Option<String>> {
    Ok(inspect(image)?.and_then(|info| {
        info.pointer(&format!("/Labels/{}", key.replace('/', "~1")))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_container_gets_runc_and_the_machines_ulimits() {
        let command = podman();
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(args, ["--runtime", "runc"]);
        assert_eq!(
            ulimit_args(),
            [
                "--ulimit",
                "nofile=4096:4096",
                "--ulimit",
                "nproc=4096:4096"
            ]
        );
    }
}
