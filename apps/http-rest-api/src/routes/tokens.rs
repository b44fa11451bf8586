//! `POST /api/v1/auth/token`: a short-lived bearer token for a configured demo user.

use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use service_kit::problem::status;

use super::{AppState, Tag};
use crate::auth::{AuthError, Role};
use crate::error::{ApiError, Errors};

/// Credentials of a demo user.
#[derive(Debug, Object)]
pub struct TokenRequest {
    /// The user name.
    #[oai(validator(max_length = 100))]
    pub username: String,
    /// The password.
    #[oai(validator(max_length = 200))]
    pub password: String,
}

/// An issued token.
#[derive(Debug, Object)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// What the token allows.
    pub role: Role,
}

/// The token endpoint.
#[derive(Debug, Clone)]
pub struct TokensApi {
    /// Shared state.
    pub state: AppState,
}

/// What issuing can answer besides a token.
type IssueErrors = Errors<
    {
        status::BAD_REQUEST
            | status::UNAUTHORIZED
            | status::PAYLOAD_TOO_LARGE
            | status::UNSUPPORTED_MEDIA_TYPE
            | status::TOO_MANY_REQUESTS
    },
>;

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Auth")]
impl TokensApi {
    /// Get a bearer token for a demo user.
    #[oai(path = "/auth/token", method = "post", operation_id = "issueToken")]
    async fn issue(&self, body: Json<TokenRequest>) -> Result<Json<TokenResponse>, IssueErrors> {
        match self.state.auth.issue(&body.username, &body.password) {
            Ok(issued) => Ok(Json(TokenResponse {
                access_token: issued.token,
                token_type: "Bearer".into(),
                expires_in: issued.expires_in,
                role: issued.role,
            })),
            Err(AuthError::BadCredentials) => {
                tracing::info!(username = %body.username, "token refused: bad credentials");
                Err(ApiError::unauthorized(AuthError::BadCredentials.to_string()).into())
            }
            Err(err) => Err(ApiError::unauthorized(err.to_string()).into()),
        }
    }
}
