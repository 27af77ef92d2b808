//! The binary users install (`cargo build --release -p peter-cli`, without
//! the `testkit` feature) has no test hooks: `PETER_KILL_AT` does not stop
//! it and `PETER_TEST_CLOCK_OFFSET_SECONDS` does not move its clock.
//! `scripts/test.sh` builds that binary first (the tests' own binary has the
//! hooks) and names it in `PETER_SHIPPED_BINARY`.

use std::process::{Command, Output};

use peter_acme::testkit::{Pebble, PebbleOptions, free_port};

fn shipped() -> String {
    std::env::var("PETER_SHIPPED_BINARY").expect(
        "PETER_SHIPPED_BINARY names a `cargo build -p peter-cli` binary (scripts/test.sh sets it)",
    )
}

fn run(data: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(shipped())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("PETER_DATABASE_URL")
        .envs(env.iter().copied())
        .output()
        .expect("run the shipped binary")
}

fn ok(out: Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_binary_ignores_the_test_hooks() {
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let data = std::env::temp_dir().join(format!(
        "peter-shipped-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&data);
    ok(run(&data, &["init"], &[]));
    let bundle = data.join("pebble-ca.pem");
    std::fs::write(&bundle, &pebble.tls_ca_pem).unwrap();
    ok(run(
        &data,
        &[
            "acme-server",
            "add",
            "pebble",
            "--directory",
            &pebble.directory_url,
            "--ca-bundle",
            bundle.to_str().unwrap(),
            "--default",
        ],
        &[],
    ));
    ok(run(&data, &["account", "new", "--global-default"], &[]));
    let listen = format!("127.0.0.1:{}", pebble.http_port);
    // A test build aborts at this checkpoint; the shipped one carries on.
    let order = ok(run(
        &data,
        &[
            "--json",
            "order",
            "new",
            "shipped.example",
            "--http-listen",
            &listen,
        ],
        &[("PETER_KILL_AT", "after_new_order")],
    ));
    assert_eq!(order["AcmeOrder"]["status"], "valid", "{order}");
    // 89 days of validity left: not due, even "80 days later" for a test build.
    let plan = ok(run(
        &data,
        &["--json", "renew", "--dry-run"],
        &[("PETER_TEST_CLOCK_OFFSET_SECONDS", "6912000")],
    ));
    assert_eq!(plan["due"], serde_json::json!([]), "{plan}");
    let _ = std::fs::remove_dir_all(&data);
}
