//! `peter serve`: the public routes (challenge answers, whoami) from the store.

use std::net::SocketAddr;

use peter_http::{AdminAccess, AdminState, PublicServer, PublicState};

use crate::config::ADMIN_TOKEN_FILE;

use super::{CliError, Context};
use crate::Cli;

/// Renewals run inside `peter serve` (`--renew-every`).
pub struct Renewals {
    every: std::time::Duration,
    days: Option<i64>,
    lease: time::Duration,
}

impl Renewals {
    /// Checks the flags' ranges.
    pub fn new(
        every_seconds: u64,
        days: Option<i64>,
        lease_seconds: u64,
    ) -> Result<Self, CliError> {
        if !(1..=7 * 86_400).contains(&every_seconds) {
            return Err(CliError::Usage(format!(
                "--renew-every {every_seconds}: give 1 to 604800 seconds (a week)"
            )));
        }
        if !(1..=7 * 86_400).contains(&lease_seconds) {
            return Err(CliError::Usage(format!(
                "--lease-seconds {lease_seconds}: give 1 to 604800 (a week)"
            )));
        }
        Ok(Self {
            every: std::time::Duration::from_secs(every_seconds),
            days,
            lease: time::Duration::seconds(i64::try_from(lease_seconds).unwrap_or(600)),
        })
    }
}

/// Renews what is due every `renewals.every`, one run at a time, until the
/// task is dropped; each outcome is one line on stderr.
async fn renew_periodically(peter: peter_core::app::Peter, renewals: Renewals) {
    let mut tick = tokio::time::interval(renewals.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match peter.renewals().run_scheduled(renewals.days).await {
            Ok(changed) => {
                crate::output::publication_warnings(&changed.publication);
                let report = changed.value;
                for (old, order) in &report.renewed {
                    eprintln!("peter: renewal: certificate {old} renewed by order {order}");
                }
                for (old, why) in &report.failed {
                    eprintln!("peter: renewal: certificate {old} failed: {why}");
                }
                for (old, why) in &report.skipped {
                    if why.starts_with(peter_core::app::LEASE_LOST) {
                        eprintln!("peter: renewal: certificate {old} left to another node: {why}");
                    }
                }
                for (name, result) in &report.ordered_missing {
                    match result {
                        Ok(order) => eprintln!("peter: renewal: {name} ordered by order {order}"),
                        Err(e) => eprintln!("peter: renewal: {name} failed: {e}"),
                    }
                }
            }
            Err(e) => eprintln!("peter: renewal run failed: {e}"),
        }
    }
}

pub async fn run(
    cli: &Cli,
    listen: Option<&str>,
    dns: Option<&str>,
    public_only: bool,
    admin: bool,
    renewals: Option<Renewals>,
) -> Result<(), CliError> {
    if public_only && admin {
        return Err(CliError::Usage(
            "--public-only and --admin cannot be given together".into(),
        ));
    }
    let lease = renewals.as_ref().map(|r| r.lease);
    let ctx = Context::open_with(cli, |_, settings| {
        if let Some(lease) = lease {
            settings.renewal_lease = lease;
        }
    })
    .await?;
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
    let dns_task = match dns {
        Some(dns) => Some(serve_dns(&ctx, dns).await?),
        None => None,
    };
    let renewing = renewals.map(|r| {
        eprintln!("peter: renewing what is due every {} s", r.every.as_secs());
        tokio::spawn(renew_periodically(ctx.peter.clone(), r))
    });
    // SIGINT or SIGTERM: stop gracefully (answers in flight finish, poll
    // tallies are written); a renewal in flight stops where it is and is
    // resumed by the next run on any node.
    let served = server
        .serve_until(shutdown_signal())
        .await
        .map_err(|e| CliError::Usage(e.to_string()));
    if let Some(task) = renewing {
        task.abort();
    }
    if let Some(task) = dns_task {
        task.abort();
    }
    served
}

/// Starts answering peter's DNS zone on `addr`.
#[cfg(feature = "dns")]
async fn serve_dns(ctx: &Context, addr: &str) -> Result<tokio::task::JoinHandle<()>, CliError> {
    let peter_dns = ctx.config.dns.peter.as_ref().ok_or_else(|| {
        CliError::Usage(
            "--dns needs the zone to answer: `[dns.peter] zone = ...` in peter.toml".into(),
        )
    })?;
    let addr: SocketAddr = addr.parse().map_err(|_| {
        CliError::Usage(format!(
            "--dns `{addr}` is not an address like 127.0.0.1:53"
        ))
    })?;
    let nameserver = if peter_dns.nameserver.is_empty() {
        format!("ns.{}", peter_dns.zone)
    } else {
        peter_dns.nameserver.clone()
    };
    let listener =
        peter_acme::dns::DnsListener::bind(addr, &peter_dns.zone, &nameserver, ctx.store.clone())
            .await
            .map_err(CliError::Usage)?;
    eprintln!(
        "peter: answering DNS for {} on {} (UDP and TCP)",
        peter_dns.zone, listener.addr
    );
    Ok(tokio::spawn(async move {
        if let Err(e) = listener.run().await {
            tracing::error!(error = %e, "the DNS listener stopped");
        }
    }))
}

#[cfg(not(feature = "dns"))]
async fn serve_dns(_ctx: &Context, _addr: &str) -> Result<tokio::task::JoinHandle<()>, CliError> {
    Err(CliError::Usage(
        "--dns: this peter was built without the `dns` feature".into(),
    ))
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
