//! Ordering certificates: creating orders, and advancing them one step at a
//! time from the stored and freshly synced state, so that a process killed
//! at any point can process the order again and resume where it stopped.
//!
//! The three strategies of the original: `create_order` (create upstream and
//! stop), `process_single` (everything in one call) and `process_multi`
//! (each call advances one step).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::dns::UniqueFqdnSet;
use crate::error::Error;
use crate::formats::{ParsedCsr, ParsedPrivateKey, link_chain, parse_certificates_pem};
use crate::model::rules::{self, ServerChallenge, TransitionError};
use crate::model::*;
use crate::ports::*;

/// Polling and retry settings.
#[derive(Debug, Clone, Copy)]
pub struct OrderSettings {
    /// Pause between polls of a challenge or an order.
    pub poll_interval: Duration,
    /// Longest wait for a challenge or order to leave `pending`/`processing`.
    pub poll_timeout: Duration,
    /// Attempts of one step when the server answers badNonce or the
    /// connection drops.
    pub step_attempts: u32,
    /// When the CA has made an order invalid, deactivate its authorizations
    /// still pending there (the order ends `processing_deactivated`), so
    /// they do not linger at the CA. An order interrupted by transport
    /// faults is never deactivated: it stays resumable.
    pub deactivate_pending_on_failure: bool,
    /// Called at named checkpoints (`after_new_order`, `before_trigger`,
    /// `before_finalize`, `after_finalize`, `after_download`); tests use it
    /// to stop a process at a chosen point (test builds only).
    #[cfg(feature = "testkit")]
    pub checkpoint: Option<fn(&'static str)>,
}

impl Default for OrderSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(50),
            poll_timeout: Duration::from_secs(90),
            step_attempts: 5,
            deactivate_pending_on_failure: true,
            #[cfg(feature = "testkit")]
            checkpoint: None,
        }
    }
}

/// Whether the CA itself refused (as opposed to a fault on the way).
fn refused_by_ca(e: &Error) -> bool {
    matches!(e, Error::RejectedIdentifier { .. })
        || matches!(
            e.kind(),
            crate::error::ErrorKind::Upstream | crate::error::ErrorKind::RateLimited
        )
}

/// Per-name challenge types checked against the set they are for: each
/// name must be one of the set's (keys are normalised), and the type must
/// suit it (a wildcard only by dns-01, an address only by http-01).
pub fn chosen_challenge_types(
    set: &UniqueFqdnSet,
    chosen: &BTreeMap<String, AcmeChallengeType>,
) -> Result<BTreeMap<String, AcmeChallengeType>, Error> {
    let mut out = BTreeMap::new();
    for (name, challenge_type) in chosen {
        let parsed = crate::dns::DomainName::parse(name)?;
        if !set.contains(&parsed) {
            return Err(Error::InvalidField {
                field: "challenge_types",
                message: format!("`{name}` is not one of the names"),
            });
        }
        rules::check_domain_challenge_type(parsed.as_str(), *challenge_type)?;
        out.insert(parsed.to_string(), *challenge_type);
    }
    Ok(out)
}

/// A CA's refusal of an identifier as its own typed error; any other
/// failure as it is.
fn order_error(e: AcmeError) -> Error {
    match &e {
        AcmeError::Server { problem, .. } if problem.short_type() == "rejectedIdentifier" => {
            Error::RejectedIdentifier {
                detail: problem
                    .detail
                    .clone()
                    .unwrap_or_else(|| "no detail given".into()),
            }
        }
        _ => Error::from(e),
    }
}

/// Consecutive failures at a primary CA before renewals go to the backup.
pub const DEFAULT_FAILOVER_AFTER: u32 = 3;

/// Where a renewal orders from: a configuration's primary or its backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalSource {
    /// The ordering account.
    pub acme_account_id: AcmeAccountId,
    /// Key technology (`None`: the account's default, by the key cycle).
    pub private_key_technology: Option<KeyTechnology>,
    /// Key cycle.
    pub private_key_cycle: PrivateKeyCycle,
    /// Profile.
    pub profile: Option<String>,
    /// Challenge types for some names, over their domains'.
    pub challenge_types: BTreeMap<String, AcmeChallengeType>,
}

impl RenewalSource {
    /// A configuration's primary (`backup` false) or its backup (falling
    /// back to the primary when it has none).
    pub fn of(config: &RenewalConfiguration, backup: bool) -> Self {
        match (&config.backup, backup) {
            (Some(b), true) => Self {
                acme_account_id: b.acme_account_id,
                private_key_technology: b.private_key_technology,
                private_key_cycle: PrivateKeyCycle::SingleUse,
                profile: b.profile.clone(),
                challenge_types: config.challenge_types.clone(),
            },
            _ => Self {
                acme_account_id: config.acme_account_id,
                private_key_technology: config.private_key_technology,
                private_key_cycle: config.private_key_cycle,
                profile: config.profile.clone(),
                challenge_types: config.challenge_types.clone(),
            },
        }
    }
}

/// What to order.
#[derive(Debug, Clone)]
pub struct OrderRequest {
    /// Ordering account (`None`: the global default account).
    pub acme_account_id: Option<AcmeAccountId>,
    /// Names (any order, duplicates allowed).
    pub domains: Vec<String>,
    /// Processing strategy.
    pub strategy: AcmeOrderProcessingStrategy,
    /// Key cycle (`None`: the account's default).
    pub private_key_cycle: Option<PrivateKeyCycle>,
    /// A key to use instead of cycling.
    pub private_key_id: Option<PrivateKeyId>,
    /// ACME profile.
    pub profile: Option<String>,
    /// Why the order is placed.
    pub order_type: AcmeOrderType,
    /// The certificate this order renews (names it in `replaces` when allowed).
    pub renewal_of: Option<CertificateSignedId>,
    /// The order this one retries.
    pub retry_of: Option<AcmeOrderId>,
    /// Challenge types for some of the names, over their domains' (a
    /// renewal configuration's choices).
    pub challenge_types: BTreeMap<String, AcmeChallengeType>,
}

impl OrderRequest {
    /// A new order for the names of a comma or space separated list, by
    /// `account` (`None`: the global default account).
    pub fn for_names(
        names: &str,
        account: Option<AcmeAccountId>,
        strategy: AcmeOrderProcessingStrategy,
    ) -> Self {
        Self {
            acme_account_id: account,
            ..Self::new(
                AcmeAccountId(0),
                super::domains::split_names(names),
                strategy,
            )
        }
    }

