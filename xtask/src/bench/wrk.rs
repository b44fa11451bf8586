//! wrk (Debian's `wrk` 4.1, a C load generator on epoll) as a bench client: as light
//! per request as `pgbench`, so that on a small machine the app, not the client, is
//! what runs out of CPU. k6 runs JavaScript for every request and, sharing two cores
//! with the app and its database, measures mostly itself.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::{Measure, Sample, Settings};
use crate::{cmd, paths};

/// Largest share of non-2xx/3xx responses and socket errors a measurement may have:
/// above it, what was measured is the error path.
const MAX_ERROR_SHARE: f64 = 0.01;

/// `wrk -t <min(vus,2)> -c <vus> -d <duration>s --latency -s <script> <url>`, with
/// `env` in the script's environment (`os.getenv`).
#[derive(Debug, Clone)]
pub struct WrkWorkload {
    /// Shown in the report.
    pub name: String,
    /// The Lua script (see `xtask/bench/`).
    pub script: PathBuf,
    /// Base URL of the target; the script picks the paths.
    pub target_url: String,
    /// Environment of the wrk process, read by the script.
    pub env: Vec<(String, String)>,
}

impl WrkWorkload {
    /// GETs each of `paths` in turn, round and round (`xtask/bench/get-paths.lua`): a
    /// mix is the proportion of its paths in the list. A path holds no whitespace
    /// (the script splits the list on it).
    pub fn get_each<P: AsRef<str>>(
        name: impl Into<String>,
        target_url: impl Into<String>,
        paths: impl IntoIterator<Item = P>,
    ) -> Self {
        let paths: Vec<String> = paths
            .into_iter()
            .map(|path| {
                let path = path.as_ref();
                assert!(
                    !path.is_empty() && !path.contains(char::is_whitespace),
                    "a wrk path is one word: {path:?}"
                );
                path.to_owned()
            })
            .collect();
        Self {
            name: name.into(),
            script: paths::root()
                .join("xtask")
                .join("bench")
                .join("get-paths.lua"),
            target_url: target_url.into(),
            env: vec![("WRK_PATHS".into(), paths.join(" "))],
        }
    }

    fn command(&self, settings: &Settings) -> std::process::Command {
        let mut command = cmd::new("wrk");
        command
            .arg("-t")
            .arg(settings.vus.min(2).to_string())
            .arg("-c")
            .arg(settings.vus.to_string())
            .arg("-d")
            .arg(format!("{}s", settings.duration.as_secs().max(1)))
            .arg("--latency")
            .arg("-s")
            .arg(&self.script)
            .arg(&self.target_url);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }
}

impl Measure for WrkWorkload {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        let output = cmd::output(&mut self.command(settings))
            .context("wrk failed (it comes from Debian's `wrk` package)")?;
        // Kept for a look at the full output (latency spread, errors).
        let dir = paths::target().join("bench");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{}.wrk.txt", slug(&self.name))), &output)?;
        let report = parse(&output).with_context(|| format!("unexpected wrk output:\n{output}"))?;
        report.check_errors()?;
        Ok(report.sample)
    }
}

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// What a wrk run printed.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Report {
    sample: Sample,
    /// Completed requests.
    requests: u64,
    /// `Non-2xx or 3xx responses: N`.
    bad_statuses: u64,
    /// Sum of `Socket errors: connect N, read N, write N, timeout N`.
    socket_errors: u64,
}

impl Report {
    fn check_errors(&self) -> Result<()> {
        if self.requests == 0 {
            bail!("wrk completed no request");
        }
        let errors = self.bad_statuses + self.socket_errors;
        let share = errors as f64 / self.requests as f64;
        if share > MAX_ERROR_SHARE {
            bail!(
                "{} of {} requests failed ({} non-2xx/3xx, {} socket errors): \
                 a benchmark of errors is no benchmark",
                errors,
                self.requests,
                self.bad_statuses,
                self.socket_errors
            );
        }
        Ok(())
    }
}

fn parse(output: &str) -> Result<Report> {
    let mut rate = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut requests = None;
    let mut bad_statuses = 0;
    let mut socket_errors = 0;
    for line in output.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            rate = rest.trim().parse::<f64>().ok();
        } else if let Some(rest) = line.strip_prefix("50%") {
            p50 = Some(parse_time_ms(rest.trim())?);
        } else if let Some(rest) = line.strip_prefix("99%") {
            p99 = Some(parse_time_ms(rest.trim())?);
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            bad_statuses = rest.trim().parse().context("Non-2xx count")?;
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            // `connect 0, read 3, write 0, timeout 12`
            for part in rest.split(',') {
                socket_errors += part
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok())
                    .with_context(|| format!("socket errors `{rest}`"))?;
            }
        } else if line.contains(" requests in ") {
            requests = line.split_whitespace().next().and_then(|n| n.parse().ok());
        }
    }
    Ok(Report {
        sample: Sample {
            rate: rate.context("no `Requests/sec:` line")?,
            p50_ms: p50.context("no 50% line (was --latency passed?)")?,
            p99_ms: p99.context("no 99% line (was --latency passed?)")?,
            server_cpu_us: None,
        },
        requests: requests.context("no `N requests in` line")?,
        bad_statuses,
        socket_errors,
    })
}

