//! `peter --json` prints the admin API's own view types: the same keys, the
//! same RFC 3339 times and the same pagination object for the same object
//! or list; with `--json`, an error is the API's error document on stderr.

use std::process::Command;

mod support;

use peter_core::model::KeyTechnology;
use peter_core::testkit::TestPki;
use serde_json::{Value, json};
use support::*;

fn cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_peter"))
        .arg("--data-dir")
        .arg(dir)
        .arg("--json")
        .args(args)
        .env_remove("PETER_DATABASE_URL")
        .output()
        .expect("run peter")
}

fn stdout_json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_what_the_api_answers() {
    let w = AdminWorld::start("json-contract", 0, AdminWorld::default_access(), true).await;
    let pki = TestPki::new("json-contract");
    let leaf = pki.issue(
        &["json.example.com", "www.json.example.com"],
        KeyTechnology::EcP256,
    );
    let up = w
        .post(
            "certificate-signed/upload",
            json!({"certificate_file": leaf.certificate.pem(), "private_key_file_pem": leaf.key.pem(), "chain_file": pki.chain_pem()}),
        )
        .await
        .expect(200)
        .json();
    let id = up["CertificateSigned"]["id"].as_i64().unwrap().to_string();

    let pairs = [
        (
            vec!["cert", "show", id.as_str()],
            format!("certificate-signed/{id}"),
        ),
        (vec!["cert", "list"], "certificate-signeds".to_string()),
        (vec!["domain", "list"], "domains".to_string()),
        (
            vec!["domain", "show", "json.example.com"],
            "domain/json.example.com".to_string(),
        ),
        (vec!["key", "list"], "private-keys".to_string()),
        (vec!["order", "list"], "acme-orders".to_string()),
        (
            vec!["account", "list"],
            "acme-accounts?per_page=1000".to_string(),
        ),
    ];
    for (args, path) in pairs {
        let printed = stdout_json(&cli(&w.dir, &args));
        let answered = w.get(&path).await.expect(200).json();
        assert_eq!(printed, answered, "peter --json {args:?} vs GET {path}");
    }
    let shown = stdout_json(&cli(&w.dir, &["cert", "show", &id]));
    let not_after = shown["CertificateSigned"]["timestamp_not_after"]
        .as_str()
        .unwrap();
    assert!(
        time::OffsetDateTime::parse(not_after, &time::format_description::well_known::Rfc3339)
            .is_ok()
            && not_after.ends_with('Z'),
        "RFC 3339 UTC: {not_after}"
    );

    // An error is the API's error document, on stderr, with the field named.
    let bad = cli(&w.dir, &["domain", "add", "bad_name.example.com"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&bad.stderr).unwrap();
    assert_eq!(doc["result"], "error");
    assert!(doc["form_errors"]["domain_name"].is_string(), "{doc}");
    let api = w
        .post("domain/new", json!({"domain_name": "bad_name.example.com"}))
        .await
        .expect(422)
        .json();
    assert_eq!(doc, api, "the same document as the API's");
    // Usage errors too.
    let usage = cli(&w.dir, &["cert", "mark", &id, "unrevoke"]);
    assert_eq!(usage.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&usage.stderr).unwrap();
    assert_eq!(doc["result"], "error");
}
