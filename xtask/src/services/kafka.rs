//! Kafka on 127.0.0.1 (9092 for the shared test broker): a single KRaft node that is
//! broker and controller (controller listener on 9093), run from the jars
//! `cargo xtask tools` resolved. Its durability settings are the chart's: neither
//! sets `log.flush.*`, so an acknowledged record is in the OS page cache, which a
//! killed broker process does not take with it.

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{Service, process};
use crate::{cmd, tools};

/// The clients' port of the shared test broker.
pub const PORT: u16 = 9092;
/// The shared broker's KRaft controller port.
pub const CONTROLLER_PORT: u16 = 9093;
/// Fixed, so that a data directory formatted once is valid for every start
/// (22 characters of URL-safe base64: the 16 bytes "obi-examples-kaf").
const CLUSTER_ID: &str = "b2JpLWV4YW1wbGVzLWthZg";
/// The log line that says the broker and controller are both up.
const STARTED: &str = "Kafka Server started";

/// A Kafka broker of ours.
#[derive(Debug, Clone)]
pub struct Kafka {
    /// The clients' port.
    pub port: u16,
    /// The KRaft controller's port.
    pub controller_port: u16,
    /// Where its directory `kafka/` goes.
    pub base: PathBuf,
}

impl Kafka {
    /// The shared test broker: ports 9092 and 9093.
    pub fn shared(base: &Path) -> Self {
        Self {
            port: PORT,
            controller_port: CONTROLLER_PORT,
            base: base.to_owned(),
        }
    }
}

impl Service for Kafka {
    fn name(&self) -> &'static str {
        "kafka"
    }

    fn ports(&self) -> Vec<u16> {
        vec![self.port, self.controller_port]
    }

    fn url(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn dir(&self) -> PathBuf {
        self.base.join(self.name())
    }

    fn pid_file_pid(&self) -> Option<u32> {
        process::read_pid_file(&self.dir().join("kafka.pid"))
    }

    fn start(&self) -> Result<()> {
        let libs = tools::kafka::libs();
        if !libs.is_dir() {
            bail!(
                "Kafka {} is not installed in {}: run `cargo xtask tools`",
                tools::kafka::VERSION,
                libs.display()
            );
        }
        let dir = self.dir();
        let data = dir.join("data");
        fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
        let properties = dir.join("server.properties");
        fs::write(
            &properties,
            render_properties(&data, self.port, self.controller_port),
        )?;
        let log4j = dir.join("log4j2.yaml");
        fs::write(&log4j, LOG4J)?;

        if !data.join("meta.properties").is_file() {
            println!("kafka: formatting storage in {}", data.display());
            cmd::output(
                java(&libs, &log4j, &dir)
                    .args([
                        "kafka.tools.StorageTool",
                        "format",
                        "--cluster-id",
                        CLUSTER_ID,
                    ])
                    .arg("--config")
                    .arg(&properties),
            )
            .context("formatting Kafka's storage")?;
        }

        // A fresh log per start, so that readiness reads this start's lines only;
        // the previous one is kept for post-mortems.
        let log = self.log();
        if log.is_file() {
            fs::rename(&log, log.with_extension("log.1"))?;
        }
        let pid = process::spawn(
            java(&libs, &log4j, &dir)
                // As Kafka's own start script, minus the GC logs.
                .args([
                    "-Xms512m",
                    "-Xmx512m",
                    "-XX:+UseG1GC",
                    "-XX:MaxGCPauseMillis=20",
                ])
                .arg("kafka.Kafka")
                .arg(&properties),
            &log,
        )?;
        fs::write(dir.join("kafka.pid"), format!("{pid}\n"))?;
        Ok(())
    }

    fn ready(&self) -> Result<bool> {
        if let Some(pid) = self.pid_file_pid()
            && !process::alive(pid)
        {
            bail!("the broker (pid {pid}) exited");
        }
        let log = fs::read_to_string(self.log()).unwrap_or_default();
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        Ok(log.contains(STARTED)
            && TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok())
    }

    fn start_timeout(&self) -> Duration {
        Duration::from_secs(90)
    }

    fn stop_signal(&self) -> &'static str {
        // A controlled shutdown: the broker closes its logs cleanly, so the next
        // start skips recovery.
        "TERM"
    }

    fn log(&self) -> PathBuf {
        self.dir().join("kafka.log")
    }
}

/// `java` with the broker's classpath and logging, run in the service directory.
pub(crate) fn java(libs: &Path, log4j: &Path, dir: &Path) -> std::process::Command {
    let mut java = cmd::new("java");
    java.current_dir(dir)
        .arg("-Djava.awt.headless=true")
        .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
        .arg("-cp")
        .arg(format!("{}/*", libs.display()));
    java
}

fn render_properties(data: &Path, port: u16, controller_port: u16) -> String {
    format!(
        "\
# Written by `cargo xtask services up` (xtask/src/services/kafka.rs): edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={data}
# One node: every internal topic has a single replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Consumer groups in tests start at once instead of after 3s.
group.initial.rebalance.delay.ms=0
# Kafka's default, as in the apache/kafka image the chart runs: apps still create
# their topics, tests may rely on it for throwaway ones.
auto.create.topics.enable=true
num.partitions=1
",
        data = data.display()
    )
}

/// Log4j2 configuration: everything at INFO to standard output (the log file).
const LOG4J: &str = "\
# Written by `cargo xtask services up` (xtask/src/services/kafka.rs): edits are overwritten.
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: \"[%d] %p %m (%c)%n\"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_is_broker_and_controller_on_loopback() {
        let properties = render_properties(
            Path::new("/repo/target/services/kafka/data"),
            PORT,
            CONTROLLER_PORT,
        );
        assert!(properties.contains("\nprocess.roles=broker,controller\n"));
        assert!(properties.contains("\ncontroller.quorum.voters=1@127.0.0.1:9093\n"));
        assert!(
            properties
                .contains("\nlisteners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093\n")
        );
        assert!(properties.contains("\nadvertised.listeners=PLAINTEXT://127.0.0.1:9092\n"));
        assert!(properties.contains("\nlog.dirs=/repo/target/services/kafka/data\n"));
    }

    #[test]
    fn internal_topics_fit_a_single_node() {
        let properties = render_properties(Path::new("/data"), PORT, CONTROLLER_PORT);
        for key in [
            "offsets.topic.replication.factor",
            "transaction.state.log.replication.factor",
            "transaction.state.log.min.isr",
        ] {
            assert!(properties.contains(&format!("\n{key}=1\n")), "{key}");
        }
        assert!(properties.contains("\ngroup.initial.rebalance.delay.ms=0\n"));
    }

    #[test]
    fn the_cluster_id_is_sixteen_bytes_of_base64() {
        assert_eq!(CLUSTER_ID.len(), 22);
        assert!(
            CLUSTER_ID
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
