//! The accounting of one chaos scenario, apart from the processes that produce it and
//! tested without them: which writes the API acknowledged, which of those the store
//! holds (and how often), what readiness said while the service was down, and from
//! that the verdict — losses the promise does not allow, duplicates, recovery time,
//! 503s — and the reasons the run fails.

use std::collections::HashMap;

/// How one write of the load ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: the API acknowledged the write; `id` names it in the store.
    Acked {
        /// The write's id in the store (order id, session token, event id).
        id: String,
    },
    /// 503: refused cleanly while a dependency was down.
    Unavailable,
    /// Any other status: a refusal the outage should not cause.
    Refused(u16),
    /// No answer (connection refused or reset, timeout): in doubt, never counted lost.
    NoAnswer,
}

/// One write: when it was answered (seconds since the scenario began) and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// Seconds since the scenario began when the answer (or the failure) came.
    pub answered: f64,
    /// How it ended.
    pub outcome: Outcome,
}

/// When the fault happened, in seconds since the scenario began.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeline {
    /// The SIGKILL.
    pub killed: f64,
    /// The restart was started (the end of the outage proper).
    pub restarting: f64,
    /// The restarted process served again (its own readiness check passed).
    pub back: f64,
}

/// What the store is allowed to lose in this scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promise {
    /// Every acknowledged write survives (PostgreSQL with `synchronous_commit`, Kafka
    /// with `acks=all`, Redis's append-only file against a killed process, and any
    /// store when only the app is killed).
    Everything,
    /// Nothing acknowledged before the restart survives it (Redis without
    /// persistence, the chart's default); everything acknowledged after it does.
    SinceRestart,
}

/// What one `/readyz` probe saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// Seconds since the scenario began.
    pub at: f64,
    /// The status, or `None` when the app did not answer.
    pub status: Option<u16>,
}

/// How long after the kill readiness may still say ready: the probe in flight and
/// the app's first failing call to its dependency.
pub const READY_GRACE: f64 = 1.0;
/// The longest allowed time from the service's return to the first acknowledged write.
pub const RECOVERY_LIMIT: f64 = 10.0;

/// What the store holds after the run: copies per write id.
pub type Stored = HashMap<String, usize>;

/// The figures of one scenario and the reasons it fails.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tally {
    /// Writes the API acknowledged.
    pub acknowledged: usize,
    /// Acknowledged writes missing from the store.
    pub lost: usize,
    /// Of those, the ones the promise allows to be lost.
    pub lost_allowed: usize,
    /// Extra copies of acknowledged writes (in the store, and in the results when
    /// there are results).
    pub duplicated: usize,
    /// Acknowledged and stored writes without a result (Kafka's processing).
    pub unprocessed: usize,
    /// Seconds from the service's return to the first acknowledged write after the
    /// kill; `None` when none came.
    pub recovery: Option<f64>,
    /// Writes refused with 503.
    pub unavailable: usize,
    /// Writes refused with another status.
    pub refused: usize,
    /// Writes without an answer (in doubt).
    pub no_answer: usize,
    /// `/readyz` answers of 503 while the service was down.
    pub readyz_503: usize,
    /// `/readyz` answers of 2xx while the service was down (after [`READY_GRACE`]).
    pub ready_while_down: usize,
    /// Why the scenario fails; empty when it holds.
    pub failures: Vec<String>,
}

/// What to check beyond losses: results (Kafka) and readiness (a backing service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checks {
    /// What the store may lose.
    pub promise: Promise,
    /// Whether readiness must say 503 while the backing service is down (false when
    /// the app itself is killed: nothing answers then).
    pub honest_readiness: bool,
}

