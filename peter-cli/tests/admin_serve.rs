//! `peter serve --admin` as its own process, and config.json kept current
//! by changes other processes make (the CLI writing the same SQLite store).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use peter_core::model::KeyTechnology;
use peter_core::testkit::TestPki;

fn peter(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_peter"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("PETER_DATABASE_URL");
    cmd.env_remove("PETER_ADMIN_ENABLED");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run peter")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn data_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("peter-serve-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = peter(&dir, &["init"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

async fn serve(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Server, String) {
    let port = peter_acme::testkit::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_peter"));
    cmd.arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", &listen])
        .args(args)
        .env_remove("PETER_ADMIN_ENABLED")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Server(cmd.spawn().unwrap());
    let base = format!("http://{listen}");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..200 {
        if http
            .get(format!("{base}/.well-known/public/whoami"))
            .send()
            .await
            .is_ok()
        {
            return (server, base);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("peter serve did not start");
}

async fn get_json(url: &str, token: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_json_shows_what_another_process_just_changed() {
    let dir = data_dir("current");
    let token = std::fs::read_to_string(dir.join("admin-token"))
        .unwrap()
        .trim()
        .to_string();
    let (_server, base) = serve(&dir, &["--admin"], &[]).await;
    let config = format!("{base}/.well-known/peter_sslers/domain/current.example.com/config.json");
    assert_eq!(
        get_json(&config, &token).await.0,
        404,
        "unknown before the import"
    );

    // another process imports a certificate...
    let pki = TestPki::new("current");
    let leaf = pki.issue(&["current.example.com"], KeyTechnology::EcP256);
    let files = dir.join("upload");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("cert.pem"), leaf.certificate.pem()).unwrap();
    std::fs::write(files.join("key.pem"), leaf.key.pem()).unwrap();
    std::fs::write(files.join("chain.pem"), pki.chain_pem()).unwrap();
    let out = peter(
        &dir,
        &[
            "--json",
            "import",
            "cert",
            "--cert",
            files.join("cert.pem").to_str().unwrap(),
            "--key",
            files.join("key.pem").to_str().unwrap(),
            "--chain",
            files.join("chain.pem").to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let imported: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cert_id = imported["certificate_signed"]["id"]
        .as_i64()
        .or_else(|| imported["CertificateSigned"]["id"].as_i64())
        .unwrap_or_else(|| panic!("{imported}"));

    // ...and the running server answers with it at the next request
    let (status, cfg) = get_json(&config, &token).await;
    assert_eq!(status, 200);
    assert_eq!(
        cfg["certificate_signed__latest_single"]["id"],
        cert_id.to_string()
    );
    assert_eq!(
        cfg["certificate_signed__latest_single"]["certificate"]["pem"],
        leaf.certificate.pem()
    );

    // Another process marks it inactive: the server's cache follows the
    // store's change feed, so it is gone within 250 ms (polled for 2 s).
    let out = peter(
        &dir,
        &["cert", "mark", &cert_id.to_string(), "inactive"],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let marked = std::time::Instant::now();
    let cfg = loop {
        let (_, cfg) = get_json(&config, &token).await;
        if cfg["certificate_signed__latest_single"].is_null()
            || marked.elapsed() > std::time::Duration::from_secs(2)
        {
            break cfg;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert!(cfg["certificate_signed__latest_single"].is_null(), "{cfg}");
    eprintln!(
        "config.json followed another process's change in {:?}",
        marked.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_is_mounted_only_when_enabled() {
    let dir = data_dir("flags");
    let token = std::fs::read_to_string(dir.join("admin-token"))
        .unwrap()
        .trim()
        .to_string();

    let out = peter(&dir, &["serve", "--admin", "--public-only"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be given together"));

    // default: off
    let (server, base) = serve(&dir, &[], &[]).await;
    assert_eq!(
        get_json(&format!("{base}/.well-known/peter_sslers/domains"), &token)
            .await
            .0,
        404
    );
    drop(server);
    // the environment turns it on; the token comes from the 0600 file
    let (server, base) = serve(&dir, &[], &[("PETER_ADMIN_ENABLED", "1")]).await;
    assert_eq!(
        get_json(&format!("{base}/.well-known/peter_sslers/domains"), &token)
            .await
            .0,
        200
    );
    drop(server);
    // --public-only wins over the environment
    let (server, base) = serve(&dir, &["--public-only"], &[("PETER_ADMIN_ENABLED", "1")]).await;
    assert_eq!(
        get_json(&format!("{base}/.well-known/peter_sslers/domains"), &token)
            .await
            .0,
        404
    );
    drop(server);
    // PETER_ADMIN_TOKEN replaces the file's token
    let other = "another-admin-token-0123456789";
    let (_server, base) = serve(&dir, &["--admin"], &[("PETER_ADMIN_TOKEN", other)]).await;
    assert_eq!(
        get_json(&format!("{base}/.well-known/peter_sslers/domains"), other)
            .await
            .0,
        200
    );
    assert_eq!(
        get_json(&format!("{base}/.well-known/peter_sslers/domains"), &token)
            .await
            .0,
        401
    );
    let _ = std::fs::remove_dir_all(&dir);
}
