//! Domains: lists, focus, config.json, related lists, new and mark.

use peter_core::model::rules::DomainMark;
use peter_core::ports::DomainFilter;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::Deserialize;

use super::answer::*;
use super::auth::{AdminToken, ConfigReader};
use super::body::JsonOrForm;
use super::{AdminState, ApiTags};
use crate::views::*;
use crate::wire::{AutocertQuery, DomainConfigQuery, Paging, Wire, query_params};

query_params! {
    /// Which domains a list shows.
    pub struct DomainQuery {
        /// Only names containing this text.
        domain_name: String,
        /// Only active (`true`) or inactive (`false`) domains.
        active: bool,
    }
}

/// A new domain.
#[derive(Debug, Object, Deserialize)]
pub struct DomainNew {
    /// The name (IDNA allowed; stored as punycode, lowercase).
    pub domain_name: String,
}

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
pub struct DomainMarkFields {
    /// The mark.
    pub action: Wire<DomainMark>,
}

/// The CNAME that delegates a name's DNS-01 challenges to peter's DNS.
#[derive(Debug, Object)]
pub struct DnsDelegationView {
    /// `_acme-challenge.example.com` (a wildcard and its apex share it).
    pub record: String,
    /// The CNAME's target, `<label>.<peter's zone>`.
    pub target: String,
}

/// A delegation, as `GET domain/{identifier}/dns-delegation` answers it.
#[derive(Debug, Object)]
pub struct DnsDelegationAnswer {
    /// Always `success`.
    pub result: String,
    /// The record to create.
    #[oai(rename = "DnsDelegation")]
    pub dns_delegation: DnsDelegationView,
}

/// How a domain is validated.
#[derive(Debug, Object, Deserialize)]
pub struct DomainChallengeTypeFields {
    /// `http-01` (the default) or `dns-01` (through the configured DNS-01
    /// method); a wildcard is validated by dns-01 only.
    pub challenge_type: Wire<peter_core::model::AcmeChallengeType>,
}

/// A domain after a mark.
#[derive(Debug, Object)]
pub struct DomainMarkAnswer {
    /// Always `success`.
    pub result: String,
    /// The domain.
    #[oai(rename = "Domain")]
    pub domain: DomainView,
    /// What re-publishing did.
    pub publication: PublicationView,
}

/// The name a gateway has no certificate for.
#[derive(Debug, Object, Deserialize)]
pub struct AutocertFields {
    /// The host name (the TLS handshake's SNI).
    #[serde(default)]
    pub domain_name: String,
}

/// The order autocert placed.
#[derive(Debug, Object)]
pub struct AutocertOrderRef {
    /// Its id.
    pub id: i64,
}

/// autocert's answer: the domain's config.json, with what was done.
#[derive(Debug, Object)]
#[allow(non_snake_case)]
pub struct AutocertAnswer {
    /// Always `success`.
    pub result: String,
    /// `existing certificate(s)` or `new AcmeOrder, <status>`.
    pub notes: String,
    /// The domain.
    pub domain: DomainConfigDomain,
    /// The newest active certificate for this name alone.
    #[oai(nullable)]
    pub certificate_signed__latest_single: Option<CertificateConfigView>,
    /// The newest active certificate naming it among others.
    #[oai(nullable)]
    pub certificate_signed__latest_multi: Option<CertificateConfigView>,
    /// The order placed, when one was.
    #[oai(skip_serializing_if_is_none)]
    pub AcmeOrder: Option<AutocertOrderRef>,
    /// What re-publishing did.
    pub publication: PublicationView,
}

/// Domain routes.
pub struct DomainsApi(pub AdminState);

