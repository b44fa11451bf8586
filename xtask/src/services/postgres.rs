//! PostgreSQL on 127.0.0.1 (5432 for the shared test server): Debian's server
//! binaries, our own cluster in `<base>/postgres/data`, run as the `postgres` system
//! user (the server refuses to run as root), password `postgres` over TCP.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{Service, process};
use crate::cmd;

/// The clients' port of the shared test server.
pub const PORT: u16 = 5432;
/// Where Debian installs each major version's server binaries.
const DEBIAN_LIB: &str = "/usr/lib/postgresql";
/// The system user that owns the cluster.
const USER: &str = "postgres";

/// A PostgreSQL server of ours.
#[derive(Debug, Clone)]
pub struct Postgres {
    /// The clients' port.
    pub port: u16,
    /// Where its directory `postgres/` goes.
    pub base: PathBuf,
    /// Whether commits survive a crash (`fsync`, `synchronous_commit` and
    /// `full_page_writes` on, as in the chart's official image).
    pub durable: bool,
}

impl Postgres {
    /// The shared test server: port 5432, durability traded for speed.
    pub fn shared(base: &Path) -> Self {
        Self {
            port: PORT,
            base: base.to_owned(),
            durable: false,
        }
    }
}

impl Service for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn ports(&self) -> Vec<u16> {
        vec![self.port]
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres:postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    fn dir(&self) -> PathBuf {
        self.base.join(self.name())
    }

    fn pid_file_pid(&self) -> Option<u32> {
        process::read_pid_file(&self.dir().join("postgres.pid"))
    }

    fn start(&self) -> Result<()> {
        let bin = bin_dir()?;
        let user = system_user()?;
        let dir = self.dir();
        let data = dir.join("data");
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        // The server reaches its data through every ancestor directory; where one
        // is closed to others (a checkout under /root), it gets the capability to
        // traverse directories instead of us opening them up.
        let blocked = first_blocked_ancestor(&ancestors_of(&dir)?, user.uid);
        if let Some(blocked) = &blocked {
            println!(
                "postgres: {} is not traversable by `{USER}`: running the server with CAP_DAC_READ_SEARCH",
                blocked.display()
            );
        }
        let as_postgres = |program: &Path| -> Command {
            let mut command = cmd::new("setpriv");
            command.args(["--reuid", USER, "--regid", USER, "--init-groups"]);
            if blocked.is_some() {
                command.args([
                    "--inh-caps=+dac_read_search",
                    "--ambient-caps=+dac_read_search",
                ]);
            }
            command.arg("--").arg(program).current_dir(&dir);
            command
        };

        if !data.join("PG_VERSION").is_file() {
            init(&bin, &dir, &data, &user, &as_postgres)?;
        }
        let cluster = fs::read_to_string(data.join("PG_VERSION"))?;
        let major = major_version(&bin);
        if cluster.trim() != major {
            bail!(
                "{} holds a PostgreSQL {} cluster but the server is {major}: delete {} to start afresh",
                data.display(),
                cluster.trim(),
                dir.display()
            );
        }
        write_owned(
            &data.join("obi-examples.conf"),
            &render_config(self.port, self.durable),
            &user,
        )?;
        write_owned(&data.join("pg_hba.conf"), HBA, &user)?;
        let main_config = data.join("postgresql.conf");
        let main = fs::read_to_string(&main_config)?;
        if !main.contains(INCLUDE) {
            write_owned(&main_config, &format!("{main}\n{INCLUDE}\n"), &user)?;
        }

        let pid = process::spawn(
            as_postgres(&bin.join("postgres")).arg("-D").arg(&data),
            &self.log(),
        )?;
        fs::write(dir.join("postgres.pid"), format!("{pid}\n"))?;
        Ok(())
    }

