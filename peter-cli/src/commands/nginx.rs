//! `peter nginx flush|status`: the OpenResty module's cache endpoints.

use std::time::Duration;

use clap::Subcommand;
use peter_core::dns::DomainName;
use peter_http::nginx::{NginxClient, NginxSettings};

use super::{CliError, read_text};
use crate::Cli;
use crate::config::Config;
use crate::output::emit;

/// nginx subcommands.
#[derive(Debug, Subcommand)]
pub enum NginxCommand {
    /// Expire the certificate cache on every server (or one domain's entry).
    Flush {
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Each server's cache status.
    Status,
    /// Write nginx `server` blocks for every active domain exported with
    /// `peter export certbot DIR`.
    #[cfg(feature = "certbot")]
    Config {
        /// The certbot-layout tree written by `peter export certbot`.
        #[arg(long)]
        certbot_dir: std::path::PathBuf,
        /// What each block listens on (e.g. `443` or `127.0.0.1:8443`).
        #[arg(long, default_value = "443")]
        listen: String,
        /// Output file (default: stdout).
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
    },
}

pub async fn run(cli: &Cli, command: &NginxCommand) -> Result<(), CliError> {
    #[cfg(feature = "certbot")]
    if let NginxCommand::Config {
        certbot_dir,
        listen,
        output,
    } = command
    {
        let ctx = super::Context::open(cli).await?;
        let served = ctx.peter.publishing().served_domains().await?;
        let text = peter_store::certbot_export::nginx_server_blocks(&served, certbot_dir, listen)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        match output {
            Some(path) => std::fs::write(path, &text).map_err(|e| CliError::io(path, e))?,
            None => crate::output::write_stdout(text.as_bytes()),
        }
        return Ok(());
    }
    if let NginxCommand::Flush { domain: Some(d) } = command {
        DomainName::parse(d).map_err(peter_core::Error::from)?;
    }
    let ctx = super::Context::open(cli).await?;
    let publishing = ctx.peter.publishing();
    let status = match command {
        NginxCommand::Flush { domain: Some(d) } => {
            publishing
                .nginx_expire(Some(std::slice::from_ref(d)))
                .await?
        }
        NginxCommand::Flush { domain: None } => publishing.nginx_expire(None).await?,
        NginxCommand::Status => publishing.nginx_status().await?,
        // `Config` returned above; asking for status is the harmless reading.
        #[cfg(feature = "certbot")]
        NginxCommand::Config { .. } => publishing.nginx_status().await?,
    };
    let ok = status.errors.is_empty();
    emit(
        ctx.json,
        &serde_json::json!({"result": if ok { "success" } else { "error" }, "servers_status": status}),
        || {
            status
                .servers
                .keys()
                .map(|s| {
                    format!(
                        "{s}: {}\n",
                        if status.success.contains(s) {
                            "ok"
                        } else {
                            "error"
                        }
                    )
                })
                .collect()
        },
    );
    if ok {
        Ok(())
    } else {
        Err(CliError::Unavailable(format!(
            "{} of {} nginx servers failed: {}",
            status.errors.len(),
            status.servers.len(),
            status.errors.join(", ")
        )))
    }
}

/// The client for the configured OpenResty servers; `None` without servers.
pub fn nginx_client(config: &Config) -> Result<Option<NginxClient>, CliError> {
    if config.nginx.servers.is_empty() {
        return Ok(None);
    }
    let mut settings = NginxSettings::new(config.nginx.servers.clone());
    settings.timeout = Duration::from_secs(config.nginx.timeout_seconds.max(1));
    if !config.nginx.userpass.is_empty() {
        settings.userpass = Some(config.nginx.userpass.clone());
    }
    if !config.nginx.ca_bundle.is_empty() {
        settings.ca_bundle_pem = Some(read_text(std::path::Path::new(&config.nginx.ca_bundle))?);
    }
    NginxClient::new(settings)
        .map(Some)
        .map_err(|e| CliError::Usage(e.to_string()))
}
