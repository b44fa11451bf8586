//! The five processes of the control plane, each with its command line, its ports
//! and the check that says it serves: etcd, kube-apiserver, kube-controller-manager,
//! kube-scheduler and kwok (which plays the kubelet of every node).
//!
//! Everything listens on 127.0.0.1 only. etcd speaks plain HTTP there (its only
//! client is the API server on the same loopback); every Kubernetes endpoint is
//! TLS with the certificates of [`super::pki`].

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use super::Layout;
use super::pki;
use crate::{cmd, paths};

/// etcd's client port.
pub const ETCD_PORT: u16 = 2379;
/// etcd's peer port (a one-member cluster still listens on it).
const ETCD_PEER_PORT: u16 = 2380;
/// The API server's port (as in [`pki::API_SERVER`]).
pub const API_SERVER_PORT: u16 = 6443;
/// kube-controller-manager's health and metrics port (its default).
const CONTROLLER_MANAGER_PORT: u16 = 10257;
/// kube-scheduler's health and metrics port (its default).
const SCHEDULER_PORT: u16 = 10259;
/// kwok's health and metrics port.
const KWOK_PORT: u16 = 10247;

/// The Service ClusterIP range; nothing routes it (no kube-proxy), it only has to
/// hold the `kubernetes` Service's address that the serving certificate names.
const SERVICE_RANGE: &str = "10.96.0.0/16";
/// The range kwok takes fake pod IPs from.
const POD_RANGE: &str = "10.244.0.1/16";

/// One process of the control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Etcd,
    ApiServer,
    ControllerManager,
    Scheduler,
    Kwok,
}

/// In start order; they stop in the reverse.
pub const ALL: [Component; 5] = [
    Component::Etcd,
    Component::ApiServer,
    Component::ControllerManager,
    Component::Scheduler,
    Component::Kwok,
];

