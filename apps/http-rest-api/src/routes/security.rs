//! Bearer authentication for writes: the OpenAPI security scheme, the token check,
//! and the role check (401 for a missing or invalid token, 403 for a weak role).

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::auth::{Auth, Claims, Role};
use crate::error::ApiError;

/// A verified bearer token (JWT from `POST /api/v1/auth/token`).
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "verify")]
pub struct BearerToken(pub Claims);

async fn verify(req: &Request, bearer: Bearer) -> poem::Result<Claims> {
    let auth = req
        .data::<Auth>()
        .ok_or_else(|| poem::Error::from_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR))?;
    auth.verify(&bearer.token)
        .map_err(|err| ApiError::unauthorized(err.to_string()).into())
}

impl BearerToken {
    /// The claims, if the role is at least `needed`; else 403.
    pub fn require(&self, needed: Role, operation: &str) -> Result<&Claims, ApiError> {
        if self.0.role >= needed {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden(format!(
                "{operation} needs role `{}`; `{}` has role `{}`",
                role_name(needed),
                self.0.sub,
                role_name(self.0.role)
            )))
        }
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Reader => "reader",
        Role::Editor => "editor",
        Role::Admin => "admin",
    }
}
