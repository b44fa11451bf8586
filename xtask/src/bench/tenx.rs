//! `cargo xtask bench tenx [app...]`: "10× load without degradation", per app.
//!
//! Method, for each app alone with its backing services: its hot request
//! ([`super::targets`]) under the bench's light client (`openload`), first closed
//! (`--clients` callers as fast as answered), then the open model's saturation: the
//! highest rate it sustains, bisected below the closed one ([`open_saturation`]).
//! Then open at a base rate R and at 10 R, where R is chosen so that 10 R is
//! [`HEADROOM`] of the open saturation. Open-model latencies count from each
//! request's due time, so queueing anywhere (client, kernel, app, database) shows.
//! It passes when p99 at 10 R is at most twice p99 at R and no request failed. The
//! CPU the app and the machine used during the 10 R run says what saturates first
//! when it does not pass.
//!
//! Why the open saturation: a closed client waits for each answer, an open one keeps
//! its schedule and holds every request that waits, on the same two cores as the
//! app; a rate the open model cannot sustain would put 10 R past its knee. (On
//! 2026-12-03 it sustained the closed saturation for four apps of five.)

use anyhow::{Context, Result, bail};

use super::openload::{self, Drive, Outcome, Target};
use super::{cpu, report, targets};
use crate::apps::App;
use crate::process::{AppProcess, Profile};
use crate::{paths, services};

/// 10 R as a share of the measured saturation.
pub const HEADROOM: f64 = 0.70;
/// p99 at 10 R may be at most this many times p99 at R.
pub const MAX_P99_GROWTH: f64 = 2.0;
/// Callers of the open-model runs: enough that a caller is rarely still waiting for
/// its previous answer when its next request is due.
const OPEN_CALLERS: u32 = 64;
/// The open model sustains a rate when at least this share of it is answered, and
/// nothing failed.
const SUSTAINED: f64 = 0.97;
/// Runs of the open saturation's bisection (the last one within 1/2^PROBES of the
/// closed saturation), each [`PROBE_SECONDS`] long.
const PROBES: u32 = 6;
const PROBE_SECONDS: u64 = 5;

/// `--duration`, `--clients`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Options {
    seconds: u64,
    clients: u32,
}

/// What one app did.
struct Verdict {
    app: &'static str,
    target: String,
    saturation: Outcome,
    /// The highest rate the open model sustained.
    open_saturation: f64,
    rate: f64,
    base: Outcome,
    tenfold: Outcome,
    /// Share of one core the app used during the 10 R run.
    app_cpu: f64,
    /// Share of the machine (all cores) busy during the 10 R run.
    machine_busy: f64,
    peak_rss_kib: u64,
}

impl Verdict {
    fn passed(&self) -> bool {
        passes(&self.base, &self.tenfold)
    }
}

/// The pass rule: no error at either rate, p99 at 10 R ≤ [`MAX_P99_GROWTH`] × p99 at R.
fn passes(base: &Outcome, tenfold: &Outcome) -> bool {
    base.errors == 0 && tenfold.errors == 0 && tenfold.p99_ms <= MAX_P99_GROWTH * base.p99_ms
}

/// The highest rate the open model sustains (answered ≥ [`SUSTAINED`] of it, no
/// error), by bisection between 0 and `closed` with `probe` running the open model at
/// a rate: `closed` itself when it holds, else the highest rate that held.
fn open_saturation(closed: f64, mut probe: impl FnMut(f64) -> Result<Outcome>) -> Result<f64> {
    let sustains =
        |outcome: &Outcome, rate: f64| outcome.errors == 0 && outcome.rate >= SUSTAINED * rate;
    if sustains(&probe(closed)?, closed) {
        return Ok(closed);
    }
    let (mut held, mut failed) = (0.0, closed);
    for _ in 0..PROBES {
        let rate = ((held + failed) / 2.0).floor();
        if sustains(&probe(rate)?, rate) {
            held = rate;
        } else {
            failed = rate;
        }
    }
    Ok(held)
}

