//! HTTP semantics the admin API keeps for every route: query parameters the
//! document does not list are refused (so `domains?domian_name=x` is an
//! error, not every domain), and what a web server installs (config.json,
//! config.zip, files) carries a strong ETag that `If-None-Match` turns into
//! a 304.

use std::collections::BTreeSet;
use std::sync::Arc;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use super::answer::ErrorBody;

/// The query parameters each documented operation takes, read from the
/// document itself, so the check and the document cannot drift.
pub(crate) struct KnownParameters {
    operations: Vec<(Method, Vec<String>, BTreeSet<String>)>,
}

impl KnownParameters {
    pub(crate) fn from_spec(spec: &str) -> Self {
        let mut operations = Vec::new();
        let doc: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        if let Some(paths) = doc.get("paths").and_then(serde_json::Value::as_object) {
            for (path, item) in paths {
                let Some(item) = item.as_object() else {
                    continue;
                };
                for (method, operation) in item {
                    let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                        continue;
                    };
                    let names = operation["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|p| p["in"] == "query")
                        .filter_map(|p| p["name"].as_str().map(str::to_string))
                        .collect();
                    let segments = path.split('/').map(str::to_string).collect();
                    operations.push((method, segments, names));
                }
            }
        }
        Self { operations }
    }

    /// The documented query parameters of the operation at `path`, if one is documented.
    fn of(&self, method: &Method, path: &str) -> Option<&BTreeSet<String>> {
        let segments: Vec<&str> = path.split('/').collect();
        self.operations
            .iter()
            .filter(|(m, template, _)| m == method && template.len() == segments.len())
            .find(|(_, template, _)| {
                template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t.starts_with('{') || t == s)
            })
            .map(|(_, _, names)| names)
    }
}

/// Refuses, with 400 naming them, query parameters the operation does not document.
pub(crate) async fn refuse_unknown_parameters<E: Endpoint>(
    ep: Arc<E>,
    req: Request,
    known: Arc<KnownParameters>,
) -> poem::Result<Response> {
    if let Some(allowed) = known.of(req.method(), req.original_uri().path()) {
        let pairs: Vec<(String, String)> = req.params().unwrap_or_default();
        let unknown: BTreeSet<&str> = pairs
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !allowed.contains(*k))
            .collect();
        if !unknown.is_empty() {
            let mut body = ErrorBody::new(format!(
                "unknown query parameter(s): {}",
                unknown.iter().copied().collect::<Vec<_>>().join(", ")
            ));
            body.form_errors = Some(
                unknown
                    .iter()
                    .map(|k| (k.to_string(), "not a parameter of this route".to_string()))
                    .collect(),
            );
            return Ok(Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .content_type("application/json; charset=utf-8")
                .body(crate::views::render(&body).to_string()));
        }
    }
    Ok(ep.call(req).await?.into_response())
}

/// What a web server installs: config.json, config.zip and files (anything
/// that is not a JSON description of peter's objects).
fn is_installable(path: &str, response: &Response) -> bool {
    path.ends_with("/config.json")
        || !response
            .content_type()
            .is_some_and(|ct| ct.starts_with("application/json"))
}

/// A strong ETag on what a web server installs; `If-None-Match` with it
/// answers 304. config.json and config.zip hold a private key: `no-store`.
pub(crate) async fn conditional_get<E: Endpoint>(
    ep: Arc<E>,
    req: Request,
) -> poem::Result<Response> {
    let is_get = req.method() == Method::GET;
    let path = req.original_uri().path().to_string();
    let if_none_match = req.header(header::IF_NONE_MATCH).map(str::to_string);
    let mut response = ep.call(req).await?.into_response();
    if !is_get || response.status() != StatusCode::OK || !is_installable(&path, &response) {
        return Ok(response);
    }
    let body = response.take_body().into_bytes().await?;
    let digest = peter_core::formats::sha256_hex(&body);
    let etag = format!("\"{}\"", &digest[..32]);
    let Ok(value) = HeaderValue::from_str(&etag) else {
        response.set_body(body);
        return Ok(response);
    };
    if path.ends_with("/config.json") || path.ends_with("/config.zip") {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response.headers_mut().insert(header::ETAG, value);
    let matches = if_none_match.is_some_and(|v| {
        v.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag || t == "*")
    });
    if matches {
        response.set_status(StatusCode::NOT_MODIFIED);
        response.set_body(());
        response.headers_mut().remove(header::CONTENT_TYPE);
    } else {
        response.set_body(body);
    }
    Ok(response)
}
