//! `cargo xtask chaos`: crash and restart under a recorded write load, then proof
//! that what the API acknowledged is stored (docs/chaos.md).
//!
//! For each of sql-application, redis-cache and kafka-streaming: its backing service
//! (private, durable as the chart ships it: [`stores`]) is SIGKILLed under load and
//! restarted, then the app itself is. Every acknowledged write is looked up in the
//! store afterwards; [`ledger`] counts losses against what the persistence mode
//! promises, duplicates, 503s, readiness while down, and the seconds from the
//! service's return to the app's first acknowledged write. Any loss beyond the
//! promise, dishonest readiness or a recovery over 10 s fails the run.

mod ledger;
mod load;
mod stores;
mod targets;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::apps::App;
use crate::process::{self, AppProcess, Profile};
use crate::services::Service;
use crate::services::redis::Persistence;
use ledger::{Checks, Honesty, Promise, RECOVERY_LIMIT, Tally, Timeline};
use load::{Load, WriteFn};
use targets::Kind;

/// Load before the kill.
const WARMUP: Duration = Duration::from_secs(4);
/// How long the killed process stays down.
const OUTAGE: Duration = Duration::from_secs(4);
/// Load after the first acknowledgement that follows the return.
const TAIL: Duration = Duration::from_secs(2);
/// How long kafka-streaming's worker may take to process the backlog after the load.
const PROCESSING_LIMIT: Duration = Duration::from_secs(90);

/// Runs the scenarios of the apps named (all three when none is), prints the table,
/// writes it to `target/chaos/results.md`, and fails when a scenario failed.
pub fn run(names: &[&str]) -> Result<()> {
    let started = Instant::now();
    let kinds = Kind::selected(names)?;
    stores::reset()?;
    let apps: Vec<&App> = kinds
        .iter()
        .map(|kind| App::named(kind.app_name()))
        .collect::<Result<_>>()?;
    process::build(&apps, Profile::Debug)?;
    let run = format!("{}", std::process::id());
    let mut rows = Vec::new();
    for kind in kinds {
        play(kind, &run, &mut rows).with_context(|| format!("chaos of {}", kind.app_name()))?;
    }
    let table = render(&rows);
    println!("\n{table}");
    let results = stores::dir().join("results.md");
    std::fs::write(&results, &table)?;
    println!(
        "chaos: {} scenarios in {:.0}s; table in {}",
        rows.len(),
        started.elapsed().as_secs_f64(),
        results.display()
    );
    let failed: Vec<String> = rows
        .iter()
        .flat_map(|(name, tally)| tally.failures.iter().map(move |f| format!("{name}: {f}")))
        .collect();
    if !failed.is_empty() {
        bail!("chaos failed:\n  {}", failed.join("\n  "));
    }
    Ok(())
}

/// What a scenario kills.
enum Victim<'a> {
    /// The backing service.
    Service(&'a dyn Service),
    /// The app process.
    App,
}

/// One app's scenarios, each appended to `rows` as (name, tally).
fn play(kind: Kind, run: &str, rows: &mut Vec<(String, Tally)>) -> Result<()> {
    let backing: Box<dyn Service> = match kind {
        Kind::Sql => Box::new(stores::postgres()),
        Kind::Redis => Box::new(stores::redis(Persistence::None)),
        Kind::Kafka => Box::new(stores::kafka()),
    };
    let backing = Running::start(backing)?;
    let mut app = RunningApp::start(kind)?;
    let write = kind.writer(app.app, run)?;
    // redis-cache serves reads from its origin without Redis: it reports itself
    // degraded, not unready (docs/redis-cache.md).
    let honesty = match kind {
        Kind::Redis => Honesty::Degraded,
        Kind::Sql | Kind::Kafka => Honesty::NotReady,
    };
    let everything = Checks {
        promise: Promise::Everything,
        honesty,
    };
    let app_killed = Checks {
        promise: Promise::Everything,
        honesty: Honesty::NotJudged,
    };
    let mut scenario = Scenario {
        kind,
        app: &mut app,
        write,
        persistence: Persistence::None,
        first: rows.len() as u64 * 1_000_000,
    };
    let service = backing.service.name();
    let (name, checks) = match kind {
        Kind::Redis => (
            format!("{service} SIGKILL (chart default: no persistence)"),
            Checks {
                promise: Promise::SinceRestart,
                ..everything
            },
        ),
        Kind::Sql | Kind::Kafka => (format!("{service} SIGKILL"), everything),
    };
    let tally = scenario.play(&name, Victim::Service(&*backing.service), checks)?;
    rows.push((name, tally));

    scenario.first = rows.len() as u64 * 1_000_000;
    let name = format!("{} SIGKILL", kind.app_name());
    let tally = scenario.play(&name, Victim::App, app_killed)?;
    rows.push((name, tally));

    if kind == Kind::Redis {
        // The chart's other mode: persistence enabled, the append-only file.
        // Stopped before the next one starts: they share a directory and pid file.
        drop(backing);
        let backing = Running::start(Box::new(stores::redis(Persistence::AppendOnly)))?;
        scenario.app.wait_ready(Duration::from_secs(10))?;
        scenario.persistence = Persistence::AppendOnly;
        scenario.first = rows.len() as u64 * 1_000_000;
        let name = format!("{service} SIGKILL (persistence.enabled: AOF everysec)");
        let tally = scenario.play(&name, Victim::Service(&*backing.service), everything)?;
        rows.push((name, tally));
    }
    Ok(())
}

