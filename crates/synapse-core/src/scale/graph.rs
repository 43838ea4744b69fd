//! The corpus kNN graph of a memory-mapped corpus, built in blocks on disk.
//!
//! The exact all-pairs graph costs `n² · d` multiply-adds: days at ten million rows. This
//! builds an inverted-file (IVF) graph instead, the same idea as faiss's `IVFFlat` but as
//! whole-block matrix products:
//!
//! 1. **lists**: a two-level spherical k-means on a strided sample: `√C` coarse centroids, then
//!    fine centroids inside each coarse cell, `C ≈ n / 256` lists in all;
//! 2. **assign**: every row joins the fine list nearest it among the fine centroids of its
//!    nearest coarse cell and that cell's nearest neighbour (one streaming pass of small GEMMs:
//!    about `3√C` dot products a row instead of `C`);
//! 3. **search**: for each list, its rows are compared with every row of the `probes` lists
//!    whose centroids are nearest its own (its own included) by one blocked GEMM, and each
//!    row keeps its top `d_max` neighbours above `τ` (self excluded);
//! 4. **symmetrise**: every edge is added in both directions (union), into a CSR on disk.
//!
//! With `probes = lists` it is the exact graph. Stages 2 and 3 write into preallocated files
//! and log each finished block (fsynced after its data), so a killed build resumes where it
//! stopped; `meta.txt` ties the directory to its inputs and parameters. Mapped pages of the
//! corpus and of the outputs are handed back whenever the pages read since the last release
//! exceed the memory budget, which bounds the peak resident set.
use super::files::{f32_bytes, f32_from_bytes, write_atomic, BlockLog, MappedOutput};
use super::progress::Progress;
use super::store::{resident_bytes, VectorStore};
use crate::error::{invalid, io_error, CoreError, Result};
use crate::matrix::Matrix;
use crate::similarity::top_k_rows;
use memmap2::Mmap;
use rayon::prelude::*;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

/// A row and its neighbours `(similarity, row)`, best first.
type RowNeighbours = (u32, Vec<(f32, u32)>);

/// No neighbour in this slot (rows with fewer than `d_max` neighbours above `τ`).
const EMPTY: u32 = u32::MAX;

/// Options of [`build_disk_graph`].
#[derive(Debug, Clone, Copy)]
pub struct DiskGraphOptions {
    /// Neighbours kept per row before symmetrisation (`d_max`).
    pub k: usize,
    /// Keep only cosine similarities strictly above this (`τ`).
    pub threshold: Option<f32>,
    /// Inverted lists; 0 picks `n / 256`.
    pub lists: usize,
    /// Lists each list is compared with, its own included. Default 3.
    pub probes: usize,
    /// k-means iterations on the sample. Default 8.
    pub kmeans_iterations: usize,
    /// Bound on resident memory in bytes (0: none). Work and mapped pages are sized to fit.
    pub memory_limit: u64,
}

impl Default for DiskGraphOptions {
    fn default() -> Self {
        DiskGraphOptions {
            k: 20,
            threshold: None,
            lists: 0,
            probes: 3,
            kmeans_iterations: 8,
            memory_limit: 0,
        }
    }
}

/// What a build did.
#[derive(Debug, Clone, Default)]
pub struct DiskGraphStats {
    /// Corpus rows.
    pub rows: usize,
    /// Inverted lists used.
    pub lists: usize,
    /// Directed edges after symmetrisation.
    pub edges: u64,
    /// Rows without any edge above `τ`.
    pub isolated: usize,
    /// Seconds per stage: k-means, assignment, search, symmetrisation (0 for a stage
    /// skipped because it was already on disk).
    pub seconds: [f64; 4],
    /// Blocks of the assign and search stages found finished on disk (a resumed build).
    pub resumed_blocks: usize,
}

/// Rows of k-means training sample per fine list.
const SAMPLE_PER_LIST: usize = 16;
/// Default rows per inverted list (a GEMM tile).
const LIST_ROWS: usize = 256;
/// Rows per block of the streaming passes (assignment, seeds).
pub(crate) const STREAM_BLOCK: usize = 1 << 16;

