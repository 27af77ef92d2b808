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
/// How many points back each read of the feed looks: on PostgreSQL a point
/// can become visible after a greater one (its transaction committed later),
/// so recent points are read again and only the ones not seen yet count.
pub(crate) const LOOKBACK: i64 = 256;

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
    /// Points of the feed already applied (within the look-back).
    seen: std::collections::BTreeSet<i64>,
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
                seen: std::collections::BTreeSet::new(),
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
        let bytes = size_of_config(&config)
            .saturating_add(name.len().saturating_mul(2))
            .saturating_add(256);
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

    /// Where the next read of the change feed starts (looking back
    /// [`LOOKBACK`] points before the newest one applied).
    pub(crate) fn feed_position(&self) -> Option<i64> {
        self.state()
            .feed_at
            .map(|at| at.saturating_sub(LOOKBACK).max(0))
    }

    /// Applies a successful read of the change feed made at `now`.
    pub(crate) fn checked(&self, changes: ConfigChanges, now: OffsetDateTime) {
        let mut state = self.state();
        let resync = state.feed_at.is_none()
            || state
                .checked_at
                .is_none_or(|at| crate::model::rules::between(at, now) > RESYNC_AFTER);
        let fresh: Vec<(i64, Option<String>)> = changes
            .entries
            .into_iter()
            .filter(|(id, _)| !state.seen.contains(id))
            .collect();
        if resync || changes.truncated || fresh.iter().any(|(_, name)| name.is_none()) {
            state.clear();
        } else if !fresh.is_empty() {
            state.generation = state.generation.wrapping_add(1);
            for (_, name) in &fresh {
                if let Some(name) = name {
                    state.remove(name);
                }
            }
        }
        let latest = state.feed_at.unwrap_or(0).max(changes.latest);
        state.seen.extend(fresh.iter().map(|(id, _)| *id));
        let floor = latest.saturating_sub(LOOKBACK.saturating_mul(2));
        state.seen = state.seen.split_off(&floor);
        state.feed_at = Some(latest);
        state.checked_at = Some(now);
    }

    /// Answers held and their size, for metrics and tests.
    pub(crate) fn usage(&self) -> (usize, usize) {
        let state = self.state();
        (state.entries.len(), state.bytes)
    }
}

/// The heap an answer holds, about (its strings; the PEMs dominate).
fn size_of_config(config: &DomainConfig) -> usize {
    use crate::services::publish::{CertificateConfig, PemRef};
    let pem = |p: &PemRef| {
        p.id.len()
            .saturating_add(p.pem.as_ref().map_or(0, String::len))
            .saturating_add(48)
    };
    let cert = |c: &CertificateConfig| {
        c.id.len()
            .saturating_add(pem(&c.private_key))
            .saturating_add(pem(&c.certificate))
            .saturating_add(c.chain.as_ref().map_or(0, pem))
            .saturating_add(pem(&c.fullchain))
    };
    config
        .domain
        .id
        .len()
        .saturating_add(config.domain.domain_name.len())
        .saturating_add(config.latest_single.as_ref().map_or(0, cert))
        .saturating_add(config.latest_multi.as_ref().map_or(0, cert))
        .saturating_add(std::mem::size_of::<DomainConfig>())
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

    /// A read of the feed up to point `at`, naming `names` (`None`: a
    /// change to everything) at the points just before it.
    fn checked(cache: &ConfigCache, at: i64, names: Option<Vec<String>>, now: OffsetDateTime) {
        let entries = match names {
            None => vec![(at, None)],
            Some(names) => {
                let n = names.len() as i64;
                names
                    .into_iter()
                    .enumerate()
                    .map(|(i, name)| (at - n + 1 + i as i64, Some(name)))
                    .collect()
            }
        };
        cache.checked(
            ConfigChanges {
                latest: at,
                entries,
                truncated: false,
            },
            now,
        );
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
        assert_eq!(
            cache.feed_position(),
            Some(0),
            "8 less the look-back, at least 0"
        );
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
        let cache = ConfigCache::new(64 * 1024);
        checked(&cache, 1, Some(vec![]), t0);
        for i in 0..1000 {
            let g = cache.generation();
            cache.insert(format!("n{i}.example"), false, config("x"), g, t0);
        }
        let (entries, bytes) = cache.usage();
        assert!(
            bytes <= 64 * 1024 && entries < 1000 && entries > 10,
            "{entries} {bytes}"
        );
        // The most recent is held; after MAX_AGE nothing is served.
        assert!(cache.get("n999.example", false, t0).is_some());
        assert!(
            cache.get("n0.example", false, t0).is_none(),
            "the oldest went first"
        );
        let old = t0 + MAX_AGE + time::Duration::seconds(1);
        checked(&cache, 1, Some(vec![]), old);
        assert!(cache.get("n999.example", false, old).is_none());
    }

    #[test]
    fn a_change_that_becomes_visible_late_still_evicts_and_a_reread_one_does_not() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let cache = ConfigCache::new(1 << 20);
        checked(&cache, 10, Some(vec![]), t0);
        let put = |name: &str| {
            let g = cache.generation();
            cache.insert(name.into(), false, config(name), g, t0);
        };
        put("a.example");
        put("b.example");
        // Point 12 is read first; point 11 (another transaction that
        // committed later) only on the next read, which looks back.
        let read = |entries: Vec<(i64, Option<String>)>, latest| {
            cache.checked(
                ConfigChanges {
                    latest,
                    entries,
                    truncated: false,
                },
                t0,
            )
        };
        assert_eq!(cache.feed_position(), Some(0));
        read(vec![(12, Some("b.example".into()))], 12);
        assert!(cache.get("b.example", false, t0).is_none());
        assert!(cache.get("a.example", false, t0).is_some());
        put("b.example");
        read(
            vec![
                (11, Some("a.example".into())),
                (12, Some("b.example".into())),
            ],
            12,
        );
        assert!(
            cache.get("a.example", false, t0).is_none(),
            "the late point"
        );
        assert!(
            cache.get("b.example", false, t0).is_some(),
            "a point already applied is not applied again"
        );
    }
}
