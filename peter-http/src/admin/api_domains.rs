//! Domains: lists, focus, config.json, related lists, new and mark.

use peter_core::dns::DomainName;
use peter_core::ports::{CertificateFilter, OrderFilter};
use peter_core::services::publish::{self, CertificateConfig, DomainConfig, PemRef};
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;

use super::answer::*;
use super::auth::{AdminToken, ConfigReader};
use super::body::json_or_form;
use super::views::*;
use super::{AdminState, ApiTags};

list_answer!(DomainsList, "Domains", DomainView);
object_answer!(DomainAnswer, "Domain", DomainView);
list_answer!(
    DomainCertificatesList,
    "CertificateSigneds",
    CertificateSignedView
);
list_answer!(DomainOrdersList, "AcmeOrders", AcmeOrderView);
list_answer!(
    DomainAuthorizationsList,
    "AcmeAuthorizations",
    AcmeAuthorizationView
);
list_answer!(DomainChallengesList, "AcmeChallenges", AcmeChallengeView);
list_answer!(DomainSetsList, "UniqueFQDNSets", UniqueFqdnSetView);

/// A new domain.
#[derive(Debug, Object, Deserialize)]
pub struct DomainNew {
    /// The name (IDNA allowed; stored as punycode, lowercase).
    pub domain_name: String,
}
json_or_form!(DomainNewBody, DomainNew);

/// What `domain/new` did.
#[derive(Debug, Object)]
pub struct DomainNewAnswer {
    /// Always `success`.
    pub result: String,
    /// The domain.
    #[oai(rename = "Domain")]
    pub domain: DomainView,
    /// Whether this call recorded it.
    pub is_created: bool,
}

/// A domain mark.
#[derive(Debug, Object, Deserialize)]
pub struct DomainMark {
    /// `active` or `inactive`.
    pub action: String,
}
json_or_form!(DomainMarkBody, DomainMark);

/// An id and, unless ids only were asked for, its PEM.
#[derive(Debug, Clone, Object)]
pub struct PemRefView {
    /// The id, as a string.
    pub id: String,
    /// The PEM.
    #[oai(skip_serializing_if_is_none)]
    pub pem: Option<String>,
}

impl From<&PemRef> for PemRefView {
    fn from(r: &PemRef) -> Self {
        Self {
            id: r.id.clone(),
            pem: r.pem.clone(),
        }
    }
}

/// A certificate as a web server installs it.
#[derive(Debug, Clone, Object)]
pub struct CertificateConfigView {
    /// The certificate's id.
    pub id: String,
    /// Its private key.
    pub private_key: PemRefView,
    /// The certificate.
    pub certificate: PemRefView,
    /// The preferred chain (none for a certificate uploaded without one).
    #[oai(nullable)]
    pub chain: Option<PemRefView>,
    /// Certificate then chain; the id is `"<cert>,<chain>"`.
    pub fullchain: PemRefView,
}

impl From<&CertificateConfig> for CertificateConfigView {
    fn from(c: &CertificateConfig) -> Self {
        Self {
            id: c.id.clone(),
            private_key: (&c.private_key).into(),
            certificate: (&c.certificate).into(),
            chain: c.chain.as_ref().map(Into::into),
            fullchain: (&c.fullchain).into(),
        }
    }
}

/// The domain part of a config.json.
#[derive(Debug, Clone, Object)]
pub struct DomainConfigDomain {
    /// Its id, as a string.
    pub id: String,
    /// Its name.
    pub domain_name: String,
    /// Whether peter serves it (an inactive domain has no certificates here).
    pub is_active: bool,
}

/// A domain's config.json.
#[derive(Debug, Clone, Object)]
#[allow(non_snake_case)]
pub struct DomainConfigView {
    /// The domain.
    pub domain: DomainConfigDomain,
    /// The newest active certificate for this name alone.
    #[oai(nullable)]
    pub certificate_signed__latest_single: Option<CertificateConfigView>,
    /// The newest active certificate naming it among others.
    #[oai(nullable)]
    pub certificate_signed__latest_multi: Option<CertificateConfigView>,
}

