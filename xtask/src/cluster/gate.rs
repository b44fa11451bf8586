//! The cluster tier of `cargo xtask ci`: the charts through a real API server
//! with Pod Security "restricted" enforced, through Helm's whole lifecycle.
//!
//! 1. Controls: a pod without runAsNonRoot must be rejected with the server's
//!    message, and a Deployment whose pods would be must fail on the server's
//!    warning — proof that the checks below can fail.
//! 2. The umbrella with every protocol and the bundled backend: install
//!    `--wait`, `helm test`, upgrade with values users change (faults, load
//!    profile, replicas, autoscaling, disruption budgets, persistence off → on),
//!    `helm test`, rollback, uninstall, then only what the charts keep on
//!    purpose may be left.
//! 3. Each app chart alone, and the umbrella with each protocol alone (an app that calls others with them): install
//!    `--wait`, test, uninstall, leftovers.
//!
//! Every client call fails on a rejection and on any warning from the API server
//! ([`super::kube::run`]). Each scenario has its own namespace, labelled for
//! restricted Pod Security (enforce, warn and audit), deleted afterwards.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};

use super::chart_deps::{build_dependencies, read_chart};
use super::kube::{self, kubectl};
use super::{Layout, seed};

mod release;
use crate::{apps, paths};

/// The release name of every install: the one the docs use.
const RELEASE: &str = "obi-examples";
/// The umbrella chart's directory name.
pub(super) const UMBRELLA: &str = "obi-examples";
/// Marks the namespaces this gate creates, so a later run can clean up after an
/// interrupted one.
const GATE_LABEL: &str = "obi-examples.io/cluster-gate";
/// Longest helm waits: far above what kwok needs, far below a hung gate.
const HELM_TIMEOUT: &str = "3m";

/// Checks passed and failed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
}

/// Brings the cluster up (stopping it afterwards only if it started it), runs
/// every check, and returns the tally. Fails only when the cluster cannot run.
pub fn run() -> Result<Tally> {
    let layout = Layout::new();
    let started_here = super::up(&layout)?;
    let gate = Gate::new(&layout).map(|mut gate| {
        gate.all();
        gate.tally
    });
    if started_here {
        super::down(&layout)?;
    }
    gate
}

struct Gate<'a> {
    layout: &'a Layout,
    charts: PathBuf,
    /// Umbrella dependencies that are apps of the registry: (alias, app).
    protocols: Vec<(String, &'static str)>,
    /// Every alias of the umbrella (apps and the backend).
    aliases: Vec<String>,
    tally: Tally,
}

impl<'a> Gate<'a> {
    fn new(layout: &'a Layout) -> Result<Self> {
        let charts = paths::root().join("charts");
        let umbrella = read_chart(&charts.join(UMBRELLA))?;
        let mut protocols = Vec::new();
        for dependency in &umbrella.dependencies {
            if let Some(app) = apps::ALL.iter().find(|app| app.name == dependency.name) {
                protocols.push((dependency.alias().to_owned(), app.name));
            }
        }
        let aliases = umbrella
            .dependencies
            .iter()
            .map(|dependency| dependency.alias().to_owned())
            .collect();
        build_dependencies(layout, &charts)?;
        Ok(Self {
            layout,
            charts,
            protocols,
            aliases,
            tally: Tally::default(),
        })
    }

    fn all(&mut self) {
        self.remove_namespaces_of_earlier_runs();
        self.controls();
        self.umbrella_lifecycle();
        for app in apps::existing() {
            let chart = self.charts.join(app.name);
            if chart.join("Chart.yaml").is_file() {
                self.alone(
                    &format!("charts/{} alone", app.name),
                    &format!("gate-app-{}", app.name),
                    &chart,
                    &[],
                );
            }
        }
        let protocols = self.protocols.clone();
        for (alias, app) in &protocols {
            // An app that calls others (checkout) comes with them: the umbrella's
            // schema refuses it alone.
            let calls = apps::App::named(app).map(|a| a.calls).unwrap_or_default();
            let needed = |other: &String| {
                protocols
                    .iter()
                    .any(|(a, name)| a == other && calls.contains(name))
            };
            let mut values = Vec::new();
            for other in &self.aliases {
                values.push(format!(
                    "{other}.enabled={}",
                    other == alias || needed(other)
                ));
            }
            let values: Vec<String> = values
                .into_iter()
                .flat_map(|v| ["--set".to_owned(), v])
                .collect();
            let umbrella = self.charts.join(UMBRELLA);
            self.alone(
                &format!("umbrella with {alias} ({app}) alone"),
                &format!("gate-only-{alias}"),
                &umbrella,
                &values,
            );
        }
    }

