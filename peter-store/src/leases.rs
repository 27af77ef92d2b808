//! Renewal leases and backoff, so that nodes sharing the store renew each set of names once.

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, Set};

use peter_core::model::*;
use peter_core::ports::*;

use crate::entities::*;
use crate::sql_store::{DbResultExt, SqlStore, find_or_insert};

impl SqlStore {
    async fn renewal_configuration_of(
        &self,
        row: renewal_configuration::Model,
    ) -> StoreResult<RenewalConfiguration> {
        let set = UniqueFqdnSetId(row.unique_fqdn_set_id);
        let names = self
            .names_of_sets(&[set])
            .await?
            .remove(&set)
            .unwrap_or_default();
        let technology = |t: Option<String>| {
            t.map(|t| crate::convert::parse_enum::<KeyTechnology>(&t, "key technology"))
                .transpose()
        };
        Ok(RenewalConfiguration {
            id: RenewalConfigurationId(row.id),
            unique_fqdn_set_id: set,
            domain_names: names,
            acme_account_id: AcmeAccountId(row.acme_account_id),
            private_key_technology: technology(row.private_key_technology)?,
            private_key_cycle: crate::convert::parse_enum(&row.private_key_cycle, "key cycle")?,
            profile: row.profile,
            challenge_types: crate::convert::challenge_types_of(row.challenge_types.as_deref())?,
            backup: match row.backup_acme_account_id {
                Some(account) => Some(RenewalBackup {
                    acme_account_id: AcmeAccountId(account),
                    private_key_technology: technology(row.backup_private_key_technology)?,
                    profile: row.backup_profile,
                }),
                None => None,
            },
            failover_after: u32::try_from(Ord::max(row.failover_after, 1)).unwrap_or(1),
            is_active: row.is_active,
            created_at: row.created_at,
        })
    }

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
    async fn put_renewal_configuration(
        &self,
        new: NewRenewalConfiguration,
        replace: bool,
    ) -> StoreResult<RenewalConfiguration> {
        let (_write, txn) = self.begin_write().await?;
        let existing = renewal_configuration::Entity::find()
            .filter(renewal_configuration::Column::UniqueFqdnSetId.eq(new.unique_fqdn_set_id.0))
            .one(&txn)
            .await
            .db()?;
        if let Some(row) = &existing
            && !replace
        {
            txn.commit().await.db()?;
            return self.renewal_configuration_of(row.clone()).await;
        }
        let backup = new.backup.as_ref();
        let mut am = renewal_configuration::ActiveModel {
            id: NotSet,
            unique_fqdn_set_id: Set(new.unique_fqdn_set_id.0),
            acme_account_id: Set(new.acme_account_id.0),
            private_key_technology: Set(new.private_key_technology.map(|t| t.as_str().into())),
            private_key_cycle: Set(new.private_key_cycle.as_str().into()),
            profile: Set(new.profile.clone()),
            backup_acme_account_id: Set(backup.map(|b| b.acme_account_id.0)),
            backup_private_key_technology: Set(
                backup.and_then(|b| b.private_key_technology.map(|t| t.as_str().into()))
            ),
            backup_profile: Set(backup.and_then(|b| b.profile.clone())),
            challenge_types: Set(crate::convert::challenge_types_text(&new.challenge_types)),
            failover_after: Set(i32::try_from(Ord::max(new.failover_after, 1)).unwrap_or(i32::MAX)),
            is_active: Set(true),
            created_at: Set(self.now()),
        };
        let row = match existing {
            Some(row) => {
                am.id = Set(row.id);
                am.created_at = Set(row.created_at);
                am.update(&txn).await.db()?
            }
            None => am.insert(&txn).await.db()?,
        };
        self.operations_event_in(
            &txn,
            OperationsEventType::RenewalConfigurationInsert,
            serde_json::json!({"renewal_configuration.id": row.id, "unique_fqdn_set.id": row.unique_fqdn_set_id}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        self.renewal_configuration_of(row).await
    }

    async fn renewal_configuration(
        &self,
        id: RenewalConfigurationId,
    ) -> StoreResult<RenewalConfiguration> {
        let row = renewal_configuration::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("RenewalConfiguration", id))?;
        self.renewal_configuration_of(row).await
    }

    async fn renewal_configuration_for_set(
        &self,
        set: UniqueFqdnSetId,
    ) -> StoreResult<Option<RenewalConfiguration>> {
        match renewal_configuration::Entity::find()
            .filter(renewal_configuration::Column::UniqueFqdnSetId.eq(set.0))
            .one(&self.db)
            .await
            .db()?
        {
            Some(row) => Ok(Some(self.renewal_configuration_of(row).await?)),
            None => Ok(None),
        }
    }

    async fn list_renewal_configurations(
        &self,
        page: Page,
    ) -> StoreResult<Paged<RenewalConfiguration>> {
        let (rows, total) = crate::sql_store::paginate(
            renewal_configuration::Entity::find().order_by_asc(renewal_configuration::Column::Id),
            page,
            &self.db,
        )
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(self.renewal_configuration_of(row).await?);
        }
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

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
