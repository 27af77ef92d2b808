//! Renewal of what is due, once across every node sharing the store.

use serde::Serialize;

use super::{Affected, Changed, Peter};
use crate::error::Error;
use crate::model::*;
use crate::services;

pub use crate::services::alerts::AlertOutcome;
pub use crate::services::renewals::{
    AriPolling, AriReport, DueCertificate, LEASE_LOST, MovedWindow, RenewalReport,
};

/// What a renewal run would do.
#[derive(Debug, Clone, Serialize)]
pub struct RenewalPlan {
    /// Certificates due, and why.
    pub due: Vec<DueCertificate>,
    /// Active domains without a certificate (ordered by the global default account).
    pub missing: Vec<String>,
    /// What the CAs said about renewal windows (asked again for this plan).
    pub ari: AriReport,
}

/// Renewal operations.
pub struct Renewals<'a> {
    pub(crate) peter: &'a Peter,
}

impl Renewals<'_> {
    /// What is due now: inside the CA's renewal window (ARI), else with a
    /// third of the lifetime left, or within `days` when given; and the
    /// active domains with no certificate (a revoked certificate's included).
    /// Each certificate's window is asked of its CA again first, so a
    /// window the CA moved shows at once; nothing is stored (the run that
    /// follows records it and alerts). Without an ACME client, the stored
    /// windows decide.
    pub async fn plan(&self, days: Option<i64>) -> Result<RenewalPlan, Error> {
        if let Some(days) = days {
            crate::model::rules::days_after(self.peter.now(), days)?;
        }
        let store = self.peter.store();
        let mut candidates = services::renewals::renewal_candidates(store).await?;
        let ari = match self.peter.order_services() {
            Ok(orders) => {
                services::renewals::refresh_renewal_windows(
                    &orders,
                    &mut candidates,
                    AriPolling::AlwaysWithoutRecording,
                )
                .await?
            }
            Err(_) => AriReport::default(),
        };
        let due = services::renewals::due_among(&candidates, self.peter.now(), days);
        let missing = services::renewals::missing_domains(store)
            .await?
            .into_iter()
            .map(|d| d.domain_name)
            .collect();
        Ok(RenewalPlan { due, missing, ari })
    }

    /// Renews every due certificate and orders every missing domain, each
    /// under its set's lease so that nodes running this at once renew it
    /// once; failures back off (honouring the CA's Retry-After). Every
    /// certificate's renewal window is asked of its CA first, so a window
    /// moved into the past is renewed by this run.
    pub async fn run(&self, days: Option<i64>) -> Result<Changed<RenewalReport>, Error> {
        self.run_with(days, AriPolling::Always).await
    }

    /// As [`Renewals::run`], for a process that renews on a timer: a
    /// renewal window is asked for again only once the CA's Retry-After
    /// has passed.
    pub async fn run_scheduled(&self, days: Option<i64>) -> Result<Changed<RenewalReport>, Error> {
        self.run_with(days, AriPolling::AfterRetryAfter).await
    }

    async fn run_with(
        &self,
        days: Option<i64>,
        polling: AriPolling,
    ) -> Result<Changed<RenewalReport>, Error> {
        if let Some(days) = days {
            crate::model::rules::days_after(self.peter.now(), days)?;
        }
        let orders = self.peter.order_services()?;
        let started_at = self.peter.now();
        let alerter = self.peter.alerter();
        let report = services::renewals::renew_due(
            &orders,
            &self.peter.inner.holder,
            days,
            self.peter.inner.settings.renewal_lease,
            started_at,
            polling,
            &alerter,
        )
        .await?;
        let new_orders = report.renewed.iter().map(|(_, order)| *order).chain(
            report
                .ordered_missing
                .iter()
                .filter_map(|(_, r)| r.as_ref().ok().copied()),
        );
        let mut certificates = Vec::new();
        for order in new_orders {
            if let Some(cert) = self.peter.orders().get(order).await?.certificate_signed_id {
                certificates.push(cert);
            }
        }
        Ok(self
            .peter
            .changed(report, Affected::Certificates(certificates))
            .await)
    }

    /// Certificates whose renewal keeps failing: (set of names, failures, next attempt).
    pub async fn backoff(
        &self,
        set: UniqueFqdnSetId,
    ) -> Result<Option<(i32, time::OffsetDateTime)>, Error> {
        Ok(crate::ports::LeaseStore::renewal_backoff(self.peter.store(), set).await?)
    }
}

/// How an operator wants a set of names renewed.
#[derive(Debug, Clone)]
pub struct RenewalConfigurationRequest {
    /// The names (any order; an entry may list several, separated by
    /// commas or spaces).
    pub domain_names: Vec<String>,
    /// The primary account.
    pub acme_account_id: AcmeAccountId,
    /// Key technology (`None`: the account's default).
    pub private_key_technology: Option<KeyTechnology>,
    /// Key cycle (`None`: the account's default).
    pub private_key_cycle: Option<PrivateKeyCycle>,
    /// Profile asked of the primary.
    pub profile: Option<String>,
    /// Challenge types for some of the names (`http-01` or `dns-01`), over
    /// their domains'.
    pub challenge_types: std::collections::BTreeMap<String, AcmeChallengeType>,
    /// The backup account (at another ACME server).
    pub backup_acme_account_id: Option<AcmeAccountId>,
    /// The backup's key technology.
    pub backup_private_key_technology: Option<KeyTechnology>,
    /// The backup's profile.
    pub backup_profile: Option<String>,
    /// Failures at the primary before failing over (default 3).
    pub failover_after: Option<u32>,
}

