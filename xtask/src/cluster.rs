//! `cargo xtask cluster up|down|status`: a real Kubernetes control plane on
//! 127.0.0.1 — etcd, kube-apiserver, kube-controller-manager, kube-scheduler —
//! with kwok playing the nodes' kubelets, so that charts go through the real API
//! server (defaulting, validation, admission with Pod Security, RBAC) and the
//! real controllers (Deployments, StatefulSets, Jobs, garbage collection,
//! scheduling, volume binding) without containers. Data, logs and certificates
//! live under `target/cluster/` of this checkout; the binaries come from
//! `cargo xtask tools`. Its gate step is [`gate::run`] (`docs/charts.md`).
//!
//! Each process runs detached in its own directory under `target/cluster/`: that
//! working directory is how we recognise our processes, as `services` does.

mod chart_deps;
mod components;
mod gate;
mod kube;
mod leftovers;
mod pki;
mod seed;

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::paths;
use crate::services::ports::{self, Listener};
use crate::services::process;
use components::Component;

pub use gate::run as gate;

/// Dispatches `cargo xtask cluster <action>`.
pub fn run(action: &str) -> Result<()> {
    let layout = Layout::new();
    match action {
        "up" => up(&layout).map(drop),
        "down" => down(&layout),
        "status" => status(&layout),
        "gate" => {
            let tally = gate::run()?;
            println!("{} passed, {} failed", tally.passed, tally.failed);
            if tally.failed > 0 {
                bail!("the cluster gate failed");
            }
            Ok(())
        }
        _ => bail!("unknown action `{action}`: expected up, down, status or gate"),
    }
}

/// Where the cluster keeps its files: `target/cluster/` of this checkout.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    fn new() -> Self {
        Self {
            root: paths::target().join("cluster"),
        }
    }

    /// A component's working directory (its data, log and pid file).
    fn dir(&self, component: Component) -> PathBuf {
        self.root.join(component.name())
    }

    fn log(&self, component: Component) -> PathBuf {
        self.dir(component)
            .join(format!("{}.log", component.name()))
    }

    fn pid_file(&self, component: Component) -> PathBuf {
        self.dir(component)
            .join(format!("{}.pid", component.name()))
    }

    /// kwok's Stages (how simulated pods and nodes move through their lifecycle).
    fn stages(&self) -> PathBuf {
        self.dir(Component::Kwok).join("stages.yaml")
    }

    fn pki(&self) -> pki::Pki {
        pki::Pki::new(&self.root)
    }

    /// The admin kubeconfig, for users who want to look around.
    fn admin_kubeconfig(&self) -> PathBuf {
        self.pki().kubeconfig(pki::ADMIN)
    }

    /// The pid of our running `component`, if any.
    fn running(&self, component: Component) -> Option<u32> {
        let dir = self.dir(component);
        if let Some(pid) = process::read_pid_file(&self.pid_file(component))
            .filter(|pid| process::runs_in(*pid, &dir))
        {
            return Some(pid);
        }
        match ports::listener(component.ports()[0]) {
            Listener::Taken(Some(owner)) if process::runs_in(owner.pid, &dir) => Some(owner.pid),
            _ => None,
        }
    }
}

/// Starts whatever part of the control plane is not running, seeds the nodes,
/// the StorageClass and the volume pool, and waits until pods can run. Returns
/// whether it started anything (the gate stops only a cluster it started).
fn up(layout: &Layout) -> Result<bool> {
    let started = Instant::now();
    let missing: Vec<String> = components::ALL
        .iter()
        .map(|component| component.binary())
        .chain(["kubectl", "helm"].map(|tool| paths::tools_bin().join(tool)))
        .filter(|binary| !binary.is_file())
        .map(|binary| binary.display().to_string())
        .collect();
    if !missing.is_empty() {
        bail!(
            "missing {}: run `cargo xtask tools` (the first build of the control plane takes minutes)",
            missing.join(", ")
        );
    }
    let conflicts: Vec<String> = components::ALL
        .iter()
        .filter(|component| layout.running(**component).is_none())
        .flat_map(|component| {
            component.ports().iter().filter_map(move |port| {
                let listener = ports::listener(*port);
                (listener != Listener::Free).then(|| {
                    format!(
                        "{}: port {port} is taken by {}",
                        component.name(),
                        ports::describe(&listener)
                    )
                })
            })
        })
        .collect();
    if !conflicts.is_empty() {
        bail!("cannot start the cluster:\n  {}", conflicts.join("\n  "));
    }

    layout.pki().ensure()?;
    let mut started_any = false;
    for component in components::ALL {
        if let Some(pid) = layout.running(component) {
            println!("{}: already running (pid {pid})", component.name());
            continue;
        }
        start(layout, component)?;
        started_any = true;
        // In order: each needs the one before it to serve.
        wait_ready(layout, component)?;
    }
    seed::apply(layout)?;
    wait_for_pods_to_run(layout)?;
    println!(
        "cluster up in {:.1}s: {} (export KUBECONFIG={})",
        started.elapsed().as_secs_f64(),
        pki::API_SERVER,
        layout.admin_kubeconfig().display()
    );
    Ok(started_any)
}

