//! `peter renew`: renew what is due, safely from cron on several nodes.

use peter_http::{PublicServer, PublicState};

use super::{CliError, Context};
use crate::Cli;
use crate::output::{emit, publication_warnings};

pub async fn run(
    cli: &Cli,
    days: Option<i64>,
    dry_run: bool,
    http_listen: Option<&str>,
    lease_seconds: u64,
) -> Result<(), CliError> {
    // A lease outlives a crashed holder: a week at most.
    if !(1..=7 * 86_400).contains(&lease_seconds) {
        return Err(CliError::Usage(format!(
            "--lease-seconds {lease_seconds}: give 1 to 604800 (a week)"
        )));
    }
    let lease = time::Duration::seconds(i64::try_from(lease_seconds).unwrap_or(600));
    let ctx = Context::open_with(cli, |_, settings| {
        settings.renewal_lease = lease;
    })
    .await?;
    let renewals = ctx.peter.renewals();
    if dry_run {
        let plan = renewals.plan(days).await?;
        emit(
            ctx.json,
            &serde_json::json!({"result": "success", "dry_run": true, "due": plan.due, "missing": plan.missing, "ari": plan.ari}),
            || {
                let mut text = ari_text(&plan.ari);
                text += &plan
                    .due
                    .iter()
                    .map(|d| {
                        format!(
                            "certificate {} ({}): {}\n",
                            d.certificate_signed_id, d.domains, d.reason
                        )
                    })
                    .collect::<String>();
                for m in &plan.missing {
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
            let state = PublicState::new(ctx.peter.clone(), ctx.config.environment.clone());
            Some(
                PublicServer::start(addr, state)
                    .await
                    .map_err(|e| CliError::Usage(format!("cannot listen on {listen}: {e}")))?,
            )
        }
        None => None,
    };
    let spinner = crate::output::progress("renewing what is due");
    let result = renewals.run(days).await;
    drop(spinner);
    if let Some(s) = server {
        let _ = s.stop().await;
    }
    let changed = result?;
    publication_warnings(&changed.publication);
    let report = changed.value;
    emit(
        ctx.json,
        &serde_json::json!({"result": "success", "renewal": report}),
        || {
            format!(
                "{}{} renewed, {} failed, {} skipped",
                ari_text(&report.ari),
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

/// What the CAs said about renewal windows, for people: moved windows and
/// failed polls one per line.
fn ari_text(ari: &peter_core::app::AriReport) -> String {
    let mut text = String::new();
    for moved in &ari.moved_into_past {
        text.push_str(&format!(
            "certificate {} ({}): the CA moved its renewal window to {} .. {}{}\n",
            moved.certificate_signed_id,
            moved.domains,
            moved.start,
            moved.end,
            moved
                .explanation_url
                .as_deref()
                .map(|u| format!(" (explanation: {u})"))
                .unwrap_or_default()
        ));
    }
    for (id, why) in &ari.failed {
        text.push_str(&format!(
            "certificate {id}: renewal window not fetched: {why}\n"
        ));
    }
    text
}

/// `peter alerts`: the alert deliveries, newest first.
pub async fn alerts(cli: &Cli, page: u64) -> Result<(), CliError> {
    let ctx = Context::open(cli).await?;
    let paged = ctx
        .peter
        .alerts()
        .list(peter_core::ports::Page::new(page.max(1), 50))
        .await?;
    crate::output::emit_view(
        ctx.json,
        &peter_http::views::AlertDeliveriesList::of(&paged),
        || {
            let mut text: String = paged
                .items
                .iter()
                .map(|d| {
                    format!(
                        "{:>5}  {}  {:<20} {:<16} {:<8} {:<9} {}{}\n",
                        d.id,
                        d.created_at,
                        d.condition,
                        d.subject,
                        d.target,
                        d.status,
                        d.attempts,
                        d.last_error
                            .as_deref()
                            .map(|e| format!("  {e}"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            if text.is_empty() {
                text = "no alerts".into();
            }
            text
        },
    );
    Ok(())
}
