//! The schema: the embedded migrations (applied under PostgreSQL's advisory lock,
//! retried while PostgreSQL is away) and the readiness check that needs them applied.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;

use super::Pool;

/// The schema, embedded at build time from `migrations/`.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Whether the schema is known to be current. Shared by the migration task and the
/// readiness check.
#[derive(Debug, Clone, Default)]
pub struct Schema(Arc<AtomicBool>);

impl Schema {
    /// Whether migrations have been applied (or are not ours to apply).
    pub fn is_current(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn mark_current(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Applies the migrations until it succeeds or `stop` fires, retrying every
/// `retry`. `Migrator::run` holds `pg_advisory_lock` while it works, so replicas
/// starting together apply each migration once and the others wait.
pub async fn migrate(
    pool: Pool,
    schema: Schema,
    apply: bool,
    retry: Duration,
    stop: tokio_util::sync::CancellationToken,
) {
    if !apply {
        schema.mark_current();
        return;
    }
    loop {
        let applied = match pool.acquire().await {
            // `run(&mut *conn)` is what this does; its `Acquire` bound cannot be
            // proven for a spawned future (the "not general enough" error sqlx
            // documents next to `run_direct`).
            Ok(mut conn) => MIGRATOR
                .run_direct(None, &mut *conn, false)
                .await
                .map_err(sqlx::Error::from),
            Err(err) => Err(err),
        };
        match applied {
            Ok(()) => {
                tracing::info!(migrations = MIGRATOR.iter().count(), "schema is current");
                schema.mark_current();
                return;
            }
            Err(err) => tracing::warn!(error = %err, "cannot migrate yet; retrying"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(retry) => {}
        }
    }
}

/// The readiness check: the schema is current and PostgreSQL answers.
pub async fn check(pool: &PgPool, schema: &Schema) -> Result<(), String> {
    if !schema.is_current() {
        return Err("migrations are not applied yet".into());
    }
    sqlx::query("SELECT 1")
        .execute(pool)
        .await
        .map(drop)
        .map_err(|err| err.to_string())
}
