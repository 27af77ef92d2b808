//! The order flow through the library against a real Pebble with real
//! HTTP-01 validation, answered by peter's public routes on the port Pebble
//! validates against.

use std::net::SocketAddr;
use std::sync::Arc;

use peter_acme::InstantAcmeClient;
use peter_acme::testkit::{Pebble, PebbleOptions};
use peter_core::model::*;
use peter_core::ports::*;
use peter_core::services::accounts::{AccountRequest, create_account};
use peter_core::services::orders::{OrderRequest, OrderSettings, Orders, Step};
use peter_http::{PublicServer, PublicState};
use peter_store::SqlStore;

struct World {
    pebble: Pebble,
    store: Arc<SqlStore>,
    acme: Arc<InstantAcmeClient>,
    clock: Arc<dyn Clock>,
    _server: PublicServer,
    account: AcmeAccount,
    _dir: std::path::PathBuf,
}

impl World {
    async fn new(options: PebbleOptions) -> World {
        let pebble = Pebble::start(options).await;
        let dir = std::env::temp_dir().join(format!(
            "peter-flow-{}-{}",
            std::process::id(),
            pebble.http_port
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = Arc::new(
            SqlStore::connect(
                &peter_store::sqlite_url_for_path(&dir.join("s.sqlite")),
                clock.clone(),
            )
            .await
            .unwrap(),
        );
        let dyn_store: Arc<dyn Store> = store.clone();
        let server = PublicServer::start(
            SocketAddr::from(([127, 0, 0, 1], pebble.http_port)),
            PublicState {
                store: dyn_store.clone(),
                environment: "test".into(),
            },
        )
        .await
        .unwrap();
        let acme = Arc::new(InstantAcmeClient::new(dyn_store));
        store
            .create_acme_server(NewAcmeServer {
                name: "pebble".into(),
                directory_url: pebble.directory_url.clone(),
                ca_bundle_pem: Some(pebble.tls_ca_pem.clone()),
                is_default: true,
            })
            .await
            .unwrap();
        let account = create_account(
            store.as_ref(),
            acme.as_ref(),
            AccountRequest {
                contact: Some("ops@example.com".into()),
                global_default: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        World {
            pebble,
            store,
            acme,
            clock,
            _server: server,
            account,
            _dir: dir,
        }
    }

    fn orders(&self) -> Orders<'_> {
        Orders {
            store: self.store.as_ref(),
            acme: self.acme.as_ref(),
            clock: self.clock.as_ref(),
            settings: OrderSettings::default(),
        }
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
            !w.store.challenge_polls(http.id).await.unwrap().is_empty(),
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
