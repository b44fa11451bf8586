//! `openload`: the bench's light load generator, for HTTP/1.1 and gRPC (h2c; a
//! stream call's messages are its body's frames, sent at once),
//! in two models.
//!
//! - **Closed** (`--rate 0`): `--concurrency` callers, each sending its next request
//!   when the last one is answered; the app's saturation, as wrk measures it.
//! - **Open** (`--rate R`): requests are due at a fixed rate whatever the answers do,
//!   and every latency is counted from the moment the request was *due*, not from
//!   when it could be sent (wrk2's correction of coordinated omission): a server
//!   that stalls shows its stall in every request that waited behind it. A pacer
//!   thread per runtime thread releases the requests as they fall due, to within
//!   [`pacer::PACER_TICK`], and the next free caller sends each one. (tokio's timers tick
//!   once a millisecond and wake late by up to two: a schedule kept with them added
//!   1.5–2 ms to every latency at rates the server handled in 0.2 ms.)
//!
//! One tokio thread by default, a prepared request per path, no body parsing beyond
//! the gRPC status: on a small machine the server, not the client, runs out of CPU.
//! It prints one JSON object (rate, percentiles, statuses) for `cargo xtask bench`.
//!
//! ```text
//! openload --url http://127.0.0.1:8081 --paths /api/v1/orders/1,/api/v1/orders/2
//!          [--method POST --body '{..}' --header 'content-type: application/json']
//!          [--grpc --bodies <hex>,<hex>]  [--connections 4] [--concurrency 16]
//!          [--rate 5000] [--duration 20] [--threads 1]
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

// Beside the binary's root, not targets of their own (`src/bin/openload/` has no main.rs).
#[path = "openload/pacer.rs"]
mod pacer;
#[path = "openload/report.rs"]
mod report;
use pacer::{Due, pace};
use report::report;

/// What to send, and how hard.
#[derive(Debug, Clone, PartialEq)]
struct Options {
    host: String,
    port: u16,
    paths: Vec<String>,
    method: hyper::Method,
    headers: Vec<(String, String)>,
    /// One body per request, cycled (one for all when a single one is given).
    bodies: Vec<Bytes>,
    grpc: bool,
    connections: usize,
    concurrency: usize,
    /// Requests per second in total; 0 for the closed model.
    rate: f64,
    duration: Duration,
    threads: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: openload --url http://HOST:PORT --paths P1,P2 [--method M] [--body B | --bodies HEX,..] \
         [--header 'k: v']... [--grpc] [--connections N] [--concurrency N] [--rate R] \
         [--duration SECONDS] [--threads N]"
    );
    std::process::exit(2)
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        host: String::new(),
        port: 0,
        paths: Vec::new(),
        method: hyper::Method::GET,
        headers: Vec::new(),
        bodies: Vec::new(),
        grpc: false,
        connections: 0,
        concurrency: 16,
        rate: 0.0,
        duration: Duration::from_secs(10),
        threads: 1,
    };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let mut value = || rest.next().ok_or(format!("{flag} needs a value"));
        let number = |text: &str| -> Result<f64, String> {
            text.parse::<f64>()
                .map_err(|_| format!("{flag} takes a number, not `{text}`"))
        };
        match flag.as_str() {
            "--url" => {
                let url = value()?;
                let authority = url
                    .strip_prefix("http://")
                    .ok_or("--url must start with http:// (h2c or HTTP/1.1, no TLS)")?
                    .trim_end_matches('/');
                let (host, port) = authority.rsplit_once(':').ok_or("--url needs a port")?;
                options.host = host.to_owned();
                options.port = port.parse().map_err(|_| "--url has a bad port")?;
            }
            "--paths" => options.paths = value()?.split(',').map(str::to_owned).collect(),
            "--method" => {
                options.method = value()?.parse().map_err(|_| "--method is not a method")?;
            }
            "--header" => {
                let header = value()?;
                let (name, text) = header.split_once(':').ok_or("--header is `name: value`")?;
                options
                    .headers
                    .push((name.trim().to_owned(), text.trim().to_owned()));
            }
            "--body" => options.bodies = vec![Bytes::from(value()?.clone())],
            "--bodies" => {
                options.bodies = value()?
                    .split(',')
                    .map(|hex| decode_hex(hex).map(Bytes::from))
                    .collect::<Result<_, _>>()?;
            }
            "--grpc" => options.grpc = true,
            "--connections" => options.connections = number(value()?)? as usize,
            "--concurrency" => options.concurrency = number(value()?)? as usize,
            "--rate" => options.rate = number(value()?)?,
            "--duration" => options.duration = Duration::from_secs_f64(number(value()?)?),
            "--threads" => options.threads = number(value()?)? as usize,
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if options.host.is_empty() || options.paths.is_empty() {
        return Err("--url and --paths are required".into());
    }
    if options.concurrency == 0 || options.threads == 0 || options.rate < 0.0 {
        return Err("--concurrency and --threads must be positive, --rate not negative".into());
    }
    if options.connections == 0 || !options.grpc {
        // HTTP/1.1 has one request in flight per connection: one each.
        options.connections = options.concurrency;
    }
    options.connections = options.connections.min(options.concurrency);
    if options.grpc {
        options.method = hyper::Method::POST;
        options
            .headers
            .push(("content-type".into(), "application/grpc".into()));
        options.headers.push(("te".into(), "trailers".into()));
    }
    Ok(options)
}

