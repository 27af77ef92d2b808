//! The publishing ports: caches that web gateways read certificates from
//! (Redis for the OpenResty module), the gateways' own caches
//! (nginx/OpenResty, which peter tells to forget a certificate), and
//! exports to disk.

use std::collections::BTreeMap;

use crate::dns::DomainName;
use crate::model::{CertificateSignedId, UniqueFqdnSetId};
use crate::ports::Store;

crate::model::closed_set!(
    /// The Redis key layouts of the lua-resty-peter_sslers module.
    PrimeStyle, "redis prime style" {
        /// `d1:` hashes of ids plus `c:`/`p:`/`i:` PEM keys.
        One => "1",
        /// `d2:` hashes of fullchain and key PEM.
        Two => "2",
    }
);

/// What a priming wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PrimeReport {
    /// Domains written.
    pub domain: u64,
    /// Certificates written (style 1).
    pub cert: u64,
    /// Keys written (style 1).
    pub pkey: u64,
    /// Chains written (style 1).
    pub certcachain: u64,
}

/// Why publishing failed (the cache is down, slow or refused; a file
/// could not be written).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PublishError {
    /// What failed.
    pub message: String,
    /// The underlying error.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl PublishError {
    /// An error with a message and no underlying cause.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by `source`.
    pub fn caused_by(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// A cache gateways read certificates from.
#[async_trait::async_trait]
pub trait CachePublisher: Send + Sync {
    /// Writes every active domain that has an active certificate.
    async fn publish_all(
        &self,
        store: &dyn Store,
        style: PrimeStyle,
    ) -> Result<PrimeReport, PublishError>;
    /// Writes the named domains (those with nothing to serve are skipped).
    async fn publish_domains(
        &self,
        store: &dyn Store,
        names: &[DomainName],
        style: PrimeStyle,
    ) -> Result<PrimeReport, PublishError>;
}

/// Each nginx/OpenResty server's answer to one request.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ServersStatus {
    /// Servers that answered with `"result": "success"`.
    pub success: Vec<String>,
    /// Servers that failed.
    pub errors: Vec<String>,
    /// Each server's answer (its JSON) or the error.
    pub servers: BTreeMap<String, serde_json::Value>,
}

/// The certificate caches of nginx/OpenResty servers (the peter_sslers Lua
/// module's endpoints). Each server is asked on its own; one failing never
/// hides another's answer.
#[async_trait::async_trait]
pub trait CacheExpirer: Send + Sync {
    /// Expires the named domains' entries, or everything with `None`.
    async fn expire(&self, domains: Option<&[DomainName]>) -> ServersStatus;
    /// Each server's cache status.
    async fn status(&self) -> ServersStatus;
}

/// One certificate to export: the newest active one of a set of names.
#[derive(Clone)]
pub struct ExportItem {
    /// The set of names (a lineage).
    pub unique_fqdn_set_id: UniqueFqdnSetId,
    /// Its names, sorted.
    pub names: Vec<String>,
    /// The certificate.
    pub certificate_signed_id: CertificateSignedId,
    /// Its PEM.
    pub cert_pem: String,
    /// Its preferred chain's PEM (empty without a chain).
    pub chain_pem: String,
    /// Its key's PEM. Never log it.
    pub key_pem: String,
}

impl std::fmt::Debug for ExportItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportItem")
            .field("names", &self.names)
            .field("certificate_signed_id", &self.certificate_signed_id)
            .finish_non_exhaustive()
    }
}

/// What an export changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExportReport {
    /// Lineages that got a new version.
    pub changed: Vec<String>,
    /// Lineages already current.
    pub unchanged: Vec<String>,
    /// Whether the deploy hook ran (it runs once after any change).
    pub deploy_hook_ran: bool,
}

/// Where certificates are exported to (certbot's layout on disk, say).
#[async_trait::async_trait]
pub trait ExportTarget: Send + Sync {
    /// Writes what changed since the last export.
    async fn export(&self, items: &[ExportItem]) -> Result<ExportReport, PublishError>;
}

/// Somewhere alerts go: a webhook, a command. One call is one try; the
/// facade retries, records every delivery and de-duplicates.
#[async_trait::async_trait]
pub trait AlertTarget: Send + Sync {
    /// The name recorded with each delivery (`webhook`, `exec`).
    fn name(&self) -> &str;
    /// Delivers one alert, the JSON document `body`; an error says why not.
    async fn deliver(&self, body: &str) -> Result<(), String>;
}
