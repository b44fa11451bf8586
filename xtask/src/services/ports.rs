//! Who listens on a TCP port: the socket from `/proc/net/tcp` and `tcp6`, its
//! process by the socket among the open files of each process (read with procfs).

use std::fmt;

use procfs::net::TcpState;
use procfs::process::FDTarget;

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
    let inodes: Vec<u64> = [procfs::net::tcp(), procfs::net::tcp6()]
        .into_iter()
        .filter_map(Result::ok)
        .flatten()
        .filter(|entry| entry.state == TcpState::Listen && entry.local_address.port() == port)
        .map(|entry| entry.inode)
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

/// The first process with one of the sockets `inodes` among its open files.
fn find_owner(inodes: &[u64]) -> Option<Owner> {
    for process in procfs::process::all_processes().ok()?.flatten() {
        let Ok(fds) = process.fd() else {
            continue;
        };
        let holds = fds
            .flatten()
            .any(|fd| matches!(fd.target, FDTarget::Socket(inode) if inodes.contains(&inode)));
        if holds {
            let pid = u32::try_from(process.pid).ok()?;
            return Some(Owner {
                pid,
                uid: process.status().map_or(u32::MAX, |status| status.ruid),
                cmdline: process::cmdline(pid),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

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
