//! Shutdown: health turns NOT_SERVING, open streams end cleanly, in-flight unary
//! calls finish, and the port closes.

use std::time::Duration;

use futures_util::StreamExt;
use grpc_microservice::proto::{GetStockRequest, WatchStockRequest};
use poem_grpc::Request;

use crate::helpers::spawn;

#[tokio::test]
async fn shutdown_ends_streams_cleanly_and_finishes_calls_in_flight() {
    let mut app = spawn().await;
    let client = app.client();
    let mut watch = client
        .watch_stock(Request::new(WatchStockRequest {
            skus: vec!["SKU-00001".into()],
            watch_ms: 0,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(watch.next().await.unwrap().is_ok());
    let in_flight = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut req = Request::new(GetStockRequest {
                sku: "SKU-00001".into(),
            });
            req.metadata_mut().insert("x-fault-delay", "300ms");
            req.metadata_mut()
                .insert("x-fault-token", crate::helpers::TOKEN);
            client.get_stock(req).await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    app.shutdown.trigger();
    let end = tokio::time::timeout(Duration::from_secs(3), watch.next())
        .await
        .expect("the stream ends");
    assert!(end.is_none(), "a clean end, got {end:?}");
    assert!(in_flight.await.unwrap().is_ok());
    app.stop_within(Duration::from_secs(6)).await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", app.port()))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn readiness_and_grpc_health_fail_while_draining() {
    let mut app = spawn().await;
    let health = app.health();
    app.shutdown.trigger();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // New connections may already be refused; an open one still answers.
    if let Ok(answer) = health
        .check(Request::new(
            crate::helpers::health_proto::HealthCheckRequest {
                service: "inventory.v1.Inventory".into(),
            },
        ))
        .await
    {
        assert_eq!(answer.into_inner().status, 2);
    }
    app.stop().await;
}