fn meta_line(store: &VectorStore, o: &DiskGraphOptions, lists: usize) -> String {
    format!(
        "synapse-g disk graph v1\nk={} threshold={:?} lists={} probes={} kmeans_iterations={}\n{}\n",
        o.k,
        o.threshold,
        lists,
        o.probes,
        o.kmeans_iterations,
        store.fingerprint()
    )
}

/// The resident-set size (bytes) above which mapped pages are handed back, for a memory limit
/// of `memory_limit` bytes (0: none, `u64::MAX`): 70 % of the limit
/// less the per-row arrays held at once (assignments, list order, reverse counts, CSR offsets
/// and cursors); the rest is headroom for the block in flight, the output pages and the caller.
pub fn page_budget(memory_limit: u64, n: usize) -> Result<u64> {
    if memory_limit == 0 {
        return Ok(u64::MAX);
    }
    let fixed = n as u64 * 24;
    let min = fixed + (1 << 30);
    if memory_limit < min {
        return Err(invalid(
            "memoryLimit",
            format!(
                "{} MB is too small for {n} rows: the graph build needs at least {} MB",
                memory_limit >> 20,
                min.div_ceil(1 << 20)
            ),
        ));
    }
    Ok((memory_limit / 10 * 7).saturating_sub(fixed).max(256 << 20))
}

