//! Real Prometheus and Jaeger processes on free loopback ports, each in its own
//! temporary directory, killed when their guard drops. A missing binary fails
//! the test (never skips it) with the command that installs it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A child process killed (and reaped) on drop, with its working directory.
#[derive(Debug)]
pub struct Running {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
    name: &'static str,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Stops the process and hands back its working directory (to start again).
    fn take_dir(mut self) -> TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let placeholder = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, placeholder)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.is_file(),
        "{what} not found at {}: run cargo xtask tools (the telemetry tests need the real binary)",
        path.display()
    );
    path
}

/// Debian's Prometheus, or `PROMETHEUS` when set.
pub fn prometheus_binary() -> PathBuf {
    let path = std::env::var_os("PROMETHEUS")
        .map_or_else(|| PathBuf::from("/usr/bin/prometheus"), PathBuf::from);
    require(path, "prometheus")
}

/// Prometheus's promtool, next to it (or `PROMTOOL` when set).
pub fn promtool_binary() -> PathBuf {
    let path = std::env::var_os("PROMTOOL").map_or_else(
        || prometheus_binary().with_file_name("promtool"),
        PathBuf::from,
    );
    require(path, "promtool")
}

/// Jaeger v2 from the tool cache, or `JAEGER` when set.
pub fn jaeger_binary() -> PathBuf {
    cached_tool("jaeger", "JAEGER")
}

/// A binary `cargo xtask tools` installs into the tool cache
/// (`$OBI_EXAMPLES_CACHE`, else `~/.cache/obi-examples`), or `$<env>` when set.
pub fn cached_tool(name: &'static str, env: &str) -> PathBuf {
    let path = std::env::var_os(env).map_or_else(
        || {
            let cache = std::env::var_os("OBI_EXAMPLES_CACHE").map_or_else(
                || {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                        .join(".cache/obi-examples")
                },
                PathBuf::from,
            );
            cache.join("tools/bin").join(name)
        },
        PathBuf::from,
    );
    require(path, name)
}

fn spawn(name: &'static str, binary: &Path, args: &[String], dir: TempDir, port: u16) -> Running {
    let log = std::fs::File::create(dir.path().join("log")).expect("log file");
    let child = Command::new(binary)
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));
    Running {
        child,
        port,
        dir,
        name,
    }
}

/// Starts of a backend before giving up: a port found free can be taken by
/// another process before the backend binds it (the machine is shared).
const ATTEMPTS: usize = 3;

/// Whether a process that exited lost the race for its port.
fn lost_its_port(process: &Running) -> bool {
    process.log().contains("address already in use")
}

