//! Issues N certificates of two names each from a local Pebble (real
//! HTTP-01, `PEBBLE_VA_NOSLEEP=1`, `PEBBLE_AUTHZREUSE=0`,
//! `PEBBLE_WFE_NONCEREJECT=0`), EC P-256 keys, SQLite store, at concurrency
//! 1 and 8; reports p50/p99 per certificate and certificates per second.
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
    let _server = PublicServer::start(
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
    println!("{}", serde_json::to_string_pretty(&results).unwrap());
    std::fs::remove_dir_all(&dir).ok();
}
