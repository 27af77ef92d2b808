//! Monitoring in the Prometheus text format (version 0.0.4), built from a
//! handful of store aggregates. Every series is keyed by a small, closed set
//! (states, statuses, ACME endpoint kinds, expiry horizons), so a store of a
//! million domains scrapes as a few dozen lines. One series per active
//! certificate (its expiry) is there only when asked for.

use std::fmt::Write;

use crate::error::Error;
use crate::model::CertificateSignedId;
use crate::ports::Store;

/// Escapes a label value (backslash, double quote, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Certificates per store read for the per-certificate series.
const PAGE: u64 = 1000;

/// The horizons `peter_certificates_expiring` counts, in days.
const EXPIRY_HORIZONS_DAYS: [i64; 5] = [1, 7, 14, 30, 60];

/// Renders every metric; `polls` are this process's public-route counters.
/// `per_certificate` adds one expiry series per active certificate (as many
/// series as certificates: for small stores, or scrapes that want them).
pub async fn render_prometheus(
    store: &dyn Store,
    polls: crate::app::PollCounters,
    now: time::OffsetDateTime,
    per_certificate: bool,
) -> Result<String, Error> {
    let m = store.metrics().await?;
    let mut out = String::new();

    header(
        &mut out,
        "peter_public_challenge_requests_dropped_total",
        "counter",
        "Public challenge requests not itemised since this process started: \
         limited (over the unknown-token rate, answered 429), evicted (an unknown \
         key dropped from memory), lost (a write to the store failed).",
    );
    for (reason, n) in [
        ("limited", polls.limited),
        ("evicted", polls.evicted),
        ("lost", polls.lost),
    ] {
        let _ = writeln!(
            out,
            "peter_public_challenge_requests_dropped_total{{reason=\"{reason}\"}} {n}"
        );
    }

    header(
        &mut out,
        "peter_certificates",
        "gauge",
        "Certificates by state.",
    );
    for (state, n) in &m.certificates_by_state {
        let _ = writeln!(out, "peter_certificates{{state=\"{}\"}} {n}", label(state));
    }
    header(
        &mut out,
        "peter_domains",
        "gauge",
        "Domains by whether peter serves them.",
    );
    for (active, n) in &m.domains_by_active {
        let _ = writeln!(out, "peter_domains{{active=\"{active}\"}} {n}");
    }
    header(
        &mut out,
        "peter_acme_orders",
        "gauge",
        "ACME orders by upstream status.",
    );
    for (status, n) in &m.orders_by_status {
        let _ = writeln!(out, "peter_acme_orders{{status=\"{}\"}} {n}", label(status));
    }
    header(
        &mut out,
        "peter_acme_requests_total",
        "counter",
        "ACME requests by endpoint kind and HTTP status (0: no answer).",
    );
    for (event, status, n) in &m.acme_requests {
        let _ = writeln!(
            out,
            "peter_acme_requests_total{{endpoint=\"{}\",status=\"{status}\"}} {n}",
            label(event)
        );
    }
    header(
        &mut out,
        "peter_renewal_failing_sets",
        "gauge",
        "Name sets whose last renewal attempt failed.",
    );
    let _ = writeln!(out, "peter_renewal_failing_sets {}", m.renewal_sets_failing);
    header(
        &mut out,
        "peter_renewal_failures",
        "gauge",
        "Failed renewal attempts not yet followed by a success.",
    );
    let _ = writeln!(out, "peter_renewal_failures {}", m.renewal_failures);

    let horizons =
        EXPIRY_HORIZONS_DAYS.map(|d| crate::model::rules::later_by(now, time::Duration::days(d)));
    let (expiring, earliest) = store.active_expiry_summary(&horizons).await?;
    header(
        &mut out,
        "peter_certificates_expiring",
        "gauge",
        "Active certificates whose validity ends within the given number of days.",
    );
    for (count, days) in expiring.iter().zip(EXPIRY_HORIZONS_DAYS) {
        let _ = writeln!(
            out,
            "peter_certificates_expiring{{within_days=\"{days}\"}} {count}"
        );
    }
    header(
        &mut out,
        "peter_certificate_earliest_expiration_timestamp_seconds",
        "gauge",
        "End of validity of the active certificate that ends first (Unix time; absent without one).",
    );
    if let Some(t) = earliest {
        let _ = writeln!(
            out,
            "peter_certificate_earliest_expiration_timestamp_seconds {}",
            t.unix_timestamp()
        );
    }
    if per_certificate {
        header(
            &mut out,
            "peter_certificate_expiration_timestamp_seconds",
            "gauge",
            "End of validity of each active certificate (Unix time).",
        );
        // Keyset pages of three columns: a page costs its own rows.
        let mut after = CertificateSignedId(0);
        loop {
            let page = store.active_certificate_expirations(after, PAGE).await?;
            for e in &page {
                let _ = writeln!(
                    out,
                    "peter_certificate_expiration_timestamp_seconds{{id=\"{}\",domain=\"{}\"}} {}",
                    e.id,
                    label(&e.first_domain),
                    e.not_after.unix_timestamp()
                );
            }
            match page.last() {
                Some(last) if page.len() as u64 == PAGE => after = last.id,
                _ => break,
            }
        }
    }
    Ok(out)
}
