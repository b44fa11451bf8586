//! Generated inputs over every operation of the OpenAPI document: arbitrary
//! parameters, headers, bodies and tokens never make the app answer 5xx (no fault
//! is injected here) and every error is problem+json.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method};
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, product, spawn_app};

/// Which credentials a generated request carries.
#[derive(Debug, Clone)]
enum Credentials {
    None,
    Garbage(String),
    User(usize),
}

/// One generated call.
#[derive(Debug, Clone)]
enum Call {
    List(Vec<(String, String)>),
    Get {
        id: String,
        if_none_match: Option<String>,
    },
    Create {
        body: Body,
        auth: Credentials,
    },
    Update {
        id: String,
        if_match: Option<String>,
        body: Body,
        auth: Credentials,
    },
    Delete {
        id: String,
        if_match: Option<String>,
        auth: Credentials,
    },
    Upload {
        id: String,
        content_type: String,
        data: Vec<u8>,
        field: String,
        auth: Credentials,
    },
    Download {
        id: String,
    },
    Token {
        body: Body,
    },
    Report,
}

/// A request body: JSON that looks like a product, any JSON, or raw bytes.
#[derive(Debug, Clone)]
enum Body {
    Json(Value),
    Raw {
        content_type: String,
        bytes: Vec<u8>,
    },
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn product_like() -> impl Strategy<Value = Value> {
    let field = |valid: Value| prop_oneof![3 => Just(valid), 1 => json_value()];
    (
        field(json!("GEN-1")),
        field(json!("Generated")),
        field(json!("kitchen")),
        field(json!(100)),
        field(json!(1)),
        prop::option::of(json_value()),
        prop::option::of(("[a-z]{1,8}", json_value())),
    )
        .prop_map(|(sku, name, category, price, stock, description, extra)| {
            let mut object = json!({
                "sku": sku, "name": name, "category": category,
                "price_cents": price, "stock": stock,
            });
            if let Some(description) = description {
                object["description"] = description;
            }
            if let Some((key, value)) = extra {
                object[key] = value;
            }
            object
        })
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        4 => product_like().prop_map(Body::Json),
        2 => json_value().prop_map(Body::Json),
        1 => (
            prop_oneof![Just("application/json".to_owned()), Just("text/plain".to_owned()), "[a-z]{1,10}/[a-z+.-]{1,12}"],
            prop::collection::vec(any::<u8>(), 0..256),
        )
            .prop_map(|(content_type, bytes)| Body::Raw { content_type, bytes }),
    ]
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (1u64..8).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => "-?[0-9]{1,30}",
        1 => "[a-zA-Z0-9._~-]{1,12}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,24}",
        "-?[0-9]{1,22}",
        Just("true".to_owned()),
        Just(String::new())
    ]
}

fn credentials() -> impl Strategy<Value = Credentials> {
    prop_oneof![
        1 => Just(Credentials::None),
        1 => "[ -~]{0,40}".prop_map(Credentials::Garbage),
        3 => (0usize..3).prop_map(Credentials::User),
    ]
}

fn list_query() -> impl Strategy<Value = Vec<(String, String)>> {
    let key = prop_oneof![
        Just("limit"),
        Just("cursor"),
        Just("category"),
        Just("min_price"),
        Just("max_price"),
        Just("q"),
        Just("in_stock"),
        Just("other"),
    ];
    prop::collection::vec((key.prop_map(str::to_owned), text()), 0..5)
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        list_query().prop_map(Call::List),
        (id(), prop::option::of(text()))
            .prop_map(|(id, if_none_match)| Call::Get { id, if_none_match }),
        (body(), credentials()).prop_map(|(body, auth)| Call::Create { body, auth }),
        (id(), prop::option::of(text()), body(), credentials()).prop_map(
            |(id, if_match, body, auth)| Call::Update {
                id,
                if_match,
                body,
                auth
            }
        ),
        (id(), prop::option::of(text()), credentials())
            .prop_map(|(id, if_match, auth)| Call::Delete { id, if_match, auth }),
        (
            id(),
            prop_oneof![
                Just("image/png".to_owned()),
                Just("image/jpeg".to_owned()),
                "[a-z]{1,8}/[a-z]{1,8}"
            ],
            prop_oneof![
                Just(b"\x89PNG\r\n\x1a\n0000".to_vec()),
                prop::collection::vec(any::<u8>(), 0..512),
            ],
            prop_oneof![3 => Just("file".to_owned()), 1 => "[a-z]{1,6}"],
            credentials(),
        )
            .prop_map(|(id, content_type, data, field, auth)| Call::Upload {
                id,
                content_type,
                data,
                field,
                auth
            }),
        id().prop_map(|id| Call::Download { id }),
        prop_oneof![
            body(),
            ("[a-z]{0,8}", ".{0,12}")
                .prop_map(|(u, p)| Body::Json(json!({"username": u, "password": p}))),
        ]
        .prop_map(|body| Call::Token { body }),
        Just(Call::Report),
    ]
}

