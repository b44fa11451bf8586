//! One namespace's release through Helm and the API server: namespaces labelled
//! for restricted Pod Security, install, upgrade, rollback, `helm test`, and
//! uninstall with the check of what it leaves behind.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::super::kube::{self, helm, kubectl};
use super::super::leftovers::{Object, compare_leftovers, kept_in_manifest};
use super::*;

impl Gate<'_> {
    pub(super) fn create_namespace(&self, namespace: &str) -> Result<()> {
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

    pub(super) fn delete_namespace(&self, namespace: &str) {
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

    pub(super) fn install(
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

    pub(super) fn upgrade(&self, namespace: &str, chart: &Path, values: &[String]) -> Result<()> {
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

    pub(super) fn rollback(&self, namespace: &str, revision: u32) -> Result<()> {
        kube::run(
            helm(self.layout)
                .args(["rollback", RELEASE, &revision.to_string()])
                .args(["--namespace", namespace, "--timeout", HELM_TIMEOUT])
                .args(["--wait", "--wait-for-jobs"]),
        )
        .map(drop)
    }

    pub(super) fn test(&self, namespace: &str, release: &str) -> Result<()> {
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
    pub(super) fn uninstall_and_check_leftovers(&self, namespace: &str) -> Result<()> {
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
    pub(super) fn kept_on_purpose(&self, namespace: &str) -> Result<BTreeSet<Object>> {
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
    pub(super) fn objects(&self, namespace: &str) -> Result<BTreeSet<Object>> {
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
    pub(super) fn persistence_switches(&self) -> Result<Vec<String>> {
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
