//! Requests to the public challenge route, counted in memory and written in
//! batches, so that anonymous traffic cannot grow storage or memory without
//! bound.
//!
//! Every request is tallied per key (a known challenge and the address that
//! asked; an unknown host and token) with a count and the first and last
//! time seen. At most [`PollSettings::keys_in_memory`] keys of each kind are
//! held; when the unknown side is full, the key seen first is dropped to
//! make room (its count is lost, which the limit accepts). Tallies are
//! written to the store at most every [`PollSettings::flush_every`], in one
//! transaction that also keeps at most [`PollSettings::unknown_rows`] rows
//! of unknown polls (the least recently seen go). Requests for unknown
//! tokens beyond [`PollSettings::unknown_per_second`] are not tallied at all
//! and are answered 429; requests that match a pending challenge (a CA
//! validating) are never limited.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use time::OffsetDateTime;

use crate::model::AcmeChallengeId;
use crate::ports::{KnownPollTally, PollTallies, UnknownPollTally};

/// Limits on recording public challenge requests.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PollSettings {
    /// How often tallies are written to the store (default 5 s).
    pub flush_every: time::Duration,
    /// Distinct keys held in memory between writes, per kind (default 1,000).
    pub keys_in_memory: usize,
    /// Rows of unknown polls the store keeps (default 500).
    pub unknown_rows: u64,
    /// Requests for unknown tokens tallied per second, on average
    /// (default 50); the rest are answered 429.
    pub unknown_per_second: u32,
    /// Burst allowed above that rate (default 200).
    pub unknown_burst: u32,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            flush_every: time::Duration::seconds(5),
            keys_in_memory: 1_000,
            unknown_rows: 500,
            unknown_per_second: 50,
            unknown_burst: 200,
        }
    }
}

impl PollSettings {
    /// These limits with another write interval.
    pub fn with_flush_every(mut self, every: time::Duration) -> Self {
        self.flush_every = every;
        self
    }

    /// These limits with another rate for unknown tokens.
    pub fn with_unknown_rate(mut self, per_second: u32, burst: u32) -> Self {
        self.unknown_per_second = per_second;
        self.unknown_burst = burst;
        self
    }

    /// These limits with another cap on stored unknown polls.
    pub fn with_unknown_rows(mut self, rows: u64) -> Self {
        self.unknown_rows = rows;
        self
    }
}

/// What became of one request's tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tallied {
    /// Over the rate for unknown tokens: answer 429, nothing was counted.
    pub limited: bool,
    /// Tallies are due to be written ([`Challenges::flush_polls`](super::Challenges::flush_polls)):
    /// the caller that sees `true` is the only one told, until that write ends.
    pub flush_due: bool,
}

/// Counters since the process started (for monitoring).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollCounters {
    /// Requests answered 429 for being over the unknown-token rate.
    pub limited: u64,
    /// Unknown keys dropped from memory to make room.
    pub evicted: u64,
    /// Tallies lost because a write to the store failed.
    pub lost: u64,
}

type UnknownKey = (String, String);

#[derive(Debug, Default)]
struct Tallies {
    known: HashMap<(AcmeChallengeId, Option<String>), KnownPollTally>,
    unknown: HashMap<UnknownKey, UnknownPollTally>,
    /// Unknown keys in the order first seen (for eviction).
    unknown_order: VecDeque<UnknownKey>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Option<OffsetDateTime>,
}

/// The in-memory side of poll recording (one per facade).
#[derive(Debug)]
pub(crate) struct PollLedger {
    settings: PollSettings,
    tallies: Mutex<Tallies>,
    bucket: Mutex<Bucket>,
    last_flush: Mutex<Option<OffsetDateTime>>,
    flushing: AtomicBool,
    limited: AtomicU64,
    evicted: AtomicU64,
    lost: AtomicU64,
}

/// Longest host and token kept (a DNS name is at most 253 characters; an
/// ACME token is 43).
const MAX_HOST: usize = 253;
const MAX_TOKEN: usize = 64;

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

impl PollLedger {
    pub(crate) fn new(settings: PollSettings) -> Self {
        let burst = f64::from(settings.unknown_burst);
        Self {
            settings,
            tallies: Mutex::new(Tallies::default()),
            bucket: Mutex::new(Bucket {
                tokens: burst,
                at: None,
            }),
            last_flush: Mutex::new(None),
            flushing: AtomicBool::new(false),
            limited: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            lost: AtomicU64::new(0),
        }
    }

    pub(crate) fn settings(&self) -> &PollSettings {
        &self.settings
    }

