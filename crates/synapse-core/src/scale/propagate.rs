//! GBLE over a memory-mapped corpus and an on-disk graph: the seeds' bipartite edges by one
//! streaming pass over the corpus, and Algorithm 3's propagation streaming over the graph.
//!
//! The seeds are nodes of GBLE's graph, always clamped to 1, so they need not be stored in it:
//! a corpus row with `s` seed edges and graph neighbours `N(i)` gets
//! `(Σ_{j ∈ N(i)} y_j + s) / (|N(i)| + s)`, exactly what the in-memory graph with the seeds as
//! extra nodes gives.
use super::graph::{DiskGraph, STREAM_BLOCK};
use super::progress::Progress;
use super::store::{resident_bytes, VectorStore};
use crate::error::{invalid, Result};
use crate::graph::Csr;
use crate::matrix::Matrix;
use crate::similarity::top_k_rows;
use rayon::prelude::*;

/// Rows per span of propagation between resident-set checks.
const SPAN: usize = 1 << 20;

/// For each seed, its at most `k` corpus rows with cosine above `threshold`, best first (ties
/// by smaller row), as CSR over seeds. One pass over the corpus, block by block.
pub fn seed_top_k(
    store: &VectorStore,
    seeds: &Matrix<'_>,
    k: usize,
    threshold: Option<f32>,
    budget: u64,
    progress: &Progress,
) -> Result<Csr> {
    if k == 0 {
        return Err(invalid("k", "must be > 0"));
    }
    if seeds.dim() != store.dim() {
        return Err(invalid(
            "seeds",
            format!(
                "dimension {} differs from the corpus's {}",
                seeds.dim(),
                store.dim()
            ),
        ));
    }
    let t = threshold.unwrap_or(f32::NEG_INFINITY);
    let mut best: Vec<Vec<(f32, u32)>> = vec![Vec::new(); seeds.rows()];
    progress.start("seed edges", 0, store.rows() as u64);
    for (first, len) in store.blocks(STREAM_BLOCK) {
        progress.check()?;
        let block = Matrix::new("vectors", store.slice(first, len)?, store.dim())?;
        let found = top_k_rows(seeds, &block, k, t, None, false);
        for (acc, more) in best.iter_mut().zip(found) {
            acc.extend(more.into_iter().map(|(s, j)| (s, j + first as u32)));
            acc.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            acc.truncate(k);
        }
        progress.add(len as u64);
        store.release_over(budget);
    }
    Csr::from_rows(best)
}

/// Seed edges per corpus row, from [`seed_top_k`]'s lists.
pub fn seed_degrees(seed_lists: &Csr, rows: usize) -> Vec<u32> {
    let mut deg = vec![0u32; rows];
    for &j in &seed_lists.ids {
        if let Some(d) = deg.get_mut(j as usize) {
            *d += 1;
        }
    }
    deg
}

/// Algorithm 3's propagation for the corpus rows: `iterations` steps of
/// `y_i ← (Σ_{j∈N(i)} y_j + seeds_i) / (|N(i)| + seeds_i)`, rows with a non-zero `clamp` byte
/// reset to `y0` after each step, rows without any edge 0. Graph pages are handed back when the
/// resident set exceeds `budget` bytes (checked every million rows; `u64::MAX`: never).
pub fn propagate_disk(
    graph: &DiskGraph,
    seed_deg: &[u32],
    y0: &[f32],
    clamp: &[u8],
    iterations: usize,
    budget: u64,
    progress: &Progress,
) -> Result<Vec<f32>> {
    let n = graph.rows();
    for (name, len) in [
        ("y0", y0.len()),
        ("clamp", clamp.len()),
        ("seedDegrees", seed_deg.len()),
    ] {
        if len != n {
            return Err(invalid(
                "rows",
                format!("{name} has {len} entries for a graph of {n} rows"),
            ));
        }
    }
    if iterations == 0 {
        return Err(invalid("iterations", "must be > 0"));
    }
    if let Some(p) = y0.iter().position(|v| !v.is_finite()) {
        return Err(invalid(
            "y0",
            format!("non-finite value {} at row {p}", y0[p]),
        ));
    }
    let off = graph.offsets();
    let ids = graph.ids();
    let mut cur = y0.to_vec();
    let mut next = vec![0f32; n];
    progress.start("propagate", 0, iterations as u64);
    for _ in 0..iterations {
        progress.check()?;
        let y = &cur[..];
        for (sc, span) in next.chunks_mut(SPAN).enumerate() {
            span.par_chunks_mut(4096).enumerate().for_each(|(c, out)| {
                for (r, o) in out.iter_mut().enumerate() {
                    let i = sc * SPAN + c * 4096 + r;
                    if clamp[i] != 0 {
                        *o = y0[i];
                        continue;
                    }
                    let row = &ids[off[i] as usize..off[i + 1] as usize];
                    let s = seed_deg[i] as f32;
                    let deg = row.len() as f32 + s;
                    if deg == 0.0 {
                        *o = 0.0;
                        continue;
                    }
                    let mut sum = s;
                    for &j in row {
                        sum += y.get(j as usize).copied().unwrap_or(0.0);
                    }
                    *o = sum / deg;
                }
            });
            if budget != u64::MAX && resident_bytes().is_some_and(|r| r > budget) {
                graph.release();
            }
        }
        std::mem::swap(&mut cur, &mut next);
        progress.add(1);
    }
    Ok(cur)
}
