//! The JSON shapes of peter's objects: what the admin API answers and what
//! `peter --json` prints, from these same types (rendered through
//! [`render`]), so the two cannot say the same thing differently. Private
//! key material is never part of a view: it is served only by the download
//! routes and `config.json`.
//!
//! Field names follow the original's JSON; each mirrors the documented field
//! of the same name in `peter_core::model`. Instants are RFC 3339 in UTC;
//! closed sets are their wire spellings.
#![allow(missing_docs, non_snake_case)]

use peter_core::model::*;
use poem_openapi::Object;
use poem_openapi::types::ToJSON;

pub use crate::wire::{Timestamp, Wire};

/// A view as JSON, exactly as the admin API sends it.
pub fn render<T: ToJSON>(view: &T) -> serde_json::Value {
    view.to_json().unwrap_or(serde_json::Value::Null)
}

/// An ACME server (directory).
#[derive(Debug, Clone, Object)]
pub struct AcmeServerView {
    pub id: i64,
    pub name: String,
    pub directory_url: String,
    pub has_ca_bundle: bool,
    pub is_default: bool,
    pub is_enabled: bool,
    pub created_at: Timestamp,
    /// When the directory was last read (null: never since it was recorded).
    #[oai(nullable)]
    pub directory_checked_at: Option<Timestamp>,
    /// The terms of service the directory named.
    #[oai(nullable)]
    pub terms_of_service: Option<String>,
    /// Whether new accounts need an external account binding (`eab_kid`, `eab_hmac_key`).
    pub external_account_required: bool,
    /// Profiles the directory offers.
    pub profiles: Vec<String>,
    /// Whether the directory offers renewal information (ARI).
    pub supports_ari: bool,
    /// Whether orders may name IP addresses (RFC 8738), as the operator set it.
    pub ip_identifiers: bool,
}

impl From<&AcmeServer> for AcmeServerView {
    fn from(s: &AcmeServer) -> Self {
        let d = s.directory.as_ref();
        Self {
            id: s.id.0,
            name: s.name.clone(),
            directory_url: s.directory_url.clone(),
            has_ca_bundle: s.ca_bundle_pem.is_some(),
            is_default: s.is_default,
            is_enabled: s.is_enabled,
            created_at: Timestamp(s.created_at),
            directory_checked_at: d.map(|d| Timestamp(d.checked_at)),
            terms_of_service: d.and_then(|d| d.terms_of_service.clone()),
            external_account_required: d.is_some_and(|d| d.external_account_required),
            profiles: d.map(|d| d.profiles.clone()).unwrap_or_default(),
            supports_ari: d.is_some_and(|d| d.supports_ari),
            ip_identifiers: s.ip_identifiers,
        }
    }
}

/// An ACME account.
#[derive(Debug, Clone, Object)]
pub struct AcmeAccountView {
    pub id: i64,
    pub acme_server_id: i64,
    #[oai(nullable)]
    pub contact: Option<String>,
    #[oai(nullable)]
    pub account_url: Option<String>,
    #[oai(nullable)]
    pub terms_of_service: Option<String>,
    pub is_active: bool,
    pub is_global_default: bool,
    pub private_key_technology: Wire<KeyTechnology>,
    pub private_key_cycle: Wire<PrivateKeyCycle>,
    #[oai(nullable)]
    pub deactivated_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub acme_account_key_id: i64,
    pub acme_account_key_technology: Wire<KeyTechnology>,
    pub acme_account_key_spki_sha256: String,
}

impl From<&AcmeAccount> for AcmeAccountView {
    fn from(a: &AcmeAccount) -> Self {
        Self {
            id: a.id.0,
            acme_server_id: a.acme_server_id.0,
            contact: a.contact.clone(),
            account_url: a.account_url.clone(),
            terms_of_service: a.terms_of_service.clone(),
            is_active: a.is_active,
            is_global_default: a.is_global_default,
            private_key_technology: Wire(a.private_key_technology),
            private_key_cycle: Wire(a.private_key_cycle),
            deactivated_at: a.deactivated_at.map(Timestamp),
            created_at: Timestamp(a.created_at),
            acme_account_key_id: a.key.id.0,
            acme_account_key_technology: Wire(a.key.key_technology),
            acme_account_key_spki_sha256: a.key.spki_sha256.clone(),
        }
    }
}

/// A private key (its PEM is a download).
#[derive(Debug, Clone, Object)]
pub struct PrivateKeyView {
    pub id: i64,
    pub key_technology: Wire<KeyTechnology>,
    pub spki_sha256: String,
    pub source: Wire<PrivateKeySource>,
    pub cycle: Wire<PrivateKeyCycle>,
    #[oai(nullable)]
    pub acme_account_id_owner: Option<i64>,
    pub is_active: bool,
    pub is_compromised: bool,
    pub created_at: Timestamp,
}

impl From<&PrivateKey> for PrivateKeyView {
    fn from(k: &PrivateKey) -> Self {
        Self {
            id: k.id.0,
            key_technology: Wire(k.key_technology),
            spki_sha256: k.spki_sha256.clone(),
            source: Wire(k.source),
            cycle: Wire(k.cycle),
            acme_account_id_owner: k.acme_account_id_owner.map(|a| a.0),
            is_active: k.is_active,
            is_compromised: k.is_compromised,
            created_at: Timestamp(k.created_at),
        }
    }
}

