//! Sessions: `<prefix>session:<token>` holds the user name, with an idle lifetime that
//! every use refreshes.

use std::time::Duration;

use super::{Store, StoreError};

/// Whole seconds of `ttl`, at least 1 (Redis' `EX` unit).
fn seconds(ttl: Duration) -> u64 {
    ttl.as_secs().max(1)
}

impl Store {
    fn session_key(&self, token: &str) -> String {
        self.key(&format!("session:{token}"))
    }

    /// `SET ... EX`: stores a session of `username` under `token` for `ttl`.
    pub async fn create_session(
        &self,
        token: &str,
        username: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        redis::cmd("SET")
            .arg(self.session_key(token))
            .arg(username)
            .arg("EX")
            .arg(seconds(ttl))
            .query_async::<()>(&mut self.connections.get())
            .await?;
        Ok(())
    }

    /// `GETEX ... EX`: the session's user name, its lifetime refreshed to `ttl`; `None`
    /// when there is no such session (expired or logged out).
    pub async fn touch_session(
        &self,
        token: &str,
        ttl: Duration,
    ) -> Result<Option<String>, StoreError> {
        Ok(redis::cmd("GETEX")
            .arg(self.session_key(token))
            .arg("EX")
            .arg(seconds(ttl))
            .query_async(&mut self.connections.get())
            .await?)
    }

    /// `DEL`: ends the session; whether there was one.
    pub async fn delete_session(&self, token: &str) -> Result<bool, StoreError> {
        let removed: u64 = redis::cmd("DEL")
            .arg(self.session_key(token))
            .query_async(&mut self.connections.get())
            .await?;
        Ok(removed > 0)
    }
}