    /// A new order for `domains` with the given strategy and defaults otherwise.
    pub fn new(
        acme_account_id: AcmeAccountId,
        domains: Vec<String>,
        strategy: AcmeOrderProcessingStrategy,
    ) -> Self {
        Self {
            acme_account_id: Some(acme_account_id),
            domains,
            strategy,
            private_key_cycle: None,
            private_key_id: None,
            profile: None,
            order_type: AcmeOrderType::New,
            renewal_of: None,
            retry_of: None,
            challenge_types: BTreeMap::new(),
        }
    }
}

crate::model::closed_set!(
    /// What one processing step did.
    Step, "processing step" {
        /// Fetched an authorization the order listed.
        LoadedAuthorization => "loaded_authorization",
        /// Triggered a challenge and saw it validated.
        ValidatedChallenge => "validated_challenge",
        /// Waited for the server.
        Waited => "waited",
        /// Sent the CSR.
        Finalized => "finalized",
        /// Downloaded and recorded the certificate.
        Downloaded => "downloaded",
        /// Nothing left to do: the certificate is recorded.
        Done => "done",
    }
);

/// The order services over a store, an ACME client and a clock.
pub struct Orders<'a> {
    /// Storage.
    pub store: &'a dyn Store,
    /// ACME.
    pub acme: &'a dyn AcmeClient,
    /// Time.
    pub clock: &'a dyn Clock,
    /// Polling.
    pub settings: OrderSettings,
    /// How DNS-01 TXT records are published, when configured.
    pub dns: Option<&'a dyn DnsChallengeSolver>,
}

impl<'a> Orders<'a> {
    #[cfg(feature = "testkit")]
    fn checkpoint(&self, point: &'static str) {
        if let Some(hook) = self.settings.checkpoint {
            hook(point);
        }
    }

