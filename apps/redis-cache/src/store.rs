//! Everything that talks to Redis — the only module that uses the redis crate: the
//! connections (recycled after `redis.max_connection_age`), the cached product
//! entries, the sessions and their carts, and the price channel. Every key starts with
//! `redis.key_prefix`; failures are [`StoreError`]s, never redis' own errors.

pub mod carts;
mod connection;
pub mod prices;
pub mod products;
pub mod sessions;

use std::sync::Arc;
use std::time::Duration;

use redis::IntoConnectionInfo;
use redis::aio::ConnectionManagerConfig;
use secrecy::ExposeSecret;

use crate::settings::RedisSettings;
use connection::Connections;

/// Redis could not do the work: unreachable, too slow, or it refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("Redis is unavailable: {0}")]
pub struct StoreError(String);

impl StoreError {
    /// A failure that is not one of redis' own errors.
    pub fn from_message(message: &str) -> Self {
        Self(message.to_owned())
    }
}

impl From<redis::RedisError> for StoreError {
    fn from(err: redis::RedisError) -> Self {
        Self(err.to_string())
    }
}

/// The app's Redis: commands on a connection that reconnects by itself and is
/// replaced once `redis.max_connection_age` old, under one key prefix. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    connections: Connections,
    client: redis::Client,
    prefix: Arc<str>,
    settings: RedisSettings,
}

impl Store {
    /// The store `settings` describe; nothing connects yet.
    pub fn new(settings: &RedisSettings) -> Result<Self, StoreError> {
        let client = client(settings)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.response_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        Ok(Self {
            connections: Connections::new(client.clone(), config, settings.max_connection_age)?,
            client,
            prefix: settings.key_prefix.as_str().into(),
            settings: settings.clone(),
        })
    }

    /// `PING`, for readiness.
    pub async fn ping(&self) -> Result<(), StoreError> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.connections.get())
            .await?;
        Ok(())
    }

    /// `<prefix><name>`.
    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

/// A client for the server `settings` name (plaintext; nothing connects yet).
fn client(settings: &RedisSettings) -> redis::RedisResult<redis::Client> {
    let info = (settings.host.clone(), settings.port).into_connection_info()?;
    let mut redis = info.redis_settings().clone().set_db(settings.db);
    let password = settings.password.expose_secret();
    if !password.is_empty() {
        redis = redis.set_password(password);
    }
    redis::Client::open(info.set_redis_settings(redis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{DEFAULTS, Settings};

    fn settings() -> Settings {
        service_kit::config::load_from(DEFAULTS, None, []).unwrap()
    }

    #[test]
    fn the_default_server_is_a_valid_client() {
        assert!(client(&settings().redis).is_ok());
    }

    #[test]
    fn a_password_is_sent() {
        let mut settings = settings();
        settings.redis.password = "s3cret".to_owned().into();
        let client = client(&settings.redis).unwrap();
        assert_eq!(
            client.get_connection_info().redis_settings().password(),
            Some("s3cret")
        );
    }
}