/// A domain.
#[derive(Debug, Clone, Object)]
pub struct DomainView {
    pub id: i64,
    /// A DNS name or an IP address (RFC 8738).
    pub domain_name: String,
    /// Whether `domain_name` is a DNS name (`dns`) or an IP address (`ip`).
    pub identifier_type: Wire<IdentifierType>,
    pub is_active: bool,
    #[oai(nullable)]
    pub certificate_signed_id__latest_single: Option<i64>,
    #[oai(nullable)]
    pub certificate_signed_id__latest_multi: Option<i64>,
    /// How orders validate it: `http-01` or `dns-01` (a wildcard: always dns-01).
    pub challenge_type: Wire<AcmeChallengeType>,
    pub created_at: Timestamp,
}

impl From<&Domain> for DomainView {
    fn from(d: &Domain) -> Self {
        Self {
            id: d.id.0,
            domain_name: d.domain_name.clone(),
            identifier_type: Wire(d.identifier_type),
            is_active: d.is_active,
            certificate_signed_id__latest_single: d
                .certificate_signed_id_latest_single
                .map(|c| c.0),
            certificate_signed_id__latest_multi: d.certificate_signed_id_latest_multi.map(|c| c.0),
            challenge_type: Wire(d.challenge_type),
            created_at: Timestamp(d.created_at),
        }
    }
}

/// How one set of names is renewed.
#[derive(Debug, Clone, Object)]
pub struct RenewalConfigurationView {
    pub id: i64,
    pub unique_fqdn_set_id: i64,
    /// The names renewed; each is validated by its domain's challenge type.
    pub domain_names: Vec<String>,
    /// The primary: the account that orders (and so its CA).
    pub acme_account_id: i64,
    /// Key technology, a `KeyTechnology` value (null: the account's default).
    #[oai(nullable)]
    pub private_key_technology: Option<String>,
    pub private_key_cycle: Wire<PrivateKeyCycle>,
    /// Profile asked of the primary.
    #[oai(nullable)]
    pub profile: Option<String>,
    /// Challenge types chosen for some names (`http-01`, `dns-01`), over
    /// their domains'.
    pub challenge_types: std::collections::BTreeMap<String, String>,
    /// The backup account, at another CA (null: none).
    #[oai(nullable)]
    pub backup_acme_account_id: Option<i64>,
    /// The backup's key technology, a `KeyTechnology` value (null: that
    /// account's default).
    #[oai(nullable)]
    pub backup_private_key_technology: Option<String>,
    /// The backup's profile.
    #[oai(nullable)]
    pub backup_profile: Option<String>,
    /// Consecutive failures at the primary before renewals go to the backup.
    pub failover_after: u32,
    pub is_active: bool,
    pub created_at: Timestamp,
}

impl From<&RenewalConfiguration> for RenewalConfigurationView {
    fn from(c: &RenewalConfiguration) -> Self {
        let b = c.backup.as_ref();
        Self {
            id: c.id.0,
            unique_fqdn_set_id: c.unique_fqdn_set_id.0,
            domain_names: c.domain_names.clone(),
            acme_account_id: c.acme_account_id.0,
            private_key_technology: c.private_key_technology.map(|t| t.as_str().into()),
            private_key_cycle: Wire(c.private_key_cycle),
            profile: c.profile.clone(),
            challenge_types: c
                .challenge_types
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().to_string()))
                .collect(),
            backup_acme_account_id: b.map(|b| b.acme_account_id.0),
            backup_private_key_technology: b
                .and_then(|b| b.private_key_technology)
                .map(|t| t.as_str().into()),
            backup_profile: b.and_then(|b| b.profile.clone()),
            failover_after: c.failover_after,
            is_active: c.is_active,
            created_at: Timestamp(c.created_at),
        }
    }
}

/// One autocert attempt that went as far as ordering.
#[derive(Debug, Clone, Object)]
pub struct DomainAutocertView {
    pub id: i64,
    /// The name a gateway asked for.
    pub domain_name: String,
    pub created_at: Timestamp,
    /// When it ended (null: still running, or its process died).
    #[oai(nullable)]
    pub finished_at: Option<Timestamp>,
    /// Whether a certificate came of it (null until it ends).
    #[oai(nullable)]
    pub is_successful: Option<bool>,
    /// The order it placed.
    #[oai(nullable)]
    pub acme_order_id: Option<i64>,
    /// Why it failed.
    #[oai(nullable)]
    pub problem: Option<String>,
}

impl From<&DomainAutocert> for DomainAutocertView {
    fn from(a: &DomainAutocert) -> Self {
        Self {
            id: a.id.0,
            domain_name: a.domain_name.clone(),
            created_at: Timestamp(a.created_at),
            finished_at: a.finished_at.map(Timestamp),
            is_successful: a.is_successful,
            acme_order_id: a.acme_order_id.map(|o| o.0),
            problem: a.problem.clone(),
        }
    }
}

/// A set of names a certificate or order covers.
#[derive(Debug, Clone, Object)]
pub struct UniqueFqdnSetView {
    pub id: i64,
    pub domain_names: Vec<String>,
    pub domain_ids: Vec<i64>,
    pub created_at: Timestamp,
}

impl From<&UniqueFqdnSetRecord> for UniqueFqdnSetView {
    fn from(s: &UniqueFqdnSetRecord) -> Self {
        Self {
            id: s.id.0,
            domain_names: s.set.names().map(|n| n.as_str().to_string()).collect(),
            domain_ids: s.domain_ids.iter().map(|d| d.0).collect(),
            created_at: Timestamp(s.created_at),
        }
    }
}

