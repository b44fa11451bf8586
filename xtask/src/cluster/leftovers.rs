//! What `helm uninstall` may leave behind: only the objects the charts keep on
//! purpose (annotated `helm.sh/resource-policy: keep`, and the claims of
//! StatefulSet templates), and of those only Secrets and PersistentVolumeClaims.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// A namespaced object, by kind and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Object {
    pub(super) kind: String,
    pub(super) name: String,
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// The objects of one rendered manifest that outlive `helm uninstall` on purpose.
pub(super) fn kept_in_manifest(manifest: &str) -> Result<BTreeSet<Object>> {
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
pub(super) fn compare_leftovers(left: &BTreeSet<Object>, kept: &BTreeSet<Object>) -> Result<()> {
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
