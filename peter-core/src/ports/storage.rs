//! The storage port: everything peter records goes through [`Store`].
//!
//! Every method that changes more than one row is atomic: it either happens
//! entirely or not at all. Methods that record content (keys, certificates,
//! chains, names) de-duplicate it and report whether a row was created.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::dns::{DomainName, UniqueFqdnSet};
use crate::error::ErrorKind;
use crate::formats::{LinkedChain, ParsedCertificate, ParsedPrivateKey};
use crate::model::rules::{CertificateMark, TransitionError};
use crate::model::*;
use crate::ports::acme::{ServerAuthorization, ServerOrder};

/// Why the store failed or refused.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("{entity} {id} was not found")]
    NotFound {
        /// What kind of object.
        entity: &'static str,
        /// The id or name looked up.
        id: String,
    },
    /// A uniqueness rule was violated (a name or URL already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The requested change breaks a state rule.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The database cannot be reached.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error("store failure: {0}")]
    Backend(String),
    /// Stored data violates an invariant.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A fault injected by a test.
    #[error("injected fault at {0}")]
    InjectedFault(&'static str),
}

impl StoreError {
    /// The class of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::NotFound { .. } => ErrorKind::NotFound,
            StoreError::Conflict(_) | StoreError::Transition(_) => ErrorKind::Conflict,
            StoreError::Unavailable(_) => ErrorKind::Unavailable,
            StoreError::Backend(_) | StoreError::Corrupt(_) | StoreError::InjectedFault(_) => {
                ErrorKind::Internal
            }
        }
    }

    /// Shorthand for a not-found error.
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound {
            entity,
            id: id.to_string(),
        }
    }
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// An id and whether the call created the row (false: it already existed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Created<T> {
    /// The row's id.
    pub id: T,
    /// Whether this call created it.
    pub created: bool,
}

/// Which page of a list to read (pages count from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Page number, from 1.
    pub page: u64,
    /// Items per page, at least 1.
    pub per_page: u64,
}

impl Page {
    /// Page `page` (from 1) of `per_page` items; zero values are raised to 1.
    pub fn new(page: u64, per_page: u64) -> Self {
        Self {
            page: page.max(1),
            per_page: per_page.clamp(1, 1000),
        }
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.per_page
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::new(1, 50)
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Items in the whole list.
    pub total_items: u64,
    /// The page asked for.
    pub page: Page,
}

impl<T> Paged<T> {
    /// The next page number, if there is one.
    pub fn page_next(&self) -> Option<u64> {
        (self.page.page * self.page.per_page < self.total_items).then_some(self.page.page + 1)
    }
}

/// Which certificates a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateFilter {
    /// All of them.
    All,
    /// Active ones.
    Active,
    /// Inactive ones.
    Inactive,
    /// Active ones whose validity ends before the instant.
    ExpiringBefore(OffsetDateTime),
    /// Those whose names include the domain.
    Domain(DomainId),
    /// Those with the key.
    PrivateKey(PrivateKeyId),
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

/// What is needed to record a new order before it is sent upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAcmeOrder {
    /// Ordering account.
    pub acme_account_id: AcmeAccountId,
    /// Names.
    pub unique_fqdn_set_id: UniqueFqdnSetId,
    /// Strategy.
    pub processing_strategy: AcmeOrderProcessingStrategy,
    /// Why.
    pub order_type: AcmeOrderType,
    /// Key cycle used at finalize and renewal.
    pub private_key_cycle: PrivateKeyCycle,
    /// Key strategy.
    pub private_key_strategy: PrivateKeyStrategy,
    /// Key chosen up front.
    pub private_key_id_requested: Option<PrivateKeyId>,
    /// Order retried.
    pub acme_order_id_retry_of: Option<AcmeOrderId>,
    /// Certificate renewed.
    pub certificate_signed_id_renewal_of: Option<CertificateSignedId>,
    /// Profile asked for.
    pub profile: Option<String>,
    /// ARI identifier of the certificate replaced (sent as `replaces`).
    pub replaces: Option<String>,
}

