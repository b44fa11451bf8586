//! Serving with TCP_NODELAY on every accepted connection. An HTTP/2 answer is
//! several small writes (headers, data, trailers); with Nagle's algorithm on, the
//! last one waits for the client's delayed ACK, adding about 40 ms to every unary
//! call. Otherwise the same bounded drain as the kit's `server::serve`.

use std::io;
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{IntoEndpoint, Server};
use service_kit::shutdown::Shutdown;
use tokio::net::{TcpListener, TcpStream};

/// A TCP acceptor that turns Nagle's algorithm off on each connection.
pub struct NoDelay(TcpAcceptor);

impl std::fmt::Debug for NoDelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoDelay").finish_non_exhaustive()
    }
}

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

/// Serves `endpoint` on `listener` until `shutdown`, then drains for `drain`.
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
