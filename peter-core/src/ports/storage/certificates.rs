//! Certificates and the private keys they use.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Created, Page, Paged, StoreResult};
use crate::dns::{DomainName, UniqueFqdnSet};
use crate::formats::{LinkedChain, ParsedCertificate, ParsedPrivateKey};
use crate::model::rules::CertificateMark;
use crate::model::*;

crate::model::closed_set!(
    /// A certificate's status as lists show and filter it: `revoked` first,
    /// then `expired` (its validity ended), then `active` or `inactive`.
    CertificateStatus, "certificate status" {
        /// In service.
        Active => "active",
        /// Out of service, reversibly.
        Inactive => "inactive",
        /// Revoked (locally or at the CA): never served again.
        Revoked => "revoked",
        /// Its validity has ended.
        Expired => "expired",
    }
);

impl CertificateStatus {
    /// The status of `cert` at `now`.
    pub fn of(cert: &CertificateSigned, now: OffsetDateTime) -> Self {
        if cert.is_revoked || cert.revoked_upstream_at.is_some() {
            Self::Revoked
        } else if cert.not_after <= now {
            Self::Expired
        } else if cert.is_active {
            Self::Active
        } else {
            Self::Inactive
        }
    }
}

/// Which certificates a listing shows: those meeting every condition given.
/// Listed newest first, or soonest to expire first with `expiring_before`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CertificateFilter {
    /// Only certificates in service (`true`) or out of service (`false`),
    /// whatever their validity.
    pub is_active: Option<bool>,
    /// Only certificates in this status.
    pub status: Option<CertificateStatus>,
    /// Only active certificates whose validity ends before this instant.
    pub expiring_before: Option<OffsetDateTime>,
    /// Only certificates covering this domain.
    pub domain: Option<DomainId>,
    /// Only certificates for exactly this set of names.
    pub unique_fqdn_set: Option<UniqueFqdnSetId>,
    /// Only certificates this account ordered.
    pub acme_account: Option<AcmeAccountId>,
    /// Only certificates with this key.
    pub private_key: Option<PrivateKeyId>,
}

impl CertificateFilter {
    /// Every certificate.
    pub fn all() -> Self {
        Self::default()
    }

    /// Certificates in `status`.
    pub fn status(status: CertificateStatus) -> Self {
        Self {
            status: Some(status),
            ..Self::default()
        }
    }

    /// Certificates in service, whatever their validity.
    pub fn active() -> Self {
        Self {
            is_active: Some(true),
            ..Self::default()
        }
    }

    /// Certificates out of service.
    pub fn inactive() -> Self {
        Self {
            is_active: Some(false),
            ..Self::default()
        }
    }

    /// Active certificates whose validity ends before `at`.
    pub fn expiring_before(at: OffsetDateTime) -> Self {
        Self {
            expiring_before: Some(at),
            ..Self::default()
        }
    }

    /// Active certificates whose validity ends within `days` days of
    /// `now`; `days` must lie in `0..=MAX_DAYS`, else a typed error naming
    /// the `days` parameter.
    pub fn expiring_within(now: OffsetDateTime, days: i64) -> Result<Self, crate::Error> {
        Ok(Self::expiring_before(crate::model::rules::days_after(
            now, days,
        )?))
    }

    /// Certificates covering `domain`.
    pub fn domain(domain: DomainId) -> Self {
        Self {
            domain: Some(domain),
            ..Self::default()
        }
    }

    /// Certificates with `key`.
    pub fn private_key(key: PrivateKeyId) -> Self {
        Self {
            private_key: Some(key),
            ..Self::default()
        }
    }
}

/// A certificate ready to import: parsed, checked and linked.
#[derive(Debug, Clone)]
pub struct CertificateImport {
    /// The leaf.
    pub certificate: ParsedCertificate,
    /// Its key (already checked to match).
    pub private_key: ParsedPrivateKey,
    /// Its chain, linked by signature.
    pub chain: LinkedChain,
    /// Its names.
    pub unique_fqdn_set: UniqueFqdnSet,
    /// Name recorded for a newly seen chain.
    pub chain_display_name: String,
    /// Whether it had expired when imported.
    pub is_expired: bool,
    /// Further chains the CA offered for the same certificate.
    pub alternate_chains: Vec<LinkedChain>,
    /// The order that obtained it, which is completed in the same transaction.
    pub acme_order_id: Option<AcmeOrderId>,
    /// The request it answered.
    pub certificate_request_id: Option<CertificateRequestId>,
}

