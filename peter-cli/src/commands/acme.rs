//! `peter acme-server` and `peter account`.

use peter_core::ports::AccountStore;
use std::path::PathBuf;

use clap::Subcommand;
use peter_core::formats::ParsedPrivateKey;
use peter_core::model::{AcmeAccountId, AcmeServerId, NewAcmeServer, PrivateKeyCycle};
use peter_core::ports::Page;
use peter_core::services::accounts::{AccountRequest, create_account};

use super::{CliError, Context, read_text};
use crate::Cli;
use crate::output::emit;

/// ACME server subcommands.
#[derive(Debug, Subcommand)]
pub enum AcmeServerCommand {
    /// Register an ACME server (a CA's directory).
    Add {
        /// Short unique name.
        name: String,
        /// Directory URL.
        #[arg(long)]
        directory: String,
        /// PEM bundle to trust for this server's TLS instead of the public roots.
        #[arg(long)]
        ca_bundle: Option<PathBuf>,
        /// Make it the default server.
        #[arg(long)]
        default: bool,
    },
    /// List ACME servers.
    List,
}

/// Account subcommands.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account (EC P-256 key, terms agreed) on an ACME server.
    New {
        /// Contact e-mail.
        #[arg(long)]
        contact: Option<String>,
        /// ACME server id (default: the default server).
        #[arg(long)]
        server: Option<i64>,
        /// Register this P-256 key (PEM) instead of a new one.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Key cycle for its certificates.
        #[arg(long, default_value = "single_use")]
        key_cycle: String,
        /// Make it the global default account.
        #[arg(long)]
        global_default: bool,
    },
    /// Record an account that exists upstream: from a P-256 key PEM or a
    /// certbot account directory (meta.json, private_key.json, regr.json).
    Import {
        /// The account key (PEM).
        #[arg(long, conflicts_with = "certbot", required_unless_present = "certbot")]
        key: Option<PathBuf>,
        /// A certbot account directory.
        #[arg(long)]
        certbot: Option<PathBuf>,
        /// ACME server id (default: the default server).
        #[arg(long)]
        server: Option<i64>,
    },
    /// Ask the server whether it knows the account (onlyReturnExisting).
    Check {
        /// Account id.
        id: i64,
    },
    /// Deactivate the account upstream (permanent).
    Deactivate {
        /// Account id.
        id: i64,
    },
    /// Roll the account over to a new key.
    KeyChange {
        /// Account id.
        id: i64,
    },
    /// List accounts.
    List,
    /// Show one account.
    Show {
        /// Account id.
        id: i64,
    },
}

pub async fn run_server(cli: &Cli, command: &AcmeServerCommand) -> Result<(), CliError> {
    match command {
        AcmeServerCommand::Add {
            name,
            directory,
            ca_bundle,
            default,
        } => {
            let bundle = ca_bundle.as_deref().map(read_text).transpose()?;
            let ctx = Context::open(cli).await?;
            let server = peter_core::services::accounts::add_acme_server(
                ctx.store.as_ref(),
                NewAcmeServer {
                    name: name.clone(),
                    directory_url: directory.clone(),
                    ca_bundle_pem: bundle,
                    is_default: *default,
                },
            )
            .await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "AcmeServer": server}),
                || {
                    format!(
                        "acme server {} `{}` {}{}",
                        server.id,
                        server.name,
                        server.directory_url,
                        if server.is_default { " (default)" } else { "" }
                    )
                },
            );
        }
        AcmeServerCommand::List => {
            let ctx = Context::open(cli).await?;
            let servers = ctx.store.list_acme_servers().await?;
            emit(
                ctx.json,
                &serde_json::json!({"AcmeServers": servers}),
                || {
                    servers
                        .iter()
                        .map(|s| {
                            format!(
                                "{:>4}  {:<20} {}{}\n",
                                s.id,
                                s.name,
                                s.directory_url,
                                if s.is_default { "  (default)" } else { "" }
                            )
                        })
                        .collect()
                },
            );
        }
    }
    Ok(())
}

