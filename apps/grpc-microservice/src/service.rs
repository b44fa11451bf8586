//! The `inventory.v1.Inventory` RPCs: validation into INVALID_ARGUMENT with field
//! details, store errors into NOT_FOUND / FAILED_PRECONDITION, streams that end
//! cleanly when the server drains, and the `stalled_stream` fault.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{Stream, StreamExt, stream};
use poem_grpc::{Code, Request, Response, Status, Streaming};
use service_kit::faults::Decision;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::details::{DetailsSlot, Violations};
use crate::guard::Deadline;
use crate::proto::{
    Adjustment, BulkAdjustResponse, Failure, GetStockRequest, Inventory, ReleaseRequest,
    ReleaseResponse, Reservation, ReserveOutcome, ReserveRequest, Stock, WatchStockRequest,
    reserve_outcome,
};
use crate::scenarios::STALLED_STREAM;
use crate::settings::InventorySettings;
use crate::store::{Granted, Snapshot, Store, StoreError};

/// Longest SKU accepted.
const MAX_SKU_LEN: usize = 64;
/// Longest reservation id accepted (ours are under 30 bytes): a longer one is refused
/// without being echoed, so a client cannot make the answer's trailer huge.
const MAX_RESERVATION_ID_LEN: usize = 64;

/// The service; cheap to clone.
#[derive(Debug, Clone)]
pub struct InventoryService {
    store: Store,
    settings: InventorySettings,
    stop: CancellationToken,
}

impl InventoryService {
    /// A service over `store`; its streams end when `stop` is cancelled.
    pub fn new(store: Store, settings: InventorySettings, stop: CancellationToken) -> Self {
        Self {
            store,
            settings,
            stop,
        }
    }

    fn check_reserve(&self, req: &ReserveRequest, prefix: &str) -> Result<Duration, Violations> {
        let mut v = Violations::default();
        check_sku(&req.sku, &format!("{prefix}sku"), &mut v);
        if req.quantity < 1 || req.quantity > self.settings.max_quantity {
            v.add(
                format!("{prefix}quantity"),
                format!("must be between 1 and {}", self.settings.max_quantity),
            );
        }
        let ttl = match req.ttl_ms {
            0 => self.settings.default_ttl,
            ms => Duration::from_millis(u64::from(ms)),
        };
        if ttl > self.settings.max_ttl {
            v.add(
                format!("{prefix}ttl_ms"),
                format!("must be at most {}", self.settings.max_ttl.as_millis()),
            );
        }
        if v.is_empty() { Ok(ttl) } else { Err(v) }
    }
}

fn check_sku(sku: &str, field: &str, v: &mut Violations) {
    if sku.trim().is_empty() {
        v.add(field, "must not be empty");
    } else if sku.len() > MAX_SKU_LEN {
        v.add(field, format!("must be at most {MAX_SKU_LEN} bytes"));
    }
}

fn store_status(err: &StoreError) -> Status {
    let code = match err {
        StoreError::UnknownSku(_) | StoreError::UnknownReservation(_) => Code::NotFound,
        StoreError::Insufficient { .. } | StoreError::Underflow { .. } => Code::FailedPrecondition,
    };
    Status::new(code).with_message(err.to_string())
}

fn stock(snapshot: &Snapshot) -> Stock {
    Stock {
        sku: snapshot.sku.clone(),
        on_hand: snapshot.level.on_hand,
        reserved: snapshot.level.reserved,
        available: snapshot.level.available(),
    }
}

fn reservation(granted: Granted) -> Reservation {
    Reservation {
        reservation_id: granted.id,
        sku: granted.sku,
        quantity: granted.quantity,
        expires_at_ms: granted.expires_at_ms,
        available: granted.available,
    }
}

struct CallContext {
    deadline: Option<tokio::time::Instant>,
    stalled: bool,
    slot: Option<DetailsSlot>,
}

fn context<T>(req: &Request<T>) -> CallContext {
    CallContext {
        deadline: req
            .extensions()
            .get::<Deadline>()
            .and_then(|d| d.0)
            .map(tokio::time::Instant::from_std),
        stalled: req
            .extensions()
            .get::<Decision>()
            .is_some_and(|d| d.is_active(STALLED_STREAM)),
        slot: req.extensions().get::<DetailsSlot>().cloned(),
    }
}

