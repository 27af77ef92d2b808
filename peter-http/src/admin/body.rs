//! Action bodies. The document describes each as JSON, and JSON is what
//! generated clients send; forms (`application/x-www-form-urlencoded`, or no
//! Content-Type at all, as the original's OpenResty module sends) are read
//! too, for curl one-liners and old clients. Both are read by the same serde
//! description of the fields, so a bad field is named the same way in
//! either: 422 with `form_errors`; a body that is not JSON (or not a form)
//! at all is 400; another content type is 415.

use poem::{IntoResponse, Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;

use super::answer::{ApiError, ErrorBody};

/// An action body, as JSON or as a form.
pub struct JsonOrForm<T>(pub T);

impl<T> JsonOrForm<T> {
    /// The fields.
    pub fn into_inner(self) -> T {
        self.0
    }
}

fn refuse(e: ApiError) -> poem::Error {
    poem::Error::from_response(e.into_response())
}

/// A serde error with the path of the field it concerns.
fn field_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> poem::Error {
    let path = e.path().to_string();
    let text = e.inner().to_string();
    // serde_json adds where it stopped reading: the field says it better.
    let text = match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    // A missing field is reported at its parent; name it from the message.
    let missing = text
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string);
    let (field, message) = match (path.as_str(), missing) {
        (".", Some(field)) => (Some(field), "is required".to_string()),
        (".", None) => (None, text),
        (_, _) => (Some(path), text),
    };
    match field {
        Some(field) => refuse(ApiError::invalid(&field, message)),
        None => refuse(ApiError::BadRequest(poem_openapi::payload::Json(
            ErrorBody::new(format!("unreadable body: {message}")),
        ))),
    }
}

impl<'a, T: Type + DeserializeOwned + Send> ApiExtractor<'a> for JsonOrForm<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            required: true,
            content: vec![MetaMediaType {
                content_type: "application/json",
                schema: T::schema_ref(),
            }],
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let content_type = request.content_type().map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or(ct)
                .trim()
                .to_ascii_lowercase()
        });
        let json = match content_type.as_deref() {
            Some("application/json") => true,
            Some(ct) if ct.ends_with("+json") => true,
            None | Some("application/x-www-form-urlencoded") => false,
            Some(other) => {
                return Err(poem_openapi::error::ContentTypeError::NotSupported {
                    content_type: other.to_string(),
                }
                .into());
            }
        };
        let bytes = body.take()?.into_vec().await?;
        let fields = if json {
            let mut de = serde_json::Deserializer::from_slice(&bytes);
            let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
                // Syntax errors are the whole body's; data errors a field's.
                if e.inner().is_data() {
                    field_error(e)
                } else {
                    refuse(ApiError::BadRequest(poem_openapi::payload::Json(
                        ErrorBody::new(format!("unreadable JSON body: {}", e.inner())),
                    )))
                }
            })?;
            de.end().map_err(|e| {
                refuse(ApiError::BadRequest(poem_openapi::payload::Json(
                    ErrorBody::new(format!("unreadable JSON body: {e}")),
                )))
            })?;
            value
        } else {
            let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(&bytes));
            serde_path_to_error::deserialize(de).map_err(field_error)?
        };
        Ok(Self(fields))
    }
}

fn form_urlencoded_parse(bytes: &[u8]) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(bytes)
}
