//! This project's pod rules beyond Pod Security Standards "restricted", over every
//! pod template of every render: Pods, Deployments, StatefulSets, DaemonSets,
//! ReplicaSets, Jobs and CronJobs, hooks and tests included.
//!
//! "restricted" itself (non-root, no privilege escalation, capabilities, host
//! namespaces and paths) is enforced by the real API server's PodSecurity
//! admission in the cluster gate (`xtask/src/cluster/gate.rs`), which rejects
//! what it forbids. What stays here is what no admission plugin checks, per
//! container with pod-level settings inherited: a numeric, non-zero runAsUser
//! (restricted accepts runAsNonRoot alone and leaves the image's user to the
//! kubelet, which the cluster gate's kwok nodes do not run); seccomp RuntimeDefault
//! (restricted also accepts Localhost profiles); readOnlyRootFilesystem; cpu and
//! memory requests and limits; an image pinned to a tag other than `latest` (or a
//! digest).

use serde_json::Value;

use super::render::{Render, documents};

/// Checks every render; one message per violation, naming render, object,
/// container and rule.
pub fn check_renders(renders: &[Render]) -> Vec<String> {
    let mut problems = Vec::new();
    for render in renders {
        match documents(&render.manifests) {
            Ok(docs) => problems.extend(
                check_documents(&docs)
                    .into_iter()
                    .map(|v| format!("{}: {v}", render.label())),
            ),
            Err(err) => problems.push(format!("{}: cannot parse render: {err}", render.label())),
        }
    }
    problems
}

/// Checks parsed manifests; one message per violation.
pub fn check_documents(docs: &[Value]) -> Vec<String> {
    let mut violations = Vec::new();
    for doc in docs {
        let kind = doc["kind"].as_str().unwrap_or("?");
        let name = doc["metadata"]["name"].as_str().unwrap_or("?");
        if let Some(spec) = pod_spec(doc) {
            let object = format!("{kind} {name}");
            violations.extend(
                check_pod(spec)
                    .into_iter()
                    .map(|v| format!("{object}: {v}")),
            );
        }
    }
    violations
}

/// The pod spec inside a workload, if the object has one.
fn pod_spec(doc: &Value) -> Option<&Value> {
    let spec = match doc["kind"].as_str()? {
        "Pod" => &doc["spec"],
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            &doc["spec"]["template"]["spec"]
        }
        "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => return None,
    };
    Some(spec)
}

fn check_pod(spec: &Value) -> Vec<String> {
    let mut v = Vec::new();
    let pod = &spec["securityContext"];
    let mut containers = 0;
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for container in spec[list].as_array().into_iter().flatten() {
            containers += 1;
            let name = container["name"].as_str().unwrap_or("?");
            v.extend(
                check_container(pod, container)
                    .into_iter()
                    .map(|rule| format!("container {name}: {rule}")),
            );
        }
    }
    if containers == 0 {
        v.push("pod has no containers".into());
    }
    v
}

fn check_container(pod: &Value, container: &Value) -> Vec<String> {
    let mut v = Vec::new();
    let sc = &container["securityContext"];
    // A container setting overrides the pod's.
    let effective = |field: &str| -> Value {
        match &sc[field] {
            Value::Null => pod[field].clone(),
            set => set.clone(),
        }
    };

    match effective("runAsUser").as_u64() {
        Some(0) => v.push("runAsUser must not be 0".into()),
        Some(_) => {}
        None => v.push("runAsUser must be set to a numeric UID".into()),
    }
    if effective("seccompProfile")["type"].as_str() != Some("RuntimeDefault") {
        v.push("seccompProfile.type must be RuntimeDefault".into());
    }
    if sc["readOnlyRootFilesystem"].as_bool() != Some(true) {
        v.push("readOnlyRootFilesystem must be true (mount an emptyDir where it writes)".into());
    }
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            if container["resources"][kind][resource].is_null() {
                v.push(format!("resources.{kind}.{resource} must be set"));
            }
        }
    }
    if let Some(problem) = image_problem(container["image"].as_str()) {
        v.push(problem);
    }
    v
}

