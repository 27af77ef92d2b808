//! Row → domain value conversions. A stored value that does not parse back
//! (an unknown status name, bad JSON) is reported as corrupt data.

use std::str::FromStr;

use peter_core::dns::{IdentifierType, UniqueFqdnSet};
use peter_core::model::*;
use peter_core::ports::StoreError;

use crate::entities::*;

pub(crate) fn parse_enum<T: FromStr>(value: &str, what: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown {what} `{value}`")))
}

pub(crate) fn server(m: acme_server::Model) -> AcmeServer {
    AcmeServer {
        id: AcmeServerId(m.id),
        name: m.name,
        directory_url: m.directory_url,
        ca_bundle_pem: m.ca_bundle_pem,
        is_default: m.is_default,
        is_enabled: m.is_enabled,
        ip_identifiers: m.ip_identifiers,
        created_at: m.created_at,
        directory: m.directory_checked_at.map(|checked_at| ServerDirectory {
            terms_of_service: m.terms_of_service,
            external_account_required: m.external_account_required,
            profiles: m
                .profiles
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
            supports_ari: m.supports_ari,
            checked_at,
        }),
    }
}

pub(crate) fn account_key(m: acme_account_key::Model) -> Result<AcmeAccountKey, StoreError> {
    Ok(AcmeAccountKey {
        id: AcmeAccountKeyId(m.id),
        acme_account_id: AcmeAccountId(m.acme_account_id),
        is_active: m.is_active,
        key_technology: parse_enum(&m.key_technology, "key technology")?,
        key_pem: m.key_pem,
        spki_sha256: m.spki_sha256,
        source: parse_enum(&m.source, "key source")?,
        created_at: m.created_at,
    })
}

pub(crate) fn account(
    m: acme_account::Model,
    key: acme_account_key::Model,
) -> Result<AcmeAccount, StoreError> {
    Ok(AcmeAccount {
        id: AcmeAccountId(m.id),
        acme_server_id: AcmeServerId(m.acme_server_id),
        contact: m.contact,
        account_url: m.account_url,
        terms_of_service: m.terms_of_service,
        is_active: m.is_active,
        is_global_default: m.is_global_default,
        private_key_technology: parse_enum(&m.private_key_technology, "key technology")?,
        private_key_cycle: parse_enum(&m.private_key_cycle, "key cycle")?,
        deactivated_at: m.deactivated_at,
        created_at: m.created_at,
        key: account_key(key)?,
    })
}

pub(crate) fn private_key(m: private_key::Model) -> Result<PrivateKey, StoreError> {
    Ok(PrivateKey {
        id: PrivateKeyId(m.id),
        key_pem: m.key_pem,
        spki_sha256: m.spki_sha256,
        key_technology: parse_enum(&m.key_technology, "key technology")?,
        source: parse_enum(&m.source, "key source")?,
        cycle: parse_enum(&m.cycle, "key cycle")?,
        acme_account_id_owner: m.acme_account_id_owner.map(AcmeAccountId),
        is_active: m.is_active,
        is_compromised: m.is_compromised,
        created_at: m.created_at,
    })
}

pub(crate) fn domain(m: domain::Model) -> Domain {
    Domain {
        id: DomainId(m.id),
        identifier_type: identifier_type(&m.identifier_type),
        domain_name: m.domain_name,
        is_active: m.is_active,
        certificate_signed_id_latest_single: m
            .certificate_signed_id_latest_single
            .map(CertificateSignedId),
        certificate_signed_id_latest_multi: m
            .certificate_signed_id_latest_multi
            .map(CertificateSignedId),
        challenge_type: m
            .challenge_type
            .parse()
            .unwrap_or(AcmeChallengeType::Http01),
        created_at: m.created_at,
    }
}

