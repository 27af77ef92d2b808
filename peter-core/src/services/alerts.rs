//! Alerts: telling operators when renewals are in trouble. Each alert goes
//! to every configured target (a webhook, a command); every delivery is
//! recorded, tried three times with a backoff within a run, and tried again
//! by later runs until it is accepted or a week old. One subject (a
//! certificate, an account) raises one alert per condition per day.

use std::sync::Arc;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::error::Error;
use crate::model::*;
use crate::ports::*;

/// Tries per delivery within one run.
const TRIES: u32 = 3;
/// One alert per subject, condition and target within a day: how far
/// back to look for an earlier one.
const PERIOD_BACK: Duration = Duration::days(-1);
/// Undelivered alerts older than a week are no longer tried.
const RETRY_BACK: Duration = Duration::days(-7);
/// Deliveries retried per run at most.
const RETRY_BATCH: u64 = 100;

/// Something to tell the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// What it is about.
    pub condition: AlertCondition,
    /// The certificate concerned.
    pub certificate_signed_id: Option<CertificateSignedId>,
    /// The account concerned.
    pub acme_account_id: Option<AcmeAccountId>,
    /// The names concerned, for people.
    pub domains: Option<String>,
    /// What happened, for people.
    pub message: String,
    /// The CA's problem, when it gave one.
    pub problem: Option<Problem>,
    /// The CA's explanation page, when it gave one.
    pub explanation_url: Option<String>,
}

impl Alert {
    /// What de-duplicates it: the certificate, else the account.
    fn subject(&self) -> String {
        match (self.certificate_signed_id, self.acme_account_id) {
            (Some(c), _) => format!("certificate:{c}"),
            (None, Some(a)) => format!("account:{a}"),
            (None, None) => "peter".into(),
        }
    }
}

/// The JSON document a target receives.
#[derive(Debug, Serialize)]
struct AlertDocument<'a> {
    condition: &'static str,
    subject: &'a str,
    certificate_signed_id: Option<i64>,
    acme_account_id: Option<i64>,
    domains: Option<&'a str>,
    message: &'a str,
    problem: Option<&'a Problem>,
    explanation_url: Option<&'a str>,
    raised_at: String,
    node: &'a str,
}

/// A delivery, as a run reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertOutcome {
    /// The delivery.
    pub id: AlertDeliveryId,
    /// What it was about.
    pub condition: AlertCondition,
    /// What it concerned.
    pub subject: String,
    /// Where it went.
    pub target: String,
    /// Where it stands.
    pub status: AlertStatus,
    /// The last try's error.
    pub last_error: Option<String>,
}

impl From<&AlertDelivery> for AlertOutcome {
    fn from(d: &AlertDelivery) -> Self {
        Self {
            id: d.id,
            condition: d.condition,
            subject: d.subject.clone(),
            target: d.target.clone(),
            status: d.status,
            last_error: d.last_error.clone(),
        }
    }
}

/// Raises and delivers alerts.
pub struct Alerter<'a> {
    /// Where deliveries are recorded.
    pub store: &'a dyn Store,
    /// Time (backoff sleeps go through it too).
    pub clock: &'a dyn Clock,
    /// Where alerts go.
    pub targets: &'a [Arc<dyn AlertTarget>],
    /// This node's name, told to the targets.
    pub node: &'a str,
}

