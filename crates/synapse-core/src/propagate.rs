//! GBLE label propagation (Algorithm 3 of the SYNAPSE-G paper).
//!
//! `W` is the row-normalised adjacency (`W_ij = 1 / deg(i)` for each edge, or
//! `s_ij / Σ_j s_ij` when weighted), `Y ← W·Y`, and every clamped row is reset to its initial
//! label after each iteration. `W` is never stored: the `1 / deg` factor is applied on the fly.
//!
//! Label encoding (chosen by the caller, documented in the TypeScript API): positives `+1`,
//! negatives a negative value (`-1` by default), unlabeled rows `0`, and only labeled rows
//! clamped. A row's final score is then the walk-weighted balance of positive against negative
//! evidence around it.
use crate::error::{invalid, Result};
use crate::graph::CsrRef;
use rayon::prelude::*;

/// Options of [`propagate`].
#[derive(Debug, Clone, Copy)]
pub struct PropagateOptions {
    /// Number of `Y ← W·Y` steps. Must be > 0.
    pub iterations: usize,
    /// Weight edges by their similarity instead of uniformly (`1 / deg`).
    pub weighted: bool,
}

/// Rows per parallel work item.
const ROW_CHUNK: usize = 2048;

/// Propagate `y0` over `graph` for `options.iterations` steps, re-clamping rows with a
/// non-zero `clamp` byte to their `y0` value after every step. Rows without edges get 0 (an
/// empty row of `W`), unless clamped.
pub fn propagate(
    graph: &CsrRef<'_>,
    y0: &[f32],
    clamp: &[u8],
    options: &PropagateOptions,
) -> Result<Vec<f32>> {
    let n = y0.len();
    if n == 0 {
        return Err(invalid("y0", "is empty"));
    }
    if options.iterations == 0 {
        return Err(invalid("iterations", "must be > 0"));
    }
    if clamp.len() != n {
        return Err(invalid(
            "clamp",
            format!("length {} must equal the length of y0 ({n})", clamp.len()),
        ));
    }
    if let Some(p) = y0.iter().position(|v| !v.is_finite()) {
        return Err(invalid(
            "y0",
            format!("non-finite value {} at row {p}", y0[p]),
        ));
    }
    if !quick_valid(graph, n) {
        // Slow path, only for bad input: `validate` names the exact problem.
        graph.validate(n)?;
        return Err(invalid("graph", "is not a well-formed CSR graph"));
    }
    let weights = if options.weighted {
        let s = graph
            .sims
            .ok_or_else(|| invalid("graph.sims", "weighted propagation needs edge similarities"))?;
        Some(s)
    } else {
        None
    };

    let off = graph.offsets;
    let ids = graph.ids;
    let mut cur = y0.to_vec();
    let mut next = vec![0f32; n];
    let kernel = Kernel::detect();
    for _ in 0..options.iterations {
        let y = &cur[..];
        next.par_chunks_mut(ROW_CHUNK)
            .enumerate()
            .for_each(|(c, out)| {
                let base = c * ROW_CHUNK;
                for (r, o) in out.iter_mut().enumerate() {
                    let i = base + r;
                    if clamp[i] != 0 {
                        *o = y0[i];
                        continue;
                    }
                    let (a, b) = (off[i] as usize, off[i + 1] as usize);
                    if a == b {
                        *o = 0.0;
                        continue;
                    }
                    let row = &ids[a..b];
                    *o = match weights {
                        // SAFETY: `graph.validate(n)` checked every id < n == y.len().
                        None => unsafe { kernel.mean(row, y) },
                        Some(w) => {
                            // SAFETY: as above; `validate` also checked sims.len() == ids.len().
                            let (s, z) = unsafe { kernel.weighted(row, &w[a..b], y) };
                            if z > 0.0 {
                                s / z
                            } else {
                                0.0
                            }
                        }
                    };
                }
            });
        std::mem::swap(&mut cur, &mut next);
    }
    Ok(cur)
}

/// The same conditions as [`CsrRef::validate`], checked with branch-free chunked scans that
/// vectorise (the per-element `position_first` there costs far more than propagation itself
/// on a 50 M-edge graph). `false` means some check failed; the caller then asks `validate`
/// for the message.
fn quick_valid(graph: &CsrRef<'_>, rows: usize) -> bool {
    const CHUNK: usize = 1 << 14;
    let off = graph.offsets;
    if off.len() != rows + 1 || off[0] != 0 || off[rows] as usize != graph.ids.len() {
        return false;
    }
    let monotone = off.par_chunks(CHUNK).enumerate().all(|(c, ch)| {
        // Compare each chunk's first element with the previous chunk's last one, too.
        let prev = if c == 0 { 0 } else { off[c * CHUNK - 1] };
        let mut bad = prev > ch[0];
        for w in ch.windows(2) {
            bad |= w[0] > w[1];
        }
        !bad
    });
    if !monotone {
        return false;
    }
    let bound = rows as u64;
    let ids_ok = graph
        .ids
        .par_chunks(CHUNK)
        .all(|ch| (ch.iter().fold(0u32, |m, &j| m.max(j)) as u64) < bound);
    if !ids_ok {
        return false;
    }
    match graph.sims {
        None => true,
        Some(s) => {
            s.len() == graph.ids.len()
                && s.par_chunks(CHUNK)
                    .all(|ch| ch.iter().fold(true, |ok, v| ok & v.is_finite()))
        }
    }
}

