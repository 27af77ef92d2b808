//! `peter export certbot DIR`: write active certificates in certbot's layout.

use std::path::PathBuf;

use clap::Subcommand;
use peter_store::certbot_export::CertbotExport;

use super::{CliError, Context};
use crate::Cli;
use crate::output::emit;

/// Export subcommands.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// certbot's layout: `archive/<name>/*N.pem` and `live/<name>/*.pem` symlinks.
    Certbot {
        /// The tree to write (an /etc/letsencrypt-like directory).
        dir: PathBuf,
        /// A command run once (by `sh -c`) after any change, e.g. reloading
        /// nginx; the changed lineage names are in `PETER_CHANGED_LINEAGES`.
        #[arg(long)]
        deploy_hook: Option<String>,
    },
}

pub async fn run(cli: &Cli, command: &ExportCommand) -> Result<(), CliError> {
    let ExportCommand::Certbot { dir, deploy_hook } = command;
    let ctx = Context::open(cli).await?;
    let mut target = CertbotExport::new(dir);
    if let Some(hook) = deploy_hook {
        target = target.deploy_hook(hook);
    }
    let spinner = crate::output::progress("exporting certificates");
    let report = ctx.peter.publishing().export(&target).await;
    drop(spinner);
    let report = report.map_err(|e| match e {
        peter_core::Error::Publish(p) => CliError::Usage(p.to_string()),
        other => CliError::Core(other),
    })?;
    emit(
        ctx.json,
        &serde_json::json!({"result": "success", "changed": report.changed, "unchanged": report.unchanged, "deploy_hook_ran": report.deploy_hook_ran}),
        || {
            format!(
                "{} changed, {} unchanged{}",
                report.changed.len(),
                report.unchanged.len(),
                if report.deploy_hook_ran {
                    "; deploy hook ran"
                } else {
                    ""
                }
            )
        },
    );
    Ok(())
}
