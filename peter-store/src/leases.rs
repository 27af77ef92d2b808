//! Renewal leases and backoff, so that nodes sharing the store renew each set of names once.

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use peter_core::model::*;
use peter_core::ports::*;

use crate::entities::*;
use crate::sql_store::{DbResultExt, SqlStore, find_or_insert};

impl SqlStore {
    async fn renewal_row<C: sea_orm::ConnectionTrait>(
        &self,
        c: &C,
        set: UniqueFqdnSetId,
    ) -> StoreResult<renewal_state::Model> {
        find_or_insert(
            c,
            renewal_state::Entity::find().filter(renewal_state::Column::UniqueFqdnSetId.eq(set.0)),
            renewal_state::ActiveModel {
                unique_fqdn_set_id: Set(set.0),
                lease_holder: Set(None),
                lease_expires_at: Set(None),
                lease_token: Set(0),
                failures: Set(0),
                next_attempt_at: Set(None),
                last_error: Set(None),
            },
            [renewal_state::Column::UniqueFqdnSetId],
        )
        .await
        .map(|c| c.id)
    }
}

#[async_trait]
impl LeaseStore for SqlStore {
    async fn try_acquire_renewal_lease(
        &self,
        set: UniqueFqdnSetId,
        holder: &str,
        ttl: time::Duration,
    ) -> StoreResult<Option<Fence>> {
        let (_write, txn) = self.begin_write().await?;
        self.renewal_row(&txn, set).await?;
        let now = self.now();
        // One conditional update: it succeeds for exactly one contender,
        // and every grant moves the token on.
        let taken = renewal_state::Entity::update_many()
            .col_expr(
                renewal_state::Column::LeaseHolder,
                Expr::value(holder.to_string()),
            )
            .col_expr(
                renewal_state::Column::LeaseExpiresAt,
                Expr::value(peter_core::model::rules::later_by(now, ttl)),
            )
            .col_expr(
                renewal_state::Column::LeaseToken,
                Expr::col(renewal_state::Column::LeaseToken).add(1),
            )
            .filter(renewal_state::Column::UniqueFqdnSetId.eq(set.0))
            .filter(
                sea_orm::Condition::any()
                    .add(renewal_state::Column::LeaseExpiresAt.is_null())
                    .add(renewal_state::Column::LeaseExpiresAt.lt(now))
                    .add(renewal_state::Column::LeaseHolder.eq(holder.to_string())),
            )
            .exec(&txn)
            .await
            .db()?
            .rows_affected
            == 1;
        let fence = if taken {
            let row = renewal_state::Entity::find_by_id(set.0)
                .one(&txn)
                .await
                .db()?
                .ok_or_else(|| StoreError::Corrupt("a lease row vanished".into()))?;
            Some(Fence {
                set,
                holder: holder.to_string(),
                token: row.lease_token,
                ttl,
            })
        } else {
            None
        };
        txn.commit().await.db()?;
        Ok(fence)
    }

    async fn release_renewal_lease(&self, set: UniqueFqdnSetId, holder: &str) -> StoreResult<()> {
        let (_write, txn) = self.begin_write().await?;
        renewal_state::Entity::update_many()
            .col_expr(
                renewal_state::Column::LeaseHolder,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                renewal_state::Column::LeaseExpiresAt,
                Expr::value(Option::<time::OffsetDateTime>::None),
            )
            .filter(renewal_state::Column::UniqueFqdnSetId.eq(set.0))
            .filter(renewal_state::Column::LeaseHolder.eq(holder.to_string()))
            .exec(&txn)
            .await
            .db()?;
        txn.commit().await.db()?;
        Ok(())
    }

    async fn record_renewal_failure(
        &self,
        set: UniqueFqdnSetId,
        next_attempt_at: time::OffsetDateTime,
        error: &str,
    ) -> StoreResult<()> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.renewal_row(&txn, set).await?;
        let failures = row.failures.saturating_add(1);
        let mut am: renewal_state::ActiveModel = row.into();
        am.failures = Set(failures);
        am.next_attempt_at = Set(Some(next_attempt_at));
        am.last_error = Set(Some(error.chars().take(2000).collect()));
        am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        Ok(())
    }

    async fn clear_renewal_failures(&self, set: UniqueFqdnSetId) -> StoreResult<()> {
        let (_write, txn) = self.begin_write().await?;
        renewal_state::Entity::update_many()
            .col_expr(renewal_state::Column::Failures, Expr::value(0))
            .col_expr(
                renewal_state::Column::NextAttemptAt,
                Expr::value(Option::<time::OffsetDateTime>::None),
            )
            .col_expr(
                renewal_state::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .filter(renewal_state::Column::UniqueFqdnSetId.eq(set.0))
            .exec(&txn)
            .await
            .db()?;
        txn.commit().await.db()?;
        Ok(())
    }

    async fn renewal_backoff(
        &self,
        set: UniqueFqdnSetId,
    ) -> StoreResult<Option<(i32, time::OffsetDateTime)>> {
        let row = renewal_state::Entity::find_by_id(set.0)
            .one(&self.db)
            .await
            .db()?;
        Ok(row.and_then(|r| match (r.failures, r.next_attempt_at) {
            (f, Some(at)) if f > 0 => Some((f, at)),
            _ => None,
        }))
    }
}

impl SqlStore {
    /// The fencing check of a write under a lease (see [`LeaseStore`]): in
    /// the write's own transaction, the lease must still be the fence's and
    /// running; it is extended by the fence's ttl. On PostgreSQL the update
    /// also locks the lease row until the write commits, so a takeover waits
    /// for a write that passed its check.
    pub(crate) async fn check_fence<C: sea_orm::ConnectionTrait>(
        &self,
        c: &C,
        fence: &Fence,
    ) -> StoreResult<()> {
        let now = self.now();
        let held = renewal_state::Entity::update_many()
            .col_expr(
                renewal_state::Column::LeaseExpiresAt,
                Expr::value(peter_core::model::rules::later_by(now, fence.ttl)),
            )
            .filter(renewal_state::Column::UniqueFqdnSetId.eq(fence.set.0))
            .filter(renewal_state::Column::LeaseHolder.eq(fence.holder.clone()))
            .filter(renewal_state::Column::LeaseToken.eq(fence.token))
            .filter(renewal_state::Column::LeaseExpiresAt.gt(now))
            .exec(c)
            .await
            .db()?
            .rows_affected
            == 1;
        if held {
            Ok(())
        } else {
            Err(StoreError::Fenced(format!(
                "{} no longer holds the lease of name set {} with token {}",
                fence.holder, fence.set, fence.token
            )))
        }
    }
}
