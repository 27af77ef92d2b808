//! `peter order`: place, process and inspect ACME orders.

use std::net::SocketAddr;

use clap::Subcommand;
use peter_core::app::{OrderRequest, ProcessSteps, Step};
use peter_core::model::{
    AcmeAccountId, AcmeOrder, AcmeOrderId, AcmeOrderProcessingStrategy, PrivateKeyCycle,
};
use peter_core::ports::{OrderFilter, Page};
use peter_http::views::{
    AcmeAuthorizationsList, AcmeEventLogsList, AcmeOrderActionAnswer, AcmeOrderView,
    AcmeOrdersList, render,
};
use peter_http::{PublicServer, PublicState};

use super::{CliError, Context};
use crate::Cli;
use crate::output::{emit, emit_view, publication_warnings};
use crate::values::closed;

/// Order subcommands.
#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Order a certificate for one or more names.
    New {
        /// Domain names.
        #[arg(required = true)]
        domains: Vec<String>,
        /// create_order (create upstream and stop), process_single (everything
        /// now), process_multi (one step per `order process`); also create,
        /// single, multi.
        #[arg(long, default_value = "process_single", value_parser = closed::<AcmeOrderProcessingStrategy>())]
        strategy: AcmeOrderProcessingStrategy,
        /// Ordering account (default: the global default account).
        #[arg(long)]
        account: Option<i64>,
        /// Key cycle (default: the account's).
        #[arg(long, value_parser = closed::<PrivateKeyCycle>())]
        key_cycle: Option<PrivateKeyCycle>,
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
    /// Order the same names again with the same account (renewing the
    /// order's certificate; `replaces` it when the CA offers ARI).
    Renew {
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
        /// Page number (from 1).
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Items per page.
        #[arg(long, default_value_t = 50)]
        per_page: u64,
    },
}

