//! The bounded in-memory product store: a fixed capacity of products and of image
//! bytes, so memory never grows without bound. Only this module holds state.
//!
//! Products are held as `Arc<Product>`: a read hands out the product the store holds
//! (one reference count, no copy of its strings), and a write replaces it, copying
//! only while a read still holds the old one.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use crate::domain::{Filter, NewProduct, Product};

/// Why a store operation did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No product with that id.
    #[error("no product with id {0}")]
    NotFound(u64),
    /// Another product has that SKU.
    #[error("SKU `{0}` is already used by product {1}")]
    DuplicateSku(String, u64),
    /// The caller's `If-Match` names a version that is no longer current.
    #[error("product {id} is at version {current}; the request was based on another")]
    VersionMismatch {
        /// The product.
        id: u64,
        /// Its current ETag.
        current: String,
    },
    /// The store holds its maximum number of products.
    #[error("the catalog holds its maximum of {0} products")]
    Full(usize),
    /// The images would exceed their byte budget.
    #[error("the image store holds {used} of {budget} bytes; this image needs {needed}")]
    ImagesFull {
        /// Bytes held now.
        used: usize,
        /// Bytes allowed.
        budget: usize,
        /// Bytes the new image takes.
        needed: usize,
    },
}

/// An uploaded image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Its content type, from the allow-list.
    pub content_type: String,
    /// Its bytes.
    pub data: Bytes,
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The products, by ascending id.
    pub items: Vec<Arc<Product>>,
    /// The id to continue after, if more products match.
    pub next_after: Option<u64>,
}

/// The store. Cheap to clone; clones share the data.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<RwLock<Inner>>,
    capacity: usize,
    image_budget: usize,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    products: BTreeMap<u64, Arc<Product>>,
    skus: HashMap<String, u64>,
    images: HashMap<u64, Image>,
    image_bytes: usize,
}

impl Store {
    /// An empty store holding at most `capacity` products and `image_budget` image bytes.
    pub fn new(capacity: usize, image_budget: usize) -> Self {
        Self {
            inner: Arc::new(RwLock::new(Inner {
                next_id: 1,
                ..Inner::default()
            })),
            capacity,
            image_budget,
        }
    }

