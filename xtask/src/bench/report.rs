//! The Markdown report of a bench run: a table of medians per subject next to the
//! baseline, the peak RSS and the machine, appended to `docs/performance.md`.

use std::fmt::Write as _;

use anyhow::{Context, Result};

use super::{Plan, Rounds, Settings, median};
use crate::paths;

pub fn render(plan: &Plan, settings: &Settings, rounds: &[Rounds], peak_rss_kib: u64) -> String {
    let baseline = rounds
        .last()
        .map(|r| median(r.samples.iter().map(|s| s.rate)));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### {} — {} ({} rounds of {}s, {} clients, median)\n",
        plan.app.name,
        today(),
        settings.runs,
        settings.duration.as_secs(),
        settings.vus
    );
    let _ = writeln!(out, "| subject | ops/s | p50 ms | p99 ms | vs baseline |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for result in rounds {
        let rate = median(result.samples.iter().map(|s| s.rate));
        let ratio = baseline
            .filter(|b| *b > 0.0)
            .map_or("—".to_owned(), |b| format!("{:.0} %", 100.0 * rate / b));
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} | {:.2} | {} |",
            result.name,
            rate,
            median(result.samples.iter().map(|s| s.p50_ms)),
            median(result.samples.iter().map(|s| s.p99_ms)),
            ratio
        );
    }
    render_comparisons(&mut out, rounds);
    let _ = writeln!(
        out,
        "\nPeak RSS of {}: {:.1} MiB. Target: {}.",
        plan.app.name,
        peak_rss_kib as f64 / 1024.0,
        plan.target
    );
    let _ = writeln!(
        out,
        "Machine: {}. Reproduce: `cargo xtask bench {}`.",
        machine(),
        plan.app.name
    );
    out
}

