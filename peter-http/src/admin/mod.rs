//! The admin API under `/.well-known/peter_sslers`, described by OpenAPI.
//!
//! It hands out private keys on purpose, so it exists only when the caller
//! mounts it ([`crate::routes`] with `Some(AdminState)`), and every route
//! asks for the admin token; a domain's `config.json` also accepts the
//! read-only gateway token or a listed gateway network. Handlers parse,
//! call the [`Peter`] facade and render a view: the rules and every side
//! effect of a change live in `peter_core`.
//!
//! One module per tag of the document: `domains`, `certificates`, `cas`,
//! `keys`, `requests`, `accounts`, `orders`, `authorizations`, `logs` and
//! `operations` (the bulk `api/` routes, Redis, nginx and metrics).

// Handlers answer with poem-openapi response enums, large by nature.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use peter_core::app::Peter;
use poem::http::StatusCode;
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route};
use poem_openapi::{OpenApiService, Tags};

mod accounts;
pub mod answer;
pub mod auth;
mod authorizations;
mod body;
mod cas;
mod certificates;
mod document;
mod domains;
mod keys;
mod logs;
mod operations;
mod orders;
mod requests;
mod semantics;

pub use auth::{AccessError, AdminAccess};

/// Where the admin API lives.
pub const ADMIN_PREFIX: &str = "/.well-known/peter_sslers";

/// Largest request body the admin API reads (uploads of a certificate, key
/// and chain fit easily).
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// What the admin routes work with.
#[derive(Clone)]
pub struct AdminState {
    /// The facade.
    pub peter: Peter,
    /// Tokens and gateway networks.
    pub access: Arc<AdminAccess>,
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Time allowed for a request body to arrive once its headers have
    /// (408 beyond; default 60 s).
    pub body_timeout: std::time::Duration,
}

impl AdminState {
    /// The admin API over `peter`, guarded by `access`.
    pub fn new(peter: Peter, access: AdminAccess) -> Self {
        Self {
            peter,
            access: Arc::new(access),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_timeout: std::time::Duration::from_secs(60),
        }
    }

    /// With another body limit.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// With another deadline for request bodies.
    pub fn body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_timeout = timeout;
        self
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
    /// Bulk operations, Redis, nginx and metrics.
    Api,
}

type Apis = (
    (
        domains::DomainsApi,
        certificates::CertificatesApi,
        cas::CasApi,
        keys::KeysApi,
        requests::RequestsApi,
    ),
    (
        accounts::AccountsApi,
        orders::OrdersApi,
        authorizations::AuthorizationsApi,
        logs::LogsApi,
        operations::OperationsApi,
    ),
);

