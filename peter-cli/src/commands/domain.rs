//! `peter domain`: add, list, show, enable, disable and blocklist domains,
//! and set how they are validated.

use clap::Subcommand;
use peter_core::dns::DomainName;
use peter_core::model::rules::DomainMark;
use peter_core::model::{AcmeChallengeType, Domain};
use peter_core::ports::{DomainFilter, Page};
use peter_http::views::{DomainAnswer, DomainView, DomainsList, render};

use super::{CliError, Context};
use crate::Cli;
use crate::output::{emit, emit_view, publication_warnings};
use crate::values::closed;

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
        /// Only names containing this text.
        #[arg(long)]
        name: Option<String>,
        /// Only active (true) or inactive (false) domains.
        #[arg(long)]
        active: Option<bool>,
        /// Page number (from 1).
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Items per page.
        #[arg(long, default_value_t = 50)]
        per_page: u64,
    },
    /// Show one domain (by name or id).
    Show {
        /// Domain name or id.
        name: String,
    },
    /// Include a domain in renewals and configuration output again.
    Enable {
        /// Domain name or id.
        name: String,
    },
    /// Leave a domain out of renewals and configuration output.
    Disable {
        /// Domain name or id.
        name: String,
    },
    /// Set how orders validate a domain: http-01 (the default) or dns-01
    /// (through `[dns]` in peter.toml). A wildcard is always dns-01.
    Challenge {
        /// Domain name or id.
        name: String,
        /// http-01 or dns-01.
        #[arg(value_parser = closed::<AcmeChallengeType>())]
        challenge_type: AcmeChallengeType,
    },
    /// The CNAME to create so that peter's own DNS (`[dns.peter]`) answers
    /// this name's DNS-01 challenges (a wildcard and its apex share it).
    Delegation {
        /// Domain name.
        name: String,
    },
    /// Never order, answer challenges for, or serve this name.
    Blocklist {
        /// Domain name.
        name: String,
    },
}

fn line(d: &Domain) -> String {
    format!(
        "{:>6}  {}  {:<7}  {}",
        d.id,
        if d.is_active { "active  " } else { "inactive" },
        d.challenge_type,
        d.domain_name
    )
}

pub async fn run(cli: &Cli, command: &DomainCommand) -> Result<(), CliError> {
    // Names are checked before the store is opened.
    let names: Vec<&String> = match command {
        DomainCommand::Add { names } => names.iter().collect(),
        DomainCommand::Blocklist { name } => vec![name],
        _ => Vec::new(),
    };
    for n in names {
        DomainName::parse(n).map_err(peter_core::Error::from)?;
    }
    let ctx = Context::open(cli).await?;
    let domains = ctx.peter.domains();
    match command {
        DomainCommand::Add { names } => {
            let mut out = Vec::new();
            for n in names {
                out.push(domains.add(n).await?);
            }
            let views: Vec<serde_json::Value> = out
                .iter()
                .map(|c| {
                    let mut v = render(&DomainView::from(&c.id));
                    v["is_created"] = c.created.into();
                    v
                })
                .collect();
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "Domains": views}),
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
        DomainCommand::List {
            name,
            active,
            page,
            per_page,
        } => {
            let filter = DomainFilter {
                name_contains: name.clone(),
                active: *active,
            };
            let paged = domains.list(filter, Page::new(*page, *per_page)).await?;
            emit_view(ctx.json, &DomainsList::of(&paged), || {
                paged.items.iter().map(|d| line(d) + "\n").collect()
            });
        }
        DomainCommand::Show { name } => {
            let d = domains.get(name).await?;
            emit_view(ctx.json, &DomainAnswer::of(&d), || line(&d));
        }
        DomainCommand::Enable { name } | DomainCommand::Disable { name } => {
            let mark = if matches!(command, DomainCommand::Enable { .. }) {
                DomainMark::Active
            } else {
                DomainMark::Inactive
            };
            let changed = domains.mark(name, mark).await?;
            publication_warnings(&changed.publication);
            emit_view(ctx.json, &DomainAnswer::of(&changed.value), || {
                line(&changed.value)
            });
        }
        DomainCommand::Challenge {
            name,
            challenge_type,
        } => {
            let d = domains.set_challenge_type(name, *challenge_type).await?;
            emit_view(ctx.json, &DomainAnswer::of(&d), || line(&d));
        }
        DomainCommand::Delegation { name } => {
            let d = domains.dns_delegation(name).await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "DnsDelegation": d}),
                || format!("{} CNAME {}.", d.record, d.target),
            );
        }
        DomainCommand::Blocklist { name } => {
            let b = domains.blocklist(name).await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "DomainBlocklisted": {
                    "id": b.id.id.0, "domain_name": b.id.domain_name, "is_created": b.created,
                }}),
                || format!("blocklisted {}", b.id.domain_name),
            );
        }
    }
    Ok(())
}
