//! CA certificates, chains and the CA preference list.

use peter_core::app::{Peter, PreferenceMove};
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

/// A CA certificate upload.
#[derive(Debug, Object, Deserialize)]
pub struct CaUploadFields {
    /// The CA certificate, PEM.
    pub cert_file: String,
}

/// What a CA upload recorded.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct CaUploadAnswer {
    /// Always `success`.
    pub result: String,
    /// The CA certificate.
    pub CertificateCA: CertificateCaView,
    /// Whether this call recorded it.
    pub is_created: bool,
}

/// A CA, by id or by SHA-1 fingerprint (at least 8 hex characters).
#[derive(Debug, Object, Deserialize)]
pub struct PreferenceFields {
    /// The CA's id.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub certificate_ca_id: Option<i64>,
    /// Or its SHA-1 fingerprint (hex, colons allowed; a unique prefix of 8 or more).
    #[serde(default)]
    pub fingerprint_sha1: Option<String>,
}

/// A move in the preference list.
#[derive(Debug, Object, Deserialize)]
pub struct PrioritizeFields {
    /// The CA's id.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub certificate_ca_id: Option<i64>,
    /// Or its SHA-1 fingerprint.
    #[serde(default)]
    pub fingerprint_sha1: Option<String>,
    /// Which way it moves.
    pub priority: Wire<PreferenceMove>,
}

/// The preference list after a change.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct PreferencesChangedAnswer {
    /// The CAs, most preferred first.
    pub CertificateCAs: Vec<CertificateCaItemView>,
    /// Where this list is (always whole).
    pub pagination: Pagination,
    /// What re-publishing did (every domain may be served another chain).
    pub publication: PublicationView,
}

impl PreferencesChangedAnswer {
    fn of(changed: peter_core::app::Changed<Vec<CertificateCa>>) -> Json<Self> {
        Json(Self {
            CertificateCAs: changed.value.iter().map(Into::into).collect(),
            pagination: Pagination::whole(changed.value.len()),
            publication: (&changed.publication).into(),
        })
    }
}

/// CA routes.
pub struct CasApi(pub Peter);

impl CasApi {
    async fn resolve(
        &self,
        id: Option<i64>,
        fingerprint: Option<&str>,
    ) -> ApiResult<CertificateCaId> {
        Ok(self
            .0
            .certificate_authorities()
            .find(id.map(CertificateCaId), fingerprint)
            .await?)
    }
}

