//! `cargo xtask bench all`: every app at once on this machine, release builds, with
//! their backing services, in two phases of `--duration` each.
//!
//! 1. **Realistic mixes**: each app under its chart's k6 script (the full mix: reads,
//!    writes, expected errors, a few faults) with the library's `bench` profile
//!    (`--vus` clients per app, as fast as answered). Per app: requests/s (gRPC:
//!    iterations/s), p99, failed requests, failed checks, thresholds; combined req/s.
//!    What correctness under shared load looks like.
//! 2. **Light client**: each app's hot request ([`super::targets`]) under `openload`
//!    at once, closed model: the throughput figure, measured with a client lighter
//!    than the servers.
//!
//! Each phase says where the CPU went (apps, load generators, PostgreSQL, Redis,
//! Kafka, the rest of the machine), so a figure limited by its client says so.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::cpu::{Shares, Watch};
use super::openload::{self, Drive, Outcome, Target};
use super::{report, targets};
use crate::apps::{self, App, Protocol};
use crate::process::{AppProcess, Profile};
use crate::{k6, paths, services};

/// The target for the combined figure.
const TARGET_RATE: f64 = 10_000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Options {
    seconds: u64,
    /// k6 clients per app.
    vus: u32,
    /// openload callers per app.
    clients: u32,
}

/// One app's k6 run, as its summary tells it.
#[derive(Debug, Clone, PartialEq)]
struct MixResult {
    app: &'static str,
    rate: f64,
    p99_ms: f64,
    failed: u64,
    failed_checks: u64,
    thresholds_ok: bool,
}

/// Parses `bench all [--duration 30s] [--vus 4] [--clients 8]` and runs it.
pub fn run(args: &[&str]) -> Result<()> {
    let options = parse_args(args)?;
    let all = apps::existing();
    if all.is_empty() {
        bail!("no app exists yet under apps/");
    }
    services::up()?;
    crate::process::build_release(&all)?;
    let load = report::load_average();
    let dir = paths::target().join("bench").join("all");
    std::fs::create_dir_all(&dir)?;
    // The apps others call first (checkout's hops), each with its bench settings.
    let mut ordered = all.clone();
    ordered.sort_by_key(|app| !app.calls.is_empty());
    let mut running: Vec<AppProcess> = Vec::new();
    for app in ordered {
        match AppProcess::start_configured(app, Profile::Release, &dir, super::app_settings(app)) {
            Ok(process) => running.push(process),
            Err(err) => {
                running.iter_mut().for_each(AppProcess::stop);
                return Err(err);
            }
        }
    }
    let outcome = measure(&running, &options, &dir);
    let rss: Vec<(u64, u64)> = running
        .iter()
        .map(|p| (super::peak_rss_kib(p.pid()).unwrap_or(0), rss_kib(p.pid())))
        .collect();
    running.iter_mut().for_each(AppProcess::stop);
    let (mixes, mix_cpu, light, light_cpu) = outcome?;
    let text = render(&options, &load, &mixes, mix_cpu, &light, light_cpu, &rss);
    eprintln!("{text}");
    report::append_report(&text)
}

