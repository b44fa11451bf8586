//! `cargo xtask services up|down|status`: real PostgreSQL, Redis and Kafka on
//! 127.0.0.1 for the tests, with data and logs under `target/services/<name>/`
//! (or `$OBI_EXAMPLES_SERVICES_DIR/<name>/`, which lets several worktrees share them).
//!
//! Each server runs detached in its service directory; that working directory is
//! how we recognise our own processes (pid files can go stale, pids get reused),
//! and how we tell them from a foreign process holding one of our ports.

mod kafka;
pub(crate) mod ports;
mod postgres;
pub(crate) mod process;
mod redis;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::paths;
use ports::Listener;

/// One backing service that we run.
trait Service {
    /// Its name: the directory under [`paths::services`] and the label in messages.
    fn name(&self) -> &'static str;
    /// Every port it listens on; the first is the clients' port.
    fn ports(&self) -> &'static [u16];
    /// What clients connect to.
    fn url(&self) -> &'static str;
    /// The pid that identifies the server (the postmaster for PostgreSQL), from
    /// its pid file; not necessarily alive.
    fn pid_file_pid(&self) -> Option<u32>;
    /// Prepares configuration and data, then starts the server without waiting.
    fn start(&self) -> Result<()>;
    /// Whether it serves clients yet; an error when it cannot anymore.
    fn ready(&self) -> Result<bool>;
    /// How long it may take to become ready.
    fn start_timeout(&self) -> Duration;
    /// The signal that shuts it down cleanly and quickly.
    fn stop_signal(&self) -> &'static str;
    /// Its log file.
    fn log(&self) -> PathBuf;

    /// Its data and log directory.
    fn dir(&self) -> PathBuf {
        paths::services().join(self.name())
    }

    /// The pid of our running server, from its pid file or, when that is stale or
    /// gone, from whoever holds its port, as long as it runs in our directory.
    fn running(&self) -> Option<u32> {
        let dir = self.dir();
        if let Some(pid) = self
            .pid_file_pid()
            .filter(|pid| process::runs_in(*pid, &dir))
        {
            return Some(pid);
        }
        match ports::listener(self.ports()[0]) {
            Listener::Taken(Some(owner)) if process::runs_in(owner.pid, &dir) => Some(owner.pid),
            _ => None,
        }
    }
}

fn all() -> [Box<dyn Service>; 3] {
    [
        Box::new(postgres::Postgres),
        Box::new(redis::Redis),
        Box::new(kafka::Kafka),
    ]
}

/// Dispatches `cargo xtask services <action>`.
pub fn run(action: &str) -> Result<()> {
    match action {
        "up" => up(),
        "down" => down(),
        "status" => status(),
        _ => bail!("unknown action `{action}`: expected up, down or status"),
    }
}

/// Starts whichever of PostgreSQL, Redis and Kafka is not running yet, waits until
/// all serve, and prints their URLs. Fails, naming the process, when a port is
/// held by something that is not ours.
pub fn up() -> Result<()> {
    up_reporting().map(|_| ())
}

/// [`up`], returning the names of the services this call started (the demo stops
/// only those on exit: services that ran before it, perhaps shared, stay up).
pub fn up_reporting() -> Result<Vec<&'static str>> {
    let started = Instant::now();
    let services = all();
    // Check every port before starting anything: fail before half a start.
    let conflicts: Vec<String> = services
        .iter()
        .filter(|service| service.running().is_none())
        .filter_map(|service| {
            let taken = taken_ports(service.as_ref())?;
            Some(format!("{}: {taken}", service.name()))
        })
        .collect();
    if !conflicts.is_empty() {
        bail!("cannot start services:\n  {}", conflicts.join("\n  "));
    }

    let mut starting = Vec::new();
    let mut names = Vec::new();
    for service in &services {
        match service.running() {
            Some(pid) => println!("{}: already running (pid {pid})", service.name()),
            None => {
                println!(
                    "{}: starting (log: {})",
                    service.name(),
                    service.log().display()
                );
                service.start()?;
                starting.push(service);
                names.push(service.name());
            }
        }
    }
    // Started together, awaited in turn: the JVM's start overlaps the others'.
    for service in starting {
        wait_ready(service.as_ref())?;
    }
    println!("services up in {:.1}s:", started.elapsed().as_secs_f64());
    for service in &services {
        println!("  {:<8} {}", service.name(), service.url());
    }
    Ok(names)
}