pub async fn run_account(cli: &Cli, command: &AccountCommand) -> Result<(), CliError> {
    match command {
        AccountCommand::New {
            contact,
            server,
            key,
            key_cycle,
            global_default,
        } => {
            let cycle: PrivateKeyCycle = key_cycle.parse().map_err(peter_core::Error::from)?;
            let key = match key {
                Some(path) => Some(
                    ParsedPrivateKey::from_pem(&read_text(path)?)
                        .map_err(peter_core::Error::from)?,
                ),
                None => None,
            };
            let ctx = Context::open(cli).await?;
            let acme = ctx.acme();
            let account = create_account(
                ctx.store.as_ref(),
                acme.as_ref(),
                AccountRequest {
                    acme_server_id: server.map(AcmeServerId),
                    contact: contact.clone(),
                    key,
                    private_key_cycle: cycle,
                    global_default: *global_default,
                    ..Default::default()
                },
            )
            .await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "AcmeAccount": account}),
                || {
                    format!(
                        "account {} {}",
                        account.id,
                        account.account_url.clone().unwrap_or_default()
                    )
                },
            );
        }
        AccountCommand::Import {
            key,
            certbot,
            server,
        } => {
            let (parsed, contact) = match (key, certbot) {
                (Some(path), _) => (
                    ParsedPrivateKey::from_pem(&read_text(path)?)
                        .map_err(peter_core::Error::from)?,
                    None,
                ),
                (None, Some(dir)) => {
                    let jwk = read_text(&dir.join("private_key.json"))?;
                    read_text(&dir.join("regr.json"))?;
                    read_text(&dir.join("meta.json"))?;
                    let regr: serde_json::Value =
                        serde_json::from_str(&read_text(&dir.join("regr.json"))?).map_err(|e| {
                            CliError::Usage(format!("{}: {e}", dir.join("regr.json").display()))
                        })?;
                    let contact = regr["body"]["contact"][0]
                        .as_str()
                        .map(|c| c.trim_start_matches("mailto:").to_string());
                    (
                        peter_core::formats::private_key_from_jwk(&jwk)
                            .map_err(peter_core::Error::from)?,
                        contact,
                    )
                }
                (None, None) => {
                    return Err(CliError::Usage("give --key FILE or --certbot DIR".into()));
                }
            };
            let ctx = Context::open(cli).await?;
            let acme = ctx.acme();
            let account = peter_core::services::accounts::import_account(
                ctx.store.as_ref(),
                acme.as_ref(),
                server.map(AcmeServerId),
                parsed,
                contact,
            )
            .await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "AcmeAccount": account}),
                || {
                    format!(
                        "account {} imported: {}",
                        account.id,
                        account.account_url.clone().unwrap_or_default()
                    )
                },
            );
        }
        AccountCommand::Check { id } => {
            let ctx = Context::open(cli).await?;
            let acme = ctx.acme();
            let exists = peter_core::services::accounts::check_account(
                ctx.store.as_ref(),
                acme.as_ref(),
                AcmeAccountId(*id),
            )
            .await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "exists_upstream": exists}),
                || {
                    format!(
                        "account {id}: {}",
                        if exists {
                            "known to the server"
                        } else {
                            "unknown to the server"
                        }
                    )
                },
            );
        }
        AccountCommand::Deactivate { id } => {
            let ctx = Context::open(cli).await?;
            let acme = ctx.acme();
            let a = peter_core::services::accounts::deactivate_account(
                ctx.store.as_ref(),
                acme.as_ref(),
                AcmeAccountId(*id),
            )
            .await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "AcmeAccount": a}),
                || format!("account {} deactivated", a.id),
            );
        }
        AccountCommand::KeyChange { id } => {
            let ctx = Context::open(cli).await?;
            let acme = ctx.acme();
            let a = peter_core::services::accounts::change_account_key(
                ctx.store.as_ref(),
                acme.as_ref(),
                AcmeAccountId(*id),
            )
            .await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "AcmeAccount": a}),
                || format!("account {} now signs with key {}", a.id, a.key.spki_sha256),
            );
        }
        AccountCommand::List => {
            let ctx = Context::open(cli).await?;
            let page = ctx.store.list_acme_accounts(Page::new(1, 1000)).await?;
            emit(
                ctx.json,
                &serde_json::json!({"AcmeAccounts": page.items}),
                || {
                    page.items
                        .iter()
                        .map(|a| {
                            format!(
                                "{:>4}  server {}  {}{}\n",
                                a.id,
                                a.acme_server_id,
                                a.contact.clone().unwrap_or_default(),
                                if a.is_global_default {
                                    "  (global default)"
                                } else {
                                    ""
                                }
                            )
                        })
                        .collect()
                },
            );
        }
        AccountCommand::Show { id } => {
            let ctx = Context::open(cli).await?;
            let a = ctx.store.acme_account(AcmeAccountId(*id)).await?;
            emit(ctx.json, &serde_json::json!({"AcmeAccount": a}), || {
                format!(
                    "account {} on server {}: {}",
                    a.id,
                    a.acme_server_id,
                    a.account_url.clone().unwrap_or_default()
                )
            });
        }
    }
    Ok(())
}
