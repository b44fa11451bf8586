//! The lab's lifecycle: backing services, Prometheus and Jaeger, the apps, a
//! readiness smoke of all apps at once, then steady load with a live table until
//! Ctrl-C or SIGTERM; then load, apps (drained), backends and the services this
//! run started are stopped, in that order. A second Ctrl-C kills everything.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::group::{self, Group};
use super::load::{self, Load};
use super::profile::LoadProfile;
use super::{backends, fault, obi, promql, table};
use crate::apps::{self, App};
use crate::process::{AppProcess, Profile};
use crate::{paths, services};

/// How often the table is refreshed.
const TICK: Duration = Duration::from_secs(5);

/// Everything the demo started, stopped in order by [`Lab::shutdown`].
#[derive(Default)]
struct Lab {
    services_started: Vec<&'static str>,
    backends: Vec<Group>,
    apps: Vec<AppProcess>,
    loads: Vec<Load>,
    groups_seen: Vec<u32>,
    /// Services that failed the last health check (one miss under load can be a
    /// slow answer: a service is reported down after two in a row).
    suspects: Vec<&'static str>,
    shut_down: bool,
}

impl Drop for Lab {
    /// A panic on the way (a broken terminal) still stops everything.
    fn drop(&mut self) {
        self.shutdown(&paths::target().join("demo"));
    }
}

/// Runs the lab until Ctrl-C or SIGTERM.
pub fn run(profile: LoadProfile, build: Profile) -> Result<()> {
    let started = Instant::now();
    let (stop_tx, stop_rx) = mpsc::channel();
    let presses = AtomicU32::new(0);
    ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            let _ = stop_tx.send(());
        } else {
            say!("\ndemo: second interrupt: killing every process of the demo");
            group::kill_all();
            std::process::exit(130);
        }
    })
    .context("cannot install the Ctrl-C handler")?;

    let dir = paths::target().join("demo");
    std::fs::create_dir_all(&dir)?;
    let mut lab = Lab::default();
    let outcome = lab.start_and_serve(profile, build, &dir, started, &stop_rx);
    if let Err(err) = &outcome {
        say!("\ndemo: {err:#}");
    }
    lab.shutdown(&dir);
    outcome
}

impl Lab {
    fn start_and_serve(
        &mut self,
        profile: LoadProfile,
        build: Profile,
        dir: &Path,
        started: Instant,
        stop: &mpsc::Receiver<()>,
    ) -> Result<()> {
        if !crate::cmd::exists("k6") {
            anyhow::bail!("k6 is not installed: run `cargo xtask tools`");
        }
        self.services_started = services::up_reporting()?;
        let apps = apps::existing();
        if apps.is_empty() {
            anyhow::bail!("no app exists yet under apps/");
        }
        crate::process::build(&apps, build)?;
        interrupted(stop)?;
        for start in [backends::start_prometheus, backends::start_jaeger] {
            match start(dir) {
                Ok(group) => {
                    self.groups_seen.push(group.pid());
                    self.backends.push(group);
                }
                Err(err) => say!("demo: {err:#} (the demo runs on without it)"),
            }
        }
        let token = fault::new_token(dir)?;
        for app in &apps {
            interrupted(stop)?;
            let mut env = vec![("APP__ADMIN__TOKEN", token.as_str())];
            // An app that calls others (checkout) plays its slow_hop and broken_hop
            // through their fault headers, with their admin token: the same here.
            if !app.calls.is_empty() {
                env.push(("APP__SCENARIOS__HOP_TOKEN", token.as_str()));
            }
            let process = AppProcess::start_grouped(app, build, dir, &env)?;
            group::register(process.pid());
            self.groups_seen.push(process.pid());
            self.apps.push(process);
        }
        say!(
            "\ndemo: readiness smoke of {} apps at once ({})",
            apps.len(),
            super::profile::SMOKE_DURATION
        );
        print_smoke(&load::smoke(&apps, dir));
        interrupted(stop)?;
        print_instructions(&apps, dir)?;

        say!(
            "\ndemo: steady load, profile {profile}: {}",
            profile.describe()
        );
        for app in &apps {
            self.loads.push(Load::start(app, profile, dir));
        }
        self.serve(started, stop);
        Ok(())
    }

    /// The live table until a stop is asked for.
    fn serve(&mut self, started: Instant, stop: &mpsc::Receiver<()>) {
        let terminal = std::io::stderr().is_terminal();
        let mut shown_lines = 0;
        let mut last = Instant::now();
        let mut first_traffic = None;
        for tick in 1u64.. {
            if stop.recv_timeout(TICK).is_ok() {
                return;
            }
            let elapsed = last.elapsed();
            last = Instant::now();
            let rows: Vec<table::Row> = self.loads.iter().map(|l| l.row(elapsed)).collect();
            if first_traffic.is_none()
                && rows
                    .iter()
                    .any(|r| matches!(r.state, table::State::Running(_)))
            {
                first_traffic = Some(started.elapsed());
            }
            let mut footer = format!(
                "last {:.0} s; live traffic {}; Ctrl-C stops everything",
                elapsed.as_secs_f64(),
                first_traffic.map_or_else(
                    || "not yet".to_owned(),
                    |t| format!("since {:.0} s after start", t.as_secs_f64())
                )
            );
            for problem in self.problems(tick) {
                footer.push_str(&format!("\n  ! {problem}"));
            }
            let text = table::render(&rows, &footer);
            let mut err = std::io::stderr().lock();
            if terminal {
                let _ = write!(err, "{}", table::redraw(shown_lines, &text));
                shown_lines = text.lines().count();
            } else if tick % 6 == 1 {
                let _ = write!(err, "{text}");
            }
        }
    }