    /// Takes one token for an unknown request; `false` when over the rate.
    fn admit_unknown(&self, now: OffsetDateTime) -> bool {
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let rate = f64::from(self.settings.unknown_per_second);
        let burst = f64::from(self.settings.unknown_burst.max(1));
        if let Some(at) = bucket.at {
            let elapsed = crate::model::rules::between(at, now)
                .as_seconds_f64()
                .max(0.0);
            bucket.tokens = elapsed.mul_add(rate, bucket.tokens).min(burst);
        }
        bucket.at = Some(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Counts a request for a known challenge.
    pub(crate) fn known(
        &self,
        id: AcmeChallengeId,
        remote_ip: Option<String>,
        now: OffsetDateTime,
    ) -> Tallied {
        {
            let mut t = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
            let full = t.known.len() >= self.settings.keys_in_memory;
            // Over the cap, new addresses share the challenge's address-less tally.
            let key = if full && !t.known.contains_key(&(id, remote_ip.clone())) {
                (id, None)
            } else {
                (id, remote_ip)
            };
            let entry = t.known.entry(key.clone()).or_insert(KnownPollTally {
                challenge: id,
                remote_ip: key.1,
                count: 0,
                first: now,
                last: now,
            });
            entry.count = entry.count.saturating_add(1);
            entry.last = now;
        }
        Tallied {
            limited: false,
            flush_due: self.claim_flush(now),
        }
    }

    /// Counts a request for an unknown host or token, unless over the rate.
    pub(crate) fn unknown(
        &self,
        host: &str,
        token: &str,
        remote_ip: Option<String>,
        now: OffsetDateTime,
    ) -> Tallied {
        if !self.admit_unknown(now) {
            self.limited.fetch_add(1, Ordering::Relaxed);
            return Tallied {
                limited: true,
                flush_due: self.claim_flush(now),
            };
        }
        {
            let mut t = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
            let key = (clip(host, MAX_HOST), clip(token, MAX_TOKEN));
            if let Some(entry) = t.unknown.get_mut(&key) {
                entry.count = entry.count.saturating_add(1);
                entry.last = now;
                entry.remote_ip = remote_ip;
            } else {
                while t.unknown.len() >= self.settings.keys_in_memory.max(1) {
                    let Some(oldest) = t.unknown_order.pop_front() else {
                        break;
                    };
                    if t.unknown.remove(&oldest).is_some() {
                        self.evicted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                t.unknown_order.push_back(key.clone());
                t.unknown.insert(
                    key.clone(),
                    UnknownPollTally {
                        host: key.0,
                        token: key.1,
                        remote_ip,
                        count: 1,
                        first: now,
                        last: now,
                    },
                );
            }
        }
        Tallied {
            limited: false,
            flush_due: self.claim_flush(now),
        }
    }

    /// `true` for exactly one caller once a write is due.
    fn claim_flush(&self, now: OffsetDateTime) -> bool {
        {
            let mut last = self.last_flush.lock().unwrap_or_else(|e| e.into_inner());
            match *last {
                None => {
                    *last = Some(now);
                    return false;
                }
                Some(at) if crate::model::rules::between(at, now) < self.settings.flush_every => {
                    return false;
                }
                Some(_) => {}
            }
        }
        self.flushing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Takes the tallies for a write, or `None` when another write is
    /// running (`claimed`: the caller already holds the write, from a
    /// [`Tallied::flush_due`]).
    pub(crate) fn take(&self, claimed: bool, now: OffsetDateTime) -> Option<PollTallies> {
        if !claimed
            && self
                .flushing
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return None;
        }
        *self.last_flush.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
        let taken = std::mem::take(&mut *self.tallies.lock().unwrap_or_else(|e| e.into_inner()));
        Some(PollTallies {
            known: taken.known.into_values().collect(),
            unknown: taken.unknown.into_values().collect(),
            unknown_rows: self.settings.unknown_rows,
        })
    }

    /// Ends a write; `lost` tallies could not be written.
    pub(crate) fn done(&self, lost: u64) {
        if lost > 0 {
            self.lost.fetch_add(lost, Ordering::Relaxed);
        }
        self.flushing.store(false, Ordering::Release);
    }

    pub(crate) fn counters(&self) -> PollCounters {
        PollCounters {
            limited: self.limited.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(s)
    }

    #[test]
    fn unknown_keys_are_capped_and_the_rate_is_enforced() {
        let ledger = PollLedger::new(PollSettings {
            keys_in_memory: 3,
            unknown_per_second: 1,
            unknown_burst: 5,
            ..PollSettings::default()
        });
        let mut limited = 0;
        for i in 0..10 {
            if ledger.unknown("h", &format!("t{i}"), None, at(0)).limited {
                limited += 1;
            }
        }
        assert_eq!(limited, 5, "burst of 5, no time passed");
        let taken = ledger.take(false, at(0)).expect("no write running");
        assert_eq!(taken.unknown.len(), 3, "capped at 3 keys");
        assert!(taken.unknown.iter().any(|t| t.token == "t4"), "newest kept");
        ledger.done(0);
        assert_eq!(ledger.counters().evicted, 2);
        assert_eq!(ledger.counters().limited, 5);
        // One second later one more token is available.
        assert!(!ledger.unknown("h", "again", None, at(1)).limited);
        assert!(ledger.unknown("h", "again", None, at(1)).limited);
    }

    #[test]
    fn one_caller_is_told_to_write_per_interval() {
        let ledger = PollLedger::new(PollSettings::default());
        let id = AcmeChallengeId(1);
        assert!(!ledger.known(id, None, at(0)).flush_due);
        assert!(!ledger.known(id, None, at(4)).flush_due);
        assert!(ledger.known(id, None, at(6)).flush_due);
        assert!(
            !ledger.known(id, None, at(7)).flush_due,
            "a write is running"
        );
        let taken = ledger.take(true, at(7)).expect("claimed");
        assert_eq!(taken.known.len(), 1);
        assert_eq!(taken.known[0].count, 4);
        assert_eq!(taken.known[0].first, at(0));
        assert_eq!(taken.known[0].last, at(7));
        ledger.done(0);
        assert!(!ledger.known(id, None, at(8)).flush_due);
        assert!(ledger.known(id, None, at(13)).flush_due);
    }

    #[test]
    fn long_hosts_and_tokens_are_clipped() {
        let ledger = PollLedger::new(PollSettings::default());
        ledger.unknown(&"h".repeat(5000), &"t".repeat(300), None, at(0));
        let taken = ledger.take(false, at(0)).expect("write");
        assert_eq!(taken.unknown[0].host.len(), MAX_HOST);
        assert_eq!(taken.unknown[0].token.len(), MAX_TOKEN);
    }
}
