//! Application services: the operations a user asks for, written against the
//! ports so that the CLI, the HTTP API and embedding programs share them.

pub mod accounts;
pub mod alerts;
pub mod ca_preferences;
pub mod domains;
pub mod downloads;
pub mod import;
pub mod metrics;
pub mod orders;
pub mod publish;
pub mod renewals;

/// The longest Retry-After a step waits for before trying again; a CA
/// asking for longer ends the step (the order stays resumable).
const LONGEST_RETRY_WAIT_SECONDS: i64 = 10;

/// Runs an ACME call again when the server rejected the nonce, the
/// connection failed or the CA answered 5xx, up to `attempts` times in all,
/// waiting a little longer each time (and at least the Retry-After the CA
/// asked for, when that is short).
pub async fn retry_acme<T, F, Fut>(
    clock: &dyn crate::ports::Clock,
    attempts: u32,
    mut call: F,
) -> Result<T, crate::ports::AcmeError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::ports::AcmeError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if e.is_retryable() && attempt < attempts => {
                let asked = match &e {
                    crate::ports::AcmeError::Server {
                        retry_after_seconds: Some(s),
                        ..
                    } => *s,
                    _ => 0,
                };
                if asked > LONGEST_RETRY_WAIT_SECONDS {
                    return Err(e);
                }
                attempt = attempt.saturating_add(1);
                let backoff =
                    std::time::Duration::from_millis(20u64.saturating_mul(u64::from(attempt)));
                let asked = std::time::Duration::from_secs(u64::try_from(asked).unwrap_or(0));
                clock.sleep(backoff.max(asked)).await;
            }
            other => return other,
        }
    }
}
