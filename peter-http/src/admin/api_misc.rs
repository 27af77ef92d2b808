//! CA certificates, chains, the CA preference list, private keys,
//! certificate requests, name sets, logs, and the bulk `api/` operations.

use peter_core::formats::{ParsedCertificate, ParsedPrivateKey};
use peter_core::model::*;
use peter_core::ports::CertificateFilter;
use peter_core::services::{domains, downloads};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::answer::*;
use super::auth::AdminToken;
use super::body::json_or_form;
use super::views::*;
use super::{AdminState, ApiTags};

list_answer!(CertificateCasList, "CertificateCAs", CertificateCaView);
object_answer!(CertificateCaAnswer, "CertificateCA", CertificateCaView);
list_answer!(
    CertificateCaChainsList,
    "CertificateCAChains",
    CertificateCaChainView
);
object_answer!(
    CertificateCaChainAnswer,
    "CertificateCAChain",
    CertificateCaChainView
);
list_answer!(PrivateKeysList, "PrivateKeys", PrivateKeyView);
object_answer!(PrivateKeyAnswer, "PrivateKey", PrivateKeyView);
list_answer!(
    PrivateKeyCertificatesList,
    "CertificateSigneds",
    CertificateSignedView
);
list_answer!(
    CertificateRequestsList,
    "CertificateRequests",
    CertificateRequestView
);
object_answer!(
    CertificateRequestAnswer,
    "CertificateRequest",
    CertificateRequestView
);
list_answer!(UniqueFqdnSetsList, "UniqueFQDNSets", UniqueFqdnSetView);
object_answer!(UniqueFqdnSetAnswer, "UniqueFQDNSet", UniqueFqdnSetView);
list_answer!(AcmeEventLogsList, "AcmeEventLogs", AcmeEventLogView);
object_answer!(AcmeEventLogAnswer, "AcmeEventLog", AcmeEventLogView);
list_answer!(
    OperationsEventsList,
    "OperationsEvents",
    OperationsEventView
);
list_answer!(PreferredCasList, "CertificateCAs", CertificateCaView);

/// A CA certificate's files.
#[derive(Debug, Clone, Copy, Enum)]
pub enum CaFile {
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
}

impl CaFile {
    fn name(self) -> &'static str {
        match self {
            Self::CertPem => "cert.pem",
            Self::CertPemTxt => "cert.pem.txt",
            Self::CertCer => "cert.cer",
            Self::CertCrt => "cert.crt",
            Self::CertDer => "cert.der",
        }
    }
}

/// A chain's files.
#[derive(Debug, Clone, Copy, Enum)]
pub enum ChainFile {
    /// PEM.
    #[oai(rename = "chain.pem")]
    ChainPem,
    /// PEM as text.
    #[oai(rename = "chain.pem.txt")]
    ChainPemTxt,
}

/// A certificate request's files.
#[derive(Debug, Clone, Copy, Enum)]
pub enum CsrFile {
    /// PEM.
    #[oai(rename = "csr.pem")]
    CsrPem,
    /// PEM as text.
    #[oai(rename = "csr.pem.txt")]
    CsrPemTxt,
    /// PEM (`application/pkcs10`).
    #[oai(rename = "csr.csr")]
    CsrCsr,
}

/// A key's files.
#[derive(Debug, Clone, Copy, Enum)]
pub enum KeyFile {
    /// PKCS#8 PEM.
    #[oai(rename = "key.pem")]
    KeyPem,
    /// PKCS#8 PEM as text.
    #[oai(rename = "key.pem.txt")]
    KeyPemTxt,
    /// PKCS#8 DER.
    #[oai(rename = "key.key")]
    KeyKey,
}

impl KeyFile {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::KeyPem => "key.pem",
            Self::KeyPemTxt => "key.pem.txt",
            Self::KeyKey => "key.key",
        }
    }
}

/// A CA certificate upload.
#[derive(Debug, Object, Deserialize)]
pub struct CaUploadFields {
    /// The CA certificate, PEM.
    pub cert_file: String,
}
json_or_form!(CaUploadBody, CaUploadFields);

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

/// A CA named for the preference list.
#[derive(Debug, Object, Deserialize)]
pub struct PreferenceFields {
    /// The CA's id; or give `fingerprint_sha1`.
    #[serde(default)]
    #[oai(nullable)]
    pub certificate_ca_id: Option<i64>,
    /// The CA's SHA-1 fingerprint (hex, full or its first 8 characters).
    #[serde(default)]
    #[oai(nullable)]
    pub fingerprint_sha1: Option<String>,
}
json_or_form!(PreferenceBody, PreferenceFields);

