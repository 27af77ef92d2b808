//! `peter serve`: the public routes (challenge answers, whoami) from the store.

use std::net::SocketAddr;

use peter_http::{PublicServer, PublicState};

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
    if admin || (ctx.config.admin.enabled && !public_only) {
        return Err(CliError::Usage(
            "the admin API is not available in this build yet; run with --public-only".into(),
        ));
    }
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
    let server = PublicServer::start(addr, state)
        .await
        .map_err(|e| CliError::Usage(format!("cannot listen on {addr}: {e}")))?;
    eprintln!(
        "peter: serving public routes on http://{}",
        server.local_addr
    );
    let stop = tokio::signal::ctrl_c();
    tokio::select! {
        r = server.wait() => r.map_err(|e| CliError::Usage(e.to_string()))?,
        _ = stop => {}
    }
    Ok(())
}
