//! The live per-app table of `cargo xtask demo`: one row per app, redrawn in place
//! on a terminal (a progress display, not scrolling k6 output).

use std::fmt::Write;

use super::stream::Stats;

/// What the load of one app is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// k6 runs; the interval's statistics.
    Running(Stats),
    /// k6 is (re)starting or waiting for the app.
    Starting,
    /// k6 stopped and will not be restarted; why.
    Failed(String),
}

/// One row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The app.
    pub app: &'static str,
    /// Its load.
    pub state: State,
    /// Requests since the start.
    pub total: u64,
}

fn header() -> String {
    format!(
        "{:<20} {:>8} {:>9} {:>9} {:>8} {:>10}",
        "app", "req/s", "p50 ms", "p99 ms", "errors", "total"
    )
}

/// The table as text: a header, one line per app, and a footer line.
pub fn render(rows: &[Row], footer: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", header());
    for row in rows {
        let _ = write!(out, "{:<20}", row.app);
        match &row.state {
            State::Running(stats) => {
                let _ = write!(
                    out,
                    " {:>8.1} {:>9} {:>9} {:>8} {:>10}",
                    stats.rate,
                    ms(stats.p50_ms),
                    ms(stats.p99_ms),
                    stats
                        .error_rate
                        .map_or_else(|| "-".to_owned(), |r| format!("{:.2}%", r * 100.0)),
                    row.total
                );
            }
            State::Starting => {
                let _ = write!(
                    out,
                    " {:>8} {:>9} {:>9} {:>8} {:>10}",
                    "starting", "", "", "", row.total
                );
            }
            State::Failed(why) => {
                let _ = write!(out, " k6 stopped: {why}");
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{footer}");
    out
}

fn ms(value: Option<f64>) -> String {
    match value {
        Some(ms) if ms >= 100.0 => format!("{ms:.0}"),
        Some(ms) => format!("{ms:.2}"),
        None => "-".to_owned(),
    }
}

/// What redraws `text` over the `lines` lines printed last: the cursor goes up,
/// each line is cleared before it is written again, and what is left below (a
/// warning that has gone) is cleared too.
pub fn redraw(previous_lines: usize, text: &str) -> String {
    let mut out = String::new();
    if previous_lines > 0 {
        let _ = write!(out, "\x1b[{previous_lines}A");
    }
    for line in text.lines() {
        let _ = writeln!(out, "\x1b[2K{line}");
    }
    out.push_str("\x1b[J");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(rate: f64, p50: f64, p99: f64, errors: f64) -> State {
        State::Running(Stats {
            requests: 100,
            rate,
            p50_ms: Some(p50),
            p99_ms: Some(p99),
            error_rate: Some(errors),
        })
    }

    #[test]
    fn rows_are_aligned_under_the_header() {
        let text = render(
            &[
                Row {
                    app: "http-rest-api",
                    state: running(20.04, 1.234, 150.6, 0.0125),
                    total: 1234,
                },
                Row {
                    app: "grpc-microservice",
                    state: running(19.5, 0.5, 3.0, 0.0),
                    total: 99,
                },
            ],
            "Ctrl-C stops",
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(
            lines[1],
            "http-rest-api            20.0      1.23       151    1.25%       1234"
        );
        for line in &lines[1..3] {
            assert_eq!(line.len(), header().len(), "{line:?} vs the header");
        }
        assert_eq!(lines[3], "Ctrl-C stops");
    }

    #[test]
    fn an_idle_interval_shows_dashes_not_zeros() {
        let text = render(
            &[Row {
                app: "redis-cache",
                state: State::Running(Stats::default()),
                total: 7,
            }],
            "",
        );
        let row = text.lines().nth(1).unwrap();
        assert_eq!(
            row.split_whitespace().collect::<Vec<_>>(),
            ["redis-cache", "0.0", "-", "-", "-", "7"]
        );
    }

    #[test]
    fn starting_and_failed_loads_say_so() {
        let text = render(
            &[
                Row {
                    app: "kafka-streaming",
                    state: State::Starting,
                    total: 0,
                },
                Row {
                    app: "sql-application",
                    state: State::Failed("exit status 107, see target/demo/x.log".into()),
                    total: 3,
                },
            ],
            "",
        );
        assert!(text.contains("kafka-streaming      starting"), "{text}");
        assert!(
            text.contains(
                "sql-application      k6 stopped: exit status 107, see target/demo/x.log"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_redraw_moves_up_over_the_previous_table_and_clears_each_line() {
        assert_eq!(redraw(0, "a\nb\n"), "\x1b[2Ka\n\x1b[2Kb\n\x1b[J");
        // One line fewer than before: the stale one below is cleared.
        assert_eq!(redraw(2, "c\n"), "\x1b[2A\x1b[2Kc\n\x1b[J");
    }
}
