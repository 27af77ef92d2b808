//! The order flow through the library against a real Pebble with real
//! HTTP-01 validation, answered by peter's public routes on the port Pebble
//! validates against.

use std::net::SocketAddr;
use std::sync::Arc;

use peter_acme::InstantAcme;
use peter_acme::testkit::{Pebble, PebbleOptions};
use peter_core::app::{AccountRequest, OrderRequest, Peter, ProcessSteps, ServerEdit, Step};
use peter_core::model::rules::{OrderMark, PrivateKeyMark};
use peter_core::model::*;
use peter_core::ports::*;
use peter_http::{PublicServer, PublicState};
use peter_store::SqlStore;

struct World {
    pebble: Pebble,
    /// For assertions; every operation goes through `peter`.
    store: Arc<SqlStore>,
    peter: Peter,
    server: Option<PublicServer>,
    account: AcmeAccount,
    _dir: std::path::PathBuf,
}

/// A facade over `store` with the real ACME client and `clock`.
fn facade(store: Arc<SqlStore>, clock: Arc<dyn Clock>) -> Peter {
    Peter::builder()
        .shared_store(store)
        .clock(clock)
        .acme(InstantAcme)
        .build()
        .unwrap()
}

/// An empty SQLite store in `dir` (made anew) and a facade over it.
async fn fresh_store(dir: &std::path::Path) -> (Arc<SqlStore>, Peter) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(
        SqlStore::connect(
            &peter_store::sqlite_url_for_path(&dir.join("s.sqlite")),
            clock.clone(),
        )
        .await
        .unwrap(),
    );
    let peter = facade(store.clone(), clock);
    (store, peter)
}

impl World {
    async fn new(options: PebbleOptions) -> World {
        let pebble = Pebble::start(options).await;
        let dir = std::env::temp_dir().join(format!(
            "peter-flow-{}-{}",
            std::process::id(),
            pebble.http_port
        ));
        let (store, peter) = fresh_store(&dir).await;
        let server = PublicServer::start(
            SocketAddr::from(([127, 0, 0, 1], pebble.http_port)),
            PublicState::new(peter.clone(), "test"),
        )
        .await
        .unwrap();
        peter
            .acme_servers()
            .add(NewAcmeServer {
                name: "pebble".into(),
                directory_url: pebble.directory_url.clone(),
                ca_bundle_pem: Some(pebble.tls_ca_pem.clone()),
                is_default: true,
                ip_identifiers: false,
            })
            .await
            .unwrap();
        let account = peter
            .accounts()
            .create(AccountRequest {
                contact: Some("ops@example.com".into()),
                global_default: true,
                ..Default::default()
            })
            .await
            .unwrap();
        World {
            pebble,
            store,
            peter,
            server: Some(server),
            account,
            _dir: dir,
        }
    }

    fn orders(&self) -> Ops<'_> {
        Ops(&self.peter)
    }
}

/// The facade's order operations under the names these tests read best.
struct Ops<'a>(&'a Peter);

