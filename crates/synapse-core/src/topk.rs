//! A bounded collection of the `k` best `(similarity, id)` pairs.
//!
//! The order is total and deterministic: higher similarity first, and among equal
//! similarities the smaller id first.
use std::cmp::Ordering;

/// One neighbour: similarity and row id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scored {
    pub sim: f32,
    pub id: u32,
}

/// The ranking order: best first.
#[inline]
fn rank(a: &Scored, b: &Scored) -> Ordering {
    // Values are finite (validated upstream); total_cmp keeps this panic-free regardless.
    b.sim.total_cmp(&a.sim).then(a.id.cmp(&b.id))
}

/// Keeps the best `k` pairs with similarity strictly above `threshold`.
///
/// Not a heap: candidates are appended to a buffer of up to `2k` and, when it is full, the
/// best `k` are kept by a linear-time selection and the floor rises to the worst kept. Each
/// candidate then costs O(1) amortised instead of a heap's O(log k) sift, which mattered: a
/// kNN graph offers each row hundreds of candidates that displace earlier ones.
#[derive(Debug, Clone, Default)]
pub(crate) struct TopK {
    k: usize,
    threshold: f32,
    /// Worst kept similarity after the last compaction (or the threshold): a lower bound of
    /// what can still enter.
    floor: f32,
    buf: Vec<Scored>,
}

impl TopK {
    pub fn new(k: usize, threshold: f32) -> Self {
        TopK {
            k,
            threshold,
            floor: threshold,
            buf: Vec::with_capacity(k.min(1024).saturating_mul(2)),
        }
    }

    /// A similarity below which no candidate can enter (a lower bound: some at or above it
    /// may still lose to the kept ones when the buffer is compacted).
    #[inline]
    pub fn floor(&self) -> f32 {
        self.floor
    }

    /// Offer a candidate.
    #[inline]
    pub fn push(&mut self, sim: f32, id: u32) {
        if sim <= self.threshold || sim < self.floor {
            return;
        }
        self.buf.push(Scored { sim, id });
        if self.buf.len() >= self.k.saturating_mul(2) {
            self.compact();
        }
    }

    /// Keep the best `k`, and raise the floor to the worst of them.
    fn compact(&mut self) {
        if self.k == 0 {
            self.buf.clear();
            return;
        }
        if self.buf.len() <= self.k {
            return;
        }
        self.buf.select_nth_unstable_by(self.k - 1, rank);
        self.buf.truncate(self.k);
        if let Some(worst) = self.buf.iter().map(|s| s.sim).reduce(f32::min) {
            self.floor = self.floor.max(worst);
        }
    }

    /// Merge another collection into this one.
    pub fn merge(&mut self, other: TopK) {
        for s in other.buf {
            self.push(s.sim, s.id);
        }
    }

    /// Best first.
    pub fn into_sorted(mut self) -> Vec<Scored> {
        self.compact();
        self.buf.sort_unstable_by(rank);
        self.buf
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

    /// Exact reference: sort everything, keep those above the threshold, truncate.
    fn reference(items: &[(f32, u32)], k: usize, t: f32) -> Vec<(f32, u32)> {
        let mut v: Vec<(f32, u32)> = items.iter().copied().filter(|&(s, _)| s > t).collect();
        v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        v.truncate(k);
        v
    }

    #[test]
    fn matches_sorting_through_many_compactions_and_merges() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        for &(n, k, t) in &[
            (1000usize, 7usize, -1.0f32),
            (5000, 50, 0.3),
            (300, 1, 0.0),
            (40, 100, -2.0),
        ] {
            // Few distinct values, so ties by id are frequent.
            let items: Vec<(f32, u32)> = (0..n)
                .map(|i| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (
                        ((s >> 40) % 64) as f32 / 32.0 - 1.0,
                        (i as u32 * 7919) % n as u32,
                    )
                })
                .collect();
            let want = reference(&items, k, t);
            let mut one = TopK::new(k, t);
            items.iter().for_each(|&(x, id)| one.push(x, id));
            let got: Vec<(f32, u32)> = one.into_sorted().iter().map(|s| (s.sim, s.id)).collect();
            assert_eq!(got, want, "n {n} k {k}");
            // Split in three, merged: same answer.
            let mut parts: Vec<TopK> = (0..3).map(|_| TopK::new(k, t)).collect();
            for (i, &(x, id)) in items.iter().enumerate() {
                parts[i % 3].push(x, id);
            }
            let mut acc = parts.remove(0);
            for p in parts {
                acc.merge(p);
            }
            let got: Vec<(f32, u32)> = acc.into_sorted().iter().map(|s| (s.sim, s.id)).collect();
            assert_eq!(got, want, "merged, n {n} k {k}");
        }
    }

    #[test]
    fn floor_only_rises_and_never_exceeds_the_kth_best() {
        let mut t = TopK::new(3, f32::NEG_INFINITY);
        let mut last = t.floor();
        for i in 0..100u32 {
            t.push((i % 10) as f32, i);
            assert!(t.floor() >= last);
            last = t.floor();
        }
        assert!(t.floor() <= 9.0);
        let got: Vec<u32> = t.into_sorted().iter().map(|s| s.id).collect();
        assert_eq!(got, vec![9, 19, 29]);
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