    #[cfg(not(feature = "testkit"))]
    fn checkpoint(&self, _point: &'static str) {}

    async fn context(&self, account_id: AcmeAccountId) -> Result<AccountContext, Error> {
        let account = self.store.acme_account(account_id).await?;
        if !account.is_active {
            return Err(TransitionError::AccountDeactivated.into());
        }
        if account.account_url.is_none() {
            return Err(Error::InvalidField {
                field: "acme_account",
                message: format!("account {account_id} is not registered with its ACME server"),
            });
        }
        let server = self.store.acme_server(account.acme_server_id).await?;
        if !server.is_enabled {
            return Err(Error::InvalidField {
                field: "acme_server",
                message: format!("ACME server `{}` is disabled", server.name),
            });
        }
        Ok(AccountContext { server, account })
    }

    /// Runs an ACME call, retrying it when the server answers badNonce or the
    /// connection fails, up to `step_attempts` times.
    async fn retrying<T, F, Fut>(&self, call: F) -> Result<T, AcmeError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, AcmeError>>,
    {
        super::retry_acme(self.clock, self.settings.step_attempts, call).await
    }

    /// When a wait that starts now must end.
    fn deadline(&self) -> time::OffsetDateTime {
        self.clock.now().saturating_add(
            time::Duration::try_from(self.settings.poll_timeout).unwrap_or(time::Duration::MAX),
        )
    }

    /// Creates an order upstream and, per its strategy, processes it.
    /// Blocklisted names, unoffered profiles, and wildcards or dns-01
    /// domains without a DNS-01 method are refused before anything is sent.
    pub async fn create(&self, request: OrderRequest) -> Result<AcmeOrder, Error> {
        if request.domains.iter().all(|d| d.trim().is_empty()) {
            return Err(Error::InvalidField {
                field: "domain_names",
                message: "found no domain names".into(),
            });
        }
        let set = UniqueFqdnSet::parse(&request.domains)?;
        set.ensure_orderable(self.dns.is_some())?;
        let challenge_types = chosen_challenge_types(&set, &request.challenge_types)?;
        for name in set.names() {
            if self.store.is_domain_blocklisted(name).await? {
                return Err(Error::Blocklisted(name.to_string()));
            }
            let by_dns = match challenge_types.get(name.as_str()) {
                Some(chosen) => *chosen == AcmeChallengeType::Dns01,
                None => {
                    name.is_wildcard()
                        || self
                            .store
                            .domain_by_name(name)
                            .await?
                            .is_some_and(|d| d.challenge_type == AcmeChallengeType::Dns01)
                }
            };
            if by_dns {
                let Some(solver) = self.dns else {
                    return Err(crate::dns::FqdnSetError::Dns01Unconfigured(name.clone()).into());
                };
                let base = name.as_str().strip_prefix("*.").unwrap_or(name.as_str());
                solver.prepare(base).await?;
            }
        }
        let account =
            super::accounts::account_or_global_default(self.store, request.acme_account_id).await?;
        let ctx = self.context(account).await?;
        if let Some(address) = set.first_ip()
            && !ctx.server.ip_identifiers
        {
            return Err(crate::dns::FqdnSetError::IpIdentifiersDisabled {
                address: address.clone(),
                server: ctx.server.name.clone(),
            }
            .into());
        }
        let directory = self.retrying(|| self.acme.directory(&ctx.server)).await?;
        if let Some(profile) = &request.profile
            && !directory.profiles.iter().any(|p| p == profile)
        {
            return Err(AcmeError::Unsupported(format!(
                "the profile `{profile}` (offered: {})",
                if directory.profiles.is_empty() {
                    "none".to_string()
                } else {
                    directory.profiles.join(", ")
                }
            ))
            .into());
        }
        let mut replaces = None;
        if let Some(old) = request.renewal_of
            && directory.supports_ari
        {
            // A CA refuses `replaces` naming another account's certificate.
            let previous = self.store.acme_order_for_certificate(old).await?;
            if previous.is_some_and(|o| o.acme_account_id == ctx.account.id) {
                let cert = self.store.certificate_signed(old).await?;
                let der =
                    crate::formats::pem_to_der(&cert.cert_pem, crate::formats::PEM_CERTIFICATE)?;
                replaces = Some(self.acme.certificate_identifier(&der)?);
            }
        }
        let record = self.store.get_or_create_unique_fqdn_set(&set).await?;
        let cycle = request
            .private_key_cycle
            .unwrap_or(PrivateKeyCycle::AccountDefault);
        let order = self
            .store
            .create_acme_order(NewAcmeOrder {
                acme_account_id: ctx.account.id,
                unique_fqdn_set_id: record.id.id,
                processing_strategy: request.strategy,
                order_type: request.order_type,
                private_key_cycle: cycle,
                private_key_strategy: if request.private_key_id.is_some() {
                    PrivateKeyStrategy::Specified
                } else {
                    PrivateKeyStrategy::DeferredAssociate
                },
                private_key_id_requested: request.private_key_id,
                acme_order_id_retry_of: request.retry_of,
                certificate_signed_id_renewal_of: request.renewal_of,
                profile: request.profile.clone(),
                replaces: replaces.clone(),
                challenge_types,
            })
            .await?;
        let refs = EventRefs {
            acme_account_id: Some(ctx.account.id),
            acme_order_id: Some(order.id),
            ..Default::default()
        };
        let created = self
            .retrying(|| {
                self.acme.new_order(
                    &ctx,
                    &set,
                    replaces.as_deref(),
                    request.profile.as_deref(),
                    refs,
                )
            })
            .await;
        // certificate-if-needed reports a CA's refusal as its `fail` result
        // with the order, not as an error.
        let reports_failure = request.order_type == AcmeOrderType::CertificateIfNeeded;
        let server_order = match created {
            Ok(o) => o,
            Err(e) => {
                // A fault on the way leaves the order recorded without its
                // URL: processing it again places it again.
                if e.is_refusal() {
                    self.fail(order.id, &e).await?;
                }
                let e = order_error(e);
                if reports_failure && refused_by_ca(&e) {
                    return Ok(self.store.acme_order(order.id).await?);
                }
                return Err(e);
            }
        };
        self.checkpoint("after_new_order");
        let order = self.store.sync_acme_order(order.id, &server_order).await?;
        match request.strategy {
            AcmeOrderProcessingStrategy::ProcessSingle => {
                match self.process_to_end(order.id).await {
                    Err(e) if reports_failure && refused_by_ca(&e) => {
                        Ok(self.store.acme_order(order.id).await?)
                    }
                    other => other,
                }
            }
            _ => Ok(order),
        }
    }

    /// Records that the CA (or the way to it) failed the order; when the CA
    /// itself refused, its authorizations still pending there are
    /// deactivated first (see [`OrderSettings::deactivate_pending_on_failure`]).
    /// Records an order given up before a challenge was triggered (its
    /// DNS-01 record could not be placed): its pending authorizations are
    /// deactivated at the CA, so the order does not stay pending there.
    async fn fail_before_trigger(&self, id: AcmeOrderId, why: &str) -> Result<(), Error> {
        self.deactivate_pending(id).await?;
        self.store
            .update_acme_order(
                id,
                AcmeOrderUpdate {
                    status: Some(AcmeOrderStatus::Invalid),
                    processing_status: Some(AcmeOrderProcessingStatus::ProcessingDeactivated),
                    is_processing: Some(None),
                    problem: Some(serde_json::json!({"detail": why}).to_string()),
                    ..Default::default()
                },
            )
            .await?;
        Ok(())
    }

    async fn fail(&self, id: AcmeOrderId, e: &AcmeError) -> Result<(), Error> {
        let problem = match e {
            AcmeError::Server { problem, .. } => serde_json::to_string(problem).unwrap_or_default(),
            other => serde_json::json!({"detail": other.to_string()}).to_string(),
        };
        let processing_status = if self.settings.deactivate_pending_on_failure
            && matches!(e, AcmeError::Server { .. })
        {
            self.deactivate_pending(id).await?;
            AcmeOrderProcessingStatus::ProcessingDeactivated
        } else {
            AcmeOrderProcessingStatus::ProcessingCompletedFailure
        };
        self.store
            .update_acme_order(
                id,
                AcmeOrderUpdate {
                    status: Some(AcmeOrderStatus::Invalid),
                    processing_status: Some(processing_status),
                    is_processing: Some(None),
                    problem: Some(problem),
                    ..Default::default()
                },
            )
            .await?;
        Ok(())
    }

    /// Processes an order until it has its certificate or fails.
    pub async fn process_to_end(&self, id: AcmeOrderId) -> Result<AcmeOrder, Error> {
        // Every step either makes progress or waits; a server that keeps the
        // order waiting longer than the poll timeout ends the call (the order
        // can be processed again later).
        let deadline = self.deadline();
        loop {
            match self.process_step(id).await? {
                Step::Done | Step::Downloaded => return Ok(self.store.acme_order(id).await?),
                Step::Waited if self.clock.now() > deadline => {
                    return Err(AcmeError::Timeout(format!(
                        "order {id} is still being processed upstream"
                    ))
                    .into());
                }
                _ => continue,
            }
        }
    }

    /// Advances an order by one step, worked out from its stored state after
    /// syncing it with the server.
    pub async fn process_step(&self, id: AcmeOrderId) -> Result<Step, Error> {
        let order = self.store.acme_order(id).await?;
        if order.certificate_signed_id.is_some() {
            return Ok(Step::Done);
        }
        if order.is_processing.is_none() && order.status == AcmeOrderStatus::Invalid {
            return Err(TransitionError::OrderStatus {
                status: order.status,
                action: "processed (retry it instead)",
            }
            .into());
        }
        if order.is_processing == Some(false) {
            return Err(TransitionError::OrderStatus {
                status: order.status,
                action: "processed (it was cancelled)",
            }
            .into());
        }
        let ctx = self.context(order.acme_account_id).await?;
        let refs = EventRefs {
            acme_account_id: Some(ctx.account.id),
            acme_order_id: Some(id),
            ..Default::default()
        };
        let Some(url) = order.order_url.clone() else {
            // Recorded locally but the server's answer was lost (the process
            // stopped in between): place it again. The first one, if the
            // server created it, is left pending upstream and expires there.
            let set = self.store.unique_fqdn_set(order.unique_fqdn_set_id).await?;
            let server = self
                .retrying(|| {
                    self.acme
                        .new_order(&ctx, &set.set, None, order.profile.as_deref(), refs)
                })
                .await?;
            self.store.sync_acme_order(id, &server).await?;
            return Ok(Step::Waited);
        };
        let server_order = match self
            .retrying(|| self.acme.fetch_order(&ctx, &url, refs))
            .await
        {
            Ok(o) => o,
            Err(e) => {
                if matches!(
                    &e,
                    AcmeError::Server {
                        http_status: Some(404),
                        ..
                    }
                ) {
                    self.store
                        .update_acme_order(
                            id,
                            AcmeOrderUpdate {
                                status: Some(AcmeOrderStatus::NotFound),
                                is_processing: Some(None),
                                ..Default::default()
                            },
                        )
                        .await?;
                }
                return Err(e.into());
            }
        };
        let order = self.store.sync_acme_order(id, &server_order).await?;
        tracing::debug!(order = %id, status = %server_order.status, "order step");
        match server_order.status {
            AcmeOrderStatus::Invalid => {
                let processing_status = if self.settings.deactivate_pending_on_failure {
                    self.deactivate_pending(id).await?;
                    AcmeOrderProcessingStatus::ProcessingDeactivated
                } else {
                    AcmeOrderProcessingStatus::ProcessingCompletedFailure
                };
                self.store
                    .update_acme_order(
                        id,
                        AcmeOrderUpdate {
                            processing_status: Some(processing_status),
                            is_processing: Some(None),
                            ..Default::default()
                        },
                    )
                    .await?;
                let problem = server_order.error.clone().unwrap_or_default();
                Err(AcmeError::Server {
                    problem,
                    http_status: None,
                    retry_after_seconds: None,
                }
                .into())
            }
            AcmeOrderStatus::Valid => {
                let cert_url = server_order.certificate_url.clone().ok_or_else(|| {
                    AcmeError::protocol("a valid order without a certificate URL")
                })?;
                self.download_and_record(&ctx, &order, &cert_url, refs)
                    .await?;
                Ok(Step::Downloaded)
            }
            AcmeOrderStatus::Processing => {
                // A CA that says when to ask again is taken at its word (bounded
                // by the poll timeout); otherwise ask again soon.
                let wait = match server_order.retry_after_seconds {
                    Some(seconds) => {
                        Duration::from_secs(seconds.max(0) as u64).min(self.settings.poll_timeout)
                    }
                    None => Duration::from_millis(10).min(self.settings.poll_interval),
                };
                self.clock.sleep(wait).await;
                Ok(Step::Waited)
            }
            AcmeOrderStatus::Ready => {
                self.send_finalize(&ctx, &order, &server_order, refs)
                    .await?;
                Ok(Step::Finalized)
            }
            AcmeOrderStatus::Pending => self.authorization_step(&ctx, &order, refs).await,
            other => Err(TransitionError::OrderStatus {
                status: other,
                action: "processed",
            }
            .into()),
        }
    }

    async fn sync_authorization_inner(
        &self,
        ctx: &AccountContext,
        auth: &AcmeAuthorization,
        server: &ServerAuthorization,
    ) -> Result<AcmeAuthorization, Error> {
        let upserts = server
            .challenges
            .iter()
            .map(|c: &ServerChallenge| {
                let key_authorization = match c.challenge_type {
                    AcmeChallengeType::Http01 => Some(self.acme.key_authorization(ctx, &c.token)?),
                    _ => None,
                };
                Ok(ChallengeUpsert {
                    challenge: c.clone(),
                    key_authorization,
                })
            })
            .collect::<Result<Vec<_>, AcmeError>>()?;
        Ok(self
            .store
            .sync_acme_authorization(auth.id, server, &upserts)
            .await?)
    }

    async fn authorization_step(
        &self,
        ctx: &AccountContext,
        order: &AcmeOrder,
        refs: EventRefs,
    ) -> Result<Step, Error> {
        let auths = self.store.acme_authorizations_for_order(order.id).await?;
        // First, load every authorization the order listed but peter never fetched.
        if let Some(auth) = auths
            .iter()
            .find(|a| a.status == AcmeAuthorizationStatus::Discovered)
        {
            let refs = EventRefs {
                acme_authorization_id: Some(auth.id),
                ..refs
            };
            let server = self
                .retrying(|| {
                    self.acme
                        .fetch_authorization(ctx, &auth.authorization_url, refs)
                })
                .await?;
            self.sync_authorization_inner(ctx, auth, &server).await?;
            return Ok(Step::LoadedAuthorization);
        }
        let Some(auth) = auths
            .iter()
            .find(|a| a.status == AcmeAuthorizationStatus::Pending)
        else {
            // Nothing pending locally but the order is pending: refresh every authorization.
            for auth in &auths {
                let refs = EventRefs {
                    acme_authorization_id: Some(auth.id),
                    ..refs
                };
                let server = self
                    .retrying(|| {
                        self.acme
                            .fetch_authorization(ctx, &auth.authorization_url, refs)
                    })
                    .await?;
                self.sync_authorization_inner(ctx, auth, &server).await?;
            }
            self.clock.sleep(self.settings.poll_interval).await;
            return Ok(Step::Waited);
        };
        // The stored status may be stale (a trigger whose answer was lost, an
        // authorization the CA reused): ask the server before triggering.
        let auth_refs = EventRefs {
            acme_authorization_id: Some(auth.id),
            ..refs
        };
        let fresh = self
            .retrying(|| {
                self.acme
                    .fetch_authorization(ctx, &auth.authorization_url, auth_refs)
            })
            .await?;
        let auth = &self.sync_authorization_inner(ctx, auth, &fresh).await?;
        if auth.status != AcmeAuthorizationStatus::Pending {
            return Ok(Step::LoadedAuthorization);
        }
        let challenges = self
            .store
            .acme_challenges_for_authorization(auth.id)
            .await?;
        // A wildcard's authorization is validated by DNS-01 only; any other
        // name by its domain's challenge type (http-01 unless set).
        let domain = match auth.domain_id {
            Some(id) => Some(self.store.domain(id).await?),
            None => None,
        };
        let chosen = domain
            .as_ref()
            .and_then(|d| order.challenge_types.get(&d.domain_name).copied());
        // The order's own choice for the name (its renewal configuration's)
        // comes first; it was checked against the name when placed.
        let wanted = match (&domain, chosen) {
            (Some(_), Some(chosen)) => chosen,
            (Some(d), None) if d.domain_name.starts_with("*.") => AcmeChallengeType::Dns01,
            // RFC 8738: an address is validated by http-01 (on the address).
            (Some(d), None) if d.identifier_type == IdentifierType::Ip => AcmeChallengeType::Http01,
            (Some(d), None) => d.challenge_type,
            (None, _) => AcmeChallengeType::Http01,
        };
        let challenge = challenges
            .iter()
            .find(|c| c.challenge_type == wanted)
            .ok_or_else(|| {
                AcmeError::Unsupported(format!("an authorization without a {wanted} challenge"))
            })?;
        let refs = EventRefs {
            acme_authorization_id: Some(auth.id),
            acme_challenge_id: Some(challenge.id),
            ..refs
        };
        let dns = match (wanted, &domain) {
            (AcmeChallengeType::Dns01, Some(d)) => {
                let name = crate::dns::DomainName::parse(&d.domain_name)?;
                let Some(solver) = self.dns else {
                    // The method went away after the order was placed (a
                    // changed configuration): give the order up at the CA.
                    let err = crate::dns::FqdnSetError::Dns01Unconfigured(name);
                    self.fail_before_trigger(order.id, &err.to_string()).await?;
                    return Err(err.into());
                };
                let key_authorization = self.acme.key_authorization(ctx, &challenge.token)?;
                Some((
                    solver,
                    DnsChallengeRecord::new(&d.domain_name, &key_authorization),
                ))
            }
            _ => None,
        };
        let verdict = self
            .trigger_and_wait(ctx, order, auth, challenge, dns.as_ref(), refs)
            .await;
        // The record goes once the CA has decided, either way (also when an
        // earlier run placed it and this one sees the verdict), or when
        // placing it failed. A timeout or a lost connection keeps it: the
        // CA may still be validating, and a later step sees the verdict.
        let decided = matches!(
            &verdict,
            Ok(Step::ValidatedChallenge)
                | Err(Error::DnsChallenge(_))
                | Err(Error::Acme(AcmeError::Server { .. }))
        );
        if decided && let Some((solver, record)) = &dns {
            // Idempotent; a failure to remove is only logged.
            if let Err(e) = solver.clean_up(record).await {
                tracing::warn!(order = %order.id, error = %e, "a DNS-01 record was not removed");
            }
        }
        verdict
    }

    /// Publishes the DNS-01 record when there is one, triggers a pending
    /// challenge and waits for the authorization's verdict.
    async fn trigger_and_wait(
        &self,
        ctx: &AccountContext,
        order: &AcmeOrder,
        auth: &AcmeAuthorization,
        challenge: &AcmeChallenge,
        dns: Option<&(&dyn DnsChallengeSolver, DnsChallengeRecord)>,
        refs: EventRefs,
    ) -> Result<Step, Error> {
        if challenge.status == AcmeChallengeStatus::Pending {
            if let Some((solver, record)) = dns
                && let Err(e) = solver.present(record).await
            {
                // Nothing was asked of the CA for this challenge: give up the
                // order there, so that nothing stays pending.
                self.fail_before_trigger(order.id, &e.to_string()).await?;
                return Err(e.into());
            }
            self.checkpoint("before_trigger");
            let state = match self
                .retrying(|| {
                    self.acme
                        .trigger_challenge(ctx, &challenge.challenge_url, refs)
                })
                .await
            {
                Ok(state) => state,
                // A retry whose first attempt reached the CA (the answer was
                // lost) is refused because the challenge is no longer
                // pending: read where it stands; the wait below gets the verdict.
                Err(e) if e.is_refusal() => {
                    let state = self
                        .retrying(|| {
                            self.acme
                                .fetch_challenge(ctx, &challenge.challenge_url, refs)
                        })
                        .await?;
                    if state.challenge.status == AcmeChallengeStatus::Pending {
                        return Err(e.into());
                    }
                    state
                }
                Err(e) => return Err(e.into()),
            };
            self.store
                .set_acme_challenge_status(challenge.id, state.challenge.status)
                .await?;
        }
        // Wait for the verdict on the authorization, polling quickly at first:
        // a CA often decides within milliseconds.
        let deadline = self.deadline();
        let mut delay = Duration::from_millis(5).min(self.settings.poll_interval);
        loop {
            let server = self
                .retrying(|| {
                    self.acme
                        .fetch_authorization(ctx, &auth.authorization_url, refs)
                })
                .await?;
            if server.status != AcmeAuthorizationStatus::Pending {
                let synced = self.sync_authorization_inner(ctx, auth, &server).await?;
                if synced.status == AcmeAuthorizationStatus::Valid {
                    return Ok(Step::ValidatedChallenge);
                }
                // The authorization failed: the order is invalid upstream.
                let state = self
                    .acme
                    .fetch_challenge(ctx, &challenge.challenge_url, refs)
                    .await
                    .ok();
                let problem = state.and_then(|s| s.error).unwrap_or(Problem {
                    problem_type: None,
                    detail: Some(format!(
                        "authorization for {} is {}",
                        server.identifier, server.status
                    )),
                    status: None,
                });
                let err = AcmeError::Server {
                    problem,
                    http_status: None,
                    retry_after_seconds: None,
                };
                self.fail(order.id, &err).await?;
                return Err(err.into());
            }
            if self.clock.now() > deadline {
                return Err(AcmeError::Timeout(format!(
                    "authorization {} stayed pending",
                    auth.authorization_url
                ))
                .into());
            }
            self.clock.sleep(delay).await;
            delay = delay.saturating_mul(2).min(self.settings.poll_interval);
        }
    }

    /// Picks the key for an order by its strategy and cycle.
    async fn resolve_private_key(
        &self,
        ctx: &AccountContext,
        order: &AcmeOrder,
    ) -> Result<PrivateKey, Error> {
        if let Some(id) = order.private_key_id {
            return Ok(self.store.private_key(id).await?);
        }
        if let Some(id) = order.private_key_id_requested {
            let key = self.store.private_key(id).await?;
            if key.is_usable() {
                return Ok(key);
            }
        }
        let cycle = match order.private_key_cycle_renewal {
            PrivateKeyCycle::AccountDefault => ctx.account.private_key_cycle,
            other => other,
        };
        let owner = match cycle {
            PrivateKeyCycle::GlobalDaily | PrivateKeyCycle::GlobalWeekly => None,
            _ => Some(ctx.account.id),
        };
        let now = self.clock.now();
        if cycle != PrivateKeyCycle::SingleUse
            && let Some(existing) = self
                .store
                .latest_private_key_for_cycle(cycle, owner)
                .await?
            && rules::key_cycle_allows_reuse(cycle, existing.created_at, now)
        {
            return Ok(existing);
        }
        let key = crate::offload::generate_key(ctx.account.private_key_technology).await?;
        let stored = self
            .store
            .insert_private_key(NewPrivateKey {
                key,
                source: PrivateKeySource::Generated,
                cycle,
                acme_account_id_owner: owner,
            })
            .await?;
        Ok(stored.id)
    }

    async fn send_finalize(
        &self,
        ctx: &AccountContext,
        order: &AcmeOrder,
        server_order: &ServerOrder,
        refs: EventRefs,
    ) -> Result<(), Error> {
        let record = self.store.unique_fqdn_set(order.unique_fqdn_set_id).await?;
        // The key and CSR are recorded before the CSR is sent, so a resumed
        // order sends the same request and no key is lost.
        let csr = match order.certificate_request_id {
            Some(id) => {
                let stored = self.store.certificate_request(id).await?;
                ParsedCsr::from_pem(&stored.csr_pem)?
            }
            None => {
                let key_row = self.resolve_private_key(ctx, order).await?;
                let key = ParsedPrivateKey::from_pem(&key_row.key_pem)?;
                let csr = ParsedCsr::build(&key, &record.set)?;
                let csr_row = self
                    .store
                    .insert_certificate_request(
                        &csr,
                        CertificateRequestSource::AcmeOrder,
                        Some(key_row.id),
                        record.id,
                    )
                    .await?;
                self.store
                    .update_acme_order(
                        order.id,
                        AcmeOrderUpdate {
                            private_key_id: Some(key_row.id),
                            certificate_request_id: Some(csr_row.id.id),
                            processing_status: Some(AcmeOrderProcessingStatus::ProcessingStarted),
                            ..Default::default()
                        },
                    )
                    .await?;
                csr
            }
        };
        self.checkpoint("before_finalize");
        let finalized = self
            .retrying(|| self.acme.finalize_order(ctx, server_order, csr.der(), refs))
            .await;
        let finalized = match finalized {
            Ok(o) => o,
            Err(e) => {
                // An order no longer `ready` (finalized by an earlier run) is fine:
                // the next step syncs it.
                if e.problem_short_type() == Some("orderNotReady") {
                    return Ok(());
                }
                if e.is_refusal() {
                    self.fail(order.id, &e).await?;
                }
                return Err(e.into());
            }
        };
        self.checkpoint("after_finalize");
        self.store.sync_acme_order(order.id, &finalized).await?;
        self.store
            .update_acme_order(
                order.id,
                AcmeOrderUpdate {
                    processing_status: Some(AcmeOrderProcessingStatus::OrderFinalized),
                    ..Default::default()
                },
            )
            .await?;
        Ok(())
    }

    async fn download_and_record(
        &self,
        ctx: &AccountContext,
        order: &AcmeOrder,
        url: &str,
        refs: EventRefs,
    ) -> Result<CertificateSignedId, Error> {
        let downloaded = self
            .retrying(|| self.acme.download_certificate(ctx, url, refs))
            .await?;
        self.checkpoint("after_download");
        let mut chains = Vec::new();
        let mut leaf = None;
        for fullchain in &downloaded.fullchains {
            let mut certs = parse_certificates_pem(fullchain)?;
            if certs.is_empty() {
                continue;
            }
            let this_leaf = certs.remove(0);
            match &leaf {
                None => leaf = Some(this_leaf.clone()),
                Some(first) if *first != this_leaf => {
                    return Err(AcmeError::protocol(
                        "an alternate chain carries a different certificate",
                    )
                    .into());
                }
                _ => {}
            }
            chains.push(link_chain(&this_leaf, certs)?);
        }
        let leaf = leaf.ok_or_else(|| AcmeError::protocol("the certificate download was empty"))?;
        // The key is found by the certificate's own public key: if two nodes
        // finalized the same order with different keys, the one the CA
        // certified is the one recorded.
        let stored_key = self
            .store
            .private_key_by_spki(&leaf.spki_sha256)
            .await?
            .ok_or_else(|| AcmeError::protocol("the CA certified a key peter did not record"))?;
        let key = ParsedPrivateKey::from_pem(&stored_key.key_pem)?;
        key.ensure_matches(&leaf)?;
        let set = leaf.unique_fqdn_set()?;
        let is_expired = leaf.is_expired_at(self.clock.now());
        let mut chains = chains.into_iter();
        let import = CertificateImport {
            certificate: leaf,
            private_key: key,
            chain: chains.next().unwrap_or(crate::formats::LinkedChain {
                intermediates: vec![],
                root: None,
            }),
            unique_fqdn_set: set,
            chain_display_name: "ACME Server Response".into(),
            is_expired,
            alternate_chains: chains.collect(),
            acme_order_id: Some(order.id),
            certificate_request_id: order.certificate_request_id,
        };
        let outcome = self.store.import_certificate(&import).await?;
        let cert_id = outcome.certificate_signed.id;
        // The set is renewed as it was ordered, unless the operator already
        // said how (a configuration is never replaced here).
        self.store
            .put_renewal_configuration(
                NewRenewalConfiguration {
                    unique_fqdn_set_id: order.unique_fqdn_set_id,
                    acme_account_id: order.acme_account_id,
                    private_key_technology: None,
                    private_key_cycle: order.private_key_cycle_renewal,
                    profile: order.profile.clone(),
                    challenge_types: order.challenge_types.clone(),
                    backup: None,
                    failover_after: DEFAULT_FAILOVER_AFTER,
                },
                false,
            )
            .await?;

        // The renewal window, when the CA offers ARI; failure to fetch it does
        // not undo the issuance.
        if self
            .acme
            .directory(&ctx.server)
            .await
            .map(|d| d.supports_ari)
            .unwrap_or(false)
        {
            let refs = EventRefs {
                certificate_signed_id: Some(cert_id),
                ..refs
            };
            if let Ok(window) = self
                .acme
                .renewal_info(&ctx.server, import.certificate.der(), refs)
                .await
            {
                self.store
                    .set_certificate_renewal_window(cert_id, &window)
                    .await?;
            }
        }
        Ok(cert_id)
    }
}

impl<'a> Orders<'a> {
    async fn context_for_order(
        &self,
        id: AcmeOrderId,
    ) -> Result<(AcmeOrder, AccountContext), Error> {
        let order = self.store.acme_order(id).await?;
        let ctx = self.context(order.acme_account_id).await?;
        Ok((order, ctx))
    }

