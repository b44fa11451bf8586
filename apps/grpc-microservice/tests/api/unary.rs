//! GetStock, Reserve, Release: answers, every error code, rich details, expiry, and
//! no overselling under concurrent reservations.

use std::time::Duration;

use base64::Engine;
use grpc_microservice::details::decode_violations;
use grpc_microservice::proto::{GetStockRequest, ReleaseRequest, ReserveRequest};
use poem_grpc::{Code, Request};

use crate::helpers::{code, spawn};

fn reserve(sku: &str, quantity: i32, ttl_ms: u32) -> Request<ReserveRequest> {
    Request::new(ReserveRequest {
        sku: sku.into(),
        quantity,
        ttl_ms,
    })
}

#[tokio::test]
async fn get_stock_answers_the_seeded_levels() {
    let mut app = spawn().await;
    let stock = app
        .client()
        .get_stock(Request::new(GetStockRequest {
            sku: "SKU-00001".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (stock.on_hand, stock.reserved, stock.available),
        (100, 0, 100)
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_skus_are_not_found_and_empty_ones_invalid() {
    let mut app = spawn().await;
    let client = app.client();
    let missing = client
        .get_stock(Request::new(GetStockRequest { sku: "NOPE".into() }))
        .await;
    assert_eq!(code(missing), Code::NotFound);
    let empty = client
        .get_stock(Request::new(GetStockRequest { sku: " ".into() }))
        .await;
    assert_eq!(code(empty), Code::InvalidArgument);
    let long = client
        .get_stock(Request::new(GetStockRequest {
            sku: "x".repeat(65),
        }))
        .await;
    assert_eq!(code(long), Code::InvalidArgument);
    assert_eq!(
        code(client.reserve(reserve("NOPE", 1, 0)).await),
        Code::NotFound
    );
    app.stop().await;
}

#[tokio::test]
async fn reserve_then_release_gives_units_back() {
    let mut app = spawn().await;
    let client = app.client();
    let granted = client
        .reserve(reserve("SKU-00002", 30, 60_000))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(granted.available, 70);
    assert_eq!(granted.quantity, 30);
    assert!(granted.expires_at_ms > 0);
    let released = client
        .release(Request::new(ReleaseRequest {
            reservation_id: granted.reservation_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(released.stock.unwrap().available, 100);
    let again = client
        .release(Request::new(ReleaseRequest {
            reservation_id: granted.reservation_id,
        }))
        .await;
    assert_eq!(code(again), Code::NotFound);
    let empty = client
        .release(Request::new(ReleaseRequest {
            reservation_id: String::new(),
        }))
        .await;
    assert_eq!(code(empty), Code::InvalidArgument);
    // A huge id is refused without being echoed into grpc-message.
    let huge = client
        .release(Request::new(ReleaseRequest {
            reservation_id: "r".repeat(100_000),
        }))
        .await
        .unwrap_err();
    assert_eq!(huge.code(), Code::InvalidArgument);
    assert!(huge.message().unwrap_or_default().len() < 200, "{huge:?}");
    app.stop().await;
}

#[tokio::test]
async fn insufficient_stock_is_a_failed_precondition() {
    let mut app = spawn().await;
    let result = app.client().reserve(reserve("SKU-00003", 101, 0)).await;
    let status = result.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(
        status.message().unwrap().contains("100 units available"),
        "{status:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn invalid_arguments_carry_field_details() {
    let mut app = spawn().await;
    let (client, seen) = app.client_with_details();
    let status = client
        .reserve(reserve("", 0, 10 * 3_600_000))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let encoded = seen.lock().unwrap().clone().expect("a details trailer");
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .unwrap();
    let fields: Vec<String> = decode_violations(&bytes)
        .unwrap()
        .into_iter()
        .map(|(field, _)| field)
        .collect();
    assert_eq!(fields, ["sku", "quantity", "ttl_ms"]);
    app.stop().await;
}

#[tokio::test]
async fn expired_reservations_return_their_stock() {
    let mut app = spawn().await;
    let client = app.client();
    let granted = client
        .reserve(reserve("SKU-00004", 100, 100))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(granted.available, 0);
    assert_eq!(
        code(client.reserve(reserve("SKU-00004", 1, 0)).await),
        Code::FailedPrecondition
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let stock = client
        .get_stock(Request::new(GetStockRequest {
            sku: "SKU-00004".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((stock.reserved, stock.available), (0, 100));
    let release = client
        .release(Request::new(ReleaseRequest {
            reservation_id: granted.reservation_id,
        }))
        .await;
    assert_eq!(code(release), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_reservations_never_oversell() {
    let mut app = spawn().await;
    app.state.put("HOT", 50);
    let client = app.client();
    let mut calls = Vec::new();
    for _ in 0..200 {
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            client.reserve(reserve("HOT", 1, 60_000)).await
        }));
    }
    let (mut granted, mut refused) = (0, 0);
    for call in calls {
        match call.await.unwrap() {
            Ok(_) => granted += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                refused += 1;
            }
        }
    }
    assert_eq!((granted, refused), (50, 150));
    let level = app.state.get("HOT").unwrap();
    assert_eq!((level.on_hand, level.reserved), (50, 50));
    app.stop().await;
}
