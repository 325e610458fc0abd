//! The credential helpers' answers, remembered for a while ([`TTL`]) and for a bounded
//! number of registries ([`CAPACITY`], least recently used out first): each miss starts a
//! helper process, and the relay must neither grow without end nor keep an answer the
//! user has since changed with `docker login` / `logout`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::credentials::Credential;

/// Registries whose helper answer is kept.
pub(crate) const CAPACITY: usize = 64;
/// How long an answer (a credential, or none) is kept.
pub(crate) const TTL: Duration = Duration::from_secs(300);

struct Entry {
    value: Option<Credential>,
    stored: Instant,
    /// [`Inner::uses`] when last read or written: the smallest is evicted first.
    used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    uses: u64,
}

/// Answers by `helper\0host`.
pub(crate) struct HelperCache {
    inner: Mutex<Inner>,
    capacity: usize,
    ttl: Duration,
}

impl Default for HelperCache {
    fn default() -> Self {
        HelperCache::new(CAPACITY, TTL)
    }
}

impl HelperCache {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        HelperCache {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
            ttl,
        }
    }

    /// The remembered answer for `key` (`Some(None)`: the helper had no credential), or
    /// `None` when the helper must be asked.
    pub(crate) fn get(&self, key: &str) -> Option<Option<Credential>> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.uses += 1;
        let uses = inner.uses;
        let ttl = self.ttl;
        match inner.entries.get_mut(key) {
            Some(e) if e.stored.elapsed() < ttl => {
                e.used = uses;
                Some(e.value.clone())
            }
            Some(_) => {
                inner.entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Remembers `value` for `key`, dropping expired answers and then the least recently
    /// used one when full.
    pub(crate) fn insert(&self, key: String, value: Option<Credential>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.uses += 1;
        let used = inner.uses;
        if !inner.entries.contains_key(&key) && inner.entries.len() >= self.capacity {
            let ttl = self.ttl;
            inner.entries.retain(|_, e| e.stored.elapsed() < ttl);
            while inner.entries.len() >= self.capacity {
                let Some(oldest) = inner
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.used)
                    .map(|(k, _)| k.clone())
                else {
                    break;
                };
                inner.entries.remove(&oldest);
            }
        }
        inner.entries.insert(
            key,
            Entry {
                value,
                stored: Instant::now(),
                used,
            },
        );
    }

    /// How many answers are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Secret;

    fn credential(name: &str) -> Option<Credential> {
        Some(Credential {
            username: name.to_owned(),
            secret: Secret::new("s"),
        })
    }

    #[test]
    fn least_recently_used_goes_first() {
        let cache = HelperCache::new(2, TTL);
        cache.insert("a".into(), credential("a"));
        cache.insert("b".into(), None);
        assert!(cache.get("a").is_some(), "a is now the most recent");
        cache.insert("c".into(), credential("c"));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("b").is_none(), "b was evicted");
        assert_eq!(cache.get("a").unwrap().unwrap().username, "a");
        assert_eq!(cache.get("c").unwrap().unwrap().username, "c");
    }

    #[test]
    fn answers_expire() {
        let cache = HelperCache::new(2, Duration::ZERO);
        cache.insert("a".into(), credential("a"));
        assert!(cache.get("a").is_none());
        assert_eq!(cache.len(), 0);
        let kept = HelperCache::new(2, TTL);
        kept.insert("a".into(), None);
        assert_eq!(
            kept.get("a").map(|v| v.is_none()),
            Some(true),
            "a kept 'none'"
        );
    }
}
