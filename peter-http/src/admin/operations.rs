//! The bulk `api/` operations (domain enable/disable, certificate if
//! needed, deactivate expired), Redis priming, nginx/OpenResty caches and
//! the metrics.

use std::collections::BTreeMap;

use peter_core::app::Peter;
use peter_core::model::*;
use peter_core::ports::{PrimeStyle, ServersStatus};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;

use super::ApiTags;
use super::answer::*;
use super::auth::AdminToken;
use super::body::JsonOrForm;
use crate::views::*;
use crate::wire::{Wire, empty_as_none};

/// Names to enable or disable.
#[derive(Debug, Object, Deserialize)]
pub struct DomainNamesFields {
    /// Names, separated by commas or spaces.
    pub domain_names: String,
}

/// What happened to each name.
#[derive(Debug, Object)]
pub struct DomainResultsAnswer {
    /// Always `success`.
    pub result: String,
    /// Each name's outcome.
    pub domain_results: BTreeMap<String, String>,
    /// What re-publishing did.
    pub publication: PublicationView,
}

/// A name that must have a certificate.
#[derive(Debug, Object, Deserialize)]
pub struct CertificateIfNeededFields {
    /// The name.
    pub domain_name: String,
    /// The ordering account (default: the global default account).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub acme_account_id: Option<i64>,
    /// Key cycle (default: the account's).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub private_key_cycle: Option<Wire<PrivateKeyCycle>>,
}

/// What certificate-if-needed did for its name.
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
    /// The certificate, when there is one.
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
    /// The name's outcome.
    pub domain_results: BTreeMap<String, CertificateIfNeededResult>,
    /// What re-publishing did.
    pub publication: PublicationView,
}

/// How many certificates were retired.
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
    /// The count.
    pub CertificateSigned: ExpiredCount,
    /// The certificates marked inactive.
    pub certificate_signed_ids: Vec<i64>,
    /// What re-publishing did.
    pub publication: PublicationView,
}

/// What to prime.
#[derive(Debug, Object, Deserialize)]
pub struct RedisPrimeFields {
    /// The key layout (default: the configured one).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub style: Option<Wire<PrimeStyle>>,
    /// Only this domain (default: every active domain).
    #[serde(default)]
    pub domain_name: Option<String>,
}

/// What a priming wrote.
#[derive(Debug, Object)]
pub struct PrimedCounts {
    /// Domains.
    pub domain: u64,
    /// Certificates (style 1).
    pub cert: u64,
    /// Keys (style 1).
    pub pkey: u64,
    /// Chains (style 1).
    pub certcachain: u64,
}

/// api/redis/prime's answer.
#[derive(Debug, Object)]
pub struct RedisPrimeAnswer {
    /// Always `success`.
    pub result: String,
    /// The layout written.
    pub style: Wire<PrimeStyle>,
    /// What was written.
    pub total_primed: PrimedCounts,
}

/// What to expire.
#[derive(Debug, Object, Deserialize)]
pub struct NginxFlushFields {
    /// Only this domain's entry (default: the whole cache).
    #[serde(default)]
    pub domain_name: Option<String>,
}

/// Each OpenResty server's answer.
#[derive(Debug, Object)]
pub struct NginxAnswer {
    /// `success` when every server answered so, else `error`.
    pub result: String,
    /// `success` and `errors` (server lists) and `servers` (each one's answer).
    pub servers_status: serde_json::Value,
}

pub(crate) fn nginx_answer(status: ServersStatus) -> Json<NginxAnswer> {
    Json(NginxAnswer {
        result: if status.errors.is_empty() {
            "success"
        } else {
            "error"
        }
        .into(),
        servers_status: serde_json::to_value(&status).unwrap_or_default(),
    })
}

/// This API's version.
#[derive(Debug, Object)]
pub struct VersionAnswer {
    /// Always `success`.
    pub result: String,
    /// The admin API's version (the document's `info.version`).
    pub api_version: String,
}

/// Bulk, Redis, nginx and metrics routes.
pub struct OperationsApi(pub Peter);

#[OpenApi(tag = "ApiTags::Api")]
impl OperationsApi {
    /// The admin API's version (no token: it holds no data).
    #[oai(path = "/api/version", method = "get", operation_id = "version")]
    async fn version(&self) -> ApiResult<Json<VersionAnswer>> {
        Ok(Json(VersionAnswer {
            result: "success".into(),
            api_version: env!("CARGO_PKG_VERSION").into(),
        }))
    }

