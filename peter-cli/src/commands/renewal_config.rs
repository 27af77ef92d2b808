//! `peter renewal-configuration`: how each set of names is renewed, with
//! an optional backup CA.

use peter_core::app::RenewalConfigurationRequest;
use peter_core::model::*;
use peter_core::ports::Page;
use peter_http::views::{
    AcmeOrderActionAnswer, RenewalConfigurationAnswer, RenewalConfigurationsList,
};

use super::{CliError, Context};
use crate::Cli;
use crate::output::{emit_view, publication_warnings};
use crate::values::closed;

/// Renewal configuration subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RenewalConfigurationCommand {
    /// List configurations.
    List,
    /// Show one configuration.
    Show {
        /// Configuration id.
        id: i64,
    },
    /// Record how a set of names is renewed (replacing what it had).
    New {
        /// The names.
        #[arg(required = true)]
        names: Vec<String>,
        /// The primary account.
        #[arg(long)]
        account: i64,
        /// Key technology (default: the account's).
        #[arg(long, value_parser = closed::<KeyTechnology>())]
        key_technology: Option<KeyTechnology>,
        /// Key cycle (default: the account's).
        #[arg(long, value_parser = closed::<PrivateKeyCycle>())]
        key_cycle: Option<PrivateKeyCycle>,
        /// Profile asked of the primary.
        #[arg(long)]
        profile: Option<String>,
        /// A challenge type for one name, over its domain's:
        /// `NAME=http-01|dns-01` (repeatable).
        #[arg(long = "challenge")]
        challenges: Vec<String>,
        /// A backup account, at another ACME server.
        #[arg(long)]
        backup_account: Option<i64>,
        /// The backup's key technology.
        #[arg(long, value_parser = closed::<KeyTechnology>())]
        backup_key_technology: Option<KeyTechnology>,
        /// The backup's profile.
        #[arg(long)]
        backup_profile: Option<String>,
        /// Consecutive failures at the primary before failing over (default 3).
        #[arg(long)]
        failover_after: Option<u32>,
    },
    /// Order a certificate for the names from the backup CA now.
    OrderBackup {
        /// Configuration id.
        id: i64,
        /// Answer HTTP-01 challenges on this address while ordering.
        #[arg(long)]
        http_listen: Option<String>,
    },
}

fn text(c: &RenewalConfiguration) -> String {
    format!(
        "renewal configuration {}: {} by account {}{}{}",
        c.id,
        c.domain_names.join(", "),
        c.acme_account_id,
        c.backup
            .as_ref()
            .map(|b| format!(
                ", backup account {} after {} failures",
                b.acme_account_id, c.failover_after
            ))
            .unwrap_or_default(),
        if c.is_active { "" } else { " (inactive)" }
    )
}

pub async fn run(cli: &Cli, command: &RenewalConfigurationCommand) -> Result<(), CliError> {
    let ctx = Context::open(cli).await?;
    let configs = ctx.peter.renewal_configurations();
    match command {
        RenewalConfigurationCommand::List => {
            let paged = configs.list(Page::new(1, 1000)).await?;
            emit_view(ctx.json, &RenewalConfigurationsList::of(&paged), || {
                paged.items.iter().map(text).collect::<Vec<_>>().join("\n")
            });
        }
        RenewalConfigurationCommand::Show { id } => {
            let c = configs.get(RenewalConfigurationId(*id)).await?;
            emit_view(ctx.json, &RenewalConfigurationAnswer::of(&c), || text(&c));
        }
        RenewalConfigurationCommand::New {
            names,
            account,
            key_technology,
            key_cycle,
            profile,
            challenges,
            backup_account,
            backup_key_technology,
            backup_profile,
            failover_after,
        } => {
            let c = configs
                .configure(RenewalConfigurationRequest {
                    domain_names: names.clone(),
                    acme_account_id: AcmeAccountId(*account),
                    private_key_technology: *key_technology,
                    private_key_cycle: *key_cycle,
                    profile: profile.clone(),
                    challenge_types: RenewalConfigurationRequest::parse_challenge_types(
                        &challenges.join(" "),
                    )?,
                    backup_acme_account_id: backup_account.map(AcmeAccountId),
                    backup_private_key_technology: *backup_key_technology,
                    backup_profile: backup_profile.clone(),
                    failover_after: *failover_after,
                })
                .await?;
            emit_view(ctx.json, &RenewalConfigurationAnswer::of(&c), || text(&c));
        }
        RenewalConfigurationCommand::OrderBackup { id, http_listen } => {
            let changed = super::order::with_http(
                &ctx,
                http_listen.as_ref(),
                configs.order_backup(RenewalConfigurationId(*id)),
            )
            .await?;
            publication_warnings(&changed.publication);
            let answer = AcmeOrderActionAnswer::of(
                "order-backup",
                &changed.value,
                None,
                Some(&changed.publication),
            );
            emit_view(ctx.json, &answer, || {
                format!(
                    "order {} from the backup CA: {}",
                    changed.value.id, changed.value.status
                )
            });
        }
    }
    Ok(())
}
