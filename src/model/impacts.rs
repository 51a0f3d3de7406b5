//! Sparse impact vectors: amounts per unit in a few externality categories.
//!
//! Owns the two stores ([`ImpactVec`] on the heap, [`SmallImpactVec`]
//! inline for the unit impacts of candidate links, read millions of times) and the one way to add into
//! either, [`add_scaled`], so that both give the same floating-point
//! results bit for bit.
//!
//! Invariant: every store is sorted by category, without duplicates, and
//! reads as a slice of `(category, amount)`; [`SmallImpactVec`] never drops
//! an entry (beyond its inline capacity it moves to the heap).

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::CategoryIdx;

/// Amounts per unit in a few impact categories, sorted by category, no duplicates.
pub type ImpactVec = Vec<(CategoryIdx, f64)>;

/// An impact vector that holds up to [`SmallImpactVec::INLINE`] categories
/// without a heap allocation, and more on the heap. A candidate link's unit
/// impacts (docs/model.md A2: transport impacts times distance plus the
/// substitution's impacts) come as one each time they are read; at a
/// million flows there are tens of millions of links, and a heap vector
/// each cost more time than the amounts themselves.
#[derive(Clone)]
pub struct SmallImpactVec(Store);

#[derive(Clone)]
enum Store {
    /// The first `len` entries hold the vector.
    Inline {
        len: u8,
        entries: [(CategoryIdx, f64); SmallImpactVec::INLINE],
    },
    /// More than [`SmallImpactVec::INLINE`] entries.
    Heap(ImpactVec),
}

/// What [`add_scaled`] needs of an impact store: a mutable sorted slice and
/// an insertion.
pub trait ImpactStore: DerefMut<Target = [(CategoryIdx, f64)]> {
    /// Inserts `entry` at `position`, shifting the later entries.
    fn insert_at(&mut self, position: usize, entry: (CategoryIdx, f64));
}

/// Adds `scale * b` into the sparse vector `a`, keeping it sorted by category.
pub fn add_scaled(a: &mut impl ImpactStore, b: &[(CategoryIdx, f64)], scale: f64) {
    for (category, amount) in b {
        match a.binary_search_by_key(category, |(c, _)| *c) {
            Ok(position) => a[position].1 += scale * amount,
            Err(position) => a.insert_at(position, (*category, scale * amount)),
        }
    }
}

impl ImpactStore for ImpactVec {
    fn insert_at(&mut self, position: usize, entry: (CategoryIdx, f64)) {
        self.insert(position, entry);
    }
}

impl SmallImpactVec {
    /// Entries held without a heap allocation. The embedded catalogue puts
    /// at most two categories on a link (co2e_t and road_freight_tkm on
    /// transport, co2e_t on a substitution); a user's catalogue may put
    /// more, which then go to the heap.
    pub const INLINE: usize = 2;

    pub fn new() -> Self {
        Self(Store::Inline {
            len: 0,
            entries: [(CategoryIdx(0), 0.0); Self::INLINE],
        })
    }

    /// Whether the entries live on the heap (more than [`Self::INLINE`]).
    #[cfg(test)]
    fn spilled(&self) -> bool {
        matches!(self.0, Store::Heap(_))
    }
}

impl Default for SmallImpactVec {
    fn default() -> Self {
        Self::new()
    }
}

impl ImpactStore for SmallImpactVec {
    fn insert_at(&mut self, position: usize, entry: (CategoryIdx, f64)) {
        let heap = match &mut self.0 {
            Store::Heap(heap) => return heap.insert(position, entry),
            Store::Inline { len, entries } => {
                let n = usize::from(*len);
                if n < Self::INLINE {
                    entries.copy_within(position..n, position + 1);
                    entries[position] = entry;
                    *len += 1;
                    return;
                }
                let mut heap = Vec::with_capacity(n + 1);
                heap.extend_from_slice(&entries[..n]);
                heap.insert(position, entry);
                heap
            }
        };
        self.0 = Store::Heap(heap);
    }
}

impl Deref for SmallImpactVec {
    type Target = [(CategoryIdx, f64)];

    fn deref(&self) -> &Self::Target {
        match &self.0 {
            Store::Inline { len, entries } => &entries[..usize::from(*len)],
            Store::Heap(heap) => heap,
        }
    }
}

impl DerefMut for SmallImpactVec {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match &mut self.0 {
            Store::Inline { len, entries } => &mut entries[..usize::from(*len)],
            Store::Heap(heap) => heap,
        }
    }
}

/// Equal when the entries are, wherever they live.
impl PartialEq for SmallImpactVec {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl fmt::Debug for SmallImpactVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [(CategoryIdx, f64); 2] = [(CategoryIdx(0), 1.0), (CategoryIdx(2), 2.0)];
    const B: [(CategoryIdx, f64); 2] = [(CategoryIdx(1), 1.0), (CategoryIdx(2), 1.0)];
    const A_PLUS_3B: [(CategoryIdx, f64); 3] = [(CategoryIdx(0), 1.0), (CategoryIdx(1), 3.0), (CategoryIdx(2), 5.0)];

    #[test]
    fn add_scaled_merges_sorted() {
        let mut a = A.to_vec();
        add_scaled(&mut a, &B, 3.0);
        assert_eq!(a, A_PLUS_3B);
    }

    #[test]
    fn a_small_vector_adds_like_a_heap_one_and_spills_beyond_its_capacity() {
        let mut small = SmallImpactVec::new();
        add_scaled(&mut small, &A, 1.0);
        assert!(!small.spilled());
        assert_eq!(*small, A);
        add_scaled(&mut small, &B, 3.0);
        assert!(small.spilled());
        assert_eq!(*small, A_PLUS_3B);
        // An entry inserted in front of inline ones.
        let mut small = SmallImpactVec::new();
        add_scaled(&mut small, &[(CategoryIdx(3), 1.0)], 1.0);
        add_scaled(&mut small, &[(CategoryIdx(1), 2.0)], 1.0);
        assert_eq!(*small, [(CategoryIdx(1), 2.0), (CategoryIdx(3), 1.0)]);
        assert_eq!(small, small.clone());
        assert_ne!(small, SmallImpactVec::new());
    }
}