/// What an import recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportOutcome {
    /// The certificate.
    pub certificate_signed: Created<CertificateSignedId>,
    /// Its key.
    pub private_key: Created<PrivateKeyId>,
    /// Its chain, when one was given.
    pub certificate_ca_chain: Option<Created<CertificateCaChainId>>,
    /// Every CA certificate of the chain (root included when given).
    pub certificate_cas: Vec<Created<CertificateCaId>>,
    /// Its set of names.
    pub unique_fqdn_set: Created<UniqueFqdnSetId>,
    /// Its domains, in name order.
    pub domains: Vec<Created<DomainId>>,
    /// Whether it had expired when imported.
    pub is_expired: bool,
}

/// What marking a private key compromised changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompromiseOutcome {
    /// The key, after the change.
    pub private_key: PrivateKey,
    /// Certificates taken out of service.
    pub deactivated_certificates: Vec<CertificateSignedId>,
}

/// Certificates and the private keys they use.
#[async_trait]
pub trait CertificateStore: Send + Sync {
    /// Records a key, de-duplicated by its public key.
    async fn insert_private_key(&self, new: NewPrivateKey) -> StoreResult<Created<PrivateKey>>;
    /// One key.
    async fn private_key(&self, id: PrivateKeyId) -> StoreResult<PrivateKey>;
    /// A page of keys.
    async fn list_private_keys(&self, page: Page) -> StoreResult<Paged<PrivateKey>>;
    /// Marks a key active or inactive (a compromised key cannot be activated).
    async fn set_private_key_active(
        &self,
        id: PrivateKeyId,
        active: bool,
    ) -> StoreResult<PrivateKey>;
    /// The key with this public key (SPKI SHA-256), if recorded.
    async fn private_key_by_spki(&self, spki_sha256: &str) -> StoreResult<Option<PrivateKey>>;
    /// The newest usable key made for `cycle` (owned by `owner`, or unowned
    /// when `owner` is `None`), for key reuse at finalize.
    async fn latest_private_key_for_cycle(
        &self,
        cycle: PrivateKeyCycle,
        owner: Option<AcmeAccountId>,
    ) -> StoreResult<Option<PrivateKey>>;
    /// Marks a key compromised, deactivating it and every certificate that uses it.
    async fn mark_private_key_compromised(
        &self,
        id: PrivateKeyId,
    ) -> StoreResult<CompromiseOutcome>;
    /// Records a certificate with its key, chain, CA certificates, domains and
    /// set, in one transaction. Importing the same certificate again returns
    /// the same ids with `created: false`.
    async fn import_certificate(&self, import: &CertificateImport) -> StoreResult<ImportOutcome>;
    /// One certificate.
    async fn certificate_signed(&self, id: CertificateSignedId) -> StoreResult<CertificateSigned>;
    /// A page of certificates, newest first.
    async fn list_certificates_signed(
        &self,
        filter: CertificateFilter,
        page: Page,
    ) -> StoreResult<Paged<CertificateSigned>>;
    /// Applies a mark (active, inactive, revoked) under the certificate rules.
    async fn mark_certificate_signed(
        &self,
        id: CertificateSignedId,
        mark: CertificateMark,
    ) -> StoreResult<CertificateSigned>;
    /// The active certificate covering the domain that expires last, if any.
    async fn latest_active_certificate_for_domain(
        &self,
        name: &DomainName,
    ) -> StoreResult<Option<CertificateSigned>>;
    /// Records a certificate's renewal window (ARI) as the CA suggested it.
    async fn set_certificate_renewal_window(
        &self,
        id: CertificateSignedId,
        window: &crate::ports::acme::RenewalWindow,
    ) -> StoreResult<CertificateSigned>;
    /// Records that the CA confirmed a revocation, and applies the permanent
    /// local `revoked` mark in the same transaction (the domains' pointers
    /// move off it).
    async fn set_certificate_revoked_upstream(
        &self,
        id: CertificateSignedId,
    ) -> StoreResult<CertificateSigned>;
    /// The order that obtained a certificate, if peter ordered it.
    async fn acme_order_for_certificate(
        &self,
        id: CertificateSignedId,
    ) -> StoreResult<Option<AcmeOrder>>;
    /// The chains a certificate was offered with, upstream default first.
    async fn certificate_chains(
        &self,
        id: CertificateSignedId,
    ) -> StoreResult<Vec<CertificateChainOffer>>;
}
