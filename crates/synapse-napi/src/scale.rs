//! Out-of-core mining: memory-mapped corpus shards, the on-disk IVF graph, streaming GBLE.
//! Handles (`VectorShards`, `DiskGraphHandle`, `ScaleProgress`) own `Arc`s shared with the
//! worker threads, so a long build runs off the main thread while JavaScript polls progress.
use crate::error::{count, invalid, to_napi};
use crate::graph::CsrGraph;
use crate::task::Job;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::path::PathBuf;
use std::sync::Arc;
use synapse_core::scale::{
    build_disk_graph, page_budget, propagate_disk, seed_top_k, write_planted_corpus, DiskGraph,
    DiskGraphOptions, PlantedOptions, Progress, VectorStore,
};
use synapse_core::Matrix;

/// Progress of long out-of-core work, polled from JavaScript, and its cancel switch.
#[napi]
pub struct ScaleProgress {
    inner: Arc<Progress>,
}

/// One reading of a [`ScaleProgress`].
#[napi(object)]
pub struct ProgressSnapshot {
    /// What is running (e.g. `search lists`).
    pub stage: String,
    /// Units done in this stage.
    pub done: f64,
    /// Units in this stage.
    pub total: f64,
}

#[napi]
impl ScaleProgress {
    /// A fresh tracker.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        ScaleProgress {
            inner: Arc::new(Progress::new()),
        }
    }

    /// The current stage and its counts.
    #[napi]
    pub fn snapshot(&self) -> ProgressSnapshot {
        let (stage, done, total) = self.inner.snapshot();
        ProgressSnapshot {
            stage,
            done: done as f64,
            total: total as f64,
        }
    }

    /// Ask the running work to stop at its next block (it then rejects with "cancelled").
    #[napi]
    pub fn cancel(&self) {
        self.inner.cancel();
    }
}

/// Corpus vectors memory-mapped from `.npy` or raw `.f32` shards (never copied into the
/// JavaScript heap).
#[napi]
pub struct VectorShards {
    inner: Arc<VectorStore>,
}

#[napi]
impl VectorShards {
    /// Map `paths` in order; raw `.f32` shards need `dim`.
    #[napi(factory)]
    pub fn open(paths: Vec<String>, dim: Option<f64>) -> Result<VectorShards> {
        let dim = dim.map(|d| count("dim", d)).transpose()?;
        let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
        let store = VectorStore::open(&paths, dim).map_err(to_napi)?;
        Ok(VectorShards {
            inner: Arc::new(store),
        })
    }

    /// Rows over all shards.
    #[napi(getter)]
    pub fn rows(&self) -> f64 {
        self.inner.rows() as f64
    }

    /// Columns.
    #[napi(getter)]
    pub fn dim(&self) -> f64 {
        self.inner.dim() as f64
    }
}

/// Options of `buildDiskGraph`.
#[napi(object)]
pub struct DiskGraphNativeOptions {
    /// Neighbours per row before symmetrisation (`d_max`).
    pub k: f64,
    /// Keep only cosine similarities strictly above this (`τ`).
    pub threshold: Option<f64>,
    /// Inverted lists. @default rows / 256
    pub lists: Option<f64>,
    /// Lists each list is compared with, its own included. @default 3
    pub probes: Option<f64>,
    /// k-means iterations. @default 8
    pub kmeans_iterations: Option<f64>,
    /// Resident memory bound in bytes. @default none
    pub memory_limit: Option<f64>,
}

/// What a disk graph build did.
#[napi(object)]
pub struct DiskGraphInfo {
    pub rows: f64,
    pub lists: f64,
    /// Directed edges after symmetrisation.
    pub edges: f64,
    /// Rows without an edge above `τ`.
    pub isolated: f64,
    /// Seconds per stage: k-means, assignment, search, symmetrisation (0: already on disk).
    pub seconds: Vec<f64>,
    /// Blocks found finished on disk (a resumed build).
    pub resumed_blocks: f64,
}

fn bytes_option(name: &str, v: Option<f64>) -> Result<u64> {
    match v {
        None => Ok(0),
        Some(b) if b.is_finite() && b >= 0.0 => Ok(b as u64),
        Some(b) => Err(invalid(
            name,
            format!("must be a non-negative number of bytes, got {b}"),
        )),
    }
}

/// Build (or resume building) the IVF kNN graph of `store` in `dir`. Off the main thread.
#[napi(ts_return_type = "Promise<DiskGraphInfo>")]
pub fn build_disk_graph_native(
    store: &VectorShards,
    dir: String,
    options: DiskGraphNativeOptions,
    progress: &ScaleProgress,
) -> Result<AsyncTask<impl Task>> {
    let opts = DiskGraphOptions {
        k: count("k", options.k)?,
        threshold: options.threshold.map(|t| t as f32),
        lists: options
            .lists
            .map(|v| count("lists", v))
            .transpose()?
            .unwrap_or(0),
        probes: options
            .probes
            .map(|v| count("probes", v))
            .transpose()?
            .unwrap_or(3),
        kmeans_iterations: options
            .kmeans_iterations
            .map(|v| count("kmeansIterations", v))
            .transpose()?
            .unwrap_or(8),
        memory_limit: bytes_option("memoryLimit", options.memory_limit)?,
    };
    let store = store.inner.clone();
    let progress = progress.inner.clone();
    Ok(Job::new(move || {
        let s = build_disk_graph(&store, &PathBuf::from(dir), &opts, &progress).map_err(to_napi)?;
        Ok(DiskGraphInfo {
            rows: s.rows as f64,
            lists: s.lists as f64,
            edges: s.edges as f64,
            isolated: s.isolated as f64,
            seconds: s.seconds.to_vec(),
            resumed_blocks: s.resumed_blocks as f64,
        })
    }))
}

