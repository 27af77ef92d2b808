//! `peter fake-server`: the major public and admin routes at their real
//! paths, answering canned but valid data, for testing proxy and gateway
//! setups without a store. Every answer carries `X-Peter-SSLers: fakeserver`.
//! Certificates are real: a self-signed EC P-256 certificate made for the
//! name asked about. Tokens are not checked. Every admin route here exists in
//! the real admin API (a test compares with its OpenAPI document).

use std::net::SocketAddr;

use peter_core::formats::{ParsedPrivateKey, self_signed_certificate};
use peter_core::model::KeyTechnology;
use poem::http::{HeaderValue, StatusCode};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Json, Path};
use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server, get, handler, post,
};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::ADMIN_PREFIX;
use crate::wire::Timestamp;

fn ts(t: time::OffsetDateTime) -> String {
    Timestamp(t).to_rfc3339()
}

/// The admin routes the fake server answers, as (method, path template in
/// the OpenAPI document's syntax).
pub const FAKE_ADMIN_ROUTES: &[(&str, &str)] = &[
    ("get", "/domains"),
    ("get", "/domain/{identifier}"),
    ("get", "/domain/{identifier}/config.json"),
    ("get", "/certificate-signeds"),
    ("get", "/certificate-signed/{id}"),
    ("get", "/certificate-signed/{id}/config.json"),
    ("get", "/certificate-signed/{id}/{file}"),
    ("post", "/api/domain/enable"),
    ("post", "/api/domain/disable"),
    ("post", "/api/domain/certificate-if-needed"),
    ("post", "/api/redis/prime"),
    ("post", "/api/nginx/cache-flush"),
    ("post", "/api/nginx/status"),
];

struct Material {
    cert_pem: String,
    key_pem: String,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

/// A fresh self-signed certificate for `name` (example.com when the name is
/// not a valid domain).
fn material(name: &str) -> Result<Material, String> {
    let name = peter_core::dns::DomainName::parse(name)
        .map(|n| n.as_str().to_string())
        .unwrap_or_else(|_| "example.com".into());
    let key = ParsedPrivateKey::generate(KeyTechnology::EcP256).map_err(|e| e.to_string())?;
    let now = OffsetDateTime::now_utc();
    let not_before = peter_core::model::rules::later_by(now, Duration::hours(-1));
    let not_after = peter_core::model::rules::later_by(now, Duration::days(90));
    let cert = self_signed_certificate(&key, &[&name], not_before, not_after)
        .map_err(|e| e.to_string())?;
    Ok(Material {
        cert_pem: cert.pem().to_string(),
        key_pem: key.pem().to_string(),
        not_before,
        not_after,
    })
}

fn failure(e: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"result": "error", "error": e})),
    )
        .into_response()
}

fn cert_config(m: &Material) -> Value {
    json!({
        "id": "1",
        "private_key": {"id": "1", "pem": m.key_pem},
        "certificate": {"id": "1", "pem": m.cert_pem},
        "chain": null,
        "fullchain": {"id": "1", "pem": m.cert_pem},
    })
}

fn cert_view(m: &Material) -> Value {
    json!({
        "id": 1, "cert_pem": m.cert_pem, "is_active": true, "is_deactivated": false,
        "is_revoked": false, "is_compromised_private_key": false,
        "timestamp_not_before": ts(m.not_before), "timestamp_not_after": ts(m.not_after),
        "private_key_id": 1, "unique_fqdn_set_id": 1, "is_single_domain_cert": true,
        "key_technology": "EC_P256",
    })
}

fn domain_view(name: &str) -> Value {
    json!({"id": 1, "domain_name": name, "is_active": true,
           "certificate_signed_id__latest_single": 1, "certificate_signed_id__latest_multi": null})
}

fn pagination(n: u64) -> Value {
    json!({"total_items": n, "page": 1, "per_page": 50, "page_next": null})
}

#[handler]
fn whoami(req: &Request) -> String {
    req.uri()
        .host()
        .or_else(|| req.header("host"))
        .unwrap_or_default()
        .split(':')
        .next()
        .unwrap_or_default()
        .to_string()
}

#[handler]
fn challenge(Path(token): Path<String>) -> String {
    format!("{token}.fakeserver")
}

#[handler]
fn domains() -> Json<Value> {
    Json(json!({"Domains": [domain_view("example.com")], "pagination": pagination(1)}))
}

#[handler]
fn domain(Path(identifier): Path<String>) -> Json<Value> {
    let name = if identifier.bytes().all(|b| b.is_ascii_digit()) {
        "example.com".to_string()
    } else {
        identifier.to_ascii_lowercase()
    };
    Json(json!({"Domain": domain_view(&name)}))
}

