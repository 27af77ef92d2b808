//! The storage conformance suite: every `Store` method, uniqueness under
//! concurrency and rollback, run unchanged on a SQLite file and on
//! PostgreSQL. Each scenario expands into one test per back end.

mod common;

use std::sync::Arc;

use common::{Backend, TestStore};
use peter_core::Error;
use peter_core::dns::{DomainName, UniqueFqdnSet};
use peter_core::formats::ParsedPrivateKey;
use peter_core::model::rules::{CertificateMark, TransitionError};
use peter_core::model::*;
use peter_core::ports::*;
use peter_core::services::import::{
    CertificateUpload, import_certificate, prepare_certificate_import,
};
use peter_core::testkit::{Leaf, TestPki};
use time::{Duration, OffsetDateTime};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let t = super::TestStore::new(super::Backend::Sqlite).await;
                    super::$name(&t).await;
                    t.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let t = super::TestStore::new(super::Backend::Postgres).await;
                    super::$name(&t).await;
                    t.cleanup().await;
                }
            )*
        }
    };
}

on_both_backends!(
    acme_servers_are_unique_and_one_is_default,
    acme_accounts_keep_one_global_default_on_the_default_server,
    startup_unsets_a_global_default_on_another_server,
    private_keys_are_deduplicated_by_public_key,
    compromising_a_key_deactivates_its_certificates,
    domains_are_unique_and_marks_follow_the_rules,
    dns_delegations_are_stable_and_txt_values_come_and_go,
    blocklist_records_names_once,
    fqdn_sets_are_identified_by_their_names,
    import_records_everything_and_is_idempotent,
    concurrent_imports_of_one_certificate_end_in_one_row,
    concurrent_imports_sharing_domains_all_land,
    a_fault_mid_import_leaves_nothing_behind,
    a_fault_mid_compromise_leaves_nothing_changed,
    bad_input_leaves_the_store_unchanged,
    certificate_marks_follow_the_rules_and_move_latest,
    latest_active_certificate_prefers_the_one_expiring_last,
    certificate_listings_filter_and_paginate,
    ca_certificates_chains_and_preferences,
    acme_and_operations_events_are_recorded,
    alerts_are_recorded_once_per_period_and_track_their_tries,
    every_table_matches_its_entity,
    unknown_ids_are_not_found,
    orders_authorizations_challenges_and_polls,
    certificate_requests_keys_by_cycle_and_upstream_marks,
    account_keys_rotate_and_accounts_deactivate,
    domain_publications_pick_the_served_certificate,
    renewal_leases_are_exclusive_and_expire,
    writes_under_a_lost_lease_are_fenced,
    the_config_change_feed_names_what_changed,
    domain_config_reads_everything_in_one_source,
    metrics_count_by_state_and_list_expirations,
    renewal_reads_page_by_id_with_names_and_activity,
    the_migration_derives_renewal_configurations_from_orders,
);

fn name(s: &str) -> DomainName {
    DomainName::parse(s).unwrap()
}

fn new_server(name: &str, default: bool) -> NewAcmeServer {
    NewAcmeServer {
        name: name.into(),
        directory_url: format!("https://{name}.test/dir"),
        ca_bundle_pem: None,
        is_default: default,
        ip_identifiers: false,
    }
}

fn new_account(server: AcmeServerId) -> NewAcmeAccount {
    NewAcmeAccount {
        acme_server_id: server,
        contact: Some("mailto:ops@example.com".into()),
        key: ParsedPrivateKey::generate(KeyTechnology::EcP256).unwrap(),
        key_source: AcmeAccountKeySource::Generated,
        account_url: None,
        terms_of_service: None,
        private_key_technology: KeyTechnology::EcP256,
        private_key_cycle: PrivateKeyCycle::SingleUse,
    }
}

async fn import_leaf(t: &TestStore, leaf: &Leaf, chain: Option<&str>) -> ImportOutcome {
    import_certificate(t.store.as_ref(), t.clock.as_ref(), leaf.upload(chain))
        .await
        .unwrap()
}

fn transition(e: StoreError) -> TransitionError {
    match e {
        StoreError::Transition(t) => t,
        other => panic!("expected a transition error, got {other:?}"),
    }
}

async fn acme_servers_are_unique_and_one_is_default(t: &TestStore) {
    let s = t.store.as_ref();
    let first = s
        .create_acme_server(new_server("pebble", false))
        .await
        .unwrap();
    assert!(first.is_default, "the first server becomes the default");
    let second = s
        .create_acme_server(new_server("other", false))
        .await
        .unwrap();
    assert!(!second.is_default);
    assert!(matches!(
        s.create_acme_server(new_server("pebble", false)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.acme_server(first.id).await.unwrap(), first);
    assert_eq!(
        s.acme_server_by_name("other").await.unwrap().unwrap().id,
        second.id
    );
    assert!(s.acme_server_by_name("nope").await.unwrap().is_none());
    let now_default = s.set_default_acme_server(second.id).await.unwrap();
    assert!(now_default.is_default);
    let all = s.list_acme_servers().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all.iter().filter(|x| x.is_default).count(), 1);
    let disabled = s.set_acme_server_enabled(first.id, false).await.unwrap();
    assert!(!disabled.is_enabled);
    assert_eq!(
        transition(
            s.set_acme_server_enabled(first.id, false)
                .await
                .unwrap_err()
        ),
        TransitionError::AlreadyInactive
    );
    let third = s
        .create_acme_server(new_server("third", true))
        .await
        .unwrap();
    assert!(third.is_default);
    assert!(!s.acme_server(second.id).await.unwrap().is_default);
    assert!(!third.ip_identifiers, "IP identifiers are off unless asked");
    let edited = s
        .edit_acme_server(third.id, None, None, Some(true))
        .await
        .unwrap();
    assert!(edited.ip_identifiers);
    assert_eq!(edited.name, "third");
    assert_eq!(s.acme_server(third.id).await.unwrap(), edited);
}

async fn acme_accounts_keep_one_global_default_on_the_default_server(t: &TestStore) {
    let s = t.store.as_ref();
    let default = s
        .create_acme_server(new_server("main", true))
        .await
        .unwrap();
    let other = s
        .create_acme_server(new_server("side", false))
        .await
        .unwrap();
    let a = s
        .create_acme_account(new_account(default.id))
        .await
        .unwrap();
    assert_eq!(
        a.contact.as_deref(),
        Some("ops@example.com"),
        "mailto: is stripped"
    );
    assert!(a.key.is_active && a.is_active && !a.is_global_default);
    let b = s
        .create_acme_account(new_account(default.id))
        .await
        .unwrap();
    let c = s.create_acme_account(new_account(other.id)).await.unwrap();
    assert_eq!(s.acme_account(a.id).await.unwrap(), a);

    // A key belongs to one account.
    let mut dup = new_account(default.id);
    dup.key = ParsedPrivateKey::from_pem(&a.key.key_pem).unwrap();
    assert!(matches!(
        s.create_acme_account(dup).await,
        Err(StoreError::Conflict(_))
    ));

    assert!(s.global_default_acme_account().await.unwrap().is_none());
    assert!(
        s.set_global_default_acme_account(a.id)
            .await
            .unwrap()
            .is_global_default
    );
    assert!(
        s.set_global_default_acme_account(b.id)
            .await
            .unwrap()
            .is_global_default
    );
    assert!(
        !s.acme_account(a.id).await.unwrap().is_global_default,
        "one global default"
    );
    assert_eq!(
        s.global_default_acme_account().await.unwrap().unwrap().id,
        b.id
    );
    assert_eq!(
        transition(s.set_global_default_acme_account(c.id).await.unwrap_err()),
        TransitionError::AccountNotOnDefaultServer
    );

    let page = s.list_acme_accounts(Page::new(1, 2)).await.unwrap();
    assert_eq!(page.total_items, 3);
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.page_next(), Some(2));
    let page2 = s.list_acme_accounts(Page::new(2, 2)).await.unwrap();
    assert_eq!(page2.items.len(), 1);
    assert_eq!(page2.page_next(), None);
}

async fn startup_unsets_a_global_default_on_another_server(t: &TestStore) {
    let s = t.store.as_ref();
    let first = s
        .create_acme_server(new_server("first", true))
        .await
        .unwrap();
    let second = s
        .create_acme_server(new_server("second", false))
        .await
        .unwrap();
    let a = s.create_acme_account(new_account(first.id)).await.unwrap();
    s.set_global_default_acme_account(a.id).await.unwrap();
    assert_eq!(
        s.apply_startup_rules().await.unwrap(),
        StartupReport::default()
    );
    s.set_default_acme_server(second.id).await.unwrap();
    let report = s.apply_startup_rules().await.unwrap();
    assert_eq!(report.unset_global_defaults, vec![a.id]);
    assert!(!s.acme_account(a.id).await.unwrap().is_global_default);
    assert!(s.global_default_acme_account().await.unwrap().is_none());
}

