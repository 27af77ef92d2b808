//! The public routes.

use std::net::SocketAddr;

use peter_core::app::{ChallengeRequest, Peter};
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Path};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler};

use crate::ServerLimits;

/// What the public routes need.
#[derive(Clone)]
pub struct PublicState {
    /// The facade over the shared store.
    pub peter: Peter,
    /// Sent as `X-Peter-SSLers`.
    pub environment: String,
}

impl PublicState {
    /// The public routes over `peter`, announcing `environment`.
    pub fn new(peter: Peter, environment: impl Into<String>) -> Self {
        Self {
            peter,
            environment: environment.into(),
        }
    }
}

/// The host a request was made for, lowercased and without its port: the
/// host of an absolute-form target if there is one (RFC 9112 §3.2.2 lets it
/// override Host), else the Host header.
fn request_host(req: &Request) -> String {
    let host = req
        .uri()
        .host()
        .or_else(|| req.header(header::HOST))
        .unwrap_or_default();
    let without_port = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    // An address is looked up in its canonical text, as peter stores it.
    match without_port.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => without_port.trim_end_matches('.').to_ascii_lowercase(),
    }
}

fn text(status: StatusCode, body: String) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

#[handler]
async fn challenge(
    req: &Request,
    Path(token): Path<String>,
    state: Data<&PublicState>,
) -> Response {
    let host = request_host(req);
    let remote = req
        .remote_addr()
        .as_socket_addr()
        .map(|a| a.ip().to_string());
    let request = ChallengeRequest {
        host: &host,
        token: &token,
        remote_ip: remote,
    };
    let answer = match state.peter.challenges().answer(request).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, "challenge lookup failed");
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "store unavailable\n".into(),
            );
        }
    };
    let response = match &answer.key_authorization {
        Some(key_authorization) => text(StatusCode::OK, key_authorization.clone()),
        None => text(StatusCode::NOT_FOUND, "no such challenge\n".into()),
    };
    // Counted in memory (bounded); written in batches off this request.
    let tallied = state.peter.challenges().tally(answer);
    if tallied.flush_due {
        spawn_flush(state.peter.clone(), true);
    }
    if tallied.limited {
        let mut limited = text(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests for unknown challenges\n".into(),
        );
        limited
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return limited;
    }
    response
}

/// Writes the poll tallies in the background (at most one write runs).
fn spawn_flush(peter: Peter, claimed: bool) {
    tokio::spawn(async move {
        if let Err(e) = peter.challenges().flush_polls(claimed).await {
            tracing::warn!(error = %e, "could not write challenge poll tallies");
        }
    });
}

#[handler]
fn whoami(req: &Request) -> Response {
    text(StatusCode::OK, request_host(req))
}

/// Why a request's Host is refused (RFC 9112 §3.2: an HTTP/1.1 request has
/// exactly one Host header), or `None`.
fn bad_host(req: &Request) -> Option<&'static str> {
    if req.version() != poem::http::Version::HTTP_11 {
        return None;
    }
    match req.headers().get_all(header::HOST).iter().count() {
        0 if req.uri().authority().is_none() => Some("an HTTP/1.1 request needs a Host header\n"),
        0 | 1 => None,
        _ => Some("a request has one Host header\n"),
    }
}

/// The public routes, with `X-Peter-SSLers: <environment>` on every response.
pub fn public_routes(state: PublicState) -> impl Endpoint {
    routes(state, None)
}

