//! Renewal coordination between nodes: leases and backoff per set of names.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreResult;
use crate::model::*;

/// Renewal coordination between nodes: leases and backoff per set of names.
#[async_trait]
pub trait LeaseStore: Send + Sync {
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
}
