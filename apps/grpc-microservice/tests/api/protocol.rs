//! The gRPC sweep: what a client gets for a protocol mistake, seen on the wire with
//! a raw HTTP/2 client (the generated client would refuse to make most of these).
//! A request that is not gRPC is HTTP 415; a call of an unknown method is
//! UNIMPLEMENTED; a malformed frame, an oversized message and an invalid field are
//! client mistakes, never UNKNOWN or INTERNAL.

use grpc_microservice::framing::MAX_MESSAGE_BYTES;
use grpc_microservice::proto::{Adjustment, GetStockRequest, ReserveRequest};
use poem::http::{HeaderMap, Request};
use prost::Message as _;

use crate::helpers::spawn;

/// What came back: HTTP status, the status headers (trailers, or the headers of a
/// trailers-only answer) and the body bytes.
struct Answer {
    http: u16,
    headers: HeaderMap,
    status: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn grpc_status(&self) -> Option<&str> {
        self.status.get("grpc-status").and_then(|v| v.to_str().ok())
    }

    fn grpc_message(&self) -> String {
        self.status
            .get("grpc-message")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

async fn call(port: u16, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Answer {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let mut request =
        Request::post(format!("http://127.0.0.1:{port}{path}")).header("te", "trailers");
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let (response, mut send) = client
        .send_request(request.body(()).unwrap(), false)
        .unwrap();
    send.send_data(body.into(), true).unwrap();
    let (parts, mut recv) = response.await.unwrap().into_parts();
    let mut data = Vec::new();
    while let Some(chunk) = recv.data().await {
        data.extend_from_slice(&chunk.unwrap());
    }
    let trailers = recv.trailers().await.unwrap();
    Answer {
        http: parts.status.as_u16(),
        status: trailers.unwrap_or_else(|| parts.headers.clone()),
        headers: parts.headers,
        body: data,
    }
}

/// `message` as one length-prefixed gRPC frame.
fn frame(message: &[u8]) -> Vec<u8> {
    let mut frame = vec![0];
    frame.extend(u32::try_from(message.len()).unwrap().to_be_bytes());
    frame.extend(message);
    frame
}

fn get_stock(sku: &str) -> Vec<u8> {
    frame(&GetStockRequest { sku: sku.into() }.encode_to_vec())
}

const GET_STOCK: &str = "/inventory.v1.Inventory/GetStock";
const WATCH_STOCK: &str = "/inventory.v1.Inventory/WatchStock";
const BULK_ADJUST: &str = "/inventory.v1.Inventory/BulkAdjust";
const RESERVE_STREAM: &str = "/inventory.v1.Inventory/ReserveStream";
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

#[tokio::test]
async fn an_unknown_method_or_service_is_unimplemented() {
    let mut app = spawn().await;
    for path in [
        "/inventory.v1.Inventory/Nope",
        "/no.such.Service/Method",
        "/",
    ] {
        let answer = call(
            app.port(),
            path,
            Some("application/grpc"),
            get_stock("SKU-00001"),
        )
        .await;
        assert_eq!(answer.http, 200, "{path}");
        assert_eq!(answer.headers["content-type"], "application/grpc", "{path}");
        assert_eq!(
            answer.grpc_status(),
            Some("12"),
            "{path}: {:?}",
            answer.status
        );
        assert!(
            answer.grpc_message().contains(path),
            "{path}: {}",
            answer.grpc_message()
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_request_that_is_not_grpc_is_an_http_415() {
    let mut app = spawn().await;
    for content_type in [
        None,
        Some("application/json"),
        Some("text/plain"),
        Some("application/grpc+json"),
    ] {
        let answer = call(app.port(), GET_STOCK, content_type, get_stock("SKU-00001")).await;
        assert_eq!(answer.http, 415, "{content_type:?}");
        assert!(answer.grpc_status().is_none(), "{content_type:?}");
        let text = String::from_utf8(answer.body).unwrap();
        assert!(text.contains("application/grpc"), "{text}");
    }
    // Both spellings of the protobuf codec are served.
    for content_type in ["application/grpc", "application/grpc+proto"] {
        let answer = call(
            app.port(),
            GET_STOCK,
            Some(content_type),
            get_stock("SKU-00001"),
        )
        .await;
        assert_eq!(
            (answer.http, answer.grpc_status()),
            (200, Some("0")),
            "{content_type}"
        );
    }
    app.stop().await;
}

/// Every client mistake gets a status that says so, never OK, UNKNOWN or INTERNAL:
/// INVALID_ARGUMENT for bytes that are wrong, RESOURCE_EXHAUSTED for a message over
/// the limit, UNIMPLEMENTED for a unary call without its message (grpc's
/// doc/statuscodes.md: request cardinality violation). Unary, streaming and the
/// library's own services (health) alike.
#[tokio::test]
async fn malformed_frames_oversized_messages_and_invalid_fields_are_client_errors() {
    let mut app = spawn().await;
    let valid = get_stock("SKU-00001");
    let garbage = frame(&[0xff, 0xff, 0xff, 0xff]);
    let then = |first: &[u8], second: &[u8]| [first, second].concat();
    let adjustment = frame(
        &Adjustment {
            sku: "SKU-00001".into(),
            delta: 1,
        }
        .encode_to_vec(),
    );
    let reserve = frame(
        &ReserveRequest {
            sku: "SKU-00001".into(),
            quantity: 1,
            ttl_ms: 0,
        }
        .encode_to_vec(),
    );
    let mut over_limit = vec![0];
    over_limit.extend((MAX_MESSAGE_BYTES + 1).to_be_bytes());
    over_limit.extend(vec![0x0a; 64 * 1024]);
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "a frame cut short",
            GET_STOCK,
            valid[..valid.len() - 2].to_vec(),
            "3",
        ),
        (
            "a header shorter than 5 bytes",
            GET_STOCK,
            vec![0, 0, 0],
            "3",
        ),
        (
            "bytes that are no protobuf",
            GET_STOCK,
            garbage.clone(),
            "3",
        ),
        (
            "a compressed frame without grpc-encoding",
            GET_STOCK,
            {
                let mut f = valid.clone();
                f[0] = 1;
                f
            },
            "3",
        ),
        (
            "a compressed flag that is neither 0 nor 1",
            GET_STOCK,
            {
                let mut f = valid.clone();
                f[0] = 2;
                f
            },
            "3",
        ),
        (
            "a message over the 4 MiB limit",
            GET_STOCK,
            frame(&vec![0x0a; 5 * 1024 * 1024]),
            "8",
        ),
        (
            "a length over the limit, body not sent",
            GET_STOCK,
            over_limit,
            "8",
        ),
        (
            "a unary call without a message",
            GET_STOCK,
            Vec::new(),
            "12",
        ),
        ("an empty sku", GET_STOCK, get_stock(""), "3"),
        (
            "a sku of 10 000 characters",
            GET_STOCK,
            get_stock(&"S".repeat(10_000)),
            "3",
        ),
        (
            "server streaming, no protobuf",
            WATCH_STOCK,
            garbage.clone(),
            "3",
        ),
        (
            "client streaming, no protobuf after a valid message",
            BULK_ADJUST,
            then(&adjustment, &garbage),
            "3",
        ),
        (
            "client streaming, cut short after a valid message",
            BULK_ADJUST,
            then(&adjustment, &adjustment[..4]),
            "3",
        ),
        (
            "bidirectional, no protobuf after a valid message",
            RESERVE_STREAM,
            then(&reserve, &garbage),
            "3",
        ),
        ("health, no protobuf", HEALTH_CHECK, garbage.clone(), "3"),
    ];
    for (what, path, body, expected) in cases {
        let answer = call(app.port(), path, Some("application/grpc"), body).await;
        let code = answer.grpc_status().unwrap_or("none");
        assert_eq!(
            (answer.http, code),
            (200, expected),
            "{what}: HTTP {} grpc-status {code} ({})",
            answer.http,
            answer.grpc_message()
        );
        assert!(!answer.grpc_message().is_empty(), "{what}: no message");
    }
    // The valid frame still works after the refusals, on a fresh connection.
    let answer = call(app.port(), GET_STOCK, Some("application/grpc"), valid).await;
    assert_eq!(answer.grpc_status(), Some("0"));
    app.stop().await;
}
