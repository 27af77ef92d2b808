//! ACME servers and accounts.

use peter_core::app::{AccountRequest, Peter};
use peter_core::model::rules::AccountMark;
use peter_core::model::*;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;

use super::ApiTags;
use super::answer::*;
use super::auth::AdminToken;
use super::body::JsonOrForm;
use crate::views::*;
use crate::wire::{Paging, Wire, empty_as_none};

/// A new ACME server.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeServerNewFields {
    /// A short unique name.
    pub name: String,
    /// The directory URL.
    pub directory_url: String,
    /// PEM bundle trusted for the server's TLS (test CAs).
    #[serde(default)]
    pub ca_bundle_pem: Option<String>,
    /// Make it the default server.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub is_default: Option<bool>,
}

/// A new account, registered with its server.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeAccountNewFields {
    /// The server (default: the default server).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub acme_server_id: Option<i64>,
    /// Contact email.
    #[serde(default)]
    pub contact: Option<String>,
    /// Key technology for certificates it orders (default `EC_P256`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub private_key_technology: Option<Wire<KeyTechnology>>,
    /// Key cycle for certificates it orders (default `single_use`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub private_key_cycle: Option<Wire<PrivateKeyCycle>>,
    /// Make it the global default account.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub global_default: Option<bool>,
}

/// An account key upload (P-256; it is registered with the server).
#[derive(Debug, Object, Deserialize)]
pub struct AcmeAccountUploadFields {
    /// The server (default: the default server).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub acme_server_id: Option<i64>,
    /// The account key, PEM.
    pub account_key_file_pem: String,
    /// Contact email.
    #[serde(default)]
    pub contact: Option<String>,
}

/// An account mark.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeAccountMarkFields {
    /// The mark (deactivation is `acme-server/deactivate`).
    pub action: Wire<AccountMark>,
}

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

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|c| !c.trim().is_empty())
}

/// ACME server and account routes.
pub struct AccountsApi(pub Peter);

