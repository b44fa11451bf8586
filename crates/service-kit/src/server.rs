//! Serving an HTTP endpoint on a bound listener until shutdown, then draining
//! in-flight requests for a bounded time. Every accepted connection has Nagle's
//! algorithm off: an HTTP/2 answer is several small writes (headers, data, trailers),
//! and with Nagle on the last one waits for the client's delayed ACK, about 40 ms
//! per gRPC unary call (measured on grpc-microservice).

use std::io;
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{IntoEndpoint, Server};
use tokio::net::{TcpListener, TcpStream};

use crate::config::ServerSettings;
use crate::shutdown::Shutdown;

/// Binds `server.host:server.port` (port 0 picks a free port; read it back from the
/// listener), with a message naming the address when that fails.
pub async fn bind(settings: &ServerSettings) -> io::Result<TcpListener> {
    let address = settings.address();
    TcpListener::bind(&address)
        .await
        .map_err(|err| io::Error::new(err.kind(), format!("cannot listen on {address}: {err}")))
}

/// Serves `endpoint` until `shutdown` fires, then gives in-flight requests up to
/// `drain` to finish before closing their connections.
pub async fn serve<E>(
    listener: TcpListener,
    endpoint: E,
    shutdown: Shutdown,
    drain: Duration,
) -> io::Result<()>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let acceptor = NoDelay(TcpAcceptor::from_tokio(listener)?);
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(endpoint, async move { shutdown.wait().await }, Some(drain))
        .await
}

/// A TCP acceptor that turns Nagle's algorithm off on each connection.
struct NoDelay(TcpAcceptor);

impl Acceptor for NoDelay {
    type Io = TcpStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let accepted = self.0.accept().await?;
        if let Err(err) = accepted.0.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
        Ok(accepted)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use poem::{Route, get, handler};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[handler]
    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_millis(300)).await;
        "done"
    }

    #[tokio::test]
    async fn an_in_flight_request_finishes_after_shutdown_starts() {
        let settings = ServerSettings {
            host: "127.0.0.1".into(),
            port: 0,
            drain_timeout: Duration::from_secs(5),
            max_body_bytes: 65536,
        };
        let listener = bind(&settings).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shutdown = Shutdown::new();
        let server = tokio::spawn(serve(
            listener,
            Route::new().at("/slow", get(slow)),
            shutdown.clone(),
            settings.drain_timeout,
        ));

        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream
            .write_all(b"GET /slow HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        shutdown.trigger();

        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("done"), "{response}");
        server.await.unwrap().unwrap();
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn a_taken_port_is_an_error_naming_the_address() {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = first.local_addr().unwrap().port();
        let settings = ServerSettings {
            host: "127.0.0.1".into(),
            port,
            drain_timeout: Duration::ZERO,
            max_body_bytes: 65536,
        };
        let err = bind(&settings).await.unwrap_err();
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    }
}
