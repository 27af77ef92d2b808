//! ACME orders: lists, focus, related lists and the actions that talk to
//! the ACME server.

use peter_core::app::{OrderRequest, Peter, ProcessSteps, Step};
use peter_core::model::rules::OrderMark;
use peter_core::model::*;
use peter_core::ports::OrderFilter;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;

use super::ApiTags;
use super::answer::*;
use super::auth::AdminToken;
use super::body::JsonOrForm;
use crate::views::*;
use crate::wire::{Paging, Wire, empty_as_none, query_params};

query_params! {
    /// Which orders a list shows.
    pub struct OrderQuery {
        /// Only orders in this upstream status.
        status: Wire<AcmeOrderStatus>,
        /// Only orders whose names include this domain (a name).
        domain_name: String,
    }
}

/// How a set of names is to be renewed.
#[derive(Debug, Object, Deserialize)]
pub struct RenewalConfigurationNewFields {
    /// Names, separated by commas or spaces.
    pub domain_names: String,
    /// The primary account.
    pub acme_account_id: i64,
    /// Key technology (default: the account's).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub private_key_technology: Option<Wire<KeyTechnology>>,
    /// Key cycle (default: the account's).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub private_key_cycle: Option<Wire<PrivateKeyCycle>>,
    /// Profile asked of the primary.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub profile: Option<String>,
    /// Challenge types for some names, over their domains': `name=type`
    /// pairs separated by commas or spaces (`www.example.com=dns-01`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub challenge_types: Option<String>,
    /// A backup account at another ACME server.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub backup_acme_account_id: Option<i64>,
    /// The backup's key technology.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub backup_private_key_technology: Option<Wire<KeyTechnology>>,
    /// The backup's profile.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub backup_profile: Option<String>,
    /// Consecutive failures at the primary before failing over (default 3).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub failover_after: Option<u32>,
}

/// A new order.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeOrderNewFields {
    /// Names, separated by commas or spaces (HTTP-01).
    pub domain_names: String,
    /// The ordering account (default: the global default account).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub acme_account_id: Option<i64>,
    /// How far to go now (default `process_single`: to the certificate).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub processing_strategy: Option<Wire<AcmeOrderProcessingStrategy>>,
    /// Key cycle (default: the account's).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub private_key_cycle: Option<Wire<PrivateKeyCycle>>,
    /// A recorded key to use instead of cycling.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub private_key_id: Option<i64>,
    /// ACME profile (must be offered by the server).
    #[serde(default)]
    pub profile: Option<String>,
}

/// How far to process.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeProcessFields {
    /// `all` (default: until the certificate or a failure) or `one` step.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub steps: Option<Wire<ProcessSteps>>,
}

/// A processing strategy for retries and renewals.
#[derive(Debug, Object, Deserialize)]
pub struct StrategyFields {
    /// How far to go now (default `process_single`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub processing_strategy: Option<Wire<AcmeOrderProcessingStrategy>>,
}

/// An order mark.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeOrderMarkFields {
    /// The mark.
    pub action: Wire<OrderMark>,
}

fn answer(
    operation: &str,
    order: &AcmeOrder,
    step: Option<Step>,
    publication: Option<&peter_core::app::Publication>,
) -> Json<AcmeOrderActionAnswer> {
    Json(AcmeOrderActionAnswer::of(
        operation,
        order,
        step,
        publication,
    ))
}

fn stepped(
    operation: &str,
    changed: peter_core::app::Changed<(AcmeOrder, Option<Step>)>,
) -> Json<AcmeOrderActionAnswer> {
    let (order, step) = &changed.value;
    answer(operation, order, *step, Some(&changed.publication))
}

fn strategy(s: Option<Wire<AcmeOrderProcessingStrategy>>) -> AcmeOrderProcessingStrategy {
    s.map(|s| s.0)
        .unwrap_or(AcmeOrderProcessingStrategy::ProcessSingle)
}

/// Order routes.
pub struct OrdersApi(pub Peter);

impl OrdersApi {
    async fn list_filtered(
        &self,
        mut filter: OrderFilter,
        query: OrderQuery,
        paging: Paging,
    ) -> ApiResult<Json<AcmeOrdersList>> {
        if let Some(status) = query.status {
            filter.statuses.retain(|s| *s == status.0);
            if filter.statuses.is_empty() {
                filter.statuses.push(status.0);
            }
        }
        let paged = self
            .0
            .orders()
            .list_for_domain(filter, query.domain_name.as_deref(), paging.page())
            .await?;
        Ok(Json(AcmeOrdersList::of(&paged)))
    }
}

