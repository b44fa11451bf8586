//! The three apps under chaos: how each is configured against the private services,
//! what one write is (an order, a session, an event), and where each write is found
//! again (order rows, session keys, records on the input topic and their results).

use std::sync::Arc;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use ureq::Agent;

use super::ledger::{Outcome, Stored};
use super::load::{WriteFn, post_json};
use super::stores;
use crate::apps::App;
use crate::services::redis::Persistence;

/// Added to an app's own port: the chaos copy does not collide with a demo or a
/// smoke run of the same app.
const PORT_OFFSET: u16 = 20000;
/// redis-cache's key prefix (its default).
const REDIS_PREFIX: &str = "redis-cache:";
/// kafka-streaming's topics (its defaults).
const INPUT_TOPIC: &str = "events";
const OUTPUT_TOPIC: &str = "events-processed";

/// Which app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// sql-application on PostgreSQL.
    Sql,
    /// redis-cache on Redis.
    Redis,
    /// kafka-streaming on Kafka.
    Kafka,
}

impl Kind {
    /// In the order the run plays them.
    pub const ALL: [Kind; 3] = [Kind::Sql, Kind::Redis, Kind::Kafka];

    /// The apps `names` name, in [`Kind::ALL`]'s order; all of them when empty.
    pub fn selected(names: &[&str]) -> Result<Vec<Kind>> {
        if let Some(unknown) = names
            .iter()
            .find(|name| !Kind::ALL.iter().any(|kind| kind.app_name() == **name))
        {
            anyhow::bail!(
                "chaos knows no app `{unknown}`: it plays sql-application, redis-cache and kafka-streaming"
            );
        }
        Ok(Kind::ALL
            .into_iter()
            .filter(|kind| names.is_empty() || names.contains(&kind.app_name()))
            .collect())
    }

    /// The app's name in `apps.toml`.
    pub fn app_name(self) -> &'static str {
        match self {
            Kind::Sql => "sql-application",
            Kind::Redis => "redis-cache",
            Kind::Kafka => "kafka-streaming",
        }
    }

    /// The app as the chaos run starts it: its registry entry on another port.
    pub fn app(self) -> Result<&'static App> {
        let app = App::named(self.app_name())?;
        Ok(Box::leak(Box::new(App {
            port: app.port + PORT_OFFSET,
            ..*app
        })))
    }

    /// `APP__*` settings that point the app at the private service.
    pub fn settings(self) -> Vec<(&'static str, String)> {
        match self {
            Kind::Sql => vec![("APP__DATABASE__PORT", stores::POSTGRES_PORT.to_string())],
            Kind::Redis => vec![
                ("APP__REDIS__PORT", stores::REDIS_PORT.to_string()),
                // No session may expire during the run: a missing key is a loss.
                ("APP__SESSIONS__TTL", "2h".to_owned()),
            ],
            Kind::Kafka => vec![(
                "APP__KAFKA__BOOTSTRAP_SERVERS",
                format!("127.0.0.1:{}", stores::KAFKA_PORT),
            )],
        }
    }

    /// Creates what writes need (sql-application: a customer and a product with
    /// stock for every order) and returns the write.
    pub fn writer(self, app: &App, run: &str) -> Result<Arc<WriteFn>> {
        let base = app.base_url();
        Ok(match self {
            Kind::Sql => {
                let (customer, product) = seed_orders(&base, run)?;
                let url = format!("{base}/api/v1/orders");
                let run = run.to_owned();
                Arc::new(move |agent: &Agent, n: u64| -> Outcome {
                    let body = json!({"customer_id": customer,
                                      "items": [{"product_id": product, "quantity": 1}]});
                    let key = format!("chaos-{run}-{n}");
                    post_json(agent, &url, &[("Idempotency-Key", &key)], &body, 201, id_of)
                })
            }
            Kind::Redis => {
                let url = format!("{base}/api/v1/sessions");
                Arc::new(move |agent: &Agent, n: u64| -> Outcome {
                    let body =
                        json!({"username": format!("chaos-{n}"), "password": "obi-examples"});
                    post_json(agent, &url, &[], &body, 201, token_of)
                })
            }
            Kind::Kafka => {
                let url = format!("{base}/api/v1/events");
                let run = run.to_owned();
                Arc::new(move |agent: &Agent, n: u64| -> Outcome {
                    let body = json!({"id": format!("chaos-{run}-{n}"), "type": "chaos.write",
                                      "source": "chaos", "payload": {"n": n}});
                    post_json(agent, &url, &[], &body, 202, id_of)
                })
            }
        })
    }

    /// What the store holds, and for kafka-streaming the results of processing.
    pub fn read_back(self, persistence: Persistence) -> Result<(Stored, Option<Stored>)> {
        Ok(match self {
            Kind::Sql => (stores::order_ids(&stores::postgres())?, None),
            Kind::Redis => (
                stores::session_tokens(&stores::redis(persistence), REDIS_PREFIX)?,
                None,
            ),
            Kind::Kafka => {
                let kafka = stores::kafka();
                (
                    stores::topic_keys(&kafka, INPUT_TOPIC)?,
                    Some(stores::topic_keys(&kafka, OUTPUT_TOPIC)?),
                )
            }
        })
    }
}

