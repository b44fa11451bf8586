//! Redis on 127.0.0.1:6379: Debian's `redis-server` with our configuration, no
//! password, no persistence (tests use unique key prefixes and need no restore).

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{Service, process};
use crate::cmd;

/// The clients' port.
pub const PORT: u16 = 6379;

/// Our Redis server.
#[derive(Debug)]
pub struct Redis;

impl Service for Redis {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn ports(&self) -> &'static [u16] {
        &[PORT]
    }

    fn url(&self) -> &'static str {
        "redis://127.0.0.1:6379"
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
        fs::write(&config, render_config(&dir))
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
        Ok(ping().unwrap_or(false))
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
fn ping() -> Result<bool> {
    let addr = SocketAddr::from(([127, 0, 0, 1], PORT));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(300))?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    stream.write_all(b"PING\r\n")?;
    let mut reply = [0_u8; 7];
    let read = stream.read(&mut reply)?;
    Ok(reply[..read].starts_with(b"+PONG"))
}

fn render_config(dir: &Path) -> String {
    format!(
        "\
# Written by `cargo xtask services up` (xtask/src/services/redis.rs): edits are overwritten.
bind 127.0.0.1
port {PORT}
protected-mode yes
daemonize no
# Logs go to standard output, which xtask appends to redis.log.
logfile \"\"
dir \"{dir}\"
# No snapshots and no AOF: test data is disposable, and a fork per save would
# disturb benchmarks.
save \"\"
appendonly no
",
        dir = dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_listens_on_loopback_only_and_keeps_no_data() {
        let config = render_config(Path::new("/repo/target/services/redis"));
        assert!(config.contains("\nbind 127.0.0.1\n"));
        assert!(config.contains("\nport 6379\n"));
        assert!(config.contains("\ndir \"/repo/target/services/redis\"\n"));
        assert!(config.contains("\nsave \"\"\n"));
        assert!(config.contains("\ndaemonize no\n"));
        assert!(!config.contains("requirepass"));
    }
}
