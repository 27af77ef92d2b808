//! Issues N certificates of two names each from a local Pebble (real
//! HTTP-01, `PEBBLE_VA_NOSLEEP=1`, `PEBBLE_AUTHZREUSE=0`,
//! `PEBBLE_WFE_NONCEREJECT=0`), EC P-256 keys, SQLite store, at concurrency
//! 1 and 8; reports p50/p99 per certificate and certificates per second.
//! Then, against the same Pebble in the same run, the floor Pebble sets:
//! `../shared/tools/acme-floor.py` (a minimal keep-alive ACME client; path
//! overridable with `PETER_ACME_FLOOR`) with 1 and 8 workers, and peter's
//! ratio to it.
//!
//! ```text
//! cargo run --release -p peter-benches --bin issue_bench -- 200
//! ```

use std::net::SocketAddr;
use std::time::Instant;

use peter_acme::testkit::{Pebble, PebbleOptions};
use peter_core::app::{AccountRequest, OrderRequest, Peter};
use peter_core::model::{AcmeOrderProcessingStrategy, AcmeOrderStatus, NewAcmeServer};
use peter_http::{PublicServer, PublicState};
use peter_store::SqlStore;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let pebble = Pebble::start(PebbleOptions::default()).await;
    let dir = std::env::temp_dir().join(format!("peter-issue-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = peter_store::sqlite_url_for_path(&dir.join("b.sqlite"));
    let peter = Peter::builder()
        .store(SqlStore::open(&url).await.unwrap())
        .acme(peter_acme::InstantAcme)
        .build()
        .unwrap();
    let server = PublicServer::start(
        SocketAddr::from(([127, 0, 0, 1], pebble.http_port)),
        PublicState::new(peter.clone(), "bench"),
    )
    .await
    .unwrap();
    peter
        .acme_servers()
        .add(NewAcmeServer {
            name: "pebble".into(),
            directory_url: pebble.directory_url.clone(),
            ca_bundle_pem: Some(pebble.tls_ca_pem.clone()),
            is_default: true,
        })
        .await
        .unwrap();
    let account = peter
        .accounts()
        .create(AccountRequest::default())
        .await
        .unwrap();
    let mut results = Vec::new();
    for concurrency in [1usize, 8] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for worker in 0..concurrency {
            let peter = peter.clone();
            tasks.push(tokio::spawn(async move {
                let orders = peter.orders();
                let mut times = Vec::new();
                let mut i = worker;
                while i < n {
                    let names = vec![
                        format!("c{concurrency}-{i}.bench.example"),
                        format!("www.c{concurrency}-{i}.bench.example"),
                    ];
                    let t = Instant::now();
                    let order = orders
                        .create(OrderRequest::new(
                            account.id,
                            names,
                            AcmeOrderProcessingStrategy::ProcessSingle,
                        ))
                        .await
                        .expect("issue")
                        .into_value();
                    assert_eq!(order.status, AcmeOrderStatus::Valid);
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                    i += concurrency;
                }
                times
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.extend(t.await.unwrap());
        }
        let secs = started.elapsed().as_secs_f64();
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        results.push(serde_json::json!({
            "concurrency": concurrency,
            "certificates": n,
            "seconds": (secs * 100.0).round() / 100.0,
            "certificates_per_second": (n as f64 / secs * 10.0).round() / 10.0,
            "p50_ms": percentile(&times, 0.5).round(),
            "p99_ms": percentile(&times, 0.99).round(),
        }));
    }
    // The floor: the yardstick answers HTTP-01 itself on Pebble's port.
    server.stop().await.unwrap();
    let floor_tool = std::env::var("PETER_ACME_FLOOR")
        .unwrap_or_else(|_| "../shared/tools/acme-floor.py".to_string());
    let ca = dir.join("pebble-ca.pem");
    std::fs::write(&ca, &pebble.tls_ca_pem).unwrap();
    let mut floors = Vec::new();
    for (workers, peter_run) in [(1usize, &results[0]), (8, &results[1])] {
        let out = std::process::Command::new("python3")
            .arg(&floor_tool)
            .args(["--dir", &pebble.directory_url])
            .arg("--ca")
            .arg(&ca)
            .args(["--certs", &n.to_string(), "--names", "2"])
            .args(["--http-addr", &format!("127.0.0.1:{}", pebble.http_port)])
            .args(["--workers", &workers.to_string()])
            .args(["--prefix", &format!("floor{workers}")])
            .output()
            .expect("python3 and acme-floor.py");
        assert!(
            out.status.success(),
            "{floor_tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let floor: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let floor_rate = floor["certs_per_s"].as_f64().unwrap();
        let floor_p50 = floor["per_cert_ms"]["median"].as_f64().unwrap_or(f64::NAN);
        let rate = peter_run["certificates_per_second"].as_f64().unwrap();
        let p50 = peter_run["p50_ms"].as_f64().unwrap();
        floors.push(serde_json::json!({
            "workers": workers,
            "floor_certificates_per_second": (floor_rate * 10.0).round() / 10.0,
            "floor_p50_ms": floor_p50.round(),
            "peter_rate_over_floor": (rate / floor_rate * 100.0).round() / 100.0,
            "peter_p50_over_floor_p50": (p50 / floor_p50 * 100.0).round() / 100.0,
        }));
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({"peter": results, "floor": floors}))
            .unwrap()
    );
    std::fs::remove_dir_all(&dir).ok();
}
