//! CI's generated-client check: the admin API's OpenAPI document validates
//! (openapi-spec-validator), a Python client generated from it
//! (openapi-python-client) runs a scripted flow against a live server.
//! The tools come from `scripts/test.sh` (a venv; PETER_TEST_PYTHON).

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

    run(Command::new(&python).args([
        "-c",
        "import json,sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')",
        spec_path.to_str().unwrap(),
    ]));

    let generator = python.parent().unwrap().join("openapi-python-client");
    let out_dir = w.dir.join("client");
    run(Command::new(&generator)
        .args([
            "generate",
            "--path",
            spec_path.to_str().unwrap(),
            "--output-path",
        ])
        .arg(&out_dir)
        .arg("--config")
        .arg(scripts.join("generator-config.yml")));
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

    // the flow really went through this server
    let domains = w.get("domain/client.example.com").await.expect(200).json();
    assert_eq!(domains["Domain"]["is_active"], true);
    let certs = w
        .get("certificate-signeds/inactive")
        .await
        .expect(200)
        .json();
    assert_eq!(certs["pagination"]["total_items"], 1);
}
