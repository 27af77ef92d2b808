//! The admin API under `/.well-known/peter_sslers`, described by OpenAPI.
//!
//! It hands out private keys on purpose, so it exists only when the caller
//! mounts it ([`crate::routes`] with `Some(AdminState)`), and every route
//! asks for the admin token; a domain's `config.json` also accepts the
//! read-only gateway token or a listed gateway network. Handlers translate
//! requests into `peter_core` service calls and answers back; the rules live
//! in `peter_core`.

// Handlers answer with poem-openapi response enums, large by nature; file
// enums name their files (`cert.pem`, `cert.der`, ...).
#![allow(clippy::result_large_err, clippy::enum_variant_names)]

use std::sync::Arc;

use peter_core::ports::{AcmeClient, Clock, Store};
use peter_core::services::orders::{OrderSettings, Orders};
use poem::http::StatusCode;
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route};
use poem_openapi::{OpenApiService, Tags};

pub mod answer;
mod api_acme;
mod api_certs;
mod api_domains;
mod api_misc;
pub mod auth;
mod body;
pub mod views;

pub use auth::AdminAccess;

/// Where the admin API lives.
pub const ADMIN_PREFIX: &str = "/.well-known/peter_sslers";

/// Largest request body the admin API reads (uploads of a certificate, key
/// and chain fit easily).
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// What the admin routes work with.
#[derive(Clone)]
pub struct AdminState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The ACME client.
    pub acme: Arc<dyn AcmeClient>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Polling for order processing.
    pub order_settings: OrderSettings,
    /// Tokens and gateway networks.
    pub access: Arc<AdminAccess>,
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Redis priming for OpenResty gateways, when configured.
    pub redis: Option<RedisPublishing>,
    /// OpenResty/nginx servers whose certificate cache peter expires.
    pub nginx: Option<Arc<crate::nginx::NginxClient>>,
}

/// How the admin API primes Redis.
#[derive(Clone)]
pub struct RedisPublishing {
    /// The cache.
    pub publisher: Arc<dyn peter_core::ports::CachePublisher>,
    /// The key layout written unless a request names another.
    pub style: peter_core::ports::PrimeStyle,
    /// Rewrite a certificate's domains after it is issued, imported or marked.
    pub on_change: bool,
}

impl AdminState {
    /// Refreshes caches after a certificate changed (when configured to).
    /// Failures are logged: the change itself is already committed.
    pub(crate) async fn after_certificate_change(
        &self,
        id: peter_core::model::CertificateSignedId,
    ) {
        let Some(redis) = self.redis.as_ref().filter(|r| r.on_change) else {
            return;
        };
        if let Err(e) = peter_core::services::publish::republish_certificate(
            self.store.as_ref(),
            redis.publisher.as_ref(),
            redis.style,
            id,
        )
        .await
        {
            tracing::warn!(certificate = id.0, error = %e, "redis priming after a change failed");
        }
    }
}

impl AdminState {
    /// The order services over this state.
    pub(crate) fn orders(&self) -> Orders<'_> {
        Orders {
            store: self.store.as_ref(),
            acme: self.acme.as_ref(),
            clock: self.clock.as_ref(),
            settings: self.order_settings,
        }
    }
}

/// Groups of operations in the OpenAPI document.
#[derive(Tags)]
pub(crate) enum ApiTags {
    /// Domains and their config.json.
    Domain,
    /// Certificates peter holds, their files and marks.
    CertificateSigned,
    /// CA certificates, chains and the CA preference list.
    CertificateCa,
    /// Private keys.
    PrivateKey,
    /// Certificate requests and name sets.
    CertificateRequest,
    /// ACME servers and accounts.
    AcmeAccount,
    /// ACME orders.
    AcmeOrder,
    /// ACME authorizations and challenges.
    AcmeAuthorization,
    /// Logs.
    Log,
    /// Bulk operations.
    Api,
}

type Apis = (
    api_domains::DomainsApi,
    api_certs::CertificatesApi,
    api_misc::ObjectsApi,
    api_acme::AcmeApi,
    api_misc::OperationsApi,
);

/// The OpenAPI service of the admin API (paths carry the admin prefix).
pub fn admin_api(state: AdminState) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            api_domains::DomainsApi(state.clone()),
            api_certs::CertificatesApi(state.clone()),
            api_misc::ObjectsApi(state.clone()),
            api_acme::AcmeApi(state.clone()),
            api_misc::OperationsApi(state),
        ),
        "peter admin API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "peter's admin API. Every route needs `Authorization: Bearer <admin token>`; \
         a domain's config.json also accepts the read-only gateway token. Errors are \
         `{\"result\":\"error\",\"error\":...,\"form_errors\":{...}}` with a 4xx status; \
         an ACME server's refusal is 502 with its problem document.",
    )
    .url_prefix(ADMIN_PREFIX)
}

/// The OpenAPI document, as JSON.
pub fn openapi_json(state: AdminState) -> String {
    admin_api(state).spec()
}

/// Turns an error raised outside a handler (unknown route, wrong method,
/// unreadable body, missing token, body too large) into the admin API's
/// JSON error document. Such errors are the caller's: never a 5xx.
fn json_error(e: poem::Error) -> Response {
    if e.is_from_response() {
        // A handler's own answer (an `ApiError`): already the JSON document.
        return e.into_response();
    }
    let mut status = e.status();
    let message = match status {
        StatusCode::NOT_FOUND => "no such admin route".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed (actions are POST)".to_string(),
        StatusCode::UNAUTHORIZED => {
            "a valid `Authorization: Bearer <token>` header is required".to_string()
        }
        _ => e.to_string(),
    };
    if status.is_server_error() {
        status = StatusCode::BAD_REQUEST;
    }
    let body = serde_json::json!({"result": "error", "error": message});
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

/// Reads at most `limit` bytes of a request body: a longer one (announced
/// or not) is refused with 413 before any handler sees it. The refusal
/// closes the connection, since the rest of the body was not read.
async fn limit_body<E: Endpoint>(
    ep: Arc<E>,
    mut req: poem::Request,
    limit: usize,
) -> poem::Result<Response> {
    let too_large = || {
        let mut r = json_error(poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE));
        r.headers_mut().insert(
            poem::http::header::CONNECTION,
            poem::http::HeaderValue::from_static("close"),
        );
        r
    };
    let announced = req
        .header(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit) {
        return Ok(too_large());
    }
    let body = req.take_body();
    let Ok(bytes) = body.into_bytes_limit(limit).await else {
        return Ok(too_large());
    };
    req.set_body(bytes);
    Ok(ep.call(req).await?.into_response())
}

/// The admin routes, to nest at [`ADMIN_PREFIX`]: the API, its OpenAPI
/// document at `api/openapi.json` and Swagger UI at `api/docs` (these two
/// describe the routes and hold no data, so they need no token).
pub fn admin_routes(state: AdminState) -> impl Endpoint {
    let access = state.access.clone();
    let limit = state.max_body_bytes;
    let service = admin_api(state);
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    Route::new()
        .nest("/", service)
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .data(access)
        .around(move |ep, req| limit_body(ep, req, limit))
        .catch_all_error(|e: poem::Error| async move { json_error(e) })
}
