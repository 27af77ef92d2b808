//! The admin API's answers: the error document every failure carries, list
//! pagination, and file downloads with their exact content types.

use std::collections::BTreeMap;

use peter_core::ErrorKind;
use peter_core::ports::{AcmeError, Page, Paged};
use poem_openapi::payload::{Attachment, Binary, Json};
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
    pub problem: Option<serde_json::Value>,
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
    Unauthorized(Json<ErrorBody>),
    /// The token may not do this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such object.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The change is not allowed in the object's current state.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The body is too large.
    #[oai(status = 413)]
    TooLarge(Json<ErrorBody>),
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
    /// 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound(Json(ErrorBody::new(message)))
    }

    /// 422 blamed on a field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid(Json(ErrorBody::field(field, message)))
    }

    /// 503 with a message.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError::Unavailable(Json(ErrorBody::new(message)))
    }
}

impl From<peter_core::Error> for ApiError {
    fn from(e: peter_core::Error) -> Self {
        use peter_core::Error as E;
        let message = e.to_string();
        let kind = e.kind();
        let mut body = match &e {
            E::InvalidField { field, message } => ErrorBody::field(field, message.clone()),
            E::DomainName(_) | E::FqdnSet(_) | E::Blocklisted(_) => {
                ErrorBody::field("domain_name", message.clone())
            }
            _ => ErrorBody::new(message.clone()),
        };
        let mut retry_after = None;
        if let E::Acme(AcmeError::Server {
            problem,
            retry_after_seconds,
            ..
        }) = &e
        {
            body.problem = serde_json::to_value(problem).ok();
            retry_after = retry_after_seconds.map(|s| s.to_string());
        }
        let body = Json(body);
        match kind {
            ErrorKind::InvalidInput => ApiError::Invalid(body),
            ErrorKind::NotFound => ApiError::NotFound(body),
            ErrorKind::Conflict => ApiError::Conflict(body),
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

impl From<peter_core::ports::StoreError> for ApiError {
    fn from(e: peter_core::ports::StoreError) -> Self {
        peter_core::Error::from(e).into()
    }
}

/// What admin handlers return.
pub type ApiResult<T> = Result<T, ApiError>;

/// Where a list is.
#[derive(Debug, Clone, Object)]
pub struct Pagination {
    /// Items in the whole list.
    pub total_items: u64,
    /// This page (from 1).
    pub page: u64,
    /// Items per page.
    pub per_page: u64,
    /// The next page, when there is one.
    #[oai(nullable)]
    pub page_next: Option<u64>,
}

impl Pagination {
    /// The pagination of a page.
    pub fn of<T>(paged: &Paged<T>) -> Self {
        Self {
            total_items: paged.total_items,
            page: paged.page.page,
            per_page: paged.page.per_page,
            page_next: paged.page_next(),
        }
    }

    /// The pagination of a list held whole.
    pub fn whole(len: usize) -> Self {
        Self {
            total_items: len as u64,
            page: 1,
            per_page: len.max(1) as u64,
            page_next: None,
        }
    }
}

/// The page asked for by `?page=&per_page=` (defaults 1 and 50; at most
/// 1,000 per page).
pub fn page(page: Option<u64>, per_page: Option<u64>) -> Page {
    Page::new(page.unwrap_or(1), per_page.unwrap_or(50))
}

/// A file: its bytes with the content type of its suffix.
#[derive(Debug, ApiResponse)]
pub enum FileDownload {
    /// PEM.
    #[oai(status = 200, content_type = "application/x-pem-file")]
    Pem(Binary<Vec<u8>>),
    /// PEM shown as text.
    #[oai(status = 200, content_type = "text/plain")]
    Text(Binary<Vec<u8>>),
    /// DER certificate.
    #[oai(status = 200, content_type = "application/pkix-cert")]
    PkixCert(Binary<Vec<u8>>),
    /// DER server certificate.
    #[oai(status = 200, content_type = "application/x-x509-server-cert")]
    ServerCert(Binary<Vec<u8>>),
    /// DER CA certificate.
    #[oai(status = 200, content_type = "application/x-x509-ca-cert")]
    CaCert(Binary<Vec<u8>>),
    /// PKCS#8 DER key.
    #[oai(status = 200, content_type = "application/pkcs8")]
    Pkcs8(Binary<Vec<u8>>),
    /// PEM certificate request.
    #[oai(status = 200, content_type = "application/pkcs10")]
    Pkcs10(Binary<Vec<u8>>),
}

impl FileDownload {
    /// Wraps a download from the services.
    pub fn from_download(d: peter_core::services::downloads::Download) -> ApiResult<Self> {
        let body = Binary(d.body);
        Ok(match d.content_type {
            "application/x-pem-file" => FileDownload::Pem(body),
            "text/plain" => FileDownload::Text(body),
            "application/pkix-cert" => FileDownload::PkixCert(body),
            "application/x-x509-server-cert" => FileDownload::ServerCert(body),
            "application/x-x509-ca-cert" => FileDownload::CaCert(body),
            "application/pkcs8" => FileDownload::Pkcs8(body),
            "application/pkcs10" => FileDownload::Pkcs10(body),
            other => {
                return Err(ApiError::Internal(Json(ErrorBody::new(format!(
                    "no content type mapping for {other}"
                )))));
            }
        })
    }
}

/// A zip archive.
#[derive(Debug, ApiResponse)]
pub enum ZipDownload {
    /// The archive.
    #[oai(status = 200, content_type = "application/zip")]
    Zip(Attachment<Vec<u8>>),
}

/// Defines a list answer `{"<Plural>": [...], "pagination": {...}}`.
macro_rules! list_answer {
    ($name:ident, $plural:literal, $view:ty) => {
        #[doc = concat!("A page of ", $plural, ".")]
        #[derive(Debug, Clone, poem_openapi::Object)]
        pub struct $name {
            #[doc = concat!("The ", $plural, " on this page.")]
            #[oai(rename = $plural)]
            pub items: Vec<$view>,
            /// Where this page is.
            pub pagination: $crate::admin::answer::Pagination,
        }

        impl $name {
            /// Builds the answer from a store page.
            #[allow(dead_code)]
            pub fn of<T>(paged: &peter_core::ports::Paged<T>) -> Self
            where
                for<'a> $view: From<&'a T>,
            {
                Self {
                    items: paged.items.iter().map(<$view>::from).collect(),
                    pagination: $crate::admin::answer::Pagination::of(paged),
                }
            }

            /// Builds the answer from a whole list.
            #[allow(dead_code)]
            pub fn whole<T>(items: &[T]) -> Self
            where
                for<'a> $view: From<&'a T>,
            {
                Self {
                    items: items.iter().map(<$view>::from).collect(),
                    pagination: $crate::admin::answer::Pagination::whole(items.len()),
                }
            }
        }
    };
}

/// Defines a focus or action answer `{"result": "success", "<Object>": {...}}`.
macro_rules! object_answer {
    ($name:ident, $object:literal, $view:ty) => {
        #[doc = concat!("One ", $object, ".")]
        #[derive(Debug, Clone, poem_openapi::Object)]
        pub struct $name {
            /// Always `success`.
            pub result: String,
            #[doc = concat!("The ", $object, ".")]
            #[oai(rename = $object)]
            pub object: $view,
        }

        impl $name {
            /// Builds the answer.
            pub fn of<T>(item: &T) -> poem_openapi::payload::Json<Self>
            where
                for<'a> $view: From<&'a T>,
            {
                poem_openapi::payload::Json(Self {
                    result: "success".into(),
                    object: <$view>::from(item),
                })
            }
        }
    };
}

pub(crate) use {list_answer, object_answer};
