//! 100 orders through a fault-injecting proxy in front of a real Pebble.
//!
//! Pebble answers every request correctly, so the faults a network and a
//! CA's edge produce (resets, replies lost after the request took effect,
//! delays, 5xx, truncated bodies, bad nonces) come from an in-process proxy
//! (`peter_acme::testkit::faults`); everything else is real: Pebble, its HTTP-01
//! validation against peter's public routes, the SQLite store.
//!
//! Phase one orders through the faults with few retries per step, so that
//! some orders are interrupted; phase two turns the faults off and processes
//! every unfinished order again, as `peter order process` would. At the end
//! every order is valid or cleanly failed, every name has exactly one
//! certificate, every certificate's key is stored and matches it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;

use peter_acme::InstantAcme;
use peter_acme::testkit::faults::{ALL_FAULTS, FaultProxy};
use peter_acme::testkit::{Pebble, PebbleOptions};
use peter_core::app::{AccountRequest, OrderRequest, OrderSettings, Peter, ProcessSteps, Settings};
use peter_core::formats::{ParsedCertificate, ParsedPrivateKey};
use peter_core::model::*;
use peter_core::ports::*;
use peter_http::{PublicServer, PublicState};
use peter_store::SqlStore;

const ORDERS: usize = 100;
/// A fault for one connection or request in this many thousand.
const RATE_PER_MILLE: u32 = 120;
const CONCURRENCY: usize = 4;

fn names(i: usize) -> Vec<String> {
    // Every tenth order carries two names, so some orders have two
    // authorizations to get through the faults.
    if i.is_multiple_of(10) {
        vec![format!("f{i}.example.com"), format!("www.f{i}.example.com")]
    } else {
        vec![format!("f{i}.example.com")]
    }
}

async fn all_orders(peter: &Peter) -> Vec<AcmeOrder> {
    peter
        .orders()
        .list(OrderFilter::all(), Page::new(1, 1000))
        .await
        .unwrap()
        .items
}

