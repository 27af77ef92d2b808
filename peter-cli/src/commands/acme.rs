//! `peter acme-server` and `peter account`.

use std::path::PathBuf;

use clap::Subcommand;
use peter_core::app::{AccountEdit, AccountRequest, DIRECTORY_SHORTCUTS, ServerEdit};
use peter_core::formats::ParsedPrivateKey;
use peter_core::model::rules::AccountMark;
use peter_core::model::{AcmeAccountId, KeyTechnology, NewAcmeServer, PrivateKeyCycle};
use peter_core::ports::Page;
use peter_http::views::{AcmeAccountAnswer, AcmeAccountsList, AcmeServerAnswer, AcmeServersList};

use super::{CliError, Context, read_text};
use crate::Cli;
use crate::output::{emit, emit_view};
use crate::values::closed;

/// ACME server subcommands.
#[derive(Debug, Subcommand)]
pub enum AcmeServerCommand {
    /// Register an ACME directory: it is read at once, and what it offers
    /// (terms, external account binding, profiles, ARI) is recorded.
    Add {
        /// Short unique name (not all digits).
        name: String,
        /// Directory URL, or a public CA's shortcut: letsencrypt,
        /// letsencrypt-staging, zerossl, google, google-staging, buypass,
        /// buypass-staging (default: the name, when it is a shortcut).
        #[arg(long)]
        directory: Option<String>,
        /// PEM bundle to trust for the server's TLS (test CAs such as Pebble).
        #[arg(long)]
        ca_bundle: Option<PathBuf>,
        /// Make it the default server.
        #[arg(long)]
        default: bool,
        /// Let orders name IP addresses (RFC 8738): no directory field says
        /// whether a CA takes them, so it is off unless given.
        #[arg(long)]
        ip_identifiers: bool,
    },
    /// List ACME servers.
    List,
    /// Show one server (by id or name).
    Show {
        /// Server id or name.
        server: String,
    },
    /// Rename a server, change the CA bundle trusted for its TLS, or let
    /// orders name IP addresses.
    Edit {
        /// Server id or name.
        server: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New PEM bundle to trust (tried against the directory first).
        #[arg(long, conflicts_with = "public_roots")]
        ca_bundle: Option<PathBuf>,
        /// Drop the CA bundle: trust the public roots again.
        #[arg(long)]
        public_roots: bool,
        /// Whether orders may name IP addresses (RFC 8738): true or false.
        #[arg(long)]
        ip_identifiers: Option<bool>,
    },
    /// Read the directory again and record what it offers.
    Check {
        /// Server id or name.
        server: String,
    },
    /// Make a server the default.
    SetDefault {
        /// Server id or name.
        server: String,
    },
    /// Remove a server no account uses.
    Remove {
        /// Server id or name.
        server: String,
    },
}

