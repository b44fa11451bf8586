//! A fresh database per test on the shared PostgreSQL of `cargo xtask services up`,
//! dropped when the test ends.

use sqlx::{Connection, Executor, PgConnection};

use crate::http::block_on_own_thread;

/// The shared server (override with `TEST_PG_HOST` and `TEST_PG_PORT`).
pub fn server() -> (String, u16) {
    let host = std::env::var("TEST_PG_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("TEST_PG_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(5432);
    (host, port)
}

/// A URL of `database` on the shared server, as the `postgres` superuser (plaintext).
pub fn admin_url(database: &str) -> String {
    let (host, port) = server();
    format!("postgres://postgres:postgres@{host}:{port}/{database}?sslmode=disable")
}

/// A database of its own for one test; dropped (with its connections) on drop.
#[derive(Debug)]
pub struct FreshDatabase {
    /// `test_<random>`.
    pub name: String,
}

impl FreshDatabase {
    /// Creates an empty database.
    pub async fn create() -> Self {
        let name = format!("test_{:016x}", fastrand::u64(..));
        let mut admin = PgConnection::connect(&admin_url("postgres"))
            .await
            .expect("PostgreSQL is not reachable on 127.0.0.1:5432; run `cargo xtask services up`");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("CREATE DATABASE");
        let _ = admin.close().await;
        Self { name }
    }

    /// Its URL, as the superuser.
    pub fn url(&self) -> String {
        admin_url(&self.name)
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        block_on_own_thread(async move {
            if let Ok(mut admin) = PgConnection::connect(&admin_url("postgres")).await {
                let _ = admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await;
            }
        });
    }
}
