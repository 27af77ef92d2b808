//! The admin API's answers: the error document every failure carries, file
//! downloads with their exact content types, and the list helper.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use peter_core::ErrorKind;
use peter_core::model::ClosedSet;
use peter_core::ports::AcmeError;
use poem::IntoResponse;
use poem::http::{StatusCode, header};
use poem_openapi::payload::Json;
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::{ApiResponse, Object};

/// The body of every error answer.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    /// Always `error`.
    pub result: String,
    /// What went wrong.
    pub error: String,
    /// Per-field messages, when a field was at fault.
    #[oai(skip_serializing_if_is_none)]
    pub form_errors: Option<BTreeMap<String, String>>,
    /// The ACME server's problem document, when it refused.
    #[oai(skip_serializing_if_is_none)]
    pub problem: Option<ProblemView>,
}

impl ErrorBody {
    /// An error with a message.
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            result: "error".into(),
            error: error.into(),
            form_errors: None,
            problem: None,
        }
    }

    /// An error blamed on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut form_errors = BTreeMap::new();
        form_errors.insert(field.to_string(), message.clone());
        Self {
            form_errors: Some(form_errors),
            ..Self::new(format!("invalid {field}: {message}"))
        }
    }
}

/// A failed admin request.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request could not be read.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid token.
    #[oai(status = 401)]
    Unauthorized(
        Json<ErrorBody>,
        /// `Bearer`: the admin token (or, for config.json, the gateway token).
        #[oai(header = "WWW-Authenticate")]
        String,
    ),
    /// No such object.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The change is not allowed in the object's current state, or what it
    /// needs is not configured.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The body is too large.
    #[oai(status = 413)]
    TooLarge(Json<ErrorBody>),
    /// The body is not JSON (nor a form).
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// A field is invalid.
    #[oai(status = 422)]
    Invalid(Json<ErrorBody>),
    /// The ACME server asks to slow down.
    #[oai(status = 429)]
    RateLimited(
        Json<ErrorBody>,
        /// Seconds to wait, as the ACME server said.
        #[oai(header = "Retry-After")]
        Option<String>,
    ),
    /// The ACME server refused or failed.
    #[oai(status = 502)]
    Upstream(Json<ErrorBody>),
    /// A service peter depends on is down.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
    /// A bug.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
}

impl ApiError {
    /// 401 with a message.
    pub fn unauthorized() -> Self {
        ApiError::Unauthorized(
            Json(ErrorBody::new(
                "a valid `Authorization: Bearer <token>` header is required",
            )),
            "Bearer".into(),
        )
    }

    /// 422 blamed on a field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid(Json(ErrorBody::field(field, message)))
    }
}

impl ErrorBody {
    /// The error document of a failure of the library: the API answers it
    /// and `peter --json` prints it on stderr.
    pub fn of(e: &peter_core::Error) -> Self {
        use peter_core::Error as E;
        let message = e.to_string();
        let mut body = match e {
            E::InvalidField { field, message } => ErrorBody::field(field, message.clone()),
            E::DomainName(_) | E::FqdnSet(_) | E::Blocklisted(_) => {
                ErrorBody::field("domain_name", message.clone())
            }
            _ => ErrorBody::new(message.clone()),
        };
        if let E::Acme(AcmeError::Server { problem, .. }) = e {
            body.problem = Some(ProblemView {
                r#type: problem.problem_type.clone(),
                detail: problem.detail.clone(),
                status: problem.status,
            });
        }
        body
    }
}

/// An ACME server's problem document (RFC 7807).
#[derive(Debug, Clone, Object)]
pub struct ProblemView {
    /// `urn:ietf:params:acme:error:...`
    #[oai(rename = "type", skip_serializing_if_is_none)]
    pub r#type: Option<String>,
    /// What the CA said.
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
    /// The HTTP status the CA answered with.
    #[oai(skip_serializing_if_is_none)]
    pub status: Option<u16>,
}

