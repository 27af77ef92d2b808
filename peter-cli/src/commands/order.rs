//! `peter order`: place, process and inspect ACME orders.

use peter_core::ports::{EventStore, OrderStore};
use std::net::SocketAddr;

use clap::Subcommand;
use peter_core::model::{
    AcmeAccountId, AcmeOrder, AcmeOrderId, AcmeOrderProcessingStrategy, PrivateKeyCycle,
};
use peter_core::ports::{OrderFilter, Page};
use peter_core::services::orders::{OrderRequest, OrderSettings, Orders};
use peter_http::{PublicServer, PublicState};

use super::{CliError, Context};
use crate::Cli;
use crate::output::emit;

/// Order subcommands.
#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Order a certificate for one or more names.
    New {
        /// Domain names.
        #[arg(required = true)]
        domains: Vec<String>,
        /// create (create upstream and stop) | single (everything now) | multi (one step per `order process`).
        #[arg(long, default_value = "single")]
        strategy: String,
        /// Ordering account (default: the global default account).
        #[arg(long)]
        account: Option<i64>,
        /// Key cycle (default: the account's).
        #[arg(long)]
        key_cycle: Option<String>,
        /// ACME profile.
        #[arg(long)]
        profile: Option<String>,
        /// Answer HTTP-01 challenges from this process on ADDR while it runs.
        #[arg(long)]
        http_listen: Option<String>,
    },
    /// Advance an order (one step, or to the end with --to-end).
    Process {
        /// Order id.
        id: i64,
        /// Keep going until the certificate is recorded.
        #[arg(long)]
        to_end: bool,
        /// Answer HTTP-01 challenges from this process on ADDR while it runs.
        #[arg(long)]
        http_listen: Option<String>,
    },
    /// Fetch an order (and its authorizations) from the CA and record what it says.
    Sync {
        /// Order id.
        id: i64,
    },
    /// Advance a `ready` order through finalize (one step).
    Finalize {
        /// Order id.
        id: i64,
    },
    /// Download a `valid` order's certificate and every alternate chain.
    Download {
        /// Order id.
        id: i64,
    },
    /// Place a new order for the names of a failed one.
    Retry {
        /// Order id.
        id: i64,
        /// Answer HTTP-01 challenges from this process on ADDR while it runs.
        #[arg(long)]
        http_listen: Option<String>,
    },
    /// Show one order.
    Show {
        /// Order id.
        id: i64,
    },
    /// List orders, newest first.
    List {
        /// Only active orders.
        #[arg(long)]
        active: bool,
    },
}

/// With `PETER_KILL_AT=<checkpoint>` the process aborts at that checkpoint,
/// as a crash or `kill -9` would stop it: the resume tests use it.
pub fn kill_at_checkpoint(point: &'static str) {
    if std::env::var("PETER_KILL_AT").ok().as_deref() == Some(point) {
        eprintln!("peter: stopping at checkpoint {point} (PETER_KILL_AT)");
        std::process::abort();
    }
}

fn strategy(s: &str) -> Result<AcmeOrderProcessingStrategy, CliError> {
    match s {
        "create" | "create_order" => Ok(AcmeOrderProcessingStrategy::CreateOrder),
        "single" | "process_single" => Ok(AcmeOrderProcessingStrategy::ProcessSingle),
        "multi" | "process_multi" => Ok(AcmeOrderProcessingStrategy::ProcessMulti),
        other => Err(CliError::Usage(format!(
            "unknown strategy `{other}`; use create, single or multi"
        ))),
    }
}

fn line(o: &AcmeOrder) -> String {
    format!(
        "order {} {} ({}){}",
        o.id,
        o.status,
        o.processing_status,
        o.certificate_signed_id
            .map(|c| format!(", certificate {c}"))
            .unwrap_or_default()
    )
}

async fn http_server(
    ctx: &Context,
    listen: Option<&String>,
) -> Result<Option<PublicServer>, CliError> {
    let Some(listen) = listen else {
        return Ok(None);
    };
    let addr: SocketAddr = listen.parse().map_err(|_| {
        CliError::Usage(format!(
            "--http-listen `{listen}` is not an address like 0.0.0.0:80"
        ))
    })?;
    let state = PublicState {
        store: ctx.store.clone(),
        environment: ctx.config.environment.clone(),
    };
    let server = PublicServer::start(addr, state)
        .await
        .map_err(|e| CliError::Usage(format!("cannot listen on {addr}: {e}")))?;
    Ok(Some(server))
}

