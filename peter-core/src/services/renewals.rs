//! Renewal: which certificates are due, and renewing them once even when
//! several nodes run the routine at the same time.
//!
//! Due means: inside the CA's ARI window, at a point chosen per certificate
//! so a fleet's renewals spread out; without ARI, when a third of the
//! lifetime is left; with `days`, when it expires within that many days.
//! Each renewal holds the set's lease in the store while it runs, and a
//! failure backs the set off (honouring the CA's Retry-After).

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::error::Error;
use crate::model::*;
use crate::ports::*;
use crate::services::alerts::{
    Alert, AlertOutcome, Alerter, is_expiring, says_account_deactivated,
};
use crate::services::orders::{Orders, RenewalSource};

/// A certificate that is due, and why.
#[derive(Debug, Clone, Serialize)]
pub struct DueCertificate {
    /// The certificate.
    pub certificate_signed_id: CertificateSignedId,
    /// Its names.
    pub unique_fqdn_set_id: UniqueFqdnSetId,
    /// Its names, for people.
    pub domains: String,
    /// Why it is due.
    pub reason: String,
}

/// Active domains with no active certificate: the renewal routine orders them.
pub async fn missing_domains(store: &dyn Store) -> Result<Vec<Domain>, Error> {
    let mut out = Vec::new();
    let mut after = DomainId(0);
    loop {
        let page = store.domains_without_certificate(after, PAGE).await?;
        for d in &page {
            if !store.is_domain_blocklisted(&d.domain_name.parse()?).await? {
                out.push(d.clone());
            }
        }
        match page.last() {
            Some(last) if page.len() as u64 == PAGE => after = last.id,
            _ => break,
        }
    }
    Ok(out)
}

/// Rows per store read when the routine walks every certificate or domain.
const PAGE: u64 = 1000;

/// What a renewal run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RenewalReport {
    /// Renewed: (old certificate, new order).
    pub renewed: Vec<(CertificateSignedId, AcmeOrderId)>,
    /// Failed, with the error.
    pub failed: Vec<(CertificateSignedId, String)>,
    /// Left alone, with the reason (leased elsewhere, renewed elsewhere, backing off).
    pub skipped: Vec<(CertificateSignedId, String)>,
    /// Domains that had no certificate: (name, new order, or the error).
    pub ordered_missing: Vec<(String, Result<AcmeOrderId, String>)>,
    /// What the CAs said about renewal windows at the start of the run.
    pub ari: AriReport,
    /// Alerts delivered or tried by this run (earlier runs' included).
    pub alerts: Vec<AlertOutcome>,
    /// Certificates this run renewed from their configuration's backup CA.
    pub failovers: Vec<(CertificateSignedId, RenewalConfigurationId)>,
}

/// The point inside `[start, end]` at which this certificate renews: fixed
/// per certificate, spread across certificates.
fn point_in_window(
    id: CertificateSignedId,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> OffsetDateTime {
    let span = u64::try_from(rules::between(start, end).whole_seconds()).unwrap_or(0);
    if span == 0 {
        return start;
    }
    // A small integer hash (splitmix64) of the id.
    let mut x = id.0 as u64 ^ 0x9e37_79b9_7f4a_7c15;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    rules::later_by(
        start,
        Duration::seconds(i64::try_from(x.checked_rem(span).unwrap_or(0)).unwrap_or(0)),
    )
}

/// The dates that decide whether a certificate is due.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// The certificate (it seeds the point chosen in an ARI window).
    pub id: CertificateSignedId,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The CA's renewal window, when known.
    pub ari_window: Option<(OffsetDateTime, OffsetDateTime)>,
}

impl From<&CertificateSigned> for Timing {
    fn from(c: &CertificateSigned) -> Self {
        Timing {
            id: c.id,
            not_before: c.not_before,
            not_after: c.not_after,
            ari_window: c.ari_window_start.zip(c.ari_window_end),
        }
    }
}

