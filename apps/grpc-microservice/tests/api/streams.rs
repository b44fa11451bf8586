//! WatchStock (server streaming), BulkAdjust (client streaming), ReserveStream
//! (bidirectional): answers and error paths.

use std::time::Duration;

use futures_util::StreamExt;
use grpc_microservice::proto::{Adjustment, ReserveRequest, WatchStockRequest, reserve_outcome};
use poem_grpc::{Code, Request};

use crate::helpers::{code, spawn};

fn adjust(pairs: &[(&str, i32)]) -> Request<poem_grpc::Streaming<Adjustment>> {
    let items: Vec<Adjustment> = pairs
        .iter()
        .map(|(sku, delta)| Adjustment {
            sku: (*sku).into(),
            delta: *delta,
        })
        .collect();
    Request::new_streaming(futures_util::stream::iter(items.into_iter().map(Ok)))
}

#[tokio::test]
async fn watch_stock_sends_levels_then_changes() {
    let mut app = spawn().await;
    let client = app.client();
    let mut watch = client
        .watch_stock(Request::new(WatchStockRequest {
            skus: vec!["SKU-00001".into(), "SKU-00002".into()],
            watch_ms: 0,
        }))
        .await
        .unwrap()
        .into_inner();
    let first = watch.next().await.unwrap().unwrap();
    let second = watch.next().await.unwrap().unwrap();
    assert_eq!(
        (first.sku.as_str(), second.sku.as_str()),
        ("SKU-00001", "SKU-00002")
    );
    app.state.put("SKU-00003", 1);
    app.state.put("SKU-00002", 7);
    let change = tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((change.sku.as_str(), change.on_hand), ("SKU-00002", 7));
    app.stop().await;
}

#[tokio::test]
async fn watch_stock_ends_cleanly_after_watch_ms() {
    let mut app = spawn().await;
    let started = std::time::Instant::now();
    let items: Vec<_> = app
        .client()
        .watch_stock(Request::new(WatchStockRequest {
            skus: vec!["SKU-00001".into()],
            watch_ms: 200,
        }))
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    assert!(items[0].is_ok());
    assert!(started.elapsed() >= Duration::from_millis(200));
    app.stop().await;
}

#[tokio::test]
async fn watch_stock_rejects_bad_sets() {
    let mut app = spawn().await;
    let client = app.client();
    let none = client
        .watch_stock(Request::new(WatchStockRequest {
            skus: vec![],
            watch_ms: 0,
        }))
        .await;
    assert_eq!(code(none.map(|_| ())), Code::InvalidArgument);
    let unknown = client
        .watch_stock(Request::new(WatchStockRequest {
            skus: vec!["NOPE".into()],
            watch_ms: 0,
        }))
        .await;
    assert_eq!(code(unknown.map(|_| ())), Code::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn bulk_adjust_applies_all_or_nothing() {
    let mut app = spawn().await;
    let client = app.client();
    let done = client
        .bulk_adjust(adjust(&[("SKU-00001", 5), ("NEW", 3), ("SKU-00001", -2)]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.adjustments, 3);
    let levels: Vec<(String, i32)> = done
        .stocks
        .into_iter()
        .map(|s| (s.sku, s.on_hand))
        .collect();
    assert_eq!(levels, [("NEW".into(), 3), ("SKU-00001".into(), 103)]);

    let underflow = client
        .bulk_adjust(adjust(&[("SKU-00002", 50), ("SKU-00003", -101)]))
        .await;
    assert_eq!(code(underflow), Code::FailedPrecondition);
    assert_eq!(app.state.get("SKU-00002").unwrap().on_hand, 100);

    let unknown = client.bulk_adjust(adjust(&[("GHOST", -1)])).await;
    assert_eq!(code(unknown), Code::NotFound);
    let invalid = client.bulk_adjust(adjust(&[("SKU-00001", 0)])).await;
    assert_eq!(code(invalid), Code::InvalidArgument);
    let empty = client.bulk_adjust(adjust(&[])).await;
    assert_eq!(code(empty), Code::InvalidArgument);
    app.stop().await;
}

#[tokio::test]
async fn bulk_adjust_limits_the_stream() {
    let mut settings = crate::helpers::settings();
    settings.inventory.max_adjustments = 3;
    let mut app = crate::helpers::spawn_with(settings).await;
    let too_many = app
        .client()
        .bulk_adjust(adjust(&[("A", 1), ("A", 1), ("A", 1), ("A", 1)]))
        .await;
    assert_eq!(code(too_many), Code::InvalidArgument);
    app.stop().await;
}

#[tokio::test]
async fn reserve_stream_answers_each_request_in_order() {
    let mut app = spawn().await;
    app.state.put("BIDI", 3);
    let requests = vec![
        ReserveRequest {
            sku: "BIDI".into(),
            quantity: 2,
            ttl_ms: 0,
        },
        ReserveRequest {
            sku: "BIDI".into(),
            quantity: 2,
            ttl_ms: 0,
        },
        ReserveRequest {
            sku: "NOPE".into(),
            quantity: 1,
            ttl_ms: 0,
        },
        ReserveRequest {
            sku: "BIDI".into(),
            quantity: 0,
            ttl_ms: 0,
        },
        ReserveRequest {
            sku: "BIDI".into(),
            quantity: 1,
            ttl_ms: 0,
        },
    ];
    let outcomes: Vec<_> = app
        .client()
        .reserve_stream(Request::new_streaming(futures_util::stream::iter(
            requests.into_iter().map(Ok),
        )))
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await;
    let summary: Vec<(u32, i32)> = outcomes
        .into_iter()
        .map(|o| {
            let o = o.unwrap();
            let code = match o.result.unwrap() {
                reserve_outcome::Result::Reservation(_) => 0,
                reserve_outcome::Result::Failure(f) => f.code,
            };
            (o.index, code)
        })
        .collect();
    assert_eq!(summary, [(0, 0), (1, 9), (2, 5), (3, 3), (4, 0)]);
    assert_eq!(app.state.get("BIDI").unwrap().available(), 0);
    app.stop().await;
}