pub async fn run(cli: &Cli, command: &OrderCommand) -> Result<(), CliError> {
    let ctx = Context::open(cli).await?;
    let acme = ctx.acme();
    let orders = Orders {
        store: ctx.store.as_ref(),
        acme: acme.as_ref(),
        clock: ctx.clock.as_ref(),
        settings: OrderSettings {
            checkpoint: Some(kill_at_checkpoint),
            ..OrderSettings::default()
        },
    };
    match command {
        OrderCommand::New {
            domains,
            strategy: s,
            account,
            key_cycle,
            profile,
            http_listen,
        } => {
            let strategy = strategy(s)?;
            let account_id = peter_core::services::accounts::account_or_global_default(
                ctx.store.as_ref(),
                account.map(AcmeAccountId),
            )
            .await?;
            let mut request = OrderRequest::new(account_id, domains.clone(), strategy);
            request.private_key_cycle = key_cycle
                .as_deref()
                .map(|c| c.parse::<PrivateKeyCycle>())
                .transpose()
                .map_err(peter_core::Error::from)?;
            request.profile = profile.clone();
            let server = http_server(&ctx, http_listen.as_ref()).await?;
            let result = orders.create(request).await;
            if let Some(s) = server {
                let _ = s.stop().await;
            }
            let order = result?;
            ctx.after_certificate_change(order.certificate_signed_id.as_slice())
                .await;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "AcmeOrder": order}),
                || line(&order),
            );
        }
        OrderCommand::Process {
            id,
            to_end,
            http_listen,
        } => {
            let server = http_server(&ctx, http_listen.as_ref()).await?;
            let result = if *to_end {
                orders
                    .process_to_end(AcmeOrderId(*id))
                    .await
                    .map(|o| (o, None))
            } else {
                match orders.process_step(AcmeOrderId(*id)).await {
                    Ok(step) => ctx
                        .store
                        .acme_order(AcmeOrderId(*id))
                        .await
                        .map(|o| (o, Some(step)))
                        .map_err(Into::into),
                    Err(e) => Err(e),
                }
            };
            if let Some(s) = server {
                let _ = s.stop().await;
            }
            let (order, step) = result?;
            ctx.after_certificate_change(order.certificate_signed_id.as_slice())
                .await;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "AcmeOrder": order, "step": step}),
                || line(&order),
            );
        }
        OrderCommand::Sync { id } => {
            let order = orders.sync_order(AcmeOrderId(*id)).await?;
            let auths = orders.sync_authorizations(order.id).await?;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "AcmeOrder": order, "AcmeAuthorizations": auths}),
                || line(&order),
            );
        }
        OrderCommand::Finalize { id } | OrderCommand::Download { id } => {
            let step = if matches!(command, OrderCommand::Finalize { .. }) {
                orders.finalize(AcmeOrderId(*id)).await?
            } else {
                orders.download(AcmeOrderId(*id)).await?
            };
            let order = ctx.store.acme_order(AcmeOrderId(*id)).await?;
            ctx.after_certificate_change(order.certificate_signed_id.as_slice())
                .await;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "AcmeOrder": order, "step": step}),
                || line(&order),
            );
        }
        OrderCommand::Retry { id, http_listen } => {
            let server = http_server(&ctx, http_listen.as_ref()).await?;
            let result = orders
                .retry(AcmeOrderId(*id), AcmeOrderProcessingStrategy::ProcessSingle)
                .await;
            if let Some(s) = server {
                let _ = s.stop().await;
            }
            let order = result?;
            ctx.after_certificate_change(order.certificate_signed_id.as_slice())
                .await;
            emit(
                ctx.json,
                &serde_json::json!({"result": "success", "AcmeOrder": order}),
                || line(&order),
            );
        }
        OrderCommand::Show { id } => {
            let order = ctx.store.acme_order(AcmeOrderId(*id)).await?;
            let auths = ctx.store.acme_authorizations_for_order(order.id).await?;
            let events = ctx.store.acme_events_for_order(order.id).await?;
            emit(
                ctx.json,
                &serde_json::json!({"AcmeOrder": order, "AcmeAuthorizations": auths, "AcmeEventLogs": events}),
                || line(&order),
            );
        }
        OrderCommand::List { active } => {
            let filter = if *active {
                OrderFilter::Active
            } else {
                OrderFilter::All
            };
            let page = ctx
                .store
                .list_acme_orders(filter, Page::new(1, 100))
                .await?;
            emit(
                ctx.json,
                &serde_json::json!({"AcmeOrders": page.items, "total_items": page.total_items}),
                || page.items.iter().map(|o| line(o) + "\n").collect(),
            );
        }
    }
    Ok(())
}