impl Component {
    /// The binary's name in the tool cache, also its directory under `target/cluster/`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Etcd => "etcd",
            Self::ApiServer => "kube-apiserver",
            Self::ControllerManager => "kube-controller-manager",
            Self::Scheduler => "kube-scheduler",
            Self::Kwok => "kwok",
        }
    }

    /// Every port it listens on.
    pub fn ports(self) -> &'static [u16] {
        match self {
            Self::Etcd => &[ETCD_PORT, ETCD_PEER_PORT],
            Self::ApiServer => &[API_SERVER_PORT],
            Self::ControllerManager => &[CONTROLLER_MANAGER_PORT],
            Self::Scheduler => &[SCHEDULER_PORT],
            Self::Kwok => &[KWOK_PORT],
        }
    }

    /// How long it may take to serve.
    pub fn start_timeout(self) -> Duration {
        match self {
            // The API server installs its built-in objects and RBAC roles first.
            Self::ApiServer => Duration::from_secs(90),
            _ => Duration::from_secs(45),
        }
    }

    /// The binary in the tool cache.
    pub fn binary(self) -> PathBuf {
        paths::tools_bin().join(self.name())
    }

    /// Its command line, run in its own directory.
    pub fn command(self, layout: &Layout) -> Command {
        let mut command = cmd::new(self.binary());
        command
            .current_dir(layout.dir(self))
            .args(self.args(layout));
        if self == Self::Kwok {
            // kwok also reads ~/.kwok/kwok.yaml when it exists: not ours to read.
            command.env("HOME", layout.dir(self));
        }
        command
    }

    fn args(self, layout: &Layout) -> Vec<String> {
        let pki = layout.pki();
        let path = |p: PathBuf| p.display().to_string();
        let kubeconfig = |identity| path(pki.kubeconfig(identity));
        let dir = path(layout.dir(self));
        match self {
            Self::Etcd => {
                let peer = format!("http://127.0.0.1:{ETCD_PEER_PORT}");
                let client = format!("http://127.0.0.1:{ETCD_PORT}");
                vec![
                    "--name=obi-examples".into(),
                    format!("--data-dir={dir}/data"),
                    format!("--listen-client-urls={client}"),
                    format!("--advertise-client-urls={client}"),
                    format!("--listen-peer-urls={peer}"),
                    format!("--initial-advertise-peer-urls={peer}"),
                    format!("--initial-cluster=obi-examples={peer}"),
                    // A test cluster trades durability for speed, as the services do.
                    "--unsafe-no-fsync=true".into(),
                    "--log-level=warn".into(),
                ]
            }
            Self::ApiServer => vec![
                format!("--etcd-servers=http://127.0.0.1:{ETCD_PORT}"),
                "--bind-address=127.0.0.1".into(),
                format!("--secure-port={API_SERVER_PORT}"),
                "--advertise-address=127.0.0.1".into(),
                // The `kubernetes` Service's Endpoints would hold 127.0.0.1, which
                // validation refuses; nothing in this cluster dials it anyway.
                "--endpoint-reconciler-type=none".into(),
                format!("--cert-dir={dir}"),
                format!("--tls-cert-file={}", path(pki.cert("apiserver"))),
                format!("--tls-private-key-file={}", path(pki.key("apiserver"))),
                format!("--client-ca-file={}", path(pki.cert("ca"))),
                format!("--service-cluster-ip-range={SERVICE_RANGE}"),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
                format!(
                    "--service-account-key-file={}",
                    path(pki.service_account_public_key())
                ),
                format!(
                    "--service-account-signing-key-file={}",
                    path(pki.service_account_key())
                ),
                "--authorization-mode=Node,RBAC".into(),
                // The default admission chain, PodSecurity included, is the point:
                // it is the one a real cluster runs.
                "--allow-privileged=false".into(),
                "--profiling=false".into(),
            ],
            Self::ControllerManager => vec![
                format!("--kubeconfig={}", kubeconfig(pki::CONTROLLER_MANAGER)),
                format!(
                    "--authentication-kubeconfig={}",
                    kubeconfig(pki::CONTROLLER_MANAGER)
                ),
                format!(
                    "--authorization-kubeconfig={}",
                    kubeconfig(pki::CONTROLLER_MANAGER)
                ),
                "--bind-address=127.0.0.1".into(),
                format!("--secure-port={CONTROLLER_MANAGER_PORT}"),
                format!("--cert-dir={dir}"),
                format!(
                    "--service-account-private-key-file={}",
                    path(pki.service_account_key())
                ),
                format!("--root-ca-file={}", path(pki.cert("ca"))),
                // Each controller acts as its own service account, as kubeadm sets it up.
                "--use-service-account-credentials=true".into(),
                format!("--service-cluster-ip-range={SERVICE_RANGE}"),
                "--cluster-name=obi-examples".into(),
                "--profiling=false".into(),
            ],
            Self::Scheduler => vec![
                format!("--kubeconfig={}", kubeconfig(pki::SCHEDULER)),
                format!("--authentication-kubeconfig={}", kubeconfig(pki::SCHEDULER)),
                format!("--authorization-kubeconfig={}", kubeconfig(pki::SCHEDULER)),
                "--bind-address=127.0.0.1".into(),
                format!("--secure-port={SCHEDULER_PORT}"),
                format!("--cert-dir={dir}"),
                "--profiling=false".into(),
            ],
            Self::Kwok => vec![
                format!("--kubeconfig={}", kubeconfig(pki::KWOK)),
                format!("--config={}", path(layout.stages())),
                // Only the nodes `cluster up` creates, marked with this annotation.
                format!(
                    "--manage-nodes-with-annotation-selector={}=fake",
                    super::seed::KWOK_NODE_ANNOTATION
                ),
                // Node leases renewed as a kubelet does; without them the node
                // lifecycle controller would mark the nodes NotReady and evict.
                "--node-lease-duration-seconds=40".into(),
                format!("--cidr={POD_RANGE}"),
                format!("--server-address=127.0.0.1:{KWOK_PORT}"),
            ],
        }
    }

    /// Whether it serves; an error when it cannot anymore.
    pub fn ready(self, layout: &Layout) -> Result<bool> {
        match self {
            Self::Etcd => Ok(http_get(ETCD_PORT, "/health")?
                .is_some_and(|body| body.contains("\"health\":\"true\""))),
            Self::ApiServer => Ok(super::kube::kubectl(layout)
                .args(["get", "--raw", "/readyz"])
                .output()
                .is_ok_and(|out| out.status.success() && out.stdout.starts_with(b"ok"))),
            Self::ControllerManager => Ok(tls_healthz(layout, self, CONTROLLER_MANAGER_PORT)),
            Self::Scheduler => Ok(tls_healthz(layout, self, SCHEDULER_PORT)),
            Self::Kwok => {
                Ok(http_get(KWOK_PORT, "/healthz")?.is_some_and(|body| body.trim() == "ok"))
            }
        }
    }
}

/// `GET /healthz` of a controller's own TLS endpoint, verified against the
/// certificate it made for itself at start-up in its `--cert-dir`.
fn tls_healthz(layout: &Layout, component: Component, port: u16) -> bool {
    let certificate = layout
        .dir(component)
        .join(format!("{}.crt", component.name()));
    certificate.is_file()
        && super::kube::kubectl(layout)
            .arg(format!("--server=https://127.0.0.1:{port}"))
            .arg(format!("--certificate-authority={}", certificate.display()))
            .args(["get", "--raw", "/healthz"])
            .stdin(std::process::Stdio::null())
            .output()
            .is_ok_and(|out| out.status.success() && out.stdout.starts_with(b"ok"))
}

/// A plain HTTP/1.1 GET on loopback: `Some(body)` on a 2xx answer, `None` when
/// nothing answers yet or the answer is not 2xx.
fn http_get(port: u16, path: &str) -> Result<Option<String>> {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return Ok(None);
    };
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return Ok(None);
    }
    let mut answer = String::new();
    if stream.read_to_string(&mut answer).is_err() {
        return Ok(None);
    }
    if !answer.starts_with("HTTP/1.1 2") {
        return Ok(None);
    }
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .context("an HTTP answer without a body")?;
    Ok(Some(body))
}