impl DomainsApi {
    async fn autocert_answer(
        &self,
        req: &Request,
        auth: ConfigReader,
        query: AutocertQuery,
        fields: AutocertFields,
    ) -> ApiResult<Json<AutocertAnswer>> {
        if query.openresty.is_some_and(|f| f.0) {
            tracing::debug!(domain = %fields.domain_name, "autocert asked for by the OpenResty module");
        }
        if matches!(auth, ConfigReader::Network) {
            let ip = req.remote_addr().as_socket_addr().map(|a| a.ip());
            if !self.0.access.is_gateway_network(ip) {
                return Err(ApiError::unauthorized());
            }
        }
        let changed = self.0.peter.domains().autocert(&fields.domain_name).await?;
        let view = DomainConfigView::from(&changed.value.config);
        Ok(Json(AutocertAnswer {
            result: "success".into(),
            notes: changed.value.notes.clone(),
            domain: view.domain,
            certificate_signed__latest_single: view.certificate_signed__latest_single,
            certificate_signed__latest_multi: view.certificate_signed__latest_multi,
            AcmeOrder: changed
                .value
                .acme_order_id
                .map(|id| AutocertOrderRef { id: id.0 }),
            publication: (&changed.publication).into(),
        }))
    }
}

#[OpenApi(tag = "ApiTags::Domain")]
impl DomainsApi {
    /// Domains, by name.
    #[oai(path = "/domains", method = "get", operation_id = "domain_list")]
    async fn list(
        &self,
        _auth: AdminToken,
        filter: DomainQuery,
        paging: Paging,
    ) -> ApiResult<Json<DomainsList>> {
        let filter = DomainFilter {
            name_contains: filter.domain_name,
            active: filter.active,
        };
        let paged = self.0.peter.domains().list(filter, paging.page()).await?;
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
        let d = self.0.peter.domains().get(&identifier.0).await?;
        Ok(Json(DomainAnswer::of(&d)))
    }