/// The gather kernels, picked once per call: AVX2 gathers when the CPU has them, else portable.
#[derive(Clone, Copy)]
enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Kernel {
    fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return Kernel::Avx2;
            }
        }
        Kernel::Portable
    }

    /// Mean of `y[j]` over `j` in `ids` (non-empty).
    ///
    /// # Safety
    /// Every id must be `< y.len()`.
    #[inline(always)]
    unsafe fn mean(self, ids: &[u32], y: &[f32]) -> f32 {
        let s = match self {
            Kernel::Portable => sum_portable(ids, y),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => x86::sum_avx2(ids, y),
        };
        s / ids.len() as f32
    }

    /// `(Σ max(w, 0) · y[j], Σ max(w, 0))` over the row.
    ///
    /// # Safety
    /// Every id must be `< y.len()` and `w.len() == ids.len()`.
    #[inline(always)]
    unsafe fn weighted(self, ids: &[u32], w: &[f32], y: &[f32]) -> (f32, f32) {
        match self {
            Kernel::Portable => weighted_portable(ids, w, y),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => x86::weighted_avx2(ids, w, y),
        }
    }
}

/// Eight independent accumulators, so the adds pipeline instead of waiting on each other.
///
/// # Safety
/// Every id must be `< y.len()`.
#[inline(always)]
unsafe fn sum_portable(ids: &[u32], y: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let mut chunks = ids.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            acc[l] += *y.get_unchecked(c[l] as usize);
        }
    }
    let mut tail = 0f32;
    for &j in chunks.remainder() {
        tail += *y.get_unchecked(j as usize);
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// # Safety
/// Every id must be `< y.len()` and `w.len() == ids.len()`.
#[inline(always)]
unsafe fn weighted_portable(ids: &[u32], w: &[f32], y: &[f32]) -> (f32, f32) {
    let (mut s, mut z) = ([0f32; 4], [0f32; 4]);
    let n4 = ids.len() / 4 * 4;
    let mut e = 0;
    while e < n4 {
        for l in 0..4 {
            let wj = w.get_unchecked(e + l).max(0.0);
            s[l] += wj * *y.get_unchecked(*ids.get_unchecked(e + l) as usize);
            z[l] += wj;
        }
        e += 4;
    }
    while e < ids.len() {
        let wj = w.get_unchecked(e).max(0.0);
        s[0] += wj * *y.get_unchecked(*ids.get_unchecked(e) as usize);
        z[0] += wj;
        e += 1;
    }
    ((s[0] + s[1]) + (s[2] + s[3]), (z[0] + z[1]) + (z[2] + z[3]))
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Horizontal sum of eight lanes.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
        _mm_cvtss_f32(s)
    }

    /// Eight lanes per gather instruction (as fast as 16-lane AVX-512 gathers on Zen 4, and
    /// within the crate's MSRV), two accumulators, scalar tail.
    ///
    /// # Safety
    /// The CPU must support AVX2 and every id must be `< y.len()`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn sum_avx2(ids: &[u32], y: &[f32]) -> f32 {
        let base = y.as_ptr();
        let mut acc0 = _mm256_setzero_ps();
        let mut acc1 = _mm256_setzero_ps();
        let n = ids.len();
        let p = ids.as_ptr();
        let mut e = 0;
        while e + 16 <= n {
            let i0 = _mm256_loadu_si256(p.add(e) as *const __m256i);
            let i1 = _mm256_loadu_si256(p.add(e + 8) as *const __m256i);
            acc0 = _mm256_add_ps(acc0, _mm256_i32gather_ps::<4>(base, i0));
            acc1 = _mm256_add_ps(acc1, _mm256_i32gather_ps::<4>(base, i1));
            e += 16;
        }
        if e + 8 <= n {
            let i0 = _mm256_loadu_si256(p.add(e) as *const __m256i);
            acc0 = _mm256_add_ps(acc0, _mm256_i32gather_ps::<4>(base, i0));
            e += 8;
        }
        let mut tail = 0f32;
        while e < n {
            tail += *base.add(*p.add(e) as usize);
            e += 1;
        }
        hsum(_mm256_add_ps(acc0, acc1)) + tail
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA, every id must be `< y.len()` and
    /// `w.len() == ids.len()`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn weighted_avx2(ids: &[u32], w: &[f32], y: &[f32]) -> (f32, f32) {
        let base = y.as_ptr();
        let mut s = _mm256_setzero_ps();
        let mut z = _mm256_setzero_ps();
        let zero = _mm256_setzero_ps();
        let n = ids.len();
        let (p, q) = (ids.as_ptr(), w.as_ptr());
        let mut e = 0;
        while e + 8 <= n {
            let i = _mm256_loadu_si256(p.add(e) as *const __m256i);
            let wj = _mm256_max_ps(_mm256_loadu_ps(q.add(e)), zero);
            s = _mm256_fmadd_ps(wj, _mm256_i32gather_ps::<4>(base, i), s);
            z = _mm256_add_ps(z, wj);
            e += 8;
        }
        let (mut ts, mut tz) = (0f32, 0f32);
        while e < n {
            let wj = (*q.add(e)).max(0.0);
            ts += wj * *base.add(*p.add(e) as usize);
            tz += wj;
            e += 1;
        }
        (hsum(s) + ts, hsum(z) + tz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Csr;

    /// Dense reference: W explicitly, Y = W Y, reset clamped rows.
    fn dense(g: &Csr, y0: &[f32], clamp: &[u8], iters: usize, weighted: bool) -> Vec<f32> {
        let n = y0.len();
        let mut w = vec![vec![0f64; n]; n];
        for (i, wi) in w.iter_mut().enumerate() {
            let (ids, sims) = g.row(i);
            let z: f64 = if weighted {
                sims.iter().map(|&s| s.max(0.0) as f64).sum()
            } else {
                ids.len() as f64
            };
            for (&j, &s) in ids.iter().zip(sims) {
                let v = if weighted { s.max(0.0) as f64 } else { 1.0 };
                if z > 0.0 {
                    wi[j as usize] += v / z;
                }
            }
        }
        let mut y: Vec<f64> = y0.iter().map(|&v| v as f64).collect();
        for _ in 0..iters {
            let mut ny: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| w[i][j] * y[j]).sum())
                .collect();
            for i in 0..n {
                if clamp[i] != 0 {
                    ny[i] = y0[i] as f64;
                }
            }
            y = ny;
        }
        y.into_iter().map(|v| v as f32).collect()
    }

    fn random_graph(n: usize, seed: u64) -> Csr {
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let rows = (0..n)
            .map(|i| {
                let deg = (next() % 6) as usize; // includes isolated rows
                let mut r: Vec<(f32, u32)> = (0..deg)
                    .map(|_| ((next() % 1000) as f32 / 1000.0, (next() % n as u64) as u32))
                    .filter(|&(_, j)| j as usize != i)
                    .collect();
                r.sort_by_key(|e| e.1);
                r.dedup_by_key(|e| e.1);
                r
            })
            .collect();
        Csr::from_rows(rows).unwrap().symmetrize().unwrap()
    }

    #[test]
    fn matches_dense_reference() {
        let n = 300;
        let g = random_graph(n, 42);
        let mut y0 = vec![0f32; n];
        let mut clamp = vec![0u8; n];
        for i in (0..n).step_by(17) {
            y0[i] = 1.0;
            clamp[i] = 1;
        }
        for i in (5..n).step_by(23) {
            y0[i] = -1.0;
            clamp[i] = 1;
        }
        for weighted in [false, true] {
            let opts = PropagateOptions {
                iterations: 7,
                weighted,
            };
            let got = propagate(&g.as_ref(), &y0, &clamp, &opts).unwrap();
            let want = dense(&g, &y0, &clamp, 7, weighted);
            for i in 0..n {
                assert!(
                    (got[i] - want[i]).abs() < 1e-5,
                    "row {i}: {} vs {}",
                    got[i],
                    want[i]
                );
            }
        }
    }

    #[test]
    fn path_graph_by_hand() {
        // 0 - 1 - 2, 0 clamped to +1, 2 clamped to -1: node 1 averages to 0; with only 0
        // clamped, node 1 -> (1 + y2)/2 ...
        let g = Csr::from_rows(vec![
            vec![(1.0, 1)],
            vec![(1.0, 0), (1.0, 2)],
            vec![(1.0, 1)],
        ])
        .unwrap();
        let o = PropagateOptions {
            iterations: 1,
            weighted: false,
        };
        let y = propagate(&g.as_ref(), &[1.0, 0.0, -1.0], &[1, 0, 1], &o).unwrap();
        assert_eq!(y, vec![1.0, 0.0, -1.0]);
        let o2 = PropagateOptions {
            iterations: 2,
            weighted: false,
        };
        let y = propagate(&g.as_ref(), &[1.0, 0.0, 0.0], &[1, 0, 0], &o2).unwrap();
        // it1: y1 = 0.5, y2 = 0; it2: y1 = (1 + 0)/2 = 0.5, y2 = 0.5
        assert_eq!(y, vec![1.0, 0.5, 0.5]);
    }

    #[test]
    fn kernels_agree_on_every_row_length() {
        // Lengths around the 16- and 32-lane boundaries exercise the masked tails.
        let n = 1000;
        let y: Vec<f32> = (0..n)
            .map(|i| ((i * 37) % 101) as f32 / 101.0 - 0.4)
            .collect();
        let ids: Vec<u32> = (0..200u32).map(|e| (e * 7919) % n as u32).collect();
        let w: Vec<f32> = (0..200)
            .map(|e| ((e * 13) % 17) as f32 / 8.0 - 0.5)
            .collect();
        let detected = Kernel::detect();
        for len in [
            1usize, 2, 7, 15, 16, 17, 31, 32, 33, 48, 50, 63, 64, 65, 200,
        ] {
            let (row, wr) = (&ids[..len], &w[..len]);
            let want: f64 = row.iter().map(|&j| y[j as usize] as f64).sum::<f64>() / len as f64;
            let (ws, wz) = row.iter().zip(wr).fold((0f64, 0f64), |(s, z), (&j, &wj)| {
                let wj = wj.max(0.0) as f64;
                (s + wj * y[j as usize] as f64, z + wj)
            });
            for k in [Kernel::Portable, detected] {
                // SAFETY: ids < n == y.len(), w.len() == ids.len().
                let got = unsafe { k.mean(row, &y) };
                assert!(
                    (got as f64 - want).abs() < 1e-5,
                    "len {len}: {got} vs {want}"
                );
                let (s, z) = unsafe { k.weighted(row, wr, &y) };
                assert!(
                    (s as f64 - ws).abs() < 1e-4 && (z as f64 - wz).abs() < 1e-4,
                    "len {len}"
                );
            }
        }
    }

    #[test]
    fn quick_check_rejects_what_validate_rejects() {
        let sims = [0.5f32, f32::NAN];
        let bad = [
            CsrRef {
                offsets: &[0, 1, 2],
                ids: &[1, 2],
                sims: None,
            },
            CsrRef {
                offsets: &[0, 2, 1],
                ids: &[1],
                sims: None,
            },
            CsrRef {
                offsets: &[1, 1, 2],
                ids: &[1, 0],
                sims: None,
            },
            CsrRef {
                offsets: &[0, 1, 2],
                ids: &[1, 0],
                sims: Some(&sims),
            },
            CsrRef {
                offsets: &[0, 1],
                ids: &[0],
                sims: None,
            },
        ];
        for g in &bad {
            assert!(!quick_valid(g, 2));
            assert!(g.validate(2).is_err());
        }
        let good = CsrRef {
            offsets: &[0, 1, 2],
            ids: &[1, 0],
            sims: Some(&sims[..1]),
        };
        assert!(!quick_valid(&good, 2), "sims length differs from ids");
        let good = CsrRef {
            offsets: &[0, 1, 2],
            ids: &[1, 0],
            sims: None,
        };
        assert!(quick_valid(&good, 2) && good.validate(2).is_ok());
        // Chunk boundaries: a decrease exactly across two chunks is caught.
        let mut off: Vec<u32> = (0..=40_000u32).collect();
        off[16_384] = 0;
        let ids = vec![0u32; 40_000];
        let g = CsrRef {
            offsets: &off,
            ids: &ids,
            sims: None,
        };
        assert!(!quick_valid(&g, 40_000));
    }

    #[test]
    fn rejects_bad_input() {
        let g = Csr::from_rows(vec![vec![(1.0, 1)], vec![(1.0, 0)]]).unwrap();
        let o = PropagateOptions {
            iterations: 3,
            weighted: false,
        };
        let e = |y: &[f32], c: &[u8], o: &PropagateOptions| {
            propagate(&g.as_ref(), y, c, o).unwrap_err().to_string()
        };
        assert!(e(&[0.0, f32::NAN], &[0, 0], &o).starts_with("y0:"));
        assert!(e(&[0.0, 0.0], &[0], &o).starts_with("clamp:"));
        assert!(e(&[0.0, 0.0, 0.0], &[0, 0, 0], &o).starts_with("graph.offsets:"));
        let zero = PropagateOptions {
            iterations: 0,
            weighted: false,
        };
        assert!(e(&[0.0, 0.0], &[0, 0], &zero).starts_with("iterations:"));
    }
}