/// What the scenarios of one app share.
struct Scenario<'a> {
    kind: Kind,
    app: &'a mut RunningApp,
    write: Arc<WriteFn>,
    persistence: Persistence,
    /// Where this scenario's write numbers start.
    first: u64,
}

impl Scenario<'_> {
    /// Load, kill, restart, load until the app writes again, then account.
    fn play(&mut self, name: &str, victim: Victim<'_>, checks: Checks) -> Result<Tally> {
        let epoch = Instant::now();
        let since = |epoch: Instant| epoch.elapsed().as_secs_f64();
        let readyz = format!("{}/readyz", self.app.app.base_url());
        let load = Load::start(Arc::clone(&self.write), readyz, epoch, self.first);
        std::thread::sleep(WARMUP);
        let killed = since(epoch);
        let outcome = (|| -> Result<Timeline> {
            match victim {
                Victim::Service(service) => stores::kill(service)?,
                Victim::App => self.app.kill()?,
            }
            std::thread::sleep(OUTAGE);
            let restarting = since(epoch);
            match victim {
                Victim::Service(service) => stores::start(service)?,
                Victim::App => self.app.restart()?,
            }
            Ok(Timeline {
                killed,
                restarting,
                back: since(epoch),
            })
        })();
        let timeline = match outcome {
            Ok(timeline) => timeline,
            Err(err) => {
                load.finish();
                return Err(err);
            }
        };
        let deadline = Instant::now() + Duration::from_secs_f64(RECOVERY_LIMIT + 2.0);
        while Instant::now() < deadline && load.last_ack().is_none_or(|t| t < timeline.back) {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(TAIL);
        let (writes, probes) = load.finish();
        let (stored, results) = self.read_back(&writes)?;
        let tally = ledger::tally(
            &writes,
            &probes,
            timeline,
            &stored,
            results.as_ref(),
            checks,
        );
        trace(name, &timeline, &probes, &writes, &tally.lost_ids)?;
        eprintln!(
            "chaos: {} acknowledged, {} lost, recovery {}{}",
            tally.acknowledged,
            tally.lost,
            seconds(tally.recovery),
            tally
                .failures
                .iter()
                .map(|failure| format!("\n  FAILED: {failure}"))
                .collect::<String>()
        );
        Ok(tally)
    }

    /// The store's contents; for kafka-streaming, once the worker has caught up with
    /// every acknowledged event it holds (or [`PROCESSING_LIMIT`] passed).
    fn read_back(
        &self,
        writes: &[ledger::Write],
    ) -> Result<(ledger::Stored, Option<ledger::Stored>)> {
        let deadline = Instant::now() + PROCESSING_LIMIT;
        loop {
            let (stored, results) = self.kind.read_back(self.persistence)?;
            let Some(done) = &results else {
                return Ok((stored, results));
            };
            let waiting = writes
                .iter()
                .filter_map(|write| match &write.outcome {
                    ledger::Outcome::Acked { id, .. } => Some(id),
                    _ => None,
                })
                .filter(|id| stored.contains_key(*id) && !done.contains_key(*id))
                .count();
            if waiting == 0 || Instant::now() > deadline {
                return Ok((stored, results));
            }
            eprintln!("chaos: {waiting} acknowledged events not processed yet");
            std::thread::sleep(Duration::from_secs(2));
        }
    }
}

/// A chaos service, stopped when dropped.
struct Running {
    service: Box<dyn Service>,
}

impl Running {
    fn start(service: Box<dyn Service>) -> Result<Self> {
        stores::start(&*service)?;
        Ok(Self { service })
    }

