//! The cluster's certificates, keys and kubeconfigs, made with Debian's `openssl`
//! at `cluster up` (and remade when missing or within a day of expiry).
//!
//! Why the `openssl` command rather than a Rust crate (rcgen): it is already on
//! every Debian machine, xtask stays free of a crypto stack that every helper
//! would compile, and each file it writes can be inspected with the same tool.
//! Everything is ECDSA P-256, valid for a year, under one CA that lives only in
//! this checkout's `target/cluster/pki/`:
//!
//! - `ca`: signs the rest; the API server trusts client certificates it signed,
//!   and every kubeconfig trusts it for the API server.
//! - `apiserver`: the serving certificate (127.0.0.1, localhost and the in-cluster
//!   names of the `kubernetes` Service).
//! - `admin`, `controller-manager`, `scheduler`, `kwok`: client certificates whose
//!   subject is the identity RBAC sees (`O` is the group).
//! - `service-account`: the key pair that signs and verifies service-account tokens.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::cmd;

/// The one loopback address the API server answers on, and its port.
pub const API_SERVER: &str = "https://127.0.0.1:6443";

/// The first address of the Service range: the `kubernetes` Service's ClusterIP.
const KUBERNETES_SERVICE_IP: &str = "10.96.0.1";

/// Days every certificate is valid.
const DAYS: &str = "365";

/// A client identity: file stem, common name (the user) and organization (the group).
#[derive(Debug, Clone, Copy)]
pub struct Identity {
    pub stem: &'static str,
    user: &'static str,
    group: Option<&'static str>,
}

/// `helm` and `kubectl` of `cargo xtask cluster`: a cluster admin, as whoever
/// installs charts usually is.
pub const ADMIN: Identity = Identity {
    stem: "admin",
    user: "obi-examples-admin",
    group: Some("system:masters"),
};
/// kube-controller-manager's built-in identity (RBAC's bootstrap roles name it).
pub const CONTROLLER_MANAGER: Identity = Identity {
    stem: "controller-manager",
    user: "system:kube-controller-manager",
    group: None,
};
/// kube-scheduler's built-in identity.
pub const SCHEDULER: Identity = Identity {
    stem: "scheduler",
    user: "system:kube-scheduler",
    group: None,
};
/// kwok plays every node's kubelet at once, so it cannot be one `system:node:*`
/// identity that the Node authorizer would confine to its own node: it is admin.
pub const KWOK: Identity = Identity {
    stem: "kwok",
    user: "kwok-controller",
    group: Some("system:masters"),
};

const CLIENTS: [Identity; 4] = [ADMIN, CONTROLLER_MANAGER, SCHEDULER, KWOK];

/// The files under one directory (`target/cluster/`).
#[derive(Debug, Clone)]
pub struct Pki {
    root: PathBuf,
}

