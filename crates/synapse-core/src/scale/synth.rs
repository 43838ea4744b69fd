//! A planted corpus for scale tests and benchmarks: clustered unit vectors with a rare event
//! hidden inside ordinary topics, written as `.npy` shards with a ground-truth column.
//!
//! Topics are random directions; each topic has sub-clusters around it, and every ordinary row
//! lies near one sub-cluster. The rare event has a few modes, each a sub-cluster of some topic
//! (so its rows have ordinary neighbours too), and the synthetic seeds are noisier draws around
//! the same modes, as LLM-written examples are near but not on the real distribution.
//! Deterministic for a given `seed`, whatever the thread count.
use crate::error::{invalid, io_error, Result};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rayon::prelude::*;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Options of [`write_planted_corpus`].
#[derive(Debug, Clone, Copy)]
pub struct PlantedOptions {
    /// Corpus rows.
    pub rows: usize,
    /// Columns.
    pub dim: usize,
    /// Ordinary topics.
    pub topics: usize,
    /// Sub-clusters per topic.
    pub subclusters: usize,
    /// Share of rows that are positives.
    pub positive_rate: f64,
    /// Modes of the rare event.
    pub modes: usize,
    /// Synthetic seeds to write.
    pub seeds: usize,
    /// Rows per `.npy` shard (0: one shard).
    pub shard_rows: usize,
    /// Random seed.
    pub seed: u64,
}

impl Default for PlantedOptions {
    fn default() -> Self {
        PlantedOptions {
            rows: 100_000,
            dim: 384,
            topics: 200,
            subclusters: 50,
            positive_rate: 0.001,
            modes: 5,
            seeds: 50,
            shard_rows: 0,
            seed: 0,
        }
    }
}

/// Where [`write_planted_corpus`] put things.
#[derive(Debug, Clone)]
pub struct PlantedFiles {
    /// Corpus shards, in row order.
    pub shards: Vec<PathBuf>,
    /// Seeds (`seeds × dim` float32).
    pub seeds: PathBuf,
    /// Ground truth, one uint8 per corpus row (1 = positive).
    pub truth: PathBuf,
    /// Positive rows.
    pub positives: usize,
}

/// Spread of a sub-cluster around its topic and of a row around its sub-cluster (norm of the
/// added noise relative to the unit centre).
const SUB_SPREAD: f32 = 0.8;
const ROW_SPREAD: f32 = 0.9;
const SEED_SPREAD: f32 = 1.1;

fn unit_noise(rng: &mut SmallRng, out: &mut [f32], centre: &[f32], spread: f32) {
    let scale = spread / (out.len() as f32).sqrt();
    let mut s = 0f32;
    for (o, c) in out.iter_mut().zip(centre) {
        let g: f32 = rng.sample(StandardNormal);
        *o = c + scale * g;
        s += *o * *o;
    }
    let inv = 1.0 / s.sqrt().max(f32::MIN_POSITIVE);
    out.iter_mut().for_each(|x| *x *= inv);
}

fn npy_header(shape: &str, descr: &str) -> Vec<u8> {
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Pad so that the data starts at a multiple of 64 bytes, newline-terminated.
    let total = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat(total.next_multiple_of(64) - total));
    dict.push('\n');
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h
}

