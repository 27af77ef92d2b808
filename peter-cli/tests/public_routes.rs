//! The public routes over real HTTP: whoami, the identity header on every
//! response (errors included), challenge answers by host, unknown polls,
//! blocklisted hosts, and concurrent fetches of one token.

use std::net::SocketAddr;
use std::sync::Arc;

use peter_core::model::rules::ServerChallenge;
use peter_core::model::*;
use peter_core::ports::*;
use peter_http::{PublicServer, PublicState};
use peter_store::SqlStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: SocketAddr, host: &str, path: &str) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

async fn setup() -> (
    Arc<SqlStore>,
    peter_core::app::Peter,
    PublicServer,
    std::path::PathBuf,
) {
    let dir = std::env::temp_dir().join(format!("peter-public-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(
        SqlStore::connect(
            &peter_store::sqlite_url_for_path(&dir.join("p.sqlite")),
            Arc::new(SystemClock),
        )
        .await
        .unwrap(),
    );
    let peter = peter_core::app::Peter::builder()
        .shared_store(store.clone())
        .build()
        .unwrap();
    let server = PublicServer::start(
        "127.0.0.1:0".parse().unwrap(),
        PublicState::new(peter.clone(), "staging"),
    )
    .await
    .unwrap();
    // A stored challenge for www.example.com, token "tok".
    let s = store.as_ref();
    let srv = s
        .create_acme_server(NewAcmeServer {
            name: "ca".into(),
            directory_url: "https://ca.test/dir".into(),
            ca_bundle_pem: None,
            is_default: true,
            ip_identifiers: false,
        })
        .await
        .unwrap();
    let account = s
        .create_acme_account(NewAcmeAccount {
            acme_server_id: srv.id,
            contact: None,
            key: peter_core::formats::ParsedPrivateKey::generate(KeyTechnology::EcP256).unwrap(),
            key_source: AcmeAccountKeySource::Generated,
            account_url: Some("https://ca.test/acct/1".into()),
            terms_of_service: None,
            private_key_technology: KeyTechnology::EcP256,
            private_key_cycle: PrivateKeyCycle::SingleUse,
        })
        .await
        .unwrap();
    let set = s
        .get_or_create_unique_fqdn_set(
            &peter_core::dns::UniqueFqdnSet::parse(["www.example.com"]).unwrap(),
        )
        .await
        .unwrap()
        .id;
    let order = s
        .create_acme_order(NewAcmeOrder {
            acme_account_id: account.id,
            unique_fqdn_set_id: set.id,
            processing_strategy: AcmeOrderProcessingStrategy::ProcessSingle,
            order_type: AcmeOrderType::New,
            private_key_cycle: PrivateKeyCycle::SingleUse,
            private_key_strategy: PrivateKeyStrategy::DeferredAssociate,
            private_key_id_requested: None,
            acme_order_id_retry_of: None,
            certificate_signed_id_renewal_of: None,
            profile: None,
            replaces: None,
            challenge_types: Default::default(),
        })
        .await
        .unwrap();
    s.sync_acme_order(
        order.id,
        &ServerOrder {
            url: "https://ca.test/order/1".into(),
            status: AcmeOrderStatus::Pending,
            authorizations: vec!["https://ca.test/authz/1".into()],
            finalize_url: "https://ca.test/finalize/1".into(),
            certificate_url: None,
            expires: None,
            error: None,
            retry_after_seconds: None,
        },
    )
    .await
    .unwrap();
    let auth = s
        .acme_authorizations_for_order(order.id)
        .await
        .unwrap()
        .remove(0);
    let challenge = ServerChallenge {
        url: "https://ca.test/chall/1".into(),
        challenge_type: AcmeChallengeType::Http01,
        token: "tok".into(),
        status: AcmeChallengeStatus::Pending,
    };
    s.sync_acme_authorization(
        auth.id,
        &ServerAuthorization {
            url: auth.authorization_url.clone(),
            status: AcmeAuthorizationStatus::Pending,
            identifier: "www.example.com".into(),
            wildcard: false,
            expires: None,
            challenges: vec![challenge.clone()],
        },
        &[ChallengeUpsert {
            challenge,
            key_authorization: Some("tok.thumbprint".into()),
        }],
    )
    .await
    .unwrap();
    (store, peter, server, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_routes_answer_by_host_and_always_identify_themselves() {
    let (store, peter, server, dir) = setup().await;
    let addr = server.local_addr;

    let (status, head, body) =
        get(addr, "Peter.Example.com:8080", "/.well-known/public/whoami").await;
    assert_eq!(status, 200);
    assert_eq!(body, "peter.example.com");
    assert!(head.contains("x-peter-sslers: staging"));

    let (status, head, body) = get(
        addr,
        "WWW.example.com:80",
        "/.well-known/acme-challenge/tok",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "tok.thumbprint"));
    assert!(head.contains("content-type: text/plain"));
    assert!(head.contains("x-peter-sslers: staging"));

    // Concurrent fetches of one token, as Pebble makes them.
    let fetches = (0..6).map(|_| {
        tokio::spawn(get(
            addr,
            "www.example.com",
            "/.well-known/acme-challenge/tok",
        ))
    });
    for f in fetches {
        assert_eq!(f.await.unwrap().0, 200);
    }
    let challenge = store.acme_challenge(AcmeChallengeId(1)).await.unwrap();
    // Polls are counted in memory and written in batches; reading them
    // through the facade writes what is pending first. One address: one
    // row counting the seven fetches.
    let polls = peter.orders().challenge_polls(challenge.id).await.unwrap();
    assert_eq!(polls.len(), 1);
    assert_eq!(polls[0].poll_count, 7);
    assert_eq!(polls[0].remote_ip_address.as_deref(), Some("127.0.0.1"));
    assert!(polls[0].last_polled_at >= polls[0].polled_at);

    for (host, path) in [
        ("other.example.com", "/.well-known/acme-challenge/tok"),
        ("www.example.com", "/.well-known/acme-challenge/unknown"),
        (
            "www.example.com",
            "/.well-known/acme-challenge/bad%2F..%2Ftoken",
        ),
    ] {
        let (status, head, _) = get(addr, host, path).await;
        assert_eq!(status, 404, "{host}{path}");
        assert!(
            head.contains("x-peter-sslers: staging"),
            "errors carry the header too"
        );
    }
    let unknown = peter
        .orders()
        .list_unknown_challenge_polls(Page::default())
        .await
        .unwrap();
    assert_eq!(unknown.total_items, 3);
    assert!(unknown.items.iter().all(|p| p.poll_count == 1));

    // An unknown path and the admin prefix are 404 with the header.
    for path in ["/nothing", "/.well-known/peter_sslers/domains"] {
        let (status, head, _) = get(addr, "www.example.com", path).await;
        assert_eq!(status, 404);
        assert!(head.contains("x-peter-sslers: staging"));
    }

    // A blocklisted host is never answered.
    store
        .add_blocklisted_domain(&"www.example.com".parse().unwrap())
        .await
        .unwrap();
    let (status, _, _) = get(addr, "www.example.com", "/.well-known/acme-challenge/tok").await;
    assert_eq!(status, 404);

    server.stop().await.unwrap();
    std::fs::remove_dir_all(dir).ok();
}
