//! `cargo xtask demo`: the project's lab without Kubernetes. The real backing
//! services and every app, a readiness smoke of all apps at once, then steady k6
//! load with a live per-app table until Ctrl-C; Prometheus and Jaeger for what OBI
//! exports, the OBI config to attach with, the charts' telemetry checks run
//! locally (`demo check`) and the apps' fault scenarios switched from the terminal
//! (`demo faults`, `demo fault`). See docs/demo.md.

/// `eprintln!` that never panics: with the terminal or a pipe gone (a closed
/// tmux pane, a killed `| tee`), the shutdown must still run to its end.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod backends;
mod check;
mod fault;
mod group;
mod lab;
mod load;
mod obi;
mod profile;
mod promql;
mod stream;
mod table;

use anyhow::{Result, bail};

use crate::process::Profile;
use profile::LoadProfile;

const USAGE: &str = "usage: cargo xtask demo [--profile constant|spike|stress] [--debug]
       cargo xtask demo check [--app A] [--fault F] [--timeout 1m]
       cargo xtask demo faults [app]
       cargo xtask demo fault <app> <fault> on|off [--rate 0.0-1.0]";

/// Dispatches `cargo xtask demo [...]`.
pub fn run(args: &[&str]) -> Result<()> {
    match args {
        ["check", rest @ ..] => check::run(rest),
        ["faults"] => fault::list(None),
        ["faults", app] => fault::list(Some(app)),
        ["fault", rest @ ..] => fault::switch(rest),
        flags => {
            let (load, build) = lab_options(flags)?;
            lab::run(load, build)
        }
    }
}

/// `[--profile P] [--debug]`: the load profile and which build of the apps runs
/// (`--debug`: the one `cargo test` already made, for a quick start while working
/// on the apps; release by default, as users and `bench` measure).
fn lab_options(flags: &[&str]) -> Result<(LoadProfile, Profile)> {
    let mut load = LoadProfile::default();
    let mut build = Profile::Release;
    let mut rest = flags.iter();
    while let Some(flag) = rest.next() {
        match *flag {
            "--profile" => match rest.next() {
                Some(name) => load = name.parse()?,
                None => bail!("--profile needs a value\n{USAGE}"),
            },
            "--debug" => build = Profile::Debug,
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    Ok((load, build))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_defaults_to_gentle_constant_load_on_release_builds() {
        assert_eq!(
            lab_options(&[]).unwrap(),
            (LoadProfile::Constant, Profile::Release)
        );
        assert_eq!(
            lab_options(&["--debug", "--profile", "spike"]).unwrap(),
            (LoadProfile::Spike, Profile::Debug)
        );
        let message = lab_options(&["--profil", "spike"]).unwrap_err().to_string();
        assert!(message.contains("unknown argument `--profil`"), "{message}");
        assert!(lab_options(&["--profile"]).is_err());
    }
}
