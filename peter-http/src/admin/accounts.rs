//! ACME servers and accounts.

use peter_core::app::{AccountEdit, AccountRequest, Peter, ServerEdit};
use peter_core::model::rules::AccountMark;
use peter_core::model::*;
use peter_core::ports::ExternalAccountBinding;
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
    /// Orders may name IP addresses (RFC 8738; off by default: no
    /// directory field says whether a CA takes them).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub ip_identifiers: Option<bool>,
}

/// Changes to an ACME server.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeServerEditFields {
    /// A new name (never all digits).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub name: Option<String>,
    /// A new PEM bundle to trust for the server's TLS.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub ca_bundle_pem: Option<String>,
    /// Drop the CA bundle and trust the public roots again.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub trust_public_roots: Option<bool>,
    /// Whether orders may name IP addresses (RFC 8738).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub ip_identifiers: Option<bool>,
}

/// Changes to an account.
#[derive(Debug, Object, Deserialize)]
pub struct AcmeAccountEditFields {
    /// New contact e-mail (an empty string removes it).
    #[serde(default)]
    pub contact: Option<String>,
    /// Key technology for certificates it orders.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub private_key_technology: Option<Wire<KeyTechnology>>,
    /// Key cycle for certificates it orders.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub private_key_cycle: Option<Wire<PrivateKeyCycle>>,
}

/// A new account, registered with its server.
#[derive(Object, Deserialize)]
pub struct AcmeAccountNewFields {
    /// The server (default: the default server).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub acme_server_id: Option<i64>,
    /// The server by name or id, instead of `acme_server_id`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub acme_server: Option<String>,
    /// Contact email.
    #[serde(default)]
    pub contact: Option<String>,
    /// Key technology for certificates it orders (default `EC_P256`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub private_key_technology: Option<Wire<KeyTechnology>>,
    /// Key cycle for certificates it orders (default `single_use`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub private_key_cycle: Option<Wire<PrivateKeyCycle>>,
    /// The technology of the account key itself: `EC_P256` (default) or an
    /// RSA size (signed RS256).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub account_key_technology: Option<Wire<KeyTechnology>>,
    /// Make it the global default account.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub global_default: Option<bool>,
    /// External account binding: the key id the CA issued (give with `eab_hmac_key`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub eab_kid: Option<String>,
    /// External account binding: the HMAC key the CA issued, base64url.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub eab_hmac_key: Option<String>,
}

