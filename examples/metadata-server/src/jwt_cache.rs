//! [`JwtCache`]: a bounded cache of verified JWTs, so a client that sends the same token on
//! every call pays for one HS256 check instead of one per call (like Envoy's `jwt_authn`
//! `jwt_cache_config`).
//!
//! - Keyed by the SHA-256 digest of the token: the token itself is not kept.
//! - Only successes are stored: a token that failed any check (signature, algorithm, time,
//!   `project` claim) is verified again on its next use.
//! - An entry is used only while its token's time claims allow it: not at or after `exp`,
//!   not before `nbf`, checked against the clock at every lookup. An expired entry is
//!   removed, and the full check then answers `SessionExpired` as without a cache.
//! - Bounded: at most `capacity` entries, the least recently used evicted first.
//! - Each [`JwtAuth`](super::JwtAuth) owns its cache, so a token verified with one secret is
//!   never accepted by a `JwtAuth` with another.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use hashlink::LruCache;

use super::auth::AuthProject;

/// The key of a cached token: its SHA-256 digest.
pub(crate) type TokenKey = [u8; 32];

/// The key of `token` in a [`JwtCache`].
pub(crate) fn token_key(token: &str) -> TokenKey {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(digest.as_ref());
    key
}

/// What a verified token grants, with the window in which it may be used.
#[derive(Debug, Clone)]
struct Entry {
    project: AuthProject,
    /// `exp` claim (seconds since the epoch); the entry is unusable from then on.
    exp: Option<f64>,
    /// `nbf` claim; the entry is unusable before it.
    nbf: Option<f64>,
}

impl Entry {
    fn usable_at(&self, now: f64) -> bool {
        self.exp.is_none_or(|exp| now < exp) && self.nbf.is_none_or(|nbf| nbf <= now)
    }
}

/// A bounded cache of verified tokens. See the module docs.
pub struct JwtCache {
    entries: Mutex<LruCache<TokenKey, Entry>>,
    capacity: usize,
    hits: AtomicU64,
}

impl fmt::Debug for JwtCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl JwtCache {
    /// An empty cache holding at most `capacity` tokens (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        JwtCache {
            entries: Mutex::new(LruCache::new(capacity)),
            capacity,
            hits: AtomicU64::new(0),
        }
    }

    /// The most tokens kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many tokens are cached now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no token is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many verifications the cache answered so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<TokenKey, Entry>> {
        // The map is consistent after any panic (no update spans a panic point).
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached grant of `key`, if it is usable at `now`. An entry whose window is over is
    /// removed.
    pub(crate) fn get(&self, key: &TokenKey, now: f64) -> Option<AuthProject> {
        let mut entries = self.lock();
        let entry = entries.get(key)?;
        if entry.usable_at(now) {
            let project = entry.project.clone();
            drop(entries);
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Some(project);
        }
        if entry.exp.is_some_and(|exp| now >= exp) {
            entries.remove(key);
        }
        None
    }

    /// Stores a successful verification (evicting the least recently used entry when full).
    pub(crate) fn insert(
        &self,
        key: TokenKey,
        project: AuthProject,
        exp: Option<f64>,
        nbf: Option<f64>,
    ) {
        self.lock().insert(key, Entry { project, exp, nbf });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(project_id: u64) -> AuthProject {
        AuthProject {
            project_id,
            account: None,
        }
    }

    #[test]
    fn key_is_a_stable_digest_of_the_whole_token() {
        let key = token_key("header.claims.signature");
        assert_eq!(key, token_key("header.claims.signature"));
        assert_ne!(key, token_key("header.claims.signaturf"));
    }

    #[test]
    fn entry_is_used_only_inside_its_window() {
        let cache = JwtCache::new(4);
        let key = token_key("t");
        cache.insert(key, grant(1), Some(100.0), Some(50.0));
        assert_eq!(cache.get(&key, 49.9), None, "before nbf");
        assert_eq!(cache.len(), 1, "an entry before its nbf is kept");
        assert_eq!(cache.get(&key, 50.0), Some(grant(1)));
        assert_eq!(cache.get(&key, 99.9), Some(grant(1)));
        assert_eq!(cache.hits(), 2);
        assert_eq!(cache.get(&key, 100.0), None, "at exp");
        assert!(cache.is_empty(), "an expired entry is removed");
    }

    #[test]
    fn capacity_bounds_the_entries_and_evicts_the_least_recently_used() {
        let cache = JwtCache::new(2);
        let (a, b, c) = (token_key("a"), token_key("b"), token_key("c"));
        cache.insert(a, grant(1), None, None);
        cache.insert(b, grant(2), None, None);
        assert!(cache.get(&a, 0.0).is_some(), "a is now the most recent");
        cache.insert(c, grant(3), None, None);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&b, 0.0), None, "b was evicted");
        assert_eq!(cache.get(&a, 0.0), Some(grant(1)));
        assert_eq!(cache.get(&c, 0.0), Some(grant(3)));
        assert_eq!(JwtCache::new(0).capacity(), 1);
    }
}
