//! `cargo xtask bench <app>`: measures an app under k6 load next to its physical
//! baseline (the same stack without the app's work, or the backing service's own
//! benchmark tool), in the same run, and appends a Markdown table to
//! `docs/performance.md`.
//!
//! Method: start the services and the app's release build; warm up; then `runs`
//! rounds, each measuring every workload of the app and the baseline, alternating so
//! drift on the machine hits both alike; report medians, and the app's peak RSS
//! (`VmHWM`) over the whole session.
//!
//! `bench all` runs every app at once (all.rs); `bench tenx` tests each app at 10×
//! its base load (tenx.rs).

use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::apps::App;
use crate::process::AppProcess;
use crate::{k6, paths, services};

mod all;
mod baseline_server;
mod ceiling;
mod checkout;
mod cpu;
mod echo_peer;
mod grpc_microservice;
mod grpc_wire;
mod http_rest_api;
mod k6_workload;
mod kafka_streaming;
mod openload;
mod redis_cache;
mod report;
mod sql_application;
mod targets;
mod tenx;
pub(crate) mod wrk;

pub use k6_workload::K6Workload;

/// How hard and how long to measure; `--runs`, `--duration`, `--vus` override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Measured rounds; the report shows their median.
    pub runs: usize,
    /// Length of each measurement.
    pub duration: Duration,
    /// Concurrent clients (k6 VUs, pgbench clients, ...), the same for app and baseline.
    pub vus: u32,
    /// Length of the warm-up before the first round.
    pub warmup: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            runs: 3,
            duration: Duration::from_secs(15),
            vus: 16,
            warmup: Duration::from_secs(5),
        }
    }
}

/// One measurement: throughput and latency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Operations per second.
    pub rate: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds (NaN where the tool does not report it).
    pub p99_ms: f64,
    /// CPU time the server process used per operation, microseconds, where the
    /// workload knows that process (user + system, from /proc): unlike the rate, it
    /// does not depend on how much of the shared cores the client took.
    pub server_cpu_us: Option<f64>,
}

impl From<k6::Summary> for Sample {
    fn from(summary: k6::Summary) -> Self {
        Self {
            rate: summary.rate,
            p50_ms: summary.p50_ms,
            p99_ms: summary.p99_ms,
            server_cpu_us: None,
        }
    }
}

/// Something measured: a workload of the app, or its baseline.
pub trait Measure {
    /// Shown in the report.
    fn name(&self) -> String;
    /// Measures once with these settings.
    fn measure(&self, settings: &Settings) -> Result<Sample>;
    /// The name of another subject of the plan this one is compared with, round by
    /// round (e.g. the app's mix against a peer server's same mix).
    fn versus(&self) -> Option<String> {
        None
    }
}

/// What `bench <app>` measures: the app's workloads and its physical baseline.
pub struct Plan {
    /// The app under test.
    pub app: &'static App,
    /// Its workloads (read-heavy, write-heavy, ...), each reported next to the baseline.
    pub workloads: Vec<Box<dyn Measure>>,
    /// What the app's throughput is compared with.
    pub baseline: Box<dyn Measure>,
    /// The target, e.g. "read path >= 60 % of the baseline; RSS <= 64 MiB".
    pub target: &'static str,
}

/// The benchmark plan of each app; an app without one cannot be benchmarked yet.
fn plan(app: &'static App) -> Option<Plan> {
    // Each protocol slice adds its plan here (workloads + baseline).
    match app.name {
        "grpc-microservice" => Some(grpc_microservice::plan(app)),
        "http-rest-api" => Some(http_rest_api::plan(app)),
        "sql-application" => Some(sql_application::plan(app)),
        "redis-cache" => Some(redis_cache::plan(app)),
        "kafka-streaming" => Some(kafka_streaming::plan(app)),
        "checkout" => Some(checkout::plan(app)),
        _ => None,
    }
}

/// Settings an app runs with under `bench`, when its defaults would measure
/// something else than its request path.
fn app_settings(app: &App) -> &'static [(&'static str, &'static str)] {
    match app.name {
        "http-rest-api" => http_rest_api::APP_SETTINGS,
        "kafka-streaming" => kafka_streaming::APP_SETTINGS,
        "checkout" => checkout::APP_SETTINGS,
        _ => &[],
    }
}

/// Parses `bench <app> [--runs N] [--duration 15s] [--vus N]` (or `bench all`,
/// `bench tenx`) and runs it.
pub fn run(args: &[&str]) -> Result<()> {
    match args {
        ["all", rest @ ..] => return all::run(rest),
        ["tenx", rest @ ..] => return tenx::run(rest),
        _ => {}
    }
    let (name, settings) = parse_args(args)?;
    let app = App::named(name)?;
    if !app.exists() {
        bail!(
            "{} does not exist yet (no apps/{}/Cargo.toml)",
            app.name,
            app.name
        );
    }
    let plan = plan(app).with_context(|| format!("{} has no benchmark plan yet", app.name))?;
    services::up()?;
    // An app that calls others (checkout) is measured with them running, started
    // first, each with its own bench settings.
    let called = app
        .calls
        .iter()
        .map(|name| App::named(name))
        .collect::<Result<Vec<_>>>()?;
    let mut built = called.clone();
    built.push(app);
    crate::process::build_release(&built)?;
    let dir = paths::target().join("bench");
    std::fs::create_dir_all(&dir)?;
    let mut hops = Vec::new();
    for hop in called {
        match AppProcess::start_configured(
            hop,
            crate::process::Profile::Release,
            &dir,
            app_settings(hop),
        ) {
            Ok(process) => hops.push(process),
            Err(err) => {
                hops.iter_mut().for_each(AppProcess::stop);
                return Err(err);
            }
        }
    }
    let started = AppProcess::start_configured(
        app,
        crate::process::Profile::Release,
        &dir,
        app_settings(app),
    );
    let mut process = match started {
        Ok(process) => process,
        Err(err) => {
            hops.iter_mut().for_each(AppProcess::stop);
            return Err(err);
        }
    };
    let outcome = measure_plan(&plan, &settings, process.pid());
    process.stop();
    hops.iter_mut().for_each(AppProcess::stop);
    let report = outcome?;
    eprintln!("{report}");
    report::append_report(&report)
}

