//! `peter cert`: list, show, mark, revoke and download certificates.

use clap::Subcommand;
use peter_core::model::rules::CertificateMark;
use peter_core::model::{AcmeAccountId, CertificateFile, CertificateSigned, CertificateSignedId};
use peter_core::ports::{CertificateFilter, CertificateStatus, Page, RevocationReason};
use peter_http::views::{CertificateAnswer, CertificatesList};

use super::{CliError, Context};
use crate::Cli;
use crate::output::{emit, emit_view, publication_warnings};
use crate::values::closed;

/// Certificate subcommands.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// List certificates, newest first, with their names, status and days left.
    List {
        /// Only active certificates expiring within this many days.
        #[arg(long, conflicts_with = "inactive")]
        expiring: Option<i64>,
        /// Only inactive certificates.
        #[arg(long)]
        inactive: bool,
        /// Only certificates in this status.
        #[arg(long, value_parser = closed::<CertificateStatus>())]
        status: Option<CertificateStatus>,
        /// Only certificates covering this domain.
        #[arg(long)]
        domain: Option<String>,
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
        /// Which file (the spec's download table).
        #[arg(long, default_value = "fullchain.pem", value_parser = closed::<CertificateFile>())]
        format: CertificateFile,
        /// Output file (default: stdout). Key files are written with mode 0600.
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
    },
    /// Revoke a certificate with its CA (the ordering account signs); it is
    /// marked revoked here too and never served again.
    Revoke {
        /// Certificate id.
        id: i64,
        /// Why.
        #[arg(long, default_value = "unspecified", value_parser = closed::<RevocationReason>())]
        reason: RevocationReason,
        /// Account to sign with (default: the one that ordered it).
        #[arg(long)]
        account: Option<i64>,
    },
    /// Mark inactive every expired certificate that no domain is still
    /// served with.
    DeactivateExpired,
    /// Mark a certificate active, inactive or revoked (revoked is permanent
    /// and local: nothing is sent to the CA).
    Mark {
        /// Certificate id.
        id: i64,
        /// The mark.
        #[arg(value_parser = closed::<CertificateMark>())]
        mark: CertificateMark,
    },
}

/// One line per certificate, as certbot's `certificates` shows them:
/// id, status, days left, expiry and names.
fn line(ctx: &Context, c: &CertificateSigned, names: &[String]) -> String {
    let now = ctx.peter.now();
    let status = ctx.peter.certificates().status(c);
    let days = (c.not_after - now).whole_days();
    format!(
        "{:>6}  {:<8}  {:>5}  {}  {}",
        c.id,
        status.to_string(),
        if status == CertificateStatus::Expired {
            "-".to_string()
        } else {
            format!("{days}d")
        },
        c.not_after.date(),
        names.join(",")
    )
}

pub async fn run(cli: &Cli, command: &CertCommand) -> Result<(), CliError> {
    let ctx = Context::open(cli).await?;
    let certs = ctx.peter.certificates();
    match command {
        CertCommand::List {
            expiring,
            inactive,
            status,
            domain,
            page,
            per_page,
        } => {
            let mut filter = match (expiring, inactive) {
                (Some(days), _) => CertificateFilter::expiring_within(ctx.peter.now(), *days)?,
                (None, true) => CertificateFilter::inactive(),
                (None, false) => CertificateFilter::all(),
            };
            filter.status = *status;
            let paged = certs
                .list_covering(filter, domain.as_deref(), Page::new(*page, *per_page))
                .await?;
            emit_view(ctx.json, &CertificatesList::of(&paged), || {
                paged
                    .items
                    .iter()
                    .map(|s| line(&ctx, &s.certificate, &s.domain_names) + "\n")
                    .collect()
            });
        }
        CertCommand::Show { id } => {
            let cert = certs.get(CertificateSignedId(*id)).await?;
            let names = certs.names(cert.id).await?;
            emit_view(ctx.json, &CertificateAnswer::of(&cert), || {
                format!(
                    "{}\nissuer: {}\nnot after: {}\nfingerprint sha1: {}\n",
                    line(&ctx, &cert, &names),
                    cert.cert_issuer,
                    cert.not_after,
                    cert.fingerprint_sha1
                )
            });
        }
        CertCommand::Download { id, format, output } => {
            let file = certs
                .download(CertificateSignedId(*id), *format, None)
                .await?;
            match output {
                Some(path) => {
                    crate::output::write_file(path, &file.body, file.is_private())?;
                    emit(
                        ctx.json,
                        &serde_json::json!({"result": "success", "file": path, "bytes": file.body.len()}),
                        || format!("wrote {} ({} bytes)", path.display(), file.body.len()),
                    );
                }
                None => crate::output::write_stdout(&file.body),
            }
        }
        CertCommand::Revoke {
            id,
            reason,
            account,
        } => {
            let changed = certs
                .revoke(
                    CertificateSignedId(*id),
                    *reason,
                    account.map(AcmeAccountId),
                )
                .await?;
            publication_warnings(&changed.publication);
            emit_view(ctx.json, &CertificateAnswer::of(&changed.value), || {
                format!("certificate {} revoked upstream", changed.value.id)
            });
        }
        CertCommand::DeactivateExpired => {
            let changed = certs.deactivate_expired().await?;
            publication_warnings(&changed.publication);
            let ids: Vec<i64> = changed.value.iter().map(|c| c.0).collect();
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "CertificateSigned": {"expired": ids.len()}, "certificate_signed_ids": ids}),
                || format!("{} expired certificates marked inactive", ids.len()),
            );
        }
        CertCommand::Mark { id, mark } => {
            let changed = certs.mark(CertificateSignedId(*id), *mark).await?;
            publication_warnings(&changed.publication);
            let names = certs.names(changed.value.id).await?;
            emit_view(ctx.json, &CertificateAnswer::of(&changed.value), || {
                line(&ctx, &changed.value, &names)
            });
        }
    }
    Ok(())
}
