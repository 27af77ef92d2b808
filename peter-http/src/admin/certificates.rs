//! Certificates: lists, focus, files, config.json/config.zip, chains,
//! upload, mark and upstream revocation.

use std::io::Write;

use peter_core::app::Peter;
use peter_core::model::rules::CertificateMark;
use peter_core::model::*;
use peter_core::ports::{CertificateFilter, CertificateStatus, RevocationReason};
use poem_openapi::param::Path;
use poem_openapi::payload::{Attachment, AttachmentType, Json};
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;

use super::ApiTags;
use super::answer::*;
use super::auth::AdminToken;
use super::body::JsonOrForm;
use crate::views::*;
use crate::wire::{IdOnly, Paging, Timestamp, Wire, empty_as_none, query_params};

query_params! {
    /// Which certificates a list shows.
    pub struct CertificateQuery {
        /// Only certificates covering this domain (a name).
        domain_name: String,
        /// Only certificates in this status.
        status: Wire<CertificateStatus>,
        /// Only active certificates whose validity ends before this instant.
        expiring_before: Timestamp,
        /// Only certificates for exactly this set of names.
        unique_fqdn_set_id: i64,
        /// Only certificates this account ordered.
        acme_account_id: i64,
    }
}

/// A certificate upload: PEM texts.
#[derive(Debug, Object, Deserialize)]
pub struct CertificateUploadFields {
    /// The certificate (one PEM block).
    pub certificate_file: String,
    /// Its private key (PKCS#8, PKCS#1 or SEC1 PEM).
    pub private_key_file_pem: String,
    /// Its chain (intermediates, optionally the root), any order.
    #[serde(default)]
    pub chain_file: Option<String>,
}

/// An id and whether the call created it.
#[derive(Debug, Clone, Object)]
pub struct CreatedRef {
    /// The id.
    pub id: i64,
    /// Whether this call created it.
    pub created: bool,
}

impl<T: Into<i64> + Copy> From<peter_core::ports::Created<T>> for CreatedRef {
    fn from(c: peter_core::ports::Created<T>) -> Self {
        Self {
            id: c.id.into(),
            created: c.created,
        }
    }
}

/// What an upload recorded.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct CertificateUploadAnswer {
    /// Always `success`.
    pub result: String,
    /// The certificate.
    pub CertificateSigned: CreatedRef,
    /// Its key.
    pub PrivateKey: CreatedRef,
    /// Its chain, when one was given.
    #[oai(skip_serializing_if_is_none)]
    pub CertificateCAChain: Option<CreatedRef>,
    /// What re-publishing did.
    pub publication: PublicationView,
}

/// A certificate mark.
#[derive(Debug, Object, Deserialize)]
pub struct CertificateMarkFields {
    /// The mark (`revoked` is permanent and local: nothing is sent to the CA).
    pub action: Wire<CertificateMark>,
}

/// A certificate after a change.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct CertificateChangedAnswer {
    /// Always `success`.
    pub result: String,
    /// The certificate.
    pub CertificateSigned: CertificateSignedView,
    /// What re-publishing did.
    pub publication: PublicationView,
}

/// An upstream revocation.
#[derive(Debug, Object, Deserialize)]
pub struct RevokeFields {
    /// The reason (default `unspecified`).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub reason: Option<Wire<RevocationReason>>,
    /// The account to revoke with (default: the one that ordered it).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub acme_account_id: Option<i64>,
}

async fn zip_answer(peter: &Peter, id: i64, chain: Option<i64>) -> ApiResult<ZipDownload> {
    let files = peter
        .certificates()
        .config_files(CertificateSignedId(id), chain.map(CertificateCaChainId))
        .await?;
    // Compressing is CPU work: off the async workers.
    let zipped = tokio::task::spawn_blocking(move || zip_files(files))
        .await
        .map_err(|e| ApiError::Internal(Json(ErrorBody::new(format!("zip: {e}")))))?
        .map_err(|e| ApiError::Internal(Json(ErrorBody::new(format!("zip: {e}")))))?;
    let filename = match chain {
        Some(c) => format!("cert{id}-chain{c}.zip"),
        None => format!("cert{id}.zip"),
    };
    Ok(ZipDownload::Zip(
        Attachment::new(zipped)
            .attachment_type(AttachmentType::Attachment)
            .filename(filename),
    ))
}

fn zip_files(files: Vec<(String, String)>) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o600);
        for (name, text) in files {
            zip.start_file(name, options)?;
            zip.write_all(text.as_bytes())?;
        }
        zip.finish()?;
    }
    Ok(buffer.into_inner())
}

/// Certificate routes.
pub struct CertificatesApi(pub Peter);

