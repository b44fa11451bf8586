//! The benchmark plan of sql-application: `GET /api/v1/orders/{id}` (one JOIN per
//! request through the recycling sqlx pool) next to its *additive ceiling*: the
//! rate the app would reach if it added nothing to the two costs it cannot avoid,
//! an HTTP exchange and its JOIN, paid one after the other on the same cores:
//! `1 / (1/hello + 1/join)`, where `hello` is hello-hyper (crates/bench-baselines)
//! under wrk and `join` the app's own statement (prepared, over the same seeded
//! orders) under pgbench at the same clients, both measured in the same round just
//! before the ceiling is computed. (An earlier target compared the app with
//! `pgbench -S`, which ignores the HTTP hop; that row stays for continuity.)
//!
//! The request is driven by two clients. The target refers to wrk: a C client as
//! light per request as pgbench, so every side of the ratio pays the same small
//! client cost. k6 stays in the report for continuity with the other apps, but on two
//! shared cores its JavaScript per request takes most of the CPU the app and
//! PostgreSQL need, so its row measures k6 more than the app.

use std::cell::{Cell, OnceCell};
use std::path::Path;
use std::rc::Rc;

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::baseline_server::BaselineServer;
use super::ceiling::{AdditiveCeiling, Recorded};
use super::wrk::WrkWorkload;
use super::{K6Workload, Measure, Plan, Sample, Settings, median};
use crate::apps::App;
use crate::http::post_json;
use crate::{cmd, paths};

/// Where hello-hyper listens for the ceiling's HTTP term.
const HELLO_PORT: u16 = 18092;

/// The plan `bench sql-application` runs.
pub fn plan(app: &'static App) -> Plan {
    let seed = Rc::new(Seed {
        base_url: app.base_url(),
        ids: OnceCell::new(),
    });
    let hello = Rc::new(Cell::new(None));
    let join = Rc::new(Cell::new(None));
    Plan {
        app,
        workloads: vec![
            Box::new(K6Workload::app_mix(
                app,
                "GET /api/v1/orders/{id} (k6)",
                "get-order",
            )),
            Box::new(SeededOrders {
                seed: Rc::clone(&seed),
                wrk: OnceCell::new(),
            }),
            Box::new(Recorded {
                inner: Box::new(BaselineServer::measured_by(
                    "hello-hyper",
                    HELLO_PORT,
                    Box::new(WrkWorkload::get_each(
                        "hello-hyper (hyper 1, GET /, wrk)",
                        format!("http://127.0.0.1:{HELLO_PORT}"),
                        ["/hello"],
                    )),
                )),
                last: Rc::clone(&hello),
            }),
            Box::new(Recorded {
                inner: Box::new(PgbenchJoin { seed }),
                last: Rc::clone(&join),
            }),
            Box::new(PgbenchSelect {
                initialised: Cell::new(false),
            }),
        ],
        baseline: Box::new(AdditiveCeiling { hello, join }),
        target: "GET /orders/{id} under wrk >= 70 % of the additive ceiling \
                 1 / (1/hello + 1/join) of the same round; RSS <= 64 MiB",
    }
}

/// Orders the wrk row reads, created once per session.
const ORDERS: usize = 200;
const PRODUCTS: usize = 20;
const CUSTOMERS: usize = 10;

/// Orders placed through the app's own API (products, customers, then orders, as the
/// k6 `get-order` mix's setup does) on first use, shared by the wrk and pgbench rows.
struct Seed {
    base_url: String,
    ids: OnceCell<Vec<i64>>,
}

impl Seed {
    fn ids(&self) -> Result<&[i64]> {
        if let Some(ids) = self.ids.get() {
            return Ok(ids);
        }
        let ids =
            seed_orders(&self.base_url).context("cannot create the orders the bench reads")?;
        Ok(self.ids.get_or_init(|| ids))
    }
}

/// `GET /api/v1/orders/{id}` under wrk, over the seeded orders.
struct SeededOrders {
    seed: Rc<Seed>,
    wrk: OnceCell<WrkWorkload>,
}

impl SeededOrders {
    const NAME: &str = "GET /api/v1/orders/{id} (wrk)";

    fn workload(&self) -> Result<&WrkWorkload> {
        if let Some(wrk) = self.wrk.get() {
            return Ok(wrk);
        }
        let ids = self.seed.ids()?;
        Ok(self.wrk.get_or_init(|| {
            WrkWorkload::get_each(
                Self::NAME,
                self.seed.base_url.clone(),
                ids.iter().map(|id| format!("/api/v1/orders/{id}")),
            )
        }))
    }
}

impl Measure for SeededOrders {
    fn name(&self) -> String {
        Self::NAME.into()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        self.workload()?.measure(settings)
    }
}