impl Pki {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
        }
    }

    fn dir(&self) -> PathBuf {
        self.root.join("pki")
    }

    /// `pki/<stem>.crt`.
    pub fn cert(&self, stem: &str) -> PathBuf {
        self.dir().join(format!("{stem}.crt"))
    }

    /// `pki/<stem>.key`.
    pub fn key(&self, stem: &str) -> PathBuf {
        self.dir().join(format!("{stem}.key"))
    }

    /// The service-account token signing key (private).
    pub fn service_account_key(&self) -> PathBuf {
        self.key("service-account")
    }

    /// The service-account token verification key (public).
    pub fn service_account_public_key(&self) -> PathBuf {
        self.dir().join("service-account.pub")
    }

    /// `<stem>.kubeconfig` next to `pki/`.
    pub fn kubeconfig(&self, identity: Identity) -> PathBuf {
        self.root.join(format!("{}.kubeconfig", identity.stem))
    }

    /// Makes whatever is missing or about to expire; a new CA reissues everything.
    pub fn ensure(&self) -> Result<()> {
        fs::create_dir_all(self.dir())
            .with_context(|| format!("cannot create {}", self.dir().display()))?;
        let mut reissue = false;
        if !self.valid("ca")? {
            self.make_ca()?;
            reissue = true;
        }
        if reissue || !self.valid("apiserver")? {
            self.issue("apiserver", &serving_config())?;
        }
        for identity in CLIENTS {
            if reissue || !self.valid(identity.stem)? {
                self.issue(identity.stem, &client_config(identity))?;
            }
            self.write_kubeconfig(identity)?;
        }
        if !self.service_account_key().is_file() || !self.service_account_public_key().is_file() {
            self.new_key(&self.service_account_key())?;
            openssl(
                Command::new("openssl")
                    .args(["pkey", "-pubout", "-in"])
                    .arg(self.service_account_key())
                    .arg("-out")
                    .arg(self.service_account_public_key()),
            )?;
        }
        Ok(())
    }

    /// True when `<stem>.crt` and its key exist and stay valid for another day.
    fn valid(&self, stem: &str) -> Result<bool> {
        if !self.cert(stem).is_file() || !self.key(stem).is_file() {
            return Ok(false);
        }
        let status = Command::new("openssl")
            .args(["x509", "-noout", "-checkend", "86400", "-in"])
            .arg(self.cert(stem))
            .stdout(std::process::Stdio::null())
            .status()
            .context("cannot run openssl (Debian package openssl; `cargo xtask tools`)")?;
        Ok(status.success())
    }

    fn new_key(&self, path: &Path) -> Result<()> {
        openssl(
            Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                ])
                .arg(path),
        )?;
        restrict(path)
    }

    fn make_ca(&self) -> Result<()> {
        let config = self.dir().join("ca.cnf");
        fs::write(&config, ca_config())?;
        self.new_key(&self.key("ca"))?;
        openssl(
            Command::new("openssl")
                .args(["req", "-x509", "-new", "-days", DAYS, "-key"])
                .arg(self.key("ca"))
                .arg("-config")
                .arg(&config)
                .arg("-out")
                .arg(self.cert("ca")),
        )
    }

    /// A new key and a certificate for it, signed by the CA, as `config` describes.
    fn issue(&self, stem: &str, config: &str) -> Result<()> {
        let config_path = self.dir().join(format!("{stem}.cnf"));
        let request = self.dir().join(format!("{stem}.csr"));
        fs::write(&config_path, config)?;
        self.new_key(&self.key(stem))?;
        openssl(
            Command::new("openssl")
                .args(["req", "-new", "-key"])
                .arg(self.key(stem))
                .arg("-config")
                .arg(&config_path)
                .arg("-out")
                .arg(&request),
        )?;
        openssl(
            Command::new("openssl")
                .args(["x509", "-req", "-days", DAYS, "-in"])
                .arg(&request)
                .arg("-CA")
                .arg(self.cert("ca"))
                .arg("-CAkey")
                .arg(self.key("ca"))
                .arg("-CAserial")
                .arg(self.dir().join("ca.srl"))
                .arg("-CAcreateserial")
                .arg("-extfile")
                .arg(&config_path)
                .args(["-extensions", "ext", "-out"])
                .arg(self.cert(stem)),
        )?;
        let _ = fs::remove_file(request);
        Ok(())
    }

    fn write_kubeconfig(&self, identity: Identity) -> Result<()> {
        let path = self.kubeconfig(identity);
        fs::write(&path, kubeconfig(identity))
            .with_context(|| format!("cannot write {}", path.display()))?;
        // helm warns about (and kubectl's users expect) a kubeconfig only its owner reads.
        restrict(&path)
    }
}

/// Owner-only permissions: keys and kubeconfigs.
fn restrict(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))
}

fn openssl(command: &mut Command) -> Result<()> {
    cmd::output(command.stdin(std::process::Stdio::null()))
        .map(drop)
        .context("openssl failed (Debian package openssl; `cargo xtask tools` installs it)")
}

