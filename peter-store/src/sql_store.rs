//! [`SqlStore`]: the sea-orm implementation of the storage port.

use std::path::Path;
use std::sync::Arc;
#[cfg(feature = "testkit")]
use std::sync::Mutex;
use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, NotSet, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set, SqlErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait, TryInsertResult,
};
use sea_orm_migration::MigratorTrait;
use time::OffsetDateTime;

use peter_core::dns::{IdentifierType, UniqueFqdnSet};
use peter_core::formats::{ParsedCertificate, sha256_hex};
use peter_core::model::*;
use peter_core::ports::*;

use crate::convert;
use crate::entities::*;
use crate::migration::Migrator;

/// The SQL store. Cheap to share behind an `Arc`; it holds a connection pool.
pub struct SqlStore {
    pub(crate) db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    #[cfg(feature = "testkit")]
    fault: Mutex<Option<&'static str>>,
    /// On SQLite, writers of this process take turns here (fairly, in FIFO
    /// order) instead of spinning in SQLite's busy handler, which starves
    /// some of them under load. Other processes still queue on the busy timeout.
    write_lock: Option<tokio::sync::Mutex<()>>,
}

type WriteGuard<'a> = Option<tokio::sync::MutexGuard<'a, ()>>;

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.db.get_database_backend())
            .finish_non_exhaustive()
    }
}

/// The database URL of a SQLite file at `path`, created on first use.
pub fn sqlite_url_for_path(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

fn sqlite_path_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path)
    }
}

/// Creates the SQLite file with mode 0600 (it holds private keys) before the
/// driver opens it, and tightens the mode of an existing file.
fn prepare_sqlite_file(path: &str) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |e: std::io::Error| StoreError::unavailable(format!("SQLite file {path}: {e}"), e);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    Ok(())
}

pub(crate) fn db_err(e: DbErr) -> StoreError {
    if let Some(SqlErr::UniqueConstraintViolation(msg)) = e.sql_err() {
        return StoreError::Conflict(msg);
    }
    match &e {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => StoreError::unavailable(e.to_string(), e),
        _ => StoreError::backend(e.to_string(), e),
    }
}

pub(crate) trait DbResultExt<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> DbResultExt<T> for Result<T, DbErr> {
    fn db(self) -> StoreResult<T> {
        self.map_err(db_err)
    }
}

pub(crate) async fn paginate<E, C>(
    select: Select<E>,
    page: Page,
    c: &C,
) -> StoreResult<(Vec<E::Model>, u64)>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total = select.clone().count(c).await.db()?;
    let items = select
        .offset(page.offset())
        .limit(page.per_page)
        .all(c)
        .await
        .db()?;
    Ok((items, total))
}

/// Returns the row `find` selects, inserting `new` first when there is none.
/// A concurrent writer that inserts the same unique key first wins: the
/// insert does nothing and the row it wrote is returned, `created: false`.
pub(crate) async fn find_or_insert<E, A, C, I>(
    c: &C,
    find: Select<E>,
    new: A,
    unique: I,
) -> StoreResult<Created<E::Model>>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
    E::Model: sea_orm::IntoActiveModel<A> + Sync,
    C: ConnectionTrait,
    I: IntoIterator<Item = E::Column>,
{
    if let Some(found) = find.clone().one(c).await.db()? {
        return Ok(Created {
            id: found,
            created: false,
        });
    }
    let inserted = E::insert(new)
        .on_conflict_do_nothing_on(unique)
        .exec_with_returning(c)
        .await;
    match inserted {
        Ok(TryInsertResult::Inserted(row)) => Ok(Created {
            id: row,
            created: true,
        }),
        // PostgreSQL's RETURNING yields no row when the conflict won; sea-orm
        // reports that as RecordNotFound rather than Conflicted.
        Ok(_) | Err(DbErr::RecordNotFound(_)) | Err(DbErr::RecordNotInserted) => find
            .one(c)
            .await
            .db()?
            .map(|row| Created {
                id: row,
                created: false,
            })
            .ok_or_else(|| {
                StoreError::Corrupt(format!("{} row vanished", E::default().table_name()))
            }),
        Err(e) => Err(db_err(e)),
    }
}

