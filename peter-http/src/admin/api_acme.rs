//! ACME servers, accounts, orders, authorizations, challenges and polls,
//! with the actions that talk to the ACME server.

use peter_core::formats::ParsedPrivateKey;
use peter_core::model::rules::OrderMark;
use peter_core::model::*;
use peter_core::ports::OrderFilter;
use peter_core::services::accounts::{self, AccountRequest};
use peter_core::services::downloads;
use peter_core::services::orders::{OrderRequest, Step};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;

use super::answer::*;
use super::api_misc::KeyFile;
use super::auth::AdminToken;
use super::body::json_or_form;
use super::views::*;
use super::{AdminState, ApiTags};

list_answer!(AcmeServersList, "AcmeServers", AcmeServerView);
object_answer!(AcmeServerAnswer, "AcmeServer", AcmeServerView);
list_answer!(AcmeAccountsList, "AcmeAccounts", AcmeAccountView);
object_answer!(AcmeAccountAnswer, "AcmeAccount", AcmeAccountView);
list_answer!(AcmeOrdersList, "AcmeOrders", AcmeOrderView);
object_answer!(AcmeOrderAnswer, "AcmeOrder", AcmeOrderView);
list_answer!(
    AcmeAuthorizationsList,
    "AcmeAuthorizations",
    AcmeAuthorizationView
);
object_answer!(
    AcmeAuthorizationAnswer,
    "AcmeAuthorization",
    AcmeAuthorizationView
);
list_answer!(AcmeChallengesList, "AcmeChallenges", AcmeChallengeView);
object_answer!(AcmeChallengeAnswer, "AcmeChallenge", AcmeChallengeView);
list_answer!(
    AcmeChallengePollsList,
    "AcmeChallengePolls",
    AcmeChallengePollView
);
list_answer!(
    AcmeChallengeUnknownPollsList,
    "AcmeChallengeUnknownPolls",
    AcmeChallengeUnknownPollView
);
list_answer!(AcmeEventLogsForOrder, "AcmeEventLogs", AcmeEventLogView);

/// A new ACME server.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeServerNewFields {
    /// A short unique name.
    pub name: String,
    /// The directory URL.
    pub directory_url: String,
    /// PEM bundle trusted for the server's TLS (test CAs).
    #[serde(default)]
    #[oai(nullable)]
    pub ca_bundle_pem: Option<String>,
    /// Make it the default server.
    #[serde(default)]
    #[oai(nullable)]
    pub is_default: Option<bool>,
}
json_or_form!(AcmeServerNewBody, AcmeServerNewFields);

/// A new account, registered with its server.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeAccountNewFields {
    /// The server (default: the default server).
    #[serde(default)]
    #[oai(nullable)]
    pub acme_server_id: Option<i64>,
    /// Contact email.
    #[serde(default)]
    #[oai(nullable)]
    pub contact: Option<String>,
    /// Key technology for certificates it orders (default `EC_P256`).
    #[serde(default)]
    #[oai(nullable)]
    pub private_key_technology: Option<String>,
    /// Key cycle for certificates it orders (default `single_use`).
    #[serde(default)]
    #[oai(nullable)]
    pub private_key_cycle: Option<String>,
    /// Make it the global default account.
    #[serde(default)]
    #[oai(nullable)]
    pub global_default: Option<bool>,
}
json_or_form!(AcmeAccountNewBody, AcmeAccountNewFields);

/// An account key upload (P-256; instant-acme signs with ES256).
#[derive(Debug, Object, Deserialize)]
pub struct AcmeAccountUploadFields {
    /// The server (default: the default server).
    #[serde(default)]
    #[oai(nullable)]
    pub acme_server_id: Option<i64>,
    /// The account key, PEM.
    pub account_key_file_pem: String,
    /// Contact email.
    #[serde(default)]
    #[oai(nullable)]
    pub contact: Option<String>,
}
json_or_form!(AcmeAccountUploadBody, AcmeAccountUploadFields);

