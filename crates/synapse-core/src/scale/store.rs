//! Corpus vectors memory-mapped from `.npy` or raw `.f32` shards, never read into one buffer.
//!
//! Pages the kernels touch count towards the process's resident set even though they are file
//! cache; [`VectorStore::release`] hands them back (`MADV_DONTNEED`: the next touch re-reads
//! them from the page cache or the disk), so a pass over a 15 GB corpus stays within a memory
//! limit. The mapping is read-only and private: a shard changed on disk while mapped is
//! undefined behaviour, as for every memory map, so the store records each shard's size and
//! modification time and the on-disk graph checks them before it reuses earlier work.
use crate::error::{invalid, io_error, CoreError, Result};
use memmap2::{Mmap, UncheckedAdvice};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// One mapped shard.
#[derive(Debug)]
struct Shard {
    path: PathBuf,
    map: Mmap,
    /// Byte offset of row 0 in the file.
    data_offset: usize,
    rows: usize,
    /// Size and modification time (ns) when opened: the inputs' fingerprint.
    len: u64,
    mtime_ns: u128,
}

/// Row-major `f32` vectors over one or more shards, addressed by a global row number.
#[derive(Debug)]
pub struct VectorStore {
    shards: Vec<Shard>,
    /// First global row of each shard, plus the total at the end.
    starts: Vec<usize>,
    dim: usize,
    /// Bytes of mapped rows read since the last [`VectorStore::release`] (an upper bound of
    /// what they added to the resident set).
    touched: AtomicU64,
}

/// `(rows, dim, data offset)` of a little-endian `float32`, C-order, 2-D `.npy` file.
fn parse_npy_header(path: &Path, bytes: &[u8]) -> Result<(usize, usize, usize)> {
    let name = || path.display().to_string();
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(invalid(
            "vectors",
            format!("{}: not a .npy file (no \\x93NUMPY magic)", name()),
        ));
    }
    let major = bytes[6];
    let (hlen, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => {
            return Err(invalid(
                "vectors",
                format!("{}: unsupported .npy version {major}", name()),
            ))
        }
    };
    let header = bytes
        .get(start..start + hlen)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| invalid("vectors", format!("{}: truncated .npy header", name())))?;
    let descr = header
        .split("'descr':")
        .nth(1)
        .and_then(|r| r.split('\'').nth(1))
        .unwrap_or("");
    if descr != "<f4" && descr != "=f4" {
        return Err(invalid(
            "vectors",
            format!(
                "{}: dtype {descr:?} is not little-endian float32 ('<f4'); convert with numpy: a.astype('<f4')",
                name()
            ),
        ));
    }
    if header.contains("'fortran_order': True") {
        return Err(invalid(
            "vectors",
            format!(
                "{}: Fortran-order arrays are not supported; save with np.ascontiguousarray",
                name()
            ),
        ));
    }
    let shape: Vec<usize> = header
        .split("'shape':")
        .nth(1)
        .and_then(|r| r.split('(').nth(1))
        .and_then(|r| r.split(')').next())
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .filter_map(|t| t.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    if shape.len() != 2 {
        return Err(invalid(
            "vectors",
            format!("{}: shape {shape:?} is not 2-D (rows, dim)", name()),
        ));
    }
    Ok((shape[0], shape[1], start + hlen))
}

impl VectorStore {
    /// Map `paths` in order. `.npy` shards carry their shape; raw `.f32` shards need `dim`.
    /// Every shard must have the same dimension and at least one row.
    pub fn open(paths: &[PathBuf], dim: Option<usize>) -> Result<VectorStore> {
        if paths.is_empty() {
            return Err(invalid("vectors", "no shard given"));
        }
        let mut shards = Vec::with_capacity(paths.len());
        let mut starts = vec![0usize];
        let mut store_dim = dim;
        for path in paths {
            let file = File::open(path).map_err(|e| io_error(path, "open", e))?;
            let meta = file.metadata().map_err(|e| io_error(path, "stat", e))?;
            // SAFETY: read-only private mapping; the file's size and mtime are recorded so the
            // graph builder can refuse to reuse work done on a different file.
            let map = unsafe { Mmap::map(&file) }.map_err(|e| io_error(path, "map", e))?;
            let is_npy = path.extension().is_some_and(|e| e == "npy");
            let (rows, d, offset) = if is_npy {
                let (r, d, off) = parse_npy_header(path, &map)?;
                if let Some(want) = dim {
                    if want != d {
                        return Err(invalid(
                            "dim",
                            format!("{want} differs from {}'s {d} columns", path.display()),
                        ));
                    }
                }
                (r, d, off)
            } else {
                let d = store_dim.ok_or_else(|| {
                    invalid(
                        "dim",
                        format!("{}: a raw .f32 shard needs --dim", path.display()),
                    )
                })?;
                if d == 0 || map.len() % (4 * d) != 0 {
                    return Err(invalid(
                        "vectors",
                        format!(
                            "{}: {} bytes is not a whole number of {d}-float rows",
                            path.display(),
                            map.len()
                        ),
                    ));
                }
                (map.len() / (4 * d), d, 0)
            };
            if let Some(prev) = store_dim {
                if prev != d {
                    return Err(invalid(
                        "vectors",
                        format!(
                            "{} has {d} columns, the shards before it {prev}",
                            path.display()
                        ),
                    ));
                }
            }
            store_dim = Some(d);
            if rows == 0 || d == 0 {
                return Err(invalid(
                    "vectors",
                    format!("{} holds no vectors", path.display()),
                ));
            }
            if offset % 4 != 0 || map.len() < offset + rows * d * 4 {
                return Err(invalid(
                    "vectors",
                    format!(
                        "{}: {} bytes, too short for {rows} × {d} float32 after its header (truncated?)",
                        path.display(),
                        map.len()
                    ),
                ));
            }
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            starts.push(starts.last().copied().unwrap_or(0) + rows);
            shards.push(Shard {
                path: path.clone(),
                map,
                data_offset: offset,
                rows,
                len: meta.len(),
                mtime_ns,
            });
        }
        let total = *starts.last().unwrap_or(&0);
        if total > u32::MAX as usize - 1 {
            return Err(CoreError::Capacity(format!(
                "{total} rows: more than the 2^32 - 2 row ids the graph holds"
            )));
        }
        Ok(VectorStore {
            shards,
            starts,
            dim: store_dim.unwrap_or(0),
            touched: AtomicU64::new(0),
        })
    }