    /// Fetches an order from the server and records what it says.
    pub async fn sync_order(&self, id: AcmeOrderId) -> Result<AcmeOrder, Error> {
        let (order, ctx) = self.context_for_order(id).await?;
        let url = order
            .order_url
            .clone()
            .ok_or(TransitionError::OrderStatus {
                status: order.status,
                action: "synced before it exists upstream",
            })?;
        let refs = EventRefs {
            acme_account_id: Some(ctx.account.id),
            acme_order_id: Some(id),
            ..Default::default()
        };
        let server = self
            .retrying(|| self.acme.fetch_order(&ctx, &url, refs))
            .await?;
        Ok(self.store.sync_acme_order(id, &server).await?)
    }

    /// An authorization with the account that signs for it and the ids the
    /// event log records.
    async fn authorization_context(
        &self,
        id: AcmeAuthorizationId,
    ) -> Result<(AcmeAuthorization, AccountContext, EventRefs), Error> {
        let auth = self.store.acme_authorization(id).await?;
        let (_, ctx) = self.context_for_order(auth.acme_order_id_created).await?;
        let refs = EventRefs {
            acme_account_id: Some(ctx.account.id),
            acme_order_id: Some(auth.acme_order_id_created),
            acme_authorization_id: Some(id),
            ..Default::default()
        };
        Ok((auth, ctx, refs))
    }

