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
mod tests;