/// Accounts one scenario: `stored` is what the store holds, `results` what the
/// processing produced (when the app has a processing step).
pub fn tally(
    writes: &[Write],
    probes: &[Probe],
    timeline: Timeline,
    stored: &Stored,
    results: Option<&Stored>,
    checks: Checks,
) -> Tally {
    let mut tally = Tally::default();
    let mut first_after_kill: Option<f64> = None;
    let mut lost_after_restart = Vec::new();
    for write in writes {
        match &write.outcome {
            Outcome::Acked { id } => {
                tally.acknowledged += 1;
                if write.answered >= timeline.killed {
                    first_after_kill =
                        Some(first_after_kill.map_or(write.answered, |t| t.min(write.answered)));
                }
                match stored.get(id).copied().unwrap_or(0) {
                    0 => {
                        tally.lost += 1;
                        let allowed = checks.promise == Promise::SinceRestart
                            && write.answered < timeline.back;
                        if allowed {
                            tally.lost_allowed += 1;
                        } else {
                            lost_after_restart.push(id.clone());
                        }
                        continue;
                    }
                    copies => tally.duplicated += copies - 1,
                }
                if let Some(results) = results {
                    match results.get(id).copied().unwrap_or(0) {
                        0 => tally.unprocessed += 1,
                        copies => tally.duplicated += copies - 1,
                    }
                }
            }
            Outcome::Unavailable => tally.unavailable += 1,
            Outcome::Refused(_) => tally.refused += 1,
            Outcome::NoAnswer => tally.no_answer += 1,
        }
    }
    tally.recovery = first_after_kill.map(|t| (t - timeline.back).max(0.0));
    for probe in probes {
        let down = probe.at >= timeline.killed + READY_GRACE && probe.at < timeline.restarting;
        match probe.status {
            Some(503) if down => tally.readyz_503 += 1,
            Some(status) if down && (200..300).contains(&status) => tally.ready_while_down += 1,
            _ => {}
        }
    }

    let failures = &mut tally.failures;
    if !lost_after_restart.is_empty() {
        lost_after_restart.truncate(5);
        failures.push(format!(
            "{} acknowledged writes lost beyond the promise (e.g. {})",
            tally.lost - tally.lost_allowed,
            lost_after_restart.join(", ")
        ));
    }
    if tally.unprocessed > 0 {
        failures.push(format!(
            "{} acknowledged writes were never processed",
            tally.unprocessed
        ));
    }
    match tally.recovery {
        None => failures.push("no write was acknowledged after the kill".to_owned()),
        Some(seconds) if seconds > RECOVERY_LIMIT => failures.push(format!(
            "the first write after the return took {seconds:.1}s (limit {RECOVERY_LIMIT:.0}s)"
        )),
        Some(_) => {}
    }
    if checks.honest_readiness {
        if tally.ready_while_down > 0 {
            failures.push(format!(
                "/readyz said ready {} times while the service was down",
                tally.ready_while_down
            ));
        }
        if tally.readyz_503 == 0 {
            failures.push("/readyz never answered 503 while the service was down".to_owned());
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMELINE: Timeline = Timeline {
        killed: 10.0,
        restarting: 14.0,
        back: 15.0,
    };
    const EVERYTHING: Checks = Checks {
        promise: Promise::Everything,
        honest_readiness: true,
    };

    fn acked(answered: f64, id: &str) -> Write {
        Write {
            answered,
            outcome: Outcome::Acked { id: id.to_owned() },
        }
    }

    fn stored(ids: &[&str]) -> Stored {
        let mut stored = Stored::new();
        for id in ids {
            *stored.entry((*id).to_owned()).or_default() += 1;
        }
        stored
    }

    /// A run that holds: writes before the kill, 503s while down, writes again
    /// 0.5 s after the return, readiness 503 while down.
    fn healthy() -> (Vec<Write>, Vec<Probe>) {
        let writes = vec![
            acked(1.0, "a"),
            acked(9.0, "b"),
            Write {
                answered: 11.0,
                outcome: Outcome::Unavailable,
            },
            Write {
                answered: 12.0,
                outcome: Outcome::NoAnswer,
            },
            acked(15.5, "c"),
            acked(16.0, "d"),
        ];
        let probes = vec![
            Probe {
                at: 9.0,
                status: Some(200),
            },
            Probe {
                at: 10.5,
                status: Some(200),
            },
            Probe {
                at: 12.0,
                status: Some(503),
            },
            Probe {
                at: 16.0,
                status: Some(200),
            },
        ];
        (writes, probes)
    }

    #[test]
    fn a_run_where_everything_acknowledged_is_stored_holds() {
        let (writes, probes) = healthy();
        let tally = tally(
            &writes,
            &probes,
            TIMELINE,
            &stored(&["a", "b", "c", "d", "unacknowledged"]),
            None,
            EVERYTHING,
        );
        assert_eq!(tally.failures, Vec::<String>::new());
        assert_eq!(
            (tally.acknowledged, tally.lost, tally.duplicated),
            (4, 0, 0)
        );
        assert_eq!(
            (tally.unavailable, tally.no_answer, tally.refused),
            (1, 1, 0)
        );
        assert_eq!(tally.readyz_503, 1);
        assert_eq!(tally.recovery, Some(0.5));
    }

    #[test]
    fn a_lost_acknowledged_write_is_counted_and_fails_the_run() {
        let (writes, probes) = healthy();
        let tally = tally(
            &writes,
            &probes,
            TIMELINE,
            &stored(&["a", "c", "d"]),
            None,
            EVERYTHING,
        );
        assert_eq!(tally.lost, 1);
        assert_eq!(tally.failures.len(), 1, "{:?}", tally.failures);
        assert!(tally.failures[0].contains("1 acknowledged writes lost"));
        assert!(tally.failures[0].contains("e.g. b"));
    }

    #[test]
    fn without_persistence_only_writes_since_the_restart_must_survive() {
        let (writes, probes) = healthy();
        let checks = Checks {
            promise: Promise::SinceRestart,
            honest_readiness: true,
        };
        let emptied = tally(
            &writes,
            &probes,
            TIMELINE,
            &stored(&["c", "d"]),
            None,
            checks,
        );
        assert_eq!((emptied.lost, emptied.lost_allowed), (2, 2));
        assert!(emptied.failures.is_empty(), "{:?}", emptied.failures);
        // A write acknowledged after the return must be kept, even here.
        let later = tally(&writes, &probes, TIMELINE, &stored(&["c"]), None, checks);
        assert_eq!((later.lost, later.lost_allowed), (3, 2));
        assert!(later.failures[0].contains("e.g. d"), "{:?}", later.failures);
    }

    #[test]
    fn duplicates_are_counted_in_the_store_and_the_results_without_failing() {
        let (writes, probes) = healthy();
        let results = stored(&["a", "b", "b", "c", "d", "d", "d"]);
        let tally = tally(
            &writes,
            &probes,
            TIMELINE,
            &stored(&["a", "a", "b", "c", "d"]),
            Some(&results),
            EVERYTHING,
        );
        assert_eq!(tally.duplicated, 1 + 1 + 2);
        assert!(tally.failures.is_empty(), "{:?}", tally.failures);
    }

    #[test]
    fn a_stored_but_unprocessed_write_fails_the_run() {
        let (writes, probes) = healthy();
        let tally = tally(
            &writes,
            &probes,
            TIMELINE,
            &stored(&["a", "b", "c", "d"]),
            Some(&stored(&["a", "b", "c"])),
            EVERYTHING,
        );
        assert_eq!(tally.unprocessed, 1);
        assert!(tally.failures[0].contains("never processed"));
    }

    #[test]
    fn a_slow_recovery_or_none_at_all_fails_the_run() {
        let (mut writes, probes) = healthy();
        for write in &mut writes {
            if write.answered > 15.0 {
                write.answered += 10.0;
            }
        }
        let all = stored(&["a", "b", "c", "d"]);
        let slow = tally(&writes, &probes, TIMELINE, &all, None, EVERYTHING);
        assert_eq!(slow.recovery, Some(10.5));
        assert!(
            slow.failures[0].contains("took 10.5s"),
            "{:?}",
            slow.failures
        );
        writes.truncate(4);
        let never = tally(&writes, &probes, TIMELINE, &all, None, EVERYTHING);
        assert_eq!(never.recovery, None);
        assert!(never.failures[0].contains("no write was acknowledged"));
    }

    #[test]
    fn readiness_that_stays_ready_while_down_fails_the_run() {
        let (writes, mut probes) = healthy();
        probes[2].status = Some(200);
        let all = stored(&["a", "b", "c", "d"]);
        let tally = tally(&writes, &probes, TIMELINE, &all, None, EVERYTHING);
        assert_eq!((tally.ready_while_down, tally.readyz_503), (1, 0));
        assert_eq!(tally.failures.len(), 2, "{:?}", tally.failures);
        // When the app itself is killed, nothing answers: readiness is not judged.
        let app_killed = Checks {
            honest_readiness: false,
            ..EVERYTHING
        };
        let tally = super::tally(&writes, &probes, TIMELINE, &all, None, app_killed);
        assert!(tally.failures.is_empty(), "{:?}", tally.failures);
    }
}
