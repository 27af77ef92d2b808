//! Shared set-up for the store tests: a fresh store per test on a SQLite
//! file or on a fresh PostgreSQL database. PostgreSQL must be running; a test
//! that cannot reach it fails (it never skips).

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use peter_core::ports::{Clock, ManualClock};
use peter_store::SqlStore;
use sea_orm::{ConnectionTrait, Database};
use time::OffsetDateTime;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store plus what is needed to clean it up.
pub struct TestStore {
    pub store: Arc<SqlStore>,
    pub clock: Arc<ManualClock>,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

pub fn admin_postgres_url() -> String {
    std::env::var("PETER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Creates an empty PostgreSQL database and returns its URL.
pub async fn fresh_postgres_database() -> (String, String) {
    let admin = admin_postgres_url();
    let name = unique_name("peter_t");
    let db = Database::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must be running at {admin}: {e}"));
    db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    db.close().await.ok();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    (format!("{base}/{name}"), name)
}

impl TestStore {
    pub async fn new(backend: Backend) -> Self {
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(unique_name("peter-store"));
                std::fs::create_dir_all(&dir).unwrap();
                let url = peter_store::sqlite_url_for_path(&dir.join("store.sqlite"));
                let store = SqlStore::connect(&url, dyn_clock)
                    .await
                    .expect("open SQLite store");
                Self {
                    store: Arc::new(store),
                    clock,
                    url,
                    cleanup: Cleanup::Dir(dir),
                }
            }
            Backend::Postgres => {
                let (url, name) = fresh_postgres_database().await;
                let store = SqlStore::connect(&url, dyn_clock)
                    .await
                    .expect("open PostgreSQL store");
                Self {
                    store: Arc::new(store),
                    clock,
                    url,
                    cleanup: Cleanup::Database {
                        admin_url: admin_postgres_url(),
                        name,
                    },
                }
            }
        }
    }

    /// Removes the database or file. Call at the end of a passing test.
    pub async fn cleanup(self) {
        let Self { store, cleanup, .. } = self;
        if let Ok(store) = Arc::try_unwrap(store) {
            store.connection().clone().close().await.ok();
        }
        match cleanup {
            Cleanup::Dir(dir) => {
                std::fs::remove_dir_all(dir).ok();
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(db) = Database::connect(&admin_url).await {
                    db.execute_unprepared(&format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .await
                    .ok();
                    db.close().await.ok();
                }
            }
        }
    }
}
