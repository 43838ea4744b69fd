//! Small durable-file helpers for the on-disk graph: preallocated memory-mapped outputs, an
//! append-only log of finished blocks (what makes a build resumable after a kill), and atomic
//! whole-file writes.
use crate::error::{io_error, Result};
use memmap2::{MmapMut, UncheckedAdvice};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A file of fixed size mapped read-write (created zero-filled, or reopened as it is).
pub(crate) struct MappedOutput {
    pub path: PathBuf,
    pub map: MmapMut,
}

impl MappedOutput {
    /// Open or create `path` with exactly `bytes` bytes. An existing file of another size is
    /// recreated (it belonged to other parameters; the caller checked the metadata).
    pub fn open(path: &Path, bytes: usize) -> Result<MappedOutput> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io_error(path, "open", e))?;
        let len = file
            .metadata()
            .map_err(|e| io_error(path, "stat", e))?
            .len();
        if len != bytes as u64 {
            file.set_len(0).map_err(|e| io_error(path, "truncate", e))?;
            file.set_len(bytes.max(1) as u64)
                .map_err(|e| io_error(path, "allocate", e))?;
        }
        // SAFETY: this process owns the file inside its work directory while building.
        let map = unsafe { MmapMut::map_mut(&file) }.map_err(|e| io_error(path, "map", e))?;
        Ok(MappedOutput {
            path: path.to_path_buf(),
            map,
        })
    }

    /// The file as `u32`s.
    pub fn u32s(&mut self) -> &mut [u32] {
        let n = self.map.len() / 4;
        // SAFETY: the map is page-aligned and `n * 4` bytes long; any bit pattern is a u32.
        unsafe { std::slice::from_raw_parts_mut(self.map.as_mut_ptr() as *mut u32, n) }
    }

    /// The file as `u64`s.
    pub fn u64s(&mut self) -> &mut [u64] {
        let n = self.map.len() / 8;
        // SAFETY: as in `u32s` (page alignment covers u64).
        unsafe { std::slice::from_raw_parts_mut(self.map.as_mut_ptr() as *mut u64, n) }
    }

    /// Write dirty pages to disk (msync) and wait for it.
    pub fn sync(&self) -> Result<()> {
        self.map
            .flush()
            .map_err(|e| io_error(&self.path, "sync", e))
    }

    /// Drop the mapped pages from the resident set; call only right after [`sync`](Self::sync).
    pub fn release(&self) {
        // SAFETY: a shared file mapping whose pages were just written back: dropping them
        // loses nothing, the next access reads the file again.
        let _ = unsafe { self.map.unchecked_advise(UncheckedAdvice::DontNeed) };
    }
}

/// An append-only log of finished block numbers, fsynced after every entry.
pub(crate) struct BlockLog {
    path: PathBuf,
    file: File,
}

impl BlockLog {
    /// Open (or create) the log and read the blocks it already lists. A torn last entry (a
    /// kill in the middle of an append) is ignored: that block is simply done again.
    pub fn open(path: &Path) -> Result<(BlockLog, HashSet<u32>)> {
        let mut done = HashSet::new();
        if let Ok(mut f) = File::open(path) {
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)
                .map_err(|e| io_error(path, "read", e))?;
            for c in bytes.chunks_exact(4) {
                done.insert(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            }
            if bytes.len() % 4 != 0 {
                let f = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| io_error(path, "open", e))?;
                f.set_len((bytes.len() / 4 * 4) as u64)
                    .map_err(|e| io_error(path, "truncate", e))?;
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io_error(path, "open", e))?;
        Ok((
            BlockLog {
                path: path.to_path_buf(),
                file,
            },
            done,
        ))
    }

    /// Record block `b` as finished (after its data was synced).
    pub fn finish(&mut self, b: u32) -> Result<()> {
        self.file
            .write_all(&b.to_le_bytes())
            .and_then(|_| self.file.sync_data())
            .map_err(|e| io_error(&self.path, "append to", e))
    }
}

/// Write `bytes` to `path` atomically: a temporary file beside it, fsync, rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(|e| io_error(&tmp, "create", e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| io_error(&tmp, "write", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, "rename into", e))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Little-endian bytes of `f32`s.
pub(crate) fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// `f32`s from little-endian bytes (`None` if the length is not a multiple of 4).
pub(crate) fn f32_from_bytes(b: &[u8]) -> Option<Vec<f32>> {
    b.len().is_multiple_of(4).then(|| {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    })
}