/// Build (or finish building) the graph of `store` in `dir`. See the module documentation.
pub fn build_disk_graph(
    store: &VectorStore,
    dir: &Path,
    options: &DiskGraphOptions,
    progress: &Progress,
) -> Result<DiskGraphStats> {
    let n = store.rows();
    let d = store.dim();
    if options.k == 0 {
        return Err(invalid("k", "must be > 0"));
    }
    if options.probes == 0 {
        return Err(invalid("probes", "must be > 0"));
    }
    if let Some(t) = options.threshold {
        if !t.is_finite() {
            return Err(invalid("threshold", format!("must be finite, got {t}")));
        }
    }
    let lists = if options.lists > 0 {
        options.lists.min(n)
    } else {
        (n / LIST_ROWS).max(1)
    };
    let probes = options.probes.min(lists);
    let budget = page_budget(options.memory_limit, n)?;
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, "create", e))?;
    let meta = meta_line(store, options, lists);
    let meta_path = dir.join("meta.txt");
    match std::fs::read_to_string(&meta_path) {
        Ok(old) if old == meta => {}
        Ok(_) => {
            return Err(invalid(
                "workDir",
                format!(
                    "{} holds a graph of other vectors or parameters (see its meta.txt); use another work directory or delete it",
                    dir.display()
                ),
            ))
        }
        Err(_) => write_atomic(&meta_path, meta.as_bytes())?,
    }
    let mut stats = DiskGraphStats {
        rows: n,
        lists,
        ..Default::default()
    };
    if let Some(done) = read_done(dir)? {
        stats.edges = done.0;
        stats.isolated = done.1;
        return Ok(stats);
    }

    // 1. Lists: the two-level quantizer (recomputed only if its file is missing).
    let t = Instant::now();
    let qpath = dir.join("quantizer.f32");
    let quant = match std::fs::read(&qpath)
        .ok()
        .and_then(|b| Quantizer::from_bytes(&b, d))
    {
        Some(q) => q,
        None => {
            progress.start("lists (k-means)", 0, 2);
            let q = Quantizer::train(store, lists, options.kmeans_iterations, budget, progress)?;
            write_atomic(&qpath, &q.to_bytes())?;
            stats.seconds[0] = t.elapsed().as_secs_f64();
            q
        }
    };
    let lists = quant.lists();
    stats.lists = lists;
    let probes = probes.min(lists);

    // 2. Assignment: each row's nearest fine centroid, as the quantizer finds it.
    let t = Instant::now();
    let mut assign_out = MappedOutput::open(&dir.join("assign.u32"), n * 4)?;
    let (mut alog, adone) = BlockLog::open(&dir.join("assign.log"))?;
    let blocks = store.blocks(STREAM_BLOCK);
    stats.resumed_blocks += adone.len();
    progress.start(
        "assign rows to lists",
        (adone.len() * STREAM_BLOCK).min(n) as u64,
        n as u64,
    );
    for (b, &(first, len)) in blocks.iter().enumerate() {
        if adone.contains(&(b as u32)) {
            continue;
        }
        progress.check()?;
        let lists_of = quant.assign(store.slice(first, len)?)?;
        assign_out.u32s()[first..first + len].copy_from_slice(&lists_of);
        assign_out.sync()?;
        alog.finish(b as u32)?;
        progress.add(len as u64);
        store.release_over(budget);
    }
    stats.seconds[1] = t.elapsed().as_secs_f64();
    let assign: Vec<u32> = assign_out.u32s().to_vec();
    drop(assign_out);

    // Rows grouped by list (counting sort) and each list's nearest lists.
    let mut start = vec![0usize; lists + 1];
    for &a in &assign {
        start[a as usize + 1] += 1;
    }
    for c in 0..lists {
        start[c + 1] += start[c];
    }
    let mut order = vec![0u32; n];
    let mut fill = start.clone();
    for (i, &a) in assign.iter().enumerate() {
        order[fill[a as usize]] = i as u32;
        fill[a as usize] += 1;
    }
    drop(fill);
    drop(assign);
    let fm = Matrix::new("centroids", &quant.fine, d)?;
    let near = top_k_rows(&fm, &fm, probes, f32::NEG_INFINITY, None, false);

    // 3. Search, a block of lists at a time.
    let t = Instant::now();
    let k = options.k;
    let threshold = options.threshold.unwrap_or(f32::NEG_INFINITY);
    let mut ids_out = MappedOutput::open(&dir.join("knn.ids"), n * k * 4)?;
    let (mut slog, sdone) = BlockLog::open(&dir.join("knn.log"))?;
    // About 64 blocks: a resume redoes at most 1/64 of the search; each block ends with one
    // msync of the neighbour file, which walks all its pages.
    let per_block = lists.div_ceil(64).max(1);
    let nblocks = lists.div_ceil(per_block);
    stats.resumed_blocks += sdone.len();
    let done_rows: usize = (0..nblocks)
        .filter(|b| sdone.contains(&(*b as u32)))
        .map(|b| start[((b + 1) * per_block).min(lists)] - start[b * per_block])
        .sum();
    progress.start("search lists", done_rows as u64, n as u64);
    for b in 0..nblocks {
        if sdone.contains(&(b as u32)) {
            continue;
        }
        progress.check()?;
        let (l0, l1) = (b * per_block, ((b + 1) * per_block).min(lists));
        let found: Vec<Vec<RowNeighbours>> = (l0..l1)
            .into_par_iter()
            .map(|c| search_list(store, (&order, &start), &near[c], c, k, threshold, budget))
            .collect::<Result<_>>()?;
        let ids = ids_out.u32s();
        for list in &found {
            for (row, nb) in list {
                let base = *row as usize * k;
                for s in 0..k {
                    ids[base + s] = nb.get(s).map_or(EMPTY, |p| p.1);
                }
            }
        }
        ids_out.sync()?;
        slog.finish(b as u32)?;
        progress.add((start[l1] - start[l0]) as u64);
        if resident_bytes().is_some_and(|r| r > budget) {
            store.release();
            ids_out.release();
        }
    }
    stats.seconds[2] = t.elapsed().as_secs_f64();
    drop(order);
    store.release();

    // 4. Symmetrise into CSR.
    let t = Instant::now();
    progress.start("symmetrise", 0, 2 * n as u64);
    let (edges, isolated) = symmetrise(dir, ids_out.u32s(), n, k, progress)?;
    drop(ids_out);
    stats.seconds[3] = t.elapsed().as_secs_f64();
    stats.edges = edges;
    stats.isolated = isolated;
    write_atomic(
        &dir.join("graph.done"),
        format!("edges={edges} isolated={isolated}\n").as_bytes(),
    )?;
    Ok(stats)
}

/// `(edges, isolated)` from `graph.done` when the build finished earlier.
fn read_done(dir: &Path) -> Result<Option<(u64, usize)>> {
    let Ok(s) = std::fs::read_to_string(dir.join("graph.done")) else {
        return Ok(None);
    };
    let field = |key: &str| -> Option<u64> {
        s.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
    };
    match (field("edges"), field("isolated")) {
        (Some(e), Some(i)) => Ok(Some((e, i as usize))),
        _ => Ok(None),
    }
}