impl std::fmt::Debug for AcmeAccountNewFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeAccountNewFields")
            .field("acme_server_id", &self.acme_server_id)
            .field("acme_server", &self.acme_server)
            .field("contact", &self.contact)
            .field("global_default", &self.global_default)
            .field("eab_kid", &self.eab_kid)
            .field(
                "eab_hmac_key",
                &self.eab_hmac_key.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// An account key upload (P-256; it is registered with the server).
#[derive(Debug, Object, Deserialize)]
pub struct AcmeAccountUploadFields {
    /// The server (default: the default server).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub acme_server_id: Option<i64>,
    /// The server by name or id, instead of `acme_server_id`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub acme_server: Option<String>,
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

/// The server a request names by id or by name (either field, not both).
async fn named_server(
    peter: &Peter,
    id: Option<i64>,
    reference: Option<String>,
) -> Result<Option<AcmeServerId>, peter_core::Error> {
    match (id, reference) {
        (Some(_), Some(_)) => Err(peter_core::Error::InvalidField {
            field: "acme_server",
            message: "give acme_server_id or acme_server, not both".into(),
        }),
        (Some(id), None) => Ok(Some(AcmeServerId(id))),
        (None, Some(reference)) => Ok(Some(peter.acme_servers().find(&reference).await?.id)),
        (None, None) => Ok(None),
    }
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

    /// One ACME server, by id or name.
    #[oai(
        path = "/acme-server/:id",
        method = "get",
        operation_id = "acme_server_focus"
    )]
    async fn server_focus(
        &self,
        _auth: AdminToken,
        /// The server's id or name.
        id: Path<String>,
    ) -> ApiResult<Json<AcmeServerAnswer>> {
        let server = self.0.acme_servers().find(&id.0).await?;
        Ok(Json(AcmeServerAnswer::of(&server)))
    }

    /// Renames a server or changes the CA bundle trusted for its TLS (a new
    /// bundle is tried against the directory first).
    #[oai(
        path = "/acme-server/:id/edit",
        method = "post",
        operation_id = "acme_server_edit"
    )]
    async fn server_edit(
        &self,
        _auth: AdminToken,
        /// The server's id or name.
        id: Path<String>,
        body: JsonOrForm<AcmeServerEditFields>,
    ) -> ApiResult<Json<AcmeServerAnswer>> {
        let f = body.into_inner();
        let servers = self.0.acme_servers();
        let server = servers.find(&id.0).await?;
        let ca_bundle_pem = match (f.ca_bundle_pem, f.trust_public_roots.unwrap_or(false)) {
            (Some(_), true) => {
                return Err(peter_core::Error::InvalidField {
                    field: "trust_public_roots",
                    message: "give a CA bundle or trust_public_roots, not both".into(),
                }
                .into());
            }
            (Some(pem), false) => Some(non_empty(Some(pem))),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let edited = servers
            .edit(
                server.id,
                ServerEdit {
                    name: non_empty(f.name),
                    ca_bundle_pem,
                    ip_identifiers: f.ip_identifiers,
                },
            )
            .await?;
        Ok(Json(AcmeServerAnswer::of(&edited)))
    }

    /// Reads the server's directory again and records what it offers.
    #[oai(
        path = "/acme-server/:id/check",
        method = "post",
        operation_id = "acme_server_check"
    )]
    async fn server_check(
        &self,
        _auth: AdminToken,
        /// The server's id or name.
        id: Path<String>,
    ) -> ApiResult<Json<AcmeServerAnswer>> {
        let servers = self.0.acme_servers();
        let server = servers.find(&id.0).await?;
        Ok(Json(AcmeServerAnswer::of(&servers.check(server.id).await?)))
    }

    /// Makes the server the default.
    #[oai(
        path = "/acme-server/:id/set-default",
        method = "post",
        operation_id = "acme_server_set_default"
    )]
    async fn server_set_default(
        &self,
        _auth: AdminToken,
        /// The server's id or name.
        id: Path<String>,
    ) -> ApiResult<Json<AcmeServerAnswer>> {
        let servers = self.0.acme_servers();
        let server = servers.find(&id.0).await?;
        Ok(Json(AcmeServerAnswer::of(
            &servers.set_default(server.id).await?,
        )))
    }

    /// Removes a server no account uses (409 otherwise); the default server
    /// only when it is the last one.
    #[oai(
        path = "/acme-server/:id/remove",
        method = "post",
        operation_id = "acme_server_remove"
    )]
    async fn server_remove(
        &self,
        _auth: AdminToken,
        /// The server's id or name.
        id: Path<String>,
    ) -> ApiResult<Json<AcmeServerAnswer>> {
        let servers = self.0.acme_servers();
        let server = servers.find(&id.0).await?;
        servers.remove(server.id).await?;
        Ok(Json(AcmeServerAnswer::of(&server)))
    }

    /// Records an ACME server: the name and URL (or a public CA's shortcut,
    /// such as `letsencrypt`) are checked and the directory is read at once;
    /// what it offers is recorded.
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
                ip_identifiers: f.ip_identifiers.unwrap_or(false),
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
            acme_server_id: named_server(&self.0, f.acme_server_id, f.acme_server).await?,
            contact: non_empty(f.contact),
            global_default: f.global_default.unwrap_or(false),
            external_account: match (f.eab_kid.as_deref(), f.eab_hmac_key.as_deref()) {
                (None, None) => None,
                (Some(kid), Some(key)) => Some(ExternalAccountBinding::parse(kid, key)?),
                _ => {
                    return Err(peter_core::Error::InvalidField {
                        field: "eab_kid",
                        message: "give both eab_kid and eab_hmac_key, or neither".into(),
                    }
                    .into());
                }
            },
            ..AccountRequest::default()
        };
        if let Some(t) = f.private_key_technology {
            request.private_key_technology = t.0;
        }
        if let Some(c) = f.private_key_cycle {
            request.private_key_cycle = c.0;
        }
        if let Some(t) = f.account_key_technology {
            request.account_key_technology = t.0;
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
        let server = named_server(&self.0, f.acme_server_id, f.acme_server).await?;
        let account = self
            .0
            .accounts()
            .upload(server, &f.account_key_file_pem, non_empty(f.contact))
            .await?;
        Ok(Json(AcmeAccountAnswer::of(&account)))
    }

    /// Marks an account: `global_default`, or locally `active` / `inactive`.
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

    /// Changes the account's contact (sent to its CA first; empty removes
    /// it) and the key policy its orders use by default.
    #[oai(
        path = "/acme-account/:id/edit",
        method = "post",
        operation_id = "acme_account_edit"
    )]
    async fn account_edit(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: JsonOrForm<AcmeAccountEditFields>,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let f = body.into_inner();
        let account = self
            .0
            .accounts()
            .edit(
                AcmeAccountId(id.0),
                AccountEdit {
                    contact: f.contact,
                    private_key_technology: f.private_key_technology.map(|t| t.0),
                    private_key_cycle: f.private_key_cycle.map(|c| c.0),
                },
            )
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

    /// Rolls the account over to a new key generated here, of the current
    /// key's technology unless `key_technology` names another (EC P-256 and
    /// RSA, both ways).
    #[oai(
        path = "/acme-account/:id/acme-server/key-change",
        method = "post",
        operation_id = "acme_account_key_change"
    )]
    async fn account_key_change(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        key_technology: poem_openapi::param::Query<Option<Wire<KeyTechnology>>>,
    ) -> ApiResult<Json<AcmeAccountAnswer>> {
        let account = self
            .0
            .accounts()
            .change_key(AcmeAccountId(id.0), key_technology.0.map(|t| t.0))
            .await?;
        Ok(Json(AcmeAccountAnswer::of(&account)))
    }
}
