//! The OpenAPI document as strict tools and client generators read it.
//!
//! poem-openapi describes what the handlers declare; [`Documented`] then
//! shapes that description where generators stumble, without changing what
//! is served:
//! - a group of query parameters read by one extractor (`query_params!`) is
//!   declared as one object; it is listed here as the separate parameters it
//!   is on the wire (`?page=2&per_page=50`);
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
    MetaApi, MetaOperationParam, MetaParamIn, MetaSchema, MetaSchemaRef, Registry,
};

/// An API whose document is shaped for strict tools.
pub struct Documented<A>(pub A);

impl<A: OpenApi> OpenApi for Documented<A> {
    fn meta() -> Vec<MetaApi> {
        let mut apis = A::meta();
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
                }
            }
        }
        apis
    }

    fn register(registry: &mut Registry) {
        A::register(registry);
        let types: HashMap<String, &'static str> = registry
            .schemas
            .iter()
            .map(|(name, s)| (name.clone(), s.ty))
            .collect();
        for schema in registry.schemas.values_mut() {
            plain_refs_in(schema, &types);
        }
    }

    fn add_routes(self, route_table: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {
        self.0.add_routes(route_table)
    }
}

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
                deprecated: param.deprecated
                    || matches!(property, MetaSchemaRef::Inline(p) if p.deprecated),
                explode: true,
                style: None,
            });
        }
    }
}

/// `allOf: [$ref, {patch}]` becomes `$ref`, unless the patch makes an
/// object nullable: that stays, with the object's `type` beside it.
fn plain_ref(schema: &mut MetaSchemaRef, types: &HashMap<String, &'static str>) {
    let replacement = match schema {
        MetaSchemaRef::Inline(s) => match s.all_of.as_slice() {
            [MetaSchemaRef::Reference(name), MetaSchemaRef::Inline(_)]
                if s.properties.is_empty() && s.items.is_none() =>
            {
                let ty = types.get(name).copied().unwrap_or("");
                if s.nullable && ty == "object" {
                    s.ty = ty;
                    None
                } else {
                    Some(MetaSchemaRef::Reference(name.clone()))
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

fn plain_refs_in(schema: &mut MetaSchema, types: &HashMap<String, &'static str>) {
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