#[handler]
fn domain_config(Path(identifier): Path<String>) -> Response {
    match material(&identifier) {
        Ok(m) => Json(json!({
            "domain": {"id": "1", "domain_name": identifier.to_ascii_lowercase(), "is_active": true},
            "certificate_signed__latest_single": cert_config(&m),
            "certificate_signed__latest_multi": null,
        }))
        .into_response(),
        Err(e) => failure(e),
    }
}

#[handler]
fn certificates() -> Response {
    match material("example.com") {
        Ok(m) => Json(json!({"CertificateSigneds": [cert_view(&m)], "pagination": pagination(1)}))
            .into_response(),
        Err(e) => failure(e),
    }
}

#[handler]
fn certificate() -> Response {
    match material("example.com") {
        Ok(m) => {
            Json(json!({"result": "success", "CertificateSigned": cert_view(&m)})).into_response()
        }
        Err(e) => failure(e),
    }
}

#[handler]
fn certificate_config() -> Response {
    match material("example.com") {
        Ok(m) => Json(cert_config(&m)).into_response(),
        Err(e) => failure(e),
    }
}

#[handler]
fn certificate_file(Path((_id, file)): Path<(String, String)>) -> Response {
    let m = match material("example.com") {
        Ok(m) => m,
        Err(e) => return failure(e),
    };
    let (body, content_type) = match file.as_str() {
        "cert.pem" | "fullchain.pem" => (m.cert_pem, "application/x-pem-file"),
        "cert.pem.txt" | "fullchain.pem.txt" => (m.cert_pem, "text/plain"),
        "chain.pem" => (String::new(), "application/x-pem-file"),
        "chain.pem.txt" => (String::new(), "text/plain"),
        "privkey.pem" => (m.key_pem, "application/x-pem-file"),
        "privkey.pem.txt" => (m.key_pem, "text/plain"),
        _ => {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"result": "error", "error": "the fake server has no such file"})),
            )
                .into_response();
        }
    };
    Response::builder().content_type(content_type).body(body)
}

#[handler]
fn domain_results(body: String) -> Json<Value> {
    let names = peter_core::app::split_names(
        &body
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(_, v)| v.replace("%2C", ","))
            .collect::<Vec<_>>()
            .join(","),
    );
    let results: serde_json::Map<String, Value> =
        names.into_iter().map(|n| (n, json!("exists"))).collect();
    Json(json!({"result": "success", "domain_results": results}))
}

#[handler]
fn certificate_if_needed() -> Json<Value> {
    Json(
        json!({"result": "success", "domain_results": {"example.com": {
        "domain.status": "existing.active", "domain.id": 1,
        "certificate_signed.status": "exists", "certificate_signed.id": 1, "acme_order.id": null}}}),
    )
}

#[handler]
fn redis_prime() -> Json<Value> {
    Json(
        json!({"result": "success", "style": "1", "total_primed": {"domain": 1, "cert": 1, "pkey": 1, "certcachain": 1}}),
    )
}

#[handler]
fn nginx() -> Json<Value> {
    Json(
        json!({"result": "success", "servers_status": {"success": [], "errors": [], "servers": {}}}),
    )
}

/// The fake server's routes, with `X-Peter-SSLers: fakeserver` everywhere.
pub fn fake_routes() -> impl Endpoint {
    let admin = Route::new()
        .at("/domains", get(domains))
        .at("/domain/:identifier", get(domain))
        .at("/domain/:identifier/config.json", get(domain_config))
        .at("/certificate-signeds", get(certificates))
        .at("/certificate-signed/:id", get(certificate))
        .at(
            "/certificate-signed/:id/config.json",
            get(certificate_config),
        )
        .at("/certificate-signed/:id/:file", get(certificate_file))
        .at("/api/domain/enable", post(domain_results))
        .at("/api/domain/disable", post(domain_results))
        .at(
            "/api/domain/certificate-if-needed",
            post(certificate_if_needed),
        )
        .at("/api/redis/prime", post(redis_prime))
        .at("/api/nginx/cache-flush", post(nginx))
        .at("/api/nginx/status", post(nginx));
    Route::new()
        .at("/.well-known/public/whoami", get(whoami))
        .at("/.well-known/acme-challenge/:token", get(challenge))
        .nest(ADMIN_PREFIX, admin)
        .around(|ep, req| async move {
            let mut response = match ep.call(req).await {
                Ok(r) => r.into_response(),
                Err(e) => e.into_response(),
            };
            response
                .headers_mut()
                .insert("X-Peter-SSLers", HeaderValue::from_static("fakeserver"));
            Ok(response)
        })
}

/// Serves the fake routes on `addr` until the task is dropped; returns the
/// bound address and the server's task.
pub async fn start_fake_server(
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let acceptor = TcpListener::bind(addr).into_acceptor().await?;
    let local = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .unwrap_or(addr);
    let task = tokio::spawn(Server::new_with_acceptor(acceptor).run(fake_routes()));
    Ok((local, task))
}