/// An account mark.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeAccountMarkFields {
    /// `global_default`.
    pub action: String,
}
json_or_form!(AcmeAccountMarkBody, AcmeAccountMarkFields);

/// An account check's answer.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct AcmeAccountCheckAnswer {
    /// Always `success`.
    pub result: String,
    /// The account.
    pub AcmeAccount: AcmeAccountView,
    /// Whether the server knows the account.
    pub is_existing: bool,
}

/// A new order.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeOrderNewFields {
    /// Names, separated by commas or spaces (HTTP-01).
    pub domain_names: String,
    /// The ordering account (default: the global default account).
    #[serde(default)]
    #[oai(nullable)]
    pub acme_account_id: Option<i64>,
    /// `create_order`, `process_single` (default) or `process_multi`.
    #[serde(default)]
    #[oai(nullable)]
    pub processing_strategy: Option<String>,
    /// Key cycle (default: the account's).
    #[serde(default)]
    #[oai(nullable)]
    pub private_key_cycle: Option<String>,
    /// A recorded key to use instead of cycling.
    #[serde(default)]
    #[oai(nullable)]
    pub private_key_id: Option<i64>,
    /// ACME profile (must be offered by the server).
    #[serde(default)]
    #[oai(nullable)]
    pub profile: Option<String>,
}
json_or_form!(AcmeOrderNewBody, AcmeOrderNewFields);

/// How far to process.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeProcessFields {
    /// `all` (default: until the certificate or a failure) or `one` step.
    #[serde(default)]
    #[oai(nullable)]
    pub steps: Option<String>,
}
json_or_form!(AcmeProcessBody, AcmeProcessFields);

/// A processing strategy for retries and renewals.
#[derive(Debug, Object, Deserialize)]
pub struct StrategyFields {
    /// `create_order`, `process_single` (default) or `process_multi`.
    #[serde(default)]
    #[oai(nullable)]
    pub processing_strategy: Option<String>,
}
json_or_form!(StrategyBody, StrategyFields);

/// An order mark.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeOrderMarkFields {
    /// `invalid` or `deactivate`.
    pub action: String,
}
json_or_form!(AcmeOrderMarkBody, AcmeOrderMarkFields);

/// An order after an action.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct AcmeOrderActionAnswer {
    /// Always `success`.
    pub result: String,
    /// The action.
    pub operation: String,
    /// The step taken, when one was.
    #[oai(skip_serializing_if_is_none)]
    pub step: Option<String>,
    /// The order.
    pub AcmeOrder: AcmeOrderView,
}

fn strategy(s: Option<&str>) -> ApiResult<AcmeOrderProcessingStrategy> {
    match s {
        None | Some("") => Ok(AcmeOrderProcessingStrategy::ProcessSingle),
        Some(s) => Ok(s.parse().map_err(peter_core::Error::from)?),
    }
}

