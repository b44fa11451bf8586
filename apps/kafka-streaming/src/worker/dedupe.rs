//! The event ids processed recently, so that a copy (a retried POST, a
//! `producer_burst`, a redelivery after a rebalance) is processed once. Bounded: the
//! oldest ids are forgotten first. Per process: two workers do not share it.

use std::collections::{HashSet, VecDeque};

/// The ids seen, oldest forgotten first.
#[derive(Debug)]
pub struct Seen {
    ids: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

impl Seen {
    /// Remembers at most `capacity` ids (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            ids: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Remembers `id`; false when it was already remembered (a duplicate).
    pub fn insert(&mut self, id: &str) -> bool {
        if self.ids.contains(id) {
            return false;
        }
        self.ids.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_ids_are_bounded() {
        let mut seen = Seen::new(2);
        for id in ["a", "b", "c"] {
            assert!(seen.insert(id));
        }
        assert!(!seen.insert("c"), "a duplicate");
        assert!(seen.insert("a"), "forgotten");
        assert!(!seen.insert("c"));
    }

    #[test]
    fn a_capacity_of_zero_still_remembers_the_last_id() {
        let mut seen = Seen::new(0);
        assert!(seen.insert("a"));
        assert!(!seen.insert("a"));
    }
}
