//! Who may call the admin API, and what bad input gets: typed 4xx answers
//! with the JSON error document, never a 5xx, and nothing half-written.

mod support;

use peter_acme::testkit::{Pebble, PebbleOptions};
use peter_core::model::KeyTechnology;
use peter_core::testkit::TestPki;
use serde_json::json;
use support::*;

fn is_error_document(r: &Resp) {
    assert!(
        r.content_type().starts_with("application/json"),
        "{}",
        r.content_type()
    );
    let body = r.json();
    assert_eq!(body["result"], "error", "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_admin_nothing_answers_under_the_prefix() {
    let w = AdminWorld::start("absent", 0, AdminWorld::default_access(), false).await;
    for path in [
        "domains",
        "api/openapi.json",
        "api/docs",
        "domain/1/config.json",
    ] {
        let r = w.get_as(path, Some(TOKEN)).await;
        assert_eq!(r.status, 404, "{path} must not exist on a public-only node");
    }
    assert_eq!(
        w.get_as("/.well-known/public/whoami", None).await.status,
        200
    );
}

/// ETags and 304s on what a web server installs, `no-store` on what holds
/// a key, unknown query parameters refused by name, parameters that do not
/// parse named, and `WWW-Authenticate` on a 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_semantics_etag_unknown_parameters_and_bearer_challenge() {
    let w = AdminWorld::start("semantics", 0, AdminWorld::default_access(), true).await;
    let pki = TestPki::new("semantics");
    let leaf = pki.issue(&["etag.example.com"], KeyTechnology::EcP256);
    let up = w
        .post(
            "certificate-signed/upload",
            json!({"certificate_file": leaf.certificate.pem(), "private_key_file_pem": leaf.key.pem(), "chain_file": pki.chain_pem()}),
        )
        .await
        .expect(200)
        .json();
    let cert = up["CertificateSigned"]["id"].as_i64().unwrap();

    let first = w
        .get("domain/etag.example.com/config.json")
        .await
        .expect(200);
    let etag = first.headers["etag"].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && etag.len() > 10,
        "strong ETag: {etag}"
    );
    assert_eq!(
        first.headers["cache-control"], "no-store",
        "it holds a private key"
    );
    let same = w
        .send_raw(
            w.http
                .get(w.url("domain/etag.example.com/config.json"))
                .bearer_auth(TOKEN)
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(same.status, 304);
    assert!(same.body.is_empty());
    assert_eq!(same.headers["etag"].to_str().unwrap(), etag);
    // A change gives another ETag.
    w.post(
        &format!("certificate-signed/{cert}/mark"),
        json!({"action": "inactive"}),
    )
    .await
    .expect(200);
    let changed = w
        .send_raw(
            w.http
                .get(w.url("domain/etag.example.com/config.json"))
                .bearer_auth(TOKEN)
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag);
    // Files too; a key file is not stored by caches, a certificate may be.
    let pem = w
        .get(&format!("certificate-signed/{cert}/cert.pem"))
        .await
        .expect(200);
    assert!(pem.headers.contains_key("etag"));
    assert!(!pem.headers.contains_key("cache-control"));
    let key = w
        .get(&format!("certificate-signed/{cert}/privkey.pem"))
        .await
        .expect(200);
    assert_eq!(key.headers["cache-control"], "no-store");

    // Unknown query parameters are refused by name; filters work.
    let typo = w.get("domains?domian_name=etag").await;
    assert_eq!(typo.status, 400, "{}", typo.text());
    is_error_document(&typo);
    assert!(typo.json()["form_errors"]["domian_name"].is_string());
    let found = w.get("domains?domain_name=etag").await.expect(200).json();
    assert_eq!(found["pagination"]["total_items"], 1);
    let none = w
        .get("domains?domain_name=nothing-like-it")
        .await
        .expect(200)
        .json();
    assert_eq!(none["pagination"]["total_items"], 0);
    let inactive = w
        .get("certificate-signeds?status=inactive&domain_name=etag.example.com")
        .await
        .expect(200)
        .json();
    assert_eq!(inactive["pagination"]["total_items"], 1);
    assert_eq!(
        inactive["CertificateSigneds"][0]["domain_names"],
        json!(["etag.example.com"])
    );
    assert!(
        inactive["CertificateSigneds"][0]["cert_pem"].is_null(),
        "no PEM in lists"
    );
    // A domain peter does not know is covered by nothing (not a 404), for
    // certificates and orders alike; a page far past the end is empty.
    for list in ["certificate-signeds", "acme-orders"] {
        let unknown = w
            .get(&format!("{list}?domain_name=unknown.example.com"))
            .await
            .expect(200)
            .json();
        assert_eq!(unknown["pagination"]["total_items"], 0, "{list}");
    }
    let far = w
        .get("certificate-signeds?page=18446744073709551615&per_page=1000")
        .await
        .expect(200)
        .json();
    assert_eq!(far["CertificateSigneds"], json!([]));
    assert_eq!(far["pagination"]["total_items"], 1);
    assert!(far["pagination"]["page_next"].is_null());
    // A parameter that does not parse is named.
    let days = w.get("certificate-signeds/expiring?days=abc").await;
    assert_eq!(days.status, 400, "{}", days.text());
    assert!(
        days.json()["form_errors"]["days"].is_string(),
        "{}",
        days.text()
    );
    let status = w.get("certificate-signeds?status=gone").await;
    assert_eq!(status.status, 400, "{}", status.text());
    assert!(status.json()["form_errors"]["status"].is_string());

    // A 401 says how to authenticate.
    let anonymous = w.get_as("domains", None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.headers["www-authenticate"], "Bearer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_admin_everywhere_gateway_only_on_domain_config() {
    let w = AdminWorld::start("tokens", 0, AdminWorld::default_access(), true).await;
    w.post("domain/new", json!({"domain_name": "gw.example.com"}))
        .await
        .expect(200);

    for token in [None, Some("wrong-token-wrong-token"), Some("")] {
        let r = w.get_as("domains", token).await;
        assert_eq!(r.status, 401, "{token:?}");
        is_error_document(&r);
        assert_eq!(
            w.get_as("domain/gw.example.com/config.json", token)
                .await
                .status,
            401
        );
    }
    // the gateway token reads config.json and nothing else
    let cfg = w
        .get_as("domain/gw.example.com/config.json", Some(GATEWAY))
        .await
        .expect(200)
        .json();
    assert_eq!(cfg["domain"]["domain_name"], "gw.example.com");
    for path in [
        "domains",
        "domain/gw.example.com",
        "private-keys",
        "certificate-signeds",
    ] {
        assert_eq!(
            w.get_as(path, Some(GATEWAY)).await.status,
            401,
            "{path} with the gateway token"
        );
    }
    let r = w
        .http
        .post(w.url("domain/new"))
        .bearer_auth(GATEWAY)
        .json(&json!({"domain_name": "x.example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "the gateway token cannot write");
    // the admin token works everywhere
    w.get_as("domain/gw.example.com/config.json", Some(TOKEN))
        .await
        .expect(200);
    // the document and Swagger UI describe routes only: no token needed
    w.get_as("api/openapi.json", None).await.expect(200);
    assert!(
        w.get_as("api/docs", None)
            .await
            .expect(200)
            .text()
            .contains("swagger")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_gateway_networks_read_config_json_without_a_token() {
    let open = AdminWorld::default_access()
        .with_gateway_networks(["127.0.0.0/8"])
        .unwrap();
    let w = AdminWorld::start("net-open", 0, open, true).await;
    w.post("domain/new", json!({"domain_name": "net.example.com"}))
        .await
        .expect(200);
    w.get_as("domain/net.example.com/config.json", None)
        .await
        .expect(200);
    assert_eq!(
        w.get_as("domains", None).await.status,
        401,
        "only config.json"
    );

    let closed = AdminWorld::default_access()
        .with_gateway_networks(["10.0.0.0/8"])
        .unwrap();
    let w = AdminWorld::start("net-closed", 0, closed, true).await;
    w.post("domain/new", json!({"domain_name": "net.example.com"}))
        .await
        .expect(200);
    assert_eq!(
        w.get_as("domain/net.example.com/config.json", None)
            .await
            .status,
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_typed_4xx_and_changes_nothing() {
    let w = AdminWorld::start("bad", 0, AdminWorld::default_access(), true).await;
    let pki = TestPki::new("bad-input");
    let leaf = pki.issue(&["bad.example.com"], KeyTechnology::EcP256);
    let other = pki.issue(&["bad.example.com"], KeyTechnology::EcP256);

    let cases: Vec<(Resp, u16, Option<&str>)> = vec![
        (w.get("certificate-signed/999").await, 404, None),
        (w.get("domain/unknown.example.com").await, 404, None),
        (w.get("domain/-bad-.example.com").await, 422, Some("domain_name")),
        (w.get("acme-order/abc").await, 400, None),
        (w.get("no-such-route").await, 404, None),
        (w.get("domain/new").await, 405, None),
        (w.post("domain/new", json!({"domain_name": "*.example.com"})).await, 422, Some("domain_name")),
        (w.post("domain/new", json!({"domain_name": "10.0.0.999"})).await, 422, Some("domain_name")),
        (w.post("domain/new", json!({"nope": 1})).await, 422, Some("domain_name")),
        (w.post_form("domain/new", "").await, 422, Some("domain_name")),
        (w.post("private-key/new", json!({"key_technology": 7})).await, 422, Some("key_technology")),
        (w.post("domain/new", json!("example.com")).await, 400, None),
        (
            w.post("certificate-signed/upload", json!({"certificate_file": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", "private_key_file_pem": leaf.key.pem()}))
                .await,
            422,
            None,
        ),
        (
            w.post("certificate-signed/upload", json!({"certificate_file": leaf.certificate.pem(), "private_key_file_pem": other.key.pem(), "chain_file": pki.chain_pem()}))
                .await,
            422,
            None,
        ),
        (
            w.post("certificate-signed/upload", json!({"certificate_file": leaf.certificate.pem(), "private_key_file_pem": leaf.key.pem(), "chain_file": "garbage"}))
                .await,
            422,
            None,
        ),
        (w.post("private-key/upload", json!({"private_key_file_pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"})).await, 422, Some("private_key_file_pem")),
        (w.post("private-key/new", json!({"key_technology": "DSA_1024"})).await, 422, Some("key_technology")),
        (w.post("certificate-cas/preferred/add", json!({"fingerprint_sha1": "zz"})).await, 422, Some("fingerprint_sha1")),
        (w.post("acme-order/new/freeform", json!({"domain_names": "a.example.com"})).await, 422, Some("acme_account_id")),
        (w.post("api/domain/enable", json!({"domain_names": " , "})).await, 422, Some("domain_names")),
        (w.post("api/domain/certificate-if-needed", json!({"domain_name": "a.example.com,b.example.com"})).await, 422, Some("domain_name")),
        (w.post("acme-server/new", json!({"name": "x", "directory_url": "ftp://x"})).await, 422, Some("directory_url")),
        (
            w.send_raw(w.http.post(w.url("domain/new")).bearer_auth(TOKEN).header("content-type", "application/json").body("{\"domain_name\":")).await,
            400,
            None,
        ),
        (
            w.send_raw(w.http.post(w.url("certificate-signed/upload")).bearer_auth(TOKEN).header("content-type", "application/json").body(vec![b' '; 200 * 1024])).await,
            413,
            None,
        ),
    ];
    let unconfigured = [
        w.post("api/redis/prime", json!({})).await,
        w.post("api/nginx/status", json!({})).await,
        w.post("api/nginx/cache-flush", json!({})).await,
    ];
    for r in &unconfigured {
        assert_eq!(r.status, 409, "{}", r.text());
        is_error_document(r);
        assert!(r.json()["error"].as_str().unwrap().contains("configured"));
    }
    for (i, (r, status, field)) in cases.iter().enumerate() {
        assert_eq!(r.status, *status, "case {i}: {}", r.text());
        is_error_document(r);
        if let Some(field) = field {
            assert!(
                r.json()["form_errors"][field].is_string(),
                "case {i}: {}",
                r.text()
            );
        }
    }
    let refused = cases.iter().find(|(r, _, _)| r.status == 413).unwrap();
    assert_eq!(
        refused
            .0
            .headers
            .get("connection")
            .and_then(|v| v.to_str().ok()),
        Some("close"),
        "the unread rest of an oversized body must not poison the connection"
    );
    // nothing was written by any of them
    assert_eq!(
        w.get("certificate-signeds").await.json()["pagination"]["total_items"],
        0
    );
    assert_eq!(
        w.get("private-keys").await.json()["pagination"]["total_items"],
        0
    );
    assert_eq!(
        w.get("domains").await.json()["pagination"]["total_items"],
        0
    );

    // an illegal transition is a 409
    let up = w
        .post(
            "certificate-signed/upload",
            json!({"certificate_file": leaf.certificate.pem(), "private_key_file_pem": leaf.key.pem(), "chain_file": pki.chain_with_root_pem()}),
        )
        .await
        .expect(200)
        .json();
    let id = up["CertificateSigned"]["id"].as_i64().unwrap();
    w.post_form(&format!("certificate-signed/{id}/mark"), "action=revoked")
        .await
        .expect(200);
    let r = w
        .post_form(&format!("certificate-signed/{id}/mark"), "action=active")
        .await
        .expect(409);
    is_error_document(&r);
    // the root was given but is never served in a chain
    let chain = w
        .get(&format!("certificate-signed/{id}/chain.pem"))
        .await
        .expect(200)
        .text();
    assert_eq!(chain, pki.chain_pem());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acme_server_refusal_is_502_with_its_problem_document() {
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let w = AdminWorld::start(
        "refusal",
        pebble.http_port,
        AdminWorld::default_access(),
        true,
    )
    .await;
    w.post(
        "acme-server/new",
        json!({"name": "pebble", "directory_url": pebble.directory_url, "ca_bundle_pem": pebble.tls_ca_pem, "is_default": true}),
    )
    .await
    .expect(200);
    w.post("acme-account/new", json!({"global_default": true}))
        .await
        .expect(200);
    let stranger = w
        .post("acme-account/new", json!({}))
        .await
        .expect(200)
        .json();
    let order = w
        .post(
            "acme-order/new/freeform",
            json!({"domain_names": "refused.example.com"}),
        )
        .await
        .expect(200)
        .json();
    let cert = order["AcmeOrder"]["certificate_signed_id"]
        .as_i64()
        .unwrap();
    // an account that neither ordered it nor holds its authorizations
    let r = w
        .post(
            &format!("certificate-signed/{cert}/acme-server/revoke"),
            json!({"acme_account_id": stranger["AcmeAccount"]["id"]}),
        )
        .await
        .expect(502);
    is_error_document(&r);
    let body = r.json();
    assert_eq!(
        body["problem"]["type"], "urn:ietf:params:acme:error:unauthorized",
        "{body}"
    );
    let focus = w.get(&format!("certificate-signed/{cert}")).await.json();
    assert!(
        focus["CertificateSigned"]["timestamp_revoked_upstream"].is_null(),
        "a refusal records nothing"
    );
}

/// OpenResty servers that are down or slow: each gets its own error within
/// the timeout, the answering one still succeeds, and the store is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_servers_down_or_slow_are_reported_per_server() {
    let (good, good_calls) = support::module_server(std::time::Duration::ZERO).await;
    let (slow, _) = support::module_server(std::time::Duration::from_secs(10)).await;
    let closed = format!("http://127.0.0.1:{}", peter_acme::testkit::free_port());
    let mut settings =
        peter_http::nginx::NginxSettings::new(vec![good.clone(), slow.clone(), closed.clone()]);
    settings.timeout = std::time::Duration::from_secs(1);
    let nginx = std::sync::Arc::new(peter_http::nginx::NginxClient::new(settings).unwrap());
    let w = AdminWorld::start_with(
        "nginx-down",
        0,
        AdminWorld::default_access(),
        true,
        None,
        Some(nginx),
    )
    .await;
    let started = std::time::Instant::now();
    let r = w
        .post("api/nginx/cache-flush", json!({}))
        .await
        .expect(200)
        .json();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "the slow server is not waited for"
    );
    assert_eq!(r["result"], "error", "{r}");
    assert_eq!(r["servers_status"]["success"], json!([good]));
    let errors = r["servers_status"]["errors"].as_array().unwrap();
    assert!(
        errors.contains(&json!(slow)) && errors.contains(&json!(closed)),
        "{r}"
    );
    assert_eq!(good_calls.lock().unwrap().len(), 1);
    assert_eq!(
        w.get("domains").await.json()["pagination"]["total_items"],
        0
    );
}

/// Redis going away while peter serves: `api/redis/prime` is a 503 with
/// Redis's error, within a bounded time, and the store is untouched. The
/// real Redis is reached through a relay this test cuts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_going_down_is_a_503_with_a_clear_error() {
    use tokio::io::copy_bidirectional;
    let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay_addr = relay.local_addr().unwrap();
    let (cut_tx, cut_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = relay.accept().await else {
                return;
            };
            let mut cut = cut_rx.clone();
            tokio::spawn(async move {
                let mut outbound = tokio::net::TcpStream::connect("127.0.0.1:6379")
                    .await
                    .unwrap();
                tokio::select! {
                    _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = cut.wait_for(|c| *c) => {}
                }
            });
        }
    });
    let primer = peter_store::redis_prime::RedisPrimer::connect(
        &format!("redis://{relay_addr}"),
        &format!("peter-down-{}:", std::process::id()),
        Some(60),
    )
    .await
    .expect("Redis must be running on 127.0.0.1:6379");
    let w = AdminWorld::start_with(
        "redis-down",
        0,
        AdminWorld::default_access(),
        true,
        Some(support::Redis {
            publisher: std::sync::Arc::new(primer),
            style: peter_core::ports::PrimeStyle::Two,
            on_change: false,
        }),
        None,
    )
    .await;
    let pki = TestPki::new("redis-down");
    let leaf = pki.issue(&["down.example.com"], KeyTechnology::EcP256);
    w.post(
        "certificate-signed/upload",
        json!({"certificate_file": leaf.certificate.pem(), "private_key_file_pem": leaf.key.pem(), "chain_file": pki.chain_pem()}),
    )
    .await
    .expect(200);
    let ok = w
        .post("api/redis/prime", json!({}))
        .await
        .expect(200)
        .json();
    assert_eq!(ok["total_primed"]["domain"], 1);
    cut_tx.send(true).unwrap();
    let started = std::time::Instant::now();
    let r = w.post("api/redis/prime", json!({})).await.expect(503);
    is_error_document(&r);
    assert!(
        r.json()["error"].as_str().unwrap().contains("redis"),
        "{}",
        r.text()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let certs = w.get("certificate-signeds").await.json();
    assert_eq!(
        certs["pagination"]["total_items"], 1,
        "the store is untouched"
    );
}