pub(crate) fn blocklisted(m: domain_blocklisted::Model) -> DomainBlocklisted {
    DomainBlocklisted {
        id: DomainBlocklistedId(m.id),
        domain_name: m.domain_name,
        created_at: m.created_at,
    }
}

pub(crate) fn fqdn_set(
    m: unique_fqdn_set::Model,
    domain_ids: Vec<DomainId>,
) -> Result<UniqueFqdnSetRecord, StoreError> {
    let set = UniqueFqdnSet::parse(m.domain_names.split(','))
        .map_err(|e| StoreError::Corrupt(format!("unique_fqdn_set {}: {e}", m.id)))?;
    Ok(UniqueFqdnSetRecord {
        id: UniqueFqdnSetId(m.id),
        set,
        domain_ids,
        created_at: m.created_at,
    })
}

pub(crate) fn certificate(m: certificate_signed::Model) -> Result<CertificateSigned, StoreError> {
    Ok(CertificateSigned {
        id: CertificateSignedId(m.id),
        cert_pem: m.cert_pem,
        fingerprint_sha1: m.fingerprint_sha1,
        spki_sha256: m.spki_sha256,
        serial: m.serial,
        cert_subject: m.cert_subject,
        cert_issuer: m.cert_issuer,
        not_before: m.not_before,
        not_after: m.not_after,
        is_single_domain_cert: m.is_single_domain_cert,
        key_technology: parse_enum(&m.key_technology, "key technology")?,
        is_active: m.is_active,
        is_deactivated: m.is_deactivated,
        is_revoked: m.is_revoked,
        is_compromised_private_key: m.is_compromised_private_key,
        revoked_upstream_at: m.revoked_upstream_at,
        ari_window_start: m.ari_window_start,
        ari_window_end: m.ari_window_end,
        ari_retry_after: m.ari_retry_after,
        ari_explanation_url: m.ari_explanation_url,
        ari_checked_at: m.ari_checked_at,
        private_key_id: PrivateKeyId(m.private_key_id),
        unique_fqdn_set_id: UniqueFqdnSetId(m.unique_fqdn_set_id),
        certificate_request_id: m.certificate_request_id.map(CertificateRequestId),
        created_at: m.created_at,
    })
}

pub(crate) fn certificate_ca(m: certificate_ca::Model) -> CertificateCa {
    CertificateCa {
        id: CertificateCaId(m.id),
        cert_pem: m.cert_pem,
        fingerprint_sha1: m.fingerprint_sha1,
        spki_sha256: m.spki_sha256,
        cert_subject: m.cert_subject,
        cert_issuer: m.cert_issuer,
        not_before: m.not_before,
        not_after: m.not_after,
        is_trusted_root: m.is_trusted_root,
        display_name: m.display_name,
        created_at: m.created_at,
    }
}

/// A chain's stored CA id list (`"3,1"`).
pub(crate) fn ca_ids(chain_id: i64, ids: &str) -> Result<Vec<CertificateCaId>, StoreError> {
    ids.split(',')
        .map(|s| {
            s.parse::<i64>()
                .map(CertificateCaId)
                .map_err(|_| StoreError::Corrupt(format!("chain {chain_id} ids `{ids}`")))
        })
        .collect()
}

pub(crate) fn chain(m: certificate_ca_chain::Model) -> Result<CertificateCaChain, StoreError> {
    let ids = ca_ids(m.id, &m.certificate_ca_ids)?;
    Ok(CertificateCaChain {
        id: CertificateCaChainId(m.id),
        chain_pem: m.chain_pem,
        certificate_ca_ids: ids,
        display_name: m.display_name,
        created_at: m.created_at,
    })
}

