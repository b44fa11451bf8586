//! A TCP proxy between the app and PostgreSQL that a test can cut and restore, and
//! that counts the statements the app executes (PostgreSQL `Execute` messages) — what
//! OBI sees on the wire, without changing the app.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

#[derive(Debug, Default)]
struct Shared {
    up: AtomicBool,
    executes: AtomicU64,
    connections: Mutex<Vec<AbortHandle>>,
}

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct Proxy {
    /// Where the app connects.
    pub port: u16,
    shared: Arc<Shared>,
    accept: AbortHandle,
}

impl Proxy {
    /// Proxies a free loopback port to `upstream`.
    pub async fn start(upstream: (String, u16)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        shared.up.store(true, Ordering::SeqCst);
        let state = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if !state.up.load(Ordering::SeqCst) {
                    drop(client); // the app sees its connection closed at once
                    continue;
                }
                let shared = state.clone();
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        pipe(client, server, &shared).await;
                    }
                });
                state.connections.lock().unwrap().push(task.abort_handle());
            }
        })
        .abort_handle();
        Self {
            port,
            shared,
            accept,
        }
    }

    /// Closes every connection and refuses new ones, like PostgreSQL going away.
    pub fn cut(&self) {
        self.shared.up.store(false, Ordering::SeqCst);
        for connection in self.shared.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.shared.up.store(true, Ordering::SeqCst);
    }

    /// Statements executed so far (extended-protocol `Execute` messages).
    pub fn executes(&self) -> u64 {
        self.shared.executes.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn pipe(client: TcpStream, server: TcpStream, shared: &Shared) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async {
        let mut counter = Counter::default();
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let executes = counter.feed(&buffer[..n]);
            shared.executes.fetch_add(executes, Ordering::SeqCst);
            if server_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let downstream = async {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upstream, downstream);
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
