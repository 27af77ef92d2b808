//! Domains, the blocklist and sets of names.

use async_trait::async_trait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TryInsertResult,
};

use peter_core::dns::{DomainName, UniqueFqdnSet};
use peter_core::model::rules::{self};
use peter_core::model::*;
use peter_core::ports::*;

use crate::convert;
use crate::entities::*;
use crate::sql_store::{DbResultExt, SqlStore, paginate};

#[async_trait]
impl DomainStore for SqlStore {
    async fn start_domain_autocert(
        &self,
        name: &DomainName,
        name_since: time::OffsetDateTime,
        global_since: time::OffsetDateTime,
        global_max: u32,
    ) -> StoreResult<AutocertStart> {
        let (_write, txn) = self.begin_write().await?;
        // SQLite's immediate transaction already serialises writers; on
        // PostgreSQL every node takes the same transaction-scoped lock, so
        // two nodes cannot both pass the limits with one slot left.
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(7201001)")
                .await
                .db()?;
        }
        if let Some(last) = domain_autocert::Entity::find()
            .filter(domain_autocert::Column::DomainName.eq(name.as_str()))
            .filter(domain_autocert::Column::CreatedAt.gte(name_since))
            .order_by_desc(domain_autocert::Column::CreatedAt)
            .one(&txn)
            .await
            .db()?
        {
            return Ok(AutocertStart::NameLimited {
                last: last.created_at,
            });
        }
        let recent = domain_autocert::Entity::find()
            .filter(domain_autocert::Column::CreatedAt.gte(global_since))
            .order_by_desc(domain_autocert::Column::CreatedAt)
            .limit(u64::from(global_max))
            .all(&txn)
            .await
            .db()?;
        if recent.len() >= global_max as usize {
            let oldest = recent.last().map_or(global_since, |r| r.created_at);
            return Ok(AutocertStart::GlobalLimited { oldest });
        }
        let row = domain_autocert::ActiveModel {
            id: NotSet,
            domain_name: Set(name.as_str().to_string()),
            created_at: Set(self.now()),
            finished_at: Set(None),
            is_successful: Set(None),
            acme_order_id: Set(None),
            problem: Set(None),
        }
        .insert(&txn)
        .await
        .db()?;
        txn.commit().await.db()?;
        Ok(AutocertStart::Started(convert::autocert(row)))
    }

    async fn finish_domain_autocert(
        &self,
        id: DomainAutocertId,
        acme_order_id: Option<AcmeOrderId>,
        successful: bool,
        problem: Option<String>,
    ) -> StoreResult<DomainAutocert> {
        let (_write, txn) = self.begin_write().await?;
        let row = domain_autocert::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("DomainAutocert", id))?;
        let mut am: domain_autocert::ActiveModel = row.into();
        am.finished_at = Set(Some(self.now()));
        am.is_successful = Set(Some(successful));
        am.acme_order_id = Set(acme_order_id.map(|o| o.0));
        am.problem = Set(problem);
        let row = am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        Ok(convert::autocert(row))
    }

    async fn list_domain_autocerts(&self, page: Page) -> StoreResult<Paged<DomainAutocert>> {
        let (rows, total) = paginate(
            domain_autocert::Entity::find().order_by_desc(domain_autocert::Column::Id),
            page,
            &self.db,
        )
        .await?;
        Ok(Paged {
            items: rows.into_iter().map(convert::autocert).collect(),
            total_items: total,
            page,
        })
    }

    async fn record_config_change(&self, names: Option<&[DomainName]>) -> StoreResult<()> {
        let now = self.now();
        let rows: Vec<config_change::ActiveModel> = match names {
            None => vec![config_change::ActiveModel {
                id: NotSet,
                domain_name: Set(None),
                changed_at: Set(now),
            }],
            Some(names) => names
                .iter()
                .map(|n| config_change::ActiveModel {
                    id: NotSet,
                    domain_name: Set(Some(n.as_str().to_string())),
                    changed_at: Set(now),
                })
                .collect(),
        };
        if rows.is_empty() {
            return Ok(());
        }
        // Not fenced: a change that committed must reach every cache.
        let (_write, txn) = self.begin_write_unfenced().await?;
        config_change::Entity::insert_many(rows)
            .exec(&txn)
            .await
            .db()?;
        txn.commit().await.db()?;
        Ok(())
    }

    async fn config_changes_since(
        &self,
        after: Option<i64>,
        limit: u64,
    ) -> StoreResult<ConfigChanges> {
        use sea_orm::QuerySelect;
        let end_of_feed = || async {
            Ok::<_, StoreError>(
                config_change::Entity::find()
                    .order_by_desc(config_change::Column::Id)
                    .one(&self.db)
                    .await
                    .db()?
                    .map(|r| r.id)
                    .unwrap_or(0),
            )
        };
        let Some(after) = after else {
            return Ok(ConfigChanges {
                latest: end_of_feed().await?,
                entries: Vec::new(),
                truncated: false,
            });
        };
        let mut rows = config_change::Entity::find()
            .filter(config_change::Column::Id.gt(after))
            .order_by_asc(config_change::Column::Id)
            .limit(limit.saturating_add(1))
            .all(&self.db)
            .await
            .db()?;
        let truncated = rows.len() as u64 > limit;
        if truncated {
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        let latest = if truncated {
            end_of_feed().await?
        } else {
            rows.last().map_or(after, |r| r.id)
        };
        Ok(ConfigChanges {
            latest,
            entries: rows.into_iter().map(|r| (r.id, r.domain_name)).collect(),
            truncated,
        })
    }

    async fn prune_config_changes(&self, before: time::OffsetDateTime) -> StoreResult<u64> {
        let (_write, txn) = self.begin_write_unfenced().await?;
        let done = config_change::Entity::delete_many()
            .filter(config_change::Column::ChangedAt.lt(before))
            .exec(&txn)
            .await
            .db()?;
        txn.commit().await.db()?;
        Ok(done.rows_affected)
    }

    async fn get_or_create_domain(&self, name: &DomainName) -> StoreResult<Created<Domain>> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.domain_in(&txn, name.as_str()).await?;
        if row.created {
            self.operations_event_in(
                &txn,
                OperationsEventType::DomainInsert,
                serde_json::json!({"domain.id": row.id.id, "domain_name": name.as_str()}),
                None,
            )
            .await?;
        }
        txn.commit().await.db()?;
        Ok(Created {
            id: convert::domain(row.id),
            created: row.created,
        })
    }

    async fn domain(&self, id: DomainId) -> StoreResult<Domain> {
        domain::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .map(convert::domain)
            .ok_or_else(|| StoreError::not_found("Domain", id))
    }

    async fn domain_by_name(&self, name: &DomainName) -> StoreResult<Option<Domain>> {
        Ok(domain::Entity::find()
            .filter(domain::Column::DomainName.eq(name.as_str()))
            .one(&self.db)
            .await
            .db()?
            .map(convert::domain))
    }

    async fn list_domains(&self, filter: &DomainFilter, page: Page) -> StoreResult<Paged<Domain>> {
        let mut select = domain::Entity::find().order_by_asc(domain::Column::DomainName);
        if let Some(text) = filter.name_contains.as_deref().filter(|t| !t.is_empty()) {
            use sea_orm::sea_query::ExprTrait;
            // Names are stored lowercase; LIKE's wildcards in the text are matched literally.
            let escaped = text
                .to_ascii_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            select = select.filter(
                sea_orm::sea_query::Expr::col(domain::Column::DomainName)
                    .like(sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')),
            );
        }
        if let Some(active) = filter.active {
            select = select.filter(domain::Column::IsActive.eq(active));
        }
        let (rows, total) = paginate(select, page, &self.db).await?;
        Ok(Paged {
            items: rows.into_iter().map(convert::domain).collect(),
            total_items: total,
            page,
        })
    }

    async fn set_domain_active(&self, id: DomainId, active: bool) -> StoreResult<Domain> {
        let (_write, txn) = self.begin_write().await?;
        let row = domain::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("Domain", id))?;
        let next = rules::mark_domain(&convert::domain(row.clone()), active)?;
        let mut am: domain::ActiveModel = row.into();
        am.is_active = Set(next);
        let row = am.update(&txn).await.db()?;
        config_change::ActiveModel {
            id: NotSet,
            domain_name: Set(Some(row.domain_name.clone())),
            changed_at: Set(self.now()),
        }
        .insert(&txn)
        .await
        .db()?;
        self.operations_event_in(
            &txn,
            OperationsEventType::DomainMark,
            serde_json::json!({"domain.id": id.0, "is_active": next}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        Ok(convert::domain(row))
    }

    async fn dns_delegation_label(
        &self,
        domain_name: &str,
        new_label: &str,
    ) -> StoreResult<String> {
        let (_write, txn) = self.begin_write().await?;
        let row = crate::sql_store::find_or_insert(
            &txn,
            dns_delegation::Entity::find()
                .filter(dns_delegation::Column::DomainName.eq(domain_name.to_string())),
            dns_delegation::ActiveModel {
                id: NotSet,
                domain_name: Set(domain_name.to_string()),
                label: Set(new_label.to_string()),
                created_at: Set(self.now()),
            },
            [dns_delegation::Column::DomainName],
        )
        .await?;
        txn.commit().await.db()?;
        Ok(row.id.label)
    }

    async fn add_dns_txt(&self, label: &str, value: &str) -> StoreResult<()> {
        let (_write, txn) = self.begin_write().await?;
        let row = crate::sql_store::find_or_insert(
            &txn,
            dns_txt_record::Entity::find()
                .filter(dns_txt_record::Column::Label.eq(label.to_string()))
                .filter(dns_txt_record::Column::Value.eq(value.to_string())),
            dns_txt_record::ActiveModel {
                id: NotSet,
                label: Set(label.to_string()),
                value: Set(value.to_string()),
                created_at: Set(self.now()),
            },
            [dns_txt_record::Column::Label, dns_txt_record::Column::Value],
        )
        .await?;
        if !row.created {
            // Placed again: served for another day from now.
            let mut am: dns_txt_record::ActiveModel = row.id.into();
            am.created_at = Set(self.now());
            am.update(&txn).await.db()?;
        }
        txn.commit().await.db()?;
        Ok(())
    }

    async fn remove_dns_txt(&self, label: &str, value: &str) -> StoreResult<()> {
        let (_write, txn) = self.begin_write().await?;
        dns_txt_record::Entity::delete_many()
            .filter(dns_txt_record::Column::Label.eq(label.to_string()))
            .filter(dns_txt_record::Column::Value.eq(value.to_string()))
            .exec(&txn)
            .await
            .db()?;
        txn.commit().await.db()?;
        Ok(())
    }

    async fn dns_txt_values(&self, label: &str) -> StoreResult<Vec<String>> {
        use sea_orm::QuerySelect;
        // A record left by a process that died before removing it stops
        // being served after a day.
        let since = self.now().saturating_sub(time::Duration::days(1));
        let rows = dns_txt_record::Entity::find()
            .filter(dns_txt_record::Column::Label.eq(label.to_string()))
            .filter(dns_txt_record::Column::CreatedAt.gt(since))
            .order_by_desc(dns_txt_record::Column::Id)
            .limit(16)
            .all(&self.db)
            .await
            .db()?;
        Ok(rows.into_iter().map(|r| r.value).collect())
    }

    async fn set_domain_challenge_type(
        &self,
        id: DomainId,
        challenge_type: AcmeChallengeType,
    ) -> StoreResult<Domain> {
        let (_write, txn) = self.begin_write().await?;
        let row = domain::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("Domain", id))?;
        let mut am: domain::ActiveModel = row.into();
        am.challenge_type = Set(challenge_type.as_str().into());
        let row = am.update(&txn).await.db()?;
        self.operations_event_in(
            &txn,
            OperationsEventType::DomainChallengeType,
            serde_json::json!({"domain.id": id.0, "challenge_type": challenge_type.as_str()}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        Ok(convert::domain(row))
    }

    async fn add_blocklisted_domain(
        &self,
        name: &DomainName,
    ) -> StoreResult<Created<DomainBlocklisted>> {
        let (_write, txn) = self.begin_write().await?;
        let find = || {
            domain_blocklisted::Entity::find()
                .filter(domain_blocklisted::Column::DomainName.eq(name.as_str()))
        };
        if let Some(found) = find().one(&txn).await.db()? {
            return Ok(Created {
                id: convert::blocklisted(found),
                created: false,
            });
        }
        let insert = domain_blocklisted::Entity::insert(domain_blocklisted::ActiveModel {
            id: NotSet,
            domain_name: Set(name.as_str().to_string()),
            created_at: Set(self.now()),
        })
        .on_conflict_do_nothing_on([domain_blocklisted::Column::DomainName])
        .exec(&txn)
        .await
        .db()?;
        let row = find()
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::Corrupt("blocklist entry vanished".into()))?;
        txn.commit().await.db()?;
        Ok(Created {
            id: convert::blocklisted(row),
            created: matches!(insert, TryInsertResult::Inserted(_)),
        })
    }

    async fn is_domain_blocklisted(&self, name: &DomainName) -> StoreResult<bool> {
        Ok(domain_blocklisted::Entity::find()
            .filter(domain_blocklisted::Column::DomainName.eq(name.as_str()))
            .count(&self.db)
            .await
            .db()?
            > 0)
    }

    async fn list_blocklisted_domains(&self) -> StoreResult<Vec<DomainBlocklisted>> {
        Ok(domain_blocklisted::Entity::find()
            .order_by_asc(domain_blocklisted::Column::DomainName)
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .map(convert::blocklisted)
            .collect())
    }

    async fn get_or_create_unique_fqdn_set(
        &self,
        set: &UniqueFqdnSet,
    ) -> StoreResult<Created<UniqueFqdnSetRecord>> {
        let (_write, txn) = self.begin_write().await?;
        let (row, _) = self.fqdn_set_in(&txn, set).await?;
        let record = self.fqdn_set_record_in(&txn, row.id).await?;
        txn.commit().await.db()?;
        Ok(Created {
            id: record,
            created: row.created,
        })
    }

    async fn unique_fqdn_set(&self, id: UniqueFqdnSetId) -> StoreResult<UniqueFqdnSetRecord> {
        let row = unique_fqdn_set::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("UniqueFQDNSet", id))?;
        self.fqdn_set_record_in(&self.db, row).await
    }

    async fn names_of_sets(
        &self,
        ids: &[UniqueFqdnSetId],
    ) -> StoreResult<std::collections::BTreeMap<UniqueFqdnSetId, Vec<String>>> {
        let rows = unique_fqdn_set::Entity::find()
            .filter(unique_fqdn_set::Column::Id.is_in(ids.iter().map(|i| i.0)))
            .all(&self.db)
            .await
            .db()?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let names = r.domain_names.split(',').map(str::to_string).collect();
                (UniqueFqdnSetId(r.id), names)
            })
            .collect())
    }
}
