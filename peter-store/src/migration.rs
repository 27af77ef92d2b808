//! Schema migrations. Each migration is written out explicitly (not derived
//! from the entities), so that the schema's history stays fixed as the code
//! moves on. The conformance suite runs them on SQLite and PostgreSQL.
//!
//! Every migration runs in one transaction with its record (SQLite's DDL is
//! transactional, but sea-orm wraps it only when asked) and can be replayed
//! over a partial result (`IF NOT EXISTS`), so a kill at any instant leaves
//! a store the next command opens.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Runs peter's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Initial),
            Box::new(M0002PollTallies),
            Box::new(M0003LeaseTokens),
            Box::new(M0004ConfigChanges),
            Box::new(M0005AriAnswers),
            Box::new(M0006ServerDirectories),
            Box::new(M0007AlertDeliveries),
            Box::new(M0008DomainChallengeTypes),
            Box::new(M0009DnsDelegations),
            Box::new(M0010IpIdentifiers),
            Box::new(M0011DomainAutocerts),
            Box::new(M0012RenewalConfigurations),
        ]
    }

    fn migration_table_name() -> DynIden {
        "peter_migrations".into_iden()
    }
}

struct M0001Initial;

impl MigrationName for M0001Initial {
    fn name(&self) -> &str {
        "m0001_initial"
    }
}

fn t(name: &str) -> Alias {
    Alias::new(name)
}

fn id() -> ColumnDef {
    big_pk_auto("id")
}

fn created_at() -> ColumnDef {
    timestamp_with_time_zone("created_at")
}

fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{}_{}", table, columns.join("_")))
        .table(t(table));
    for c in columns {
        stmt.col(t(c));
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Initial {
    /// One transaction for the migration and its record, on SQLite too
    /// (sea-orm's default there is none): a process killed half-way leaves
    /// nothing behind.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables: Vec<TableCreateStatement> = vec![
            Table::create()
                .table(t("acme_server"))
                .col(id())
                .col(string_uniq("name"))
                .col(string_uniq("directory_url"))
                .col(text_null("ca_bundle_pem"))
                .col(boolean("is_default"))
                .col(boolean("is_enabled"))
                .col(created_at())
                .to_owned(),
            Table::create()
                .table(t("acme_account"))
                .col(id())
                .col(big_integer("acme_server_id"))
                .col(string_null("contact"))
                .col(string_null("account_url").unique_key())
                .col(string_null("terms_of_service"))
                .col(boolean("is_active"))
                .col(boolean("is_global_default"))
                .col(string("private_key_technology"))
                .col(string("private_key_cycle"))
                .col(timestamp_with_time_zone_null("deactivated_at"))
                .col(created_at())
                .foreign_key(
                    ForeignKey::create()
                        .from(t("acme_account"), t("acme_server_id"))
                        .to(t("acme_server"), t("id")),
                )
                .to_owned(),
            Table::create()
                .table(t("acme_account_key"))
                .col(id())
                .col(big_integer("acme_account_id"))
                .col(boolean("is_active"))
                .col(string("key_technology"))
                .col(text("key_pem"))
                .col(string_uniq("spki_sha256"))
                .col(string("source"))
                .col(created_at())
                .col(timestamp_with_time_zone_null("deactivated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from(t("acme_account_key"), t("acme_account_id"))
                        .to(t("acme_account"), t("id")),
                )
                .to_owned(),
            Table::create()
                .table(t("private_key"))
                .col(id())
                .col(text("key_pem"))
                .col(string_uniq("spki_sha256"))
                .col(string("key_technology"))
                .col(string("source"))
                .col(string("cycle"))
                .col(big_integer_null("acme_account_id_owner"))
                .col(boolean("is_active"))
                .col(boolean("is_compromised"))
                .col(created_at())
                .to_owned(),
            Table::create()
                .table(t("domain"))
                .col(id())
                .col(string_uniq("domain_name"))
                .col(boolean("is_active"))
                .col(big_integer_null("certificate_signed_id_latest_single"))
                .col(big_integer_null("certificate_signed_id_latest_multi"))
                .col(created_at())
                .to_owned(),
            Table::create()
                .table(t("domain_blocklisted"))
                .col(id())
                .col(string_uniq("domain_name"))
                .col(created_at())
                .to_owned(),
            Table::create()
                .table(t("unique_fqdn_set"))
                .col(id())
                .col(string_uniq("fqdn_sha256"))
                .col(text("domain_names"))
                .col(integer("count_domains"))
                .col(created_at())
                .to_owned(),
            Table::create()
                .table(t("unique_fqdn_set_domain"))
                .col(big_integer("unique_fqdn_set_id"))
                .col(big_integer("domain_id"))
                .primary_key(
                    Index::create()
                        .col(t("unique_fqdn_set_id"))
                        .col(t("domain_id")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(t("unique_fqdn_set_domain"), t("unique_fqdn_set_id"))
                        .to(t("unique_fqdn_set"), t("id")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(t("unique_fqdn_set_domain"), t("domain_id"))
                        .to(t("domain"), t("id")),
                )
                .to_owned(),
            Table::create()
                .table(t("certificate_request"))
                .col(id())
                .col(text("csr_pem"))
                .col(string_uniq("csr_sha256"))
                .col(string("spki_sha256"))
                .col(string("source"))
                .col(big_integer_null("private_key_id"))
                .col(big_integer("unique_fqdn_set_id"))
                .col(created_at())
                .to_owned(),
            Table::create()
                .table(t("certificate_signed"))
                .col(id())
                .col(text("cert_pem"))
                .col(string_uniq("fingerprint_sha1"))
                .col(string("spki_sha256"))
                .col(string("serial"))
                .col(text("cert_subject"))
                .col(text("cert_issuer"))
                .col(timestamp_with_time_zone("not_before"))
                .col(timestamp_with_time_zone("not_after"))
                .col(boolean("is_single_domain_cert"))
                .col(string("key_technology"))
                .col(boolean("is_active"))
                .col(boolean("is_deactivated"))
                .col(boolean("is_revoked"))
                .col(boolean("is_compromised_private_key"))
                .col(timestamp_with_time_zone_null("revoked_upstream_at"))
                .col(timestamp_with_time_zone_null("ari_window_start"))
                .col(timestamp_with_time_zone_null("ari_window_end"))
                .col(timestamp_with_time_zone_null("ari_retry_after"))
                .col(big_integer("private_key_id"))
                .col(big_integer("unique_fqdn_set_id"))
                .col(big_integer_null("certificate_request_id"))
                .col(created_at())
                .foreign_key(
                    ForeignKey::create()
                        .from(t("certificate_signed"), t("private_key_id"))
                        .to(t("private_key"), t("id")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(t("certificate_signed"), t("unique_fqdn_set_id"))
                        .to(t("unique_fqdn_set"), t("id")),
                )
                .to_owned(),
            Table::create()
                .table(t("certificate_ca"))
                .col(id())
                .col(text("cert_pem"))
                .col(string_uniq("fingerprint_sha1"))
                .col(string("spki_sha256"))
                .col(text("cert_subject"))
                .col(text("cert_issuer"))
                .col(timestamp_with_time_zone("not_before"))
                .col(timestamp_with_time_zone("not_after"))
                .col(boolean("is_trusted_root"))
                .col(text("display_name"))
                .col(created_at())
                .to_owned(),
            Table::create()
                .table(t("certificate_ca_chain"))
                .col(id())
                .col(text("chain_pem"))
                .col(string_uniq("certificate_ca_ids"))
                .col(integer("chain_length"))
                .col(big_integer("certificate_ca_0_id"))
                .col(big_integer("certificate_ca_n_id"))
                .col(text("display_name"))
                .col(created_at())
                .to_owned(),
            Table::create()
                .table(t("certificate_signed_chain"))
                .col(big_integer("certificate_signed_id"))
                .col(big_integer("certificate_ca_chain_id"))
                .col(boolean("is_upstream_default"))
                .primary_key(
                    Index::create()
                        .col(t("certificate_signed_id"))
                        .col(t("certificate_ca_chain_id")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(t("certificate_signed_chain"), t("certificate_signed_id"))
                        .to(t("certificate_signed"), t("id")),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(t("certificate_signed_chain"), t("certificate_ca_chain_id"))
                        .to(t("certificate_ca_chain"), t("id")),
                )
                .to_owned(),
            Table::create()
                .table(t("certificate_ca_preference"))
                .col(id())
                .col(big_integer_uniq("certificate_ca_id"))
                .col(integer("slot"))
                .foreign_key(
                    ForeignKey::create()
                        .from(t("certificate_ca_preference"), t("certificate_ca_id"))
                        .to(t("certificate_ca"), t("id")),
                )
                .to_owned(),
            Table::create()
                .table(t("acme_order"))
                .col(id())
                .col(big_integer("acme_account_id"))
                .col(big_integer("unique_fqdn_set_id"))
                .col(string_null("order_url").unique_key())
                .col(string_null("finalize_url"))
                .col(string_null("certificate_url"))
                .col(string("status"))
                .col(string("processing_status"))
                .col(string("processing_strategy"))
                .col(string("order_type"))
                .col(boolean_null("is_processing"))
                .col(string("private_key_cycle_renewal"))
                .col(string("private_key_strategy_requested"))
                .col(big_integer_null("private_key_id_requested"))
                .col(big_integer_null("private_key_id"))
                .col(big_integer_null("certificate_request_id"))
                .col(big_integer_null("certificate_signed_id"))
                .col(big_integer_null("acme_order_id_retry_of"))
                .col(big_integer_null("certificate_signed_id_renewal_of"))
                .col(string_null("profile"))
                .col(string_null("replaces"))
                .col(text_null("problem"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(created_at())
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
            Table::create()
                .table(t("acme_authorization"))
                .col(id())
                .col(string_uniq("authorization_url"))
                .col(string("status"))
                .col(big_integer_null("domain_id"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(timestamp_with_time_zone_null("deactivated_at"))
                .col(big_integer("acme_order_id_created"))
                .col(created_at())
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
            Table::create()
                .table(t("acme_order_authorization"))
                .col(big_integer("acme_order_id"))
                .col(big_integer("acme_authorization_id"))
                .col(boolean("is_present_on_new_order"))
                .primary_key(
                    Index::create()
                        .col(t("acme_order_id"))
                        .col(t("acme_authorization_id")),
                )
                .to_owned(),
            Table::create()
                .table(t("acme_challenge"))
                .col(id())
                .col(big_integer("acme_authorization_id"))
                .col(big_integer("domain_id"))
                .col(string("challenge_type"))
                .col(string("status"))
                .col(string_uniq("challenge_url"))
                .col(string("token"))
                .col(string_null("key_authorization"))
                .col(created_at())
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
            Table::create()
                .table(t("acme_challenge_poll"))
                .col(id())
                .col(big_integer("acme_challenge_id"))
                .col(timestamp_with_time_zone("polled_at"))
                .col(string_null("remote_ip_address"))
                .to_owned(),
            Table::create()
                .table(t("acme_challenge_unknown_poll"))
                .col(id())
                .col(string("domain"))
                .col(string("token"))
                .col(timestamp_with_time_zone("polled_at"))
                .col(string_null("remote_ip_address"))
                .to_owned(),
            Table::create()
                .table(t("acme_event_log"))
                .col(id())
                .col(timestamp_with_time_zone("event_at"))
                .col(string("event"))
                .col(text("endpoint"))
                .col(integer_null("http_status"))
                .col(string_null("problem_type"))
                .col(text_null("problem_detail"))
                .col(big_integer_null("retry_after_seconds"))
                .col(big_integer("duration_ms"))
                .col(big_integer_null("acme_account_id"))
                .col(big_integer_null("acme_order_id"))
                .col(big_integer_null("acme_authorization_id"))
                .col(big_integer_null("acme_challenge_id"))
                .col(big_integer_null("certificate_signed_id"))
                .to_owned(),
            Table::create()
                .table(t("renewal_state"))
                .col(big_integer("unique_fqdn_set_id").primary_key())
                .col(string_null("lease_holder"))
                .col(timestamp_with_time_zone_null("lease_expires_at"))
                .col(integer("failures"))
                .col(timestamp_with_time_zone_null("next_attempt_at"))
                .col(text_null("last_error"))
                .to_owned(),
            Table::create()
                .table(t("operations_event"))
                .col(id())
                .col(string("event_type"))
                .col(timestamp_with_time_zone("event_at"))
                .col(text("payload"))
                .col(big_integer_null("parent_id"))
                .to_owned(),
        ];
        // `IF NOT EXISTS` throughout: a store that an earlier release left
        // half-migrated (its DDL was not transactional on SQLite) is
        // completed by the next run instead of refused.
        for mut table in tables {
            m.create_table(table.if_not_exists().to_owned()).await?;
        }
        let indexes = [
            index("acme_account", &["acme_server_id"], false),
            index("acme_account_key", &["acme_account_id"], false),
            index("unique_fqdn_set_domain", &["domain_id"], false),
            // Serves the latest-certificate refresh: newest active per set.
            index(
                "certificate_signed",
                &[
                    "unique_fqdn_set_id",
                    "is_active",
                    "is_single_domain_cert",
                    "not_after",
                ],
                false,
            ),
            index("certificate_signed", &["private_key_id"], false),
            index("certificate_signed", &["spki_sha256"], false),
            index("certificate_signed", &["is_active", "not_after"], false),
            index(
                "certificate_signed_chain",
                &["certificate_ca_chain_id"],
                false,
            ),
            index("acme_order", &["acme_account_id"], false),
            index("acme_order", &["status"], false),
            index(
                "acme_order_authorization",
                &["acme_authorization_id"],
                false,
            ),
            index("acme_challenge", &["acme_authorization_id"], false),
            index("acme_challenge", &["token"], false),
            index("acme_challenge_poll", &["acme_challenge_id"], false),
            index("acme_event_log", &["acme_order_id"], false),
        ];
        for mut ix in indexes {
            m.create_index(ix.if_not_exists().to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "renewal_state",
            "operations_event",
            "acme_event_log",
            "acme_challenge_unknown_poll",
            "acme_challenge_poll",
            "acme_challenge",
            "acme_order_authorization",
            "acme_authorization",
            "acme_order",
            "certificate_ca_preference",
            "certificate_signed_chain",
            "certificate_ca_chain",
            "certificate_ca",
            "certificate_signed",
            "certificate_request",
            "unique_fqdn_set_domain",
            "unique_fqdn_set",
            "domain_blocklisted",
            "domain",
            "private_key",
            "acme_account_key",
            "acme_account",
            "acme_server",
        ] {
            m.drop_table(Table::drop().table(t(name)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Polls are tallied (count, first and last seen) instead of one row per
/// request.
struct M0002PollTallies;

impl MigrationName for M0002PollTallies {
    fn name(&self) -> &str {
        "m0002_poll_tallies"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002PollTallies {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["acme_challenge_poll", "acme_challenge_unknown_poll"] {
            // One column per statement: SQLite alters one at a time.
            if !m.has_column(table, "last_polled_at").await? {
                m.alter_table(
                    Table::alter()
                        .table(t(table))
                        .add_column(timestamp_with_time_zone_null("last_polled_at"))
                        .to_owned(),
                )
                .await?;
            }
            if !m.has_column(table, "poll_count").await? {
                m.alter_table(
                    Table::alter()
                        .table(t(table))
                        .add_column(big_integer("poll_count").default(1))
                        .to_owned(),
                )
                .await?;
            }
        }
        m.create_index(
            index("acme_challenge_unknown_poll", &["last_polled_at"], false)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["acme_challenge_poll", "acme_challenge_unknown_poll"] {
            for column in ["last_polled_at", "poll_count"] {
                m.alter_table(
                    Table::alter()
                        .table(t(table))
                        .drop_column(t(column))
                        .to_owned(),
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// Renewal leases carry a fencing token: a number that grows with every
/// grant, checked by every write the holder makes under the lease.
struct M0003LeaseTokens;

impl MigrationName for M0003LeaseTokens {
    fn name(&self) -> &str {
        "m0003_lease_tokens"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003LeaseTokens {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !m.has_column("renewal_state", "lease_token").await? {
            m.alter_table(
                Table::alter()
                    .table(t("renewal_state"))
                    .add_column(big_integer("lease_token").default(0))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(t("renewal_state"))
                .drop_column(t("lease_token"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// A feed of changes to what domains serve, which every process's
/// config.json cache follows.
struct M0004ConfigChanges;

impl MigrationName for M0004ConfigChanges {
    fn name(&self) -> &str {
        "m0004_config_changes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004ConfigChanges {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(t("config_change"))
                .if_not_exists()
                .col(id())
                .col(string_null("domain_name"))
                .col(timestamp_with_time_zone("changed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("config_change", &["changed_at"], false)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(t("config_change")).to_owned())
            .await?;
        Ok(())
    }
}

/// Every renewal run asks the CA for each certificate's window again: its
/// explanation and the time of the last answer are kept, and the issuing
/// order of a certificate is found by index.
struct M0005AriAnswers;

impl MigrationName for M0005AriAnswers {
    fn name(&self) -> &str {
        "m0005_ari_answers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005AriAnswers {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        if !m
            .has_column("certificate_signed", "ari_explanation_url")
            .await?
        {
            m.alter_table(
                Table::alter()
                    .table(t("certificate_signed"))
                    .add_column(string_null("ari_explanation_url"))
                    .to_owned(),
            )
            .await?;
        }
        if !m.has_column("certificate_signed", "ari_checked_at").await? {
            m.alter_table(
                Table::alter()
                    .table(t("certificate_signed"))
                    .add_column(timestamp_with_time_zone_null("ari_checked_at"))
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            index("acme_order", &["certificate_signed_id"], false)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["ari_explanation_url", "ari_checked_at"] {
            m.alter_table(
                Table::alter()
                    .table(t("certificate_signed"))
                    .drop_column(t(column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// What each ACME server's directory offered when last read: terms,
/// external account binding, profiles, ARI.
struct M0006ServerDirectories;

impl MigrationName for M0006ServerDirectories {
    fn name(&self) -> &str {
        "m0006_server_directories"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0006ServerDirectories {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ("terms_of_service", string_null("terms_of_service")),
            (
                "external_account_required",
                boolean("external_account_required")
                    .default(false)
                    .to_owned(),
            ),
            ("profiles", text_null("profiles")),
            (
                "supports_ari",
                boolean("supports_ari").default(false).to_owned(),
            ),
            (
                "directory_checked_at",
                timestamp_with_time_zone_null("directory_checked_at"),
            ),
        ];
        // One column per statement: SQLite alters one thing at a time.
        for (name, mut column) in columns {
            if !m.has_column("acme_server", name).await? {
                m.alter_table(
                    Table::alter()
                        .table(t("acme_server"))
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            "terms_of_service",
            "external_account_required",
            "profiles",
            "supports_ari",
            "directory_checked_at",
        ] {
            m.alter_table(
                Table::alter()
                    .table(t("acme_server"))
                    .drop_column(t(column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Alerts raised by renewal runs, one row per target, with their tries.
struct M0007AlertDeliveries;

impl MigrationName for M0007AlertDeliveries {
    fn name(&self) -> &str {
        "m0007_alert_deliveries"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0007AlertDeliveries {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(t("alert_delivery"))
                .if_not_exists()
                .col(id())
                .col(string("condition"))
                .col(string("subject"))
                .col(big_integer_null("certificate_signed_id"))
                .col(big_integer_null("acme_account_id"))
                .col(string("target"))
                .col(text("payload"))
                .col(string("status"))
                .col(integer("attempts").default(0))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .to_owned(),
        )
        .await?;
        for mut ix in [
            index(
                "alert_delivery",
                &["subject", "condition", "created_at"],
                false,
            ),
            index("alert_delivery", &["status", "created_at"], false),
        ] {
            m.create_index(ix.if_not_exists().to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(t("alert_delivery")).to_owned())
            .await?;
        Ok(())
    }
}

/// How each domain is validated: http-01 (every existing domain) or dns-01.
struct M0008DomainChallengeTypes;

impl MigrationName for M0008DomainChallengeTypes {
    fn name(&self) -> &str {
        "m0008_domain_challenge_types"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0008DomainChallengeTypes {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !m.has_column("domain", "challenge_type").await? {
            m.alter_table(
                Table::alter()
                    .table(t("domain"))
                    .add_column(string("challenge_type").default("http-01").to_owned())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(t("domain"))
                .drop_column(t("challenge_type"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// peter's own DNS: the delegation label of each `_acme-challenge` name, and
/// the TXT values served under it while a challenge is pending.
struct M0009DnsDelegations;

impl MigrationName for M0009DnsDelegations {
    fn name(&self) -> &str {
        "m0009_dns_delegations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0009DnsDelegations {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(t("dns_delegation"))
                .if_not_exists()
                .col(id())
                .col(string("domain_name"))
                .col(string("label"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("dns_txt_record"))
                .if_not_exists()
                .col(id())
                .col(string("label"))
                .col(string("value"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        for mut ix in [
            index("dns_delegation", &["domain_name"], true),
            index("dns_delegation", &["label"], true),
            index("dns_txt_record", &["label", "value"], true),
        ] {
            m.create_index(ix.if_not_exists().to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["dns_txt_record", "dns_delegation"] {
            m.drop_table(Table::drop().table(t(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// IP-address identifiers (RFC 8738): each domain row records whether its
/// name is a DNS name or an address (every existing row is a DNS name: IP
/// addresses were refused until now), and each ACME server whether peter
/// may send it IP identifiers (off until the operator says so).
struct M0010IpIdentifiers;

impl MigrationName for M0010IpIdentifiers {
    fn name(&self) -> &str {
        "m0010_ip_identifiers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0010IpIdentifiers {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !m.has_column("domain", "identifier_type").await? {
            m.alter_table(
                Table::alter()
                    .table(t("domain"))
                    .add_column(string("identifier_type").default("dns").to_owned())
                    .to_owned(),
            )
            .await?;
        }
        if !m.has_column("acme_server", "ip_identifiers").await? {
            m.alter_table(
                Table::alter()
                    .table(t("acme_server"))
                    .add_column(boolean("ip_identifiers").default(false).to_owned())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("domain", "identifier_type"),
            ("acme_server", "ip_identifiers"),
        ] {
            m.alter_table(
                Table::alter()
                    .table(t(table))
                    .drop_column(t(column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Autocert attempts: the rows its per-name and fleet-wide limits count.
struct M0011DomainAutocerts;

impl MigrationName for M0011DomainAutocerts {
    fn name(&self) -> &str {
        "m0011_domain_autocerts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0011DomainAutocerts {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(t("domain_autocert"))
                .if_not_exists()
                .col(id())
                .col(string("domain_name"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(boolean_null("is_successful"))
                .col(big_integer_null("acme_order_id"))
                .col(text_null("problem"))
                .to_owned(),
        )
        .await?;
        for mut ix in [
            index("domain_autocert", &["created_at"], false),
            index("domain_autocert", &["domain_name", "created_at"], false),
        ] {
            m.create_index(ix.if_not_exists().to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(t("domain_autocert")).to_owned())
            .await?;
        Ok(())
    }
}

/// Renewal configurations: how each set of names is renewed, with an
/// optional backup CA. Every set that an order of peter's certified gets
/// one, from its newest such order (account, key cycle, profile); a set
/// known only from imports gets none until the operator names an account.
struct M0012RenewalConfigurations;

impl MigrationName for M0012RenewalConfigurations {
    fn name(&self) -> &str {
        "m0012_renewal_configurations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0012RenewalConfigurations {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(t("renewal_configuration"))
                .if_not_exists()
                .col(id())
                .col(big_integer("unique_fqdn_set_id"))
                .col(big_integer("acme_account_id"))
                .col(string_null("private_key_technology"))
                .col(string("private_key_cycle"))
                .col(string_null("profile"))
                .col(big_integer_null("backup_acme_account_id"))
                .col(string_null("backup_private_key_technology"))
                .col(string_null("backup_profile"))
                .col(text_null("challenge_types"))
                .col(integer("failover_after").default(3))
                .col(boolean("is_active").default(true))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        let mut ix = index("renewal_configuration", &["unique_fqdn_set_id"], true);
        m.create_index(ix.if_not_exists().to_owned()).await?;
        // An order carries the challenge types its configuration chose.
        if !m.has_column("acme_order", "challenge_types").await? {
            m.alter_table(
                Table::alter()
                    .table(t("acme_order"))
                    .add_column(text_null("challenge_types"))
                    .to_owned(),
            )
            .await?;
        }
        // One configuration per set an order certified, from its newest
        // such order; a replayed migration adds none twice.
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO renewal_configuration \
                   (unique_fqdn_set_id, acme_account_id, private_key_technology, \
                    private_key_cycle, profile, failover_after, is_active, created_at) \
                 SELECT o.unique_fqdn_set_id, o.acme_account_id, NULL, \
                        o.private_key_cycle_renewal, o.profile, 3, TRUE, o.created_at \
                 FROM acme_order o \
                 WHERE o.id = (SELECT MAX(o2.id) FROM acme_order o2 \
                               WHERE o2.unique_fqdn_set_id = o.unique_fqdn_set_id \
                                 AND o2.certificate_signed_id IS NOT NULL) \
                   AND NOT EXISTS (SELECT 1 FROM renewal_configuration r \
                                   WHERE r.unique_fqdn_set_id = o.unique_fqdn_set_id)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(t("renewal_configuration")).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(t("acme_order"))
                .drop_column(t("challenge_types"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