/// Waits until the deadline passes (forever without one).
async fn expiry(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn channel_stream<T: Send + 'static>(
    rx: mpsc::Receiver<Result<T, Status>>,
) -> impl Stream<Item = Result<T, Status>> + Send + 'static {
    stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

fn deadline_status() -> Status {
    Status::new(Code::DeadlineExceeded).with_message("deadline exceeded")
}

impl Inventory for InventoryService {
    async fn get_stock(
        &self,
        request: Request<GetStockRequest>,
    ) -> Result<Response<Stock>, Status> {
        let ctx = context(&request);
        let mut v = Violations::default();
        check_sku(&request.sku, "sku", &mut v);
        if !v.is_empty() {
            return Err(v.into_status(ctx.slot.as_ref()));
        }
        let level = self.store.get(&request.sku).map_err(|e| store_status(&e))?;
        Ok(Response::new(stock(&Snapshot {
            sku: request.sku.clone(),
            level,
        })))
    }

    async fn reserve(
        &self,
        request: Request<ReserveRequest>,
    ) -> Result<Response<Reservation>, Status> {
        let ctx = context(&request);
        let ttl = self
            .check_reserve(&request, "")
            .map_err(|v| v.into_status(ctx.slot.as_ref()))?;
        let granted = self
            .store
            .reserve(&request.sku, request.quantity, ttl)
            .map_err(|e| store_status(&e))?;
        Ok(Response::new(reservation(granted)))
    }

    async fn release(
        &self,
        request: Request<ReleaseRequest>,
    ) -> Result<Response<ReleaseResponse>, Status> {
        let ctx = context(&request);
        if request.reservation_id.trim().is_empty() {
            let mut v = Violations::default();
            v.add("reservation_id", "must not be empty");
            return Err(v.into_status(ctx.slot.as_ref()));
        }
        if request.reservation_id.len() > MAX_RESERVATION_ID_LEN {
            let mut v = Violations::default();
            v.add(
                "reservation_id",
                format!("must be at most {MAX_RESERVATION_ID_LEN} bytes"),
            );
            return Err(v.into_status(ctx.slot.as_ref()));
        }
        let snapshot = self
            .store
            .release(&request.reservation_id)
            .map_err(|e| store_status(&e))?;
        Ok(Response::new(ReleaseResponse {
            stock: Some(stock(&snapshot)),
        }))
    }

