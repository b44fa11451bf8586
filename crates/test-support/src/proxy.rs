//! A TCP proxy that a test puts between an app and its backing service, to make
//! the service "go away" (`cut`) and "come back" (`restore`) without touching the
//! shared server other tests use, to count the connections the app opens and closes,
//! and optionally to watch what the app sends.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// Sees the bytes one connection sends upstream, in order, in arbitrary chunks.
pub type Inspector = Box<dyn FnMut(&[u8]) + Send>;

type InspectorFactory = Arc<dyn Fn() -> Inspector + Send + Sync>;

#[derive(Default)]
struct Shared {
    up: AtomicBool,
    /// While down: hold new connections without a byte instead of closing them.
    stalled: AtomicBool,
    held: Mutex<Vec<TcpStream>>,
    connections: Mutex<Vec<AbortHandle>>,
    opened: AtomicUsize,
    open: Arc<AtomicUsize>,
}

/// A running proxy; stops (and closes its connections) when dropped.
#[derive(Debug)]
pub struct Proxy {
    /// The loopback port the app connects to.
    pub port: u16,
    shared: Arc<Shared>,
    accept: AbortHandle,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("up", &self.up)
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// Proxies a free loopback port to `upstream`.
    pub async fn start(upstream: (String, u16)) -> Self {
        Self::inspecting(upstream, || Box::new(|_: &[u8]| {})).await
    }

    /// Like [`Proxy::start`]; each new connection gets an inspector from `factory`
    /// that sees every byte the app sends upstream (to count protocol messages).
    pub async fn inspecting<F>(upstream: (String, u16), factory: F) -> Self
    where
        F: Fn() -> Inspector + Send + Sync + 'static,
    {
        let factory: InspectorFactory = Arc::new(factory);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port for the proxy");
        let port = listener
            .local_addr()
            .expect("a bound listener has an address")
            .port();
        let shared = Arc::new(Shared::default());
        shared.up.store(true, Ordering::SeqCst);
        let state = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if !state.up.load(Ordering::SeqCst) {
                    if state.stalled.load(Ordering::SeqCst) {
                        // Never answered: the app waits for its own timeout.
                        state
                            .held
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(client);
                    } else {
                        drop(client); // the app sees its connection closed at once
                    }
                    continue;
                }
                let upstream = upstream.clone();
                let inspector = factory();
                state.opened.fetch_add(1, Ordering::SeqCst);
                let open = Open::count(&state.open);
                let task = tokio::spawn(async move {
                    let _open = open;
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        pipe(client, server, inspector).await;
                    }
                });
                state
                    .connections
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(task.abort_handle());
            }
        })
        .abort_handle();
        Self {
            port,
            shared,
            accept,
        }
    }

    /// Closes every connection and refuses new ones, like the service going away.
    pub fn cut(&self) {
        self.shared.up.store(false, Ordering::SeqCst);
        for connection in self
            .shared
            .connections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            connection.abort();
        }
    }

    /// Like [`Proxy::cut`], but a new connection is accepted and then never
    /// answered, like a service that went silent without closing anything (a host
    /// gone from the network, a stopped process, packets dropped): whoever connects
    /// waits for its own timeout, which a refused connection never shows.
    pub fn stall(&self) {
        self.shared.stalled.store(true, Ordering::SeqCst);
        self.cut();
    }

    /// Accepts connections again, like the service coming back (connections held
    /// by [`Proxy::stall`] are closed).
    pub fn restore(&self) {
        self.shared.stalled.store(false, Ordering::SeqCst);
        self.shared
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.shared.up.store(true, Ordering::SeqCst);
    }

    /// Connections the app opened through the proxy so far.
    pub fn opened(&self) -> usize {
        self.shared.opened.load(Ordering::SeqCst)
    }

    /// Connections open now (until the app or the server closes them).
    pub fn open(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }
}

/// Counts one open connection while it lives (also when its task is aborted).
struct Open(Arc<AtomicUsize>);

impl Open {
    fn count(open: &Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::SeqCst);
        Self(open.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn pipe(client: TcpStream, server: TcpStream, mut inspector: Inspector) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            inspector(&buffer[..n]);
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    async fn echo_server() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut read, mut write) = stream.split();
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                });
            }
        });
        port
    }

    async fn round_trip(port: u16, message: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(message).await?;
        let mut answer = vec![0u8; message.len()];
        stream.read_exact(&mut answer).await?;
        Ok(answer)
    }

    #[tokio::test]
    async fn bytes_pass_through_and_are_inspected() {
        let upstream = echo_server().await;
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        let proxy = Proxy::inspecting(("127.0.0.1".into(), upstream), move || {
            let counter = counter.clone();
            Box::new(move |bytes: &[u8]| {
                counter.fetch_add(bytes.len(), Ordering::SeqCst);
            })
        })
        .await;
        assert_eq!(round_trip(proxy.port, b"hello").await.unwrap(), b"hello");
        assert_eq!(seen.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn connections_are_counted_while_open_and_in_total() {
        let upstream = echo_server().await;
        let proxy = Proxy::start(("127.0.0.1".into(), upstream)).await;
        let mut first = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        first.write_all(b"x").await.unwrap();
        let mut byte = [0u8; 1];
        first.read_exact(&mut byte).await.unwrap();
        assert_eq!((proxy.opened(), proxy.open()), (1, 1));
        drop(first);
        assert_eq!(round_trip(proxy.port, b"y").await.unwrap(), b"y");
        for _ in 0..100 {
            if proxy.open() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!((proxy.opened(), proxy.open()), (2, 0));
    }

    #[tokio::test]
    async fn a_cut_proxy_closes_connections_until_restored() {
        let upstream = echo_server().await;
        let proxy = Proxy::start(("127.0.0.1".into(), upstream)).await;
        let mut open = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        open.write_all(b"x").await.unwrap();
        let mut byte = [0u8; 1];
        open.read_exact(&mut byte).await.unwrap();

        proxy.cut();
        let mut rest = Vec::new();
        assert_eq!(
            open.read_to_end(&mut rest).await.unwrap_or(0),
            0,
            "open connection closed"
        );
        assert!(
            round_trip(proxy.port, b"x").await.is_err(),
            "new connections refused"
        );

        proxy.restore();
        assert_eq!(round_trip(proxy.port, b"back").await.unwrap(), b"back");
    }
}