impl From<&RenewalCandidate> for Timing {
    fn from(c: &RenewalCandidate) -> Self {
        Timing {
            id: c.id,
            not_before: c.not_before,
            not_after: c.not_after,
            ari_window: c.ari_window_start.zip(c.ari_window_end),
        }
    }
}

/// Why a certificate with these dates is due at `now`, if it is.
pub fn due_reason(cert: Timing, now: OffsetDateTime, days: Option<i64>) -> Option<String> {
    if let Some(days) = days {
        // Callers validate `days` (rules::days_after); here it saturates.
        let horizon = rules::later_by(now, Duration::days(days.clamp(0, rules::MAX_DAYS)));
        return (cert.not_after < horizon).then(|| format!("expires within {days} days"));
    }
    if let Some((start, end)) = cert.ari_window {
        let at = point_in_window(cert.id, start, end);
        return (now >= at).then(|| format!("inside the CA's renewal window (chosen point {at})"));
    }
    let lifetime = rules::between(cert.not_before, cert.not_after);
    (rules::between(now, cert.not_after) < lifetime.checked_div(3).unwrap_or(lifetime))
        .then(|| "less than a third of its lifetime left".to_string())
}

/// The newest active certificate of each set of names: the last issued (a
/// CA may jitter validity dates, so issue order, not `not_after`, decides).
pub async fn newest_active_certificates(
    store: &dyn Store,
) -> Result<Vec<CertificateSigned>, Error> {
    let mut newest: std::collections::BTreeMap<i64, CertificateSigned> =
        std::collections::BTreeMap::new();
    let mut page = 1;
    loop {
        let listed = store
            .list_certificates_signed(CertificateFilter::active(), Page::new(page, 500))
            .await?;
        let next = listed.page_next();
        for cert in listed.items {
            match newest.get(&cert.unique_fqdn_set_id.0) {
                Some(kept) if kept.id >= cert.id => {}
                _ => {
                    newest.insert(cert.unique_fqdn_set_id.0, cert);
                }
            }
        }
        match next {
            Some(next) => page = next,
            None => break,
        }
    }
    Ok(newest.into_values().collect())
}

/// The newest active certificate of each set whose domains are all active,
/// in id order, as the columns the due decision needs.
pub async fn renewal_candidates(store: &dyn Store) -> Result<Vec<RenewalCandidate>, Error> {
    // Newest active certificate per set, read in keyset pages of the
    // columns the decision needs (never whole certificates).
    let mut newest: std::collections::BTreeMap<UniqueFqdnSetId, RenewalCandidate> =
        std::collections::BTreeMap::new();
    let mut after = CertificateSignedId(0);
    loop {
        let page = store.renewal_candidates(after, PAGE).await?;
        let full = page.len() as u64 == PAGE;
        if let Some(last) = page.last() {
            after = last.id;
        }
        // Pages come in id order, so the last certificate seen of a set is
        // its newest.
        for cert in page {
            newest.insert(cert.unique_fqdn_set_id, cert);
        }
        if !full {
            break;
        }
    }
    // An inactive domain stops its sets' certificates renewing.
    let stopped: std::collections::HashSet<UniqueFqdnSetId> = store
        .sets_with_inactive_domains()
        .await?
        .into_iter()
        .collect();
    let mut out: Vec<RenewalCandidate> = newest
        .into_values()
        .filter(|c| !stopped.contains(&c.unique_fqdn_set_id))
        .collect();
    out.sort_by_key(|c| c.id);
    Ok(out)
}

/// The candidates that are due at `now`, and why.
pub fn due_among(
    candidates: &[RenewalCandidate],
    now: OffsetDateTime,
    days: Option<i64>,
) -> Vec<DueCertificate> {
    candidates
        .iter()
        .filter_map(|cert| {
            let reason = due_reason(Timing::from(cert), now, days)?;
            Some(DueCertificate {
                certificate_signed_id: cert.id,
                unique_fqdn_set_id: cert.unique_fqdn_set_id,
                domains: cert.domain_names.clone(),
                reason,
            })
        })
        .collect()
}

