//! `peter serve`: the public routes (challenge answers, whoami) from the store.

use std::net::SocketAddr;

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
    let state = PublicState::new(ctx.peter.clone(), ctx.config.environment.clone());
    let with_admin = admin_state.is_some();
    let limits = ctx.config.server.limits();
    let server = PublicServer::start_with_limits(addr, state, admin_state, limits)
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
    // SIGINT or SIGTERM: stop gracefully (answers in flight finish, poll
    // tallies are written).
    server
        .serve_until(shutdown_signal())
        .await
        .map_err(|e| CliError::Usage(e.to_string()))
}

/// Completes on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
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
    let usage = |e: peter_http::AccessError| CliError::Usage(e.to_string());
    let mut access = AdminAccess::new(token)
        .map_err(usage)?
        .with_gateway_networks(&ctx.config.admin.gateway_networks)
        .map_err(|e| CliError::Usage(format!("admin.gateway_networks: {e}")))?;
    if !ctx.config.admin.gateway_token.is_empty() {
        access = access
            .with_gateway_token(ctx.config.admin.gateway_token.clone())
            .map_err(usage)?;
    }
    Ok(AdminState::new(ctx.peter.clone(), access)
        .max_body_bytes(ctx.config.admin.max_body_bytes)
        .body_timeout(std::time::Duration::from_secs(
            ctx.config.server.body_timeout_seconds.max(1),
        )))
}
