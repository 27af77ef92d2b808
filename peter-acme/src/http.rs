//! The one HTTP client every ACME request goes through: TLS trusting the
//! server's own CA bundle (or the public web roots), TCP_NODELAY, a timeout,
//! and an AcmeEventLog row per exchange.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use peter_core::model::{AcmeEvent, NewAcmeEventLog};
use peter_core::ports::{AcmeError, EventRefs, EventStore, Problem};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

type Inner = HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, BodyWrapper<Bytes>>;

tokio::task_local! {
    /// What the requests made inside the current adapter call are for.
    pub static EXCHANGE: (AcmeEvent, EventRefs);
    /// The last Retry-After seen inside the current adapter call (instant-acme
    /// drops response headers from its errors; the adapter puts it back).
    pub static RETRY_AFTER: std::cell::Cell<Option<i64>>;
}

/// Runs an adapter call: its requests are logged as `exchange`, and a
/// server error that lost its Retry-After gets the one the response carried.
pub async fn scoped<T>(
    exchange: (AcmeEvent, EventRefs),
    call: impl std::future::Future<Output = Result<T, AcmeError>>,
) -> Result<T, AcmeError> {
    RETRY_AFTER
        .scope(std::cell::Cell::new(None), async {
            let result = EXCHANGE.scope(exchange, call).await;
            result.map_err(|e| match e {
                AcmeError::Server {
                    problem,
                    http_status,
                    retry_after_seconds: None,
                } => AcmeError::Server {
                    problem,
                    http_status,
                    retry_after_seconds: RETRY_AFTER.with(|c| c.get()),
                },
                other => other,
            })
        })
        .await
}

/// A response as peter's own requests see it.
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: ::http::HeaderMap,
    /// Body.
    pub body: Bytes,
}

/// The logging, timing-out HTTP client shared by instant-acme and [`crate::jws`].
#[derive(Clone)]
pub struct LoggingClient {
    inner: Inner,
    store: Arc<dyn EventStore>,
    timeout: Duration,
}

/// Builds the TLS configuration: the bundle's certificates when given, else
/// the public web PKI roots.
pub fn tls_config(ca_bundle_pem: Option<&str>) -> Result<rustls::ClientConfig, AcmeError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    match ca_bundle_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert =
                    cert.map_err(|e| AcmeError::transport_from(format!("bad CA bundle: {e}"), e))?;
                roots.add(cert).map_err(|e| {
                    AcmeError::transport_from(format!("bad CA bundle certificate: {e}"), e)
                })?;
            }
            if roots.is_empty() {
                return Err(AcmeError::transport("the CA bundle holds no certificate"));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AcmeError::transport_from(e.to_string(), e))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn problem_of(body: &[u8]) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct P {
        #[serde(rename = "type")]
        t: Option<String>,
        detail: Option<String>,
    }
    match serde_json::from_slice::<P>(body) {
        // A badNonce detail quotes the rejected nonce: keep only the type.
        Ok(p) if p.t.as_deref().is_some_and(|t| t.ends_with(":badNonce")) => (
            p.t,
            Some("the server rejected the anti-replay nonce".into()),
        ),
        Ok(p) => (p.t, p.detail.map(|d| d.chars().take(1000).collect())),
        Err(_) => (None, None),
    }
}

/// Seconds from a Retry-After header (delta-seconds or an HTTP date).
pub fn retry_after_seconds(headers: &::http::HeaderMap) -> Option<i64> {
    let value = headers
        .get(::http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<i64>() {
        return Some(secs.max(0));
    }
    let format = time::format_description::well_known::Rfc2822;
    let at = time::OffsetDateTime::parse(value, &format).ok()?;
    Some(
        peter_core::model::rules::between(time::OffsetDateTime::now_utc(), at)
            .whole_seconds()
            .max(0),
    )
}

fn event_for(method: &::http::Method, url: &str) -> AcmeEvent {
    if method == ::http::Method::HEAD || url.contains("nonce") {
        AcmeEvent::NewNonce
    } else if method == ::http::Method::GET && url.contains("renewal") {
        AcmeEvent::RenewalInfo
    } else if method == ::http::Method::GET {
        AcmeEvent::Directory
    } else {
        AcmeEvent::OrderLocation
    }
}

/// Names what went wrong on the way to the server: an untrusted TLS
/// certificate, a refused connection, or another transport failure, with
/// the innermost cause spelled out.
fn connection_error(url: &str, e: hyper_util::client::legacy::Error) -> AcmeError {
    let mut refused = false;
    let mut tls: Option<String> = None;
    let mut innermost = e.to_string();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = next {
        innermost = err.to_string();
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            tls = Some(r.to_string());
        }
        next = match err.downcast_ref::<std::io::Error>() {
            Some(io) => {
                refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
                // An io::Error's `source()` skips the error it wraps (which
                // may be another io::Error around rustls's): step into it.
                match io.get_ref() {
                    Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                    None => err.source(),
                }
            }
            None => err.source(),
        };
    }
    if let Some(why) = tls {
        return AcmeError::Untrusted(format!("{url}: {why}"), Some(std::sync::Arc::new(e)));
    }
    if refused {
        return AcmeError::transport_from(format!("{url}: connection refused"), e);
    }
    AcmeError::transport_from(format!("{url}: {innermost}"), e)
}

