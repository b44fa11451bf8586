//! A private single-node KRaft broker on free loopback ports, from the jars `cargo
//! xtask tools` resolved, that a test may stop and start again. Kafka clients
//! reconnect to the advertised address, so a proxy in front of the shared broker
//! cannot make it go away; this broker can, without touching anyone else's.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Same id as the shared broker's (any 22-character base64 id works).
const CLUSTER_ID: &str = "b2JpLWV4YW1wbGVzLXRzdA";

/// A broker process and its data directory (removed on drop).
#[derive(Debug)]
pub struct PrivateBroker {
    /// The clients' port.
    pub port: u16,
    controller: u16,
    dir: PathBuf,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn libs() -> PathBuf {
    let cache = std::env::var_os("OBI_EXAMPLES_CACHE").map_or_else(
        || {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"))
                .join("obi-examples")
        },
        PathBuf::from,
    );
    cache.join("kafka-4.1.2").join("libs")
}

impl PrivateBroker {
    /// Formats a fresh data directory and starts the broker (waits until it listens).
    pub fn start() -> Self {
        let libs = libs();
        assert!(
            libs.is_dir(),
            "{} is missing: run `cargo xtask tools`",
            libs.display()
        );
        let dir = std::env::temp_dir().join(format!("ks-broker-{:x}", fastrand::u64(..)));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let (port, controller) = (free_port(), free_port());
        let properties = format!(
            "process.roles=broker,controller\nnode.id=1\n\
             controller.quorum.voters=1@127.0.0.1:{controller}\n\
             listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}\n\
             advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
             controller.listener.names=CONTROLLER\ninter.broker.listener.name=PLAINTEXT\n\
             listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n\
             log.dirs={}\noffsets.topic.replication.factor=1\n\
             transaction.state.log.replication.factor=1\ntransaction.state.log.min.isr=1\n\
             share.coordinator.state.topic.replication.factor=1\n\
             share.coordinator.state.topic.min.isr=1\ngroup.initial.rebalance.delay.ms=0\n\
             offsets.topic.num.partitions=1\n",
            dir.join("data").display()
        );
        std::fs::write(dir.join("server.properties"), properties).unwrap();
        let status = java(&libs, &dir)
            .args([
                "kafka.tools.StorageTool",
                "format",
                "--cluster-id",
                CLUSTER_ID,
                "--config",
                "server.properties",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "formatting the private broker failed");
        let mut broker = Self {
            port,
            controller,
            dir,
            child: None,
        };
        broker.launch();
        broker
    }

    /// `127.0.0.1:<port>`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn launch(&mut self) {
        let log = std::fs::File::create(self.dir.join("broker.log")).unwrap();
        let child = java(&libs(), &self.dir)
            .args(["-Xms256m", "-Xmx256m", "kafka.Kafka", "server.properties"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let started = Instant::now();
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "the private broker did not listen; see {}",
                self.dir.join("broker.log").display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = self.controller;
    }

    /// Kills the broker (as a crash would) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same ports and data.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn java(libs: &std::path::Path, dir: &std::path::Path) -> Command {
    let mut java = Command::new("java");
    java.current_dir(dir)
        .arg("-Djava.awt.headless=true")
        .arg("-cp")
        .arg(format!("{}/*", libs.display()));
    java
}