/// Spherical k-means of the rows of `sample` (unit rows, row-major): `k` unit centroids.
fn kmeans(sample: &[f32], d: usize, k: usize, iterations: usize) -> Result<Vec<f32>> {
    let n = sample.len() / d;
    let k = k.clamp(1, n.max(1));
    let sm = Matrix::new("vectors", sample, d)?;
    // Start from evenly spaced sample rows.
    let mut cent: Vec<f32> = (0..k)
        .flat_map(|c| {
            let r = c * n / k;
            sample[r * d..(r + 1) * d].to_vec()
        })
        .collect();
    for _ in 0..iterations.max(1) {
        let cm = Matrix::new("centroids", &cent, d)?;
        let best = top_k_rows(&sm, &cm, 1, f32::NEG_INFINITY, None, false);
        let mut sums = vec![0f32; k * d];
        let mut counts = vec![0usize; k];
        let mut worst = (f32::INFINITY, 0usize);
        for (r, b) in best.iter().enumerate() {
            let (s, c) = b.first().map_or((0.0, 0), |p| (p.0, p.1 as usize));
            counts[c] += 1;
            if s < worst.0 {
                worst = (s, r);
            }
            for (a, x) in sums[c * d..(c + 1) * d]
                .iter_mut()
                .zip(&sample[r * d..(r + 1) * d])
            {
                *a += x;
            }
        }
        for c in 0..k {
            if counts[c] == 0 {
                // An empty list restarts at the sample row farthest from its centroid.
                sums[c * d..(c + 1) * d].copy_from_slice(&sample[worst.1 * d..(worst.1 + 1) * d]);
                worst.0 = f32::INFINITY;
            }
        }
        normalise(&mut sums, d);
        cent = sums;
    }
    Ok(cent)
}

/// A two-level quantizer: coarse centroids, and the fine centroids (the lists) of each coarse
/// cell. A row's list is its nearest fine centroid among those of its nearest coarse cell and
/// of that cell's nearest other cell.
struct Quantizer {
    d: usize,
    coarse: Vec<f32>,
    /// Fine centroids of coarse cell `a`: rows `fine_start[a]..fine_start[a + 1]` of `fine`.
    fine_start: Vec<usize>,
    fine: Vec<f32>,
    /// Each coarse cell's nearest other cell (itself when there is one cell).
    neighbour: Vec<usize>,
}

impl Quantizer {
    fn lists(&self) -> usize {
        self.fine.len() / self.d
    }

