//! `peter renew`: renew what is due, safely from cron on several nodes.

use peter_core::services::orders::{OrderSettings, Orders};
use peter_core::services::renewals::{due_certificates, renew_due};
use peter_http::{PublicServer, PublicState};

use super::{CliError, Context};
use crate::Cli;
use crate::output::emit;

pub async fn run(
    cli: &Cli,
    days: Option<i64>,
    dry_run: bool,
    http_listen: Option<&str>,
    lease_seconds: u64,
) -> Result<(), CliError> {
    let started_at = time::OffsetDateTime::now_utc();
    let ctx = Context::open(cli).await?;
    if dry_run {
        let due = due_certificates(ctx.store.as_ref(), ctx.clock.now(), days).await?;
        let missing: Vec<String> =
            peter_core::services::renewals::missing_domains(ctx.store.as_ref())
                .await?
                .into_iter()
                .map(|d| d.domain_name)
                .collect();
        emit(
            ctx.json,
            &serde_json::json!({"result": "success", "dry_run": true, "due": due, "missing": missing}),
            || {
                let mut text: String = due
                    .iter()
                    .map(|d| {
                        format!(
                            "certificate {} ({}): {}\n",
                            d.certificate_signed_id, d.domains, d.reason
                        )
                    })
                    .collect();
                for m in &missing {
                    text.push_str(&format!("domain {m}: no certificate yet\n"));
                }
                if text.is_empty() {
                    text = "nothing is due".to_string();
                }
                text
            },
        );
        return Ok(());
    }
    let server = match http_listen {
        Some(listen) => {
            let addr = listen.parse().map_err(|_| {
                CliError::Usage(format!(
                    "--http-listen `{listen}` is not an address like 0.0.0.0:80"
                ))
            })?;
            let state = PublicState {
                store: ctx.store.clone(),
                environment: ctx.config.environment.clone(),
            };
            Some(
                PublicServer::start(addr, state)
                    .await
                    .map_err(|e| CliError::Usage(format!("cannot listen on {listen}: {e}")))?,
            )
        }
        None => None,
    };
    let acme = ctx.acme();
    let orders = Orders {
        store: ctx.store.as_ref(),
        acme: acme.as_ref(),
        clock: ctx.clock.as_ref(),
        settings: OrderSettings {
            checkpoint: Some(super::order::kill_at_checkpoint),
            ..OrderSettings::default()
        },
    };
    let holder = format!(
        "{}-{}-{:016x}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "peter".into()),
        std::process::id(),
        rand::random::<u64>()
    );
    let lease = time::Duration::seconds(lease_seconds.max(1) as i64);
    let spinner = crate::output::progress("renewing what is due");
    let result = renew_due(&orders, &holder, days, lease, started_at).await;
    drop(spinner);
    if let Some(s) = server {
        let _ = s.stop().await;
    }
    let report = result?;
    let mut changed = Vec::new();
    let new_orders = report.renewed.iter().map(|(_, order)| *order).chain(
        report
            .ordered_missing
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok().copied()),
    );
    for order in new_orders {
        if let Some(cert) = peter_core::ports::OrderStore::acme_order(ctx.store.as_ref(), order)
            .await?
            .certificate_signed_id
        {
            changed.push(cert);
        }
    }
    ctx.after_certificate_change(&changed).await;
    emit(
        ctx.json,
        &serde_json::json!({"result": "success", "renewal": report}),
        || {
            format!(
                "{} renewed, {} failed, {} skipped",
                report.renewed.len(),
                report.failed.len(),
                report.skipped.len()
            )
        },
    );
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Unavailable(format!(
            "{} renewals failed; they back off and are retried by a later run",
            report.failed.len()
        )))
    }
}
