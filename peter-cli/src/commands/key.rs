//! `peter key`: list, show, generate and mark private keys.

use clap::Subcommand;
use peter_core::model::rules::PrivateKeyMark;
use peter_core::model::{KeyTechnology, PrivateKey, PrivateKeyId};
use peter_core::ports::Page;
use peter_http::views::{PrivateKeyAnswer, PrivateKeyView, PrivateKeysList, render};

use super::{CliError, Context};
use crate::Cli;
use crate::output::{emit, emit_view, publication_warnings};
use crate::values::closed;

/// Private key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// List keys.
    List {
        /// Page number (from 1).
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Items per page.
        #[arg(long, default_value_t = 50)]
        per_page: u64,
    },
    /// Show one key (never its PEM: `cert download --format privkey.pem` writes it).
    Show {
        /// Key id.
        id: i64,
    },
    /// Generate and record a key.
    New {
        /// Its technology.
        #[arg(long, default_value = "EC_P256", value_parser = closed::<KeyTechnology>())]
        technology: KeyTechnology,
    },
    /// Mark a key active, inactive or compromised. Compromised is permanent:
    /// its certificates leave service and those peter ordered are revoked at
    /// their CA with reason keyCompromise.
    Mark {
        /// Key id.
        id: i64,
        /// The mark.
        #[arg(value_parser = closed::<PrivateKeyMark>())]
        mark: PrivateKeyMark,
    },
}

fn line(k: &PrivateKey) -> String {
    format!(
        "{:>6}  {:<8}  {}  {}",
        k.id,
        k.key_technology.to_string(),
        if k.is_compromised {
            "compromised"
        } else if k.is_active {
            "active"
        } else {
            "inactive"
        },
        k.spki_sha256
    )
}

pub async fn run(cli: &Cli, command: &KeyCommand) -> Result<(), CliError> {
    let ctx = Context::open(cli).await?;
    let keys = ctx.peter.private_keys();
    match command {
        KeyCommand::List { page, per_page } => {
            let paged = keys.list(Page::new(*page, *per_page)).await?;
            emit_view(ctx.json, &PrivateKeysList::of(&paged), || {
                paged.items.iter().map(|k| line(k) + "\n").collect()
            });
        }
        KeyCommand::Show { id } => {
            let key = keys.get(PrivateKeyId(*id)).await?;
            emit_view(ctx.json, &PrivateKeyAnswer::of(&key), || line(&key));
        }
        KeyCommand::New { technology } => {
            let created = keys.generate(*technology).await?;
            emit_view(ctx.json, &PrivateKeyAnswer::of(&created.id), || {
                line(&created.id)
            });
        }
        KeyCommand::Mark { id, mark } => {
            let changed = keys.mark(PrivateKeyId(*id), *mark).await?;
            publication_warnings(&changed.publication);
            let marked = changed.value;
            emit(
                ctx.json,
                &serde_json::json!({
                    "result": "success",
                    "PrivateKey": render(&PrivateKeyView::from(&marked.private_key)),
                    "revoked_certificate_signed_ids": marked.revoked_certificates.iter().map(|c| c.0).collect::<Vec<_>>(),
                }),
                || line(&marked.private_key),
            );
        }
    }
    Ok(())
}
