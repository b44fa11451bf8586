//! `/api/v1/sessions`: log in (a session in Redis with `sessions.ttl`), who is logged
//! in (refreshing the session's lifetime), log out (the session's cart goes too).

use poem_openapi::auth::Bearer;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, SecurityScheme};
use secrecy::ExposeSecret;
use service_kit::problem::status::{
    BAD_REQUEST, PAYLOAD_TOO_LARGE, UNAUTHORIZED, UNAVAILABLE, UNSUPPORTED_MEDIA_TYPE,
};

use super::{AppState, NoContent, Tag};
use crate::error::{ApiError, Errors};
use crate::store::StoreError;

/// Session operations.
#[derive(Debug)]
pub struct SessionsApi {
    /// Shared state.
    pub state: AppState,
}

/// A session token in `Authorization: Bearer`.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer")]
pub struct SessionToken(pub Bearer);

/// Credentials.
#[derive(Debug, Object)]
pub struct LoginRequest {
    /// 1–64 of letters, digits, `.`, `-`, `_`.
    #[oai(validator(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9._-]+$"))]
    pub username: String,
    /// The demo password (`sessions.password`).
    pub password: String,
}

/// A session.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Session {
    /// Pass as `Authorization: Bearer <token>`.
    #[oai(nullable)]
    pub token: Option<String>,
    /// Who is logged in.
    pub username: String,
    /// Seconds until it expires unless used.
    pub expires_in_seconds: u64,
}

/// A created session.
#[derive(Debug, ApiResponse)]
pub enum LoginResponse {
    /// Logged in.
    #[oai(status = 201)]
    Created(Json<Session>),
}

fn valid_username(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// 401: the token names no live session.
pub(super) fn no_session() -> ApiError {
    ApiError::Unauthorized("no such session (expired or logged out)".into())
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Sessions")]
impl SessionsApi {
    /// Log in: a session in Redis with `sessions.ttl`.
    #[oai(path = "/sessions", method = "post", operation_id = "login")]
    async fn login(
        &self,
        body: Json<LoginRequest>,
    ) -> Result<
        LoginResponse,
        Errors<
            {
                BAD_REQUEST
                    | UNAUTHORIZED
                    | PAYLOAD_TOO_LARGE
                    | UNSUPPORTED_MEDIA_TYPE
                    | UNAVAILABLE
            },
        >,
    > {
        if !valid_username(&body.username) {
            return Err(ApiError::BadRequest {
                slug: "invalid-username",
                detail: "username must be 1–64 of letters, digits, `.`, `-`, `_`".into(),
            }
            .into());
        }
        let sessions = &self.state.settings.sessions;
        if body.password != sessions.password.expose_secret() {
            return Err(ApiError::Unauthorized("wrong user name or password".into()).into());
        }
        let token = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        self.state
            .store()
            .create_session(&token, &body.username, sessions.ttl)
            .await
            .map_err(|err| self.redis_failed(err))?;
        Ok(LoginResponse::Created(Json(Session {
            token: Some(token),
            username: body.0.username,
            expires_in_seconds: sessions.ttl.as_secs().max(1),
        })))
    }

    /// Who is logged in; refreshes the session's TTL.
    #[oai(path = "/sessions/me", method = "get", operation_id = "me")]
    async fn me(
        &self,
        auth: SessionToken,
    ) -> Result<Json<Session>, Errors<{ UNAUTHORIZED | UNAVAILABLE }>> {
        let ttl = self.state.settings.sessions.ttl;
        let username = self
            .state
            .store()
            .touch_session(&auth.0.token, ttl)
            .await
            .map_err(|err| self.redis_failed(err))?
            .ok_or_else(no_session)?;
        Ok(Json(Session {
            token: None,
            username,
            expires_in_seconds: ttl.as_secs().max(1),
        }))
    }

    /// Log out; the session's cart goes with it.
    #[oai(path = "/sessions/me", method = "delete", operation_id = "logout")]
    async fn logout(
        &self,
        auth: SessionToken,
    ) -> Result<NoContent, Errors<{ UNAUTHORIZED | UNAVAILABLE }>> {
        let existed = self
            .state
            .store()
            .delete_session(&auth.0.token)
            .await
            .map_err(|err| self.redis_failed(err))?;
        if !existed {
            return Err(no_session().into());
        }
        self.state
            .store()
            .delete_cart(&auth.0.token)
            .await
            .map_err(|err| self.redis_failed(err))?;
        Ok(NoContent::Done)
    }
}

impl SessionsApi {
    /// Counts a failed Redis command and answers 503.
    fn redis_failed(&self, err: StoreError) -> ApiError {
        self.state.cache.redis_failed(&err);
        err.into()
    }
}
