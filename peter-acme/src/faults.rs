//! A fault-injecting HTTPS proxy to put between peter and Pebble in tests.
//!
//! Pebble answers every request correctly; the faults a real network and a
//! real CA's edge produce (reset connections, answers lost after the request
//! took effect, slow answers, 5xx from a load balancer, bodies cut short,
//! nonces mangled on the way) have to be made by something in between. The
//! proxy terminates TLS with the same certificate Pebble uses (so the client
//! trusts it with the same bundle), forwards to Pebble with the `Host`
//! header untouched (Pebble builds every URL it hands out from that header,
//! so all later requests come back through the proxy), and picks a fault
//! for each connection and request at a rate the test sets and may change.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use instant_acme::BodyWrapper;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;

use super::Pebble;

/// A fault the proxy can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The TCP connection is reset as soon as it is accepted (nothing reaches Pebble).
    Reset,
    /// The request reaches Pebble and takes effect; the connection is then
    /// closed without an answer.
    LostReply,
    /// The answer comes late (0.2 to 1.2 s unless [`FaultProxy::set_delay`] says otherwise).
    Delay,
    /// A 5xx is answered instead of forwarding: half of them a
    /// `serverInternal` problem with `Retry-After: 1`, half a bare 502 page.
    ServerError,
    /// The request takes effect; the answer's body stops halfway (its
    /// `Content-Length` promised more) and the connection closes.
    Truncated,
    /// The request takes effect; the answer carries a `Replay-Nonce` Pebble
    /// never issued, so the client's next request is refused `badNonce`.
    BadNonce,
}

/// Every fault, in the order [`FaultCounts`] reports them.
pub const ALL_FAULTS: [Fault; 6] = [
    Fault::Reset,
    Fault::LostReply,
    Fault::Delay,
    Fault::ServerError,
    Fault::Truncated,
    Fault::BadNonce,
];

/// How many of each fault were injected, and how many requests passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Connections accepted.
    pub connections: u64,
    /// Requests received (not counting reset connections).
    pub requests: u64,
    /// Injected, indexed like [`ALL_FAULTS`].
    pub injected: [u64; 6],
}

impl FaultCounts {
    /// How many times `fault` was injected.
    pub fn of(&self, fault: Fault) -> u64 {
        let i = ALL_FAULTS.iter().position(|f| *f == fault).unwrap_or(0);
        self.injected[i]
    }

    /// All injected faults.
    pub fn total(&self) -> u64 {
        self.injected.iter().sum()
    }
}

struct State {
    /// Chance per connection (Reset) and per request (the others), in 1/1000.
    rate_per_mille: AtomicU32,
    /// The faults to pick from (default: all).
    kinds: Mutex<Vec<Fault>>,
    /// Shortest and longest injected delay, in milliseconds.
    delay_ms: Mutex<(u64, u64)>,
    rng: Mutex<fastrand::Rng>,
    connections: AtomicU64,
    requests: AtomicU64,
    injected: [AtomicU64; 6],
    upstream: String,
    client: Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        BodyWrapper<Bytes>,
    >,
}

impl State {
    fn roll(&self, kinds: &[Fault]) -> Option<Fault> {
        let allowed = self.kinds.lock().unwrap().clone();
        let kinds: Vec<Fault> = kinds
            .iter()
            .copied()
            .filter(|k| allowed.contains(k))
            .collect();
        let rate = self.rate_per_mille.load(Ordering::SeqCst);
        let mut rng = self.rng.lock().unwrap();
        if kinds.is_empty() || rate == 0 || rng.u32(0..1000) >= rate {
            return None;
        }
        let fault = kinds[rng.usize(0..kinds.len())];
        drop(rng);
        let i = ALL_FAULTS.iter().position(|f| *f == fault).unwrap();
        self.injected[i].fetch_add(1, Ordering::SeqCst);
        Some(fault)
    }
}

