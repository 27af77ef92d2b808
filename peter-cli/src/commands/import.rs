//! `peter import cert`: records a certificate, its key and chain.

use std::path::PathBuf;

use clap::Subcommand;
use peter_core::app::CertificateUpload;

use super::{CliError, Context, read_text};
use crate::Cli;
use crate::output::{emit, publication_warnings};

/// Import subcommands.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import one certificate with its private key and optional chain (PEM files).
    Cert {
        /// The certificate (PEM).
        #[arg(long)]
        cert: PathBuf,
        /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
        #[arg(long)]
        key: PathBuf,
        /// Its chain (PEM bundle, any order, root optional).
        #[arg(long)]
        chain: Option<PathBuf>,
    },
    /// Import an /etc/letsencrypt tree: its accounts (P-256 only; RSA ones
    /// are reported as skipped) and every certificate version in archive/.
    Certbot {
        /// The certbot directory.
        dir: PathBuf,
    },
}

pub async fn run(cli: &Cli, command: &ImportCommand) -> Result<(), CliError> {
    match command {
        ImportCommand::Certbot { dir } => {
            let ctx = Context::open(cli).await?;
            super::certbot_import::run(&ctx, dir).await
        }
        ImportCommand::Cert { cert, key, chain } => {
            let cert_pem = read_text(cert)?;
            let key_pem = read_text(key)?;
            let chain_pem = chain.as_deref().map(read_text).transpose()?;
            let ctx = Context::open(cli).await?;
            let changed = ctx
                .peter
                .certificates()
                .import(CertificateUpload {
                    certificate_pem: &cert_pem,
                    private_key_pem: &key_pem,
                    chain_pem: chain_pem.as_deref(),
                })
                .await?;
            publication_warnings(&changed.publication);
            let outcome = changed.value;
            emit(ctx.json, &outcome, || {
                format!(
                    "certificate {} ({}){}\nprivate key {} ({})\n",
                    outcome.certificate_signed.id,
                    if outcome.certificate_signed.created {
                        "created"
                    } else {
                        "already known"
                    },
                    if outcome.is_expired { ", expired" } else { "" },
                    outcome.private_key.id,
                    if outcome.private_key.created {
                        "created"
                    } else {
                        "already known"
                    },
                )
            });
            Ok(())
        }
    }
}