/// The OpenAPI service of the admin API (paths carry the admin prefix).
pub fn admin_api(state: AdminState) -> OpenApiService<document::Documented<Apis>, ()> {
    let p = state.peter.clone();
    OpenApiService::new(
        document::Documented((
            (
                domains::DomainsApi(state.clone()),
                certificates::CertificatesApi(p.clone()),
                cas::CasApi(p.clone()),
                keys::KeysApi(p.clone()),
                requests::RequestsApi(p.clone()),
            ),
            (
                accounts::AccountsApi(p.clone()),
                orders::OrdersApi(p.clone()),
                authorizations::AuthorizationsApi(p.clone()),
                logs::LogsApi(p.clone()),
                operations::OperationsApi(p),
            ),
        )),
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
    .license(poem_openapi::LicenseObject::new("MIT").url("https://opensource.org/licenses/MIT"))
    .server(
        poem_openapi::ServerObject::new("/").description("the peter node serving this document"),
    )
}

/// The OpenAPI document, as JSON.
pub fn openapi_json(state: AdminState) -> String {
    admin_api(state).spec()
}

/// Turns an error raised outside a handler (unknown route, wrong method,
/// a parameter or body that does not parse, missing token, body too large,
/// wrong content type) into the admin API's JSON error document. Such
/// errors are the caller's: never a 5xx.
fn json_error(e: poem::Error) -> Response {
    if e.is_from_response() {
        // A handler's own answer (an `ApiError`): already the JSON document.
        return e.into_response();
    }
    let mut status = e.status();
    let body = if let Some(p) = e.downcast_ref::<poem_openapi::error::ParseParamError>() {
        status = StatusCode::BAD_REQUEST;
        answer::ErrorBody::field(p.name, p.reason.clone())
    } else {
        answer::ErrorBody::new(match status {
            StatusCode::NOT_FOUND => "no such admin route".to_string(),
            StatusCode::METHOD_NOT_ALLOWED => "method not allowed (actions are POST)".to_string(),
            StatusCode::UNAUTHORIZED => {
                "a valid `Authorization: Bearer <token>` header is required".to_string()
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                format!("{e}: send application/json (or a form)")
            }
            _ => e.to_string(),
        })
    };
    if status.is_server_error() {
        status = StatusCode::BAD_REQUEST;
    }
    let mut response = Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(crate::views::render(&body).to_string());
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            poem::http::header::WWW_AUTHENTICATE,
            poem::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

/// Reads at most `limit` bytes of a request body: a longer one (announced
/// or not) is refused with 413 before any handler sees it. The refusal
/// closes the connection, since the rest of the body was not read.
/// Whether a request carries the admin or the gateway token.
fn authenticated(req: &poem::Request, access: &AdminAccess) -> bool {
    req.header(poem::http::header::AUTHORIZATION)
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .is_some_and(|token| access.is_admin(token) || access.is_gateway(token))
}

/// Reads a request body only for an authenticated caller, within the size
/// limit (413) and the deadline (408). An anonymous request is answered
/// (401, or whatever the route says) without its body being read, so a
/// stranger learns nothing from the size check and cannot hold a reader.
async fn limit_body<E: Endpoint>(
    ep: Arc<E>,
    mut req: poem::Request,
    access: Arc<AdminAccess>,
    limit: usize,
    deadline: std::time::Duration,
) -> poem::Result<Response> {
    let closing = |status: StatusCode| {
        let mut r = json_error(poem::Error::from_status(status));
        r.headers_mut().insert(
            poem::http::header::CONNECTION,
            poem::http::HeaderValue::from_static("close"),
        );
        r
    };
    let has_body = req
        .header(poem::http::header::CONTENT_LENGTH)
        .is_some_and(|v| v.trim() != "0")
        || req
            .headers()
            .contains_key(poem::http::header::TRANSFER_ENCODING);
    if has_body && !authenticated(&req, &access) {
        // The route refuses it; its body stays unread and the connection
        // is not reused.
        req.set_body(poem::Body::empty());
        let mut response = ep.call(req).await?.into_response();
        response.headers_mut().insert(
            poem::http::header::CONNECTION,
            poem::http::HeaderValue::from_static("close"),
        );
        return Ok(response);
    }
    let announced = req
        .header(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit) {
        return Ok(closing(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let body = req.take_body();
    let bytes = match tokio::time::timeout(deadline, body.into_bytes_limit(limit)).await {
        Err(_) => return Ok(closing(StatusCode::REQUEST_TIMEOUT)),
        Ok(Err(_)) => return Ok(closing(StatusCode::PAYLOAD_TOO_LARGE)),
        Ok(Ok(bytes)) => bytes,
    };
    req.set_body(bytes);
    Ok(ep.call(req).await?.into_response())
}

/// The admin routes, to nest at [`ADMIN_PREFIX`]: the API, its OpenAPI
/// document at `api/openapi.json` and (with the `swagger-ui` feature)
/// Swagger UI at `api/docs`. These two describe the routes and hold no
/// data, so they need no token.
pub fn admin_routes(state: AdminState) -> impl Endpoint {
    let access = state.access.clone();
    let access_for_body = state.access.clone();
    let limit = state.max_body_bytes;
    let deadline = state.body_timeout;
    let service = admin_api(state);
    let spec_json = service.spec();
    let spec = service.spec_endpoint();
    #[cfg(feature = "swagger-ui")]
    let docs = service.swagger_ui();
    let route = Route::new()
        .nest("/", service)
        .at("/api/openapi.json", spec);
    #[cfg(feature = "swagger-ui")]
    let route = route.nest("/api/docs", docs);
    let known = Arc::new(semantics::KnownParameters::from_spec(&spec_json));
    route
        .data(access)
        .around(move |ep, req| {
            let access = access_for_body.clone();
            limit_body(ep, req, access, limit, deadline)
        })
        .around(move |ep, req| semantics::refuse_unknown_parameters(ep, req, known.clone()))
        .around(semantics::conditional_get)
        .catch_all_error(|e: poem::Error| async move { json_error(e) })
}
