//! Building and running app processes for `demo` and `bench`: release builds,
//! start with logs to a file, wait for `/readyz`, stop with SIGTERM so they drain.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use std::os::unix::process::CommandExt;

use crate::apps::App;
use crate::services::ports::{self, Listener};
use crate::{ci, paths};

/// Refuses a port someone already listens on: that process would answer the
/// readiness probe in the app's place (another demo, bench or test run on the same
/// machine), and every figure measured afterwards would be someone else's.
fn port_free(app: &str, port: u16) -> Result<()> {
    match ports::listener(port) {
        Listener::Free => Ok(()),
        taken => bail!(
            "cannot start {app}: port {port} is already taken by {} (another demo, bench or \
             test run?); stop it or wait for it",
            ports::describe(&taken)
        ),
    }
}

/// The admin token of apps started here, which k6 sends in `x-fault-token`.
pub const LOCAL_ADMIN_TOKEN: &str = "local-admin-token";

/// The allocator's settings of every app image, set in the Dockerfile's runtime
/// stage (a test keeps the two equal) and given to every app started here, so
/// that `demo` and `bench` run a binary as its image does. mimalloc (service-kit's
/// allocator) commits each arena it reserves in full by default on Linux, and then
/// never returns what a burst touched: http-rest-api idled at 28 MiB RSS, against
/// 16 MiB with commit on demand, at the same req/s (docs/performance.md).
pub const ALLOCATOR_ENV: &[(&str, &str)] = &[("MIMALLOC_ARENA_EAGER_COMMIT", "0")];

/// A cargo build profile, and where its binaries land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `target/debug`: what `cargo test` already built (the gate's smoke runs).
    Debug,
    /// `target/release`: what `demo` and `bench` measure.
    Release,
}

/// `cargo build` of the given apps in `profile` (release: [`build_release`]).
pub fn build(apps: &[&App], profile: Profile) -> Result<()> {
    if profile == Profile::Release {
        return build_release(apps);
    }
    let mut command = ci::cargo();
    command.args(["build", "--locked"]);
    for app in apps {
        command.args(["-p", app.name]);
    }
    crate::cmd::run(&mut command)
}

/// `cargo build --release` of the given apps' binaries, as the Dockerfile builds
/// an image's: every image's package selected (`images::names()`; `ls apps` in the
/// Dockerfile), so that Cargo resolves the dependencies' features over all of them,
/// and `--bin` picking the binaries. What `demo` and `bench` measure is then the
/// binary an image ships, and one build serves every bench (a selection per bench
/// would compile some dependencies again, each time with other features).
pub fn build_release(apps: &[&App]) -> Result<()> {
    let mut command = ci::cargo();
    command.args(release_args(&crate::images::names(), apps));
    crate::cmd::run(&mut command)
}

fn release_args(selection: &[&str], apps: &[&App]) -> Vec<String> {
    let mut args: Vec<String> = ["build", "--locked", "--release"].map(String::from).into();
    for package in selection {
        args.extend(["--package".to_owned(), (*package).to_owned()]);
    }
    for app in apps {
        args.extend(["--bin".to_owned(), app.name.to_owned()]);
    }
    args
}

fn binary(app: &App, profile: Profile) -> PathBuf {
    binary_named(app.name, profile)
}

/// Where cargo puts the `profile` binary `name` (`CARGO_TARGET_DIR` honoured).
pub fn binary_named(name: &str, profile: Profile) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| paths::root().join("target"))
        .join(match profile {
            Profile::Debug => "debug",
            Profile::Release => "release",
        })
        .join(name)
}

/// A running app process; [`AppProcess::stop`] sends SIGTERM so it drains.
pub struct AppProcess {
    /// Which app runs.
    pub app: &'static App,
    /// The port it listens on (its registry port unless started elsewhere).
    pub port: u16,
    child: Child,
}

impl AppProcess {
    /// Starts the `profile` binary of `app` with its log in `dir`, and waits until ready.
    pub fn start_built(app: &'static App, profile: Profile, dir: &Path) -> Result<Self> {
        Self::start_configured(app, profile, dir, &[])
    }

    /// Like [`AppProcess::start_built`], with extra `APP__*` settings (`env`).
    pub fn start_configured(
        app: &'static App,
        profile: Profile,
        dir: &Path,
        env: &[(&str, &str)],
    ) -> Result<Self> {
        Self::spawn(app, profile, dir, env, false, app.port)
    }

    /// Like [`AppProcess::start_configured`], on `port` instead of the app's own (so
    /// a gate step runs next to an app already on that port, e.g. a demo).
    pub fn start_on(
        app: &'static App,
        profile: Profile,
        dir: &Path,
        env: &[(&str, &str)],
        port: u16,
    ) -> Result<Self> {
        Self::spawn(app, profile, dir, env, false, port)
    }

    /// Like [`AppProcess::start_configured`], in its own process group (a Ctrl-C
    /// in the terminal does not reach it: the demo stops it itself, after the load).
    pub fn start_grouped(
        app: &'static App,
        profile: Profile,
        dir: &Path,
        env: &[(&str, &str)],
    ) -> Result<Self> {
        Self::spawn(app, profile, dir, env, true, app.port)
    }