/// Creates products, customers and [`ORDERS`] orders of 1–3 lines; returns the order ids.
pub(super) fn seed_orders(base_url: &str) -> Result<Vec<i64>> {
    let run = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    let id = |answer: serde_json::Value| {
        answer
            .get("id")
            .and_then(serde_json::Value::as_i64)
            .with_context(|| format!("no id in {answer}"))
    };
    let mut products = Vec::new();
    for i in 0..PRODUCTS {
        let body = json!({"sku": format!("WRK-{run}-{i}"), "name": format!("Bench product {i}"),
                          "price_cents": 100 + i * 37, "stock": 1_000_000});
        products.push(id(post_json(
            base_url,
            "/api/v1/products",
            &[],
            &body,
            201,
        )?)?);
    }
    let mut customers = Vec::new();
    for i in 0..CUSTOMERS {
        let body = json!({"email": format!("wrk-{run}-{i}@example.com"),
                          "name": format!("Bench customer {i}")});
        customers.push(id(post_json(
            base_url,
            "/api/v1/customers",
            &[],
            &body,
            201,
        )?)?);
    }
    let mut orders = Vec::new();
    for i in 0..ORDERS {
        let items: Vec<_> = (0..1 + i % 3)
            .map(|line| json!({"product_id": products[(i + line * 7) % PRODUCTS], "quantity": 1 + line}))
            .collect();
        let body = json!({"customer_id": customers[i % CUSTOMERS], "items": items});
        let key = format!("wrk-{run}-{i}");
        orders.push(id(post_json(
            base_url,
            "/api/v1/orders",
            &[("Idempotency-Key", &key)],
            &body,
            201,
        )?)?);
    }
    eprintln!("bench: placed {} orders for wrk", orders.len());
    Ok(orders)
}

/// The database pgbench gets to itself on the shared server.
const DATABASE: &str = "pgbench";
/// The app's database (`database.name` of its defaults, which the bench runs with).
const APP_DATABASE: &str = "postgres";

/// The statement of `GET /api/v1/orders/{id}` (`store::orders::get`), word for word.
const GET_ORDER_SQL: &str = "SELECT o.id, o.customer_id, o.status, o.total_cents, o.created_at, \
        i.product_id, i.quantity, i.unit_price_cents \
    FROM orders o LEFT JOIN order_items i ON i.order_id = o.id \
    WHERE o.id = $1 ORDER BY i.product_id";

/// `psql` or `pgbench` against 127.0.0.1:5432, plaintext like the app.
fn pg_command(program: &str) -> Result<std::process::Command> {
    let mut command = cmd::new(bin_dir()?.join(program));
    command
        .args(["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"])
        .env("PGPASSWORD", "postgres")
        .env("PGSSLMODE", "disable");
    Ok(command)
}

/// Runs `pgbench -n -M prepared <args> -c vus -j min(vus,2) -T duration -l <database>`
/// in a fresh `target/bench/<log_dir>`; throughput from its summary, latencies from
/// its per-transaction log.
fn pgbench_sample(
    args: &[&str],
    database: &str,
    log_dir: &str,
    settings: &Settings,
) -> Result<Sample> {
    let dir = paths::target().join("bench").join(log_dir);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let clients = settings.vus.to_string();
    let threads = settings.vus.min(2).to_string();
    let seconds = settings.duration.as_secs().max(1).to_string();
    let output = cmd::output(
        pg_command("pgbench")?
            .current_dir(&dir)
            .args(["-n", "-M", "prepared"])
            .args(args)
            .args([
                "-c", &clients, "-j", &threads, "-T", &seconds, "-l", database,
            ]),
    )?;
    let rate =
        parse_tps(&output).with_context(|| format!("no tps in pgbench output:\n{output}"))?;
    let mut latencies = read_latencies_ms(&dir)?;
    if latencies.is_empty() {
        bail!("pgbench wrote no transaction log under {}", dir.display());
    }
    latencies.sort_by(f64::total_cmp);
    Ok(Sample {
        rate,
        p50_ms: median(latencies.iter().copied()),
        p99_ms: percentile(&latencies, 0.99),
        server_cpu_us: None,
    })
}

/// `pgbench -S -M prepared` on its own initialised database.
struct PgbenchSelect {
    initialised: Cell<bool>,
}