    /// Apps that exited and backing services that stopped answering (these
    /// checked every third tick: each check asks the servers).
    fn problems(&mut self, tick: u64) -> Vec<String> {
        let mut problems: Vec<String> = self
            .apps
            .iter_mut()
            .filter_map(|app| {
                let status = app.exited()?;
                Some(format!(
                    "{} exited ({status}); see target/demo/{}.log",
                    app.app.name, app.app.name
                ))
            })
            .collect();
        if tick.is_multiple_of(3) {
            let failing = services::not_serving(&services::names());
            for (name, why) in &failing {
                if self.suspects.contains(name) {
                    problems.push(format!("backing service down: {why}"));
                }
            }
            self.suspects = failing.into_iter().map(|(name, _)| name).collect();
        }
        problems
    }

    /// Load first (k6 writes its summaries), then the apps (drained), then the
    /// backends, then the services this run started; checks that no process of
    /// the demo is left.
    fn shutdown(&mut self, dir: &Path) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        say!("\ndemo: stopping: load, then apps, then backends");
        let stopping = Instant::now();
        for load in &self.loads {
            load.interrupt();
        }
        for load in &mut self.loads {
            load.finish(Duration::from_secs(20));
        }
        if !self.loads.is_empty() {
            print_final(&self.loads, dir);
        }
        for app in &mut self.apps {
            app.stop();
            group::unregister(app.pid());
        }
        for backend in &mut self.backends {
            backend.stop("TERM", Duration::from_secs(10));
        }
        if !self.services_started.is_empty()
            && let Err(err) = services::down_only(&self.services_started)
        {
            say!("demo: {err:#}");
        }
        let left: Vec<u32> = self
            .groups_seen
            .iter()
            .flat_map(|pgid| group::members(*pgid))
            .collect();
        if left.is_empty() {
            say!(
                "demo: stopped cleanly in {:.1} s (no process of the demo left)",
                stopping.elapsed().as_secs_f64()
            );
        } else {
            say!("demo: processes left behind: {left:?}");
        }
    }
}

fn interrupted(stop: &mpsc::Receiver<()>) -> Result<()> {
    match stop.try_recv() {
        Ok(()) => anyhow::bail!("interrupted"),
        Err(_) => Ok(()),
    }
}

fn print_smoke(results: &[(&App, Result<crate::k6::Summary>)]) {
    say!("app                    req/s    p50 ms    p99 ms   errors  thresholds");
    for (app, outcome) in results {
        match outcome {
            Ok(s) => say!(
                "{:<20} {:>8.1} {:>9.2} {:>9.2} {:>7.2}%  {}",
                app.name,
                s.rate,
                s.p50_ms,
                s.p99_ms,
                s.error_rate * 100.0,
                if s.thresholds_ok { "ok" } else { "CROSSED" }
            ),
            Err(err) => say!("{:<20} no smoke result: {err:#}", app.name),
        }
    }
}

fn print_instructions(apps: &[&'static App], dir: &Path) -> Result<()> {
    let config = obi::write(apps)?;
    let keys = promql::write(apps)?;
    say!(
        "\nAttach OBI (Linux >= 5.8 with BTF, as root), before or while the load runs:\n\
         \n  sudo OTEL_EBPF_CONFIG_PATH={config} obi\n\
         \nIt instruments the apps by their ports, exports traces to Jaeger over OTLP and\n\
         serves metrics on :{obi} for Prometheus. See what it sends:\n\
         \n  Prometheus  {prom}/graph\n  Jaeger      {jaeger}/api/traces?service=http-rest-api&limit=20\n\
         \n(Jaeger's query API: the Jaeger that `cargo xtask tools` builds has no UI assets.)\n\
         \nKey dashboard queries (all of them: {promql}):",
        config = config.display(),
        obi = backends::OBI_METRICS_PORT,
        prom = backends::prometheus_url(),
        jaeger = backends::jaeger_url(),
        promql = dir.join("promql.md").display(),
    );
    for (app, queries) in keys {
        for query in queries {
            say!("  {app}: {}\n    {}", query.panel, query.expr);
        }
    }
    say!(
        "\nThen: `cargo xtask demo check` runs the charts' telemetry specs against them;\n\
         `cargo xtask demo faults` lists the scenarios, `cargo xtask demo fault <app> <scenario> on`\n\
         switches one (admin token in {}).",
        dir.join("admin-token").display()
    );
    Ok(())
}

/// The totals of the run and k6's last summaries, printed and saved.
fn print_final(loads: &[Load], dir: &Path) {
    let mut text = String::from("app                   requests   failed  summary\n");
    for load in loads {
        let (requests, failed, outcomes) = load.totals();
        let share = if outcomes > 0 {
            format!("{:.2}%", failed as f64 * 100.0 / outcomes as f64)
        } else {
            "-".to_owned()
        };
        let summary: PathBuf = load.summary.clone();
        text.push_str(&format!(
            "{:<20} {requests:>9} {share:>8}  {}\n",
            load.app.name,
            if summary.is_file() {
                summary.display().to_string()
            } else {
                "(k6 wrote none)".to_owned()
            }
        ));
    }
    say!("\n{}", text.trim_end());
    let path = dir.join("summary.txt");
    match std::fs::write(&path, &text) {
        Ok(()) => say!("demo: totals saved to {}", path.display()),
        Err(err) => say!("demo: cannot write {}: {err}", path.display()),
    }
}
