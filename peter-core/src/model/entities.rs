//! The stored objects. Each is a plain value read from the store; changes go
//! through the rules in [`super::rules`] and the store's methods.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::*;
use super::status::*;

/// An ACME server (a CA's directory) peter may order from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeServer {
    /// Row id.
    pub id: AcmeServerId,
    /// Short unique name (`pebble`, `letsencrypt`).
    pub name: String,
    /// Directory URL, unique.
    pub directory_url: String,
    /// PEM bundle trusted for this server's TLS, instead of the system roots.
    pub ca_bundle_pem: Option<String>,
    /// Whether this is the default server (exactly one is).
    pub is_default: bool,
    /// Whether orders may be placed with it.
    pub is_enabled: bool,
    /// Whether orders may name IP addresses (RFC 8738); set by the
    /// operator, since no directory field tells.
    pub ip_identifiers: bool,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
    /// What its directory offered when last read (`None`: never read
    /// since it was recorded).
    pub directory: Option<ServerDirectory>,
}

/// What an ACME server's directory offered when peter last read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerDirectory {
    /// Terms of service URL.
    pub terms_of_service: Option<String>,
    /// Whether new accounts need an external account binding.
    pub external_account_required: bool,
    /// Profile names it offers, sorted.
    pub profiles: Vec<String>,
    /// Whether it offers renewal information (ARI).
    pub supports_ari: bool,
    /// When the directory was read.
    pub checked_at: OffsetDateTime,
}

/// What is needed to record an ACME server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAcmeServer {
    /// Short unique name.
    pub name: String,
    /// Directory URL.
    pub directory_url: String,
    /// Optional PEM bundle to trust for its TLS.
    pub ca_bundle_pem: Option<String>,
    /// Make it the default server.
    pub is_default: bool,
    /// Whether orders may name IP addresses (RFC 8738). No ACME field says
    /// whether a CA takes them, so the operator says so.
    pub ip_identifiers: bool,
}

/// An account on an ACME server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeAccount {
    /// Row id.
    pub id: AcmeAccountId,
    /// The server it belongs to.
    pub acme_server_id: AcmeServerId,
    /// Contact e-mail (without `mailto:`), if any.
    pub contact: Option<String>,
    /// The account URL (`kid`) once registered.
    pub account_url: Option<String>,
    /// Terms of service URL agreed to.
    pub terms_of_service: Option<String>,
    /// Usable for orders.
    pub is_active: bool,
    /// The global default account (at most one, on the default server).
    pub is_global_default: bool,
    /// Technology of the certificate keys it generates by default.
    pub private_key_technology: KeyTechnology,
    /// Cycle used for its certificate keys by default.
    pub private_key_cycle: PrivateKeyCycle,
    /// When it was deactivated upstream (permanent).
    pub deactivated_at: Option<OffsetDateTime>,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
    /// Its active key.
    pub key: AcmeAccountKey,
}

/// An account's signing key. An account has one active key at a time.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeAccountKey {
    /// Row id.
    pub id: AcmeAccountKeyId,
    /// The account.
    pub acme_account_id: AcmeAccountId,
    /// Whether this is the account's current key.
    pub is_active: bool,
    /// Its technology.
    pub key_technology: KeyTechnology,
    /// PKCS#8 PEM. Never log it; never serialized (downloads hand it out on purpose).
    #[serde(skip_serializing, default)]
    pub key_pem: String,
    /// SHA-256 of its SPKI.
    pub spki_sha256: String,
    /// Generated or imported.
    pub source: AcmeAccountKeySource,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for AcmeAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeAccountKey")
            .field("id", &self.id)
            .field("acme_account_id", &self.acme_account_id)
            .field("key_technology", &self.key_technology)
            .field("spki_sha256", &self.spki_sha256)
            .finish_non_exhaustive()
    }
}

