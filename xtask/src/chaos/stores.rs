//! The private backing services of `cargo xtask chaos` and what reads them back.
//!
//! They are the same server types `cargo xtask services` runs, on other loopback
//! ports and under `target/chaos/`, with the durability the charts ship: PostgreSQL
//! with `fsync`, `synchronous_commit` and `full_page_writes` on; Redis in either of
//! the chart's persistence modes; Kafka with the chart's (and Kafka's default) flush
//! settings. The shared services on 5432, 6379 and 9092 are never touched.
//!
//! The stores are read with their own command-line clients (`psql`, `redis-cli`,
//! Kafka's console consumer): xtask links no database client (see the tidy rules).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::ledger::Stored;
use crate::services::kafka::{self, Kafka};
use crate::services::postgres::Postgres;
use crate::services::redis::{Persistence, Redis};
use crate::services::{self, Service, process};
use crate::{cmd, paths, tools};

/// PostgreSQL's port: the shared one plus 20000.
pub const POSTGRES_PORT: u16 = 25432;
/// Redis's port.
pub const REDIS_PORT: u16 = 26379;
/// Kafka's client port.
pub const KAFKA_PORT: u16 = 29092;
/// Kafka's controller port.
pub const KAFKA_CONTROLLER_PORT: u16 = 29093;

/// Where the chaos services keep their data and logs, and the apps their logs.
pub fn dir() -> PathBuf {
    paths::target().join("chaos")
}

/// The private PostgreSQL, durable as the chart's.
pub fn postgres() -> Postgres {
    Postgres {
        port: POSTGRES_PORT,
        base: dir(),
        durable: true,
    }
}

/// The private Redis in one of the chart's persistence modes.
pub fn redis(persistence: Persistence) -> Redis {
    Redis {
        port: REDIS_PORT,
        base: dir(),
        persistence,
    }
}

/// The private Kafka broker.
pub fn kafka() -> Kafka {
    Kafka {
        port: KAFKA_PORT,
        controller_port: KAFKA_CONTROLLER_PORT,
        base: dir(),
    }
}

/// Stops whatever a previous (interrupted) run left running, then moves its
/// directory to `target/chaos.previous` (for a post-mortem; the one before is
/// deleted): every run starts from empty stores.
pub fn reset() -> Result<()> {
    let left: [Box<dyn Service>; 3] = [
        Box::new(postgres()),
        Box::new(redis(Persistence::None)),
        Box::new(kafka()),
    ];
    for service in &left {
        stop(service.as_ref())?;
    }
    let dir = dir();
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot delete {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// Starts `service` and waits until it serves; fails when a port is taken.
pub fn start(service: &dyn Service) -> Result<()> {
    if let Some(taken) = services::taken_ports(service) {
        bail!("cannot start the chaos {}: {taken}", service.name());
    }
    service.start()?;
    services::wait_ready(service)
}

/// SIGKILLs the server and its child processes at once (PostgreSQL's backends,
/// each in a session of its own, with the postmaster, as an OOM kill of its
/// container would), waits until it is gone and reaps it.
pub fn kill(service: &dyn Service) -> Result<()> {
    let pid = service
        .running()
        .with_context(|| format!("the chaos {} is not running", service.name()))?;
    let children = process::children(pid);
    process::signal(i64::from(pid), "KILL")?;
    for child in children {
        let _ = process::signal(i64::from(child), "KILL");
    }
    if !process::wait_exit(pid, Duration::from_secs(10)) {
        bail!("{} (pid {pid}) survived SIGKILL", service.name());
    }
    process::reap(pid);
    Ok(())
}

/// Stops the service cleanly if it runs (killing it after 30 s).
pub fn stop(service: &dyn Service) -> Result<()> {
    if let Some(pid) = service.running() {
        process::signal(i64::from(pid), service.stop_signal())?;
        process::finish_stop(service.name(), pid, Duration::from_secs(30))?;
        process::reap(pid);
    }
    Ok(())
}

/// The ids of every order row.
pub fn order_ids(postgres: &Postgres) -> Result<Stored> {
    let out = cmd::output(
        cmd::new("psql")
            .arg(postgres.url())
            .args(["-XtAc", "select id from orders"]),
    )
    .context("reading the orders back")?;
    Ok(count(out.lines()))
}

/// The tokens of every session key (`<prefix>session:<token>`).
pub fn session_tokens(redis: &Redis, prefix: &str) -> Result<Stored> {
    let pattern = format!("{prefix}session:*");
    let out = cmd::output(cmd::new("redis-cli").args([
        "-p",
        &redis.port.to_string(),
        "--scan",
        "--pattern",
        &pattern,
    ]))
    .context("reading the sessions back")?;
    let marker = format!("{prefix}session:");
    Ok(count(
        out.lines().filter_map(|key| key.strip_prefix(&marker)),
    ))
}

/// The key of every record of `topic`, from its beginning: as many records as the
/// partitions' end offsets add up to (read again when the console consumer, whose
/// group may still be settling after a broker restart, stops short).
pub fn topic_keys(kafka: &Kafka, topic: &str) -> Result<Stored> {
    let mut offsets = kafka_tool(kafka, "org.apache.kafka.tools.GetOffsetShell", topic)?;
    let total = parse_end_offsets(&cmd::output(&mut offsets)?)
        .with_context(|| format!("the end offsets of {topic}"))?;
    if total == 0 {
        return Ok(Stored::new());
    }
    let mut read = 0;
    for _ in 0..3 {
        let mut consumer = kafka_tool(
            kafka,
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            topic,
        )?;
        consumer
            .args(["--from-beginning", "--timeout-ms", "20000"])
            .args(["--max-messages", &total.to_string()])
            .args(["--property", "print.key=true"])
            .args(["--property", "print.value=false"]);
        let keys = count(cmd::output(&mut consumer)?.lines());
        read = keys.values().sum();
        if read >= total {
            return Ok(keys);
        }
        eprintln!("chaos: read {read} of the {total} records of {topic}; reading again");
    }
    bail!("read only {read} of the {total} records of {topic}")
}

/// `java <class> --bootstrap-server <kafka> --topic <topic>` with quiet logging.
fn kafka_tool(kafka: &Kafka, class: &str, topic: &str) -> Result<std::process::Command> {
    let log4j = quiet_log4j()?;
    let mut command = kafka::java(&tools::kafka::libs(), &log4j, &dir());
    command
        .arg(class)
        .args(["--bootstrap-server", &kafka.url(), "--topic", topic]);
    Ok(command)
}

/// The records in a topic: the sum of `GetOffsetShell`'s `topic:partition:offset`
/// end offsets (retention deletes nothing during a run).
fn parse_end_offsets(out: &str) -> Result<usize> {
    out.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            line.rsplit(':')
                .next()
                .and_then(|offset| offset.trim().parse::<usize>().ok())
                .with_context(|| format!("not `topic:partition:offset`: {line}"))
        })
        .sum()
}

