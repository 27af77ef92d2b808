//! The `peter` binary against a real Pebble: the first-user flow, a process
//! stopped at every checkpoint and resumed, and two nodes sharing one
//! PostgreSQL store (one orders, the other answers the challenges).

#[cfg(not(feature = "testkit"))]
compile_error!(
    "these tests stop and move `peter` with test hooks: run them with `--features peter-cli/testkit`"
);

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use peter_acme::testkit::faults::{Fault, FaultProxy};
use peter_acme::testkit::{Pebble, PebbleOptions, free_port};

struct Node {
    data: PathBuf,
    database_url: Option<String>,
}

impl Node {
    fn new(label: &str, database_url: Option<String>) -> Node {
        let data = std::env::temp_dir().join(format!(
            "peter-cliacme-{label}-{}-{}",
            std::process::id(),
            free_port()
        ));
        let _ = std::fs::remove_dir_all(&data);
        Node { data, database_url }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_peter"));
        c.arg("--data-dir").arg(&self.data);
        if let Some(url) = &self.database_url {
            c.arg("--database-url").arg(url);
        }
        c.args(args)
            .env_remove("PETER_KILL_AT")
            .env_remove("PETER_DATABASE_URL");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run peter")
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        self.json_with(args, &[])
    }

    /// Like `json`, with extra environment variables.
    fn json_with(&self, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self
            .command(&all)
            .envs(env.iter().copied())
            .output()
            .expect("run peter");
        assert!(
            out.status.success(),
            "peter {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "peter {args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    fn setup(&self, pebble: &Pebble) {
        self.setup_at(pebble, &pebble.directory_url);
    }

    /// Like `setup`, with the directory at `directory_url` (a proxy in
    /// front of `pebble`).
    fn setup_at(&self, pebble: &Pebble, directory_url: &str) {
        self.json(&["init"]);
        let bundle = self.data.join("pebble-tls-ca.pem");
        std::fs::write(&bundle, &pebble.tls_ca_pem).unwrap();
        self.json(&[
            "acme-server",
            "add",
            "pebble",
            "--directory",
            directory_url,
            "--ca-bundle",
            bundle.to_str().unwrap(),
            "--default",
        ]);
        self.json(&[
            "account",
            "new",
            "--server",
            "pebble",
            "--contact",
            "ops@example.com",
            "--global-default",
        ]);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn openssl_verify(dir: &Path, pebble_root: &str, pebble_intermediate: &str, fullchain: &Path) {
    let root = dir.join("root.pem");
    let inter = dir.join("intermediate.pem");
    std::fs::write(&root, pebble_root).unwrap();
    std::fs::write(&inter, pebble_intermediate).unwrap();
    let out = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(&root)
        .arg("-untrusted")
        .arg(&inter)
        .arg(fullchain)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_issues_lists_and_downloads_a_certificate() {
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let node = Node::new("user", None);
    node.setup(&pebble);
    // The server is named wherever an id is; its directory was read on add.
    let shown = node.json(&["acme-server", "show", "pebble"]);
    assert_eq!(shown["AcmeServer"]["supports_ari"], true, "{shown}");
    assert_eq!(shown["AcmeServer"]["external_account_required"], false);
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    let order = node.json(&[
        "order",
        "new",
        "example.com",
        "www.example.com",
        "--http-listen",
        &listen,
    ]);
    assert_eq!(order["AcmeOrder"]["status"], "valid");
    let cert_id = order["AcmeOrder"]["certificate_signed_id"]
        .as_i64()
        .unwrap();
    let list = node.json(&["cert", "list"]);
    assert_eq!(list["pagination"]["total_items"], 1);
    assert_eq!(
        list["CertificateSigneds"][0]["id"].as_i64().unwrap(),
        cert_id
    );
    let fullchain = node.data.join("fullchain.pem");
    node.json(&[
        "cert",
        "download",
        &cert_id.to_string(),
        "--format",
        "fullchain.pem",
        "-o",
        fullchain.to_str().unwrap(),
    ]);
    openssl_verify(
        &node.data,
        &pebble.root_pem(0).await,
        &pebble.intermediate_pem(0).await,
        &fullchain,
    );
    let key = node.data.join("privkey.pem");
    node.json(&[
        "cert",
        "download",
        &cert_id.to_string(),
        "--format",
        "privkey.pem",
        "-o",
        key.to_str().unwrap(),
    ]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let bad = node.run(&[
        "cert",
        "download",
        &cert_id.to_string(),
        "--format",
        "cert.bogus",
    ]);
    assert_eq!(bad.status.code(), Some(2));

    // Order housekeeping and upstream revocation from the terminal.
    let order_id = order["AcmeOrder"]["id"].to_string();
    let synced = node.json(&["order", "sync", &order_id]);
    assert_eq!(synced["AcmeOrder"]["status"], "valid");
    assert_eq!(synced["AcmeAuthorizations"].as_array().unwrap().len(), 2);
    assert_eq!(
        node.run(&["order", "finalize", &order_id]).status.code(),
        Some(4),
        "a valid order is not finalized again"
    );
    let pending = node.json(&["order", "new", "later.example.com", "--strategy", "create"]);
    let pending_id = pending["AcmeOrder"]["id"].to_string();
    assert_eq!(
        node.run(&["order", "download", &pending_id]).status.code(),
        Some(4),
        "nothing to download yet"
    );
    let revoked = node.json(&[
        "cert",
        "revoke",
        &cert_id.to_string(),
        "--reason",
        "superseded",
    ]);
    assert!(!revoked["CertificateSigned"]["timestamp_revoked_upstream"].is_null());
    assert_eq!(
        (
            &revoked["CertificateSigned"]["is_active"],
            &revoked["CertificateSigned"]["is_revoked"]
        ),
        (&serde_json::json!(false), &serde_json::json!(true)),
        "revoked at the CA is revoked here: never served again"
    );
    let serial = revoked["CertificateSigned"]["serial"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(pebble.cert_status(&serial).await["Status"], "Revoked");
    assert_eq!(
        node.run(&["cert", "revoke", &cert_id.to_string()])
            .status
            .code(),
        Some(4),
        "revoked once only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_stopped_at_any_checkpoint_resumes_without_duplicates_or_lost_keys() {
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    for point in [
        "after_new_order",
        "before_trigger",
        "before_finalize",
        "after_finalize",
        "after_download",
    ] {
        let node = Node::new(point, None);
        node.setup(&pebble);
        let name = format!("{}.resume.example", point.replace('_', "-"));
        let out = node
            .command(&["order", "new", &name, "--http-listen", &listen])
            .env("PETER_KILL_AT", point)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}: the process must stop");
        assert!(String::from_utf8_lossy(&out.stderr).contains(point));
        let orders = node.json(&["order", "list"]);
        let id = orders["AcmeOrders"][0]["id"]
            .as_i64()
            .expect("the order was recorded before the stop");
        let resumed = node.json(&[
            "order",
            "process",
            &id.to_string(),
            "--to-end",
            "--http-listen",
            &listen,
        ]);
        assert_eq!(resumed["AcmeOrder"]["status"], "valid", "{point}");
        let certs = node.json(&["cert", "list"]);
        assert_eq!(
            certs["pagination"]["total_items"], 1,
            "{point}: one certificate"
        );
        let cert = &certs["CertificateSigneds"][0];
        assert_eq!(
            cert["private_key_id"], resumed["AcmeOrder"]["private_key_id"],
            "{point}: the key recorded is the key certified"
        );
        // Processing again changes nothing.
        let again = node.json(&["order", "process", &id.to_string(), "--to-end"]);
        assert_eq!(
            again["AcmeOrder"]["certificate_signed_id"],
            resumed["AcmeOrder"]["certificate_signed_id"]
        );
        assert_eq!(node.json(&["cert", "list"])["pagination"]["total_items"], 1);
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One process orders while a second `peter serve --public-only`, sharing
/// the PostgreSQL store, answers Pebble's validation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_store_and_the_other_answers_the_challenge() {
    let admin = std::env::var("PETER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("peter_t_twonode_{}_{}", std::process::id(), free_port());
    let status = Command::new("psql")
        .arg(&admin)
        .args(["-qc", &format!("create database \"{name}\"")])
        .status()
        .expect("psql");
    assert!(status.success(), "PostgreSQL must be running at {admin}");
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let orderer = Node::new("orderer", Some(url.clone()));
    orderer.setup(&pebble);
    let web = Node::new("web", Some(url.clone()));
    web.json(&["init"]);
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    let server = Killed(
        web.command(&["serve", "--public-only", "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Wait for the web node to listen.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "peter serve did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let order = orderer.json(&["order", "new", "two.example.com", "www.two.example.com"]);
    assert_eq!(order["AcmeOrder"]["status"], "valid");
    // The web node recorded Pebble's fetches in the shared store.
    let shown = orderer.json(&["order", "show", &order["AcmeOrder"]["id"].to_string()]);
    assert_eq!(shown["AcmeAuthorizations"].as_array().unwrap().len(), 2);
    drop(server);
    let _ = Command::new("psql")
        .arg(&admin)
        .args([
            "-qc",
            &format!("drop database if exists \"{name}\" with (force)"),
        ])
        .status();
}

fn jwk_of(pem: &str) -> serde_json::Value {
    peter_core::testkit::private_jwk(&peter_core::formats::ParsedPrivateKey::from_pem(pem).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_import_from_a_key_or_a_certbot_directory() {
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let first = Node::new("import-a", None);
    first.setup(&pebble);
    // Register a key we hold, on the first node.
    let key =
        peter_core::formats::ParsedPrivateKey::generate(peter_core::model::KeyTechnology::EcP256)
            .unwrap();
    let key_file = first.data.join("account.pem");
    std::fs::write(&key_file, key.pem()).unwrap();
    let made = first.json(&[
        "account",
        "new",
        "--key",
        key_file.to_str().unwrap(),
        "--contact",
        "a@example.com",
    ]);
    let url = made["AcmeAccount"]["account_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        first.json(&["account", "check", &made["AcmeAccount"]["id"].to_string()])["exists_upstream"],
        true
    );

    // A second node imports it from a certbot account directory.
    let second = Node::new("import-b", None);
    second.json(&["init"]);
    let bundle = second.data.join("ca.pem");
    std::fs::write(&bundle, &pebble.tls_ca_pem).unwrap();
    second.json(&[
        "acme-server",
        "add",
        "pebble",
        "--directory",
        &pebble.directory_url,
        "--ca-bundle",
        bundle.to_str().unwrap(),
    ]);
    let certbot = second.data.join("certbot-account");
    std::fs::create_dir_all(&certbot).unwrap();
    std::fs::write(
        certbot.join("private_key.json"),
        jwk_of(key.pem()).to_string(),
    )
    .unwrap();
    std::fs::write(
        certbot.join("regr.json"),
        serde_json::json!({"body": {"contact": ["mailto:a@example.com"]}, "uri": url}).to_string(),
    )
    .unwrap();
    std::fs::write(certbot.join("meta.json"), r#"{"creation_host": "test"}"#).unwrap();
    let imported = second.json(&["account", "import", "--certbot", certbot.to_str().unwrap()]);
    assert_eq!(
        imported["AcmeAccount"]["account_url"].as_str(),
        Some(url.as_str())
    );
    assert_eq!(imported["AcmeAccount"]["contact"], "a@example.com");
    assert!(
        imported["AcmeAccount"]["key"].get("key_pem").is_none(),
        "keys never appear in JSON output"
    );

    // certbot's default: an RSA account key. Registered on the first node,
    // imported from certbot's files on the second, which then orders with it
    // (every request signed RS256 by peter's JWS layer).
    let rsa =
        peter_core::formats::ParsedPrivateKey::generate(peter_core::model::KeyTechnology::Rsa2048)
            .unwrap();
    let rsa_file = first.data.join("rsa-account.pem");
    std::fs::write(&rsa_file, rsa.pem()).unwrap();
    let rsa_made = first.json(&["account", "new", "--key", rsa_file.to_str().unwrap()]);
    assert_eq!(
        rsa_made["AcmeAccount"]["acme_account_key_technology"],
        "RSA_2048"
    );
    let rsa_url = rsa_made["AcmeAccount"]["account_url"].as_str().unwrap();
    std::fs::write(
        certbot.join("private_key.json"),
        jwk_of(rsa.pem()).to_string(),
    )
    .unwrap();
    std::fs::write(
        certbot.join("regr.json"),
        serde_json::json!({"body": {}, "uri": rsa_url}).to_string(),
    )
    .unwrap();
    let imported = second.json(&["account", "import", "--certbot", certbot.to_str().unwrap()]);
    assert_eq!(
        imported["AcmeAccount"]["account_url"].as_str(),
        Some(rsa_url)
    );
    let rsa_id = imported["AcmeAccount"]["id"].to_string();
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    let order = second.json(&[
        "order",
        "new",
        "certbot-rsa.example.com",
        "--account",
        &rsa_id,
        "--http-listen",
        &listen,
    ]);
    assert_eq!(order["AcmeOrder"]["status"], "valid");

    // An RSA JWK without its CRT members is refused clearly; missing files too.
    std::fs::write(
        certbot.join("private_key.json"),
        r#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}"#,
    )
    .unwrap();
    let out = second.run(&["account", "import", "--certbot", certbot.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing `p`"));
    std::fs::remove_file(certbot.join("regr.json")).unwrap();
    let out = second.run(&["account", "import", "--certbot", certbot.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("regr.json"));
}

/// A certificate issued by Pebble, exported in certbot's layout and served
/// by Debian's nginx on a loopback port, verified by curl and openssl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_serves_an_issued_certificate_from_the_certbot_export() {
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let node = Node::new("nginx", None);
    node.setup(&pebble);
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    let order = node.json(&[
        "order",
        "new",
        "site.nginx.example",
        "www.site.nginx.example",
        "--http-listen",
        &listen,
    ]);
    assert_eq!(order["AcmeOrder"]["status"], "valid");
    let tree = node.data.join("letsencrypt");
    node.json(&["export", "certbot", tree.to_str().unwrap()]);
    let port = free_port();
    let sites = node.data.join("sites.conf");
    let out = node.run(&[
        "nginx",
        "config",
        "--certbot-dir",
        tree.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "-o",
        sites.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prefix = node.data.join("nginx");
    std::fs::create_dir_all(prefix.join("logs")).unwrap();
    let conf = prefix.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\nworker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {p}/tmp;\n  proxy_temp_path {p}/tmp;\n  fastcgi_temp_path {p}/tmp;\n  uwsgi_temp_path {p}/tmp;\n  scgi_temp_path {p}/tmp;\n  include {sites};\n}}\n",
            p = prefix.display(),
            sites = sites.display()
        ),
    )
    .unwrap();
    let nginx = NginxProcess {
        child: Command::new("nginx")
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx must be installed (scripts/install-test-deps.sh)"),
        prefix: prefix.clone(),
        conf: conf.clone(),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "nginx did not start: {}",
            std::fs::read_to_string(prefix.join("logs/error.log")).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let root = node.data.join("pebble-root.pem");
    std::fs::write(&root, pebble.root_pem(0).await).unwrap();
    let curl = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(&root)
        .args([
            "--resolve",
            &format!("www.site.nginx.example:{port}:127.0.0.1"),
            &format!("https://www.site.nginx.example:{port}/"),
        ])
        .output()
        .expect("curl");
    assert!(
        curl.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&curl.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&curl.stdout),
        "peter: www.site.nginx.example\n"
    );
    let s_client = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            "site.nginx.example",
            "-verify_return_error",
            "-CAfile",
        ])
        .arg(&root)
        .stdin(Stdio::null())
        .output()
        .expect("openssl");
    let text = String::from_utf8_lossy(&s_client.stdout);
    assert!(
        s_client.status.success(),
        "s_client: {text}{}",
        String::from_utf8_lossy(&s_client.stderr)
    );
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
    drop(nginx);
}

/// nginx stopped the way nginx wants (`-s stop`), so its workers go too.
struct NginxProcess {
    child: Child,
    prefix: PathBuf,
    conf: PathBuf,
}

impl Drop for NginxProcess {
    fn drop(&mut self) {
        let _ = Command::new("nginx")
            .arg("-p")
            .arg(&self.prefix)
            .arg("-c")
            .arg(&self.conf)
            .args(["-s", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn count(v: &serde_json::Value, key: &str) -> usize {
    v["renewal"][key].as_array().map(|a| a.len()).unwrap_or(0)
}

/// `peter renew` on one node, then two `peter renew` processes at once on
/// one PostgreSQL store (one new order per due certificate), then a renewal
/// stopped with the lease held, finished by the next run once it expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renew_renews_once_across_nodes_and_survives_a_killed_holder() {
    let admin = std::env::var("PETER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("peter_t_renew_{}_{}", std::process::id(), free_port());
    assert!(
        Command::new("psql")
            .arg(&admin)
            .args(["-qc", &format!("create database \"{name}\"")])
            .status()
            .unwrap()
            .success()
    );
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let pebble = Pebble::start(PebbleOptions::default()).await;
    // Every request to the CA is slowed while the two processes run, so
    // that their runs overlap: without it, a second process that starts
    // after the first finished sees the new certificate, due under --days,
    // and rightly renews it (a sequential run, not a concurrent one).
    let proxy = FaultProxy::start(&pebble, 0, 20261207).await;
    proxy.set_kinds(&[Fault::Delay]);
    proxy.set_delay(
        std::time::Duration::from_millis(150),
        std::time::Duration::from_millis(250),
    );
    let a = Node::new("renew-a", Some(url.clone()));
    a.setup_at(&pebble, &proxy.directory_url);
    let b = Node::new("renew-b", Some(url.clone()));
    b.json(&["init"]);
    // A web node answers every challenge for both.
    let web = Node::new("renew-web", Some(url.clone()));
    web.json(&["init"]);
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    let _server = Killed(
        web.command(&["serve", "--public-only", "--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    a.json(&["order", "new", "renew.example.com"]);

    // Nothing is due yet; with --days everything is.
    assert_eq!(
        a.json(&["renew", "--dry-run"])["due"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        a.json(&["renew", "--dry-run", "--days", "100000"])["due"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let one = a.json(&["renew", "--days", "100000"]);
    assert_eq!(count(&one, "renewed"), 1);
    assert_eq!(a.json(&["cert", "list"])["pagination"]["total_items"], 2);

    // Two processes at once: one new order.
    let orders_before = a.json(&["order", "list"])["pagination"]["total_items"]
        .as_i64()
        .unwrap();
    proxy.set_rate(1000);
    let pa = a
        .command(&["--json", "renew", "--days", "100000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pb = b
        .command(&["--json", "renew", "--days", "100000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (oa, ob) = (
        pa.wait_with_output().unwrap(),
        pb.wait_with_output().unwrap(),
    );
    proxy.set_rate(0);
    let ra: serde_json::Value = serde_json::from_slice(&oa.stdout).unwrap();
    let rb: serde_json::Value = serde_json::from_slice(&ob.stdout).unwrap();
    assert_eq!(
        count(&ra, "renewed") + count(&rb, "renewed"),
        1,
        "{ra} {rb}"
    );
    assert_eq!(
        a.json(&["order", "list"])["pagination"]["total_items"]
            .as_i64()
            .unwrap(),
        orders_before + 1
    );

    // A holder stopped mid-renewal (like kill -9) keeps its lease until it
    // expires: ten minutes, far longer than this test. A node whose clock
    // reads eleven minutes later (a test hook; nobody sleeps) sees it expired.
    let killed = a
        .command(&["renew", "--days", "100000", "--lease-seconds", "600"])
        .env("PETER_KILL_AT", "before_finalize")
        .output()
        .unwrap();
    assert!(
        !killed.status.success(),
        "{}{}",
        String::from_utf8_lossy(&killed.stdout),
        String::from_utf8_lossy(&killed.stderr)
    );
    let blocked = b.json(&["renew", "--days", "100000"]);

    assert_eq!(count(&blocked, "renewed"), 0);
    assert_eq!(
        count(&blocked, "skipped"),
        1,
        "the lease is still held: {blocked}"
    );
    let after = b.json_with(
        &["renew", "--days", "100000"],
        &[("PETER_TEST_CLOCK_OFFSET_SECONDS", "660")],
    );

    assert_eq!(
        count(&after, "renewed"),
        1,
        "the next run finishes the work: {after}"
    );
    // It finished the stopped run's order rather than placing another.
    let orders = a.json(&["order", "list"]);
    assert_eq!(
        orders["pagination"]["total_items"].as_i64().unwrap(),
        orders_before + 2
    );
    assert_eq!(orders["AcmeOrders"][0]["status"], "valid");
    // An active domain with no certificate is ordered by the routine.
    a.json(&["domain", "add", "fresh.example.com"]);
    let plan = a.json(&["renew", "--dry-run"]);
    assert_eq!(plan["missing"], serde_json::json!(["fresh.example.com"]));
    let filled = a.json(&["renew"]);
    assert!(
        filled["renewal"]["ordered_missing"][0][1]["Ok"].is_i64(),
        "{filled}"
    );
    assert!(
        a.json(&["renew", "--dry-run"])["missing"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let _ = Command::new("psql")
        .arg(&admin)
        .args([
            "-qc",
            &format!("drop database if exists \"{name}\" with (force)"),
        ])
        .status();
}

/// With `redis.prime_on_change`, an issuance writes the domain to Redis and a
/// mark that leaves nothing to serve removes it (real Redis, database 12).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuance_and_marks_prime_redis_when_configured() {
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let node = Node::new("prime", None);
    node.setup(&pebble);
    let name = format!("prime-{}.example.com", std::process::id());
    let redis_url =
        std::env::var("PETER_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let db_url = format!("{}/12", redis_url.trim_end_matches('/'));
    let with_redis = |args: &[&str]| {
        let out = node
            .command(args)
            .env("PETER_REDIS_URL", &db_url)
            .env("PETER_REDIS_PRIME_ON_CHANGE", "1")
            .env("PETER_REDIS_PRIME_STYLE", "2")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty() || !String::from_utf8_lossy(&out.stderr).contains("warning"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let hget = |field: &str| {
        let out = Command::new("redis-cli")
            .args(["-u", &db_url, "HGET", &format!("d2:{name}"), field])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    let order = with_redis(&["--json", "order", "new", &name, "--http-listen", &listen]);
    assert_eq!(order["AcmeOrder"]["status"], "valid");
    let cert_id = order["AcmeOrder"]["certificate_signed_id"]
        .as_i64()
        .unwrap();
    assert!(
        hget("f").starts_with("-----BEGIN CERTIFICATE-----"),
        "primed after issuance"
    );
    assert!(hget("p").starts_with("-----BEGIN PRIVATE KEY-----"));

    with_redis(&["--json", "cert", "mark", &cert_id.to_string(), "inactive"]);
    assert_eq!(hget("f"), "", "nothing to serve: the entry is gone");
    with_redis(&["--json", "cert", "mark", &cert_id.to_string(), "active"]);
    assert!(
        hget("f").starts_with("-----BEGIN CERTIFICATE-----"),
        "back after reactivation"
    );
    let _ = Command::new("redis-cli")
        .args(["-u", &db_url, "DEL", &format!("d2:{name}")])
        .output();
}

/// DNS-01 from the command line: without a method a wildcard is refused
/// before anything is sent; with `[dns] exec` in peter.toml (a hook placing
/// TXT records in pebble-challtestsrv, which Pebble resolves through) and a
/// name set to dns-01 with `domain challenge`, a wildcard, its apex and that
/// name are ordered in one command, and openssl verifies the chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wildcard_is_ordered_from_the_cli_through_a_dns_hook() {
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let node = Node::new("dns01", None);
    node.setup(&pebble);
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    let before = node.json(&["order", "list"])["AcmeOrders"]
        .as_array()
        .unwrap()
        .len();
    let out = node.run(&[
        "order",
        "new",
        "*.cli-wild.example",
        "--http-listen",
        &listen,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no DNS-01 method is configured"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        node.json(&["order", "list"])["AcmeOrders"]
            .as_array()
            .unwrap()
            .len(),
        before,
        "nothing was ordered"
    );

    let hook = node.data.join("dns-hook.sh");
    std::fs::write(
        &hook,
        format!(
            r#"#!/bin/sh
set -e
case "$1" in
  present) curl -fsS -X POST -d "{{\"host\":\"$2.\",\"value\":\"$3\"}}" '{url}/set-txt' ;;
  cleanup) curl -fsS -X POST -d "{{\"host\":\"$2.\"}}" '{url}/clear-txt' ;;
esac
"#,
            url = pebble.challtestsrv_url
        ),
    )
    .unwrap();
    let config = node.data.join("peter.toml");
    // `init` wrote every section, `[dns]` with no method.
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("[dns]\nexec = []"), "{text}");
    let text = text.replace(
        "[dns]\nexec = []",
        &format!("[dns]\nexec = [\"sh\", \"{}\"]", hook.display()),
    );
    std::fs::write(&config, text).unwrap();

    node.json(&["domain", "add", "dns-cli.example"]);
    let set = node.json(&["domain", "challenge", "dns-cli.example", "dns-01"]);
    assert_eq!(set["Domain"]["challenge_type"], "dns-01");
    let bad = node.run(&["domain", "challenge", "dns-cli.example", "tls-alpn-01"]);
    assert_eq!(bad.status.code(), Some(2));
    let order = node.json(&[
        "order",
        "new",
        "*.cli-wild.example",
        "cli-wild.example",
        "dns-cli.example",
        "--http-listen",
        &listen,
    ]);
    assert_eq!(order["AcmeOrder"]["status"], "valid", "{order}");
    let cert_id = order["AcmeOrder"]["certificate_signed_id"].to_string();
    let fullchain = node.data.join("wild-fullchain.pem");
    node.json(&[
        "cert",
        "download",
        &cert_id,
        "--format",
        "fullchain.pem",
        "-o",
        fullchain.to_str().unwrap(),
    ]);
    openssl_verify(
        &node.data,
        &pebble.root_pem(0).await,
        &pebble.intermediate_pem(0).await,
        &fullchain,
    );
    let sans = Command::new("openssl")
        .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
        .arg(&fullchain)
        .output()
        .unwrap();
    let sans = String::from_utf8_lossy(&sans.stdout);
    for name in [
        "DNS:*.cli-wild.example",
        "DNS:cli-wild.example",
        "DNS:dns-cli.example",
    ] {
        assert!(sans.contains(name), "{name} in {sans}");
    }
}

/// `[dns.rfc2136]` in peter.toml, the TSIG secret from
/// `PETER_DNS_TSIG_SECRET`: a wildcard and its apex ordered from the command
/// line against Debian's Knot DNS, which Pebble resolves through. Giving two
/// methods at once is a configuration error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wildcard_is_ordered_from_the_cli_by_rfc2136() {
    let knot = peter_acme::testkit::Knot::start("knot-cli.example");
    let pebble = Pebble::start(PebbleOptions {
        dns_server: Some(knot.addr.to_string()),
        ..Default::default()
    })
    .await;
    let node = Node::new("rfc2136", None);
    node.setup(&pebble);
    let config = node.data.join("peter.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[dns.rfc2136]\nserver = \"{}\"\nzone = \"{}\"\nkey_name = \"{}\"\nttl = 5\n",
        knot.addr, knot.zone, knot.key_name
    ));
    std::fs::write(&config, &text).unwrap();
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    let order = node.json_with(
        &[
            "order",
            "new",
            "*.knot-cli.example",
            "knot-cli.example",
            "--http-listen",
            &listen,
        ],
        &[("PETER_DNS_TSIG_SECRET", &knot.key_secret)],
    );
    assert_eq!(order["AcmeOrder"]["status"], "valid", "{order}");
    assert!(
        knot.dig("_acme-challenge.knot-cli.example", "TXT")
            .is_empty()
    );

    let both = text.replace("[dns]\nexec = []", "[dns]\nexec = [\"true\"]");
    std::fs::write(&config, both).unwrap();
    let out = node.run(&["order", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not both"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// peter's own DNS, end to end with real DNS servers: two nodes share one
/// PostgreSQL store; one orders, the other runs `serve --dns` (and the
/// public routes). The customer's zone (Knot DNS) delegates
/// `_acme-challenge.cust.test` by CNAME into peter's zone; Pebble asks
/// Unbound, which follows the CNAME to the second node. A wildcard and its
/// apex are issued (the apex by HTTP-01 from the same node); a name without
/// the CNAME is refused before anything is sent, naming the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peter_answers_delegated_dns01_from_the_shared_store_on_another_node() {
    let admin = std::env::var("PETER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let db = format!("peter_t_dns_{}_{}", std::process::id(), free_port());
    let status = Command::new("psql")
        .arg(&admin)
        .args(["-qc", &format!("create database \"{db}\"")])
        .status()
        .expect("psql");
    assert!(status.success(), "PostgreSQL must be running at {admin}");
    let url = format!("{}/{db}", admin.rsplit_once('/').unwrap().0);
    let zone = "acme.peter.test";
    let dns_addr: std::net::SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let http_port = free_port();

    // Both nodes know peter's zone; the orderer learns the CNAME to create.
    let orderer = Node::new("dns-orderer", Some(url.clone()));
    let answerer = Node::new("dns-answerer", Some(url.clone()));
    for node in [&orderer, &answerer] {
        node.json(&["init"]);
        let config = node.data.join("peter.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(&format!("\n[dns.peter]\nzone = \"{zone}\"\n"));
        std::fs::write(&config, text).unwrap();
    }
    let delegation = orderer.json(&["domain", "delegation", "*.cust.test"]);
    assert_eq!(
        delegation["DnsDelegation"]["record"],
        "_acme-challenge.cust.test"
    );
    let target = delegation["DnsDelegation"]["target"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(target.ends_with(&format!(".{zone}")), "{target}");
    assert_eq!(
        orderer.json(&["domain", "delegation", "cust.test"])["DnsDelegation"]["target"],
        target.as_str(),
        "a wildcard and its apex share one delegation, and it is kept"
    );

    let knot = peter_acme::testkit::Knot::start_with(
        "cust.test",
        &[format!("_acme-challenge CNAME {target}.")],
    );
    let server = Killed(
        answerer
            .command(&[
                "serve",
                "--public-only",
                "--listen",
                &format!("127.0.0.1:{http_port}"),
                "--dns",
                &dns_addr.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", http_port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "peter serve did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let unbound =
        peter_acme::testkit::Unbound::start(&[(zone, dns_addr), ("cust.test", knot.addr)]);
    // The second node answers its zone's SOA and NS, through the resolver too.
    assert!(unbound.dig(zone, "SOA")[0].starts_with(&format!("ns.{zone}.")));
    assert_eq!(
        unbound.dig("_acme-challenge.cust.test", "CNAME"),
        [format!("{target}.")]
    );

    let pebble = Pebble::start(PebbleOptions {
        http_port: Some(http_port),
        dns_server: Some(unbound.addr.to_string()),
        ..Default::default()
    })
    .await;
    orderer.setup(&pebble);
    let config = orderer.data.join("peter.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}resolver = \"{}\"\n", unbound.addr)).unwrap();

    // No CNAME for this name: refused, naming the record, nothing ordered.
    let before = orderer.json(&["order", "list"])["AcmeOrders"]
        .as_array()
        .unwrap()
        .len();
    let out = orderer.run(&["order", "new", "*.missing.cust.test"]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`_acme-challenge.missing.cust.test` must be a CNAME to"),
        "{stderr}"
    );
    assert_eq!(
        orderer.json(&["order", "list"])["AcmeOrders"]
            .as_array()
            .unwrap()
            .len(),
        before
    );

    let order = orderer.json(&["order", "new", "*.cust.test", "cust.test"]);
    assert_eq!(order["AcmeOrder"]["status"], "valid", "{order}");
    let label_txt = Command::new("dig")
        .args([
            "@127.0.0.1",
            "-p",
            &dns_addr.port().to_string(),
            "+short",
            &target,
            "TXT",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&label_txt.stdout).trim().is_empty(),
        "the values were removed after validation"
    );
    drop(server);
    let _ = Command::new("psql")
        .arg(&admin)
        .args([
            "-qc",
            &format!("drop database if exists \"{db}\" with (force)"),
        ])
        .status();
}

/// IP-address certificates (RFC 8738) from the command line against Pebble:
/// refused before anything is sent while the server is not set to take IP
/// identifiers; once it is, an address and a DNS name are ordered together
/// (HTTP-01 on the address), openssl sees the address in the SAN, and the
/// address is served like a name (config.json, Redis, certbot export). A
/// name Pebble's policy refuses is the CA's `rejectedIdentifier`, a typed
/// error with nothing left pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ip_address_certificate_is_issued_and_served_like_a_name() {
    let pebble = Pebble::start(PebbleOptions {
        domain_blocklist: vec!["refused.example".into()],
        ..Default::default()
    })
    .await;
    let node = Node::new("ip", None);
    node.setup(&pebble);
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    let shown = node.json(&["acme-server", "show", "pebble"]);
    assert_eq!(shown["AcmeServer"]["ip_identifiers"], false, "{shown}");

    // Off: a typed refusal, and no order recorded.
    let refused = node.run(&[
        "--json",
        "order",
        "new",
        "127.0.0.1",
        "--http-listen",
        &listen,
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("not set to take IP identifiers"),
        "{stderr}"
    );
    assert_eq!(
        node.json(&["order", "list"])["pagination"]["total_items"],
        0
    );

    let edited = node.json(&["acme-server", "edit", "pebble", "--ip-identifiers", "true"]);
    assert_eq!(edited["AcmeServer"]["ip_identifiers"], true);
    let name = format!("ip-{}.example.com", std::process::id());
    let redis_url =
        std::env::var("PETER_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let db_url = format!("{}/11", redis_url.trim_end_matches('/'));
    let hget = |key: &str, field: &str| {
        let out = Command::new("redis-cli")
            .args(["-u", &db_url, "HGET", key, field])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let _ = Command::new("redis-cli")
        .args(["-u", &db_url, "DEL", "d2:127.0.0.1"])
        .output();
    let order = node.json_with(
        &["order", "new", "127.0.0.1", &name, "--http-listen", &listen],
        &[
            ("PETER_REDIS_URL", db_url.as_str()),
            ("PETER_REDIS_PRIME_ON_CHANGE", "1"),
            ("PETER_REDIS_PRIME_STYLE", "2"),
        ],
    );
    assert_eq!(order["AcmeOrder"]["status"], "valid", "{order}");
    let cert_id = order["AcmeOrder"]["certificate_signed_id"]
        .as_i64()
        .unwrap()
        .to_string();
    let fullchain = node.data.join("ip-fullchain.pem");
    node.json(&[
        "cert",
        "download",
        &cert_id,
        "--format",
        "fullchain.pem",
        "-o",
        fullchain.to_str().unwrap(),
    ]);
    openssl_verify(
        &node.data,
        &pebble.root_pem(0).await,
        &pebble.intermediate_pem(0).await,
        &fullchain,
    );
    let san = Command::new("openssl")
        .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
        .arg(&fullchain)
        .output()
        .unwrap();
    let san = String::from_utf8_lossy(&san.stdout);
    assert!(san.contains("IP Address:127.0.0.1"), "{san}");
    assert!(san.contains(&format!("DNS:{name}")), "{san}");

    // Stored as an address, and served like a name.
    let domain = node.json(&["domain", "show", "127.0.0.1"]);
    assert_eq!(domain["Domain"]["identifier_type"], "ip", "{domain}");
    assert_eq!(
        domain["Domain"]["certificate_signed_id__latest_multi"]
            .as_i64()
            .unwrap()
            .to_string(),
        cert_id
    );
    let dns_domain = node.json(&["domain", "show", &name]);
    assert_eq!(dns_domain["Domain"]["identifier_type"], "dns");
    let dns01 = node.run(&["domain", "challenge", "127.0.0.1", "dns-01"]);
    assert_eq!(dns01.status.code(), Some(2), "an address has no TXT record");
    assert!(
        hget("d2:127.0.0.1", "f").starts_with("-----BEGIN CERTIFICATE-----"),
        "primed into Redis under the address"
    );
    let _ = Command::new("redis-cli")
        .args(["-u", &db_url, "DEL", "d2:127.0.0.1", &format!("d2:{name}")])
        .output();
    let export = node.data.join("letsencrypt");
    node.json(&["export", "certbot", export.to_str().unwrap()]);
    let exported = std::fs::read_to_string(export.join("live/127.0.0.1/fullchain.pem"))
        .expect("the address has a certbot lineage");
    assert_eq!(
        exported.trim(),
        std::fs::read_to_string(&fullchain).unwrap().trim()
    );
    let port = free_port();
    let admin = format!("127.0.0.1:{port}");
    let mut server = node
        .command(&["serve", "--admin", "--listen", &admin])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let token = std::fs::read_to_string(node.data.join("admin-token")).unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("http://{admin}/.well-known/peter_sslers/domain/127.0.0.1/config.json");
    let mut config = None;
    for _ in 0..200 {
        if let Ok(r) = http.get(&url).bearer_auth(token.trim()).send().await {
            config = Some((r.status().as_u16(), r.json::<serde_json::Value>().await));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    let (status, body) = config.expect("peter serve answered");
    let body = body.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["domain"]["domain_name"], "127.0.0.1", "{body}");
    assert_eq!(
        body["certificate_signed__latest_multi"]["id"].as_str(),
        Some(cert_id.as_str()),
        "{body}"
    );

    // The CA's policy refuses a name: a typed error, the order failed here
    // and nothing pending there.
    let rejected = node.run(&[
        "--json",
        "order",
        "new",
        "www.refused.example",
        "--http-listen",
        &listen,
    ]);
    assert_eq!(rejected.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    assert!(stderr.contains("will not issue"), "{stderr}");
    let orders = node.json(&["order", "list"]);
    let failed = orders["AcmeOrders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["status"] != "valid")
        .expect("the refused order is recorded");
    assert!(failed["order_url"].is_null(), "{failed}");
}

/// autocert as the OpenResty module calls it, against Pebble: `POST
/// .../api/domain/autocert.json?openresty=1` with a form body and no
/// Content-Type, the gateway token in `Authorization`. Never anonymous; a
/// new name on the allowlist is ordered and primed into Redis, then
/// answered from the store; names off the allowlist, blocklisted or
/// disabled are refused with their reasons; a name the CA refused waits
/// out the per-name limit, and the fleet-wide hourly limit holds (429 with
/// Retry-After). `config.json?openresty=1` primes the domain again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocert_answers_the_openresty_module_within_its_limits() {
    let pebble = Pebble::start(PebbleOptions {
        domain_blocklist: vec!["refused.example.com".into()],
        ..Default::default()
    })
    .await;
    let node = Node::new("autocert", None);
    node.setup(&pebble);
    node.json(&["domain", "blocklist", "blocked.example.com"]);
    node.json(&["domain", "add", "off.example.com"]);
    node.json(&["domain", "disable", "off.example.com"]);
    let redis_url =
        std::env::var("PETER_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let db_url = format!("{}/10", redis_url.trim_end_matches('/'));
    let tag = std::process::id();
    let first = format!("auto-{tag}.example.com");
    let second = format!("auto2-{tag}.example.com");
    let third = format!("auto3-{tag}.example.com");
    let redis = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["-u", &db_url])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    redis(&["DEL", &format!("d2:{first}")]);
    let gateway = "gateway-token-0123456789abcdef";
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    let mut server = node
        .command(&["serve", "--admin", "--listen", &listen])
        .env("PETER_ADMIN_GATEWAY_TOKEN", gateway)
        .env("PETER_AUTOCERT_ALLOW", "example.com")
        .env("PETER_AUTOCERT_PER_HOUR", "3")
        .env("PETER_REDIS_URL", &db_url)
        .env("PETER_REDIS_PRIME_STYLE", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{listen}/.well-known/peter_sslers");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..200 {
        if http
            .get(format!("http://{listen}/.well-known/public/whoami"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    // The module's exact request: a form body, no Content-Type header.
    let autocert = |name: &str, token: Option<&str>| {
        let mut request = http
            .post(format!("{base}/api/domain/autocert.json?openresty=1"))
            .body(format!("domain_name={name}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body, retry_after)
        }
    };

    let (status, body, _) = autocert(&first, None).await;
    assert_eq!(status, 401, "never anonymously: {body}");

    let (status, body, _) = autocert(&first, Some(gateway)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["notes"], "new AcmeOrder, valid", "{body}");
    assert!(body["AcmeOrder"]["id"].as_i64().is_some(), "{body}");
    assert_eq!(body["domain"]["domain_name"], first.as_str());
    let cert = &body["certificate_signed__latest_single"];
    assert!(
        cert["fullchain"]["pem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"),
        "{body}"
    );
    assert!(
        redis(&["HGET", &format!("d2:{first}"), "f"]).starts_with("-----BEGIN CERTIFICATE-----"),
        "primed after the order"
    );

    let (status, body, _) = autocert(&first, Some(gateway)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["notes"], "existing certificate(s)");
    assert!(body.get("AcmeOrder").is_none(), "{body}");

    for (name, reason) in [
        ("auto.example.org", "allowlist"),
        ("blocked.example.com", "blocklisted"),
        ("off.example.com", "disabled"),
        ("", "empty"),
    ] {
        let (status, body, _) = autocert(name, Some(gateway)).await;
        assert_eq!(status, 422, "{name}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(reason),
            "{name}: {body}"
        );
    }

    // The CA refuses this name: the attempt counts, and the name waits.
    let (status, body, _) = autocert("refused.example.com", Some(gateway)).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("will not issue"));
    let (status, body, retry_after) = autocert("refused.example.com", Some(gateway)).await;
    assert_eq!(status, 429, "{body}");
    let wait: u64 = retry_after.unwrap().parse().unwrap();
    assert!((1..=600).contains(&wait), "{wait}");

    // Third attempt of the hour, then the fleet-wide limit (3 here).
    let (status, body, _) = autocert(&second, Some(gateway)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, retry_after) = autocert(&third, Some(gateway)).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("past hour"),
        "{body}"
    );
    assert!(retry_after.is_some());

    // config.json?openresty=1 writes the domain to Redis again.
    redis(&["DEL", &format!("d2:{first}")]);
    let config = http
        .get(format!("{base}/domain/{first}/config.json?openresty=1"))
        .bearer_auth(gateway)
        .send()
        .await
        .unwrap();
    assert_eq!(config.status().as_u16(), 200);
    assert!(
        redis(&["HGET", &format!("d2:{first}"), "f"]).starts_with("-----BEGIN CERTIFICATE-----"),
        "primed by config.json?openresty=1"
    );

    let token = std::fs::read_to_string(node.data.join("admin-token")).unwrap();
    let attempts: serde_json::Value = http
        .get(format!("{base}/domain-autocerts"))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    redis(&["DEL", &format!("d2:{first}"), &format!("d2:{second}")]);
    let rows = attempts["DomainAutocerts"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{attempts}");
    let outcomes: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["domain_name"].as_str().unwrap(),
                r["is_successful"].as_bool(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (second.as_str(), Some(true)),
            ("refused.example.com", Some(false)),
            (first.as_str(), Some(true)),
        ]
    );
}

/// Renewal configurations with a backup CA, against two Pebbles validating
/// on one port: issuance records a configuration; the operator adds a
/// backup at the second CA; with the primary stopped, three renewal runs
/// fail (each after the previous one's backoff) and the fourth renews from
/// the backup, says so, and sends no `replaces` there; a backup certificate
/// is ordered on request; an imported certificate is "not renewable" until
/// the operator names an account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewals_fail_over_to_the_backup_ca_after_three_failures() {
    let port = free_port();
    let primary = Pebble::start(PebbleOptions {
        http_port: Some(port),
        ..Default::default()
    })
    .await;
    let backup = Pebble::start(PebbleOptions {
        http_port: Some(port),
        ..Default::default()
    })
    .await;
    let node = Node::new("failover", None);
    node.setup(&primary);
    let bundle = node.data.join("backup-tls-ca.pem");
    std::fs::write(&bundle, &backup.tls_ca_pem).unwrap();
    node.json(&[
        "acme-server",
        "add",
        "backup",
        "--directory",
        &backup.directory_url,
        "--ca-bundle",
        bundle.to_str().unwrap(),
    ]);
    let backup_account = node.json(&["account", "new", "--server", "backup"])["AcmeAccount"]["id"]
        .as_i64()
        .unwrap();
    let listen = format!("127.0.0.1:{port}");
    let order = node.json(&[
        "order",
        "new",
        "fo.example.com",
        "www.fo.example.com",
        "--http-listen",
        &listen,
    ]);
    assert_eq!(order["AcmeOrder"]["status"], "valid");
    let primary_account = order["AcmeOrder"]["acme_account_id"].as_i64().unwrap();

    // Issuance recorded how the set is renewed.
    let configs = node.json(&["renewal-configuration", "list"]);
    let config = &configs["RenewalConfigurations"][0];
    assert_eq!(config["acme_account_id"], primary_account, "{configs}");
    assert!(config["backup_acme_account_id"].is_null());
    let config_id = config["id"].as_i64().unwrap().to_string();
    // A backup at the primary's own CA is refused.
    let same = node.run(&[
        "renewal-configuration",
        "new",
        "fo.example.com",
        "www.fo.example.com",
        "--account",
        &primary_account.to_string(),
        "--backup-account",
        &primary_account.to_string(),
    ]);
    assert_eq!(same.status.code(), Some(2));
    let configured = node.json(&[
        "renewal-configuration",
        "new",
        "www.fo.example.com",
        "fo.example.com",
        "--account",
        &primary_account.to_string(),
        "--backup-account",
        &backup_account.to_string(),
        "--backup-key-technology",
        "EC_P384",
    ]);
    assert_eq!(
        configured["RenewalConfiguration"]["id"].to_string(),
        config_id,
        "the set's configuration is replaced, not doubled"
    );
    assert_eq!(configured["RenewalConfiguration"]["failover_after"], 3);

    // The primary CA goes away.
    drop(primary);
    let renew = |offset_minutes: u64| {
        let offset = (offset_minutes * 60).to_string();
        node.json_with(
            &["renew", "--days", "100", "--http-listen", &listen],
            &[("PETER_TEST_CLOCK_OFFSET_SECONDS", offset.as_str())],
        )
    };
    let mut timeline = Vec::new();
    for (run, offset) in [(1u64, 0u64), (2, 6), (3, 17)] {
        let seconds = (offset * 60).to_string();
        let out = node
            .command(&["--json", "renew", "--days", "100", "--http-listen", &listen])
            .env("PETER_TEST_CLOCK_OFFSET_SECONDS", &seconds)
            .output()
            .unwrap();
        assert!(!out.status.success(), "run {run} fails");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let failed = report["renewal"]["failed"].as_array().unwrap();
        assert_eq!(failed.len(), 1, "run {run}: {report}");
        assert!(
            report["renewal"]["failovers"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        timeline.push(format!(
            "+{offset} min: run {run} failed at the primary: {}",
            failed[0][1]
        ));
    }
    let report = renew(40);
    let renewed = report["renewal"]["renewed"].as_array().unwrap();
    assert_eq!(renewed.len(), 1, "{report}");
    assert_eq!(
        report["renewal"]["failovers"][0][1].to_string(),
        config_id,
        "{report}"
    );
    let new_order = renewed[0][1].to_string();
    timeline.push(format!(
        "+40 min: run 4 renewed from the backup CA (order {new_order})"
    ));
    eprintln!("failover timeline:\n  {}", timeline.join("\n  "));
    let placed = node.json(&["order", "show", &new_order]);
    assert_eq!(placed["AcmeOrder"]["acme_account_id"], backup_account);
    assert_eq!(placed["AcmeOrder"]["status"], "valid");
    assert!(
        placed["AcmeOrder"]["replaces"].is_null(),
        "replaces goes only to the CA that issued the certificate: {placed}"
    );
    let cert_id = placed["AcmeOrder"]["certificate_signed_id"].to_string();
    let fullchain = node.data.join("failover.pem");
    node.json(&[
        "cert",
        "download",
        &cert_id,
        "--format",
        "fullchain.pem",
        "-o",
        fullchain.to_str().unwrap(),
    ]);
    openssl_verify(
        &node.data,
        &backup.root_pem(0).await,
        &backup.intermediate_pem(0).await,
        &fullchain,
    );
    let cert = node.json(&["cert", "show", &cert_id]);
    assert_eq!(
        cert["CertificateSigned"]["key_technology"], "EC_P384",
        "{cert}"
    );

    // A backup certificate on request.
    let spare = node.json(&[
        "renewal-configuration",
        "order-backup",
        &config_id,
        "--http-listen",
        &listen,
    ]);
    assert_eq!(spare["AcmeOrder"]["status"], "valid", "{spare}");
    assert_eq!(spare["AcmeOrder"]["acme_account_id"], backup_account);

    // A configuration's challenge type for a name reaches its orders: set
    // to dns-01 on a node without a DNS-01 method, the backup order is
    // refused before anything is sent, naming that name.
    let wrong = node.run(&[
        "renewal-configuration",
        "new",
        "fo.example.com",
        "www.fo.example.com",
        "--account",
        &primary_account.to_string(),
        "--challenge",
        "other.example.com=dns-01",
    ]);
    assert_eq!(wrong.status.code(), Some(2), "only the set's names");
    let chosen = node.json(&[
        "renewal-configuration",
        "new",
        "fo.example.com",
        "www.fo.example.com",
        "--account",
        &primary_account.to_string(),
        "--backup-account",
        &backup_account.to_string(),
        "--challenge",
        "WWW.fo.example.com=dns-01",
    ]);
    assert_eq!(
        chosen["RenewalConfiguration"]["challenge_types"]["www.fo.example.com"], "dns-01",
        "{chosen}"
    );
    let refused = node.run(&[
        "renewal-configuration",
        "order-backup",
        &config_id,
        "--http-listen",
        &listen,
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("`www.fo.example.com` is validated by dns-01"),
        "{stderr}"
    );

    // An imported certificate has no order: not renewable until the
    // operator names an account.
    let pki = peter_core::testkit::TestPki::new("failover-import");
    let leaf = pki.issue(
        &["imp.example.com"],
        peter_core::model::KeyTechnology::EcP256,
    );
    let cert = node.data.join("imp.pem");
    let key = node.data.join("imp.key");
    std::fs::write(&cert, leaf.certificate.pem()).unwrap();
    std::fs::write(&key, leaf.key.pem()).unwrap();
    let imported = node.json(&[
        "import",
        "cert",
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]);
    let imported_id = imported["certificate_signed"]["id"].as_i64().unwrap();
    let out = node
        .command(&["--json", "renew", "--days", "400", "--http-listen", &listen])
        .env("PETER_TEST_CLOCK_OFFSET_SECONDS", "7200")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped = report["renewal"]["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s[0] == imported_id && s[1].as_str().unwrap().starts_with("not renewable")),
        "{report}"
    );
    let named = node.json(&[
        "renewal-configuration",
        "new",
        "imp.example.com",
        "--account",
        &backup_account.to_string(),
    ]);
    assert_eq!(
        named["RenewalConfiguration"]["domain_names"][0],
        "imp.example.com"
    );
}
