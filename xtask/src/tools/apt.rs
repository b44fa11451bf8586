//! Debian packages: the servers behind `cargo xtask services`, Prometheus for
//! the telemetry tier, protoc for poem-grpc's build, load-test drivers, and
//! podman, runc and mmdebstrap for the container images.
//!
//! Versions are the Debian release's (pinned by the release, patched by its
//! security updates). `apt-get update` runs only when something is missing, and
//! the packages' own daemons are kept from starting: ours run on the same ports.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{Install, Row};
use crate::cmd;
use crate::services::ports::{self, Listener};

/// Package name and the file shown for it in the table.
const PACKAGES: &[(&str, &str)] = &[
    ("postgresql", "/usr/lib/postgresql"),
    ("postgresql-contrib", "/usr/share/postgresql"),
    ("redis-server", "/usr/bin/redis-server"),
    ("redis-tools", "/usr/bin/redis-benchmark"),
    ("prometheus", "/usr/bin/prometheus"),
    ("protobuf-compiler", "/usr/bin/protoc"),
    ("wrk", "/usr/bin/wrk"),
    ("hyperfine", "/usr/bin/hyperfine"),
    // actionlint runs it over the workflows' `run:` scripts.
    ("shellcheck", "/usr/bin/shellcheck"),
    // `cargo xtask images`: podman with runc (crun fails on these machines'
    // cgroups), and mmdebstrap for the base images.
    ("podman", "/usr/bin/podman"),
    ("runc", "/usr/sbin/runc"),
    ("mmdebstrap", "/usr/bin/mmdebstrap"),
    // `cargo xtask cluster up` makes the control plane's certificates with it.
    ("openssl", "/usr/bin/openssl"),
];

/// The package names, for `cargo xtask tools apt-packages`: CI installs them with
/// sudo (the gate itself runs unprivileged there, and bails on missing packages).
pub fn package_names() -> Vec<&'static str> {
    PACKAGES.iter().map(|(name, _)| *name).collect()
}

/// The policy hook that tells `invoke-rc.d` not to start services (exit 101).
const POLICY_RC_D: &str = "/usr/sbin/policy-rc.d";

/// Installs the missing packages, then makes sure no Debian daemon sits on a port
/// of ours.
pub(super) fn ensure(install: &mut Install) -> Result<()> {
    let names: Vec<&str> = PACKAGES.iter().map(|(name, _)| *name).collect();
    let mut installed = query(&names)?;
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| !installed.iter().any(|(package, _)| package == name))
        .collect();
    if !missing.is_empty() {
        apt_install(&missing)?;
        installed = query(&names)?;
        if let Some(name) = names
            .iter()
            .find(|name| !installed.iter().any(|(package, _)| package == *name))
        {
            bail!("apt-get finished but {name} is not installed");
        }
    }
    stop_debian_daemons()?;
    for (name, path) in PACKAGES {
        let version = installed
            .iter()
            .find(|(package, _)| package == name)
            .map(|(_, version)| version.clone())
            .unwrap_or_default();
        install.rows.push(Row::new(*name, version, *path));
    }
    Ok(())
}

/// Installed packages among `names`, with their versions, from one `dpkg-query`.
fn query(names: &[&str]) -> Result<Vec<(String, String)>> {
    // Not `cmd::output`: dpkg-query exits 1 when any name is unknown, but still
    // prints the others, which is what we want.
    let out = cmd::new("dpkg-query")
        .args(["-W", "-f", "${Package}\t${db:Status-Abbrev}\t${Version}\n"])
        .args(names)
        .output()
        .context("cannot run dpkg-query (is this Debian?)")?;
    Ok(parse_installed(&String::from_utf8_lossy(&out.stdout)))
}

/// `(package, version)` of the fully installed (`ii`) lines of `dpkg-query` output.
fn parse_installed(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let (package, status, version) = (fields.next()?, fields.next()?, fields.next()?);
            (status.trim() == "ii").then(|| (package.to_owned(), version.to_owned()))
        })
        .collect()
}

fn apt_install(missing: &[&str]) -> Result<()> {
    println!("installing Debian packages: {}", missing.join(" "));
    if !is_root() {
        bail!(
            "missing Debian packages; as root run:\n  apt-get update && apt-get install -y --no-install-recommends {}",
            missing.join(" ")
        );
    }
    let _policy = NoDaemonStarts::install()?;
    let apt = |args: &[&str]| {
        let mut command = cmd::new("apt-get");
        command
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["-q", "-y"])
            .args(args);
        cmd::run(&mut command)
    };
    apt(&["update"])?;
    let mut install = vec!["install", "--no-install-recommends"];
    install.extend_from_slice(missing);
    apt(&install)
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// While alive, `policy-rc.d` forbids package scripts to start daemons: the
/// postinst of postgresql and redis-server would otherwise take 5432 and 6379
/// where an init system runs. Only a hook we created is removed again.
#[derive(Debug)]
struct NoDaemonStarts {
    created: Option<PathBuf>,
}

impl NoDaemonStarts {
    fn install() -> Result<Self> {
        let path = Path::new(POLICY_RC_D);
        if path.exists() {
            return Ok(Self { created: None });
        }
        fs::write(
            path,
            "#!/bin/sh\n# cargo xtask tools: no daemon starts during apt-get.\nexit 101\n",
        )
        .with_context(|| format!("cannot write {POLICY_RC_D}"))?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
        Ok(Self {
            created: Some(path.to_owned()),
        })
    }
}

impl Drop for NoDaemonStarts {
    fn drop(&mut self) {
        if let Some(path) = &self.created {
            let _ = fs::remove_file(path);
        }
    }
}

/// Stops Debian's own PostgreSQL cluster or Redis daemon if one holds our port
/// (started by an init system, or by hand). Anything else on those ports is left
/// alone; `cargo xtask services up` names it.
fn stop_debian_daemons() -> Result<()> {
    let daemons = [
        (5432, "postgresql", "/etc/postgresql/"),
        (6379, "redis-server", "/etc/redis/"),
    ];
    for (port, service, marker) in daemons {
        let Listener::Taken(Some(owner)) = ports::listener(port) else {
            continue;
        };
        // Debian's redis-server retitles itself; its user tells it apart from ours.
        let debian = owner.cmdline.contains(marker)
            || (service == "redis-server" && uid_of("redis") == Some(owner.uid));
        if !debian {
            continue;
        }
        println!("stopping Debian's {service} daemon on port {port} ({owner})");
        let systemd = Path::new("/run/systemd/system").is_dir();
        let stopped = if systemd {
            cmd::run(cmd::new("systemctl").args(["disable", "--now", service]))
        } else {
            cmd::run(cmd::new("service").args([service, "stop"]))
        };
        stopped.with_context(|| format!("cannot stop Debian's {service} on port {port}"))?;
    }
    Ok(())
}

/// The uid of a system user, from `/etc/passwd`.
fn uid_of(user: &str) -> Option<u32> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == user).then_some(())?;
        fields.nth(1)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fully_installed_packages_count() {
        let output = "postgresql\tii \t15+248+deb12u2\n\
                      redis-server\trc \t5:7.0.15-1~deb12u10\n\
                      wrk\tun \t\n";
        assert_eq!(
            parse_installed(output),
            vec![("postgresql".to_owned(), "15+248+deb12u2".to_owned())]
        );
    }

    #[test]
    fn the_system_users_exist_here() {
        assert_eq!(uid_of("root"), Some(0));
        assert_eq!(uid_of("no-such-user-here"), None);
    }
}