fn start(layout: &Layout, component: Component) -> Result<()> {
    let dir = layout.dir(component);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if component == Component::Kwok {
        fs::write(layout.stages(), include_str!("cluster/stages.yaml"))
            .with_context(|| format!("cannot write {}", layout.stages().display()))?;
    }
    println!(
        "{}: starting (log: {})",
        component.name(),
        layout.log(component).display()
    );
    let pid = process::spawn(&mut component.command(layout), &layout.log(component))?;
    fs::write(layout.pid_file(component), format!("{pid}\n"))?;
    Ok(())
}

fn wait_ready(layout: &Layout, component: Component) -> Result<()> {
    let started = Instant::now();
    loop {
        if layout.running(component).is_none() {
            bail!("{} exited{}", component.name(), log_tail(layout, component));
        }
        match component.ready(layout) {
            Ok(true) => {
                println!(
                    "{}: ready in {:.1}s",
                    component.name(),
                    started.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            Ok(false) if started.elapsed() < component.start_timeout() => {
                std::thread::sleep(Duration::from_millis(250));
            }
            Ok(false) => bail!(
                "{} did not become ready within {}s{}",
                component.name(),
                component.start_timeout().as_secs(),
                log_tail(layout, component)
            ),
            Err(err) => bail!(
                "{} failed: {err:#}{}",
                component.name(),
                log_tail(layout, component)
            ),
        }
    }
}

/// Pods can run once kwok has made the nodes Ready and the controller manager
/// has given the `default` namespace its ServiceAccount (its controllers run).
fn wait_for_pods_to_run(layout: &Layout) -> Result<()> {
    kube::run(kube::kubectl(layout).args([
        "wait",
        "--for=condition=Ready",
        "node",
        "--all",
        "--timeout=60s",
    ]))
    .context("the kwok nodes did not become Ready")?;
    let started = Instant::now();
    while kube::run(kube::kubectl(layout).args([
        "get",
        "serviceaccount",
        "default",
        "-n",
        "default",
    ]))
    .is_err()
    {
        if started.elapsed() > Duration::from_secs(60) {
            bail!(
                "kube-controller-manager created no `default` ServiceAccount in 60s{}",
                log_tail(layout, Component::ControllerManager)
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Ok(())
}

/// The last lines of a component's log, for error messages.
fn log_tail(layout: &Layout, component: Component) -> String {
    let log = layout.log(component);
    let text = fs::read_to_string(&log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n    ");
    format!("\n  last lines of {}:\n    {tail}", log.display())
}

/// Stops every component, the last started first; keeps their data.
fn down(layout: &Layout) -> Result<()> {
    let mut failures = Vec::new();
    for component in components::ALL.iter().rev() {
        let Some(pid) = layout.running(*component) else {
            println!("{}: not running", component.name());
            continue;
        };
        println!("{}: stopping (pid {pid})", component.name());
        let stopped = process::signal(i64::from(pid), "TERM")
            .and_then(|()| process::finish_stop(component.name(), pid, Duration::from_secs(20)));
        if let Err(err) = stopped {
            failures.push(format!("{err:#}"));
        }
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("\n"));
    }
    Ok(())
}

/// One line per component: running with its pid, or stopped.
fn status(layout: &Layout) -> Result<()> {
    for component in components::ALL {
        let line = match layout.running(component) {
            Some(pid) => format!("running  pid {pid}"),
            None => "stopped".to_owned(),
        };
        println!("{:<24} {line}", component.name());
    }
    println!("kubeconfig: {}", layout.admin_kubeconfig().display());
    Ok(())
}
