//! Seeds a store with N domains and N certificates (one leaf per domain,
//! each with its own EC P-256 key, all from one test PKI), reports the bulk
//! import rate, then the p50/p99/max latency of "latest active certificate
//! for domain X" over random names.
//!
//! ```text
//! cargo run --release -p peter-benches --bin store_seed -- sqlite 100000
//! cargo run --release -p peter-benches --bin store_seed -- postgres 100000
//! ```
//! `sqlite:/path/file.sqlite` seeds (and keeps) that file instead of a
//! throw-away one. PostgreSQL: `PETER_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) names a server where a
//! fresh database is created for the run and dropped afterwards.

use peter_core::ports::CertificateStore;
use std::sync::Arc;
use std::time::Instant;

use peter_core::dns::DomainName;
use peter_core::model::KeyTechnology;
use peter_core::ports::{CertificateImport, SystemClock};
use peter_core::services::import::prepare_certificate_import;
use peter_core::testkit::TestPki;
use peter_store::SqlStore;
use rand::Rng;
use sea_orm::{ConnectionTrait, Database};

const IMPORT_TASKS: usize = 4;
const LOOKUPS: usize = 20_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "sqlite".into());
    let count: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);

    let (url, cleanup) = match backend.as_str() {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("peter-bench-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            (
                peter_store::sqlite_url_for_path(&dir.join("bench.sqlite")),
                Some(dir),
            )
        }
        "postgres" => {
            let admin = std::env::var("PETER_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("peter_bench_{}", std::process::id());
            let db = Database::connect(&admin)
                .await
                .expect("PostgreSQL must be running");
            db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            let base = admin.rsplit_once('/').unwrap().0.to_string();
            (format!("{base}/{name}"), None)
        }
        other if other.starts_with("sqlite:") => {
            // A store file that outlives the run (the HTTP load benchmark
            // serves it afterwards).
            let path = std::path::PathBuf::from(other.trim_start_matches("sqlite:"));
            (peter_store::sqlite_url_for_path(&path), None)
        }
        other => {
            panic!("unknown backend {other}; use sqlite, sqlite:/path/file.sqlite or postgres")
        }
    };

    eprintln!("generating {count} certificates and keys...");
    let t0 = Instant::now();
    let pki = Arc::new(TestPki::new("bench"));
    let chain = pki.chain_pem();
    let clock = SystemClock;
    let imports: Vec<CertificateImport> = (0..count)
        .map(|i| {
            let leaf = pki.issue(&[&format!("d{i}.bench.example")], KeyTechnology::EcP256);
            prepare_certificate_import(leaf.upload(Some(&chain)), &clock).expect("prepare")
        })
        .collect();
    eprintln!("generated in {:.1}s", t0.elapsed().as_secs_f64());

    let store = Arc::new(
        SqlStore::connect(&url, Arc::new(SystemClock))
            .await
            .expect("open store"),
    );
    let imports = Arc::new(imports);
    let t1 = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..IMPORT_TASKS {
        let store = Arc::clone(&store);
        let imports = Arc::clone(&imports);
        tasks.push(tokio::spawn(async move {
            let mut i = worker;
            while i < imports.len() {
                store.import_certificate(&imports[i]).await.expect("import");
                i += IMPORT_TASKS;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let import_secs = t1.elapsed().as_secs_f64();

    let mut rng = rand::rng();
    let names: Vec<DomainName> = (0..LOOKUPS)
        .map(|_| {
            DomainName::parse(&format!("d{}.bench.example", rng.random_range(0..count))).unwrap()
        })
        .collect();
    // Warm the connection pool and caches.
    for n in names.iter().take(500) {
        store.latest_active_certificate_for_domain(n).await.unwrap();
    }
    let mut micros = Vec::with_capacity(LOOKUPS);
    for n in &names {
        let t = Instant::now();
        let found = store.latest_active_certificate_for_domain(n).await.unwrap();
        micros.push(t.elapsed().as_secs_f64() * 1e6);
        assert!(found.is_some(), "{n} has a certificate");
    }
    micros.sort_by(|a, b| a.partial_cmp(b).unwrap());

    let result = serde_json::json!({
        "backend": backend,
        "certificates": count,
        "import_seconds": (import_secs * 10.0).round() / 10.0,
        "imports_per_second": (count as f64 / import_secs).round(),
        "lookups": LOOKUPS,
        "lookup_p50_us": percentile(&micros, 0.50).round(),
        "lookup_p99_us": percentile(&micros, 0.99).round(),
        "lookup_max_us": micros.last().copied().unwrap_or_default().round(),
    });
    println!("{}", serde_json::to_string_pretty(&result).unwrap());

    // Optionally, Redis priming of every domain (a dedicated database number,
    // flushed afterwards): `... -- postgres 100000 redis://127.0.0.1:6379/15`.
    if let Some(redis_url) = std::env::args().nth(3) {
        use peter_core::ports::CachePublisher;
        use peter_store::redis_prime::{PrimeStyle, RedisPrimer};
        let primer = RedisPrimer::connect(&redis_url, "", None)
            .await
            .expect("redis");
        let mut primed = Vec::new();
        for style in [PrimeStyle::One, PrimeStyle::Two] {
            let t = Instant::now();
            let report = primer
                .publish_all(store.as_ref(), style)
                .await
                .expect("prime");
            let secs = t.elapsed().as_secs_f64();
            let keys = report.domain + report.cert + report.pkey + report.certcachain;
            primed.push(serde_json::json!({
                "style": format!("{style:?}"),
                "domains": report.domain,
                "keys": keys,
                "seconds": (secs * 100.0).round() / 100.0,
                "keys_per_second": (keys as f64 / secs).round(),
                "domains_per_second": (report.domain as f64 / secs).round(),
            }));
        }
        let flush = std::process::Command::new("redis-cli")
            .args(["-u", &redis_url, "FLUSHDB"])
            .output();
        assert!(
            flush.map(|o| o.status.success()).unwrap_or(false),
            "FLUSHDB on the bench database"
        );
        println!("{}", serde_json::to_string_pretty(&primed).unwrap());
    }

    if let Some(dir) = cleanup {
        std::fs::remove_dir_all(dir).ok();
    } else if backend.starts_with("sqlite:") {
        // kept
    } else if let Ok(admin) = std::env::var("PETER_TEST_POSTGRES_URL")
        .or_else(|_| Ok::<_, ()>("postgres://postgres@127.0.0.1:5432/postgres".into()))
    {
        drop(store);
        let db = Database::connect(&admin).await.unwrap();
        db.execute_unprepared(&format!(
            "DROP DATABASE IF EXISTS \"peter_bench_{}\" WITH (FORCE)",
            std::process::id()
        ))
        .await
        .ok();
    }
}