fn wait_ready(service: &dyn Service) -> Result<()> {
    let started = Instant::now();
    let deadline = started + service.start_timeout();
    loop {
        let outcome = service.ready();
        match outcome {
            Ok(true) => {
                println!(
                    "{}: ready in {:.1}s",
                    service.name(),
                    started.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            Ok(false) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(false) => bail!(
                "{} did not become ready within {}s{}",
                service.name(),
                service.start_timeout().as_secs(),
                log_tail(service)
            ),
            Err(err) => bail!(
                "{} failed to start: {err:#}{}",
                service.name(),
                log_tail(service)
            ),
        }
    }
}

/// The last lines of a service's log, for error messages.
fn log_tail(service: &dyn Service) -> String {
    let log = service.log();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n    ");
    format!("\n  last lines of {}:\n    {tail}", log.display())
}

/// Which of a (not running) service's ports others hold, and by whom, with advice;
/// ports held by the same listener are named together.
fn taken_ports(service: &dyn Service) -> Option<String> {
    let mut held: Vec<(Vec<u16>, Listener)> = Vec::new();
    for port in service.ports() {
        let listener = ports::listener(*port);
        if listener == Listener::Free {
            continue;
        }
        match held.iter_mut().find(|(_, other)| *other == listener) {
            Some((ports, _)) => ports.push(*port),
            None => held.push((vec![*port], listener)),
        }
    }
    let lines: Vec<String> = held
        .iter()
        .map(|(ports, listener)| {
            let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
            let (noun, verb) = if ports.len() == 1 {
                ("port", "is")
            } else {
                ("ports", "are")
            };
            format!(
                "{noun} {} {verb} taken by {}{}",
                ports.join(", "),
                ports::describe(listener),
                hint(service.name(), listener)
            )
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("; "))
}

/// Advice for a port held by a process that is not ours.
fn hint(service: &str, listener: &Listener) -> String {
    let Listener::Taken(Some(owner)) = listener else {
        return String::new();
    };
    if let Some(checkout) = checkout_of(owner.pid) {
        format!(
            "\n    (our service from the checkout {}: run `cargo xtask services down` there, \
             or share it by setting OBI_EXAMPLES_SERVICES_DIR to its services directory)",
            checkout.display()
        )
    } else if owner.cmdline.contains("/etc/postgresql/") {
        "\n    (Debian's own cluster: `cargo xtask tools` stops it, or `service postgresql stop`)"
            .to_owned()
    } else if service == "redis" && owner.cmdline.starts_with("/usr/bin/redis-server") {
        "\n    (Debian's redis-server: `cargo xtask tools` stops it, or `service redis-server stop`)".to_owned()
    } else {
        String::new()
    }
}

/// The checkout whose `target/services/` a process runs in, if any.
fn checkout_of(pid: u32) -> Option<PathBuf> {
    let cwd = process::cwd(pid)?;
    let services = cwd
        .ancestors()
        .find(|dir| dir.ends_with("target/services"))?;
    services.parent()?.parent().map(PathBuf::from)
}

/// Stops our PostgreSQL, Redis and Kafka and waits until they have exited
/// (killing after a bound); a service that is not running is fine.
pub fn down() -> Result<()> {
    down_only(&all().map(|service| service.name()))
}

/// [`down`] for the services named in `names` only.
pub fn down_only(names: &[&str]) -> Result<()> {
    let services = all();
    let mut stopping = Vec::new();
    for service in services.iter().filter(|s| names.contains(&s.name())) {
        match service.running() {
            Some(pid) => {
                println!("{}: stopping (pid {pid})", service.name());
                process::signal(i64::from(pid), service.stop_signal())?;
                stopping.push((service, pid));
            }
            None => println!("{}: not running", service.name()),
        }
    }
    let mut failures = Vec::new();
    for (service, pid) in stopping {
        let stopped_at = Instant::now();
        match process::finish_stop(service.name(), pid, Duration::from_secs(30)) {
            Ok(()) => println!(
                "{}: stopped in {:.1}s",
                service.name(),
                stopped_at.elapsed().as_secs_f64()
            ),
            Err(err) => failures.push(format!("{err:#}")),
        }
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("\n"));
    }
    Ok(())
}

/// The services among `names` that no longer serve clients: (name, why). The
/// demo watches the services it depends on and says so when one dies.
pub fn not_serving(names: &[&str]) -> Vec<(&'static str, String)> {
    all()
        .iter()
        .filter(|service| names.contains(&service.name()))
        .filter_map(|service| match service.ready() {
            Ok(true) => None,
            Ok(false) => Some((
                service.name(),
                format!("{} does not answer on {}", service.name(), service.url()),
            )),
            Err(err) => Some((service.name(), format!("{}: {err:#}", service.name()))),
        })
        .collect()
}

/// The names of the backing services, in start order.
pub fn names() -> [&'static str; 3] {
    all().map(|service| service.name())
}

/// Prints one line per service: running with its pid, stopped, or stopped with
/// its port taken by another process.
pub fn status() -> Result<()> {
    for service in all() {
        let name = service.name();
        let line = match service.running() {
            Some(pid) => format!("running  pid {pid}  {}", service.url()),
            None => match taken_ports(service.as_ref()) {
                Some(taken) => format!("stopped; {taken}"),
                None => "stopped".to_owned(),
            },
        };
        println!("{name:<8} {line}");
    }
    Ok(())
}