    fn train(
        store: &VectorStore,
        lists: usize,
        iterations: usize,
        budget: u64,
        progress: &Progress,
    ) -> Result<Quantizer> {
        let n = store.rows();
        let d = store.dim();
        let want = (lists * SAMPLE_PER_LIST).clamp(lists, n);
        let ids: Vec<u32> = (0..want).map(|j| (j * n / want) as u32).collect();
        let mut sample = Vec::new();
        store.gather(&ids, &mut sample, budget);
        store.release();
        if let Some(p) = sample.iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                "vectors",
                format!(
                    "non-finite value {} at row {}, column {}",
                    sample[p],
                    ids[p / d],
                    p % d
                ),
            ));
        }
        normalise(&mut sample, d);
        let c1 = ((lists as f64).sqrt().round() as usize).clamp(1, lists);
        let coarse = kmeans(&sample, d, c1, iterations)?;
        progress.check()?;
        progress.add(1);
        let cm = Matrix::new("centroids", &coarse, d)?;
        let sm = Matrix::new("vectors", &sample, d)?;
        let cell: Vec<usize> = top_k_rows(&sm, &cm, 1, f32::NEG_INFINITY, None, false)
            .iter()
            .map(|b| b.first().map_or(0, |p| p.1 as usize))
            .collect();
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); c1];
        for (r, &a) in cell.iter().enumerate() {
            members[a].push(r);
        }
        // Fine lists per cell in proportion to its share of the sample.
        let fine_sets: Vec<Vec<f32>> = members
            .par_iter()
            .map(|m| {
                if m.is_empty() {
                    return Ok(Vec::new());
                }
                let k = ((lists * m.len()) as f64 / want as f64).round().max(1.0) as usize;
                let rows: Vec<f32> = m
                    .iter()
                    .flat_map(|&r| sample[r * d..(r + 1) * d].to_vec())
                    .collect();
                kmeans(&rows, d, k, iterations)
            })
            .collect::<Result<_>>()?;
        progress.add(1);
        let mut fine_start = vec![0usize];
        let mut fine = Vec::new();
        for f in fine_sets {
            fine.extend_from_slice(&f);
            fine_start.push(fine.len() / d);
        }
        let neighbour = Self::neighbours(&coarse, d)?;
        Ok(Quantizer {
            d,
            coarse,
            fine_start,
            fine,
            neighbour,
        })
    }

    fn neighbours(coarse: &[f32], d: usize) -> Result<Vec<usize>> {
        let cm = Matrix::new("centroids", coarse, d)?;
        let near = top_k_rows(&cm, &cm, 2, f32::NEG_INFINITY, None, false);
        Ok(near
            .iter()
            .enumerate()
            .map(|(a, nb)| {
                nb.iter()
                    .map(|p| p.1 as usize)
                    .find(|&b| b != a)
                    .unwrap_or(a)
            })
            .collect())
    }

    /// The list of every row of `block` (row-major, finite).
    fn assign(&self, block: &[f32]) -> Result<Vec<u32>> {
        let d = self.d;
        let bm = Matrix::new("vectors", block, d)?;
        let cm = Matrix::new("centroids", &self.coarse, d)?;
        let cells = top_k_rows(&bm, &cm, 1, f32::NEG_INFINITY, None, false);
        let c1 = self.fine_start.len() - 1;
        let mut by_cell: Vec<Vec<usize>> = vec![Vec::new(); c1];
        for (r, b) in cells.iter().enumerate() {
            by_cell[b.first().map_or(0, |p| p.1 as usize)].push(r);
        }
        let found: Vec<Vec<(usize, u32)>> = by_cell
            .par_iter()
            .enumerate()
            .map(|(a, rows)| {
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let b = self.neighbour[a];
                let mut ids: Vec<u32> = (self.fine_start[a]..self.fine_start[a + 1])
                    .map(|x| x as u32)
                    .collect();
                if b != a {
                    ids.extend((self.fine_start[b]..self.fine_start[b + 1]).map(|x| x as u32));
                }
                if ids.is_empty() {
                    return Ok(rows.iter().map(|&r| (r, 0)).collect());
                }
                let cand: Vec<f32> = ids
                    .iter()
                    .flat_map(|&f| self.fine[f as usize * d..(f as usize + 1) * d].to_vec())
                    .collect();
                let q: Vec<f32> = rows
                    .iter()
                    .flat_map(|&r| block[r * d..(r + 1) * d].to_vec())
                    .collect();
                let qm = Matrix::new("vectors", &q, d)?;
                let fm = Matrix::new("centroids", &cand, d)?;
                let best = top_k_rows(&qm, &fm, 1, f32::NEG_INFINITY, None, false);
                Ok(rows
                    .iter()
                    .zip(best)
                    .map(|(&r, nb)| (r, nb.first().map_or(ids[0], |p| ids[p.1 as usize])))
                    .collect())
            })
            .collect::<Result<_>>()?;
        let mut out = vec![0u32; block.len() / d];
        for (r, l) in found.into_iter().flatten() {
            out[r] = l;
        }
        Ok(out)
    }

    /// `[c1, fine rows, fine_start..., coarse..., fine...]` as little-endian f32 (counts are
    /// exact in f32 up to 2^24).
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![(self.fine_start.len() - 1) as f32, self.lists() as f32];
        v.extend(self.fine_start.iter().map(|&x| x as f32));
        v.extend_from_slice(&self.coarse);
        v.extend_from_slice(&self.fine);
        f32_bytes(&v)
    }

    fn from_bytes(b: &[u8], d: usize) -> Option<Quantizer> {
        let v = f32_from_bytes(b)?;
        let (c1, nf) = (*v.first()? as usize, *v.get(1)? as usize);
        let fs_end = 2 + c1 + 1;
        let fine_start: Vec<usize> = v.get(2..fs_end)?.iter().map(|&x| x as usize).collect();
        let coarse = v.get(fs_end..fs_end + c1 * d)?.to_vec();
        let fine = v.get(fs_end + c1 * d..)?.to_vec();
        if fine.len() != nf * d || fine_start.last() != Some(&nf) || c1 == 0 {
            return None;
        }
        let neighbour = Self::neighbours(&coarse, d).ok()?;
        Some(Quantizer {
            d,
            coarse,
            fine_start,
            fine,
            neighbour,
        })
    }
}

