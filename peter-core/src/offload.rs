//! CPU-heavy work (RSA key generation, parsing large bundles) runs on the
//! runtime's blocking pool, so the async workers keep answering the public
//! routes meanwhile. Outside a Tokio runtime it simply runs in place.

/// Runs `work` off the async workers and returns its result.
pub(crate) async fn off_workers<T, F>(work: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        // The work panicked: carry the panic on, as an inline call would.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Generates a key of `technology` off the async workers.
pub(crate) async fn generate_key(
    technology: crate::model::KeyTechnology,
) -> Result<crate::formats::ParsedPrivateKey, crate::formats::FormatError> {
    off_workers(move || crate::formats::ParsedPrivateKey::generate(technology)).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use crate::model::KeyTechnology;

    /// On a single-threaded runtime, a ticker keeps ticking while RSA-4096
    /// keys are generated: the generation does not hold the one worker.
    /// (Run inline, it would: the ticker could not tick until it ended.)
    #[tokio::test(flavor = "current_thread")]
    async fn key_generation_leaves_the_async_worker_free() {
        let ticks = Arc::new(AtomicU32::new(0));
        let ticker = {
            let ticks = ticks.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_millis(2));
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    every.tick().await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        tokio::task::yield_now().await;
        let before = ticks.load(Ordering::Relaxed);
        for _ in 0..2 {
            let key = super::generate_key(KeyTechnology::Rsa4096).await.unwrap();
            assert_eq!(key.technology, KeyTechnology::Rsa4096);
        }
        let during = ticks.load(Ordering::Relaxed) - before;
        ticker.abort();
        assert!(
            during >= 2,
            "the worker ticked {during} times during generation"
        );
    }
}
