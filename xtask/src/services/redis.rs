//! Redis on 127.0.0.1 (6379 for the shared test server): Debian's `redis-server`
//! with our configuration, no password; the shared server keeps no data (tests use
//! unique key prefixes and need no restore), a chaos server runs either persistence
//! mode the chart ships.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{Service, process};
use crate::cmd;

/// The clients' port of the shared test server.
pub const PORT: u16 = 6379;

/// What Redis keeps across a restart: the chart's two modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// No snapshot and no append-only file: the chart's default
    /// (`redis.persistence.enabled: false`); a restart starts empty.
    None,
    /// The append-only file with Redis's default `appendfsync everysec`, what the
    /// chart runs with `redis.persistence.enabled: true` (`--appendonly yes`).
    AppendOnly,
}

/// A Redis server of ours.
#[derive(Debug, Clone)]
pub struct Redis {
    /// The clients' port.
    pub port: u16,
    /// Where its directory `redis/` goes.
    pub base: PathBuf,
    /// What survives a restart.
    pub persistence: Persistence,
}

impl Redis {
    /// The shared test server: port 6379, no persistence.
    pub fn shared(base: &Path) -> Self {
        Self {
            port: PORT,
            base: base.to_owned(),
            persistence: Persistence::None,
        }
    }
}

impl Service for Redis {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn ports(&self) -> Vec<u16> {
        vec![self.port]
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn dir(&self) -> PathBuf {
        self.base.join(self.name())
    }

    fn pid_file_pid(&self) -> Option<u32> {
        process::read_pid_file(&self.dir().join("redis.pid"))
    }

    fn start(&self) -> Result<()> {
        if !cmd::exists("redis-server") {
            bail!("redis-server is not installed: run `cargo xtask tools`");
        }
        let dir = self.dir();
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let config = dir.join("redis.conf");
        fs::write(&config, render_config(&dir, self.port, self.persistence))
            .with_context(|| format!("cannot write {}", config.display()))?;
        // In the foreground under our own pid file: Redis's `daemonize` would fork
        // away from the pid we can watch while it starts.
        let pid = process::spawn(
            cmd::new("redis-server").arg(&config).current_dir(&dir),
            &self.log(),
        )?;
        fs::write(dir.join("redis.pid"), format!("{pid}\n"))?;
        Ok(())
    }

    fn ready(&self) -> Result<bool> {
        if let Some(pid) = self.pid_file_pid()
            && !process::alive(pid)
        {
            bail!("redis-server (pid {pid}) exited");
        }
        Ok(ping(self.port).unwrap_or(false))
    }

    fn start_timeout(&self) -> Duration {
        Duration::from_secs(20)
    }

    fn stop_signal(&self) -> &'static str {
        "TERM"
    }

    fn log(&self) -> PathBuf {
        self.dir().join("redis.log")
    }
}

/// `PING` answered by `+PONG`: Redis accepts commands (a bare TCP accept comes
/// earlier, while it may still be loading).
fn ping(port: u16) -> Result<bool> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(300))?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    stream.write_all(b"PING\r\n")?;
    let mut reply = [0_u8; 7];
    let read = stream.read(&mut reply)?;
    Ok(reply[..read].starts_with(b"+PONG"))
}

fn render_config(dir: &Path, port: u16, persistence: Persistence) -> String {
    let persistence = match persistence {
        Persistence::None => {
            "\
# No snapshots and no AOF: test data is disposable, and a fork per save would
# disturb benchmarks.
save \"\"
appendonly no
"
        }
        Persistence::AppendOnly => {
            "\
# As the chart with persistence enabled: the append-only file, fsynced every
# second (Redis's default), snapshots at Redis's default intervals.
appendonly yes
appendfsync everysec
"
        }
    };
    format!(
        "\
# Written by `cargo xtask services up` (xtask/src/services/redis.rs): edits are overwritten.
bind 127.0.0.1
port {port}
protected-mode yes
daemonize no
# Logs go to standard output, which xtask appends to redis.log.
logfile \"\"
dir \"{dir}\"
{persistence}",
        dir = dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_listens_on_loopback_only_and_keeps_no_data() {
        let config = render_config(
            Path::new("/repo/target/services/redis"),
            PORT,
            Persistence::None,
        );
        assert!(config.contains("\nbind 127.0.0.1\n"));
        assert!(config.contains("\nport 6379\n"));
        assert!(config.contains("\ndir \"/repo/target/services/redis\"\n"));
        assert!(config.contains("\nsave \"\"\n"));
        assert!(config.contains("\ndaemonize no\n"));
        assert!(!config.contains("requirepass"));
        assert!(config.contains("\nappendonly no\n"));
    }

    #[test]
    fn the_append_only_mode_writes_the_aof_every_second() {
        let config = render_config(Path::new("/chaos/redis"), 16379, Persistence::AppendOnly);
        assert!(config.contains("\nport 16379\n"));
        assert!(config.contains("\nappendonly yes\n"));
        assert!(config.contains("\nappendfsync everysec\n"));
        assert!(!config.contains("save \"\""));
    }
}
