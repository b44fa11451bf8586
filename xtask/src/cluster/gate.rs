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
//! 3. Each app chart alone, and the umbrella with each protocol alone: install
//!    `--wait`, test, uninstall, leftovers.
//!
//! Every client call fails on a rejection and on any warning from the API server
//! ([`super::kube::run`]). Each scenario has its own namespace, labelled for
//! restricted Pod Security (enforce, warn and audit), deleted afterwards.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

use super::kube::{self, helm, kubectl};
use super::{Layout, seed};
use crate::{apps, paths};

/// The release name of every install: the one the docs use.
const RELEASE: &str = "obi-examples";
/// The umbrella chart's directory name.
const UMBRELLA: &str = "obi-examples";
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
            let mut values = Vec::new();
            for other in &self.aliases {
                values.push(format!("{other}.enabled={}", other == alias));
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

    fn create_namespace(&self, namespace: &str) -> Result<()> {
        let manifest = format!(
            "apiVersion: v1
kind: Namespace
metadata:
  name: {namespace}
  labels:
    {GATE_LABEL}: \"true\"
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/warn-version: latest
    pod-security.kubernetes.io/audit: restricted
    pod-security.kubernetes.io/audit-version: latest
"
        );
        kube::run_with_input(
            kubectl(self.layout).args(["create", "-f", "-"]),
            Some(&manifest),
        )
        .with_context(|| format!("cannot create namespace {namespace}"))?;
        // The ServiceAccount admission rejects pods until the controller manager
        // has given the namespace its `default` ServiceAccount: wait for it, as
        // a user's first install a moment later would have to.
        let started = Instant::now();
        while kube::run(kubectl(self.layout).args([
            "get",
            "serviceaccount",
            "default",
            "-n",
            namespace,
        ]))
        .is_err()
        {
            if started.elapsed() > Duration::from_secs(30) {
                bail!("namespace {namespace} got no `default` ServiceAccount in 30s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    fn delete_namespace(&self, namespace: &str) {
        if let Err(err) = kube::run(kubectl(self.layout).args([
            "delete",
            "namespace",
            namespace,
            "--ignore-not-found",
            "--wait=true",
            "--timeout=120s",
        ])) {
            eprintln!("cluster: cannot delete namespace {namespace}: {err:#}");
        }
    }

    fn install(
        &self,
        namespace: &str,
        release: &str,
        chart: &Path,
        values: &[String],
        wait: bool,
    ) -> Result<()> {
        let mut command = helm(self.layout);
        command
            .args(["install", release])
            .arg(chart)
            .args(["--namespace", namespace, "--timeout", HELM_TIMEOUT])
            .args(values);
        if wait {
            command.args(["--wait", "--wait-for-jobs"]);
        }
        kube::run(&mut command).map(drop)
    }

    fn upgrade(&self, namespace: &str, chart: &Path, values: &[String]) -> Result<()> {
        kube::run(
            helm(self.layout)
                .args(["upgrade", RELEASE])
                .arg(chart)
                .args(["--namespace", namespace, "--timeout", HELM_TIMEOUT])
                .args(["--wait", "--wait-for-jobs"])
                .args(values),
        )
        .map(drop)
    }

    fn rollback(&self, namespace: &str, revision: u32) -> Result<()> {
        kube::run(
            helm(self.layout)
                .args(["rollback", RELEASE, &revision.to_string()])
                .args(["--namespace", namespace, "--timeout", HELM_TIMEOUT])
                .args(["--wait", "--wait-for-jobs"]),
        )
        .map(drop)
    }

    fn test(&self, namespace: &str, release: &str) -> Result<()> {
        kube::run(helm(self.layout).args(["test", release]).args([
            "--namespace",
            namespace,
            "--timeout",
            HELM_TIMEOUT,
        ]))
        .map(drop)
    }

    /// Uninstalls the release, then waits until the namespace holds only what the
    /// charts keep on purpose (objects annotated `helm.sh/resource-policy: keep`
    /// in any revision, and the claims of StatefulSets' volumeClaimTemplates), and
    /// all of that.
    fn uninstall_and_check_leftovers(&self, namespace: &str) -> Result<()> {
        let kept = self.kept_on_purpose(namespace)?;
        kube::run(helm(self.layout).args(["uninstall", RELEASE]).args([
            "--namespace",
            namespace,
            "--timeout",
            HELM_TIMEOUT,
            "--wait",
        ]))?;
        // Dependents (ReplicaSets, pods, EndpointSlices) go through the garbage
        // collector after helm returns: give it time to converge.
        let started = Instant::now();
        loop {
            let left = self.objects(namespace)?;
            let verdict = compare_leftovers(&left, &kept);
            match verdict {
                Ok(()) => return Ok(()),
                Err(_) if started.elapsed() < Duration::from_secs(60) => {
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// What the release keeps after uninstall, from the manifests of all its revisions.
    fn kept_on_purpose(&self, namespace: &str) -> Result<BTreeSet<Object>> {
        let history = kube::run(
            helm(self.layout)
                .args(["history", RELEASE, "--namespace", namespace])
                .args(["--output", "json"]),
        )?;
        let history: Vec<Value> =
            serde_json::from_str(&history).context("helm history printed no JSON list")?;
        let mut kept = BTreeSet::new();
        for revision in history {
            let revision = revision["revision"]
                .as_u64()
                .context("a helm history entry without revision")?;
            let manifest = kube::run(
                helm(self.layout)
                    .args(["get", "manifest", RELEASE, "--namespace", namespace])
                    .args(["--revision", &revision.to_string()]),
            )?;
            kept.extend(kept_in_manifest(&manifest)?);
        }
        Ok(kept)
    }

    /// Every object in `namespace` except what Kubernetes itself puts in every
    /// namespace (the `default` ServiceAccount, the `kube-root-ca.crt` ConfigMap)
    /// and events.
    fn objects(&self, namespace: &str) -> Result<BTreeSet<Object>> {
        let kinds = kube::run(kubectl(self.layout).args([
            "api-resources",
            "--verbs=list",
            "--namespaced",
            "-o",
            "name",
        ]))?;
        let kinds: Vec<&str> = kinds
            .lines()
            // Events come and go on their own; v1 Endpoints are deprecated (the
            // server warns on every list) and mirror the EndpointSlices listed.
            .filter(|kind| !kind.is_empty() && !kind.starts_with("events") && *kind != "endpoints")
            .collect();
        let listed = kube::run(
            kubectl(self.layout)
                .args(["get", &kinds.join(","), "--namespace", namespace])
                .args(["--ignore-not-found", "-o", "json"]),
        )?;
        let listed: Value = serde_json::from_str(&listed).context("kubectl printed no JSON")?;
        Ok(listed["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| Object {
                kind: item["kind"].as_str().unwrap_or("?").to_owned(),
                name: item["metadata"]["name"].as_str().unwrap_or("?").to_owned(),
            })
            .filter(|object| {
                !matches!(
                    (object.kind.as_str(), object.name.as_str()),
                    ("ServiceAccount", "default") | ("ConfigMap", "kube-root-ca.crt")
                )
            })
            .collect())
    }

    /// `<alias>.<key>.persistence.enabled` of every umbrella protocol whose chart
    /// has a backing service with persistence.
    fn persistence_switches(&self) -> Result<Vec<String>> {
        let mut switches = Vec::new();
        for (alias, app) in &self.protocols {
            let values_file = self.charts.join(app).join("values.yaml");
            let text = std::fs::read_to_string(&values_file)
                .with_context(|| format!("cannot read {}", values_file.display()))?;
            let values: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text)
                .with_context(|| format!("cannot parse {}", values_file.display()))?;
            let Some(top) = values.as_mapping() else {
                continue;
            };
            for (key, value) in top {
                if value["persistence"]["enabled"].as_bool().is_some()
                    && let Some(key) = key.as_str()
                {
                    switches.push(format!("{alias}.{key}.persistence.enabled"));
                }
            }
        }
        Ok(switches)
    }
}

/// A namespaced object, by kind and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Object {
    kind: String,
    name: String,
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// The objects of one rendered manifest that outlive `helm uninstall` on purpose.
fn kept_in_manifest(manifest: &str) -> Result<BTreeSet<Object>> {
    let mut kept = BTreeSet::new();
    for document in serde_yaml_ng::Deserializer::from_str(manifest) {
        let doc = serde_yaml_ng::Value::deserialize(document)
            .context("cannot parse a release manifest")?;
        if doc.is_null() {
            continue;
        }
        let kind = doc["kind"].as_str().unwrap_or_default();
        let name = doc["metadata"]["name"].as_str().unwrap_or_default();
        if doc["metadata"]["annotations"]["helm.sh/resource-policy"].as_str() == Some("keep") {
            kept.insert(Object {
                kind: kind.to_owned(),
                name: name.to_owned(),
            });
        }
        if kind == "StatefulSet"
            && doc["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"].as_str()
                != Some("Delete")
        {
            let replicas = doc["spec"]["replicas"].as_u64().unwrap_or(1);
            for claim in doc["spec"]["volumeClaimTemplates"]
                .as_sequence()
                .into_iter()
                .flatten()
            {
                let claim = claim["metadata"]["name"].as_str().unwrap_or_default();
                for ordinal in 0..replicas {
                    kept.insert(Object {
                        kind: "PersistentVolumeClaim".to_owned(),
                        name: format!("{claim}-{name}-{ordinal}"),
                    });
                }
            }
        }
    }
    Ok(kept)
}

/// Fails naming what is left that should not be, and what should be kept but is gone.
fn compare_leftovers(left: &BTreeSet<Object>, kept: &BTreeSet<Object>) -> Result<()> {
    let unexpected: Vec<String> = left.difference(kept).map(ToString::to_string).collect();
    let lost: Vec<String> = kept.difference(left).map(ToString::to_string).collect();
    let mut problems = Vec::new();
    if !unexpected.is_empty() {
        problems.push(format!(
            "left behind by uninstall, though no chart keeps it on purpose: {}",
            unexpected.join(", ")
        ));
    }
    if !lost.is_empty() {
        problems.push(format!(
            "deleted by uninstall, though a chart keeps it on purpose: {}",
            lost.join(", ")
        ));
    }
    let odd: Vec<String> = kept
        .iter()
        .filter(|object| !matches!(object.kind.as_str(), "Secret" | "PersistentVolumeClaim"))
        .map(ToString::to_string)
        .collect();
    if !odd.is_empty() {
        problems.push(format!(
            "kept on purpose but neither a Secret nor a PersistentVolumeClaim: {}",
            odd.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("\n"))
    }
}

/// `helm dependency update` of every chart with dependencies, the umbrella last
/// (it packages the app charts together with their own dependencies). Offline:
/// every dependency is `file://`.
fn build_dependencies(layout: &Layout, charts: &Path) -> Result<()> {
    let mut dirs = Vec::new();
    for entry in
        std::fs::read_dir(charts).with_context(|| format!("cannot read {}", charts.display()))?
    {
        let dir = entry?.path();
        if dir.join("Chart.yaml").is_file() && !read_chart(&dir)?.dependencies.is_empty() {
            dirs.push(dir);
        }
    }
    dirs.sort_by_key(|dir| (dir.ends_with(UMBRELLA), dir.clone()));
    for dir in dirs {
        kube::run(
            helm(layout)
                .args(["dependency", "update", "--skip-refresh"])
                .arg(&dir),
        )?;
    }
    Ok(())
}

/// The fields of `Chart.yaml` this gate reads.
#[derive(Debug, Deserialize)]
struct ChartYaml {
    #[serde(default)]
    dependencies: Vec<Dependency>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    name: String,
    alias: Option<String>,
}

impl Dependency {
    fn alias(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

fn read_chart(dir: &Path) -> Result<ChartYaml> {
    let file = dir.join("Chart.yaml");
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    serde_yaml_ng::from_str(&text).with_context(|| format!("cannot parse {}", file.display()))
}

fn last_line(text: &str) -> &str {
    text.trim().lines().last().unwrap_or_default().trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, name: &str) -> Object {
        Object {
            kind: kind.to_owned(),
            name: name.to_owned(),
        }
    }

    const MANIFEST: &str = "---
apiVersion: v1
kind: Secret
metadata:
  name: obi-examples-postgresql
  annotations:
    helm.sh/resource-policy: keep
---
apiVersion: v1
kind: Secret
metadata:
  name: obi-examples-sql-application
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: obi-examples-postgresql
spec:
  replicas: 1
  volumeClaimTemplates:
    - metadata:
        name: data
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: scratch
spec:
  persistentVolumeClaimRetentionPolicy:
    whenDeleted: Delete
  volumeClaimTemplates:
    - metadata:
        name: data
";

    #[test]
    fn kept_objects_are_the_annotated_ones_and_retained_claims() {
        assert_eq!(
            kept_in_manifest(MANIFEST).unwrap(),
            BTreeSet::from([
                object("Secret", "obi-examples-postgresql"),
                object("PersistentVolumeClaim", "data-obi-examples-postgresql-0"),
            ])
        );
    }

    #[test]
    fn leftovers_equal_to_the_kept_objects_pass() {
        let kept = kept_in_manifest(MANIFEST).unwrap();
        compare_leftovers(&kept, &kept).unwrap();
    }

    #[test]
    fn an_object_left_behind_fails_naming_it() {
        let kept = kept_in_manifest(MANIFEST).unwrap();
        let mut left = kept.clone();
        left.insert(object("Job", "obi-examples-sql-application-k6"));
        let err = compare_leftovers(&left, &kept).unwrap_err().to_string();
        assert!(
            err.contains("no chart keeps it on purpose: Job/obi-examples-sql-application-k6"),
            "{err}"
        );
    }

    #[test]
    fn a_kept_object_that_is_gone_fails_naming_it() {
        let kept = kept_in_manifest(MANIFEST).unwrap();
        let left = BTreeSet::from([object("Secret", "obi-examples-postgresql")]);
        let err = compare_leftovers(&left, &kept).unwrap_err().to_string();
        assert!(
            err.contains("PersistentVolumeClaim/data-obi-examples-postgresql-0"),
            "{err}"
        );
    }

    #[test]
    fn keeping_anything_but_secrets_and_claims_fails() {
        let kept = BTreeSet::from([object("ConfigMap", "settings")]);
        let err = compare_leftovers(&kept, &kept).unwrap_err().to_string();
        assert!(
            err.contains("neither a Secret nor a PersistentVolumeClaim: ConfigMap/settings"),
            "{err}"
        );
    }
}
