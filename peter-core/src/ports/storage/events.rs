//! The ACME exchange log, the operations events and the alert deliveries.

use async_trait::async_trait;

use time::OffsetDateTime;

use super::{Page, Paged, StoreResult};
use crate::model::*;

/// The ACME exchange log and the operations events.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Records one ACME exchange.
    async fn record_acme_event(&self, event: NewAcmeEventLog) -> StoreResult<AcmeEventLog>;
    /// ACME exchanges of one order, oldest first.
    async fn acme_events_for_order(&self, id: AcmeOrderId) -> StoreResult<Vec<AcmeEventLog>>;
    /// A page of ACME exchanges, newest first.
    async fn list_acme_events(&self, page: Page) -> StoreResult<Paged<AcmeEventLog>>;
    /// One ACME exchange.
    async fn acme_event(&self, id: AcmeEventLogId) -> StoreResult<AcmeEventLog>;
    /// Records an operations event.
    async fn record_operations_event(
        &self,
        event_type: OperationsEventType,
        payload: serde_json::Value,
        parent: Option<OperationsEventId>,
    ) -> StoreResult<OperationsEvent>;
    /// A page of operations events, newest first.
    async fn list_operations_events(&self, page: Page) -> StoreResult<Paged<OperationsEvent>>;
    /// Records an alert for one target, unless one with the same
    /// condition, subject and target was recorded at or after `since`
    /// (then `None`): at most one alert per subject and condition per period.
    async fn record_alert(
        &self,
        new: NewAlertDelivery,
        since: OffsetDateTime,
    ) -> StoreResult<Option<AlertDelivery>>;
    /// Records a try of a delivery: delivered, or failed with `error`.
    async fn record_alert_attempt(
        &self,
        id: AlertDeliveryId,
        delivered: bool,
        error: Option<&str>,
    ) -> StoreResult<AlertDelivery>;
    /// Deliveries not yet accepted (pending or failed) raised at or after
    /// `since`, oldest first, at most `limit`.
    async fn undelivered_alerts(
        &self,
        since: OffsetDateTime,
        limit: u64,
    ) -> StoreResult<Vec<AlertDelivery>>;
    /// A page of alert deliveries, newest first.
    async fn list_alerts(&self, page: Page) -> StoreResult<Paged<AlertDelivery>>;
}