type Light = Vec<(&'static str, Target, Outcome)>;

fn measure(
    running: &[AppProcess],
    options: &Options,
    dir: &Path,
) -> Result<(Vec<MixResult>, Shares, Light, Shares)> {
    let pids: Vec<u32> = running.iter().map(AppProcess::pid).collect();
    eprintln!(
        "bench all: phase 1, every app's k6 mix at once ({} VUs each, {}s)",
        options.vus, options.seconds
    );
    let watch = Watch::start(&pids)?;
    let runs: Vec<_> = running
        .iter()
        .map(|process| {
            let app = process.app;
            let run = k6_run(app, options, dir);
            std::thread::spawn(move || (app, run.execute()))
        })
        .collect();
    let mut mixes = Vec::new();
    for handle in runs {
        let (app, outcome) = handle
            .join()
            .map_err(|_| anyhow::anyhow!("a k6 thread panicked"))?;
        outcome.with_context(|| format!("k6 against {}", app.name))?;
        mixes.push(read_mix(app, &summary_path(app, dir))?);
    }
    let mix_cpu = watch.stop(&pids)?;

    eprintln!(
        "bench all: phase 2, every app's hot request at once under openload ({} callers each)",
        options.clients
    );
    let mut light_targets = Vec::new();
    for process in running {
        if let Some(target) = targets::hot(process.app)? {
            light_targets.push((process.app.name, target));
        }
    }
    let drive = Drive {
        concurrency: options.clients,
        rate: None,
        seconds: options.seconds,
    };
    // Warm (caches, pools) together, briefly, then measure.
    let warm = Drive {
        seconds: 3,
        ..drive
    };
    let children = light_targets
        .iter()
        .map(|(_, target)| openload::spawn(target, &warm))
        .collect::<Result<Vec<_>>>()?;
    for (child, (_, target)) in children.into_iter().zip(&light_targets) {
        openload::finish(child, target)?;
    }
    let watch = Watch::start(&pids)?;
    let children = light_targets
        .iter()
        .map(|(_, target)| openload::spawn(target, &drive))
        .collect::<Result<Vec<_>>>()?;
    let mut light = Vec::new();
    for (child, (name, target)) in children.into_iter().zip(light_targets) {
        let outcome = openload::finish(child, &target)?;
        light.push((name, target, outcome));
    }
    let light_cpu = watch.stop(&pids)?;
    Ok((mixes, mix_cpu, light, light_cpu))
}

fn summary_path(app: &App, dir: &Path) -> PathBuf {
    dir.join(format!("{}-k6.json", app.name))
}

/// The admin token an app runs with under bench (its settings may set their own),
/// which its k6 mix's fault headers carry.
fn admin_token(app: &App) -> &'static str {
    super::app_settings(app)
        .iter()
        .find(|(key, _)| *key == "APP__ADMIN__TOKEN")
        .map_or(crate::process::LOCAL_ADMIN_TOKEN, |(_, value)| value)
}

fn k6_run(app: &'static App, options: &Options, dir: &Path) -> k6::Run {
    k6::Run {
        script: app.k6_script(),
        env: vec![
            ("K6_PROFILE".into(), "bench".into()),
            ("LOAD_VUS".into(), options.vus.to_string()),
            ("LOAD_DURATION".into(), format!("{}s", options.seconds)),
            ("TARGET_URL".into(), app.base_url()),
            ("FAULT_TOKEN".into(), admin_token(app).into()),
        ],
        summary: summary_path(app, dir),
        protocol: app.protocol,
    }
}

fn read_mix(app: &'static App, path: &Path) -> Result<MixResult> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let json: Value = serde_json::from_str(&text)?;
    parse_mix(app, &json).with_context(|| format!("unexpected k6 summary {}", path.display()))
}

fn parse_mix(app: &'static App, json: &Value) -> Result<MixResult> {
    let summary = k6::parse_summary(json, app.protocol)?;
    let metrics = json.get("metrics").context("no `metrics`")?;
    let count = |metric: &str, field: &str| {
        metrics
            .get(metric)
            .and_then(|m| m.get(field))
            .and_then(Value::as_f64)
            .unwrap_or(0.0) as u64
    };
    // In the export a Rate's `passes` are its true values: failed requests, and
    // gRPC calls whose status was not one the mix expected.
    let failed = match app.protocol {
        Protocol::Http => count("http_req_failed", "passes"),
        Protocol::Grpc => count("inventory_unexpected_status", "passes"),
    };
    Ok(MixResult {
        app: app.name,
        rate: summary.rate,
        p99_ms: summary.p99_ms,
        failed,
        failed_checks: count("checks", "fails"),
        thresholds_ok: summary.thresholds_ok,
    })
}

