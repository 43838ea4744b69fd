//! Cosine top-k by blocked matrix products.
//!
//! Similarities are computed tile by tile with a GEMM (`gemm` crate, runtime-dispatched
//! AVX2/AVX-512 micro-kernels with a portable fallback) into a small buffer that stays in
//! cache, and each tile is scanned straight into a bounded per-row top-k buffer: no `n × n`
//! matrix is ever materialised. Rows need not be normalised: query rows are scaled by their
//! inverse norms when the tile is copied, and dot products by the corpus rows' inverse norms
//! (zero rows have cosine 0 with everything). Measurements: `benchmarks/RESULTS.md`.
use crate::error::{invalid, Result};
use crate::graph::Csr;
use crate::matrix::{inverse_norm, Matrix};
use crate::topk::TopK;
use rayon::prelude::*;

/// Options of [`bipartite_top_k`].
#[derive(Debug, Clone, Copy)]
pub struct TopKOptions {
    /// Keep at most this many neighbours per query row (`d_max`). Must be > 0.
    pub k: usize,
    /// Keep only similarities strictly greater than this (`τ`); `None` keeps all.
    pub threshold: Option<f32>,
}

/// Options of [`knn_graph`].
#[derive(Debug, Clone, Copy)]
pub struct KnnOptions {
    /// Neighbours per row before symmetrisation. Must be > 0.
    pub k: usize,
    /// Keep only similarities strictly greater than this; `None` keeps all.
    pub threshold: Option<f32>,
    /// Add every edge's reverse (union), making the graph undirected.
    pub symmetric: bool,
}

/// Query rows per tile. (128, 256 and 512 measured within noise of each other; 256 keeps a
/// tile's transposed copy at d = 512 within 512 KiB.)
const QUERY_TILE: usize = 256;
/// Corpus rows per GEMM block: the 256 × 256 block of similarities (256 KiB) stays in L2.
const CORPUS_BLOCK: usize = 256;

fn check_common(k: usize, threshold: Option<f32>) -> Result<f32> {
    if k == 0 {
        return Err(invalid("k", "must be > 0"));
    }
    match threshold {
        Some(t) if !t.is_finite() => Err(invalid("threshold", format!("must be finite, got {t}"))),
        Some(t) => Ok(t),
        None => Ok(f32::NEG_INFINITY),
    }
}

/// Algorithm 2's graph step: for every query row (seed), the at most `k` corpus rows with
/// cosine similarity strictly above the threshold, best first (ties by smaller id).
///
/// `exclude`, when given, has one byte per corpus row; rows with a non-zero byte are skipped
/// (e.g. rows already sent to the oracle).
pub fn bipartite_top_k(
    queries: &Matrix<'_>,
    corpus: &Matrix<'_>,
    options: &TopKOptions,
    exclude: Option<&[u8]>,
) -> Result<Csr> {
    let threshold = check_common(options.k, options.threshold)?;
    if queries.dim() != corpus.dim() {
        return Err(invalid(
            "corpus",
            format!(
                "dimension {} differs from the queries' dimension {}",
                corpus.dim(),
                queries.dim()
            ),
        ));
    }
    if let Some(ex) = exclude {
        if ex.len() != corpus.rows() {
            return Err(invalid(
                "exclude",
                format!(
                    "length {} must equal the number of corpus rows {}",
                    ex.len(),
                    corpus.rows()
                ),
            ));
        }
    }
    let rows = top_k_rows(queries, corpus, options.k, threshold, exclude, false);
    Csr::from_rows(rows)
}

/// The exact k-nearest-neighbour graph of `corpus` with itself (self excluded), pruned by
/// the threshold and optionally symmetrised (union of each edge and its reverse).
pub fn knn_graph(corpus: &Matrix<'_>, options: &KnnOptions) -> Result<Csr> {
    let threshold = check_common(options.k, options.threshold)?;
    let rows = top_k_rows(corpus, corpus, options.k, threshold, None, true);
    let g = Csr::from_rows(rows)?;
    if options.symmetric {
        g.symmetrize()
    } else {
        Ok(g)
    }
}

