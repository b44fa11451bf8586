//! The request pool: a small recycling pool of sqlx `PgConnection`s.
//!
//! Why not `sqlx::PgPool`: sqlx 0.9 pings every connection it gets back (a `Sync`
//! message and PostgreSQL's `ReadyForQuery` answer, in a task spawned per release),
//! so each request costs two round trips to PostgreSQL instead of one. On the bench's
//! two cores that second wake-up of the backend and of the app was about a quarter
//! of the CPU of a `GET /orders/{id}` (docs/sql-application.md, "Performance").
//! sqlx pings because a request cancelled mid-query leaves answers pending on its
//! connection.
//! This pool settles a returned connection instead: one whose last query finished
//! has nothing pending and goes straight back to the idle list, without I/O; one
//! with answers pending or a transaction open (a dropped future, a dropped
//! `Transaction` and its queued `ROLLBACK`) is read up to `ReadyForQuery` in a task
//! of its own, and closed if that fails.
//!
//! What it keeps from sqlx's pool, because OBI depends on it: at most
//! `max_connections` in use, `acquire_timeout` (then [`sqlx::Error::PoolTimedOut`]),
//! and recycling — a connection older than `max_lifetime` is closed instead of
//! reused, idle ones above `min_connections` are closed after `idle_timeout`, so every
//! prepared statement crosses the wire again within minutes.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a returned connection may take to settle before it is closed instead.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Sizes and lifetimes of a [`Pool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open (in use and idle).
    pub max_connections: u32,
    /// Idle connections kept open past `idle_timeout` (and opened in the background).
    pub min_connections: u32,
    /// Longest wait in [`Pool::acquire`].
    pub acquire_timeout: Duration,
    /// Age after which a connection is closed instead of reused.
    pub max_lifetime: Duration,
    /// Idle time after which a connection above `min_connections` is closed.
    pub idle_timeout: Duration,
}

/// A cheap-to-clone handle to the pool. Lazy: nothing connects until the first
/// [`Pool::acquire`] (or the background task that keeps `min_connections`).
#[derive(Debug, Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    connect: PgConnectOptions,
    options: PoolOptions,
    /// One permit per connection that may be open; an idle connection holds none,
    /// so `in use + idle <= max_connections`.
    permits: Arc<Semaphore>,
    /// Most recently returned last (reused first: the others age out).
    idle: Mutex<Vec<Idle>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

struct Idle {
    conn: PgConnection,
    opened: Instant,
    since: Instant,
}

impl Pool {
    /// A pool that connects with `connect`; starts the task that recycles idle
    /// connections when called inside a tokio runtime.
    pub fn new(connect: PgConnectOptions, options: PoolOptions) -> Self {
        let max = usize::try_from(options.max_connections.max(1)).unwrap_or(usize::MAX);
        let inner = Arc::new(Inner {
            connect,
            options,
            permits: Arc::new(Semaphore::new(max)),
            idle: Mutex::new(Vec::new()),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(maintain(Arc::downgrade(&inner)));
        }
        Self { inner }
    }

    /// A connection: an idle one that is young enough, or a new one. Waits at most
    /// `acquire_timeout` for a free slot and the connection together, then fails
    /// with [`sqlx::Error::PoolTimedOut`]; [`sqlx::Error::PoolClosed`] once closed.
    pub async fn acquire(&self) -> Result<PooledConnection, sqlx::Error> {
        // The common case without a timer: a free slot and an idle connection.
        if let Ok(permit) = Arc::clone(&self.inner.permits).try_acquire_owned()
            && let Some(idle) = self.inner.take_idle()
        {
            return Ok(self.inner.lend(idle.conn, idle.opened, permit));
        }
        tokio::time::timeout(self.inner.options.acquire_timeout, self.acquire_slowly())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
    }

    async fn acquire_slowly(&self) -> Result<PooledConnection, sqlx::Error> {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        if let Some(idle) = self.inner.take_idle() {
            return Ok(self.inner.lend(idle.conn, idle.opened, permit));
        }
        let conn = self.inner.connect.connect().await?;
        Ok(self.inner.lend(conn, Instant::now(), permit))
    }

    /// Connections open now: in use and idle.
    pub fn size(&self) -> usize {
        self.inner.in_use() + self.inner.idle_count()
    }

    /// Idle connections now.
    pub fn num_idle(&self) -> usize {
        self.inner.idle_count()
    }

    /// Whether [`Pool::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.permits.is_closed()
    }

