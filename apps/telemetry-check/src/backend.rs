//! What can go wrong talking to a backend, and the shared HTTP GET that tells an
//! unreachable backend (exit code 3) from one that answered badly.

use std::time::Duration;

use serde::de::DeserializeOwned;

/// A failed backend call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    /// No connection, or no answer in time: the URL is wrong or the backend is down.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The backend rejected the query itself (e.g. bad PromQL): retrying cannot help.
    #[error("{url} rejected the query: {message}")]
    Rejected { url: String, message: String },
    /// Any other unexpected answer.
    #[error("{url} answered {detail}")]
    Unexpected { url: String, detail: String },
}

impl BackendError {
    pub fn is_unreachable(&self) -> bool {
        matches!(self, BackendError::Unreachable { .. })
    }
}

/// An HTTP client for the backends: plaintext, bounded per request.
pub fn client(request_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(request_timeout)
        .connect_timeout(request_timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("telemetry-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a plaintext reqwest client always builds")
}

/// The status and body of a GET; transport failures become [`BackendError::Unreachable`].
pub async fn get_text(
    http: &reqwest::Client,
    url: &str,
    query: &[(&str, String)],
) -> Result<(u16, String), BackendError> {
    let unreachable = |err: reqwest::Error| BackendError::Unreachable {
        url: url.to_owned(),
        reason: describe(&err),
    };
    let response = http
        .get(url)
        .query(query)
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(unreachable)?;
    Ok((status, body))
}

/// Decodes a JSON body, naming the URL on failure.
pub fn decode<T: DeserializeOwned>(url: &str, body: &str) -> Result<T, BackendError> {
    serde_json::from_str(body).map_err(|err| BackendError::Unexpected {
        url: url.to_owned(),
        detail: format!(
            "a body that is not the expected JSON ({err}): {}",
            excerpt(body)
        ),
    })
}

/// The first 200 characters of a body, for messages.
pub fn excerpt(body: &str) -> String {
    let trimmed = body.trim();
    match trimmed.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

/// reqwest's error with its causes (the useful part is usually the innermost).
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out".to_owned()
    } else {
        err.to_string()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Joins a base URL and a path without doubling or dropping the slash.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_handles_slashes() {
        assert_eq!(
            join("http://p:9090/", "/api/v1/query"),
            "http://p:9090/api/v1/query"
        );
        assert_eq!(
            join("http://p:9090/prom", "api/v1/query"),
            "http://p:9090/prom/api/v1/query"
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_and_named() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        drop(listener);
        let err = get_text(&client(Duration::from_secs(2)), &url, &[])
            .await
            .unwrap_err();
        assert!(err.is_unreachable(), "{err}");
        assert!(err.to_string().contains(&url), "{err}");
    }

    #[test]
    fn excerpts_are_short() {
        assert_eq!(excerpt(&"a".repeat(500)).chars().count(), 201);
        assert_eq!(excerpt(" ok "), "ok");
    }
}
