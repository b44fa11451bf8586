//! Running external programs with the tool cache on `PATH` and clear errors.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::paths;

/// A command with the tool cache's `bin/` in front of `PATH`, run from the repository root.
pub fn new(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(paths::root())
        .env("PATH", path_with_tools());
    command
}

/// `PATH` with the tool cache (and Go's and Cargo's bin dirs) in front.
pub fn path_with_tools() -> std::ffi::OsString {
    let mut dirs = vec![paths::tools_bin()];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(std::path::PathBuf::from(&home).join(".cargo/bin"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).expect("PATH entries contain no separator")
}

/// Runs `command`, streaming its output; fails naming the command on a non-zero exit.
pub fn run(command: &mut Command) -> Result<()> {
    let shown = display(command);
    eprintln!("$ {shown}");
    let status = command
        .status()
        .with_context(|| format!("cannot start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed with {status}");
    }
    Ok(())
}

/// Runs `command` and returns its standard output; fails with its standard error.
pub fn output(command: &mut Command) -> Result<String> {
    let shown = display(command);
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot start `{shown}`"))?;
    if !out.status.success() {
        bail!(
            "`{shown}` failed with {}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// True when `program` can be found on the tool-extended `PATH`.
pub fn exists(program: &str) -> bool {
    std::env::split_paths(&path_with_tools()).any(|dir| dir.join(program).is_file())
}

fn display(command: &Command) -> String {
    let mut shown = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        shown.push(' ');
        shown.push_str(&arg.to_string_lossy());
    }
    shown
}
