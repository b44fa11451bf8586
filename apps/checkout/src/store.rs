//! checkout's own Redis — the only module that uses the redis crate: one idempotency
//! record per `Idempotency-Key` (`<prefix>idempotency:<key>`), claimed with `SET NX`
//! while the checkout runs, replaced by its answer when it ends, deleted when it
//! failed so that the key can be retried. Failures are [`StoreError`]s.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, SetExpiry, SetOptions};
use secrecy::ExposeSecret;

use crate::settings::RedisSettings;

/// Redis could not do the work: unreachable, too slow, or it refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("Redis is unavailable: {0}")]
pub struct StoreError(String);

impl From<redis::RedisError> for StoreError {
    fn from(err: redis::RedisError) -> Self {
        Self(err.to_string())
    }
}

/// The idempotency records. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    connection: ConnectionManager,
    prefix: Arc<str>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The store `settings` describe; nothing connects before the first command.
    pub fn new(settings: &RedisSettings) -> Result<Self, StoreError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.response_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connection = ConnectionManager::new_lazy_with_config(client(settings)?, config)?;
        Ok(Self {
            connection,
            prefix: settings.key_prefix.as_str().into(),
        })
    }

    /// `PING`, for readiness.
    pub async fn ping(&self) -> Result<(), StoreError> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.connection.clone())
            .await?;
        Ok(())
    }

    /// Claims `key` with `record` for `ttl`: `None` when claimed, else the record
    /// already there.
    pub async fn claim(
        &self,
        key: &str,
        record: &str,
        ttl: Duration,
    ) -> Result<Option<String>, StoreError> {
        let name = self.key(key);
        let options = SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(SetExpiry::PX(millis(ttl)));
        // Twice: a record that expires between the SET and the GET is claimable.
        for _ in 0..2 {
            let mut redis = self.connection.clone();
            let set: Option<String> = redis::cmd("SET")
                .arg(&name)
                .arg(record)
                .arg(&options)
                .query_async(&mut redis)
                .await?;
            if set.is_some() {
                return Ok(None);
            }
            let existing: Option<String> =
                redis::cmd("GET").arg(&name).query_async(&mut redis).await?;
            if existing.is_some() {
                return Ok(existing);
            }
        }
        Err(StoreError("the idempotency record kept changing".into()))
    }

    /// Replaces `key`'s record with `record` for `ttl`.
    pub async fn finish(&self, key: &str, record: &str, ttl: Duration) -> Result<(), StoreError> {
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(record)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut self.connection.clone())
            .await?;
        Ok(())
    }

    /// Deletes `key`'s record.
    pub async fn forget(&self, key: &str) -> Result<(), StoreError> {
        redis::cmd("DEL")
            .arg(self.key(key))
            .query_async::<i64>(&mut self.connection.clone())
            .await?;
        Ok(())
    }

    /// `<prefix>idempotency:<key>`.
    fn key(&self, key: &str) -> String {
        format!("{}idempotency:{key}", self.prefix)
    }
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
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