/// Local changes to an order (fields left `None` are unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AcmeOrderUpdate {
    /// Upstream status.
    pub status: Option<AcmeOrderStatus>,
    /// Processing progress.
    pub processing_status: Option<AcmeOrderProcessingStatus>,
    /// `Some(x)` sets `is_processing` to `x`.
    pub is_processing: Option<Option<bool>>,
    /// Key chosen at finalize.
    pub private_key_id: Option<PrivateKeyId>,
    /// CSR sent.
    pub certificate_request_id: Option<CertificateRequestId>,
    /// Problem document (JSON).
    pub problem: Option<String>,
}

/// A challenge to record from an authorization sync, with its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeUpsert {
    /// The challenge as the server lists it.
    pub challenge: crate::model::rules::ServerChallenge,
    /// The HTTP-01 answer (`token.thumbprint`).
    pub key_authorization: Option<String>,
}

/// Which orders a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderFilter {
    /// All.
    All,
    /// pending, ready, processing.
    Active,
    /// valid, invalid.
    Finished,
    /// Those whose names include the domain.
    Domain(DomainId),
    /// Those of one account.
    Account(AcmeAccountId),
}

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

/// What marking a private key compromised changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompromiseOutcome {
    /// The key, after the change.
    pub private_key: PrivateKey,
    /// Certificates taken out of service.
    pub deactivated_certificates: Vec<CertificateSignedId>,
}

/// What the startup reconciliation changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StartupReport {
    /// Accounts that stopped being the global default.
    pub unset_global_defaults: Vec<AcmeAccountId>,
}

/// The certificate store ("SSL Minnow").
#[async_trait]
pub trait Store: Send + Sync {
    // ----- ACME servers -----

    /// Records an ACME server; a taken name or URL is a conflict. When
    /// `is_default` is set, the previous default stops being it.
    async fn create_acme_server(&self, new: NewAcmeServer) -> StoreResult<AcmeServer>;
    /// One server.
    async fn acme_server(&self, id: AcmeServerId) -> StoreResult<AcmeServer>;
    /// A server by name.
    async fn acme_server_by_name(&self, name: &str) -> StoreResult<Option<AcmeServer>>;
    /// Every server, by id.
    async fn list_acme_servers(&self) -> StoreResult<Vec<AcmeServer>>;
    /// Makes a server the only default.
    async fn set_default_acme_server(&self, id: AcmeServerId) -> StoreResult<AcmeServer>;
    /// Enables or disables a server.
    async fn set_acme_server_enabled(
        &self,
        id: AcmeServerId,
        enabled: bool,
    ) -> StoreResult<AcmeServer>;

    // ----- ACME accounts -----

    /// Records an account with its key. A key already used by an account is a conflict.
    async fn create_acme_account(&self, new: NewAcmeAccount) -> StoreResult<AcmeAccount>;
    /// One account, with its active key.
    async fn acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount>;
    /// A page of accounts.
    async fn list_acme_accounts(&self, page: Page) -> StoreResult<Paged<AcmeAccount>>;
    /// Makes the account the global default (it must be on the default server).
    async fn set_global_default_acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount>;
    /// The global default account, if any.
    async fn global_default_acme_account(&self) -> StoreResult<Option<AcmeAccount>>;
    /// Records that the account was deactivated upstream (permanent); it
    /// stops being the global default.
    async fn deactivate_acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount>;
    /// Makes `key` the account's active key; the previous one is kept, inactive.
    async fn rotate_acme_account_key(
        &self,
        id: AcmeAccountId,
        key: &crate::formats::ParsedPrivateKey,
        source: AcmeAccountKeySource,
    ) -> StoreResult<AcmeAccount>;
    /// Records the account URL the server reports for the account's key.
    async fn set_acme_account_url(&self, id: AcmeAccountId, url: &str) -> StoreResult<AcmeAccount>;
    /// Applies the startup rules (a global default on a non-default server is unset).
    async fn apply_startup_rules(&self) -> StoreResult<StartupReport>;

    // ----- private keys -----

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

    // ----- domains -----