/// wrk's times: `612.00us`, `1.23ms`, `2.00s`, `1.50m`, in milliseconds.
fn parse_time_ms(text: &str) -> Result<f64> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .with_context(|| format!("no unit in `{text}`"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .with_context(|| format!("not a number in `{text}`"))?;
    let factor = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => bail!("unknown unit in `{text}`"),
    };
    Ok(number * factor)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Captured from the first real run of `cargo xtask bench sql-application`
    /// (`wrk -t 2 -c 16 -d 15s --latency -s xtask/bench/get-by-id.lua`, release build; the
    /// script's ids are paths of `get-paths.lua` now).
    const OUTPUT: &str = "\
Running 15s test @ http://127.0.0.1:8081
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.65ms   13.53ms 504.42ms   99.31%
    Req/Sec     9.16k     1.95k   16.36k    75.00%
  Latency Distribution
     50%  803.00us
     75%    1.09ms
     90%    1.47ms
     99%    6.99ms
  273570 requests in 15.01s, 92.96MB read
Requests/sec:  18231.58
Transfer/sec:      6.20MB
";

    #[test]
    fn a_run_is_read_into_a_sample() {
        let report = parse(OUTPUT).unwrap();
        assert_eq!(report.sample.rate, 18231.58);
        assert!((report.sample.p50_ms - 0.803).abs() < 1e-9);
        assert!((report.sample.p99_ms - 6.99).abs() < 1e-9);
        assert_eq!(report.requests, 273570);
        assert_eq!((report.bad_statuses, report.socket_errors), (0, 0));
        report.check_errors().unwrap();
    }

    #[test]
    fn errors_above_a_small_share_fail_the_measurement() {
        let few = OUTPUT.replace(
            "Requests/sec:",
            "  Socket errors: connect 0, read 3, write 0, timeout 2\n  \
             Non-2xx or 3xx responses: 100\nRequests/sec:",
        );
        let report = parse(&few).unwrap();
        assert_eq!((report.bad_statuses, report.socket_errors), (100, 5));
        report.check_errors().unwrap();
        let many = OUTPUT.replace(
            "Requests/sec:",
            "  Non-2xx or 3xx responses: 273570\nRequests/sec:",
        );
        let message = parse(&many)
            .unwrap()
            .check_errors()
            .unwrap_err()
            .to_string();
        assert!(message.contains("273570 non-2xx"), "{message}");
    }

    #[test]
    fn times_in_every_unit_become_milliseconds() {
        assert_eq!(parse_time_ms("250.00us").unwrap(), 0.25);
        assert_eq!(parse_time_ms("3.50ms").unwrap(), 3.5);
        assert_eq!(parse_time_ms("1.20s").unwrap(), 1200.0);
        assert_eq!(parse_time_ms("1.00m").unwrap(), 60_000.0);
        assert!(parse_time_ms("12").is_err());
        assert!(parse(&OUTPUT.replace("Latency Distribution", "")).is_ok());
        assert!(parse(&OUTPUT.replace("     99%    6.99ms\n", "")).is_err());
    }

    #[test]
    fn the_command_has_the_settings_and_the_paths() {
        let workload = WrkWorkload::get_each(
            "GET by id (wrk)",
            "http://127.0.0.1:8080",
            ["/api/v1/products/1", "/api/v1/products/2"],
        );
        let settings = Settings {
            runs: 1,
            duration: Duration::from_secs(20),
            vus: 16,
            warmup: Duration::ZERO,
        };
        let command = workload.command(&settings);
        let args: Vec<_> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let script = paths::root().join("xtask/bench/get-paths.lua");
        assert!(script.is_file(), "{}", script.display());
        assert_eq!(
            args,
            [
                "-t",
                "2",
                "-c",
                "16",
                "-d",
                "20s",
                "--latency",
                "-s",
                &script.to_string_lossy(),
                "http://127.0.0.1:8080"
            ]
        );
        assert!(command.get_envs().any(|(k, v)| k == "WRK_PATHS"
            && v == Some("/api/v1/products/1 /api/v1/products/2".as_ref())));
    }

    #[test]
    #[should_panic(expected = "a wrk path is one word")]
    fn a_path_the_script_would_split_is_refused() {
        WrkWorkload::get_each("x", "http://127.0.0.1:8080", ["/a b"]);
    }
}
