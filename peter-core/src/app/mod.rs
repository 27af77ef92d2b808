//! The application facade: peter's one front door.
//!
//! [`Peter`] is built once from the ports (a store, an ACME client factory,
//! a clock, and optional publishers) and every user-level operation is a
//! method on it, grouped by the object it concerns:
//! `peter.certificates().mark(id, CertificateMark::Inactive)`. The HTTP API,
//! the CLI and embedding programs all go through it, reads included, so
//! they cannot disagree about what follows a change.
//!
//! What follows a change is decided here, once: after any change that alters
//! what a domain serves, and after its transaction committed, the facade
//! re-publishes the affected domains (Redis when priming on change is set,
//! the nginx/OpenResty cache when servers are configured) and records an
//! operations event saying how that went. A publisher failure never fails or
//! rolls back the change: it is reported in the answer ([`Publication`]).
//!
//! ```
//! # async fn demo(store: impl peter_core::ports::Store + 'static) -> Result<(), peter_core::Error> {
//! use peter_core::app::Peter;
//! let peter = Peter::builder().store(store).build()?;
//! let domains = peter.domains().list(Default::default(), Default::default()).await?;
//! println!("{} domains", domains.total_items);
//! # Ok(()) }
//! ```

mod accounts;
mod certificates;
mod config_cache;
mod domains;
mod keys;
mod logs;
mod orders;
mod polls;
mod publishing;
mod renewals;

use std::sync::Arc;

use serde::Serialize;

pub use crate::services::domains::split_names;
pub use crate::services::downloads::Download;
pub use crate::services::import::DEFAULT_MAX_CHAIN_CERTIFICATES;
pub use crate::services::publish::{CertificateConfig, DomainConfig, DomainRef, PemRef};
pub use accounts::{
    AccountEdit, AccountRequest, Accounts, AcmeServers, DIRECTORY_SHORTCUTS, ServerEdit,
};
pub use certificates::{
    CertificateAuthorities, CertificateSummary, CertificateUpload, Certificates, PreferenceMove,
};
pub use domains::{CertificateIfNeeded, DomainIdentifier, Domains};
pub use keys::{PrivateKeyMarked, PrivateKeys};
pub use logs::Logs;
pub use orders::{OrderRequest, Orders, ProcessSteps, Step};
pub use polls::{PollCounters, PollSettings, Tallied};
pub use publishing::{ChallengeAnswer, ChallengeRequest, Challenges, Publishing, ServedDomain};
pub use renewals::{
    AlertOutcome, Alerts, AriPolling, AriReport, DueCertificate, LEASE_LOST, MovedWindow,
    RenewalConfigurationRequest, RenewalConfigurations, RenewalPlan, RenewalReport, Renewals,
};

use crate::dns::DomainName;
use crate::error::Error;
use crate::model::*;
use crate::ports::*;
use crate::services;

/// How orders are processed: polling and retries.
pub use crate::services::orders::OrderSettings;

/// Settings of the facade.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// Polling and retries of order processing.
    pub orders: OrderSettings,
    /// How long a node may hold one renewal before another may take it over.
    pub renewal_lease: time::Duration,
    /// This node's name in renewal leases (a random suffix is added).
    pub node_name: String,
    /// Bounds on recording requests to the public challenge route.
    pub polls: PollSettings,
    /// Certificates accepted in an uploaded chain.
    pub max_chain_certificates: usize,
    /// How long a read that serves a web node (a challenge answer, a
    /// `config.json`) waits for the store before it is answered
    /// unavailable: a node cut off from its store fails closed, fast.
    pub serving_deadline: std::time::Duration,
    /// Bytes of domain `config.json` answers kept in memory (0: none). The
    /// cache is used only while [`Peter::follow_config_changes`] runs.
    pub config_cache_bytes: usize,
    /// Which names a gateway may have ordered on a certificate miss, and
    /// how often.
    pub autocert: AutocertSettings,
}

/// Bounds on autocert: certificates ordered because a gateway (the
/// OpenResty module) met a name it had no certificate for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutocertSettings {
    /// Suffixes a name must equal or end in (`example.com` allows
    /// `example.com` and `www.example.com`, not `badexample.com`). Empty:
    /// autocert orders nothing.
    pub allowed_suffixes: Vec<String>,
    /// At most one attempt per name in this interval (default 10 minutes).
    pub per_name_interval: time::Duration,
    /// At most this many attempts across the fleet per hour (default 30).
    pub per_hour: u32,
}

