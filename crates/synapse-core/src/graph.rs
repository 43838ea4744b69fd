//! Compressed sparse rows (CSR): the graph format shared by every kernel.
use crate::error::{invalid, CoreError, Result};
use rayon::prelude::*;

/// An owned CSR graph: row `i`'s neighbours are `ids[offsets[i]..offsets[i + 1]]` with
/// similarities `sims[...]`, sorted by similarity (descending), ties by id (ascending).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Csr {
    /// `rows + 1` monotone offsets into `ids` / `sims`.
    pub offsets: Vec<u32>,
    /// Neighbour ids.
    pub ids: Vec<u32>,
    /// Cosine similarity of each edge.
    pub sims: Vec<f32>,
}

/// A borrowed CSR graph, as passed in from JavaScript.
#[derive(Debug, Clone, Copy)]
pub struct CsrRef<'a> {
    /// `rows + 1` monotone offsets.
    pub offsets: &'a [u32],
    /// Neighbour ids, each `< rows`.
    pub ids: &'a [u32],
    /// Optional edge weights, one per id.
    pub sims: Option<&'a [f32]>,
}

impl Csr {
    /// Build from per-row neighbour lists.
    pub(crate) fn from_rows(rows: Vec<Vec<(f32, u32)>>) -> Result<Csr> {
        let nnz: usize = rows.iter().map(Vec::len).sum();
        if nnz > u32::MAX as usize {
            return Err(CoreError::Capacity(format!(
                "graph has {nnz} edges, more than the 2^32 - 1 that CSR offsets hold"
            )));
        }
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        let mut ids = Vec::with_capacity(nnz);
        let mut sims = Vec::with_capacity(nnz);
        offsets.push(0u32);
        for row in rows {
            for (s, id) in row {
                ids.push(id);
                sims.push(s);
            }
            offsets.push(ids.len() as u32);
        }
        Ok(Csr { offsets, ids, sims })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Neighbours of row `i` as `(ids, sims)`.
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        (&self.ids[a..b], &self.sims[a..b])
    }

    /// Borrow as a [`CsrRef`] with weights.
    pub fn as_ref(&self) -> CsrRef<'_> {
        CsrRef {
            offsets: &self.offsets,
            ids: &self.ids,
            sims: Some(&self.sims),
        }
    }

    /// Make the graph undirected: the union of every edge and its reverse (an edge present in
    /// both directions is kept once). Rows stay sorted by similarity, ties by id.
    pub fn symmetrize(&self) -> Result<Csr> {
        let n = self.rows();
        let mut deg = vec![0usize; n];
        for i in 0..n {
            let (ids, _) = self.row(i);
            deg[i] += ids.len();
            for &j in ids {
                deg[j as usize] += 1;
            }
        }
        let mut rows: Vec<Vec<(f32, u32)>> = deg.iter().map(|&d| Vec::with_capacity(d)).collect();
        for i in 0..n {
            let (ids, sims) = self.row(i);
            for (&j, &s) in ids.iter().zip(sims) {
                rows[i].push((s, j));
                rows[j as usize].push((s, i as u32));
            }
        }
        rows.par_iter_mut().for_each(|row| {
            row.sort_by(|a, b| a.1.cmp(&b.1).then(b.0.total_cmp(&a.0)));
            row.dedup_by_key(|e| e.1);
            row.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        });
        Csr::from_rows(rows)
    }
}

impl<'a> CsrRef<'a> {
    /// Check that this is a well-formed graph over `rows` nodes.
    pub fn validate(&self, rows: usize) -> Result<()> {
        let off = self.offsets;
        if off.len() != rows + 1 {
            return Err(invalid(
                "graph.offsets",
                format!(
                    "length {} must be rows + 1 = {} (rows from the label vector)",
                    off.len(),
                    rows + 1
                ),
            ));
        }
        if off[0] != 0 {
            return Err(invalid("graph.offsets", "must start at 0"));
        }
        if let Some(i) = off.windows(2).position(|w| w[0] > w[1]) {
            return Err(invalid(
                "graph.offsets",
                format!(
                    "must be non-decreasing, but offsets[{}] > offsets[{}]",
                    i,
                    i + 1
                ),
            ));
        }
        if off[rows] as usize != self.ids.len() {
            return Err(invalid(
                "graph.offsets",
                format!(
                    "last offset {} must equal ids length {}",
                    off[rows],
                    self.ids.len()
                ),
            ));
        }
        if let Some(p) = self.ids.par_iter().position_first(|&j| j as usize >= rows) {
            return Err(invalid(
                "graph.ids",
                format!(
                    "id {} at position {} is out of range (rows = {})",
                    self.ids[p], p, rows
                ),
            ));
        }
        if let Some(s) = self.sims {
            if s.len() != self.ids.len() {
                return Err(invalid(
                    "graph.sims",
                    format!(
                        "length {} must equal ids length {}",
                        s.len(),
                        self.ids.len()
                    ),
                ));
            }
            if let Some(p) = s.par_iter().position_first(|v| !v.is_finite()) {
                return Err(invalid(
                    "graph.sims",
                    format!("non-finite value at position {p}"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetrize_unions_and_sorts() {
        // 0 -> 1 (0.9), 1 -> 2 (0.5), 2 -> 1 (0.5)
        let g = Csr::from_rows(vec![vec![(0.9, 1)], vec![(0.5, 2)], vec![(0.5, 1)]]).unwrap();
        let s = g.symmetrize().unwrap();
        assert_eq!(s.row(0).0, &[1]);
        assert_eq!(s.row(1).0, &[0, 2]);
        assert_eq!(s.row(1).1, &[0.9, 0.5]);
        assert_eq!(s.row(2).0, &[1]);
    }

    #[test]
    fn validate_catches_bad_graphs() {
        let ok = CsrRef {
            offsets: &[0, 1, 1],
            ids: &[1],
            sims: None,
        };
        assert!(ok.validate(2).is_ok());
        assert!(ok.validate(3).is_err());
        let out_of_range = CsrRef {
            offsets: &[0, 1, 1],
            ids: &[5],
            sims: None,
        };
        assert!(out_of_range
            .validate(2)
            .unwrap_err()
            .to_string()
            .starts_with("graph.ids"));
        let decreasing = CsrRef {
            offsets: &[0, 2, 1],
            ids: &[1],
            sims: None,
        };
        assert!(decreasing.validate(2).is_err());
    }
}
