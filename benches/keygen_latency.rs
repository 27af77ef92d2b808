//! How long a public answer waits while the admin API generates RSA-4096
//! keys. `peter serve`'s server (2 workers, as on a 2-core machine, or
//! `--workers N`) runs in this process; the client runs on its own thread
//! and runtime, so it does not compete for the server's workers. It polls
//! `whoami` one request at a time, first alone (the baseline), then while
//! 8 RSA-4096 keys are generated through `POST private-key/new` at once,
//! and prints p50, p99 and the maximum of each phase. The goal: no public
//! answer waits more than 100 ms during generation.
//!
//! ```text
//! cargo run --release -p peter-benches --bin keygen_latency [-- --workers 2 --keys 8]
//! ```

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use peter_core::app::Peter;
use peter_http::{AdminAccess, AdminState, PublicServer, PublicState};
use peter_store::SqlStore;

const TOKEN: &str = "keygen-latency-bench-token";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == name)
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(default)
}

fn summary(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{label}: {} answers, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}

async fn whoami_until(http: &reqwest::Client, url: &str, done: impl Fn() -> bool) -> Vec<f64> {
    let mut ms = Vec::new();
    while !done() {
        let t = Instant::now();
        let r = http.get(url).send().await.expect("whoami");
        assert!(r.status().is_success());
        let _ = r.bytes().await;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms
}

fn main() {
    let workers = arg("--workers", 2);
    let keys = arg("--keys", 8);
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("peter-keygen-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = peter_store::sqlite_url_for_path(&dir.join("k.sqlite"));
    let server = server_rt.block_on(async {
        let peter = Peter::builder()
            .store(SqlStore::open(&url).await.unwrap())
            .build()
            .unwrap();
        let admin = AdminState::new(peter.clone(), AdminAccess::new(TOKEN).unwrap());
        PublicServer::start_with_admin(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            PublicState::new(peter, "bench"),
            Some(admin),
        )
        .await
        .unwrap()
    });
    let base = format!("http://{}", server.local_addr);
    let client = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let http = reqwest::Client::new();
            let whoami = format!("{base}/.well-known/public/whoami");
            let start = Instant::now();
            let alone =
                whoami_until(&http, &whoami, || start.elapsed() > Duration::from_secs(2)).await;
            let generating = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(keys));
            let started = Instant::now();
            for _ in 0..keys {
                let (http, generating) = (http.clone(), generating.clone());
                let url = format!("{base}/.well-known/peter_sslers/private-key/new");
                tokio::spawn(async move {
                    let r = http
                        .post(url)
                        .bearer_auth(TOKEN)
                        .json(&serde_json::json!({"key_technology": "RSA_4096"}))
                        .send()
                        .await
                        .expect("generate");
                    assert!(r.status().is_success(), "{}", r.status());
                    generating.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
            let during = whoami_until(&http, &whoami, || {
                generating.load(std::sync::atomic::Ordering::SeqCst) == 0
            })
            .await;
            let took = started.elapsed();
            println!("server workers: {workers}; {keys} RSA-4096 keys generated in {took:.2?}");
            summary("whoami alone", alone);
            summary("whoami during key generation", during);
        })
    });
    client.join().unwrap();
    server_rt.block_on(server.stop()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
