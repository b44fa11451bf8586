//! What an app that calls others (checkout: `calls` in apps.toml) needs for its
//! contract run: each app it calls, started here on a free port (the debug builds the
//! gate already made, with their own gate settings), the caller pointed at them
//! (`APP__HOPS__<HOP>__URL`), and one shopper seeded across them — a product in
//! sql-application and the catalog, a customer, a redis-cache session whose cart holds
//! one line of `SKU-00001` (which grpc-microservice seeds) — whose session token the
//! fuzzer sends. So a generated checkout reaches every hop instead of a 503 naming a
//! missing one.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{free_port, run_env};
use crate::apps::App;
use crate::http::{post_json, send_json, shopper_with_a_cart};
use crate::process::{AppProcess, Profile};

/// The SKU the seeded cart holds: grpc-microservice seeds it (1000 units).
const SKU: &str = "SKU-00001";

/// The hop of checkout's settings that reaches `app` (`hops.<hop>.url`).
fn hop(app: &str) -> Option<&'static str> {
    Some(match app {
        "redis-cache" => "cart",
        "grpc-microservice" => "inventory",
        "sql-application" => "orders",
        "kafka-streaming" => "events",
        "http-rest-api" => "catalog",
        _ => return None,
    })
}

/// The called apps, running, and what the caller is started and fuzzed with.
pub struct Shop {
    hops: Vec<AppProcess>,
    /// `APP__*` settings of the caller.
    pub env: Vec<(String, String)>,
    /// The seeded shopper's `Authorization` header value.
    pub authorization: String,
}

impl Shop {
    /// Starts the apps `app` calls, with their logs in `dir`, and seeds the shopper.
    pub fn start(app: &App, dir: &Path) -> Result<Self> {
        let mut shop = Self {
            hops: Vec::new(),
            env: Vec::new(),
            authorization: String::new(),
        };
        // Idempotency records of this run only: the fuzzer's seed repeats its keys.
        let run = unique();
        shop.env.extend([
            (
                "APP__REDIS__KEY_PREFIX".to_owned(),
                format!("contracts-{}-{run}:", app.name),
            ),
            ("APP__IDEMPOTENCY__TTL".to_owned(), "10m".to_owned()),
        ]);
        for name in app.calls {
            let called = App::named(name)?;
            let Some(hop) = hop(name) else {
                bail!(
                    "{} calls {name}, and the gate knows no hop setting for it",
                    app.name
                );
            };
            let port = free_port()?;
            let process = AppProcess::start_on(called, Profile::Debug, dir, run_env(called), port)?;
            shop.env.push((
                format!("APP__HOPS__{}__URL", hop.to_ascii_uppercase()),
                process.base_url(),
            ));
            shop.hops.push(process);
        }
        let token = shop
            .seed(&run)
            .context("cannot seed the shopper the fuzzer checks out as")?;
        shop.authorization = format!("Bearer {token}");
        Ok(shop)
    }

    fn url(&self, name: &str) -> Result<String> {
        self.hops
            .iter()
            .find(|process| process.app.name == name)
            .map(AppProcess::base_url)
            .with_context(|| format!("{name} is not running"))
    }

    /// The shopper's session token, its cart holding one line of [`SKU`].
    fn seed(&self, run: &str) -> Result<String> {
        let orders = self.url("sql-application")?;
        let catalog = self.url("http-rest-api")?;
        let cart = self.url("redis-cache")?;
        let product = sql_product(&orders)?;
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
        // 409 when the catalog lists it already.
        let _ = post_json(
            &catalog,
            "/api/v1/products",
            &[("Authorization", &bearer)],
            &json!({"sku": SKU, "name": "Contract mug", "description": "A thing",
                    "category": "kitchen", "price_cents": 250, "stock": 1000}),
            201,
        );
        post_json(
            &orders,
            "/api/v1/customers",
            &[],
            &json!({"email": format!("contracts-{run}@example.test"), "name": "Contract shopper"}),
            201,
        )?;
        shopper_with_a_cart(&cart, "contracts", &json!(product), SKU)
    }

    /// Stops the called apps (SIGTERM, drain).
    pub fn stop(&mut self) {
        self.hops.iter_mut().for_each(AppProcess::stop);
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.stop();
    }
}

/// sql-application's id of [`SKU`]: created with ample stock, or found.
fn sql_product(orders: &str) -> Result<i64> {
    let body =
        json!({"sku": SKU, "name": "Contract mug", "price_cents": 250, "stock": 100_000_000});
    if let Ok(created) = post_json(orders, "/api/v1/products", &[], &body, 201) {
        return created["id"]
            .as_i64()
            .context("no id in the created product");
    }
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(cursor) => format!("/api/v1/products?limit=100&after={cursor}"),
            None => "/api/v1/products?limit=100".to_owned(),
        };
        let page = send_json("GET", orders, &path, &[], None, 200)?;
        let items = page["items"].as_array().into_iter().flatten();
        if let Some(id) = items
            .filter(|product| product["sku"] == SKU)
            .find_map(|product| product["id"].as_i64())
        {
            return Ok(id);
        }
        after = match &page["next_cursor"] {
            Value::String(cursor) => Some(cursor.clone()),
            Value::Number(cursor) => Some(cursor.to_string()),
            _ => bail!("sql-application refused {SKU} and does not list it"),
        };
    }
}

/// Process id and milliseconds: unique per run.
fn unique() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    format!("{}-{millis}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_app_a_caller_calls_has_its_hop() {
        for app in crate::apps::existing() {
            let settings = std::fs::read_to_string(app.dir().join("config/default.yaml")).unwrap();
            for called in app.calls {
                let hop = hop(called).unwrap_or_else(|| panic!("{} calls {called}", app.name));
                assert!(
                    settings.contains(&format!("\n  {hop}:\n")),
                    "{}'s defaults have no hops.{hop}",
                    app.name
                );
            }
        }
        assert_eq!(hop("checkout"), None);
    }
}