/// A move in the preference list.
#[derive(Debug, Object, Deserialize)]
pub struct PrioritizeFields {
    /// The CA's id; or give `fingerprint_sha1`.
    #[serde(default)]
    #[oai(nullable)]
    pub certificate_ca_id: Option<i64>,
    /// The CA's SHA-1 fingerprint (hex, full or its first 8 characters).
    #[serde(default)]
    #[oai(nullable)]
    pub fingerprint_sha1: Option<String>,
    /// `increase` (earlier) or `decrease` (later).
    pub priority: String,
}
json_or_form!(PrioritizeBody, PrioritizeFields);

/// A new private key.
#[derive(Debug, Object, Deserialize)]
pub struct PrivateKeyNewFields {
    /// `EC_P256` (default), `EC_P384`, `RSA_2048`, `RSA_3072` or `RSA_4096`.
    #[serde(default)]
    #[oai(nullable)]
    pub key_technology: Option<String>,
}
json_or_form!(PrivateKeyNewBody, PrivateKeyNewFields);

/// A private key upload.
#[derive(Debug, Object, Deserialize)]
pub struct PrivateKeyUploadFields {
    /// The key (PKCS#8, PKCS#1 or SEC1 PEM).
    pub private_key_file_pem: String,
}
json_or_form!(PrivateKeyUploadBody, PrivateKeyUploadFields);

/// What recording a key did.
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

/// A private key mark.
#[derive(Debug, Object, Deserialize)]
pub struct PrivateKeyMarkFields {
    /// `active`, `inactive` or `compromised` (permanent: its certificates
    /// are deactivated and revoked upstream with keyCompromise).
    pub action: String,
}
json_or_form!(PrivateKeyMarkBody, PrivateKeyMarkFields);

/// What marking a key did.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct PrivateKeyMarkAnswer {
    /// Always `success`.
    pub result: String,
    /// The key.
    pub PrivateKey: PrivateKeyView,
    /// Certificates revoked upstream (for `compromised`).
    pub revoked_certificate_signed_ids: Vec<i64>,
}

/// A list of names.
#[derive(Debug, Object, Deserialize)]
pub struct DomainNamesFields {
    /// Names, separated by commas or spaces.
    pub domain_names: String,
}
json_or_form!(DomainNamesBody, DomainNamesFields);

/// Per-name results.
#[derive(Debug, Object)]
pub struct DomainResultsAnswer {
    /// Always `success`.
    pub result: String,
    /// What happened to each name.
    pub domain_results: BTreeMap<String, String>,
}

/// certificate-if-needed's fields.
#[derive(Debug, Object, Deserialize)]
pub struct CertificateIfNeededFields {
    /// Exactly one name.
    pub domain_name: String,
    /// The account to order with (default: the global default account).
    #[serde(default)]
    #[oai(nullable)]
    pub acme_account_id: Option<i64>,
    /// Key cycle for the certificate (default: the account's).
    #[serde(default)]
    #[oai(nullable)]
    pub private_key_cycle: Option<String>,
}
json_or_form!(CertificateIfNeededBody, CertificateIfNeededFields);

/// What certificate-if-needed did for the name.
#[derive(Debug, Object)]
pub struct CertificateIfNeededResult {
    /// `new`, `existing.active` or `existing.activated`.
    #[oai(rename = "domain.status")]
    pub domain_status: String,
    /// The domain.
    #[oai(rename = "domain.id")]
    pub domain_id: i64,
    /// `exists`, `new` or `fail`.
    #[oai(rename = "certificate_signed.status")]
    pub certificate_status: String,
    /// The certificate.
    #[oai(rename = "certificate_signed.id", nullable)]
    pub certificate_signed_id: Option<i64>,
    /// The order placed, when one was.
    #[oai(rename = "acme_order.id", nullable)]
    pub acme_order_id: Option<i64>,
    /// Why the order failed.
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<String>,
}

/// certificate-if-needed's answer.
#[derive(Debug, Object)]
pub struct CertificateIfNeededAnswer {
    /// Always `success`.
    pub result: String,
    /// The result for the name.
    pub domain_results: BTreeMap<String, CertificateIfNeededResult>,
}

