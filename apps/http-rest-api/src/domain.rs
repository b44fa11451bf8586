//! The catalog's domain types: validated newtypes for every product field, and
//! the product as stored. Parsing never panics; each error names its field.

/// Stock keeping unit: 3 to 32 of `A-Z`, `0-9` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sku(String);

impl Sku {
    /// Validates a SKU.
    pub fn parse(value: &str) -> Result<Self, String> {
        let ok_char = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-';
        if !(3..=32).contains(&value.len()) {
            return Err("must be 3 to 32 characters long".into());
        }
        if !value.chars().all(ok_char) {
            return Err("may only contain A-Z, 0-9 and `-`".into());
        }
        Ok(Self(value.to_owned()))
    }

    /// The SKU as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A product name: 1 to 200 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName(String);

impl ProductName {
    /// Validates a name.
    pub fn parse(value: &str) -> Result<Self, String> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".into());
        }
        if trimmed.chars().count() > 200 {
            return Err("must be at most 200 characters long".into());
        }
        if trimmed.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A free-text description: at most 2000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description(String);

impl Description {
    /// Validates a description.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.chars().count() > 2000 {
            return Err("must be at most 2000 characters long".into());
        }
        Ok(Self(value.to_owned()))
    }

    /// The description as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A category slug: 1 to 50 of `a-z`, `0-9` and `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category(String);

impl Category {
    /// Validates a category.
    pub fn parse(value: &str) -> Result<Self, String> {
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !(1..=50).contains(&value.len()) {
            return Err("must be 1 to 50 characters long".into());
        }
        if !value.chars().all(ok_char) {
            return Err("may only contain a-z, 0-9 and `-`".into());
        }
        Ok(Self(value.to_owned()))
    }

    /// The category as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Largest price accepted, in cents (one million).
pub const MAX_PRICE_CENTS: i64 = 100_000_000;
/// Largest stock count accepted.
pub const MAX_STOCK: i64 = 1_000_000;

/// A price in cents, 0 to [`MAX_PRICE_CENTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PriceCents(i64);

impl PriceCents {
    /// Validates a price.
    pub fn parse(value: i64) -> Result<Self, String> {
        if (0..=MAX_PRICE_CENTS).contains(&value) {
            Ok(Self(value))
        } else {
            Err(format!("must be between 0 and {MAX_PRICE_CENTS}"))
        }
    }

    /// The price in cents.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// Units in stock, 0 to [`MAX_STOCK`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock(i64);

impl Stock {
    /// Validates a stock count.
    pub fn parse(value: i64) -> Result<Self, String> {
        if (0..=MAX_STOCK).contains(&value) {
            Ok(Self(value))
        } else {
            Err(format!("must be between 0 and {MAX_STOCK}"))
        }
    }

    /// The count.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// What a client sends to create or replace a product, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    /// Unique across the catalog.
    pub sku: Sku,
    /// Display name.
    pub name: ProductName,
    /// Optional long text.
    pub description: Description,
    /// Category slug, used for filtering.
    pub category: Category,
    /// Price in cents.
    pub price_cents: PriceCents,
    /// Units in stock.
    pub stock: Stock,
}

/// A product as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Assigned by the store, never reused.
    pub id: u64,
    /// Incremented on every change; the `ETag`.
    pub version: u64,
    /// The product's fields.
    pub fields: NewProduct,
    /// Content type of the image, if one was uploaded.
    pub image_type: Option<String>,
}

impl Product {
    /// The entity tag of this version, quoted as HTTP wants it.
    pub fn etag(&self) -> String {
        format!("\"{}-{}\"", self.id, self.version)
    }
}

/// Criteria of a list request; every one optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Exact category.
    pub category: Option<String>,
    /// Lowest price, inclusive.
    pub min_price: Option<i64>,
    /// Highest price, inclusive.
    pub max_price: Option<i64>,
    /// Case-insensitive substring of the name.
    pub query: Option<String>,
    /// Only products with stock > 0.
    pub in_stock: Option<bool>,
    /// Exact SKUs; empty means any.
    pub skus: Vec<String>,
}

impl Filter {
    /// Whether `product` passes every criterion.
    pub fn matches(&self, product: &Product) -> bool {
        let f = &product.fields;
        self.category
            .as_deref()
            .is_none_or(|c| f.category.as_str() == c)
            && self.min_price.is_none_or(|p| f.price_cents.get() >= p)
            && self.max_price.is_none_or(|p| f.price_cents.get() <= p)
            && self
                .query
                .as_deref()
                .is_none_or(|q| f.name.as_str().to_lowercase().contains(&q.to_lowercase()))
            && self
                .in_stock
                .is_none_or(|wanted| (f.stock.get() > 0) == wanted)
            && (self.skus.is_empty() || self.skus.iter().any(|sku| sku == f.sku.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_uppercase_codes() {
        assert!(Sku::parse("ABC-123").is_ok());
        assert!(Sku::parse("ab").is_err());
        assert!(Sku::parse("abc-123").is_err());
        assert!(Sku::parse(&"A".repeat(33)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(ProductName::parse("  Mug ").unwrap().as_str(), "Mug");
        assert!(ProductName::parse("   ").is_err());
        assert!(ProductName::parse(&"x".repeat(201)).is_err());
        assert!(ProductName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn categories_are_slugs() {
        assert!(Category::parse("kitchen-ware").is_ok());
        assert!(Category::parse("Kitchen").is_err());
        assert!(Category::parse("").is_err());
    }

    #[test]
    fn numbers_are_range_checked() {
        assert!(PriceCents::parse(0).is_ok());
        assert!(PriceCents::parse(-1).is_err());
        assert!(PriceCents::parse(MAX_PRICE_CENTS + 1).is_err());
        assert!(Stock::parse(MAX_STOCK).is_ok());
        assert!(Stock::parse(-5).is_err());
        assert!(Description::parse(&"d".repeat(2001)).is_err());
    }
}
