//! Certificates: lists, focus, files, config.json/config.zip, chains,
//! upload, mark and upstream revocation.

use std::io::Write;

use peter_core::model::rules::CertificateMark;
use peter_core::model::*;
use peter_core::ports::{CertificateFilter, RevocationReason};
use peter_core::services::{downloads, import, publish};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Attachment, AttachmentType, Json};
use poem_openapi::{Enum, Object, OpenApi};
use serde::Deserialize;

use super::answer::*;
use super::api_domains::{CertificateConfigView, truthy};
use super::auth::AdminToken;
use super::body::json_or_form;
use super::views::*;
use super::{AdminState, ApiTags};

list_answer!(
    CertificatesList,
    "CertificateSigneds",
    CertificateSignedView
);
object_answer!(
    CertificateAnswer,
    "CertificateSigned",
    CertificateSignedView
);
list_answer!(
    ChainOffersList,
    "CertificateCAChains",
    CertificateChainOfferView
);

/// A certificate's files (the spec's download table).
#[derive(Debug, Clone, Copy, Enum)]
pub enum CertificateFile {
    /// PEM.
    #[oai(rename = "cert.pem")]
    CertPem,
    /// PEM as text.
    #[oai(rename = "cert.pem.txt")]
    CertPemTxt,
    /// DER (`application/pkix-cert`).
    #[oai(rename = "cert.cer")]
    CertCer,
    /// DER.
    #[oai(rename = "cert.crt")]
    CertCrt,
    /// DER.
    #[oai(rename = "cert.der")]
    CertDer,
    /// The preferred chain, PEM.
    #[oai(rename = "chain.pem")]
    ChainPem,
    /// The preferred chain as text.
    #[oai(rename = "chain.pem.txt")]
    ChainPemTxt,
    /// Certificate and preferred chain, PEM.
    #[oai(rename = "fullchain.pem")]
    FullchainPem,
    /// Certificate and preferred chain as text.
    #[oai(rename = "fullchain.pem.txt")]
    FullchainPemTxt,
    /// The private key, PKCS#8 PEM.
    #[oai(rename = "privkey.pem")]
    PrivkeyPem,
    /// The private key as text.
    #[oai(rename = "privkey.pem.txt")]
    PrivkeyPemTxt,
    /// The private key, PKCS#8 DER.
    #[oai(rename = "privkey.key")]
    PrivkeyKey,
}

impl CertificateFile {
    fn name(self) -> &'static str {
        match self {
            Self::CertPem => "cert.pem",
            Self::CertPemTxt => "cert.pem.txt",
            Self::CertCer => "cert.cer",
            Self::CertCrt => "cert.crt",
            Self::CertDer => "cert.der",
            Self::ChainPem => "chain.pem",
            Self::ChainPemTxt => "chain.pem.txt",
            Self::FullchainPem => "fullchain.pem",
            Self::FullchainPemTxt => "fullchain.pem.txt",
            Self::PrivkeyPem => "privkey.pem",
            Self::PrivkeyPemTxt => "privkey.pem.txt",
            Self::PrivkeyKey => "privkey.key",
        }
    }
}

/// The files of a certificate through a chosen chain.
#[derive(Debug, Clone, Copy, Enum)]
pub enum ViaChainFile {
    /// The chain, PEM.
    #[oai(rename = "chain.pem")]
    ChainPem,
    /// The chain as text.
    #[oai(rename = "chain.pem.txt")]
    ChainPemTxt,
    /// Certificate and chain, PEM.
    #[oai(rename = "fullchain.pem")]
    FullchainPem,
    /// Certificate and chain as text.
    #[oai(rename = "fullchain.pem.txt")]
    FullchainPemTxt,
}

impl ViaChainFile {
    fn name(self) -> &'static str {
        match self {
            Self::ChainPem => "chain.pem",
            Self::ChainPemTxt => "chain.pem.txt",
            Self::FullchainPem => "fullchain.pem",
            Self::FullchainPemTxt => "fullchain.pem.txt",
        }
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
    #[oai(nullable)]
    pub chain_file: Option<String>,
}
json_or_form!(CertificateUploadBody, CertificateUploadFields);

/// An id and whether the call created it.
#[derive(Debug, Clone, Object)]
pub struct CreatedRef {
    /// The id.
    pub id: i64,
    /// Whether this call created it.
    pub created: bool,
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
    #[oai(nullable)]
    pub CertificateCAChain: Option<CreatedRef>,
}

