//! Cached product entries: `<prefix>product:<id>`, a JSON text (the cache's own
//! format, `cache::Entry`) with a lifetime in milliseconds.

use std::time::Duration;

use super::{Store, StoreError};

impl Store {
    /// The key of product `id`.
    pub fn product_key(&self, id: i64) -> String {
        self.key(&format!("product:{id}"))
    }

    /// `GET`: the entry of product `id`, if cached.
    pub async fn cached_product(&self, id: i64) -> Result<Option<String>, StoreError> {
        Ok(redis::cmd("GET")
            .arg(self.product_key(id))
            .query_async(&mut self.connections.get())
            .await?)
    }

    /// `SET ... PX`: caches `entry` for product `id` for `keep` (at least 1 ms).
    pub async fn cache_product(
        &self,
        id: i64,
        entry: &str,
        keep: Duration,
    ) -> Result<(), StoreError> {
        let millis = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX).max(1);
        redis::cmd("SET")
            .arg(self.product_key(id))
            .arg(entry)
            .arg("PX")
            .arg(millis)
            .query_async::<()>(&mut self.connections.get())
            .await?;
        Ok(())
    }

    /// `DEL`: drops product `id`'s entry; whether there was one.
    pub async fn forget_product(&self, id: i64) -> Result<bool, StoreError> {
        let removed: u64 = redis::cmd("DEL")
            .arg(self.product_key(id))
            .query_async(&mut self.connections.get())
            .await?;
        Ok(removed > 0)
    }
}