/// A certificate signing request.
#[derive(Debug, Clone, Object)]
pub struct CertificateRequestView {
    pub id: i64,
    pub csr_pem: String,
    pub spki_sha256: String,
    pub source: Wire<CertificateRequestSource>,
    #[oai(nullable)]
    pub private_key_id: Option<i64>,
    pub unique_fqdn_set_id: i64,
    pub created_at: Timestamp,
}

impl From<&CertificateRequest> for CertificateRequestView {
    fn from(c: &CertificateRequest) -> Self {
        Self {
            id: c.id.0,
            csr_pem: c.csr_pem.clone(),
            spki_sha256: c.spki_sha256.clone(),
            source: Wire(c.source),
            private_key_id: c.private_key_id.map(|k| k.0),
            unique_fqdn_set_id: c.unique_fqdn_set_id.0,
            created_at: Timestamp(c.created_at),
        }
    }
}

/// A certificate peter holds.
#[derive(Debug, Clone, Object)]
pub struct CertificateSignedView {
    pub id: i64,
    pub cert_pem: String,
    pub fingerprint_sha1: String,
    pub spki_sha256: String,
    pub serial: String,
    pub cert_subject: String,
    pub cert_issuer: String,
    pub timestamp_not_before: Timestamp,
    pub timestamp_not_after: Timestamp,
    pub is_single_domain_cert: bool,
    pub key_technology: Wire<KeyTechnology>,
    pub is_active: bool,
    pub is_deactivated: bool,
    pub is_revoked: bool,
    pub is_compromised_private_key: bool,
    #[oai(nullable)]
    pub timestamp_revoked_upstream: Option<Timestamp>,
    #[oai(nullable)]
    pub ari_window_start: Option<Timestamp>,
    #[oai(nullable)]
    pub ari_window_end: Option<Timestamp>,
    /// The CA's page explaining its renewal window, when it gave one.
    #[oai(nullable)]
    pub ari_explanation_url: Option<String>,
    /// When the renewal window was last asked of the CA.
    #[oai(nullable)]
    pub ari_checked_at: Option<Timestamp>,
    pub private_key_id: i64,
    pub unique_fqdn_set_id: i64,
    #[oai(nullable)]
    pub certificate_request_id: Option<i64>,
    pub created_at: Timestamp,
}

impl From<&CertificateSigned> for CertificateSignedView {
    fn from(c: &CertificateSigned) -> Self {
        Self {
            id: c.id.0,
            cert_pem: c.cert_pem.clone(),
            fingerprint_sha1: c.fingerprint_sha1.clone(),
            spki_sha256: c.spki_sha256.clone(),
            serial: c.serial.clone(),
            cert_subject: c.cert_subject.clone(),
            cert_issuer: c.cert_issuer.clone(),
            timestamp_not_before: Timestamp(c.not_before),
            timestamp_not_after: Timestamp(c.not_after),
            is_single_domain_cert: c.is_single_domain_cert,
            key_technology: Wire(c.key_technology),
            is_active: c.is_active,
            is_deactivated: c.is_deactivated,
            is_revoked: c.is_revoked,
            is_compromised_private_key: c.is_compromised_private_key,
            timestamp_revoked_upstream: c.revoked_upstream_at.map(Timestamp),
            ari_window_start: c.ari_window_start.map(Timestamp),
            ari_window_end: c.ari_window_end.map(Timestamp),
            ari_explanation_url: c.ari_explanation_url.clone(),
            ari_checked_at: c.ari_checked_at.map(Timestamp),
            private_key_id: c.private_key_id.0,
            unique_fqdn_set_id: c.unique_fqdn_set_id.0,
            certificate_request_id: c.certificate_request_id.map(|r| r.0),
            created_at: Timestamp(c.created_at),
        }
    }
}

/// A CA certificate.
#[derive(Debug, Clone, Object)]
pub struct CertificateCaView {
    pub id: i64,
    pub display_name: String,
    pub cert_pem: String,
    pub fingerprint_sha1: String,
    pub spki_sha256: String,
    pub cert_subject: String,
    pub cert_issuer: String,
    pub timestamp_not_before: Timestamp,
    pub timestamp_not_after: Timestamp,
    pub is_trusted_root: bool,
    pub created_at: Timestamp,
}

impl From<&CertificateCa> for CertificateCaView {
    fn from(c: &CertificateCa) -> Self {
        Self {
            id: c.id.0,
            display_name: c.display_name.clone(),
            cert_pem: c.cert_pem.clone(),
            fingerprint_sha1: c.fingerprint_sha1.clone(),
            spki_sha256: c.spki_sha256.clone(),
            cert_subject: c.cert_subject.clone(),
            cert_issuer: c.cert_issuer.clone(),
            timestamp_not_before: Timestamp(c.not_before),
            timestamp_not_after: Timestamp(c.not_after),
            is_trusted_root: c.is_trusted_root,
            created_at: Timestamp(c.created_at),
        }
    }
}

/// A chain of CA certificates, leaf side first.
#[derive(Debug, Clone, Object)]
pub struct CertificateCaChainView {
    pub id: i64,
    pub display_name: String,
    pub chain_pem: String,
    pub certificate_ca_ids: Vec<i64>,
    pub created_at: Timestamp,
}

