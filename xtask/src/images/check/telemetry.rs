//! telemetry-check's run: a job, not a server, checked against real backends.

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::container::{Started, free_port, render};
use super::{Row, tail};
use crate::images::{TELEMETRY_CHECK, pod, podman};
use crate::{bench, cmd};

/// telemetry-check is a job: `--version`, then the chart's `helm test` Pod against
/// a real (empty) Prometheus and Jaeger on loopback. With no OBI telemetry there,
/// every expectation fails: exit code 1 and the report, where an unreachable
/// backend would be 3 and a bad spec 2.
pub(super) fn run_telemetry_check(image: &str, work: &Path, row: &mut Row) -> Result<()> {
    let version = cmd::output(
        podman::podman()
            .args(["run", "--rm", "--network", "none", "--read-only"])
            .args(podman::ulimit_args())
            .args([image, "--version"]),
    )?;
    let expected = format!("telemetry-check {}", env!("CARGO_PKG_VERSION"));
    if version.trim() != expected {
        bail!("--version printed {version:?}, not {expected:?}");
    }
    let prometheus = Backend::started(&work.join("prometheus"), Backend::prometheus)?;
    let jaeger = Backend::started(&work.join("jaeger"), Backend::jaeger)?;
    let docs = render(
        "http-rest-api",
        &[
            format!("global.telemetry.prometheusUrl={}", prometheus.url),
            "global.telemetry.tracesBackend=jaeger".into(),
            format!("global.telemetry.tracesUrl={}", jaeger.url),
            "tests.timeout=10s".into(),
        ],
    )?;
    let spec = pod::test_pod_container(&docs, TELEMETRY_CHECK)?;
    let started = Instant::now();
    let running = Started::start(TELEMETRY_CHECK, image, &spec, &work.join("pod"), &[])?;
    let mut peak = 0;
    let code = loop {
        if let Ok(pid) = running.pid()
            && let Ok(kib) = bench::peak_rss_kib(pid)
        {
            peak = peak.max(kib);
        }
        if let Some(code) = running.exit_code()? {
            break code;
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("still running after 120s (tests.timeout is 10s)");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = running.logs(TELEMETRY_CHECK)?;
    if code != 1 || !stdout.contains("-> exit 1") {
        bail!(
            "exited with {code} (expected 1: every expectation failed against empty backends):\n{}",
            tail(&format!("{stdout}{stderr}"), 30)
        );
    }
    row.peak_rss_kib = (peak > 0).then_some(peak);
    row.ready = Some(started.elapsed());
    row.note =
        "--version; helm-test Pod vs empty Prometheus + Jaeger: exit 1, report printed".into();
    Ok(())
}

/// Prometheus or Jaeger on free loopback ports, stopped when dropped.
struct Backend {
    url: String,
    child: std::process::Child,
}

/// Starts of a backend before giving up: a port found free can be taken by another
/// process before the backend binds it (the machine is shared).
const ATTEMPTS: usize = 3;

impl Backend {
    /// `start` in `dir`, again while the backend exits having lost a port.
    fn started(dir: &Path, start: fn(&Path) -> Result<Self>) -> Result<Self> {
        let mut attempt = 1;
        loop {
            match start(dir) {
                Err(err) if attempt < ATTEMPTS && lost_a_port(dir) => {
                    eprintln!("images: {err:#}: a port it was given was taken; starting it again");
                    attempt += 1;
                }
                started => return started,
            }
        }
    }

    fn prometheus(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir)?;
        let port = free_port()?;
        let config = dir.join("prometheus.yml");
        fs::write(
            &config,
            "global:\n  scrape_interval: 15s\nscrape_configs: []\n",
        )?;
        let mut command = crate::tools::prometheus::command(&config, &dir.join("data"), port);
        Self::spawn(
            &mut command,
            dir,
            format!("http://127.0.0.1:{port}"),
            "/-/ready",
        )
    }

    /// Jaeger v2 with the configuration `cargo xtask tools` wrote, every
    /// listener moved to a free port (the defaults may be in use).
    fn jaeger(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir)?;
        let [query, query_grpc, otlp_grpc, otlp_http, health] = [
            free_port()?,
            free_port()?,
            free_port()?,
            free_port()?,
            free_port()?,
        ];
        let mut command = cmd::new("jaeger");
        command
            .arg("--config")
            .arg(format!(
                "file:{}",
                crate::tools::jaeger::config_path().display()
            ))
            .arg(format!(
                "--set=extensions.jaeger_query.http.endpoint=127.0.0.1:{query}"
            ))
            .arg(format!(
                "--set=extensions.jaeger_query.grpc.endpoint=127.0.0.1:{query_grpc}"
            ))
            .arg(format!(
                "--set=receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{otlp_grpc}"
            ))
            .arg(format!(
                "--set=receivers.otlp.protocols.http.endpoint=127.0.0.1:{otlp_http}"
            ))
            .arg(format!(
                "--set=extensions.healthcheckv2.http.endpoint=127.0.0.1:{health}"
            ))
            .arg("--set=service.telemetry.metrics.level=none");
        Self::spawn(
            &mut command,
            dir,
            format!("http://127.0.0.1:{query}"),
            "/api/services",
        )
    }

    fn spawn(
        command: &mut std::process::Command,
        dir: &Path,
        url: String,
        ready: &str,
    ) -> Result<Self> {
        let log = fs::File::create(dir.join("log"))?;
        let child = command
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start {:?} (run `cargo xtask tools`)",
                    command.get_program()
                )
            })?;
        let mut backend = Self { url, child };
        let started = Instant::now();
        // Prometheus' `/-/ready` answers plain text: only the status counts.
        let probe = format!("{}{ready}", backend.url);
        while !crate::http::ok(&probe, Duration::from_secs(2)) {
            if let Some(status) = backend.child.try_wait()? {
                bail!(
                    "{:?} exited with {status}; see {}",
                    command.get_program(),
                    dir.join("log").display()
                );
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!(
                    "{} not ready within 60s; see {}",
                    backend.url,
                    dir.join("log").display()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(backend)
    }
}

/// Whether the backend whose log is in `dir` exited for want of a port.
fn lost_a_port(dir: &Path) -> bool {
    fs::read_to_string(dir.join("log")).is_ok_and(|log| log.contains("address already in use"))
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both backends come up and count as ready. Prometheus' readiness page is
    /// plain text; a probe that wanted JSON waited out its 60 s on a Prometheus
    /// that was ready all along (telemetry-check's first image check).
    #[test]
    fn the_empty_backends_start_and_count_as_ready() {
        let dir = crate::paths::target().join("images-check-backends");
        let _ = fs::remove_dir_all(&dir);
        let prometheus = Backend::started(&dir.join("prometheus"), Backend::prometheus).unwrap();
        let jaeger = Backend::started(&dir.join("jaeger"), Backend::jaeger).unwrap();
        assert!(crate::http::ok(
            &format!("{}/api/v1/status/buildinfo", prometheus.url),
            Duration::from_secs(5)
        ));
        assert!(crate::http::ok(
            &format!("{}/api/services", jaeger.url),
            Duration::from_secs(5)
        ));
        drop((prometheus, jaeger));
        let _ = fs::remove_dir_all(&dir);
    }

    /// A Prometheus whose port someone else holds exits naming it, and is started
    /// again on another; any other failure is not retried.
    #[test]
    fn a_backend_that_lost_its_port_is_started_again_and_nothing_else_is() {
        let dir = crate::paths::target().join("images-check-lost-port");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let start = || {
            Backend::spawn(
                &mut crate::tools::prometheus::command(
                    &dir.join("none.yml"),
                    &dir.join("data"),
                    port,
                ),
                &dir,
                format!("http://127.0.0.1:{port}"),
                "/-/ready",
            )
        };
        // Prometheus reads its config before it listens: with none it exits first,
        // which is not a lost port.
        assert!(start().is_err());
        assert!(
            !lost_a_port(&dir),
            "{}",
            fs::read_to_string(dir.join("log")).unwrap()
        );
        fs::write(dir.join("none.yml"), "global: {}\n").unwrap();
        assert!(start().is_err(), "someone else's port answered");
        assert!(
            lost_a_port(&dir),
            "{}",
            fs::read_to_string(dir.join("log")).unwrap()
        );

        // The retry: a first start that lost its port, then one that works.
        static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        fn flaky(dir: &Path) -> Result<Backend> {
            if STARTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                fs::write(dir.join("log"), "bind: address already in use\n")?;
                bail!("exited");
            }
            Backend::prometheus(dir)
        }
        let retry = dir.join("retry");
        fs::create_dir_all(&retry).unwrap();
        let prometheus = Backend::started(&retry, flaky).unwrap();
        assert_eq!(STARTS.load(std::sync::atomic::Ordering::SeqCst), 2);
        drop(prometheus);
        fn broken(dir: &Path) -> Result<Backend> {
            fs::write(dir.join("log"), "some other failure\n")?;
            bail!("exited");
        }
        assert!(Backend::started(&dir.join("retry"), broken).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
