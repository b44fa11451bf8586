//! The automation's HTTP client, for loopback and plain HTTP only: readiness waits
//! (`demo`, `bench`, the Jaeger smoke test) and the JSON requests bench plans use to
//! create data. ureq without TLS; a status is a value, not an error.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use ureq::Agent;

/// An agent that answers every status as a value, with `timeout` for the whole call.
fn agent(timeout: Duration) -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// `GET url`: the status and the body.
pub fn get(url: &str, timeout: Duration) -> Result<(u16, String)> {
    let mut response = agent(timeout)
        .get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("GET {url}: reading the body"))?;
    Ok((status, body))
}

/// Whether `GET url` answers 2xx within `timeout`.
pub fn ok(url: &str, timeout: Duration) -> bool {
    get(url, timeout).is_ok_and(|(status, _)| (200..300).contains(&status))
}

/// `POST <base_url><path>` with a JSON body; the JSON answer when the status is
/// `expected`.
pub fn post_json(
    base_url: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
    expected: u16,
) -> Result<Value> {
    send_json("POST", base_url, path, headers, Some(body), expected)
}

/// A shopper on redis-cache at `cart_url`: logs `username` in (the demo password)
/// and puts one line of `product`/`sku` in the session's cart; the bearer token.
/// What checkout needs before a journey (its contract run and its bench).
pub fn shopper_with_a_cart(
    cart_url: &str,
    username: &str,
    product: &Value,
    sku: &str,
) -> Result<String> {
    let login = post_json(
        cart_url,
        "/api/v1/sessions",
        &[],
        &serde_json::json!({"username": username, "password": "obi-examples"}),
        201,
    )?;
    let token = login["token"]
        .as_str()
        .context("no token from redis-cache")?
        .to_owned();
    send_json(
        "PUT",
        cart_url,
        "/api/v1/sessions/me/cart",
        &[("Authorization", &format!("Bearer {token}"))],
        Some(&serde_json::json!({"items": [{"product_id": product, "sku": sku, "quantity": 1}]})),
        200,
    )?;
    Ok(token)
}

/// `<method> <base_url><path>`, with a JSON body when `body` is given; the JSON
/// answer (`Null` when empty) when the status is `expected`.
pub fn send_json(
    method: &str,
    base_url: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
    expected: u16,
) -> Result<Value> {
    let url = format!("{}{path}", base_url.trim_end_matches('/'));
    let mut request = ureq::http::Request::builder().method(method).uri(&url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = match body {
        Some(json) => {
            request = request.header("content-type", "application/json");
            json.to_string()
        }
        None => String::new(),
    };
    let request = request
        .body(body)
        .with_context(|| format!("{method} {url}: not a valid request"))?;
    let mut response = agent(Duration::from_secs(10))
        .run(request)
        .with_context(|| format!("{method} {url}"))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("{method} {url}: reading the body"))?;
    let json = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).with_context(|| format!("{method} {url}: not JSON"))?
    };
    if status != expected {
        bail!("{method} {path} answered {status}, not {expected}: {json}");
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    use super::*;

    /// A one-shot server: answers the first request with `answer` and returns the
    /// request it read (head and body).
    fn serve_once(answer: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            reader.get_mut().write_all(answer.as_bytes()).unwrap();
            head + &String::from_utf8(body).unwrap()
        });
        (url, handle)
    }

    #[test]
    fn a_json_request_carries_its_method_headers_and_body_and_reads_chunks() {
        let (url, server) = serve_once(
            "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"id\r\n4\r\n\":7}\r\n0\r\n\r\n",
        );
        let answer = send_json(
            "PUT",
            &url,
            "/things",
            &[("authorization", "Bearer t")],
            Some(&serde_json::json!({"a": 1})),
            201,
        )
        .unwrap();
        assert_eq!(answer["id"], 7);
        let request = server.join().unwrap();
        assert!(request.starts_with("PUT /things HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("authorization: Bearer t"), "{request}");
        assert!(request.ends_with("{\"a\":1}"), "{request}");
    }

    #[test]
    fn an_unexpected_status_is_an_error_naming_it() {
        let (url, server) = serve_once("HTTP/1.1 409 Conflict\r\ncontent-length: 2\r\n\r\n{}");
        let err = send_json("DELETE", &url, "/x", &[], None, 200).unwrap_err();
        assert!(err.to_string().contains("answered 409, not 200"), "{err}");
        server.join().unwrap();
    }

    #[test]
    fn readiness_is_a_2xx_and_nothing_listening_is_not_ready() {
        let (url, server) = serve_once("HTTP/1.1 204 No Content\r\n\r\n");
        assert!(ok(&format!("{url}/readyz"), Duration::from_secs(2)));
        server.join().unwrap();
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/readyz", closed.local_addr().unwrap());
        drop(closed);
        assert!(!ok(&url, Duration::from_millis(500)));
    }
}
