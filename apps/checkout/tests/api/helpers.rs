//! `Shop`: the five apps of the shop and checkout in front of them, each started with
//! its own `startup::build` on a free loopback port — sql-application on a fresh
//! database, redis-cache and checkout on fresh key prefixes, kafka-streaming on fresh
//! topics — with a [`Proxy`] on each of checkout's hops (and on its own Redis) to cut.
//! Seeding goes through the apps' own APIs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use checkout::routes::AppState;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use test_support::app::TestApp;
use test_support::kafka::FreshNames;
use test_support::postgres::FreshDatabase;
use test_support::proxy::Proxy;
use test_support::redis::KeyPrefix;

pub use test_support::http::{assert_problem, fields};

/// kafka-streaming's topics and group, named `<prefix>-<what>`.
const TOPICS: [&str; 3] = ["events", "processed", "dlq"];
const GROUP: &str = "group";

/// One proxy per thing checkout talks to.
pub struct Proxies {
    /// To redis-cache.
    pub cart: Proxy,
    /// To grpc-microservice.
    pub inventory: Proxy,
    /// To sql-application.
    pub orders: Proxy,
    /// To kafka-streaming.
    pub events: Proxy,
    /// To http-rest-api.
    pub catalog: Proxy,
    /// To checkout's own Redis.
    pub redis: Proxy,
}

/// The six apps.
pub struct Shop {
    /// The app under test.
    pub checkout: TestApp<AppState>,
    /// redis-cache (carts).
    pub cart: TestApp,
    /// grpc-microservice (its inventory is the state).
    pub inventory: TestApp<grpc_microservice::store::Store>,
    /// sql-application (orders).
    pub orders: TestApp,
    /// kafka-streaming (its worker's counters are the state).
    pub events: TestApp<Arc<kafka_streaming::worker::Stats>>,
    /// http-rest-api (the catalog).
    pub catalog: TestApp,
    /// Between checkout and each of them.
    pub proxies: Proxies,
    /// checkout's Redis key prefix.
    pub prefix: String,
    /// kafka-streaming's input topic.
    pub topic: String,
    names: FreshNames,
    // Dropped after the apps.
    _keys: (KeyPrefix, KeyPrefix),
    _database: FreshDatabase,
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.events.shutdown.trigger();
        self.names.cleanup(&TOPICS, GROUP);
    }
}

/// A proxy to the app on loopback `port`.
async fn proxy(port: u16) -> Proxy {
    Proxy::start(("127.0.0.1".to_owned(), port)).await
}

/// Starts the shop with checkout's default test settings.
pub async fn shop() -> Shop {
    shop_with(|_| {}).await
}

/// Starts the shop after `configure` adjusted checkout's settings.
pub async fn shop_with(configure: impl FnOnce(&mut checkout::settings::Settings)) -> Shop {
    let database = FreshDatabase::create().await;
    let mut sql: sql_application::settings::Settings =
        test_support::app::settings(sql_application::settings::DEFAULTS, &[]);
    sql.database.name = database.name.clone();
    sql.database.acquire_timeout = Duration::from_secs(5);
    let orders = TestApp::start(sql, sql_application::startup::build).await;

    let cart_keys = KeyPrefix::fresh("checkout-cart");
    let mut cache: redis_cache::settings::Settings =
        test_support::app::settings(redis_cache::settings::DEFAULTS, &[]);
    cache.redis.key_prefix = cart_keys.0.clone();
    let cart = TestApp::start(cache, redis_cache::startup::build).await;

    let grpc: grpc_microservice::settings::Settings =
        test_support::app::settings(grpc_microservice::settings::DEFAULTS, &[]);
    let inventory = TestApp::start(grpc, grpc_microservice::startup::build).await;

    let names = FreshNames::fresh();
    let mut kafka: kafka_streaming::settings::Settings =
        test_support::app::settings(kafka_streaming::settings::DEFAULTS, &[]);
    kafka.kafka.bootstrap_servers = names.bootstrap.clone();
    kafka.kafka.group_id = names.name(GROUP);
    kafka.kafka.input_topic = names.name(TOPICS[0]);
    kafka.kafka.output_topic = names.name(TOPICS[1]);
    kafka.kafka.dead_letter_topic = names.name(TOPICS[2]);
    kafka.kafka.partitions = 1;
    kafka.worker.commit_interval = Duration::from_millis(200);
    let topic = kafka.kafka.input_topic.clone();
    let events = TestApp::start(kafka, kafka_streaming::startup::build).await;

    let rest: http_rest_api::settings::Settings =
        test_support::app::settings(http_rest_api::settings::DEFAULTS, &[]);
    let catalog = TestApp::start(rest, http_rest_api::startup::build).await;

    let proxies = Proxies {
        cart: proxy(cart.port()).await,
        inventory: proxy(inventory.port()).await,
        orders: proxy(orders.port()).await,
        events: proxy(events.port()).await,
        catalog: proxy(catalog.port()).await,
        redis: Proxy::start(test_support::redis::server()).await,
    };
    let keys = KeyPrefix::fresh("checkout");
    let mut settings: checkout::settings::Settings =
        test_support::app::settings(checkout::settings::DEFAULTS, &[]);
    let url = |proxy: &Proxy| format!("http://127.0.0.1:{}", proxy.port);
    settings.hops.cart.url = url(&proxies.cart);
    settings.hops.inventory.url = url(&proxies.inventory);
    settings.hops.orders.url = url(&proxies.orders);
    settings.hops.events.url = url(&proxies.events);
    settings.hops.catalog.url = url(&proxies.catalog);
    settings.redis.port = proxies.redis.port;
    settings.redis.key_prefix = keys.0.clone();
    configure(&mut settings);
    let checkout = TestApp::start(settings, checkout::startup::build).await;

    let ready = Duration::from_secs(30);
    for app in [
        &checkout.http,
        &cart.http,
        &orders.http,
        &events.http,
        &catalog.http,
    ] {
        app.wait_ready(ready).await;
    }
    inventory.http.wait_ready(ready).await;
    Shop {
        prefix: keys.0.clone(),
        checkout,
        cart,
        inventory,
        orders,
        events,
        catalog,
        proxies,
        topic,
        names,
        _keys: (keys, cart_keys),
        _database: database,
    }
}

