//! The benchmark plan of checkout: whole journeys (`POST /api/v1/checkout`, each a new
//! Idempotency-Key over a pool of one-line carts) with all six apps on the machine,
//! next to the journey's heaviest hop measured alone in the same run — sql-application's
//! `POST /api/v1/orders` (a PostgreSQL transaction), each a new order — so that the
//! report says how much of a hop's own rate a whole journey keeps. The other hops'
//! own figures are their apps' benches (`docs/performance.md`).
//!
//! Both rows run under wrk (C, epoll): on two shared cores k6 would measure itself.
//! Every journey reserves one unit of one of [`SKUS`] SKUs grpc-microservice seeds
//! with 1000 units each, so a default session (about a minute of load) never runs
//! out of stock; reservations expire by themselves.

use std::cell::{Cell, OnceCell};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::wrk::WrkWorkload;
use super::{Measure, Plan, Sample, Settings};
use crate::apps::App;
use crate::http::{post_json, send_json, shopper_with_a_cart};
use crate::paths;

/// Settings checkout runs with under `bench`: short-lived idempotency records under a
/// prefix of their own (a minute of journeys writes tens of thousands).
pub const APP_SETTINGS: &[(&str, &str)] = &[
    ("APP__IDEMPOTENCY__TTL", "5m"),
    ("APP__REDIS__KEY_PREFIX", "bench-checkout:"),
];

/// SKUs the carts buy (`SKU-00001` ..), seeded in inventory by grpc-microservice.
const SKUS: usize = 50;
/// Sessions (carts) the journeys cycle through.
const CARTS: usize = 64;
/// Customers the orders go to.
const CUSTOMERS: usize = 8;

/// The plan `bench checkout` runs; its hops must be running (see `bench::run`).
pub fn plan(app: &'static App) -> Plan {
    Plan {
        app,
        workloads: vec![Box::new(Keyed {
            name: "journey POST /api/v1/checkout (wrk)",
            base_url: app.base_url(),
            path: "/api/v1/checkout",
            seeded: OnceCell::new(),
            runs: Cell::new(0),
            orders: false,
        })],
        baseline: Box::new(Keyed {
            name: "hop alone: sql-application POST /api/v1/orders (wrk)",
            base_url: App::named("sql-application")
                .map(App::base_url)
                .unwrap_or_default(),
            path: "/api/v1/orders",
            seeded: OnceCell::new(),
            runs: Cell::new(0),
            orders: true,
        }),
        target: "journeys/s and p99 at 16 clients with all six apps on the machine; checkout's RSS <= 32 MiB",
    }
}

/// POSTs with a fresh Idempotency-Key each, over seeded requests.
struct Keyed {
    name: &'static str,
    base_url: String,
    path: &'static str,
    /// `token<TAB>body` lines, seeded on first use.
    seeded: OnceCell<String>,
    runs: Cell<u32>,
    /// Order bodies for sql-application instead of checkouts.
    orders: bool,
}

impl Measure for Keyed {
    fn name(&self) -> String {
        self.name.into()
    }

    fn measure(&self, settings: &Settings) -> Result<Sample> {
        let requests = match self.seeded.get() {
            Some(requests) => requests,
            None => {
                let seed = seed().context("cannot seed the carts the journeys check out")?;
                let lines = if self.orders {
                    seed.orders
                } else {
                    seed.checkouts
                };
                self.seeded.get_or_init(|| lines)
            }
        };
        self.runs.set(self.runs.get() + 1);
        let run = format!("{}-{}-{}", unique()?, self.path.len(), self.runs.get());
        WrkWorkload {
            name: self.name.into(),
            script: paths::root()
                .join("xtask")
                .join("bench")
                .join("keyed-post.lua"),
            target_url: self.base_url.clone(),
            env: vec![
                ("WRK_PATH".into(), self.path.into()),
                ("WRK_RUN".into(), run),
                ("WRK_REQUESTS".into(), requests.clone()),
            ],
        }
        .measure(settings)
    }
}

/// The requests of both rows, from one seeding of the shop.
struct Seed {
    checkouts: String,
    orders: String,
}

