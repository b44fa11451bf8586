//! The zero-code check: the release's pods carry no OpenTelemetry exporter
//! settings, so every span and metric really is OBI's. One Kubernetes API call
//! (list pods in one namespace) with the pod's service account token, over TLS
//! trusting only the service account's CA.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde::Deserialize;

/// Where Kubernetes mounts the service account of a pod.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The API server as seen from inside a pod.
#[derive(Debug, Clone)]
pub struct InCluster {
    pub host: String,
    pub port: u16,
    pub token_file: PathBuf,
    pub ca_file: PathBuf,
}

impl InCluster {
    /// The in-cluster API server, or why there is none (the reason goes into the
    /// report's "skipped" line).
    pub fn detect(service_account_dir: &Path) -> Result<Self, String> {
        let host = std::env::var("KUBERNETES_SERVICE_HOST").map_err(|_| {
            "not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST unset)".to_owned()
        })?;
        let port = std::env::var("KUBERNETES_SERVICE_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(443);
        let token_file = service_account_dir.join("token");
        if !token_file.is_file() {
            return Err(format!(
                "no service account token at {} (automountServiceAccountToken off?)",
                token_file.display()
            ));
        }
        Ok(InCluster {
            host,
            port,
            token_file,
            ca_file: service_account_dir.join("ca.crt"),
        })
    }

    /// `GET /api/v1/namespaces/<namespace>/pods?labelSelector=<selector>`.
    pub async fn list_pods(
        &self,
        namespace: &str,
        selector: &str,
        timeout: Duration,
    ) -> Result<PodList, String> {
        let mut url = reqwest::Url::parse("https://kubernetes.default.svc/").expect("static URL");
        url.set_path(&format!("/api/v1/namespaces/{namespace}/pods"));
        url.query_pairs_mut().append_pair("labelSelector", selector);
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let body = tokio::time::timeout(timeout, self.get(&path))
            .await
            .map_err(|_| format!("the Kubernetes API did not answer within {timeout:?}"))??;
        serde_json::from_slice(&body).map_err(|err| format!("the pod list is not JSON: {err}"))
    }

    async fn get(&self, path: &str) -> Result<Vec<u8>, String> {
        let api = format!("https://{}:{}", self.host, self.port);
        let token = std::fs::read_to_string(&self.token_file)
            .map_err(|err| format!("cannot read {}: {err}", self.token_file.display()))?;
        let mut roots = rustls::RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(&self.ca_file)
            .map_err(|err| format!("cannot read {}: {err}", self.ca_file.display()))?;
        for cert in certs {
            let cert = cert
                .map_err(|err| format!("bad certificate in {}: {err}", self.ca_file.display()))?;
            roots
                .add(cert)
                .map_err(|err| format!("unusable CA in {}: {err}", self.ca_file.display()))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| err.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|err| format!("cannot reach the Kubernetes API at {api}: {err}"))?;
        // The API server's certificate always names the in-cluster DNS name.
        let name = ServerName::try_from("kubernetes.default.svc").expect("a valid DNS name");
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|err| format!("TLS with the Kubernetes API at {api} failed: {err}"))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|err| format!("HTTP with the Kubernetes API at {api} failed: {err}"))?;
        let driver = tokio::spawn(connection);
        let request = hyper::Request::get(path)
            .header(hyper::header::HOST, "kubernetes.default.svc")
            .header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", token.trim()),
            )
            .header(hyper::header::ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|err| err.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|err| format!("the Kubernetes API at {api} failed: {err}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|err| format!("the Kubernetes API at {api} failed: {err}"))?
            .to_bytes();
        driver.abort();
        if !status.is_success() {
            return Err(format!(
                "the Kubernetes API answered {status} for {path}: {}",
                crate::backend::excerpt(&String::from_utf8_lossy(&body))
            ));
        }
        Ok(body.to_vec())
    }
}

// --- the pod list, reduced to what the check reads ---------------------------------

#[derive(Debug, Deserialize)]
pub struct PodList {
    #[serde(default)]
    pub items: Vec<Pod>,
}