/// Shared engine: per query row, the best `k` corpus rows as `(sim, id)`, best first.
pub(crate) fn top_k_rows(
    queries: &Matrix<'_>,
    corpus: &Matrix<'_>,
    k: usize,
    threshold: f32,
    exclude: Option<&[u8]>,
    skip_self: bool,
) -> Vec<Vec<(f32, u32)>> {
    let q_inv = queries.inverse_norms();
    let nq = queries.rows();
    let tiles = nq.div_ceil(QUERY_TILE);
    // Several query tiles read every corpus row several times: compute its norms once. A
    // single tile (a hundred seeds) reads each corpus row once: compute the norms block by
    // block inside the scan, while the block is in cache, saving a pass over the corpus.
    let c_inv = if tiles > 1 {
        corpus.inverse_norms()
    } else {
        Vec::new()
    };
    let nc = corpus.rows();
    // Few query tiles (a hundred seeds against a big corpus): split the corpus too, so both
    // cores have work, and merge the partial heaps afterwards.
    let threads = rayon::current_num_threads().max(1);
    let chunks = if tiles >= 2 * threads {
        1
    } else {
        (2 * threads)
            .div_ceil(tiles)
            .min(nc.div_ceil(CORPUS_BLOCK))
            .max(1)
    };
    let chunk_len = nc.div_ceil(chunks);
    let ctx = Ctx {
        queries,
        corpus,
        q_inv: &q_inv,
        c_inv: &c_inv,
        k,
        threshold,
        exclude,
        skip_self,
    };
    let partial: Vec<Vec<TopK>> = (0..tiles * chunks)
        .into_par_iter()
        .map(|task| {
            let (t, c) = (task / chunks, task % chunks);
            let q0 = t * QUERY_TILE;
            let q1 = (q0 + QUERY_TILE).min(nq);
            let c0 = c * chunk_len;
            let c1 = (c0 + chunk_len).min(nc);
            ctx.scan(q0..q1, c0..c1)
        })
        .collect();
    // Merge the chunks of each tile, in order.
    let mut out = Vec::with_capacity(nq);
    let mut iter = partial.into_iter();
    for _ in 0..tiles {
        let mut acc: Vec<TopK> = iter.next().unwrap_or_default();
        for _ in 1..chunks {
            if let Some(more) = iter.next() {
                for (a, b) in acc.iter_mut().zip(more) {
                    a.merge(b);
                }
            }
        }
        out.extend(
            acc.into_iter()
                .map(|h| h.into_sorted().into_iter().map(|s| (s.sim, s.id)).collect()),
        );
    }
    out
}

struct Ctx<'a> {
    queries: &'a Matrix<'a>,
    corpus: &'a Matrix<'a>,
    q_inv: &'a [f32],
    /// Inverse corpus norms, or empty: computed per block by `scan`.
    c_inv: &'a [f32],
    k: usize,
    threshold: f32,
    exclude: Option<&'a [u8]>,
    skip_self: bool,
}