/// A certificate mark.
#[derive(Debug, Object, Deserialize)]
pub struct CertificateMarkFields {
    /// `active`, `inactive` or `revoked` (local bookkeeping; permanent).
    pub action: String,
}
json_or_form!(CertificateMarkBody, CertificateMarkFields);

/// An upstream revocation.
#[derive(Debug, Object, Deserialize)]
pub struct RevokeFields {
    /// `unspecified` (default), `keyCompromise`, `superseded` or
    /// `cessationOfOperation`.
    #[serde(default)]
    #[oai(nullable)]
    pub reason: Option<String>,
    /// The account to revoke with (default: the one that ordered it).
    #[serde(default)]
    #[oai(nullable)]
    pub acme_account_id: Option<i64>,
}
json_or_form!(RevokeBody, RevokeFields);

async fn zip_answer(state: &AdminState, id: i64, chain: Option<i64>) -> ApiResult<ZipDownload> {
    let files = publish::certificate_files(
        state.store.as_ref(),
        CertificateSignedId(id),
        chain.map(CertificateCaChainId),
    )
    .await?;
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o600);
        for (name, text) in files {
            zip.start_file(name, options)
                .and_then(|_| zip.write_all(text.as_bytes()).map_err(Into::into))
                .map_err(|e| ApiError::Internal(Json(ErrorBody::new(format!("zip: {e}")))))?;
        }
        zip.finish()
            .map_err(|e| ApiError::Internal(Json(ErrorBody::new(format!("zip: {e}")))))?;
    }
    let filename = match chain {
        Some(c) => format!("cert{id}-chain{c}.zip"),
        None => format!("cert{id}.zip"),
    };
    Ok(ZipDownload::Zip(
        Attachment::new(buffer.into_inner())
            .attachment_type(AttachmentType::Attachment)
            .filename(filename),
    ))
}

/// Certificate routes.
pub struct CertificatesApi(pub AdminState);

impl CertificatesApi {
    async fn list_filtered(
        &self,
        filter: CertificateFilter,
        page: Option<u64>,
        per_page: Option<u64>,
    ) -> ApiResult<Json<CertificatesList>> {
        let paged = self
            .0
            .store
            .list_certificates_signed(filter, super::answer::page(page, per_page))
            .await?;
        Ok(Json(CertificatesList::of(&paged)))
    }
}