/// What is needed to record an account.
#[derive(Debug, Clone)]
pub struct NewAcmeAccount {
    /// The server.
    pub acme_server_id: AcmeServerId,
    /// Contact e-mail.
    pub contact: Option<String>,
    /// Its key.
    pub key: crate::formats::ParsedPrivateKey,
    /// Where the key came from.
    pub key_source: AcmeAccountKeySource,
    /// Account URL, when already registered.
    pub account_url: Option<String>,
    /// Terms agreed to.
    pub terms_of_service: Option<String>,
    /// Default technology for certificate keys.
    pub private_key_technology: KeyTechnology,
    /// Default cycle for certificate keys.
    pub private_key_cycle: PrivateKeyCycle,
}

/// A private key for certificates.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateKey {
    /// Row id.
    pub id: PrivateKeyId,
    /// PKCS#8 PEM. Never log it; never serialized (downloads hand it out on purpose).
    #[serde(skip_serializing, default)]
    pub key_pem: String,
    /// SHA-256 of its SPKI: its identity.
    pub spki_sha256: String,
    /// Its technology.
    pub key_technology: KeyTechnology,
    /// Where it came from.
    pub source: PrivateKeySource,
    /// The cycle it was made for.
    pub cycle: PrivateKeyCycle,
    /// The account that owns it, for account-scoped cycles.
    pub acme_account_id_owner: Option<AcmeAccountId>,
    /// Usable.
    pub is_active: bool,
    /// Known to be compromised (permanent).
    pub is_compromised: bool,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("id", &self.id)
            .field("key_technology", &self.key_technology)
            .field("spki_sha256", &self.spki_sha256)
            .field("is_active", &self.is_active)
            .field("is_compromised", &self.is_compromised)
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Active and not compromised.
    pub fn is_usable(&self) -> bool {
        self.is_active && !self.is_compromised
    }
}

/// What is needed to record a private key.
#[derive(Debug, Clone)]
pub struct NewPrivateKey {
    /// The key.
    pub key: crate::formats::ParsedPrivateKey,
    /// Where it came from.
    pub source: PrivateKeySource,
    /// The cycle it serves.
    pub cycle: PrivateKeyCycle,
    /// Owning account, if any.
    pub acme_account_id_owner: Option<AcmeAccountId>,
}

/// A domain name peter manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// Row id.
    pub id: DomainId,
    /// Normalised name, unique: a DNS name or an IP address.
    pub domain_name: String,
    /// Whether the name is a DNS name or an IP address (RFC 8738).
    pub identifier_type: IdentifierType,
    /// Managed: included in renewals and configuration output.
    pub is_active: bool,
    /// Latest active certificate covering only this name.
    pub certificate_signed_id_latest_single: Option<CertificateSignedId>,
    /// Latest active certificate covering this and other names.
    pub certificate_signed_id_latest_multi: Option<CertificateSignedId>,
    /// How orders validate it: http-01 (the default) or dns-01. A wildcard
    /// is always validated by dns-01.
    pub challenge_type: AcmeChallengeType,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

/// A name peter must never order, answer challenges for, or serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainBlocklisted {
    /// Row id.
    pub id: DomainBlocklistedId,
    /// Normalised name.
    pub domain_name: String,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

/// How one set of names is renewed: the account (and so the CA), the key
/// policy and the profile, and optionally a backup CA that renewals fail
/// over to after `failover_after` consecutive failures at the primary. Each
/// name is validated by its domain's challenge type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalConfiguration {
    /// Row id.
    pub id: RenewalConfigurationId,
    /// The set of names renewed.
    pub unique_fqdn_set_id: UniqueFqdnSetId,
    /// Those names, sorted.
    pub domain_names: Vec<String>,
    /// The primary: the account that orders.
    pub acme_account_id: AcmeAccountId,
    /// Key technology (`None`: the account's default).
    pub private_key_technology: Option<KeyTechnology>,
    /// Key cycle.
    pub private_key_cycle: PrivateKeyCycle,
    /// ACME profile asked of the primary.
    pub profile: Option<String>,
    /// Challenge types for some names, over their domains' (`http-01` or
    /// `dns-01`; a wildcard is always `dns-01`).
    pub challenge_types: std::collections::BTreeMap<String, AcmeChallengeType>,
    /// The backup CA, if any.
    pub backup: Option<RenewalBackup>,
    /// Consecutive failures at the primary before renewals go to the backup.
    pub failover_after: u32,
    /// Renewed at all.
    pub is_active: bool,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

