//! Persistent collections: cloning is O(1) and a change copies only what
//! it touches, so a value kept for every stage of a long pipeline (the
//! SPL field scope recorded in the anchors) costs no copy per stage.
//!
//! [`PMap`] is a sorted map from names to values, a treap (a search tree
//! ordered by key, heap-ordered by a priority): an insert or removal
//! copies the O(log n) nodes on its path. The priority is a hash of the
//! key under a per-process random seed, so the expected depth is
//! logarithmic whatever names a rule uses. [`PList`] is a stack whose
//! clones share their tails.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, OnceLock};

type Link<V> = Option<Arc<Node<V>>>;

struct Node<V> {
    key: Arc<str>,
    val: V,
    prio: u64,
    left: Link<V>,
    right: Link<V>,
}

pub struct PMap<V> {
    root: Link<V>,
    len: usize,
}

fn priority(key: &str) -> u64 {
    static SEED: OnceLock<RandomState> = OnceLock::new();
    SEED.get_or_init(RandomState::new).hash_one(key)
}

impl<V: Clone> Node<V> {
    fn with(&self, left: Link<V>, right: Link<V>) -> Link<V> {
        Some(Arc::new(Node {
            key: Arc::clone(&self.key),
            val: self.val.clone(),
            prio: self.prio,
            left,
            right,
        }))
    }
}

/// `(keys < key, keys > key)`; an entry equal to `key` is dropped.
fn split<V: Clone>(t: &Link<V>, key: &str) -> (Link<V>, Link<V>) {
    let Some(n) = t else {
        return (None, None);
    };
    match key.cmp(&n.key) {
        Ordering::Less => {
            let (l, r) = split(&n.left, key);
            (l, n.with(r, n.right.clone()))
        }
        Ordering::Greater => {
            let (l, r) = split(&n.right, key);
            (n.with(n.left.clone(), l), r)
        }
        Ordering::Equal => (n.left.clone(), n.right.clone()),
    }
}

/// Join two trees, every key of `a` below every key of `b`.
fn merge<V: Clone>(a: Link<V>, b: Link<V>) -> Link<V> {
    match (a, b) {
        (None, t) | (t, None) => t,
        (Some(a), Some(b)) => {
            if a.prio >= b.prio {
                let right = merge(a.right.clone(), Some(b));
                a.with(a.left.clone(), right)
            } else {
                let left = merge(Some(a), b.left.clone());
                b.with(left, b.right.clone())
            }
        }
    }
}

impl<V> Default for PMap<V> {
    fn default() -> Self {
        PMap { root: None, len: 0 }
    }
}

impl<V> Clone for PMap<V> {
    fn clone(&self) -> Self {
        PMap {
            root: self.root.clone(),
            len: self.len,
        }
    }
}

impl<V: Clone> PMap<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        let mut t = &self.root;
        while let Some(n) = t {
            match key.cmp(&n.key) {
                Ordering::Less => t = &n.left,
                Ordering::Greater => t = &n.right,
                Ordering::Equal => return Some(&n.val),
            }
        }
        None
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn insert(&mut self, key: &str, val: V) {
        let existed = self.contains_key(key);
        let (l, r) = split(&self.root, key);
        let single = Some(Arc::new(Node {
            key: Arc::from(key),
            val,
            prio: priority(key),
            left: None,
            right: None,
        }));
        self.root = merge(merge(l, single), r);
        if !existed {
            self.len += 1;
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        let old = self.get(key).cloned()?;
        let (l, r) = split(&self.root, key);
        self.root = merge(l, r);
        self.len -= 1;
        Some(old)
    }

    /// Keep the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &V) -> bool) {
        let gone: Vec<Arc<str>> = self
            .iter()
            .filter(|(k, v)| !keep(k, v))
            .map(|(k, _)| Arc::from(k))
            .collect();
        for k in gone {
            self.remove(&k);
        }
    }

    /// Entries in key order.
    pub fn iter(&self) -> Iter<'_, V> {
        let mut it = Iter { stack: Vec::new() };
        it.descend(&self.root);
        it
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(k, _)| k)
    }
}

pub struct Iter<'a, V> {
    stack: Vec<&'a Node<V>>,
}

