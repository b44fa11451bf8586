//! Lints for what cannot run on this machine: the GitHub workflows (actionlint, which
//! also runs shellcheck over their `run:` scripts) and the Dockerfile (hadolint).

use anyhow::Result;

use crate::cmd;

/// Runs both linters; fails naming the first that found something.
pub fn check() -> Result<()> {
    cmd::run(cmd::new("actionlint").arg("-no-color"))?;
    cmd::run(cmd::new("hadolint").arg("Dockerfile"))
}
