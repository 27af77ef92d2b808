//! Renewal coordination between nodes: leases and backoff per set of names.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Page, Paged, StoreResult};
use crate::model::*;

/// A granted renewal lease, and the proof its holder shows with every write
/// it makes under the lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The set of names being renewed.
    pub set: UniqueFqdnSetId,
    /// Who holds the lease.
    pub holder: String,
    /// The fencing token: grows with every grant of this set's lease, so a
    /// holder whose lease was granted again to anyone (itself included)
    /// holds a stale token.
    pub token: i64,
    /// How long each write under the lease extends it.
    pub ttl: time::Duration,
}

tokio::task_local! {
    static FENCE: Fence;
}

/// Runs `work` under `fence`: every store write it makes commits only while
/// the fence holds (see [`LeaseStore`]).
pub async fn under_fence<F: std::future::Future>(fence: Fence, work: F) -> F::Output {
    FENCE.scope(fence, work).await
}

/// The fence the current task writes under, if any (for store adapters).
pub fn current_fence() -> Option<Fence> {
    FENCE.try_with(Fence::clone).ok()
}

/// Renewal coordination between nodes: leases and backoff per set of names.
///
/// Fencing contract: a write made inside [`under_fence`] checks, in its own
/// transaction and before anything else, that the fence's holder still
/// holds the set's lease with the fence's token and that it has not
/// expired; the check extends the lease by the fence's ttl (a holder making
/// progress keeps its lease). When the check fails the write fails with
/// [`StoreError::Fenced`](super::StoreError::Fenced) and changes nothing.
/// A node cut off from the store past its lease therefore writes nothing
/// when it comes back, even in the middle of an order. The one exception is
/// the ACME exchange log ([`EventStore::record_acme_event`](super::EventStore::record_acme_event)):
/// a request the node did send to the CA is recorded all the same.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Records how a set of names is renewed, replacing what was recorded
    /// for that set (`replace` true), or only when nothing was (`replace`
    /// false: what issuance does, so an operator's choice is kept).
    async fn put_renewal_configuration(
        &self,
        new: NewRenewalConfiguration,
        replace: bool,
    ) -> StoreResult<RenewalConfiguration>;
    /// One renewal configuration.
    async fn renewal_configuration(
        &self,
        id: RenewalConfigurationId,
    ) -> StoreResult<RenewalConfiguration>;
    /// The configuration of a set of names, if it has one.
    async fn renewal_configuration_for_set(
        &self,
        set: UniqueFqdnSetId,
    ) -> StoreResult<Option<RenewalConfiguration>>;
    /// Renewal configurations, by id.
    async fn list_renewal_configurations(
        &self,
        page: Page,
    ) -> StoreResult<Paged<RenewalConfiguration>>;
    /// Takes the renewal lease of a set of names for `holder` until
    /// `now + ttl`, unless another holder's lease is still running; the
    /// grant comes with the next fencing token. Several nodes renewing from
    /// one store use it so that each renewal happens once; a crashed
    /// holder's lease simply expires.
    async fn try_acquire_renewal_lease(
        &self,
        set: UniqueFqdnSetId,
        holder: &str,
        ttl: time::Duration,
    ) -> StoreResult<Option<Fence>>;
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
}