impl From<&CertificateCaChain> for CertificateCaChainView {
    fn from(c: &CertificateCaChain) -> Self {
        Self {
            id: c.id.0,
            display_name: c.display_name.clone(),
            chain_pem: c.chain_pem.clone(),
            certificate_ca_ids: c.certificate_ca_ids.iter().map(|i| i.0).collect(),
            created_at: Timestamp(c.created_at),
        }
    }
}

/// A chain a certificate was offered with.
#[derive(Debug, Clone, Object)]
pub struct CertificateChainOfferView {
    pub is_upstream_default: bool,
    pub CertificateCAChain: CertificateCaChainItemView,
}

/// An ACME order.
#[derive(Debug, Clone, Object)]
pub struct AcmeOrderView {
    pub id: i64,
    pub acme_account_id: i64,
    pub unique_fqdn_set_id: i64,
    #[oai(nullable)]
    pub order_url: Option<String>,
    #[oai(nullable)]
    pub finalize_url: Option<String>,
    #[oai(nullable)]
    pub certificate_url: Option<String>,
    pub status: Wire<AcmeOrderStatus>,
    pub processing_status: Wire<AcmeOrderProcessingStatus>,
    pub processing_strategy: Wire<AcmeOrderProcessingStrategy>,
    pub order_type: Wire<AcmeOrderType>,
    #[oai(nullable)]
    pub is_processing: Option<bool>,
    pub private_key_cycle_renewal: Wire<PrivateKeyCycle>,
    pub private_key_strategy_requested: Wire<PrivateKeyStrategy>,
    #[oai(nullable)]
    pub private_key_id_requested: Option<i64>,
    #[oai(nullable)]
    pub private_key_id: Option<i64>,
    #[oai(nullable)]
    pub certificate_request_id: Option<i64>,
    #[oai(nullable)]
    pub certificate_signed_id: Option<i64>,
    #[oai(nullable)]
    pub acme_order_id_retry_of: Option<i64>,
    #[oai(nullable)]
    pub certificate_signed_id_renewal_of: Option<i64>,
    #[oai(nullable)]
    pub profile: Option<String>,
    #[oai(nullable)]
    pub replaces: Option<String>,
    /// The ACME problem document (JSON text) when the order failed.
    #[oai(nullable)]
    pub problem: Option<String>,
    #[oai(nullable)]
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&AcmeOrder> for AcmeOrderView {
    fn from(o: &AcmeOrder) -> Self {
        Self {
            id: o.id.0,
            acme_account_id: o.acme_account_id.0,
            unique_fqdn_set_id: o.unique_fqdn_set_id.0,
            order_url: o.order_url.clone(),
            finalize_url: o.finalize_url.clone(),
            certificate_url: o.certificate_url.clone(),
            status: Wire(o.status),
            processing_status: Wire(o.processing_status),
            processing_strategy: Wire(o.processing_strategy),
            order_type: Wire(o.order_type),
            is_processing: o.is_processing,
            private_key_cycle_renewal: Wire(o.private_key_cycle_renewal),
            private_key_strategy_requested: Wire(o.private_key_strategy_requested),
            private_key_id_requested: o.private_key_id_requested.map(|k| k.0),
            private_key_id: o.private_key_id.map(|k| k.0),
            certificate_request_id: o.certificate_request_id.map(|c| c.0),
            certificate_signed_id: o.certificate_signed_id.map(|c| c.0),
            acme_order_id_retry_of: o.acme_order_id_retry_of.map(|c| c.0),
            certificate_signed_id_renewal_of: o.certificate_signed_id_renewal_of.map(|c| c.0),
            profile: o.profile.clone(),
            replaces: o.replaces.clone(),
            problem: o.problem.clone(),
            expires_at: o.expires_at.map(Timestamp),
            created_at: Timestamp(o.created_at),
            updated_at: Timestamp(o.updated_at),
        }
    }
}

/// An ACME authorization.
#[derive(Debug, Clone, Object)]
pub struct AcmeAuthorizationView {
    pub id: i64,
    pub authorization_url: String,
    pub status: Wire<AcmeAuthorizationStatus>,
    #[oai(nullable)]
    pub domain_id: Option<i64>,
    #[oai(nullable)]
    pub expires_at: Option<Timestamp>,
    #[oai(nullable)]
    pub deactivated_at: Option<Timestamp>,
    pub acme_order_id_created: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&AcmeAuthorization> for AcmeAuthorizationView {
    fn from(a: &AcmeAuthorization) -> Self {
        Self {
            id: a.id.0,
            authorization_url: a.authorization_url.clone(),
            status: Wire(a.status),
            domain_id: a.domain_id.map(|d| d.0),
            expires_at: a.expires_at.map(Timestamp),
            deactivated_at: a.deactivated_at.map(Timestamp),
            acme_order_id_created: a.acme_order_id_created.0,
            created_at: Timestamp(a.created_at),
            updated_at: Timestamp(a.updated_at),
        }
    }
}

/// An ACME challenge (its key authorization is public by design: the CA
/// fetches it over plain HTTP).
#[derive(Debug, Clone, Object)]
pub struct AcmeChallengeView {
    pub id: i64,
    pub acme_authorization_id: i64,
    pub domain_id: i64,
    pub challenge_type: Wire<AcmeChallengeType>,
    pub status: Wire<AcmeChallengeStatus>,
    pub challenge_url: String,
    pub token: String,
    #[oai(nullable)]
    pub keyauthorization: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&AcmeChallenge> for AcmeChallengeView {
    fn from(c: &AcmeChallenge) -> Self {
        Self {
            id: c.id.0,
            acme_authorization_id: c.acme_authorization_id.0,
            domain_id: c.domain_id.0,
            challenge_type: Wire(c.challenge_type),
            status: Wire(c.status),
            challenge_url: c.challenge_url.clone(),
            token: c.token.clone(),
            keyauthorization: c.key_authorization.clone(),
            created_at: Timestamp(c.created_at),
            updated_at: Timestamp(c.updated_at),
        }
    }
}

/// Answered fetches of a challenge from one address: how many, first and
/// last seen.
#[derive(Debug, Clone, Object)]
pub struct AcmeChallengePollView {
    pub id: i64,
    pub acme_challenge_id: i64,
    /// First seen.
    pub timestamp_polled: Timestamp,
    /// Last seen.
    pub timestamp_last_polled: Timestamp,
    /// Fetches counted.
    pub poll_count: u64,
    #[oai(nullable)]
    pub remote_ip_address: Option<String>,
}

impl From<&AcmeChallengePoll> for AcmeChallengePollView {
    fn from(p: &AcmeChallengePoll) -> Self {
        Self {
            id: p.id.0,
            acme_challenge_id: p.acme_challenge_id.0,
            timestamp_polled: Timestamp(p.polled_at),
            timestamp_last_polled: Timestamp(p.last_polled_at),
            poll_count: p.poll_count,
            remote_ip_address: p.remote_ip_address.clone(),
        }
    }
}

/// Fetches peter had no answer for, per host and token: how many, first
/// and last seen (only the most recently seen are kept).
#[derive(Debug, Clone, Object)]
pub struct AcmeChallengeUnknownPollView {
    pub id: i64,
    pub domain: String,
    pub challenge: String,
    /// First seen.
    pub timestamp_polled: Timestamp,
    /// Last seen.
    pub timestamp_last_polled: Timestamp,
    /// Fetches counted.
    pub poll_count: u64,
    /// Who asked, last time.
    #[oai(nullable)]
    pub remote_ip_address: Option<String>,
}

impl From<&AcmeChallengeUnknownPoll> for AcmeChallengeUnknownPollView {
    fn from(p: &AcmeChallengeUnknownPoll) -> Self {
        Self {
            id: p.id.0,
            domain: p.domain.clone(),
            challenge: p.token.clone(),
            timestamp_polled: Timestamp(p.polled_at),
            timestamp_last_polled: Timestamp(p.last_polled_at),
            poll_count: p.poll_count,
            remote_ip_address: p.remote_ip_address.clone(),
        }
    }
}

/// One ACME exchange.
#[derive(Debug, Clone, Object)]
pub struct AcmeEventLogView {
    pub id: i64,
    pub timestamp_event: Timestamp,
    pub acme_event: Wire<AcmeEvent>,
    pub endpoint: String,
    #[oai(nullable)]
    pub http_status: Option<i32>,
    #[oai(nullable)]
    pub problem_type: Option<String>,
    #[oai(nullable)]
    pub problem_detail: Option<String>,
    #[oai(nullable)]
    pub retry_after_seconds: Option<i64>,
    pub duration_ms: i64,
    #[oai(nullable)]
    pub acme_account_id: Option<i64>,
    #[oai(nullable)]
    pub acme_order_id: Option<i64>,
    #[oai(nullable)]
    pub acme_authorization_id: Option<i64>,
    #[oai(nullable)]
    pub acme_challenge_id: Option<i64>,
    #[oai(nullable)]
    pub certificate_signed_id: Option<i64>,
}

impl From<&AcmeEventLog> for AcmeEventLogView {
    fn from(e: &AcmeEventLog) -> Self {
        Self {
            id: e.id.0,
            timestamp_event: Timestamp(e.event_at),
            acme_event: Wire(e.event),
            endpoint: e.endpoint.clone(),
            http_status: e.http_status,
            problem_type: e.problem_type.clone(),
            problem_detail: e.problem_detail.clone(),
            retry_after_seconds: e.retry_after_seconds,
            duration_ms: e.duration_ms,
            acme_account_id: e.acme_account_id.map(|x| x.0),
            acme_order_id: e.acme_order_id.map(|x| x.0),
            acme_authorization_id: e.acme_authorization_id.map(|x| x.0),
            acme_challenge_id: e.acme_challenge_id.map(|x| x.0),
            certificate_signed_id: e.certificate_signed_id.map(|x| x.0),
        }
    }
}

/// An operations event.
#[derive(Debug, Clone, Object)]
pub struct OperationsEventView {
    pub id: i64,
    pub event_type: Wire<OperationsEventType>,
    pub timestamp_event: Timestamp,
    pub payload: serde_json::Value,
    #[oai(nullable)]
    pub parent_id: Option<i64>,
}

impl From<&OperationsEvent> for OperationsEventView {
    fn from(e: &OperationsEvent) -> Self {
        Self {
            id: e.id.0,
            event_type: Wire(e.event_type),
            timestamp_event: Timestamp(e.event_at),
            payload: e.payload.clone(),
            parent_id: e.parent_id.map(|x| x.0),
        }
    }
}

/// An alert delivered (or to be delivered) to one target.
#[derive(Debug, Clone, Object)]
pub struct AlertDeliveryView {
    pub id: i64,
    pub condition: Wire<AlertCondition>,
    /// What it concerns (`certificate:12`, `account:3`).
    pub subject: String,
    #[oai(nullable)]
    pub certificate_signed_id: Option<i64>,
    #[oai(nullable)]
    pub acme_account_id: Option<i64>,
    /// The target (`webhook`, `exec`).
    pub target: String,
    /// The JSON document sent.
    pub payload: serde_json::Value,
    pub status: Wire<AlertStatus>,
    pub attempts: i32,
    #[oai(nullable)]
    pub last_error: Option<String>,
    pub timestamp_created: Timestamp,
    #[oai(nullable)]
    pub timestamp_delivered: Option<Timestamp>,
}

impl From<&AlertDelivery> for AlertDeliveryView {
    fn from(d: &AlertDelivery) -> Self {
        Self {
            id: d.id.0,
            condition: Wire(d.condition),
            subject: d.subject.clone(),
            certificate_signed_id: d.certificate_signed_id.map(|c| c.0),
            acme_account_id: d.acme_account_id.map(|a| a.0),
            target: d.target.clone(),
            payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
            status: Wire(d.status),
            attempts: d.attempts,
            last_error: d.last_error.clone(),
            timestamp_created: Timestamp(d.created_at),
            timestamp_delivered: d.delivered_at.map(Timestamp),
        }
    }
}

/// A chain a certificate was offered with.
impl From<&CertificateChainOffer> for CertificateChainOfferView {
    fn from(o: &CertificateChainOffer) -> Self {
        Self {
            is_upstream_default: o.is_upstream_default,
            CertificateCAChain: (&o.chain).into(),
        }
    }
}

/// A certificate as lists show it: its names and status, no PEM (the
/// focus view and the files carry it).
#[derive(Debug, Clone, Object)]
pub struct CertificateSignedItemView {
    pub id: i64,
    /// Its names, in name order.
    pub domain_names: Vec<String>,
    /// `revoked`, `expired`, `active` or `inactive`, now.
    pub status: Wire<peter_core::ports::CertificateStatus>,
    pub fingerprint_sha1: String,
    pub spki_sha256: String,
    pub serial: String,
    pub cert_issuer: String,
    pub timestamp_not_before: Timestamp,
    pub timestamp_not_after: Timestamp,
    pub is_single_domain_cert: bool,
    pub key_technology: Wire<KeyTechnology>,
    pub is_active: bool,
    pub is_revoked: bool,
    pub is_compromised_private_key: bool,
    #[oai(nullable)]
    pub timestamp_revoked_upstream: Option<Timestamp>,
    pub private_key_id: i64,
    pub unique_fqdn_set_id: i64,
    pub created_at: Timestamp,
}

impl From<&peter_core::app::CertificateSummary> for CertificateSignedItemView {
    fn from(s: &peter_core::app::CertificateSummary) -> Self {
        let c = &s.certificate;
        Self {
            id: c.id.0,
            domain_names: s.domain_names.clone(),
            status: Wire(s.status),
            fingerprint_sha1: c.fingerprint_sha1.clone(),
            spki_sha256: c.spki_sha256.clone(),
            serial: c.serial.clone(),
            cert_issuer: c.cert_issuer.clone(),
            timestamp_not_before: Timestamp(c.not_before),
            timestamp_not_after: Timestamp(c.not_after),
            is_single_domain_cert: c.is_single_domain_cert,
            key_technology: Wire(c.key_technology),
            is_active: c.is_active,
            is_revoked: c.is_revoked,
            is_compromised_private_key: c.is_compromised_private_key,
            timestamp_revoked_upstream: c.revoked_upstream_at.map(Timestamp),
            private_key_id: c.private_key_id.0,
            unique_fqdn_set_id: c.unique_fqdn_set_id.0,
            created_at: Timestamp(c.created_at),
        }
    }
}

/// A CA certificate as lists show it (no PEM).
#[derive(Debug, Clone, Object)]
pub struct CertificateCaItemView {
    pub id: i64,
    pub display_name: String,
    pub fingerprint_sha1: String,
    pub spki_sha256: String,
    pub cert_subject: String,
    pub cert_issuer: String,
    pub timestamp_not_after: Timestamp,
    pub is_trusted_root: bool,
    pub created_at: Timestamp,
}

impl From<&CertificateCa> for CertificateCaItemView {
    fn from(c: &CertificateCa) -> Self {
        Self {
            id: c.id.0,
            display_name: c.display_name.clone(),
            fingerprint_sha1: c.fingerprint_sha1.clone(),
            spki_sha256: c.spki_sha256.clone(),
            cert_subject: c.cert_subject.clone(),
            cert_issuer: c.cert_issuer.clone(),
            timestamp_not_after: Timestamp(c.not_after),
            is_trusted_root: c.is_trusted_root,
            created_at: Timestamp(c.created_at),
        }
    }
}

/// A chain as lists show it (no PEM).
#[derive(Debug, Clone, Object)]
pub struct CertificateCaChainItemView {
    pub id: i64,
    pub display_name: String,
    pub certificate_ca_ids: Vec<i64>,
    pub created_at: Timestamp,
}

impl From<&CertificateCaChain> for CertificateCaChainItemView {
    fn from(c: &CertificateCaChain) -> Self {
        Self {
            id: c.id.0,
            display_name: c.display_name.clone(),
            certificate_ca_ids: c.certificate_ca_ids.iter().map(|i| i.0).collect(),
            created_at: Timestamp(c.created_at),
        }
    }
}

/// A certificate request as lists show it (no PEM).
#[derive(Debug, Clone, Object)]
pub struct CertificateRequestItemView {
    pub id: i64,
    pub spki_sha256: String,
    pub source: Wire<CertificateRequestSource>,
    #[oai(nullable)]
    pub private_key_id: Option<i64>,
    pub unique_fqdn_set_id: i64,
    pub created_at: Timestamp,
}

impl From<&CertificateRequest> for CertificateRequestItemView {
    fn from(c: &CertificateRequest) -> Self {
        Self {
            id: c.id.0,
            spki_sha256: c.spki_sha256.clone(),
            source: Wire(c.source),
            private_key_id: c.private_key_id.map(|k| k.0),
            unique_fqdn_set_id: c.unique_fqdn_set_id.0,
            created_at: Timestamp(c.created_at),
        }
    }
}

/// Where a page of a list is.
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
    pub fn of<T>(paged: &peter_core::ports::Paged<T>) -> Self {
        Self {
            total_items: paged.total_items,
            page: paged.page.page,
            per_page: paged.page.per_page,
            page_next: paged.page_next(),
        }
    }