/// When a renewal run asks CAs for renewal windows (RFC 9773).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AriPolling {
    /// Ask for every certificate considered (a `peter renew` run).
    Always,
    /// Ask only where the CA's Retry-After has passed (a long-running
    /// process renewing on a timer).
    AfterRetryAfter,
    /// Ask for every certificate considered, but record nothing (a dry
    /// run: the run that follows still sees, and alerts, a moved window).
    AlwaysWithoutRecording,
}

/// A renewal window the CA moved so that a renewal that was not yet due is
/// due now (what a CA does before a mass revocation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MovedWindow {
    /// The certificate.
    pub certificate_signed_id: CertificateSignedId,
    /// Its names.
    pub domains: String,
    /// The window's start before.
    #[serde(with = "time::serde::rfc3339")]
    pub previous_start: OffsetDateTime,
    /// The new window's start.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// The new window's end.
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    /// The CA's explanation, when given.
    pub explanation_url: Option<String>,
}

/// What asking the CAs for renewal windows found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AriReport {
    /// Certificates whose window was fetched and stored.
    pub polled: Vec<CertificateSignedId>,
    /// Certificates not asked because the CA's Retry-After had not passed.
    pub deferred: u64,
    /// Windows that could not be fetched, with the error (the stored window stays).
    pub failed: Vec<(CertificateSignedId, String)>,
    /// Windows moved so that the renewal is due now.
    pub moved_into_past: Vec<MovedWindow>,
}

/// Asks each candidate's issuing CA for its current renewal window, stores
/// every answer and updates `candidates` in place, so the decision that
/// follows uses what the CA says now. Certificates peter did not order, and
/// CAs without ARI, are left alone.
pub async fn refresh_renewal_windows(
    orders: &Orders<'_>,
    candidates: &mut [RenewalCandidate],
    polling: AriPolling,
) -> Result<AriReport, Error> {
    let store = orders.store;
    let mut report = AriReport::default();
    // Per server: the server when it offers ARI, or why it cannot be asked.
    let mut servers: std::collections::HashMap<AcmeServerId, Result<Option<AcmeServer>, String>> =
        std::collections::HashMap::new();
    for cert in candidates.iter_mut() {
        let Some(server_id) = cert.acme_server_id else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = servers.entry(server_id) {
            let server = store.acme_server(server_id).await?;
            slot.insert(match orders.acme.directory(&server).await {
                Ok(directory) => Ok(directory.supports_ari.then_some(server)),
                Err(e) => Err(e.to_string()),
            });
        }
        let server = match servers.get(&server_id) {
            Some(Ok(Some(server))) => server,
            Some(Err(why)) => {
                report.failed.push((cert.id, why.clone()));
                continue;
            }
            _ => continue,
        };
        let now = orders.clock.now();
        if polling == AriPolling::AfterRetryAfter && cert.ari_retry_after.is_some_and(|r| r > now) {
            report.deferred = report.deferred.saturating_add(1);
            continue;
        }
        let stored = store.certificate_signed(cert.id).await?;
        let der = crate::formats::pem_to_der(&stored.cert_pem, crate::formats::PEM_CERTIFICATE)?;
        let refs = EventRefs {
            certificate_signed_id: Some(cert.id),
            ..Default::default()
        };
        let window = match orders.acme.renewal_info(server, &der, refs).await {
            Ok(window) => window,
            Err(e) => {
                report.failed.push((cert.id, e.to_string()));
                continue;
            }
        };
        if polling != AriPolling::AlwaysWithoutRecording {
            store
                .set_certificate_renewal_window(cert.id, &window)
                .await?;
        }
        if let Some(previous_start) = cert.ari_window_start
            && previous_start > now
            && window.start <= now
        {
            tracing::warn!(certificate = %cert.id, start = %window.start, "the CA moved the renewal window into the past");
            report.moved_into_past.push(MovedWindow {
                certificate_signed_id: cert.id,
                domains: cert.domain_names.clone(),
                previous_start,
                start: window.start,
                end: window.end,
                explanation_url: window.explanation_url.clone(),
            });
        }
        cert.ari_window_start = Some(window.start);
        cert.ari_window_end = Some(window.end);
        cert.ari_retry_after = Some(window.retry_after);
        report.polled.push(cert.id);
    }
    Ok(report)
}

