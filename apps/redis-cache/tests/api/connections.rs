//! Bounded connection lifetimes: the command connection is replaced by a fresh one
//! once `redis.max_connection_age` old, and the old one closes, so an app started
//! before OBI becomes fully visible within minutes (obi-telemetry.md).

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{TestApp, spawn_app_with};

async fn read(app: &TestApp) {
    assert_eq!(app.read(1).await.0, StatusCode::OK);
}

/// Waits until the proxy counts `open` connections; fails the test after 5 s.
async fn wait_open(app: &TestApp, open: usize) {
    let started = Instant::now();
    while app.proxy.open() != open {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{} connections open, not {open}",
            app.proxy.open()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_command_connection_is_replaced_once_it_is_max_age_old() {
    let age = Duration::from_millis(500);
    let app = spawn_app_with(|s| s.redis.max_connection_age = age).await;
    read(&app).await;
    let first = app.proxy.opened();
    // Now the command connection is old: the next command gets a fresh one...
    tokio::time::sleep(age + Duration::from_millis(100)).await;
    read(&app).await;
    let opened = app.proxy.opened();
    assert_eq!(opened, first + 1, "an old connection is replaced");
    // ...and the old one closes: the subscriber's and the fresh one stay open.
    wait_open(&app, 2).await;
    read(&app).await;
    assert_eq!(app.proxy.opened(), opened, "a young connection is reused");
}

#[tokio::test]
async fn with_the_default_age_the_connection_stays() {
    let app = spawn_app_with(|_| {}).await;
    read(&app).await;
    let opened = app.proxy.opened();
    tokio::time::sleep(Duration::from_millis(300)).await;
    read(&app).await;
    assert_eq!(app.proxy.opened(), opened);
}
