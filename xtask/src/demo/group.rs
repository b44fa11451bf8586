//! The demo's child processes, each in its own process group: a Ctrl-C in the
//! terminal reaches only xtask, which stops them in order (load, apps, backends),
//! and a stop takes the whole group, so that nothing a child started survives it.
//! A second Ctrl-C kills every group still registered here.

use std::process::{Child, Command, ExitStatus};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use std::os::unix::process::CommandExt;

use crate::services::process::signal;

/// Process groups started by the demo and not yet stopped.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Remembers a process group for [`kill_all`].
pub fn register(pgid: u32) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).push(pgid);
}

/// Forgets a stopped process group.
pub fn unregister(pgid: u32) {
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|live| *live != pgid);
}

/// SIGKILL to every registered group: the forced stop of a second Ctrl-C.
pub fn kill_all() {
    kill(std::mem::take(
        &mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()),
    ));
}

fn kill(groups: Vec<u32>) {
    for pgid in groups {
        let _ = signal(-i64::from(pgid), "KILL");
    }
}

/// The live (not zombie) processes of group `pgid`.
pub fn members(pgid: u32) -> Vec<u32> {
    let Ok(all) = procfs::process::all_processes() else {
        return Vec::new();
    };
    all.filter_map(|p| p.ok()?.stat().ok())
        .filter(|stat| i64::from(stat.pgrp) == i64::from(pgid))
        .filter(|stat| !matches!(stat.state, 'Z' | 'X'))
        .filter_map(|stat| u32::try_from(stat.pid).ok())
        .collect()
}

/// A child process leading its own process group.
#[derive(Debug)]
pub struct Group {
    /// What it is, for messages.
    pub name: String,
    child: Child,
    stopped: bool,
}

impl Group {
    /// Spawns `command` as the leader of a new process group.
    pub fn spawn(name: impl Into<String>, command: &mut Command) -> Result<Self> {
        let name = name.into();
        let child = command
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {name} ({:?})", command.get_program()))?;
        register(child.id());
        Ok(Self {
            name,
            child,
            stopped: false,
        })
    }

    /// The leader's pid, which is also the group's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child itself (its pipes).
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The leader's exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends `signal_name` to the group, waits up to `grace` for the leader, then
    /// kills whatever is left of the group. Returns whether the leader exited
    /// within `grace`.
    pub fn stop(&mut self, signal_name: &str, grace: Duration) -> bool {
        if self.stopped {
            return true;
        }
        let pgid = self.pid();
        let _ = signal(-i64::from(pgid), signal_name);
        let deadline = Instant::now() + grace;
        let mut polite = false;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                polite = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Also when the leader exited: children it left behind go with the group.
        if !members(pgid).is_empty() {
            let _ = signal(-i64::from(pgid), "KILL");
        }
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !members(pgid).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        unregister(pgid);
        self.stopped = true;
        polite
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop("KILL", Duration::ZERO);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn a_stop_leaves_no_process_of_the_group_behind() {
        // A leader that ignores SIGTERM and a grandchild that would outlive it.
        let mut group =
            Group::spawn("test", &mut shell("trap '' TERM; sleep 300 & sleep 300")).unwrap();
        let pgid = group.pid();
        let deadline = Instant::now() + Duration::from_secs(5);
        while members(pgid).len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(members(pgid).len() >= 2, "the group did not start");
        assert!(
            !group.stop("TERM", Duration::from_millis(300)),
            "TERM is ignored"
        );
        assert_eq!(members(pgid), Vec::<u32>::new());
        assert!(!LIVE.lock().unwrap().contains(&pgid));
    }

    #[test]
    fn a_polite_stop_reports_the_leaders_own_exit() {
        let mut group = Group::spawn("test", &mut shell("sleep 300")).unwrap();
        assert!(group.stop("TERM", Duration::from_secs(5)));
        assert_eq!(members(group.pid()), Vec::<u32>::new());
    }

    #[test]
    fn a_dropped_group_is_killed_and_a_forced_stop_kills_whole_groups() {
        let pgid = {
            let group = Group::spawn("test", &mut shell("sleep 300")).unwrap();
            group.pid()
        };
        assert_eq!(members(pgid), Vec::<u32>::new());

        // kill_all's own registry is shared with the other tests: kill one group.
        let mut orphan = shell("sleep 300").process_group(0).spawn().unwrap();
        kill(vec![orphan.id()]);
        let status = orphan.wait().unwrap();
        assert!(!status.success(), "sleep was killed: {status}");
    }
}