/// A renewal configuration's backup: an account at another CA, with its
/// own key technology and profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalBackup {
    /// The account that orders from the backup CA.
    pub acme_account_id: AcmeAccountId,
    /// Key technology (`None`: that account's default).
    pub private_key_technology: Option<KeyTechnology>,
    /// ACME profile asked of the backup CA.
    pub profile: Option<String>,
}

/// What is needed to record a renewal configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRenewalConfiguration {
    /// The set of names.
    pub unique_fqdn_set_id: UniqueFqdnSetId,
    /// The primary account.
    pub acme_account_id: AcmeAccountId,
    /// Key technology (`None`: the account's default).
    pub private_key_technology: Option<KeyTechnology>,
    /// Key cycle.
    pub private_key_cycle: PrivateKeyCycle,
    /// Profile.
    pub profile: Option<String>,
    /// Challenge types for some names, over their domains'.
    pub challenge_types: std::collections::BTreeMap<String, AcmeChallengeType>,
    /// The backup.
    pub backup: Option<RenewalBackup>,
    /// Failures at the primary before failing over (at least 1).
    pub failover_after: u32,
}

/// One attempt of autocert (a gateway asking for a certificate on a
/// miss) that went as far as ordering: the rows the rate limits count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainAutocert {
    /// Row id.
    pub id: DomainAutocertId,
    /// The name asked for.
    pub domain_name: String,
    /// When the attempt started.
    pub created_at: OffsetDateTime,
    /// When it ended (`None`: still running, or its process died).
    pub finished_at: Option<OffsetDateTime>,
    /// Whether a certificate came of it (`None` until it ends).
    pub is_successful: Option<bool>,
    /// The order it placed, if it got that far.
    pub acme_order_id: Option<AcmeOrderId>,
    /// Why it failed.
    pub problem: Option<String>,
}

/// Whether an autocert attempt may start, decided and recorded in one
/// transaction for every node sharing the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutocertStart {
    /// Recorded: go ahead.
    Started(DomainAutocert),
    /// The name had an attempt at this time, inside its interval.
    NameLimited {
        /// When that attempt started.
        last: OffsetDateTime,
    },
    /// The fleet made its hourly maximum of attempts; the oldest of them
    /// started at this time.
    GlobalLimited {
        /// When the oldest counted attempt started.
        oldest: OffsetDateTime,
    },
}

/// A stored set of names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UniqueFqdnSetRecord {
    /// Row id.
    pub id: UniqueFqdnSetId,
    /// The names.
    pub set: crate::dns::UniqueFqdnSet,
    /// The domains, in name order.
    pub domain_ids: Vec<DomainId>,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

/// A certificate signing request, uploaded or built for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRequest {
    /// Row id.
    pub id: CertificateRequestId,
    /// Normalised PEM.
    pub csr_pem: String,
    /// SHA-256 of the requested key's SPKI.
    pub spki_sha256: String,
    /// Where it came from.
    pub source: CertificateRequestSource,
    /// The key it requests, when stored.
    pub private_key_id: Option<PrivateKeyId>,
    /// The names it requests.
    pub unique_fqdn_set_id: UniqueFqdnSetId,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

