//! A bounded collection of the `k` best `(similarity, id)` pairs.
//!
//! The order is total and deterministic: higher similarity first, and among equal
//! similarities the smaller id first.
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One neighbour: similarity and row id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scored {
    pub sim: f32,
    pub id: u32,
}

impl Scored {
    /// `true` when `self` ranks strictly before `other`.
    #[inline]
    pub fn better_than(&self, other: &Scored) -> bool {
        self.sim > other.sim || (self.sim == other.sim && self.id < other.id)
    }
}

/// Heap entry whose maximum is the *worst* kept neighbour.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Worst(Scored);

impl Eq for Worst {}

impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        // Values are finite (validated upstream), so partial_cmp never fails; fall back to
        // Equal to stay panic-free regardless.
        other
            .0
            .sim
            .partial_cmp(&self.0.sim)
            .unwrap_or(Ordering::Equal)
            .then(self.0.id.cmp(&other.0.id))
    }
}

impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Keeps the best `k` pairs with similarity strictly above `threshold`.
#[derive(Debug, Clone)]
pub(crate) struct TopK {
    k: usize,
    threshold: f32,
    heap: BinaryHeap<Worst>,
}

impl TopK {
    pub fn new(k: usize, threshold: f32) -> Self {
        TopK {
            k,
            threshold,
            heap: BinaryHeap::with_capacity(k.min(1024) + 1),
        }
    }

    /// The smallest similarity that can still enter (candidates must also beat ties by id).
    #[inline]
    pub fn floor(&self) -> f32 {
        if self.heap.len() < self.k {
            self.threshold
        } else {
            self.heap.peek().map_or(self.threshold, |w| w.0.sim)
        }
    }

    /// Offer a candidate.
    #[inline]
    pub fn push(&mut self, sim: f32, id: u32) {
        if sim <= self.threshold {
            return;
        }
        let cand = Scored { sim, id };
        if self.heap.len() < self.k {
            self.heap.push(Worst(cand));
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if cand.better_than(&worst.0) {
                *worst = Worst(cand);
            }
        }
    }

    /// Merge another collection into this one.
    pub fn merge(&mut self, other: TopK) {
        for w in other.heap {
            self.push(w.0.sim, w.0.id);
        }
    }

    /// Best first.
    pub fn into_sorted(self) -> Vec<Scored> {
        // BinaryHeap::into_sorted_vec is ascending by Ord, i.e. best first for `Worst`.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|w| w.0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_best_k_with_id_tie_break() {
        let mut t = TopK::new(3, 0.0);
        for (s, id) in [
            (0.5, 9),
            (0.9, 4),
            (0.5, 2),
            (0.5, 7),
            (0.1, 1),
            (-0.3, 0),
            (0.0, 3),
        ] {
            t.push(s, id);
        }
        let got: Vec<(f32, u32)> = t.into_sorted().iter().map(|s| (s.sim, s.id)).collect();
        assert_eq!(got, vec![(0.9, 4), (0.5, 2), (0.5, 7)]);
    }

    #[test]
    fn threshold_is_strict() {
        let mut t = TopK::new(5, 0.5);
        t.push(0.5, 1);
        t.push(0.50001, 2);
        let got: Vec<u32> = t.into_sorted().iter().map(|s| s.id).collect();
        assert_eq!(got, vec![2]);
    }
}
