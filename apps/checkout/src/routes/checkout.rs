//! `POST /api/v1/checkout`: the session's cart (bearer token, redis-cache's session)
//! checked out for a customer, once per `Idempotency-Key`.

use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, SecurityScheme};
use secrecy::ExposeSecret;
use service_kit::faults::middleware::is_active;
use service_kit::problem::status::{
    BAD_REQUEST, CONFLICT, PAYLOAD_TOO_LARGE, UNAUTHORIZED, UNAVAILABLE, UNPROCESSABLE,
    UNSUPPORTED_MEDIA_TYPE,
};

use super::{AppState, Tag};
use crate::error::{ApiError, Errors};
use crate::hops::Forwarded;
use crate::journey::Outcome;
use crate::receipt::{CheckoutRequest, Receipt};
use crate::scenarios::{BROKEN_HOP, SLOW_HOP};
use crate::settings::ScenarioSettings;

/// The checkout operation.
#[derive(Debug)]
pub struct CheckoutApi {
    /// Shared state.
    pub state: AppState,
}

/// A redis-cache session token in `Authorization: Bearer`.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer")]
pub struct SessionToken(pub Bearer);

/// A placed checkout.
#[derive(Debug, ApiResponse)]
pub enum Placed {
    /// Placed; with `Idempotent-Replayed: true` when this is the stored answer to an
    /// earlier request with the same `Idempotency-Key`.
    #[oai(status = 201)]
    Created(
        Json<Receipt>,
        #[oai(header = "Location")] String,
        #[oai(header = "Idempotent-Replayed")] Option<String>,
    ),
}

/// What a checkout can answer besides 201.
type CheckoutErrors = Errors<
    {
        BAD_REQUEST
            | UNAUTHORIZED
            | CONFLICT
            | PAYLOAD_TOO_LARGE
            | UNSUPPORTED_MEDIA_TYPE
            | UNPROCESSABLE
            | UNAVAILABLE
    },
>;

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Checkout")]
impl CheckoutApi {
    /// Check out the session's cart: read it (redis-cache), reserve each line
    /// (grpc-microservice), place the order (sql-application), publish
    /// `order_placed` (kafka-streaming), describe the lines (http-rest-api). A
    /// failure after a reservation releases every reservation; a retry with the same
    /// `Idempotency-Key` gets the first answer again instead of a second order.
    #[oai(path = "/checkout", method = "post", operation_id = "checkout")]
    async fn checkout(
        &self,
        req: &Request,
        auth: SessionToken,
        body: Json<CheckoutRequest>,
        /// Makes retries safe: 1–200 visible ASCII characters, unique per checkout.
        /// Required: a missing or malformed key is a 400 naming it (the rule is this
        /// parameter's schema, checked from it).
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 200, pattern = "^[!-~]+$")
        )]
        key: Header<String>,
    ) -> Result<Placed, CheckoutErrors> {
        let key = key.0.as_str();
        let customer_id = body.0.validate().map_err(ApiError::Invalid)?;
        let outcome = self
            .state
            .journey
            .checkout(
                key,
                &auth.0.token,
                customer_id,
                &forwarded(req, &self.state.settings.scenarios),
            )
            .await?;
        let (receipt, replayed) = match outcome {
            Outcome::Placed(receipt) => (receipt, None),
            Outcome::Replayed(receipt) => (receipt, Some("true".to_owned())),
        };
        let location = format!("/api/v1/orders/{}", receipt.order_id);
        Ok(Placed::Created(Json(receipt), location, replayed))
    }
}

/// The fault headers this checkout forwards to the guilty hop, if the `broken_hop`
/// or `slow_hop` scenario affects it (a broken hop wins: it is the louder symptom).
fn forwarded(req: &Request, scenarios: &ScenarioSettings) -> Forwarded {
    let token = scenarios.hop_token.expose_secret();
    if is_active(req, BROKEN_HOP) {
        Forwarded::error(scenarios.hop, scenarios.broken_hop_status, token)
    } else if is_active(req, SLOW_HOP) {
        Forwarded::delay(scenarios.hop, scenarios.slow_hop_delay, token)
    } else {
        Forwarded::none()
    }
}