/// Alerts a failed renewal: the failure with the CA's problem and, when the
/// CA says the account is deactivated, that too (the account is then
/// recorded as deactivated, so nothing orders with it again).
async fn alert_failure(
    store: &dyn Store,
    alerter: &Alerter<'_>,
    item: &DueCertificate,
    e: &Error,
) -> Result<Vec<AlertOutcome>, Error> {
    let id = item.certificate_signed_id;
    let problem = match e {
        Error::Acme(AcmeError::Server { problem, .. }) => Some(problem.clone()),
        _ => None,
    };
    let mut out = alerter
        .raise(&Alert {
            condition: AlertCondition::RenewalFailed,
            certificate_signed_id: Some(id),
            acme_account_id: None,
            domains: Some(item.domains.clone()),
            message: format!("renewing certificate {id} failed: {e}"),
            problem: problem.clone(),
            explanation_url: None,
        })
        .await?;
    if !problem.as_ref().is_some_and(says_account_deactivated) {
        return Ok(out);
    }
    let account = match store.acme_order_for_certificate(id).await? {
        Some(order) => Some(order.acme_account_id),
        None => store.global_default_acme_account().await?.map(|a| a.id),
    };
    let Some(account) = account else {
        return Ok(out);
    };
    if store.acme_account(account).await?.is_active {
        store.deactivate_acme_account(account).await?;
    }
    out.extend(
        alerter
            .raise(&Alert {
                condition: AlertCondition::AccountDeactivated,
                certificate_signed_id: None,
                acme_account_id: Some(account),
                domains: None,
                message: format!(
                    "the CA says account {account} is deactivated; it is recorded as deactivated, and its certificates need another account"
                ),
                problem,
                explanation_url: None,
            })
            .await?,
    );
    Ok(out)
}

/// What a renewal run does for one due certificate.
enum Work {
    /// Finish an order a stopped run left in progress.
    Resume(AcmeOrderId),
    /// Place a new order for these names from this source.
    Place(RenewalSource, Vec<String>),
}

/// How a skipped renewal's reason starts when this node lost its lease in
/// the middle of it (another node resumes the work).
pub const LEASE_LOST: &str = "lease lost mid-renewal";