#[derive(Debug, Deserialize)]
pub struct Pod {
    pub metadata: Metadata,
    pub spec: PodSpec,
}

#[derive(Debug, Deserialize)]
pub struct Metadata {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default)]
    pub containers: Vec<Container>,
    #[serde(default)]
    pub init_containers: Vec<Container>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    #[serde(default)]
    pub env: Vec<EnvVar>,
    #[serde(default)]
    pub env_from: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct EnvVar {
    pub name: String,
}

/// What the zero-code check found in the pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZeroCode {
    pub pods: usize,
    /// `pod/container: VARIABLE` for every exporter setting found.
    pub violations: Vec<String>,
    /// `envFrom` sources, which this least-privilege check cannot read.
    pub env_from_sources: usize,
}

/// Whether an environment variable configures an OpenTelemetry SDK exporter.
pub fn is_exporter_setting(name: &str) -> bool {
    name.starts_with("OTEL_EXPORTER_") || (name.starts_with("OTEL_") && name.ends_with("_EXPORTER"))
}

pub fn inspect(pods: &PodList) -> ZeroCode {
    let mut violations = Vec::new();
    let mut env_from_sources = 0;
    for pod in &pods.items {
        for container in pod.spec.containers.iter().chain(&pod.spec.init_containers) {
            env_from_sources += container.env_from.len();
            for env in &container.env {
                if is_exporter_setting(&env.name) {
                    violations.push(format!(
                        "{}/{}: {}",
                        pod.metadata.name, container.name, env.name
                    ));
                }
            }
        }
    }
    ZeroCode {
        pods: pods.items.len(),
        violations,
        env_from_sources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pods(json: &str) -> PodList {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn exporter_settings_are_recognised() {
        for name in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_TRACES_EXPORTER",
            "OTEL_METRICS_EXPORTER",
        ] {
            assert!(is_exporter_setting(name), "{name}");
        }
        for name in [
            "OTEL_SERVICE_NAME",
            "APP__SERVER__PORT",
            "TELEMETRY_CHECK_TRACES_URL",
        ] {
            assert!(!is_exporter_setting(name), "{name}");
        }
    }

    #[test]
    fn every_container_is_inspected() {
        let list = pods(
            r#"{"items":[
              {"metadata":{"name":"app-1"},"spec":{"containers":[{"name":"app","env":[{"name":"APP__X"}]}]}},
              {"metadata":{"name":"app-2"},"spec":{
                "initContainers":[{"name":"init","env":[{"name":"OTEL_TRACES_EXPORTER","value":"otlp"}]}],
                "containers":[{"name":"app","envFrom":[{"configMapRef":{"name":"x"}}],
                  "env":[{"name":"OTEL_EXPORTER_OTLP_ENDPOINT","value":"http://c:4318"}]}]}}]}"#,
        );
        assert_eq!(
            inspect(&list),
            ZeroCode {
                pods: 2,
                violations: vec![
                    "app-2/app: OTEL_EXPORTER_OTLP_ENDPOINT".into(),
                    "app-2/init: OTEL_TRACES_EXPORTER".into()
                ],
                env_from_sources: 1,
            }
        );
    }

    /// A stand-in for the Kubernetes API: TLS with the test server certificate
    /// (`testdata/kube`), one request per connection, answering `status` and `body`;
    /// the request heads it saw come back through the channel.
    mod api {
        use std::sync::Arc;

        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        use tokio::sync::mpsc;

        pub fn testdata(name: &str) -> std::path::PathBuf {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("testdata/kube")
                .join(name)
        }

        pub async fn serve(
            status: &'static str,
            body: &'static str,
            answer: bool,
        ) -> (u16, mpsc::UnboundedReceiver<String>) {
            let certs: Vec<CertificateDer<'static>> =
                CertificateDer::pem_file_iter(testdata("server.crt"))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
            let key = PrivateKeyDer::from_pem_file(testdata("server.key")).unwrap();
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let (heads, seen) = mpsc::unbounded_channel();
            tokio::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        continue;
                    };
                    let head = crate::stand_in::read_head(&mut tls).await;
                    let _ = heads.send(head);
                    if !answer {
                        // Hold the connection open without a word.
                        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                        continue;
                    }
                    crate::stand_in::answer(&mut tls, status, body).await;
                }
            });
            (port, seen)
        }
    }

    const TWO_PODS: &str = r#"{"kind":"PodList","items":[
      {"metadata":{"name":"sql-application-0"},"spec":{"containers":[{"name":"app","env":[{"name":"APP__DATABASE__HOST"}]}]}},
      {"metadata":{"name":"sql-application-1"},"spec":{"containers":[{"name":"app","env":[{"name":"OTEL_TRACES_EXPORTER"}]}]}}]}"#;

    fn cluster(port: u16, ca: &str, token_dir: &tempfile::TempDir) -> InCluster {
        let token_file = token_dir.path().join("token");
        std::fs::write(&token_file, "s3cret-token\n").unwrap();
        InCluster {
            host: "127.0.0.1".into(),
            port,
            token_file,
            ca_file: api::testdata(ca),
        }
    }

    #[tokio::test]
    async fn pods_are_listed_over_tls_with_the_token_and_the_selector() {
        let (port, mut seen) = api::serve("200 OK", TWO_PODS, true).await;
        let dir = tempfile::tempdir().unwrap();
        let list = cluster(port, "ca.crt", &dir)
            .list_pods(
                "demo",
                "app.kubernetes.io/instance=obi",
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        let found = inspect(&list);
        assert_eq!(found.pods, 2);
        assert_eq!(
            found.violations,
            ["sql-application-1/app: OTEL_TRACES_EXPORTER"]
        );
        let head = seen.recv().await.unwrap();
        assert!(
            head.starts_with(
                "GET /api/v1/namespaces/demo/pods?labelSelector=app.kubernetes.io%2Finstance%3Dobi HTTP/1.1"
            ),
            "{head}"
        );
        let head = head.to_ascii_lowercase();
        assert!(
            head.contains("authorization: bearer s3cret-token\r\n"),
            "{head}"
        );
        assert!(head.contains("host: kubernetes.default.svc"), "{head}");
    }

    #[tokio::test]
    async fn a_server_the_service_account_ca_did_not_sign_is_refused() {
        let (port, _seen) = api::serve("200 OK", TWO_PODS, true).await;
        let dir = tempfile::tempdir().unwrap();
        let err = cluster(port, "other-ca.crt", &dir)
            .list_pods("demo", "a=b", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(err.contains("TLS with the Kubernetes API"), "{err}");
    }

    #[tokio::test]
    async fn a_refusal_names_the_status_and_the_path() {
        let (port, _seen) = api::serve(
            "403 Forbidden",
            r#"{"kind":"Status","message":"pods is forbidden"}"#,
            true,
        )
        .await;
        let dir = tempfile::tempdir().unwrap();
        let err = cluster(port, "ca.crt", &dir)
            .list_pods("demo", "a=b", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(err.contains("403 Forbidden"), "{err}");
        assert!(err.contains("/api/v1/namespaces/demo/pods"), "{err}");
        assert!(err.contains("pods is forbidden"), "{err}");
    }

    #[tokio::test]
    async fn a_silent_api_server_times_out() {
        let (port, _seen) = api::serve("200 OK", "", false).await;
        let dir = tempfile::tempdir().unwrap();
        let err = cluster(port, "ca.crt", &dir)
            .list_pods("demo", "a=b", Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(err.contains("did not answer within"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_ca_or_token_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = cluster(1, "no-such-ca.crt", &dir);
        let err = cluster
            .list_pods("demo", "a=b", Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(err.contains("no-such-ca.crt"), "{err}");
        cluster.token_file = dir.path().join("gone");
        let err = cluster
            .list_pods("demo", "a=b", Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(err.contains("gone"), "{err}");
    }

    #[test]
    fn outside_a_cluster_there_is_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        // Whatever KUBERNETES_SERVICE_HOST says, an empty directory has no token.
        let reason = InCluster::detect(dir.path()).unwrap_err();
        assert!(
            reason.contains("KUBERNETES_SERVICE_HOST") || reason.contains("token"),
            "{reason}"
        );
    }
}
