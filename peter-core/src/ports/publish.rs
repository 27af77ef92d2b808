//! The publishing port: caches that web gateways read certificates from
//! (Redis for the OpenResty module), written from the store.

use crate::dns::DomainName;
use crate::ports::Store;

/// The Redis key layouts of the lua-resty-peter_sslers module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PrimeStyle {
    /// `d1:` hashes of ids plus `c:`/`p:`/`i:` PEM keys.
    One,
    /// `d2:` hashes of fullchain and key PEM.
    Two,
}

impl std::str::FromStr for PrimeStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1" => Ok(Self::One),
            "2" => Ok(Self::Two),
            other => Err(format!("redis prime style `{other}`: use 1 or 2")),
        }
    }
}

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

/// Why publishing failed (the cache is down, slow or refused).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct PublishError(pub String);

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
