//! Tokens cached per (registry, realm, service, scope) until shortly before expiry, as
//! measured on a [`Clock`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Secret;
use crate::clock::Clock;

/// What a token was issued for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey {
    /// Registry origin (`https://registry-1.docker.io`).
    pub(crate) registry: String,
    pub(crate) realm: String,
    pub(crate) service: String,
    pub(crate) scope: String,
}

struct Entry {
    secret: Secret,
    expires_at: Instant,
}

/// Bounded map of live tokens.
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<TokenKey, Entry>>,
    clock: Arc<dyn Clock>,
}

const MAX_ENTRIES: usize = 4096;

impl TokenCache {
    /// An empty cache whose tokens expire on `clock`.
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        TokenCache {
            entries: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// A token still valid for `key`.
    pub(crate) fn get(&self, key: &TokenKey) -> Option<Secret> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some(e) if e.expires_at > self.clock.now() => Some(e.secret.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Stores a token valid for `ttl` (a margin is taken off so it is not used at the edge).
    pub(crate) fn insert(&self, key: TokenKey, secret: Secret, ttl: Duration) {
        let margin = (ttl / 10).min(Duration::from_secs(10));
        let now = self.clock.now();
        let expires_at = now + ttl.saturating_sub(margin);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.expires_at > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, Entry { secret, expires_at });
    }

    /// How long the token for `key` will still be used.
    #[cfg(test)]
    fn lifetime(&self, key: &TokenKey) -> Option<Duration> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .map(|e| e.expires_at.saturating_duration_since(self.clock.now()))
    }

    /// Forgets the token for `key` (after the registry rejected it).
    pub(crate) fn remove(&self, key: &TokenKey) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    /// A clock that moves only when told.
    struct HandClock(Mutex<Instant>);

    impl HandClock {
        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
    }

    impl Clock for HandClock {
        fn now(&self) -> Instant {
            *self.0.lock().unwrap()
        }
    }

    fn key(scope: &str) -> TokenKey {
        TokenKey {
            registry: "https://r".into(),
            realm: "https://a/token".into(),
            service: "r".into(),
            scope: scope.into(),
        }
    }

    #[test]
    fn keyed_and_expiring() {
        let cache = TokenCache::new(Arc::new(SystemClock));
        cache.insert(
            key("repository:a:pull"),
            Secret::new("t1"),
            Duration::from_secs(60),
        );
        assert_eq!(cache.get(&key("repository:a:pull")).unwrap().expose(), "t1");
        assert!(cache.get(&key("repository:b:pull")).is_none());
        let mut other_realm = key("repository:a:pull");
        other_realm.realm = "https://evil/token".into();
        assert!(cache.get(&other_realm).is_none());
        cache.insert(
            key("repository:c:pull"),
            Secret::new("t2"),
            Duration::from_millis(0),
        );
        assert!(cache.get(&key("repository:c:pull")).is_none());
        cache.remove(&key("repository:a:pull"));
        assert!(cache.get(&key("repository:a:pull")).is_none());
    }

    #[test]
    fn token_without_expiry_lives_60_s() {
        // GHCR's answer carries no `expires_in`.
        let token = crate::auth::token::parse_answer(br#"{"token":"djE6b3duZXIv"}"#).unwrap();
        assert_eq!(token.ttl, Duration::from_secs(60));
        let cache = TokenCache::new(Arc::new(SystemClock));
        cache.insert(key("repository:owner/image:pull"), token.secret, token.ttl);
        let left = cache.lifetime(&key("repository:owner/image:pull")).unwrap();
        // Used for 60 s less a safety margin (6 s), not refetched per request.
        assert!(
            left > Duration::from_secs(50) && left <= Duration::from_secs(54),
            "{left:?}"
        );
    }

    #[test]
    fn expires_by_the_clock_less_a_margin() {
        let clock = Arc::new(HandClock(Mutex::new(Instant::now())));
        let cache = TokenCache::new(clock.clone());
        let k = key("repository:a:pull");
        cache.insert(k.clone(), Secret::new("t"), Duration::from_secs(300));
        clock.advance(Duration::from_secs(289));
        assert!(cache.get(&k).is_some(), "used until 10 s before expiry");
        clock.advance(Duration::from_secs(1));
        assert!(cache.get(&k).is_none(), "not used at the edge");
    }
}