async fn private_keys_are_deduplicated_by_public_key(t: &TestStore) {
    let s = t.store.as_ref();
    let key = ParsedPrivateKey::generate(KeyTechnology::EcP384).unwrap();
    let new = || NewPrivateKey {
        key: key.clone(),
        source: PrivateKeySource::Generated,
        cycle: PrivateKeyCycle::AccountDaily,
        acme_account_id_owner: None,
    };
    let first = s.insert_private_key(new()).await.unwrap();
    assert!(first.created);
    assert_eq!(first.id.key_technology, KeyTechnology::EcP384);
    assert!(
        (first.id.created_at - t.clock.now()).abs() < Duration::milliseconds(1),
        "rows are stamped by the store's clock"
    );
    let again = s.insert_private_key(new()).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.id.id, first.id.id);
    let fetched = s.private_key(first.id.id).await.unwrap();
    assert_eq!(fetched.key_pem, key.pem());
    assert!(fetched.is_usable());
    let off = s.set_private_key_active(fetched.id, false).await.unwrap();
    assert!(!off.is_active);
    assert_eq!(
        transition(
            s.set_private_key_active(fetched.id, false)
                .await
                .unwrap_err()
        ),
        TransitionError::AlreadyInactive
    );
    assert!(
        s.set_private_key_active(fetched.id, true)
            .await
            .unwrap()
            .is_active
    );
    let list = s.list_private_keys(Page::default()).await.unwrap();
    assert_eq!(list.total_items, 1);
}

async fn compromising_a_key_deactivates_its_certificates(t: &TestStore) {
    let s = t.store.as_ref();
    let pki = TestPki::new("compromise");
    let leaf = pki.issue(&["c.example.com"], KeyTechnology::EcP256);
    let out = import_leaf(t, &leaf, Some(&pki.chain_pem())).await;
    let domain = s
        .domain_by_name(&name("c.example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        domain.certificate_signed_id_latest_single,
        Some(out.certificate_signed.id)
    );

    let result = s
        .mark_private_key_compromised(out.private_key.id)
        .await
        .unwrap();
    assert!(result.private_key.is_compromised && !result.private_key.is_active);
    assert_eq!(
        result.deactivated_certificates,
        vec![out.certificate_signed.id]
    );
    let cert = s
        .certificate_signed(out.certificate_signed.id)
        .await
        .unwrap();
    assert!(!cert.is_active && cert.is_compromised_private_key && cert.is_deactivated);
    let domain = s.domain(domain.id).await.unwrap();
    assert_eq!(domain.certificate_signed_id_latest_single, None);
    assert_eq!(
        transition(
            s.mark_certificate_signed(cert.id, CertificateMark::Active)
                .await
                .unwrap_err()
        ),
        TransitionError::CertificateKeyCompromised
    );
    assert_eq!(
        transition(
            s.set_private_key_active(out.private_key.id, true)
                .await
                .unwrap_err()
        ),
        TransitionError::PrivateKeyCompromised
    );
    assert_eq!(
        transition(
            s.mark_private_key_compromised(out.private_key.id)
                .await
                .unwrap_err()
        ),
        TransitionError::PrivateKeyAlreadyCompromised
    );
}

async fn dns_delegations_are_stable_and_txt_values_come_and_go(t: &TestStore) {
    let s = t.store.as_ref();
    let label = s
        .dns_delegation_label("example.com", "first")
        .await
        .unwrap();
    assert_eq!(label, "first");
    assert_eq!(
        s.dns_delegation_label("example.com", "second")
            .await
            .unwrap(),
        "first",
        "the label, once given, stays"
    );
    assert!(s.dns_txt_values("first").await.unwrap().is_empty());
    // A wildcard and its apex share one name: two values, each once.
    for v in ["value-a", "value-b", "value-a"] {
        s.add_dns_txt("first", v).await.unwrap();
    }
    // Newest first: a value left behind never crowds out a new one.
    assert_eq!(
        s.dns_txt_values("first").await.unwrap(),
        ["value-b", "value-a"]
    );
    s.remove_dns_txt("first", "value-a").await.unwrap();
    assert_eq!(s.dns_txt_values("first").await.unwrap(), ["value-b"]);
    s.remove_dns_txt("first", "value-b").await.unwrap();
    assert!(s.dns_txt_values("first").await.unwrap().is_empty());
}

async fn domains_are_unique_and_marks_follow_the_rules(t: &TestStore) {
    let s = t.store.as_ref();
    let a = s.get_or_create_domain(&name("Example.COM")).await.unwrap();
    assert!(a.created && a.id.is_active);
    assert_eq!(a.id.domain_name, "example.com");
    let again = s.get_or_create_domain(&name("example.com.")).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.id.id, a.id.id);
    assert_eq!(s.domain(a.id.id).await.unwrap().domain_name, "example.com");
    assert_eq!(
        s.domain_by_name(&name("example.com"))
            .await
            .unwrap()
            .unwrap()
            .id,
        a.id.id
    );
    assert!(
        s.domain_by_name(&name("other.example.com"))
            .await
            .unwrap()
            .is_none()
    );
    let off = s.set_domain_active(a.id.id, false).await.unwrap();
    assert!(!off.is_active);
    assert_eq!(
        transition(s.set_domain_active(a.id.id, false).await.unwrap_err()),
        TransitionError::AlreadyInactive
    );
    assert!(s.set_domain_active(a.id.id, true).await.unwrap().is_active);
    // A new domain is validated by http-01 until set otherwise; the type
    // is kept and read back by every lookup.
    assert_eq!(a.id.challenge_type, AcmeChallengeType::Http01);
    let dns = s
        .set_domain_challenge_type(a.id.id, AcmeChallengeType::Dns01)
        .await
        .unwrap();
    assert_eq!(dns.challenge_type, AcmeChallengeType::Dns01);
    assert_eq!(
        s.domain_by_name(&name("example.com"))
            .await
            .unwrap()
            .unwrap()
            .challenge_type,
        AcmeChallengeType::Dns01
    );
    assert_eq!(
        s.domain(a.id.id).await.unwrap().challenge_type,
        AcmeChallengeType::Dns01
    );
    s.set_domain_challenge_type(a.id.id, AcmeChallengeType::Http01)
        .await
        .unwrap();
    for n in ["b.example.com", "a.example.com"] {
        s.get_or_create_domain(&name(n)).await.unwrap();
    }
    let page = s
        .list_domains(&Default::default(), Page::new(1, 2))
        .await
        .unwrap();
    assert_eq!(page.total_items, 3);
    let names: Vec<_> = page.items.iter().map(|d| d.domain_name.as_str()).collect();
    assert_eq!(
        names,
        vec!["a.example.com", "b.example.com"],
        "listed by name"
    );
}

async fn blocklist_records_names_once(t: &TestStore) {
    let s = t.store.as_ref();
    assert!(
        !s.is_domain_blocklisted(&name("always-fail.example.com"))
            .await
            .unwrap()
    );
    let first = s
        .add_blocklisted_domain(&name("always-fail.example.com"))
        .await
        .unwrap();
    assert!(first.created);
    let again = s
        .add_blocklisted_domain(&name("ALWAYS-fail.example.com"))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.id.id, first.id.id);
    assert!(
        s.is_domain_blocklisted(&name("always-fail.example.com"))
            .await
            .unwrap()
    );
    assert_eq!(s.list_blocklisted_domains().await.unwrap().len(), 1);

    // An import naming a blocklisted domain is refused.
    let pki = TestPki::new("block");
    let leaf = pki.issue(&["always-fail.example.com"], KeyTechnology::EcP256);
    let err = import_certificate(s, t.clock.as_ref(), leaf.upload(None))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Blocklisted(_)));
}