#[OpenApi(tag = "ApiTags::AcmeOrder")]
impl OrdersApi {
    /// How each set of names is renewed (account, key policy, profile,
    /// backup CA).
    #[oai(
        path = "/renewal-configurations",
        method = "get",
        operation_id = "renewal_configuration_list"
    )]
    async fn renewal_configurations(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<RenewalConfigurationsList>> {
        let paged = self.0.renewal_configurations().list(paging.page()).await?;
        Ok(Json(RenewalConfigurationsList::of(&paged)))
    }

    /// One renewal configuration.
    #[oai(
        path = "/renewal-configuration/:id",
        method = "get",
        operation_id = "renewal_configuration_focus"
    )]
    async fn renewal_configuration(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<RenewalConfigurationAnswer>> {
        let config = self
            .0
            .renewal_configurations()
            .get(RenewalConfigurationId(id.0))
            .await?;
        Ok(Json(RenewalConfigurationAnswer::of(&config)))
    }

    /// Records how a set of names is renewed, replacing what it had. A
    /// backup account must be at another ACME server than the primary.
    #[oai(
        path = "/renewal-configuration/new",
        method = "post",
        operation_id = "renewal_configuration_new"
    )]
    async fn renewal_configuration_new(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<RenewalConfigurationNewFields>,
    ) -> ApiResult<Json<RenewalConfigurationAnswer>> {
        let f = body.into_inner();
        let config = self
            .0
            .renewal_configurations()
            .configure(peter_core::app::RenewalConfigurationRequest {
                domain_names: vec![f.domain_names],
                acme_account_id: AcmeAccountId(f.acme_account_id),
                private_key_technology: f.private_key_technology.map(|w| w.0),
                private_key_cycle: f.private_key_cycle.map(|w| w.0),
                profile: f.profile,
                challenge_types: match &f.challenge_types {
                    Some(text) => {
                        peter_core::app::RenewalConfigurationRequest::parse_challenge_types(text)?
                    }
                    None => Default::default(),
                },
                backup_acme_account_id: f.backup_acme_account_id.map(AcmeAccountId),
                backup_private_key_technology: f.backup_private_key_technology.map(|w| w.0),
                backup_profile: f.backup_profile,
                failover_after: f.failover_after,
            })
            .await?;
        Ok(Json(RenewalConfigurationAnswer::of(&config)))
    }

    /// Orders a certificate for the configuration's names from its backup
    /// CA now: a spare beside the primary's.
    #[oai(
        path = "/renewal-configuration/:id/order-backup",
        method = "post",
        operation_id = "renewal_configuration_order_backup"
    )]
    async fn renewal_configuration_order_backup(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let changed = self
            .0
            .renewal_configurations()
            .order_backup(RenewalConfigurationId(id.0))
            .await?;
        Ok(Json(AcmeOrderActionAnswer::of(
            "order-backup",
            &changed.value,
            None,
            Some(&changed.publication),
        )))
    }

    /// Every order, newest first.
    #[oai(
        path = "/acme-orders",
        method = "get",
        operation_id = "acme_order_list"
    )]
    async fn order_list(
        &self,
        _auth: AdminToken,
        query: OrderQuery,
        paging: Paging,
    ) -> ApiResult<Json<AcmeOrdersList>> {
        self.list_filtered(OrderFilter::all(), query, paging).await
    }

    /// Orders still in progress (pending, ready, processing).
    #[oai(
        path = "/acme-orders/active",
        method = "get",
        operation_id = "acme_order_list_active"
    )]
    async fn order_list_active(
        &self,
        _auth: AdminToken,
        query: OrderQuery,
        paging: Paging,
    ) -> ApiResult<Json<AcmeOrdersList>> {
        self.list_filtered(OrderFilter::active(), query, paging)
            .await
    }

    /// Finished orders (valid, invalid).
    #[oai(
        path = "/acme-orders/finished",
        method = "get",
        operation_id = "acme_order_list_finished"
    )]
    async fn order_list_finished(
        &self,
        _auth: AdminToken,
        query: OrderQuery,
        paging: Paging,
    ) -> ApiResult<Json<AcmeOrdersList>> {
        self.list_filtered(OrderFilter::finished(), query, paging)
            .await
    }

    /// One order.
    #[oai(
        path = "/acme-order/:id",
        method = "get",
        operation_id = "acme_order_focus"
    )]
    async fn order_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderAnswer>> {
        let order = self.0.orders().get(AcmeOrderId(id.0)).await?;
        Ok(Json(AcmeOrderAnswer::of(&order)))
    }

    /// The order's authorizations, as the server listed them.
    #[oai(
        path = "/acme-order/:id/acme-authorizations",
        method = "get",
        operation_id = "acme_order_acme_authorizations"
    )]
    async fn order_authorizations(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAuthorizationsList>> {
        let list = self.0.orders().authorizations(AcmeOrderId(id.0)).await?;
        Ok(Json(AcmeAuthorizationsList::whole(&list)))
    }

    /// The order's ACME exchanges, oldest first.
    #[oai(
        path = "/acme-order/:id/acme-event-logs",
        method = "get",
        operation_id = "acme_order_acme_event_logs"
    )]
    async fn order_events(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeEventLogsList>> {
        let list = self.0.orders().events(AcmeOrderId(id.0)).await?;
        Ok(Json(AcmeEventLogsList::whole(&list)))
    }

    /// Places an order (HTTP-01) and processes it per its strategy.
    /// Wildcard, blocklisted and invalid names are refused before anything
    /// is sent.
    #[oai(
        path = "/acme-order/new/freeform",
        method = "post",
        operation_id = "acme_order_new"
    )]
    async fn order_new(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<AcmeOrderNewFields>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let f = body.into_inner();
        let mut request = OrderRequest::for_names(
            &f.domain_names,
            f.acme_account_id.map(AcmeAccountId),
            strategy(f.processing_strategy),
        );
        request.private_key_cycle = f.private_key_cycle.map(|c| c.0);
        request.private_key_id = f.private_key_id.map(PrivateKeyId);
        request.profile = f.profile.filter(|p| !p.is_empty());
        let changed = self.0.orders().create(request).await?;
        Ok(answer(
            "new",
            &changed.value,
            None,
            Some(&changed.publication),
        ))
    }

    /// Processes the order: to the end (`steps=all`, default) or one step.
    #[oai(
        path = "/acme-order/:id/acme-process",
        method = "post",
        operation_id = "acme_order_process"
    )]
    async fn order_process(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: JsonOrForm<AcmeProcessFields>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let steps = body
            .into_inner()
            .steps
            .map(|s| s.0)
            .unwrap_or(ProcessSteps::All);
        let changed = self.0.orders().process(AcmeOrderId(id.0), steps).await?;
        Ok(stepped("acme-process", changed))
    }

    /// Sends the CSR (for an order that is ready).
    #[oai(
        path = "/acme-order/:id/acme-finalize",
        method = "post",
        operation_id = "acme_order_finalize"
    )]
    async fn order_finalize(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let changed = self.0.orders().finalize(AcmeOrderId(id.0)).await?;
        Ok(stepped("acme-finalize", changed))
    }

    /// Reads the order from the server.
    #[oai(
        path = "/acme-order/:id/acme-server/sync",
        method = "post",
        operation_id = "acme_order_sync"
    )]
    async fn order_sync(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let order = self.0.orders().sync(AcmeOrderId(id.0)).await?;
        Ok(answer("acme-server/sync", &order, None, None))
    }

    /// Reads each of the order's authorizations from the server.
    #[oai(
        path = "/acme-order/:id/acme-server/sync-authorizations",
        method = "post",
        operation_id = "acme_order_sync_authorizations"
    )]
    async fn order_sync_authorizations(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let id = AcmeOrderId(id.0);
        self.0.orders().sync_authorizations(id).await?;
        let order = self.0.orders().get(id).await?;
        Ok(answer(
            "acme-server/sync-authorizations",
            &order,
            None,
            None,
        ))
    }

    /// Deactivates the order's pending authorizations at the server.
    #[oai(
        path = "/acme-order/:id/acme-server/deactivate-authorizations",
        method = "post",
        operation_id = "acme_order_deactivate_authorizations"
    )]
    async fn order_deactivate_authorizations(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let id = AcmeOrderId(id.0);
        self.0.orders().deactivate_authorizations(id).await?;
        let order = self.0.orders().get(id).await?;
        Ok(answer(
            "acme-server/deactivate-authorizations",
            &order,
            None,
            None,
        ))
    }

    /// Downloads and records the certificate of a valid order.
    #[oai(
        path = "/acme-order/:id/acme-server/download-certificate",
        method = "post",
        operation_id = "acme_order_download_certificate"
    )]
    async fn order_download(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let changed = self.0.orders().download(AcmeOrderId(id.0)).await?;
        Ok(stepped("acme-server/download-certificate", changed))
    }

    /// Places a new order like a failed one.
    #[oai(
        path = "/acme-order/:id/retry",
        method = "post",
        operation_id = "acme_order_retry"
    )]
    async fn order_retry(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: JsonOrForm<StrategyFields>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let s = strategy(body.into_inner().processing_strategy);
        let changed = self.0.orders().retry(AcmeOrderId(id.0), s).await?;
        Ok(answer(
            "retry",
            &changed.value,
            None,
            Some(&changed.publication),
        ))
    }

    /// Renews the order's certificate with the same account and names
    /// (naming it in `replaces` when the server offers ARI).
    #[oai(
        path = "/acme-order/:id/renew/quick",
        method = "post",
        operation_id = "acme_order_renew_quick"
    )]
    async fn order_renew(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: JsonOrForm<StrategyFields>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let s = strategy(body.into_inner().processing_strategy);
        let changed = self.0.orders().renew_quick(AcmeOrderId(id.0), s).await?;
        Ok(answer(
            "renew/quick",
            &changed.value,
            None,
            Some(&changed.publication),
        ))
    }

    /// Marks an order `invalid` or `deactivate` (stops processing it).
    #[oai(
        path = "/acme-order/:id/mark",
        method = "post",
        operation_id = "acme_order_mark"
    )]
    async fn order_mark(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: JsonOrForm<AcmeOrderMarkFields>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let order = self
            .0
            .orders()
            .mark(AcmeOrderId(id.0), body.into_inner().action.0)
            .await?;
        Ok(answer("mark", &order, None, None))
    }
}
