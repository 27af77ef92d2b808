//! `peter redis prime`: load certificates into Redis for OpenResty gateways.

use clap::Subcommand;
use peter_core::dns::DomainName;
use peter_store::redis_prime::{PrimeStyle, RedisPrimer};

use super::{CliError, Context};
use crate::Cli;
use crate::output::emit;

/// Redis subcommands.
#[derive(Debug, Subcommand)]
pub enum RedisCommand {
    /// Write every active domain (or one) to Redis.
    Prime {
        /// Key layout, 1 or 2 (default: config `redis.prime_style`).
        #[arg(long)]
        style: Option<String>,
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
        /// Key prefix (default none; the gateway reads unprefixed keys).
        #[arg(long, default_value = "")]
        prefix: String,
    },
}

pub async fn run(cli: &Cli, command: &RedisCommand) -> Result<(), CliError> {
    let RedisCommand::Prime {
        style,
        domain,
        prefix,
    } = command;
    let domain = domain
        .as_deref()
        .map(|d| DomainName::parse(d).map_err(peter_core::Error::from))
        .transpose()?;
    let ctx = Context::open(cli).await?;
    let style: PrimeStyle = style
        .clone()
        .unwrap_or_else(|| ctx.config.redis.prime_style.clone())
        .parse()
        .map_err(CliError::Usage)?;
    if ctx.config.redis.url.is_empty() {
        return Err(CliError::Usage(
            "no Redis configured: set redis.url or PETER_REDIS_URL".into(),
        ));
    }
    let ttl = (ctx.config.redis.ttl_seconds > 0).then_some(ctx.config.redis.ttl_seconds);
    let primer = RedisPrimer::connect(&ctx.config.redis.url, prefix, ttl)
        .await
        .map_err(|e| CliError::Unavailable(e.to_string()))?;
    match domain {
        Some(name) => {
            let primed = primer
                .prime_domain(ctx.store.as_ref(), &name, style)
                .await
                .map_err(|e| CliError::Unavailable(e.to_string()))?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "domain": name, "primed": primed}),
                || {
                    format!(
                        "{name}: {}",
                        if primed {
                            "primed"
                        } else {
                            "no active certificate"
                        }
                    )
                },
            );
        }
        None => {
            let report = primer
                .prime_all(ctx.store.as_ref(), style)
                .await
                .map_err(|e| CliError::Unavailable(e.to_string()))?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "total_primed": report}),
                || format!("primed {} domains", report.domain),
            );
        }
    }
    Ok(())
}
