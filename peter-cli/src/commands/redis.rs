//! `peter redis prime`: load certificates into Redis for OpenResty gateways.

use clap::Subcommand;
use peter_core::dns::DomainName;
use peter_core::ports::PrimeStyle;

use super::{CliError, Context};
use crate::Cli;
use crate::output::emit;
use crate::values::closed;

/// Redis subcommands.
#[derive(Debug, Subcommand)]
pub enum RedisCommand {
    /// Write every active domain (or one) with its certificate, key and chain.
    Prime {
        /// Key layout (default: redis.prime_style).
        #[arg(long, value_parser = closed::<PrimeStyle>())]
        style: Option<PrimeStyle>,
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
        /// Written before every key (default: redis.key_prefix, empty).
        #[arg(long)]
        prefix: Option<String>,
    },
}

pub async fn run(cli: &Cli, command: &RedisCommand) -> Result<(), CliError> {
    let RedisCommand::Prime {
        style,
        domain,
        prefix,
    } = command;
    if let Some(d) = domain {
        DomainName::parse(d).map_err(peter_core::Error::from)?;
    }
    let ctx = Context::open_with(cli, |config, _| {
        if let Some(p) = prefix {
            config.redis.key_prefix = p.clone();
        }
    })
    .await?;
    let (style, report) = ctx
        .peter
        .publishing()
        .redis_prime(*style, domain.as_deref())
        .await?;
    emit(
        ctx.json,
        &serde_json::json!({"result": "success", "style": style, "total_primed": report}),
        || match domain {
            Some(name) if report.domain == 0 => format!("{name}: no active certificate"),
            Some(name) => format!("{name}: primed"),
            None => format!("primed {} domains", report.domain),
        },
    );
    Ok(())
}