impl Default for AutocertSettings {
    fn default() -> Self {
        Self {
            allowed_suffixes: Vec::new(),
            per_name_interval: time::Duration::minutes(10),
            per_hour: 30,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            orders: OrderSettings::default(),
            renewal_lease: time::Duration::minutes(10),
            node_name: "peter".into(),
            polls: PollSettings::default(),
            max_chain_certificates: crate::services::import::DEFAULT_MAX_CHAIN_CERTIFICATES,
            serving_deadline: std::time::Duration::from_millis(1500),
            config_cache_bytes: 16 * 1024 * 1024,
            autocert: AutocertSettings::default(),
        }
    }
}

impl Settings {
    /// The defaults with other order-processing settings.
    pub fn with_orders(mut self, orders: OrderSettings) -> Self {
        self.orders = orders;
        self
    }

    /// These settings with another limit on uploaded chains.
    pub fn with_max_chain_certificates(mut self, max: usize) -> Self {
        self.max_chain_certificates = max;
        self
    }

    /// The defaults with another node name.
    pub fn with_node_name(mut self, name: impl Into<String>) -> Self {
        self.node_name = name.into();
        self
    }

    /// The defaults with other bounds on poll recording.
    pub fn with_polls(mut self, polls: PollSettings) -> Self {
        self.polls = polls;
        self
    }

    /// These settings with another config.json cache size (0: off).
    pub fn with_config_cache_bytes(mut self, bytes: usize) -> Self {
        self.config_cache_bytes = bytes;
        self
    }

    /// These settings with another deadline for serving reads.
    pub fn with_serving_deadline(mut self, deadline: std::time::Duration) -> Self {
        self.serving_deadline = deadline;
        self
    }

    /// The defaults with another renewal lease.
    pub fn with_renewal_lease(mut self, lease: time::Duration) -> Self {
        self.renewal_lease = lease;
        self
    }
}

/// How Redis is primed for OpenResty gateways.
#[derive(Clone)]
struct RedisPublishing {
    publisher: Arc<dyn CachePublisher>,
    style: PrimeStyle,
    on_change: bool,
}

struct Inner {
    /// Names this process in renewal leases (unique per facade).
    holder: String,
    store: Arc<dyn Store>,
    acme: Option<Arc<dyn AcmeClient>>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    redis: Option<RedisPublishing>,
    nginx: Option<Arc<dyn CacheExpirer>>,
    alert_targets: Vec<Arc<dyn AlertTarget>>,
    dns: Option<Arc<dyn DnsChallengeSolver>>,
    polls: polls::PollLedger,
    config_cache: config_cache::ConfigCache,
}