    /// The pagination of a list held whole.
    pub fn whole(len: usize) -> Self {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        Self {
            total_items: len,
            page: 1,
            per_page: len.max(1),
            page_next: None,
        }
    }
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
            pub pagination: $crate::views::Pagination,
        }

        impl $name {
            /// The answer for a page.
            pub fn of<T>(paged: &peter_core::ports::Paged<T>) -> Self
            where
                for<'a> $view: From<&'a T>,
            {
                Self {
                    items: paged.items.iter().map(<$view>::from).collect(),
                    pagination: $crate::views::Pagination::of(paged),
                }
            }

            /// The answer for a list held whole.
            pub fn whole<T>(items: &[T]) -> Self
            where
                for<'a> $view: From<&'a T>,
            {
                Self {
                    items: items.iter().map(<$view>::from).collect(),
                    pagination: $crate::views::Pagination::whole(items.len()),
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
            /// The answer for one object.
            pub fn of<T>(item: &T) -> Self
            where
                for<'a> $view: From<&'a T>,
            {
                Self {
                    result: "success".into(),
                    object: <$view>::from(item),
                }
            }
        }
    };
}

list_answer!(DomainsList, "Domains", DomainView);
list_answer!(DomainAutocertsList, "DomainAutocerts", DomainAutocertView);
list_answer!(
    RenewalConfigurationsList,
    "RenewalConfigurations",
    RenewalConfigurationView
);
object_answer!(
    RenewalConfigurationAnswer,
    "RenewalConfiguration",
    RenewalConfigurationView
);
object_answer!(DomainAnswer, "Domain", DomainView);
list_answer!(
    CertificatesList,
    "CertificateSigneds",
    CertificateSignedItemView
);
object_answer!(
    CertificateAnswer,
    "CertificateSigned",
    CertificateSignedView
);
list_answer!(
    ChainOffersList,
    "CertificateCAChains",
    CertificateChainOfferView
);
list_answer!(AcmeServersList, "AcmeServers", AcmeServerView);
object_answer!(AcmeServerAnswer, "AcmeServer", AcmeServerView);
list_answer!(AcmeAccountsList, "AcmeAccounts", AcmeAccountView);
object_answer!(AcmeAccountAnswer, "AcmeAccount", AcmeAccountView);
list_answer!(AcmeOrdersList, "AcmeOrders", AcmeOrderView);
object_answer!(AcmeOrderAnswer, "AcmeOrder", AcmeOrderView);
list_answer!(
    AcmeAuthorizationsList,
    "AcmeAuthorizations",
    AcmeAuthorizationView
);
object_answer!(
    AcmeAuthorizationAnswer,
    "AcmeAuthorization",
    AcmeAuthorizationView
);
list_answer!(AcmeChallengesList, "AcmeChallenges", AcmeChallengeView);
object_answer!(AcmeChallengeAnswer, "AcmeChallenge", AcmeChallengeView);
list_answer!(
    AcmeChallengePollsList,
    "AcmeChallengePolls",
    AcmeChallengePollView
);
list_answer!(
    AcmeChallengeUnknownPollsList,
    "AcmeChallengeUnknownPolls",
    AcmeChallengeUnknownPollView
);
list_answer!(AcmeEventLogsList, "AcmeEventLogs", AcmeEventLogView);
object_answer!(AcmeEventLogAnswer, "AcmeEventLog", AcmeEventLogView);
list_answer!(
    OperationsEventsList,
    "OperationsEvents",
    OperationsEventView
);
list_answer!(AlertDeliveriesList, "AlertDeliveries", AlertDeliveryView);
list_answer!(CertificateCasList, "CertificateCAs", CertificateCaItemView);
object_answer!(CertificateCaAnswer, "CertificateCA", CertificateCaView);
list_answer!(
    CertificateCaChainsList,
    "CertificateCAChains",
    CertificateCaChainItemView
);
object_answer!(
    CertificateCaChainAnswer,
    "CertificateCAChain",
    CertificateCaChainView
);
list_answer!(PrivateKeysList, "PrivateKeys", PrivateKeyView);
object_answer!(PrivateKeyAnswer, "PrivateKey", PrivateKeyView);
list_answer!(
    CertificateRequestsList,
    "CertificateRequests",
    CertificateRequestItemView
);
object_answer!(
    CertificateRequestAnswer,
    "CertificateRequest",
    CertificateRequestView
);
list_answer!(UniqueFqdnSetsList, "UniqueFQDNSets", UniqueFqdnSetView);
object_answer!(UniqueFqdnSetAnswer, "UniqueFQDNSet", UniqueFqdnSetView);

/// How one publisher fared after a change.
#[derive(Debug, Clone, Object)]
pub struct PublishOutcomeView {
    /// `success` or `failed`.
    pub result: String,
    /// Why it failed.
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<String>,
}

impl From<&peter_core::app::PublishOutcome> for PublishOutcomeView {
    fn from(o: &peter_core::app::PublishOutcome) -> Self {
        match o {
            peter_core::app::PublishOutcome::Success => Self {
                result: "success".into(),
                error: None,
            },
            peter_core::app::PublishOutcome::Failed { error } => Self {
                result: "failed".into(),
                error: Some(error.clone()),
            },
        }
    }
}

/// What re-publishing after a change did: the domains written to Redis and
/// expired in nginx/OpenResty caches (`*`: all of them). A publisher that is
/// not configured is absent. A failure here never undoes the change.
#[derive(Debug, Clone, Object)]
pub struct PublicationView {
    /// The domains re-published.
    pub domains: Vec<String>,
    /// Redis priming.
    #[oai(skip_serializing_if_is_none)]
    pub redis: Option<PublishOutcomeView>,
    /// nginx/OpenResty cache expiry.
    #[oai(skip_serializing_if_is_none)]
    pub nginx: Option<PublishOutcomeView>,
}

impl From<&peter_core::app::Publication> for PublicationView {
    fn from(p: &peter_core::app::Publication) -> Self {
        Self {
            domains: p.domains.clone(),
            redis: p.redis.as_ref().map(Into::into),
            nginx: p.nginx.as_ref().map(Into::into),
        }
    }
}

/// An id and, unless ids only were asked for, its PEM.
#[derive(Debug, Clone, Object)]
pub struct PemRefView {
    /// The id, as a string.
    pub id: String,
    /// The PEM.
    #[oai(skip_serializing_if_is_none)]
    pub pem: Option<String>,
}

impl From<&peter_core::app::PemRef> for PemRefView {
    fn from(r: &peter_core::app::PemRef) -> Self {
        Self {
            id: r.id.clone(),
            pem: r.pem.clone(),
        }
    }
}

/// A certificate as a web server installs it.
#[derive(Debug, Clone, Object)]
pub struct CertificateConfigView {
    /// The certificate's id.
    pub id: String,
    /// Its private key.
    pub private_key: PemRefView,
    /// The certificate.
    pub certificate: PemRefView,
    /// The preferred chain (none for a certificate uploaded without one).
    #[oai(nullable)]
    pub chain: Option<PemRefView>,
    /// Certificate then chain; the id is `"<cert>,<chain>"`.
    pub fullchain: PemRefView,
}

impl From<&peter_core::app::CertificateConfig> for CertificateConfigView {
    fn from(c: &peter_core::app::CertificateConfig) -> Self {
        Self {
            id: c.id.clone(),
            private_key: (&c.private_key).into(),
            certificate: (&c.certificate).into(),
            chain: c.chain.as_ref().map(Into::into),
            fullchain: (&c.fullchain).into(),
        }
    }
}

/// The domain part of a config.json.
#[derive(Debug, Clone, Object)]
pub struct DomainConfigDomain {
    /// Its id, as a string.
    pub id: String,
    /// Its name.
    pub domain_name: String,
    /// Whether peter serves it (an inactive domain has no certificates here).
    pub is_active: bool,
}

/// A domain's config.json.
#[derive(Debug, Clone, Object)]
pub struct DomainConfigView {
    /// The domain.
    pub domain: DomainConfigDomain,
    /// The newest active certificate for this name alone.
    #[oai(nullable)]
    pub certificate_signed__latest_single: Option<CertificateConfigView>,
    /// The newest active certificate naming it among others.
    #[oai(nullable)]
    pub certificate_signed__latest_multi: Option<CertificateConfigView>,
}

impl From<&peter_core::app::DomainConfig> for DomainConfigView {
    fn from(c: &peter_core::app::DomainConfig) -> Self {
        Self {
            domain: DomainConfigDomain {
                id: c.domain.id.clone(),
                domain_name: c.domain.domain_name.clone(),
                is_active: c.domain.is_active,
            },
            certificate_signed__latest_single: c.latest_single.as_ref().map(Into::into),
            certificate_signed__latest_multi: c.latest_multi.as_ref().map(Into::into),
        }
    }
}

/// An order after an action.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct AcmeOrderActionAnswer {
    /// Always `success`.
    pub result: String,
    /// The action.
    pub operation: String,
    /// The step taken, when one was.
    #[oai(skip_serializing_if_is_none)]
    pub step: Option<Wire<peter_core::app::Step>>,
    /// The order.
    pub AcmeOrder: AcmeOrderView,
    /// What re-publishing did, when the action recorded a certificate.
    #[oai(skip_serializing_if_is_none)]
    pub publication: Option<PublicationView>,
}

impl AcmeOrderActionAnswer {
    /// The answer to `operation` on `order`.
    pub fn of(
        operation: &str,
        order: &AcmeOrder,
        step: Option<peter_core::app::Step>,
        publication: Option<&peter_core::app::Publication>,
    ) -> Self {
        Self {
            result: "success".into(),
            operation: operation.into(),
            step: step.map(Wire),
            AcmeOrder: order.into(),
            publication: publication.map(Into::into),
        }
    }
}