/// Counts of a bulk change.
#[derive(Debug, Object)]
pub struct ExpiredCount {
    /// Certificates marked inactive.
    pub expired: u64,
}

/// deactivate-expired's answer.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct DeactivateExpiredAnswer {
    /// Always `success`.
    pub result: String,
    /// Counts.
    pub CertificateSigned: ExpiredCount,
    /// The certificates marked inactive.
    pub certificate_signed_ids: Vec<i64>,
}

/// Which domains to prime.
#[derive(Debug, Object, Deserialize)]
pub struct RedisPrimeFields {
    /// `1` or `2` (default: the configured style).
    #[serde(default)]
    #[oai(nullable)]
    pub style: Option<String>,
    /// One domain only (default: every active domain).
    #[serde(default)]
    #[oai(nullable)]
    pub domain_name: Option<String>,
}
json_or_form!(RedisPrimeBody, RedisPrimeFields);

/// Counts of what a priming wrote.
#[derive(Debug, Object)]
pub struct PrimedCounts {
    /// Domains written.
    pub domain: u64,
    /// Certificates written (style 1).
    pub cert: u64,
    /// Keys written (style 1).
    pub pkey: u64,
    /// Chains written (style 1).
    pub certcachain: u64,
}

/// What `api/redis/prime` did.
#[derive(Debug, Object)]
pub struct RedisPrimeAnswer {
    /// Always `success`.
    pub result: String,
    /// The style written.
    pub style: String,
    /// Counts.
    pub total_primed: PrimedCounts,
}

/// Which domain's cache entry to expire.
#[derive(Debug, Object, Deserialize)]
pub struct NginxFlushFields {
    /// One domain only (default: the whole cache).
    #[serde(default)]
    #[oai(nullable)]
    pub domain_name: Option<String>,
}
json_or_form!(NginxFlushBody, NginxFlushFields);

/// Each server's answer.
#[derive(Debug, Object)]
pub struct NginxAnswer {
    /// `success` when every server answered; `error` when any failed (each
    /// server's own result is in `servers_status`).
    pub result: String,
    /// `{"success": [...], "errors": [...], "servers": {url: answer}}`.
    pub servers_status: serde_json::Value,
}

pub(crate) fn nginx_answer(
    status: crate::nginx::ServersStatus,
) -> poem_openapi::payload::Json<NginxAnswer> {
    poem_openapi::payload::Json(NginxAnswer {
        result: if status.errors.is_empty() {
            "success"
        } else {
            "error"
        }
        .into(),
        servers_status: serde_json::to_value(&status).unwrap_or_default(),
    })
}

/// Prometheus text format.
#[derive(Debug, poem_openapi::ApiResponse)]
pub enum MetricsText {
    /// The metrics.
    #[oai(
        status = 200,
        content_type = "text/plain; version=0.0.4; charset=utf-8"
    )]
    Text(poem_openapi::payload::PlainText<String>),
}

impl ObjectsApi {
    async fn resolve_ca(
        &self,
        id: Option<i64>,
        fingerprint: Option<&str>,
    ) -> ApiResult<CertificateCaId> {
        Ok(peter_core::services::ca_preferences::find_ca(
            self.0.store.as_ref(),
            id.map(CertificateCaId),
            fingerprint,
        )
        .await?)
    }
}

/// CA, chain, key, request and name-set routes.
pub struct ObjectsApi(pub AdminState);

