//! Domain `config.json` answers kept in memory and dropped per domain when
//! what the domain serves changes: at once in the process that made the
//! change, and through the store's change feed in every other process that
//! shares the store.
//!
//! A process answers from its cache only while it follows the feed: within
//! [`FRESHNESS`] of its last successful read of it. Cut off from the store,
//! it stops using the cache at once and every answer goes to the store
//! (which then fails closed). An answer read from the store while an
//! eviction happened is not kept (it may predate the change), and no entry
//! outlives [`MAX_AGE`] (a change whose feed entry was never written, by a
//! process that stopped between its commit and the feed, heals by then).

use std::sync::{Arc, Mutex, MutexGuard};

use lru::LruCache;
use time::OffsetDateTime;

use crate::ports::ConfigChanges;
use crate::services::publish::DomainConfig;

/// How long after its last successful read of the change feed a process
/// still answers from its cache.
pub const FRESHNESS: time::Duration = time::Duration::milliseconds(250);
/// How often the change feed is read.
pub const CHECK_EVERY: std::time::Duration = std::time::Duration::from_millis(100);
/// The longest an entry is kept.
pub const MAX_AGE: time::Duration = time::Duration::seconds(60);
/// A process that has not read the feed for this long drops everything when
/// it reads it again (the changes it missed may have been pruned).
const RESYNC_AFTER: time::Duration = time::Duration::seconds(5);

struct Entry {
    config: Arc<DomainConfig>,
    bytes: usize,
    stored_at: OffsetDateTime,
}

struct State {
    entries: LruCache<(String, bool), Entry>,
    bytes: usize,
    /// Moves on with every eviction.
    generation: u64,
    /// Where the next read of the feed starts.
    feed_at: Option<i64>,
    /// The last successful read of the feed.
    checked_at: Option<OffsetDateTime>,
}

impl State {
    fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.generation = self.generation.wrapping_add(1);
    }

    fn remove(&mut self, name: &str) {
        for id_only in [false, true] {
            if let Some(gone) = self.entries.pop(&(name.to_string(), id_only)) {
                self.bytes = self.bytes.saturating_sub(gone.bytes);
            }
        }
    }
}

/// The cache: bounded by the size of the answers it holds.
pub(crate) struct ConfigCache {
    capacity_bytes: usize,
    state: Mutex<State>,
}

