//! `peter cert`: list, show and mark certificates.

use clap::Subcommand;
use peter_core::model::rules::CertificateMark;
use peter_core::model::{CertificateSigned, CertificateSignedId};
use peter_core::ports::{CertificateFilter, Page, Store};
use serde::Serialize;
use time::Duration;

use super::{CliError, Context};
use crate::Cli;
use crate::output::emit;

/// Certificate subcommands.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// List certificates, newest first.
    List {
        /// Only active certificates expiring within this many days.
        #[arg(long, conflicts_with = "inactive")]
        expiring: Option<i64>,
        /// Only inactive certificates.
        #[arg(long)]
        inactive: bool,
        /// Page number (from 1).
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Items per page.
        #[arg(long, default_value_t = 50)]
        per_page: u64,
    },
    /// Show one certificate.
    Show {
        /// Certificate id.
        id: i64,
    },
    /// Mark a certificate active, inactive or revoked (revoked is permanent).
    Mark {
        /// Certificate id.
        id: i64,
        /// active | inactive | revoked
        mark: String,
    },
}

#[derive(Serialize)]
struct CertList {
    #[serde(rename = "CertificateSigneds")]
    items: Vec<CertificateSigned>,
    total_items: u64,
    page: u64,
    per_page: u64,
    page_next: Option<u64>,
}

fn line(c: &CertificateSigned) -> String {
    format!(
        "{:>6}  {}  {}  {}",
        c.id,
        if c.is_active {
            "active  "
        } else if c.is_revoked {
            "revoked "
        } else {
            "inactive"
        },
        c.not_after.date(),
        c.cert_subject
    )
}

pub async fn run(cli: &Cli, command: &CertCommand) -> Result<(), CliError> {
    let ctx = Context::open(cli).await?;
    match command {
        CertCommand::List {
            expiring,
            inactive,
            page,
            per_page,
        } => {
            let filter = match (expiring, inactive) {
                (Some(days), _) => {
                    CertificateFilter::ExpiringBefore(ctx.clock.now() + Duration::days(*days))
                }
                (None, true) => CertificateFilter::Inactive,
                (None, false) => CertificateFilter::All,
            };
            let paged = ctx
                .store
                .list_certificates_signed(filter, Page::new(*page, *per_page))
                .await?;
            let out = CertList {
                total_items: paged.total_items,
                page: paged.page.page,
                per_page: paged.page.per_page,
                page_next: paged.page_next(),
                items: paged.items,
            };
            emit(ctx.json, &out, || {
                out.items.iter().map(|c| line(c) + "\n").collect()
            });
        }
        CertCommand::Show { id } => {
            let cert = ctx
                .store
                .certificate_signed(CertificateSignedId(*id))
                .await?;
            emit(
                ctx.json,
                &serde_json::json!({"CertificateSigned": cert}),
                || {
                    format!(
                        "{}\nissuer: {}\nnot after: {}\nfingerprint sha1: {}\n",
                        line(&cert),
                        cert.cert_issuer,
                        cert.not_after,
                        cert.fingerprint_sha1
                    )
                },
            );
        }
        CertCommand::Mark { id, mark } => {
            let mark: CertificateMark = mark.parse().map_err(peter_core::Error::from)?;
            let cert = ctx
                .store
                .mark_certificate_signed(CertificateSignedId(*id), mark)
                .await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "CertificateSigned": cert}),
                || line(&cert),
            );
        }
    }
    Ok(())
}
