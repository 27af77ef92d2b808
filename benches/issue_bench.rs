//! Issues N certificates of two names each from a local Pebble (real
//! HTTP-01, `PEBBLE_VA_NOSLEEP=1`, `PEBBLE_AUTHZREUSE=0`,
//! `PEBBLE_WFE_NONCEREJECT=0`), EC P-256 keys, SQLite store, at concurrency
//! 1 and 8; reports p50/p99 per certificate and certificates per second.
//! Three ways in, each against the same store and Pebble:
//! - `library`: `Peter::orders().create` in this process;
//! - `admin`: `POST acme-order/new/freeform` to the admin API served by
//!   this process (one keep-alive client);
//! - `cli`: a cold `peter --json order new` process per certificate
//!   (concurrency 1 only; the `peter` binary next to this one), so its
//!   p50 minus the library's is what a cold start costs.
//!
//! Then, against the same Pebble in the same run, the floor Pebble sets:
//! `../shared/tools/acme-floor.py` (a minimal keep-alive ACME client; path
//! overridable with `PETER_ACME_FLOOR`) with 1 and 8 workers, and peter's
//! ratio to it.
//!
//! ```text
//! cargo run --release -p peter-benches --bin issue_bench -- 200
//! cargo run --release -p peter-benches --bin issue_bench -- 100 library,cli
//! ```

use std::net::SocketAddr;
use std::time::Instant;

use peter_acme::testkit::{Pebble, PebbleOptions};
use peter_core::app::{AccountRequest, OrderRequest, Peter};
use peter_core::model::{AcmeOrderProcessingStrategy, AcmeOrderStatus, NewAcmeServer};
use peter_http::{AdminAccess, AdminState, PublicServer, PublicState};
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
    let modes: Vec<String> = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "library,admin,cli".into())
        .split(',')
        .map(str::to_string)
        .collect();
    let peter_bin = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .join("peter");
    if modes.iter().any(|m| m == "cli") {
        assert!(
            peter_bin.exists(),
            "{} is missing: cargo build --release -p peter-cli",
            peter_bin.display()
        );
    }
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
    const TOKEN: &str = "issue-bench-admin-token-0123456789";
    let server = PublicServer::start_with_admin(
        SocketAddr::from(([127, 0, 0, 1], pebble.http_port)),
        PublicState::new(peter.clone(), "bench"),
        Some(AdminState::new(
            peter.clone(),
            AdminAccess::new(TOKEN).unwrap(),
        )),
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
            ip_identifiers: false,
        })
        .await
        .unwrap();
    let account = peter
        .accounts()
        .create(AccountRequest {
            global_default: true,
            ..AccountRequest::default()
        })
        .await
        .unwrap();
    let admin_url = format!(
        "http://127.0.0.1:{}/.well-known/peter_sslers/acme-order/new/freeform",
        pebble.http_port
    );
    let http = reqwest::Client::new();
    let mut results = Vec::new();
    for mode in &modes {
        let concurrencies: &[usize] = if mode == "cli" { &[1] } else { &[1, 8] };
        for &concurrency in concurrencies {
            let started = Instant::now();
            let mut tasks = Vec::new();
            for worker in 0..concurrency {
                let peter = peter.clone();
                let mode = mode.clone();
                let http = http.clone();
                let admin_url = admin_url.clone();
                let peter_bin = peter_bin.clone();
                let url = url.clone();
                // The CLI's data dir: only its existence matters here (the
                // store is given by URL).
                let cli_data = dir.clone();
                tasks.push(tokio::spawn(async move {
                    let orders = peter.orders();
                    let mut times = Vec::new();
                    let mut i = worker;
                    while i < n {
                        let names = vec![
                            format!("{mode}{concurrency}-{i}.bench.example"),
                            format!("www.{mode}{concurrency}-{i}.bench.example"),
                        ];
                        let t = Instant::now();
                        match mode.as_str() {
                            "library" => {
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
                            }
                            "admin" => {
                                let answer = http
                                    .post(&admin_url)
                                    .bearer_auth(TOKEN)
                                    .json(&serde_json::json!({"domain_names": names.join(",")}))
                                    .send()
                                    .await
                                    .expect("admin API");
                                let status = answer.status();
                                let body = answer.text().await.unwrap();
                                assert!(status.is_success(), "{status}: {body}");
                                assert!(body.contains("\"status\":\"valid\""), "{body}");
                            }
                            "cli" => {
                                let (bin, url, data) =
                                    (peter_bin.clone(), url.clone(), cli_data.clone());
                                let out = tokio::task::spawn_blocking(move || {
                                    std::process::Command::new(bin)
                                        .arg("--data-dir")
                                        .arg(&data)
                                        .args(["--database-url", &url, "--json", "order", "new"])
                                        .args(&names)
                                        .output()
                                })
                                .await
                                .unwrap()
                                .expect("peter order new");
                                assert!(
                                    out.status.success(),
                                    "{}",
                                    String::from_utf8_lossy(&out.stderr)
                                );
                            }
                            other => panic!("unknown mode {other}: library, admin or cli"),
                        }
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
            let run = serde_json::json!({
                "mode": mode,
                "concurrency": concurrency,
                "certificates": n,
                "seconds": (secs * 100.0).round() / 100.0,
                "certificates_per_second": (n as f64 / secs * 10.0).round() / 10.0,
                "p50_ms": percentile(&times, 0.5).round(),
                "p99_ms": percentile(&times, 0.99).round(),
            });
            eprintln!("{run}");
            results.push(run);
        }
    }
    // The floor: the yardstick answers HTTP-01 itself on Pebble's port.
    server.stop().await.unwrap();
    let floor_tool = std::env::var("PETER_ACME_FLOOR")
        .unwrap_or_else(|_| "../shared/tools/acme-floor.py".to_string());
    let ca = dir.join("pebble-ca.pem");
    std::fs::write(&ca, &pebble.tls_ca_pem).unwrap();
    let mut floors = Vec::new();
    for workers in [1usize, 8] {
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
        let mut ratios = serde_json::Map::new();
        for run in results
            .iter()
            .filter(|r| r["concurrency"].as_u64() == Some(workers as u64))
        {
            let rate = run["certificates_per_second"].as_f64().unwrap();
            let p50 = run["p50_ms"].as_f64().unwrap();
            ratios.insert(
                run["mode"].as_str().unwrap().to_string(),
                serde_json::json!({
                    "rate_over_floor": (rate / floor_rate * 100.0).round() / 100.0,
                    "p50_over_floor_p50": (p50 / floor_p50 * 100.0).round() / 100.0,
                }),
            );
        }
        floors.push(serde_json::json!({
            "workers": workers,
            "floor_certificates_per_second": (floor_rate * 10.0).round() / 10.0,
            "floor_p50_ms": floor_p50.round(),
            "peter": ratios,
        }));
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({"peter": results, "floor": floors}))
            .unwrap()
    );
    std::fs::remove_dir_all(&dir).ok();
}