/// An issued (end-entity) certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSigned {
    /// Row id.
    pub id: CertificateSignedId,
    /// Normalised PEM of the leaf alone.
    pub cert_pem: String,
    /// SHA-1 of the DER.
    pub fingerprint_sha1: String,
    /// SHA-256 of the SPKI.
    pub spki_sha256: String,
    /// Serial number, hex.
    pub serial: String,
    /// Subject DN.
    pub cert_subject: String,
    /// Issuer DN.
    pub cert_issuer: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Covers exactly one name.
    pub is_single_domain_cert: bool,
    /// Its key's technology.
    pub key_technology: KeyTechnology,
    /// Managed: included in configuration output.
    pub is_active: bool,
    /// Deactivated (set by revocation; blocks re-activation).
    pub is_deactivated: bool,
    /// Marked revoked locally (bookkeeping).
    pub is_revoked: bool,
    /// Its key was marked compromised.
    pub is_compromised_private_key: bool,
    /// When the CA confirmed revocation, if it did.
    pub revoked_upstream_at: Option<OffsetDateTime>,
    /// Start of the CA's suggested renewal window (ARI), when fetched.
    pub ari_window_start: Option<OffsetDateTime>,
    /// End of the suggested renewal window.
    pub ari_window_end: Option<OffsetDateTime>,
    /// When to ask the CA for the window again.
    pub ari_retry_after: Option<OffsetDateTime>,
    /// The CA's explanation of its window (a mass revocation, say), when given.
    pub ari_explanation_url: Option<String>,
    /// When the window was last fetched from the CA.
    pub ari_checked_at: Option<OffsetDateTime>,
    /// The key it was issued for.
    pub private_key_id: PrivateKeyId,
    /// The names it covers.
    pub unique_fqdn_set_id: UniqueFqdnSetId,
    /// The request it answered, if known.
    pub certificate_request_id: Option<CertificateRequestId>,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

impl CertificateSigned {
    /// Past its end of validity at `now`.
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        self.not_after < now
    }

    /// The lifecycle flags the mark rules work on.
    pub fn flags(&self) -> super::rules::CertificateFlags {
        super::rules::CertificateFlags {
            is_active: self.is_active,
            is_deactivated: self.is_deactivated,
            is_revoked: self.is_revoked,
            is_compromised_private_key: self.is_compromised_private_key,
        }
    }
}

/// A CA certificate (intermediate or root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateCa {
    /// Row id.
    pub id: CertificateCaId,
    /// Normalised PEM.
    pub cert_pem: String,
    /// SHA-1 of the DER.
    pub fingerprint_sha1: String,
    /// SHA-256 of the SPKI.
    pub spki_sha256: String,
    /// Subject DN.
    pub cert_subject: String,
    /// Issuer DN.
    pub cert_issuer: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Self-signed: a root.
    pub is_trusted_root: bool,
    /// Human name (the subject, by default).
    pub display_name: String,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

/// An ordered chain of CA certificates, leaf's issuer first, root excluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateCaChain {
    /// Row id.
    pub id: CertificateCaChainId,
    /// The certificates as one normalised PEM bundle.
    pub chain_pem: String,
    /// The CA ids, leaf's issuer first.
    pub certificate_ca_ids: Vec<CertificateCaId>,
    /// Human name ("ACME Server Response", "manual upload", ...).
    pub display_name: String,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

/// A chain a certificate was offered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateChainOffer {
    /// The chain.
    pub chain: CertificateCaChain,
    /// Whether the CA offered it first (its default).
    pub is_upstream_default: bool,
}