    /// Refuses further acquires and closes the idle connections gracefully;
    /// connections in use are closed when they come back.
    pub async fn close(&self) {
        self.inner.permits.close();
        let idle: Vec<Idle> = std::mem::take(&mut *self.inner.lock_idle());
        for idle in idle {
            let _ = idle.conn.close().await;
        }
    }
}

impl Inner {
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // A panic while holding this lock leaves a valid Vec behind.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn idle_count(&self) -> usize {
        self.lock_idle().len()
    }

    fn in_use(&self) -> usize {
        let max = usize::try_from(self.options.max_connections.max(1)).unwrap_or(usize::MAX);
        if self.permits.is_closed() {
            return 0;
        }
        max.saturating_sub(self.permits.available_permits())
    }

    /// The most recently returned idle connection that may still be used; the ones
    /// past `max_lifetime` or `idle_timeout` on the way are closed in the background.
    fn take_idle(&self) -> Option<Idle> {
        loop {
            let idle = self.lock_idle().pop()?;
            if idle.opened.elapsed() < self.options.max_lifetime
                && idle.since.elapsed() < self.options.idle_timeout
            {
                return Some(idle);
            }
            in_background(async move {
                let _ = idle.conn.close().await;
            });
        }
    }

    fn lend(
        self: &Arc<Self>,
        conn: PgConnection,
        opened: Instant,
        permit: OwnedSemaphorePermit,
    ) -> PooledConnection {
        PooledConnection {
            conn: Some(conn),
            opened,
            permit: Some(permit),
            pool: Arc::clone(self),
        }
    }

    fn give_back(&self, conn: PgConnection, opened: Instant) {
        self.lock_idle().push(Idle {
            conn,
            opened,
            since: Instant::now(),
        });
    }

    /// Whether a connection opened at `opened` may go back to the idle list.
    fn keeps(&self, opened: Instant) -> bool {
        !self.permits.is_closed() && opened.elapsed() < self.options.max_lifetime
    }
}

/// A connection lent by the [`Pool`]; dereferences to `PgConnection` (pass
/// `&mut *conn` as the executor) and goes back to the pool when dropped.
pub struct PooledConnection {
    conn: Option<PgConnection>,
    opened: Instant,
    permit: Option<OwnedSemaphorePermit>,
    pool: Arc<Inner>,
}

impl std::fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledConnection")
            .field("opened", &self.opened)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for PooledConnection {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        self.conn
            .as_ref()
            .expect("a lent connection is present until dropped")
    }
}

impl std::ops::DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .expect("a lent connection is present until dropped")
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        let (Some(mut conn), Some(permit)) = (self.conn.take(), self.permit.take()) else {
            return;
        };
        let pool = Arc::clone(&self.pool);
        let opened = self.opened;
        if !pool.keeps(opened) {
            // Recycled (or the pool is closing): a graceful close, then the slot is free.
            in_background(async move {
                let _ = conn.close().await;
                drop(permit);
            });
            return;
        }
        // `flush` sends what is buffered and reads up to every pending
        // `ReadyForQuery`: after a finished query there is neither, and it completes
        // on its first poll without touching the socket.
        match conn.flush().now_or_never() {
            Some(Ok(())) if !conn.is_in_transaction() => {
                pool.give_back(conn, opened);
                drop(permit);
            }
            Some(_) => {
                in_background(async move {
                    let _ = conn.close_hard().await;
                    drop(permit);
                });
            }
            None => {
                in_background(async move {
                    match tokio::time::timeout(SETTLE_TIMEOUT, conn.flush()).await {
                        Ok(Ok(())) if !conn.is_in_transaction() && pool.keeps(opened) => {
                            pool.give_back(conn, opened);
                        }
                        _ => {
                            let _ = conn.close_hard().await;
                        }
                    }
                    drop(permit);
                });
            }
        }
    }
}

