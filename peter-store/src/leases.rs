//! Renewal leases and backoff, so that nodes sharing the store renew each set of names once.

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
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
    ) -> StoreResult<bool> {
        let (_write, txn) = self.begin_write().await?;
        self.renewal_row(&txn, set).await?;
        let now = self.now();
        // One conditional update: it succeeds for exactly one contender.
        let taken = renewal_state::Entity::update_many()
            .col_expr(
                renewal_state::Column::LeaseHolder,
                Expr::value(holder.to_string()),
            )
            .col_expr(
                renewal_state::Column::LeaseExpiresAt,
                Expr::value(peter_core::model::rules::later_by(now, ttl)),
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
        txn.commit().await.db()?;
        Ok(taken)
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