/// The `id` of an answer, a number or a string.
fn id_of(answer: &Value) -> Option<String> {
    match answer.get("id")? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The `token` of a login's answer.
fn token_of(answer: &Value) -> Option<String> {
    answer
        .get("token")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
}

/// A customer and a product with stock for every order of the run.
fn seed_orders(base: &str, run: &str) -> Result<(i64, i64)> {
    let id = |answer: Value| {
        answer
            .get("id")
            .and_then(Value::as_i64)
            .with_context(|| format!("no id in {answer}"))
    };
    let product = json!({"sku": format!("CHAOS-{run}"), "name": "Chaos product",
                         "price_cents": 100, "stock": 100_000_000});
    let product = id(crate::http::post_json(
        base,
        "/api/v1/products",
        &[],
        &product,
        201,
    )?)?;
    let customer = json!({"email": format!("chaos-{run}@example.com"), "name": "Chaos customer"});
    let customer = id(crate::http::post_json(
        base,
        "/api/v1/customers",
        &[],
        &customer,
        201,
    )?)?;
    Ok((customer, product))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_numbers_and_strings_and_tokens_from_logins() {
        assert_eq!(id_of(&json!({"id": 17})), Some("17".into()));
        assert_eq!(id_of(&json!({"id": "chaos-1-2"})), Some("chaos-1-2".into()));
        assert_eq!(id_of(&json!({"id": ""})), None);
        assert_eq!(id_of(&json!({})), None);
        assert_eq!(
            token_of(&json!({"token": "ab12", "username": "u"})),
            Some("ab12".into())
        );
        assert_eq!(token_of(&json!({"token": null})), None);
    }

    #[test]
    fn apps_are_selected_by_name_in_the_run_order() {
        assert_eq!(Kind::selected(&[]).unwrap(), Kind::ALL);
        assert_eq!(
            Kind::selected(&["kafka-streaming", "sql-application"]).unwrap(),
            [Kind::Sql, Kind::Kafka]
        );
        let err = Kind::selected(&["http-rest-api"]).unwrap_err().to_string();
        assert!(err.contains("no app `http-rest-api`"), "{err}");
    }

    #[test]
    fn the_chaos_apps_run_beside_their_usual_ports() {
        for kind in Kind::ALL {
            let app = kind.app().unwrap();
            let usual = App::named(kind.app_name()).unwrap();
            assert_eq!(app.port, usual.port + PORT_OFFSET);
            assert!(!kind.settings().is_empty());
        }
    }
}