    /// Total rows over all shards.
    pub fn rows(&self) -> usize {
        *self.starts.last().unwrap_or(&0)
    }

    /// Columns per row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// A fingerprint of the inputs (paths, sizes, modification times, shape), to tell whether
    /// work saved on disk was done on these very files.
    pub fn fingerprint(&self) -> String {
        let mut s = format!("rows={} dim={}", self.rows(), self.dim);
        for sh in &self.shards {
            s.push_str(&format!(
                " | {} {} {} {}",
                sh.path.display(),
                sh.len,
                sh.mtime_ns,
                sh.rows
            ));
        }
        s
    }

    /// Shard `s`'s rows as one slice.
    fn floats(&self, s: usize) -> &[f32] {
        let shard = &self.shards[s];
        let ptr = shard.map[shard.data_offset..].as_ptr() as *const f32;
        // SAFETY: `open` checked that the offset is 4-aligned inside a page-aligned map and that
        // the map holds `rows * dim` floats after it; f32 has no invalid bit patterns.
        unsafe { std::slice::from_raw_parts(ptr, shard.rows * self.dim) }
    }

    /// Row `i` (global). Panics if `i >= rows()` (callers pass ids they produced).
    pub fn row(&self, i: usize) -> &[f32] {
        let s = self.starts.partition_point(|&st| st <= i) - 1;
        let r = i - self.starts[s];
        &self.floats(s)[r * self.dim..(r + 1) * self.dim]
    }

    /// The contiguous runs of at most `block` rows, never crossing a shard: `(first row, rows)`.
    pub fn blocks(&self, block: usize) -> Vec<(usize, usize)> {
        let block = block.max(1);
        let mut out = Vec::new();
        for s in 0..self.shards.len() {
            let (a, b) = (self.starts[s], self.starts[s + 1]);
            let mut r = a;
            while r < b {
                let len = block.min(b - r);
                out.push((r, len));
                r += len;
            }
        }
        out
    }

    /// Rows `first..first + len`, which must lie in one shard (as from [`VectorStore::blocks`]).
    /// Checks every value is finite and names the first bad row and column.
    pub fn slice(&self, first: usize, len: usize) -> Result<&[f32]> {
        let s = self.starts.partition_point(|&st| st <= first) - 1;
        let r = first - self.starts[s];
        if r + len > self.shards[s].rows {
            return Err(invalid(
                "rows",
                format!("{first}..{} crosses a shard boundary", first + len),
            ));
        }
        let data = &self.floats(s)[r * self.dim..(r + len) * self.dim];
        self.note_touched(data.len() * 4);
        if let Some(p) = data.iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                "vectors",
                format!(
                    "{}: non-finite value {} at row {} (0-based, in the file), column {}",
                    self.shards[s].path.display(),
                    data[p],
                    r + p / self.dim,
                    p % self.dim
                ),
            ));
        }
        Ok(data)
    }

    /// Copy rows `ids` into `out` (cleared first). Not checked for finite values: the passes
    /// that gather rows run after one that read every row through [`VectorStore::slice`].
    /// Every 4,096 rows the resident set is checked against `budget` (see
    /// [`VectorStore::release_over`]): the kernel maps up to 64 KB of cached file around each
    /// faulting page, so scattered rows can map most of a shard in a few seconds.
    pub fn gather(&self, ids: &[u32], out: &mut Vec<f32>, budget: u64) {
        out.clear();
        out.reserve(ids.len() * self.dim);
        for chunk in ids.chunks(4096) {
            for &i in chunk {
                out.extend_from_slice(self.row(i as usize));
            }
            self.note_touched(chunk.len() * 65536);
            self.release_over(budget);
        }
    }

    /// Record that `bytes` of mapped pages were touched (an upper bound: a scattered row can
    /// map the 64 KB of cached file around it).
    pub fn note_touched(&self, bytes: usize) {
        self.touched.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Bytes of mapped rows read since the last release.
    pub fn touched(&self) -> u64 {
        self.touched.load(Ordering::Relaxed)
    }

    /// Drop every mapped page from the resident set (they stay in the page cache).
    pub fn release(&self) {
        for sh in &self.shards {
            // SAFETY: the maps are read-only private file mappings that are never written, so
            // dropping their pages only makes the next access re-read the same file bytes.
            let _ = unsafe { sh.map.unchecked_advise(UncheckedAdvice::DontNeed) };
        }
        self.touched.store(0, Ordering::Relaxed);
    }

    /// [`VectorStore::release`] when the process's resident set exceeds `limit` bytes (read
    /// from `/proc/self/statm`; elsewhere, when the rows read since the last release exceed a
    /// quarter of it). Nothing happens before 64 MB were read since the last release, so memory
    /// held by others never makes this thrash.
    pub fn release_over(&self, limit: u64) {
        if limit == u64::MAX || self.touched() < (64 << 20) {
            return;
        }
        if resident_bytes().map_or(self.touched() > limit / 4, |r| r > limit) {
            self.release();
        }
    }
}

/// The resident set of this process in bytes (Linux), counting mapped file pages.
pub fn resident_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
