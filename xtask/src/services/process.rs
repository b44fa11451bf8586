//! Starting, finding and stopping server processes: `/proc` read with procfs, signals
//! sent with `kill` (the workspace forbids `unsafe`; a shell tool needs none).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use std::os::unix::process::CommandExt;

/// Starts `command` detached: its own process group (a Ctrl-C in the terminal
/// that ran xtask does not reach it), stdin closed, output appended to `log`.
/// Returns its pid; the server outlives xtask.
pub fn spawn(command: &mut Command, log: &Path) -> Result<u32> {
    let out = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    let child = command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("cannot start {:?}", command.get_program()))?;
    Ok(child.id())
}

fn process(pid: u32) -> Option<procfs::process::Process> {
    procfs::process::Process::new(i32::try_from(pid).ok()?).ok()
}

/// True when `pid` exists and has not exited (a zombie counts as exited).
pub fn alive(pid: u32) -> bool {
    process(pid)
        .and_then(|p| p.stat().ok())
        .is_some_and(|stat| !matches!(stat.state, 'Z' | 'X'))
}

/// The working directory of `pid`, which tells our servers apart: each runs in
/// its service directory (PostgreSQL in its data directory).
pub fn cwd(pid: u32) -> Option<PathBuf> {
    process(pid)?.cwd().ok()
}

/// The command line of `pid`, arguments joined by spaces.
pub fn cmdline(pid: u32) -> String {
    process(pid)
        .and_then(|p| p.cmdline().ok())
        .map(|args| args.join(" "))
        .unwrap_or_default()
}

/// True when `pid` is alive and runs inside `dir`.
pub fn runs_in(pid: u32, dir: &Path) -> bool {
    alive(pid) && cwd(pid).is_some_and(|cwd| cwd.starts_with(dir))
}

/// The pid in the first line of `path` (our pid files and `postmaster.pid` alike).
pub fn read_pid_file(path: &Path) -> Option<u32> {
    fs::read_to_string(path)
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Sends `signal` (a name such as `TERM`) to `pid`; a negative target names a
/// process group.
pub fn signal(target: i64, signal: &str) -> Result<()> {
    let status = Command::new("kill")
        .args(["-s", signal, "--"])
        .arg(target.to_string())
        .stderr(Stdio::null())
        .status()
        .context("cannot run `kill`")?;
    if !status.success() {
        bail!("`kill -s {signal} {target}` failed");
    }
    Ok(())
}

/// Reaps `pid` if it is an exited child of this process: a zombie still holds its
/// pid, which PostgreSQL's lock file check takes for a live postmaster. A pid that
/// is not our child is left alone.
pub fn reap(pid: u32) {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::NOHANG);
}

/// The pids whose parent is `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(all) = procfs::process::all_processes() else {
        return Vec::new();
    };
    all.flatten()
        .filter_map(|process| {
            let stat = process.stat().ok()?;
            (u32::try_from(stat.ppid).ok()? == pid).then(|| u32::try_from(stat.pid).ok())?
        })
        .collect()
}

/// Waits until `pid` has exited, for at most `timeout`.
pub fn wait_exit(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// After a polite signal was sent: waits up to `grace`, then kills the whole
/// process group (PostgreSQL's backends, a JVM's threads), and waits again.
pub fn finish_stop(name: &str, pid: u32, grace: Duration) -> Result<()> {
    if wait_exit(pid, grace) {
        return Ok(());
    }
    eprintln!(
        "{name}: still running {}s after the stop signal; killing process group {pid}",
        grace.as_secs()
    );
    let _ = signal(-i64::from(pid), "KILL");
    let _ = signal(i64::from(pid), "KILL");
    if !wait_exit(pid, Duration::from_secs(10)) {
        bail!("{name}: pid {pid} survived SIGKILL");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_runs_somewhere() {
        let me = std::process::id();
        assert!(alive(me));
        assert!(cwd(me).is_some());
        assert!(!cmdline(me).is_empty());
    }

    #[test]
    fn a_stopped_child_is_not_alive_even_as_a_zombie() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        assert!(alive(pid));
        signal(i64::from(pid), "TERM").unwrap();
        // Not reaped yet: the child is a zombie until `wait`, which must not count.
        assert!(wait_exit(pid, Duration::from_secs(5)));
        child.wait().unwrap();
    }

    #[test]
    fn a_killed_child_is_found_among_our_children_and_reaped() {
        let child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        drop(child);
        assert!(children(std::process::id()).contains(&pid));
        signal(i64::from(pid), "KILL").unwrap();
        assert!(wait_exit(pid, Duration::from_secs(5)));
        // A zombie until reaped: its /proc entry is still there.
        assert!(process(pid).is_some());
        reap(pid);
        assert!(process(pid).is_none());
    }
}