    fn stop(&mut self) -> Result<()> {
        stores::stop(&*self.service)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Err(err) = self.stop() {
            eprintln!("chaos: {err:#}");
        }
    }
}

/// An app under chaos, stopped (drained) when dropped.
struct RunningApp {
    kind: Kind,
    app: &'static App,
    process: AppProcess,
    restarts: u32,
}

impl RunningApp {
    fn start(kind: Kind) -> Result<Self> {
        let app = kind.app()?;
        let process = Self::spawn(kind, app)?;
        Ok(Self {
            kind,
            app,
            process,
            restarts: 0,
        })
    }

    fn spawn(kind: Kind, app: &'static App) -> Result<AppProcess> {
        let settings = kind.settings();
        let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
        AppProcess::start_configured(app, Profile::Debug, &stores::app_logs(), &env)
    }

    /// SIGKILL, then reaped.
    fn kill(&mut self) -> Result<()> {
        crate::services::process::signal(i64::from(self.process.pid()), "KILL")?;
        self.process.stop();
        Ok(())
    }

    /// A new process, its predecessor's log kept beside.
    fn restart(&mut self) -> Result<()> {
        self.restarts += 1;
        let log = stores::app_logs().join(format!("{}.log", self.app.name));
        let kept = log.with_extension(format!("killed-{}.log", self.restarts));
        std::fs::rename(&log, &kept).with_context(|| format!("cannot keep {}", log.display()))?;
        self.process = Self::spawn(self.kind, self.app)?;
        Ok(())
    }

    fn wait_ready(&self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        let url = format!("{}/readyz", self.app.base_url());
        while !crate::http::ok(&url, Duration::from_secs(1)) {
            if Instant::now() > deadline {
                bail!("{} not ready within {}s", self.app.name, limit.as_secs());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        self.process.stop();
    }
}

/// Writes a scenario's timeline, readiness probes and the receipts of lost writes
/// to `target/chaos/<name>.trace`, for when its verdict needs explaining.
fn trace(
    name: &str,
    timeline: &Timeline,
    probes: &[ledger::Probe],
    writes: &[ledger::Write],
    lost: &[String],
) -> Result<()> {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut text = format!("{name}\n{timeline:?}\n");
    for write in writes {
        if let ledger::Outcome::Acked { id, receipt } = &write.outcome
            && lost.contains(id)
        {
            let _ = writeln!(
                text,
                "lost, acknowledged at {:.2}: {receipt}",
                write.answered
            );
        }
    }
    for probe in probes {
        let _ = writeln!(
            text,
            "probe sent {:.2} answered {:.2}: {:?}",
            probe.sent, probe.answered, probe.readiness
        );
    }
    let path = stores::dir().join(format!("{slug}.trace"));
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "never".to_owned(), |s| format!("{s:.2}s"))
}

/// The results as a Markdown table.
fn render(rows: &[(String, Tally)]) -> String {
    let mut out = String::from(
        "| scenario | acknowledged | lost (allowed) | duplicated | recovery | 503s served | /readyz while down: 503 / degraded / ready | no answer | other refusals | verdict |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for (name, t) in rows {
        let verdict = if t.failures.is_empty() {
            "ok".to_owned()
        } else {
            format!("FAILED: {}", t.failures.join("; "))
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} ({}) | {} | {} | {} | {} / {} / {} | {} | {} | {verdict} |",
            t.acknowledged,
            t.lost,
            t.lost_allowed,
            t.duplicated,
            seconds(t.recovery),
            t.unavailable,
            t.readyz_503,
            t.readyz_degraded,
            t.ready_while_down,
            t.no_answer,
            t.refused
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_each_figure_and_the_failures() {
        let held = Tally {
            acknowledged: 900,
            recovery: Some(0.25),
            unavailable: 12,
            readyz_503: 20,
            ..Tally::default()
        };
        let lost = Tally {
            acknowledged: 10,
            lost: 2,
            recovery: None,
            failures: vec!["2 acknowledged writes lost".into()],
            ..Tally::default()
        };
        let table = render(&[("postgres SIGKILL".into(), held), ("x".into(), lost)]);
        assert!(
            table.contains(
                "| postgres SIGKILL | 900 | 0 (0) | 0 | 0.25s | 12 | 20 / 0 / 0 | 0 | 0 | ok |"
            ),
            "{table}"
        );
        assert!(table.contains("| never |"), "{table}");
        assert!(
            table.contains("FAILED: 2 acknowledged writes lost"),
            "{table}"
        );
    }
}
