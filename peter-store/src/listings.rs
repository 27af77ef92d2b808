//! Paged listings the admin API shows, beside those the services use.

use peter_core::model::*;
use peter_core::ports::*;
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, Set};

use crate::convert;
use crate::entities::*;
use crate::sql_store::{DbResultExt, SqlStore, paginate};

/// The ids of the name sets that include a domain, as a subquery.
pub(crate) fn sets_with_domain(domain: DomainId) -> SelectStatement {
    Query::select()
        .column(unique_fqdn_set_domain::Column::UniqueFqdnSetId)
        .from(unique_fqdn_set_domain::Entity)
        .and_where(unique_fqdn_set_domain::Column::DomainId.eq(domain.0))
        .to_owned()
}

impl SqlStore {
    pub(crate) async fn list_acme_authorizations_impl(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<AcmeAuthorization>> {
        let mut select =
            acme_authorization::Entity::find().order_by_desc(acme_authorization::Column::Id);
        if let Some(d) = domain {
            select = select.filter(acme_authorization::Column::DomainId.eq(d.0));
        }
        let (rows, total) = paginate(select, page, self.connection()).await?;
        Ok(Paged {
            items: rows
                .into_iter()
                .map(convert::authorization)
                .collect::<Result<_, _>>()?,
            total_items: total,
            page,
        })
    }

    pub(crate) async fn list_acme_challenges_impl(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<AcmeChallenge>> {
        let mut select = acme_challenge::Entity::find().order_by_desc(acme_challenge::Column::Id);
        if let Some(d) = domain {
            select = select.filter(acme_challenge::Column::DomainId.eq(d.0));
        }
        let (rows, total) = paginate(select, page, self.connection()).await?;
        Ok(Paged {
            items: rows
                .into_iter()
                .map(convert::challenge)
                .collect::<Result<_, _>>()?,
            total_items: total,
            page,
        })
    }

    pub(crate) async fn list_acme_challenge_polls_impl(
        &self,
        page: Page,
    ) -> StoreResult<Paged<AcmeChallengePoll>> {
        let select =
            acme_challenge_poll::Entity::find().order_by_desc(acme_challenge_poll::Column::Id);
        let (rows, total) = paginate(select, page, self.connection()).await?;
        Ok(Paged {
            items: rows.into_iter().map(convert::poll).collect(),
            total_items: total,
            page,
        })
    }

    pub(crate) async fn list_unique_fqdn_sets_impl(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<UniqueFqdnSetRecord>> {
        let mut select = unique_fqdn_set::Entity::find().order_by_desc(unique_fqdn_set::Column::Id);
        if let Some(d) = domain {
            select = select.filter(unique_fqdn_set::Column::Id.in_subquery(sets_with_domain(d)));
        }
        let (rows, total) = paginate(select, page, self.connection()).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(self.fqdn_set_record_in(self.connection(), row).await?);
        }
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    pub(crate) async fn list_certificate_requests_impl(
        &self,
        page: Page,
    ) -> StoreResult<Paged<CertificateRequest>> {
        let select =
            certificate_request::Entity::find().order_by_desc(certificate_request::Column::Id);
        let (rows, total) = paginate(select, page, self.connection()).await?;
        Ok(Paged {
            items: rows
                .into_iter()
                .map(convert::certificate_request)
                .collect::<Result<_, _>>()?,
            total_items: total,
            page,
        })
    }

    pub(crate) async fn acme_event_impl(&self, id: AcmeEventLogId) -> StoreResult<AcmeEventLog> {
        let row = acme_event_log::Entity::find_by_id(id.0)
            .one(self.connection())
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeEventLog", id))?;
        convert::acme_event(row)
    }

    pub(crate) async fn set_ca_preferences_impl(
        &self,
        ids: &[CertificateCaId],
    ) -> StoreResult<Vec<CertificateCa>> {
        let mut seen = std::collections::HashSet::new();
        for id in ids {
            if !seen.insert(*id) {
                return Err(StoreError::Conflict(format!(
                    "CertificateCA {id} appears twice in the preference list"
                )));
            }
        }
        let (_write, txn) = self.begin_write().await?;
        for id in ids {
            certificate_ca::Entity::find_by_id(id.0)
                .one(&txn)
                .await
                .db()?
                .ok_or_else(|| StoreError::not_found("CertificateCA", id))?;
        }
        certificate_ca_preference::Entity::delete_many()
            .exec(&txn)
            .await
            .db()?;
        for (slot, id) in ids.iter().enumerate() {
            certificate_ca_preference::ActiveModel {
                id: NotSet,
                certificate_ca_id: Set(id.0),
                slot: Set(slot as i32 + 1),
            }
            .insert(&txn)
            .await
            .db()?;
        }
        let list = self.ca_preferences_in(&txn).await?;
        txn.commit().await.db()?;
        Ok(list)
    }
}
