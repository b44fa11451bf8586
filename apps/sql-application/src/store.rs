//! Everything that talks to PostgreSQL — the only module that uses sqlx: the recycling
//! request pool, the schema (migrations and the readiness check), one module per table
//! family, and the database's errors sorted into [`StoreError`]. Queries are checked
//! at run time (`sqlx::query_as`) and every one is exercised by the API tests against
//! a real server; see docs/sql-application.md for why.

pub mod customers;
pub mod error;
pub mod orders;
pub mod pool;
pub mod products;
pub mod reports;
mod rows;
pub mod schema;

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use tokio_util::sync::CancellationToken;

pub use error::StoreError;
pub use pool::{Pool, PoolOptions};
use schema::Schema;

use crate::settings::DatabaseSettings;

/// The store: the request pool, the readiness probe's own connection, and whether the
/// schema is current. Cheap to clone. Lazy: the app starts (and reports not ready)
/// while PostgreSQL is down.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    probe: PgPool,
    schema: Schema,
}

impl Store {
    /// The pools `settings` describe; nothing connects yet.
    pub fn new(settings: &DatabaseSettings) -> Self {
        Self {
            pool: pool(settings),
            probe: probe_pool(settings),
            schema: Schema::default(),
        }
    }

    /// The request pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Applies the migrations (when `apply`) until it succeeds or `stop` fires,
    /// retrying every `retry`; see [`schema::migrate`].
    pub async fn migrate(self, apply: bool, retry: Duration, stop: CancellationToken) {
        schema::migrate(self.pool, self.schema, apply, retry, stop).await;
    }

    /// Readiness: the schema is current and PostgreSQL answers, on the probe's own
    /// connection (an exhausted request pool must not take the pod out of its Service).
    pub async fn check(&self) -> Result<(), String> {
        schema::check(&self.probe, &self.schema).await
    }

    /// Closes both pools (at shutdown, after the requests drained).
    pub async fn close(&self) {
        self.pool.close().await;
        self.probe.close().await;
    }
}

/// Connection options: plaintext (`sslmode=disable`, so OBI reads the wire), the
/// app's name, and the statement timeout.
pub fn connect_options(settings: &DatabaseSettings) -> PgConnectOptions {
    PgConnectOptions::new()
        .host(&settings.host)
        .port(settings.port)
        .username(&settings.user)
        .password(settings.password.expose_secret())
        .database(&settings.name)
        .ssl_mode(PgSslMode::Disable)
        .application_name(env!("CARGO_PKG_NAME"))
        .options([(
            "statement_timeout",
            format!("{}ms", settings.statement_timeout.as_millis()),
        )])
}

/// The request pool ([`pool::Pool`]). Connections live at most `max_lifetime`, so an
/// OBI started after the app sees every statement prepared again within minutes. No
/// ping before or after each use (either would double the round trips of every
/// request): a connection that broke fails its request with 503 once and is then
/// discarded by the pool.
pub fn pool(settings: &DatabaseSettings) -> Pool {
    Pool::new(
        connect_options(settings),
        PoolOptions {
            max_connections: settings.max_connections,
            min_connections: settings.min_connections,
            acquire_timeout: settings.acquire_timeout,
            max_lifetime: settings.max_lifetime,
            idle_timeout: settings.idle_timeout,
        },
    )
}

/// A one-connection pool for the readiness probe, recycled like the request pool.
fn probe_pool(settings: &DatabaseSettings) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(settings.acquire_timeout)
        .max_lifetime(settings.max_lifetime)
        .idle_timeout(settings.idle_timeout)
        .test_before_acquire(false)
        .connect_lazy_with(connect_options(settings))
}

/// Runs `delete` (a `DELETE ... WHERE id = $1`); `None` when no row had that id.
async fn delete_one(pool: &Pool, delete: &'static str, id: i64) -> Result<Option<()>, StoreError> {
    let deleted = sqlx::query(delete)
        .bind(id)
        .execute(&mut *pool.acquire().await?)
        .await?
        .rows_affected();
    Ok((deleted > 0).then_some(()))
}

/// Plays `pool_exhaustion`: holds one pooled connection in `pg_sleep` for `hold`.
pub async fn hold_connection(pool: &Pool, hold: Duration) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_sleep($1)")
        .bind(hold.as_secs_f64())
        .execute(&mut *pool.acquire().await?)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{DEFAULTS, Settings};

    #[test]
    fn connections_are_plaintext_and_named_after_the_app() {
        let settings: Settings = service_kit::config::load_from(DEFAULTS, None, []).unwrap();
        let options = connect_options(&settings.database);
        assert!(matches!(options.get_ssl_mode(), PgSslMode::Disable));
        assert_eq!(options.get_application_name(), Some("sql-application"));
    }
}