/// Account subcommands.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account (a new EC P-256 key unless --key or
    /// --account-key-technology) and register it.
    New {
        /// Contact e-mail.
        #[arg(long)]
        contact: Option<String>,
        /// Server id or name (default: the default server).
        #[arg(long)]
        server: Option<String>,
        /// Register this PEM key (EC P-256 or RSA) instead of generating one.
        #[arg(long, conflicts_with = "account_key_technology")]
        key: Option<PathBuf>,
        /// The technology of the account key generated: EC_P256 (default)
        /// or RSA_2048, RSA_3072, RSA_4096 (signed RS256).
        #[arg(long, value_parser = closed::<KeyTechnology>())]
        account_key_technology: Option<KeyTechnology>,
        /// Key cycle for certificates this account orders.
        #[arg(long, default_value = "single_use", value_parser = closed::<PrivateKeyCycle>())]
        key_cycle: PrivateKeyCycle,
        /// Make it the global default account.
        #[arg(long)]
        global_default: bool,
        /// External account binding: the key id the CA issued (ZeroSSL,
        /// Google Trust Services and others require one).
        #[arg(long, requires = "eab_hmac_key")]
        eab_kid: Option<String>,
        /// External account binding: the HMAC key the CA issued, base64url.
        /// Prefer the environment variable: a command line is visible to
        /// other users of the machine.
        #[arg(
            long,
            env = "PETER_EAB_HMAC_KEY",
            hide_env_values = true,
            requires = "eab_kid"
        )]
        eab_hmac_key: Option<String>,
    },
    /// Record an account that already exists upstream (nothing new is
    /// registered): from a PEM key, or a certbot account directory.
    Import {
        /// The account key, PEM.
        #[arg(long, conflicts_with = "certbot", required_unless_present = "certbot")]
        key: Option<PathBuf>,
        /// A certbot account directory (private_key.json, regr.json, meta.json).
        #[arg(long)]
        certbot: Option<PathBuf>,
        /// Server id or name (default: the default server).
        #[arg(long)]
        server: Option<String>,
    },
    /// Ask the server whether it knows the account.
    Check {
        /// Account id.
        id: i64,
    },
    /// Deactivate the account at its server (permanent).
    Deactivate {
        /// Account id.
        id: i64,
    },
    /// Roll the account over to a new key, of the same technology unless
    /// --key-technology names another (EC P-256 and RSA, both ways).
    KeyChange {
        /// Account id.
        id: i64,
        /// The new key's technology: EC_P256, RSA_2048, RSA_3072 or RSA_4096.
        #[arg(long, value_parser = closed::<KeyTechnology>())]
        key_technology: Option<KeyTechnology>,
    },
    /// Mark an account: global_default, or locally active / inactive (an
    /// inactive account places no orders; the CA is not told).
    Mark {
        /// Account id.
        id: i64,
        /// The mark.
        #[arg(value_parser = closed::<AccountMark>())]
        mark: AccountMark,
    },
    /// Change an account's contact (told to its CA; "" removes it) or the
    /// key policy of the certificates it orders.
    Edit {
        /// Account id.
        id: i64,
        /// New contact e-mail.
        #[arg(long)]
        contact: Option<String>,
        /// Key technology for certificates it orders.
        #[arg(long, value_parser = closed::<KeyTechnology>())]
        key_technology: Option<KeyTechnology>,
        /// Key cycle for certificates it orders.
        #[arg(long, value_parser = closed::<PrivateKeyCycle>())]
        key_cycle: Option<PrivateKeyCycle>,
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
            ip_identifiers,
        } => {
            let bundle = ca_bundle.as_deref().map(read_text).transpose()?;
            let directory = match directory {
                Some(d) => d.clone(),
                None if DIRECTORY_SHORTCUTS.iter().any(|(n, _)| n == name) => name.clone(),
                None => {
                    return Err(CliError::Usage(format!(
                        "give --directory URL (or a shortcut: {})",
                        DIRECTORY_SHORTCUTS
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            };
            let ctx = Context::open(cli).await?;
            let server = ctx
                .peter
                .acme_servers()
                .add(NewAcmeServer {
                    name: name.clone(),
                    directory_url: directory,
                    ca_bundle_pem: bundle,
                    is_default: *default,
                    ip_identifiers: *ip_identifiers,
                })
                .await?;
            emit_view(ctx.json, &AcmeServerAnswer::of(&server), || {
                server_text(&server)
            });
        }
        AcmeServerCommand::Show { server } => {
            let ctx = Context::open(cli).await?;
            let server = ctx.peter.acme_servers().find(server).await?;
            emit_view(ctx.json, &AcmeServerAnswer::of(&server), || {
                server_text(&server)
            });
        }
        AcmeServerCommand::Edit {
            server,
            name,
            ca_bundle,
            public_roots,
            ip_identifiers,
        } => {
            let bundle = ca_bundle.as_deref().map(read_text).transpose()?;
            let ctx = Context::open(cli).await?;
            let servers = ctx.peter.acme_servers();
            let found = servers.find(server).await?;
            let edit = ServerEdit {
                name: name.clone(),
                ca_bundle_pem: match (bundle, *public_roots) {
                    (Some(pem), _) => Some(Some(pem)),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
                ip_identifiers: *ip_identifiers,
            };
            let edited = servers.edit(found.id, edit).await?;
            emit_view(ctx.json, &AcmeServerAnswer::of(&edited), || {
                server_text(&edited)
            });
        }
        AcmeServerCommand::Check { server } => {
            let ctx = Context::open(cli).await?;
            let servers = ctx.peter.acme_servers();
            let found = servers.find(server).await?;
            let checked = servers.check(found.id).await?;
            emit_view(ctx.json, &AcmeServerAnswer::of(&checked), || {
                server_text(&checked)
            });
        }
        AcmeServerCommand::SetDefault { server } => {
            let ctx = Context::open(cli).await?;
            let servers = ctx.peter.acme_servers();
            let found = servers.find(server).await?;
            let server = servers.set_default(found.id).await?;
            emit_view(ctx.json, &AcmeServerAnswer::of(&server), || {
                server_text(&server)
            });
        }
        AcmeServerCommand::Remove { server } => {
            let ctx = Context::open(cli).await?;
            let servers = ctx.peter.acme_servers();
            let found = servers.find(server).await?;
            servers.remove(found.id).await?;
            emit_view(ctx.json, &AcmeServerAnswer::of(&found), || {
                format!("acme server {} `{}` removed", found.id, found.name)
            });
        }
        AcmeServerCommand::List => {
            let ctx = Context::open(cli).await?;
            let servers = ctx.peter.acme_servers().list().await?;
            emit_view(ctx.json, &AcmeServersList::whole(&servers), || {
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
            });
        }
    }
    Ok(())
}

/// One account for people: id, server, state, contact, key policy.
fn account_text(a: &peter_core::model::AcmeAccount) -> String {
    format!(
        "account {} on server {}: {}{}, contact {}, keys {} ({})",
        a.id,
        a.acme_server_id,
        if a.deactivated_at.is_some() {
            "deactivated at the CA"
        } else if a.is_active {
            "active"
        } else {
            "inactive (marked locally)"
        },
        if a.is_global_default {
            ", global default"
        } else {
            ""
        },
        a.contact.as_deref().unwrap_or("none"),
        a.private_key_technology,
        a.private_key_cycle
    )
}

/// One server for people: id, name, URL, default mark, and what its
/// directory offered when last read.
fn server_text(server: &peter_core::model::AcmeServer) -> String {
    let mut text = format!(
        "acme server {} `{}` {}{}",
        server.id,
        server.name,
        server.directory_url,
        if server.is_default { " (default)" } else { "" }
    );
    text.push_str(&format!(
        "\n  IP identifiers: {}",
        if server.ip_identifiers {
            "allowed"
        } else {
            "not allowed"
        }
    ));
    if let Some(d) = &server.directory {
        text.push_str(&format!(
            "\n  external account binding: {}\n  renewal information (ARI): {}\n  profiles: {}\n  terms: {}\n  directory read: {}",
            if d.external_account_required { "required" } else { "not required" },
            if d.supports_ari { "offered" } else { "not offered" },
            if d.profiles.is_empty() { "none".to_string() } else { d.profiles.join(", ") },
            d.terms_of_service.as_deref().unwrap_or("none"),
            d.checked_at
        ));
    }
    text
}

fn certbot_account(dir: &std::path::Path) -> Result<(ParsedPrivateKey, Option<String>), CliError> {
    let jwk = read_text(&dir.join("private_key.json"))?;
    read_text(&dir.join("meta.json"))?;
    let regr: serde_json::Value = serde_json::from_str(&read_text(&dir.join("regr.json"))?)
        .map_err(|e| CliError::Usage(format!("{}: {e}", dir.join("regr.json").display())))?;
    let contact = regr["body"]["contact"][0]
        .as_str()
        .map(|c| c.trim_start_matches("mailto:").to_string());
    let key = peter_core::formats::private_key_from_jwk(&jwk).map_err(peter_core::Error::from)?;
    Ok((key, contact))
}

pub async fn run_account(cli: &Cli, command: &AccountCommand) -> Result<(), CliError> {
    match command {
        AccountCommand::New {
            contact,
            server,
            key,
            account_key_technology,
            key_cycle,
            global_default,
            eab_kid,
            eab_hmac_key,
        } => {
            let external_account = match (eab_kid, eab_hmac_key) {
                (Some(kid), Some(hmac)) => Some(
                    peter_core::ports::ExternalAccountBinding::parse(kid, hmac)
                        .map_err(CliError::from)?,
                ),
                _ => None,
            };
            let key = match key {
                Some(path) => Some(
                    ParsedPrivateKey::from_pem(&read_text(path)?)
                        .map_err(peter_core::Error::from)?,
                ),
                None => None,
            };
            let ctx = Context::open(cli).await?;
            let acme_server_id = match server {
                Some(s) => Some(ctx.peter.acme_servers().find(s).await?.id),
                None => None,
            };
            let account = ctx
                .peter
                .accounts()
                .create(AccountRequest {
                    acme_server_id,
                    contact: contact.clone(),
                    key,
                    account_key_technology: account_key_technology.unwrap_or_default(),
                    private_key_cycle: *key_cycle,
                    global_default: *global_default,
                    external_account,
                    ..Default::default()
                })
                .await?;
            emit_view(ctx.json, &AcmeAccountAnswer::of(&account), || {
                format!(
                    "account {} {}",
                    account.id,
                    account.account_url.clone().unwrap_or_default()
                )
            });
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
                (None, Some(dir)) => certbot_account(dir)?,
                (None, None) => {
                    return Err(CliError::Usage("give --key FILE or --certbot DIR".into()));
                }
            };
            let ctx = Context::open(cli).await?;
            let acme_server_id = match server {
                Some(s) => Some(ctx.peter.acme_servers().find(s).await?.id),
                None => None,
            };
            let account = ctx
                .peter
                .accounts()
                .import(acme_server_id, parsed, contact)
                .await?;
            emit_view(ctx.json, &AcmeAccountAnswer::of(&account), || {
                format!(
                    "account {} imported: {}",
                    account.id,
                    account.account_url.clone().unwrap_or_default()
                )
            });
        }
        AccountCommand::Check { id } => {
            let ctx = Context::open(cli).await?;
            let exists = ctx.peter.accounts().check(AcmeAccountId(*id)).await?;
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
            let a = ctx.peter.accounts().deactivate(AcmeAccountId(*id)).await?;
            emit_view(ctx.json, &AcmeAccountAnswer::of(&a), || {
                format!("account {} deactivated", a.id)
            });
        }
        AccountCommand::Mark { id, mark } => {
            let ctx = Context::open(cli).await?;
            let a = ctx.peter.accounts().mark(AcmeAccountId(*id), *mark).await?;
            emit_view(ctx.json, &AcmeAccountAnswer::of(&a), || account_text(&a));
        }
        AccountCommand::Edit {
            id,
            contact,
            key_technology,
            key_cycle,
        } => {
            let ctx = Context::open(cli).await?;
            let a = ctx
                .peter
                .accounts()
                .edit(
                    AcmeAccountId(*id),
                    AccountEdit {
                        contact: contact.clone(),
                        private_key_technology: *key_technology,
                        private_key_cycle: *key_cycle,
                    },
                )
                .await?;
            emit_view(ctx.json, &AcmeAccountAnswer::of(&a), || account_text(&a));
        }
        AccountCommand::KeyChange { id, key_technology } => {
            let ctx = Context::open(cli).await?;
            let a = ctx
                .peter
                .accounts()
                .change_key(AcmeAccountId(*id), *key_technology)
                .await?;
            emit_view(ctx.json, &AcmeAccountAnswer::of(&a), || {
                format!(
                    "account {} now signs with key {} ({})",
                    a.id, a.key.spki_sha256, a.key.key_technology
                )
            });
        }
        AccountCommand::List => {
            let ctx = Context::open(cli).await?;
            let page = ctx.peter.accounts().list(Page::new(1, 1000)).await?;
            emit_view(ctx.json, &AcmeAccountsList::of(&page), || {
                page.items
                    .iter()
                    .map(|a| {
                        format!(
                            "{:>4}  server {}  {}{}{}\n",
                            a.id,
                            a.acme_server_id,
                            a.contact.clone().unwrap_or_default(),
                            if a.is_global_default {
                                "  (global default)"
                            } else {
                                ""
                            },
                            if a.deactivated_at.is_some() {
                                "  (deactivated at the CA)"
                            } else if !a.is_active {
                                "  (inactive)"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect()
            });
        }
        AccountCommand::Show { id } => {
            let ctx = Context::open(cli).await?;
            let a = ctx.peter.accounts().get(AcmeAccountId(*id)).await?;
            emit_view(ctx.json, &AcmeAccountAnswer::of(&a), || {
                format!(
                    "{}\n  {}",
                    account_text(&a),
                    a.account_url.clone().unwrap_or_default()
                )
            });
        }
    }
    Ok(())
}
