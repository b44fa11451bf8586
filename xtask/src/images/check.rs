//! `cargo xtask images check`: each built image, first as a file (user,
//! entrypoint, nothing executable but the app and shared libraries, compressed
//! size within [`SIZE_BUDGET`], the embedded dependency list equal to Cargo's),
//! then as a running container, the way its chart runs it: the chart is rendered
//! with helm, and the Deployment's (or the `helm test` Pod's) container becomes
//! `podman run` options ([`pod`]): read-only root, user 65532, no capabilities,
//! no privilege escalation, the chart's memory and CPU limits, its ConfigMap
//! mounted and its environment, on the host network against the loopback
//! services. Every check continues past a failing image, so one run names them all.

mod app;
mod container;
mod image;
mod telemetry;

use std::fs;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{TELEMETRY_CHECK, inventory, out_dir, podman, reference};

/// The most an image may weigh, gzip-compressed (what a registry stores and a
/// node pulls). The local runtime base is 2.2 MiB of it (measured); the rest is
/// one release binary (thin LTO, debug info stripped). 16 MiB is well under the
/// 40 MiB bar of the issue and about twice what such a binary plus base should
/// weigh, so it catches what doubles an image (a debug build, a second copy of
/// librdkafka, a shell and coreutils) without failing on ordinary growth.
/// Provisional until the first complete run's sizes are in docs/images.md.
pub const SIZE_BUDGET: u64 = 16 * 1024 * 1024;

/// One image's results, for the table and `target/images/report.json`.
#[derive(Debug, Default, Clone)]
struct Row {
    name: String,
    compressed: u64,
    uncompressed: u64,
    crates: usize,
    ready: Option<Duration>,
    rss_kib: Option<u64>,
    peak_rss_kib: Option<u64>,
    stopped: Option<Duration>,
    grace: Option<Duration>,
    note: String,
}

/// Checks `names`; fails after all ran if any failed.
pub fn check(names: &[&str]) -> Result<()> {
    podman::usable()?;
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for name in names {
        eprintln!("images: checking {}", reference(name));
        let mut row = Row {
            name: (*name).to_owned(),
            ..Row::default()
        };
        match check_one(name, &mut row) {
            Ok(()) => eprintln!("images: {name} ok"),
            Err(err) => {
                eprintln!("images: {name} FAILED: {err:#}");
                row.note = format!(
                    "FAILED: {}",
                    format!("{err:#}").lines().next().unwrap_or_default()
                );
                failures.push(format!("{name}: {err:#}"));
            }
        }
        rows.push(row);
    }
    print_table(&rows);
    write_report(&rows)?;
    if !failures.is_empty() {
        bail!(
            "{} of {} images failed:\n{}",
            failures.len(),
            names.len(),
            failures.join("\n")
        );
    }
    Ok(())
}

fn check_one(name: &str, row: &mut Row) -> Result<()> {
    let image = reference(name);
    let archive = out_dir().join(format!("{name}.tar"));
    if !archive.is_file() {
        bail!(
            "no {} (run `cargo xtask images build {name}`)",
            archive.display()
        );
    }
    image::check_config(name, &image)?;
    image::check_files(name, &image)?;
    row.uncompressed = fs::metadata(&archive)?.len();
    row.compressed = image::gzip_size(&archive)?;
    if row.compressed > SIZE_BUDGET {
        bail!(
            "{} compressed, over the budget of {} (SIZE_BUDGET in {})",
            mib(row.compressed),
            mib(SIZE_BUDGET),
            file!()
        );
    }
    let listed = inventory::listed(name)?;
    let extra = inventory::compare(
        name,
        env!("CARGO_PKG_VERSION"),
        &listed.crates,
        &inventory::cargo_tree(name)?,
    )?;
    if !extra.is_empty() {
        eprintln!(
            "images: {name}: {} crate(s) listed beyond Cargo's tree (workspace feature unification): {extra:?}",
            extra.len()
        );
    }
    if !listed.debs.iter().any(|(package, _)| package == "libc6") {
        bail!("the SBOM lists no Debian libc6: {:?}", listed.debs);
    }
    row.crates = listed.crates.len();
    let work = out_dir().join("run").join(name);
    if work.exists() {
        fs::remove_dir_all(&work)?;
    }
    if name == TELEMETRY_CHECK {
        telemetry::run_telemetry_check(&image, &work, row)
    } else {
        app::run_app(name, &image, &work, row)
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
}

fn print_table(rows: &[Row]) {
    let secs =
        |d: Option<Duration>| d.map_or("-".to_owned(), |d| format!("{:.1}s", d.as_secs_f64()));
    let kib =
        |k: Option<u64>| k.map_or("-".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    eprintln!(
        "\n{:<18} {:>10} {:>12} {:>6} {:>7} {:>10} {:>10} {:>11}  note",
        "image", "gzip", "uncompressed", "crates", "ready", "RSS", "peak RSS", "SIGTERM"
    );
    for row in rows {
        eprintln!(
            "{:<18} {:>10} {:>12} {:>6} {:>7} {:>10} {:>10} {:>11}  {}",
            row.name,
            mib(row.compressed),
            mib(row.uncompressed),
            row.crates,
            secs(row.ready),
            kib(row.rss_kib),
            kib(row.peak_rss_kib),
            match (row.stopped, row.grace) {
                (Some(s), Some(g)) => format!("{:.2}s/{}s", s.as_secs_f64(), g.as_secs()),
                _ => "-".to_owned(),
            },
            row.note
        );
    }
    eprintln!(
        "(gzip: `podman save --format docker-archive | gzip -6`; budget {})",
        mib(SIZE_BUDGET)
    );
}

fn write_report(rows: &[Row]) -> Result<()> {
    let report: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({
                "image": reference(&row.name),
                "compressed_bytes": row.compressed,
                "uncompressed_bytes": row.uncompressed,
                "crates": row.crates,
                "ready_seconds": row.ready.map(|d| d.as_secs_f64()),
                "rss_kib": row.rss_kib,
                "peak_rss_kib": row.peak_rss_kib,
                "sigterm_exit_seconds": row.stopped.map(|d| d.as_secs_f64()),
                "grace_seconds": row.grace.map(|d| d.as_secs()),
                "note": row.note,
            })
        })
        .collect();
    let path = out_dir().join("report.json");
    fs::create_dir_all(out_dir())?;
    fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}
