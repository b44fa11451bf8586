//! The runtime switch: `/admin/faults`, authenticated by a bearer token.
//!
//! - `GET /admin/faults` — the settings in force and the app's scenarios;
//! - `PUT /admin/faults` — replace all settings (the same document);
//! - `PUT /admin/faults/{name}` — replace one fault (`latency`, `errors`, a scenario);
//! - `DELETE /admin/faults` — back to the configured settings.
//!
//! With no token configured the endpoint answers 404: it does not exist.

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{
    Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler, put,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::model::constant_time_eq;
use super::{ErrorFault, FaultError, FaultSettings, Faults, LatencyFault, ScenarioFault};
use crate::problem::Problem;

/// The `admin.*` configuration section.
#[derive(Debug, Clone, Deserialize)]
pub struct AdminSettings {
    /// Bearer token for `/admin/*`; empty disables the admin endpoint.
    pub token: SecretString,
}

/// Routes for `/admin/faults`, to be nested at the app's root.
pub fn routes(faults: Faults, settings: &AdminSettings) -> impl Endpoint + use<> {
    let token = settings.token.expose_secret().to_owned();
    Route::new()
        .at("/admin/faults", get(show).put(replace_all).delete(reset))
        .at("/admin/faults/:name", put(replace_one))
        .data(faults)
        .around(move |ep, req| {
            let token = token.clone();
            async move {
                if let Err(problem) = authorize(&req, &token) {
                    return Ok(problem.into_response());
                }
                ep.call(req).await.map(IntoResponse::into_response)
            }
        })
}

fn authorize(req: &Request, token: &str) -> Result<(), Problem> {
    if token.is_empty() {
        return Err(Problem::status(StatusCode::NOT_FOUND)
            .with_detail("the admin endpoint is disabled: no `admin.token` is configured"));
    }
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match given {
        Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(unauthorized("the bearer token is not the admin token")),
        None => Err(unauthorized("send `Authorization: Bearer <admin token>`")),
    }
}

fn unauthorized(detail: &str) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
        .with_detail(detail)
        .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"admin\"")
}

#[handler]
fn show(faults: poem::web::Data<&Faults>) -> Response {
    document(&faults)
}

#[handler]
async fn replace_all(faults: poem::web::Data<&Faults>, body: Body) -> Response {
    let settings: FaultSettings = match parse_body(body).await {
        Ok(settings) => settings,
        Err(problem) => return problem.into_response(),
    };
    apply(&faults, settings)
}

#[handler]
async fn replace_one(
    faults: poem::web::Data<&Faults>,
    Path(name): Path<String>,
    body: Body,
) -> Response {
    let mut settings = faults.current();
    let parsed = match name.as_str() {
        "latency" => parse_body::<LatencyFault>(body)
            .await
            .map(|f| settings.latency = f),
        "errors" => parse_body::<ErrorFault>(body)
            .await
            .map(|f| settings.errors = f),
        scenario if faults.knows(scenario) => parse_body::<ScenarioFault>(body).await.map(|f| {
            settings.scenarios.insert(name.clone(), f);
        }),
        _ => Err(
            Problem::new(StatusCode::NOT_FOUND, "unknown-fault", "Unknown fault").with_detail(
                format!(
                    "no fault `{name}`; this app knows: {}",
                    faults.known_names()
                ),
            ),
        ),
    };
    match parsed {
        Ok(()) => apply(&faults, settings),
        Err(problem) => problem.into_response(),
    }
}

#[handler]
fn reset(faults: poem::web::Data<&Faults>) -> Response {
    faults.reset();
    tracing::info!("faults reset to configuration by the admin endpoint");
    document(&faults)
}

fn apply(faults: &Faults, settings: FaultSettings) -> Response {
    match faults.replace(settings) {
        Ok(()) => {
            tracing::info!(faults = ?faults.current(), "faults changed by the admin endpoint");
            document(faults)
        }
        Err(err) => invalid(&err).into_response(),
    }
}

fn invalid(err: &FaultError) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-fault",
        "Invalid fault settings",
    )
    .with_detail(err.to_string())
}

