//! Similarity graphs, propagation and candidate selection.
use crate::error::{count, invalid, to_napi};
use crate::task::Job;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use synapse_core::graph::CsrRef;
use synapse_core::{
    bipartite_top_k, knn_graph, propagate, top_candidates, Csr, KnnOptions, Matrix,
    PropagateOptions, TopKOptions,
};

/// A graph in compressed sparse rows: row `i`'s neighbours are
/// `ids[offsets[i]..offsets[i+1]]`, best first, with cosine similarities in `sims`.
#[napi(object)]
pub struct CsrGraph {
    /// `rows + 1` offsets into `ids` / `sims`.
    pub offsets: Uint32Array,
    /// Neighbour row ids.
    pub ids: Uint32Array,
    /// Cosine similarity of each edge.
    pub sims: Float32Array,
}

fn to_js(g: Csr) -> CsrGraph {
    CsrGraph {
        offsets: Uint32Array::new(g.offsets),
        ids: Uint32Array::new(g.ids),
        sims: Float32Array::new(g.sims),
    }
}

fn threshold(t: Option<f64>) -> Option<f32> {
    t.map(|v| v as f32)
}

/// Options of `bipartiteTopK`.
#[napi(object)]
pub struct BipartiteOptions {
    /// Neighbours kept per query row (`d_max`).
    pub k: f64,
    /// Keep only cosine similarities strictly above this (`τ`). @default no threshold
    pub threshold: Option<f64>,
    /// One byte per corpus row; non-zero rows are skipped.
    pub exclude: Option<Uint8Array>,
}

/// For each query row, the at most `k` corpus rows with cosine similarity above `threshold`,
/// best first (ties by smaller id). Both matrices are row-major `Float32Array`s with `dim`
/// columns, read without copying. Runs off the main thread.
#[napi(ts_return_type = "Promise<CsrGraph>")]
pub fn bipartite_top_k_native(
    queries: Float32Array,
    corpus: Float32Array,
    dim: f64,
    options: BipartiteOptions,
) -> Result<AsyncTask<impl Task>> {
    let dim = count("dim", dim)?;
    let k = count("k", options.k)?;
    let t = threshold(options.threshold);
    let exclude = options.exclude;
    Ok(Job::new(move || {
        let q = Matrix::new("queries", &queries, dim).map_err(to_napi)?;
        let c = Matrix::new("corpus", &corpus, dim).map_err(to_napi)?;
        let opts = TopKOptions { k, threshold: t };
        bipartite_top_k(&q, &c, &opts, exclude.as_deref())
            .map(to_js)
            .map_err(to_napi)
    }))
}

/// Options of `knnGraph`.
#[napi(object)]
pub struct KnnGraphOptions {
    /// Neighbours per row before symmetrisation.
    pub k: f64,
    /// Keep only cosine similarities strictly above this. @default no threshold
    pub threshold: Option<f64>,
    /// Add each edge's reverse (union). @default false
    pub symmetric: Option<bool>,
}

/// The exact k-nearest-neighbour graph of a row-major matrix with itself (self excluded).
/// Runs off the main thread.
#[napi(ts_return_type = "Promise<CsrGraph>")]
pub fn knn_graph_native(
    corpus: Float32Array,
    dim: f64,
    options: KnnGraphOptions,
) -> Result<AsyncTask<impl Task>> {
    let dim = count("dim", dim)?;
    let k = count("k", options.k)?;
    let opts = KnnOptions {
        k,
        threshold: threshold(options.threshold),
        symmetric: options.symmetric.unwrap_or(false),
    };
    Ok(Job::new(move || {
        let c = Matrix::new("corpus", &corpus, dim).map_err(to_napi)?;
        knn_graph(&c, &opts).map(to_js).map_err(to_napi)
    }))
}

/// Options of `propagate`.
#[napi(object)]
pub struct PropagateNativeOptions {
    /// Number of `Y ← W·Y` iterations.
    pub iterations: f64,
    /// Weight edges by similarity instead of `1 / deg`. @default false
    pub weighted: Option<bool>,
}

/// GBLE propagation (Algorithm 3). `y0` holds one initial label per row, `clamp` one byte per
/// row (non-zero: reset to `y0` after every iteration). Runs off the main thread.
#[napi(ts_return_type = "Promise<Float32Array>")]
pub fn propagate_native(
    offsets: Uint32Array,
    ids: Uint32Array,
    sims: Option<Float32Array>,
    y0: Float32Array,
    clamp: Uint8Array,
    options: PropagateNativeOptions,
) -> Result<AsyncTask<impl Task>> {
    let iterations = count("iterations", options.iterations)?;
    let opts = PropagateOptions {
        iterations,
        weighted: options.weighted.unwrap_or(false),
    };
    Ok(Job::new(move || {
        let g = CsrRef {
            offsets: &offsets,
            ids: &ids,
            sims: sims.as_deref(),
        };
        propagate(&g, &y0, &clamp, &opts)
            .map(Float32Array::new)
            .map_err(to_napi)
    }))
}

/// The `k` highest-scoring rows whose `exclude` byte is zero, best first, ties by smaller id.
/// Synchronous: linear time.
#[napi(catch_unwind)]
pub fn top_candidates_native(
    scores: Float32Array,
    k: f64,
    exclude: Option<Uint8Array>,
) -> Result<Uint32Array> {
    let k = count("k", k)?;
    if k == 0 {
        return Err(invalid("k", "must be > 0"));
    }
    top_candidates(&scores, k, exclude.as_deref())
        .map(Uint32Array::new)
        .map_err(to_napi)
}