fn mix(seed: u64, i: u64, salt: u64) -> u64 {
    // SplitMix64 finaliser of (seed, i, salt): a per-row hash, independent of threads.
    let mut z =
        seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Write the planted corpus into `dir` as `corpus-NNN.npy`, `seeds.npy` and `truth.npy`.
pub fn write_planted_corpus(dir: &Path, o: &PlantedOptions) -> Result<PlantedFiles> {
    if o.rows == 0 || o.dim == 0 || o.topics == 0 || o.subclusters == 0 || o.modes == 0 {
        return Err(invalid(
            "planted",
            "rows, dim, topics, subclusters and modes must be > 0",
        ));
    }
    if !(0.0..1.0).contains(&o.positive_rate) {
        return Err(invalid(
            "positiveRate",
            format!("must be in [0, 1), got {}", o.positive_rate),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, "create", e))?;
    let d = o.dim;
    let mut rng = SmallRng::seed_from_u64(o.seed);
    let zero = vec![0f32; d];
    let mut topics = vec![0f32; o.topics * d];
    for t in topics.chunks_mut(d) {
        unit_noise(&mut rng, t, &zero, 1.0);
    }
    let nsub = o.topics * o.subclusters;
    let mut subs = vec![0f32; nsub * d];
    for (s, out) in subs.chunks_mut(d).enumerate() {
        unit_noise(
            &mut rng,
            out,
            &topics[(s / o.subclusters) * d..][..d],
            SUB_SPREAD,
        );
    }
    let mut modes = vec![0f32; o.modes * d];
    for (m, out) in modes.chunks_mut(d).enumerate() {
        let t = (mix(o.seed, m as u64, 7) % o.topics as u64) as usize;
        unit_noise(&mut rng, out, &topics[t * d..][..d], SUB_SPREAD);
    }
    let threshold = (o.positive_rate * u64::MAX as f64) as u64;
    let is_positive = |i: usize| mix(o.seed, i as u64, 1) < threshold;

    let shard_rows = if o.shard_rows == 0 {
        o.rows
    } else {
        o.shard_rows
    };
    let mut shards = Vec::new();
    const CHUNK: usize = 1 << 14;
    let mut first = 0;
    while first < o.rows {
        let rows = shard_rows.min(o.rows - first);
        let path = dir.join(format!("corpus-{:03}.npy", shards.len()));
        let f = File::create(&path).map_err(|e| io_error(&path, "create", e))?;
        let mut w = BufWriter::with_capacity(1 << 22, f);
        let err = |e| io_error(&path, "write", e);
        w.write_all(&npy_header(&format!("({rows}, {d})"), "<f4"))
            .map_err(err)?;
        let mut buf = vec![0f32; CHUNK * d];
        let mut r = 0;
        while r < rows {
            let len = CHUNK.min(rows - r);
            let base = first + r;
            buf[..len * d]
                .par_chunks_mut(d)
                .enumerate()
                .for_each(|(j, out)| {
                    let i = base + j;
                    let mut rng = SmallRng::seed_from_u64(mix(o.seed, i as u64, 2));
                    let centre = if is_positive(i) {
                        let m = (mix(o.seed, i as u64, 3) % o.modes as u64) as usize;
                        &modes[m * d..][..d]
                    } else {
                        let s = (mix(o.seed, i as u64, 4) % nsub as u64) as usize;
                        &subs[s * d..][..d]
                    };
                    unit_noise(&mut rng, out, centre, ROW_SPREAD);
                });
            let bytes: Vec<u8> = buf[..len * d]
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect();
            w.write_all(&bytes).map_err(err)?;
            r += len;
        }
        w.flush().map_err(err)?;
        w.get_ref().sync_all().map_err(err)?;
        shards.push(path);
        first += rows;
    }

    let truth: Vec<u8> = (0..o.rows)
        .into_par_iter()
        .map(|i| u8::from(is_positive(i)))
        .collect();
    let positives = truth.iter().filter(|&&t| t == 1).count();
    let tpath = dir.join("truth.npy");
    let mut bytes = npy_header(&format!("({},)", o.rows), "|u1");
    bytes.extend_from_slice(&truth);
    std::fs::write(&tpath, bytes).map_err(|e| io_error(&tpath, "write", e))?;

    let mut seeds = vec![0f32; o.seeds * d];
    for (s, out) in seeds.chunks_mut(d).enumerate() {
        unit_noise(&mut rng, out, &modes[(s % o.modes) * d..][..d], SEED_SPREAD);
    }
    let spath = dir.join("seeds.npy");
    let mut bytes = npy_header(&format!("({}, {d})", o.seeds), "<f4");
    bytes.extend(seeds.iter().flat_map(|x| x.to_le_bytes()));
    std::fs::write(&spath, bytes).map_err(|e| io_error(&spath, "write", e))?;
    Ok(PlantedFiles {
        shards,
        seeds: spath,
        truth: tpath,
        positives,
    })
}
