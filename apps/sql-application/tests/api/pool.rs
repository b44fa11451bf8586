//! The request pool (`store::pool`) against the real PostgreSQL: connections come back
//! without a round trip, cancelled queries and dropped transactions are settled
//! before reuse, broken connections are discarded, and connections recycle after
//! `max_lifetime` and `idle_timeout`. Nothing is created: the statements only ask
//! PostgreSQL about the session.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sql_application::store::{Pool, PoolOptions};
use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;

use crate::helpers::admin_url;

fn options() -> PoolOptions {
    PoolOptions {
        max_connections: 2,
        min_connections: 0,
        acquire_timeout: Duration::from_secs(2),
        max_lifetime: Duration::from_secs(300),
        idle_timeout: Duration::from_secs(60),
    }
}

fn pool(options: PoolOptions) -> Pool {
    let connect = PgConnectOptions::from_str(&admin_url("postgres"))
        .unwrap()
        .application_name("sql-application-pool-test");
    Pool::new(connect, options)
}

async fn backend(pool: &Pool) -> i32 {
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

/// Waits until `condition` holds (background tasks settle and close connections).
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < Duration::from_secs(5), "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_finished_query_gives_its_connection_straight_back() {
    let pool = pool(options());
    let first = backend(&pool).await;
    // Back in the idle list when the drop returns: nothing was left to read.
    assert_eq!((pool.size(), pool.num_idle()), (1, 1));
    assert_eq!(backend(&pool).await, first);
    pool.close().await;
}

#[tokio::test]
async fn a_cancelled_query_is_read_to_its_end_before_the_connection_is_reused() {
    let pool = pool(PoolOptions {
        max_connections: 1,
        ..options()
    });
    let first = backend(&pool).await;
    {
        let mut conn = pool.acquire().await.unwrap();
        let sleep = sqlx::query("SELECT pg_sleep(0.3)").execute(&mut *conn);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), sleep)
                .await
                .is_err()
        );
    }
    // The only slot is free again once the answer was read; the same session answers.
    let mut conn = pool.acquire().await.unwrap();
    let (pid, one): (i32, i32) = sqlx::query_as("SELECT pg_backend_pid(), 1")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!((pid, one), (first, 1));
    drop(conn);
    pool.close().await;
}

#[tokio::test]
async fn a_dropped_transaction_is_rolled_back_before_the_connection_is_reused() {
    let pool = pool(PoolOptions {
        max_connections: 1,
        ..options()
    });
    {
        let mut conn = pool.acquire().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        let _: i64 = sqlx::query_scalar("SELECT txid_current()")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    }
    let mut conn = pool.acquire().await.unwrap();
    assert!(!conn.is_in_transaction());
    let xid: Option<String> = sqlx::query_scalar("SELECT pg_current_xact_id_if_assigned()::text")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(xid, None, "the dropped transaction is still open");
    drop(conn);
    pool.close().await;
}

#[tokio::test]
async fn a_broken_connection_fails_once_and_is_discarded() {
    let pool = pool(PoolOptions {
        max_connections: 1,
        ..options()
    });
    let first = backend(&pool).await;
    let mut admin = sqlx::PgConnection::connect(&admin_url("postgres"))
        .await
        .unwrap();
    let _: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(first)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    {
        let mut broken = pool.acquire().await.unwrap();
        assert!(sqlx::query("SELECT 1").execute(&mut *broken).await.is_err());
    }
    eventually("the broken connection is closed", || pool.size() == 0).await;
    assert_ne!(backend(&pool).await, first);
    pool.close().await;
}

#[tokio::test]
async fn a_connection_past_max_lifetime_is_replaced() {
    let pool = pool(PoolOptions {
        max_lifetime: Duration::from_millis(200),
        ..options()
    });
    let first = backend(&pool).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_ne!(backend(&pool).await, first);
    // One held past its lifetime is closed when it comes back, not kept.
    let held = pool.acquire().await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    drop(held);
    eventually("the old connection is closed", || pool.num_idle() == 0).await;
    pool.close().await;
}

#[tokio::test]
async fn idle_connections_above_the_minimum_are_closed_and_the_minimum_is_kept() {
    let pool = pool(PoolOptions {
        max_connections: 3,
        min_connections: 1,
        idle_timeout: Duration::from_millis(200),
        ..options()
    });
    // The background task opens the minimum by itself.
    eventually("min_connections is opened", || pool.size() == 1).await;
    let held: Vec<_> = futures_util::future::join_all((0..3).map(|_| pool.acquire()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(pool.size(), 3);
    drop(held);
    assert_eq!(pool.num_idle(), 3);
    eventually("idle connections above the minimum close", || {
        pool.size() == 1
    })
    .await;
    pool.close().await;
}

#[tokio::test]
async fn acquire_times_out_while_every_connection_is_in_use_and_fails_once_closed() {
    let pool = pool(PoolOptions {
        max_connections: 1,
        min_connections: 1,
        acquire_timeout: Duration::from_millis(150),
        ..options()
    });
    // Opening the connection counts against the acquire timeout and can take longer
    // than 150 ms on a busy machine: let the background task open it first.
    eventually("min_connections is opened", || pool.num_idle() == 1).await;
    let held = pool.acquire().await.unwrap();
    let started = Instant::now();
    let err = pool.acquire().await.unwrap_err();
    assert!(matches!(err, sqlx::Error::PoolTimedOut), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(held);
    pool.close().await;
    assert!(pool.is_closed());
    let err = pool.acquire().await.unwrap_err();
    assert!(matches!(err, sqlx::Error::PoolClosed), "{err}");
    assert_eq!(pool.size(), 0);
}
