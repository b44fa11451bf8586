//! What `cluster up` adds to an empty control plane so that charts can run on it:
//! two kwok nodes, a default StorageClass, and a pool of pre-created
//! PersistentVolumes for it.
//!
//! There is no volume provisioner without a real storage backend, so the
//! StorageClass is `kubernetes.io/no-provisioner` with `WaitForFirstConsumer`:
//! a claim stays Pending until the scheduler places its pod, picks a matching
//! free volume from the pool, and the controller manager's binder binds the two,
//! which is the real code path of statically provisioned (local) volumes. The
//! volumes are `Retain`, as local volumes are: a released volume is never reused.
//! [`replenish`] deletes the released ones and tops the pool up.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use serde_json::Value;

use super::Layout;
use super::kube::{self, kubectl};

/// The annotation that tells kwok which nodes are its to play.
pub const KWOK_NODE_ANNOTATION: &str = "kwok.x-k8s.io/node";

/// Simulated nodes: each as big as a small cloud VM, so that a chart whose
/// requests do not fit a small cluster fails scheduling here too.
const NODES: &[&str] = &["kwok-node-0", "kwok-node-1"];
const NODE_CPU: &str = "4";
const NODE_MEMORY: &str = "16Gi";

/// The default StorageClass.
pub const STORAGE_CLASS: &str = "local";
/// Label of the pool's volumes.
const POOL_LABEL: &str = "obi-examples.io/volume-pool";
/// Free volumes kept in the pool: more than any one install claims.
const POOL_SIZE: usize = 8;
/// Every volume's size: at least what any chart's claim asks for.
const VOLUME_SIZE: &str = "8Gi";

/// Creates (or updates) the nodes and the StorageClass, then fills the pool.
pub fn apply(layout: &Layout) -> Result<()> {
    kube::run_with_input(
        kubectl(layout).args(["apply", "-f", "-"]),
        Some(&manifests()),
    )
    .context("cannot create the nodes and the StorageClass")?;
    replenish(layout)
}

fn manifests() -> String {
    let mut docs: Vec<String> = NODES.iter().map(|name| node(name)).collect();
    docs.push(format!(
        "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {STORAGE_CLASS}
  annotations:
    storageclass.kubernetes.io/is-default-class: \"true\"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
"
    ));
    docs.join("---\n")
}

fn node(name: &str) -> String {
    format!(
        "apiVersion: v1
kind: Node
metadata:
  name: {name}
  annotations:
    {KWOK_NODE_ANNOTATION}: fake
    node.alpha.kubernetes.io/ttl: \"0\"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: {name}
    kubernetes.io/os: linux
    node.kubernetes.io/instance-type: kwok
    type: kwok
status:
  allocatable:
    cpu: \"{NODE_CPU}\"
    memory: {NODE_MEMORY}
    pods: \"110\"
  capacity:
    cpu: \"{NODE_CPU}\"
    memory: {NODE_MEMORY}
    pods: \"110\"
"
    )
}

/// Deletes the pool's released or failed volumes and creates new ones until
/// [`POOL_SIZE`] are available.
pub fn replenish(layout: &Layout) -> Result<()> {
    let listed = kube::run(kubectl(layout).args([
        "get",
        "persistentvolumes",
        "-l",
        POOL_LABEL,
        "-o",
        "json",
    ]))?;
    let listed: Value = serde_json::from_str(&listed).context("kubectl printed no JSON")?;
    let mut names = BTreeSet::new();
    let mut available = 0;
    let mut spent = Vec::new();
    for volume in listed["items"].as_array().into_iter().flatten() {
        let name = volume["metadata"]["name"].as_str().unwrap_or_default();
        names.insert(name.to_owned());
        match volume["status"]["phase"].as_str() {
            Some("Released" | "Failed") => spent.push(name.to_owned()),
            Some("Bound") => {}
            _ => available += 1,
        }
    }
    if !spent.is_empty() {
        kube::run(
            kubectl(layout)
                .args(["delete", "persistentvolume", "--wait=false"])
                .args(&spent),
        )?;
    }
    let mut docs = Vec::new();
    let mut index = 0;
    while available + docs.len() < POOL_SIZE {
        let name = format!("pool-{index:04}");
        index += 1;
        if !names.contains(&name) {
            docs.push(volume(&name));
        }
    }
    if !docs.is_empty() {
        kube::run_with_input(
            kubectl(layout).args(["create", "-f", "-"]),
            Some(&docs.join("---\n")),
        )
        .context("cannot create the pool's volumes")?;
    }
    Ok(())
}

/// A pool volume. Its `hostPath` is never mounted: no kubelet runs here.
fn volume(name: &str) -> String {
    format!(
        "apiVersion: v1
kind: PersistentVolume
metadata:
  name: {name}
  labels:
    {POOL_LABEL}: \"true\"
spec:
  capacity:
    storage: {VOLUME_SIZE}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: {STORAGE_CLASS}
  volumeMode: Filesystem
  hostPath:
    path: /var/lib/obi-examples/{name}
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_manifests_parse_as_nodes_and_a_default_storage_class() {
        let docs: Vec<serde_yaml_ng::Value> = manifests()
            .split("---\n")
            .map(|doc| serde_yaml_ng::from_str(doc).unwrap())
            .collect();
        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["Node", "Node", "StorageClass"]);
        assert_eq!(
            docs[0]["metadata"]["annotations"][KWOK_NODE_ANNOTATION].as_str(),
            Some("fake")
        );
        assert_eq!(
            docs[2]["volumeBindingMode"].as_str(),
            Some("WaitForFirstConsumer")
        );
        let pv: serde_yaml_ng::Value = serde_yaml_ng::from_str(&volume("pool-0001")).unwrap();
        assert_eq!(pv["spec"]["storageClassName"].as_str(), Some(STORAGE_CLASS));
    }
}