/// L2-normalise each row in place (zero rows stay zero).
fn normalise(v: &mut [f32], d: usize) {
    v.par_chunks_mut(d).for_each(|row| {
        let s: f32 = row.iter().map(|x| x * x).sum();
        if s > 0.0 {
            let inv = 1.0 / s.sqrt();
            row.iter_mut().for_each(|x| *x *= inv);
        }
    });
}

/// One list's rows against the rows of its nearest lists: `(row, neighbours best first)`.
fn search_list(
    store: &VectorStore,
    (order, start): (&[u32], &[usize]),
    near: &[(f32, u32)],
    c: usize,
    k: usize,
    threshold: f32,
    budget: u64,
) -> Result<Vec<RowNeighbours>> {
    let own = &order[start[c]..start[c + 1]];
    if own.is_empty() {
        return Ok(Vec::new());
    }
    let d = store.dim();
    let mut cand_ids: Vec<u32> = Vec::new();
    for &(_, l) in near {
        cand_ids.extend_from_slice(&order[start[l as usize]..start[l as usize + 1]]);
    }
    if !near.iter().any(|p| p.1 as usize == c) {
        cand_ids.extend_from_slice(own);
    }
    let mut q = Vec::new();
    store.gather(own, &mut q, budget);
    let mut cv = Vec::new();
    store.gather(&cand_ids, &mut cv, budget);
    let qm = Matrix::new("vectors", &q, d)?;
    let cm = Matrix::new("vectors", &cv, d)?;
    let rows = top_k_rows(&qm, &cm, k + 1, threshold, None, false);
    Ok(own
        .iter()
        .zip(rows)
        .map(|(&row, nb)| {
            let mut kept: Vec<(f32, u32)> = nb
                .into_iter()
                .map(|(s, j)| (s, cand_ids[j as usize]))
                .filter(|p| p.1 != row)
                .collect();
            kept.truncate(k);
            (row, kept)
        })
        .collect())
}