    /// Records one check: runs it, prints its verdict and time.
    fn check(&mut self, name: &str, check: impl FnOnce(&Self) -> Result<()>) -> bool {
        eprintln!("cluster: {name} ...");
        let started = Instant::now();
        let outcome = check(self);
        let took = started.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => {
                eprintln!("cluster: {name}: ok ({took:.1}s)");
                self.tally.passed += 1;
                true
            }
            Err(err) => {
                eprintln!("cluster: {name}: FAILED ({took:.1}s)\n{err:#}");
                self.tally.failed += 1;
                false
            }
        }
    }

    fn remove_namespaces_of_earlier_runs(&mut self) {
        let _ = kube::run(kubectl(self.layout).args([
            "delete",
            "namespace",
            "-l",
            GATE_LABEL,
            "--wait=true",
            "--timeout=120s",
        ]));
    }

    /// The checks that prove the others can fail.
    fn controls(&mut self) {
        let namespace = "gate-controls";
        if !self.check("a namespace with restricted Pod Security", |gate| {
            gate.create_namespace(namespace)
        }) {
            return;
        }
        let fixture = paths::root().join("xtask/src/cluster/fixtures/pss-violation");
        self.check(
            "a pod without runAsNonRoot is rejected with the server's message",
            |gate| {
                gate.expect_refusal(
                    namespace,
                    "rejected-pod",
                    &fixture,
                    &[],
                    &["violates PodSecurity \"restricted:latest\"", "runAsNonRoot"],
                )
            },
        );
        self.check(
            "a Deployment whose pods would be rejected fails on the server's warning",
            |gate| {
                gate.expect_refusal(
                    namespace,
                    "warned",
                    &fixture,
                    &["--set".to_owned(), "workload=Deployment".to_owned()],
                    &[
                        "warning(s) from the API server",
                        "would violate PodSecurity",
                    ],
                )
            },
        );
        self.delete_namespace(namespace);
    }

    /// Installs `chart`, which must fail with an error that says each of `expected`.
    fn expect_refusal(
        &self,
        namespace: &str,
        release: &str,
        chart: &Path,
        values: &[String],
        expected: &[&str],
    ) -> Result<()> {
        let err = match self.install(namespace, release, chart, values, false) {
            Ok(()) => bail!("the install passed; expected it to fail with {expected:?}"),
            Err(err) => format!("{err:#}"),
        };
        if let Some(missing) = expected.iter().find(|text| !err.contains(**text)) {
            bail!("the install failed, but its error does not say {missing:?}:\n{err}");
        }
        eprintln!("  (as expected) {}", last_line(&err));
        Ok(())
    }

    /// Install, test, upgrade, test, rollback and uninstall of the umbrella with
    /// every protocol and the bundled backend.
    fn umbrella_lifecycle(&mut self) {
        let namespace = "gate-umbrella";
        let chart = self.charts.join(UMBRELLA);
        let everything = self
            .charts
            .join(UMBRELLA)
            .join("ci/02-all-with-lgtm-values.yaml");
        let persistence = match self.persistence_switches() {
            Ok(switches) => switches,
            Err(err) => {
                self.check("the umbrella's persistence switches", |_| Err(err));
                return;
            }
        };
        let mut installed = vec!["-f".to_owned(), everything.display().to_string()];
        for switch in &persistence {
            installed.extend(["--set".to_owned(), format!("{switch}=false")]);
        }
        let mut upgraded = vec![
            "-f".to_owned(),
            everything.display().to_string(),
            "--set".to_owned(),
            "global.load.profile=constant".to_owned(),
        ];
        for switch in &persistence {
            upgraded.extend(["--set".to_owned(), format!("{switch}=true")]);
        }
        for (index, (alias, _)) in self.protocols.iter().enumerate() {
            upgraded.extend([
                "--set".to_owned(),
                format!("{alias}.faults.latency.enabled=true"),
            ]);
            let scaling = if index % 2 == 0 {
                vec![
                    format!("{alias}.replicaCount=2"),
                    format!("{alias}.podDisruptionBudget.enabled=true"),
                ]
            } else {
                vec![format!("{alias}.autoscaling.enabled=true")]
            };
            for set in scaling {
                upgraded.extend(["--set".to_owned(), set]);
            }
        }

        let steps = [
            "umbrella: install --wait (every protocol, bundled backend, persistence off)",
            "umbrella: helm test",
            "umbrella: upgrade --wait (faults, load profile, replicas, autoscaling, persistence on)",
            "umbrella: helm test after the upgrade",
            "umbrella: rollback --wait to revision 1",
            "umbrella: uninstall leaves only what the charts keep on purpose",
        ];
        let mut ok = self.prepare(namespace);
        for (index, step) in steps.iter().enumerate() {
            if !ok {
                eprintln!("cluster: {step}: skipped (an earlier step failed)");
                self.tally.failed += 1;
                continue;
            }
            ok = self.check(step, |gate| match index {
                0 => gate.install(namespace, RELEASE, &chart, &installed, true),
                1 | 3 => gate.test(namespace, RELEASE),
                2 => gate.upgrade(namespace, &chart, &upgraded),
                4 => gate.rollback(namespace, 1),
                _ => gate.uninstall_and_check_leftovers(namespace),
            });
        }
        self.delete_namespace(namespace);
    }

    /// One chart (or the umbrella with one protocol): install, test, uninstall.
    fn alone(&mut self, name: &str, namespace: &str, chart: &Path, values: &[String]) {
        if self.prepare(namespace) {
            self.check(
                &format!("{name}: install --wait, test, uninstall, leftovers"),
                |gate| {
                    gate.install(namespace, RELEASE, chart, values, true)?;
                    gate.test(namespace, RELEASE)?;
                    gate.uninstall_and_check_leftovers(namespace)
                },
            );
        } else {
            self.tally.failed += 1;
        }
        self.delete_namespace(namespace);
    }

    /// A fresh namespace and a full volume pool; false (and reported) on failure.
    fn prepare(&mut self, namespace: &str) -> bool {
        let outcome = self
            .create_namespace(namespace)
            .and_then(|()| seed::replenish(self.layout));
        match outcome {
            Ok(()) => true,
            Err(err) => {
                eprintln!("cluster: cannot prepare namespace {namespace}: {err:#}");
                false
            }
        }
    }
}

fn last_line(text: &str) -> &str {
    text.trim().lines().last().unwrap_or_default().trim()
}
