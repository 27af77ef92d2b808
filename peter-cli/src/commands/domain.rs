//! `peter domain`: list, show, enable, disable and blocklist domains.

use clap::Subcommand;
use peter_core::dns::DomainName;
use peter_core::model::Domain;
use peter_core::ports::DomainStore;
use peter_core::ports::{Page, StoreError};

use super::{CliError, Context};
use crate::Cli;
use crate::output::emit;

/// Domain subcommands.
#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Record domains (names are normalised; invalid ones are refused).
    Add {
        /// Domain names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// List domains by name.
    List {
        /// Page number (from 1).
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Items per page.
        #[arg(long, default_value_t = 50)]
        per_page: u64,
    },
    /// Show one domain (by name).
    Show {
        /// Domain name.
        name: String,
    },
    /// Include a domain in renewals and configuration output again.
    Enable {
        /// Domain name.
        name: String,
    },
    /// Leave a domain out of renewals and configuration output.
    Disable {
        /// Domain name.
        name: String,
    },
    /// Never order, answer challenges for, or serve this name.
    Blocklist {
        /// Domain name.
        name: String,
    },
}

fn parse(name: &str) -> Result<DomainName, CliError> {
    Ok(DomainName::parse(name).map_err(peter_core::Error::from)?)
}

async fn find(ctx: &Context, name: &str) -> Result<Domain, CliError> {
    let parsed = parse(name)?;
    ctx.store
        .domain_by_name(&parsed)
        .await?
        .ok_or_else(|| StoreError::not_found("Domain", parsed).into())
}

fn line(d: &Domain) -> String {
    format!(
        "{:>6}  {}  {}",
        d.id,
        if d.is_active { "active  " } else { "inactive" },
        d.domain_name
    )
}

pub async fn run(cli: &Cli, command: &DomainCommand) -> Result<(), CliError> {
    // Validate names before touching the store.
    match command {
        DomainCommand::Add { names } => {
            for n in names {
                parse(n)?;
            }
        }
        DomainCommand::Show { name }
        | DomainCommand::Enable { name }
        | DomainCommand::Disable { name }
        | DomainCommand::Blocklist { name } => {
            parse(name)?;
        }
        DomainCommand::List { .. } => {}
    }
    let ctx = Context::open(cli).await?;
    match command {
        DomainCommand::Add { names } => {
            let mut out = Vec::new();
            for n in names {
                out.push(peter_core::services::domains::add_domain(ctx.store.as_ref(), n).await?);
            }
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "Domains": out}),
                || {
                    out.iter()
                        .map(|c| {
                            format!(
                                "{}{}\n",
                                line(&c.id),
                                if c.created { "  (created)" } else { "" }
                            )
                        })
                        .collect()
                },
            );
        }
        DomainCommand::List { page, per_page } => {
            let paged = ctx.store.list_domains(Page::new(*page, *per_page)).await?;
            emit(
                ctx.json,
                &serde_json::json!({
                    "Domains": paged.items,
                    "pagination": {"total_items": paged.total_items, "page": paged.page.page,
                                   "per_page": paged.page.per_page, "page_next": paged.page_next()}
                }),
                || paged.items.iter().map(|d| line(d) + "\n").collect(),
            );
        }
        DomainCommand::Show { name } => {
            let d = find(&ctx, name).await?;
            emit(ctx.json, &serde_json::json!({"Domain": d}), || line(&d));
        }
        DomainCommand::Enable { name } | DomainCommand::Disable { name } => {
            let d = find(&ctx, name).await?;
            let active = matches!(command, DomainCommand::Enable { .. });
            let d = ctx.store.set_domain_active(d.id, active).await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "Domain": d}),
                || line(&d),
            );
        }
        DomainCommand::Blocklist { name } => {
            let b = ctx.store.add_blocklisted_domain(&parse(name)?).await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "DomainBlocklisted": b}),
                || format!("blocklisted {}", b.id.domain_name),
            );
        }
    }
    Ok(())
}
