//! The command line and its environment variables (the helm-test pod's interface,
//! see charts/obi-examples-lib/templates/_test.tpl), turned into a run.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::backend;
use crate::jaeger::Jaeger;
use crate::prometheus::Prometheus;
use crate::report::{EXIT_USAGE, Report};
use crate::run::{self, Config, ZeroCodeMode};
use crate::spec::{self, LoadOptions, Spec};
use crate::tempo::Tempo;
use crate::traces::Traces;

/// Asserts that OBI's telemetry for an app reached Prometheus and Tempo or Jaeger.
///
/// Exit codes: 0 every expectation passed, 1 one failed, 2 bad command line or
/// spec file, 3 a backend could not be reached (the message names its URL).
#[derive(Debug, Parser)]
#[command(version)]
pub struct Args {
    /// Spec files, or directories of `*.yaml` spec files.
    #[arg(
        env = "TELEMETRY_CHECK_SPECS",
        value_delimiter = ',',
        default_value = "/etc/telemetry-check"
    )]
    pub specs: Vec<PathBuf>,
    /// Only run specs of this app (also OBI's service name).
    #[arg(long, env = "TELEMETRY_CHECK_APP")]
    pub app: Option<String>,
    /// Namespace of the release: fills `${namespace}` in queries, scopes the zero-code check.
    #[arg(long, env = "TELEMETRY_CHECK_NAMESPACE")]
    pub namespace: Option<String>,
    /// Prometheus-compatible base URL (Prometheus, Mimir, Thanos, VictoriaMetrics).
    #[arg(long, env = "TELEMETRY_CHECK_PROMETHEUS_URL")]
    pub prometheus_url: Option<String>,
    /// Which trace backend answers at the traces URL.
    #[arg(long, env = "TELEMETRY_CHECK_TRACES_BACKEND", value_enum, default_value_t = TracesBackend::Tempo)]
    pub traces_backend: TracesBackend,
    /// Trace query base URL (Tempo's HTTP API, or Jaeger's query service).
    #[arg(long, env = "TELEMETRY_CHECK_TRACES_URL")]
    pub traces_url: Option<String>,
    /// The app's URL; shown in the report, not contacted (load comes from k6).
    #[arg(long, env = "TELEMETRY_CHECK_TARGET_URL")]
    pub target_url: Option<String>,
    /// How long to poll before failing (the whole run's deadline).
    #[arg(long, env = "TELEMETRY_CHECK_TIMEOUT", default_value = "5m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Pause between two attempts of an expectation.
    #[arg(long, env = "TELEMETRY_CHECK_INTERVAL", default_value = "5s", value_parser = humantime::parse_duration)]
    pub interval: Duration,
    /// Longest wait for one backend answer.
    #[arg(long, env = "TELEMETRY_CHECK_REQUEST_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,
    /// Fault scenarios to check as well (comma-separated); specs of other faults are
    /// left out, and expectations they invalidate (`unless_faults`) are skipped.
    #[arg(long, env = "TELEMETRY_CHECK_FAULTS", value_delimiter = ',')]
    pub faults: Vec<String>,
    /// The chart's fault settings as JSON (its `faults` values), for `${faults.*}` in specs.
    #[arg(long, env = "TELEMETRY_CHECK_FAULT_SETTINGS")]
    pub fault_settings: Option<String>,
    /// OBI's metric export interval (`otel_metrics_export.interval`): every range
    /// window of a spec must span four of them. OBI's default, 60s, unless known.
    #[arg(long, env = "TELEMETRY_CHECK_EXPORT_INTERVAL", default_value = "60s", value_parser = humantime::parse_duration)]
    pub export_interval: Duration,
    /// Label selector of the release's pods for the zero-code check
    /// (default `app.kubernetes.io/name=<app>`).
    #[arg(long, env = "TELEMETRY_CHECK_POD_SELECTOR")]
    pub pod_selector: Option<String>,
    /// `auto` runs the zero-code check inside a pod and reports it skipped outside; `off` never runs it.
    #[arg(long, env = "TELEMETRY_CHECK_ZERO_CODE", value_enum, default_value_t = ZeroCode::Auto)]
    pub zero_code: ZeroCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TracesBackend {
    Tempo,
    Jaeger,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ZeroCode {
    Auto,
    Off,
}

/// A command line that cannot run, with the message to print.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl Args {
    /// The specs this run covers: the app's (when given), without fault specs
    /// except the selected faults.
    pub fn load_specs(&self) -> Result<Vec<Spec>, UsageError> {
        let all = spec::load_all(&self.specs, &self.load_options()?)
            .map_err(|err| UsageError(err.to_string()))?;
        let faults = self.active_faults();
        let faults: Vec<&str> = faults.iter().map(String::as_str).collect();
        let chosen: Vec<Spec> = all
            .into_iter()
            .filter(|spec| self.app.as_ref().is_none_or(|app| &spec.app == app))
            .filter(|spec| {
                spec.fault
                    .as_deref()
                    .is_none_or(|fault| faults.contains(&fault))
            })
            .collect();
        if chosen.is_empty() {
            return Err(UsageError(format!(
                "no spec{} in {}",
                self.app
                    .as_ref()
                    .map(|app| format!(" for app {app:?}"))
                    .unwrap_or_default(),
                self.specs
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for fault in &faults {
            if !chosen
                .iter()
                .any(|spec| spec.fault.as_deref() == Some(fault))
            {
                return Err(UsageError(format!(
                    "fault {fault:?} has no spec file (<app>-{fault}.yaml)"
                )));
            }
        }
        if let Some(spec) = chosen.iter().find(|spec| !spec.unresolved.is_empty()) {
            return Err(UsageError(format!(
                "{}: {} needs the chart's fault settings (TELEMETRY_CHECK_FAULT_SETTINGS)",
                spec.file.display(),
                spec.unresolved.join(", ")
            )));
        }
        Ok(chosen)
    }

    /// The faults named on the command line, trimmed, without empty entries.
    pub fn active_faults(&self) -> Vec<String> {
        self.faults
            .iter()
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect()
    }

    /// How specs are loaded: the lint's export interval and the fault settings.
    pub fn load_options(&self) -> Result<LoadOptions, UsageError> {
        if self.export_interval.is_zero() {
            return Err(UsageError("--export-interval must be above zero".into()));
        }
        let fault_settings = match self
            .fault_settings
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
        {
            None => None,
            Some(text) => Some(serde_json::from_str(text).map_err(|err| {
                UsageError(format!(
                    "--fault-settings (TELEMETRY_CHECK_FAULT_SETTINGS) is not JSON: {err}"
                ))
            })?),
        };
        Ok(LoadOptions {
            export_interval: self.export_interval,
            fault_settings,
        })
    }

    /// The run configuration these arguments describe.
    pub fn config(&self) -> Result<Config, UsageError> {
        let http = backend::client(self.request_timeout);
        let url = |text: &Option<String>, what: &str| -> Result<Option<String>, UsageError> {
            match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                None => Ok(None),
                Some(text) => reqwest::Url::parse(text)
                    .map(|_| Some(text.to_owned()))
                    .map_err(|err| UsageError(format!("{what} {text:?} is not a URL: {err}"))),
            }
        };
        let prometheus = url(&self.prometheus_url, "--prometheus-url")?
            .map(|base| Prometheus::new(http.clone(), base));
        let traces = url(&self.traces_url, "--traces-url")?.map(|base| match self.traces_backend {
            TracesBackend::Jaeger => Traces::Jaeger(Jaeger::new(http.clone(), base)),
            TracesBackend::Tempo => Traces::Tempo(Tempo::new(http.clone(), base)),
        });
        if self.interval.is_zero() {
            return Err(UsageError("--interval must be above zero".into()));
        }
        let pod_selector = self
            .pod_selector
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                self.app
                    .as_ref()
                    .map(|app| format!("app.kubernetes.io/name={app}"))
            })
            .unwrap_or_else(|| "app.kubernetes.io/part-of=obi-examples".into());
        Ok(Config {
            prometheus,
            traces,
            timeout: self.timeout,
            interval: self.interval,
            namespace: self.namespace.clone().filter(|n| !n.trim().is_empty()),
            active_faults: self.active_faults(),
            zero_code: match self.zero_code {
                ZeroCode::Off => ZeroCodeMode::Off,
                ZeroCode::Auto => ZeroCodeMode::Auto {
                    service_account_dir: PathBuf::from(crate::kube::SERVICE_ACCOUNT_DIR),
                    pod_selector,
                },
            },
        })
    }
}

/// Parses the command line, runs, prints the report; returns the exit code.
pub async fn main(args: Args) -> u8 {
    let prepared = args
        .load_specs()
        .and_then(|specs| Ok((specs, args.config()?)));
    let (specs, config) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("telemetry-check: {err}");
            return EXIT_USAGE;
        }
    };
    println!("{}", header(&args, &specs));
    let report: Report = run::run(&config, &specs).await;
    print!("{}", report.render());
    report.exit_code()
}

fn header(args: &Args, specs: &[Spec]) -> String {
    let files: Vec<String> = specs
        .iter()
        .map(|s| {
            s.file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    format!(
        "telemetry-check {}: {} expectations from {}; prometheus {}, {} {}, target {}, deadline {}",
        env!("CARGO_PKG_VERSION"),
        specs.iter().map(|s| s.expectations.len()).sum::<usize>(),
        files.join(", "),
        args.prometheus_url.as_deref().unwrap_or("(none)"),
        match args.traces_backend {
            TracesBackend::Tempo => "tempo",
            TracesBackend::Jaeger => "jaeger",
        },
        args.traces_url.as_deref().unwrap_or("(none)"),
        args.target_url.as_deref().unwrap_or("(none)"),
        humantime::format_duration(args.timeout)
    )
}