/// Waits until `url` answers 200; `Err` with the process log if it exited.
pub async fn wait_ready(process: &mut Running, url: &str) -> Result<(), String> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = process.child.try_wait() {
            return Err(format!(
                "{} exited with {status}:\n{}",
                process.name,
                process.log()
            ));
        }
        if let Ok(response) = http.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        assert!(
            Instant::now() < deadline,
            "{} not ready at {url} within 60s:\n{}",
            process.name,
            process.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Prometheus over the history in `openmetrics` (OpenMetrics text with
/// timestamps), imported by `promtool tsdb create-blocks-from openmetrics` into
/// the data directory before Prometheus starts; it scrapes nothing.
pub async fn start_prometheus(openmetrics: &str) -> Running {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("history.om.txt");
    std::fs::write(&input, openmetrics).expect("history");
    let data = dir.path().join("data");
    let imported = tokio::process::Command::new(promtool_binary())
        .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
        .arg(&input)
        .arg(&data)
        .output()
        .await
        .expect("promtool runs");
    assert!(
        imported.status.success(),
        "promtool could not import the fixture:\n{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "global:\n  evaluation_interval: 1s\n",
    )
    .expect("config");
    let mut dir = Some(dir);
    for attempt in 1..=ATTEMPTS {
        let port = free_port();
        let base = dir.as_ref().expect("kept until started").path().to_owned();
        let args = vec![
            format!("--config.file={}", base.join("prometheus.yml").display()),
            format!("--storage.tsdb.path={}", base.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--log.level=warn".into(),
        ];
        let mut running = spawn(
            "prometheus",
            &prometheus_binary(),
            &args,
            dir.take().expect("kept until started"),
            port,
        );
        let ready = format!("{}/-/ready", running.url());
        match wait_ready(&mut running, &ready).await {
            Ok(()) => return running,
            Err(_) if attempt < ATTEMPTS && lost_its_port(&running) => {
                dir = Some(running.take_dir());
            }
            Err(err) => panic!("{err}"),
        }
    }
    unreachable!("the last attempt returns or panics")
}

/// Jaeger v2 all-in-one with in-memory storage; every listener on its own free
/// port. Returns the process and its OTLP/HTTP port.
pub async fn start_jaeger() -> (Running, u16) {
    for attempt in 1..=ATTEMPTS {
        match try_start_jaeger(JaegerPorts::free()).await {
            Ok(started) => return started,
            Err((running, _)) if attempt < ATTEMPTS && lost_its_port(&running) => {}
            Err((_, err)) => panic!("{err}"),
        }
    }
    unreachable!("the last attempt returns or panics")
}

/// Jaeger's five listeners.
#[derive(Clone, Copy, Debug)]
struct JaegerPorts {
    query: u16,
    query_grpc: u16,
    otlp_grpc: u16,
    otlp_http: u16,
    health: u16,
}

impl JaegerPorts {
    fn free() -> Self {
        let [query, query_grpc, otlp_grpc, otlp_http, health] = [(); 5].map(|()| free_port());
        Self {
            query,
            query_grpc,
            otlp_grpc,
            otlp_http,
            health,
        }
    }
}

/// One start of Jaeger; `Err` with the process when it exited or never opened
/// a listener (a lost port is then in its log, and the caller starts again).
async fn try_start_jaeger(ports: JaegerPorts) -> Result<(Running, u16), (Running, String)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let JaegerPorts {
        query,
        query_grpc,
        otlp_grpc,
        otlp_http,
        health,
    } = ports;
    let config = format!(
        "\
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:{health}
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:{query}
    grpc:
      endpoint: 127.0.0.1:{query_grpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{otlp_grpc}
      http:
        endpoint: 127.0.0.1:{otlp_http}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
"
    );
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config).expect("config");
    let args = vec!["--config".into(), format!("file:{}", path.display())];
    let mut running = spawn("jaeger", &jaeger_binary(), &args, dir, query);
    let ready = format!("{}/api/v3/services", running.url());
    if let Err(err) = wait_ready(&mut running, &ready).await {
        return Err((running, err));
    }
    // The OTLP receiver may start a moment after the query API, or fail to
    // bind its port after the query API is up (Jaeger then exits, up to 10 s
    // later while it flushes its own traces).
    match wait_listening(&mut running, otlp_http).await {
        Ok(()) => Ok((running, otlp_http)),
        Err(err) => Err((running, err)),
    }
}

/// Waits until `port` accepts connections; `Err` with the process log once the
/// process exits or 30 s pass, so a lost port can be retried.
async fn wait_listening(process: &mut Running, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        let exited = matches!(process.child.try_wait(), Ok(Some(_)));
        if exited || Instant::now() >= deadline {
            return Err(format!(
                "{} never listened on {port}:\n{}",
                process.name,
                process.log()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::test]
async fn a_jaeger_that_loses_its_otlp_port_is_started_again() {
    let ports = JaegerPorts::free();
    let _taken = TcpListener::bind(("127.0.0.1", ports.otlp_http)).expect("hold the OTLP port");
    let (running, err) = try_start_jaeger(ports)
        .await
        .expect_err("jaeger cannot listen on a held port");
    assert!(lost_its_port(&running), "{err}");
    let (_jaeger, otlp) = start_jaeger().await;
    assert_ne!(otlp, ports.otlp_http);
}

#[tokio::test]
async fn a_process_that_exits_before_it_listens_is_an_error_to_retry_not_a_panic() {
    // The gate once failed here: Jaeger's query API answered, its OTLP port had
    // been taken meanwhile, and the wait for that port panicked instead of
    // handing the lost port to `start_jaeger`'s retry. Whether Jaeger exits
    // before or after its query API answers depends on timing, so this drives
    // the wait with a process that logs the bind error and exits.
    let dir = tempfile::tempdir().expect("temp dir");
    let script = "echo 'listen tcp 127.0.0.1:1: bind: address already in use'; sleep 0.3";
    let args = ["-c".to_owned(), script.to_owned()];
    let mut process = spawn("jaeger", Path::new("/bin/sh"), &args, dir, 0);
    let started = Instant::now();
    let err = wait_listening(&mut process, free_port())
        .await
        .expect_err("nothing listens");
    assert!(started.elapsed() < Duration::from_secs(10), "{err}");
    assert!(lost_its_port(&process), "{err}");
}