    /// Fetches one authorization and records it and its challenges.
    pub async fn sync_authorization(
        &self,
        id: AcmeAuthorizationId,
    ) -> Result<AcmeAuthorization, Error> {
        let (auth, ctx, refs) = self.authorization_context(id).await?;
        let server = self
            .retrying(|| {
                self.acme
                    .fetch_authorization(&ctx, &auth.authorization_url, refs)
            })
            .await?;
        self.sync_authorization_inner(&ctx, &auth, &server).await
    }

    /// Syncs every authorization of an order.
    pub async fn sync_authorizations(
        &self,
        order_id: AcmeOrderId,
    ) -> Result<Vec<AcmeAuthorization>, Error> {
        let mut out = Vec::new();
        for auth in self.store.acme_authorizations_for_order(order_id).await? {
            out.push(self.sync_authorization(auth.id).await?);
        }
        Ok(out)
    }

    /// Deactivates an authorization upstream. Its challenges the server no
    /// longer lists become `*410*`.
    pub async fn deactivate_authorization(
        &self,
        id: AcmeAuthorizationId,
    ) -> Result<AcmeAuthorization, Error> {
        let (auth, ctx, refs) = self.authorization_context(id).await?;
        rules::ensure_authorization_deactivatable(auth.status)?;
        let server = self
            .retrying(|| {
                self.acme
                    .deactivate_authorization(&ctx, &auth.authorization_url, refs)
            })
            .await?;
        self.sync_authorization_inner(&ctx, &auth, &server).await
    }

