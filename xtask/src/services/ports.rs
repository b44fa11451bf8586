//! Who listens on a TCP port: the socket from `/proc/net/tcp` and `tcp6`, its
//! process from the `socket:[inode]` links in `/proc/<pid>/fd`.

use std::fmt;
use std::fs;

use super::process;

/// A process listening on a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Its pid.
    pub pid: u32,
    /// Its real user id.
    pub uid: u32,
    /// Its command line.
    pub cmdline: String,
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A JVM's command line runs to hundreds of characters; the head names it.
        const SHOWN: usize = 160;
        match self.cmdline.char_indices().nth(SHOWN) {
            Some((cut, _)) => write!(f, "pid {} `{}…`", self.pid, &self.cmdline[..cut]),
            None => write!(f, "pid {} `{}`", self.pid, self.cmdline),
        }
    }
}

/// Who, if anyone, listens on a TCP port (any address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listener {
    /// Nobody.
    Free,
    /// Someone; the owner is unknown when no visible process holds the socket
    /// (another network namespace, or no permission to read its fds).
    Taken(Option<Owner>),
}

/// Looks `port` up among the listening sockets of both address families (a JVM
/// listens on IPv6 sockets even for 127.0.0.1).
pub fn listener(port: u16) -> Listener {
    let inodes: Vec<u64> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| fs::read_to_string(table).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(parse_listener)
                .filter(|(listen_port, _)| *listen_port == port)
                .map(|(_, inode)| inode)
                .collect::<Vec<_>>()
        })
        .collect();
    if inodes.is_empty() {
        return Listener::Free;
    }
    Listener::Taken(find_owner(&inodes))
}

/// A description of the listener for messages: "free", or who holds the port.
pub fn describe(listener: &Listener) -> String {
    match listener {
        Listener::Free => "free".to_owned(),
        Listener::Taken(Some(owner)) => owner.to_string(),
        Listener::Taken(None) => "a process this user cannot see".to_owned(),
    }
}

/// The local port and socket inode of a `/proc/net/tcp{,6}` line in state LISTEN.
fn parse_listener(line: &str) -> Option<(u16, u64)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    let (local, state, inode) = (fields.get(1)?, fields.get(3)?, fields.get(9)?);
    if *state != "0A" {
        return None;
    }
    let port = u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()?;
    Some((port, inode.parse().ok()?))
}

fn find_owner(inodes: &[u64]) -> Option<Owner> {
    let wanted: Vec<String> = inodes
        .iter()
        .map(|inode| format!("socket:[{inode}]"))
        .collect();
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            fs::read_link(fd.path()).is_ok_and(|target| {
                wanted
                    .iter()
                    .any(|want| target.as_os_str() == want.as_str())
            })
        });
        if holds {
            let status = fs::read_to_string(entry.path().join("status")).unwrap_or_default();
            return Some(Owner {
                pid,
                uid: real_uid(&status).unwrap_or(u32::MAX),
                cmdline: process::cmdline(pid),
            });
        }
    }
    None
}

/// The real uid in a `/proc/<pid>/status` text (`Uid: real effective saved fs`).
fn real_uid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn ipv4_listeners_give_port_and_inode() {
        let line = "   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 31337 1 0000000000000000 100 0 0 10 0";
        assert_eq!(parse_listener(line), Some((5432, 31337)));
    }

    #[test]
    fn ipv6_listeners_give_port_and_inode() {
        let line = "   1: 0000000000000000FFFF00000100007F:2384 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0";
        assert_eq!(parse_listener(line), Some((9092, 4242)));
    }

    #[test]
    fn connected_sockets_are_not_listeners() {
        let established = "   2: 0100007F:18EB 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 20 4 30 10 -1";
        assert_eq!(parse_listener(established), None);
        assert_eq!(parse_listener("  sl  local_address rem_address   st"), None);
    }

    #[test]
    fn the_real_uid_comes_from_the_uid_line() {
        let status = "Name:\tredis-server\nUmask:\t0022\nUid:\t102\t102\t102\t102\nGid:\t105\t105\t105\t105\n";
        assert_eq!(real_uid(status), Some(102));
    }

    #[test]
    fn a_port_we_listen_on_is_owned_by_this_process() {
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        match listener(port) {
            Listener::Taken(Some(owner)) => assert_eq!(owner.pid, std::process::id()),
            other => panic!("expected this process, got {other:?}"),
        }
        drop(socket);
        // Another process on the machine may grab the freed port at once: all this
        // can assert is that it is no longer ours.
        match listener(port) {
            Listener::Free => {}
            Listener::Taken(owner) => {
                assert_ne!(
                    owner.map(|o| o.pid),
                    Some(std::process::id()),
                    "still ours after close"
                )
            }
        }
    }
}