/// A finished on-disk graph, memory-mapped.
#[napi]
pub struct DiskGraphHandle {
    inner: Arc<DiskGraph>,
}

#[napi]
impl DiskGraphHandle {
    /// Open the graph `buildDiskGraphNative` finished in `dir`.
    #[napi(factory)]
    pub fn open(dir: String) -> Result<DiskGraphHandle> {
        let g = DiskGraph::open(&PathBuf::from(dir)).map_err(to_napi)?;
        Ok(DiskGraphHandle { inner: Arc::new(g) })
    }

    /// Corpus rows.
    #[napi(getter)]
    pub fn rows(&self) -> f64 {
        self.inner.rows() as f64
    }

    /// Directed edges.
    #[napi(getter)]
    pub fn edges(&self) -> f64 {
        self.inner.edges() as f64
    }

    /// Neighbours of row `i` (for inspection and tests).
    #[napi]
    pub fn neighbours(&self, i: f64) -> Result<Uint32Array> {
        let i = count("row", i)?;
        if i >= self.inner.rows() {
            return Err(invalid(
                "row",
                format!("{i} is beyond the graph's {} rows", self.inner.rows()),
            ));
        }
        Ok(Uint32Array::new(self.inner.row(i).to_vec()))
    }
}

/// Each seed's top `k` corpus rows above `threshold` (seed → corpus CSR), by one streaming
/// pass over the shards. Off the main thread.
#[napi(ts_return_type = "Promise<CsrGraph>")]
pub fn seed_edges_native(
    store: &VectorShards,
    seeds: Float32Array,
    k: f64,
    threshold: Option<f64>,
    memory_limit: Option<f64>,
    progress: &ScaleProgress,
) -> Result<AsyncTask<impl Task>> {
    let k = count("k", k)?;
    let limit = bytes_option("memoryLimit", memory_limit)?;
    let budget = page_budget(limit, store.inner.rows()).map_err(to_napi)?;
    let store = store.inner.clone();
    let progress = progress.inner.clone();
    Ok(Job::new(move || {
        let m = Matrix::new("seeds", &seeds, store.dim()).map_err(to_napi)?;
        let g = seed_top_k(
            &store,
            &m,
            k,
            threshold.map(|t| t as f32),
            budget,
            &progress,
        )
        .map_err(to_napi)?;
        Ok(CsrGraph {
            offsets: Uint32Array::new(g.offsets),
            ids: Uint32Array::new(g.ids),
            sims: Float32Array::new(g.sims),
        })
    }))
}

/// GBLE propagation over the on-disk graph with `seedDegrees[i]` seed edges per corpus row
/// (seeds clamped to 1); graph pages are handed back to stay within `memoryLimit` bytes. Off the
/// main thread.
#[napi(ts_return_type = "Promise<Float32Array>")]
pub fn propagate_disk_native(
    graph: &DiskGraphHandle,
    seed_degrees: Uint32Array,
    y0: Float32Array,
    clamp: Uint8Array,
    iterations: f64,
    memory_limit: Option<f64>,
    progress: &ScaleProgress,
) -> Result<AsyncTask<impl Task>> {
    let iterations = count("iterations", iterations)?;
    let limit = bytes_option("memoryLimit", memory_limit)?;
    let budget = page_budget(limit, graph.inner.rows()).map_err(to_napi)?;
    let graph = graph.inner.clone();
    let progress = progress.inner.clone();
    Ok(Job::new(move || {
        propagate_disk(
            &graph,
            &seed_degrees,
            &y0,
            &clamp,
            iterations,
            budget,
            &progress,
        )
        .map(Float32Array::new)
        .map_err(to_napi)
    }))
}

/// Options of `writePlantedCorpus`.
#[napi(object)]
pub struct PlantedNativeOptions {
    pub rows: f64,
    pub dim: f64,
    pub topics: f64,
    pub subclusters: f64,
    pub positive_rate: f64,
    pub modes: f64,
    pub seeds: f64,
    /// Rows per shard (0: one shard).
    pub shard_rows: f64,
    pub seed: f64,
}

/// Where the planted corpus went.
#[napi(object)]
pub struct PlantedFilesInfo {
    pub shards: Vec<String>,
    pub seeds: String,
    pub truth: String,
    pub positives: f64,
}

/// Write a planted corpus (clustered unit vectors with a rare event, seeds and a ground-truth
/// column) into `dir`. Off the main thread.
#[napi(ts_return_type = "Promise<PlantedFilesInfo>")]
pub fn write_planted_corpus_native(
    dir: String,
    options: PlantedNativeOptions,
) -> Result<AsyncTask<impl Task>> {
    let o = PlantedOptions {
        rows: count("rows", options.rows)?,
        dim: count("dim", options.dim)?,
        topics: count("topics", options.topics)?,
        subclusters: count("subclusters", options.subclusters)?,
        positive_rate: options.positive_rate,
        modes: count("modes", options.modes)?,
        seeds: count("seeds", options.seeds)?,
        shard_rows: count("shardRows", options.shard_rows)?,
        seed: count("seed", options.seed)? as u64,
    };
    Ok(Job::new(move || {
        let f = write_planted_corpus(&PathBuf::from(dir), &o).map_err(to_napi)?;
        let s = |p: PathBuf| p.to_string_lossy().into_owned();
        Ok(PlantedFilesInfo {
            shards: f.shards.into_iter().map(s).collect(),
            seeds: s(f.seeds),
            truth: s(f.truth),
            positives: f.positives as f64,
        })
    }))
}