/// A log4j2 configuration for Kafka's command-line tools: warnings only, on stderr,
/// so that standard output holds the records alone.
fn quiet_log4j() -> Result<PathBuf> {
    let path = dir().join("tools-log4j2.yaml");
    std::fs::write(&path, QUIET_LOG4J)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

const QUIET_LOG4J: &str = "\
# Written by `cargo xtask chaos` (xtask/src/chaos/stores.rs).
Configuration:
  Appenders:
    Console:
      name: STDERR
      target: SYSTEM_ERR
      PatternLayout:
        pattern: \"[%d] %p %m (%c)%n\"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDERR
";

/// Copies per non-empty line.
fn count<'a>(lines: impl Iterator<Item = &'a str>) -> Stored {
    let mut stored = Stored::new();
    for line in lines.map(str::trim).filter(|line| !line.is_empty()) {
        *stored.entry(line.to_owned()).or_default() += 1;
    }
    stored
}

/// The log of one app's chaos run.
pub fn app_logs() -> PathBuf {
    dir().join("apps")
}

/// Whether a path is inside the chaos directory (what `reset` may delete).
#[cfg(test)]
fn owned(path: &std::path::Path) -> bool {
    path.starts_with(dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_counted_per_line_and_blank_lines_ignored() {
        let stored = count("a\nb\n\na\n  \n".lines());
        assert_eq!(stored.get("a"), Some(&2));
        assert_eq!(stored.get("b"), Some(&1));
        assert_eq!(stored.len(), 2);
    }

    #[test]
    fn end_offsets_are_summed_over_partitions() {
        assert_eq!(
            parse_end_offsets("events:0:10\nevents:1:0\nevents:2:32\n").unwrap(),
            42
        );
        assert_eq!(parse_end_offsets("").unwrap(), 0);
        assert!(parse_end_offsets("events:0:x\n").is_err());
    }

    #[test]
    fn the_chaos_services_use_their_own_ports_and_directory() {
        let shared = [5432, 6379, 9092, 9093];
        for port in [POSTGRES_PORT, REDIS_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT] {
            assert!(!shared.contains(&port), "{port}");
        }
        assert!(postgres().durable);
        assert!(owned(&postgres().dir()) && owned(&redis(Persistence::None).dir()));
        assert!(owned(&kafka().dir()));
        assert_ne!(dir(), paths::services());
    }
}