    fn ready(&self) -> Result<bool> {
        if let Some(pid) = self.pid_file_pid()
            && !process::alive(pid)
        {
            bail!("the postmaster (pid {pid}) exited");
        }
        let bin = bin_dir()?;
        let accepting = cmd::new(bin.join("pg_isready"))
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-t",
                "1",
            ])
            .status()?
            .success();
        if !accepting {
            return Ok(false);
        }
        // Accepting is not enough: prove the password and the TCP auth method work.
        cmd::output(
            cmd::new(bin.join("psql"))
                .arg(self.url())
                .args(["-XtAc", "select 1"]),
        )
        .context("PostgreSQL accepts connections but not our login")?;
        Ok(true)
    }

    fn start_timeout(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn stop_signal(&self) -> &'static str {
        // SIGINT is PostgreSQL's "fast" shutdown: roll back sessions, then exit.
        "INT"
    }

    fn log(&self) -> PathBuf {
        self.dir().join("postgres.log")
    }
}

/// Creates the cluster: superuser `postgres` with password `postgres`, password
/// authentication on TCP, UTF-8 in the C locale (same sort order everywhere).
fn init(
    bin: &Path,
    dir: &Path,
    data: &Path,
    user: &User,
    as_postgres: &dyn Fn(&Path) -> Command,
) -> Result<()> {
    println!("postgres: initialising a cluster in {}", data.display());
    fs::create_dir_all(data)?;
    chown(data, Some(user.uid), Some(user.gid))?;
    fs::set_permissions(data, fs::Permissions::from_mode(0o700))?;
    let password_file = dir.join("initdb.pw");
    write_owned(&password_file, "postgres\n", user)?;
    fs::set_permissions(&password_file, fs::Permissions::from_mode(0o600))?;
    let result = cmd::output(
        as_postgres(&bin.join("initdb"))
            .arg("--pgdata")
            .arg(data)
            .args(["--username", "postgres", "--pwfile"])
            .arg(&password_file)
            .args([
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ]),
    );
    let _ = fs::remove_file(&password_file);
    if let Err(err) = result {
        // Half a cluster would be taken for a whole one next time.
        let _ = fs::remove_dir_all(data);
        return Err(err);
    }
    Ok(())
}

const INCLUDE: &str = "include 'obi-examples.conf'";

/// Our settings, included at the end of `postgresql.conf` so that they win.
fn render_config(port: u16, durable: bool) -> String {
    let durability = if durable {
        "\
# Durable, as the chart's official image runs (PostgreSQL's defaults): a commit is
# acknowledged once its WAL is flushed to disk.
fsync = on
synchronous_commit = on
full_page_writes = on
"
    } else {
        "\
# Disposable test data: durability traded for speed (never for a durability claim:
# `cargo xtask chaos` runs its own durable server).
fsync = off
synchronous_commit = off
full_page_writes = off
"
    };
    format!(
        "\
# Written by `cargo xtask services up` (xtask/src/services/postgres.rs): edits are overwritten.
listen_addresses = '127.0.0.1'
port = {port}
# No Unix socket: clients use TCP, and a socket path under a deep checkout can
# exceed the 107-byte limit.
unix_socket_directories = ''
# Plaintext only, so that OBI sees the SQL (Debian's default cluster has ssl = on).
ssl = off
max_connections = 200
shared_buffers = 128MB
password_encryption = 'scram-sha-256'
timezone = 'UTC'
log_timezone = 'UTC'
{durability}"
    )
}

/// Trust on the (disabled) local socket, passwords on loopback TCP.
const HBA: &str = "\
# Written by `cargo xtask services up` (xtask/src/services/postgres.rs): edits are overwritten.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
";

/// The newest major version's `bin/` under Debian's library directory.
fn bin_dir() -> Result<PathBuf> {
    let newest = fs::read_dir(DEBIAN_LIB)
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major);
    match newest {
        Some((_, bin)) => Ok(bin),
        None => bail!("no PostgreSQL server in {DEBIAN_LIB}/*/bin: run `cargo xtask tools`"),
    }
}

/// The major version of a `/usr/lib/postgresql/<major>/bin` directory.
fn major_version(bin: &Path) -> String {
    bin.parent()
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A system user's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct User {
    uid: u32,
    gid: u32,
}

fn system_user() -> Result<User> {
    let passwd = fs::read_to_string("/etc/passwd").context("cannot read /etc/passwd")?;
    parse_passwd(&passwd, USER)
        .with_context(|| format!("no `{USER}` user: install PostgreSQL with `cargo xtask tools`"))
}