impl Ctx<'_> {
    /// Top-k of query rows `qr` against corpus rows `cr`.
    ///
    /// The query tile is copied once, scaled by its inverse norms, into a column-major
    /// buffer (`qt[p * mp + i]`, `mp` = rows rounded up to 16): with that layout, and the
    /// corpus read in place as the right operand (`(p, j)` at `j * dim + p`, unit row stride),
    /// `gemm` packs nothing big. (Passing a row-major operand instead makes it transpose that
    /// operand element by element with a power-of-two stride, which cost as much as the
    /// multiplication.) Each GEMM block `buf[j * mp + i] = <q_i / |q_i|, c_j>` then holds one
    /// corpus row per column; a branch-free vector compare of the whole column against the
    /// per-query floors finds the rare entries that can enter a heap.
    fn scan(&self, qr: std::ops::Range<usize>, cr: std::ops::Range<usize>) -> Vec<TopK> {
        let dim = self.queries.dim();
        let m = qr.len();
        let mp = m.div_ceil(LANES) * LANES;
        let mut heaps: Vec<TopK> = (0..m).map(|_| TopK::new(self.k, self.threshold)).collect();
        let mut qt = vec![0f32; mp * dim];
        for (i, qi) in qr.clone().enumerate() {
            let scale = self.q_inv[qi];
            for (p, &v) in self.queries.row(qi).iter().enumerate() {
                qt[p * mp + i] = v * scale;
            }
        }
        // Padding rows can never enter: their floor is +inf.
        let mut floors = vec![f32::INFINITY; mp];
        for (f, h) in floors.iter_mut().zip(&heaps) {
            *f = h.floor();
        }
        let mut buf = vec![0f32; mp * CORPUS_BLOCK];
        let mut block_inv = Vec::with_capacity(CORPUS_BLOCK);
        let mut b0 = cr.start;
        while b0 < cr.end {
            let b1 = (b0 + CORPUS_BLOCK).min(cr.end);
            let n = b1 - b0;
            let rhs = &self.corpus.data()[b0 * dim..b1 * dim];
            let c_inv = if self.c_inv.is_empty() {
                block_inv.clear();
                block_inv.extend(rhs.chunks_exact(dim).map(inverse_norm));
                &block_inv[..]
            } else {
                &self.c_inv[b0..b1]
            };
            // SAFETY: `qt` is mp × dim column-major (element (i, p) at p * mp + i), `rhs` is
            // viewed as dim × n with element (p, j) at j * dim + p, and `buf` as mp × n
            // column-major (element (i, j) at j * mp + i); all three slices are exactly that
            // large (buf may be larger: only its first mp * n values are written).
            unsafe {
                gemm::gemm(
                    mp,
                    n,
                    dim,
                    buf.as_mut_ptr(),
                    mp as isize,
                    1,
                    false,
                    qt.as_ptr(),
                    mp as isize,
                    1,
                    rhs.as_ptr(),
                    dim as isize,
                    1,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            let block = Block {
                buf: &buf[..n * mp],
                mp,
                m,
                b0,
                q0: qr.start,
                c_inv,
            };
            select_block(self, &block, &mut heaps, &mut floors);
            b0 = b1;
        }
        heaps
    }
}

/// Lanes of the query padding (one AVX-512 vector of f32).
const LANES: usize = 16;

/// One GEMM block as [`select_block`] reads it.
struct Block<'a> {
    /// `buf[j * mp + i]`: query `q0 + i` (scaled to unit norm) · corpus row `b0 + j`.
    buf: &'a [f32],
    mp: usize,
    /// Real query rows (the rest is padding).
    m: usize,
    b0: usize,
    q0: usize,
    /// Inverse norms of the block's corpus rows.
    c_inv: &'a [f32],
}

/// Push every entry of the block that can enter its query's heap. Compiled twice: with AVX2
/// (picked at run time) so the lane compares become vector compares and mask moves, and
/// portable.
fn select_block(ctx: &Ctx<'_>, b: &Block<'_>, heaps: &mut [TopK], floors: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { select_block_avx2(ctx, b, heaps, floors) };
            return;
        }
    }
    select_block_impl(ctx, b, heaps, floors, lane_mask);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn select_block_avx2(ctx: &Ctx<'_>, b: &Block<'_>, heaps: &mut [TopK], floors: &mut [f32]) {
    // SAFETY (of the calls): AVX2 is enabled in this function.
    select_block_impl(ctx, b, heaps, floors, |c, f, s| unsafe {
        lane_mask_avx2(c, f, s)
    });
}