/// The subjects compared with another one (`Measure::versus`): the median over
/// rounds of each round's ratio, so that both sides of a ratio saw the same machine.
fn render_comparisons(out: &mut String, rounds: &[Rounds]) {
    let pairs: Vec<(&Rounds, &Rounds)> = rounds
        .iter()
        .filter_map(|r| {
            let other = r.versus.as_deref()?;
            rounds.iter().find(|o| o.name == other).map(|o| (r, o))
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n| comparison (same rounds) | req/s ratio | p99 ratio | server CPU per request |\n\
         |---|---:|---:|---:|"
    );
    for (subject, other) in pairs {
        let per_round = |f: fn(&super::Sample) -> f64| {
            median(
                subject
                    .samples
                    .iter()
                    .zip(&other.samples)
                    .map(|(a, b)| f(a) / f(b)),
            )
        };
        let _ = writeln!(
            out,
            "| {} / {} | {:.2}× | {:.2}× | {} |",
            subject.name,
            other.name,
            per_round(|s| s.rate),
            per_round(|s| s.p99_ms),
            cpu_comparison(subject, other)
        );
    }
}

/// How many times less CPU the subject's server used per request than the other's
/// (the median over rounds), with the medians in µs; `—` unless every round of both
/// knows its server's CPU. On two shared cores the rate ratio also measures how much
/// CPU each server's client left it; this one does not.
fn cpu_comparison(subject: &Rounds, other: &Rounds) -> String {
    let cpu = |rounds: &Rounds| -> Option<Vec<f64>> {
        rounds.samples.iter().map(|s| s.server_cpu_us).collect()
    };
    let (Some(ours), Some(theirs)) = (cpu(subject), cpu(other)) else {
        return "—".into();
    };
    if ours.is_empty() || ours.len() != theirs.len() {
        return "—".into();
    }
    let ratio = median(ours.iter().zip(&theirs).map(|(a, b)| b / a));
    format!(
        "{ratio:.2}× less ({:.1} vs {:.1} µs)",
        median(ours.iter().copied()),
        median(theirs.iter().copied())
    )
}

/// Appends the report to `docs/performance.md`, or to the file `BENCH_REPORT` names
/// (a trial run that should not touch the docs).
pub fn append_report(report: &str) -> Result<()> {
    use std::io::Write;
    let path = std::env::var_os("BENCH_REPORT").map_or_else(
        || paths::root().join("docs").join("performance.md"),
        std::path::PathBuf::from,
    );
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all(report.as_bytes())?;
    eprintln!("bench: appended to {}", path.display());
    Ok(())
}

pub(super) fn today() -> String {
    crate::cmd::output(crate::cmd::new("date").arg("+%Y-%m-%d"))
        .map_or_else(|_| "today".into(), |d| d.trim().to_owned())
}

pub(super) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{cores} cores, {cpu}")
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` has them: how busy the
/// shared machine was around a measurement.
pub(super) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use anyhow::Result;

    use super::super::{Measure, Sample, measure_plan};
    use super::*;
    use crate::apps::App;

    /// A subject compared with another, as the http-rest-api plan compares the app
    /// with its Go peer: rates per round from `rates`.
    struct Paired {
        name: &'static str,
        versus: Option<&'static str>,
        rates: std::cell::RefCell<Vec<f64>>,
    }
    impl Measure for Paired {
        fn name(&self) -> String {
            self.name.into()
        }
        fn measure(&self, _: &Settings) -> Result<Sample> {
            Ok(Sample {
                rate: self.rates.borrow_mut().remove(0),
                p50_ms: 1.0,
                p99_ms: 2.0,
                server_cpu_us: None,
            })
        }
        fn versus(&self) -> Option<String> {
            self.versus.map(str::to_owned)
        }
    }

    #[test]
    fn a_comparison_is_the_median_of_the_ratios_of_the_same_rounds() {
        let paired = |name, versus, rates: &[f64]| -> Box<dyn Measure> {
            Box::new(Paired {
                name,
                versus,
                rates: std::cell::RefCell::new(rates.to_vec()),
            })
        };
        // The first rate is the warm-up's. Round by round: 2.0, 1.5, 1.6 -> 1.60
        // (the ratio of the medians would be 2.0).
        let plan = Plan {
            app: App::named("http-rest-api").unwrap(),
            workloads: vec![
                paired("app mix", Some("peer mix"), &[1.0, 200.0, 300.0, 160.0][..]),
                paired("peer mix", None, &[1.0, 100.0, 200.0, 100.0][..]),
                // A name that is not in the plan compares with nothing.
                paired("app get", Some("nobody"), &[1.0, 1.0, 1.0, 1.0][..]),
            ],
            baseline: paired("hello", None, &[1.0, 1000.0, 1000.0, 1000.0][..]),
            target: "",
        };
        let settings = Settings {
            runs: 3,
            duration: Duration::from_secs(1),
            vus: 1,
            warmup: Duration::ZERO,
        };
        let report = measure_plan(&plan, &settings, std::process::id()).unwrap();
        assert!(
            report.contains("| app mix / peer mix | 1.60× | 1.00× | — |"),
            "{report}"
        );
        assert!(!report.contains("nobody"), "{report}");
    }

    #[test]
    fn the_cpu_comparison_is_the_median_of_the_rounds_ratios_and_needs_every_round() {
        let rounds = |name: &str, cpu: &[Option<f64>]| Rounds {
            name: name.into(),
            samples: cpu
                .iter()
                .map(|&server_cpu_us| Sample {
                    rate: 1.0,
                    p50_ms: 1.0,
                    p99_ms: 1.0,
                    server_cpu_us,
                })
                .collect(),
            versus: None,
        };
        // Round by round the peer used 1.5, 1.2 and 2.0 times our CPU: 1.50×.
        let ours = rounds("ours", &[Some(20.0), Some(25.0), Some(10.0)]);
        let peer = rounds("peer", &[Some(30.0), Some(30.0), Some(20.0)]);
        assert_eq!(cpu_comparison(&ours, &peer), "1.50× less (20.0 vs 30.0 µs)");
        let unknown = rounds("peer", &[Some(30.0), None, Some(20.0)]);
        assert_eq!(cpu_comparison(&ours, &unknown), "—");
    }
}