/// R for a saturation: 10 R = [`HEADROOM`] of it, whole requests per second.
fn base_rate(saturation: f64) -> f64 {
    (saturation * HEADROOM / 10.0).floor().max(1.0)
}

/// Parses the arguments and runs every named app (all with a hot request by default).
pub fn run(args: &[&str]) -> Result<()> {
    let (names, options) = parse_args(args)?;
    let apps: Vec<&'static App> = if names.is_empty() {
        crate::apps::existing()
            .into_iter()
            .filter(|app| app.calls.is_empty())
            .collect()
    } else {
        names.iter().map(|n| App::named(n)).collect::<Result<_>>()?
    };
    services::up()?;
    crate::process::build_release(&apps)?;
    let load = report::load_average();
    let mut verdicts = Vec::new();
    for app in apps {
        eprintln!("tenx: {}", app.name);
        match measure(app, &options)? {
            Some(verdict) => verdicts.push(verdict),
            None => eprintln!("tenx: {} has no single hot request; skipped", app.name),
        }
    }
    let text = render(&verdicts, &options, &load);
    eprintln!("{text}");
    report::append_report(&text)
}

fn measure(app: &'static App, options: &Options) -> Result<Option<Verdict>> {
    let dir = paths::target().join("bench");
    let mut process =
        AppProcess::start_configured(app, Profile::Release, &dir, super::app_settings(app))?;
    let outcome = (|| {
        let Some(target) = targets::hot(app)? else {
            return Ok(None);
        };
        measure_target(app, &target, options, process.pid()).map(Some)
    })();
    process.stop();
    outcome
}

fn measure_target(
    app: &'static App,
    target: &Target,
    options: &Options,
    pid: u32,
) -> Result<Verdict> {
    let closed = |seconds| Drive {
        concurrency: options.clients,
        rate: None,
        seconds,
    };
    eprintln!(
        "tenx: warm-up, then saturation with {} callers",
        options.clients
    );
    openload::run(target, &closed(5))?;
    let saturation = openload::run(target, &closed(options.seconds))?;
    if saturation.errors > 0 {
        bail!(
            "{}: {} of {} requests failed at saturation ({}): fix that first",
            app.name,
            saturation.errors,
            saturation.requests,
            saturation.error_kinds
        );
    }
    let open_for = |rate, seconds| Drive {
        concurrency: OPEN_CALLERS,
        rate: Some(rate),
        seconds,
    };
    let open_saturation = open_saturation(saturation.rate, |rate| {
        eprintln!("tenx: does the open model sustain {rate:.0}/s?");
        openload::run(target, &open_for(rate, PROBE_SECONDS))
    })?;
    if open_saturation < 10.0 {
        bail!(
            "{}: the open model sustained no rate up to {:.0}/s: see the probes above",
            app.name,
            saturation.rate
        );
    }
    let rate = base_rate(open_saturation);
    let open = |rate| open_for(rate, options.seconds);
    eprintln!("tenx: R = {rate}/s");
    let base = openload::run(target, &open(rate))?;
    eprintln!("tenx: 10 R = {}/s", 10.0 * rate);
    let before = (cpu::Usage::now()?, cpu::process_seconds(pid));
    let tenfold = openload::run(target, &open(10.0 * rate))?;
    let after = (cpu::Usage::now()?, cpu::process_seconds(pid));
    let machine = after.0.machine_total - before.0.machine_total;
    let cores = std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64);
    Ok(Verdict {
        app: app.name,
        target: target.name.clone(),
        saturation,
        open_saturation,
        rate,
        base,
        tenfold,
        app_cpu: cpu::share(after.1 - before.1, machine / cores),
        machine_busy: cpu::share(after.0.machine_busy - before.0.machine_busy, machine),
        peak_rss_kib: super::peak_rss_kib(pid).unwrap_or(0),
    })
}