    fn spawn(
        app: &'static App,
        profile: Profile,
        dir: &Path,
        env: &[(&str, &str)],
        own_group: bool,
        port: u16,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        port_free(app.name, port)?;
        let log = dir.join(format!("{}.log", app.name));
        let out = File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let mut command = Command::new(binary(app, profile));
        if own_group {
            command.process_group(0);
        }
        // Fault headers on, behind a known admin token, as the chart's k6 Job has them;
        // `env` may override both (and the allocator's settings).
        let child = command
            .envs(ALLOCATOR_ENV.iter().copied())
            .env("APP__FAULTS__HEADERS", "true")
            .env("APP__ADMIN__TOKEN", LOCAL_ADMIN_TOKEN)
            .envs(env.iter().copied())
            .env("APP__SERVER__HOST", "127.0.0.1")
            .env("APP__SERVER__PORT", port.to_string())
            .stdout(out.try_clone()?)
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", app.name))?;
        let mut process = Self { app, port, child };
        if let Err(err) = process.wait_ready(Duration::from_secs(60)) {
            process.stop();
            return Err(err.context(format!(
                "{} did not become ready; see {}",
                app.name,
                log.display()
            )));
        }
        // Never a panic here (a closed terminal): the caller must get the process.
        let _ = writeln!(
            std::io::stderr(),
            "{} ready on {} (log: {})",
            app.name,
            process.base_url(),
            log.display()
        );
        Ok(process)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("exited with {status}");
            }
            if crate::http::ok(
                &format!("{}/readyz", self.base_url()),
                Duration::from_secs(2),
            ) {
                return self.owns_port();
            }
            if started.elapsed() > limit {
                bail!("not ready after {}s", limit.as_secs());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The port was free before the start, but another process may have taken it
    /// in between: then that one answered the probe, and this one failed to bind.
    fn owns_port(&self) -> Result<()> {
        match ports::listener(self.port) {
            Listener::Taken(Some(owner)) if owner.pid == self.child.id() => Ok(()),
            other => bail!(
                "port {} answered, but it is held by {}, not by pid {}",
                self.port,
                ports::describe(&other),
                self.child.id()
            ),
        }
    }

    /// Where it is reached: `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The process id (for RSS sampling).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited (with its status).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends SIGTERM, waits up to 30 s for the drain, then kills.
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("{} did not drain in 30s; killing it", self.app.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The release build selects what the image build selects (`ls apps` in the
    /// Dockerfile's planner, then `--bin`), so a bench measures the shipped binary.
    #[test]
    fn the_release_build_selects_the_images_packages() {
        let dockerfile = std::fs::read_to_string(paths::root().join("Dockerfile")).unwrap();
        assert!(
            dockerfile.contains("ls apps > apps.txt"),
            "the Dockerfile selects its packages otherwise now: make image_selection follow"
        );
        // `ls apps` in the Dockerfile is the images' list: every directory there.
        let selection = crate::images::names();
        for entry in std::fs::read_dir(paths::root().join("apps")).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                !entry.file_type().unwrap().is_dir() || selection.contains(&name.as_str()),
                "apps/{name} is not an image: the bench's release build would select fewer packages than the Dockerfile"
            );
        }
        for app in crate::apps::existing() {
            assert!(selection.contains(&app.name), "{}", app.name);
        }
        assert!(selection.contains(&"telemetry-check"));
        let sql = App::named("sql-application").unwrap();
        let args = release_args(&selection, &[sql]).join(" ");
        assert!(
            args.starts_with("build --locked --release --package "),
            "{args}"
        );
        assert!(args.contains("--package telemetry-check"), "{args}");
        assert!(args.ends_with("--bin sql-application"), "{args}");
        assert_eq!(args.matches("--bin").count(), 1, "{args}");
    }

    #[test]
    fn apps_started_here_get_the_allocator_settings_of_their_image() {
        let dockerfile = std::fs::read_to_string(paths::root().join("Dockerfile")).unwrap();
        assert_eq!(runtime_env(&dockerfile), ALLOCATOR_ENV);
        // The parse sees a setting removed from, or changed in, the runtime stage.
        let changed = dockerfile.replace(
            "MIMALLOC_ARENA_EAGER_COMMIT=0",
            "MIMALLOC_ARENA_EAGER_COMMIT=2",
        );
        assert_ne!(runtime_env(&changed), ALLOCATOR_ENV);
        let removed = dockerfile.replace("ENV MIMALLOC_", "# ENV MIMALLOC_");
        assert!(runtime_env(&removed).is_empty());
    }

    /// The `ENV name=value` lines of the Dockerfile's runtime stage.
    fn runtime_env(dockerfile: &str) -> Vec<(&str, &str)> {
        let stage = dockerfile
            .split_once("AS runtime\n")
            .expect("a runtime stage")
            .1;
        let stage = stage.split("\nFROM ").next().unwrap_or_default();
        stage
            .lines()
            .filter_map(|line| line.strip_prefix("ENV "))
            .filter_map(|setting| setting.split_once('='))
            .collect()
    }

    #[test]
    fn a_port_someone_listens_on_is_refused_naming_the_holder() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = port_free("http-rest-api", port).unwrap_err().to_string();
        assert!(err.contains("cannot start http-rest-api"), "{err}");
        assert!(err.contains(&format!("port {port}")), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
    }
}