pub(crate) fn acme_event(m: acme_event_log::Model) -> Result<AcmeEventLog, StoreError> {
    Ok(AcmeEventLog {
        id: AcmeEventLogId(m.id),
        event_at: m.event_at,
        event: parse_enum(&m.event, "ACME event")?,
        endpoint: m.endpoint,
        http_status: m.http_status,
        problem_type: m.problem_type,
        problem_detail: m.problem_detail,
        retry_after_seconds: m.retry_after_seconds,
        duration_ms: m.duration_ms,
        acme_account_id: m.acme_account_id.map(AcmeAccountId),
        acme_order_id: m.acme_order_id.map(AcmeOrderId),
        acme_authorization_id: m.acme_authorization_id.map(AcmeAuthorizationId),
        acme_challenge_id: m.acme_challenge_id.map(AcmeChallengeId),
        certificate_signed_id: m.certificate_signed_id.map(CertificateSignedId),
    })
}

pub(crate) fn operations_event(m: operations_event::Model) -> Result<OperationsEvent, StoreError> {
    Ok(OperationsEvent {
        id: OperationsEventId(m.id),
        event_type: parse_enum(&m.event_type, "operations event type")?,
        event_at: m.event_at,
        payload: serde_json::from_str(&m.payload)
            .map_err(|e| StoreError::Corrupt(format!("operations_event {}: {e}", m.id)))?,
        parent_id: m.parent_id.map(OperationsEventId),
    })
}

pub(crate) fn alert(m: alert_delivery::Model) -> Result<AlertDelivery, StoreError> {
    Ok(AlertDelivery {
        id: AlertDeliveryId(m.id),
        condition: parse_enum(&m.condition, "alert condition")?,
        subject: m.subject,
        certificate_signed_id: m.certificate_signed_id.map(CertificateSignedId),
        acme_account_id: m.acme_account_id.map(AcmeAccountId),
        target: m.target,
        payload: m.payload,
        status: parse_enum(&m.status, "alert status")?,
        attempts: m.attempts,
        last_error: m.last_error,
        created_at: m.created_at,
        delivered_at: m.delivered_at,
    })
}