fn decode_hex(hex: &str) -> Result<Vec<u8>, String> {
    if !hex.len().is_multiple_of(2) {
        return Err(format!("odd-length hex `{hex}`"));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| format!("bad hex `{hex}`")))
        .collect()
}

/// A connection's sender, either protocol.
#[derive(Clone)]
enum Sender {
    H1(std::rc::Rc<tokio::sync::Mutex<http1::SendRequest<Full<Bytes>>>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

/// What one caller saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    /// `http 200`, `http 503`, `grpc 14`, `io: ...`: how each request ended.
    outcomes: BTreeMap<String, u64>,
    ok: u64,
}

async fn connect(options: &Options) -> Result<Sender, String> {
    let stream = TcpStream::connect((options.host.as_str(), options.port))
        .await
        .map_err(|err| format!("cannot connect to {}:{}: {err}", options.host, options.port))?;
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(stream);
    if options.grpc {
        let (sender, connection) = http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|err| format!("h2 handshake: {err}"))?;
        tokio::task::spawn_local(connection);
        Ok(Sender::H2(sender))
    } else {
        let (sender, connection) = http1::handshake(io)
            .await
            .map_err(|err| format!("HTTP/1.1 handshake: {err}"))?;
        tokio::task::spawn_local(connection);
        Ok(Sender::H1(std::rc::Rc::new(tokio::sync::Mutex::new(
            sender,
        ))))
    }
}

fn request(options: &Options, n: usize) -> Request<Full<Bytes>> {
    let path = &options.paths[n % options.paths.len()];
    let body = match options.bodies.len() {
        0 => Bytes::new(),
        len => options.bodies[n % len].clone(),
    };
    let mut builder = Request::builder()
        .method(options.method.clone())
        .uri(path)
        .header("host", format!("{}:{}", options.host, options.port));
    for (name, value) in &options.headers {
        builder = builder.header(name, value);
    }
    builder.body(Full::new(body)).expect("a valid request")
}