fn authorize(
    request: reqwest::RequestBuilder,
    auth: &Credentials,
    tokens: &[String],
) -> reqwest::RequestBuilder {
    match auth {
        Credentials::None => request,
        Credentials::Garbage(text) => {
            match reqwest::header::HeaderValue::from_str(&format!("Bearer {text}")) {
                Ok(value) => request.header("authorization", value),
                Err(_) => request,
            }
        }
        Credentials::User(index) => request.bearer_auth(&tokens[*index]),
    }
}

fn with_body(request: reqwest::RequestBuilder, body: &Body) -> reqwest::RequestBuilder {
    match body {
        Body::Json(value) => request.json(value),
        Body::Raw {
            content_type,
            bytes,
        } => request
            .header("content-type", content_type)
            .body(bytes.clone()),
    }
}

fn header(
    request: reqwest::RequestBuilder,
    name: &str,
    value: &Option<String>,
) -> reqwest::RequestBuilder {
    match value.as_deref().map(reqwest::header::HeaderValue::from_str) {
        Some(Ok(value)) => request.header(name, value),
        _ => request,
    }
}

fn path_url(app: &TestApp, prefix: &str, id: &str, suffix: &str) -> String {
    app.url(&format!("{prefix}{id}{suffix}"))
}

async fn send(app: &TestApp, client: &Client, tokens: &[String], call: &Call) -> reqwest::Response {
    let products = "/api/v1/products/";
    let request = match call {
        Call::List(query) => client.get(app.url("/api/v1/products")).query(query),
        Call::Get { id, if_none_match } => header(
            client.get(path_url(app, products, id, "")),
            "if-none-match",
            if_none_match,
        ),
        Call::Create { body, auth } => authorize(
            with_body(client.post(app.url("/api/v1/products")), body),
            auth,
            tokens,
        ),
        Call::Update {
            id,
            if_match,
            body,
            auth,
        } => authorize(
            header(
                with_body(client.put(path_url(app, products, id, "")), body),
                "if-match",
                if_match,
            ),
            auth,
            tokens,
        ),
        Call::Delete { id, if_match, auth } => authorize(
            header(
                client.delete(path_url(app, products, id, "")),
                "if-match",
                if_match,
            ),
            auth,
            tokens,
        ),
        Call::Upload {
            id,
            content_type,
            data,
            field,
            auth,
        } => {
            let part = Part::bytes(data.clone()).file_name("x");
            let part = part
                .mime_str(content_type)
                .unwrap_or_else(|_| Part::bytes(data.clone()));
            authorize(
                client
                    .put(path_url(app, products, id, "/image"))
                    .multipart(Form::new().part(field.clone(), part)),
                auth,
                tokens,
            )
        }
        Call::Download { id } => client.get(path_url(app, products, id, "/image")),
        Call::Token { body } => with_body(client.post(app.url("/api/v1/auth/token")), body),
        Call::Report => client.get(app.url("/api/v1/reports/inventory")),
    };
    request.send().await.unwrap()
}

#[test]
fn generated_inputs_over_every_operation_never_cause_a_5xx() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (app, tokens) = runtime.block_on(async {
        let app = spawn_app().await;
        let mut tokens = Vec::new();
        for user in ["reader", "editor", "admin"] {
            tokens.push(app.token(user).await);
        }
        for i in 0..4 {
            app.seed(&tokens[1], &format!("SEED-{i}"), "kitchen", 100)
                .await;
        }
        let _ = product("UNUSED", "x", 1);
        (app, tokens)
    });
    let client = Client::new();
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    let methods_seen = std::sync::Mutex::new(std::collections::BTreeSet::new());
    runner
        .run(&call(), |call| {
            let response = runtime.block_on(send(&app, &client, &tokens, &call));
            let status = response.status();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            methods_seen
                .lock()
                .unwrap()
                .insert(format!("{:?}", std::mem::discriminant(&call)));
            prop_assert!(!status.is_server_error(), "{call:?} answered {status}");
            if status.is_client_error() {
                prop_assert_eq!(
                    content_type,
                    "application/problem+json",
                    "{:?} answered {}",
                    call,
                    status
                );
            }
            Ok(())
        })
        .unwrap();
    // Every operation was exercised.
    assert_eq!(methods_seen.lock().unwrap().len(), 9);
    let _ = Method::GET;
}