    /// The number of products held.
    pub fn len(&self) -> usize {
        self.read().products.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Products matching `filter` with ids above `after`, at most `limit` of them.
    pub fn list(&self, filter: &Filter, after: Option<u64>, limit: usize) -> Page {
        let inner = self.read();
        let start = after.map_or(0, |id| id.saturating_add(1));
        let mut matching = inner
            .products
            .range(start..)
            .map(|(_, product)| product)
            .filter(|product| filter.matches(product));
        let items: Vec<Arc<Product>> = matching.by_ref().take(limit).cloned().collect();
        let more = matching.next().is_some();
        let next_after = if more {
            items.last().map(|p| p.id)
        } else {
            None
        };
        Page { items, next_after }
    }

    /// Every product (for the inventory report).
    pub fn snapshot(&self) -> Vec<Arc<Product>> {
        self.read().products.values().cloned().collect()
    }

    /// One product.
    pub fn get(&self, id: u64) -> Result<Arc<Product>, StoreError> {
        self.read()
            .products
            .get(&id)
            .cloned()
            .ok_or(StoreError::NotFound(id))
    }

    /// Adds a product, if there is room and its SKU is free.
    pub fn create(&self, fields: NewProduct) -> Result<Arc<Product>, StoreError> {
        let mut inner = self.write();
        if inner.products.len() >= self.capacity {
            return Err(StoreError::Full(self.capacity));
        }
        if let Some(&other) = inner.skus.get(fields.sku.as_str()) {
            return Err(StoreError::DuplicateSku(
                fields.sku.as_str().to_owned(),
                other,
            ));
        }
        let id = inner.next_id;
        inner.next_id += 1;
        inner.skus.insert(fields.sku.as_str().to_owned(), id);
        let product = Arc::new(Product {
            id,
            version: 1,
            fields,
            image_type: None,
        });
        inner.products.insert(id, Arc::clone(&product));
        Ok(product)
    }

    /// Replaces a product's fields; with `if_match`, only if that is its current ETag.
    pub fn update(
        &self,
        id: u64,
        fields: NewProduct,
        if_match: Option<&str>,
    ) -> Result<Arc<Product>, StoreError> {
        let mut inner = self.write();
        let current = inner.products.get(&id).ok_or(StoreError::NotFound(id))?;
        check_precondition(current, if_match)?;
        let sku = fields.sku.as_str().to_owned();
        if let Some(&other) = inner.skus.get(&sku)
            && other != id
        {
            return Err(StoreError::DuplicateSku(sku, other));
        }
        let old_sku = current.fields.sku.as_str().to_owned();
        inner.skus.remove(&old_sku);
        inner.skus.insert(sku, id);
        let product = inner
            .products
            .get_mut(&id)
            .ok_or(StoreError::NotFound(id))?;
        let changed = Arc::make_mut(product);
        changed.fields = fields;
        changed.version += 1;
        Ok(Arc::clone(product))
    }

    /// Removes a product and its image; with `if_match`, only if that is its current ETag.
    pub fn delete(&self, id: u64, if_match: Option<&str>) -> Result<(), StoreError> {
        let mut inner = self.write();
        let current = inner.products.get(&id).ok_or(StoreError::NotFound(id))?;
        check_precondition(current, if_match)?;
        let sku = current.fields.sku.as_str().to_owned();
        inner.products.remove(&id);
        inner.skus.remove(&sku);
        if let Some(image) = inner.images.remove(&id) {
            inner.image_bytes -= image.data.len();
        }
        Ok(())
    }

    /// Sets a product's image, replacing the previous one, within the byte budget.
    pub fn put_image(&self, id: u64, image: Image) -> Result<Arc<Product>, StoreError> {
        let mut inner = self.write();
        if !inner.products.contains_key(&id) {
            return Err(StoreError::NotFound(id));
        }
        let replaced = inner.images.get(&id).map_or(0, |old| old.data.len());
        let used = inner.image_bytes - replaced;
        let needed = image.data.len();
        if used + needed > self.image_budget {
            return Err(StoreError::ImagesFull {
                used,
                budget: self.image_budget,
                needed,
            });
        }
        inner.image_bytes = used + needed;
        let content_type = image.content_type.clone();
        inner.images.insert(id, image);
        let product = inner
            .products
            .get_mut(&id)
            .ok_or(StoreError::NotFound(id))?;
        let changed = Arc::make_mut(product);
        changed.image_type = Some(content_type);
        changed.version += 1;
        Ok(Arc::clone(product))
    }

    /// A product's image, if it has one.
    pub fn image(&self, id: u64) -> Result<Option<Image>, StoreError> {
        let inner = self.read();
        if !inner.products.contains_key(&id) {
            return Err(StoreError::NotFound(id));
        }
        Ok(inner.images.get(&id).cloned())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        // Every write replaces whole entries, so a poisoned lock is still consistent.
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// `If-Match: *` or a list of ETags; a weak `W/` prefix is ignored.
fn check_precondition(product: &Product, if_match: Option<&str>) -> Result<(), StoreError> {
    let Some(header) = if_match else {
        return Ok(());
    };
    let current = product.etag();
    let matches = header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == current);
    if matches {
        Ok(())
    } else {
        Err(StoreError::VersionMismatch {
            id: product.id,
            current,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Category, Description, PriceCents, ProductName, Sku, Stock};

    fn product(sku: &str, category: &str, price: i64) -> NewProduct {
        NewProduct {
            sku: Sku::parse(sku).unwrap(),
            name: ProductName::parse("Thing").unwrap(),
            description: Description::default(),
            category: Category::parse(category).unwrap(),
            price_cents: PriceCents::parse(price).unwrap(),
            stock: Stock::parse(1).unwrap(),
        }
    }

    #[test]
    fn a_full_store_refuses_new_products() {
        let store = Store::new(1, 0);
        store.create(product("AAA", "a", 1)).unwrap();
        assert_eq!(
            store.create(product("BBB", "a", 1)),
            Err(StoreError::Full(1))
        );
    }

    #[test]
    fn skus_are_unique() {
        let store = Store::new(10, 0);
        store.create(product("AAA", "a", 1)).unwrap();
        assert!(matches!(
            store.create(product("AAA", "b", 2)),
            Err(StoreError::DuplicateSku(_, 1))
        ));
    }

    #[test]
    fn pages_follow_the_cursor_and_filters() {
        let store = Store::new(10, 0);
        for (i, category) in ["a", "b", "a", "a", "b"].iter().enumerate() {
            store
                .create(product(&format!("SKU{i}"), category, 100))
                .unwrap();
        }
        let filter = Filter {
            category: Some("a".into()),
            ..Filter::default()
        };
        let first = store.list(&filter, None, 2);
        assert_eq!(first.items.iter().map(|p| p.id).collect::<Vec<_>>(), [1, 3]);
        let second = store.list(&filter, first.next_after, 2);
        assert_eq!(second.items.iter().map(|p| p.id).collect::<Vec<_>>(), [4]);
        assert_eq!(second.next_after, None);
    }

    #[test]
    fn a_stale_etag_is_refused_and_the_current_one_accepted() {
        let store = Store::new(10, 0);
        let created = store.create(product("AAA", "a", 1)).unwrap();
        let updated = store
            .update(1, product("AAA", "a", 2), Some(&created.etag()))
            .unwrap();
        assert!(matches!(
            store.update(1, product("AAA", "a", 3), Some(&created.etag())),
            Err(StoreError::VersionMismatch { .. })
        ));
        assert!(store.delete(1, Some(&updated.etag())).is_ok());
        assert_eq!(store.get(1), Err(StoreError::NotFound(1)));
    }

    #[test]
    fn images_stay_within_their_byte_budget() {
        let store = Store::new(10, 10);
        store.create(product("AAA", "a", 1)).unwrap();
        let image = |n: usize| Image {
            content_type: "image/png".into(),
            data: Bytes::from(vec![0; n]),
        };
        store.put_image(1, image(8)).unwrap();
        // Replacing counts only the new image.
        store.put_image(1, image(10)).unwrap();
        assert!(matches!(
            store.put_image(1, image(11)),
            Err(StoreError::ImagesFull { .. })
        ));
        store.delete(1, None).unwrap();
        store.create(product("BBB", "a", 1)).unwrap();
        store.put_image(2, image(10)).unwrap();
    }
}