impl CertificatesApi {
    async fn list_filtered(
        &self,
        mut filter: CertificateFilter,
        query: CertificateQuery,
        paging: Paging,
    ) -> ApiResult<Json<CertificatesList>> {
        filter.status = filter.status.or(query.status.map(|s| s.0));
        filter.expiring_before = filter
            .expiring_before
            .or(query.expiring_before.map(|t| t.0));
        filter.unique_fqdn_set = query.unique_fqdn_set_id.map(UniqueFqdnSetId);
        filter.acme_account = query.acme_account_id.map(AcmeAccountId);
        let paged = self
            .0
            .certificates()
            .list_covering(filter, query.domain_name.as_deref(), paging.page())
            .await?;
        Ok(Json(CertificatesList::of(&paged)))
    }

    fn changed(
        changed: peter_core::app::Changed<CertificateSigned>,
    ) -> Json<CertificateChangedAnswer> {
        Json(CertificateChangedAnswer {
            result: "success".into(),
            CertificateSigned: (&changed.value).into(),
            publication: (&changed.publication).into(),
        })
    }
}

#[OpenApi(tag = "ApiTags::CertificateSigned")]
impl CertificatesApi {
    /// Certificates, newest first (soonest to expire first with `expiring_before`).
    #[oai(
        path = "/certificate-signeds",
        method = "get",
        operation_id = "certificate_signed_list"
    )]
    async fn list(
        &self,
        _auth: AdminToken,
        query: CertificateQuery,
        paging: Paging,
    ) -> ApiResult<Json<CertificatesList>> {
        self.list_filtered(CertificateFilter::all(), query, paging)
            .await
    }

    /// Active certificates, newest first.
    #[oai(
        path = "/certificate-signeds/active",
        method = "get",
        operation_id = "certificate_signed_list_active"
    )]
    async fn list_active(
        &self,
        _auth: AdminToken,
        query: CertificateQuery,
        paging: Paging,
    ) -> ApiResult<Json<CertificatesList>> {
        self.list_filtered(CertificateFilter::active(), query, paging)
            .await
    }

    /// Active certificates that expire within `days` (default 28), soonest first.
    #[oai(
        path = "/certificate-signeds/expiring",
        method = "get",
        operation_id = "certificate_signed_list_expiring"
    )]
    async fn list_expiring(
        &self,
        _auth: AdminToken,
        days: poem_openapi::param::Query<Option<u32>>,
        query: CertificateQuery,
        paging: Paging,
    ) -> ApiResult<Json<CertificatesList>> {
        let days = i64::from(days.0.unwrap_or(28));
        let filter = CertificateFilter::expiring_within(self.0.now(), days)?;
        self.list_filtered(filter, query, paging).await
    }

    /// Inactive certificates, newest first.
    #[oai(
        path = "/certificate-signeds/inactive",
        method = "get",
        operation_id = "certificate_signed_list_inactive"
    )]
    async fn list_inactive(
        &self,
        _auth: AdminToken,
        query: CertificateQuery,
        paging: Paging,
    ) -> ApiResult<Json<CertificatesList>> {
        self.list_filtered(CertificateFilter::inactive(), query, paging)
            .await
    }

    /// One certificate.
    #[oai(
        path = "/certificate-signed/:id",
        method = "get",
        operation_id = "certificate_signed_focus"
    )]
    async fn focus(&self, _auth: AdminToken, id: Path<i64>) -> ApiResult<Json<CertificateAnswer>> {
        let c = self.0.certificates().get(CertificateSignedId(id.0)).await?;
        Ok(Json(CertificateAnswer::of(&c)))
    }

    /// A file of the certificate; chain and fullchain use the preferred chain.
    #[oai(
        path = "/certificate-signed/:id/:file",
        method = "get",
        operation_id = "certificate_signed_file"
    )]
    async fn file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        file: Path<Wire<CertificateFile>>,
    ) -> ApiResult<FileDownload<CertificateFile>> {
        let d = self
            .0
            .certificates()
            .download(CertificateSignedId(id.0), file.0.0, None)
            .await?;
        Ok(FileDownload::new(d))
    }

    /// The certificate as a web server installs it (`?id_only=true`: ids only).
    #[oai(
        path = "/certificate-signed/:id/config.json",
        method = "get",
        operation_id = "certificate_signed_config"
    )]
    async fn config(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        id_only: IdOnly,
    ) -> ApiResult<Json<CertificateConfigView>> {
        let c = self
            .0
            .certificates()
            .config(CertificateSignedId(id.0), None, id_only.get())
            .await?;
        Ok(Json((&c).into()))
    }

    /// cert, chain, fullchain and privkey PEMs in a zip, named like certbot's.
    #[oai(
        path = "/certificate-signed/:id/config.zip",
        method = "get",
        operation_id = "certificate_signed_config_zip"
    )]
    async fn config_zip(&self, _auth: AdminToken, id: Path<i64>) -> ApiResult<ZipDownload> {
        zip_answer(&self.0, id.0, None).await
    }

    /// The chains the certificate was offered with, upstream default first.
    #[oai(
        path = "/certificate-signed/:id/certificate-ca-chains",
        method = "get",
        operation_id = "certificate_signed_chains"
    )]
    async fn chains(&self, _auth: AdminToken, id: Path<i64>) -> ApiResult<Json<ChainOffersList>> {
        let offers = self
            .0
            .certificates()
            .chains(CertificateSignedId(id.0))
            .await?;
        Ok(Json(ChainOffersList::whole(&offers)))
    }

    /// A chain or fullchain through a chain the certificate was offered with.
    #[oai(
        path = "/certificate-signed/:id/via-certificate-ca-chain/:chain_id/:file",
        method = "get",
        operation_id = "certificate_signed_via_chain_file"
    )]
    async fn via_chain_file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        chain_id: Path<i64>,
        file: Path<Wire<ViaChainFile>>,
    ) -> ApiResult<FileDownload<ViaChainFile>> {
        let d = self
            .0
            .certificates()
            .download(
                CertificateSignedId(id.0),
                file.0.0.certificate_file(),
                Some(CertificateCaChainId(chain_id.0)),
            )
            .await?;
        Ok(FileDownload::new(d))
    }

    /// config.json through a chosen chain.
    #[oai(
        path = "/certificate-signed/:id/via-certificate-ca-chain/:chain_id/config.json",
        method = "get",
        operation_id = "certificate_signed_via_chain_config"
    )]
    async fn via_chain_config(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        chain_id: Path<i64>,
        id_only: IdOnly,
    ) -> ApiResult<Json<CertificateConfigView>> {
        let c = self
            .0
            .certificates()
            .config(
                CertificateSignedId(id.0),
                Some(CertificateCaChainId(chain_id.0)),
                id_only.get(),
            )
            .await?;
        Ok(Json((&c).into()))
    }

    /// config.zip through a chosen chain.
    #[oai(
        path = "/certificate-signed/:id/via-certificate-ca-chain/:chain_id/config.zip",
        method = "get",
        operation_id = "certificate_signed_via_chain_config_zip"
    )]
    async fn via_chain_zip(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        chain_id: Path<i64>,
    ) -> ApiResult<ZipDownload> {
        zip_answer(&self.0, id.0, Some(chain_id.0)).await
    }

    /// Records a certificate with its key and chain (idempotent). The key
    /// must match the certificate and the chain must link by signature.
    #[oai(
        path = "/certificate-signed/upload",
        method = "post",
        operation_id = "certificate_signed_upload"
    )]
    async fn upload(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<CertificateUploadFields>,
    ) -> ApiResult<Json<CertificateUploadAnswer>> {
        let f = body.into_inner();
        let changed = self
            .0
            .certificates()
            .import(peter_core::app::CertificateUpload {
                certificate_pem: &f.certificate_file,
                private_key_pem: &f.private_key_file_pem,
                chain_pem: f.chain_file.as_deref(),
            })
            .await?;
        let outcome = &changed.value;
        Ok(Json(CertificateUploadAnswer {
            result: "success".into(),
            CertificateSigned: outcome.certificate_signed.into(),
            PrivateKey: outcome.private_key.into(),
            CertificateCAChain: outcome.certificate_ca_chain.map(Into::into),
            publication: (&changed.publication).into(),
        }))
    }

    /// Expires the certificate's domains in every configured OpenResty
    /// server's cache.
    #[oai(
        path = "/certificate-signed/:id/nginx-cache-expire",
        method = "post",
        operation_id = "certificate_signed_nginx_cache_expire"
    )]
    async fn nginx_expire(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<super::operations::NginxAnswer>> {
        let status = self
            .0
            .publishing()
            .nginx_expire_certificate(CertificateSignedId(id.0))
            .await?;
        Ok(super::operations::nginx_answer(status))
    }

    /// Marks a certificate `active`, `inactive` or `revoked`.
    #[oai(
        path = "/certificate-signed/:id/mark",
        method = "post",
        operation_id = "certificate_signed_mark"
    )]
    async fn mark(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: JsonOrForm<CertificateMarkFields>,
    ) -> ApiResult<Json<CertificateChangedAnswer>> {
        let changed = self
            .0
            .certificates()
            .mark(CertificateSignedId(id.0), body.into_inner().action.0)
            .await?;
        Ok(Self::changed(changed))
    }

    /// Revokes the certificate at its CA; it is marked `revoked` here too
    /// and never served again.
    #[oai(
        path = "/certificate-signed/:id/acme-server/revoke",
        method = "post",
        operation_id = "certificate_signed_revoke"
    )]
    async fn revoke(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: JsonOrForm<RevokeFields>,
    ) -> ApiResult<Json<CertificateChangedAnswer>> {
        let f = body.into_inner();
        let changed = self
            .0
            .certificates()
            .revoke(
                CertificateSignedId(id.0),
                f.reason
                    .map(|r| r.0)
                    .unwrap_or(RevocationReason::Unspecified),
                f.acme_account_id.map(AcmeAccountId),
            )
            .await?;
        Ok(Self::changed(changed))
    }
}
