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
        /// The answer's body, shortened: where the app said it stored the write.
        receipt: String,
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

/// What `/readyz` said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// 2xx, every check up: route traffic here.
    Ready,
    /// 2xx with `"status": "degraded"`: an optional dependency is down and the app
    /// serves with reduced function (redis-cache reads through to its origin).
    Degraded,
    /// 503.
    NotReady,
    /// No answer within the prober's timeout, or another status.
    NoAnswer,
}

/// What one `/readyz` probe saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// Seconds since the scenario began when the probe was sent.
    pub sent: f64,
    /// Seconds since the scenario began when its answer came (or it gave up).
    pub answered: f64,
    /// What it said.
    pub readiness: Readiness,
}

/// Probes sent within this long after the kill or before the restart are not
/// judged: the kill may not have reached the app's connections yet, and a check
/// may last until the restarted service answers it.
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
    /// `/readyz` answers of "degraded" while the service was down.
    pub readyz_degraded: usize,
    /// `/readyz` answers of "ready" while the service was down (probes sent from
    /// [`READY_GRACE`] after the kill to [`READY_GRACE`] before the restart).
    pub ready_while_down: usize,
    /// The ids of the writes lost beyond the promise.
    pub lost_ids: Vec<String>,
    /// Why the scenario fails; empty when it holds.
    pub failures: Vec<String>,
}

/// What readiness must say while the backing service is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Honesty {
    /// Nothing: the app itself was killed, nothing answers.
    NotJudged,
    /// 503: the service is required (PostgreSQL, Kafka).
    NotReady,
    /// "degraded" or 503: the service is optional (redis-cache serves reads from its
    /// origin without Redis); never "ready".
    Degraded,
}

/// What to check beyond losses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checks {
    /// What the store may lose.
    pub promise: Promise,
    /// What readiness must say while the backing service is down.
    pub honesty: Honesty,
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
    let mut lost_after_restart: Vec<String> = Vec::new();
    for write in writes {
        match &write.outcome {
            Outcome::Acked { id, .. } => {
                tally.acknowledged += 1;
                // Answers that come between the kill and the restart were decided
                // before the kill; recovery counts from the restart on.
                if write.answered >= timeline.restarting {
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
        // Judged by when the probe was sent: the check runs then, and may take
        // seconds to give up on a dead service (a pool's acquire timeout).
        let down = probe.sent >= timeline.killed + READY_GRACE
            && probe.sent < timeline.restarting - READY_GRACE;
        match probe.readiness {
            _ if !down => {}
            Readiness::NotReady => tally.readyz_503 += 1,
            Readiness::Degraded => tally.readyz_degraded += 1,
            Readiness::Ready => tally.ready_while_down += 1,
            Readiness::NoAnswer => {}
        }
    }

    let failures = &mut tally.failures;
    if !lost_after_restart.is_empty() {
        failures.push(format!(
            "{} acknowledged writes lost beyond the promise (e.g. {})",
            lost_after_restart.len(),
            lost_after_restart[..lost_after_restart.len().min(5)].join(", ")
        ));
    }
    tally.lost_ids = lost_after_restart;
    if tally.unprocessed > 0 {
        failures.push(format!(
            "{} acknowledged writes were never processed",
            tally.unprocessed
        ));
    }
    match tally.recovery {
        None => failures.push("no write was acknowledged after the restart".to_owned()),
        Some(seconds) if seconds > RECOVERY_LIMIT => failures.push(format!(
            "the first write after the return took {seconds:.1}s (limit {RECOVERY_LIMIT:.0}s)"
        )),
        Some(_) => {}
    }
    let (dishonest, signals) = match checks.honesty {
        Honesty::NotJudged => (0, 1),
        Honesty::NotReady => (
            tally.ready_while_down + tally.readyz_degraded,
            tally.readyz_503,
        ),
        Honesty::Degraded => (
            tally.ready_while_down,
            tally.readyz_503 + tally.readyz_degraded,
        ),
    };
    if dishonest > 0 {
        failures.push(format!(
            "/readyz answered 200 {dishonest} times while the service was down"
        ));
    }
    if signals == 0 {
        failures.push(format!(
            "/readyz never said {} while the service was down",
            match checks.honesty {
                Honesty::Degraded => "degraded or 503",
                _ => "503",
            }
        ));
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
        honesty: Honesty::NotReady,
    };

    fn probe(sent: f64, readiness: Readiness) -> Probe {
        Probe {
            sent,
            answered: sent + 0.1,
            readiness,
        }
    }

    fn acked(answered: f64, id: &str) -> Write {
        Write {
            answered,
            outcome: Outcome::Acked {
                id: id.to_owned(),
                receipt: String::new(),
            },
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
            probe(9.0, Readiness::Ready),
            probe(10.5, Readiness::Ready),
            // Sent while down, answered two seconds later (a pool's acquire timeout).
            Probe {
                sent: 11.5,
                answered: 13.5,
                readiness: Readiness::NotReady,
            },
            probe(12.6, Readiness::NoAnswer),
            // Sent just before the restart: not judged.
            probe(13.5, Readiness::Ready),
            probe(16.0, Readiness::Ready),
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
            honesty: Honesty::Degraded,
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
        // An answer after the kill but before the restart was decided before the kill.
        writes.push(acked(10.2, "e"));
        let all = stored(&["a", "b", "e"]);
        let never = tally(&writes, &probes, TIMELINE, &all, None, EVERYTHING);
        assert_eq!(never.recovery, None);
        assert!(never.failures[0].contains("no write was acknowledged"));
    }

    #[test]
    fn readiness_that_stays_ready_while_down_fails_the_run() {
        let (writes, mut probes) = healthy();
        probes[2].readiness = Readiness::Ready;
        probes[2].answered += 2.0;
        let all = stored(&["a", "b", "c", "d"]);
        let tally = tally(&writes, &probes, TIMELINE, &all, None, EVERYTHING);
        assert_eq!((tally.ready_while_down, tally.readyz_503), (1, 0));
        assert_eq!(tally.failures.len(), 2, "{:?}", tally.failures);
        assert!(tally.failures[0].contains("answered 200 1 times"));
        // When the app itself is killed, nothing answers: readiness is not judged.
        let app_killed = Checks {
            honesty: Honesty::NotJudged,
            ..EVERYTHING
        };
        let tally = super::tally(&writes, &probes, TIMELINE, &all, None, app_killed);
        assert!(tally.failures.is_empty(), "{:?}", tally.failures);
    }

    #[test]
    fn degraded_is_honest_only_for_an_optional_service() {
        let (writes, mut probes) = healthy();
        probes[2].readiness = Readiness::Degraded;
        let all = stored(&["a", "b", "c", "d"]);
        let required = tally(&writes, &probes, TIMELINE, &all, None, EVERYTHING);
        assert_eq!(required.readyz_degraded, 1);
        assert_eq!(required.failures.len(), 2, "{:?}", required.failures);
        let optional = Checks {
            honesty: Honesty::Degraded,
            ..EVERYTHING
        };
        let optional = tally(&writes, &probes, TIMELINE, &all, None, optional);
        assert!(optional.failures.is_empty(), "{:?}", optional.failures);
    }
}
