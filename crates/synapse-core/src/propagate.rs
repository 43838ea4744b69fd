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
    graph.validate(n)?;
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
    for _ in 0..options.iterations {
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
                    *o = match weights {
                        None => {
                            let s: f32 = ids[a..b].iter().map(|&j| cur[j as usize]).sum();
                            s / (b - a) as f32
                        }
                        Some(w) => {
                            let (mut s, mut z) = (0f32, 0f32);
                            for (&j, &wj) in ids[a..b].iter().zip(&w[a..b]) {
                                let wj = wj.max(0.0);
                                s += wj * cur[j as usize];
                                z += wj;
                            }
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
