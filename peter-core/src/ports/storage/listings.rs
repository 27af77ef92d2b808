//! Read models that span aggregates: admin listings, the source of a domain's config.json, what gateways are sent, and monitoring counts.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Page, Paged, StoreResult};
use crate::dns::DomainName;
use crate::model::*;

/// What a web server needs to serve a domain: the certificate chosen for
/// it (the latest multi-name one, else the latest single-name one), its key
/// and its upstream-default chain.
#[derive(Clone, PartialEq, Eq)]
pub struct DomainPublication {
    /// The domain.
    pub domain_id: DomainId,
    /// Its name.
    pub domain_name: String,
    /// The certificate.
    pub certificate_signed_id: CertificateSignedId,
    /// Its PEM.
    pub cert_pem: String,
    /// Its key.
    pub private_key_id: PrivateKeyId,
    /// The key's PEM. Never log it.
    pub key_pem: String,
    /// The chain, when the certificate has one.
    pub certificate_ca_chain_id: Option<CertificateCaChainId>,
    /// The chain's PEM (empty without a chain).
    pub chain_pem: String,
}

impl std::fmt::Debug for DomainPublication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainPublication")
            .field("domain_name", &self.domain_name)
            .field("certificate_signed_id", &self.certificate_signed_id)
            .finish_non_exhaustive()
    }
}

/// A domain by id or by name.
#[derive(Debug, Clone, Copy)]
pub enum DomainLookup<'a> {
    /// By id.
    Id(DomainId),
    /// By (normalised) name.
    Name(&'a DomainName),
}

/// What a domain's `config.json` is made of.
#[derive(Debug, Clone)]
pub struct DomainConfigSource {
    /// The domain.
    pub domain: Domain,
    /// Its latest certificates (none when the domain is inactive).
    pub certificates: Vec<ConfigCertificate>,
    /// The CA preference list, in order.
    pub ca_preferences: Vec<CertificateCaId>,
}

/// A certificate with its key and offered chains.
#[derive(Clone)]
pub struct ConfigCertificate {
    /// The certificate.
    pub id: CertificateSignedId,
    /// Its PEM.
    pub cert_pem: String,
    /// Its key.
    pub private_key_id: PrivateKeyId,
    /// The key's PEM. Never log it.
    pub key_pem: String,
    /// The chains it was offered with, upstream default first.
    pub chains: Vec<CertificateChainOffer>,
}

impl std::fmt::Debug for ConfigCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigCertificate")
            .field("id", &self.id)
            .field("private_key_id", &self.private_key_id)
            .finish_non_exhaustive()
    }
}

/// Counts for monitoring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreMetrics {
    /// Certificates by state (`active`, `inactive`, `revoked`).
    pub certificates_by_state: Vec<(String, u64)>,
    /// Orders by upstream status.
    pub orders_by_status: Vec<(String, u64)>,
    /// ACME exchanges by event (endpoint kind) and HTTP status (0: none).
    pub acme_requests: Vec<(String, i32, u64)>,
    /// Name sets whose last renewal attempt failed.
    pub renewal_sets_failing: u64,
    /// Failed renewal attempts not yet followed by a success.
    pub renewal_failures: u64,
    /// Domains by whether they are active.
    pub domains_by_active: Vec<(bool, u64)>,
}

/// When an active certificate ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateExpiration {
    /// The certificate.
    pub id: CertificateSignedId,
    /// Its first name (in name order).
    pub first_domain: String,
    /// Its end of validity.
    pub not_after: OffsetDateTime,
}

/// What the renewal routine reads of an active certificate: its dates, the
/// CA's renewal window and its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalCandidate {
    /// The certificate.
    pub id: CertificateSignedId,
    /// Its set of names.
    pub unique_fqdn_set_id: UniqueFqdnSetId,
    /// Its names, comma-separated in name order.
    pub domain_names: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The CA's suggested renewal window (ARI), when known.
    pub ari_window_start: Option<OffsetDateTime>,
    /// End of that window.
    pub ari_window_end: Option<OffsetDateTime>,
    /// When the CA asked to be asked again about the window.
    pub ari_retry_after: Option<OffsetDateTime>,
    /// The ACME server that issued it, when peter ordered it (where its
    /// renewal window is asked for).
    pub acme_server_id: Option<AcmeServerId>,
}

/// Read models that span aggregates: admin listings, the source of a domain's config.json, what gateways are sent, and monitoring counts.
#[async_trait]
pub trait ListingStore: Send + Sync {
    /// A page of authorizations, newest first; only the domain's when given.
    async fn list_acme_authorizations(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<AcmeAuthorization>>;
    /// A page of challenges, newest first; only the domain's when given.
    async fn list_acme_challenges(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<AcmeChallenge>>;
    /// A page of answered challenge fetches, newest first.
    async fn list_acme_challenge_polls(&self, page: Page) -> StoreResult<Paged<AcmeChallengePoll>>;
    /// A page of name sets, newest first; only those with the domain when given.
    async fn list_unique_fqdn_sets(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<UniqueFqdnSetRecord>>;
    /// A page of certificate requests, newest first.
    async fn list_certificate_requests(&self, page: Page)
    -> StoreResult<Paged<CertificateRequest>>;
    /// Everything a domain's `config.json` is made of, read together: the
    /// domain, its latest single and multi certificates (when it is active)
    /// with their keys and offered chains, and the CA preference list.
    /// `None` for an unknown domain.
    async fn domain_config_source(
        &self,
        domain: DomainLookup<'_>,
    ) -> StoreResult<Option<DomainConfigSource>>;
    /// Counts for monitoring, each a handful of rows whatever the store's size.
    async fn metrics(&self) -> StoreResult<StoreMetrics>;
    /// Every active certificate's id, first name and end of validity, in id
    /// order after `after`, at most `limit`.
    async fn active_certificate_expirations(
        &self,
        after: CertificateSignedId,
        limit: u64,
    ) -> StoreResult<Vec<CertificateExpiration>>;
    /// How many active certificates end before each of `horizons` (in the
    /// same order), and the earliest end among them: a few index range
    /// counts, whatever the number of certificates.
    async fn active_expiry_summary(
        &self,
        horizons: &[OffsetDateTime],
    ) -> StoreResult<(Vec<u64>, Option<OffsetDateTime>)>;
    /// Every active certificate as the renewal routine sees it, in id order
    /// after `after` (keyset pagination), at most `limit`.
    async fn renewal_candidates(
        &self,
        after: CertificateSignedId,
        limit: u64,
    ) -> StoreResult<Vec<RenewalCandidate>>;
    /// The name sets with at least one inactive domain (their certificates
    /// are not renewed), in id order.
    async fn sets_with_inactive_domains(&self) -> StoreResult<Vec<UniqueFqdnSetId>>;
    /// Active domains with neither a latest single- nor multi-name
    /// certificate, wildcards left out, in id order after `after`, at most
    /// `limit`.
    async fn domains_without_certificate(
        &self,
        after: DomainId,
        limit: u64,
    ) -> StoreResult<Vec<Domain>>;
    /// Publications of active domains with an active certificate, in id
    /// order after `after` (keyset pagination), at most `limit`; or only the
    /// one for `name`.
    async fn domain_publications(
        &self,
        after: DomainId,
        limit: u64,
        name: Option<&DomainName>,
    ) -> StoreResult<Vec<DomainPublication>>;
}