    /// Deactivates, at the CA, the authorizations of a failed order it still
    /// holds pending (best effort: one that cannot be deactivated is logged
    /// and left to expire there). Returns how many were deactivated.
    async fn deactivate_pending(&self, order_id: AcmeOrderId) -> Result<usize, Error> {
        let mut deactivated = 0usize;
        for auth in self.store.acme_authorizations_for_order(order_id).await? {
            if !AcmeAuthorizationStatus::POSSIBLY_PENDING.contains(&auth.status) {
                continue;
            }
            match self.deactivate_authorization(auth.id).await {
                Ok(_) => deactivated = deactivated.saturating_add(1),
                Err(e) => tracing::warn!(
                    authorization = %auth.id,
                    error = %e,
                    "could not deactivate a pending authorization of a failed order"
                ),
            }
        }
        tracing::debug!(order = %order_id, deactivated, "failed order's pending authorizations");
        Ok(deactivated)
    }

    /// Deactivates every deactivatable authorization of an order and marks
    /// the order's processing as deactivated.
    pub async fn deactivate_authorizations(
        &self,
        order_id: AcmeOrderId,
    ) -> Result<Vec<AcmeAuthorization>, Error> {
        let mut out = Vec::new();
        for auth in self.store.acme_authorizations_for_order(order_id).await? {
            if AcmeAuthorizationStatus::DEACTIVATABLE.contains(&auth.status) {
                out.push(self.deactivate_authorization(auth.id).await?);
            }
        }
        self.store
            .update_acme_order(
                order_id,
                AcmeOrderUpdate {
                    processing_status: Some(AcmeOrderProcessingStatus::ProcessingDeactivated),
                    is_processing: Some(None),
                    ..Default::default()
                },
            )
            .await?;
        Ok(out)
    }