/// Runs `work` as a task of the current runtime; outside one (a connection dropped
/// while the runtime shuts down) the work is dropped, and with it the socket.
fn in_background(work: impl Future<Output = ()> + Send + 'static) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        drop(runtime.spawn(work));
    }
}

/// Every `period`: closes idle connections past `max_lifetime`, and past
/// `idle_timeout` above `min_connections`; opens connections up to
/// `min_connections`. Ends with the pool.
async fn maintain(pool: Weak<Inner>) {
    let period = match pool.upgrade() {
        Some(inner) => maintenance_period(&inner.options),
        None => return,
    };
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(inner) = pool.upgrade() else { return };
        if inner.permits.is_closed() {
            return;
        }
        let expired = reap(&inner);
        for idle in expired {
            let _ = idle.conn.close().await;
        }
        top_up(&inner).await;
    }
}

/// How often [`maintain`] runs: often enough to honour the shorter of the two
/// lifetimes within about half of it, at most every 30 s.
fn maintenance_period(options: &PoolOptions) -> Duration {
    (options.max_lifetime.min(options.idle_timeout) / 2)
        .clamp(Duration::from_millis(100), Duration::from_secs(30))
}

/// Takes the idle connections that must close out of the idle list.
fn reap(inner: &Inner) -> Vec<Idle> {
    let min = usize::try_from(inner.options.min_connections).unwrap_or(usize::MAX);
    let in_use = inner.in_use();
    let mut idle = inner.lock_idle();
    let (mut expired, kept): (Vec<Idle>, Vec<Idle>) = std::mem::take(&mut *idle)
        .into_iter()
        .partition(|i| i.opened.elapsed() >= inner.options.max_lifetime);
    // Oldest idle first (the list is in the order connections came back): those
    // are the ones to close while more than the minimum are open.
    let mut open = in_use + kept.len();
    let mut remaining = Vec::with_capacity(kept.len());
    for i in kept {
        if i.since.elapsed() >= inner.options.idle_timeout && open > min {
            expired.push(i);
            open -= 1;
        } else {
            remaining.push(i);
        }
    }
    *idle = remaining;
    expired
}

/// Opens connections in the background until `min_connections` are open; a failure
/// (PostgreSQL down) waits for the next round.
async fn top_up(inner: &Arc<Inner>) {
    let min = usize::try_from(inner.options.min_connections).unwrap_or(usize::MAX);
    while inner.in_use() + inner.idle_count() < min {
        let Ok(permit) = Arc::clone(&inner.permits).try_acquire_owned() else {
            return;
        };
        match inner.connect.connect().await {
            Ok(conn) => inner.give_back(conn, Instant::now()),
            Err(err) => {
                tracing::debug!(error = %err, "cannot open a pooled connection yet");
                return;
            }
        }
        drop(permit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_runs_within_half_the_shorter_lifetime() {
        let options = PoolOptions {
            max_connections: 4,
            min_connections: 1,
            acquire_timeout: Duration::from_secs(1),
            max_lifetime: Duration::from_secs(300),
            idle_timeout: Duration::from_secs(20),
        };
        assert_eq!(maintenance_period(&options), Duration::from_secs(10));
        let long = PoolOptions {
            idle_timeout: Duration::from_secs(3600),
            ..options
        };
        assert_eq!(maintenance_period(&long), Duration::from_secs(30));
        let tiny = PoolOptions {
            max_lifetime: Duration::from_millis(10),
            ..options
        };
        assert_eq!(maintenance_period(&tiny), Duration::from_millis(100));
    }
}
