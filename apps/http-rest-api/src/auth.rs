//! Tokens: the demo users who may get one, and issuing and checking short-lived
//! HS256 JWTs. Reads are public; writes need a token whose role allows them.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::settings::{AuthSettings, DemoUser};

/// What a token allows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, poem_openapi::Enum,
)]
#[serde(rename_all = "lowercase")]
#[oai(rename_all = "lowercase")]
pub enum Role {
    /// Reads only (reads need no token anyway).
    Reader,
    /// Creates, updates and uploads images.
    Editor,
    /// Everything an editor does, and deletes.
    Admin,
}

/// The claims of our tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user name.
    pub sub: String,
    /// The user's role.
    pub role: Role,
    /// Issuer, checked.
    pub iss: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expiry, seconds since the epoch, checked.
    pub exp: u64,
    /// Unique token id: no two tokens are alike (the rate limiter keys on tokens).
    pub jti: String,
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The role it carries.
    pub role: Role,
}

/// Why a token was not issued or not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Unknown user or wrong password (deliberately not saying which).
    #[error("unknown user or wrong password")]
    BadCredentials,
    /// The token is malformed, badly signed, expired or from another issuer.
    #[error("the bearer token is not valid: {0}")]
    InvalidToken(String),
}

/// Issues and checks tokens. Cheap to clone: one reference count (it travels in
/// every request's data; a clone of the keys, the validation's sets and the users
/// was a dozen allocations per request).
#[derive(Clone)]
pub struct Auth {
    keys: Arc<Keys>,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    ttl: Duration,
    users: Vec<DemoUser>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("issuer", &self.keys.issuer)
            .field("ttl", &self.keys.ttl)
            .field("users", &self.keys.users.len())
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// Keys from `auth.jwt_secret`, or a random secret when it is empty.
    pub fn new(settings: &AuthSettings) -> Self {
        let configured = settings.jwt_secret.expose_secret();
        let secret: SecretString = if configured.is_empty() {
            tracing::warn!(
                "auth.jwt_secret is empty: signing with a random per-process secret; tokens die with the process"
            );
            let random: String = std::iter::repeat_with(fastrand::alphanumeric)
                .take(48)
                .collect();
            random.into()
        } else {
            configured.into()
        };
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        Self {
            keys: Arc::new(Keys {
                encoding: EncodingKey::from_secret(bytes),
                decoding: DecodingKey::from_secret(bytes),
                validation,
                issuer: settings.issuer.clone(),
                ttl: settings.token_ttl,
                users: settings.users.clone(),
            }),
        }
    }

    /// A token for a configured user whose password matches.
    pub fn issue(&self, username: &str, password: &str) -> Result<IssuedToken, AuthError> {
        let keys = &*self.keys;
        let user = keys
            .users
            .iter()
            .find(|user| {
                constant_time_eq(user.username.as_bytes(), username.as_bytes())
                    & constant_time_eq(
                        user.password.expose_secret().as_bytes(),
                        password.as_bytes(),
                    )
            })
            .ok_or(AuthError::BadCredentials)?;
        let now = now_secs();
        let claims = Claims {
            sub: user.username.clone(),
            role: user.role,
            iss: keys.issuer.clone(),
            iat: now,
            exp: now + keys.ttl.as_secs(),
            jti: format!("{:016x}", fastrand::u64(..)),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding)
            .map_err(|err| AuthError::InvalidToken(err.to_string()))?;
        Ok(IssuedToken {
            token,
            expires_in: keys.ttl.as_secs(),
            role: user.role,
        })
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token, &self.keys.decoding, &self.keys.validation)
            .map(|data| data.claims)
            .map_err(|err| AuthError::InvalidToken(err.to_string()))
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Compares without an early exit, so timing does not leak how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(secret: &str, ttl: Duration) -> AuthSettings {
        AuthSettings {
            jwt_secret: secret.into(),
            token_ttl: ttl,
            issuer: "test".into(),
            users: vec![DemoUser {
                username: "ed".into(),
                password: "pw".into(),
                role: Role::Editor,
            }],
        }
    }

    /// Every request carries a clone (the routes' data): it must share the keys.
    #[test]
    fn a_clone_shares_the_keys() {
        let auth = Auth::new(&settings("s3cret", Duration::from_secs(60)));
        assert!(Arc::ptr_eq(&auth.keys, &auth.clone().keys));
    }

    #[test]
    fn an_issued_token_verifies_with_its_role() {
        let auth = Auth::new(&settings("s3cret", Duration::from_secs(60)));
        let issued = auth.issue("ed", "pw").unwrap();
        let claims = auth.verify(&issued.token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.role), ("ed", Role::Editor));
    }

    #[test]
    fn wrong_credentials_get_no_token() {
        let auth = Auth::new(&settings("s3cret", Duration::from_secs(60)));
        assert_eq!(
            auth.issue("ed", "nope").unwrap_err(),
            AuthError::BadCredentials
        );
        assert_eq!(
            auth.issue("al", "pw").unwrap_err(),
            AuthError::BadCredentials
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_or_expired_is_refused() {
        let ours = Auth::new(&settings("one", Duration::from_secs(60)));
        let theirs = Auth::new(&settings("two", Duration::from_secs(60)));
        let token = theirs.issue("ed", "pw").unwrap().token;
        assert!(ours.verify(&token).is_err());
        let expired = Auth::new(&settings("one", Duration::ZERO));
        let token = expired.issue("ed", "pw").unwrap().token;
        std::thread::sleep(Duration::from_millis(1100));
        assert!(ours.verify(&token).is_err());
        assert!(ours.verify("not.a.jwt").is_err());
    }

    #[test]
    fn no_two_tokens_are_alike() {
        let auth = Auth::new(&settings("s3cret", Duration::from_secs(60)));
        assert_ne!(
            auth.issue("ed", "pw").unwrap().token,
            auth.issue("ed", "pw").unwrap().token
        );
    }

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Admin > Role::Editor && Role::Editor > Role::Reader);
    }
}
