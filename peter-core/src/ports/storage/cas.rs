//! CA certificates, the chains they form and the CA preference list.

use async_trait::async_trait;

use super::{Created, Page, Paged, StoreResult};
use crate::formats::ParsedCertificate;
use crate::model::*;

/// CA certificates, the chains they form and the CA preference list.
#[async_trait]
pub trait CaStore: Send + Sync {
    /// Records a CA certificate, de-duplicated by fingerprint.
    async fn insert_certificate_ca(
        &self,
        cert: &ParsedCertificate,
    ) -> StoreResult<Created<CertificateCa>>;
    /// One CA certificate.
    async fn certificate_ca(&self, id: CertificateCaId) -> StoreResult<CertificateCa>;
    /// A page of CA certificates.
    async fn list_certificate_cas(&self, page: Page) -> StoreResult<Paged<CertificateCa>>;
    /// One chain.
    async fn certificate_ca_chain(
        &self,
        id: CertificateCaChainId,
    ) -> StoreResult<CertificateCaChain>;
    /// A page of chains.
    async fn list_certificate_ca_chains(
        &self,
        page: Page,
    ) -> StoreResult<Paged<CertificateCaChain>>;
    /// The CA preference list, most preferred first.
    async fn ca_preferences(&self) -> StoreResult<Vec<CertificateCa>>;
    /// Puts a CA at the end of the preference list (no-op if present).
    async fn add_ca_preference(&self, id: CertificateCaId) -> StoreResult<Vec<CertificateCa>>;
    /// Removes a CA from the preference list.
    async fn remove_ca_preference(&self, id: CertificateCaId) -> StoreResult<Vec<CertificateCa>>;
    /// Replaces the preference list with `ids`, in that order (each a known
    /// CA, none twice), in one transaction.
    async fn set_ca_preferences(&self, ids: &[CertificateCaId]) -> StoreResult<Vec<CertificateCa>>;
}
