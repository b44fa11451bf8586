//! The in-memory inventory: stock per SKU and reservations with expiry, behind one
//! lock so concurrent reservations never oversell, with a broadcast of every change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast;

/// One SKU's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// Units physically held.
    pub on_hand: i32,
    /// Units held by live reservations.
    pub reserved: i32,
}

impl Level {
    /// Units a new reservation may take.
    pub fn available(&self) -> i32 {
        self.on_hand - self.reserved
    }
}

/// A stock level of a named SKU (what changes broadcast).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The SKU.
    pub sku: String,
    /// Its counts.
    pub level: Level,
}

/// A granted reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    /// Its id.
    pub id: String,
    /// The SKU.
    pub sku: String,
    /// Units held.
    pub quantity: i32,
    /// Unix milliseconds when it expires.
    pub expires_at_ms: i64,
    /// Units of the SKU still available.
    pub available: i32,
}

/// Why an inventory operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No such SKU.
    #[error("unknown SKU `{0}`")]
    UnknownSku(String),
    /// No such (live) reservation.
    #[error("unknown or expired reservation `{0}`")]
    UnknownReservation(String),
    /// Fewer units available than asked for.
    #[error("SKU `{sku}` has {available} units available, {requested} requested")]
    Insufficient {
        /// The SKU.
        sku: String,
        /// Units available.
        available: i32,
        /// Units asked for.
        requested: i32,
    },
    /// An adjustment would leave fewer units on hand than reserved (or overflow).
    #[error(
        "adjusting SKU `{sku}` by {delta} would leave {on_hand} on hand for {reserved} reserved"
    )]
    Underflow {
        /// The SKU.
        sku: String,
        /// The summed delta.
        delta: i64,
        /// Units on hand before.
        on_hand: i32,
        /// Units reserved.
        reserved: i32,
    },
}

#[derive(Debug)]
struct Held {
    sku: String,
    quantity: i32,
    expires: Instant,
}

#[derive(Debug, Default)]
struct State {
    levels: HashMap<String, Level>,
    reservations: HashMap<String, Held>,
    next_id: u64,
}

/// The inventory, shared by every call.
#[derive(Debug, Clone)]
pub struct Store {
    state: Arc<Mutex<State>>,
    changes: broadcast::Sender<Snapshot>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// An empty inventory.
    pub fn new() -> Self {
        let (changes, _) = broadcast::channel(1024);
        Self {
            state: Arc::new(Mutex::new(State::default())),
            changes,
        }
    }

    /// Creates `SKU-00001` .. `SKU-<count>` with `quantity` units each.
    pub fn seed(&self, count: u32, quantity: i32) {
        let mut state = self.lock();
        for n in 1..=count {
            state.levels.insert(
                sku_name(n),
                Level {
                    on_hand: quantity,
                    reserved: 0,
                },
            );
        }
    }

    /// Sets one SKU's units on hand (tests).
    pub fn put(&self, sku: &str, on_hand: i32) {
        let mut state = self.lock();
        let level = state.levels.entry(sku.to_owned()).or_insert(Level {
            on_hand: 0,
            reserved: 0,
        });
        level.on_hand = on_hand;
        let snapshot = Snapshot {
            sku: sku.to_owned(),
            level: *level,
        };
        drop(state);
        let _ = self.changes.send(snapshot);
    }

