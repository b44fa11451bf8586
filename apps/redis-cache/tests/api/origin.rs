//! The HTTP origin: sql-application's product API shape, played by a small poem
//! server the test controls (extra fields ignored, 404 remembered, PUT for prices).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Json, Path};
use poem::{EndpointExt, IntoResponse, Route, Server, get, handler, http::StatusCode};
use serde_json::{Value, json};

use crate::helpers::{cache_header, spawn_app_with};
use crate::prices::set_price;

#[derive(Default)]
struct Calls {
    gets: AtomicU64,
    puts: AtomicU64,
}

#[handler]
fn product(Path(id): Path<i64>, calls: Data<&Arc<Calls>>) -> poem::Response {
    calls.gets.fetch_add(1, Ordering::SeqCst);
    if id > 100 {
        return StatusCode::NOT_FOUND.into_response();
    }
    Json(json!({"id": id, "sku": format!("SQL-{id}"), "name": "From SQL", "price_cents": 999,
                "stock": 3, "created_at": "2026-11-27T00:00:00Z", "updated_at": "2026-11-27T00:00:00Z"}))
    .into_response()
}

#[handler]
fn update(Path(id): Path<i64>, body: Json<Value>, calls: Data<&Arc<Calls>>) -> poem::Response {
    calls.puts.fetch_add(1, Ordering::SeqCst);
    let mut changed = body.0;
    changed["id"] = json!(id);
    Json(changed).into_response()
}

#[tokio::test]
async fn sql_application_shaped_origin_is_cached_and_updated() {
    let calls = Arc::new(Calls::default());
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
    let routes = Route::new()
        .at("/api/v1/products/:id", get(product).put(update))
        .data(calls.clone());
    let server = tokio::spawn(Server::new_with_acceptor(acceptor).run(routes));

    let app = spawn_app_with(|s| s.origin.url = format!("http://127.0.0.1:{port}/")).await;
    let response = app.get("/api/v1/products/5").await;
    assert_eq!(cache_header(&response), "miss");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["sku"], "SQL-5");
    assert!(body.get("created_at").is_none());
    assert_eq!(app.read(5).await, (StatusCode::OK, "hit".into()));
    assert_eq!(app.read(500).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.read(500).await.1, "hit", "the 404 is remembered");
    assert_eq!(calls.gets.load(Ordering::SeqCst), 2);

    let response = set_price(&app, 5, 4321).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["price_cents"], 4321);
    assert_eq!(calls.puts.load(Ordering::SeqCst), 1);
    assert_eq!(
        set_price(&app, 500, 1).await.status(),
        StatusCode::NOT_FOUND
    );
    server.abort();
}