impl RenewalConfigurationRequest {
    /// Reads per-name challenge types written as `name=type` pairs
    /// separated by commas or spaces (`www.example.com=dns-01`).
    pub fn parse_challenge_types(
        text: &str,
    ) -> Result<std::collections::BTreeMap<String, AcmeChallengeType>, Error> {
        let mut out = std::collections::BTreeMap::new();
        for pair in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
        {
            let (name, kind) = pair.split_once('=').ok_or_else(|| Error::InvalidField {
                field: "challenge_types",
                message: format!("`{pair}` is not `name=type` (e.g. www.example.com=dns-01)"),
            })?;
            out.insert(name.to_string(), kind.parse::<AcmeChallengeType>()?);
        }
        Ok(out)
    }
}

/// Renewal configurations: how each set of names is renewed.
pub struct RenewalConfigurations<'a> {
    pub(crate) peter: &'a Peter,
}

impl RenewalConfigurations<'_> {
    /// A page of configurations, by id.
    pub async fn list(
        &self,
        page: crate::ports::Page,
    ) -> Result<crate::ports::Paged<RenewalConfiguration>, Error> {
        Ok(self.peter.store().list_renewal_configurations(page).await?)
    }

    /// One configuration.
    pub async fn get(&self, id: RenewalConfigurationId) -> Result<RenewalConfiguration, Error> {
        Ok(self.peter.store().renewal_configuration(id).await?)
    }

    /// Records (or replaces) how a set of names is renewed. Accounts must
    /// be active; a backup must be at another ACME server than the primary
    /// (a backup at the same CA would fail with it).
    pub async fn configure(
        &self,
        request: RenewalConfigurationRequest,
    ) -> Result<RenewalConfiguration, Error> {
        let store = self.peter.store();
        let names: Vec<String> = request
            .domain_names
            .iter()
            .flat_map(|n| services::domains::split_names(n))
            .collect();
        let set = crate::dns::UniqueFqdnSet::parse(&names)?;
        let challenge_types =
            services::orders::chosen_challenge_types(&set, &request.challenge_types)?;
        let primary = store.acme_account(request.acme_account_id).await?;
        crate::model::rules::ensure_account_usable(&primary)?;
        let backup = match request.backup_acme_account_id {
            Some(id) => {
                let backup = store.acme_account(id).await?;
                crate::model::rules::ensure_account_usable(&backup)?;
                if backup.acme_server_id == primary.acme_server_id {
                    return Err(Error::InvalidField {
                        field: "backup_acme_account_id",
                        message: format!(
                            "account {id} is at the primary's ACME server; a backup must be at another CA"
                        ),
                    });
                }
                Some(RenewalBackup {
                    acme_account_id: id,
                    private_key_technology: request.backup_private_key_technology,
                    profile: request.backup_profile.clone(),
                })
            }
            None => None,
        };
        let failover_after = request
            .failover_after
            .unwrap_or(services::orders::DEFAULT_FAILOVER_AFTER);
        if failover_after == 0 {
            return Err(Error::InvalidField {
                field: "failover_after",
                message: "at least one failure comes before a failover".into(),
            });
        }
        let set_id = store.get_or_create_unique_fqdn_set(&set).await?.id.id;
        Ok(store
            .put_renewal_configuration(
                NewRenewalConfiguration {
                    unique_fqdn_set_id: set_id,
                    acme_account_id: primary.id,
                    private_key_technology: request.private_key_technology,
                    private_key_cycle: request
                        .private_key_cycle
                        .unwrap_or(PrivateKeyCycle::AccountDefault),
                    profile: request.profile,
                    challenge_types,
                    backup,
                    failover_after,
                },
                true,
            )
            .await?)
    }

    /// Orders a certificate for the configuration's names from its backup
    /// CA now (a spare, kept beside the primary's; nothing is replaced).
    pub async fn order_backup(
        &self,
        id: RenewalConfigurationId,
    ) -> Result<Changed<AcmeOrder>, Error> {
        let config = self.get(id).await?;
        if config.backup.is_none() {
            return Err(Error::InvalidField {
                field: "backup_acme_account_id",
                message: format!("renewal configuration {id} has no backup CA"),
            });
        }
        let orders = self.peter.order_services()?;
        let source = services::orders::RenewalSource::of(&config, true);
        let order = orders
            .order_from(
                config.domain_names.clone(),
                &source,
                None,
                AcmeOrderType::New,
            )
            .await?;
        let affected = Affected::Certificates(order.certificate_signed_id.into_iter().collect());
        Ok(self.peter.changed(order, affected).await)
    }
}

/// Alert deliveries.
pub struct Alerts<'a> {
    pub(crate) peter: &'a Peter,
}

impl Alerts<'_> {
    /// A page of deliveries, newest first.
    pub async fn list(
        &self,
        page: crate::ports::Page,
    ) -> Result<crate::ports::Paged<AlertDelivery>, Error> {
        Ok(crate::ports::EventStore::list_alerts(self.peter.store(), page).await?)
    }
}

impl Peter {
    /// Raises alerts to the configured targets, as this node.
    pub(crate) fn alerter(&self) -> services::alerts::Alerter<'_> {
        services::alerts::Alerter {
            store: self.store(),
            clock: self.clock(),
            targets: &self.inner.alert_targets,
            node: &self.inner.holder,
        }
    }
}