/// The resident set size now (`VmRSS`), in KiB; 0 when gone.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn shares_line(what: &str, shares: Shares) -> String {
    format!(
        "CPU during {what} (% of the machine's cores): apps {:.0} %, load generators {:.0} %, \
         PostgreSQL {:.0} %, Redis {:.0} %, Kafka {:.0} %, machine busy {:.0} % \
         (the rest: other processes of the machine).",
        shares.apps, shares.clients, shares.postgres, shares.redis, shares.kafka, shares.busy
    )
}

fn render(
    options: &Options,
    load: &str,
    mixes: &[MixResult],
    mix_cpu: Shares,
    light: &Light,
    light_cpu: Shares,
    rss: &[(u64, u64)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### All apps at once — {} ({}s per phase)\n",
        report::today(),
        options.seconds
    );
    let _ = writeln!(
        out,
        "Realistic mixes: each app's chart k6 script, full mix, `bench` profile, {} VUs per app, \
         all six at once.\n",
        options.vus
    );
    let _ = writeln!(
        out,
        "| app | req/s | p99 ms | failed requests | failed checks | thresholds |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---|");
    for mix in mixes {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} | {} | {} | {} |",
            mix.app,
            mix.rate,
            mix.p99_ms,
            mix.failed,
            mix.failed_checks,
            if mix.thresholds_ok { "ok" } else { "CROSSED" }
        );
    }
    let combined: f64 = mixes.iter().map(|m| m.rate).sum();
    let failed: u64 = mixes.iter().map(|m| m.failed).sum();
    let _ = writeln!(
        out,
        "| **combined** | **{combined:.0}** | | **{failed}** | | |\n\n{}\n",
        shares_line("the mixes", mix_cpu)
    );
    let _ = writeln!(
        out,
        "Light client: each app's hot request under `openload` (closed model, {} callers per \
         app), all at once (checkout has no single hot request: its journeys are in the mixes).\n",
        options.clients
    );
    let _ = writeln!(out, "| app | request | req/s | p99 ms | errors |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|");
    for (app, target, outcome) in light {
        let _ = writeln!(
            out,
            "| {app} | {} | {:.0} | {:.2} | {} |",
            target.name,
            outcome.rate,
            outcome.p99_ms,
            if outcome.errors == 0 {
                "0".to_owned()
            } else {
                format!("{} ({})", outcome.errors, outcome.error_kinds)
            }
        );
    }
    let light_rate: f64 = light.iter().map(|(_, _, o)| o.rate).sum();
    let light_errors: u64 = light.iter().map(|(_, _, o)| o.errors).sum();
    let _ = writeln!(
        out,
        "| **combined** | | **{light_rate:.0}** | | **{light_errors}** |\n\n{}\n",
        shares_line("the light-client phase", light_cpu)
    );
    let peak: u64 = rss.iter().map(|(peak, _)| peak).sum();
    let now: u64 = rss.iter().map(|(_, now)| now).sum();
    let verdict = |rate: f64, errors: u64| {
        if rate >= TARGET_RATE && errors == 0 {
            "met"
        } else {
            "NOT met"
        }
    };
    let _ = writeln!(
        out,
        "Total RSS of the {} apps: {:.1} MiB at the end ({:.1} MiB sum of peaks). \
         Target ≥ {TARGET_RATE:.0} req/s combined with 0 errors: {} with the mixes \
         (k6), {} with the light client.",
        rss.len(),
        now as f64 / 1024.0,
        peak as f64 / 1024.0,
        verdict(combined, failed),
        verdict(light_rate, light_errors),
    );
    let _ = writeln!(
        out,
        "Machine: {}; load average before: {load}. Reproduce: `cargo xtask bench all`.",
        report::machine()
    );
    out
}

