//! The SQLite file is private (0600) and opened with the settings that make
//! concurrent use safe and fast: WAL, synchronous=NORMAL, a busy timeout.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use peter_core::ports::SystemClock;
use peter_store::{SqlStore, sqlite_url_for_path};
use sea_orm::{ConnectionTrait, Statement};

async fn pragma(store: &SqlStore, name: &str) -> String {
    let db = store.connection();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("PRAGMA {name}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<String>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string()))
        .unwrap()
}

#[tokio::test]
async fn the_sqlite_file_is_created_private_and_in_wal_mode() {
    let dir = std::env::temp_dir().join(format!("peter-sqlite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("store.sqlite");
    let store = SqlStore::connect(&sqlite_url_for_path(&path), Arc::new(SystemClock))
        .await
        .unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the store holds private keys");
    assert_eq!(pragma(&store, "journal_mode").await, "wal");
    assert_eq!(pragma(&store, "synchronous").await, "1", "NORMAL");
    assert_eq!(pragma(&store, "busy_timeout").await, "30000");
    assert_eq!(pragma(&store, "foreign_keys").await, "1");
    drop(store);

    // A file left world-readable is tightened on open.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = SqlStore::connect(&sqlite_url_for_path(&path), Arc::new(SystemClock))
        .await
        .unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    let err = SqlStore::connect("postgres://nobody@127.0.0.1:1/none", Arc::new(SystemClock))
        .await
        .unwrap_err();
    assert!(
        matches!(err, peter_core::ports::StoreError::Unavailable(..)),
        "{err:?}"
    );
}