#[OpenApi]
impl ObjectsApi {
    /// CA certificates.
    #[oai(
        path = "/certificate-cas",
        method = "get",
        operation_id = "certificate_ca_list",
        tag = "ApiTags::CertificateCa"
    )]
    async fn ca_list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<CertificateCasList>> {
        let paged = self
            .0
            .store
            .list_certificate_cas(super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(CertificateCasList::of(&paged)))
    }

    /// One CA certificate.
    #[oai(
        path = "/certificate-ca/:id",
        method = "get",
        operation_id = "certificate_ca_focus",
        tag = "ApiTags::CertificateCa"
    )]
    async fn ca_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<CertificateCaAnswer>> {
        Ok(CertificateCaAnswer::of(
            &self.0.store.certificate_ca(CertificateCaId(id.0)).await?,
        ))
    }

    /// A file of a CA certificate.
    #[oai(
        path = "/certificate-ca/:id/:file",
        method = "get",
        operation_id = "certificate_ca_file",
        tag = "ApiTags::CertificateCa"
    )]
    async fn ca_file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        file: Path<CaFile>,
    ) -> ApiResult<FileDownload> {
        FileDownload::from_download(
            downloads::ca_download(self.0.store.as_ref(), CertificateCaId(id.0), file.0.name())
                .await?,
        )
    }

    /// Records a CA certificate (idempotent).
    #[oai(
        path = "/certificate-ca/upload-cert",
        method = "post",
        operation_id = "certificate_ca_upload",
        tag = "ApiTags::CertificateCa"
    )]
    async fn ca_upload(
        &self,
        _auth: AdminToken,
        body: CaUploadBody,
    ) -> ApiResult<Json<CaUploadAnswer>> {
        let f = body.into_inner();
        let parsed = ParsedCertificate::from_pem(&f.cert_file)
            .map_err(|e| ApiError::invalid("cert_file", e.to_string()))?;
        let created = self.0.store.insert_certificate_ca(&parsed).await?;
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
        operation_id = "certificate_ca_preferred",
        tag = "ApiTags::CertificateCa"
    )]
    async fn preferred(&self, _auth: AdminToken) -> ApiResult<Json<PreferredCasList>> {
        Ok(Json(PreferredCasList::whole(
            &self.0.store.ca_preferences().await?,
        )))
    }

    /// Appends a CA to the preference list.
    #[oai(
        path = "/certificate-cas/preferred/add",
        method = "post",
        operation_id = "certificate_ca_preferred_add",
        tag = "ApiTags::CertificateCa"
    )]
    async fn preferred_add(
        &self,
        _auth: AdminToken,
        body: PreferenceBody,
    ) -> ApiResult<Json<PreferredCasList>> {
        let f = body.into_inner();
        let id = self
            .resolve_ca(f.certificate_ca_id, f.fingerprint_sha1.as_deref())
            .await?;
        Ok(Json(PreferredCasList::whole(
            &self.0.store.add_ca_preference(id).await?,
        )))
    }

    /// Removes a CA from the preference list.
    #[oai(
        path = "/certificate-cas/preferred/delete",
        method = "post",
        operation_id = "certificate_ca_preferred_delete",
        tag = "ApiTags::CertificateCa"
    )]
    async fn preferred_delete(
        &self,
        _auth: AdminToken,
        body: PreferenceBody,
    ) -> ApiResult<Json<PreferredCasList>> {
        let f = body.into_inner();
        let id = self
            .resolve_ca(f.certificate_ca_id, f.fingerprint_sha1.as_deref())
            .await?;
        Ok(Json(PreferredCasList::whole(
            &self.0.store.remove_ca_preference(id).await?,
        )))
    }

    /// Moves a CA one place earlier (`increase`) or later (`decrease`).
    #[oai(
        path = "/certificate-cas/preferred/prioritize",
        method = "post",
        operation_id = "certificate_ca_preferred_prioritize",
        tag = "ApiTags::CertificateCa"
    )]
    async fn preferred_prioritize(
        &self,
        _auth: AdminToken,
        body: PrioritizeBody,
    ) -> ApiResult<Json<PreferredCasList>> {
        let f = body.into_inner();
        let id = self
            .resolve_ca(f.certificate_ca_id, f.fingerprint_sha1.as_deref())
            .await?;
        let earlier = match f.priority.as_str() {
            "increase" => true,
            "decrease" => false,
            other => {
                return Err(ApiError::invalid(
                    "priority",
                    format!("`{other}` is not one of increase, decrease"),
                ));
            }
        };
        let list = peter_core::services::ca_preferences::move_preference(
            self.0.store.as_ref(),
            id,
            earlier,
        )
        .await?;
        Ok(Json(PreferredCasList::whole(&list)))
    }

    /// CA chains.
    #[oai(
        path = "/certificate-ca-chains",
        method = "get",
        operation_id = "certificate_ca_chain_list",
        tag = "ApiTags::CertificateCa"
    )]
    async fn chain_list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<CertificateCaChainsList>> {
        let paged = self
            .0
            .store
            .list_certificate_ca_chains(super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(CertificateCaChainsList::of(&paged)))
    }

    /// One CA chain.
    #[oai(
        path = "/certificate-ca-chain/:id",
        method = "get",
        operation_id = "certificate_ca_chain_focus",
        tag = "ApiTags::CertificateCa"
    )]
    async fn chain_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<CertificateCaChainAnswer>> {
        Ok(CertificateCaChainAnswer::of(
            &self
                .0
                .store
                .certificate_ca_chain(CertificateCaChainId(id.0))
                .await?,
        ))
    }

    /// A file of a CA chain.
    #[oai(
        path = "/certificate-ca-chain/:id/:file",
        method = "get",
        operation_id = "certificate_ca_chain_file",
        tag = "ApiTags::CertificateCa"
    )]
    async fn chain_file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        file: Path<ChainFile>,
    ) -> ApiResult<FileDownload> {
        let name = match file.0 {
            ChainFile::ChainPem => "chain.pem",
            ChainFile::ChainPemTxt => "chain.pem.txt",
        };
        FileDownload::from_download(
            downloads::chain_download(self.0.store.as_ref(), CertificateCaChainId(id.0), name)
                .await?,
        )
    }

    /// Private keys (PEMs are downloads).
    #[oai(
        path = "/private-keys",
        method = "get",
        operation_id = "private_key_list",
        tag = "ApiTags::PrivateKey"
    )]
    async fn key_list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<PrivateKeysList>> {
        let paged = self
            .0
            .store
            .list_private_keys(super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(PrivateKeysList::of(&paged)))
    }

    /// One private key.
    #[oai(
        path = "/private-key/:id",
        method = "get",
        operation_id = "private_key_focus",
        tag = "ApiTags::PrivateKey"
    )]
    async fn key_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<PrivateKeyAnswer>> {
        Ok(PrivateKeyAnswer::of(
            &self.0.store.private_key(PrivateKeyId(id.0)).await?,
        ))
    }

    /// A private key's file (`key.key` is PKCS#8 DER).
    #[oai(
        path = "/private-key/:id/:file",
        method = "get",
        operation_id = "private_key_file",
        tag = "ApiTags::PrivateKey"
    )]
    async fn key_file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        file: Path<KeyFile>,
    ) -> ApiResult<FileDownload> {
        let key = self.0.store.private_key(PrivateKeyId(id.0)).await?;
        FileDownload::from_download(downloads::key_download(&key.key_pem, file.0.name())?)
    }

    /// Certificates that use the key.
    #[oai(
        path = "/private-key/:id/certificate-signeds",
        method = "get",
        operation_id = "private_key_certificate_signeds",
        tag = "ApiTags::PrivateKey"
    )]
    async fn key_certificates(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<PrivateKeyCertificatesList>> {
        let key = self.0.store.private_key(PrivateKeyId(id.0)).await?;
        let paged = self
            .0
            .store
            .list_certificates_signed(
                CertificateFilter::PrivateKey(key.id),
                super::answer::page(page.0, per_page.0),
            )
            .await?;
        Ok(Json(PrivateKeyCertificatesList::of(&paged)))
    }

    /// Generates and records a private key.
    #[oai(
        path = "/private-key/new",
        method = "post",
        operation_id = "private_key_new",
        tag = "ApiTags::PrivateKey"
    )]
    async fn key_new(
        &self,
        _auth: AdminToken,
        body: PrivateKeyNewBody,
    ) -> ApiResult<Json<PrivateKeyCreatedAnswer>> {
        let f = body.into_inner();
        let technology: KeyTechnology = match f.key_technology.as_deref() {
            None | Some("") => KeyTechnology::EcP256,
            Some(t) => t.parse().map_err(peter_core::Error::from)?,
        };
        let key = ParsedPrivateKey::generate(technology).map_err(peter_core::Error::from)?;
        self.record_key(key, PrivateKeySource::Generated).await
    }

    /// Records an uploaded private key (idempotent).
    #[oai(
        path = "/private-key/upload",
        method = "post",
        operation_id = "private_key_upload",
        tag = "ApiTags::PrivateKey"
    )]
    async fn key_upload(
        &self,
        _auth: AdminToken,
        body: PrivateKeyUploadBody,
    ) -> ApiResult<Json<PrivateKeyCreatedAnswer>> {
        let f = body.into_inner();
        let key = ParsedPrivateKey::from_pem(&f.private_key_file_pem)
            .map_err(|e| ApiError::invalid("private_key_file_pem", e.to_string()))?;
        self.record_key(key, PrivateKeySource::Imported).await
    }

    /// Marks a key `active`, `inactive` or `compromised`.
    #[oai(
        path = "/private-key/:id/mark",
        method = "post",
        operation_id = "private_key_mark",
        tag = "ApiTags::PrivateKey"
    )]
    async fn key_mark(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        body: PrivateKeyMarkBody,
    ) -> ApiResult<Json<PrivateKeyMarkAnswer>> {
        let f = body.into_inner();
        let id = PrivateKeyId(id.0);
        let (key, revoked) = match f.action.as_str() {
            "active" => (
                self.0.store.set_private_key_active(id, true).await?,
                Vec::new(),
            ),
            "inactive" => (
                self.0.store.set_private_key_active(id, false).await?,
                Vec::new(),
            ),
            "compromised" => {
                let revoked = self.0.orders().compromise_private_key(id).await?;
                (self.0.store.private_key(id).await?, revoked)
            }
            other => {
                return Err(ApiError::invalid(
                    "action",
                    format!("`{other}` is not one of active, inactive, compromised"),
                ));
            }
        };
        Ok(Json(PrivateKeyMarkAnswer {
            result: "success".into(),
            PrivateKey: (&key).into(),
            revoked_certificate_signed_ids: revoked.iter().map(|c| c.0).collect(),
        }))
    }

    /// Certificate requests.
    #[oai(
        path = "/certificate-requests",
        method = "get",
        operation_id = "certificate_request_list",
        tag = "ApiTags::CertificateRequest"
    )]
    async fn csr_list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<CertificateRequestsList>> {
        let paged = self
            .0
            .store
            .list_certificate_requests(super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(CertificateRequestsList::of(&paged)))
    }

    /// One certificate request.
    #[oai(
        path = "/certificate-request/:id",
        method = "get",
        operation_id = "certificate_request_focus",
        tag = "ApiTags::CertificateRequest"
    )]
    async fn csr_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<CertificateRequestAnswer>> {
        Ok(CertificateRequestAnswer::of(
            &self
                .0
                .store
                .certificate_request(CertificateRequestId(id.0))
                .await?,
        ))
    }

    /// A certificate request's file.
    #[oai(
        path = "/certificate-request/:id/:file",
        method = "get",
        operation_id = "certificate_request_file",
        tag = "ApiTags::CertificateRequest"
    )]
    async fn csr_file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        file: Path<CsrFile>,
    ) -> ApiResult<FileDownload> {
        let name = match file.0 {
            CsrFile::CsrPem => "csr.pem",
            CsrFile::CsrPemTxt => "csr.pem.txt",
            CsrFile::CsrCsr => "csr.csr",
        };
        FileDownload::from_download(
            downloads::csr_download(self.0.store.as_ref(), CertificateRequestId(id.0), name)
                .await?,
        )
    }

    /// Name sets.
    #[oai(
        path = "/unique-fqdn-sets",
        method = "get",
        operation_id = "unique_fqdn_set_list",
        tag = "ApiTags::CertificateRequest"
    )]
    async fn set_list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<UniqueFqdnSetsList>> {
        let paged = self
            .0
            .store
            .list_unique_fqdn_sets(None, super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(UniqueFqdnSetsList::of(&paged)))
    }

    /// One name set.
    #[oai(
        path = "/unique-fqdn-set/:id",
        method = "get",
        operation_id = "unique_fqdn_set_focus",
        tag = "ApiTags::CertificateRequest"
    )]
    async fn set_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<UniqueFqdnSetAnswer>> {
        Ok(UniqueFqdnSetAnswer::of(
            &self.0.store.unique_fqdn_set(UniqueFqdnSetId(id.0)).await?,
        ))
    }
}

