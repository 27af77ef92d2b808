//! CA certificates, chains and the CA preference list.

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set,
};

use peter_core::formats::ParsedCertificate;
use peter_core::model::*;
use peter_core::ports::*;

use crate::convert;
use crate::entities::*;
use crate::sql_store::{DbResultExt, SqlStore, paginate};

#[async_trait]
impl CaStore for SqlStore {
    async fn insert_certificate_ca(
        &self,
        cert: &ParsedCertificate,
    ) -> StoreResult<Created<CertificateCa>> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.certificate_ca_in(&txn, cert).await?;
        txn.commit().await.db()?;
        Ok(Created {
            id: convert::certificate_ca(row.id),
            created: row.created,
        })
    }

    async fn certificate_ca(&self, id: CertificateCaId) -> StoreResult<CertificateCa> {
        certificate_ca::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .map(convert::certificate_ca)
            .ok_or_else(|| StoreError::not_found("CertificateCA", id))
    }

    async fn list_certificate_cas(&self, page: Page) -> StoreResult<Paged<CertificateCa>> {
        let (rows, total) = paginate(
            certificate_ca::Entity::find().order_by_asc(certificate_ca::Column::Id),
            page,
            &self.db,
        )
        .await?;
        Ok(Paged {
            items: rows.into_iter().map(convert::certificate_ca).collect(),
            total_items: total,
            page,
        })
    }

    async fn certificate_ca_chain(
        &self,
        id: CertificateCaChainId,
    ) -> StoreResult<CertificateCaChain> {
        let row = certificate_ca_chain::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("CertificateCAChain", id))?;
        convert::chain(row)
    }

    async fn list_certificate_ca_chains(
        &self,
        page: Page,
    ) -> StoreResult<Paged<CertificateCaChain>> {
        let (rows, total) = paginate(
            certificate_ca_chain::Entity::find().order_by_asc(certificate_ca_chain::Column::Id),
            page,
            &self.db,
        )
        .await?;
        let items = rows
            .into_iter()
            .map(convert::chain)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn ca_preferences(&self) -> StoreResult<Vec<CertificateCa>> {
        self.ca_preferences_in(&self.db).await
    }

    async fn add_ca_preference(&self, id: CertificateCaId) -> StoreResult<Vec<CertificateCa>> {
        let (_write, txn) = self.begin_write().await?;
        certificate_ca::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("CertificateCA", id))?;
        let max_slot: Option<i32> = certificate_ca_preference::Entity::find()
            .select_only()
            .column_as(
                Expr::expr(Func::max(Expr::col(
                    certificate_ca_preference::Column::Slot,
                ))),
                "max_slot",
            )
            .into_tuple::<Option<i32>>()
            .one(&txn)
            .await
            .db()?
            .flatten();
        certificate_ca_preference::Entity::insert(certificate_ca_preference::ActiveModel {
            id: NotSet,
            certificate_ca_id: Set(id.0),
            slot: Set(max_slot.unwrap_or(0).saturating_add(1)),
        })
        .on_conflict_do_nothing_on([certificate_ca_preference::Column::CertificateCaId])
        .exec(&txn)
        .await
        .db()?;
        let list = self.ca_preferences_in(&txn).await?;
        txn.commit().await.db()?;
        Ok(list)
    }

    async fn remove_ca_preference(&self, id: CertificateCaId) -> StoreResult<Vec<CertificateCa>> {
        let (_write, txn) = self.begin_write().await?;
        let deleted = certificate_ca_preference::Entity::delete_many()
            .filter(certificate_ca_preference::Column::CertificateCaId.eq(id.0))
            .exec(&txn)
            .await
            .db()?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::not_found("CertificateCAPreference", id));
        }
        let list = self.ca_preferences_in(&txn).await?;
        txn.commit().await.db()?;
        Ok(list)
    }

    async fn set_ca_preferences(&self, ids: &[CertificateCaId]) -> StoreResult<Vec<CertificateCa>> {
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
                slot: Set(i32::try_from(slot).unwrap_or(i32::MAX).saturating_add(1)),
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
