//! One table of mutations, run through the admin API and through the CLI,
//! each with Redis priming in style 1 and in style 2: mark a certificate
//! inactive, active and revoked; compromise a key; disable and enable a
//! domain; deactivate expired certificates; revoke at the CA; import;
//! issue; renew. After each step, what config.json serves and what the real
//! Redis holds must be what the store says: nothing is served that should
//! not be, and nothing that should be is missing.
//!
//! The expectation is worked out from the store's certificates themselves
//! (active ones covering the domain, the single-name and multi-name one
//! expiring last), not from the per-domain pointers the code under test
//! maintains.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use peter_acme::testkit::{Pebble, PebbleOptions};
use peter_core::app::Peter;
use peter_core::model::*;
use peter_core::ports::*;
use peter_core::testkit::TestPki;
use peter_http::{AdminAccess, AdminState, PublicServer, PublicState};
use peter_store::SqlStore;
use serde_json::{Value, json};

const TOKEN: &str = "front-door-token-0123456789abcdef";
const NAMES: &[&str] = &[
    "a.door.example",
    "www.a.door.example",
    "b.door.example",
    "c.door.example",
    "d.door.example",
    "e.door.example",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Via {
    Api,
    Cli,
}

struct Door {
    via: Via,
    style: u8,
    pebble: Pebble,
    data: PathBuf,
    /// Read only, for the expectation.
    store: Arc<SqlStore>,
    server: Option<PublicServer>,
    http: reqwest::Client,
    redis_url: String,
    prefix: String,
    pki: TestPki,
}

impl Door {
    async fn new(via: Via, style: u8) -> Door {
        let pebble = Pebble::start(PebbleOptions::default()).await;
        let data = std::env::temp_dir().join(format!(
            "peter-door-{via:?}-{style}-{}-{}",
            std::process::id(),
            pebble.http_port
        ));
        let _ = std::fs::remove_dir_all(&data);
        let redis_url = std::env::var("PETER_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let prefix = format!("peter-door-{via:?}-{style}-{}:", std::process::id());
        let init = Command::new(env!("CARGO_BIN_EXE_peter"))
            .arg("--data-dir")
            .arg(&data)
            .arg("init")
            .env_remove("PETER_DATABASE_URL")
            .output()
            .unwrap();
        assert!(init.status.success());
        let url = peter_store::sqlite_url_for_path(&data.join("peter.sqlite"));
        let mut door = Door {
            via,
            style,
            data: data.clone(),
            store: Arc::new(SqlStore::open(&url).await.unwrap()),
            server: None,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            redis_url,
            prefix,
            pki: TestPki::new("front-door"),
            pebble,
        };
        // One server on the port Pebble validates on: it answers the
        // challenges either way, and carries the admin API (with Redis
        // priming) when the API is the frontend under test.
        let mut builder = Peter::builder()
            .shared_store(door.store.clone())
            .acme(peter_acme::InstantAcme);
        if via == Via::Api {
            let primer = peter_store::redis_prime::RedisPrimer::connect(
                &door.redis_url,
                &door.prefix,
                Some(600),
            )
            .await
            .expect("Redis must be running");
            builder = builder.redis(Arc::new(primer), door.prime_style(), true);
        }
        let peter = builder.build().unwrap();
        let server = PublicServer::start_with_admin(
            std::net::SocketAddr::from(([127, 0, 0, 1], door.pebble.http_port)),
            PublicState::new(peter.clone(), "door"),
            Some(AdminState::new(peter, AdminAccess::new(TOKEN).unwrap())),
        )
        .await
        .unwrap();
        door.server = Some(server);
        // An ACME server and a global default account, through the frontend.
        match via {
            Via::Api => {
                door.post(
                    "acme-server/new",
                    json!({"name": "pebble", "directory_url": door.pebble.directory_url, "ca_bundle_pem": door.pebble.tls_ca_pem, "is_default": true}),
                )
                .await;
                door.post("acme-account/new", json!({"global_default": true}))
                    .await;
            }
            Via::Cli => {
                let bundle = door.write("pebble-ca.pem", &door.pebble.tls_ca_pem.clone());
                door.cli(&[
                    "acme-server",
                    "add",
                    "pebble",
                    "--directory",
                    &door.pebble.directory_url.clone(),
                    "--ca-bundle",
                    bundle.to_str().unwrap(),
                    "--default",
                ]);
                door.cli(&["account", "new", "--global-default"]);
            }
        }
        door
    }

    fn prime_style(&self) -> PrimeStyle {
        if self.style == 1 {
            PrimeStyle::One
        } else {
            PrimeStyle::Two
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.data.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `peter --json ...` on the data dir, with Redis priming on change.
    fn cli(&self, args: &[&str]) -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_peter"))
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--json")
            .args(args)
            .env_remove("PETER_DATABASE_URL")
            .env("PETER_REDIS_URL", &self.redis_url)
            .env("PETER_REDIS_KEY_PREFIX", &self.prefix)
            .env("PETER_REDIS_PRIME_ON_CHANGE", "1")
            .env("PETER_REDIS_PRIME_STYLE", self.style.to_string())
            .env("PETER_REDIS_TTL_SECONDS", "600")
            .output()
            .expect("run peter");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "peter {args:?}: {stderr}");
        assert!(!stderr.contains("warning"), "peter {args:?}: {stderr}");
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("peter {args:?}: {e}"))
    }

    fn admin_url(&self, path: &str) -> String {
        format!(
            "http://{}{}/{path}",
            self.server.as_ref().unwrap().local_addr,
            peter_http::ADMIN_PREFIX
        )
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(self.admin_url(path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let json: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "POST {path}: {json}");
        if let Some(p) = json.get("publication") {
            assert!(
                p["redis"].is_null() || p["redis"]["result"] == "success",
                "POST {path}: {json}"
            );
        }
        json
    }

    async fn config(&self, name: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.admin_url(&format!("domain/{name}/config.json")))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    fn redis(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-u", &self.redis_url])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    // ----- the mutations, through the frontend under test -----

    async fn import(&self, label: &str, leaf: &peter_core::testkit::Leaf) -> i64 {
        let (cert, key, chain) = (
            leaf.certificate.pem().to_string(),
            leaf.key.pem().to_string(),
            self.pki.chain_pem(),
        );
        let answer = match self.via {
            Via::Api => {
                self.post(
                    "certificate-signed/upload",
                    json!({"certificate_file": cert, "private_key_file_pem": key, "chain_file": chain}),
                )
                .await
            }
            Via::Cli => {
                let c = self.write(&format!("{label}-cert.pem"), &cert);
                let k = self.write(&format!("{label}-key.pem"), &key);
                let ch = self.write(&format!("{label}-chain.pem"), &chain);
                self.cli(&[
                    "import",
                    "cert",
                    "--cert",
                    c.to_str().unwrap(),
                    "--key",
                    k.to_str().unwrap(),
                    "--chain",
                    ch.to_str().unwrap(),
                ])
            }
        };
        let id = match self.via {
            Via::Api => &answer["CertificateSigned"]["id"],
            Via::Cli => &answer["certificate_signed"]["id"],
        };
        id.as_i64().unwrap_or_else(|| panic!("import: {answer}"))
    }

    /// Issues through Pebble; returns (order, certificate).
    async fn issue(&self, name: &str) -> (i64, i64) {
        let answer = match self.via {
            Via::Api => {
                self.post("acme-order/new/freeform", json!({"domain_names": name}))
                    .await
            }
            Via::Cli => self.cli(&["order", "new", name]),
        };
        order_and_certificate(&answer)
    }

    async fn renew(&self, order: i64) -> (i64, i64) {
        let answer = match self.via {
            Via::Api => {
                self.post(&format!("acme-order/{order}/renew/quick"), json!({}))
                    .await
            }
            Via::Cli => self.cli(&["order", "renew", &order.to_string()]),
        };
        order_and_certificate(&answer)
    }

    async fn mark_certificate(&self, id: i64, mark: &str) {
        match self.via {
            Via::Api => {
                self.post(
                    &format!("certificate-signed/{id}/mark"),
                    json!({"action": mark}),
                )
                .await;
            }
            Via::Cli => {
                self.cli(&["cert", "mark", &id.to_string(), mark]);
            }
        }
    }

    async fn compromise_key(&self, key: i64) {
        match self.via {
            Via::Api => {
                self.post(
                    &format!("private-key/{key}/mark"),
                    json!({"action": "compromised"}),
                )
                .await;
            }
            Via::Cli => {
                self.cli(&["key", "mark", &key.to_string(), "compromised"]);
            }
        }
    }

    async fn domain(&self, name: &str, enable: bool) {
        match self.via {
            Via::Api => {
                let path = if enable {
                    "api/domain/enable"
                } else {
                    "api/domain/disable"
                };
                self.post(path, json!({"domain_names": name})).await;
            }
            Via::Cli => {
                self.cli(&["domain", if enable { "enable" } else { "disable" }, name]);
            }
        }
    }

    async fn deactivate_expired(&self) -> Vec<i64> {
        let answer = match self.via {
            Via::Api => self.post("api/deactivate-expired", json!({})).await,
            Via::Cli => self.cli(&["cert", "deactivate-expired"]),
        };
        answer["certificate_signed_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    }

    async fn revoke(&self, id: i64) {
        match self.via {
            Via::Api => {
                self.post(
                    &format!("certificate-signed/{id}/acme-server/revoke"),
                    json!({"reason": "superseded"}),
                )
                .await;
            }
            Via::Cli => {
                self.cli(&["cert", "revoke", &id.to_string(), "--reason", "superseded"]);
            }
        }
    }

    // ----- the check -----

    /// What the store says `name` is served: (single, multi) by id.
    async fn expected(&self, name: &str) -> Option<(Option<i64>, Option<i64>)> {
        let domain = self
            .store
            .domain_by_name(&name.parse().unwrap())
            .await
            .unwrap()?;
        if !domain.is_active {
            return Some((None, None));
        }
        let certs = self
            .store
            .list_certificates_signed(CertificateFilter::domain(domain.id), Page::new(1, 1000))
            .await
            .unwrap()
            .items;
        let pick = |single: bool| {
            certs
                .iter()
                .filter(|c| c.is_active && c.is_single_domain_cert == single)
                .max_by_key(|c| (c.not_after, c.id))
                .map(|c| c.id.0)
        };
        Some((pick(true), pick(false)))
    }

    /// config.json once it shows `expected`: a change made by another
    /// process (the CLI) reaches the server's cache within 250 ms, so this
    /// polls for up to 2 s and returns the last answer either way.
    async fn settled_config(
        &self,
        name: &str,
        expected: Option<(Option<i64>, Option<i64>)>,
    ) -> (u16, Value) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            let (status, config) = self.config(name).await;
            let id = |slot: &str| {
                config[slot]["id"]
                    .as_str()
                    .and_then(|id| id.parse::<i64>().ok())
            };
            let settled = match expected {
                None => status == 404,
                Some(ids) => {
                    status == 200
                        && (
                            id("certificate_signed__latest_single"),
                            id("certificate_signed__latest_multi"),
                        ) == ids
                }
            };
            if settled || std::time::Instant::now() > deadline {
                return (status, config);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    async fn check(&self, step: &str) {
        for name in NAMES {
            let expected = self.expected(name).await;
            let (status, config) = self.settled_config(name, expected).await;
            let Some((single, multi)) = expected else {
                assert_eq!(status, 404, "{step}: {name} is unknown: {config}");
                self.assert_not_in_redis(step, name);
                continue;
            };
            assert_eq!(status, 200, "{step}: {name}: {config}");
            let served_id = |slot: &str| {
                config[slot]["id"]
                    .as_str()
                    .map(|id| id.parse::<i64>().unwrap())
            };
            assert_eq!(
                (
                    served_id("certificate_signed__latest_single"),
                    served_id("certificate_signed__latest_multi")
                ),
                (single, multi),
                "{step}: config.json of {name}"
            );
            for id in [single, multi].into_iter().flatten() {
                let cert = self
                    .store
                    .certificate_signed(CertificateSignedId(id))
                    .await
                    .unwrap();
                assert!(
                    cert.is_active && !cert.is_revoked && cert.revoked_upstream_at.is_none(),
                    "{step}: {name} is served certificate {id}, which must not be served"
                );
            }
            match multi.or(single) {
                None => self.assert_not_in_redis(step, name),
                Some(id) => self.assert_in_redis(step, name, id).await,
            }
        }
    }

    fn assert_not_in_redis(&self, step: &str, name: &str) {
        let key = format!("{}d{}:{name}", self.prefix, self.style);
        assert_eq!(
            self.redis(&["EXISTS", &key]),
            "0",
            "{step}: {name} has nothing to serve but Redis holds {key}"
        );
    }

    async fn assert_in_redis(&self, step: &str, name: &str, id: i64) {
        let cert = self
            .store
            .certificate_signed(CertificateSignedId(id))
            .await
            .unwrap();
        let key_pem = self
            .store
            .private_key(cert.private_key_id)
            .await
            .unwrap()
            .key_pem;
        if self.style == 1 {
            let d = format!("{}d1:{name}", self.prefix);
            assert_eq!(
                self.redis(&["HGET", &d, "c"]),
                id.to_string(),
                "{step}: {d}"
            );
            assert_eq!(
                self.redis(&["HGET", &d, "p"]),
                cert.private_key_id.to_string(),
                "{step}: {d}"
            );
            assert_eq!(
                self.redis(&["GET", &format!("{}c:{id}", self.prefix)]),
                cert.cert_pem.trim(),
                "{step}: c:{id}"
            );
        } else {
            let d = format!("{}d2:{name}", self.prefix);
            assert!(
                self.redis(&["HGET", &d, "f"])
                    .starts_with(cert.cert_pem.trim()),
                "{step}: {d} holds certificate {id}"
            );
            assert_eq!(
                self.redis(&["HGET", &d, "p"]),
                key_pem.trim(),
                "{step}: {d}"
            );
        }
    }

    fn cleanup(&self) {
        let keys = self.redis(&["--scan", "--pattern", &format!("{}*", self.prefix)]);
        for key in keys.lines().filter(|k| !k.is_empty()) {
            self.redis(&["DEL", key]);
        }
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn order_and_certificate(answer: &Value) -> (i64, i64) {
    let order = &answer["AcmeOrder"];
    assert_eq!(order["status"], "valid", "{answer}");
    (
        order["id"].as_i64().unwrap(),
        order["certificate_signed_id"].as_i64().unwrap(),
    )
}

async fn key_of(store: &SqlStore, cert: i64) -> i64 {
    store
        .certificate_signed(CertificateSignedId(cert))
        .await
        .unwrap()
        .private_key_id
        .0
}

/// The table: every mutation, each followed by the check.
async fn run_table(via: Via, style: u8) {
    let d = Door::new(via, style).await;
    let now = time::OffsetDateTime::now_utc();
    let pki = &d.pki;

    let a = d
        .import(
            "a",
            &pki.issue(
                &["a.door.example", "www.a.door.example"],
                KeyTechnology::EcP256,
            ),
        )
        .await;
    d.check("import").await;

    let (b_order, b) = d.issue("b.door.example").await;
    d.check("issue").await;

    d.mark_certificate(a, "inactive").await;
    d.check("mark inactive").await;
    d.mark_certificate(a, "active").await;
    d.check("mark active").await;
    d.mark_certificate(a, "revoked").await;
    d.check("mark revoked").await;

    let c = d
        .import("c", &pki.issue(&["c.door.example"], KeyTechnology::EcP256))
        .await;
    d.check("import c").await;
    d.compromise_key(key_of(&d.store, c).await).await;
    d.check("compromise key").await;

    d.domain("b.door.example", false).await;
    d.check("disable domain").await;
    d.domain("b.door.example", true).await;
    d.check("enable domain").await;

    let old = pki.issue_window(
        &["d.door.example"],
        KeyTechnology::EcP256,
        now - time::Duration::days(100),
        now - time::Duration::days(10),
    );
    let d_old = d.import("d-old", &old).await;
    d.check("import expired").await;
    let d_new = d
        .import(
            "d-new",
            &pki.issue(&["d.door.example"], KeyTechnology::EcP256),
        )
        .await;
    assert_ne!(d_old, d_new);
    assert_eq!(d.deactivate_expired().await, vec![d_old]);
    d.check("deactivate expired").await;

    d.revoke(b).await;
    d.check("revoke upstream").await;
    assert_eq!(
        d.pebble
            .cert_status(
                &d.store
                    .certificate_signed(CertificateSignedId(b))
                    .await
                    .unwrap()
                    .serial
            )
            .await["Status"],
        "Revoked"
    );
    let _ = b_order;

    let (e_order, e) = d.issue("e.door.example").await;
    d.check("issue e").await;
    let (_, e2) = d.renew(e_order).await;
    assert_ne!(e, e2);
    d.check("renew").await;

    d.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_admin_api_with_redis_style_1() {
    run_table(Via::Api, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_admin_api_with_redis_style_2() {
    run_table(Via::Api, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_cli_with_redis_style_1() {
    run_table(Via::Cli, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_cli_with_redis_style_2() {
    run_table(Via::Cli, 2).await;
}
