//! The ACME exchange log and the operations events.

use peter_core::app::Peter;
use peter_core::model::*;
use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;

use super::ApiTags;
use super::answer::*;
use super::auth::AdminToken;
use crate::views::*;
use crate::wire::Paging;

/// Log routes.
pub struct LogsApi(pub Peter);

#[OpenApi(tag = "ApiTags::Log")]
impl LogsApi {
    /// ACME exchanges, newest first (no bodies, keys or nonces are kept).
    #[oai(
        path = "/acme-event-logs",
        method = "get",
        operation_id = "acme_event_log_list"
    )]
    async fn events(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<AcmeEventLogsList>> {
        let paged = self.0.logs().acme_events(paging.page()).await?;
        Ok(Json(AcmeEventLogsList::of(&paged)))
    }

    /// One ACME exchange.
    #[oai(
        path = "/acme-event-log/:id",
        method = "get",
        operation_id = "acme_event_log_focus"
    )]
    async fn event(&self, _auth: AdminToken, id: Path<i64>) -> ApiResult<Json<AcmeEventLogAnswer>> {
        let e = self.0.logs().acme_event(AcmeEventLogId(id.0)).await?;
        Ok(Json(AcmeEventLogAnswer::of(&e)))
    }

    /// Operations events, newest first.
    #[oai(
        path = "/operations-events",
        method = "get",
        operation_id = "operations_event_list"
    )]
    async fn operations(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<OperationsEventsList>> {
        let paged = self.0.logs().operations_events(paging.page()).await?;
        Ok(Json(OperationsEventsList::of(&paged)))
    }

    /// Alert deliveries (what renewal runs told the operator), newest first.
    #[oai(path = "/alerts", method = "get", operation_id = "alert_list")]
    async fn alerts(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<AlertDeliveriesList>> {
        let paged = self.0.alerts().list(paging.page()).await?;
        Ok(Json(AlertDeliveriesList::of(&paged)))
    }
}
