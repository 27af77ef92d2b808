//! Anonymous traffic on the public challenge route cannot grow storage or
//! memory without bound: 20,000 requests for random 250-character tokens
//! with 1,000-character Host headers, 32 at a time, against `peter serve`.
//! (Before polls were tallied in memory, every such request inserted a row:
//! 74,613 rows and 40 MB in 10 s from one wrk client.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::ConnectionTrait;

const REQUESTS: u64 = 20_000;
const CONCURRENCY: u64 = 32;

fn peter(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_peter"));
    c.arg("--data-dir")
        .arg(data)
        .env_remove("PETER_DATABASE_URL")
        .env_remove("PETER_ADMIN_TOKEN");
    c
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmRSS")
}

/// The SQLite main file's size once its WAL is folded in.
async fn checkpointed_size(db: &Path) -> u64 {
    let url = format!("sqlite://{}?mode=rw", db.display());
    let conn = sea_orm::Database::connect(&url).await.expect("open sqlite");
    conn.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .expect("checkpoint");
    conn.close().await.expect("close");
    std::fs::metadata(db).expect("stat").len()
}

fn random_token(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut bytes).expect("random");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_tokens_grows_neither_the_store_nor_memory() {
    let root: PathBuf = std::env::temp_dir().join(format!("peter-flood-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let data = root.join("data");
    let init = peter(&data).arg("init").output().expect("init");
    assert!(init.status.success());
    let db = data.join("peter.sqlite");
    let before = checkpointed_size(&db).await;
    let token = std::fs::read_to_string(data.join("admin-token"))
        .unwrap()
        .trim()
        .to_string();

    let port = peter_acme::testkit::free_port();
    let mut server = Server(
        peter(&data)
            .args(["serve", "--admin", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY as usize)
        .build()
        .unwrap();
    for _ in 0..100 {
        if http
            .get(format!("{base}/.well-known/public/whoami"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let sent = Arc::new(AtomicU64::new(0));
    let (not_found, limited) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let host = format!("{}.example.com", "h".repeat(1000));
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (http, base, host) = (http.clone(), base.clone(), host.clone());
        let (sent, not_found, limited) = (sent.clone(), not_found.clone(), limited.clone());
        workers.push(tokio::spawn(async move {
            while sent.fetch_add(1, Ordering::Relaxed) < REQUESTS {
                let url = format!("{base}/.well-known/acme-challenge/{}", random_token(250));
                let status = http
                    .get(url)
                    .header("host", &host)
                    .send()
                    .await
                    .expect("the server answers")
                    .status()
                    .as_u16();
                match status {
                    404 => not_found.fetch_add(1, Ordering::Relaxed),
                    429 => limited.fetch_add(1, Ordering::Relaxed),
                    other => panic!("unexpected status {other}"),
                };
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let (not_found, limited) = (
        not_found.load(Ordering::Relaxed),
        limited.load(Ordering::Relaxed),
    );
    assert_eq!(not_found + limited, REQUESTS);
    assert!(limited > 0, "the unknown-token rate was enforced");

    let rss = rss_kib(server.0.id());
    assert!(rss < 64 * 1024, "RSS after the flood: {rss} KiB");

    // The counts stay visible: the list (which writes pending tallies
    // first) and the counter of what was not itemised.
    let admin = |path: &str| {
        http.get(format!("{base}/.well-known/peter_sslers/{path}"))
            .bearer_auth(&token)
            .send()
    };
    let polls: serde_json::Value = admin("acme-challenge-unknown-polls?per_page=1000")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = polls["pagination"]["total_items"].as_u64().unwrap();
    assert!((1..=500).contains(&rows), "unknown-poll rows kept: {rows}");
    let counted: u64 = polls["AcmeChallengeUnknownPolls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["poll_count"].as_u64().unwrap())
        .sum();
    assert!(
        counted >= rows && counted <= not_found,
        "{counted} of {not_found}"
    );
    let metrics = admin("metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(&format!(
            "peter_public_challenge_requests_dropped_total{{reason=\"limited\"}} {limited}"
        )),
        "{metrics}"
    );

    // A graceful stop writes what is left; the file has barely grown.
    let pid = server.0.id().to_string();
    let term = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(term.success());
    let (server, status) = tokio::task::spawn_blocking(move || {
        let status = server.0.wait();
        (server, status)
    })
    .await
    .unwrap();
    assert!(status.unwrap().success(), "peter serve stops on SIGTERM");
    let after = checkpointed_size(&db).await;
    assert!(
        after.saturating_sub(before) < 1024 * 1024,
        "the store grew by {} bytes ({before} -> {after})",
        after - before
    );
    eprintln!(
        "flood: {not_found} answered 404, {limited} answered 429; RSS {rss} KiB; \
         {rows} unknown-poll rows counting {counted}; store {before} -> {after} bytes"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}
