//! `grpc-echo [port]`: the smallest unary gRPC server on poem-grpc (the stack of
//! grpc-microservice): `echo.v1.Echo/Echo` answers its request, plus reflection as the
//! app serves it (grpcurl, ghz and k6 can load the schema from it). TCP_NODELAY is on, as in the app, so both pay the same
//! per-call cost. The gRPC stack's limit that grpc-microservice's GetStock is
//! benchmarked against.

use std::io;

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{IntoEndpoint, Server};
use poem_grpc::{Reflection, Request, Response, RouteGrpc, Status};
use tokio::net::{TcpListener, TcpStream};

// Generated code: its style is prost's and poem-grpc-build's, not ours.
#[allow(clippy::all, unreachable_pub, missing_debug_implementations)]
mod proto {
    poem_grpc::include_proto!("echo.v1");
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/echo_descriptor.bin"));
}

#[derive(Debug)]
struct EchoService;

impl proto::Echo for EchoService {
    async fn echo(
        &self,
        request: Request<proto::EchoRequest>,
    ) -> Result<Response<proto::EchoReply>, Status> {
        Ok(Response::new(proto::EchoReply {
            message: request.into_inner().message,
        }))
    }
}

struct NoDelay(TcpAcceptor);

impl Acceptor for NoDelay {
    type Io = TcpStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let accepted = self.0.accept().await?;
        accepted.0.set_nodelay(true)?;
        Ok(accepted)
    }
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(18091);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("grpc-echo listening on 127.0.0.1:{port}");
    let route = RouteGrpc::new()
        .add_service(proto::EchoServer::new(EchoService))
        .add_service(
            Reflection::new()
                .add_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
                .build(),
        )
        .into_endpoint();
    Server::new_with_acceptor(NoDelay(TcpAcceptor::from_tokio(listener)?))
        .run(route)
        .await
}