pub(crate) fn strip_mailto(contact: Option<String>) -> Option<String> {
    contact.map(|c| {
        c.trim()
            .strip_prefix("mailto:")
            .unwrap_or(c.trim())
            .to_string()
    })
}

impl SqlStore {
    /// Opens (and migrates) the store at `url` (`sqlite://PATH?mode=rwc` or
    /// `postgres://...`), stamping rows with the system clock.
    pub async fn open(url: &str) -> StoreResult<Self> {
        Self::connect(url, Arc::new(peter_core::ports::SystemClock)).await
    }

    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://...`) and
    /// runs pending migrations. A SQLite file is created with mode 0600 and
    /// opened in WAL mode with `synchronous=NORMAL` and a busy timeout.
    pub async fn connect(url: &str, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let store = Self::connect_without_migrating(url, clock).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without running migrations.
    pub async fn connect_without_migrating(url: &str, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let mut options = ConnectOptions::new(url.to_string());
        options
            .sqlx_logging(false)
            // No ping before every checkout: it doubles the latency of short
            // reads; a broken connection still fails its query and is replaced.
            .test_before_acquire(false)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(8));
        if url.starts_with("sqlite:") {
            if let Some(path) = sqlite_path_of(url) {
                prepare_sqlite_file(path)?;
            }
            // Each SQLite connection has its own thread and page cache: a few
            // are enough for reads on two cores (writes queue on one lock).
            options.max_connections(4).min_connections(1);
            options.map_sqlx_sqlite_opts(|opts| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
        } else {
            options.max_connections(16).min_connections(1);
            // A node cut off from the database in the middle of a
            // transaction must not hold its locks (a renewal lease row, say)
            // until TCP gives up: the server ends such a session after 10 s.
            // peter's transactions never wait on anything but the database.
            options.map_sqlx_postgres_opts(|opts| {
                opts.options([("idle_in_transaction_session_timeout", "10s")])
            });
        }
        let db = Database::connect(options)
            .await
            .map_err(|e| StoreError::unavailable(format!("cannot open the store: {e}"), e))?;
        let write_lock = url
            .starts_with("sqlite:")
            .then(|| tokio::sync::Mutex::new(()));
        Ok(Self {
            db,
            clock,
            #[cfg(feature = "testkit")]
            fault: Mutex::new(None),
            write_lock,
        })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        Migrator::up(&self.db, None).await.db()
    }

    /// The underlying connection (tests and benchmarks only).
    #[cfg(feature = "testkit")]
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The clock the store stamps rows with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Makes the next write that reaches `point` fail (for rollback tests).
    /// Points: `import:after_key`, `import:after_certificate`,
    /// `compromise:after_key`.
    #[cfg(feature = "testkit")]
    pub fn inject_fault(&self, point: &'static str) {
        *self.fault.lock().unwrap_or_else(|e| e.into_inner()) = Some(point);
    }

    /// Number of rows in every table, for tests that check nothing changed.
    #[cfg(feature = "testkit")]
    pub async fn row_counts(&self) -> StoreResult<std::collections::BTreeMap<&'static str, u64>> {
        let mut counts = std::collections::BTreeMap::new();
        macro_rules! count {
            ($($m:ident),*) => {$(
                counts.insert(stringify!($m), $m::Entity::find().count(&self.db).await.db()?);
            )*};
        }
        count!(
            acme_server,
            acme_account,
            acme_account_key,
            private_key,
            domain,
            domain_blocklisted,
            unique_fqdn_set,
            unique_fqdn_set_domain,
            certificate_request,
            certificate_signed,
            certificate_ca,
            certificate_ca_chain,
            certificate_signed_chain,
            certificate_ca_preference,
            acme_order,
            acme_authorization,
            acme_order_authorization,
            acme_challenge,
            acme_challenge_poll,
            acme_challenge_unknown_poll,
            acme_event_log,
            operations_event,
            renewal_state
        );
        Ok(counts)
    }

