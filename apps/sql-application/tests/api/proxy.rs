//! The TCP proxy between the app and PostgreSQL (test-support's, cuttable), watching
//! what crosses it: it counts the statements the app executes (PostgreSQL `Execute`
//! messages) — what OBI sees on the wire, without changing the app.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The proxy, and the statements executed through it so far.
#[derive(Debug)]
pub struct Proxy {
    /// Where the app connects.
    pub port: u16,
    inner: test_support::proxy::Proxy,
    executes: Arc<AtomicU64>,
}

impl Proxy {
    /// Proxies a free loopback port to `upstream`, counting `Execute` messages.
    pub async fn start(upstream: (String, u16)) -> Self {
        let executes = Arc::new(AtomicU64::new(0));
        let total = executes.clone();
        let inner = test_support::proxy::Proxy::inspecting(upstream, move || {
            let total = total.clone();
            let mut counter = Counter::default();
            Box::new(move |bytes: &[u8]| {
                total.fetch_add(counter.feed(bytes), Ordering::SeqCst);
            })
        })
        .await;
        Self {
            port: inner.port,
            inner,
            executes,
        }
    }

    /// Closes every connection and refuses new ones, like PostgreSQL going away.
    pub fn cut(&self) {
        self.inner.cut();
    }

    /// Like `cut`, but new connections are accepted and never answered, like
    /// PostgreSQL gone silent (a host off the network, packets dropped).
    pub fn stall(&self) {
        self.inner.stall();
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.inner.restore();
    }

    /// Statements executed so far (extended-protocol `Execute` messages).
    pub fn executes(&self) -> u64 {
        self.executes.load(Ordering::SeqCst)
    }
}

/// Splits the frontend byte stream into PostgreSQL messages: a start-up message
/// (length only), then `tag + length + body`.
#[derive(Debug, Default)]
struct Counter {
    started: bool,
    skip: usize,
    head: Vec<u8>,
}

impl Counter {
    fn feed(&mut self, mut data: &[u8]) -> u64 {
        let mut executes = 0;
        loop {
            if self.skip > 0 {
                let n = self.skip.min(data.len());
                self.skip -= n;
                data = &data[n..];
            }
            if data.is_empty() {
                return executes;
            }
            let need = if self.started { 5 } else { 4 };
            let take = (need - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.head.len() < need {
                return executes;
            }
            let length_at = need - 4;
            let length =
                u32::from_be_bytes(self.head[length_at..need].try_into().unwrap()) as usize;
            if self.started && self.head[0] == b'E' {
                executes += 1;
            }
            self.started = true;
            self.skip = length.saturating_sub(4);
            self.head.clear();
        }
    }
}

#[test]
fn the_counter_finds_execute_messages_across_reads() {
    let mut stream = Vec::new();
    stream.extend_from_slice(&8u32.to_be_bytes()); // start-up: length 8
    stream.extend_from_slice(&196_608u32.to_be_bytes());
    for tag in [b'P', b'B', b'E', b'S', b'B', b'E'] {
        stream.push(tag);
        stream.extend_from_slice(&6u32.to_be_bytes());
        stream.extend_from_slice(b"xy");
    }
    let mut counter = Counter::default();
    let total: u64 = stream.chunks(3).map(|chunk| counter.feed(chunk)).sum();
    assert_eq!(total, 2);
}
