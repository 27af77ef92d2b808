//! [`SqlStore`]: the sea-orm implementation of the storage port.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, NotSet, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set, SqlErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait, TryInsertResult,
};
use sea_orm_migration::MigratorTrait;
use time::OffsetDateTime;

use peter_core::dns::{DomainName, UniqueFqdnSet};
use peter_core::formats::{ParsedCertificate, sha256_hex};
use peter_core::model::rules::{self, CertificateFlags, CertificateMark, PrivateKeyFlags};
use peter_core::model::*;
use peter_core::ports::*;

use crate::convert;
use crate::entities::*;
use crate::migration::Migrator;

/// The SQL store. Cheap to share behind an `Arc`; it holds a connection pool.
pub struct SqlStore {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
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
    let io = |e: std::io::Error| StoreError::Unavailable(format!("SQLite file {path}: {e}"));
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
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Backend(e.to_string()),
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

fn strip_mailto(contact: Option<String>) -> Option<String> {
    contact.map(|c| {
        c.trim()
            .strip_prefix("mailto:")
            .unwrap_or(c.trim())
            .to_string()
    })
}

impl SqlStore {
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
        }
        let db = Database::connect(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open the store: {e}")))?;
        let write_lock = url
            .starts_with("sqlite:")
            .then(|| tokio::sync::Mutex::new(()));
        Ok(Self {
            db,
            clock,
            fault: Mutex::new(None),
            write_lock,
        })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        Migrator::up(&self.db, None).await.db()
    }

    /// The underlying connection, for adapters in this crate and benchmarks.
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

    fn check_fault(&self, point: &'static str) -> StoreResult<()> {
        let mut guard = self.fault.lock().unwrap_or_else(|e| e.into_inner());
        if *guard == Some(point) {
            *guard = None;
            return Err(StoreError::InjectedFault(point));
        }
        Ok(())
    }