impl PgbenchSelect {
    /// Creates and fills the `pgbench` database (scale 1) once per session.
    fn initialise(&self) -> Result<()> {
        if self.initialised.get() {
            return Ok(());
        }
        let exists = cmd::output(pg_command("psql")?.args([
            "-d",
            "postgres",
            "-tAc",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"),
        ]))?;
        if exists.trim() != "1" {
            cmd::run(pg_command("psql")?.args([
                "-d",
                "postgres",
                "-c",
                &format!("CREATE DATABASE {DATABASE}"),
            ]))?;
        }
        cmd::run(pg_command("pgbench")?.args(["-i", "-q", "-s", "1", DATABASE]))?;
        self.initialised.set(true);
        Ok(())
    }
}

impl Measure for PgbenchSelect {
    fn name(&self) -> String {
        "pgbench -S (select-only, prepared)".into()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        self.initialise()?;
        pgbench_sample(&["-S"], DATABASE, "pgbench", settings)
    }
}

/// The app's own statement ([`GET_ORDER_SQL`]) under pgbench, prepared, over the
/// seeded orders, in the app's database.
struct PgbenchJoin {
    seed: Rc<Seed>,
}

impl Measure for PgbenchJoin {
    fn name(&self) -> String {
        "pgbench -f (the app's JOIN of GET /orders/{id}, prepared)".into()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        let ids = self.seed.ids()?;
        let script = paths::target().join("bench").join("get-order.sql");
        std::fs::create_dir_all(script.parent().context("no parent")?)?;
        std::fs::write(&script, join_script(ids)?)?;
        let script = script.to_string_lossy().into_owned();
        pgbench_sample(&["-f", &script], APP_DATABASE, "pgbench-join", settings)
    }
}

/// A pgbench script that reads a random order of the seeded range with the app's
/// statement (`$1` becomes pgbench's `:id`).
fn join_script(ids: &[i64]) -> Result<String> {
    let (Some(first), Some(last)) = (ids.iter().min(), ids.iter().max()) else {
        bail!("no order was seeded");
    };
    if usize::try_from(last - first + 1).ok() != Some(ids.len()) {
        // Another client placed orders meanwhile: some ids of the range are not ours.
        eprintln!("bench: the seeded order ids {first}..={last} are not contiguous");
    }
    Ok(format!(
        "\\set id random({first}, {last})\n{};\n",
        GET_ORDER_SQL.replace("$1", ":id")
    ))
}

/// `tps = 12345.678901 (without initial connection time)`.
fn parse_tps(output: &str) -> Option<f64> {
    output
        .lines()
        .find(|line| line.starts_with("tps = "))
        .and_then(|line| line["tps = ".len()..].split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
}

/// Per-transaction latencies from pgbench's `-l` logs (third column, microseconds).
fn read_latencies_ms(dir: &Path) -> Result<Vec<f64>> {
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let text = std::fs::read_to_string(entry?.path())?;
        latencies.extend(
            text.lines()
                .filter_map(|line| line.split_whitespace().nth(2))
                .filter_map(|us| us.parse::<f64>().ok())
                .map(|us| us / 1000.0),
        );
    }
    Ok(latencies)
}

/// The `q` quantile of sorted values (nearest rank).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Debian's newest PostgreSQL client binaries.
fn bin_dir() -> Result<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .context("no /usr/lib/postgresql: run `cargo xtask tools`")?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            entry
                .file_name()
                .to_str()?
                .parse::<u32>()
                .ok()
                .map(|major| (major, entry.path()))
        })
        .collect();
    dirs.sort();
    dirs.pop()
        .map(|(_, dir)| dir.join("bin"))
        .context("no PostgreSQL in /usr/lib/postgresql")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbench_output_and_logs_are_read() {
        let output =
            "latency average = 0.503 ms\ntps = 31763.406529 (without initial connection time)\n";
        assert_eq!(parse_tps(output), Some(31763.406529));
        let dir = std::env::temp_dir().join(format!("pgbench-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("pgbench_log.1"),
            "0 0 1000 0 1700000000 1\n0 1 3000 0 1700000000 2\n",
        )
        .unwrap();
        let mut latencies = read_latencies_ms(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        latencies.sort_by(f64::total_cmp);
        assert_eq!(latencies, [1.0, 3.0]);
        assert_eq!(percentile(&latencies, 0.99), 3.0);
        assert_eq!(percentile(&latencies, 0.5), 1.0);
    }

    #[test]
    fn the_join_script_reads_the_seeded_range_with_the_apps_statement() {
        let script = join_script(&[12, 10, 11]).unwrap();
        let mut lines = script.lines();
        assert_eq!(lines.next(), Some("\\set id random(10, 12)"));
        let statement = lines.next().unwrap();
        assert!(
            statement.ends_with("WHERE o.id = :id ORDER BY i.product_id;"),
            "{statement}"
        );
        assert!(!statement.contains('$'), "{statement}");
        assert!(join_script(&[]).is_err());
    }
}
