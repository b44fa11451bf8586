//! Graceful shutdown: requests in flight finish, new connections are refused.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn requests_in_flight_finish_after_shutdown_starts() {
    let mut app = spawn_app().await;
    let in_flight: Vec<_> = (0..5)
        .map(|_| {
            let request = app
                .client
                .get(app.url("/api/v1/products"))
                .header("x-fault-delay", "500ms")
                .send();
            tokio::spawn(request)
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.shutdown.trigger();

    for request in in_flight {
        let response = request.await.unwrap().unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let port = app.port();
    app.stop().await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    );
}
