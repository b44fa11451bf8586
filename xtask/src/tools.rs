//! `cargo xtask tools`: installs everything the gate needs, pinned and idempotent.
//!
//! One installer per package source (Debian, Go, Maven, PyPI, npm; the Kubernetes
//! control plane is Go too, but patched before it builds). Each checks a
//! stamp or the package database first, so a warm run installs nothing and takes
//! seconds; a pin changed in these files re-installs exactly that tool. Binaries
//! land in [`paths::tools_bin`], outside the checkout, so fresh clones reuse them.

mod apt;
pub(crate) mod go;
pub mod jaeger;
pub mod kafka;
pub mod kubernetes;
mod npm;
pub mod prometheus;
mod python;
pub(crate) mod stamp;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::paths;

/// One row of the final table.
#[derive(Debug)]
struct Row {
    tool: String,
    version: String,
    path: PathBuf,
}

impl Row {
    fn new(tool: impl Into<String>, version: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self {
            tool: tool.into(),
            version: version.into(),
            path: path.into(),
        }
    }
}

/// What every installer gets: the stamps to consult and the table to add rows to.
#[derive(Debug)]
struct Install {
    stamps: stamp::Stamps,
    rows: Vec<Row>,
}

/// An installer: adds its rows, consults and records stamps.
type Step = fn(&mut Install) -> Result<()>;

/// The version `cargo xtask tools` pins the Go tool `name` to.
pub fn go_tool_pin(name: &str) -> Option<&'static str> {
    go::pin(name)
}

/// The Debian packages the gate needs (installed by [`install`] when run as root).
pub fn apt_packages() -> Vec<&'static str> {
    apt::package_names()
}

/// Installs every tool that is missing or whose pin changed, then prints a table
/// of tool, version and path.
pub fn install() -> Result<()> {
    let started = Instant::now();
    let mut install = Install {
        stamps: stamp::Stamps::load(&stamps_file()),
        rows: Vec::new(),
    };
    let steps: [(&str, Step); 6] = [
        ("Debian packages", apt::ensure),
        ("Go tools", go::ensure),
        ("Kubernetes control plane", kubernetes::ensure),
        ("Kafka broker jars", kafka::ensure),
        ("Python tools", python::ensure),
        ("npm packages", npm::ensure),
    ];
    let mut timings = Vec::new();
    for (name, step) in steps {
        let step_started = Instant::now();
        step(&mut install).with_context(|| format!("installing {name}"))?;
        timings.push((name, step_started.elapsed()));
    }

    println!();
    print!("{}", table(&install.rows));
    println!();
    let timings: Vec<String> = timings
        .iter()
        .map(|(name, took)| format!("{name} {:.1}s", took.as_secs_f64()))
        .collect();
    println!(
        "tools ready in {:.1}s ({})",
        started.elapsed().as_secs_f64(),
        timings.join(", ")
    );
    Ok(())
}

/// Where the stamps live: next to `bin/`, so deleting the tool cache forgets them too.
fn stamps_file() -> PathBuf {
    paths::tools_bin().with_file_name("versions.json")
}

/// Renders rows as an aligned three-column table with a header.
fn table(rows: &[Row]) -> String {
    let header = Row::new("tool", "version", "path");
    let all: Vec<&Row> = std::iter::once(&header).chain(rows).collect();
    let tool_width = all.iter().map(|row| row.tool.len()).max().unwrap_or(0);
    let version_width = all.iter().map(|row| row.version.len()).max().unwrap_or(0);
    all.iter()
        .map(|row| {
            format!(
                "{:tool_width$}  {:version_width$}  {}\n",
                row.tool,
                row.version,
                row.path.display()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_columns_under_a_header() {
        let rows = [
            Row::new("helm", "v3.19.0", "/cache/bin/helm"),
            Row::new("kubeconform", "v0.7.0", "/cache/bin/kubeconform"),
        ];
        assert_eq!(
            table(&rows),
            "tool         version  path\n\
             helm         v3.19.0  /cache/bin/helm\n\
             kubeconform  v0.7.0   /cache/bin/kubeconform\n"
        );
    }
}