impl ConfigCache {
    /// A cache holding at most `capacity_bytes` of answers (0: off).
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        Self {
            capacity_bytes,
            state: Mutex::new(State {
                entries: LruCache::unbounded(),
                bytes: 0,
                generation: 0,
                feed_at: None,
                checked_at: None,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the cache is on.
    pub(crate) fn enabled(&self) -> bool {
        self.capacity_bytes > 0
    }

    /// The answer for `name`, when held, young enough, and the feed was
    /// read within [`FRESHNESS`].
    pub(crate) fn get(
        &self,
        name: &str,
        id_only: bool,
        now: OffsetDateTime,
    ) -> Option<Arc<DomainConfig>> {
        let mut state = self.state();
        let fresh = state
            .checked_at
            .is_some_and(|at| crate::model::rules::between(at, now) <= FRESHNESS);
        if !fresh {
            return None;
        }
        let entry = state.entries.get(&(name.to_string(), id_only))?;
        (crate::model::rules::between(entry.stored_at, now) <= MAX_AGE)
            .then(|| entry.config.clone())
    }

    /// The eviction count, taken before a read from the store.
    pub(crate) fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Keeps an answer read from the store, unless an eviction happened
    /// since `generation` was taken or the feed was never read.
    pub(crate) fn insert(
        &self,
        name: String,
        id_only: bool,
        config: Arc<DomainConfig>,
        generation: u64,
        now: OffsetDateTime,
    ) {
        let bytes = serde_json::to_vec(config.as_ref())
            .map(|v| v.len())
            .unwrap_or(usize::MAX)
            .saturating_add(name.len().saturating_mul(2))
            .saturating_add(128);
        if bytes > self.capacity_bytes / 8 {
            return;
        }
        let mut state = self.state();
        if state.generation != generation || state.feed_at.is_none() {
            return;
        }
        let key = (name, id_only);
        if let Some(old) = state.entries.pop(&key) {
            state.bytes = state.bytes.saturating_sub(old.bytes);
        }
        state.entries.put(
            key,
            Entry {
                config,
                bytes,
                stored_at: now,
            },
        );
        state.bytes = state.bytes.saturating_add(bytes);
        while state.bytes > self.capacity_bytes {
            match state.entries.pop_lru() {
                Some((_, gone)) => state.bytes = state.bytes.saturating_sub(gone.bytes),
                None => break,
            }
        }
    }

    /// Drops the answers of `names` (`None`: all).
    pub(crate) fn evict(&self, names: Option<&[String]>) {
        let mut state = self.state();
        match names {
            None => state.clear(),
            Some(names) => {
                state.generation = state.generation.wrapping_add(1);
                for name in names {
                    state.remove(name);
                }
            }
        }
    }

    /// Where the next read of the change feed starts.
    pub(crate) fn feed_position(&self) -> Option<i64> {
        self.state().feed_at
    }

    /// Applies a successful read of the change feed made at `now`.
    pub(crate) fn checked(&self, changes: ConfigChanges, now: OffsetDateTime) {
        let mut state = self.state();
        let resync = state.feed_at.is_none()
            || state
                .checked_at
                .is_none_or(|at| crate::model::rules::between(at, now) > RESYNC_AFTER);
        match changes.names {
            _ if resync => state.clear(),
            None => state.clear(),
            Some(names) if !names.is_empty() => {
                state.generation = state.generation.wrapping_add(1);
                for name in &names {
                    state.remove(name);
                }
            }
            Some(_) => {}
        }
        state.feed_at = Some(changes.latest);
        state.checked_at = Some(now);
    }

    /// Answers held and their size, for metrics and tests.
    pub(crate) fn usage(&self) -> (usize, usize) {
        let state = self.state();
        (state.entries.len(), state.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::publish::DomainRef;

    fn config(name: &str) -> Arc<DomainConfig> {
        Arc::new(DomainConfig {
            domain: DomainRef {
                id: "1".into(),
                domain_name: name.into(),
                is_active: true,
            },
            latest_single: None,
            latest_multi: None,
        })
    }

    fn checked(cache: &ConfigCache, at: i64, names: Option<Vec<String>>, now: OffsetDateTime) {
        cache.checked(ConfigChanges { latest: at, names }, now);
    }

    #[test]
    fn answers_only_while_following_the_feed_and_drops_changed_names() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let cache = ConfigCache::new(1 << 20);
        // Nothing is kept before the feed was read once.
        cache.insert("a.example".into(), false, config("a"), 0, t0);
        assert!(cache.get("a.example", false, t0).is_none());
        checked(&cache, 7, Some(vec![]), t0);
        let g = cache.generation();
        cache.insert("a.example".into(), false, config("a"), g, t0);
        cache.insert("b.example".into(), false, config("b"), g, t0);
        assert!(cache.get("a.example", false, t0).is_some());
        // Past the freshness bound without a read of the feed: not used.
        let later = t0 + time::Duration::milliseconds(300);
        assert!(cache.get("a.example", false, later).is_none());
        // A read that names a.example drops it, keeps b.example.
        checked(&cache, 8, Some(vec!["a.example".into()]), later);
        assert!(cache.get("a.example", false, later).is_none());
        assert!(cache.get("b.example", false, later).is_some());
        assert_eq!(cache.feed_position(), Some(8));
        // An answer read before an eviction is not kept.
        let before = cache.generation();
        cache.evict(Some(&["c.example".to_string()]));
        cache.insert("c.example".into(), false, config("c"), before, later);
        assert!(cache.get("c.example", false, later).is_none());
        // "Everything" drops everything.
        checked(&cache, 9, None, later);
        assert_eq!(cache.usage().0, 0);
    }

    #[test]
    fn the_size_bound_holds_and_old_entries_expire() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let cache = ConfigCache::new(4096);
        checked(&cache, 1, Some(vec![]), t0);
        for i in 0..100 {
            let g = cache.generation();
            cache.insert(format!("n{i}.example"), false, config("x"), g, t0);
        }
        let (entries, bytes) = cache.usage();
        assert!(
            bytes <= 4096 && entries < 100 && entries > 0,
            "{entries} {bytes}"
        );
        // The most recent is held; after MAX_AGE nothing is served.
        assert!(cache.get("n99.example", false, t0).is_some());
        let old = t0 + MAX_AGE + time::Duration::seconds(1);
        checked(&cache, 1, Some(vec![]), old);
        assert!(cache.get("n99.example", false, old).is_none());
    }
}