/// What a test puts in the shop before checking out.
pub struct Seeded {
    /// A redis-cache session with the cart in it.
    pub token: String,
    /// sql-application's customer.
    pub customer: i64,
    /// sql-application's product ids, in cart order.
    pub products: Vec<i64>,
    /// The SKUs, in cart order.
    pub skus: Vec<String>,
}

impl Shop {
    /// Seeds every app for a cart of `lines` (SKU suffix, units in stock everywhere,
    /// quantity in the cart): the SKU in inventory, sql-application and the catalog,
    /// a customer, a session with the cart.
    pub async fn seed(&self, lines: &[(&str, i32, i32)]) -> Seeded {
        let tag = format!("{:06X}", fastrand::u32(..0x100_0000));
        let editor = self.editor_token().await;
        let mut seeded = Seeded {
            token: String::new(),
            customer: self.customer(&tag).await,
            products: Vec::new(),
            skus: Vec::new(),
        };
        let mut cart = Vec::new();
        for (suffix, stock, quantity) in lines {
            let sku = format!("CO-{tag}-{suffix}");
            self.inventory.state.put(&sku, *stock);
            let product = self
                .orders
                .post(
                    "/api/v1/products",
                    &json!({"sku": sku, "name": format!("Product {sku}"), "price_cents": 250, "stock": stock}),
                )
                .await;
            assert_eq!(product.status(), StatusCode::CREATED, "{sku}");
            let id = product.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap();
            let listed = self
                .catalog
                .client
                .post(self.catalog.url("/api/v1/products"))
                .bearer_auth(&editor)
                .json(&json!({"sku": sku, "name": format!("Mug {suffix}"), "description": "A thing", "category": "kitchen", "price_cents": 250, "stock": stock}))
                .send()
                .await
                .unwrap();
            assert_eq!(listed.status(), StatusCode::CREATED, "{sku}");
            cart.push(json!({"product_id": id, "sku": sku, "quantity": quantity}));
            seeded.products.push(id);
            seeded.skus.push(sku);
        }
        seeded.token = self.session(&json!({ "items": cart })).await;
        seeded
    }

    /// A redis-cache session holding `cart`.
    pub async fn session(&self, cart: &Value) -> String {
        let login = self
            .cart
            .post(
                "/api/v1/sessions",
                &json!({"username": "shopper", "password": "obi-examples"}),
            )
            .await;
        assert_eq!(login.status(), StatusCode::CREATED);
        let token = login.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let put = self
            .cart
            .client
            .put(self.cart.url("/api/v1/sessions/me/cart"))
            .bearer_auth(&token)
            .json(cart)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), StatusCode::OK);
        token
    }

    async fn customer(&self, tag: &str) -> i64 {
        let response = self
            .orders
            .post(
                "/api/v1/customers",
                &json!({"email": format!("{tag}@example.test"), "name": "Shopper"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    async fn editor_token(&self) -> String {
        let response = self
            .catalog
            .post(
                "/api/v1/auth/token",
                &json!({"username": "editor", "password": "editor-password"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `POST /api/v1/checkout` for `seeded` with `key`.
    pub async fn checkout(&self, seeded: &Seeded, key: &str) -> Response {
        self.checkout_as(&seeded.token, seeded.customer, Some(key))
            .await
    }

    /// `POST /api/v1/checkout` with these parts.
    pub async fn checkout_as(&self, token: &str, customer: i64, key: Option<&str>) -> Response {
        let mut request = self
            .checkout
            .client
            .post(self.checkout.url("/api/v1/checkout"))
            .bearer_auth(token)
            .json(&json!({ "customer_id": customer }));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.unwrap()
    }

    /// sql-application's orders of `customer`.
    pub async fn orders_of(&self, customer: i64) -> Vec<Value> {
        let page: Value = self
            .orders
            .get(&format!("/api/v1/orders?customer_id={customer}"))
            .await
            .json()
            .await
            .unwrap();
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// sql-application's stock of product `id`.
    pub async fn sql_stock(&self, id: i64) -> i64 {
        let product: Value = self
            .orders
            .get(&format!("/api/v1/products/{id}"))
            .await
            .json()
            .await
            .unwrap();
        product["stock"].as_i64().unwrap()
    }

    /// Units of `sku` reserved in inventory.
    pub fn reserved(&self, sku: &str) -> i32 {
        self.inventory.state.get(sku).unwrap().reserved
    }

    /// Waits until kafka-streaming's worker processed `n` events.
    pub async fn wait_processed(&self, n: u64) {
        let started = Instant::now();
        loop {
            let stats: Value = self
                .events
                .get("/api/v1/consumer/stats")
                .await
                .json()
                .await
                .unwrap();
            if stats["processed"].as_u64().unwrap_or_default() >= n {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the worker processed {stats} after 30 s, not {n}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