/// With `PETER_KILL_AT=<checkpoint>` the process aborts at that checkpoint,
/// as a crash or `kill -9` would stop it: the resume tests use it. Test
/// builds only: the shipped binary has no such hook.
#[cfg(feature = "testkit")]
pub fn kill_at_checkpoint(point: &'static str) {
    if std::env::var("PETER_KILL_AT").ok().as_deref() == Some(point) {
        eprintln!("peter: stopping at checkpoint {point} (PETER_KILL_AT)");
        std::process::abort();
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

/// Answers HTTP-01 from this process while `work` runs, when asked to.
pub(crate) async fn with_http<T>(
    ctx: &Context,
    listen: Option<&String>,
    work: impl std::future::Future<Output = Result<T, peter_core::Error>>,
) -> Result<T, CliError> {
    let server = match listen {
        None => None,
        Some(listen) => {
            let addr: SocketAddr = listen.parse().map_err(|_| {
                CliError::Usage(format!(
                    "--http-listen `{listen}` is not an address like 0.0.0.0:80"
                ))
            })?;
            let state = PublicState::new(ctx.peter.clone(), ctx.config.environment.clone());
            Some(
                PublicServer::start(addr, state)
                    .await
                    .map_err(|e| CliError::Usage(format!("cannot listen on {addr}: {e}")))?,
            )
        }
    };
    let result = work.await;
    if let Some(s) = server {
        let _ = s.stop().await;
    }
    Ok(result?)
}

fn emit_action(
    ctx: &Context,
    operation: &str,
    order: &AcmeOrder,
    step: Option<Step>,
    publication: Option<&peter_core::app::Publication>,
) {
    if let Some(p) = publication {
        publication_warnings(p);
    }
    emit_view(
        ctx.json,
        &AcmeOrderActionAnswer::of(operation, order, step, publication),
        || line(order),
    );
}

pub async fn run(cli: &Cli, command: &OrderCommand) -> Result<(), CliError> {
    let ctx = Context::open(cli).await?;
    let orders = ctx.peter.orders();
    match command {
        OrderCommand::New {
            domains,
            strategy,
            account,
            key_cycle,
            profile,
            http_listen,
        } => {
            let mut request = OrderRequest::new(AcmeAccountId(0), domains.clone(), *strategy);
            request.acme_account_id = account.map(AcmeAccountId);
            request.private_key_cycle = *key_cycle;
            request.profile = profile.clone();
            let changed = with_http(&ctx, http_listen.as_ref(), orders.create(request)).await?;
            emit_action(
                &ctx,
                "new",
                &changed.value,
                None,
                Some(&changed.publication),
            );
        }
        OrderCommand::Process {
            id,
            to_end,
            http_listen,
        } => {
            let steps = if *to_end {
                ProcessSteps::All
            } else {
                ProcessSteps::One
            };
            let changed = with_http(
                &ctx,
                http_listen.as_ref(),
                orders.process(AcmeOrderId(*id), steps),
            )
            .await?;
            let (order, step) = &changed.value;
            emit_action(
                &ctx,
                "acme-process",
                order,
                *step,
                Some(&changed.publication),
            );
        }
        OrderCommand::Sync { id } => {
            let order = orders.sync(AcmeOrderId(*id)).await?;
            let auths = orders.sync_authorizations(order.id).await?;
            emit(
                ctx.json,
                &serde_json::json!({
                    "result": "success",
                    "AcmeOrder": render(&AcmeOrderView::from(&order)),
                    "AcmeAuthorizations": render(&AcmeAuthorizationsList::whole(&auths))["AcmeAuthorizations"],
                }),
                || line(&order),
            );
        }
        OrderCommand::Finalize { id } => {
            let changed = orders.finalize(AcmeOrderId(*id)).await?;
            let (order, step) = &changed.value;
            emit_action(
                &ctx,
                "acme-finalize",
                order,
                *step,
                Some(&changed.publication),
            );
        }
        OrderCommand::Download { id } => {
            let changed = orders.download(AcmeOrderId(*id)).await?;
            let (order, step) = &changed.value;
            emit_action(
                &ctx,
                "acme-server/download-certificate",
                order,
                *step,
                Some(&changed.publication),
            );
        }
        OrderCommand::Retry { id, http_listen } => {
            let changed = with_http(
                &ctx,
                http_listen.as_ref(),
                orders.retry(AcmeOrderId(*id), AcmeOrderProcessingStrategy::ProcessSingle),
            )
            .await?;
            emit_action(
                &ctx,
                "retry",
                &changed.value,
                None,
                Some(&changed.publication),
            );
        }
        OrderCommand::Renew { id, http_listen } => {
            let changed = with_http(
                &ctx,
                http_listen.as_ref(),
                orders.renew_quick(AcmeOrderId(*id), AcmeOrderProcessingStrategy::ProcessSingle),
            )
            .await?;
            emit_action(
                &ctx,
                "renew/quick",
                &changed.value,
                None,
                Some(&changed.publication),
            );
        }
        OrderCommand::Show { id } => {
            let order = orders.get(AcmeOrderId(*id)).await?;
            let auths = orders.authorizations(order.id).await?;
            let events = orders.events(order.id).await?;
            emit(
                ctx.json,
                &serde_json::json!({
                    "AcmeOrder": render(&AcmeOrderView::from(&order)),
                    "AcmeAuthorizations": render(&AcmeAuthorizationsList::whole(&auths))["AcmeAuthorizations"],
                    "AcmeEventLogs": render(&AcmeEventLogsList::whole(&events))["AcmeEventLogs"],
                }),
                || line(&order),
            );
        }
        OrderCommand::List {
            active,
            page,
            per_page,
        } => {
            let filter = if *active {
                OrderFilter::active()
            } else {
                OrderFilter::all()
            };
            let paged = orders.list(filter, Page::new(*page, *per_page)).await?;
            emit_view(ctx.json, &AcmeOrdersList::of(&paged), || {
                paged.items.iter().map(|o| line(o) + "\n").collect()
            });
        }
    }
    Ok(())
}