    /// The certificate a web server should serve for the domain, always
    /// current. Accepts the admin token, the gateway token, or no token from
    /// a configured gateway network. `?id_only=true` leaves the PEMs out;
    /// `?openresty=1` (the OpenResty module, after a Redis miss) also
    /// writes the domain to Redis when Redis is configured.
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
        query: DomainConfigQuery,
    ) -> ApiResult<Json<DomainConfigView>> {
        if matches!(auth, ConfigReader::Network) {
            let ip = req.remote_addr().as_socket_addr().map(|a| a.ip());
            if !self.0.access.is_gateway_network(ip) {
                return Err(ApiError::unauthorized());
            }
        }
        let domains = self.0.peter.domains();
        let config = if query.openresty.is_some_and(|f| f.0) {
            // The module missed Redis: the answer also primes it.
            domains
                .config_for_openresty(&identifier.0, query.id_only())
                .await?
        } else {
            domains.config(&identifier.0, query.id_only()).await?
        };
        Ok(Json((&config).into()))
    }

    /// A certificate for a name a gateway met without one (the OpenResty
    /// module calls it on a Redis miss): the existing one, or one ordered
    /// now for a name matching `autocert.allow`, at most once per name per
    /// 10 minutes and 30 times an hour across the fleet (429 with
    /// Retry-After beyond). Blocklisted and disabled names are refused.
    /// Accepts the admin token, the gateway token, or no token from a
    /// configured gateway network; the body may be a form without a
    /// Content-Type, as the module sends it.
    #[oai(
        path = "/api/domain/autocert",
        method = "post",
        operation_id = "api_domain_autocert"
    )]
    async fn autocert(
        &self,
        req: &Request,
        auth: ConfigReader,
        query: AutocertQuery,
        body: JsonOrForm<AutocertFields>,
    ) -> ApiResult<Json<AutocertAnswer>> {
        self.autocert_answer(req, auth, query, body.into_inner())
            .await
    }

    /// `api/domain/autocert` as the OpenResty module spells it
    /// (`autocert.json?openresty=1`): the same operation.
    #[oai(
        path = "/api/domain/autocert.json",
        method = "post",
        operation_id = "api_domain_autocert_json"
    )]
    async fn autocert_json(
        &self,
        req: &Request,
        auth: ConfigReader,
        query: AutocertQuery,
        body: JsonOrForm<AutocertFields>,
    ) -> ApiResult<Json<AutocertAnswer>> {
        self.autocert_answer(req, auth, query, body.into_inner())
            .await
    }

    /// autocert's attempts (those that went as far as ordering), newest first.
    #[oai(
        path = "/domain-autocerts",
        method = "get",
        operation_id = "domain_autocert_list"
    )]
    async fn autocerts(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<DomainAutocertsList>> {
        let paged = self.0.peter.domains().autocerts(paging.page()).await?;
        Ok(Json(DomainAutocertsList::of(&paged)))
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
        paging: Paging,
    ) -> ApiResult<Json<CertificatesList>> {
        let paged = self
            .0
            .peter
            .domains()
            .certificates(&identifier.0, paging.page())
            .await?;
        Ok(Json(CertificatesList::of(&paged)))
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
        paging: Paging,
    ) -> ApiResult<Json<AcmeOrdersList>> {
        let paged = self
            .0
            .peter
            .domains()
            .orders(&identifier.0, paging.page())
            .await?;
        Ok(Json(AcmeOrdersList::of(&paged)))
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
        paging: Paging,
    ) -> ApiResult<Json<AcmeAuthorizationsList>> {
        let paged = self
            .0
            .peter
            .domains()
            .authorizations(&identifier.0, paging.page())
            .await?;
        Ok(Json(AcmeAuthorizationsList::of(&paged)))
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
        paging: Paging,
    ) -> ApiResult<Json<AcmeChallengesList>> {
        let paged = self
            .0
            .peter
            .domains()
            .challenges(&identifier.0, paging.page())
            .await?;
        Ok(Json(AcmeChallengesList::of(&paged)))
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
        paging: Paging,
    ) -> ApiResult<Json<UniqueFqdnSetsList>> {
        let paged = self
            .0
            .peter
            .domains()
            .unique_fqdn_sets(&identifier.0, paging.page())
            .await?;
        Ok(Json(UniqueFqdnSetsList::of(&paged)))
    }

    /// Records a domain (idempotent: `is_created` says whether it was new).
    #[oai(path = "/domain/new", method = "post", operation_id = "domain_new")]
    async fn new_domain(
        &self,
        _auth: AdminToken,
        body: JsonOrForm<DomainNew>,
    ) -> ApiResult<Json<DomainNewAnswer>> {
        let created = self
            .0
            .peter
            .domains()
            .add(&body.into_inner().domain_name)
            .await?;
        Ok(Json(DomainNewAnswer {
            result: "success".into(),
            domain: (&created.id).into(),
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
    ) -> ApiResult<Json<super::operations::NginxAnswer>> {
        let status = self
            .0
            .peter
            .publishing()
            .nginx_expire_domain(&identifier.0)
            .await?;
        Ok(super::operations::nginx_answer(status))
    }

    /// The CNAME to create so that peter's own DNS answers the name's
    /// DNS-01 challenges (409 unless `[dns.peter]` is configured).
    #[oai(
        path = "/domain/:identifier/dns-delegation",
        method = "get",
        operation_id = "domain_dns_delegation"
    )]
    async fn dns_delegation(
        &self,
        _auth: AdminToken,
        identifier: Path<String>,
    ) -> ApiResult<Json<DnsDelegationAnswer>> {
        let d = self.0.peter.domains().dns_delegation(&identifier.0).await?;
        Ok(Json(DnsDelegationAnswer {
            result: "success".into(),
            dns_delegation: DnsDelegationView {
                record: d.record,
                target: d.target,
            },
        }))
    }

    /// Sets how orders validate a domain: `http-01` or `dns-01`. Nothing
    /// that is served changes.
    #[oai(
        path = "/domain/:identifier/challenge-type",
        method = "post",
        operation_id = "domain_challenge_type"
    )]
    async fn challenge_type(
        &self,
        _auth: AdminToken,
        identifier: Path<String>,
        body: JsonOrForm<DomainChallengeTypeFields>,
    ) -> ApiResult<Json<DomainAnswer>> {
        let d = self
            .0
            .peter
            .domains()
            .set_challenge_type(&identifier.0, body.into_inner().challenge_type.0)
            .await?;
        Ok(Json(DomainAnswer::of(&d)))
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
        body: JsonOrForm<DomainMarkFields>,
    ) -> ApiResult<Json<DomainMarkAnswer>> {
        let changed = self
            .0
            .peter
            .domains()
            .mark(&identifier.0, body.into_inner().action.0)
            .await?;
        Ok(Json(DomainMarkAnswer {
            result: "success".into(),
            domain: (&changed.value).into(),
            publication: (&changed.publication).into(),
        }))
    }
}
