//! Cosine top-k by blocked matrix products.
//!
//! Similarities are computed tile by tile with a GEMM (`gemm` crate, runtime-dispatched
//! AVX2/AVX-512 micro-kernels with a portable fallback) into a small buffer that stays in
//! cache, and each tile is scanned straight into a bounded per-row heap: no `n × n` matrix is
//! ever materialised. Rows need not be normalised: dot products are scaled by the inverse
//! norms (zero rows have cosine 0 with everything).
use crate::error::{invalid, Result};
use crate::graph::Csr;
use crate::matrix::Matrix;
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

/// Query rows per tile.
const QUERY_TILE: usize = 256;
/// Corpus rows per GEMM block.
const CORPUS_BLOCK: usize = 1024;

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
fn top_k_rows(
    queries: &Matrix<'_>,
    corpus: &Matrix<'_>,
    k: usize,
    threshold: f32,
    exclude: Option<&[u8]>,
    skip_self: bool,
) -> Vec<Vec<(f32, u32)>> {
    let q_inv = queries.inverse_norms();
    let c_inv = corpus.inverse_norms();
    let nq = queries.rows();
    let nc = corpus.rows();
    let tiles = nq.div_ceil(QUERY_TILE);
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
    c_inv: &'a [f32],
    k: usize,
    threshold: f32,
    exclude: Option<&'a [u8]>,
    skip_self: bool,
}

impl Ctx<'_> {
    /// Top-k of query rows `qr` against corpus rows `cr`.
    fn scan(&self, qr: std::ops::Range<usize>, cr: std::ops::Range<usize>) -> Vec<TopK> {
        let dim = self.queries.dim();
        let m = qr.len();
        let mut heaps: Vec<TopK> = (0..m).map(|_| TopK::new(self.k, self.threshold)).collect();
        let mut buf = vec![0f32; m * CORPUS_BLOCK];
        let lhs = &self.queries.data()[qr.start * dim..qr.end * dim];
        let mut b0 = cr.start;
        while b0 < cr.end {
            let b1 = (b0 + CORPUS_BLOCK).min(cr.end);
            let n = b1 - b0;
            let rhs = &self.corpus.data()[b0 * dim..b1 * dim];
            // buf[i * n + j] = <query qr.start + i, corpus b0 + j>
            // SAFETY: the strides below describe `lhs` (m × dim, row-major), `rhs` viewed as
            // its transpose (dim × n: element (p, j) at j * dim + p) and `buf` (m × n,
            // row-major); all three slices are exactly that large.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    dim,
                    buf.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    lhs.as_ptr(),
                    1,
                    dim as isize,
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
            let c_inv = &self.c_inv[b0..b1];
            let ex = self.exclude.map(|e| &e[b0..b1]);
            for (i, heap) in heaps.iter_mut().enumerate() {
                let qi = qr.start + i;
                let qs = self.q_inv[qi];
                let row = &buf[i * n..(i + 1) * n];
                let mut floor = heap.floor();
                for (j, (&dot, &ci)) in row.iter().zip(c_inv).enumerate() {
                    let sim = dot * qs * ci;
                    if sim < floor {
                        continue;
                    }
                    let id = b0 + j;
                    if (self.skip_self && id == qi) || ex.is_some_and(|e| e[j] != 0) {
                        continue;
                    }
                    heap.push(sim, id as u32);
                    floor = heap.floor();
                }
            }
            b0 = b1;
        }
        heaps
    }
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
