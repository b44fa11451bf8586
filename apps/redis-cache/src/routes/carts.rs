//! `/api/v1/sessions/me/cart`: the logged-in session's cart — put what the shopper
//! picked, read it back (checkout reads it here). It lives as long as the session
//! is used and goes with it on logout.

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use service_kit::problem::status::{
    BAD_REQUEST, PAYLOAD_TOO_LARGE, UNAUTHORIZED, UNAVAILABLE, UNPROCESSABLE,
    UNSUPPORTED_MEDIA_TYPE,
};

use super::sessions::{SessionToken, no_session};
use super::{AppState, Tag};
use crate::cart::{Cart, CartRequest};
use crate::error::{ApiError, Errors};
use crate::store::StoreError;

/// Cart operations.
#[derive(Debug)]
pub struct CartsApi {
    /// Shared state.
    pub state: AppState,
}

/// A stored cart.
#[derive(Debug, ApiResponse)]
pub enum CartStored {
    /// The cart as stored.
    #[oai(status = 200)]
    Ok(Json<Cart>),
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Sessions")]
impl CartsApi {
    /// The session's cart (empty until something is put in it); refreshes the
    /// session's and the cart's lifetime.
    #[oai(path = "/sessions/me/cart", method = "get", operation_id = "getCart")]
    async fn get(
        &self,
        auth: SessionToken,
    ) -> Result<Json<Cart>, Errors<{ UNAUTHORIZED | UNAVAILABLE }>> {
        let ttl = self.state.settings.sessions.ttl;
        let stored = self
            .state
            .store()
            .cart(&auth.0.token, ttl)
            .await
            .map_err(|err| self.redis_failed(err))?
            .ok_or_else(no_session)?;
        Ok(Json(
            stored
                .map(|text| Cart::from_json(&text))
                .unwrap_or_default(),
        ))
    }

    /// Replace the session's cart (an empty one clears it).
    #[oai(path = "/sessions/me/cart", method = "put", operation_id = "putCart")]
    async fn put(
        &self,
        auth: SessionToken,
        body: Json<CartRequest>,
    ) -> Result<
        CartStored,
        Errors<
            {
                BAD_REQUEST
                    | UNAUTHORIZED
                    | PAYLOAD_TOO_LARGE
                    | UNSUPPORTED_MEDIA_TYPE
                    | UNPROCESSABLE
                    | UNAVAILABLE
            },
        >,
    > {
        let cart = body.0.parse().map_err(ApiError::Invalid)?;
        let ttl = self.state.settings.sessions.ttl;
        let stored = self
            .state
            .store()
            .put_cart(&auth.0.token, &cart.to_json(), ttl)
            .await
            .map_err(|err| self.redis_failed(err))?;
        if !stored {
            return Err(no_session().into());
        }
        Ok(CartStored::Ok(Json(cart)))
    }
}

impl CartsApi {
    /// Counts a failed Redis command and answers 503.
    fn redis_failed(&self, err: StoreError) -> ApiError {
        self.state.cache.redis_failed(&err);
        err.into()
    }
}