/// [`lane_mask`] with two 8-lane compares and mask moves (LLVM does not turn the portable
/// bit building into this by itself).
///
/// # Safety
/// The CPU must support AVX2. `c` and `f` must hold at least [`LANES`] values.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn lane_mask_avx2(c: &[f32], f: &[f32], scale: f32) -> u32 {
    use std::arch::x86_64::*;
    debug_assert!(c.len() >= LANES && f.len() >= LANES);
    let s = _mm256_set1_ps(scale);
    let lo = _mm256_cmp_ps::<_CMP_GE_OQ>(
        _mm256_mul_ps(_mm256_loadu_ps(c.as_ptr()), s),
        _mm256_loadu_ps(f.as_ptr()),
    );
    let hi = _mm256_cmp_ps::<_CMP_GE_OQ>(
        _mm256_mul_ps(_mm256_loadu_ps(c.as_ptr().add(8)), s),
        _mm256_loadu_ps(f.as_ptr().add(8)),
    );
    (_mm256_movemask_ps(lo) as u32) | ((_mm256_movemask_ps(hi) as u32) << 8)
}

#[inline(always)]
fn select_block_impl(
    ctx: &Ctx<'_>,
    b: &Block<'_>,
    heaps: &mut [TopK],
    floors: &mut [f32],
    lane_mask: impl Fn(&[f32], &[f32], f32) -> u32,
) {
    for (j, col) in b.buf.chunks_exact(b.mp).enumerate() {
        let id = b.b0 + j;
        let cj = b.c_inv[j];
        for (ch, c) in col.chunks_exact(LANES).enumerate() {
            let mut mask = lane_mask(c, &floors[ch * LANES..(ch + 1) * LANES], cj);
            if mask == 0 {
                continue;
            }
            if ctx.exclude.is_some_and(|e| e[id] != 0) {
                break;
            }
            while mask != 0 {
                let i = ch * LANES + mask.trailing_zeros() as usize;
                mask &= mask - 1;
                // Padding rows have floor +inf and never set a bit; stay safe regardless.
                if i >= b.m || (ctx.skip_self && id == b.q0 + i) {
                    continue;
                }
                heaps[i].push(col[i] * cj, id as u32);
                floors[i] = heaps[i].floor();
            }
        }
    }
}