    /// The domain of that name, created when new.
    async fn get_or_create_domain(&self, name: &DomainName) -> StoreResult<Created<Domain>>;
    /// One domain.
    async fn domain(&self, id: DomainId) -> StoreResult<Domain>;
    /// A domain by name.
    async fn domain_by_name(&self, name: &DomainName) -> StoreResult<Option<Domain>>;
    /// A page of domains, by name.
    async fn list_domains(&self, page: Page) -> StoreResult<Paged<Domain>>;
    /// Marks a domain active or inactive.
    async fn set_domain_active(&self, id: DomainId, active: bool) -> StoreResult<Domain>;
    /// Adds a name to the blocklist.
    async fn add_blocklisted_domain(
        &self,
        name: &DomainName,
    ) -> StoreResult<Created<DomainBlocklisted>>;
    /// Whether a name is blocklisted.
    async fn is_domain_blocklisted(&self, name: &DomainName) -> StoreResult<bool>;
    /// The whole blocklist.
    async fn list_blocklisted_domains(&self) -> StoreResult<Vec<DomainBlocklisted>>;

    // ----- sets of names -----

    /// The stored set for these names, created (with its domains) when new.
    async fn get_or_create_unique_fqdn_set(
        &self,
        set: &UniqueFqdnSet,
    ) -> StoreResult<Created<UniqueFqdnSetRecord>>;
    /// One set.
    async fn unique_fqdn_set(&self, id: UniqueFqdnSetId) -> StoreResult<UniqueFqdnSetRecord>;

    // ----- certificates -----

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
    /// Records that the CA confirmed a revocation.
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

    /// Publications of active domains with an active certificate, in id
    /// order after `after` (keyset pagination), at most `limit`; or only the
    /// one for `name`.
    async fn domain_publications(
        &self,
        after: DomainId,
        limit: u64,
        name: Option<&DomainName>,
    ) -> StoreResult<Vec<DomainPublication>>;

    // ----- CA certificates and chains -----

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

    // ----- ACME orders, authorizations, challenges -----

    /// Records an order locally (status `*discovered*`, `created_local`).
    async fn create_acme_order(&self, new: NewAcmeOrder) -> StoreResult<AcmeOrder>;
    /// One order.
    async fn acme_order(&self, id: AcmeOrderId) -> StoreResult<AcmeOrder>;
    /// A page of orders, newest first.
    async fn list_acme_orders(
        &self,
        filter: OrderFilter,
        page: Page,
    ) -> StoreResult<Paged<AcmeOrder>>;
    /// Applies local changes to an order.
    async fn update_acme_order(
        &self,
        id: AcmeOrderId,
        update: AcmeOrderUpdate,
    ) -> StoreResult<AcmeOrder>;
    /// Records the server's view of an order: URLs, status, problem, and its
    /// authorizations (new ones as `*discovered*`), in one transaction.
    async fn sync_acme_order(
        &self,
        id: AcmeOrderId,
        server: &ServerOrder,
    ) -> StoreResult<AcmeOrder>;
    /// The authorizations of an order, in the order the server listed them.
    async fn acme_authorizations_for_order(
        &self,
        id: AcmeOrderId,
    ) -> StoreResult<Vec<AcmeAuthorization>>;
    /// One authorization.
    async fn acme_authorization(&self, id: AcmeAuthorizationId) -> StoreResult<AcmeAuthorization>;
    /// Records the server's view of an authorization and its challenges;
    /// stored challenges the server no longer lists become `*410*`.
    async fn sync_acme_authorization(
        &self,
        id: AcmeAuthorizationId,
        server: &ServerAuthorization,
        challenges: &[ChallengeUpsert],
    ) -> StoreResult<AcmeAuthorization>;
    /// The challenges of an authorization.
    async fn acme_challenges_for_authorization(
        &self,
        id: AcmeAuthorizationId,
    ) -> StoreResult<Vec<AcmeChallenge>>;
    /// One challenge.
    async fn acme_challenge(&self, id: AcmeChallengeId) -> StoreResult<AcmeChallenge>;
    /// Records a challenge's status as the server reports it.
    async fn set_acme_challenge_status(
        &self,
        id: AcmeChallengeId,
        status: AcmeChallengeStatus,
    ) -> StoreResult<AcmeChallenge>;
    /// The HTTP-01 answer for `token` on `host`, unless the host is blocklisted.
    async fn challenge_answer(
        &self,
        host: &str,
        token: &str,
    ) -> StoreResult<Option<(AcmeChallengeId, String)>>;
    /// Records a request for a known challenge.
    async fn record_challenge_poll(
        &self,
        id: AcmeChallengeId,
        remote_ip: Option<String>,
    ) -> StoreResult<AcmeChallengePoll>;
    /// Records a request for an unknown host or token.
    async fn record_unknown_challenge_poll(
        &self,
        host: &str,
        token: &str,
        remote_ip: Option<String>,
    ) -> StoreResult<AcmeChallengeUnknownPoll>;
    /// Polls of a challenge.
    async fn challenge_polls(&self, id: AcmeChallengeId) -> StoreResult<Vec<AcmeChallengePoll>>;
    /// A page of unknown polls, newest first.
    async fn list_unknown_challenge_polls(
        &self,
        page: Page,
    ) -> StoreResult<Paged<AcmeChallengeUnknownPoll>>;
    /// Records a certificate request, de-duplicated by its DER.
    async fn insert_certificate_request(
        &self,
        csr: &crate::formats::ParsedCsr,
        source: CertificateRequestSource,
        private_key_id: Option<PrivateKeyId>,
        unique_fqdn_set_id: UniqueFqdnSetId,
    ) -> StoreResult<Created<CertificateRequest>>;
    /// One certificate request.
    async fn certificate_request(
        &self,
        id: CertificateRequestId,
    ) -> StoreResult<CertificateRequest>;