impl ObjectsApi {
    async fn record_key(
        &self,
        key: ParsedPrivateKey,
        source: PrivateKeySource,
    ) -> ApiResult<Json<PrivateKeyCreatedAnswer>> {
        let created = self
            .0
            .store
            .insert_private_key(NewPrivateKey {
                key,
                source,
                cycle: PrivateKeyCycle::SingleUse,
                acme_account_id_owner: None,
            })
            .await?;
        Ok(Json(PrivateKeyCreatedAnswer {
            result: "success".into(),
            PrivateKey: (&created.id).into(),
            is_created: created.created,
        }))
    }
}

/// Logs and bulk operations.
pub struct OperationsApi(pub AdminState);

impl OperationsApi {
    fn nginx(&self) -> ApiResult<&crate::nginx::NginxClient> {
        self.0.nginx.as_deref().ok_or_else(|| {
            ApiError::Conflict(Json(ErrorBody::new(
                "no nginx servers are configured (nginx.servers / PETER_NGINX_SERVERS)",
            )))
        })
    }
}

#[OpenApi]
impl OperationsApi {
    /// ACME exchanges, newest first (no bodies, keys or nonces are kept).
    #[oai(
        path = "/acme-event-logs",
        method = "get",
        operation_id = "acme_event_log_list",
        tag = "ApiTags::Log"
    )]
    async fn events(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<AcmeEventLogsList>> {
        let paged = self
            .0
            .store
            .list_acme_events(super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(AcmeEventLogsList::of(&paged)))
    }

    /// One ACME exchange.
    #[oai(
        path = "/acme-event-log/:id",
        method = "get",
        operation_id = "acme_event_log_focus",
        tag = "ApiTags::Log"
    )]
    async fn event(&self, _auth: AdminToken, id: Path<i64>) -> ApiResult<Json<AcmeEventLogAnswer>> {
        Ok(AcmeEventLogAnswer::of(
            &self.0.store.acme_event(AcmeEventLogId(id.0)).await?,
        ))
    }

    /// Operations events, newest first.
    #[oai(
        path = "/operations-events",
        method = "get",
        operation_id = "operations_event_list",
        tag = "ApiTags::Log"
    )]
    async fn operations(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<OperationsEventsList>> {
        let paged = self
            .0
            .store
            .list_operations_events(super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(OperationsEventsList::of(&paged)))
    }

    /// Monitoring in the Prometheus text format: certificates by state,
    /// each active certificate's expiry, orders by status, ACME requests by
    /// endpoint and status, renewal failures.
    #[oai(
        path = "/metrics",
        method = "get",
        operation_id = "metrics",
        tag = "ApiTags::Api"
    )]
    async fn metrics(&self, _auth: AdminToken) -> ApiResult<MetricsText> {
        let text = peter_core::services::metrics::render_prometheus(self.0.store.as_ref()).await?;
        Ok(MetricsText::Text(poem_openapi::payload::PlainText(text)))
    }

    /// Writes every active domain (or one) to Redis for the OpenResty module.
    #[oai(
        path = "/api/redis/prime",
        method = "post",
        operation_id = "api_redis_prime",
        tag = "ApiTags::Api"
    )]
    async fn redis_prime(
        &self,
        _auth: AdminToken,
        body: RedisPrimeBody,
    ) -> ApiResult<Json<RedisPrimeAnswer>> {
        let f = body.into_inner();
        let Some(redis) = self.0.redis.as_ref() else {
            return Err(ApiError::Conflict(Json(ErrorBody::new(
                "redis is not configured (redis.url / PETER_REDIS_URL)",
            ))));
        };
        let style = match f.style.as_deref() {
            None | Some("") => redis.style,
            Some(s) => s
                .parse()
                .map_err(|e: String| ApiError::invalid("style", e))?,
        };
        let report = match f.domain_name.as_deref().filter(|d| !d.is_empty()) {
            Some(name) => {
                let name =
                    peter_core::dns::DomainName::parse(name).map_err(peter_core::Error::from)?;
                redis
                    .publisher
                    .publish_domains(self.0.store.as_ref(), &[name], style)
                    .await
            }
            None => {
                redis
                    .publisher
                    .publish_all(self.0.store.as_ref(), style)
                    .await
            }
        }
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
        Ok(Json(RedisPrimeAnswer {
            result: "success".into(),
            style: match style {
                peter_core::ports::PrimeStyle::One => "1",
                peter_core::ports::PrimeStyle::Two => "2",
            }
            .into(),
            total_primed: PrimedCounts {
                domain: report.domain,
                cert: report.cert,
                pkey: report.pkey,
                certcachain: report.certcachain,
            },
        }))
    }

    /// Expires the certificate cache of every configured OpenResty server
    /// (all of it, or one domain's entry).
    #[oai(
        path = "/api/nginx/cache-flush",
        method = "post",
        operation_id = "api_nginx_cache_flush",
        tag = "ApiTags::Api"
    )]
    async fn nginx_flush(
        &self,
        _auth: AdminToken,
        body: NginxFlushBody,
    ) -> ApiResult<Json<NginxAnswer>> {
        let nginx = self.nginx()?;
        let status = match body
            .into_inner()
            .domain_name
            .as_deref()
            .filter(|d| !d.is_empty())
        {
            Some(name) => {
                nginx
                    .expire_domain(
                        &peter_core::dns::DomainName::parse(name)
                            .map_err(peter_core::Error::from)?,
                    )
                    .await
            }
            None => nginx.expire_all().await,
        };
        Ok(nginx_answer(status))
    }

    /// Each configured OpenResty server's cache status.
    #[oai(
        path = "/api/nginx/status",
        method = "post",
        operation_id = "api_nginx_status",
        tag = "ApiTags::Api"
    )]
    async fn nginx_status(&self, _auth: AdminToken) -> ApiResult<Json<NginxAnswer>> {
        Ok(nginx_answer(self.nginx()?.status().await))
    }

    /// Marks inactive every expired certificate that no domain is still
    /// served with.
    #[oai(
        path = "/api/deactivate-expired",
        method = "post",
        operation_id = "api_deactivate_expired",
        tag = "ApiTags::Api"
    )]
    async fn deactivate_expired(
        &self,
        _auth: AdminToken,
    ) -> ApiResult<Json<DeactivateExpiredAnswer>> {
        let ids = domains::deactivate_expired(self.0.store.as_ref(), self.0.clock.now()).await?;
        Ok(Json(DeactivateExpiredAnswer {
            result: "success".into(),
            CertificateSigned: ExpiredCount {
                expired: ids.len() as u64,
            },
            certificate_signed_ids: ids.iter().map(|c| c.0).collect(),
        }))
    }

    /// Enables names: `new`, `activated`, `exists` or `blocklisted` each.
    #[oai(
        path = "/api/domain/enable",
        method = "post",
        operation_id = "api_domain_enable",
        tag = "ApiTags::Api"
    )]
    async fn enable(
        &self,
        _auth: AdminToken,
        body: DomainNamesBody,
    ) -> ApiResult<Json<DomainResultsAnswer>> {
        let results =
            domains::enable_domains(self.0.store.as_ref(), &body.into_inner().domain_names).await?;
        Ok(Json(DomainResultsAnswer {
            result: "success".into(),
            domain_results: results,
        }))
    }

    /// Disables names: `deactivated`, `already deactivated` or `unknown` each.
    #[oai(
        path = "/api/domain/disable",
        method = "post",
        operation_id = "api_domain_disable",
        tag = "ApiTags::Api"
    )]
    async fn disable(
        &self,
        _auth: AdminToken,
        body: DomainNamesBody,
    ) -> ApiResult<Json<DomainResultsAnswer>> {
        let results =
            domains::disable_domains(self.0.store.as_ref(), &body.into_inner().domain_names)
                .await?;
        Ok(Json(DomainResultsAnswer {
            result: "success".into(),
            domain_results: results,
        }))
    }

    /// Makes sure one name has an active certificate: an existing one is
    /// returned without ordering; otherwise a process_single order is placed.
    #[oai(
        path = "/api/domain/certificate-if-needed",
        method = "post",
        operation_id = "api_domain_certificate_if_needed",
        tag = "ApiTags::Api"
    )]
    async fn certificate_if_needed(
        &self,
        _auth: AdminToken,
        body: CertificateIfNeededBody,
    ) -> ApiResult<Json<CertificateIfNeededAnswer>> {
        let f = body.into_inner();
        let cycle = match f.private_key_cycle.as_deref() {
            None | Some("") => None,
            Some(c) => Some(
                c.parse::<PrivateKeyCycle>()
                    .map_err(peter_core::Error::from)?,
            ),
        };
        let r = domains::certificate_if_needed(
            &self.0.orders(),
            &f.domain_name,
            f.acme_account_id.map(AcmeAccountId),
            cycle,
        )
        .await?;
        let mut domain_results = BTreeMap::new();
        domain_results.insert(
            r.domain_name,
            CertificateIfNeededResult {
                domain_status: r.domain_status,
                domain_id: r.domain_id,
                certificate_status: r.certificate_status,
                certificate_signed_id: r.certificate_signed_id,
                acme_order_id: r.acme_order_id,
                error: r.error,
            },
        );
        Ok(Json(CertificateIfNeededAnswer {
            result: "success".into(),
            domain_results,
        }))
    }
}
