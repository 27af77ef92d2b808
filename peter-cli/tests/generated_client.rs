//! CI's generated-client check: the admin API's OpenAPI document validates
//! (openapi-spec-validator) and lints clean (Redocly); a Python client
//! (openapi-python-client) and a TypeScript one (openapi-typescript +
//! openapi-fetch, type-checked by `tsc --strict`) generated from it run the
//! same scripted flow against a live server. The Rust client (progenitor)
//! is `examples/generated_rust_client.rs`, built from the checked-in copy of
//! the document this test keeps equal to the served one. The tools come
//! from `scripts/test.sh`, each pinned (a venv in PETER_TEST_PYTHON; npm's
//! lockfile in scripts/openapi-client/ts).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use peter_core::model::KeyTechnology;
use peter_core::testkit::TestPki;
use support::*;

fn python() -> PathBuf {
    let python = std::env::var("PETER_TEST_PYTHON").expect(
        "PETER_TEST_PYTHON is not set: run the suite through scripts/test.sh, which installs \
         openapi-python-client and openapi-spec-validator into a venv",
    );
    let python = PathBuf::from(python);
    assert!(python.exists(), "{} does not exist", python.display());
    python
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_python_client_runs_the_scripted_flow() {
    let python = python();
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/openapi-client");
    let w = AdminWorld::start("genclient", 0, AdminWorld::default_access(), true).await;
    let spec = w.get_as("api/openapi.json", None).await.expect(200).body;
    let spec_path = w.dir.join("openapi.json");
    std::fs::write(&spec_path, &spec).unwrap();

    // The copy the Rust client is generated from is the served document.
    let checked_in =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/openapi/peter-admin.json");
    let served: serde_json::Value = serde_json::from_slice(&spec).unwrap();
    if std::env::var("PETER_UPDATE_OPENAPI").is_ok() {
        let text = serde_json::to_string_pretty(&served).unwrap() + "\n";
        std::fs::write(&checked_in, text).unwrap();
    }
    let copy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&checked_in).unwrap()).unwrap();
    assert!(
        copy == served,
        "examples/openapi/peter-admin.json differs from the served document: \
         rerun this test with PETER_UPDATE_OPENAPI=1 and commit the file"
    );

    // Redocly's recommended rules: no errors.
    let ts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/openapi-client/ts");
    let lint = run(Command::new("npx")
        .current_dir(&ts)
        .args(["--no-install", "redocly", "lint"])
        .arg(&spec_path));
    assert!(lint.contains("Your API description is valid"), "{lint}");

    run(Command::new(&python).args([
        "-c",
        "import json,sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')",
        spec_path.to_str().unwrap(),
    ]));

    let generator = python.parent().unwrap().join("openapi-python-client");
    let out_dir = w.dir.join("client");
    let generated = run(Command::new(&generator)
        .args([
            "generate",
            "--path",
            spec_path.to_str().unwrap(),
            "--output-path",
        ])
        .arg(&out_dir)
        .arg("--config")
        .arg(scripts.join("generator-config.yml")));
    assert!(
        !generated.contains("Warning"),
        "every operation is generated: {generated}"
    );
    assert!(out_dir.join("peter_admin_api_client").is_dir());

    let pki = TestPki::new("generated-client");
    let leaf = pki.issue(&["client.example.com"], KeyTechnology::EcP256);
    std::fs::write(w.dir.join("cert.pem"), leaf.certificate.pem()).unwrap();
    std::fs::write(w.dir.join("key.pem"), leaf.key.pem()).unwrap();
    std::fs::write(w.dir.join("chain.pem"), pki.chain_pem()).unwrap();
    let text = run(Command::new(&python)
        .arg(scripts.join("flow.py"))
        .arg(format!("http://{}", w.addr))
        .arg(TOKEN)
        .arg(w.dir.join("cert.pem"))
        .arg(w.dir.join("key.pem"))
        .arg(w.dir.join("chain.pem"))
        .env("PYTHONPATH", &out_dir));
    assert!(text.contains("generated-client flow: all good"), "{text}");

    // The same flow in TypeScript, on another name.
    let ts_leaf = pki.issue(&["ts-client.example.com"], KeyTechnology::EcP256);
    std::fs::write(w.dir.join("ts-cert.pem"), ts_leaf.certificate.pem()).unwrap();
    std::fs::write(w.dir.join("ts-key.pem"), ts_leaf.key.pem()).unwrap();
    let text = run(Command::new(ts.join("run.sh"))
        .arg(&spec_path)
        .arg(format!("http://{}", w.addr))
        .arg(TOKEN)
        .arg(w.dir.join("ts-cert.pem"))
        .arg(w.dir.join("ts-key.pem"))
        .arg(w.dir.join("chain.pem"))
        .env("PETER_FLOW_DOMAIN", "TS-Client.Example.com"));
    assert!(text.contains("typescript flow: all good"), "{text}");

    // the flow really went through this server
    let domains = w.get("domain/client.example.com").await.expect(200).json();
    assert_eq!(domains["Domain"]["is_active"], true);
    let certs = w
        .get("certificate-signeds/inactive")
        .await
        .expect(200)
        .json();
    assert_eq!(certs["pagination"]["total_items"], 2, "one per flow");
}
