//! A key prefix of its own per test on the shared Redis of `cargo xtask services up`;
//! its keys are deleted when the test ends.

use redis::aio::MultiplexedConnection;

use crate::http::block_on_own_thread;

/// The shared server (override with `TEST_REDIS_HOST` and `TEST_REDIS_PORT`).
pub fn server() -> (String, u16) {
    let host = std::env::var("TEST_REDIS_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("TEST_REDIS_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(6379);
    (host, port)
}

/// A connection straight to the shared server (for a test's own assertions).
pub async fn connect() -> MultiplexedConnection {
    let (host, port) = server();
    redis::Client::open(format!("redis://{host}:{port}"))
        .expect("a valid Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is not reachable on 127.0.0.1:6379; run `cargo xtask services up`")
}

/// `test-<app>-<random>:`, whose keys are deleted on drop.
#[derive(Debug)]
pub struct KeyPrefix(pub String);

impl KeyPrefix {
    /// A fresh prefix for `app`'s keys.
    pub fn fresh(app: &str) -> Self {
        Self(format!("test-{app}-{:016x}:", fastrand::u64(..)))
    }
}

impl Drop for KeyPrefix {
    fn drop(&mut self) {
        let prefix = self.0.clone();
        // With a connection of its own: the test's belongs to the test's runtime.
        block_on_own_thread(async move {
            let (host, port) = server();
            let Ok(client) = redis::Client::open(format!("redis://{host}:{port}")) else {
                return;
            };
            let Ok(mut redis) = client.get_multiplexed_async_connection().await else {
                return;
            };
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query_async(&mut redis)
                .await
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<u64, _> = redis::cmd("DEL").arg(keys).query_async(&mut redis).await;
            }
        });
    }
}
