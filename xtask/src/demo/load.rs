//! k6 under the demo: the readiness smoke of every app at once, then one k6 per
//! app for the steady load, its JSON stream read by a thread into a [`Window`],
//! restarted when a run ends, stopped with SIGINT (k6 then writes its summary).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::group::Group;
use super::profile::LoadProfile;
use super::stream::{self, Window};
use super::table::{Row, State};
use crate::apps::App;
use crate::k6;

/// Runs after which a failing k6 is given up (a broken script would loop).
const MAX_FAILURES: u32 = 3;

/// A k6 command for `app`, writing its summary to `summary` and its messages to `log`.
fn k6_command(
    app: &App,
    env: &[(String, String)],
    summary: &Path,
    log: &Path,
    stream: bool,
) -> Result<Command> {
    let log = File::options()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    let mut command = k6::run_command();
    command
        .arg("--summary-export")
        .arg(summary)
        .arg("-e")
        .arg(format!("TARGET_URL={}", app.base_url()));
    for (key, value) in env {
        command.arg("-e").arg(format!("{key}={value}"));
    }
    // The scripts' fault headers carry the apps' admin token (`x-fault-token`): the
    // demo's own, from the environment rather than the command line `ps` shows.
    if let Some(token) = summary
        .parent()
        .and_then(|dir| std::fs::read_to_string(dir.join("admin-token")).ok())
    {
        command.env("FAULT_TOKEN", token.trim());
    }
    if stream {
        command.args(["--out", "json=-"]).stdout(Stdio::piped());
    } else {
        command.stdout(log.try_clone()?);
    }
    command
        .arg(app.k6_script())
        .stdin(Stdio::null())
        .stderr(log);
    Ok(command)
}

/// The readiness smoke: every app's smoke profile at once, for
/// [`super::profile::SMOKE_DURATION`]. Returns each app's summary, or why it has none.
pub fn smoke(apps: &[&'static App], dir: &Path) -> Vec<(&'static App, Result<k6::Summary>)> {
    let started: Vec<_> = apps
        .iter()
        .map(|app| {
            let summary = dir.join(format!("{}-smoke.json", app.name));
            let log = dir.join(format!("{}-k6.log", app.name));
            let _ = std::fs::remove_file(&summary);
            let group = k6_command(app, &LoadProfile::smoke_env(), &summary, &log, false).and_then(
                |mut command| Group::spawn(format!("k6 smoke of {}", app.name), &mut command),
            );
            (*app, group, summary, log)
        })
        .collect();
    started
        .into_iter()
        .map(|(app, group, summary, log)| {
            let outcome = group.and_then(|mut group| {
                let status = group.child().wait()?;
                group.stop("KILL", Duration::ZERO);
                let mut read = k6::read_summary(&summary, app.protocol)
                    .with_context(|| format!("k6 {status}; see {}", log.display()))?;
                read.thresholds_ok &= status.success();
                Ok(read)
            });
            (app, outcome)
        })
        .collect()
}

/// The steady load of one app, in a thread.
pub struct Load {
    /// The app under load.
    pub app: &'static App,
    window: Arc<Mutex<Window>>,
    state: Arc<Mutex<State>>,
    /// The running k6's process group, 0 between runs.
    pgid: Arc<Mutex<u32>>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Where each run's summary goes (the last run's is kept).
    pub summary: PathBuf,
}

impl Load {
    /// Starts k6 with `profile` against `app`, restarting each run that ends.
    pub fn start(app: &'static App, profile: LoadProfile, dir: &Path) -> Self {
        let summary = dir.join(format!("{}-{profile}.json", app.name));
        let log = dir.join(format!("{}-k6.log", app.name));
        let window = Arc::new(Mutex::new(Window::default()));
        let state = Arc::new(Mutex::new(State::Starting));
        let pgid = Arc::new(Mutex::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let (window, state, pgid, stopping) = (
                window.clone(),
                state.clone(),
                pgid.clone(),
                stopping.clone(),
            );
            let summary = summary.clone();
            std::thread::spawn(move || {
                let mut failures = 0;
                while !stopping.load(Ordering::SeqCst) {
                    let outcome = run_once(app, profile, &summary, &log, &window, &pgid, &stopping);
                    match outcome {
                        Ok(()) => failures = 0,
                        Err(err) => {
                            failures += 1;
                            if failures >= MAX_FAILURES {
                                *state.lock().unwrap_or_else(|e| e.into_inner()) =
                                    State::Failed(format!("{err:#}; see {}", log.display()));
                                return;
                            }
                            std::thread::sleep(Duration::from_secs(2));
                        }
                    }
                }
            })
        };
        Self {
            app,
            window,
            state,
            pgid,
            stopping,
            thread: Some(thread),
            summary,
        }
    }

    /// The row of the interval since the last call.
    pub fn row(&self, elapsed: Duration) -> Row {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let stats = window.take(elapsed);
        let state = match &*self.state.lock().unwrap_or_else(|e| e.into_inner()) {
            State::Failed(why) => State::Failed(why.clone()),
            _ if window.total_requests == 0 && stats.requests == 0 => State::Starting,
            _ => State::Running(stats),
        };
        Row {
            app: self.app.name,
            state,
            total: window.total_requests,
        }
    }

    /// Requests and failed outcomes since the start: (requests, failed, outcomes).
    pub fn totals(&self) -> (u64, u64, u64) {
        let window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        (
            window.total_requests,
            window.total_failed,
            window.total_outcomes,
        )
    }

    /// Asks k6 to stop (SIGINT: it ends the run and writes its summary).
    pub fn interrupt(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let pgid = *self.pgid.lock().unwrap_or_else(|e| e.into_inner());
        if pgid != 0 {
            let _ = crate::services::process::signal(-i64::from(pgid), "INT");
        }
    }

    /// Waits up to `grace` for k6 to finish, then kills it; joins the thread.
    pub fn finish(&mut self, grace: Duration) {
        let deadline = Instant::now() + grace;
        while self.thread.as_ref().is_some_and(|t| !t.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let pgid = *self.pgid.lock().unwrap_or_else(|e| e.into_inner());
        if pgid != 0 {
            let _ = crate::services::process::signal(-i64::from(pgid), "KILL");
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One k6 run, its stream read to the end.
fn run_once(
    app: &'static App,
    profile: LoadProfile,
    summary: &Path,
    log: &Path,
    window: &Mutex<Window>,
    pgid: &Mutex<u32>,
    stopping: &AtomicBool,
) -> Result<()> {
    let mut command = k6_command(app, &profile.k6_env(), summary, log, true)?;
    let mut group = Group::spawn(format!("k6 {profile} of {}", app.name), &mut command)?;
    *pgid.lock().unwrap_or_else(|e| e.into_inner()) = group.pid();
    // A stop requested while k6 was starting: the interrupt found no group yet.
    if stopping.load(Ordering::SeqCst) {
        let _ = crate::services::process::signal(-i64::from(group.pid()), "INT");
    }
    let stdout = group
        .child()
        .stdout
        .take()
        .context("k6's stdout is not piped")?;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(sample) = stream::parse_line(&line, app.protocol) {
            window
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(sample);
        }
    }
    let status = group.child().wait()?;
    group.stop("KILL", Duration::ZERO);
    *pgid.lock().unwrap_or_else(|e| e.into_inner()) = 0;
    // 0: the run ended; 99: thresholds crossed (stress does); interrupted: asked.
    if status.success() || status.code() == Some(99) || stopping.load(Ordering::SeqCst) {
        Ok(())
    } else {
        anyhow::bail!("k6 exited with {status}")
    }
}
