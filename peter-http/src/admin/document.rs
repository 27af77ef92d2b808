//! The OpenAPI document as strict tools and client generators read it.
//!
//! poem-openapi describes what the handlers declare; [`Documented`] then
//! shapes that description where generators stumble, without changing what
//! is served:
//! - a group of query parameters read by one extractor (`query_params!`) is
//!   declared as one object; it is listed here as the separate parameters it
//!   is on the wire (`?page=2&per_page=50`);
//! - each operation lists the statuses it can answer: 400, 401 and 503
//!   everywhere; 404 where it takes an id (in the path, or a `*_id` field
//!   of its body); 413, 415 and 422 where it takes
//!   a body (422 also where a path or query value can be refused); 409 on
//!   actions and on reads of something not configured; 429 and 502 where
//!   it calls the CA; 304 (with `ETag` and `If-None-Match`) on what a web
//!   server installs;
//! - a field whose type is a named schema and which carries its own
//!   description is written as `allOf: [$ref, {description}]`; several
//!   generators refuse `allOf` around an enum, so such a field is written as
//!   the plain `$ref` (the schema keeps its own description). A nullable
//!   object keeps its `allOf`, with the `type` sibling strict linters ask for.

use std::collections::HashMap;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem_openapi::OpenApi;
use poem_openapi::registry::{
    MetaApi, MetaHeader, MetaOperation, MetaOperationParam, MetaParamIn, MetaResponse, MetaSchema,
    MetaSchemaRef, Registry,
};

/// An API whose document is shaped for strict tools.
pub struct Documented<A>(pub A);

impl<A: OpenApi> OpenApi for Documented<A> {
    fn meta() -> Vec<MetaApi> {
        let mut apis = A::meta();
        let mut registry = Registry::new();
        A::register(&mut registry);
        for path in apis.iter_mut().flat_map(|a| a.paths.iter_mut()) {
            let installable = path.path.ends_with("/config.json")
                || path.path.ends_with("/config.zip")
                || path.path.ends_with("/:file")
                || path.path.ends_with("{file}");
            for operation in &mut path.operations {
                if installable {
                    document_conditional_get(operation);
                }
                let takes_id = path.path.contains(':')
                    || path.path.contains('{')
                    || body_names_a_row(operation, &registry);
                document_statuses(operation, takes_id);
            }
        }
        for operation in apis
            .iter_mut()
            .flat_map(|a| a.paths.iter_mut())
            .flat_map(|p| p.operations.iter_mut())
        {
            expand_query_objects(&mut operation.params);
            let none = HashMap::new();
            for param in &mut operation.params {
                plain_ref(&mut param.schema, &none);
            }
            if let Some(request) = &mut operation.request {
                for media in &mut request.content {
                    plain_ref(&mut media.schema, &none);
                }
            }
            for response in &mut operation.responses.responses {
                for media in &mut response.content {
                    plain_ref(&mut media.schema, &none);
                    // Generators match `application/json` exactly; the
                    // charset parameter is UTF-8 by definition for JSON.
                    if media.content_type == "application/json; charset=utf-8" {
                        media.content_type = "application/json";
                    }
                }
            }
            if operation.security.is_empty() {
                // Public on purpose (it holds no data): said explicitly.
                operation.security.push(HashMap::new());
            }
        }
        apis
    }

    fn register(registry: &mut Registry) {
        A::register(registry);
        let types: HashMap<String, MetaSchema> = registry
            .schemas
            .iter()
            .map(|(name, s)| (name.clone(), s.clone()))
            .collect();
        for schema in registry.schemas.values_mut() {
            plain_refs_in(schema, &types);
        }
    }

