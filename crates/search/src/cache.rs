//! A small LRU cache of result pages, keyed by the normalised query (words after folding,
//! filters, sort, "open at" minute, limit and cursor).
//!
//! Correctness rests on a generation counter kept under the same lock as the entries: every
//! write to the index bumps it and empties the cache *after* its commit is visible, and a search
//! stores its page only if the generation it read *before* taking its searcher is still current.
//! So a page computed on a searcher older than some write is never stored after that write, and
//! a search that starts after a write returned never sees a page from before it (the deleted
//! hospital is gone from the cache the moment `delete_hospital` returns).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Pages kept per kind (hospital, doctor searches).
pub(crate) const CAPACITY: usize = 256;

pub(crate) struct PageCache<V> {
    state: Mutex<State<V>>,
}

struct State<V> {
    generation: u64,
    capacity: usize,
    tick: u64,
    entries: HashMap<String, (u64, V)>,
}

impl<V: Clone> PageCache<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        PageCache {
            state: Mutex::new(State {
                generation: 0,
                capacity,
                tick: 0,
                entries: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<V>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the cached page, or the generation to store a fresh one under.
    pub(crate) fn get(&self, key: &str) -> Result<V, u64> {
        let mut state = self.lock();
        state.tick += 1;
        let tick = state.tick;
        let generation = state.generation;
        match state.entries.get_mut(key) {
            Some((used, page)) => {
                *used = tick;
                Ok(page.clone())
            }
            None => Err(generation),
        }
    }

    /// Stores `page`, computed from a searcher taken after `generation` was read; dropped when
    /// the index changed since.
    pub(crate) fn put(&self, key: String, generation: u64, page: &V) {
        let mut state = self.lock();
        if state.generation != generation || state.capacity == 0 {
            return;
        }
        if state.entries.len() >= state.capacity
            && !state.entries.contains_key(&key)
            && let Some(oldest) = state
                .entries
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k.clone())
        {
            state.entries.remove(&oldest);
        }
        state.tick += 1;
        let tick = state.tick;
        state.entries.insert(key, (tick, page.clone()));
    }

    /// Forgets every page; called after every index change became visible.
    pub(crate) fn invalidate(&self) {
        let mut state = self.lock();
        state.generation += 1;
        state.entries.clear();
    }

    /// Changes the number of pages kept (0 turns the cache off) and empties it.
    pub(crate) fn set_capacity(&self, capacity: usize) {
        let mut state = self.lock();
        state.capacity = capacity;
        state.generation += 1;
        state.entries.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::PageCache;

    #[test]
    fn least_recently_used_page_goes_first_and_stale_pages_are_not_stored() {
        let cache = PageCache::new(2);
        let g = cache.get("a").unwrap_err();
        cache.put("a".into(), g, &1);
        cache.put("b".into(), g, &2);
        assert_eq!(cache.get("a"), Ok(1));
        cache.put("c".into(), g, &3);
        assert_eq!(cache.get("b").ok(), None, "b was least recently used");
        assert_eq!(cache.get("a"), Ok(1));
        assert_eq!(cache.get("c"), Ok(3));
        // a page computed before a write is not stored after it
        let before = cache.get("d").unwrap_err();
        cache.invalidate();
        cache.put("d".into(), before, &4);
        assert_eq!(cache.get("d").ok(), None);
        assert_eq!(cache.len(), 0);
        cache.set_capacity(0);
        let g = cache.get("e").unwrap_err();
        cache.put("e".into(), g, &5);
        assert_eq!(cache.len(), 0);
    }
}
