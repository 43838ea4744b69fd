//! Borrowed row-major matrices and row normalisation.
use crate::error::{invalid, Result};
use rayon::prelude::*;

/// A borrowed, validated, row-major `rows × dim` matrix of finite `f32`.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    data: &'a [f32],
    rows: usize,
    dim: usize,
}

impl<'a> Matrix<'a> {
    /// Validate `data` as a `len / dim × dim` matrix: `dim > 0`, `len % dim == 0`, at least one
    /// row, and every value finite. `name` is used in error messages.
    pub fn new(name: &'static str, data: &'a [f32], dim: usize) -> Result<Self> {
        if dim == 0 {
            return Err(invalid(name, "dim must be > 0"));
        }
        if data.is_empty() {
            return Err(invalid(name, "matrix is empty (0 rows)"));
        }
        if !data.len().is_multiple_of(dim) {
            return Err(invalid(
                name,
                format!(
                    "length {} is not a multiple of dim {} (got {} full rows and {} extra values)",
                    data.len(),
                    dim,
                    data.len() / dim,
                    data.len() % dim
                ),
            ));
        }
        if let Some(pos) = first_non_finite(data) {
            return Err(invalid(
                name,
                format!(
                    "non-finite value {} at row {}, column {}",
                    data[pos],
                    pos / dim,
                    pos % dim
                ),
            ));
        }
        Ok(Matrix {
            data,
            rows: data.len() / dim,
            dim,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The underlying row-major slice.
    pub fn data(&self) -> &'a [f32] {
        self.data
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// `1 / ||row||` for every row, `0` for zero rows (so their cosine with anything is 0).
    pub fn inverse_norms(&self) -> Vec<f32> {
        (0..self.rows)
            .into_par_iter()
            .map(|i| inverse_norm(self.row(i)))
            .collect()
    }
}

fn first_non_finite(data: &[f32]) -> Option<usize> {
    const CHUNK: usize = 1 << 16;
    data.par_chunks(CHUNK)
        .enumerate()
        .find_map_first(|(c, chunk)| {
            // Branch-free scan first (vectorises); locate the value only when there is one.
            let bad = chunk.iter().fold(false, |acc, v| {
                acc | (v.to_bits() & 0x7f80_0000 == 0x7f80_0000)
            });
            if !bad {
                return None;
            }
            chunk
                .iter()
                .position(|v| !v.is_finite())
                .map(|p| c * CHUNK + p)
        })
}

/// `1 / ||row||`, or `0` for a zero row.
#[inline]
pub(crate) fn inverse_norm(row: &[f32]) -> f32 {
    let n = norm(row);
    if n > 0.0 {
        1.0 / n
    } else {
        0.0
    }
}

fn norm(row: &[f32]) -> f32 {
    // Accumulate in f64 so long rows of tiny values do not lose precision, in eight
    // independent lanes so the adds pipeline (and vectorise) instead of forming one chain.
    let mut acc = [0f64; 8];
    let mut chunks = row.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            acc[l] += (c[l] as f64) * (c[l] as f64);
        }
    }
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| (v as f64) * (v as f64))
        .sum();
    let s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    (s + tail).sqrt() as f32
}

/// Result of [`normalize_rows`].
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The L2-normalised rows; zero rows stay zero.
    pub vectors: Vec<f32>,
    /// Indices of rows whose norm was zero (left as zeros, never divided by zero).
    pub zero_rows: Vec<u32>,
}

/// L2-normalise every row of `m` into a new buffer, reporting rows of norm zero.
pub fn normalize_rows(m: &Matrix<'_>) -> Normalized {
    let dim = m.dim();
    let mut vectors = vec![0f32; m.data().len()];
    let zero: Vec<bool> = vectors
        .par_chunks_mut(dim)
        .zip(m.data().par_chunks(dim))
        .map(|(out, row)| {
            let n = norm(row);
            if n > 0.0 {
                let inv = 1.0 / n;
                out.iter_mut().zip(row).for_each(|(o, &v)| *o = v * inv);
                false
            } else {
                true
            }
        })
        .collect();
    let zero_rows = zero
        .iter()
        .enumerate()
        .filter(|(_, &z)| z)
        .map(|(i, _)| i as u32)
        .collect();
    Normalized { vectors, zero_rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_shapes_and_values() {
        assert!(Matrix::new("m", &[1.0, 2.0, 3.0], 2).is_err());
        assert!(Matrix::new("m", &[], 2).is_err());
        assert!(Matrix::new("m", &[1.0], 0).is_err());
        let err = Matrix::new("queries", &[1.0, f32::NAN, 0.0, 1.0], 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "queries: non-finite value NaN at row 0, column 1"
        );
        let err = Matrix::new("corpus", &[1.0, 0.0, f32::INFINITY, 1.0], 2).unwrap_err();
        assert!(err.to_string().contains("row 1, column 0"), "{err}");
    }

    #[test]
    fn norms_match_a_plain_sum_at_every_length() {
        for len in [1usize, 3, 7, 8, 9, 16, 23, 384, 515] {
            let row: Vec<f32> = (0..len)
                .map(|i| ((i * 31) % 17) as f32 * 0.37 - 2.9)
                .collect();
            let want = row.iter().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt();
            assert!((norm(&row) as f64 - want).abs() <= want * 1e-6, "len {len}");
        }
    }

    #[test]
    fn finds_the_first_non_finite_across_chunks() {
        let mut data = vec![0.5f32; (1 << 16) * 3 + 5];
        assert_eq!(first_non_finite(&data), None);
        data[(1 << 16) * 2 + 7] = f32::NEG_INFINITY;
        data[(1 << 16) * 3 + 1] = f32::NAN;
        assert_eq!(first_non_finite(&data), Some((1 << 16) * 2 + 7));
        // Largest finite value and subnormals are finite.
        let ok = [f32::MAX, f32::MIN, f32::MIN_POSITIVE / 4.0, -0.0];
        assert_eq!(first_non_finite(&ok), None);
    }

    #[test]
    fn normalizes_and_reports_zero_rows() {
        let data = [3.0, 4.0, 0.0, 0.0, 0.0, -2.0];
        let m = Matrix::new("m", &data, 2).unwrap();
        let n = normalize_rows(&m);
        assert_eq!(n.zero_rows, vec![1]);
        assert!((n.vectors[0] - 0.6).abs() < 1e-6 && (n.vectors[1] - 0.8).abs() < 1e-6);
        assert_eq!(&n.vectors[2..4], &[0.0, 0.0]);
        assert_eq!(&n.vectors[4..6], &[0.0, -1.0]);
    }
}