/// Sends one request and reads the answer to its end: `Ok` or how it ended.
async fn call(sender: &Sender, req: Request<Full<Bytes>>, grpc: bool) -> Result<(), String> {
    let response = match sender {
        Sender::H1(sender) => {
            let mut sender = sender.lock().await;
            sender.ready().await.map_err(|err| format!("io: {err}"))?;
            sender.send_request(req).await
        }
        Sender::H2(sender) => {
            let mut sender = sender.clone();
            sender.ready().await.map_err(|err| format!("io: {err}"))?;
            sender.send_request(req).await
        }
    }
    .map_err(|err| format!("io: {err}"))?;
    let status = response.status();
    let header_status = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let collected = response
        .into_body()
        .collect()
        .await
        .map_err(|err| format!("io: {err}"))?;
    if !status.is_success() {
        return Err(format!("http {}", status.as_u16()));
    }
    if grpc {
        let trailer_status = collected
            .trailers()
            .and_then(|t| t.get("grpc-status"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match trailer_status.or(header_status).as_deref() {
            Some("0") => {}
            Some(code) => return Err(format!("grpc {code}")),
            None => return Err("grpc: no status".into()),
        }
    }
    Ok(())
}

/// Where a caller's next request comes from: due requests from the pacer (open), or
/// its own loop until the end (closed).
enum Work {
    Open(std::rc::Rc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Due>>>),
    Closed { next: u64, step: u64, end: Instant },
}

impl Work {
    /// The next request's number and the instant its latency counts from.
    async fn next(&mut self) -> Option<Due> {
        match self {
            // The lock is a queue of idle callers: the first in line takes the next
            // due request.
            Self::Open(queue) => queue.lock().await.recv().await,
            Self::Closed { next, step, end } => {
                let now = Instant::now();
                if now >= *end {
                    return None;
                }
                let n = *next;
                *next += *step;
                Some((n, now))
            }
        }
    }
}

async fn caller(options: std::rc::Rc<Options>, sender: Sender, mut work: Work) -> Tally {
    let mut tally = Tally::default();
    while let Some((n, due_at)) = work.next().await {
        let outcome = call(&sender, request(&options, n as usize), options.grpc).await;
        let micros = due_at.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        tally.latencies_us.push(micros);
        match outcome {
            Ok(()) => tally.ok += 1,
            Err(why) => *tally.outcomes.entry(why).or_default() += 1,
        }
    }
    tally
}

/// Runs the callers of one thread (a share of `--concurrency`) to the end; in the open
/// model they take the requests `due` releases.
async fn run_share(
    options: Options,
    callers: Vec<usize>,
    start: Instant,
    due: Option<tokio::sync::mpsc::UnboundedReceiver<Due>>,
) -> Result<Vec<Tally>, String> {
    let options = std::rc::Rc::new(options);
    let due = due.map(|receiver| std::rc::Rc::new(tokio::sync::Mutex::new(receiver)));
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            let mut senders = Vec::new();
            let per_connection = options.concurrency.div_ceil(options.connections);
            for _ in 0..callers.len().div_ceil(per_connection) {
                senders.push(connect(&options).await?);
            }
            tokio::time::sleep_until(start.into()).await;
            let tasks: Vec<_> = callers
                .iter()
                .enumerate()
                .map(|(i, index)| {
                    let sender = senders[i / per_connection].clone();
                    let work = match &due {
                        Some(queue) => Work::Open(queue.clone()),
                        None => Work::Closed {
                            next: *index as u64,
                            step: options.concurrency as u64,
                            end: start + options.duration,
                        },
                    };
                    tokio::task::spawn_local(caller(options.clone(), sender, work))
                })
                .collect();
            let mut tallies = Vec::new();
            for task in tasks {
                tallies.push(task.await.map_err(|err| err.to_string())?);
            }
            Ok(tallies)
        })
        .await
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = parse(&args).unwrap_or_else(|why| {
        eprintln!("openload: {why}");
        usage()
    });
    // Connections are opened before the clock starts: 200 ms from now.
    let start = Instant::now() + Duration::from_millis(200);
    let threads: Vec<_> = (0..options.threads)
        .map(|thread| {
            let options = options.clone();
            let callers: Vec<usize> = (0..options.concurrency)
                .filter(|i| i % options.threads == thread)
                .collect();
            let due = (options.rate > 0.0).then(|| {
                let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
                let (threads, rate, duration) = (options.threads, options.rate, options.duration);
                std::thread::spawn(move || pace(thread, threads, rate, duration, start, sender));
                receiver
            });
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|err| err.to_string())?
                    .block_on(run_share(options, callers, start, due))
            })
        })
        .collect();
    let mut tallies = Vec::new();
    for thread in threads {
        match thread.join() {
            Ok(Ok(share)) => tallies.extend(share),
            Ok(Err(why)) => {
                eprintln!("openload: {why}");
                std::process::exit(1);
            }
            Err(_) => {
                eprintln!("openload: a thread panicked");
                std::process::exit(1);
            }
        }
    }
    println!("{}", report(&options, tallies, start.elapsed()));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Command-line arguments from one line (for the modules' tests too).
    pub(crate) fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn http_gets_one_connection_per_caller_and_grpc_shares_them() {
        let http = parse(&args(
            "--url http://127.0.0.1:8081 --paths /a,/b --concurrency 8 --connections 2",
        ))
        .unwrap();
        assert_eq!((http.host.as_str(), http.port), ("127.0.0.1", 8081));
        assert_eq!(http.paths, ["/a", "/b"]);
        assert_eq!(http.connections, 8);
        let grpc = parse(&args(
            "--url http://127.0.0.1:8083/ --paths /x.v1.X/Get --grpc --bodies 00000000020a00 --concurrency 16 --connections 1 --rate 500",
        ))
        .unwrap();
        assert_eq!(grpc.connections, 1);
        assert_eq!(grpc.method, hyper::Method::POST);
        assert_eq!(grpc.bodies, [Bytes::from_static(&[0, 0, 0, 0, 2, 0x0a, 0])]);
        assert!(grpc.headers.contains(&("te".into(), "trailers".into())));
        assert_eq!(grpc.rate, 500.0);
        assert!(parse(&args("--url https://x:1 --paths /")).is_err());
        assert!(
            parse(&args("--url http://x:1 --paths / --fast"))
                .unwrap_err()
                .contains("--fast")
        );
    }
}