async fn parse_body<T: DeserializeOwned>(body: Body) -> Result<T, Problem> {
    let bytes = body.into_vec().await.map_err(|err| {
        Problem::status(StatusCode::BAD_REQUEST).with_detail(format!("cannot read the body: {err}"))
    })?;
    serde_json::from_slice(&bytes).map_err(|err| {
        Problem::new(StatusCode::BAD_REQUEST, "invalid-json", "Invalid JSON body")
            .with_detail(err.to_string())
    })
}

fn document(faults: &Faults) -> Response {
    let body = json!({ "settings": faults.current(), "scenarios": faults.catalog() });
    poem::web::Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use poem::test::TestClient;

    use super::*;
    use crate::faults::{Catalog, ScenarioInfo};

    const CATALOG: Catalog = &[ScenarioInfo {
        name: "hot_key",
        description: "one key takes most traffic",
    }];

    fn client(token: &str) -> (TestClient<impl Endpoint>, Faults) {
        let faults = Faults::new(FaultSettings::default(), CATALOG).unwrap();
        let settings = AdminSettings {
            token: SecretString::from(token),
        };
        (TestClient::new(routes(faults.clone(), &settings)), faults)
    }

    #[tokio::test]
    async fn without_a_configured_token_the_endpoint_does_not_exist() {
        let (client, _) = client("");
        let response = client
            .get("/admin/faults")
            .header("authorization", "Bearer ")
            .send()
            .await;
        response.assert_status(StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn a_missing_or_wrong_token_is_unauthorized() {
        let (client, _) = client("s3cret");
        let response = client.get("/admin/faults").send().await;
        response.assert_status(StatusCode::UNAUTHORIZED);
        response.assert_header(header::WWW_AUTHENTICATE, "Bearer realm=\"admin\"");
        let response = client
            .get("/admin/faults")
            .header("authorization", "Bearer nope")
            .send()
            .await;
        response.assert_status(StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn the_document_lists_settings_and_scenarios() {
        let (client, _) = client("s3cret");
        let response = client
            .get("/admin/faults")
            .header("authorization", "Bearer s3cret")
            .send()
            .await;
        response.assert_status_is_ok();
        let json = response.json().await;
        json.value()
            .object()
            .get("scenarios")
            .array()
            .get(0)
            .object()
            .get("name")
            .assert_string("hot_key");
        json.value()
            .object()
            .get("settings")
            .object()
            .get("headers")
            .assert_bool(false);
    }

    #[tokio::test]
    async fn one_fault_can_be_switched_and_everything_reset() {
        let (client, faults) = client("s3cret");
        let response = client
            .put("/admin/faults/hot_key")
            .header("authorization", "Bearer s3cret")
            .body_json(&json!({"enabled": true, "rate": 1.0}))
            .send()
            .await;
        response.assert_status_is_ok();
        assert!(faults.roll("hot_key"));

        let response = client
            .put("/admin/faults/latency")
            .header("authorization", "Bearer s3cret")
            .body_json(&json!({"enabled": true, "delay": "10ms"}))
            .send()
            .await;
        response.assert_status_is_ok();
        assert!(faults.current().latency.enabled);

        client
            .delete("/admin/faults")
            .header("authorization", "Bearer s3cret")
            .send()
            .await
            .assert_status_is_ok();
        assert_eq!(faults.current(), FaultSettings::default());
    }

    #[tokio::test]
    async fn bad_requests_get_problems_and_change_nothing() {
        let (client, faults) = client("s3cret");
        let cases = [
            (
                "/admin/faults/hot_kee",
                json!({"enabled": true}),
                StatusCode::NOT_FOUND,
            ),
            (
                "/admin/faults/errors",
                json!({"rate": 2.0}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "/admin/faults/errors",
                json!({"rate": "often"}),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/admin/faults",
                json!({"hot_kee": {"enabled": true}}),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ];
        for (path, body, status) in cases {
            let response = client
                .put(path)
                .header("authorization", "Bearer s3cret")
                .body_json(&body)
                .send()
                .await;
            response.assert_status(status);
            response.assert_header(header::CONTENT_TYPE, crate::problem::CONTENT_TYPE);
        }
        assert_eq!(faults.current(), FaultSettings::default());
    }
}