async fn fqdn_sets_are_identified_by_their_names(t: &TestStore) {
    let s = t.store.as_ref();
    let set = UniqueFqdnSet::parse(["www.example.com", "example.com"]).unwrap();
    let first = s.get_or_create_unique_fqdn_set(&set).await.unwrap();
    assert!(first.created);
    assert_eq!(first.id.set, set);
    assert_eq!(first.id.domain_ids.len(), 2);
    let reordered =
        UniqueFqdnSet::parse(["EXAMPLE.com", "www.example.com", "example.com"]).unwrap();
    let again = s.get_or_create_unique_fqdn_set(&reordered).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.id.id, first.id.id);
    let fetched = s.unique_fqdn_set(first.id.id).await.unwrap();
    assert_eq!(fetched, first.id);
    let d = s
        .domain_by_name(&name("example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fetched.domain_ids[0], d.id, "domain ids follow name order");
    assert_eq!(d.identifier_type, IdentifierType::Dns);
    let subset = UniqueFqdnSet::parse(["example.com"]).unwrap();
    let other = s.get_or_create_unique_fqdn_set(&subset).await.unwrap();
    assert!(other.created);
    assert_ne!(other.id.id, first.id.id);
    // An address is a name of its own type, in its canonical text.
    let with_ip = UniqueFqdnSet::parse(["example.com", "[2001:DB8::0:1]"]).unwrap();
    s.get_or_create_unique_fqdn_set(&with_ip).await.unwrap();
    let ip = s
        .domain_by_name(&name("2001:db8::1"))
        .await
        .unwrap()
        .expect("the address is recorded");
    assert_eq!(ip.domain_name, "2001:db8::1");
    assert_eq!(ip.identifier_type, IdentifierType::Ip);
    assert_eq!(s.domain(ip.id).await.unwrap(), ip);
}

async fn import_records_everything_and_is_idempotent(t: &TestStore) {
    let s = t.store.as_ref();
    let pki = TestPki::new("import");
    let leaf = pki.issue(&["www.example.com", "example.com"], KeyTechnology::Rsa2048);
    let chain = pki.chain_with_root_pem();
    let first = import_leaf(t, &leaf, Some(&chain)).await;
    assert!(first.certificate_signed.created);
    assert!(first.private_key.created);
    assert!(first.unique_fqdn_set.created);
    assert!(first.certificate_ca_chain.unwrap().created);
    assert_eq!(
        first.certificate_cas.len(),
        2,
        "intermediate and root recorded"
    );
    assert!(first.certificate_cas.iter().all(|c| c.created));
    assert_eq!(first.domains.len(), 2);
    assert!(!first.is_expired);

    let again = import_leaf(t, &leaf, Some(&chain)).await;
    assert_eq!(again.certificate_signed.id, first.certificate_signed.id);
    assert!(!again.certificate_signed.created);
    assert!(!again.private_key.created && !again.unique_fqdn_set.created);
    assert!(!again.certificate_ca_chain.unwrap().created);
    assert!(again.certificate_cas.iter().all(|c| !c.created));
    assert!(again.domains.iter().all(|d| !d.created));
    assert_eq!(again.private_key.id, first.private_key.id);

    let cert = s
        .certificate_signed(first.certificate_signed.id)
        .await
        .unwrap();
    assert_eq!(cert.cert_pem, leaf.certificate.pem());
    assert_eq!(cert.fingerprint_sha1, leaf.certificate.fingerprint_sha1);
    assert_eq!(cert.spki_sha256, leaf.key.spki_sha256);
    assert_eq!(cert.key_technology, KeyTechnology::Rsa2048);
    assert!(cert.is_active && !cert.is_single_domain_cert);
    assert_eq!(cert.not_after, leaf.certificate.not_after);
    assert_eq!(cert.private_key_id, first.private_key.id);
    let offers = s.certificate_chains(cert.id).await.unwrap();
    assert_eq!(offers.len(), 1);
    assert!(offers[0].is_upstream_default);
    assert_eq!(
        offers[0].chain.chain_pem,
        pki.intermediate.pem(),
        "no root in a chain"
    );

    let latest = s
        .latest_active_certificate_for_domain(&name("example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, cert.id);

    // An expired certificate imports, flagged.
    let now = OffsetDateTime::now_utc();
    let old = pki.issue_window(
        &["old.example.com"],
        KeyTechnology::EcP256,
        now - Duration::days(100),
        now - Duration::days(10),
    );
    let out = import_leaf(t, &old, None).await;
    assert!(out.is_expired && out.certificate_signed.created);
    assert!(out.certificate_ca_chain.is_none());
}

async fn concurrent_imports_of_one_certificate_end_in_one_row(t: &TestStore) {
    let pki = TestPki::new("race");
    let leaf = pki.issue(
        &["race.example.com", "www.race.example.com"],
        KeyTechnology::EcP256,
    );
    let chain = pki.chain_pem();
    let prepared = prepare_certificate_import(leaf.upload(Some(&chain)), t.clock.as_ref()).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = Arc::clone(&t.store);
        let p = prepared.clone();
        tasks.push(tokio::spawn(
            async move { store.import_certificate(&p).await },
        ));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap().expect("concurrent import succeeds"));
    }
    let ids: std::collections::BTreeSet<_> =
        outcomes.iter().map(|o| o.certificate_signed.id).collect();
    assert_eq!(ids.len(), 1, "one certificate row");
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o.certificate_signed.created)
            .count(),
        1
    );
    let counts = t.store.row_counts().await.unwrap();
    assert_eq!(counts["certificate_signed"], 1);
    assert_eq!(counts["private_key"], 1);
    assert_eq!(counts["domain"], 2);
    assert_eq!(counts["unique_fqdn_set"], 1);
    assert_eq!(counts["certificate_ca"], 1);
    assert_eq!(counts["certificate_ca_chain"], 1);
    assert_eq!(counts["certificate_signed_chain"], 1);
}

async fn concurrent_imports_sharing_domains_all_land(t: &TestStore) {
    let pki = TestPki::new("share");
    let chain = pki.chain_pem();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let leaf = pki.issue(
            &["shared.example.com", &format!("n{i}.example.com")],
            KeyTechnology::EcP256,
        );
        let prepared =
            prepare_certificate_import(leaf.upload(Some(&chain)), t.clock.as_ref()).unwrap();
        let store = Arc::clone(&t.store);
        tasks.push(tokio::spawn(async move {
            store.import_certificate(&prepared).await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("import");
    }
    let counts = t.store.row_counts().await.unwrap();
    assert_eq!(counts["certificate_signed"], 6);
    assert_eq!(counts["domain"], 7);
    assert_eq!(counts["certificate_ca"], 1);
    let shared = t
        .store
        .domain_by_name(&name("shared.example.com"))
        .await
        .unwrap()
        .unwrap();
    assert!(shared.certificate_signed_id_latest_multi.is_some());
}

async fn a_fault_mid_import_leaves_nothing_behind(t: &TestStore) {
    let pki = TestPki::new("fault");
    let chain = pki.chain_pem();
    for (i, point) in ["import:after_key", "import:after_certificate"]
        .into_iter()
        .enumerate()
    {
        let before = t.store.row_counts().await.unwrap();
        let leaf = pki.issue(&[&format!("fault{i}.example.com")], KeyTechnology::EcP256);
        t.store.inject_fault(point);
        let err = import_certificate(
            t.store.as_ref(),
            t.clock.as_ref(),
            leaf.upload(Some(&chain)),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, Error::Store(StoreError::InjectedFault(p)) if p == point),
            "{err:?}"
        );
        assert_eq!(
            t.store.row_counts().await.unwrap(),
            before,
            "after a fault at {point}"
        );
        // The same import then succeeds in full.
        let out = import_leaf(t, &leaf, Some(&chain)).await;
        assert!(out.certificate_signed.created && out.private_key.created);
        let after = t.store.row_counts().await.unwrap();
        assert_eq!(
            after["certificate_signed"],
            before["certificate_signed"] + 1
        );
    }
}

async fn a_fault_mid_compromise_leaves_nothing_changed(t: &TestStore) {
    let pki = TestPki::new("fault2");
    let leaf = pki.issue(&["f2.example.com"], KeyTechnology::EcP256);
    let out = import_leaf(t, &leaf, None).await;
    let before = t.store.row_counts().await.unwrap();
    t.store.inject_fault("compromise:after_key");
    assert!(matches!(
        t.store
            .mark_private_key_compromised(out.private_key.id)
            .await,
        Err(StoreError::InjectedFault(_))
    ));
    assert_eq!(t.store.row_counts().await.unwrap(), before);
    let key = t.store.private_key(out.private_key.id).await.unwrap();
    assert!(
        key.is_active && !key.is_compromised,
        "the key update was rolled back"
    );
    assert!(
        t.store
            .certificate_signed(out.certificate_signed.id)
            .await
            .unwrap()
            .is_active
    );
}

async fn bad_input_leaves_the_store_unchanged(t: &TestStore) {
    let s = t.store.as_ref();
    let pki = TestPki::new("badinput");
    let other = TestPki::new("stranger");
    let leaf = pki.issue(&["bad.example.com"], KeyTechnology::EcP256);
    let wrong = pki.issue(&["wrong.example.com"], KeyTechnology::EcP256);
    let before = t.store.row_counts().await.unwrap();
    let chain_ok = pki.chain_pem();
    let chain_bad = other.chain_pem();
    let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_string();
    let cases: Vec<(&str, CertificateUpload<'_>)> = vec![
        (
            "malformed PEM",
            CertificateUpload {
                certificate_pem: "not pem",
                private_key_pem: leaf.key.pem(),
                chain_pem: None,
            },
        ),
        (
            "DER garbage",
            CertificateUpload {
                certificate_pem: &garbage,
                private_key_pem: leaf.key.pem(),
                chain_pem: None,
            },
        ),
        (
            "wrong PEM type",
            CertificateUpload {
                certificate_pem: leaf.key.pem(),
                private_key_pem: leaf.key.pem(),
                chain_pem: None,
            },
        ),
        (
            "key mismatch",
            CertificateUpload {
                certificate_pem: leaf.certificate.pem(),
                private_key_pem: wrong.key.pem(),
                chain_pem: Some(&chain_ok),
            },
        ),
        (
            "unlinked chain",
            CertificateUpload {
                certificate_pem: leaf.certificate.pem(),
                private_key_pem: leaf.key.pem(),
                chain_pem: Some(&chain_bad),
            },
        ),
    ];
    for (label, upload) in cases {
        let err = import_certificate(s, t.clock.as_ref(), upload)
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            peter_core::ErrorKind::InvalidInput,
            "{label}: {err}"
        );
        assert_eq!(
            t.store.row_counts().await.unwrap(),
            before,
            "{label} changed the store"
        );
    }
    // An illegal transition changes nothing either.
    let out = import_leaf(t, &leaf, Some(&chain_ok)).await;
    let after_import = t.store.row_counts().await.unwrap();
    assert!(
        s.mark_certificate_signed(out.certificate_signed.id, CertificateMark::Active)
            .await
            .is_err()
    );
    assert_eq!(t.store.row_counts().await.unwrap(), after_import);
}

