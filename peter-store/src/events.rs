//! The ACME exchange log and operations events.

use async_trait::async_trait;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, Set};

use peter_core::model::*;
use peter_core::ports::*;

use crate::convert;
use crate::entities::*;
use crate::sql_store::{DbResultExt, SqlStore, paginate};

#[async_trait]
impl EventStore for SqlStore {
    async fn record_acme_event(&self, event: NewAcmeEventLog) -> StoreResult<AcmeEventLog> {
        let kind = event
            .event
            .ok_or_else(|| StoreError::Corrupt("an ACME event needs its kind".into()))?;
        // Not fenced: the exchange happened, whoever holds the lease now.
        let (_write, txn) = self.begin_write_unfenced().await?;
        let row = acme_event_log::ActiveModel {
            id: NotSet,
            event_at: Set(self.now()),
            event: Set(kind.as_str().to_string()),
            endpoint: Set(event.endpoint),
            http_status: Set(event.http_status),
            problem_type: Set(event.problem_type),
            problem_detail: Set(event.problem_detail),
            retry_after_seconds: Set(event.retry_after_seconds),
            duration_ms: Set(event.duration_ms),
            acme_account_id: Set(event.acme_account_id.map(|i| i.0)),
            acme_order_id: Set(event.acme_order_id.map(|i| i.0)),
            acme_authorization_id: Set(event.acme_authorization_id.map(|i| i.0)),
            acme_challenge_id: Set(event.acme_challenge_id.map(|i| i.0)),
            certificate_signed_id: Set(event.certificate_signed_id.map(|i| i.0)),
        }
        .insert(&txn)
        .await
        .db()?;
        txn.commit().await.db()?;
        convert::acme_event(row)
    }

    async fn acme_events_for_order(&self, id: AcmeOrderId) -> StoreResult<Vec<AcmeEventLog>> {
        acme_event_log::Entity::find()
            .filter(acme_event_log::Column::AcmeOrderId.eq(id.0))
            .order_by_asc(acme_event_log::Column::Id)
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .map(convert::acme_event)
            .collect()
    }

    async fn list_acme_events(&self, page: Page) -> StoreResult<Paged<AcmeEventLog>> {
        let (rows, total) = paginate(
            acme_event_log::Entity::find().order_by_desc(acme_event_log::Column::Id),
            page,
            &self.db,
        )
        .await?;
        let items = rows
            .into_iter()
            .map(convert::acme_event)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn acme_event(&self, id: AcmeEventLogId) -> StoreResult<AcmeEventLog> {
        let row = acme_event_log::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeEventLog", id))?;
        convert::acme_event(row)
    }

    async fn record_operations_event(
        &self,
        event_type: OperationsEventType,
        payload: serde_json::Value,
        parent: Option<OperationsEventId>,
    ) -> StoreResult<OperationsEvent> {
        let (_write, txn) = self.begin_write().await?;
        let row = self
            .operations_event_in(&txn, event_type, payload, parent)
            .await?;
        txn.commit().await.db()?;
        convert::operations_event(row)
    }

    async fn list_operations_events(&self, page: Page) -> StoreResult<Paged<OperationsEvent>> {
        let (rows, total) = paginate(
            operations_event::Entity::find().order_by_desc(operations_event::Column::Id),
            page,
            &self.db,
        )
        .await?;
        let items = rows
            .into_iter()
            .map(convert::operations_event)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn record_alert(
        &self,
        new: NewAlertDelivery,
        since: time::OffsetDateTime,
    ) -> StoreResult<Option<AlertDelivery>> {
        // Checked and written in one write transaction: two nodes raising
        // the same alert at once record it once.
        let (_write, txn) = self.begin_write().await?;
        let earlier = alert_delivery::Entity::find()
            .filter(alert_delivery::Column::Subject.eq(new.subject.as_str()))
            .filter(alert_delivery::Column::Condition.eq(new.condition.as_str()))
            .filter(alert_delivery::Column::Target.eq(new.target.as_str()))
            .filter(alert_delivery::Column::CreatedAt.gte(since))
            .one(&txn)
            .await
            .db()?;
        if earlier.is_some() {
            return Ok(None);
        }
        let row = alert_delivery::ActiveModel {
            id: NotSet,
            condition: Set(new.condition.as_str().to_string()),
            subject: Set(new.subject),
            certificate_signed_id: Set(new.certificate_signed_id.map(|c| c.0)),
            acme_account_id: Set(new.acme_account_id.map(|a| a.0)),
            target: Set(new.target),
            payload: Set(new.payload),
            status: Set(AlertStatus::Pending.as_str().to_string()),
            attempts: Set(0),
            last_error: Set(None),
            created_at: Set(self.now()),
            delivered_at: Set(None),
        }
        .insert(&txn)
        .await
        .db()?;
        txn.commit().await.db()?;
        convert::alert(row).map(Some)
    }

    async fn record_alert_attempt(
        &self,
        id: AlertDeliveryId,
        delivered: bool,
        error: Option<&str>,
    ) -> StoreResult<AlertDelivery> {
        let (_write, txn) = self.begin_write().await?;
        let row = alert_delivery::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AlertDelivery", id))?;
        let attempts = row.attempts.saturating_add(1);
        let mut am: alert_delivery::ActiveModel = row.into();
        am.attempts = Set(attempts);
        if delivered {
            am.status = Set(AlertStatus::Delivered.as_str().to_string());
            am.delivered_at = Set(Some(self.now()));
            am.last_error = Set(None);
        } else {
            am.status = Set(AlertStatus::Failed.as_str().to_string());
            // Bounded: a target's error text is not trusted to be short.
            am.last_error = Set(error.map(|e| e.chars().take(1000).collect()));
        }
        let row = am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        convert::alert(row)
    }

    async fn undelivered_alerts(
        &self,
        since: time::OffsetDateTime,
        limit: u64,
    ) -> StoreResult<Vec<AlertDelivery>> {
        use sea_orm::QuerySelect;
        alert_delivery::Entity::find()
            .filter(alert_delivery::Column::Status.ne(AlertStatus::Delivered.as_str()))
            .filter(alert_delivery::Column::CreatedAt.gte(since))
            .order_by_asc(alert_delivery::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .map(convert::alert)
            .collect()
    }

    async fn list_alerts(&self, page: Page) -> StoreResult<Paged<AlertDelivery>> {
        let (rows, total) = paginate(
            alert_delivery::Entity::find().order_by_desc(alert_delivery::Column::Id),
            page,
            &self.db,
        )
        .await?;
        Ok(Paged {
            items: rows
                .into_iter()
                .map(convert::alert)
                .collect::<Result<_, _>>()?,
            total_items: total,
            page,
        })
    }
}
