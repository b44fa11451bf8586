//! The open model's schedule, and the pacer that keeps it: request `i` of the run is
//! due at `i / rate` seconds; a pacer thread per runtime thread releases that
//! thread's share as each request falls due.

use std::time::{Duration, Instant};

/// How finely the pacer releases due requests: it sleeps (a high-resolution timer)
/// until the next one is due, but never less than this, and releases every request
/// due by then at once.
pub const PACER_TICK: Duration = Duration::from_micros(50);

/// The open schedule of runtime thread `thread` of `threads`: request `i` of the
/// whole run is due at `i / rate` seconds, and belongs to thread `i mod threads`.
/// Yields `(i, due)` in order, up to `duration`.
pub fn schedule(
    thread: usize,
    threads: usize,
    rate: f64,
    duration: Duration,
) -> impl Iterator<Item = (u64, Duration)> {
    (thread as u64..)
        .step_by(threads)
        .map(move |i| (i, Duration::from_secs_f64(i as f64 / rate)))
        .take_while(move |(_, due)| *due < duration)
}

/// A request due at an instant, released by the pacer.
pub type Due = (u64, Instant);

/// Releases `thread`'s share of the open schedule into `sender` as each request falls
/// due (an OS thread: `std::thread::sleep` is a high-resolution timer). Dropping the
/// sender at the end tells the callers there is nothing more.
pub fn pace(
    thread: usize,
    threads: usize,
    rate: f64,
    duration: Duration,
    start: Instant,
    sender: tokio::sync::mpsc::UnboundedSender<Due>,
) {
    let mut due = schedule(thread, threads, rate, duration).peekable();
    while let Some(&(_, next)) = due.peek() {
        let next = start + next;
        let now = Instant::now();
        if next > now {
            std::thread::sleep((next - now).max(PACER_TICK));
        }
        let now = Instant::now();
        while let Some(&(i, at)) = due.peek() {
            if start + at > now {
                break;
            }
            if sender.send((i, start + at)).is_err() {
                return;
            }
            due.next();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_schedule_shares_the_requests_between_threads_at_the_rate() {
        // 1000/s for 10 ms on 3 threads: requests 0..10, every millisecond.
        let all: Vec<Vec<(u64, Duration)>> = (0..3)
            .map(|t| schedule(t, 3, 1000.0, Duration::from_millis(10)).collect())
            .collect();
        assert_eq!(
            all[1],
            [1, 4, 7].map(|i| (i, Duration::from_millis(i))).to_vec()
        );
        let mut merged: Vec<u64> = all.iter().flatten().map(|(i, _)| *i).collect();
        merged.sort_unstable();
        assert_eq!(merged, (0..10).collect::<Vec<_>>());
    }

    /// The pacer releases every request of its share once, in order, never before it
    /// is due. (How late it releases is the bench's to measure: see `openload`'s p50
    /// at a low rate.)
    #[test]
    fn the_pacer_releases_each_request_once_when_it_falls_due() {
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let start = Instant::now() + Duration::from_millis(5);
        let pacer = std::thread::spawn(move || {
            pace(1, 2, 2000.0, Duration::from_millis(50), start, sender);
        });
        let mut seen = Vec::new();
        while let Some((i, due)) = receiver.blocking_recv() {
            assert_eq!(due, start + Duration::from_secs_f64(i as f64 / 2000.0));
            assert!(Instant::now() >= due, "request {i} released early");
            seen.push(i);
        }
        pacer.join().unwrap();
        assert_eq!(seen, (1..100).step_by(2).collect::<Vec<_>>());
    }
}
