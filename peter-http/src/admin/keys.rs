//! Private keys: lists, focus, files, new, upload and marks.

use peter_core::app::Peter;
use peter_core::model::rules::PrivateKeyMark;
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

/// A key to generate.
#[derive(Debug, Object, Deserialize)]
pub struct PrivateKeyNewFields {
    /// The technology (default `EC_P256`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub key_technology: Option<Wire<KeyTechnology>>,
}

/// A key upload.
#[derive(Debug, Object, Deserialize)]
pub struct PrivateKeyUploadFields {
    /// The key (PKCS#8, PKCS#1 or SEC1 PEM).
    pub private_key_file_pem: String,
}

/// A key recorded.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct PrivateKeyCreatedAnswer {
    /// Always `success`.
    pub result: String,
    /// The key.
    pub PrivateKey: PrivateKeyView,
    /// Whether this call recorded it.
    pub is_created: bool,
}

/// A key mark.
#[derive(Debug, Object, Deserialize)]
pub struct PrivateKeyMarkFields {
    /// The mark (`compromised` is permanent and revokes its certificates at their CA).
    pub action: Wire<PrivateKeyMark>,
}

/// A key after a mark.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct PrivateKeyMarkAnswer {
    /// Always `success`.
    pub result: String,
    /// The key.
    pub PrivateKey: PrivateKeyView,
    /// Its certificates revoked at their CA.
    pub revoked_certificate_signed_ids: Vec<i64>,
    /// What re-publishing did.
    pub publication: PublicationView,
}

/// Key routes.
pub struct KeysApi(pub Peter);

fn created(created: peter_core::ports::Created<PrivateKey>) -> Json<PrivateKeyCreatedAnswer> {
    Json(PrivateKeyCreatedAnswer {
        result: "success".into(),
        PrivateKey: (&created.id).into(),
        is_created: created.created,
    })
}

#[OpenApi(tag = "ApiTags::PrivateKey")]
impl KeysApi {
    /// Private keys.
    #[oai(
        path = "/private-keys",
        method = "get",
        operation_id = "private_key_list"
    )]
    async fn key_list(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<PrivateKeysList>> {
        let paged = self.0.private_keys().list(paging.page()).await?;
        Ok(Json(PrivateKeysList::of(&paged)))
    }

    /// One private key (its PEM is a download).
    #[oai(
        path = "/private-key/:id",
        method = "get",
        operation_id = "private_key_focus"
    )]
    async fn key_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<PrivateKeyAnswer>> {
        let key = self.0.private_keys().get(PrivateKeyId(id.0)).await?;
        Ok(Json(PrivateKeyAnswer::of(&key)))
    }

    /// A private key's file (`key.key` is PKCS#8 DER).
    #[oai(
        path = "/private-key/:id/:file",
        method = "get",
        operation_id = "private_key_file"
    )]
    async fn key_file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        file: Path<Wire<KeyFile>>,
    ) -> ApiResult<FileDownload<KeyFile>> {
        let d = self
            .0
            .private_keys()
            .download(PrivateKeyId(id.0), file.0.0)
            .await?;
        Ok(FileDownload::new(d))
    }

    /// Certificates that use the key.
    #[oai(
        path = "/private-key/:id/certificate-signeds",
        method = "get",
        operation_id = "private_key_certificate_signeds"
    )]
    async fn key_certificates(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        paging: Paging,
    ) -> ApiResult<Json<CertificatesList>> {
        let paged = self
            .0
            .private_keys()
            .certificates(PrivateKeyId(id.0), paging.page())
            .await?;
        Ok(Json(CertificatesList::of(&paged)))
    }

    /// Generates and records a private key.
    #[oai(
        path = "/private-key/new",
        method = "post",
        operation_id = "private_key_new"
    )]
    async fn key_new(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<PrivateKeyNewFields>,
    ) -> ApiResult<Json<PrivateKeyCreatedAnswer>> {
        let technology = body
            .into_inner()
            .key_technology
            .map(|t| t.0)
            .unwrap_or_default();
        Ok(created(self.0.private_keys().generate(technology).await?))
    }

    /// Records an uploaded private key (idempotent).
    #[oai(
        path = "/private-key/upload",
        method = "post",
        operation_id = "private_key_upload"
    )]
    async fn key_upload(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<PrivateKeyUploadFields>,
    ) -> ApiResult<Json<PrivateKeyCreatedAnswer>> {
        let pem = body.into_inner().private_key_file_pem;
        Ok(created(self.0.private_keys().upload(&pem).await?))
    }

    /// Marks a key `active`, `inactive` or `compromised`.
    #[oai(
        path = "/private-key/:id/mark",
        method = "post",
        operation_id = "private_key_mark"
    )]
    async fn key_mark(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: JsonOrForm<PrivateKeyMarkFields>,
    ) -> ApiResult<Json<PrivateKeyMarkAnswer>> {
        let changed = self
            .0
            .private_keys()
            .mark(PrivateKeyId(id.0), body.into_inner().action.0)
            .await?;
        Ok(Json(PrivateKeyMarkAnswer {
            result: "success".into(),
            PrivateKey: (&changed.value.private_key).into(),
            revoked_certificate_signed_ids: changed
                .value
                .revoked_certificates
                .iter()
                .map(|c| c.0)
                .collect(),
            publication: (&changed.publication).into(),
        }))
    }
}
