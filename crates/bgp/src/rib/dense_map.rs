//! A hash map for full tables: entries dense in one vector, the hash index
//! holding only their 4-octet positions.
//!
//! A map of whole entries keeps its buckets at most 7/8 full and doubles
//! them, so 1 000 000 prefixes pay for two million entry-sized buckets;
//! `indexmap` fixes the buckets but grows its entry vector to the index's
//! capacity (1.8 million for a million entries) and stores each hash. Here
//! the index costs 5 octets a bucket and the vector grows by plain doubling,
//! about half the memory of either for a full table.

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use std::hash::{BuildHasher, Hash};

#[derive(Debug)]
pub(crate) struct DenseMap<K, V> {
    index: HashTable<u32>,
    entries: Vec<(K, V)>,
}

impl<K, V> Default for DenseMap<K, V> {
    fn default() -> Self {
        DenseMap {
            index: HashTable::new(),
            entries: Vec::new(),
        }
    }
}

fn hash<K: Hash>(key: &K) -> u64 {
    FxBuildHasher.hash_one(key)
}

/// Positions are `u32`: four billion prefixes are far beyond any memory
/// this runs in, and the index stays small.
fn position(i: u32) -> usize {
    i as usize
}

impl<K: Hash + Eq, V> DenseMap<K, V> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn find(&self, key: &K) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash(key), |&i| {
                entries.get(position(i)).is_some_and(|(k, _)| k == key)
            })
            .map(|&i| position(i))
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key)
            .and_then(|i| self.entries.get(i))
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let i = self.find(key)?;
        self.entries.get_mut(i).map(|(_, v)| v)
    }

    /// Adds an entry for a key that is not in the map. Returns false (and
    /// drops nothing in) once the map holds `u32::MAX` entries.
    pub fn insert_new(&mut self, key: K, value: V) -> bool {
        let Ok(at) = u32::try_from(self.entries.len()) else {
            return false;
        };
        let entries = &self.entries;
        self.index.insert_unique(hash(&key), at, |&i| {
            entries.get(position(i)).map_or(0, |(k, _)| hash(k))
        });
        self.entries.push((key, value));
        true
    }

    /// Removes `key`; the last entry takes its place (order means nothing).
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let h = hash(key);
        let entries = &self.entries;
        let slot = self
            .index
            .find_entry(h, |&i| {
                entries.get(position(i)).is_some_and(|(k, _)| k == key)
            })
            .ok()?;
        let (at, _) = slot.remove();
        let at = position(at);
        let last = self.entries.len().checked_sub(1)?;
        if at != last {
            // The last entry moves to `at`: repoint its index slot.
            let moved = self.entries.get(last).map(|(k, _)| hash(k))?;
            let from = u32::try_from(last).ok()?;
            let to = u32::try_from(at).ok()?;
            if let Some(i) = self.index.find_mut(moved, |&i| i == from) {
                *i = to;
            }
        }
        Some(self.entries.swap_remove(at).1)
    }

    /// Keeps the entries `keep` says yes to, then rebuilds the index: for
    /// whole-table passes (a session going down), not per UPDATE.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let before = self.entries.len();
        self.entries.retain_mut(|(k, v)| keep(k, v));
        if self.entries.len() == before {
            return;
        }
        self.index.clear();
        for (at, (key, _)) in self.entries.iter().enumerate() {
            let Ok(at) = u32::try_from(at) else { break };
            let entries = &self.entries;
            self.index.insert_unique(hash(key), at, |&i| {
                entries.get(position(i)).map_or(0, |(k, _)| hash(k))
            });
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn insert_get_remove() {
        let mut m = DenseMap::default();
        for k in 0u32..100 {
            assert!(m.insert_new(k, k * 2));
        }
        assert_eq!(m.get(&7), Some(&14));
        assert_eq!(m.remove(&0), Some(0));
        assert_eq!(m.get(&0), None);
        // The last entry moved into the hole and is still found.
        assert_eq!(m.get(&99), Some(&198));
        assert_eq!(m.len(), 99);
        m.retain(|k, _| k % 2 == 0);
        assert_eq!(m.len(), 49);
        assert_eq!(m.get(&98), Some(&196));
        assert_eq!(m.get(&97), None);
    }

    proptest! {
        /// Any sequence of inserts, removals and retains agrees with std's map.
        #[test]
        fn behaves_like_a_hash_map(ops in proptest::collection::vec((0u8..3, 0u16..64), 0..400)) {
            let mut m = DenseMap::default();
            let mut model = HashMap::new();
            for (op, k) in ops {
                match op {
                    0 => {
                        if let std::collections::hash_map::Entry::Vacant(e) = model.entry(k) {
                            e.insert(u32::from(k));
                            prop_assert!(m.insert_new(k, u32::from(k)));
                        }
                    }
                    1 => prop_assert_eq!(m.remove(&k), model.remove(&k)),
                    _ => {
                        m.retain(|key, _| *key % 3 != k % 3);
                        model.retain(|key, _| *key % 3 != k % 3);
                    }
                }
                prop_assert_eq!(m.len(), model.len());
                for (key, value) in &model {
                    prop_assert_eq!(m.get(key), Some(value));
                }
            }
        }
    }
}