    // ----- renewal coordination -----

    /// Takes the renewal lease of a set of names for `holder` until
    /// `now + ttl`, unless another holder's lease is still running. True when
    /// taken. Several nodes renewing from one store use it so that each
    /// renewal happens once; a crashed holder's lease simply expires.
    async fn try_acquire_renewal_lease(
        &self,
        set: UniqueFqdnSetId,
        holder: &str,
        ttl: time::Duration,
    ) -> StoreResult<bool>;
    /// Gives a lease back (only the holder's own).
    async fn release_renewal_lease(&self, set: UniqueFqdnSetId, holder: &str) -> StoreResult<()>;
    /// Records a failed renewal: no new attempt before `next_attempt_at`.
    async fn record_renewal_failure(
        &self,
        set: UniqueFqdnSetId,
        next_attempt_at: OffsetDateTime,
        error: &str,
    ) -> StoreResult<()>;
    /// Forgets failures after a success.
    async fn clear_renewal_failures(&self, set: UniqueFqdnSetId) -> StoreResult<()>;
    /// Failures so far and the earliest next attempt, when any failed.
    async fn renewal_backoff(
        &self,
        set: UniqueFqdnSetId,
    ) -> StoreResult<Option<(i32, OffsetDateTime)>>;

    // ----- event logs -----

    /// Records one ACME exchange.
    async fn record_acme_event(&self, event: NewAcmeEventLog) -> StoreResult<AcmeEventLog>;
    /// ACME exchanges of one order, oldest first.
    async fn acme_events_for_order(&self, id: AcmeOrderId) -> StoreResult<Vec<AcmeEventLog>>;
    /// A page of ACME exchanges, newest first.
    async fn list_acme_events(&self, page: Page) -> StoreResult<Paged<AcmeEventLog>>;
    /// Records an operations event.
    async fn record_operations_event(
        &self,
        event_type: OperationsEventType,
        payload: serde_json::Value,
        parent: Option<OperationsEventId>,
    ) -> StoreResult<OperationsEvent>;
    /// A page of operations events, newest first.
    async fn list_operations_events(&self, page: Page) -> StoreResult<Paged<OperationsEvent>>;

    // ----- listings for the admin API -----

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
    /// One ACME exchange.
    async fn acme_event(&self, id: AcmeEventLogId) -> StoreResult<AcmeEventLog>;

    /// Everything a domain's `config.json` is made of, read together: the
    /// domain, its latest single and multi certificates (when it is active)
    /// with their keys and offered chains, and the CA preference list.
    /// `None` for an unknown domain.
    async fn domain_config_source(
        &self,
        domain: DomainLookup<'_>,
    ) -> StoreResult<Option<DomainConfigSource>>;

    // ----- metrics -----

    /// Counts for monitoring, each a handful of rows whatever the store's size.
    async fn metrics(&self) -> StoreResult<StoreMetrics>;
    /// Every active certificate's id, first name and end of validity, in id
    /// order after `after`, at most `limit`.
    async fn active_certificate_expirations(
        &self,
        after: CertificateSignedId,
        limit: u64,
    ) -> StoreResult<Vec<CertificateExpiration>>;
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