/// Process id and milliseconds: unique per bench session.
fn unique() -> Result<String> {
    Ok(format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    ))
}

fn sku(n: usize) -> String {
    format!("SKU-{n:05}")
}

/// The SKUs in sql-application (found, or created with ample stock) and the catalog,
/// customers, and [`CARTS`] sessions with one line each in redis-cache.
fn seed() -> Result<Seed> {
    let orders = App::named("sql-application")?.base_url();
    let catalog = App::named("http-rest-api")?.base_url();
    let cart = App::named("redis-cache")?.base_url();
    let run = unique()?;
    let id = |answer: &Value| {
        answer
            .get("id")
            .and_then(Value::as_i64)
            .with_context(|| format!("no id in {answer}"))
    };

    let mut products = std::collections::BTreeMap::new();
    let mut after: Option<i64> = None;
    loop {
        let path = match after {
            Some(cursor) => format!("/api/v1/products?limit=100&after={cursor}"),
            None => "/api/v1/products?limit=100".to_owned(),
        };
        let page = send_json("GET", &orders, &path, &[], None, 200)?;
        for product in page["items"].as_array().into_iter().flatten() {
            if let (Some(sku), Some(pid)) = (product["sku"].as_str(), product["id"].as_i64()) {
                products.insert(sku.to_owned(), pid);
            }
        }
        match page["next_cursor"].as_i64().or_else(|| {
            page["next_cursor"]
                .as_str()
                .and_then(|c| c.parse::<i64>().ok())
        }) {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    let editor = post_json(
        &catalog,
        "/api/v1/auth/token",
        &[],
        &json!({"username": "editor", "password": "editor-password"}),
        200,
    )?;
    let bearer = format!(
        "Bearer {}",
        editor["access_token"]
            .as_str()
            .context("no access_token from http-rest-api")?
    );
    for n in 1..=SKUS {
        let sku = sku(n);
        if !products.contains_key(&sku) {
            let body = json!({"sku": sku, "name": format!("Product {n}"),
                              "price_cents": 100 + n, "stock": 100_000_000});
            let created = post_json(&orders, "/api/v1/products", &[], &body, 201)?;
            products.insert(sku.clone(), id(&created)?);
        }
        let body = json!({"sku": sku, "name": format!("Product {n}"), "description": "A thing",
                          "category": "kitchen", "price_cents": 100 + n, "stock": 1000});
        // 409 when an earlier run listed it already.
        let _ = post_json(
            &catalog,
            "/api/v1/products",
            &[("Authorization", &bearer)],
            &body,
            201,
        );
    }
    let mut customers = Vec::new();
    for i in 0..CUSTOMERS {
        let body = json!({"email": format!("bench-{run}-{i}@example.test"),
                          "name": format!("Bench shopper {i}")});
        customers.push(id(&post_json(
            &orders,
            "/api/v1/customers",
            &[],
            &body,
            201,
        )?)?);
    }
    let mut checkouts = Vec::new();
    let mut order_lines = Vec::new();
    for i in 0..CARTS {
        let sku = sku(i % SKUS + 1);
        let product = products[&sku];
        let customer = customers[i % CUSTOMERS];
        let token = shopper_with_a_cart(&cart, &format!("bench-{i}"), &json!(product), &sku)?;
        checkouts.push(format!("{token}\t{}", json!({"customer_id": customer})));
        order_lines.push(format!(
            "\t{}",
            json!({"customer_id": customer, "items": [{"product_id": product, "quantity": 1}]})
        ));
    }
    eprintln!(
        "bench: {CARTS} carts of {SKUS} SKUs for {CUSTOMERS} customers seeded across the shop"
    );
    Ok(Seed {
        checkouts: checkouts.join("\n"),
        orders: order_lines.join("\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_measures_journeys_next_to_the_order_hop() {
        let plan = plan(App::named("checkout").unwrap());
        assert_eq!(plan.workloads.len(), 1);
        assert!(plan.workloads[0].name().contains("/api/v1/checkout"));
        assert!(plan.baseline.name().contains("sql-application"));
        assert!(plan.target.contains("32 MiB"));
    }
}