    /// Monitoring in the Prometheus text format: certificates by state and
    /// by expiry horizon, the earliest expiry, domains, orders by status,
    /// ACME requests by endpoint and status, renewal failures. A bounded set
    /// of series whatever the store's size; `per_certificate=true` adds one
    /// expiry series per active certificate.
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(
        &self,
        _auth: AdminToken,
        /// Add `peter_certificate_expiration_timestamp_seconds{id,domain}`,
        /// one series per active certificate (default false).
        per_certificate: poem_openapi::param::Query<Option<bool>>,
    ) -> ApiResult<MetricsText> {
        let text = self
            .0
            .publishing()
            .metrics(per_certificate.0.unwrap_or(false))
            .await?;
        Ok(MetricsText::Text(poem_openapi::payload::PlainText(text)))
    }

    /// Writes every active domain (or one) to Redis for the OpenResty module.
    #[oai(
        path = "/api/redis/prime",
        method = "post",
        operation_id = "api_redis_prime"
    )]
    async fn redis_prime(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<RedisPrimeFields>,
    ) -> ApiResult<Json<RedisPrimeAnswer>> {
        let f = body.into_inner();
        let (style, report) = self
            .0
            .publishing()
            .redis_prime(
                f.style.map(|s| s.0),
                f.domain_name.as_deref().filter(|d| !d.is_empty()),
            )
            .await?;
        Ok(Json(RedisPrimeAnswer {
            result: "success".into(),
            style: Wire(style),
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
        operation_id = "api_nginx_cache_flush"
    )]
    async fn nginx_flush(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<NginxFlushFields>,
    ) -> ApiResult<Json<NginxAnswer>> {
        let domain = body.into_inner().domain_name.filter(|d| !d.is_empty());
        let status = self
            .0
            .publishing()
            .nginx_expire(domain.map(|d| vec![d]).as_deref())
            .await?;
        Ok(nginx_answer(status))
    }

    /// Each configured OpenResty server's cache status.
    #[oai(
        path = "/api/nginx/status",
        method = "post",
        operation_id = "api_nginx_status"
    )]
    async fn nginx_status(&self, _auth: AdminToken) -> ApiResult<Json<NginxAnswer>> {
        Ok(nginx_answer(self.0.publishing().nginx_status().await?))
    }

    /// Marks inactive every expired certificate that no domain is still
    /// served with.
    #[oai(
        path = "/api/deactivate-expired",
        method = "post",
        operation_id = "api_deactivate_expired"
    )]
    async fn deactivate_expired(
        &self,
        _auth: AdminToken,
    ) -> ApiResult<Json<DeactivateExpiredAnswer>> {
        let changed = self.0.certificates().deactivate_expired().await?;
        Ok(Json(DeactivateExpiredAnswer {
            result: "success".into(),
            CertificateSigned: ExpiredCount {
                expired: u64::try_from(changed.value.len()).unwrap_or(u64::MAX),
            },
            certificate_signed_ids: changed.value.iter().map(|c| c.0).collect(),
            publication: (&changed.publication).into(),
        }))
    }

    /// Enables names: `new`, `activated`, `exists` or `blocklisted` each.
    #[oai(
        path = "/api/domain/enable",
        method = "post",
        operation_id = "api_domain_enable"
    )]
    async fn enable(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<DomainNamesFields>,
    ) -> ApiResult<Json<DomainResultsAnswer>> {
        let changed = self
            .0
            .domains()
            .enable(&body.into_inner().domain_names)
            .await?;
        Ok(Json(DomainResultsAnswer {
            result: "success".into(),
            publication: (&changed.publication).into(),
            domain_results: changed.value,
        }))
    }

    /// Disables names: `deactivated`, `already deactivated` or `unknown` each.
    #[oai(
        path = "/api/domain/disable",
        method = "post",
        operation_id = "api_domain_disable"
    )]
    async fn disable(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<DomainNamesFields>,
    ) -> ApiResult<Json<DomainResultsAnswer>> {
        let changed = self
            .0
            .domains()
            .disable(&body.into_inner().domain_names)
            .await?;
        Ok(Json(DomainResultsAnswer {
            result: "success".into(),
            publication: (&changed.publication).into(),
            domain_results: changed.value,
        }))
    }

    /// Makes sure one name has an active certificate: an existing one is
    /// returned without ordering; otherwise a process_single order is placed.
    #[oai(
        path = "/api/domain/certificate-if-needed",
        method = "post",
        operation_id = "api_domain_certificate_if_needed"
    )]
    async fn certificate_if_needed(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<CertificateIfNeededFields>,
    ) -> ApiResult<Json<CertificateIfNeededAnswer>> {
        let f = body.into_inner();
        let changed = self
            .0
            .domains()
            .certificate_if_needed(
                &f.domain_name,
                f.acme_account_id.map(AcmeAccountId),
                f.private_key_cycle.map(|c| c.0),
            )
            .await?;
        let publication = (&changed.publication).into();
        let r = changed.value;
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
            publication,
        }))
    }
}