#[OpenApi(tag = "ApiTags::CertificateSigned")]
impl CertificatesApi {
    /// Every certificate, newest first.
    #[oai(
        path = "/certificate-signeds",
        method = "get",
        operation_id = "certificate_signed_list"
    )]
    async fn list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<CertificatesList>> {
        self.list_filtered(CertificateFilter::All, page.0, per_page.0)
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
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<CertificatesList>> {
        self.list_filtered(CertificateFilter::Active, page.0, per_page.0)
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
        days: Query<Option<u32>>,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<CertificatesList>> {
        let until =
            self.0.clock.now() + time::Duration::days(i64::from(days.0.unwrap_or(28).min(3650)));
        self.list_filtered(CertificateFilter::ExpiringBefore(until), page.0, per_page.0)
            .await
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
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<CertificatesList>> {
        self.list_filtered(CertificateFilter::Inactive, page.0, per_page.0)
            .await
    }

    /// One certificate.
    #[oai(
        path = "/certificate-signed/:id",
        method = "get",
        operation_id = "certificate_signed_focus"
    )]
    async fn focus(&self, _auth: AdminToken, id: Path<i64>) -> ApiResult<Json<CertificateAnswer>> {
        let c = self
            .0
            .store
            .certificate_signed(CertificateSignedId(id.0))
            .await?;
        Ok(CertificateAnswer::of(&c))
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
        file: Path<CertificateFile>,
    ) -> ApiResult<FileDownload> {
        let d = downloads::certificate_download(
            self.0.store.as_ref(),
            CertificateSignedId(id.0),
            file.0.name(),
            None,
        )
        .await?;
        FileDownload::from_download(d)
    }

    /// The certificate as a web server installs it (`?idonly=1`: ids only).
    #[oai(
        path = "/certificate-signed/:id/config.json",
        method = "get",
        operation_id = "certificate_signed_config"
    )]
    async fn config(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        idonly: Query<Option<String>>,
    ) -> ApiResult<Json<CertificateConfigView>> {
        let c = publish::certificate_config(
            self.0.store.as_ref(),
            CertificateSignedId(id.0),
            None,
            truthy(&idonly.0),
        )
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
            .store
            .certificate_chains(CertificateSignedId(id.0))
            .await?;
        let items: Vec<CertificateChainOfferView> = offers
            .iter()
            .map(|o| CertificateChainOfferView {
                is_upstream_default: o.is_upstream_default,
                CertificateCAChain: (&o.chain).into(),
            })
            .collect();
        let pagination = Pagination::whole(items.len());
        Ok(Json(ChainOffersList { items, pagination }))
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
        file: Path<ViaChainFile>,
    ) -> ApiResult<FileDownload> {
        let d = downloads::certificate_download(
            self.0.store.as_ref(),
            CertificateSignedId(id.0),
            file.0.name(),
            Some(CertificateCaChainId(chain_id.0)),
        )
        .await?;
        FileDownload::from_download(d)
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
        idonly: Query<Option<String>>,
    ) -> ApiResult<Json<CertificateConfigView>> {
        let c = publish::certificate_config(
            self.0.store.as_ref(),
            CertificateSignedId(id.0),
            Some(CertificateCaChainId(chain_id.0)),
            truthy(&idonly.0),
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
        body: CertificateUploadBody,
    ) -> ApiResult<Json<CertificateUploadAnswer>> {
        let f = body.into_inner();
        let outcome = import::import_certificate(
            self.0.store.as_ref(),
            self.0.clock.as_ref(),
            import::CertificateUpload {
                certificate_pem: &f.certificate_file,
                private_key_pem: &f.private_key_file_pem,
                chain_pem: f.chain_file.as_deref(),
            },
        )
        .await?;
        self.0
            .after_certificate_change(outcome.certificate_signed.id)
            .await;
        Ok(Json(CertificateUploadAnswer {
            result: "success".into(),
            CertificateSigned: CreatedRef {
                id: outcome.certificate_signed.id.0,
                created: outcome.certificate_signed.created,
            },
            PrivateKey: CreatedRef {
                id: outcome.private_key.id.0,
                created: outcome.private_key.created,
            },
            CertificateCAChain: outcome.certificate_ca_chain.map(|c| CreatedRef {
                id: c.id.0,
                created: c.created,
            }),
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
    ) -> ApiResult<Json<super::api_misc::NginxAnswer>> {
        let names =
            publish::certificate_domain_names(self.0.store.as_ref(), CertificateSignedId(id.0))
                .await?;
        let Some(nginx) = self.0.nginx.as_deref() else {
            return Err(ApiError::Conflict(Json(ErrorBody::new(
                "no nginx servers are configured (nginx.servers / PETER_NGINX_SERVERS)",
            ))));
        };
        let all = nginx.expire_domains(&names).await;
        Ok(super::api_misc::nginx_answer(all))
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
        body: CertificateMarkBody,
    ) -> ApiResult<Json<CertificateAnswer>> {
        let f = body.into_inner();
        let mark: CertificateMark = f.action.parse().map_err(|_| {
            ApiError::invalid(
                "action",
                format!("`{}` is not one of active, inactive, revoked", f.action),
            )
        })?;
        let c = self
            .0
            .store
            .mark_certificate_signed(CertificateSignedId(id.0), mark)
            .await?;
        self.0.after_certificate_change(c.id).await;
        Ok(CertificateAnswer::of(&c))
    }

    /// Revokes the certificate at its CA (kept apart from the local mark).
    #[oai(
        path = "/certificate-signed/:id/acme-server/revoke",
        method = "post",
        operation_id = "certificate_signed_revoke"
    )]
    async fn revoke(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: RevokeBody,
    ) -> ApiResult<Json<CertificateAnswer>> {
        let f = body.into_inner();
        let reason: RevocationReason = match f.reason.as_deref() {
            None | Some("") => RevocationReason::Unspecified,
            Some(r) => r.parse().map_err(|_| {
                ApiError::invalid("reason", format!("`{r}` is not one of unspecified, keyCompromise, superseded, cessationOfOperation"))
            })?,
        };
        let c = self
            .0
            .orders()
            .revoke_upstream(
                CertificateSignedId(id.0),
                reason,
                f.acme_account_id.map(AcmeAccountId),
            )
            .await?;
        Ok(CertificateAnswer::of(&c))
    }
}