    fn add_routes(self, route_table: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {
        self.0.add_routes(route_table)
    }
}

/// Reads that answer 409 when the feature they describe is not configured.
const READS_NEEDING_CONFIGURATION: &[&str] = &["domain_dns_delegation"];

/// Operations that call the CA: they may answer its refusal (502) or its
/// rate limit (429).
const CALLS_THE_CA: &[&str] = &[
    "api_domain_autocert",
    "api_domain_autocert_json",
    "acme_account_new",
    "acme_account_upload",
    "acme_account_check",
    "acme_account_deactivate",
    "acme_account_key_change",
    "acme_order_new",
    "acme_order_process",
    "acme_order_finalize",
    "acme_order_sync",
    "acme_order_sync_authorizations",
    "acme_order_deactivate_authorizations",
    "acme_order_download_certificate",
    "acme_order_retry",
    "acme_order_renew_quick",
    "acme_authorization_sync",
    "acme_authorization_deactivate",
    "acme_challenge_sync",
    "acme_challenge_trigger",
    "certificate_signed_revoke",
    "api_domain_certificate_if_needed",
];

/// Whether the operation's body refers to a stored row by id (a field
/// named `*_id`): a row that does not exist is a 404, as in a path.
fn body_names_a_row(operation: &MetaOperation, registry: &Registry) -> bool {
    let Some(request) = &operation.request else {
        return false;
    };
    request.content.iter().any(|media| {
        let schema = match &media.schema {
            MetaSchemaRef::Reference(name) => registry.schemas.get(name),
            MetaSchemaRef::Inline(schema) => Some(&**schema),
        };
        schema.is_some_and(|s| s.properties.iter().any(|(name, _)| name.ends_with("_id")))
    })
}

/// Keeps the error statuses the operation can really answer.
fn document_statuses(operation: &mut MetaOperation, takes_id: bool) {
    let id = operation.operation_id.unwrap_or("");
    let has_body = operation.request.is_some();
    let has_params = !operation.params.is_empty() || takes_id;
    let action = operation.method == Method::POST;
    let open = operation.security.is_empty();
    let calls_ca = CALLS_THE_CA.contains(&id);
    operation.responses.responses.retain(|r| match r.status {
        Some(200) | Some(304) => true,
        Some(400) | Some(503) => true,
        Some(401) => !open,
        Some(404) => takes_id,
        Some(409) => action || READS_NEEDING_CONFIGURATION.contains(&id),
        Some(413) | Some(415) => has_body,
        Some(422) => has_body || has_params,
        Some(429) | Some(502) => calls_ca,
        _ => false,
    });
}

/// `If-None-Match` in, `ETag` out, and the 304.
fn document_conditional_get(operation: &mut MetaOperation) {
    if operation.method != Method::GET {
        return;
    }
    let text = || MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")));
    operation.params.push(MetaOperationParam {
        name: "If-None-Match".into(),
        schema: text(),
        in_type: MetaParamIn::Header,
        description: Some("The ETag of a copy already held: 304 when it is still current.".into()),
        required: false,
        deprecated: false,
        explode: true,
        style: None,
    });
    let etag = || MetaHeader {
        name: "ETag".into(),
        description: Some("A strong validator of this answer.".into()),
        required: true,
        deprecated: false,
        schema: text(),
    };
    for response in &mut operation.responses.responses {
        if response.status == Some(200) {
            response.headers.push(etag());
        }
    }
    operation.responses.responses.insert(
        1,
        MetaResponse {
            description: "The copy held (its ETag given in If-None-Match) is current.",
            status: Some(304),
            status_range: None,
            content: Vec::new(),
            headers: vec![etag()],
        },
    );
}

/// Spellings still read but documented as deprecated.
const DEPRECATED_PARAMETERS: &[&str] = &["idonly"];

/// Replaces each object-typed query parameter by one parameter per property.
fn expand_query_objects(params: &mut Vec<MetaOperationParam>) {
    for param in std::mem::take(params) {
        let object = match &param.schema {
            MetaSchemaRef::Inline(s)
                if param.in_type == MetaParamIn::Query
                    && s.ty == "object"
                    && !s.properties.is_empty() =>
            {
                Some(s.clone())
            }
            _ => None,
        };
        let Some(object) = object else {
            params.push(param);
            continue;
        };
        for (name, property) in &object.properties {
            let description = match property {
                MetaSchemaRef::Inline(p) => p.description.map(str::to_owned),
                MetaSchemaRef::Reference(_) => None,
            };
            params.push(MetaOperationParam {
                name: (*name).to_owned(),
                schema: property.clone(),
                in_type: MetaParamIn::Query,
                description,
                required: object.required.contains(name),
                deprecated: param.deprecated || DEPRECATED_PARAMETERS.contains(name),
                explode: true,
                style: None,
            });
        }
    }
}

/// `allOf: [$ref, {patch}]` becomes `$ref`, unless the patch makes an
/// object nullable: OpenAPI 3.0 has no nullable reference that every tool
/// reads alike, so that object is written out in place, `nullable`.
fn plain_ref(schema: &mut MetaSchemaRef, types: &HashMap<String, MetaSchema>) {
    let replacement = match schema {
        MetaSchemaRef::Inline(s) => match s.all_of.as_slice() {
            [MetaSchemaRef::Reference(name), MetaSchemaRef::Inline(_)]
                if s.properties.is_empty() && s.items.is_none() =>
            {
                match types.get(name) {
                    Some(target) if s.nullable && target.ty == "object" => {
                        let mut inline = target.clone();
                        inline.title = None;
                        inline.nullable = true;
                        inline.description = s.description.or(target.description);
                        plain_refs_in(&mut inline, types);
                        Some(MetaSchemaRef::Inline(Box::new(inline)))
                    }
                    _ => Some(MetaSchemaRef::Reference(name.clone())),
                }
            }
            _ => {
                plain_refs_in(s, types);
                None
            }
        },
        MetaSchemaRef::Reference(_) => None,
    };
    if let Some(r) = replacement {
        *schema = r;
    }
}

fn plain_refs_in(schema: &mut MetaSchema, types: &HashMap<String, MetaSchema>) {
    for (_, property) in &mut schema.properties {
        plain_ref(property, types);
    }
    if let Some(items) = &mut schema.items {
        plain_ref(items, types);
    }
    if let Some(additional) = &mut schema.additional_properties {
        plain_ref(additional, types);
    }
}
