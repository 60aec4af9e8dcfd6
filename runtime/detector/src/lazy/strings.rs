//! The strings the lazy reader builds, shared while they repeat.
//!
//! Most string columns of audit logs take few distinct values
//! (`DataSource`, `OperationName`, a resource kind, a user name): building
//! each as a new `Arc<str>` cost an allocation and a free per string per
//! row. [`StrCache`] keeps the last string seen in each of a fixed number of
//! places, chosen by a hash of the text, and hands out a reference-counted
//! copy when the text is the same. The value is an ordinary
//! [`Str::Shared`], so nothing downstream can tell the difference.
//!
//! A place holds one string: a different text that hashes to it replaces
//! it. So a lookup costs the same whatever the input (no chains to walk: a
//! line crafted to collide only makes the cache miss, which costs what
//! building the string always cost), and the cache holds at most
//! [`PLACES`] strings of at most [`LONGEST`] bytes. Longer strings (URIs,
//! request bodies) are seldom repeated and are built as before.

use std::sync::Arc;

use kql_runtime::value::Str;

/// The bits of a place's number.
const PLACE_BITS: u32 = 8;

/// How many strings the cache holds.
pub(crate) const PLACES: usize = 1 << PLACE_BITS;

/// Strings longer than this are not looked up: built each time.
pub(crate) const LONGEST: usize = 64;

/// Recently built strings, by a hash of their text (see the module
/// documentation). One per reader, so per thread: a clone starts empty,
/// so that two threads never count references to the same string on
/// every row.
#[derive(Default)]
pub(crate) struct StrCache {
    /// [`PLACES`] places once a string has been looked up (empty before:
    /// an empty cache allocates nothing).
    places: Vec<Option<Arc<str>>>,
}

impl Clone for StrCache {
    fn clone(&self) -> StrCache {
        StrCache::default()
    }
}

impl std::fmt::Debug for StrCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.places.iter().flatten().count();
        f.debug_struct("StrCache").field("held", &held).finish()
    }
}

impl StrCache {
    /// `text` as a string value: the cached one when the last string in
    /// its place has the same text, otherwise a new one, which takes the
    /// place.
    #[inline]
    pub(crate) fn get(&mut self, text: &str) -> Str {
        if text.len() > LONGEST {
            return Str::from(text);
        }
        if self.places.is_empty() {
            self.places.resize(PLACES, None);
        }
        let place = &mut self.places[place_of(text.as_bytes())];
        match place {
            Some(held) if **held == *text => Str::Shared(Arc::clone(held)),
            _ => {
                let built: Arc<str> = Arc::from(text);
                *place = Some(Arc::clone(&built));
                Str::Shared(built)
            }
        }
    }
}

/// The place of a text: a multiplicative hash of its bytes, eight at a
/// time (FxHash's step), folded to [`PLACES`]. Not keyed: collisions cost
/// a miss, never more (see the module documentation).
#[inline]
fn place_of(bytes: &[u8]) -> usize {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut hash = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        hash = (hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
    let mut last = [0u8; 8];
    let rest = words.remainder();
    last[..rest.len()].copy_from_slice(rest);
    hash = (hash.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    (hash >> (64 - PLACE_BITS)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(s: &Str) -> &Arc<str> {
        match s {
            Str::Shared(arc) => arc,
            other => panic!("not shared: {other:?}"),
        }
    }

    #[test]
    fn a_repeated_text_is_the_same_allocation() {
        let mut cache = StrCache::default();
        let a = cache.get("create");
        let b = cache.get("create");
        assert!(Arc::ptr_eq(shared(&a), shared(&b)));
        assert_eq!(a, Str::from("create"));
    }

    #[test]
    fn different_texts_stay_different_whatever_their_place() {
        let mut cache = StrCache::default();
        // Far more texts than places: every place is taken over and over.
        let texts: Vec<String> = (0..PLACES * 8).map(|i| format!("user-{i}")).collect();
        for round in 0..2 {
            for text in &texts {
                let got = cache.get(text);
                assert_eq!(got.as_str(), text, "round {round}");
            }
        }
        // Texts that differ only past the first eight bytes, or in length.
        for text in ["abcdefgh", "abcdefghi", "abcdefgh\0", "abcdefgi", "", "a"] {
            assert_eq!(cache.get(text).as_str(), text);
            assert_eq!(cache.get(text).as_str(), text);
        }
    }

    #[test]
    fn a_clone_starts_empty() {
        let mut cache = StrCache::default();
        let a = cache.get("pods");
        let mut copy = cache.clone();
        assert!(copy.places.is_empty());
        let b = copy.get("pods");
        assert_eq!(a, b);
        assert!(!Arc::ptr_eq(shared(&a), shared(&b)));
    }

    #[test]
    fn long_texts_are_built_each_time() {
        let mut cache = StrCache::default();
        let long = "x".repeat(LONGEST + 1);
        let a = cache.get(&long);
        let b = cache.get(&long);
        assert_eq!(a, b);
        assert!(!Arc::ptr_eq(shared(&a), shared(&b)));
        let edge = "y".repeat(LONGEST);
        assert!(Arc::ptr_eq(
            shared(&cache.get(&edge)),
            shared(&cache.get(&edge))
        ));
    }

    #[test]
    fn places_spread_short_texts() {
        // Not a guarantee the cache relies on, but a hash that put the
        // columns' few values in one place would make it useless.
        let used: std::collections::HashSet<usize> = (0..64)
            .map(|i| place_of(format!("value{i}").as_bytes()))
            .collect();
        assert!(used.len() > 40, "{} places for 64 texts", used.len());
    }
}