/// The running proxy; stops with its runtime task when dropped.
pub struct FaultProxy {
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
    /// Pebble's directory, reached through the proxy.
    pub directory_url: String,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy in front of `pebble`'s ACME side, injecting a fault
    /// into `rate_per_mille` of connections and requests (`seed` makes the
    /// choice of faults repeatable for one connection order).
    pub async fn start(pebble: &Pebble, rate_per_mille: u32, seed: u64) -> FaultProxy {
        let certs = CertificateDer::pem_slice_iter(pebble.tls_leaf_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("leaf PEM");
        let key = PrivateKeyDer::from_pem_slice(pebble.tls_leaf_key_pem.as_bytes()).expect("key");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server TLS");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let tls = crate::http::tls_config(Some(&pebble.tls_ca_pem)).expect("tls");
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        let upstream = pebble.directory_url.trim_end_matches("/dir").to_string();
        let state = Arc::new(State {
            rate_per_mille: AtomicU32::new(rate_per_mille),
            kinds: Mutex::new(ALL_FAULTS.to_vec()),
            delay_ms: Mutex::new((200, 1200)),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            connections: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            injected: Default::default(),
            upstream,
            client: Client::builder(TokioExecutor::new()).build(https),
        });
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let task_state = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let state = task_state.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    state.connections.fetch_add(1, Ordering::SeqCst);
                    if state.roll(&[Fault::Reset]).is_some() {
                        // Linger 0: closing sends RST instead of FIN.
                        let _ = socket2::SockRef::from(&tcp).set_linger(Some(Duration::ZERO));
                        drop(tcp);
                        return;
                    }
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |request| {
                        let state = state.clone();
                        async move { handle(state, request).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        FaultProxy {
            state,
            task,
            directory_url: format!("https://127.0.0.1:{port}/dir"),
        }
    }

    /// Changes the fault rate (0 turns the proxy into a plain relay).
    pub fn set_rate(&self, rate_per_mille: u32) {
        self.state
            .rate_per_mille
            .store(rate_per_mille, Ordering::SeqCst);
    }

    /// Injects only `kinds` from now on (the rate stays).
    pub fn set_kinds(&self, kinds: &[Fault]) {
        *self.state.kinds.lock().unwrap() = kinds.to_vec();
    }

    /// Injected delays last from `shortest` to `longest`.
    pub fn set_delay(&self, shortest: Duration, longest: Duration) {
        let low = shortest.as_millis() as u64;
        let high = (longest.as_millis() as u64).max(low.saturating_add(1));
        *self.state.delay_ms.lock().unwrap() = (low, high);
    }

    /// What was injected so far.
    pub fn counts(&self) -> FaultCounts {
        let mut injected = [0; 6];
        for (slot, count) in injected.iter_mut().zip(self.state.injected.iter()) {
            *slot = count.load(Ordering::SeqCst);
        }
        FaultCounts {
            connections: self.state.connections.load(Ordering::SeqCst),
            requests: self.state.requests.load(Ordering::SeqCst),
            injected,
        }
    }
}

type BoxError = std::io::Error;

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// A body that sends its first part and then fails, so the server aborts
/// the connection short of the promised `Content-Length`.
struct CutBody(Option<Bytes>);

impl Body for CutBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.0.take() {
            Some(part) => Poll::Ready(Some(Ok(Frame::data(part)))),
            None => Poll::Ready(Some(Err(io("injected truncation")))),
        }
    }
}

type ProxyBody = http_body_util::combinators::BoxBody<Bytes, BoxError>;

fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

async fn handle(
    state: Arc<State>,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<ProxyBody>, BoxError> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let fault = state.roll(&[
        Fault::LostReply,
        Fault::Delay,
        Fault::ServerError,
        Fault::Truncated,
        Fault::BadNonce,
    ]);
    if fault == Some(Fault::ServerError) {
        let internal = state.rng.lock().unwrap().bool();
        let response = if internal {
            hyper::Response::builder()
                .status(503)
                .header("content-type", "application/problem+json")
                .header("retry-after", "1")
                .body(full(
                    r#"{"type":"urn:ietf:params:acme:error:serverInternal","detail":"injected by the fault proxy","status":503}"#,
                ))
                .map_err(io)?
        } else {
            hyper::Response::builder()
                .status(502)
                .header("content-type", "text/html")
                .body(full("<html><body>502 Bad Gateway</body></html>"))
                .map_err(io)?
        };
        return Ok(response);
    }
    if fault == Some(Fault::Delay) {
        let (low, high) = *state.delay_ms.lock().unwrap();
        let ms = state.rng.lock().unwrap().u64(low..high);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(io)?.to_bytes();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut upstream = hyper::Request::builder()
        .method(parts.method)
        .uri(format!("{}{path}", state.upstream));
    for (name, value) in &parts.headers {
        upstream = upstream.header(name, value);
    }
    let response = state
        .client
        .request(
            upstream
                .body(BodyWrapper::from(body.to_vec()))
                .map_err(io)?,
        )
        .await
        .map_err(io)?;
    let (mut parts, body) = response.into_parts();
    let body = body.collect().await.map_err(io)?.to_bytes();
    match fault {
        Some(Fault::LostReply) => Err(io("injected lost reply")),
        Some(Fault::Truncated) if body.len() > 1 => {
            parts.headers.insert(
                "content-length",
                body.len().to_string().parse().map_err(io)?,
            );
            let half = body.slice(..body.len() / 2);
            Ok(hyper::Response::from_parts(
                parts,
                CutBody(Some(half)).boxed(),
            ))
        }
        Some(Fault::BadNonce) => {
            parts.headers.insert(
                "replay-nonce",
                "bm90LWEtbm9uY2UtcGViYmxlLWdhdmU".parse().map_err(io)?,
            );
            Ok(hyper::Response::from_parts(parts, full(body)))
        }
        _ => Ok(hyper::Response::from_parts(parts, full(body))),
    }
}
