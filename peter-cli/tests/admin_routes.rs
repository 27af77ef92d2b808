//! Every admin route, exercised against a real Pebble with real HTTP-01
//! validation, in one flow; at the end the test checks that each operation
//! of the OpenAPI document was called at least once.

mod support;

use std::process::Command;
use std::time::Duration;

use peter_acme::testkit::{Pebble, PebbleOptions};
use serde_json::{Value, json};
use support::module_server;
use support::*;

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?} failed");
    out.stdout
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_route_is_exercised_against_pebble() {
    let pebble = Pebble::start(PebbleOptions {
        http_port: None,
        env: vec![
            ("PEBBLE_ALTERNATE_ROOTS".into(), "1".into()),
            ("PEBBLE_AUTHZREUSE".into(), "0".into()),
        ],
        ..Default::default()
    })
    .await;
    // Redis priming on every change (style 2, under a prefix of this run)
    // and one OpenResty server that records what it is asked.
    let redis_url =
        std::env::var("PETER_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("peter-admin-routes-{}:", std::process::id());
    let primer = peter_store::redis_prime::RedisPrimer::connect(&redis_url, &prefix, Some(600))
        .await
        .expect("Redis must be running on 127.0.0.1:6379");
    let (module_url, module_calls) = module_server(Duration::ZERO).await;
    let mut nginx_settings = peter_http::nginx::NginxSettings::new(vec![module_url.clone()]);
    nginx_settings.userpass = Some("peter:sslers".into());
    let nginx = std::sync::Arc::new(peter_http::nginx::NginxClient::new(nginx_settings).unwrap());
    let w = AdminWorld::start_with(
        "routes",
        pebble.http_port,
        AdminWorld::default_access(),
        true,
        Some(support::Redis {
            publisher: std::sync::Arc::new(primer.clone()),
            style: peter_core::ports::PrimeStyle::Two,
            on_change: true,
        }),
        Some(nginx),
    )
    .await;
    let documented = w.documented_operations().await;
    assert!(
        documented.len() >= 90,
        "{} operations documented",
        documented.len()
    );

    // ---- ACME server and account
    let server = w
        .post(
            "acme-server/new",
            json!({"name": "pebble", "directory_url": pebble.directory_url,
                   "ca_bundle_pem": pebble.tls_ca_pem, "is_default": true}),
        )
        .await
        .expect(200)
        .json();
    let server_id = id(&server["AcmeServer"]);
    assert_eq!(server["result"], "success");
    let servers = w.get("acme-servers").await.expect(200).json();
    assert_eq!(servers["AcmeServers"].as_array().unwrap().len(), 1);
    w.get(&format!("acme-server/{server_id}")).await.expect(200);
    // Named as well as numbered; its directory was read when it was added.
    let by_name = w.get("acme-server/pebble").await.expect(200).json();
    assert_eq!(id(&by_name["AcmeServer"]), server_id);
    assert_eq!(by_name["AcmeServer"]["supports_ari"], true);
    let renamed = w
        .post("acme-server/pebble/edit", json!({"name": "pebble-main"}))
        .await
        .expect(200)
        .json();
    assert_eq!(renamed["AcmeServer"]["name"], "pebble-main");
    w.post("acme-server/pebble-main/edit", json!({"name": "12"}))
        .await
        .expect(422);
    w.post("acme-server/pebble-main/edit", json!({"name": "pebble"}))
        .await
        .expect(200);
    w.post("acme-server/nope/check", json!({}))
        .await
        .expect(404);
    let checked = w
        .post(&format!("acme-server/{server_id}/check"), json!({}))
        .await
        .expect(200)
        .json();
    assert!(checked["AcmeServer"]["directory_checked_at"].is_string());
    w.post("acme-server/pebble/set-default", json!({}))
        .await
        .expect(200);

    let account = w
        .post(
            "acme-account/new",
            json!({"contact": "ops@example.com", "global_default": true}),
        )
        .await
        .expect(200)
        .json();
    let account_id = id(&account["AcmeAccount"]);
    assert!(
        account["AcmeAccount"]["account_url"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1")
    );
    assert_eq!(account["AcmeAccount"]["is_global_default"], true);
    // A server with accounts is not removed.
    w.post("acme-server/pebble/remove", json!({}))
        .await
        .expect(409);

    // ---- domains
    let d = w
        .post_form("domain/new", "domain_name=Example.COM")
        .await
        .expect(200)
        .json();
    assert_eq!(d["is_created"], true);
    assert_eq!(d["Domain"]["domain_name"], "example.com");
    let again = w
        .post("domain/new", json!({"domain_name": "example.com"}))
        .await
        .expect(200)
        .json();
    assert_eq!(again["is_created"], false);
    let domain_id = id(&d["Domain"]);

    // ---- an order processed in one call (multi-name) and one single-name
    let multi = w
        .post(
            "acme-order/new/freeform",
            json!({"domain_names": "example.com, www.example.com", "processing_strategy": "process_single"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(multi["AcmeOrder"]["status"], "valid", "{multi}");
    let multi_order = id(&multi["AcmeOrder"]);
    let cert_multi = multi["AcmeOrder"]["certificate_signed_id"]
        .as_i64()
        .unwrap();
    let single = w
        .post_form("acme-order/new/freeform", "domain_names=example.com")
        .await
        .expect(200)
        .json();
    let cert_single = single["AcmeOrder"]["certificate_signed_id"]
        .as_i64()
        .unwrap();

    // ---- the issuance primed Redis on its own (style 2: fullchain + key)
    let (fullchain_primed, key_primed) = primer
        .read_style_two("www.example.com")
        .await
        .unwrap()
        .expect("primed after issuance");
    assert!(fullchain_primed.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(key_primed.starts_with("-----BEGIN PRIVATE KEY-----"));

    // ---- config.json, by name and by id, always current
    let config = w
        .get("domain/example.com/config.json")
        .await
        .expect(200)
        .json();
    assert_eq!(config["domain"]["id"], domain_id.to_string());
    assert_eq!(
        config["certificate_signed__latest_single"]["id"],
        cert_single.to_string()
    );
    assert_eq!(
        config["certificate_signed__latest_multi"]["id"],
        cert_multi.to_string()
    );
    let multi_cfg = &config["certificate_signed__latest_multi"];
    let fullchain_id = multi_cfg["fullchain"]["id"].as_str().unwrap();
    assert_eq!(
        fullchain_id,
        format!(
            "{cert_multi},{}",
            multi_cfg["chain"]["id"].as_str().unwrap()
        )
    );
    assert!(
        multi_cfg["private_key"]["pem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----\n")
    );
    let id_only = w
        .get(&format!("domain/{domain_id}/config.json?id_only=1"))
        .await
        .expect(200)
        .json();
    assert!(
        id_only["certificate_signed__latest_multi"]["certificate"]
            .get("pem")
            .is_none()
    );

    // ---- domain focus and related lists
    assert_eq!(
        w.get("domain/EXAMPLE.com").await.expect(200).json()["Domain"]["id"],
        domain_id
    );
    let dl = w.get("domains?per_page=1&page=1").await.expect(200).json();
    assert_eq!(dl["pagination"]["total_items"], 2);
    assert_eq!(dl["pagination"]["page_next"], 2);
    assert_eq!(dl["Domains"].as_array().unwrap().len(), 1);
    let dc = w
        .get(&format!("domain/{domain_id}/certificate-signeds"))
        .await
        .expect(200)
        .json();
    assert_eq!(dc["pagination"]["total_items"], 2);
    let dorders = w
        .get("domain/example.com/acme-orders")
        .await
        .expect(200)
        .json();
    assert_eq!(dorders["AcmeOrders"].as_array().unwrap().len(), 2);
    let da = w
        .get("domain/example.com/acme-authorizations")
        .await
        .expect(200)
        .json();
    assert_eq!(
        da["AcmeAuthorizations"].as_array().unwrap().len(),
        2,
        "authz reuse is off"
    );
    let dch = w
        .get("domain/example.com/acme-challenges")
        .await
        .expect(200)
        .json();
    assert!(!dch["AcmeChallenges"].as_array().unwrap().is_empty());
    let ds = w
        .get("domain/example.com/unique-fqdn-sets")
        .await
        .expect(200)
        .json();
    assert_eq!(ds["UniqueFQDNSets"].as_array().unwrap().len(), 2);

    // ---- certificate lists, focus, files
    for list in [
        "certificate-signeds",
        "certificate-signeds/active",
        "certificate-signeds/expiring?days=365",
    ] {
        let l = w.get(list).await.expect(200).json();
        assert_eq!(
            l["CertificateSigneds"].as_array().unwrap().len(),
            2,
            "{list}"
        );
    }
    assert_eq!(
        w.get("certificate-signeds/inactive")
            .await
            .expect(200)
            .json()["pagination"]["total_items"],
        0
    );
    let focus = w
        .get(&format!("certificate-signed/{cert_multi}"))
        .await
        .expect(200)
        .json();
    let cert_pem = focus["CertificateSigned"]["cert_pem"]
        .as_str()
        .unwrap()
        .to_string();
    let key_id = focus["CertificateSigned"]["private_key_id"]
        .as_i64()
        .unwrap();
    let expected_types = [
        ("cert.pem", "application/x-pem-file"),
        ("cert.pem.txt", "text/plain"),
        ("cert.cer", "application/pkix-cert"),
        ("cert.crt", "application/x-x509-server-cert"),
        ("cert.der", "application/x-x509-server-cert"),
        ("chain.pem", "application/x-pem-file"),
        ("chain.pem.txt", "text/plain"),
        ("fullchain.pem", "application/x-pem-file"),
        ("fullchain.pem.txt", "text/plain"),
        ("privkey.pem", "application/x-pem-file"),
        ("privkey.pem.txt", "text/plain"),
        ("privkey.key", "application/pkcs8"),
    ];
    for (file, ctype) in expected_types {
        let r = w
            .get(&format!("certificate-signed/{cert_multi}/{file}"))
            .await
            .expect(200);
        assert_eq!(r.content_type(), ctype, "{file}");
    }
    let der = w
        .get(&format!("certificate-signed/{cert_multi}/cert.der"))
        .await
        .body;
    assert_eq!(
        der,
        openssl(&["x509", "-outform", "DER"], cert_pem.as_bytes()),
        "DER is exact"
    );
    assert_eq!(
        w.get(&format!("certificate-signed/{cert_multi}/cert.pem"))
            .await
            .text(),
        cert_pem
    );
    let privkey_pem = w
        .get(&format!("certificate-signed/{cert_multi}/privkey.pem"))
        .await
        .body;
    let privkey_der = w
        .get(&format!("certificate-signed/{cert_multi}/privkey.key"))
        .await
        .body;
    assert_eq!(
        privkey_der,
        openssl(
            &["pkcs8", "-topk8", "-nocrypt", "-outform", "DER"],
            &privkey_pem
        )
    );
    let fullchain = w
        .get(&format!("certificate-signed/{cert_multi}/fullchain.pem"))
        .await
        .text();
    assert!(fullchain.starts_with(&cert_pem) && fullchain.ends_with("-----END CERTIFICATE-----\n"));
    assert!(!fullchain.contains("\r"));
    assert_eq!(
        fullchain.matches("BEGIN CERTIFICATE").count(),
        2,
        "leaf + intermediate, no root"
    );
    w.get(&format!("certificate-signed/{cert_multi}/nope.pem"))
        .await
        .expect(400);

    let cfg = w
        .get(&format!("certificate-signed/{cert_multi}/config.json"))
        .await
        .expect(200)
        .json();
    assert_eq!(cfg["certificate"]["pem"].as_str().unwrap(), cert_pem);
    let cfg_ids = w
        .get(&format!(
            "certificate-signed/{cert_multi}/config.json?idonly=1"
        ))
        .await
        .expect(200)
        .json();
    assert!(cfg_ids["private_key"].get("pem").is_none());
    let zip = w
        .get(&format!("certificate-signed/{cert_multi}/config.zip"))
        .await
        .expect(200);
    assert_eq!(zip.content_type(), "application/zip");
    assert!(zip.body.starts_with(b"PK"));
    assert!(
        zip.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("cert{cert_multi}.zip"))
    );
    for name in ["cert", "chain", "fullchain", "privkey"] {
        let entry = format!("{name}{cert_multi}.pem");
        assert!(
            zip.body.windows(entry.len()).any(|w| w == entry.as_bytes()),
            "{entry} in zip"
        );
    }

    // alternate chains: Pebble offered two
    let offers = w
        .get(&format!(
            "certificate-signed/{cert_multi}/certificate-ca-chains"
        ))
        .await
        .expect(200)
        .json();
    let offers = offers["CertificateCAChains"].as_array().unwrap().clone();
    assert_eq!(offers.len(), 2, "PEBBLE_ALTERNATE_ROOTS=1 gives two chains");
    let alt = offers
        .iter()
        .find(|o| o["is_upstream_default"] == false)
        .unwrap();
    let alt_id = id(&alt["CertificateCAChain"]);
    let via = w
        .get(&format!(
            "certificate-signed/{cert_multi}/via-certificate-ca-chain/{alt_id}/chain.pem"
        ))
        .await
        .expect(200);
    // Lists carry no PEM: the chain's focus view does.
    assert!(alt["CertificateCAChain"]["chain_pem"].is_null());
    let alt_chain = w
        .get(&format!("certificate-ca-chain/{alt_id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(
        via.text(),
        alt_chain["CertificateCAChain"]["chain_pem"]
            .as_str()
            .unwrap()
    );
    w.get(&format!(
        "certificate-signed/{cert_multi}/via-certificate-ca-chain/{alt_id}/fullchain.pem.txt"
    ))
    .await
    .expect(200);
    let via_cfg = w
        .get(&format!(
            "certificate-signed/{cert_multi}/via-certificate-ca-chain/{alt_id}/config.json"
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(via_cfg["chain"]["id"], alt_id.to_string());
    let via_zip = w
        .get(&format!(
            "certificate-signed/{cert_multi}/via-certificate-ca-chain/{alt_id}/config.zip"
        ))
        .await
        .expect(200);
    assert!(
        via_zip.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("cert{cert_multi}-chain{alt_id}.zip"))
    );
    w.get(&format!(
        "certificate-signed/{cert_multi}/via-certificate-ca-chain/999999/chain.pem"
    ))
    .await
    .expect(404);

    // ---- CA certificates, chains and the preference list
    let cas = w.get("certificate-cas").await.expect(200).json();
    let cas = cas["CertificateCAs"].as_array().unwrap().clone();
    assert!(cas.len() >= 2);
    let alt_ca_id = alt["CertificateCAChain"]["certificate_ca_ids"][0]
        .as_i64()
        .unwrap();
    let alt_ca = w
        .get(&format!("certificate-ca/{alt_ca_id}"))
        .await
        .expect(200)
        .json();
    for (file, ctype) in [
        ("cert.pem", "application/x-pem-file"),
        ("cert.pem.txt", "text/plain"),
        ("cert.cer", "application/pkix-cert"),
        ("cert.crt", "application/x-x509-ca-cert"),
        ("cert.der", "application/x-x509-ca-cert"),
    ] {
        assert_eq!(
            w.get(&format!("certificate-ca/{alt_ca_id}/{file}"))
                .await
                .expect(200)
                .content_type(),
            ctype
        );
    }
    let fp = alt_ca["CertificateCA"]["fingerprint_sha1"]
        .as_str()
        .unwrap()[..8]
        .to_string();
    let prefs = w
        .post_form(
            "certificate-cas/preferred/add",
            &format!("fingerprint_sha1={fp}"),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(id(&prefs["CertificateCAs"][0]), alt_ca_id);
    // the preferred chain now serves through the alternate CA, at once
    let config = w
        .get("domain/www.example.com/config.json")
        .await
        .expect(200)
        .json();
    assert_eq!(
        config["certificate_signed__latest_multi"]["chain"]["id"],
        alt_id.to_string()
    );
    let other_ca = cas.iter().map(id).find(|i| *i != alt_ca_id).unwrap();
    w.post(
        "certificate-cas/preferred/add",
        json!({"certificate_ca_id": other_ca}),
    )
    .await
    .expect(200);
    let moved = w
        .post(
            "certificate-cas/preferred/prioritize",
            json!({"certificate_ca_id": other_ca, "priority": "increase"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(id(&moved["CertificateCAs"][0]), other_ca);
    let listed = w.get("certificate-cas/preferred").await.expect(200).json();
    assert_eq!(listed["CertificateCAs"].as_array().unwrap().len(), 2);
    let left = w
        .post(
            "certificate-cas/preferred/delete",
            json!({"certificate_ca_id": other_ca}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(left["CertificateCAs"].as_array().unwrap().len(), 1);
    let root = pebble.root_pem(0).await;
    let up = w
        .post("certificate-ca/upload-cert", json!({"cert_file": root}))
        .await
        .expect(200)
        .json();
    assert_eq!(up["CertificateCA"]["is_trusted_root"], true);
    let chains = w.get("certificate-ca-chains").await.expect(200).json();
    let chain_id = id(&chains["CertificateCAChains"][0]);
    w.get(&format!("certificate-ca-chain/{chain_id}"))
        .await
        .expect(200);
    assert_eq!(
        w.get(&format!("certificate-ca-chain/{chain_id}/chain.pem"))
            .await
            .expect(200)
            .content_type(),
        "application/x-pem-file"
    );
    assert_eq!(
        w.get(&format!("certificate-ca-chain/{chain_id}/chain.pem.txt"))
            .await
            .expect(200)
            .content_type(),
        "text/plain"
    );

    // ---- requests and sets
    let csrs = w.get("certificate-requests").await.expect(200).json();
    let csr_id = id(&csrs["CertificateRequests"][0]);
    w.get(&format!("certificate-request/{csr_id}"))
        .await
        .expect(200);
    for (file, ctype) in [
        ("csr.pem", "application/x-pem-file"),
        ("csr.pem.txt", "text/plain"),
        ("csr.csr", "application/pkcs10"),
    ] {
        let r = w
            .get(&format!("certificate-request/{csr_id}/{file}"))
            .await
            .expect(200);
        assert_eq!(r.content_type(), ctype);
        assert!(r.text().starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
    }
    let sets = w.get("unique-fqdn-sets").await.expect(200).json();
    let set_id = id(&sets["UniqueFQDNSets"][0]);
    w.get(&format!("unique-fqdn-set/{set_id}"))
        .await
        .expect(200);

    // ---- private keys
    let keys = w.get("private-keys").await.expect(200).json();
    assert!(keys["pagination"]["total_items"].as_u64().unwrap() >= 2);
    let k = w
        .get(&format!("private-key/{key_id}"))
        .await
        .expect(200)
        .json();
    assert!(
        k["PrivateKey"].get("key_pem").is_none(),
        "views never carry key PEM"
    );
    for (file, ctype) in [
        ("key.pem", "application/x-pem-file"),
        ("key.pem.txt", "text/plain"),
        ("key.key", "application/pkcs8"),
    ] {
        assert_eq!(
            w.get(&format!("private-key/{key_id}/{file}"))
                .await
                .expect(200)
                .content_type(),
            ctype
        );
    }
    let kc = w
        .get(&format!("private-key/{key_id}/certificate-signeds"))
        .await
        .expect(200)
        .json();
    assert_eq!(id(&kc["CertificateSigneds"][0]), cert_multi);
    let newkey = w
        .post("private-key/new", json!({"key_technology": "EC_P384"}))
        .await
        .expect(200)
        .json();
    assert_eq!(newkey["PrivateKey"]["key_technology"], "EC_P384");
    let pem = openssl(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ],
        b"",
    );
    let upk = w
        .post(
            "private-key/upload",
            json!({"private_key_file_pem": String::from_utf8(pem).unwrap()}),
        )
        .await
        .expect(200)
        .json();
    let upk_id = id(&upk["PrivateKey"]);
    assert_eq!(
        w.post_form(&format!("private-key/{upk_id}/mark"), "action=inactive")
            .await
            .expect(200)
            .json()["PrivateKey"]["is_active"],
        false
    );
    w.post_form(&format!("private-key/{upk_id}/mark"), "action=active")
        .await
        .expect(200);

    // ---- a manual order: each ACME step by its own route
    let manual = w
        .post(
            "acme-order/new/freeform",
            json!({"domain_names": "manual.example.com", "processing_strategy": "create_order"}),
        )
        .await
        .expect(200)
        .json();
    let manual_id = id(&manual["AcmeOrder"]);
    assert_eq!(manual["AcmeOrder"]["status"], "pending");
    w.post(
        &format!("acme-order/{manual_id}/acme-server/sync"),
        json!({}),
    )
    .await
    .expect(200);
    w.post(
        &format!("acme-order/{manual_id}/acme-server/sync-authorizations"),
        json!({}),
    )
    .await
    .expect(200);
    let authzs = w
        .get(&format!("acme-order/{manual_id}/acme-authorizations"))
        .await
        .expect(200)
        .json();
    let authz_id = id(&authzs["AcmeAuthorizations"][0]);
    w.get(&format!("acme-authorization/{authz_id}"))
        .await
        .expect(200);
    let challenges = w
        .get(&format!("acme-authorization/{authz_id}/acme-challenges"))
        .await
        .expect(200)
        .json();
    let http01 = challenges["AcmeChallenges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["challenge_type"] == "http-01")
        .unwrap()
        .clone();
    let challenge_id = id(&http01);
    w.get(&format!("acme-challenge/{challenge_id}"))
        .await
        .expect(200);
    w.post(
        &format!("acme-challenge/{challenge_id}/acme-server/trigger"),
        json!({}),
    )
    .await
    .expect(200);
    wait_for("challenge valid", || async {
        w.post(
            &format!("acme-challenge/{challenge_id}/acme-server/sync"),
            json!({}),
        )
        .await
        .expect(200)
        .json()["AcmeChallenge"]["status"]
            == "valid"
    })
    .await;
    let polls = w
        .get(&format!(
            "acme-challenge/{challenge_id}/acme-challenge-polls"
        ))
        .await
        .expect(200)
        .json();
    assert!(
        !polls["AcmeChallengePolls"].as_array().unwrap().is_empty(),
        "Pebble's fetch was recorded"
    );
    w.post(
        &format!("acme-authorization/{authz_id}/acme-server/sync"),
        json!({}),
    )
    .await
    .expect(200);
    wait_for("order ready", || async {
        w.post(
            &format!("acme-order/{manual_id}/acme-server/sync"),
            json!({}),
        )
        .await
        .expect(200)
        .json()["AcmeOrder"]["status"]
            == "ready"
    })
    .await;
    w.post(&format!("acme-order/{manual_id}/acme-finalize"), json!({}))
        .await
        .expect(200);
    let downloaded = w
        .post(
            &format!("acme-order/{manual_id}/acme-server/download-certificate"),
            json!({}),
        )
        .await
        .expect(200)
        .json();
    assert!(
        downloaded["AcmeOrder"]["certificate_signed_id"].is_i64(),
        "{downloaded}"
    );

    // ---- step by step with acme-process
    let stepwise = w
        .post(
            "acme-order/new/freeform",
            json!({"domain_names": "steps.example.com", "processing_strategy": "create_order"}),
        )
        .await
        .expect(200)
        .json();
    let stepwise_id = id(&stepwise["AcmeOrder"]);
    let one = w
        .post(
            &format!("acme-order/{stepwise_id}/acme-process"),
            json!({"steps": "one"}),
        )
        .await
        .expect(200)
        .json();
    assert!(one["step"].is_string());
    let done = w
        .post_form(
            &format!("acme-order/{stepwise_id}/acme-process"),
            "steps=all",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(done["AcmeOrder"]["status"], "valid");

    // ---- deactivating authorizations, retry, order marks
    let doomed = w
        .post(
            "acme-order/new/freeform",
            json!({"domain_names": "doomed.example.com", "processing_strategy": "create_order"}),
        )
        .await
        .expect(200)
        .json();
    let doomed_id = id(&doomed["AcmeOrder"]);
    w.post(
        &format!("acme-order/{doomed_id}/acme-server/deactivate-authorizations"),
        json!({}),
    )
    .await
    .expect(200);
    let synced = w
        .post(
            &format!("acme-order/{doomed_id}/acme-server/sync"),
            json!({}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(synced["AcmeOrder"]["status"], "invalid");
    let retried = w
        .post(
            &format!("acme-order/{doomed_id}/retry"),
            json!({"processing_strategy": "process_single"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(retried["AcmeOrder"]["status"], "valid");
    assert_eq!(retried["AcmeOrder"]["acme_order_id_retry_of"], doomed_id);
    let lone = w
        .post(
            "acme-order/new/freeform",
            json!({"domain_names": "lone.example.com", "processing_strategy": "create_order"}),
        )
        .await
        .expect(200)
        .json();
    let lone_id = id(&lone["AcmeOrder"]);
    w.post(
        &format!("acme-order/{lone_id}/acme-server/sync-authorizations"),
        json!({}),
    )
    .await
    .expect(200);
    let lone_authz = w
        .get(&format!("acme-order/{lone_id}/acme-authorizations"))
        .await
        .expect(200)
        .json();
    let lone_authz_id = id(&lone_authz["AcmeAuthorizations"][0]);
    let deact = w
        .post(
            &format!("acme-authorization/{lone_authz_id}/acme-server/deactivate"),
            json!({}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(deact["AcmeAuthorization"]["status"], "deactivated");
    let marked = w
        .post_form(&format!("acme-order/{lone_id}/mark"), "action=invalid")
        .await
        .expect(200)
        .json();
    assert_eq!(marked["AcmeOrder"]["status"], "invalid");
    w.post_form(&format!("acme-order/{lone_id}/mark"), "action=bogus")
        .await
        .expect(422);

    // ---- renewal of an order's certificate
    let renewed = w
        .post(&format!("acme-order/{multi_order}/renew/quick"), json!({}))
        .await
        .expect(200)
        .json();
    assert_eq!(renewed["AcmeOrder"]["status"], "valid");
    assert_eq!(
        renewed["AcmeOrder"]["certificate_signed_id_renewal_of"],
        cert_multi
    );
    let renewed_cert = renewed["AcmeOrder"]["certificate_signed_id"]
        .as_i64()
        .unwrap();
    // "latest" is the active one that expires last (Pebble jitters validity,
    // so the renewal may end sooner); retiring the old one shows the new one
    // at the next request.
    w.post_form(
        &format!("certificate-signed/{cert_multi}/mark"),
        "action=inactive",
    )
    .await
    .expect(200);
    let config = w
        .get("domain/www.example.com/config.json")
        .await
        .expect(200)
        .json();
    assert_eq!(
        config["certificate_signed__latest_multi"]["id"],
        renewed_cert.to_string(),
        "config.json shows the change at once"
    );

    // ---- order lists and logs
    let all_orders = w.get("acme-orders").await.expect(200).json();
    assert!(all_orders["pagination"]["total_items"].as_u64().unwrap() >= 8);
    let active = w.get("acme-orders/active").await.expect(200).json();
    assert!(
        active["AcmeOrders"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| ["pending", "ready", "processing"].contains(&o["status"].as_str().unwrap()))
    );
    let finished = w.get("acme-orders/finished").await.expect(200).json();
    assert!(finished["pagination"]["total_items"].as_u64().unwrap() >= 6);
    w.get(&format!("acme-order/{multi_order}"))
        .await
        .expect(200);
    let events = w
        .get(&format!("acme-order/{multi_order}/acme-event-logs"))
        .await
        .expect(200)
        .json();
    let kinds: Vec<&str> = events["AcmeEventLogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["acme_event"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"v2|newOrder") && kinds.contains(&"v2|Certificate-procured"),
        "{kinds:?}"
    );
    let all_events = w.get("acme-event-logs?per_page=5").await.expect(200).json();
    assert_eq!(all_events["AcmeEventLogs"].as_array().unwrap().len(), 5);
    let event_id = id(&all_events["AcmeEventLogs"][0]);
    w.get(&format!("acme-event-log/{event_id}"))
        .await
        .expect(200);
    w.get("operations-events").await.expect(200);
    let alerts = w.get("alerts").await.expect(200).json();
    assert!(alerts["AlertDeliveries"].as_array().is_some(), "{alerts}");
    assert!(
        w.get("acme-authorizations").await.expect(200).json()["pagination"]["total_items"]
            .as_u64()
            .unwrap()
            >= 6
    );
    assert!(
        w.get("acme-challenges").await.expect(200).json()["pagination"]["total_items"]
            .as_u64()
            .unwrap()
            >= 6
    );
    assert!(
        w.get("acme-challenge-polls").await.expect(200).json()["pagination"]["total_items"]
            .as_u64()
            .unwrap()
            >= 6
    );
    let _ = w
        .get_as("/.well-known/acme-challenge/no-such-token", None)
        .await;
    let unknown = w
        .get("acme-challenge-unknown-polls")
        .await
        .expect(200)
        .json();
    wait_for("unknown poll recorded", || async {
        w.get("acme-challenge-unknown-polls").await.json()["pagination"]["total_items"]
            .as_u64()
            .unwrap()
            >= 1
    })
    .await;
    let _ = unknown;

    // ---- upload, marks and upstream revocation
    let pki = peter_core::testkit::TestPki::new("admin-upload");
    let leaf = pki.issue(
        &["upload.example.org"],
        peter_core::model::KeyTechnology::EcP256,
    );
    let uploaded = w
        .post(
            "certificate-signed/upload",
            json!({"certificate_file": leaf.certificate.pem(), "private_key_file_pem": leaf.key.pem(), "chain_file": pki.chain_pem()}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(uploaded["CertificateSigned"]["created"], true);
    let up_id = uploaded["CertificateSigned"]["id"].as_i64().unwrap();
    let inactive = w
        .post_form(
            &format!("certificate-signed/{up_id}/mark"),
            "action=inactive",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(inactive["CertificateSigned"]["is_active"], false);
    let cfg = w
        .get("domain/upload.example.org/config.json")
        .await
        .expect(200)
        .json();
    assert!(
        cfg["certificate_signed__latest_single"].is_null(),
        "inactive is not served"
    );
    w.post(
        &format!("certificate-signed/{up_id}/mark"),
        json!({"action": "revoked"}),
    )
    .await
    .expect(200);
    w.post(
        &format!("certificate-signed/{up_id}/mark"),
        json!({"action": "active"}),
    )
    .await
    .expect(409);
    let revoked = w
        .post(
            &format!("certificate-signed/{cert_single}/acme-server/revoke"),
            json!({"reason": "superseded"}),
        )
        .await
        .expect(200)
        .json();
    assert!(revoked["CertificateSigned"]["timestamp_revoked_upstream"].is_string());
    w.post(
        &format!("certificate-signed/{cert_single}/acme-server/revoke"),
        json!({}),
    )
    .await
    .expect(409);

    // key compromise revokes the key's certificates upstream
    let manual_cert = downloaded["AcmeOrder"]["certificate_signed_id"]
        .as_i64()
        .unwrap();
    let manual_key = w
        .get(&format!("certificate-signed/{manual_cert}"))
        .await
        .json()["CertificateSigned"]["private_key_id"]
        .as_i64()
        .unwrap();
    let comp = w
        .post_form(
            &format!("private-key/{manual_key}/mark"),
            "action=compromised",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(comp["PrivateKey"]["is_compromised"], true);
    assert_eq!(comp["revoked_certificate_signed_ids"], json!([manual_cert]));

    // ---- domain marks: an inactive domain serves nothing
    let off = w
        .post_form("domain/www.example.com/mark", "action=inactive")
        .await
        .expect(200)
        .json();
    assert_eq!(off["Domain"]["is_active"], false);
    let cfg = w
        .get("domain/www.example.com/config.json")
        .await
        .expect(200)
        .json();
    assert!(cfg["certificate_signed__latest_multi"].is_null());
    assert_eq!(cfg["domain"]["is_active"], false);
    w.post("domain/www.example.com/mark", json!({"action": "active"}))
        .await
        .expect(200);
    assert!(w.get("domain/www.example.com/config.json").await.json()["certificate_signed__latest_multi"].is_object());
    w.post("domain/www.example.com/mark", json!({"action": "maybe"}))
        .await
        .expect(422);
    // How the domain is validated: dns-01 and back; tls-alpn-01 is a 422.
    let dns = w
        .post_form(
            "domain/www.example.com/challenge-type",
            "challenge_type=dns-01",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(dns["Domain"]["challenge_type"], "dns-01");
    w.post(
        "domain/www.example.com/challenge-type",
        json!({"challenge_type": "tls-alpn-01"}),
    )
    .await
    .expect(422);
    let http = w
        .post(
            "domain/www.example.com/challenge-type",
            json!({"challenge_type": "http-01"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(http["Domain"]["challenge_type"], "http-01");
    // peter's own DNS is not configured here: no delegation to show.
    w.get("domain/www.example.com/dns-delegation")
        .await
        .expect(409);

    // ---- bulk API
    let enabled = w
        .post_form(
            "api/domain/enable",
            "domain_names=a.example.net,example.com",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(enabled["domain_results"]["a.example.net"], "new");
    assert_eq!(enabled["domain_results"]["example.com"], "exists");
    let disabled = w
        .post(
            "api/domain/disable",
            json!({"domain_names": "a.example.net nobody.example.net"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(disabled["domain_results"]["a.example.net"], "deactivated");
    assert_eq!(disabled["domain_results"]["nobody.example.net"], "unknown");
    let exists = w
        .post(
            "api/domain/certificate-if-needed",
            json!({"domain_name": "www.example.com"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        exists["domain_results"]["www.example.com"]["certificate_signed.status"],
        "exists"
    );
    assert!(exists["domain_results"]["www.example.com"]["acme_order.id"].is_null());
    let fresh = w
        .post_form(
            "api/domain/certificate-if-needed",
            "domain_name=needed.example.com",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        fresh["domain_results"]["needed.example.com"]["certificate_signed.status"], "new",
        "{fresh}"
    );
    assert_eq!(
        fresh["domain_results"]["needed.example.com"]["domain.status"],
        "new"
    );
    // autocert answers a name that has a certificate without ordering (no
    // allowlist is configured here, so a new name would be refused).
    let auto = w
        .post(
            "api/domain/autocert",
            json!({"domain_name": "www.example.com"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(auto["notes"], "existing certificate(s)", "{auto}");
    assert!(auto["certificate_signed__latest_multi"].is_object());
    let refused = w
        .post_form(
            "api/domain/autocert.json?openresty=1",
            "domain_name=new.example.com",
        )
        .await
        .expect(409)
        .json();
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("autocert.allow"),
        "{refused}"
    );
    let attempts = w.get("domain-autocerts").await.expect(200).json();
    assert_eq!(attempts["pagination"]["total_items"], 0, "{attempts}");
    // Renewal configurations: issuance recorded one per set; the operator
    // may replace it; without a backup there is nothing to order from.
    let configs = w.get("renewal-configurations").await.expect(200).json();
    let first = &configs["RenewalConfigurations"][0];
    assert!(first["acme_account_id"].is_i64(), "{configs}");
    let config_id = first["id"].as_i64().unwrap();
    w.get(&format!("renewal-configuration/{config_id}"))
        .await
        .expect(200);
    let replaced = w
        .post(
            "renewal-configuration/new",
            json!({"domain_names": first["domain_names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect::<Vec<_>>().join(" "), "acme_account_id": first["acme_account_id"], "failover_after": 5}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        replaced["RenewalConfiguration"]["id"], config_id,
        "{replaced}"
    );
    assert_eq!(replaced["RenewalConfiguration"]["failover_after"], 5);
    let no_backup = w
        .post(
            &format!("renewal-configuration/{config_id}/order-backup"),
            json!({}),
        )
        .await
        .expect(422)
        .json();
    assert!(
        no_backup["error"].as_str().unwrap().contains("no backup"),
        "{no_backup}"
    );
    let expired = w
        .post("api/deactivate-expired", json!({}))
        .await
        .expect(200)
        .json();
    assert_eq!(expired["CertificateSigned"]["expired"], 0);

    // ---- account routes, deactivation last
    let acct = w
        .get(&format!("acme-account/{account_id}"))
        .await
        .expect(200)
        .json();
    assert!(acct["AcmeAccount"].get("key_pem").is_none());
    assert_eq!(
        w.get("acme-accounts").await.expect(200).json()["pagination"]["total_items"],
        1
    );
    for (file, ctype) in [
        ("key.pem", "application/x-pem-file"),
        ("key.pem.txt", "text/plain"),
        ("key.key", "application/pkcs8"),
    ] {
        assert_eq!(
            w.get(&format!("acme-account/{account_id}/{file}"))
                .await
                .expect(200)
                .content_type(),
            ctype
        );
    }
    let ao = w
        .get(&format!("acme-account/{account_id}/acme-orders"))
        .await
        .expect(200)
        .json();
    assert!(ao["pagination"]["total_items"].as_u64().unwrap() >= 8);
    let key_before = w
        .get(&format!("acme-account/{account_id}/key.pem"))
        .await
        .text();
    let checked = w
        .post(
            &format!("acme-account/{account_id}/acme-server/check"),
            json!({}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(checked["is_existing"], true);
    // To RSA and back to EC P-256; a P-384 account key is a 422.
    let rolled = w
        .post(
            &format!("acme-account/{account_id}/acme-server/key-change?key_technology=RSA_2048"),
            json!({}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        rolled["AcmeAccount"]["acme_account_key_technology"],
        "RSA_2048"
    );
    w.post(
        &format!("acme-account/{account_id}/acme-server/key-change?key_technology=EC_P384"),
        json!({}),
    )
    .await
    .expect(422);
    w.post(
        &format!("acme-account/{account_id}/acme-server/key-change?key_technology=EC_P256"),
        json!({}),
    )
    .await
    .expect(200);
    assert_ne!(
        w.get(&format!("acme-account/{account_id}/key.pem"))
            .await
            .text(),
        key_before
    );
    w.post_form(
        &format!("acme-account/{account_id}/mark"),
        "action=global_default",
    )
    .await
    .expect(200);
    let edited = w
        .post_form(
            &format!("acme-account/{account_id}/edit"),
            "contact=second-ops%40example.com&private_key_cycle=account_weekly",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(edited["AcmeAccount"]["contact"], "second-ops@example.com");
    assert_eq!(edited["AcmeAccount"]["private_key_cycle"], "account_weekly");
    w.post_form(&format!("acme-account/{account_id}/edit"), "")
        .await
        .expect(422);
    let imported_key = openssl(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ],
        b"",
    );
    let second = w
        .post("acme-account/upload", json!({"account_key_file_pem": String::from_utf8(imported_key).unwrap(), "contact": "two@example.com"}))
        .await
        .expect(200)
        .json();
    assert!(second["AcmeAccount"]["account_url"].is_string());
    let gone = w
        .post(
            &format!("acme-account/{account_id}/acme-server/deactivate"),
            json!({}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(gone["AcmeAccount"]["is_active"], false);

    // ---- Redis, nginx and metrics
    let primed = w
        .post("api/redis/prime", json!({"style": "1"}))
        .await
        .expect(200)
        .json();
    assert!(
        primed["total_primed"]["domain"].as_u64().unwrap() >= 5,
        "{primed}"
    );
    let one = w
        .post_form("api/redis/prime", "domain_name=www.example.com")
        .await
        .expect(200)
        .json();
    assert_eq!(one["total_primed"]["domain"], 1);
    assert_eq!(one["style"], "2");
    // Redis holds the same chain config.json serves (the preferred one)
    let (redis_fullchain, _) = primer
        .read_style_two("www.example.com")
        .await
        .unwrap()
        .unwrap();
    let served = w
        .get("domain/www.example.com/config.json")
        .await
        .expect(200)
        .json();
    assert_eq!(
        redis_fullchain,
        served["certificate_signed__latest_multi"]["fullchain"]["pem"]
            .as_str()
            .unwrap()
    );
    let served_chain = served["certificate_signed__latest_multi"]["chain"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let chain_view = w
        .get(&format!("certificate-ca-chain/{served_chain}"))
        .await
        .expect(200)
        .json();
    assert!(
        chain_view["CertificateCAChain"]["certificate_ca_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(alt_ca_id)),
        "the preferred CA's chain is served (and primed)"
    );
    w.post("api/redis/prime", json!({"style": "3"}))
        .await
        .expect(422);
    let flushed = w
        .post("api/nginx/cache-flush", json!({}))
        .await
        .expect(200)
        .json();
    assert_eq!(flushed["servers_status"]["success"], json!([module_url]));
    w.post_form("api/nginx/cache-flush", "domain_name=www.example.com")
        .await
        .expect(200);
    let status = w
        .post("api/nginx/status", json!({}))
        .await
        .expect(200)
        .json();
    assert_eq!(
        status["servers_status"]["servers"][&module_url]["server"],
        "peter_sslers:openresty"
    );
    w.post(&format!("domain/{domain_id}/nginx-cache-expire"), json!({}))
        .await
        .expect(200);
    w.post(
        &format!("certificate-signed/{renewed_cert}/nginx-cache-expire"),
        json!({}),
    )
    .await
    .expect(200);
    let calls = module_calls.lock().unwrap().clone();
    assert!(
        calls.iter().all(|c| c.ends_with("Basic cGV0ZXI6c3NsZXJz")),
        "{calls:?}"
    );
    for expected in ["/all ", "/domain/www.example.com ", "/domain/example.com "] {
        assert!(
            calls.iter().any(|c| c.contains(expected)),
            "{expected} in {calls:?}"
        );
    }

    // By default the series are bounded: no per-certificate expiry, but
    // counts by horizon and the earliest expiry.
    let bounded = w.get("metrics").await.expect(200).text();
    assert!(
        !bounded.contains("peter_certificate_expiration_timestamp_seconds{"),
        "{bounded}"
    );
    assert!(bounded.contains("peter_certificates_expiring{within_days=\"30\"}"));
    assert!(bounded.contains("peter_certificate_earliest_expiration_timestamp_seconds "));
    let metrics = w.get("metrics?per_certificate=true").await.expect(200);
    assert!(
        metrics
            .content_type()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = metrics.text();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("Prometheus text format");
    let value = |name: &str, label: (&str, &str)| -> f64 {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && s.labels.get(label.0) == Some(label.1))
            .map(|s| match s.value {
                prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .unwrap_or_else(|| panic!("{name}{label:?} missing from\n{text}"))
    };
    let active_now = w.get("certificate-signeds/active").await.json()["pagination"]["total_items"]
        .as_u64()
        .unwrap();
    assert_eq!(
        value("peter_certificates", ("state", "active")) as u64,
        active_now
    );
    assert!(value("peter_certificates", ("state", "revoked")) >= 1.0);
    assert!(value("peter_acme_orders", ("status", "valid")) >= 6.0);
    assert!(value("peter_acme_requests_total", ("endpoint", "v2|newOrder")) >= 8.0);
    let expiry = value(
        "peter_certificate_expiration_timestamp_seconds",
        ("id", &renewed_cert.to_string()),
    );
    let focus = w
        .get(&format!("certificate-signed/{renewed_cert}"))
        .await
        .json();
    let not_after = time::OffsetDateTime::parse(
        focus["CertificateSigned"]["timestamp_not_after"]
            .as_str()
            .unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expiry as i64, not_after.unix_timestamp());
    let expiry_series = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "peter_certificate_expiration_timestamp_seconds")
        .count() as u64;
    assert_eq!(
        expiry_series, active_now,
        "one series per active certificate, no more"
    );
    assert!(
        scrape
            .samples
            .iter()
            .any(|s| s.metric == "peter_renewal_failures")
    );

    // ---- the API's version, in the answer and in the document
    let version = w.get("api/version").await.expect(200).json();
    let doc: serde_json::Value =
        serde_json::from_slice(&w.get_as("api/openapi.json", None).await.expect(200).body).unwrap();
    assert_eq!(version["api_version"], doc["info"]["version"]);

    // ---- nothing documented was left out
    // and every admin path this flow reached is one the document describes
    let undocumented = w.undocumented_hits(&documented);
    assert!(
        undocumented.is_empty(),
        "requests to undocumented admin paths: {undocumented:#?}"
    );
    let missing = w.unexercised(&documented);
    assert!(
        missing.is_empty(),
        "admin operations no test called: {missing:#?}"
    );
}
