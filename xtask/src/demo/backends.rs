//! The local telemetry backends of the demo, the same binaries the telemetry
//! tests use: Debian's Prometheus (scraping OBI's metrics endpoint) and Jaeger v2
//! from the tool cache (OTLP in, memory store, query API and UI).

use std::fs::File;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::group::Group;
use crate::services::ports::{self, Listener};
use crate::tools::{jaeger, prometheus};
use crate::{cmd, http, paths};

/// Prometheus's API and UI.
pub const PROMETHEUS_PORT: u16 = 9090;
/// Where OBI serves its metrics (the config the demo writes says so).
pub const OBI_METRICS_PORT: u16 = 9400;
/// Jaeger's query API and UI.
pub const JAEGER_QUERY: u16 = jaeger::QUERY_PORT;
/// Jaeger's OTLP/HTTP receiver, where OBI sends traces.
pub const JAEGER_OTLP_HTTP: u16 = jaeger::OTLP_HTTP_PORT;

/// Prometheus's base URL.
pub fn prometheus_url() -> String {
    format!("http://127.0.0.1:{PROMETHEUS_PORT}")
}

/// Jaeger's query base URL.
pub fn jaeger_url() -> String {
    format!("http://127.0.0.1:{JAEGER_QUERY}")
}

/// Prometheus's configuration: OBI's endpoint every 5 s, its labels kept.
///
/// OBI's own exporter has no `service_name` label (since v0.13 it is a resource
/// attribute); it names the service in `job` (`<namespace>/<name>`, or `<name>`).
/// The dashboards and the telemetry specs select on `service_name`, as the
/// cluster's OTLP receiver promotes it, so the scrape copies it from `job`.
pub fn prometheus_config() -> String {
    format!(
        "# Written by `cargo xtask demo` (xtask/src/demo/backends.rs) on each run.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: obi
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:{OBI_METRICS_PORT}']
    metric_relabel_configs:
      - source_labels: [job]
        regex: '(?:.*/)?([^/]+)'
        target_label: service_name
      - source_labels: [job]
        regex: '(.+)/[^/]+'
        target_label: service_namespace
"
    )
}

/// Fails naming the holder when one of `ports` is taken.
fn require_free(what: &str, ports_needed: &[u16]) -> Result<()> {
    let taken: Vec<String> = ports_needed
        .iter()
        .filter_map(|port| match ports::listener(*port) {
            Listener::Free => None,
            held => Some(format!("{port} ({})", ports::describe(&held))),
        })
        .collect();
    if !taken.is_empty() {
        bail!("cannot start {what}: port {} in use", taken.join(", "));
    }
    Ok(())
}

/// Starts Prometheus with its data in `dir/prometheus` (fresh on each run).
pub fn start_prometheus(dir: &Path) -> Result<Group> {
    require_free("Prometheus", &[PROMETHEUS_PORT])?;
    let home = dir.join("prometheus");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home)?;
    let config = home.join("prometheus.yml");
    std::fs::write(&config, prometheus_config())?;
    let log = File::create(dir.join("prometheus.log"))?;
    let mut command = prometheus::command(&config, &home.join("data"), PROMETHEUS_PORT);
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let mut group = Group::spawn("prometheus", &mut command)
        .context("Prometheus is Debian's package: run `cargo xtask tools`")?;
    wait_ready(&mut group, &format!("{}/-/ready", prometheus_url()), dir)?;
    Ok(group)
}

/// Starts Jaeger with the tool cache's config (in-memory, loopback).
pub fn start_jaeger(dir: &Path) -> Result<Group> {
    require_free(
        "Jaeger",
        &[JAEGER_QUERY, jaeger::OTLP_GRPC_PORT, JAEGER_OTLP_HTTP],
    )?;
    let config = jaeger::write_config()?;
    let log = File::create(dir.join("jaeger.log"))?;
    let mut command = cmd::new(paths::tools_bin().join("jaeger"));
    command
        .arg("--config")
        .arg(format!("file:{}", config.display()))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let mut group =
        Group::spawn("jaeger", &mut command).context("Jaeger is built by `cargo xtask tools`")?;
    wait_ready(&mut group, &format!("{}/api/services", jaeger_url()), dir)?;
    Ok(group)
}

fn wait_ready(group: &mut Group, url: &str, dir: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = group.exited() {
            bail!(
                "{} exited with {status}; see {}",
                group.name,
                dir.join(format!("{}.log", group.name)).display()
            );
        }
        if http::ok(url, Duration::from_secs(1)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{} did not answer {url} within 30 s", group.name);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_scrapes_obi_keeping_its_labels_and_naming_the_service() {
        let config: serde_yaml_ng::Value = serde_yaml_ng::from_str(&prometheus_config()).unwrap();
        let scrape = &config["scrape_configs"][0];
        assert_eq!(scrape["honor_labels"].as_bool(), Some(true));
        assert_eq!(
            scrape["static_configs"][0]["targets"][0].as_str(),
            Some("127.0.0.1:9400")
        );
        let relabel = scrape["metric_relabel_configs"].as_sequence().unwrap();
        let targets: Vec<_> = relabel
            .iter()
            .map(|r| r["target_label"].as_str().unwrap())
            .collect();
        assert_eq!(targets, ["service_name", "service_namespace"]);
    }

    #[test]
    fn promtool_accepts_the_prometheus_config() {
        let dir = paths::target().join("demo-promtool-test");
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("prometheus.yml");
        std::fs::write(&config, prometheus_config()).unwrap();
        let output = std::process::Command::new("/usr/bin/promtool")
            .args(["check", "config"])
            .arg(&config)
            .output()
            .expect("promtool is Debian's prometheus package: run `cargo xtask tools`");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