struct Rounds {
    name: String,
    samples: Vec<Sample>,
    versus: Option<String>,
}

fn measure_plan(plan: &Plan, settings: &Settings, pid: u32) -> Result<String> {
    let warm = Settings {
        duration: settings.warmup,
        ..*settings
    };
    for workload in &plan.workloads {
        eprintln!("bench: warm-up {}", workload.name());
        workload.measure(&warm)?;
    }
    let mut subjects: Vec<&dyn Measure> = plan.workloads.iter().map(AsRef::as_ref).collect();
    subjects.push(plan.baseline.as_ref());
    let mut rounds: Vec<Rounds> = subjects
        .iter()
        .map(|s| Rounds {
            name: s.name(),
            samples: Vec::new(),
            versus: s.versus(),
        })
        .collect();
    for round in 1..=settings.runs {
        for (subject, results) in subjects.iter().zip(&mut rounds) {
            eprintln!("bench: round {round}/{} {}", settings.runs, results.name);
            results.samples.push(subject.measure(settings)?);
        }
    }
    let peak_rss = peak_rss_kib(pid)?;
    Ok(report::render(plan, settings, &rounds, peak_rss))
}

/// The median; NaN for no values.
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.filter(|v| !v.is_nan()).collect();
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// The peak resident set size of a process so far (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("process {pid} is gone"))?;
    parse_vm_hwm(&status).context("no VmHWM line in /proc/<pid>/status")
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

fn parse_args<'a>(args: &[&'a str]) -> Result<(&'a str, Settings)> {
    let mut settings = Settings::default();
    let mut name = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |flag: &str| {
            rest.next()
                .copied()
                .with_context(|| format!("{flag} needs a value"))
        };
        match *arg {
            "--runs" => {
                settings.runs = value("--runs")?
                    .parse()
                    .context("--runs takes a whole number")?
            }
            "--vus" => {
                settings.vus = value("--vus")?
                    .parse()
                    .context("--vus takes a whole number")?
            }
            "--duration" => {
                let text = value("--duration")?;
                let seconds = text
                    .trim_end_matches('s')
                    .parse::<u64>()
                    .with_context(|| format!("--duration takes seconds like 15s, not `{text}`"))?;
                settings.duration = Duration::from_secs(seconds);
            }
            flag if flag.starts_with('-') => bail!("unknown option `{flag}`"),
            app => name = Some(app),
        }
    }
    if settings.runs == 0 || settings.vus == 0 || settings.duration.is_zero() {
        bail!("--runs, --vus and --duration must be positive");
    }
    let name =
        name.context("usage: cargo xtask bench <app> [--runs N] [--duration 15s] [--vus N]")?;
    Ok((name, settings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 3.0, 2.0].into_iter()), 2.5);
        assert!(median(std::iter::empty()).is_nan());
    }

    #[test]
    fn peak_rss_is_read_from_vm_hwm() {
        let status = "Name:\tapp\nVmPeak:\t  9000 kB\nVmHWM:\t   4242 kB\nVmRSS:\t 4000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(4242));
        assert!(peak_rss_kib(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn arguments_set_the_settings_and_bad_ones_are_named() {
        let (name, settings) = parse_args(&[
            "sql-application",
            "--runs",
            "5",
            "--duration",
            "20s",
            "--vus",
            "8",
        ])
        .unwrap();
        assert_eq!(name, "sql-application");
        assert_eq!(settings.runs, 5);
        assert_eq!(settings.duration, Duration::from_secs(20));
        assert_eq!(settings.vus, 8);
        assert!(
            parse_args(&["x", "--fast"])
                .unwrap_err()
                .to_string()
                .contains("--fast")
        );
        assert!(parse_args(&["x", "--runs", "0"]).is_err());
        assert!(parse_args(&[]).is_err());
    }

    #[test]
    fn the_report_compares_every_workload_with_the_baseline() {
        let plan = Plan {
            app: App::named("http-rest-api").unwrap(),
            workloads: vec![Box::new(Fixed("read mix", 600.0))],
            baseline: Box::new(Fixed("hyper hello", 1000.0)),
            target: ">= 60 %",
        };
        let settings = Settings {
            runs: 2,
            duration: Duration::from_secs(1),
            vus: 1,
            warmup: Duration::ZERO,
        };
        let report = measure_plan(&plan, &settings, std::process::id()).unwrap();
        assert!(
            report.contains("| read mix | 600 | 1.00 | 2.00 | 60 % |"),
            "{report}"
        );
        assert!(
            report.contains("| hyper hello | 1000 | 1.00 | 2.00 | 100 % |"),
            "{report}"
        );
        assert!(report.contains("Target: >= 60 %"), "{report}");
    }

    struct Fixed(&'static str, f64);
    impl Measure for Fixed {
        fn name(&self) -> String {
            self.0.into()
        }
        fn measure(&self, _: &Settings) -> Result<Sample> {
            Ok(Sample {
                rate: self.1,
                p50_ms: 1.0,
                p99_ms: 2.0,
                server_cpu_us: None,
            })
        }
    }
}