impl LoggingClient {
    /// A client trusting `ca_bundle_pem` (or the public roots), recording into `store`.
    pub fn new(store: Arc<dyn EventStore>, ca_bundle_pem: Option<&str>) -> Result<Self, AcmeError> {
        let tls = tls_config(ca_bundle_pem)?;
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let inner = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Self {
            inner,
            store,
            timeout: Duration::from_secs(30),
        })
    }

    /// Sends a request, buffers the answer and records the exchange.
    pub async fn send(
        &self,
        request: ::http::Request<BodyWrapper<Bytes>>,
    ) -> Result<RawResponse, AcmeError> {
        let method = request.method().clone();
        let url = request.uri().to_string();
        let (event, refs) = EXCHANGE
            .try_with(|x| *x)
            .unwrap_or((event_for(&method, &url), EventRefs::default()));
        let event = if method == ::http::Method::HEAD {
            AcmeEvent::NewNonce
        } else if method == ::http::Method::GET && event != AcmeEvent::RenewalInfo {
            AcmeEvent::Directory
        } else {
            event
        };
        let started = Instant::now();
        let fut = self.inner.request(request);
        let result = tokio::time::timeout(self.timeout, async {
            let response = fut.await.map_err(|e| connection_error(&url, e))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| AcmeError::transport_from(format!("{url}: {e}"), e))?
                .to_bytes();
            Ok::<_, AcmeError>(RawResponse {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        })
        .await
        .unwrap_or_else(|_| {
            Err(AcmeError::Timeout(format!(
                "{url} did not answer within {:?}",
                self.timeout
            )))
        });
        let duration_ms = started.elapsed().as_millis() as i64;
        let mut log = NewAcmeEventLog {
            event: Some(event),
            endpoint: url.clone(),
            duration_ms,
            acme_account_id: refs.acme_account_id,
            acme_order_id: refs.acme_order_id,
            acme_authorization_id: refs.acme_authorization_id,
            acme_challenge_id: refs.acme_challenge_id,
            certificate_signed_id: refs.certificate_signed_id,
            ..Default::default()
        };
        match &result {
            Ok(r) => {
                log.http_status = Some(r.status as i32);
                log.retry_after_seconds = retry_after_seconds(&r.headers);
                if r.status >= 400 {
                    let (t, d) = problem_of(&r.body);
                    log.problem_type = t;
                    log.problem_detail = d;
                }
            }
            Err(e) => log.problem_detail = Some(e.to_string()),
        }
        if let Some(seconds) = log.retry_after_seconds {
            let _ = RETRY_AFTER.try_with(|c| c.set(Some(seconds)));
        }
        if let Err(e) = self.store.record_acme_event(log).await {
            tracing::warn!(error = %e, "could not record an ACME exchange");
        }
        match result {
            // A 5xx without a problem document comes from the CA's edge (a
            // load balancer, a proxy): it is the CA failing, said so in a
            // form every caller classifies the same way.
            Ok(r) if r.status >= 500 && problem_of(&r.body).0.is_none() => Err(AcmeError::Server {
                problem: Problem {
                    problem_type: None,
                    detail: Some(format!(
                        "{url} answered HTTP {} without a problem document",
                        r.status
                    )),
                    status: Some(r.status),
                },
                http_status: Some(r.status),
                retry_after_seconds: retry_after_seconds(&r.headers),
            }),
            other => other,
        }
    }
}

impl HttpClient for LoggingClient {
    fn request(
        &self,
        req: ::http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let this = self.clone();
        Box::pin(async move {
            let r = this
                .send(req)
                .await
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?;
            let mut builder = ::http::Response::builder().status(r.status);
            for (k, v) in r.headers.iter() {
                builder = builder.header(k, v);
            }
            let (parts, _) = builder
                .body(())
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?
                .into_parts();
            Ok(BytesResponse {
                parts,
                body: Box::new(r.body),
            })
        })
    }
}
