//! `cargo xtask`: the project's automation, one binary with subcommands.
//!
//! Run `cargo xtask help` for the list. Every command finds the repository root
//! from `CARGO_MANIFEST_DIR`, so it works from any directory.

mod apps;
mod bench;
mod chaos;
mod charts;
mod ci;
mod cluster;
mod cmd;
mod contracts;
mod coverage;
mod demo;
mod http;
mod images;
mod k6;
mod lint;
mod paths;
mod process;
mod services;
#[cfg(test)]
mod tidy;
mod tools;

use anyhow::{Result, bail};

const HELP: &str = "\
cargo xtask <command>

  tools                 install everything the gate needs (idempotent, pinned)
  tools apt-packages    print the Debian packages `tools` needs (for CI's sudo step)
  services up|down|status
                        real PostgreSQL :5432, Redis :6379, Kafka :9092 on loopback
  charts check|generate the offline chart gate / regenerate what it checks for drift
  cluster up|down|status|gate
                        a real kube-apiserver with kwok nodes on 127.0.0.1:6443;
                        `gate` runs the helm lifecycle of every chart against it
  release check vX.Y.Z  the tag names the Cargo version, which every app chart's
                        appVersion (its images' tag) is; prints X.Y.Z
  ci                    the one gate: tools, services, fmt, clippy, tests, charts
  contracts [app ...]   schemathesis against every HTTP app's own document (docs/contracts.md)
  chaos [app ...]       SIGKILL and restart PostgreSQL, Redis, Kafka and their apps
                        under a recorded write load; every acknowledged write must
                        be stored (private durable services; docs/chaos.md)
  k6                    type-check every k6 script, run each app's smoke profile
  demo [--profile constant|spike|stress]
                        every app under steady k6 load with a live table, Prometheus
                        and Jaeger for OBI, until Ctrl-C (docs/demo.md)
  demo check|faults|fault <app> <fault> on|off
                        the charts' telemetry specs locally / list / switch faults
  bench <app> [--runs N] [--duration 15s] [--vus N]
                        benchmark an app next to its physical baseline
  bench all [--duration 30s] [--vus 4] [--clients 8]
                        every app at once: k6 mixes, then a light client
  bench tenx [app...] [--duration 20s] [--clients 16]
                        each app at R and 10 R (open model): p99 must not double
  images build|check|load [image ...]
                        container images with podman: build, run as the charts do, load into kind
  coverage [crate ...]  line coverage of the apps and the kit (cargo-llvm-cov)
  help                  this text
";

fn main() {
    if let Err(err) = run() {
        eprintln!("xtask: error: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["tools"] => tools::install(),
        ["tools", "apt-packages"] => {
            println!("{}", tools::apt_packages().join(" "));
            Ok(())
        }
        ["services", action] => services::run(action),
        ["cluster", action] => cluster::run(action),
        ["ci"] => ci::run(),
        ["chaos", apps @ ..] => chaos::run(apps),
        ["demo", rest @ ..] => demo::run(rest),
        ["k6"] => k6::check(),
        ["contracts", apps @ ..] => contracts::run(apps),
        ["images", rest @ ..] => images::run(rest),
        ["coverage", crates @ ..] => coverage::run(crates),
        ["bench", rest @ ..] => bench::run(rest),
        ["charts", "check"] => charts::check(),
        ["release", "check", tag] => charts::versions::release_check(tag),
        ["charts", "generate"] => charts::generate(),
        [] | ["help" | "--help" | "-h"] => {
            print!("{HELP}");
            Ok(())
        }
        _ => bail!("unknown command `{}`\n\n{HELP}", args.join(" ")),
    }
}