fn render(verdicts: &[Verdict], options: &Options, load: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### 10× without degradation — {} ({}s per run; closed saturation: {} callers; \
         open saturation, R and 10 R: open model, {OPEN_CALLERS} callers, latency from the due \
         time)\n",
        report::today(),
        options.seconds,
        options.clients,
    );
    let _ = writeln!(
        out,
        "| app | request | closed saturation req/s | open saturation req/s | R req/s | p99 at R ms | 10 R req/s | p99 at 10 R ms \
         | errors R / 10 R | app CPU at 10 R | machine busy | verdict |"
    );
    let _ = writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for v in verdicts {
        let errors = |o: &Outcome| {
            if o.errors == 0 {
                "0".to_owned()
            } else {
                format!("{} ({})", o.errors, o.error_kinds)
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.0} | {:.2} | {} / {} | {:.0} % of a core | {:.0} % | {} |",
            v.app,
            v.target,
            v.saturation.rate,
            v.open_saturation,
            v.rate,
            v.base.p99_ms,
            v.tenfold.rate,
            v.tenfold.p99_ms,
            errors(&v.base),
            errors(&v.tenfold),
            v.app_cpu,
            v.machine_busy,
            if v.passed() {
                format!("pass ({:.1}×)", v.tenfold.p99_ms / v.base.p99_ms)
            } else {
                format!("FAIL ({:.1}×)", v.tenfold.p99_ms / v.base.p99_ms)
            },
        );
    }
    let peak: Vec<String> = verdicts
        .iter()
        .map(|v| format!("{} {:.1} MiB", v.app, v.peak_rss_kib as f64 / 1024.0))
        .collect();
    let _ = writeln!(
        out,
        "\nRule: 10 R = {:.0} % of the open saturation (the highest rate the open model \
         sustained: ≥ {:.0} % of it answered, no error; bisected below the closed saturation \
         in runs of {PROBE_SECONDS}s); pass when p99 at 10 R ≤ {MAX_P99_GROWTH}× p99 at R and \
         no request failed. Peak RSS: {}.",
        HEADROOM * 100.0,
        SUSTAINED * 100.0,
        peak.join(", ")
    );
    let _ = writeln!(
        out,
        "Machine: {}; load average before: {}. Reproduce: `cargo xtask bench tenx`.",
        report::machine(),
        load
    );
    out
}

