//! A client for one app under test: absolute URLs, JSON requests, readiness waits,
//! and the problem+json assertion every API test makes.

use std::time::{Duration, Instant};

use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;

/// Talks to an app listening on `127.0.0.1:<port>`. Every request either answers or
/// fails the test: a refused connection is a bug in the test, not a case to handle.
/// Every request carries the admin token in `x-fault-token`, so a test's fault
/// headers apply (override it to see them refused).
#[derive(Debug, Clone)]
pub struct HttpClient {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// A plain client, for requests the helpers below do not cover.
    pub client: reqwest::Client,
}

impl HttpClient {
    /// A client for the app on `port`.
    pub fn new(port: u16) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-fault-token",
            reqwest::header::HeaderValue::from_static(crate::app::ADMIN_TOKEN),
        );
        Self {
            address: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .expect("a plain HTTP client builds"),
        }
    }

    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// POST `body` as JSON to `path`.
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// PUT `body` as JSON to `path`.
    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// DELETE `path`.
    pub async fn delete(&self, path: &str) -> Response {
        self.client.delete(self.url(path)).send().await.unwrap()
    }

    /// Waits until `/readyz` answers 200; fails the test after `limit`.
    pub async fn wait_ready(&self, limit: Duration) {
        self.wait_readiness(limit, "ready (200)", |status, _| status == StatusCode::OK)
            .await;
    }

    /// Waits until `/readyz` reports `status` in its body (`ready`, `degraded`, ...);
    /// fails the test after `limit`.
    pub async fn wait_status(&self, status: &str, limit: Duration) {
        self.wait_readiness(limit, status, |_, body| body["status"] == status)
            .await;
    }

    async fn wait_readiness(
        &self,
        limit: Duration,
        what: &str,
        done: impl Fn(StatusCode, &Value) -> bool,
    ) {
        let started = Instant::now();
        loop {
            if let Ok(response) = self.client.get(self.url("/readyz")).send().await {
                let status = response.status();
                let body = response.json::<Value>().await.unwrap_or(Value::Null);
                if done(status, &body) {
                    return;
                }
            }
            assert!(started.elapsed() < limit, "not {what} after {limit:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Asserts that the kit's per-request fault headers apply to the request `make`
/// builds (anew for each try): `x-fault-delay: 300ms` delays it, and it still answers
/// `ok`; `x-fault-error: 503` answers an `injected-fault` problem instead; an unknown
/// `x-fault-scenario` is a 400 `invalid-fault-header` naming the header; and without
/// the admin token a fault header is a 403 `fault-headers-forbidden`.
pub async fn assert_fault_headers_apply(make: impl Fn() -> RequestBuilder, ok: StatusCode) {
    let anonymous = make()
        .header("x-fault-error", "503")
        .header("x-fault-token", "not-the-admin-token")
        .send()
        .await
        .unwrap();
    let body = assert_problem(anonymous, StatusCode::FORBIDDEN, "fault-headers-forbidden").await;
    assert_eq!(body["header"], "x-fault-token", "{body}");
    let started = Instant::now();
    let delayed = make()
        .header("x-fault-delay", "300ms")
        .send()
        .await
        .unwrap();
    assert_eq!(delayed.status(), ok);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let failed = make().header("x-fault-error", "503").send().await.unwrap();
    assert_problem(failed, StatusCode::SERVICE_UNAVAILABLE, "injected-fault").await;
    let unknown = make()
        .header("x-fault-scenario", "no_such_fault")
        .send()
        .await
        .unwrap();
    let body = assert_problem(unknown, StatusCode::BAD_REQUEST, "invalid-fault-header").await;
    assert_eq!(body["header"], "x-fault-scenario", "{body}");
}

/// Asserts a problem+json answer with `status`, of any kind; returns the body.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16(), "{body}");
    body
}

/// Asserts a problem+json answer with `status` and problem `kind` (a slug of
/// `urn:obi-examples:problem:<kind>`, or `about:blank`); returns the body.
pub async fn assert_problem(response: Response, status: StatusCode, kind: &str) -> Value {
    let body = problem(response, status).await;
    let expected = if kind == "about:blank" {
        kind.to_owned()
    } else {
        format!("urn:obi-examples:problem:{kind}")
    };
    assert_eq!(body["type"], expected, "{body}");
    body
}

/// The fields a validation or parameter problem names in `errors`, sorted.
pub fn fields(problem: &Value) -> Vec<String> {
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|error| error["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    fields.sort();
    fields
}

/// Runs `cleanup` to completion on a thread with a runtime of its own, and waits
/// for it. For `Drop` of a test fixture: it may run while the test's runtime is
/// shutting down, so the cleanup cannot borrow that runtime or its connections.
pub fn block_on_own_thread<F>(cleanup: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the cleanup")
            .block_on(cleanup);
    })
    .join()
    .expect("the cleanup panicked");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_of_a_problem_are_listed_sorted() {
        let body = serde_json::json!({"errors": [{"field": "sku"}, {"field": "name"}]});
        assert_eq!(fields(&body), ["name", "sku"]);
        assert!(fields(&serde_json::json!({})).is_empty());
    }

    #[test]
    fn urls_are_absolute_on_loopback() {
        let client = HttpClient::new(8081);
        assert_eq!(client.url("/readyz"), "http://127.0.0.1:8081/readyz");
    }

    #[test]
    fn cleanup_runs_to_completion_outside_any_runtime() {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        block_on_own_thread(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        assert!(done.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test]
    async fn cleanup_runs_from_inside_a_runtime_too() {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        block_on_own_thread(async move { flag.store(true, std::sync::atomic::Ordering::SeqCst) });
        assert!(done.load(std::sync::atomic::Ordering::SeqCst));
    }
}