fn ca_config() -> String {
    "[req]
distinguished_name = dn
prompt = no
x509_extensions = ext
[dn]
CN = obi-examples-cluster-ca
[ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
"
    .to_owned()
}

fn serving_config() -> String {
    format!(
        "[req]
distinguished_name = dn
prompt = no
[dn]
CN = kube-apiserver
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:{KUBERNETES_SERVICE_IP}, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local
"
    )
}

fn client_config(identity: Identity) -> String {
    let group = identity
        .group
        .map(|group| format!("O = {group}\n"))
        .unwrap_or_default();
    format!(
        "[req]
distinguished_name = dn
prompt = no
[dn]
{group}CN = {}
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
",
        identity.user
    )
}

/// A kubeconfig for `identity`; paths are relative to the kubeconfig's directory,
/// so the checkout can move.
fn kubeconfig(identity: Identity) -> String {
    let stem = identity.stem;
    format!(
        "apiVersion: v1
kind: Config
clusters:
  - name: obi-examples
    cluster:
      server: {API_SERVER}
      certificate-authority: pki/ca.crt
users:
  - name: {stem}
    user:
      client-certificate: pki/{stem}.crt
      client-key: pki/{stem}.key
contexts:
  - name: obi-examples
    context:
      cluster: obi-examples
      user: {stem}
current-context: obi-examples
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::bail;

    /// The subject of a certificate, RFC 2253 style.
    fn subject(cert: &Path) -> Result<String> {
        let out = cmd::output(
            Command::new("openssl")
                .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in"])
                .arg(cert),
        )?;
        match out.trim().strip_prefix("subject=") {
            Some(subject) => Ok(subject.to_owned()),
            None => bail!("openssl printed no subject for {}: {out}", cert.display()),
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-pki-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn every_certificate_chains_to_the_ca_and_names_its_identity() {
        let dir = scratch("chain");
        let pki = Pki::new(&dir);
        pki.ensure().unwrap();
        for stem in [
            "apiserver",
            "admin",
            "controller-manager",
            "scheduler",
            "kwok",
        ] {
            let verified = cmd::output(
                Command::new("openssl")
                    .arg("verify")
                    .arg("-CAfile")
                    .arg(pki.cert("ca"))
                    .arg(pki.cert(stem)),
            )
            .unwrap();
            assert!(verified.trim().ends_with(": OK"), "{stem}: {verified}");
        }
        assert_eq!(
            subject(&pki.cert("admin")).unwrap(),
            "CN=obi-examples-admin,O=system:masters"
        );
        assert_eq!(
            subject(&pki.cert("controller-manager")).unwrap(),
            "CN=system:kube-controller-manager"
        );
        let serving = cmd::output(
            Command::new("openssl")
                .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
                .arg(pki.cert("apiserver")),
        )
        .unwrap();
        assert!(serving.contains("IP Address:127.0.0.1"), "{serving}");
        assert!(serving.contains("DNS:kubernetes.default.svc"), "{serving}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_second_ensure_keeps_what_is_valid_and_remakes_what_is_missing() {
        let dir = scratch("again");
        let pki = Pki::new(&dir);
        pki.ensure().unwrap();
        let ca = fs::read(pki.cert("ca")).unwrap();
        let admin = fs::read(pki.cert("admin")).unwrap();
        fs::remove_file(pki.cert("scheduler")).unwrap();
        pki.ensure().unwrap();
        assert_eq!(fs::read(pki.cert("ca")).unwrap(), ca);
        assert_eq!(fs::read(pki.cert("admin")).unwrap(), admin);
        assert!(pki.valid("scheduler").unwrap());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn kubeconfigs_point_at_loopback_with_relative_files() {
        let text = kubeconfig(ADMIN);
        assert!(text.contains("server: https://127.0.0.1:6443"));
        assert!(text.contains("client-certificate: pki/admin.crt"));
        let parsed: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
        assert_eq!(parsed["current-context"].as_str(), Some("obi-examples"));
    }
}
