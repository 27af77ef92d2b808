//! Application services: the operations a user asks for, written against the
//! ports so that the CLI, the HTTP API and embedding programs share them.

pub mod accounts;
pub mod ca_preferences;
pub mod domains;
pub mod downloads;
pub mod import;
pub mod metrics;
pub mod orders;
pub mod publish;
pub mod renewals;

/// Runs an ACME call again when the server rejected the nonce or the
/// connection failed, up to `attempts` times in all.
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
                attempt = attempt.saturating_add(1);
                clock
                    .sleep(std::time::Duration::from_millis(
                        20u64.saturating_mul(u64::from(attempt)),
                    ))
                    .await;
            }
            other => return other,
        }
    }
}
