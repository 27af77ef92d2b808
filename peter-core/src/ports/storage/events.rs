//! The ACME exchange log and the operations events.

use async_trait::async_trait;

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
}