/// An ACME order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeOrder {
    /// Row id.
    pub id: AcmeOrderId,
    /// Ordering account.
    pub acme_account_id: AcmeAccountId,
    /// Names ordered.
    pub unique_fqdn_set_id: UniqueFqdnSetId,
    /// Order URL once created upstream.
    pub order_url: Option<String>,
    /// Finalize URL.
    pub finalize_url: Option<String>,
    /// Certificate URL once valid.
    pub certificate_url: Option<String>,
    /// Upstream status.
    pub status: AcmeOrderStatus,
    /// Local processing progress.
    pub processing_status: AcmeOrderProcessingStatus,
    /// Processing strategy.
    pub processing_strategy: AcmeOrderProcessingStrategy,
    /// Why it was placed.
    pub order_type: AcmeOrderType,
    /// `Some(true)` while processing, `None` when done, `Some(false)` when cancelled.
    pub is_processing: Option<bool>,
    /// Key cycle to use for its renewal.
    pub private_key_cycle_renewal: PrivateKeyCycle,
    /// Key strategy asked for.
    pub private_key_strategy_requested: PrivateKeyStrategy,
    /// Key asked for, if specified.
    pub private_key_id_requested: Option<PrivateKeyId>,
    /// Key used at finalize.
    pub private_key_id: Option<PrivateKeyId>,
    /// CSR sent at finalize.
    pub certificate_request_id: Option<CertificateRequestId>,
    /// Certificate obtained.
    pub certificate_signed_id: Option<CertificateSignedId>,
    /// Order this one retries.
    pub acme_order_id_retry_of: Option<AcmeOrderId>,
    /// Certificate this order renews.
    pub certificate_signed_id_renewal_of: Option<CertificateSignedId>,
    /// ACME profile requested.
    pub profile: Option<String>,
    /// ARI identifier of the certificate this order replaces, as sent.
    pub replaces: Option<String>,
    /// Challenge types chosen for some of its names, over their domains'
    /// (a renewal configuration's choices).
    pub challenge_types: std::collections::BTreeMap<String, AcmeChallengeType>,
    /// Problem document of a failure, as JSON text.
    pub problem: Option<String>,
    /// Upstream expiry.
    pub expires_at: Option<OffsetDateTime>,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// An ACME authorization (one name of an order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeAuthorization {
    /// Row id.
    pub id: AcmeAuthorizationId,
    /// Authorization URL.
    pub authorization_url: String,
    /// Upstream status.
    pub status: AcmeAuthorizationStatus,
    /// The name, once fetched.
    pub domain_id: Option<DomainId>,
    /// Upstream expiry.
    pub expires_at: Option<OffsetDateTime>,
    /// When it was deactivated.
    pub deactivated_at: Option<OffsetDateTime>,
    /// The order that first listed it.
    pub acme_order_id_created: AcmeOrderId,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// An ACME challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeChallenge {
    /// Row id.
    pub id: AcmeChallengeId,
    /// Its authorization.
    pub acme_authorization_id: AcmeAuthorizationId,
    /// The name.
    pub domain_id: DomainId,
    /// Challenge type.
    pub challenge_type: AcmeChallengeType,
    /// Upstream status.
    pub status: AcmeChallengeStatus,
    /// Challenge URL.
    pub challenge_url: String,
    /// Token.
    pub token: String,
    /// `token.thumbprint`: the HTTP-01 answer.
    pub key_authorization: Option<String>,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// A request for a known challenge token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeChallengePoll {
    /// Row id.
    pub id: AcmeChallengePollId,
    /// The challenge answered.
    pub acme_challenge_id: AcmeChallengeId,
    /// First seen.
    pub polled_at: OffsetDateTime,
    /// Last seen.
    pub last_polled_at: OffsetDateTime,
    /// Requests counted.
    pub poll_count: u64,
    /// From where (none when over the per-challenge limit of addresses).
    pub remote_ip_address: Option<String>,
}

/// A request for an unknown challenge token or host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeChallengeUnknownPoll {
    /// Row id.
    pub id: AcmeChallengeUnknownPollId,
    /// Host asked for.
    pub domain: String,
    /// Token asked for (at most 64 characters are kept).
    pub token: String,
    /// First seen.
    pub polled_at: OffsetDateTime,
    /// Last seen.
    pub last_polled_at: OffsetDateTime,
    /// Requests counted.
    pub poll_count: u64,
    /// From where, last time.
    pub remote_ip_address: Option<String>,
}

/// One ACME exchange. Holds no JWS, nonce or key material by construction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeEventLog {
    /// Row id.
    pub id: AcmeEventLogId,
    /// When.
    pub event_at: OffsetDateTime,
    /// What for.
    pub event: AcmeEvent,
    /// URL requested.
    pub endpoint: String,
    /// HTTP status answered (none when the request failed to complete).
    pub http_status: Option<i32>,
    /// Problem type, when the answer was a problem document.
    pub problem_type: Option<String>,
    /// Problem detail.
    pub problem_detail: Option<String>,
    /// Retry-After in seconds, when given.
    pub retry_after_seconds: Option<i64>,
    /// How long the exchange took.
    pub duration_ms: i64,
    /// Related account.
    pub acme_account_id: Option<AcmeAccountId>,
    /// Related order.
    pub acme_order_id: Option<AcmeOrderId>,
    /// Related authorization.
    pub acme_authorization_id: Option<AcmeAuthorizationId>,
    /// Related challenge.
    pub acme_challenge_id: Option<AcmeChallengeId>,
    /// Related certificate.
    pub certificate_signed_id: Option<CertificateSignedId>,
}

