//! Domains: the names peter manages, the blocklist, bulk enable and
//! disable, certificate-if-needed, and what a web server is sent for one.

use std::collections::BTreeMap;

use super::{Affected, Changed, Peter};
use crate::dns::DomainName;
use crate::error::Error;
use crate::model::rules::DomainMark;
use crate::model::*;
use crate::ports::*;
use crate::services;

pub use crate::services::domains::CertificateIfNeeded;

/// What autocert did for a name.
#[derive(Debug, Clone)]
pub struct Autocert {
    /// The domain's config.json after the attempt.
    pub config: services::publish::DomainConfig,
    /// `existing certificate(s)` or `new AcmeOrder, <status>`.
    pub notes: String,
    /// The order placed, when one was.
    pub acme_order_id: Option<AcmeOrderId>,
}
pub use crate::services::publish::DomainIdentifier;

/// Domain operations.
pub struct Domains<'a> {
    pub(crate) peter: &'a Peter,
}

impl Domains<'_> {
    /// A page of domains, by name.
    pub async fn list(&self, filter: DomainFilter, page: Page) -> Result<Paged<Domain>, Error> {
        Ok(self.peter.store().list_domains(&filter, page).await?)
    }

    /// A domain by id (all digits) or by name (any case, IDNA allowed).
    pub async fn get(&self, identifier: &str) -> Result<Domain, Error> {
        services::publish::domain_by_identifier(self.peter.store(), identifier).await
    }

    /// The domain with this id or name, `None` when peter has none (an
    /// identifier that is neither is still an error).
    pub async fn find(&self, identifier: &str) -> Result<Option<Domain>, Error> {
        match self.get(identifier).await {
            Ok(domain) => Ok(Some(domain)),
            Err(e) if e.kind() == crate::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Records a domain (idempotent): a valid name, neither blocklisted nor
    /// a wildcard.
    pub async fn add(&self, name: &str) -> Result<Created<Domain>, Error> {
        services::domains::add_domain(self.peter.store(), name).await
    }

    /// Marks a domain active or inactive; what it serves changes with it.
    pub async fn mark(&self, identifier: &str, mark: DomainMark) -> Result<Changed<Domain>, Error> {
        let domain = self.get(identifier).await?;
        let active = mark == DomainMark::Active;
        crate::model::rules::mark_domain(&domain, active)?;
        let domain = self
            .peter
            .store()
            .set_domain_active(domain.id, active)
            .await?;
        let name = DomainName::parse(&domain.domain_name)?;
        Ok(self
            .peter
            .changed(domain, Affected::Domains(vec![name]))
            .await)
    }

    /// Sets how orders validate a domain: `http-01` (the default) or
    /// `dns-01` (through the configured DNS-01 method). A wildcard is
    /// validated by dns-01 only. Nothing that is served changes.
    pub async fn set_challenge_type(
        &self,
        identifier: &str,
        challenge_type: AcmeChallengeType,
    ) -> Result<Domain, Error> {
        let domain = self.get(identifier).await?;
        crate::model::rules::check_domain_challenge_type(&domain.domain_name, challenge_type)?;
        Ok(self
            .peter
            .store()
            .set_domain_challenge_type(domain.id, challenge_type)
            .await?)
    }

    /// The CNAME to create so that peter's own DNS answers the name's
    /// DNS-01 challenges (its label is made on first use, then kept). The
    /// name need not be recorded yet.
    pub async fn dns_delegation(&self, identifier: &str) -> Result<DnsDelegation, Error> {
        // A recorded domain by id or name; any valid name otherwise.
        let name = match self.find(identifier).await? {
            Some(d) => DomainName::parse(&d.domain_name)?,
            None => DomainName::parse(identifier)?,
        };
        name.require_dns()?;
        let zone = self
            .peter
            .dns_solver()
            .and_then(|s| s.delegation_zone())
            .ok_or(Error::Unconfigured("peter's own DNS (`[dns.peter]`)"))?
            .to_string();
        let base = name.as_str().strip_prefix("*.").unwrap_or(name.as_str());
        let label = self
            .peter
            .store()
            .dns_delegation_label(base, &new_delegation_label())
            .await?;
        Ok(DnsDelegation {
            record: format!("_acme-challenge.{base}"),
            target: format!("{label}.{zone}"),
        })
    }

    /// Enables each name of a comma or space separated list: `new`,
    /// `activated`, `exists` or `blocklisted` each.
    pub async fn enable(&self, names: &str) -> Result<Changed<BTreeMap<String, String>>, Error> {
        let results = services::domains::enable_domains(self.peter.store(), names).await?;
        let changed = changed_names(&results, &["activated", "new"])?;
        Ok(self
            .peter
            .changed(results, Affected::Domains(changed))
            .await)
    }

    /// Disables each name: `deactivated`, `already deactivated` or `unknown`.
    pub async fn disable(&self, names: &str) -> Result<Changed<BTreeMap<String, String>>, Error> {
        let results = services::domains::disable_domains(self.peter.store(), names).await?;
        let changed = changed_names(&results, &["deactivated"])?;
        Ok(self
            .peter
            .changed(results, Affected::Domains(changed))
            .await)
    }

    /// Adds a name to the blocklist (idempotent).
    pub async fn blocklist(&self, name: &str) -> Result<Created<DomainBlocklisted>, Error> {
        let name = DomainName::parse(name)?;
        Ok(self.peter.store().add_blocklisted_domain(&name).await?)
    }

    /// The blocklist.
    pub async fn blocklisted(&self) -> Result<Vec<DomainBlocklisted>, Error> {
        Ok(self.peter.store().list_blocklisted_domains().await?)
    }

    /// Makes sure one name has an active certificate: an existing one is
    /// reported; otherwise the name is enabled and a certificate ordered
    /// (`process_single`) with `account` or the global default account.
    pub async fn certificate_if_needed(
        &self,
        name: &str,
        account: Option<AcmeAccountId>,
        private_key_cycle: Option<PrivateKeyCycle>,
    ) -> Result<Changed<CertificateIfNeeded>, Error> {
        let orders = self.peter.order_services()?;
        let outcome =
            services::domains::certificate_if_needed(&orders, name, account, private_key_cycle)
                .await?;
        let affected = match outcome.certificate_status.as_str() {
            "new" => Affected::Certificates(
                outcome
                    .certificate_signed_id
                    .iter()
                    .map(|c| CertificateSignedId(*c))
                    .collect(),
            ),
            _ => Affected::Domains(Vec::new()),
        };
        Ok(self.peter.changed(outcome, affected).await)
    }

    /// What a web server is sent for the domain: its `config.json`.
    pub async fn config(
        &self,
        identifier: &str,
        id_only: bool,
    ) -> Result<services::publish::DomainConfig, Error> {
        // By name (what gateways ask), answered from memory while this
        // process follows the change feed; by id, always from the store.
        let cache = &self.peter.inner.config_cache;
        let key = match services::publish::DomainIdentifier::parse(identifier)? {
            services::publish::DomainIdentifier::Name(name) if cache.enabled() => {
                Some(name.as_str().to_string())
            }
            _ => None,
        };
        if let Some(key) = &key
            && let Some(hit) = cache.get(key, id_only, self.peter.now())
        {
            return Ok(hit.as_ref().clone());
        }
        let generation = cache.generation();
        let config = self
            .peter
            .serving(services::publish::domain_config(
                self.peter.store(),
                identifier,
                id_only,
            ))
            .await?;
        if let Some(key) = key {
            cache.insert(
                key,
                id_only,
                std::sync::Arc::new(config.clone()),
                generation,
                self.peter.now(),
            );
        }
        Ok(config)
    }

    /// config.json as the OpenResty module asks for it on a Redis miss
    /// (`?openresty=1`): the same answer, and the domain is written to
    /// Redis when Redis is configured (a failure there is only logged).
    pub async fn config_for_openresty(
        &self,
        identifier: &str,
        id_only: bool,
    ) -> Result<services::publish::DomainConfig, Error> {
        let config = self.config(identifier, id_only).await?;
        if let Ok(name) = DomainName::parse(&config.domain.domain_name) {
            self.peter.prime_domain_quietly(&name).await;
        }
        Ok(config)
    }

    /// A certificate for a name a gateway met without one: the existing
    /// certificate when there is one; otherwise, for a name matching the
    /// autocert allowlist, one ordered now (`process_single`, the global
    /// default account), within a per-name and a fleet-wide hourly limit
    /// kept in the store. Blocklisted and disabled names are refused. The
    /// domain is written to Redis when Redis is configured.
    pub async fn autocert(&self, name: &str) -> Result<Changed<Autocert>, Error> {
        let settings = &self.peter.settings().autocert;
        let store = self.peter.store();
        let name = DomainName::parse(name)?;
        if name.is_wildcard() {
            return Err(Error::InvalidField {
                field: "domain_name",
                message: "autocert orders certificates for host names, not wildcards".into(),
            });
        }
        if store.is_domain_blocklisted(&name).await? {
            return Err(Error::Blocklisted(name.to_string()));
        }
        let existing = store.domain_by_name(&name).await?;
        if existing.as_ref().is_some_and(|d| !d.is_active) {
            return Err(Error::InvalidField {
                field: "domain_name",
                message: format!("the domain `{name}` is disabled"),
            });
        }
        if existing.is_some()
            && store
                .latest_active_certificate_for_domain(&name)
                .await?
                .is_some()
        {
            let config = self.config(name.as_str(), false).await?;
            self.peter.prime_domain_quietly(&name).await;
            let answer = Autocert {
                config,
                notes: "existing certificate(s)".into(),
                acme_order_id: None,
            };
            return Ok(self
                .peter
                .changed(answer, Affected::Domains(Vec::new()))
                .await);
        }
        if settings.allowed_suffixes.is_empty() {
            return Err(Error::Unconfigured("autocert's allowlist (autocert.allow)"));
        }
        if !services::domains::autocert_allows(&name, &settings.allowed_suffixes) {
            return Err(Error::InvalidField {
                field: "domain_name",
                message: format!("`{name}` matches no suffix of autocert's allowlist"),
            });
        }
        let now = self.peter.now();
        let hour = time::Duration::hours(1);
        let attempt = match store
            .start_domain_autocert(
                &name,
                now.saturating_sub(settings.per_name_interval),
                now.saturating_sub(hour),
                settings.per_hour,
            )
            .await?
        {
            AutocertStart::Started(attempt) => attempt,
            AutocertStart::NameLimited { last } => {
                return Err(throttled(
                    format!(
                        "autocert tried `{name}` at {last}; one try per {} min",
                        settings.per_name_interval.whole_minutes()
                    ),
                    last.saturating_add(settings.per_name_interval),
                    now,
                ));
            }
            AutocertStart::GlobalLimited { oldest } => {
                return Err(throttled(
                    format!(
                        "autocert made its {} orders of the past hour",
                        settings.per_hour
                    ),
                    oldest.saturating_add(hour),
                    now,
                ));
            }
        };
        let orders = self.peter.order_services()?;
        let ordered = async {
            let account = services::accounts::account_or_global_default(store, None).await?;
            let mut request = services::orders::OrderRequest::new(
                account,
                vec![name.to_string()],
                AcmeOrderProcessingStrategy::ProcessSingle,
            );
            request.order_type = AcmeOrderType::Autocert;
            orders.create(request).await
        }
        .await;
        let order = match ordered {
            Ok(order) => order,
            Err(e) => {
                store
                    .finish_domain_autocert(attempt.id, None, false, Some(e.to_string()))
                    .await?;
                return Err(e);
            }
        };
        let issued = order.certificate_signed_id;
        store
            .finish_domain_autocert(
                attempt.id,
                Some(order.id),
                issued.is_some(),
                order.problem.clone(),
            )
            .await?;
        let config = self.config(name.as_str(), false).await?;
        let answer = Autocert {
            config,
            notes: format!("new AcmeOrder, {}", order.status),
            acme_order_id: Some(order.id),
        };
        let affected = Affected::Certificates(issued.into_iter().collect());
        let changed = self.peter.changed(answer, affected).await;
        if !self.peter.primes_on_change() {
            self.peter.prime_domain_quietly(&name).await;
        }
        Ok(changed)
    }

    /// Autocert's attempts, newest first.
    pub async fn autocerts(&self, page: Page) -> Result<Paged<DomainAutocert>, Error> {
        Ok(self.peter.store().list_domain_autocerts(page).await?)
    }

    /// The domain's certificates, newest first.
    pub async fn certificates(
        &self,
        identifier: &str,
        page: Page,
    ) -> Result<Paged<super::CertificateSummary>, Error> {
        let domain = self.get(identifier).await?;
        self.peter
            .certificates()
            .list(CertificateFilter::domain(domain.id), page)
            .await
    }

    /// The domain's orders, newest first.
    pub async fn orders(&self, identifier: &str, page: Page) -> Result<Paged<AcmeOrder>, Error> {
        let domain = self.get(identifier).await?;
        Ok(self
            .peter
            .store()
            .list_acme_orders(&OrderFilter::domain(domain.id), page)
            .await?)
    }

    /// The domain's authorizations, newest first.
    pub async fn authorizations(
        &self,
        identifier: &str,
        page: Page,
    ) -> Result<Paged<AcmeAuthorization>, Error> {
        let domain = self.get(identifier).await?;
        Ok(self
            .peter
            .store()
            .list_acme_authorizations(Some(domain.id), page)
            .await?)
    }

    /// The domain's challenges, newest first.
    pub async fn challenges(
        &self,
        identifier: &str,
        page: Page,
    ) -> Result<Paged<AcmeChallenge>, Error> {
        let domain = self.get(identifier).await?;
        Ok(self
            .peter
            .store()
            .list_acme_challenges(Some(domain.id), page)
            .await?)
    }

    /// The sets of names that include the domain, newest first.
    pub async fn unique_fqdn_sets(
        &self,
        identifier: &str,
        page: Page,
    ) -> Result<Paged<UniqueFqdnSetRecord>, Error> {
        let domain = self.get(identifier).await?;
        Ok(self
            .peter
            .store()
            .list_unique_fqdn_sets(Some(domain.id), page)
            .await?)
    }
}

/// The names whose result is one of `changed`, for re-publishing.
fn changed_names(
    results: &BTreeMap<String, String>,
    changed: &[&str],
) -> Result<Vec<DomainName>, Error> {
    results
        .iter()
        .filter(|(_, status)| changed.contains(&status.as_str()))
        .map(|(name, _)| DomainName::parse(name).map_err(Error::from))
        .collect()
}

/// A limit reached until `until`: at least a second to wait.
fn throttled(message: String, until: time::OffsetDateTime, now: time::OffsetDateTime) -> Error {
    let wait = until.unix_timestamp().saturating_sub(now.unix_timestamp());
    Error::Throttled {
        message,
        retry_after_seconds: u64::try_from(wait).unwrap_or(0).max(1),
    }
}
