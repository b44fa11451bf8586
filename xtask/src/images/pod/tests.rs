//! Tests of `images::pod`.

use super::*;
use serde_json::json;

fn render() -> Vec<Value> {
    vec![
        json!({"kind": "ConfigMap", "metadata": {"name": "r-app"},
               "data": {"config.yaml": "server:\n  port: 8081\n"}}),
        json!({"kind": "Secret", "metadata": {"name": "r-app"},
               "data": {"admin-token": "c2VjcmV0"}}),
        json!({"kind": "Deployment", "metadata": {"name": "r-app"}, "spec": {"template": {"spec": {
            "securityContext": {"runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532},
            "terminationGracePeriodSeconds": 45,
            "containers": [{
                "name": "app",
                "image": "localhost/obi-examples/app:0.1.0",
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "readOnlyRootFilesystem": true,
                    "capabilities": {"drop": ["ALL"]}
                },
                "ports": [{"name": "http", "containerPort": 8081}],
                "env": [
                    {"name": "APP_CONFIG_FILE", "value": "/etc/app/config.yaml"},
                    {"name": "APP__ADMIN__TOKEN",
                     "valueFrom": {"secretKeyRef": {"name": "r-app", "key": "admin-token"}}},
                    {"name": "OPTIONAL",
                     "valueFrom": {"secretKeyRef": {"name": "gone", "key": "x", "optional": true}}}
                ],
                "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}},
                "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                "volumeMounts": [
                    {"name": "config", "mountPath": "/etc/app", "readOnly": true},
                    {"name": "tmp", "mountPath": "/tmp"}
                ]
            }],
            "volumes": [
                {"name": "config", "configMap": {"name": "r-app"}},
                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}
            ]
        }}}}),
    ]
}

#[test]
fn a_deployment_container_is_read_with_its_references_resolved() {
    let container = deployment_container(&render(), "app").unwrap();
    assert_eq!(container.image, "localhost/obi-examples/app:0.1.0");
    assert_eq!(
        container.env,
        [
            ("APP_CONFIG_FILE".into(), "/etc/app/config.yaml".into()),
            ("APP__ADMIN__TOKEN".into(), "secret".into()),
        ]
    );
    assert_eq!(container.user, Some((65532, 65532)));
    assert_eq!(container.grace, Duration::from_secs(45));
    assert_eq!(container.port, Some(8081));
    assert_eq!(container.readiness_path.as_deref(), Some("/readyz"));
    assert_eq!(container.memory_limit.as_deref(), Some("256m"));
    assert_eq!(container.cpu_limit, Some(0.5));
    assert_eq!(
        container.mounts[0].files,
        [("config.yaml".into(), b"server:\n  port: 8081\n".to_vec())]
    );
    assert_eq!(
        container.scratch,
        [Scratch {
            path: "/tmp".into(),
            size: Some("64m".into())
        }]
    );
    container.require_restricted().unwrap();
}

#[test]
fn the_podman_options_carry_the_security_context_and_the_files() {
    let container = deployment_container(&render(), "app").unwrap();
    let dir = std::env::temp_dir().join(format!("xtask-pod-{}", std::process::id()));
    let options = container
        .run_options(&dir, &[("APP__SERVER__PORT".into(), "40001".into())])
        .unwrap();
    let joined = options.join(" ");
    for expected in [
        "--network host",
        "--read-only --read-only-tmpfs=false",
        "--user 65532:65532",
        "--cap-drop ALL",
        "--security-opt no-new-privileges",
        "--memory 256m",
        "--tmpfs /tmp:rw,mode=1777,size=64m",
    ] {
        assert!(joined.contains(expected), "{expected} missing in {joined}");
    }
    assert!(joined.contains(&format!("{}:/etc/app:ro", dir.join("config").display())));
    assert_eq!(
        fs::read_to_string(dir.join("config/config.yaml")).unwrap(),
        "server:\n  port: 8081\n"
    );
    assert_eq!(
        fs::read_to_string(dir.join("env")).unwrap(),
        "APP_CONFIG_FILE=/etc/app/config.yaml\nAPP__ADMIN__TOKEN=secret\nAPP__SERVER__PORT=40001\n"
    );
    assert!(
        !joined.contains("secret"),
        "a secret on the command line: {joined}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_chart_that_drops_a_restriction_is_refused() {
    let mut docs = render();
    docs[2]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] =
        json!(false);
    docs[2]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"] =
        json!({"drop": ["NET_RAW"]});
    let err = deployment_container(&docs, "app")
        .unwrap()
        .require_restricted()
        .unwrap_err()
        .to_string();
    assert!(err.contains("readOnlyRootFilesystem"), "{err}");
    assert!(err.contains("capabilities.drop"), "{err}");
}

#[test]
fn a_missing_secret_key_is_an_error_naming_it() {
    let mut docs = render();
    docs[1]["data"] = json!({});
    let err = format!("{:#}", deployment_container(&docs, "app").unwrap_err());
    assert!(
        err.contains("APP__ADMIN__TOKEN") && err.contains("admin-token"),
        "{err}"
    );
}

#[test]
fn quantities_become_podman_sizes_and_cpus() {
    assert_eq!(podman_size("64Mi"), "64m");
    assert_eq!(podman_size("1Gi"), "1g");
    assert_eq!(podman_size("512"), "512b");
    assert_eq!(cpus("500m"), Some(0.5));
    assert_eq!(cpus("2"), Some(2.0));
}