pub(crate) fn order(m: acme_order::Model) -> Result<AcmeOrder, StoreError> {
    Ok(AcmeOrder {
        id: AcmeOrderId(m.id),
        acme_account_id: AcmeAccountId(m.acme_account_id),
        unique_fqdn_set_id: UniqueFqdnSetId(m.unique_fqdn_set_id),
        order_url: m.order_url,
        finalize_url: m.finalize_url,
        certificate_url: m.certificate_url,
        status: parse_enum(&m.status, "order status")?,
        processing_status: parse_enum(&m.processing_status, "order processing status")?,
        processing_strategy: parse_enum(&m.processing_strategy, "processing strategy")?,
        order_type: parse_enum(&m.order_type, "order type")?,
        is_processing: m.is_processing,
        private_key_cycle_renewal: parse_enum(&m.private_key_cycle_renewal, "key cycle")?,
        private_key_strategy_requested: parse_enum(
            &m.private_key_strategy_requested,
            "key strategy",
        )?,
        private_key_id_requested: m.private_key_id_requested.map(PrivateKeyId),
        private_key_id: m.private_key_id.map(PrivateKeyId),
        certificate_request_id: m.certificate_request_id.map(CertificateRequestId),
        certificate_signed_id: m.certificate_signed_id.map(CertificateSignedId),
        acme_order_id_retry_of: m.acme_order_id_retry_of.map(AcmeOrderId),
        certificate_signed_id_renewal_of: m
            .certificate_signed_id_renewal_of
            .map(CertificateSignedId),
        profile: m.profile,
        replaces: m.replaces,
        challenge_types: challenge_types_of(m.challenge_types.as_deref())?,
        problem: m.problem,
        expires_at: m.expires_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn authorization(m: acme_authorization::Model) -> Result<AcmeAuthorization, StoreError> {
    Ok(AcmeAuthorization {
        id: AcmeAuthorizationId(m.id),
        authorization_url: m.authorization_url,
        status: parse_enum(&m.status, "authorization status")?,
        domain_id: m.domain_id.map(DomainId),
        expires_at: m.expires_at,
        deactivated_at: m.deactivated_at,
        acme_order_id_created: AcmeOrderId(m.acme_order_id_created),
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn challenge(m: acme_challenge::Model) -> Result<AcmeChallenge, StoreError> {
    Ok(AcmeChallenge {
        id: AcmeChallengeId(m.id),
        acme_authorization_id: AcmeAuthorizationId(m.acme_authorization_id),
        domain_id: DomainId(m.domain_id),
        challenge_type: parse_enum(&m.challenge_type, "challenge type")?,
        status: parse_enum(&m.status, "challenge status")?,
        challenge_url: m.challenge_url,
        token: m.token,
        key_authorization: m.key_authorization,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub(crate) fn poll(m: acme_challenge_poll::Model) -> AcmeChallengePoll {
    AcmeChallengePoll {
        id: AcmeChallengePollId(m.id),
        acme_challenge_id: AcmeChallengeId(m.acme_challenge_id),
        polled_at: m.polled_at,
        last_polled_at: m.last_polled_at.unwrap_or(m.polled_at),
        poll_count: u64::try_from(m.poll_count).unwrap_or(0),
        remote_ip_address: m.remote_ip_address,
    }
}

pub(crate) fn unknown_poll(m: acme_challenge_unknown_poll::Model) -> AcmeChallengeUnknownPoll {
    AcmeChallengeUnknownPoll {
        id: AcmeChallengeUnknownPollId(m.id),
        domain: m.domain,
        token: m.token,
        polled_at: m.polled_at,
        last_polled_at: m.last_polled_at.unwrap_or(m.polled_at),
        poll_count: u64::try_from(m.poll_count).unwrap_or(0),
        remote_ip_address: m.remote_ip_address,
    }
}

pub(crate) fn certificate_request(
    m: certificate_request::Model,
) -> Result<CertificateRequest, StoreError> {
    Ok(CertificateRequest {
        id: CertificateRequestId(m.id),
        csr_pem: m.csr_pem,
        spki_sha256: m.spki_sha256,
        source: parse_enum(&m.source, "certificate request source")?,
        private_key_id: m.private_key_id.map(PrivateKeyId),
        unique_fqdn_set_id: UniqueFqdnSetId(m.unique_fqdn_set_id),
        created_at: m.created_at,
    })
}

/// A domain row's identifier type (`dns` unless recorded as `ip`).
pub(crate) fn identifier_type(stored: &str) -> IdentifierType {
    if stored == IdentifierType::Ip.as_str() {
        IdentifierType::Ip
    } else {
        IdentifierType::Dns
    }
}

pub(crate) fn autocert(m: domain_autocert::Model) -> DomainAutocert {
    DomainAutocert {
        id: DomainAutocertId(m.id),
        domain_name: m.domain_name,
        created_at: m.created_at,
        finished_at: m.finished_at,
        is_successful: m.is_successful,
        acme_order_id: m.acme_order_id.map(AcmeOrderId),
        problem: m.problem,
    }
}

/// Per-name challenge types as stored (JSON; `None` when there are none).
pub(crate) fn challenge_types_text(
    types: &std::collections::BTreeMap<String, AcmeChallengeType>,
) -> Option<String> {
    if types.is_empty() {
        return None;
    }
    let map: std::collections::BTreeMap<&str, &str> = types
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::to_string(&map).ok()
}

/// Per-name challenge types read back.
pub(crate) fn challenge_types_of(
    text: Option<&str>,
) -> Result<std::collections::BTreeMap<String, AcmeChallengeType>, StoreError> {
    let Some(text) = text else {
        return Ok(Default::default());
    };
    let map: std::collections::BTreeMap<String, String> = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("challenge types `{text}`: {e}")))?;
    map.into_iter()
        .map(|(k, v)| Ok((k, parse_enum(&v, "challenge type")?)))
        .collect()
}