    /// Every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Snapshot> {
        self.changes.subscribe()
    }

    /// The counts of `sku`.
    pub fn get(&self, sku: &str) -> Result<Level, StoreError> {
        self.lock()
            .levels
            .get(sku)
            .copied()
            .ok_or_else(|| StoreError::UnknownSku(sku.to_owned()))
    }

    /// Holds `quantity` units of `sku` for `ttl`, or fails without changing anything.
    pub fn reserve(&self, sku: &str, quantity: i32, ttl: Duration) -> Result<Granted, StoreError> {
        self.sweep();
        let mut state = self.lock();
        state.next_id += 1;
        let id = format!("r-{:x}-{:08x}", state.next_id, fastrand::u32(..));
        let level = state
            .levels
            .get_mut(sku)
            .ok_or_else(|| StoreError::UnknownSku(sku.to_owned()))?;
        if level.available() < quantity {
            return Err(StoreError::Insufficient {
                sku: sku.to_owned(),
                available: level.available(),
                requested: quantity,
            });
        }
        level.reserved += quantity;
        let level = *level;
        state.reservations.insert(
            id.clone(),
            Held {
                sku: sku.to_owned(),
                quantity,
                expires: Instant::now() + ttl,
            },
        );
        drop(state);
        let expires_at_ms = SystemTime::now()
            .checked_add(ttl)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let _ = self.changes.send(Snapshot {
            sku: sku.to_owned(),
            level,
        });
        Ok(Granted {
            id,
            sku: sku.to_owned(),
            quantity,
            expires_at_ms,
            available: level.available(),
        })
    }

    /// Gives a live reservation's units back.
    pub fn release(&self, id: &str) -> Result<Snapshot, StoreError> {
        self.sweep();
        let mut state = self.lock();
        let held = state
            .reservations
            .remove(id)
            .ok_or_else(|| StoreError::UnknownReservation(id.to_owned()))?;
        let snapshot = give_back(&mut state, &held);
        drop(state);
        let _ = self.changes.send(snapshot.clone());
        Ok(snapshot)
    }

    /// Applies every `(sku, delta)` at once, or none (an unknown SKU with a positive
    /// sum is created). Returns the new levels of the touched SKUs, sorted by SKU.
    pub fn adjust(&self, adjustments: &[(String, i32)]) -> Result<Vec<Snapshot>, StoreError> {
        let mut sums: HashMap<&str, i64> = HashMap::new();
        for (sku, delta) in adjustments {
            *sums.entry(sku.as_str()).or_default() += i64::from(*delta);
        }
        let mut state = self.lock();
        let mut updates = Vec::with_capacity(sums.len());
        for (sku, delta) in &sums {
            let level = match state.levels.get(*sku) {
                Some(level) => *level,
                None if *delta >= 0 => Level {
                    on_hand: 0,
                    reserved: 0,
                },
                None => return Err(StoreError::UnknownSku((*sku).to_owned())),
            };
            let on_hand = i64::from(level.on_hand) + delta;
            let fits = i32::try_from(on_hand).ok().filter(|n| *n >= level.reserved);
            let Some(on_hand) = fits else {
                return Err(StoreError::Underflow {
                    sku: (*sku).to_owned(),
                    delta: *delta,
                    on_hand: level.on_hand,
                    reserved: level.reserved,
                });
            };
            updates.push(Snapshot {
                sku: (*sku).to_owned(),
                level: Level { on_hand, ..level },
            });
        }
        for update in &updates {
            state.levels.insert(update.sku.clone(), update.level);
        }
        drop(state);
        updates.sort_by(|a, b| a.sku.cmp(&b.sku));
        for update in &updates {
            let _ = self.changes.send(update.clone());
        }
        Ok(updates)
    }

    /// Gives the units of every expired reservation back; returns how many expired.
    pub fn sweep(&self) -> usize {
        let now = Instant::now();
        let mut state = self.lock();
        let expired: Vec<String> = state
            .reservations
            .iter()
            .filter(|(_, held)| held.expires <= now)
            .map(|(id, _)| id.clone())
            .collect();
        let mut snapshots = Vec::with_capacity(expired.len());
        for id in &expired {
            if let Some(held) = state.reservations.remove(id) {
                snapshots.push(give_back(&mut state, &held));
            }
        }
        drop(state);
        for snapshot in snapshots {
            let _ = self.changes.send(snapshot);
        }
        expired.len()
    }

    /// Live reservations.
    pub fn reservations(&self) -> usize {
        self.lock().reservations.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn give_back(state: &mut State, held: &Held) -> Snapshot {
    let level = state.levels.entry(held.sku.clone()).or_insert(Level {
        on_hand: 0,
        reserved: 0,
    });
    level.reserved = (level.reserved - held.quantity).max(0);
    Snapshot {
        sku: held.sku.clone(),
        level: *level,
    }
}

/// The name of the `n`-th seeded SKU.
pub fn sku_name(n: u32) -> String {
    format!("SKU-{n:05}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_holds_units_until_released() {
        let store = Store::new();
        store.put("A", 5);
        let granted = store.reserve("A", 3, Duration::from_secs(60)).unwrap();
        assert_eq!(granted.available, 2);
        assert!(matches!(
            store.reserve("A", 3, Duration::from_secs(60)),
            Err(StoreError::Insufficient { available: 2, .. })
        ));
        let back = store.release(&granted.id).unwrap();
        assert_eq!(back.level.available(), 5);
        assert!(store.release(&granted.id).is_err());
    }

    #[test]
    fn expired_reservations_return_stock() {
        let store = Store::new();
        store.put("A", 5);
        store.reserve("A", 5, Duration::ZERO).unwrap();
        assert_eq!(store.sweep(), 1);
        assert_eq!(store.get("A").unwrap().available(), 5);
    }

    #[test]
    fn adjustments_apply_all_or_nothing() {
        let store = Store::new();
        store.put("A", 5);
        store.reserve("A", 4, Duration::from_secs(60)).unwrap();
        let err = store
            .adjust(&[("B".into(), 3), ("A".into(), -2)])
            .unwrap_err();
        assert!(matches!(err, StoreError::Underflow { .. }), "{err}");
        assert!(store.get("B").is_err());
        let done = store.adjust(&[("B".into(), 3), ("A".into(), -1)]).unwrap();
        assert_eq!(done.len(), 2);
        assert_eq!(store.get("A").unwrap().on_hand, 4);
        assert!(matches!(
            store.adjust(&[("C".into(), -1)]),
            Err(StoreError::UnknownSku(_))
        ));
    }
}