/// The ids of `name` in an `/etc/passwd` text (`name:x:uid:gid:...`).
fn parse_passwd(passwd: &str, name: &str) -> Option<User> {
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&name)).then_some(())?;
        Some(User {
            uid: fields.get(2)?.parse().ok()?,
            gid: fields.get(3)?.parse().ok()?,
        })
    })
}

/// Every proper ancestor of `dir` with its mode and owner.
fn ancestors_of(dir: &Path) -> Result<Vec<(PathBuf, u32, u32)>> {
    dir.ancestors()
        .skip(1)
        .map(|ancestor| {
            let meta = fs::metadata(ancestor)
                .with_context(|| format!("cannot inspect {}", ancestor.display()))?;
            Ok((ancestor.to_owned(), meta.mode(), meta.uid()))
        })
        .collect()
}

/// The first directory that user `uid` may not traverse: neither its owner nor
/// allowed by the others' execute bit. (Group bits are ignored: conservative.)
fn first_blocked_ancestor(ancestors: &[(PathBuf, u32, u32)], uid: u32) -> Option<PathBuf> {
    ancestors
        .iter()
        .find(|(_, mode, owner)| {
            let allowed = if *owner == uid {
                mode & 0o100
            } else {
                mode & 0o001
            };
            allowed == 0
        })
        .map(|(path, _, _)| path.clone())
}

/// Writes `text` to `path` and hands the file to the cluster's owner.
fn write_owned(path: &Path, text: &str, user: &User) -> Result<()> {
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    chown(path, Some(user.uid), Some(user.gid))
        .with_context(|| format!("cannot chown {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_listens_on_loopback_without_tls() {
        let config = render_config(PORT, false);
        assert!(config.contains("\nlisten_addresses = '127.0.0.1'\n"));
        assert!(config.contains("\nport = 5432\n"));
        assert!(config.contains("\nssl = off\n"));
        assert!(config.contains("\nmax_connections = 200\n"));
        assert!(config.contains("\nunix_socket_directories = ''\n"));
    }

    #[test]
    fn only_the_durable_config_flushes_commits() {
        let fast = render_config(PORT, false);
        assert!(fast.contains("\nfsync = off\n"));
        assert!(fast.contains("\nsynchronous_commit = off\n"));
        let durable = render_config(15432, true);
        assert!(durable.contains("\nport = 15432\n"));
        for setting in ["fsync", "synchronous_commit", "full_page_writes"] {
            assert!(
                durable.contains(&format!("\n{setting} = on\n")),
                "{setting}"
            );
            assert!(
                !durable.contains(&format!("\n{setting} = off\n")),
                "{setting}"
            );
        }
    }

    #[test]
    fn tcp_logins_need_a_password() {
        let host_lines: Vec<&str> = HBA
            .lines()
            .filter(|line| line.starts_with("host"))
            .collect();
        assert_eq!(host_lines.len(), 2);
        assert!(
            host_lines
                .iter()
                .all(|line| line.ends_with("scram-sha-256"))
        );
    }

    #[test]
    fn the_postgres_user_is_found_in_passwd() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n";
        assert_eq!(
            parse_passwd(passwd, "postgres"),
            Some(User { uid: 101, gid: 104 })
        );
        assert_eq!(parse_passwd(passwd, "redis"), None);
        assert_eq!(parse_passwd(passwd, "postgre"), None);
    }

    #[test]
    fn a_private_home_blocks_traversal_but_open_directories_do_not() {
        let ancestors = vec![
            (PathBuf::from("/root/clone/target"), 0o40755, 0),
            (PathBuf::from("/root/clone"), 0o40755, 0),
            (PathBuf::from("/root"), 0o40700, 0),
            (PathBuf::from("/"), 0o40755, 0),
        ];
        assert_eq!(
            first_blocked_ancestor(&ancestors, 101),
            Some(PathBuf::from("/root"))
        );
        let open = &ancestors[..2];
        assert_eq!(first_blocked_ancestor(open, 101), None);
        // Its own private directory does not block the owner.
        let owned = vec![(PathBuf::from("/srv/pg"), 0o40700, 101)];
        assert_eq!(first_blocked_ancestor(&owned, 101), None);
    }

    #[test]
    fn the_major_version_is_the_library_directory_name() {
        assert_eq!(major_version(Path::new("/usr/lib/postgresql/15/bin")), "15");
    }
}