#[OpenApi(tag = "ApiTags::AcmeAccount")]
impl AccountsApi {
    /// ACME servers.
    #[oai(
        path = "/acme-servers",
        method = "get",
        operation_id = "acme_server_list"
    )]
    async fn server_list(&self, _auth: AdminToken) -> ApiResult<Json<AcmeServersList>> {
        let servers = self.0.acme_servers().list().await?;
        Ok(Json(AcmeServersList::whole(&servers)))
    }

    /// One ACME server.
    #[oai(
        path = "/acme-server/:id",
        method = "get",
        operation_id = "acme_server_focus"
    )]
    async fn server_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeServerAnswer>> {
        let server = self.0.acme_servers().get(AcmeServerId(id.0)).await?;
        Ok(Json(AcmeServerAnswer::of(&server)))
    }

    /// Records an ACME server (name, http(s) directory URL, CA bundle checked).
    #[oai(
        path = "/acme-server/new",
        method = "post",
        operation_id = "acme_server_new"
    )]
    async fn server_new(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<AcmeServerNewFields>,
    ) -> ApiResult<Json<AcmeServerAnswer>> {
        let f = body.into_inner();
        let server = self
            .0
            .acme_servers()
            .add(NewAcmeServer {
                name: f.name,
                directory_url: f.directory_url,
                ca_bundle_pem: non_empty(f.ca_bundle_pem),
                is_default: f.is_default.unwrap_or(false),
            })
            .await?;
        Ok(Json(AcmeServerAnswer::of(&server)))
    }

    /// ACME accounts.
    #[oai(
        path = "/acme-accounts",
        method = "get",
        operation_id = "acme_account_list"
    )]
    async fn account_list(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<AcmeAccountsList>> {
        let paged = self.0.accounts().list(paging.page()).await?;
        Ok(Json(AcmeAccountsList::of(&paged)))
    }

    /// One ACME account.
    #[oai(
        path = "/acme-account/:id",
        method = "get",
        operation_id = "acme_account_focus"
    )]
    async fn account_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let account = self.0.accounts().get(AcmeAccountId(id.0)).await?;
        Ok(Json(AcmeAccountAnswer::of(&account)))
    }

    /// The account's active key (`key.key` is PKCS#8 DER).
    #[oai(
        path = "/acme-account/:id/:file",
        method = "get",
        operation_id = "acme_account_key_file"
    )]
    async fn account_key_file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        file: Path<Wire<KeyFile>>,
    ) -> ApiResult<FileDownload<KeyFile>> {
        let d = self
            .0
            .accounts()
            .key_download(AcmeAccountId(id.0), file.0.0)
            .await?;
        Ok(FileDownload::new(d))
    }

    /// Orders placed with the account, newest first.
    #[oai(
        path = "/acme-account/:id/acme-orders",
        method = "get",
        operation_id = "acme_account_acme_orders"
    )]
    async fn account_orders(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        paging: Paging,
    ) -> ApiResult<Json<AcmeOrdersList>> {
        let paged = self
            .0
            .accounts()
            .orders(AcmeAccountId(id.0), paging.page())
            .await?;
        Ok(Json(AcmeOrdersList::of(&paged)))
    }

    /// Creates an account with a new key and registers it (terms agreed).
    #[oai(
        path = "/acme-account/new",
        method = "post",
        operation_id = "acme_account_new"
    )]
    async fn account_new(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<AcmeAccountNewFields>,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let f = body.into_inner();
        let mut request = AccountRequest {
            acme_server_id: f.acme_server_id.map(AcmeServerId),
            contact: non_empty(f.contact),
            global_default: f.global_default.unwrap_or(false),
            ..AccountRequest::default()
        };
        if let Some(t) = f.private_key_technology {
            request.private_key_technology = t.0;
        }
        if let Some(c) = f.private_key_cycle {
            request.private_key_cycle = c.0;
        }
        let account = self.0.accounts().create(request).await?;
        Ok(Json(AcmeAccountAnswer::of(&account)))
    }

    /// Registers an uploaded account key with the server (terms agreed); a
    /// key the server already knows gets its existing account.
    #[oai(
        path = "/acme-account/upload",
        method = "post",
        operation_id = "acme_account_upload"
    )]
    async fn account_upload(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<AcmeAccountUploadFields>,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let f = body.into_inner();
        let account = self
            .0
            .accounts()
            .upload(
                f.acme_server_id.map(AcmeServerId),
                &f.account_key_file_pem,
                non_empty(f.contact),
            )
            .await?;
        Ok(Json(AcmeAccountAnswer::of(&account)))
    }

    /// Marks an account: `global_default`.
    #[oai(
        path = "/acme-account/:id/mark",
        method = "post",
        operation_id = "acme_account_mark"
    )]
    async fn account_mark(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: JsonOrForm<AcmeAccountMarkFields>,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let account = self
            .0
            .accounts()
            .mark(AcmeAccountId(id.0), body.into_inner().action.0)
            .await?;
        Ok(Json(AcmeAccountAnswer::of(&account)))
    }

    /// Asks the server whether it knows the account (onlyReturnExisting).
    #[oai(
        path = "/acme-account/:id/acme-server/check",
        method = "post",
        operation_id = "acme_account_check"
    )]
    async fn account_check(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAccountCheckAnswer>> {
        let id = AcmeAccountId(id.0);
        let existing = self.0.accounts().check(id).await?;
        let account = self.0.accounts().get(id).await?;
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
        operation_id = "acme_account_deactivate"
    )]
    async fn account_deactivate(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let account = self.0.accounts().deactivate(AcmeAccountId(id.0)).await?;
        Ok(Json(AcmeAccountAnswer::of(&account)))
    }

    /// Rolls the account over to a new key generated here.
    #[oai(
        path = "/acme-account/:id/acme-server/key-change",
        method = "post",
        operation_id = "acme_account_key_change"
    )]
    async fn account_key_change(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let account = self.0.accounts().change_key(AcmeAccountId(id.0)).await?;
        Ok(Json(AcmeAccountAnswer::of(&account)))
    }
}
