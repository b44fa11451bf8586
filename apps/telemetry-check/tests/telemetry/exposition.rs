//! The fixture's metrics as a history: OpenMetrics text with a sample of every
//! series every 30 s over the last minutes, counters growing at the series' rate,
//! for `promtool tsdb create-blocks-from openmetrics` to turn into a block that
//! Prometheus loads at start. So `rate(...[5m])` sees five minutes of samples, as
//! behind an OBI that pushes periodically, and absolute rates are the fixture's
//! own (a few seconds of scraped samples would make `rate` over five minutes a
//! fraction of them, and upper bounds vacuous).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::fixture::{Series, Telemetry};

/// One sample every 30 s: between OBI's 15 s (values/obi.yaml) and its 60 s
/// default, and few enough that a fixture imports in seconds.
pub const STEP: Duration = Duration::from_secs(30);
/// How far back the history reaches: a [5m] window is full when the checks run.
pub const HISTORY: Duration = Duration::from_secs(6 * 60);

/// OBI's default duration buckets (seconds) and size buckets (bytes).
const SECONDS_BUCKETS: [f64; 15] = [
    0.0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
const BYTES_BUCKETS: [f64; 10] = [
    0.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0,
];

/// The OpenMetrics text of `t`'s series from `end - HISTORY` to `end`.
pub fn openmetrics(t: &Telemetry, end: SystemTime) -> String {
    let end = end
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let steps = HISTORY.as_secs() / STEP.as_secs();
    let times: Vec<u64> = (0..=steps)
        .map(|i| end - (steps - i) * STEP.as_secs())
        .collect();
    // One metric per name and label set: the same series twice (an injected
    // UNAVAILABLE next to normal traffic's own) is one histogram with both parts.
    let mut by_name: BTreeMap<&str, BTreeMap<&BTreeMap<String, String>, Vec<&Series>>> =
        BTreeMap::new();
    for s in &t.series {
        by_name
            .entry(&s.name)
            .or_default()
            .entry(&s.labels)
            .or_default()
            .push(s);
    }
    let mut out = String::new();
    for (name, metrics) in by_name {
        let histogram = metrics
            .values()
            .next()
            .is_some_and(|parts| parts[0].histogram);
        let _ = writeln!(
            out,
            "# TYPE {name} {}",
            if histogram { "histogram" } else { "gauge" }
        );
        for (labels_of, parts) in metrics {
            for (i, time) in times.iter().enumerate() {
                if !histogram {
                    let value: f64 = parts.iter().map(|p| p.per_second).sum();
                    let _ = writeln!(out, "{name}{} {value} {time}", labels(labels_of, None));
                    continue;
                }
                // Counters start at some traffic already served, then grow.
                let elapsed = (i as f64 + 2.0) * STEP.as_secs_f64();
                histogram_point(&mut out, name, labels_of, &parts, elapsed, *time);
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// The buckets, sum and count of one histogram made of `parts`, after `elapsed`
/// seconds of traffic: each part puts 60 % of its observations at half its typical
/// value, 30 % at it and 10 % at three times it.
fn histogram_point(
    out: &mut String,
    name: &str,
    labels_of: &BTreeMap<String, String>,
    parts: &[&Series],
    elapsed: f64,
    time: u64,
) {
    let observations: Vec<(f64, f64)> = parts
        .iter()
        .flat_map(|s| {
            let count = s.per_second * elapsed;
            [
                (0.5 * s.typical, 0.6 * count),
                (s.typical, 0.3 * count),
                (3.0 * s.typical, 0.1 * count),
            ]
        })
        .collect();
    let buckets: &[f64] = if name.ends_with("_bytes") {
        &BYTES_BUCKETS
    } else {
        &SECONDS_BUCKETS
    };
    for le in buckets {
        let below: f64 = observations
            .iter()
            .filter(|(v, _)| v <= le)
            .map(|(_, n)| n)
            .sum();
        let _ = writeln!(
            out,
            "{name}_bucket{} {below} {time}",
            labels(labels_of, Some(&format!("{le:?}")))
        );
    }
    let count: f64 = observations.iter().map(|(_, n)| n).sum();
    let sum: f64 = observations.iter().map(|(v, n)| v * n).sum();
    let _ = writeln!(
        out,
        "{name}_bucket{} {count} {time}",
        labels(labels_of, Some("+Inf"))
    );
    let _ = writeln!(out, "{name}_sum{} {sum} {time}", labels(labels_of, None));
    let _ = writeln!(
        out,
        "{name}_count{} {count} {time}",
        labels(labels_of, None)
    );
}

fn labels(labels: &BTreeMap<String, String>, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    format!("{{{}}}", parts.join(","))
}