/// The union of every ELL edge and its reverse, written as CSR (`graph.offsets` as u64,
/// `graph.ids` as u32). Returns `(directed edges, rows without edges)`.
fn symmetrise(
    dir: &Path,
    ell: &[u32],
    n: usize,
    k: usize,
    progress: &Progress,
) -> Result<(u64, usize)> {
    if ell.par_iter().any(|&j| j != EMPTY && j as usize >= n) {
        return Err(CoreError::Io(format!(
            "{}: knn.ids holds row ids beyond the corpus (damaged); delete the work directory and build again",
            dir.display()
        )));
    }
    let row = |i: usize| {
        ell[i * k..(i + 1) * k]
            .iter()
            .copied()
            .take_while(|&j| j != EMPTY)
    };
    // Reverse edges each row gains: i → j whose reverse j → i is not already in j's list.
    let extra: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
    (0..n).into_par_iter().for_each(|i| {
        for j in row(i) {
            if !row(j as usize).any(|x| x as usize == i) {
                extra[j as usize].fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    progress.add(n as u64);
    let mut off_out = MappedOutput::open(&dir.join("graph.offsets"), (n + 1) * 8)?;
    let offsets = off_out.u64s();
    offsets[0] = 0;
    for i in 0..n {
        let own = row(i).count() as u64;
        offsets[i + 1] = offsets[i] + own + extra[i].load(Ordering::Relaxed) as u64;
    }
    let edges = offsets[n];
    let isolated = (0..n).filter(|&i| offsets[i + 1] == offsets[i]).count();
    let mut ids_out = MappedOutput::open(&dir.join("graph.ids"), edges as usize * 4)?;
    {
        let ids = ids_out.u32s();
        // Forward edges first, then reverse ones at a per-row cursor.
        let cursor: Vec<AtomicU32> = (0..n)
            .map(|i| AtomicU32::new(row(i).count() as u32))
            .collect();
        let base = ids.as_mut_ptr() as usize;
        let offs: &[u64] = offsets;
        (0..n).into_par_iter().for_each(|i| {
            let p = base as *mut u32;
            for (s, j) in row(i).enumerate() {
                // SAFETY: slot offs[i] + s < offs[i] + own(i) belongs to row i alone.
                unsafe { *p.add(offs[i] as usize + s) = j };
                let ju = j as usize;
                if !row(ju).any(|x| x as usize == i) {
                    let slot = cursor[ju].fetch_add(1, Ordering::Relaxed) as usize;
                    // SAFETY: each reverse slot of row j is claimed once by the atomic cursor and
                    // stays below offs[j + 1] because `extra` counted exactly these edges.
                    unsafe { *p.add(offs[ju] as usize + slot) = i as u32 };
                }
            }
        });
    }
    progress.add(n as u64);
    off_out.sync()?;
    ids_out.sync()?;
    Ok((edges, isolated))
}

/// A finished on-disk graph, memory-mapped for propagation.
#[derive(Debug)]
pub struct DiskGraph {
    dir: PathBuf,
    offsets: Mmap,
    ids: Mmap,
    rows: usize,
}

impl DiskGraph {
    /// Open the graph [`build_disk_graph`] finished in `dir`.
    pub fn open(dir: &Path) -> Result<DiskGraph> {
        if read_done(dir)?.is_none() {
            return Err(invalid(
                "workDir",
                format!("{} holds no finished graph (build it first)", dir.display()),
            ));
        }
        let map = |name: &str| -> Result<Mmap> {
            let p = dir.join(name);
            let f = File::open(&p).map_err(|e| io_error(&p, "open", e))?;
            // SAFETY: read-only map of a file this library finished and never rewrites.
            unsafe { Mmap::map(&f) }.map_err(|e| io_error(&p, "map", e))
        };
        let offsets = map("graph.offsets")?;
        let ids = map("graph.ids")?;
        if offsets.len() < 16 || offsets.len() % 8 != 0 {
            return Err(CoreError::Io(format!(
                "{}: graph.offsets is damaged",
                dir.display()
            )));
        }
        let g = DiskGraph {
            dir: dir.to_path_buf(),
            rows: offsets.len() / 8 - 1,
            offsets,
            ids,
        };
        let last = g.offsets()[g.rows] as usize;
        if last * 4 > g.ids.len().max(4) || (last > 0 && last * 4 != g.ids.len()) {
            return Err(CoreError::Io(format!(
                "{}: graph.ids does not match graph.offsets",
                dir.display()
            )));
        }
        Ok(g)
    }

    /// Corpus rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Directed edges.
    pub fn edges(&self) -> u64 {
        self.offsets()[self.rows]
    }

    /// The directory it lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `rows + 1` offsets.
    pub fn offsets(&self) -> &[u64] {
        // SAFETY: page-aligned map of whole u64s (checked in `open`).
        unsafe {
            std::slice::from_raw_parts(self.offsets.as_ptr() as *const u64, self.offsets.len() / 8)
        }
    }

    /// Neighbour ids.
    pub fn ids(&self) -> &[u32] {
        let n = self.edges() as usize;
        // SAFETY: page-aligned map holding `edges` u32s (checked in `open`).
        unsafe { std::slice::from_raw_parts(self.ids.as_ptr() as *const u32, n) }
    }

    /// Neighbours of row `i`.
    pub fn row(&self, i: usize) -> &[u32] {
        let o = self.offsets();
        &self.ids()[o[i] as usize..o[i + 1] as usize]
    }

    /// Drop the mapped pages from the resident set.
    pub fn release(&self) {
        for m in [&self.offsets, &self.ids] {
            // SAFETY: read-only file mappings: the next access re-reads the file.
            let _ = unsafe { m.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }
}