/// Renews every due certificate once, as `holder` (a name unique to this
/// process), holding each set's lease for at most `lease` while renewing.
/// Only certificates that existed when the run started (`started_at`) are
/// renewed: one that another node issued meanwhile is its renewal, not a
/// new candidate, so concurrent runs place one order per due certificate.
pub async fn renew_due(
    orders: &Orders<'_>,
    holder: &str,
    days: Option<i64>,
    lease: Duration,
    started_at: OffsetDateTime,
    polling: AriPolling,
    alerter: &Alerter<'_>,
) -> Result<RenewalReport, Error> {
    let store = orders.store;
    let mut report = RenewalReport {
        alerts: alerter.retry_undelivered().await?,
        ..Default::default()
    };
    let mut candidates = renewal_candidates(store).await?;
    report.ari = refresh_renewal_windows(orders, &mut candidates, polling).await?;
    for moved in &report.ari.moved_into_past {
        let alert = Alert {
            condition: AlertCondition::AriWindowMoved,
            certificate_signed_id: Some(moved.certificate_signed_id),
            acme_account_id: None,
            domains: Some(moved.domains.clone()),
            message: format!(
                "the CA moved the renewal window of certificate {} into the past ({} .. {}); this run renews it",
                moved.certificate_signed_id, moved.start, moved.end
            ),
            problem: None,
            explanation_url: moved.explanation_url.clone(),
        };
        report.alerts.extend(alerter.raise(&alert).await?);
    }
    let now = orders.clock.now();
    for item in due_among(&candidates, now, days) {
        let id = item.certificate_signed_id;
        if store.certificate_signed(id).await?.created_at > started_at {
            report.skipped.push((
                id,
                "issued while this run was going (another node's renewal)".into(),
            ));
            continue;
        }
        if let Some((_, next)) = store.renewal_backoff(item.unique_fqdn_set_id).await?
            && next > now
        {
            report
                .skipped
                .push((id, format!("backing off until {next}")));
            continue;
        }
        let Some(fence) = store
            .try_acquire_renewal_lease(item.unique_fqdn_set_id, holder, lease)
            .await?
        else {
            report
                .skipped
                .push((id, "another node is renewing it".into()));
            continue;
        };
        // Another node may have renewed it since the list was made.
        let orders_now = store
            .list_acme_orders(&OrderFilter::all(), Page::new(1, 1000))
            .await?
            .items;
        if orders_now.iter().any(|o| {
            o.certificate_signed_id_renewal_of == Some(id) && o.certificate_signed_id.is_some()
        }) {
            store
                .release_renewal_lease(item.unique_fqdn_set_id, holder)
                .await?;
            report.skipped.push((id, "already renewed".into()));
            continue;
        }
        // A renewal order a stopped run left in progress is resumed, not
        // placed again (the CA refuses a second order replacing the same
        // certificate); that includes one recorded locally whose placing
        // never got an answer (`*discovered*`), which processing places again.
        let mut unfinished = OrderFilter::active();
        unfinished.statuses.push(AcmeOrderStatus::Discovered);
        let in_progress = store
            .list_acme_orders(&unfinished, Page::new(1, 1000))
            .await?
            .items
            .into_iter()
            .find(|o| {
                o.certificate_signed_id_renewal_of == Some(id) && o.is_processing == Some(true)
            });
        // How the set is renewed: its configuration's primary, or its backup
        // once the primary failed `failover_after` times in a row. A set
        // without one (known only from imports) waits for the operator.
        let work = match in_progress {
            Some(order) => Work::Resume(order.id),
            None => {
                let Some(config) = store
                    .renewal_configuration_for_set(item.unique_fqdn_set_id)
                    .await?
                    .filter(|c| c.is_active)
                else {
                    store
                        .release_renewal_lease(item.unique_fqdn_set_id, holder)
                        .await?;
                    report.skipped.push((
                        id,
                        "not renewable: no renewal configuration (name an account with `peter renewal-configuration new`)".into(),
                    ));
                    continue;
                };
                let failures = store
                    .renewal_backoff(item.unique_fqdn_set_id)
                    .await?
                    .map_or(0, |(f, _)| f);
                let failover = config.backup.is_some()
                    && u32::try_from(failures).unwrap_or(0) >= config.failover_after;
                if failover {
                    let message = format!(
                        "renewing certificate {id} failed {failures} times in a row at its primary CA (account {}); this run orders from the backup (account {})",
                        config.acme_account_id,
                        config.backup.as_ref().map_or(0, |b| b.acme_account_id.0),
                    );
                    store
                        .record_operations_event(
                            OperationsEventType::RenewalFailover,
                            serde_json::json!({
                                "renewal_configuration.id": config.id.0,
                                "certificate_signed.id": id.0,
                                "failures": failures,
                            }),
                            None,
                        )
                        .await?;
                    report.failovers.push((id, config.id));
                    let alert = Alert {
                        condition: AlertCondition::RenewalFailover,
                        certificate_signed_id: Some(id),
                        acme_account_id: config.backup.as_ref().map(|b| b.acme_account_id),
                        domains: Some(item.domains.clone()),
                        message,
                        problem: None,
                        explanation_url: None,
                    };
                    report.alerts.extend(alerter.raise(&alert).await?);
                }
                Work::Place(RenewalSource::of(&config, failover), config.domain_names)
            }
        };
        // Everything the renewal writes is fenced by the lease: should this
        // node lose it (cut off from the store past its expiry), its later
        // writes fail and whoever holds the lease next resumes the order.
        let outcome = under_fence(fence.clone(), async {
            match work {
                Work::Resume(order) => orders.process_to_end(order).await,
                Work::Place(source, names) => {
                    orders
                        .order_from(names, &source, Some(id), AcmeOrderType::Automated)
                        .await
                }
            }
        })
        .await;
        match outcome {
            Err(Error::Store(StoreError::Fenced(why))) => {
                tracing::warn!(certificate = %id, %why, "renewal lease lost; another node resumes it");
                report.skipped.push((id, format!("{LEASE_LOST}: {why}")));
                continue;
            }
            Ok(order) => {
                store
                    .clear_renewal_failures(item.unique_fqdn_set_id)
                    .await?;
                report.renewed.push((id, order.id));
            }
            Err(e) => {
                let failures = store
                    .renewal_backoff(item.unique_fqdn_set_id)
                    .await?
                    .map(|(f, _)| f)
                    .unwrap_or(0);
                // 5 minutes, doubling per failure, at most a day.
                let doublings = u32::try_from(failures.clamp(0, 8)).unwrap_or(8);
                let backoff = Duration::minutes(5i64.checked_shl(doublings).unwrap_or(1280))
                    .min(Duration::days(1));
                let wait = match &e {
                    Error::Acme(AcmeError::Server {
                        retry_after_seconds: Some(s),
                        ..
                    }) => Duration::seconds((*s).clamp(0, 30 * 86_400)).max(backoff),
                    _ => backoff,
                };
                // Recorded only while the lease is still this node's: a
                // node that lost it reports nothing over the new holder's work.
                let recorded = under_fence(
                    fence,
                    store.record_renewal_failure(
                        item.unique_fqdn_set_id,
                        rules::later_by(now, wait),
                        &e.to_string(),
                    ),
                )
                .await;
                if let Err(StoreError::Fenced(why)) = &recorded {
                    report
                        .skipped
                        .push((id, format!("{LEASE_LOST}: {why} (after: {e})")));
                    continue;
                }
                recorded?;
                report.failed.push((id, e.to_string()));
                let outcomes = alert_failure(store, alerter, &item, &e).await?;
                report.alerts.extend(outcomes);
            }
        }
        store
            .release_renewal_lease(item.unique_fqdn_set_id, holder)
            .await?;
    }
    // Certificates close to their end that this run did not renew.
    let renewed: std::collections::HashSet<CertificateSignedId> =
        report.renewed.iter().map(|(old, _)| *old).collect();
    for cert in &candidates {
        if renewed.contains(&cert.id) || !is_expiring(cert.not_before, cert.not_after, now) {
            continue;
        }
        let alert = Alert {
            condition: AlertCondition::ExpiringUnrenewed,
            certificate_signed_id: Some(cert.id),
            acme_account_id: None,
            domains: Some(cert.domain_names.clone()),
            message: format!(
                "certificate {} expires at {} and has not been renewed",
                cert.id, cert.not_after
            ),
            problem: None,
            explanation_url: None,
        };
        report.alerts.extend(alerter.raise(&alert).await?);
    }
    // Active domains without any certificate are ordered, one name each,
    // by the global default account, under the same lease and backoff.
    let missing = missing_domains(store).await?;
    if !missing.is_empty() {
        let Some(account) = store.global_default_acme_account().await? else {
            for d in missing {
                report
                    .ordered_missing
                    .push((d.domain_name, Err("no global default account".into())));
            }
            return Ok(report);
        };
        for d in missing {
            let set = crate::dns::UniqueFqdnSet::parse([d.domain_name.as_str()])?;
            let set_id = store.get_or_create_unique_fqdn_set(&set).await?.id.id;
            if let Some((_, next)) = store.renewal_backoff(set_id).await?
                && next > now
            {
                continue;
            }
            let Some(fence) = store
                .try_acquire_renewal_lease(set_id, holder, lease)
                .await?
            else {
                continue;
            };
            // Another node may have ordered it meanwhile.
            let fresh = store.domain(d.id).await?;
            if fresh.certificate_signed_id_latest_single.is_some()
                || fresh.certificate_signed_id_latest_multi.is_some()
            {
                store.release_renewal_lease(set_id, holder).await?;
                continue;
            }
            let mut request = crate::services::orders::OrderRequest::new(
                account.id,
                vec![d.domain_name.clone()],
                AcmeOrderProcessingStrategy::ProcessSingle,
            );
            request.order_type = AcmeOrderType::Automated;
            match under_fence(fence, orders.create(request)).await {
                Err(Error::Store(StoreError::Fenced(why))) => {
                    tracing::warn!(domain = %d.domain_name, %why, "renewal lease lost; another node resumes it");
                    continue;
                }
                Ok(order) => {
                    store.clear_renewal_failures(set_id).await?;
                    report.ordered_missing.push((d.domain_name, Ok(order.id)));
                }
                Err(e) => {
                    store
                        .record_renewal_failure(
                            set_id,
                            rules::later_by(now, Duration::minutes(5)),
                            &e.to_string(),
                        )
                        .await?;
                    report
                        .ordered_missing
                        .push((d.domain_name, Err(e.to_string())));
                }
            }
            store.release_renewal_lease(set_id, holder).await?;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn cert(id: i64, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertificateSigned {
        CertificateSigned {
            id: CertificateSignedId(id),
            cert_pem: String::new(),
            fingerprint_sha1: String::new(),
            spki_sha256: String::new(),
            serial: String::new(),
            cert_subject: String::new(),
            cert_issuer: String::new(),
            not_before,
            not_after,
            is_single_domain_cert: true,
            key_technology: KeyTechnology::EcP256,
            is_active: true,
            is_deactivated: false,
            is_revoked: false,
            is_compromised_private_key: false,
            revoked_upstream_at: None,
            ari_window_start: None,
            ari_window_end: None,
            ari_retry_after: None,
            ari_explanation_url: None,
            ari_checked_at: None,
            private_key_id: PrivateKeyId(1),
            unique_fqdn_set_id: UniqueFqdnSetId(1),
            certificate_request_id: None,
            created_at: not_before,
        }
    }

    #[test]
    fn without_ari_a_certificate_is_due_with_a_third_of_its_life_left() {
        let c = cert(
            1,
            datetime!(2026-01-01 0:00 UTC),
            datetime!(2026-04-01 0:00 UTC),
        );
        assert!(due_reason(Timing::from(&c), datetime!(2026-02-28 0:00 UTC), None).is_none());
        assert!(due_reason(Timing::from(&c), datetime!(2026-03-05 0:00 UTC), None).is_some());
        assert!(
            due_reason(Timing::from(&c), datetime!(2026-01-02 0:00 UTC), Some(100)).is_some(),
            "--days overrides"
        );
        assert!(due_reason(Timing::from(&c), datetime!(2026-01-02 0:00 UTC), Some(30)).is_none());
    }

    #[test]
    fn with_ari_the_renewal_point_is_inside_the_window_and_spread() {
        let start = datetime!(2026-03-01 0:00 UTC);
        let end = datetime!(2026-03-03 0:00 UTC);
        let points: Vec<_> = (1..50)
            .map(|i| point_in_window(CertificateSignedId(i), start, end))
            .collect();
        assert!(points.iter().all(|p| *p >= start && *p <= end));
        let distinct: std::collections::BTreeSet<_> = points.iter().collect();
        assert!(distinct.len() > 40, "renewals spread across the window");
        let mut c = cert(
            7,
            datetime!(2026-01-01 0:00 UTC),
            datetime!(2026-04-01 0:00 UTC),
        );
        c.ari_window_start = Some(start);
        c.ari_window_end = Some(end);
        assert!(due_reason(Timing::from(&c), start - Duration::seconds(1), None).is_none());
        assert!(due_reason(Timing::from(&c), end, None).is_some());
    }
}