fn parse_args<'a>(args: &[&'a str]) -> Result<(Vec<&'a str>, Options)> {
    let mut options = Options {
        seconds: 20,
        clients: 16,
    };
    let mut names = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "--duration" => {
                let text = rest.next().context("--duration needs a value")?;
                options.seconds = text
                    .trim_end_matches('s')
                    .parse()
                    .with_context(|| format!("--duration takes seconds like 20s, not `{text}`"))?;
            }
            "--clients" => {
                options.clients = rest
                    .next()
                    .context("--clients needs a value")?
                    .parse()
                    .context("--clients takes a whole number")?;
            }
            flag if flag.starts_with('-') => bail!("unknown option `{flag}`"),
            name => names.push(name),
        }
    }
    if options.seconds == 0 || options.clients == 0 {
        bail!("--duration and --clients must be positive");
    }
    Ok((names, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(p99_ms: f64, errors: u64) -> Outcome {
        Outcome {
            rate: 1000.0,
            requests: 1000,
            errors,
            error_kinds: String::new(),
            p50_ms: p99_ms / 2.0,
            p99_ms,
            max_ms: p99_ms * 2.0,
        }
    }

    /// A server that answers up to `capacity` requests per second, and `errors` at
    /// any rate above `failing_from`; records the rates it was probed at.
    fn probe_of(
        capacity: f64,
        failing_from: f64,
        probed: &mut Vec<f64>,
    ) -> impl FnMut(f64) -> Result<Outcome> + '_ {
        move |rate| {
            probed.push(rate);
            Ok(Outcome {
                rate: rate.min(capacity),
                errors: u64::from(rate > failing_from),
                ..outcome(1.0, 0)
            })
        }
    }

    #[test]
    fn the_open_saturation_is_the_highest_rate_that_held_within_the_bisections_step() {
        let mut probed = Vec::new();
        let found =
            open_saturation(10_000.0, probe_of(7_000.0, f64::INFINITY, &mut probed)).unwrap();
        // Answering 97 % of 7,000 / 0.97 = 7,216 req/s still holds; the bisection's
        // last step is 10,000 / 64 = 156 req/s.
        assert!(found <= 7_000.0 / SUSTAINED, "{found}");
        assert!(found > 7_000.0 / SUSTAINED - 10_000.0 / 64.0, "{found}");
        assert_eq!(probed.len(), 1 + PROBES as usize, "{probed:?}");
        assert_eq!(probed[0], 10_000.0);
    }

    #[test]
    fn the_closed_saturation_counts_when_the_open_model_sustains_it() {
        let mut probed = Vec::new();
        let found =
            open_saturation(5_000.0, probe_of(9_000.0, f64::INFINITY, &mut probed)).unwrap();
        assert_eq!((found, probed.len()), (5_000.0, 1));
    }

    #[test]
    fn a_rate_with_errors_is_not_sustained() {
        // Capacity to spare, but errors from 3,000 req/s on.
        let mut probed = Vec::new();
        let found = open_saturation(10_000.0, probe_of(20_000.0, 3_000.0, &mut probed)).unwrap();
        assert!(
            found <= 3_000.0 && found > 3_000.0 - 10_000.0 / 64.0,
            "{found}"
        );
    }

    #[test]
    fn ten_r_is_seventy_percent_of_saturation() {
        assert_eq!(base_rate(20_000.0), 1400.0);
        assert_eq!(base_rate(10.0), 1.0);
    }

    #[test]
    fn a_p99_that_more_than_doubles_or_any_error_fails() {
        assert!(passes(&outcome(1.0, 0), &outcome(2.0, 0)));
        assert!(!passes(&outcome(1.0, 0), &outcome(2.01, 0)));
        assert!(!passes(&outcome(1.0, 0), &outcome(1.0, 1)));
        assert!(!passes(&outcome(1.0, 1), &outcome(1.0, 0)));
    }

    #[test]
    fn apps_and_options_are_parsed() {
        let (names, options) =
            parse_args(&["sql-application", "--duration", "30s", "--clients", "8"]).unwrap();
        assert_eq!(names, ["sql-application"]);
        assert_eq!(
            options,
            Options {
                seconds: 30,
                clients: 8
            }
        );
        assert!(parse_args(&["--rate", "5"]).is_err());
        assert!(parse_args(&["--duration", "0s"]).is_err());
    }

    #[test]
    fn the_report_names_the_figures_and_the_verdict() {
        let verdict = Verdict {
            app: "sql-application",
            target: "GET /api/v1/orders/{id}".into(),
            saturation: outcome(5.0, 0),
            open_saturation: 800.0,
            rate: 56.0,
            base: outcome(1.0, 0),
            tenfold: outcome(3.0, 0),
            app_cpu: 55.0,
            machine_busy: 80.0,
            peak_rss_kib: 20480,
        };
        let text = render(
            &[verdict],
            &Options {
                seconds: 20,
                clients: 16,
            },
            "0.50 0.40 0.30",
        );
        assert!(text.contains("| sql-application | GET /api/v1/orders/{id} | 1000 | 800 | 56 | 1.00 | 1000 | 3.00 | 0 / 0 | 55 % of a core | 80 % | FAIL (3.0×) |"), "{text}");
        assert!(text.contains("sql-application 20.0 MiB"), "{text}");
    }
}