/// Bit `l` set when `c[l] * scale >= f[l]`, for 16 lanes; branch-free so it compiles to
/// vector compares.
#[inline(always)]
fn lane_mask(c: &[f32], f: &[f32], scale: f32) -> u32 {
    let mut mask = 0u32;
    for l in 0..LANES {
        mask |= ((c[l] * scale >= f[l]) as u32) << l;
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiny deterministic generator (xorshift) so tests need no extra crates.
    pub(crate) fn random_matrix(rows: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..rows * dim)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
        let na: f64 = a.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
        if na == 0.0 || nb == 0.0 {
            0.0
        } else {
            (dot / (na * nb)) as f32
        }
    }

    /// Brute force: all pairs, sort, threshold, truncate.
    fn brute(
        q: &[f32],
        c: &[f32],
        dim: usize,
        k: usize,
        t: f32,
        skip_self: bool,
        exclude: Option<&[u8]>,
    ) -> Vec<Vec<(f32, u32)>> {
        let nq = q.len() / dim;
        let nc = c.len() / dim;
        (0..nq)
            .map(|i| {
                let mut v: Vec<(f32, u32)> = (0..nc)
                    .filter(|&j| !(skip_self && i == j))
                    .filter(|&j| exclude.is_none_or(|e| e[j] == 0))
                    .map(|j| {
                        (
                            cosine(&q[i * dim..(i + 1) * dim], &c[j * dim..(j + 1) * dim]),
                            j as u32,
                        )
                    })
                    .filter(|&(s, _)| s > t)
                    .collect();
                v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                v.truncate(k);
                v
            })
            .collect()
    }

    /// Compare ids row by row, allowing swaps among near-equal similarities (float error).
    fn assert_same(got: &Csr, want: &[Vec<(f32, u32)>]) {
        assert_eq!(got.rows(), want.len());
        for (i, w) in want.iter().enumerate() {
            let (ids, sims) = got.row(i);
            assert_eq!(ids.len(), w.len(), "row {i}: {ids:?} vs {w:?}");
            for (p, (&(ws, wid), (&gid, &gs))) in w.iter().zip(ids.iter().zip(sims)).enumerate() {
                assert!((ws - gs).abs() < 1e-4, "row {i} pos {p}: sim {gs} vs {ws}");
                if gid != wid {
                    let near = w.iter().any(|&(s, id)| id == gid && (s - gs).abs() < 1e-4);
                    assert!(near, "row {i} pos {p}: id {gid} vs {wid}");
                }
            }
            for pair in sims.windows(2) {
                assert!(pair[0] >= pair[1], "row {i} not sorted: {sims:?}");
            }
        }
    }

    #[test]
    fn bipartite_matches_brute_force() {
        for &(nq, nc, dim, k, t) in &[
            (3usize, 50usize, 8usize, 5usize, 0.0f32),
            (300, 2500, 17, 10, 0.2),
            (7, 3000, 64, 50, -1.0),
            (1, 4, 3, 10, -2.0), // k > n
        ] {
            let q = random_matrix(nq, dim, 1 + nq as u64);
            let c = random_matrix(nc, dim, 2 + nc as u64);
            let qm = Matrix::new("queries", &q, dim).unwrap();
            let cm = Matrix::new("corpus", &c, dim).unwrap();
            let opts = TopKOptions {
                k,
                threshold: Some(t),
            };
            let got = bipartite_top_k(&qm, &cm, &opts, None).unwrap();
            assert_same(&got, &brute(&q, &c, dim, k, t, false, None));
        }
    }

    #[test]
    fn bipartite_exclude_threshold_edge_and_zero_rows() {
        let dim = 4;
        let mut c = random_matrix(200, dim, 5);
        c[..dim].fill(0.0); // row 0 is a zero row: cosine 0
        let q = c[dim * 10..dim * 12].to_vec(); // queries equal to rows 10 and 11
        let mut exclude = vec![0u8; 200];
        exclude[11] = 1;
        let qm = Matrix::new("queries", &q, dim).unwrap();
        let cm = Matrix::new("corpus", &c, dim).unwrap();
        let opts = TopKOptions {
            k: 7,
            threshold: Some(0.0),
        };
        let got = bipartite_top_k(&qm, &cm, &opts, Some(&exclude)).unwrap();
        assert_same(&got, &brute(&q, &c, dim, 7, 0.0, false, Some(&exclude)));
        assert_eq!(got.row(0).0[0], 10, "a row is its own best match");
        assert!(!got.ids.contains(&11), "excluded row returned");
        assert!(
            !got.ids.contains(&0),
            "zero row has cosine 0, not above threshold 0"
        );
    }

    #[test]
    fn ties_break_by_smaller_id() {
        // corpus rows 3, 1, 2 identical: equal similarity to the query
        let dim = 2;
        let c = vec![0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.5, 0.5];
        let q = vec![1.0, 0.0];
        let qm = Matrix::new("queries", &q, dim).unwrap();
        let cm = Matrix::new("corpus", &c, dim).unwrap();
        let opts = TopKOptions {
            k: 2,
            threshold: None,
        };
        let got = bipartite_top_k(&qm, &cm, &opts, None).unwrap();
        assert_eq!(got.row(0).0, &[1, 2]);
    }

    #[test]
    fn duplicate_rows_in_knn_graph() {
        let dim = 3;
        let mut c = random_matrix(40, dim, 9);
        let dup = c[..dim].to_vec();
        c[dim * 5..dim * 6].copy_from_slice(&dup);
        let cm = Matrix::new("corpus", &c, dim).unwrap();
        let g = knn_graph(
            &cm,
            &KnnOptions {
                k: 1,
                threshold: None,
                symmetric: false,
            },
        )
        .unwrap();
        assert_eq!(
            g.row(0).0,
            &[5],
            "duplicate is the nearest neighbour, self excluded"
        );
        assert_eq!(g.row(5).0, &[0]);
    }

    #[test]
    fn knn_graph_matches_brute_force() {
        let (n, dim) = (1500, 24);
        let c = random_matrix(n, dim, 77);
        let cm = Matrix::new("corpus", &c, dim).unwrap();
        for &(k, t) in &[(10usize, None), (5, Some(0.3f32)), (n + 5, Some(0.5))] {
            let g = knn_graph(
                &cm,
                &KnnOptions {
                    k,
                    threshold: t,
                    symmetric: false,
                },
            )
            .unwrap();
            let want = brute(&c, &c, dim, k, t.unwrap_or(f32::NEG_INFINITY), true, None);
            assert_same(&g, &want);
            let s = knn_graph(
                &cm,
                &KnnOptions {
                    k,
                    threshold: t,
                    symmetric: true,
                },
            )
            .unwrap();
            // symmetric: j in row i  <=>  i in row j, and it contains the directed edges
            for (i, w) in want.iter().enumerate() {
                let (ids, _) = s.row(i);
                for &j in ids {
                    assert!(s.row(j as usize).0.contains(&(i as u32)));
                }
                for &(_, j) in w {
                    assert!(ids.contains(&j));
                }
            }
        }
    }

    #[test]
    fn lane_masks_agree() {
        let vals = random_matrix(64, LANES, 3);
        let floors = random_matrix(64, LANES, 4);
        for (r, (c, f)) in vals.chunks(LANES).zip(floors.chunks(LANES)).enumerate() {
            let mut f = f.to_vec();
            f[r % LANES] = f32::INFINITY; // padding lanes never set a bit
            f[(r + 5) % LANES] = f32::NEG_INFINITY; // an empty heap accepts anything
            let scale = 0.5 + r as f32 / 64.0;
            let want: u32 = (0..LANES)
                .filter(|&l| c[l] * scale >= f[l])
                .map(|l| 1u32 << l)
                .sum();
            assert_eq!(lane_mask(c, &f, scale), want);
            assert_eq!(want & (1 << (r % LANES)), 0);
            assert_ne!(want & (1 << ((r + 5) % LANES)), 0);
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 checked; both slices hold LANES values.
                assert_eq!(unsafe { lane_mask_avx2(c, &f, scale) }, want);
            }
        }
    }

    #[test]
    fn errors_name_the_argument() {
        let q = random_matrix(2, 3, 1);
        let c = random_matrix(5, 4, 2);
        let qm = Matrix::new("queries", &q, 3).unwrap();
        let cm = Matrix::new("corpus", &c, 4).unwrap();
        let o = TopKOptions {
            k: 3,
            threshold: None,
        };
        let e = bipartite_top_k(&qm, &cm, &o, None).unwrap_err().to_string();
        assert!(e.starts_with("corpus: dimension 4"), "{e}");
        let cm3 = Matrix::new("corpus", &c[..15], 3).unwrap();
        let e = bipartite_top_k(
            &qm,
            &cm3,
            &TopKOptions {
                k: 0,
                threshold: None,
            },
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("k:"), "{e}");
        let e = bipartite_top_k(&qm, &cm3, &o, Some(&[0u8; 4]))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("exclude:"), "{e}");
        let bad_t = TopKOptions {
            k: 3,
            threshold: Some(f32::NAN),
        };
        let e = bipartite_top_k(&qm, &cm3, &bad_t, None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("threshold:"), "{e}");
    }
}