    async fn challenge_context(
        &self,
        id: AcmeChallengeId,
    ) -> Result<(AcmeChallenge, AccountContext, EventRefs), Error> {
        self.challenge_with_authorization(id)
            .await
            .map(|(challenge, _, ctx, refs)| (challenge, ctx, refs))
    }

    async fn challenge_with_authorization(
        &self,
        id: AcmeChallengeId,
    ) -> Result<(AcmeChallenge, AcmeAuthorization, AccountContext, EventRefs), Error> {
        let challenge = self.store.acme_challenge(id).await?;
        let (auth, ctx, refs) = self
            .authorization_context(challenge.acme_authorization_id)
            .await?;
        Ok((
            challenge,
            auth,
            ctx,
            EventRefs {
                acme_challenge_id: Some(id),
                ..refs
            },
        ))
    }

    /// Fetches a challenge and records its status (which may bring a
    /// `*410*` challenge back to `pending`).
    pub async fn sync_challenge(&self, id: AcmeChallengeId) -> Result<AcmeChallenge, Error> {
        let (challenge, ctx, refs) = self.challenge_context(id).await?;
        let state = self
            .retrying(|| {
                self.acme
                    .fetch_challenge(&ctx, &challenge.challenge_url, refs)
            })
            .await?;
        let status = rules::sync_challenge(challenge.status, state.challenge.status);
        Ok(self.store.set_acme_challenge_status(id, status).await?)
    }

    /// Tells the server a pending challenge is ready.
    pub async fn trigger_challenge(&self, id: AcmeChallengeId) -> Result<AcmeChallenge, Error> {
        let (challenge, auth, ctx, refs) = self.challenge_with_authorization(id).await?;
        rules::ensure_challenge_triggerable(challenge.status, auth.status)?;
        let state = self
            .retrying(|| {
                self.acme
                    .trigger_challenge(&ctx, &challenge.challenge_url, refs)
            })
            .await?;
        Ok(self
            .store
            .set_acme_challenge_status(id, state.challenge.status)
            .await?)
    }

    /// Finalizes an order that the server reports `ready` (one step).
    pub async fn finalize(&self, id: AcmeOrderId) -> Result<Step, Error> {
        self.step_when(id, AcmeOrderStatus::Ready, "finalized")
            .await
    }

    /// Downloads the certificate of an order the server reports `valid`.
    pub async fn download(&self, id: AcmeOrderId) -> Result<Step, Error> {
        self.step_when(id, AcmeOrderStatus::Valid, "downloaded")
            .await
    }

    /// Takes the next step only when the synced order is in `wanted` and
    /// still without its certificate.
    async fn step_when(
        &self,
        id: AcmeOrderId,
        wanted: AcmeOrderStatus,
        action: &'static str,
    ) -> Result<Step, Error> {
        let order = self.sync_order(id).await?;
        if order.status != wanted || order.certificate_signed_id.is_some() {
            return Err(TransitionError::OrderStatus {
                status: order.status,
                action,
            }
            .into());
        }
        self.process_step(id).await
    }

    /// A new order for the same names and account as an order that failed.
    pub async fn retry(
        &self,
        id: AcmeOrderId,
        strategy: AcmeOrderProcessingStrategy,
    ) -> Result<AcmeOrder, Error> {
        let order = self.store.acme_order(id).await?;
        if !AcmeOrderStatus::RETRY.contains(&order.status) {
            return Err(TransitionError::OrderStatus {
                status: order.status,
                action: "retried",
            }
            .into());
        }
        let set = self.store.unique_fqdn_set(order.unique_fqdn_set_id).await?;
        let mut request = OrderRequest::new(
            order.acme_account_id,
            set.set.names().map(|n| n.to_string()).collect(),
            strategy,
        );
        request.order_type = AcmeOrderType::Retry;
        request.retry_of = Some(id);
        request.private_key_cycle = Some(order.private_key_cycle_renewal);
        request.profile = order.profile.clone();
        self.create(request).await
    }

