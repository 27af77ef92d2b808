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
//! fresh database is created for the run and dropped afterwards;
//! `postgres:NAME` creates (and keeps) database NAME instead.
//!
//! `--names K` gives each certificate K names (default 1), so N
//! certificates cover N×K domains: `-- sqlite 100000 --names 10` is the
//! million-domain store. Certificate `i` names `d{i·K}` .. `d{i·K+K-1}`
//! under `bench.example`. The store's size on disk is reported.

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
    let mut positional = Vec::new();
    let mut names_per_cert: usize = 1;
    let mut raw = std::env::args().skip(1);
    while let Some(arg) = raw.next() {
        if arg == "--names" {
            names_per_cert = raw
                .next()
                .and_then(|s| s.parse().ok())
                .filter(|k| (1..=100).contains(k))
                .expect("--names takes 1 to 100");
        } else {
            positional.push(arg);
        }
    }
    let mut args = positional.clone().into_iter();
    let backend = args.next().unwrap_or_else(|| "sqlite".into());
    let count: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let redis_arg = args.next();
    let domains = count * names_per_cert;
    let mut kept_pg: Option<String> = None;
    let mut sqlite_file: Option<std::path::PathBuf> = None;

    let (url, cleanup) = match backend.as_str() {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("peter-bench-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            sqlite_file = Some(dir.join("bench.sqlite"));
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
            sqlite_file = Some(path.clone());
            (peter_store::sqlite_url_for_path(&path), None)
        }
        other if other.starts_with("postgres:") => {
            // A database that outlives the run, for the scale benchmark.
            let name = other.trim_start_matches("postgres:").to_string();
            let admin = std::env::var("PETER_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let db = Database::connect(&admin)
                .await
                .expect("PostgreSQL must be running");
            db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .ok();
            let base = admin.rsplit_once('/').unwrap().0.to_string();
            kept_pg = Some(name.clone());
            (format!("{base}/{name}"), None)
        }
        other => {
            panic!("unknown backend {other}; use sqlite, sqlite:/path/file.sqlite or postgres")
        }
    };

    eprintln!("generating {count} certificates and keys ({names_per_cert} names each)...");
    let t0 = Instant::now();
    let pki = Arc::new(TestPki::new("bench"));
    let chain = pki.chain_pem();
    let clock = SystemClock;
    let imports: Vec<CertificateImport> = (0..count)
        .map(|i| {
            let names: Vec<String> = (0..names_per_cert)
                .map(|j| format!("d{}.bench.example", i * names_per_cert + j))
                .collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            // 90-day certificates expiring over the next 89 days: about a
            // third of them have less than a third of their lifetime left,
            // so they are due for renewal.
            let now = time::OffsetDateTime::now_utc();
            let days = i64::try_from(1 + i % 89).unwrap();
            let not_after = now + time::Duration::days(days);
            let leaf = pki.issue_window(
                &names,
                KeyTechnology::EcP256,
                not_after - time::Duration::days(90),
                not_after,
            );
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
            DomainName::parse(&format!("d{}.bench.example", rng.random_range(0..domains))).unwrap()
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

    let store_bytes: u64 = if let Some(file) = &sqlite_file {
        // The main file plus its write-ahead log, as the process left them.
        ["", "-wal"]
            .iter()
            .filter_map(|suffix| {
                std::fs::metadata(format!("{}{suffix}", file.display()))
                    .ok()
                    .map(|m| m.len())
            })
            .sum()
    } else {
        let db = Database::connect(&url).await.unwrap();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT pg_database_size(current_database())::BIGINT AS size",
            ))
            .await
            .unwrap()
            .unwrap();
        u64::try_from(row.try_get::<i64>("", "size").unwrap()).unwrap()
    };
    let result = serde_json::json!({
        "backend": backend,
        "certificates": count,
        "names_per_certificate": names_per_cert,
        "domains": domains,
        "store_megabytes": (store_bytes as f64 / 1e5).round() / 10.0,
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
    if let Some(redis_url) = redis_arg {
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
    } else if backend.starts_with("sqlite:") || kept_pg.is_some() {
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