/// Why an image reference is not pinned, if it is not.
fn image_problem(image: Option<&str>) -> Option<String> {
    let Some(image) = image else {
        return Some("image must be set".into());
    };
    if image.contains("@sha256:") {
        return None;
    }
    // The tag follows the last ':' after the last '/' (a registry may have a port).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some(format!("image {image} must be pinned to a tag")),
        Some((_, "")) => Some(format!("image {image} has an empty tag")),
        Some((_, "latest")) => Some(format!("image {image} must not use the tag latest")),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A Deployment that meets every rule.
    fn compliant() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "app"},
            "spec": {"template": {"spec": {
                "securityContext": {
                    "runAsNonRoot": true,
                    "runAsUser": 65532,
                    "seccompProfile": {"type": "RuntimeDefault"}
                },
                "volumes": [{"name": "tmp", "emptyDir": {}}],
                "containers": [{
                    "name": "app",
                    "image": "ghcr.io/obi-examples/app:0.1.0",
                    "securityContext": {
                        "allowPrivilegeEscalation": false,
                        "readOnlyRootFilesystem": true,
                        "capabilities": {"drop": ["ALL"]}
                    },
                    "resources": {
                        "requests": {"cpu": "50m", "memory": "64Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"}
                    }
                }]
            }}}
        })
    }

    /// Applies `change` to the pod spec of a compliant Deployment and returns the
    /// violations found.
    fn violations_after(change: impl FnOnce(&mut Value)) -> Vec<String> {
        let mut doc = compliant();
        change(&mut doc["spec"]["template"]["spec"]);
        check_documents(&[doc])
    }

    fn assert_violation(change: impl FnOnce(&mut Value), rule: &str) {
        let violations = violations_after(change);
        assert!(
            violations.iter().any(|v| v.contains(rule)),
            "expected a violation containing {rule:?}, got {violations:?}"
        );
    }

    fn container(spec: &mut Value) -> &mut Value {
        &mut spec["containers"][0]
    }

    fn remove(value: &mut Value, key: &str) {
        value.as_object_mut().unwrap().remove(key);
    }

    #[test]
    fn a_compliant_pod_has_no_violation() {
        assert_eq!(check_documents(&[compliant()]), Vec::<String>::new());
    }

    #[test]
    fn removing_run_as_user_is_a_violation() {
        assert_violation(
            |s| remove(&mut s["securityContext"], "runAsUser"),
            "runAsUser must be set",
        );
    }

    #[test]
    fn run_as_user_zero_is_a_violation() {
        assert_violation(
            |s| s["securityContext"]["runAsUser"] = json!(0),
            "runAsUser must not be 0",
        );
    }

    #[test]
    fn a_named_user_is_not_numeric() {
        assert_violation(
            |s| s["securityContext"]["runAsUser"] = json!("nobody"),
            "numeric UID",
        );
    }

    #[test]
    fn removing_seccomp_is_a_violation() {
        assert_violation(
            |s| remove(&mut s["securityContext"], "seccompProfile"),
            "seccompProfile",
        );
    }

    #[test]
    fn an_unconfined_container_seccomp_is_a_violation() {
        assert_violation(
            |s| container(s)["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"}),
            "seccompProfile",
        );
    }

    #[test]
    fn removing_read_only_root_filesystem_is_a_violation() {
        assert_violation(
            |s| {
                remove(
                    &mut container(s)["securityContext"],
                    "readOnlyRootFilesystem",
                )
            },
            "readOnlyRootFilesystem",
        );
    }

    #[test]
    fn removing_any_request_or_limit_is_a_violation() {
        for kind in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert_violation(
                    |s| remove(&mut container(s)["resources"][kind], resource),
                    &format!("resources.{kind}.{resource}"),
                );
            }
        }
    }

    #[test]
    fn an_unpinned_or_latest_image_is_a_violation() {
        assert_violation(
            |s| container(s)["image"] = json!("ghcr.io/obi-examples/app"),
            "pinned",
        );
        assert_violation(
            |s| container(s)["image"] = json!("ghcr.io/obi-examples/app:latest"),
            "latest",
        );
        assert_violation(
            |s| container(s)["image"] = json!("localhost:5000/app"),
            "pinned",
        );
    }

    #[test]
    fn a_digest_or_a_registry_port_with_a_tag_is_pinned() {
        assert_eq!(image_problem(Some("localhost:5000/app:1.0")), None);
        assert_eq!(image_problem(Some("app@sha256:0123abcd")), None);
    }

    #[test]
    fn init_containers_are_checked_too() {
        assert_violation(
            |s| s["initContainers"] = json!([{"name": "init", "image": "busybox:1.36"}]),
            "container init: readOnlyRootFilesystem",
        );
    }

    #[test]
    fn jobs_cronjobs_and_bare_pods_are_checked() {
        let pod = compliant()["spec"]["template"]["spec"].clone();
        let mut bare = pod.clone();
        remove(&mut bare["securityContext"], "runAsUser");
        let docs = [
            json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": bare.clone()}),
            json!({"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": bare.clone()}}}),
            json!({"kind": "CronJob", "metadata": {"name": "c"},
                   "spec": {"jobTemplate": {"spec": {"template": {"spec": bare}}}}}),
            json!({"kind": "ConfigMap", "metadata": {"name": "not-a-pod"}}),
        ];
        let violations = check_documents(&docs);
        for object in ["Pod p", "Job j", "CronJob c"] {
            assert!(
                violations.iter().any(|v| v.starts_with(object)),
                "{object}: {violations:?}"
            );
        }
        assert!(!violations.iter().any(|v| v.contains("not-a-pod")));
    }
}