fn step_name(step: Step) -> String {
    serde_json::to_value(step)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl AcmeApi {
    async fn order_answer(
        &self,
        id: AcmeOrderId,
        operation: &str,
        step: Option<Step>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let order = self.0.store.acme_order(id).await?;
        // Only the steps that can record a certificate refresh caches.
        const ISSUING: &[&str] = &[
            "new",
            "acme-process",
            "acme-finalize",
            "acme-server/download-certificate",
            "retry",
            "renew/quick",
        ];
        if let Some(cert) = order
            .certificate_signed_id
            .filter(|_| ISSUING.contains(&operation))
        {
            self.0.after_certificate_change(cert).await;
        }
        Ok(Json(AcmeOrderActionAnswer {
            result: "success".into(),
            operation: operation.into(),
            step: step.map(step_name),
            AcmeOrder: (&order).into(),
        }))
    }
}

/// ACME routes.
pub struct AcmeApi(pub AdminState);

#[OpenApi]
impl AcmeApi {
    /// ACME servers.
    #[oai(
        path = "/acme-servers",
        method = "get",
        operation_id = "acme_server_list",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn server_list(&self, _auth: AdminToken) -> ApiResult<Json<AcmeServersList>> {
        Ok(Json(AcmeServersList::whole(
            &self.0.store.list_acme_servers().await?,
        )))
    }

    /// One ACME server.
    #[oai(
        path = "/acme-server/:id",
        method = "get",
        operation_id = "acme_server_focus",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn server_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeServerAnswer>> {
        Ok(AcmeServerAnswer::of(
            &self.0.store.acme_server(AcmeServerId(id.0)).await?,
        ))
    }

    /// Records an ACME server; its directory is read first, so a wrong URL
    /// is refused.
    #[oai(
        path = "/acme-server/new",
        method = "post",
        operation_id = "acme_server_new",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn server_new(
        &self,
        _auth: AdminToken,
        body: AcmeServerNewBody,
    ) -> ApiResult<Json<AcmeServerAnswer>> {
        let f = body.into_inner();
        let server = accounts::add_acme_server(
            self.0.store.as_ref(),
            NewAcmeServer {
                name: f.name,
                directory_url: f.directory_url,
                ca_bundle_pem: f.ca_bundle_pem.filter(|b| !b.trim().is_empty()),
                is_default: f.is_default.unwrap_or(false),
            },
        )
        .await?;
        Ok(AcmeServerAnswer::of(&server))
    }

    /// ACME accounts.
    #[oai(
        path = "/acme-accounts",
        method = "get",
        operation_id = "acme_account_list",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn account_list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<AcmeAccountsList>> {
        let paged = self
            .0
            .store
            .list_acme_accounts(super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(AcmeAccountsList::of(&paged)))
    }

    /// One ACME account.
    #[oai(
        path = "/acme-account/:id",
        method = "get",
        operation_id = "acme_account_focus",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn account_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        Ok(AcmeAccountAnswer::of(
            &self.0.store.acme_account(AcmeAccountId(id.0)).await?,
        ))
    }

    /// The account's active key (`key.key` is PKCS#8 DER).
    #[oai(
        path = "/acme-account/:id/:file",
        method = "get",
        operation_id = "acme_account_key_file",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn account_key_file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        file: Path<KeyFile>,
    ) -> ApiResult<FileDownload> {
        let account = self.0.store.acme_account(AcmeAccountId(id.0)).await?;
        FileDownload::from_download(downloads::key_download(
            &account.key.key_pem,
            file.0.name(),
        )?)
    }

    /// Orders placed with the account, newest first.
    #[oai(
        path = "/acme-account/:id/acme-orders",
        method = "get",
        operation_id = "acme_account_acme_orders",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn account_orders(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<AcmeOrdersList>> {
        let account = self.0.store.acme_account(AcmeAccountId(id.0)).await?;
        let paged = self
            .0
            .store
            .list_acme_orders(
                OrderFilter::Account(account.id),
                super::answer::page(page.0, per_page.0),
            )
            .await?;
        Ok(Json(AcmeOrdersList::of(&paged)))
    }

    /// Creates an account with a new key and registers it (terms agreed).
    #[oai(
        path = "/acme-account/new",
        method = "post",
        operation_id = "acme_account_new",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn account_new(
        &self,
        _auth: AdminToken,
        body: AcmeAccountNewBody,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let f = body.into_inner();
        let mut request = AccountRequest {
            acme_server_id: f.acme_server_id.map(AcmeServerId),
            contact: f.contact.filter(|c| !c.trim().is_empty()),
            global_default: f.global_default.unwrap_or(false),
            ..AccountRequest::default()
        };
        if let Some(t) = f
            .private_key_technology
            .as_deref()
            .filter(|t| !t.is_empty())
        {
            request.private_key_technology = t.parse().map_err(peter_core::Error::from)?;
        }
        if let Some(c) = f.private_key_cycle.as_deref().filter(|c| !c.is_empty()) {
            request.private_key_cycle = c.parse().map_err(peter_core::Error::from)?;
        }
        let account =
            accounts::create_account(self.0.store.as_ref(), self.0.acme.as_ref(), request).await?;
        Ok(AcmeAccountAnswer::of(&account))
    }

    /// Records an uploaded account key and registers it with the server
    /// (terms agreed); a key the server already knows gets its existing account.
    #[oai(
        path = "/acme-account/upload",
        method = "post",
        operation_id = "acme_account_upload",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn account_upload(
        &self,
        _auth: AdminToken,
        body: AcmeAccountUploadBody,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let f = body.into_inner();
        let key = ParsedPrivateKey::from_pem(&f.account_key_file_pem)
            .map_err(|e| ApiError::invalid("account_key_file_pem", e.to_string()))?;
        let request = AccountRequest {
            acme_server_id: f.acme_server_id.map(AcmeServerId),
            contact: f.contact.filter(|c| !c.trim().is_empty()),
            key: Some(key),
            ..AccountRequest::default()
        };
        let account =
            accounts::create_account(self.0.store.as_ref(), self.0.acme.as_ref(), request).await?;
        Ok(AcmeAccountAnswer::of(&account))
    }

    /// Marks an account: `global_default`.
    #[oai(
        path = "/acme-account/:id/mark",
        method = "post",
        operation_id = "acme_account_mark",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn account_mark(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: AcmeAccountMarkBody,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let f = body.into_inner();
        match f.action.as_str() {
            "global_default" => {
                let a = self
                    .0
                    .store
                    .set_global_default_acme_account(AcmeAccountId(id.0))
                    .await?;
                Ok(AcmeAccountAnswer::of(&a))
            }
            other => Err(ApiError::invalid(
                "action",
                format!(
                    "`{other}` is not one of global_default (deactivation is acme-server/deactivate)"
                ),
            )),
        }
    }

    /// Asks the server whether it knows the account (onlyReturnExisting).
    #[oai(
        path = "/acme-account/:id/acme-server/check",
        method = "post",
        operation_id = "acme_account_check",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn account_check(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAccountCheckAnswer>> {
        let id = AcmeAccountId(id.0);
        let existing =
            accounts::check_account(self.0.store.as_ref(), self.0.acme.as_ref(), id).await?;
        let account = self.0.store.acme_account(id).await?;
        Ok(Json(AcmeAccountCheckAnswer {
            result: "success".into(),
            AcmeAccount: (&account).into(),
            is_existing: existing,
        }))
    }

    /// Deactivates the account at its server (permanent).
    #[oai(
        path = "/acme-account/:id/acme-server/deactivate",
        method = "post",
        operation_id = "acme_account_deactivate",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn account_deactivate(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let a = accounts::deactivate_account(
            self.0.store.as_ref(),
            self.0.acme.as_ref(),
            AcmeAccountId(id.0),
        )
        .await?;
        Ok(AcmeAccountAnswer::of(&a))
    }

    /// Rolls the account over to a new key generated here.
    #[oai(
        path = "/acme-account/:id/acme-server/key-change",
        method = "post",
        operation_id = "acme_account_key_change",
        tag = "ApiTags::AcmeAccount"
    )]
    async fn account_key_change(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let a = accounts::change_account_key(
            self.0.store.as_ref(),
            self.0.acme.as_ref(),
            AcmeAccountId(id.0),
        )
        .await?;
        Ok(AcmeAccountAnswer::of(&a))
    }

    /// Every order, newest first.
    #[oai(
        path = "/acme-orders",
        method = "get",
        operation_id = "acme_order_list",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<AcmeOrdersList>> {
        let paged = self
            .0
            .store
            .list_acme_orders(OrderFilter::All, super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(AcmeOrdersList::of(&paged)))
    }

    /// Orders still in progress (pending, ready, processing).
    #[oai(
        path = "/acme-orders/active",
        method = "get",
        operation_id = "acme_order_list_active",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_list_active(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<AcmeOrdersList>> {
        let paged = self
            .0
            .store
            .list_acme_orders(OrderFilter::Active, super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(AcmeOrdersList::of(&paged)))
    }

    /// Finished orders (valid, invalid).
    #[oai(
        path = "/acme-orders/finished",
        method = "get",
        operation_id = "acme_order_list_finished",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_list_finished(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<AcmeOrdersList>> {
        let paged = self
            .0
            .store
            .list_acme_orders(
                OrderFilter::Finished,
                super::answer::page(page.0, per_page.0),
            )
            .await?;
        Ok(Json(AcmeOrdersList::of(&paged)))
    }

    /// One order.
    #[oai(
        path = "/acme-order/:id",
        method = "get",
        operation_id = "acme_order_focus",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderAnswer>> {
        Ok(AcmeOrderAnswer::of(
            &self.0.store.acme_order(AcmeOrderId(id.0)).await?,
        ))
    }

    /// The order's authorizations, as the server listed them.
    #[oai(
        path = "/acme-order/:id/acme-authorizations",
        method = "get",
        operation_id = "acme_order_acme_authorizations",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_authorizations(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAuthorizationsList>> {
        let list = self
            .0
            .store
            .acme_authorizations_for_order(AcmeOrderId(id.0))
            .await?;
        if list.is_empty() {
            self.0.store.acme_order(AcmeOrderId(id.0)).await?;
        }
        Ok(Json(AcmeAuthorizationsList::whole(&list)))
    }

    /// The order's ACME exchanges, oldest first.
    #[oai(
        path = "/acme-order/:id/acme-event-logs",
        method = "get",
        operation_id = "acme_order_acme_event_logs",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_events(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeEventLogsForOrder>> {
        let order = self.0.store.acme_order(AcmeOrderId(id.0)).await?;
        Ok(Json(AcmeEventLogsForOrder::whole(
            &self.0.store.acme_events_for_order(order.id).await?,
        )))
    }

    /// Places an order (HTTP-01) and processes it per its strategy.
    /// Wildcard, blocklisted and invalid names are refused before anything
    /// is sent.
    #[oai(
        path = "/acme-order/new/freeform",
        method = "post",
        operation_id = "acme_order_new",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_new(
        &self,
        _auth: AdminToken,
        body: AcmeOrderNewBody,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let f = body.into_inner();
        let account = accounts::account_or_global_default(
            self.0.store.as_ref(),
            f.acme_account_id.map(AcmeAccountId),
        )
        .await?;
        let names = peter_core::services::domains::split_names(&f.domain_names);
        if names.is_empty() {
            return Err(ApiError::invalid("domain_names", "found no domain names"));
        }
        let mut request =
            OrderRequest::new(account, names, strategy(f.processing_strategy.as_deref())?);
        if let Some(c) = f.private_key_cycle.as_deref().filter(|c| !c.is_empty()) {
            request.private_key_cycle = Some(c.parse().map_err(peter_core::Error::from)?);
        }
        request.private_key_id = f.private_key_id.map(PrivateKeyId);
        request.profile = f.profile.filter(|p| !p.is_empty());
        let order = self.0.orders().create(request).await?;
        self.order_answer(order.id, "new", None).await
    }

    /// Processes the order: to the end (`steps=all`, default) or one step.
    #[oai(
        path = "/acme-order/:id/acme-process",
        method = "post",
        operation_id = "acme_order_process",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_process(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: AcmeProcessBody,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let id = AcmeOrderId(id.0);
        match body.into_inner().steps.as_deref() {
            Some("one") => {
                let step = self.0.orders().process_step(id).await?;
                self.order_answer(id, "acme-process", Some(step)).await
            }
            None | Some("") | Some("all") => {
                self.0.orders().process_to_end(id).await?;
                self.order_answer(id, "acme-process", None).await
            }
            Some(other) => Err(ApiError::invalid(
                "steps",
                format!("`{other}` is not one of all, one"),
            )),
        }
    }

    /// Sends the CSR (for an order that is ready).
    #[oai(
        path = "/acme-order/:id/acme-finalize",
        method = "post",
        operation_id = "acme_order_finalize",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_finalize(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let id = AcmeOrderId(id.0);
        let step = self.0.orders().finalize(id).await?;
        self.order_answer(id, "acme-finalize", Some(step)).await
    }

    /// Reads the order from the server.
    #[oai(
        path = "/acme-order/:id/acme-server/sync",
        method = "post",
        operation_id = "acme_order_sync",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_sync(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let order = self.0.orders().sync_order(AcmeOrderId(id.0)).await?;
        self.order_answer(order.id, "acme-server/sync", None).await
    }

    /// Reads each of the order's authorizations from the server.
    #[oai(
        path = "/acme-order/:id/acme-server/sync-authorizations",
        method = "post",
        operation_id = "acme_order_sync_authorizations",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_sync_authorizations(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let id = AcmeOrderId(id.0);
        self.0.orders().sync_authorizations(id).await?;
        self.order_answer(id, "acme-server/sync-authorizations", None)
            .await
    }

    /// Deactivates the order's pending authorizations at the server.
    #[oai(
        path = "/acme-order/:id/acme-server/deactivate-authorizations",
        method = "post",
        operation_id = "acme_order_deactivate_authorizations",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_deactivate_authorizations(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let id = AcmeOrderId(id.0);
        self.0.orders().deactivate_authorizations(id).await?;
        self.order_answer(id, "acme-server/deactivate-authorizations", None)
            .await
    }

    /// Downloads and records the certificate of a valid order.
    #[oai(
        path = "/acme-order/:id/acme-server/download-certificate",
        method = "post",
        operation_id = "acme_order_download_certificate",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_download(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let id = AcmeOrderId(id.0);
        let step = self.0.orders().download(id).await?;
        self.order_answer(id, "acme-server/download-certificate", Some(step))
            .await
    }

    /// Places a new order like a failed one.
    #[oai(
        path = "/acme-order/:id/retry",
        method = "post",
        operation_id = "acme_order_retry",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_retry(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: StrategyBody,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let s = strategy(body.into_inner().processing_strategy.as_deref())?;
        let order = self.0.orders().retry(AcmeOrderId(id.0), s).await?;
        self.order_answer(order.id, "retry", None).await
    }

    /// Renews the order's certificate with the same account and names
    /// (naming it in `replaces` when the server offers ARI).
    #[oai(
        path = "/acme-order/:id/renew/quick",
        method = "post",
        operation_id = "acme_order_renew_quick",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_renew(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: StrategyBody,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let s = strategy(body.into_inner().processing_strategy.as_deref())?;
        let order = self.0.orders().renew_order(AcmeOrderId(id.0), s).await?;
        self.order_answer(order.id, "renew/quick", None).await
    }

    /// Marks an order `invalid` or `deactivate` (stops processing it).
    #[oai(
        path = "/acme-order/:id/mark",
        method = "post",
        operation_id = "acme_order_mark",
        tag = "ApiTags::AcmeOrder"
    )]
    async fn order_mark(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: AcmeOrderMarkBody,
    ) -> ApiResult<Json<AcmeOrderActionAnswer>> {
        let f = body.into_inner();
        let mark: OrderMark = f.action.parse().map_err(|_| {
            ApiError::invalid(
                "action",
                format!("`{}` is not one of invalid, deactivate", f.action),
            )
        })?;
        let order = self.0.orders().mark(AcmeOrderId(id.0), mark).await?;
        self.order_answer(order.id, "mark", None).await
    }

    /// Authorizations, newest first.
    #[oai(
        path = "/acme-authorizations",
        method = "get",
        operation_id = "acme_authorization_list",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn authz_list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<AcmeAuthorizationsList>> {
        let paged = self
            .0
            .store
            .list_acme_authorizations(None, super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(AcmeAuthorizationsList::of(&paged)))
    }

    /// One authorization.
    #[oai(
        path = "/acme-authorization/:id",
        method = "get",
        operation_id = "acme_authorization_focus",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn authz_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAuthorizationAnswer>> {
        Ok(AcmeAuthorizationAnswer::of(
            &self
                .0
                .store
                .acme_authorization(AcmeAuthorizationId(id.0))
                .await?,
        ))
    }

    /// The authorization's challenges.
    #[oai(
        path = "/acme-authorization/:id/acme-challenges",
        method = "get",
        operation_id = "acme_authorization_acme_challenges",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn authz_challenges(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeChallengesList>> {
        let authz = self
            .0
            .store
            .acme_authorization(AcmeAuthorizationId(id.0))
            .await?;
        Ok(Json(AcmeChallengesList::whole(
            &self
                .0
                .store
                .acme_challenges_for_authorization(authz.id)
                .await?,
        )))
    }

    /// Reads the authorization from the server.
    #[oai(
        path = "/acme-authorization/:id/acme-server/sync",
        method = "post",
        operation_id = "acme_authorization_sync",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn authz_sync(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAuthorizationAnswer>> {
        Ok(AcmeAuthorizationAnswer::of(
            &self
                .0
                .orders()
                .sync_authorization(AcmeAuthorizationId(id.0))
                .await?,
        ))
    }

    /// Deactivates the authorization at the server.
    #[oai(
        path = "/acme-authorization/:id/acme-server/deactivate",
        method = "post",
        operation_id = "acme_authorization_deactivate",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn authz_deactivate(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAuthorizationAnswer>> {
        Ok(AcmeAuthorizationAnswer::of(
            &self
                .0
                .orders()
                .deactivate_authorization(AcmeAuthorizationId(id.0))
                .await?,
        ))
    }

    /// Challenges, newest first.
    #[oai(
        path = "/acme-challenges",
        method = "get",
        operation_id = "acme_challenge_list",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn challenge_list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<AcmeChallengesList>> {
        let paged = self
            .0
            .store
            .list_acme_challenges(None, super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(AcmeChallengesList::of(&paged)))
    }

    /// One challenge.
    #[oai(
        path = "/acme-challenge/:id",
        method = "get",
        operation_id = "acme_challenge_focus",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn challenge_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeChallengeAnswer>> {
        Ok(AcmeChallengeAnswer::of(
            &self.0.store.acme_challenge(AcmeChallengeId(id.0)).await?,
        ))
    }

    /// The fetches of the challenge peter answered.
    #[oai(
        path = "/acme-challenge/:id/acme-challenge-polls",
        method = "get",
        operation_id = "acme_challenge_polls",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn challenge_polls(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeChallengePollsList>> {
        let c = self.0.store.acme_challenge(AcmeChallengeId(id.0)).await?;
        Ok(Json(AcmeChallengePollsList::whole(
            &self.0.store.challenge_polls(c.id).await?,
        )))
    }

    /// Reads the challenge from the server.
    #[oai(
        path = "/acme-challenge/:id/acme-server/sync",
        method = "post",
        operation_id = "acme_challenge_sync",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn challenge_sync(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeChallengeAnswer>> {
        Ok(AcmeChallengeAnswer::of(
            &self
                .0
                .orders()
                .sync_challenge(AcmeChallengeId(id.0))
                .await?,
        ))
    }

    /// Tells the server the challenge is ready to be validated.
    #[oai(
        path = "/acme-challenge/:id/acme-server/trigger",
        method = "post",
        operation_id = "acme_challenge_trigger",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn challenge_trigger(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeChallengeAnswer>> {
        Ok(AcmeChallengeAnswer::of(
            &self
                .0
                .orders()
                .trigger_challenge(AcmeChallengeId(id.0))
                .await?,
        ))
    }

    /// Answered challenge fetches, newest first.
    #[oai(
        path = "/acme-challenge-polls",
        method = "get",
        operation_id = "acme_challenge_poll_list",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn poll_list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<AcmeChallengePollsList>> {
        let paged = self
            .0
            .store
            .list_acme_challenge_polls(super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(AcmeChallengePollsList::of(&paged)))
    }

    /// Challenge fetches peter had no answer for, newest first.
    #[oai(
        path = "/acme-challenge-unknown-polls",
        method = "get",
        operation_id = "acme_challenge_unknown_poll_list",
        tag = "ApiTags::AcmeAuthorization"
    )]
    async fn unknown_poll_list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<AcmeChallengeUnknownPollsList>> {
        let paged = self
            .0
            .store
            .list_unknown_challenge_polls(super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(AcmeChallengeUnknownPollsList::of(&paged)))
    }
}
