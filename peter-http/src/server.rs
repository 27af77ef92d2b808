//! The HTTP server: poem endpoints over hyper connections accepted by
//! peter's own loop, so that every connection has limits (poem's `Server`
//! offers only an idle timeout):
//!
//! - a request whose headers do not arrive within
//!   [`ServerLimits::header_read_timeout`] has its connection closed;
//! - a connection with no traffic for [`ServerLimits::idle_timeout`] is shut
//!   down gracefully (an answer in progress is finished first);
//! - at most [`ServerLimits::max_connections`] connections are open at once:
//!   beyond that, new ones wait in the kernel's backlog instead of taking a
//!   descriptor (the soft descriptor limit is raised to the hard one at
//!   start, and the cap is kept below it);
//! - a connection serves at most [`ServerLimits::max_requests_per_connection`]
//!   requests, then the last answer says `Connection: close`.
//!
//! Request bodies have their own deadline where they are read (the admin
//! API, after authentication: [`crate::AdminState::body_timeout`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use poem::http::{HeaderValue, header};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt, IntoEndpoint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

/// Limits every connection is held to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Time allowed for a request's headers to arrive (default 30 s).
    pub header_read_timeout: Duration,
    /// A connection without traffic for this long is closed (default 60 s).
    pub idle_timeout: Duration,
    /// Connections open at once (default 4,096; kept below the process's
    /// descriptor limit).
    pub max_connections: usize,
    /// Requests served on one connection (default 1,000).
    pub max_requests_per_connection: u64,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
            max_requests_per_connection: 1000,
        }
    }
}

impl ServerLimits {
    /// These limits with other timeouts (headers, idle).
    pub fn with_timeouts(mut self, header: Duration, idle: Duration) -> Self {
        self.header_read_timeout = header;
        self.idle_timeout = idle;
        self
    }

    /// These limits with another connection cap.
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// These limits with another number of requests per connection.
    pub fn with_max_requests_per_connection(mut self, max: u64) -> Self {
        self.max_requests_per_connection = max;
        self
    }
}

/// Raises the soft descriptor limit to the hard one and returns how many
/// connections fit under it (leaving room for the store, logs and the CA).
fn connection_capacity(wanted: usize) -> usize {
    const RESERVED: u64 = 64;
    let soft = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => soft,
        Err(_) => return wanted.max(1),
    };
    let room = usize::try_from(soft.saturating_sub(RESERVED)).unwrap_or(usize::MAX);
    wanted.min(room).max(1)
}

/// Time of the last byte read or written on a connection.
#[derive(Debug)]
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// A socket that records its activity.
struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.activity.touch();
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

type Ep = Arc<dyn poem::endpoint::DynEndpoint<Output = poem::Response>>;

/// Serves `endpoint` on `listener` under `limits` until `shutdown`
/// completes; then stops accepting and waits (at most `grace`) for the open
/// connections to finish their answers.
pub async fn serve<E>(
    listener: TcpListener,
    endpoint: E,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let ep: Ep = Arc::new(poem::endpoint::ToDynEndpoint(
        endpoint.into_endpoint().map_to_response(),
    ));
    let local = listener.local_addr()?;
    let capacity = connection_capacity(limits.max_connections);
    let slots = Arc::new(Semaphore::new(capacity));
    let limits = Arc::new(limits);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (socket, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was
                    // taken: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = socket.set_nodelay(true);
        let (ep, limits, stop) = (ep.clone(), limits.clone(), stop_rx.clone());
        tokio::spawn(async move {
            serve_connection(socket, local, remote, ep, &limits, stop).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot: when all are back, all are done.
    let all = u32::try_from(capacity).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(grace, slots.acquire_many(all)).await;
    Ok(())
}

async fn serve_connection(
    socket: TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    ep: Ep,
    limits: &ServerLimits,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        io: socket,
        activity: activity.clone(),
    });
    let served = Arc::new(AtomicU64::new(0));
    let max_requests = limits.max_requests_per_connection.max(1);
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let ep = ep.clone();
        let served = served.clone();
        async move {
            let n = served.fetch_add(1, Ordering::Relaxed).saturating_add(1);
            let req = poem::Request::from((
                req,
                LocalAddr(Addr::SocketAddr(local)),
                RemoteAddr(Addr::SocketAddr(remote)),
                poem::http::uri::Scheme::HTTP,
            ));
            let mut response = ep.get_response(req).await;
            if n >= max_requests {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, std::convert::Infallible>(
                hyper::Response::<BoxBody<Bytes, std::io::Error>>::from(response),
            )
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(64 * 1024);
    builder.http2().timer(TokioTimer::new());
    let conn = builder.serve_connection_with_upgrades(io, service);
    let mut conn = std::pin::pin!(conn);
    let mut ticks = tokio::time::interval(Duration::from_millis(500));
    let mut closing = false;
    loop {
        tokio::select! {
            _ = &mut conn => return,
            _ = ticks.tick() => {
                let idle = activity.idle_for();
                if closing && idle >= limits.idle_timeout.saturating_mul(2) {
                    // A graceful end that does not come (a client that stopped
                    // reading its answer): drop the connection.
                    return;
                }
                if !closing && idle >= limits.idle_timeout {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
            changed = stop.changed(), if !closing => {
                if changed.is_err() || *stop.borrow() {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}