    /// Fails once at `point` when a test injected a fault there.
    #[cfg(feature = "testkit")]
    pub(crate) fn check_fault(&self, point: &'static str) -> StoreResult<()> {
        let mut guard = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        if *guard == Some(point) {
            *guard = None;
            return Err(StoreError::InjectedFault(point));
        }
        Ok(())
    }

    /// Fault injection exists only in test builds.
    #[cfg(not(feature = "testkit"))]
    pub(crate) fn check_fault(&self, _point: &'static str) -> StoreResult<()> {
        Ok(())
    }

    /// The clock's time at microsecond precision, what PostgreSQL keeps, so
    /// that both back ends return the same instant that was written.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let now = self.clock.now();
        now.replace_nanosecond(now.nanosecond().saturating_sub(now.nanosecond() % 1_000))
            .unwrap_or(now)
    }

    /// Begins a write transaction: IMMEDIATE on SQLite so that writers queue
    /// on the database lock up front rather than fail on upgrade.
    pub(crate) async fn begin_write(&self) -> StoreResult<(WriteGuard<'_>, DatabaseTransaction)> {
        let (guard, txn) = self.begin_write_unfenced().await?;
        // A write under a renewal lease commits only while the lease holds.
        if let Some(fence) = peter_core::ports::current_fence() {
            self.check_fence(&txn, &fence).await?;
        }
        Ok((guard, txn))
    }

    /// Like [`begin_write`](Self::begin_write) without the fencing check:
    /// only for the ACME exchange log, which records what was sent to the
    /// CA whoever holds the lease by the time it is written.
    pub(crate) async fn begin_write_unfenced(
        &self,
    ) -> StoreResult<(WriteGuard<'_>, DatabaseTransaction)> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let txn = match self.db.get_database_backend() {
            DbBackend::Sqlite => self
                .db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await
                .db(),
            _ => self.db.begin().await.db(),
        }?;
        Ok((guard, txn))
    }

    pub(crate) async fn operations_event_in<C: ConnectionTrait>(
        &self,
        c: &C,
        event_type: OperationsEventType,
        payload: serde_json::Value,
        parent: Option<OperationsEventId>,
    ) -> StoreResult<operations_event::Model> {
        operations_event::ActiveModel {
            id: NotSet,
            event_type: Set(event_type.as_str().to_string()),
            event_at: Set(self.now()),
            payload: Set(payload.to_string()),
            parent_id: Set(parent.map(|p| p.0)),
        }
        .insert(c)
        .await
        .db()
    }

    /// Records an operations event for a row this call created.
    pub(crate) async fn record_if_created<C: ConnectionTrait>(
        &self,
        c: &C,
        created: bool,
        event_type: OperationsEventType,
        payload: impl FnOnce() -> serde_json::Value,
    ) -> StoreResult<()> {
        if created {
            self.operations_event_in(c, event_type, payload(), None)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn account_in<C: ConnectionTrait>(
        &self,
        c: &C,
        id: AcmeAccountId,
    ) -> StoreResult<AcmeAccount> {
        let account = acme_account::Entity::find_by_id(id.0)
            .one(c)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeAccount", id))?;
        let key = acme_account_key::Entity::find()
            .filter(acme_account_key::Column::AcmeAccountId.eq(id.0))
            .filter(acme_account_key::Column::IsActive.eq(true))
            .one(c)
            .await
            .db()?
            .ok_or_else(|| StoreError::Corrupt(format!("AcmeAccount {id} has no active key")))?;
        convert::account(account, key)
    }

    pub(crate) async fn default_server_id<C: ConnectionTrait>(
        &self,
        c: &C,
    ) -> StoreResult<Option<AcmeServerId>> {
        Ok(acme_server::Entity::find()
            .filter(acme_server::Column::IsDefault.eq(true))
            .one(c)
            .await
            .db()?
            .map(|s| AcmeServerId(s.id)))
    }

    pub(crate) async fn domain_in<C: ConnectionTrait>(
        &self,
        c: &C,
        name: &str,
    ) -> StoreResult<Created<domain::Model>> {
        find_or_insert(
            c,
            domain::Entity::find().filter(domain::Column::DomainName.eq(name)),
            domain::ActiveModel {
                id: NotSet,
                domain_name: Set(name.to_string()),
                is_active: Set(true),
                certificate_signed_id_latest_single: Set(None),
                certificate_signed_id_latest_multi: Set(None),
                challenge_type: Set(AcmeChallengeType::Http01.as_str().into()),
                created_at: Set(self.now()),
                identifier_type: Set(if name.parse::<std::net::IpAddr>().is_ok() {
                    IdentifierType::Ip.as_str().into()
                } else {
                    IdentifierType::Dns.as_str().into()
                }),
            },
            [domain::Column::DomainName],
        )
        .await
    }

    pub(crate) async fn fqdn_set_in<C: ConnectionTrait>(
        &self,
        c: &C,
        set: &UniqueFqdnSet,
    ) -> StoreResult<(Created<unique_fqdn_set::Model>, Vec<Created<DomainId>>)> {
        let mut domains = Vec::with_capacity(set.len());
        for name in set.names() {
            let d = self.domain_in(c, name.as_str()).await?;
            domains.push(Created {
                id: DomainId(d.id.id),
                created: d.created,
            });
        }
        let canonical = set.canonical_string();
        let digest = sha256_hex(canonical.as_bytes());
        let row = find_or_insert(
            c,
            unique_fqdn_set::Entity::find()
                .filter(unique_fqdn_set::Column::FqdnSha256.eq(digest.clone())),
            unique_fqdn_set::ActiveModel {
                id: NotSet,
                fqdn_sha256: Set(digest),
                domain_names: Set(canonical),
                count_domains: Set(set.len() as i32),
                created_at: Set(self.now()),
            },
            [unique_fqdn_set::Column::FqdnSha256],
        )
        .await?;
        let created = row.created;
        let row = row.id;
        if created {
            let links: Vec<unique_fqdn_set_domain::ActiveModel> = domains
                .iter()
                .map(|d| unique_fqdn_set_domain::ActiveModel {
                    unique_fqdn_set_id: Set(row.id),
                    domain_id: Set(d.id.0),
                })
                .collect();
            unique_fqdn_set_domain::Entity::insert_many(links)
                .exec_without_returning(c)
                .await
                .db()?;
        }
        Ok((Created { id: row, created }, domains))
    }

    pub(crate) async fn fqdn_set_record_in<C: ConnectionTrait>(
        &self,
        c: &C,
        row: unique_fqdn_set::Model,
    ) -> StoreResult<UniqueFqdnSetRecord> {
        let links = unique_fqdn_set_domain::Entity::find()
            .filter(unique_fqdn_set_domain::Column::UniqueFqdnSetId.eq(row.id))
            .all(c)
            .await
            .db()?;
        let ids: Vec<i64> = links.iter().map(|l| l.domain_id).collect();
        let mut domains = domain::Entity::find()
            .filter(domain::Column::Id.is_in(ids))
            .all(c)
            .await
            .db()?;
        domains.sort_by(|a, b| a.domain_name.cmp(&b.domain_name));
        convert::fqdn_set(row, domains.into_iter().map(|d| DomainId(d.id)).collect())
    }

    pub(crate) async fn private_key_in<C: ConnectionTrait>(
        &self,
        c: &C,
        new: &NewPrivateKey,
    ) -> StoreResult<Created<private_key::Model>> {
        let spki = new.key.spki_sha256.clone();
        let row = find_or_insert(
            c,
            private_key::Entity::find().filter(private_key::Column::SpkiSha256.eq(spki.clone())),
            private_key::ActiveModel {
                id: NotSet,
                key_pem: Set(new.key.pem().to_string()),
                spki_sha256: Set(spki),
                key_technology: Set(new.key.technology.as_str().to_string()),
                source: Set(new.source.as_str().to_string()),
                cycle: Set(new.cycle.as_str().to_string()),
                acme_account_id_owner: Set(new.acme_account_id_owner.map(|a| a.0)),
                is_active: Set(true),
                is_compromised: Set(false),
                created_at: Set(self.now()),
            },
            [private_key::Column::SpkiSha256],
        )
        .await?;
        self.record_if_created(
            c,
            row.created,
            OperationsEventType::PrivateKeyInsert,
            || serde_json::json!({"private_key.id": row.id.id, "spki_sha256": row.id.spki_sha256}),
        )
        .await?;
        Ok(row)
    }

    pub(crate) async fn certificate_ca_in<C: ConnectionTrait>(
        &self,
        c: &C,
        cert: &ParsedCertificate,
    ) -> StoreResult<Created<certificate_ca::Model>> {
        let fp = cert.fingerprint_sha1.clone();
        let row = find_or_insert(
            c,
            certificate_ca::Entity::find()
                .filter(certificate_ca::Column::FingerprintSha1.eq(fp.clone())),
            certificate_ca::ActiveModel {
                id: NotSet,
                cert_pem: Set(cert.pem().to_string()),
                fingerprint_sha1: Set(fp),
                spki_sha256: Set(cert.spki_sha256.clone()),
                cert_subject: Set(cert.subject.clone()),
                cert_issuer: Set(cert.issuer.clone()),
                not_before: Set(cert.not_before),
                not_after: Set(cert.not_after),
                is_trusted_root: Set(cert.is_self_signed),
                display_name: Set(cert.subject.clone()),
                created_at: Set(self.now()),
            },
            [certificate_ca::Column::FingerprintSha1],
        )
        .await?;
        self.record_if_created(
            c,
            row.created,
            OperationsEventType::CertificateCaInsert,
            || serde_json::json!({"certificate_ca.id": row.id.id}),
        )
        .await?;
        Ok(row)
    }

    pub(crate) async fn chain_in<C: ConnectionTrait>(
        &self,
        c: &C,
        cas: &[certificate_ca::Model],
        display_name: &str,
    ) -> StoreResult<Created<certificate_ca_chain::Model>> {
        let ids = cas
            .iter()
            .map(|m| m.id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let chain_pem: String = cas.iter().map(|m| m.cert_pem.as_str()).collect();
        let (Some(first), Some(last)) = (cas.first(), cas.last()) else {
            return Err(StoreError::Corrupt(
                "a chain holds at least one certificate".into(),
            ));
        };
        let row = find_or_insert(
            c,
            certificate_ca_chain::Entity::find()
                .filter(certificate_ca_chain::Column::CertificateCaIds.eq(ids.clone())),
            certificate_ca_chain::ActiveModel {
                id: NotSet,
                chain_pem: Set(chain_pem),
                certificate_ca_ids: Set(ids),
                chain_length: Set(i32::try_from(cas.len()).unwrap_or(i32::MAX)),
                certificate_ca_0_id: Set(first.id),
                certificate_ca_n_id: Set(last.id),
                display_name: Set(display_name.to_string()),
                created_at: Set(self.now()),
            },
            [certificate_ca_chain::Column::CertificateCaIds],
        )
        .await?;
        self.record_if_created(
            c,
            row.created,
            OperationsEventType::CertificateCaChainInsert,
            || serde_json::json!({"certificate_ca_chain.id": row.id.id}),
        )
        .await?;
        Ok(row)
    }

    /// Recomputes each domain's latest active single- and multi-name
    /// certificate. Runs inside the transaction of the change that moved them.
    pub(crate) async fn refresh_latest_in<C: ConnectionTrait>(
        &self,
        c: &C,
        domain_ids: &[i64],
    ) -> StoreResult<()> {
        for &domain_id in domain_ids {
            let set_ids: Vec<i64> = unique_fqdn_set_domain::Entity::find()
                .filter(unique_fqdn_set_domain::Column::DomainId.eq(domain_id))
                .all(c)
                .await
                .db()?
                .into_iter()
                .map(|l| l.unique_fqdn_set_id)
                .collect();
            let mut latest = [None, None];
            for (slot, single) in latest.iter_mut().zip([true, false]) {
                *slot = certificate_signed::Entity::find()
                    .select_only()
                    .column(certificate_signed::Column::Id)
                    .filter(certificate_signed::Column::UniqueFqdnSetId.is_in(set_ids.clone()))
                    .filter(certificate_signed::Column::IsActive.eq(true))
                    .filter(certificate_signed::Column::IsSingleDomainCert.eq(single))
                    .order_by_desc(certificate_signed::Column::NotAfter)
                    .order_by_desc(certificate_signed::Column::Id)
                    .into_tuple::<i64>()
                    .one(c)
                    .await
                    .db()?;
            }
            // What the domain serves changes: note it in the change feed in
            // this same transaction, so every process's cache drops it even
            // if this one stops right after the commit.
            let before = domain::Entity::find_by_id(domain_id).one(c).await.db()?;
            if let Some(before) = &before
                && (before.certificate_signed_id_latest_single != latest[0]
                    || before.certificate_signed_id_latest_multi != latest[1])
            {
                config_change::ActiveModel {
                    id: NotSet,
                    domain_name: Set(Some(before.domain_name.clone())),
                    changed_at: Set(self.now()),
                }
                .insert(c)
                .await
                .db()?;
            }
            domain::Entity::update_many()
                .col_expr(
                    domain::Column::CertificateSignedIdLatestSingle,
                    Expr::value(latest[0]),
                )
                .col_expr(
                    domain::Column::CertificateSignedIdLatestMulti,
                    Expr::value(latest[1]),
                )
                .filter(domain::Column::Id.eq(domain_id))
                .exec(c)
                .await
                .db()?;
        }
        Ok(())
    }

    pub(crate) async fn domains_of_set<C: ConnectionTrait>(
        &self,
        c: &C,
        set_id: i64,
    ) -> StoreResult<Vec<i64>> {
        Ok(unique_fqdn_set_domain::Entity::find()
            .filter(unique_fqdn_set_domain::Column::UniqueFqdnSetId.eq(set_id))
            .all(c)
            .await
            .db()?
            .into_iter()
            .map(|l| l.domain_id)
            .collect())
    }

    pub(crate) async fn certificate_model<C: ConnectionTrait>(
        &self,
        c: &C,
        id: CertificateSignedId,
    ) -> StoreResult<certificate_signed::Model> {
        certificate_signed::Entity::find_by_id(id.0)
            .one(c)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("CertificateSigned", id))
    }

    pub(crate) async fn ca_preferences_in<C: ConnectionTrait>(
        &self,
        c: &C,
    ) -> StoreResult<Vec<CertificateCa>> {
        let prefs = certificate_ca_preference::Entity::find()
            .order_by_asc(certificate_ca_preference::Column::Slot)
            .all(c)
            .await
            .db()?;
        let ids: Vec<i64> = prefs.iter().map(|p| p.certificate_ca_id).collect();
        let cas = certificate_ca::Entity::find()
            .filter(certificate_ca::Column::Id.is_in(ids.clone()))
            .all(c)
            .await
            .db()?;
        Ok(ids
            .iter()
            .filter_map(|id| cas.iter().find(|ca| ca.id == *id).cloned())
            .map(convert::certificate_ca)
            .collect())
    }
}
