//! Jaeger v2's configuration for the telemetry tier: in-memory storage, every
//! endpoint on loopback, and a start-up check run right after each build.

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{cmd, paths};

/// Jaeger's query API and UI (`/api/services`, `/api/traces`).
pub const QUERY_PORT: u16 = 16686;
/// OTLP over gRPC.
pub const OTLP_GRPC_PORT: u16 = 4317;
/// OTLP over HTTP.
pub const OTLP_HTTP_PORT: u16 = 4318;

/// The configuration file written by `cargo xtask tools`; run Jaeger with
/// `jaeger --config file:<this path>`.
pub fn config_path() -> PathBuf {
    paths::cache().join("jaeger").join("config.yaml")
}

/// Writes [`config_path`] when its content differs, and returns the path.
pub(crate) fn write_config() -> Result<PathBuf> {
    let path = config_path();
    let text = render_config();
    if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        fs::create_dir_all(path.parent().expect("the config has a directory"))?;
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(path)
}

/// The all-in-one pipeline (OTLP in, memory store, query API out) with every
/// listener on 127.0.0.1: the upstream example binds 0.0.0.0 and adds receivers,
/// sampling and pprof that the checks do not need.
fn render_config() -> String {
    format!(
        "\
# Written by `cargo xtask tools` (xtask/src/tools/jaeger.rs): edits are overwritten.
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: basic
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: 8888
    logs:
      level: info

extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:13133
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:{QUERY_PORT}
    grpc:
      endpoint: 127.0.0.1:16685
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{OTLP_GRPC_PORT}
      http:
        endpoint: 127.0.0.1:{OTLP_HTTP_PORT}

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
"
    )
}

/// Starts the freshly built `jaeger` with [`config_path`] and checks that it serves
/// the query API and accepts OTLP, then stops it. Skipped when a port is busy
/// (a Jaeger may already be running for the telemetry tier).
pub(super) fn smoke_test(jaeger: &Path) -> Result<()> {
    let ports = [QUERY_PORT, OTLP_GRPC_PORT, OTLP_HTTP_PORT];
    if let Some(busy) = ports.iter().find(|port| connects(**port)) {
        println!("jaeger start-up check skipped: 127.0.0.1:{busy} is already in use");
        return Ok(());
    }
    let config = write_config()?;
    let log = config.with_file_name("smoke-test.log");
    let log_file = fs::File::create(&log)?;
    let mut child = cmd::new(jaeger)
        .arg("--config")
        .arg(format!("file:{}", config.display()))
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .spawn()
        .context("cannot start jaeger")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let outcome = loop {
        if let Some(status) = child.try_wait()? {
            break Err(anyhow::anyhow!("jaeger exited with {status}"));
        }
        let query = crate::http::get(
            &format!("http://127.0.0.1:{QUERY_PORT}/api/services"),
            Duration::from_secs(2),
        )
        .ok();
        if query.is_some_and(|(status, _)| status == 200)
            && connects(OTLP_GRPC_PORT)
            && connects(OTLP_HTTP_PORT)
        {
            break Ok(());
        }
        if Instant::now() > deadline {
            break Err(anyhow::anyhow!("jaeger did not serve within 30s"));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = child.kill();
    let _ = child.wait();
    match outcome {
        Ok(()) => {
            println!(
                "jaeger serves the query API on :{QUERY_PORT} and OTLP on :{OTLP_GRPC_PORT}/:{OTLP_HTTP_PORT}"
            );
            Ok(())
        }
        Err(err) => bail!("{err}; its log is {}", log.display()),
    }
}

fn connects(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_binds_every_listener_to_loopback() {
        let config = render_config();
        for line in config.lines().filter(|line| line.contains("endpoint:")) {
            assert!(line.contains("127.0.0.1:"), "not on loopback: {line}");
        }
        assert!(config.contains("endpoint: 127.0.0.1:16686"));
        assert!(config.contains("endpoint: 127.0.0.1:4317"));
        assert!(config.contains("endpoint: 127.0.0.1:4318"));
        assert!(!config.contains("0.0.0.0"));
    }

    #[test]
    fn the_config_stores_traces_in_memory_only() {
        let config = render_config();
        assert!(config.contains("memory:"));
        for backend in ["badger", "cassandra", "elasticsearch", "opensearch"] {
            assert!(!config.contains(backend));
        }
    }
}
