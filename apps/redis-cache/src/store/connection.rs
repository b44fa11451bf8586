//! The command connection: redis' `ConnectionManager` reconnects by itself, but never
//! replaces a healthy connection, so one opened before OBI started would stay partly
//! blind for the life of the process (obi-telemetry.md). [`Connections`] hands out the
//! current manager and opens a fresh one once it is `max_age` old; the old connection
//! closes when the last command still using it ends.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// A recycling connection manager. Cheap to clone.
#[derive(Clone)]
pub struct Connections(Arc<Inner>);

struct Inner {
    client: redis::Client,
    config: ConnectionManagerConfig,
    max_age: Duration,
    current: Mutex<Current>,
}

struct Current {
    manager: ConnectionManager,
    opened: Instant,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("max_age", &self.0.max_age)
            .finish_non_exhaustive()
    }
}

impl Connections {
    /// Connections to `client`'s server, each used for at most `max_age` (lazy:
    /// nothing connects before the first command).
    pub fn new(
        client: redis::Client,
        config: ConnectionManagerConfig,
        max_age: Duration,
    ) -> redis::RedisResult<Self> {
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config.clone())?;
        Ok(Self(Arc::new(Inner {
            client,
            config,
            max_age,
            current: Mutex::new(Current {
                manager,
                opened: Instant::now(),
            }),
        })))
    }

    /// The connection to send the next command on: the current one, or a fresh one
    /// when the current one is `max_age` old.
    pub fn get(&self) -> ConnectionManager {
        let inner = &self.0;
        let mut current = inner.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.opened.elapsed() >= inner.max_age {
            match ConnectionManager::new_lazy_with_config(
                inner.client.clone(),
                inner.config.clone(),
            ) {
                Ok(manager) => {
                    tracing::debug!(max_age = ?inner.max_age, "recycling the Redis connection");
                    *current = Current {
                        manager,
                        opened: Instant::now(),
                    };
                }
                Err(err) => tracing::warn!(error = %err, "cannot recycle the Redis connection"),
            }
        }
        current.manager.clone()
    }
}