async fn certificate_marks_follow_the_rules_and_move_latest(t: &TestStore) {
    let s = t.store.as_ref();
    let pki = TestPki::new("marks");
    let leaf = pki.issue(&["m.example.com"], KeyTechnology::EcP256);
    let out = import_leaf(t, &leaf, None).await;
    let id = out.certificate_signed.id;
    let domain = out.domains[0].id;
    let off = s
        .mark_certificate_signed(id, CertificateMark::Inactive)
        .await
        .unwrap();
    assert!(!off.is_active && !off.is_deactivated && !off.is_revoked);
    assert_eq!(
        s.domain(domain)
            .await
            .unwrap()
            .certificate_signed_id_latest_single,
        None
    );
    assert!(
        s.latest_active_certificate_for_domain(&name("m.example.com"))
            .await
            .unwrap()
            .is_none()
    );
    let on = s
        .mark_certificate_signed(id, CertificateMark::Active)
        .await
        .unwrap();
    assert!(on.is_active);
    assert_eq!(
        s.domain(domain)
            .await
            .unwrap()
            .certificate_signed_id_latest_single,
        Some(id)
    );
    let revoked = s
        .mark_certificate_signed(id, CertificateMark::Revoked)
        .await
        .unwrap();
    assert!(revoked.is_revoked && revoked.is_deactivated && !revoked.is_active);
    assert_eq!(
        transition(
            s.mark_certificate_signed(id, CertificateMark::Active)
                .await
                .unwrap_err()
        ),
        TransitionError::CertificateRevoked
    );
    assert_eq!(
        s.domain(domain)
            .await
            .unwrap()
            .certificate_signed_id_latest_single,
        None
    );
}

