//! Domains, the blocklist and the sets of names certificates cover.

use async_trait::async_trait;

use super::{Created, Page, Paged, StoreResult};
use crate::dns::{DomainName, UniqueFqdnSet};
use crate::model::*;

/// Which domains a listing shows: those meeting every condition given, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainFilter {
    /// Only names containing this text.
    pub name_contains: Option<String>,
    /// Only active (or only inactive) domains.
    pub active: Option<bool>,
}

/// Changes to what domains serve, read from the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigChanges {
    /// The feed's newest point read (where the next read may start).
    pub latest: i64,
    /// The changes read, oldest first: their point and the name whose
    /// answers changed (`None`: every name).
    pub entries: Vec<(i64, Option<String>)>,
    /// More changes followed than the limit allowed: treat as everything.
    pub truncated: bool,
}

/// Domains, the blocklist and the sets of names certificates cover.
#[async_trait]
pub trait DomainStore: Send + Sync {
    /// Records an autocert attempt for `name`, unless the name had one at or
    /// after `name_since`, or `global_max` attempts were made at or after
    /// `global_since`: checked and written in one transaction, serialised
    /// across every node sharing the store.
    async fn start_domain_autocert(
        &self,
        name: &DomainName,
        name_since: time::OffsetDateTime,
        global_since: time::OffsetDateTime,
        global_max: u32,
    ) -> StoreResult<AutocertStart>;
    /// Records how an autocert attempt ended.
    async fn finish_domain_autocert(
        &self,
        id: DomainAutocertId,
        acme_order_id: Option<AcmeOrderId>,
        successful: bool,
        problem: Option<String>,
    ) -> StoreResult<DomainAutocert>;
    /// Autocert attempts, newest first.
    async fn list_domain_autocerts(&self, page: Page) -> StoreResult<Paged<DomainAutocert>>;
    /// Adds to the change feed that what `names` serve changed (`None`:
    /// every domain), for the caches of every process sharing the store.
    async fn record_config_change(&self, names: Option<&[DomainName]>) -> StoreResult<()>;
    /// The changes after point `after` (`None`: only where the feed is
    /// now), at most `limit` of them. Points are given in insertion order,
    /// but on PostgreSQL a point may become visible after a greater one (its
    /// transaction committed later): readers look back over recent points.
    async fn config_changes_since(
        &self,
        after: Option<i64>,
        limit: u64,
    ) -> StoreResult<ConfigChanges>;
    /// Forgets changes older than `before`.
    async fn prune_config_changes(&self, before: time::OffsetDateTime) -> StoreResult<u64>;
    /// The domain of that name, created when new.
    async fn get_or_create_domain(&self, name: &DomainName) -> StoreResult<Created<Domain>>;
    /// One domain.
    async fn domain(&self, id: DomainId) -> StoreResult<Domain>;
    /// A domain by name.
    async fn domain_by_name(&self, name: &DomainName) -> StoreResult<Option<Domain>>;
    /// A page of domains, by name.
    async fn list_domains(&self, filter: &DomainFilter, page: Page) -> StoreResult<Paged<Domain>>;
    /// Marks a domain active or inactive.
    async fn set_domain_active(&self, id: DomainId, active: bool) -> StoreResult<Domain>;
    /// The delegation label of `_acme-challenge.<domain_name>` in peter's
    /// own DNS zone: the stored one, or `new_label` recorded now.
    async fn dns_delegation_label(&self, domain_name: &str, new_label: &str)
    -> StoreResult<String>;
    /// Serves `value` under `label` (idempotent).
    async fn add_dns_txt(&self, label: &str, value: &str) -> StoreResult<()>;
    /// Stops serving `value` under `label`.
    async fn remove_dns_txt(&self, label: &str, value: &str) -> StoreResult<()>;
    /// The values served under `label` (at most 16; a day old at most).
    async fn dns_txt_values(&self, label: &str) -> StoreResult<Vec<String>>;
    /// Sets how orders validate a domain (http-01 or dns-01).
    async fn set_domain_challenge_type(
        &self,
        id: DomainId,
        challenge_type: AcmeChallengeType,
    ) -> StoreResult<Domain>;
    /// Adds a name to the blocklist.
    async fn add_blocklisted_domain(
        &self,
        name: &DomainName,
    ) -> StoreResult<Created<DomainBlocklisted>>;
    /// Whether a name is blocklisted.
    async fn is_domain_blocklisted(&self, name: &DomainName) -> StoreResult<bool>;
    /// The whole blocklist.
    async fn list_blocklisted_domains(&self) -> StoreResult<Vec<DomainBlocklisted>>;
    /// The stored set for these names, created (with its domains) when new.
    async fn get_or_create_unique_fqdn_set(
        &self,
        set: &UniqueFqdnSet,
    ) -> StoreResult<Created<UniqueFqdnSetRecord>>;
    /// One set.
    async fn unique_fqdn_set(&self, id: UniqueFqdnSetId) -> StoreResult<UniqueFqdnSetRecord>;
    /// The names of several sets at once, in name order (unknown ids are left out).
    async fn names_of_sets(
        &self,
        ids: &[UniqueFqdnSetId],
    ) -> StoreResult<std::collections::BTreeMap<UniqueFqdnSetId, Vec<String>>>;
}
