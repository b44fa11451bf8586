//! The one JSON line openload prints: rate, percentiles and failures by kind.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Options, Tally};

/// The `q` quantile of sorted values, in milliseconds (nearest rank).
fn quantile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

fn json_string(text: &str) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if c.is_control() => vec![' '],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

pub fn report(options: &Options, tallies: Vec<Tally>, elapsed: Duration) -> String {
    let mut latencies: Vec<u32> = Vec::new();
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let mut ok = 0;
    for tally in tallies {
        latencies.extend(tally.latencies_us);
        ok += tally.ok;
        for (why, n) in tally.outcomes {
            *outcomes.entry(why).or_default() += n;
        }
    }
    latencies.sort_unstable();
    let requests = latencies.len() as u64;
    let errors: Vec<String> = outcomes
        .iter()
        .map(|(why, n)| format!("{}: {n}", json_string(why)))
        .collect();
    format!(
        "{{\"model\": \"{}\", \"intended_rate\": {}, \"requests\": {requests}, \"ok\": {ok}, \
         \"errors\": {}, \"error_kinds\": {{{}}}, \"seconds\": {:.3}, \"rate\": {:.1}, \
         \"p50_ms\": {:.3}, \"p90_ms\": {:.3}, \"p99_ms\": {:.3}, \"max_ms\": {:.3}}}",
        if options.rate > 0.0 { "open" } else { "closed" },
        options.rate,
        requests - ok,
        errors.join(", "),
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        quantile_ms(&latencies, 0.50),
        quantile_ms(&latencies, 0.90),
        quantile_ms(&latencies, 0.99),
        quantile_ms(&latencies, 1.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;
    use crate::tests::args;

    #[test]
    fn the_report_counts_errors_by_kind_and_reads_percentiles() {
        let options = parse(&args("--url http://h:1 --paths / --rate 100")).unwrap();
        let failed = Tally {
            latencies_us: vec![5000],
            outcomes: BTreeMap::from([("grpc 14".to_owned(), 1)]),
            ok: 0,
        };
        let good = Tally {
            latencies_us: (1..=99).map(|ms| ms * 1000).collect(),
            ok: 99,
            ..Tally::default()
        };
        let text = report(&options, vec![good, failed], Duration::from_secs(1));
        assert!(text.contains("\"model\": \"open\""), "{text}");
        assert!(
            text.contains("\"requests\": 100, \"ok\": 99, \"errors\": 1"),
            "{text}"
        );
        assert!(text.contains("\"error_kinds\": {\"grpc 14\": 1}"), "{text}");
        assert!(text.contains("\"p99_ms\": 98.000"), "{text}");
        assert!(text.contains("\"max_ms\": 99.000"), "{text}");
    }
}
