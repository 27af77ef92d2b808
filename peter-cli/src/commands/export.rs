//! `peter export certbot DIR`: write active certificates in certbot's layout.

use std::path::PathBuf;

use clap::Subcommand;
use peter_store::certbot_export::export_certbot;

use super::{CliError, Context};
use crate::Cli;
use crate::output::emit;

/// Export subcommands.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// certbot's layout: archive/<name>/*N.pem and live/<name>/*.pem symlinks.
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
    let spinner = crate::output::progress("exporting certificates");
    let report = export_certbot(ctx.store.as_ref(), dir)
        .await
        .map_err(|e| match e {
            peter_store::certbot_export::ExportError::Core(e) => CliError::Core(e),
            other => CliError::Usage(other.to_string()),
        })?;
    drop(spinner);
    let mut hook_ran = false;
    if let (Some(hook), false) = (deploy_hook, report.changed.is_empty()) {
        let status = std::process::Command::new("sh")
            .args(["-c", hook])
            .env("PETER_CHANGED_LINEAGES", report.changed.join(" "))
            .env("PETER_EXPORT_DIR", dir)
            .status()
            .map_err(|e| CliError::Usage(format!("deploy hook: {e}")))?;
        if !status.success() {
            return Err(CliError::Usage(format!(
                "the deploy hook failed ({status})"
            )));
        }
        hook_ran = true;
    }
    emit(
        ctx.json,
        &serde_json::json!({"result": "success", "changed": report.changed, "unchanged": report.unchanged, "deploy_hook_ran": hook_ran}),
        || {
            format!(
                "{} changed, {} unchanged{}",
                report.changed.len(),
                report.unchanged.len(),
                if hook_ran { "; deploy hook ran" } else { "" }
            )
        },
    );
    Ok(())
}