impl Ops<'_> {
    async fn create(&self, r: OrderRequest) -> Result<AcmeOrder, peter_core::Error> {
        Ok(self.0.orders().create(r).await?.value)
    }

    async fn process_step(&self, id: AcmeOrderId) -> Result<Step, peter_core::Error> {
        let changed = self.0.orders().process(id, ProcessSteps::One).await?;
        Ok(changed.value.1.expect("one step was taken"))
    }

    async fn process_to_end(&self, id: AcmeOrderId) -> Result<AcmeOrder, peter_core::Error> {
        Ok(self
            .0
            .orders()
            .process(id, ProcessSteps::All)
            .await?
            .value
            .0)
    }

    async fn sync_authorization(
        &self,
        id: AcmeAuthorizationId,
    ) -> Result<AcmeAuthorization, peter_core::Error> {
        self.0.orders().sync_authorization(id).await
    }

    async fn deactivate_authorization(
        &self,
        id: AcmeAuthorizationId,
    ) -> Result<AcmeAuthorization, peter_core::Error> {
        self.0.orders().deactivate_authorization(id).await
    }

    async fn sync_challenge(
        &self,
        id: AcmeChallengeId,
    ) -> Result<AcmeChallenge, peter_core::Error> {
        self.0.orders().sync_challenge(id).await
    }

    async fn renew_certificate(
        &self,
        id: CertificateSignedId,
        account: Option<AcmeAccountId>,
        strategy: AcmeOrderProcessingStrategy,
    ) -> Result<AcmeOrder, peter_core::Error> {
        Ok(self
            .0
            .orders()
            .renew_certificate(id, account, strategy)
            .await?
            .value)
    }

    async fn revoke_upstream(
        &self,
        id: CertificateSignedId,
        reason: RevocationReason,
        account: Option<AcmeAccountId>,
    ) -> Result<CertificateSigned, peter_core::Error> {
        Ok(self
            .0
            .certificates()
            .revoke(id, reason, account)
            .await?
            .value)
    }

    async fn compromise_private_key(
        &self,
        id: PrivateKeyId,
    ) -> Result<Vec<CertificateSignedId>, peter_core::Error> {
        let changed = self
            .0
            .private_keys()
            .mark(id, PrivateKeyMark::Compromised)
            .await?;
        Ok(changed.value.revoked_certificates)
    }

    async fn mark(&self, id: AcmeOrderId, mark: OrderMark) -> Result<AcmeOrder, peter_core::Error> {
        self.0.orders().mark(id, mark).await
    }

    async fn retry(
        &self,
        id: AcmeOrderId,
        strategy: AcmeOrderProcessingStrategy,
    ) -> Result<AcmeOrder, peter_core::Error> {
        Ok(self.0.orders().retry(id, strategy).await?.value)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_single_issues_a_certificate_with_real_http01() {
    let w = World::new(PebbleOptions::default()).await;
    assert!(
        w.account
            .account_url
            .as_deref()
            .unwrap()
            .starts_with("https://127.0.0.1")
    );
    let order = w
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            vec!["www.example.com".into(), "example.com".into()],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap();
    assert_eq!(order.status, AcmeOrderStatus::Valid);
    let cert_id = order.certificate_signed_id.expect("certificate recorded");
    let cert = w.store.certificate_signed(cert_id).await.unwrap();
    assert!(cert.is_active);
    assert!(cert.ari_window_start.is_some(), "ARI window stored");
    let set = w
        .store
        .unique_fqdn_set(cert.unique_fqdn_set_id)
        .await
        .unwrap();
    assert_eq!(set.set.canonical_string(), "example.com,www.example.com");
    // Real validation happened: Pebble fetched each token from our route.
    for auth in w
        .store
        .acme_authorizations_for_order(order.id)
        .await
        .unwrap()
    {
        assert_eq!(auth.status, AcmeAuthorizationStatus::Valid);
        let challenges = w
            .store
            .acme_challenges_for_authorization(auth.id)
            .await
            .unwrap();
        let http = challenges
            .iter()
            .find(|c| c.challenge_type == AcmeChallengeType::Http01)
            .unwrap();
        assert_eq!(http.status, AcmeChallengeStatus::Valid);
        assert!(
            !w.peter
                .orders()
                .challenge_polls(http.id)
                .await
                .unwrap()
                .is_empty(),
            "Pebble polled the challenge"
        );
    }
    // The chain verifies against Pebble's root.
    let chains = w.store.certificate_chains(cert_id).await.unwrap();
    assert_eq!(chains.len(), 1);
    let root =
        peter_core::formats::ParsedCertificate::from_pem(&w.pebble.root_pem(0).await).unwrap();
    let inter =
        peter_core::formats::ParsedCertificate::from_pem(&chains[0].chain.chain_pem).unwrap();
    assert!(inter.is_signed_by(&root));
    // Every exchange is logged, none with key material or a JWS.
    let events = w.store.acme_events_for_order(order.id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.event == AcmeEvent::NewOrder && e.http_status == Some(201))
    );
    assert!(events.iter().any(|e| e.event == AcmeEvent::OrderFinalize));
    assert!(
        events
            .iter()
            .any(|e| e.event == AcmeEvent::CertificateProcured)
    );
    let all = w.store.list_acme_events(Page::new(1, 1000)).await.unwrap();
    for e in &all.items {
        let text = format!("{e:?}");
        for needle in ["PRIVATE", "protected", "signature", "BEGIN"] {
            assert!(
                !text.contains(needle),
                "event log row leaks `{needle}`: {text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_multi_advances_one_step_per_call() {
    let w = World::new(PebbleOptions::default()).await;
    let order = w
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            vec!["a.multi.example".into(), "b.multi.example".into()],
            AcmeOrderProcessingStrategy::ProcessMulti,
        ))
        .await
        .unwrap();
    assert_eq!(order.status, AcmeOrderStatus::Pending);
    let auths = w
        .store
        .acme_authorizations_for_order(order.id)
        .await
        .unwrap();
    assert!(
        auths
            .iter()
            .all(|a| a.status == AcmeAuthorizationStatus::Discovered)
    );
    let mut steps = Vec::new();
    for _ in 0..20 {
        let step = w.orders().process_step(order.id).await.unwrap();
        steps.push(step);
        if step == Step::Downloaded {
            break;
        }
    }
    assert_eq!(
        steps
            .iter()
            .filter(|s| **s == Step::LoadedAuthorization)
            .count(),
        2,
        "{steps:?}"
    );
    assert_eq!(
        steps
            .iter()
            .filter(|s| **s == Step::ValidatedChallenge)
            .count(),
        2,
        "{steps:?}"
    );
    assert!(steps.contains(&Step::Finalized));
    assert_eq!(steps.last(), Some(&Step::Downloaded));
    assert_eq!(w.orders().process_step(order.id).await.unwrap(), Step::Done);
    let order = w.store.acme_order(order.id).await.unwrap();
    assert_eq!(order.status, AcmeOrderStatus::Valid);
    assert!(order.certificate_signed_id.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_order_stops_after_creating_upstream_and_can_be_processed_later() {
    let w = World::new(PebbleOptions::default()).await;
    let order = w
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            vec!["later.example".into()],
            AcmeOrderProcessingStrategy::CreateOrder,
        ))
        .await
        .unwrap();
    assert_eq!(order.status, AcmeOrderStatus::Pending);
    assert!(order.order_url.is_some());
    assert_eq!(
        order.processing_status,
        AcmeOrderProcessingStatus::CreatedAcme
    );
    let done = w.orders().process_to_end(order.id).await.unwrap();
    assert_eq!(done.status, AcmeOrderStatus::Valid);
}

async fn issue(w: &World, names: &[&str]) -> AcmeOrder {
    w.orders()
        .create(OrderRequest::new(
            w.account.id,
            names.iter().map(|s| s.to_string()).collect(),
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap()
}

/// The original's four-step illustration, against Pebble.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivated_authorization_turns_its_challenges_410_and_a_challenge_sync_restores_them() {
    let w = World::new(PebbleOptions::default()).await;
    // 1. Create the order: its authorization is only discovered.
    let order = w
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            vec!["deact.example".into()],
            AcmeOrderProcessingStrategy::CreateOrder,
        ))
        .await
        .unwrap();
    let auth = w
        .store
        .acme_authorizations_for_order(order.id)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(auth.status.as_str(), "*discovered*");
    // 2. Load it: pending, with pending challenges.
    let auth = w.orders().sync_authorization(auth.id).await.unwrap();
    assert_eq!(auth.status, AcmeAuthorizationStatus::Pending);
    let challenges = w
        .store
        .acme_challenges_for_authorization(auth.id)
        .await
        .unwrap();
    let http = challenges
        .iter()
        .find(|c| c.challenge_type == AcmeChallengeType::Http01)
        .unwrap()
        .clone();
    assert_eq!(http.status, AcmeChallengeStatus::Pending);
    // 3. Deactivate it: the challenges vanish from the authorization.
    let auth = w.orders().deactivate_authorization(auth.id).await.unwrap();
    assert_eq!(auth.status, AcmeAuthorizationStatus::Deactivated);
    let after = w.store.acme_challenge(http.id).await.unwrap();
    assert_eq!(after.status.as_str(), "*410*");
    assert!(
        w.orders().deactivate_authorization(auth.id).await.is_err(),
        "deactivating twice is refused"
    );
    // 4. Sync the challenge itself: upstream it is still pending.
    let synced = w.orders().sync_challenge(http.id).await.unwrap();
    assert_eq!(synced.status, AcmeChallengeStatus::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_alternate_chain_is_stored_and_verifies() {
    let w = World::new(PebbleOptions {
        env: vec![("PEBBLE_ALTERNATE_ROOTS".into(), "2".into())],
        ..Default::default()
    })
    .await;
    let order = issue(&w, &["alt.example"]).await;
    let cert_id = order.certificate_signed_id.unwrap();
    let cert = peter_core::formats::ParsedCertificate::from_pem(
        &w.store.certificate_signed(cert_id).await.unwrap().cert_pem,
    )
    .unwrap();
    let offers = w.store.certificate_chains(cert_id).await.unwrap();
    assert_eq!(offers.len(), 3, "the default chain and two alternates");
    assert!(offers[0].is_upstream_default && !offers[1].is_upstream_default);
    for (n, offer) in offers.iter().enumerate() {
        let chain = peter_core::formats::parse_certificates_pem(&offer.chain.chain_pem).unwrap();
        assert!(
            cert.is_signed_by(&chain[0]),
            "chain {n} starts with the leaf's issuer"
        );
        let roots: Vec<_> = futures_roots(&w, 3).await;
        let top = chain.last().unwrap();
        assert!(
            roots.iter().any(|r| top.is_signed_by(r)),
            "chain {n} ends under one of Pebble's roots"
        );
        // And openssl agrees: the leaf verifies through this chain to a Pebble root.
        let dir = w._dir.join(format!("chain{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let roots_pem: String = roots.iter().map(|r| r.pem().to_string()).collect();
        std::fs::write(dir.join("roots.pem"), roots_pem).unwrap();
        std::fs::write(dir.join("chain.pem"), &offer.chain.chain_pem).unwrap();
        std::fs::write(dir.join("leaf.pem"), cert.pem()).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["verify", "-CAfile"])
            .arg(dir.join("roots.pem"))
            .arg("-untrusted")
            .arg(dir.join("chain.pem"))
            .arg(dir.join("leaf.pem"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl verify chain {n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

async fn futures_roots(w: &World, n: usize) -> Vec<peter_core::formats::ParsedCertificate> {
    let mut roots = Vec::new();
    for i in 0..n {
        roots.push(
            peter_core::formats::ParsedCertificate::from_pem(&w.pebble.root_pem(i).await).unwrap(),
        );
    }
    roots
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_the_nonces_rejected_still_issues() {
    let w = World::new(PebbleOptions {
        env: vec![("PEBBLE_WFE_NONCEREJECT".into(), "50".into())],
        ..Default::default()
    })
    .await;
    let order = issue(&w, &["nonce.example", "www.nonce.example"]).await;
    assert_eq!(order.status, AcmeOrderStatus::Valid);
    let events = w.store.list_acme_events(Page::new(1, 1000)).await.unwrap();
    assert!(
        events
            .items
            .iter()
            .any(|e| e.problem_type.as_deref() == Some("urn:ietf:params:acme:error:badNonce")),
        "Pebble did reject nonces"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_renewal_names_the_certificate_it_replaces_and_ari_is_stored() {
    let w = World::new(PebbleOptions::default()).await;
    let order = issue(&w, &["renew.example"]).await;
    let old = order.certificate_signed_id.unwrap();
    let cert = w.store.certificate_signed(old).await.unwrap();
    assert!(cert.ari_window_start.unwrap() < cert.ari_window_end.unwrap());
    assert!(cert.ari_window_end.unwrap() < cert.not_after);
    let renewal = w
        .orders()
        .renew_certificate(old, None, AcmeOrderProcessingStrategy::ProcessSingle)
        .await
        .unwrap();
    assert_eq!(renewal.status, AcmeOrderStatus::Valid);
    assert_eq!(renewal.certificate_signed_id_renewal_of, Some(old));
    // The order carried `replaces`: instant-acme checks that the CA echoed it.
    let old_der =
        peter_core::formats::pem_to_der(&cert.cert_pem, peter_core::formats::PEM_CERTIFICATE)
            .unwrap();
    assert_eq!(
        renewal.replaces,
        Some(
            peter_acme::InstantAcmeClient::new(w.store.clone())
                .certificate_identifier(&old_der)
                .unwrap()
        )
    );
    assert_ne!(renewal.certificate_signed_id, Some(old));
    // Pebble refuses a `replaces` it does not recognise, and records the
    // replacement: the new order was accepted with it.
    let events = w.store.acme_events_for_order(renewal.id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.event == AcmeEvent::NewOrder && e.http_status == Some(201))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_renewal_run_asks_for_the_window_again_and_renews_one_moved_into_the_past() {
    let w = World::new(PebbleOptions::default()).await;
    let order = issue(&w, &["ari-moved.example"]).await;
    let old = order.certificate_signed_id.unwrap();
    let cert = w.store.certificate_signed(old).await.unwrap();
    let first_check = cert
        .ari_checked_at
        .expect("the window was fetched at issuance");

    // Pebble's window for a fresh 90-day certificate is weeks away: a run
    // asks again, stores the answer, and renews nothing.
    let plan = w.peter.renewals().plan(None).await.unwrap();
    assert_eq!(plan.ari.polled, vec![old]);
    assert!(plan.due.is_empty(), "{:?}", plan.due);
    let report = w.peter.renewals().run(None).await.unwrap().value;
    assert_eq!(report.ari.polled, vec![old]);
    assert!(report.renewed.is_empty());
    let asked = w.store.certificate_signed(old).await.unwrap();
    assert!(asked.ari_checked_at.unwrap() > first_check);

    // The CA moves the window into the past (a mass revocation drill).
    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    w.pebble
        .set_renewal_info(
            &cert.cert_pem,
            &fmt(now - time::Duration::days(2)),
            &fmt(now - time::Duration::days(1)),
            Some("https://ca.example/incidents/drill"),
        )
        .await;
    // A dry run shows it due at once, and records nothing...
    let plan = w.peter.renewals().plan(None).await.unwrap();
    assert_eq!(plan.due.len(), 1, "{:?}", plan.due);
    assert_eq!(plan.ari.moved_into_past.len(), 1);
    assert!(
        w.store
            .certificate_signed(old)
            .await
            .unwrap()
            .ari_window_end
            .unwrap()
            > now
    );
    // ...so the run reports the move too.
    let report = w.peter.renewals().run(None).await.unwrap().value;
    assert_eq!(report.ari.polled, vec![old]);
    assert_eq!(report.ari.moved_into_past.len(), 1, "{:?}", report.ari);
    let moved = &report.ari.moved_into_past[0];
    assert_eq!(moved.certificate_signed_id, old);
    assert_eq!(
        moved.explanation_url.as_deref(),
        Some("https://ca.example/incidents/drill")
    );
    assert!(moved.previous_start > now && moved.start < now);
    // The same run renewed it.
    assert_eq!(report.renewed.len(), 1, "{report:?}");
    assert_eq!(report.renewed[0].0, old);
    let stored = w.store.certificate_signed(old).await.unwrap();
    assert_eq!(
        stored.ari_explanation_url.as_deref(),
        Some("https://ca.example/incidents/drill")
    );
    assert!(stored.ari_window_end.unwrap() < now);

    // A timer-driven run honours the CA's Retry-After: the new certificate
    // was asked for at issuance, so it is not asked again yet.
    let scheduled = w.peter.renewals().run_scheduled(None).await.unwrap().value;
    assert!(scheduled.ari.polled.is_empty(), "{:?}", scheduled.ari);
    assert_eq!(scheduled.ari.deferred, 1);
    assert!(scheduled.renewed.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unoffered_profile_is_refused_before_any_new_order() {
    let w = World::new(PebbleOptions::default()).await;
    let mut request = OrderRequest::new(
        w.account.id,
        vec!["profile.example".into()],
        AcmeOrderProcessingStrategy::ProcessSingle,
    );
    request.profile = Some("nonexistent".into());
    let err = w.orders().create(request).await.unwrap_err();
    assert!(
        matches!(err, peter_core::Error::Acme(AcmeError::Unsupported(_))),
        "{err}"
    );
    let events = w.store.list_acme_events(Page::new(1, 1000)).await.unwrap();
    assert!(
        !events.items.iter().any(|e| e.event == AcmeEvent::NewOrder),
        "no newOrder was sent"
    );
    // An offered profile works and shapes the certificate.
    let mut request = OrderRequest::new(
        w.account.id,
        vec!["profile.example".into()],
        AcmeOrderProcessingStrategy::ProcessSingle,
    );
    request.profile = Some("shortlived".into());
    let order = w.orders().create(request).await.unwrap();
    let cert = w
        .store
        .certificate_signed(order.certificate_signed_id.unwrap())
        .await
        .unwrap();
    assert!(cert.not_after - cert.not_before <= time::Duration::days(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_revocation_shows_in_pebble_and_is_not_repeated() {
    let w = World::new(PebbleOptions::default()).await;
    let order = issue(&w, &["revoke.example"]).await;
    let cert_id = order.certificate_signed_id.unwrap();
    // A local mark does not prevent the upstream revocation.
    w.store
        .mark_certificate_signed(cert_id, peter_core::model::rules::CertificateMark::Revoked)
        .await
        .unwrap();
    let cert = w
        .orders()
        .revoke_upstream(cert_id, RevocationReason::Superseded, None)
        .await
        .unwrap();
    assert!(cert.revoked_upstream_at.is_some());
    let status = w.pebble.cert_status(&cert.serial).await;
    assert_eq!(status["Status"], "Revoked");
    let before = w
        .store
        .list_acme_events(Page::new(1, 1))
        .await
        .unwrap()
        .total_items;
    let err = w
        .orders()
        .revoke_upstream(cert_id, RevocationReason::Superseded, None)
        .await
        .unwrap_err();
    assert!(matches!(err, peter_core::Error::Transition(_)), "{err}");
    assert_eq!(
        w.store
            .list_acme_events(Page::new(1, 1))
            .await
            .unwrap()
            .total_items,
        before,
        "nothing sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compromising_a_key_revokes_its_certificates_with_key_compromise() {
    let w = World::new(PebbleOptions::default()).await;
    let order = issue(&w, &["compromised.example"]).await;
    let cert = w
        .store
        .certificate_signed(order.certificate_signed_id.unwrap())
        .await
        .unwrap();
    let revoked = w
        .orders()
        .compromise_private_key(cert.private_key_id)
        .await
        .unwrap();
    assert_eq!(revoked, vec![cert.id]);
    let status = w.pebble.cert_status(&cert.serial).await;
    assert_eq!(status["Status"], "Revoked");
    assert_eq!(status["Reason"], 1, "keyCompromise");
    let after = w.store.certificate_signed(cert.id).await.unwrap();
    assert!(!after.is_active && after.is_compromised_private_key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_validation_leaves_the_order_invalid_with_its_problem() {
    // Pebble validates against a port nobody listens on.
    let mut w = World::new(PebbleOptions::default()).await;
    w.server.take().unwrap().stop().await.unwrap();
    let err = w
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            vec!["unreachable.example".into()],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, peter_core::Error::Acme(AcmeError::Server { .. })),
        "{err}"
    );
    let orders = w
        .store
        .list_acme_orders(&OrderFilter::all(), Page::default())
        .await
        .unwrap();
    let order = &orders.items[0];
    assert_eq!(order.status, AcmeOrderStatus::Invalid);
    assert!(
        order
            .problem
            .as_deref()
            .unwrap_or_default()
            .contains("urn:ietf:params:acme:error:"),
        "{:?}",
        order.problem
    );
    // It can be retried.
    assert!(AcmeOrderStatus::RETRY.contains(&order.status));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcard_and_blocklisted_names_are_refused_before_anything_is_sent() {
    let w = World::new(PebbleOptions::default()).await;
    w.store
        .add_blocklisted_domain(&"blocked.example".parse().unwrap())
        .await
        .unwrap();
    let before = w
        .store
        .list_acme_events(Page::new(1, 1))
        .await
        .unwrap()
        .total_items;
    for names in [
        vec!["*.wild.example"],
        vec!["blocked.example"],
        vec!["bad_name.example"],
    ] {
        let err = w
            .orders()
            .create(OrderRequest::new(
                w.account.id,
                names.iter().map(|s| s.to_string()).collect(),
                AcmeOrderProcessingStrategy::ProcessSingle,
            ))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), peter_core::ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(
        w.store
            .list_acme_events(Page::new(1, 1))
            .await
            .unwrap()
            .total_items,
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_checked_rolled_over_and_deactivated() {
    let w = World::new(PebbleOptions::default()).await;
    let accounts = w.peter.accounts();
    assert!(
        accounts.check(w.account.id).await.unwrap(),
        "Pebble knows the account"
    );

    // Key rollover: the new key signs from now on.
    let rolled = accounts.change_key(w.account.id, None).await.unwrap();
    assert_ne!(rolled.key.spki_sha256, w.account.key.spki_sha256);
    assert!(accounts.check(w.account.id).await.unwrap());
    let order = issue(&w, &["after-rollover.example"]).await;
    assert_eq!(order.status, AcmeOrderStatus::Valid);

    // A key Pebble never saw can be checked but not imported.
    let stranger = peter_core::formats::ParsedPrivateKey::generate(KeyTechnology::EcP256).unwrap();
    let err = accounts.import(None, stranger, None).await.unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::InvalidInput, "{err}");

    // Local marks: inactive stops ordering and the global default; active
    // orders again. The CA is not told.
    let id = w.account.id;
    let inactive = accounts
        .mark(id, peter_core::model::rules::AccountMark::Inactive)
        .await
        .unwrap();
    assert!(!inactive.is_active && !inactive.is_global_default);
    assert!(inactive.deactivated_at.is_none());
    let err = w
        .orders()
        .create(OrderRequest::new(
            id,
            vec!["while-inactive.example".into()],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::Conflict, "{err}");
    let again = accounts
        .mark(id, peter_core::model::rules::AccountMark::Inactive)
        .await
        .unwrap_err();
    assert_eq!(again.kind(), peter_core::ErrorKind::Conflict);
    let active = accounts
        .mark(id, peter_core::model::rules::AccountMark::Active)
        .await
        .unwrap();
    assert!(active.is_active);
    assert!(accounts.check(id).await.unwrap(), "the CA still knows it");

    // Edit: the contact goes to the CA first; the key policy is recorded.
    let edited = accounts
        .edit(
            id,
            peter_core::app::AccountEdit {
                contact: Some("mailto:new-ops@example.com".into()),
                private_key_cycle: Some(PrivateKeyCycle::AccountDaily),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.contact.as_deref(), Some("new-ops@example.com"));
    assert_eq!(edited.private_key_cycle, PrivateKeyCycle::AccountDaily);
    let updates = w.store.list_acme_events(Page::new(1, 200)).await.unwrap();
    assert!(
        updates
            .items
            .iter()
            .any(|e| e.event == AcmeEvent::AccountUpdate && e.http_status == Some(200)),
        "the CA accepted the new contact"
    );
    let err = accounts
        .edit(
            id,
            peter_core::app::AccountEdit {
                contact: Some("not an address".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::InvalidInput, "{err}");

    // Deactivation is permanent and stops ordering.
    let gone = accounts.deactivate(w.account.id).await.unwrap();
    assert!(!gone.is_active && gone.deactivated_at.is_some() && !gone.is_global_default);
    assert!(accounts.deactivate(w.account.id).await.is_err());
    // A local mark does not bring it back.
    let err = accounts
        .mark(w.account.id, peter_core::model::rules::AccountMark::Active)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::Conflict, "{err}");
    let err = w
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            vec!["after-deactivation.example".into()],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::Conflict, "{err}");
}

/// A DNS-01 exec hook: a script that places and clears TXT records in
/// pebble-challtestsrv (the DNS server Pebble resolves through) with its
/// management API, and logs every call.
fn dns_hook_script(w: &World) -> (std::path::PathBuf, std::path::PathBuf) {
    let script = w._dir.join("dns-hook.sh");
    let log = w._dir.join("dns-hook.log");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
set -e
echo "$1 $2 $3" >> '{log}'
case "$1" in
  present) curl -fsS -X POST -d "{{\"host\":\"$2.\",\"value\":\"$3\"}}" '{url}/set-txt' ;;
  cleanup) curl -fsS -X POST -d "{{\"host\":\"$2.\"}}" '{url}/clear-txt' ;;
esac
"#,
            log = log.display(),
            url = w.pebble.challtestsrv_url
        ),
    )
    .unwrap();
    (script, log)
}

/// A facade over the world's store whose DNS-01 method runs `command`.
fn with_dns_hook(w: &World, command: &[&str], timeout: std::time::Duration) -> Peter {
    let command: Vec<String> = command.iter().map(|s| s.to_string()).collect();
    Peter::builder()
        .shared_store(w.store.clone())
        .acme(InstantAcme)
        .dns_solver(Arc::new(
            peter_acme::dns::ExecDnsHook::new(&command, timeout).unwrap(),
        ))
        .build()
        .unwrap()
}

/// DNS-01 through an exec hook, against Pebble validating through
/// pebble-challtestsrv: a wildcard with its apex and a name set to dns-01
/// in one certificate (the apex by http-01); each TXT record placed before
/// its challenge is triggered and removed after. A failing or hanging hook
/// is a clear error, and the order is given up at the CA (nothing left
/// pending).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns01_through_an_exec_hook_issues_a_wildcard_and_a_failing_hook_leaves_nothing_pending() {
    let w = World::new(PebbleOptions::default()).await;
    let (script, log) = dns_hook_script(&w);
    let peter = with_dns_hook(
        &w,
        &["sh", script.to_str().unwrap()],
        std::time::Duration::from_secs(20),
    );
    peter.domains().add("txt-only.example").await.unwrap();
    let domain = peter
        .domains()
        .set_challenge_type("txt-only.example", AcmeChallengeType::Dns01)
        .await
        .unwrap();
    assert_eq!(domain.challenge_type, AcmeChallengeType::Dns01);
    let err = peter
        .domains()
        .set_challenge_type("txt-only.example", AcmeChallengeType::TlsAlpn01)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::InvalidInput, "{err}");

    let order = peter
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            vec![
                "*.wild.example".into(),
                "wild.example".into(),
                "txt-only.example".into(),
            ],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap()
        .value;
    assert_eq!(order.status, AcmeOrderStatus::Valid);
    let cert = w
        .store
        .certificate_signed(order.certificate_signed_id.unwrap())
        .await
        .unwrap();
    let mut names = peter_core::formats::ParsedCertificate::from_pem(&cert.cert_pem)
        .unwrap()
        .dns_names;
    names.sort();
    assert_eq!(
        names,
        ["*.wild.example", "txt-only.example", "wild.example"]
    );
    // Which challenge validated which name.
    let mut used = Vec::new();
    for auth in w
        .store
        .acme_authorizations_for_order(order.id)
        .await
        .unwrap()
    {
        let domain = w.store.domain(auth.domain_id.unwrap()).await.unwrap();
        let valid: Vec<_> = w
            .store
            .acme_challenges_for_authorization(auth.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.status == AcmeChallengeStatus::Valid)
            .map(|c| c.challenge_type)
            .collect();
        used.push((domain.domain_name, valid));
    }
    used.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        used,
        [
            ("*.wild.example".to_string(), vec![AcmeChallengeType::Dns01]),
            (
                "txt-only.example".to_string(),
                vec![AcmeChallengeType::Dns01]
            ),
            ("wild.example".to_string(), vec![AcmeChallengeType::Http01]),
        ]
    );
    // Each record was placed, then removed with the same value.
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<Vec<&str>> = calls.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(calls.len(), 4, "{calls:?}");
    let mut fqdns = Vec::new();
    for pair in calls.chunks(2) {
        assert_eq!(pair[0][0], "present");
        assert_eq!(pair[1][0], "cleanup");
        assert_eq!(pair[0][1..], pair[1][1..], "the same record");
        assert_eq!(pair[0][2].len(), 43, "base64url of a SHA-256");
        fqdns.push(pair[0][1]);
    }
    fqdns.sort();
    assert_eq!(
        fqdns,
        [
            "_acme-challenge.txt-only.example",
            "_acme-challenge.wild.example"
        ]
    );

    // A hook that fails, and one that hangs: a clear error each, and the
    // order is given up at the CA.
    for (command, expect) in [
        (
            vec![
                "sh",
                "-c",
                "echo 'the provider refused the record' >&2; exit 1",
                "hook",
            ],
            "the provider refused the record",
        ),
        (vec!["sh", "-c", "sleep 30", "hook"], "within 1 s"),
    ] {
        let failing = with_dns_hook(&w, &command, std::time::Duration::from_secs(1));
        let err = failing
            .orders()
            .create(OrderRequest::new(
                w.account.id,
                vec!["*.fails.example".into()],
                AcmeOrderProcessingStrategy::ProcessSingle,
            ))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), peter_core::ErrorKind::Unavailable, "{err}");
        assert!(err.to_string().contains(expect), "{err}");
        assert!(
            err.to_string().contains("_acme-challenge.fails.example"),
            "{err}"
        );
        let all = failing
            .orders()
            .list(OrderFilter::all(), Page::new(1, 100))
            .await
            .unwrap();
        let failed = all.items.iter().max_by_key(|o| o.id.0).unwrap();
        assert_eq!(failed.status, AcmeOrderStatus::Invalid);
        let upstream = failing.orders().sync(failed.id).await.unwrap();
        assert_eq!(
            upstream.status,
            AcmeOrderStatus::Invalid,
            "given up at the CA"
        );
        assert!(
            w.store
                .acme_authorizations_for_order(failed.id)
                .await
                .unwrap()
                .iter()
                .all(|a| a.status == AcmeAuthorizationStatus::Deactivated)
        );
    }
    assert_eq!(
        failing_orders_left_pending(&w).await,
        0,
        "no order is left pending at the CA"
    );
}

async fn failing_orders_left_pending(w: &World) -> u64 {
    w.peter
        .orders()
        .list(OrderFilter::active(), Page::new(1, 1))
        .await
        .unwrap()
        .total_items
}

/// A facade over the world's store whose DNS-01 method is RFC 2136 against
/// `knot`, signing with `secret`.
fn with_rfc2136(w: &World, knot: &peter_acme::testkit::Knot, secret: &str) -> Peter {
    let method = peter_acme::dns::Rfc2136::new(peter_acme::dns::Rfc2136Settings {
        server: knot.addr,
        zone: knot.zone.clone(),
        key_name: knot.key_name.clone(),
        key_algorithm: "hmac-sha256".into(),
        key_secret: secret.into(),
        check: Vec::new(),
        ttl: 5,
        propagation_timeout: std::time::Duration::from_secs(10),
    })
    .unwrap();
    Peter::builder()
        .shared_store(w.store.clone())
        .acme(InstantAcme)
        .dns_solver(Arc::new(method))
        .build()
        .unwrap()
}

/// RFC 2136 with TSIG against Debian's Knot DNS, which Pebble resolves
/// through: a wildcard (dns-01, its TXT added by a signed update and
/// removed after) and its apex (http-01, its A record from the same zone)
/// in one certificate. A wrong TSIG key and a server that is down are each
/// a clear error, and the order is given up at the CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns01_by_rfc2136_with_tsig_against_knot() {
    let mut knot = peter_acme::testkit::Knot::start("dns-test.example");
    let w = World::new(PebbleOptions {
        dns_server: Some(knot.addr.to_string()),
        ..Default::default()
    })
    .await;
    let peter = with_rfc2136(&w, &knot, &knot.key_secret);
    let order = peter
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            vec!["*.dns-test.example".into(), "dns-test.example".into()],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap()
        .value;
    assert_eq!(order.status, AcmeOrderStatus::Valid);
    let cert = w
        .store
        .certificate_signed(order.certificate_signed_id.unwrap())
        .await
        .unwrap();
    let mut names = peter_core::formats::ParsedCertificate::from_pem(&cert.cert_pem)
        .unwrap()
        .dns_names;
    names.sort();
    assert_eq!(names, ["*.dns-test.example", "dns-test.example"]);
    assert_eq!(
        knot.dig("_acme-challenge.dns-test.example", "TXT"),
        Vec::<String>::new(),
        "the record was removed after validation"
    );

    // A key the server does not know: refused by the server, nothing added.
    let wrong = base64_of(&[7u8; 32]);
    let err = with_rfc2136(&w, &knot, &wrong)
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            vec!["*.bad-key.dns-test.example".into()],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::Unavailable, "{err}");
    eprintln!("wrong TSIG key: {err}");
    assert!(
        err.to_string()
            .contains("did not accept the TSIG signature"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("`_acme-challenge.bad-key.dns-test.example`"),
        "{err}"
    );
    assert!(
        knot.dig("_acme-challenge.bad-key.dns-test.example", "TXT")
            .is_empty()
    );
    assert_eq!(failing_orders_left_pending(&w).await, 0);

    // A name outside the zone the method updates: refused before any order.
    let orders_before = peter
        .orders()
        .list(OrderFilter::all(), Page::new(1, 1))
        .await
        .unwrap()
        .total_items;
    let err = peter
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            vec!["*.elsewhere.example".into()],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not inside the zone"), "{err}");
    assert_eq!(
        peter
            .orders()
            .list(OrderFilter::all(), Page::new(1, 1))
            .await
            .unwrap()
            .total_items,
        orders_before,
        "nothing was ordered"
    );

    // The server down: a clear error, nothing left pending at the CA.
    knot.stop();
    let err = peter
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            vec!["*.down.dns-test.example".into()],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::Unavailable, "{err}");
    eprintln!("server down: {err}");
    assert!(err.to_string().contains(&knot.addr.to_string()), "{err}");
    assert_eq!(failing_orders_left_pending(&w).await, 0);
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An RSA account (certbot's default key) does what an EC one does, every
/// request signed RS256 by peter's own JWS layer (instant-acme cannot sign
/// with RSA): registration, an order with real HTTP-01, a renewal naming what
/// it replaces, upstream revocation, and key rollover RSA -> EC -> RSA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rsa_account_orders_renews_revokes_and_rolls_over_both_ways() {
    let w = World::new(PebbleOptions::default()).await;
    let accounts = w.peter.accounts();
    let rsa = accounts
        .create(AccountRequest {
            contact: Some("rsa@example.com".into()),
            account_key_technology: KeyTechnology::Rsa2048,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rsa.key.key_technology, KeyTechnology::Rsa2048);
    assert!(accounts.check(rsa.id).await.unwrap(), "Pebble knows it");
    let ops = w.orders();
    let order_with = |id: AcmeAccountId, name: &str| {
        ops.create(OrderRequest::new(
            id,
            vec![name.to_string()],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
    };
    let order = order_with(rsa.id, "rsa-account.example").await.unwrap();
    assert_eq!(order.status, AcmeOrderStatus::Valid);
    let first = order.certificate_signed_id.unwrap();
    let renewal = w
        .orders()
        .renew_certificate(
            first,
            Some(rsa.id),
            AcmeOrderProcessingStrategy::ProcessSingle,
        )
        .await
        .unwrap();
    assert_eq!(renewal.status, AcmeOrderStatus::Valid);
    assert!(
        renewal.replaces.is_some(),
        "the renewal names what it replaces"
    );
    let renewed = renewal.certificate_signed_id.unwrap();
    let cert = w
        .orders()
        .revoke_upstream(renewed, RevocationReason::Superseded, Some(rsa.id))
        .await
        .unwrap();
    assert_eq!(
        w.pebble.cert_status(&cert.serial).await["Status"],
        "Revoked"
    );

    // Rollover to EC P-256, then back to RSA; each key then orders, and the
    // CA no longer knows the key it replaced.
    let mut previous = rsa.key.clone();
    for (technology, name) in [
        (KeyTechnology::EcP256, "rolled-to-ec.example"),
        (KeyTechnology::Rsa3072, "rolled-to-rsa.example"),
    ] {
        let rolled = accounts.change_key(rsa.id, Some(technology)).await.unwrap();
        assert_eq!(rolled.key.key_technology, technology);
        assert_eq!(rolled.account_url, rsa.account_url, "the same account");
        assert!(accounts.check(rsa.id).await.unwrap());
        let order = order_with(rsa.id, name).await.unwrap();
        assert_eq!(order.status, AcmeOrderStatus::Valid, "{technology}");
        let old = peter_core::formats::ParsedPrivateKey::from_pem(&previous.key_pem).unwrap();
        let err = accounts.import(None, old, None).await.unwrap_err();
        assert_eq!(err.kind(), peter_core::ErrorKind::InvalidInput, "{err}");
        previous = rolled.key;
    }
    // The same technology when none is named.
    let same = accounts.change_key(rsa.id, None).await.unwrap();
    assert_eq!(same.key.key_technology, KeyTechnology::Rsa3072);
    assert_ne!(same.key.spki_sha256, previous.spki_sha256);

    // P-384 account keys are refused before anything is sent.
    let before = w
        .store
        .list_acme_events(Page::new(1, 1))
        .await
        .unwrap()
        .total_items;
    let err = accounts
        .create(AccountRequest {
            account_key_technology: KeyTechnology::EcP384,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::InvalidInput, "{err}");
    let err = accounts
        .change_key(rsa.id, Some(KeyTechnology::EcP384))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::InvalidInput, "{err}");
    assert_eq!(
        w.store
            .list_acme_events(Page::new(1, 1))
            .await
            .unwrap()
            .total_items,
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_untrusted_directory_is_a_typed_error() {
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let dir = std::env::temp_dir().join(format!("peter-baddir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqlStore::connect(
        &peter_store::sqlite_url_for_path(&dir.join("s.sqlite")),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let store = Arc::new(store);
    let peter = facade(store.clone(), Arc::new(SystemClock));
    // Pebble's certificate is not signed by a public root.
    let untrusted = store
        .create_acme_server(NewAcmeServer {
            name: "untrusted".into(),
            directory_url: pebble.directory_url.clone(),
            ca_bundle_pem: None,
            is_default: true,
            ip_identifiers: false,
        })
        .await
        .unwrap();
    let port = peter_acme::testkit::free_port();
    let closed = store
        .create_acme_server(NewAcmeServer {
            name: "closed".into(),
            directory_url: format!("https://127.0.0.1:{port}/dir"),
            ca_bundle_pem: None,
            is_default: false,
            ip_identifiers: false,
        })
        .await
        .unwrap();
    for (server, tls) in [(untrusted.id, true), (closed.id, false)] {
        let err = peter
            .accounts()
            .create(AccountRequest {
                acme_server_id: Some(server),
                ..Default::default()
            })
            .await
            .unwrap_err();
        // An untrusted certificate and a refused connection are told apart.
        if tls {
            assert!(
                matches!(err, peter_core::Error::Acme(AcmeError::Untrusted(..))),
                "{err}"
            );
        } else {
            assert!(
                matches!(&err, peter_core::Error::Acme(AcmeError::Transport(m, _)) if m.contains("connection refused")),
                "{err}"
            );
        }
        assert_eq!(err.kind(), peter_core::ErrorKind::Unavailable);
    }
    // Both attempts are in the event log.
    let events = store.list_acme_events(Page::new(1, 100)).await.unwrap();
    assert!(
        events
            .items
            .iter()
            .filter(|e| e.event == AcmeEvent::Directory && e.http_status.is_none())
            .count()
            >= 2
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_requiring_external_account_binding_takes_only_a_bound_account() {
    // Pebble configured as ZeroSSL-like CAs are: newAccount needs a binding
    // MACed with a key it issued.
    let hmac = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    let pebble = Pebble::start(PebbleOptions {
        eab_mac_keys: vec![("kid-1".into(), hmac.into())],
        ..Default::default()
    })
    .await;
    let dir = std::env::temp_dir().join(format!("peter-eab-{}", pebble.http_port));
    let (store, peter) = fresh_store(&dir).await;
    let _server = PublicServer::start(
        SocketAddr::from(([127, 0, 0, 1], pebble.http_port)),
        PublicState::new(peter.clone(), "test"),
    )
    .await
    .unwrap();
    let server = peter
        .acme_servers()
        .add(NewAcmeServer {
            name: "pebble-eab".into(),
            directory_url: pebble.directory_url.clone(),
            ca_bundle_pem: Some(pebble.tls_ca_pem.clone()),
            is_default: true,
            ip_identifiers: false,
        })
        .await
        .unwrap();
    let new_account_events = || async {
        store
            .list_acme_events(Page::new(1, 100))
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.event == AcmeEvent::NewAccount)
            .count()
    };

    // Without a binding: refused before anything is sent, naming the flags.
    let err = peter
        .accounts()
        .create(AccountRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::InvalidInput, "{err}");
    assert!(
        err.to_string().contains("external account binding"),
        "{err}"
    );
    assert_eq!(new_account_events().await, 0);

    // A malformed key is refused locally, and never echoed.
    let err = ExternalAccountBinding::parse("kid-1", "not base64!").unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::InvalidInput, "{err}");

    // A wrong HMAC key: the CA refuses, with its problem.
    let wrong = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let err = peter
        .accounts()
        .create(AccountRequest {
            external_account: Some(ExternalAccountBinding::parse("kid-1", wrong).unwrap()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, peter_core::Error::Acme(e) if e.is_refusal()),
        "{err}"
    );
    assert!(
        !format!("{err:?}").contains(wrong),
        "the key must not be echoed"
    );
    // An unknown key id: refused too.
    let err = peter
        .accounts()
        .create(AccountRequest {
            external_account: Some(ExternalAccountBinding::parse("kid-9", hmac).unwrap()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, peter_core::Error::Acme(e) if e.is_refusal()),
        "{err}"
    );
    assert!(
        peter
            .accounts()
            .list(Page::new(1, 10))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // The right binding: the account is created and orders.
    let account = peter
        .accounts()
        .create(AccountRequest {
            contact: Some("ops@example.com".into()),
            global_default: true,
            external_account: Some(ExternalAccountBinding::parse("kid-1", hmac).unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(account.account_url.is_some());
    assert_eq!(account.acme_server_id, server.id);
    let order = peter
        .orders()
        .create(OrderRequest::new(
            account.id,
            vec!["eab.example".into()],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap()
        .value;
    assert_eq!(order.status, AcmeOrderStatus::Valid);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acme_servers_are_read_on_add_and_can_be_named_edited_and_removed() {
    let (first, second) = tokio::join!(
        Pebble::start(PebbleOptions::default()),
        Pebble::start(PebbleOptions::default())
    );
    let dir = std::env::temp_dir().join(format!("peter-servers-{}", first.http_port));
    let (_store, peter) = fresh_store(&dir).await;
    let servers = peter.acme_servers();
    let new = |name: &str, url: &str, bundle: Option<&str>| NewAcmeServer {
        name: name.into(),
        directory_url: url.into(),
        ca_bundle_pem: bundle.map(str::to_string),
        is_default: false,
        ip_identifiers: false,
    };

    // Three distinct failures, none of them recorded.
    let closed = format!("https://127.0.0.1:{}/dir", peter_acme::testkit::free_port());
    let err = servers
        .add(new("closed", &closed, Some(&first.tls_ca_pem)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, peter_core::Error::Acme(AcmeError::Transport(m, _)) if m.contains("connection refused")),
        "{err}"
    );
    let err = servers
        .add(new("untrusted", &first.directory_url, None))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, peter_core::Error::Acme(AcmeError::Untrusted(..))),
        "{err}"
    );
    let not_acme = format!("{}/roots/0", first.management_url);
    let err = servers
        .add(new("not-acme", &not_acme, Some(&first.tls_ca_pem)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, peter_core::Error::Acme(AcmeError::Protocol(m, _)) if m.contains("not an ACME directory")),
        "{err}"
    );
    for bad in ["1234", "a b", ""] {
        let err = servers
            .add(new(bad, &first.directory_url, Some(&first.tls_ca_pem)))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            peter_core::ErrorKind::InvalidInput,
            "{bad:?}: {err}"
        );
    }
    assert!(servers.list().await.unwrap().is_empty());

    // Recorded with what the directory offers.
    let a = servers
        .add(new("first", &first.directory_url, Some(&first.tls_ca_pem)))
        .await
        .unwrap();
    let offered = a.directory.clone().expect("directory recorded");
    assert!(offered.supports_ari && !offered.external_account_required);
    assert_eq!(offered.profiles, vec!["default", "shortlived"]);
    assert!(a.is_default, "the first server is the default");
    let b = servers
        .add(new(
            "second",
            &second.directory_url,
            Some(&second.tls_ca_pem),
        ))
        .await
        .unwrap();
    assert!(!b.is_default);

    // Names and ids both find a server.
    assert_eq!(servers.find("second").await.unwrap().id, b.id);
    assert_eq!(servers.find(&b.id.0.to_string()).await.unwrap().id, b.id);
    assert_eq!(
        servers.find("nope").await.unwrap_err().kind(),
        peter_core::ErrorKind::NotFound
    );

    // Rename; a bundle that does not verify the server is refused and not stored.
    let b = servers
        .edit(
            b.id,
            ServerEdit {
                name: Some("backup".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(b.name, "backup");
    assert!(servers.find("second").await.is_err());
    let err = servers
        .edit(
            a.id,
            ServerEdit {
                ca_bundle_pem: Some(Some(second.tls_ca_pem.clone())),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, peter_core::Error::Acme(AcmeError::Untrusted(..))),
        "{err}"
    );
    assert_eq!(
        servers.get(a.id).await.unwrap().ca_bundle_pem.as_deref(),
        Some(first.tls_ca_pem.as_str())
    );

    // The default moves; a server with accounts stays; an unused one goes.
    let b = servers.set_default(b.id).await.unwrap();
    assert!(b.is_default && !servers.get(a.id).await.unwrap().is_default);
    let account = peter
        .accounts()
        .create(AccountRequest::default())
        .await
        .unwrap();
    assert_eq!(account.acme_server_id, b.id);
    let err = servers.remove(b.id).await.unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::Conflict, "{err}");
    servers.remove(a.id).await.unwrap();
    let left: Vec<_> = servers
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, vec![b.id]);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_key_cycle_keeps_its_key_within_the_period_and_changes_after() {
    let w = World::new(PebbleOptions::default()).await;
    // The store and the orders read one clock that the test moves.
    let clock = Arc::new(ManualClock::new(time::OffsetDateTime::now_utc()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let store = Arc::new(
        SqlStore::connect(
            &peter_store::sqlite_url_for_path(&w._dir.join("s.sqlite")),
            dyn_clock.clone(),
        )
        .await
        .unwrap(),
    );
    let peter = facade(store.clone(), dyn_clock);
    let orders = Ops(&peter);
    let mut keys = Vec::new();
    for (i, advance_days) in [0i64, 0, 1].iter().enumerate() {
        clock.advance(time::Duration::days(*advance_days));
        let mut request = OrderRequest::new(
            w.account.id,
            vec![format!("cycle{i}.example")],
            AcmeOrderProcessingStrategy::ProcessSingle,
        );
        request.private_key_cycle = Some(PrivateKeyCycle::AccountDaily);
        let order = orders.create(request).await.unwrap();
        keys.push(
            store
                .certificate_signed(order.certificate_signed_id.unwrap())
                .await
                .unwrap()
                .private_key_id,
        );
    }
    assert_eq!(keys[0], keys[1], "the same day reuses the stored key");
    assert_ne!(keys[1], keys[2], "the next day makes a new one");
    let key = store.private_key(keys[0]).await.unwrap();
    assert_eq!(key.cycle, PrivateKeyCycle::AccountDaily);
    assert_eq!(key.acme_account_id_owner, Some(w.account.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_can_be_marked_invalid_or_cancelled() {
    let w = World::new(PebbleOptions::default()).await;
    let create = |name: &str| {
        OrderRequest::new(
            w.account.id,
            vec![name.to_string()],
            AcmeOrderProcessingStrategy::CreateOrder,
        )
    };
    let a = w.orders().create(create("mark-a.example")).await.unwrap();
    let cancelled = w.orders().mark(a.id, OrderMark::Deactivate).await.unwrap();
    assert_eq!(cancelled.is_processing, Some(false));
    assert!(
        w.orders().process_step(a.id).await.is_err(),
        "a cancelled order is not processed"
    );
    assert!(w.orders().mark(a.id, OrderMark::Deactivate).await.is_err());
    let b = w.orders().create(create("mark-b.example")).await.unwrap();
    let invalid = w.orders().mark(b.id, OrderMark::Invalid).await.unwrap();
    assert_eq!(invalid.status, AcmeOrderStatus::Invalid);
    assert!(
        w.orders().mark(b.id, OrderMark::Invalid).await.is_err(),
        "already invalid"
    );
    let retried = w
        .orders()
        .retry(b.id, AcmeOrderProcessingStrategy::ProcessSingle)
        .await
        .unwrap();
    assert_eq!(retried.status, AcmeOrderStatus::Valid);
    assert_eq!(retried.acme_order_id_retry_of, Some(b.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_order_deactivates_its_pending_authorizations_at_the_ca() {
    // One name fails validation (nobody answers the challenge), which makes
    // the whole order invalid at Pebble; the authorizations of the other
    // names would stay pending there. peter deactivates them.
    let mut w = World::new(PebbleOptions::default()).await;
    w.server.take().unwrap().stop().await.unwrap();
    let names: Vec<String> = (0..5).map(|i| format!("n{i}.failed.example")).collect();
    let err = w
        .orders()
        .create(OrderRequest::new(
            w.account.id,
            names,
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, peter_core::Error::Acme(AcmeError::Server { .. })),
        "{err}"
    );
    let orders = w
        .store
        .list_acme_orders(&OrderFilter::all(), Page::default())
        .await
        .unwrap();
    let order = &orders.items[0];
    assert_eq!(order.status, AcmeOrderStatus::Invalid);
    assert_eq!(
        order.processing_status,
        AcmeOrderProcessingStatus::ProcessingDeactivated
    );
    let auths = w
        .store
        .acme_authorizations_for_order(order.id)
        .await
        .unwrap();
    assert_eq!(auths.len(), 5);
    let pending = auths
        .iter()
        .filter(|a| AcmeAuthorizationStatus::POSSIBLY_PENDING.contains(&a.status))
        .count();
    assert_eq!(pending, 0, "no authorization is left pending: {auths:?}");
    let deactivated: Vec<_> = auths
        .iter()
        .filter(|a| a.status == AcmeAuthorizationStatus::Deactivated)
        .collect();
    assert!(!deactivated.is_empty(), "{auths:?}");
    // The CA agrees.
    for auth in &deactivated {
        let upstream = w.orders().sync_authorization(auth.id).await.unwrap();
        assert_eq!(upstream.status, AcmeAuthorizationStatus::Deactivated);
    }

    // A challenge of a deactivated authorization is refused here, without
    // asking the CA.
    let challenges = w
        .store
        .acme_challenges_for_authorization(deactivated[0].id)
        .await
        .unwrap();
    let before = w
        .store
        .list_acme_events(Page::new(1, 1))
        .await
        .unwrap()
        .total_items;
    for challenge in challenges {
        let err = w
            .peter
            .orders()
            .trigger_challenge(challenge.id)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), peter_core::ErrorKind::Conflict, "{err}");
    }
    let after = w
        .store
        .list_acme_events(Page::new(1, 1))
        .await
        .unwrap()
        .total_items;
    assert_eq!(before, after, "nothing was sent to the CA");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_if_needed_reports_a_refused_order_as_fail_with_the_order() {
    let mut w = World::new(PebbleOptions::default()).await;
    w.server.take().unwrap().stop().await.unwrap();
    let answer = w
        .peter
        .domains()
        .certificate_if_needed("cin.failed.example", Some(w.account.id), None)
        .await
        .expect("a CA's refusal is an answer, not an error")
        .value;
    assert_eq!(answer.certificate_status, "fail");
    assert_eq!(answer.certificate_signed_id, None);
    let order = answer.acme_order_id.expect("the order is named");
    let order = w.store.acme_order(AcmeOrderId(order)).await.unwrap();
    assert_eq!(order.status, AcmeOrderStatus::Invalid);
    assert!(
        answer
            .error
            .is_some_and(|e| e.contains("urn:ietf:params:acme:error:"))
    );
}

/// A webhook receiver that checks every alert's signature: it records
/// (condition, signature valid) per request and answers 500 while `failing`.
async fn alert_receiver(
    secret: &str,
) -> (
    String,
    Arc<std::sync::Mutex<Vec<(String, bool)>>>,
    Arc<std::sync::atomic::AtomicUsize>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    // How many more requests get a 500.
    let failing = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let (log, fail) = (seen.clone(), failing.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then Content-Length bytes of body.
            let (head, body) = loop {
                let n = socket.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), Vec::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < end + 4 + length {
                        let n = socket.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    break (head, buf[end + 4..].to_vec());
                }
            };
            let signature = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("x-peter-signature")
                        .then(|| v.trim().to_string())
                })
                .unwrap_or_default();
            let expected = aws_lc_rs::hmac::sign(&key, &body);
            let hex: String = expected
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let valid = signature == format!("sha256={hex}");
            let condition = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["condition"].as_str().map(str::to_string))
                .unwrap_or_default();
            log.lock().unwrap().push((condition, valid));
            let status = if fail
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |n| n.checked_sub(1),
                )
                .is_ok()
            {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = socket
                .write_all(
                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await;
        }
    });
    (url, seen, failing)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewal_trouble_alerts_a_signed_webhook_and_a_hook_retrying_failed_deliveries() {
    let mut w = World::new(PebbleOptions::default()).await;
    let secret = "a shared secret of the receiver";
    let (url, seen, failing) = alert_receiver(secret).await;
    let hook_log = w._dir.join("hook.log");
    let exec = peter_http::alerts::ExecAlerts::new(
        &[
            "sh".into(),
            "-c".into(),
            format!(
                "printf '%s ' \"$PETER_ALERT_CONDITION\" >> {0}; cat >> {0}; echo >> {0}",
                hook_log.display()
            ),
        ],
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    let webhook =
        peter_http::alerts::WebhookAlerts::new(&url, secret, std::time::Duration::from_secs(5))
            .unwrap();
    // The same store, with alert targets.
    let alerting = Peter::builder()
        .shared_store(w.store.clone())
        .acme(InstantAcme)
        .alert_target(Arc::new(webhook))
        .alert_target(Arc::new(exec))
        .build()
        .unwrap();

    // 1. The CA moves a window into the past: the run alerts and renews.
    let a = issue(&w, &["alert-moved.example"]).await;
    let b = issue(&w, &["alert-fail.example"]).await;
    let a_cert = w
        .store
        .certificate_signed(a.certificate_signed_id.unwrap())
        .await
        .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    w.pebble
        .set_renewal_info(
            &a_cert.cert_pem,
            &fmt(now - time::Duration::hours(2)),
            &fmt(now - time::Duration::hours(1)),
            None,
        )
        .await;
    // The receiver fails the first try: the delivery is tried again.
    failing.store(1, std::sync::atomic::Ordering::SeqCst);
    let report = alerting.renewals().run(None).await.unwrap().value;
    assert_eq!(report.renewed.len(), 1, "{report:?}");
    let moved: Vec<_> = report
        .alerts
        .iter()
        .filter(|o| o.condition == AlertCondition::AriWindowMoved)
        .collect();
    assert_eq!(moved.len(), 2, "one per target: {:?}", report.alerts);
    assert!(moved.iter().all(|o| o.status == AlertStatus::Delivered));
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            ("ari_window_moved".to_string(), true),
            ("ari_window_moved".to_string(), true)
        ]
    );
    let listed = alerting
        .alerts()
        .list(Page::new(1, 10))
        .await
        .unwrap()
        .items;
    let via_webhook = listed.iter().find(|d| d.target == "webhook").unwrap();
    assert_eq!(via_webhook.attempts, 2, "retried once");
    let hook = std::fs::read_to_string(&hook_log).unwrap();
    assert!(hook.starts_with("ari_window_moved {"), "{hook}");

    // 2. Renewals fail (nobody answers HTTP-01) while the webhook is down:
    // each failure is alerted with the CA's problem; the webhook's
    // deliveries fail three times and are recorded as failed.
    w.server.take().unwrap().stop().await.unwrap();
    failing.store(usize::MAX, std::sync::atomic::Ordering::SeqCst);
    let report = alerting.renewals().run(Some(100)).await.unwrap().value;
    assert_eq!(report.failed.len(), 2, "{report:?}");
    assert!(
        report
            .failed
            .iter()
            .any(|(id, _)| Some(*id) == b.certificate_signed_id)
    );
    let failed_webhook: Vec<_> = report
        .alerts
        .iter()
        .filter(|o| o.condition == AlertCondition::RenewalFailed && o.target == "webhook")
        .collect();
    assert_eq!(failed_webhook.len(), 2, "{:?}", report.alerts);
    assert!(
        failed_webhook
            .iter()
            .all(|o| o.status == AlertStatus::Failed)
    );
    let listed = alerting
        .alerts()
        .list(Page::new(1, 20))
        .await
        .unwrap()
        .items;
    let b_alert = listed
        .iter()
        .find(|d| {
            d.certificate_signed_id == b.certificate_signed_id
                && d.condition == AlertCondition::RenewalFailed
                && d.target == "exec"
        })
        .unwrap();
    assert_eq!(b_alert.status, AlertStatus::Delivered);
    let payload: serde_json::Value = serde_json::from_str(&b_alert.payload).unwrap();
    assert!(
        payload["problem"]["type"]
            .as_str()
            .unwrap_or_default()
            .starts_with("urn:ietf:params:acme:error:"),
        "{payload}"
    );
    assert!(
        listed
            .iter()
            .filter(|d| d.target == "webhook" && d.condition == AlertCondition::RenewalFailed)
            .all(|d| d.attempts == 3 && d.status == AlertStatus::Failed)
    );

    // 3. The next run (the renewals back off) delivers what failed, and
    // raises nothing new: one alert per certificate and condition per day.
    failing.store(0, std::sync::atomic::Ordering::SeqCst);
    let before = seen.lock().unwrap().len();
    let report = alerting.renewals().run(Some(100)).await.unwrap().value;
    assert!(report.failed.is_empty(), "backing off: {report:?}");
    assert_eq!(report.alerts.len(), 2, "{:?}", report.alerts);
    assert!(report.alerts.iter().all(
        |o| o.status == AlertStatus::Delivered && o.condition == AlertCondition::RenewalFailed
    ));
    let after = seen.lock().unwrap().clone();
    assert_eq!(after.len(), before + 2);
    assert!(
        after.iter().all(|(_, valid)| *valid),
        "every signature checks"
    );
    let total = alerting
        .alerts()
        .list(Page::new(1, 50))
        .await
        .unwrap()
        .total_items;
    assert_eq!(total, 6, "2 moved + 4 failed (2 certificates x 2 targets)");
}
