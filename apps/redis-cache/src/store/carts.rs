//! Carts: `<prefix>cart:<token>` holds a session's cart (JSON), with the session's
//! idle lifetime; reading or writing it needs the session and refreshes both.

use std::time::Duration;

use super::{Store, StoreError};

/// Whole seconds of `ttl`, at least 1 (Redis' `EX` unit).
fn seconds(ttl: Duration) -> u64 {
    ttl.as_secs().max(1)
}

impl Store {
    fn cart_key(&self, token: &str) -> String {
        self.key(&format!("cart:{token}"))
    }

    /// Whether the session exists, its lifetime refreshed to `ttl` (`GETEX ... EX`).
    async fn session_alive(&self, token: &str, ttl: Duration) -> Result<bool, StoreError> {
        Ok(self.touch_session(token, ttl).await?.is_some())
    }

    /// `SET ... EX`: stores the session's cart; false when there is no such session.
    pub async fn put_cart(
        &self,
        token: &str,
        cart: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        if !self.session_alive(token, ttl).await? {
            return Ok(false);
        }
        redis::cmd("SET")
            .arg(self.cart_key(token))
            .arg(cart)
            .arg("EX")
            .arg(seconds(ttl))
            .query_async::<()>(&mut self.connections.get())
            .await?;
        Ok(true)
    }

    /// `GETEX ... EX`: the session's cart (`Some(None)` when it has none yet), its
    /// lifetime refreshed; `None` when there is no such session.
    pub async fn cart(
        &self,
        token: &str,
        ttl: Duration,
    ) -> Result<Option<Option<String>>, StoreError> {
        if !self.session_alive(token, ttl).await? {
            return Ok(None);
        }
        let cart: Option<String> = redis::cmd("GETEX")
            .arg(self.cart_key(token))
            .arg("EX")
            .arg(seconds(ttl))
            .query_async(&mut self.connections.get())
            .await?;
        Ok(Some(cart))
    }

    /// `DEL`: drops the session's cart (when its session ends).
    pub async fn delete_cart(&self, token: &str) -> Result<(), StoreError> {
        redis::cmd("DEL")
            .arg(self.cart_key(token))
            .query_async::<u64>(&mut self.connections.get())
            .await?;
        Ok(())
    }
}