impl Alerter<'_> {
    /// Records `alert` for every target (unless that subject raised it
    /// within a day) and delivers it.
    pub async fn raise(&self, alert: &Alert) -> Result<Vec<AlertOutcome>, Error> {
        let mut out = Vec::new();
        if self.targets.is_empty() {
            return Ok(out);
        }
        let now = self.clock.now();
        let subject = alert.subject();
        let document = AlertDocument {
            condition: alert.condition.as_str(),
            subject: &subject,
            certificate_signed_id: alert.certificate_signed_id.map(|c| c.0),
            acme_account_id: alert.acme_account_id.map(|a| a.0),
            domains: alert.domains.as_deref(),
            message: &alert.message,
            problem: alert.problem.as_ref(),
            explanation_url: alert.explanation_url.as_deref(),
            raised_at: now
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            node: self.node,
        };
        let payload = serde_json::to_string(&document).unwrap_or_default();
        for target in self.targets {
            let recorded = self
                .store
                .record_alert(
                    NewAlertDelivery {
                        condition: alert.condition,
                        subject: subject.clone(),
                        certificate_signed_id: alert.certificate_signed_id,
                        acme_account_id: alert.acme_account_id,
                        target: target.name().to_string(),
                        payload: payload.clone(),
                    },
                    crate::model::rules::later_by(now, PERIOD_BACK),
                )
                .await?;
            if let Some(delivery) = recorded {
                out.push(AlertOutcome::from(
                    &self.deliver(target.as_ref(), delivery).await?,
                ));
            }
        }
        Ok(out)
    }

    /// Tries again the deliveries earlier runs could not make (a week back
    /// at most), to the targets still configured.
    pub async fn retry_undelivered(&self) -> Result<Vec<AlertOutcome>, Error> {
        let mut out = Vec::new();
        if self.targets.is_empty() {
            return Ok(out);
        }
        let since = crate::model::rules::later_by(self.clock.now(), RETRY_BACK);
        for delivery in self.store.undelivered_alerts(since, RETRY_BATCH).await? {
            let Some(target) = self.targets.iter().find(|t| t.name() == delivery.target) else {
                continue;
            };
            out.push(AlertOutcome::from(
                &self.deliver(target.as_ref(), delivery).await?,
            ));
        }
        Ok(out)
    }

    /// Up to three tries, 1 s then 2 s apart; each is recorded.
    async fn deliver(
        &self,
        target: &dyn AlertTarget,
        mut delivery: AlertDelivery,
    ) -> Result<AlertDelivery, Error> {
        for attempt in 1..=TRIES {
            let result = target.deliver(&delivery.payload).await;
            delivery = self
                .store
                .record_alert_attempt(
                    delivery.id,
                    result.is_ok(),
                    result.as_ref().err().map(String::as_str),
                )
                .await?;
            match result {
                Ok(()) => return Ok(delivery),
                Err(why) => {
                    tracing::warn!(alert = %delivery.id, target = target.name(), attempt, %why, "alert delivery failed");
                    if attempt < TRIES {
                        self.clock
                            .sleep(std::time::Duration::from_secs(u64::from(attempt)))
                            .await;
                    }
                }
            }
        }
        Ok(delivery)
    }
}

/// Whether a certificate valid `[not_before, not_after]` is close enough
/// to its end at `now` to alert when it is not renewed: less than a third
/// of its lifetime, and at most 14 days, left.
pub fn is_expiring(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    now: OffsetDateTime,
) -> bool {
    let lifetime = crate::model::rules::between(not_before, not_after);
    let threshold = lifetime
        .checked_div(3)
        .unwrap_or(lifetime)
        .min(Duration::days(14));
    crate::model::rules::between(now, not_after) < threshold
}

/// Whether the CA's problem says the account is deactivated.
pub fn says_account_deactivated(problem: &Problem) -> bool {
    problem.short_type() == "unauthorized"
        && problem
            .detail
            .as_deref()
            .is_some_and(|d| d.to_ascii_lowercase().contains("deactivated"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn expiring_means_a_third_of_the_lifetime_and_at_most_fourteen_days() {
        let nb = datetime!(2026-01-01 0:00 UTC);
        let na = datetime!(2026-04-01 0:00 UTC); // 90 days
        assert!(
            !is_expiring(nb, na, datetime!(2026-03-10 0:00 UTC)),
            "22 days left"
        );
        assert!(
            is_expiring(nb, na, datetime!(2026-03-19 0:00 UTC)),
            "13 days left"
        );
        // A 6-day certificate: a third is 2 days.
        let na = datetime!(2026-01-07 0:00 UTC);
        assert!(!is_expiring(nb, na, datetime!(2026-01-04 0:00 UTC)));
        assert!(is_expiring(nb, na, datetime!(2026-01-05 12:00 UTC)));
    }

    #[test]
    fn a_deactivated_account_is_recognised_from_the_problem() {
        let p = |t: &str, d: &str| Problem {
            problem_type: Some(format!("urn:ietf:params:acme:error:{t}")),
            detail: Some(d.into()),
            status: Some(403),
        };
        assert!(says_account_deactivated(&p(
            "unauthorized",
            "Account has been deactivated"
        )));
        assert!(!says_account_deactivated(&p(
            "unauthorized",
            "no such authorization"
        )));
        assert!(!says_account_deactivated(&p("malformed", "deactivated")));
    }
}