/// The public routes and, when `admin` is given, the admin API under
/// [`crate::ADMIN_PREFIX`]; `X-Peter-SSLers: <environment>` is on every
/// response. Without `admin` nothing answers under the admin prefix but 404.
pub fn routes(state: PublicState, admin: Option<crate::AdminState>) -> impl Endpoint {
    let environment =
        HeaderValue::from_str(&state.environment).unwrap_or(HeaderValue::from_static("production"));
    let mut route = Route::new()
        .at("/.well-known/acme-challenge/:token", get(challenge))
        .at("/.well-known/public/whoami", get(whoami));
    if let Some(admin) = admin {
        route = route.nest(crate::ADMIN_PREFIX, crate::admin::admin_routes(admin));
    }
    route.data(state).around(move |ep, req| {
        let environment = environment.clone();
        async move {
            let mut response = match bad_host(&req) {
                Some(why) => text(StatusCode::BAD_REQUEST, why.to_string()),
                None => match ep.call(req).await {
                    Ok(r) => r.into_response(),
                    Err(e) => e.into_response(),
                },
            };
            let headers = response.headers_mut();
            headers.insert("X-Peter-SSLers", environment);
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            Ok(response)
        }
    })
}

/// A running public server.
pub struct PublicServer {
    /// The address it listens on.
    pub local_addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Writes poll tallies on a timer, so quiet periods are written too.
    flusher: tokio::task::JoinHandle<()>,
    follower: tokio::task::JoinHandle<()>,
    peter: Peter,
}

impl PublicServer {
    /// Binds `addr` (so the port is open when this returns) and serves the
    /// public routes in the background.
    pub async fn start(addr: SocketAddr, state: PublicState) -> std::io::Result<Self> {
        Self::start_with_admin(addr, state, None).await
    }

    /// Like [`PublicServer::start`], with the admin API mounted when `admin`
    /// is given.
    pub async fn start_with_admin(
        addr: SocketAddr,
        state: PublicState,
        admin: Option<crate::AdminState>,
    ) -> std::io::Result<Self> {
        Self::start_with_limits(addr, state, admin, ServerLimits::default()).await
    }

    /// Like [`PublicServer::start_with_admin`], with every connection held
    /// to `limits`.
    pub async fn start_with_limits(
        addr: SocketAddr,
        state: PublicState,
        admin: Option<crate::AdminState>,
        limits: ServerLimits,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let peter = state.peter.clone();
        let flusher = {
            let peter = peter.clone();
            let every = peter.challenges().flush_interval();
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(every);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                ticks.tick().await;
                loop {
                    ticks.tick().await;
                    if let Err(e) = peter.challenges().flush_polls(false).await {
                        tracing::warn!(error = %e, "could not write challenge poll tallies");
                    }
                }
            })
        };
        // Domain config.json answers come from memory while this follows
        // the store's change feed (and from the store when it cannot).
        let follower = {
            let peter = peter.clone();
            tokio::spawn(async move { peter.follow_config_changes().await })
        };
        let task = tokio::spawn(crate::server::serve(
            listener,
            routes(state, admin),
            limits,
            async move {
                let _ = stopped.await;
            },
            std::time::Duration::from_secs(5),
        ));
        Ok(Self {
            local_addr,
            stop: Some(stop),
            task,
            flusher,
            follower,
            peter,
        })
    }

    /// Stops accepting, waits for the server to finish and writes the
    /// poll tallies still in memory.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = (&mut self.task).await.unwrap_or(Ok(()));
        self.finish().await;
        result
    }

    /// Serves until the task ends (for `peter serve`).
    pub async fn wait(mut self) -> std::io::Result<()> {
        let _keep = self.stop.take();
        let result = (&mut self.task).await.unwrap_or(Ok(()));
        self.finish().await;
        result
    }

    /// Serves until `shutdown` completes (then stops gracefully, as
    /// [`PublicServer::stop`]) or the server ends by itself.
    pub async fn serve_until(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        tokio::select! {
            result = &mut self.task => {
                self.finish().await;
                result.unwrap_or(Ok(()))
            }
            () = shutdown => self.stop().await,
        }
    }

    async fn finish(&self) {
        self.flusher.abort();
        self.follower.abort();
        if let Err(e) = self.peter.challenges().flush_polls(false).await {
            tracing::warn!(error = %e, "could not write challenge poll tallies");
        }
    }
}