    async fn watch_stock(
        &self,
        request: Request<WatchStockRequest>,
    ) -> Result<Response<Streaming<Stock>>, Status> {
        let ctx = context(&request);
        let mut v = Violations::default();
        if request.skus.is_empty() || request.skus.len() > self.settings.max_watch_skus {
            v.add(
                "skus",
                format!(
                    "must name between 1 and {} SKUs",
                    self.settings.max_watch_skus
                ),
            );
        }
        for (i, sku) in request.skus.iter().enumerate() {
            check_sku(sku, &format!("skus[{i}]"), &mut v);
        }
        if !v.is_empty() {
            return Err(v.into_status(ctx.slot.as_ref()));
        }
        let mut changes = self.store.subscribe();
        let mut initial = Vec::with_capacity(request.skus.len());
        for sku in &request.skus {
            let level = self.store.get(sku).map_err(|e| store_status(&e))?;
            initial.push(stock(&Snapshot {
                sku: sku.clone(),
                level,
            }));
        }
        let wanted: HashSet<String> = request.skus.iter().cloned().collect();
        let until = match request.watch_ms {
            0 => None,
            ms => Some(tokio::time::Instant::now() + Duration::from_millis(u64::from(ms))),
        };
        let (tx, rx) = mpsc::channel(64);
        let stop = self.stop.clone();
        let store = self.store.clone();
        tokio::spawn(async move {
            let limit = if ctx.stalled { 1 } else { initial.len() };
            for item in initial.into_iter().take(limit) {
                if tx.send(Ok(item)).await.is_err() {
                    return;
                }
            }
            if ctx.stalled {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = tx.closed() => {}
                    () = expiry(ctx.deadline) => { let _ = tx.send(Err(deadline_status())).await; }
                }
                return;
            }
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tx.closed() => return,
                    () = expiry(until) => return,
                    () = expiry(ctx.deadline) => {
                        let _ = tx.send(Err(deadline_status())).await;
                        return;
                    }
                    change = changes.recv() => match change {
                        Ok(snapshot) if wanted.contains(&snapshot.sku) => {
                            if tx.send(Ok(stock(&snapshot))).await.is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            // Too slow a reader: send the current levels again.
                            for sku in &wanted {
                                if let Ok(level) = store.get(sku) {
                                    let item = stock(&Snapshot { sku: sku.clone(), level });
                                    if tx.send(Ok(item)).await.is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                }
            }
        });
        Ok(Response::new(Streaming::new(channel_stream(rx))))
    }

    async fn bulk_adjust(
        &self,
        request: Request<Streaming<Adjustment>>,
    ) -> Result<Response<BulkAdjustResponse>, Status> {
        let ctx = context(&request);
        let mut input = request.into_inner();
        let mut adjustments = Vec::new();
        let mut v = Violations::default();
        while let Some(item) = input.next().await {
            let item = item?;
            let index = adjustments.len();
            if index >= self.settings.max_adjustments {
                v.add(
                    "adjustments",
                    format!("at most {} per stream", self.settings.max_adjustments),
                );
                break;
            }
            check_sku(&item.sku, &format!("adjustments[{index}].sku"), &mut v);
            if item.delta == 0 || item.delta.abs() > self.settings.max_quantity {
                v.add(
                    format!("adjustments[{index}].delta"),
                    format!(
                        "must be non-zero and at most {} either way",
                        self.settings.max_quantity
                    ),
                );
            }
            adjustments.push((item.sku, item.delta));
        }
        if adjustments.is_empty() {
            v.add("adjustments", "the stream carried none");
        }
        if !v.is_empty() {
            return Err(v.into_status(ctx.slot.as_ref()));
        }
        let updated = self
            .store
            .adjust(&adjustments)
            .map_err(|e| store_status(&e))?;
        Ok(Response::new(BulkAdjustResponse {
            adjustments: u32::try_from(adjustments.len()).unwrap_or(u32::MAX),
            stocks: updated.iter().map(stock).collect(),
        }))
    }

    async fn reserve_stream(
        &self,
        request: Request<Streaming<ReserveRequest>>,
    ) -> Result<Response<Streaming<ReserveOutcome>>, Status> {
        let ctx = context(&request);
        let mut input = request.into_inner();
        let (tx, rx) = mpsc::channel(64);
        let this = self.clone();
        tokio::spawn(async move {
            let mut index: u32 = 0;
            loop {
                let next = tokio::select! {
                    () = this.stop.cancelled() => return,
                    () = tx.closed() => return,
                    () = expiry(ctx.deadline) => {
                        let _ = tx.send(Err(deadline_status())).await;
                        return;
                    }
                    next = input.next() => next,
                };
                let req = match next {
                    None => return,
                    Some(Err(status)) => {
                        let _ = tx.send(Err(status)).await;
                        return;
                    }
                    Some(Ok(req)) => req,
                };
                let result = match this.check_reserve(&req, "") {
                    Err(v) => reserve_outcome::Result::Failure(Failure {
                        code: i32::from(Code::InvalidArgument.as_u16()),
                        message: v.message(),
                    }),
                    Ok(ttl) => match this.store.reserve(&req.sku, req.quantity, ttl) {
                        Ok(granted) => reserve_outcome::Result::Reservation(reservation(granted)),
                        Err(err) => {
                            let status = store_status(&err);
                            reserve_outcome::Result::Failure(Failure {
                                code: i32::from(status.code().as_u16()),
                                message: err.to_string(),
                            })
                        }
                    },
                };
                let outcome = ReserveOutcome {
                    index,
                    result: Some(result),
                };
                if tx.send(Ok(outcome)).await.is_err() {
                    return;
                }
                index = index.saturating_add(1);
                if ctx.stalled {
                    tokio::select! {
                        () = this.stop.cancelled() => {}
                        () = tx.closed() => {}
                        () = expiry(ctx.deadline) => { let _ = tx.send(Err(deadline_status())).await; }
                    }
                    return;
                }
            }
        });
        Ok(Response::new(Streaming::new(channel_stream(rx))))
    }
}
