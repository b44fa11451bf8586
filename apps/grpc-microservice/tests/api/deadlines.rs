//! Deadlines as they go over the wire: the server answers DEADLINE_EXCEEDED
//! `grpc.deadline_margin` before the caller's `grpc-timeout` passes, as a
//! trailers-only response (the status in the one HEADERS frame, which ends the
//! stream), so the caller (and OBI, which reads the first response HEADERS) gets
//! the status before the caller would have given up. A raw HTTP/2 client shows the
//! frames; the generated client would hide headers versus trailers.

use std::time::{Duration, Instant};

use grpc_microservice::proto::GetStockRequest;
use poem::http::{HeaderMap, Request};
use prost::Message as _;

use crate::helpers::{TOKEN, settings, spawn_with};

/// One length-prefixed gRPC message: GetStock of a seeded SKU.
fn framed_request() -> Vec<u8> {
    let message = GetStockRequest {
        sku: "SKU-00001".into(),
    }
    .encode_to_vec();
    let mut frame = vec![0];
    frame.extend(u32::try_from(message.len()).unwrap().to_be_bytes());
    frame.extend(message);
    frame
}

/// What the client read: the response HEADERS, whether they ended the stream,
/// the message bytes after them, the trailers, and when the HEADERS came.
struct Answer {
    headers: HeaderMap,
    ended_with_headers: bool,
    body: Vec<u8>,
    trailers: Option<HeaderMap>,
    after: Duration,
}

async fn get_stock(port: u16, metadata: &[(&str, &str)]) -> Answer {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let mut request = Request::post(format!(
        "http://127.0.0.1:{port}/inventory.v1.Inventory/GetStock"
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers");
    for (name, value) in metadata {
        request = request.header(*name, *value);
    }
    let started = Instant::now();
    let (response, mut send) = client
        .send_request(request.body(()).unwrap(), false)
        .unwrap();
    send.send_data(framed_request().into(), true).unwrap();
    let response = response.await.unwrap();
    let after = started.elapsed();
    let (parts, mut recv) = response.into_parts();
    let ended_with_headers = recv.is_end_stream();
    let mut body = Vec::new();
    while let Some(chunk) = recv.data().await {
        body.extend_from_slice(&chunk.unwrap());
    }
    let trailers = recv.trailers().await.unwrap();
    Answer {
        headers: parts.headers,
        ended_with_headers,
        body,
        trailers,
        after,
    }
}

#[tokio::test]
async fn deadline_exceeded_is_a_trailers_only_answer_written_the_margin_before_the_deadline() {
    let mut settings = settings();
    settings.grpc.storm_delay = Duration::from_secs(5);
    settings.grpc.deadline_margin = Duration::from_millis(200);
    let mut app = spawn_with(settings).await;

    let answer = get_stock(
        app.port(),
        &[
            ("grpc-timeout", "1S"),
            ("x-fault-scenario", "deadline_storm"),
            ("x-fault-token", TOKEN),
        ],
    )
    .await;

    // One HEADERS frame carrying the status and ending the stream: trailers-only.
    assert!(answer.ended_with_headers, "{:?}", answer.headers);
    assert_eq!(answer.headers.get("grpc-status").unwrap(), "4");
    assert_eq!(
        answer.headers.get("content-type").unwrap(),
        "application/grpc"
    );
    assert!(answer.body.is_empty() && answer.trailers.is_none());
    // Written before the caller's deadline, not at it.
    assert!(
        answer.after >= Duration::from_millis(750) && answer.after < Duration::from_secs(1),
        "answered after {:?}; expected 1 s less the 200 ms margin, before the deadline",
        answer.after
    );
    app.stop().await;
}

#[tokio::test]
async fn a_call_answered_in_time_sends_headers_then_the_message_then_trailers() {
    let mut app = spawn_with(settings()).await;
    let answer = get_stock(app.port(), &[("grpc-timeout", "1S")]).await;
    // The shape the refusal above is not: HEADERS without a status, the message,
    // then the status in trailers.
    assert!(!answer.ended_with_headers);
    assert!(answer.headers.get("grpc-status").is_none());
    assert!(!answer.body.is_empty());
    assert_eq!(answer.trailers.unwrap().get("grpc-status").unwrap(), "0");
    app.stop().await;
}
