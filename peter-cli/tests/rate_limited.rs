//! Pebble never answers `rateLimited`, so this one case uses an in-process
//! fake ACME server: every signed request gets 429 with a problem document
//! and `Retry-After: 120`. peter must surface it as a rate-limit error that
//! carries the Retry-After, log it, and not retry against it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use peter_core::app::{AccountRequest, OrderRequest, Peter};
use peter_core::model::*;
use peter_core::ports::*;
use peter_store::SqlStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

mod support;

async fn fake_rate_limited_ca() -> (String, Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let posts = Arc::new(AtomicU32::new(0));
    let counter = posts.clone();
    let base_for_task = base.clone();
    tokio::spawn(async move {
        let nonce = AtomicU32::new(0);
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 65536];
            let mut read = 0;
            // Read the head, then the body by Content-Length.
            loop {
                let n = socket.read(&mut buf[read..]).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                read += n;
                let text = String::from_utf8_lossy(&buf[..read]).to_string();
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let length = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if read >= head_end + 4 + length {
                        break;
                    }
                }
            }
            let request = String::from_utf8_lossy(&buf[..read]).to_string();
            let first = request.lines().next().unwrap_or_default().to_string();
            let n = nonce.fetch_add(1, Ordering::SeqCst);
            let (status, extra, body) = if first.starts_with("GET /dir") {
                let d = serde_json::json!({
                    "newNonce": format!("{base_for_task}/nonce"),
                    "newAccount": format!("{base_for_task}/account"),
                    "newOrder": format!("{base_for_task}/order"),
                });
                (
                    "200 OK",
                    "Content-Type: application/json\r\n".to_string(),
                    d.to_string(),
                )
            } else if first.starts_with("HEAD") {
                ("200 OK", String::new(), String::new())
            } else {
                counter.fetch_add(1, Ordering::SeqCst);
                let problem = serde_json::json!({
                    "type": "urn:ietf:params:acme:error:rateLimited",
                    "detail": "too many requests from this client",
                    "status": 429,
                });
                (
                    "429 Too Many Requests",
                    "Content-Type: application/problem+json\r\nRetry-After: 120\r\n".to_string(),
                    problem.to_string(),
                )
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nReplay-Nonce: nonce-{n}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    (format!("{base}/dir"), posts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_is_a_typed_error_with_its_retry_after_and_is_not_retried() {
    let (directory, posts) = fake_rate_limited_ca().await;
    let dir = std::env::temp_dir().join(format!("peter-ratelimit-{}", std::process::id()));
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
    let peter = Peter::builder()
        .shared_store(store.clone())
        .clock(clock)
        .acme(peter_acme::InstantAcme)
        .build()
        .unwrap();
    let server = store
        .create_acme_server(NewAcmeServer {
            name: "fake".into(),
            directory_url: directory,
            ca_bundle_pem: None,
            is_default: true,
            ip_identifiers: false,
        })
        .await
        .unwrap();

    // Registering an account is refused with 429.
    let err = peter
        .accounts()
        .create(AccountRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::RateLimited, "{err}");
    match &err {
        peter_core::Error::Acme(AcmeError::Server {
            retry_after_seconds,
            problem,
            ..
        }) => {
            assert_eq!(*retry_after_seconds, Some(120));
            assert_eq!(problem.short_type(), "rateLimited");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        posts.load(Ordering::SeqCst),
        1,
        "a rate limit is not retried"
    );

    // An order through an account recorded as registered: same verdict, recorded on the order.
    let account = store
        .create_acme_account(NewAcmeAccount {
            acme_server_id: server.id,
            contact: None,
            key: peter_core::formats::ParsedPrivateKey::generate(KeyTechnology::EcP256).unwrap(),
            key_source: AcmeAccountKeySource::Generated,
            account_url: Some("http://127.0.0.1/account/1".into()),
            terms_of_service: None,
            private_key_technology: KeyTechnology::EcP256,
            private_key_cycle: PrivateKeyCycle::SingleUse,
        })
        .await
        .unwrap();
    let err = peter
        .orders()
        .create(OrderRequest::new(
            account.id,
            vec!["limited.example".into()],
            AcmeOrderProcessingStrategy::ProcessSingle,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), peter_core::ErrorKind::RateLimited, "{err}");
    let order = store
        .list_acme_orders(&OrderFilter::all(), Page::default())
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(order.status, AcmeOrderStatus::Invalid);
    assert!(order.problem.unwrap().contains("rateLimited"));
    let events = store.list_acme_events(Page::new(1, 100)).await.unwrap();
    let limited: Vec<_> = events
        .items
        .iter()
        .filter(|e| e.http_status == Some(429))
        .collect();
    assert_eq!(limited.len(), 2);
    assert!(limited.iter().all(|e| e.retry_after_seconds == Some(120)
        && e.problem_type.as_deref() == Some("urn:ietf:params:acme:error:rateLimited")));
    std::fs::remove_dir_all(dir).ok();
}

/// Over the admin API the same refusal is a 429 carrying the CA's
/// Retry-After and its problem document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_answers_a_rate_limit_with_429_and_retry_after() {
    let (directory, _posts) = fake_rate_limited_ca().await;
    let w = support::AdminWorld::start("ratelimit", 0, support::AdminWorld::default_access(), true)
        .await;
    w.post(
        "acme-server/new",
        serde_json::json!({"name": "fake", "directory_url": directory, "is_default": true}),
    )
    .await
    .expect(200);
    let r = w
        .post(
            "acme-account/new",
            serde_json::json!({"contact": "ops@example.com"}),
        )
        .await
        .expect(429);
    assert_eq!(r.headers["retry-after"].to_str().unwrap(), "120");
    let body = r.json();
    assert_eq!(body["result"], "error");
    assert_eq!(
        body["problem"]["type"],
        "urn:ietf:params:acme:error:rateLimited"
    );
}