    /// The clock's time at microsecond precision, what PostgreSQL keeps, so
    /// that both back ends return the same instant that was written.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let now = self.clock.now();
        now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
            .unwrap_or(now)
    }

    /// Begins a write transaction: IMMEDIATE on SQLite so that writers queue
    /// on the database lock up front rather than fail on upgrade.
    pub(crate) async fn begin_write(&self) -> StoreResult<(WriteGuard<'_>, DatabaseTransaction)> {
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

    async fn operations_event_in<C: ConnectionTrait>(
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
    async fn record_if_created<C: ConnectionTrait>(
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

    async fn default_server_id<C: ConnectionTrait>(
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
                created_at: Set(self.now()),
            },
            [domain::Column::DomainName],
        )
        .await
    }

    async fn fqdn_set_in<C: ConnectionTrait>(
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

    async fn private_key_in<C: ConnectionTrait>(
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

    async fn certificate_ca_in<C: ConnectionTrait>(
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

    async fn chain_in<C: ConnectionTrait>(
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
        let row = find_or_insert(
            c,
            certificate_ca_chain::Entity::find()
                .filter(certificate_ca_chain::Column::CertificateCaIds.eq(ids.clone())),
            certificate_ca_chain::ActiveModel {
                id: NotSet,
                chain_pem: Set(chain_pem),
                certificate_ca_ids: Set(ids),
                chain_length: Set(cas.len() as i32),
                certificate_ca_0_id: Set(cas[0].id),
                certificate_ca_n_id: Set(cas[cas.len() - 1].id),
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
    async fn refresh_latest_in<C: ConnectionTrait>(
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
            for (slot, single) in [(0usize, true), (1usize, false)] {
                latest[slot] = certificate_signed::Entity::find()
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

    async fn domains_of_set<C: ConnectionTrait>(
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

    async fn certificate_model<C: ConnectionTrait>(
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

#[async_trait]
impl Store for SqlStore {
    async fn create_acme_server(&self, new: NewAcmeServer) -> StoreResult<AcmeServer> {
        let (_write, txn) = self.begin_write().await?;
        let has_default = self.default_server_id(&txn).await?.is_some();
        let is_default = new.is_default || !has_default;
        if is_default {
            acme_server::Entity::update_many()
                .col_expr(acme_server::Column::IsDefault, Expr::value(false))
                .exec(&txn)
                .await
                .db()?;
        }
        let row = acme_server::ActiveModel {
            id: NotSet,
            name: Set(new.name.trim().to_string()),
            directory_url: Set(new.directory_url.trim().to_string()),
            ca_bundle_pem: Set(new.ca_bundle_pem),
            is_default: Set(is_default),
            is_enabled: Set(true),
            created_at: Set(self.now()),
        }
        .insert(&txn)
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!(
                "an ACME server named `{}` or with that directory URL already exists",
                new.name
            )),
            other => other,
        })?;
        self.operations_event_in(
            &txn,
            OperationsEventType::AcmeServerInsert,
            serde_json::json!({"acme_server.id": row.id, "name": row.name}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        Ok(convert::server(row))
    }

    async fn acme_server(&self, id: AcmeServerId) -> StoreResult<AcmeServer> {
        acme_server::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .map(convert::server)
            .ok_or_else(|| StoreError::not_found("AcmeServer", id))
    }

    async fn acme_server_by_name(&self, name: &str) -> StoreResult<Option<AcmeServer>> {
        Ok(acme_server::Entity::find()
            .filter(acme_server::Column::Name.eq(name))
            .one(&self.db)
            .await
            .db()?
            .map(convert::server))
    }

    async fn list_acme_servers(&self) -> StoreResult<Vec<AcmeServer>> {
        Ok(acme_server::Entity::find()
            .order_by_asc(acme_server::Column::Id)
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .map(convert::server)
            .collect())
    }

    async fn set_default_acme_server(&self, id: AcmeServerId) -> StoreResult<AcmeServer> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_server::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeServer", id))?;
        acme_server::Entity::update_many()
            .col_expr(acme_server::Column::IsDefault, Expr::value(false))
            .exec(&txn)
            .await
            .db()?;
        let mut am: acme_server::ActiveModel = row.into();
        am.is_default = Set(true);
        am.is_enabled = Set(true);
        let row = am.update(&txn).await.db()?;
        self.operations_event_in(
            &txn,
            OperationsEventType::AcmeServerMarkDefault,
            serde_json::json!({"acme_server.id": row.id}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        Ok(convert::server(row))
    }

    async fn set_acme_server_enabled(
        &self,
        id: AcmeServerId,
        enabled: bool,
    ) -> StoreResult<AcmeServer> {
        let (_write, txn) = self.begin_write().await?;
        let row = acme_server::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeServer", id))?;
        if row.is_enabled == enabled {
            return Err(if enabled {
                rules::TransitionError::AlreadyActive
            } else {
                rules::TransitionError::AlreadyInactive
            }
            .into());
        }
        let mut am: acme_server::ActiveModel = row.into();
        am.is_enabled = Set(enabled);
        let row = am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        Ok(convert::server(row))
    }

    async fn create_acme_account(&self, new: NewAcmeAccount) -> StoreResult<AcmeAccount> {
        let (_write, txn) = self.begin_write().await?;
        acme_server::Entity::find_by_id(new.acme_server_id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("AcmeServer", new.acme_server_id))?;
        let now = self.now();
        let account = acme_account::ActiveModel {
            id: NotSet,
            acme_server_id: Set(new.acme_server_id.0),
            contact: Set(strip_mailto(new.contact)),
            account_url: Set(new.account_url),
            terms_of_service: Set(new.terms_of_service),
            is_active: Set(true),
            is_global_default: Set(false),
            private_key_technology: Set(new.private_key_technology.as_str().to_string()),
            private_key_cycle: Set(new.private_key_cycle.as_str().to_string()),
            deactivated_at: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict("an account with that URL already exists".into())
            }
            other => other,
        })?;
        let key = acme_account_key::ActiveModel {
            id: NotSet,
            acme_account_id: Set(account.id),
            is_active: Set(true),
            key_technology: Set(new.key.technology.as_str().to_string()),
            key_pem: Set(new.key.pem().to_string()),
            spki_sha256: Set(new.key.spki_sha256.clone()),
            source: Set(new.key_source.as_str().to_string()),
            created_at: Set(now),
            deactivated_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict("this account key already belongs to an account".into())
            }
            other => other,
        })?;
        self.operations_event_in(
            &txn,
            OperationsEventType::AcmeAccountInsert,
            serde_json::json!({"acme_account.id": account.id, "acme_server.id": account.acme_server_id}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        convert::account(account, key)
    }

    async fn acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount> {
        self.account_in(&self.db, id).await
    }

    async fn list_acme_accounts(&self, page: Page) -> StoreResult<Paged<AcmeAccount>> {
        let (rows, total) = paginate(
            acme_account::Entity::find().order_by_asc(acme_account::Column::Id),
            page,
            &self.db,
        )
        .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let keys = acme_account_key::Entity::find()
            .filter(acme_account_key::Column::AcmeAccountId.is_in(ids))
            .filter(acme_account_key::Column::IsActive.eq(true))
            .all(&self.db)
            .await
            .db()?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let key = keys
                .iter()
                .find(|k| k.acme_account_id == row.id)
                .cloned()
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("AcmeAccount {} has no active key", row.id))
                })?;
            items.push(convert::account(row, key)?);
        }
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn set_global_default_acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount> {
        let (_write, txn) = self.begin_write().await?;
        let account = self.account_in(&txn, id).await?;
        if account.is_global_default {
            return Ok(account);
        }
        let default_server = self.default_server_id(&txn).await?;
        rules::ensure_can_be_global_default(&account, default_server)?;
        let previous = acme_account::Entity::find()
            .filter(acme_account::Column::IsGlobalDefault.eq(true))
            .all(&txn)
            .await
            .db()?;
        for p in previous {
            let pid = p.id;
            let mut am: acme_account::ActiveModel = p.into();
            am.is_global_default = Set(false);
            am.update(&txn).await.db()?;
            self.operations_event_in(
                &txn,
                OperationsEventType::AcmeAccountMarkNotDefault,
                serde_json::json!({"acme_account.id": pid}),
                None,
            )
            .await?;
        }
        acme_account::Entity::update_many()
            .col_expr(acme_account::Column::IsGlobalDefault, Expr::value(true))
            .filter(acme_account::Column::Id.eq(id.0))
            .exec(&txn)
            .await
            .db()?;
        self.operations_event_in(
            &txn,
            OperationsEventType::AcmeAccountMarkDefault,
            serde_json::json!({"acme_account.id": id.0}),
            None,
        )
        .await?;
        let account = self.account_in(&txn, id).await?;
        txn.commit().await.db()?;
        Ok(account)
    }

    async fn global_default_acme_account(&self) -> StoreResult<Option<AcmeAccount>> {
        let row = acme_account::Entity::find()
            .filter(acme_account::Column::IsGlobalDefault.eq(true))
            .one(&self.db)
            .await
            .db()?;
        match row {
            Some(r) => Ok(Some(self.account_in(&self.db, AcmeAccountId(r.id)).await?)),
            None => Ok(None),
        }
    }

    async fn deactivate_acme_account(&self, id: AcmeAccountId) -> StoreResult<AcmeAccount> {
        self.deactivate_acme_account_impl(id).await
    }

    async fn rotate_acme_account_key(
        &self,
        id: AcmeAccountId,
        key: &peter_core::formats::ParsedPrivateKey,
        source: AcmeAccountKeySource,
    ) -> StoreResult<AcmeAccount> {
        self.rotate_acme_account_key_impl(id, key, source).await
    }

    async fn set_acme_account_url(&self, id: AcmeAccountId, url: &str) -> StoreResult<AcmeAccount> {
        self.set_acme_account_url_impl(id, url).await
    }

    async fn apply_startup_rules(&self) -> StoreResult<StartupReport> {
        let (_write, txn) = self.begin_write().await?;
        let default_server = self.default_server_id(&txn).await?;
        let rows = acme_account::Entity::find()
            .filter(acme_account::Column::IsGlobalDefault.eq(true))
            .all(&txn)
            .await
            .db()?;
        let mut accounts = Vec::new();
        for r in rows {
            accounts.push(self.account_in(&txn, AcmeAccountId(r.id)).await?);
        }
        let unset = rules::global_defaults_to_unset(&accounts, default_server);
        for id in &unset {
            acme_account::Entity::update_many()
                .col_expr(acme_account::Column::IsGlobalDefault, Expr::value(false))
                .filter(acme_account::Column::Id.eq(id.0))
                .exec(&txn)
                .await
                .db()?;
            self.operations_event_in(
                &txn,
                OperationsEventType::AcmeAccountMarkNotDefault,
                serde_json::json!({"acme_account.id": id.0, "reason": "not on the default ACME server"}),
                None,
            )
            .await?;
        }
        txn.commit().await.db()?;
        Ok(StartupReport {
            unset_global_defaults: unset,
        })
    }

    async fn insert_private_key(&self, new: NewPrivateKey) -> StoreResult<Created<PrivateKey>> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.private_key_in(&txn, &new).await?;
        txn.commit().await.db()?;
        Ok(Created {
            id: convert::private_key(row.id)?,
            created: row.created,
        })
    }

    async fn private_key(&self, id: PrivateKeyId) -> StoreResult<PrivateKey> {
        let row = private_key::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("PrivateKey", id))?;
        convert::private_key(row)
    }

    async fn list_private_keys(&self, page: Page) -> StoreResult<Paged<PrivateKey>> {
        let (rows, total) = paginate(
            private_key::Entity::find().order_by_desc(private_key::Column::Id),
            page,
            &self.db,
        )
        .await?;
        let items = rows
            .into_iter()
            .map(convert::private_key)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn set_private_key_active(
        &self,
        id: PrivateKeyId,
        active: bool,
    ) -> StoreResult<PrivateKey> {
        let (_write, txn) = self.begin_write().await?;
        let row = private_key::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("PrivateKey", id))?;
        let current = convert::private_key(row.clone())?;
        let next = PrivateKeyFlags::from(&current).set_active(active)?;
        let mut am: private_key::ActiveModel = row.into();
        am.is_active = Set(next.is_active);
        let row = am.update(&txn).await.db()?;
        self.operations_event_in(
            &txn,
            OperationsEventType::PrivateKeyMark,
            serde_json::json!({"private_key.id": id.0, "is_active": active}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        convert::private_key(row)
    }

    async fn mark_private_key_compromised(
        &self,
        id: PrivateKeyId,
    ) -> StoreResult<CompromiseOutcome> {
        let (_write, txn) = self.begin_write().await?;
        let row = private_key::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("PrivateKey", id))?;
        let current = convert::private_key(row.clone())?;
        let next = PrivateKeyFlags::from(&current).compromise()?;
        let mut am: private_key::ActiveModel = row.into();
        am.is_active = Set(next.is_active);
        am.is_compromised = Set(next.is_compromised);
        let row = am.update(&txn).await.db()?;
        self.check_fault("compromise:after_key")?;
        let certs = certificate_signed::Entity::find()
            .filter(certificate_signed::Column::PrivateKeyId.eq(id.0))
            .all(&txn)
            .await
            .db()?;
        let mut deactivated = Vec::new();
        let mut domains = Vec::new();
        for cert in certs {
            let flags = convert::certificate(cert.clone())?
                .flags()
                .key_compromised();
            if cert.is_active {
                deactivated.push(CertificateSignedId(cert.id));
            }
            domains.extend(self.domains_of_set(&txn, cert.unique_fqdn_set_id).await?);
            let mut am: certificate_signed::ActiveModel = cert.into();
            am.is_active = Set(flags.is_active);
            am.is_deactivated = Set(flags.is_deactivated);
            am.is_compromised_private_key = Set(flags.is_compromised_private_key);
            am.update(&txn).await.db()?;
        }
        domains.sort_unstable();
        domains.dedup();
        self.refresh_latest_in(&txn, &domains).await?;
        self.operations_event_in(
            &txn,
            OperationsEventType::PrivateKeyMarkCompromised,
            serde_json::json!({
                "private_key.id": id.0,
                "certificate_signed.ids": deactivated.iter().map(|c| c.0).collect::<Vec<_>>(),
            }),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        Ok(CompromiseOutcome {
            private_key: convert::private_key(row)?,
            deactivated_certificates: deactivated,
        })
    }

    async fn get_or_create_domain(&self, name: &DomainName) -> StoreResult<Created<Domain>> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.domain_in(&txn, name.as_str()).await?;
        if row.created {
            self.operations_event_in(
                &txn,
                OperationsEventType::DomainInsert,
                serde_json::json!({"domain.id": row.id.id, "domain_name": name.as_str()}),
                None,
            )
            .await?;
        }
        txn.commit().await.db()?;
        Ok(Created {
            id: convert::domain(row.id),
            created: row.created,
        })
    }

    async fn domain(&self, id: DomainId) -> StoreResult<Domain> {
        domain::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .map(convert::domain)
            .ok_or_else(|| StoreError::not_found("Domain", id))
    }

    async fn domain_by_name(&self, name: &DomainName) -> StoreResult<Option<Domain>> {
        Ok(domain::Entity::find()
            .filter(domain::Column::DomainName.eq(name.as_str()))
            .one(&self.db)
            .await
            .db()?
            .map(convert::domain))
    }

    async fn list_domains(&self, page: Page) -> StoreResult<Paged<Domain>> {
        let (rows, total) = paginate(
            domain::Entity::find().order_by_asc(domain::Column::DomainName),
            page,
            &self.db,
        )
        .await?;
        Ok(Paged {
            items: rows.into_iter().map(convert::domain).collect(),
            total_items: total,
            page,
        })
    }

    async fn set_domain_active(&self, id: DomainId, active: bool) -> StoreResult<Domain> {
        let (_write, txn) = self.begin_write().await?;
        let row = domain::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("Domain", id))?;
        let next = rules::mark_domain(&convert::domain(row.clone()), active)?;
        let mut am: domain::ActiveModel = row.into();
        am.is_active = Set(next);
        let row = am.update(&txn).await.db()?;
        self.operations_event_in(
            &txn,
            OperationsEventType::DomainMark,
            serde_json::json!({"domain.id": id.0, "is_active": next}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        Ok(convert::domain(row))
    }

    async fn add_blocklisted_domain(
        &self,
        name: &DomainName,
    ) -> StoreResult<Created<DomainBlocklisted>> {
        let (_write, txn) = self.begin_write().await?;
        let find = || {
            domain_blocklisted::Entity::find()
                .filter(domain_blocklisted::Column::DomainName.eq(name.as_str()))
        };
        if let Some(found) = find().one(&txn).await.db()? {
            return Ok(Created {
                id: convert::blocklisted(found),
                created: false,
            });
        }
        let insert = domain_blocklisted::Entity::insert(domain_blocklisted::ActiveModel {
            id: NotSet,
            domain_name: Set(name.as_str().to_string()),
            created_at: Set(self.now()),
        })
        .on_conflict_do_nothing_on([domain_blocklisted::Column::DomainName])
        .exec(&txn)
        .await
        .db()?;
        let row = find()
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::Corrupt("blocklist entry vanished".into()))?;
        txn.commit().await.db()?;
        Ok(Created {
            id: convert::blocklisted(row),
            created: matches!(insert, TryInsertResult::Inserted(_)),
        })
    }

    async fn is_domain_blocklisted(&self, name: &DomainName) -> StoreResult<bool> {
        Ok(domain_blocklisted::Entity::find()
            .filter(domain_blocklisted::Column::DomainName.eq(name.as_str()))
            .count(&self.db)
            .await
            .db()?
            > 0)
    }

    async fn list_blocklisted_domains(&self) -> StoreResult<Vec<DomainBlocklisted>> {
        Ok(domain_blocklisted::Entity::find()
            .order_by_asc(domain_blocklisted::Column::DomainName)
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .map(convert::blocklisted)
            .collect())
    }

    async fn get_or_create_unique_fqdn_set(
        &self,
        set: &UniqueFqdnSet,
    ) -> StoreResult<Created<UniqueFqdnSetRecord>> {
        let (_write, txn) = self.begin_write().await?;
        let (row, _) = self.fqdn_set_in(&txn, set).await?;
        let record = self.fqdn_set_record_in(&txn, row.id).await?;
        txn.commit().await.db()?;
        Ok(Created {
            id: record,
            created: row.created,
        })
    }

    async fn unique_fqdn_set(&self, id: UniqueFqdnSetId) -> StoreResult<UniqueFqdnSetRecord> {
        let row = unique_fqdn_set::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("UniqueFQDNSet", id))?;
        self.fqdn_set_record_in(&self.db, row).await
    }

    async fn import_certificate(&self, import: &CertificateImport) -> StoreResult<ImportOutcome> {
        let (_write, txn) = self.begin_write().await?;
        let (set, domains) = self.fqdn_set_in(&txn, &import.unique_fqdn_set).await?;
        let key = self
            .private_key_in(
                &txn,
                &NewPrivateKey {
                    key: import.private_key.clone(),
                    source: PrivateKeySource::Imported,
                    cycle: PrivateKeyCycle::SingleUse,
                    acme_account_id_owner: None,
                },
            )
            .await?;
        self.check_fault("import:after_key")?;
        let mut cas = Vec::new();
        let mut chain_models = Vec::new();
        for ca in &import.chain.intermediates {
            let row = self.certificate_ca_in(&txn, ca).await?;
            chain_models.push(row.id.clone());
            cas.push(Created {
                id: CertificateCaId(row.id.id),
                created: row.created,
            });
        }
        if let Some(root) = &import.chain.root {
            let row = self.certificate_ca_in(&txn, root).await?;
            cas.push(Created {
                id: CertificateCaId(row.id.id),
                created: row.created,
            });
        }
        let chain = if chain_models.is_empty() {
            None
        } else {
            Some(
                self.chain_in(&txn, &chain_models, &import.chain_display_name)
                    .await?,
            )
        };
        let cert = &import.certificate;
        let flags = if key.id.is_compromised {
            CertificateFlags::NEW.key_compromised()
        } else {
            CertificateFlags::NEW
        };
        let technology = cert.key_technology.unwrap_or(import.private_key.technology);
        let cert_row = find_or_insert(
            &txn,
            certificate_signed::Entity::find().filter(
                certificate_signed::Column::FingerprintSha1.eq(cert.fingerprint_sha1.clone()),
            ),
            certificate_signed::ActiveModel {
                id: NotSet,
                cert_pem: Set(cert.pem().to_string()),
                fingerprint_sha1: Set(cert.fingerprint_sha1.clone()),
                spki_sha256: Set(cert.spki_sha256.clone()),
                serial: Set(cert.serial.clone()),
                cert_subject: Set(cert.subject.clone()),
                cert_issuer: Set(cert.issuer.clone()),
                not_before: Set(cert.not_before),
                not_after: Set(cert.not_after),
                is_single_domain_cert: Set(import.unique_fqdn_set.is_single_domain()),
                key_technology: Set(technology.as_str().to_string()),
                is_active: Set(flags.is_active),
                is_deactivated: Set(flags.is_deactivated),
                is_revoked: Set(flags.is_revoked),
                is_compromised_private_key: Set(flags.is_compromised_private_key),
                revoked_upstream_at: Set(None),
                ari_window_start: Set(None),
                ari_window_end: Set(None),
                ari_retry_after: Set(None),
                private_key_id: Set(key.id.id),
                unique_fqdn_set_id: Set(set.id.id),
                certificate_request_id: Set(None),
                created_at: Set(self.now()),
            },
            [certificate_signed::Column::FingerprintSha1],
        )
        .await?;
        let cert_created = cert_row.created;
        let cert_row = cert_row.id;
        self.check_fault("import:after_certificate")?;
        let mut offered = Vec::new();
        if let Some(chain) = &chain {
            offered.push(chain.id.id);
        }
        for alternate in &import.alternate_chains {
            if alternate.intermediates.is_empty() {
                continue;
            }
            let mut models = Vec::new();
            for ca in &alternate.intermediates {
                let row = self.certificate_ca_in(&txn, ca).await?;
                models.push(row.id);
            }
            if let Some(root) = &alternate.root {
                self.certificate_ca_in(&txn, root).await?;
            }
            let alt = self
                .chain_in(&txn, &models, "ACME Server Response (alternate)")
                .await?;
            offered.push(alt.id.id);
        }
        if !offered.is_empty() {
            let has_chain = certificate_signed_chain::Entity::find()
                .filter(certificate_signed_chain::Column::CertificateSignedId.eq(cert_row.id))
                .count(&txn)
                .await
                .db()?
                > 0;
            for (index, chain_id) in offered.iter().enumerate() {
                certificate_signed_chain::Entity::insert(certificate_signed_chain::ActiveModel {
                    certificate_signed_id: Set(cert_row.id),
                    certificate_ca_chain_id: Set(*chain_id),
                    is_upstream_default: Set(!has_chain && index == 0),
                })
                .on_conflict_do_nothing_on([
                    certificate_signed_chain::Column::CertificateSignedId,
                    certificate_signed_chain::Column::CertificateCaChainId,
                ])
                .exec_without_returning(&txn)
                .await
                .db()?;
            }
        }
        if let Some(order_id) = import.acme_order_id {
            let order = acme_order::Entity::find_by_id(order_id.0)
                .one(&txn)
                .await
                .db()?
                .ok_or_else(|| StoreError::not_found("AcmeOrder", order_id))?;
            let mut am: acme_order::ActiveModel = order.into();
            am.certificate_signed_id = Set(Some(cert_row.id));
            am.private_key_id = Set(Some(key.id.id));
            am.processing_status = Set(AcmeOrderProcessingStatus::CertificateDownloaded
                .as_str()
                .into());
            am.is_processing = Set(None);
            am.updated_at = Set(self.now());
            am.update(&txn).await.db()?;
            if let Some(csr_id) = import.certificate_request_id {
                certificate_signed::Entity::update_many()
                    .col_expr(
                        certificate_signed::Column::CertificateRequestId,
                        Expr::value(csr_id.0),
                    )
                    .filter(certificate_signed::Column::Id.eq(cert_row.id))
                    .exec(&txn)
                    .await
                    .db()?;
            }
        }
        if cert_created {
            let domain_ids: Vec<i64> = domains.iter().map(|d| d.id.0).collect();
            self.refresh_latest_in(&txn, &domain_ids).await?;
            self.operations_event_in(
                &txn,
                OperationsEventType::CertificateSignedInsert,
                serde_json::json!({
                    "certificate_signed.id": cert_row.id,
                    "unique_fqdn_set.id": set.id.id,
                    "is_expired": import.is_expired,
                }),
                None,
            )
            .await?;
        }
        txn.commit().await.db()?;
        Ok(ImportOutcome {
            certificate_signed: Created {
                id: CertificateSignedId(cert_row.id),
                created: cert_created,
            },
            private_key: Created {
                id: PrivateKeyId(key.id.id),
                created: key.created,
            },
            certificate_ca_chain: chain.map(|c| Created {
                id: CertificateCaChainId(c.id.id),
                created: c.created,
            }),
            certificate_cas: cas,
            unique_fqdn_set: Created {
                id: UniqueFqdnSetId(set.id.id),
                created: set.created,
            },
            domains,
            is_expired: import.is_expired,
        })
    }

    async fn certificate_signed(&self, id: CertificateSignedId) -> StoreResult<CertificateSigned> {
        convert::certificate(self.certificate_model(&self.db, id).await?)
    }

    async fn list_certificates_signed(
        &self,
        filter: CertificateFilter,
        page: Page,
    ) -> StoreResult<Paged<CertificateSigned>> {
        use certificate_signed::Column as C;
        let mut select = certificate_signed::Entity::find();
        select = match filter {
            CertificateFilter::All => select,
            CertificateFilter::Active => select.filter(C::IsActive.eq(true)),
            CertificateFilter::Inactive => select.filter(C::IsActive.eq(false)),
            CertificateFilter::ExpiringBefore(at) => select
                .filter(C::IsActive.eq(true))
                .filter(C::NotAfter.lt(at)),
            CertificateFilter::Domain(d) => {
                select.filter(C::UniqueFqdnSetId.in_subquery(crate::listings::sets_with_domain(d)))
            }
            CertificateFilter::PrivateKey(k) => select.filter(C::PrivateKeyId.eq(k.0)),
        };
        let select = match filter {
            CertificateFilter::ExpiringBefore(_) => {
                select.order_by_asc(C::NotAfter).order_by_asc(C::Id)
            }
            _ => select.order_by_desc(C::Id),
        };
        let (rows, total) = paginate(select, page, &self.db).await?;
        let items = rows
            .into_iter()
            .map(convert::certificate)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn mark_certificate_signed(
        &self,
        id: CertificateSignedId,
        mark: CertificateMark,
    ) -> StoreResult<CertificateSigned> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.certificate_model(&txn, id).await?;
        let next = convert::certificate(row.clone())?.flags().mark(mark)?;
        let set_id = row.unique_fqdn_set_id;
        let mut am: certificate_signed::ActiveModel = row.into();
        am.is_active = Set(next.is_active);
        am.is_deactivated = Set(next.is_deactivated);
        am.is_revoked = Set(next.is_revoked);
        let row = am.update(&txn).await.db()?;
        let domains = self.domains_of_set(&txn, set_id).await?;
        self.refresh_latest_in(&txn, &domains).await?;
        self.operations_event_in(
            &txn,
            OperationsEventType::CertificateSignedMark,
            serde_json::json!({"certificate_signed.id": id.0, "mark": format!("{mark:?}").to_lowercase()}),
            None,
        )
        .await?;
        txn.commit().await.db()?;
        convert::certificate(row)
    }

    async fn latest_active_certificate_for_domain(
        &self,
        name: &DomainName,
    ) -> StoreResult<Option<CertificateSigned>> {
        // One round trip: the domain row's pointers are kept current by every
        // change, so the answer is the later-expiring of the two it names.
        let backend = self.db.get_database_backend();
        let placeholder = match backend {
            DbBackend::Postgres => "$1",
            _ => "?",
        };
        let sql = format!(
            "SELECT cs.* FROM certificate_signed cs \
             JOIN domain d ON cs.id = d.certificate_signed_id_latest_single \
                           OR cs.id = d.certificate_signed_id_latest_multi \
             WHERE d.domain_name = {placeholder} \
             ORDER BY cs.not_after DESC, cs.id DESC LIMIT 1"
        );
        let row = certificate_signed::Entity::find()
            .from_raw_sql(sea_orm::Statement::from_sql_and_values(
                backend,
                sql,
                [name.as_str().into()],
            ))
            .one(&self.db)
            .await
            .db()?;
        row.map(convert::certificate).transpose()
    }

    async fn set_certificate_renewal_window(
        &self,
        id: CertificateSignedId,
        window: &RenewalWindow,
    ) -> StoreResult<CertificateSigned> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.certificate_model(&txn, id).await?;
        let mut am: certificate_signed::ActiveModel = row.into();
        am.ari_window_start = Set(Some(window.start));
        am.ari_window_end = Set(Some(window.end));
        am.ari_retry_after = Set(Some(window.retry_after));
        let row = am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        convert::certificate(row)
    }

    async fn set_certificate_revoked_upstream(
        &self,
        id: CertificateSignedId,
    ) -> StoreResult<CertificateSigned> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.certificate_model(&txn, id).await?;
        if row.revoked_upstream_at.is_some() {
            return Err(StoreError::Transition(
                rules::TransitionError::AlreadyRevokedUpstream,
            ));
        }
        let mut am: certificate_signed::ActiveModel = row.into();
        am.revoked_upstream_at = Set(Some(self.now()));
        let row = am.update(&txn).await.db()?;
        txn.commit().await.db()?;
        convert::certificate(row)
    }

    async fn acme_order_for_certificate(
        &self,
        id: CertificateSignedId,
    ) -> StoreResult<Option<AcmeOrder>> {
        let row = acme_order::Entity::find()
            .filter(acme_order::Column::CertificateSignedId.eq(id.0))
            .order_by_desc(acme_order::Column::Id)
            .one(&self.db)
            .await
            .db()?;
        row.map(convert::order).transpose()
    }

    async fn private_key_by_spki(&self, spki_sha256: &str) -> StoreResult<Option<PrivateKey>> {
        let row = private_key::Entity::find()
            .filter(private_key::Column::SpkiSha256.eq(spki_sha256))
            .one(&self.db)
            .await
            .db()?;
        row.map(convert::private_key).transpose()
    }

    async fn latest_private_key_for_cycle(
        &self,
        cycle: PrivateKeyCycle,
        owner: Option<AcmeAccountId>,
    ) -> StoreResult<Option<PrivateKey>> {
        let mut select = private_key::Entity::find()
            .filter(private_key::Column::Cycle.eq(cycle.as_str()))
            .filter(private_key::Column::IsActive.eq(true))
            .filter(private_key::Column::IsCompromised.eq(false));
        select = match owner {
            Some(a) => select.filter(private_key::Column::AcmeAccountIdOwner.eq(a.0)),
            None => select.filter(private_key::Column::AcmeAccountIdOwner.is_null()),
        };
        let row = select
            .order_by_desc(private_key::Column::CreatedAt)
            .order_by_desc(private_key::Column::Id)
            .one(&self.db)
            .await
            .db()?;
        row.map(convert::private_key).transpose()
    }

    async fn certificate_chains(
        &self,
        id: CertificateSignedId,
    ) -> StoreResult<Vec<CertificateChainOffer>> {
        self.certificate_model(&self.db, id).await?;
        let links = certificate_signed_chain::Entity::find()
            .filter(certificate_signed_chain::Column::CertificateSignedId.eq(id.0))
            .all(&self.db)
            .await
            .db()?;
        let chains = certificate_ca_chain::Entity::find()
            .filter(
                certificate_ca_chain::Column::Id
                    .is_in(links.iter().map(|l| l.certificate_ca_chain_id)),
            )
            .all(&self.db)
            .await
            .db()?;
        let mut offers = Vec::new();
        for link in &links {
            if let Some(chain) = chains.iter().find(|c| c.id == link.certificate_ca_chain_id) {
                offers.push(CertificateChainOffer {
                    chain: convert::chain(chain.clone())?,
                    is_upstream_default: link.is_upstream_default,
                });
            }
        }
        offers.sort_by_key(|o| (!o.is_upstream_default, o.chain.id));
        Ok(offers)
    }

    async fn domain_publications(
        &self,
        after: DomainId,
        limit: u64,
        name: Option<&DomainName>,
    ) -> StoreResult<Vec<DomainPublication>> {
        self.domain_publications_impl(after, limit, name).await
    }

    async fn insert_certificate_ca(
        &self,
        cert: &ParsedCertificate,
    ) -> StoreResult<Created<CertificateCa>> {
        let (_write, txn) = self.begin_write().await?;
        let row = self.certificate_ca_in(&txn, cert).await?;
        txn.commit().await.db()?;
        Ok(Created {
            id: convert::certificate_ca(row.id),
            created: row.created,
        })
    }

    async fn certificate_ca(&self, id: CertificateCaId) -> StoreResult<CertificateCa> {
        certificate_ca::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .map(convert::certificate_ca)
            .ok_or_else(|| StoreError::not_found("CertificateCA", id))
    }

    async fn list_certificate_cas(&self, page: Page) -> StoreResult<Paged<CertificateCa>> {
        let (rows, total) = paginate(
            certificate_ca::Entity::find().order_by_asc(certificate_ca::Column::Id),
            page,
            &self.db,
        )
        .await?;
        Ok(Paged {
            items: rows.into_iter().map(convert::certificate_ca).collect(),
            total_items: total,
            page,
        })
    }

    async fn certificate_ca_chain(
        &self,
        id: CertificateCaChainId,
    ) -> StoreResult<CertificateCaChain> {
        let row = certificate_ca_chain::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("CertificateCAChain", id))?;
        convert::chain(row)
    }

    async fn list_certificate_ca_chains(
        &self,
        page: Page,
    ) -> StoreResult<Paged<CertificateCaChain>> {
        let (rows, total) = paginate(
            certificate_ca_chain::Entity::find().order_by_asc(certificate_ca_chain::Column::Id),
            page,
            &self.db,
        )
        .await?;
        let items = rows
            .into_iter()
            .map(convert::chain)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn ca_preferences(&self) -> StoreResult<Vec<CertificateCa>> {
        self.ca_preferences_in(&self.db).await
    }

    async fn add_ca_preference(&self, id: CertificateCaId) -> StoreResult<Vec<CertificateCa>> {
        let (_write, txn) = self.begin_write().await?;
        certificate_ca::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .db()?
            .ok_or_else(|| StoreError::not_found("CertificateCA", id))?;
        let max_slot: Option<i32> = certificate_ca_preference::Entity::find()
            .select_only()
            .column_as(
                Expr::expr(Func::max(Expr::col(
                    certificate_ca_preference::Column::Slot,
                ))),
                "max_slot",
            )
            .into_tuple::<Option<i32>>()
            .one(&txn)
            .await
            .db()?
            .flatten();
        certificate_ca_preference::Entity::insert(certificate_ca_preference::ActiveModel {
            id: NotSet,
            certificate_ca_id: Set(id.0),
            slot: Set(max_slot.unwrap_or(0) + 1),
        })
        .on_conflict_do_nothing_on([certificate_ca_preference::Column::CertificateCaId])
        .exec(&txn)
        .await
        .db()?;
        let list = self.ca_preferences_in(&txn).await?;
        txn.commit().await.db()?;
        Ok(list)
    }

    async fn remove_ca_preference(&self, id: CertificateCaId) -> StoreResult<Vec<CertificateCa>> {
        let (_write, txn) = self.begin_write().await?;
        let deleted = certificate_ca_preference::Entity::delete_many()
            .filter(certificate_ca_preference::Column::CertificateCaId.eq(id.0))
            .exec(&txn)
            .await
            .db()?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::not_found("CertificateCAPreference", id));
        }
        let list = self.ca_preferences_in(&txn).await?;
        txn.commit().await.db()?;
        Ok(list)
    }

    async fn set_ca_preferences(&self, ids: &[CertificateCaId]) -> StoreResult<Vec<CertificateCa>> {
        self.set_ca_preferences_impl(ids).await
    }

    async fn create_acme_order(&self, new: NewAcmeOrder) -> StoreResult<AcmeOrder> {
        self.create_acme_order_impl(new).await
    }

    async fn acme_order(&self, id: AcmeOrderId) -> StoreResult<AcmeOrder> {
        self.acme_order_impl(id).await
    }

    async fn list_acme_orders(
        &self,
        filter: OrderFilter,
        page: Page,
    ) -> StoreResult<Paged<AcmeOrder>> {
        self.list_acme_orders_impl(filter, page).await
    }

    async fn update_acme_order(
        &self,
        id: AcmeOrderId,
        update: AcmeOrderUpdate,
    ) -> StoreResult<AcmeOrder> {
        self.update_acme_order_impl(id, update).await
    }

    async fn sync_acme_order(
        &self,
        id: AcmeOrderId,
        server: &ServerOrder,
    ) -> StoreResult<AcmeOrder> {
        self.sync_acme_order_impl(id, server).await
    }

    async fn acme_authorizations_for_order(
        &self,
        id: AcmeOrderId,
    ) -> StoreResult<Vec<AcmeAuthorization>> {
        self.acme_authorizations_for_order_impl(id).await
    }

    async fn acme_authorization(&self, id: AcmeAuthorizationId) -> StoreResult<AcmeAuthorization> {
        self.acme_authorization_impl(id).await
    }

    async fn sync_acme_authorization(
        &self,
        id: AcmeAuthorizationId,
        server: &ServerAuthorization,
        challenges: &[ChallengeUpsert],
    ) -> StoreResult<AcmeAuthorization> {
        self.sync_acme_authorization_impl(id, server, challenges)
            .await
    }

    async fn acme_challenges_for_authorization(
        &self,
        id: AcmeAuthorizationId,
    ) -> StoreResult<Vec<AcmeChallenge>> {
        self.acme_challenges_for_authorization_impl(id).await
    }

    async fn acme_challenge(&self, id: AcmeChallengeId) -> StoreResult<AcmeChallenge> {
        self.acme_challenge_impl(id).await
    }

    async fn set_acme_challenge_status(
        &self,
        id: AcmeChallengeId,
        status: AcmeChallengeStatus,
    ) -> StoreResult<AcmeChallenge> {
        self.set_acme_challenge_status_impl(id, status).await
    }

    async fn challenge_answer(
        &self,
        host: &str,
        token: &str,
    ) -> StoreResult<Option<(AcmeChallengeId, String)>> {
        self.challenge_answer_impl(host, token).await
    }

    async fn record_challenge_poll(
        &self,
        id: AcmeChallengeId,
        remote_ip: Option<String>,
    ) -> StoreResult<AcmeChallengePoll> {
        self.record_challenge_poll_impl(id, remote_ip).await
    }

    async fn record_unknown_challenge_poll(
        &self,
        host: &str,
        token: &str,
        remote_ip: Option<String>,
    ) -> StoreResult<AcmeChallengeUnknownPoll> {
        self.record_unknown_challenge_poll_impl(host, token, remote_ip)
            .await
    }

    async fn challenge_polls(&self, id: AcmeChallengeId) -> StoreResult<Vec<AcmeChallengePoll>> {
        self.challenge_polls_impl(id).await
    }

    async fn list_unknown_challenge_polls(
        &self,
        page: Page,
    ) -> StoreResult<Paged<AcmeChallengeUnknownPoll>> {
        self.list_unknown_challenge_polls_impl(page).await
    }

    async fn insert_certificate_request(
        &self,
        csr: &peter_core::formats::ParsedCsr,
        source: CertificateRequestSource,
        private_key_id: Option<PrivateKeyId>,
        unique_fqdn_set_id: UniqueFqdnSetId,
    ) -> StoreResult<Created<CertificateRequest>> {
        self.insert_certificate_request_impl(csr, source, private_key_id, unique_fqdn_set_id)
            .await
    }

    async fn certificate_request(
        &self,
        id: CertificateRequestId,
    ) -> StoreResult<CertificateRequest> {
        self.certificate_request_impl(id).await
    }

    async fn try_acquire_renewal_lease(
        &self,
        set: UniqueFqdnSetId,
        holder: &str,
        ttl: time::Duration,
    ) -> StoreResult<bool> {
        self.try_acquire_renewal_lease_impl(set, holder, ttl).await
    }

    async fn release_renewal_lease(&self, set: UniqueFqdnSetId, holder: &str) -> StoreResult<()> {
        self.release_renewal_lease_impl(set, holder).await
    }

    async fn record_renewal_failure(
        &self,
        set: UniqueFqdnSetId,
        next_attempt_at: OffsetDateTime,
        error: &str,
    ) -> StoreResult<()> {
        self.record_renewal_failure_impl(set, next_attempt_at, error)
            .await
    }

    async fn clear_renewal_failures(&self, set: UniqueFqdnSetId) -> StoreResult<()> {
        self.clear_renewal_failures_impl(set).await
    }

    async fn renewal_backoff(
        &self,
        set: UniqueFqdnSetId,
    ) -> StoreResult<Option<(i32, OffsetDateTime)>> {
        self.renewal_backoff_impl(set).await
    }

    async fn record_acme_event(&self, event: NewAcmeEventLog) -> StoreResult<AcmeEventLog> {
        let kind = event
            .event
            .ok_or_else(|| StoreError::Corrupt("an ACME event needs its kind".into()))?;
        let (_write, txn) = self.begin_write().await?;
        let row = acme_event_log::ActiveModel {
            id: NotSet,
            event_at: Set(self.now()),
            event: Set(kind.as_str().to_string()),
            endpoint: Set(event.endpoint),
            http_status: Set(event.http_status),
            problem_type: Set(event.problem_type),
            problem_detail: Set(event.problem_detail),
            retry_after_seconds: Set(event.retry_after_seconds),
            duration_ms: Set(event.duration_ms),
            acme_account_id: Set(event.acme_account_id.map(|i| i.0)),
            acme_order_id: Set(event.acme_order_id.map(|i| i.0)),
            acme_authorization_id: Set(event.acme_authorization_id.map(|i| i.0)),
            acme_challenge_id: Set(event.acme_challenge_id.map(|i| i.0)),
            certificate_signed_id: Set(event.certificate_signed_id.map(|i| i.0)),
        }
        .insert(&txn)
        .await
        .db()?;
        txn.commit().await.db()?;
        convert::acme_event(row)
    }

    async fn acme_events_for_order(&self, id: AcmeOrderId) -> StoreResult<Vec<AcmeEventLog>> {
        acme_event_log::Entity::find()
            .filter(acme_event_log::Column::AcmeOrderId.eq(id.0))
            .order_by_asc(acme_event_log::Column::Id)
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .map(convert::acme_event)
            .collect()
    }

    async fn list_acme_events(&self, page: Page) -> StoreResult<Paged<AcmeEventLog>> {
        let (rows, total) = paginate(
            acme_event_log::Entity::find().order_by_desc(acme_event_log::Column::Id),
            page,
            &self.db,
        )
        .await?;
        let items = rows
            .into_iter()
            .map(convert::acme_event)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn record_operations_event(
        &self,
        event_type: OperationsEventType,
        payload: serde_json::Value,
        parent: Option<OperationsEventId>,
    ) -> StoreResult<OperationsEvent> {
        let (_write, txn) = self.begin_write().await?;
        let row = self
            .operations_event_in(&txn, event_type, payload, parent)
            .await?;
        txn.commit().await.db()?;
        convert::operations_event(row)
    }

    async fn list_operations_events(&self, page: Page) -> StoreResult<Paged<OperationsEvent>> {
        let (rows, total) = paginate(
            operations_event::Entity::find().order_by_desc(operations_event::Column::Id),
            page,
            &self.db,
        )
        .await?;
        let items = rows
            .into_iter()
            .map(convert::operations_event)
            .collect::<Result<_, _>>()?;
        Ok(Paged {
            items,
            total_items: total,
            page,
        })
    }

    async fn list_acme_authorizations(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<AcmeAuthorization>> {
        self.list_acme_authorizations_impl(domain, page).await
    }

    async fn list_acme_challenges(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<AcmeChallenge>> {
        self.list_acme_challenges_impl(domain, page).await
    }

    async fn list_acme_challenge_polls(&self, page: Page) -> StoreResult<Paged<AcmeChallengePoll>> {
        self.list_acme_challenge_polls_impl(page).await
    }

    async fn list_unique_fqdn_sets(
        &self,
        domain: Option<DomainId>,
        page: Page,
    ) -> StoreResult<Paged<UniqueFqdnSetRecord>> {
        self.list_unique_fqdn_sets_impl(domain, page).await
    }

    async fn list_certificate_requests(
        &self,
        page: Page,
    ) -> StoreResult<Paged<CertificateRequest>> {
        self.list_certificate_requests_impl(page).await
    }

    async fn acme_event(&self, id: AcmeEventLogId) -> StoreResult<AcmeEventLog> {
        self.acme_event_impl(id).await
    }

    async fn domain_config_source(
        &self,
        domain: DomainLookup<'_>,
    ) -> StoreResult<Option<DomainConfigSource>> {
        self.domain_config_source_impl(domain).await
    }

    async fn metrics(&self) -> StoreResult<StoreMetrics> {
        self.metrics_impl().await
    }

    async fn active_certificate_expirations(
        &self,
        after: CertificateSignedId,
        limit: u64,
    ) -> StoreResult<Vec<CertificateExpiration>> {
        self.active_certificate_expirations_impl(after, limit).await
    }
}
