//! `peter serve`: the public routes (challenge answers, whoami) from the store.

use std::net::SocketAddr;

use std::sync::Arc;

use peter_core::services::orders::OrderSettings;
use peter_http::admin::RedisPublishing;
use peter_http::{AdminAccess, AdminState, PublicServer, PublicState};

use crate::config::ADMIN_TOKEN_FILE;

use super::{CliError, Context};
use crate::Cli;

pub async fn run(
    cli: &Cli,
    listen: Option<&str>,
    public_only: bool,
    admin: bool,
) -> Result<(), CliError> {
    if public_only && admin {
        return Err(CliError::Usage(
            "--public-only and --admin cannot be given together".into(),
        ));
    }
    let ctx = Context::open(cli).await?;
    let admin_state = if admin || (ctx.config.admin.enabled && !public_only) {
        Some(admin_state(cli, &ctx).await?)
    } else {
        None
    };
    let listen = listen
        .map(str::to_string)
        .unwrap_or_else(|| ctx.config.server.listen.clone());
    let addr: SocketAddr = listen.parse().map_err(|_| {
        CliError::Usage(format!(
            "--listen `{listen}` is not an address like 127.0.0.1:7201"
        ))
    })?;
    let state = PublicState {
        store: ctx.store.clone(),
        environment: ctx.config.environment.clone(),
    };
    let with_admin = admin_state.is_some();
    let server = PublicServer::start_with_admin(addr, state, admin_state)
        .await
        .map_err(|e| CliError::Usage(format!("cannot listen on {addr}: {e}")))?;
    if with_admin {
        eprintln!(
            "peter: serving public routes and the admin API (http://{}{}) on http://{}",
            server.local_addr,
            peter_http::ADMIN_PREFIX,
            server.local_addr
        );
    } else {
        eprintln!(
            "peter: serving public routes on http://{}",
            server.local_addr
        );
    }
    let stop = tokio::signal::ctrl_c();
    tokio::select! {
        r = server.wait() => r.map_err(|e| CliError::Usage(e.to_string()))?,
        _ = stop => {}
    }
    Ok(())
}

/// The admin token: configured (file or `PETER_ADMIN_TOKEN`), else the
/// 0600 file `peter init` wrote. Refuses to mount the admin API without one.
async fn admin_state(cli: &Cli, ctx: &Context) -> Result<AdminState, CliError> {
    let token = if ctx.config.admin.token.is_empty() {
        let path = cli.data_dir.join(ADMIN_TOKEN_FILE);
        std::fs::read_to_string(&path)
            .map_err(|e| {
                CliError::Usage(format!(
                    "the admin API needs a token: set admin.token / PETER_ADMIN_TOKEN or run `peter init` ({}: {e})",
                    path.display()
                ))
            })?
            .trim()
            .to_string()
    } else {
        ctx.config.admin.token.clone()
    };
    if token.len() < 16 {
        return Err(CliError::Usage(
            "the admin token must be at least 16 characters".into(),
        ));
    }
    let gateway_networks = ctx
        .config
        .admin
        .gateway_networks
        .iter()
        .map(|n| {
            n.parse::<ipnet::IpNet>()
                .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    CliError::Usage(format!(
                        "admin.gateway_networks: `{n}` is not a network like 10.0.0.0/8"
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let gateway_token = Some(ctx.config.admin.gateway_token.clone()).filter(|t| !t.is_empty());
    let redis = if ctx.config.redis.url.is_empty() {
        None
    } else {
        let ttl = (ctx.config.redis.ttl_seconds > 0).then_some(ctx.config.redis.ttl_seconds);
        let primer = peter_store::redis_prime::RedisPrimer::connect(&ctx.config.redis.url, "", ttl)
            .await
            .map_err(|e| CliError::Unavailable(e.to_string()))?;
        Some(RedisPublishing {
            publisher: Arc::new(primer),
            style: ctx
                .config
                .redis
                .prime_style
                .parse()
                .map_err(CliError::Usage)?,
            on_change: ctx.config.redis.prime_on_change,
        })
    };
    let nginx = super::nginx::nginx_client(&ctx.config)?.map(Arc::new);
    Ok(AdminState {
        store: ctx.store.clone(),
        acme: ctx.acme(),
        clock: ctx.clock.clone(),
        order_settings: OrderSettings::default(),
        access: Arc::new(AdminAccess {
            admin_token: token,
            gateway_token,
            gateway_networks,
        }),
        max_body_bytes: ctx.config.admin.max_body_bytes,
        redis,
        nginx,
    })
}