/// peter's application facade. Cheap to clone: clones share one state.
#[derive(Clone)]
pub struct Peter {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Peter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peter")
            .field("acme", &self.inner.acme.is_some())
            .field("redis", &self.inner.redis.is_some())
            .field("nginx", &self.inner.nginx.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Peter`] from its ports.
#[derive(Default)]
pub struct PeterBuilder {
    store: Option<Arc<dyn Store>>,
    acme: Option<Arc<dyn AcmeClientFactory>>,
    clock: Option<Arc<dyn Clock>>,
    settings: Settings,
    redis: Option<RedisPublishing>,
    nginx: Option<Arc<dyn CacheExpirer>>,
    alert_targets: Vec<Arc<dyn AlertTarget>>,
    dns: Option<Arc<dyn DnsChallengeSolver>>,
}

impl PeterBuilder {
    /// The store (required).
    pub fn store(self, store: impl Store + 'static) -> Self {
        self.shared_store(Arc::new(store))
    }

    /// A store shared with other owners.
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// How to make the ACME client (without one, operations that talk to a
    /// CA fail with [`Error::Unconfigured`]).
    pub fn acme(mut self, factory: impl AcmeClientFactory + 'static) -> Self {
        self.acme = Some(Arc::new(factory));
        self
    }

    /// The clock (default: the system's).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Settings (default: [`Settings::default`]).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Redis priming for OpenResty gateways, in `style`; with `on_change`,
    /// every change that alters what a domain serves re-primes it.
    pub fn redis(
        mut self,
        publisher: Arc<dyn CachePublisher>,
        style: PrimeStyle,
        on_change: bool,
    ) -> Self {
        self.redis = Some(RedisPublishing {
            publisher,
            style,
            on_change,
        });
        self
    }

    /// The nginx/OpenResty servers whose certificate cache peter expires
    /// after every change that alters what a domain serves.
    pub fn nginx(mut self, expirer: Arc<dyn CacheExpirer>) -> Self {
        self.nginx = Some(expirer);
        self
    }

    /// Somewhere renewal runs send alerts (a webhook, a command); may be
    /// given several times.
    pub fn alert_target(mut self, target: Arc<dyn AlertTarget>) -> Self {
        self.alert_targets.push(target);
        self
    }

    /// How DNS-01 TXT records are published. Without one, wildcard names
    /// and domains whose challenge type is dns-01 are refused before an
    /// order is sent.
    pub fn dns_solver(mut self, solver: Arc<dyn DnsChallengeSolver>) -> Self {
        self.dns = Some(solver);
        self
    }

    /// The facade.
    pub fn build(self) -> Result<Peter, Error> {
        let store = self.store.ok_or(Error::Unconfigured("a store"))?;
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let events: Arc<dyn EventStore> = store.clone();
        let acme = self.acme.map(|f| f.client(events, clock.clone()));
        let mut nonce = [0u8; 8];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::Unconfigured("a random source"))?;
        let holder = format!(
            "{}-{:016x}",
            self.settings.node_name,
            u64::from_be_bytes(nonce)
        );
        Ok(Peter {
            inner: Arc::new(Inner {
                holder,
                store,
                acme,
                clock,
                polls: polls::PollLedger::new(self.settings.polls.clone()),
                config_cache: config_cache::ConfigCache::new(self.settings.config_cache_bytes),
                settings: self.settings,
                redis: self.redis,
                nginx: self.nginx,
                alert_targets: self.alert_targets,
                dns: self.dns,
            }),
        })
    }
}

/// How long the config change feed keeps an entry (readers that fell
/// further behind drop their whole cache anyway).
const FEED_KEPT: time::Duration = time::Duration::minutes(10);

/// What re-publishing after a change did. A publisher that is not
/// configured (or, for Redis, not asked to prime on change) is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Publication {
    /// The domains re-published.
    pub domains: Vec<String>,
    /// Redis priming.
    pub redis: Option<PublishOutcome>,
    /// nginx/OpenResty cache expiry.
    pub nginx: Option<PublishOutcome>,
}

impl Publication {
    /// The publishers that failed, with their errors.
    pub fn failures(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        if let Some(PublishOutcome::Failed { error }) = &self.redis {
            out.push(("redis", error.as_str()));
        }
        if let Some(PublishOutcome::Failed { error }) = &self.nginx {
            out.push(("nginx", error.as_str()));
        }
        out
    }
}

/// How one publisher fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PublishOutcome {
    /// Done.
    Success,
    /// Failed; the change it followed stands.
    Failed {
        /// Why.
        error: String,
    },
}

/// The result of a change, with what re-publishing it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed<T> {
    /// The changed object(s).
    pub value: T,
    /// What re-publishing did.
    pub publication: Publication,
}

impl<T> Changed<T> {
    /// The value alone.
    pub fn into_value(self) -> T {
        self.value
    }
}

/// What is affected by a change, for re-publishing.
#[derive(Debug)]
pub(crate) enum Affected {
    /// These certificates' names.
    Certificates(Vec<CertificateSignedId>),
    /// These names.
    Domains(Vec<DomainName>),
    /// Everything (the CA preference list changed every chain choice).
    Everything,
}

impl Peter {
    /// A builder.
    pub fn builder() -> PeterBuilder {
        PeterBuilder::default()
    }

    /// Domains, the blocklist, bulk enable/disable and config.json.
    pub fn domains(&self) -> Domains<'_> {
        Domains { peter: self }
    }

    /// Certificates: imports, marks, revocation, files.
    pub fn certificates(&self) -> Certificates<'_> {
        Certificates { peter: self }
    }

    /// Private keys.
    pub fn private_keys(&self) -> PrivateKeys<'_> {
        PrivateKeys { peter: self }
    }

    /// CA certificates, chains and the CA preference list.
    pub fn certificate_authorities(&self) -> CertificateAuthorities<'_> {
        CertificateAuthorities { peter: self }
    }

    /// Alert deliveries (what renewal runs told the operator).
    pub fn alerts(&self) -> Alerts<'_> {
        Alerts { peter: self }
    }

    /// ACME servers (directories).
    pub fn acme_servers(&self) -> AcmeServers<'_> {
        AcmeServers { peter: self }
    }

    /// ACME accounts.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts { peter: self }
    }

    /// ACME orders, authorizations, challenges and certificate requests.
    pub fn orders(&self) -> Orders<'_> {
        Orders { peter: self }
    }

    /// Renewal of what is due.
    pub fn renewals(&self) -> Renewals<'_> {
        Renewals { peter: self }
    }

    /// Renewal configurations: how each set of names is renewed, with an
    /// optional backup CA.
    pub fn renewal_configurations(&self) -> RenewalConfigurations<'_> {
        RenewalConfigurations { peter: self }
    }

    /// Redis priming, nginx cache expiry, exports and metrics.
    pub fn publishing(&self) -> Publishing<'_> {
        Publishing { peter: self }
    }

    /// Answers to HTTP-01 challenges, for the public route.
    pub fn challenges(&self) -> Challenges<'_> {
        Challenges { peter: self }
    }

    /// The ACME exchange log and the operations events.
    pub fn logs(&self) -> Logs<'_> {
        Logs { peter: self }
    }

    /// The current time, by the facade's clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }

    /// The facade's settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Whether Redis priming is configured.
    pub fn has_redis(&self) -> bool {
        self.inner.redis.is_some()
    }

    /// Whether nginx/OpenResty servers are configured.
    pub fn has_nginx(&self) -> bool {
        self.inner.nginx.is_some()
    }

    /// Applies the startup rules to the store (a global default account on
    /// a non-default server stops being the default).
    pub async fn apply_startup_rules(&self) -> Result<StartupReport, Error> {
        Ok(self.store().apply_startup_rules().await?)
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// Runs a read that serves a web node under the serving deadline
    /// ([`Settings::serving_deadline`]): a store that has not answered by
    /// then makes it fail as unavailable (503) instead of holding the
    /// request.
    pub(crate) async fn serving<T>(
        &self,
        read: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        use std::task::Poll;
        let deadline = self.inner.settings.serving_deadline;
        let mut read = std::pin::pin!(read);
        let mut timer = self.inner.clock.sleep(deadline);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(result) = read.as_mut().poll(cx) {
                return Poll::Ready(result);
            }
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(Error::Store(StoreError::Unavailable(
                    format!("the store did not answer within {deadline:?}"),
                    None,
                ))));
            }
            Poll::Pending
        })
        .await
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    pub(crate) fn dns_solver(&self) -> Option<&dyn DnsChallengeSolver> {
        self.inner.dns.as_deref()
    }

    pub(crate) fn acme(&self) -> Result<&dyn AcmeClient, Error> {
        self.inner
            .acme
            .as_deref()
            .ok_or(Error::Unconfigured("an ACME client"))
    }

    /// The order services over this facade's ports.
    pub(crate) fn order_services(&self) -> Result<services::orders::Orders<'_>, Error> {
        Ok(services::orders::Orders {
            store: self.store(),
            acme: self.acme()?,
            clock: self.clock(),
            settings: self.inner.settings.orders,
            dns: self.inner.dns.as_deref(),
        })
    }

    /// Re-publishes what a committed change affected and records how it went.
    pub(crate) async fn publish(&self, affected: Affected) -> Publication {
        let redis = self.inner.redis.as_ref().filter(|r| r.on_change);
        let nginx = self.inner.nginx.as_ref();
        let names: Option<Vec<DomainName>> = match affected {
            Affected::Everything => None,
            Affected::Domains(names) => Some(names),
            Affected::Certificates(ids) => {
                let mut names = Vec::new();
                for id in ids {
                    match services::publish::certificate_domain_names(self.store(), id).await {
                        Ok(more) => names.extend(more),
                        Err(e) => {
                            return self
                                .record_publication(Publication {
                                    domains: Vec::new(),
                                    redis: redis.map(|_| failed(&e)),
                                    nginx: nginx.map(|_| failed(&e)),
                                })
                                .await;
                        }
                    }
                }
                names.sort();
                names.dedup();
                Some(names)
            }
        };
        if names.as_ref().is_some_and(|n| n.is_empty()) {
            return Publication::default();
        }
        self.invalidate_config(names.as_deref()).await;
        if redis.is_none() && nginx.is_none() {
            return Publication::default();
        }
        let mut publication = Publication {
            domains: names
                .as_ref()
                .map(|n| n.iter().map(|d| d.to_string()).collect())
                .unwrap_or_else(|| vec!["*".to_string()]),
            ..Default::default()
        };
        if let Some(redis) = redis {
            let result = match &names {
                Some(names) => {
                    redis
                        .publisher
                        .publish_domains(self.store(), names, redis.style)
                        .await
                }
                None => redis.publisher.publish_all(self.store(), redis.style).await,
            };
            publication.redis = Some(match result {
                Ok(_) => PublishOutcome::Success,
                Err(e) => failed(&e),
            });
        }
        if let Some(nginx) = nginx {
            let status = nginx.expire(names.as_deref()).await;
            publication.nginx = Some(if status.errors.is_empty() {
                PublishOutcome::Success
            } else {
                PublishOutcome::Failed {
                    error: format!("cache expiry failed on {}", status.errors.join(", ")),
                }
            });
        }
        self.record_publication(publication).await
    }

    /// Drops the cached config.json of `names` (`None`: all) here, and
    /// tells every other process sharing the store through its change feed.
    async fn invalidate_config(&self, names: Option<&[DomainName]>) {
        let keys: Option<Vec<String>> =
            names.map(|n| n.iter().map(|d| d.as_str().to_string()).collect());
        self.inner.config_cache.evict(keys.as_deref());
        if let Err(e) = self.store().record_config_change(names).await {
            tracing::warn!(error = %e, "could not record a config change for other nodes");
        }
        // The feed is pruned here too, so that it stays small where no
        // server follows it (a CLI-only installation).
        let before = self.now().saturating_sub(FEED_KEPT);
        if let Err(e) = self.store().prune_config_changes(before).await {
            tracing::debug!(error = %e, "could not prune the config change feed");
        }
    }

    /// Follows the store's change feed so that this process may answer
    /// domain `config.json` from memory (see [`Settings::config_cache_bytes`]):
    /// reads the feed every 100 ms, drops the answers of the domains that
    /// changed elsewhere, and prunes the feed's old entries now and then.
    /// Runs until dropped; servers spawn it. Without it the cache is unused.
    pub async fn follow_config_changes(&self) {
        let cache = &self.inner.config_cache;
        if !cache.enabled() {
            return;
        }
        let mut rounds: u32 = 0;
        loop {
            let read = self
                .serving(async {
                    Ok(self
                        .store()
                        .config_changes_since(
                            cache.feed_position(),
                            config_cache::LOOKBACK.unsigned_abs().saturating_add(1000),
                        )
                        .await?)
                })
                .await;
            match read {
                Ok(changes) => cache.checked(changes, self.now()),
                Err(e) => tracing::debug!(error = %e, "could not read the config change feed"),
            }
            rounds = rounds.wrapping_add(1);
            if rounds.is_multiple_of(600) {
                let before = self.now().saturating_sub(FEED_KEPT);
                if let Err(e) = self.store().prune_config_changes(before).await {
                    tracing::debug!(error = %e, "could not prune the config change feed");
                }
            }
            self.inner.clock.sleep(config_cache::CHECK_EVERY).await;
        }
    }

    /// The config.json cache: answers held and their bytes.
    pub fn config_cache_usage(&self) -> (usize, usize) {
        self.inner.config_cache.usage()
    }

    async fn record_publication(&self, publication: Publication) -> Publication {
        let payload = serde_json::json!({
            "domains": publication.domains,
            "redis": publication.redis,
            "nginx": publication.nginx,
        });
        if let Err(e) = self
            .store()
            .record_operations_event(OperationsEventType::Publication, payload, None)
            .await
        {
            tracing::warn!(error = %e, "could not record a publication event");
        }
        for (publisher, error) in publication.failures() {
            tracing::warn!(publisher, error, "publishing after a change failed");
        }
        publication
    }

    /// A committed change, with what re-publishing it did.
    /// Writes one domain to Redis when Redis is configured, whatever
    /// `prime_on_change` says (what a gateway asks for when it missed);
    /// a failure is logged, never returned: the answer does not depend on it.
    pub(crate) async fn prime_domain_quietly(&self, name: &DomainName) {
        let Some(redis) = self.inner.redis.as_ref() else {
            return;
        };
        if let Err(e) = redis
            .publisher
            .publish_domains(self.store(), std::slice::from_ref(name), redis.style)
            .await
        {
            tracing::warn!(domain = %name, error = %e, "priming Redis for one domain failed");
        }
    }

    /// Whether committed changes are written to Redis at once.
    pub(crate) fn primes_on_change(&self) -> bool {
        self.inner.redis.as_ref().is_some_and(|r| r.on_change)
    }

    pub(crate) async fn changed<T>(&self, value: T, affected: Affected) -> Changed<T> {
        tracing::debug!(?affected, "a change was committed; publishing");
        let publication = self.publish(affected).await;
        Changed { value, publication }
    }
}

fn failed(e: &impl std::fmt::Display) -> PublishOutcome {
    PublishOutcome::Failed {
        error: e.to_string(),
    }
}