fn finished(order: &AcmeOrder) -> bool {
    order.certificate_signed_id.is_some()
        || (order.status == AcmeOrderStatus::Invalid && order.is_processing.is_none())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_through_faults_end_valid_or_cleanly_failed_and_resume_without_duplicates() {
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let proxy = FaultProxy::start(&pebble, 0, 20261205).await;
    let dir = std::env::temp_dir().join(format!(
        "peter-faults-{}-{}",
        std::process::id(),
        pebble.http_port
    ));
    let _ = std::fs::remove_dir_all(&dir);
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
    // Two attempts per step (the default is five), so that faults in a row
    // interrupt some orders instead of all being absorbed by retries.
    let peter = Peter::builder()
        .shared_store(store.clone())
        .clock(clock)
        .acme(InstantAcme)
        .settings(Settings::default().with_orders(OrderSettings {
            step_attempts: 2,
            ..Default::default()
        }))
        .build()
        .unwrap();
    let _server = PublicServer::start(
        SocketAddr::from(([127, 0, 0, 1], pebble.http_port)),
        PublicState::new(peter.clone(), "test"),
    )
    .await
    .unwrap();
    peter
        .acme_servers()
        .add(NewAcmeServer {
            name: "pebble-through-faults".into(),
            directory_url: proxy.directory_url.clone(),
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
        .unwrap()
        .id;

    // Phase one: every order through the faults.
    proxy.set_rate(RATE_PER_MILLE);
    let mut phase_one = tokio::task::JoinSet::new();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..CONCURRENCY {
        let peter = peter.clone();
        let next = next.clone();
        phase_one.spawn(async move {
            let mut outcomes = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= ORDERS {
                    return outcomes;
                }
                let result = peter
                    .orders()
                    .create(OrderRequest::new(
                        account,
                        names(i),
                        AcmeOrderProcessingStrategy::ProcessSingle,
                    ))
                    .await;
                outcomes.push((
                    i,
                    result
                        .map(|c| c.value)
                        .map_err(|e| (e.kind(), e.to_string())),
                ));
            }
        });
    }
    let mut outcomes = BTreeMap::new();
    while let Some(done) = phase_one.join_next().await {
        outcomes.extend(done.unwrap());
    }
    let counts = proxy.counts();
    proxy.set_rate(0);
    let errors: Vec<_> = outcomes
        .iter()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
        .collect();
    eprintln!(
        "phase one: {} requests on {} connections, {} faults injected ({:?}); {} of {ORDERS} orders came back with an error",
        counts.requests,
        counts.connections,
        counts.total(),
        ALL_FAULTS
            .iter()
            .map(|f| (f, counts.of(*f)))
            .collect::<Vec<_>>(),
        errors.len()
    );
    for (i, (_, e)) in &errors {
        eprintln!("  order {i}: {e}");
    }
    // Each interruption is reported as what it is: the CA unreachable or
    // failing (503 over the API), never as the CA refusing the order.
    for (i, (kind, e)) in &errors {
        assert_eq!(
            *kind,
            peter_core::ErrorKind::Unavailable,
            "order {i} was interrupted by a fault but reported as {kind:?}: {e}"
        );
    }
    for fault in ALL_FAULTS {
        assert!(
            counts.of(fault) > 0,
            "{fault:?} was never injected: {counts:?}"
        );
    }
    assert!(
        !errors.is_empty(),
        "no order was interrupted, so resuming was not exercised"
    );

    // A fault on the way never fails an order: what it interrupted is still
    // being processed, resumable. An order may only be failed by the CA's
    // own refusal (a problem the proxy did not make).
    let orders = all_orders(&peter).await;
    let interrupted: Vec<_> = orders.iter().filter(|o| !finished(o)).collect();
    let mut cleanly_failed = 0;
    for order in orders
        .iter()
        .filter(|o| o.status == AcmeOrderStatus::Invalid)
    {
        let problem = order.problem.clone().unwrap_or_default();
        assert!(
            !problem.contains("injected") && !problem.contains("cannot reach"),
            "order {} was failed by a fault on the way: {:?} {problem}",
            order.id,
            order.processing_status
        );
        cleanly_failed += 1;
    }

    // Phase two: faults off. Every unfinished order is processed again, and
    // a name left without a certificate (its order failed, or a fault came
    // before the order was recorded) is ordered again.
    for order in &interrupted {
        peter
            .orders()
            .process(order.id, ProcessSteps::All)
            .await
            .unwrap_or_else(|e| panic!("resuming order {} failed: {e}", order.id));
    }
    let mut ordered_again = 0;
    for i in 0..ORDERS {
        let domain = names(i).remove(0);
        if covering(&peter, &domain).await.is_empty() {
            ordered_again += 1;
            peter
                .orders()
                .create(OrderRequest::new(
                    account,
                    names(i),
                    AcmeOrderProcessingStrategy::ProcessSingle,
                ))
                .await
                .unwrap();
        }
    }
    eprintln!(
        "phase two: {} interrupted orders resumed, {cleanly_failed} cleanly failed, {ordered_again} names ordered again",
        interrupted.len()
    );

    // Every order finished: valid with its certificate, or cleanly failed.
    let orders = all_orders(&peter).await;
    for order in &orders {
        assert!(
            finished(order),
            "order {} is left unfinished: {:?}/{:?}",
            order.id,
            order.status,
            order.processing_status
        );
    }
    // Every name has exactly one certificate, recorded once, from one order.
    let certificates = peter
        .certificates()
        .list(CertificateFilter::default(), Page::new(1, 1000))
        .await
        .unwrap()
        .items;
    assert_eq!(
        certificates.len(),
        ORDERS,
        "one certificate per ordered name set"
    );
    let valid = orders
        .iter()
        .filter(|o| o.certificate_signed_id.is_some())
        .count();
    assert_eq!(valid, ORDERS, "one valid order per name set");
    let distinct: BTreeSet<_> = certificates
        .iter()
        .map(|c| c.certificate.fingerprint_sha1.clone())
        .collect();
    assert_eq!(distinct.len(), ORDERS);
    for i in 0..ORDERS {
        let domain = names(i).remove(0);
        let found = covering(&peter, &domain).await;
        assert_eq!(found.len(), 1, "{domain}: {found:?}");
        assert_eq!(
            certificates
                .iter()
                .find(|c| c.certificate.id == found[0])
                .map(|c| c.domain_names.clone()),
            Some(names(i)),
        );
    }
    // No key is lost: every certificate's key is stored and is its key.
    for summary in &certificates {
        let cert = &summary.certificate;
        let key = peter.private_keys().get(cert.private_key_id).await.unwrap();
        let parsed_key = ParsedPrivateKey::from_pem(&key.key_pem).unwrap();
        let parsed_cert = ParsedCertificate::from_pem(&cert.cert_pem).unwrap();
        parsed_key.ensure_matches(&parsed_cert).unwrap();
    }
    drop(proxy);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn covering(peter: &Peter, domain: &str) -> Vec<CertificateSignedId> {
    peter
        .certificates()
        .list_covering(CertificateFilter::default(), Some(domain), Page::new(1, 10))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.certificate.id)
        .collect()
}
