//! The external tools the chart gate runs, and where they are: the tool cache's
//! `bin/` (helm, kubeconform, helm-docs, helm-unittest, ct, and links to yamllint
//! and yamale), the Python venv next to it (the kubernetes-validate package, whose
//! bundled JSON schemas kubeconform reads offline) and node. `cargo xtask tools`
//! installs them.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Result, bail};

use crate::{cmd, paths};

/// Kubernetes version the renders are validated against (kubeconform schemas,
/// `helm template --kube-version`).
pub const KUBERNETES_VERSION: &str = "1.33.0";

/// Programs the gate calls, with the package that provides each.
const PROGRAMS: &[(&str, &str)] = &[
    ("helm", "helm v3.19.0"),
    ("kubeconform", "kubeconform v0.7.0"),
    ("helm-docs", "helm-docs v1.14.2"),
    ("helm-unittest", "helm-unittest v1.1.2"),
    ("ct", "chart-testing v3.13.0"),
    ("yamllint", "yamllint 1.38.0 (venv)"),
    ("yamale", "yamale 6.1.0 (venv)"),
    ("node", "Node.js (Debian nodejs), to parse the k6 scripts"),
];

/// The Python virtual environment of the tool cache (next to its `bin/`, where
/// `cargo xtask tools` creates it).
pub fn venv() -> PathBuf {
    paths::tools_bin().with_file_name("venv")
}

/// A command with the tool cache and the venv's `bin/` on `PATH`, run from the root.
pub fn command(program: &str) -> Command {
    let mut command = cmd::new(program);
    command.env("PATH", search_path());
    command
}

fn search_path() -> OsString {
    let mut dirs = vec![venv().join("bin")];
    dirs.extend(std::env::split_paths(&cmd::path_with_tools()));
    std::env::join_paths(dirs).expect("PATH entries contain no separator")
}

fn exists(program: &str) -> bool {
    cmd::exists(program) || venv().join("bin").join(program).is_file()
}

/// Fails with one message listing every missing tool and how to get it.
pub fn require_all() -> Result<()> {
    let mut missing: Vec<String> = PROGRAMS
        .iter()
        .filter(|(program, _)| !exists(program))
        .map(|(program, package)| format!("{program} ({package})"))
        .collect();
    if super::kubeconform::schema_source().is_none() {
        missing.push(format!(
            "Kubernetes {KUBERNETES_VERSION} JSON schemas (pip package kubernetes-validate 1.37.0 in {})",
            venv().display()
        ));
    }
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "missing tools: {}; run `cargo xtask tools`",
        missing.join(", ")
    )
}
