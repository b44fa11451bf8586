//! The ledger's accounting, with the mutations that must fail a run.

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