impl From<&DomainConfig> for DomainConfigView {
    fn from(c: &DomainConfig) -> Self {
        Self {
            domain: DomainConfigDomain {
                id: c.domain.id.clone(),
                domain_name: c.domain.domain_name.clone(),
                is_active: c.domain.is_active,
            },
            certificate_signed__latest_single: c.latest_single.as_ref().map(Into::into),
            certificate_signed__latest_multi: c.latest_multi.as_ref().map(Into::into),
        }
    }
}

pub(crate) fn truthy(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("1" | "true" | "yes" | "on"))
}

/// Domain routes.
pub struct DomainsApi(pub AdminState);

#[OpenApi(tag = "ApiTags::Domain")]
impl DomainsApi {
    /// Domains, by name.
    #[oai(path = "/domains", method = "get", operation_id = "domain_list")]
    async fn list(
        &self,
        _auth: AdminToken,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<DomainsList>> {
        let paged = self
            .0
            .store
            .list_domains(super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(DomainsList::of(&paged)))
    }

    /// One domain, by id (digits) or name (any case).
    #[oai(
        path = "/domain/:identifier",
        method = "get",
        operation_id = "domain_focus"
    )]
    async fn focus(
        &self,
        _auth: AdminToken,
        identifier: Path<String>,
    ) -> ApiResult<Json<DomainAnswer>> {
        let d = publish::domain_by_identifier(self.0.store.as_ref(), &identifier.0).await?;
        Ok(DomainAnswer::of(&d))
    }

    /// The certificate a web server should serve for the domain, always
    /// current. Accepts the admin token, the gateway token, or no token from
    /// a configured gateway network. `?id_only=1` leaves the PEMs out.
    #[oai(
        path = "/domain/:identifier/config.json",
        method = "get",
        operation_id = "domain_config"
    )]
    async fn config(
        &self,
        req: &Request,
        auth: ConfigReader,
        identifier: Path<String>,
        id_only: Query<Option<String>>,
    ) -> ApiResult<Json<DomainConfigView>> {
        if matches!(auth, ConfigReader::Network) {
            let ip = req.remote_addr().as_socket_addr().map(|a| a.ip());
            if !self.0.access.is_gateway_network(ip) {
                return Err(ApiError::Unauthorized(Json(ErrorBody::new(
                    "a valid `Authorization: Bearer <token>` header is required",
                ))));
            }
        }
        let config =
            publish::domain_config(self.0.store.as_ref(), &identifier.0, truthy(&id_only.0))
                .await?;
        Ok(Json((&config).into()))
    }

    /// Certificates whose names include the domain, newest first.
    #[oai(
        path = "/domain/:identifier/certificate-signeds",
        method = "get",
        operation_id = "domain_certificate_signeds"
    )]
    async fn certificates(
        &self,
        _auth: AdminToken,
        identifier: Path<String>,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<DomainCertificatesList>> {
        let d = publish::domain_by_identifier(self.0.store.as_ref(), &identifier.0).await?;
        let paged = self
            .0
            .store
            .list_certificates_signed(
                CertificateFilter::Domain(d.id),
                super::answer::page(page.0, per_page.0),
            )
            .await?;
        Ok(Json(DomainCertificatesList::of(&paged)))
    }

    /// Orders whose names include the domain, newest first.
    #[oai(
        path = "/domain/:identifier/acme-orders",
        method = "get",
        operation_id = "domain_acme_orders"
    )]
    async fn orders(
        &self,
        _auth: AdminToken,
        identifier: Path<String>,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<DomainOrdersList>> {
        let d = publish::domain_by_identifier(self.0.store.as_ref(), &identifier.0).await?;
        let paged = self
            .0
            .store
            .list_acme_orders(
                OrderFilter::Domain(d.id),
                super::answer::page(page.0, per_page.0),
            )
            .await?;
        Ok(Json(DomainOrdersList::of(&paged)))
    }

    /// Authorizations for the domain, newest first.
    #[oai(
        path = "/domain/:identifier/acme-authorizations",
        method = "get",
        operation_id = "domain_acme_authorizations"
    )]
    async fn authorizations(
        &self,
        _auth: AdminToken,
        identifier: Path<String>,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<DomainAuthorizationsList>> {
        let d = publish::domain_by_identifier(self.0.store.as_ref(), &identifier.0).await?;
        let paged = self
            .0
            .store
            .list_acme_authorizations(Some(d.id), super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(DomainAuthorizationsList::of(&paged)))
    }

    /// Challenges for the domain, newest first.
    #[oai(
        path = "/domain/:identifier/acme-challenges",
        method = "get",
        operation_id = "domain_acme_challenges"
    )]
    async fn challenges(
        &self,
        _auth: AdminToken,
        identifier: Path<String>,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<DomainChallengesList>> {
        let d = publish::domain_by_identifier(self.0.store.as_ref(), &identifier.0).await?;
        let paged = self
            .0
            .store
            .list_acme_challenges(Some(d.id), super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(DomainChallengesList::of(&paged)))
    }

    /// Name sets that include the domain, newest first.
    #[oai(
        path = "/domain/:identifier/unique-fqdn-sets",
        method = "get",
        operation_id = "domain_unique_fqdn_sets"
    )]
    async fn sets(
        &self,
        _auth: AdminToken,
        identifier: Path<String>,
        page: Query<Option<u64>>,
        per_page: Query<Option<u64>>,
    ) -> ApiResult<Json<DomainSetsList>> {
        let d = publish::domain_by_identifier(self.0.store.as_ref(), &identifier.0).await?;
        let paged = self
            .0
            .store
            .list_unique_fqdn_sets(Some(d.id), super::answer::page(page.0, per_page.0))
            .await?;
        Ok(Json(DomainSetsList::of(&paged)))
    }

    /// Records a domain (idempotent: `is_created` says whether it was new).
    #[oai(path = "/domain/new", method = "post", operation_id = "domain_new")]
    async fn new_domain(
        &self,
        _auth: AdminToken,
        body: DomainNewBody,
    ) -> ApiResult<Json<DomainNewAnswer>> {
        let created = peter_core::services::domains::add_domain(
            self.0.store.as_ref(),
            &body.into_inner().domain_name,
        )
        .await?;
        let domain = created.id;
        Ok(Json(DomainNewAnswer {
            result: "success".into(),
            domain: (&domain).into(),
            is_created: created.created,
        }))
    }

    /// Expires the domain's entry in every configured OpenResty server's cache.
    #[oai(
        path = "/domain/:identifier/nginx-cache-expire",
        method = "post",
        operation_id = "domain_nginx_cache_expire"
    )]
    async fn nginx_expire(
        &self,
        _auth: AdminToken,
        identifier: Path<String>,
    ) -> ApiResult<Json<super::api_misc::NginxAnswer>> {
        let d = publish::domain_by_identifier(self.0.store.as_ref(), &identifier.0).await?;
        let Some(nginx) = self.0.nginx.as_deref() else {
            return Err(ApiError::Conflict(Json(ErrorBody::new(
                "no nginx servers are configured (nginx.servers / PETER_NGINX_SERVERS)",
            ))));
        };
        let name = DomainName::parse(&d.domain_name).map_err(peter_core::Error::from)?;
        Ok(super::api_misc::nginx_answer(
            nginx.expire_domain(&name).await,
        ))
    }

    /// Marks a domain `active` or `inactive` (an inactive domain's
    /// config.json has no certificates, and it is not renewed).
    #[oai(
        path = "/domain/:identifier/mark",
        method = "post",
        operation_id = "domain_mark"
    )]
    async fn mark(
        &self,
        _auth: AdminToken,
        identifier: Path<String>,
        body: DomainMarkBody,
    ) -> ApiResult<Json<DomainAnswer>> {
        let body = body.into_inner();
        let active = match body.action.as_str() {
            "active" => true,
            "inactive" => false,
            other => {
                return Err(ApiError::invalid(
                    "action",
                    format!("`{other}` is not one of active, inactive"),
                ));
            }
        };
        let d = publish::domain_by_identifier(self.0.store.as_ref(), &identifier.0).await?;
        let d = self.0.store.set_domain_active(d.id, active).await?;
        for cert in [
            d.certificate_signed_id_latest_single,
            d.certificate_signed_id_latest_multi,
        ]
        .into_iter()
        .flatten()
        {
            self.0.after_certificate_change(cert).await;
        }
        Ok(DomainAnswer::of(&d))
    }
}
