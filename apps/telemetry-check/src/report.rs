//! The report: one line per expectation (verdict, observed value, query), a
//! summary line, and the process exit code.

use std::fmt::Write as _;
use std::time::Duration;

/// Exit code when every expectation passed.
pub const EXIT_PASS: u8 = 0;
/// Exit code when an expectation failed.
pub const EXIT_FAIL: u8 = 1;
/// Exit code for a bad command line or spec file.
pub const EXIT_USAGE: u8 = 2;
/// Exit code when a backend could not be reached (wins over failures: the
/// failures would mean nothing).
pub const EXIT_UNREACHABLE: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
    Unreachable,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
            Verdict::Unreachable => "UNREACHABLE",
        }
    }
}

/// The result of one expectation.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Which spec: `app` or `app/fault` (or `cluster` for built-in checks).
    pub spec: String,
    pub name: String,
    pub verdict: Verdict,
    /// What was observed, against what was expected.
    pub observed: String,
    /// The query that observed it.
    pub query: String,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
    /// One line per backend that never answered.
    pub unreachable: Vec<String>,
    pub elapsed: Duration,
    pub timeout: Duration,
}

impl Report {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.verdict == verdict)
            .count()
    }

    pub fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.name == name)
    }

    pub fn exit_code(&self) -> u8 {
        if !self.unreachable.is_empty() || self.count(Verdict::Unreachable) > 0 {
            EXIT_UNREACHABLE
        } else if self.count(Verdict::Fail) > 0 {
            EXIT_FAIL
        } else {
            EXIT_PASS
        }
    }

    /// The whole report as printed.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for o in &self.outcomes {
            let _ = writeln!(
                out,
                "{:<11} [{}] {}: {} | {}",
                o.verdict.label(),
                o.spec,
                o.name,
                o.observed,
                o.query
            );
        }
        for line in &self.unreachable {
            let _ = writeln!(out, "UNREACHABLE {line}");
        }
        let _ = writeln!(
            out,
            "summary: {} passed, {} failed, {} skipped, {} unreachable in {:.1}s (deadline {}) -> exit {}",
            self.count(Verdict::Pass),
            self.count(Verdict::Fail),
            self.count(Verdict::Skip),
            self.count(Verdict::Unreachable),
            self.elapsed.as_secs_f64(),
            humantime::format_duration(self.timeout),
            self.exit_code()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(verdict: Verdict) -> Outcome {
        Outcome {
            spec: "app".into(),
            name: "n".into(),
            verdict,
            observed: "observed 1, expected > 0".into(),
            query: "up".into(),
        }
    }

    fn report(verdicts: &[Verdict], unreachable: &[&str]) -> Report {
        Report {
            outcomes: verdicts.iter().map(|v| outcome(*v)).collect(),
            unreachable: unreachable.iter().map(|s| s.to_string()).collect(),
            elapsed: Duration::from_millis(1500),
            timeout: Duration::from_secs(300),
        }
    }

    #[test]
    fn exit_codes_rank_unreachable_over_failure_over_pass() {
        assert_eq!(
            report(&[Verdict::Pass, Verdict::Skip], &[]).exit_code(),
            EXIT_PASS
        );
        assert_eq!(
            report(&[Verdict::Pass, Verdict::Fail], &[]).exit_code(),
            EXIT_FAIL
        );
        assert_eq!(
            report(&[Verdict::Fail], &["cannot reach x"]).exit_code(),
            EXIT_UNREACHABLE
        );
        assert_eq!(
            report(&[Verdict::Unreachable], &[]).exit_code(),
            EXIT_UNREACHABLE
        );
    }

    #[test]
    fn every_outcome_gets_a_line_and_a_summary_follows() {
        let text = report(&[Verdict::Pass, Verdict::Fail], &[]).render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("PASS        [app] n: observed 1, expected > 0 | up"));
        assert!(lines[1].starts_with("FAIL"));
        assert_eq!(
            lines[2],
            "summary: 1 passed, 1 failed, 0 skipped, 0 unreachable in 1.5s (deadline 5m) -> exit 1"
        );
    }
}