/// What is recorded of one ACME exchange.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewAcmeEventLog {
    /// What for.
    pub event: Option<AcmeEvent>,
    /// URL requested.
    pub endpoint: String,
    /// HTTP status.
    pub http_status: Option<i32>,
    /// Problem type.
    pub problem_type: Option<String>,
    /// Problem detail.
    pub problem_detail: Option<String>,
    /// Retry-After seconds.
    pub retry_after_seconds: Option<i64>,
    /// Duration.
    pub duration_ms: i64,
    /// Related account.
    pub acme_account_id: Option<AcmeAccountId>,
    /// Related order.
    pub acme_order_id: Option<AcmeOrderId>,
    /// Related authorization.
    pub acme_authorization_id: Option<AcmeAuthorizationId>,
    /// Related challenge.
    pub acme_challenge_id: Option<AcmeChallengeId>,
    /// Related certificate.
    pub certificate_signed_id: Option<CertificateSignedId>,
}

/// Something peter did, for the operator's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationsEvent {
    /// Row id.
    pub id: OperationsEventId,
    /// What happened.
    pub event_type: OperationsEventType,
    /// When.
    pub event_at: OffsetDateTime,
    /// Details (JSON). Never key material.
    pub payload: serde_json::Value,
    /// Parent event.
    pub parent_id: Option<OperationsEventId>,
}

crate::model::closed_set!(
    /// What kind of identifier a certificate name is (RFC 8555 §9.7.7,
    /// RFC 8738).
    IdentifierType, "identifier type" {
        /// A DNS name (possibly a wildcard).
        Dns => "dns",
        /// An IPv4 or IPv6 address.
        Ip => "ip",
    }
);

crate::model::closed_set!(
    /// What an alert is about.
    AlertCondition, "alert condition" {
        /// A renewal failed (the CA's problem is included).
        RenewalFailed => "renewal_failed",
        /// A certificate has less than a third of its lifetime (at most 14
        /// days) left and no successful renewal.
        ExpiringUnrenewed => "expiring_unrenewed",
        /// The CA moved a renewal window into the past.
        AriWindowMoved => "ari_window_moved",
        /// The CA says an account is deactivated.
        AccountDeactivated => "account_deactivated",
        /// Renewals of a set of names moved to its backup CA.
        RenewalFailover => "renewal_failover",
    }
);

crate::model::closed_set!(
    /// Where an alert delivery stands.
    AlertStatus, "alert status" {
        /// Not tried yet.
        Pending => "pending",
        /// Accepted by its target.
        Delivered => "delivered",
        /// Every try of a run failed; the next run tries again.
        Failed => "failed",
    }
);

/// One alert sent (or to be sent) to one target (a webhook, a command).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertDelivery {
    /// Row id.
    pub id: AlertDeliveryId,
    /// What it is about.
    pub condition: AlertCondition,
    /// What it concerns, for de-duplication (`certificate:12`, `account:3`).
    pub subject: String,
    /// The certificate it concerns.
    pub certificate_signed_id: Option<CertificateSignedId>,
    /// The account it concerns.
    pub acme_account_id: Option<AcmeAccountId>,
    /// The target's name (`webhook`, `exec`).
    pub target: String,
    /// The JSON document delivered. Never key material.
    pub payload: String,
    /// Where it stands.
    pub status: AlertStatus,
    /// Tries so far.
    pub attempts: i32,
    /// The last try's error.
    pub last_error: Option<String>,
    /// When it was raised.
    pub created_at: OffsetDateTime,
    /// When its target accepted it.
    pub delivered_at: Option<OffsetDateTime>,
}

/// An alert to record for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlertDelivery {
    /// What it is about.
    pub condition: AlertCondition,
    /// What it concerns, for de-duplication.
    pub subject: String,
    /// The certificate it concerns.
    pub certificate_signed_id: Option<CertificateSignedId>,
    /// The account it concerns.
    pub acme_account_id: Option<AcmeAccountId>,
    /// The target's name.
    pub target: String,
    /// The JSON document to deliver.
    pub payload: String,
}
