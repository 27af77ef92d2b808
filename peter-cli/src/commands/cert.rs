//! `peter cert`: list, show and mark certificates.

use clap::Subcommand;
use peter_core::model::rules::CertificateMark;
use peter_core::model::{CertificateSigned, CertificateSignedId};
use peter_core::ports::CertificateStore;
use peter_core::ports::{CertificateFilter, Page};
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
    /// Write a certificate, its chain or its key in one of the download formats.
    Download {
        /// Certificate id.
        id: i64,
        /// cert.pem, chain.pem, fullchain.pem, privkey.pem, cert.der, privkey.key, ... (any suffix of the spec's table).
        #[arg(long, default_value = "fullchain.pem")]
        format: String,
        /// Output file (default: stdout). Key files are written with mode 0600.
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
    },
    /// Revoke a certificate with its CA (the ordering account signs), kept
    /// apart from the local `revoked` mark.
    Revoke {
        /// Certificate id.
        id: i64,
        /// unspecified | keyCompromise | superseded | cessationOfOperation
        #[arg(long, default_value = "unspecified")]
        reason: String,
        /// Account to sign with (default: the one that ordered it).
        #[arg(long)]
        account: Option<i64>,
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
        CertCommand::Download { id, format, output } => {
            let file = peter_core::services::downloads::certificate_download(
                ctx.store.as_ref(),
                CertificateSignedId(*id),
                format,
                None,
            )
            .await?;
            match output {
                Some(path) => {
                    use std::io::Write;
                    use std::os::unix::fs::OpenOptionsExt;
                    let mode = if file.is_private { 0o600 } else { 0o644 };
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .mode(mode)
                        .open(path)
                        .map_err(|e| CliError::io(path, e))?;
                    f.write_all(&file.body).map_err(|e| CliError::io(path, e))?;
                    emit(
                        ctx.json,
                        &serde_json::json!({"result": "success", "file": path, "bytes": file.body.len()}),
                        || format!("wrote {} ({} bytes)", path.display(), file.body.len()),
                    );
                }
                None => {
                    use std::io::Write;
                    std::io::stdout()
                        .write_all(&file.body)
                        .map_err(|e| CliError::io(std::path::Path::new("stdout"), e))?;
                }
            }
        }
        CertCommand::Revoke {
            id,
            reason,
            account,
        } => {
            let reason: peter_core::ports::RevocationReason =
                reason.parse().map_err(peter_core::Error::from)?;
            let acme = ctx.acme();
            let orders = peter_core::services::orders::Orders {
                store: ctx.store.as_ref(),
                acme: acme.as_ref(),
                clock: ctx.clock.as_ref(),
                settings: Default::default(),
            };
            let cert = orders
                .revoke_upstream(
                    CertificateSignedId(*id),
                    reason,
                    account.map(peter_core::model::AcmeAccountId),
                )
                .await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "CertificateSigned": cert}),
                || format!("certificate {} revoked upstream", cert.id),
            );
        }
        CertCommand::Mark { id, mark } => {
            let mark: CertificateMark = mark.parse().map_err(peter_core::Error::from)?;
            let cert = ctx
                .store
                .mark_certificate_signed(CertificateSignedId(*id), mark)
                .await?;
            ctx.after_certificate_change(&[cert.id]).await;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "CertificateSigned": cert}),
                || line(&cert),
            );
        }
    }
    Ok(())
}
