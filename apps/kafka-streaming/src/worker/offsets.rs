//! Which offsets the worker may commit while many messages are in flight at once: a
//! partition's committable offset is the lowest one still in flight (every earlier
//! message is done), or one past the highest done when nothing is in flight. So a
//! commit never passes a message that is not done (at-least-once), whatever order
//! the messages finish in.

use std::collections::{BTreeMap, BTreeSet};

use crate::record::Partition;

/// One partition's messages in flight and done.
#[derive(Debug, Default)]
struct Progress {
    in_flight: BTreeSet<i64>,
    done_upto: Option<i64>,
    committed: Option<i64>,
}

impl Progress {
    fn committable(&self) -> Option<i64> {
        self.in_flight.first().copied().or(self.done_upto)
    }
}

/// Offsets in flight and done, per partition.
#[derive(Debug, Default)]
pub struct Offsets {
    partitions: BTreeMap<Partition, Progress>,
}

impl Offsets {
    /// A message was handed to processing.
    pub fn start(&mut self, partition: Partition, offset: i64) {
        self.partitions
            .entry(partition)
            .or_default()
            .in_flight
            .insert(offset);
    }

    /// A message's processing is done: it may be committed once every earlier one is.
    pub fn finish(&mut self, partition: &Partition, offset: i64) {
        if let Some(progress) = self.partitions.get_mut(partition) {
            progress.in_flight.remove(&offset);
            progress.done_upto = progress.done_upto.max(Some(offset + 1));
        }
    }

    /// Offsets to commit: every partition whose committable offset moved past its last
    /// commit (or every partition with one, when `all`).
    pub fn to_commit(&self, all: bool) -> Vec<(Partition, i64)> {
        self.partitions
            .iter()
            .filter_map(|(partition, progress)| {
                let offset = progress.committable()?;
                (all || progress.committed < Some(offset)).then(|| (partition.clone(), offset))
            })
            .collect()
    }

    /// Records a commit of `offsets`.
    pub fn committed(&mut self, offsets: &[(Partition, i64)]) {
        for (partition, offset) in offsets {
            if let Some(progress) = self.partitions.get_mut(partition) {
                progress.committed = progress.committed.max(Some(*offset));
            }
        }
    }

    /// Messages in flight, over every partition.
    pub fn in_flight(&self) -> usize {
        self.partitions.values().map(|p| p.in_flight.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: i32) -> Partition {
        ("t".to_owned(), n)
    }

    #[test]
    fn offsets_are_committed_in_order() {
        let mut offsets = Offsets::default();
        assert!(offsets.to_commit(true).is_empty());
        for offset in 10..13 {
            offsets.start(p(0), offset);
        }
        offsets.start(p(1), 5);
        // Nothing done: the committable offset is where processing stands.
        assert_eq!(offsets.to_commit(false), [(p(0), 10), (p(1), 5)]);
        offsets.committed(&offsets.to_commit(false));
        assert!(offsets.to_commit(false).is_empty());
        // 11 and 12 done before 10: the commit may not pass 10.
        offsets.finish(&p(0), 12);
        offsets.finish(&p(0), 11);
        assert!(offsets.to_commit(false).is_empty());
        assert_eq!(offsets.in_flight(), 2);
        offsets.finish(&p(0), 10);
        assert_eq!(offsets.to_commit(false), [(p(0), 13)]);
        offsets.committed(&[(p(0), 13)]);
        // Partition 1 still holds 5; `all` repeats every partition's offset.
        assert_eq!(offsets.to_commit(true), [(p(0), 13), (p(1), 5)]);
        offsets.finish(&p(1), 5);
        offsets.finish(&p(2), 1);
        assert_eq!(offsets.to_commit(false), [(p(1), 6)]);
        assert_eq!(offsets.in_flight(), 0);
    }

    #[test]
    fn an_older_commit_never_moves_a_partition_back() {
        let mut offsets = Offsets::default();
        offsets.start(p(0), 1);
        offsets.finish(&p(0), 1);
        offsets.committed(&[(p(0), 2)]);
        offsets.committed(&[(p(0), 1)]);
        assert!(offsets.to_commit(false).is_empty());
    }
}
