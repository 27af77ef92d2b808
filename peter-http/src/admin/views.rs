//! The JSON shapes of peter's objects, as the admin API shows them. Private
//! key material is never part of a view: it is served only by the download
//! routes and `config.json`.
//!
//! Field names follow the original's JSON; each mirrors the documented field
//! of the same name in `peter_core::model`.
#![allow(missing_docs, non_snake_case)]

use peter_core::model::*;
use poem_openapi::Object;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(crate) fn ts(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn ots(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(ts)
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
    pub created_at: String,
}

impl From<&AcmeServer> for AcmeServerView {
    fn from(s: &AcmeServer) -> Self {
        Self {
            id: s.id.0,
            name: s.name.clone(),
            directory_url: s.directory_url.clone(),
            has_ca_bundle: s.ca_bundle_pem.is_some(),
            is_default: s.is_default,
            is_enabled: s.is_enabled,
            created_at: ts(s.created_at),
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
    pub private_key_technology: String,
    pub private_key_cycle: String,
    #[oai(nullable)]
    pub deactivated_at: Option<String>,
    pub created_at: String,
    pub acme_account_key_id: i64,
    pub acme_account_key_technology: String,
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
            private_key_technology: a.private_key_technology.as_str().into(),
            private_key_cycle: a.private_key_cycle.as_str().into(),
            deactivated_at: ots(a.deactivated_at),
            created_at: ts(a.created_at),
            acme_account_key_id: a.key.id.0,
            acme_account_key_technology: a.key.key_technology.as_str().into(),
            acme_account_key_spki_sha256: a.key.spki_sha256.clone(),
        }
    }
}

/// A private key (its PEM is a download).
#[derive(Debug, Clone, Object)]
pub struct PrivateKeyView {
    pub id: i64,
    pub key_technology: String,
    pub spki_sha256: String,
    pub source: String,
    pub cycle: String,
    #[oai(nullable)]
    pub acme_account_id_owner: Option<i64>,
    pub is_active: bool,
    pub is_compromised: bool,
    pub created_at: String,
}

impl From<&PrivateKey> for PrivateKeyView {
    fn from(k: &PrivateKey) -> Self {
        Self {
            id: k.id.0,
            key_technology: k.key_technology.as_str().into(),
            spki_sha256: k.spki_sha256.clone(),
            source: k.source.as_str().into(),
            cycle: k.cycle.as_str().into(),
            acme_account_id_owner: k.acme_account_id_owner.map(|a| a.0),
            is_active: k.is_active,
            is_compromised: k.is_compromised,
            created_at: ts(k.created_at),
        }
    }
}

/// A domain.
#[derive(Debug, Clone, Object)]
pub struct DomainView {
    pub id: i64,
    pub domain_name: String,
    pub is_active: bool,
    #[oai(nullable)]
    pub certificate_signed_id__latest_single: Option<i64>,
    #[oai(nullable)]
    pub certificate_signed_id__latest_multi: Option<i64>,
    pub created_at: String,
}

impl From<&Domain> for DomainView {
    fn from(d: &Domain) -> Self {
        Self {
            id: d.id.0,
            domain_name: d.domain_name.clone(),
            is_active: d.is_active,
            certificate_signed_id__latest_single: d
                .certificate_signed_id_latest_single
                .map(|c| c.0),
            certificate_signed_id__latest_multi: d.certificate_signed_id_latest_multi.map(|c| c.0),
            created_at: ts(d.created_at),
        }
    }
}

/// A set of names a certificate or order covers.
#[derive(Debug, Clone, Object)]
pub struct UniqueFqdnSetView {
    pub id: i64,
    pub domain_names: Vec<String>,
    pub domain_ids: Vec<i64>,
    pub created_at: String,
}

impl From<&UniqueFqdnSetRecord> for UniqueFqdnSetView {
    fn from(s: &UniqueFqdnSetRecord) -> Self {
        Self {
            id: s.id.0,
            domain_names: s.set.names().map(|n| n.as_str().to_string()).collect(),
            domain_ids: s.domain_ids.iter().map(|d| d.0).collect(),
            created_at: ts(s.created_at),
        }
    }
}

/// A certificate signing request.
#[derive(Debug, Clone, Object)]
pub struct CertificateRequestView {
    pub id: i64,
    pub csr_pem: String,
    pub spki_sha256: String,
    pub source: String,
    #[oai(nullable)]
    pub private_key_id: Option<i64>,
    pub unique_fqdn_set_id: i64,
    pub created_at: String,
}

impl From<&CertificateRequest> for CertificateRequestView {
    fn from(c: &CertificateRequest) -> Self {
        Self {
            id: c.id.0,
            csr_pem: c.csr_pem.clone(),
            spki_sha256: c.spki_sha256.clone(),
            source: c.source.as_str().into(),
            private_key_id: c.private_key_id.map(|k| k.0),
            unique_fqdn_set_id: c.unique_fqdn_set_id.0,
            created_at: ts(c.created_at),
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
    pub timestamp_not_before: String,
    pub timestamp_not_after: String,
    pub is_single_domain_cert: bool,
    pub key_technology: String,
    pub is_active: bool,
    pub is_deactivated: bool,
    pub is_revoked: bool,
    pub is_compromised_private_key: bool,
    #[oai(nullable)]
    pub timestamp_revoked_upstream: Option<String>,
    #[oai(nullable)]
    pub ari_window_start: Option<String>,
    #[oai(nullable)]
    pub ari_window_end: Option<String>,
    pub private_key_id: i64,
    pub unique_fqdn_set_id: i64,
    #[oai(nullable)]
    pub certificate_request_id: Option<i64>,
    pub created_at: String,
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
            timestamp_not_before: ts(c.not_before),
            timestamp_not_after: ts(c.not_after),
            is_single_domain_cert: c.is_single_domain_cert,
            key_technology: c.key_technology.as_str().into(),
            is_active: c.is_active,
            is_deactivated: c.is_deactivated,
            is_revoked: c.is_revoked,
            is_compromised_private_key: c.is_compromised_private_key,
            timestamp_revoked_upstream: ots(c.revoked_upstream_at),
            ari_window_start: ots(c.ari_window_start),
            ari_window_end: ots(c.ari_window_end),
            private_key_id: c.private_key_id.0,
            unique_fqdn_set_id: c.unique_fqdn_set_id.0,
            certificate_request_id: c.certificate_request_id.map(|r| r.0),
            created_at: ts(c.created_at),
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
    pub timestamp_not_before: String,
    pub timestamp_not_after: String,
    pub is_trusted_root: bool,
    pub created_at: String,
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
            timestamp_not_before: ts(c.not_before),
            timestamp_not_after: ts(c.not_after),
            is_trusted_root: c.is_trusted_root,
            created_at: ts(c.created_at),
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
    pub created_at: String,
}

impl From<&CertificateCaChain> for CertificateCaChainView {
    fn from(c: &CertificateCaChain) -> Self {
        Self {
            id: c.id.0,
            display_name: c.display_name.clone(),
            chain_pem: c.chain_pem.clone(),
            certificate_ca_ids: c.certificate_ca_ids.iter().map(|i| i.0).collect(),
            created_at: ts(c.created_at),
        }
    }
}

/// A chain a certificate was offered with.
#[derive(Debug, Clone, Object)]
pub struct CertificateChainOfferView {
    pub is_upstream_default: bool,
    pub CertificateCAChain: CertificateCaChainView,
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
    pub status: String,
    pub processing_status: String,
    pub processing_strategy: String,
    pub order_type: String,
    #[oai(nullable)]
    pub is_processing: Option<bool>,
    pub private_key_cycle_renewal: String,
    pub private_key_strategy_requested: String,
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
    pub expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
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
            status: o.status.as_str().into(),
            processing_status: o.processing_status.as_str().into(),
            processing_strategy: o.processing_strategy.as_str().into(),
            order_type: o.order_type.as_str().into(),
            is_processing: o.is_processing,
            private_key_cycle_renewal: o.private_key_cycle_renewal.as_str().into(),
            private_key_strategy_requested: o.private_key_strategy_requested.as_str().into(),
            private_key_id_requested: o.private_key_id_requested.map(|k| k.0),
            private_key_id: o.private_key_id.map(|k| k.0),
            certificate_request_id: o.certificate_request_id.map(|c| c.0),
            certificate_signed_id: o.certificate_signed_id.map(|c| c.0),
            acme_order_id_retry_of: o.acme_order_id_retry_of.map(|c| c.0),
            certificate_signed_id_renewal_of: o.certificate_signed_id_renewal_of.map(|c| c.0),
            profile: o.profile.clone(),
            replaces: o.replaces.clone(),
            problem: o.problem.clone(),
            expires_at: ots(o.expires_at),
            created_at: ts(o.created_at),
            updated_at: ts(o.updated_at),
        }
    }
}

/// An ACME authorization.
#[derive(Debug, Clone, Object)]
pub struct AcmeAuthorizationView {
    pub id: i64,
    pub authorization_url: String,
    pub status: String,
    #[oai(nullable)]
    pub domain_id: Option<i64>,
    #[oai(nullable)]
    pub expires_at: Option<String>,
    #[oai(nullable)]
    pub deactivated_at: Option<String>,
    pub acme_order_id_created: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&AcmeAuthorization> for AcmeAuthorizationView {
    fn from(a: &AcmeAuthorization) -> Self {
        Self {
            id: a.id.0,
            authorization_url: a.authorization_url.clone(),
            status: a.status.as_str().into(),
            domain_id: a.domain_id.map(|d| d.0),
            expires_at: ots(a.expires_at),
            deactivated_at: ots(a.deactivated_at),
            acme_order_id_created: a.acme_order_id_created.0,
            created_at: ts(a.created_at),
            updated_at: ts(a.updated_at),
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
    pub challenge_type: String,
    pub status: String,
    pub challenge_url: String,
    pub token: String,
    #[oai(nullable)]
    pub keyauthorization: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&AcmeChallenge> for AcmeChallengeView {
    fn from(c: &AcmeChallenge) -> Self {
        Self {
            id: c.id.0,
            acme_authorization_id: c.acme_authorization_id.0,
            domain_id: c.domain_id.0,
            challenge_type: c.challenge_type.as_str().into(),
            status: c.status.as_str().into(),
            challenge_url: c.challenge_url.clone(),
            token: c.token.clone(),
            keyauthorization: c.key_authorization.clone(),
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
        }
    }
}

/// An answered challenge fetch.
#[derive(Debug, Clone, Object)]
pub struct AcmeChallengePollView {
    pub id: i64,
    pub acme_challenge_id: i64,
    pub timestamp_polled: String,
    #[oai(nullable)]
    pub remote_ip_address: Option<String>,
}

impl From<&AcmeChallengePoll> for AcmeChallengePollView {
    fn from(p: &AcmeChallengePoll) -> Self {
        Self {
            id: p.id.0,
            acme_challenge_id: p.acme_challenge_id.0,
            timestamp_polled: ts(p.polled_at),
            remote_ip_address: p.remote_ip_address.clone(),
        }
    }
}

/// A challenge fetch peter had no answer for.
#[derive(Debug, Clone, Object)]
pub struct AcmeChallengeUnknownPollView {
    pub id: i64,
    pub domain: String,
    pub challenge: String,
    pub timestamp_polled: String,
    #[oai(nullable)]
    pub remote_ip_address: Option<String>,
}

impl From<&AcmeChallengeUnknownPoll> for AcmeChallengeUnknownPollView {
    fn from(p: &AcmeChallengeUnknownPoll) -> Self {
        Self {
            id: p.id.0,
            domain: p.domain.clone(),
            challenge: p.token.clone(),
            timestamp_polled: ts(p.polled_at),
            remote_ip_address: p.remote_ip_address.clone(),
        }
    }
}

/// One ACME exchange.
#[derive(Debug, Clone, Object)]
pub struct AcmeEventLogView {
    pub id: i64,
    pub timestamp_event: String,
    pub acme_event: String,
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
            timestamp_event: ts(e.event_at),
            acme_event: e.event.as_str().into(),
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
    pub event_type: String,
    pub timestamp_event: String,
    pub payload: serde_json::Value,
    #[oai(nullable)]
    pub parent_id: Option<i64>,
}

impl From<&OperationsEvent> for OperationsEventView {
    fn from(e: &OperationsEvent) -> Self {
        Self {
            id: e.id.0,
            event_type: e.event_type.as_str().into(),
            timestamp_event: ts(e.event_at),
            payload: e.payload.clone(),
            parent_id: e.parent_id.map(|x| x.0),
        }
    }
}