fn parse_args(args: &[&str]) -> Result<Options> {
    let mut options = Options {
        seconds: 30,
        vus: 4,
        clients: 8,
    };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let mut value = || rest.next().with_context(|| format!("{flag} needs a value"));
        match *flag {
            "--duration" => {
                let text = value()?;
                options.seconds = text
                    .trim_end_matches('s')
                    .parse()
                    .with_context(|| format!("--duration takes seconds like 30s, not `{text}`"))?;
            }
            "--vus" => options.vus = value()?.parse().context("--vus takes a whole number")?,
            "--clients" => {
                options.clients = value()?.parse().context("--clients takes a whole number")?;
            }
            other => bail!("unknown argument `{other}` (bench all takes no app)"),
        }
    }
    if options.seconds == 0 || options.vus == 0 || options.clients == 0 {
        bail!("--duration, --vus and --clients must be positive");
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_mix_counts_failed_requests_checks_and_thresholds() {
        let http = App::named("sql-application").unwrap();
        let summary = json!({"metrics": {
            "http_reqs": {"count": 3000, "rate": 1000.0},
            "http_req_duration": {"med": 1.0, "p(99)": 9.5},
            "http_req_failed": {"passes": 3, "fails": 2997, "value": 0.001},
            "checks": {"passes": 2990, "fails": 10, "value": 0.99},
            "orders_placed": {"count": 10, "thresholds": {"count>0": false}},
        }});
        let mix = parse_mix(http, &summary).unwrap();
        assert_eq!((mix.rate, mix.p99_ms), (1000.0, 9.5));
        assert_eq!(
            (mix.failed, mix.failed_checks, mix.thresholds_ok),
            (3, 10, true)
        );

        let grpc = App::named("grpc-microservice").unwrap();
        let summary = json!({"metrics": {
            "iterations": {"count": 600, "rate": 200.0},
            "grpc_req_duration": {"med": 1.0, "p(99)": 4.0},
            "inventory_unexpected_status": {"passes": 2, "fails": 598, "value": 0.003,
                                            "thresholds": {"rate<0.05": true}},
        }});
        let mix = parse_mix(grpc, &summary).unwrap();
        assert_eq!((mix.failed, mix.thresholds_ok), (2, false));
    }

    #[test]
    fn kafka_streamings_faults_carry_its_own_bench_token() {
        assert_eq!(admin_token(App::named("kafka-streaming").unwrap()), "bench");
        assert_eq!(
            admin_token(App::named("sql-application").unwrap()),
            crate::process::LOCAL_ADMIN_TOKEN
        );
    }

    #[test]
    fn options_have_defaults_and_an_app_is_refused() {
        assert_eq!(
            parse_args(&[]).unwrap(),
            Options {
                seconds: 30,
                vus: 4,
                clients: 8
            }
        );
        assert_eq!(
            parse_args(&["--duration", "60s", "--vus", "2"])
                .unwrap()
                .seconds,
            60
        );
        assert!(
            parse_args(&["sql-application"])
                .unwrap_err()
                .to_string()
                .contains("takes no app")
        );
    }

    #[test]
    fn the_report_sums_the_apps_and_judges_the_target() {
        let options = Options {
            seconds: 30,
            vus: 4,
            clients: 8,
        };
        let mixes = vec![
            MixResult {
                app: "a",
                rate: 6000.0,
                p99_ms: 5.0,
                failed: 0,
                failed_checks: 0,
                thresholds_ok: true,
            },
            MixResult {
                app: "b",
                rate: 5000.0,
                p99_ms: 7.0,
                failed: 1,
                failed_checks: 1,
                thresholds_ok: true,
            },
        ];
        let text = render(
            &options,
            "1.00 1.00 1.00",
            &mixes,
            Shares::default(),
            &Vec::new(),
            Shares::default(),
            &[(2048, 1024)],
        );
        assert!(
            text.contains("| **combined** | **11000** | | **1** | | |"),
            "{text}"
        );
        assert!(text.contains("NOT met with the mixes"), "{text}");
        assert!(
            text.contains("1.0 MiB at the end (2.0 MiB sum of peaks)"),
            "{text}"
        );
    }
}