impl From<peter_core::Error> for ApiError {
    fn from(e: peter_core::Error) -> Self {
        use peter_core::Error as E;
        let message = e.to_string();
        let kind = e.kind();
        let retry_after = match &e {
            E::Acme(AcmeError::Server {
                retry_after_seconds,
                ..
            }) => retry_after_seconds.map(|s| s.to_string()),
            E::Throttled {
                retry_after_seconds,
                ..
            } => Some(retry_after_seconds.to_string()),
            _ => None,
        };
        let body = Json(ErrorBody::of(&e));
        match kind {
            ErrorKind::InvalidInput => ApiError::Invalid(body),
            ErrorKind::NotFound => ApiError::NotFound(body),
            ErrorKind::Conflict | ErrorKind::Unconfigured => ApiError::Conflict(body),
            ErrorKind::Unavailable => ApiError::Unavailable(body),
            ErrorKind::Upstream => ApiError::Upstream(body),
            ErrorKind::RateLimited => ApiError::RateLimited(body, retry_after),
            ErrorKind::Internal => {
                tracing::error!(error = %message, "admin request failed");
                ApiError::Internal(body)
            }
        }
    }
}

/// What admin handlers return.
pub type ApiResult<T> = Result<T, ApiError>;

/// A set of files a route serves, each with its content type.
pub trait FileSet: ClosedSet {
    /// The file's content type.
    fn content_type(self) -> &'static str;
}

macro_rules! file_sets {
    ($($set:ty => $content_type:ident),* $(,)?) => {$(
        impl FileSet for $set {
            fn content_type(self) -> &'static str {
                self.format().$content_type()
            }
        }
    )*};
}

file_sets!(
    peter_core::model::CertificateFile => content_type,
    peter_core::model::ViaChainFile => content_type,
    peter_core::model::CaFile => content_type_for_ca,
    peter_core::model::ChainFile => content_type,
    peter_core::model::CsrFile => content_type,
    peter_core::model::KeyFile => content_type,
);

/// A file: its bytes with the content type of its name. The document lists,
/// under one 200 answer, every content type the route's files come in.
pub struct FileDownload<F> {
    body: Vec<u8>,
    content_type: &'static str,
    private: bool,
    files: PhantomData<F>,
}

impl<F: FileSet> FileDownload<F> {
    /// Wraps a download from the facade.
    pub fn new(download: peter_core::app::Download) -> Self {
        Self {
            private: download.is_private(),
            content_type: download.content_type,
            body: download.body,
            files: PhantomData,
        }
    }
}

impl<F: FileSet> IntoResponse for FileDownload<F> {
    fn into_response(self) -> poem::Response {
        let mut builder = poem::Response::builder()
            .status(StatusCode::OK)
            .content_type(self.content_type);
        if self.private {
            builder = builder.header(header::CACHE_CONTROL, "no-store");
        }
        builder.body(self.body)
    }
}

impl<F: FileSet> ApiResponse for FileDownload<F> {
    fn meta() -> MetaResponses {
        let mut content: Vec<MetaMediaType> = Vec::new();
        for file in F::ALL {
            let content_type = file.content_type();
            if !content.iter().any(|m| m.content_type == content_type) {
                content.push(MetaMediaType {
                    content_type,
                    schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format(
                        "string", "binary",
                    ))),
                });
            }
        }
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The file, in the content type of its name.",
                status: Some(200),
                status_range: None,
                content,
                headers: Vec::<MetaHeader>::new(),
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}

/// A zip archive.
#[derive(Debug, ApiResponse)]
pub enum ZipDownload {
    /// The archive.
    #[oai(status = 200, content_type = "application/zip")]
    Zip(poem_openapi::payload::Attachment<Vec<u8>>),
}

/// Prometheus text.
#[derive(Debug, ApiResponse)]
pub enum MetricsText {
    /// The metrics, text format version 0.0.4.
    #[oai(
        status = 200,
        content_type = "text/plain; version=0.0.4; charset=utf-8"
    )]
    Text(poem_openapi::payload::PlainText<String>),
}