async fn latest_active_certificate_prefers_the_one_expiring_last(t: &TestStore) {
    let s = t.store.as_ref();
    let pki = TestPki::new("latest");
    let now = OffsetDateTime::now_utc();
    let short = pki.issue_window(
        &["l.example.com"],
        KeyTechnology::EcP256,
        now - Duration::days(1),
        now + Duration::days(10),
    );
    let long = pki.issue_window(
        &["l.example.com"],
        KeyTechnology::EcP256,
        now - Duration::days(1),
        now + Duration::days(80),
    );
    let multi = pki.issue_window(
        &["l.example.com", "m.l.example.com"],
        KeyTechnology::EcP256,
        now - Duration::days(1),
        now + Duration::days(40),
    );
    let long_out = import_leaf(t, &long, None).await;
    let short_out = import_leaf(t, &short, None).await;
    let multi_out = import_leaf(t, &multi, None).await;
    let d = s
        .domain_by_name(&name("l.example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        d.certificate_signed_id_latest_single,
        Some(long_out.certificate_signed.id)
    );
    assert_eq!(
        d.certificate_signed_id_latest_multi,
        Some(multi_out.certificate_signed.id)
    );
    let latest = s
        .latest_active_certificate_for_domain(&name("l.example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, long_out.certificate_signed.id);
    s.mark_certificate_signed(long_out.certificate_signed.id, CertificateMark::Inactive)
        .await
        .unwrap();
    let latest = s
        .latest_active_certificate_for_domain(&name("l.example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, multi_out.certificate_signed.id);
    let d = s.domain(d.id).await.unwrap();
    assert_eq!(
        d.certificate_signed_id_latest_single,
        Some(short_out.certificate_signed.id)
    );
    assert!(
        s.latest_active_certificate_for_domain(&name("nothing.example.com"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn certificate_listings_filter_and_paginate(t: &TestStore) {
    let s = t.store.as_ref();
    let pki = TestPki::new("list");
    let now = OffsetDateTime::now_utc();
    let mut ids = Vec::new();
    for (i, days) in [5i64, 20, 60].iter().enumerate() {
        let leaf = pki.issue_window(
            &[&format!("l{i}.example.com")],
            KeyTechnology::EcP256,
            now - Duration::days(1),
            now + Duration::days(*days),
        );
        ids.push(import_leaf(t, &leaf, None).await.certificate_signed.id);
    }
    s.mark_certificate_signed(ids[0], CertificateMark::Inactive)
        .await
        .unwrap();
    let all = s
        .list_certificates_signed(CertificateFilter::all(), Page::default())
        .await
        .unwrap();
    assert_eq!(all.total_items, 3);
    assert_eq!(all.items[0].id, ids[2], "newest first");
    let active = s
        .list_certificates_signed(CertificateFilter::active(), Page::default())
        .await
        .unwrap();
    assert_eq!(active.total_items, 2);
    let inactive = s
        .list_certificates_signed(CertificateFilter::inactive(), Page::default())
        .await
        .unwrap();
    assert_eq!(
        inactive.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![ids[0]]
    );
    let expiring = s
        .list_certificates_signed(
            CertificateFilter::expiring_before(now + Duration::days(30)),
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        expiring.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![ids[1]]
    );
    let page = s
        .list_certificates_signed(CertificateFilter::all(), Page::new(2, 2))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.page_next(), None);
}

async fn ca_certificates_chains_and_preferences(t: &TestStore) {
    let s = t.store.as_ref();
    let pki = TestPki::new("cas");
    let root = s.insert_certificate_ca(&pki.root).await.unwrap();
    assert!(root.created && root.id.is_trusted_root);
    assert!(!s.insert_certificate_ca(&pki.root).await.unwrap().created);
    let inter = s.insert_certificate_ca(&pki.intermediate).await.unwrap();
    assert!(!inter.id.is_trusted_root);
    assert_eq!(
        s.certificate_ca(root.id.id).await.unwrap().cert_pem,
        pki.root.pem()
    );
    assert_eq!(
        s.list_certificate_cas(Page::default())
            .await
            .unwrap()
            .total_items,
        2
    );

    let leaf = pki.issue(&["ca.example.com"], KeyTechnology::EcP256);
    let out = import_leaf(t, &leaf, Some(&pki.chain_pem())).await;
    let chain_id = out.certificate_ca_chain.unwrap().id;
    let chain = s.certificate_ca_chain(chain_id).await.unwrap();
    assert_eq!(chain.certificate_ca_ids, vec![inter.id.id]);
    assert_eq!(
        s.list_certificate_ca_chains(Page::default())
            .await
            .unwrap()
            .items,
        vec![chain]
    );

    assert!(s.ca_preferences().await.unwrap().is_empty());
    s.add_ca_preference(inter.id.id).await.unwrap();
    let prefs = s.add_ca_preference(root.id.id).await.unwrap();
    assert_eq!(
        prefs.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![inter.id.id, root.id.id]
    );
    let prefs = s.add_ca_preference(inter.id.id).await.unwrap();
    assert_eq!(prefs.len(), 2, "adding twice is a no-op");
    let prefs = s.remove_ca_preference(inter.id.id).await.unwrap();
    assert_eq!(
        prefs.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![root.id.id]
    );
    assert!(matches!(
        s.remove_ca_preference(inter.id.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.add_ca_preference(CertificateCaId(9999)).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn alerts_are_recorded_once_per_period_and_track_their_tries(t: &TestStore) {
    let s = t.store.as_ref();
    let now = t.clock.now();
    let new = |target: &str| NewAlertDelivery {
        condition: AlertCondition::RenewalFailed,
        subject: "certificate:7".into(),
        certificate_signed_id: Some(CertificateSignedId(7)),
        acme_account_id: None,
        target: target.into(),
        payload: r#"{"condition":"renewal_failed"}"#.into(),
    };
    let day_ago = now - Duration::days(1);
    let first = s
        .record_alert(new("webhook"), day_ago)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.status, AlertStatus::Pending);
    // The same subject, condition and target within the period: not again.
    assert!(
        s.record_alert(new("webhook"), day_ago)
            .await
            .unwrap()
            .is_none()
    );
    // Another target, or a period that starts after it: recorded.
    assert!(
        s.record_alert(new("exec"), day_ago)
            .await
            .unwrap()
            .is_some()
    );
    let failed = s
        .record_alert_attempt(first.id, false, Some(&"x".repeat(5000)))
        .await
        .unwrap();
    assert_eq!((failed.status, failed.attempts), (AlertStatus::Failed, 1));
    assert_eq!(failed.last_error.unwrap().len(), 1000, "errors are bounded");
    let undelivered = s.undelivered_alerts(day_ago, 10).await.unwrap();
    assert_eq!(undelivered.len(), 2);
    let delivered = s.record_alert_attempt(first.id, true, None).await.unwrap();
    assert_eq!(
        (delivered.status, delivered.attempts),
        (AlertStatus::Delivered, 2)
    );
    assert!(delivered.delivered_at.is_some() && delivered.last_error.is_none());
    assert_eq!(s.undelivered_alerts(day_ago, 10).await.unwrap().len(), 1);
    assert!(
        s.undelivered_alerts(now + Duration::hours(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.record_alert(new("webhook"), now + Duration::hours(1))
            .await
            .unwrap()
            .is_some()
    );
    let listed = s.list_alerts(Page::new(1, 10)).await.unwrap();
    assert_eq!(listed.total_items, 3);
    assert!(listed.items[0].id > listed.items[2].id, "newest first");
}

async fn acme_and_operations_events_are_recorded(t: &TestStore) {
    let s = t.store.as_ref();
    let logged = s
        .record_acme_event(NewAcmeEventLog {
            event: Some(AcmeEvent::NewOrder),
            endpoint: "https://ca.test/new-order".into(),
            http_status: Some(429),
            problem_type: Some("urn:ietf:params:acme:error:rateLimited".into()),
            problem_detail: Some("slow down".into()),
            retry_after_seconds: Some(60),
            duration_ms: 12,
            acme_order_id: Some(AcmeOrderId(7)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(logged.event, AcmeEvent::NewOrder);
    assert_eq!(logged.retry_after_seconds, Some(60));
    s.record_acme_event(NewAcmeEventLog {
        event: Some(AcmeEvent::OrderLocation),
        endpoint: "https://ca.test/order/1".into(),
        http_status: Some(200),
        duration_ms: 3,
        acme_order_id: Some(AcmeOrderId(8)),
        ..Default::default()
    })
    .await
    .unwrap();
    let for_order = s.acme_events_for_order(AcmeOrderId(7)).await.unwrap();
    assert_eq!(for_order, vec![logged.clone()]);
    let page = s.list_acme_events(Page::default()).await.unwrap();
    assert_eq!(page.total_items, 2);
    assert_eq!(page.items[1], logged, "newest first");

    let parent = s
        .record_operations_event(
            OperationsEventType::CertificateImport,
            serde_json::json!({"count": 2}),
            None,
        )
        .await
        .unwrap();
    let child = s
        .record_operations_event(
            OperationsEventType::DomainInsert,
            serde_json::json!({"domain.id": 1}),
            Some(parent.id),
        )
        .await
        .unwrap();
    assert_eq!(child.parent_id, Some(parent.id));
    assert_eq!(parent.payload["count"], 2);
    let ops = s.list_operations_events(Page::default()).await.unwrap();
    assert_eq!(ops.items[0], child);
}

/// Selecting every column of every entity fails on a column the migrations
/// do not create, even on an empty table.
async fn every_table_matches_its_entity(t: &TestStore) {
    use peter_store::entities::*;
    use sea_orm::EntityTrait;
    let db = t.store.connection();
    macro_rules! check {
        ($($m:ident),*) => {$(
            $m::Entity::find().all(db).await.unwrap_or_else(|e| panic!("{}: {e}", stringify!($m)));
        )*};
    }
    check!(
        acme_server,
        acme_account,
        acme_account_key,
        private_key,
        domain,
        domain_blocklisted,
        unique_fqdn_set,
        unique_fqdn_set_domain,
        certificate_request,
        certificate_signed,
        certificate_ca,
        certificate_ca_chain,
        certificate_signed_chain,
        certificate_ca_preference,
        acme_order,
        acme_authorization,
        acme_order_authorization,
        acme_challenge,
        acme_challenge_poll,
        acme_challenge_unknown_poll,
        acme_event_log,
        alert_delivery,
        operations_event,
        renewal_state
    );
    // Migrating twice is harmless.
    t.store.migrate().await.unwrap();
}

async fn unknown_ids_are_not_found(t: &TestStore) {
    let s = t.store.as_ref();
    let nf = |r: Result<(), StoreError>| matches!(r, Err(StoreError::NotFound { .. }));
    assert!(nf(s.acme_server(AcmeServerId(42)).await.map(|_| ())));
    assert!(nf(s
        .set_default_acme_server(AcmeServerId(42))
        .await
        .map(|_| ())));
    assert!(nf(s.acme_account(AcmeAccountId(42)).await.map(|_| ())));
    assert!(nf(s
        .create_acme_account(new_account(AcmeServerId(42)))
        .await
        .map(|_| ())));
    assert!(nf(s.private_key(PrivateKeyId(42)).await.map(|_| ())));
    assert!(nf(s
        .mark_private_key_compromised(PrivateKeyId(42))
        .await
        .map(|_| ())));
    assert!(nf(s.domain(DomainId(42)).await.map(|_| ())));
    assert!(nf(s
        .set_domain_active(DomainId(42), false)
        .await
        .map(|_| ())));
    assert!(nf(s.unique_fqdn_set(UniqueFqdnSetId(42)).await.map(|_| ())));
    assert!(nf(s
        .certificate_signed(CertificateSignedId(42))
        .await
        .map(|_| ())));
    assert!(nf(s
        .mark_certificate_signed(CertificateSignedId(42), CertificateMark::Inactive)
        .await
        .map(|_| ())));
    assert!(nf(s
        .certificate_chains(CertificateSignedId(42))
        .await
        .map(|_| ())));
    assert!(nf(s.certificate_ca(CertificateCaId(42)).await.map(|_| ())));
    assert!(nf(s
        .certificate_ca_chain(CertificateCaChainId(42))
        .await
        .map(|_| ())));
}

async fn orders_authorizations_challenges_and_polls(t: &TestStore) {
    use peter_core::model::rules::ServerChallenge;
    let s = t.store.as_ref();
    let server = s.create_acme_server(new_server("ca", true)).await.unwrap();
    let account = s.create_acme_account(new_account(server.id)).await.unwrap();
    let set = UniqueFqdnSet::parse(["o.example.com"]).unwrap();
    let set = s.get_or_create_unique_fqdn_set(&set).await.unwrap().id;
    let order = s
        .create_acme_order(NewAcmeOrder {
            acme_account_id: account.id,
            unique_fqdn_set_id: set.id,
            processing_strategy: AcmeOrderProcessingStrategy::ProcessMulti,
            order_type: AcmeOrderType::New,
            private_key_cycle: PrivateKeyCycle::SingleUse,
            private_key_strategy: PrivateKeyStrategy::DeferredAssociate,
            private_key_id_requested: None,
            acme_order_id_retry_of: None,
            certificate_signed_id_renewal_of: None,
            profile: Some("default".into()),
            replaces: None,
            challenge_types: Default::default(),
        })
        .await
        .unwrap();
    assert_eq!(order.status, AcmeOrderStatus::Discovered);
    assert_eq!(
        order.processing_status,
        AcmeOrderProcessingStatus::CreatedLocal
    );
    assert_eq!(order.is_processing, Some(true));
    let server_order = ServerOrder {
        url: "https://ca.test/order/1".into(),
        status: AcmeOrderStatus::Pending,
        authorizations: vec!["https://ca.test/authz/1".into()],
        finalize_url: "https://ca.test/order/1/finalize".into(),
        certificate_url: None,
        expires: None,
        error: None,
        retry_after_seconds: None,
    };
    let synced = s.sync_acme_order(order.id, &server_order).await.unwrap();
    assert_eq!(synced.status, AcmeOrderStatus::Pending);
    assert_eq!(
        synced.processing_status,
        AcmeOrderProcessingStatus::CreatedAcme
    );
    // Syncing twice keeps one authorization.
    s.sync_acme_order(order.id, &server_order).await.unwrap();
    let auths = s.acme_authorizations_for_order(order.id).await.unwrap();
    assert_eq!(auths.len(), 1);
    assert_eq!(auths[0].status, AcmeAuthorizationStatus::Discovered);
    assert_eq!(s.acme_authorization(auths[0].id).await.unwrap(), auths[0]);

    let challenge = ServerChallenge {
        url: "https://ca.test/chall/1".into(),
        challenge_type: AcmeChallengeType::Http01,
        token: "tok-1".into(),
        status: AcmeChallengeStatus::Pending,
    };
    let server_auth = ServerAuthorization {
        url: auths[0].authorization_url.clone(),
        status: AcmeAuthorizationStatus::Pending,
        identifier: "o.example.com".into(),
        wildcard: false,
        expires: None,
        challenges: vec![challenge.clone()],
    };
    let upsert = vec![ChallengeUpsert {
        challenge: challenge.clone(),
        key_authorization: Some("tok-1.thumb".into()),
    }];
    let auth = s
        .sync_acme_authorization(auths[0].id, &server_auth, &upsert)
        .await
        .unwrap();
    assert_eq!(auth.status, AcmeAuthorizationStatus::Pending);
    let challenges = s.acme_challenges_for_authorization(auth.id).await.unwrap();
    assert_eq!(challenges.len(), 1);
    assert_eq!(
        s.acme_challenge(challenges[0].id).await.unwrap(),
        challenges[0]
    );

    // The public route's lookup: host and token, case-insensitive host.
    let answer = s.challenge_answer("O.Example.COM", "tok-1").await.unwrap();
    assert_eq!(answer, Some((challenges[0].id, "tok-1.thumb".to_string())));
    assert_eq!(
        s.challenge_answer("other.example.com", "tok-1")
            .await
            .unwrap(),
        None
    );
    // Poll tallies add up per challenge and address, and per host and token;
    // only the most recently seen unknown rows are kept.
    let t = |m: i64| time::OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(m);
    let known = |ip: Option<&str>, count, first, last| KnownPollTally {
        challenge: challenges[0].id,
        remote_ip: ip.map(str::to_string),
        count,
        first: t(first),
        last: t(last),
    };
    let unknown = |token: &str, count, first, last| UnknownPollTally {
        host: "nobody.example.com".into(),
        token: token.into(),
        remote_ip: None,
        count,
        first: t(first),
        last: t(last),
    };
    s.record_polls(&PollTallies {
        known: vec![known(Some("127.0.0.1"), 3, 1, 2)],
        unknown: vec![unknown("x", 2, 1, 1), unknown("y", 1, 2, 2)],
        unknown_rows: 10,
    })
    .await
    .unwrap();
    s.record_polls(&PollTallies {
        known: vec![known(Some("127.0.0.1"), 2, 5, 6), known(None, 1, 6, 6)],
        unknown: vec![unknown("x", 5, 7, 8), unknown("z", 1, 3, 3)],
        unknown_rows: 2,
    })
    .await
    .unwrap();
    let polls = s.challenge_polls(challenges[0].id).await.unwrap();
    assert_eq!(polls.len(), 2);
    let from_ip = polls
        .iter()
        .find(|p| p.remote_ip_address.as_deref() == Some("127.0.0.1"))
        .unwrap();
    assert_eq!(
        (
            from_ip.poll_count,
            from_ip.polled_at,
            from_ip.last_polled_at
        ),
        (5, t(1), t(6))
    );
    let kept = s
        .list_unknown_challenge_polls(Page::default())
        .await
        .unwrap();
    assert_eq!(kept.total_items, 2, "y (last seen at 2) was pruned");
    assert_eq!(kept.items[0].token, "x");
    assert_eq!(kept.items[0].poll_count, 7);
    assert_eq!(kept.items[0].last_polled_at, t(8));
    assert_eq!(kept.items[1].token, "z");

    // Deactivation: the server lists no challenge, so the stored one is *410*.
    let deactivated = ServerAuthorization {
        status: AcmeAuthorizationStatus::Deactivated,
        challenges: vec![],
        ..server_auth.clone()
    };
    let auth = s
        .sync_acme_authorization(auth.id, &deactivated, &[])
        .await
        .unwrap();
    assert_eq!(auth.status, AcmeAuthorizationStatus::Deactivated);
    assert!(auth.deactivated_at.is_some());
    let gone = s.acme_challenges_for_authorization(auth.id).await.unwrap();
    assert_eq!(gone[0].status, AcmeChallengeStatus::Gone);
    let back = s
        .set_acme_challenge_status(gone[0].id, AcmeChallengeStatus::Pending)
        .await
        .unwrap();
    assert_eq!(back.status, AcmeChallengeStatus::Pending);

    // A blocklisted host is never answered.
    s.add_blocklisted_domain(&name("o.example.com"))
        .await
        .unwrap();
    assert_eq!(
        s.challenge_answer("o.example.com", "tok-1").await.unwrap(),
        None
    );

    let updated = s
        .update_acme_order(
            order.id,
            AcmeOrderUpdate {
                status: Some(AcmeOrderStatus::Invalid),
                is_processing: Some(None),
                problem: Some("{\"type\":\"x\"}".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.status, AcmeOrderStatus::Invalid);
    assert_eq!(updated.is_processing, None);
    assert_eq!(s.acme_order(order.id).await.unwrap(), updated);
    let active = s
        .list_acme_orders(&OrderFilter::active(), Page::default())
        .await
        .unwrap();
    assert_eq!(active.total_items, 0);
    let finished = s
        .list_acme_orders(&OrderFilter::finished(), Page::default())
        .await
        .unwrap();
    assert_eq!(finished.total_items, 1);
    assert_eq!(
        s.list_acme_orders(&OrderFilter::all(), Page::default())
            .await
            .unwrap()
            .total_items,
        1
    );
}

async fn certificate_requests_keys_by_cycle_and_upstream_marks(t: &TestStore) {
    let s = t.store.as_ref();
    let server = s.create_acme_server(new_server("ca2", true)).await.unwrap();
    let account = s.create_acme_account(new_account(server.id)).await.unwrap();
    let key = ParsedPrivateKey::generate(KeyTechnology::EcP256).unwrap();
    let stored = s
        .insert_private_key(NewPrivateKey {
            key: key.clone(),
            source: PrivateKeySource::Generated,
            cycle: PrivateKeyCycle::AccountDaily,
            acme_account_id_owner: Some(account.id),
        })
        .await
        .unwrap()
        .id;
    assert_eq!(
        s.latest_private_key_for_cycle(PrivateKeyCycle::AccountDaily, Some(account.id))
            .await
            .unwrap()
            .map(|k| k.id),
        Some(stored.id)
    );
    assert!(
        s.latest_private_key_for_cycle(PrivateKeyCycle::AccountDaily, None)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.private_key_by_spki(&key.spki_sha256)
            .await
            .unwrap()
            .map(|k| k.id),
        Some(stored.id)
    );
    assert!(s.private_key_by_spki("00").await.unwrap().is_none());
    assert!(
        s.latest_private_key_for_cycle(PrivateKeyCycle::GlobalDaily, None)
            .await
            .unwrap()
            .is_none()
    );

    let set = UniqueFqdnSet::parse(["csr.example.com"]).unwrap();
    let record = s.get_or_create_unique_fqdn_set(&set).await.unwrap().id;
    let csr = peter_core::formats::ParsedCsr::build(&key, &set).unwrap();
    let first = s
        .insert_certificate_request(
            &csr,
            CertificateRequestSource::AcmeOrder,
            Some(stored.id),
            record.id,
        )
        .await
        .unwrap();
    assert!(first.created);
    let again = s
        .insert_certificate_request(
            &csr,
            CertificateRequestSource::AcmeOrder,
            Some(stored.id),
            record.id,
        )
        .await
        .unwrap();
    assert!(!again.created && again.id.id == first.id.id);
    assert_eq!(
        s.certificate_request(first.id.id).await.unwrap().csr_pem,
        csr.pem()
    );

    let pki = TestPki::new("upstream");
    let leaf = pki.issue(&["csr.example.com"], KeyTechnology::EcP256);
    let out = import_leaf(t, &leaf, None).await;
    assert!(
        s.acme_order_for_certificate(out.certificate_signed.id)
            .await
            .unwrap()
            .is_none()
    );
    let now = OffsetDateTime::now_utc();
    let window = RenewalWindow {
        start: now + Duration::days(50),
        end: now + Duration::days(52),
        retry_after: now + Duration::hours(6),
        explanation_url: Some("https://ca.example/incident".into()),
        fetched_at: now,
    };
    let cert = s
        .set_certificate_renewal_window(out.certificate_signed.id, &window)
        .await
        .unwrap();
    assert!((cert.ari_window_start.unwrap() - window.start).abs() < Duration::milliseconds(1));
    assert_eq!(
        cert.ari_explanation_url.as_deref(),
        Some("https://ca.example/incident")
    );
    assert!((cert.ari_checked_at.unwrap() - now).abs() < Duration::milliseconds(1));
    let revoked = s
        .set_certificate_revoked_upstream(out.certificate_signed.id)
        .await
        .unwrap();
    assert!(revoked.revoked_upstream_at.is_some());
    assert!(
        !revoked.is_active && revoked.is_revoked && revoked.is_deactivated,
        "a certificate revoked at the CA carries the permanent local mark too"
    );
    let domain = s
        .domain_by_name(&"csr.example.com".parse().unwrap())
        .await
        .unwrap();
    assert!(
        domain.is_none_or(|d| d.certificate_signed_id_latest_single
            != Some(out.certificate_signed.id)
            && d.certificate_signed_id_latest_multi != Some(out.certificate_signed.id)),
        "no domain is served a certificate revoked at the CA"
    );
    assert_eq!(
        transition(
            s.set_certificate_revoked_upstream(out.certificate_signed.id)
                .await
                .unwrap_err()
        ),
        TransitionError::AlreadyRevokedUpstream
    );
}

async fn account_keys_rotate_and_accounts_deactivate(t: &TestStore) {
    let s = t.store.as_ref();
    let server = s.create_acme_server(new_server("rot", true)).await.unwrap();
    let account = s.create_acme_account(new_account(server.id)).await.unwrap();
    s.set_global_default_acme_account(account.id).await.unwrap();
    let url = s
        .set_acme_account_url(account.id, "https://rot.test/acct/9")
        .await
        .unwrap();
    assert_eq!(url.account_url.as_deref(), Some("https://rot.test/acct/9"));
    let new_key = ParsedPrivateKey::generate(KeyTechnology::EcP256).unwrap();
    let rotated = s
        .rotate_acme_account_key(account.id, &new_key, AcmeAccountKeySource::Generated)
        .await
        .unwrap();
    assert_eq!(rotated.key.spki_sha256, new_key.spki_sha256);
    assert_ne!(rotated.key.id, account.key.id);
    assert_eq!(
        t.store.row_counts().await.unwrap()["acme_account_key"],
        2,
        "the old key is kept"
    );
    let gone = s.deactivate_acme_account(account.id).await.unwrap();
    assert!(!gone.is_active && !gone.is_global_default && gone.deactivated_at.is_some());
    assert_eq!(
        transition(s.deactivate_acme_account(account.id).await.unwrap_err()),
        TransitionError::AccountDeactivated
    );
    assert_eq!(
        transition(
            s.set_global_default_acme_account(account.id)
                .await
                .unwrap_err()
        ),
        TransitionError::AccountDeactivated
    );
}

async fn domain_publications_pick_the_served_certificate(t: &TestStore) {
    let s = t.store.as_ref();
    let pki = TestPki::new("pub");
    let multi = pki.issue(&["a.pub.example", "b.pub.example"], KeyTechnology::EcP256);
    let single = pki.issue(&["a.pub.example"], KeyTechnology::EcP256);
    let m = import_leaf(t, &multi, Some(&pki.chain_pem())).await;
    let one = import_leaf(t, &single, None).await;
    let all = s.domain_publications(DomainId(0), 100, None).await.unwrap();
    assert_eq!(all.len(), 2);
    let a = all
        .iter()
        .find(|p| p.domain_name == "a.pub.example")
        .unwrap();
    assert_eq!(
        a.certificate_signed_id, m.certificate_signed.id,
        "multi preferred"
    );
    assert_eq!(
        a.certificate_ca_chain_id,
        m.certificate_ca_chain.map(|c| c.id)
    );
    assert_eq!(a.key_pem, multi.key.pem());
    let first = s.domain_publications(DomainId(0), 1, None).await.unwrap();
    let rest = s
        .domain_publications(first[0].domain_id, 10, None)
        .await
        .unwrap();
    assert_eq!(
        first.len() + rest.len(),
        2,
        "keyset pages cover everything once"
    );
    s.mark_certificate_signed(m.certificate_signed.id, CertificateMark::Inactive)
        .await
        .unwrap();
    let a = s
        .domain_publications(DomainId(0), 10, Some(&name("a.pub.example")))
        .await
        .unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].certificate_signed_id, one.certificate_signed.id);
    assert_eq!(a[0].certificate_ca_chain_id, None);
    assert!(
        s.domain_publications(DomainId(0), 10, Some(&name("b.pub.example")))
            .await
            .unwrap()
            .is_empty()
    );
    let b = s
        .domain_by_name(&name("a.pub.example"))
        .await
        .unwrap()
        .unwrap();
    s.set_domain_active(b.id, false).await.unwrap();
    assert!(
        s.domain_publications(DomainId(0), 10, Some(&name("a.pub.example")))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn renewal_leases_are_exclusive_and_expire(t: &TestStore) {
    let s = t.store.as_ref();
    let set = s
        .get_or_create_unique_fqdn_set(&UniqueFqdnSet::parse(["lease.example.com"]).unwrap())
        .await
        .unwrap()
        .id
        .id;
    // Six contenders at once: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..6 {
        let store = Arc::clone(&t.store);
        tasks.push(tokio::spawn(async move {
            store
                .try_acquire_renewal_lease(set, &format!("node-{i}"), Duration::minutes(5))
                .await
                .unwrap()
                .is_some()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    // Once it expires, another node takes it; the holder may renew its own.
    t.clock.advance(Duration::minutes(6));
    assert!(
        s.try_acquire_renewal_lease(set, "late", Duration::minutes(5))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.try_acquire_renewal_lease(set, "late", Duration::minutes(5))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.try_acquire_renewal_lease(set, "other", Duration::minutes(5))
            .await
            .unwrap()
            .is_none()
    );
    s.release_renewal_lease(set, "other").await.unwrap();
    assert!(
        s.try_acquire_renewal_lease(set, "other", Duration::minutes(5))
            .await
            .unwrap()
            .is_none(),
        "only the holder releases"
    );
    s.release_renewal_lease(set, "late").await.unwrap();
    assert!(
        s.try_acquire_renewal_lease(set, "other", Duration::minutes(5))
            .await
            .unwrap()
            .is_some()
    );

    assert_eq!(s.renewal_backoff(set).await.unwrap(), None);
    let later = t.clock.now() + Duration::hours(1);
    s.record_renewal_failure(set, later, "rateLimited")
        .await
        .unwrap();
    s.record_renewal_failure(set, later, "rateLimited")
        .await
        .unwrap();
    let (failures, at) = s.renewal_backoff(set).await.unwrap().unwrap();
    assert_eq!(failures, 2);
    assert!((at - later).abs() < Duration::milliseconds(1));
    s.clear_renewal_failures(set).await.unwrap();
    assert_eq!(s.renewal_backoff(set).await.unwrap(), None);
}

async fn writes_under_a_lost_lease_are_fenced(t: &TestStore) {
    use peter_core::ports::under_fence;
    let s = t.store.as_ref();
    let set = s
        .get_or_create_unique_fqdn_set(&UniqueFqdnSet::parse(["fence.example.com"]).unwrap())
        .await
        .unwrap()
        .id
        .id;
    let first = s
        .try_acquire_renewal_lease(set, "node-a", Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    // A write under a held lease lands, and extends the lease.
    t.clock.advance(Duration::minutes(4));
    under_fence(
        first.clone(),
        s.get_or_create_domain(&name("a1.fence.example.com")),
    )
    .await
    .unwrap();
    t.clock.advance(Duration::minutes(4));
    assert!(
        s.try_acquire_renewal_lease(set, "node-b", Duration::minutes(5))
            .await
            .unwrap()
            .is_none(),
        "the write at minute 4 extended the lease past minute 8"
    );
    // Past its expiry another node takes it, with a greater token; the first
    // holder's writes now fail and change nothing.
    t.clock.advance(Duration::minutes(6));
    let second = s
        .try_acquire_renewal_lease(set, "node-b", Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert!(second.token > first.token);
    let stale = under_fence(
        first.clone(),
        s.get_or_create_domain(&name("a2.fence.example.com")),
    )
    .await
    .unwrap_err();
    assert!(matches!(stale, StoreError::Fenced(_)), "{stale:?}");
    assert!(
        s.domain_by_name(&name("a2.fence.example.com"))
            .await
            .unwrap()
            .is_none()
    );
    under_fence(
        second.clone(),
        s.get_or_create_domain(&name("b1.fence.example.com")),
    )
    .await
    .unwrap();
    // A holder granted its own lease again holds a new token: the old one is stale.
    let again = s
        .try_acquire_renewal_lease(set, "node-b", Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert!(again.token > second.token);
    assert!(matches!(
        under_fence(
            second,
            s.get_or_create_domain(&name("b2.fence.example.com"))
        )
        .await,
        Err(StoreError::Fenced(_))
    ));
    // An expired lease nobody took is lost all the same.
    t.clock.advance(Duration::minutes(6));
    assert!(matches!(
        under_fence(again, s.get_or_create_domain(&name("b3.fence.example.com"))).await,
        Err(StoreError::Fenced(_))
    ));
}

async fn the_config_change_feed_names_what_changed(t: &TestStore) {
    let s = t.store.as_ref();
    let names = |c: &ConfigChanges| -> Vec<Option<String>> {
        c.entries.iter().map(|(_, n)| n.clone()).collect()
    };
    let start = s.config_changes_since(None, 100).await.unwrap();
    assert!(start.entries.is_empty());
    // An import moves the domain's latest certificate: the feed says so,
    // written in the import's own transaction.
    let pki = TestPki::new("feed");
    let leaf = pki.issue(&["feed.example.com"], KeyTechnology::EcP256);
    import_leaf(t, &leaf, Some(&pki.chain_pem())).await;
    let after_import = s
        .config_changes_since(Some(start.latest), 100)
        .await
        .unwrap();
    assert!(after_import.latest > start.latest);
    assert_eq!(
        names(&after_import),
        vec![Some("feed.example.com".to_string())]
    );
    // Nothing new: nothing named, the position stays.
    let quiet = s
        .config_changes_since(Some(after_import.latest), 100)
        .await
        .unwrap();
    assert_eq!(quiet.latest, after_import.latest);
    assert!(quiet.entries.is_empty());
    // A domain mark, a recorded change, "everything", and more than the limit.
    let domain = s
        .domain_by_name(&name("feed.example.com"))
        .await
        .unwrap()
        .unwrap();
    s.set_domain_active(domain.id, false).await.unwrap();
    s.record_config_change(Some(&[name("other.example.com")]))
        .await
        .unwrap();
    let two = s
        .config_changes_since(Some(quiet.latest), 100)
        .await
        .unwrap();
    assert_eq!(
        names(&two),
        vec![
            Some("feed.example.com".to_string()),
            Some("other.example.com".to_string())
        ]
    );
    assert!(!two.truncated);
    let limited = s.config_changes_since(Some(quiet.latest), 1).await.unwrap();
    assert!(limited.truncated);
    assert_eq!(
        limited.latest, two.latest,
        "a truncated read jumps to the end"
    );
    s.record_config_change(None).await.unwrap();
    let all = s.config_changes_since(Some(two.latest), 100).await.unwrap();
    assert_eq!(names(&all), vec![None]);
    // Pruning forgets old entries only.
    assert_eq!(
        s.prune_config_changes(t.clock.now() - Duration::minutes(1))
            .await
            .unwrap(),
        0
    );
    t.clock.advance(Duration::minutes(2));
    assert!(
        s.prune_config_changes(t.clock.now() - Duration::minutes(1))
            .await
            .unwrap()
            >= 4
    );
}

async fn domain_config_reads_everything_in_one_source(t: &TestStore) {
    use peter_core::services::publish::domain_config;
    let s = t.store.as_ref();
    let pki = TestPki::new("config-source");
    let single = pki.issue(&["cfg.example.com"], KeyTechnology::EcP256);
    let multi = pki.issue(
        &["cfg.example.com", "www.cfg.example.com"],
        KeyTechnology::EcP256,
    );
    let one = import_leaf(t, &single, Some(&pki.chain_pem())).await;
    let two = import_leaf(t, &multi, Some(&pki.chain_with_root_pem())).await;

    let cfg = domain_config(s, "CFG.example.com", false).await.unwrap();
    let latest_single = cfg.latest_single.unwrap();
    let latest_multi = cfg.latest_multi.unwrap();
    assert_eq!(latest_single.id, one.certificate_signed.id.to_string());
    assert_eq!(latest_multi.id, two.certificate_signed.id.to_string());
    assert_eq!(
        latest_single.certificate.pem.as_deref(),
        Some(single.certificate.pem())
    );
    assert_eq!(
        latest_single.private_key.pem.as_deref(),
        Some(single.key.pem())
    );
    let chain = latest_multi.chain.unwrap();
    assert_eq!(
        chain.pem.as_deref(),
        Some(pki.chain_pem().as_str()),
        "no root served"
    );
    assert_eq!(
        latest_multi.fullchain.pem.unwrap(),
        format!("{}{}", multi.certificate.pem(), pki.chain_pem())
    );
    assert_eq!(
        latest_multi.fullchain.id,
        format!("{},{}", two.certificate_signed.id, chain.id)
    );
    // the preference list travels with the same query
    let cas = s
        .list_certificate_cas(Page::new(1, 10))
        .await
        .unwrap()
        .items;
    for ca in &cas {
        s.add_ca_preference(ca.id).await.unwrap();
    }
    let source = s
        .domain_config_source(peter_core::ports::DomainLookup::Name(&name(
            "cfg.example.com",
        )))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        source.ca_preferences,
        cas.iter().map(|c| c.id).collect::<Vec<_>>()
    );
    assert_eq!(source.certificates.len(), 2);
    // by id, ids only
    let by_id = domain_config(s, &cfg.domain.id, true).await.unwrap();
    assert!(by_id.latest_single.unwrap().certificate.pem.is_none());
    // an inactive domain serves nothing; an unknown one is not found
    let d = s
        .domain_by_name(&name("cfg.example.com"))
        .await
        .unwrap()
        .unwrap();
    s.set_domain_active(d.id, false).await.unwrap();
    let off = domain_config(s, "cfg.example.com", false).await.unwrap();
    assert!(off.latest_single.is_none() && off.latest_multi.is_none());
    assert!(!off.domain.is_active);
    let missing = domain_config(s, "nobody.example.com", false)
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), peter_core::ErrorKind::NotFound);
    assert!(
        s.domain_config_source(peter_core::ports::DomainLookup::Id(DomainId(999_999)))
            .await
            .unwrap()
            .is_none()
    );
}

async fn metrics_count_by_state_and_list_expirations(t: &TestStore) {
    let s = t.store.as_ref();
    let pki = TestPki::new("metrics");
    let a = import_leaf(
        t,
        &pki.issue(&["m1.example.com"], KeyTechnology::EcP256),
        None,
    )
    .await;
    let b = import_leaf(
        t,
        &pki.issue(&["m2.example.com", "m3.example.com"], KeyTechnology::EcP256),
        None,
    )
    .await;
    s.mark_certificate_signed(b.certificate_signed.id, CertificateMark::Inactive)
        .await
        .unwrap();
    let m = s.metrics().await.unwrap();
    let count = |state: &str| {
        m.certificates_by_state
            .iter()
            .find(|(s, _)| s == state)
            .map(|(_, n)| *n)
    };
    assert_eq!(count("active"), Some(1));
    assert_eq!(count("inactive"), Some(1));
    assert_eq!(count("revoked"), Some(0));
    let domains: u64 = m.domains_by_active.iter().map(|(_, n)| n).sum();
    assert_eq!(domains, 3);
    let e = s
        .active_certificate_expirations(CertificateSignedId(0), 10)
        .await
        .unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].id, a.certificate_signed.id);
    assert_eq!(e[0].first_domain, "m1.example.com");
    let cert = s.certificate_signed(a.certificate_signed.id).await.unwrap();
    assert_eq!(e[0].not_after, cert.not_after);
    assert!(
        s.active_certificate_expirations(a.certificate_signed.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The bounded summary counts only the active certificate, by its end.
    let (counts, earliest) = s
        .active_expiry_summary(&[cert.not_after, cert.not_after + time::Duration::seconds(1)])
        .await
        .unwrap();
    assert_eq!(counts, vec![0, 1], "strictly before each horizon");
    assert_eq!(earliest, Some(cert.not_after));
}

async fn renewal_reads_page_by_id_with_names_and_activity(t: &TestStore) {
    let s = t.store.as_ref();
    let pki = TestPki::new("renewal-reads");
    let a = import_leaf(
        t,
        &pki.issue(&["r2.example.com", "r1.example.com"], KeyTechnology::EcP256),
        None,
    )
    .await;
    let b = import_leaf(
        t,
        &pki.issue(&["r3.example.com"], KeyTechnology::EcP256),
        None,
    )
    .await;
    let c = import_leaf(
        t,
        &pki.issue(&["r4.example.com"], KeyTechnology::EcP256),
        None,
    )
    .await;
    s.mark_certificate_signed(c.certificate_signed.id, CertificateMark::Inactive)
        .await
        .unwrap();
    let r1 = s
        .domain_by_name(&name("r1.example.com"))
        .await
        .unwrap()
        .unwrap();
    s.set_domain_active(r1.id, false).await.unwrap();

    let all = s
        .renewal_candidates(CertificateSignedId(0), 10)
        .await
        .unwrap();
    let ids: Vec<_> = all.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        vec![a.certificate_signed.id, b.certificate_signed.id],
        "active certificates only, in id order"
    );
    assert_eq!(all[0].domain_names, "r1.example.com,r2.example.com");
    assert_eq!(
        s.sets_with_inactive_domains().await.unwrap(),
        vec![all[0].unique_fqdn_set_id],
        "r1 is inactive"
    );
    let stored = s.certificate_signed(b.certificate_signed.id).await.unwrap();
    assert_eq!(all[1].not_after, stored.not_after);
    assert_eq!(all[1].unique_fqdn_set_id, stored.unique_fqdn_set_id);
    let next = s
        .renewal_candidates(CertificateSignedId(0), 1)
        .await
        .unwrap();
    assert_eq!(next.len(), 1, "the limit holds");
    let rest = s.renewal_candidates(next[0].id, 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        rest[0].id, b.certificate_signed.id,
        "keyset continues after"
    );

    // r4's only certificate is inactive; r1 is inactive itself; a wildcard
    // is never ordered alone.
    let bare = s
        .get_or_create_domain(&name("r5.example.com"))
        .await
        .unwrap();
    s.get_or_create_domain(&name("*.r6.example.com"))
        .await
        .unwrap();
    let without = s
        .domains_without_certificate(DomainId(0), 10)
        .await
        .unwrap();
    let names: Vec<_> = without.iter().map(|d| d.domain_name.as_str()).collect();
    assert_eq!(names, vec!["r4.example.com", "r5.example.com"]);
    let after = s
        .domains_without_certificate(without[0].id, 10)
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, bare.id.id);
}

/// M0012 gives every set an order of peter's certified a renewal
/// configuration from its newest certifying order, and none to a set known
/// only from an import. Run here by undoing the migration over a store
/// that has both, and applying it again.
async fn the_migration_derives_renewal_configurations_from_orders(t: &TestStore) {
    use sea_orm::ConnectionTrait;
    use sea_orm_migration::MigratorTrait;
    let s = t.store.as_ref();
    let server = s.create_acme_server(new_server("ca", true)).await.unwrap();
    let account = s.create_acme_account(new_account(server.id)).await.unwrap();
    let pki = TestPki::new("derive");
    let ordered = import_leaf(
        t,
        &pki.issue(&["m.example.com"], KeyTechnology::EcP256),
        None,
    )
    .await;
    let imported = import_leaf(
        t,
        &pki.issue(&["i.example.com"], KeyTechnology::EcP256),
        None,
    )
    .await;
    let set = ordered.unique_fqdn_set.id;
    let order = s
        .create_acme_order(NewAcmeOrder {
            acme_account_id: account.id,
            unique_fqdn_set_id: set,
            processing_strategy: AcmeOrderProcessingStrategy::ProcessSingle,
            order_type: AcmeOrderType::New,
            private_key_cycle: PrivateKeyCycle::SingleUse,
            private_key_strategy: PrivateKeyStrategy::DeferredAssociate,
            private_key_id_requested: None,
            acme_order_id_retry_of: None,
            certificate_signed_id_renewal_of: None,
            profile: Some("shortlived".into()),
            replaces: None,
            challenge_types: Default::default(),
        })
        .await
        .unwrap();
    let db = sea_orm::Database::connect(&t.url).await.unwrap();
    db.execute_unprepared(&format!(
        "UPDATE acme_order SET certificate_signed_id = {} WHERE id = {}",
        ordered.certificate_signed.id.0, order.id.0
    ))
    .await
    .unwrap();
    peter_store::migration::Migrator::down(&db, Some(1))
        .await
        .unwrap();
    peter_store::migration::Migrator::up(&db, None)
        .await
        .unwrap();
    db.close().await.unwrap();
    let config = s
        .renewal_configuration_for_set(set)
        .await
        .unwrap()
        .expect("derived from the order");
    assert_eq!(config.acme_account_id, account.id);
    assert_eq!(config.private_key_cycle, PrivateKeyCycle::SingleUse);
    assert_eq!(config.profile.as_deref(), Some("shortlived"));
    assert_eq!(config.domain_names, vec!["m.example.com".to_string()]);
    assert_eq!((config.backup, config.failover_after), (None, 3));
    assert!(
        s.renewal_configuration_for_set(imported.unique_fqdn_set.id)
            .await
            .unwrap()
            .is_none(),
        "an imported set waits for the operator"
    );
}
