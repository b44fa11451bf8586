//! `/api/v1/orders`: place an order (transactional, idempotent with
//! `Idempotency-Key`), read one, list them with their items.

use poem::Request;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use service_kit::faults::middleware::is_active;
use service_kit::input::{Field, Id, ListOf};

use super::products::page_end;
use super::{AppState, CreateErrors, GetErrors, ListErrors, Tag, cursor};
use crate::domain::order::{LineInput, MAX_ITEMS, OrderInput, QuantityField, RefField};
use crate::error::ApiError;
use crate::model::Order;
use crate::scenarios::N_PLUS_ONE;
use crate::store::orders::{self, Filter, Idempotency, Placed};
use service_kit::problem::FieldProblem;

/// Order operations.
#[derive(Debug)]
pub struct OrdersApi {
    /// Shared state.
    pub state: AppState,
}

/// One line of an order to place.
#[derive(Debug, Object)]
pub struct OrderLineRequest {
    /// The product.
    pub product_id: Field<RefField>,
    /// Units.
    pub quantity: Field<QuantityField>,
}

/// An order to place.
#[derive(Debug, Object)]
pub struct OrderRequest {
    /// Who orders (an existing customer).
    pub customer_id: Field<RefField>,
    /// 1 to `orders.max_items` lines; lines naming the same product are added up.
    pub items: Field<ListOf<OrderLineRequest, 1, { MAX_ITEMS as usize }>>,
}

impl OrderRequest {
    /// The order, or every field at fault; `max_items` is `orders.max_items`.
    fn parse(self, max_items: usize) -> Result<OrderInput, ApiError> {
        let mut problems = Vec::new();
        let customer = self.customer_id.check("customer_id", &mut problems);
        let items = self.items.check("items", &mut problems).unwrap_or_default();
        if items.len() > max_items {
            problems.push(FieldProblem::new(
                "items",
                format!("must hold at most {max_items} lines (orders.max_items)"),
            ));
        }
        let lines: Vec<Option<LineInput>> = items
            .into_iter()
            .enumerate()
            .map(|(i, line)| {
                let product = line
                    .product_id
                    .check(&format!("items[{i}].product_id"), &mut problems);
                let quantity = line
                    .quantity
                    .check(&format!("items[{i}].quantity"), &mut problems);
                Some(LineInput {
                    product_id: product?,
                    quantity: i32::try_from(quantity?).ok()?,
                })
            })
            .collect();
        match customer {
            Some(customer) if problems.is_empty() => Ok(OrderInput::new(
                customer,
                &lines.into_iter().flatten().collect::<Vec<_>>(),
            )),
            _ => Err(ApiError::Invalid(problems)),
        }
    }
}

/// A page of orders, newest first.
#[derive(Debug, Object)]
pub struct OrderPage {
    /// Orders with their items.
    pub items: Vec<Order>,
    /// Pass as `after` for the next page; `null` on the last page.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// A placed order.
#[derive(Debug, ApiResponse)]
pub enum OrderPlaced {
    /// Placed; with `Idempotent-Replayed: true` when this is the stored answer to an
    /// earlier request with the same `Idempotency-Key`.
    #[oai(status = 201)]
    Created(
        Json<Order>,
        #[oai(header = "Location")] String,
        #[oai(header = "Idempotent-Replayed")] Option<String>,
    ),
}

/// Longest `Idempotency-Key`.
const MAX_KEY_LENGTH: usize = 200;

fn idempotency_key(key: Option<&str>) -> Result<Option<&str>, ApiError> {
    match key {
        None => Ok(None),
        Some(key)
            if !key.is_empty()
                && key.len() <= MAX_KEY_LENGTH
                && key.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(Some(key))
        }
        Some(_) => Err(ApiError::BadRequest {
            slug: "invalid-idempotency-key",
            detail: format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
            ),
        }),
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Orders")]
impl OrdersApi {
    /// Place an order: stock is taken and the order written in one transaction, or
    /// nothing happens. A retry with the same `Idempotency-Key` and body gets the
    /// first answer again instead of a second order.
    #[oai(path = "/orders", method = "post", operation_id = "placeOrder")]
    async fn place(
        &self,
        req: &Request,
        body: Json<OrderRequest>,
        /// Makes retries safe: 1–200 visible ASCII characters, unique per order.
        #[oai(
            name = "Idempotency-Key",
            validator(max_length = 200, pattern = "^[!-~]+$")
        )]
        key: Header<Option<String>>,
    ) -> Result<OrderPlaced, CreateErrors> {
        let key = idempotency_key(key.0.as_deref())?;
        let max_items = usize::try_from(self.state.settings.orders.max_items).unwrap_or(usize::MAX);
        let input = body.0.parse(max_items)?;
        let idempotency = key.map(|key| Idempotency {
            key,
            request: serde_json::json!({
                "customer_id": input.customer_id,
                "items": input.lines.iter().map(|l| serde_json::json!([l.product_id, l.quantity])).collect::<Vec<_>>(),
            }),
        });
        self.state.prelude(req).await?;
        let (order, replayed) = match orders::place(&self.state.pool, &input, idempotency).await? {
            Placed::Created(order) => (order, None),
            Placed::Replayed(order) => (order, Some("true".to_owned())),
        };
        let location = format!("/api/v1/orders/{}", order.id);
        Ok(OrderPlaced::Created(Json(order), location, replayed))
    }

    /// Get an order with its items.
    #[oai(path = "/orders/:id", method = "get", operation_id = "getOrder")]
    async fn get(&self, req: &Request, id: Path<Id>) -> Result<Json<Order>, GetErrors> {
        self.state.prelude(req).await?;
        Ok(Json(orders::get(&self.state.pool, id.0.get()).await?))
    }

    /// List orders with their items, newest first, a page at a time. The
    /// `n_plus_one` fault loads each order's items with its own query.
    #[oai(path = "/orders", method = "get", operation_id = "listOrders")]
    async fn list(
        &self,
        req: &Request,
        /// Page size (default 20; more than `orders.max_page_size` is that many).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(pattern = "^[1-9][0-9]{0,17}$"))]
        after: Query<Option<String>>,
        /// Only this customer's orders.
        customer_id: Query<Option<Id>>,
    ) -> Result<Json<OrderPage>, ListErrors> {
        let limit = self.state.limit(limit.0);
        let filter = Filter {
            before: cursor(after.0.as_deref())?,
            customer_id: customer_id.0.map(Id::get),
            limit: limit + 1,
        };
        self.state.prelude(req).await?;
        let mut items = if is_active(req, N_PLUS_ONE) {
            orders::list_n_plus_one(&self.state.pool, filter).await?
        } else {
            orders::list(&self.state.pool, filter).await?
        };
        let next_cursor = page_end(&mut items, limit, |o| o.id);
        Ok(Json(OrderPage { items, next_cursor }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_bounded_visible_ascii() {
        assert_eq!(idempotency_key(None).unwrap(), None);
        assert_eq!(idempotency_key(Some("k-1")).unwrap(), Some("k-1"));
        for bad in ["", "a b", "é", &"k".repeat(201)] {
            assert!(idempotency_key(Some(bad)).is_err(), "{bad}");
        }
    }
}