#[OpenApi(tag = "ApiTags::CertificateCa")]
impl CasApi {
    /// CA certificates.
    #[oai(
        path = "/certificate-cas",
        method = "get",
        operation_id = "certificate_ca_list"
    )]
    async fn ca_list(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<CertificateCasList>> {
        let paged = self.0.certificate_authorities().list(paging.page()).await?;
        Ok(Json(CertificateCasList::of(&paged)))
    }

    /// One CA certificate.
    #[oai(
        path = "/certificate-ca/:id",
        method = "get",
        operation_id = "certificate_ca_focus"
    )]
    async fn ca_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<CertificateCaAnswer>> {
        let ca = self
            .0
            .certificate_authorities()
            .get(CertificateCaId(id.0))
            .await?;
        Ok(Json(CertificateCaAnswer::of(&ca)))
    }

    /// A CA certificate's file.
    #[oai(
        path = "/certificate-ca/:id/:file",
        method = "get",
        operation_id = "certificate_ca_file"
    )]
    async fn ca_file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        file: Path<Wire<CaFile>>,
    ) -> ApiResult<FileDownload<CaFile>> {
        let d = self
            .0
            .certificate_authorities()
            .download(CertificateCaId(id.0), file.0.0)
            .await?;
        Ok(FileDownload::new(d))
    }

    /// Records a CA certificate (idempotent).
    #[oai(
        path = "/certificate-ca/upload-cert",
        method = "post",
        operation_id = "certificate_ca_upload"
    )]
    async fn ca_upload(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<CaUploadFields>,
    ) -> ApiResult<Json<CaUploadAnswer>> {
        let created = self
            .0
            .certificate_authorities()
            .upload(&body.into_inner().cert_file)
            .await
            .map_err(|e| match e {
                peter_core::Error::Format(f) => ApiError::invalid("cert_file", f.to_string()),
                other => other.into(),
            })?;
        Ok(Json(CaUploadAnswer {
            result: "success".into(),
            CertificateCA: (&created.id).into(),
            is_created: created.created,
        }))
    }

    /// The CA preference list: chains containing an earlier CA are served first.
    #[oai(
        path = "/certificate-cas/preferred",
        method = "get",
        operation_id = "certificate_ca_preferred"
    )]
    async fn preferred(&self, _auth: AdminToken) -> ApiResult<Json<CertificateCasList>> {
        let list = self.0.certificate_authorities().preferences().await?;
        Ok(Json(CertificateCasList::whole(&list)))
    }

    /// Appends a CA to the preference list.
    #[oai(
        path = "/certificate-cas/preferred/add",
        method = "post",
        operation_id = "certificate_ca_preferred_add"
    )]
    async fn preferred_add(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<PreferenceFields>,
    ) -> ApiResult<Json<PreferencesChangedAnswer>> {
        let f = body.into_inner();
        let id = self
            .resolve(f.certificate_ca_id, f.fingerprint_sha1.as_deref())
            .await?;
        let changed = self.0.certificate_authorities().add_preference(id).await?;
        Ok(PreferencesChangedAnswer::of(changed))
    }

    /// Removes a CA from the preference list.
    #[oai(
        path = "/certificate-cas/preferred/delete",
        method = "post",
        operation_id = "certificate_ca_preferred_delete"
    )]
    async fn preferred_delete(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<PreferenceFields>,
    ) -> ApiResult<Json<PreferencesChangedAnswer>> {
        let f = body.into_inner();
        let id = self
            .resolve(f.certificate_ca_id, f.fingerprint_sha1.as_deref())
            .await?;
        let changed = self
            .0
            .certificate_authorities()
            .remove_preference(id)
            .await?;
        Ok(PreferencesChangedAnswer::of(changed))
    }

    /// Moves a CA one place earlier (`increase`) or later (`decrease`).
    #[oai(
        path = "/certificate-cas/preferred/prioritize",
        method = "post",
        operation_id = "certificate_ca_preferred_prioritize"
    )]
    async fn preferred_prioritize(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<PrioritizeFields>,
    ) -> ApiResult<Json<PreferencesChangedAnswer>> {
        let f = body.into_inner();
        let id = self
            .resolve(f.certificate_ca_id, f.fingerprint_sha1.as_deref())
            .await?;
        let changed = self
            .0
            .certificate_authorities()
            .prioritize(id, f.priority.0)
            .await?;
        Ok(PreferencesChangedAnswer::of(changed))
    }

    /// CA chains.
    #[oai(
        path = "/certificate-ca-chains",
        method = "get",
        operation_id = "certificate_ca_chain_list"
    )]
    async fn chain_list(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<CertificateCaChainsList>> {
        let paged = self
            .0
            .certificate_authorities()
            .chains(paging.page())
            .await?;
        Ok(Json(CertificateCaChainsList::of(&paged)))
    }

    /// One CA chain.
    #[oai(
        path = "/certificate-ca-chain/:id",
        method = "get",
        operation_id = "certificate_ca_chain_focus"
    )]
    async fn chain_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<CertificateCaChainAnswer>> {
        let chain = self
            .0
            .certificate_authorities()
            .chain(CertificateCaChainId(id.0))
            .await?;
        Ok(Json(CertificateCaChainAnswer::of(&chain)))
    }

    /// A CA chain's file.
    #[oai(
        path = "/certificate-ca-chain/:id/:file",
        method = "get",
        operation_id = "certificate_ca_chain_file"
    )]
    async fn chain_file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        file: Path<Wire<ChainFile>>,
    ) -> ApiResult<FileDownload<ChainFile>> {
        let d = self
            .0
            .certificate_authorities()
            .chain_download(CertificateCaChainId(id.0), file.0.0)
            .await?;
        Ok(FileDownload::new(d))
    }
}
