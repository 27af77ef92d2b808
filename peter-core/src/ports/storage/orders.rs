//! ACME orders, their authorizations and challenges, the polls of challenge answers, and certificate requests.

use async_trait::async_trait;

use super::{Created, Page, Paged, StoreResult};
use crate::model::*;
use crate::ports::acme::{ServerAuthorization, ServerOrder};

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
    /// Challenge types for some names, over their domains'.
    pub challenge_types: std::collections::BTreeMap<String, AcmeChallengeType>,
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

/// Which orders a listing shows: those meeting every condition given,
/// newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only orders in one of these upstream statuses (empty: any).
    pub statuses: Vec<AcmeOrderStatus>,
    /// Only orders whose names include this domain.
    pub domain: Option<DomainId>,
    /// Only orders of this account.
    pub acme_account: Option<AcmeAccountId>,
}

impl OrderFilter {
    /// Every order.
    pub fn all() -> Self {
        Self::default()
    }

    /// Orders still in progress upstream (pending, ready, processing).
    pub fn active() -> Self {
        Self {
            statuses: AcmeOrderStatus::ACTIVE.to_vec(),
            ..Self::default()
        }
    }

    /// Orders that ended upstream (valid, invalid).
    pub fn finished() -> Self {
        Self {
            statuses: AcmeOrderStatus::FINISHED.to_vec(),
            ..Self::default()
        }
    }

    /// Orders whose names include `domain`.
    pub fn domain(domain: DomainId) -> Self {
        Self {
            domain: Some(domain),
            ..Self::default()
        }
    }

    /// Orders of `account`.
    pub fn account(account: AcmeAccountId) -> Self {
        Self {
            acme_account: Some(account),
            ..Self::default()
        }
    }
}

/// ACME orders, their authorizations and challenges, the polls of challenge answers, and certificate requests.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Records an order locally (status `*discovered*`, `created_local`).
    async fn create_acme_order(&self, new: NewAcmeOrder) -> StoreResult<AcmeOrder>;
    /// One order.
    async fn acme_order(&self, id: AcmeOrderId) -> StoreResult<AcmeOrder>;
    /// A page of orders, newest first.
    async fn list_acme_orders(
        &self,
        filter: &OrderFilter,
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
    /// Adds tallies of public challenge requests to the stored counts, in
    /// one transaction: a known challenge's row per address (at most
    /// [`POLL_ADDRESSES_PER_CHALLENGE`]; later addresses share the row
    /// without one), an unknown request's row per host and token; then
    /// keeps the `unknown_rows` most recently seen unknown rows.
    async fn record_polls(&self, tallies: &PollTallies) -> StoreResult<()>;
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
}

/// Addresses remembered per challenge in poll rows.
pub const POLL_ADDRESSES_PER_CHALLENGE: u64 = 32;

/// Requests for a known challenge from one address, since the last write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownPollTally {
    /// The challenge answered.
    pub challenge: AcmeChallengeId,
    /// Who asked.
    pub remote_ip: Option<String>,
    /// How many times.
    pub count: u64,
    /// First seen.
    pub first: time::OffsetDateTime,
    /// Last seen.
    pub last: time::OffsetDateTime,
}

/// Requests for an unknown host and token, since the last write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPollTally {
    /// The host asked for.
    pub host: String,
    /// The token asked for.
    pub token: String,
    /// Who asked last.
    pub remote_ip: Option<String>,
    /// How many times.
    pub count: u64,
    /// First seen.
    pub first: time::OffsetDateTime,
    /// Last seen.
    pub last: time::OffsetDateTime,
}

/// One batch of poll tallies to write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollTallies {
    /// Known challenges.
    pub known: Vec<KnownPollTally>,
    /// Unknown hosts and tokens.
    pub unknown: Vec<UnknownPollTally>,
    /// Unknown rows to keep after the write.
    pub unknown_rows: u64,
}

impl PollTallies {
    /// Number of tallies in the batch.
    pub fn len(&self) -> usize {
        self.known.len().saturating_add(self.unknown.len())
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty() && self.unknown.is_empty()
    }
}