impl<'a, V> Iter<'a, V> {
    fn descend(&mut self, mut t: &'a Link<V>) {
        while let Some(n) = t {
            self.stack.push(n);
            t = &n.left;
        }
    }
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a str, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        let n = self.stack.pop()?;
        self.descend(&n.right);
        Some((&n.key, &n.val))
    }
}

impl<V: Clone, K: AsRef<str>> FromIterator<(K, V)> for PMap<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = PMap::default();
        for (k, v) in iter {
            m.insert(k.as_ref(), v);
        }
        m
    }
}

impl<V: Clone + PartialEq> PartialEq for PMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<V: Clone + Eq> Eq for PMap<V> {}

impl<V: Clone + fmt::Debug> fmt::Debug for PMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A persistent stack: `push` shares the previous list.
pub struct PList<T> {
    top: Option<Arc<PNode<T>>>,
    len: usize,
}

struct PNode<T> {
    item: T,
    below: Option<Arc<PNode<T>>>,
}

impl<T> Default for PList<T> {
    fn default() -> Self {
        PList { top: None, len: 0 }
    }
}

impl<T> Clone for PList<T> {
    fn clone(&self) -> Self {
        PList {
            top: self.top.clone(),
            len: self.len,
        }
    }
}

impl<T> PList<T> {
    pub fn push(&mut self, item: T) {
        self.top = Some(Arc::new(PNode {
            item,
            below: self.top.take(),
        }));
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Newest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        std::iter::successors(self.top.as_deref(), |n| n.below.as_deref()).map(|n| &n.item)
    }

    /// Oldest first.
    pub fn to_vec(&self) -> Vec<&T> {
        let mut v: Vec<&T> = self.iter().collect();
        v.reverse();
        v
    }
}

impl<T: PartialEq> PList<T> {
    pub fn contains(&self, x: &T) -> bool {
        self.iter().any(|y| y == x)
    }
}

impl<T: PartialEq> PartialEq for PList<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for PList<T> {}

impl<T: fmt::Debug> fmt::Debug for PList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

impl<T> Drop for PList<T> {
    fn drop(&mut self) {
        // Unlink iteratively: a long list must not recurse on drop.
        let mut next = self.top.take();
        while let Some(n) = next {
            match Arc::try_unwrap(n) {
                Ok(mut node) => next = node.below.take(),
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut m: PMap<usize> = PMap::default();
        let mut b = BTreeMap::new();
        // A fixed pseudo-random sequence of inserts and removals.
        let mut x = 12345u64;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = format!("k{}", (x >> 33) % 300);
            if (x >> 20).is_multiple_of(3) {
                assert_eq!(m.remove(&k), b.remove(&k));
            } else {
                m.insert(&k, (x % 1000) as usize);
                b.insert(k, (x % 1000) as usize);
            }
            assert_eq!(m.len(), b.len());
        }
        let got: Vec<(String, usize)> = m.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let want: Vec<(String, usize)> = b.into_iter().collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_clone_does_not_see_later_changes() {
        let mut a: PMap<u8> = [("x", 1), ("y", 2)].into_iter().collect();
        let before = a.clone();
        a.insert("z", 3);
        a.remove("x");
        assert_eq!(before.keys().collect::<Vec<_>>(), vec!["x", "y"]);
        assert_eq!(a.keys().collect::<Vec<_>>(), vec!["y", "z"]);
        a.retain(|k, _| k != "y");
        assert_eq!(a.keys().collect::<Vec<_>>(), vec!["z"]);
        assert_eq!(before.get("x"), Some(&1));
    }

    #[test]
    fn lists_share_their_tails() {
        let mut a: PList<String> = PList::default();
        a.push("x".into());
        let b = a.clone();
        a.push("y".into());
        assert_eq!(a.to_vec(), vec!["x", "y"]);
        assert_eq!(b.to_vec(), vec!["x"]);
        assert!(a.contains(&"y".to_string()) && !b.contains(&"y".to_string()));
        let mut long: PList<usize> = PList::default();
        for i in 0..200_000 {
            long.push(i);
        }
        assert_eq!(long.len(), 200_000);
        drop(long);
    }
}
