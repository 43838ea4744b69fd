//! Row normalisation.
use crate::error::{count, to_napi};
use crate::task::Job;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use synapse_core::{normalize_rows, Matrix};

/// L2-normalised rows and the rows that were zero.
#[napi(object)]
pub struct NormalizeResult {
    /// Row-major normalised copy of the input; zero rows stay zero.
    pub vectors: Float32Array,
    /// Indices of rows whose norm was zero.
    pub zero_rows: Uint32Array,
}

/// L2-normalise the rows of a row-major `n × dim` matrix (read without copying) into a new
/// buffer. Runs off the main thread.
#[napi(ts_return_type = "Promise<NormalizeResult>")]
pub fn normalize(vectors: Float32Array, dim: f64) -> Result<AsyncTask<impl Task>> {
    let dim = count("dim", dim)?;
    Ok(Job::new(move || {
        let m = Matrix::new("vectors", &vectors, dim).map_err(to_napi)?;
        let n = normalize_rows(&m);
        Ok(NormalizeResult {
            vectors: Float32Array::new(n.vectors),
            zero_rows: Uint32Array::new(n.zero_rows),
        })
    }))
}