    /// Renews the certificate an order obtained, with that order's account
    /// (the original's "renew quick"). An order without a certificate is a
    /// conflict.
    pub async fn renew_order(
        &self,
        id: AcmeOrderId,
        strategy: AcmeOrderProcessingStrategy,
    ) -> Result<AcmeOrder, Error> {
        let previous = self.store.acme_order(id).await?;
        let Some(cert) = previous.certificate_signed_id else {
            return Err(TransitionError::OrderStatus {
                status: previous.status,
                action: "renewed (it has no certificate)",
            }
            .into());
        };
        self.renew_certificate(cert, Some(previous.acme_account_id), strategy)
            .await
    }

    /// A new order for the names of a certificate, by `account` (default:
    /// the account that ordered it, else the global default). The order
    /// names the certificate it replaces when the CA offers ARI and the same
    /// account ordered it.
    pub async fn renew_certificate(
        &self,
        id: CertificateSignedId,
        account: Option<AcmeAccountId>,
        strategy: AcmeOrderProcessingStrategy,
    ) -> Result<AcmeOrder, Error> {
        let cert = self.store.certificate_signed(id).await?;
        let previous = self.store.acme_order_for_certificate(id).await?;
        let account_id = match (account, &previous) {
            (Some(a), _) => a,
            (None, Some(o)) => o.acme_account_id,
            (None, None) => self
                .store
                .global_default_acme_account()
                .await?
                .map(|a| a.id)
                .ok_or_else(|| Error::InvalidField {
                    field: "acme_account",
                    message:
                        "no account given, none ordered this certificate, and no global default"
                            .into(),
                })?,
        };
        let set = self.store.unique_fqdn_set(cert.unique_fqdn_set_id).await?;
        let mut request = OrderRequest::new(
            account_id,
            set.set.names().map(|n| n.to_string()).collect(),
            strategy,
        );
        request.order_type = AcmeOrderType::RenewQuick;
        request.renewal_of = Some(id);
        if let Some(p) = &previous {
            request.private_key_cycle = Some(p.private_key_cycle_renewal);
            request.profile = p.profile.clone();
        }
        self.create(request).await
    }

    /// Orders `names` from `source` (a renewal configuration's primary or
    /// backup): a key of the source's technology when it names one (made
    /// now, used once), else by its key cycle. `renewal_of` is named in
    /// `replaces` only when the same account ordered it (so only to the CA
    /// that issued it).
    pub async fn order_from(
        &self,
        names: Vec<String>,
        source: &RenewalSource,
        renewal_of: Option<CertificateSignedId>,
        order_type: AcmeOrderType,
    ) -> Result<AcmeOrder, Error> {
        let mut request = OrderRequest::new(
            source.acme_account_id,
            names,
            AcmeOrderProcessingStrategy::ProcessSingle,
        );
        request.order_type = order_type;
        request.renewal_of = renewal_of;
        request.profile = source.profile.clone();
        request.private_key_cycle = Some(source.private_key_cycle);
        request.challenge_types = source.challenge_types.clone();
        if let Some(technology) = source.private_key_technology {
            let account = self.store.acme_account(source.acme_account_id).await?;
            if technology != account.private_key_technology {
                let key = crate::offload::generate_key(technology).await?;
                let stored = self
                    .store
                    .insert_private_key(NewPrivateKey {
                        key,
                        source: PrivateKeySource::Generated,
                        cycle: PrivateKeyCycle::SingleUse,
                        acme_account_id_owner: Some(source.acme_account_id),
                    })
                    .await?;
                request.private_key_id = Some(stored.id.id);
            }
        }
        self.create(request).await
    }

    /// Revokes a certificate with its CA, signed by the account that ordered
    /// it (or `account`). The local mark is separate; a second upstream
    /// revocation is refused before anything is sent.
    pub async fn revoke_upstream(
        &self,
        id: CertificateSignedId,
        reason: RevocationReason,
        account: Option<AcmeAccountId>,
    ) -> Result<CertificateSigned, Error> {
        let cert = self.store.certificate_signed(id).await?;
        if cert.revoked_upstream_at.is_some() {
            return Err(TransitionError::AlreadyRevokedUpstream.into());
        }
        let account_id = match account {
            Some(a) => a,
            None => self
                .store
                .acme_order_for_certificate(id)
                .await?
                .map(|o| o.acme_account_id)
                .ok_or_else(|| Error::InvalidField {
                    field: "acme_account",
                    message:
                        "peter did not order this certificate; name the account to revoke it with"
                            .into(),
                })?,
        };
        let ctx = self.context(account_id).await?;
        let der = crate::formats::pem_to_der(&cert.cert_pem, crate::formats::PEM_CERTIFICATE)?;
        let refs = EventRefs {
            acme_account_id: Some(account_id),
            certificate_signed_id: Some(id),
            ..Default::default()
        };
        self.retrying(|| self.acme.revoke_certificate(&ctx, &der, reason, refs))
            .await?;
        Ok(self.store.set_certificate_revoked_upstream(id).await?)
    }

    /// Revokes at their CA, with reason keyCompromise, the certificates a
    /// compromised key was used by, each with the account that ordered it
    /// (those peter did not order are left to the operator). Returns the
    /// certificates revoked. One refusal does not stop the others.
    pub async fn revoke_compromised(
        &self,
        certificates: &[CertificateSignedId],
    ) -> Result<Vec<CertificateSignedId>, Error> {
        let mut revoked = Vec::new();
        for &cert_id in certificates {
            let cert = self.store.certificate_signed(cert_id).await?;
            if cert.revoked_upstream_at.is_some() {
                continue;
            }
            if let Some(order) = self.store.acme_order_for_certificate(cert_id).await? {
                match self
                    .revoke_upstream(
                        cert_id,
                        RevocationReason::KeyCompromise,
                        Some(order.acme_account_id),
                    )
                    .await
                {
                    Ok(_) => revoked.push(cert_id),
                    Err(Error::Acme(e)) if e.problem_short_type() == Some("alreadyRevoked") => {
                        self.store.set_certificate_revoked_upstream(cert_id).await?;
                        revoked.push(cert_id);
                    }
                    // The key is marked already; the other certificates are
                    // still revoked, and this one can be revoked on its own later.
                    Err(e) => {
                        tracing::warn!(certificate = cert_id.0, error = %e, "upstream revocation failed")
                    }
                }
            }
        }
        Ok(revoked)
    }
}
